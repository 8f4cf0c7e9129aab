/* rfx: the reliability suite's own fixture commands, for what tfx does not cover (RELIABILITY.md
 * 2.0; tests/e2e/test_reliability.c). One command per run, selected by argv[1]. Like tfx, every
 * line goes out with one write(2), unbuffered, and no supervisor header is used. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Writes all of buf; returns 0, or -errno on a write error (EPIPE when the reader is gone). */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One formatted record in one write(2); exits 1 on a write error. */
__attribute__((format(printf, 2, 3))) static void out(int fd, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 || write_all(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1) < 0)
        _exit(1);
}

static void usage(void)
{
    out(STDERR_FILENO,
        "Usage: rfx COMMAND [ARGS]\n"
        "  exit-from FILE          read 'exit N' or 'signal N' from FILE and do it\n"
        "  burst N                 leave N orphans to minisupd that all exit at one instant\n"
        "  forkbomb MAX            fork (children wait) until fork fails or MAX, then wait\n"
        "  race MAXMS              print 'run PID', live a random 0..MAXMS ms, exit 0\n"
        "  alternate N             out:i on stdout and err:i on stderr, alternately\n"
        "  flood BYTES             100-byte lines 'flood:i:...' in 64 KiB writes, then 'flood done "
        "N'\n"
        "  writer FILE             'w:PID:i' lines until a write fails; then the count goes to "
        "FILE.PID\n"
        "  ids                     print resuid, resgid, groups, CapEff, NoNewPrivs, setuid(0)\n");
}

static long parse_long(const char *s, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0) {
        out(STDERR_FILENO, "rfx: invalid %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void sleep_us(uint64_t us)
{
    struct timespec ts = {.tv_sec = (time_t)(us / 1000000u),
                          .tv_nsec = (long)(us % 1000000u) * 1000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

__attribute__((noreturn)) static void wait_forever(void)
{
    for (;;)
        pause();
}

/* exit-from FILE: the way to end is read at run time, so one unit can be started once per exit
 * code or signal (PROC-4). Prints what it does first. A signal is raised with its default
 * action, unblocked, and without a core file. */
static int cmd_exit_from(const char *path)
{
    char buf[64] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    long v;

    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return out(STDERR_FILENO, "rfx: cannot read %s\n", path), 2;
    buf[n] = '\0';
    if (sscanf(buf, "exit %ld", &v) == 1) {
        out(STDOUT_FILENO, "exit %ld\n", v);
        return (int)(v & 0xff);
    }
    if (sscanf(buf, "signal %ld", &v) == 1 && v > 0 && v < NSIG) {
        struct rlimit no_core = {0, 0};
        sigset_t all;

        out(STDOUT_FILENO, "signal %ld\n", v);
        (void)setrlimit(RLIMIT_CORE, &no_core);
        signal((int)v, SIG_DFL);
        sigfillset(&all);
        sigprocmask(SIG_UNBLOCK, &all, NULL);
        raise((int)v);
        out(STDERR_FILENO, "rfx: signal %ld did not end the process\n", v);
        return 70;
    }
    return out(STDERR_FILENO, "rfx: bad contents of %s\n", path), 2;
}

/* burst N: a middle process forks N children that block on a pipe, and exits; the children are
 * reparented to the nearest subreaper (minisupd). Then the write end is closed: every child
 * reads EOF and exits at the same instant, so the SIGCHLDs coalesce (PROC-3). Prints
 * "orphans P1 P2 ..." (in lines of at most 64 pids), then "released N", then waits. */
static int cmd_burst(const char *count)
{
    long n = parse_long(count, "count");
    int barrier[2], report[2];
    pid_t middle;

    if (pipe2(barrier, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0)
        return 1;
    middle = fork();
    if (middle < 0)
        return 1;
    if (middle == 0) {
        close(barrier[1]);
        close(report[0]);
        for (long i = 0; i < n; i++) {
            pid_t c = fork();
            char ch;

            if (c < 0)
                _exit(1);
            if (c == 0) {
                close(report[1]);
                while (read(barrier[0], &ch, 1) < 0 && errno == EINTR)
                    ;
                _exit(0);
            }
            if (write_all(report[1], (const char *)&c, sizeof(c)) < 0)
                _exit(1);
        }
        _exit(0);
    }
    close(barrier[0]);
    close(report[1]);
    {
        char line[1024];
        size_t len = 0;
        long got = 0, in_line = 0;
        pid_t c;
        int status;

        while (read(report[0], &c, sizeof(c)) == (ssize_t)sizeof(c)) {
            if (in_line == 0)
                len = (size_t)snprintf(line, sizeof(line), "orphans");
            len += (size_t)snprintf(line + len, sizeof(line) - len, " %d", (int)c);
            got++;
            if (++in_line == 64) {
                out(STDOUT_FILENO, "%s\n", line);
                in_line = 0;
            }
        }
        if (in_line > 0)
            out(STDOUT_FILENO, "%s\n", line);
        /* Once the middle process is reaped, its children have been reparented. */
        while (waitpid(middle, &status, 0) < 0 && errno == EINTR)
            ;
        if (got != n || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return out(STDOUT_FILENO, "burst failed after %ld\n", got), 1;
    }
    close(barrier[1]);
    out(STDOUT_FILENO, "released %ld\n", n);
    wait_forever();
}

/* forkbomb MAX: forks children that wait forever until fork fails (RLIMIT_NPROC) or MAX are
 * running, prints "forked N, then: <error>", and waits with them (PROC-6). */
static int cmd_forkbomb(const char *max_text)
{
    long max = parse_long(max_text, "count"), n = 0;
    int err = 0;

    for (; n < max; n++) {
        pid_t c = fork();

        if (c < 0) {
            err = errno;
            break;
        }
        if (c == 0)
            wait_forever();
    }
    out(STDOUT_FILENO, "forked %ld, then: %s\n", n, err ? strerror(err) : "limit of the test");
    wait_forever();
}

/* race MAXMS: a short-lived service for start/stop/restart storms (STOP-5). */
static int cmd_race(const char *max_text)
{
    long max_ms = parse_long(max_text, "milliseconds");
    unsigned seed = (unsigned)getpid() ^ (unsigned)now_us();

    out(STDOUT_FILENO, "run %d\n", (int)getpid());
    if (max_ms > 0)
        sleep_us((uint64_t)(rand_r(&seed) % (max_ms + 1)) * 1000u);
    return 0;
}

/* alternate N: out:i to stdout then err:i to stderr, for i in 1..N (LOG-3). */
static int cmd_alternate(const char *count)
{
    long n = parse_long(count, "count");

    for (long i = 1; i <= n; i++) {
        out(STDOUT_FILENO, "out:%ld\n", i);
        out(STDERR_FILENO, "err:%ld\n", i);
    }
    return 0;
}

/* flood BYTES: as fast as it can, 100-byte lines "flood:<i>:xxx...x" packed into 64 KiB writes,
 * until BYTES were written; then "flood done <lines>" (LOG-4, CTL-2). */
static int cmd_flood(const char *bytes_text)
{
    static char buf[64 * 1024];
    long total = parse_long(bytes_text, "byte count"), written = 0, line = 0;

    while (written < total) {
        size_t len = 0;

        while (len + 100 <= sizeof(buf) && written + (long)len < total) {
            int k = snprintf(buf + len, 101, "flood:%ld:", ++line);

            memset(buf + len + k, 'x', (size_t)(99 - k));
            buf[len + 99] = '\n';
            len += 100;
        }
        if (write_all(STDOUT_FILENO, buf, len) < 0)
            return 1;
        written += (long)len;
    }
    out(STDOUT_FILENO, "flood done %ld\n", line);
    return 0;
}

/* flood-pipesize BYTES: flood BYTES, then say how much its stdout pipe holds now, and then how
 * much its stderr pipe holds (a stream that never flooded). */
static int cmd_flood_pipesize(const char *bytes_text)
{
    int r = cmd_flood(bytes_text);

    if (r != 0)
        return r;
    out(STDOUT_FILENO, "stdout pipe holds %d\n", fcntl(STDOUT_FILENO, F_GETPIPE_SZ));
    out(STDOUT_FILENO, "stderr pipe holds %d\n", fcntl(STDERR_FILENO, F_GETPIPE_SZ));
    return 0;
}

/* writer FILE: "w:<pid>:<i>" lines as fast as it can, until a write fails (minisupd died and the
 * pipe has no reader: EPIPE, SIGPIPE being ignored as systemd's IgnoreSIGPIPE=yes does). A
 * SIGTERM after the parent died (minisupd's PR_SET_PDEATHSIG) is noted and writing goes on to
 * that failure; a SIGTERM while the parent lives (a stop) ends it with 0. Then
 * "<last i written whole> <errno> <1 if SIGTERM came>" goes to FILE.<pid>, so a test knows
 * exactly what was emitted (CRASH-1). */
static volatile sig_atomic_t writer_termed;

static void writer_on_term(int sig)
{
    (void)sig;
    writer_termed = 1;
}

/* Whether process pid is gone or going: its main thread is exiting or has exited (Z, zombie
 * while another thread finishes; X, dead). minisupd's loop thread is its main thread and the one
 * that forks, so PR_SET_PDEATHSIG fires when it exits; if minisupd's journal writer thread is still
 * alive at that instant, the kernel hands the child to that thread first, and getppid() still names
 * minisupd. */
static bool parent_exiting(pid_t pid)
{
    char path[64], buf[512], *p;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return true;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return true;
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
        return true;
    /* Field 9, the flags: PF_EXITING (0x4) is set as soon as the exit begins, before the
     * kernel sends the death signal. */
    char state;
    int ppid, pgrp, session, tty, tpgid;
    unsigned flags;
    if (sscanf(p + 2, "%c %d %d %d %d %d %u", &state, &ppid, &pgrp, &session, &tty, &tpgid,
               &flags) != 7)
        return true;
    return (flags & 0x4) != 0;
}

static int cmd_writer(const char *path)
{
    struct sigaction sa = {.sa_handler = writer_on_term, .sa_flags = SA_RESTART};
    char line[64], file[4096];
    long i = 0;
    int err, fd, n;

    pid_t parent = getppid();

    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    for (;;) {
        /* A SIGTERM from a live parent is an ordinary stop: end at once. */
        if (writer_termed && getppid() == parent && !parent_exiting(parent))
            return 0;
        n = snprintf(line, sizeof(line), "w:%d:%ld\n", (int)getpid(), i + 1);
        err = write_all(STDOUT_FILENO, line, (size_t)n);
        if (err < 0)
            break;
        i++;
    }
    /* Written under a temporary name and renamed: the test waits for the name to appear and
     * must then find the whole line, never an empty file. */
    char tmp[4200];
    snprintf(file, sizeof(file), "%s.%d", path, (int)getpid());
    snprintf(tmp, sizeof(tmp), "%s.tmp", file);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return 1;
    n = snprintf(line, sizeof(line), "%ld %d %d\n", i, -err, (int)writer_termed);
    (void)write_all(fd, line, (size_t)n);
    close(fd);
    (void)rename(tmp, file);
    return 1;
}

/* Copies the lines of /proc/self/status that start with key: to stdout. */
static void status_line(const char *key)
{
    char line[512];
    FILE *f = fopen("/proc/self/status", "re");

    if (!f)
        return;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':')
            out(STDOUT_FILENO, "%s", line);
    fclose(f);
}

/* ids: the credentials as the kernel has them (EXEC-5). */
static int cmd_ids(void)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg, groups[256];
    int n = getgroups(256, groups);
    char line[4096];
    size_t len;

    getresuid(&ru, &eu, &su);
    getresgid(&rg, &eg, &sg);
    out(STDOUT_FILENO, "resuid %u %u %u\n", (unsigned)ru, (unsigned)eu, (unsigned)su);
    out(STDOUT_FILENO, "resgid %u %u %u\n", (unsigned)rg, (unsigned)eg, (unsigned)sg);
    len = (size_t)snprintf(line, sizeof(line), "groups");
    for (int i = 0; i < n && len < sizeof(line) - 16; i++)
        len += (size_t)snprintf(line + len, sizeof(line) - len, " %u", (unsigned)groups[i]);
    out(STDOUT_FILENO, "%s\n", line);
    status_line("CapEff");
    status_line("NoNewPrivs");
    if (eu != 0) {
        int r = setuid(0);
        out(STDOUT_FILENO, "setuid0 %s\n", r == 0 ? "succeeded" : strerror(errno));
    }
    out(STDOUT_FILENO, "ids done\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd;

    if (argc < 2) {
        usage();
        return 2;
    }
    cmd = argv[1];
    if (strcmp(cmd, "exit-from") == 0 && argc == 3)
        return cmd_exit_from(argv[2]);
    if (strcmp(cmd, "burst") == 0 && argc == 3)
        return cmd_burst(argv[2]);
    if (strcmp(cmd, "forkbomb") == 0 && argc == 3)
        return cmd_forkbomb(argv[2]);
    if (strcmp(cmd, "race") == 0 && argc == 3)
        return cmd_race(argv[2]);
    if (strcmp(cmd, "alternate") == 0 && argc == 3)
        return cmd_alternate(argv[2]);
    if (strcmp(cmd, "flood") == 0 && argc == 3)
        return cmd_flood(argv[2]);
    if (strcmp(cmd, "flood-pipesize") == 0 && argc == 3)
        return cmd_flood_pipesize(argv[2]);
    if (strcmp(cmd, "writer") == 0 && argc == 3)
        return cmd_writer(argv[2]);
    if (strcmp(cmd, "ids") == 0 && argc == 2)
        return cmd_ids();
    usage();
    return 2;
}
