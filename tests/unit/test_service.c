/* The service state machine against fake processes and a fake clock (dinit's proctests idea):
 * no fork, no signals, no sleeping; TERM-then-KILL and restart timing are checked in
 * microseconds. Also the Restart= decision table (RST-3). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "service.h"
#include "unit_file.h"
#include "values.h"

struct fake {
    uint64_t now;
    bool timer_armed;
    uint64_t timer_deadline;
    unsigned spawns, control_spawns;
    int spawn_error; /* next spawn fails with this when non-zero */
    pid_t next_pid;
    int kills[32][3]; /* pid, sig, group */
    unsigned n_kills;
    bool group_alive;
    int main_pid_error;    /* find_main_pid fails with this when non-zero */
    bool pid_file_watched; /* watch_pid_file(on) */
    unsigned state_changes;
    char last_log[256];
    char logs[2048]; /* every message, one per line, in order */
};

static int f_spawn(void *ud, const struct exec_command *cmd, enum service_role role, pid_t *ret_pid,
                   char *err, size_t n)
{
    struct fake *f = ud;

    f->spawns++;
    if (role == SERVICE_ROLE_CONTROL)
        f->control_spawns++;
    if (f->spawn_error) {
        snprintf(err, n, "Failed to execute '%s': %s", cmd->path, strerror(f->spawn_error));
        return -f->spawn_error;
    }
    *ret_pid = f->next_pid++;
    f->group_alive = true;
    return 0;
}

static int f_kill(void *ud, pid_t pid, int sig, bool group)
{
    struct fake *f = ud;

    if (f->n_kills < 32) {
        f->kills[f->n_kills][0] = pid;
        f->kills[f->n_kills][1] = sig;
        f->kills[f->n_kills][2] = group;
        f->n_kills++;
    }
    return 0;
}

static bool f_group_alive(void *ud, pid_t pgid)
{
    return ((struct fake *)ud)->group_alive;
}

static int f_find_main_pid(void *ud, pid_t pgid, bool warn, pid_t *ret)
{
    struct fake *f = ud;

    if (f->main_pid_error)
        return -f->main_pid_error;
    *ret = 4242;
    return 0;
}

static void f_watch_pid_file(void *ud, bool on)
{
    ((struct fake *)ud)->pid_file_watched = on;
}

static void f_timer_arm(void *ud, uint64_t usec)
{
    struct fake *f = ud;

    f->timer_armed = true;
    f->timer_deadline = f->now + usec;
}

static void f_timer_cancel(void *ud)
{
    ((struct fake *)ud)->timer_armed = false;
}

static uint64_t f_now(void *ud)
{
    return ((struct fake *)ud)->now;
}

static void f_log(void *ud, int prio, const char *msg)
{
    struct fake *f = ud;

    snprintf(f->last_log, sizeof(f->last_log), "%s", msg);
    size_t used = strlen(f->logs);
    snprintf(f->logs + used, sizeof(f->logs) - used, "%s\n", msg);
}

static void f_state_changed(void *ud, enum service_state o, enum service_state n)
{
    ((struct fake *)ud)->state_changes++;
}

static const struct service_ops fake_ops = {
    .spawn = f_spawn,
    .kill = f_kill,
    .group_alive = f_group_alive,
    .find_main_pid = f_find_main_pid,
    .watch_pid_file = f_watch_pid_file,
    .timer_arm = f_timer_arm,
    .timer_cancel = f_timer_cancel,
    .now = f_now,
    .log = f_log,
    .state_changed = f_state_changed,
};

static char *argv_true[] = {"/bin/true", NULL};
static struct exec_command cmd_true = {.path = "/bin/true", .argv = argv_true};

/* A config with systemd's defaults, as the unit-file loader produces them. */
static void config_defaults(struct unit_config *c)
{
    memset(c, 0, sizeof(*c));
    c->name = "t.service";
    c->type = SERVICE_TYPE_SIMPLE;
    c->exec_start.items = &cmd_true;
    c->exec_start.n = 1;
    c->restart = RESTART_NO;
    c->restart_usec = 100 * USEC_PER_MSEC;
    c->timeout_start_usec = 90 * USEC_PER_SEC;
    c->timeout_stop_usec = 90 * USEC_PER_SEC;
    c->start_limit_interval_usec = 10 * USEC_PER_SEC;
    c->start_limit_burst = 5;
    c->kill_mode = KILL_MODE_CONTROL_GROUP;
    c->kill_signal = SIGTERM;
    c->restart_kill_signal = SIGTERM;
    c->final_kill_signal = SIGKILL;
    c->send_sigkill = true;
}

static struct fake fk;
static struct unit_config cfg;
static struct service svc;

static void setup(void)
{
    memset(&fk, 0, sizeof(fk));
    fk.next_pid = 100;
    fk.now = 1000 * USEC_PER_SEC;
    config_defaults(&cfg);
    service_init(&svc, &cfg, &fake_ops, &fk);
}

static void exit_main(int code, int status)
{
    struct exit_info e = {.code = code, .status = status};

    fk.group_alive = false;
    service_child_exited(&svc, svc.main_pid, &e);
}

static void fire_timer(void)
{
    cr_assert(fk.timer_armed, "no timer armed in state %s", service_state_to_string(svc.state));
    fk.now = fk.timer_deadline;
    fk.timer_armed = false;
    service_timer_fired(&svc);
}

Test(service, start_simple_is_running, .init = setup)
{
    cr_assert_eq(service_start(&svc), 0);
    cr_assert_eq(fk.spawns, 1);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    cr_assert_eq(svc.main_pid, 100);
    cr_assert_str_eq(active_state_to_string(service_active_state(&svc)), "active");
    cr_assert_eq(service_start(&svc), -EALREADY);
}

/* STOP-2 on a fake clock: TERM to the group (+CONT), KILL at TimeoutStopSec, still stopping
 * until the exit is seen, then failed with result timeout and no timer left armed. */
Test(service, stop_timeout_escalates_to_sigkill_STOP_2, .init = setup)
{
    cfg.timeout_stop_usec = 2 * USEC_PER_SEC;
    service_start(&svc);
    cr_assert_eq(service_stop(&svc), 0);
    cr_assert_eq(svc.state, SERVICE_STATE_STOP_SIGTERM);
    cr_assert_eq(fk.kills[0][0], 100);
    cr_assert_eq(fk.kills[0][1], SIGTERM);
    cr_assert_eq(fk.kills[0][2], true);
    cr_assert_eq(fk.kills[1][1], SIGCONT);
    cr_assert(fk.timer_armed);
    cr_assert_eq(fk.timer_deadline - fk.now, 2 * USEC_PER_SEC);

    fire_timer();
    cr_assert_eq(svc.state, SERVICE_STATE_STOP_SIGKILL);
    cr_assert_eq(fk.kills[fk.n_kills - 1][1], SIGKILL);
    cr_assert_str_eq(fk.last_log, "State 'stop-sigterm' timed out. Killing.");

    exit_main(CLD_KILLED, SIGKILL);
    cr_assert_eq(svc.state, SERVICE_STATE_FAILED);
    cr_assert_eq(svc.result, SERVICE_RESULT_TIMEOUT);
    cr_assert_not(fk.timer_armed);
}

Test(service, clean_stop_is_dead_and_never_restarts, .init = setup)
{
    cfg.restart = RESTART_ALWAYS;
    service_start(&svc);
    service_stop(&svc);
    exit_main(CLD_KILLED, SIGTERM);
    cr_assert_eq(svc.state, SERVICE_STATE_DEAD);
    cr_assert_eq(svc.result, SERVICE_RESULT_SUCCESS);
    cr_assert_not(fk.timer_armed);
    cr_assert_eq(fk.spawns, 1);
}

Test(service, on_failure_restarts_after_restart_sec, .init = setup)
{
    cfg.restart = RESTART_ON_FAILURE;
    service_start(&svc);
    exit_main(CLD_EXITED, 1);
    cr_assert_eq(svc.state, SERVICE_STATE_AUTO_RESTART);
    cr_assert_eq(fk.timer_deadline - fk.now, 100 * USEC_PER_MSEC);
    fire_timer();
    cr_assert_eq(fk.spawns, 2);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    cr_assert_eq(svc.n_restarts, 1);
    cr_assert_str_eq(fk.last_log, "Started t.service.");
}

Test(service, restart_no_fails_and_stays, .init = setup)
{
    service_start(&svc);
    exit_main(CLD_EXITED, 1);
    cr_assert_eq(svc.state, SERVICE_STATE_FAILED);
    cr_assert_eq(svc.result, SERVICE_RESULT_EXIT_CODE);
    cr_assert_not(fk.timer_armed);
}

Test(service, sigkill_is_result_signal, .init = setup)
{
    service_start(&svc);
    exit_main(CLD_KILLED, SIGKILL);
    cr_assert_eq(svc.state, SERVICE_STATE_FAILED);
    cr_assert_eq(svc.result, SERVICE_RESULT_SIGNAL);
}

/* RST-2 on a fake clock: 5 starts within the interval, the 6th is refused with
 * start-limit-hit; no timer is left to spawn again. */
Test(service, start_limit_hit_RST_2, .init = setup)
{
    cfg.restart = RESTART_ALWAYS;
    cfg.restart_usec = 0;
    service_start(&svc);
    for (int i = 0; i < 10 && svc.state != SERVICE_STATE_FAILED; i++) {
        exit_main(CLD_EXITED, 1);
        if (svc.state == SERVICE_STATE_AUTO_RESTART)
            fire_timer();
    }
    cr_assert_eq(fk.spawns, 5);
    cr_assert_eq(svc.state, SERVICE_STATE_FAILED);
    cr_assert_eq(svc.result, SERVICE_RESULT_START_LIMIT_HIT);
    cr_assert_not(fk.timer_armed);
    /* An explicit start is refused too until reset-failed, as in systemd. */
    cr_assert_eq(service_start(&svc), -ECANCELED);
    cr_assert_eq(fk.spawns, 5);
    cr_assert_eq(service_reset_failed(&svc), 0);
    cr_assert_eq(service_start(&svc), 0);
    cr_assert_eq(fk.spawns, 6);
}

Test(service, start_limit_window_slides_on_monotonic_clock, .init = setup)
{
    for (int i = 0; i < 20; i++) {
        cr_assert_eq(service_start(&svc), 0);
        exit_main(CLD_EXITED, 0);
        fk.now += 3 * USEC_PER_SEC; /* 20 starts, never more than 5 per 10 s */
    }
    cr_assert_eq(fk.spawns, 20);
}

Test(service, exec_failure_is_result_exec_PROC_5, .init = setup)
{
    fk.spawn_error = ENOENT;
    cr_assert_eq(service_start(&svc), 0);
    cr_assert_eq(svc.state, SERVICE_STATE_FAILED);
    cr_assert_eq(svc.result, SERVICE_RESULT_EXEC);
    cr_assert_str_eq(fk.logs, "Starting t.service...\n"
                              "Failed to execute '/bin/true': No such file or directory\n"
                              "Failed with result 'exec'.\n"
                              "Failed to start t.service.\n");
    cr_assert(strstr(svc.spawn_error, "No such file or directory"));
}

/* The unit's journal tells a start as systemd's does: "Starting X..." when the start begins,
 * and for a oneshot without RemainAfterExit= "Deactivated successfully." before "Finished X."
 * (the start job ends once the unit is down). */
Test(service, oneshot_start_is_logged_in_systemd_order, .init = setup)
{
    cfg.type = SERVICE_TYPE_ONESHOT;
    service_start(&svc);
    exit_main(CLD_EXITED, 0);
    cr_assert_eq(svc.state, SERVICE_STATE_DEAD);
    cr_assert_str_eq(fk.logs, "Starting t.service...\n"
                              "Deactivated successfully.\n"
                              "Finished t.service.\n");
}

/* "Failed to start X." is the failure of a start job (systemd's job_done_message_format()): a
 * unit that was running when it died had none, while a oneshot's start is open until it is
 * down. */
Test(service, only_a_start_that_fails_logs_failed_to_start, .init = setup)
{
    service_start(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    exit_main(CLD_KILLED, SIGKILL);
    cr_assert_eq(svc.state, SERVICE_STATE_FAILED);
    cr_assert(strstr(fk.logs, "Failed with result 'signal'.\n"), "%s", fk.logs);
    cr_assert_null(strstr(fk.logs, "Failed to start"), "%s", fk.logs);

    fk.logs[0] = '\0';
    cfg.type = SERVICE_TYPE_ONESHOT;
    cr_assert_eq(service_start(&svc), 0);
    exit_main(CLD_EXITED, 1);
    cr_assert_eq(svc.state, SERVICE_STATE_FAILED);
    cr_assert(strstr(fk.logs, "Failed with result 'exit-code'.\nFailed to start t.service.\n"),
              "%s", fk.logs);
}

/* An automatic restart reads as systemd's restart job: scheduled, the stop half ("Stopped"),
 * then a new start. A start refused by the start limit fails the start. */
Test(service, auto_restart_is_logged_as_a_restart_job, .init = setup)
{
    cfg.restart = RESTART_ALWAYS;
    cfg.start_limit_burst = 2;
    service_start(&svc);
    exit_main(CLD_EXITED, 1);
    cr_assert_eq(svc.state, SERVICE_STATE_AUTO_RESTART);
    fk.logs[0] = '\0';
    fire_timer();
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    cr_assert_str_eq(fk.logs, "Scheduled restart job, restart counter is at 1.\n"
                              "Stopped t.service.\n"
                              "Starting t.service...\n"
                              "Started t.service.\n");
    exit_main(CLD_EXITED, 1);
    fk.logs[0] = '\0';
    fire_timer();
    cr_assert_eq(svc.result, SERVICE_RESULT_START_LIMIT_HIT);
    cr_assert_str_eq(fk.logs, "Scheduled restart job, restart counter is at 2.\n"
                              "Stopped t.service.\n"
                              "Start request repeated too quickly.\n"
                              "Failed with result 'start-limit-hit'.\n"
                              "Failed to start t.service.\n");
    /* An explicit start the limit refuses keeps the count (systemd clears NRestarts= only
     * in a start that goes ahead). */
    cr_assert_eq(service_start(&svc), -ECANCELED);
    cr_assert_eq(svc.n_restarts, 2);
}

/* A start during auto-restart waits for the restart timer, as systemd's service_start() keeps
 * the start job queued (-EAGAIN); a stop cancels the pending restart at once. */
Test(service, start_during_auto_restart_waits_for_restart_sec, .init = setup)
{
    cfg.restart = RESTART_ALWAYS;
    cfg.restart_usec = 5 * USEC_PER_SEC;
    service_start(&svc);
    exit_main(CLD_EXITED, 1);
    cr_assert_eq(svc.state, SERVICE_STATE_AUTO_RESTART);
    uint64_t deadline = fk.timer_deadline;
    cr_assert_eq(service_start(&svc), -EAGAIN);
    cr_assert_eq(svc.state, SERVICE_STATE_AUTO_RESTART);
    cr_assert(fk.timer_armed);
    cr_assert_eq(fk.timer_deadline, deadline, "RestartSec= was cut short");
    cr_assert_eq(fk.spawns, 1);
    fire_timer();
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    cr_assert_eq(fk.spawns, 2);
    exit_main(CLD_EXITED, 1);
    cr_assert_eq(service_stop(&svc), 0);
    cr_assert_eq(svc.state, SERVICE_STATE_DEAD);
    cr_assert_not(fk.timer_armed);
}

Test(service, oneshot_runs_each_command_then_exits, .init = setup)
{
    static struct exec_command two[2];
    two[0] = cmd_true;
    two[1] = cmd_true;
    cfg.type = SERVICE_TYPE_ONESHOT;
    cfg.exec_start.items = two;
    cfg.exec_start.n = 2;
    cfg.remain_after_exit = true;
    service_start(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_START);
    exit_main(CLD_EXITED, 0);
    cr_assert_eq(fk.spawns, 2);
    cr_assert_eq(svc.state, SERVICE_STATE_START);
    exit_main(CLD_EXITED, 0);
    cr_assert_eq(svc.state, SERVICE_STATE_EXITED);
    cr_assert(service_is_active(&svc));
    cr_assert_eq(service_stop(&svc), 0);
    cr_assert_eq(svc.state, SERVICE_STATE_DEAD);
}

static struct exec_command cmds3[3];

static void control_exit(int code, int status)
{
    struct exit_info e = {.code = code, .status = status};
    service_child_exited(&svc, svc.control_pid, &e);
}

Test(service, pre_post_and_stop_commands_run_in_order, .init = setup)
{
    cmds3[0] = cmd_true;
    cfg.exec_start_pre.items = cmds3;
    cfg.exec_start_pre.n = 1;
    cfg.exec_start_post.items = cmds3 + 1;
    cfg.exec_start_post.n = 1;
    cfg.exec_stop.items = cmds3 + 2;
    cfg.exec_stop.n = 1;
    cmds3[1] = cmd_true;
    cmds3[2] = cmd_true;

    service_start(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_START_PRE);
    cr_assert_eq(svc.main_pid, 0);
    control_exit(CLD_EXITED, 0);
    cr_assert_eq(svc.state, SERVICE_STATE_START_POST);
    cr_assert_neq(svc.main_pid, 0);
    control_exit(CLD_EXITED, 0);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    service_stop(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_STOP, "ExecStop= runs before any signal");
    cr_assert_eq(fk.n_kills, 0);
    control_exit(CLD_EXITED, 0);
    cr_assert_eq(svc.state, SERVICE_STATE_STOP_SIGTERM);
    exit_main(CLD_KILLED, SIGTERM);
    cr_assert_eq(svc.state, SERVICE_STATE_DEAD);
    cr_assert_eq(fk.control_spawns, 3);
}

/* systemd.service(5): ExecStop= commands "are not invoked if ... start-up failed, for example
 * because any of the commands specified in ExecStart=, ExecStartPre= or ExecStartPost=
 * failed": a failed ExecStartPost= signals the main process straight away. */
Test(service, failing_start_post_runs_no_exec_stop, .init = setup)
{
    cmds3[1] = cmd_true;
    cmds3[2] = cmd_true;
    cfg.exec_start_post.items = cmds3 + 1;
    cfg.exec_start_post.n = 1;
    cfg.exec_stop.items = cmds3 + 2;
    cfg.exec_stop.n = 1;
    service_start(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_START_POST);
    control_exit(CLD_EXITED, 1);
    cr_assert_eq(svc.state, SERVICE_STATE_STOP_SIGTERM, "no ExecStop= after a failed start");
    cr_assert_eq(fk.control_spawns, 1);
    exit_main(CLD_KILLED, SIGTERM);
    cr_assert_eq(svc.state, SERVICE_STATE_FAILED);
    cr_assert_eq(svc.result, SERVICE_RESULT_EXIT_CODE);
}

Test(service, failing_start_pre_fails_the_start_without_main, .init = setup)
{
    cmds3[0] = cmd_true;
    cfg.exec_start_pre.items = cmds3;
    cfg.exec_start_pre.n = 1;
    service_start(&svc);
    fk.group_alive = false;
    control_exit(CLD_EXITED, 3);
    cr_assert_eq(svc.state, SERVICE_STATE_FAILED);
    cr_assert_eq(svc.result, SERVICE_RESULT_EXIT_CODE);
    cr_assert_eq(fk.spawns, 1, "ExecStart= must not run after a failed ExecStartPre=");
}

Test(service, ignored_failure_prefix_goes_on, .init = setup)
{
    cmds3[0] = cmd_true;
    cmds3[0].flags = EXEC_FLAG_IGNORE_FAILURE;
    cfg.exec_start_pre.items = cmds3;
    cfg.exec_start_pre.n = 1;
    service_start(&svc);
    control_exit(CLD_EXITED, 3);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    cmds3[0].flags = 0;
}

/* systemd.service(5): with "-", a failing command "is recorded, but has no further effect and
 * is considered equivalent to success". A start whose only command fails to execute must
 * still change state (the start job ends on a state change) and end dead, not failed. */
Test(service, ignored_exec_failure_of_the_only_command_ends_the_start, .init = setup)
{
    static struct exec_command dash;
    dash = cmd_true;
    dash.flags = EXEC_FLAG_IGNORE_FAILURE;
    cfg.exec_start.items = &dash;
    fk.spawn_error = ENOENT;
    cr_assert_eq(service_start(&svc), 0);
    cr_assert_eq(svc.state, SERVICE_STATE_DEAD);
    cr_assert_eq(svc.result, SERVICE_RESULT_SUCCESS);
    cr_assert_geq(fk.state_changes, 2, "dead -> start -> dead, seen as changes");
    cr_assert_str_eq(fk.last_log, "Deactivated successfully.");
}

/* The same for a main process that runs and exits non-zero: success, so Restart=on-failure
 * does not restart it; without "-" the same exit fails the unit. */
Test(service, ignored_failure_of_the_main_process_is_success, .init = setup)
{
    static struct exec_command dash;
    dash = cmd_true;
    dash.flags = EXEC_FLAG_IGNORE_FAILURE;
    cfg.exec_start.items = &dash;
    cfg.restart = RESTART_ON_FAILURE;
    service_start(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    exit_main(CLD_EXITED, 1);
    cr_assert_eq(svc.state, SERVICE_STATE_DEAD);
    cr_assert_eq(svc.result, SERVICE_RESULT_SUCCESS);
    cr_assert_eq(svc.main_exit.status, 1, "the exit itself is still recorded");

    dash.flags = 0;
    cfg.restart = RESTART_NO;
    service_start(&svc);
    exit_main(CLD_EXITED, 1);
    cr_assert_eq(svc.state, SERVICE_STATE_FAILED);
    cr_assert_eq(svc.result, SERVICE_RESULT_EXIT_CODE);
}

/* A forking daemon found after the parent exited is not the command: "-" does not cover it. */
Test(service, ignored_failure_does_not_cover_a_found_main_process, .init = setup)
{
    static struct exec_command dash;
    dash = cmd_true;
    dash.flags = EXEC_FLAG_IGNORE_FAILURE;
    cfg.exec_start.items = &dash;
    cfg.type = SERVICE_TYPE_FORKING;
    service_start(&svc);
    struct exit_info e = {CLD_EXITED, 2};
    service_child_exited(&svc, svc.main_pid, &e); /* the parent fails: ignored */
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    cr_assert_eq(svc.main_pid, 4242);
    exit_main(CLD_EXITED, 1);
    cr_assert_eq(svc.state, SERVICE_STATE_FAILED);
    cr_assert_eq(svc.result, SERVICE_RESULT_EXIT_CODE);
}

/* ExecReload=-/nonexistent: the reload is over at once, and done. */
Test(service, ignored_exec_failure_of_exec_reload_is_done, .init = setup)
{
    cmds3[0] = cmd_true;
    cmds3[0].flags = EXEC_FLAG_IGNORE_FAILURE;
    cfg.exec_reload.items = cmds3;
    cfg.exec_reload.n = 1;
    service_start(&svc);
    fk.spawn_error = ENOENT;
    cr_assert_eq(service_reload(&svc), 1);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    cmds3[0].flags = 0;
    cr_assert_eq(service_reload(&svc), -EIO);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
}

Test(service, forking_takes_the_daemon_as_main, .init = setup)
{
    cfg.type = SERVICE_TYPE_FORKING;
    service_start(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_START);
    struct exit_info e = {CLD_EXITED, 0};
    service_child_exited(&svc, svc.main_pid, &e);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    cr_assert_eq(svc.main_pid, 4242);
}

/* The parent exits cleanly while its daemon lives on (the group stays alive). */
static void forking_parent_exits(void)
{
    struct exit_info e = {CLD_EXITED, 0};

    fk.group_alive = true;
    service_child_exited(&svc, svc.main_pid, &e);
}

/* A forking start with PIDFile= whose parent exited before the file was written. */
static void forking_parent_exits_before_pid_file(void)
{
    cfg.type = SERVICE_TYPE_FORKING;
    cfg.pid_file = "/run/t.pid";
    fk.main_pid_error = ENOENT;
    service_start(&svc);
    forking_parent_exits();
}

/* No PIDFile= and no single process to guess: the main pid stays unknown and the unit runs as
 * long as any of its processes does, as systemd's service_good() falls back on the cgroup. */
Test(service, forking_without_main_pid_runs_while_processes_remain, .init = setup)
{
    cfg.type = SERVICE_TYPE_FORKING;
    fk.main_pid_error = ESRCH;
    service_start(&svc);
    forking_parent_exits();
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    cr_assert_eq(svc.main_pid, 0);
    cr_assert(service_watches_group(&svc));
    service_group_changed(&svc); /* some process went, others remain */
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    fk.group_alive = false;
    service_group_changed(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_DEAD);
    cr_assert_eq(svc.result, SERVICE_RESULT_SUCCESS);
}

/* PIDFile= written only after the parent exited: the start waits for it (systemd watches the
 * file until the start timeout), then runs with the pid it names. */
Test(service, forking_waits_for_a_late_pid_file, .init = setup)
{
    forking_parent_exits_before_pid_file();
    cr_assert_eq(svc.state, SERVICE_STATE_START);
    cr_assert(fk.pid_file_watched);
    cr_assert(fk.timer_armed, "the start timeout still bounds the wait");
    service_pid_file_changed(&svc); /* written, but not readable yet */
    cr_assert_eq(svc.state, SERVICE_STATE_START);
    fk.main_pid_error = 0;
    service_pid_file_changed(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    cr_assert_eq(svc.main_pid, 4242);
    cr_assert_not(fk.pid_file_watched);
}

/* Everything gone and no PIDFile= written: result protocol, as systemd's "Daemon never wrote
 * its PID file. Failing." */
Test(service, forking_pid_file_never_written_is_protocol, .init = setup)
{
    forking_parent_exits_before_pid_file();
    cr_assert_eq(svc.state, SERVICE_STATE_START);
    fk.group_alive = false;
    service_group_changed(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_FAILED);
    cr_assert_eq(svc.result, SERVICE_RESULT_PROTOCOL);
    cr_assert_not(fk.pid_file_watched);
    cr_assert(strstr(fk.logs, "Daemon never wrote its PID file. Failing.\n"));
}

/* The wait for PIDFile= ends with TimeoutStartSec=. */
Test(service, forking_pid_file_wait_times_out, .init = setup)
{
    forking_parent_exits_before_pid_file();
    fire_timer();
    cr_assert_eq(svc.state, SERVICE_STATE_STOP_SIGTERM);
    cr_assert_eq(svc.result, SERVICE_RESULT_TIMEOUT);
    cr_assert_not(fk.pid_file_watched);
}

/* With ExecStartPost= the file may be its work: looked for again once it is done. */
Test(service, forking_pid_file_after_exec_start_post, .init = setup)
{
    cmds3[0] = cmd_true;
    cfg.exec_start_post.items = cmds3;
    cfg.exec_start_post.n = 1;
    forking_parent_exits_before_pid_file();
    cr_assert_eq(svc.state, SERVICE_STATE_START_POST);
    fk.main_pid_error = 0;
    control_exit(CLD_EXITED, 0);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    cr_assert_eq(svc.main_pid, 4242);
}

Test(service, reload_runs_exec_reload, .init = setup)
{
    cmds3[0] = cmd_true;
    cfg.exec_reload.items = cmds3;
    cfg.exec_reload.n = 1;
    service_start(&svc);
    cr_assert_eq(service_reload(&svc), 0);
    cr_assert_eq(svc.state, SERVICE_STATE_RELOAD);
    cr_assert_str_eq(active_state_to_string(service_active_state(&svc)), "reloading");
    control_exit(CLD_EXITED, 0);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
}

Test(service, start_timeout_kills_oneshot, .init = setup)
{
    cfg.type = SERVICE_TYPE_ONESHOT;
    cfg.timeout_start_usec = 5 * USEC_PER_SEC;
    service_start(&svc);
    fire_timer();
    cr_assert_eq(svc.state, SERVICE_STATE_STOP_SIGTERM);
    cr_assert_eq(svc.result, SERVICE_RESULT_TIMEOUT);
    exit_main(CLD_KILLED, SIGTERM);
    cr_assert_eq(svc.state, SERVICE_STATE_FAILED);
    cr_assert_eq(svc.result, SERVICE_RESULT_TIMEOUT);
}

Test(service, leftover_group_is_killed_after_main_exit, .init = setup)
{
    service_start(&svc);
    struct exit_info e = {.code = CLD_EXITED, .status = 0};
    fk.group_alive = true; /* a background child stays behind */
    service_child_exited(&svc, svc.main_pid, &e);
    cr_assert_eq(svc.state, SERVICE_STATE_STOP_SIGTERM);
    cr_assert_eq(fk.kills[0][1], SIGTERM);
    cr_assert_eq(fk.kills[0][2], true);
    fk.group_alive = false;
    service_group_changed(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_DEAD);
    cr_assert_str_eq(fk.last_log, "Deactivated successfully.");
}

Test(service, kill_mode_process_signals_main_only, .init = setup)
{
    cfg.kill_mode = KILL_MODE_PROCESS;
    service_start(&svc);
    service_stop(&svc);
    cr_assert_eq(fk.kills[0][2], false);
    cr_assert_eq(fk.kills[0][0], 100);
}

/* systemd.kill(5), mixed: "the SIGTERM signal is sent to the main process while the subsequent
 * SIGKILL signal is sent to all remaining processes". Once the main process is gone the rest
 * gets SIGKILL at once: no waiting out TimeoutStopSec=, and the result stays success. */
Test(service, kill_mode_mixed_kills_the_rest_once_main_is_gone, .init = setup)
{
    cfg.kill_mode = KILL_MODE_MIXED;
    service_start(&svc);
    pid_t main_pid = svc.main_pid;
    cr_assert_eq(service_stop(&svc), 0);
    cr_assert_eq(svc.state, SERVICE_STATE_STOP_SIGTERM);
    cr_assert_eq(fk.kills[0][0], main_pid);
    cr_assert_eq(fk.kills[0][1], SIGTERM);
    cr_assert_eq(fk.kills[0][2], false, "SIGTERM to the main process only");
    unsigned before = fk.n_kills;
    struct exit_info e = {CLD_KILLED, SIGTERM};
    service_child_exited(&svc, main_pid, &e); /* the group still has a child */
    cr_assert_eq(svc.state, SERVICE_STATE_FINAL_SIGKILL, "state %s",
                 service_state_to_string(svc.state));
    cr_assert_gt(fk.n_kills, before);
    cr_assert_eq(fk.kills[before][1], SIGKILL);
    cr_assert_eq(fk.kills[before][2], true, "SIGKILL to the group");
    fk.group_alive = false;
    service_group_changed(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_DEAD);
    cr_assert_eq(svc.result, SERVICE_RESULT_SUCCESS);
}

/* none: "no process is killed", only the stop command runs; the stop ends at once, clean, and
 * the processes are left running. */
Test(service, kill_mode_none_stops_at_once_and_kills_nothing, .init = setup)
{
    cfg.kill_mode = KILL_MODE_NONE;
    service_start(&svc);
    cr_assert_eq(service_stop(&svc), 0);
    cr_assert_eq(svc.state, SERVICE_STATE_DEAD, "state %s", service_state_to_string(svc.state));
    cr_assert_eq(svc.result, SERVICE_RESULT_SUCCESS);
    cr_assert_eq(fk.n_kills, 0);
}

/* STOPPING=1: deactivating (stop-sigterm) at once, as if SIGTERM had been sent (nothing is
 * sent), with TimeoutStopSec= to go; a clean exit then ends the run clean. */
Test(service, stopping_notification_is_a_stop_in_progress, .init = setup)
{
    cfg.type = SERVICE_TYPE_NOTIFY;
    service_start(&svc);
    service_notify_ready(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    service_notify_stopping(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_STOP_SIGTERM);
    cr_assert_str_eq(active_state_to_string(service_active_state(&svc)), "deactivating");
    cr_assert_eq(fk.n_kills, 0, "STOPPING=1 sends nothing");
    cr_assert(fk.timer_armed);
    cr_assert_eq(fk.timer_deadline, fk.now + cfg.timeout_stop_usec);
    exit_main(CLD_EXITED, 0);
    cr_assert_eq(svc.state, SERVICE_STATE_DEAD);
    cr_assert_eq(svc.result, SERVICE_RESULT_SUCCESS);
}

/* WATCHDOG=trigger (sd_notify(3)): the watchdog fires at once, as if WatchdogSec= had passed,
 * even without one: SIGABRT first, result watchdog, Restart=on-watchdog applies. */
Test(service, watchdog_trigger_fires_at_once, .init = setup)
{
    cfg.restart = RESTART_ON_WATCHDOG;
    service_start(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    cr_assert_not(fk.timer_armed, "no WatchdogSec=, no timer");
    service_watchdog_trigger(&svc, "busy");
    cr_assert_eq(svc.state, SERVICE_STATE_STOP_SIGTERM);
    cr_assert_eq(svc.result, SERVICE_RESULT_WATCHDOG);
    cr_assert_eq(fk.kills[0][0], 100);
    cr_assert_eq(fk.kills[0][1], SIGABRT);
    cr_assert(strstr(fk.logs, "Watchdog request (last status: busy)!\n"), "%s", fk.logs);
    exit_main(CLD_DUMPED, SIGABRT);
    cr_assert_eq(svc.state, SERVICE_STATE_AUTO_RESTART);
    fire_timer();
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);

    /* Without STATUS=, systemd's "<unset>"; once stopping, a trigger changes nothing. */
    service_watchdog_trigger(&svc, NULL);
    cr_assert(strstr(fk.logs, "Watchdog request (last status: <unset>)!\n"), "%s", fk.logs);
    unsigned kills = fk.n_kills;
    service_watchdog_trigger(&svc, NULL);
    cr_assert_eq(fk.n_kills, kills);
    cr_assert_eq(svc.state, SERVICE_STATE_STOP_SIGTERM);
}

/* WATCHDOG_USEC= (sd_notify(3)): this run's watchdog timeout, re-armed from now; the next start
 * goes back to WatchdogSec= (systemd resets the override in service_start()). */
Test(service, watchdog_usec_overrides_for_this_run, .init = setup)
{
    cfg.restart = RESTART_ON_WATCHDOG;
    cfg.watchdog_usec = 10 * USEC_PER_SEC;
    service_start(&svc);
    cr_assert_eq(fk.timer_deadline - fk.now, 10 * USEC_PER_SEC);
    fk.now += USEC_PER_SEC;
    service_watchdog_override(&svc, 2 * USEC_PER_SEC);
    cr_assert_eq(service_watchdog_usec(&svc), 2 * USEC_PER_SEC);
    cr_assert_eq(fk.timer_deadline - fk.now, 2 * USEC_PER_SEC);
    fk.now += USEC_PER_SEC;
    service_watchdog_ping(&svc);
    cr_assert_eq(fk.timer_deadline - fk.now, 2 * USEC_PER_SEC, "a ping re-arms the override");
    fire_timer();
    cr_assert_str_eq(fk.last_log, "Watchdog timeout (limit 2000ms)!");
    cr_assert_eq(svc.result, SERVICE_RESULT_WATCHDOG);
    exit_main(CLD_DUMPED, SIGABRT);
    cr_assert_eq(svc.state, SERVICE_STATE_AUTO_RESTART);
    fire_timer();
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    cr_assert_eq(service_watchdog_usec(&svc), 10 * USEC_PER_SEC);
    cr_assert_eq(fk.timer_deadline - fk.now, 10 * USEC_PER_SEC, "the restart kept the override");

    /* 0 turns the watchdog off for the run. */
    service_watchdog_override(&svc, 0);
    cr_assert_not(fk.timer_armed);
}

/* WATCHDOG_USEC= turns a watchdog on where WatchdogSec= had none; sent before READY=1, it is
 * kept and armed when the service is up. */
Test(service, watchdog_usec_enables_the_watchdog, .init = setup)
{
    cfg.type = SERVICE_TYPE_NOTIFY;
    service_start(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_START);
    uint64_t start_deadline = fk.timer_deadline;
    service_watchdog_override(&svc, 500 * USEC_PER_MSEC);
    cr_assert_eq(fk.timer_deadline, start_deadline, "the start timeout stays");
    service_notify_ready(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    cr_assert(fk.timer_armed);
    cr_assert_eq(fk.timer_deadline - fk.now, 500 * USEC_PER_MSEC);
    fire_timer();
    cr_assert_eq(svc.state, SERVICE_STATE_STOP_SIGTERM);
    cr_assert_eq(svc.result, SERVICE_RESULT_WATCHDOG);
    cr_assert_eq(fk.kills[0][1], SIGABRT);
}

/* A reload, by ExecReload= or by RELOADING=1 ... READY=1, ends with the watchdog armed again
 * (the reload's timeout had replaced it on the one timer, and the run went on unwatched). */
Test(service, watchdog_is_armed_again_after_a_reload, .init = setup)
{
    cmds3[0] = cmd_true;
    cfg.exec_reload.items = cmds3;
    cfg.exec_reload.n = 1;
    cfg.type = SERVICE_TYPE_NOTIFY;
    cfg.watchdog_usec = 3 * USEC_PER_SEC;
    service_start(&svc);
    service_notify_ready(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    cr_assert_eq(service_reload(&svc), 0);
    control_exit(CLD_EXITED, 0);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    cr_assert(fk.timer_armed, "no watchdog after ExecReload=");
    cr_assert_eq(fk.timer_deadline - fk.now, 3 * USEC_PER_SEC);

    service_notify_reloading(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_RELOAD);
    service_notify_ready(&svc);
    cr_assert_eq(svc.state, SERVICE_STATE_RUNNING);
    cr_assert(fk.timer_armed, "no watchdog after RELOADING=1, READY=1");
    cr_assert_eq(fk.timer_deadline - fk.now, 3 * USEC_PER_SEC);
    fire_timer();
    cr_assert_eq(svc.result, SERVICE_RESULT_WATCHDOG);
}

/* RST-3: every Restart= policy against every way a run can end, as systemd.service(5)'s table
 * says. Columns: exit 0, exit 1, SIGKILL, SIGABRT (core), SIGTERM by our stop, timeout. */
enum exit_kind { EK_CLEAN, EK_EXIT1, EK_SIGKILL, EK_SIGABRT, EK_STOP, EK_TIMEOUT, EK_MAX };

struct rst_cell {
    enum restart_policy policy;
    bool expect[EK_MAX];
};

ParameterizedTestParameters(service, restart_table_RST_3)
{
    static struct rst_cell cells[] = {
        /*                         clean  exit1  KILL   ABRT   stop   timeout */
        {RESTART_NO, {false, false, false, false, false, false}},
        {RESTART_ALWAYS, {true, true, true, true, false, true}},
        {RESTART_ON_SUCCESS, {true, false, false, false, false, false}},
        {RESTART_ON_FAILURE, {false, true, true, true, false, true}},
        {RESTART_ON_ABNORMAL, {false, false, true, true, false, true}},
        {RESTART_ON_ABORT, {false, false, true, true, false, false}},
        {RESTART_ON_WATCHDOG, {false, false, false, false, false, false}},
    };
    return cr_make_param_array(struct rst_cell, cells, sizeof(cells) / sizeof(cells[0]));
}

ParameterizedTest(struct rst_cell *cell, service, restart_table_RST_3)
{
    struct unit_config c;
    const char *reason;

    config_defaults(&c);
    c.restart = cell->policy;
    for (int k = 0; k < EK_MAX; k++) {
        struct exit_info e = {CLD_EXITED, 0};
        bool stop = false;
        enum service_result res;

        switch (k) {
        case EK_EXIT1:
            e.status = 1;
            break;
        case EK_SIGKILL:
            e = (struct exit_info){CLD_KILLED, SIGKILL};
            break;
        case EK_SIGABRT:
            e = (struct exit_info){CLD_DUMPED, SIGABRT};
            break;
        case EK_STOP:
            e = (struct exit_info){CLD_KILLED, SIGTERM};
            stop = true;
            break;
        default:
            break;
        }
        res = k == EK_TIMEOUT ? SERVICE_RESULT_TIMEOUT : service_result_from_exit(&c, &e, true);
        bool got = service_should_restart(&c, res, &e, stop, &reason);
        cr_expect_eq(got, cell->expect[k], "Restart=%s, exit kind %d: got %d (%s)",
                     restart_policy_to_string(cell->policy), k, got, reason);
    }
}

Test(service, clean_signals_count_as_success)
{
    struct unit_config c;

    config_defaults(&c);
    int clean[] = {SIGHUP, SIGINT, SIGTERM, SIGPIPE};
    for (size_t i = 0; i < 4; i++) {
        struct exit_info e = {CLD_KILLED, clean[i]};
        cr_assert_eq(service_result_from_exit(&c, &e, true), SERVICE_RESULT_SUCCESS);
    }
    struct exit_info e = {CLD_KILLED, SIGUSR1};
    cr_assert_eq(service_result_from_exit(&c, &e, true), SERVICE_RESULT_SIGNAL);
}

/* systemd.service(5), SuccessExitStatus=: the clean signals count "except for Type=oneshot",
 * and the setting is about the main process; a control process is clean only with exit 0
 * (systemd's EXIT_CLEAN_COMMAND, without the success set). */
Test(service, clean_exits_of_oneshot_and_control_processes)
{
    struct unit_config c;
    struct exit_info term = {CLD_KILLED, SIGTERM}, status42 = {CLD_EXITED, 42};

    config_defaults(&c);
    c.success_exit_status.status[42 / 8] |= 1u << (42 % 8);
    cr_assert_eq(service_result_from_exit(&c, &status42, true), SERVICE_RESULT_SUCCESS);
    cr_assert_eq(service_result_from_exit(&c, &status42, false), SERVICE_RESULT_EXIT_CODE);
    cr_assert_eq(service_result_from_exit(&c, &term, false), SERVICE_RESULT_SIGNAL);
    c.type = SERVICE_TYPE_ONESHOT;
    cr_assert_eq(service_result_from_exit(&c, &term, true), SERVICE_RESULT_SIGNAL);
}

Test(service, prevent_and_force_exit_status)
{
    struct unit_config c;
    const char *reason;

    config_defaults(&c);
    c.restart = RESTART_ALWAYS;
    cr_assert_eq(parse_exit_status_set("42", &c.restart_prevent_exit_status), 0);
    struct exit_info e42 = {CLD_EXITED, 42};
    cr_assert_not(service_should_restart(&c, SERVICE_RESULT_EXIT_CODE, &e42, false, &reason));
    cr_assert_str_eq(reason, "prevented by exit status");

    c.restart = RESTART_NO;
    cr_assert_eq(parse_exit_status_set("7", &c.restart_force_exit_status), 0);
    struct exit_info e7 = {CLD_EXITED, 7};
    cr_assert(service_should_restart(&c, SERVICE_RESULT_EXIT_CODE, &e7, false, &reason));
    cr_assert_str_eq(reason, "forced by exit status");
}
