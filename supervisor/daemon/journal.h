/* The journal collector: reads services' stdout/stderr pipes, assembles lines (LineMax, <N>
 * priority prefixes), stamps and attributes each record, appends it to the store and hands it to
 * live followers. Knows units only as name tags. */
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

/* Called once per attached stream when it reached EOF and its last bytes are stored. */
typedef void (*journal_eof_cb)(void *userdata);

/* Starts reading fd (the read end of a service's pipe; the journal owns it from now on, also on
 * failure). 0 or a negative errno. */
int journal_attach(struct journal *j, int fd, const struct journal_source *src,
                   journal_eof_cb on_eof, void *userdata);

/* A message of minisupd's own about a unit, stored with stream "manager". */
void journal_log_unit(struct journal *j, const char *unit, const char *invocation, int priority,
                      const char *message);

/* Live followers: cb sees every batch of records right after it was stored. Returns a handle
 * for journal_unfollow(), or NULL on out-of-memory. */
typedef void (*journal_follow_cb)(const struct journal_record *recs, size_t n, void *userdata);
void *journal_follow(struct journal *j, journal_follow_cb cb, void *userdata);
void journal_unfollow(struct journal *j, void *handle);

/* The seq of the last record stored; records still pending are stored first, so everything up
 * to it is visible to a journal_reader_open() of journal_directory(). A reader bounded by it
 * (until_seq) and a follower registered when it is done see every record exactly once. */
uint64_t journal_last_seq(struct journal *j);

const char *journal_directory(const struct journal *j);

/* Records the store could not take (disk full and the like), for status. */
uint64_t journal_dropped(const struct journal *j);

/* Per unit: lines suppressed by the rate limit and records lost to storage errors so far. */
void journal_unit_counters(const struct journal *j, const char *unit, uint64_t *ret_suppressed,
                           uint64_t *ret_lost);

/* Closes every stream handle (pending bytes already read are stored), syncs and frees the store
 * once the loop has run the close callbacks. */
void journal_close(struct journal *j);

#endif
