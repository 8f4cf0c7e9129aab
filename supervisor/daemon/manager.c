/* Units and the real service_ops. A run (one main process) is finished only when it has been
 * reaped AND the collector has everything it wrote (its pipes reached EOF, or hold nothing
 * unread), or a short drain deadline passed: so the last lines a service wrote are in the
 * journal before status can say it stopped (DESIGN.md, "Nothing lost at exit"). */
#include "manager.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "condition_check.h"
#include "journal.h"
#include "log.h"
#include "notify.h"
#include "paths.h"
#include "proc.h"
#include "process_record.h"
#include "service.h"
#include "socket.h"
#include "unit_dir_watch.h"
#include "unit_file.h"
#include "unit_show.h"
#include "values.h"

#define NGROUPS_MAX_OURS 256

/* How long a reaped main process's pipes may stay open (held by a descendant) before its exit
 * is acted on anyway; the pipes are still read and attributed to that run afterwards. */
#define DRAIN_TIMEOUT_USEC (1000 * 1000ULL)

enum sock_state {
    SOCK_DEAD,
    SOCK_LISTENING,
    SOCK_RUNNING,
    SOCK_FAILED,
    SOCK_STATE_MAX,
};

struct listener;

/* One main process and its two output streams. Shared by the unit (while current) and each
 * stream still open; freed when the last reference goes. */
struct exec_watch;
struct pid_file_watch;

struct run {
    struct unit *unit; /* NULL once the unit let go of it */
    enum service_role role;
    pid_t pid;
    int pidfd;
    unsigned streams_open;
    bool reaped, delivered;
    struct exit_info exit;
    unsigned refs;
    struct exec_watch *exec;        /* while the exec outcome is not known yet */
    const struct exec_command *cmd; /* what it runs, for its exec status; NULL: adopted */
};

/* Watches a child's exec-error pipe, so the loop never waits for an exec to happen. */
struct exec_watch {
    uv_poll_t poll;
    int fd;
    char *path;
    struct run *run; /* holds a reference */
};

struct unit {
    struct manager *m;
    char *name;
    char *path;
    enum load_state load_state;
    char *load_error;
    struct unit_config *config;
    struct service service;
    uv_timer_t timer;        /* the state machine's one timer */
    uv_timer_t drain_timer;  /* polls the pipes of reaped runs until drained, see drained() */
    uint64_t drain_deadline; /* loop time (ms) after which a reaped run is over regardless */
    uv_timer_t job_timer;    /* JobTimeoutSec=/JobRunningTimeoutSec= of the pending job */
    /* The last check of Condition*=/Assert*= (at a start): when, the outcome, what failed. */
    struct dual_timestamp condition, assert;
    bool condition_result, assert_result;
    char failed_condition[300], failed_assert[300];
    struct run *runs[2]; /* by enum service_role: main and control process */
    char invocation[33];
    char *main_command;
    bool main_command_live; /* a main process we did not spawn: named afresh at each status */
    struct dual_timestamp state_change, inactive_exit, active_enter, active_exit, inactive_enter;
    struct dual_timestamp exec_main_start, exec_main_exit;
    /* The last run of each command of `config` that ran (systemd's ExecStatus), for show and
     * status; emptied when a new configuration applies. */
    struct exec_slot *exec_slots;
    size_t n_exec_slots;
    struct pid_file_watch *pid_file_watch; /* a forking start waiting for PIDFile= */
    struct job_waiter *waiters;            /* clients waiting for the end of `job` */
    enum job_type job;                     /* the pending job, JOB_NONE when none */
    bool job_running;                      /* its service request has been made */
    bool job_waits_down;                   /* a start found the unit stopping: rerun once down */
    bool restart_phase_stop;               /* a restart job is in its stop half */
    bool ignore_order;                     /* the job closes an ordering cycle: run it regardless */
    bool dependency_missing;            /* a required unit is missing: the job fails "dependency" */
    struct unit_config *pending_config; /* read by daemon-reload, applies at the next start */
    bool changed_on_disk;               /* pending_config differs from what runs */
    struct stat file_st; /* the unit file as it was when its last configuration was read */
    bool has_file_st;
    char *dropins_version; /* its drop-ins then: one "path dev ino size mtime ctime" line each */
    /* The unit file and drop-ins are no symlinks, so a change to them is a change in the
     * unit directory's watch; then need_reload holds while its generation is need_reload_gen. */
    bool files_plain;
    bool need_reload;
    uint64_t need_reload_gen;
    bool seen;         /* found in the current scan of the directory */
    char *status_text; /* STATUS= from sd_notify */
    int status_errno;  /* ERRNO= from sd_notify, 0 when none */
    /* Processes the last run left behind (KillMode=process/none, or escaped): for status. */
    pid_t leftovers[16];
    size_t n_leftovers;
    /* When the current run started, in /proc/PID/stat's clock ticks since boot: an adopted
     * orphan that started earlier cannot have escaped from this run. */
    uint64_t run_start_ticks;
    uint64_t invocation_usec; /* realtime when `invocation` was made: no record of it is older */
    bool has_order;           /* some unit is ordered (After=/Before=) against this one */
    enum unit_kind kind;
    /* Socket units. */
    enum sock_state sock_state;
    const char *sock_result; /* static string */
    struct listener **listeners;
    size_t n_listeners;
    unsigned n_accepted, n_connections;
    /* Accept=yes instances. */
    bool transient;
    bool from_template; /* an instance made on demand from x@.service (no file of its own) */
    int conn_fd;        /* the connection, passed as fd 3; -1 when none */
    char remote_addr[INET6_ADDRSTRLEN]; /* its peer, for $REMOTE_ADDR ("" unless IP) */
    unsigned remote_port;
    struct unit *trigger; /* the socket unit that accepted it */
    /* Refused sd_notify messages logged in the current window (see notify_refused()). */
    uint64_t refused_window_ms; /* loop time the window began */
    unsigned refused_logged, refused_suppressed;
};

struct exec_slot {
    const struct exec_command *cmd;
    struct exec_status st;
};

struct watcher {
    manager_watch_cb cb;
    void *userdata;
    bool at_change; /* runs before the jobs the change ends go on (manager_watch()) */
    struct watcher *next;
};

struct manager {
    uv_loop_t *loop;
    struct manager_options opts;
    struct journal *journal;
    struct unit **units;
    size_t n_units;
    bool shutting_down;
    bool dispatching, dispatch_again;
    /* Some job may wait to run (it was queued, or waits again); false after a dispatch found
     * none. Every state change dispatches, so without it a start or stop of N units scanned
     * all N units N times. */
    bool jobs_waiting;
    bool units_unsorted; /* an instance was appended: see manager_unit_count() */
    char **aliases;      /* pairs: alias name, unit name (symlinks in the unit directory) */
    struct watcher *watchers;
    struct notify *notify;
    pid_t *tracked; /* sorted pids of every run, see pid_is_tracked() */
    size_t n_tracked;
    bool tracked_dirty;
    uv_timer_t shutdown_timer;
    uv_timer_t gc_timer;              /* collects finished Accept=yes instances */
    struct process_record *record;    /* run/processes, for a successor after a kill -9 */
    struct unit_dir_watch *dir_watch; /* tells NeedDaemonReload when to look at files again */
    uv_idle_t record_idle;            /* rewrites it once per loop turn in which runs changed */
    bool record_failed;
    bool order_dirty; /* units or configurations changed: has_order is recomputed */
    unsigned closing_handles;
    void (*shutdown_done)(void *);
    void *shutdown_userdata;
};

static void sock_follow_service(struct unit *svc);
static size_t sock_fds_for(struct unit *svc, int *fds, size_t max, char *names, size_t names_size);
static int sock_start(struct unit *u);
static void sock_stop(struct unit *u);
static void sock_close_all(struct unit *u, bool remove);
static void on_gc_timer(uv_timer_t *t);
static bool is_socket(const struct unit *u);
static const char *const sock_state_names[];

static const char *const load_state_names[LOAD_STATE_MAX] = {
    [LOAD_STATE_LOADED] = "loaded",           [LOAD_STATE_NOT_FOUND] = "not-found",
    [LOAD_STATE_BAD_SETTING] = "bad-setting", [LOAD_STATE_ERROR] = "error",
    [LOAD_STATE_MASKED] = "masked",
};

const char *load_state_to_string(enum load_state s)
{
    return s < LOAD_STATE_MAX ? load_state_names[s] : "invalid";
}

static uint64_t realtime_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

static struct dual_timestamp dual_now(void)
{
    return (struct dual_timestamp){realtime_usec(), uv_hrtime() / 1000};
}

/* systemd's unit_notify(): the timestamps of the state change from old to now. */
static void stamp_state_change(struct unit *u, enum active_state old, enum active_state now)
{
    bool was_down = old == ACTIVE_STATE_INACTIVE || old == ACTIVE_STATE_FAILED;
    bool is_down = now == ACTIVE_STATE_INACTIVE || now == ACTIVE_STATE_FAILED;
    bool was_up = old == ACTIVE_STATE_ACTIVE || old == ACTIVE_STATE_RELOADING;
    bool is_up = now == ACTIVE_STATE_ACTIVE || now == ACTIVE_STATE_RELOADING;

    u->state_change = dual_now();
    if (was_down && !is_down)
        u->inactive_exit = u->state_change;
    else if (!was_down && is_down)
        u->inactive_enter = u->state_change;
    if (!was_up && is_up)
        u->active_enter = u->state_change;
    else if (was_up && !is_up)
        u->active_exit = u->state_change;
}

/* The slot of cmd's exec status, made on first use; NULL when out of memory. */
static struct exec_slot *exec_slot(struct unit *u, const struct exec_command *cmd)
{
    struct exec_slot *grown;

    for (size_t i = 0; i < u->n_exec_slots; i++)
        if (u->exec_slots[i].cmd == cmd)
            return &u->exec_slots[i];
    grown = realloc(u->exec_slots, (u->n_exec_slots + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    u->exec_slots = grown;
    grown[u->n_exec_slots] = (struct exec_slot){.cmd = cmd};
    return &grown[u->n_exec_slots++];
}

/* A command started (systemd's exec_status_start(): the previous run's exit is forgotten). */
static void exec_status_started(struct unit *u, const struct exec_command *cmd, pid_t pid)
{
    struct exec_slot *slot = cmd ? exec_slot(u, cmd) : NULL;

    if (slot)
        slot->st = (struct exec_status){.start_usec = realtime_usec(), .pid = pid};
}

static void exec_status_exited(struct unit *u, const struct run *r)
{
    for (size_t i = 0; r->cmd && i < u->n_exec_slots; i++)
        if (u->exec_slots[i].cmd == r->cmd && u->exec_slots[i].st.pid == r->pid) {
            struct exec_status *st = &u->exec_slots[i].st;
            st->exit_usec = realtime_usec();
            st->code = r->exit.code;
            st->status = r->exit.status;
        }
}

bool manager_exec_status(const struct unit *u, const struct exec_command *cmd,
                         struct exec_status *ret)
{
    for (size_t i = 0; i < u->n_exec_slots; i++)
        if (u->exec_slots[i].cmd == cmd) {
            *ret = u->exec_slots[i].st;
            return true;
        }
    return false;
}

static void new_invocation(char out[33])
{
    unsigned char b[16];

    if (getrandom(b, sizeof(b), GRND_NONBLOCK) != sizeof(b)) {
        /* Early boot without entropy: uniqueness is what matters here, not secrecy. */
        uint64_t t = uv_hrtime() ^ ((uint64_t)getpid() << 32);
        for (size_t i = 0; i < sizeof(b); i++)
            b[i] = (unsigned char)(t >> ((i % 8) * 8)) ^ (unsigned char)i;
    }
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static struct run *run_unref(struct run *r)
{
    if (r && --r->refs == 0) {
        if (r->pidfd >= 0)
            close(r->pidfd);
        free(r);
    }
    return NULL;
}

/* ---- service_ops: the state machine's world ---- */

static void unit_log(struct unit *u, int priority, const char *message)
{
    char line[1024]; /* a unit name (at most 255) and the longest message built here (599) */

    snprintf(line, sizeof(line), "%s: %s", u->name, message);
    journal_log_unit(u->m->journal, u->name, u->invocation, priority, line);
    log_full(priority, "%s", line);
}

static void op_log(void *ud, int priority, const char *message)
{
    unit_log(ud, priority, message);
}

static uint64_t op_now(void *ud)
{
    return uv_hrtime() / 1000;
}

static void apply_pending_config(struct unit *u);

static void on_unit_timer(uv_timer_t *t)
{
    struct unit *u = t->data;

    if (u->service.state == SERVICE_STATE_AUTO_RESTART && u->load_state != LOAD_STATE_LOADED) {
        /* A reload found its file broken or gone: as systemd's restart job, refused
         * (bus_unit_validate_load_state()'s words). */
        char msg[400];
        snprintf(msg, sizeof(msg), "Failed to schedule restart job: Unit %s %s.", u->name,
                 u->load_state == LOAD_STATE_NOT_FOUND ? "not found"
                 : u->load_state == LOAD_STATE_MASKED  ? "is masked"
                                                       : "has a bad unit file setting");
        unit_log(u, LOG_WARNING, msg);
        service_refuse_restart(&u->service);
        return;
    }
    /* An automatic restart is a start too: it picks up a configuration read by a reload. */
    if (u->service.state == SERVICE_STATE_AUTO_RESTART)
        apply_pending_config(u);
    service_timer_fired(&u->service);
}

static void op_timer_arm(void *ud, uint64_t usec)
{
    struct unit *u = ud;
    /* Round up so a deadline never fires early. */
    uint64_t ms = usec == USEC_INFINITY ? UINT64_MAX / 2 : (usec + 999) / 1000;

    uv_timer_start(&u->timer, on_unit_timer, ms, 0);
}

static void op_timer_cancel(void *ud)
{
    struct unit *u = ud;

    uv_timer_stop(&u->timer);
}

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

    return x < y ? -1 : x > y;
}

/* Is pid some unit's main or control process? A sorted array rebuilt when runs change keeps
 * the escaped-process sweep cheap with thousands of units. */
static bool pid_is_tracked(pid_t pid, void *userdata)
{
    struct manager *m = userdata;

    if (m->tracked_dirty) {
        size_t n = 0;
        pid_t *grown = realloc(m->tracked, (2 * m->n_units + 1) * sizeof(pid_t));
        if (!grown)
            return false;
        m->tracked = grown;
        for (size_t i = 0; i < m->n_units; i++)
            for (int k = 0; k < 2; k++)
                if (m->units[i]->runs[k])
                    m->tracked[n++] = m->units[i]->runs[k]->pid;
        qsort(m->tracked, n, sizeof(pid_t), cmp_pid);
        m->n_tracked = n;
        m->tracked_dirty = false;
    }
    return m->n_tracked > 0 &&
           bsearch(&pid, m->tracked, m->n_tracked, sizeof(pid_t), cmp_pid) != NULL;
}

static int op_kill(void *ud, pid_t pid, int sig, bool group)
{
    struct unit *u = ud;
    int pidfd = -1;

    for (int i = 0; i < 2 && !group; i++)
        if (u->runs[i] && u->runs[i]->pid == pid)
            pidfd = u->runs[i]->pidfd;
    /* A group kill of the run's first group also reaches what escaped the groups (setsid). */
    if (group && u->service.n_groups > 0 && pid == u->service.groups[0]) {
        int n = proc_signal_escaped(u->invocation, u->service.groups, u->service.n_groups, sig,
                                    pid_is_tracked, u->m);
        if (n > 0 && (sig == SIGTERM || sig == SIGKILL)) {
            char msg[160];
            snprintf(msg, sizeof(msg),
                     "Sent %s to %d process(es) that left the unit's process "
                     "groups.",
                     sig == SIGKILL ? "SIGKILL" : "SIGTERM", n);
            unit_log(u, LOG_NOTICE, msg);
        }
    }
    return proc_kill(pidfd, pid, sig, group);
}

static bool op_group_alive(void *ud, pid_t pgid)
{
    struct unit *u = ud;
    const struct service *s = &u->service;
    int sig = 0;

    if (proc_group_alive(pgid))
        return true;
    if (s->n_groups == 0 || pgid != s->groups[0])
        return false;
    /* Escaped descendants keep the unit deactivating until they are gone too. One that was
     * adopted only now (its parent just died) gets the signal of the current stop state. */
    if (s->state == SERVICE_STATE_STOP_SIGTERM || s->state == SERVICE_STATE_FINAL_SIGTERM)
        sig = s->config->kill_signal;
    else if (s->state == SERVICE_STATE_STOP_SIGKILL || s->state == SERVICE_STATE_FINAL_SIGKILL)
        sig = s->config->final_kill_signal;
    if (s->config->kill_mode != KILL_MODE_CONTROL_GROUP && sig != s->config->final_kill_signal)
        sig = 0;
    return proc_signal_escaped(u->invocation, s->groups, s->n_groups, sig, pid_is_tracked, u->m) >
           0;
}

static void on_record_idle(uv_idle_t *h)
{
    struct manager *m = h->data;
    struct process_entry *v = calloc(2 * m->n_units + 1, sizeof(*v));
    size_t n = 0;
    int r;

    uv_idle_stop(h);
    if (!v)
        return;
    for (size_t i = 0; i < m->n_units; i++)
        for (int k = 0; k < 2; k++)
            if (m->units[i]->runs[k] && !m->units[i]->runs[k]->reaped) {
                const struct run *run = m->units[i]->runs[k];
                /* A process we spawned called setsid(): its group is its pid. */
                v[n++] =
                    (struct process_entry){run->pid, m->units[i]->name, run->cmd ? run->pid : 0};
            }
    r = process_record_write(m->record, v, n);
    if (r < 0 && !m->record_failed)
        log_warning_errno(r, "Failed to write the process record; a successor after a crash "
                             "will not find stale processes");
    m->record_failed = r < 0;
    free(v);
}

/* The set of running processes changed: pid lookups re-sort, the record is rewritten. The
 * rewrite waits for the loop's idle phase, which comes after the timers: an exit and the
 * restart that a RestartSec=0 timer spawns at the start of the next turn share one write, made
 * after the new process is running instead of on the way to it. */
static void runs_changed(struct manager *m)
{
    m->tracked_dirty = true;
    if (m->record && !uv_is_active((uv_handle_t *)&m->record_idle))
        uv_idle_start(&m->record_idle, on_record_idle);
}

/* A unit lets go of r. If r's process was not reaped, it runs on untracked: the
 * escaped-process sweep must list the children again to see it (proc.c keeps its list). */
static void run_untrack(struct run *r)
{
    if (!r->reaped)
        proc_children_changed();
}

static void deliver_exit(struct unit *u, struct run *r)
{
    pid_t pid = r->pid;
    struct exit_info exit = r->exit;

    if (r->delivered)
        return;
    r->delivered = true;
    runs_changed(u->m);
    exec_status_exited(u, r);
    if (r->role == SERVICE_ROLE_MAIN)
        u->exec_main_exit = dual_now();
    if (u->runs[r->role] == r) {
        u->runs[r->role] = NULL;
        r->unit = NULL;
        run_unref(r);
    }
    if (!(u->runs[0] && u->runs[0]->reaped) && !(u->runs[1] && u->runs[1]->reaped))
        uv_timer_stop(&u->drain_timer);
    service_child_exited(&u->service, pid, &exit);
}

static void on_exec_watch_closed(uv_handle_t *h)
{
    struct exec_watch *w = h->data;

    close(w->fd);
    free(w->path);
    run_unref(w->run);
    free(w);
}

/* Reads the exec outcome (reading is safe: the pipe is non-blocking) and tells the state
 * machine. Returns false while the outcome is still unknown. */
static bool exec_watch_finish(struct run *r)
{
    struct exec_watch *w = r->exec;
    char err[512] = "";
    int res;

    if (!w)
        return true;
    res = proc_exec_result(w->fd, w->path, err, sizeof(err));
    if (res == 0)
        return false;
    r->exec = NULL;
    uv_close((uv_handle_t *)&w->poll, on_exec_watch_closed);
    if (r->unit)
        service_exec_result(&r->unit->service, r->pid, res > 0, err);
    return true;
}

static void on_exec_readable(uv_poll_t *h, int status, int events)
{
    struct exec_watch *w = h->data;

    (void)exec_watch_finish(w->run);
}

static void on_stream_eof(void *userdata)
{
    struct run *r = userdata;

    r->streams_open--;
    if (r->streams_open == 0 && r->reaped && r->unit)
        deliver_exit(r->unit, r);
    run_unref(r);
}

/* Is everything r's process wrote stored? Once it is reaped nothing more of it can come, so
 * an empty pipe with nothing of it left with the writer means its last lines are in the
 * journal, even while a descendant still holds the pipe open (EOF then comes only when that
 * one ends). */
static bool drained(struct unit *u, struct run *r)
{
    size_t open;

    /* A stream that reached EOF is no longer read, but until its owner heard of the EOF its
     * last batch may still be with the writer: only the streams still read can say "done". */
    return journal_unread_bytes(u->m->journal, r, &open) == 0 && open == r->streams_open;
}

static void on_drain_timeout(uv_timer_t *t)
{
    struct unit *u = t->data;
    bool late = uv_now(t->loop) >= u->drain_deadline;

    for (int i = 0; i < 2; i++)
        if (u->runs[i] && u->runs[i]->reaped && (late || drained(u, u->runs[i])))
            deliver_exit(u, u->runs[i]);
}

/* systemd's is_nologin_shell(): a shell that only refuses logins. */
static bool is_nologin_shell(const char *shell)
{
    const char *base = strrchr(shell, '/');

    base = base ? base + 1 : shell;
    return strcmp(base, "nologin") == 0 || strcmp(base, "false") == 0 || strcmp(base, "true") == 0;
}

/* User=, Group=, SupplementaryGroups= resolved before fork (NSS is not safe after it). */
struct creds {
    bool change;
    uid_t uid;
    gid_t gid;
    gid_t groups[NGROUPS_MAX_OURS];
    int n_groups;
    char user[256], home[PATH_MAX], shell[PATH_MAX];
};

static int lookup_group(const char *name, gid_t *ret)
{
    char buf[4096], *end;
    struct group gr, *res = NULL;
    long v = strtol(name, &end, 10);

    if (*name && !*end && v >= 0) {
        *ret = (gid_t)v;
        return 0;
    }
    if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || !res)
        return -ESRCH;
    *ret = res->gr_gid;
    return 0;
}

static int resolve_creds(struct unit *u, struct creds *cr, char *err, size_t err_size)
{
    const struct unit_config *c = u->config;
    char buf[8192];
    struct passwd pw, *res = NULL;

    memset(cr, 0, sizeof(*cr));
    if (!c->user && !c->group && !c->supplementary_groups)
        return 0;
    cr->uid = geteuid();
    cr->gid = getegid();
    if (c->user) {
        char *end;
        long v = strtol(c->user, &end, 10);
        if (*c->user && !*end && v >= 0)
            getpwuid_r((uid_t)v, &pw, buf, sizeof(buf), &res);
        else
            getpwnam_r(c->user, &pw, buf, sizeof(buf), &res);
        if (!res) {
            snprintf(err, err_size, "Failed to determine user credentials: No such user '%s'",
                     c->user);
            return -ESRCH;
        }
        cr->uid = res->pw_uid;
        cr->gid = res->pw_gid;
        snprintf(cr->user, sizeof(cr->user), "%s", res->pw_name);
        /* systemd's get_user_creds(USER_CREDS_CLEAN): root is always /root and /bin/sh; a home
         * of "/" or a nologin shell is no home or shell at all ("" here), and nobody has
         * neither. */
        if (res->pw_uid == 0) {
            snprintf(cr->home, sizeof(cr->home), "/root");
            snprintf(cr->shell, sizeof(cr->shell), "/bin/sh");
        } else if (res->pw_uid != 65534) { /* nobody: systemd's has neither */
            if (res->pw_dir && res->pw_dir[0] == '/' && strcmp(res->pw_dir, "/") != 0)
                snprintf(cr->home, sizeof(cr->home), "%s", res->pw_dir);
            if (res->pw_shell && res->pw_shell[0] == '/' && !is_nologin_shell(res->pw_shell))
                snprintf(cr->shell, sizeof(cr->shell), "%s", res->pw_shell);
        }
    }
    if (c->group && lookup_group(c->group, &cr->gid) < 0) {
        snprintf(err, err_size, "Failed to determine group credentials: No such group '%s'",
                 c->group);
        return -ESRCH;
    }
    if (geteuid() != 0) {
        /* Never run as ourselves by fallback when the unit asked for someone else. */
        if (cr->uid != geteuid() || cr->gid != getegid()) {
            snprintf(err, err_size,
                     "Failed to change to user '%s': not privileged (minisupd runs as uid %u)",
                     c->user ? c->user : c->group, (unsigned)geteuid());
            return -EPERM;
        }
        return 0;
    }
    cr->change = true;
    /* initgroups() semantics: the user's groups, then SupplementaryGroups=. */
    cr->n_groups = NGROUPS_MAX_OURS;
    if (c->user && getgrouplist(cr->user, cr->gid, cr->groups, &cr->n_groups) < 0)
        cr->n_groups = 0;
    if (!c->user)
        cr->n_groups = 0;
    for (char **g = c->supplementary_groups; g && *g; g++) {
        gid_t gid;
        if (lookup_group(*g, &gid) < 0) {
            snprintf(err, err_size, "Failed to resolve supplementary group '%s'", *g);
            return -ESRCH;
        }
        if (cr->n_groups < NGROUPS_MAX_OURS)
            cr->groups[cr->n_groups++] = gid;
    }
    return 0;
}

/* The owner a chown_tree() walk gives (nftw() passes no userdata). */
static uid_t chown_uid;
static gid_t chown_gid;

static int chown_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)flag;
    (void)ftw;
    if ((st->st_uid != chown_uid || st->st_gid != chown_gid) &&
        lchown(path, chown_uid, chown_gid) < 0)
        return -errno;
    return 0;
}

/* systemd.exec(5), RuntimeDirectory=: when the directory exists with another owner, it and
 * everything below it are given to the unit's user (a unit moved from root to User= keeps
 * working); symbolic links are changed, not followed. */
static int chown_tree(const char *path, uid_t uid, gid_t gid)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return -errno;
    if (st.st_uid == uid && st.st_gid == gid)
        return 0;
    chown_uid = uid;
    chown_gid = gid;
    int r = nftw(path, chown_cb, 16, FTW_PHYS | FTW_MOUNT);
    return r == -1 ? -errno : r; /* a failed walk sets errno; a failed lchown returns it */
}

/* RuntimeDirectory=, StateDirectory=, LogsDirectory=: created before the service starts,
 * owned by its user, and named to it in $RUNTIME_DIRECTORY and friends. */
static int make_service_dirs(struct unit *u, const struct creds *cr, char ***env, char *err,
                             size_t err_size)
{
    const struct unit_config *c = u->config;
    const struct {
        char **list;
        const char *base, *var;
    } kinds[] = {
        {c->runtime_directory, u->m->opts.runtime_dir, "RUNTIME_DIRECTORY"},
        {c->state_directory, u->m->opts.state_dir, "STATE_DIRECTORY"},
        {c->logs_directory, u->m->opts.log_dir, "LOGS_DIRECTORY"},
    };

    for (size_t k = 0; k < 3; k++) {
        char *value = NULL;
        for (char **d = kinds[k].list; d && *d; d++) {
            char *path = path_join(kinds[k].base, *d);
            int r = path ? mkdir_p(path, 0755) : -ENOMEM;
            if (r < 0) {
                snprintf(err, err_size, "Failed to create directory '%s': %s", path ? path : *d,
                         strerror(-r));
                free(path);
                free(value);
                return r;
            }
            if (cr->change && (r = chown_tree(path, cr->uid, cr->gid)) != 0) {
                r = r < 0 ? r : -EIO;
                snprintf(err, err_size, "Failed to chown directory '%s': %s", path, strerror(-r));
                free(path);
                free(value);
                return r;
            }
            char *joined;
            if (asprintf(&joined, "%s%s%s", value ? value : "", value ? ":" : "", path) < 0)
                joined = NULL;
            free(value);
            free(path);
            value = joined;
            if (!value)
                return -ENOMEM;
        }
        if (value) {
            char *kv;
            int r = asprintf(&kv, "%s=%s", kinds[k].var, value) < 0 ? -ENOMEM : 0;
            free(value);
            if (r < 0 || strv_env_set(env, kv) < 0) {
                if (r == 0)
                    free(kv);
                return -ENOMEM;
            }
            free(kv);
        }
    }
    return 0;
}

/* RuntimeDirectory= goes away when the unit stops, as in systemd. */
static int rm_rf_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    /* Best effort: what cannot be removed stays, and the walk goes on. */
    if (flag == FTW_DP)
        (void)rmdir(path);
    else
        (void)unlink(path);
    return 0;
}

static void remove_runtime_dirs(struct unit *u)
{
    for (char **d = u->config ? u->config->runtime_directory : NULL; d && *d; d++) {
        char *path = path_join(u->m->opts.runtime_dir, *d);
        if (path && strstr(*d, "..") == NULL)
            nftw(path, rm_rf_cb, 16, FTW_DEPTH | FTW_PHYS);
        free(path);
    }
}

/* Is the control process about to be spawned one of ExecStop= or ExecStopPost=? */
static bool stop_commands_run(const struct unit *u)
{
    const struct exec_command *cmds = u->service.control_cmds;

    return cmds && (cmds == u->config->exec_stop.items || cmds == u->config->exec_stop_post.items);
}

/* Variables only the child knows the value of: room for any pid's digits, which the child
 * writes over (proc.c, put_pid). */
#define LISTEN_PID_PLACEHOLDER "LISTEN_PID=0000000000"
#define WATCHDOG_PID_PLACEHOLDER "WATCHDOG_PID=0000000000"
#define EXEC_PID_PLACEHOLDER "SYSTEMD_EXEC_PID=0000000000"

/* UnsetEnvironment='s two forms: NAME takes away any value, NAME=VALUE only that one. */
static void env_unset(char **env, const char *what)
{
    size_t n = strlen(what);

    for (size_t i = 0; env && env[i]; i++) {
        bool match = strchr(what, '=') ? strcmp(env[i], what) == 0
                                       : strncmp(env[i], what, n) == 0 && env[i][n] == '=';
        if (match) {
            free(env[i]);
            memmove(env + i, env + i + 1, (strv_length(env + i + 1) + 1) * sizeof(char *));
            i--;
        }
    }
}

/* Loads one environment file; assignments skipped for their name are told in the unit's
 * journal, as systemd logs them ("export A=b" is the usual one: the file was written for a
 * shell). */
static int load_unit_environment_file(struct unit *u, const char *path, char ***env)
{
    struct env_file_ignored ignored = {0};
    int r = load_environment_file(path, env, &ignored);

    if (ignored.count > 0) {
        char msg[512];
        if (ignored.count > 1)
            snprintf(msg, sizeof(msg),
                     "%s:%u: invalid variable name \"%s\", ignoring (and %u more in the file).",
                     path, ignored.line, ignored.name, ignored.count - 1);
        else
            snprintf(msg, sizeof(msg), "%s:%u: invalid variable name \"%s\", ignoring.", path,
                     ignored.line, ignored.name);
        unit_log(u, LOG_WARNING, msg);
    }
    return r;
}

/* EnvironmentFile=: each file (a glob reads its matches in order) on top of env. A file that
 * is missing or unreadable is an error, unless the entry has the "-" prefix (systemd.exec(5)). */
static int load_environment_files(struct unit *u, char *const *files, char ***env, char *ret_error,
                                  size_t error_size)
{
    for (char *const *f = files; f && *f; f++) {
        bool optional = **f == '-';
        const char *path = optional ? *f + 1 : *f;
        glob_t g = {0};
        int r = 0;

        if (strpbrk(path, "*?[")) {
            int gr = glob(path, GLOB_ERR, NULL, &g);
            if (gr == GLOB_NOSPACE)
                r = -ENOMEM;
            else if (gr != 0)
                r = -ENOENT;
            for (size_t i = 0; r == 0 && i < g.gl_pathc; i++)
                r = load_unit_environment_file(u, g.gl_pathv[i], env);
            globfree(&g);
        } else {
            r = load_unit_environment_file(u, path, env);
        }
        if (r == -ENOMEM)
            return r;
        if (r < 0 && !optional) {
            snprintf(ret_error, error_size, "Failed to load environment file '%s': %s", path,
                     r == -ENXIO ? "a FIFO or socket is not read (it could block minisupd)"
                                 : strerror(-r));
            return r;
        }
    }
    return 0;
}

/* The environment a service starts with: a few variables of ours, then the unit's, in
 * systemd's order (later wins): ours, PassEnvironment=, Environment=, EnvironmentFile=, then
 * UnsetEnvironment= takes away. NULL with ret_error set when an environment file is missing. */
static char **build_environment(struct unit *u, enum service_role role, const struct creds *cr,
                                char *ret_error, size_t error_size)
{
    static const char *const passed[] = {"PATH", "LANG", "LANGUAGE", "LC_ALL", "TZ",
                                         "HOME", "USER", "LOGNAME",  "SHELL",  NULL};
    const struct unit_config *c = u->config;
    char **env = NULL;
    char buf[128];

    for (size_t i = 0; passed[i]; i++) {
        const char *v = getenv(passed[i]);
        if (v) {
            char *kv;
            if (asprintf(&kv, "%s=%s", passed[i], v) < 0 || strv_push(&env, kv) < 0)
                goto oom;
        }
    }
    if (!strv_env_get(env, "PATH") &&
        strv_env_set(&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0)
        goto oom;
    if (cr->user[0]) {
        /* systemd sets these for User= services (before the unit's own, which may change
         * them); a user without a home or a login shell gets none, not minisupd's. */
        const char *const vars[][2] = {
            {"USER", cr->user}, {"LOGNAME", cr->user}, {"HOME", cr->home}, {"SHELL", cr->shell}};
        for (size_t i = 0; i < 4; i++) {
            char kv[PATH_MAX + 16];
            if (!*vars[i][1]) {
                env_unset(env, vars[i][0]);
                continue;
            }
            snprintf(kv, sizeof(kv), "%s=%s", vars[i][0], vars[i][1]);
            if (strv_env_set(&env, kv) < 0)
                goto oom;
        }
    }
    snprintf(buf, sizeof(buf), "INVOCATION_ID=%s", u->invocation);
    if (strv_env_set(&env, buf) < 0)
        goto oom;
    /* systemd.exec(5): the pid of the process exec'd, so it can tell whether it was started
     * by the manager or by another process; the child writes its pid over the digits. */
    if (strv_env_set(&env, EXEC_PID_PLACEHOLDER) < 0)
        goto oom;
    if (c->notify_access != NOTIFY_ACCESS_NONE && u->m->notify) {
        snprintf(buf, sizeof(buf), "NOTIFY_SOCKET=%s", notify_socket_path(u->m->notify));
        if (strv_env_set(&env, buf) < 0)
            goto oom;
    }
    if (u->service.main_pid > 0) {
        /* ExecStop=/ExecReload= address the main process as $MAINPID, as in systemd. */
        snprintf(buf, sizeof(buf), "MAINPID=%d", (int)u->service.main_pid);
        if (strv_env_set(&env, buf) < 0)
            goto oom;
    }
    if (u->remote_addr[0]) {
        snprintf(buf, sizeof(buf), "REMOTE_ADDR=%s", u->remote_addr);
        if (strv_env_set(&env, buf) < 0)
            goto oom;
        snprintf(buf, sizeof(buf), "REMOTE_PORT=%u", u->remote_port);
        if (strv_env_set(&env, buf) < 0)
            goto oom;
    }
    if (role == SERVICE_ROLE_CONTROL && stop_commands_run(u)) {
        /* systemd.exec(5): ExecStop= and ExecStopPost= learn how the run went. */
        const struct service *s = &u->service;
        snprintf(buf, sizeof(buf), "SERVICE_RESULT=%s", service_result_to_string(s->result));
        if (strv_env_set(&env, buf) < 0)
            goto oom;
        if (s->run_main_exited) {
            const char *code = s->main_exit.code == CLD_EXITED   ? "exited"
                               : s->main_exit.code == CLD_DUMPED ? "dumped"
                                                                 : "killed";
            const char *sig = signal_to_string(s->main_exit.status);
            snprintf(buf, sizeof(buf), "EXIT_CODE=%s", code);
            if (strv_env_set(&env, buf) < 0)
                goto oom;
            if (s->main_exit.code == CLD_EXITED || !sig)
                snprintf(buf, sizeof(buf), "EXIT_STATUS=%d", s->main_exit.status);
            else
                snprintf(buf, sizeof(buf), "EXIT_STATUS=%s", sig);
            if (strv_env_set(&env, buf) < 0)
                goto oom;
        }
    }
    for (char **e = c->pass_environment; e && *e; e++) {
        const char *v = getenv(*e);
        char *kv;
        if (!v)
            continue;
        if (asprintf(&kv, "%s=%s", *e, v) < 0)
            goto oom;
        int r = strv_env_set(&env, kv);
        free(kv);
        if (r < 0)
            goto oom;
    }
    for (char **e = c->environment; e && *e; e++)
        if (strv_env_set(&env, *e) < 0)
            goto oom;
    int r = load_environment_files(u, c->environment_files, &env, ret_error, error_size);
    if (r < 0) {
        if (r == -ENOMEM)
            goto oom;
        strv_free(env);
        return NULL;
    }
    for (char **e = c->unset_environment; e && *e; e++)
        env_unset(env, *e);
    return env;
oom:
    snprintf(ret_error, error_size, "Failed to build the environment: %s", strerror(ENOMEM));
    strv_free(env);
    return NULL;
}

static bool is_file_output(enum std_output how)
{
    return how == STD_OUTPUT_FILE || how == STD_OUTPUT_APPEND || how == STD_OUTPUT_TRUNCATE;
}

/* Does stderr share stdout's file description? As systemd's can_inherit_stderr_from_stdout():
 * StandardError=inherit (the default) means "where stdout goes", and both naming the same
 * file opens it once, so their lines do not overwrite each other. The journal is the exception
 * here: stderr gets its own pipe there, so its lines keep their own stream. */
static bool stderr_follows_stdout(const struct unit_config *c)
{
    if (c->std_error == STD_OUTPUT_INHERIT)
        return c->std_output != STD_OUTPUT_JOURNAL;
    return c->std_error == c->std_output && is_file_output(c->std_output) && c->std_output_path &&
           c->std_error_path && strcmp(c->std_output_path, c->std_error_path) == 0;
}

static int open_output(struct unit *u, enum std_output how, const char *path, int pipefd[2])
{
    pipefd[0] = pipefd[1] = -1;
    switch (how) {
    case STD_OUTPUT_NULL:
        return 0;
    case STD_OUTPUT_INHERIT:
        /* minisupd's own stdout/stderr; duplicated so the child's copy is independent. */
        pipefd[1] = -2;
        return 0;
    case STD_OUTPUT_FILE:
    case STD_OUTPUT_APPEND:
    case STD_OUTPUT_TRUNCATE: {
        /* Non-blocking, as this is the event loop: a FIFO nobody reads is ENXIO at once, where
         * a blocking open would wait for a reader with every unit stalled behind it. */
        int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
        flags |= how == STD_OUTPUT_APPEND ? O_APPEND : how == STD_OUTPUT_TRUNCATE ? O_TRUNC : 0;
        /* Created with the unit's UMask=, as systemd's setup_output() does. */
        pipefd[1] = open(path, flags, 0666 & ~u->config->umask);
        if (pipefd[1] < 0)
            return -errno;
        /* The service writes as to any file: blocking. */
        int fl = fcntl(pipefd[1], F_GETFL);
        if (fl < 0 || fcntl(pipefd[1], F_SETFL, fl & ~O_NONBLOCK) < 0) {
            int r = -errno;
            close(pipefd[1]);
            pipefd[1] = -1;
            return r;
        }
        return 0;
    }
    case STD_OUTPUT_JOURNAL:
    default:
        return pipe2(pipefd, O_CLOEXEC) < 0 ? -errno : 0;
    }
}

static void close_pair(int p[2])
{
    for (int i = 0; i < 2; i++)
        if (p[i] >= 0)
            close(p[i]);
}

static int op_spawn(void *ud, const struct exec_command *cmd, enum service_role role,
                    pid_t *ret_pid, char *ret_error, size_t error_size)
{
    struct unit *u = ud;
    struct manager *m = u->m;
    const struct unit_config *c = u->config;
    struct spawn_params p = {0};
    struct spawn_result sr;
    int out[2] = {-1, -1}, err[2] = {-1, -1};
    char **env = NULL, **argv = NULL, *path = NULL;
    struct run *run = NULL;
    int r;

    /* Every start (including automatic restarts) is a new invocation, as in systemd: the first
     * process of a run is spawned while the state machine is still outside any running state. */
    if (u->service.n_groups == 0 || u->invocation[0] == '\0') {
        new_invocation(u->invocation);
        u->invocation_usec = realtime_usec();
        /* A new run forgets how the last run's commands went (systemd's service_start():
         * exec_command_reset_status_list_array()), so status shows no stale Process: lines. */
        u->n_exec_slots = 0;
    }

    struct creds cr;
    r = resolve_creds(u, &cr, ret_error, error_size);
    if (r < 0)
        goto fail;
    env = build_environment(u, role, &cr, ret_error, error_size);
    if (!env) {
        r = -ENOENT; /* the message says what */
        goto fail;
    }
    r = make_service_dirs(u, &cr, &env, ret_error, error_size);
    if (r < 0)
        goto fail;
    if (cmd->flags & EXEC_FLAG_NO_ENV_EXPAND) {
        for (char **a = cmd->argv; a && *a; a++)
            if (strv_extend(&argv, *a) < 0) {
                r = -ENOMEM;
                goto fail_msg;
            }
    } else {
        argv = exec_command_expand(cmd, env);
    }
    if (!argv || !argv[0]) {
        r = -ENOMEM;
        goto fail_msg;
    }
    path = proc_find_executable(cmd->path, m->opts.bin_dir, strv_env_get(env, "PATH"));
    if (!path) {
        r = -errno;
        snprintf(ret_error, error_size, "Failed to execute '%s': %s", cmd->path, strerror(-r));
        goto fail;
    }
    if (cmd->argv0) {
        free(argv[0]);
        argv[0] = strdup(cmd->argv0);
        if (!argv[0]) {
            r = -ENOMEM;
            goto fail_msg;
        }
    }

    r = open_output(u, c->std_output, c->std_output_path, out);
    if (r >= 0) {
        if (c->std_error == STD_OUTPUT_INHERIT && c->std_output == STD_OUTPUT_JOURNAL)
            r = pipe2(err, O_CLOEXEC) < 0 ? -errno : 0; /* journal, but as its own stream */
        else if (stderr_follows_stdout(c) && out[1] >= 0)
            r = (err[1] = fcntl(out[1], F_DUPFD_CLOEXEC, 3)) < 0 ? -errno : 0;
        else if (stderr_follows_stdout(c))
            err[1] = out[1]; /* /dev/null (-1), or minisupd's stdout (-2, see below) */
        else
            r = open_output(u, c->std_error, c->std_error_path, err);
    }
    if (r < 0) {
        snprintf(ret_error, error_size, "Failed to set up output for '%s': %s", path,
                 r == -ENXIO ? "the output is a FIFO that no process reads (minisupd does not "
                               "wait for a reader)"
                             : strerror(-r));
        goto fail;
    }

    p.path = path;
    p.argv = argv;
    p.envp = env;
    p.working_directory = c->working_directory;
    if (p.working_directory && p.working_directory[0] == '-') {
        p.working_directory++;
        p.working_directory_optional = true;
    }
    if (p.working_directory && strcmp(p.working_directory, "~") == 0) {
        /* User='s home, which systemd's cleaning may have taken away ("/", nobody): then
         * there is none, never minisupd's own (systemd's apply_working_directory(): ENXIO).
         * Without User=, minisupd's user's. */
        if (c->user && !cr.home[0]) {
            snprintf(ret_error, error_size,
                     "Failed to change to the working directory for '%s': %s (User=%s has no "
                     "home directory)",
                     path, strerror(ENXIO), c->user);
            r = -ENXIO;
            goto fail;
        }
        p.working_directory = c->user ? cr.home : getenv("HOME");
    }
    /* "+" runs with full privileges, "!" without the credential change (systemd.service(5));
     * "!!" is plain on a kernel with ambient capabilities, as Linux has. */
    p.change_user = cr.change && !(cmd->flags & (EXEC_FLAG_FULL_PRIVILEGES | EXEC_FLAG_NO_SETUID));
    p.uid = cr.uid;
    p.gid = cr.gid;
    p.groups = cr.groups;
    p.n_groups = (size_t)cr.n_groups;
    struct rlimit rl[16];
    bool rl_set[16];
    for (size_t i = 0; i < 16; i++) {
        rl_set[i] = c->rlimits[i].set;
        rl[i].rlim_cur = (rlim_t)c->rlimits[i].soft;
        rl[i].rlim_max = (rlim_t)c->rlimits[i].hard;
    }
    p.rlimits = rl;
    p.rlimit_set = rl_set;
    p.n_rlimits = RLIMIT_NLIMITS < 16 ? RLIMIT_NLIMITS : 16;
    p.nice_set = c->nice_set;
    p.nice = c->nice;
    p.no_new_privileges = c->no_new_privileges && !(cmd->flags & EXEC_FLAG_FULL_PRIVILEGES);
    p.async_exec = true;
    p.parent_pid = getpid();
    p.umask = c->umask;
    p.ignore_sigpipe = c->ignore_sigpipe;
    p.stdout_fd = out[1] == -2 ? STDOUT_FILENO : out[1];
    p.stderr_fd = err[1] != -2 ? err[1] : stderr_follows_stdout(c) ? STDOUT_FILENO : STDERR_FILENO;
    p.stdin_fd = -1;
    p.listen_pid_env_index = -1;
    p.watchdog_pid_env_index = -1;
    p.exec_pid_env_index = -1;
    if (role == SERVICE_ROLE_MAIN && c->watchdog_usec > 0 && c->watchdog_usec != USEC_INFINITY) {
        /* sd_watchdog_enabled(3): the interval, and the pid that must ping (filled in by the
         * child, which alone knows it). */
        char kv[64];
        snprintf(kv, sizeof(kv), "WATCHDOG_USEC=%llu", (unsigned long long)c->watchdog_usec);
        if (strv_env_set(&env, kv) < 0 || strv_env_set(&env, WATCHDOG_PID_PLACEHOLDER) < 0) {
            r = -ENOMEM;
            goto fail_msg;
        }
    }
    int listen_fds[64];
    char fdnames[1024];
    size_t n_fds =
        role == SERVICE_ROLE_MAIN ? sock_fds_for(u, listen_fds, 64, fdnames, sizeof(fdnames)) : 0;
    if (n_fds > 0) {
        /* sd_listen_fds(3): the count, the names, and our pid, which the child fills in. */
        char kv[1100];
        snprintf(kv, sizeof(kv), "LISTEN_FDS=%zu", n_fds);
        if (strv_env_set(&env, kv) < 0 || strv_env_set(&env, LISTEN_PID_PLACEHOLDER) < 0) {
            r = -ENOMEM;
            goto fail_msg;
        }
        snprintf(kv, sizeof(kv), "LISTEN_FDNAMES=%s", fdnames);
        if (strv_env_set(&env, kv) < 0) {
            r = -ENOMEM;
            goto fail_msg;
        }
        p.listen_fds = listen_fds;
        p.n_listen_fds = n_fds;
    }
    /* Where the child writes its pid, in one pass (strv_env_set may have moved the array). A
     * variable Environment= set itself (SYSTEMD_EXEC_PID=) keeps its value. */
    p.envp = env;
    for (size_t i = 0; env[i]; i++) {
        if (n_fds > 0 && strcmp(env[i], LISTEN_PID_PLACEHOLDER) == 0)
            p.listen_pid_env_index = (int)i;
        else if (c->watchdog_usec > 0 && strcmp(env[i], WATCHDOG_PID_PLACEHOLDER) == 0)
            p.watchdog_pid_env_index = (int)i;
        else if (strcmp(env[i], EXEC_PID_PLACEHOLDER) == 0)
            p.exec_pid_env_index = (int)i;
    }

    r = proc_spawn(&p, &sr, ret_error, error_size);
    /* The write ends belong to the child now; keeping them would hide its EOF. */
    if (out[1] >= 0)
        close(out[1]);
    if (err[1] >= 0)
        close(err[1]);
    out[1] = err[1] = -1;
    if (r < 0)
        goto fail;
    if (u->conn_fd >= 0 && n_fds > 0) {
        /* The connection belongs to the instance now. */
        close(u->conn_fd);
        u->conn_fd = -1;
    }

    run = calloc(1, sizeof(*run));
    if (!run) {
        /* Cannot track it: kill it rather than leave it unsupervised. */
        kill(sr.pid, SIGKILL);
        if (sr.pidfd >= 0)
            close(sr.pidfd);
        r = -ENOMEM;
        goto fail_msg;
    }
    run->unit = u;
    run->role = role;
    run->pid = sr.pid;
    run->pidfd = sr.pidfd;
    run->refs = 1;
    run->cmd = cmd;
    exec_status_started(u, cmd, sr.pid);
    if (role == SERVICE_ROLE_MAIN) {
        u->exec_main_start = dual_now();
        u->exec_main_exit = (struct dual_timestamp){0, 0};
    }
    if (u->runs[role]) {
        /* A previous process still draining keeps its own references. */
        run_untrack(u->runs[role]);
        u->runs[role]->unit = NULL;
        run_unref(u->runs[role]);
    }
    u->runs[role] = run;
    runs_changed(u->m);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (role == SERVICE_ROLE_MAIN) {
        free(u->main_command);
        u->main_command = strdup(base);
        u->main_command_live = false;
    }

    int spawn_result = 0;
    if (sr.exec_fd >= 0) {
        struct exec_watch *w = calloc(1, sizeof(*w));
        if (w && uv_poll_init(m->loop, &w->poll, sr.exec_fd) == 0) {
            w->fd = sr.exec_fd;
            w->path = strdup(path);
            w->run = run;
            w->poll.data = w;
            run->refs++;
            run->exec = w;
            uv_poll_start(&w->poll, UV_READABLE, on_exec_readable);
            spawn_result = 1; /* the outcome comes through service_exec_result() */
        } else {
            /* Cannot watch: wait for the outcome here, as a blocking spawn would. */
            free(w);
            struct pollfd pfd = {.fd = sr.exec_fd, .events = POLLIN};
            (void)poll(&pfd, 1, -1);
            int res = proc_exec_result(sr.exec_fd, path, ret_error, error_size);
            close(sr.exec_fd);
            if (res < 0) {
                run_untrack(run);
                u->runs[role] = NULL;
                run->unit = NULL;
                run_unref(run);
                r = res;
                goto fail;
            }
        }
    }

    const char *ident = c->syslog_identifier ? c->syslog_identifier : base;
    int fds[2] = {out[0], err[0]};
    for (int i = 0; i < 2; i++) {
        if (fds[i] < 0)
            continue;
        struct journal_source src = {
            .unit = u->name,
            .invocation = u->invocation,
            .identifier = ident ? ident : u->name,
            .pid = sr.pid,
            .stream = i == 0 ? JOURNAL_STREAM_STDOUT : JOURNAL_STREAM_STDERR,
            /* stderr lines default to the same level as stdout, as journald does. */
            .default_priority = c->syslog_level,
            .level_prefix = c->syslog_level_prefix,
            .rate_interval_usec = c->log_rate_limit_interval_usec,
            .rate_burst = c->log_rate_limit_burst,
        };
        run->refs++;
        run->streams_open++;
        if (journal_attach(m->journal, fds[i], &src, on_stream_eof, run) < 0) {
            run->refs--;
            run->streams_open--;
        }
        out[0] = err[0] = -1; /* owned by the journal now, even on failure */
    }
    *ret_pid = sr.pid;
    strv_free(env);
    strv_free(argv);
    free(path);
    return spawn_result;

fail_msg:
    snprintf(ret_error, error_size, "Failed to spawn '%s': %s", cmd->path, strerror(-r));
fail:
    close_pair(out);
    close_pair(err);
    strv_free(env);
    strv_free(argv);
    free(path);
    return r;
}

static void jobs_check(struct unit *u, enum service_state now);

static bool pid_in(const pid_t *set, size_t n, pid_t pid)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == pid)
            return true;
    return false;
}

/* Now, in the clock of /proc/PID/stat's starttime (ticks since boot). Start-up scans every
 * child per start would be quadratic; a start time is one read per suspect at the stop. */
static uint64_t boot_ticks_now(void)
{
    struct timespec ts;
    long hz = sysconf(_SC_CLK_TCK);

    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)ts.tv_sec * (uint64_t)hz + (uint64_t)ts.tv_nsec / (1000000000u / (uint64_t)hz);
}

/* Was pid started before ticks (so it was there before the run began)? A process that is gone
 * counts as not ours to report. */
static bool started_before(pid_t pid, uint64_t ticks)
{
    uint64_t start;

    return proc_start_time(pid, &start, NULL) < 0 || start < ticks;
}

/* After a run ended: what it left running is logged in the unit's journal and kept for status.
 * Members of its process groups (KillMode=process/none leaves them on purpose), and orphans
 * adopted during the run that belong to no unit (a descendant that left the group and cleared
 * its environment: STOP-4), as systemd logs "Unit process N (x) remains running". */
static void find_leftovers(struct unit *u)
{
    const struct service *s = &u->service;
    pid_t found[16], adopted[64];
    size_t n = 0, n_adopted;
    char msg[300], comm[64];

    for (size_t g = 0; g < s->n_last_groups && n < 16; g++)
        n += proc_group_members(s->last_groups[g], found + n, 16 - n);
    size_t n_group = n;
    n_adopted = proc_untracked_children(adopted, 64, pid_is_tracked, u->m);
    for (size_t i = 0; i < n_adopted && n < 16; i++) {
        pid_t pgid = getpgid(adopted[i]);
        char inv[64];
        bool other = pid_in(found, n, adopted[i]) || started_before(adopted[i], u->run_start_ticks);
        /* Started by another run (it carries that run's $INVOCATION_ID): not ours to report. */
        if (!other) {
            proc_invocation(adopted[i], inv, sizeof(inv));
            other = *inv && strcmp(inv, u->invocation) != 0;
        }
        /* In another unit's groups, those of its last run too (what its KillMode=process stop
         * left): that unit's business. */
        for (size_t k = 0; k < u->m->n_units && !other; k++) {
            const struct service *o = &u->m->units[k]->service;
            if (u->m->units[k] != u && u->m->units[k]->config)
                other = pid_in(o->groups, o->n_groups, pgid) ||
                        pid_in(o->last_groups, o->n_last_groups, pgid);
        }
        if (!other) {
            found[n++] = adopted[i];
            proc_comm(adopted[i], comm, sizeof(comm));
            snprintf(msg, sizeof(msg),
                     "1 process escaped the unit's process groups; pid %d (%s) remains "
                     "running.",
                     (int)adopted[i], comm);
            unit_log(u, LOG_WARNING, msg);
        }
    }
    for (size_t i = 0; i < n_group; i++) {
        {
            proc_comm(found[i], comm, sizeof(comm));
            snprintf(msg, sizeof(msg), "Unit process %d (%s) remains running after unit stopped.",
                     (int)found[i], comm);
            unit_log(u, LOG_NOTICE, msg);
        }
    }
    memcpy(u->leftovers, found, n * sizeof(pid_t));
    u->n_leftovers = n;
}

/* Tells the watchers of one kind (at_change or not) that u changed. */
static void notify_watchers(struct unit *u, bool at_change)
{
    for (struct watcher *w = u->m->watchers; w;) {
        struct watcher *next = w->next;
        if (w->at_change == at_change)
            w->cb(u, w->userdata);
        w = next;
    }
}

static void op_state_changed(void *ud, enum service_state old, enum service_state now)
{
    struct unit *u = ud;
    enum active_state a = service_active_state(&u->service);

    stamp_state_change(u, service_state_to_active(old), a);
    if (a == ACTIVE_STATE_INACTIVE || a == ACTIVE_STATE_FAILED) {
        remove_runtime_dirs(u);
        find_leftovers(u);
    }
    /* systemd.service(5), PIDFile=: the manager "will remove the file after the service has
     * shut down if it still exists", so a daemon that refuses a stale one starts again. */
    if ((now == SERVICE_STATE_DEAD || now == SERVICE_STATE_FAILED ||
         now == SERVICE_STATE_AUTO_RESTART) &&
        u->config && u->config->pid_file)
        unlink(u->config->pid_file);
    if ((old == SERVICE_STATE_DEAD || old == SERVICE_STATE_FAILED ||
         old == SERVICE_STATE_AUTO_RESTART) &&
        !service_is_inactive(&u->service)) {
        u->n_leftovers = 0;
        u->run_start_ticks = boot_ticks_now();
    }
    log_debug("%s: changed %s -> %s", u->name, service_state_to_string(old),
              service_state_to_string(now));
    notify_watchers(u, true);
    jobs_check(u, now);
    sock_follow_service(u);
    /* The others hear about the change after the jobs it finished (one may shut down). */
    notify_watchers(u, false);
}

/* Reads a pid from PIDFile=; 0 or a negative errno. */
static int read_pid_file(const char *path, pid_t *ret)
{
    char buf[32];
    ssize_t n;
    /* Non-blocking and a regular file only: a FIFO here would stall the event loop. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat st;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -EINVAL;
    buf[n] = '\0';
    char *end;
    long v = strtol(buf, &end, 10);
    if (v <= 1 || v > INT32_MAX || (*end && *end != '\n'))
        return -EINVAL;
    *ret = (pid_t)v;
    return 0;
}

/* The daemon a forking unit's parent left behind, as systemd guesses it (the one process of the
 * unit whose parent is the manager): our direct children that no unit tracks yet (after a
 * double fork the daemon is reparented to us, the subreaper), in one of u's process groups or
 * carrying its $INVOCATION_ID (it called setsid()). Exactly one such process makes the guess
 * safe; another unit's leftovers do not count. */
static int guess_orphan_main(struct unit *u, pid_t *ret)
{
    const struct service *s = &u->service;
    pid_t adopted[64], found = 0;
    size_t n = proc_untracked_children(adopted, 64, pid_is_tracked, u->m);
    int count = 0;

    for (size_t i = 0; i < n; i++) {
        pid_t pgid = getpgid(adopted[i]);
        if (pgid < 0)
            continue;
        if (!pid_in(s->groups, s->n_groups, pgid) &&
            !proc_has_invocation(adopted[i], u->invocation))
            continue;
        found = adopted[i];
        count++;
    }
    if (count != 1)
        return -ESRCH;
    *ret = found;
    return 0;
}

static void set_main_command(struct unit *u, pid_t pid);

/* Tracks pid as the unit's main process though we did not spawn it (Type=forking's daemon,
 * MAINPID=). It writes nothing to our pipes, so its exit is final as soon as it is reaped. */
static int watch_main_pid(struct unit *u, pid_t pid)
{
    struct run *run = calloc(1, sizeof(*run));

    if (!run)
        return -ENOMEM;
    run->unit = u;
    run->role = SERVICE_ROLE_MAIN;
    run->pid = pid;
    run->pidfd = proc_pidfd_open(pid);
    run->refs = 1;
    if (u->runs[SERVICE_ROLE_MAIN]) {
        run_untrack(u->runs[SERVICE_ROLE_MAIN]);
        u->runs[SERVICE_ROLE_MAIN]->unit = NULL;
        run_unref(u->runs[SERVICE_ROLE_MAIN]);
    }
    u->runs[SERVICE_ROLE_MAIN] = run;
    runs_changed(u->m);
    u->exec_main_start = dual_now();
    u->exec_main_exit = (struct dual_timestamp){0, 0};
    set_main_command(u, pid);
    /* Found as soon as the parent exited, it may not have exec'd its own program yet. */
    u->main_command_live = true;
    return 0;
}

static int op_find_main_pid(void *ud, pid_t pgid, bool warn, pid_t *ret_pid)
{
    struct unit *u = ud;
    const struct unit_config *c = u->config;
    char msg[PATH_MAX + 128];
    pid_t pid = 0;
    int r;

    (void)pgid;
    if (c->pid_file)
        r = read_pid_file(c->pid_file, &pid);
    else if (c->guess_main_pid)
        r = guess_orphan_main(u, &pid);
    else
        r = -ESRCH;
    if (r < 0) {
        if (!warn)
            return r;
        if (c->pid_file)
            snprintf(msg, sizeof(msg), "Can't open PID file %s (yet?) after start: %s", c->pid_file,
                     strerror(-r));
        else
            snprintf(msg, sizeof(msg),
                     "Cannot determine the main process; supervising its processes only.");
        unit_log(u, LOG_WARNING, msg);
        return r;
    }
    /* systemd's service_is_suitable_main_pid(): never ourselves, never a process that is gone.
     * (A pid outside the unit is accepted: without cgroups we cannot tell who owns it.) */
    if (pid == getpid() || (kill(pid, 0) < 0 && errno == ESRCH)) {
        if (pid == getpid())
            snprintf(msg, sizeof(msg), "New main PID %d is the manager itself, refusing.",
                     (int)pid);
        else
            snprintf(msg, sizeof(msg), "New main PID %d does not exist or is a zombie.", (int)pid);
        if (warn)
            unit_log(u, LOG_WARNING, msg);
        return pid == getpid() ? -EPERM : -ESRCH;
    }
    r = watch_main_pid(u, pid);
    if (r < 0)
        return r;
    *ret_pid = pid;
    return 0;
}

/* PIDFile= awaited (systemd's service_demand_pid_file()): inotify on its directory, through
 * uv_fs_event, tells when it may have been written; where the directory cannot be watched (it
 * does not exist yet), the file is polled instead. Freed by its close callback, so a unit
 * freed meanwhile only has to let go of it. */
struct pid_file_watch {
    union {
        uv_handle_t handle;
        uv_fs_event_t event;
        uv_fs_poll_t poll;
    } h;
    struct unit *unit; /* NULL once the unit let go of it */
    char *name;        /* the file's name in the watched directory */
};

#define PID_FILE_POLL_MS 100

static void pid_file_watch_closed(uv_handle_t *h)
{
    struct pid_file_watch *w = h->data;

    free(w->name);
    free(w);
}

static void pid_file_watch_stop(struct unit *u)
{
    struct pid_file_watch *w = u->pid_file_watch;

    if (!w)
        return;
    u->pid_file_watch = NULL;
    w->unit = NULL;
    uv_close(&w->h.handle, pid_file_watch_closed);
}

static void on_pid_file_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    struct pid_file_watch *w = h->data;

    (void)events;
    if (!w->unit || status < 0 || (filename && strcmp(filename, w->name) != 0))
        return;
    service_pid_file_changed(&w->unit->service);
}

static void on_pid_file_poll(uv_fs_poll_t *h, int status, const uv_stat_t *prev,
                             const uv_stat_t *curr)
{
    struct pid_file_watch *w = h->data;

    (void)prev;
    (void)curr;
    if (w->unit && status == 0)
        service_pid_file_changed(&w->unit->service);
}

static struct pid_file_watch *pid_file_watch_new(struct unit *u, const char *name)
{
    struct pid_file_watch *w = calloc(1, sizeof(*w));

    if (w && !(w->name = strdup(name))) {
        free(w);
        return NULL;
    }
    if (w) {
        w->unit = u;
        w->h.handle.data = w;
    }
    return w;
}

static void op_watch_pid_file(void *ud, bool on)
{
    struct unit *u = ud;
    const char *path = u->config ? u->config->pid_file : NULL;
    const char *slash = path ? strrchr(path, '/') : NULL;
    struct pid_file_watch *w;
    char dir[PATH_MAX];

    pid_file_watch_stop(u);
    if (!on || !slash)
        return;
    snprintf(dir, sizeof(dir), "%.*s", slash > path ? (int)(slash - path) : 1, path);
    w = pid_file_watch_new(u, slash + 1);
    if (w && uv_fs_event_init(u->m->loop, &w->h.event) == 0) {
        if (uv_fs_event_start(&w->h.event, on_pid_file_event, dir, 0) == 0) {
            u->pid_file_watch = w;
            return;
        }
        w->unit = NULL;
        uv_close(&w->h.handle, pid_file_watch_closed);
        w = pid_file_watch_new(u, slash + 1);
    }
    /* The directory is not there yet (or inotify is out of watches): poll the file. */
    if (w && uv_fs_poll_init(u->m->loop, &w->h.poll) == 0) {
        if (uv_fs_poll_start(&w->h.poll, on_pid_file_poll, path, PID_FILE_POLL_MS) == 0) {
            log_debug("%s: cannot watch %s; polling %s every %d ms", u->name, dir, path,
                      PID_FILE_POLL_MS);
            u->pid_file_watch = w;
            return;
        }
        w->unit = NULL;
        uv_close(&w->h.handle, pid_file_watch_closed);
        w = NULL;
    }
    if (w) {
        free(w->name);
        free(w);
    }
    unit_log(u, LOG_WARNING, "Cannot watch the PID file; waiting for the start timeout.");
}

/* Status names the process actually tracked, not the command that started it. */
static void set_main_command(struct unit *u, pid_t pid)
{
    char comm[64];

    proc_comm(pid, comm, sizeof(comm));
    if (strcmp(comm, "?") == 0)
        return;
    free(u->main_command);
    u->main_command = strdup(comm);
}

static const struct service_ops real_ops = {
    .spawn = op_spawn,
    .kill = op_kill,
    .group_alive = op_group_alive,
    .find_main_pid = op_find_main_pid,
    .watch_pid_file = op_watch_pid_file,
    .timer_arm = op_timer_arm,
    .timer_cancel = op_timer_cancel,
    .now = op_now,
    .log = op_log,
    .state_changed = op_state_changed,
};

/* ---- jobs ----
 *
 * A job is what a client (or a dependency) asked of a unit: start, stop, restart or reload.
 * Each unit has at most one pending job. Jobs are installed together with the jobs their
 * dependencies imply (systemd.unit(5)): a start pulls in Requires=, Wants=, BindsTo= and checks
 * Requisite=; a stop propagates to units that Require=, BindTo= or are PartOf= it; Conflicts=
 * turns a start into stops of the other side. After=/Before= only order jobs that exist: a
 * start waits for the starts of the units it comes after, a stop for the stops of the units
 * that come after it. A job runs once nothing orders it later; when it ends, its waiters hear
 * the result and the dispatcher looks for the next runnable jobs.
 */

static void waiter_unlink(struct job_waiter *w)
{
    if (!w->unit)
        return;
    for (struct job_waiter **p = &w->unit->waiters; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    w->unit = NULL;
    w->next = NULL;
}

static void waiter_finish(struct job_waiter *w, const char *result)
{
    waiter_unlink(w);
    w->cb(w, result);
}

static void maybe_shutdown_done(struct manager *m);
static void dispatch(struct manager *m);

static const char *describe_unit(const struct unit *u)
{
    return u->config && u->config->description && *u->config->description ? u->config->description
                                                                          : u->name;
}

/* Targets are not loaded as units: every *.target counts as reached (DESIGN: WantedBy=
 * multi-user.target means "at start-up"). */
static bool is_target(const char *name)
{
    size_t n = strlen(name);
    return n > 7 && strcmp(name + n - 7, ".target") == 0;
}

static bool unit_active(const struct unit *u)
{
    return u->config && service_is_active(&u->service);
}

static bool strv_has(char *const *l, const char *s)
{
    for (; l && *l; l++)
        if (strcmp(*l, s) == 0)
            return true;
    return false;
}

/* Ends u's job: waiters hear `result`; a failed start fails the starts that require it. */
static void job_finish(struct unit *u, const char *result)
{
    struct manager *m = u->m;
    bool failed = strcmp(result, "done") != 0;
    enum job_type type = u->job;

    if (u->job == JOB_NONE)
        return;
    uv_timer_stop(&u->job_timer);
    u->job = JOB_NONE;
    u->job_running = false;
    u->job_waits_down = false;
    u->restart_phase_stop = false;
    while (u->waiters)
        waiter_finish(u->waiters, result);

    if (failed && (type == JOB_START || type == JOB_RESTART)) {
        for (size_t i = 0; i < m->n_units; i++) {
            struct unit *d = m->units[i];
            if ((d->job != JOB_START && d->job != JOB_RESTART) || !d->config || d->job_running)
                continue;
            if (strv_has(d->config->requires, u->name) || strv_has(d->config->binds_to, u->name) ||
                strv_has(d->config->requisite, u->name)) {
                char msg[300];
                snprintf(msg, sizeof(msg), "Dependency failed for %s.", describe_unit(d));
                unit_log(d, LOG_WARNING, msg);
                job_finish(d, "dependency");
            }
        }
    }
}

static const char *job_type_name(enum job_type t)
{
    static const char *const names[] = {[JOB_START] = "start",
                                        [JOB_STOP] = "stop",
                                        [JOB_RESTART] = "restart",
                                        [JOB_RELOAD] = "reload"};

    return t >= 0 && (size_t)t < sizeof(names) / sizeof(names[0]) && names[t] ? names[t] : "none";
}

/* JobTimeoutSec= ran out: the job is cancelled with result "timeout", and the unit is left in
 * whatever state it is in, as systemd.unit(5) says. */
static void on_job_timer(uv_timer_t *t)
{
    struct unit *u = t->data;
    char msg[300];

    if (u->job == JOB_NONE)
        return;
    snprintf(msg, sizeof(msg), "Job %s/%s timed out.", u->name, job_type_name(u->job));
    unit_log(u, LOG_WARNING, msg);
    job_finish(u, "timeout");
    dispatch(u->m);
}

/* Arms the job timer to fire after usec, unless it is infinity or a sooner deadline is set. */
static void job_timer_arm(struct unit *u, uint64_t usec)
{
    uint64_t ms, due;

    if (usec == USEC_INFINITY)
        return;
    ms = (usec + 999) / 1000;
    due = uv_now(u->m->loop) + ms;
    if (uv_is_active((uv_handle_t *)&u->job_timer) &&
        uv_timer_get_due_in(&u->job_timer) + uv_now(u->m->loop) <= due)
        return;
    uv_timer_start(&u->job_timer, on_job_timer, ms, 0);
}

/* Is `a` ordered after `b` (a After=b, or b Before=a)? */
static bool ordered_after(const struct unit *a, const struct unit *b)
{
    return (a->config && strv_has(a->config->after, b->name)) ||
           (b->config && strv_has(b->config->before, a->name));
}

static bool is_start_job(enum job_type t)
{
    return t == JOB_START || t == JOB_RESTART || t == JOB_RELOAD;
}

/* May u's pending job run now, or must it wait for a job ordered before it? */
/* Marks the units that some ordering names, so that job_runnable() skips the others at once:
 * 1000 unordered units would otherwise cost a million checks per dispatch. */
static struct unit *find_exact(struct manager *m, const char *name);

static void order_refresh(struct manager *m)
{
    for (size_t i = 0; i < m->n_units; i++)
        m->units[i]->has_order = false;
    for (size_t i = 0; i < m->n_units; i++) {
        struct unit *u = m->units[i];
        for (int k = 0; u->config && k < 2; k++)
            for (char **n = k ? u->config->before : u->config->after; n && *n; n++) {
                struct unit *o = find_exact(m, *n);
                if (o && o != u)
                    u->has_order = o->has_order = true;
            }
    }
    m->order_dirty = false;
}

static bool job_runnable(struct manager *m, struct unit *u)
{
    if (m->order_dirty)
        order_refresh(m);
    if (u->ignore_order || !u->has_order)
        return true;
    for (size_t i = 0; i < m->n_units; i++) {
        struct unit *o = m->units[i];
        if (o == u || o->job == JOB_NONE)
            continue;
        if (u->job == JOB_STOP) {
            /* Stops run in reverse order: units after us stop first. */
            if (o->job == JOB_STOP && ordered_after(o, u))
                return false;
        } else if (is_start_job(u->job)) {
            if (is_start_job(o->job) && ordered_after(u, o))
                return false;
            /* A unit being stopped that we come after, or that comes after us, goes first. */
            if (o->job == JOB_STOP && (ordered_after(u, o) || ordered_after(o, u)))
                return false;
        }
    }
    return true;
}

/* Condition*= and Assert*= at a start, as systemd's unit_start() checks them: an unmet
 * condition ends the job "done" and leaves the unit as it is (skipped); a failed assertion
 * fails the job with result "assert". Returns whether the start may go on. */
static bool start_conditions_met(struct unit *u)
{
    const struct unit_config *c = u->config;
    const struct condition *failed;
    char what[280], msg[600];

    if (!c)
        return true;
    /* Checked, and stamped, at every start, as systemd does, even with nothing to check. */
    u->condition = dual_now();
    u->condition_result = condition_list_test(c->conditions, c->n_conditions, false, &failed);
    u->failed_condition[0] = '\0';
    if (!u->condition_result) {
        if (failed) {
            condition_format(failed, what, sizeof(what));
            snprintf(u->failed_condition, sizeof(u->failed_condition), "%s", what);
            snprintf(msg, sizeof(msg), "%s was skipped because of an unmet condition check (%s).",
                     describe_unit(u), what);
        } else {
            snprintf(msg, sizeof(msg),
                     "%s was skipped because no trigger condition checks were met.",
                     describe_unit(u));
        }
        unit_log(u, LOG_INFO, msg);
        job_finish(u, "done");
        return false;
    }
    u->assert = u->condition;
    u->assert_result = condition_list_test(c->conditions, c->n_conditions, true, &failed);
    u->failed_assert[0] = '\0';
    if (!u->assert_result) {
        if (failed) {
            condition_format(failed, what, sizeof(what));
            snprintf(u->failed_assert, sizeof(u->failed_assert), "%s", what);
            snprintf(msg, sizeof(msg), "Assertion failed for %s (%s).", describe_unit(u), what);
        } else {
            snprintf(msg, sizeof(msg), "Assertion failed for %s (no trigger assertion held).",
                     describe_unit(u));
        }
        unit_log(u, LOG_WARNING, msg);
        job_finish(u, "assert");
        return false;
    }
    return true;
}

/* Runs u's job. Returns true when it finished at once. */
static void job_run(struct unit *u)
{
    struct service *s = &u->service;
    int r;

    u->job_running = true;
    if (u->config && !u->job_waits_down)
        job_timer_arm(u, u->config->job_running_timeout_usec);
    if (u->job == JOB_START || u->job == JOB_RESTART)
        apply_pending_config(u);
    if (is_socket(u)) {
        /* Listening is immediate: socket jobs finish here. */
        if (u->job == JOB_STOP || u->job == JOB_RESTART)
            sock_stop(u);
        if (u->job == JOB_START || u->job == JOB_RESTART)
            job_finish(u, sock_start(u) < 0 ? "failed" : "done");
        else
            job_finish(u, "done");
        return;
    }
    switch (u->job) {
    case JOB_START:
        if (u->config)
            for (char **n = u->config->requisite; n && *n; n++) {
                struct unit *d = manager_find(u->m, *n);
                if (is_target(*n) || (d && unit_active(d)))
                    continue;
                unit_log(u, LOG_WARNING, "Requisite dependency is not active; not starting.");
                job_finish(u, "dependency");
                return;
            }
        if (service_is_inactive(s) && !u->job_waits_down && !start_conditions_met(u))
            return;
        r = service_start(s);
        /* -EAGAIN (auto-restart): the job stays running; the restart timer's start ends it,
         * "done" once active or "failed" if that attempt fails too (jobs_check). */
        if (r == -EBUSY) {
            /* Stopping: the job stays in progress and runs again once the unit is down
             * (jobs_check), as systemd queues a start behind a running stop. */
            u->job_waits_down = true;
            return;
        }
        if (r == -EALREADY && service_is_active(s))
            job_finish(u, "done");
        else if (r == -ECANCELED)
            job_finish(u, "failed");
        return;
    case JOB_STOP:
        r = service_stop(s);
        if (r == -EALREADY && service_is_inactive(s))
            job_finish(u, "done");
        return;
    case JOB_RESTART:
        /* In auto-restart the stop half cancels the pending restart (dead at once) and
         * jobs_check starts the unit without waiting RestartSec=. */
        if (service_is_inactive(s)) {
            u->restart_phase_stop = false;
            r = service_start(s);
            if (r == -ECANCELED)
                job_finish(u, "failed");
            else if (r == -EALREADY && service_is_active(s))
                job_finish(u, "done");
            return;
        }
        u->restart_phase_stop = true;
        r = service_stop_for_restart(s);
        if (r == -EALREADY && service_is_inactive(s)) {
            u->restart_phase_stop = false;
            apply_pending_config(u);
            service_start(s);
        }
        return;
    case JOB_RELOAD:
        r = service_reload(s);
        if (r != 0)
            job_finish(u, r > 0 ? "done" : "failed");
        return;
    default:
        return;
    }
}

/* Logs an ordering cycle the way systemd does and lets the unit that closes it run anyway, so
 * the daemon never waits forever. */
static bool break_cycle(struct manager *m)
{
    for (size_t i = 0; i < m->n_units; i++) {
        struct unit *u = m->units[i];
        if (u->job == JOB_NONE || u->job_running)
            continue;
        /* Follow "waits for" edges from u; coming back to u is a cycle. */
        struct unit *path[64];
        size_t n = 0;
        struct unit *cur = u;
        while (n < 64) {
            struct unit *next = NULL;
            for (size_t k = 0; k < m->n_units && !next; k++) {
                struct unit *o = m->units[k];
                if (o == cur || o->job == JOB_NONE)
                    continue;
                bool waits = cur->job == JOB_STOP ? (o->job == JOB_STOP && ordered_after(o, cur))
                                                  : (is_start_job(o->job) && ordered_after(cur, o));
                if (waits)
                    next = o;
            }
            if (!next)
                break;
            path[n++] = next;
            if (next == u) {
                const char *verb = u->job == JOB_STOP ? "stop" : "start";
                log_warning("%s: Found ordering cycle on %s/%s", u->name, path[0]->name, verb);
                for (size_t k = 1; k < n; k++)
                    log_warning("%s: Found dependency on %s/%s", u->name, path[k]->name, verb);
                log_warning("%s: Job %s/%s ignores its ordering to break the ordering cycle "
                            "starting with %s/%s",
                            u->name, u->name, verb, u->name, verb);
                unit_log(u, LOG_WARNING, "Found ordering cycle; ignoring ordering to break it.");
                u->ignore_order = true;
                return true;
            }
            cur = next;
        }
    }
    return false;
}

static void dispatch(struct manager *m)
{
    bool progress;

    if (m->dispatching) {
        m->dispatch_again = true;
        return;
    }
    if (!m->jobs_waiting)
        return;
    m->dispatching = true;
    do {
        m->dispatch_again = false;
        progress = false;
        for (size_t i = 0; i < m->n_units; i++) {
            struct unit *u = m->units[i];
            if (u->job == JOB_NONE || u->job_running || !job_runnable(m, u))
                continue;
            job_run(u);
            progress = true;
        }
        if (!progress) {
            /* Pending jobs, none runnable, none running: only a cycle can do that. */
            bool pending = false, running = false;
            for (size_t i = 0; i < m->n_units; i++) {
                pending |= m->units[i]->job != JOB_NONE && !m->units[i]->job_running;
                running |= m->units[i]->job_running;
            }
            m->jobs_waiting = pending;
            if (pending && !running && break_cycle(m))
                progress = true;
        }
    } while (progress || m->dispatch_again);
    m->dispatching = false;
}

/* Installs a job on u (replacing a different pending one) and the jobs its dependencies imply. */
static void job_add(struct manager *m, struct unit *u, enum job_type type, unsigned depth);

static void job_add_named(struct manager *m, char *const *names, enum job_type type, bool required,
                          struct unit *from, unsigned depth)
{
    for (; names && *names; names++) {
        struct unit *d;
        if (is_target(*names))
            continue;
        d = manager_find(m, *names);
        /* A stop still reaches a unit that runs but no longer loads (job_add() says so). */
        if (!d || (d->load_state != LOAD_STATE_LOADED && (type != JOB_STOP || !d->config))) {
            if (required && type != JOB_STOP) {
                char msg[300];
                snprintf(msg, sizeof(msg), "Unit %s not found or not loaded; dependency fails.",
                         *names);
                unit_log(from, LOG_WARNING, msg);
                from->dependency_missing = true;
            }
            continue;
        }
        job_add(m, d, type, depth + 1);
    }
}

static void job_add(struct manager *m, struct unit *u, enum job_type type, unsigned depth)
{
    /* Dependency chains deeper than this are cycles of Requires= (which systemd allows). */
    if (depth > 32 || !u->config || (u->load_state != LOAD_STATE_LOADED && type != JOB_STOP))
        return;
    if (u->job == type)
        return; /* merged with the pending job of the same kind */
    if (u->job == JOB_RESTART && type == JOB_START && depth > 0)
        return; /* a pending restart starts the unit too (a try-restart needing its origin) */
    /* A dependency's running job is left alone, except by a stop: a stop that propagates
     * (PartOf=, Requires=, BindsTo=, Conflicts=) replaces a running start or restart, as a
     * stop job replaces conflicting jobs in systemd, so the unit does not stay up. */
    if (u->job != JOB_NONE && u->job_running && u->job != type && depth > 0 && type != JOB_STOP)
        return;
    if (u->job != JOB_NONE && u->job != type) {
        while (u->waiters)
            waiter_finish(u->waiters, "canceled");
    }
    if (depth > 0 && type == JOB_START && service_is_active(&u->service))
        return; /* an active dependency needs nothing */
    if (depth > 0 && type == JOB_STOP && service_is_inactive(&u->service))
        return;
    u->job = type;
    u->job_running = false;
    m->jobs_waiting = true;
    u->job_waits_down = false;
    u->ignore_order = false;
    u->dependency_missing = false;
    uv_timer_stop(&u->job_timer);
    if (u->config)
        job_timer_arm(u, u->config->job_timeout_usec);

    const struct unit_config *c = u->config;
    if (type == JOB_START || type == JOB_RESTART) {
        job_add_named(m, c->requires, JOB_START, true, u, depth);
        job_add_named(m, c->binds_to, JOB_START, true, u, depth);
        job_add_named(m, c->wants, JOB_START, false, u, depth);
        job_add_named(m, c->conflicts, JOB_STOP, false, u, depth);
        /* Conflicts= works both ways. */
        for (size_t i = 0; i < m->n_units; i++) {
            struct unit *o = m->units[i];
            if (o != u && o->config && strv_has(o->config->conflicts, u->name))
                job_add(m, o, JOB_STOP, depth + 1);
        }
    }
    if (type == JOB_STOP || type == JOB_RESTART) {
        /* Units that need us go down (or restart, for PartOf=) with us. */
        for (size_t i = 0; i < m->n_units; i++) {
            struct unit *o = m->units[i];
            if (o == u || !o->config)
                continue;
            /* systemd.unit(5): Requires=, BindsTo= and PartOf= units are "stopped (or
             * restarted)" with the unit, and so are Requisite= ones (systemd gives
             * RequisiteOf= the same propagate-stop and propagate-restart atoms as
             * RequiredBy=); a restart reaches them as try-restart, so one that is not running
             * stays down. */
            bool needs =
                strv_has(o->config->part_of, u->name) || strv_has(o->config->requires, u->name) ||
                strv_has(o->config->requisite, u->name) || strv_has(o->config->binds_to, u->name);
            if (!needs)
                continue;
            if (type == JOB_STOP)
                job_add(m, o, JOB_STOP, depth + 1);
            else if (unit_active(o))
                job_add(m, o, JOB_RESTART, depth + 1);
        }
    }
}

/* Decides which job the new state finishes. */
static void jobs_check(struct unit *u, enum service_state now)
{
    struct manager *m = u->m;
    bool inactive = now == SERVICE_STATE_DEAD || now == SERVICE_STATE_FAILED;
    bool active = now == SERVICE_STATE_RUNNING || now == SERVICE_STATE_EXITED;
    const char *result = NULL;

    switch (u->job) {
    case JOB_START:
    case JOB_RESTART:
        if (u->job_waits_down) {
            if (inactive) {
                /* Down now: dispatch() below runs the start afresh. */
                u->job_waits_down = false;
                u->job_running = false;
                m->jobs_waiting = true;
            }
            break;
        }
        if (u->job == JOB_RESTART && u->restart_phase_stop) {
            if (inactive) {
                /* The stop half of a restart is over: start again (the start limit applies),
                 * with the configuration a reload may have read meanwhile. */
                u->restart_phase_stop = false;
                apply_pending_config(u);
                if (!start_conditions_met(u))
                    break; /* the job is over: skipped, or failed on an assertion */
                int r = service_start(&u->service);
                if (r == -ECANCELED)
                    result = "failed";
            }
            break;
        }
        if (!u->job_running)
            break;
        if (active)
            result = "done";
        else if (now == SERVICE_STATE_DEAD)
            result = u->service.result == SERVICE_RESULT_SUCCESS ? "done" : "failed";
        else if (now == SERVICE_STATE_FAILED || now == SERVICE_STATE_AUTO_RESTART)
            result = "failed";
        break;
    case JOB_STOP:
        if (inactive)
            result = "done";
        break;
    case JOB_RELOAD:
        /* An ExecReload= that failed fails the job; the unit runs on (systemd's reload
         * result). */
        if (active)
            result = u->service.reload_failed ? "failed" : "done";
        else if (inactive || now == SERVICE_STATE_AUTO_RESTART)
            result = "failed";
        break;
    default:
        break;
    }
    if (result)
        job_finish(u, result);

    /* BindsTo=: a unit whose bound unit went down goes down too, whoever stopped it. */
    if (inactive && !m->shutting_down) {
        for (size_t i = 0; i < m->n_units; i++) {
            struct unit *o = m->units[i];
            if (o != u && o->config && strv_has(o->config->binds_to, u->name) && unit_active(o) &&
                o->job == JOB_NONE)
                job_add(m, o, JOB_STOP, 1);
        }
    }
    dispatch(m);
    if (m->shutting_down && inactive)
        maybe_shutdown_done(m);
}

/* Jobs whose required units do not exist fail "dependency", as systemd's do. */
static void fail_missing_dependencies(struct manager *m)
{
    for (size_t i = 0; i < m->n_units; i++) {
        struct unit *u = m->units[i];
        if (u->dependency_missing && u->job != JOB_NONE) {
            char msg[300];
            u->dependency_missing = false;
            snprintf(msg, sizeof(msg), "Dependency failed for %s.", describe_unit(u));
            unit_log(u, LOG_WARNING, msg);
            job_finish(u, "dependency");
        }
    }
}

int manager_job(struct manager *m, struct unit *u, enum job_type type, struct job_waiter *w)
{
    struct service *s = &u->service;

    if (m->shutting_down && type != JOB_STOP)
        return -ESHUTDOWN;
    /* A unit removed from disk can still be stopped, nothing else. */
    if (!u->config || (u->load_state != LOAD_STATE_LOADED && type != JOB_STOP))
        return -EPERM;
    if (type == JOB_RELOAD) {
        /* Refused up front, so the client hears why: not active, or no ExecReload=. */
        if (is_socket(u))
            return -EOPNOTSUPP;
        if (!service_is_active(s))
            return -ENOTCONN;
        if (s->config->exec_reload.n == 0)
            return -EOPNOTSUPP;
    }
    job_add(m, u, type, 0);
    if (w) {
        w->type = type;
        w->unit = u;
        w->next = u->waiters;
        u->waiters = w;
    }
    /* Missing required dependencies fail the jobs that needed them, once waiters are on. */
    fail_missing_dependencies(m);
    dispatch(m);
    return 0;
}

void manager_reset_failed(struct manager *m, struct unit *u)
{
    if (u->config)
        service_reset_failed(&u->service);
}

int manager_kill(struct manager *m, struct unit *u, int signo, enum kill_whom whom, bool fail)
{
    struct service *s = &u->service;
    bool any = false;

    if (whom == KILL_WHOM_MAIN && (!u->config || s->main_pid <= 0))
        return -ENOENT;
    if (whom == KILL_WHOM_CONTROL && (!u->config || s->control_pid <= 0))
        return -ENOENT;
    if (!u->config)
        return fail ? -ESRCH : 0;
    if (whom != KILL_WHOM_CONTROL && s->main_pid > 0 && op_kill(u, s->main_pid, signo, false) == 0)
        any = true;
    if (whom != KILL_WHOM_MAIN && s->control_pid > 0 &&
        op_kill(u, s->control_pid, signo, false) == 0)
        any = true;
    if (whom == KILL_WHOM_ALL) {
        for (size_t i = 0; i < s->n_groups; i++)
            if (proc_kill(-1, s->groups[i], signo, true) == 0)
                any = true;
        /* Also what left the groups, as a stop reaches it (systemd signals the whole
         * cgroup). */
        if (proc_signal_escaped(u->invocation, s->groups, s->n_groups, signo, pid_is_tracked, m) >
            0)
            any = true;
    }
    return any || !fail ? 0 : -ESRCH;
}

void *manager_watch(struct manager *m, manager_watch_cb cb, void *userdata, bool at_change)
{
    struct watcher *w = calloc(1, sizeof(*w));

    if (!w)
        return NULL;
    w->cb = cb;
    w->userdata = userdata;
    w->at_change = at_change;
    w->next = m->watchers;
    m->watchers = w;
    return w;
}

void manager_unwatch(struct manager *m, void *handle)
{
    for (struct watcher **p = &m->watchers; *p; p = &(*p)->next) {
        if (*p == handle) {
            struct watcher *w = *p;
            *p = w->next;
            free(w);
            return;
        }
    }
}

int unit_exit_code(const struct unit *u)
{
    const struct service *s = &u->service;

    if (!u->config)
        return 1;
    if (s->main_exited)
        return s->main_exit.code == CLD_EXITED ? s->main_exit.status : 128 + s->main_exit.status;
    return s->result == SERVICE_RESULT_SUCCESS ? 0 : 1;
}

void manager_job_cancel(struct job_waiter *w)
{
    waiter_unlink(w);
}

/* ---- units ---- */

static void on_handle_closed(uv_handle_t *h)
{
    struct unit *u = h->data;

    /* Three handles per unit: the last close frees it. */
    if (h == (uv_handle_t *)&u->timer)
        u->timer.data = NULL;
    else if (h == (uv_handle_t *)&u->drain_timer)
        u->drain_timer.data = NULL;
    else
        u->job_timer.data = NULL;
    if (u->timer.data || u->drain_timer.data || u->job_timer.data)
        return;
    free(u);
}

static struct unit *unit_new(struct manager *m, const char *name, const char *path)
{
    struct unit *u = calloc(1, sizeof(*u));

    if (!u)
        return NULL;
    u->m = m;
    u->name = strdup(name);
    u->path = strdup(path);
    if (!u->name || !u->path) {
        free(u->name);
        free(u->path);
        free(u);
        return NULL;
    }
    uv_timer_init(m->loop, &u->timer);
    uv_timer_init(m->loop, &u->drain_timer);
    uv_timer_init(m->loop, &u->job_timer);
    u->timer.data = u;
    u->drain_timer.data = u;
    u->job_timer.data = u;
    u->job = JOB_NONE;
    u->load_state = LOAD_STATE_NOT_FOUND; /* until a file loads */
    u->conn_fd = -1;
    u->sock_result = "success";
    return u;
}

static void unit_free(struct unit *u)
{
    while (u->waiters)
        waiter_finish(u->waiters, "canceled");
    for (int i = 0; i < 2; i++) {
        if (u->runs[i]) {
            run_untrack(u->runs[i]);
            u->runs[i]->unit = NULL;
            run_unref(u->runs[i]);
            u->runs[i] = NULL;
        }
    }
    if (u->n_listeners)
        sock_close_all(u, false);
    if (u->conn_fd >= 0)
        close(u->conn_fd);
    unit_config_free(u->config);
    unit_config_free(u->pending_config);
    free(u->status_text);
    free(u->name);
    free(u->path);
    free(u->load_error);
    free(u->dropins_version);
    free(u->main_command);
    free(u->exec_slots);
    pid_file_watch_stop(u);
    uv_close((uv_handle_t *)&u->timer, on_handle_closed);
    uv_close((uv_handle_t *)&u->drain_timer, on_handle_closed);
    uv_close((uv_handle_t *)&u->job_timer, on_handle_closed);
}

/* May sender speak for u under its NotifyAccess= (main, systemd's default, lets only the main
 * process)? The pid comes from the kernel. */
static bool notify_allowed(const struct unit *u, pid_t sender)
{
    const struct service *s = &u->service;

    switch (u->config->notify_access) {
    case NOTIFY_ACCESS_MAIN:
        return sender == s->main_pid;
    case NOTIFY_ACCESS_EXEC:
        return sender == s->main_pid || sender == s->control_pid;
    case NOTIFY_ACCESS_ALL: {
        /* Any process of the unit: its process groups stand in for systemd's cgroup. */
        pid_t pgid = getpgid(sender);
        if (sender == s->main_pid || sender == s->control_pid)
            return true;
        for (size_t i = 0; i < s->n_groups; i++)
            if (pgid == s->groups[i])
                return true;
        return false;
    }
    case NOTIFY_ACCESS_NONE:
    default:
        return false;
    }
}

/* The running unit sender belongs to (its main or control process, or one of its process
 * groups), whatever its NotifyAccess= says; NULL when none. */
static struct unit *notify_owner(struct manager *m, pid_t sender)
{
    pid_t pgid = getpgid(sender);

    for (size_t i = 0; i < m->n_units; i++) {
        struct unit *u = m->units[i];
        const struct service *s = &u->service;

        if (!u->config || service_is_inactive(s))
            continue;
        if (sender == s->main_pid || sender == s->control_pid)
            return u;
        for (size_t g = 0; pgid > 0 && g < s->n_groups; g++)
            if (pgid == s->groups[g])
                return u;
    }
    return NULL;
}

/* A refused notification is a warning in u's log, worded as systemd's
 * service_notify_message_authorized() words it. (systemd logs only NotifyAccess=none at warning
 * level, main and exec at debug; we warn for all three, since a notification that is lost
 * silently is what makes a Type=notify start time out.) A process that floods the socket must
 * not flood the log: at most NOTIFY_REFUSED_BURST lines per unit per NOTIFY_REFUSED_WINDOW_MS,
 * and the number left out is told with the first line of a later window. */
#define NOTIFY_REFUSED_BURST 5
#define NOTIFY_REFUSED_WINDOW_MS 10000

static void notify_refused(struct unit *u, pid_t sender)
{
    const struct service *s = &u->service;
    uint64_t now = uv_now(u->m->loop);
    char msg[300];
    int n;

    if (u->refused_logged == 0 || now - u->refused_window_ms >= NOTIFY_REFUSED_WINDOW_MS) {
        u->refused_window_ms = now;
        u->refused_logged = 0;
    }
    if (u->refused_logged >= NOTIFY_REFUSED_BURST) {
        u->refused_suppressed++;
        return;
    }
    u->refused_logged++;
    n = snprintf(msg, sizeof(msg), "Got notification message from PID %d, but ", (int)sender);
    switch (u->config->notify_access) {
    case NOTIFY_ACCESS_MAIN:
        if (s->main_pid > 0)
            snprintf(msg + n, sizeof(msg) - (size_t)n, "reception only permitted for main PID %d",
                     (int)s->main_pid);
        else
            snprintf(msg + n, sizeof(msg) - (size_t)n,
                     "reception only permitted for main PID which is currently not known");
        break;
    case NOTIFY_ACCESS_EXEC:
        if (s->main_pid > 0 && s->control_pid > 0)
            snprintf(msg + n, sizeof(msg) - (size_t)n,
                     "reception only permitted for main PID %d and control PID %d",
                     (int)s->main_pid, (int)s->control_pid);
        else if (s->main_pid > 0)
            snprintf(msg + n, sizeof(msg) - (size_t)n, "reception only permitted for main PID %d",
                     (int)s->main_pid);
        else if (s->control_pid > 0)
            snprintf(msg + n, sizeof(msg) - (size_t)n,
                     "reception only permitted for control PID %d", (int)s->control_pid);
        else
            snprintf(msg + n, sizeof(msg) - (size_t)n,
                     "reception only permitted for main PID and control PID which are "
                     "currently not known");
        break;
    case NOTIFY_ACCESS_NONE:
    default:
        snprintf(msg + n, sizeof(msg) - (size_t)n, "reception is disabled");
        break;
    }
    if (u->refused_suppressed > 0) {
        size_t used = strlen(msg);

        snprintf(msg + used, sizeof(msg) - used, " (%u more were not logged)",
                 u->refused_suppressed);
        u->refused_suppressed = 0;
    }
    unit_log(u, LOG_WARNING, msg);
}

/* sd_notify messages, attributed by the sender's kernel-given pid and NotifyAccess=. */
static void on_notify(pid_t sender, const char *msg, size_t len, void *userdata)
{
    struct manager *m = userdata;
    struct unit *u = NULL;
    const char *v;
    size_t vlen;
    char num[32];

    for (size_t i = 0; i < m->n_units && !u; i++)
        if (m->units[i]->config && !service_is_inactive(&m->units[i]->service) &&
            notify_allowed(m->units[i], sender))
            u = m->units[i];
    if (!u) {
        u = notify_owner(m, sender);
        if (u)
            notify_refused(u, sender);
        else
            log_debug("Ignoring notification from pid %d: it belongs to no running unit.",
                      (int)sender);
        return;
    }
    v = notify_message_get(msg, len, "STATUS", &vlen);
    if (v) {
        free(u->status_text);
        u->status_text = strndup(v, vlen);
    }
    v = notify_message_get(msg, len, "ERRNO", &vlen);
    if (v) {
        char *end;
        long e;

        snprintf(num, sizeof(num), "%.*s", (int)(vlen < 15 ? vlen : 15), v);
        errno = 0;
        e = strtol(num, &end, 10);
        /* systemd's parse_errno(): 0..4095, anything else is ignored with a warning. */
        if (errno == 0 && end != num && *end == '\0' && e >= 0 && e <= 4095)
            u->status_errno = (int)e;
        else
            unit_log(u, LOG_WARNING,
                     "Failed to parse ERRNO= field value in notification message, ignoring.");
    }
    v = notify_message_get(msg, len, "MAINPID", &vlen);
    if (v) {
        snprintf(num, sizeof(num), "%.*s", (int)(vlen < 15 ? vlen : 15), v);
        long pid = strtol(num, NULL, 10);
        if (pid > 1 && pid != u->service.main_pid && watch_main_pid(u, (pid_t)pid) >= 0)
            service_set_main_pid(&u->service, (pid_t)pid);
    }
    v = notify_message_get(msg, len, "EXTEND_TIMEOUT_USEC", &vlen);
    if (v) {
        snprintf(num, sizeof(num), "%.*s", (int)(vlen < 20 ? vlen : 20), v);
        unsigned long long usec = strtoull(num, NULL, 10);
        if (usec > 0)
            service_extend_timeout(&u->service, usec);
    }
    v = notify_message_get(msg, len, "WATCHDOG", &vlen);
    if (v && vlen == 1 && *v == '1')
        service_watchdog_ping(&u->service);
    else if (v && vlen == 7 && memcmp(v, "trigger", 7) == 0)
        service_watchdog_trigger(&u->service, u->status_text);
    else if (v)
        unit_log(u, LOG_WARNING, "Passed WATCHDOG= field is invalid, ignoring.");
    v = notify_message_get(msg, len, "WATCHDOG_USEC", &vlen);
    if (v) {
        char *end;
        unsigned long long usec;

        snprintf(num, sizeof(num), "%.*s", (int)(vlen < 25 ? vlen : 25), v);
        errno = 0;
        usec = strtoull(num, &end, 10);
        /* systemd's safe_atou64(): digits only, no sign, no overflow. */
        if (vlen <= 20 && errno == 0 && end != num && *end == '\0' && num[0] >= '0' &&
            num[0] <= '9')
            service_watchdog_override(&u->service, usec);
        else {
            char line[64];

            snprintf(line, sizeof(line), "Failed to parse WATCHDOG_USEC=%s", num);
            unit_log(u, LOG_WARNING, line);
        }
    }
    v = notify_message_get(msg, len, "STOPPING", &vlen);
    if (v && vlen == 1 && *v == '1') {
        unit_log(u, LOG_INFO, "Service is stopping (STOPPING=1).");
        service_notify_stopping(&u->service);
    }
    v = notify_message_get(msg, len, "RELOADING", &vlen);
    if (v && vlen == 1 && *v == '1')
        service_notify_reloading(&u->service);
    v = notify_message_get(msg, len, "READY", &vlen);
    if (v && vlen == 1 && *v == '1')
        service_notify_ready(&u->service);
}

int manager_new(uv_loop_t *loop, const struct manager_options *opts, struct journal *journal,
                struct manager **ret)
{
    struct manager *m = calloc(1, sizeof(*m));
    char *path;
    int r;

    if (!m)
        return -ENOMEM;
    m->loop = loop;
    m->opts = *opts;
    m->journal = journal;
    uv_timer_init(loop, &m->shutdown_timer);
    m->shutdown_timer.data = m;
    uv_timer_init(loop, &m->gc_timer);
    m->gc_timer.data = m;
    uv_idle_init(loop, &m->record_idle);
    m->record_idle.data = m;
    if (process_record_new(opts->runtime_dir, &m->record) < 0)
        log_warning("Out of memory; no process record is kept.");
    path = path_join(opts->runtime_dir, "notify.sock");
    r = path ? notify_new(loop, path, on_notify, m, &m->notify) : -ENOMEM;
    if (r < 0)
        log_warning_errno(r,
                          "Failed to create the notify socket '%s'; Type=notify units will "
                          "time out",
                          path ? path : "");
    free(path);
    m->dir_watch = unit_dir_watch_new(loop, opts->unit_dir);
    *ret = m;
    return 0;
}

static int cmp_unit(const void *a, const void *b)
{
    return strcmp((*(struct unit *const *)a)->name, (*(struct unit *const *)b)->name);
}

static bool is_loadable_name(const char *name)
{
    enum unit_kind kind;

    if (unit_name_kind(name, &kind) < 0 || (kind != UNIT_KIND_SERVICE && kind != UNIT_KIND_SOCKET))
        return false;
    /* A template ("x@.service") is only a pattern for instances. */
    return strstr(name, "@.") == NULL;
}

/* Parses one unit file and its drop-ins and logs the diagnostics as "file:line: message". On
 * failure returns a negative errno with *ret_error set to the first error (owned by the
 * caller). */
static int load_file(struct manager *m, const char *name, const char *path, char *const *dropins,
                     struct unit_config **ret_config, char **ret_error)
{
    struct unit_load_context ctx = {
        .runtime_dir = m->opts.runtime_dir,
        .state_dir = m->opts.state_dir,
        .logs_dir = m->opts.log_dir,
    };
    struct unit_diags diags = {0};
    char *error = NULL;
    int r;

    r = unit_file_load_dropins(path, dropins, name, &ctx, ret_config, &diags);
    for (size_t k = 0; k < diags.n; k++) {
        const struct unit_diag *d = &diags.items[k];
        /* A masked unit is what someone asked for, not a fault of its file. */
        int level = r == -ERFKILL ? LOG_INFO : d->level == DIAG_ERROR ? LOG_ERR : LOG_WARNING;
        if (d->line)
            log_full(level, "%s:%u: %s", d->file, d->line, d->message);
        else
            log_full(level, "%s: %s", d->file, d->message);
        if (d->level == DIAG_ERROR && !error)
            error = strdup(d->message);
    }
    unit_diags_done(&diags);
    if (r < 0 && !error)
        error = strdup(strerror(-r));
    if (r < 0)
        *ret_error = error;
    else
        free(error);
    return r;
}

static struct unit *find_exact(struct manager *m, const char *name)
{
    for (size_t i = 0; i < m->n_units; i++)
        if (strcmp(m->units[i]->name, name) == 0)
            return m->units[i];
    return NULL;
}

static struct unit *add_unit(struct manager *m, const char *name, const char *path)
{
    struct unit **grown = realloc(m->units, (m->n_units + 1) * sizeof(*grown));
    struct unit *u;

    if (!grown)
        return NULL;
    m->units = grown;
    u = unit_new(m, name, path);
    if (!u)
        return NULL;
    m->units[m->n_units++] = u;
    m->order_dirty = true;
    return u;
}

/* A unit that is not running takes a new configuration at once; a running one at its next
 * start (the running processes were started from the old one). */
static void apply_pending_config(struct unit *u)
{
    struct service *s = &u->service;
    bool first = u->config == NULL;

    if (!u->pending_config)
        return;
    if (!first && !service_is_inactive(s) && s->state != SERVICE_STATE_AUTO_RESTART)
        return;
    unit_config_free(u->config);
    u->config = u->pending_config;
    u->pending_config = NULL;
    /* The statuses name commands of the old configuration. */
    free(u->exec_slots);
    u->exec_slots = NULL;
    u->n_exec_slots = 0;
    for (int i = 0; i < 2; i++)
        if (u->runs[i])
            u->runs[i]->cmd = NULL;
    u->m->order_dirty = true;
    u->changed_on_disk = false;
    u->load_state = LOAD_STATE_LOADED;
    u->kind = u->config->kind;
    if (first)
        service_init(s, u->config, &real_ops, u);
    else
        s->config = u->config; /* counters and history carry over */
    free(u->load_error);
    u->load_error = NULL;
}

/* Is the file the one read before, unchanged? The change time moves with every write, even
 * one that puts the old modification time back. */
static bool same_file_version(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void unit_set_path(struct unit *u, const char *path)
{
    char *p = strdup(path);

    if (p) {
        free(u->path);
        u->path = p;
    }
}

/* What same_file_version() compares, for a list of drop-ins: a line per file, so that a drop-in
 * added, removed, masked or changed makes a different string. NULL on out-of-memory. */
static char *dropins_version(char *const *dropins)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);

    if (!f)
        return NULL;
    for (size_t i = 0; dropins && dropins[i]; i++) {
        struct stat st;

        if (stat(dropins[i], &st) < 0) {
            fprintf(f, "%s -\n", dropins[i]);
            continue;
        }
        fprintf(f, "%s %ju %ju %jd %jd.%09ld %jd.%09ld\n", dropins[i], (uintmax_t)st.st_dev,
                (uintmax_t)st.st_ino, (intmax_t)st.st_size, (intmax_t)st.st_mtim.tv_sec,
                st.st_mtim.tv_nsec, (intmax_t)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static bool is_symlink(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

/* Records the unit file (at path) and drop-ins as they were when read (NeedDaemonReload
 * compares with them); takes *version. */
static void remember_files(struct unit *u, const char *path, const struct stat *file_st,
                           bool has_file_st, char *const *dropins, char **version)
{
    u->file_st = *file_st;
    u->has_file_st = has_file_st;
    free(u->dropins_version);
    u->dropins_version = *version;
    *version = NULL;
    /* A link's target may live outside the watched directories. */
    u->files_plain = !is_symlink(path);
    for (size_t i = 0; u->files_plain && dropins && dropins[i]; i++)
        u->files_plain = !is_symlink(dropins[i]);
    u->need_reload_gen = 0;
}

/* Reads u's configuration from path (its own file, or the template of an instance) and the
 * drop-ins of u's name: unchanged files change nothing, a changed file or drop-in (or one added
 * or removed) applies at once or at the next start. Files that no longer parse make the unit
 * bad-setting (or error), as systemd's reload does: nothing starts it until a reload reads
 * files that load, while a unit that runs keeps the configuration its processes were started
 * with, to stop them. An empty unit file or a link to /dev/null makes it masked the same way.
 * Either way the versions of the files read are kept for manager_unit_need_daemon_reload().
 * 0 (also for a masked unit, which no reload counts as failed), or the load's negative errno. */
static int unit_load_path(struct manager *m, struct unit *u, const char *path, bool reload)
{
    struct unit_config *config = NULL;
    char *error = NULL, **dropins = NULL, *version = NULL;
    struct stat file_st;
    /* Both versions are taken before reading: a write during the read shows at the next. */
    bool has_file_st = stat(path, &file_st) == 0;
    int r = unit_dropins_find(m->opts.unit_dir, u->name, &dropins);

    if (r >= 0 && !(version = dropins_version(dropins)))
        r = -ENOMEM;
    if (r >= 0) {
        r = load_file(m, u->name, path, dropins, &config, &error);
    } else {
        log_error("%s: Failed to read its drop-in directories: %s", u->name,
                  r == -E2BIG ? "too many drop-in files" : strerror(-r));
        error = strdup(r == -E2BIG ? "Too many drop-in files" : strerror(-r));
    }

    u->seen = true;
    if (r < 0) {
        if (u->config && u->load_state == LOAD_STATE_LOADED && r != -ERFKILL)
            log_warning("%s: the unit file no longer loads; the unit cannot be started until "
                        "it is fixed and reloaded%s.",
                        u->name,
                        service_is_inactive(&u->service) ? "" : " (what runs keeps running)");
        u->load_state = r == -EINVAL    ? LOAD_STATE_BAD_SETTING
                        : r == -ERFKILL ? LOAD_STATE_MASKED
                                        : LOAD_STATE_ERROR;
        free(u->load_error);
        u->load_error = error;
        error = NULL;
        /* A configuration an earlier reload read for the next start is superseded. */
        u->pending_config = unit_config_free(u->pending_config);
        u->changed_on_disk = false;
        remember_files(u, path, &file_st, has_file_st, dropins, &version);
    } else if (reload && u->config && u->load_state == LOAD_STATE_LOADED && has_file_st &&
               u->has_file_st && same_file_version(&file_st, &u->file_st) && u->dropins_version &&
               strcmp(version, u->dropins_version) == 0) {
        unit_config_free(config); /* the same files as before: nothing changed on disk */
    } else {
        if (reload && u->config) {
            u->changed_on_disk = true;
            /* Loaded again (it was bad-setting, or not-found while it ran) even when what
             * runs keeps its configuration until the next start. */
            u->load_state = LOAD_STATE_LOADED;
            free(u->load_error);
            u->load_error = NULL;
        }
        remember_files(u, path, &file_st, has_file_st, dropins, &version);
        unit_config_free(u->pending_config);
        u->pending_config = config;
        apply_pending_config(u);
    }
    strv_free(dropins);
    free(version);
    free(error);
    return r == -ERFKILL ? 0 : r;
}

/* Whether u's files differ from those its configuration was read from. */
static bool files_changed(const struct unit *u)
{
    char **dropins = NULL, *version = NULL;
    struct stat st;
    bool has_st, differ;
    int r;

    has_st = stat(u->path, &st) == 0;
    /* A reload found it gone: only a file that is back again would change anything. */
    if (u->load_state == LOAD_STATE_NOT_FOUND)
        return has_st;
    if (has_st != u->has_file_st || (has_st && !same_file_version(&st, &u->file_st)))
        return true;
    r = unit_dropins_find(u->m->opts.unit_dir, u->name, &dropins);
    if (r >= 0)
        version = dropins_version(dropins);
    strv_free(dropins);
    /* Drop-ins that cannot be read now or then are no news; one side alone is. */
    if (!version || !u->dropins_version)
        differ = (version == NULL) != (u->dropins_version == NULL);
    else
        differ = strcmp(version, u->dropins_version) != 0;
    free(version);
    return differ;
}

bool manager_unit_need_daemon_reload(struct unit *u)
{
    uint64_t gen;

    /* An Accept=yes instance has no files of its own to go back to. */
    if (u->transient)
        return false;
    /* Nothing happened in the unit directory since the last look: the same answer, without
     * the three to five system calls of looking (W4's kept-connection status call). */
    gen = u->files_plain ? unit_dir_watch_generation(u->m->dir_watch) : 0;
    if (gen != 0 && gen == u->need_reload_gen)
        return u->need_reload;
    u->need_reload = files_changed(u);
    u->need_reload_gen = gen;
    return u->need_reload;
}

/* The template file of an instance name ("x@y.service" -> <unit dir>/x@.service) when it
 * exists, else NULL. */
static char *template_path(const struct manager *m, const char *name)
{
    const char *at = strchr(name, '@'), *dot = strrchr(name, '.');
    char *tname, *path = NULL;
    struct stat st;

    if (!at || !dot || dot < at || dot == at + 1)
        return NULL;
    if (asprintf(&tname, "%.*s%s", (int)(at - name + 1), name, dot) < 0)
        return NULL;
    path = path_join(m->opts.unit_dir, tname);
    free(tname);
    if (path && stat(path, &st) < 0) {
        free(path);
        path = NULL;
    }
    return path;
}

/* Reads the unit directory into the table: new units appear, changed ones get their new
 * configuration (at once, or at the next start), removed ones are marked not-found and stay
 * until they are stopped. A file that fails to parse never disturbs another unit. */
static int scan_units(struct manager *m, bool reload)
{
    struct dirent **list = NULL;
    int n, failed = 0;

    n = scandir(m->opts.unit_dir, &list, NULL, alphasort);
    if (n < 0)
        return -errno;
    for (size_t i = 0; i < m->n_units; i++)
        m->units[i]->seen = false;

    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        char *path = NULL, target[PATH_MAX];
        struct stat st;
        struct unit *u;

        if (!is_loadable_name(name))
            goto next;
        path = path_join(m->opts.unit_dir, name);
        if (!path || lstat(path, &st) < 0)
            goto next;
        if (S_ISLNK(st.st_mode)) {
            /* A link to another unit name is an alias, as systemd reads unit directories. */
            ssize_t len = readlink(path, target, sizeof(target) - 1);
            if (len > 0) {
                target[len] = '\0';
                const char *base = strrchr(target, '/');
                base = base ? base + 1 : target;
                if (strcmp(base, name) != 0 && is_loadable_name(base)) {
                    strv_extend(&m->aliases, name);
                    strv_extend(&m->aliases, base);
                    goto next;
                }
            }
        }
        u = find_exact(m, name);
        if (!u) {
            u = add_unit(m, name, path);
            if (!u)
                goto next;
        } else if (u->from_template || strcmp(u->path, path) != 0) {
            /* An instance that now has a file of its own reads that one. */
            u->from_template = false;
            unit_set_path(u, path);
        }
        if (unit_load_path(m, u, path, reload) < 0)
            failed++;
    next:
        free(path);
        free(list[i]);
    }
    free(list);

    for (size_t i = 0; i < m->n_units; i++) {
        struct unit *u = m->units[i];
        if (u->seen || u->transient)
            continue;
        /* An instance made from a template (no file of its own) follows its template. */
        if (u->from_template) {
            char *tpath = template_path(m, u->name);
            if (tpath && unit_load_path(m, u, tpath, reload) < 0)
                failed++;
            free(tpath);
            if (u->seen)
                continue;
        }
        /* Gone from disk: a running unit keeps running until stopped, shown as not-found. */
        if (u->load_state != LOAD_STATE_NOT_FOUND)
            log_info("%s: unit file removed; %s.", u->name,
                     u->config && !service_is_inactive(&u->service)
                         ? "it keeps running until stopped"
                         : "forgetting it");
        u->load_state = LOAD_STATE_NOT_FOUND;
    }
    if (m->n_units > 1)
        qsort(m->units, m->n_units, sizeof(*m->units), cmp_unit);
    return failed;
}

int manager_load(struct manager *m)
{
    return scan_units(m, false);
}

int manager_reload(struct manager *m)
{
    strv_free(m->aliases);
    m->aliases = NULL;
    log_info("Reloading unit files from %s.", m->opts.unit_dir);
    /* Before the scan, so that a change made during it is heard. */
    unit_dir_watch_rescan(m->dir_watch);
    return scan_units(m, true);
}

static bool unit_is_enabled(const struct unit *u)
{
    return u->config &&
           (strv_length(u->config->wanted_by) > 0 || strv_length(u->config->required_by) > 0);
}

void manager_start_default(struct manager *m)
{
    /* All start jobs first, then one dispatch, so After=/Before= order them among each other. */
    for (size_t i = 0; i < m->n_units; i++) {
        struct unit *u = m->units[i];
        if (u->load_state == LOAD_STATE_LOADED && unit_is_enabled(u))
            job_add(m, u, JOB_START, 0);
    }
    fail_missing_dependencies(m);
    dispatch(m);
}

/* A unit removed from disk that no longer runs is not shown or found any more. */
static bool unit_is_forgotten(const struct unit *u)
{
    return u->load_state == LOAD_STATE_NOT_FOUND &&
           (!u->config || service_is_inactive(&u->service)) && u->job == JOB_NONE;
}

/* An instance asked for by name ("x@y.service") that has no file of its own is made from its
 * template x@.service, as systemd loads instances on demand. Appended to the table (never
 * moved: callers may be walking it); list-units sorts its own copy. */
static struct unit *instantiate(struct manager *m, struct unit *u, const char *name)
{
    char *tpath = template_path(m, name);

    if (!tpath)
        return u;
    if (!u)
        u = add_unit(m, name, tpath);
    if (u) {
        unit_set_path(u, tpath);
        u->from_template = true;
        m->units_unsorted = true;
        if (unit_load_path(m, u, tpath, false) < 0)
            log_warning("%s: its template %s failed to load.", name, tpath);
    }
    free(tpath);
    return u;
}

struct unit *manager_find(struct manager *m, const char *name)
{
    char *n = unit_name_normalize(name);
    struct unit *found = NULL;

    if (!n)
        return NULL;
    for (size_t i = 0; m->aliases && m->aliases[i] && m->aliases[i + 1]; i += 2)
        if (strcmp(m->aliases[i], n) == 0) {
            found = find_exact(m, m->aliases[i + 1]);
            break;
        }
    if (!found)
        found = find_exact(m, n);
    if ((!found || unit_is_forgotten(found)) && unit_name_is_valid(n))
        found = instantiate(m, found, n);
    free(n);
    if (found && unit_is_forgotten(found))
        found = NULL;
    return found;
}

size_t manager_unit_count(struct manager *m)
{
    /* Instances made on demand were appended; listings come sorted by name. Sorted here, not
     * where they are made: that may be inside a walk over the table. */
    if (m->units_unsorted && m->n_units > 1)
        qsort(m->units, m->n_units, sizeof(*m->units), cmp_unit);
    m->units_unsorted = false;
    return m->n_units;
}

struct unit *manager_unit_at(const struct manager *m, size_t i)
{
    return i < m->n_units ? m->units[i] : NULL;
}

bool unit_is_loaded(const struct unit *u)
{
    return u->load_state == LOAD_STATE_LOADED;
}

bool unit_is_visible(const struct unit *u)
{
    return !unit_is_forgotten(u);
}

void manager_unit_status(const struct unit *u, struct unit_status *ret)
{
    const struct service *s = &u->service;
    bool loaded = u->config != NULL;

    memset(ret, 0, sizeof(*ret));
    ret->name = u->name;
    ret->description = u->config && u->config->description ? u->config->description : "";
    ret->fragment_path = u->path;
    ret->job = u->job == JOB_NONE ? NULL : job_type_name(u->job);
    ret->condition = u->condition;
    ret->condition_result = u->condition.realtime == 0 || u->condition_result;
    ret->failed_condition = u->failed_condition;
    ret->assert = u->assert;
    ret->assert_result = u->assert.realtime == 0 || u->assert_result;
    ret->failed_assert = u->failed_assert;
    ret->load_state = load_state_to_string(u->load_state);
    ret->load_error = u->load_error;
    ret->enabled = unit_is_enabled(u);
    ret->active_state = loaded ? active_state_to_string(service_active_state(s)) : "inactive";
    if (is_socket(u))
        ret->active_state = u->sock_state == SOCK_LISTENING || u->sock_state == SOCK_RUNNING
                                ? "active"
                            : u->sock_state == SOCK_FAILED ? "failed"
                                                           : "inactive";
    ret->sub_state = loaded ? service_state_to_string(s->state) : "dead";
    ret->result = service_result_to_string(loaded ? s->result : SERVICE_RESULT_SUCCESS);
    struct journal_unit_stats js;
    journal_unit_stats(u->m->journal, u->name, &js);
    ret->log_suppressed = js.suppressed;
    ret->log_lost = js.lost;
    ret->log_unreported = js.lost_unreported;
    ret->log_error = js.error;
    ret->state_change = u->state_change;
    ret->inactive_exit = u->inactive_exit;
    ret->active_enter = u->active_enter;
    ret->active_exit = u->active_exit;
    ret->inactive_enter = u->inactive_enter;
    ret->exec_main_start = u->exec_main_start;
    ret->exec_main_exit = u->exec_main_exit;
    ret->main_pid = loaded ? s->main_pid : 0;
    ret->exec_main_pid = !loaded ? 0 : s->main_pid > 0 ? s->main_pid : s->exec_main_pid;
    ret->main_command = u->main_command;
    if (loaded && s->main_pid > 0 && u->main_command_live) {
        proc_comm(s->main_pid, ret->main_command_buf, sizeof(ret->main_command_buf));
        if (strcmp(ret->main_command_buf, "?") != 0)
            ret->main_command = ret->main_command_buf;
    }
    ret->control_pid = loaded ? s->control_pid : 0;
    if (ret->control_pid > 0)
        proc_comm(ret->control_pid, ret->control_command, sizeof(ret->control_command));
    ret->exec_main_code = "";
    if (loaded && s->main_exited) {
        ret->exec_main_code = s->main_exit.code == CLD_EXITED   ? "exited"
                              : s->main_exit.code == CLD_DUMPED ? "dumped"
                                                                : "killed";
        ret->exec_main_status = s->main_exit.status;
    }
    ret->n_restarts = loaded ? s->n_restarts : 0;
    ret->invocation = u->invocation;
    ret->invocation_usec = u->invocation_usec;
    ret->is_active = loaded && service_is_active(s);
    ret->can_reload = loaded && u->config->exec_reload.n > 0;
    ret->changed_on_disk = u->changed_on_disk;
    ret->status_text = u->status_text;
    ret->status_errno = u->status_errno;
    ret->n_leftovers = 0;
    for (size_t i = 0; i < u->n_leftovers; i++)
        if (kill(u->leftovers[i], 0) == 0 || errno == EPERM)
            ret->leftovers[ret->n_leftovers++] = u->leftovers[i];
    if (loaded) {
        ret->config = u->config;
        ret->source_text = u->config->source_text;
        ret->dropin_paths = u->config->dropin_paths;
        ret->dropin_texts = u->config->dropin_texts;
        ret->restart_policy = restart_policy_to_string(u->config->restart);
        ret->start_limit_interval_usec = u->config->start_limit_interval_usec;
        ret->start_limit_burst = u->config->start_limit_burst;
        unsigned first = s->n_deaths > SERVICE_DEATHS_MAX ? s->n_deaths - SERVICE_DEATHS_MAX : 0;
        for (unsigned i = first; i < s->n_deaths; i++)
            ret->deaths[ret->n_deaths++] = &s->deaths[i % SERVICE_DEATHS_MAX];
    }
    if (is_socket(u)) {
        ret->sub_state = sock_state_names[u->sock_state];
        ret->result = u->sock_result;
        ret->is_active = u->sock_state == SOCK_LISTENING || u->sock_state == SOCK_RUNNING;
        ret->can_reload = false;
        ret->is_socket = true;
        ret->n_listeners = u->n_listeners;
        ret->listens = u->config ? u->config->listens : NULL;
        ret->triggers = u->config ? u->config->socket_service : NULL;
        ret->n_accepted = u->n_accepted;
        ret->n_connections = u->n_connections;
    }
}

/* Is pid, a child of minisupd that no unit tracks (an orphan it adopted as subreaper), one of
 * u's processes? It is when it is in one of the process groups of u's run, or of its last run
 * while u is down and no other unit's run has that group now (a group id is a pid, free again
 * once the group is empty), or when it carries u's $INVOCATION_ID after leaving the groups
 * (setsid). A process in another unit's groups is that unit's, without a look at its
 * environment. */
static bool adopted_by(const struct unit *u, pid_t pid)
{
    const struct service *s = &u->service;
    pid_t pgid = getpgid(pid);

    if (pgid < 0)
        return false;
    if (pid_in(s->groups, s->n_groups, pgid))
        return true;
    for (size_t k = 0; k < u->m->n_units; k++) {
        const struct unit *o = u->m->units[k];
        if (o != u && pid_in(o->service.groups, o->service.n_groups, pgid))
            return false;
    }
    if (s->n_groups == 0 && pid_in(s->last_groups, s->n_last_groups, pgid))
        return true;
    return proc_has_invocation(pid, u->invocation);
}

static int cmp_unit_process(const void *a, const void *b)
{
    const struct unit_process *x = a, *y = b;

    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* A command line is shown whole up to this many bytes; all of them together up to the budget,
 * after which the rest get a short line each. At twice the size as JSON (escaped backslashes
 * and quotes) and 1024 processes, a GetUnit reply stays far below VARLINK_MESSAGE_MAX. */
#define COMMAND_LINE_MAX 4096
#define COMMAND_LINE_SHORT 64
#define COMMAND_LINES_BUDGET (256 * 1024)

int manager_unit_processes(const struct unit *u, bool command_lines, struct unit_processes *ret)
{
    pid_t *pids = NULL, *adopted = NULL;
    size_t n = 0, n_adopted, budget = COMMAND_LINES_BUDGET;
    long hz = sysconf(_SC_CLK_TCK);
    char *line = NULL;
    int r = 0;

    memset(ret, 0, sizeof(*ret));
    if (is_socket(u))
        return 0;
    pids = malloc(MANAGER_UNIT_PROCESSES_MAX * sizeof(pid_t));
    adopted = malloc(MANAGER_UNIT_PROCESSES_MAX * sizeof(pid_t));
    ret->items = calloc(MANAGER_UNIT_PROCESSES_MAX, sizeof(*ret->items));
    line = command_lines ? malloc(COMMAND_LINE_MAX) : NULL;
    if (!pids || !adopted || !ret->items || (command_lines && !line)) {
        r = -ENOMEM;
        goto out;
    }

    /* The roots: every process of the unit whose parent is not one of its processes. The main
     * and control processes; orphans of its processes, which the kernel hands to minisupd (a
     * subreaper) when their parent exits; and what a stop left behind (KillMode=process). Any
     * other process of the unit descends from one of these, as a cgroup's processes would. */
    for (int k = 0; k < 2; k++)
        if (u->runs[k] && !u->runs[k]->reaped && !pid_in(pids, n, u->runs[k]->pid))
            pids[n++] = u->runs[k]->pid;
    for (size_t i = 0; i < u->n_leftovers; i++)
        if ((kill(u->leftovers[i], 0) == 0 || errno == EPERM) && !pid_in(pids, n, u->leftovers[i]))
            pids[n++] = u->leftovers[i];
    n_adopted = proc_untracked_children(adopted, MANAGER_UNIT_PROCESSES_MAX, pid_is_tracked, u->m);
    for (size_t i = 0; i < n_adopted && n < MANAGER_UNIT_PROCESSES_MAX; i++)
        if (!pid_in(pids, n, adopted[i]) && adopted_by(u, adopted[i]))
            pids[n++] = adopted[i];
    n = proc_descendants(pids, n, MANAGER_UNIT_PROCESSES_MAX, &ret->truncated);

    for (size_t i = 0; i < n; i++) {
        struct unit_process *p = &ret->items[ret->n];
        struct proc_stat st;

        /* Gone since it was listed, or a zombie waiting for its parent: not running. */
        if (proc_read_stat(pids[i], &st) < 0 || st.state == 'Z' || st.state == 'X')
            continue;
        p->pid = pids[i];
        p->ppid = st.ppid;
        p->threads = st.num_threads;
        ret->tasks += st.num_threads;
        if (hz > 0)
            ret->cpu_usec += st.cpu_ticks * UINT64_C(1000000) / (uint64_t)hz;
        if (command_lines) {
            size_t size = budget > COMMAND_LINE_MAX ? COMMAND_LINE_MAX : COMMAND_LINE_SHORT;
            proc_cmdline(p->pid, st.comm, line, size);
            p->command_line = strdup(line);
            if (!p->command_line) {
                r = -ENOMEM;
                goto out;
            }
            size = strlen(line);
            budget -= budget > size ? size : budget;
        }
        ret->n++;
    }
    qsort(ret->items, ret->n, sizeof(*ret->items), cmp_unit_process);

out:
    free(line);
    free(adopted);
    free(pids);
    return r;
}

void manager_unit_processes_done(struct unit_processes *p)
{
    for (size_t i = 0; p->items && i < p->n; i++)
        free(p->items[i].command_line);
    free(p->items);
    memset(p, 0, sizeof(*p));
}

void manager_child_exited(struct manager *m, pid_t pid, int code, int status)
{
    bool owned = false;

    for (size_t i = 0; i < m->n_units && !owned; i++) {
        struct unit *u = m->units[i];

        for (int k = 0; k < 2; k++) {
            struct run *r = u->runs[k];
            if (!r || r->pid != pid || r->reaped)
                continue;
            owned = true;
            /* The exec outcome is in the pipe by now: it comes before the exit. */
            if (r->exec)
                (void)exec_watch_finish(r);
            r->reaped = true;
            r->exit.code = code;
            r->exit.status = status;
            bool group_mode = u->config && (u->config->kill_mode == KILL_MODE_CONTROL_GROUP ||
                                            u->config->kill_mode == KILL_MODE_MIXED);
            if (r->streams_open == 0 || !group_mode || drained(u, r)) {
                /* KillMode=process/none: what holds the pipes is meant to outlive the main
                 * process; its lines keep flowing to this run, but the exit counts now. */
                deliver_exit(u, r);
            } else {
                /* Someone still holds the pipes. While stopping, that is likely a process that
                 * escaped the group and was just adopted: signal it now, not after the drain. */
                if (service_is_waiting_for_group(&u->service) && u->service.n_groups > 0)
                    (void)op_group_alive(u, u->service.groups[0]);
                /* What holds them may live on (`sleep 30 & exit 3`): the exit counts once what
                 * the pipes held is stored, checked each millisecond (the loop reads them and
                 * takes the writer's batches back in between), and after DRAIN_TIMEOUT_USEC at
                 * the latest. */
                u->drain_deadline = uv_now(m->loop) + DRAIN_TIMEOUT_USEC / 1000;
                if (!uv_is_active((uv_handle_t *)&u->drain_timer))
                    uv_timer_start(&u->drain_timer, on_drain_timeout, 1, 1);
            }
            break;
        }
    }
    if (!owned)
        log_debug("Reaped process %d (an orphan or a descendant of a service).", (int)pid);

    /* Any exit may have been the last of a group a unit is waiting on. */
    for (size_t i = 0; i < m->n_units; i++) {
        struct unit *u = m->units[i];
        if (u->config && service_watches_group(&u->service))
            service_group_changed(&u->service);
    }
}

static void on_shutdown_timer(uv_timer_t *t)
{
    struct manager *m = t->data;
    void (*done)(void *) = m->shutdown_done;

    m->shutdown_done = NULL;
    if (done)
        done(m->shutdown_userdata);
}

static void maybe_shutdown_done(struct manager *m)
{
    if (!m->shutting_down || !m->shutdown_done)
        return;
    for (size_t i = 0; i < m->n_units; i++) {
        struct unit *u = m->units[i];
        if (u->config && !service_is_inactive(&u->service))
            return;
        if (is_socket(u) && (u->sock_state == SOCK_LISTENING || u->sock_state == SOCK_RUNNING))
            return;
    }
    /* Called from inside a state change: the caller may free everything, so report from a
     * fresh turn of the loop, once the state machine has returned. */
    uv_timer_start(&m->shutdown_timer, on_shutdown_timer, 0, 0);
}

void manager_shutdown(struct manager *m, void (*done)(void *userdata), void *userdata)
{
    m->shutting_down = true;
    m->shutdown_done = done;
    m->shutdown_userdata = userdata;
    /* Stop jobs for everything, then one dispatch: After=/Before= give the reverse order. */
    for (size_t i = 0; i < m->n_units; i++) {
        struct unit *u = m->units[i];
        if (!u->config)
            continue;
        if (u->job != JOB_NONE && u->job != JOB_STOP)
            job_finish(u, "canceled");
        if (!service_is_inactive(&u->service) ||
            (is_socket(u) && (u->sock_state == SOCK_LISTENING || u->sock_state == SOCK_RUNNING))) {
            u->job = JOB_STOP;
            u->job_running = false;
            u->job_waits_down = false;
            m->jobs_waiting = true;
        }
    }
    dispatch(m);
    maybe_shutdown_done(m);
}

static void on_manager_closed(uv_handle_t *h)
{
    struct manager *m = h->data;

    if (--m->closing_handles > 0)
        return;
    free(m->tracked);
    strv_free(m->aliases);
    while (m->watchers) {
        struct watcher *w = m->watchers;
        m->watchers = w->next;
        free(w);
    }
    free(m);
}

void manager_free(struct manager *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_units; i++)
        unit_free(m->units[i]);
    m->tracked_dirty = true;
    free(m->units);
    notify_close(m->notify);
    unit_dir_watch_free(m->dir_watch);
    m->dir_watch = NULL;
    /* The manager is freed with its last handle. */
    m->units = NULL;
    m->n_units = 0;
    /* Every unit is down on a clean exit: no record is left for a successor to act on. */
    process_record_free(m->record, true);
    m->record = NULL;
    m->closing_handles = 3;
    uv_close((uv_handle_t *)&m->shutdown_timer, on_manager_closed);
    uv_close((uv_handle_t *)&m->gc_timer, on_manager_closed);
    uv_close((uv_handle_t *)&m->record_idle, on_manager_closed);
}

/* ---- socket units ----
 *
 * A .socket unit owns its listeners for as long as it is started: "listening" while minisupd
 * polls them, "running" while its service runs (the service reads the fds itself), and back to
 * listening when the service is down again. With Accept=yes every connection is accepted here
 * and handed, as fd 3, to a new instance of the template service.
 */

struct listener {
    uv_poll_t poll;
    struct unit *unit; /* NULL once the unit let go of it */
    enum listen_kind kind;
    char *address;
    int fd;
};

static void on_listener_closed(uv_handle_t *h)
{
    struct listener *l = h->data;

    close(l->fd);
    free(l->address);
    free(l);
}

static bool is_socket(const struct unit *u)
{
    return u->kind == UNIT_KIND_SOCKET;
}

static const char *const sock_state_names[] = {
    [SOCK_DEAD] = "dead",
    [SOCK_LISTENING] = "listening",
    [SOCK_RUNNING] = "running",
    [SOCK_FAILED] = "failed",
};

static enum active_state sock_active_state(enum sock_state st)
{
    return st == SOCK_LISTENING || st == SOCK_RUNNING ? ACTIVE_STATE_ACTIVE
           : st == SOCK_FAILED                        ? ACTIVE_STATE_FAILED
                                                      : ACTIVE_STATE_INACTIVE;
}

static void sock_set_state(struct unit *u, enum sock_state st)
{
    if (u->sock_state == st)
        return;
    stamp_state_change(u, sock_active_state(u->sock_state), sock_active_state(st));
    u->sock_state = st;
    notify_watchers(u, true);
    notify_watchers(u, false);
}

static void sock_poll(struct unit *u, bool on);

static void sock_close_all(struct unit *u, bool remove)
{
    for (size_t i = 0; i < u->n_listeners; i++) {
        struct listener *l = u->listeners[i];
        if (remove || u->config->remove_on_stop)
            socket_remove_path(l->kind, l->address);
        l->unit = NULL;
        uv_close((uv_handle_t *)&l->poll, on_listener_closed);
    }
    free(u->listeners);
    u->listeners = NULL;
    u->n_listeners = 0;
}

static struct unit *sock_service(struct unit *u)
{
    return u->config && u->config->socket_service ? manager_find(u->m, u->config->socket_service)
                                                  : NULL;
}

/* systemd.socket(5), Accept=yes: "For IPv4 and IPv6 connections the REMOTE_ADDR environment
 * variable will contain the remote IP address, and REMOTE_PORT will contain the remote port". */
static void remote_peer(int conn, struct unit *inst)
{
    if (socket_peer_address(conn, inst->remote_addr, sizeof(inst->remote_addr),
                            &inst->remote_port) < 0)
        inst->remote_addr[0] = '\0';
}

/* Accept=yes: a connection becomes an instance of the template, started with it on fd 3, and
 * named as systemd names it (socket_instance_name()). */
static void sock_accept(struct unit *u, struct listener *l)
{
    struct manager *m = u->m;
    const char *tmpl = u->config->socket_service; /* "x@.service" */
    char *tmpl_path = NULL, name[256];
    struct unit *inst;
    int conn;

    conn = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0)
        return; /* EAGAIN or a connection reset before we got to it */
    if (u->n_connections >= u->config->max_connections) {
        unit_log(u, LOG_WARNING, "Too many incoming connections; refusing connection.");
        close(conn);
        return;
    }
    const char *at = strchr(tmpl, '@');
    char instance[160];
    if (socket_instance_name(conn, u->n_accepted, instance, sizeof(instance)) < 0)
        snprintf(instance, sizeof(instance), "%u-unknown", u->n_accepted);
    u->n_accepted++;
    snprintf(name, sizeof(name), "%.*s@%s.service", (int)(at - tmpl), tmpl, instance);
    tmpl_path = path_join(m->opts.unit_dir, tmpl);
    inst = tmpl_path ? add_unit(m, name, tmpl_path) : NULL;
    if (!inst) {
        close(conn);
        free(tmpl_path);
        return;
    }
    inst->transient = true;
    inst->conn_fd = conn;
    remote_peer(conn, inst);
    char *error = NULL, **dropins = NULL;
    struct unit_config *config = NULL;
    /* The instance takes the template's drop-ins (and any of its own name, as systemd's). */
    int r = unit_dropins_find(m->opts.unit_dir, name, &dropins);
    if (r >= 0)
        r = load_file(m, name, tmpl_path, dropins, &config, &error);
    strv_free(dropins);
    if (r < 0) {
        inst->load_state = LOAD_STATE_ERROR;
        inst->load_error = error;
        unit_log(u, LOG_ERR, "Failed to load the service template for a connection.");
        free(tmpl_path);
        uv_timer_start(&m->gc_timer, on_gc_timer, 0, 0);
        return; /* collected with the other finished instances */
    }
    free(tmpl_path);
    inst->pending_config = config;
    apply_pending_config(inst);
    inst->trigger = u;
    u->n_connections++;
    manager_job(m, inst, JOB_START, NULL);
}

static void on_listener_readable(uv_poll_t *h, int status, int events)
{
    struct listener *l = h->data;
    struct unit *u = l->unit;
    struct unit *svc;

    if (!u)
        return;
    if (u->config->accept) {
        sock_accept(u, l);
        return;
    }
    /* The first readiness starts the service; it reads the fds from now on. */
    sock_poll(u, false);
    svc = sock_service(u);
    if (!svc || !svc->config) {
        unit_log(u, LOG_ERR, "Service to activate not found or not loaded. Refusing.");
        sock_close_all(u, false);
        u->sock_result = "resources";
        sock_set_state(u, SOCK_FAILED);
        return;
    }
    sock_set_state(u, SOCK_RUNNING);
    manager_job(u->m, svc, JOB_START, NULL);
}

static void sock_poll(struct unit *u, bool on)
{
    for (size_t i = 0; i < u->n_listeners; i++) {
        if (on)
            uv_poll_start(&u->listeners[i]->poll, UV_READABLE, on_listener_readable);
        else
            uv_poll_stop(&u->listeners[i]->poll);
    }
}

static int sock_start(struct unit *u)
{
    const struct unit_config *c = u->config;
    struct listen_options o = {
        .socket_mode = c->socket_mode,
        .directory_mode = c->directory_mode,
        .uid = (uid_t)-1,
        .gid = (gid_t)-1,
        .backlog = (int)c->backlog,
    };
    size_t n = strv_length(c->listens);
    char err[512];

    if (u->sock_state == SOCK_LISTENING || u->sock_state == SOCK_RUNNING)
        return 0;
    if (c->socket_user) {
        struct passwd *pw = getpwnam(c->socket_user);
        if (!pw) {
            char msg[300];
            snprintf(msg, sizeof(msg), "Failed to resolve user %s: No such process; refusing.",
                     c->socket_user);
            unit_log(u, LOG_ERR, msg);
            goto failed;
        }
        o.uid = pw->pw_uid;
    }
    if (c->socket_group) {
        struct group *gr = getgrnam(c->socket_group);
        if (!gr) {
            char msg[300];
            snprintf(msg, sizeof(msg), "Failed to resolve group %s: No such process; refusing.",
                     c->socket_group);
            unit_log(u, LOG_ERR, msg);
            goto failed;
        }
        o.gid = gr->gr_gid;
    }
    u->listeners = calloc(n ? n : 1, sizeof(*u->listeners));
    if (!u->listeners)
        goto failed;
    for (size_t i = 0; i < n; i++) {
        const char *spec = c->listens[i];
        enum listen_kind kind = spec[0] == 'S'   ? LISTEN_STREAM
                                : spec[0] == 'D' ? LISTEN_DATAGRAM
                                : spec[0] == 'Q' ? LISTEN_SEQPACKET
                                                 : LISTEN_FIFO;
        struct listener *l = calloc(1, sizeof(*l));
        int fd = l ? socket_listen(kind, spec + 2, &o, err, sizeof(err)) : -ENOMEM;
        if (fd < 0) {
            free(l);
            unit_log(u, LOG_ERR, fd == -ENOMEM ? "Out of memory." : err);
            sock_close_all(u, false);
            goto failed;
        }
        l->fd = fd;
        l->kind = kind;
        l->unit = u;
        l->address = strdup(spec + 2);
        uv_poll_init(u->m->loop, &l->poll, fd);
        l->poll.data = l;
        u->listeners[u->n_listeners++] = l;
    }
    u->sock_result = "success";
    /* A service already running (started by hand) keeps the fds; else wait for readiness. */
    struct unit *svc = c->accept ? NULL : sock_service(u);
    if (svc && svc->config && !service_is_inactive(&svc->service)) {
        sock_set_state(u, SOCK_RUNNING);
    } else {
        sock_poll(u, true);
        sock_set_state(u, SOCK_LISTENING);
    }
    {
        char msg[300];
        snprintf(msg, sizeof(msg), "Listening on %s.", describe_unit(u));
        unit_log(u, LOG_INFO, msg);
    }
    return 0;
failed:
    u->sock_result = "resources";
    /* systemd's unit_log_failure() and the socket's failed start job. */
    unit_log(u, LOG_WARNING, "Failed with result 'resources'.");
    {
        char msg[300];
        snprintf(msg, sizeof(msg), "Failed to listen on %s.", describe_unit(u));
        unit_log(u, LOG_ERR, msg);
    }
    sock_set_state(u, SOCK_FAILED);
    return -EIO;
}

static void sock_stop(struct unit *u)
{
    char msg[300];

    if (u->sock_state == SOCK_DEAD || u->sock_state == SOCK_FAILED)
        return;
    sock_close_all(u, false);
    snprintf(msg, sizeof(msg), "Closed %s.", describe_unit(u));
    unit_log(u, LOG_INFO, msg);
    sock_set_state(u, SOCK_DEAD);
}

/* Whether s is a socket unit that starts svc itself (not Accept=yes instances of it). */
static bool sock_starts(struct unit *s, const struct unit *svc)
{
    return is_socket(s) && s->config && !s->config->accept && sock_service(s) == svc;
}

size_t manager_triggered_by(const struct unit *u, const struct unit **out, size_t max)
{
    size_t n = 0;

    if (u->trigger && max > 0)
        out[n++] = u->trigger;
    for (size_t i = 0; i < u->m->n_units && n < max; i++)
        if (sock_starts(u->m->units[i], u))
            out[n++] = u->m->units[i];
    return n;
}

/* A service changed state: the sockets that trigger it follow (running / listening again). */
static void sock_follow_service(struct unit *svc)
{
    struct manager *m = svc->m;
    bool down = service_is_inactive(&svc->service);

    if (svc->transient && down && svc->trigger) {
        /* One connection fewer; the instance is collected later, outside this callback. */
        if (svc->trigger->n_connections > 0)
            svc->trigger->n_connections--;
        svc->trigger = NULL;
        uv_timer_start(&m->gc_timer, on_gc_timer, 0, 0);
        return;
    }
    for (size_t i = 0; i < m->n_units; i++) {
        struct unit *u = m->units[i];
        if (!sock_starts(u, svc))
            continue;
        if (u->sock_state != SOCK_LISTENING && u->sock_state != SOCK_RUNNING)
            continue;
        if (!down) {
            sock_poll(u, false);
            sock_set_state(u, SOCK_RUNNING);
        } else if (svc->service.result == SERVICE_RESULT_START_LIMIT_HIT) {
            /* Polling again would spin on data nobody can read. */
            unit_log(u, LOG_WARNING, "Failed with result 'service-start-limit-hit'.");
            sock_close_all(u, false);
            u->sock_result = "service-start-limit-hit";
            sock_set_state(u, SOCK_FAILED);
        } else if (svc->service.state != SERVICE_STATE_AUTO_RESTART) {
            sock_poll(u, true);
            sock_set_state(u, SOCK_LISTENING);
        }
    }
}

/* The fds a service gets from the sockets that trigger it, in unit-file order. */
static size_t sock_fds_for(struct unit *svc, int *fds, size_t max, char *names, size_t names_size)
{
    struct manager *m = svc->m;
    size_t n = 0;

    names[0] = '\0';
    if (svc->conn_fd > 0) {
        fds[n++] = svc->conn_fd;
        snprintf(names, names_size, "connection");
        return n;
    }
    for (size_t i = 0; i < m->n_units; i++) {
        struct unit *u = m->units[i];
        if (!is_socket(u) || !u->config || u->config->accept || sock_service(u) != svc)
            continue;
        const char *fdname = u->config->fd_name ? u->config->fd_name : u->name;
        for (size_t k = 0; k < u->n_listeners && n < max; k++) {
            size_t len = strlen(names);
            snprintf(names + len, names_size - len, "%s%s", n ? ":" : "", fdname);
            fds[n++] = u->listeners[k]->fd;
        }
    }
    return n;
}

/* Finished Accept=yes instances, removed outside any state-machine callback. */
static void on_gc_timer(uv_timer_t *t)
{
    struct manager *m = t->data;
    size_t k = 0;

    for (size_t i = 0; i < m->n_units; i++) {
        struct unit *u = m->units[i];
        bool done = u->transient && !u->trigger && u->job == JOB_NONE && !u->waiters &&
                    !u->runs[0] && !u->runs[1] && (!u->config || service_is_inactive(&u->service));
        if (done)
            unit_free(u);
        else
            m->units[k++] = u;
    }
    m->n_units = k;
    runs_changed(m);
}

static unsigned stale_timeout(const char *unit, void *userdata)
{
    struct unit *u = manager_find(userdata, unit);
    uint64_t usec = u && u->config ? u->config->timeout_stop_usec : 90 * USEC_PER_SEC;

    return usec / 1000 > UINT_MAX ? UINT_MAX : (unsigned)(usec / 1000);
}

static void stale_stopped(const char *unit, pid_t pid, const char *comm, bool killed,
                          void *userdata)
{
    struct unit *u = manager_find(userdata, unit);
    char msg[300];

    if (!u)
        return;
    snprintf(msg, sizeof(msg), "Stopped stale process %d (%s) left by a previous minisupd%s.",
             (int)pid, comm, killed ? " (SIGKILL)" : "");
    unit_log(u, LOG_WARNING, msg);
}

int manager_sweep_stale(struct manager *m)
{
    int r = process_record_sweep(m->opts.runtime_dir, stale_timeout, stale_stopped, m);

    if (r < 0)
        log_warning_errno(r, "Failed to read the process record of a previous instance");
    return r;
}
