/* The end-to-end harness: temp dirs, spawning minisupd and minisupctl with deadlines, polling
 * waits, /proc probes, and the final "nothing left alive" check. Helpers fail the current
 * criterion test through cr_fatal/cr_assert; harness_cleanup() never does, so .fini can run it
 * after any failure. No sleep here stands in for synchronisation: sleeps only pace polls. */
#include "harness.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "varlink.h"

#define POLL_INTERVAL_MS 10

uint64_t harness_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t harness_realtime_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

bool wait_until(bool (*cond)(void *arg), void *arg, int timeout_ms)
{
    uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;

    for (;;) {
        if (cond(arg))
            return true;
        if (harness_now_ms() >= deadline)
            return cond(arg);
        sleep_ms(POLL_INTERVAL_MS);
    }
}

/* Reads a whole file into a new NUL-terminated string; NULL if it cannot be opened. */
static char *read_file(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "re");
    char *buf = NULL;
    size_t len = 0, cap = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    buf[len] = '\0';
    if (ret_len)
        *ret_len = len;
    return buf;
}

/* Reads everything an fd holds from offset 0 (a memfd the child wrote to). */
static char *read_fd_from_start(int fd)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;

    if (lseek(fd, 0, SEEK_SET) < 0)
        return NULL;
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

void harness_dump_log(const struct daemon *d, size_t bytes)
{
    size_t len = 0;
    char *text = read_file(d->log_file, &len);

    if (!text) {
        fprintf(stderr, "[harness] no daemon log at %s\n", d->log_file);
        return;
    }
    fprintf(stderr, "[harness] ---- last %zu bytes of %s ----\n%s\n[harness] ---- end ----\n",
            bytes, d->log_file, len > bytes ? text + len - bytes : text);
    free(text);
}

char *harness_path(const struct daemon *d, char *buf, const char *rel)
{
    int n = snprintf(buf, PATH_MAX, "%s/%s", d->base, rel);

    cr_assert(n > 0 && n < PATH_MAX, "path too long: %s/%s", d->base, rel);
    return buf;
}

char *harness_read(const struct daemon *d, const char *rel)
{
    char path[PATH_MAX];

    return read_file(harness_path(d, path, rel), NULL);
}

void harness_init(struct daemon *d)
{
    const char *tmp = getenv("TMPDIR");

    memset(d, 0, sizeof(*d));
    d->ctl_timeout_ms = HARNESS_CTL_TIMEOUT_MS;
    snprintf(d->base, sizeof(d->base), "%s/minisup-e2e-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(d->base), "mkdtemp(%s): %s", d->base, strerror(errno));
    harness_path(d, d->unit_dir, "units");
    harness_path(d, d->run_dir, "run");
    harness_path(d, d->log_dir, "log");
    harness_path(d, d->log_file, "minisupd.log");
    harness_path(d, d->socket, "run/minisupd.sock");
    cr_assert(mkdir(d->unit_dir, 0755) == 0, "mkdir %s: %s", d->unit_dir, strerror(errno));
    cr_assert(mkdir(d->run_dir, 0755) == 0, "mkdir %s: %s", d->run_dir, strerror(errno));
    cr_assert(mkdir(d->log_dir, 0755) == 0, "mkdir %s: %s", d->log_dir, strerror(errno));
}

void harness_write_unit(struct daemon *d, const char *name, const char *text)
{
    char path[PATH_MAX];
    FILE *f;

    cr_assert(snprintf(path, sizeof(path), "%s/%s", d->unit_dir, name) < (int)sizeof(path));
    f = fopen(path, "we");
    cr_assert_not_null(f, "cannot create %s: %s", path, strerror(errno));
    cr_assert(fputs(text, f) >= 0 && fclose(f) == 0, "cannot write %s", path);
}

void harness_write_unitf(struct daemon *d, const char *name, const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&text, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0, "out of memory");
    harness_write_unit(d, name, text);
    free(text);
}

/* In a forked child before exec: a clean signal state and no fds but 0-2, which the caller set
 * up. Criterion's own pipes must not leak into the programs under test. */
static void child_reset(void)
{
    sigset_t none;

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    close_range(3, ~0U, 0);
}

/* In a forked child: closes every fd from 3 up but those in keep (-1-terminated), which lose
 * FD_CLOEXEC, so the program inherits exactly them. */
static void keep_only_fds(const int *keep)
{
    int lo = 3;

    for (;;) {
        int next = -1;

        /* The smallest kept fd at or above lo. */
        for (const int *k = keep; *k >= 0; k++)
            if (*k >= lo && (next < 0 || *k < next))
                next = *k;
        if (next < 0) {
            close_range((unsigned)lo, ~0U, 0);
            return;
        }
        if (next > lo)
            close_range((unsigned)lo, (unsigned)next - 1, 0);
        fcntl(next, F_SETFD, 0);
        lo = next + 1;
    }
}

/* spawn() with the options of harness_start_opts that apply to the child itself. */
static pid_t spawn_opts(const char *const *argv, int out_fd, int err_fd, int pdeathsig,
                        const struct harness_start_opts *o)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    static const int none[] = {-1};

    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid > 0)
        return pid;

    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        _exit(126);
    if (pdeathsig && (prctl(PR_SET_PDEATHSIG, pdeathsig) < 0 || getppid() != parent))
        _exit(126);
    {
        sigset_t empty;

        sigemptyset(&empty);
        sigprocmask(SIG_SETMASK, &empty, NULL);
        for (int sig = 1; sig < NSIG; sig++)
            if (sig != SIGKILL && sig != SIGSTOP)
                signal(sig, SIG_DFL);
    }
    keep_only_fds(o && o->inherit_fds ? o->inherit_fds : none);
    if (o && o->ignore_signals)
        for (const int *sig = o->ignore_signals; *sig; sig++)
            signal(*sig, SIG_IGN);
    if (o && o->block_signals) {
        sigset_t set;

        sigemptyset(&set);
        for (const int *sig = o->block_signals; *sig; sig++)
            sigaddset(&set, *sig);
        sigprocmask(SIG_BLOCK, &set, NULL);
    }
    execvp(argv[0], (char *const *)(uintptr_t)argv);
    dprintf(2, "harness: cannot execute %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Forks and execs argv with stdin from /dev/null and stdout/stderr to out_fd/err_fd. With
 * pdeathsig, the child gets that signal if the test process dies (a test timeout). */
static pid_t spawn(const char *const *argv, int out_fd, int err_fd, int pdeathsig)
{
    pid_t parent = getpid();
    pid_t pid = fork();

    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid > 0)
        return pid;

    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        _exit(126);
    if (pdeathsig && (prctl(PR_SET_PDEATHSIG, pdeathsig) < 0 || getppid() != parent))
        _exit(126);
    child_reset();
    /* execv's prototype predates const; the strings are not modified. */
    execv(argv[0], (char *const *)(uintptr_t)argv);
    dprintf(2, "harness: cannot execute %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

bool harness_wait_pid(pid_t pid, int timeout_ms, int *ret_status)
{
    uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;
    int delay = 1;

    for (;;) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid) {
            if (ret_status)
                *ret_status = status;
            return true;
        }
        cr_assert(r == 0 || errno == EINTR, "waitpid(%d): %s", (int)pid, strerror(errno));
        if (harness_now_ms() >= deadline)
            return false;
        /* Short programs finish in a few ms; back off to the usual poll interval. */
        sleep_ms(delay);
        if (delay < POLL_INTERVAL_MS)
            delay *= 2;
    }
}

pid_t harness_spawn_daemon(struct daemon *d, const char *log_rel)
{
    return harness_spawn_daemon_with(d, log_rel, NULL);
}

pid_t harness_spawn_daemon_with(struct daemon *d, const char *log_rel,
                                const struct harness_start_opts *o)
{
    char log_path[PATH_MAX];
    const char *argv[96];
    size_t n = 0;
    int fd;
    pid_t pid;

    /* MINISUP_E2E_WRAPPER runs every daemon under a tool, e.g. scripts/valgrind's memcheck. */
    static char wrapper_buf[1024];
    const char *env_wrapper = getenv("MINISUP_E2E_WRAPPER");
    if (o && o->wrapper) {
        for (const char *const *a = o->wrapper; *a; a++) {
            cr_assert(n < 40, "wrapper too long");
            argv[n++] = *a;
        }
    } else if (env_wrapper && *env_wrapper) {
        snprintf(wrapper_buf, sizeof(wrapper_buf), "%s", env_wrapper);
        for (char *save = NULL, *w = strtok_r(wrapper_buf, " ", &save); w && n < 40;
             w = strtok_r(NULL, " ", &save))
            argv[n++] = w;
    }
    argv[n++] = HARNESS_MINISUPD;
    argv[n++] = "-d";
    argv[n++] = d->unit_dir;
    argv[n++] = "--runtime-dir";
    argv[n++] = d->run_dir;
    argv[n++] = "--log-dir";
    argv[n++] = d->log_dir;
    if (getenv("MINISUP_E2E_DEBUG"))
        argv[n++] = "--debug";
    if (o && o->extra_args)
        for (const char *const *a = o->extra_args; *a; a++) {
            cr_assert(n + 1 < sizeof(argv) / sizeof(argv[0]), "too many minisupd arguments");
            argv[n++] = *a;
        }
    argv[n] = NULL;
    cr_assert(access(HARNESS_MINISUPD, X_OK) == 0, "%s is not built", HARNESS_MINISUPD);
    harness_path(d, log_path, log_rel);
    fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    cr_assert(fd >= 0, "open %s: %s", log_path, strerror(errno));
    pid = o ? spawn_opts(argv, fd, fd, SIGTERM, o) : spawn(argv, fd, fd, SIGTERM);
    close(fd);
    return pid;
}

/* Describes a wait status for messages: "exit code 1", "signal 11 (Segmentation fault)". */
static const char *describe_status(int status, char *buf, size_t size)
{
    if (WIFEXITED(status))
        snprintf(buf, size, "exit code %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, size, "signal %d (%s)%s", WTERMSIG(status), strsignal(WTERMSIG(status)),
                 WCOREDUMP(status) ? ", core dumped" : "");
    else
        snprintf(buf, size, "wait status 0x%x", status);
    return buf;
}

/* Fails the test at once when the daemon under test died behind its back, naming what it was
 * doing, instead of letting later waits run into their deadlines. */
static void check_daemon_alive(struct daemon *d, const char *doing)
{
    char buf[128];
    int status;

    if (d->pid <= 0 || waitpid(d->pid, &status, WNOHANG) != d->pid)
        return;
    d->pid = 0;
    d->exit_status = status;
    harness_dump_log(d, 4096);
    cr_assert_fail("minisupd died (%s) during %s", describe_status(status, buf, sizeof(buf)),
                   doing);
}

static bool daemon_answers(void *arg)
{
    struct daemon *d = arg;
    int status;

    /* Stop polling at once if the daemon died: the caller reports it. */
    if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
        d->exit_status = status;
        d->pid = -d->pid;
        return true;
    }
    return harness_ctl(d, NULL, NULL, "list-units", NULL) == 0;
}

void harness_start(struct daemon *d)
{
    harness_start_with(d, NULL);
}

void harness_start_with(struct daemon *d, const struct harness_start_opts *o)
{
    int saved = d->ctl_timeout_ms;
    bool ok;

    cr_assert(d->pid == 0, "minisupd is already running");
    cr_assert(access(HARNESS_MINISUPCTL, X_OK) == 0, "%s is not built", HARNESS_MINISUPCTL);
    d->stopped_cleanly = false;
    d->pid = harness_spawn_daemon_with(d, "minisupd.log", o);
    d->ctl_timeout_ms = 2000;
    ok = wait_until(daemon_answers, d, HARNESS_START_TIMEOUT_MS);
    d->ctl_timeout_ms = saved;
    if (d->pid < 0) {
        d->pid = 0;
        char buf[128];

        harness_dump_log(d, 4096);
        cr_assert_fail("minisupd exited during start-up (%s)",
                       describe_status(d->exit_status, buf, sizeof(buf)));
    }
    if (!ok) {
        harness_dump_log(d, 4096);
        cr_assert_fail("minisupd did not answer list-units within %d ms", HARNESS_START_TIMEOUT_MS);
    }
}

int harness_ctlv(struct daemon *d, char **ret_out, char **ret_err, const char *const *args)
{
    const char *argv[64] = {HARNESS_MINISUPCTL, "-s", d->socket};
    size_t n = 3;
    int out_fd, err_fd, status;
    pid_t pid;

    for (const char *const *a = args; *a; a++) {
        cr_assert(n + 1 < sizeof(argv) / sizeof(argv[0]), "too many minisupctl arguments");
        argv[n++] = *a;
    }
    argv[n] = NULL;
    out_fd = memfd_create("ctl-out", MFD_CLOEXEC);
    err_fd = memfd_create("ctl-err", MFD_CLOEXEC);
    cr_assert(out_fd >= 0 && err_fd >= 0, "memfd_create: %s", strerror(errno));
    pid = spawn(argv, out_fd, err_fd, SIGKILL);
    if (!harness_wait_pid(pid, d->ctl_timeout_ms, &status)) {
        char *err = NULL;

        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        err = read_fd_from_start(err_fd);
        harness_dump_log(d, 4096);
        cr_assert_fail("minisupctl %s %s did not finish within %d ms (stderr: %s)", args[0],
                       args[0] && args[1] ? args[1] : "", d->ctl_timeout_ms, err ? err : "");
    }
    if (!WIFEXITED(status)) {
        harness_dump_log(d, 4096);
        cr_assert_fail("minisupctl %s died of signal %d", args[0], WTERMSIG(status));
    }
    if (d->pid > 0) {
        char doing[256];

        snprintf(doing, sizeof(doing), "'minisupctl %s%s%s'", args[0] ? args[0] : "",
                 args[0] && args[1] ? " " : "", args[0] && args[1] ? args[1] : "");
        check_daemon_alive(d, doing);
    }
    if (ret_out)
        *ret_out = read_fd_from_start(out_fd);
    if (ret_err)
        *ret_err = read_fd_from_start(err_fd);
    close(out_fd);
    close(err_fd);
    return WEXITSTATUS(status);
}

int harness_ctl(struct daemon *d, char **ret_out, char **ret_err, ...)
{
    const char *args[64];
    size_t n = 0;
    va_list ap;

    va_start(ap, ret_err);
    for (const char *a; (a = va_arg(ap, const char *));) {
        cr_assert(n + 1 < sizeof(args) / sizeof(args[0]), "too many minisupctl arguments");
        args[n++] = a;
    }
    va_end(ap);
    args[n] = NULL;
    return harness_ctlv(d, ret_out, ret_err, args);
}

char *harness_journal_cat(struct daemon *d, const char *unit)
{
    char *out = NULL, *err = NULL;
    int r = harness_ctl(d, &out, &err, "journal", unit, "-o", "cat", NULL);

    cr_assert_eq(r, 0, "journal %s -o cat exited %d: %s", unit, r, err);
    free(err);
    return out;
}

json_t *harness_journal_json(struct daemon *d, const char *unit)
{
    char *out = NULL, *err = NULL, *line, *save = NULL;
    int r = harness_ctl(d, &out, &err, "journal", unit, "-o", "json", NULL);
    json_t *entries = json_array();

    cr_assert_eq(r, 0, "journal %s -o json exited %d: %s", unit, r, err);
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        json_t *e = json_loads(line, 0, &jerr);

        cr_assert(json_is_object(e), "journal -o json printed a line that is not an object: %s",
                  line);
        json_array_append_new(entries, e);
    }
    free(out);
    free(err);
    return entries;
}

struct journal_wait {
    struct daemon *d;
    const char *unit, *text;
};

static bool journal_has(void *arg)
{
    struct journal_wait *w = arg;
    char *out = NULL;
    bool found;

    if (harness_ctl(w->d, &out, NULL, "journal", w->unit, "-o", "cat", NULL) != 0) {
        free(out);
        return false;
    }
    found = strstr(out, w->text) != NULL;
    free(out);
    return found;
}

bool harness_wait_journal_contains(struct daemon *d, const char *unit, const char *text,
                                   int timeout_ms)
{
    struct journal_wait w = {d, unit, text};

    return wait_until(journal_has, &w, timeout_ms);
}

int harness_active_line(struct daemon *d, const char *unit, char *buf, size_t size)
{
    char *out = NULL;
    int r = harness_ctl(d, &out, NULL, "status", unit, NULL);
    const char *p = strstr(out, "Active: ");

    buf[0] = '\0';
    if (p) {
        size_t n;

        p += strlen("Active: ");
        n = strcspn(p, "\n");
        snprintf(buf, size, "%.*s", (int)n, p);
    }
    free(out);
    return r;
}

struct status_wait {
    struct daemon *d;
    const char *unit, *state;
    char last[256];
};

static bool status_is(void *arg)
{
    struct status_wait *w = arg;

    harness_active_line(w->d, w->unit, w->last, sizeof(w->last));
    return strncmp(w->last, w->state, strlen(w->state)) == 0;
}

bool harness_wait_status(struct daemon *d, const char *unit, const char *state, int timeout_ms)
{
    struct status_wait w = {d, unit, state, ""};

    if (wait_until(status_is, &w, timeout_ms))
        return true;
    fprintf(stderr, "[harness] %s: wanted Active: %s..., last seen Active: %s\n", unit, state,
            w.last);
    return false;
}

pid_t harness_main_pid(struct daemon *d, const char *unit)
{
    char *out = NULL;
    const char *p;
    long pid = 0;

    harness_ctl(d, &out, NULL, "status", unit, NULL);
    p = strstr(out, "Main PID: ");
    if (p)
        pid = strtol(p + strlen("Main PID: "), NULL, 10);
    free(out);
    if (pid > 0)
        harness_track_pid(d, (pid_t)pid);
    return (pid_t)pid;
}

/* Reads state, ppid, pgid, sid, utime+stime and start time from /proc/pid/stat. false when the
 * process is gone. */
static bool proc_stat_full(pid_t pid, char *ret_state, pid_t *ret_ppid, pid_t *ret_pgid,
                           pid_t *ret_sid, unsigned long long *ret_cpu,
                           unsigned long long *ret_starttime)
{
    char path[64], buf[1024];
    const char *p;
    int fd;
    ssize_t n;
    char state;
    int ppid, pgid, sid;
    unsigned long long utime, stime, start;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (!p || sscanf(p + 2,
                     "%c %d %d %d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d "
                     "%*d %llu",
                     &state, &ppid, &pgid, &sid, &utime, &stime, &start) != 7)
        return false;
    if (ret_state)
        *ret_state = state;
    if (ret_ppid)
        *ret_ppid = ppid;
    if (ret_pgid)
        *ret_pgid = pgid;
    if (ret_sid)
        *ret_sid = sid;
    if (ret_cpu)
        *ret_cpu = utime + stime;
    if (ret_starttime)
        *ret_starttime = start;
    return true;
}

/* Reads state, ppid and start time from /proc/pid/stat. false when the process is gone. */
static bool proc_stat(pid_t pid, char *ret_state, pid_t *ret_ppid,
                      unsigned long long *ret_starttime)
{
    char path[64], buf[1024];
    const char *p;
    int fd;
    ssize_t n;
    char state;
    int ppid;
    unsigned long long start;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    /* The command name may contain spaces and parentheses; fields restart after the last ')'. */
    p = strrchr(buf, ')');
    if (!p || sscanf(p + 2,
                     "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d "
                     "%*d %llu",
                     &state, &ppid, &start) != 3)
        return false;
    if (ret_state)
        *ret_state = state;
    if (ret_ppid)
        *ret_ppid = ppid;
    if (ret_starttime)
        *ret_starttime = start;
    return true;
}

bool harness_pid_alive(pid_t pid)
{
    char state;

    return pid > 0 && proc_stat(pid, &state, NULL, NULL) && state != 'Z' && state != 'X';
}

/* Whether the recorded process still runs: same pid, same start time, not a zombie. */
static bool proc_alive(const struct harness_proc *p)
{
    char state;
    unsigned long long start;

    return proc_stat(p->pid, &state, NULL, &start) && start == p->starttime && state != 'Z' &&
           state != 'X';
}

void harness_track_pid(struct daemon *d, pid_t pid)
{
    struct harness_proc p = {.pid = pid};

    if (pid <= 0 || !proc_stat(pid, NULL, NULL, &p.starttime))
        return;
    for (size_t i = 0; i < d->n_procs; i++)
        if (d->procs[i].pid == pid && d->procs[i].starttime == p.starttime)
            return;
    cr_assert(d->n_procs < HARNESS_MAX_PIDS, "too many tracked processes");
    d->procs[d->n_procs++] = p;
}

/* Calls fn for every process in /proc with its state and ppid. */
static void for_each_proc(void (*fn)(void *arg, pid_t pid, char state, pid_t ppid), void *arg)
{
    DIR *dir = opendir("/proc");
    struct dirent *de;

    cr_assert_not_null(dir, "opendir /proc: %s", strerror(errno));
    while ((de = readdir(dir))) {
        char state;
        pid_t ppid;

        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        if (proc_stat(atoi(de->d_name), &state, &ppid, NULL))
            fn(arg, atoi(de->d_name), state, ppid);
    }
    closedir(dir);
}

struct proc_list {
    pid_t pid[4096], ppid[4096];
    char state[4096];
    size_t n;
};

static void collect(void *arg, pid_t pid, char state, pid_t ppid)
{
    struct proc_list *l = arg;

    if (l->n < sizeof(l->pid) / sizeof(l->pid[0])) {
        l->pid[l->n] = pid;
        l->ppid[l->n] = ppid;
        l->state[l->n] = state;
        l->n++;
    }
}

/* Records every live descendant of pid (services and what they forked). */
static void track_descendants(struct daemon *d, pid_t root)
{
    static struct proc_list l;
    pid_t tree[HARNESS_MAX_PIDS];
    size_t n_tree = 0;

    l.n = 0;
    for_each_proc(collect, &l);
    tree[n_tree++] = root;
    for (size_t i = 0; i < n_tree; i++)
        for (size_t j = 0; j < l.n; j++)
            if (l.ppid[j] == tree[i] && n_tree < HARNESS_MAX_PIDS) {
                tree[n_tree++] = l.pid[j];
                if (l.state[j] != 'Z')
                    harness_track_pid(d, l.pid[j]);
            }
}

int harness_zombies(const struct daemon *d)
{
    static struct proc_list l;
    int n = 0;

    l.n = 0;
    for_each_proc(collect, &l);
    for (size_t i = 0; i < l.n; i++)
        if (l.ppid[i] == d->pid && l.state[i] == 'Z')
            n++;
    return n;
}

struct zombie_wait {
    const struct daemon *d;
    pid_t parent;
    struct harness_proc z[64];
    size_t n;
};

static bool zombies_reaped(void *arg)
{
    struct zombie_wait *w = arg;

    for (size_t i = 0; i < w->n; i++) {
        char state;
        pid_t ppid;
        unsigned long long start;

        if (proc_stat(w->z[i].pid, &state, &ppid, &start) && start == w->z[i].starttime &&
            state == 'Z' && ppid == w->parent)
            return false;
    }
    return true;
}

/* Fails the test if a zombie child of minisupd stays unreaped for a second: the daemon's reaper
 * must collect every child, not only main processes. */
static void check_no_lingering_zombies(struct daemon *d, pid_t parent)
{
    static struct proc_list l;
    struct zombie_wait w = {.d = d, .parent = parent};

    l.n = 0;
    for_each_proc(collect, &l);
    for (size_t i = 0; i < l.n && w.n < 64; i++)
        if (l.ppid[i] == parent && l.state[i] == 'Z' &&
            proc_stat(l.pid[i], NULL, NULL, &w.z[w.n].starttime))
            w.z[w.n++].pid = l.pid[i];
    if (!wait_until(zombies_reaped, &w, 1000)) {
        harness_dump_log(d, 4096);
        cr_assert_fail("minisupd left a zombie child unreaped for more than 1 s (pid %d)",
                       (int)w.z[0].pid);
    }
}

/* Fails the test when the daemon's log holds a sanitizer report. */
static void check_log_clean(const struct daemon *d)
{
    static const char *const reports[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                          "runtime error:", "WARNING: ThreadSanitizer", NULL};
    char *text = read_file(d->log_file, NULL);

    if (!text)
        return;
    for (const char *const *r = reports; *r; r++)
        if (strstr(text, *r)) {
            harness_dump_log(d, 16384);
            free(text);
            cr_assert_fail("minisupd's log holds a sanitizer report (%s)", *r);
        }
    free(text);
}

void harness_stop(struct daemon *d)
{
    harness_stop_by(d, d->pid, SIGTERM);
}

void harness_stop_by(struct daemon *d, pid_t target, int sig)
{
    int status;

    cr_assert(d->pid > 0, "minisupd is not running");
    check_daemon_alive(d, "the test, before harness_stop()");
    check_no_lingering_zombies(d, target);
    track_descendants(d, d->pid);

    cr_assert(kill(target, sig) == 0, "kill minisupd: %s", strerror(errno));
    if (!harness_wait_pid(d->pid, HARNESS_STOP_TIMEOUT_MS, &status)) {
        kill(d->pid, SIGKILL);
        waitpid(d->pid, NULL, 0);
        d->pid = 0;
        harness_dump_log(d, 4096);
        cr_assert_fail("minisupd did not exit within %d ms of signal %d", HARNESS_STOP_TIMEOUT_MS,
                       sig);
    }
    d->pid = 0;
    d->exit_status = status;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        harness_dump_log(d, 4096);
        char buf[128];

        cr_assert_fail("minisupd ended with %s after signal %d, want exit code 0",
                       describe_status(status, buf, sizeof(buf)), sig);
    }
    check_log_clean(d);
    for (size_t i = 0; i < d->n_procs; i++)
        cr_assert(!proc_alive(&d->procs[i]), "process %d is still alive after minisupd exited",
                  (int)d->procs[i].pid);
    d->stopped_cleanly = true;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

void harness_cleanup(struct daemon *d)
{
    if (d->base[0] == '\0')
        return;
    if (d->pid > 0 && waitpid(d->pid, &d->exit_status, WNOHANG) == d->pid) {
        char buf[128];

        fprintf(stderr, "[harness] minisupd had died: %s\n",
                describe_status(d->exit_status, buf, sizeof(buf)));
        harness_dump_log(d, 4096);
        d->pid = 0;
    }
    if (d->pid > 0) {
        int status;

        /* The test ended early: report what the daemon said, then stop it gently first so its
         * services go too, and by force if it does not comply. */
        track_descendants(d, d->pid);
        harness_dump_log(d, 4096);
        kill(d->pid, SIGTERM);
        if (!harness_wait_pid(d->pid, 10000, &status)) {
            kill(d->pid, SIGKILL);
            waitpid(d->pid, NULL, 0);
        }
        d->pid = 0;
    }
    for (size_t i = 0; i < d->n_procs; i++)
        if (proc_alive(&d->procs[i])) {
            fprintf(stderr, "[harness] killing leftover process %d\n", (int)d->procs[i].pid);
            kill(d->procs[i].pid, SIGKILL);
        }
    if (getenv("MINISUP_KEEP_TMP"))
        fprintf(stderr, "[harness] keeping %s\n", d->base);
    else
        (void)nftw(d->base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    d->base[0] = '\0';
}

json_t *harness_varlink(struct daemon *d, const char *method, json_t *params)
{
    char full[256];
    struct varlink_client *c = NULL;
    json_t *reply = NULL, *rparams = NULL;
    const char *error = NULL;
    bool continues;
    int r;

    snprintf(full, sizeof(full), "%s.%s", VARLINK_INTERFACE, method);
    r = varlink_client_connect(d->socket, &c);
    cr_assert_eq(r, 0, "cannot connect to %s: %s", d->socket, strerror(-r));
    r = varlink_client_send(c, full, params, 0);
    cr_assert_eq(r, 0, "cannot send %s: %s", full, strerror(-r));
    r = varlink_client_receive(c, 10000, &reply);
    cr_assert_eq(r, 0, "no reply to %s: %s", full, strerror(-r));
    r = varlink_reply_parse(reply, &error, &rparams, &continues);
    cr_assert_eq(r, 0, "malformed reply to %s", full);
    cr_assert_null(error, "%s failed: %s", full, error);
    json_incref(rparams);
    json_decref(reply);
    varlink_client_free(c);
    return rparams;
}

json_t *harness_get_unit(struct daemon *d, const char *name)
{
    json_t *r = harness_varlink(d, "GetUnit", json_pack("{s:s}", "name", name));
    json_t *unit = json_object_get(r, "unit");

    cr_assert(json_is_object(unit), "GetUnit(%s) returned no unit", name);
    json_incref(unit);
    json_decref(r);
    return unit;
}

struct state_wait {
    struct daemon *d;
    const char *unit, *active, *sub;
    char last[128];
};

static const char *unit_field(const json_t *u, const char *key)
{
    const char *v = json_string_value(json_object_get(u, key));

    return v ? v : "";
}

static bool unit_state_is(void *arg)
{
    struct state_wait *w = arg;
    json_t *u = harness_get_unit(w->d, w->unit);
    const char *a = unit_field(u, "activeState"), *s = unit_field(u, "subState");
    bool ok = strcmp(a, w->active) == 0 && (!w->sub || strcmp(s, w->sub) == 0);

    snprintf(w->last, sizeof(w->last), "%s (%s)", a, s);
    json_decref(u);
    return ok;
}

void harness_wait_state(struct daemon *d, const char *unit, const char *active, const char *sub,
                        int timeout_ms)
{
    struct state_wait w = {d, unit, active, sub, ""};

    cr_assert(wait_until(unit_state_is, &w, timeout_ms), "%s never became %s (%s); last %s", unit,
              active, sub ? sub : "*", w.last);
}

static bool unit_is_down(void *arg)
{
    struct state_wait *w = arg;
    json_t *u = harness_get_unit(w->d, w->unit);
    const char *a = unit_field(u, "activeState");
    bool down = strcmp(a, "inactive") == 0 || strcmp(a, "failed") == 0;

    json_decref(u);
    return down;
}

void harness_wait_down(struct daemon *d, const char *unit, int timeout_ms)
{
    struct state_wait w = {.d = d, .unit = unit};

    cr_assert(wait_until(unit_is_down, &w, timeout_ms), "%s did not end within %d ms", unit,
              timeout_ms);
}

/* Counts the lines of text that equal s (whole) or contain it. */
static size_t count_lines(const char *text, const char *s, bool whole)
{
    size_t count = 0, n = strlen(s);

    for (const char *p = text; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (whole ? (len == n && memcmp(p, s, n) == 0) : memmem(p, len, s, n) != NULL)
            count++;
        p = end ? end + 1 : NULL;
    }
    return count;
}

void harness_metric(const char *test, const char *metric, double value, double limit)
{
    json_t *o = json_pack("{s:s, s:s, s:f, s:f}", "test", test, "metric", metric, "value", value,
                          "limit", limit);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

    if (s)
        printf("%s\n", s);
    fflush(stdout);
    free(s);
    json_decref(o);
}

size_t harness_count_lines(const char *text, const char *line)
{
    return count_lines(text, line, true);
}

size_t harness_count_lines_containing(const char *text, const char *needle)
{
    return count_lines(text, needle, false);
}

/* ---- Helpers for the supervision and activation suites ---- */

bool harness_wait_exit(struct daemon *d, int timeout_ms, int *ret_status)
{
    int status;

    cr_assert(d->pid > 0, "minisupd is not running");
    if (!harness_wait_pid(d->pid, timeout_ms, &status))
        return false;
    d->pid = 0;
    d->exit_status = status;
    if (ret_status)
        *ret_status = status;
    check_log_clean(d);
    return true;
}

void harness_track_descendants(struct daemon *d)
{
    if (d->pid > 0)
        track_descendants(d, d->pid);
}

size_t harness_descendants(pid_t root, pid_t *out, size_t max)
{
    static struct proc_list l;
    pid_t tree[4096];
    size_t n_tree = 0, n = 0;

    l.n = 0;
    for_each_proc(collect, &l);
    tree[n_tree++] = root;
    for (size_t i = 0; i < n_tree; i++)
        for (size_t j = 0; j < l.n; j++)
            if (l.ppid[j] == tree[i] && n_tree < sizeof(tree) / sizeof(tree[0])) {
                tree[n_tree++] = l.pid[j];
                if (l.state[j] != 'Z' && l.state[j] != 'X' && n < max)
                    out[n++] = l.pid[j];
            }
    return n;
}

size_t harness_zombie_pids(pid_t parent, pid_t *out, size_t max)
{
    static struct proc_list l;
    size_t n = 0;

    l.n = 0;
    for_each_proc(collect, &l);
    for (size_t i = 0; i < l.n; i++)
        if (l.ppid[i] == parent && l.state[i] == 'Z') {
            if (n < max && out)
                out[n] = l.pid[i];
            n++;
        }
    return n;
}

bool harness_proc_ids(pid_t pid, char *ret_state, pid_t *ret_ppid, pid_t *ret_pgid, pid_t *ret_sid)
{
    return pid > 0 && proc_stat_full(pid, ret_state, ret_ppid, ret_pgid, ret_sid, NULL, NULL);
}

int harness_fd_count(pid_t pid)
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
        if (de->d_name[0] != '.')
            n++;
    closedir(dir);
    return n;
}

long harness_status_kib(pid_t pid, const char *key)
{
    char path[64], line[256];
    size_t klen = strlen(key);
    long v = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            v = strtol(line + klen + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

unsigned long long harness_cpu_ticks(pid_t pid)
{
    unsigned long long cpu = 0;

    proc_stat_full(pid, NULL, NULL, NULL, NULL, &cpu, NULL);
    return cpu;
}

pid_t harness_ctl_spawn(struct daemon *d, const char *const *args, int out_fd)
{
    const char *argv[64] = {HARNESS_MINISUPCTL, "-s", d->socket};
    size_t n = 3;

    for (const char *const *a = args; *a; a++) {
        cr_assert(n + 1 < sizeof(argv) / sizeof(argv[0]), "too many minisupctl arguments");
        argv[n++] = *a;
    }
    argv[n] = NULL;
    return spawn(argv, out_fd, out_fd, SIGKILL);
}

json_t *harness_varlink_try(struct daemon *d, const char *method, json_t *params, char **ret_error)
{
    char full[256];
    struct varlink_client *c = NULL;
    json_t *reply = NULL, *rparams = NULL;
    const char *error = NULL;
    bool continues;
    int r;

    *ret_error = NULL;
    snprintf(full, sizeof(full), "%s.%s", VARLINK_INTERFACE, method);
    r = varlink_client_connect(d->socket, &c);
    cr_assert_eq(r, 0, "cannot connect to %s: %s", d->socket, strerror(-r));
    r = varlink_client_send(c, full, params, 0);
    cr_assert_eq(r, 0, "cannot send %s: %s", full, strerror(-r));
    r = varlink_client_receive(c, 10000, &reply);
    cr_assert_eq(r, 0, "no reply to %s: %s", full, strerror(-r));
    r = varlink_reply_parse(reply, &error, &rparams, &continues);
    cr_assert_eq(r, 0, "malformed reply to %s", full);
    if (error) {
        *ret_error = strdup(error);
        rparams = NULL;
    } else {
        json_incref(rparams);
    }
    json_decref(reply);
    varlink_client_free(c);
    return rparams;
}

struct journal_count_wait {
    struct daemon *d;
    const char *unit, *needle;
    size_t want, seen;
};

static bool journal_count_reached(void *arg)
{
    struct journal_count_wait *w = arg;
    char *out = NULL;

    if (harness_ctl(w->d, &out, NULL, "journal", w->unit, "-o", "cat", NULL) != 0) {
        free(out);
        return false;
    }
    w->seen = harness_count_lines_containing(out, w->needle);
    free(out);
    return w->seen >= w->want;
}

bool harness_wait_journal_count(struct daemon *d, const char *unit, const char *needle, size_t want,
                                int timeout_ms, size_t *ret_seen)
{
    struct journal_count_wait w = {d, unit, needle, want, 0};
    bool ok = wait_until(journal_count_reached, &w, timeout_ms);

    if (ret_seen)
        *ret_seen = w.seen;
    return ok;
}
