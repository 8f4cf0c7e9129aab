/* The reliability catalogue (RELIABILITY.md §2) for the IDs no other suite covers: crash storms,
 * races, reaping bursts, exit-status fidelity, process limits, log integrity through the real
 * daemon, crashes of minisupd itself, control-socket abuse, the exec environment, PID reuse, unit
 * directory tricks and a full disk. Each test is named <ID>_<what>; each prints its figures with
 * harness_metric() (one JSON line each, collected by scripts/reliability) and asserts only on
 * counts (lost lines, zombies, survivors, leaked fds, wrong answers), never on timings. A test
 * that cannot run here says why, as a JSON line and through cr_skip_test(). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "harness.h"
#include "journal_file.h"
#include "varlink.h"

#define RFX MINISUP_HELPER_DIR "/rfx"

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

/* The larger of the two: the plain build does the catalogue's amount of work, the sanitized build
 * (several times slower on the 2-core CI machine) a smaller sample of it. */
#define SCALE(plain, sanitized) (SANITIZED ? (sanitized) : (plain))

static struct daemon d;
static bool tmpfs_mounted;
static pid_t squatters[8];
static size_t n_squatters;

static void setup(void)
{
    tmpfs_mounted = false;
    n_squatters = 0;
    harness_init(&d);
}

static void teardown(void)
{
    for (size_t i = 0; i < n_squatters; i++)
        if (squatters[i] > 0) {
            kill(squatters[i], SIGKILL);
            waitpid(squatters[i], NULL, 0);
        }
    if (tmpfs_mounted)
        umount2(d.log_dir, MNT_DETACH);
    harness_cleanup(&d);
}

TestSuite(reliability, .init = setup, .fini = teardown, .timeout = 120);

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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The p-quantile (0..1) of v[0..n), which gets sorted. */
static double quantile(double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_double);
    return v[(size_t)(p * (double)(n - 1) + 0.5)];
}

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Pacing for polls that are not waits on a condition (sampling loops). */
static void pace_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void ctl_ok(const char *verb, const char *unit)
{
    char *out = NULL, *err = NULL;
    int r = harness_ctl(&d, &out, &err, verb, unit, NULL);

    cr_assert_eq(r, 0, "%s %s exited %d\nstdout: %s\nstderr: %s", verb, unit, r, out, err);
    free(out);
    free(err);
}

/* A Varlink call that may fail, by unit name: the error name into err (empty on success). */
static json_t *call_try(const char *method, json_t *params, char *err, size_t size)
{
    char *e = NULL;
    json_t *r = harness_varlink_try(&d, method, params, &e);

    snprintf(err, size, "%s", e ? e : "");
    free(e);
    return r;
}

/* Reads the journal files of unit (all units when NULL) with the library reader, no daemon
 * involved: the jverify probe. Returns how many damaged records were skipped. */
static int no_record(const struct journal_record *r, void *ud)
{
    (void)r;
    (void)ud;
    return 0;
}

static size_t read_journal(const char *unit, journal_record_cb cb, void *ud)
{
    const char *units[] = {unit, NULL};
    struct journal_query q = {.units = unit ? units : NULL};
    size_t skipped = 0;
    int r = journal_read(d.log_dir, &q, cb ? cb : no_record, ud, &skipped);

    cr_assert(r >= 0, "journal_read(%s): %s", d.log_dir, strerror(-r));
    return skipped;
}

struct tail_wait {
    const char *unit, *needle;
};

static int tail_match(const struct journal_record *r, void *ud)
{
    const char *needle = ((struct tail_wait *)ud)->needle;

    return memmem(r->message, r->message_len, needle, strlen(needle)) ? 1 : 0;
}

static bool tail_has(void *arg)
{
    struct tail_wait *w = arg;
    const char *units[] = {w->unit, NULL};
    struct journal_query q = {.units = units, .lines = 20};

    return journal_read(d.log_dir, &q, tail_match, w, NULL) == 1;
}

/* Waits until one of the unit's last 20 records (read from the files, cheap whatever the size of
 * the journal) contains needle. */
static bool wait_tail_contains(const char *unit, const char *needle, int timeout_ms)
{
    struct tail_wait w = {unit, needle};

    return wait_until(tail_has, &w, timeout_ms);
}

/* The record's message as a NUL-terminated string in buf. */
static const char *msg_text(const struct journal_record *r, char *buf, size_t size)
{
    size_t n = r->message_len < size - 1 ? r->message_len : size - 1;

    memcpy(buf, r->message, n);
    buf[n] = '\0';
    return buf;
}

static bool file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static size_t count_substr(const char *text, const char *needle)
{
    size_t n = 0;

    for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* ---- raw control-socket clients (for what minisupctl would never send) ---- */

static int raw_connect_flags(int extra)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | extra, 0);

    size_t len = strlen(d.socket);

    if (fd < 0)
        return -1;
    if (len >= sizeof(sa.sun_path)) {
        close(fd);
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sa.sun_path, d.socket, len + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
        int e = errno;

        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int raw_connect(void)
{
    return raw_connect_flags(0);
}

/* Sends all of buf; false when the daemon closed the connection (EPIPE, ECONNRESET). */
static bool raw_send(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};

            if (poll(&pf, 1, 10000) <= 0)
                return false;
            continue;
        }
        if (n < 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Sends a call given as JSON text, with its terminating NUL. */
static bool raw_call(int fd, const char *json_text)
{
    return raw_send(fd, json_text, strlen(json_text) + 1);
}

enum raw_outcome { RAW_REPLY, RAW_ERROR, RAW_CLOSED, RAW_TIMEOUT };

static const char *const raw_outcome_name[] = {"reply", "error reply", "closed", "timeout"};

/* Waits for one whole message or the end of the connection, at most timeout_ms. A reply's error
 * name (if any) goes to err. Thread-safe: no criterion assertion here. */
static enum raw_outcome raw_wait(int fd, int timeout_ms, char *err, size_t err_size)
{
    uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;
    size_t len = 0, cap = 0;
    char *msg = NULL, chunk[16384];
    enum raw_outcome result = RAW_TIMEOUT;

    if (err && err_size)
        err[0] = '\0';
    for (;;) {
        uint64_t now = harness_now_ms();
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        ssize_t n;
        char *z;

        if (now >= deadline)
            break;
        if (poll(&pf, 1, (int)(deadline - now)) <= 0)
            continue;
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            result = RAW_CLOSED;
            break;
        }
        z = memchr(chunk, '\0', (size_t)n);
        size_t take = z ? (size_t)(z - chunk) : (size_t)n;
        if (len + take + 1 > cap) {
            cap = (len + take + 1) * 2;
            msg = realloc(msg, cap);
            if (!msg)
                abort();
        }
        memcpy(msg + len, chunk, take);
        len += take;
        if (z) {
            json_t *j;

            msg[len] = '\0';
            j = json_loads(msg, 0, NULL);
            result = json_object_get(j, "error") ? RAW_ERROR : RAW_REPLY;
            if (result == RAW_ERROR && err)
                snprintf(err, err_size, "%s", jstr(j, "error"));
            json_decref(j);
            break;
        }
    }
    free(msg);
    return result;
}

/* Reads and discards until the daemon closes the connection or timeout_ms pass. */
static bool raw_drain_until_closed(int fd, int timeout_ms)
{
    uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;
    char chunk[65536];

    for (;;) {
        uint64_t now = harness_now_ms();
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        ssize_t n;

        if (now >= deadline)
            return false;
        if (poll(&pf, 1, (int)(deadline - now)) <= 0)
            continue;
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return true;
    }
}

#define CALL_GET_VERSION "{\"method\":\"io.minisup.Manager.GetVersion\",\"parameters\":{}}"

/* The daemon answers a fresh client (fails the test otherwise). */
static void assert_serves(const char *when)
{
    int fd = raw_connect();
    char err[128];
    enum raw_outcome o;

    cr_assert(fd >= 0, "%s: cannot connect: %s", when, strerror(errno));
    cr_assert(raw_call(fd, CALL_GET_VERSION), "%s: cannot send", when);
    o = raw_wait(fd, 10000, err, sizeof(err));
    close(fd);
    cr_assert_eq(o, RAW_REPLY, "%s: GetVersion got %s %s", when, raw_outcome_name[o], err);
}

/* ---- /proc probes the harness does not have ---- */

/* Field 7 of /proc/pid/stat (tty_nr); -1 when gone. */
static long proc_tty_nr(pid_t pid)
{
    char path[64], buf[1024];
    FILE *f;
    long tty = -1;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return -1;
    if (fgets(buf, sizeof(buf), f)) {
        const char *p = strrchr(buf, ')');

        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %ld", &tty) != 1)
            tty = -1;
    }
    fclose(f);
    return tty;
}

/* The fd numbers of pid into fds (at most max); returns how many, -1 when unreadable. */
static int proc_fds(pid_t pid, int *fds, int max)
{
    char path[64];
    DIR *dir;
    struct dirent *de;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    dir = opendir(path);
    if (!dir)
        return -1;
    while ((de = readdir(dir)))
        if (de->d_name[0] != '.' && n < max)
            fds[n++] = atoi(de->d_name);
    closedir(dir);
    return n;
}

static bool proc_fd_target(pid_t pid, int fd, char *buf, size_t size)
{
    char path[64];
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
    n = readlink(path, buf, size - 1);
    if (n < 0)
        return false;
    buf[n] = '\0';
    return true;
}

/* Zombies on the whole host (state Z anywhere): CRASH-3's "flat" check. */
static int host_zombies(void)
{
    DIR *dir = opendir("/proc");
    struct dirent *de;
    int n = 0;

    cr_assert_not_null(dir);
    while ((de = readdir(dir))) {
        char state;

        if (isdigit((unsigned char)de->d_name[0]) &&
            harness_proc_ids(atoi(de->d_name), &state, NULL, NULL, NULL) && state == 'Z')
            n++;
    }
    closedir(dir);
    return n;
}

/* Whether pid is gone for the purposes of "reaped": no such process, or a different process
 * whose parent is not minisupd (the pid was reused). A zombie child of minisupd is not gone. */
static bool reaped_by_daemon(pid_t pid)
{
    char state;
    pid_t ppid;

    if (!harness_proc_ids(pid, &state, &ppid, NULL, NULL))
        return true;
    return ppid != d.pid;
}

static double cpu_percent(unsigned long long ticks, uint64_t elapsed_ms)
{
    long hz = sysconf(_SC_CLK_TCK);

    if (elapsed_ms == 0 || hz <= 0)
        return 0;
    return 100.0 * ((double)ticks / (double)hz) / ((double)elapsed_ms / 1000.0);
}

/* ======================================================================================== */
/* RST-4: 50 units crash-looping at once with RestartSec=0 and no start limit. The daemon must
 * keep answering; figure: control round-trip p99 and the daemon's CPU. */

struct storm_state {
    int units;
    json_int_t restarts;
};

static bool storm_running(void *arg)
{
    struct storm_state *s = arg;
    json_t *r = harness_varlink(&d, "ListUnits", NULL), *u;
    size_t i;
    int looping = 0;

    s->restarts = 0;
    json_array_foreach(json_object_get(r, "units"), i, u)
    {
        s->restarts += jint(u, "nRestarts");
        if (jint(u, "nRestarts") >= 3)
            looping++;
    }
    json_decref(r);
    return looping == s->units;
}

Test(reliability, RST_4_crash_storm_control_answered)
{
    static const char *const T = "RST_4_crash_storm_control_answered";
    enum { UNITS = 50 };
    int samples = SCALE(60, 30);
    double *lat = calloc((size_t)samples, sizeof(double));
    struct storm_state s = {.units = UNITS};
    unsigned long long cpu0, cpu1;
    uint64_t t0, t1;
    json_int_t restarts0;

    cr_assert_not_null(lat);
    for (int i = 0; i < UNITS; i++) {
        char name[64];

        snprintf(name, sizeof(name), "storm%02d.service", i);
        harness_write_unitf(&d, name,
                            "[Unit]\nStartLimitBurst=0\n\n[Service]\nExecStart=%s crash 1\n"
                            "Restart=always\nRestartSec=0\n" NO_LSAN
                            "\n[Install]\nWantedBy=multi-user.target\n",
                            HARNESS_TFX);
    }
    harness_start(&d);
    cr_assert(wait_until(storm_running, &s, 60000), "not every unit crash-looped (restarts %lld)",
              (long long)s.restarts);
    restarts0 = s.restarts;

    cpu0 = harness_cpu_ticks(d.pid);
    t0 = harness_now_ms();
    for (int i = 0; i < samples; i++) {
        char name[32];
        uint64_t a = now_us();
        json_t *u;

        snprintf(name, sizeof(name), "storm%02d", i % UNITS);
        u = harness_get_unit(&d, name); /* fails the test if unanswered within 10 s */
        lat[i] = (double)(now_us() - a) / 1000.0;
        json_decref(u);
    }
    t1 = harness_now_ms();
    cpu1 = harness_cpu_ticks(d.pid);
    storm_running(&s);

    harness_metric(T, "units", UNITS, UNITS);
    harness_metric(T, "status_calls_answered", samples, samples);
    harness_metric(T, "restarts_during_sampling", (double)(s.restarts - restarts0), 0);
    harness_metric(T, "restarts_per_s",
                   (double)(s.restarts - restarts0) * 1000.0 / (double)(t1 - t0 + 1), 0);
    harness_metric(T, "minisupd_cpu_percent", cpu_percent(cpu1 - cpu0, t1 - t0), 80);
    harness_metric(T, "control_p50_ms", quantile(lat, (size_t)samples, 0.50), 0);
    harness_metric(T, "control_p99_ms", quantile(lat, (size_t)samples, 0.99), 100);
    harness_metric(T, "control_max_ms", lat[samples - 1], 1000);
    cr_assert_gt(s.restarts, restarts0, "the units stopped crash-looping while we sampled");
    free(lat);
    harness_stop(&d); /* zombies older than 1 s, survivors, exit code 0 */
}

/* ======================================================================================== */
/* STOP-5: start/stop/restart from 4 clients at once against a short-lived unit. Never two main
 * processes at once; every call answered; the final state follows the last command. */

struct stop5_report {
    int ops, done, canceled, failed, other_result, errors, transport;
};

static int stop5_client(unsigned idx, int ops, int report_fd)
{
    struct stop5_report rep = {0};
    struct varlink_client *c = NULL;
    unsigned seed = idx * 7919u + (unsigned)getpid();
    static const char *const methods[] = {"StartUnit", "StopUnit", "RestartUnit"};

    if (varlink_client_connect(d.socket, &c) < 0)
        return 1;
    for (int i = 0; i < ops; i++) {
        /* The last call of every client is a stop: the last call answered overall is one. */
        const char *m = i == ops - 1 ? "StopUnit" : methods[rand_r(&seed) % 3];
        char full[128];
        json_t *reply = NULL, *params = NULL;
        const char *error = NULL;
        bool continues;

        snprintf(full, sizeof(full), "%s.%s", VARLINK_INTERFACE, m);
        if (varlink_client_send(c, full, json_pack("{s:s}", "name", "race.service"), 0) < 0 ||
            varlink_client_receive(c, 10000, &reply) < 0 ||
            varlink_reply_parse(reply, &error, &params, &continues) < 0) {
            rep.transport++;
            json_decref(reply);
            break;
        }
        rep.ops++;
        if (error)
            rep.errors++;
        else if (strcmp(jstr(params, "result"), "done") == 0)
            rep.done++;
        else if (strcmp(jstr(params, "result"), "canceled") == 0)
            rep.canceled++;
        else if (strcmp(jstr(params, "result"), "failed") == 0)
            rep.failed++;
        else
            rep.other_result++;
        json_decref(reply);
    }
    varlink_client_free(c);
    return write(report_fd, &rep, sizeof(rep)) == (ssize_t)sizeof(rep) ? 0 : 1;
}

/* Live (non-zombie) service processes under minisupd. When there are two or more, checks again:
 * if the earlier ones are all still alive after the later ones were seen, they coexisted. */
static size_t stop5_coexisting(pid_t *seen, size_t max)
{
    size_t n = harness_descendants(d.pid, seen, max), alive = 0;

    if (n < 2)
        return n;
    for (size_t i = 0; i < n && i < max; i++)
        if (harness_pid_alive(seen[i]))
            alive++;
    return alive;
}

Test(reliability, STOP_5_start_stop_restart_storm)
{
    static const char *const T = "STOP_5_start_stop_restart_storm";
    enum { CLIENTS = 4 };
    int ops = SCALE(250, 100);
    pid_t kids[CLIENTS];
    int pipes[CLIENTS][2];
    struct stop5_report total = {0};
    size_t samples = 0, max_alive = 0, doubles = 0;
    int running = CLIENTS;
    pid_t seen[64];
    json_t *u;

    harness_write_unitf(&d, "race.service",
                        "[Unit]\nStartLimitBurst=0\n\n[Service]\nExecStart=%s race 100\n" NO_LSAN,
                        RFX);
    harness_start(&d);
    for (unsigned i = 0; i < CLIENTS; i++) {
        cr_assert(pipe2(pipes[i], O_CLOEXEC) == 0);
        kids[i] = fork();
        cr_assert(kids[i] >= 0);
        if (kids[i] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            _exit(stop5_client(i, ops, pipes[i][1]));
        }
        close(pipes[i][1]);
    }
    while (running > 0) {
        size_t n = stop5_coexisting(seen, 64);

        samples++;
        if (n > max_alive)
            max_alive = n;
        if (n > 1) {
            doubles++;
            fprintf(stderr, "STOP-5: %zu service processes alive at once:", n);
            for (size_t i = 0; i < n && i < 64; i++)
                fprintf(stderr, " %d", (int)seen[i]);
            fprintf(stderr, "\n");
        }
        for (unsigned i = 0; i < CLIENTS; i++) {
            int status;

            if (kids[i] > 0 && waitpid(kids[i], &status, WNOHANG) == kids[i]) {
                struct stop5_report rep = {0};

                cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                          "client %u failed (status 0x%x)", i, status);
                cr_assert_eq(read(pipes[i][0], &rep, sizeof(rep)), (ssize_t)sizeof(rep));
                close(pipes[i][0]);
                total.ops += rep.ops;
                total.done += rep.done;
                total.canceled += rep.canceled;
                total.failed += rep.failed;
                total.other_result += rep.other_result;
                total.errors += rep.errors;
                total.transport += rep.transport;
                kids[i] = 0;
                running--;
            }
        }
        pace_ms(2);
    }

    cr_assert_eq(total.transport, 0,
                 "%d calls were not answered within 10 s (is minisupd stuck? see STOP_5 "
                 "start_while_stopping)",
                 total.transport);
    /* Every client's last call was a stop, so the call answered last was a stop. */
    u = harness_get_unit(&d, "race");
    char final_state[64];
    snprintf(final_state, sizeof(final_state), "%s", jstr(u, "activeState"));
    json_decref(u);
    size_t left = harness_descendants(d.pid, seen, 64);

    harness_metric(T, "calls", total.ops, CLIENTS * ops);
    harness_metric(T, "results_done", total.done, 0);
    harness_metric(T, "results_canceled", total.canceled, 0);
    harness_metric(T, "results_failed", total.failed, 0);
    harness_metric(T, "error_replies", total.errors, 0);
    harness_metric(T, "unanswered_calls", total.transport, 0);
    harness_metric(T, "process_samples", (double)samples, 0);
    harness_metric(T, "two_main_processes_seen", (double)doubles, 0);
    harness_metric(T, "processes_after_last_stop", (double)left, 0);
    cr_assert_eq(total.transport, 0, "%d calls were not answered", total.transport);
    cr_assert_eq(total.ops, CLIENTS * ops);
    cr_assert_eq(total.other_result, 0, "unexpected job results");
    cr_assert_eq(doubles, 0, "two processes of race.service were alive at once (%zu samples)",
                 doubles);
    cr_assert_eq(strcmp(final_state, "inactive"), 0,
                 "after a storm ending in stops the unit is %s, want inactive", final_state);
    cr_assert_eq(left, 0, "%zu processes left after the last stop", left);

    /* The unit still works normally. */
    ctl_ok("start", "race");
    ctl_ok("stop", "race");
    harness_stop(&d);
}

/* The deterministic core of the storm: a start that arrives while the unit is stopping is queued
 * until the stop is done ("A start while the unit is stopping is queued until it is down",
 * docs/design-decisions.md), then the unit runs again. */
Test(reliability, STOP_5_start_while_stopping_is_queued)
{
    static const char *const T = "STOP_5_start_while_stopping_is_queued";
    char *out = NULL, *err = NULL;
    uint64_t t0;
    pid_t first, second;
    int r;

    harness_write_unitf(&d, "slow.service",
                        "[Service]\nExecStart=%s ignore-term\nTimeoutStopSec=2s\n" NO_LSAN,
                        HARNESS_TFX);
    harness_start(&d);
    ctl_ok("start", "slow");
    cr_assert(harness_wait_journal_contains(&d, "slow", "ready", 10000));
    first = harness_main_pid(&d, "slow");
    r = harness_ctl(&d, NULL, NULL, "stop", "--no-block", "slow", NULL);
    cr_assert_eq(r, 0);
    /* While it waits out TimeoutStopSec=2s in stop-sigterm: */
    d.ctl_timeout_ms = 10000;
    t0 = harness_now_ms();
    r = harness_ctl(&d, &out, &err, "start", "slow", NULL);
    harness_metric(T, "start_returned_after_ms", (double)(harness_now_ms() - t0), 0);
    cr_assert_eq(r, 0, "start during stop exited %d: %s%s", r, out, err);
    free(out);
    free(err);
    second = harness_main_pid(&d, "slow");
    cr_assert(second > 0 && second != first, "main pid %d after the queued start (was %d)",
              (int)second, (int)first);
    cr_assert(!harness_pid_alive(first), "the old process %d still runs", (int)first);
    harness_stop(&d);
}

/* ======================================================================================== */
/* PROC-3: 200 orphans adopted by minisupd exit at one instant; the SIGCHLDs coalesce. All must
 * be reaped. */

struct orphan_set {
    pid_t pids[1024];
    size_t n;
};

static int collect_orphans(const struct journal_record *r, void *ud)
{
    struct orphan_set *s = ud;
    char buf[1024];
    const char *p = msg_text(r, buf, sizeof(buf));

    if (strncmp(p, "orphans ", 8) != 0)
        return 0;
    for (p += 8; *p;) {
        char *end;
        long v = strtol(p, &end, 10);

        if (end == p)
            break;
        if (s->n < 1024)
            s->pids[s->n++] = (pid_t)v;
        p = end;
    }
    return 0;
}

static bool orphans_reaped(void *arg)
{
    struct orphan_set *s = arg;

    for (size_t i = 0; i < s->n; i++)
        if (!reaped_by_daemon(s->pids[i]))
            return false;
    return true;
}

Test(reliability, PROC_3_sigchld_coalescing_all_reaped)
{
    static const char *const T = "PROC_3_sigchld_coalescing_all_reaped";
    enum { N = 200, ROUNDS = 3 };
    size_t total = 0, unreaped = 0;
    double worst_ms = 0;
    int max_zombies = 0;

    harness_write_unitf(&d, "burst.service", "[Service]\nExecStart=%s burst %d\n" NO_LSAN, RFX, N);
    harness_start(&d);
    for (int round = 0; round < ROUNDS; round++) {
        static struct orphan_set s;
        char released[32];
        uint64_t t0;

        ctl_ok("start", "burst");
        snprintf(released, sizeof(released), "released %d", N);
        cr_assert(harness_wait_journal_count(&d, "burst", released, (size_t)round + 1, 20000, NULL),
                  "round %d: the burst was not released", round);
        t0 = harness_now_ms();
        s.n = 0;
        read_journal("burst.service", collect_orphans, &s);
        /* Earlier rounds' pids are gone already; only this round's matter, but all must be. */
        cr_assert_geq(s.n, (size_t)N * (size_t)(round + 1), "round %d: %zu orphan pids listed",
                      round, s.n);
        int z = harness_zombies(&d);
        if (z > max_zombies)
            max_zombies = z;
        if (!wait_until(orphans_reaped, &s, 10000)) {
            for (size_t i = 0; i < s.n; i++)
                if (!reaped_by_daemon(s.pids[i]))
                    unreaped++;
        }
        double ms = (double)(harness_now_ms() - t0);
        if (ms > worst_ms)
            worst_ms = ms;
        total += N;
        ctl_ok("stop", "burst");
    }
    harness_metric(T, "orphans", (double)total, 0);
    harness_metric(T, "unreaped_after_10s", (double)unreaped, 0);
    harness_metric(T, "max_zombies_seen", max_zombies, 0);
    harness_metric(T, "all_reaped_ms_worst", worst_ms, 1000);
    cr_assert_eq(unreaped, 0, "%zu of %zu orphans were never reaped", unreaped, total);
    harness_stop(&d); /* no zombie older than 1 s */
}

/* ======================================================================================== */
/* PROC-4: every exit code and the deadly signals come back exactly in GetUnit's execMainCode and
 * execMainStatus. The expectation is what waitpid() says about the same fixture run directly. */

static void write_how(const char *path, const char *how)
{
    FILE *f = fopen(path, "we");

    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert(fputs(how, f) >= 0 && fclose(f) == 0);
}

/* Runs `rfx exit-from path` here and describes its end as systemd would: exited/killed/dumped. */
static void direct_outcome(const char *path, char *code, size_t size, int *status)
{
    const char *argv[] = {RFX, "exit-from", path, NULL};
    int st;
    pid_t pid = fork();

    cr_assert(pid >= 0);
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDWR);

        dup2(null_fd, 1);
        dup2(null_fd, 2);
        setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
        execv(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    cr_assert(harness_wait_pid(pid, 20000, &st), "rfx exit-from did not end");
    if (WIFEXITED(st)) {
        snprintf(code, size, "exited");
        *status = WEXITSTATUS(st);
    } else {
        snprintf(code, size, "%s", WCOREDUMP(st) ? "dumped" : "killed");
        *status = WTERMSIG(st);
    }
}

Test(reliability, PROC_4_exit_status_fidelity)
{
    static const char *const T = "PROC_4_exit_status_fidelity";
    /* Signals whose default action ends the process or is ignored; the stop signals (STOP,
     * TSTP, TTIN, TTOU) would leave the process stopped and are left out. */
    static const int sigs[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                               16, 17, 18, 23, 24, 25, 26, 27, 28, 29, 30, 31, 34, 50, 64};
    int step = SCALE(1, 5), cases = 0, wrong = 0;
    char how_path[PATH_MAX];

    harness_path(&d, how_path, "how");
    harness_write_unitf(&d, "exit.service",
                        "[Unit]\nStartLimitBurst=0\n\n[Service]\nType=oneshot\n"
                        "ExecStart=%s exit-from %s\n" NO_LSAN,
                        RFX, how_path);
    harness_start(&d);
    for (int k = 0; k < 256 + (int)(sizeof(sigs) / sizeof(sigs[0])); k++) {
        char how[64], want_code[16], err[128];
        int want_status;
        json_t *r, *u;

        if (k < 256) {
            /* The sanitized build samples every step-th code, and always 0, 1, 2, 255. */
            if (k % step != 0 && k > 2 && k != 255)
                continue;
            snprintf(how, sizeof(how), "exit %d\n", k);
        } else {
            snprintf(how, sizeof(how), "signal %d\n", sigs[k - 256]);
        }
        write_how(how_path, how);
        direct_outcome(how_path, want_code, sizeof(want_code), &want_status);
        r = call_try("StartUnit", json_pack("{s:s}", "name", "exit"), err, sizeof(err));
        cr_assert(r || err[0], "StartUnit gave nothing");
        json_decref(r);
        u = harness_get_unit(&d, "exit");
        cases++;
        if (strcmp(jstr(u, "execMainCode"), want_code) != 0 ||
            jint(u, "execMainStatus") != want_status) {
            wrong++;
            fprintf(stderr, "PROC-4: %.*s: minisupd says code=%s status=%lld, waitpid says %s %d\n",
                    (int)strcspn(how, "\n"), how, jstr(u, "execMainCode"),
                    (long long)jint(u, "execMainStatus"), want_code, want_status);
        }
        json_decref(u);
    }
    harness_metric(T, "cases", cases, 0);
    harness_metric(T, "wrong", wrong, 0);
    cr_assert_eq(wrong, 0, "%d of %d exit statuses were reported wrongly", wrong, cases);
    harness_stop(&d);
}

/* ======================================================================================== */
/* PROC-6: a unit whose user hits RLIMIT_NPROC (LimitNPROC=) while forking. minisupd stays up and
 * answering; another start as that user fails cleanly; stop leaves no survivor. */

Test(reliability, PROC_6_process_limit)
{
    static const char *const T = "PROC_6_process_limit";
    struct passwd *pw = getpwnam("nobody");
    pid_t before[256];
    size_t n_before, survivors = 0;
    char *text, err[128], state[128];
    long forked = -1;
    json_t *r, *u;

    if (geteuid() != 0)
        SKIP_TEST(T, "PROC-6 needs root: RLIMIT_NPROC does not bind root, and only root can run "
                     "the fork bomb as another user (User=nobody)");
    if (!pw)
        SKIP_TEST(T, "PROC-6 needs a 'nobody' user");
    harness_write_unitf(
        &d, "nproc.service",
        "[Service]\nUser=nobody\nLimitNPROC=30\nExecStart=%s forkbomb 5000\n" NO_LSAN, RFX);
    harness_write_unitf(&d, "nproc2.service",
                        "[Unit]\nStartLimitBurst=0\n\n[Service]\nUser=nobody\nLimitNPROC=30\n"
                        "ExecStart=%s sleep 3600\n" NO_LSAN,
                        HARNESS_TFX);
    harness_start(&d);
    ctl_ok("start", "nproc");
    cr_assert(harness_wait_journal_contains(&d, "nproc", "forked ", 30000),
              "the fork bomb never hit its limit");
    text = harness_journal_cat(&d, "nproc");
    sscanf(strstr(text, "forked "), "forked %ld", &forked);
    cr_assert(strstr(text, "Resource temporarily unavailable"), "fork did not fail with EAGAIN: %s",
              text);
    free(text);

    /* The daemon keeps answering while the user is at its limit. */
    assert_serves("nobody at RLIMIT_NPROC");
    /* A second unit of that user cannot start: it must fail cleanly, not hang or crash. */
    r = call_try("StartUnit", json_pack("{s:s}", "name", "nproc2"), err, sizeof(err));
    u = harness_get_unit(&d, "nproc2");
    snprintf(state, sizeof(state), "%s/%s/%s", jstr(u, "activeState"), jstr(u, "subState"),
             jstr(u, "result"));
    json_decref(u);
    fprintf(stderr, "PROC-6: second start at the limit: result %s%s, state %s\n",
            r ? jstr(r, "result") : "error ", err, state);
    harness_metric(T, "second_start_at_limit_refused_info",
                   r && strcmp(jstr(r, "result"), "done") == 0 ? 0 : 1, 0);
    json_decref(r);
    assert_serves("after the refused start");

    /* The fork bomb's processes: its main process's group. */
    pid_t bomb = harness_main_pid(&d, "nproc"), all[256];
    size_t n_all = harness_descendants(d.pid, all, 256);
    n_before = 0;
    for (size_t i = 0; i < n_all && i < 256; i++) {
        pid_t pgid;

        if (harness_proc_ids(all[i], NULL, NULL, &pgid, NULL) && pgid == bomb)
            before[n_before++] = all[i];
    }
    ctl_ok("stop", "nproc");
    for (size_t i = 0; i < n_before && i < 256; i++)
        if (harness_pid_alive(before[i]))
            survivors++;
    harness_metric(T, "forked_before_eagain", (double)forked, 29);
    harness_metric(T, "processes_before_stop", (double)n_before, 0);
    harness_metric(T, "survivors", (double)survivors, 0);
    cr_assert_eq(survivors, 0, "%zu processes of the fork bomb survived stop", survivors);

    /* With the limit free again, the other unit runs. */
    harness_ctl(&d, NULL, NULL, "reset-failed", "nproc2", NULL);
    ctl_ok("start", "nproc2");
    ctl_ok("stop", "nproc2");
    harness_stop(&d);
}

/* ======================================================================================== */
/* LOG-1: runs of 1000 lines whose last line has no newline, one run after the other with
 * RestartSec=0. Every line of every run is stored once, and each last line is marked N. */

struct log1_check {
    int runs, lines;
    unsigned char *seen; /* runs x lines */
    size_t dups, other, nonl_wrong, stored;
};

static int log1_cb(const struct journal_record *r, void *ud)
{
    struct log1_check *c = ud;
    char buf[256];
    long run, i;
    bool nonl = (r->flags & JOURNAL_FLAG_NO_NEWLINE) != 0;

    if (r->stream != JOURNAL_STREAM_STDOUT)
        return 0;
    if (sscanf(msg_text(r, buf, sizeof(buf)), "seq:%ld:%ld:", &run, &i) != 2 || run < 1 ||
        run > c->runs || i < 1 || i > c->lines) {
        c->other++;
        return 0;
    }
    c->stored++;
    if (c->seen[(run - 1) * c->lines + (i - 1)]++)
        c->dups++;
    if (nonl != (i == c->lines))
        c->nonl_wrong++;
    return 0;
}

Test(reliability, LOG_1_last_line_without_newline_every_run)
{
    static const char *const T = "LOG_1_last_line_without_newline_every_run";
    /* 300 runs keep the unit's journal (about 135 bytes a record) under the default 64 MiB per-unit
     * cap, so retention deletes nothing that is counted. */
    struct log1_check c = {.runs = SCALE(300, 100), .lines = 1000};
    char counter[PATH_MAX];
    size_t lost = 0, skipped;

    c.seen = calloc((size_t)c.runs * (size_t)c.lines, 1);
    cr_assert_not_null(c.seen);
    harness_path(&d, counter, "nonl.count");
    harness_write_unitf(
        &d, "nonl.service",
        "[Unit]\nStartLimitBurst=0\n\n[Service]\n"
        "ExecStart=%s seq %d --nonl-last --counter %s --stop-every %d 3\n"
        "Restart=always\nRestartSec=0\nRestartPreventExitStatus=3\n" NO_RATELIMIT NO_LSAN,
        HARNESS_TFX, c.lines, counter, c.runs);
    harness_start(&d);
    ctl_ok("start", "nonl");
    /* The run with exit status 3 ends the loop: failed, not restarted. */
    harness_wait_state(&d, "nonl", "failed", NULL, 120000);
    skipped = read_journal("nonl.service", log1_cb, &c);
    for (size_t k = 0; k < (size_t)c.runs * (size_t)c.lines; k++)
        if (!c.seen[k])
            lost++;
    harness_metric(T, "runs", c.runs, 0);
    harness_metric(T, "lines_emitted", (double)c.runs * c.lines, 0);
    harness_metric(T, "lines_stored", (double)c.stored, 0);
    harness_metric(T, "lost_lines", (double)lost, 0);
    harness_metric(T, "duplicated_lines", (double)c.dups, 0);
    harness_metric(T, "wrong_no_newline_marks", (double)c.nonl_wrong, 0);
    harness_metric(T, "damaged_records", (double)skipped, 0);
    cr_assert_eq(lost, 0, "%zu lines lost", lost);
    cr_assert_eq(c.dups, 0, "%zu lines stored twice", c.dups);
    cr_assert_eq(c.nonl_wrong, 0, "%zu records with a wrong no-newline mark", c.nonl_wrong);
    cr_assert_eq(skipped, 0);
    free(c.seen);
    harness_stop(&d);
}

/* ======================================================================================== */
/* LOG-3: a service alternating stdout and stderr. Each stream keeps its order and its tag; the
 * order across the two pipes is not promised and is only reported. */

struct log3_check {
    long next_out, next_err;
    size_t out_of_order, mistagged, other, cross_inversions;
};

static int log3_cb(const struct journal_record *r, void *ud)
{
    struct log3_check *c = ud;
    char buf[128];
    long i;
    const char *m = msg_text(r, buf, sizeof(buf));

    if (r->stream == JOURNAL_STREAM_MANAGER)
        return 0;
    if (sscanf(m, "out:%ld", &i) == 1) {
        if (r->stream != JOURNAL_STREAM_STDOUT)
            c->mistagged++;
        else if (i != c->next_out)
            c->out_of_order++;
        c->next_out = i + 1;
        if (i < c->next_err - 1)
            c->cross_inversions++;
    } else if (sscanf(m, "err:%ld", &i) == 1) {
        if (r->stream != JOURNAL_STREAM_STDERR)
            c->mistagged++;
        else if (i != c->next_err)
            c->out_of_order++;
        c->next_err = i + 1;
    } else {
        c->other++;
    }
    return 0;
}

Test(reliability, LOG_3_stdout_stderr_order_and_tags)
{
    static const char *const T = "LOG_3_stdout_stderr_order_and_tags";
    long n = SCALE(20000, 5000);
    struct log3_check c = {.next_out = 1, .next_err = 1};

    harness_write_unitf(&d, "alt.service", "[Service]\nExecStart=%s alternate %ld\n" NO_RATELIMIT,
                        RFX, n);
    harness_start(&d);
    ctl_ok("start", "alt");
    harness_wait_down(&d, "alt", 60000);
    size_t skipped = read_journal("alt.service", log3_cb, &c);
    size_t lost = (size_t)(n - (c.next_out - 1)) + (size_t)(n - (c.next_err - 1));

    harness_metric(T, "lines_per_stream", (double)n, 0);
    harness_metric(T, "lost_lines", (double)lost, 0);
    harness_metric(T, "out_of_order_within_stream", (double)c.out_of_order, 0);
    harness_metric(T, "wrong_stream_tag", (double)c.mistagged, 0);
    harness_metric(T, "cross_stream_inversions_info", (double)c.cross_inversions, 0);
    cr_assert_eq(lost, 0);
    cr_assert_eq(c.out_of_order, 0);
    cr_assert_eq(c.mistagged, 0);
    cr_assert_eq(skipped, 0);
    harness_stop(&d);
}

/* ======================================================================================== */
/* LOG-4: a unit writes as fast as it can (200 MB plain). minisupd's peak memory must not grow with
 * the volume (backpressure, not buffering); the retained tail of the journal has no gap. */

struct log4_check {
    long first, last, gaps;
    long done;
};

static int log4_cb(const struct journal_record *r, void *ud)
{
    struct log4_check *c = ud;
    char buf[160];
    long i;
    const char *m = msg_text(r, buf, sizeof(buf));

    if (sscanf(m, "flood:%ld:", &i) == 1) {
        if (c->first == 0)
            c->first = i;
        else if (i != c->last + 1)
            c->gaps++;
        c->last = i;
    } else if (sscanf(m, "flood done %ld", &i) == 1) {
        c->done = i;
    }
    return 0;
}

Test(reliability, LOG_4_flood_memory_bounded)
{
    static const char *const T = "LOG_4_flood_memory_bounded";
    long bytes = SCALE(200L, 48L) * 1000 * 1000;
    struct log4_check c = {0};
    long hwm0, hwm1;
    uint64_t t0, ms;

    harness_write_unitf(&d, "flood.service",
                        "[Service]\nExecStart=%s flood %ld\n" NO_RATELIMIT NO_LSAN, RFX, bytes);
    harness_start(&d);
    hwm0 = harness_status_kib(d.pid, "VmHWM");
    t0 = harness_now_ms();
    ctl_ok("start", "flood");
    harness_wait_down(&d, "flood", 240000);
    ms = harness_now_ms() - t0;
    hwm1 = harness_status_kib(d.pid, "VmHWM");
    size_t skipped = read_journal("flood.service", log4_cb, &c);

    harness_metric(T, "bytes_written", (double)bytes, 0);
    harness_metric(T, "throughput_mb_per_s_disk", (double)bytes / 1e3 / (double)(ms + 1), 30);
    harness_metric(T, "hwm_baseline_mib", (double)hwm0 / 1024.0, 0);
    harness_metric(T, "hwm_growth_mib", (double)(hwm1 - hwm0) / 1024.0, 32);
    harness_metric(T, "retained_lines", (double)(c.last - c.first + 1), 0);
    harness_metric(T, "gaps_in_retained_tail", (double)c.gaps, 0);
    harness_metric(T, "damaged_records", (double)skipped, 0);
    cr_assert_gt(c.done, 0, "the last line ('flood done N') is not in the journal");
    cr_assert_eq(c.last, c.done, "the journal ends at line %ld of %ld", c.last, c.done);
    cr_assert_eq(c.gaps, 0, "%ld gaps in the retained lines", c.gaps);
    cr_assert_eq(skipped, 0);
    /* Under ASan the allocator's quarantine inflates the peak; the bound is for the real build. */
    if (!SANITIZED)
        cr_assert_lt(hwm1 - hwm0, 32 * 1024, "minisupd's peak memory grew by %ld KiB", hwm1 - hwm0);
    harness_stop(&d);
}

/* LOG-4, the other half of the bound: a stream that keeps its pipe full has the pipe grown to
 * 1 MiB (so it blocks, and the loop hands over to the writer, a fraction as often), every line
 * still arrives once and in order, and a stream that never flooded keeps the default 64 KiB. */
struct pipesize_check {
    struct log4_check lines;
    int out_size, err_size;
};

static int pipesize_cb(const struct journal_record *r, void *ud)
{
    struct pipesize_check *c = ud;
    char buf[160];
    const char *m = msg_text(r, buf, sizeof(buf));

    if (sscanf(m, "stdout pipe holds %d", &c->out_size) == 1 ||
        sscanf(m, "stderr pipe holds %d", &c->err_size) == 1)
        return 0;
    return log4_cb(r, &c->lines);
}

Test(reliability, LOG_4_flooding_stream_gets_a_bigger_pipe)
{
    static const char *const T = "LOG_4_flooding_stream_gets_a_bigger_pipe";
    long bytes = SCALE(16L, 8L) * 1000 * 1000; /* under the 64 MiB cap once stored */
    struct pipesize_check c = {0};

    harness_write_unitf(&d, "flood.service",
                        "[Service]\nExecStart=%s flood-pipesize %ld\n" NO_RATELIMIT NO_LSAN, RFX,
                        bytes);
    harness_start(&d);
    ctl_ok("start", "flood");
    harness_wait_down(&d, "flood", 240000);
    size_t skipped = read_journal("flood.service", pipesize_cb, &c);

    harness_metric(T, "stdout_pipe_bytes", c.out_size, 1048576);
    harness_metric(T, "stderr_pipe_bytes", c.err_size, 65536);
    harness_metric(T, "gaps", (double)c.lines.gaps, 0);
    cr_assert_eq(c.out_size, 1048576, "the flooding stdout's pipe holds %d bytes", c.out_size);
    cr_assert_eq(c.err_size, 65536, "the quiet stderr's pipe holds %d bytes", c.err_size);
    cr_assert_eq(c.lines.first, 1, "the journal starts at line %ld", c.lines.first);
    cr_assert_eq(c.lines.last, c.lines.done, "the journal ends at line %ld of %ld", c.lines.last,
                 c.lines.done);
    cr_assert_eq(c.lines.gaps, 0, "%ld gaps", c.lines.gaps);
    cr_assert_eq(skipped, 0);
    harness_stop(&d);
}

/* ======================================================================================== */
/* LOG-7: a follower (GetJournal follow) and repeated tail reads while a unit writes tens of
 * thousands of lines a second. The follower sees every line once, in order; every tail read is a
 * consistent run of consecutive lines. Figure: follower lag p99. */

struct log7_reader {
    volatile int stop;
    long reads, inconsistent, records;
    char error[256];
};

/* Parses "seq:1:<i>:<us>" lines; false for anything else (manager records). */
static bool log7_parse(const char *m, long *i, unsigned long long *us)
{
    long run;

    return sscanf(m, "seq:%ld:%ld:%llu", &run, i, us) == 3;
}

static void *log7_read_loop(void *arg)
{
    struct log7_reader *rd = arg;
    char full[128];

    snprintf(full, sizeof(full), "%s.GetJournal", VARLINK_INTERFACE);
    while (!rd->stop) {
        struct varlink_client *c = NULL;
        long prev = -1;
        bool bad = false, more = true;

        if (varlink_client_connect(d.socket, &c) < 0) {
            snprintf(rd->error, sizeof(rd->error), "cannot connect");
            break;
        }
        if (varlink_client_send(c, full,
                                json_pack("{s:[s], s:i}", "units", "ticker.service", "lines", 300),
                                VARLINK_CALL_MORE) < 0) {
            snprintf(rd->error, sizeof(rd->error), "cannot send");
            varlink_client_free(c);
            break;
        }
        while (more) {
            json_t *reply = NULL, *params, *e;
            const char *error = NULL;
            size_t k;

            if (varlink_client_receive(c, 20000, &reply) < 0 ||
                varlink_reply_parse(reply, &error, &params, &more) < 0 || error) {
                snprintf(rd->error, sizeof(rd->error), "read failed: %s", error ? error : "");
                json_decref(reply);
                rd->stop = 1;
                break;
            }
            json_array_foreach(json_object_get(params, "entries"), k, e)
            {
                long i;
                unsigned long long us;

                if (!log7_parse(jstr(e, "message"), &i, &us))
                    continue;
                rd->records++;
                if (prev >= 0 && i != prev + 1)
                    bad = true;
                prev = i;
            }
            json_decref(reply);
        }
        varlink_client_free(c);
        rd->reads++;
        if (bad)
            rd->inconsistent++;
        pace_ms(20); /* a tail read every 20 ms, not a busy loop that starves the follower */
    }
    return NULL;
}

Test(reliability, LOG_7_reads_under_write_load)
{
    static const char *const T = "LOG_7_reads_under_write_load";
    long n = SCALE(100000, 30000), rate = SCALE(50000, 15000), next = 1, lost = 0, disorder = 0;
    char counter[PATH_MAX], full[128];
    struct varlink_client *c = NULL;
    struct log7_reader rd = {0};
    pthread_t reader;
    double *lag = calloc((size_t)n, sizeof(double));
    size_t n_lag = 0;
    uint64_t deadline;
    json_t *r;

    cr_assert_not_null(lag);
    harness_path(&d, counter, "ticker.count");
    harness_write_unitf(
        &d, "ticker.service",
        "[Service]\nExecStart=%s seq %ld --rate %ld --counter %s\n" NO_RATELIMIT NO_LSAN,
        HARNESS_TFX, n, rate, counter);
    harness_start(&d);

    snprintf(full, sizeof(full), "%s.GetJournal", VARLINK_INTERFACE);
    cr_assert_eq(varlink_client_connect(d.socket, &c), 0);
    cr_assert_eq(varlink_client_send(
                     c, full, json_pack("{s:[s], s:b}", "units", "ticker.service", "follow", 1),
                     VARLINK_CALL_MORE),
                 0);
    cr_assert_eq(pthread_create(&reader, NULL, log7_read_loop, &rd), 0);
    r = harness_varlink(&d, "StartUnit", json_pack("{s:s, s:b}", "name", "ticker", "noBlock", 1));
    json_decref(r);

    deadline = harness_now_ms() + 120000;
    while (next <= n && harness_now_ms() < deadline) {
        json_t *reply = NULL, *params, *e;
        const char *error = NULL;
        bool more;
        size_t k;

        int rr = varlink_client_receive(c, 30000, &reply);

        if (rr < 0) {
            char *log = harness_read(&d, "minisupd.log");
            bool cut = log && strstr(log, "does not read its replies");

            free(log);
            cr_assert_fail(
                "the follower lost its stream at line %ld of %ld: %s%s", next - 1, n, strerror(-rr),
                cut ? " (minisupd disconnected it: more than 8 MiB of replies unread)" : "");
        }
        cr_assert_eq(varlink_reply_parse(reply, &error, &params, &more), 0);
        cr_assert_null(error, "follow failed: %s", error);
        uint64_t now = now_us();
        json_array_foreach(json_object_get(params, "entries"), k, e)
        {
            long i;
            unsigned long long us;

            if (!log7_parse(jstr(e, "message"), &i, &us))
                continue;
            if (i > next)
                lost += i - next;
            else if (i < next)
                disorder++;
            if (i >= next)
                next = i + 1;
            if (n_lag < (size_t)n)
                lag[n_lag++] = (double)(now - us) / 1000.0;
        }
        json_decref(reply);
    }
    rd.stop = 1;
    pthread_join(reader, NULL);
    varlink_client_free(c);

    harness_metric(T, "lines", (double)n, 0);
    harness_metric(T, "rate_lines_per_s", (double)rate, 0);
    harness_metric(T, "follower_lost", (double)(lost + (n - (next - 1))), 0);
    harness_metric(T, "follower_out_of_order", (double)disorder, 0);
    harness_metric(T, "follower_lag_p50_ms", quantile(lag, n_lag, 0.5), 0);
    harness_metric(T, "follower_lag_p99_ms", quantile(lag, n_lag, 0.99), 200);
    harness_metric(T, "tail_reads", (double)rd.reads, 0);
    harness_metric(T, "tail_reads_inconsistent", (double)rd.inconsistent, 0);
    cr_assert_eq(rd.error[0], '\0', "tail reader: %s", rd.error);
    cr_assert_eq(next, n + 1, "the follower saw lines up to %ld of %ld", next - 1, n);
    cr_assert_eq(lost, 0, "the follower missed %ld lines", lost);
    cr_assert_eq(disorder, 0);
    cr_assert_eq(rd.inconsistent, 0, "%ld of %ld tail reads were not consecutive lines",
                 rd.inconsistent, rd.reads);
    free(lag);
    harness_wait_down(&d, "ticker", 60000);
    harness_stop(&d);
}

/* The plain read a user makes: `minisupctl journal UNIT` over a journal of a few hundred thousand
 * lines (tens of MiB) must print all of them, however fast the daemon reads the files. */
Test(reliability, LOG_7_full_read_of_a_large_journal)
{
    static const char *const T = "LOG_7_full_read_of_a_large_journal";
    long bytes = SCALE(30L, 10L) * 1000 * 1000, lines = bytes / 100;
    char *out = NULL, *err = NULL;
    uint64_t t0;
    int rc;

    harness_write_unitf(&d, "big.service",
                        "[Service]\nExecStart=%s flood %ld\n" NO_RATELIMIT NO_LSAN, RFX, bytes);
    harness_start(&d);
    ctl_ok("start", "big");
    harness_wait_down(&d, "big", 120000);
    t0 = harness_now_ms();
    rc = harness_ctl(&d, &out, &err, "journal", "big", "-o", "cat", NULL);
    size_t got = harness_count_lines_containing(out, "flood:");
    harness_metric(T, "lines_in_journal", (double)lines, 0);
    harness_metric(T, "lines_printed", (double)got, (double)lines);
    harness_metric(T, "read_ms", (double)(harness_now_ms() - t0), 0);
    cr_assert_eq(rc, 0, "minisupctl journal big exited %d after %zu of %ld lines: %.200s", rc, got,
                 lines, err);
    cr_assert_eq(got, (size_t)lines, "%zu of %ld lines printed", got, lines);
    free(out);
    free(err);
    harness_stop(&d);
}

/* ======================================================================================== */
/* CRASH-1: kill -9 minisupd while services run, then start it again on the same directories.
 * The journal must open cleanly, the lines lost must fit in what the pipe, the journal's queue
 * and one read held, and no service of the old instance may be left running unsupervised (R7).
 * The bound is the documented one (docs/journal-format.md, "The collector"): a stream that
 * floods has its pipe grown to 1 MiB, read 256 KiB at a time, and the queue to the writer
 * thread holds up to 2 MiB. A writer that the daemon keeps up with loses far less. */
#define CRASH1_LOSS_BOUND (1024 * 1024 + 2 * 1024 * 1024 + 256 * 1024)

struct writer_check {
    pid_t pid;
    long max, count, gaps;
};

static int writer_cb(const struct journal_record *r, void *ud)
{
    struct writer_check *c = ud;
    char buf[128];
    int pid;
    long i;

    if (sscanf(msg_text(r, buf, sizeof(buf)), "w:%d:%ld", &pid, &i) != 2 || pid != c->pid)
        return 0;
    if (i != c->max + 1)
        c->gaps++;
    c->max = i;
    c->count++;
    return 0;
}

struct file_wait {
    const char *path;
};

static bool file_appeared(void *arg)
{
    return file_exists(((struct file_wait *)arg)->path);
}

static bool pid_gone(void *arg)
{
    return !harness_pid_alive((pid_t)(intptr_t)arg);
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

Test(reliability, CRASH_1_kill_9_and_restart)
{
    static const char *const T = "CRASH_1_kill_9_and_restart";
    char emitted_base[PATH_MAX], emitted_file[PATH_MAX + 32], *log;
    struct writer_check w = {0};
    long emitted = -1, lost_bytes = 0;
    int werr = 0, termed = 0, stale = 0;
    pid_t sleeper, piper, sleeper2;
    size_t skipped;
    FILE *f;

    harness_path(&d, emitted_base, "emitted");
    harness_write_unitf(&d, "writer.service",
                        "[Service]\nExecStart=%s writer %s\n" NO_RATELIMIT NO_LSAN
                        "\n[Install]\nWantedBy=multi-user.target\n",
                        RFX, emitted_base);
    harness_write_unitf(&d, "sleeper.service",
                        "[Service]\nExecStart=%s sleep 3600\n" NO_LSAN
                        "\n[Install]\nWantedBy=multi-user.target\n",
                        HARNESS_TFX);
    /* IgnoreSIGPIPE=no: a writer that would die of SIGPIPE at its next line, if nothing else. */
    harness_write_unitf(
        &d, "piper.service",
        "[Service]\nIgnoreSIGPIPE=no\nExecStart=%s seq 100000000 --rate 1000\n" NO_LSAN
        "\n[Install]\nWantedBy=multi-user.target\n",
        HARNESS_TFX);
    harness_start(&d);
    w.pid = harness_main_pid(&d, "writer");
    sleeper = harness_main_pid(&d, "sleeper");
    piper = harness_main_pid(&d, "piper");
    cr_assert(w.pid > 0 && sleeper > 0 && piper > 0);
    cr_assert(wait_tail_contains("writer.service", "w:", 10000));

    kill_daemon_hard();

    /* The writer learns of it (SIGTERM from PR_SET_PDEATHSIG, then EPIPE) and says how far it
     * got. */
    snprintf(emitted_file, sizeof(emitted_file), "%s.%d", emitted_base, (int)w.pid);
    struct file_wait fw = {emitted_file};
    cr_assert(wait_until(file_appeared, &fw, 10000), "the writer never noticed minisupd died");
    f = fopen(emitted_file, "re");
    cr_assert(f && fscanf(f, "%ld %d %d", &emitted, &werr, &termed) == 3);
    fclose(f);
    bool sleeper_gone = wait_until(pid_gone, (void *)(intptr_t)sleeper, 5000);
    bool piper_gone = wait_until(pid_gone, (void *)(intptr_t)piper, 5000);

    harness_start(&d);
    skipped = read_journal(NULL, NULL, NULL);
    read_journal("writer.service", writer_cb, &w);
    for (long i = w.max + 1; i <= emitted; i++)
        lost_bytes += snprintf(NULL, 0, "w:%d:%ld\n", (int)w.pid, i);
    stale = !sleeper_gone + !piper_gone;
    sleeper2 = harness_main_pid(&d, "sleeper");
    log = harness_read(&d, "minisupd.log");
    fprintf(stderr,
            "CRASH-1: after kill -9: writer got %s, emitted %ld lines, %ld stored; old sleeper "
            "%s, old piper %s; new sleeper %d; the log %s the journal repair\n",
            termed ? "SIGTERM then EPIPE" : strerror(werr), emitted, w.max,
            sleeper_gone ? "gone" : "STILL RUNNING", piper_gone ? "gone" : "STILL RUNNING",
            (int)sleeper2, log && strstr(log, "Journal: cut") ? "mentions" : "does not mention");
    free(log);

    harness_metric(T, "damaged_records_after_restart", (double)skipped, 0);
    harness_metric(T, "writer_lines_emitted", (double)emitted, 0);
    harness_metric(T, "writer_lines_lost", (double)(emitted - w.max), 0);
    harness_metric(T, "writer_bytes_lost", (double)lost_bytes, (double)CRASH1_LOSS_BOUND);
    harness_metric(T, "writer_gaps_before_kill", (double)w.gaps, 0);
    harness_metric(T, "services_got_sigterm", termed, 1);
    harness_metric(T, "stale_survivors", stale, 0);

    /* Leave nothing behind whatever the verdict: old services are not our children. */
    if (!sleeper_gone)
        kill(sleeper, SIGKILL);
    if (!piper_gone)
        kill(piper, SIGKILL);
    harness_stop(&d);

    cr_assert_eq(skipped, 0, "the journal has %zu damaged records after the restart", skipped);
    cr_assert_eq(werr, EPIPE, "the writer ended with %s, want EPIPE", strerror(werr));
    cr_assert_eq(w.gaps, 0, "the writer's stored lines have %ld gaps", w.gaps);
    cr_assert_leq(lost_bytes, CRASH1_LOSS_BOUND,
                  "%ld bytes lost: more than the pipe, the queue and one read hold (%d bytes)",
                  lost_bytes, CRASH1_LOSS_BOUND);
    cr_assert_eq(stale, 0, "%d service(s) of the killed minisupd still run", stale);
}

/* R7's other half: a service that ignores SIGTERM outlives minisupd's PR_SET_PDEATHSIG. After the
 * restart it must not be left running unsupervised next to a second instance. */
Test(reliability, CRASH_1_term_ignoring_service_not_left_behind)
{
    static const char *const T = "CRASH_1_term_ignoring_service_not_left_behind";
    pid_t old, new_pid;
    bool old_alive;
    char *log;

    harness_write_unitf(&d, "stubborn.service",
                        "[Service]\nExecStart=%s ignore-term\nTimeoutStopSec=2s\n" NO_LSAN
                        "\n[Install]\nWantedBy=multi-user.target\n",
                        HARNESS_TFX);
    harness_start(&d);
    cr_assert(harness_wait_journal_contains(&d, "stubborn", "ready", 10000));
    old = harness_main_pid(&d, "stubborn");
    kill_daemon_hard();
    harness_start(&d);
    new_pid = harness_main_pid(&d, "stubborn");
    /* Whatever the daemon does about leftovers, it does before it answers. */
    old_alive = harness_pid_alive(old);
    log = harness_read(&d, "minisupd.log");
    fprintf(stderr,
            "CRASH-1: TERM-ignoring service: old pid %d %s after the restart, new instance %d; "
            "log mentions stale processes: %s\n",
            (int)old, old_alive ? "STILL RUNNING" : "gone", (int)new_pid,
            log && (strstr(log, "stale") || strstr(log, "previous instance")) ? "yes" : "no");
    free(log);
    harness_metric(T, "stale_survivors", old_alive, 0);
    harness_metric(T, "instances_running", (double)old_alive + (new_pid > 0), 1);
    if (old_alive)
        kill(old, SIGKILL);
    harness_stop(&d);
    cr_assert(!old_alive,
              "pid %d of the killed minisupd ignores SIGTERM and still runs, unsupervised, next "
              "to the new instance %d: nothing stops leftovers at start-up (RELIABILITY.md "
              "CRASH-1: run/state and a sweep by start time)",
              (int)old, (int)new_pid);
}

/* The children a main process started stay in its process group when minisupd is killed and
 * the main process dies of PR_SET_PDEATHSIG. The restarted minisupd must stop that group
 * before it starts the unit again, or two copies of the service run side by side. */
Test(reliability, CRASH_1_children_of_a_dead_main_process_not_left_behind)
{
    static const char *const T = "CRASH_1_children_of_a_dead_main_process_not_left_behind";
    pid_t main_pid, child = 0;
    bool child_gone;
    char *text, *p;

    harness_write_unit(&d, "family.service",
                       "[Service]\nExecStart=/bin/sh -c 'sleep 1000 & echo child=$$!; wait'\n"
                       "\n[Install]\nWantedBy=multi-user.target\n");
    harness_start(&d);
    cr_assert(harness_wait_journal_contains(&d, "family", "child=", 10000));
    text = harness_journal_cat(&d, "family");
    p = strstr(text, "child=");
    cr_assert(p && sscanf(p, "child=%d", &child) == 1 && child > 0, "%s", text);
    free(text);
    main_pid = harness_main_pid(&d, "family");
    kill_daemon_hard();
    cr_assert(wait_until(pid_gone, (void *)(intptr_t)main_pid, 5000),
              "the main process outlived minisupd (PR_SET_PDEATHSIG)");
    cr_assert(harness_pid_alive(child), "the child must outlive its parent for this test");

    harness_start(&d);
    child_gone = wait_until(pid_gone, (void *)(intptr_t)child, 5000);
    harness_metric(T, "stale_survivors", !child_gone, 0);
    if (!child_gone)
        kill(child, SIGKILL);
    harness_stop(&d);
    cr_assert(child_gone,
              "pid %d, a child of the killed minisupd's service, still runs beside the new "
              "instance: its process group was not stopped",
              (int)child);
}

/* ======================================================================================== */
/* CRASH-3: minisupd killed with SIGKILL and started again 20 times while a unit writes. The
 * journal verifies (no damaged record, per-run sequences intact), host zombies stay flat, and no
 * old writer outlives its daemon. */

struct crash3_check {
    pid_t pids[64];
    long last[64], dups[64];
    size_t n;
    long lines;
};

static int crash3_cb(const struct journal_record *r, void *ud)
{
    struct crash3_check *c = ud;
    char buf[128];
    long i;
    size_t k;

    if (r->stream != JOURNAL_STREAM_STDOUT ||
        sscanf(msg_text(r, buf, sizeof(buf)), "w:%ld", &i) != 1)
        return 0;
    for (k = 0; k < c->n && c->pids[k] != r->pid; k++)
        ;
    if (k == c->n && c->n < 64) {
        c->pids[c->n] = r->pid;
        c->last[c->n] = 0;
        c->dups[c->n] = 0;
        c->n++;
    }
    if (k < 64) {
        if (i <= c->last[k])
            c->dups[k]++;
        c->last[k] = i;
    }
    c->lines++;
    return 0;
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

Test(reliability, CRASH_3_twenty_kill_9_restarts)
{
    static const char *const T = "CRASH_3_twenty_kill_9_restarts";
    int rounds = SCALE(20, 10), zombies0, zombies1, stale = 0;
    pid_t writers[32];
    struct crash3_check c = {0};
    size_t skipped, backwards = 0;
    char *log, *out = NULL;

    harness_write_unitf(
        &d, "w.service",
        "[Service]\nExecStart=%s seq 100000000 --rate 2000 --prefix w\n" NO_RATELIMIT NO_LSAN
        "\n[Install]\nWantedBy=multi-user.target\n",
        HARNESS_TFX);
    zombies0 = host_zombies();
    for (int k = 0; k < rounds; k++) {
        struct main_pid_wait mw = {"w", 0};

        harness_start(&d);
        cr_assert(wait_until(has_main_pid, &mw, 10000), "round %d: the writer did not start", k);
        writers[k] = mw.pid;
        /* The previous round's writer must be gone (EPIPE at its next line, 0.5 ms later). */
        if (k > 0 && !wait_until(pid_gone, (void *)(intptr_t)writers[k - 1], 5000)) {
            stale++;
            kill(writers[k - 1], SIGKILL);
        }
        cr_assert(harness_wait_journal_contains(&d, "w", "w:", 10000));
        kill_daemon_hard();
    }
    if (!wait_until(pid_gone, (void *)(intptr_t)writers[rounds - 1], 5000)) {
        stale++;
        kill(writers[rounds - 1], SIGKILL);
    }
    zombies1 = host_zombies();

    /* Offline first: the journal as the last killed instance left it. */
    int rc = harness_ctl(&d, &out, NULL, "journal", "--directory", d.log_dir, "-o", "cat", NULL);
    cr_assert_eq(rc, 0, "journal --directory failed on the crashed journal");
    free(out);
    harness_start(&d);
    skipped = read_journal(NULL, NULL, NULL);
    read_journal("w.service", crash3_cb, &c);
    for (size_t k = 0; k < c.n; k++)
        backwards += (size_t)c.dups[k];
    log = harness_read(&d, "minisupd.log");

    harness_metric(T, "restarts", rounds, 0);
    harness_metric(T, "journal_lines", (double)c.lines, 0);
    harness_metric(T, "runs_in_journal", (double)c.n, 0);
    harness_metric(T, "damaged_records", (double)skipped, 0);
    harness_metric(T, "duplicated_or_reordered", (double)backwards, 0);
    harness_metric(T, "torn_tail_repairs_logged", log ? (double)count_substr(log, "torn") : 0, 0);
    harness_metric(T, "host_zombies_delta_info", zombies1 - zombies0, 0);
    harness_metric(T, "writers_outliving_their_daemon", stale, 0);
    free(log);
    cr_assert_eq(skipped, 0, "%zu damaged records after %d crashes", skipped, rounds);
    cr_assert_eq(backwards, 0);
    cr_assert_geq(c.n, (size_t)rounds, "only %zu runs of the writer are in the journal", c.n);
    cr_assert_eq(stale, 0, "%d writers outlived their minisupd", stale);
    harness_stop(&d);
}

/* ======================================================================================== */
/* CLK-1: wall-clock steps during restart backoff and stop timeouts. */

Test(reliability, CLK_1_wall_clock_steps)
{
    SKIP_TEST("CLK_1_wall_clock_steps",
              "CLK-1 needs a clock of its own to step (CAP_SYS_TIME in a disposable VM): this "
              "suite never changes the host clock, and time namespaces cannot virtualise "
              "CLOCK_REALTIME. Timers use the monotonic clock (unit test "
              "service::start_limit_window_slides_on_monotonic_clock)");
}

/* ======================================================================================== */
/* CTL-1: 1000 clients at once, each connected before any sends; all answered; the daemon's fd
 * count returns to its baseline exactly. */

struct ctl1_client {
    pthread_t thread;
    double ms;
    enum raw_outcome outcome;
    int connect_errno;
};

static pthread_barrier_t ctl1_barrier;

static void *ctl1_run(void *arg)
{
    struct ctl1_client *c = arg;
    int fd = raw_connect();
    uint64_t t0;

    c->connect_errno = fd < 0 ? errno : 0;
    pthread_barrier_wait(&ctl1_barrier);
    if (fd < 0)
        return NULL;
    t0 = now_us();
    if (!raw_call(fd, "{\"method\":\"io.minisup.Manager.GetUnit\",\"parameters\":"
                      "{\"name\":\"target.service\"}}"))
        c->outcome = RAW_CLOSED;
    else
        c->outcome = raw_wait(fd, 30000, NULL, 0);
    c->ms = (double)(now_us() - t0) / 1000.0;
    close(fd);
    return NULL;
}

struct fd_wait {
    int want, last;
    bool not_journal; /* leave out the journal's open segments */
};

/* minisupd's fds but the journal segments its store keeps open (up to 64, reused, not a leak):
 * whether a unit's current.journal is open depends on whether a record of it was stored, which
 * with the writer thread may happen a moment after the fd limit was lifted. */
static int fd_count_not_journal(pid_t pid)
{
    char dir[64], path[PATH_MAX + 64], target[PATH_MAX];
    size_t len = strlen(d.log_dir);
    struct dirent *de;
    int n = 0;
    DIR *dp;

    snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
    dp = opendir(dir);
    if (!dp)
        return -1;
    while ((de = readdir(dp))) {
        ssize_t k;

        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        k = readlink(path, target, sizeof(target) - 1);
        if (k >= 0) {
            target[k] = '\0';
            if (strncmp(target, d.log_dir, len) == 0 && target[len] == '/')
                continue;
        }
        n++;
    }
    closedir(dp);
    return n - 1; /* the directory stream's own fd */
}

static bool fds_back(void *arg)
{
    struct fd_wait *w = arg;

    w->last = w->not_journal ? fd_count_not_journal(d.pid) : harness_fd_count(d.pid);
    /* A leak is more fds than before. Fewer is not: the baseline may have held one that was on
     * its way out (a journal segment closed later, a client's socket before its EOF was read),
     * as CI once saw (27 after, 28 before). */
    return w->last <= w->want;
}

Test(reliability, CTL_1_thousand_parallel_clients)
{
    static const char *const T = "CTL_1_thousand_parallel_clients";
    enum { N = 1000 };
    static struct ctl1_client clients[N];
    static double ms[N];
    struct rlimit rl;
    pthread_attr_t attr;
    size_t answered = 0, n_ms = 0;
    int connect_failed = 0;
    long rss0, rss1;
    struct fd_wait fw = {0};

    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max < N + 64)
        SKIP_TEST(T, "CTL-1 needs %d fds in the test process; the hard limit is %llu", N + 64,
                  (unsigned long long)rl.rlim_max);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    harness_write_unitf(&d, "target.service", "[Service]\nExecStart=%s sleep 3600\n" NO_LSAN,
                        HARNESS_TFX);
    harness_start(&d);
    fw.want = harness_fd_count(d.pid);
    rss0 = harness_status_kib(d.pid, "VmRSS");

    cr_assert_eq(pthread_barrier_init(&ctl1_barrier, NULL, N + 1), 0);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (int i = 0; i < N; i++) {
        clients[i].outcome = RAW_TIMEOUT;
        cr_assert_eq(pthread_create(&clients[i].thread, &attr, ctl1_run, &clients[i]), 0,
                     "thread %d", i);
    }
    pthread_barrier_wait(&ctl1_barrier);
    for (int i = 0; i < N; i++) {
        pthread_join(clients[i].thread, NULL);
        if (clients[i].connect_errno)
            connect_failed++;
        else if (clients[i].outcome == RAW_REPLY) {
            answered++;
            ms[n_ms++] = clients[i].ms;
        }
    }
    pthread_attr_destroy(&attr);
    pthread_barrier_destroy(&ctl1_barrier);
    bool fds_ok = wait_until(fds_back, &fw, 10000);
    rss1 = harness_status_kib(d.pid, "VmRSS");

    harness_metric(T, "clients", N, N);
    harness_metric(T, "answered", (double)answered, N);
    harness_metric(T, "connect_failed", connect_failed, 0);
    harness_metric(T, "latency_p50_ms", quantile(ms, n_ms, 0.5), 0);
    harness_metric(T, "latency_p99_ms", quantile(ms, n_ms, 0.99), 100);
    harness_metric(T, "latency_max_ms", n_ms ? ms[n_ms - 1] : 0, 1000);
    harness_metric(T, "fd_delta_after", fw.last - fw.want, 0);
    harness_metric(T, "rss_delta_kib_after", (double)(rss1 - rss0), 1024);
    cr_assert_eq(connect_failed, 0, "%d clients could not connect", connect_failed);
    cr_assert_eq(answered, N, "%zu of %d clients answered", answered, N);
    cr_assert(fds_ok, "minisupd holds %d fds after the clients left, %d before", fw.last, fw.want);
    harness_stop(&d);
}

/* ======================================================================================== */
/* CTL-2: journal followers that never read, and a client that pipelines calls and never reads,
 * while a unit floods. The daemon disconnects them; its memory stays bounded; others are served.
 * Design (docs/design-decisions.md): a client whose unread replies exceed 8 MiB is dropped. */

Test(reliability, CTL_2_stalled_readers_disconnected)
{
    static const char *const T = "CTL_2_stalled_readers_disconnected";
    enum { STALLED = 10 };
    long bytes = SCALE(40L, 20L) * 1000 * 1000;
    int fds[STALLED], pipelined, small = 4096, dropped = 0;
    long hwm0, hwm1;
    char *log;
    static char calls[20000 * 100];
    size_t len = 0;

    harness_write_unitf(&d, "flood.service",
                        "[Service]\nExecStart=%s flood %ld\n" NO_RATELIMIT NO_LSAN, RFX, bytes);
    harness_start(&d);
    hwm0 = harness_status_kib(d.pid, "VmHWM");
    for (int i = 0; i < STALLED; i++) {
        fds[i] = raw_connect();
        cr_assert(fds[i] >= 0);
        setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
        cr_assert(raw_call(fds[i],
                           "{\"method\":\"io.minisup.Manager.GetJournal\",\"parameters\":"
                           "{\"units\":[\"flood.service\"],\"follow\":true},\"more\":true}"));
    }
    /* (b) 20000 pipelined calls (some 30 MB of replies) that are never read. */
    pipelined = raw_connect_flags(SOCK_NONBLOCK);
    cr_assert(pipelined >= 0);
    setsockopt(pipelined, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    for (int i = 0; i < 20000; i++) {
        static const char call[] =
            "{\"method\":\"io.minisup.Manager.GetUnit\",\"parameters\":{\"name\":\"flood\"}}";
        memcpy(calls + len, call, sizeof(call));
        len += sizeof(call);
    }
    bool pipelined_sent = raw_send(pipelined, calls, len);

    ctl_ok("start", "flood");
    assert_serves("while stalled readers pile up replies");
    harness_wait_down(&d, "flood", 240000);
    assert_serves("after the flood");
    hwm1 = harness_status_kib(d.pid, "VmHWM");
    for (int i = 0; i < STALLED; i++) {
        if (raw_drain_until_closed(fds[i], 30000))
            dropped++;
        close(fds[i]);
    }
    bool pipelined_dropped = !pipelined_sent || raw_drain_until_closed(pipelined, 30000);
    close(pipelined);
    log = harness_read(&d, "minisupd.log");

    harness_metric(T, "stalled_followers", STALLED, 0);
    harness_metric(T, "followers_disconnected", dropped, STALLED);
    harness_metric(T, "pipelined_client_disconnected", pipelined_dropped, 1);
    harness_metric(T, "disconnect_log_lines",
                   log ? (double)count_substr(log, "does not read its replies") : 0, 0);
    harness_metric(T, "hwm_growth_mib", (double)(hwm1 - hwm0) / 1024.0, 8);
    harness_metric(T, "hwm_growth_per_stalled_client_mib",
                   (double)(hwm1 - hwm0) / 1024.0 / (STALLED + 1), 8);
    free(log);
    cr_assert_eq(dropped, STALLED, "%d of %d stalled followers were disconnected", dropped,
                 STALLED);
    cr_assert(pipelined_dropped, "the client that never read its replies was not disconnected");
    /* The design bounds each client's unread output at 8 MiB; the whole daemon must stay within
     * that per client plus its own working set. */
    if (!SANITIZED)
        cr_assert_lt(hwm1 - hwm0, (STALLED + 1) * 9 * 1024 + 16 * 1024,
                     "minisupd's peak grew by %ld KiB", hwm1 - hwm0);
    harness_stop(&d);
}

/* ======================================================================================== */
/* Pipelined calls (varlink.org: answered in order) leave the daemon together: the replies to
 * what one read brought are written at once, so a client such as `minisupctl status` (GetUnit
 * and GetJournal in one send) is woken once. Counted by write(2) calls in /proc/PID/io, so the
 * test does not depend on timing: one write per reply would be 100 here. */

/* The daemon's write(2) count (syscw), or -1. */
static long proc_syscw(pid_t pid)
{
    char path[64], buf[512];
    long v = -1;

    snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(buf, sizeof(buf), f))
        if (sscanf(buf, "syscw: %ld", &v) == 1)
            break;
    fclose(f);
    return v;
}

Test(reliability, pipelined_calls_answered_in_order_in_one_write)
{
    enum { CALLS = 100 };
    static char calls[CALLS * 128], in[CALLS * 4096];
    size_t len = 0, got = 0, seen = 0;
    long w0, w1;
    uint64_t deadline;
    int fd;

    harness_write_unitf(&d, "even.service", "[Service]\nExecStart=%s sleep 3600\n", HARNESS_TFX);
    harness_write_unitf(&d, "odd.service", "[Service]\nExecStart=%s sleep 3600\n", HARNESS_TFX);
    harness_start(&d);
    for (int i = 0; i < CALLS; i++)
        len += (size_t)snprintf(calls + len, sizeof(calls) - len,
                                "{\"method\":\"io.minisup.Manager.GetUnit\",\"parameters\":"
                                "{\"name\":\"%s\"}}",
                                i % 2 ? "odd" : "even") +
               1;
    fd = raw_connect();
    cr_assert(fd >= 0, "connect: %s", strerror(errno));
    /* The daemon is idle between the two readings: no unit runs, so nothing else writes. */
    w0 = proc_syscw(d.pid);
    cr_assert(w0 >= 0, "cannot read /proc/%d/io", (int)d.pid);
    cr_assert(raw_send(fd, calls, len));
    deadline = harness_now_ms() + 20000;
    while (seen < CALLS && harness_now_ms() < deadline) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};

        if (poll(&pf, 1, 1000) <= 0)
            continue;
        ssize_t n = read(fd, in + got, sizeof(in) - got - 1);
        cr_assert(n > 0, "the daemon closed the connection after %zu replies", seen);
        got += (size_t)n;
        seen = 0;
        for (size_t i = 0; i < got; i++)
            seen += in[i] == '\0';
    }
    w1 = proc_syscw(d.pid);
    close(fd);
    cr_assert_eq(seen, CALLS, "%zu of %d replies before the deadline", seen, CALLS);
    /* Answered in order: the n-th reply names the unit the n-th call asked for. */
    const char *p = in;
    for (int i = 0; i < CALLS; i++) {
        json_t *m = json_loads(p, 0, NULL);
        const char *name = NULL;

        cr_assert(m, "reply %d is not JSON: %.80s", i, p);
        json_unpack(m, "{s:{s:{s:s}}}", "parameters", "unit", "name", &name);
        cr_assert_str_eq(name ? name : "(none)", i % 2 ? "odd.service" : "even.service",
                         "reply %d names %s", i, name ? name : "no unit");
        json_decref(m);
        p += strlen(p) + 1;
    }
    harness_metric("pipelined_calls_answered_in_order_in_one_write", "daemon_writes",
                   (double)(w1 - w0), 9);
    cr_assert_lt(w1 - w0, 10, "%d pipelined replies took %ld writes", CALLS, w1 - w0);
    harness_stop(&d);
}

/* ======================================================================================== */
/* CTL-3: minisupd under a low RLIMIT_NOFILE (prlimit, hard limit too, since minisupd raises its
 * soft limit to the hard one). Clients beyond the limit fail; the daemon does not spin, does not
 * die, answers on a connection it already has, and serves new clients again once fds are free. */

Test(reliability, CTL_3_fd_exhaustion)
{
    static const char *const T = "CTL_3_fd_exhaustion";
    static const char *const wrapper[] = {"prlimit", "--nofile=48:48", "--", NULL};
    struct harness_start_opts o = {.wrapper = wrapper};
    enum { CLIENTS = 120 };
    int fds[CLIENTS], conn0, answered = 0, closed = 0, pending = 0, base_fds;
    char err[128];
    unsigned long long cpu0, cpu1;
    uint64_t t0, t1;
    enum raw_outcome o0;
    struct fd_wait fw = {0};

    if (access("/usr/bin/prlimit", X_OK) != 0 && access("/bin/prlimit", X_OK) != 0)
        SKIP_TEST(T,
                  "CTL-3 needs prlimit(1) from util-linux to start minisupd with a low fd limit");
    harness_write_unitf(&d, "late.service", "[Service]\nExecStart=%s sleep 3600\n" NO_LSAN,
                        HARNESS_TFX);
    harness_start_with(&d, &o);
    base_fds = fd_count_not_journal(d.pid);
    conn0 = raw_connect();
    cr_assert(conn0 >= 0);
    cr_assert(raw_call(conn0, CALL_GET_VERSION));
    cr_assert_eq(raw_wait(conn0, 10000, NULL, 0), RAW_REPLY);

    cpu0 = harness_cpu_ticks(d.pid);
    t0 = harness_now_ms();
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = raw_connect_flags(SOCK_NONBLOCK);
        if (fds[i] >= 0 && !raw_call(fds[i], CALL_GET_VERSION)) {
            close(fds[i]);
            fds[i] = -1;
        }
        if (fds[i] < 0)
            closed++;
    }
    for (int i = 0; i < CLIENTS; i++) {
        if (fds[i] < 0)
            continue;
        switch (raw_wait(fds[i], i < 60 ? 3000 : 200, NULL, 0)) {
        case RAW_REPLY:
        case RAW_ERROR:
            answered++;
            break;
        case RAW_CLOSED:
            closed++;
            break;
        case RAW_TIMEOUT:
            pending++;
            break;
        }
    }
    /* While exhausted: a start on the connection the daemon already has (spawning needs fds for
     * pipes: it may fail, but cleanly). */
    cr_assert(raw_call(conn0, "{\"method\":\"io.minisup.Manager.StartUnit\",\"parameters\":"
                              "{\"name\":\"late\"}}"));
    o0 = raw_wait(conn0, 20000, err, sizeof(err));
    t1 = harness_now_ms();
    cpu1 = harness_cpu_ticks(d.pid);
    cr_assert(o0 == RAW_REPLY || o0 == RAW_ERROR, "StartUnit while out of fds: %s",
              raw_outcome_name[o0]);
    fprintf(stderr, "CTL-3: start while out of fds: %s %s\n", raw_outcome_name[o0], err);

    for (int i = 0; i < CLIENTS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    close(conn0);
    fw.want = base_fds;
    fw.not_journal = true;
    /* Served again, and the fds come back (the unit may hold pipes if it started). */
    assert_serves("after the clients left");
    harness_ctl(&d, NULL, NULL, "stop", "late", NULL);
    bool fds_ok = wait_until(fds_back, &fw, 10000);
    ctl_ok("start", "late");
    ctl_ok("stop", "late");

    harness_metric(T, "fd_limit", 48, 0);
    harness_metric(T, "daemon_fds_idle", base_fds, 0);
    harness_metric(T, "clients_answered", answered, 0);
    harness_metric(T, "clients_refused_or_closed", closed, 0);
    harness_metric(T, "clients_left_waiting", pending, 0);
    harness_metric(T, "minisupd_cpu_percent_exhausted", cpu_percent(cpu1 - cpu0, t1 - t0), 5);
    harness_metric(T, "fd_delta_after", fw.last - fw.want, 0);
    cr_assert_gt(answered, 0, "no client was answered before the limit");
    cr_assert_gt(closed + pending, 0, "the fd limit was never reached");
    cr_assert(fds_ok, "minisupd holds %d fds after recovery, %d before", fw.last, fw.want);
    harness_stop(&d);
}

/* ======================================================================================== */
/* CTL-4: malformed messages, each on its own connection: answered with an error or closed, never
 * a hang or a death, and no state changes. Then random blobs (the fuzzer's job, replayed live). */

static char *repeat(const char *a, size_t n, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(n * (la + lb) + 1), *p = s;

    cr_assert_not_null(s);
    for (size_t i = 0; i < n; i++, p += la)
        memcpy(p, a, la);
    for (size_t i = 0; i < n; i++, p += lb)
        memcpy(p, b, lb);
    *p = '\0';
    return s;
}

struct bad_case {
    const char *name;
    char *bytes;
    size_t len;
};

Test(reliability, CTL_4_malformed_messages)
{
    static const char *const T = "CTL_4_malformed_messages";
    int blobs = SCALE(1000, 300), outcomes[4] = {0}, hung = 0;
    struct bad_case cases[32];
    size_t n = 0;
    char *deep_arr = repeat("[", 100000, "]"), *deep_obj = repeat("{\"a\":", 50000, "}");
    char *long_name = malloc(12000);
    pid_t keeper;
    json_t *u;
    unsigned seed = 12345;

    cr_assert_not_null(long_name);
    memcpy(long_name, "{\"method\":\"io.minisup.Manager.StartUnit\",\"parameters\":{\"name\":\"",
           62);
    memset(long_name + 62, 'k', 10240);
    strcpy(long_name + 62 + 10240, "\"}}");

#define CASE(nm, text) (cases[n++] = (struct bad_case){nm, (char *)(uintptr_t)(text), sizeof(text)})
    CASE("empty message", "");
    CASE("not json", "hello, minisupd");
    CASE("truncated json", "{\"method\":");
    CASE("array", "[1,2,3]");
    CASE("string", "\"GetVersion\"");
    CASE("number", "42");
    CASE("null", "null");
    CASE("method not a string", "{\"method\":5,\"parameters\":{}}");
    CASE("no method", "{\"parameters\":{}}");
    CASE("parameters not an object",
         "{\"method\":\"io.minisup.Manager.GetUnit\",\"parameters\":[\"keeper\"]}");
    CASE("name not a string", "{\"method\":\"io.minisup.Manager.StopUnit\",\"parameters\":"
                              "{\"name\":5}}");
    CASE("duplicate keys", "{\"method\":\"io.minisup.Manager.StopUnit\",\"parameters\":"
                           "{\"name\":\"keeper\"},\"parameters\":{\"name\":\"keeper\"}}");
    CASE("unknown method", "{\"method\":\"io.minisup.Manager.Explode\",\"parameters\":{}}");
    CASE("unknown interface", "{\"method\":\"org.example.Evil.Run\",\"parameters\":{}}");
    CASE("invalid utf-8 name", "{\"method\":\"io.minisup.Manager.StopUnit\",\"parameters\":"
                               "{\"name\":\"\xff\xfe\xc0\xaf\"}}");
    CASE("escaped NUL in name", "{\"method\":\"io.minisup.Manager.StopUnit\",\"parameters\":"
                                "{\"name\":\"keeper\\u0000.service\"}}");
    CASE("slash and dots", "{\"method\":\"io.minisup.Manager.StopUnit\",\"parameters\":"
                           "{\"name\":\"../units/keeper.service\"}}");
    /* A oneway call gets no reply by definition: the GetVersion after it must be answered. */
    CASE("oneway with bad params", "{\"method\":\"io.minisup.Manager.StopUnit\",\"parameters\":"
                                   "{\"name\":[]},\"oneway\":true}\0" CALL_GET_VERSION);
    CASE("more on a plain method", "{\"method\":\"io.minisup.Manager.StopUnit\",\"parameters\":"
                                   "{\"name\":\"nothere\"},\"more\":true}");
    CASE("lines negative", "{\"method\":\"io.minisup.Manager.GetJournal\",\"parameters\":"
                           "{\"lines\":-5,\"since\":-1}}");
    CASE("huge integer", "{\"method\":\"io.minisup.Manager.KillUnit\",\"parameters\":"
                         "{\"name\":\"keeper\",\"signal\":99999999999999999999999}}");
    CASE("signal out of range", "{\"method\":\"io.minisup.Manager.KillUnit\",\"parameters\":"
                                "{\"name\":\"nothere\",\"signal\":-9}}");
#undef CASE
    cases[n++] = (struct bad_case){"100000-deep array", deep_arr, strlen(deep_arr) + 1};
    cases[n++] = (struct bad_case){"50000-deep object", deep_obj, strlen(deep_obj) + 1};
    cases[n++] = (struct bad_case){"10 KiB unit name", long_name, strlen(long_name) + 1};

    harness_write_unitf(&d, "keeper.service",
                        "[Service]\nExecStart=%s sleep 3600\n" NO_LSAN
                        "\n[Install]\nWantedBy=multi-user.target\n",
                        HARNESS_TFX);
    harness_start(&d);
    keeper = harness_main_pid(&d, "keeper");
    cr_assert(keeper > 0);
    for (size_t i = 0; i < n; i++) {
        int fd = raw_connect();
        char err[256];
        enum raw_outcome o;

        cr_assert(fd >= 0, "%s: cannot connect", cases[i].name);
        raw_send(fd, cases[i].bytes, cases[i].len);
        o = raw_wait(fd, 5000, err, sizeof(err));
        close(fd);
        outcomes[o]++;
        fprintf(stderr, "CTL-4: %-26s -> %s %s\n", cases[i].name, raw_outcome_name[o], err);
        if (o == RAW_TIMEOUT)
            hung++;
        assert_serves(cases[i].name);
    }
    /* Random blobs: garbage bytes, and valid calls with random bytes flipped. */
    for (int i = 0; i < blobs; i++) {
        char blob[600];
        size_t len;
        int fd = raw_connect();
        enum raw_outcome o;

        cr_assert(fd >= 0);
        if (i % 2 == 0) {
            len = 1 + (size_t)(rand_r(&seed) % 512);
            for (size_t k = 0; k < len; k++)
                blob[k] = (char)(1 + rand_r(&seed) % 255);
        } else {
            static const char base[] =
                "{\"method\":\"io.minisup.Manager.GetUnit\",\"parameters\":{\"name\":\"keeper\"}}";
            len = sizeof(base) - 1;
            memcpy(blob, base, len);
            for (int k = 0; k < 3; k++)
                blob[rand_r(&seed) % len] = (char)(1 + rand_r(&seed) % 255);
        }
        blob[len++] = '\0';
        raw_send(fd, blob, len);
        o = raw_wait(fd, 5000, NULL, 0);
        close(fd);
        outcomes[o]++;
        if (o == RAW_TIMEOUT)
            hung++;
    }
    assert_serves("after the random blobs");
    u = harness_get_unit(&d, "keeper");
    bool unchanged = strcmp(jstr(u, "activeState"), "active") == 0 && jint(u, "mainPid") == keeper;
    json_decref(u);

    harness_metric(T, "cases", (double)n + blobs, 0);
    harness_metric(T, "closed", outcomes[RAW_CLOSED], 0);
    harness_metric(T, "error_replies", outcomes[RAW_ERROR], 0);
    harness_metric(T, "replies", outcomes[RAW_REPLY], 0);
    harness_metric(T, "unanswered_5s", hung, 0);
    harness_metric(T, "daemon_deaths", 0, 0);
    harness_metric(T, "state_changed", unchanged ? 0 : 1, 0);
    cr_assert_eq(hung, 0, "%d malformed messages were neither answered nor closed within 5 s",
                 hung);
    cr_assert(unchanged, "malformed messages changed keeper.service");
    free(deep_arr);
    free(deep_obj);
    free(long_name);
    harness_stop(&d);
}

/* ======================================================================================== */
/* CTL-5: messages over the 1 MiB limit are refused without being held; a message just under it is
 * served; a half message trickled one byte a second is dropped after 10 s, while other clients
 * are served all along. */

/* Whether the daemon refused what was sent on fd: closed the connection, at once or after one
 * error reply. Closes fd. */
static bool refused(int fd)
{
    enum raw_outcome o = raw_wait(fd, 10000, NULL, 0);
    bool closed = o == RAW_CLOSED || (o == RAW_ERROR && raw_drain_until_closed(fd, 5000));

    close(fd);
    return closed;
}

Test(reliability, CTL_5_oversized_and_slowloris)
{
    static const char *const T = "CTL_5_oversized_and_slowloris";
    static const char head[] = "{\"method\":\"io.minisup.Manager.GetVersion\",\"parameters\":{}";
    size_t big = 2u << 20, near = (1u << 20) - 4096;
    char *buf = malloc(big + 256), err[128];
    int slow, o1, o2, o3, served = 0;
    long hwm0, hwm1;
    uint64_t t0, dropped_ms = 0;
    enum raw_outcome r3;
    bool r1, r2;
    size_t trickled = 0;

    cr_assert_not_null(buf);
    harness_start(&d);
    hwm0 = harness_status_kib(d.pid, "VmHWM");
    slow = raw_connect();
    cr_assert(slow >= 0);
    cr_assert(raw_send(slow, "{\"method\":", 10));
    t0 = harness_now_ms();

    /* 2 MiB without a terminator: closed once it passes the limit. */
    memset(buf, 'a', big);
    o1 = raw_connect();
    raw_send(o1, buf, big);
    r1 = refused(o1);
    /* A complete 1.5 MiB message: refused, not parsed. */
    int n = snprintf(buf, 256,
                     "{\"method\":\"io.minisup.Manager.GetVersion\",\"parameters\":"
                     "{\"pad\":\"");
    memset(buf + n, 'b', (3u << 19));
    strcpy(buf + n + (3u << 19), "\"}}");
    o2 = raw_connect();
    raw_send(o2, buf, strlen(buf) + 1);
    r2 = refused(o2);
    /* Just under the limit: a reply (an error for the unknown parameter is a reply too). */
    n = snprintf(buf, 256, "%s", head);
    n += snprintf(buf + n, 256, ",\"pad\":\"");
    memset(buf + n, 'c', near);
    strcpy(buf + n + near, "\"}");
    o3 = raw_connect();
    raw_send(o3, buf, strlen(buf) + 1);
    r3 = raw_wait(o3, 10000, err, sizeof(err));
    close(o3);
    hwm1 = harness_status_kib(d.pid, "VmHWM");

    /* Slowloris: one more byte a second until the daemon hangs up; others served meanwhile. */
    for (;;) {
        struct pollfd pf = {.fd = slow, .events = POLLIN};
        char c;

        assert_serves("while a client trickles half a message");
        served++;
        if (poll(&pf, 1, 1000) > 0) {
            ssize_t k = read(slow, &c, 1);

            if (k <= 0) {
                dropped_ms = harness_now_ms() - t0;
                break;
            }
        }
        cr_assert_lt(harness_now_ms() - t0, 30000, "the half message was not dropped in 30 s");
        if (send(slow, "\"", 1, MSG_NOSIGNAL) == 1)
            trickled++;
    }
    close(slow);

    harness_metric(T, "oversized_2mib_refused_and_closed", r1, 1);
    harness_metric(T, "complete_1_5mib_refused_and_closed", r2, 1);
    harness_metric(T, "just_under_limit_answered", r3 == RAW_REPLY || r3 == RAW_ERROR, 1);
    harness_metric(T, "hwm_growth_mib_oversized", (double)(hwm1 - hwm0) / 1024.0, 1);
    harness_metric(T, "slowloris_bytes_trickled", (double)trickled, 0);
    harness_metric(T, "slowloris_dropped_after_s", (double)dropped_ms / 1000.0, 11);
    harness_metric(T, "other_clients_served_meanwhile", served, 0);
    cr_assert(r1, "2 MiB without a terminator was not refused with the connection closed");
    cr_assert(r2, "a complete 1.5 MiB message was not refused with the connection closed");
    cr_assert(r3 == RAW_REPLY || r3 == RAW_ERROR, "a message just under 1 MiB: %s",
              raw_outcome_name[r3]);
    cr_assert_gt(dropped_ms, 0);
    free(buf);
    harness_stop(&d);
}

/* ======================================================================================== */
/* SEC-3: the runtime directory minisupd creates and the socket in it: owned by minisupd's user,
 * not writable by others, socket 0666 for a root daemon (each call checked by SO_PEERCRED) and
 * 0600 otherwise; no abstract-namespace socket; journal not world-readable. */

/* Socket inodes of pid's fds into out; returns how many. */
static size_t socket_inodes(pid_t pid, unsigned long *out, size_t max)
{
    int fds[1024], n = proc_fds(pid, fds, 1024);
    size_t k = 0;

    for (int i = 0; i < n && k < max; i++) {
        char target[128];

        if (proc_fd_target(pid, fds[i], target, sizeof(target)) &&
            sscanf(target, "socket:[%lu]", &out[k]) == 1)
            k++;
    }
    return k;
}

/* A file mode as the decimal number that reads like its octal form (0755 -> 755), for figures. */
static double octal_figure(unsigned mode)
{
    char buf[16];

    snprintf(buf, sizeof(buf), "%o", mode);
    return atof(buf);
}

Test(reliability, SEC_3_socket_and_runtime_dir_modes)
{
    static const char *const T = "SEC_3_socket_and_runtime_dir_modes";
    bool root = geteuid() == 0;
    struct stat st_dir, st_sock, st_jdir, st_jfile;
    char jdir[PATH_MAX], jfile[PATH_MAX + 32];
    unsigned long inodes[64];
    size_t n_inodes, abstract = 0;
    char line[512];
    FILE *f;

    /* A runtime directory that does not exist yet, so minisupd creates it. */
    harness_path(&d, d.run_dir, "rt-new");
    cr_assert_lt(snprintf(d.socket, sizeof(d.socket), "%s/minisupd.sock", d.run_dir),
                 (int)sizeof(d.socket));
    harness_write_unitf(&d, "talk.service", "[Service]\nExecStart=%s seq 3\n", HARNESS_TFX);
    harness_start(&d);
    ctl_ok("start", "talk");
    harness_wait_down(&d, "talk", 10000);

    cr_assert_eq(lstat(d.run_dir, &st_dir), 0, "minisupd did not create %s", d.run_dir);
    cr_assert_eq(lstat(d.socket, &st_sock), 0);
    cr_assert_lt(snprintf(jdir, sizeof(jdir), "%s/talk.service", d.log_dir), (int)sizeof(jdir));
    snprintf(jfile, sizeof(jfile), "%s/current.journal", jdir);
    cr_assert_eq(stat(jdir, &st_jdir), 0);
    cr_assert_eq(stat(jfile, &st_jfile), 0);

    n_inodes = socket_inodes(d.pid, inodes, 64);
    f = fopen("/proc/net/unix", "re");
    cr_assert_not_null(f);
    while (fgets(line, sizeof(line), f)) {
        unsigned long inode;
        char path[256] = "";

        if (sscanf(line, "%*s %*s %*s %*s %*s %*s %lu %255s", &inode, path) < 1)
            continue;
        for (size_t i = 0; i < n_inodes; i++)
            if (inodes[i] == inode && path[0] == '@')
                abstract++;
    }
    fclose(f);

    unsigned dir_mode = st_dir.st_mode & 07777, sock_mode = st_sock.st_mode & 07777;
    unsigned want_sock = root ? 0666 : 0600;
    harness_metric(T, "runtime_dir_mode_octal", octal_figure(dir_mode), root ? 755 : 700);
    harness_metric(T, "socket_mode_octal", octal_figure(sock_mode), octal_figure(want_sock));
    harness_metric(T, "abstract_sockets", (double)abstract, 0);
    harness_metric(T, "journal_dir_mode_octal", octal_figure(st_jdir.st_mode & 07777), 750);
    harness_metric(T, "journal_file_mode_octal", octal_figure(st_jfile.st_mode & 07777), 640);
    cr_assert(S_ISDIR(st_dir.st_mode) && st_dir.st_uid == geteuid());
    cr_assert_eq(dir_mode & 0022, 0, "runtime dir mode %o is writable by others", dir_mode);
    if (!root)
        cr_assert_eq(dir_mode & 0077, 0, "a user instance's runtime dir is %o", dir_mode);
    cr_assert(S_ISSOCK(st_sock.st_mode) && st_sock.st_uid == geteuid());
    cr_assert_eq(sock_mode, want_sock, "socket mode %o, want %o", sock_mode, want_sock);
    cr_assert_eq(abstract, 0, "minisupd holds %zu abstract-namespace sockets", abstract);
    cr_assert_eq(st_jdir.st_mode & 0007, 0, "journal dir is %o", st_jdir.st_mode & 07777);
    cr_assert_eq(st_jfile.st_mode & 0007, 0, "journal file is %o", st_jfile.st_mode & 07777);
    harness_stop(&d);
}

/* ======================================================================================== */
/* SEC-5: unit names with shell metacharacters, specifiers and paths in every call that takes a
 * name: rejected as NoSuchUnit or InvalidParameter, never run, never a file outside the unit
 * directory. */

Test(reliability, SEC_5_no_injection_through_unit_names)
{
    static const char *const T = "SEC_5_no_injection_through_unit_names";
    static const char *const methods[] = {
        "GetUnit",           "StartUnit",           "StopUnit",        "RestartUnit", "ReloadUnit",
        "TryRestartUnit",    "ReloadOrRestartUnit", "ResetFailedUnit", "KillUnit",    "GetUnitFile",
        "GetUnitProperties",
    };
    char base_marker[PATH_MAX], names[16][PATH_MAX + 64];
    size_t n_names = 0;
    int calls = 0, accepted = 0, journal_leaks = 0;
    char *cli_err = NULL;

    harness_path(&d, base_marker, "pwned");
    snprintf(names[n_names++], sizeof(names[0]), "$(touch %s-1)", base_marker);
    snprintf(names[n_names++], sizeof(names[0]), "`touch %s-2`", base_marker);
    snprintf(names[n_names++], sizeof(names[0]), "x;touch %s-3", base_marker);
    snprintf(names[n_names++], sizeof(names[0]), "victim.service; touch %s-4", base_marker);
    snprintf(names[n_names++], sizeof(names[0]), "|touch %s-5", base_marker);
    snprintf(names[n_names++], sizeof(names[0]), "../evil.service");
    snprintf(names[n_names++], sizeof(names[0]), "../../evil");
    snprintf(names[n_names++], sizeof(names[0]), "%s/evil.service", d.base);
    snprintf(names[n_names++], sizeof(names[0]), "%%n");
    snprintf(names[n_names++], sizeof(names[0]), "victim@%%n.service");
    snprintf(names[n_names++], sizeof(names[0]), "victim.service\n");
    snprintf(names[n_names++], sizeof(names[0]), "victim service");
    snprintf(names[n_names++], sizeof(names[0]), "-victim");
    snprintf(names[n_names++], sizeof(names[0]), "victim.service/../victim.service");
    snprintf(names[n_names++], sizeof(names[0]), "*");

    harness_write_unitf(&d, "victim.service", "[Service]\nExecStart=%s sleep 3600\n" NO_LSAN,
                        HARNESS_TFX);
    /* A unit file outside the unit directory that must never be read or run. */
    {
        char evil[PATH_MAX];
        FILE *f = fopen(harness_path(&d, evil, "evil.service"), "we");

        cr_assert_not_null(f);
        fprintf(f, "[Service]\nExecStart=/bin/touch %s-evil\n", base_marker);
        fclose(f);
    }
    harness_start(&d);
    for (size_t i = 0; i < n_names; i++) {
        for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
            char err[256];
            json_t *r =
                call_try(methods[m], json_pack("{s:s}", "name", names[i]), err, sizeof(err));

            calls++;
            if (r || (strcmp(err, "io.minisup.Manager.NoSuchUnit") != 0 &&
                      strcmp(err, "org.varlink.service.InvalidParameter") != 0)) {
                accepted++;
                fprintf(stderr, "SEC-5: %s(\"%s\") -> %s\n", methods[m], names[i],
                        r ? "accepted" : err);
            }
            json_decref(r);
        }
        /* GetJournal: an error, or nothing at all. */
        {
            char err[256];
            json_t *r =
                call_try("GetJournal", json_pack("{s:[s]}", "units", names[i]), err, sizeof(err));

            calls++;
            if (r && json_array_size(json_object_get(r, "entries")) > 0) {
                journal_leaks++;
                fprintf(stderr, "SEC-5: GetJournal([\"%s\"]) returned entries\n", names[i]);
            }
            json_decref(r);
        }
        /* The same through the CLI, except a glob pattern ("*"): minisupctl expands that to
         * the loaded units it matches, as systemctl does, so it would rightly start victim. The
         * daemon itself refused it above. */
        if (strpbrk(names[i], "*?["))
            continue;
        harness_ctl(&d, NULL, &cli_err, "start", names[i], NULL);
        free(cli_err);
        cli_err = NULL;
    }

    int pwned = 0;
    for (int k = 1; k <= 5; k++) {
        char p[PATH_MAX + 16];

        snprintf(p, sizeof(p), "%s-%d", base_marker, k);
        pwned += file_exists(p);
    }
    {
        char p[PATH_MAX + 16];

        snprintf(p, sizeof(p), "%s-evil", base_marker);
        pwned += file_exists(p);
    }
    json_t *u = harness_get_unit(&d, "victim");
    bool victim_untouched = strcmp(jstr(u, "activeState"), "inactive") == 0;
    json_decref(u);

    harness_metric(T, "names", (double)n_names, 0);
    harness_metric(T, "calls", calls, 0);
    harness_metric(T, "accepted_or_wrong_error", accepted, 0);
    harness_metric(T, "journal_entries_returned", journal_leaks, 0);
    harness_metric(T, "commands_run", pwned, 0);
    cr_assert_eq(pwned, 0, "%d injected commands ran", pwned);
    cr_assert_eq(accepted, 0,
                 "%d calls with hostile names were not refused as NoSuchUnit or "
                 "InvalidParameter",
                 accepted);
    cr_assert_eq(journal_leaks, 0);
    cr_assert(victim_untouched, "victim.service was started by a hostile name");
    harness_stop(&d);
}

/* ======================================================================================== */
/* EXEC-2: neither the control socket (listening or connected) nor journal files reach a
 * service: a service has fds 0, 1 and 2 only, and only minisupd holds the listening socket. */

static unsigned long listening_inode(const char *path)
{
    char line[512];
    unsigned long found = 0;
    FILE *f = fopen("/proc/net/unix", "re");

    cr_assert_not_null(f);
    while (fgets(line, sizeof(line), f)) {
        unsigned long inode;
        char p[256] = "";

        if (sscanf(line, "%*s %*s %*s %*s %*s %*s %lu %255s", &inode, p) == 2 &&
            strcmp(p, path) == 0)
            found = inode;
    }
    fclose(f);
    return found;
}

Test(reliability, EXEC_2_control_socket_and_journal_not_inherited)
{
    static const char *const T = "EXEC_2_control_socket_and_journal_not_inherited";
    const char *const follow_args[] = {"journal", "-f", "-o", "cat", NULL};
    int idle[20], fds[64], n_fds, extra = 0, holders = 0, out_fd;
    unsigned long inode;
    pid_t holder, follower;
    char *text;
    DIR *proc;
    struct dirent *de;

    harness_write_unitf(&d, "holder.service",
                        "[Service]\nExecStart=%s sleep 3600\n" NO_LSAN
                        "\n[Install]\nWantedBy=multi-user.target\n",
                        HARNESS_TFX);
    harness_write_unitf(&d, "fdcheck.service", "[Service]\nExecStart=%s fdcheck\n", HARNESS_TFX);
    harness_start(&d);
    /* Traffic while the service is spawned: idle clients and a journal follower. */
    for (int i = 0; i < 20; i++)
        cr_assert((idle[i] = raw_connect()) >= 0);
    out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    follower = harness_ctl_spawn(&d, follow_args, out_fd);
    ctl_ok("start", "fdcheck");
    harness_wait_down(&d, "fdcheck", 10000);
    text = harness_journal_cat(&d, "fdcheck");
    for (const char *p = text; (p = strstr(p, "fd ")); p += 3) {
        int fd = atoi(p + 3);

        if (fd > 2) {
            extra++;
            fprintf(stderr, "EXEC-2: fdcheck has %.*s\n", (int)strcspn(p, "\n"), p);
        }
    }
    free(text);

    holder = harness_main_pid(&d, "holder");
    n_fds = proc_fds(holder, fds, 64);
    cr_assert_geq(n_fds, 0);
    for (int i = 0; i < n_fds; i++)
        if (fds[i] > 2)
            extra++;

    inode = listening_inode(d.socket);
    cr_assert_neq(inode, 0, "the listening socket is not in /proc/net/unix");
    proc = opendir("/proc");
    cr_assert_not_null(proc);
    while ((de = readdir(proc))) {
        pid_t pid = (pid_t)atoi(de->d_name);
        unsigned long inodes[256];
        size_t n;

        if (pid <= 0 || pid == d.pid)
            continue;
        n = socket_inodes(pid, inodes, 256);
        for (size_t i = 0; i < n; i++)
            if (inodes[i] == inode) {
                holders++;
                fprintf(stderr, "EXEC-2: pid %d holds minisupd's listening socket\n", (int)pid);
            }
    }
    closedir(proc);
    kill(follower, SIGKILL);
    waitpid(follower, NULL, 0);
    close(out_fd);
    for (int i = 0; i < 20; i++)
        close(idle[i]);

    harness_metric(T, "extra_fds_in_services", extra, 0);
    harness_metric(T, "other_holders_of_listening_socket", holders, 0);
    cr_assert_eq(extra, 0, "services got %d fds beyond 0, 1, 2", extra);
    cr_assert_eq(holders, 0, "%d other processes hold the control socket", holders);
    harness_stop(&d);
}

/* ======================================================================================== */
/* EXEC-4: a service is a session leader in its own process group, without a controlling tty,
 * with stdin on /dev/null, umask 0022, cwd /, and an environment of exactly the documented
 * variables plus Environment= (nothing of minisupd's own environment leaks). */

Test(reliability, EXEC_4_session_group_tty_environment)
{
    static const char *const T = "EXEC_4_session_group_tty_environment";
    static const char *const allowed[] = {
        "PATH", "LANG",         "LANGUAGE",         "LC_ALL", "TZ",
        "HOME", "USER",         "LOGNAME",          "SHELL",  "INVOCATION_ID",
        "FOO",  "ASAN_OPTIONS", "SYSTEMD_EXEC_PID", NULL};
    char path[64], buf[8192], target[PATH_MAX], *text;
    pid_t p, pgid, sid;
    long tty;
    int bad_env = 0, fd;
    ssize_t n;
    bool foo = false, inv = false, canary = false, exec_pid = false;
    char exec_pid_want[64];
    unsigned umask_v = 0777;
    FILE *f;

    setenv("MINISUP_LEAK_CANARY", "must-not-reach-services", 1);
    harness_write_unitf(&d, "env.service",
                        "[Service]\nExecStart=%s sleep 3600\nEnvironment=FOO=bar\n" NO_LSAN
                        "\n[Install]\nWantedBy=multi-user.target\n",
                        HARNESS_TFX);
    harness_write_unit(&d, "tty.service",
                       "[Service]\nExecStart=/bin/sh -c 'if (exec 3</dev/tty) 2>/dev/null; "
                       "then echo has-tty; else echo no-tty; fi'\n");
    harness_start(&d);
    unsetenv("MINISUP_LEAK_CANARY");
    p = harness_main_pid(&d, "env");
    cr_assert(p > 0);
    cr_assert(harness_proc_ids(p, NULL, NULL, &pgid, &sid));
    tty = proc_tty_nr(p);
    cr_assert(proc_fd_target(p, 0, target, sizeof(target)));
    bool stdin_null = strcmp(target, "/dev/null") == 0;
    snprintf(path, sizeof(path), "/proc/%d/cwd", (int)p);
    n = readlink(path, target, sizeof(target) - 1);
    cr_assert(n > 0);
    target[n] = '\0';
    bool cwd_root = strcmp(target, "/") == 0;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)p);
    f = fopen(path, "re");
    cr_assert_not_null(f);
    while (fgets(buf, sizeof(buf), f))
        if (sscanf(buf, "Umask: %o", &umask_v) == 1)
            break;
    fclose(f);
    snprintf(path, sizeof(path), "/proc/%d/environ", (int)p);
    /* systemd.exec(5): the pid of the process the manager exec'd, here the main process. */
    snprintf(exec_pid_want, sizeof(exec_pid_want), "SYSTEMD_EXEC_PID=%d", (int)p);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    cr_assert(fd >= 0);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    cr_assert(n > 0);
    buf[n] = '\0';
    for (char *e = buf; e < buf + n; e += strlen(e) + 1) {
        size_t klen = strcspn(e, "=");
        bool ok = false;

        for (const char *const *a = allowed; *a; a++)
            if (strlen(*a) == klen && strncmp(e, *a, klen) == 0)
                ok = true;
        if (!ok) {
            bad_env++;
            fprintf(stderr, "EXEC-4: unexpected variable in the service: %s\n", e);
        }
        foo |= strcmp(e, "FOO=bar") == 0;
        inv |= strncmp(e, "INVOCATION_ID=", 14) == 0 && strlen(e) == 14 + 32;
        canary |= strncmp(e, "MINISUP_LEAK_CANARY=", 20) == 0;
        exec_pid |= strcmp(e, exec_pid_want) == 0;
    }
    ctl_ok("start", "tty");
    harness_wait_down(&d, "tty", 10000);
    text = harness_journal_cat(&d, "tty");
    bool no_tty = strstr(text, "no-tty") != NULL;
    free(text);

    harness_metric(T, "session_leader", pgid == p && sid == p, 1);
    harness_metric(T, "tty_nr", (double)tty, 0);
    harness_metric(T, "can_open_dev_tty", !no_tty, 0);
    harness_metric(T, "stdin_dev_null", stdin_null, 1);
    harness_metric(T, "umask_octal", octal_figure(umask_v), 22);
    harness_metric(T, "cwd_root", cwd_root, 1);
    harness_metric(T, "unexpected_env_vars", bad_env, 0);
    cr_assert(pgid == p && sid == p, "pid %d: pgid %d, sid %d", (int)p, (int)pgid, (int)sid);
    cr_assert_eq(tty, 0, "the service has a controlling tty (%ld)", tty);
    cr_assert(no_tty, "the service could open /dev/tty");
    cr_assert(stdin_null, "stdin is not /dev/null");
    cr_assert_eq(umask_v, 022, "umask %o", umask_v);
    cr_assert(cwd_root);
    cr_assert(foo && inv, "Environment= or INVOCATION_ID missing");
    cr_assert(exec_pid, "no %s in the service's environment", exec_pid_want);
    cr_assert(!canary, "minisupd's own environment leaked into the service");
    cr_assert_eq(bad_env, 0);
    harness_stop(&d);
}

/* ======================================================================================== */
/* EXEC-5: User=/Group= as root: the ids and supplementary groups exactly as asked, no
 * capabilities, setuid(0) refused; an unknown user is never run (and never as root). */

struct ids {
    unsigned ruid, euid, suid, rgid, egid, sgid;
    gid_t groups[64];
    int n_groups;
    char capeff[32], setuid0[64];
    bool ok;
};

static void parse_ids(const char *text, struct ids *r)
{
    const char *p;

    memset(r, 0, sizeof(*r));
    r->ok = strstr(text, "ids done") != NULL;
    if ((p = strstr(text, "resuid ")))
        sscanf(p, "resuid %u %u %u", &r->ruid, &r->euid, &r->suid);
    if ((p = strstr(text, "resgid ")))
        sscanf(p, "resgid %u %u %u", &r->rgid, &r->egid, &r->sgid);
    if ((p = strstr(text, "groups"))) {
        p += 6;
        while (*p == ' ' && r->n_groups < 64) {
            char *end;
            unsigned long g = strtoul(p, &end, 10);

            if (end == p)
                break;
            r->groups[r->n_groups++] = (gid_t)g;
            p = end;
        }
    }
    if ((p = strstr(text, "CapEff:")))
        sscanf(p, "CapEff: %31s", r->capeff);
    if ((p = strstr(text, "setuid0 ")))
        snprintf(r->setuid0, sizeof(r->setuid0), "%.*s", (int)strcspn(p + 8, "\n"), p + 8);
}

static int cmp_gid(const void *a, const void *b)
{
    gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;

    return (x > y) - (x < y);
}

/* Whether the two group lists hold the same set. */
static bool same_groups(gid_t *a, int na, gid_t *b, int nb)
{
    int i = 0, j = 0;

    qsort(a, (size_t)na, sizeof(gid_t), cmp_gid);
    qsort(b, (size_t)nb, sizeof(gid_t), cmp_gid);
    while (i < na || j < nb) {
        gid_t x = i < na ? a[i] : (gid_t)-1, y = j < nb ? b[j] : (gid_t)-1;

        if (x != y)
            return false;
        for (; i < na && a[i] == x; i++)
            ;
        for (; j < nb && b[j] == y; j++)
            ;
    }
    return true;
}

static void run_ids(const char *unit, struct ids *r)
{
    char *text;

    harness_ctl(&d, NULL, NULL, "start", unit, NULL);
    harness_wait_down(&d, unit, 10000);
    text = harness_journal_cat(&d, unit);
    parse_ids(text, r);
    free(text);
}

Test(reliability, EXEC_5_user_and_group_exact)
{
    static const char *const T = "EXEC_5_user_and_group_exact";
    struct passwd *pw = getpwnam("nobody");
    struct group *gr = getgrnam("daemon");
    gid_t want[64], dgid;
    int n_want = 64, wrong = 0;
    unsigned nuid, ngid;
    struct ids a, b, c, x, y;
    char *text;

    if (geteuid() != 0)
        SKIP_TEST(T, "EXEC-5 needs root to run services as other users");
    if (!pw || !gr)
        SKIP_TEST(T, "EXEC-5 needs the 'nobody' user and the 'daemon' group");
    nuid = pw->pw_uid;
    ngid = pw->pw_gid;
    dgid = gr->gr_gid;
    harness_write_unitf(&d, "as-nobody.service",
                        "[Service]\nUser=nobody\nExecStart=%s ids\n" NO_LSAN, RFX);
    harness_write_unitf(&d, "as-nobody-daemon.service",
                        "[Service]\nUser=nobody\nGroup=daemon\nExecStart=%s ids\n" NO_LSAN, RFX);
    harness_write_unitf(&d, "group-only.service",
                        "[Service]\nGroup=daemon\nExecStart=%s ids\n" NO_LSAN, RFX);
    harness_write_unitf(&d, "unknown-user.service",
                        "[Service]\nUser=no-such-user-minisup\nExecStart=%s ids\n" NO_LSAN, RFX);
    harness_write_unitf(&d, "numeric-user.service",
                        "[Service]\nUser=4242\nExecStart=%s ids\n" NO_LSAN, RFX);
    harness_start(&d);

    run_ids("as-nobody", &a);
    cr_assert(getgrouplist("nobody", (gid_t)ngid, want, &n_want) >= 0);
    if (!a.ok || a.ruid != nuid || a.euid != nuid || a.suid != nuid || a.rgid != ngid ||
        a.egid != ngid || a.sgid != ngid || !same_groups(a.groups, a.n_groups, want, n_want) ||
        strcmp(a.capeff, "0000000000000000") != 0 || strcmp(a.setuid0, "Operation not permitted"))
        wrong++, fprintf(stderr,
                         "EXEC-5: User=nobody: uid %u/%u/%u gid %u/%u/%u, %d groups, "
                         "CapEff %s, setuid(0): %s\n",
                         a.ruid, a.euid, a.suid, a.rgid, a.egid, a.sgid, a.n_groups, a.capeff,
                         a.setuid0);

    run_ids("as-nobody-daemon", &b);
    n_want = 64;
    cr_assert(getgrouplist("nobody", dgid, want, &n_want) >= 0);
    if (!b.ok || b.ruid != nuid || b.euid != nuid || b.rgid != dgid || b.egid != dgid ||
        b.sgid != dgid || !same_groups(b.groups, b.n_groups, want, n_want))
        wrong++,
            fprintf(stderr, "EXEC-5: User=nobody Group=daemon: uid %u gid %u/%u/%u, %d groups\n",
                    b.ruid, b.rgid, b.egid, b.sgid, b.n_groups);

    run_ids("group-only", &c);
    if (!c.ok || c.ruid != 0 || c.euid != 0 || c.rgid != dgid || c.egid != dgid || c.sgid != dgid)
        wrong++, fprintf(stderr, "EXEC-5: Group=daemon alone: uid %u gid %u/%u/%u\n", c.ruid,
                         c.rgid, c.egid, c.sgid);

    /* An unknown user: a clear failure, never a run (as root or anyone). */
    harness_ctl(&d, NULL, NULL, "start", "unknown-user", NULL);
    text = harness_journal_cat(&d, "unknown-user");
    parse_ids(text, &x);
    free(text);
    json_t *u = harness_get_unit(&d, "unknown-user");
    fprintf(stderr, "EXEC-5: User=no-such-user: load %s, active %s, result %s, error %s\n",
            jstr(u, "loadState"), jstr(u, "activeState"), jstr(u, "result"), jstr(u, "loadError"));
    bool unknown_refused = !x.ok && strcmp(jstr(u, "activeState"), "active") != 0;
    json_decref(u);
    if (!unknown_refused)
        wrong++;

    /* A numeric uid without a passwd entry: systemd allows it; report what minisupd does. */
    run_ids("numeric-user", &y);
    bool numeric_allowed = y.ok;
    if (y.ok && (y.ruid != 4242 || y.euid != 4242))
        wrong++, fprintf(stderr, "EXEC-5: User=4242 ran as uid %u\n", y.ruid);

    harness_metric(T, "cases", 5, 0);
    harness_metric(T, "wrong", wrong, 0);
    harness_metric(T, "unknown_user_ran", !unknown_refused, 0);
    harness_metric(T, "numeric_uid_without_passwd_allowed_info", numeric_allowed, 0);
    cr_assert_eq(wrong, 0, "%d of the User=/Group= cases were not exactly as asked", wrong);
    harness_stop(&d);
}

/* ======================================================================================== */
/* PID-1: after a unit's process is reaped, a squatter takes its pid (placed there through
 * /proc/sys/kernel/ns_last_pid, in a session of its own so a group kill would reach it too).
 * stop, kill, a stop timeout armed before the death, and a stop during the restart backoff must
 * not send it a single signal. */

static volatile sig_atomic_t squat_fd = -1;

static void squat_handler(int sig)
{
    unsigned char c = (unsigned char)sig;

    (void)!write(squat_fd, &c, 1);
}

struct squatter {
    pid_t pid;
    int sig_fd;
};

/* Places a process at pid want. Returns false when the pid could not be had (the sysctl is not
 * writable, or other forks kept taking it). */
static bool squat(pid_t want, struct squatter *s)
{
    for (int attempt = 0; attempt < 200; attempt++) {
        int p[2], ready[2], fd;
        pid_t pid;
        char c;

        /* Another test forking at the wrong moment got the pid first: it keeps it for life, and
         * the caller skips the scenario rather than fail on what it cannot arrange. */
        if (kill(want, 0) == 0 || errno == EPERM)
            return false;
        fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return false;
        cr_assert(pipe2(p, O_CLOEXEC) == 0 && pipe2(ready, O_CLOEXEC) == 0);
        dprintf(fd, "%d", (int)want - 1);
        close(fd);
        pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
            struct sigaction sa = {.sa_handler = squat_handler};
            sigset_t none;

            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getpid() != want)
                _exit(0);
            setsid();
            squat_fd = p[1];
            sigfillset(&sa.sa_mask);
            for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                    sigaction(sig, &sa, NULL);
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, NULL);
            (void)!write(ready[1], "R", 1);
            for (;;)
                pause();
        }
        close(p[1]);
        close(ready[1]);
        if (pid == want && read(ready[0], &c, 1) == 1) {
            close(ready[0]);
            fcntl(p[0], F_SETFL, O_NONBLOCK);
            s->pid = pid;
            s->sig_fd = p[0];
            if (n_squatters < sizeof(squatters) / sizeof(squatters[0]))
                squatters[n_squatters++] = pid;
            return true;
        }
        waitpid(pid, NULL, 0);
        close(p[0]);
        close(ready[0]);
    }
    return false;
}

/* Signals the squatter received (SIGKILL and SIGSTOP count as one each, seen as death or stop);
 * then it is killed and reaped. */
static int squat_end(struct squatter *s, const char *scenario)
{
    unsigned char sigs[64];
    ssize_t n = read(s->sig_fd, sigs, sizeof(sigs));
    int got = n > 0 ? (int)n : 0, status;
    char state = '?';

    for (ssize_t i = 0; i < n; i++)
        fprintf(stderr, "PID-1: %s: the squatter at pid %d got signal %d\n", scenario, (int)s->pid,
                sigs[i]);
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
        got++;
        fprintf(stderr, "PID-1: %s: the squatter at pid %d was killed (status 0x%x)\n", scenario,
                (int)s->pid, status);
    } else {
        if (harness_proc_ids(s->pid, &state, NULL, NULL, NULL) && state == 'T')
            got++;
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    for (size_t i = 0; i < n_squatters; i++)
        if (squatters[i] == s->pid)
            squatters[i] = 0;
    close(s->sig_fd);
    return got;
}

static bool proc_missing(void *arg)
{
    char path[64];

    snprintf(path, sizeof(path), "/proc/%d", (int)(intptr_t)arg);
    return access(path, F_OK) != 0;
}

static void wait_reaped(pid_t pid)
{
    cr_assert(wait_until(proc_missing, (void *)(intptr_t)pid, 10000), "pid %d was never reaped",
              (int)pid);
}

static void kill_unit_expect_nothing(const char *unit, const char *whom)
{
    char err[128];
    json_t *r = call_try(
        "KillUnit", json_pack("{s:s, s:i, s:s}", "name", unit, "signal", SIGTERM, "whom", whom),
        err, sizeof(err));

    json_decref(r);
}

struct crash_pid {
    pid_t pid;
};

static int crash_pid_cb(const struct journal_record *r, void *ud)
{
    char buf[64];

    if (r->stream == JOURNAL_STREAM_STDOUT &&
        strncmp(msg_text(r, buf, sizeof(buf)), "crash: exit", 11) == 0)
        ((struct crash_pid *)ud)->pid = r->pid;
    return 0;
}

Test(reliability, PID_1_reused_pid_never_signalled)
{
    static const char *const T = "PID_1_reused_pid_never_signalled";
    int rounds = SCALE(5, 3), hits = 0, scenarios = 0, taken = 0;
    struct squatter s;
    pid_t p;

    if (geteuid() != 0 || access("/proc/sys/kernel/ns_last_pid", W_OK) != 0)
        SKIP_TEST(T,
                  "PID-1 needs CAP_SYS_ADMIN to write /proc/sys/kernel/ns_last_pid and put a "
                  "process at a chosen pid; cycling through pid_max by fork takes too long here");
    harness_write_unitf(&d, "a.service", "[Service]\nExecStart=%s sleep 3600\n" NO_LSAN,
                        HARNESS_TFX);
    harness_write_unitf(&d, "b.service",
                        "[Service]\nExecStart=%s ignore-term\nTimeoutStopSec=2s\n" NO_LSAN,
                        HARNESS_TFX);
    harness_write_unitf(&d, "c.service",
                        "[Service]\nExecStart=%s ignore-term\nTimeoutStopSec=2s\n" NO_LSAN,
                        HARNESS_TFX);
    harness_write_unitf(&d, "crashy.service",
                        "[Unit]\nStartLimitBurst=0\n\n[Service]\nExecStart=%s crash 1\n"
                        "Restart=always\nRestartSec=2s\n" NO_LSAN,
                        HARNESS_TFX);
    harness_start(&d);

    /* (a) A stopped unit's old pid: stop again, kill all, kill main, restart-less commands. */
    for (int k = 0; k < rounds; k++) {
        ctl_ok("start", "a");
        p = harness_main_pid(&d, "a");
        ctl_ok("stop", "a");
        wait_reaped(p);
        if (!squat(p, &s)) {
            taken++;
            continue;
        }
        harness_ctl(&d, NULL, NULL, "stop", "a", NULL);
        kill_unit_expect_nothing("a", "all");
        kill_unit_expect_nothing("a", "main");
        harness_ctl(&d, NULL, NULL, "kill", "--signal=KILL", "a", NULL);
        harness_ctl(&d, NULL, NULL, "reset-failed", "a", NULL);
        hits += squat_end(&s, "stopped unit");
        scenarios++;
    }

    /* (b) A stop timeout armed, then the main process dies (we kill it) before it fires. c's
     * timeout was armed after b's, so once c is killed by its timeout, b's would have fired. */
    ctl_ok("start", "b");
    ctl_ok("start", "c");
    cr_assert(harness_wait_journal_contains(&d, "b", "ready", 10000));
    cr_assert(harness_wait_journal_contains(&d, "c", "ready", 10000));
    p = harness_main_pid(&d, "b");
    json_decref(
        harness_varlink(&d, "StopUnit", json_pack("{s:s, s:b}", "name", "b", "noBlock", 1)));
    json_decref(
        harness_varlink(&d, "StopUnit", json_pack("{s:s, s:b}", "name", "c", "noBlock", 1)));
    kill(p, SIGKILL);
    wait_reaped(p);
    bool placed = squat(p, &s);
    harness_wait_down(&d, "c", 30000);
    if (placed) {
        hits += squat_end(&s, "stop timeout armed before the death");
        scenarios++;
    } else {
        taken++;
    }

    /* (c) Stop and kill while the unit waits out RestartSec= after a crash. */
    struct crash_pid cp = {0};
    harness_ctl(&d, NULL, NULL, "start", "crashy", NULL);
    cr_assert(harness_wait_journal_contains(&d, "crashy", "crash: exit 1", 10000));
    read_journal("crashy.service", crash_pid_cb, &cp);
    cr_assert(cp.pid > 0);
    wait_reaped(cp.pid);
    placed = squat(cp.pid, &s);
    kill_unit_expect_nothing("crashy", "all");
    ctl_ok("stop", "crashy");
    kill_unit_expect_nothing("crashy", "main");
    if (placed) {
        hits += squat_end(&s, "stop during restart backoff");
        scenarios++;
    } else {
        taken++;
    }

    harness_metric(T, "scenarios", scenarios, 0);
    harness_metric(T, "scenarios_skipped_pid_taken_by_others", taken, 0);
    harness_metric(T, "signals_to_squatters", hits, 0);
    cr_assert_eq(hits, 0, "a process that reused a unit's old pid got %d signals", hits);
    cr_assert_geq(scenarios, rounds,
                  "only %d of %d scenarios could place a process at the old "
                  "pid (%d pids taken by other processes first)",
                  scenarios, rounds + 2, taken);
    harness_stop(&d);
}

/* ======================================================================================== */
/* UNIT-13: symlinks and odd files in the unit directory. A link to another unit name is an
 * alias; a dangling link, a link loop, a directory, a FIFO (which must not block the loader) or
 * an unreadable file fails that unit only. */

/* GetUnit's loadState, or the error name when there is no such unit. */
static void load_state(const char *name, char *buf, size_t size, char *unit_name, size_t un_size)
{
    char err[128];
    json_t *r = call_try("GetUnit", json_pack("{s:s}", "name", name), err, sizeof(err));
    json_t *u = json_object_get(r, "unit");

    if (r)
        snprintf(buf, size, "%s", jstr(u, "loadState"));
    else
        snprintf(buf, size, "%s", err);
    if (unit_name)
        snprintf(unit_name, un_size, "%s", r ? jstr(u, "name") : "");
    json_decref(r);
}

Test(reliability, UNIT_13_symlinks_and_odd_files)
{
    static const char *const T = "UNIT_13_symlinks_and_odd_files";
    static const char *const broken[] = {"c", "f", "g", "h", "i", "l", "m"};
    char p[PATH_MAX + 64], state[128], name[256];
    bool root = geteuid() == 0, outside_loaded = false, world_writable_loaded;
    int wrong = 0, rc;
    uint64_t t0;
    FILE *f;

    harness_write_unitf(&d, "a.service", "[Service]\nExecStart=%s sleep 3600\n" NO_LSAN,
                        HARNESS_TFX);
#define LINK(target, lnk)                                                                          \
    do {                                                                                           \
        snprintf(p, sizeof(p), "%s/%s", d.unit_dir, lnk);                                          \
        cr_assert_eq(symlink(target, p), 0, "symlink %s: %s", p, strerror(errno));                 \
    } while (0)
    LINK("a.service", "b.service");
    LINK("nothere.service", "c.service");
    LINK("/nonexistent-minisup/f.service", "f.service");
    LINK("g.service", "g.service");
    LINK("m.service", "l.service");
    LINK("l.service", "m.service");
    LINK("../secret.conf", "j.service");
#undef LINK
    snprintf(p, sizeof(p), "%s/h.service", d.unit_dir);
    cr_assert_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/i.service", d.unit_dir);
    cr_assert_eq(mkfifo(p, 0644), 0);
    harness_write_unitf(&d, "k.service", "[Service]\nExecStart=%s sleep 1\n", HARNESS_TFX);
    snprintf(p, sizeof(p), "%s/k.service", d.unit_dir);
    chmod(p, 0);
    harness_write_unitf(&d, "z.service", "[Service]\nExecStart=%s sleep 1\n", HARNESS_TFX);
    snprintf(p, sizeof(p), "%s/z.service", d.unit_dir);
    chmod(p, 0666);
    f = fopen(harness_path(&d, p, "secret.conf"), "we");
    cr_assert_not_null(f);
    fprintf(f, "[Service]\nExecStart=/bin/true\n# SECRET-MARKER outside the unit directory\n");
    fclose(f);

    t0 = harness_now_ms();
    harness_start(&d); /* a FIFO that blocked the loader would fail here */
    harness_metric(T, "start_up_ms", (double)(harness_now_ms() - t0), 0);

    load_state("a", state, sizeof(state), NULL, 0);
    if (strcmp(state, "loaded") != 0)
        wrong++, fprintf(stderr, "UNIT-13: a.service is %s\n", state);
    load_state("b", state, sizeof(state), name, sizeof(name));
    if (strcmp(state, "loaded") != 0 || strcmp(name, "a.service") != 0)
        wrong++, fprintf(stderr, "UNIT-13: alias b.service -> %s (%s)\n", name, state);
    ctl_ok("start", "b");
    json_t *u = harness_get_unit(&d, "a");
    if (strcmp(jstr(u, "activeState"), "active") != 0)
        wrong++, fprintf(stderr, "UNIT-13: start b did not start a.service\n");
    json_decref(u);
    ctl_ok("stop", "b");

    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        load_state(broken[i], state, sizeof(state), NULL, 0);
        rc = harness_ctl(&d, NULL, NULL, "start", broken[i], NULL);
        fprintf(stderr, "UNIT-13: %s.service: %s, start exit %d\n", broken[i], state, rc);
        if (strcmp(state, "loaded") == 0 || rc == 0)
            wrong++;
    }
    load_state("k", state, sizeof(state), NULL, 0);
    fprintf(stderr, "UNIT-13: k.service (mode 000): %s%s\n", state,
            root ? " (root reads anyway)" : "");
    if (!root && strcmp(state, "loaded") == 0)
        wrong++;

    /* Reported, not asserted: the catalogue recommends refusing both; systemd follows links
     * to unit files outside its directories ("linked" units) and does not check modes. */
    char err[128];
    json_t *r = call_try("GetUnitFile", json_pack("{s:s}", "name", "j"), err, sizeof(err));
    outside_loaded = r && strstr(jstr(r, "text"), "SECRET-MARKER") != NULL;
    json_decref(r);
    load_state("z", state, sizeof(state), NULL, 0);
    world_writable_loaded = strcmp(state, "loaded") == 0;
    fprintf(stderr, "UNIT-13: j.service -> ../secret.conf %s; world-writable z.service %s\n",
            outside_loaded ? "LOADED (its text is served by GetUnitFile)" : "refused",
            world_writable_loaded ? "loaded" : "refused");

    assert_serves("after loading the odd directory");
    ctl_ok("start", "a");
    ctl_ok("stop", "a");
    harness_metric(T, "wrong_decisions", wrong, 0);
    harness_metric(T, "outside_link_target_loaded_info", outside_loaded, 0);
    harness_metric(T, "world_writable_unit_loaded_info", world_writable_loaded, 0);
    cr_assert_eq(wrong, 0, "%d cases of the unit directory were decided wrongly", wrong);
    harness_stop(&d);
}

/* ======================================================================================== */
/* DISK-1/DISK-2: the journal on a 1 MiB tmpfs. When it is full minisupd keeps supervising,
 * neither spins nor floods its own log; once space is free again, without a restart, storing
 * resumes and the unit's journal says exactly how many records could not be stored. */

struct disk_check {
    long run1, run2, other;
    long dropped;
    int drop_records;
};

static int disk_cb(const struct journal_record *r, void *ud)
{
    struct disk_check *c = ud;
    char buf[512];
    const char *m = msg_text(r, buf, sizeof(buf));
    long run, i;
    unsigned long long n;

    if (r->stream == JOURNAL_STREAM_STDOUT && sscanf(m, "seq:%ld:%ld:", &run, &i) == 2) {
        if (run == 1)
            c->run1++;
        else if (run == 2)
            c->run2++;
        else
            c->other++;
    } else if (sscanf(m, "Journal: %llu records of fill.service could not be stored", &n) == 1) {
        c->dropped += (long)n;
        c->drop_records++;
    }
    return 0;
}

Test(reliability, DISK_1_2_full_journal_then_resume)
{
    static const char *const T = "DISK_1_2_full_journal_then_resume";
    enum { LINES = 20000 };
    char counter[PATH_MAX], *log;
    struct disk_check c = {0};
    unsigned long long cpu0, cpu1;
    uint64_t t0, t1;
    size_t self_log;

    if (geteuid() != 0)
        SKIP_TEST(T, "DISK-1/2 need root to mount a small tmpfs as the journal directory");
    /* A private mount namespace: the mount dies with the test process whatever happens. */
    if (unshare(CLONE_NEWNS) == 0)
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    if (mount("tmpfs", d.log_dir, "tmpfs", 0, "size=1m,mode=0755") < 0)
        SKIP_TEST(T, "DISK-1/2: cannot mount a tmpfs on %s: %s", d.log_dir, strerror(errno));
    tmpfs_mounted = true;
    harness_path(&d, counter, "fill.count");
    harness_write_unitf(&d, "fill.service",
                        "[Service]\nExecStart=%s seq %d --counter %s\n" NO_RATELIMIT NO_LSAN,
                        HARNESS_TFX, LINES, counter);
    harness_write_unitf(&d, "other.service", "[Service]\nExecStart=%s sleep 3600\n" NO_LSAN,
                        HARNESS_TFX);
    harness_start(&d);

    cpu0 = harness_cpu_ticks(d.pid);
    t0 = harness_now_ms();
    ctl_ok("start", "fill");
    harness_wait_down(&d, "fill", 60000);
    /* Full: supervision goes on. */
    ctl_ok("start", "other");
    harness_wait_state(&d, "other", "active", "running", 10000);
    ctl_ok("stop", "other");
    assert_serves("with the journal full");
    t1 = harness_now_ms();
    cpu1 = harness_cpu_ticks(d.pid);
    read_journal("fill.service", disk_cb, &c);
    long stored1 = c.run1;
    log = harness_read(&d, "minisupd.log");
    self_log = log ? count_substr(log, "No space left") : 0;
    free(log);
    cr_assert_lt(stored1, LINES, "the 1 MiB journal never filled (%ld lines stored)", stored1);
    /* Status shows the problem while it lasts (issue 5: "shows the problem in status"). */
    char *st_out = NULL, *st_err = NULL;
    harness_ctl(&d, &st_out, &st_err, "status", "fill", NULL);
    /* "storage is still failing" shows only while no notice of the count could be stored yet;
     * on a nearly full disk one may fit (unit test ctl_output::..._DISK_1 covers the text). */
    bool status_full = st_out && strstr(st_out, "could not be stored (No space left on device)");
    fprintf(stderr, "DISK-1/2: status while full:\n%s\n", st_out ? st_out : "");
    free(st_out);
    free(st_err);
    cr_assert(status_full, "status of fill does not show the refused records while full");

    /* Free space, no restart: the next records are stored, with the count of those lost. */
    cr_assert_eq(mount(NULL, d.log_dir, NULL, MS_REMOUNT, "size=64m,mode=0755"), 0, "remount: %s",
                 strerror(errno));
    ctl_ok("start", "fill");
    harness_wait_down(&d, "fill", 60000);
    memset(&c, 0, sizeof(c));
    size_t skipped = read_journal("fill.service", disk_cb, &c);
    long unaccounted = c.dropped - (LINES - c.run1);
    /* Space is back and the count is stored: status still tells, but no longer "failing". */
    harness_ctl(&d, &st_out, &st_err, "status", "fill", NULL);
    bool status_after = st_out && strstr(st_out, "could not be stored (No space left on device)") &&
                        !strstr(st_out, "still failing");
    fprintf(stderr, "DISK-1/2: status after:\n%s\n", st_out ? st_out : "");
    free(st_out);
    free(st_err);

    harness_metric(T, "lines_emitted_while_full", LINES, 0);
    harness_metric(T, "lines_stored_while_full", (double)c.run1, 0);
    harness_metric(T, "records_reported_not_stored", (double)c.dropped, 0);
    harness_metric(T, "drop_reports", c.drop_records, 0);
    harness_metric(T, "dropped_records_beyond_lines_manager_msgs", (double)unaccounted, 0);
    harness_metric(T, "minisupd_cpu_percent_while_full", cpu_percent(cpu1 - cpu0, t1 - t0), 5);
    harness_metric(T, "minisupd_log_lines_about_enospc", (double)self_log, 2);
    harness_metric(T, "lines_lost_after_resume", (double)(LINES - c.run2), 0);
    harness_metric(T, "damaged_records", (double)skipped, 0);
    cr_assert_gt(c.drop_records, 0, "no 'could not be stored' record after space came back");
    cr_assert(status_after, "status of fill after space came back: lost count missing, or still "
                            "\"failing\"");
    cr_assert_geq(unaccounted, 0, "%ld stdout lines lost but not counted", -unaccounted);
    /* The count also covers minisupd's own records about the unit that hit the full disk. */
    cr_assert_leq(unaccounted, 5, "the drop count exceeds the lost lines by %ld", unaccounted);
    cr_assert_eq(c.run2, LINES, "after space came back %ld of %d lines were stored", c.run2, LINES);
    cr_assert_leq(self_log, 10, "minisupd logged %zu lines about the full disk", self_log);
    cr_assert_eq(skipped, 0);
    harness_stop(&d);
}
