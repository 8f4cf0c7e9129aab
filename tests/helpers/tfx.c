/* tfx: the multi-call fixture binary the end-to-end tests run as services (RELIABILITY.md 2.0).
 * One command per run, selected by argv[1]; every line goes out with one write(2), unbuffered,
 * so it reaches minisupd's pipe at once. No supervisor headers: it stands for any program. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Writes all of buf to fd, retrying short writes and EINTR. Exits 1 on a write error, since a
 * fixture that silently loses output would make a test blame the supervisor. */
static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            _exit(1);
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* Formats one record and writes it with a single write(2). */
__attribute__((format(printf, 2, 3))) static void out(int fd, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        _exit(1);
    write_all(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void usage(void)
{
    out(STDERR_FILENO,
        "Usage: tfx COMMAND [ARGS]\n"
        "  seq N [--nonl-last] [--prefix P] [--rate R]  print P:1 .. P:N, exit 0\n"
        "  crash CODE | crash --signal SIG               exit with CODE, or die of SIG\n"
        "  ignore-term                                   ignore SIGTERM, print 'ready', wait\n"
        "  sleep SECONDS                                 sleep (fractions allowed), exit 0\n"
        "  stamp                                         print CLOCK_MONOTONIC start in us\n"
        "  fdcheck                                       print open fds, signal masks, ids\n"
        "  double-fork [--setsid]                        leave a grandchild behind, exit 0\n");
}

static uint64_t now_us(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Parses a non-negative decimal; exits 2 on garbage. */
static long parse_long(const char *s, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0) {
        out(STDERR_FILENO, "tfx: invalid %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

/* Sleeps until the absolute CLOCK_MONOTONIC time t (µs), through EINTR. */
static void sleep_until_us(uint64_t t)
{
    struct timespec ts = {.tv_sec = (time_t)(t / 1000000u), .tv_nsec = (long)(t % 1000000u) * 1000};

    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* seq N: lines "<prefix>:<i>" for i in 1..N, one write each. --rate R spaces them at R lines
 * per second; --nonl-last leaves the last line without its newline (journal completeness). */
static int cmd_seq(int argc, char **argv)
{
    const char *prefix = "seq";
    bool nonl_last = false;
    long n = -1, rate = 0;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--nonl-last") == 0)
            nonl_last = true;
        else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc)
            prefix = argv[++i];
        else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
            rate = parse_long(argv[++i], "rate");
        else if (n < 0)
            n = parse_long(argv[i], "count");
        else
            return usage(), 2;
    }
    if (n < 0)
        return usage(), 2;

    uint64_t start = now_us(CLOCK_MONOTONIC);
    for (long i = 1; i <= n; i++) {
        if (rate > 0)
            sleep_until_us(start + (uint64_t)(i - 1) * 1000000u / (uint64_t)rate);
        out(STDOUT_FILENO, "%s:%ld%s", prefix, i, (nonl_last && i == n) ? "" : "\n");
    }
    return 0;
}

/* Maps "KILL", "SIGKILL" or "9" to a signal number; -1 when unknown. */
static int parse_signal(const char *s)
{
    static const struct {
        const char *name;
        int sig;
    } table[] = {
        {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ILL", SIGILL},
        {"ABRT", SIGABRT}, {"BUS", SIGBUS},   {"FPE", SIGFPE},   {"KILL", SIGKILL},
        {"USR1", SIGUSR1}, {"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},
        {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    };

    if (isdigit((unsigned char)s[0])) {
        long v = parse_long(s, "signal");
        return v > 0 && v < NSIG ? (int)v : -1;
    }
    if (strncmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(s, table[i].name) == 0)
            return table[i].sig;
    return -1;
}

/* crash CODE exits with CODE; crash --signal SIG dies of SIG (without a core file). Both say so
 * on stdout first, so every run leaves exactly one line in the journal to count runs by. */
static int cmd_crash(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[0], "--signal") == 0) {
        int sig = parse_signal(argv[1]);
        struct rlimit no_core = {0, 0};
        sigset_t all;

        if (sig < 0)
            return usage(), 2;
        out(STDOUT_FILENO, "crash: signal %d\n", sig);
        (void)setrlimit(RLIMIT_CORE, &no_core);
        signal(sig, SIG_DFL);
        sigfillset(&all);
        sigprocmask(SIG_UNBLOCK, &all, NULL);
        raise(sig);
        /* A signal whose default action is to be ignored lands here. */
        out(STDERR_FILENO, "tfx: signal %d did not end the process\n", sig);
        return 70;
    }
    if (argc != 1)
        return usage(), 2;
    long code = parse_long(argv[0], "exit code");
    out(STDOUT_FILENO, "crash: exit %ld\n", code);
    return (int)(code & 0xff);
}

/* ignore-term: SIGTERM is ignored before "ready" is printed, so a test that waited for "ready"
 * knows a stop must escalate to SIGKILL. */
__attribute__((noreturn)) static void cmd_ignore_term(void)
{
    signal(SIGTERM, SIG_IGN);
    out(STDOUT_FILENO, "ready\n");
    for (;;)
        pause();
}

static int cmd_sleep(int argc, char **argv)
{
    char *end;
    double secs;

    if (argc != 1)
        return usage(), 2;
    secs = strtod(argv[0], &end);
    if (end == argv[0] || *end || secs < 0)
        return usage(), 2;
    sleep_until_us(now_us(CLOCK_MONOTONIC) + (uint64_t)(secs * 1e6));
    return 0;
}

static int cmd_stamp(void)
{
    out(STDOUT_FILENO, "%llu\n", (unsigned long long)now_us(CLOCK_MONOTONIC));
    return 0;
}

/* Copies the lines of /proc/self/status that start with one of the given keys to stdout. */
static void print_status_lines(const char *const *keys)
{
    char line[1024];
    FILE *f = fopen("/proc/self/status", "re");

    if (!f)
        return;
    while (fgets(line, sizeof(line), f))
        for (const char *const *k = keys; *k; k++)
            if (strncmp(line, *k, strlen(*k)) == 0 && line[strlen(*k)] == ':')
                out(STDOUT_FILENO, "%s", line);
    fclose(f);
}

/* fdcheck: "fd N -> TARGET" for every open fd (but the one used to list them), then the
 * signal masks and credentials from /proc/self/status, then exits 0. */
static int cmd_fdcheck(void)
{
    static const char *const keys[] = {"SigBlk", "SigIgn", "SigCgt", "Uid", "Gid", "Groups", NULL};
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *de;

    if (!dir)
        return 1;
    while ((de = readdir(dir))) {
        char path[320], target[PATH_MAX];
        ssize_t n;

        if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(dir))
            continue;
        snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
        n = readlink(path, target, sizeof(target) - 1);
        if (n < 0)
            continue;
        target[n] = '\0';
        out(STDOUT_FILENO, "fd %s -> %s\n", de->d_name, target);
    }
    closedir(dir);
    print_status_lines(keys);
    return 0;
}

/* double-fork: the grandchild (optionally in a new session) prints its pid and waits forever;
 * the middle process exits at once, so the grandchild is orphaned the way daemons do it. */
static int cmd_double_fork(int argc, char **argv)
{
    bool new_session = argc == 1 && strcmp(argv[0], "--setsid") == 0;
    pid_t pid;

    if (argc > 1 || (argc == 1 && !new_session))
        return usage(), 2;
    pid = fork();
    if (pid < 0)
        return 1;
    if (pid > 0)
        return 0;
    if (new_session)
        (void)setsid();
    pid = fork();
    if (pid < 0)
        _exit(1);
    if (pid > 0)
        _exit(0);
    out(STDOUT_FILENO, "grandchild %d\n", (int)getpid());
    for (;;)
        pause();
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    const char *cmd = argv[1];
    argc -= 2;
    argv += 2;

    if (strcmp(cmd, "seq") == 0)
        return cmd_seq(argc, argv);
    if (strcmp(cmd, "crash") == 0)
        return cmd_crash(argc, argv);
    if (strcmp(cmd, "ignore-term") == 0 && argc == 0)
        cmd_ignore_term();
    if (strcmp(cmd, "sleep") == 0)
        return cmd_sleep(argc, argv);
    if (strcmp(cmd, "stamp") == 0 && argc == 0)
        return cmd_stamp();
    if (strcmp(cmd, "fdcheck") == 0 && argc == 0)
        return cmd_fdcheck();
    if (strcmp(cmd, "double-fork") == 0)
        return cmd_double_fork(argc, argv);
    usage();
    return 2;
}
