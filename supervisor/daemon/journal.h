/* The journal collector: reads services' stdout/stderr pipes, assembles lines (LineMax, <N>
 * priority prefixes), stamps and attributes each record, and hands batches of records to a
 * writer thread that appends them to the store; stored records go to live followers. Knows units
 * only as name tags. Every function here is for the loop thread only. */
#ifndef MINISUP_JOURNAL_H
#define MINISUP_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <uv.h>

#include "journal_file.h"

#define JOURNAL_LINE_MAX_DEFAULT (48 * 1024)

/* journald.conf(5)'s knobs, as far as they make sense here. Zero-initialised means defaults. */
struct journal_options {
    struct journal_limits limits; /* SystemMaxUse=, SystemMaxFileSize=, per-unit cap */
    size_t line_max;              /* LineMax=, default 48 KiB */
    uint64_t rate_interval_usec;  /* RateLimitIntervalSec=, default 30 s; UINT64_MAX = off */
    unsigned rate_burst;          /* RateLimitBurst=, default 10000; UINT_MAX = off */
    uint64_t sync_interval_usec;  /* SyncIntervalSec=, default 5 min */
};

struct journal;

/* Who wrote a stream: copied by journal_attach(). */
struct journal_source {
    const char *unit;
    const char *invocation;
    const char *identifier;
    pid_t pid;
    enum journal_stream stream;
    int default_priority; /* SyslogLevel= */
    bool level_prefix;    /* SyslogLevelPrefix= */
    /* LogRateLimitIntervalSec=/LogRateLimitBurst= of the unit; USEC_INFINITY - 1 / UINT_MAX
     * mean "the journal's default", 0 turns the limit off. */
    uint64_t rate_interval_usec;
    unsigned rate_burst;
};

/* Opens the store under dir and prepares the collector (opts may be NULL). 0 or a negative
 * errno. */
int journal_new(uv_loop_t *loop, const char *dir, const struct journal_options *opts,
                struct journal **ret);

/* Called once per attached stream when it reached EOF and its last bytes are stored (or from
 * journal_close(), at once). */
typedef void (*journal_eof_cb)(void *userdata);

/* Starts reading fd (the read end of a service's pipe; the journal owns it from now on, also on
 * failure). 0 or a negative errno. */
int journal_attach(struct journal *j, int fd, const struct journal_source *src,
                   journal_eof_cb on_eof, void *userdata);

/* Bytes written into the pipes attached with this userdata that are not stored yet: unread,
 * an unfinished line (stored at EOF), or still with the writer (counted as 1). 0 once
 * everything a process that ended had written is stored. -1 while reading is paused, when
 * nothing can be promised. *ret_open: how many of these streams are still being read; one that
 * reached EOF is not, though its owner hears of the EOF only once its last batch is stored. */
long journal_unread_bytes(const struct journal *j, const void *userdata, size_t *ret_open);

/* A message of minisupd's own about a unit, stored with stream "manager", in order with the
 * unit's records read before it. The strings are copied. */
void journal_log_unit(struct journal *j, const char *unit, const char *invocation, int priority,
                      const char *message);

/* Live followers: cb sees every batch of records, in seq order, once it was stored (on the loop
 * thread, after the writer gave it back). Returns a handle for journal_unfollow(), or NULL on
 * out-of-memory. */
typedef void (*journal_follow_cb)(const struct journal_record *recs, size_t n, void *userdata);
void *journal_follow(struct journal *j, journal_follow_cb cb, void *userdata);
void journal_unfollow(struct journal *j, void *handle);

/* The seq of the last record handed to the followers: everything up to it is stored and visible
 * to a journal_reader_open() of journal_directory(), and everything after it goes to the
 * followers registered now. So a reader bounded by it (until_seq) and a follower registered when
 * it returns see every record exactly once. Records in flight are waited for, so that a query
 * sees what was read before it, but for at most 250 ms: when storage stalls, the answer ends at
 * the last record stored, and no call waits again until the writer makes progress. May call the
 * followers' callbacks. */
uint64_t journal_last_seq(struct journal *j);

/* Waits, without a deadline, until every record read so far is stored and handed to the
 * followers. Blocks the loop: for tests and tools, never for the daemon's requests. */
void journal_flush(struct journal *j);

const char *journal_directory(const struct journal *j);

/* Records the store could not take (disk full and the like), for status. */
uint64_t journal_dropped(const struct journal *j);

/* What the journal could not keep of one unit, for status (DISK-*, the rate limit). */
struct journal_unit_stats {
    uint64_t suppressed;      /* lines the rate limit dropped, all runs so far */
    uint64_t lost;            /* records the store refused (disk full and the like), so far */
    uint64_t lost_unreported; /* of those, not yet counted in a stored notice */
    int error;                /* errno of the last refused append, 0 when none */
};
void journal_unit_stats(const struct journal *j, const char *unit, struct journal_unit_stats *ret);

/* Closes every stream handle, stores everything already read (waiting for the writer, which
 * syncs and ends), and frees the store once the loop has run the close callbacks. */
void journal_close(struct journal *j);

#endif
