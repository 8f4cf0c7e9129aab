/* Processes: fork/exec of a service (own session, clean fds and signal state, output pipes,
 * exec errors reported through a CLOEXEC pipe), signalling through pidfds, and the one SIGCHLD
 * reaper. Decides no policy and never logs above debug. */
#ifndef MINISUP_PROC_H
#define MINISUP_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

struct exit_info;

/* What to run and how. Strings are borrowed for the duration of proc_spawn(). */
struct spawn_params {
    const char *path;                /* resolved executable path */
    char *const *argv;               /* NULL-terminated, argv[0] included */
    char *const *envp;               /* NULL-terminated "K=V" */
    const char *working_directory;   /* NULL: "/" */
    bool working_directory_optional; /* "-" prefix: a missing directory is not an error */
    mode_t umask;
    bool ignore_sigpipe;
    int stdout_fd; /* dup'ed onto 1 in the child (the journal pipe), or -1 for /dev/null */
    int stderr_fd; /* dup'ed onto 2 */
    int stdin_fd;  /* dup'ed onto 0, or -1 for /dev/null */
    /* Socket activation: these fds land on 3, 4, ... in this order (sd_listen_fds(3)). */
    const int *listen_fds;
    size_t n_listen_fds;
    /* Index in envp of a "LISTEN_PID=" entry with room for 10 digits: the child writes its own
     * pid there after fork, since only it knows it. -1 when unused. */
    int listen_pid_env_index;
    /* The same for "WATCHDOG_PID=" (sd_watchdog_enabled(3)) and "SYSTEMD_EXEC_PID="
     * (systemd.exec(5)), -1 when unused. */
    int watchdog_pid_env_index;
    int exec_pid_env_index;
    /* Credentials (User=, Group=, SupplementaryGroups=), resolved by the parent: no NSS calls
     * after fork. change_user false leaves them as they are. */
    bool change_user;
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    size_t n_groups;
    /* Limit*= by RLIMIT_* number; only the set ones are applied, as systemd does: a value the
     * kernel refuses (above the hard limit without CAP_SYS_RESOURCE; LimitNOFILE= above
     * fs.nr_open) is clamped to the current hard limit (and nr_open) rather than failing. */
    const struct rlimit *rlimits;
    const bool *rlimit_set;
    size_t n_rlimits;
    bool nice_set;
    int nice;
    bool no_new_privileges;
    /* Where the spawn forks: return at once, the exec outcome comes through
     * spawn_result.exec_fd. */
    bool async_exec;
    /* minisupd's pid: the child sets PR_SET_PDEATHSIG and checks it still has this parent.
     * 0 leaves the service running when minisupd dies. */
    pid_t parent_pid;
};

struct spawn_result {
    pid_t pid;
    int pidfd;   /* -1 when the kernel has no pidfd_open */
    int exec_fd; /* async_exec: readable once the exec outcome is known; else -1 */
};

/* Starts a service process. The child reports a failure (the set-up step and errno) through a
 * close-on-exec pipe; a failure returns a negative errno with "Failed to execute '<path>':
 * <reason>" (or the failing set-up step) in ret_error. Normal builds spawn as posix_spawn does
 * (clone with CLONE_VM|CLONE_VFORK: the call returns once the child has exec'd or failed, so
 * the outcome is always known on return and ret->exec_fd is -1). Sanitized builds fork; there
 * async_exec returns at once with the pipe in ret->exec_fd for proc_exec_result(), so the loop
 * never waits for an exec. */
int proc_spawn(const struct spawn_params *p, struct spawn_result *ret, char *ret_error,
               size_t error_size);

/* Reserves a few low fds through which a spawned child receives its pipes, so that it copies
 * only the bottom of the daemon's fd table (see proc.c). Call early, before the table fills;
 * the first spawn does it otherwise. */
void proc_reserve_spawn_fds(void);

/* Records which signals have a disposition other than SIG_DFL in minisupd (a handler, or
 * ignored, perhaps inherited): a spawned child resets those and only those, then unblocks all.
 * Call after changing a disposition; proc_reaper_start() and main.c's set-up do, and the first
 * spawn does if nobody has. Does not log. */
void proc_note_signal_dispositions(void);

/* Reads the exec outcome from exec_fd: 1 when the exec succeeded, 0 when not known yet, or a
 * negative errno with "Failed to execute '<path>': <reason>" in ret_error. */
int proc_exec_result(int fd, const char *path, char *ret_error, size_t error_size);

/* Sends sig through pidfd when >= 0 (so a reused pid is never hit), else by pid. With group,
 * signals the process group pid instead. 0, or -ESRCH when nobody was there. */
int proc_kill(int pidfd, pid_t pid, int sig, bool group);

/* A pidfd for a process we did not spawn (Type=forking's daemon), or -1. */
int proc_pidfd_open(pid_t pid);

/* Processes that left a service's process group (setsid) but carry its $INVOCATION_ID: found
 * by reading /proc/<pid>/environ of minisupd's children (an escaped process has lost its parent,
 * so as subreaper we adopted it) that are neither tracked (is_tracked) nor in `groups` (DESIGN:
 * process groups stand in for cgroups; RELIABILITY STOP-4). Signals each with sig (0 just
 * counts). Returns how many there were. The list of untracked children it reads is shared
 * with proc_untracked_children() and kept, while the reaper runs, until the next child is
 * reaped, proc_children_changed() is called, or the loop is about to wait: so the cost that
 * grows with the number of children is paid once per exit or loop turn, not once per call. */
int proc_signal_escaped(const char *invocation, const pid_t *groups, size_t n_groups, int sig,
                        bool (*is_tracked)(pid_t pid, void *userdata), void *userdata);

/* Does pid's environment hold INVOCATION_ID=invocation (it belongs to that run)? */
bool proc_has_invocation(pid_t pid, const char *invocation);
/* The INVOCATION_ID in pid's environment (the run it was started by) into ret, "" when it has
 * none or cannot be read. */
void proc_invocation(pid_t pid, char *ret, size_t size);

/* Up to max pids of the processes in process group pgid (a /proc scan). */
size_t proc_group_members(pid_t pgid, pid_t *out, size_t max);

/* minisupd's own children that is_tracked() does not know: adopted orphans. */
size_t proc_untracked_children(pid_t *out, size_t max, bool (*is_tracked)(pid_t, void *),
                               void *userdata);

/* Tells the sweep that a child is_tracked() knew may no longer be known while it still runs
 * (a unit let go of a process it did not reap): the next call lists the children again. */
void proc_children_changed(void);

/* The start time of pid in clock ticks since boot (/proc/<pid>/stat field 22): with the pid, it
 * names one process for good, since a reused pid starts later. Also its process group. 0, or
 * -ESRCH when it is gone or a zombie. */
int proc_start_time(pid_t pid, uint64_t *ret_ticks, pid_t *ret_pgrp);

/* The command name of pid (comm), "?" when gone. */
void proc_comm(pid_t pid, char *buf, size_t size);

/* True while any process is left in process group pgid. */
bool proc_group_alive(pid_t pgid);

/* What status's process list needs of one process, from /proc/PID/stat (proc(5)). */
struct proc_stat {
    char comm[64]; /* as the kernel names it: 15 bytes for a program, more for kernel threads */
    char state;    /* R, S, D, Z, ... */
    pid_t ppid;
    pid_t pgrp;
    uint64_t cpu_ticks;   /* utime + stime + cutime + cstime: its own time and its waited-for
                           * children's, in clock ticks (sysconf(_SC_CLK_TCK)) */
    unsigned num_threads; /* the Threads: of /proc/PID/status */
};

/* Parses the text of /proc/PID/stat. comm may hold spaces and parentheses: the fields after it
 * start after the last ')'. 0, or -EINVAL when text does not have that shape. Pure. */
int proc_parse_stat(const char *text, struct proc_stat *ret);

/* Reads /proc/PID/stat into *ret (zombies included: state 'Z'). 0, -ESRCH when pid is gone, or
 * -EINVAL. Does not log. */
int proc_read_stat(pid_t pid, struct proc_stat *ret);

/* A command line as systemd's get_process_cmdline() shows it in status's process list, from
 * raw[0..len), the bytes of /proc/PID/cmdline (truncated: the read stopped before its end):
 * the arguments joined by spaces, trailing whitespace dropped, "[comm]" when there are none (a
 * kernel thread, a zombie), invalid UTF-8 as U+FFFD per byte and other unprintable characters
 * as \xNN per byte (a newline too, so that each process stays on one line). Always writes
 * valid UTF-8 and a NUL within size (at least 8): a line cut short, by truncated or by size,
 * ends in "…", as systemd ellipsizes. Pure. */
void proc_format_cmdline(const char *raw, size_t len, bool truncated, const char *comm, char *buf,
                         size_t size);

/* Reads /proc/PID/cmdline (at most size bytes of it) and formats it into buf with
 * proc_format_cmdline(); comm stands in when it is empty or unreadable. Does not log. */
void proc_cmdline(pid_t pid, const char *comm, char *buf, size_t size);

/* Appends to pids[0..n) every descendant of those processes that is not there yet (zombies
 * too: their stat says so), up to max entries in all, by reading /proc/PID/task/TID/children
 * of each (every thread's: a child belongs to the thread that forked it), breadth first. Returns
 * the new count; *ret_truncated (may be NULL) says whether max stopped the walk. The cost is one
 * directory and one small file per process and thread found, never a walk of all of /proc. Does not
 * log. */
size_t proc_descendants(pid_t *pids, size_t n, size_t max, bool *ret_truncated);

/* Called for every reaped child, ours or an adopted orphan. */
typedef void (*proc_exit_cb)(pid_t pid, const struct exit_info *exit, void *userdata);

/* The one reaper: a uv_signal on SIGCHLD running a waitid(P_ALL, WNOHANG) loop. Makes minisupd a
 * child subreaper so double-forked descendants stay ours. */
int proc_reaper_start(uv_loop_t *loop, proc_exit_cb cb, void *userdata);
void proc_reaper_stop(void);
/* Reaps whatever is pending now (also run at start-up and from tests). */
void proc_reap_all(void);

/* Raises minisupd's own RLIMIT_NOFILE soft limit to the hard one (many clients and pipes), and
 * remembers the original, which services get back unless they set LimitNOFILE=, as systemd
 * does (select() users break above 1024). */
void proc_raise_fd_limit(void);

/* Looks cmd up: a name with a slash is used as is; else beside minisupd (bin_dir), then in the
 * PATH given. Returns a new string, or NULL with errno set. */
char *proc_find_executable(const char *cmd, const char *bin_dir, const char *path_env);

#endif
