/* Line assembly and attribution for service output, and the hand-off to storage. The event loop
 * thread reads the pipes and turns every read into one batch of records (one clock reading, line
 * ends found by journal_line_scan(), the records pointing into the read buffer itself); a writer
 * thread formats and appends the batches to the store in order and hands them back, through a
 * uv_async, for the followers and the owners' EOF callbacks. The loop never waits for the disk:
 * when the batches in flight hold more than QUEUE_HIGH bytes, every pipe stops being read, so the
 * services block in write() and nothing is lost, until the writer is back under QUEUE_LOW. A stream
 * keeps its own attribution for life: lines still draining from run k are never tagged with run k+1
 * (LOG-8). docs/journal-format.md, "The collector", describes the bound and the threads. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* One read. Each read gets a buffer of its own, which the batch keeps until it is stored. */
#define READ_CHUNK (64 * 1024)
/* A stream whose reads found half a default pipe or more (READ_CHUNK / 2: its writer keeps
 * ahead of us) FLOOD_FULL_READS times in a row floods: its pipe is grown
 * to FLOOD_PIPE_SIZE (F_SETPIPE_SZ; a pipe holds 64 KiB by default) and read FLOOD_READ_CHUNK
 * at a time, so its writer blocks, and the two threads hand over, a fraction as often; every
 * hand-over is a wake-up, and on a busy machine the wake-ups, not the bytes, set the rate. */
#define FLOOD_FULL_READS 4
#define FLOOD_PIPE_SIZE (1024 * 1024)
#define FLOOD_READ_CHUNK (256 * 1024)
/* A read that used at most this much is copied out, and its buffer is used again. */
#define SMALL_READ (8 * 1024)
/* The bound of memory in batches that are read but not yet stored (read buffers, records, copied
 * lines): reading stops above QUEUE_HIGH and starts again at QUEUE_LOW. One more read of each
 * stream that was already reading can land on top (its read buffer and its records). */
#define QUEUE_HIGH (2 * 1024 * 1024)
#define QUEUE_LOW (1024 * 1024)
/* Records a batch has room for at first; it grows with the lines of its read. */
#define RECS_INITIAL 256
/* A recycled batch keeps a record array up to this size: a 256 KiB read of 64-byte lines
 * (a read of shorter lines needs more). */
#define RECS_KEPT 4096
/* Recycled batches kept (with their buffers) for the next reads. */
#define FREE_BATCHES_MAX 8
/* journal_last_seq() waits at most this long for the writer (see there). */
#define FLUSH_WAIT_MS 250

/* Rate limit and loss accounting of one unit, shared by all its streams and runs. Loop thread. */
struct unit_counters {
    char *unit;
    uint64_t window_start; /* monotonic µs */
    unsigned in_window;
    uint64_t suppressed_now; /* in the current window, reported when it ends */
    uint64_t suppressed_total, lost_total, lost_unreported;
    bool notice_in_flight; /* a "could not be stored" notice is queued */
    int last_error;
    char invocation[33];
    struct unit_counters *next;  /* every unit's, for the sweeps */
    struct unit_counters *hnext; /* in its hash bucket */
};

struct follower {
    journal_follow_cb cb;
    void *userdata;
    struct follower *next;
};

/* Bytes some records of a batch point into (copied lines, a partial line handed over). */
struct block {
    struct block *next;
    size_t size;
    char data[];
};

/* Owned by the journal: loop thread while built and after it came back, writer thread in
 * between. The strings of its records live in `buf`, in `blocks`, or in `stream` (a
 * reference). */
struct batch {
    struct batch *next;
    struct journal_record *recs;
    size_t n, cap;
    char *buf; /* buf_cap bytes (READ_CHUNK or FLOOD_READ_CHUNK), or NULL */
    size_t buf_cap, buf_used;
    struct block *blocks;
    struct stream *stream;         /* held while records point at its strings */
    bool eof;                      /* stream's last records: its on_eof once stored */
    bool sync;                     /* fdatasync after the append */
    struct unit_counters *lost_of; /* a notice of lost records: lost_count of them */
    uint64_t lost_count;
    size_t charged; /* bytes counted in queued_bytes */
    int result;     /* of the append, set by the writer */
};

/* Owned by the journal; freed once its handle is closed and no batch holds it. */
struct stream {
    uv_pipe_t pipe;
    struct journal *j;
    unsigned refs; /* the handle, and each batch in flight */
    char *unit, *invocation, *identifier;
    struct unit_counters *counters;
    uint64_t rate_interval_usec;
    unsigned rate_burst;
    pid_t pid;
    enum journal_stream kind;
    int default_priority;
    bool level_prefix;
    bool continuing;    /* the last record was a LineMax piece: the next one goes on with it */
    bool dropping_line; /* the rate limit dropped the first piece of this long line */
    bool reading;
    unsigned full_reads;   /* reads in a row of READ_CHUNK / 2 or more */
    bool flooding;         /* its pipe was grown (FLOOD_*) */
    struct block *partial; /* bytes of an unfinished line, up to line_max */
    size_t partial_len;
    journal_eof_cb on_eof;
    void *userdata;
    struct stream *prev, *next;
};

struct journal {
    uv_loop_t *loop;
    char *dir;
    struct journal_store *store; /* the writer thread's, once it runs */
    size_t line_max;
    struct stream *streams;
    struct follower *followers;
    unsigned notifying; /* inside the followers' callbacks */
    bool unfollowed;    /* some were unfollowed meanwhile: remove them afterwards */
    bool draining;      /* inside drain_done() */
    struct unit_counters *counters;
    struct unit_counters **counter_buckets; /* by unit name: attach looks one up per stream */
    size_t n_counters, n_counter_buckets;   /* a power of two, or 0 */
    struct journal_options opts;
    uv_timer_t sync_timer;
    bool sync_timer_open;
    uint64_t dropped;
    uint64_t suppressed; /* lines any unit's rate limit dropped: 0 spares status the lookup */
    unsigned open_handles;
    bool closing;

    /* Loop thread. */
    struct batch *cur; /* being built by the current read */
    struct batch *free_batches;
    unsigned n_free;
    char *spare_buf; /* a read buffer a small read gave back */
    size_t spare_cap;
    size_t flood_budget; /* pipe pages the journal may still add by growing pipes */
    size_t queued_bytes; /* charged for batches not back yet */
    size_t in_flight;    /* batches not back yet */
    bool paused;         /* reading stopped: queued_bytes went over QUEUE_HIGH */
    bool stalled;        /* journal_last_seq() gave up waiting; no waiting until news come */
    uint64_t last_seq;   /* of the last record handed to the followers */
    uint64_t enqueued;   /* batches handed to the writer so far */
    uv_async_t async;
    bool async_open, async_ref;
    uv_prepare_t submit_prepare; /* hands over minisupd's records before the loop waits */
    bool submit_prepare_open;

    /* Shared with the writer thread, under mu. */
    pthread_t thread;
    bool thread_running;
    pthread_mutex_t mu;
    pthread_cond_t wake;    /* the writer: work, or quit */
    pthread_cond_t written; /* journal_last_seq(): a batch came back */
    struct batch *q_head, *q_tail;
    struct batch *d_head, *d_tail;
    uint64_t n_written;
    bool quit;
};

static uint64_t clock_usec(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

/* ---- the writer thread ---- */

/* Both lists (to the writer, back from it) are FIFOs under j->mu. */
static void batch_list_append(struct batch **head, struct batch **tail, struct batch *b)
{
    b->next = NULL;
    if (*tail)
        (*tail)->next = b;
    else
        *head = b;
    *tail = b;
}

/* Appends the queued batches in order and hands each back; syncs at the end. Touches nothing of
 * the journal but the store and the queues. */
static void *writer_main(void *arg)
{
    struct journal *j = arg;

    pthread_mutex_lock(&j->mu);
    for (;;) {
        struct batch *b;

        while (!j->q_head && !j->quit)
            pthread_cond_wait(&j->wake, &j->mu);
        b = j->q_head;
        if (!b)
            break;
        j->q_head = b->next;
        if (!j->q_head)
            j->q_tail = NULL;
        pthread_mutex_unlock(&j->mu);

        b->result = b->n > 0 ? journal_store_append(j->store, b->recs, b->n) : 0;
        if (b->sync)
            (void)journal_store_sync(j->store); /* a failed sync is retried by the next one */

        pthread_mutex_lock(&j->mu);
        batch_list_append(&j->d_head, &j->d_tail, b);
        j->n_written++;
        pthread_cond_broadcast(&j->written);
        /* uv_async_send() is thread-safe and coalesces; the loop drains everything back. */
        uv_async_send(&j->async);
    }
    pthread_mutex_unlock(&j->mu);
    (void)journal_store_sync(j->store);
    return NULL;
}

/* ---- batches (loop thread) ---- */

static void stream_unref(struct stream *s);

static struct block *block_new(size_t size)
{
    struct block *k = malloc(sizeof(*k) + size);

    if (k) {
        k->next = NULL;
        k->size = size;
    }
    return k;
}

static void batch_attach_block(struct batch *b, struct block *k)
{
    k->next = b->blocks;
    b->blocks = k;
}

/* A batch holds one read of one stream, and borrows the stream's strings while it lives. */
static void batch_hold_stream(struct batch *b, struct stream *s)
{
    if (!b->stream) {
        b->stream = s;
        s->refs++;
    }
}

/* Empties a batch that came back and keeps it for reuse, or frees it. */
static void batch_recycle(struct journal *j, struct batch *b)
{
    while (b->blocks) {
        struct block *k = b->blocks;
        b->blocks = k->next;
        free(k);
    }
    if (b->stream)
        stream_unref(b->stream);
    b->stream = NULL;
    b->n = 0;
    b->buf_used = 0;
    b->eof = b->sync = false;
    b->lost_of = NULL;
    b->lost_count = 0;
    b->result = 0;
    b->charged = 0;
    if (j->n_free >= FREE_BATCHES_MAX || j->closing) {
        free(b->recs);
        free(b->buf);
        free(b);
        return;
    }
    if (b->cap > RECS_KEPT) { /* the buffer is kept: a new one would be faulted in again */
        free(b->recs);
        b->recs = NULL;
        b->cap = 0;
    }
    b->next = j->free_batches;
    j->free_batches = b;
    j->n_free++;
}

static struct batch *batch_get(struct journal *j)
{
    struct batch *b = j->free_batches;

    if (b) {
        j->free_batches = b->next;
        j->n_free--;
        b->next = NULL;
        return b;
    }
    return calloc(1, sizeof(*b));
}

/* The batch the current read or message goes into. NULL on out-of-memory. */
static struct batch *cur_batch(struct journal *j)
{
    if (!j->cur)
        j->cur = batch_get(j);
    return j->cur;
}

/* Adds a record; its strings must stay valid while the batch lives. */
static bool batch_add(struct journal *j, struct batch *b, const struct journal_record *rec)
{
    if (b->n == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : RECS_INITIAL;
        struct journal_record *p = realloc(b->recs, ncap * sizeof(*p));

        if (!p) {
            j->dropped++;
            return false;
        }
        b->recs = p;
        b->cap = ncap;
    }
    b->recs[b->n++] = *rec;
    if (rec->priority <= LOG_CRIT)
        b->sync = true; /* journald syncs at once for crit, alert and emerg */
    return true;
}

static void pause_reading(struct journal *j);

/* Hands j->cur to the writer, if it holds anything. A small read is copied out of its buffer
 * first, so a trickle of short lines does not pin 64 KiB per read. */
static void batch_submit(struct journal *j)
{
    struct batch *b = j->cur;
    size_t used;

    if (!b || (b->n == 0 && !b->eof && !b->sync))
        return;
    j->cur = NULL;
    if (!j->thread_running) {
        /* Only from callbacks of journal_close(): nothing can be stored any more. */
        j->dropped += b->n;
        batch_recycle(j, b);
        return;
    }
    used = b->buf_used;
    if (b->buf) {
        if (used <= SMALL_READ) {
            struct block *k = used > 0 ? block_new(used) : NULL;

            if (k || used == 0) {
                if (k) {
                    memcpy(k->data, b->buf, used);
                    for (size_t i = 0; i < b->n; i++) {
                        const char *m = b->recs[i].message;
                        if (m >= b->buf && m < b->buf + b->buf_cap)
                            b->recs[i].message = k->data + (m - b->buf);
                    }
                    batch_attach_block(b, k);
                }
                if (!j->spare_buf) {
                    j->spare_buf = b->buf;
                    j->spare_cap = b->buf_cap;
                } else {
                    free(b->buf);
                }
                b->buf = NULL;
                b->buf_cap = 0;
            }
        }
    }
    b->charged = sizeof(*b) + b->cap * sizeof(*b->recs) + (b->buf ? b->buf_cap : 0);
    for (struct block *k = b->blocks; k; k = k->next)
        b->charged += sizeof(*k) + k->size;
    j->queued_bytes += b->charged;
    j->in_flight++;
    j->enqueued++;
    if (!j->async_ref) {
        uv_ref((uv_handle_t *)&j->async); /* the loop waits for what is in flight */
        j->async_ref = true;
    }
    pthread_mutex_lock(&j->mu);
    batch_list_append(&j->q_head, &j->q_tail, b);
    pthread_cond_signal(&j->wake);
    pthread_mutex_unlock(&j->mu);
    if (j->queued_bytes > QUEUE_HIGH)
        pause_reading(j);
}

/* ---- back-pressure ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf);

static void stream_start(struct stream *s)
{
    if (s->reading)
        return;
    if (uv_read_start((uv_stream_t *)&s->pipe, on_alloc, on_read) == 0)
        s->reading = true;
}

static void pause_reading(struct journal *j)
{
    if (j->paused)
        return;
    j->paused = true;
    log_debug("Journal: %zu bytes wait for storage; reading paused.", j->queued_bytes);
    for (struct stream *s = j->streams; s; s = s->next) {
        if (s->reading)
            (void)uv_read_stop((uv_stream_t *)&s->pipe);
        s->reading = false;
    }
}

static void resume_reading(struct journal *j)
{
    if (!j->paused || j->closing)
        return;
    j->paused = false;
    log_debug("Journal: storage caught up; reading resumed.");
    for (struct stream *s = j->streams; s; s = s->next)
        stream_start(s);
}

/* ---- what comes back from the writer (loop thread) ---- */

static struct unit_counters *counters_get(struct journal *j, const char *unit);
static void report_lost(struct journal *j);

static void notify_followers(struct journal *j, const struct journal_record *recs, size_t n)
{
    /* A callback may unfollow itself or another follower (a control client dropped for not
     * reading): journal_unfollow() only marks them while we walk the list. */
    j->notifying++;
    for (struct follower *f = j->followers; f; f = f->next)
        if (f->cb)
            f->cb(recs, n, f->userdata);
    if (--j->notifying == 0 && j->unfollowed) {
        j->unfollowed = false;
        for (struct follower **p = &j->followers; *p;) {
            struct follower *f = *p;
            if (f->cb) {
                p = &f->next;
                continue;
            }
            *p = f->next;
            free(f);
        }
    }
}

/* A batch the store refused (disk full and the like): counted per unit, never silent, and the
 * count is written into the unit's journal as soon as appending works again (DISK-*). */
static void count_lost(struct journal *j, struct batch *b)
{
    if (j->dropped == 0)
        log_warning_errno(b->result, "Failed to store journal records; counting what is lost");
    j->dropped += b->n;
    for (size_t i = 0; i < b->n; i++) {
        struct unit_counters *c = counters_get(j, b->recs[i].unit);
        if (c) {
            c->lost_total++;
            c->lost_unreported++;
            c->last_error = -b->result;
        }
    }
}

/* Takes back every batch the writer is done with, in order: followers see the records, owners
 * of streams that ended learn it, reading resumes below QUEUE_LOW. */
static void drain_done(struct journal *j)
{
    bool stored_some = false;

    if (j->draining)
        return; /* a callback below got here again: the outer loop takes the rest in order */
    j->draining = true;
    for (;;) {
        struct batch *b;

        pthread_mutex_lock(&j->mu);
        b = j->d_head;
        if (b) {
            j->d_head = b->next;
            if (!j->d_head)
                j->d_tail = NULL;
        }
        pthread_mutex_unlock(&j->mu);
        if (!b)
            break;
        j->queued_bytes -= b->charged;
        j->in_flight--;
        j->stalled = false;
        if (b->n > 0 && b->result < 0) {
            count_lost(j, b);
        } else if (b->n > 0) {
            stored_some = true;
            /* Set first: a follower registered from a callback must not get these again. */
            j->last_seq = b->recs[b->n - 1].seq;
            notify_followers(j, b->recs, b->n);
        }
        if (b->lost_of) {
            b->lost_of->notice_in_flight = false;
            if (b->result >= 0)
                b->lost_of->lost_unreported -= b->lost_count;
        }
        if (b->eof && b->stream && b->stream->on_eof) {
            journal_eof_cb cb = b->stream->on_eof;
            b->stream->on_eof = NULL;
            cb(b->stream->userdata);
        }
        batch_recycle(j, b);
    }
    j->draining = false;
    if (j->in_flight == 0 && j->async_ref && j->async_open) {
        uv_unref((uv_handle_t *)&j->async); /* idle: the loop may end */
        j->async_ref = false;
    }
    if (j->queued_bytes <= QUEUE_LOW)
        resume_reading(j);
    if (stored_some)
        report_lost(j);
}

static void on_async(uv_async_t *a)
{
    drain_done(a->data);
}

/* ---- set-up ---- */

/* Lets the writer store what is queued, sync, and end; waits for it. */
static void writer_stop(struct journal *j)
{
    if (!j->thread_running)
        return;
    pthread_mutex_lock(&j->mu);
    j->quit = true;
    pthread_cond_signal(&j->wake);
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->thread, NULL);
    j->thread_running = false;
}

static void on_sync_timer(uv_timer_t *t);
static void on_submit_prepare(uv_prepare_t *h);

/* A quarter of the user's pipe-user-pages-soft; no limit when it is 0 (none), nothing when it
 * cannot be read. */
static size_t flood_budget_pages(void)
{
    char buf[32], *end;
    unsigned long soft;
    FILE *f = fopen("/proc/sys/fs/pipe-user-pages-soft", "re");
    bool ok = f && fgets(buf, sizeof(buf), f);

    if (f)
        fclose(f);
    if (!ok)
        return 0;
    errno = 0;
    soft = strtoul(buf, &end, 10);
    if (errno != 0 || end == buf)
        return 0;
    return soft == 0 ? SIZE_MAX : (size_t)(soft / 4);
}

int journal_new(uv_loop_t *loop, const char *dir, const struct journal_options *opts,
                struct journal **ret)
{
    struct journal *j = calloc(1, sizeof(*j));
    pthread_condattr_t ca;
    sigset_t all, old;
    int r;

    if (!j)
        return -ENOMEM;
    j->loop = loop;
    if (opts)
        j->opts = *opts;
    if (j->opts.line_max == 0)
        j->opts.line_max = JOURNAL_LINE_MAX_DEFAULT;
    if (j->opts.rate_interval_usec == 0)
        j->opts.rate_interval_usec = 30 * 1000000ULL;
    if (j->opts.rate_burst == 0)
        j->opts.rate_burst = 10000;
    if (j->opts.sync_interval_usec == 0)
        j->opts.sync_interval_usec = 5 * 60 * 1000000ULL;
    j->line_max = j->opts.line_max;
    j->flood_budget = flood_budget_pages();
    j->dir = strdup(dir);
    if (!j->dir) {
        free(j);
        return -ENOMEM;
    }
    r = journal_store_open(dir, &j->opts.limits, &j->store);
    if (r < 0) {
        free(j->dir);
        free(j);
        return r;
    }
    j->last_seq = journal_store_last_seq(j->store);
    /* What a crash left and opening mended, said once (JRN-1). */
    struct journal_repair rep;
    journal_store_get_repair(j->store, &rep);
    if (rep.files_truncated > 0 || rep.files_set_aside > 0)
        log_warning("Journal: cut %u torn tail(s) (%llu bytes), set %u damaged file(s) aside.",
                    rep.files_truncated, (unsigned long long)rep.bytes_truncated,
                    rep.files_set_aside);

    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->wake, NULL);
    pthread_cond_init(&j->written, &ca);
    pthread_condattr_destroy(&ca);
    /* The writer takes no signals: they are the loop thread's (uv_signal_t). It sends on the
     * async handle only for a batch, and there is none before this function returns. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    r = -pthread_create(&j->thread, NULL, writer_main, j);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r < 0)
        goto fail;
    j->thread_running = true;
    r = uv_async_init(loop, &j->async, on_async);
    if (r < 0) {
        writer_stop(j);
        goto fail;
    }
    j->async.data = j;
    j->async_open = true;
    j->open_handles++;
    uv_unref((uv_handle_t *)&j->async);

    uv_prepare_init(loop, &j->submit_prepare);
    j->submit_prepare.data = j;
    j->submit_prepare_open = true;
    j->open_handles++;
    uv_prepare_start(&j->submit_prepare, on_submit_prepare);
    uv_unref((uv_handle_t *)&j->submit_prepare);

    uv_timer_init(loop, &j->sync_timer);
    j->sync_timer.data = j;
    j->sync_timer_open = true;
    j->open_handles++;
    uint64_t ms = j->opts.sync_interval_usec / 1000;
    uv_timer_start(&j->sync_timer, on_sync_timer, ms, ms);
    uv_unref((uv_handle_t *)&j->sync_timer); /* the loop may end with it armed */
    *ret = j;
    return 0;
fail:
    pthread_cond_destroy(&j->wake);
    pthread_cond_destroy(&j->written);
    pthread_mutex_destroy(&j->mu);
    journal_store_free(j->store);
    free(j->dir);
    free(j);
    return r;
}

const char *journal_directory(const struct journal *j)
{
    return j->dir;
}

uint64_t journal_dropped(const struct journal *j)
{
    return j->dropped;
}

/* FNV-1a of a unit name. */
static size_t name_hash(const char *name)
{
    uint64_t h = 14695981039346656037ULL;

    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)h;
}

static struct unit_counters *counters_find(const struct journal *j, const char *unit)
{
    if (j->n_counter_buckets == 0)
        return NULL;
    for (struct unit_counters *c = j->counter_buckets[name_hash(unit) & (j->n_counter_buckets - 1)];
         c; c = c->hnext)
        if (strcmp(c->unit, unit) == 0)
            return c;
    return NULL;
}

/* Doubles the buckets once there are as many counters; on out-of-memory the chains just grow. */
static void counters_rehash(struct journal *j)
{
    size_t n = j->n_counter_buckets ? j->n_counter_buckets * 2 : 64;
    struct unit_counters **b = calloc(n, sizeof(*b));

    if (!b)
        return;
    for (struct unit_counters *c = j->counters; c; c = c->next) {
        size_t i = name_hash(c->unit) & (n - 1);
        c->hnext = b[i];
        b[i] = c;
    }
    free(j->counter_buckets);
    j->counter_buckets = b;
    j->n_counter_buckets = n;
}

/* The unit's counters, made on first use; NULL on out-of-memory. */
static struct unit_counters *counters_get(struct journal *j, const char *unit)
{
    struct unit_counters *c = counters_find(j, unit);

    if (c)
        return c;
    if (j->n_counters >= j->n_counter_buckets)
        counters_rehash(j);
    if (j->n_counter_buckets == 0)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->unit = strdup(unit);
    if (!c->unit) {
        free(c);
        return NULL;
    }
    c->next = j->counters;
    j->counters = c;
    size_t i = name_hash(unit) & (j->n_counter_buckets - 1);
    c->hnext = j->counter_buckets[i];
    j->counter_buckets[i] = c;
    j->n_counters++;
    return c;
}

/* A record of minisupd's own, its strings copied into a block of the batch. */
static bool add_manager_record(struct journal *j, struct batch *b, const char *unit,
                               const char *invocation, int priority, const char *message)
{
    size_t lu = strlen(unit) + 1, li = strlen(invocation) + 1, lm = strlen(message);
    struct block *k = block_new(lu + li + lm);
    struct journal_record rec = {
        .realtime_usec = clock_usec(CLOCK_REALTIME),
        .monotonic_usec = clock_usec(CLOCK_MONOTONIC),
        .identifier = "minisupd",
        .pid = getpid(),
        .stream = JOURNAL_STREAM_MANAGER,
        .priority = priority,
        .message_len = lm,
    };

    if (!k) {
        j->dropped++;
        return false;
    }
    memcpy(k->data, unit, lu);
    memcpy(k->data + lu, invocation, li);
    memcpy(k->data + lu + li, message, lm);
    rec.unit = k->data;
    rec.invocation = k->data + lu;
    rec.message = k->data + lu + li;
    batch_attach_block(b, k);
    return batch_add(j, b, &rec);
}

/* Storage works again: say what was lost meanwhile. The count is forgotten only once the notice
 * itself is stored: a nearly full disk may take one batch and refuse the next, and the notice
 * must not take the count down with it (DISK-1). */
static void report_lost(struct journal *j)
{
    for (struct unit_counters *c = j->counters; c; c = c->next) {
        struct batch *b;
        char msg[300];

        if (c->lost_unreported == 0 || c->notice_in_flight || j->closing)
            continue;
        batch_submit(j); /* whatever is being built goes first */
        b = cur_batch(j);
        if (!b)
            return;
        snprintf(msg, sizeof(msg), "Journal: %llu records of %s could not be stored: %s",
                 (unsigned long long)c->lost_unreported, c->unit, strerror(c->last_error));
        if (!add_manager_record(j, b, c->unit, c->invocation, LOG_WARNING, msg))
            return;
        b->lost_of = c;
        b->lost_count = c->lost_unreported;
        c->notice_in_flight = true;
        batch_submit(j);
    }
}

/* ---- line assembly (loop thread) ---- */

/* "<N>" at the start of a line sets its priority, as journald's SyslogLevelPrefix= does. */
static int parse_level_prefix(const char **msg, size_t *len)
{
    const char *m = *msg;

    if (*len >= 3 && m[0] == '<' && m[1] >= '0' && m[1] <= '7' && m[2] == '>') {
        *msg += 3;
        *len -= 3;
        return m[1] - '0';
    }
    return -1;
}

static void journal_notice(struct journal *j, struct unit_counters *c, int priority,
                           const char *message)
{
    journal_log_unit(j, c->unit, c->invocation, priority, message);
}

/* journald's per-service rate limit: at most burst lines per interval; the rest are counted
 * and reported with "Suppressed N messages from x.service" when the window ends. Pieces of one
 * long line count once. Returns false when the line must be dropped. */
static bool rate_allow(struct stream *s, uint64_t mono)
{
    struct unit_counters *c = s->counters;
    uint64_t interval = s->rate_interval_usec;
    unsigned burst = s->rate_burst;

    if (!c || interval == 0 || burst == 0 || s->continuing)
        return true;
    if (mono - c->window_start >= interval) {
        if (c->suppressed_now > 0) {
            char msg[300];
            snprintf(msg, sizeof(msg), "Suppressed %llu messages from %s",
                     (unsigned long long)c->suppressed_now, c->unit);
            c->suppressed_now = 0;
            snprintf(c->invocation, sizeof(c->invocation), "%s", s->invocation);
            journal_notice(s->j, c, LOG_WARNING, msg);
        }
        c->window_start = mono;
        c->in_window = 0;
    }
    if (c->in_window < burst) {
        c->in_window++;
        return true;
    }
    c->suppressed_now++;
    c->suppressed_total++;
    s->j->suppressed++;
    return false;
}

/* Adds one line (or LineMax piece) of s to the current batch. Returns whether it was added
 * (not dropped by the rate limit or for lack of memory). */
static bool emit(struct stream *s, const char *msg, size_t len, unsigned flags, uint64_t rt,
                 uint64_t mono)
{
    struct journal *j = s->j;
    struct journal_record rec = {
        .realtime_usec = rt,
        .monotonic_usec = mono,
        .unit = s->unit,
        .invocation = s->invocation,
        .identifier = s->identifier,
        .pid = s->pid,
        .stream = s->kind,
        .priority = s->default_priority,
        .flags = flags,
    };
    struct batch *b;
    bool added = false;

    /* A piece that continues a split line keeps the first piece's priority handling. */
    if (s->level_prefix && !s->continuing) {
        int p = parse_level_prefix(&msg, &len);
        if (p >= 0)
            rec.priority = p;
    }
    rec.message = msg;
    rec.message_len = len;
    if (!s->dropping_line && rate_allow(s, mono)) {
        b = cur_batch(j);
        if (!b) {
            j->dropped++;
        } else {
            batch_hold_stream(b, s);
            added = batch_add(j, b, &rec);
        }
    } else {
        s->dropping_line = (flags & JOURNAL_FLAG_CONTINUED) != 0; /* drop the rest of it too */
    }
    s->continuing = (flags & JOURNAL_FLAG_CONTINUED) != 0;
    return added;
}

/* Emits the stream's partial line; the batch takes its buffer over (a new one is allocated for
 * the next partial line), so no copy is made and no flush is needed before it is reused. */
static void emit_partial(struct stream *s, unsigned flags, uint64_t rt, uint64_t mono)
{
    if (emit(s, s->partial->data, s->partial_len, flags, rt, mono)) {
        batch_attach_block(s->j->cur, s->partial);
        s->partial = NULL;
    }
    s->partial_len = 0;
}

/* Splits data into lines, completing the stream's partial line first. */
static void assemble(struct stream *s, const char *data, size_t n, uint64_t rt, uint64_t mono)
{
    struct journal *j = s->j;

    while (n > 0) {
        bool plain;
        size_t take = journal_line_scan(data, n, &plain);
        bool nl = take < n; /* a newline ends this line within the read */

        if (s->partial_len == 0 && nl && take <= j->line_max) {
            /* The common case: a whole line inside this read, no copy; the scan that found its
             * end also told whether the formatter must escape it. */
            emit(s, data, take, plain ? JOURNAL_FLAG_PLAIN : 0, rt, mono);
        } else {
            /* Append to the partial line; pieces of line_max bytes are emitted as they fill. */
            size_t room = j->line_max - s->partial_len;
            size_t part = take < room ? take : room;
            if (!s->partial) {
                s->partial = block_new(j->line_max);
                if (!s->partial) {
                    j->dropped++;
                    return;
                }
            }
            memcpy(s->partial->data + s->partial_len, data, part);
            s->partial_len += part;
            if (s->partial_len == j->line_max && (part < take || !nl)) {
                emit_partial(s, JOURNAL_FLAG_CONTINUED, rt, mono);
                data += part;
                n -= part;
                continue;
            }
            if (!nl) /* the line goes on in the next read */
                return;
            emit_partial(s, 0, rt, mono);
        }
        data += take + 1;
        n -= take + 1;
    }
}

/* ---- streams ---- */

static void stream_free(struct stream *s)
{
    free(s->unit);
    free(s->invocation);
    free(s->identifier);
    free(s->partial);
    free(s);
}

static void stream_unref(struct stream *s)
{
    if (--s->refs == 0)
        stream_free(s);
}

static void maybe_free_journal(struct journal *j)
{
    if (!j->closing || j->open_handles > 0)
        return;
    journal_store_free(j->store);
    while (j->free_batches) {
        struct batch *b = j->free_batches;
        j->free_batches = b->next;
        free(b->recs);
        free(b->buf);
        free(b);
    }
    free(j->spare_buf);
    while (j->followers) {
        struct follower *f = j->followers;
        j->followers = f->next;
        free(f);
    }
    while (j->counters) {
        struct unit_counters *c = j->counters;
        j->counters = c->next;
        free(c->unit);
        free(c);
    }
    free(j->counter_buckets);
    pthread_cond_destroy(&j->wake);
    pthread_cond_destroy(&j->written);
    pthread_mutex_destroy(&j->mu);
    free(j->dir);
    free(j);
}

static void on_stream_closed(uv_handle_t *h)
{
    struct stream *s = h->data;
    struct journal *j = s->j;

    stream_unref(s);
    j->open_handles--;
    maybe_free_journal(j);
}

static void stream_close(struct stream *s)
{
    struct journal *j = s->j;

    if (s->prev)
        s->prev->next = s->next;
    else
        j->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->reading = false;
    if (s->flooding)
        j->flood_budget += FLOOD_PIPE_SIZE / 4096;
    uv_close((uv_handle_t *)&s->pipe, on_stream_closed);
}

/* Closes s and tells its owner at once, without waiting for a batch to be stored. */
static void stream_close_now(struct stream *s)
{
    journal_eof_cb cb = s->on_eof;
    void *ud = s->userdata;

    s->on_eof = NULL;
    stream_close(s);
    if (cb)
        cb(ud);
}

/* Grows the pipe of a stream that keeps it full. Pipe capacity counts against the user's
 * pipe-user-pages-soft (past it, the kernel gives every new pipe of the user one page), so the
 * grown pipes together stay within a quarter of it. A refusal (pipe-max-size, the hard limit)
 * leaves the stream as it was. */
static void stream_flood(struct stream *s)
{
    struct journal *j = s->j;
    size_t pages = FLOOD_PIPE_SIZE / 4096;
    uv_os_fd_t fd;

    if (j->flood_budget < pages || uv_fileno((uv_handle_t *)&s->pipe, &fd) < 0 ||
        fcntl(fd, F_SETPIPE_SZ, FLOOD_PIPE_SIZE) < 0) {
        s->full_reads = 0;
        return;
    }
    j->flood_budget -= pages;
    s->flooding = true;
    log_debug("Journal: %s floods its %s; its pipe now holds %d KiB.", s->unit,
              s->kind == JOURNAL_STREAM_STDERR ? "stderr" : "stdout", FLOOD_PIPE_SIZE / 1024);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct stream *s = h->data;
    struct journal *j = s->j;
    struct batch *b = cur_batch(j);
    size_t want = s->flooding ? FLOOD_READ_CHUNK : READ_CHUNK;

    buf->base = NULL;
    buf->len = 0; /* libuv reports UV_ENOBUFS: out of memory, the read is tried again later */
    if (!b)
        return;
    if (b->buf && b->buf_cap < want) {
        free(b->buf);
        b->buf = NULL;
    }
    if (!b->buf && j->spare_buf && j->spare_cap >= want) {
        b->buf = j->spare_buf;
        b->buf_cap = j->spare_cap;
        j->spare_buf = NULL;
    }
    if (!b->buf) {
        b->buf = malloc(want);
        b->buf_cap = want;
        if (!b->buf)
            return;
    }
    buf->base = b->buf;
    buf->len = b->buf_cap;
}

static void on_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf)
{
    struct stream *s = h->data;
    struct journal *j = s->j;

    if (nread > 0) {
        uint64_t rt = clock_usec(CLOCK_REALTIME), mono = clock_usec(CLOCK_MONOTONIC);
        j->cur->buf_used = (size_t)nread; /* on_alloc() gave the buffer of j->cur */
        if ((size_t)nread < READ_CHUNK / 2)
            s->full_reads = 0;
        else if (++s->full_reads >= FLOOD_FULL_READS && !s->flooding)
            stream_flood(s);
        assemble(s, buf->base, (size_t)nread, rt, mono);
        batch_submit(j);
        return;
    }
    if (nread == 0 || nread == UV_ENOBUFS)
        return;
    /* EOF (or a read error, which ends the stream the same way): store the unfinished line; the
     * owner hears of the end once everything before it is stored. */
    if (s->partial_len > 0) {
        uint64_t rt = clock_usec(CLOCK_REALTIME), mono = clock_usec(CLOCK_MONOTONIC);
        emit_partial(s, JOURNAL_FLAG_NO_NEWLINE, rt, mono);
    }
    if (nread != UV_EOF)
        log_debug("Reading output of %s failed: %s", s->unit, uv_strerror((int)nread));
    if (s->partial_len == 0 && s->refs == 1) {
        /* No batch of its lines is with the writer (each holds a reference): all it wrote is
         * stored, so the owner hears of the end now. A restart then waits for no round trip
         * through the writer thread (bench W2). */
        stream_close_now(s);
        return;
    }
    struct batch *b = cur_batch(j);
    if (b) {
        batch_hold_stream(b, s);
        b->eof = true;
        stream_close(s);
        batch_submit(j);
    } else {
        stream_close_now(s); /* out of memory: say it now rather than never */
    }
}

int journal_attach(struct journal *j, int fd, const struct journal_source *src,
                   journal_eof_cb on_eof, void *userdata)
{
    struct stream *s = calloc(1, sizeof(*s));
    int r;

    if (!s) {
        close(fd);
        return -ENOMEM;
    }
    s->j = j;
    s->refs = 1;
    s->unit = strdup(src->unit);
    s->invocation = strdup(src->invocation ? src->invocation : "");
    s->identifier = strdup(src->identifier ? src->identifier : src->unit);
    s->pid = src->pid;
    s->kind = src->stream;
    s->default_priority = src->default_priority;
    s->level_prefix = src->level_prefix;
    s->counters = counters_get(j, src->unit);
    s->rate_interval_usec = src->rate_interval_usec == UINT64_MAX - 1 ? j->opts.rate_interval_usec
                                                                      : src->rate_interval_usec;
    s->rate_burst = src->rate_burst == UINT_MAX ? j->opts.rate_burst : src->rate_burst;
    if (s->rate_interval_usec == UINT64_MAX || s->rate_burst == UINT_MAX)
        s->rate_interval_usec = 0; /* off */
    s->on_eof = on_eof;
    s->userdata = userdata;
    if (!s->unit || !s->invocation || !s->identifier) {
        close(fd);
        stream_free(s);
        return -ENOMEM;
    }
    r = uv_pipe_init(j->loop, &s->pipe, 0);
    if (r < 0) {
        close(fd);
        stream_free(s);
        return r;
    }
    s->pipe.data = s;
    j->open_handles++;
    s->next = j->streams;
    if (j->streams)
        j->streams->prev = s;
    j->streams = s;
    r = uv_pipe_open(&s->pipe, fd);
    if (r >= 0 && !j->paused) {
        r = uv_read_start((uv_stream_t *)&s->pipe, on_alloc, on_read);
        s->reading = r >= 0;
    }
    if (r < 0) {
        s->on_eof = NULL;
        stream_close(s); /* closes fd with the handle once it was opened */
        return r;
    }
    return 0;
}

long journal_unread_bytes(const struct journal *j, const void *userdata, size_t *ret_open)
{
    long total = 0;

    *ret_open = 0;
    for (const struct stream *s = j->streams; s; s = s->next) {
        uv_os_fd_t fd;
        int n = 0;

        if (s->userdata != userdata)
            continue;
        (*ret_open)++;
        if (!s->reading)
            return -1;
        if (uv_fileno((const uv_handle_t *)&s->pipe, &fd) < 0 || ioctl(fd, FIONREAD, &n) < 0)
            return -1;
        /* An unfinished line counts: it is stored at EOF, and must not come after the news
         * of its process's exit. So does a batch of its lines still with the writer (it holds
         * a reference): the owner hears of an end only once what came before is stored. */
        total += n + (long)s->partial_len + (s->refs > 1 ? 1 : 0);
    }
    return total;
}

void journal_unit_stats(const struct journal *j, const char *unit, struct journal_unit_stats *ret)
{
    memset(ret, 0, sizeof(*ret));
    if (j->dropped == 0 && j->suppressed == 0)
        return; /* the usual case: nothing to look up */
    const struct unit_counters *c = counters_find(j, unit);
    if (c) {
        ret->suppressed = c->suppressed_total;
        ret->lost = c->lost_total;
        ret->lost_unreported = c->lost_unreported;
        ret->error = c->lost_total > 0 ? c->last_error : 0;
    }
}

static void on_sync_timer(uv_timer_t *t)
{
    struct journal *j = t->data;
    uint64_t now = uv_hrtime() / 1000;
    struct batch *b;

    /* The writer syncs after what is queued now: periodic, as the fsync policy says. */
    batch_submit(j);
    b = cur_batch(j);
    if (b) {
        b->sync = true;
        batch_submit(j);
    }
    /* A unit that went quiet still gets its suppression report. */
    for (struct unit_counters *c = j->counters; c; c = c->next) {
        if (c->suppressed_now > 0 && now - c->window_start >= j->opts.rate_interval_usec) {
            char msg[300];
            snprintf(msg, sizeof(msg), "Suppressed %llu messages from %s",
                     (unsigned long long)c->suppressed_now, c->unit);
            c->suppressed_now = 0;
            journal_notice(j, c, LOG_WARNING, msg);
        }
    }
}

void journal_log_unit(struct journal *j, const char *unit, const char *invocation, int priority,
                      const char *message)
{
    struct batch *b = cur_batch(j);

    /* Inside a read (the rate limit's notice) the record joins that read's batch after the lines
     * before it. Otherwise it waits in j->cur with the other records of this turn of the loop
     * (a restart's three, a start-up's thousand "Started"), and they go to the writer together
     * (on_submit_prepare()), or with the next read, which then comes after them. Either way it
     * keeps its place in the order, and the writer is woken once, not per record. */
    if (!b) {
        j->dropped++;
        return;
    }
    add_manager_record(j, b, unit, invocation ? invocation : "", priority, message);
    if (b->stream)
        return;
    if (b->sync)
        batch_submit(j); /* crit or worse: stored and synced at once, as journald does */
}

/* The loop is about to wait: what this turn logged goes to the writer now. */
static void on_submit_prepare(uv_prepare_t *h)
{
    batch_submit(h->data);
}

void *journal_follow(struct journal *j, journal_follow_cb cb, void *userdata)
{
    struct follower *f = calloc(1, sizeof(*f));

    if (!f)
        return NULL;
    f->cb = cb;
    f->userdata = userdata;
    f->next = j->followers;
    j->followers = f;
    return f;
}

void journal_unfollow(struct journal *j, void *handle)
{
    for (struct follower **p = &j->followers; *p; p = &(*p)->next) {
        if (*p == handle) {
            struct follower *f = *p;
            if (j->notifying) {
                f->cb = NULL; /* removed once the followers are notified */
                j->unfollowed = true;
                return;
            }
            *p = f->next;
            free(f);
            return;
        }
    }
}

/* Waits until the writer has given back every batch submitted so far, or until deadline_ms
 * passed (0: no deadline). Returns false on the deadline. */
static bool wait_written(struct journal *j, int deadline_ms)
{
    struct timespec ts;
    uint64_t target = j->enqueued;
    bool ok = true;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += deadline_ms / 1000;
    ts.tv_nsec += (long)(deadline_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&j->mu);
    while (j->n_written < target && ok) {
        if (deadline_ms == 0)
            pthread_cond_wait(&j->written, &j->mu);
        else if (pthread_cond_timedwait(&j->written, &j->mu, &ts) == ETIMEDOUT)
            ok = j->n_written >= target;
    }
    pthread_mutex_unlock(&j->mu);
    return ok;
}

uint64_t journal_last_seq(struct journal *j)
{
    batch_submit(j);
    drain_done(j);
    /* Records in flight are usually stored within microseconds: wait for them, so a query sees
     * what was written before it. A disk that stalls must not stall the loop, though: after one
     * wait of FLUSH_WAIT_MS in vain, no query waits until the writer makes progress again; the
     * answer then ends at the last record stored, and followers get the rest. */
    if (j->in_flight > 0 && !j->draining && !j->stalled) {
        if (!wait_written(j, FLUSH_WAIT_MS))
            j->stalled = true;
        drain_done(j);
    }
    return j->last_seq;
}

void journal_flush(struct journal *j)
{
    batch_submit(j);
    if (j->draining)
        return;
    (void)wait_written(j, 0);
    drain_done(j);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct journal *j = h->data;

    j->open_handles--;
    maybe_free_journal(j);
}

void journal_close(struct journal *j)
{
    if (!j)
        return;
    /* Whatever is still buffered in the pipes is read first by the callers' drain; here we
     * store the unfinished lines, close the streams, and wait for the writer. */
    while (j->streams) {
        struct stream *s = j->streams;
        if (s->partial_len > 0) {
            uint64_t rt = clock_usec(CLOCK_REALTIME), mono = clock_usec(CLOCK_MONOTONIC);
            emit_partial(s, JOURNAL_FLAG_NO_NEWLINE, rt, mono);
            batch_submit(j);
        }
        /* Owners learn that the stream is gone, so they can release what they hold for it. */
        stream_close_now(s);
    }
    batch_submit(j);
    j->closing = true;
    if (j->sync_timer_open) {
        j->sync_timer_open = false;
        uv_close((uv_handle_t *)&j->sync_timer, on_handle_closed);
    }
    if (j->submit_prepare_open) {
        j->submit_prepare_open = false;
        uv_close((uv_handle_t *)&j->submit_prepare, on_handle_closed);
    }
    /* Everything read is stored before minisupd exits: the writer empties its queue, syncs and
     * ends; then followers and owners hear of the last batches. */
    writer_stop(j);
    drain_done(j);
    if (j->cur) {
        batch_recycle(j, j->cur);
        j->cur = NULL;
    }
    if (j->async_open) {
        j->async_open = false;
        uv_close((uv_handle_t *)&j->async, on_handle_closed);
    }
    maybe_free_journal(j);
}
