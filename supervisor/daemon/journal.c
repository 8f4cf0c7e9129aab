/* Line assembly and attribution for service output. Every read is turned into one batch of
 * records (one clock reading, one store append), so a flood costs one write per read, not one
 * per line. A stream keeps its own attribution for life: lines still draining from run k are
 * never tagged with run k+1 (LOG-8). */
#include "journal.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* One read: libuv calls alloc then read on the same stream before any other, so all streams can
 * share a single buffer; only a partial line is kept per stream. */
#define READ_CHUNK (64 * 1024)
/* Records per store append; a 64 KiB read of short lines is split into several batches. */
#define BATCH_MAX 1024

/* Rate limit and loss accounting of one unit, shared by all its streams and runs. */
struct unit_counters {
    char *unit;
    uint64_t window_start; /* monotonic µs */
    unsigned in_window;
    uint64_t suppressed_now; /* in the current window, reported when it ends */
    uint64_t suppressed_total, lost_total, lost_unreported;
    int last_error;
    char invocation[33];
    struct unit_counters *next;
};

struct follower {
    journal_follow_cb cb;
    void *userdata;
    struct follower *next;
};

struct stream {
    uv_pipe_t pipe;
    struct journal *j;
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
    char *partial;      /* bytes of an unfinished line, up to line_max */
    size_t partial_len;
    journal_eof_cb on_eof;
    void *userdata;
    struct stream *prev, *next;
};

struct journal {
    uv_loop_t *loop;
    char *dir;
    struct journal_store *store;
    size_t line_max;
    char read_buf[READ_CHUNK];
    struct stream *streams;
    struct follower *followers;
    unsigned notifying;  /* inside the followers' callbacks */
    bool unfollowed;     /* some were unfollowed meanwhile: remove them afterwards */
    bool reporting_lost; /* storing the notices of lost records: no nested reporting */
    struct unit_counters *counters;
    struct journal_options opts;
    uv_timer_t sync_timer;
    bool sync_timer_open;
    bool sync_pending; /* a record of priority crit or higher went in: sync at once */
    uint64_t dropped;
    unsigned open_handles;
    bool closing;
    /* The batch being built. */
    struct journal_record batch[BATCH_MAX];
    size_t batch_n;
};

static uint64_t clock_usec(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

static void on_sync_timer(uv_timer_t *t);

int journal_new(uv_loop_t *loop, const char *dir, const struct journal_options *opts,
                struct journal **ret)
{
    struct journal *j = calloc(1, sizeof(*j));
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
    /* What a crash left and opening mended, said once (JRN-1). */
    struct journal_repair rep;
    journal_store_get_repair(j->store, &rep);
    if (rep.files_truncated > 0 || rep.files_set_aside > 0)
        log_warning("Journal: cut %u torn tail(s) (%llu bytes), set %u damaged file(s) aside.",
                    rep.files_truncated, (unsigned long long)rep.bytes_truncated,
                    rep.files_set_aside);
    uv_timer_init(loop, &j->sync_timer);
    j->sync_timer.data = j;
    j->sync_timer_open = true;
    j->open_handles++;
    uint64_t ms = j->opts.sync_interval_usec / 1000;
    uv_timer_start(&j->sync_timer, on_sync_timer, ms, ms);
    uv_unref((uv_handle_t *)&j->sync_timer); /* the loop may end with it armed */
    *ret = j;
    return 0;
}

const char *journal_directory(const struct journal *j)
{
    return j->dir;
}

uint64_t journal_dropped(const struct journal *j)
{
    return j->dropped;
}

static struct unit_counters *counters_get(struct journal *j, const char *unit)
{
    struct unit_counters *c;

    for (c = j->counters; c; c = c->next)
        if (strcmp(c->unit, unit) == 0)
            return c;
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
    return c;
}

static void journal_notice(struct journal *j, struct unit_counters *c, int priority,
                           const char *message);

/* Appends the batch. A failure (disk full) is counted per unit, never silent, and the count is
 * written into the unit's journal as soon as appending works again (DISK-*). */
static void batch_flush(struct journal *j)
{
    int r;

    if (j->batch_n == 0)
        return;
    r = journal_store_append(j->store, j->batch, j->batch_n);
    if (r < 0) {
        if (j->dropped == 0)
            log_warning_errno(r, "Failed to store journal records; counting what is lost");
        j->dropped += j->batch_n;
        for (size_t i = 0; i < j->batch_n; i++) {
            struct unit_counters *c = counters_get(j, j->batch[i].unit);
            if (c) {
                c->lost_total++;
                c->lost_unreported++;
                c->last_error = -r;
            }
        }
        j->batch_n = 0;
        return;
    }
    for (size_t i = 0; i < j->batch_n; i++)
        if (j->batch[i].priority <= LOG_CRIT)
            j->sync_pending = true;
    /* A callback may unfollow itself or another follower (a control client dropped for not
     * reading): journal_unfollow() only marks them while we walk the list. */
    j->notifying++;
    for (struct follower *f = j->followers; f; f = f->next)
        if (f->cb)
            f->cb(j->batch, j->batch_n, f->userdata);
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
    j->batch_n = 0;
    if (j->sync_pending) {
        /* journald syncs at once for crit, alert and emerg. */
        j->sync_pending = false;
        journal_store_sync(j->store);
    }
    /* Storage works again: say what was lost meanwhile. The count is forgotten only once the
     * notice itself is stored: a nearly full disk may take one batch and refuse the next, and
     * the notice must not take the count down with it (DISK-1). */
    if (j->reporting_lost)
        return;
    j->reporting_lost = true;
    for (struct unit_counters *c = j->counters; c; c = c->next) {
        uint64_t n = c->lost_unreported, dropped = j->dropped;
        char msg[300];

        if (n == 0)
            continue;
        snprintf(msg, sizeof(msg), "Journal: %llu records of %s could not be stored: %s",
                 (unsigned long long)n, c->unit, strerror(c->last_error));
        journal_notice(j, c, LOG_WARNING, msg);
        batch_flush(j);
        if (j->dropped != dropped)
            break; /* refused again (and counted): the next success reports it all */
        c->lost_unreported -= n;
    }
    j->reporting_lost = false;
}

static void batch_add(struct journal *j, const struct journal_record *rec)
{
    if (j->batch_n == BATCH_MAX)
        batch_flush(j);
    j->batch[j->batch_n++] = *rec;
}

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

/* journald's per-service rate limit: at most burst lines per interval; the rest are counted
 * and reported with "Suppressed N messages from x.service" when the window ends. Pieces of one
 * long line count once. Returns false when the line must be dropped. */
static bool rate_allow(struct stream *s, unsigned flags, uint64_t mono)
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
    (void)flags;
    return false;
}

static void emit(struct stream *s, const char *msg, size_t len, unsigned flags, uint64_t rt,
                 uint64_t mono)
{
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
    /* A piece that continues a split line keeps the first piece's priority handling. */
    if (s->level_prefix && !s->continuing) {
        int p = parse_level_prefix(&msg, &len);
        if (p >= 0)
            rec.priority = p;
    }
    rec.message = msg;
    rec.message_len = len;
    if (!s->dropping_line && rate_allow(s, flags, mono))
        batch_add(s->j, &rec);
    else
        s->dropping_line = (flags & JOURNAL_FLAG_CONTINUED) != 0; /* drop the rest of it too */
    s->continuing = (flags & JOURNAL_FLAG_CONTINUED) != 0;
}

/* Splits data into lines, completing the stream's partial line first. */
static void assemble(struct stream *s, const char *data, size_t n, uint64_t rt, uint64_t mono)
{
    struct journal *j = s->j;

    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t take = nl ? (size_t)(nl - data) : n;

        if (s->partial_len == 0 && nl && take <= j->line_max) {
            /* The common case: a whole line inside this read, no copy. */
            emit(s, data, take, 0, rt, mono);
        } else {
            /* Append to the partial line; pieces of line_max bytes are emitted as they fill. */
            size_t room = j->line_max - s->partial_len;
            size_t part = take < room ? take : room;
            if (!s->partial) {
                s->partial = malloc(j->line_max);
                if (!s->partial) {
                    j->dropped++;
                    return;
                }
            }
            memcpy(s->partial + s->partial_len, data, part);
            s->partial_len += part;
            if (s->partial_len == j->line_max && (part < take || !nl)) {
                /* Full piece: it must be stored before the buffer is reused. */
                emit(s, s->partial, s->partial_len, JOURNAL_FLAG_CONTINUED, rt, mono);
                batch_flush(j);
                s->partial_len = 0;
                data += part;
                n -= part;
                continue;
            }
            if (!nl) /* the line goes on in the next read */
                return;
            emit(s, s->partial, s->partial_len, 0, rt, mono);
            batch_flush(j); /* the partial buffer is about to be reused */
            s->partial_len = 0;
        }
        data += take + 1;
        n -= take + 1;
    }
}

static void stream_free(struct stream *s)
{
    free(s->unit);
    free(s->invocation);
    free(s->identifier);
    free(s->partial);
    free(s);
}

static void maybe_free_journal(struct journal *j)
{
    if (!j->closing || j->open_handles > 0)
        return;
    journal_store_sync(j->store);
    journal_store_free(j->store);
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
    free(j->dir);
    free(j);
}

static void on_stream_closed(uv_handle_t *h)
{
    struct stream *s = h->data;
    struct journal *j = s->j;

    stream_free(s);
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
    uv_close((uv_handle_t *)&s->pipe, on_stream_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct stream *s = h->data;

    buf->base = s->j->read_buf;
    buf->len = sizeof(s->j->read_buf);
}

static void on_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf)
{
    struct stream *s = h->data;
    struct journal *j = s->j;

    if (nread > 0) {
        uint64_t rt = clock_usec(CLOCK_REALTIME), mono = clock_usec(CLOCK_MONOTONIC);
        assemble(s, buf->base, (size_t)nread, rt, mono);
        batch_flush(j);
        return;
    }
    if (nread == 0)
        return;
    /* EOF (or a read error, which ends the stream the same way): store the unfinished line. */
    if (s->partial_len > 0) {
        uint64_t rt = clock_usec(CLOCK_REALTIME), mono = clock_usec(CLOCK_MONOTONIC);
        emit(s, s->partial, s->partial_len, JOURNAL_FLAG_NO_NEWLINE, rt, mono);
        s->partial_len = 0;
    }
    batch_flush(j);
    if (nread != UV_EOF)
        log_debug("Reading output of %s failed: %s", s->unit, uv_strerror((int)nread));
    journal_eof_cb cb = s->on_eof;
    void *ud = s->userdata;
    stream_close(s);
    if (cb)
        cb(ud);
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
    if (r >= 0)
        r = uv_read_start((uv_stream_t *)&s->pipe, on_alloc, on_read);
    if (r < 0) {
        s->on_eof = NULL;
        stream_close(s); /* closes fd with the handle once it was opened */
        return r;
    }
    return 0;
}

static void journal_notice(struct journal *j, struct unit_counters *c, int priority,
                           const char *message)
{
    journal_log_unit(j, c->unit, c->invocation, priority, message);
}

void journal_unit_counters(const struct journal *j, const char *unit, uint64_t *ret_suppressed,
                           uint64_t *ret_lost)
{
    *ret_suppressed = *ret_lost = 0;
    for (struct unit_counters *c = j->counters; c; c = c->next)
        if (strcmp(c->unit, unit) == 0) {
            *ret_suppressed = c->suppressed_total;
            *ret_lost = c->lost_total;
        }
}

static void on_sync_timer(uv_timer_t *t)
{
    struct journal *j = t->data;
    uint64_t now = uv_hrtime() / 1000;

    batch_flush(j);
    journal_store_sync(j->store);
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
    struct journal_record rec = {
        .realtime_usec = clock_usec(CLOCK_REALTIME),
        .monotonic_usec = clock_usec(CLOCK_MONOTONIC),
        .unit = unit,
        .invocation = invocation ? invocation : "",
        .identifier = "minisupd",
        .pid = getpid(),
        .stream = JOURNAL_STREAM_MANAGER,
        .priority = priority,
        .message = message,
        .message_len = strlen(message),
    };

    batch_flush(j);
    batch_add(j, &rec);
    batch_flush(j);
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
                f->cb = NULL; /* removed once batch_flush() is done with the list */
                j->unfollowed = true;
                return;
            }
            *p = f->next;
            free(f);
            return;
        }
    }
}

uint64_t journal_last_seq(struct journal *j)
{
    batch_flush(j);
    return journal_store_last_seq(j->store);
}

static void on_sync_timer_closed(uv_handle_t *h)
{
    struct journal *j = h->data;

    j->open_handles--;
    maybe_free_journal(j);
}

void journal_close(struct journal *j)
{
    if (!j)
        return;
    j->closing = true;
    if (j->sync_timer_open) {
        j->sync_timer_open = false;
        uv_close((uv_handle_t *)&j->sync_timer, on_sync_timer_closed);
    }
    /* Whatever is still buffered in the pipes is read first by the callers' drain; here we only
     * store the unfinished lines and close. */
    while (j->streams) {
        struct stream *s = j->streams;
        if (s->partial_len > 0) {
            uint64_t rt = clock_usec(CLOCK_REALTIME), mono = clock_usec(CLOCK_MONOTONIC);
            emit(s, s->partial, s->partial_len, JOURNAL_FLAG_NO_NEWLINE, rt, mono);
            s->partial_len = 0;
            batch_flush(j);
        }
        /* Owners learn that the stream is gone, so they can release what they hold for it. */
        journal_eof_cb cb = s->on_eof;
        void *ud = s->userdata;
        stream_close(s);
        if (cb)
            cb(ud);
    }
    maybe_free_journal(j);
}
