/* The process record, <runtime dir>/processes: every process minisupd runs for a unit, with its
 * start time and process group, rewritten in place whenever that set changes. A minisupd
 * that was killed with SIGKILL leaves it behind; the next one reads it at start-up and stops
 * what still runs (RELIABILITY.md CRASH-1): PR_SET_PDEATHSIG only sends SIGTERM, which a service
 * may ignore. The start time makes a reused pid harmless: it is never signalled. */
#ifndef MINISUP_PROCESS_RECORD_H
#define MINISUP_PROCESS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROCESS_RECORD_NAME "processes"
/* How long stale processes get after SIGTERM before SIGKILL, at most (their unit's
 * TimeoutStopSec= when shorter): start-up waits for them. */
#define PROCESS_RECORD_TERM_MAX_MS 10000

struct process_record;

/* One process to record: borrowed strings. */
struct process_entry {
    pid_t pid;
    const char *unit;
    /* Its process group when known (a process minisupd spawned leads its own session, so it
     * is its pid), else 0: read from /proc, which before the child's setsid() still names the
     * group it was forked in. */
    pid_t pgid;
};

/* Prepares writing runtime_dir/processes (nothing is written yet). 0 or -ENOMEM. */
int process_record_new(const char *runtime_dir, struct process_record **ret);

/* Replaces the record with these processes. Start times are read once per process and kept;
 * a process already gone is left out. 0 or a negative errno (the old record then stays). */
int process_record_write(struct process_record *r, const struct process_entry *procs, size_t n);

/* Frees; with remove, deletes the file (a clean exit leaves nothing behind). Accepts NULL. */
void process_record_free(struct process_record *r, bool remove);

/* Tells how long a stale process of `unit` gets after SIGTERM (its TimeoutStopSec=). */
typedef unsigned (*process_record_timeout_cb)(const char *unit, void *userdata);
/* Tells that a stale process of `unit` was stopped (for the unit's journal). */
typedef void (*process_record_stopped_cb)(const char *unit, pid_t pid, const char *comm,
                                          bool killed, void *userdata);

/* Reads the record a previous instance left in runtime_dir and stops each process in it that
 * still runs as recorded (same pid, same start time): SIGTERM to its process group (or to the
 * process alone when it has left the recorded group), then SIGKILL once its time is up. Waits
 * until they are gone (bounded), then removes the file. Returns how many processes were
 * stopped, or a negative errno when the record could not be read (a missing one is 0). */
int process_record_sweep(const char *runtime_dir, process_record_timeout_cb timeout,
                         process_record_stopped_cb stopped, void *userdata);

#endif
