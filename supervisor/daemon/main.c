/* minisupd: options and paths, the single-instance lock of the course notes (an fcntl write
 * lock on the pid file), the loop with its signal watchers, and the shutdown order: stop every
 * unit, drain their output, close every handle, and exit 0 once the loop is empty. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "config.h"
#include "control.h"
#include "journal.h"
#include "log.h"
#include "manager.h"
#include "paths.h"
#include "proc.h"
#include "service.h"
#include "unit_file.h"
#include "unit_verify.h"
#include "values.h"

struct daemon {
    uv_loop_t loop;
    bool log_to_console;
    const char *exit_with; /* --exit-with UNIT */
    int ready_fd;          /* --daemonize: tells the waiting parent we are up */
    uv_signal_t sig_term, sig_int, sig_hup;
    struct journal *journal;
    struct manager *manager;
    struct control *control;
    struct unit *exit_unit;
    bool exit_unit_started;
    bool stopping;
    int exit_code;
};

static void usage(FILE *f)
{
    fputs(
        "Usage: minisupd -d DIR [--runtime-dir DIR] [--log-dir DIR] [OPTIONS]\n"
        "\n"
        "Supervise the services described by the unit files in DIR.\n"
        "\n"
        "  -d, --unit-dir DIR     unit files (*.service, *.socket) to load\n"
        "      --runtime-dir DIR  socket, pid file and FIFOs ($MINISUP_RUNTIME_DIR;\n"
        "                         default /run/minisup, or $XDG_RUNTIME_DIR/minisup)\n"
        "      --log-dir DIR      the journal ($MINISUP_LOG_DIR; default /var/log/minisup,\n"
        "                         or $XDG_STATE_HOME/minisup)\n"
        "      --state-dir DIR    StateDirectory= base, %S ($MINISUP_STATE_DIR; default\n"
        "                         /var/lib/minisup, or $XDG_STATE_HOME/minisup/lib)\n"
        "      --admin-group GROUP  members may start, stop and read logs like root\n"
        "      --pidfile FILE     the pid file holding the single-instance lock\n"
        "                         (default <runtime-dir>/minisupd.pid)\n"
        "      --log-to-console   mirror service output to stdout (docker logs)\n"
        "      --exit-with UNIT   exit when UNIT ends, with its exit code, after stopping\n"
        "                         the other units (containers)\n"
        "      --daemonize        detach in the classic way (fork, setsid, fork, umask,\n"
        "                         chdir /, /dev/null on 0-2); the parent exits once the\n"
        "                         control socket accepts connections\n"
        "      --config FILE      journal settings ([Journal] SystemMaxUse=, SystemMaxFileSize=,\n"
        "                         MaxUnitUse=, LineMax=, RateLimitIntervalSec=,\n"
        "                         RateLimitBurst=, SyncIntervalSec=); also $MINISUP_CONFIG\n"
        "      --journal-max-use SIZE, --journal-max-file-size SIZE\n"
        "                         journal caps (K, M, G suffixes), over the config file\n"
        "      --verify           load the units, print their diagnostics, start nothing;\n"
        "                         exit 1 if any unit fails to load\n"
        "      --debug            log state changes\n"
        "  -h, --help             show this help\n"
        "      --version          show the version\n",
        f);
}

/* Takes the fcntl write lock on the pid file and writes our pid into it; the lock lives as long
 * as the fd, which stays open (CLOEXEC) for the daemon's lifetime. */
static int take_instance_lock(const char *runtime_dir, const char *pidfile, int *ret_fd)
{
    char *path = pidfile ? strdup(pidfile) : path_join(runtime_dir, MINISUP_PIDFILE_NAME);
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

/* Under systemd (Type=notify), say when we are ready and when we stop: sd_notify(3) by hand,
 * one datagram to $NOTIFY_SOCKET ("@" means the abstract namespace). */
static void notify_service_manager(const char *message)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n;
    int fd;

    if (!path || !*path || (path[0] != '/' && path[0] != '@'))
        return;
    n = strlen(path);
    if (n >= sizeof(sa.sun_path))
        return;
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@')
        sa.sun_path[0] = '\0';
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    (void)sendto(fd, message, strlen(message), MSG_NOSIGNAL, (struct sockaddr *)&sa,
                 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
    close(fd);
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

/* Whether minisupd's own log printed this record already: the manager's messages about a unit
 * ("a.service: Started a.service.") go to the journal and, through log_full(), to stderr. They
 * carry the unit's name in front; the journal's own notices about a unit ("Suppressed N
 * messages from a.service") do not, and reach the console only through the mirror. */
static bool console_logged(const struct journal_record *r)
{
    size_t n = strlen(r->unit);

    return r->stream == JOURNAL_STREAM_MANAGER && r->message_len > n + 1 &&
           memcmp(r->message, r->unit, n) == 0 && r->message[n] == ':' && r->message[n + 1] == ' ';
}

/* --log-to-console: every record, as "unit: message", so `docker logs` shows them; minisupd's
 * own messages only once, on stderr, where its log puts them (debug ones only with --debug). */
static void on_console_records(const struct journal_record *recs, size_t n, void *userdata)
{
    for (size_t i = 0; i < n; i++) {
        const struct journal_record *r = &recs[i];
        if (console_logged(r))
            continue;
        struct iovec iov[4] = {
            /* writev only reads these; iovec's non-const pointer is historical. */
            {(void *)(uintptr_t)r->unit, strlen(r->unit)},
            {(void *)(uintptr_t) ": ", 2},
            {(void *)(uintptr_t)r->message, r->message_len},
            {(void *)(uintptr_t) "\n", 1},
        };
        /* Console output is best effort: a closed stdout must not stop the journal. */
        (void)!writev(STDOUT_FILENO, iov, 4);
    }
}

static void start_shutdown(struct daemon *d, const char *why)
{
    if (d->stopping)
        return;
    d->stopping = true;
    notify_service_manager("STOPPING=1");
    log_info("%s; stopping all units.", why);
    manager_shutdown(d->manager, on_units_stopped, d);
}

/* `minisupctl shutdown` (the Shutdown method): the same path as SIGTERM. */
static void on_shutdown_request(void *userdata)
{
    start_shutdown(userdata, "Shutdown requested");
}

/* --exit-with: the container lives as long as its main unit. */
static void on_unit_changed(struct unit *u, void *userdata)
{
    struct daemon *d = userdata;
    struct unit_status st;

    if (u != d->exit_unit || d->stopping)
        return;
    manager_unit_status(u, &st);
    if (strcmp(st.active_state, "inactive") != 0 && strcmp(st.active_state, "failed") != 0) {
        d->exit_unit_started = true;
        return;
    }
    if (!d->exit_unit_started)
        return;
    d->exit_code = unit_exit_code(u);
    char why[300];
    snprintf(why, sizeof(why), "%s ended (exit code %d)", st.name, d->exit_code);
    start_shutdown(d, why);
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
    start_shutdown(d, signum == SIGTERM ? "Received SIGTERM" : "Received SIGINT");
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

/* The classic daemon steps of the course notes (001_*.txt): fork (the shell gets its prompt
 * back), setsid (no controlling terminal), fork again (never reacquire one), umask, chdir("/"),
 * /dev/null on 0-2. Returns 1 in the original parent once the daemon reported ready (or fails
 * with -1 if it did not), 0 in the daemon with *ready_fd to report on. */
static int daemonize_classic(int *ready_fd)
{
    int p[2];
    pid_t pid;
    char c;

    if (pipe2(p, O_CLOEXEC) < 0)
        return log_error_errno(-errno, "Failed to create a pipe");
    pid = fork();
    if (pid < 0)
        return log_error_errno(-errno, "Failed to fork");
    if (pid > 0) {
        close(p[1]);
        ssize_t n;
        do
            n = read(p[0], &c, 1);
        while (n < 0 && errno == EINTR);
        close(p[0]);
        (void)waitpid(pid, NULL, 0);
        if (n == 1)
            return 1;
        log_error("The daemon failed to start; see its messages above or the journal.");
        return -1;
    }
    close(p[0]);
    if (setsid() < 0)
        _exit(1);
    pid = fork();
    if (pid < 0)
        _exit(1);
    if (pid > 0)
        _exit(0); /* the session leader goes; its child can never get a terminal back */
    umask(022);
    if (chdir("/") < 0)
        _exit(1);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0)
        _exit(1);
    /* stderr stays until start-up is over, so errors still reach the waiting terminal. */
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    close(null);
    /* Close inherited fds, except 0-2 and the readiness pipe. */
    for (int fd = 3; fd < 1024; fd++)
        if (fd != p[1])
            close(fd);
    *ready_fd = p[1];
    return 0;
}

static char *absolute_new(const char *p)
{
    char cwd[PATH_MAX];

    if (!getcwd(cwd, sizeof(cwd)))
        return strdup(p);
    return path_join(cwd, p);
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
        {"state-dir", required_argument, NULL, 'S'},
        {"admin-group", required_argument, NULL, 'G'},
        {"pidfile", required_argument, NULL, 'P'},
        {"debug", no_argument, NULL, 'D'},
        {"log-to-console", no_argument, NULL, 'C'},
        {"exit-with", required_argument, NULL, 'X'},
        {"daemonize", no_argument, NULL, 'Z'},
        {"verify", no_argument, NULL, 'Y'},
        {"config", required_argument, NULL, 'c'},
        {"journal-max-use", required_argument, NULL, 'U'},
        {"journal-max-file-size", required_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {0},
    };
    struct daemon d = {0};
    char *unit_dir = NULL, *runtime_dir = NULL, *log_dir = NULL, *bin_dir = NULL;
    char *state_dir = NULL, *pidfile = NULL;
    char *socket_path = NULL;
    int c, r, lock_fd = -1;
    bool daemonize = false, verify = false;
    const char *config_path = getenv("MINISUP_CONFIG");
    const char *admin_group = NULL;
    struct journal_limits cli_limits = {0};
    struct journal_options jopts = {0};

    d.ready_fd = -1;

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
        case 'S':
            free(state_dir);
            state_dir = strdup(optarg);
            break;
        case 'G':
            admin_group = optarg;
            break;
        case 'P':
            free(pidfile);
            pidfile = absolute_new(optarg);
            break;
        case 'D':
            log_max_level = LOG_DEBUG;
            break;
        case 'C':
            d.log_to_console = true;
            break;
        case 'X':
            d.exit_with = optarg;
            break;
        case 'Z':
            daemonize = true;
            break;
        case 'Y':
            verify = true;
            break;
        case 'c':
            config_path = optarg;
            break;
        case 'U':
        case 'F': {
            uint64_t v;
            if (parse_size(optarg, 1024, &v) < 0) {
                log_error("Failed to parse size '%s' for --%s.", optarg,
                          c == 'U' ? "journal-max-use" : "journal-max-file-size");
                d.exit_code = 2;
                goto free_paths;
            }
            if (c == 'U')
                cli_limits.max_total_use = v;
            else
                cli_limits.max_file_size = v;
            break;
        }
        case 'h':
            usage(stdout);
            goto free_paths;
        case 'V':
            printf("minisupd %s\n", MINISUP_VERSION);
            goto free_paths;
        default:
            usage(stderr);
            d.exit_code = 2;
            goto free_paths;
        }
    }
    if (!unit_dir || optind < argc) {
        usage(stderr);
        d.exit_code = 2;
        goto free_paths;
    }
    if (!runtime_dir)
        runtime_dir = paths_default_runtime_dir();
    if (!log_dir)
        log_dir = paths_default_log_dir();
    /* Every path is resolved before --daemonize changes to "/". */
    if (runtime_dir && runtime_dir[0] != '/') {
        char *abs = absolute_new(runtime_dir);
        free(runtime_dir);
        runtime_dir = abs;
    }
    if (log_dir && log_dir[0] != '/') {
        char *abs = absolute_new(log_dir);
        free(log_dir);
        log_dir = abs;
    }
    if (!state_dir)
        state_dir = paths_default_state_dir();
    if (state_dir && state_dir[0] != '/') {
        char *abs = absolute_new(state_dir);
        free(state_dir);
        state_dir = abs;
    }
    bin_dir = self_dir();
    if (!runtime_dir || !log_dir || !state_dir) {
        log_error("Out of memory.");
        d.exit_code = 1;
        goto free_paths;
    }

    if (verify) {
        /* Offline: load every unit as the daemon would, print the diagnostics, start nothing. */
        struct unit_load_context ctx = {
            .runtime_dir = runtime_dir,
            .state_dir = state_dir,
            .logs_dir = log_dir,
        };
        r = unit_verify_directory(unit_dir, &ctx, stderr);
        if (r < 0)
            log_error_errno(r, "Failed to read unit directory '%s'", unit_dir);
        else if (r > 0)
            log_error("%d unit(s) failed to load.", r);
        d.exit_code = r == 0 ? 0 : 1;
        goto free_paths;
    }

    /* A signal mask inherited from whoever started us (a blocked SIGTERM, say) would make us
     * deaf to the signals we promise to handle. Start from an empty mask. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* A write to a client that went away must be an EPIPE, not our death. */
    signal(SIGPIPE, SIG_IGN);
    proc_raise_fd_limit();

    r = mkdir_p(runtime_dir, 0755);
    if (r < 0) {
        log_error_errno(r, "Failed to create runtime directory '%s'", runtime_dir);
        d.exit_code = 1;
        goto free_paths;
    }
    if (daemonize) {
        /* Refuse in the foreground, where the user can read why; the lock itself is taken
         * again by the daemon (fcntl locks do not survive fork). */
        r = take_instance_lock(runtime_dir, pidfile, &lock_fd);
        if (r < 0) {
            d.exit_code = 1;
            goto free_paths;
        }
        close(lock_fd);
        lock_fd = -1;
        r = daemonize_classic(&d.ready_fd);
        if (r != 0) {
            /* The parent: the daemon reported ready (1), or failed (-1). */
            d.exit_code = r > 0 ? 0 : 1;
            goto free_paths;
        }
    }
    /* After --daemonize closed what we inherited, before the table fills. */
    proc_reserve_spawn_fds();
    r = take_instance_lock(runtime_dir, pidfile, &lock_fd);
    if (r < 0) {
        d.exit_code = 1;
        goto free_paths;
    }
    r = mkdir_p(log_dir, 0755);
    if (r < 0) {
        log_error_errno(r, "Failed to create log directory '%s'", log_dir);
        d.exit_code = 1;
        goto free_paths;
    }
    socket_path = path_join(runtime_dir, MINISUP_SOCKET_NAME);

    uv_loop_init(&d.loop);
    /* The config file first, then the options, which win. */
    if (config_path && *config_path) {
        r = config_load(config_path, &jopts);
        if (r < 0) {
            log_error_errno(r, "Failed to read configuration '%s'", config_path);
            d.exit_code = 1;
            goto out;
        }
    }
    if (cli_limits.max_total_use)
        jopts.limits.max_total_use = cli_limits.max_total_use;
    if (cli_limits.max_file_size)
        jopts.limits.max_file_size = cli_limits.max_file_size;
    r = journal_new(&d.loop, log_dir, &jopts, &d.journal);
    if (r < 0) {
        log_error_errno(r, "Failed to open the journal in '%s'", log_dir);
        d.exit_code = 1;
        goto out;
    }
    struct manager_options mo = {
        .unit_dir = unit_dir,
        .runtime_dir = runtime_dir,
        .state_dir = state_dir,
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
    (void)manager_sweep_stale(d.manager);

    struct control_info info = {
        .shutdown = on_shutdown_request,
        .shutdown_userdata = &d,
        .version = MINISUP_VERSION,
        .runtime_dir = runtime_dir,
        .log_dir = log_dir,
        .unit_dir = unit_dir,
    };
    if (admin_group) {
        struct group *gr = getgrnam(admin_group);
        char *end;
        long v = strtol(admin_group, &end, 10);
        if (!gr && (*end || v < 0)) {
            log_error("Unknown group '%s' for --admin-group.", admin_group);
            d.exit_code = 1;
            goto out;
        }
        info.has_admin_group = true;
        info.admin_gid = gr ? gr->gr_gid : (gid_t)v;
    }
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
    /* Spawned children reset exactly the dispositions changed by now (proc.c). */
    proc_note_signal_dispositions();

    log_info("minisupd %s (pid %d): %zu unit(s) from %s", MINISUP_VERSION, (int)getpid(),
             manager_unit_count(d.manager), unit_dir);
    log_info("control socket: %s", socket_path);
    log_info("journal: %s", log_dir);

    if (d.log_to_console && !journal_follow(d.journal, on_console_records, &d))
        log_warning("Out of memory; --log-to-console is off.");
    if (d.exit_with) {
        d.exit_unit = manager_find(d.manager, d.exit_with);
        if (!d.exit_unit) {
            log_error("Unit '%s' of --exit-with not found.", d.exit_with);
            d.exit_code = 1;
            d.stopping = true;
            manager_shutdown(d.manager, on_units_stopped, &d);
        } else {
            manager_watch(d.manager, on_unit_changed, &d, false);
        }
    }
    if (d.ready_fd >= 0) {
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, STDERR_FILENO);
            close(null);
        }
        /* The socket accepts connections now: `minisupd --daemonize && minisupctl` can't race. */
        (void)!write(d.ready_fd, "R", 1);
        close(d.ready_fd);
        d.ready_fd = -1;
    }
    if (!d.stopping) {
        manager_start_default(d.manager);
        notify_service_manager("READY=1\nSTATUS=Supervising units.");
    }
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
free_paths:
    if (lock_fd >= 0)
        close(lock_fd);
    free(socket_path);
    free(unit_dir);
    free(runtime_dir);
    free(log_dir);
    free(state_dir);
    free(pidfile);
    free(bin_dir);
    return d.exit_code;
}
