/* The activation issue's end-to-end tests: socket units holding FIFOs and sockets before their
 * service runs, activation on the first readiness with LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES,
 * nothing lost while the service restarts, Accept=yes instances, SocketMode=/DirectoryMode=/
 * RemoveOnStop=, and ListSockets. Loopback only; TCP ports are found by binding port 0 first. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

TestSuite(activation, .init = setup, .fini = teardown, .timeout = 60);

/* fifo-echo keeps its LeakSanitizer check in its own tests; here it is stopped and killed on
 * purpose (docs/testing.md: the SIGCONT after SIGTERM can discard LSan's ptrace stop). */
#define NO_LSAN "Environment=ASAN_OPTIONS=detect_leaks=0\n"

/* ---- helpers ---- */

static void start_unit(const char *unit)
{
    char *out = NULL, *err = NULL;
    int r = harness_ctl(&d, &out, &err, "start", unit, NULL);

    cr_assert_eq(r, 0, "start %s exited %d\nstdout: %s\nstderr: %s", unit, r, out, err);
    free(out);
    free(err);
}

static void stop_unit(const char *unit)
{
    char *out = NULL, *err = NULL;
    int r = harness_ctl(&d, &out, &err, "stop", unit, NULL);

    cr_assert_eq(r, 0, "stop %s exited %d\nstdout: %s\nstderr: %s", unit, r, out, err);
    free(out);
    free(err);
}

static void assert_status(const char *unit, const char *state, int timeout_ms)
{
    cr_assert(harness_wait_status(&d, unit, state, timeout_ms), "%s never became '%s'", unit,
              state);
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

static void unit_state(const char *unit, char *active, char *sub, size_t size)
{
    json_t *u = harness_get_unit(&d, unit);

    snprintf(active, size, "%s", jstr(u, "activeState"));
    snprintf(sub, size, "%s", jstr(u, "subState"));
    json_decref(u);
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

/* Every unit's journal (-o cat), for Accept=yes instances whose names are generated. */
static char *all_journal(void)
{
    char *out = NULL, *err = NULL;
    int r = harness_ctl(&d, &out, &err, "journal", "-o", "cat", NULL);

    cr_assert_eq(r, 0, "journal -o cat: %s", err);
    free(err);
    return out;
}

struct all_count {
    const char *needle;
    size_t want, seen;
};

static bool all_journal_count(void *arg)
{
    struct all_count *w = arg;
    char *text = all_journal();

    w->seen = harness_count_lines_containing(text, w->needle);
    free(text);
    return w->seen >= w->want;
}

static bool gone(void *arg)
{
    return !harness_pid_alive((pid_t)(intptr_t)arg);
}

/* The runtime dir path of name (what %t/name expands to). */
static char *run_path(char *buf, const char *name)
{
    char rel[256];

    snprintf(rel, sizeof(rel), "run/%s", name);
    return harness_path(&d, buf, rel);
}

/* A free TCP port on the loopback address of family af (0 if that family is unavailable). */
static int free_port(int af)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    int fd = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0), port = 0;

    if (fd < 0)
        return 0;
    if (af == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;

        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        len = sizeof(*in6);
    }
    if (bind(fd, (struct sockaddr *)&ss, len) == 0 &&
        getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        port = ntohs(af == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                   : ((struct sockaddr_in6 *)&ss)->sin6_port);
    close(fd);
    return port;
}

/* Connects a socket of type (stream, seqpacket) to a Unix path, @abstract name, or loopback
 * port (af INET/INET6). Receives time out after 20 s (activation and start included). */
static int connect_type(int af, int type, const char *path, int port)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    struct timeval tv = {.tv_sec = 20};
    int fd = socket(af, type | SOCK_CLOEXEC, 0);

    cr_assert(fd >= 0, "socket: %s", strerror(errno));
    if (af == AF_UNIX) {
        struct sockaddr_un *un = (struct sockaddr_un *)&ss;
        size_t n = strlen(path);

        cr_assert(n < sizeof(un->sun_path));
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, path, n);
        if (path[0] == '@')
            un->sun_path[0] = '\0';
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] != '@'));
    } else if (af == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;

        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        in6->sin6_addr = in6addr_loopback;
        len = sizeof(*in6);
    }
    cr_assert(connect(fd, (struct sockaddr *)&ss, len) == 0, "connect %s:%d: %s",
              path ? path : "loopback", port, strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static int connect_to(int af, const char *path, int port)
{
    return connect_type(af, SOCK_STREAM, path, port);
}

/* Sends "line\n" on fd and returns the pid in the "pong PID line" answer of tfx listen-info. */
static pid_t ping(int fd, const char *line)
{
    char buf[256], want[128];
    size_t len = 0;
    long pid = 0;

    snprintf(buf, sizeof(buf), "%s\n", line);
    cr_assert(send(fd, buf, strlen(buf), MSG_NOSIGNAL) == (ssize_t)strlen(buf), "send: %s",
              strerror(errno));
    while (len < sizeof(buf) - 1) {
        ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);

        cr_assert(n >= 0, "no answer to '%s': %s", line, strerror(errno));
        if (n == 0)
            break;
        len += (size_t)n;
        if (memchr(buf, '\n', len))
            break;
    }
    buf[len] = '\0';
    snprintf(want, sizeof(want), " %s\n", line);
    cr_assert(strncmp(buf, "pong ", 5) == 0 && strstr(buf, want), "answer to '%s': '%s'", line,
              buf);
    pid = strtol(buf + 5, NULL, 10);
    cr_assert_gt(pid, 0);
    harness_track_pid(&d, (pid_t)pid);
    return (pid_t)pid;
}

/* Sends one datagram to a Unix path. */
static void send_datagram(const char *path, const char *msg)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    cr_assert(strlen(path) < sizeof(un.sun_path));
    memcpy(un.sun_path, path, strlen(path) + 1);
    cr_assert(sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&un, sizeof(un)) ==
                  (ssize_t)strlen(msg),
              "sendto %s: %s", path, strerror(errno));
    close(fd);
}

/* Writes text to a FIFO held open by minisupd: the open never blocks or fails with ENXIO. */
static void write_fifo(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

    cr_assert(fd >= 0, "open %s for writing: %s (nobody holds its read end?)", path,
              strerror(errno));
    cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "write %s: %s", path,
              strerror(errno));
    close(fd);
}

static mode_t mode_of(const char *path, mode_t type)
{
    struct stat st;

    cr_assert(lstat(path, &st) == 0, "%s: %s", path, strerror(errno));
    cr_assert_eq(st.st_mode & S_IFMT, type, "%s has type 0%o", path,
                 (unsigned)(st.st_mode & S_IFMT));
    return st.st_mode & 07777;
}

/* The listen-info report "pid=P LISTEN_PID=.. LISTEN_FDS=.. LISTEN_FDNAMES=.." of the run with
 * pid P, and its "fd N: what" lines in fds[N - 3]. Returns the number of fd lines. */
struct info {
    long pid, listen_pid, listen_fds;
    char names[256];
    char fds[24][96];
    size_t n_fds;
};

static void read_info(const char *unit, pid_t pid, struct info *info)
{
    char *text = harness_journal_cat(&d, unit), want[64];
    const char *p;
    bool mine = false;

    memset(info, 0, sizeof(*info));
    snprintf(want, sizeof(want), "pid=%d ", (int)pid);
    for (p = text; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char line[512];
        int fd;

        snprintf(line, sizeof(line), "%.*s", (int)len, p);
        if (strncmp(line, "pid=", 4) == 0)
            mine = strncmp(line, want, strlen(want)) == 0;
        if (mine && strncmp(line, "pid=", 4) == 0) {
            const char *lp = strstr(line, "LISTEN_PID="), *lf = strstr(line, "LISTEN_FDS=");
            const char *ln = strstr(line, "LISTEN_FDNAMES=");

            info->pid = strtol(line + 4, NULL, 10);
            info->listen_pid = lp ? strtol(lp + 11, NULL, 10) : -1;
            info->listen_fds = lf ? strtol(lf + 11, NULL, 10) : -1;
            if (ln)
                snprintf(info->names, sizeof(info->names), "%s", ln + 15);
        } else if (mine && sscanf(line, "fd %d:", &fd) == 1 && fd >= 3 && fd < 27) {
            snprintf(info->fds[fd - 3], sizeof(info->fds[0]), "%s", strchr(line, ':') + 2);
            if ((size_t)(fd - 2) > info->n_fds)
                info->n_fds = (size_t)(fd - 2);
        }
        p = end ? end + 1 : NULL;
    }
    free(text);
    cr_assert_eq(info->pid, pid, "no listen-info report of pid %d in the journal of %s", (int)pid,
                 unit);
}

/* ListSockets: the socket unit called name, a new reference (NULL if it is not listed). */
static json_t *listed_socket(const char *name)
{
    json_t *r = harness_varlink(&d, "ListSockets", NULL), *s, *found = NULL;
    size_t i;

    json_array_foreach(json_object_get(r, "sockets"), i, s)
    {
        if (strcmp(jstr(s, "name"), name) == 0) {
            found = s;
            json_incref(found);
        }
    }
    json_decref(r);
    return found;
}

/* ---- FIFO activation (fifo-echo, the README's demo) ---- */

static void write_fifo_echo_units(char *fifo, const char *restart_sec)
{
    run_path(fifo, "fifo-echo.fifo");
    harness_write_unit(&d, "fifo-echo.socket",
                       "[Unit]\nDescription=FIFO of the echo service\n\n"
                       "[Socket]\nListenFIFO=%t/fifo-echo.fifo\nSocketMode=0622\n\n"
                       "[Install]\nWantedBy=sockets.target\n");
    harness_write_unitf(&d, "fifo-echo.service",
                        "[Unit]\nDescription=FIFO echo service\nStartLimitBurst=0\n\n"
                        "[Service]\nType=exec\nExecStart=%s --fifo %%t/fifo-echo.fifo\n"
                        "Restart=on-failure\nRestartSec=%s\nTimeoutStopSec=5s\n" NO_LSAN,
                        HARNESS_FIFO_ECHO, restart_sec);
}

Test(activation, a_fifo_exists_first_write_starts_service)
{
    char fifo[PATH_MAX], active[32], sub[32], *out = NULL;
    json_t *s, *l;
    pid_t pid;

    write_fifo_echo_units(fifo, "300ms");
    harness_start(&d);

    /* The channel exists before the service: a FIFO with SocketMode=, and nobody runs yet. */
    cr_assert_eq(mode_of(fifo, S_IFIFO), 0622);
    unit_state("fifo-echo.socket", active, sub, sizeof(active));
    cr_assert_str_eq(active, "active");
    cr_assert_str_eq(sub, "listening");
    unit_state("fifo-echo", active, sub, sizeof(active));
    cr_assert_str_eq(active, "inactive");

    s = listed_socket("fifo-echo.socket");
    cr_assert_not_null(s, "ListSockets does not list fifo-echo.socket");
    cr_assert_str_eq(jstr(s, "triggers"), "fifo-echo.service");
    cr_assert_eq(json_array_size(json_object_get(s, "listen")), 1);
    l = json_array_get(json_object_get(s, "listen"), 0);
    cr_assert_str_eq(jstr(l, "type"), "FIFO");
    cr_assert_str_eq(jstr(l, "address"), fifo);
    json_decref(s);
    cr_assert_eq(harness_ctl(&d, &out, NULL, "list-sockets", NULL), 0);
    cr_assert(strstr(out, fifo) && strstr(out, "fifo-echo.socket") &&
                  strstr(out, "fifo-echo.service"),
              "list-sockets:\n%s", out);
    free(out);

    /* The first write starts fifo-echo, which takes the FIFO as fd 3. */
    write_fifo(fifo, "first message\n");
    wait_journal("fifo-echo", "first message", 10000);
    assert_status("fifo-echo", "active (running)", 5000);
    pid = harness_main_pid(&d, "fifo-echo");
    cr_assert_gt(pid, 0);
    cr_assert_eq(journal_count("fifo-echo", "Listening on fd 3 (socket activation)"), 1);
    unit_state("fifo-echo.socket", active, sub, sizeof(active));
    cr_assert_str_eq(sub, "running");
    /* status names the socket that starts it, as systemctl's TriggeredBy: does. */
    cr_assert_eq(harness_ctl(&d, &out, NULL, "status", "fifo-echo", NULL), 0);
    cr_assert(strstr(out, "\nTriggeredBy: \u25cf fifo-echo.socket\n"), "status:\n%s", out);
    free(out);

    stop_unit("fifo-echo");
    /* The socket listens again, and the FIFO stays (fifo-echo did not create it). */
    unit_state("fifo-echo.socket", active, sub, sizeof(active));
    cr_assert_str_eq(sub, "listening");
    cr_assert_eq(mode_of(fifo, S_IFIFO), 0622);
    harness_stop(&d);
}

Test(activation, b_fifo_nothing_lost_while_restarting_or_stopped)
{
    char fifo[PATH_MAX], *text;
    pid_t pid;
    static const char *const messages[] = {"one before", "two while restarting",
                                           "three while stopped", "four after"};

    write_fifo_echo_units(fifo, "300ms");
    harness_start(&d);
    write_fifo(fifo, "one before\n");
    wait_journal("fifo-echo", "one before", 10000);
    pid = harness_main_pid(&d, "fifo-echo");

    /* Killed: Restart=on-failure brings it back after 300 ms; the line waits in the pipe. */
    cr_assert_eq(kill(pid, SIGKILL), 0);
    cr_assert(wait_until(gone, (void *)(intptr_t)pid, 5000));
    write_fifo(fifo, "two while restarting\n");
    wait_journal("fifo-echo", "two while restarting", 10000);
    harness_main_pid(&d, "fifo-echo");

    /* Stopped: the socket takes over again; the next write starts the service. */
    stop_unit("fifo-echo");
    write_fifo(fifo, "three while stopped\n");
    wait_journal("fifo-echo", "three while stopped", 10000);
    harness_main_pid(&d, "fifo-echo");
    write_fifo(fifo, "four after\n");
    wait_journal("fifo-echo", "four after", 10000);

    text = harness_journal_cat(&d, "fifo-echo");
    for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
        cr_assert_eq(harness_count_lines_containing(text, messages[i]), 1,
                     "'%s' is not in the journal exactly once:\n%s", messages[i], text);
    cr_assert_eq(harness_count_lines_containing(text, "Listening on fd 3 (socket activation)"), 3,
                 "want three activated runs:\n%s", text);
    free(text);
    stop_unit("fifo-echo");
    harness_stop(&d);
}

/* ---- Stream, datagram and FIFO on one service: LISTEN_* ---- */

Test(activation, c_unix_stream_dgram_fifo_listen_fds)
{
    char stream[PATH_MAX], dgram[PATH_MAX], fifo[PATH_MAX], active[32], sub[32];
    struct info info;
    pid_t pid, pid2;
    int fd;

    run_path(stream, "a.sock");
    run_path(dgram, "b.sock");
    run_path(fifo, "b.fifo");
    harness_write_unit(&d, "a.socket",
                       "[Socket]\nListenStream=%t/a.sock\nFileDescriptorName=alpha\n"
                       "Service=info.service\n\n[Install]\nWantedBy=sockets.target\n");
    harness_write_unit(&d, "b.socket",
                       "[Socket]\nListenDatagram=%t/b.sock\nListenFIFO=%t/b.fifo\n"
                       "Service=info.service\n\n[Install]\nWantedBy=sockets.target\n");
    harness_write_unitf(&d, "info.service", "[Service]\nExecStart=%s listen-info --serve\n" NO_LSAN,
                        HARNESS_TFX);
    harness_start(&d);
    cr_assert_eq(mode_of(stream, S_IFSOCK) & 0777, 0666, "SocketMode= default is 0666");

    /* A connection activates the service, which answers it on the listening fd. */
    fd = connect_to(AF_UNIX, stream, 0);
    pid = ping(fd, "hello");
    close(fd);
    wait_journal("info", "listed", 5000);
    read_info("info", pid, &info);
    cr_assert_eq(info.listen_pid, pid, "LISTEN_PID=%ld, the service is %d", info.listen_pid,
                 (int)pid);
    cr_assert_eq(info.listen_fds, 3, "LISTEN_FDS=%ld", info.listen_fds);
    cr_assert_eq(info.n_fds, 3, "the service has %zu fds from 3 on, want 3", info.n_fds);
    /* fds from 3 in unit-file order within each socket unit, named after it. */
    {
        char names[256], *save = NULL;
        const char *name[3];
        size_t n = 0;

        snprintf(names, sizeof(names), "%s", info.names);
        for (char *t = strtok_r(names, ":", &save); t && n < 3; t = strtok_r(NULL, ":", &save))
            name[n++] = t;
        cr_assert_eq(n, 3, "LISTEN_FDNAMES=%s", info.names);
        for (size_t i = 0, dgram_seen = 0; i < 3; i++) {
            if (strcmp(name[i], "alpha") == 0) {
                cr_assert_str_eq(info.fds[i], "socket stream unix listening", "fd %zu", i + 3);
            } else {
                cr_assert_str_eq(name[i], "b.socket", "LISTEN_FDNAMES=%s", info.names);
                cr_assert_str_eq(info.fds[i], dgram_seen ? "fifo read" : "socket dgram unix",
                                 "fd %zu (%s) in LISTEN_FDNAMES=%s", i + 3, name[i], info.names);
                dgram_seen = 1;
            }
        }
    }
    /* Passed in blocking mode, as systemd passes them (NonBlocking=no): a plain accept() loop
     * must not meet EAGAIN. */
    cr_assert_eq(journal_count("info", "nonblock"), 0, "a listening fd came with O_NONBLOCK");
    unit_state("a.socket", active, sub, sizeof(active));
    cr_assert_str_eq(sub, "running");
    unit_state("b.socket", active, sub, sizeof(active));
    cr_assert_str_eq(sub, "running");

    send_datagram(dgram, "datagram 1");
    wait_journal("info", "dgram: datagram 1", 5000);
    write_fifo(fifo, "fifo line\n");
    wait_journal("info", "fifo: fifo line", 5000);

    /* Stopped, the sockets listen again; a datagram now starts a new run. */
    stop_unit("info");
    unit_state("b.socket", active, sub, sizeof(active));
    cr_assert_str_eq(sub, "listening");
    send_datagram(dgram, "datagram 2");
    wait_journal("info", "dgram: datagram 2", 10000);
    pid2 = harness_main_pid(&d, "info");
    cr_assert(pid2 > 0 && pid2 != pid);
    stop_unit("info");
    harness_stop(&d);
}

/* More listening fds than proc.c has low fd slots for a spawn (12): the child then copies the
 * daemon's whole fd table, the other path of proc_spawn. Every fd still arrives, in order, and
 * nothing else. */
Test(activation, c2_more_listen_fds_than_spawn_slots)
{
    enum { N = 14 };
    char unit[4096], fifo[PATH_MAX];
    size_t off;
    struct info info;
    pid_t pid;

    off = (size_t)snprintf(unit, sizeof(unit), "[Socket]\nService=many.service\n");
    for (int i = 0; i < N; i++)
        off += (size_t)snprintf(unit + off, sizeof(unit) - off, "ListenFIFO=%%t/m%02d.fifo\n", i);
    snprintf(unit + off, sizeof(unit) - off, "\n[Install]\nWantedBy=sockets.target\n");
    harness_write_unit(&d, "many.socket", unit);
    harness_write_unitf(&d, "many.service", "[Service]\nExecStart=%s listen-info --serve\n" NO_LSAN,
                        HARNESS_TFX);
    harness_start(&d);

    run_path(fifo, "m13.fifo");
    write_fifo(fifo, "last fifo\n");
    wait_journal("many", "fifo: last fifo", 5000);
    pid = harness_main_pid(&d, "many");
    read_info("many", pid, &info);
    cr_assert_eq(info.listen_pid, pid, "LISTEN_PID=%ld, the service is %d", info.listen_pid,
                 (int)pid);
    cr_assert_eq(info.listen_fds, N, "LISTEN_FDS=%ld", info.listen_fds);
    cr_assert_eq(info.n_fds, (size_t)N, "the service has %zu fds from 3 on, want %d", info.n_fds,
                 N);
    for (int i = 0; i < N; i++)
        cr_assert_str_eq(info.fds[i], "fifo read", "fd %d", i + 3);
    stop_unit("many");
    harness_stop(&d);
}

Test(activation, d_tcp_ipv4_ipv6_and_abstract)
{
    char abstract[64], seq[PATH_MAX], *out = NULL;
    int port4 = free_port(AF_INET), port6 = free_port(AF_INET6), fd;
    struct info info;
    pid_t pid;
    size_t want = 3;

    cr_assert_gt(port4, 0, "no free port on 127.0.0.1");
    snprintf(abstract, sizeof(abstract), "@minisup-e2e-%d", (int)getpid());
    harness_write_unitf(&d, "net.socket",
                        "[Socket]\nListenStream=127.0.0.1:%d\nListenStream=%s\n"
                        "ListenSequentialPacket=%%t/seq.sock\n%s%.0d%s"
                        "Service=net.service\n",
                        port4, abstract, port6 ? "ListenStream=[::1]:" : "", port6,
                        port6 ? "\n" : "");
    harness_write_unitf(&d, "net.service", "[Service]\nExecStart=%s listen-info --serve\n" NO_LSAN,
                        HARNESS_TFX);
    harness_start(&d);
    start_unit("net.socket");

    fd = connect_to(AF_INET, NULL, port4);
    pid = ping(fd, "over ipv4");
    close(fd);
    fd = connect_to(AF_UNIX, abstract, 0);
    cr_assert_eq(ping(fd, "over abstract"), pid);
    close(fd);
    fd = connect_type(AF_UNIX, SOCK_SEQPACKET, run_path(seq, "seq.sock"), 0);
    cr_assert_eq(ping(fd, "over seqpacket"), pid);
    close(fd);
    if (port6) {
        fd = connect_to(AF_INET6, NULL, port6);
        cr_assert_eq(ping(fd, "over ipv6"), pid);
        close(fd);
        want = 4;
    } else {
        fprintf(stderr, "no IPv6 loopback here: [::1] not tested\n");
    }
    read_info("net", pid, &info);
    cr_assert_eq(info.listen_fds, (long)want);
    cr_assert_eq(info.n_fds, want);
    cr_assert_str_eq(info.fds[0], "socket stream inet listening");
    cr_assert_str_eq(info.fds[1], "socket stream unix listening");
    cr_assert_str_eq(info.fds[2], "socket seqpacket unix listening");
    if (port6)
        cr_assert_str_eq(info.fds[3], "socket stream inet6 listening");
    cr_assert_eq(harness_ctl(&d, &out, NULL, "list-sockets", "--show-types", NULL), 0);
    {
        char addr[64];

        snprintf(addr, sizeof(addr), "127.0.0.1:%d", port4);
        cr_assert(strstr(out, addr) && strstr(out, abstract) && strstr(out, "Stream"),
                  "list-sockets --show-types:\n%s", out);
    }
    free(out);
    stop_unit("net.socket");
    stop_unit("net");
    /* Closed: nobody listens on the port any more. */
    {
        struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port4)};
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        cr_assert(connect(s, (struct sockaddr *)&in, sizeof(in)) < 0 && errno == ECONNREFUSED,
                  "127.0.0.1:%d still accepts after the socket unit stopped", port4);
        close(s);
    }
    harness_stop(&d);
}

/* ---- Accept=yes ---- */

struct connections_wait {
    json_int_t accepted, open;
};

static bool connections_closed(void *arg)
{
    struct connections_wait *w = arg;
    json_t *u = harness_get_unit(&d, "echo.socket");

    w->accepted = jint(u, "nAccepted");
    w->open = jint(u, "nConnections");
    json_decref(u);
    return w->open == 0;
}

Test(activation, e_accept_yes_one_instance_per_connection)
{
    char path[PATH_MAX], *text;
    struct connections_wait w = {0, 0};
    pid_t pids[4];
    int fds[2];

    run_path(path, "echo.sock");
    harness_write_unit(&d, "echo.socket",
                       "[Socket]\nListenStream=%t/echo.sock\nAccept=yes\n\n"
                       "[Install]\nWantedBy=sockets.target\n");
    harness_write_unitf(&d, "echo@.service",
                        "[Service]\nExecStart=%s listen-info --serve\n" NO_LSAN, HARNESS_TFX);
    harness_start(&d);

    /* Two at once: two instances, each with its own connection on fd 3. */
    fds[0] = connect_to(AF_UNIX, path, 0);
    fds[1] = connect_to(AF_UNIX, path, 0);
    pids[0] = ping(fds[0], "first");
    pids[1] = ping(fds[1], "second");
    close(fds[0]);
    close(fds[1]);
    /* Then two in a row. */
    for (int i = 2; i < 4; i++) {
        int fd = connect_to(AF_UNIX, path, 0);

        pids[i] = ping(fd, i == 2 ? "third" : "fourth");
        close(fd);
    }
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < i; k++)
            cr_assert_neq(pids[i], pids[k], "connections %d and %d shared process %d", k, i,
                          (int)pids[i]);
    cr_assert(wait_until(connections_closed, &w, 10000), "%lld connections still open",
              (long long)w.open);
    cr_assert_eq(w.accepted, 4);

    /* What each instance got: one fd, the connection. */
    {
        struct all_count c = {"LISTEN_FDS=1 LISTEN_FDNAMES=connection", 4, 0};

        cr_assert(wait_until(all_journal_count, &c, 5000), "%zu of 4 instance reports", c.seen);
    }
    text = all_journal();
    cr_assert_eq(harness_count_lines_containing(text, "fd 3: socket stream unix connected"), 4,
                 "journal:\n%s", text);
    cr_assert_eq(harness_count_lines_containing(text, "fd 4:"), 0, "journal:\n%s", text);
    for (int i = 0; i < 4; i++) {
        char want[96];

        snprintf(want, sizeof(want), "pid=%d LISTEN_PID=%d ", (int)pids[i], (int)pids[i]);
        cr_assert_eq(harness_count_lines_containing(text, want), 1, "no '%s' in:\n%s", want, text);
    }
    free(text);
    harness_stop(&d);
}

/* ---- SocketMode=, DirectoryMode=, RemoveOnStop=, FIFO mode ---- */

Test(activation, f_modes_and_remove_on_stop)
{
    char sock[PATH_MAX], dir[PATH_MAX], subdir[PATH_MAX], fifo[PATH_MAX], keep[PATH_MAX];
    json_t *s;

    run_path(dir, "sub");
    run_path(subdir, "sub/dir");
    run_path(sock, "sub/dir/m.sock");
    run_path(fifo, "sub/dir/m.fifo");
    run_path(keep, "keep.sock");
    harness_write_unit(&d, "m.socket",
                       "[Socket]\nListenStream=%t/sub/dir/m.sock\nListenFIFO=%t/sub/dir/m.fifo\n"
                       "SocketMode=0640\nDirectoryMode=0711\nRemoveOnStop=yes\n"
                       "Service=sink.service\n");
    harness_write_unit(&d, "keep.socket",
                       "[Socket]\nListenStream=%t/keep.sock\nSocketMode=0600\n"
                       "Service=sink.service\n");
    harness_write_unitf(&d, "sink.service", "[Service]\nExecStart=%s listen-info\n" NO_LSAN,
                        HARNESS_TFX);
    harness_start(&d);
    cr_assert(access(sock, F_OK) < 0, "%s exists before its socket unit started", sock);
    start_unit("m.socket");
    start_unit("keep.socket");

    cr_assert_eq(mode_of(dir, S_IFDIR), 0711, "DirectoryMode= on %s", dir);
    cr_assert_eq(mode_of(subdir, S_IFDIR), 0711, "DirectoryMode= on %s", subdir);
    cr_assert_eq(mode_of(sock, S_IFSOCK), 0640, "SocketMode= on %s", sock);
    cr_assert_eq(mode_of(fifo, S_IFIFO), 0640, "SocketMode= on %s", fifo);
    cr_assert_eq(mode_of(keep, S_IFSOCK), 0600, "SocketMode= on %s", keep);
    s = listed_socket("m.socket");
    cr_assert_not_null(s);
    cr_assert_eq(json_array_size(json_object_get(s, "listen")), 2);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(s, "listen"), 0), "type"), "Stream");
    cr_assert_str_eq(jstr(json_array_get(json_object_get(s, "listen"), 0), "address"), sock);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(s, "listen"), 1), "type"), "FIFO");
    json_decref(s);

    /* RemoveOnStop=yes removes both paths; without it the socket file stays, as in systemd. */
    stop_unit("m.socket");
    stop_unit("keep.socket");
    cr_assert(access(sock, F_OK) < 0 && errno == ENOENT, "%s survived RemoveOnStop=yes", sock);
    cr_assert(access(fifo, F_OK) < 0 && errno == ENOENT, "%s survived RemoveOnStop=yes", fifo);
    cr_assert_eq(access(keep, F_OK), 0, "%s was removed without RemoveOnStop=", keep);
    s = listed_socket("m.socket");
    if (s) {
        cr_assert_str_neq(jstr(s, "activeState"), "active");
        json_decref(s);
    }
    harness_stop(&d);
}

/* ---- Activation latency (the speed figure, printed only) ---- */

Test(activation, g_first_write_to_service_read_latency)
{
    enum { N = 5 };
    char fifo[PATH_MAX], msg[64];
    double total = 0;

    write_fifo_echo_units(fifo, "300ms");
    harness_start(&d);
    for (int i = 0; i < N; i++) {
        uint64_t t0 = harness_now_ms();

        snprintf(msg, sizeof(msg), "latency probe %d\n", i);
        write_fifo(fifo, msg);
        msg[strlen(msg) - 1] = '\0';
        wait_journal("fifo-echo", msg, 10000);
        total += (double)(harness_now_ms() - t0);
        harness_main_pid(&d, "fifo-echo");
        stop_unit("fifo-echo");
    }
    /* Includes the journal poll of the harness (10 ms steps): an upper bound. */
    harness_metric("g_first_write_to_service_read_latency", "activation_to_journal_ms_mean",
                   total / N, 5);
    cr_assert_eq(journal_count("fifo-echo", "latency probe"), N);
    harness_stop(&d);
}

/* ---- Failure paths: no service, a service that never reads ---- */

Test(activation, h_missing_service_fails_socket_daemon_lives)
{
    char fifo[PATH_MAX], active[32], sub[32];
    json_t *u;

    run_path(fifo, "orphan.fifo");
    harness_write_unit(&d, "orphan.socket",
                       "[Socket]\nListenFIFO=%t/orphan.fifo\nService=nonexistent.service\n\n"
                       "[Install]\nWantedBy=sockets.target\n");
    harness_start(&d);
    write_fifo(fifo, "anyone?\n");
    assert_status("orphan.socket", "failed", 10000);
    u = harness_get_unit(&d, "orphan.socket");
    cr_assert_str_eq(jstr(u, "result"), "resources");
    json_decref(u);
    wait_journal("orphan.socket", "Service to activate not found", 1000);
    unit_state("orphan.socket", active, sub, sizeof(active));
    cr_assert_str_eq(active, "failed");
    cr_assert_eq(harness_ctl(&d, NULL, NULL, "list-units", NULL), 0);
    harness_stop(&d);
}

/* A socket that cannot listen fails its start with systemd's lines: the reason (naming the
 * group it could not resolve), the result, and the failed start job. */
Test(activation, h_socket_that_cannot_listen_says_why)
{
    char *out = NULL, *err = NULL;

    harness_write_unit(&d, "nogroup.socket",
                       "[Socket]\nListenFIFO=%t/nogroup.fifo\nSocketGroup=no-such-group-x\n");
    harness_write_unit(&d, "nogroup.service", "[Service]\nExecStart=/bin/true\n");
    harness_start(&d);
    cr_assert_neq(harness_ctl(&d, &out, &err, "start", "nogroup.socket", NULL), 0);
    free(out);
    free(err);
    assert_status("nogroup.socket", "failed", 5000);
    wait_journal("nogroup.socket", "Failed to resolve group no-such-group-x", 5000);
    wait_journal("nogroup.socket", "Failed with result 'resources'.", 5000);
    wait_journal("nogroup.socket", "Failed to listen on nogroup.socket.", 5000);
    harness_stop(&d);
}

/* The service exits without reading: the data stays readable, so every exit means a new
 * activation. The start limit must end that loop (socket result service-start-limit-hit)
 * instead of spinning. */
Test(activation, i_service_that_never_reads_hits_start_limit)
{
    char fifo[PATH_MAX];
    json_t *u;
    unsigned long long cpu0, cpu1;
    uint64_t t0, t1;

    run_path(fifo, "deaf.fifo");
    harness_write_unit(&d, "deaf.socket",
                       "[Socket]\nListenFIFO=%t/deaf.fifo\n\n[Install]\nWantedBy=sockets.target\n");
    harness_write_unitf(&d, "deaf.service", "[Service]\nExecStart=%s crash 0\n", HARNESS_TFX);
    harness_start(&d);
    cpu0 = harness_cpu_ticks(d.pid);
    t0 = harness_now_ms();
    write_fifo(fifo, "nobody reads this\n");
    assert_status("deaf.socket", "failed", 10000);
    t1 = harness_now_ms();
    cpu1 = harness_cpu_ticks(d.pid);
    u = harness_get_unit(&d, "deaf.socket");
    cr_assert_str_eq(jstr(u, "result"), "service-start-limit-hit");
    json_decref(u);
    assert_status("deaf", "failed (Result: start-limit-hit)", 5000);
    cr_assert_eq(journal_count("deaf", "crash: exit 0"), 5, "want 5 runs (StartLimitBurst=)");
    harness_metric("i_service_that_never_reads_hits_start_limit", "minisupd_cpu_percent",
                   100.0 * (double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK) /
                       ((double)(t1 - t0 + 1) / 1000.0),
                   100);
    harness_stop(&d);
}

/* A service that fails at once (exit 1) behind a stream socket: each connection that waits
 * starts it again until the start limit, and then the socket must fail ("so the sockets won't
 * act as tarpits for clients connecting to them", as systemd does it). Before, the last
 * refused start did not change the service's state (failed stayed failed), the socket never
 * heard of it, and kept accepting connections nobody would ever serve. */
Test(activation, j_failing_service_fails_its_socket_at_the_start_limit)
{
    char sock[PATH_MAX];
    json_t *u;
    int fd;

    run_path(sock, "tarpit.sock");
    harness_write_unit(
        &d, "tarpit.socket",
        "[Socket]\nListenStream=%t/tarpit.sock\n\n[Install]\nWantedBy=sockets.target\n");
    harness_write_unit(&d, "tarpit.service", "[Service]\nExecStart=/bin/sh -c 'exit 1'\n");
    harness_start(&d);
    fd = connect_to(AF_UNIX, sock, 0);
    assert_status("tarpit.socket", "failed", 10000);
    u = harness_get_unit(&d, "tarpit.socket");
    cr_assert_str_eq(jstr(u, "result"), "service-start-limit-hit");
    json_decref(u);
    close(fd);
    assert_status("tarpit", "failed (Result: start-limit-hit)", 5000);
    harness_stop(&d);
}

/* systemd.socket(5), Accept=yes: "For IPv4 and IPv6 connections the REMOTE_ADDR environment
 * variable will contain the remote IP address, and REMOTE_PORT will contain the remote port."
 * (They were unset before.) The instance name (%i) is systemd's too. */
Test(activation, k_accept_yes_remote_addr_and_port)
{
    struct sockaddr_in me;
    socklen_t len = sizeof(me);
    char want[96];
    int port = free_port(AF_INET), fd;

    cr_assert_gt(port, 0);
    harness_write_unitf(&d, "peer.socket",
                        "[Socket]\nListenStream=127.0.0.1:%d\nAccept=yes\n\n"
                        "[Install]\nWantedBy=sockets.target\n",
                        port);
    harness_write_unit(&d, "peer@.service",
                       "[Service]\nExecStart=/bin/sh -c 'echo peer $$REMOTE_ADDR $$REMOTE_PORT "
                       "%i'\n");
    harness_start(&d);
    fd = connect_to(AF_INET, NULL, port);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&me, &len), 0);
    /* The instance is named as systemd names it: nr-LOCAL:PORT-REMOTE:PORT, from 0. */
    snprintf(want, sizeof(want), "peer 127.0.0.1 %d 0-127.0.0.1:%d-127.0.0.1:%d",
             (int)ntohs(me.sin_port), port, (int)ntohs(me.sin_port));
    struct all_count w = {.needle = want, .want = 1};
    cr_assert(wait_until(all_journal_count, &w, 10000), "no '%s' in the journal", want);
    close(fd);
    harness_stop(&d);
}

/* A socket unit whose file no longer parses at daemon-reload is bad-setting, as systemd: it
 * keeps listening while active (a write still starts its service) and can be stopped, but not
 * started again. */
Test(activation, j_socket_whose_file_breaks_keeps_listening)
{
    char fifo[PATH_MAX], path[PATH_MAX], active[32], sub[32], *out = NULL, *err = NULL;
    struct timespec times[2] = {{0, UTIME_OMIT}, {0, 0}};
    struct stat st;
    json_t *r, *u;
    int rc;

    write_fifo_echo_units(fifo, "300ms");
    harness_start(&d);
    unit_state("fifo-echo.socket", active, sub, sizeof(active));
    cr_assert_str_eq(sub, "listening");

    /* No Listen*= any more; the mtime moves on by a second, whatever the clock's granularity. */
    harness_write_unit(&d, "fifo-echo.socket", "[Unit]\nDescription=Broken\n\n[Socket]\n");
    harness_path(&d, path, "units/fifo-echo.socket");
    cr_assert_eq(stat(path, &st), 0);
    times[1] = st.st_mtim;
    times[1].tv_sec += 1;
    cr_assert_eq(utimensat(AT_FDCWD, path, times, 0), 0);
    r = harness_varlink(&d, "Reload", NULL);
    cr_assert_eq(jint(r, "failedUnits"), 1);
    json_decref(r);
    u = harness_get_unit(&d, "fifo-echo.socket");
    cr_assert_str_eq(jstr(u, "loadState"), "bad-setting");
    cr_assert_str_eq(jstr(u, "activeState"), "active");
    json_decref(u);

    write_fifo(fifo, "after the break\n");
    wait_journal("fifo-echo", "after the break", 10000);
    stop_unit("fifo-echo");
    stop_unit("fifo-echo.socket");
    unit_state("fifo-echo.socket", active, sub, sizeof(active));
    cr_assert_str_eq(active, "inactive");
    rc = harness_ctl(&d, &out, &err, "start", "fifo-echo.socket", NULL);
    cr_assert_eq(rc, 6, "start of the broken socket: %d\n%s", rc, err);
    cr_assert(strstr(err, "has a bad unit file setting"), "%s", err);
    free(out);
    free(err);
    harness_stop(&d);
}
