/* Faults from outside the daemon's control (RELIABILITY.md §2): the daemon itself stopped for a
 * long time (CLK-2), killed at random instants while its journal rotates (CRASH-2), and a disk
 * that refuses writes, fsyncs and new files at awkward moments (DISK-3, through the LD_PRELOAD
 * shim tests/faults/faultshim.c). Each test is named <ID>_<what> and prints its figures with
 * harness_metric(); a test that cannot run here says why, as a JSON line and through
 * cr_skip_test(). See docs/testing.md. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "harness.h"
#include "journal_file.h"

/* In the sanitized build every fixture is instrumented: its leak check at exit slows loops down
 * and races with SIGCONT (docs/testing.md). */
#define NO_LSAN "Environment=ASAN_OPTIONS=detect_leaks=0\n"
/* Tests that count every line turn the journald-like rate limit off. */
#define NO_RATELIMIT "LogRateLimitIntervalSec=0\n"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* The plain build does the full amount of work, the sanitized build (several times slower on the
 * 2-core CI machine) a smaller sample of it. */
#define SCALE(plain, sanitized) (SANITIZED ? (sanitized) : (plain))

#define STR_(x) #x
#define STR(x) STR_(x)

static struct daemon d;

static void setup(void)
{
    harness_init(&d);
}

static void teardown(void)
{
    harness_cleanup(&d);
}

TestSuite(faults, .init = setup, .fini = teardown, .timeout = 120);

/* ---- helpers ---- */

/* Prints {"test": name, "skip": reason} for scripts/reliability, then skips. */
#define SKIP_TEST(name, ...)                                                                       \
    do {                                                                                           \
        char skip_reason_[PATH_MAX + 512];                                                         \
        snprintf(skip_reason_, sizeof(skip_reason_), __VA_ARGS__);                                 \
        print_skip(name, skip_reason_);                                                            \
        cr_skip_test("%s", skip_reason_);                                                          \
        return;                                                                                    \
    } while (0)

static void print_skip(const char *test, const char *reason)
{
    json_t *o = json_pack("{s:s, s:s}", "test", test, "skip", reason);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

    if (s)
        printf("%s\n", s);
    fflush(stdout);
    free(s);
    json_decref(o);
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

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* For what is a sleep by nature (how long the daemon stays stopped, a random instant to kill
 * at), never for waiting on a condition. */
static void pace_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Runs minisupctl with the NULL-terminated args and fails the test unless it exits 0. */
static void ctl_okv(const char *const *args)
{
    char *out = NULL, *err = NULL;
    int r = harness_ctlv(&d, &out, &err, args);

    cr_assert_eq(r, 0, "minisupctl %s %s exited %d\nstdout: %s\nstderr: %s", args[0],
                 args[1] ? args[1] : "", r, out, err);
    free(out);
    free(err);
}

static void ctl_ok(const char *verb, const char *unit)
{
    const char *args[] = {verb, unit, NULL};

    ctl_okv(args);
}

struct main_pid_wait {
    const char *unit;
    pid_t pid;
};

static bool has_main_pid(void *arg)
{
    struct main_pid_wait *w = arg;
    json_t *u = harness_get_unit(&d, w->unit);

    w->pid = (pid_t)jint(u, "mainPid");
    json_decref(u);
    return w->pid > 0;
}

/* The record's message as a NUL-terminated string in buf. */
static const char *msg_text(const struct journal_record *r, char *buf, size_t size)
{
    size_t n = r->message_len < size - 1 ? r->message_len : size - 1;

    memcpy(buf, r->message, n);
    buf[n] = '\0';
    return buf;
}

static size_t count_substr(const char *text, const char *needle)
{
    size_t n = 0;

    for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Reads the journal files of unit (all units when NULL) with the library reader, no daemon
 * involved (the jverify probe). Returns journal_read()'s result; damaged records skipped go to
 * *ret_skipped. */
static int read_journal(const char *unit, journal_record_cb cb, void *ud, size_t *ret_skipped)
{
    const char *units[] = {unit, NULL};
    struct journal_query q = {.units = unit ? units : NULL};

    *ret_skipped = 0;
    return journal_read(d.log_dir, &q, cb, ud, ret_skipped);
}

/* Kills minisupd with SIGKILL and reaps it; its services are left as they are. */
static void kill_daemon_hard(void)
{
    int status;

    cr_assert(d.pid > 0);
    cr_assert_eq(kill(d.pid, SIGKILL), 0);
    cr_assert(harness_wait_pid(d.pid, 10000, &status), "minisupd survived SIGKILL");
    d.pid = 0;
}

static char *slurp(const char *path, size_t *ret_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf;
    size_t got = 0;

    *ret_len = 0;
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return NULL;
    }
    buf = malloc((size_t)st.st_size + 1);
    cr_assert_not_null(buf);
    while (got < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    buf[got] = '\0';
    *ret_len = got;
    return buf;
}

/* ---- the raw verifier: every line of every segment through the format's own parser ---- */

struct jscan {
    size_t files, good, bad_mid, torn_tails, set_aside;
    /* Rotated segments never change: each is verified once. */
    char **seen;
    size_t n_seen, cap_seen;
};

static bool jscan_seen(struct jscan *s, const char *key)
{
    for (size_t i = 0; i < s->n_seen; i++)
        if (strcmp(s->seen[i], key) == 0)
            return true;
    if (s->n_seen == s->cap_seen) {
        s->cap_seen = s->cap_seen ? s->cap_seen * 2 : 256;
        s->seen = realloc(s->seen, s->cap_seen * sizeof(*s->seen));
        cr_assert_not_null(s->seen);
    }
    s->seen[s->n_seen++] = strdup(key);
    return false;
}

static void jscan_free(struct jscan *s)
{
    for (size_t i = 0; i < s->n_seen; i++)
        free(s->seen[i]);
    free(s->seen);
    s->seen = NULL;
    s->n_seen = s->cap_seen = 0;
}

/* Checks one segment. A bad last line of a current.journal is a torn tail (what a crash leaves
 * and the next start must mend); a bad line anywhere else is damage. */
static void jscan_file(struct jscan *s, const char *path, bool current)
{
    size_t len, lines = 0;
    char *buf = slurp(path, &len), *scratch;
    struct journal_record rec;

    if (!buf)
        return; /* retired meanwhile */
    s->files++;
    scratch = malloc(len + 1);
    cr_assert_not_null(scratch);
    for (size_t off = 0; off < len;) {
        char *nl = memchr(buf + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;
        bool last = !nl || (size_t)(nl - buf) + 1 == len;
        bool ok = nl && journal_record_parse(buf + off, n, scratch, &rec) == 0;

        lines++;
        if (ok)
            s->good++;
        else if (last && current)
            s->torn_tails++;
        else {
            s->bad_mid++;
            fprintf(stderr, "jverify: %s line %zu (offset %zu) is damaged\n", path, lines, off);
        }
        off += n + 1;
    }
    free(scratch);
    free(buf);
}

/* Checks every unit directory of the journal. */
static void jscan_all(struct jscan *s)
{
    DIR *top = opendir(d.log_dir), *ud;
    struct dirent *de, *fe;
    char path[PATH_MAX * 2], key[PATH_MAX];

    cr_assert_not_null(top, "opendir %s: %s", d.log_dir, strerror(errno));
    while ((de = readdir(top))) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", d.log_dir, de->d_name);
        ud = opendir(path);
        if (!ud)
            continue;
        while ((fe = readdir(ud))) {
            size_t n = strlen(fe->d_name);
            bool current = strcmp(fe->d_name, "current.journal") == 0;

            if (fe->d_name[0] == '.')
                continue;
            snprintf(key, sizeof(key), "%s/%s", de->d_name, fe->d_name);
            if (n > 0 && fe->d_name[n - 1] == '~') {
                if (!jscan_seen(s, key))
                    s->set_aside++;
                continue;
            }
            if (!current && (n < 8 || strcmp(fe->d_name + n - 8, ".journal") != 0))
                continue;
            if (!current && jscan_seen(s, key))
                continue;
            snprintf(path, sizeof(path), "%s/%s/%s", d.log_dir, de->d_name, fe->d_name);
            jscan_file(s, path, current);
        }
        closedir(ud);
    }
    closedir(top);
}

/* ======================================================================================== */
/* CLK-2: minisupd stopped (SIGSTOP) for a long time while one unit crash-loops with
 * RestartSec=1s, another is one start away from its start limit, and a third waits out its
 * TimeoutStopSec=. After SIGCONT each overdue timer fires once: no burst of restarts, the start
 * limit counts every start once, the stop timeout ends with SIGKILL at once, and the control
 * socket answers, including the client that asked to stop while the daemon was stopped. */

/* The catalogue says 20 s; 8 s is long enough for every timer here (1 s restarts, a 3 s stop
 * timeout, a 3 s start-limit window) to be overdue several times over, and keeps CI short. */
#define CLK2_STOP_MS 8000

struct clk2_log {
    uint64_t started[512];
    size_t n_started;
    unsigned counter[512];
    size_t n_counter;
    size_t too_quickly;
};

static int clk2_cb(const struct journal_record *r, void *ud)
{
    struct clk2_log *l = ud;
    char buf[256];
    const char *p;
    unsigned n;

    if (r->stream != JOURNAL_STREAM_MANAGER)
        return 0;
    /* Messages read "a.service: Started a.service.". */
    msg_text(r, buf, sizeof(buf));
    if (strstr(buf, ": Started ") && l->n_started < 512)
        l->started[l->n_started++] = r->monotonic_usec;
    else if ((p = strstr(buf, "Scheduled restart job, restart counter is at ")) &&
             sscanf(p, "Scheduled restart job, restart counter is at %u.", &n) == 1 &&
             l->n_counter < 512) {
        l->counter[l->n_counter++] = n;
    } else if (strstr(buf, "Start request repeated too quickly"))
        l->too_quickly++;
    return 0;
}

static void clk2_read(const char *unit, struct clk2_log *l)
{
    size_t skipped;
    int r;

    memset(l, 0, sizeof(*l));
    r = read_journal(unit, clk2_cb, l, &skipped);
    cr_assert(r >= 0, "journal_read(%s): %s", unit, strerror(-r));
}

static bool proc_stopped(void *arg)
{
    char state = 0;

    return harness_proc_ids((pid_t)(intptr_t)arg, &state, NULL, NULL, NULL) && state == 'T';
}

Test(faults, CLK_2_sigstop_then_sigcont_no_restart_burst)
{
    static const char *const T = "CLK_2_sigstop_then_sigcont_no_restart_burst";
    struct clk2_log la, lb;
    char stop_out[PATH_MAX];
    size_t a_before, a_first500 = 0, a_first1500 = 0, counter_jumps = 0;
    uint64_t t_stop, t_cont, t_ctl, c_down_us, min_gap_us = UINT64_MAX;
    int status, fd;
    pid_t stopper;
    json_t *u;

    /* a: a crash loop whose start limit is far away (10 starts in 3 s). */
    harness_write_unitf(&d, "a.service",
                        "[Unit]\nStartLimitIntervalSec=3s\nStartLimitBurst=10\n"
                        "[Service]\nExecStart=%s crash 1\nRestart=always\nRestartSec=1s\n" NO_LSAN,
                        HARNESS_TFX);
    /* b: a crash loop that must hit its limit at its 4th start, STOP or no STOP. */
    harness_write_unitf(&d, "b.service",
                        "[Unit]\nStartLimitIntervalSec=60s\nStartLimitBurst=3\n"
                        "[Service]\nExecStart=%s crash 1\nRestart=always\nRestartSec=1s\n" NO_LSAN,
                        HARNESS_TFX);
    /* c: ignores SIGTERM, so a stop waits out TimeoutStopSec= and ends with SIGKILL. */
    harness_write_unitf(&d, "c.service",
                        "[Service]\nExecStart=%s ignore-term\nTimeoutStopSec=3s\n" NO_LSAN,
                        HARNESS_TFX);
    harness_start(&d);
    ctl_ok("start", "c");
    cr_assert(harness_wait_journal_contains(&d, "c", "ready", 10000));
    {
        const char *args[] = {"start", "--no-block", "a", "b", NULL};
        ctl_okv(args);
    }
    /* b has had 2 of its 3 starts: the 3rd is the overdue timer, the 4th hits the limit. */
    cr_assert(harness_wait_journal_count(&d, "b", "Started", 2, 10000, NULL));

    /* The stop of c waits in stop-sigterm when the daemon is stopped; its client waits too. */
    harness_path(&d, stop_out, "stop-c.out");
    fd = open(stop_out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    cr_assert(fd >= 0);
    {
        const char *args[] = {"stop", "c", NULL};
        stopper = harness_ctl_spawn(&d, args, fd);
    }
    close(fd);
    harness_wait_state(&d, "c", "deactivating", NULL, 5000);

    clk2_read("a.service", &la);
    a_before = la.n_started;
    t_stop = now_us();
    cr_assert_eq(kill(d.pid, SIGSTOP), 0);
    cr_assert(wait_until(proc_stopped, (void *)(intptr_t)d.pid, 5000), "minisupd did not stop");
    pace_ms(CLK2_STOP_MS);
    t_cont = now_us();
    cr_assert_eq(kill(d.pid, SIGCONT), 0);

    /* Control answers at once. */
    ctl_ok("list-units", NULL);
    t_ctl = now_us() - t_cont;
    /* c's stop timeout is long overdue: SIGKILL now, not 3 s from now. */
    harness_wait_down(&d, "c", 10000);
    c_down_us = now_us() - t_cont;
    cr_assert(harness_wait_pid(stopper, 10000, &status), "the stop client never got its answer");
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the stop client that waited through the STOP ended with status 0x%x", status);
    /* b: the overdue restart is its 3rd start; its 4th hits the limit. */
    harness_wait_state(&d, "b", "failed", NULL, 10000);
    /* a: three more starts after CONT, so the spacing after the overdue one is seen too. */
    cr_assert(harness_wait_journal_count(&d, "a", "Started", a_before + 3, 15000, NULL),
              "a did not keep restarting after SIGCONT");

    clk2_read("a.service", &la);
    clk2_read("b.service", &lb);
    uint64_t prev = 0;
    for (size_t i = 0; i < la.n_started; i++) {
        uint64_t t = la.started[i];

        if (t < t_cont)
            continue;
        if (t < t_cont + 500000)
            a_first500++;
        if (t < t_cont + 1500000)
            a_first1500++;
        if (prev && t - prev < min_gap_us)
            min_gap_us = t - prev;
        prev = t;
    }
    for (size_t i = 1; i < la.n_counter; i++)
        if (la.counter[i] != la.counter[i - 1] + 1)
            counter_jumps++;
    u = harness_get_unit(&d, "a");
    char a_result[64];
    snprintf(a_result, sizeof(a_result), "%s", jstr(u, "result"));
    long a_restarts = (long)jint(u, "nRestarts");
    json_decref(u);
    u = harness_get_unit(&d, "b");
    char b_result[64];
    snprintf(b_result, sizeof(b_result), "%s", jstr(u, "result"));
    json_decref(u);

    fprintf(stderr,
            "CLK-2: stopped %.1f s; after CONT: control answered in %.0f ms, c killed after "
            "%.0f ms, a started %zu times in 500 ms (%zu in 1.5 s), min gap %.0f ms, restart "
            "counter jumps %zu, a's result %s (nRestarts %ld); b started %zu times, limit "
            "messages %zu, result %s\n",
            (double)(t_cont - t_stop) / 1e6, (double)t_ctl / 1000, (double)c_down_us / 1000,
            a_first500, a_first1500, (double)min_gap_us / 1000, counter_jumps, a_result, a_restarts,
            lb.n_started, lb.too_quickly, b_result);
    harness_metric(T, "stopped_ms", (double)(t_cont - t_stop) / 1000, 0);
    harness_metric(T, "control_answer_after_cont_ms", (double)t_ctl / 1000, 1000);
    harness_metric(T, "stop_timeout_sigkill_after_cont_ms", (double)c_down_us / 1000, 1000);
    harness_metric(T, "starts_first_500ms_after_cont", (double)a_first500, 1);
    harness_metric(T, "starts_first_1500ms_after_cont", (double)a_first1500, 2);
    harness_metric(T, "min_restart_gap_after_cont_ms", (double)min_gap_us / 1000, 1000);
    harness_metric(T, "restart_counter_jumps", (double)counter_jumps, 0);
    harness_metric(T, "limited_unit_starts", (double)lb.n_started, 3);
    harness_metric(T, "limited_unit_limit_hits", (double)lb.too_quickly, 1);

    cr_assert_leq(a_first500, 1, "%zu restarts within 500 ms of SIGCONT: a burst", a_first500);
    cr_assert_leq(a_first1500, 2, "%zu restarts within 1.5 s of SIGCONT (RestartSec=1s)",
                  a_first1500);
    cr_assert_geq(min_gap_us, 500000, "two restarts %.0f ms apart after SIGCONT (RestartSec=1s)",
                  (double)min_gap_us / 1000);
    cr_assert_eq(counter_jumps, 0, "the restart counter skipped values");
    cr_assert(la.n_counter > 0 && (long)la.counter[la.n_counter - 1] == a_restarts,
              "nRestarts %ld, but the journal's last restart counter is %u", a_restarts,
              la.n_counter ? la.counter[la.n_counter - 1] : 0);
    cr_assert_str_neq(a_result, "start-limit-hit",
                      "a (10 starts per 3 s) hit its start limit after the STOP");
    cr_assert_eq(lb.n_started, 3, "b (StartLimitBurst=3) started %zu times", lb.n_started);
    cr_assert_eq(lb.too_quickly, 1);
    cr_assert_str_eq(b_result, "start-limit-hit");
    /* A generous bound for "at once": the remaining stop timeout was at most 3 s. */
    cr_assert_lt(c_down_us, 2000000,
                 "c was killed %.0f ms after SIGCONT: its overdue stop timeout "
                 "did not fire at once",
                 (double)c_down_us / 1000);
    harness_stop(&d);
}

/* ======================================================================================== */
/* CRASH-2: minisupd killed with SIGKILL at random instants (100; the catalogue's 1000 would take
 * minutes) while three units flood a journal of 16 KiB segments: two print short lines at 20000
 * and 5000 a second (a rotation every ~120 lines), one writes 64 KiB at a time (every append
 * rotates, and its ~100 KiB writes are long enough for a kill to cut one short). minisupd is
 * started again after each kill. After each kill the journal reads back (journal_read() returns
 * no error; only a torn last line may be skipped); every line of every segment except a torn
 * tail of a current.journal passes the format's checksum, so each restart mended what the
 * previous crash left; sequence numbers go up within each unit and each run's lines are
 * contiguous. The instants a kill rarely hits by chance are also made by hand, each in every
 * fourth round: a last line torn in the middle (a crash inside write(2)), so the repair is
 * exercised and its log line checked (JRN-1); and the newest current.journal renamed to its
 * rotated name with no successor (a crash between the two steps of a rotation). */

#define CRASH2_UNITS 3

struct crash2_check {
    const char *unit[CRASH2_UNITS];
    uint64_t last_seq[CRASH2_UNITS];
    size_t seq_backwards, records;
    /* Per run (pid) of each unit: the last payload index. */
    struct {
        pid_t pid;
        long last;
        int unit;
    } runs[512];
    size_t n_runs, gaps, unparsed;
};

/* How many more problems crash2_cb() describes on stderr (the same ones are read every round). */
static int crash2_diag = 20;

static int crash2_cb(const struct journal_record *r, void *ud)
{
    struct crash2_check *c = ud;
    char buf[128];
    int u = -1;
    long i;
    size_t k;

    for (int j = 0; j < CRASH2_UNITS; j++)
        if (strcmp(r->unit, c->unit[j]) == 0)
            u = j;
    c->records++;
    if (u < 0)
        return 0;
    if (r->seq <= c->last_seq[u] && c->seq_backwards++ < 5 && crash2_diag-- > 0)
        fprintf(stderr, "jverify: %s: seq %llu after %llu\n", r->unit, (unsigned long long)r->seq,
                (unsigned long long)c->last_seq[u]);
    c->last_seq[u] = r->seq;
    if (r->stream != JOURNAL_STREAM_STDOUT)
        return 0;
    if (sscanf(msg_text(r, buf, sizeof(buf)), "%*[a-z]:%ld", &i) != 1) {
        c->unparsed++;
        return 0;
    }
    for (k = 0; k < c->n_runs && (c->runs[k].pid != r->pid || c->runs[k].unit != u); k++)
        ;
    if (k == c->n_runs) {
        if (k == 512)
            return 0;
        c->runs[k].pid = r->pid;
        c->runs[k].unit = u;
        c->runs[k].last = i - 1; /* the oldest run may have lost its start to retention */
        c->n_runs++;
    }
    if (i != c->runs[k].last + 1 && c->gaps++ < 5 && crash2_diag-- > 0)
        fprintf(stderr, "jverify: %s: pid %d line %ld after %ld (seq %llu)\n", r->unit, (int)r->pid,
                i, c->runs[k].last, (unsigned long long)r->seq);
    c->runs[k].last = i;
    return 0;
}

/* The seq and realtime of the first and last lines of the unit's current.journal, when both
 * check out (a file that ends cleanly). */
static bool current_ends(const char *unit, uint64_t *first_seq, uint64_t *first_rt,
                         uint64_t *last_seq)
{
    char path[PATH_MAX * 2], *buf, *scratch, *nl;
    struct journal_record rec;
    size_t len, start;
    bool ok = false;

    snprintf(path, sizeof(path), "%s/%s/current.journal", d.log_dir, unit);
    buf = slurp(path, &len);
    if (!buf || len == 0 || buf[len - 1] != '\n') {
        free(buf);
        return false;
    }
    scratch = malloc(len + 1);
    cr_assert_not_null(scratch);
    nl = memchr(buf, '\n', len);
    if (journal_record_parse(buf, (size_t)(nl - buf), scratch, &rec) == 0) {
        *first_seq = rec.seq;
        *first_rt = rec.realtime_usec;
        for (start = len - 1; start > 0 && buf[start - 1] != '\n'; start--)
            ;
        if (journal_record_parse(buf + start, len - 1 - start, scratch, &rec) == 0) {
            *last_seq = rec.seq;
            ok = true;
        }
    }
    free(scratch);
    free(buf);
    return ok;
}

/* Of the units, the one whose current.journal holds the newest record (the store's highest
 * seq), renamed to its rotated name with no new current.journal: what a kill between the rename
 * of a rotation and the creation of the next segment leaves. Only a file that ends cleanly, as
 * one being rotated does. Returns the unit, or NULL. */
static const char *rotate_newest_without_successor(const char *const *units, size_t n)
{
    uint64_t best = 0, best_first = 0, best_rt = 0, f, rt, l;
    const char *unit = NULL;
    char from[PATH_MAX * 2], to[PATH_MAX * 2];

    for (size_t i = 0; i < n; i++)
        if (current_ends(units[i], &f, &rt, &l) && l > best) {
            best = l;
            best_first = f;
            best_rt = rt;
            unit = units[i];
        }
    if (!unit)
        return NULL;
    snprintf(from, sizeof(from), "%s/%s/current.journal", d.log_dir, unit);
    snprintf(to, sizeof(to), "%s/%s/@%016llx-%016llx.journal", d.log_dir, unit,
             (unsigned long long)best_first, (unsigned long long)best_rt);
    if (access(to, F_OK) == 0 || rename(from, to) < 0)
        return NULL;
    return unit;
}

/* Cuts the unit's current.journal in the middle of its last line, as a write cut short by the
 * crash would. Returns whether it did. */
static bool tear_last_line(const char *unit)
{
    char path[PATH_MAX * 2];
    size_t len, start;
    char *buf;
    bool done = false;

    snprintf(path, sizeof(path), "%s/%s/current.journal", d.log_dir, unit);
    buf = slurp(path, &len);
    if (buf && len > 2 && buf[len - 1] == '\n') {
        for (start = len - 1; start > 0 && buf[start - 1] != '\n'; start--)
            ;
        if (len - start > 2)
            done = truncate(path, (off_t)(start + (len - start) / 2)) == 0;
    }
    free(buf);
    return done;
}

Test(faults, CRASH_2_kill_9_during_writes_and_rotation, .timeout = 150)
{
    static const char *const T = "CRASH_2_kill_9_during_writes_and_rotation";
    const int rounds = SCALE(100, 50);
    const char *const extra[] = {"--journal-max-file-size", "16K", "--journal-max-use", "8M", NULL};
    const struct harness_start_opts o = {.extra_args = extra};
    const char *env_seed = getenv("MINISUP_FAULTS_SEED");
    unsigned seed = env_seed ? (unsigned)strtoul(env_seed, NULL, 10)
                             : (unsigned)time(NULL) ^ (unsigned)getpid();
    struct jscan js = {0};
    size_t read_errors = 0, skipped_beyond_torn = 0, skipped_total = 0, torn_rounds = 0;
    size_t natural_torn = 0, injected_tears = 0, injected_rotations = 0, seq_rounds = 0,
           gap_rounds = 0, seq_total = 0, bad_mid_rounds = 0;
    int first_read_error = 0;
    char *log;

    fprintf(stderr, "CRASH-2: seed %u (set MINISUP_FAULTS_SEED to repeat)\n", seed);
    harness_write_unitf(
        &d, "f1.service",
        "[Service]\nExecStart=%s seq 100000000 --rate 20000 --prefix a\n" NO_RATELIMIT NO_LSAN
        "\n[Install]\nWantedBy=multi-user.target\n",
        HARNESS_TFX);
    harness_write_unitf(
        &d, "f2.service",
        "[Service]\nExecStart=%s seq 100000000 --rate 5000 --prefix b\n" NO_RATELIMIT NO_LSAN
        "\n[Install]\nWantedBy=multi-user.target\n",
        HARNESS_TFX);
    /* f3: 64 KiB writes at full speed, so the daemon's appends are ~100 KiB writes that a
     * SIGKILL can cut short (a real torn tail). */
    harness_write_unitf(&d, "f3.service",
                        "[Unit]\nStartLimitBurst=0\n[Service]\nExecStart=%s flood 2000000\n"
                        "Restart=always\nRestartSec=50ms\n" NO_RATELIMIT NO_LSAN
                        "\n[Install]\nWantedBy=multi-user.target\n",
                        MINISUP_HELPER_DIR "/rfx");

    for (int k = 0; k < rounds; k++) {
        struct main_pid_wait mw = {"f1", 0};
        struct crash2_check c = {.unit = {"f1.service", "f2.service", "f3.service"}};
        size_t torn0 = js.torn_tails, bad0 = js.bad_mid, skipped = 0, torn;
        int r;

        harness_start_with(&d, &o);
        cr_assert(wait_until(has_main_pid, &mw, 10000), "round %d: f1 did not start", k);
        /* A random instant 0..80 ms into the flood: mid-write, mid-rotation, or in between. */
        pace_ms((int)(rand_r(&seed) % 81));
        kill_daemon_hard();

        /* The journal as this crash left it. */
        jscan_all(&js);
        torn = js.torn_tails - torn0;
        natural_torn += torn;
        if (js.bad_mid > bad0)
            bad_mid_rounds++;
        r = read_journal(NULL, crash2_cb, &c, &skipped);
        if (r < 0) {
            if (!read_errors)
                first_read_error = -r;
            read_errors++;
        }
        skipped_total += skipped;
        if (skipped > torn)
            skipped_beyond_torn += skipped - torn;
        if (c.seq_backwards) {
            seq_rounds++;
            seq_total += c.seq_backwards;
        }
        if (c.gaps)
            gap_rounds++;
        if (k % 4 == 1 && rotate_newest_without_successor(c.unit, CRASH2_UNITS))
            injected_rotations++;
        if (k % 4 == 3 && tear_last_line("f1.service")) {
            injected_tears++;
            torn++;
        }
        if (torn)
            torn_rounds++;
    }

    /* The last restart mends the last crash; a clean stop leaves nothing torn. */
    harness_start_with(&d, &o);
    harness_stop(&d);
    size_t torn_before_final = js.torn_tails;
    jscan_all(&js);
    size_t torn_after_clean_stop = js.torn_tails - torn_before_final;
    struct crash2_check c = {.unit = {"f1.service", "f2.service", "f3.service"}};
    size_t final_skipped = 0;
    int final_r = read_journal(NULL, crash2_cb, &c, &final_skipped);
    log = harness_read(&d, "minisupd.log");
    size_t cut_lines = log ? count_substr(log, "Journal: cut") : 0;
    free(log);

    fprintf(stderr,
            "CRASH-2: %d kills; torn tails: %zu left by the kills, %zu made by the test, in %zu "
            "rounds; %zu rotations cut short by the test; %zu segments verified, %zu good lines, "
            "%zu damaged lines inside files (in %zu rounds), %zu set aside; journal_read errors "
            "%zu (first %s), skipped %zu (%zu beyond torn tails); seq out of order %zu times in "
            "%zu rounds, runs with gaps in %zu rounds; final: %zu records, %zu runs, %zu gaps, "
            "%zu seq out of order, %zu skipped; 'Journal: cut' log lines %zu\n",
            rounds, natural_torn, injected_tears, torn_rounds, injected_rotations, js.files,
            js.good, js.bad_mid, bad_mid_rounds, js.set_aside, read_errors,
            read_errors ? strerror(first_read_error) : "-", skipped_total, skipped_beyond_torn,
            seq_total, seq_rounds, gap_rounds, c.records, c.n_runs, c.gaps, c.seq_backwards,
            final_skipped, cut_lines);
    harness_metric(T, "kills", rounds, 0);
    harness_metric(T, "segments_verified", (double)js.files, 0);
    harness_metric(T, "torn_tails_from_kills", (double)natural_torn, 0);
    harness_metric(T, "torn_tails_injected", (double)injected_tears, 0);
    harness_metric(T, "rotations_cut_short_injected", (double)injected_rotations, 0);
    harness_metric(T, "set_aside_files", (double)js.set_aside, 0);
    harness_metric(T, "unreadable_journals", (double)read_errors, 0);
    harness_metric(T, "damaged_lines_not_at_a_tail", (double)js.bad_mid, 0);
    harness_metric(T, "skipped_beyond_torn_tails", (double)skipped_beyond_torn, 0);
    harness_metric(T, "seq_out_of_order", (double)seq_total, 0);
    harness_metric(T, "rounds_with_seq_out_of_order", (double)seq_rounds, 0);
    harness_metric(T, "rounds_with_gaps_in_a_run", (double)gap_rounds, 0);
    harness_metric(T, "final_records", (double)c.records, 0);
    harness_metric(T, "final_runs", (double)c.n_runs, 0);
    harness_metric(T, "final_gaps", (double)c.gaps, 0);
    harness_metric(T, "final_seq_out_of_order", (double)c.seq_backwards, 0);
    harness_metric(T, "final_damaged_records", (double)final_skipped, 0);
    harness_metric(T, "repair_log_lines", (double)cut_lines, (double)torn_rounds);
    jscan_free(&js);

    /* Independent checks: each reports on its own. */
    cr_expect_eq(read_errors, 0, "journal_read failed %zu times after a kill (first: %s)",
                 read_errors, strerror(first_read_error));
    cr_expect_eq(js.bad_mid, 0,
                 "%zu damaged lines inside segments (in %zu rounds): a torn tail was not cut "
                 "before appending, or a write was mangled",
                 js.bad_mid, bad_mid_rounds);
    cr_expect_eq(skipped_beyond_torn, 0, "the reader skipped %zu records beyond the torn tails",
                 skipped_beyond_torn);
    cr_expect_eq(final_r, 0, "final journal_read: %s", strerror(-final_r));
    cr_expect_eq(final_skipped, 0, "%zu damaged records after the last clean stop", final_skipped);
    cr_expect_eq(torn_after_clean_stop, 0, "torn tails left after a restart and a clean stop");
    cr_expect_eq(seq_total + c.seq_backwards, 0,
                 "a unit's sequence numbers went backwards %zu times, in the reads of %zu of %d "
                 "rounds (the test cut %zu rotations short): a restart reused sequence numbers "
                 "that were already on disk",
                 seq_total, seq_rounds, rounds, injected_rotations);
    cr_expect_eq(gap_rounds + c.gaps, 0, "%zu rounds read a run's lines with gaps", gap_rounds);
    cr_expect_geq(c.n_runs, 2, "only %zu runs in the journal", c.n_runs);
    /* JRN-1: minisupd "logs one line saying which" (cut or set aside) whenever it repairs. */
    cr_expect_geq(cut_lines, torn_rounds,
                  "%zu restarts mended a torn tail but minisupd.log has %zu 'Journal: cut ...' "
                  "lines (JRN-1: one line saying what was cut or set aside)",
                  torn_rounds, cut_lines);
}

/* ======================================================================================== */
/* DISK-3: ENOSPC at awkward moments, injected by tests/faults/faultshim.c preloaded into
 * minisupd: every 3rd creation/opening of a segment for writing (the new current.journal after a
 * rotation), every 3rd write (half written, then ENOSPC, as a filling disk does) and every 3rd
 * fsync of the journal fails, 1000 failures in all. Meanwhile a flood unit is started run after
 * run, another unit crash-loops and a third is started and stopped. Expect: minisupd never dies
 * and keeps supervising and answering; every line on disk checks out (a failed write is rolled
 * back, the old segments stay readable); every stdout line that was not stored is counted in a
 * "Journal: N records of flood.service could not be stored" notice, and the notices count no
 * more than the failed appends could have lost. The format has no file header, so "when writing
 * a header" is the first write to a new segment, which the write faults cover. */

#define DISK3_LIMIT 1000
#define DISK3_LINES 5000

struct fault_stats {
    unsigned long open, write, sync, total;
};

static bool read_fault_stats(const char *path, struct fault_stats *s)
{
    FILE *f = fopen(path, "re");
    bool ok;

    memset(s, 0, sizeof(*s));
    if (!f)
        return false;
    ok = fscanf(f, "open %lu write %lu sync %lu total %lu", &s->open, &s->write, &s->sync,
                &s->total) == 4;
    fclose(f);
    return ok;
}

struct disk3_check {
    long stored[256], last[256];
    long backwards, other_lines;
    unsigned long long reported;
    size_t notices;
};

static int disk3_cb(const struct journal_record *r, void *ud)
{
    struct disk3_check *c = ud;
    char buf[512];
    const char *m = msg_text(r, buf, sizeof(buf)), *p;
    long run, i;
    unsigned long long n;

    if (r->stream == JOURNAL_STREAM_STDOUT && sscanf(m, "f:%ld:%ld:", &run, &i) == 2 && run > 0 &&
        run < 256) {
        if (c->stored[run] > 0 && i <= c->last[run])
            c->backwards++;
        c->last[run] = i;
        c->stored[run]++;
    } else if (r->stream == JOURNAL_STREAM_MANAGER && (p = strstr(m, "Journal: ")) &&
               sscanf(p, "Journal: %llu records of flood.service could not be stored", &n) == 1) {
        c->reported += n;
        c->notices++;
    } else if (r->stream == JOURNAL_STREAM_STDOUT)
        c->other_lines++;
    return 0;
}

static bool daemon_alive(void)
{
    int status;

    return d.pid > 0 && waitpid(d.pid, &status, WNOHANG) == 0;
}

Test(faults, DISK_3_enospc_on_rotation_write_and_fsync, .timeout = 150)
{
    static const char *const T = "DISK_3_enospc_on_rotation_write_and_fsync";
    char stats[PATH_MAX], conf[PATH_MAX], counter[PATH_MAX], *log;
    static char env_preload[PATH_MAX + 32], env_dir[PATH_MAX + 32], env_stats[PATH_MAX + 32];
    struct fault_stats fs = {0};
    struct disk3_check c = {0};
    struct jscan js = {0};
    long runs = 0, emitted, stored = 0, other_toggles = 0, ctl_calls = 0, loop_restarts0,
         loop_restarts1;
    bool daemon_died = false;
    size_t skipped = 0;
    uint64_t t0;
    json_t *u;
    FILE *f;

    if (SANITIZED)
        SKIP_TEST(T, "DISK-3 preloads a fault-injection shim into minisupd, and an ASan "
                     "executable refuses a preloaded library ahead of its runtime (\"ASan runtime "
                     "does not come first\"); it runs in the plain build");
    cr_assert(access(MINISUP_FAULTSHIM, R_OK) == 0, "%s is not built", MINISUP_FAULTSHIM);

    harness_path(&d, stats, "faults.stats");
    harness_path(&d, conf, "journal.conf");
    harness_path(&d, counter, "flood.count");
    f = fopen(conf, "we");
    cr_assert_not_null(f);
    /* fsync the journal every 50 ms, so fsync faults come often. */
    fprintf(f, "[Journal]\nSyncIntervalSec=50ms\n");
    fclose(f);
    snprintf(env_preload, sizeof(env_preload), "LD_PRELOAD=%s", MINISUP_FAULTSHIM);
    snprintf(env_dir, sizeof(env_dir), "MINISUP_FAULT_DIR=%s", d.log_dir);
    snprintf(env_stats, sizeof(env_stats), "MINISUP_FAULT_STATS=%s", stats);
    const char *const wrapper[] = {"env",
                                   env_preload,
                                   env_dir,
                                   env_stats,
                                   "MINISUP_FAULT_EVERY=3",
                                   "MINISUP_FAULT_LIMIT=" STR(DISK3_LIMIT),
                                   NULL};
    const char *const extra[] = {"--journal-max-file-size", "8K", "--config", conf, NULL};
    const struct harness_start_opts o = {.wrapper = wrapper, .extra_args = extra};

    harness_write_unitf(&d, "flood.service",
                        "[Unit]\nStartLimitBurst=0\n[Service]\nExecStart=%s seq %d --counter %s "
                        "--prefix f\n" NO_RATELIMIT NO_LSAN,
                        HARNESS_TFX, DISK3_LINES, counter);
    harness_write_unitf(
        &d, "loop.service",
        "[Unit]\nStartLimitBurst=0\n"
        "[Service]\nExecStart=%s crash 1\nRestart=always\nRestartSec=100ms\n" NO_LSAN,
        HARNESS_TFX);
    harness_write_unitf(&d, "other.service",
                        "[Unit]\nStartLimitBurst=0\n[Service]\nExecStart=%s sleep 3600\n" NO_LSAN,
                        HARNESS_TFX);
    harness_start_with(&d, &o);
    {
        const char *args[] = {"start", "--no-block", "loop", NULL};
        ctl_okv(args);
    }
    u = harness_get_unit(&d, "loop");
    loop_restarts0 = (long)jint(u, "nRestarts");
    json_decref(u);

    /* Runs of the flood until the shim has injected all its failures (bounded: 90 s). */
    t0 = harness_now_ms();
    while (harness_now_ms() - t0 < 90000) {
        read_fault_stats(stats, &fs);
        if (fs.total >= DISK3_LIMIT)
            break;
        ctl_ok("start", "flood");
        harness_wait_down(&d, "flood", 60000);
        runs++;
        /* Supervision goes on: another unit starts and stops, control answers. */
        ctl_ok(runs % 2 ? "start" : "stop", "other");
        harness_wait_state(&d, "other", runs % 2 ? "active" : "inactive", NULL, 10000);
        other_toggles++;
        ctl_ok("list-units", NULL);
        ctl_calls += 4;
        if (!daemon_alive()) {
            daemon_died = true;
            break;
        }
    }
    cr_assert(!daemon_died, "minisupd died under injected ENOSPC (after %lu failures)", fs.total);
    read_fault_stats(stats, &fs);
    /* One more run with a disk that works again: everything is stored, and the counts of what
     * was lost before are written out with the first record that goes in. */
    ctl_ok("start", "flood");
    harness_wait_down(&d, "flood", 60000);
    runs++;
    u = harness_get_unit(&d, "loop");
    loop_restarts1 = (long)jint(u, "nRestarts");
    json_decref(u);
    ctl_ok("stop", "loop");
    {
        char *out = NULL;
        int rc = harness_ctl(&d, &out, NULL, "status", "flood", NULL);

        cr_assert(rc == 0 || rc == 3, "status flood exited %d", rc);
        free(out);
    }
    cr_assert(daemon_alive(), "minisupd died after the faults");

    int r = read_journal("flood.service", disk3_cb, &c, &skipped);
    cr_assert(r >= 0, "journal_read: %s", strerror(-r));
    jscan_all(&js);
    for (long k = 1; k <= runs && k < 256; k++)
        stored += c.stored[k];
    emitted = runs * DISK3_LINES;
    long lost = emitted - stored;
    long last_run_stored = runs < 256 ? c.stored[runs] : -1;
    unsigned long long bound = (unsigned long long)lost + fs.open + fs.write;
    log = harness_read(&d, "minisupd.log");
    size_t self_log = log ? count_substr(log, "No space left") : 0;
    free(log);

    fprintf(stderr,
            "DISK-3: %lu ENOSPC injected (open %lu, write %lu, fsync %lu) over %ld flood runs; "
            "%ld lines emitted, %ld stored, %ld lost; %zu notices report %llu lost records "
            "(bound %llu); last run stored %ld of %d; loop restarted %ld times meanwhile; %zu "
            "segments, %zu good lines, %zu damaged, %zu torn tails; %zu records skipped\n",
            fs.total, fs.open, fs.write, fs.sync, runs, emitted, stored, lost, c.notices,
            c.reported, bound, last_run_stored, DISK3_LINES, loop_restarts1 - loop_restarts0,
            js.files, js.good, js.bad_mid, js.torn_tails, skipped);
    harness_metric(T, "enospc_injected", (double)fs.total, DISK3_LIMIT);
    harness_metric(T, "enospc_on_open", (double)fs.open, 0);
    harness_metric(T, "enospc_on_write", (double)fs.write, 0);
    harness_metric(T, "enospc_on_fsync", (double)fs.sync, 0);
    harness_metric(T, "daemon_deaths", daemon_died, 0);
    harness_metric(T, "flood_runs", (double)runs, 0);
    harness_metric(T, "lines_emitted", (double)emitted, 0);
    harness_metric(T, "lines_stored", (double)stored, 0);
    harness_metric(T, "lines_lost", (double)lost, 0);
    harness_metric(T, "records_reported_lost", (double)c.reported, (double)bound);
    harness_metric(T, "lost_notices", (double)c.notices, 0);
    harness_metric(T, "lost_lines_not_reported",
                   (double)((long long)lost - (long long)c.reported > 0
                                ? (long long)lost - (long long)c.reported
                                : 0),
                   0);
    harness_metric(T, "crash_loop_restarts_during_faults",
                   (double)(loop_restarts1 - loop_restarts0), 0);
    harness_metric(T, "control_calls_answered", (double)ctl_calls, 0);
    harness_metric(T, "damaged_lines", (double)(js.bad_mid + js.torn_tails), 0);
    harness_metric(T, "damaged_records_skipped", (double)skipped, 0);
    harness_metric(T, "minisupd_log_lines_about_enospc", (double)self_log, 0);
    jscan_free(&js);

    cr_assert_geq(fs.total, DISK3_LIMIT, "only %lu failures injected in 90 s", fs.total);
    cr_assert_gt(fs.open, 0, "no segment creation failed: rotations did not happen");
    cr_assert_gt(fs.sync, 0, "no fsync failed");
    cr_assert_eq(js.bad_mid + js.torn_tails, 0,
                 "%zu damaged lines on disk: a failed write was not rolled back",
                 js.bad_mid + js.torn_tails);
    cr_assert_eq(skipped, 0);
    cr_assert_eq(c.backwards, 0, "%ld lines stored out of order or twice", c.backwards);
    cr_assert_eq(c.other_lines, 0, "%ld unexpected stdout lines", c.other_lines);
    cr_assert_eq(last_run_stored, DISK3_LINES,
                 "after the faults stopped, %ld of %d lines of a run were stored", last_run_stored,
                 DISK3_LINES);
    cr_assert_gt(loop_restarts1 - loop_restarts0, 2, "the crash loop stalled during the faults");
    cr_assert_geq((long long)c.reported, (long long)lost,
                  "%ld stdout lines were lost but only %llu records were reported lost", lost,
                  c.reported);
    cr_assert_leq(c.reported, bound,
                  "%llu records reported lost: more than the %ld lost lines plus one record per "
                  "failed append (%lu)",
                  c.reported, lost, fs.open + fs.write);
    harness_stop(&d);
}

/* ======================================================================================== */
/* DISK-4: a disk that stalls without failing (a hung NFS server, a saturated device). The shim
 * blocks every write and fsync of a journal file while a trigger file exists. Meanwhile a unit
 * floods its stdout and another ticks a line every 20 ms. Expect: minisupd's event loop never
 * waits for the disk: `is-active`, `status` and `list-units` answer within a short deadline
 * while the journal writer is stuck; the in-memory queue is bounded, so minisupd stops reading
 * the flood's pipe and the flood blocks in write() instead of losing lines; once the disk moves
 * again, every line of both units is in the journal exactly once, in order. */

/* Enough lines to fill more than the queue (2 MiB) and a flooding stream's grown pipe (1 MiB)
 * at about 14 bytes a line, so the flood must block. */
#define DISK4_LINES 400000
/* A short deadline for each minisupctl call while the disk is stalled: the old synchronous
 * journal blocked the loop for as long as the disk did, so it failed this at once. */
#define DISK4_CTL_DEADLINE_MS 5000

static bool file_exists(void *path)
{
    return access(path, F_OK) == 0;
}

/* The process is asleep inside write(1, ...): its stdout pipe is full and nobody reads it. */
static bool blocked_writing_stdout(void *arg)
{
    pid_t pid = (pid_t)(intptr_t)arg;
    char path[64], state = 0;
    long nr = -1;
    unsigned long fd = 99;
    FILE *f;

    if (!harness_proc_ids(pid, &state, NULL, NULL, NULL) || state != 'S')
        return false;
    snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return false;
    if (fscanf(f, "%ld 0x%lx", &nr, &fd) != 2)
        nr = -1;
    fclose(f);
    return nr == SYS_write && fd == 1;
}

struct disk4_check {
    long next[2]; /* the next line number expected of flood (0) and ticker (1) */
    long stored[2], out_of_order[2];
    size_t lost_notices;
};

static int disk4_cb(const struct journal_record *r, void *ud)
{
    struct disk4_check *c = ud;
    char buf[256];
    const char *m = msg_text(r, buf, sizeof(buf));
    long run, i;
    int k;

    if (r->stream == JOURNAL_STREAM_MANAGER && strstr(m, "could not be stored"))
        c->lost_notices++;
    if (r->stream != JOURNAL_STREAM_STDOUT)
        return 0;
    if (sscanf(m, "f:%ld:%ld:", &run, &i) == 2)
        k = 0;
    else if (sscanf(m, "t:%ld:%ld:", &run, &i) == 2)
        k = 1;
    else
        return 0;
    if (i != c->next[k] + 1)
        c->out_of_order[k]++;
    c->next[k] = i;
    c->stored[k]++;
    return 0;
}

Test(faults, DISK_4_stalled_disk_blocks_writers_not_the_loop, .timeout = 180)
{
    static const char *const T = "DISK_4_stalled_disk_blocks_writers_not_the_loop";
    char stall[PATH_MAX], stalled[PATH_MAX + 16], counter[PATH_MAX], tcounter[PATH_MAX];
    static char env_preload[PATH_MAX + 32], env_dir[PATH_MAX + 32], env_stall[PATH_MAX + 32];
    struct main_pid_wait flood = {.unit = "flood"}, ticker = {.unit = "ticker"};
    struct disk4_check c = {{0, 0}, {0, 0}, {0, 0}, 0};
    size_t skipped = 0;
    long rss0, rss1, ticker_emitted;
    int calls = 0, fd;

    cr_assert(access(MINISUP_FAULTSHIM, R_OK) == 0, "%s is not built", MINISUP_FAULTSHIM);
    harness_path(&d, stall, "stall");
    snprintf(stalled, sizeof(stalled), "%s.stalled", stall);
    harness_path(&d, counter, "flood.count");
    harness_path(&d, tcounter, "ticker.count");
    snprintf(env_preload, sizeof(env_preload), "LD_PRELOAD=%s", MINISUP_FAULTSHIM);
    snprintf(env_dir, sizeof(env_dir), "MINISUP_FAULT_DIR=%s", d.log_dir);
    snprintf(env_stall, sizeof(env_stall), "MINISUP_FAULT_STALL=%s", stall);
    /* ASan wants its runtime first in the library list; the shim only wraps libc calls, so the
     * sanitized build may let it go first (DISK-3 predates this and skips instead). */
    const char *const wrapper[] = {
        "env",
        env_preload,
        env_dir,
        env_stall,
        "MINISUP_FAULT_EVERY=0",
        SANITIZED ? "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:verify_asan_link_order=0"
                  : "MINISUP_FAULT_LIMIT=0",
        NULL};
    const struct harness_start_opts o = {.wrapper = wrapper};

    harness_write_unitf(
        &d, "flood.service",
        "[Service]\nExecStart=%s seq %d --counter %s --prefix f\n" NO_RATELIMIT NO_LSAN,
        HARNESS_TFX, DISK4_LINES, counter);
    harness_write_unitf(&d, "ticker.service",
                        "[Service]\nExecStart=%s seq 1000000 --rate 50 --counter %s --prefix t\n"
                        "KillMode=process\n" NO_RATELIMIT NO_LSAN,
                        HARNESS_TFX, tcounter);
    harness_write_unitf(&d, "quiet.service", "[Service]\nExecStart=%s sleep 3600\n" NO_LSAN,
                        HARNESS_TFX);
    harness_start_with(&d, &o);
    ctl_ok("start", "quiet");
    ctl_ok("start", "ticker");
    cr_assert(harness_wait_journal_contains(&d, "ticker", "t:1:1:", 10000));
    rss0 = harness_status_kib(d.pid, "VmRSS");

    /* The disk stalls; the flood starts. */
    fd = open(stall, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    cr_assert(fd >= 0);
    close(fd);
    ctl_ok("start", "flood");
    cr_assert(wait_until(has_main_pid, &flood, 10000), "flood has no main pid");
    cr_assert(wait_until(has_main_pid, &ticker, 10000), "ticker has no main pid");
    cr_assert(wait_until(file_exists, stalled, 20000), "the journal writer never met the stall");
    cr_assert(wait_until(blocked_writing_stdout, (void *)(intptr_t)flood.pid, 30000),
              "the flood never blocked in write(): minisupd kept reading with the disk stalled");

    /* The loop answers while the writer is stuck. */
    d.ctl_timeout_ms = DISK4_CTL_DEADLINE_MS;
    for (int k = 0; k < 5; k++) {
        char *out = NULL;
        int rc = harness_ctl(&d, &out, NULL, "is-active", "quiet", NULL);

        cr_assert_eq(rc, 0, "is-active quiet exited %d while the disk stalled", rc);
        cr_assert(out && strncmp(out, "active", 6) == 0, "is-active quiet said '%s'", out);
        free(out);
        rc = harness_ctl(&d, &out, NULL, "status", "quiet", NULL);
        cr_assert_eq(rc, 0, "status quiet exited %d while the disk stalled", rc);
        free(out);
        ctl_ok("list-units", NULL);
        calls += 3;
    }
    d.ctl_timeout_ms = HARNESS_CTL_TIMEOUT_MS;
    /* Still stalled, still blocked, nothing dropped: the flood has not finished its lines. */
    cr_assert(file_exists(stall));
    cr_assert(blocked_writing_stdout((void *)(intptr_t)flood.pid),
              "the flood is no longer blocked while the disk is stalled");
    rss1 = harness_status_kib(d.pid, "VmRSS");

    /* The disk moves again: everything is stored, in order, once. */
    cr_assert_eq(unlink(stall), 0);
    harness_wait_down(&d, "flood", 120000);
    ctl_ok("stop", "ticker");
    harness_wait_down(&d, "ticker", 30000);
    int r = read_journal(NULL, disk4_cb, &c, &skipped);
    cr_assert(r >= 0, "journal_read: %s", strerror(-r));
    /* The ticker was stopped at some line: lines 1 to that one, each once, is all of it. */
    ticker_emitted = c.next[1];
    fprintf(stderr,
            "DISK-4: %d control calls answered while the disk stalled; flood %ld of %d lines "
            "stored (%ld out of order), ticker %ld of %ld (%ld out of order); VmRSS %ld -> %ld "
            "KiB while stalled\n",
            calls, c.stored[0], DISK4_LINES, c.out_of_order[0], c.stored[1], ticker_emitted,
            c.out_of_order[1], rss0, rss1);
    harness_metric(T, "control_calls_answered_while_stalled", calls, 0);
    harness_metric(T, "flood_lines_stored", (double)c.stored[0], DISK4_LINES);
    harness_metric(T, "flood_lines_out_of_order", (double)c.out_of_order[0], 0);
    harness_metric(T, "ticker_lines_stored", (double)c.stored[1], (double)ticker_emitted);
    harness_metric(T, "ticker_lines_out_of_order", (double)c.out_of_order[1], 0);
    harness_metric(T, "rss_growth_while_stalled_mib", (double)(rss1 - rss0) / 1024.0, 32);
    cr_assert_eq(c.stored[0], DISK4_LINES, "%ld of %d flood lines stored", c.stored[0],
                 DISK4_LINES);
    cr_assert_eq(c.out_of_order[0], 0, "flood lines out of order, missing or twice");
    cr_assert_eq(c.stored[1], ticker_emitted, "%ld of %ld ticker lines stored", c.stored[1],
                 ticker_emitted);
    cr_assert_eq(c.out_of_order[1], 0, "ticker lines out of order, missing or twice");
    cr_assert_eq(c.lost_notices, 0, "records were reported lost");
    cr_assert_eq(skipped, 0);
    if (!SANITIZED)
        cr_assert_lt(rss1 - rss0, 32 * 1024, "minisupd's memory grew by %ld KiB while stalled",
                     rss1 - rss0);
    harness_stop(&d);
}
