/* tfx: the multi-call fixture binary the end-to-end tests run as services (RELIABILITY.md 2.0).
 * One command per run, selected by argv[1]; every line goes out with one write(2), unbuffered,
 * so it reaches minisupd's pipe at once. No supervisor headers: it stands for any program. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
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
        "  seq N [--nonl-last] [--prefix P] [--rate R] [--exit CODE]\n"
        "      [--counter FILE [--stop-every K CODE]]    print P:1 .. P:N, exit 0 (or CODE)\n"
        "  crash CODE | crash --signal SIG               exit with CODE, or die of SIG\n"
        "  ignore-term                                   ignore SIGTERM, print 'ready', wait\n"
        "  sleep SECONDS                                 sleep (fractions allowed), exit 0\n"
        "  stamp                                         print CLOCK_MONOTONIC start in us\n"
        "  fdcheck                                       print open fds, signal masks, ids\n"
        "  double-fork [--setsid] [--clearenv]           leave a grandchild behind, exit 0\n"
        "  last-words                                    'ready'; on SIGTERM 'bye $INVOCATION_ID'\n"
        "  notify [--exit CODE] [--mainpid-child] MSG... sd_notify MSGs, then wait (or exit)\n"
        "  daemonize [--pidfile FILE]                    detach the classic way, parent exits 0\n"
        "  orphans N MAXMS                               N double-forked grandchildren, wait\n"
        "  listen-info [--serve]                         print LISTEN_* and fds 3..; serve them\n");
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

/* Increments the run number kept in path (a missing or empty file counts as 0) and returns the
 * new value. The runs of one unit follow each other, so no lock is needed. */
static long next_run(const char *path)
{
    char buf[32] = "";
    long run = 0;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ssize_t n;

    if (fd < 0) {
        out(STDERR_FILENO, "tfx: cannot open %s: %s\n", path, strerror(errno));
        exit(1);
    }
    n = read(fd, buf, sizeof(buf) - 1);
    if (n > 0) {
        buf[n] = '\0';
        run = strtol(buf, NULL, 10);
    }
    run++;
    n = snprintf(buf, sizeof(buf), "%ld\n", run);
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
        out(STDERR_FILENO, "tfx: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    close(fd);
    return run;
}

/* seq N: lines "<prefix>:<i>" for i in 1..N, one write each. --rate R spaces them at R lines
 * per second; --nonl-last leaves the last line without its newline (journal completeness);
 * --exit CODE exits with CODE afterwards. With --counter FILE the run number r is kept in FILE
 * and the lines are "<prefix>:<r>:<i>:<CLOCK_MONOTONIC us>", the last written just before the
 * exit, so a test can tell runs apart and time restarts; --stop-every K CODE exits with CODE
 * instead on every K-th run (a RestartPreventExitStatus= ends a crash loop at a known run). */
static int cmd_seq(int argc, char **argv)
{
    const char *prefix = "seq", *counter = NULL;
    bool nonl_last = false;
    long n = -1, rate = 0, code = 0, every = 0, every_code = 0, run = 0;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--nonl-last") == 0)
            nonl_last = true;
        else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc)
            prefix = argv[++i];
        else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
            rate = parse_long(argv[++i], "rate");
        else if (strcmp(argv[i], "--exit") == 0 && i + 1 < argc)
            code = parse_long(argv[++i], "exit code");
        else if (strcmp(argv[i], "--counter") == 0 && i + 1 < argc)
            counter = argv[++i];
        else if (strcmp(argv[i], "--stop-every") == 0 && i + 2 < argc) {
            every = parse_long(argv[++i], "run count");
            every_code = parse_long(argv[++i], "exit code");
        } else if (n < 0)
            n = parse_long(argv[i], "count");
        else
            return usage(), 2;
    }
    if (n < 0 || (every > 0 && !counter))
        return usage(), 2;
    if (counter) {
        run = next_run(counter);
        if (every > 0 && run % every == 0)
            code = every_code;
    }

    uint64_t start = now_us(CLOCK_MONOTONIC);
    for (long i = 1; i <= n; i++) {
        const char *nl = (nonl_last && i == n) ? "" : "\n";

        if (rate > 0)
            sleep_until_us(start + (uint64_t)(i - 1) * 1000000u / (uint64_t)rate);
        if (counter)
            out(STDOUT_FILENO, "%s:%ld:%ld:%llu%s", prefix, run, i,
                (unsigned long long)now_us(CLOCK_MONOTONIC), nl);
        else
            out(STDOUT_FILENO, "%s:%ld%s", prefix, i, nl);
    }
    return (int)(code & 0xff);
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

/* double-fork [--setsid] [--clearenv]: the grandchild (optionally in a new session) prints
 * "grandchild PID" and waits forever; the middle process exits at once, so the grandchild is
 * orphaned the way daemons do it. With --clearenv the grandchild first re-executes itself with
 * an empty environment (hiding $INVOCATION_ID from /proc/PID/environ). The main process exits 0
 * only once the grandchild is in place, so the supervisor never races its set-up. */
static int cmd_double_fork(int argc, char **argv)
{
    bool new_session = false, clear_env = false;
    int p[2];
    pid_t pid;
    char c;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--setsid") == 0)
            new_session = true;
        else if (strcmp(argv[i], "--clearenv") == 0)
            clear_env = true;
        else
            return usage(), 2;
    }
    if (pipe(p) < 0)
        return 1;
    pid = fork();
    if (pid < 0)
        return 1;
    if (pid > 0) {
        close(p[1]);
        while (read(p[0], &c, 1) < 0 && errno == EINTR)
            ;
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        return 0;
    }
    close(p[0]);
    if (new_session)
        (void)setsid();
    pid = fork();
    if (pid < 0)
        _exit(1);
    if (pid > 0)
        _exit(0);
    out(STDOUT_FILENO, "grandchild %d\n", (int)getpid());
    if (clear_env) {
        char fd[16];
        char *const args[] = {"tfx", "hold", fd, NULL};
        char *const no_env[] = {NULL};

        snprintf(fd, sizeof(fd), "%d", p[1]);
        execve("/proc/self/exe", args, no_env);
        _exit(127);
    }
    write_all(p[1], "R", 1);
    close(p[1]);
    for (;;)
        pause();
}

/* hold FD: writes one byte to FD, closes it and waits forever (double-fork --clearenv). */
__attribute__((noreturn)) static void cmd_hold(const char *fd_text)
{
    int fd = (int)parse_long(fd_text, "fd");

    write_all(fd, "R", 1);
    close(fd);
    for (;;)
        pause();
}

static int notify_send(const char *msg);

/* last-words: prints "ready" (and sends READY=1 when $NOTIFY_SOCKET is set, so a Type=notify
 * start returns only then), then on SIGTERM writes "bye <INVOCATION_ID>" without a newline and
 * exits 0 at once: the last words of a cleanly stopping service (STOP-1). */
static char last_words[128];
static size_t last_words_len;

static void on_term_last_words(int sig)
{
    (void)sig;
    write_all(STDOUT_FILENO, last_words, last_words_len);
    _exit(0);
}

__attribute__((noreturn)) static void cmd_last_words(void)
{
    const char *id = getenv("INVOCATION_ID");
    struct sigaction sa = {.sa_handler = on_term_last_words};
    int n = snprintf(last_words, sizeof(last_words), "bye %s", id ? id : "(no INVOCATION_ID)");

    last_words_len = n > 0 && (size_t)n < sizeof(last_words) ? (size_t)n : 0;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    out(STDOUT_FILENO, "ready\n");
    if (getenv("NOTIFY_SOCKET"))
        (void)notify_send("READY=1");
    for (;;)
        pause();
}

/* Sends one sd_notify datagram to $NOTIFY_SOCKET (a path, or @abstract). */
static int notify_send(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len;
    ssize_t n;
    int fd;

    if (!path || !*path || (len = strlen(path)) >= sizeof(sa.sun_path)) {
        out(STDERR_FILENO, "tfx: no usable NOTIFY_SOCKET\n");
        return -1;
    }
    memcpy(sa.sun_path, path, len);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0';
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
               (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
    close(fd);
    if (n < 0) {
        out(STDERR_FILENO, "tfx: sending to %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* notify MSG...: prints "notify MSG" and sends each MSG as its own datagram, then waits forever,
 * or exits with CODE given --exit CODE. --mainpid-child first forks a child that prints
 * "main child PID" and waits, sends "MAINPID=<child>\nREADY=1" after the MSGs, and exits 0: the
 * main process changes hands. */
static int cmd_notify(int argc, char **argv)
{
    bool mainpid_child = false;
    long code = -1;
    int i = 0;
    pid_t child = 0;

    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--exit") == 0 && i + 1 < argc)
            code = parse_long(argv[++i], "exit code");
        else if (strcmp(argv[i], "--mainpid-child") == 0)
            mainpid_child = true;
        else
            return usage(), 2;
    }
    if (mainpid_child) {
        child = fork();
        if (child < 0)
            return 1;
        if (child == 0) {
            out(STDOUT_FILENO, "main child %d\n", (int)getpid());
            for (;;)
                pause();
        }
    }
    for (; i < argc; i++) {
        out(STDOUT_FILENO, "notify %s\n", argv[i]);
        if (notify_send(argv[i]) < 0)
            return 1;
    }
    if (mainpid_child) {
        char msg[64];

        /* One datagram, as sd_notifyf(0, "MAINPID=%lu\nREADY=1") sends it: once MAINPID= is
         * taken, this process may no longer speak for the service (NotifyAccess=main). */
        snprintf(msg, sizeof(msg), "MAINPID=%d\nREADY=1", (int)child);
        out(STDOUT_FILENO, "notify MAINPID=%d READY=1\n", (int)child);
        if (notify_send(msg) < 0)
            return 1;
        return 0;
    }
    if (code >= 0)
        return (int)(code & 0xff);
    for (;;)
        pause();
}

/* daemonize [--pidfile FILE]: the classic steps (fork, setsid, fork, umask, chdir /, /dev/null
 * on 0-2). The daemon writes FILE (atomically) and prints "daemon PID" before the original
 * parent exits 0, as Type=forking requires; then it waits for a signal. */
static int cmd_daemonize(int argc, char **argv)
{
    const char *pidfile = NULL;
    int p[2];
    pid_t pid;
    char c = 0;

    if (argc == 2 && strcmp(argv[0], "--pidfile") == 0)
        pidfile = argv[1];
    else if (argc != 0)
        return usage(), 2;
    if (pipe2(p, O_CLOEXEC) < 0)
        return 1;
    pid = fork();
    if (pid < 0)
        return 1;
    if (pid > 0) {
        ssize_t n;

        close(p[1]);
        while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR)
            ;
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        return n == 1 && c == 'R' ? 0 : 1;
    }
    close(p[0]);
    if (setsid() < 0)
        _exit(1);
    pid = fork();
    if (pid < 0)
        _exit(1);
    if (pid > 0)
        _exit(0);
    umask(022);
    if (chdir("/") < 0)
        _exit(1);
    if (pidfile) {
        char tmp[PATH_MAX], buf[32];
        int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
        int fd;

        snprintf(tmp, sizeof(tmp), "%s.tmp", pidfile);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, buf, (size_t)n) != n || close(fd) < 0 || rename(tmp, pidfile) < 0)
            _exit(1);
    }
    out(STDOUT_FILENO, "daemon %d\n", (int)getpid());
    {
        /* The last classic step: /dev/null on 0-2 (so the supervisor's pipes see EOF). */
        int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);

        if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0)
            _exit(1);
        close(null_fd);
    }
    write_all(p[1], "R", 1);
    close(p[1]);
    for (;;)
        pause();
}

/* orphans N MAXMS: N times, a child forks a grandchild and exits at once. Each grandchild waits
 * until it was reparented, prints "orphan PID ppid PPID", lives a random 0..MAXMS ms, prints
 * "orphan PID exit" and exits. The main process reaps only its children, prints "spawned N" and
 * waits: whoever adopted the grandchildren must reap them (PROC-1). */
static int cmd_orphans(int argc, char **argv)
{
    long n, max_ms;

    if (argc != 2)
        return usage(), 2;
    n = parse_long(argv[0], "count");
    max_ms = parse_long(argv[1], "milliseconds");
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();

        if (pid < 0)
            return 1;
        if (pid == 0) {
            pid_t middle = getpid(), g = fork();
            unsigned seed;
            uint64_t deadline;

            if (g != 0)
                _exit(g < 0);
            deadline = now_us(CLOCK_MONOTONIC) + 2000000u;
            while (getppid() == middle && now_us(CLOCK_MONOTONIC) < deadline)
                sleep_until_us(now_us(CLOCK_MONOTONIC) + 1000u);
            out(STDOUT_FILENO, "orphan %d ppid %d\n", (int)getpid(), (int)getppid());
            seed = (unsigned)getpid() ^ (unsigned)now_us(CLOCK_MONOTONIC);
            if (max_ms > 0)
                sleep_until_us(now_us(CLOCK_MONOTONIC) +
                               (uint64_t)(rand_r(&seed) % (max_ms + 1)) * 1000u);
            out(STDOUT_FILENO, "orphan %d exit\n", (int)getpid());
            _exit(0);
        }
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    out(STDOUT_FILENO, "spawned %ld\n", n);
    for (;;)
        pause();
}

/* What fd is, as "fifo", "socket stream unix listening", "socket dgram inet", ... */
static void describe_fd(int fd, char *buf, size_t size)
{
    struct stat st;
    int type = 0, domain = 0, acc = 0;
    socklen_t len = sizeof(int);
    const char *t, *dom;

    if (fstat(fd, &st) < 0) {
        snprintf(buf, size, "closed");
        return;
    }
    if (S_ISFIFO(st.st_mode)) {
        int fl = fcntl(fd, F_GETFL);
        snprintf(buf, size, "fifo %s", (fl & O_ACCMODE) == O_WRONLY ? "write" : "read");
        return;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(buf, size, "other mode 0%o", (unsigned)(st.st_mode & S_IFMT));
        return;
    }
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
    len = sizeof(int);
    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len);
    len = sizeof(int);
    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len);
    t = type == SOCK_STREAM      ? "stream"
        : type == SOCK_DGRAM     ? "dgram"
        : type == SOCK_SEQPACKET ? "seqpacket"
                                 : "other";
    dom = domain == AF_UNIX    ? "unix"
          : domain == AF_INET  ? "inet"
          : domain == AF_INET6 ? "inet6"
                               : "other";
    snprintf(buf, size, "socket %s %s%s", t, dom,
             type == SOCK_DGRAM ? ""
             : acc              ? " listening"
                                : " connected");
}

/* Reads from fd until a newline, EOF or a full buffer, and returns the first line without its
 * newline. Whole reads, so a seqpacket record is taken in one go (a 1-byte read would cut it). */
static ssize_t read_line(int fd, char *buf, size_t size)
{
    size_t len = 0;

    while (len + 1 < size && !memchr(buf, '\n', len)) {
        ssize_t n = read(fd, buf + len, size - 1 - len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = fd, .events = POLLIN};

            if (poll(&p, 1, 5000) <= 0)
                break;
            continue;
        }
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return (ssize_t)strlen(buf);
}

/* Answers one line read from a connected stream socket with "pong PID LINE". */
static void serve_connection(int conn)
{
    char line[512], reply[640];
    int n;

    fcntl(conn, F_SETFL, fcntl(conn, F_GETFL) & ~O_NONBLOCK);
    read_line(conn, line, sizeof(line));
    out(STDOUT_FILENO, "got '%s' on fd %d\n", line, conn);
    n = snprintf(reply, sizeof(reply), "pong %d %s\n", (int)getpid(), line);
    write_all(conn, reply, (size_t)n);
}

/* listen-info [--serve]: prints its pid and LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES as received,
 * then "fd N: <what>" for every open fd above 2 (fdcheck for socket activation), followed by
 * "fdflags N: nonblock" when it came with O_NONBLOCK. With --serve
 * it then serves them: a listening stream or seqpacket socket answers each connection's first
 * line with "pong PID LINE"; a connected one (Accept=yes) does so once and exits 0; datagrams
 * and FIFO lines are printed as "dgram: ..." and "fifo: ...". Otherwise it waits. */
static int cmd_listen_info(int argc, char **argv)
{
    const char *fds = getenv("LISTEN_FDS"), *lpid = getenv("LISTEN_PID");
    const char *names = getenv("LISTEN_FDNAMES");
    bool serve = argc == 1 && strcmp(argv[0], "--serve") == 0;
    struct pollfd pfd[64];
    size_t n = 0;
    DIR *dir;
    struct dirent *de;

    if (argc > 1 || (argc == 1 && !serve))
        return usage(), 2;
    out(STDOUT_FILENO, "pid=%d LISTEN_PID=%s LISTEN_FDS=%s LISTEN_FDNAMES=%s\n", (int)getpid(),
        lpid ? lpid : "(unset)", fds ? fds : "(unset)", names ? names : "(unset)");
    dir = opendir("/proc/self/fd");
    if (!dir)
        return 1;
    while ((de = readdir(dir))) {
        int fd = atoi(de->d_name);
        char what[128];

        if (de->d_name[0] == '.' || fd < 3 || fd == dirfd(dir))
            continue;
        describe_fd(fd, what, sizeof(what));
        out(STDOUT_FILENO, "fd %d: %s\n", fd, what);
        if (fcntl(fd, F_GETFL) & O_NONBLOCK)
            out(STDOUT_FILENO, "fdflags %d: nonblock\n", fd);
        if (n < sizeof(pfd) / sizeof(pfd[0]))
            pfd[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
    }
    closedir(dir);
    out(STDOUT_FILENO, "listed\n");
    if (!serve)
        for (;;)
            pause();
    for (;;) {
        if (poll(pfd, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        for (size_t i = 0; i < n; i++) {
            char what[128], buf[512];
            ssize_t r;

            if (!(pfd[i].revents & (POLLIN | POLLHUP)))
                continue;
            describe_fd(pfd[i].fd, what, sizeof(what));
            if (strstr(what, "listening")) {
                int conn = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC);
                if (conn >= 0) {
                    serve_connection(conn);
                    close(conn);
                }
            } else if (strstr(what, "connected")) {
                serve_connection(pfd[i].fd);
                return 0;
            } else if (strncmp(what, "fifo", 4) == 0) {
                /* Whole lines only: the writer writes each line with one write(2). */
                r = read(pfd[i].fd, buf, sizeof(buf) - 1);
                if (r > 0) {
                    char *save = NULL;

                    buf[r] = '\0';
                    for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        out(STDOUT_FILENO, "fifo: %s\n", l);
                }
            } else {
                r = recv(pfd[i].fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
                if (r >= 0) {
                    buf[r] = '\0';
                    out(STDOUT_FILENO, "dgram: %s\n", buf);
                }
            }
        }
    }
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
    if (strcmp(cmd, "hold") == 0 && argc == 1)
        cmd_hold(argv[0]);
    if (strcmp(cmd, "last-words") == 0 && argc == 0)
        cmd_last_words();
    if (strcmp(cmd, "notify") == 0)
        return cmd_notify(argc, argv);
    if (strcmp(cmd, "daemonize") == 0)
        return cmd_daemonize(argc, argv);
    if (strcmp(cmd, "orphans") == 0)
        return cmd_orphans(argc, argv);
    if (strcmp(cmd, "listen-info") == 0)
        return cmd_listen_info(argc, argv);
    usage();
    return 2;
}
