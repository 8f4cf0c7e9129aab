/* F5: the journal reader and the open-time repair. The input is written as a unit's segment,
 * <tmp>/j/fz.service/current.journal (docs/journal-format.md, "Layout"), then read with
 * journal_read() and repaired with journal_store_open(). Properties:
 *   - differential: journal_read() returns exactly the records of the input's lines that end in
 *     LF, pass journal_record_parse() (checksum and grammar) and have a seq from 1, in file order,
 *     and counts every other LF-terminated line as skipped (an unterminated tail is a line being
 *     written): a record with a bad checksum is never returned, a
 *     good one never lost;
 *   - every record returned re-formats (journal_record_format) to a line that
 *     journal_record_parse() accepts and that formats again to the same bytes;
 *   - `lines = N` returns the last N of those records, `reverse` all of them newest first;
 *   - repair: the first journal_store_open() either cuts current.journal back to a prefix of the
 *     input ending in a checked line, or sets the whole input aside byte for byte when it holds no
 *     checked line; the records read afterwards are the same; a second open repairs nothing more
 *     (journal_store_get_repair() all zero, files unchanged): the repair is idempotent;
 *   - after the repair the store appends after the last good line, with a seq above its seq, and
 *     the reader then returns the old records followed by the new one.
 * A custom mutator recomputes the CRCs of some lines after mutating, so that the search gets past
 * the checksum into the grammar (RELIABILITY.md §3, F5). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "fuzz.h"
#include "journal_file.h"
#include "journal_format.h"

#define UNIT "fz.service"
#define INPUT_MAX (64 * 1024)

static char base_dir[256]; /* <tmp>/minisup-fuzz-journal.XXXXXX */
static char jdir[300];     /* base/j */
static char udir[320];     /* base/j/fz.service */
static char cur_path[340]; /* base/j/fz.service/current.journal */

/* The records a read gave, each as its canonical (re-formatted) line. */
struct lines {
    char **v;
    size_t n, cap;
};

static void lines_push(struct lines *l, const char *s, size_t n)
{
    char *c = fuzz_xmalloc(n + 1);

    memcpy(c, s, n);
    c[n] = '\0';
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        if (!l->v)
            abort();
    }
    l->v[l->n++] = c;
}

static void lines_done(struct lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* Formats a record; checks the line parses back and re-formats to the same bytes. Returns the
 * line (new string, with its '\n') and its length. */
static char *canonical(const struct journal_record *r, size_t *ret_len)
{
    struct journal_record again;
    size_t n = journal_record_format(r, NULL, 0), m;
    char *line = fuzz_xmalloc(n + 1), *scratch = fuzz_xmalloc(n + 1), *line2;
    int k;

    FUZZ_CHECK(journal_record_format(r, line, n + 1) == n, "format length changed");
    line[n] = '\0';
    FUZZ_CHECK(n > 0 && line[n - 1] == '\n' && memchr(line, '\n', n) == line + n - 1,
               "a formatted record is not one line");
    k = journal_record_parse(line, n, scratch, &again);
    if (k != 0)
        fuzz_dump("formatted", line, n);
    FUZZ_CHECK(k == 0, "a returned record re-formats to a line journal_record_parse refuses");
    m = journal_record_format(&again, NULL, 0);
    line2 = fuzz_xmalloc(m + 1);
    journal_record_format(&again, line2, m + 1);
    FUZZ_CHECK(m == n && memcmp(line, line2, n) == 0, "format(parse(format(r))) != format(r)");
    free(line2);
    free(scratch);
    *ret_len = n;
    return line;
}

static int collect(const struct journal_record *r, void *userdata)
{
    size_t n;
    char *line = canonical(r, &n);

    FUZZ_CHECK(r->priority >= 0 && r->priority <= 7 && (unsigned)r->stream < JOURNAL_STREAM_MAX,
               "record with priority %d, stream %d", r->priority, (int)r->stream);
    lines_push(userdata, line, n);
    free(line);
    return 0;
}

/* The reference reader: the input's LF-terminated lines that journal_record_parse() accepts with
 * a seq from 1, in order; *ret_bad counts the other lines (not an unterminated tail: the input
 * is a current segment, whose end may be a line still being written).
 * *ret_last_good_end is the end of the last line journal_line_peek() accepts with a seq from 1
 * (what the repair keeps), 0 for none. */
static void reference(const char *data, size_t size, struct lines *ret, size_t *ret_bad,
                      size_t *ret_last_good_end, uint64_t *ret_last_seq)
{
    char *scratch = fuzz_xmalloc(size + 1);
    size_t pos = 0;

    *ret_bad = 0;
    *ret_last_good_end = 0;
    *ret_last_seq = 0;
    while (pos < size) {
        const char *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        struct journal_record r;
        uint64_t rt, seq;
        bool peeked;

        if (!nl)
            break; /* the unfinished end of current.journal is not damage (a live journal) */
        /* The grammar's seq starts at 1 (docs/journal-format.md), which journal_line_peek() and
         * journal_record_parse() leave to their callers: a line with seq 0 is damage (J1). */
        peeked = len > 0 && journal_line_peek(data + pos, len, &rt, &seq) == 0 && seq > 0;
        if (peeked) {
            *ret_last_good_end = pos + len + 1;
            *ret_last_seq = seq;
        }
        if (len > 0 && journal_record_parse(data + pos, len, scratch, &r) == 0 && r.seq > 0) {
            size_t n;
            char *line = canonical(&r, &n);

            lines_push(ret, line, n);
            free(line);
        } else {
            (*ret_bad)++;
        }
        pos += len + 1;
    }
    free(scratch);
}

static void check_same(const struct lines *want, const struct lines *got, bool reversed,
                       const char *what)
{
    FUZZ_CHECK(want->n == got->n, "%s: %zu records, the input holds %zu good ones", what, got->n,
               want->n);
    for (size_t i = 0; i < want->n; i++) {
        const char *w = want->v[reversed ? want->n - 1 - i : i];

        if (strcmp(w, got->v[i]) != 0) {
            fuzz_dump("expected", w, strlen(w));
            fuzz_dump("returned", got->v[i], strlen(got->v[i]));
        }
        FUZZ_CHECK(strcmp(w, got->v[i]) == 0, "%s: record %zu differs", what, i);
    }
}

static void read_all(const struct journal_query *q, struct lines *ret, size_t *ret_skipped)
{
    int r = journal_read(jdir, q, collect, ret, ret_skipped);

    FUZZ_CHECK(r == 0, "journal_read returned %d", r);
}

static char *read_file(const char *path, size_t *ret_len)
{
    char *buf = fuzz_xmalloc(INPUT_MAX + 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    FUZZ_CHECK(fd >= 0, "cannot open %s: %s", path, strerror(errno));
    n = read(fd, buf, INPUT_MAX + 1);
    FUZZ_CHECK(n >= 0 && n <= INPUT_MAX, "cannot read %s", path);
    close(fd);
    *ret_len = (size_t)n;
    return buf;
}

/* The names in the unit directory: how many, and the one set-aside file if there is one. */
static size_t list_unit_dir(char *aside, size_t aside_size, bool *ret_has_current)
{
    DIR *d = opendir(udir);
    struct dirent *de;
    size_t n = 0;

    FUZZ_CHECK(d, "unit directory gone: %s", strerror(errno));
    aside[0] = '\0';
    *ret_has_current = false;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        n++;
        if (strcmp(de->d_name, "current.journal") == 0)
            *ret_has_current = true;
        else if (l > 0 && de->d_name[l - 1] == '~')
            snprintf(aside, aside_size, "%s/%s", udir, de->d_name);
    }
    closedir(d);
    return n;
}

static void empty_unit_dir(void)
{
    DIR *d = opendir(udir);
    struct dirent *de;

    if (!d)
        abort();
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            if (unlinkat(dirfd(d), de->d_name, 0) < 0)
                abort();
    closedir(d);
}

static void write_input(const uint8_t *data, size_t size)
{
    int fd = open(cur_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    size_t off = 0;

    if (fd < 0)
        abort();
    while (off < size) {
        ssize_t k = write(fd, data + off, size - off);

        if (k <= 0)
            abort();
        off += (size_t)k;
    }
    close(fd);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void cleanup(void)
{
    if (base_dir[0])
        nftw(base_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");

    (void)argc;
    (void)argv;
    snprintf(base_dir, sizeof(base_dir), "%s/minisup-fuzz-journal.XXXXXX",
             tmp && tmp[0] == '/' ? tmp : "/tmp");
    if (!mkdtemp(base_dir))
        abort();
    snprintf(jdir, sizeof(jdir), "%s/j", base_dir);
    snprintf(udir, sizeof(udir), "%s/" UNIT, jdir);
    snprintf(cur_path, sizeof(cur_path), "%s/current.journal", udir);
    if (mkdir(jdir, 0750) < 0 || mkdir(udir, 0750) < 0)
        abort();
    atexit(cleanup);
    return 0;
}

static void check_repair(const uint8_t *data, size_t size, const struct lines *want,
                         size_t last_good_end, uint64_t last_seq)
{
    struct journal_store *s = NULL;
    struct journal_repair rep, rep2;
    struct journal_record rec = {
        .realtime_usec = 1718000000000000,
        .monotonic_usec = 5,
        .unit = UNIT,
        .invocation = "0123456789abcdef0123456789abcdef",
        .identifier = "fz",
        .pid = 42,
        .stream = JOURNAL_STREAM_STDOUT,
        .priority = 6,
        .message = "appended",
        .message_len = 8,
    };
    struct lines after = {0}, again = {0};
    char aside[700];
    bool has_current;
    size_t n_files, len, skipped;
    char *bytes;
    int r;

    r = journal_store_open(jdir, NULL, &s);
    FUZZ_CHECK(r == 0, "journal_store_open returned %d", r);
    journal_store_get_repair(s, &rep);
    s = journal_store_free(s);

    n_files = list_unit_dir(aside, sizeof(aside), &has_current);
    if (last_good_end > 0) {
        /* Cut back right after the last checked line, or left alone when it ends there. */
        FUZZ_CHECK(has_current && !aside[0] && n_files == 1,
                   "a segment with a good line was set aside or lost");
        bytes = read_file(cur_path, &len);
        FUZZ_CHECK(len == last_good_end && memcmp(bytes, data, len) == 0,
                   "current.journal is %zu bytes after the repair; expected the input's first %zu",
                   len, last_good_end);
        FUZZ_CHECK(
            rep.files_set_aside == 0 && rep.files_truncated == (last_good_end < size ? 1U : 0U) &&
                rep.bytes_truncated == size - last_good_end,
            "repair report: %u truncated (%" PRIu64 " bytes), %u set aside; input %zu "
            "bytes, last good line ends at %zu",
            rep.files_truncated, rep.bytes_truncated, rep.files_set_aside, size, last_good_end);
        free(bytes);
    } else if (size > 0) {
        /* Not one good line: the bytes are set aside intact, out of the reader's way. */
        FUZZ_CHECK(!has_current && aside[0] && n_files == 1,
                   "a segment without a good line was not set aside");
        bytes = read_file(aside, &len);
        FUZZ_CHECK(len == size && memcmp(bytes, data, size) == 0,
                   "the set-aside file differs from the input");
        FUZZ_CHECK(rep.files_set_aside == 1 && rep.files_truncated == 0,
                   "repair report: %u truncated, %u set aside", rep.files_truncated,
                   rep.files_set_aside);
        free(bytes);
    } else {
        FUZZ_CHECK(rep.files_set_aside == 0 && rep.files_truncated == 0,
                   "an empty segment was repaired");
    }

    read_all(NULL, &after, &skipped);
    check_same(want, &after, false, "read after the repair");

    /* Idempotent: a second open finds nothing to mend and changes nothing. */
    r = journal_store_open(jdir, NULL, &s);
    FUZZ_CHECK(r == 0, "second journal_store_open returned %d", r);
    journal_store_get_repair(s, &rep2);
    FUZZ_CHECK(rep2.files_truncated == 0 && rep2.bytes_truncated == 0 && rep2.files_set_aside == 0,
               "the second open repaired again: %u truncated (%" PRIu64 " bytes), %u set aside",
               rep2.files_truncated, rep2.bytes_truncated, rep2.files_set_aside);
    FUZZ_CHECK(list_unit_dir(aside, sizeof(aside), &has_current) == n_files,
               "the second open changed the unit directory");

    /* Appending continues after the last good line, with a larger seq. */
    r = journal_store_append(s, &rec, 1);
    FUZZ_CHECK(r == 0, "journal_store_append after the repair returned %d", r);
    FUZZ_CHECK(rec.seq > last_seq, "appended seq %" PRIu64 " not above the last one, %" PRIu64,
               rec.seq, last_seq);
    s = journal_store_free(s);
    read_all(NULL, &again, &skipped);
    FUZZ_CHECK(again.n == want->n + 1, "%zu records after one append to %zu", again.n, want->n);
    again.n--;
    check_same(want, &again, false, "read after an append");
    again.n++;
    FUZZ_CHECK(strstr(again.v[again.n - 1], " appended\n") != NULL,
               "the appended record is not last");
    lines_done(&after);
    lines_done(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lines want = {0}, got = {0}, last = {0}, rev = {0};
    struct journal_query q = {0};
    size_t bad, skipped = 0, last_good_end;
    uint64_t last_seq;

    if (size > INPUT_MAX)
        return 0;
    empty_unit_dir();
    write_input(data, size);
    reference((const char *)data, size, &want, &bad, &last_good_end, &last_seq);

    read_all(NULL, &got, &skipped);
    check_same(&want, &got, false, "journal_read");
    FUZZ_CHECK(skipped == bad, "journal_read skipped %zu lines, the input has %zu bad ones",
               skipped, bad);

    /* The newest N, read backwards, are the last N in file order. */
    q.lines = 1 + size % 4;
    read_all(&q, &last, &skipped);
    {
        struct lines tail = want;

        if (tail.n > q.lines) {
            tail.v += tail.n - q.lines;
            tail.n = q.lines;
        }
        check_same(&tail, &last, false, "journal_read(lines = N)");
    }
    memset(&q, 0, sizeof(q));
    q.reverse = true;
    read_all(&q, &rev, &skipped);
    check_same(&want, &rev, true, "journal_read(reverse)");

    check_repair(data, size, &want, last_good_end, last_seq);

    lines_done(&want);
    lines_done(&got);
    lines_done(&last);
    lines_done(&rev);
    return 0;
}

/* ---- custom mutator: keep some lines' checksums right ---- */

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

/* Recomputes the CRC of one line [line, line + len) (no '\n') when it has a crc field where the
 * grammar puts it: after nine space-terminated fields, eight characters and a space. */
static void fix_crc(uint8_t *line, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t p = 0;
    uint32_t crc;

    for (int field = 0; field < 9; field++) {
        const uint8_t *sp = memchr(line + p, ' ', len - p);

        if (!sp)
            return;
        p = (size_t)(sp - line) + 1;
    }
    if (len - p < 9 || line[p + 8] != ' ')
        return;
    crc = crc32c_update(crc32c(line, p), line + p + 8, len - p - 8);
    for (int i = 7; i >= 0; i--) {
        line[p + (size_t)i] = (uint8_t)hex[crc & 15];
        crc >>= 4;
    }
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    size_t pos = 0, n = LLVMFuzzerMutate(data, size, max_size);
    unsigned mode = seed % 4; /* 0, 1: leave the CRCs; 2: fix all lines; 3: fix one line */
    size_t which = seed / 4, i = 0;

    if (mode < 2)
        return n;
    while (pos < n) {
        uint8_t *nl = memchr(data + pos, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : n - pos;

        if (mode == 2 || i == which % 8)
            fix_crc(data + pos, len);
        pos += len + 1;
        i++;
    }
    return n;
}
