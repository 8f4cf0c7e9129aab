/* The unit-file and query commands end to end: show, cat, verify (online and offline), a bad
 * unit that stays listed with its load state, daemon-reload, and journal filters. The real
 * minisupd and minisupctl in a fresh directory. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "harness.h"
#include "varlink.h"

static struct daemon d;

static void setup(void)
{
    harness_init(&d);
}

static void teardown(void)
{
    harness_cleanup(&d);
}

TestSuite(commands, .init = setup, .fini = teardown, .timeout = 60);

static char *ctl_ok(const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *out = NULL, *err = NULL;
    int r = harness_ctl(&d, &out, &err, a1, a2, a3, a4, NULL);

    cr_assert_eq(r, 0, "minisupctl %s %s exited %d\n%s%s", a1, a2 ? a2 : "", r, out, err);
    free(err);
    return out;
}

Test(commands, show_prints_systemd_properties)
{
    harness_write_unitf(&d, "shown.service",
                        "[Unit]\nDescription=Shown unit\n\n[Service]\nExecStart=-%s sleep 1000\n"
                        "Restart=on-failure\nTimeoutStopSec=90\nEnvironment=A=1 \"B=two words\"\n",
                        HARNESS_TFX);
    harness_start(&d);
    char *out = ctl_ok("show", "shown", NULL, NULL);
    cr_assert(strstr(out, "TimeoutStopUSec=1min 30s\n"), "%s", out);
    cr_assert(strstr(out, "Restart=on-failure\n"), "%s", out);
    cr_assert(strstr(out, "ActiveState=inactive\n"), "%s", out);
    cr_assert(strstr(out, "ignore_errors=yes"), "the - prefix shows as ignore_errors: %s", out);
    cr_assert(strstr(out, "Environment=A=1 \"B=two words\"\n"), "%s", out);
    free(out);

    out = ctl_ok("show", "shown.service", "-p", "Restart,SubState");
    cr_assert_str_eq(out, "SubState=dead\nRestart=on-failure\n");
    free(out);
    harness_stop(&d);
}

Test(commands, cat_prints_the_file_as_loaded)
{
    const char *text = "[Unit]\nDescription=Cat me\n# a comment ; kept\n[Service]\n"
                       "ExecStart=/bin/sh -c 'echo a ; echo b'\n";

    harness_write_unit(&d, "cat.service", text);
    harness_start(&d);
    char *out = ctl_ok("cat", "cat", NULL, NULL);
    cr_assert(strstr(out, text), "cat output:\n%s", out);
    free(out);
    harness_stop(&d);
}

/* A broken unit stays listed with load state bad-setting and a reason; the others run. */
Test(commands, bad_unit_is_listed_and_refused_alone_UNIT)
{
    char *out = NULL, *err = NULL;

    harness_write_unit(&d, "bad.service", "[Service]\nType=simple\nRestart=always\n");
    harness_write_unitf(&d, "good.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_start(&d);
    out = ctl_ok("list-units", "--all", NULL, NULL);
    cr_assert(strstr(out, "bad.service") && strstr(out, "bad-setting"), "%s", out);
    free(out);
    int r = harness_ctl(&d, &out, &err, "start", "bad", NULL);
    cr_assert_neq(r, 0, "a bad unit must not start");
    free(out);
    free(err);
    r = harness_ctl(&d, &out, &err, "start", "good", NULL);
    cr_assert_eq(r, 0);
    free(out);
    free(err);
    r = harness_ctl(&d, &out, &err, "status", "bad", NULL);
    cr_assert(strstr(out, "bad-setting"), "status of a bad unit says why:\n%s", out);
    cr_assert(strstr(out, "ExecStart"), "status of a bad unit says why:\n%s", out);
    free(out);
    free(err);
    harness_stop(&d);
}

Test(commands, verify_offline_names_file_and_line)
{
    char path[4096], *out = NULL, *err = NULL;

    harness_write_unit(&d, "typo.service", "[Service]\nExecStart=/bin/true\nRestrat=always\n");
    harness_path(&d, path, "units/typo.service");
    int r = harness_ctl(&d, &out, &err, "verify", path, NULL);
    cr_assert_eq(r, 0, "a warning is not a failure: %s%s", out, err);
    cr_assert(strstr(err, "typo.service:3: Unknown key name 'Restrat' in section 'Service'"),
              "stdout: %s\nstderr: %s", out, err);
    free(out);
    free(err);

    harness_write_unit(&d, "noexec.service", "[Service]\nRestart=no\n");
    harness_path(&d, path, "units/noexec.service");
    r = harness_ctl(&d, &out, &err, "verify", path, NULL);
    cr_assert_neq(r, 0, "a unit that does not load fails verify");
    cr_assert(strstr(err, "has no ExecStart= setting"), "stderr: %s", err);
    free(out);
    free(err);
}

Test(commands, daemon_reload_adds_units_and_marks_changed)
{
    char *out = NULL, *err = NULL;

    harness_write_unitf(&d, "first.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_start(&d);
    free(ctl_ok("start", "first", NULL, NULL));
    harness_write_unitf(&d, "second.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_write_unitf(&d, "first.service",
                        "[Unit]\nDescription=Changed\n[Service]\nExecStart=%s sleep 1000\n",
                        HARNESS_TFX);
    free(ctl_ok("daemon-reload", NULL, NULL, NULL));
    json_t *u = harness_get_unit(&d, "first");
    cr_assert(json_is_true(json_object_get(u, "unitFileChanged")),
              "a running unit keeps its configuration until its next start");
    json_decref(u);
    int r = harness_ctl(&d, &out, &err, "start", "second", NULL);
    cr_assert_eq(r, 0, "a new unit appears: %s%s", out, err);
    free(out);
    free(err);
    free(ctl_ok("restart", "first", NULL, NULL));
    u = harness_get_unit(&d, "first");
    cr_assert_str_eq(json_string_value(json_object_get(u, "description")), "Changed");
    cr_assert(json_is_false(json_object_get(u, "unitFileChanged")));
    json_decref(u);
    harness_stop(&d);
}

Test(commands, journal_filters_priority_identifier_reverse)
{
    harness_write_unitf(&d, "talk.service",
                        "[Service]\nType=oneshot\nSyslogIdentifier=talker\n"
                        "ExecStart=/bin/sh -c 'echo \"<3>an error\"; echo \"<6>some info\"; "
                        "echo plain'\n");
    harness_start(&d);
    free(ctl_ok("start", "talk", NULL, NULL));
    char *out = ctl_ok("journal", "talk", "-p", "err");
    cr_assert(strstr(out, "an error") && !strstr(out, "some info"), "-p err:\n%s", out);
    cr_assert(strstr(out, "talker["), "the identifier is SyslogIdentifier=:\n%s", out);
    free(out);
    char *args[] = {"journal", "talk", "-t", "talker", "-o", "cat", "-r", NULL};
    char *err = NULL;
    int r = harness_ctlv(&d, &out, &err, (const char *const *)args);
    cr_assert_eq(r, 0, "%s", err);
    const char *plain = strstr(out, "plain"), *error = strstr(out, "an error");
    cr_assert(plain && error && plain < error, "-r is newest first:\n%s", out);
    free(out);
    free(err);
    harness_stop(&d);
}

/* status shows the lines of the run it reports, sent as GetUnit and GetJournal with
 * currentInvocation in one write; the parameter's edges over Varlink. */
Test(commands, status_shows_the_current_run_only)
{
    harness_write_unitf(&d, "twice.service",
                        "[Service]\nType=oneshot\n"
                        "ExecStart=/bin/sh -c 'echo one run'\n");
    harness_start(&d);
    free(ctl_ok("start", "twice", NULL, NULL));
    free(ctl_ok("start", "twice", NULL, NULL));
    char *all = ctl_ok("journal", "twice", "-o", "cat");
    cr_assert_eq(harness_count_lines_containing(all, "one run"), 2, "journal:\n%s", all);
    free(all);

    char *out = NULL, *err = NULL;
    int r = harness_ctl(&d, &out, &err, "status", "twice", NULL);
    cr_assert_eq(r, 3, "status of a finished oneshot exited %d\n%s%s", r, out, err);
    /* The journal line, not the "Process: ... ExecStart=/bin/sh -c echo one run" one. */
    cr_assert_eq(harness_count_lines_containing(out, "]: one run"), 1, "status:\n%s", out);
    free(out);
    free(err);

    json_t *u = harness_get_unit(&d, "twice");
    const char *inv = json_string_value(json_object_get(u, "invocationId"));
    json_t *p = harness_varlink(
        &d, "GetJournal", json_pack("{s:[s], s:b}", "units", "twice", "currentInvocation", 1));
    json_t *entries = json_object_get(p, "entries"), *e;
    size_t i;
    cr_assert_gt(json_array_size(entries), 0);
    json_array_foreach(entries, i, e)
    {
        cr_assert_str_eq(json_string_value(json_object_get(e, "invocationId")), inv);
    }
    json_decref(p);
    json_decref(u);

    p = harness_varlink(&d, "GetJournal",
                        json_pack("{s:[s], s:b}", "units", "nosuch", "currentInvocation", 1));
    cr_assert_eq(json_array_size(json_object_get(p, "entries")), 0);
    json_decref(p);

    char *error = NULL;
    p = harness_varlink_try(
        &d, "GetJournal",
        json_pack("{s:[s, s], s:b}", "units", "twice", "nosuch", "currentInvocation", 1), &error);
    cr_assert_null(p);
    cr_assert_str_eq(error, "org.varlink.service.InvalidParameter");
    free(error);
    harness_stop(&d);
}

/* JobTimeoutSec= (systemd.unit(5)): the job is cancelled with result "timeout" and the unit
 * keeps its state; systemctl says "Job for x.service timed out.". JobRunningTimeoutSec= too. */
Test(commands, job_timeout_cancels_the_job_not_the_unit)
{
    char *out = NULL, *err = NULL;
    char line[256];
    int r;

    /* A notify service that never says READY=1 stays activating (TimeoutStartSec=infinity). */
    harness_write_unitf(&d, "slowstart.service",
                        "[Unit]\nJobTimeoutSec=300ms\n[Service]\nType=notify\n"
                        "ExecStart=%s sleep 1000\nTimeoutStartSec=infinity\n",
                        HARNESS_TFX);
    harness_write_unitf(&d, "slowrun.service",
                        "[Unit]\nJobRunningTimeoutSec=0.3s\n[Service]\nType=notify\n"
                        "ExecStart=%s sleep 1000\nTimeoutStartSec=infinity\n",
                        HARNESS_TFX);
    harness_start(&d);
    for (int i = 0; i < 2; i++) {
        const char *unit = i == 0 ? "slowstart.service" : "slowrun.service";
        r = harness_ctl(&d, &out, &err, "start", unit, NULL);
        cr_assert_eq(r, 1, "start %s exited %d: %s%s", unit, r, out, err);
        snprintf(line, sizeof(line), "Job for %s timed out.\n", unit);
        cr_assert_str_eq(err, line);
        free(out);
        free(err);
        /* The unit is left as it is: still starting, its process alive. */
        cr_assert_geq(harness_active_line(&d, unit, line, sizeof(line)), 0);
        cr_assert(strstr(line, "activating (start)"), "%s: %s", unit, line);
        cr_assert(harness_pid_alive(harness_main_pid(&d, unit)));
        cr_assert(harness_wait_journal_contains(&d, unit, "timed out.", 5000));
    }
    out = ctl_ok("show", "slowstart", "-p", "JobTimeoutUSec,JobRunningTimeoutUSec");
    cr_assert_str_eq(out, "JobTimeoutUSec=300ms\nJobRunningTimeoutUSec=infinity\n");
    free(out);
    harness_stop(&d);
}

/* Condition*= and Assert*= at start (systemd.unit(5)): an unmet condition skips the start (job
 * done, unit inactive, "Condition:" in status), a trigger list needs one, a failed assertion
 * fails the job ("Assertion failed on job for x.service."). */
Test(commands, conditions_skip_and_asserts_fail)
{
    char *out = NULL, *err = NULL;
    char line[256];
    int r;

    harness_write_unitf(&d, "skipped.service",
                        "[Unit]\nDescription=Skipped\nConditionPathExists=/nonexistent/x\n"
                        "[Service]\nExecStart=%s sleep 1000\n",
                        HARNESS_TFX);
    harness_write_unitf(&d, "triggered.service",
                        "[Unit]\nConditionPathExists=|/nonexistent/a\nConditionPathExists=|/\n"
                        "ConditionPathIsDirectory=!/nonexistent/b\n"
                        "[Service]\nExecStart=%s sleep 1000\n",
                        HARNESS_TFX);
    harness_write_unitf(&d, "asserted.service",
                        "[Unit]\nAssertPathExists=/nonexistent/y\n"
                        "[Service]\nExecStart=%s sleep 1000\n",
                        HARNESS_TFX);
    harness_start(&d);

    r = harness_ctl(&d, &out, &err, "start", "skipped", NULL);
    cr_assert_eq(r, 0, "an unmet condition is no failure: %s%s", out, err);
    free(out);
    free(err);
    cr_assert_eq(harness_active_line(&d, "skipped", line, sizeof(line)), 3);
    cr_assert(strncmp(line, "inactive (dead)", 15) == 0, "%s", line);
    cr_assert_eq(harness_ctl(&d, &out, &err, "status", "skipped", NULL), 3);
    free(err);
    cr_assert(strstr(out, "  Condition: start condition failed at "), "%s", out);
    cr_assert(strstr(out, "ConditionPathExists=/nonexistent/x was not met"), "%s", out);
    cr_assert(strstr(out, "Skipped was skipped because of an unmet condition check "
                          "(ConditionPathExists=/nonexistent/x)."),
              "%s", out);
    free(out);
    out = ctl_ok("show", "skipped", "-p", "ConditionResult,AssertResult");
    cr_assert_str_eq(out, "ConditionResult=no\nAssertResult=yes\n");
    free(out);

    out = ctl_ok("start", "triggered", NULL, NULL);
    free(out);
    cr_assert(harness_wait_status(&d, "triggered", "active (running)", 5000));

    r = harness_ctl(&d, &out, &err, "start", "asserted", NULL);
    cr_assert_eq(r, 1, "%s%s", out, err);
    cr_assert_str_eq(err, "Assertion failed on job for asserted.service.\n");
    free(out);
    free(err);
    cr_assert_eq(harness_ctl(&d, &out, &err, "status", "asserted", NULL), 3);
    free(err);
    cr_assert(strstr(out, "     Assert: start assertion failed at "), "%s", out);
    free(out);
    harness_stop(&d);
}

/* Runs minisupctl with args (NULL-terminated) and checks its exit code; returns its stdout. */
static char *ctl_expect(int want, const char *const *args)
{
    char *out = NULL, *err = NULL;
    int r = harness_ctlv(&d, &out, &err, args);

    cr_assert_eq(r, want, "minisupctl %s ... exited %d, not %d\n%s%s", args[0], r, want, out, err);
    free(err);
    return out;
}

/* systemctl show: -p may be repeated and comma-separated, --property too, and every named
 * property is printed (in the order show prints them); --value drops "NAME=", -P NAME is
 * -p NAME --value. */
Test(commands, show_value_and_repeated_properties)
{
    harness_write_unitf(&d, "props.service",
                        "[Unit]\nDescription=Props\n[Service]\nExecStart=%s sleep 1000\n"
                        "Restart=on-failure\n",
                        HARNESS_TFX);
    harness_start(&d);

    const char *repeated[] = {"show", "props", "-p", "SubState", "-p", "Restart", NULL};
    char *out = ctl_expect(0, repeated);
    cr_assert_str_eq(out, "SubState=dead\nRestart=on-failure\n");
    free(out);

    const char *mixed[] = {"show",        "props", "--property=Restart,Description",
                           "-p",          "Id",    "--property",
                           "ActiveState", NULL};
    out = ctl_expect(0, mixed);
    cr_assert_str_eq(out, "ActiveState=inactive\nRestart=on-failure\nId=props.service\n"
                          "Description=Props\n");
    free(out);

    const char *value[] = {"show", "props", "--value", "-p", "SubState,Restart", NULL};
    out = ctl_expect(0, value);
    cr_assert_str_eq(out, "dead\non-failure\n");
    free(out);

    const char *p_upper[] = {"show", "props", "-P", "Restart", NULL};
    out = ctl_expect(0, p_upper);
    cr_assert_str_eq(out, "on-failure\n");
    free(out);

    /* Requested properties are printed even when empty, --value then prints an empty line. */
    const char *empty[] = {"show", "props", "-P", "StatusText", NULL};
    out = ctl_expect(0, empty);
    cr_assert_str_eq(out, "\n");
    free(out);
    harness_stop(&d);
}

/* systemctl show of a unit without a file prints the properties of a not-found unit and exits
 * 0; the unit is named in them (Id=, LoadError=). */
Test(commands, show_unknown_unit_prints_not_found_properties)
{
    harness_write_unitf(&d, "known.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_start(&d);

    char *out = NULL, *err = NULL;
    int r = harness_ctl(&d, &out, &err, "show", "nosuch", NULL);
    cr_assert_eq(r, 0, "show of an unknown unit exited %d\n%s%s", r, out, err);
    cr_assert_str_eq(err, "", "nothing on stderr: %s", err);
    cr_assert(strstr(out, "Id=nosuch.service\n"), "%s", out);
    cr_assert(strstr(out, "Names=nosuch.service\n"), "%s", out);
    cr_assert(strstr(out, "Description=nosuch.service\n"), "%s", out);
    cr_assert(strstr(out, "LoadState=not-found\n"), "%s", out);
    cr_assert(strstr(out, "LoadError=org.freedesktop.systemd1.NoSuchUnit "
                          "\"Unit nosuch.service not found.\"\n"),
              "%s", out);
    cr_assert(strstr(out, "ActiveState=inactive\n"), "%s", out);
    cr_assert(strstr(out, "SubState=dead\n"), "%s", out);
    cr_assert(strstr(out, "MainPID=0\n"), "%s", out);
    free(out);
    free(err);

    /* With a known unit next to it: both shown, separated by an empty line, exit 0. */
    const char *both[] = {"show", "known", "nosuch", "-p", "Id,LoadState", NULL};
    out = ctl_expect(0, both);
    cr_assert_str_eq(out, "LoadState=loaded\nId=known.service\n\n"
                          "LoadState=not-found\nId=nosuch.service\n");
    free(out);
    harness_stop(&d);
}

/* ExecMainPID= is the main process's pid, as systemd's (equal to MainPID= while it runs). */
Test(commands, show_exec_main_pid)
{
    harness_write_unitf(&d, "pid.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_start(&d);
    free(ctl_ok("start", "pid", NULL, NULL));
    pid_t pid = harness_main_pid(&d, "pid");
    cr_assert_gt(pid, 0);

    char want[64];
    snprintf(want, sizeof(want), "%d\n%d\n", (int)pid, (int)pid);
    const char *args[] = {"show", "pid", "--value", "-p", "MainPID,ExecMainPID", NULL};
    char *out = ctl_expect(0, args);
    cr_assert_str_eq(out, want);
    free(out);

    /* Kept after the exit, as systemd keeps it; MainPID is 0 then. */
    free(ctl_ok("stop", "pid", NULL, NULL));
    snprintf(want, sizeof(want), "0\n%d\n", (int)pid);
    out = ctl_expect(0, args);
    cr_assert_str_eq(out, want);
    free(out);
    harness_stop(&d);
}

static unsigned long long show_number(const char *unit, const char *property)
{
    const char *args[] = {"show", unit, "--value", "-p", property, NULL};
    char *out = ctl_expect(0, args);
    unsigned long long v = strtoull(out, NULL, 10);

    free(out);
    return v;
}

static char *show_value(const char *unit, const char *property)
{
    const char *args[] = {"show", unit, "--value", "-p", property, NULL};

    return ctl_expect(0, args);
}

/* systemctl's picture of each command's last run: "Process:" lines and "Main PID: N (code=...)"
 * in status, the runtime fields of ExecStart= and friends in show, and the unit timestamps on
 * both clocks, each moved only by the transition systemd moves it on (a reload keeps
 * ActiveEnterTimestamp). */
Test(commands, status_and_show_tell_each_command_run)
{
    harness_write_unitf(&d, "runs.service",
                        "[Service]\nExecStartPre=/bin/true\nExecStart=%s sleep 1000\n"
                        "ExecReload=/bin/sh -c 'exit 0'\n",
                        HARNESS_TFX);
    harness_start(&d);
    free(ctl_ok("start", "runs", NULL, NULL));
    pid_t pid = harness_main_pid(&d, "runs");
    cr_assert_gt(pid, 0);
    char *out = ctl_ok("status", "runs", NULL, NULL), want[512];
    cr_assert(strstr(out, " ExecStartPre=/bin/true (code=exited, status=0/SUCCESS)\n"), "%s", out);
    cr_assert(strstr(out, "    Process: "), "%s", out);
    snprintf(want, sizeof(want), "   Main PID: %d (", (int)pid);
    cr_assert(strstr(out, want), "%s", out);
    free(out);
    char *exec = show_value("runs", "ExecStart");
    snprintf(want, sizeof(want), " ; pid=%d ; code=(null) ; status=0/0 }\n", (int)pid);
    cr_assert(strstr(exec, want), "%s", exec);
    cr_assert_null(strstr(exec, "start_time=[n/a]"), "%s", exec);
    free(exec);
    unsigned long long entered = show_number("runs", "ActiveEnterTimestampMonotonic");
    cr_assert_gt(entered, 0);
    cr_assert_leq(show_number("runs", "InactiveExitTimestampMonotonic"), entered);
    cr_assert_gt(show_number("runs", "ExecMainStartTimestampMonotonic"), 0);
    cr_assert_eq(show_number("runs", "ActiveExitTimestampMonotonic"), 0);

    free(ctl_ok("reload", "runs", NULL, NULL));
    harness_wait_state(&d, "runs", "active", "running", 10000);
    cr_assert_eq(show_number("runs", "ActiveEnterTimestampMonotonic"), entered,
                 "a reload leaves and re-enters nothing");
    out = ctl_ok("status", "runs", NULL, NULL);
    cr_assert(strstr(out, " ExecReload=/bin/sh -c exit 0 (code=exited, status=0/SUCCESS)\n"), "%s",
              out);
    free(out);

    free(ctl_ok("kill", "runs", "--signal=KILL", NULL));
    harness_wait_down(&d, "runs", 10000);
    char *err = NULL;
    out = NULL;
    cr_assert_eq(harness_ctl(&d, &out, &err, "status", "runs", NULL), 3);
    snprintf(want, sizeof(want),
             "    Process: %d ExecStart=%s sleep 1000 (code=killed, signal=KILL)\n", (int)pid,
             HARNESS_TFX);
    cr_assert(strstr(out, want), "%s", out);
    snprintf(want, sizeof(want), "   Main PID: %d (code=killed, signal=KILL)\n", (int)pid);
    cr_assert(strstr(out, want), "%s", out);
    cr_assert(strstr(out, "   Duration: "), "%s", out);
    cr_assert(strncmp(out, "\u00d7 runs.service", 15) == 0, "failed shows a cross: %s", out);
    free(out);
    free(err);
    exec = show_value("runs", "ExecStart");
    snprintf(want, sizeof(want), " ; pid=%d ; code=killed ; status=9/KILL }\n", (int)pid);
    cr_assert(strstr(exec, want), "%s", exec);
    free(exec);
    unsigned long long left = show_number("runs", "ActiveExitTimestampMonotonic");
    cr_assert_geq(left, entered);
    cr_assert_geq(show_number("runs", "InactiveEnterTimestampMonotonic"), left);
    cr_assert_geq(show_number("runs", "ExecMainExitTimestampMonotonic"),
                  show_number("runs", "ExecMainStartTimestampMonotonic"));

    /* A new run forgets the last run's commands, as systemd's service_start() does: the
     * reload of the run before shows no more. */
    free(ctl_ok("start", "runs", NULL, NULL));
    out = ctl_ok("status", "runs", NULL, NULL);
    cr_assert_null(strstr(out, "ExecReload="), "%s", out);
    snprintf(want, sizeof(want), "Process: %d ", (int)pid);
    cr_assert_null(strstr(out, want),
                   "the last run's main process is not a command of this one: %s", out);
    cr_assert(strstr(out, " ExecStartPre=/bin/true (code=exited, status=0/SUCCESS)\n"), "%s", out);
    free(out);
    exec = show_value("runs", "ExecReload");
    cr_assert(strstr(exec, "start_time=[n/a]"), "%s", exec);
    free(exec);
    harness_stop(&d);
}

/* is-active and is-failed of units without a file print "inactive". As systemctl (systemd 253
 * and later, check_unit_generic()): exit 4 when every unit was unknown, else the verb's own
 * code, 3 for is-active and 1 for is-failed. */
Test(commands, is_active_and_is_failed_of_unknown_units)
{
    harness_write_unitf(&d, "idle.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_start(&d);

    const char *active[] = {"is-active", "nosuch", NULL};
    char *out = ctl_expect(4, active);
    cr_assert_str_eq(out, "inactive\n");
    free(out);
    const char *failed[] = {"is-failed", "nosuch", NULL};
    out = ctl_expect(4, failed);
    cr_assert_str_eq(out, "inactive\n");
    free(out);

    const char *active_mixed[] = {"is-active", "idle", "nosuch", NULL};
    out = ctl_expect(3, active_mixed);
    cr_assert_str_eq(out, "inactive\ninactive\n");
    free(out);
    const char *failed_mixed[] = {"is-failed", "nosuch", "idle", NULL};
    out = ctl_expect(1, failed_mixed);
    cr_assert_str_eq(out, "inactive\ninactive\n");
    free(out);
    const char *quiet[] = {"is-active", "-q", "nosuch", NULL};
    out = ctl_expect(4, quiet);
    cr_assert_str_eq(out, "");
    free(out);
    harness_stop(&d);
}

/* journal --invocation takes an ID as journalctl does (32 hex digits, or a UUID, either case);
 * anything else is refused with exit 1 instead of matching nothing. */
Test(commands, journal_invocation_must_be_an_id)
{
    char *out = NULL, *err = NULL;

    harness_write_unitf(&d, "inv.service",
                        "[Service]\nType=oneshot\n"
                        "ExecStart=/bin/sh -c 'echo from this run'\n");
    harness_start(&d);
    free(ctl_ok("start", "inv", NULL, NULL));

    const char *bad[] = {"bogus", "0", "-1", "0123456789abcdef0123456789abcdeg",
                         "0123456789abcdef0123456789abcdef0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char arg[128], want[256];
        snprintf(arg, sizeof(arg), "--invocation=%s", bad[i]);
        snprintf(want, sizeof(want), "Failed to parse invocation ID '%s'", bad[i]);
        int r = harness_ctl(&d, &out, &err, "journal", arg, NULL);
        cr_assert_eq(r, 1, "%s exited %d\n%s%s", arg, r, out, err);
        cr_assert_str_eq(out, "", "%s printed: %s", arg, out);
        cr_assert(strstr(err, want), "%s: %s", arg, err);
        free(out);
        free(err);
        /* The files are read the same way: the ID is checked before anything is read. */
        char dir[4096];
        r = harness_ctl(&d, &out, &err, "journal", "-D", harness_path(&d, dir, "log"), arg, NULL);
        cr_assert_eq(r, 1, "-D %s exited %d\n%s%s", arg, r, out, err);
        free(out);
        free(err);
    }

    /* The run's own ID, as 32 digits, in capitals and in UUID form, selects its lines. */
    json_t *u = harness_get_unit(&d, "inv");
    const char *inv = json_string_value(json_object_get(u, "invocationId"));
    cr_assert_eq(strlen(inv), 32);
    char upper[33], uuid[37], arg[64];
    for (size_t i = 0; i <= 32; i++)
        upper[i] = (char)toupper((unsigned char)inv[i]);
    snprintf(uuid, sizeof(uuid), "%.8s-%.4s-%.4s-%.4s-%.12s", inv, inv + 8, inv + 12, inv + 16,
             inv + 20);
    const char *forms[] = {inv, upper, uuid};
    for (size_t i = 0; i < 3; i++) {
        snprintf(arg, sizeof(arg), "--invocation=%s", forms[i]);
        const char *args[] = {"journal", "inv", arg, "-o", "cat", NULL};
        out = ctl_expect(0, args);
        cr_assert_eq(harness_count_lines(out, "from this run"), 1, "%s:\n%s", arg, out);
        free(out);
    }
    json_decref(u);
    harness_stop(&d);
}

/* The bytes of /bin/cat's /proc/self/cmdline, as the service below prints them. */
static const char cmdline[] = "cat\0/proc/self/cmdline";

/* Whether the -o json lines in text have an entry whose MESSAGE is an array of the bytes of
 * cmdline (journalctl's JSON for binary data), and whether every other entry has a string. */
static bool json_has_cmdline_bytes(const char *text)
{
    bool found = false;

    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        json_t *e = json_loadb(line, len, 0, NULL), *bytes, *b;
        size_t i;

        cr_assert_not_null(e, "not a JSON line: %.*s", (int)len, line);
        bytes = json_object_get(e, "MESSAGE");
        if (!json_is_array(bytes)) {
            cr_assert(json_is_string(bytes), "%.*s", (int)len, line);
        } else if (json_array_size(bytes) == sizeof(cmdline)) {
            found = true;
            json_array_foreach(bytes, i, b)
            {
                if (json_integer_value(b) != (unsigned char)cmdline[i])
                    found = false;
            }
        }
        json_decref(e);
        line += len + (end ? 1 : 0);
    }
    return found;
}

/* A service that prints NUL bytes (cat /proc/self/cmdline): its record travels to minisupctl
 * as messageBytes, as journald's JSON carries binary data, so journal and status still read;
 * the short formats show it as journalctl does ("[23B blob data]"), cat writes it raw, json
 * and the offline reader give the same bytes, and the records around it read as usual.
 * Before, the daemon sent "\u0000" and every read of the journal failed with "Bad message". */
Test(commands, journal_message_with_nul_bytes)
{
    char *out, dir[PATH_MAX];

    harness_write_unit(&d, "a0.service",
                       "[Service]\nType=oneshot\n"
                       "ExecStart=/bin/sh -c 'echo before; cat /proc/self/cmdline; echo; "
                       "echo after'\n");
    harness_write_unit(&d, "other.service",
                       "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo other line'\n");
    harness_start(&d);
    free(ctl_ok("start", "a0", NULL, NULL));
    free(ctl_ok("start", "other", NULL, NULL));

    /* Exactly the calls of the report: all three failed. */
    const char *last3[] = {"journal", "a0", "-n", "3", NULL};
    free(ctl_expect(0, last3));
    const char *all3[] = {"journal", "-n", "3", NULL};
    free(ctl_expect(0, all3));
    const char *status[] = {"status", "a0", "-n", "10", NULL};
    out = ctl_expect(3, status);
    cr_assert(strstr(out, "[23B blob data]"), "status:\n%s", out);
    cr_assert(strstr(out, ": before\n"), "status:\n%s", out);
    cr_assert(strstr(out, ": after\n"), "status:\n%s", out);
    free(out);

    const char *text[] = {"journal", "-u", "a0", "-u", "other", "-o", "short", NULL};
    out = ctl_expect(0, text);
    cr_assert(strstr(out, ": before\n"), "%s", out);
    cr_assert(strstr(out, ": [23B blob data]\n"), "%s", out);
    cr_assert(strstr(out, ": after\n"), "%s", out);
    cr_assert(strstr(out, ": other line\n"), "%s", out);
    free(out);

    /* -o cat writes the bytes as they came (journalctl does); the output is only seen up to
     * its first NUL here. */
    const char *cat[] = {"journal", "a0", "-o", "cat", NULL};
    out = ctl_expect(0, cat);
    cr_assert(strstr(out, "before\ncat"), "%s", out);
    free(out);

    const char *json[] = {"journal", "-u", "a0", "-u", "other", "-o", "json", NULL};
    out = ctl_expect(0, json);
    cr_assert(json_has_cmdline_bytes(out), "no MESSAGE with the bytes:\n%s", out);
    cr_assert(strstr(out, "\"MESSAGE\":\"other line\""), "%s", out);
    free(out);

    /* The files, read by minisupctl itself, give the same. */
    harness_path(&d, dir, "log");
    const char *offline_json[] = {"journal", "-D", dir, "-u", "a0", "-o", "json", NULL};
    out = ctl_expect(0, offline_json);
    cr_assert(json_has_cmdline_bytes(out), "offline:\n%s", out);
    free(out);
    const char *offline_short[] = {"journal", "-D", dir, "-u", "a0", NULL};
    out = ctl_expect(0, offline_short);
    cr_assert(strstr(out, ": [23B blob data]\n"), "%s", out);
    free(out);
    harness_stop(&d);
}

/* list-units shows the unit name in DESCRIPTION when there is no Description=, as systemd
 * does (and as status's header line does). */
Test(commands, list_units_description_defaults_to_the_name)
{
    harness_write_unitf(&d, "nodesc.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_write_unitf(&d, "desc.service",
                        "[Unit]\nDescription=Described\n[Service]\n"
                        "ExecStart=%s sleep 1000\n",
                        HARNESS_TFX);
    harness_start(&d);
    const char *args[] = {"list-units", "--all", "--no-legend", NULL};
    char *out = ctl_expect(0, args);
    cr_assert_eq(harness_count_lines(out, "  desc.service   loaded inactive dead Described"), 1,
                 "%s", out);
    cr_assert_eq(harness_count_lines(out, "  nodesc.service loaded inactive dead nodesc.service"),
                 1, "%s", out);
    free(out);
    harness_stop(&d);
}

/* A unit with a pending job is listed even while inactive, and its job shows in a JOB
 * column that exists only while some unit has a job, as systemctl list-units does: here a start
 * waits for its After= requirement, whose ExecStartPre= waits for a gate file. */
Test(commands, list_units_shows_pending_jobs)
{
    char gate[PATH_MAX];

    harness_path(&d, gate, "gate");
    harness_write_unitf(&d, "slow.service",
                        "[Service]\nExecStartPre=/bin/sh -c 'while [ ! -e %s ]; do sleep 0.02; "
                        "done'\nExecStart=%s sleep 1000\n",
                        gate, HARNESS_TFX);
    harness_write_unitf(&d, "waits.service",
                        "[Unit]\nDescription=Waits\nRequires=slow.service\nAfter=slow.service\n"
                        "[Service]\nExecStart=%s sleep 1000\n",
                        HARNESS_TFX);
    harness_start(&d);
    free(ctl_ok("start", "--no-block", "waits", NULL));
    harness_wait_state(&d, "slow", "activating", "start-pre", 5000);

    const char *args[] = {"list-units", "--no-legend", NULL};
    char *out = ctl_expect(0, args);
    cr_assert_str_eq(out,
                     "  slow.service  loaded activating start-pre start slow.service\n"
                     "  waits.service loaded inactive   dead      start Waits\n",
                     "%s", out);
    free(out);
    const char *legend[] = {"list-units", NULL};
    out = ctl_expect(0, legend);
    cr_assert_eq(harness_count_lines(out, "JOB    = Pending job for the unit."), 1, "%s", out);
    free(out);

    int fd = open(gate, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0);
    close(fd);
    harness_wait_state(&d, "waits", "active", "running", 5000);
    out = ctl_expect(0, args);
    cr_assert_str_eq(out,
                     "  slow.service  loaded active running slow.service\n"
                     "  waits.service loaded active running Waits\n",
                     "%s", out);
    free(out);
    harness_stop(&d);
}

/* Runs minisupctl with args (NULL-terminated), checks its exit code and its stderr (unless
 * want_err is NULL); returns its stdout. */
static char *ctl_expect_err(int want, const char *want_err, const char *const *args)
{
    char *out = NULL, *err = NULL;
    int r = harness_ctlv(&d, &out, &err, args);

    cr_assert_eq(r, want, "minisupctl %s ... exited %d, not %d\n%s%s", args[0], r, want, out, err);
    if (want_err)
        cr_assert_str_eq(err, want_err, "minisupctl %s ...: stderr", args[0]);
    free(err);
    return out;
}

/* systemctl's --failed is --state=failed, for list-units and for no command at all (list-units
 * is the default). */
Test(commands, list_units_failed_is_state_failed)
{
    harness_write_unitf(&d, "runs.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_write_unit(&d, "fails.service",
                       "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'exit 3'\n");
    harness_start(&d);
    free(ctl_ok("start", "runs", NULL, NULL));
    const char *start_fails[] = {"start", "fails", NULL};
    free(ctl_expect(1, start_fails));
    harness_wait_state(&d, "fails", "failed", NULL, 5000);

    const char *failed[] = {"list-units", "--failed", "--no-legend", NULL};
    char *out = ctl_expect_err(0, "", failed);
    cr_assert_str_eq(out, "● fails.service loaded failed failed fails.service\n");
    free(out);

    const char *state[] = {"list-units", "--state=failed", NULL};
    char *want = ctl_expect(0, state);
    cr_assert(strstr(want, "1 loaded units listed."), "%s", want);
    const char *bare[] = {"--failed", NULL};
    out = ctl_expect_err(0, "", bare);
    cr_assert_str_eq(out, want, "minisupctl --failed is list-units --state=failed");
    free(out);
    free(want);

    /* --failed adds to --state, as in systemctl (both lists are one). */
    const char *both[] = {"list-units", "--failed", "--state=running", "--no-legend", NULL};
    out = ctl_expect(0, both);
    cr_assert_eq(harness_count_lines_containing(out, "fails.service"), 1, "%s", out);
    cr_assert_eq(harness_count_lines_containing(out, "runs.service"), 1, "%s", out);
    free(out);
    harness_stop(&d);
}

/* -o json-pretty is JSON for the unit commands too; show's -p picks the properties of -o json
 * as it does of the text. */
Test(commands, json_output_pretty_and_picked)
{
    harness_write_unitf(&d, "runs.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_start(&d);
    free(ctl_ok("start", "runs", NULL, NULL));

    const char *pretty[] = {"list-units", "-o", "json-pretty", "runs*", NULL};
    char *out = ctl_expect_err(0, "", pretty);
    json_t *j = json_loads(out, 0, NULL);
    cr_assert(json_is_array(j) && json_array_size(j) == 1, "%s", out);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(j, 0), "name")),
                     "runs.service");
    cr_assert_gt(harness_count_lines_containing(out, "\""), 3, "not indented: %s", out);
    json_decref(j);
    free(out);

    const char *version[] = {"version", "-o", "json-pretty", NULL};
    out = ctl_expect_err(0, "", version);
    j = json_loads(out, 0, NULL);
    cr_assert(json_is_object(j), "%s", out);
    json_decref(j);
    free(out);

    const char *picked[] = {"show", "-o", "json", "-p", "ActiveState,SubState", "runs", NULL};
    out = ctl_expect_err(0, "", picked);
    cr_assert_str_eq(out, "[{\"name\":\"ActiveState\",\"value\":\"active\"},"
                          "{\"name\":\"SubState\",\"value\":\"running\"}]\n");
    free(out);
    harness_stop(&d);
}

/* systemctl prints a table's header over no rows, and the count after it. */
Test(commands, empty_tables_keep_their_header)
{
    harness_write_unitf(&d, "runs.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_start(&d);
    const char *failed[] = {"list-units", "--failed", NULL};
    char *out = ctl_expect_err(0, "", failed);
    cr_assert_str_eq(out, "  UNIT LOAD ACTIVE SUB DESCRIPTION\n0 loaded units listed.\n");
    free(out);
    const char *sockets[] = {"list-sockets", NULL};
    out = ctl_expect_err(0, "", sockets);
    cr_assert_str_eq(out, "LISTEN UNIT ACTIVATES\n\n0 sockets listed.\n"
                          "Pass --all to see loaded but inactive sockets, too.\n");
    free(out);
    harness_stop(&d);
}

/* list-units -t/--type: comma-separated types, repeatable; "help" lists the types minisupd
 * has; anything else is refused with systemctl's words and exit 1. journal's -t stays
 * --identifier (journal_filters_priority_identifier_reverse). */
Test(commands, list_units_type_filters_by_unit_type)
{
    harness_write_unit(&d, "listen.socket", "[Socket]\nListenStream=%t/listen.sock\n");
    harness_write_unitf(&d, "listen.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_write_unitf(&d, "other.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_start(&d);
    free(ctl_ok("start", "listen.socket", NULL, NULL));
    free(ctl_ok("start", "other", NULL, NULL));

    const char *sockets[] = {"list-units", "--type=socket", "--no-legend", NULL};
    char *out = ctl_expect_err(0, "", sockets);
    cr_assert_str_eq(out, "  listen.socket loaded active listening listen.socket\n");
    free(out);

    const char *services[] = {"list-units", "-t", "service", "--all", "--no-legend", NULL};
    out = ctl_expect_err(0, "", services);
    cr_assert_str_eq(out, "  listen.service loaded inactive dead    listen.service\n"
                          "  other.service  loaded active   running other.service\n");
    free(out);

    const char *lists[][6] = {
        {"list-units", "--type=service,socket", "--all", "--no-legend", NULL},
        {"list-units", "-t", "socket", "--type=service", "-a", "--no-legend"},
        {"-tsocket,service", "--all", "--no-legend", NULL},
    };
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        const char *args[7] = {NULL};
        memcpy(args, lists[i], sizeof(lists[i]));
        out = ctl_expect_err(0, "", args);
        cr_assert_eq(harness_count_lines_containing(out, ".s"), 3, "%s %s:\n%s", args[0], args[1],
                     out);
        free(out);
    }

    /* The legend counts what was shown. */
    const char *legend[] = {"list-units", "--type=socket", NULL};
    out = ctl_expect(0, legend);
    cr_assert(strstr(out, "\n1 loaded units listed."), "%s", out);
    free(out);

    const char *help[] = {"list-units", "--type=help", NULL};
    out = ctl_expect_err(0, "", help);
    cr_assert_str_eq(out, "Available unit types:\nservice\nsocket\n");
    free(out);
    const char *help_bare[] = {"--no-legend", "-t", "help", NULL};
    out = ctl_expect_err(0, "", help_bare);
    cr_assert_str_eq(out, "service\nsocket\n");
    free(out);

    const char *unknown[][3] = {
        {"list-units", "--type=timer", NULL},
        {"list-units", "--type=service,bogus", NULL},
        {"-t", "bogus", NULL},
    };
    const char *named[] = {"timer", "bogus", "bogus"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        char want[256];
        snprintf(want, sizeof(want),
                 "Unknown unit type or load state '%s'.\n"
                 "Use -t help to see a list of allowed values.\n",
                 named[i]);
        out = ctl_expect_err(1, want, unknown[i]);
        cr_assert_str_eq(out, "", "nothing listed: %s", out);
        free(out);
    }
    harness_stop(&d);
}

/* is-enabled: "enabled" with WantedBy= or RequiredBy=, "static" without, "alias" for a symlink
 * name, "not-found" for no unit; exit 0 when one of them is enabled, static or an alias, 4 when
 * none was found (systemctl since systemd 253); a unit that failed to load is an error. */
Test(commands, is_enabled_reports_the_install_section)
{
    char link[4096];

    harness_write_unitf(
        &d, "wanted.service",
        "[Service]\nExecStart=%s sleep 1000\n[Install]\nWantedBy=multi-user.target\n", HARNESS_TFX);
    harness_write_unitf(&d, "required.service",
                        "[Service]\nExecStart=%s sleep 1000\n[Install]\nRequiredBy=x.target\n",
                        HARNESS_TFX);
    harness_write_unitf(&d, "plain.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_write_unit(&d, "broken.service", "[Service]\nRestart=always\n");
    cr_assert_eq(symlink("plain.service", harness_path(&d, link, "units/other-name.service")), 0);
    harness_start(&d);

    const struct {
        const char *args[5];
        int code;
        const char *out;
    } cases[] = {
        {{"is-enabled", "wanted", NULL}, 0, "enabled\n"},
        {{"is-enabled", "required.service", NULL}, 0, "enabled\n"},
        {{"is-enabled", "plain", NULL}, 0, "static\n"},
        {{"is-enabled", "other-name", NULL}, 0, "alias\n"},
        {{"is-enabled", "nosuch", NULL}, 4, "not-found\n"},
        {{"is-enabled", "nosuch", "other.socket", NULL}, 4, "not-found\nnot-found\n"},
        {{"is-enabled", "nosuch", "plain", NULL}, 0, "not-found\nstatic\n"},
        {{"is-enabled", "wanted", "plain", "nosuch", NULL}, 0, "enabled\nstatic\nnot-found\n"},
        {{"is-enabled", "-q", "nosuch", NULL}, 4, ""},
        {{"is-enabled", "--quiet", "wanted", NULL}, 0, ""},
        /* show's UnitFileState= says the same, as systemctl's does. */
        {{"show", "-P", "UnitFileState", "wanted", NULL}, 0, "enabled\n"},
        {{"show", "-P", "UnitFileState", "plain", NULL}, 0, "static\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = ctl_expect_err(cases[i].code, "", cases[i].args);
        cr_assert_str_eq(out, cases[i].out, "is-enabled %s %s", cases[i].args[1],
                         cases[i].args[2] ? cases[i].args[2] : "");
        free(out);
    }

    /* A unit whose file did not load has no state to report: an error, exit 1, the others
     * still printed. */
    char *out = NULL, *err = NULL;
    int r = harness_ctl(&d, &out, &err, "is-enabled", "broken", "wanted", NULL);
    cr_assert_eq(r, 1, "exited %d\n%s%s", r, out, err);
    cr_assert_str_eq(out, "enabled\n");
    cr_assert(strstr(err, "Failed to get unit file state for broken.service: Unit broken.service "
                          "has a bad unit file setting.\n"),
              "%s", err);
    free(out);
    free(err);

    const char *none[] = {"is-enabled", NULL};
    free(ctl_expect(1, none));
    harness_stop(&d);
}

/* Exit codes and words of failed verbs, as systemctl's: a job verb maps its error as
 * translate_bus_error_to_exit_status() does (no such unit 5, job not applicable 3, bad unit
 * file 6); stop, kill and reset-failed only look a unit up ("not loaded"); kill and
 * reset-failed exit 1; with several units the first that did not succeed decides. */
Test(commands, failed_verbs_exit_as_systemctl)
{
    harness_write_unitf(&d, "plain.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_write_unit(&d, "idle.service", "[Service]\nExecStart=/bin/true\n");
    harness_write_unit(&d, "broken.service", "[Service]\nRestart=always\n");
    harness_write_unit(&d, "tmpl@.service", "[Service]\nExecStart=/bin/true\n");
    harness_start(&d);
    free(ctl_ok("start", "plain", NULL, NULL));

    const struct {
        const char *args[4];
        int code;
        const char *err;
    } cases[] = {
        /* Bad arguments: systemctl exits 1 (EXIT_FAILURE), not LSB's 2. */
        {{"bogus", "plain", NULL},
         1,
         "Unknown command verb 'bogus'.\nTry 'minisupctl --help' for more information.\n"},
        {{"status", "--bogus-option", "plain", NULL},
         1,
         "minisupctl: unrecognized option '--bogus-option'\nTry 'minisupctl --help' for more "
         "information.\n"},
        /* getopt's messages in glibc's words, whichever C library minisupctl was built with
         * (docs/install.md, Linking), even where musl's getopt would word them otherwise. */
        {{"status", "plain", "-z", NULL},
         1,
         "minisupctl: invalid option -- 'z'\nTry 'minisupctl --help' for more information.\n"},
        {{"status", "plain", "-u", NULL},
         1,
         "minisupctl: option requires an argument -- 'u'\nTry 'minisupctl --help' for more "
         "information.\n"},
        {{"status", "plain", "--unit", NULL},
         1,
         "minisupctl: option '--unit' requires an argument\nTry 'minisupctl --help' for more "
         "information.\n"},
        {{"list-units", "--all=yes", NULL},
         1,
         "minisupctl: option '--all' doesn't allow an argument\nTry 'minisupctl --help' for "
         "more information.\n"},
        {{"start", "nosuch", NULL},
         5,
         "Failed to start nosuch.service: Unit nosuch.service not found.\n"},
        {{"restart", "nosuch", NULL},
         5,
         "Failed to restart nosuch.service: Unit nosuch.service not found.\n"},
        {{"stop", "nosuch", NULL},
         5,
         "Failed to stop nosuch.service: Unit nosuch.service not loaded.\n"},
        {{"reload", "plain", NULL},
         3,
         "Failed to reload plain.service: Job type reload is not applicable for unit "
         "plain.service.\n"},
        {{"start", "broken", NULL}, 6, NULL},
        /* An inactive unit that did not load is "not loaded" to stop, as in systemd. */
        {{"stop", "broken", NULL},
         5,
         "Failed to stop broken.service: Unit broken.service not loaded.\n"},
        {{"kill", "nosuch", NULL},
         1,
         "Failed to kill unit nosuch.service: Unit nosuch.service not loaded.\n"},
        {{"reset-failed", "nosuch", NULL},
         1,
         "Failed to reset failed state of unit nosuch.service: Unit nosuch.service not "
         "loaded.\n"},
        /* A template names no unit: systemd refuses it as an invalid argument (1). */
        {{"start", "tmpl@", NULL},
         1,
         "Failed to start tmpl@.service: Unit name tmpl@.service is missing the instance "
         "name.\n"},
        /* The first unit that did not succeed decides: inactive (3) before unknown (4). */
        {{"status", "idle", "nosuch", NULL}, 3, NULL},
        {{"status", "nosuch", "idle", NULL}, 4, NULL},
        {{"start", "nosuch", "broken", NULL}, 5, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        free(ctl_expect_err(cases[i].code, cases[i].err, cases[i].args));
    harness_stop(&d);
}

/* show writes timestamps in minisupctl's time zone, as systemctl formats them where it runs:
 * minisupd in UTC, minisupctl in a zone 3 hours east. Every *Timestamp= and the start_time=
 * and stop_time= of an Exec*= line; the µs GetUnitProperties sends (usec) give the expected
 * text. */
Test(commands, show_timestamps_in_the_callers_time_zone)
{
    setenv("TZ", "UTC0", 1);
    harness_write_unit(&d, "once.service",
                       "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n");
    harness_start(&d);
    free(ctl_ok("start", "once", NULL, NULL));
    setenv("TZ", "XYZ-3", 1);
    tzset();

    const char *json[] = {"show", "-o", "json", "-p", "ActiveEnterTimestamp", "once", NULL};
    char *out = ctl_expect_err(0, "", json);
    json_error_t jerr;
    json_t *props = json_loads(out, 0, &jerr);
    cr_assert_not_null(props, "%s: %s", jerr.text, out);
    json_int_t usec = json_integer_value(json_object_get(json_array_get(props, 0), "usec"));
    cr_assert_gt(usec, 0, "%s", out);
    time_t t = (time_t)(usec / 1000000);
    struct tm tm;
    char when[64], want[256];
    cr_assert_not_null(localtime_r(&t, &tm));
    cr_assert_gt(strftime(when, sizeof(when), "%a %Y-%m-%d %H:%M:%S %Z", &tm), 0);
    cr_assert(strstr(when, " XYZ"), "%s", when);
    json_decref(props);
    free(out);

    const char *show[] = {"show", "-p",
                          "ActiveEnterTimestamp,ExecMainStartTimestamp,ExecMainExitTimestamp",
                          "once", NULL};
    out = ctl_expect_err(0, "", show);
    snprintf(want, sizeof(want), "ActiveEnterTimestamp=%s\n", when);
    cr_assert(strstr(out, want), "want %s in:\n%s", want, out);
    cr_assert_null(strstr(out, "UTC"), "%s", out);
    cr_assert(strstr(out, "ExecMainStartTimestamp=") && strstr(out, "ExecMainExitTimestamp="), "%s",
              out);
    free(out);
    const char *exec[] = {"show", "-P", "ExecStart", "once", NULL};
    out = ctl_expect_err(0, "", exec);
    cr_assert(strstr(out, " XYZ] ; stop_time=[") && strstr(out, " XYZ] ; pid="), "%s", out);
    cr_assert_null(strstr(out, "UTC"), "%s", out);
    free(out);

    /* The daemon's own zone, for a caller there. */
    setenv("TZ", "UTC0", 1);
    const char *utc[] = {"show", "-P", "ActiveEnterTimestamp", "once", NULL};
    out = ctl_expect_err(0, "", utc);
    cr_assert(strstr(out, " UTC\n"), "%s", out);
    free(out);
    unsetenv("TZ");
    harness_stop(&d);
}

/* A unit file linked to /dev/null or empty is masked, as systemd's null_or_empty() makes it:
 * load state and unit file state "masked", LoadError= systemd's UnitMasked error, every job
 * but stop refused with "Unit x is masked." and exit 1 (systemctl maps that error to no code of
 * its own), stop allowed, also of a unit that runs while a reload masks it; is-enabled prints
 * "masked" and counts it as not enabled; a reload is not disturbed by it. */
Test(commands, masked_units_as_systemctl_shows_them)
{
    char path[4096], *out = NULL, *err = NULL;

    cr_assert_eq(symlink("/dev/null", harness_path(&d, path, "units/masked.service")), 0);
    harness_write_unit(&d, "empty.service", "");
    harness_write_unitf(&d, "runs.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_start(&d);

    const struct {
        const char *args[6];
        int code;
        const char *err, *out;
    } cases[] = {
        {{"status", "masked", NULL},
         3,
         "",
         "\u25cb masked.service\n"
         "     Loaded: masked (Reason: Unit masked.service is masked.)\n"
         "     Active: inactive (dead)\n"},
        {{"start", "masked", NULL},
         1,
         "Failed to start masked.service: Unit masked.service is masked.\n",
         ""},
        {{"start", "empty", NULL},
         1,
         "Failed to start empty.service: Unit empty.service is masked.\n",
         ""},
        {{"restart", "masked", NULL},
         1,
         "Failed to restart masked.service: Unit masked.service is masked.\n",
         ""},
        {{"stop", "masked", NULL}, 0, "", ""},
        {{"stop", "--no-block", "empty", NULL}, 0, "", ""},
        {{"show", "-p", "LoadState,UnitFileState,LoadError", "masked", NULL},
         0,
         "",
         "LoadState=masked\n"
         "LoadError=org.freedesktop.systemd1.UnitMasked \"Unit masked.service is masked.\"\n"
         "UnitFileState=masked\n"},
        {{"is-enabled", "masked", NULL}, 1, "", "masked\n"},
        {{"is-enabled", "empty", "runs", NULL}, 0, "", "masked\nstatic\n"},
        {{"list-units", "--all", "--state=masked", "--no-legend", NULL},
         0,
         "",
         "\u25cf empty.service  masked inactive dead empty.service\n"
         "\u25cf masked.service masked inactive dead masked.service\n"},
        {{"daemon-reload", NULL}, 0, "", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        out = ctl_expect_err(cases[i].code, cases[i].err, cases[i].args);
        cr_assert_str_eq(out, cases[i].out, "%s %s", cases[i].args[0], cases[i].args[1]);
        free(out);
    }

    /* Masked while it runs: it keeps running and can be stopped, not started again. */
    free(ctl_ok("start", "runs", NULL, NULL));
    cr_assert_gt(harness_main_pid(&d, "runs"), 0);
    harness_path(&d, path, "units/runs.service");
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(symlink("/dev/null", path), 0);
    const char *reload[] = {"daemon-reload", NULL};
    free(ctl_expect_err(0, "", reload));
    const char *status[] = {"status", "-n0", "runs", NULL};
    out = ctl_expect_err(0, "", status);
    cr_assert(strstr(out, "     Loaded: masked (Reason: Unit runs.service is masked.)\n"), "%s",
              out);
    cr_assert(strstr(out, "     Active: active (running)"), "%s", out);
    free(out);
    const char *start[] = {"start", "runs", NULL};
    free(ctl_expect_err(1, "Failed to start runs.service: Unit runs.service is masked.\n", start));
    int r = harness_ctl(&d, &out, &err, "stop", "runs", NULL);
    cr_assert_eq(r, 0, "%s%s", out, err);
    free(out);
    free(err);
    const char *active[] = {"is-active", "runs", NULL};
    out = ctl_expect_err(3, "", active);
    cr_assert_str_eq(out, "inactive\n");
    free(out);
    harness_stop(&d);
}

/* kill as systemd's unit_kill_common(): --kill-whom=all (the default) with nothing to
 * signal succeeds silently, main and control need that process ("No main process to kill"),
 * the -fail forms fail when nothing was signalled; control signals the ExecStartPre= running
 * now. A misspelt -s SIGNAL is reported as a signal, not tried as a socket path. */
Test(commands, kill_whom_as_systemctl)
{
    harness_write_unit(&d, "idle.service", "[Service]\nExecStart=/bin/true\n");
    harness_write_unitf(&d, "pre.service",
                        "[Service]\nExecStartPre=%s sleep 1000\nExecStart=%s sleep 1000\n",
                        HARNESS_TFX, HARNESS_TFX);
    harness_start(&d);

    const struct {
        const char *args[5];
        int code;
        const char *err;
    } cases[] = {
        {{"kill", "idle", NULL}, 0, ""},
        {{"kill", "--kill-whom=all-fail", "idle", NULL},
         1,
         "Failed to kill unit idle.service: No matching processes to kill\n"},
        {{"kill", "--kill-whom=main", "idle", NULL},
         1,
         "Failed to kill unit idle.service: No main process to kill\n"},
        {{"kill", "--kill-whom=control", "idle", NULL},
         1,
         "Failed to kill unit idle.service: No control process to kill\n"},
        {{"kill", "-s", "BOGUS", "idle", NULL}, 1, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        free(ctl_expect_err(cases[i].code, cases[i].err, cases[i].args));

    free(ctl_ok("start", "--no-block", "pre", NULL));
    harness_wait_state(&d, "pre", "activating", "start-pre", 5000);
    const char *main_none[] = {"kill", "--kill-whom=main-fail", "pre", NULL};
    free(
        ctl_expect_err(1, "Failed to kill unit pre.service: No main process to kill\n", main_none));
    /* The control process dies of it: the start fails, as systemd's would. */
    const char *control[] = {"kill", "--kill-whom=control", "-s", "KILL", "pre", NULL};
    free(ctl_expect_err(0, "", control));
    harness_wait_state(&d, "pre", "failed", NULL, 5000);
    harness_stop(&d);
}

/* A failing ExecReload= fails the reload job (exit 1, systemctl's pointer), while the unit
 * runs on; with "-" it reloads successfully. */
Test(commands, failing_exec_reload_fails_the_job)
{
    harness_write_unitf(&d, "rl.service",
                        "[Service]\nExecStart=%s sleep 1000\nExecReload=/bin/false\n", HARNESS_TFX);
    harness_write_unitf(&d, "rlok.service",
                        "[Service]\nExecStart=%s sleep 1000\nExecReload=-/bin/false\n",
                        HARNESS_TFX);
    harness_start(&d);
    free(ctl_ok("start", "rl", NULL, NULL));
    free(ctl_ok("start", "rlok", NULL, NULL));

    const char *reload[] = {"reload", "rl", NULL};
    char *err = NULL, *out = NULL;
    int r = harness_ctlv(&d, &out, &err, reload);
    cr_assert_eq(r, 1, "reload exited %d\n%s", r, err);
    cr_assert(strstr(err, "Job for rl.service failed"), "%s", err);
    free(out);
    free(err);
    harness_wait_state(&d, "rl", "active", "running", 5000);
    free(ctl_ok("reload", "rlok", NULL, NULL));
    harness_stop(&d);
}

/* A Subscribe stream, read by hand: the states of one unit as "active/sub" words, in order. */
struct state_stream {
    int fd;
    const char *unit;
    char buf[1 << 16];
    size_t len;
    char seen[4096];
};

/* Reads what has arrived within timeout_ms; true once `seen` ends with `tail`. */
static bool stream_until(struct state_stream *s, const char *tail, int timeout_ms)
{
    uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;

    for (;;) {
        size_t n = strlen(s->seen), t = strlen(tail);
        if (n >= t && strcmp(s->seen + n - t, tail) == 0)
            return true;
        uint64_t now = harness_now_ms();
        struct pollfd pf = {.fd = s->fd, .events = POLLIN};
        if (now >= deadline || poll(&pf, 1, (int)(deadline - now)) <= 0)
            return false;
        ssize_t r = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len - 1);
        cr_assert_gt(r, 0, "the Subscribe stream ended");
        s->len += (size_t)r;
        char *z;
        while ((z = memchr(s->buf, '\0', s->len))) {
            json_t *msg = json_loads(s->buf, 0, NULL);
            json_t *u = json_object_get(json_object_get(msg, "parameters"), "unit");
            const char *name = json_string_value(json_object_get(u, "name"));
            if (name && strcmp(name, s->unit) == 0) {
                size_t used = strlen(s->seen);
                snprintf(s->seen + used, sizeof(s->seen) - used, "%s/%s ",
                         json_string_value(json_object_get(u, "activeState")),
                         json_string_value(json_object_get(u, "subState")));
            }
            json_decref(msg);
            size_t rest = s->len - (size_t)(z + 1 - s->buf);
            memmove(s->buf, z + 1, rest);
            s->len = rest;
        }
    }
}

/* Subscribe sends one reply per state a unit passes through, in order: a restart shows the
 * unit going down to inactive before it comes up again (the stream used to report the state
 * after the restart's start twice and never the inactive step). */
Test(commands, subscribe_sees_every_state_of_a_restart)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    static struct state_stream s = {.unit = "cyc.service"};
    const char call[] = "{\"method\":\"io.minisup.Manager.Subscribe\",\"more\":true}";

    harness_write_unitf(&d, "cyc.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_start(&d);
    free(ctl_ok("start", "cyc", NULL, NULL));

    s.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(s.fd, 0);
    cr_assert_lt(strlen(d.socket), sizeof(sa.sun_path));
    memcpy(sa.sun_path, d.socket, strlen(d.socket) + 1);
    cr_assert_eq(connect(s.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    cr_assert_eq(write(s.fd, call, sizeof(call)), (ssize_t)sizeof(call));
    /* The first reply lists every unit; it carries no "unit", so nothing is seen yet. */
    free(ctl_ok("restart", "cyc", NULL, NULL));
    cr_assert(stream_until(&s, "active/running ", 5000), "seen: %s", s.seen);
    cr_assert(strstr(s.seen, "deactivating/stop-sigterm inactive/dead "), "seen: %s", s.seen);
    cr_assert_eq(strstr(s.seen, "active/running "), s.seen + strlen(s.seen) - 15,
                 "running only once, at the end: %s", s.seen);
    close(s.fd);
    harness_stop(&d);
}

/* systemctl's unit verbs take glob patterns (expand_unit_names()): a pattern becomes the
 * loaded units it matches, after the plain names; a pattern that matches nothing adds none. */
Test(commands, unit_verbs_expand_glob_patterns)
{
    harness_write_unitf(&d, "web-1.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_write_unitf(&d, "web-2.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_write_unitf(&d, "db.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_start(&d);

    const char *start[] = {"start", "web-*", NULL};
    free(ctl_expect_err(0, "", start));
    const char *active[] = {"is-active", "db", "web-?", NULL};
    char *out = ctl_expect_err(0, "", active);
    cr_assert_str_eq(out, "inactive\nactive\nactive\n");
    free(out);
    const char *show[] = {"show", "-P", "Id", "web-[12].service", NULL};
    out = ctl_expect_err(0, "", show);
    cr_assert_str_eq(out, "web-1.service\n\nweb-2.service\n");
    free(out);
    const char *status[] = {"status", "-n0", "w*", NULL};
    out = ctl_expect_err(0, "", status);
    cr_assert(strstr(out, "web-1.service\n") && strstr(out, "web-2.service\n"), "%s", out);
    cr_assert_null(strstr(out, "db.service"), "%s", out);
    free(out);
    const char *stop[] = {"stop", "web-*", "nomatch-*", NULL};
    free(ctl_expect_err(0, "", stop));
    const char *after[] = {"is-active", "web-1", "web-2", NULL};
    out = ctl_expect_err(3, "", after);
    cr_assert_str_eq(out, "inactive\ninactive\n");
    free(out);
    harness_stop(&d);
}

/* Every unit verb mangles a name as systemctl's expand_unit_names() does (unit_name_mangle()
 * with UNIT_NAME_MANGLE_GLOB): '/' becomes '-', other characters no name may have \xNN, with
 * systemd's notice (not with -q); the instance then sees %i escaped and %I as typed. A path
 * names a .device or .mount unit, a glob stays a pattern, an empty name is refused. */
Test(commands, unit_verbs_mangle_invalid_names)
{
    harness_write_unit(&d, "tpl@.service",
                       "[Service]\nType=oneshot\nRemainAfterExit=yes\n"
                       "ExecStart=/bin/echo i=%i I=%I\n");
    harness_start(&d);

    const struct {
        const char *args[8];
        int code;
        const char *err, *out;
    } cases[] = {
        {{"start", "tpl@a b", NULL},
         0,
         "Invalid unit name \"tpl@a b\" was escaped as \"tpl@a\\x20b\" (maybe you should use "
         "systemd-escape?)\n",
         ""},
        {{"start", "tpl@/dev/sda1", NULL},
         0,
         "Invalid unit name \"tpl@/dev/sda1\" was escaped as \"tpl@-dev-sda1\" (maybe you should "
         "use systemd-escape?)\n",
         ""},
        {{"journal", "-o", "cat", "-g", "^i=", "tpl@a\\x20b", NULL}, 0, "", "i=a\\x20b I=a b\n"},
        {{"journal", "-o", "cat", "-g", "^i=", "-u", "tpl@-dev-sda1", NULL},
         0,
         "",
         "i=-dev-sda1 I=/dev/sda1\n"},
        {{"is-active", "-q", "tpl@a b", NULL}, 0, "", ""},
        {{"show", "-q", "-P", "Id", "tpl@/dev/sda1", NULL}, 0, "", "tpl@-dev-sda1.service\n"},
        /* A glob stays a pattern: only the instance whose escaped name matches. */
        {{"is-active", "tpl@a*", NULL}, 0, "", "active\n"},
        {{"status", "/dev/sda1", NULL}, 4, "Unit dev-sda1.device could not be found.\n", ""},
        {{"start", "", NULL}, 1, "Failed to mangle name: Invalid argument\n", ""},
        {{"stop", "-q", "tpl@a b", "tpl@/dev/sda1", NULL}, 0, "", ""},
        {{"is-active", "-q", "tpl@a b", "tpl@/dev/sda1", NULL}, 3, "", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = ctl_expect_err(cases[i].code, cases[i].err, cases[i].args);
        cr_assert_str_eq(out, cases[i].out, "%s %s %s", cases[i].args[0], cases[i].args[1],
                         cases[i].args[2] ? cases[i].args[2] : "");
        free(out);
    }
    harness_stop(&d);
}

/* journalctl's -u takes a glob pattern too: expanded against every loaded unit (inactive ones
 * included, with ".service" appended as for a plain name), and with --directory against the
 * units in the files. Patterns that match nothing are journalctl's error, exit 1. */
Test(commands, journal_unit_glob_patterns)
{
    harness_write_unit(&d, "acc-one.service",
                       "[Service]\nType=oneshot\nExecStart=/bin/echo one speaks\n");
    harness_write_unit(&d, "acc-two.service",
                       "[Service]\nType=oneshot\nExecStart=/bin/echo two speaks\n");
    harness_write_unit(&d, "other.service",
                       "[Service]\nType=oneshot\nExecStart=/bin/echo other speaks\n");
    harness_start(&d);
    free(ctl_ok("start", "acc-one", "acc-two", "other"));
    cr_assert(harness_wait_journal_contains(&d, "acc-one", "one speaks", 5000));
    cr_assert(harness_wait_journal_contains(&d, "acc-two", "two speaks", 5000));
    cr_assert(harness_wait_journal_contains(&d, "other", "other speaks", 5000));

    const char *star[] = {"journal", "-u", "acc*", "-o", "cat", NULL};
    char *out = ctl_expect(0, star);
    cr_assert(strstr(out, "one speaks") && strstr(out, "two speaks"), "-u 'acc*':\n%s", out);
    cr_assert(!strstr(out, "other speaks"), "-u 'acc*':\n%s", out);
    free(out);

    /* "acc-[a-z][a-z][a-z]" matches no name as it is, but both with ".service" appended. */
    const char *suffixed[] = {"journal", "--unit=acc-[a-z][a-z][a-z]", "other", "-o", "cat", NULL};
    out = ctl_expect(0, suffixed);
    cr_assert(strstr(out, "one speaks") && strstr(out, "two speaks") && strstr(out, "other speaks"),
              "--unit='acc-[a-z][a-z][a-z]' other:\n%s", out);
    free(out);

    const char *positional[] = {"journal", "acc-t[uvw]o.service", "-o", "cat", NULL};
    out = ctl_expect(0, positional);
    cr_assert(strstr(out, "two speaks") && !strstr(out, "one speaks"), "%s", out);
    free(out);

    const char *none[] = {"journal", "-u", "nothing*", NULL};
    out = ctl_expect_err(1, "Failed to add filter for units: No data available\n", none);
    cr_assert_str_eq(out, "");
    free(out);

    /* Plain names keep working, with or without the suffix. */
    const char *plain[] = {"journal", "-u", "acc-one", "-o", "cat", NULL};
    out = ctl_expect(0, plain);
    cr_assert(strstr(out, "one speaks") && !strstr(out, "two speaks"), "%s", out);
    free(out);

    harness_stop(&d);
    const char *offline[] = {"journal", "-D", d.log_dir, "-u", "acc-*", "-o", "cat", NULL};
    out = ctl_expect(0, offline);
    cr_assert(strstr(out, "one speaks") && strstr(out, "two speaks"), "-D -u 'acc-*':\n%s", out);
    cr_assert(!strstr(out, "other speaks"), "-D -u 'acc-*':\n%s", out);
    free(out);
    const char *offline_none[] = {"journal", "-D", d.log_dir, "-u", "zzz*", NULL};
    free(ctl_expect_err(1, "Failed to add filter for units: No data available\n", offline_none));
}

struct follower_output {
    const char *path;
    const char *needle;
    size_t want;
};

static bool output_has(void *arg)
{
    struct follower_output *f = arg;
    char *text = NULL;
    size_t n = 0, len = 0;
    FILE *fp = fopen(f->path, "r");

    if (!fp)
        return false;
    text = calloc(1, 65536);
    if (text)
        len = fread(text, 1, 65535, fp);
    fclose(fp);
    for (const char *p = text; p && len && (p = strstr(p, f->needle)); p++)
        n++;
    free(text);
    return n >= f->want;
}

/* journalctl -g: a regex on the message, case-insensitive when it has no uppercase letter
 * ("smart case"), --case-sensitive[=BOOL] decides otherwise; -n N counts matching entries;
 * with -f the new matching entries follow. */
Test(commands, journal_grep_filters_messages)
{
    harness_write_unit(&d, "words.service",
                       "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo \"Alpha first\"; "
                       "echo \"beta second\"; echo \"alpha third\"; echo \"gamma fourth\"'\n");
    harness_start(&d);
    free(ctl_ok("start", "words", NULL, NULL));
    cr_assert(harness_wait_journal_contains(&d, "words", "gamma fourth", 5000));

    const char *smart[] = {"journal", "words", "-g", "alpha", "-o", "cat", NULL};
    char *out = ctl_expect(0, smart);
    cr_assert_str_eq(out, "Alpha first\nalpha third\n", "-g alpha (no uppercase: any case)");
    free(out);

    const char *upper[] = {"journal", "words", "--grep=Alpha", "-o", "cat", NULL};
    out = ctl_expect(0, upper);
    cr_assert_str_eq(out, "Alpha first\n", "-g Alpha (uppercase: exact case)");
    free(out);

    const char *forced[] = {"journal",          "words", "-g",  "alpha",
                            "--case-sensitive", "-o",    "cat", NULL};
    out = ctl_expect(0, forced);
    cr_assert_str_eq(out, "alpha third\n", "--case-sensitive");
    free(out);

    const char *relaxed[] = {"journal", "words", "-g", "^ALPHA|beta", "--case-sensitive=no",
                             "-o",      "cat",   NULL};
    out = ctl_expect(0, relaxed);
    cr_assert_str_eq(out, "Alpha first\nbeta second\nalpha third\n", "--case-sensitive=no");
    free(out);

    /* -n counts what --grep lets through: the last matching entry, not the last entry. */
    const char *last[] = {"journal", "words", "-g", "alpha", "-n", "1", "-o", "cat", NULL};
    out = ctl_expect(0, last);
    cr_assert_str_eq(out, "alpha third\n", "-g alpha -n 1");
    free(out);
    const char *newest[] = {"journal", "words", "-g", "alpha", "-n", "1", "-r", "-o", "cat", NULL};
    out = ctl_expect(0, newest);
    cr_assert_str_eq(out, "alpha third\n", "-g alpha -n 1 -r");
    free(out);

    /* A pattern that matches nothing exits 1, as grep and journalctl do; the entries being
     * there does not count, nor does -n 0 showing nothing on purpose. */
    const char *nothing[] = {"journal", "words", "-g", "delta", NULL};
    out = ctl_expect(1, nothing);
    cr_assert_str_eq(out, "-- No entries --\n");
    free(out);
    const char *nothing_cat[] = {"journal", "words", "-g", "delta", "-o", "cat", NULL};
    out = ctl_expect(1, nothing_cat);
    cr_assert_str_eq(out, "");
    free(out);
    const char *none_wanted[] = {"journal", "words", "-g", "alpha", "-n", "0", NULL};
    out = ctl_expect(1, none_wanted);
    cr_assert_str_eq(out, "-- No entries --\n", "-g alpha -n 0");
    free(out);

    const char *bad[] = {"journal", "words", "-g", "(alpha", NULL};
    char *err = NULL;
    int r = harness_ctlv(&d, &out, &err, bad);
    cr_assert_eq(r, 1, "a bad pattern exits 1, not %d", r);
    cr_assert(strncmp(err, "Bad pattern \"(alpha\": ", 21) == 0, "stderr: %s", err);
    free(out);
    free(err);

    /* -f: the last matching entry of the stored ones, then every new matching one. */
    char path[PATH_MAX];
    const char *follow[] = {"journal", "words", "-f", "-g", "alpha", "-n", "1", "-o", "cat", NULL};
    struct follower_output f = {.path = harness_path(&d, path, "follow.out")};
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0);
    pid_t follower = harness_ctl_spawn(&d, follow, fd);
    close(fd);
    f.needle = "alpha third\n";
    f.want = 1;
    cr_assert(wait_until(output_has, &f, 5000), "the follower printed no stored match");
    free(ctl_ok("start", "words", NULL, NULL));
    f.want = 2;
    cr_assert(wait_until(output_has, &f, 5000), "the follower printed no new match");
    kill(follower, SIGTERM);
    cr_assert(harness_wait_pid(follower, 5000, NULL), "the follower did not end on SIGTERM");
    out = harness_read(&d, "follow.out");
    cr_assert_str_eq(out, "alpha third\nAlpha first\nalpha third\n", "-f -g alpha -n 1:\n%s", out);
    free(out);
    harness_stop(&d);

    /* The same from the files. */
    const char *offline[] = {"journal", "-D", d.log_dir, "-u", "words", "-g",
                             "alpha",   "-n", "2",       "-o", "cat",   NULL};
    out = ctl_expect(0, offline);
    cr_assert_str_eq(out, "Alpha first\nalpha third\n", "-D -g alpha -n 2");
    free(out);
    const char *offline_nothing[] = {"journal", "-D", d.log_dir, "-u",
                                     "words",   "-g", "delta",   NULL};
    out = ctl_expect(1, offline_nothing);
    cr_assert_str_eq(out, "-- No entries --\n", "-D -g delta");
    free(out);
}

/* journalctl prints "-- No entries --" when it showed nothing, unless --quiet, which -o cat,
 * json, json-pretty and export imply (its parse_argv sets arg_quiet for them); verbose and the
 * short formats print it. */
Test(commands, journal_no_entries_line)
{
    static const struct {
        const char *mode, *want;
    } cases[] = {
        {"short", "-- No entries --\n"},
        {"short-iso", "-- No entries --\n"},
        {"verbose", "-- No entries --\n"},
        {"cat", ""},
        {"json", ""},
        {"json-pretty", ""},
        {"export", ""},
    };

    harness_write_unit(&d, "idle.service", "[Service]\nType=oneshot\nExecStart=/bin/true\n");
    harness_start(&d);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *plain[] = {"journal", "idle", "-o", cases[i].mode, NULL};
        char *out = ctl_expect(0, plain);
        cr_assert_str_eq(out, cases[i].want, "-o %s", cases[i].mode);
        free(out);
        const char *quiet[] = {"journal", "idle", "-q", "-o", cases[i].mode, NULL};
        out = ctl_expect(0, quiet);
        cr_assert_str_eq(out, "", "-q -o %s", cases[i].mode);
        free(out);
    }
    const char *quiet_grep[] = {"journal", "idle", "--quiet", "-g", "x", NULL};
    char *out = ctl_expect(1, quiet_grep);
    cr_assert_str_eq(out, "", "--quiet -g: nothing printed, exit 1 still");
    free(out);
    harness_stop(&d);

    const char *offline[] = {"journal", "-D", d.log_dir, "-u", "idle", NULL};
    out = ctl_expect(0, offline);
    cr_assert_str_eq(out, "-- No entries --\n", "-D");
    free(out);
    const char *offline_quiet[] = {"journal", "-D", d.log_dir, "-u", "idle", "-q", NULL};
    out = ctl_expect(0, offline_quiet);
    cr_assert_str_eq(out, "", "-D -q");
    free(out);
}

/* The numbered lines from..to of the nums unit below, as -o cat prints them. */
static char *nums(int from, int to)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    cr_assert_not_null(f);
    for (int i = from; from <= to ? i <= to : i >= to; i += from <= to ? 1 : -1)
        fprintf(f, "line %d\n", i);
    fclose(f);
    return text;
}

/* journalctl's -n takes its value optionally (optional_argument, and the next word when it
 * reads as a count): bare -n is the last 10, "-n 5" and "--lines 5" still take 5, as do -n5 and
 * --lines=5; "all" too; +N is the first N (-r: still the newest N). systemctl's -n needs a plain
 * count, so status refuses a bare -n and +N. */
Test(commands, journal_lines_optional_value)
{
    static const struct {
        const char *args[4];
        int from, to;
    } cases[] = {
        {{"-n"}, 6, 15},
        {{"-n", "3"}, 13, 15},
        {{"-n3"}, 13, 15},
        {{"--lines=3"}, 13, 15},
        {{"--lines", "3"}, 13, 15},
        {{"--lines"}, 6, 15},
        {{"-n", "all"}, 1, 15},
        {{"--lines=all"}, 1, 15},
        {{"-n", "+3"}, 1, 3},
        {{"-n+3"}, 1, 3},
        {{"--lines=+3"}, 1, 3},
        {{"--lines", "+12"}, 1, 12},
        {{"-n", "+3", "-r"}, 15, 13},
        {{"-n", "-r"}, 15, 6},
        {{"-n", "+2", "-g", "line 1"}, 1, 10},
        {{"-n", "+20"}, 1, 15},
        /* after the verb and the unit (musl's getopt has moved them by the time it returns -n),
         * in a cluster, and after an option whose value is the next word */
        {{"-rn", "3"}, 15, 13},
        {{"-u", "nums", "-n", "2"}, 14, 15},
        {{"-g", "-n"}, 0, 0},
    };

    harness_write_unit(&d, "nums.service",
                       "[Service]\nType=oneshot\nSyslogIdentifier=nums\n"
                       "ExecStart=/bin/sh -c 'i=1; while [ $i -le 15 ]; do echo \"line $i\"; "
                       "i=$((i+1)); done'\n");
    harness_start(&d);
    free(ctl_ok("start", "nums", NULL, NULL));
    cr_assert(harness_wait_journal_contains(&d, "nums", "line 15", 5000));

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *args[12] = {"journal", "nums", "-t", "nums", "-o", "cat"};
        size_t n = 6, k;
        char *want, *out;

        for (k = 0; k < 4 && cases[i].args[k]; k++)
            args[n++] = cases[i].args[k];
        /* -g -n: -n is the pattern, which no line has: nothing, and exit 1 as grep */
        out = ctl_expect(cases[i].from == 0 ? 1 : 0, args);
        if (i == 14) /* -g "line 1": line 1 and line 10..15 match; the first two */
            want = strdup("line 1\nline 10\n");
        else if (cases[i].from == 0)
            want = strdup("");
        else
            want = nums(cases[i].from, cases[i].to);
        cr_assert_str_eq(out, want, "case %zu (%s %s %s)", i, cases[i].args[0],
                         cases[i].args[1] ? cases[i].args[1] : "",
                         cases[i].args[2] ? cases[i].args[2] : "");
        free(want);
        free(out);
    }

    /* The bare -n before the unit: the unit stays an argument, not a bad count. */
    const char *before[] = {"journal", "-t", "nums", "-o", "cat", "-n", "nums", NULL};
    char *out = ctl_expect(0, before), *want = nums(6, 15);
    cr_assert_str_eq(out, want, "-n nums");
    free(out);
    free(want);
    const char *bad[] = {"journal", "nums", "--lines=x", NULL};
    free(ctl_expect(1, bad));

    /* status: -n 3 as before; a bare -n and +N are usage errors, as for systemctl. */
    const char *status3[] = {"status", "nums", "-n", "3", NULL};
    free(ctl_expect(3, status3));
    const char *status_bare[] = {"status", "nums", "-n", NULL};
    free(ctl_expect(1, status_bare));
    const char *status_plus[] = {"status", "nums", "-n", "+3", NULL};
    free(ctl_expect(1, status_plus));
    harness_stop(&d);

    /* The same from the files. */
    const char *offline_first[] = {"journal", "-D", d.log_dir, "-u", "nums", "-t",
                                   "nums",    "-o", "cat",     "-n", "+2",   NULL};
    out = ctl_expect(0, offline_first);
    cr_assert_str_eq(out, "line 1\nline 2\n", "-D -n +2");
    free(out);
    const char *offline_bare[] = {"journal", "-D", d.log_dir, "-u", "nums", "-t",
                                  "nums",    "-o", "cat",     "-n", NULL};
    out = ctl_expect(0, offline_bare);
    want = nums(6, 15);
    cr_assert_str_eq(out, want, "-D -n");
    free(out);
    free(want);
}

/* journalctl's -e (--pager-end) implies -n1000 unless -n says otherwise, and -x (--catalog)
 * adds explanations where the catalog has some; so the habit `journalctl -xeu UNIT` works:
 * the last 1000 entries of UNIT, no explanation to add. Both are journal's: status refuses
 * them, as systemctl does. -n 0 shows nothing, and says so as journalctl does. */
Test(commands, journal_pager_end_and_catalog)
{
    harness_write_unit(&d, "many.service",
                       "[Service]\nType=oneshot\nSyslogIdentifier=many\n"
                       "ExecStart=/bin/sh -c 'i=1; while [ $i -le 1005 ]; do echo \"line $i\"; "
                       "i=$((i+1)); done'\n");
    harness_start(&d);
    free(ctl_ok("start", "many", NULL, NULL));
    cr_assert(harness_wait_journal_contains(&d, "many", "line 1005", 5000));

    const char *xeu[] = {"journal", "-xeu", "many", "-t", "many", "-o", "cat", NULL};
    char *out = ctl_expect(0, xeu), *want = nums(6, 1005);
    cr_assert_str_eq(out, want, "-xeu: the last 1000");
    free(out);
    free(want);
    const char *e3[] = {"journal", "many", "-e", "-n", "3", "-t", "many", "-o", "cat", NULL};
    out = ctl_expect(0, e3);
    want = nums(1003, 1005);
    cr_assert_str_eq(out, want, "-e -n 3: -n wins");
    free(out);
    free(want);
    const char *x[] = {"journal", "many", "--catalog", "-t", "many", "-o", "cat", NULL};
    out = ctl_expect(0, x);
    want = nums(1, 1005);
    cr_assert_str_eq(out, want, "-x alone: every entry");
    free(out);
    free(want);

    const char *zero[] = {"journal", "many", "-n", "0", NULL};
    out = ctl_expect(0, zero);
    cr_assert_str_eq(out, "-- No entries --\n", "-n 0");
    free(out);
    const char *zero_quiet[] = {"journal", "many", "-n", "0", "-q", NULL};
    out = ctl_expect(0, zero_quiet);
    cr_assert_str_eq(out, "", "-n 0 -q");
    free(out);

    const char *status_e[] = {"status", "many", "-e", NULL};
    free(ctl_expect(1, status_e));
    const char *status_x[] = {"status", "many", "-x", NULL};
    free(ctl_expect(1, status_x));
    harness_stop(&d);
}

/* -o help lists the output modes, one per line, as journalctl -o help does, from the table
 * the parser reads: every mode listed is accepted, and every mode is listed (the bash
 * completion offers this list). */
Test(commands, output_help_lists_the_accepted_modes)
{
    static const char *const modes[] = {
        "short", "short-iso", "short-precise", "short-monotonic", "short-unix", "short-full",
        "cat",   "json",      "json-pretty",   "verbose",         "export",     "with-unit"};
    const char *help[] = {"-o", "help", NULL};
    char *out = ctl_expect(0, help), *save = NULL;
    size_t n = 0;

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        cr_assert_eq(harness_count_lines(out, modes[i]), 1, "%s not listed:\n%s", modes[i], out);
    for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save), n++) {
        const char *args[] = {"journal", "-D", d.log_dir, "-q", "-o", l, NULL};
        free(ctl_expect(0, args));
    }
    cr_assert_eq(n, sizeof(modes) / sizeof(modes[0]), "-o help listed %zu modes", n);
    free(out);
}

/* One raw call (params as JSON text) as uid (-1: as the test), in a child for another uid:
 * SO_PEERCRED is taken at connect. Returns the error name, or "" for a reply; *ret_param gets
 * an InvalidParameter's "parameter". */
static char *raw_call(int uid, const char *method, const char *params, char **ret_param)
{
    char full[256], buf[512] = "";
    int p[2];
    pid_t pid;

    snprintf(full, sizeof(full), "%s.%s", VARLINK_INTERFACE, method);
    cr_assert_eq(pipe(p), 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct varlink_client *c = NULL;
        json_t *reply = NULL, *rparams = NULL;
        const char *error = NULL;
        bool continues;
        close(p[0]);
        if (uid >= 0 && (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
                         setresuid(uid, uid, uid) < 0))
            _exit(2);
        if (varlink_client_connect(d.socket, &c) < 0 ||
            varlink_client_send(c, full, json_loads(params, 0, NULL), 0) < 0 ||
            varlink_client_receive(c, 10000, &reply) < 0 ||
            varlink_reply_parse(reply, &error, &rparams, &continues) < 0)
            _exit(3);
        const char *param = json_string_value(json_object_get(rparams, "parameter"));
        dprintf(p[1], "%s\n%s", error ? error : "", param ? param : "");
        _exit(0);
    }
    close(p[1]);
    ssize_t n = read(p[0], buf, sizeof(buf) - 1);
    close(p[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s %s: the call failed (%d)", method,
              params, status);
    buf[n > 0 ? n : 0] = '\0';
    char *nl = strchr(buf, '\n');
    cr_assert_not_null(nl);
    *nl = '\0';
    if (ret_param)
        *ret_param = strdup(nl + 1);
    return strdup(buf);
}

static void expect_invalid(const char *method, const char *params, const char *name)
{
    char *param = NULL;
    char *error = raw_call(-1, method, params, &param);

    cr_assert_str_eq(error, "org.varlink.service.InvalidParameter", "%s %s answered %s", method,
                     params, *error ? error : "a reply");
    cr_assert_str_eq(param, name, "%s %s names %s", method, params, param);
    free(error);
    free(param);
}

static void expect_ok(int uid, const char *method, const char *params)
{
    char *error = raw_call(uid, method, params, NULL);

    cr_assert_str_eq(error, "", "%s %s as %d answered %s", method, params, uid, error);
    free(error);
}

/* The Varlink spec: a parameter of the wrong type, or a required one missing, is
 * org.varlink.service.InvalidParameter naming it, never silently ignored. */
Test(commands, wrong_parameter_types_are_invalid_parameter)
{
    harness_write_unitf(&d, "typed.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_start(&d);
    expect_invalid("GetJournal", "{\"units\":\"typed.service\"}", "units");
    expect_invalid("GetJournal", "{\"units\":[5]}", "units");
    expect_invalid("GetJournal", "{\"lines\":\"2\"}", "lines");
    expect_invalid("GetJournal", "{\"lines\":-1}", "lines");
    expect_invalid("GetJournal", "{\"follow\":1}", "follow");
    expect_invalid("GetJournal", "{\"identifier\":7}", "identifier");
    expect_invalid("GetJournal", "{\"reverse\":\"yes\"}", "reverse");
    expect_invalid("GetJournal", "{\"since\":\"now\"}", "since");
    expect_invalid("ListUnits", "{\"states\":\"active\"}", "states");
    expect_invalid("StartUnit", "{\"name\":\"typed\",\"noBlock\":\"yes\"}", "noBlock");
    expect_invalid("GetUnit", "{}", "name");
    expect_invalid("GetUnit", "{\"name\":5}", "name");
    expect_invalid("GetUnit", "{\"name\":null}", "name");
    expect_invalid("StopUnit", "{}", "name");
    expect_invalid("GetUnitProperties", "{\"name\":\"typed\",\"all\":1}", "all");
    expect_invalid("GetUnitFile", "{\"name\":[]}", "name");
    expect_invalid("KillUnit", "{\"name\":\"typed\",\"whom\":1}", "whom");
    json_t *u = harness_get_unit(&d, "typed");
    cr_assert_str_eq(json_string_value(json_object_get(u, "activeState")), "inactive",
                     "a refused StartUnit started nothing");
    json_decref(u);
    /* Correct calls, and null for an optional parameter, still work. */
    expect_ok(-1, "GetJournal", "{\"units\":[\"typed.service\"],\"lines\":2,\"follow\":null}");
    expect_ok(-1, "GetJournal", "{\"lines\":0}");
    expect_ok(-1, "ListUnits", "{\"states\":[\"inactive\"]}");
    expect_ok(-1, "GetUnit", "{\"name\":\"typed\"}");
    harness_stop(&d);
}

/* Access: anyone may read unit state, unit files (cat), properties (show) and the socket list;
 * logs and changes stay privileged. A root daemon's socket is 0666; the test's directories are
 * opened so another uid can reach it. */
Test(commands, unprivileged_may_cat_show_and_list_sockets)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to call as another uid");
    harness_write_unitf(&d, "open.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_start(&d);
    cr_assert_eq(chmod(d.base, 0755), 0);
    cr_assert_eq(chmod(d.run_dir, 0755), 0);
    expect_ok(65534, "GetUnit", "{\"name\":\"open\"}");
    expect_ok(65534, "GetUnitFile", "{\"name\":\"open\"}");
    expect_ok(65534, "GetUnitProperties", "{\"name\":\"open\"}");
    expect_ok(65534, "ListSockets", "{}");
    static const char *const refused[][2] = {
        {"GetJournal", "{}"},
        {"GetJournal", "{\"units\":[\"open.service\"]}"},
        {"StartUnit", "{\"name\":\"open\"}"},
        {"StopUnit", "{\"name\":\"open\"}"},
        {"Reload", "{}"},
        {"Verify", "{}"},
        {"Shutdown", "{}"},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char *error = raw_call(65534, refused[i][0], refused[i][1], NULL);
        cr_assert_str_eq(error, VARLINK_INTERFACE ".PermissionDenied", "%s as nobody: %s",
                         refused[i][0], *error ? error : "answered");
        free(error);
    }
    json_t *u = harness_get_unit(&d, "open");
    cr_assert_str_eq(json_string_value(json_object_get(u, "activeState")), "inactive");
    json_decref(u);
    harness_stop(&d);
}

/* systemctl cat prints the file as it is on disk whatever the load state. */
Test(commands, cat_prints_a_unit_that_failed_to_load)
{
    const char *text = "[Service]\nType=bogus\n";

    harness_write_unit(&d, "broken.service", text);
    harness_start(&d);
    char *out = ctl_ok("cat", "broken", NULL, NULL);
    cr_assert(strstr(out, "# ") && strstr(out, "broken.service\n"), "cat output:\n%s", out);
    cr_assert(strstr(out, text), "cat output:\n%s", out);
    free(out);
    harness_stop(&d);
}

/* status names the main process as it is called now (systemctl reads /proc/PID/comm): a
 * wrapper that execs the service is known by what it became, not by the file minisupd ran. */
Test(commands, status_names_the_main_process_after_exec)
{
    char *out = NULL;
    bool seen = false;

    harness_write_unit(&d, "wrapped.service", "[Service]\nExecStart=/usr/bin/env sleep 1000\n");
    harness_start(&d);
    free(ctl_ok("start", "wrapped", NULL, NULL));
    for (uint64_t end = harness_now_ms() + 5000; !seen && harness_now_ms() < end;) {
        free(out);
        out = NULL;
        harness_ctl(&d, &out, NULL, "status", "wrapped", NULL);
        seen = strstr(out, " (sleep)\n") != NULL;
        if (!seen) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    cr_assert(seen, "the main process is still named after /usr/bin/env:\n%s", out);
    free(out);
    harness_stop(&d);
}

/* status -l / --full are accepted: minisupctl never ellipsizes. */
Test(commands, status_full_is_accepted)
{
    harness_write_unitf(&d, "full.service", "[Service]\nExecStart=%s sleep 1000\n", HARNESS_TFX);
    harness_start(&d);
    char *out = NULL, *err = NULL;
    int r = harness_ctl(&d, &out, &err, "status", "-l", "full", NULL);
    cr_assert_eq(r, 3, "status -l of an inactive unit: %d\n%s%s", r, out, err);
    cr_assert(strstr(out, "full.service"), "%s", out);
    free(out);
    free(err);
    r = harness_ctl(&d, &out, &err, "status", "--full", "full", NULL);
    cr_assert_eq(r, 3, "status --full: %d\n%s%s", r, out, err);
    cr_assert(strstr(out, "full.service"), "%s", out);
    free(out);
    free(err);
    harness_stop(&d);
}

/* ---- drop-ins ------------------------------------------------------------------------------ */

/* Writes units/<rel> (making its directory) with text. */
static void write_dropin(const char *rel, const char *text)
{
    char dir[PATH_MAX];

    cr_assert(snprintf(dir, sizeof(dir), "%s/%.*s", d.unit_dir, (int)(strrchr(rel, '/') - rel),
                       rel) < (int)sizeof(dir));
    cr_assert(mkdir(dir, 0755) == 0 || errno == EEXIST, "%s: %s", dir, strerror(errno));
    harness_write_unit(&d, rel, text);
}

static bool unit_file_changed(const char *name)
{
    json_t *u = harness_get_unit(&d, name);
    bool changed = json_is_true(json_object_get(u, "unitFileChanged"));

    json_decref(u);
    return changed;
}

/* The *.conf files of foo.service.d/ and of the type-wide service.d/ apply after the unit file;
 * status, show and cat tell them as systemctl does; a changed or added drop-in counts as a change
 * of the unit at daemon-reload; a drop-in directory without a unit file makes no unit. */
Test(commands, dropins_apply_show_and_reload)
{
    const char *unit = "[Unit]\nDescription=Greeter\n[Service]\nEnvironment=GREETING=main\n"
                       "ExecStart=/bin/sh -c 'echo greeting $$GREETING; exec sleep 1000'\n";
    const char *all = "[Unit]\nDescription=Every service\n";
    const char *env = "[Service]\nEnvironment=GREETING=dropin\n";
    char *out = NULL, *err = NULL, want[4 * PATH_MAX];

    harness_write_unit(&d, "greet.service", unit);
    write_dropin("service.d/10-all.conf", all);
    write_dropin("greet.service.d/50-env.conf", env);
    write_dropin("greet.service.d/notes.txt", "[Service]\nEnvironment=GREETING=ignored\n");
    write_dropin("orphan.service.d/x.conf", "[Service]\nExecStart=/bin/true\n");
    harness_start(&d);

    free(ctl_ok("start", "greet", NULL, NULL));
    cr_assert(harness_wait_journal_contains(&d, "greet", "greeting dropin", 10000));

    int r = harness_ctl(&d, &out, &err, "status", "greet", NULL);
    cr_assert_eq(r, 0, "%s%s", out, err);
    snprintf(want, sizeof(want),
             "greet.service - Every service\n"
             "     Loaded: loaded (%s/greet.service; static)\n"
             "    Drop-In: %s/service.d\n"
             "             \u2514\u250010-all.conf\n"
             "             %s/greet.service.d\n"
             "             \u2514\u250050-env.conf\n"
             "     Active: active (running)",
             d.unit_dir, d.unit_dir, d.unit_dir);
    cr_assert(strstr(out, want), "status:\n%s\nwanted:\n%s", out, want);
    free(out);
    free(err);

    out = ctl_ok("show", "greet", "-p", "DropInPaths");
    snprintf(want, sizeof(want),
             "DropInPaths=%s/service.d/10-all.conf %s/greet.service.d/50-env.conf\n", d.unit_dir,
             d.unit_dir);
    cr_assert_str_eq(out, want);
    free(out);

    out = ctl_ok("cat", "greet", NULL, NULL);
    snprintf(want, sizeof(want),
             "# %s/greet.service\n%s\n# %s/service.d/10-all.conf\n%s\n"
             "# %s/greet.service.d/50-env.conf\n%s",
             d.unit_dir, unit, d.unit_dir, all, d.unit_dir, env);
    cr_assert_str_eq(out, want);
    free(out);

    /* No unit from a drop-in directory alone. */
    out = ctl_ok("list-units", "--all", NULL, NULL);
    cr_assert_null(strstr(out, "orphan"), "%s", out);
    free(out);

    /* Nothing changed: nothing to warn about. */
    free(ctl_ok("daemon-reload", NULL, NULL, NULL));
    cr_assert(!unit_file_changed("greet"));

    /* A changed drop-in: the running unit keeps its configuration until its next start. */
    write_dropin("greet.service.d/50-env.conf", "[Service]\nEnvironment=GREETING=changed\n");
    free(ctl_ok("daemon-reload", NULL, NULL, NULL));
    cr_assert(unit_file_changed("greet"));
    r = harness_ctl(&d, &out, &err, "status", "greet", NULL);
    cr_assert(strstr(out, "Warning: The unit file or drop-ins of greet.service changed on disk"),
              "%s", out);
    free(out);
    free(err);
    free(ctl_ok("restart", "greet", NULL, NULL));
    cr_assert(harness_wait_journal_contains(&d, "greet", "greeting changed", 10000));
    cr_assert(!unit_file_changed("greet"));

    /* An added drop-in is a change too, and so is a removed one. */
    write_dropin("greet.service.d/70-more.conf", "[Service]\nEnvironment=GREETING=added\n");
    free(ctl_ok("daemon-reload", NULL, NULL, NULL));
    cr_assert(unit_file_changed("greet"), "an added drop-in changes the unit");
    free(ctl_ok("restart", "greet", NULL, NULL));
    cr_assert(harness_wait_journal_contains(&d, "greet", "greeting added", 10000));
    char path[PATH_MAX];
    harness_path(&d, path, "units/greet.service.d/70-more.conf");
    cr_assert_eq(unlink(path), 0);
    free(ctl_ok("daemon-reload", NULL, NULL, NULL));
    cr_assert(unit_file_changed("greet"), "a removed drop-in changes the unit");
    free(ctl_ok("stop", "greet", NULL, NULL));
    harness_stop(&d);
}

/* An instance made on demand reads its template's drop-ins and its own (the instance's wins a
 * file name); diagnostics in a drop-in name it and its line, in verify as in the daemon. */
Test(commands, dropins_of_instances_and_their_diagnostics)
{
    char path[PATH_MAX], want[PATH_MAX + 64], *out = NULL, *err = NULL;

    harness_write_unit(&d, "hi@.service",
                       "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo hi %i $$WHO'\n");
    write_dropin("hi@.service.d/50-who.conf", "[Service]\nEnvironment=WHO=template\n");
    write_dropin("hi@b.service.d/50-who.conf", "[Service]\nEnvironment=WHO=instance\n");
    write_dropin("hi@b.service.d/60-typo.conf", "[Service]\n\nRestrat=always\n");
    harness_start(&d);

    free(ctl_ok("start", "hi@a", NULL, NULL));
    free(ctl_ok("start", "hi@b", NULL, NULL));
    cr_assert(harness_wait_journal_contains(&d, "hi@a.service", "hi a template", 10000));
    cr_assert(harness_wait_journal_contains(&d, "hi@b.service", "hi b instance", 10000));
    char *log = harness_read(&d, "minisupd.log");
    snprintf(want, sizeof(want), "%s/hi@b.service.d/60-typo.conf:3: Unknown key name 'Restrat'",
             d.unit_dir);
    cr_assert(log && strstr(log, want), "daemon log lacks '%s':\n%s", want, log);
    free(log);

    /* Offline verify reads the drop-ins beside the unit file. */
    harness_write_unit(&d, "v.service", "[Service]\nExecStart=/bin/true\n");
    write_dropin("v.service.d/typo.conf", "[Service]\nRestrat=always\n");
    harness_path(&d, path, "units/v.service");
    int r = harness_ctl(&d, &out, &err, "verify", path, NULL);
    cr_assert_eq(r, 0, "a warning is not a failure: %s%s", out, err);
    snprintf(want, sizeof(want), "%s/v.service.d/typo.conf:2: Unknown key name 'Restrat'",
             d.unit_dir);
    cr_assert(strstr(err, want), "stderr: %s", err);
    free(out);
    free(err);
    harness_stop(&d);
}

/* Two oneshot units for the journal tests below: "talk" (identifier talker) prints at
 * priorities 2, 3 and 6, "quiet" one plain line. Started and their lines stored. */
static void start_talk_and_quiet(void)
{
    harness_write_unit(&d, "talk.service",
                       "[Service]\nType=oneshot\nSyslogIdentifier=talker\n"
                       "ExecStart=/bin/sh -c 'echo \"<2>critical\"; echo \"<3>an error\"; "
                       "echo \"<6>some info\"'\n");
    harness_write_unit(&d, "quiet.service",
                       "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo hush'\n");
    harness_start(&d);
    free(ctl_ok("start", "talk", NULL, NULL));
    free(ctl_ok("start", "quiet", NULL, NULL));
    cr_assert(harness_wait_journal_contains(&d, "talk", "some info", 10000));
    cr_assert(harness_wait_journal_contains(&d, "quiet", "hush", 10000));
}

/* journalctl's -b/--boot[=ID]: minisupd has one boot to speak of, the current one, so -b, -b 0,
 * -b -0 and this boot's ID show the entries since it began; any other boot is refused in
 * journalctl's words. The value is optional as -n's is: a unit after a bare -b stays a unit.
 * status refuses -b, as systemctl does. */
/* journalctl refuses --since after --until ("--since= must be before --until=.", exit 1)
 * rather than reading an empty window; equal bounds are still a window. */
Test(commands, journal_since_after_until_is_refused)
{
    harness_write_unit(&d, "hello.service", "[Service]\nType=oneshot\nExecStart=/bin/echo hi\n");
    harness_start(&d);
    free(ctl_ok("start", "hello", NULL, NULL));

    const char *absolute[] = {
        "journal", "--since", "2026-11-22 10:00", "--until", "2026-11-21 10:00", "hello", NULL};
    char *out = ctl_expect_err(1, "--since= must be before --until=.\n", absolute);
    cr_assert_str_eq(out, "");
    free(out);
    const char *relative[] = {"journal", "-S", "now", "-U", "-1h", NULL};
    out = ctl_expect_err(1, "--since= must be before --until=.\n", relative);
    cr_assert_str_eq(out, "");
    free(out);
    const char *equal[] = {"journal", "-S", "@1000", "-U", "@1000", NULL};
    out = ctl_expect_err(0, "", equal);
    cr_assert_str_eq(out, "-- No entries --\n");
    free(out);
    const char *window[] = {"journal", "-S", "-1h",  "-U",    "now", "-o",
                            "cat",     "-g", "^hi$", "hello", NULL};
    out = ctl_expect_err(0, "", window);
    cr_assert_str_eq(out, "hi\n");
    free(out);
    harness_stop(&d);
}

Test(commands, journal_boot_is_the_current_one)
{
    char id[64] = "", *p, *q;
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

    cr_assert_not_null(f);
    cr_assert_not_null(fgets(id, sizeof(id), f));
    fclose(f);
    for (p = q = id; *p; p++) /* the UUID's 32 digits, as journalctl prints a boot ID */
        if (*p != '-' && *p != '\n')
            *q++ = *p;
    *q = '\0';
    start_talk_and_quiet();

    const char *bare[] = {"journal", "-b", "quiet", "-t", "sh", "-o", "cat", NULL};
    char *out = ctl_expect(0, bare);
    cr_assert_str_eq(out, "hush\n", "-b UNIT: the unit is no boot");
    free(out);
    const char *const currents[][2] = {
        {"-b", "0"}, {"-b", "-0"}, {"--boot=0"}, {"--boot"}, {"-b", id}};
    for (size_t i = 0; i < sizeof(currents) / sizeof(currents[0]); i++) {
        const char *args[] = {"journal", "quiet",        "-t",           "sh", "-o",
                              "cat",     currents[i][0], currents[i][1], NULL};
        out = ctl_expect(0, args);
        cr_assert_str_eq(out, "hush\n", "%s %s", currents[i][0],
                         currents[i][1] ? currents[i][1] : "");
        free(out);
    }

    const char *prev[] = {"journal", "quiet", "-b", "-1", NULL};
    free(ctl_expect_err(
        1, "Data from the specified boot (-1) is not available: No such boot ID in journal\n",
        prev));
    const char *first[] = {"journal", "-b", "1", "quiet", NULL};
    free(ctl_expect_err(
        1, "Data from the specified boot (+1) is not available: No such boot ID in journal\n",
        first));
    const char *other[] = {"journal", "-b", "0123456789abcdef0123456789abcdef", NULL};
    free(ctl_expect_err(1,
                        "Data from the specified boot (0123456789abcdef0123456789abcdef) is not "
                        "available: No such boot ID in journal\n",
                        other));
    const char *bad[] = {"journal", "--boot=yesterday", NULL};
    free(ctl_expect_err(1, "Failed to parse boot descriptor 'yesterday'\n", bad));
    const char *status[] = {"status", "quiet", "-b", NULL};
    free(ctl_expect(1, status));
    harness_stop(&d);

    const char *offline[] = {"journal", "-D", d.log_dir, "-b",  "-u", "quiet",
                             "-t",      "sh", "-o",      "cat", NULL};
    out = ctl_expect(0, offline);
    cr_assert_str_eq(out, "hush\n", "-D -b");
    free(out);
}

/* Whether every line of text is `prefix`, a timestamp matching the POSIX ERE `stamp`, then
 * `rest` (which starts with the space before the host or identifier). */
static bool lines_are(const char *text, const char *stamp, const char *rest)
{
    char pattern[256];
    regex_t re;
    bool ok = *text != '\0';

    snprintf(pattern, sizeof(pattern), "^%s%s$", stamp, rest);
    cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB | REG_NEWLINE), 0, "%s", pattern);
    for (const char *l = text; ok && *l; l = strchr(l, '\n') + 1) {
        char *line = strndup(l, (size_t)(strchr(l, '\n') - l));
        ok = regexec(&re, line, 0, NULL, 0) == 0;
        free(line);
    }
    regfree(&re);
    return ok;
}

/* journalctl's short-unix, short-full and with-unit modes, --utc (every format in UTC) and
 * --no-hostname (the short formats without the host); -o help lists the new modes. */
Test(commands, journal_utc_no_hostname_and_full_modes)
{
    char host[256], rest[320];

    cr_assert_eq(gethostname(host, sizeof(host)), 0);
    start_talk_and_quiet();
    setenv("TZ", "CET-1", 1); /* minisupctl's zone, unless --utc */

    const char *full[] = {"journal", "quiet", "-t", "sh", "-o", "short-full", NULL};
    char *out = ctl_expect(0, full);
    snprintf(rest, sizeof(rest), " %s sh\\[[0-9]+\\]: hush", host);
    cr_assert(lines_are(out, "[A-Z][a-z]{2} [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} CET", rest), "%s",
              out);
    free(out);
    const char *full_utc[] = {"journal", "quiet", "-t", "sh", "-o", "short-full", "--utc", NULL};
    out = ctl_expect(0, full_utc);
    cr_assert(lines_are(out, "[A-Z][a-z]{2} [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC", rest), "%s",
              out);
    free(out);
    const char *iso_utc[] = {"journal", "quiet", "-t", "sh", "-o", "short-iso", "--utc", NULL};
    out = ctl_expect(0, iso_utc);
    cr_assert(lines_are(out, "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\+0000", rest), "%s", out);
    free(out);
    const char *iso[] = {"journal", "quiet", "-t", "sh", "-o", "short-iso", NULL};
    out = ctl_expect(0, iso);
    cr_assert(lines_are(out, "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\+0100", rest), "%s", out);
    free(out);

    const char *with_unit[] = {"journal",       "talk", "-o", "with-unit",
                               "--no-hostname", "-n",   "1",  NULL};
    out = ctl_expect(0, with_unit);
    cr_assert(lines_are(out, "[A-Z][a-z]{2} [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} CET",
                        " talk\\.service\\[[0-9]+\\]: .*"),
              "%s", out);
    free(out);
    const char *unix_time[] = {"journal",    "quiet",         "-t", "sh", "-o",
                               "short-unix", "--no-hostname", NULL};
    out = ctl_expect(0, unix_time);
    cr_assert(lines_are(out, "[0-9]{10}\\.[0-9]{6}", " sh\\[[0-9]+\\]: hush"), "%s", out);
    free(out);
    const char *plain[] = {"journal", "quiet", "-t", "sh", "--no-hostname", NULL};
    out = ctl_expect(0, plain);
    cr_assert(lines_are(out, "[A-Z][a-z]{2} [0-9]{2} [0-9:]{8}", " sh\\[[0-9]+\\]: hush"), "%s",
              out);
    free(out);

    const char *status_utc[] = {"status", "quiet", "--utc", NULL};
    free(ctl_expect(1, status_utc));
    const char *status_host[] = {"status", "quiet", "--no-hostname", NULL};
    free(ctl_expect(1, status_host));
    unsetenv("TZ");
    harness_stop(&d);
}

/* journalctl's FIELD=VALUE matches: _SYSTEMD_UNIT= is -u with the exact name, SYSLOG_IDENTIFIER=
 * is -t, PRIORITY=N that priority only, _PID= and _SYSTEMD_INVOCATION_ID= those; the values of
 * one field are alternatives, and -n counts the entries that match. A field minisupd does not
 * keep is refused by name. A name that cannot be a unit's finds no entries, as journalctl
 * finds none, where the daemon's InvalidParameter used to be printed. */
Test(commands, journal_field_matches)
{
    start_talk_and_quiet();

    const char *unit[] = {"journal", "_SYSTEMD_UNIT=quiet.service", "-o", "cat", NULL};
    char *out = ctl_expect(0, unit), *err = NULL;
    cr_assert(strstr(out, "hush\n") && !strstr(out, "critical"), "%s", out);
    free(out);
    const char *ident[] = {"journal", "SYSLOG_IDENTIFIER=talker", "-o", "cat", NULL};
    out = ctl_expect(0, ident);
    cr_assert_str_eq(out, "critical\nan error\nsome info\n");
    free(out);
    const char *prio[] = {"journal", "talk", "PRIORITY=3", "-o", "cat", NULL};
    out = ctl_expect(0, prio);
    cr_assert_str_eq(out, "an error\n", "PRIORITY=3 is that priority, not 0..3");
    free(out);
    const char *prios[] = {
        "journal", "SYSLOG_IDENTIFIER=talker", "PRIORITY=2", "PRIORITY=6", "-o", "cat", NULL};
    out = ctl_expect(0, prios);
    cr_assert_str_eq(out, "critical\nsome info\n", "two priorities with a gap");
    free(out);
    const char *prio_range[] = {"journal", "talk", "PRIORITY=6", "-p", "err", NULL};
    out = ctl_expect(0, prio_range);
    cr_assert_str_eq(out, "-- No entries --\n", "PRIORITY=6 and -p err");
    free(out);

    /* The service's own line, not minisupd's "Starting" before it. */
    json_t *entries = harness_journal_json(&d, "quiet"), *e = NULL, *x;
    size_t k;
    json_array_foreach(entries, k, x)
    {
        if (!e && strcmp(json_string_value(json_object_get(x, "MESSAGE")) ?: "", "hush") == 0)
            e = x;
    }
    cr_assert_not_null(e, "no \"hush\" in quiet's journal");
    char pid[32], inv[64];
    snprintf(pid, sizeof(pid), "_PID=%s", json_string_value(json_object_get(e, "_PID")));
    snprintf(inv, sizeof(inv), "_SYSTEMD_INVOCATION_ID=%s",
             json_string_value(json_object_get(e, "_SYSTEMD_INVOCATION_ID")));
    json_decref(entries);
    const char *by_pid[] = {"journal", pid, "-o", "cat", NULL};
    out = ctl_expect(0, by_pid);
    cr_assert_str_eq(out, "hush\n", "%s", pid);
    free(out);
    const char *pids[] = {"journal", pid, "_PID=1", "-o", "cat", "-n", "1", NULL};
    out = ctl_expect(0, pids);
    cr_assert_str_eq(out, "hush\n", "-n counts what matches");
    free(out);
    const char *by_inv[] = {"journal", inv, "SYSLOG_IDENTIFIER=sh", "-o", "cat", NULL};
    out = ctl_expect(0, by_inv);
    cr_assert_str_eq(out, "hush\n", "%s", inv);
    free(out);
    const char *idents[] = {"journal", "-t", "sh", "SYSLOG_IDENTIFIER=talker", "-o", "cat",
                            "-n",      "2",  NULL};
    out = ctl_expect(0, idents);
    cr_assert_str_eq(out, "some info\nhush\n", "-t and SYSLOG_IDENTIFIER= are alternatives");
    free(out);

    const char *message[] = {"journal", "MESSAGE=hush", NULL};
    free(ctl_expect_err(1,
                        "Failed to add match 'MESSAGE=hush': minisupd's journal has no field "
                        "MESSAGE to match (only _SYSTEMD_UNIT, SYSLOG_IDENTIFIER, PRIORITY, _PID "
                        "and _SYSTEMD_INVOCATION_ID).\n",
                        message));
    const char *lower[] = {"journal", "unit=quiet", NULL};
    free(ctl_expect_err(1, "Failed to add match 'unit=quiet': Invalid argument\n", lower));

    /* Nothing can match: no entries, exit 0, never the protocol's words. */
    const char *const none[][3] = {
        {"_SYSTEMD_UNIT=web.service"},
        {"_SYSTEMD_UNIT=quiet"},
        {"PRIORITY=9"},
        {"_PID=abc"},
        {"a b"},
        {"-u", "foo/bar"},
        {"-u", "@x"},
    };
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        const char *args[] = {"journal", none[i][0], none[i][1], NULL};
        int r = harness_ctlv(&d, &out, &err, args);
        cr_assert_eq(r, 0, "%s %s: exit %d\n%s", none[i][0], none[i][1] ? none[i][1] : "", r, err);
        cr_assert_str_eq(out, "-- No entries --\n", "%s", none[i][0]);
        cr_assert_null(strstr(err, "varlink"), "%s", err);
        free(out);
        free(err);
    }
    /* A name that is no unit's is escaped as journalctl escapes it, and says so. */
    const char *space[] = {"journal", "a b", NULL};
    free(ctl_expect_err(0,
                        "Invalid unit name \"a b\" was escaped as \"a\\x20b\" (maybe you should "
                        "use systemd-escape?)\n",
                        space));
    harness_stop(&d);
}

/* The short formats strip colour sequences and expand tabs, and show what is still not
 * printable as "[N blob data]", unless -a (systemd 252's output_short()); export writes such a
 * message binary-safe. */
Test(commands, journal_unprintable_messages)
{
    harness_write_unit(&d, "ansi.service",
                       "[Service]\nType=oneshot\nSyslogIdentifier=ansi\n"
                       "ExecStart=/bin/sh -c 'printf \"\\033[1;31mred\\033[0m\\n\"; "
                       "printf \"a\\tb\\n\"; printf \"\\033(B lone\\n\"'\n");
    harness_start(&d);
    free(ctl_ok("start", "ansi", NULL, NULL));
    cr_assert(harness_wait_journal_contains(&d, "ansi", "lone", 10000));

    const char *short_args[] = {"journal",       "ansi", "-t",         "ansi",
                                "--no-hostname", "-o",   "short-unix", NULL};
    char *out = ctl_expect(0, short_args);
    cr_assert(strstr(out, "]: red\n"), "%s", out);
    cr_assert(strstr(out, "]: a        b\n"), "%s", out);
    cr_assert(strstr(out, "]: [8B blob data]\n"), "%s", out);
    free(out);
    const char *all[] = {"journal", "ansi", "-t", "ansi", "-a", NULL};
    out = ctl_expect(0, all);
    cr_assert(strstr(out, "]: \033[1;31mred\033[0m\n"), "%s", out);
    cr_assert(strstr(out, "]: a\tb\n"), "%s", out);
    cr_assert(strstr(out, "]: \033(B lone\n"), "%s", out);
    free(out);
    const char *verbose[] = {"journal", "ansi", "-t", "ansi", "-o", "verbose", NULL};
    out = ctl_expect(0, verbose);
    cr_assert(strstr(out, "    MESSAGE=[14B blob data]\n"), "%s", out);
    cr_assert(strstr(out, "    MESSAGE=a\tb\n"), "%s", out);
    cr_assert_null(strstr(out, "__SEQNUM="), "%s", out);
    free(out);
    const char *export[] = {"journal", "ansi", "-t", "ansi", "-o", "export", "-n", "1", NULL};
    out = ctl_expect(0, export);
    /* NAME, newline, then the size: 8 as a little-endian 64-bit number (its NULs end the
     * captured text). */
    cr_assert(strstr(out, "\nMESSAGE\n\x08"), "%s", out);
    cr_assert_null(strstr(out, "MESSAGE="), "%s", out);
    free(out);
    harness_stop(&d);
}

/* ---- status's process list: Tasks:, CPU:, CGroup: ---------------------------------------- */

/* /proc/PID/cmdline with the NULs between words as spaces, into buf ("" when gone). */
static char *read_cmdline(pid_t pid, char *buf, size_t size)
{
    char path[64];
    ssize_t n = 0;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, buf, size - 1);
        close(fd);
    }
    if (n < 0)
        n = 0;
    buf[n] = '\0';
    for (ssize_t i = 0; i + 1 < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    return buf;
}

/* The Threads: of /proc/PID/status, 0 when gone. */
static long threads_of(pid_t pid)
{
    char path[64], line[256];
    long v = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "re");
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "Threads: %ld", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

/* The tree's shape: `sh -c 'sleep 1000 & exec sleep 999'` has exec'd sleep 999 and its one
 * child has exec'd sleep 1000 (read from /proc directly, not through minisupd). */
struct tree_probe {
    pid_t main_pid, child;
};

static bool tree_in_place(void *arg)
{
    struct tree_probe *t = arg;
    pid_t kids[4];
    char buf[256];

    if (strcmp(read_cmdline(t->main_pid, buf, sizeof(buf)), "sleep 999") != 0 ||
        harness_descendants(t->main_pid, kids, 4) != 1)
        return false;
    t->child = kids[0];
    return strcmp(read_cmdline(t->child, buf, sizeof(buf)), "sleep 1000") == 0;
}

/* systemctl status's process lines (systemctl(1) status, systemd.resource-control(5)
 * TasksCurrent): a main process that forked a child shows Tasks: 2 (threads), CPU:, and both
 * processes with their command lines under CGroup:, the child under its parent; -o json and
 * GetUnit with processes carry them; GetUnit without it does not (it reads no /proc); show has
 * TasksCurrent=. A unit without processes (an active oneshot, a stopped unit) has none of the
 * lines, and TasksCurrent=[not set]. */
Test(commands, status_lists_the_processes_under_cgroup)
{
    char *out = NULL, *err = NULL, want[512];
    struct tree_probe t = {0};
    const char *p;
    int r;

    harness_write_unit(&d, "tree.service",
                       "[Service]\nExecStart=/bin/sh -c 'sleep 1000 & exec sleep 999'\n");
    harness_write_unit(&d, "done.service",
                       "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n");
    harness_start(&d);
    free(ctl_ok("start", "tree", NULL, NULL));
    free(ctl_ok("start", "done", NULL, NULL));
    t.main_pid = harness_main_pid(&d, "tree");
    cr_assert_gt(t.main_pid, 0);
    cr_assert(wait_until(tree_in_place, &t, 10000), "sleep 999 with a sleep 1000 child never ran");
    harness_track_pid(&d, t.child);

    r = harness_ctl(&d, &out, &err, "status", "tree", "-n", "0", NULL);
    cr_assert_eq(r, 0, "status exited %d\n%s%s", r, out, err);
    snprintf(want, sizeof(want), "   Main PID: %d (", (int)t.main_pid);
    p = strstr(out, want);
    cr_assert(p, "no Main PID line:\n%s", out);
    p = strstr(p, "\n      Tasks: 2\n        CPU: ");
    cr_assert(p, "no Tasks: 2 then CPU: after Main PID:\n%s", out);
    p = strchr(p + strlen("\n      Tasks: 2\n        CPU: "), '\n');
    snprintf(want, sizeof(want),
             "\n     CGroup: tree.service\n"
             "             \u2514\u2500%d sleep 999\n"
             "               \u2514\u2500%d sleep 1000\n",
             (int)t.main_pid, (int)t.child);
    cr_assert(p && strcmp(p, want) == 0, "want after CPU:%s\nstatus:\n%s", want, out);
    free(out);
    free(err);

    json_t *u =
        harness_varlink(&d, "GetUnit", json_pack("{s:s, s:b}", "name", "tree", "processes", 1));
    json_t *unit = json_object_get(u, "unit"), *procs = json_object_get(unit, "processes");
    cr_assert_eq(json_array_size(procs), 2, "%s", json_dumps(unit, 0));
    cr_expect_eq(json_integer_value(json_object_get(unit, "tasksCurrent")), 2);
    cr_expect(json_is_integer(json_object_get(unit, "cpuUsageUSec")));
    json_t *child = json_array_get(procs, t.child > t.main_pid ? 1 : 0);
    cr_expect_eq(json_integer_value(json_object_get(child, "pid")), t.child);
    cr_expect_eq(json_integer_value(json_object_get(child, "ppid")), t.main_pid);
    cr_expect_str_eq(json_string_value(json_object_get(child, "commandLine")), "sleep 1000");
    json_decref(u);
    u = harness_varlink(&d, "GetUnit", json_pack("{s:s}", "name", "tree"));
    unit = json_object_get(u, "unit");
    cr_expect_null(json_object_get(unit, "processes"), "GetUnit without processes lists them");
    cr_expect_null(json_object_get(unit, "tasksCurrent"));
    json_decref(u);

    out = ctl_ok("status", "tree", "-o", "json");
    cr_expect(strstr(out, "\"commandLine\": \"sleep 999\"") ||
                  strstr(out, "\"commandLine\":\"sleep 999\""),
              "%s", out);
    cr_expect(strstr(out, "\"tasksCurrent\": 2") || strstr(out, "\"tasksCurrent\":2"), "%s", out);
    free(out);
    out = ctl_ok("show", "tree", "-p", "TasksCurrent");
    cr_expect_str_eq(out, "TasksCurrent=2\n");
    free(out);

    out = ctl_ok("status", "done", "-n", "0");
    cr_expect(strstr(out, "Active: active (exited)"), "%s", out);
    cr_expect_null(strstr(out, "Tasks:"), "%s", out);
    cr_expect_null(strstr(out, "CPU:"), "%s", out);
    cr_expect_null(strstr(out, "CGroup:"), "%s", out);
    free(out);
    out = ctl_ok("show", "done", "-p", "TasksCurrent");
    cr_expect_str_eq(out, "TasksCurrent=[not set]\n");
    free(out);

    free(ctl_ok("stop", "tree", NULL, NULL));
    r = harness_ctl(&d, &out, &err, "status", "tree", "-n", "0", NULL);
    cr_assert_eq(r, 3, "status of a stopped unit exited %d\n%s%s", r, out, err);
    cr_expect_null(strstr(out, "Tasks:"), "%s", out);
    cr_expect_null(strstr(out, "CGroup:"), "%s", out);
    free(out);
    free(err);
    harness_stop(&d);
}

static bool runs_sleep_999(void *arg)
{
    char buf[256];

    return strcmp(read_cmdline(*(pid_t *)arg, buf, sizeof(buf)), "sleep 999") == 0;
}

static bool pid_gone(void *arg)
{
    return !harness_pid_alive(*(pid_t *)arg);
}

/* Whether status text has a top-level line of the CGroup: tree for pid with command line cmd. */
static bool top_level_line(const char *text, pid_t pid, const char *cmd)
{
    char a[512], b[512];

    snprintf(a, sizeof(a), "\n             \u251c\u2500%d %s\n", (int)pid, cmd);
    snprintf(b, sizeof(b), "\n             \u2514\u2500%d %s\n", (int)pid, cmd);
    return strstr(text, a) || strstr(text, b);
}

/* A grandchild that called setsid() left the unit's process group and was adopted by minisupd:
 * it is still one of the unit's processes (by its $INVOCATION_ID), listed at the top of the tree
 * beside the main process. After a KillMode=process stop it is what the unit left running, and
 * status of the stopped unit lists it alone; Tasks: counts the threads of what is listed. */
Test(commands, status_cgroup_keeps_escaped_and_leftover_processes)
{
    char *out = NULL, *err = NULL, cmd[PATH_MAX + 32], want[64];
    struct tree_probe t = {0};
    pid_t g;
    int r;

    harness_write_unitf(&d, "esc.service",
                        "[Service]\n"
                        "ExecStart=/bin/sh -c '%s double-fork --setsid; exec sleep 999'\n"
                        "KillMode=process\n"
                        "Environment=ASAN_OPTIONS=detect_leaks=0\n",
                        HARNESS_TFX);
    harness_start(&d);
    free(ctl_ok("start", "esc", NULL, NULL));
    cr_assert(harness_wait_journal_contains(&d, "esc", "grandchild ", 10000));
    char *journal = harness_journal_cat(&d, "esc");
    g = (pid_t)strtol(strstr(journal, "grandchild ") + strlen("grandchild "), NULL, 10);
    free(journal);
    cr_assert_gt(g, 0);
    harness_track_pid(&d, g);
    t.main_pid = harness_main_pid(&d, "esc");
    cr_assert_gt(t.main_pid, 0);
    snprintf(cmd, sizeof(cmd), "%s double-fork --setsid", HARNESS_TFX);

    /* sleep 999 has no child: once it has exec'd, the tree is complete. */
    cr_assert(wait_until(runs_sleep_999, &t.main_pid, 10000),
              "the main process never exec'd sleep 999");
    out = ctl_ok("status", "esc", "-n", "0");
    snprintf(want, sizeof(want), "      Tasks: %ld\n", 1 + threads_of(g));
    cr_expect(strstr(out, want), "want %s in\n%s", want, out);
    cr_expect(top_level_line(out, t.main_pid, "sleep 999"), "main not listed:\n%s", out);
    cr_expect(top_level_line(out, g, cmd), "escaped grandchild %d not listed:\n%s", (int)g, out);
    free(out);

    free(ctl_ok("stop", "esc", NULL, NULL));
    cr_assert(!harness_pid_alive(t.main_pid));
    cr_assert(harness_pid_alive(g), "KillMode=process killed the escaped grandchild");
    r = harness_ctl(&d, &out, &err, "status", "esc", "-n", "0", NULL);
    cr_assert_eq(r, 3, "status exited %d\n%s%s", r, out, err);
    snprintf(want, sizeof(want), "      Tasks: %ld\n", threads_of(g));
    cr_expect(strstr(out, want), "want %s in\n%s", want, out);
    snprintf(want, sizeof(want), "%d sleep 999", (int)t.main_pid);
    cr_expect_null(strstr(out, want), "%s", out);
    snprintf(want, sizeof(want), "\n             \u2514\u2500%d ", (int)g);
    cr_expect(strstr(out, want) && top_level_line(out, g, cmd), "leftover not listed:\n%s", out);
    free(out);
    free(err);

    kill(g, SIGKILL);
    cr_assert(wait_until(pid_gone, &g, 10000), "the leftover %d outlived SIGKILL", (int)g);
    harness_stop(&d);
}
