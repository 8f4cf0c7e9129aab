/* fifo-echo as a black box: the real binary, forked with its stdout and stderr on pipes, in a
 * fresh mkdtemp directory, no minisupd. Every wait is a poll with a deadline, never a sleep;
 * each test's .fini kills the child and removes the directory. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#define FIFO_ECHO MINISUP_BIN_DIR "/fifo-echo"
#define DEADLINE_MS 5000
#define OUT_MAX (512 * 1024)
#define ERR_MAX 8192

/* How to start the child. */
struct spawn_opts {
    mode_t umask;
    int fd3;                       /* dup'ed onto fd 3 when >= 0 */
    int listen_pid_delta;          /* with fd3: LISTEN_PID = own pid + delta (0: correct) */
    const char *runtime_directory; /* $RUNTIME_DIRECTORY, or none */
};

struct child {
    pid_t pid;
    int out_fd, err_fd;
    char out[OUT_MAX + 1];
    size_t out_len;
    size_t seen; /* expect_line() searches from here */
    char err[ERR_MAX + 1];
    size_t err_len;
    bool exited;
    int status;
};

static char tmp[64];
static struct child child = {.pid = -1, .out_fd = -1, .err_fd = -1};

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Polls cond every few milliseconds until it holds or timeout_ms passed (Redis's
 * wait_for_condition). */
static bool wait_until(bool (*cond)(void *), void *arg, long timeout_ms)
{
    long deadline = now_ms() + timeout_ms;

    for (;;) {
        if (cond(arg))
            return true;
        if (now_ms() >= deadline)
            return false;
        struct timespec pause = {.tv_nsec = 2 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

static void setup(void)
{
    strcpy(tmp, "/tmp/test_fifo_echo.XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    if (child.pid > 0 && !child.exited) {
        kill(child.pid, SIGKILL);
        waitpid(child.pid, NULL, 0);
    }
    if (child.out_fd >= 0)
        close(child.out_fd);
    if (child.err_fd >= 0)
        close(child.err_fd);
    nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *path_in_tmp(const char *name)
{
    static char buf[4][256];
    static int i;
    char *p = buf[i++ % 4];

    snprintf(p, 256, "%s/%s", tmp, name);
    return p;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The parent's environment minus what would change the child's behaviour, plus the given
 * extras; built before fork() so the child only has to exec. */
static char **child_env(char *const extra[], size_t n_extra)
{
    extern char **environ;
    size_t n = 0, k = 0;
    char **env;

    while (environ[n])
        n++;
    env = calloc(n + n_extra + 1, sizeof(*env));
    cr_assert_not_null(env);
    for (size_t i = 0; i < n; i++)
        if (!has_prefix(environ[i], "LISTEN_") && !has_prefix(environ[i], "RUNTIME_DIRECTORY="))
            env[k++] = environ[i];
    for (size_t i = 0; i < n_extra; i++)
        env[k++] = extra[i];
    return env;
}

/* Async-signal-safe decimal formatting for the child between fork() and exec(). */
static void format_long(char *buf, const char *prefix, long v)
{
    char digits[24];
    int n = 0;

    while (*prefix)
        *buf++ = *prefix++;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n > 0)
        *buf++ = digits[--n];
    *buf = '\0';
}

static void spawn(const struct spawn_opts *o, char *const args[])
{
    static char listen_pid[48];
    static char runtime_dir[300];
    char *extra[4];
    char *argv[16] = {FIFO_ECHO};
    size_t n_extra = 0, argc = 1;
    int out[2], err[2];
    char **env;

    for (; args[argc - 1]; argc++)
        argv[argc] = args[argc - 1];
    argv[argc] = NULL;
    if (o->fd3 >= 0) {
        extra[n_extra++] = "LISTEN_FDS=1";
        extra[n_extra++] = listen_pid; /* filled in by the child */
    }
    if (o->runtime_directory) {
        snprintf(runtime_dir, sizeof(runtime_dir), "RUNTIME_DIRECTORY=%s", o->runtime_directory);
        extra[n_extra++] = runtime_dir;
    }
    env = child_env(extra, n_extra);

    cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
    cr_assert_eq(pipe2(err, O_CLOEXEC), 0);
    child.pid = fork();
    cr_assert_neq(child.pid, -1);
    if (child.pid == 0) {
        umask(o->umask);
        if (o->fd3 >= 0) {
            /* LISTEN_PID names this very process, known only after fork(). */
            format_long(listen_pid, "LISTEN_PID=", (long)getpid() + o->listen_pid_delta);
            if (dup2(o->fd3, 3) < 0)
                _exit(126);
        }
        if (dup2(out[1], STDOUT_FILENO) < 0 || dup2(err[1], STDERR_FILENO) < 0)
            _exit(126);
        execve(FIFO_ECHO, argv, env);
        _exit(127);
    }
    free(env);
    close(out[1]);
    close(err[1]);
    child.out_fd = out[0];
    child.err_fd = err[0];
    fcntl(child.out_fd, F_SETFL, O_NONBLOCK);
    fcntl(child.err_fd, F_SETFL, O_NONBLOCK);
}

/* Reads whatever is available on fd into buf; closes fd at EOF. */
static void pump(int *fd, char *buf, size_t *len, size_t max)
{
    for (;;) {
        ssize_t r;

        if (*fd < 0)
            return;
        if (*len >= max) {
            char sink[4096];
            r = read(*fd, sink, sizeof(sink));
        } else {
            r = read(*fd, buf + *len, max - *len);
        }
        if (r > 0) {
            if (*len < max)
                *len += (size_t)r;
            buf[*len] = '\0';
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        close(*fd);
        *fd = -1;
        return;
    }
}

/* Waits up to timeout_ms for the child's stdout or stderr, collecting both. */
static void collect(long timeout_ms)
{
    struct pollfd p[2] = {{.fd = child.out_fd, .events = POLLIN},
                          {.fd = child.err_fd, .events = POLLIN}};

    if (child.out_fd < 0 && child.err_fd < 0)
        return;
    if (poll(p, 2, (int)(timeout_ms > 0 ? timeout_ms : 0)) > 0) {
        pump(&child.out_fd, child.out, &child.out_len, OUT_MAX);
        pump(&child.err_fd, child.err, &child.err_len, ERR_MAX);
    }
}

/* The next complete stdout line at or after `seen` that contains needle, or NULL. Returns a
 * pointer to the start of that line and moves `seen` past it. */
static const char *find_line(const char *needle)
{
    const char *hit = strstr(child.out + child.seen, needle);
    const char *start, *end;

    if (!hit)
        return NULL;
    end = strchr(hit, '\n');
    if (!end)
        return NULL;
    start = hit;
    while (start > child.out && start[-1] != '\n')
        start--;
    child.seen = (size_t)(end + 1 - child.out);
    return start;
}

/* Waits for a stdout line containing needle, after the previously expected one. */
static const char *expect_line(const char *needle)
{
    long deadline = now_ms() + DEADLINE_MS;
    const char *line;

    while (!(line = find_line(needle))) {
        long left = deadline - now_ms();
        if (left <= 0 || (child.out_fd < 0 && child.err_fd < 0))
            cr_assert_fail("no line containing '%s' on stdout; got:\n%s\nstderr:\n%s", needle,
                           child.out + child.seen, child.err);
        collect(left);
    }
    return line;
}

static bool child_reaped(void *arg)
{
    (void)arg;
    collect(0);
    if (!child.exited && waitpid(child.pid, &child.status, WNOHANG) == child.pid)
        child.exited = true;
    return child.exited;
}

/* Waits for the child to exit, then for the end of its output; returns its exit code. */
static int expect_exit(void)
{
    long deadline;

    cr_assert(wait_until(child_reaped, NULL, DEADLINE_MS), "fifo-echo did not exit");
    deadline = now_ms() + DEADLINE_MS;
    while ((child.out_fd >= 0 || child.err_fd >= 0) && now_ms() < deadline)
        collect(deadline - now_ms());
    cr_assert(WIFEXITED(child.status), "fifo-echo died of a signal (status %d)", child.status);
    return WEXITSTATUS(child.status);
}

static int open_writer(const char *path)
{
    /* Non-blocking: fails with ENXIO instead of hanging if nobody reads. */
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

    cr_assert_geq(fd, 0, "open '%s' for writing: %s", path, strerror(errno));
    return fd;
}

/* Writes all of data, waiting for the reader to make room, within the deadline. */
static void write_all(int fd, const char *data, size_t n)
{
    long deadline = now_ms() + DEADLINE_MS;

    while (n > 0) {
        ssize_t w = write(fd, data, n);

        if (w < 0) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            cr_assert(errno == EAGAIN, "write to FIFO: %s", strerror(errno));
            cr_assert_lt(now_ms(), deadline, "FIFO stayed full: is fifo-echo reading?");
            poll(&p, 1, 50);
            continue;
        }
        data += w;
        n -= (size_t)w;
    }
}

static void write_fifo(const char *path, const char *data)
{
    int fd = open_writer(path);

    write_all(fd, data, strlen(data));
    close(fd);
}

static bool pipe_empty(void *arg)
{
    int avail = -1;

    return ioctl(*(int *)arg, FIONREAD, &avail) == 0 && avail == 0;
}

/* True when line is "<timestamp> <message>\n" with the exact message. */
static bool is_record(const char *line, const char *message)
{
    static const char *re_ts =
        "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}[+-][0-9]{4} ";
    const char *end = strchr(line, '\n');
    size_t ts_len = 29, n = end ? (size_t)(end - line) : strlen(line);
    char *copy = strndup(line, n);
    regex_t re;
    bool ok;

    cr_assert_eq(regcomp(&re, re_ts, REG_EXTENDED | REG_NOSUB), 0);
    ok = regexec(&re, copy, 0, NULL, 0) == 0 && n >= ts_len && strcmp(copy + ts_len, message) == 0;
    regfree(&re);
    free(copy);
    return ok;
}

/* The child's user+system CPU time in clock ticks, from /proc/<pid>/stat. */
static long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long utime, stime;
    const char *p;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    cr_assert_not_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name, which may contain spaces, start past the last ')'. */
    p = strrchr(buf, ')');
    cr_assert_not_null(p);
    cr_assert_eq(
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime), 2);
    return (long)(utime + stime);
}

static const struct spawn_opts defaults = {.umask = 022, .fd3 = -1};

Test(fifo_echo, creates_fifo_with_mode_respecting_umask, .init = setup, .fini = teardown,
     .timeout = 20)
{
    struct spawn_opts o = defaults;
    char *fifo = path_in_tmp("fifo-echo.fifo");
    char listening[300];
    struct stat st;

    o.umask = 027;
    spawn(&o, (char *[]){"--runtime-dir", tmp, "--mode", "0666", NULL});
    snprintf(listening, sizeof(listening), "Listening on %s\n", fifo);
    cr_assert_str_eq(expect_line("Listening on"), listening);

    cr_assert_eq(lstat(fifo, &st), 0);
    cr_assert(S_ISFIFO(st.st_mode));
    cr_assert_eq(st.st_mode & 07777, 0640, "mode %o", st.st_mode & 07777);
}

Test(fifo_echo, default_mode_is_0660, .init = setup, .fini = teardown, .timeout = 20)
{
    struct spawn_opts o = defaults;
    char *fifo = path_in_tmp("f");
    struct stat st;

    o.umask = 0;
    spawn(&o, (char *[]){"-f", fifo, NULL});
    expect_line("Listening on");
    cr_assert_eq(lstat(fifo, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0660, "mode %o", st.st_mode & 07777);
}

Test(fifo_echo, refuses_regular_file_naming_it, .init = setup, .fini = teardown, .timeout = 20)
{
    char *path = path_in_tmp("fifo-echo.fifo");
    struct stat st;
    int fd;

    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "keep\n", 5), 5);
    close(fd);

    spawn(&defaults, (char *[]){"-r", tmp, NULL});
    cr_assert_eq(expect_exit(), 1);
    cr_assert_not_null(strstr(child.err, path), "stderr does not name the path: %s", child.err);
    cr_assert_eq(child.out_len, 0, "unexpected stdout: %s", child.out);
    cr_assert_eq(lstat(path, &st), 0);
    cr_assert(S_ISREG(st.st_mode));
    cr_assert_eq(st.st_size, 5, "the file was touched");
}

Test(fifo_echo, reuses_existing_fifo_and_keeps_it, .init = setup, .fini = teardown, .timeout = 20)
{
    char *fifo = path_in_tmp("mine.fifo");
    struct stat st;

    cr_assert_eq(mkfifo(fifo, 0600), 0);
    spawn(&defaults, (char *[]){"--fifo", fifo, "--mode", "0666", NULL});
    expect_line("Listening on");
    write_fifo(fifo, "hello\n");
    cr_assert(is_record(expect_line(" hello"), "hello"));

    kill(child.pid, SIGTERM);
    cr_assert_eq(expect_exit(), 0);
    cr_assert_eq(lstat(fifo, &st), 0, "the FIFO we made was removed");
    cr_assert(S_ISFIFO(st.st_mode));
    cr_assert_eq(st.st_mode & 07777, 0600, "an existing FIFO's mode was changed");
}

Test(fifo_echo, lines_arrive_in_order_timestamped, .init = setup, .fini = teardown, .timeout = 20)
{
    char *fifo = path_in_tmp("fifo-echo.fifo");
    const char *one, *two, *three;
    int fd;

    spawn(&defaults, (char *[]){"-r", tmp, NULL});
    expect_line("Listening on");
    fd = open_writer(fifo);
    write_all(fd, "one\n", 4);
    write_all(fd, "two\n", 4);
    write_all(fd, "three\n", 6);
    close(fd);

    one = expect_line(" one");
    two = expect_line(" two");
    three = expect_line(" three");
    cr_assert(one < two && two < three);
    cr_assert(is_record(one, "one"), "not a record: %s", one);
    cr_assert(is_record(two, "two"), "not a record: %s", two);
    cr_assert(is_record(three, "three"), "not a record: %s", three);
}

Test(fifo_echo, runtime_directory_env_uses_first_path, .init = setup, .fini = teardown,
     .timeout = 20)
{
    struct spawn_opts o = defaults;
    char dirs[300];
    struct stat st;

    snprintf(dirs, sizeof(dirs), "%s:%s/other", tmp, tmp);
    o.runtime_directory = dirs;
    spawn(&o, (char *[]){NULL});
    expect_line("Listening on");
    cr_assert_eq(lstat(path_in_tmp("fifo-echo.fifo"), &st), 0);
    cr_assert(S_ISFIFO(st.st_mode));
}

Test(fifo_echo, no_fifo_is_usage_error, .init = setup, .fini = teardown, .timeout = 20)
{
    spawn(&defaults, (char *[]){NULL});
    cr_assert_eq(expect_exit(), 2);
    cr_assert_not_null(strstr(child.err, "Usage:"), "no usage on stderr: %s", child.err);
}

Test(fifo_echo, bad_option_values_are_usage_errors, .init = setup, .fini = teardown, .timeout = 20)
{
    spawn(&defaults, (char *[]){"-r", tmp, "--mode", "0999", NULL});
    cr_assert_eq(expect_exit(), 2);
    cr_assert_not_null(strstr(child.err, "0999"), "stderr: %s", child.err);
}

Test(fifo_echo, writer_reconnects_without_spinning, .init = setup, .fini = teardown, .timeout = 20)
{
    char *fifo = path_in_tmp("fifo-echo.fifo");
    long before, after, window_end;
    size_t out_len;

    spawn(&defaults, (char *[]){"-r", tmp, NULL});
    expect_line("Listening on");
    write_fifo(fifo, "first\n");
    expect_line(" first");

    /* The last writer is gone. A reader that sees EOF over and over would burn a CPU now;
     * observe it for 300 ms (a measurement window, not a synchronisation). */
    before = cpu_ticks(child.pid);
    out_len = child.out_len;
    window_end = now_ms() + 300;
    while (now_ms() < window_end)
        collect(window_end - now_ms());
    after = cpu_ticks(child.pid);
    cr_assert_lt(after - before, 20, "fifo-echo used %ld ticks with no writer", after - before);
    cr_assert_eq(child.out_len, out_len, "output with no writer: %s", child.out + out_len);

    write_fifo(fifo, "second\n");
    cr_assert(is_record(expect_line(" second"), "second"));
}

Test(fifo_echo, long_message_is_truncated_and_next_is_intact, .init = setup, .fini = teardown,
     .timeout = 20)
{
    char *fifo = path_in_tmp("fifo-echo.fifo");
    size_t big = 100 * 1024;
    char *data = malloc(big + 64), *expect = malloc(4096 + 64);
    const char *line;
    int fd;

    spawn(&defaults, (char *[]){"-r", tmp, NULL});
    expect_line("Listening on");

    memset(data, 'x', big);
    strcpy(data + big, "\nafter\n");
    fd = open_writer(fifo);
    write_all(fd, data, strlen(data));
    close(fd);

    memset(expect, 'x', 4096);
    sprintf(expect + 4096, " [truncated %zu bytes]", big - 4096);
    line = expect_line(" [truncated");
    cr_assert(is_record(line, expect), "wrong truncated record: %.80s...", line);
    cr_assert(is_record(expect_line(" after"), "after"));
    free(data);
    free(expect);
}

Test(fifo_echo, max_message_option_sets_the_cap, .init = setup, .fini = teardown, .timeout = 20)
{
    char *fifo = path_in_tmp("fifo-echo.fifo");

    spawn(&defaults, (char *[]){"-r", tmp, "--max-message", "8", NULL});
    expect_line("Listening on");
    write_fifo(fifo, "0123456789abc\n12345678\nok\n");
    cr_assert(is_record(expect_line(" 01234567"), "01234567 [truncated 5 bytes]"));
    cr_assert(is_record(expect_line(" 12345678"), "12345678"));
    cr_assert(is_record(expect_line(" ok"), "ok"));
}

Test(fifo_echo, split_writes_are_assembled, .init = setup, .fini = teardown, .timeout = 20)
{
    char *fifo = path_in_tmp("fifo-echo.fifo");
    const char *parts[] = {"hel", "lo wo", "rld\nsec", "ond\n"};
    char big[20001];
    int fd;

    spawn(&defaults, (char *[]){"-r", tmp, "--max-message", "65536", NULL});
    expect_line("Listening on");
    fd = open_writer(fifo);
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        write_all(fd, parts[i], strlen(parts[i]));
        /* Each part is consumed before the next is written, so they arrive in separate reads. */
        cr_assert(wait_until(pipe_empty, &fd, DEADLINE_MS), "fifo-echo did not read");
    }
    cr_assert(is_record(expect_line(" hel"), "hello world"));
    cr_assert(is_record(expect_line(" sec"), "second"));

    /* Longer than the service's read buffer, shorter than the cap: one record. */
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    write_all(fd, big, sizeof(big) - 1);
    write_all(fd, "\n", 1);
    close(fd);
    cr_assert(is_record(expect_line(" yyy"), big));
    cr_assert_null(strstr(child.out, "truncated"));
}

Test(fifo_echo, sigterm_prints_stopping_last_and_removes_fifo, .init = setup, .fini = teardown,
     .timeout = 20)
{
    char *fifo = path_in_tmp("fifo-echo.fifo");
    const char *last;
    struct stat st;
    int fd;

    spawn(&defaults, (char *[]){"-r", tmp, NULL});
    expect_line("Listening on");
    fd = open_writer(fifo);
    write_all(fd, "a\nb\npartial", 11);
    cr_assert(wait_until(pipe_empty, &fd, DEADLINE_MS), "fifo-echo did not read");

    kill(child.pid, SIGTERM);
    cr_assert_eq(expect_exit(), 0);
    close(fd);
    cr_assert(is_record(expect_line(" a"), "a"));
    cr_assert(is_record(expect_line(" b"), "b"));
    cr_assert(is_record(expect_line(" partial"), "partial"));
    cr_assert_gt(child.out_len, 0);
    cr_assert_eq(child.out[child.out_len - 1], '\n');
    last = child.out + child.out_len - 1;
    while (last > child.out && last[-1] != '\n')
        last--;
    cr_assert_str_eq(last, "Service stopping...\n");
    cr_assert_eq(lstat(fifo, &st), -1, "the FIFO we created is still there");
    cr_assert_eq(errno, ENOENT);
}

Test(fifo_echo, sigint_stops_cleanly, .init = setup, .fini = teardown, .timeout = 20)
{
    spawn(&defaults, (char *[]){"-r", tmp, NULL});
    expect_line("Listening on");
    kill(child.pid, SIGINT);
    cr_assert_eq(expect_exit(), 0);
    expect_line("Service stopping...");
}

static char *read_file(const char *path)
{
    static char buf[3][8192];
    static int i;
    char *p = buf[i++ % 3];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    cr_assert_geq(fd, 0, "open '%s': %s", path, strerror(errno));
    n = read(fd, p, sizeof(buf[0]) - 1);
    close(fd);
    cr_assert_geq(n, 0);
    p[n] = '\0';
    return p;
}

Test(fifo_echo, sighup_reopens_log_file, .init = setup, .fini = teardown, .timeout = 20)
{
    char *fifo = path_in_tmp("fifo-echo.fifo");
    char *log = path_in_tmp("echo.log");
    char *rotated = path_in_tmp("echo.log.1");
    char reopened[300];
    const char *old, *new;
    struct stat st;

    spawn(&defaults, (char *[]){"-r", tmp, "-l", log, NULL});
    expect_line("Listening on");
    cr_assert_eq(stat(log, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0640 & ~022, "log mode %o", st.st_mode & 0777);
    write_fifo(fifo, "before\n");
    expect_line(" before");

    cr_assert_eq(rename(log, rotated), 0);
    kill(child.pid, SIGHUP);
    snprintf(reopened, sizeof(reopened), "Reopened log file %s\n", log);
    cr_assert_str_eq(expect_line("Reopened log file"), reopened);
    write_fifo(fifo, "after\n");
    expect_line(" after");

    /* fifo-echo writes the log before stdout, so what we saw on stdout is in the file. */
    old = read_file(rotated);
    new = read_file(log);
    cr_assert_not_null(strstr(old, " before\n"), "rotated log: %s", old);
    cr_assert_null(strstr(old, " after\n"), "rotated log: %s", old);
    cr_assert_not_null(strstr(new, " after\n"), "new log: %s", new);
    cr_assert_null(strstr(new, " before\n"), "new log: %s", new);
}

Test(fifo_echo, socket_activation_uses_fd3, .init = setup, .fini = teardown, .timeout = 20)
{
    struct spawn_opts o = defaults;
    char *fifo = path_in_tmp("activated.fifo");
    struct stat st;

    cr_assert_eq(mkfifo(fifo, 0600), 0);
    o.fd3 = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    cr_assert_geq(o.fd3, 0);
    spawn(&o, (char *[]){NULL});
    close(o.fd3);

    cr_assert_str_eq(expect_line("Listening on"), "Listening on fd 3 (socket activation)\n");
    write_fifo(fifo, "via fd 3\n");
    cr_assert(is_record(expect_line(" via fd 3"), "via fd 3"));
    /* The writer closed; the service must keep going. */
    write_fifo(fifo, "again\n");
    expect_line(" again");

    kill(child.pid, SIGTERM);
    cr_assert_eq(expect_exit(), 0);
    expect_line("Service stopping...");
    cr_assert_eq(lstat(fifo, &st), 0, "a socket-activated FIFO was removed");
}

Test(fifo_echo, wrong_listen_pid_ignores_fd3, .init = setup, .fini = teardown, .timeout = 20)
{
    struct spawn_opts o = defaults;
    char *other = path_in_tmp("other.fifo");
    char *fifo = path_in_tmp("fifo-echo.fifo");
    char listening[300];
    int fd;

    cr_assert_eq(mkfifo(other, 0600), 0);
    o.fd3 = open(other, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    cr_assert_geq(o.fd3, 0);
    o.listen_pid_delta = 1;
    spawn(&o, (char *[]){"-r", tmp, NULL});
    close(o.fd3);

    snprintf(listening, sizeof(listening), "Listening on %s\n", fifo);
    cr_assert_str_eq(expect_line("Listening on"), listening);
    /* The child still holds fd 3 open, so this write succeeds; nobody reads it. */
    fd = open_writer(other);
    write_all(fd, "ignored\n", 8);
    write_fifo(fifo, "real\n");
    expect_line(" real");
    cr_assert_null(strstr(child.out, "ignored"));
    close(fd);
}
