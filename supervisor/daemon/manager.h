/* The manager: the table of units loaded from the unit directory, the real service_ops behind
 * each state machine (spawn through proc, output into the journal, libuv timers), jobs that
 * clients wait for, and shutdown. The control server talks to units only through this face. */
#ifndef MINISUP_MANAGER_H
#define MINISUP_MANAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

struct exec_command;
struct exec_status;
struct journal;
struct service_death;
struct unit;

/* A moment on both clocks, as systemd keeps its timestamps: the wall clock for people, the
 * monotonic one (CLOCK_MONOTONIC, µs) for the *Monotonic= properties. {0, 0}: never. */
struct dual_timestamp {
    uint64_t realtime, monotonic;
};

struct manager_options {
    const char *unit_dir;
    const char *runtime_dir; /* %t, and the base of RuntimeDirectory= */
    const char *state_dir;   /* %S, and the base of StateDirectory= */
    const char *log_dir;     /* the journal, and the base of LogsDirectory= */
    const char *bin_dir; /* where minisupd lives: bare ExecStart= names are looked up here first */
};

enum load_state {
    LOAD_STATE_LOADED,
    LOAD_STATE_NOT_FOUND,
    LOAD_STATE_BAD_SETTING,
    LOAD_STATE_ERROR,
    LOAD_STATE_MASKED, /* the unit file is empty or a link to /dev/null */
    LOAD_STATE_MAX,
};

enum job_type {
    JOB_NONE = -1,
    JOB_START,
    JOB_STOP,
    JOB_RESTART,
    JOB_RELOAD,
    JOB_TYPE_MAX,
};

/* A client waiting for a job. Embedded in the caller's object; the manager links it to the unit
 * until the job finishes (then cb runs once and the waiter is unlinked) or the caller cancels. */
struct job_waiter {
    enum job_type type;
    void (*cb)(struct job_waiter *w, const char *result);
    struct unit *unit;
    struct job_waiter *next;
};

/* A snapshot of one unit for status, show and list. Strings are borrowed from the unit and
 * stay valid until the next manager call that may change it. */
struct unit_status {
    const char *name;
    const char *description;
    const char *fragment_path;
    const char *load_state;
    const char *load_error; /* NULL when loaded */
    bool enabled;
    const char *active_state;
    const char *sub_state;
    const char *result;
    const char *job; /* the pending job's type ("start", "stop", ...), NULL when none */
    /* systemd's unit timestamps: the last state change, and the last time the unit left or
     * entered inactive (or failed) and active (or reloading). */
    struct dual_timestamp state_change, inactive_exit, active_enter, active_exit, inactive_enter;
    /* When the main process started and exited (ExecMainStartTimestamp=, ...ExitTimestamp=). */
    struct dual_timestamp exec_main_start, exec_main_exit;
    /* The last Condition*=/Assert*= check ({0, 0}: none yet), its result, and the failing one
     * ("ConditionPathExists=/x", "" when only trigger conditions failed). */
    struct dual_timestamp condition, assert;
    bool condition_result, assert_result;
    const char *failed_condition, *failed_assert;
    pid_t main_pid;
    pid_t exec_main_pid;      /* main_pid, or the last main process once it exited (systemd's) */
    pid_t control_pid;        /* the ExecStartPre=, ExecStop=, ... process running now, 0 if none */
    char control_command[64]; /* its comm, "" when none */
    const char *main_command;
    char main_command_buf[64];  /* main_command may point here */
    const char *exec_main_code; /* "exited", "killed", "dumped", or "" */
    int exec_main_status;
    unsigned n_restarts;
    const char *invocation;
    uint64_t invocation_usec; /* realtime when the invocation began */
    bool is_active;
    bool can_reload;         /* ExecReload= is set */
    bool changed_on_disk;    /* daemon-reload read a new configuration for the next start */
    const char *status_text; /* STATUS= from sd_notify, or NULL */
    int status_errno;        /* ERRNO= from sd_notify, 0 when none */
    /* Processes the last run left running (still alive now). */
    pid_t leftovers[16];
    size_t n_leftovers;
    /* What the journal could not keep of this unit: lines over the rate limit, records the
     * store refused (and of those, not yet counted in a stored notice), the last such error. */
    uint64_t log_suppressed, log_lost, log_unreported;
    int log_error;
    const char *source_text;          /* the unit file as loaded (cat) */
    char *const *dropin_paths;        /* its drop-ins as applied, NULL when none */
    char *const *dropin_texts;        /* and their texts as loaded, index for index (cat) */
    const struct unit_config *config; /* what runs now; NULL when not loaded (show) */
    /* Deaths of the main process, oldest first (why). */
    const struct service_death *deaths[8];
    size_t n_deaths;
    const char *restart_policy;
    uint64_t start_limit_interval_usec;
    unsigned start_limit_burst;
    /* Socket units. */
    bool is_socket;
    char *const *listens; /* "<K>:<address>", see unit_file.h */
    size_t n_listeners;   /* open right now */
    const char *triggers; /* the service it activates */
    unsigned n_accepted, n_connections;
};

struct manager;

/* Creates the manager. The journal is borrowed and must outlive it. 0 or a negative errno. */
int manager_new(uv_loop_t *loop, const struct manager_options *opts, struct journal *journal,
                struct manager **ret);

/* Loads every unit file of the unit directory. Diagnostics are logged as "file:line: message";
 * a unit that fails to load stays listed with its load state. Returns the number of units that
 * failed to load, or a negative errno when the directory cannot be read. */
int manager_load(struct manager *m);

/* daemon-reload: re-reads the unit directory (see scan rules in manager.c). Returns the number
 * of files that failed to load, or a negative errno. */
int manager_reload(struct manager *m);

/* Starts the units that [Install] WantedBy=/RequiredBy= (start-up). */
void manager_start_default(struct manager *m);

/* Before the first start: stops what a previous minisupd, killed without a chance to stop its
 * units, left running (its process record; RELIABILITY.md CRASH-1). Blocks until they are gone,
 * at most each unit's TimeoutStopSec= (capped) plus SIGKILL's grace. Returns how many there
 * were, or a negative errno. */
int manager_sweep_stale(struct manager *m);

/* Finds a unit by name, with or without ".service". NULL when unknown. */
struct unit *manager_find(struct manager *m, const char *name);

/* Number of units and the i-th one, in name order. */
size_t manager_unit_count(struct manager *m);
struct unit *manager_unit_at(const struct manager *m, size_t i);

void manager_unit_status(const struct unit *u, struct unit_status *ret);
/* The last run of cmd, a command of u's configuration (as in struct unit_status's config): true
 * with *ret filled when it ran since that configuration applies. */
bool manager_exec_status(const struct unit *u, const struct exec_command *cmd,
                         struct exec_status *ret);
bool unit_is_loaded(const struct unit *u);
/* systemd's NeedDaemonReload: whether u's unit file or drop-ins were edited, added or removed
 * since they were last read, so that a daemon-reload would read something new. Stats the files
 * (and lists the drop-in directories) when something in the unit directory changed since the
 * last answer (see unit_dir_watch.h), else answers from memory: for one unit at a time, not for
 * listings. Does not log. */
bool manager_unit_need_daemon_reload(struct unit *u);
/* One live process of a unit, as status lists it under CGroup:. */
struct unit_process {
    pid_t pid;
    pid_t ppid;
    unsigned threads;
    char *command_line; /* as systemd shows it (proc_format_cmdline()); NULL unless asked */
};

/* A unit's live processes: systemd's cgroup members, as far as minisupd can tell them without
 * cgroups. Owned by the caller; manager_unit_processes_done() frees the contents. */
struct unit_processes {
    struct unit_process *items; /* in pid order */
    size_t n;
    uint64_t tasks;    /* threads of all of them: what systemd's TasksCurrent= counts */
    uint64_t cpu_usec; /* CPU time of them and of the children they waited for */
    bool truncated;    /* there were more than MANAGER_UNIT_PROCESSES_MAX; these are not all */
};

#define MANAGER_UNIT_PROCESSES_MAX 1024

/* The live processes of u: its main and control processes, the orphans of its runs that
 * minisupd adopted (in one of its process groups, or carrying its $INVOCATION_ID), what its
 * last run left running while it is down, and every descendant of those. Reads /proc for these
 * processes only (a few files each), never all of it. With command_lines, each gets its
 * command line too, within a budget that keeps a GetUnit reply far below the message limit.
 * Socket units have none. 0 or -ENOMEM; *ret is always valid to pass to
 * manager_unit_processes_done(). Does not log. */
int manager_unit_processes(const struct unit *u, bool command_lines, struct unit_processes *ret);
void manager_unit_processes_done(struct unit_processes *p);

/* The socket units that start u (their Service= is u, or u is the Accept=yes instance one
 * made), up to max, in unit order. Returns how many. */
size_t manager_triggered_by(const struct unit *u, const struct unit **out, size_t max);
/* False for a unit removed from disk that no longer runs: list and find skip it. */
bool unit_is_visible(const struct unit *u);

/* Starts a job on u. With a waiter, its cb runs once the job is over ("done" or "failed"),
 * possibly before this returns. Returns 0, -EPERM when the unit is not loaded, -ESHUTDOWN
 * while the daemon shuts down, and for reload -ENOTCONN (not active) or -EOPNOTSUPP (no
 * ExecReload=). */
int manager_job(struct manager *m, struct unit *u, enum job_type type, struct job_waiter *w);

/* reset-failed: back to inactive (dead), and the start-limit counter starts afresh. */
void manager_reset_failed(struct manager *m, struct unit *u);

/* Whom `kill` signals, as systemctl's --kill-whom= (systemd.kill(5), unit_kill_common()). */
enum kill_whom {
    KILL_WHOM_ALL,     /* every process of the unit; nothing there is no error */
    KILL_WHOM_MAIN,    /* the main process, which must exist */
    KILL_WHOM_CONTROL, /* the control process (ExecStartPre=, ExecStop=, ...), which must exist */
};

/* Sends signo to whom. 0; -ENOENT when whom is main or control and there is none; -ESRCH when
 * `fail` asks for an error if nothing at all was signalled (systemctl's main-fail, all-fail,
 * control-fail). */
int manager_kill(struct manager *m, struct unit *u, int signo, enum kill_whom whom, bool fail);

/* State watchers (subscribe, --exit-with): cb runs at every state change of any unit. With
 * at_change it runs at the change itself, before the jobs the change ends go on (a restart
 * starting the unit again), so it sees every state the unit passed through, in order; it must
 * not change units then. Without, it runs once those jobs moved on, and may (shut down).
 * Returns a handle for manager_unwatch(), or NULL on out-of-memory. */
typedef void (*manager_watch_cb)(struct unit *u, void *userdata);
void *manager_watch(struct manager *m, manager_watch_cb cb, void *userdata, bool at_change);
void manager_unwatch(struct manager *m, void *handle);

/* The exit code a container should end with for u: its main exit status, 128+N for a
 * signal N, else 0 for success and 1 for any other failure. */
int unit_exit_code(const struct unit *u);

/* Forgets a waiter whose client went away. */
void manager_job_cancel(struct job_waiter *w);

/* Called by the reaper for every exited child. */
void manager_child_exited(struct manager *m, pid_t pid, int code, int status);

/* Stops every unit; calls done once all are inactive and their output is drained. */
void manager_shutdown(struct manager *m, void (*done)(void *userdata), void *userdata);

/* Closes every handle and frees; the loop must run afterwards for the close callbacks. */
void manager_free(struct manager *m);

const char *load_state_to_string(enum load_state s);

#endif
