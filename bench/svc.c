/* bench/svc.c: the one program every benchmark service and physical reference runs.
 * Compiled by bench/run with `cc -O2` into a temporary directory; no dependencies.
 *
 * Services (run under a supervisor):
 *   svc pause                     pause() forever
 *   svc stamp FILE [NOTIFYFD]     take CLOCK_MONOTONIC first thing in main(), append
 *                                 "pid ns\n" to FILE (one O_APPEND write), optionally write
 *                                 "\n" to NOTIFYFD (s6 readiness), then pause()
 *   svc lines N STAMPFILE [pipe=SIZE] [go=FILE]
 *                                 append the start stamp to STAMPFILE, write N lines of exactly
 *                                 100 bytes to stdout as fast as possible (line(i) below), pause();
 *                                 pipe=: first F_SETPIPE_SZ stdout; go=: first wait until FILE
 *                                 exists (both for bench/profile)
 *   svc crash FILE                append one byte to FILE and exit 1 at once
 * When started as "run" (runit's and s6's ./run is a symlink to this program, so no shell sits
 * in the start path), the arguments are read from ./bench.args, one per line.
 *
 * Physical references and precise client timing (run by bench/run directly):
 *   svc forkwait N PROG           N serial fork+execv(PROG)+waitpid; prints one ns figure per op
 *   svc spawn N DIR               fork+exec N children `svc stamp DIR/i`, then pause()
 *   svc respawn FILE              the least a supervisor can do: posix_spawn `svc stamp FILE`,
 *                                 waitpid, and spawn it again at once, forever (W2's floor)
 *   svc pipe N FILE               fork+exec `svc lines N STAMP` into a pipe, copy the pipe into
 *                                 FILE with read/write of 64 KiB; prints "ns lines"
 *   svc clitime N OUT PROG ARG... N serial posix_spawn(PROG ARG...) + waitpid, stdout/stderr to
 *                                 /dev/null; writes "ns status" per call to OUT
 *   svc varlink N OUT SOCK UNIT   one connection to minisupd's control socket, N GetUnit calls
 *                                 one after the other; writes one ns figure per call to OUT
 *   svc pingpong N OUT            N round trips of one byte over a socketpair to a forked echo
 *                                 process; one ns figure per trip to OUT (the floor of W4's
 *                                 kept-connection call: two wake-ups, no work)
 *   svc lineat I                  print line(I) (for the runner's checks and grep keys)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define LINE_LEN 100

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "svc: %s: %s\n", what, strerror(errno));
    exit(111);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void append_stamp(const char *file, uint64_t t)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%ld %llu\n", (long)getpid(), (unsigned long long)t);
    int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        die(file);
    if (write_all(fd, buf, (size_t)n) < 0)
        die("write stamp");
    close(fd);
}

/* Line i: 9 decimal digits, a space, 89 letters that depend on i, a newline: 100 bytes.
 * The letters are alphabet rotated by (7i + 3) mod 26, so the checker can tell every line from
 * every other one; the 26 rotations are prepared once, so the writer costs ~20 ns a line. */
static char payloads[26][89];

static void init_payloads(void)
{
    for (int s = 0; s < 26; s++)
        for (int k = 0; k < 89; k++)
            payloads[s][k] = (char)('a' + (s + k) % 26);
}

static void make_line(char *p, uint32_t i)
{
    uint32_t v = i;
    for (int k = 8; k >= 0; k--) {
        p[k] = (char)('0' + v % 10);
        v /= 10;
    }
    p[9] = ' ';
    memcpy(p + 10, payloads[(i * 7u + 3u) % 26u], 89);
    p[99] = '\n';
}

static void forever(void)
{
    for (;;)
        pause();
}

static int run_lines(long n, const char *stampfile, int argc, char **argv)
{
    enum { PER = 640 }; /* 64,000 bytes per write() */
    static char buf[PER * LINE_LEN];
    for (int a = 0; a < argc; a++) {
        if (strncmp(argv[a], "pipe=", 5) == 0 && fcntl(1, F_SETPIPE_SZ, atoi(argv[a] + 5)) < 0)
            die("F_SETPIPE_SZ");
        if (strncmp(argv[a], "go=", 3) == 0) {
            struct timespec ts = {0, 1000000};
            while (access(argv[a] + 3, F_OK) < 0)
                nanosleep(&ts, NULL);
        }
    }
    append_stamp(stampfile, now_ns());
    long i = 0;
    while (i < n) {
        int k = 0;
        for (; k < PER && i < n; k++, i++)
            make_line(buf + (size_t)k * LINE_LEN, (uint32_t)i);
        if (write_all(1, buf, (size_t)k * LINE_LEN) < 0)
            die("write stdout");
    }
    forever();
    return 0;
}

static int run_forkwait(long n, const char *prog)
{
    uint64_t *t = calloc((size_t)n, sizeof *t);
    if (!t)
        die("calloc");
    for (long i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            execl(prog, prog, (char *)NULL);
            _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        t[i] = now_ns() - t0;
    }
    for (long i = 0; i < n; i++)
        printf("%llu\n", (unsigned long long)t[i]);
    return 0;
}

__attribute__((noreturn)) static void run_respawn(const char *self, const char *file)
{
    char *args[] = {(char *)self, "stamp", (char *)file, NULL};
    for (;;) {
        pid_t pid;
        int st;
        if (posix_spawn(&pid, self, NULL, NULL, args, environ) != 0)
            die("posix_spawn");
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
    }
}

static int run_spawn(const char *self, long n, const char *dir)
{
    char path[4096];
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/s%04ld", dir, i);
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            execl(self, "svc", "stamp", path, (char *)NULL);
            _exit(127);
        }
    }
    forever();
    return 0;
}

static int run_pipe(const char *self, const char *nstr, const char *file, const char *stamp)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        die("pipe");
    int out = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0)
        die(file);
    uint64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        dup2(p[1], 1);
        execl(self, "svc", "lines", nstr, stamp, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    static char buf[65536];
    long want = atol(nstr) * LINE_LEN, got = 0;
    while (got < want) {
        ssize_t r = read(p[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (write_all(out, buf, (size_t)r) < 0)
            die("write file");
        got += r;
    }
    uint64_t t1 = now_ns();
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(out);
    printf("%llu %ld\n", (unsigned long long)(t1 - t0), got / LINE_LEN);
    return 0;
}

static int run_clitime(long n, const char *outfile, char **argv)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    FILE *out = fopen(outfile, "w");
    if (!out)
        die(outfile);
    for (long i = 0; i < n; i++) {
        pid_t pid;
        uint64_t t0 = now_ns();
        int r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        if (r != 0) {
            errno = r;
            die(argv[0]);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        uint64_t t = now_ns() - t0;
        fprintf(out, "%llu %d\n", (unsigned long long)t,
                WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    }
    fclose(out);
    return 0;
}

static int run_pingpong(long n, const char *outfile)
{
    int sv[2];
    char b[64];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        die("socketpair");
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(sv[0]);
        while (read(sv[1], b, sizeof b) > 0)
            if (write(sv[1], b, 1) != 1)
                _exit(1);
        _exit(0);
    }
    close(sv[1]);
    uint64_t *t = calloc((size_t)n, sizeof *t);
    FILE *out = fopen(outfile, "w");
    if (!t || !out)
        die("pingpong setup");
    for (long i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        if (write(sv[0], "x", 1) != 1 || read(sv[0], b, sizeof b) != 1)
            die("pingpong");
        t[i] = now_ns() - t0;
    }
    close(sv[0]);
    waitpid(pid, NULL, 0);
    for (long i = 0; i < n; i++)
        fprintf(out, "%llu\n", (unsigned long long)t[i]);
    fclose(out);
    free(t);
    return 0;
}

static int run_varlink(long n, const char *outfile, const char *sock, const char *unit)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die(sock);
    char req[512];
    int rl = snprintf(
        req, sizeof req,
        "{\"method\":\"io.minisup.Manager.GetUnit\",\"parameters\":{\"name\":\"%s\"}}", unit);
    rl++; /* the NUL terminator is the frame end */
    uint64_t *t = calloc((size_t)n, sizeof *t);
    static char buf[1 << 16];
    FILE *out = fopen(outfile, "w");
    if (!t || !out)
        die("varlink setup");
    size_t have = 0;
    for (long i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        if (write_all(fd, req, (size_t)rl) < 0)
            die("varlink write");
        for (;;) {
            char *nul = memchr(buf, '\0', have);
            if (nul) {
                if (i == 0 && strstr(buf, "\"error\"")) {
                    fprintf(stderr, "svc: varlink error reply: %s\n", buf);
                    exit(1);
                }
                size_t used = (size_t)(nul - buf) + 1;
                memmove(buf, nul + 1, have - used);
                have -= used;
                break;
            }
            if (have == sizeof buf) {
                fprintf(stderr, "svc: varlink reply too long\n");
                exit(1);
            }
            ssize_t r = read(fd, buf + have, sizeof buf - have);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                die("varlink read");
            have += (size_t)r;
        }
        t[i] = now_ns() - t0;
    }
    for (long i = 0; i < n; i++)
        fprintf(out, "%llu\n", (unsigned long long)t[i]);
    fclose(out);
    return 0;
}

/* ./bench.args: one argument per line, for runit's and s6's ./run symlinks. */
static char **args_from_file(int *ret_argc)
{
    static char data[8192];
    static char *av[32];
    int fd = open("bench.args", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die("bench.args");
    ssize_t n = read(fd, data, sizeof data - 1);
    close(fd);
    if (n < 0)
        die("read bench.args");
    data[n] = '\0';
    int ac = 0;
    av[ac++] = "svc";
    char *save = NULL;
    for (char *tok = strtok_r(data, "\n", &save); tok && ac < 31; tok = strtok_r(NULL, "\n", &save))
        av[ac++] = tok;
    av[ac] = NULL;
    *ret_argc = ac;
    return av;
}

int main(int argc, char **argv)
{
    uint64_t t_start = now_ns(); /* first thing: when this process runs main() */
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl < 0)
        die("readlink /proc/self/exe");
    self[sl] = '\0';
    init_payloads();
    if (strcmp(base, "run") == 0)
        argv = args_from_file(&argc);
    if (argc < 2) {
        fprintf(stderr, "usage: svc MODE ARGS... (see bench/svc.c)\n");
        return 2;
    }
    const char *mode = argv[1];
    if (strcmp(mode, "pause") == 0) {
        forever();
    } else if (strcmp(mode, "stamp") == 0 && argc >= 3) {
        append_stamp(argv[2], t_start);
        if (argc >= 4) {
            int nfd = atoi(argv[3]);
            if (write(nfd, "\n", 1) == 1)
                close(nfd);
        }
        forever();
    } else if (strcmp(mode, "lines") == 0 && argc >= 4) {
        return run_lines(atol(argv[2]), argv[3], argc - 4, argv + 4);
    } else if (strcmp(mode, "crash") == 0 && argc >= 3) {
        int fd = open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            if (write(fd, "x", 1) < 0)
                return 2;
            close(fd);
        }
        return 1;
    } else if (strcmp(mode, "forkwait") == 0 && argc >= 4) {
        return run_forkwait(atol(argv[2]), argv[3]);
    } else if (strcmp(mode, "respawn") == 0 && argc >= 3) {
        run_respawn(self, argv[2]);
    } else if (strcmp(mode, "spawn") == 0 && argc >= 4) {
        return run_spawn(self, atol(argv[2]), argv[3]);
    } else if (strcmp(mode, "pipe") == 0 && argc >= 5) {
        return run_pipe(self, argv[2], argv[3], argv[4]);
    } else if (strcmp(mode, "clitime") == 0 && argc >= 5) {
        return run_clitime(atol(argv[2]), argv[3], argv + 4);
    } else if (strcmp(mode, "varlink") == 0 && argc >= 6) {
        return run_varlink(atol(argv[2]), argv[3], argv[4], argv[5]);
    } else if (strcmp(mode, "pingpong") == 0 && argc >= 4) {
        return run_pingpong(atol(argv[2]), argv[3]);
    } else if (strcmp(mode, "lineat") == 0 && argc >= 3) {
        char l[LINE_LEN];
        make_line(l, (uint32_t)atol(argv[2]));
        return write_all(1, l, LINE_LEN) < 0;
    }
    fprintf(stderr, "svc: bad mode or arguments: %s\n", mode);
    return 2;
}
