/* The service state machine specified at the top of service.h. Only service_set_state() assigns
 * s->state; every transition goes through an enter_*() function, as in systemd's service.c. */
#include "service.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>

#include "unit_file.h"
#include "values.h"

static const char *const state_names[SERVICE_STATE_MAX] = {
    [SERVICE_STATE_DEAD] = "dead",
    [SERVICE_STATE_START_PRE] = "start-pre",
    [SERVICE_STATE_START] = "start",
    [SERVICE_STATE_START_POST] = "start-post",
    [SERVICE_STATE_RUNNING] = "running",
    [SERVICE_STATE_EXITED] = "exited",
    [SERVICE_STATE_RELOAD] = "reload",
    [SERVICE_STATE_STOP] = "stop",
    [SERVICE_STATE_STOP_SIGTERM] = "stop-sigterm",
    [SERVICE_STATE_STOP_SIGKILL] = "stop-sigkill",
    [SERVICE_STATE_STOP_POST] = "stop-post",
    [SERVICE_STATE_FINAL_SIGTERM] = "final-sigterm",
    [SERVICE_STATE_FINAL_SIGKILL] = "final-sigkill",
    [SERVICE_STATE_FAILED] = "failed",
    [SERVICE_STATE_AUTO_RESTART] = "auto-restart",
};

static const char *const active_names[ACTIVE_STATE_MAX] = {
    [ACTIVE_STATE_INACTIVE] = "inactive",
    [ACTIVE_STATE_ACTIVATING] = "activating",
    [ACTIVE_STATE_ACTIVE] = "active",
    [ACTIVE_STATE_RELOADING] = "reloading",
    [ACTIVE_STATE_DEACTIVATING] = "deactivating",
    [ACTIVE_STATE_FAILED] = "failed",
};

static const char *const result_names[SERVICE_RESULT_MAX] = {
    [SERVICE_RESULT_SUCCESS] = "success",
    [SERVICE_RESULT_EXIT_CODE] = "exit-code",
    [SERVICE_RESULT_SIGNAL] = "signal",
    [SERVICE_RESULT_CORE_DUMP] = "core-dump",
    [SERVICE_RESULT_TIMEOUT] = "timeout",
    [SERVICE_RESULT_WATCHDOG] = "watchdog",
    [SERVICE_RESULT_START_LIMIT_HIT] = "start-limit-hit",
    [SERVICE_RESULT_RESOURCES] = "resources",
    [SERVICE_RESULT_EXEC] = "exec",
    [SERVICE_RESULT_PROTOCOL] = "protocol",
};

const char *service_state_to_string(enum service_state s)
{
    return s < SERVICE_STATE_MAX ? state_names[s] : "invalid";
}

const char *active_state_to_string(enum active_state s)
{
    return s < ACTIVE_STATE_MAX ? active_names[s] : "invalid";
}

const char *service_result_to_string(enum service_result r)
{
    return r < SERVICE_RESULT_MAX ? result_names[r] : "invalid";
}

const char *exit_status_to_string(int status)
{
    /* The LSB names systemd prints after the number. */
    static const char *const names[] = {
        "SUCCESS",      "FAILURE",      "INVALIDARGUMENT", "NOTIMPLEMENTED",
        "NOPERMISSION", "NOTINSTALLED", "NOTCONFIGURED",   "NOTRUNNING",
    };
    if (status >= 0 && status < (int)(sizeof(names) / sizeof(names[0])))
        return names[status];
    return NULL;
}

enum active_state service_active_state(const struct service *s)
{
    return service_state_to_active(s->state);
}

enum active_state service_state_to_active(enum service_state state)
{
    switch (state) {
    case SERVICE_STATE_START_PRE:
    case SERVICE_STATE_START:
    case SERVICE_STATE_START_POST:
    case SERVICE_STATE_AUTO_RESTART:
        return ACTIVE_STATE_ACTIVATING;
    case SERVICE_STATE_RUNNING:
    case SERVICE_STATE_EXITED:
        return ACTIVE_STATE_ACTIVE;
    case SERVICE_STATE_RELOAD:
        return ACTIVE_STATE_RELOADING;
    case SERVICE_STATE_STOP:
    case SERVICE_STATE_STOP_SIGTERM:
    case SERVICE_STATE_STOP_SIGKILL:
    case SERVICE_STATE_STOP_POST:
    case SERVICE_STATE_FINAL_SIGTERM:
    case SERVICE_STATE_FINAL_SIGKILL:
        return ACTIVE_STATE_DEACTIVATING;
    case SERVICE_STATE_FAILED:
        return ACTIVE_STATE_FAILED;
    case SERVICE_STATE_DEAD:
    default:
        return ACTIVE_STATE_INACTIVE;
    }
}

bool service_is_active(const struct service *s)
{
    enum active_state a = service_active_state(s);

    return a == ACTIVE_STATE_ACTIVE || a == ACTIVE_STATE_RELOADING;
}

bool service_is_inactive(const struct service *s)
{
    return s->state == SERVICE_STATE_DEAD || s->state == SERVICE_STATE_FAILED;
}

bool service_is_waiting_for_group(const struct service *s)
{
    switch (s->state) {
    case SERVICE_STATE_STOP_SIGTERM:
    case SERVICE_STATE_STOP_SIGKILL:
    case SERVICE_STATE_FINAL_SIGTERM:
    case SERVICE_STATE_FINAL_SIGKILL:
        return true;
    default:
        return false;
    }
}

bool service_watches_group(const struct service *s)
{
    return service_is_waiting_for_group(s) || s->pid_file_pending ||
           (s->main_unknown && s->state == SERVICE_STATE_RUNNING);
}

static bool is_clean_signal(int sig)
{
    return sig == SIGHUP || sig == SIGINT || sig == SIGTERM || sig == SIGPIPE;
}

enum service_result service_result_from_exit(const struct unit_config *c,
                                             const struct exit_info *exit, bool main)
{
    if (exit->code == CLD_EXITED) {
        if (exit->status == 0 ||
            (main && exit_status_set_has_status(&c->success_exit_status, exit->status)))
            return SERVICE_RESULT_SUCCESS;
        return SERVICE_RESULT_EXIT_CODE;
    }
    if (main && ((c->type != SERVICE_TYPE_ONESHOT && is_clean_signal(exit->status)) ||
                 exit_status_set_has_signal(&c->success_exit_status, exit->status)))
        return SERVICE_RESULT_SUCCESS;
    return exit->code == CLD_DUMPED ? SERVICE_RESULT_CORE_DUMP : SERVICE_RESULT_SIGNAL;
}

static bool exit_in_set(const struct exit_status_set *set, const struct exit_info *exit)
{
    if (!exit || exit->code == 0)
        return false;
    if (exit->code == CLD_EXITED)
        return exit_status_set_has_status(set, exit->status);
    return exit_status_set_has_signal(set, exit->status);
}

bool service_should_restart(const struct unit_config *c, enum service_result result,
                            const struct exit_info *exit, bool stop_requested,
                            const char **ret_reason)
{
    bool r;

    if (stop_requested) {
        *ret_reason = "manual stop";
        return false;
    }
    /* The start limit ends restarts by definition; systemd never restarts a limited unit. */
    if (result == SERVICE_RESULT_START_LIMIT_HIT) {
        *ret_reason = "start limit hit";
        return false;
    }
    if (exit_in_set(&c->restart_prevent_exit_status, exit)) {
        *ret_reason = "prevented by exit status";
        return false;
    }
    if (exit_in_set(&c->restart_force_exit_status, exit)) {
        *ret_reason = "forced by exit status";
        return true;
    }
    /* An exec failure counts as an unclean exit code, like systemd's 203/EXEC. */
    if (result == SERVICE_RESULT_EXEC)
        result = SERVICE_RESULT_EXIT_CODE;
    switch (c->restart) {
    case RESTART_ALWAYS:
        r = true;
        break;
    case RESTART_ON_SUCCESS:
        r = result == SERVICE_RESULT_SUCCESS;
        break;
    case RESTART_ON_FAILURE:
        r = result != SERVICE_RESULT_SUCCESS;
        break;
    case RESTART_ON_ABNORMAL:
        r = result != SERVICE_RESULT_SUCCESS && result != SERVICE_RESULT_EXIT_CODE;
        break;
    case RESTART_ON_WATCHDOG:
        r = result == SERVICE_RESULT_WATCHDOG;
        break;
    case RESTART_ON_ABORT:
        r = result == SERVICE_RESULT_SIGNAL || result == SERVICE_RESULT_CORE_DUMP;
        break;
    case RESTART_NO:
    default:
        r = false;
        break;
    }
    /* Named as in the unit file, so status and why say which setting decided. */
    static const char *const by_setting[RESTART_MAX] = {
        [RESTART_NO] = "Restart=no",
        [RESTART_ON_SUCCESS] = "Restart=on-success",
        [RESTART_ON_FAILURE] = "Restart=on-failure",
        [RESTART_ON_ABNORMAL] = "Restart=on-abnormal",
        [RESTART_ON_WATCHDOG] = "Restart=on-watchdog",
        [RESTART_ON_ABORT] = "Restart=on-abort",
        [RESTART_ALWAYS] = "Restart=always",
    };
    *ret_reason = c->restart < RESTART_MAX && by_setting[c->restart] ? by_setting[c->restart]
                                                                     : "restart setting";
    return r;
}

static void service_log(struct service *s, int priority, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void service_log(struct service *s, int priority, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    s->ops->log(s->ud, priority, buf);
}

static const char *describe(const struct service *s)
{
    return s->config->description && *s->config->description ? s->config->description
                                                             : s->config->name;
}

static void service_set_state(struct service *s, enum service_state state)
{
    enum service_state old = s->state;

    /* Only a start waits for PIDFile=; whatever ends the wait ends the watch. */
    if (s->pid_file_pending && state != SERVICE_STATE_START && state != SERVICE_STATE_START_POST) {
        s->pid_file_pending = false;
        s->ops->watch_pid_file(s->ud, false);
    }
    s->state = state;
    if (old != state)
        s->ops->state_changed(s->ud, old, state);
}

/* The first failure of a run is the one reported; later ones don't overwrite it. */
static void set_result(struct service *s, enum service_result r)
{
    if (s->result == SERVICE_RESULT_SUCCESS)
        s->result = r;
}

void service_init(struct service *s, const struct unit_config *config,
                  const struct service_ops *ops, void *ud)
{
    memset(s, 0, sizeof(*s));
    s->config = config;
    s->ops = ops;
    s->ud = ud;
    s->state = SERVICE_STATE_DEAD;
}

static void arm_timeout(struct service *s, uint64_t usec)
{
    if (usec == USEC_INFINITY || usec == 0) {
        s->ops->timer_cancel(s->ud);
        s->deadline_usec = 0;
    } else {
        s->ops->timer_arm(s->ud, usec);
        s->deadline_usec = s->ops->now(s->ud) + usec;
    }
}

static bool uses_group(const struct service *s)
{
    return s->config->kill_mode == KILL_MODE_CONTROL_GROUP ||
           s->config->kill_mode == KILL_MODE_MIXED;
}

static void add_group(struct service *s, pid_t pgid)
{
    for (size_t i = 0; i < s->n_groups; i++)
        if (s->groups[i] == pgid)
            return;
    if (s->n_groups < SERVICE_GROUPS_MAX) {
        s->groups[s->n_groups++] = pgid;
        return;
    }
    /* Very long ExecStartPre= chains: forget the oldest group, which is almost surely empty. */
    memmove(s->groups, s->groups + 1, (SERVICE_GROUPS_MAX - 1) * sizeof(pid_t));
    s->groups[SERVICE_GROUPS_MAX - 1] = pgid;
}

/* Is any process of the run left, whatever KillMode= says: what systemd's cgroup_good()
 * answers for a unit whose main process is unknown. */
static bool any_process_left(struct service *s)
{
    for (size_t i = 0; i < s->n_groups; i++)
        if (s->ops->group_alive(s->ud, s->groups[i]))
            return true;
    return false;
}

/* The main process runs, or, when it is unknown, something of the unit does (service_good()). */
static bool main_good(struct service *s)
{
    return s->main_pid > 0 || (s->main_unknown && any_process_left(s));
}

static bool groups_alive(struct service *s)
{
    if (!uses_group(s))
        return false;
    for (size_t i = 0; i < s->n_groups; i++)
        if (s->ops->group_alive(s->ud, s->groups[i]))
            return true;
    return false;
}

/* What a unit in `state` still waits for. Outside a stop, and with KillMode=control-group,
 * every process of the run. During a stop, by systemd.kill(5): with mixed, SIGTERM goes to
 * the main process only, so the rest is waited for only once SIGKILL went to every group;
 * with process, the main process; with none nothing is killed, so only the control process
 * (the stop command) is waited for, and the rest is left running. */
static bool anything_left_in(struct service *s, enum service_state state)
{
    enum kill_mode mode = s->config->kill_mode;
    bool stopping = state == SERVICE_STATE_STOP_SIGTERM || state == SERVICE_STATE_STOP_SIGKILL ||
                    state == SERVICE_STATE_FINAL_SIGTERM || state == SERVICE_STATE_FINAL_SIGKILL;

    if (s->control_pid > 0)
        return true;
    if (stopping && mode == KILL_MODE_NONE)
        return false;
    if (s->main_pid > 0)
        return true;
    if (stopping && mode == KILL_MODE_MIXED &&
        (state == SERVICE_STATE_STOP_SIGTERM || state == SERVICE_STATE_FINAL_SIGTERM))
        return false;
    return groups_alive(s);
}

static bool anything_left(struct service *s)
{
    return anything_left_in(s, s->state);
}

static void record_death(struct service *s, bool restart, const char *reason)
{
    struct service_death *d;

    if (!s->run_main_exited && s->result == SERVICE_RESULT_SUCCESS)
        return; /* a clean stop of something that never ran is no death */
    d = &s->deaths[s->n_deaths % SERVICE_DEATHS_MAX];
    memset(d, 0, sizeof(*d));
    d->when_usec = s->ops->now(s->ud);
    d->runtime_usec = s->main_start_usec ? d->when_usec - s->main_start_usec : 0;
    d->exit = s->run_main_exited ? s->main_exit : (struct exit_info){0, 0};
    d->result = s->result;
    d->restart = restart;
    d->reason = reason;
    d->restart_number = restart ? s->n_restarts + 1 : 0;
    s->n_deaths++;
}

static void service_enter_dead(struct service *s, enum service_result f, bool allow_restart)
{
    const char *reason = "manual stop";
    bool restart = false;

    set_result(s, f);
    s->ops->timer_cancel(s->ud);
    s->main_pid = 0;
    s->control_pid = 0;
    /* Kept for status: what a KillMode=process/none stop left running is looked up there. */
    memcpy(s->last_groups, s->groups, sizeof(s->groups));
    s->n_last_groups = s->n_groups;
    s->n_groups = 0;
    s->started = false;
    bool start_failed = s->start_pending;
    s->start_pending = false;

    if (allow_restart)
        restart =
            service_should_restart(s->config, s->result, s->run_main_exited ? &s->main_exit : NULL,
                                   s->stop_requested, &reason);
    else if (s->result == SERVICE_RESULT_START_LIMIT_HIT)
        reason = "start limit hit";
    record_death(s, restart, reason);

    /* systemd's order: the unit's own result, then what it means for the start job: a
     * oneshot's start finishes once it is down ("Finished"), a start that never got to
     * running fails ("Failed to start"), unless a stop cancelled it. A unit that was running
     * has no start job to fail: its death is told by the lines before. */
    if (s->result != SERVICE_RESULT_SUCCESS)
        service_log(s, LOG_WARNING, "Failed with result '%s'.",
                    service_result_to_string(s->result));
    else if (s->stop_requested)
        service_log(s, LOG_INFO, "Stopped %s.", describe(s));
    else
        service_log(s, LOG_INFO, "Deactivated successfully.");
    if (s->finish_pending && s->result == SERVICE_RESULT_SUCCESS)
        service_log(s, LOG_INFO, "Finished %s.", describe(s));
    else if (s->result != SERVICE_RESULT_SUCCESS && start_failed && !s->stop_requested)
        service_log(s, LOG_ERR, "Failed to start %s.", describe(s));
    s->finish_pending = false;

    if (restart) {
        service_set_state(s, SERVICE_STATE_AUTO_RESTART);
        s->ops->timer_arm(s->ud, s->config->restart_usec);
        return;
    }
    /* Told even when the state stays the same (failed, then refused by the start limit):
     * the run ended, and the start job and the sockets that trigger the unit must hear it. */
    enum service_state old = s->state, now = s->result == SERVICE_RESULT_SUCCESS
                                                 ? SERVICE_STATE_DEAD
                                                 : SERVICE_STATE_FAILED;
    service_set_state(s, now);
    if (old == now)
        s->ops->state_changed(s->ud, old, now);
}

/* Signals what is left according to KillMode=; the control process is always signalled. */
static void service_send_signal(struct service *s, int sig, bool final)
{
    enum kill_mode mode = s->config->kill_mode;
    bool cont = sig != SIGKILL && sig != SIGCONT;

    if (s->control_pid > 0) {
        s->ops->kill(s->ud, s->control_pid, sig, false);
        if (cont)
            s->ops->kill(s->ud, s->control_pid, SIGCONT, false);
    }
    if (mode == KILL_MODE_NONE)
        return;
    /* mixed: the first signal goes to the main process only, SIGKILL to every group. */
    if (mode == KILL_MODE_CONTROL_GROUP || (mode == KILL_MODE_MIXED && final)) {
        for (size_t i = 0; i < s->n_groups; i++) {
            s->ops->kill(s->ud, s->groups[i], sig, true);
            if (cont)
                s->ops->kill(s->ud, s->groups[i], SIGCONT, true);
        }
        if (s->main_pid > 0 && s->config->type == SERVICE_TYPE_FORKING)
            s->ops->kill(s->ud, s->main_pid, sig, false); /* a daemon that left our groups */
        return;
    }
    if (s->main_pid > 0) {
        s->ops->kill(s->ud, s->main_pid, sig, false);
        if (cont)
            s->ops->kill(s->ud, s->main_pid, SIGCONT, false);
    }
}

static void service_enter_stop_post(struct service *s, enum service_result f);
static void service_enter_running(struct service *s, enum service_result f);
static void service_enter_stop(struct service *s, enum service_result f);

static bool is_stop_state(enum service_state st)
{
    return st == SERVICE_STATE_STOP_SIGTERM || st == SERVICE_STATE_STOP_SIGKILL;
}

static void service_enter_signal(struct service *s, enum service_state state, enum service_result f)
{
    const struct unit_config *c = s->config;
    bool kill = state == SERVICE_STATE_STOP_SIGKILL || state == SERVICE_STATE_FINAL_SIGKILL;

    set_result(s, f);
    if (anything_left_in(s, state) && !(kill && !c->send_sigkill)) {
        int sig = kill                                      ? c->final_kill_signal
                  : s->watchdog_fired                       ? SIGABRT
                  : (s->restarting && is_stop_state(state)) ? c->restart_kill_signal
                                                            : c->kill_signal;
        s->watchdog_fired = false; /* WatchdogSignal= only once; the rest is the usual path */
        service_send_signal(s, sig, kill);
        if (!kill && c->send_sighup)
            service_send_signal(s, SIGHUP, false);
        service_set_state(s, state);
        arm_timeout(s, c->timeout_stop_usec);
        /* The signal may already have emptied everything (nothing will report it then). */
        if (anything_left(s))
            return;
    }
    /* mixed: what is left of the groups gets SIGKILL now (if SendSIGKILL=), not SIGTERM. */
    if (state == SERVICE_STATE_FINAL_SIGTERM && c->kill_mode == KILL_MODE_MIXED &&
        groups_alive(s)) {
        service_enter_signal(s, SERVICE_STATE_FINAL_SIGKILL, SERVICE_RESULT_SUCCESS);
        return;
    }
    if (is_stop_state(state))
        service_enter_stop_post(s, SERVICE_RESULT_SUCCESS);
    else
        service_enter_dead(s, SERVICE_RESULT_SUCCESS, true);
}

/* Spawns the next command of a control list. Returns false when the list is done. */
static bool run_next_control(struct service *s, enum service_result *ret_failure)
{
    pid_t pid;

    *ret_failure = SERVICE_RESULT_SUCCESS;
    while (s->control_index < s->control_n) {
        const struct exec_command *cmd = &s->control_cmds[s->control_index];
        int r = s->ops->spawn(s->ud, cmd, SERVICE_ROLE_CONTROL, &pid, s->spawn_error,
                              sizeof(s->spawn_error));
        if (r >= 0) {
            s->control_pid = pid;
            s->control_exec_pending = r > 0;
            add_group(s, pid);
            return true;
        }
        service_log(s, LOG_ERR, "%s", s->spawn_error);
        s->control_index++;
        if (!(cmd->flags & EXEC_FLAG_IGNORE_FAILURE)) {
            *ret_failure = SERVICE_RESULT_EXEC;
            return false;
        }
    }
    return false;
}

/* Starts a list of control commands in `state`; returns false when there was nothing to run
 * (or the first spawn failed: *ret_failure says which). */
static bool start_controls(struct service *s, enum service_state state,
                           const struct exec_list *list, uint64_t timeout,
                           enum service_result *ret_failure)
{
    s->control_cmds = list->items;
    s->control_n = list->n;
    s->control_index = 0;
    s->control_pid = 0;
    if (!run_next_control(s, ret_failure))
        return false;
    service_set_state(s, state);
    arm_timeout(s, timeout);
    return true;
}

static void service_enter_stop_post(struct service *s, enum service_result f)
{
    enum service_result failure;

    set_result(s, f);
    if (start_controls(s, SERVICE_STATE_STOP_POST, &s->config->exec_stop_post,
                       s->config->timeout_stop_usec, &failure))
        return;
    service_enter_signal(s, SERVICE_STATE_FINAL_SIGTERM, failure);
}

static void service_enter_stop(struct service *s, enum service_result f)
{
    enum service_result failure;

    set_result(s, f);
    if (s->started && start_controls(s, SERVICE_STATE_STOP, &s->config->exec_stop,
                                     s->config->timeout_stop_usec, &failure))
        return;
    service_enter_signal(s, SERVICE_STATE_STOP_SIGTERM,
                         s->started ? failure : SERVICE_RESULT_SUCCESS);
}

uint64_t service_watchdog_usec(const struct service *s)
{
    uint64_t usec = s->watchdog_override ? s->watchdog_override_usec : s->config->watchdog_usec;

    return usec == USEC_INFINITY ? 0 : usec;
}

/* Running: the unit's timer is free, so it is the watchdog's, armed from now (or off). */
static void watchdog_arm(struct service *s)
{
    uint64_t usec = service_watchdog_usec(s);

    if (usec > 0)
        arm_timeout(s, usec);
    else
        s->ops->timer_cancel(s->ud);
}

static void service_enter_running(struct service *s, enum service_result f)
{
    const struct unit_config *c = s->config;

    set_result(s, f);
    if (s->result != SERVICE_RESULT_SUCCESS) {
        service_enter_signal(s, SERVICE_STATE_STOP_SIGTERM, SERVICE_RESULT_SUCCESS);
        return;
    }
    s->started = true;
    /* The start is over, but for a plain oneshot's, which ends when the unit is down. */
    s->start_pending = c->type == SERVICE_TYPE_ONESHOT && !c->remain_after_exit;
    if (main_good(s)) {
        s->ops->timer_cancel(s->ud);
        service_set_state(s, SERVICE_STATE_RUNNING);
        service_log(s, LOG_INFO, "Started %s.", describe(s));
        /* WatchdogSec=: the unit's timer is free while running; pings re-arm it. */
        watchdog_arm(s);
        return;
    }
    if (c->type == SERVICE_TYPE_ONESHOT && c->remain_after_exit)
        service_log(s, LOG_INFO, "Finished %s.", describe(s));
    else if (c->type == SERVICE_TYPE_ONESHOT)
        s->finish_pending = true;
    if (c->remain_after_exit) {
        s->ops->timer_cancel(s->ud);
        service_set_state(s, SERVICE_STATE_EXITED);
        return;
    }
    service_enter_stop(s, SERVICE_RESULT_SUCCESS);
}

static void service_enter_start_post(struct service *s)
{
    enum service_result failure;

    if (start_controls(s, SERVICE_STATE_START_POST, &s->config->exec_start_post,
                       s->config->timeout_start_usec, &failure))
        return;
    if (failure != SERVICE_RESULT_SUCCESS) {
        /* The start failed: systemd.service(5) runs no ExecStop= then ("not invoked if ...
         * ExecStartPost= failed"), only ExecStopPost=. */
        service_enter_stop(s, failure);
        return;
    }
    service_enter_running(s, SERVICE_RESULT_SUCCESS);
}

/* Spawns ExecStart= number exec_index as the main process. */
static void service_spawn_main(struct service *s)
{
    const struct unit_config *c = s->config;
    const struct exec_command *cmd;
    pid_t pid;
    int r;

    /* Entered before the spawn: a start whose every command fails to exec under "-" still
     * passes through start, so its end is a state change and ends the start job. */
    service_set_state(s, SERVICE_STATE_START);
    while (s->exec_index < c->exec_start.n) {
        cmd = &c->exec_start.items[s->exec_index];
        r = s->ops->spawn(s->ud, cmd, SERVICE_ROLE_MAIN, &pid, s->spawn_error,
                          sizeof(s->spawn_error));
        if (r >= 0) {
            s->main_pid = pid;
            s->main_is_command = true;
            s->main_exec_pending = r > 0;
            add_group(s, pid);
            s->main_exited = false;
            s->main_start_usec = s->ops->now(s->ud);
            break;
        }
        service_log(s, LOG_ERR, "%s", s->spawn_error);
        if (!(cmd->flags & EXEC_FLAG_IGNORE_FAILURE)) {
            s->main_exited = false;
            service_enter_signal(s, SERVICE_STATE_STOP_SIGTERM, SERVICE_RESULT_EXEC);
            return;
        }
        /* "-": the failure counts as success; a oneshot goes on with its next command. */
        s->exec_index++;
    }
    if (s->main_pid == 0) {
        service_enter_start_post(s); /* every command was a failed "-" one, or none at all */
        return;
    }
    switch (c->type) {
    case SERVICE_TYPE_ONESHOT:
    case SERVICE_TYPE_FORKING:
    case SERVICE_TYPE_NOTIFY:
        /* Wait for the command (oneshot), the parent (forking) to exit, or READY=1 (notify). */
        service_set_state(s, SERVICE_STATE_START);
        arm_timeout(s, c->timeout_start_usec);
        return;
    default:
        /* simple, exec, idle, dbus: running once exec succeeded (Type=exec semantics for all:
         * an exec failure is known before the start job ends). */
        service_set_state(s, SERVICE_STATE_START);
        if (s->main_exec_pending) {
            arm_timeout(s, c->timeout_start_usec);
            return; /* service_exec_result() goes on */
        }
        service_enter_start_post(s);
        return;
    }
}

static void service_enter_start(struct service *s)
{
    s->exec_index = 0;
    service_spawn_main(s);
}

static bool start_limit_hit(struct service *s)
{
    const struct unit_config *c = s->config;
    uint64_t now = s->ops->now(s->ud);

    /* Burst 0 or interval 0 switches the limit off, as in systemd. */
    if (c->start_limit_burst == 0 || c->start_limit_interval_usec == 0)
        return false;
    if (s->limit_count == 0 || now - s->limit_begin_usec > c->start_limit_interval_usec) {
        s->limit_begin_usec = now;
        s->limit_count = 0;
    }
    s->limit_count++;
    return s->limit_count > c->start_limit_burst;
}

/* A new run: the start limit, then ExecStartPre=. explicit: a start someone asked for, which
 * begins a new count of automatic restarts once the start limit lets it through (systemd
 * clears NRestarts= only then). */
static void service_enter_start_pre(struct service *s, bool explicit)
{
    enum service_result failure;

    s->result = SERVICE_RESULT_SUCCESS;
    s->main_pid = s->control_pid = 0;
    s->n_groups = 0;
    /* main_exit/main_exited keep describing the last main process until the next one runs
     * (ExecMainStatus= in status); spawning clears main_exited. */
    s->run_main_exited = false;
    s->main_start_usec = 0;
    s->stop_requested = false;
    s->restarting = false;
    s->started = false;
    s->start_pending = true;
    s->finish_pending = false;
    s->main_unknown = false;
    s->watchdog_override = false; /* WATCHDOG_USEC= counts for one run (systemd's start) */
    if (start_limit_hit(s)) {
        service_log(s, LOG_WARNING, "Start request repeated too quickly.");
        service_enter_dead(s, SERVICE_RESULT_START_LIMIT_HIT, false);
        return;
    }
    if (explicit)
        s->n_restarts = 0;
    service_log(s, LOG_INFO, "Starting %s...", describe(s));
    if (start_controls(s, SERVICE_STATE_START_PRE, &s->config->exec_start_pre,
                       s->config->timeout_start_usec, &failure))
        return;
    if (failure != SERVICE_RESULT_SUCCESS) {
        service_enter_signal(s, SERVICE_STATE_STOP_SIGTERM, failure);
        return;
    }
    service_enter_start(s);
}

int service_start(struct service *s)
{
    switch (s->state) {
    case SERVICE_STATE_START_PRE:
    case SERVICE_STATE_START:
    case SERVICE_STATE_START_POST:
    case SERVICE_STATE_RUNNING:
    case SERVICE_STATE_EXITED:
    case SERVICE_STATE_RELOAD:
        return -EALREADY;
    case SERVICE_STATE_STOP:
    case SERVICE_STATE_STOP_SIGTERM:
    case SERVICE_STATE_STOP_SIGKILL:
    case SERVICE_STATE_STOP_POST:
    case SERVICE_STATE_FINAL_SIGTERM:
    case SERVICE_STATE_FINAL_SIGKILL:
        return -EBUSY;
    case SERVICE_STATE_AUTO_RESTART:
        /* As systemd's service_start(): the start job stays queued and the restart timer
         * starts the unit; a user who will not wait RestartSec= restarts it instead. */
        return -EAGAIN;
    default:
        break;
    }
    service_enter_start_pre(s, true);
    return s->result == SERVICE_RESULT_START_LIMIT_HIT ? -ECANCELED : 0;
}

static int do_stop(struct service *s, bool restarting)
{
    switch (s->state) {
    case SERVICE_STATE_DEAD:
    case SERVICE_STATE_FAILED:
        return -EALREADY;
    case SERVICE_STATE_AUTO_RESTART:
        s->stop_requested = true;
        s->ops->timer_cancel(s->ud);
        service_set_state(s, SERVICE_STATE_DEAD);
        return 0;
    case SERVICE_STATE_STOP:
    case SERVICE_STATE_STOP_SIGTERM:
    case SERVICE_STATE_STOP_SIGKILL:
    case SERVICE_STATE_STOP_POST:
    case SERVICE_STATE_FINAL_SIGTERM:
    case SERVICE_STATE_FINAL_SIGKILL:
        /* Already on its way down: just make sure it stays down. */
        s->stop_requested = true;
        return -EALREADY;
    default:
        break;
    }
    s->stop_requested = true;
    s->restarting = restarting;
    service_log(s, LOG_INFO, "Stopping %s...", describe(s));
    switch (s->state) {
    case SERVICE_STATE_START_PRE:
    case SERVICE_STATE_START:
    case SERVICE_STATE_START_POST:
        /* A start that has not finished has nothing for ExecStop= to stop cleanly. */
        service_enter_signal(s, SERVICE_STATE_STOP_SIGTERM, SERVICE_RESULT_SUCCESS);
        break;
    default:
        service_enter_stop(s, SERVICE_RESULT_SUCCESS);
        break;
    }
    return 0;
}

int service_stop(struct service *s)
{
    return do_stop(s, false);
}

int service_stop_for_restart(struct service *s)
{
    return do_stop(s, true);
}

int service_reload(struct service *s)
{
    enum service_result failure;

    if (s->state != SERVICE_STATE_RUNNING && s->state != SERVICE_STATE_EXITED)
        return -EALREADY;
    if (s->config->exec_reload.n == 0)
        return -EOPNOTSUPP;
    s->reload_failed = false;
    service_log(s, LOG_INFO, "Reloading %s...", describe(s));
    if (start_controls(s, SERVICE_STATE_RELOAD, &s->config->exec_reload,
                       s->config->timeout_start_usec, &failure))
        return 0;
    /* Nothing ran: every command failed to execute, and "-" made all of them count as
     * success, or one without it failed. */
    if (failure == SERVICE_RESULT_SUCCESS) {
        service_log(s, LOG_INFO, "Reloaded %s.", describe(s));
        return 1;
    }
    service_log(s, LOG_WARNING, "Reload failed.");
    s->reload_failed = true;
    return -EIO;
}

void service_refuse_restart(struct service *s)
{
    if (s->state != SERVICE_STATE_AUTO_RESTART)
        return;
    s->ops->timer_cancel(s->ud);
    /* systemd's service_enter_dead(s, SERVICE_FAILURE_RESOURCES): the first failure stays. */
    if (s->result == SERVICE_RESULT_SUCCESS)
        s->result = SERVICE_RESULT_RESOURCES;
    service_set_state(s, SERVICE_STATE_FAILED);
}

int service_reset_failed(struct service *s)
{
    s->limit_count = 0;
    if (s->state != SERVICE_STATE_FAILED)
        return -EALREADY;
    s->result = SERVICE_RESULT_SUCCESS;
    service_set_state(s, SERVICE_STATE_DEAD);
    return 0;
}

static void log_exit(struct service *s, const char *who, const struct exit_info *exit)
{
    const char *name;

    if (exit->code == CLD_EXITED) {
        name = exit_status_to_string(exit->status);
        if (name)
            service_log(s, exit->status ? LOG_NOTICE : LOG_INFO,
                        "%s exited, code=exited, status=%d/%s", who, exit->status, name);
        else
            service_log(s, LOG_NOTICE, "%s exited, code=exited, status=%d", who, exit->status);
        return;
    }
    /* A death by signal is a warning, as systemd's unit_log_process_exit() has it: a crash
     * must show under journal -p warning. */
    name = signal_to_string(exit->status);
    service_log(s, LOG_WARNING, "%s exited, code=%s, status=%d/%s", who,
                exit->code == CLD_DUMPED ? "dumped" : "killed", exit->status, name ? name : "?");
}

/* Type=forking: takes the daemon as the main process. Without PIDFile=, a daemon that cannot
 * be told apart leaves the main pid unknown and the unit supervised by its processes. */
static bool find_forking_main(struct service *s, bool warn)
{
    pid_t pid;

    if (s->ops->find_main_pid(s->ud, s->groups[0], warn, &pid) >= 0) {
        s->main_pid = pid;
        s->main_is_command = false;
        s->main_exited = false;
        s->main_unknown = false;
        return true;
    }
    s->main_unknown = true;
    return false;
}

/* PIDFile= is not there yet (systemd's service_demand_pid_file()): wait for it in this state
 * until the start timeout, unless nothing is left to write it. */
static void await_pid_file(struct service *s)
{
    if (!any_process_left(s)) {
        service_log(s, LOG_WARNING, "Daemon never wrote its PID file. Failing.");
        if (s->state == SERVICE_STATE_START)
            service_enter_signal(s, SERVICE_STATE_STOP_SIGTERM, SERVICE_RESULT_PROTOCOL);
        else
            service_enter_stop(s, SERVICE_RESULT_PROTOCOL);
        return;
    }
    s->pid_file_pending = true;
    s->ops->watch_pid_file(s->ud, true);
}

static void main_exited(struct service *s, const struct exit_info *exit)
{
    const struct unit_config *c = s->config;
    enum service_result f = service_result_from_exit(c, exit, true);
    /* "-" on the ExecStart= that ran: its failure is logged, then counts as success, as in
     * systemd; not so for a main process found by PIDFile= or MAINPID=. */
    bool ignore = s->main_is_command && s->exec_index < c->exec_start.n &&
                  (c->exec_start.items[s->exec_index].flags & EXEC_FLAG_IGNORE_FAILURE);

    s->exec_main_pid = s->main_pid;
    s->main_pid = 0;
    s->main_exit = *exit;
    s->main_exited = true;
    s->run_main_exited = true;
    /* Our own kill signal ending a stop is clean, whatever SuccessExitStatus= says. */
    if ((s->state == SERVICE_STATE_STOP_SIGTERM || s->state == SERVICE_STATE_STOP) &&
        exit->code != CLD_EXITED &&
        (exit->status == c->kill_signal || exit->status == c->restart_kill_signal))
        f = SERVICE_RESULT_SUCCESS;
    /* A clean death from our own stop is expected; anything else is worth a line. */
    if (f != SERVICE_RESULT_SUCCESS || s->state == SERVICE_STATE_RUNNING ||
        (s->state == SERVICE_STATE_START && c->type != SERVICE_TYPE_ONESHOT))
        log_exit(s, "Main process", exit);
    if (ignore)
        f = SERVICE_RESULT_SUCCESS;

    switch (s->state) {
    case SERVICE_STATE_START:
        if (c->type == SERVICE_TYPE_FORKING) {
            if (f != SERVICE_RESULT_SUCCESS) {
                service_enter_signal(s, SERVICE_STATE_STOP_SIGTERM, f);
                return;
            }
            /* The parent is gone; the daemon it left behind is the main process now. An
             * ExecStartPost= may be what writes PIDFile=: then it is looked for again after. */
            if (find_forking_main(s, c->exec_start_post.n == 0) || c->exec_start_post.n > 0 ||
                !c->pid_file)
                service_enter_start_post(s);
            else
                await_pid_file(s);
            return;
        }
        if (c->type == SERVICE_TYPE_ONESHOT) {
            if (f != SERVICE_RESULT_SUCCESS &&
                !(c->exec_start.items[s->exec_index].flags & EXEC_FLAG_IGNORE_FAILURE)) {
                service_enter_signal(s, SERVICE_STATE_STOP_SIGTERM, f);
                return;
            }
            s->exec_index++;
            if (s->exec_index < c->exec_start.n) {
                service_spawn_main(s);
                return;
            }
            service_enter_start_post(s);
            return;
        }
        /* notify: gone before READY=1. A clean exit is still a broken protocol. */
        if (c->type == SERVICE_TYPE_NOTIFY && f == SERVICE_RESULT_SUCCESS) {
            service_log(s, LOG_WARNING, "Main process exited before sending READY=1.");
            f = SERVICE_RESULT_PROTOCOL;
        }
        service_enter_signal(s, SERVICE_STATE_STOP_SIGTERM, f);
        return;
    case SERVICE_STATE_START_POST:
    case SERVICE_STATE_RELOAD:
        /* Recorded; the control process's end decides what happens next. */
        set_result(s, f);
        return;
    case SERVICE_STATE_RUNNING:
        service_enter_stop(s, f);
        return;
    case SERVICE_STATE_STOP:
        set_result(s, f);
        return;
    case SERVICE_STATE_STOP_SIGTERM:
    case SERVICE_STATE_STOP_SIGKILL:
    case SERVICE_STATE_FINAL_SIGTERM:
    case SERVICE_STATE_FINAL_SIGKILL:
        set_result(s, f);
        service_group_changed(s);
        return;
    default:
        return;
    }
}

static void control_finished(struct service *s, enum service_result f);

static void control_exited(struct service *s, const struct exit_info *exit)
{
    enum service_result f = service_result_from_exit(s->config, exit, false);

    if (f != SERVICE_RESULT_SUCCESS)
        log_exit(s, "Control process", exit);
    control_finished(s, f);
}

/* The control process ended with result f (an exit, or a failed exec). */
static void control_finished(struct service *s, enum service_result f)
{
    const struct unit_config *c = s->config;
    const struct exec_command *cmd = &s->control_cmds[s->control_index];
    enum service_result failure;

    s->control_pid = 0;
    s->control_exec_pending = false;
    if (f != SERVICE_RESULT_SUCCESS && (cmd->flags & EXEC_FLAG_IGNORE_FAILURE))
        f = SERVICE_RESULT_SUCCESS;
    if (f == SERVICE_RESULT_SUCCESS) {
        s->control_index++;
        if (run_next_control(s, &failure))
            return; /* the next command of the same list */
        f = failure;
    }

    switch (s->state) {
    case SERVICE_STATE_START_PRE:
        if (f == SERVICE_RESULT_SUCCESS)
            service_enter_start(s);
        else
            service_enter_signal(s, SERVICE_STATE_STOP_SIGTERM, f);
        return;
    case SERVICE_STATE_START_POST:
        if (f != SERVICE_RESULT_SUCCESS) {
            /* A failed start: no ExecStop= (see service_enter_start_post()). */
            service_enter_stop(s, f);
            return;
        }
        if (c->type == SERVICE_TYPE_FORKING && s->main_pid == 0 && c->pid_file &&
            !find_forking_main(s, true)) {
            await_pid_file(s);
            return;
        }
        service_enter_running(s, SERVICE_RESULT_SUCCESS);
        return;
    case SERVICE_STATE_RELOAD:
        s->reload_failed = f != SERVICE_RESULT_SUCCESS;
        if (f != SERVICE_RESULT_SUCCESS)
            service_log(s, LOG_WARNING, "Reload failed.");
        else
            service_log(s, LOG_INFO, "Reloaded %s.", describe(s));
        if (main_good(s)) {
            /* The reload's timeout had the timer: the watchdog's again, from now. */
            service_set_state(s, SERVICE_STATE_RUNNING);
            watchdog_arm(s);
        } else if (c->remain_after_exit) {
            s->ops->timer_cancel(s->ud);
            service_set_state(s, SERVICE_STATE_EXITED);
        } else {
            service_enter_stop(s, SERVICE_RESULT_SUCCESS);
        }
        return;
    case SERVICE_STATE_STOP:
        service_enter_signal(s, SERVICE_STATE_STOP_SIGTERM, f);
        return;
    case SERVICE_STATE_STOP_POST:
        service_enter_signal(s, SERVICE_STATE_FINAL_SIGTERM, f);
        return;
    case SERVICE_STATE_STOP_SIGTERM:
    case SERVICE_STATE_STOP_SIGKILL:
    case SERVICE_STATE_FINAL_SIGTERM:
    case SERVICE_STATE_FINAL_SIGKILL:
        service_group_changed(s);
        return;
    default:
        return;
    }
}

void service_child_exited(struct service *s, pid_t pid, const struct exit_info *exit)
{
    if (pid <= 0)
        return;
    if (pid == s->main_pid)
        main_exited(s, exit);
    else if (pid == s->control_pid)
        control_exited(s, exit);
}

void service_exec_result(struct service *s, pid_t pid, bool ok, const char *error)
{
    const struct unit_config *c = s->config;

    if (pid <= 0)
        return;
    if (pid == s->control_pid && s->control_exec_pending) {
        s->control_exec_pending = false;
        if (ok)
            return;
        service_log(s, LOG_ERR, "%s", error);
        control_finished(s, SERVICE_RESULT_EXEC);
        return;
    }
    if (pid != s->main_pid || !s->main_exec_pending)
        return;
    s->main_exec_pending = false;
    if (!ok) {
        const struct exec_command *cmd = &c->exec_start.items[s->exec_index];
        service_log(s, LOG_ERR, "%s", error);
        snprintf(s->spawn_error, sizeof(s->spawn_error), "%s", error);
        s->main_pid = 0;
        s->main_exited = false;
        if (s->state != SERVICE_STATE_START) {
            service_group_changed(s); /* stopping already: one process fewer */
            return;
        }
        if (cmd->flags & EXEC_FLAG_IGNORE_FAILURE) {
            /* "-": a oneshot goes on with its next command, others count as started. */
            s->exec_index++;
            if (c->type == SERVICE_TYPE_ONESHOT && s->exec_index < c->exec_start.n)
                service_spawn_main(s);
            else
                service_enter_start_post(s);
            return;
        }
        service_enter_signal(s, SERVICE_STATE_STOP_SIGTERM, SERVICE_RESULT_EXEC);
        return;
    }
    /* Exec succeeded: simple-like types are started now; the others wait for their event. */
    if (s->state == SERVICE_STATE_START && c->type != SERVICE_TYPE_ONESHOT &&
        c->type != SERVICE_TYPE_FORKING && c->type != SERVICE_TYPE_NOTIFY)
        service_enter_start_post(s);
}

void service_notify_reloading(struct service *s)
{
    /* RELOADING=1 from a running service: reloading until READY=1 (Type=notify-reload). */
    if (s->state == SERVICE_STATE_RUNNING) {
        service_set_state(s, SERVICE_STATE_RELOAD);
        arm_timeout(s, s->config->timeout_start_usec);
    }
}

void service_notify_stopping(struct service *s)
{
    if (s->state == SERVICE_STATE_RUNNING || s->state == SERVICE_STATE_RELOAD) {
        service_set_state(s, SERVICE_STATE_STOP_SIGTERM);
        arm_timeout(s, s->config->timeout_stop_usec);
    }
}

void service_notify_ready(struct service *s)
{
    if (s->state == SERVICE_STATE_START && s->config->type == SERVICE_TYPE_NOTIFY &&
        s->main_pid > 0) {
        service_enter_start_post(s);
        return;
    }
    if (s->state == SERVICE_STATE_RELOAD && s->control_pid == 0) {
        service_set_state(s, SERVICE_STATE_RUNNING);
        watchdog_arm(s);
    }
}

void service_watchdog_ping(struct service *s)
{
    if (s->state == SERVICE_STATE_RUNNING && service_watchdog_usec(s) > 0)
        arm_timeout(s, service_watchdog_usec(s));
}

/* Watchdog timeout or WATCHDOG=trigger: WatchdogSignal= (SIGABRT) first, result watchdog. */
static void watchdog_fire(struct service *s)
{
    s->watchdog_fired = true;
    s->started = false; /* no ExecStop= for a hung service */
    service_enter_signal(s, SERVICE_STATE_STOP_SIGTERM, SERVICE_RESULT_WATCHDOG);
}

void service_watchdog_trigger(struct service *s, const char *status)
{
    /* systemd's service_force_watchdog() acts in any state; a stop already under way keeps
     * its own signals here, so only a start, a run or a reload is cut short. */
    if (s->state != SERVICE_STATE_START && s->state != SERVICE_STATE_START_POST &&
        s->state != SERVICE_STATE_RUNNING && s->state != SERVICE_STATE_RELOAD)
        return;
    service_log(s, LOG_ERR, "Watchdog request (last status: %s)!", status ? status : "<unset>");
    watchdog_fire(s);
}

void service_watchdog_override(struct service *s, uint64_t usec)
{
    /* Kept whatever the state (systemd's service_override_watchdog_timeout()): a READY=1 that
     * comes later arms it. While running, the new timeout counts from now. */
    s->watchdog_override = true;
    s->watchdog_override_usec = usec;
    if (s->state == SERVICE_STATE_RUNNING)
        watchdog_arm(s);
}

void service_extend_timeout(struct service *s, uint64_t usec)
{
    uint64_t now = s->ops->now(s->ud);

    /* EXTEND_TIMEOUT_USEC=: only a start, stop or reload deadline, and only later. */
    if (s->deadline_usec == 0 || s->state == SERVICE_STATE_RUNNING ||
        s->state == SERVICE_STATE_AUTO_RESTART || now + usec <= s->deadline_usec)
        return;
    arm_timeout(s, usec);
}

void service_set_main_pid(struct service *s, pid_t pid)
{
    if (pid <= 0 || pid == s->main_pid)
        return;
    s->main_pid = pid;
    s->main_is_command = false;
    s->main_exited = false;
    s->main_unknown = false;
}

void service_group_changed(struct service *s)
{
    if (s->pid_file_pending) {
        if (!any_process_left(s))
            await_pid_file(s); /* nobody left to write it: protocol */
        return;
    }
    if (s->main_unknown && s->state == SERVICE_STATE_RUNNING) {
        /* The last process of a unit whose main pid is unknown is gone: it ended. */
        if (!any_process_left(s))
            service_enter_running(s, SERVICE_RESULT_SUCCESS);
        return;
    }
    if (!service_is_waiting_for_group(s) || anything_left(s))
        return;
    if (is_stop_state(s->state))
        service_enter_stop_post(s, SERVICE_RESULT_SUCCESS);
    else
        service_enter_dead(s, SERVICE_RESULT_SUCCESS, true);
}

void service_pid_file_changed(struct service *s)
{
    if (!s->pid_file_pending || !find_forking_main(s, false))
        return;
    s->pid_file_pending = false;
    s->ops->watch_pid_file(s->ud, false);
    service_enter_running(s, SERVICE_RESULT_SUCCESS);
}

void service_timer_fired(struct service *s)
{
    const struct unit_config *c = s->config;

    switch (s->state) {
    case SERVICE_STATE_START_PRE:
    case SERVICE_STATE_START:
        service_log(s, LOG_WARNING, "%s operation timed out. Terminating.",
                    s->state == SERVICE_STATE_START ? "Start" : "Start-pre");
        service_enter_signal(s, SERVICE_STATE_STOP_SIGTERM, SERVICE_RESULT_TIMEOUT);
        return;
    case SERVICE_STATE_START_POST:
        service_log(s, LOG_WARNING, "Start-post operation timed out. Stopping.");
        /* A failed start: no ExecStop= (see service_enter_start_post()). */
        service_enter_stop(s, SERVICE_RESULT_TIMEOUT);
        return;
    case SERVICE_STATE_RELOAD:
        service_log(s, LOG_WARNING, "Reload operation timed out. Killing reload process.");
        if (s->control_pid > 0)
            s->ops->kill(s->ud, s->control_pid, SIGKILL, false);
        return;
    case SERVICE_STATE_STOP:
        service_log(s, LOG_WARNING, "State 'stop' timed out. Terminating.");
        service_enter_signal(s, SERVICE_STATE_STOP_SIGTERM, SERVICE_RESULT_TIMEOUT);
        return;
    case SERVICE_STATE_STOP_SIGTERM:
        if (!c->send_sigkill) {
            service_log(s, LOG_WARNING, "State 'stop-sigterm' timed out. Skipping SIGKILL.");
            service_enter_stop_post(s, SERVICE_RESULT_TIMEOUT);
            return;
        }
        service_log(s, LOG_WARNING, "State 'stop-sigterm' timed out. Killing.");
        service_enter_signal(s, SERVICE_STATE_STOP_SIGKILL, SERVICE_RESULT_TIMEOUT);
        return;
    case SERVICE_STATE_STOP_SIGKILL:
        /* SIGKILL cannot be ignored; a process stuck in the kernel is reported and left. */
        service_log(s, LOG_WARNING, "Processes still around after SIGKILL. Ignoring.");
        s->main_pid = s->control_pid = 0;
        service_enter_stop_post(s, SERVICE_RESULT_TIMEOUT);
        return;
    case SERVICE_STATE_STOP_POST:
        service_log(s, LOG_WARNING, "State 'stop-post' timed out. Terminating.");
        service_enter_signal(s, SERVICE_STATE_FINAL_SIGTERM, SERVICE_RESULT_TIMEOUT);
        return;
    case SERVICE_STATE_FINAL_SIGTERM:
        if (!c->send_sigkill) {
            service_log(s, LOG_WARNING, "State 'final-sigterm' timed out. Skipping SIGKILL.");
            service_enter_dead(s, SERVICE_RESULT_TIMEOUT, true);
            return;
        }
        service_log(s, LOG_WARNING, "State 'final-sigterm' timed out. Killing.");
        service_enter_signal(s, SERVICE_STATE_FINAL_SIGKILL, SERVICE_RESULT_TIMEOUT);
        return;
    case SERVICE_STATE_FINAL_SIGKILL:
        service_log(s, LOG_WARNING,
                    "Processes still around after final SIGKILL. Entering failed mode.");
        s->main_pid = s->control_pid = 0;
        service_enter_dead(s, SERVICE_RESULT_TIMEOUT, true);
        return;
    case SERVICE_STATE_RUNNING:
        if (service_watchdog_usec(s) == 0)
            return;
        service_log(s, LOG_ERR, "Watchdog timeout (limit %llums)!",
                    (unsigned long long)(service_watchdog_usec(s) / 1000));
        /* systemd's WatchdogSignal= default: SIGABRT to the main process, a core if allowed. */
        watchdog_fire(s);
        return;
    case SERVICE_STATE_AUTO_RESTART:
        s->n_restarts++;
        service_log(s, LOG_INFO, "Scheduled restart job, restart counter is at %u.", s->n_restarts);
        /* The restart job's stop half ends at once: the unit is already down. */
        service_log(s, LOG_INFO, "Stopped %s.", describe(s));
        service_enter_start_pre(s, false);
        return;
    default:
        return;
    }
}
