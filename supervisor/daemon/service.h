/* The per-unit service state machine, after systemd's service.c. It never forks, signals, arms
 * timers or reads the clock itself: everything reaches the world through struct service_ops, so
 * tests drive it with a fake clock and fake processes.
 *
 * States (SubState, with the ActiveState each maps to):
 *   dead (inactive)              nothing runs; the last run succeeded or was never started
 *   start-pre (activating)       ExecStartPre= commands, one control process at a time
 *   start (activating)           main process spawned; oneshot waits for each ExecStart= to
 *                                finish, forking for the parent to exit
 *   start-post (activating)      ExecStartPost= commands
 *   running (active)             the main process is alive
 *   exited (active)              oneshot with RemainAfterExit=yes finished successfully
 *   reload (reloading)           ExecReload= commands
 *   stop (deactivating)          ExecStop= commands ($MAINPID set)
 *   stop-sigterm (deactivating)  KillSignal= sent to what is left, waiting TimeoutStopSec=
 *   stop-sigkill (deactivating)  FinalKillSignal= sent after that timeout
 *   stop-post (deactivating)     ExecStopPost= commands
 *   final-sigterm (deactivating) KillSignal= to what ExecStopPost= left behind
 *   final-sigkill (deactivating) FinalKillSignal= after the timeout
 *   failed (failed)              the last run failed; Result= says how
 *   auto-restart (activating)    waiting RestartSec= before the next start
 *
 * Inputs: start, stop, restart and reload requests; exits of the main and control processes
 * (delivered only once reaped AND the process's output reached the journal); the group of the
 * unit going empty; the unit's one timer; reset-failed.
 *
 * Transitions (f = the result so far; the first failure of a run sticks):
 *   dead|failed|auto-restart --start--> start limit hit? failed (start-limit-hit)
 *                                      : start-pre (or start when there is no ExecStartPre=)
 *   start-pre  --control ok-->  next command, or start;  --control failed--> stop-sigterm(f)
 *   start      --spawn failed--> stop-sigterm(exec)
 *              simple/exec/idle/dbus: spawned -> start-post
 *              oneshot: each ExecStart= in turn, then start-post; a failure -> stop-sigterm(f)
 *              forking: the parent's clean exit -> main pid from PIDFile= (or the only process
 *              left) -> start-post. A PIDFile= not written yet is waited for (in start, or after
 *              start-post when there is ExecStartPost=) until TimeoutStartSec=; if the unit's
 *              processes are all gone first: stop-sigterm (protocol). Without PIDFile= and no
 *              single process to guess, the main pid stays unknown and the unit runs as long
 *              as any of its processes does (systemd's service_good() on the cgroup).
 *   start-post --control ok-->  next command, or running (exited / stop when the main is gone)
 *              --control failed--> stop(f)
 *   running    --main exit-->   stop(f from the exit)
 *   running    --reload-->      reload --done--> running
 *   running    --timer (WatchdogSec=, or WATCHDOG_USEC= for this run, without WATCHDOG=1)-->
 *              SIGABRT, result watchdog, stop
 *   start|start-post|running|reload --WATCHDOG=trigger--> the same at once
 *   running|exited|start-*  --stop--> stop (ExecStop=, or stop-sigterm when there is none;
 *                                      from start-*, straight to stop-sigterm)
 *   stop       --controls done--> stop-sigterm
 *   stop-sigterm --all gone--> stop-post; --timer--> "State 'stop-sigterm' timed out. Killing."
 *                result timeout, stop-sigkill (SendSIGKILL=no: stop-post)
 *   stop-sigkill --all gone or timer--> stop-post
 *   stop-post  --controls done--> final-sigterm --all gone--> dead-or-failed
 *   final-sigterm --timer--> final-sigkill --timer--> dead-or-failed (timeout)
 *   start-* --timer (TimeoutStartSec=)--> result timeout, stop-sigterm
 *   stop|stop-post --timer (TimeoutStopSec=)--> result timeout, next kill state
 *   dead-or-failed: result success -> dead, else failed; then, unless a stop was requested, the
 *                   Restart= decision (service_should_restart) -> auto-restart --timer--> start.
 *   auto-restart --restart refused (the unit no longer loads)--> failed (f, else resources)
 */
#ifndef MINISUP_SERVICE_H
#define MINISUP_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct unit_config;
struct exec_command;

enum service_state {
    SERVICE_STATE_DEAD,
    SERVICE_STATE_START_PRE,
    SERVICE_STATE_START,
    SERVICE_STATE_START_POST,
    SERVICE_STATE_RUNNING,
    SERVICE_STATE_EXITED,
    SERVICE_STATE_RELOAD,
    SERVICE_STATE_STOP,
    SERVICE_STATE_STOP_SIGTERM,
    SERVICE_STATE_STOP_SIGKILL,
    SERVICE_STATE_STOP_POST,
    SERVICE_STATE_FINAL_SIGTERM,
    SERVICE_STATE_FINAL_SIGKILL,
    SERVICE_STATE_FAILED,
    SERVICE_STATE_AUTO_RESTART,
    SERVICE_STATE_MAX,
};

enum active_state {
    ACTIVE_STATE_INACTIVE,
    ACTIVE_STATE_ACTIVATING,
    ACTIVE_STATE_ACTIVE,
    ACTIVE_STATE_RELOADING,
    ACTIVE_STATE_DEACTIVATING,
    ACTIVE_STATE_FAILED,
    ACTIVE_STATE_MAX,
};

enum service_result {
    SERVICE_RESULT_SUCCESS,
    SERVICE_RESULT_EXIT_CODE,
    SERVICE_RESULT_SIGNAL,
    SERVICE_RESULT_CORE_DUMP,
    SERVICE_RESULT_TIMEOUT,
    SERVICE_RESULT_WATCHDOG,
    SERVICE_RESULT_START_LIMIT_HIT,
    SERVICE_RESULT_RESOURCES,
    SERVICE_RESULT_EXEC,
    SERVICE_RESULT_PROTOCOL, /* Type=notify: the main process exited before READY=1 */
    SERVICE_RESULT_MAX,
};

/* Which process a spawn or an exit is about. */
enum service_role {
    SERVICE_ROLE_MAIN,
    SERVICE_ROLE_CONTROL,
};

/* How a process ended, as waitid() reports it (CLD_EXITED, CLD_KILLED, CLD_DUMPED). */
struct exit_info {
    int code;
    int status; /* exit status, or signal number */
};

/* The world as the state machine sees it. `ud` is the userdata given to service_init(). */
struct service_ops {
    /* Starts cmd in a new session. 0 with *ret_pid set when the exec is known to have
     * succeeded, 1 when its outcome comes later through service_exec_result(), or a negative
     * errno with a message in ret_error ("Failed to execute '/x': No such file or directory"). */
    int (*spawn)(void *ud, const struct exec_command *cmd, enum service_role role, pid_t *ret_pid,
                 char *ret_error, size_t error_size);
    /* Sends sig to a process (through its pidfd) or, with group, to a process group. 0, or
     * -ESRCH when nobody was there. */
    int (*kill)(void *ud, pid_t pid, int sig, bool group);
    /* True while any process of process group pgid is alive. */
    bool (*group_alive)(void *ud, pid_t pgid);
    /* Type=forking: the daemon's pid, from PIDFile= or as the only process left in pgid.
     * 0 with *ret_pid, or a negative errno. The manager starts watching that pid. warn: log
     * why it failed (the first look; retries while the file is awaited stay quiet). */
    int (*find_main_pid)(void *ud, pid_t pgid, bool warn, pid_t *ret_pid);
    /* Starts (on) or stops watching PIDFile=: a change calls service_pid_file_changed(). */
    void (*watch_pid_file)(void *ud, bool on);
    /* The unit's one timer: arm replaces any armed deadline. */
    void (*timer_arm)(void *ud, uint64_t usec_from_now);
    void (*timer_cancel)(void *ud);
    uint64_t (*now)(void *ud); /* CLOCK_MONOTONIC, µs */
    /* A message for the unit's journal, as systemd's "Started x.service." lines. */
    void (*log)(void *ud, int priority, const char *message);
    /* Called after every state change (jobs, watchers); also with old == new when a run ends
     * in the state the last one ended in (failed, then refused by the start limit), since the
     * end of a run is news. */
    void (*state_changed)(void *ud, enum service_state old_state, enum service_state new_state);
};

#define SERVICE_GROUPS_MAX 8
#define SERVICE_DEATHS_MAX 8

/* One end of a run, for `minisupctl why` and status. */
struct service_death {
    uint64_t when_usec;    /* monotonic */
    uint64_t runtime_usec; /* how long the main process ran */
    struct exit_info exit;
    enum service_result result;
    bool restart;
    const char *reason; /* static string */
    unsigned restart_number;
};

struct service {
    const struct unit_config *config; /* borrowed; owned by the manager */
    const struct service_ops *ops;
    void *ud;

    enum service_state state;
    enum service_result result;                   /* first failure of the current run sticks */
    pid_t main_pid;                               /* 0 when none */
    pid_t control_pid;                            /* 0 when none */
    bool main_exec_pending, control_exec_pending; /* exec outcome not known yet */
    /* Process groups of this run: each spawned process leads its own session. */
    pid_t groups[SERVICE_GROUPS_MAX];
    size_t n_groups;
    pid_t last_groups[SERVICE_GROUPS_MAX]; /* the groups of the last run that ended */
    size_t n_last_groups;
    struct exit_info main_exit; /* last main process exit */
    bool main_exited;           /* main_exit is valid (kept across runs for status) */
    bool run_main_exited;       /* ... and it belongs to the current run */
    bool main_is_command;       /* main_pid is the ExecStart= we spawned, so its "-" applies */
    bool main_unknown;          /* forking without a main pid: good while any process is left */
    bool pid_file_pending;      /* waiting for PIDFile= to name the main process */
    pid_t exec_main_pid;        /* the last main process that exited (ExecMainPID=, for status) */
    const struct exec_command *control_cmds; /* the list the control process walks */
    size_t control_n, control_index;
    size_t exec_index;      /* which ExecStart= a oneshot is running */
    bool stop_requested;    /* a stop the user asked for never restarts */
    bool restarting;        /* the stop half of a restart: RestartKillSignal= */
    bool started;           /* the start succeeded: ExecStop= applies */
    bool start_pending;     /* the start (or restart) has not reached its end: "Failed to start" */
    bool finish_pending;    /* a oneshot's start succeeded: "Finished" once it is dead */
    bool reload_failed;     /* the last ExecReload= run failed: the reload job fails */
    bool watchdog_fired;    /* the next stop signal is the watchdog's SIGABRT */
    uint64_t deadline_usec; /* when the armed timeout fires (monotonic), 0 when none */

    /* WATCHDOG_USEC= from sd_notify: this run's watchdog timeout instead of WatchdogSec=
     * (0 turns it off), until the next start. */
    bool watchdog_override;
    uint64_t watchdog_override_usec;

    unsigned n_restarts;
    uint64_t main_start_usec; /* monotonic */

    /* Start rate limit (StartLimitIntervalSec=/StartLimitBurst=) on the monotonic clock. */
    uint64_t limit_begin_usec;
    unsigned limit_count;

    struct service_death deaths[SERVICE_DEATHS_MAX]; /* ring, newest at (n_deaths - 1) % MAX */
    unsigned n_deaths;

    char spawn_error[256]; /* the last exec failure, for status */
};

void service_init(struct service *s, const struct unit_config *config,
                  const struct service_ops *ops, void *ud);

/* Requests. Each returns 0, or -EALREADY (nothing to do), -ECANCELED (start limit hit: the
 * unit is failed with result start-limit-hit), -EBUSY (stopping; try again when down),
 * -EAGAIN (start during auto-restart: the restart timer will start it), or -EOPNOTSUPP (reload
 * without ExecReload=). */
int service_start(struct service *s);
int service_stop(struct service *s);
/* The stop half of a restart: like stop, with RestartKillSignal=. */
int service_stop_for_restart(struct service *s);
/* Runs ExecReload=: 0 when it runs (the state goes reload and back), 1 when it is over at
 * once (every command failed to execute under "-"), or a negative errno. */
int service_reload(struct service *s);
int service_reset_failed(struct service *s);
/* The restart that auto-restart waits for may not happen (the unit file no longer loads):
 * failed, with result resources unless the run already failed otherwise. Nothing when the
 * unit is not in auto-restart. */
void service_refuse_restart(struct service *s);

/* The outcome of an exec that spawn left pending: ok, or failed with the error message
 * ("Failed to execute ..."). A failed main exec ends the start with result exec. */
void service_exec_result(struct service *s, pid_t pid, bool ok, const char *error);

/* sd_notify: READY=1 ends a Type=notify start (and a RELOADING=1 reload). */
void service_notify_ready(struct service *s);
/* WATCHDOG=1: the service is alive; re-arms WatchdogSec=. A missed ping means SIGABRT to the
 * main process and result watchdog (Restart=on-watchdog applies). */
void service_watchdog_ping(struct service *s);
/* WATCHDOG=trigger: the watchdog fires now, as if the timeout had passed (SIGABRT, result
 * watchdog), while starting, running or reloading; ignored once stopping. status is the last
 * STATUS= text for the log line (NULL when none). Logs. */
void service_watchdog_trigger(struct service *s, const char *status);
/* WATCHDOG_USEC=: the watchdog timeout of this run becomes usec (0 or USEC_INFINITY: off),
 * re-armed from now when running; the next start goes back to WatchdogSec=. */
void service_watchdog_override(struct service *s, uint64_t usec);
/* The watchdog timeout in force: WATCHDOG_USEC= of this run, else WatchdogSec=; 0 when off. */
uint64_t service_watchdog_usec(const struct service *s);
/* EXTEND_TIMEOUT_USEC=: pushes the current start/stop/reload deadline to usec from now. */
void service_extend_timeout(struct service *s, uint64_t usec);
/* RELOADING=1. */
void service_notify_reloading(struct service *s);
/* STOPPING=1: the service is going down by itself; deactivating (stop-sigterm) as if we had
 * sent SIGTERM, with TimeoutStopSec= to do it in (systemd's service_enter_stop_by_notify()). */
void service_notify_stopping(struct service *s);

/* MAINPID=: the main process is now pid (the manager watches it). */
void service_set_main_pid(struct service *s, pid_t pid);

/* Events. */
void service_child_exited(struct service *s, pid_t pid, const struct exit_info *exit);
void service_timer_fired(struct service *s);
/* Some process of the unit went away: re-check whether anything is left. */
void service_group_changed(struct service *s);
/* PIDFile= may have been written: a start waiting for it goes on once it names a process. */
void service_pid_file_changed(struct service *s);

enum active_state service_active_state(const struct service *s);
enum active_state service_state_to_active(enum service_state state);
bool service_is_active(const struct service *s);   /* running, exited or reload */
bool service_is_inactive(const struct service *s); /* dead or failed */
/* True while the state machine waits for processes to go (stop-*, final-*). */
bool service_is_waiting_for_group(const struct service *s);
/* True while the unit's fate hangs on whether any of its processes is left: waiting for them
 * to go, or running (or waiting for PIDFile=) without a known main process. Every exit then
 * calls for service_group_changed(). */
bool service_watches_group(const struct service *s);

/* The Restart= decision: a pure function of the policy and how the run ended, as the table in
 * systemd.service(5) and systemd's service_shall_restart(). *ret_reason explains it. */
bool service_should_restart(const struct unit_config *c, enum service_result result,
                            const struct exit_info *exit, bool stop_requested,
                            const char **ret_reason);

/* The result a process exit gives, as systemd's is_clean_exit() judges it. The main process
 * (main) exits clean with 0, a SuccessExitStatus= status or signal, or, except for
 * Type=oneshot, SIGHUP/SIGINT/SIGTERM/SIGPIPE; a control process (ExecStartPre=, ExecStop=,
 * ...) only with 0. Else exit-code, signal or core-dump. */
enum service_result service_result_from_exit(const struct unit_config *c,
                                             const struct exit_info *exit, bool main);

const char *service_state_to_string(enum service_state s);
const char *active_state_to_string(enum active_state s);
const char *service_result_to_string(enum service_result r);

/* "FAILURE" for 1 and the other LSB names systemd prints after a status; NULL if none. */
const char *exit_status_to_string(int status);

#endif
