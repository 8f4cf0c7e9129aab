/* The end-to-end test harness (like dinit's igr-runner): a fresh mkdtemp directory with its own
 * units/, run/ and log/, the real minisupd started in it, the real minisupctl to drive it, and
 * deadline-bounded waits. Every helper that can fail fails the running criterion test itself
 * (with the daemon's log on stderr), so tests read as a list of steps. Linux only. */
#ifndef MINISUP_HARNESS_H
#define MINISUP_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#define HARNESS_MINISUPD MINISUP_BIN_DIR "/minisupd"
#define HARNESS_MINISUPCTL MINISUP_BIN_DIR "/minisupctl"
#define HARNESS_FIFO_ECHO MINISUP_BIN_DIR "/fifo-echo"
#define HARNESS_TFX MINISUP_HELPER_DIR "/tfx"

/* How long minisupd may take to answer after it was spawned, and to exit after SIGTERM. */
#define HARNESS_START_TIMEOUT_MS 10000
#define HARNESS_STOP_TIMEOUT_MS 30000
/* Default deadline for one minisupctl run (d->ctl_timeout_ms). */
#define HARNESS_CTL_TIMEOUT_MS 20000

#define HARNESS_MAX_PIDS 256

/* A process the test saw, identified by pid and start time so pid reuse is not mistaken for it. */
struct harness_proc {
    pid_t pid;
    unsigned long long starttime;
};

/* One minisupd under test and everything it owns on disk. Embedded in the test (usually a
 * static set up by harness_init() in the suite's .init), torn down by harness_cleanup(). */
struct daemon {
    char base[PATH_MAX];                         /* the mkdtemp directory */
    char unit_dir[PATH_MAX];                     /* base/units, passed as -d */
    char run_dir[PATH_MAX];                      /* base/run, --runtime-dir */
    char log_dir[PATH_MAX];                      /* base/log, --log-dir (the journal) */
    char socket[PATH_MAX];                       /* run/minisupd.sock */
    char log_file[PATH_MAX];                     /* minisupd's own stdout and stderr */
    pid_t pid;                                   /* the running minisupd, 0 when none */
    int exit_status;                             /* wait status of the last minisupd that exited */
    int ctl_timeout_ms;                          /* deadline for each minisupctl run */
    bool stopped_cleanly;                        /* harness_stop() passed every check */
    struct harness_proc procs[HARNESS_MAX_PIDS]; /* processes that must be gone at the end */
    size_t n_procs;
};

/* Creates the temp dir and its subdirectories and fills in the paths. Does not start anything. */
void harness_init(struct daemon *d);

/* Kills what is left (the daemon with SIGTERM then SIGKILL, recorded processes with SIGKILL)
 * and removes the temp dir, unless $MINISUP_KEEP_TMP is set. When the test did not reach a
 * clean harness_stop(), prints the tail of the daemon's log. Never fails the test: meant for
 * criterion's .fini, which also runs after a failed assertion. */
void harness_cleanup(struct daemon *d);

/* Writes units/<name> with the given contents (literal, so systemd's %t and %n pass through). */
void harness_write_unit(struct daemon *d, const char *name, const char *text);

/* The same with printf formatting (write %% for a literal %). */
void harness_write_unitf(struct daemon *d, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes base/<rel> into buf (PATH_MAX bytes) and returns buf. */
char *harness_path(const struct daemon *d, char *buf, const char *rel);

/* Spawns minisupd in the foreground (stdout/stderr to d->log_file, SIGTERM if the test process
 * dies) and waits until `minisupctl list-units` answers. Fails the test on a deadline or if the
 * daemon exits first. */
void harness_start(struct daemon *d);

/* Sends SIGTERM to minisupd, waits for it (deadline, then SIGKILL and fail), checks it exited 0
 * without sanitizer reports, and that no recorded process and no descendant seen before the
 * stop is still alive. */
void harness_stop(struct daemon *d);

/* Spawns `minisupd -d units --runtime-dir run --log-dir log` once more as an independent
 * process, stdout/stderr to log_rel under base. Returns its pid; the caller waits for it. */
pid_t harness_spawn_daemon(struct daemon *d, const char *log_rel);

/* Waits for pid with a deadline. Returns true and the wait status in *ret_status, false when it
 * is still running at the deadline (it is not killed). */
bool harness_wait_pid(pid_t pid, int timeout_ms, int *ret_status);

/* Runs `minisupctl -s SOCKET args... (NULL-terminated)` with d->ctl_timeout_ms. Returns its exit
 * code; its stdout and stderr in *ret_out / *ret_err (new strings, may be NULL to discard).
 * Fails the test if it hangs past the deadline (it is killed) or dies of a signal. */
int harness_ctl(struct daemon *d, char **ret_out, char **ret_err, ...) __attribute__((sentinel));

/* The same with an argv array (NULL-terminated, without program name and -s). */
int harness_ctlv(struct daemon *d, char **ret_out, char **ret_err, const char *const *args);

/* Polls cond(arg) every 10 ms until it returns true or timeout_ms passed (then one last try).
 * Returns the last result. The only way tests wait. */
bool wait_until(bool (*cond)(void *arg), void *arg, int timeout_ms);

/* The unit's journal as text (`journal UNIT -o cat`), a new string. Fails the test on error. */
char *harness_journal_cat(struct daemon *d, const char *unit);

/* The unit's journal as a JSON array of entries (`journal UNIT -o json`), a new reference.
 * The entries are journalctl's: journald's field names (MESSAGE, __SEQNUM, _TRANSPORT, ...)
 * and string values. */
json_t *harness_journal_json(struct daemon *d, const char *unit);

/* Waits until the unit's journal (-o cat) contains text. Returns whether it did. */
bool harness_wait_journal_contains(struct daemon *d, const char *unit, const char *text,
                                   int timeout_ms);

/* Waits until `status UNIT` reports an Active: line that starts with state, e.g.
 * "inactive (dead)", "failed (Result: timeout)", "active (running)". Returns whether it did. */
bool harness_wait_status(struct daemon *d, const char *unit, const char *state, int timeout_ms);

/* The text after "Active: " in `status UNIT`, up to the end of the line, into buf. Returns
 * status's exit code. */
int harness_active_line(struct daemon *d, const char *unit, char *buf, size_t size);

/* The main PID from `status UNIT` ("Main PID: N (...)"), 0 when there is none. Records it with
 * harness_track_pid(). */
pid_t harness_main_pid(struct daemon *d, const char *unit);

/* Records a process that must be gone when the daemon has stopped. */
void harness_track_pid(struct daemon *d, pid_t pid);

/* Whether pid is a live process (exists and is not a zombie). */
bool harness_pid_alive(pid_t pid);

/* Children of minisupd that are zombies (state Z), the RELIABILITY zombies() probe. */
int harness_zombies(const struct daemon *d);

/* One Varlink call to minisupd (method without the interface prefix, params stolen, may be
 * NULL). Returns the reply's parameters (new reference) or fails the test on an error reply or a
 * 10 s deadline. For checks the CLI does not print. */
json_t *harness_varlink(struct daemon *d, const char *method, json_t *params);

/* GetUnit(name).unit, a new reference. */
json_t *harness_get_unit(struct daemon *d, const char *name);

/* Waits, polling GetUnit over Varlink, until unit's activeState is `active` (and its subState
 * `sub`, unless NULL); fails the test after timeout_ms naming the last state seen. */
void harness_wait_state(struct daemon *d, const char *unit, const char *active, const char *sub,
                        int timeout_ms);

/* Waits until unit has settled in inactive or failed (a run ended, whatever its result). */
void harness_wait_down(struct daemon *d, const char *unit, int timeout_ms);

/* Counts the lines of text equal to line. */
size_t harness_count_lines(const char *text, const char *line);

/* Counts the lines of text that contain needle. */
size_t harness_count_lines_containing(const char *text, const char *needle);

/* Prints {"test":..., "metric":..., "value":..., "limit":...} on a line of its own to stdout,
 * for CI to keep and trend (RELIABILITY.md 2.0). */
void harness_metric(const char *test, const char *metric, double value, double limit);

/* The contents of base/<rel> as a new string, NULL if it cannot be read. */
char *harness_read(const struct daemon *d, const char *rel);

/* Writes the last `bytes` bytes of the daemon's log to stderr, for failure reports. */
void harness_dump_log(const struct daemon *d, size_t bytes);

/* CLOCK_MONOTONIC and CLOCK_REALTIME in milliseconds / microseconds. */
uint64_t harness_now_ms(void);
uint64_t harness_realtime_us(void);

/* ---- Helpers for the supervision and activation suites ---- */

/* How harness_start_with() / harness_spawn_daemon_with() start minisupd. Every member may be
 * NULL. */
struct harness_start_opts {
    /* Runs `wrapper... minisupd ...`, e.g. {"unshare", "--pid", ..., NULL}; d->pid is then the
     * wrapper's pid. */
    const char *const *wrapper;
    /* More minisupd arguments after the usual ones, NULL-terminated. */
    const char *const *extra_args;
    /* fds of the test process that minisupd inherits under the same numbers, -1-terminated
     * (EXEC-1: a daemon started with stray fds). */
    const int *inherit_fds;
    /* Signals minisupd starts with ignored, and blocked, 0-terminated (EXEC-3: nohup, CI). */
    const int *ignore_signals;
    const int *block_signals;
};

/* harness_spawn_daemon() with options. */
pid_t harness_spawn_daemon_with(struct daemon *d, const char *log_rel,
                                const struct harness_start_opts *o);

/* harness_start() with options (NULL: the same as harness_start()). */
void harness_start_with(struct daemon *d, const struct harness_start_opts *o);

/* Waits for minisupd (d->pid) to exit by itself (--exit-with, a signal the test sent). Returns
 * false if it still runs at the deadline; else d->pid becomes 0, *ret_status its wait status,
 * and the test fails if its log holds a sanitizer report. */
bool harness_wait_exit(struct daemon *d, int timeout_ms, int *ret_status);

/* harness_stop(), but the signal sig goes to target (e.g. the host pid of a minisupd that is
 * PID 1 of a namespace under d->pid = unshare), whose zombie children are checked first. */
void harness_stop_by(struct daemon *d, pid_t target, int sig);

/* Records every live descendant of minisupd (harness_stop() does so itself). */
void harness_track_descendants(struct daemon *d);

/* The live (non-zombie) descendants of root, at most max of them; returns how many. */
size_t harness_descendants(pid_t root, pid_t *out, size_t max);

/* Children of parent in state Z (pids in out, at most max); returns how many there are. */
size_t harness_zombie_pids(pid_t parent, pid_t *out, size_t max);

/* State, parent, process group and session of pid from /proc/pid/stat; false when gone. Any
 * output pointer may be NULL. */
bool harness_proc_ids(pid_t pid, char *ret_state, pid_t *ret_ppid, pid_t *ret_pgid, pid_t *ret_sid);

/* Open fds of pid (the fds() probe), -1 when it cannot be read. */
int harness_fd_count(pid_t pid);

/* A "Key:   N kB" value of /proc/pid/status (VmHWM, VmRSS) in KiB, -1 when unknown. */
long harness_status_kib(pid_t pid, const char *key);

/* utime + stime of pid in clock ticks (sysconf(_SC_CLK_TCK) per second). */
unsigned long long harness_cpu_ticks(pid_t pid);

/* Starts `minisupctl -s SOCKET args...` in the background with stdout and stderr on out_fd and
 * returns its pid (the test kills and reaps it; it dies with the test process). */
pid_t harness_ctl_spawn(struct daemon *d, const char *const *args, int out_fd);

/* A Varlink call that may fail: the reply's parameters (new reference), or NULL with the error
 * name in *ret_error (a new string) when the daemon answered with an error. Transport failures
 * and the 10 s deadline fail the test. */
json_t *harness_varlink_try(struct daemon *d, const char *method, json_t *params, char **ret_error);

/* Waits until the unit's journal (-o cat) has at least want lines containing needle. Returns
 * whether it did; *ret_seen (may be NULL) gets the last count. */
bool harness_wait_journal_count(struct daemon *d, const char *unit, const char *needle, size_t want,
                                int timeout_ms, size_t *ret_seen);

#endif
