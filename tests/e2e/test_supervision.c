/* The supervision issue's end-to-end tests: restart loops and start limits, stop escalation and
 * process groups, reaping as subreaper and as PID 1, exec failures, the exec environment, the
 * service types, commands around a run, dependencies, daemon-reload and the container options.
 * Test names carry the RELIABILITY.md id where one matches. Every wait has a deadline; figures
 * the catalogue names are printed with harness_metric(), never asserted as timings. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "harness.h"

static struct daemon d;

static void setup(void)
{
    harness_init(&d);
}

static void teardown(void)
{
    harness_cleanup(&d);
}

TestSuite(supervision, .init = setup, .fini = teardown, .timeout = 60);

/* In the sanitized build the fixture is instrumented too; its leak check at exit only slows
 * crash loops down and can race with SIGCONT (docs/testing.md), so units turn it off. */
#define NO_LSAN "Environment=ASAN_OPTIONS=detect_leaks=0\n"

/* ---- helpers ---- */

static int ctl(char **ret_out, char **ret_err, const char *a0, const char *a1)
{
    return harness_ctl(&d, ret_out, ret_err, a0, a1, NULL);
}

static void start_unit(const char *unit)
{
    char *out = NULL, *err = NULL;
    int r = ctl(&out, &err, "start", unit);

    cr_assert_eq(r, 0, "start %s exited %d\nstdout: %s\nstderr: %s", unit, r, out, err);
    free(out);
    free(err);
}

static void stop_unit(const char *unit)
{
    char *out = NULL, *err = NULL;
    int r = ctl(&out, &err, "stop", unit);

    cr_assert_eq(r, 0, "stop %s exited %d\nstdout: %s\nstderr: %s", unit, r, out, err);
    free(out);
    free(err);
}

static void assert_status(const char *unit, const char *state, int timeout_ms)
{
    cr_assert(harness_wait_status(&d, unit, state, timeout_ms), "%s never became '%s'", unit,
              state);
}

/* The Active: line right now, checked without waiting (the contract says it holds already). */
static void assert_active_now(const char *unit, const char *state)
{
    char active[256];

    harness_active_line(&d, unit, active, sizeof(active));
    cr_assert(strncmp(active, state, strlen(state)) == 0, "%s: Active: %s, want %s...", unit,
              active, state);
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

static json_int_t jint(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* GetUnit(name)[key] as a string, copied into buf. */
static const char *unit_str(const char *unit, const char *key, char *buf, size_t size)
{
    json_t *u = harness_get_unit(&d, unit);

    snprintf(buf, size, "%s", jstr(u, key));
    json_decref(u);
    return buf;
}

static json_int_t unit_int(const char *unit, const char *key)
{
    json_t *u = harness_get_unit(&d, unit);
    json_int_t v = jint(u, key);

    json_decref(u);
    return v;
}

static size_t journal_count(const char *unit, const char *needle)
{
    char *text = harness_journal_cat(&d, unit);
    size_t n = harness_count_lines_containing(text, needle);

    free(text);
    return n;
}

static void wait_journal(const char *unit, const char *needle, int timeout_ms)
{
    cr_assert(harness_wait_journal_contains(&d, unit, needle, timeout_ms),
              "'%s' never appeared in the journal of %s", needle, unit);
}

static void wait_journal_count(const char *unit, const char *needle, size_t want, int timeout_ms)
{
    size_t seen = 0;

    cr_assert(harness_wait_journal_count(&d, unit, needle, want, timeout_ms, &seen),
              "%s: saw %zu lines with '%s', want %zu", unit, seen, needle, want);
}

/* The journal seq of the first entry of unit whose message contains needle, -1 if none. */
__attribute__((unused)) static json_int_t seq_of(const char *unit, const char *needle)
{
    json_t *entries = harness_journal_json(&d, unit), *e;
    json_int_t seq = -1;
    size_t i;

    json_array_foreach(entries, i, e)
    {
        if (strstr(jstr(e, "message"), needle)) {
            seq = jint(e, "seq");
            break;
        }
    }
    json_decref(entries);
    return seq;
}

/* The number after "<key> " in the first journal line of unit that starts with key. */
static long journal_number(const char *unit, const char *key)
{
    char *text = harness_journal_cat(&d, unit);
    const char *p = strstr(text, key);
    long v = p ? strtol(p + strlen(key), NULL, 10) : 0;

    free(text);
    return v;
}

/* Waits until no zombie child of parent that exists now is still a zombie 1 s later (the
 * RELIABILITY zombies() probe counts zombies older than 1 s). Returns how many lingered. */
static size_t lingering_zombies(pid_t parent)
{
    pid_t z[256];
    size_t n = harness_zombie_pids(parent, z, 256), left = 0;
    uint64_t deadline = harness_now_ms() + 1000;

    if (n > 256)
        n = 256;
    for (size_t i = 0; i < n; i++) {
        for (;;) {
            char state;
            pid_t ppid;
            bool still =
                harness_proc_ids(z[i], &state, &ppid, NULL, NULL) && state == 'Z' && ppid == parent;

            if (!still)
                break;
            if (harness_now_ms() >= deadline) {
                left++;
                break;
            }
            usleep(10000); /* poll pacing */
        }
    }
    return left;
}

/* Waits until pid is gone (or a zombie); for processes that are not our children. */
static bool gone(void *arg)
{
    return !harness_pid_alive((pid_t)(intptr_t)arg);
}

static bool wait_gone(pid_t pid, int timeout_ms)
{
    return wait_until(gone, (void *)(intptr_t)pid, timeout_ms);
}

/* Counts the lines of text that end with suffix. */
static size_t count_lines_ending(const char *text, const char *suffix)
{
    size_t n = 0, m = strlen(suffix);

    for (const char *p = text; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len >= m && memcmp(p + len - m, suffix, m) == 0)
            n++;
        p = end ? end + 1 : NULL;
    }
    return n;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* ---- RST-1: crash-restart cycles ---- */

/* Parses the "run:<r>:<i>:<us>" lines of the journal: for each run 1..runs, lines 1..3 in order
 * exactly once. Returns the lines that are missing or out of place; the first and last stamp of
 * each run go to first[r] / last[r]. */
static size_t check_runs(const char *text, long runs, uint64_t *first, uint64_t *last)
{
    long *next = calloc((size_t)runs + 1, sizeof(long));
    size_t bad = 0;

    cr_assert_not_null(next);
    for (const char *p = text; p && *p;) {
        const char *end = strchr(p, '\n');
        long r, i;
        unsigned long long us;

        if (sscanf(p, "run:%ld:%ld:%llu", &r, &i, &us) == 3) {
            if (r < 1 || r > runs || i != next[r] + 1) {
                fprintf(stderr, "unexpected line run:%ld:%ld (want line %ld of run %ld)\n", r, i,
                        r >= 1 && r <= runs ? next[r] + 1 : 0, r);
                bad++;
            } else {
                next[r] = i;
                if (i == 1)
                    first[r] = us;
                last[r] = us;
            }
        }
        p = end ? end + 1 : NULL;
    }
    for (long r = 1; r <= runs; r++)
        if (next[r] != 3) {
            fprintf(stderr, "run %ld has %ld of 3 lines\n", r, next[r]);
            bad += (size_t)(3 - next[r]);
        }
    free(next);
    return bad;
}

Test(supervision, rst1_crash_restart_cycles_clean_RST_1)
{
    enum { PHASE = 100, RUNS = 2 * PHASE };
    char counter[PATH_MAX], *text;
    uint64_t first[RUNS + 1] = {0}, last[RUNS + 1] = {0}, lat[RUNS];
    size_t n_lat = 0, lost;
    int fds_start, fds_phase1, fds_phase2;
    long hwm_phase1, hwm_phase2;
    size_t zombies = 0;

    harness_path(&d, counter, "runs");
    /* Exit 1 each run (Restart=always restarts at once), exit 7 every 100th run, which
     * RestartPreventExitStatus= turns into a stop: the loop ends at a known run. */
    harness_write_unitf(&d, "crashloop.service",
                        "[Unit]\n"
                        "StartLimitBurst=0\n"
                        "\n"
                        "[Service]\n"
                        "ExecStart=%s seq 3 --prefix run --exit 1 --counter %s --stop-every %d 7\n"
                        "Restart=always\n"
                        "RestartSec=0\n"
                        "RestartPreventExitStatus=7\n" NO_LSAN,
                        HARNESS_TFX, counter, PHASE);
    harness_start(&d);
    fds_start = harness_fd_count(d.pid);

    /* Phase 1 warms everything up (the unit's journal file, buffers); phase 2 must leave no
     * trace: fds back to the phase 1 count exactly. */
    harness_ctl(&d, NULL, NULL, "start", "crashloop", NULL);
    assert_status("crashloop", "failed (Result: exit-code)", 30000);
    zombies += lingering_zombies(d.pid);
    fds_phase1 = harness_fd_count(d.pid);
    hwm_phase1 = harness_status_kib(d.pid, "VmHWM");
    cr_assert_eq(unit_int("crashloop", "nRestarts"), PHASE - 1);

    harness_ctl(&d, NULL, NULL, "start", "crashloop", NULL);
    assert_status("crashloop", "failed (Result: exit-code)", 30000);
    zombies += lingering_zombies(d.pid);
    fds_phase2 = harness_fd_count(d.pid);
    hwm_phase2 = harness_status_kib(d.pid, "VmHWM");
    cr_assert_eq(unit_int("crashloop", "nRestarts"), PHASE - 1);
    cr_assert_eq(unit_int("crashloop", "execMainStatus"), 7);

    text = harness_journal_cat(&d, "crashloop");
    lost = check_runs(text, RUNS, first, last);
    cr_assert_eq(harness_count_lines_containing(text, "run:"), 3 * RUNS,
                 "%zu run lines in the journal, want %d",
                 harness_count_lines_containing(text, "run:"), 3 * RUNS);
    free(text);

    /* Restart latency: the next run's first line minus the last line written before _exit. */
    for (long r = 2; r <= RUNS; r++)
        if (r != PHASE + 1 && first[r] && last[r - 1] && first[r] >= last[r - 1])
            lat[n_lat++] = first[r] - last[r - 1];
    qsort(lat, n_lat, sizeof(lat[0]), cmp_u64);
    harness_metric("rst1_crash_restart_cycles_clean_RST_1", "lost_lines", (double)lost, 0);
    harness_metric("rst1_crash_restart_cycles_clean_RST_1", "zombies", (double)zombies, 0);
    harness_metric("rst1_crash_restart_cycles_clean_RST_1", "fd_delta",
                   (double)(fds_phase2 - fds_phase1), 0);
    harness_metric("rst1_crash_restart_cycles_clean_RST_1", "fds_at_start", (double)fds_start,
                   fds_phase1);
    harness_metric("rst1_crash_restart_cycles_clean_RST_1", "hwm_growth_kib",
                   (double)(hwm_phase2 - hwm_phase1), 1024);
    if (n_lat > 0) {
        harness_metric("rst1_crash_restart_cycles_clean_RST_1", "restart_latency_p50_ms",
                       (double)lat[n_lat / 2] / 1000.0, 5);
        harness_metric("rst1_crash_restart_cycles_clean_RST_1", "restart_latency_p99_ms",
                       (double)lat[n_lat * 99 / 100] / 1000.0, 50);
    }

    cr_assert_eq(lost, 0, "%zu lines of %d runs lost or out of order", lost, RUNS);
    cr_assert_eq(zombies, 0, "%zu zombies of minisupd lingered over 1 s", zombies);
    cr_assert_eq(fds_phase2, fds_phase1, "minisupd has %d fds after 200 cycles, %d after 100",
                 fds_phase2, fds_phase1);
    harness_stop(&d);
}

/* ---- RST-2: start limit ---- */

Test(supervision, rst2_start_limit_hit_then_reset_failed_RST_2)
{
    char buf[64], *out = NULL, *err = NULL;
    unsigned long long cpu0, cpu1;
    uint64_t t0, t1;
    json_t *u, *deaths, *last;
    int r;

    /* Defaults: StartLimitIntervalSec=10s, StartLimitBurst=5, RestartSec=100ms. */
    harness_write_unitf(&d, "limited.service",
                        "[Service]\n"
                        "ExecStart=%s crash 1\n"
                        "Restart=always\n" NO_LSAN,
                        HARNESS_TFX);
    /* The clock: restarts every 100 ms by the daemon's own timers, never near its limit. */
    harness_write_unitf(&d, "clock.service",
                        "[Unit]\n"
                        "StartLimitBurst=1000\n"
                        "\n"
                        "[Service]\n"
                        "ExecStart=%s crash 1\n"
                        "Restart=on-failure\n"
                        "RestartSec=100ms\n" NO_LSAN,
                        HARNESS_TFX);
    harness_start(&d);
    harness_ctl(&d, NULL, NULL, "start", "limited", NULL);
    assert_status("limited", "failed (Result: start-limit-hit)", 10000);
    cr_assert_eq(journal_count("limited", "crash: exit 1"), 5, "want exactly 5 runs");
    wait_journal("limited", "Start request repeated too quickly.", 1000);
    u = harness_get_unit(&d, "limited");
    cr_assert_str_eq(jstr(u, "result"), "start-limit-hit");
    cr_assert_str_eq(jstr(u, "activeState"), "failed");
    deaths = json_object_get(u, "deaths");
    cr_assert(json_array_size(deaths) >= 1);
    last = json_array_get(deaths, json_array_size(deaths) - 1);
    cr_assert_str_eq(jstr(last, "result"), "start-limit-hit");
    cr_assert(!json_is_true(json_object_get(last, "restart")));
    json_decref(u);

    /* No more spawns: the clock's third restart comes >= 300 ms of daemon timers later. */
    cpu0 = harness_cpu_ticks(d.pid);
    t0 = harness_now_ms();
    harness_ctl(&d, NULL, NULL, "start", "clock", NULL);
    wait_journal("clock", "restart counter is at 3", 10000);
    t1 = harness_now_ms();
    cpu1 = harness_cpu_ticks(d.pid);
    stop_unit("clock");
    harness_metric("rst2_start_limit_hit_then_reset_failed_RST_2", "spawns",
                   (double)journal_count("limited", "crash: exit 1"), 5);
    harness_metric("rst2_start_limit_hit_then_reset_failed_RST_2", "minisupd_cpu_percent",
                   100.0 * (double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK) /
                       ((double)(t1 - t0 + 1) / 1000.0),
                   1);
    cr_assert_eq(journal_count("limited", "crash: exit 1"), 5, "spawned again after the limit");

    /* An explicit start is refused within the interval, as systemctl's. */
    r = ctl(&out, &err, "start", "limited");
    cr_assert_neq(r, 0, "start after start-limit-hit succeeded");
    cr_assert(strstr(err, "start of the service was attempted too often"), "stderr: %s", err);
    free(out);
    free(err);
    cr_assert_eq(journal_count("limited", "crash: exit 1"), 5, "the refused start spawned");

    /* ResetFailedUnit: inactive, and the counter starts over. */
    json_decref(harness_varlink(&d, "ResetFailedUnit", json_pack("{s:s}", "name", "limited")));
    cr_assert_str_eq(unit_str("limited", "activeState", buf, sizeof(buf)), "inactive");
    harness_ctl(&d, NULL, NULL, "start", "limited", NULL);
    wait_journal_count("limited", "crash: exit 1", 6, 10000);
    assert_status("limited", "failed (Result: start-limit-hit)", 10000);
    cr_assert_eq(journal_count("limited", "crash: exit 1"), 10, "want 5 more runs after reset");
    harness_stop(&d);
}

/* ---- STOP-1: last words ---- */

Test(supervision, stop1_last_words_kept_STOP_1)
{
    enum { REPS = 20 };
    int missing = 0;

    harness_write_unitf(&d, "talker.service",
                        "[Unit]\n"
                        "StartLimitBurst=0\n"
                        "\n"
                        "[Service]\n"
                        "ExecStart=%s last-words\n"
                        "TimeoutStopSec=10\n" NO_LSAN,
                        HARNESS_TFX);
    harness_start(&d);
    for (int rep = 1; rep <= REPS; rep++) {
        char id[64], bye[80], *text;

        start_unit("talker");
        /* "ready" means the SIGTERM handler is installed. */
        wait_journal_count("talker", "ready", (size_t)rep, 10000);
        unit_str("talker", "invocationId", id, sizeof(id));
        cr_assert_eq(strlen(id), 32, "invocationId '%s'", id);
        stop_unit("talker");
        /* At once: the journal holds every line before status says the unit stopped. */
        assert_active_now("talker", "inactive (dead)");
        snprintf(bye, sizeof(bye), "bye %s", id);
        text = harness_journal_cat(&d, "talker");
        if (harness_count_lines(text, bye) != 1) {
            fprintf(stderr, "repetition %d: '%s' is not in the journal once\n", rep, bye);
            missing++;
        }
        free(text);
    }
    harness_metric("stop1_last_words_kept_STOP_1", "missing_last_words", missing, 0);
    cr_assert_eq(missing, 0, "%d of %d stops lost the last words", missing, REPS);
    harness_stop(&d);
}

/* ---- STOP-3: grandchildren in the group ---- */

/* Starts a unit running `sh -c 'tfx ignore-term & tfx ignore-term & wait'` and returns the main
 * pid (sh) and the two children in kids. */
static pid_t start_family(const char *unit, pid_t kids[2])
{
    pid_t main_pid, found[8];
    size_t n;

    start_unit(unit);
    wait_journal_count(unit, "ready", 2, 10000);
    main_pid = harness_main_pid(&d, unit);
    cr_assert_gt(main_pid, 0);
    n = harness_descendants(main_pid, found, 8);
    cr_assert_eq(n, 2, "sh has %zu descendants, want the 2 tfx", n);
    for (size_t i = 0; i < 2; i++) {
        kids[i] = found[i];
        harness_track_pid(&d, kids[i]);
    }
    return main_pid;
}

static void write_family_unit(const char *name, const char *kill_mode, const char *timeout)
{
    harness_write_unitf(&d, name,
                        "[Service]\n"
                        "ExecStart=/bin/sh -c '%s ignore-term & %s ignore-term & wait'\n"
                        "KillMode=%s\n"
                        "TimeoutStopSec=%s\n" NO_LSAN,
                        HARNESS_TFX, HARNESS_TFX, kill_mode, timeout);
}

Test(supervision, stop3_group_killed_with_grandchildren_STOP_3)
{
    pid_t main_pid, kids[2];
    int survivors = 0;

    write_family_unit("family.service", "control-group", "1");
    harness_start(&d);
    main_pid = start_family("family", kids);
    stop_unit("family");
    /* SIGTERM to the group ends sh; the two that ignore it get SIGKILL after 1 s. */
    survivors =
        harness_pid_alive(main_pid) + harness_pid_alive(kids[0]) + harness_pid_alive(kids[1]);
    harness_metric("stop3_group_killed_with_grandchildren_STOP_3", "survivors", survivors, 0);
    cr_assert_eq(survivors, 0, "%d of sh %d, tfx %d, tfx %d survived the stop", survivors,
                 (int)main_pid, (int)kids[0], (int)kids[1]);
    assert_active_now("family", "failed (Result: timeout)");
    cr_assert_eq(lingering_zombies(d.pid), 0);
    harness_stop(&d);
}

Test(supervision, stop3_kill_mode_process_others_survive_reported_STOP_3)
{
    pid_t main_pid, kids[2];
    char *out = NULL, pid_text[32];

    write_family_unit("family.service", "process", "10");
    harness_start(&d);
    main_pid = start_family("family", kids);
    stop_unit("family");
    cr_assert(!harness_pid_alive(main_pid), "sh %d (the main process) survived", (int)main_pid);
    assert_active_now("family", "inactive (dead)");
    /* Only the main process got signals; the others live on, adopted by the subreaper. */
    for (int i = 0; i < 2; i++) {
        pid_t ppid = 0;

        cr_assert(harness_pid_alive(kids[i]), "tfx %d was killed under KillMode=process",
                  (int)kids[i]);
        harness_proc_ids(kids[i], NULL, &ppid, NULL, NULL);
        cr_assert_eq(ppid, d.pid, "tfx %d has parent %d, want minisupd %d", (int)kids[i], (int)ppid,
                     (int)d.pid);
    }
    /* RELIABILITY STOP-3: status reports the processes left behind (systemd shows them in its
     * CGroup: tree). */
    harness_ctl(&d, &out, NULL, "status", "family", NULL);
    snprintf(pid_text, sizeof(pid_text), "%d", (int)kids[0]);
    {
        bool reported = strstr(out, pid_text) != NULL;

        if (!reported)
            fprintf(stderr, "status after a KillMode=process stop:\n%s\n", out);
        for (int i = 0; i < 2; i++) {
            cr_assert_eq(kill(kids[i], SIGKILL), 0);
            cr_assert(wait_gone(kids[i], 5000));
        }
        free(out);
        cr_assert_eq(lingering_zombies(d.pid), 0, "the leftovers were not reaped");
        cr_assert(reported, "status does not report the leftover process %s", pid_text);
    }
    harness_stop(&d);
}

/* The main process dies at once on SIGTERM; what it leaves behind holds the stdout pipe. The
 * stop must end clean, as in systemd, not in a timeout caused by waiting for that pipe. */
Test(supervision, stop3_kill_mode_process_clean_stop_despite_open_pipe_STOP_3)
{
    pid_t main_pid, kids[2];
    char active[256];

    write_family_unit("family.service", "process", "500ms");
    harness_start(&d);
    main_pid = start_family("family", kids);
    stop_unit("family");
    harness_active_line(&d, "family", active, sizeof(active));
    for (int i = 0; i < 2; i++) {
        kill(kids[i], SIGKILL);
        cr_assert(wait_gone(kids[i], 5000));
    }
    cr_assert(!harness_pid_alive(main_pid));
    cr_assert(strncmp(active, "inactive (dead)", 15) == 0,
              "sh exited on SIGTERM at once, yet Active: %s (TimeoutStopSec=500ms)", active);
    harness_stop(&d);
}

Test(supervision, stop3_kill_mode_mixed_all_gone_STOP_3)
{
    pid_t main_pid, kids[2];
    int survivors;

    write_family_unit("family.service", "mixed", "1");
    harness_start(&d);
    main_pid = start_family("family", kids);
    stop_unit("family");
    survivors =
        harness_pid_alive(main_pid) + harness_pid_alive(kids[0]) + harness_pid_alive(kids[1]);
    cr_assert_eq(survivors, 0, "%d processes survived a KillMode=mixed stop", survivors);
    harness_stop(&d);
}

/* ---- STOP-4: a descendant that escaped the group ---- */

Test(supervision, stop4_double_fork_in_group_killed_STOP_4)
{
    pid_t g;

    harness_write_unitf(&d, "forker.service",
                        "[Service]\n"
                        "ExecStart=%s double-fork\n" NO_LSAN,
                        HARNESS_TFX);
    harness_start(&d);
    start_unit("forker");
    wait_journal("forker", "grandchild ", 10000);
    g = (pid_t)journal_number("forker", "grandchild ");
    cr_assert_gt(g, 0);
    harness_track_pid(&d, g);
    /* The main process exited; the grandchild in its group goes with the rest of the run. */
    assert_status("forker", "inactive (dead)", 10000);
    cr_assert(wait_gone(g, 5000), "grandchild %d in the group survived the main's exit", (int)g);
    harness_stop(&d);
}

/* The grandchild calls setsid(): no group signal reaches it. minisupd, a subreaper, adopts it
 * and finds it by the $INVOCATION_ID in its environment (RELIABILITY STOP-4, no cgroups). */
static pid_t start_escaper(const char *unit, const char *flags)
{
    pid_t g;

    harness_write_unitf(&d, "escaper.service",
                        "[Service]\n"
                        "ExecStart=%s double-fork %s\n"
                        "TimeoutStopSec=2\n" NO_LSAN,
                        HARNESS_TFX, flags);
    harness_start(&d);
    start_unit(unit);
    wait_journal(unit, "grandchild ", 10000);
    g = (pid_t)journal_number(unit, "grandchild ");
    cr_assert_gt(g, 0);
    harness_track_pid(&d, g);
    return g;
}

Test(supervision, stop4_setsid_escaped_grandchild_killed_STOP_4)
{
    pid_t g = start_escaper("escaper", "--setsid");
    int survivors;

    /* The main process exits after the grandchild is in place; the run ends with it. */
    assert_status("escaper", "inactive (dead)", 10000);
    survivors = !wait_gone(g, 2000);
    harness_metric("stop4_setsid_escaped_grandchild_killed_STOP_4", "survivors", survivors, 0);
    cr_assert_eq(survivors, 0, "the escaped grandchild %d survived its unit's run", (int)g);
    wait_journal("escaper", "that left the unit's process groups", 1000);
    cr_assert_eq(lingering_zombies(d.pid), 0, "the escaped grandchild was left a zombie");
    harness_stop(&d);
}

/* The same while the unit is running: stop must reach the escaped process too. */
Test(supervision, stop4_setsid_escaped_grandchild_killed_by_stop_STOP_4)
{
    pid_t g, main_pid;

    harness_write_unitf(&d, "escaper.service",
                        "[Service]\n"
                        "ExecStart=/bin/sh -c '%s double-fork --setsid; exec %s sleep 1000'\n"
                        "TimeoutStopSec=5\n" NO_LSAN,
                        HARNESS_TFX, HARNESS_TFX);
    harness_start(&d);
    start_unit("escaper");
    wait_journal("escaper", "grandchild ", 10000);
    g = (pid_t)journal_number("escaper", "grandchild ");
    harness_track_pid(&d, g);
    main_pid = harness_main_pid(&d, "escaper");
    cr_assert(harness_pid_alive(g));
    stop_unit("escaper");
    cr_assert(!harness_pid_alive(main_pid));
    cr_assert(!harness_pid_alive(g), "the escaped grandchild %d survived the stop", (int)g);
    assert_active_now("escaper", "inactive (dead)");
    cr_assert_eq(lingering_zombies(d.pid), 0);
    harness_stop(&d);
}

/* --clearenv: the grandchild re-executed itself without $INVOCATION_ID, so nothing ties it to
 * the unit. RELIABILITY STOP-4: minisupd then reports it ("1 process escaped; pid N") in status
 * and the journal, reaps it when it exits, and never leaves a zombie. */
Test(supervision, stop4_setsid_clearenv_escapee_reported_STOP_4)
{
    pid_t g = start_escaper("escaper", "--setsid --clearenv");
    char *status = NULL, *journal, pid_text[32];
    pid_t ppid = 0;
    bool alive, reported;

    assert_status("escaper", "inactive (dead)", 10000);
    alive = harness_pid_alive(g);
    harness_metric("stop4_setsid_clearenv_escapee_reported_STOP_4", "survivors", alive, 1);
    harness_proc_ids(g, NULL, &ppid, NULL, NULL);
    snprintf(pid_text, sizeof(pid_text), "%d", (int)g);
    harness_ctl(&d, &status, NULL, "status", "escaper", NULL);
    journal = harness_journal_cat(&d, "escaper");
    reported = harness_count_lines_containing(journal, "escaped") > 0 &&
               strstr(journal, pid_text) && strstr(status, pid_text);
    if (!reported)
        fprintf(stderr, "STOP-4 --clearenv: grandchild %d %s (parent %d, minisupd %d)\n%s\n%s\n",
                (int)g, alive ? "alive" : "gone", (int)ppid, (int)d.pid, status, journal);
    free(status);
    free(journal);
    if (alive) {
        cr_assert_eq(ppid, d.pid, "the escapee %d was not adopted by minisupd", (int)g);
        cr_assert_eq(kill(g, SIGKILL), 0);
        cr_assert(wait_gone(g, 5000));
    }
    cr_assert_eq(lingering_zombies(d.pid), 0, "the escapee was left a zombie");
    cr_assert(reported, "the escaped process %d is reported neither in status nor in the journal",
              (int)g);
    harness_stop(&d);
}

/* ---- PROC-1: orphans reaped as subreaper ---- */

/* Samples the zombie children of a parent and keeps the age of the oldest one seen. */
struct zombie_watch {
    pid_t parent;
    pid_t pid[512];
    uint64_t first_ms[512];
    size_t n;
    uint64_t max_age_ms;
    /* for the journal check */
    const char *unit, *needle;
    size_t want, seen, polls;
};

static void zombie_sample(struct zombie_watch *w)
{
    pid_t z[512];
    size_t n = harness_zombie_pids(w->parent, z, 512);
    uint64_t now = harness_now_ms();

    for (size_t i = 0; i < n && i < 512; i++) {
        size_t k = 0;

        while (k < w->n && w->pid[k] != z[i])
            k++;
        if (k == w->n && w->n < 512) {
            w->pid[w->n] = z[i];
            w->first_ms[w->n++] = now;
        } else if (k < w->n && now - w->first_ms[k] > w->max_age_ms) {
            w->max_age_ms = now - w->first_ms[k];
        }
    }
}

static bool sample_until_journal_count(void *arg)
{
    struct zombie_watch *w = arg;

    zombie_sample(w);
    if (w->polls++ % 10 != 0)
        return false;
    w->seen = journal_count(w->unit, w->needle);
    return w->seen >= w->want;
}

Test(supervision, proc1_orphans_reaped_by_subreaper_PROC_1)
{
    enum { N = 100 };
    struct zombie_watch w = {.unit = "orphans", .needle = " exit", .want = N};
    char *text, ppid_text[64];
    uint64_t end;
    size_t adopted, after = 0;

    harness_write_unitf(&d, "orphans.service",
                        "[Service]\n"
                        "ExecStart=%s orphans %d 500\n" NO_LSAN,
                        HARNESS_TFX, N);
    harness_start(&d);
    w.parent = d.pid;
    start_unit("orphans");
    cr_assert(wait_until(sample_until_journal_count, &w, 30000), "%zu of %d orphans exited", w.seen,
              N);
    /* Every grandchild saw minisupd as its new parent. */
    text = harness_journal_cat(&d, "orphans");
    snprintf(ppid_text, sizeof(ppid_text), " ppid %d", (int)d.pid);
    adopted = count_lines_ending(text, ppid_text);
    free(text);
    cr_assert_eq(adopted, N, "%zu of %d orphans were adopted by minisupd", adopted, N);
    /* zombies(minisupd) sampled every 100 ms for 2 s after the last exit. */
    end = harness_now_ms() + 2000;
    while (harness_now_ms() < end) {
        zombie_sample(&w);
        after += lingering_zombies(d.pid);
        usleep(100000); /* the sampling period of the measurement */
    }
    harness_metric("proc1_orphans_reaped_by_subreaper_PROC_1", "max_zombie_age_ms",
                   (double)w.max_age_ms, 1000);
    harness_metric("proc1_orphans_reaped_by_subreaper_PROC_1", "zombies_after", (double)after, 0);
    cr_assert_eq(after, 0, "zombies of minisupd lingered after the orphans exited");
    cr_assert_lt(w.max_age_ms, 1000, "a zombie of minisupd lived %llu ms",
                 (unsigned long long)w.max_age_ms);
    stop_unit("orphans");
    harness_stop(&d);
}

/* Negative control for PROC-1, as tini's: without a subreaper the orphans leave their
 * grandparent (they go to init), and a subreaper that does not reap collects zombies the probe
 * sees. Runs the fixture directly under this test process, no minisupd. */
struct memfd_wait {
    int fd;
    const char *needle;
    size_t want, seen;
    char *text;
};

static bool memfd_has(void *arg)
{
    struct memfd_wait *w = arg;
    off_t size = lseek(w->fd, 0, SEEK_END);

    free(w->text);
    w->text = calloc(1, (size_t)size + 1);
    cr_assert_not_null(w->text);
    cr_assert(pread(w->fd, w->text, (size_t)size, 0) == size);
    w->seen = harness_count_lines_containing(w->text, w->needle);
    return w->seen >= w->want;
}

static pid_t spawn_tfx_orphans(int out_fd, const char *count, const char *ms)
{
    pid_t pid = fork();

    cr_assert(pid >= 0);
    if (pid == 0) {
        dup2(out_fd, 1);
        dup2(out_fd, 2);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execl(HARNESS_TFX, HARNESS_TFX, "orphans", count, ms, (char *)NULL);
        _exit(127);
    }
    return pid;
}

Test(supervision, proc1_negative_control_without_subreaper_PROC_1)
{
    enum { N = 20 };
    struct memfd_wait w = {.needle = " exit", .want = N};
    char own[64];
    pid_t tfx, z[64];
    size_t n;

    /* (1) tfx stands for a supervisor without PR_SET_CHILD_SUBREAPER: the orphans of its
     * children do not come to it (they go to init, or to a subreaper further up). */
    w.fd = memfd_create("orphans", MFD_CLOEXEC);
    cr_assert(w.fd >= 0);
    tfx = spawn_tfx_orphans(w.fd, "20", "100");
    cr_assert(wait_until(memfd_has, &w, 10000), "%zu of %d orphans exited", w.seen, N);
    snprintf(own, sizeof(own), " ppid %d", (int)tfx);
    cr_assert_eq(count_lines_ending(w.text, own), 0,
                 "orphans came to a process that is no subreaper:\n%s", w.text);
    cr_assert_eq(harness_count_lines_containing(w.text, " ppid "), N);
    kill(tfx, SIGKILL);
    waitpid(tfx, NULL, 0);
    /* If criterion made this process a subreaper, the orphans are its zombies now: reap them
     * (they printed their exit line just before exiting). */
    for (const char *p = w.text; (p = strstr(p, "orphan ")); p += 7) {
        pid_t g = (pid_t)strtol(p + 7, NULL, 10);

        cr_assert(wait_gone(g, 5000));
    }
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    close(w.fd);

    /* (2) A subreaper that does not reap: the probe counts every orphan as a zombie. */
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    w.fd = memfd_create("orphans", MFD_CLOEXEC);
    w.seen = 0;
    tfx = spawn_tfx_orphans(w.fd, "20", "100");
    cr_assert(wait_until(memfd_has, &w, 10000), "%zu of %d orphans exited", w.seen, N);
    snprintf(own, sizeof(own), " ppid %d", (int)getpid());
    cr_assert_eq(count_lines_ending(w.text, own), N, "output:\n%s", w.text);
    /* Their exit lines are out; they turn into zombies right after. */
    for (uint64_t end = harness_now_ms() + 5000;
         harness_zombie_pids(getpid(), z, 64) < N && harness_now_ms() < end;)
        usleep(10000);
    n = harness_zombie_pids(getpid(), z, 64);
    harness_metric("proc1_negative_control_without_subreaper_PROC_1", "zombies_seen", (double)n, N);
    cr_assert_eq(n, N, "the probe saw %zu zombies of a subreaper that does not reap, want %d", n,
                 N);
    kill(tfx, SIGKILL);
    while (waitpid(-1, NULL, 0) > 0)
        ;
    cr_assert_eq(harness_zombie_pids(getpid(), z, 64), 0);
    free(w.text);
    close(w.fd);
}

/* ---- PROC-5: exec failures ---- */

static void write_file(const char *rel, const char *text, mode_t mode)
{
    char path[PATH_MAX];
    int fd = open(harness_path(&d, path, rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

    cr_assert(fd >= 0, "create %s: %s", path, strerror(errno));
    cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    chmod(path, mode);
}

static void check_exec_failure(const char *unit, const char *path, const char *errtext)
{
    char *out = NULL, *err = NULL, want[PATH_MAX + 128], buf[64];
    int r = ctl(&out, &err, "start", unit);

    /* Known before start returns: the job failed, the unit is failed with result exec. */
    cr_assert_neq(r, 0, "start %s succeeded; stdout %s", unit, out);
    free(out);
    free(err);
    assert_active_now(unit, "failed (Result: exec)");
    cr_assert_str_eq(unit_str(unit, "result", buf, sizeof(buf)), "exec");
    snprintf(want, sizeof(want), "Failed to execute '%s': %s", path, errtext);
    wait_journal(unit, want, 1000);
    cr_assert_eq(journal_count(unit, "Started "), 0, "%s was reported started", unit);
}

Test(supervision, proc5_exec_failures_PROC_5)
{
    char noexec[PATH_MAX], script[PATH_MAX], elf[PATH_MAX];
    static const char bad_elf[] = "\177ELF\002\001\001\000\000\000\000\000\000\000\000\000"
                                  "\002\000\377\377garbage";

    write_file("noexec.sh", "#!/bin/sh\necho hi\n", 0644);
    write_file("badinterp.sh", "#!/nonexistent/interpreter\necho hi\n", 0755);
    {
        char path[PATH_MAX];
        int fd = open(harness_path(&d, path, "wrongarch"), O_WRONLY | O_CREAT | O_CLOEXEC, 0755);

        cr_assert(fd >= 0);
        cr_assert(write(fd, bad_elf, sizeof(bad_elf)) == (ssize_t)sizeof(bad_elf));
        close(fd);
    }
    harness_path(&d, noexec, "noexec.sh");
    harness_path(&d, script, "badinterp.sh");
    harness_path(&d, elf, "wrongarch");
    harness_write_unit(&d, "missing.service", "[Service]\nExecStart=/nonexistent\n");
    harness_write_unitf(&d, "noexec.service", "[Service]\nExecStart=%s\n", noexec);
    harness_write_unitf(&d, "dir.service", "[Service]\nExecStart=%s\n", d.unit_dir);
    harness_write_unitf(&d, "badinterp.service", "[Service]\nExecStart=%s\n", script);
    harness_write_unitf(&d, "wrongarch.service", "[Service]\nExecStart=%s\n", elf);
    harness_write_unit(&d, "missing-exec.service",
                       "[Service]\nType=exec\nExecStart=/nonexistent\n");
    /* The restart policy applies, without a busy loop: 5 tries, then the start limit. */
    harness_write_unit(&d, "retry.service",
                       "[Service]\nExecStart=/nonexistent\nRestart=always\nRestartSec=50ms\n");
    harness_start(&d);

    check_exec_failure("missing", "/nonexistent", "No such file or directory");
    check_exec_failure("missing-exec", "/nonexistent", "No such file or directory");
    check_exec_failure("noexec", noexec, "Permission denied");
    check_exec_failure("dir", d.unit_dir, "Permission denied");
    check_exec_failure("badinterp", script, "No such file or directory");
    check_exec_failure("wrongarch", elf, "Exec format error");

    harness_ctl(&d, NULL, NULL, "start", "retry", NULL);
    assert_status("retry", "failed (Result: start-limit-hit)", 10000);
    cr_assert_eq(journal_count("retry", "Failed to execute '/nonexistent'"), 5,
                 "want 5 exec attempts before the start limit");
    cr_assert_eq(lingering_zombies(d.pid), 0);
    harness_stop(&d);
}

/* Runs as root (CI): an executable only its owner may run, for User=nobody. */
Test(supervision, proc5_exec_permission_for_service_user_PROC_5)
{
    char path[PATH_MAX];

    if (geteuid() != 0)
        cr_skip_test("needs root for User=nobody");
    write_file("owner-only", "#!/bin/sh\necho hi\n", 0700);
    harness_path(&d, path, "owner-only");
    /* The temp dir is 0700 by mkdtemp; nobody must be able to reach the file itself. */
    cr_assert_eq(chmod(d.base, 0755), 0);
    harness_write_unitf(&d, "owner.service", "[Service]\nUser=nobody\nExecStart=%s\n", path);
    harness_start(&d);
    check_exec_failure("owner", path, "Permission denied");
    harness_stop(&d);
}
