/* The journal on disk: the record format (one greppable text line per record, with a checksum),
 * the segment store the daemon appends to, and the reader that both minisupd and
 * `minisupctl journal --directory` use. No logging, no event loop: plain blocking file I/O on
 * the caller's thread. The format is documented in docs/journal-format.md. */
#ifndef MINISUP_JOURNAL_FILE_H
#define MINISUP_JOURNAL_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Limits of one record. A longer message is refused with -EMSGSIZE (the collector splits lines
 * at LineMax, far below this); a longer identifier is cut to JOURNAL_IDENTIFIER_MAX bytes. */
#define JOURNAL_MESSAGE_MAX (256 * 1024)
#define JOURNAL_IDENTIFIER_MAX 255
#define JOURNAL_UNIT_NAME_MAX 255
/* The longest line a reader accepts: a maximal record with every byte escaped. Longer lines are
 * damaged by definition and are skipped before anything is allocated for them (JRN-3). */
#define JOURNAL_LINE_MAX (4 * JOURNAL_MESSAGE_MAX + 4096)

enum journal_stream {
    JOURNAL_STREAM_STDOUT,
    JOURNAL_STREAM_STDERR,
    JOURNAL_STREAM_MANAGER, /* minisupd's own messages about the unit ("Started x.service.") */
    JOURNAL_STREAM_MAX,
};

enum journal_flags {
    /* This record is a piece of a longer line: the next record of the same stream continues it. */
    JOURNAL_FLAG_CONTINUED = 1 << 0,
    /* The line had no trailing newline (the stream ended, or the writer flushed at exit). */
    JOURNAL_FLAG_NO_NEWLINE = 1 << 1,
    /* Not stored: a hint from the writer of the record that the message holds only bytes the
     * format writes as they are (0x20..0x7e but the backslash), so it is copied unscanned.
     * Set it only from journal_line_scan(); a wrong hint would corrupt the line. */
    JOURNAL_FLAG_PLAIN = 1 << 2,
};

/* Finds the end of the line starting at data: the index of the first '\n' in data[0..n), or
 * n if there is none. *ret_plain tells whether the bytes before it need no escaping (see
 * JOURNAL_FLAG_PLAIN). One pass, 16 bytes at a time: the collector's memchr and the
 * formatter's scan of the common line in one. */
size_t journal_line_scan(const char *data, size_t n, bool *ret_plain);

/* One record. Strings are borrowed: from the caller when appending, from the reader's buffer
 * during a read callback (copy what you keep). `message` holds the raw bytes (any byte values,
 * including NUL) and is not NUL-terminated. */
struct journal_record {
    uint64_t realtime_usec;  /* CLOCK_REALTIME */
    uint64_t monotonic_usec; /* CLOCK_MONOTONIC */
    uint64_t seq;            /* assigned by the store on append, strictly increasing */
    const char *unit;        /* "fifo-echo.service" */
    const char *invocation;  /* 32 lower-case hex digits, as systemd's $INVOCATION_ID */
    const char *identifier;  /* SyslogIdentifier, e.g. "fifo-echo" */
    pid_t pid;
    enum journal_stream stream;
    int priority; /* 0..7 */
    unsigned flags;
    const char *message;
    size_t message_len;
};

/* Size limits for the store (journald's SystemMaxFileSize= and SystemMaxUse= analogues). */
struct journal_limits {
    uint64_t max_file_size; /* rotate a unit's current segment past this; 0 = default 8 MiB */
    uint64_t max_unit_use;  /* cap per unit over all its segments; 0 = default 64 MiB */
    uint64_t max_total_use; /* cap over all units; 0 = default 512 MiB */
};

struct journal_store;

/* Opens (creating if needed) the journal directory. Cuts a torn last line off each unit's
 * current segment, and continues the sequence numbers after the highest one found.
 * Returns 0 or a negative errno. */
int journal_store_open(const char *dir, const struct journal_limits *limits,
                       struct journal_store **ret);

/* What journal_store_open() found and mended, so the caller can log it once (JRN-1):
 * "Journal: cut 1 torn tail (57 bytes), set 0 damaged files aside". */
struct journal_repair {
    unsigned files_truncated; /* current segments cut back to their last good line */
    uint64_t bytes_truncated;
    unsigned files_set_aside; /* current segments without a single good line, now @...journal~ */
};

/* Copies the repair counts of the last journal_store_open() into *ret. */
void journal_store_get_repair(const struct journal_store *s, struct journal_repair *ret);

/* Appends records (seq is assigned here and written back to recs[i].seq). One write per call
 * where possible. Rotates and enforces the caps. Returns 0 or a negative errno (e.g. -ENOSPC);
 * on failure nothing of the batch is counted as stored. */
int journal_store_append(struct journal_store *s, struct journal_record *recs, size_t n);

/* The seq of the last record appended, 0 when there is none yet. */
uint64_t journal_store_last_seq(const struct journal_store *s);

/* fdatasync every open segment. */
int journal_store_sync(struct journal_store *s);

/* Closes files and frees; accepts NULL; returns NULL. */
struct journal_store *journal_store_free(struct journal_store *s);

/* A query. Zero-initialised means: every unit, all time, all priorities, no line limit. */
struct journal_query {
    const char *const *units; /* NULL-terminated list of unit names, or NULL for all */
    const char *invocation;   /* only this run, or NULL */
    const char *identifier;   /* only this SyslogIdentifier, or NULL */
    uint64_t since_usec;      /* realtime, inclusive; 0 = no bound */
    uint64_t until_usec;      /* realtime, inclusive; 0 = no bound */
    int min_priority;         /* most important accepted, e.g. 0 (emerg); -1 reads as 0, and
                               * -1 with max 0 asks for emerg only */
    int max_priority;         /* least important accepted, e.g. 7 (debug); -1 = 7; so that a
                               * zeroed query means all, min 0 with max 0 also means 0..7 */
    size_t lines;             /* only the last N matching records; 0 = all */
    uint64_t after_seq;       /* only records with seq > after_seq (follow resumes) */
    uint64_t until_seq;       /* only records with seq <= until_seq; 0 = no bound */
    bool reverse;             /* newest first */
};

/* Called for each matching record in order (by realtime, then seq; merged across units).
 * Return 0 to go on, non-zero to stop (that value is returned by journal_read). */
typedef int (*journal_record_cb)(const struct journal_record *rec, void *userdata);

/* Reads the journal directory `dir` (no daemon needed). Damaged records (bad checksum, bad
 * syntax) are skipped and counted in *ret_skipped if non-NULL. Returns 0, the callback's
 * non-zero value, or a negative errno. Uses seek-from-end for `lines` and bisection for
 * `since_usec`, never reading whole files when it need not. */
int journal_read(const char *dir, const struct journal_query *q, journal_record_cb cb,
                 void *userdata, size_t *ret_skipped);

/* The same read in steps, so that a daemon can answer a large query between other work: open
 * takes the query (which, with its strings, must outlive the reader) and positions the files;
 * each next() looks at most at `max` records (matching or not, so that a filter that matches
 * nothing costs bounded work per step too), hands the matching ones to cb, and sets *ret_more
 * while some may be left. Records appended after a unit's current segment was opened may or may not
 * be seen. next() returns 0, the callback's non-zero value (the reader then goes on after that
 * record), or a negative errno (final). Free with journal_reader_free(), which accepts NULL. */
struct journal_reader;
int journal_reader_open(const char *dir, const struct journal_query *q,
                        struct journal_reader **ret);
int journal_reader_next(struct journal_reader *rd, journal_record_cb cb, void *userdata, size_t max,
                        bool *ret_more);
size_t journal_reader_skipped(const struct journal_reader *rd);
void journal_reader_free(struct journal_reader *rd);

/* Formats one record as its on-disk line (with the trailing '\n') into buf. Returns the length,
 * or the length needed if it exceeds size (like snprintf). */
size_t journal_record_format(const struct journal_record *r, char *buf, size_t size);

/* Parses one on-disk line (without or with its '\n'). The record's strings point into
 * `scratch` (at least len bytes), which receives the unescaped message and the fields.
 * Returns 0, or -EBADMSG on a checksum or syntax error. */
int journal_record_parse(const char *line, size_t len, char *scratch, struct journal_record *ret);

const char *journal_stream_to_string(enum journal_stream s); /* "stdout", "stderr", "manager" */

/* Whether name can be a unit's journal: 1..JOURNAL_UNIT_NAME_MAX bytes of [A-Za-z0-9:_.@\\-],
 * not starting with '.' (so never "." or ".."). Other names get -EINVAL from the store. */
bool journal_unit_name_is_valid(const char *name);

#endif
