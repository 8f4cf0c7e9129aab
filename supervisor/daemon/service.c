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
    [SERVICE_STATE_START] = "start",
    [SERVICE_STATE_RUNNING] = "running",
    [SERVICE_STATE_EXITED] = "exited",
    [SERVICE_STATE_STOP_SIGTERM] = "stop-sigterm",
    [SERVICE_STATE_STOP_SIGKILL] = "stop-sigkill",
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
    static const char *const names[] = {"SUCCESS",        "FAILURE",      "INVALIDARGUMENT",
                                        "NOTIMPLEMENTED", "NOPERMISSION", "NOTINSTALLED",
                                        "NOTCONFIGURED",  "NOTRUNNING"};
    if (status >= 0 && status < (int)(sizeof(names) / sizeof(names[0])))
        return names[status];
    return NULL;
}

enum active_state service_active_state(const struct service *s)
{
    switch (s->state) {
    case SERVICE_STATE_DEAD:
        return ACTIVE_STATE_INACTIVE;
    case SERVICE_STATE_START:
    case SERVICE_STATE_AUTO_RESTART:
        return ACTIVE_STATE_ACTIVATING;
    case SERVICE_STATE_RUNNING:
    case SERVICE_STATE_EXITED:
        return ACTIVE_STATE_ACTIVE;
    case SERVICE_STATE_STOP_SIGTERM:
    case SERVICE_STATE_STOP_SIGKILL:
    case SERVICE_STATE_FINAL_SIGTERM:
    case SERVICE_STATE_FINAL_SIGKILL:
        return ACTIVE_STATE_DEACTIVATING;
    case SERVICE_STATE_FAILED:
        return ACTIVE_STATE_FAILED;
    default:
        return ACTIVE_STATE_INACTIVE;
    }
}

bool service_is_active(const struct service *s)
{
    return service_active_state(s) == ACTIVE_STATE_ACTIVE;
}

bool service_is_inactive(const struct service *s)
{
    return s->state == SERVICE_STATE_DEAD || s->state == SERVICE_STATE_FAILED;
}

static bool is_clean_signal(int sig)
{
    return sig == SIGHUP || sig == SIGINT || sig == SIGTERM || sig == SIGPIPE;
}

enum service_result service_result_from_exit(const struct unit_config *c,
                                             const struct exit_info *exit)
{
    if (exit->code == CLD_EXITED) {
        if (exit->status == 0 || exit_status_set_has_status(&c->success_exit_status, exit->status))
            return SERVICE_RESULT_SUCCESS;
        return SERVICE_RESULT_EXIT_CODE;
    }
    if (is_clean_signal(exit->status) ||
        exit_status_set_has_signal(&c->success_exit_status, exit->status))
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
    const char *reason = "restart setting";
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
    *ret_reason = reason;
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

static void service_set_state(struct service *s, enum service_state state)
{
    enum service_state old = s->state;

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

static bool uses_group(const struct service *s)
{
    return s->config->kill_mode == KILL_MODE_CONTROL_GROUP ||
           s->config->kill_mode == KILL_MODE_MIXED;
}

static bool leftovers_alive(struct service *s)
{
    return s->group > 0 && uses_group(s) && s->ops->group_alive(s->ud);
}

static void service_enter_start(struct service *s);

static void service_enter_dead(struct service *s, enum service_result f, bool allow_restart)
{
    const char *reason;
    bool restart;

    set_result(s, f);
    s->ops->timer_cancel(s->ud);
    s->main_pid = 0;
    s->group = 0;

    restart = allow_restart &&
              service_should_restart(s->config, s->result, s->main_exited ? &s->main_exit : NULL,
                                     s->stop_requested, &reason);
    if (s->result != SERVICE_RESULT_SUCCESS)
        service_log(s, LOG_WARNING, "Failed with result '%s'.",
                    service_result_to_string(s->result));

    if (s->stop_requested)
        service_log(s, LOG_INFO, "Stopped %s.",
                    s->config->description ? s->config->description : s->config->name);
    if (restart) {
        service_set_state(s, SERVICE_STATE_AUTO_RESTART);
        s->ops->timer_arm(s->ud, s->config->restart_usec);
        return;
    }
    service_set_state(s, s->result == SERVICE_RESULT_SUCCESS ? SERVICE_STATE_DEAD
                                                             : SERVICE_STATE_FAILED);
}

/* Signals the main process or the group according to KillMode=, for a stop or a final kill. */
static void service_send_signal(struct service *s, int sig, bool final)
{
    enum kill_mode mode = s->config->kill_mode;

    if (mode == KILL_MODE_NONE)
        return;
    /* mixed: the first signal goes to the main process only, SIGKILL to the whole group. */
    bool group = mode == KILL_MODE_CONTROL_GROUP || (mode == KILL_MODE_MIXED && final);
    if (group && s->group > 0) {
        s->ops->kill(s->ud, s->group, sig, true);
        if (sig != SIGKILL && sig != SIGCONT)
            s->ops->kill(s->ud, s->group, SIGCONT, true);
        return;
    }
    if (s->main_pid > 0) {
        s->ops->kill(s->ud, s->main_pid, sig, false);
        if (sig != SIGKILL && sig != SIGCONT)
            s->ops->kill(s->ud, s->main_pid, SIGCONT, false);
    }
}

static bool anything_left(struct service *s)
{
    return s->main_pid > 0 || leftovers_alive(s);
}

/* Stop (stop-sigterm/stop-sigkill) or clean up after the main exit (final-*). */
static void service_enter_signal(struct service *s, enum service_state state, enum service_result f)
{
    const struct unit_config *c = s->config;
    bool kill = state == SERVICE_STATE_STOP_SIGKILL || state == SERVICE_STATE_FINAL_SIGKILL;

    set_result(s, f);
    if (!anything_left(s)) {
        service_enter_dead(s, SERVICE_RESULT_SUCCESS, true);
        return;
    }
    if (kill && !c->send_sigkill) {
        /* SendSIGKILL=no: leave the rest alone, as systemd does. */
        service_enter_dead(s, SERVICE_RESULT_SUCCESS, true);
        return;
    }
    int sig = kill ? c->final_kill_signal : c->kill_signal;
    service_send_signal(s, sig, kill);
    if (!kill && c->send_sighup)
        service_send_signal(s, SIGHUP, false);
    service_set_state(s, state);
    if (c->timeout_stop_usec != USEC_INFINITY)
        s->ops->timer_arm(s->ud, c->timeout_stop_usec);
    else
        s->ops->timer_cancel(s->ud);
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

static void service_enter_running_or_next(struct service *s);

static void service_spawn_main(struct service *s)
{
    const struct unit_config *c = s->config;
    const struct exec_command *cmd = &c->exec_start.items[s->exec_index];
    pid_t pid;
    int r;

    s->spawn_error[0] = '\0';
    r = s->ops->spawn(s->ud, cmd, &pid, s->spawn_error, sizeof(s->spawn_error));
    if (r < 0) {
        if (cmd->flags & EXEC_FLAG_IGNORE_FAILURE) {
            /* "-": a failure counts as success; a oneshot goes on with its next command. */
            s->exec_index++;
            service_enter_running_or_next(s);
            return;
        }
        service_log(s, LOG_ERR, "%s", s->spawn_error[0] ? s->spawn_error : "Failed to spawn.");
        s->main_exited = false;
        service_enter_dead(s, SERVICE_RESULT_EXEC, true);
        return;
    }
    s->main_pid = pid;
    if (s->group == 0)
        s->group = pid; /* each spawn is a session leader: pgid == pid */
    s->main_exited = false;
    s->main_start_usec = s->ops->now(s->ud);
    if (c->type == SERVICE_TYPE_ONESHOT) {
        service_set_state(s, SERVICE_STATE_START);
        if (c->timeout_start_usec != USEC_INFINITY)
            s->ops->timer_arm(s->ud, c->timeout_start_usec);
        return;
    }
    /* simple and exec: the exec already succeeded (spawn waits for it), so we are running. */
    s->ops->timer_cancel(s->ud);
    service_set_state(s, SERVICE_STATE_RUNNING);
    service_log(s, LOG_INFO, "Started %s.", c->description ? c->description : c->name);
}

/* Runs the next ExecStart= of a oneshot, or settles once all have run. */
static void service_enter_running_or_next(struct service *s)
{
    const struct unit_config *c = s->config;

    if (s->exec_index < c->exec_start.n) {
        service_spawn_main(s);
        return;
    }
    s->main_pid = 0;
    service_log(s, LOG_INFO, "Finished %s.", c->description ? c->description : c->name);
    if (c->remain_after_exit) {
        s->ops->timer_cancel(s->ud);
        service_set_state(s, SERVICE_STATE_EXITED);
        return;
    }
    if (leftovers_alive(s)) {
        service_enter_signal(s, SERVICE_STATE_FINAL_SIGTERM, SERVICE_RESULT_SUCCESS);
        return;
    }
    service_enter_dead(s, SERVICE_RESULT_SUCCESS, true);
}

static void service_enter_start(struct service *s)
{
    s->result = SERVICE_RESULT_SUCCESS;
    s->exec_index = 0;
    s->group = 0;
    s->stop_requested = false;
    if (start_limit_hit(s)) {
        service_log(s, LOG_WARNING, "Start request repeated too quickly.");
        s->main_exited = false;
        service_enter_dead(s, SERVICE_RESULT_START_LIMIT_HIT, false);
        return;
    }
    if (s->config->exec_start.n == 0) {
        /* Only a oneshot may lack ExecStart= (the loader refuses others). */
        service_enter_running_or_next(s);
        return;
    }
    service_spawn_main(s);
}

int service_start(struct service *s)
{
    switch (s->state) {
    case SERVICE_STATE_START:
    case SERVICE_STATE_RUNNING:
    case SERVICE_STATE_EXITED:
        return -EALREADY;
    case SERVICE_STATE_STOP_SIGTERM:
    case SERVICE_STATE_STOP_SIGKILL:
    case SERVICE_STATE_FINAL_SIGTERM:
    case SERVICE_STATE_FINAL_SIGKILL:
        return -EBUSY;
    case SERVICE_STATE_AUTO_RESTART:
        /* An explicit start cuts the restart delay short. */
        s->ops->timer_cancel(s->ud);
        break;
    default:
        break;
    }
    /* An explicit start begins a new count of automatic restarts. */
    s->n_restarts = 0;
    service_enter_start(s);
    return s->result == SERVICE_RESULT_START_LIMIT_HIT ? -ECANCELED : 0;
}

int service_stop(struct service *s)
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
    case SERVICE_STATE_STOP_SIGTERM:
    case SERVICE_STATE_STOP_SIGKILL:
        return -EALREADY;
    case SERVICE_STATE_FINAL_SIGTERM:
    case SERVICE_STATE_FINAL_SIGKILL:
        s->stop_requested = true; /* already on its way down; just forbid the restart */
        return 0;
    default:
        break;
    }
    s->stop_requested = true;
    service_log(s, LOG_INFO, "Stopping %s...",
                s->config->description ? s->config->description : s->config->name);
    if (s->state == SERVICE_STATE_EXITED) {
        service_enter_dead(s, SERVICE_RESULT_SUCCESS, false);
        return 0;
    }
    service_enter_signal(s, SERVICE_STATE_STOP_SIGTERM, SERVICE_RESULT_SUCCESS);
    return 0;
}

int service_reset_failed(struct service *s)
{
    s->limit_count = 0;
    s->n_restarts = 0;
    if (s->state != SERVICE_STATE_FAILED)
        return -EALREADY;
    s->result = SERVICE_RESULT_SUCCESS;
    service_set_state(s, SERVICE_STATE_DEAD);
    return 0;
}

static void log_exit(struct service *s, const struct exit_info *exit)
{
    const char *name;

    if (exit->code == CLD_EXITED) {
        name = exit_status_to_string(exit->status);
        if (name)
            service_log(s, exit->status ? LOG_NOTICE : LOG_INFO,
                        "Main process exited, code=exited, status=%d/%s", exit->status, name);
        else
            service_log(s, LOG_NOTICE, "Main process exited, code=exited, status=%d", exit->status);
        return;
    }
    name = signal_to_string(exit->status);
    service_log(s, LOG_NOTICE, "Main process exited, code=%s, status=%d/%s",
                exit->code == CLD_DUMPED ? "dumped" : "killed", exit->status, name ? name : "?");
}

void service_main_exited(struct service *s, pid_t pid, const struct exit_info *exit)
{
    const struct unit_config *c = s->config;
    enum service_result f;

    if (pid != s->main_pid || pid <= 0)
        return;
    s->main_pid = 0;
    s->main_exit = *exit;
    s->main_exited = true;
    f = service_result_from_exit(c, exit);
    /* A clean death from our own stop is expected; anything else is worth a line. */
    if (f != SERVICE_RESULT_SUCCESS || s->state == SERVICE_STATE_RUNNING)
        log_exit(s, exit);

    switch (s->state) {
    case SERVICE_STATE_START:
        /* A oneshot command finished: a failure ends the start, else run the next one. */
        if (f != SERVICE_RESULT_SUCCESS &&
            !(c->exec_start.items[s->exec_index].flags & EXEC_FLAG_IGNORE_FAILURE)) {
            set_result(s, f);
            if (leftovers_alive(s))
                service_enter_signal(s, SERVICE_STATE_FINAL_SIGTERM, f);
            else
                service_enter_dead(s, f, true);
            return;
        }
        s->exec_index++;
        service_enter_running_or_next(s);
        return;
    case SERVICE_STATE_RUNNING:
        if (leftovers_alive(s))
            service_enter_signal(s, SERVICE_STATE_FINAL_SIGTERM, f);
        else
            service_enter_dead(s, f, true);
        return;
    case SERVICE_STATE_STOP_SIGTERM:
    case SERVICE_STATE_STOP_SIGKILL:
    case SERVICE_STATE_FINAL_SIGTERM:
    case SERVICE_STATE_FINAL_SIGKILL:
        /* Our own kill signal is a clean end of a stop, unless the timeout already failed it. */
        if (s->state == SERVICE_STATE_STOP_SIGTERM && exit->code != CLD_EXITED &&
            exit->status == c->kill_signal)
            f = SERVICE_RESULT_SUCCESS;
        set_result(s, f);
        if (!leftovers_alive(s))
            service_enter_dead(s, SERVICE_RESULT_SUCCESS, true);
        return;
    default:
        return;
    }
}

void service_group_empty(struct service *s)
{
    switch (s->state) {
    case SERVICE_STATE_STOP_SIGTERM:
    case SERVICE_STATE_STOP_SIGKILL:
    case SERVICE_STATE_FINAL_SIGTERM:
    case SERVICE_STATE_FINAL_SIGKILL:
        if (s->main_pid == 0)
            service_enter_dead(s, SERVICE_RESULT_SUCCESS, true);
        return;
    default:
        return;
    }
}

void service_timer_fired(struct service *s)
{
    const struct unit_config *c = s->config;

    switch (s->state) {
    case SERVICE_STATE_START:
        service_log(s, LOG_WARNING, "Start operation timed out. Terminating.");
        service_enter_signal(s, SERVICE_STATE_FINAL_SIGTERM, SERVICE_RESULT_TIMEOUT);
        return;
    case SERVICE_STATE_STOP_SIGTERM:
        service_log(s, LOG_WARNING, "State 'stop-sigterm' timed out. Killing.");
        set_result(s, SERVICE_RESULT_TIMEOUT);
        if (!c->send_sigkill) {
            service_enter_dead(s, SERVICE_RESULT_SUCCESS, true);
            return;
        }
        service_enter_signal(s, SERVICE_STATE_STOP_SIGKILL, SERVICE_RESULT_TIMEOUT);
        return;
    case SERVICE_STATE_FINAL_SIGTERM:
        service_log(s, LOG_WARNING, "State 'final-sigterm' timed out. Killing.");
        set_result(s, SERVICE_RESULT_TIMEOUT);
        if (!c->send_sigkill) {
            service_enter_dead(s, SERVICE_RESULT_SUCCESS, true);
            return;
        }
        service_enter_signal(s, SERVICE_STATE_FINAL_SIGKILL, SERVICE_RESULT_TIMEOUT);
        return;
    case SERVICE_STATE_STOP_SIGKILL:
    case SERVICE_STATE_FINAL_SIGKILL:
        /* SIGKILL cannot be ignored; a process stuck in the kernel is reported and left. */
        service_log(s, LOG_WARNING,
                    "Processes still around after final SIGKILL. Entering failed mode.");
        s->main_pid = 0;
        service_enter_dead(s, SERVICE_RESULT_TIMEOUT, true);
        return;
    case SERVICE_STATE_AUTO_RESTART:
        s->n_restarts++;
        service_log(s, LOG_INFO, "Scheduled restart job, restart counter is at %u.", s->n_restarts);
        service_enter_start(s);
        return;
    default:
        return;
    }
}
