/* The per-unit service state machine, after systemd's service.c. It never forks, signals, arms
 * timers or reads the clock itself: everything reaches the world through struct service_ops, so
 * tests drive it with a fake clock and fake processes.
 *
 * States (SubState, with the ActiveState each maps to):
 *   dead (inactive)            nothing runs; the last run succeeded or was never started
 *   start (activating)         main process spawned; Type=oneshot waits here for its exit
 *   running (active)           main process alive (simple, exec)
 *   exited (active)            oneshot with RemainAfterExit=yes finished successfully
 *   stop-sigterm (deactivating) KillSignal= sent, waiting for the group to go, TimeoutStopSec=
 *   stop-sigkill (deactivating) FinalKillSignal= sent after the timeout
 *   final-sigterm (deactivating) main exited by itself; the rest of its group is being killed
 *   final-sigkill (deactivating) ditto, after the timeout
 *   failed (failed)            the last run failed; Result= says how
 *   auto-restart (activating)  waiting RestartSec= before the next start
 *
 * Inputs: start, stop and restart requests; the main process's exit (delivered only once it is
 * reaped AND its output reached the journal); the unit's one timer; reset-failed.
 *
 * Transitions:
 *   dead|failed   --start-->          start-limit check: over -> failed (start-limit-hit)
 *                                     else spawn: error -> failed (exec) [+ restart policy]
 *                                     simple/exec -> running; oneshot -> start
 *   auto-restart  --timer-->          as start, counting NRestarts
 *   auto-restart  --stop-->           dead (no restart)
 *   start         --exit(clean)-->    oneshot: next ExecStart=, or exited/dead
 *   start|running --exit-->           result from the exit; group left? final-sigterm :
 * dead-or-failed start|running --stop-->           stop-sigterm (KillSignal= to main or group, +
 * SIGCONT) start         --timer-->          result timeout, stop-sigterm (TimeoutStartSec=)
 *   stop-sigterm  --timer-->          "State 'stop-sigterm' timed out. Killing."; result timeout;
 *                                     stop-sigkill (SendSIGKILL=no: dead-or-failed)
 *   stop-sigkill  --timer-->          give up waiting: dead-or-failed
 *   stop-*|final-* --exit, group gone--> dead-or-failed
 *   exited        --stop-->           dead
 *   dead-or-failed: result success -> dead, else failed; then, unless a stop was requested,
 *                   the Restart= decision (service_should_restart) -> auto-restart.
 */
#ifndef MINISUP_SERVICE_H
#define MINISUP_SERVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct unit_config;
struct exec_command;

enum service_state {
    SERVICE_STATE_DEAD,
    SERVICE_STATE_START,
    SERVICE_STATE_RUNNING,
    SERVICE_STATE_EXITED,
    SERVICE_STATE_STOP_SIGTERM,
    SERVICE_STATE_STOP_SIGKILL,
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
    SERVICE_RESULT_MAX,
};

/* How a process ended, as waitid() reports it (CLD_EXITED, CLD_KILLED, CLD_DUMPED). */
struct exit_info {
    int code;
    int status; /* exit status, or signal number */
};

struct service;

/* The world as the state machine sees it. `ud` is service_ops_userdata of the service. */
struct service_ops {
    /* Starts cmd as the main process in a new session. 0 with *ret_pid set, or a negative errno
     * with a message in ret_error (e.g. "Failed to execute '/x': No such file or directory"). */
    int (*spawn)(void *ud, const struct exec_command *cmd, pid_t *ret_pid, char *ret_error,
                 size_t error_size);
    /* Sends sig to pid (through its pidfd) or, with group, to its whole process group. Returns
     * 0, or -ESRCH when nothing was there. */
    int (*kill)(void *ud, pid_t pid, int sig, bool group);
    /* True while any process of the unit's group (pgid = first main pid) is alive. */
    bool (*group_alive)(void *ud);
    /* The unit's one timer: arm replaces any armed deadline. */
    void (*timer_arm)(void *ud, uint64_t usec_from_now);
    void (*timer_cancel)(void *ud);
    uint64_t (*now)(void *ud); /* CLOCK_MONOTONIC, µs */
    /* A message for the unit's journal, as systemd's "Started x.service." lines. */
    void (*log)(void *ud, int priority, const char *message);
    /* Called after every state change (jobs, watchers). */
    void (*state_changed)(void *ud, enum service_state old_state, enum service_state new_state);
};

/* A run's history entry: how it ended and what was decided (`minisupctl why`). */
struct service_death {
    uint64_t realtime_usec;
    uint64_t runtime_usec;
    struct exit_info exit;
    enum service_result result;
    bool restarted;
    const char *reason;
};

struct service {
    const struct unit_config *config; /* borrowed; owned by the manager */
    const struct service_ops *ops;
    void *ud;

    enum service_state state;
    enum service_result result; /* first failure of the current run sticks */
    pid_t main_pid;             /* 0 when none */
    pid_t group;                /* process group of the current run, 0 when none */
    struct exit_info main_exit; /* last main process exit */
    bool main_exited;
    size_t exec_index;   /* which ExecStart= a oneshot is running */
    bool stop_requested; /* a stop the user asked for never restarts */

    unsigned n_restarts;
    uint64_t main_start_usec; /* monotonic, for runtime in the death history */

    /* Start rate limit (StartLimitIntervalSec=/StartLimitBurst=) on the monotonic clock. */
    uint64_t limit_begin_usec;
    unsigned limit_count;

    char spawn_error[256]; /* the last exec failure, for status */
};

void service_init(struct service *s, const struct unit_config *config,
                  const struct service_ops *ops, void *ud);

/* Requests. Each returns 0, or -EALREADY (nothing to do), -ECANCELED (start limit hit: the
 * unit is failed with result start-limit-hit), or -EBUSY (stopping; try again when dead). */
int service_start(struct service *s);
int service_stop(struct service *s);
int service_reset_failed(struct service *s);

/* Events. */
void service_main_exited(struct service *s, pid_t pid, const struct exit_info *exit);
void service_timer_fired(struct service *s);
/* The group went empty after the main process had exited (leftover processes died). */
void service_group_empty(struct service *s);

enum active_state service_active_state(const struct service *s);
bool service_is_active(const struct service *s);   /* running or exited */
bool service_is_inactive(const struct service *s); /* dead or failed */

/* The Restart= decision: a pure function of the policy and how the run ended, as the table in
 * systemd.service(5) and systemd's service_shall_restart(). *ret_reason explains it. */
bool service_should_restart(const struct unit_config *c, enum service_result result,
                            const struct exit_info *exit, bool stop_requested,
                            const char **ret_reason);

/* The result a main-process exit gives: success for a clean exit (0, SuccessExitStatus=, or
 * SIGHUP/SIGINT/SIGTERM/SIGPIPE), else exit-code, signal or core-dump. */
enum service_result service_result_from_exit(const struct unit_config *c,
                                             const struct exit_info *exit);

const char *service_state_to_string(enum service_state s);
const char *active_state_to_string(enum active_state s);
const char *service_result_to_string(enum service_result r);

/* "status=1/FAILURE" or "signal=KILL" style text for logs and status. */
const char *exit_status_to_string(int status);

#endif
