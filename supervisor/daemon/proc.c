/* Spawning done by hand rather than uv_spawn: libuv's own SIGCHLD handling would race our
 * waitid(P_ALL) reaper, and socket activation needs work between fork and exec. The child's
 * set-up follows libuv's process.c and RELIABILITY.md §4.2: new session, fds 0-2 only, default
 * signal dispositions and an empty mask, then exec; any failure goes back as (step, errno). */
#include "proc.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "service.h"

/* A service is started the way glibc's posix_spawn starts one: clone(CLONE_VM|CLONE_VFORK)
 * instead of fork. fork copies the daemon's page tables and then takes a copy-on-write fault
 * for every page either side touches, which was half of minisupd's time in starting 1000
 * units; the shared-memory child costs neither. AddressSanitizer cannot follow a child that
 * shares its shadow memory, so sanitized builds keep fork. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SPAWN_SHARES_MEMORY 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                         \
    __has_feature(memory_sanitizer)
#define SPAWN_SHARES_MEMORY 0
#endif
#endif
#ifndef SPAWN_SHARES_MEMORY
#define SPAWN_SHARES_MEMORY 1
#endif

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

enum spawn_step {
    STEP_EXEC,
    STEP_SETSID,
    STEP_STDIO,
    STEP_CHDIR,
    STEP_SIGNALS,
    STEP_LIMITS,
    STEP_RLIMIT,
    STEP_GROUPS,
    STEP_USER,
    STEP_NO_NEW_PRIVS,
    STEP_UNSHARE_FILES,
    STEP_MAX,
};

/* What the child writes into the error pipe when it cannot exec. */
struct spawn_failure {
    int step;
    int error;
    int detail; /* STEP_RLIMIT: the RLIMIT_* number */
};

static const char *const step_names[STEP_MAX] = {
    [STEP_EXEC] = "execute",
    [STEP_SETSID] = "create a new session for",
    [STEP_STDIO] = "set up standard I/O for",
    [STEP_CHDIR] = "change to the working directory for",
    [STEP_SIGNALS] = "reset signals for",
    [STEP_LIMITS] = "set resource limits or priority for",
    [STEP_RLIMIT] = "adjust a resource limit for",
    [STEP_GROUPS] = "set the groups for",
    [STEP_USER] = "change to the user of",
    [STEP_NO_NEW_PRIVS] = "set no-new-privileges for",
    [STEP_UNSHARE_FILES] = "set up the file descriptors of",
};

static void child_fail_detail(int fd, int step, int detail)
{
    struct spawn_failure f = {.step = step, .error = errno, .detail = detail};

    /* Only async-signal-safe calls from here: this is a copy of the daemon, or shares its
     * memory. */
    (void)!write(fd, &f, sizeof(f));
    _exit(127);
}

static void child_fail(int fd, int step)
{
    child_fail_detail(fd, step, -1);
}

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Nothing from lowfd up may reach the service. Marking them close-on-exec (Linux 5.11) lets
 * exec drop them in one pass, where closing each here cost the fork a flush per fd: with 1000
 * units that is thousands of pipes per spawn. */
static void close_from(int lowfd)
{
    if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return;
    if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
        return;
    /* Older kernels: close what could be open, one by one. */
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = lowfd; fd < (max > 0 ? max : 65536); fd++)
        close((int)fd);
}

static int move_fd_above(int fd, int min)
{
    if (fd < 0 || fd >= min)
        return fd;
    return fcntl(fd, F_DUPFD_CLOEXEC, min);
}

static struct rlimit original_nofile;
static bool have_original_nofile;

void proc_raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    original_nofile = rl;
    have_original_nofile = true;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl); /* best effort: the old limit still works */
    }
}

/* fs.nr_open, the most RLIMIT_NOFILE can be: read by the parent before the first spawn that sets
 * LimitNOFILE=, since the child may not open files or allocate. 0 while unknown. */
static rlim_t nr_open;
static bool nr_open_read;

static void read_nr_open(void)
{
    char buf[32];
    ssize_t n;
    int fd;

    nr_open_read = true;
    fd = open("/proc/sys/fs/nr_open", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return; /* no /proc: the hard limit still bounds the clamping */
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    nr_open = (rlim_t)strtoull(buf, NULL, 10);
}

/* systemd's setrlimit_closest(), in the child: set the limit asked for, and when that is refused
 * with EPERM (no CAP_SYS_RESOURCE to raise the hard limit), the closest we may: both values
 * clamped to the current hard limit. An infinite RLIMIT_NOFILE means fs.nr_open, the kernel's
 * ceiling, which even root cannot pass. 0, or -1 with errno set. */
static int child_setrlimit_closest(int resource, const struct rlimit *want)
{
    struct rlimit rl = *want, highest;

    if (resource == RLIMIT_NOFILE && nr_open > 0) {
        if (rl.rlim_cur > nr_open)
            rl.rlim_cur = nr_open;
        if (rl.rlim_max > nr_open)
            rl.rlim_max = nr_open;
    }
    if (setrlimit(resource, &rl) == 0)
        return 0;
    if (errno != EPERM || getrlimit(resource, &highest) < 0)
        return -1;
    /* With no hard limit to clamp to, the EPERM had another reason: report it. */
    if (highest.rlim_max == RLIM_INFINITY) {
        errno = EPERM;
        return -1;
    }
    if (rl.rlim_cur > highest.rlim_max)
        rl.rlim_cur = highest.rlim_max;
    if (rl.rlim_max > highest.rlim_max)
        rl.rlim_max = highest.rlim_max;
    return setrlimit(resource, &rl);
}

/* Writes pid in decimal over the placeholder digits of "LISTEN_PID=..........": no stdio in
 * a forked child. */
static void put_pid(char *entry, pid_t pid)
{
    char digits[16];
    int n = 0;
    char *p = strchr(entry, '=');

    if (!p)
        return;
    do {
        digits[n++] = (char)('0' + pid % 10);
        pid /= 10;
    } while (pid > 0 && n < 15);
    p++;
    while (n > 0)
        *p++ = digits[--n];
    *p = '\0';
}

/* Signals whose disposition in minisupd is not SIG_DFL (bit sig - 1): the child resets these
 * only. exec resets caught signals itself; an ignored one would be inherited, and a handler
 * could run in the child between its unblocking of signals and exec. Resetting every signal
 * took 60 system calls in every spawn, where minisupd changes five or so (and inherits a few
 * ignored ones, as under nohup). */
static uint64_t nondefault_signals;
static bool signals_noted;

void proc_note_signal_dispositions(void)
{
    uint64_t set = 0;

    for (int sig = 1; sig < NSIG && sig <= 64; sig++) {
        struct sigaction sa;
        /* glibc refuses its own two (SIGCANCEL, SIGSETXID); exec resets them anyway. */
        if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL)
            set |= UINT64_C(1) << (sig - 1);
    }
    nondefault_signals = set;
    signals_noted = true;
}

static void child_exec(const struct spawn_params *p, int errfd)
{
    sigset_t none;
    int devnull, out, err, in;
    int first_free = 3 + (int)p->n_listen_fds;
    int moved[64];
    size_t n_listen = p->n_listen_fds < 64 ? p->n_listen_fds : 64;

    if (setsid() < 0)
        child_fail(errfd, STEP_SETSID);

    /* Move every fd we still need above the range 0..2+n before dup2 onto that range. */
    errfd = move_fd_above(errfd, first_free);
    out = move_fd_above(p->stdout_fd, first_free);
    err = move_fd_above(p->stderr_fd, first_free);
    in = move_fd_above(p->stdin_fd, first_free);
    for (size_t i = 0; i < n_listen; i++)
        moved[i] = move_fd_above(p->listen_fds[i], first_free);
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0 || errfd < 0)
        child_fail(errfd < 0 ? 2 : errfd, STEP_STDIO);
    devnull = move_fd_above(devnull, first_free);
    if (dup2(in >= 0 ? in : devnull, 0) < 0 || dup2(out >= 0 ? out : devnull, 1) < 0 ||
        dup2(err >= 0 ? err : devnull, 2) < 0)
        child_fail(errfd, STEP_STDIO);
    /* dup2 clears CLOEXEC: exactly the passed fds survive exec. They go in blocking mode, as
     * systemd passes them (NonBlocking=no): minisupd's listeners are non-blocking, and a
     * plain accept() loop would fail with EAGAIN. The flag belongs to the open file, which
     * minisupd shares; it only polls it, which works either way. */
    for (size_t i = 0; i < n_listen; i++) {
        int fl;
        if (moved[i] < 0 || dup2(moved[i], 3 + (int)i) < 0)
            child_fail(errfd, STEP_STDIO);
        fl = fcntl(3 + (int)i, F_GETFL);
        if (fl >= 0 && (fl & O_NONBLOCK) && fcntl(3 + (int)i, F_SETFL, fl & ~O_NONBLOCK) < 0)
            child_fail(errfd, STEP_STDIO);
    }
    if (errfd != first_free) {
        if (dup3(errfd, first_free, O_CLOEXEC) < 0)
            child_fail(errfd, STEP_STDIO);
        errfd = first_free;
    }
    close_from(first_free + 1);
    if (p->listen_pid_env_index >= 0)
        put_pid(p->envp[p->listen_pid_env_index], getpid());
    if (p->watchdog_pid_env_index >= 0)
        put_pid(p->envp[p->watchdog_pid_env_index], getpid());
    if (p->exec_pid_env_index >= 0)
        put_pid(p->envp[p->exec_pid_env_index], getpid());

    for (int sig = 1; sig < NSIG && sig <= 64; sig++)
        if (nondefault_signals & (UINT64_C(1) << (sig - 1)))
            signal(sig, SIG_DFL);
    if (p->ignore_sigpipe)
        signal(SIGPIPE, SIG_IGN);
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
        child_fail(errfd, STEP_SIGNALS);

    if (have_original_nofile && !(p->n_rlimits > RLIMIT_NOFILE && p->rlimit_set[RLIMIT_NOFILE]) &&
        setrlimit(RLIMIT_NOFILE, &original_nofile) < 0)
        child_fail(errfd, STEP_LIMITS);
    for (size_t i = 0; i < p->n_rlimits; i++)
        if (p->rlimit_set[i] && child_setrlimit_closest((int)i, &p->rlimits[i]) < 0)
            child_fail_detail(errfd, STEP_RLIMIT, (int)i);
    if (p->nice_set && setpriority(PRIO_PROCESS, 0, p->nice) < 0)
        child_fail(errfd, STEP_LIMITS);
    umask(p->umask);
    if (p->change_user) {
        /* CERT POS36-C order: groups, then gid, then uid (after which the others are
         * impossible), each checked, then verified (POS37-C). Raw system calls: glibc's
         * wrappers would broadcast the change to every thread of the process, and a child that
         * shares the daemon's memory would signal the daemon's threads. */
        if (syscall(SYS_setgroups, p->n_groups, p->groups) < 0)
            child_fail(errfd, STEP_GROUPS);
        if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0)
            child_fail(errfd, STEP_USER);
        if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
            child_fail(errfd, STEP_USER);
        uid_t ru, eu, su;
        gid_t rg, eg, sg;
        if (getresuid(&ru, &eu, &su) < 0 || ru != p->uid || eu != p->uid || su != p->uid ||
            getresgid(&rg, &eg, &sg) < 0 || rg != p->gid || eg != p->gid || sg != p->gid)
            child_fail(errfd, STEP_USER);
        if (p->uid != 0 && syscall(SYS_setuid, 0) == 0) {
            errno = EPERM;
            child_fail(errfd, STEP_USER);
        }
    }
    if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_fail(errfd, STEP_NO_NEW_PRIVS);
    /* If minisupd dies (kill -9), its services go too rather than run on unsupervised
     * (RELIABILITY R7). Set after the user change, which clears it; then make sure the parent
     * did not die before it took effect. */
    if (p->parent_pid > 0) {
        (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != p->parent_pid)
            _exit(128 + SIGTERM);
    }
    /* After the user change, so the service user's permissions apply to its directory. */
    if (chdir(p->working_directory ? p->working_directory : "/") < 0) {
        if (!p->working_directory_optional)
            child_fail(errfd, STEP_CHDIR);
        (void)!chdir("/");
    }
    execve(p->path, p->argv, p->envp);
    child_fail(errfd, STEP_EXEC);
}

/* Set when the kernel cannot give a CLONE_FILES child its own table (before Linux 5.9). */
static bool unshare_unsupported;

#if SPAWN_SHARES_MEMORY
/* The child shares the daemon's fd table too (CLONE_FILES) and its first act is to take a
 * private copy of fds 0..keep_below-1 only (close_range CLOSE_RANGE_UNSHARE, Linux 5.9).
 * Copying the daemon's whole table, thousands of pipes with 1000 units, and closing all of it
 * again at exec cost each spawn time proportional to the number of units: a third of all CPU
 * in starting 1000 units. What the child needs is first put into a few fds reserved low in
 * the table ("slots", /dev/null while unused). */
#define SPAWN_SLOTS 12
static int slot_fd[SPAWN_SLOTS];
static int slot_null = -1; /* what a slot holds between spawns */
static int slot_top = -1;  /* the highest slot: a child keeps 0..slot_top */

void proc_reserve_spawn_fds(void)
{
    int null;

    if (slot_null >= 0 || unshare_unsupported)
        return;
    /* valgrind runs only the clone flags of fork and vfork, and aborts on CLONE_FILES; it
     * announces itself by preloading its core into the process. */
    const char *preload = getenv("LD_PRELOAD");
    if (preload && strstr(preload, "vgpreload")) {
        unshare_unsupported = true;
        return;
    }
    null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0)
        return;
    for (int i = 0; i < SPAWN_SLOTS; i++) {
        slot_fd[i] = fcntl(null, F_DUPFD_CLOEXEC, 3);
        if (slot_fd[i] < 0) {
            while (i-- > 0)
                close(slot_fd[i]);
            close(null);
            return;
        }
        if (slot_fd[i] > slot_top)
            slot_top = slot_fd[i];
    }
    slot_null = null;
}

/* Puts fd into the next free slot; -1 stays -1. False when the slots do not suffice. */
static bool slot_take(int *fd, int *n_used)
{
    if (*fd < 0)
        return true;
    if (*n_used >= SPAWN_SLOTS || dup3(*fd, slot_fd[*n_used], O_CLOEXEC) < 0)
        return false;
    *fd = slot_fd[(*n_used)++];
    return true;
}

/* Back to /dev/null, so the daemon holds no extra reference to a service's pipe. */
static void slots_release(int n_used)
{
    for (int i = 0; i < n_used; i++)
        if (dup3(slot_null, slot_fd[i], O_CLOEXEC) < 0) {
            /* Cannot happen short of a kernel bug; never leave a pipe end held. */
            close(slot_fd[i]);
            unshare_unsupported = true;
        }
}

struct child_args {
    const struct spawn_params *p;
    int errfd;
    int keep_below; /* CLONE_FILES: unshare keeping fds below this; else -1 */
    int unused_fd;  /* without CLONE_FILES: the parent's end of the error pipe */
};

/* The child runs here on its own stack, in the daemon's memory, while the daemon's thread waits
 * for its exec (CLONE_VFORK): so it may change nothing but its own stack, kernel state and the
 * LISTEN_PID digits, and one static stack serves every spawn. */
static char child_stack[64 * 1024] __attribute__((aligned(16)));

static int child_main(void *arg)
{
    const struct child_args *a = arg;

    if (a->keep_below >= 0) {
        /* Until this succeeds the table is the daemon's: nothing here may open or close. */
        if (syscall(SYS_close_range, (unsigned)a->keep_below, ~0U, CLOSE_RANGE_UNSHARE) < 0)
            child_fail(a->errfd, STEP_UNSHARE_FILES);
    } else {
        close(a->unused_fd);
    }
    child_exec(a->p, a->errfd);
    return 127;
}

/* clone(CLONE_VM|CLONE_VFORK): returns once the child has exec'd or exited. */
static pid_t spawn_shared(const struct spawn_params *p, int errpipe[2], bool *ret_files_shared)
{
    struct spawn_params q = *p;
    int listen[64];
    int n_used = 0;
    bool share;
    struct child_args args = {
        .p = &q, .errfd = errpipe[1], .keep_below = -1, .unused_fd = errpipe[0]};
    int flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
    pid_t pid;

    proc_reserve_spawn_fds();
    share = !unshare_unsupported && slot_null >= 0 && p->n_listen_fds <= 64;
    if (share) {
        share = slot_take(&args.errfd, &n_used) && slot_take(&q.stdin_fd, &n_used) &&
                slot_take(&q.stdout_fd, &n_used) && slot_take(&q.stderr_fd, &n_used);
        for (size_t i = 0; share && i < p->n_listen_fds; i++) {
            listen[i] = p->listen_fds[i];
            share = slot_take(&listen[i], &n_used);
        }
        if (!share) {
            slots_release(n_used);
            n_used = 0;
            q = *p;
            args.errfd = errpipe[1];
        } else {
            q.listen_fds = listen;
            args.keep_below = slot_top + 1;
            flags |= CLONE_FILES;
        }
    }
    pid = clone(child_main, child_stack + sizeof(child_stack), flags, &args);
    int saved = errno;
    slots_release(n_used);
    errno = saved;
    *ret_files_shared = share;
    return pid;
}
#else
void proc_reserve_spawn_fds(void)
{
}
#endif

static void format_failure(const struct spawn_failure *f, const char *path, char *err, size_t size)
{
    static const char *const rlimit_names[] = {
        [RLIMIT_CPU] = "RLIMIT_CPU",           [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
        [RLIMIT_DATA] = "RLIMIT_DATA",         [RLIMIT_STACK] = "RLIMIT_STACK",
        [RLIMIT_CORE] = "RLIMIT_CORE",         [RLIMIT_RSS] = "RLIMIT_RSS",
        [RLIMIT_NOFILE] = "RLIMIT_NOFILE",     [RLIMIT_AS] = "RLIMIT_AS",
        [RLIMIT_NPROC] = "RLIMIT_NPROC",       [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",
        [RLIMIT_LOCKS] = "RLIMIT_LOCKS",       [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
        [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
        [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",     [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
    };

    /* systemd: "Failed to adjust resource limit RLIMIT_NOFILE: ...", with our path added. */
    if (f->step == STEP_RLIMIT && f->detail >= 0 &&
        (size_t)f->detail < sizeof(rlimit_names) / sizeof(rlimit_names[0]) &&
        rlimit_names[f->detail]) {
        snprintf(err, size, "Failed to adjust resource limit %s for '%s': %s",
                 rlimit_names[f->detail], path, strerror(f->error));
        return;
    }
    snprintf(err, size, "Failed to %s '%s': %s",
             f->step >= 0 && f->step < STEP_MAX ? step_names[f->step] : "start", path,
             strerror(f->error));
}

int proc_exec_result(int fd, const char *path, char *ret_error, size_t error_size)
{
    struct spawn_failure f;
    ssize_t n;

    do
        n = read(fd, &f, sizeof(f));
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN)
        return 0;
    if (n == (ssize_t)sizeof(f)) {
        format_failure(&f, path, ret_error, error_size);
        return f.error > 0 ? -f.error : -EIO;
    }
    return 1; /* EOF: the exec closed the pipe */
}

int proc_spawn(const struct spawn_params *p, struct spawn_result *ret, char *ret_error,
               size_t error_size)
{
    struct spawn_failure f;
    int errpipe[2];
    sigset_t all, old;
    pid_t pid;
    ssize_t n;
    bool files_shared = false;

again:
    /* Non-blocking: with the shared-memory spawn the outcome is already known when clone
     * returns, and the asynchronous watch reads it from the loop. */
    if (pipe2(errpipe, O_CLOEXEC | (SPAWN_SHARES_MEMORY || p->async_exec ? O_NONBLOCK : 0)) < 0) {
        int r = -errno;
        snprintf(ret_error, error_size, "Failed to create a pipe for '%s': %s", p->path,
                 strerror(-r));
        return r;
    }
    if (!signals_noted)
        proc_note_signal_dispositions();
    if (!nr_open_read && p->n_rlimits > RLIMIT_NOFILE && p->rlimit_set[RLIMIT_NOFILE])
        read_nr_open();
    /* Block signals across fork so no libuv handler runs in the child before it resets them. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
#if SPAWN_SHARES_MEMORY
    pid = spawn_shared(p, errpipe, &files_shared);
#else
    pid = fork();
    if (pid == 0) {
        close(errpipe[0]);
        child_exec(p, errpipe[1]);
    }
#endif
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(errpipe[1]);
    if (pid < 0) {
        close(errpipe[0]);
        snprintf(ret_error, error_size, "Failed to fork for '%s': %s", p->path,
                 strerror(fork_errno));
        return -fork_errno;
    }

    ret->exec_fd = -1;
    if (SPAWN_SHARES_MEMORY || !p->async_exec) {
        /* EOF (or, shared, nothing yet: the exec is past its point of no return) means exec
         * happened (the pipe is CLOEXEC); a record means it did not. */
        do
            n = read(errpipe[0], &f, sizeof(f));
        while (n < 0 && errno == EINTR);
        close(errpipe[0]);
        if (n == (ssize_t)sizeof(f)) {
            /* The child _exit()s right after its report: reaped here, at once, so that no
             * search for leftovers or escaped processes meets it in between (it would be
             * named "minisupd" and said to remain running). */
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
            if (f.step == STEP_UNSHARE_FILES && files_shared) {
                /* A kernel before 5.9: copy the whole table from now on. */
                unshare_unsupported = true;
                goto again;
            }
            format_failure(&f, p->path, ret_error, error_size);
            return f.error > 0 ? -f.error : -EIO;
        }
    } else {
        /* The caller watches the pipe: the loop goes on while the child execs. */
        ret->exec_fd = errpipe[0];
    }
    ret->pid = pid;
    /* pidfd_open(2) always sets close-on-exec: no fcntl needed. */
    ret->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    return 0;
}

int proc_pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int proc_kill(int pidfd, pid_t pid, int sig, bool group)
{
    int r;

    if (group)
        r = kill(-pid, sig);
    else if (pidfd >= 0)
        r = (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
    else
        r = kill(pid, sig);
    return r < 0 ? -errno : 0;
}

/* Our direct children, from /proc/self/task/<tid>/children of the main thread: it forks every
 * child, and the kernel hands orphans to a subreaper's first live thread, which is it. */
static size_t own_children(pid_t *out, size_t max)
{
    char path[64], *pid = NULL;
    size_t n = 0, cap = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
    f = fopen(path, "re");
    if (!f)
        return 0;
    /* "pid pid ... ": read to the end, however many (16384 children are up to 128 KiB of
     * text); one 64 KiB buffer reads the usual list at once. */
    (void)setvbuf(f, NULL, _IOFBF, 65536);
    while (n < max && getdelim(&pid, &cap, ' ', f) > 0) {
        char *end;
        long v = strtol(pid, &end, 10);
        if (end == pid)
            break;
        out[n++] = (pid_t)v;
    }
    free(pid);
    fclose(f);
    return n;
}

/* minisupd's children that no unit tracks, as the escaped-process sweep last listed them.
 * Listing our children reads /proc/self/task/<tid>/children, which names every child (1000
 * units: 1000 pids, O(N) in the kernel), and asks is_tracked() of each; done once per group
 * check, stopping N units cost O(N^2). The list is kept until something may have changed it
 * in a way we can see coming:
 *  - a child was reaped: the orphans it left were reparented to us when it exited, perhaps
 *    after the listing;
 *  - a tracked child stopped being tracked while alive (proc_children_changed());
 *  - the loop is about to wait (a uv_prepare handle): an orphan whose parent was not ours is
 *    adopted without any event we could watch, so no list outlives one turn of the loop.
 * Children spawned after the listing are tracked, so it needs them not. Without a running
 * reaper (no loop) nothing is kept. */
#define CHILDREN_MAX 16384
static struct {
    bool enabled; /* the reaper runs, so the prepare handle ends every list */
    bool valid;
    bool (*is_tracked)(pid_t pid, void *userdata);
    void *userdata;
    size_t n;
    pid_t pids[CHILDREN_MAX];
} untracked;
static uv_prepare_t untracked_prepare;

void proc_children_changed(void)
{
    untracked.valid = false;
}

static void on_untracked_prepare(uv_prepare_t *h)
{
    untracked.valid = false;
}

/* Our children that is_tracked() did not know at the last listing; the caller asks it again,
 * since a child may have become tracked since (Type=forking's daemon). */
static size_t untracked_children(bool (*is_tracked)(pid_t pid, void *userdata), void *userdata,
                                 const pid_t **ret_pids)
{
    static pid_t children[CHILDREN_MAX];

    if (!untracked.valid || untracked.is_tracked != is_tracked || untracked.userdata != userdata) {
        size_t n = own_children(children, CHILDREN_MAX), k = 0;
        for (size_t i = 0; i < n; i++)
            if (!is_tracked || !is_tracked(children[i], userdata))
                untracked.pids[k++] = children[i];
        untracked.n = k;
        untracked.is_tracked = is_tracked;
        untracked.userdata = userdata;
        untracked.valid = untracked.enabled;
    }
    *ret_pids = untracked.pids;
    return untracked.n;
}

void proc_invocation(pid_t pid, char *ret, size_t size)
{
    static const char key[] = "INVOCATION_ID=";
    char path[64], buf[65536];
    ssize_t len;
    int fd;

    ret[0] = '\0';
    snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    len = read(fd, buf, sizeof(buf));
    close(fd);
    /* Entries are NUL-terminated; one cut off by the buffer's end does not count. */
    for (ssize_t off = 0; len > 0 && off < len;) {
        const char *entry = buf + off;
        size_t l = strnlen(entry, (size_t)(len - off));
        if (off + (ssize_t)l < len && l >= sizeof(key) - 1 &&
            memcmp(entry, key, sizeof(key) - 1) == 0) {
            snprintf(ret, size, "%s", entry + sizeof(key) - 1);
            return;
        }
        off += (ssize_t)l + 1;
    }
}

bool proc_has_invocation(pid_t pid, const char *invocation)
{
    char found[64];

    if (!invocation || !*invocation)
        return false;
    proc_invocation(pid, found, sizeof(found));
    return strcmp(found, invocation) == 0;
}

int proc_signal_escaped(const char *invocation, const pid_t *groups, size_t n_groups, int sig,
                        bool (*is_tracked)(pid_t pid, void *userdata), void *userdata)
{
    const pid_t *children;
    size_t n;
    int found = 0;

    if (!invocation || !*invocation)
        return 0;
    /* A process that left its group has lost its parent too (that is how it escaped: fork,
     * setsid, parent exits), so as a subreaper we are its parent now: only our own children
     * need a look, not all of /proc, and of those only the ones no unit tracks. */
    n = untracked_children(is_tracked, userdata, &children);
    for (size_t k = 0; k < n; k++) {
        pid_t pid = children[k];
        pid_t pgid;
        bool ours = false;

        /* Main and control processes of any unit are known by pid: no need to look inside. */
        if (is_tracked && is_tracked(pid, userdata))
            continue;
        pgid = getpgid(pid);
        if (pgid < 0)
            continue;
        for (size_t i = 0; i < n_groups; i++)
            if (pgid == groups[i])
                ours = true; /* the group kill reaches it already */
        if (ours || !proc_has_invocation(pid, invocation))
            continue;
        found++;
        if (sig)
            (void)kill(pid, sig);
    }
    return found;
}

/* pid, comm and pgrp from /proc/<pid>/stat; false when gone or a zombie. */
/* The text of /proc/PID/stat into buf (NUL-terminated): 0, or -ESRCH when pid is gone. */
static int read_stat_text(pid_t pid, char *buf, size_t size)
{
    char path[64];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -ESRCH;
    n = read(fd, buf, size - 1);
    close(fd);
    if (n <= 0)
        return -ESRCH;
    buf[n] = '\0';
    return 0;
}

static bool read_stat(pid_t pid, char *comm, size_t comm_size, pid_t *ret_pgrp)
{
    char buf[512];

    if (read_stat_text(pid, buf, sizeof(buf)) < 0)
        return false;
    char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
    char state;
    int ppid, pgrp;
    if (!open_paren || !close_paren ||
        sscanf(close_paren + 1, " %c %d %d", &state, &ppid, &pgrp) != 3 || state == 'Z')
        return false;
    if (comm)
        snprintf(comm, comm_size, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
    if (ret_pgrp)
        *ret_pgrp = pgrp;
    return true;
}

int proc_start_time(pid_t pid, uint64_t *ret_ticks, pid_t *ret_pgrp)
{
    char buf[1024];
    unsigned long long start;
    int pgrp;
    char state;

    if (read_stat_text(pid, buf, sizeof(buf)) < 0)
        return -ESRCH;
    /* comm may hold spaces and parentheses: the fields start after the last ')'. Field 22
     * (starttime) is the 20th after it. */
    char *p = strrchr(buf, ')');
    if (!p || sscanf(p + 1,
                     " %c %*d %d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d "
                     "%*d %llu",
                     &state, &pgrp, &start) != 3)
        return -EIO;
    if (state == 'Z' || state == 'X')
        return -ESRCH;
    *ret_ticks = start;
    if (ret_pgrp)
        *ret_pgrp = pgrp;
    return 0;
}

void proc_comm(pid_t pid, char *buf, size_t size)
{
    if (!read_stat(pid, buf, size, NULL))
        snprintf(buf, size, "?");
}

size_t proc_group_members(pid_t pgid, pid_t *out, size_t max)
{
    DIR *d;
    struct dirent *de;
    size_t n = 0;

    if (pgid <= 0 || kill(-pgid, 0) < 0)
        return 0; /* the cheap answer first: nobody there */
    d = opendir("/proc");
    if (!d)
        return 0;
    while ((de = readdir(d)) && n < max) {
        pid_t pid = (pid_t)atoi(de->d_name), pgrp;
        if (pid > 0 && read_stat(pid, NULL, 0, &pgrp) && pgrp == pgid)
            out[n++] = pid;
    }
    closedir(d);
    return n;
}

size_t proc_untracked_children(pid_t *out, size_t max, bool (*is_tracked)(pid_t, void *),
                               void *userdata)
{
    const pid_t *children;
    size_t n = untracked_children(is_tracked, userdata, &children), k = 0;

    for (size_t i = 0; i < n && k < max; i++)
        if (!is_tracked || !is_tracked(children[i], userdata))
            if (read_stat(children[i], NULL, 0, NULL))
                out[k++] = children[i];
    return k;
}

bool proc_group_alive(pid_t pgid)
{
    if (pgid <= 0)
        return false;
    /* EPERM still means someone is there. */
    return kill(-pgid, 0) == 0 || errno == EPERM;
}

int proc_parse_stat(const char *text, struct proc_stat *ret)
{
    const char *open_paren = strchr(text, '('), *close_paren = strrchr(text, ')');
    unsigned long long utime, stime;
    long long cutime, cstime;
    long threads;
    char state;
    int ppid, pgrp;

    if (!open_paren || !close_paren || close_paren < open_paren)
        return -EINVAL;
    /* Fields 3.. of proc(5): state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
     * cmajflt utime stime cutime cstime priority nice num_threads. */
    if (sscanf(close_paren + 1,
               " %c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld %*d %*d %ld", &state,
               &ppid, &pgrp, &utime, &stime, &cutime, &cstime, &threads) != 8)
        return -EINVAL;
    snprintf(ret->comm, sizeof(ret->comm), "%.*s", (int)(close_paren - open_paren - 1),
             open_paren + 1);
    ret->state = state;
    ret->ppid = ppid;
    ret->pgrp = pgrp;
    /* cutime and cstime are signed in the kernel's format, never negative in practice. */
    ret->cpu_ticks =
        utime + stime + (uint64_t)(cutime > 0 ? cutime : 0) + (uint64_t)(cstime > 0 ? cstime : 0);
    ret->num_threads = threads > 0 ? (unsigned)threads : 0;
    return 0;
}

int proc_read_stat(pid_t pid, struct proc_stat *ret)
{
    char buf[1024];

    if (read_stat_text(pid, buf, sizeof(buf)) < 0)
        return -ESRCH;
    return proc_parse_stat(buf, ret);
}

/* The text proc_format_cmdline() builds, with room kept for a closing "…" and the NUL. */
struct cmdline_out {
    char *buf;
    size_t size, len;
    bool cut;
};

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, as systemd's ellipsize() ends a line */

static void cmdline_put(struct cmdline_out *o, const char *s, size_t n)
{
    if (o->cut || o->len + n + sizeof(ELLIPSIS) > o->size) {
        o->cut = true;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

/* The length of the valid UTF-8 sequence at p[0..n) that systemd's utf8_encoded_valid_unichar()
 * accepts (shortest form, no surrogate, no noncharacter, nothing past U+10FFFF), with its code
 * point in *ret_c; 0 when invalid. */
static size_t utf8_sequence(const unsigned char *p, size_t n, uint32_t *ret_c)
{
    uint32_t c = p[0];
    size_t len = c < 0x80             ? 1
                 : (c & 0xe0) == 0xc0 ? 2
                 : (c & 0xf0) == 0xe0 ? 3
                 : (c & 0xf8) == 0xf0 ? 4
                                      : 0;

    if (len == 0 || len > n)
        return 0;
    if (len > 1) {
        c &= 0x7fu >> len;
        for (size_t k = 1; k < len; k++) {
            if ((p[k] & 0xc0) != 0x80)
                return 0;
            c = c << 6 | (p[k] & 0x3f);
        }
        if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
            c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) || (c >= 0xfdd0 && c <= 0xfdef) ||
            (c & 0xfffe) == 0xfffe)
            return 0;
    }
    *ret_c = c;
    return len;
}

/* systemd's utf8_escape_non_printable(): printable characters as they are (tab among them),
 * control characters (C0, DEL, C1; here a newline too) as \xNN per byte, bytes that are not
 * valid UTF-8 as U+FFFD each. */
static void cmdline_escape(struct cmdline_out *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;

    for (size_t i = 0; i < n && !o->cut;) {
        uint32_t c;
        size_t len = utf8_sequence(p + i, n - i, &c);

        if (len == 0) {
            cmdline_put(o, "\xef\xbf\xbd", 3);
            i++;
        } else if ((c < 0x20 && c != '\t') || (c >= 0x7f && c <= 0x9f)) {
            for (size_t k = 0; k < len; k++) {
                char e[4] = {'\\', 'x', hex[p[i + k] >> 4], hex[p[i + k] & 15]};
                cmdline_put(o, e, 4);
            }
            i += len;
        } else {
            cmdline_put(o, s + i, len);
            i += len;
        }
    }
}

void proc_format_cmdline(const char *raw, size_t len, bool truncated, const char *comm, char *buf,
                         size_t size)
{
    struct cmdline_out o = {.buf = buf, .size = size};
    size_t end = len;

    assert(size >= 8);
    /* The arguments are NUL-terminated: the last NUL ends the line, the others separate words. A
     * program that rewrote its argv (setproctitle) may have left a run of NULs or spaces. */
    if (!truncated && end > 0 && raw[end - 1] == '\0')
        end--;
    while (end > 0 && (raw[end - 1] == '\0' || strchr(" \t\n\r", raw[end - 1])))
        end--;
    if (end == 0) {
        /* Nothing but comm to show (a kernel thread, a zombie): "[comm]", as systemd does. */
        cmdline_put(&o, "[", 1);
        cmdline_escape(&o, comm ? comm : "", comm ? strlen(comm) : 0);
        cmdline_put(&o, "]", 1);
        truncated = false;
    } else {
        for (size_t start = 0; start < end && !o.cut;) {
            const char *nul = memchr(raw + start, '\0', end - start);
            size_t word = nul ? (size_t)(nul - raw) - start : end - start;

            if (start > 0)
                cmdline_put(&o, " ", 1);
            cmdline_escape(&o, raw + start, word);
            start += word + 1;
        }
    }
    if (o.cut || truncated) {
        memcpy(o.buf + o.len, ELLIPSIS, sizeof(ELLIPSIS) - 1);
        o.len += sizeof(ELLIPSIS) - 1;
    }
    o.buf[o.len] = '\0';
}

void proc_cmdline(pid_t pid, const char *comm, char *buf, size_t size)
{
    char path[64], *raw = malloc(size + 1);
    size_t len = 0;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    fd = raw ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    /* One byte more than can be shown tells a cut line from one that just fits. */
    while (fd >= 0 && len < size + 1) {
        ssize_t n = read(fd, raw + len, size + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (fd >= 0)
        close(fd);
    proc_format_cmdline(raw ? raw : "", len > size ? size : len, len > size, comm, buf, size);
    free(raw);
}

/* Adds the pids listed in one /proc/PID/task/TID/children file ("12 34 ") to pids[0..*n) that
 * are not there yet. */
static void add_children(const char *path, pid_t *pids, size_t *n, size_t max, bool *truncated)
{
    char buf[16384];
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return;
    while (len < sizeof(buf) - 1) {
        ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (len == sizeof(buf) - 1)
        *truncated = true; /* more children than 2,000 or so from one thread */
    buf[len] = '\0';
    for (char *p = buf, *next;; p = next) {
        long v = strtol(p, &next, 10);
        bool known = false;

        if (next == p)
            break;
        if (v <= 0)
            continue;
        for (size_t i = 0; i < *n && !known; i++)
            known = pids[i] == (pid_t)v;
        if (known)
            continue;
        if (*n == max) {
            *truncated = true;
            break;
        }
        pids[(*n)++] = (pid_t)v;
    }
}

size_t proc_descendants(pid_t *pids, size_t n, size_t max, bool *ret_truncated)
{
    bool truncated = false;

    /* pids grows behind i: each process found is looked into in its turn. */
    for (size_t i = 0; i < n; i++) {
        char path[96];
        struct dirent *de;
        DIR *d;

        snprintf(path, sizeof(path), "/proc/%d/task", (int)pids[i]);
        d = opendir(path);
        if (!d)
            continue; /* gone meanwhile */
        while ((de = readdir(d))) {
            if (de->d_name[0] < '0' || de->d_name[0] > '9')
                continue;
            snprintf(path, sizeof(path), "/proc/%d/task/%.16s/children", (int)pids[i], de->d_name);
            add_children(path, pids, &n, max, &truncated);
        }
        closedir(d);
    }
    if (ret_truncated)
        *ret_truncated = truncated;
    return n;
}

static uv_signal_t sigchld;
static proc_exit_cb exit_cb;
static void *exit_userdata;

void proc_reap_all(void)
{
    for (;;) {
        siginfo_t si;

        memset(&si, 0, sizeof(si));
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0) {
            if (errno == EINTR)
                continue;
            return; /* ECHILD: nothing left */
        }
        if (si.si_pid == 0)
            return;
        /* What it left behind is ours now, perhaps since the last listing of our children. */
        untracked.valid = false;
        struct exit_info e = {.code = si.si_code, .status = si.si_status};
        if (exit_cb)
            exit_cb(si.si_pid, &e, exit_userdata);
    }
}

static void on_sigchld(uv_signal_t *h, int signum)
{
    /* SIGCHLD does not queue: one signal may stand for many exits, so reap in a loop. */
    proc_reap_all();
}

int proc_reaper_start(uv_loop_t *loop, proc_exit_cb cb, void *userdata)
{
    int r;

    exit_cb = cb;
    exit_userdata = userdata;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        log_debug("Failed to become a child subreaper: %s", strerror(errno));
    r = uv_signal_init(loop, &sigchld);
    if (r < 0)
        return r;
    r = uv_signal_start(&sigchld, on_sigchld, SIGCHLD);
    if (r < 0)
        return r;
    /* Ends the list of untracked children before each wait; unreferenced, so it never keeps
     * the loop alive. */
    r = uv_prepare_init(loop, &untracked_prepare);
    if (r < 0)
        return r;
    uv_prepare_start(&untracked_prepare, on_untracked_prepare);
    uv_unref((uv_handle_t *)&untracked_prepare);
    untracked.enabled = true;
    proc_note_signal_dispositions(); /* SIGCHLD has a handler now */
    proc_reap_all();
    return 0;
}

void proc_reaper_stop(void)
{
    if (!uv_is_closing((uv_handle_t *)&sigchld))
        uv_close((uv_handle_t *)&sigchld, NULL);
    if (untracked.enabled && !uv_is_closing((uv_handle_t *)&untracked_prepare))
        uv_close((uv_handle_t *)&untracked_prepare, NULL);
    untracked.enabled = untracked.valid = false;
}

char *proc_find_executable(const char *cmd, const char *bin_dir, const char *path_env)
{
    char *candidate;

    if (strchr(cmd, '/'))
        return strdup(cmd);
    if (bin_dir) {
        if (asprintf(&candidate, "%s/%s", bin_dir, cmd) < 0)
            return NULL;
        if (access(candidate, X_OK) == 0)
            return candidate;
        free(candidate);
    }
    if (!path_env || !*path_env)
        path_env = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (const char *p = path_env; *p;) {
        const char *end = strchrnul(p, ':');
        if (end > p) {
            if (asprintf(&candidate, "%.*s/%s", (int)(end - p), p, cmd) < 0)
                return NULL;
            struct stat st;
            if (access(candidate, X_OK) == 0 && stat(candidate, &st) == 0 && S_ISREG(st.st_mode))
                return candidate;
            free(candidate);
        }
        p = *end ? end + 1 : end;
    }
    errno = ENOENT;
    return NULL;
}
