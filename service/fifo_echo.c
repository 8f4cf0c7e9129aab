/* fifo-echo: the FIFO echo service of the course notes (F-I-F-O-L-C). It owns one named pipe
 * (created here, reused, or received by socket activation), turns each newline-separated message
 * into one timestamped record on stdout and optionally in an append-only log file, and stops
 * cleanly on SIGTERM/SIGINT. Standalone: it must not include any supervisor header. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef MINISUP_VERSION
#define MINISUP_VERSION "0.1.0"
#endif

#define PROG "fifo-echo"
#define FIFO_NAME "fifo-echo.fifo"
#define DEFAULT_MODE 0660
#define DEFAULT_MAX_MESSAGE 4096
/* The cap is allocated up front, so it gets a ceiling of its own. */
#define MAX_MAX_MESSAGE (16u * 1024 * 1024)
#define READ_CHUNK 16384
/* Room in a record beyond the message: timestamp, separator, truncation marker, newline. */
#define RECORD_SLACK 128
#define SD_LISTEN_FDS_START 3

#define EXIT_USAGE 2

struct options {
    const char *runtime_dir; /* -r, or the first path of $RUNTIME_DIRECTORY */
    const char *fifo;        /* -f */
    const char *log;         /* -l */
    mode_t mode;
    size_t max_message;
};

/* Everything the running service holds; owned by main() and released by echo_done(). */
struct echo {
    int fifo_fd;     /* the read end */
    int spare_fd;    /* our own writer, so the read end never sees EOF; -1 if fifo_fd is O_RDWR */
    int sig_fd;      /* signalfd for TERM, INT, HUP */
    int log_fd;      /* -1 without --log */
    char *fifo_path; /* NULL under socket activation */
    const char *log_path;
    bool created; /* we made fifo_path, so we remove it on exit */
    dev_t fifo_dev;
    ino_t fifo_ino;

    char *msg; /* the message being assembled, at most max bytes */
    size_t len;
    size_t max;
    size_t dropped; /* bytes cut off the current message beyond max */
    char *rec;      /* one formatted record */
    size_t rec_size;

    bool stdout_failed; /* reported once, then further failures are quiet */
    bool log_failed;
};

static void usage(FILE *f)
{
    fputs("Usage: " PROG " [OPTION]...\n"
          "\n"
          "Read newline-separated messages from a named pipe and write each one, timestamped,\n"
          "to stdout (and to a log file with --log).\n"
          "\n"
          "  -r, --runtime-dir DIR    create or reuse the FIFO DIR/" FIFO_NAME "\n"
          "                           (default: the first path in $RUNTIME_DIRECTORY)\n"
          "  -f, --fifo PATH          use the FIFO at PATH instead\n"
          "  -m, --mode OCTAL         mode of a FIFO we create, minus the umask (default 0660)\n"
          "  -l, --log FILE           also append every record to FILE; SIGHUP reopens it\n"
          "      --max-message BYTES  longest message kept whole; longer ones are truncated\n"
          "                           (default 4096)\n"
          "  -h, --help               show this help and exit\n"
          "      --version            show the version and exit\n"
          "\n"
          "With LISTEN_FDS set and LISTEN_PID equal to our pid (socket activation), fd 3 is the\n"
          "FIFO and no path is needed. SIGTERM or SIGINT stops, SIGHUP reopens the log file.\n"
          "Exit status: 0 stopped cleanly, 1 runtime error, 2 usage error.\n",
          f);
}

static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n\n", stderr);
    usage(stderr);
    return EXIT_USAGE;
}

/* Parses a whole string of octal digits no larger than 07777. */
static int parse_mode(const char *s, mode_t *ret_mode)
{
    unsigned long v;
    char *end;

    if (*s < '0' || *s > '7')
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, 8);
    if (errno || *end || v > 07777)
        return -EINVAL;
    *ret_mode = (mode_t)v;
    return 0;
}

/* Parses a whole decimal string in 1..MAX_MAX_MESSAGE. */
static int parse_size(const char *s, size_t *ret_size)
{
    unsigned long long v;
    char *end;

    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v < 1 || v > MAX_MAX_MESSAGE)
        return -EINVAL;
    *ret_size = (size_t)v;
    return 0;
}

/* Returns -1 to go on, or the exit code main() should return. */
static int parse_args(int argc, char **argv, struct options *o)
{
    enum { OPT_VERSION = 0x100, OPT_MAX_MESSAGE };
    static const struct option longopts[] = {
        {"runtime-dir", required_argument, NULL, 'r'},
        {"fifo", required_argument, NULL, 'f'},
        {"mode", required_argument, NULL, 'm'},
        {"log", required_argument, NULL, 'l'},
        {"max-message", required_argument, NULL, OPT_MAX_MESSAGE},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "r:f:m:l:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            o->runtime_dir = optarg;
            break;
        case 'f':
            o->fifo = optarg;
            break;
        case 'm':
            if (parse_mode(optarg, &o->mode) < 0)
                return usage_error("invalid mode '%s': expected octal, at most 07777", optarg);
            break;
        case 'l':
            o->log = optarg;
            break;
        case OPT_MAX_MESSAGE:
            if (parse_size(optarg, &o->max_message) < 0)
                return usage_error("invalid --max-message '%s': expected 1..%u bytes", optarg,
                                   MAX_MAX_MESSAGE);
            break;
        case 'h':
            usage(stdout);
            return 0;
        case OPT_VERSION:
            puts(PROG " " MINISUP_VERSION);
            return 0;
        default:
            /* getopt_long already named the bad option. */
            fputc('\n', stderr);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    return -1;
}

/* "DIR/fifo-echo.fifo" without doubling a trailing slash of DIR. New string or NULL. */
static char *fifo_path_in(const char *dir)
{
    size_t n = strlen(dir);
    char *p;

    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (asprintf(&p, "%.*s/%s", (int)n, dir, FIFO_NAME) < 0)
        return NULL;
    return p;
}

/* Socket activation as sd_listen_fds(3) with unset_environment=1: returns how many fds were
 * passed to *us* (0 when none, or when LISTEN_PID names another process, which happens when the
 * variables leak into a child). The variables are always unset so they go no further, and the
 * passed fds get FD_CLOEXEC. Malformed values are reported and treated as no activation. */
static int listen_fds(void)
{
    const char *spid = getenv("LISTEN_PID");
    const char *sfds = getenv("LISTEN_FDS");
    long pid, n = 0;
    char *end;

    if (spid && sfds) {
        errno = 0;
        pid = strtol(spid, &end, 10);
        if (errno || end == spid || *end || pid <= 0) {
            fprintf(stderr, PROG ": invalid LISTEN_PID '%s', ignoring.\n", spid);
        } else if (pid == (long)getpid()) {
            errno = 0;
            n = strtol(sfds, &end, 10);
            if (errno || end == sfds || *end || n < 0 || n > INT_MAX - SD_LISTEN_FDS_START) {
                fprintf(stderr, PROG ": invalid LISTEN_FDS '%s', ignoring.\n", sfds);
                n = 0;
            }
        }
    }
    (void)unsetenv("LISTEN_PID");
    (void)unsetenv("LISTEN_FDS");
    (void)unsetenv("LISTEN_FDNAMES");

    for (long fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
        int fl = fcntl((int)fd, F_GETFD);
        if (fl >= 0)
            (void)fcntl((int)fd, F_SETFD, fl | FD_CLOEXEC);
    }
    return (int)n;
}

/* Opens a write end on the FIFO whose read end is rfd. /proc/self/fd reopens the very same
 * inode; without /proc we fall back to the path and check it still names that inode. Returns
 * the fd or a negative errno. */
static int open_spare_writer(int rfd, const char *path)
{
    char proc[64];
    struct stat a, b;
    int fd, r;

    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", rfd);
    fd = open(proc, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0 || !path)
        return fd >= 0 ? fd : -errno;

    fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &a) < 0 || fstat(rfd, &b) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    if (a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
        close(fd);
        return -ESTALE;
    }
    return fd;
}

/* Takes fd 3 from socket activation. The FIFO is not ours, so it is never removed. Logs. */
static int use_activated_fifo(struct echo *e, int n_fds)
{
    int fd = SD_LISTEN_FDS_START, fl, r;
    struct stat st;

    if (n_fds > 1)
        fprintf(stderr, PROG ": received %d fds by socket activation, using only fd 3.\n", n_fds);
    if (fstat(fd, &st) < 0) {
        r = -errno;
        fprintf(stderr, PROG ": failed to use fd 3 from socket activation: %s\n", strerror(-r));
        return r;
    }
    if (!S_ISFIFO(st.st_mode)) {
        fprintf(stderr, PROG ": fd 3 from socket activation is not a FIFO\n");
        return -EBADF;
    }
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (fl & O_ACCMODE) == O_WRONLY) {
        fprintf(stderr, PROG ": fd 3 from socket activation is not open for reading\n");
        return -EBADF;
    }
    e->fifo_fd = fd;
    /* systemd's ListenFIFO= opens O_RDWR, which already counts as a writer. */
    if ((fl & O_ACCMODE) == O_RDONLY) {
        e->spare_fd = open_spare_writer(fd, NULL);
        if (e->spare_fd < 0) {
            r = e->spare_fd;
            fprintf(stderr, PROG ": failed to open a writer on fd 3: %s\n", strerror(-r));
            return r;
        }
    }
    return 0;
}

/* Creates the FIFO at e->fifo_path, or reuses a FIFO already there, and opens both ends.
 * Anything else at the path is refused. Logs. */
static int open_fifo_path(struct echo *e, mode_t mode)
{
    const char *path = e->fifo_path;
    struct stat st;
    int r;

    /* mkfifo() first and lstat() only on EEXIST: no window between check and create. The mode
     * goes through the umask on purpose, as the administrator asked. */
    if (mkfifo(path, mode) == 0) {
        e->created = true;
    } else if (errno != EEXIST) {
        r = -errno;
        fprintf(stderr, PROG ": failed to create FIFO '%s': %s\n", path, strerror(-r));
        return r;
    } else if (lstat(path, &st) < 0) {
        r = -errno;
        fprintf(stderr, PROG ": failed to inspect '%s': %s\n", path, strerror(-r));
        return r;
    } else if (!S_ISFIFO(st.st_mode)) {
        /* Checked before open(): opening a device node can have side effects. A symlink is
         * refused too, as the runtime dir may be shared. */
        fprintf(stderr, PROG ": refusing to use '%s': it exists and is not a FIFO\n", path);
        return -EEXIST;
    }

    /* O_NONBLOCK: a blocking open of a read end would wait for the first writer. */
    e->fifo_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (e->fifo_fd < 0) {
        r = -errno;
        fprintf(stderr, PROG ": failed to open FIFO '%s': %s\n", path, strerror(-r));
        return r;
    }
    if (fstat(e->fifo_fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
        /* Replaced between mkfifo()/lstat() and open(). */
        fprintf(stderr, PROG ": refusing to use '%s': it exists and is not a FIFO\n", path);
        return -EEXIST;
    }
    e->fifo_dev = st.st_dev;
    e->fifo_ino = st.st_ino;

    /* Holding a writer ourselves means read() never returns EOF when the last client closes,
     * so poll() does not report POLLHUP forever and we never spin. */
    e->spare_fd = open_spare_writer(e->fifo_fd, path);
    if (e->spare_fd < 0) {
        r = e->spare_fd;
        fprintf(stderr, PROG ": failed to open a writer on FIFO '%s': %s\n", path, strerror(-r));
        return r;
    }
    return 0;
}

static int open_log(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

    return fd < 0 ? -errno : fd;
}

/* Blocks TERM, INT and HUP and returns a signalfd for them, or a negative errno. Nothing runs
 * in a signal handler this way; the signals arrive as poll() events. */
static int setup_signals(void)
{
    struct sigaction sa = {.sa_handler = SIG_DFL};
    sigset_t set;
    int fd;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -errno;
    /* A parent (nohup, a shell for background jobs) may have left these ignored, and an ignored
     * signal is discarded before signalfd could see it. */
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGHUP, &sa, NULL);
    /* A reader gone from stdout must not kill us before the log file got the record; write()
     * reports EPIPE instead. */
    sa.sa_handler = SIG_IGN;
    (void)sigaction(SIGPIPE, &sa, NULL);

    fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return fd < 0 ? -errno : fd;
}

/* Writes all of buf, waiting for a non-blocking fd to drain. 0 or a negative errno. */
static int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd p = {.fd = fd, .events = POLLOUT};
                if (poll(&p, 1, -1) < 0 && errno != EINTR)
                    return -errno;
                continue;
            }
            return -errno;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* "YYYY-MM-DDTHH:MM:SS.mmm+ZZZZ" in local time; returns its length. */
static size_t format_timestamp(char *buf, size_t size)
{
    char date[64], zone[16];
    struct timespec ts;
    struct tm tm;
    int n;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (!localtime_r(&ts.tv_sec, &tm) || !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm))
        strcpy(date, "0000-00-00T00:00:00");
    if (!strftime(zone, sizeof(zone), "%z", &tm))
        zone[0] = '\0';
    n = snprintf(buf, size, "%s.%03ld%s", date, ts.tv_nsec / 1000000, zone);
    return n < 0 ? 0 : (size_t)n >= size ? size - 1 : (size_t)n;
}

/* Sends one record out: the whole of it to the log file, and from stdout_skip on to stdout,
 * one write() each. The log file is written first, so that a reader who has seen the line on
 * stdout can rely on it being in the file. Failures are reported once per destination and do
 * not stop the service: the other destination may still work. */
static void put_record(struct echo *e, const char *rec, size_t n, size_t stdout_skip)
{
    int r;

    if (e->log_fd >= 0) {
        r = write_all(e->log_fd, rec, n);
        if (r < 0 && !e->log_failed)
            fprintf(stderr, PROG ": failed to write log file '%s': %s, ignoring.\n", e->log_path,
                    strerror(-r));
        e->log_failed = r < 0;
    }
    r = write_all(STDOUT_FILENO, rec + stdout_skip, n - stdout_skip);
    if (r < 0 && !e->stdout_failed)
        fprintf(stderr, PROG ": failed to write to stdout: %s, ignoring.\n", strerror(-r));
    e->stdout_failed = r < 0;
}

/* A line about the service itself: plain on stdout (the journal adds its own time), and
 * timestamped in the log file like every other record there. */
static void status_line(struct echo *e, const char *fmt, ...)
{
    char rec[PATH_MAX + 256];
    size_t ts, n;
    va_list ap;
    int k;

    ts = format_timestamp(rec, sizeof(rec));
    rec[ts] = ' ';
    va_start(ap, fmt);
    k = vsnprintf(rec + ts + 1, sizeof(rec) - ts - 2, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    n = ts + 1 + ((size_t)k < sizeof(rec) - ts - 2 ? (size_t)k : sizeof(rec) - ts - 3);
    rec[n++] = '\n';
    put_record(e, rec, n, ts + 1);
}

/* Prints the assembled message, with the truncation marker if bytes were cut, and starts a
 * new one. */
static void emit_message(struct echo *e)
{
    size_t n = format_timestamp(e->rec, e->rec_size);

    e->rec[n++] = ' ';
    memcpy(e->rec + n, e->msg, e->len);
    n += e->len;
    if (e->dropped)
        n += (size_t)snprintf(e->rec + n, e->rec_size - n, " [truncated %zu bytes]", e->dropped);
    e->rec[n++] = '\n';
    put_record(e, e->rec, n, 0);
    e->len = 0;
    e->dropped = 0;
}

/* Splits input into messages. A message may span any number of reads; past the cap its bytes
 * are only counted, so memory stays bounded and the next message starts clean at the newline. */
static void feed(struct echo *e, const char *buf, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(buf, '\n', n);
        size_t seg = nl ? (size_t)(nl - buf) : n;
        size_t room = e->max - e->len;
        size_t take = seg < room ? seg : room;

        memcpy(e->msg + e->len, buf, take);
        e->len += take;
        e->dropped += seg - take;
        if (!nl)
            break;
        emit_message(e);
        buf += seg + 1;
        n -= seg + 1;
    }
}

/* Reads at most `max` bytes once and feeds them. Returns the count, 0 when nothing was there
 * (a spurious wake-up on a non-blocking fd), or a negative errno; EOF, which our spare writer
 * rules out, is -EPIPE rather than a reason to loop. */
static ssize_t read_fifo(struct echo *e, size_t max)
{
    char buf[READ_CHUNK];
    ssize_t r = read(e->fifo_fd, buf, max < sizeof(buf) ? max : sizeof(buf));

    if (r < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    if (r == 0)
        return -EPIPE;
    feed(e, buf, (size_t)r);
    return r;
}

/* On stop, prints what writers had already put in the pipe. Bounded by what was there at this
 * moment, so writers that keep writing cannot hold off the stop; reads of at most that much do
 * not block even on a blocking fd. */
static void drain(struct echo *e)
{
    int avail = 0;

    if (ioctl(e->fifo_fd, FIONREAD, &avail) < 0)
        return;
    while (avail > 0) {
        ssize_t r = read_fifo(e, (size_t)avail);
        if (r <= 0)
            break;
        avail -= (int)r;
    }
}

/* A new file first, then the swap: if the open fails we keep writing to the old one. */
static void reopen_log(struct echo *e)
{
    int fd;

    if (!e->log_path)
        return;
    fd = open_log(e->log_path);
    if (fd < 0) {
        fprintf(stderr, PROG ": failed to reopen log file '%s': %s, keeping the old one.\n",
                e->log_path, strerror(-fd));
        return;
    }
    close(e->log_fd);
    e->log_fd = fd;
    e->log_failed = false;
    status_line(e, "Reopened log file %s", e->log_path);
}

/* Handles every queued signal; returns true once TERM or INT arrived. */
static bool handle_signals(struct echo *e)
{
    struct signalfd_siginfo si;
    bool stop = false;

    while (read(e->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP)
            reopen_log(e);
        else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
            stop = true;
    }
    return stop;
}

/* Runs until TERM or INT (returns 0) or a read error (logs, returns a negative errno). */
static int run(struct echo *e)
{
    for (;;) {
        struct pollfd p[2] = {
            {.fd = e->fifo_fd, .events = POLLIN},
            {.fd = e->sig_fd, .events = POLLIN},
        };

        if (poll(p, 2, -1) < 0) {
            int r = -errno;
            if (r == -EINTR)
                continue;
            fprintf(stderr, PROG ": failed to poll: %s\n", strerror(-r));
            return r;
        }
        /* The FIFO first: lines that arrived together with TERM are printed before we stop. */
        if (p[0].revents) {
            ssize_t r = read_fifo(e, SIZE_MAX);
            if (r < 0) {
                fprintf(stderr, PROG ": failed to read FIFO: %s\n", strerror((int)-r));
                return (int)r;
            }
        }
        if (p[1].revents && handle_signals(e))
            return 0;
    }
}

/* Releases everything; removes the FIFO only if we created it and the path still names it
 * (someone may have replaced it meanwhile). Accepts a half-built echo. */
static void echo_done(struct echo *e)
{
    struct stat st;

    if (e->created && lstat(e->fifo_path, &st) == 0 && S_ISFIFO(st.st_mode) &&
        st.st_dev == e->fifo_dev && st.st_ino == e->fifo_ino && unlink(e->fifo_path) < 0)
        fprintf(stderr, PROG ": failed to remove FIFO '%s': %s\n", e->fifo_path, strerror(errno));
    if (e->spare_fd >= 0)
        close(e->spare_fd);
    if (e->fifo_fd >= 0)
        close(e->fifo_fd);
    if (e->sig_fd >= 0)
        close(e->sig_fd);
    if (e->log_fd >= 0)
        close(e->log_fd);
    free(e->fifo_path);
    free(e->msg);
    free(e->rec);
}

int main(int argc, char **argv)
{
    struct options o = {.mode = DEFAULT_MODE, .max_message = DEFAULT_MAX_MESSAGE};
    struct echo e = {.fifo_fd = -1, .spare_fd = -1, .sig_fd = -1, .log_fd = -1};
    int n_fds, r, ret = EXIT_FAILURE;

    r = parse_args(argc, argv, &o);
    if (r >= 0)
        return r;

    /* Before anything else, so that a TERM during start-up waits for the loop instead of
     * killing us with a FIFO left behind. */
    e.sig_fd = setup_signals();
    if (e.sig_fd < 0) {
        fprintf(stderr, PROG ": failed to set up signals: %s\n", strerror(-e.sig_fd));
        return EXIT_FAILURE;
    }

    n_fds = listen_fds();
    if (n_fds == 0 && !o.fifo) {
        /* systemd's RuntimeDirectory= may list several directories; the first is ours. */
        const char *env = getenv("RUNTIME_DIRECTORY");
        static char first[PATH_MAX];

        if (!o.runtime_dir && env && *env && *env != ':') {
            snprintf(first, sizeof(first), "%.*s", (int)strcspn(env, ":"), env);
            o.runtime_dir = first;
        }
        if (!o.runtime_dir) {
            ret = usage_error("no FIFO: give --fifo or --runtime-dir, or set $RUNTIME_DIRECTORY");
            goto out;
        }
    }

    e.max = o.max_message;
    e.msg = malloc(e.max);
    e.rec_size = e.max + RECORD_SLACK;
    e.rec = malloc(e.rec_size);
    if (!e.msg || !e.rec) {
        fprintf(stderr, PROG ": out of memory\n");
        goto out;
    }

    /* The log file before the FIFO: a bad log path then leaves no FIFO behind. */
    if (o.log) {
        e.log_path = o.log;
        e.log_fd = open_log(o.log);
        if (e.log_fd < 0) {
            fprintf(stderr, PROG ": failed to open log file '%s': %s\n", o.log,
                    strerror(-e.log_fd));
            goto out;
        }
    }

    if (n_fds > 0) {
        if (use_activated_fifo(&e, n_fds) < 0)
            goto out;
        status_line(&e, "Listening on fd %d (socket activation)", SD_LISTEN_FDS_START);
    } else {
        e.fifo_path = o.fifo ? strdup(o.fifo) : fifo_path_in(o.runtime_dir);
        if (!e.fifo_path) {
            fprintf(stderr, PROG ": out of memory\n");
            goto out;
        }
        if (open_fifo_path(&e, o.mode) < 0)
            goto out;
        status_line(&e, "Listening on %s", e.fifo_path);
    }

    if (run(&e) < 0)
        goto out;

    drain(&e);
    /* A last message without its newline is still a message. */
    if (e.len > 0 || e.dropped > 0)
        emit_message(&e);
    status_line(&e, "Service stopping...");
    ret = EXIT_SUCCESS;
out:
    echo_done(&e);
    return ret;
}
