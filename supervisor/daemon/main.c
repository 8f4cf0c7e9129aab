/* minisupd: options and paths, the single-instance lock of the course notes (an fcntl write
 * lock on the pid file), the loop with its signal watchers, and the shutdown order: stop every
 * unit, drain their output, close every handle, and exit 0 once the loop is empty. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "control.h"
#include "journal.h"
#include "log.h"
#include "manager.h"
#include "paths.h"
#include "proc.h"
#include "service.h"

struct daemon {
    uv_loop_t loop;
    uv_signal_t sig_term, sig_int, sig_hup;
    struct journal *journal;
    struct manager *manager;
    struct control *control;
    bool stopping;
    int exit_code;
};

static void usage(FILE *f)
{
    fputs("Usage: minisupd -d DIR [--runtime-dir DIR] [--log-dir DIR] [--debug]\n"
          "\n"
          "Supervise the services described by the unit files in DIR.\n"
          "\n"
          "  -d, --unit-dir DIR     unit files (*.service) to load\n"
          "      --runtime-dir DIR  socket, pid file and FIFOs ($MINISUP_RUNTIME_DIR;\n"
          "                         default /run/minisup, or $XDG_RUNTIME_DIR/minisup)\n"
          "      --log-dir DIR      the journal ($MINISUP_LOG_DIR; default /var/log/minisup,\n"
          "                         or $XDG_STATE_HOME/minisup)\n"
          "      --debug            log state changes\n"
          "  -h, --help             show this help\n"
          "      --version          show the version\n",
          f);
}

/* Takes the fcntl write lock on the pid file and writes our pid into it; the lock lives as long
 * as the fd, which stays open (CLOEXEC) for the daemon's lifetime. */
static int take_instance_lock(const char *runtime_dir, int *ret_fd)
{
    char *path = path_join(runtime_dir, MINISUP_PIDFILE_NAME);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    char buf[32];
    int fd, n;

    if (!path)
        return -ENOMEM;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        int r = -errno;
        log_error_errno(r, "Failed to open '%s'", path);
        free(path);
        return r;
    }
    if (fcntl(fd, F_SETLK, &fl) < 0) {
        struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        if (fcntl(fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK)
            log_error("Another minisupd (pid %d) is already running with runtime directory "
                      "'%s' (lock on '%s'); refusing to start.",
                      (int)who.l_pid, runtime_dir, path);
        else
            log_error("Failed to lock '%s': %s", path, strerror(errno));
        close(fd);
        free(path);
        return -EBUSY;
    }
    n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
        log_warning("Failed to write pid to '%s': %s", path, strerror(errno));
    free(path);
    *ret_fd = fd;
    return 0;
}

static void on_child_exit(pid_t pid, const struct exit_info *exit, void *userdata)
{
    struct daemon *d = userdata;

    if (d->manager)
        manager_child_exited(d->manager, pid, exit->code, exit->status);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void on_units_stopped(void *userdata)
{
    struct daemon *d = userdata;

    log_info("All units stopped; exiting.");
    control_close(d->control);
    d->control = NULL;
    manager_free(d->manager);
    d->manager = NULL;
    journal_close(d->journal);
    d->journal = NULL;
    proc_reaper_stop();
    uv_close((uv_handle_t *)&d->sig_term, NULL);
    uv_close((uv_handle_t *)&d->sig_int, NULL);
    uv_close((uv_handle_t *)&d->sig_hup, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;

    if (signum == SIGHUP) {
        /* The notes' convention: SIGHUP re-reads the configuration. */
        if (!d->stopping) {
            int r = manager_reload(d->manager);
            if (r < 0)
                log_error_errno(r, "Failed to reload unit files");
        }
        return;
    }
    if (d->stopping)
        return;
    d->stopping = true;
    log_info("Received %s; stopping all units.", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    manager_shutdown(d->manager, on_units_stopped, d);
}

static char *self_dir(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = '\0';
    return strdup(buf);
}

static char *absolute(const char *p)
{
    char *r = realpath(p, NULL);

    return r ? r : strdup(p);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"unit-dir", required_argument, NULL, 'd'},
        {"runtime-dir", required_argument, NULL, 'R'},
        {"log-dir", required_argument, NULL, 'L'},
        {"debug", no_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {0},
    };
    struct daemon d = {0};
    char *unit_dir = NULL, *runtime_dir = NULL, *log_dir = NULL, *bin_dir = NULL;
    char *socket_path = NULL;
    int c, r, lock_fd = -1;

    while ((c = getopt_long(argc, argv, "d:h", options, NULL)) >= 0) {
        switch (c) {
        case 'd':
            free(unit_dir);
            unit_dir = absolute(optarg);
            break;
        case 'R':
            free(runtime_dir);
            runtime_dir = strdup(optarg);
            break;
        case 'L':
            free(log_dir);
            log_dir = strdup(optarg);
            break;
        case 'D':
            log_max_level = LOG_DEBUG;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("minisupd %s\n", MINISUP_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!unit_dir || optind < argc) {
        usage(stderr);
        return 2;
    }
    if (!runtime_dir)
        runtime_dir = paths_default_runtime_dir();
    if (!log_dir)
        log_dir = paths_default_log_dir();
    bin_dir = self_dir();
    if (!runtime_dir || !log_dir) {
        log_error("Out of memory.");
        return 1;
    }

    /* A write to a client that went away must be an EPIPE, not our death. */
    signal(SIGPIPE, SIG_IGN);

    r = mkdir_p(runtime_dir, 0755);
    if (r < 0) {
        log_error_errno(r, "Failed to create runtime directory '%s'", runtime_dir);
        return 1;
    }
    r = take_instance_lock(runtime_dir, &lock_fd);
    if (r < 0)
        return 1;
    r = mkdir_p(log_dir, 0755);
    if (r < 0) {
        log_error_errno(r, "Failed to create log directory '%s'", log_dir);
        return 1;
    }
    socket_path = path_join(runtime_dir, MINISUP_SOCKET_NAME);

    uv_loop_init(&d.loop);
    r = journal_new(&d.loop, log_dir, &d.journal);
    if (r < 0) {
        log_error_errno(r, "Failed to open the journal in '%s'", log_dir);
        d.exit_code = 1;
        goto out;
    }
    struct manager_options mo = {
        .unit_dir = unit_dir,
        .runtime_dir = runtime_dir,
        .log_dir = log_dir,
        .bin_dir = bin_dir,
    };
    r = manager_new(&d.loop, &mo, d.journal, &d.manager);
    if (r < 0) {
        log_error_errno(r, "Failed to set up the manager");
        d.exit_code = 1;
        goto out;
    }
    r = proc_reaper_start(&d.loop, on_child_exit, &d);
    if (r < 0) {
        log_error("Failed to watch SIGCHLD: %s", uv_strerror(r));
        d.exit_code = 1;
        goto out;
    }
    r = manager_load(d.manager);
    if (r < 0) {
        log_error_errno(r, "Failed to read unit directory '%s'", unit_dir);
        d.exit_code = 1;
        goto out;
    }
    if (r > 0)
        log_warning("%d unit(s) failed to load; the others are unaffected.", r);

    struct control_info info = {
        .version = MINISUP_VERSION,
        .runtime_dir = runtime_dir,
        .log_dir = log_dir,
        .unit_dir = unit_dir,
    };
    r = control_new(&d.loop, socket_path, &info, d.manager, d.journal, &d.control);
    if (r < 0) {
        log_error("Failed to listen on '%s': %s", socket_path, uv_strerror(r));
        d.exit_code = 1;
        goto out;
    }

    uv_signal_init(&d.loop, &d.sig_term);
    uv_signal_init(&d.loop, &d.sig_int);
    uv_signal_init(&d.loop, &d.sig_hup);
    d.sig_term.data = d.sig_int.data = d.sig_hup.data = &d;
    uv_signal_start(&d.sig_term, on_signal, SIGTERM);
    uv_signal_start(&d.sig_int, on_signal, SIGINT);
    uv_signal_start(&d.sig_hup, on_signal, SIGHUP);

    log_info("minisupd %s (pid %d): %zu unit(s) from %s", MINISUP_VERSION, (int)getpid(),
             manager_unit_count(d.manager), unit_dir);
    log_info("control socket: %s", socket_path);
    log_info("journal: %s", log_dir);

    manager_start_default(d.manager);
    uv_run(&d.loop, UV_RUN_DEFAULT);

out:
    /* Fatal start-up errors land here with handles still open: close them all. */
    if (d.manager) {
        manager_free(d.manager);
        d.manager = NULL;
    }
    if (d.journal) {
        journal_close(d.journal);
        d.journal = NULL;
    }
    uv_walk(&d.loop, close_walk, NULL);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&d.loop) != 0)
        log_warning("Event loop still had open handles at exit.");
    if (lock_fd >= 0)
        close(lock_fd);
    free(socket_path);
    free(unit_dir);
    free(runtime_dir);
    free(log_dir);
    free(bin_dir);
    return d.exit_code;
}
