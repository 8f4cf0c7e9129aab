/* The journal's on-disk format, store and reader, on real files in a mkdtemp directory: byte
 * round trips (LOG-5), checksums and damaged lines (JRN-1, JRN-2, JRN-3), crash repair
 * (CRASH-2), rotation and retention (JRN-4), a failed write rolled back (DISK-1), and the
 * reader's merge, tail, bisection and filters. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "crc32c.h"
#include "journal_file.h"
#include "journal_format.h"

#define INV1 "0123456789abcdef0123456789abcdef"
#define INV2 "fedcba9876543210fedcba9876543210"
#define T0 1700000000000000ULL

static char tmpdir[64];

static void setup(void)
{
    strcpy(tmpdir, "/tmp/test_journal_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    (void)nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(journal_file, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ---- */

struct grec {
    uint64_t rt, mono, seq;
    char unit[64], inv[33], ident[300];
    int prio;
    enum journal_stream stream;
    unsigned flags;
    pid_t pid;
    char *msg;
    size_t msg_len;
};

struct got {
    struct grec *v;
    size_t n, cap;
    size_t stop_after; /* 0 = never */
};

static int collect(const struct journal_record *r, void *ud)
{
    struct got *g = ud;
    struct grec *e;

    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 256;
        g->v = realloc(g->v, g->cap * sizeof(*g->v));
        cr_assert_not_null(g->v);
    }
    e = &g->v[g->n++];
    memset(e, 0, sizeof(*e));
    e->rt = r->realtime_usec;
    e->mono = r->monotonic_usec;
    e->seq = r->seq;
    snprintf(e->unit, sizeof(e->unit), "%s", r->unit);
    snprintf(e->inv, sizeof(e->inv), "%s", r->invocation);
    snprintf(e->ident, sizeof(e->ident), "%s", r->identifier);
    e->prio = r->priority;
    e->stream = r->stream;
    e->flags = r->flags;
    e->pid = r->pid;
    e->msg = malloc(r->message_len + 1);
    cr_assert_not_null(e->msg);
    memcpy(e->msg, r->message, r->message_len);
    e->msg[r->message_len] = '\0';
    e->msg_len = r->message_len;
    if (g->stop_after && g->n == g->stop_after)
        return 42;
    return 0;
}

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->v[i].msg);
    free(g->v);
    memset(g, 0, sizeof(*g));
}

static int read_all(const struct journal_query *q, struct got *g, size_t *skipped)
{
    memset(g, 0, sizeof(*g));
    return journal_read(tmpdir, q, collect, g, skipped);
}

static struct journal_record rec(const char *unit, uint64_t rt, const char *msg)
{
    return (struct journal_record){
        .realtime_usec = rt,
        .monotonic_usec = rt / 2,
        .unit = unit,
        .invocation = INV1,
        .identifier = "ident",
        .pid = 1234,
        .stream = JOURNAL_STREAM_STDOUT,
        .priority = 6,
        .message = msg,
        .message_len = strlen(msg),
    };
}

/* Records per append in append_n(); rotation tests make it small, as the daemon's batches are. */
static size_t batch = 1000;

/* Appends n records "<unit> #<i>" with realtime t0 + i * step, in batches. */
static void append_n(struct journal_store *s, const char *unit, size_t n, uint64_t t0,
                     uint64_t step)
{
    static char msgs[1000][64];
    struct journal_record b[1000];

    for (size_t i = 0; i < n;) {
        size_t k = n - i < batch ? n - i : batch;

        for (size_t j = 0; j < k; j++) {
            snprintf(msgs[j], sizeof(msgs[j]), "%s #%zu", unit, i + j);
            b[j] = rec(unit, t0 + (i + j) * step, msgs[j]);
        }
        cr_assert_eq(journal_store_append(s, b, k), 0);
        i += k;
    }
}

static struct journal_store *open_store(const struct journal_limits *l)
{
    struct journal_store *s = NULL;

    cr_assert_eq(journal_store_open(tmpdir, l, &s), 0);
    cr_assert_not_null(s);
    return s;
}

static void path_of(char *buf, size_t n, const char *unit, const char *name)
{
    snprintf(buf, n, "%s/%s/%s", tmpdir, unit, name);
}

static off_t file_size(const char *path)
{
    struct stat st;

    cr_assert_eq(stat(path, &st), 0, "stat %s", path);
    return st.st_size;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static void spit(const char *path, const char *buf, size_t len)
{
    FILE *f = fopen(path, "wb");

    cr_assert_not_null(f);
    cr_assert_eq(fwrite(buf, 1, len, f), len);
    fclose(f);
}

static size_t count_segments(const char *unit, bool broken)
{
    char path[256];
    struct dirent *de;
    size_t n = 0;
    DIR *d;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, unit);
    d = opendir(path);
    cr_assert_not_null(d);
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);

        if (de->d_name[0] == '@' && l > 9 &&
            strcmp(de->d_name + l - (broken ? 9 : 8), broken ? ".journal~" : ".journal") == 0)
            n++;
    }
    closedir(d);
    return n;
}

static uint64_t rchar(void)
{
    char buf[512];
    unsigned long long v = 0;
    FILE *f = fopen("/proc/self/io", "r");

    if (!f)
        return 0;
    while (fgets(buf, sizeof(buf), f))
        if (sscanf(buf, "rchar: %llu", &v) == 1)
            break;
    fclose(f);
    return v;
}

/* ---- format ---- */

Test(journal_file, crc32c_known_values)
{
    cr_assert_eq(crc32c("123456789", 9), 0xe3069283u);
    cr_assert_eq(crc32c("", 0), 0u);
    /* Chaining gives the same result as one pass, at every split and alignment. */
    {
        char buf[300];

        for (size_t i = 0; i < sizeof(buf); i++)
            buf[i] = (char)(i * 7 + 3);
        for (size_t off = 0; off < 9; off++) {
            uint32_t whole = crc32c(buf + off, sizeof(buf) - off);

            for (size_t k = 0; k <= sizeof(buf) - off; k += 13)
                cr_assert_eq(
                    crc32c_update(crc32c(buf + off, k), buf + off + k, sizeof(buf) - off - k),
                    whole);
        }
    }
}

/* LOG-5: every byte value round-trips exactly, and the line stays one greppable text line. */
Test(journal_file, format_parse_every_byte)
{
    char msg[256 * 3], line[8192], scratch[8192];
    struct journal_record r = rec("x.service", T0, ""), p;
    size_t len;

    for (int i = 0; i < 256; i++) {
        msg[i] = (char)i;
        msg[256 + i] = (char)(255 - i);
        msg[512 + i] = (char)(i * 37);
    }
    r.message = msg;
    r.message_len = sizeof(msg);
    r.seq = 77;
    r.flags = JOURNAL_FLAG_CONTINUED | JOURNAL_FLAG_NO_NEWLINE;
    r.stream = JOURNAL_STREAM_STDERR;
    r.priority = 3;
    len = journal_record_format(&r, line, sizeof(line));
    cr_assert_lt(len, sizeof(line));
    cr_assert_eq(line[len - 1], '\n');
    for (size_t i = 0; i + 1 < len; i++) {
        unsigned char c = (unsigned char)line[i];

        cr_assert(c != '\n' && c != '\r' && c != '\0' && c != 0x1b && c != 0x7f && c != '\t',
                  "raw control byte %#x at %zu", c, i);
    }
    cr_assert_eq(journal_record_parse(line, len, scratch, &p), 0);
    cr_assert_eq(p.message_len, sizeof(msg));
    cr_assert_eq(memcmp(p.message, msg, sizeof(msg)), 0);
    cr_assert_eq(p.seq, 77);
    cr_assert_eq(p.realtime_usec, T0);
    cr_assert_eq(p.monotonic_usec, T0 / 2);
    cr_assert_str_eq(p.unit, "x.service");
    cr_assert_str_eq(p.invocation, INV1);
    cr_assert_str_eq(p.identifier, "ident");
    cr_assert_eq(p.pid, 1234);
    cr_assert_eq(p.stream, JOURNAL_STREAM_STDERR);
    cr_assert_eq(p.priority, 3);
    cr_assert_eq(p.flags, JOURNAL_FLAG_CONTINUED | JOURNAL_FLAG_NO_NEWLINE);
    /* Also without the trailing newline. */
    cr_assert_eq(journal_record_parse(line, len - 1, scratch, &p), 0);
    cr_assert_eq(memcmp(p.message, msg, sizeof(msg)), 0);
}

Test(journal_file, format_exact_line)
{
    struct journal_record r = rec("fifo-echo.service", 1718000000123456ULL, "hello world");
    char line[512];
    size_t len;

    r.monotonic_usec = 5234567890;
    r.seq = 42;
    r.identifier = "fifo-echo";
    len = journal_record_format(&r, line, sizeof(line));
    line[len] = '\0';
    /* Everything but the checksum is fixed; the checksum is checked by parsing. */
    cr_assert_eq(strncmp(line,
                         "1718000000123456 5234567890 42 fifo-echo.service " INV1
                         " 1234 o6 - fifo-echo ",
                         strlen("1718000000123456 5234567890 42 fifo-echo.service " INV1
                                " 1234 o6 - fifo-echo ")),
                 0, "%s", line);
    cr_assert_str_eq(line + len - 13, " hello world\n");
}

Test(journal_file, escaping_rules)
{
    /* Valid UTF-8 stays raw (grep works); invalid, C1, controls, DEL and backslash are \xHH. */
    static const char in[] = "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9d\x84\x9e|\xc3|\xc2\x9b|\x80|"
                             "\xed\xa0\x80|\xc0\xaf|\t|\x1b[2J|\x7f|\\|\xf4\x90\x80\x80";
    static const char want[] = "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9d\x84\x9e|\\xc3|\\xc2\\x9b|"
                               "\\x80|\\xed\\xa0\\x80|\\xc0\\xaf|\\x09|\\x1b[2J|\\x7f|\\x5c|"
                               "\\xf4\\x90\\x80\\x80\n";
    struct journal_record r = rec("u", T0, ""), p;
    char line[1024], scratch[1024];
    size_t len;

    r.message = in;
    r.message_len = sizeof(in) - 1;
    len = journal_record_format(&r, line, sizeof(line));
    cr_assert_geq(len, strlen(want));
    cr_assert_eq(memcmp(line + len - strlen(want), want, strlen(want)), 0, "%.*s", (int)len, line);
    cr_assert_eq(journal_record_parse(line, len, scratch, &p), 0);
    cr_assert_eq(p.message_len, sizeof(in) - 1);
    cr_assert_eq(memcmp(p.message, in, sizeof(in) - 1), 0);
}

Test(journal_file, identifier_and_invocation_edge_cases)
{
    const char *ids[] = {"", "-", "with space", "back\\slash", "tab\there", "ünï", "--"};
    char line[1024], scratch[1024];

    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        struct journal_record r = rec("u", T0, "m"), p;
        size_t len;

        r.identifier = ids[i];
        r.invocation = i % 2 ? "" : NULL;
        len = journal_record_format(&r, line, sizeof(line));
        cr_assert_eq(journal_record_parse(line, len, scratch, &p), 0, "%s", ids[i]);
        cr_assert_str_eq(p.identifier, ids[i]);
        cr_assert_str_eq(p.invocation, "");
    }
}

Test(journal_file, format_reports_needed_size)
{
    struct journal_record r = rec("u", T0, "a\x01 message of some length");
    char big[1024], small[16];
    size_t need = journal_record_format(&r, big, sizeof(big));

    cr_assert_eq(journal_record_format(&r, small, sizeof(small)), need);
    {
        char *exact = malloc(need);

        cr_assert_eq(journal_record_format(&r, exact, need), need);
        cr_assert_eq(memcmp(exact, big, need), 0);
        free(exact);
    }
}

/* JRN-2: a flipped bit anywhere in a line is caught by the checksum or the syntax. */
Test(journal_file, checksum_catches_every_flipped_byte_JRN_2)
{
    struct journal_record r = rec("a.service", T0, "payload \x01\xff text"), p;
    char line[512], copy[512], scratch[512];
    size_t len = journal_record_format(&r, line, sizeof(line));

    for (size_t i = 0; i + 1 < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, line, len);
            copy[i] ^= (char)(1 << bit);
            if (copy[i] == '\n')
                continue; /* that splits the line: the reader sees two broken lines */
            cr_assert_eq(journal_record_parse(copy, len, scratch, &p), -EBADMSG, "byte %zu bit %d",
                         i, bit);
        }
    }
}

Test(journal_file, parse_rejects_garbage)
{
    char scratch[256];
    struct journal_record p;
    const char *bad[] = {"", "\n", "1 2 3", "x 2 3 u - 1 o6 - i 00000000 m",
                         "99999999999999999999999 2 3 u - 1 o6 - i 00000000 m"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(journal_record_parse(bad[i], strlen(bad[i]), scratch, &p), -EBADMSG, "%zu", i);
}

/* ---- store ---- */

Test(journal_file, unit_names)
{
    struct journal_store *s = open_store(NULL);
    struct journal_record r = rec("ok.service", T0, "m");
    struct journal_record b[2] = {rec("ok.service", T0, "m"), rec("../evil", T0, "m")};
    const char *bad_units[] = {"bad/name", NULL};
    struct journal_query q = {.units = bad_units};
    struct got g;
    char longname[300];

    cr_assert(journal_unit_name_is_valid("a-b_c:d@e.f\\x2d.service"));
    cr_assert_not(journal_unit_name_is_valid(""));
    cr_assert_not(journal_unit_name_is_valid("."));
    cr_assert_not(journal_unit_name_is_valid(".."));
    cr_assert_not(journal_unit_name_is_valid(".hidden"));
    cr_assert_not(journal_unit_name_is_valid("a b"));
    cr_assert_not(journal_unit_name_is_valid("a/b"));
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    cr_assert_not(journal_unit_name_is_valid(longname));

    r.unit = NULL;
    cr_assert_eq(journal_store_append(s, &r, 1), -EINVAL);
    r.unit = "a b";
    cr_assert_eq(journal_store_append(s, &r, 1), -EINVAL);
    r.unit = "..";
    cr_assert_eq(journal_store_append(s, &r, 1), -EINVAL);
    /* A batch with one bad record is refused whole. */
    cr_assert_eq(journal_store_append(s, b, 2), -EINVAL);
    r = rec("ok.service", T0, "m");
    r.priority = 8;
    cr_assert_eq(journal_store_append(s, &r, 1), -EINVAL);
    r.priority = 6;
    r.invocation = "not-hex";
    cr_assert_eq(journal_store_append(s, &r, 1), -EINVAL);
    journal_store_free(s);

    cr_assert_eq(read_all(NULL, &g, NULL), 0);
    cr_assert_eq(g.n, 0);
    got_free(&g);
    cr_assert_eq(journal_read(tmpdir, &q, collect, &g, NULL), -EINVAL);
}

Test(journal_file, append_and_read_back)
{
    struct journal_store *s = open_store(NULL);
    struct journal_record b[3] = {rec("a.service", T0 + 1, "one"), rec("b.service", T0 + 2, "two"),
                                  rec("a.service", T0 + 3, "three")};
    struct got g;
    size_t skipped = 99;

    b[1].stream = JOURNAL_STREAM_MANAGER;
    b[1].identifier = NULL;
    b[1].invocation = NULL;
    cr_assert_eq(journal_store_append(s, b, 3), 0);
    cr_assert_eq(b[0].seq, 1);
    cr_assert_eq(b[1].seq, 2);
    cr_assert_eq(b[2].seq, 3);
    cr_assert_eq(journal_store_sync(s), 0);
    s = journal_store_free(s);
    cr_assert_null(s);

    cr_assert_eq(read_all(NULL, &g, &skipped), 0);
    cr_assert_eq(skipped, 0);
    cr_assert_eq(g.n, 3);
    cr_assert_str_eq(g.v[0].msg, "one");
    cr_assert_str_eq(g.v[0].unit, "a.service");
    cr_assert_str_eq(g.v[1].msg, "two");
    cr_assert_str_eq(g.v[1].unit, "b.service");
    cr_assert_str_eq(g.v[1].inv, "");
    cr_assert_str_eq(g.v[1].ident, "");
    cr_assert_eq(g.v[1].stream, JOURNAL_STREAM_MANAGER);
    cr_assert_str_eq(g.v[2].msg, "three");
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(g.v[i].seq, i + 1);
    got_free(&g);
}

Test(journal_file, seq_continues_after_reopen)
{
    struct journal_store *s = open_store(NULL);
    struct journal_record r = rec("a.service", T0, "x");

    append_n(s, "a.service", 10, T0, 1);
    append_n(s, "b.service", 5, T0, 1);
    journal_store_free(s);
    s = open_store(NULL);
    cr_assert_eq(journal_store_append(s, &r, 1), 0);
    cr_assert_eq(r.seq, 16);
    r.unit = "c.service";
    cr_assert_eq(journal_store_append(s, &r, 1), 0);
    cr_assert_eq(r.seq, 17);
    journal_store_free(s);
}

Test(journal_file, seq_continues_when_current_is_empty)
{
    struct journal_limits l = {.max_file_size = 4096};
    struct journal_store *s = open_store(&l);
    struct journal_record r = rec("a.service", T0, "x");
    char path[256];
    struct got g;

    batch = 20;
    append_n(s, "a.service", 200, T0, 1);
    journal_store_free(s);
    cr_assert_gt(count_segments("a.service", false), 1);
    /* What a crash right after a rotation leaves: an empty current segment. */
    path_of(path, sizeof(path), "a.service", "current.journal");
    cr_assert_eq(truncate(path, 0), 0);
    cr_assert_eq(read_all(NULL, &g, NULL), 0);
    cr_assert_lt(g.n, 200);
    s = open_store(&l);
    cr_assert_eq(journal_store_append(s, &r, 1), 0);
    cr_assert_eq(r.seq, g.v[g.n - 1].seq + 1);
    journal_store_free(s);
    got_free(&g);
}

/* CRASH-2: killed between a rotation's rename and the create of the next current segment, the
 * unit has no current.journal at all; its last seq is in the newest rotated segment and must
 * not be handed out again. Another unit's lower tail must not decide either. */
Test(journal_file, seq_continues_when_current_is_missing)
{
    struct journal_limits l = {.max_file_size = 4096};
    struct journal_store *s = open_store(&l);
    struct journal_record r = rec("a.service", T0, "x");
    char path[256];
    struct got g;

    batch = 20;
    append_n(s, "b.service", 1, T0, 1);
    append_n(s, "a.service", 200, T0, 1);
    journal_store_free(s);
    path_of(path, sizeof(path), "a.service", "current.journal");
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(read_all(NULL, &g, NULL), 0);
    s = open_store(&l);
    cr_assert_eq(journal_store_append(s, &r, 1), 0);
    for (size_t i = 0; i < g.n; i++)
        cr_assert_gt(r.seq, g.v[i].seq, "seq %llu handed out again", (unsigned long long)r.seq);
    journal_store_free(s);
    got_free(&g);
}

/* JRN-1 / CRASH-2: a file cut at any offset of its last records is repaired on open to exactly
 * the complete lines before the cut; the reader sees the same before repair; appending goes on
 * with the next seq. */
Test(journal_file, torn_tail_cut_back_at_every_offset_JRN_1)
{
    char path[256];
    char *orig;
    size_t len, starts[4];
    int k = 0;

    {
        struct journal_store *s = open_store(NULL);

        append_n(s, "a.service", 100, T0, 1);
        journal_store_free(s);
    }
    path_of(path, sizeof(path), "a.service", "current.journal");
    orig = slurp(path, &len);
    /* Offsets where the last 3 lines start, and the end. */
    for (size_t i = len - 1; i-- > 0 && k < 3;)
        if (orig[i] == '\n')
            starts[2 - k++] = i + 1;
    starts[3] = len;

    for (size_t o = starts[0]; o < len; o++) {
        size_t complete = 97 + (o >= starts[1]) + (o >= starts[2]);
        size_t good_end = o >= starts[2] ? starts[2] : o >= starts[1] ? starts[1] : starts[0];
        struct journal_record r = rec("a.service", T0 + 1000, "after");
        struct journal_store *s;
        struct got g;
        size_t skipped;

        spit(path, orig, o);
        cr_assert_eq(read_all(NULL, &g, &skipped), 0);
        cr_assert_eq(g.n, complete, "offset %zu: %zu records", o, g.n);
        /* The cut line has no LF: the end of a current segment, being written or torn, is not
         * damage (a live journal is read while minisupd appends). */
        cr_assert_eq(skipped, 0, "offset %zu", o);
        cr_assert_eq(g.v[g.n - 1].seq, complete);
        got_free(&g);

        s = open_store(NULL);
        cr_assert_eq(file_size(path), (off_t)good_end, "offset %zu", o);
        {
            struct journal_repair rep;

            journal_store_get_repair(s, &rep);
            cr_assert_eq(rep.files_truncated, o == good_end ? 0 : 1);
            cr_assert_eq(rep.bytes_truncated, o - good_end);
            cr_assert_eq(rep.files_set_aside, 0);
        }
        cr_assert_eq(journal_store_append(s, &r, 1), 0);
        cr_assert_eq(r.seq, complete + 1);
        journal_store_free(s);

        cr_assert_eq(read_all(NULL, &g, &skipped), 0);
        cr_assert_eq(skipped, 0);
        cr_assert_eq(g.n, complete + 1);
        cr_assert_str_eq(g.v[g.n - 1].msg, "after");
        got_free(&g);
    }
    free(orig);
}

/* JRN-2: a zeroed page at the tail (a lost delayed-allocation write) and random junk appended. */
Test(journal_file, zeroed_and_garbage_tails_JRN_2)
{
    char path[256], *orig;
    size_t len;

    {
        struct journal_store *s = open_store(NULL);

        append_n(s, "a.service", 100, T0, 1);
        journal_store_free(s);
    }
    path_of(path, sizeof(path), "a.service", "current.journal");
    orig = slurp(path, &len);
    for (int variant = 0; variant < 3; variant++) {
        char *buf = malloc(len + 8192);
        size_t n = len;
        struct journal_store *s;
        struct got g;
        size_t skipped;

        memcpy(buf, orig, len);
        if (variant == 0) {
            memset(buf + len - 100, 0, 100); /* the last line's end zeroed */
        } else if (variant == 1) {
            memset(buf + len, 0, 4096); /* a zero page after the end */
            n += 4096;
        } else {
            for (int i = 0; i < 5000; i++) /* junk with newlines in it */
                buf[len + i] = (char)(rand() % 256);
            n += 5000;
        }
        spit(path, buf, n);
        cr_assert_eq(read_all(NULL, &g, &skipped), 0);
        cr_assert_geq(g.n, 99, "variant %d", variant);
        /* Zeroes without an LF are an unfinished end, not damage; junk with LFs is damage. */
        if (variant == 2)
            cr_assert_geq(skipped, 1);
        else
            cr_assert_eq(skipped, 0, "variant %d", variant);
        for (size_t i = 0; i < g.n; i++)
            cr_assert_eq(g.v[i].seq, i + 1);
        got_free(&g);
        s = open_store(NULL);
        journal_store_free(s);
        cr_assert_eq(read_all(NULL, &g, &skipped), 0);
        cr_assert_eq(skipped, 0, "variant %d", variant);
        cr_assert_eq(g.n, variant == 0 ? 99 : 100);
        got_free(&g);
        free(buf);
    }
    free(orig);
}

/* A current segment without a single good line is set aside, not destroyed, and not read. */
Test(journal_file, garbage_current_is_set_aside)
{
    char path[256], dir[256];
    struct journal_store *s;
    struct got g;
    struct journal_record r = rec("a.service", T0, "fresh");

    snprintf(dir, sizeof(dir), "%s/a.service", tmpdir);
    cr_assert_eq(mkdir(dir, 0750), 0);
    path_of(path, sizeof(path), "a.service", "current.journal");
    spit(path, "this is not\na journal\n", 22);
    s = open_store(NULL);
    cr_assert_eq(count_segments("a.service", true), 1);
    {
        struct journal_repair rep;

        journal_store_get_repair(s, &rep);
        cr_assert_eq(rep.files_set_aside, 1);
        cr_assert_eq(rep.files_truncated, 0);
    }
    cr_assert_eq(journal_store_append(s, &r, 1), 0);
    cr_assert_eq(r.seq, 1);
    journal_store_free(s);
    cr_assert_eq(read_all(NULL, &g, NULL), 0);
    cr_assert_eq(g.n, 1);
    cr_assert_str_eq(g.v[0].msg, "fresh");
    got_free(&g);
}

/* A flipped byte in the middle: the reader skips and counts that record, nothing else. */
Test(journal_file, reader_skips_damaged_line)
{
    char path[256], *buf;
    size_t len, nl = 0, at = 0;
    struct got g;
    size_t skipped;

    {
        struct journal_store *s = open_store(NULL);

        append_n(s, "a.service", 10, T0, 1);
        journal_store_free(s);
    }
    path_of(path, sizeof(path), "a.service", "current.journal");
    buf = slurp(path, &len);
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\n' && ++nl == 4) {
            at = i + 10; /* inside the 5th line */
            break;
        }
    buf[at] ^= 0x01;
    spit(path, buf, len);
    free(buf);
    cr_assert_eq(read_all(NULL, &g, &skipped), 0);
    cr_assert_eq(skipped, 1);
    cr_assert_eq(g.n, 9);
    for (size_t i = 0; i < g.n; i++)
        cr_assert_neq(g.v[i].seq, 5);
    got_free(&g);
    {
        struct journal_query q = {.lines = 7};

        cr_assert_eq(read_all(&q, &g, &skipped), 0);
        cr_assert_eq(g.n, 7);
        cr_assert_eq(skipped, 1);
        cr_assert_eq(g.v[0].seq, 3);
        got_free(&g);
    }
}

/* Appends the on-disk line of a record "a.service" with this seq and realtime to buf. */
static size_t put_line(char *buf, size_t at, uint64_t seq, uint64_t rt)
{
    struct journal_record r = rec("a.service", rt, "m");
    size_t n;

    r.seq = seq;
    n = journal_record_format(&r, buf + at, 512);
    cr_assert_lt(n, 512);
    return at + n;
}

/* J1 (docs/fuzzing.md): a checksummed line with seq 0 was neither returned nor counted: the
 * default after_seq = 0 filtered it out. The grammar says seq starts at 1, so it is damage: it is
 * counted in skipped by every read, and the repair cuts it off the tail like a torn line. */
Test(journal_file, seq_zero_is_damage)
{
    char dir[256], path[256], buf[2048];
    size_t n = 0, skipped = 99;
    struct journal_query queries[] = {{0}, {.lines = 5}, {.reverse = true}};
    struct journal_store *s;
    struct journal_repair rep;
    struct journal_record r = rec("a.service", T0 + 10, "new");
    struct got g;

    snprintf(dir, sizeof(dir), "%s/a.service", tmpdir);
    cr_assert_eq(mkdir(dir, 0750), 0);
    path_of(path, sizeof(path), "a.service", "current.journal");
    n = put_line(buf, n, 1, T0);
    n = put_line(buf, n, 0, T0 + 1);
    n = put_line(buf, n, 2, T0 + 2);
    n = put_line(buf, n, 0, T0 + 3);
    spit(path, buf, n);
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        cr_assert_eq(read_all(&queries[i], &g, &skipped), 0);
        cr_assert_eq(g.n, 2, "query %zu", i);
        cr_assert_eq(skipped, 2, "query %zu", i);
        got_free(&g);
    }

    s = open_store(NULL);
    journal_store_get_repair(s, &rep);
    cr_assert_eq(rep.files_truncated, 1);
    cr_assert_eq(rep.bytes_truncated, n - (size_t)file_size(path));
    cr_assert_eq(journal_store_append(s, &r, 1), 0);
    cr_assert_eq(r.seq, 3);
    journal_store_free(s);
    cr_assert_eq(read_all(NULL, &g, &skipped), 0);
    cr_assert_eq(g.n, 3);
    cr_assert_eq(skipped, 1, "the seq-0 line in the middle stays, and is counted");
    got_free(&g);
}

/* J1: a line with a right checksum but a bad grammar is counted in skipped even when the query's
 * seq or time bounds would not want it (the filter ran before the grammar check). */
Test(journal_file, filtered_damage_is_counted)
{
    char dir[256], path[256], buf[2048];
    const char bad[] = "0 9 3 v 1 2 3 - f ";
    size_t n = 0, skipped = 99;
    uint32_t crc = crc32c_update(crc32c(bad, strlen(bad)), " ", 1);
    struct journal_query queries[] = {
        {.after_seq = 5}, {.since_usec = T0}, {.until_seq = 2}, {.after_seq = 5, .reverse = true}};
    struct got g;

    snprintf(dir, sizeof(dir), "%s/a.service", tmpdir);
    cr_assert_eq(mkdir(dir, 0750), 0);
    path_of(path, sizeof(path), "a.service", "current.journal");
    n = put_line(buf, n, 1, T0);
    n = put_line(buf, n, 2, T0 + 1);
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%08x \n", bad, crc);
    n = put_line(buf, n, 6, T0 + 2);
    spit(path, buf, n);
    cr_assert_eq(read_all(NULL, &g, &skipped), 0);
    cr_assert_eq(g.n, 3);
    cr_assert_eq(skipped, 1);
    got_free(&g);
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        cr_assert_eq(read_all(&queries[i], &g, &skipped), 0);
        cr_assert_eq(skipped, 1, "query %zu", i);
        got_free(&g);
    }
}

/* JRN-3: a "line" far over JOURNAL_LINE_MAX is passed over without being held. */
Test(journal_file, overlong_garbage_line_is_skipped_JRN_3)
{
    char path[256], *orig, *buf;
    size_t len, junk = JOURNAL_LINE_MAX + 100000, half;
    struct got g;
    size_t skipped;

    {
        struct journal_store *s = open_store(NULL);

        append_n(s, "a.service", 10, T0, 1);
        journal_store_free(s);
    }
    path_of(path, sizeof(path), "a.service", "current.journal");
    orig = slurp(path, &len);
    half = 0;
    for (size_t i = 0, nl = 0; i < len; i++)
        if (orig[i] == '\n' && ++nl == 5) {
            half = i + 1;
            break;
        }
    buf = malloc(len + junk + 1);
    memcpy(buf, orig, half);
    memset(buf + half, 'z', junk);
    buf[half + junk] = '\n';
    memcpy(buf + half + junk + 1, orig + half, len - half);
    spit(path, buf, len + junk + 1);
    for (int reverse = 0; reverse < 2; reverse++) {
        struct journal_query q = {.reverse = reverse};

        cr_assert_eq(read_all(&q, &g, &skipped), 0);
        cr_assert_eq(g.n, 10);
        cr_assert_eq(skipped, 1);
        got_free(&g);
    }
    free(buf);
    free(orig);
}

/* ---- reader ---- */

Test(journal_file, multi_unit_merge_and_reverse)
{
    struct journal_store *s = open_store(NULL);
    struct journal_query q = {0};
    struct got g, rg;

    /* Interleaved realtimes; b has ties with a, ordered then by seq. */
    append_n(s, "a.service", 300, T0, 3);
    append_n(s, "b.service", 300, T0 + 1, 2);
    append_n(s, "c.service", 300, T0, 3);
    journal_store_free(s);
    cr_assert_eq(read_all(&q, &g, NULL), 0);
    cr_assert_eq(g.n, 900);
    for (size_t i = 1; i < g.n; i++)
        cr_assert(g.v[i - 1].rt < g.v[i].rt ||
                      (g.v[i - 1].rt == g.v[i].rt && g.v[i - 1].seq < g.v[i].seq),
                  "order at %zu", i);
    q.reverse = true;
    cr_assert_eq(read_all(&q, &rg, NULL), 0);
    cr_assert_eq(rg.n, 900);
    for (size_t i = 0; i < g.n; i++)
        cr_assert_eq(rg.v[i].seq, g.v[g.n - 1 - i].seq);
    got_free(&rg);

    /* Selected units only; a unit that never logged is no error. */
    {
        const char *units[] = {"c.service", "nope.service", "a.service", "a.service", NULL};

        q = (struct journal_query){.units = units};
        cr_assert_eq(read_all(&q, &rg, NULL), 0);
        cr_assert_eq(rg.n, 600);
        for (size_t i = 0; i < rg.n; i++)
            cr_assert_str_neq(rg.v[i].unit, "b.service");
        got_free(&rg);
    }
    /* lines = N across units is the tail of the full order. */
    q = (struct journal_query){.lines = 50};
    cr_assert_eq(read_all(&q, &rg, NULL), 0);
    cr_assert_eq(rg.n, 50);
    for (size_t i = 0; i < 50; i++)
        cr_assert_eq(rg.v[i].seq, g.v[850 + i].seq);
    got_free(&rg);
    got_free(&g);
}

Test(journal_file, callback_stops_the_read)
{
    struct journal_store *s = open_store(NULL);
    struct got g = {.stop_after = 5};

    append_n(s, "a.service", 100, T0, 1);
    journal_store_free(s);
    cr_assert_eq(journal_read(tmpdir, NULL, collect, &g, NULL), 42);
    cr_assert_eq(g.n, 5);
    got_free(&g);
}

/* A reader driven in steps of any size yields exactly what one read yields (LOG-7: minisupd
 * answers a large query a chunk at a time), for every kind of query, and never more than the
 * step size per call. */
Test(journal_file, stepwise_reader_matches_one_read)
{
    struct journal_limits l = {.max_file_size = 32 * 1024};
    struct journal_store *s = open_store(&l);
    const char *b_only[] = {"b.service", NULL};
    struct journal_query qs[] = {
        {0},
        {.reverse = true},
        {.lines = 777},
        {.lines = 777, .reverse = true},
        {.units = b_only, .lines = 5},
        {.min_priority = 0, .max_priority = 3}, /* matches nothing: steps still end */
        {.after_seq = 1000, .until_seq = 2500},
    };
    size_t steps[] = {1, 7, 512, 100000};

    append_n(s, "a.service", 2000, T0, 3);
    append_n(s, "b.service", 2000, T0 + 1, 2);
    journal_store_free(s);
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        struct got want;

        cr_assert_eq(read_all(&qs[i], &want, NULL), 0);
        for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
            struct journal_reader *rd;
            struct got g = {0};
            bool more = true;
            size_t calls = 0;

            cr_assert_eq(journal_reader_open(tmpdir, &qs[i], &rd), 0);
            while (more) {
                size_t before = g.n;

                cr_assert_eq(journal_reader_next(rd, collect, &g, steps[k], &more), 0);
                cr_assert_leq(g.n - before, steps[k]);
                cr_assert_lt(++calls, 10000, "query %zu step %zu does not end", i, steps[k]);
            }
            journal_reader_free(rd);
            cr_assert_eq(g.n, want.n, "query %zu step %zu: %zu records, one read gave %zu", i,
                         steps[k], g.n, want.n);
            for (size_t n = 0; n < g.n; n++)
                cr_assert_eq(g.v[n].seq, want.v[n].seq, "query %zu step %zu at %zu", i, steps[k],
                             n);
            got_free(&g);
        }
        if (i == 6) {
            cr_assert_eq(want.n, 1500);
            for (size_t n = 0; n < want.n; n++)
                cr_assert(want.v[n].seq > 1000 && want.v[n].seq <= 2500);
        }
        got_free(&want);
    }
}

/* `-n N` reads only the end of a large file. */
Test(journal_file, lines_tail_of_200k_records)
{
    struct journal_limits l = {.max_file_size = 1ULL << 30};
    struct journal_store *s = open_store(&l);
    size_t ns[] = {1, 10, 100, 1000};
    char path[256];
    struct got g;

    append_n(s, "big.service", 200000, T0, 1);
    append_n(s, "small.service", 10, T0 - 1000000, 1); /* all older than big's */
    journal_store_free(s);
    path_of(path, sizeof(path), "big.service", "current.journal");
    cr_assert_gt(file_size(path), 16 << 20);

    for (size_t t = 0; t < sizeof(ns) / sizeof(ns[0]); t++) {
        for (int reverse = 0; reverse < 2; reverse++) {
            struct journal_query q = {.lines = ns[t], .reverse = reverse};
            uint64_t before = rchar();

            cr_assert_eq(read_all(&q, &g, NULL), 0);
            if (before)
                cr_assert_lt(rchar() - before, 1 << 20, "read %llu bytes for -n %zu",
                             (unsigned long long)(rchar() - before), ns[t]);
            cr_assert_eq(g.n, ns[t]);
            for (size_t i = 0; i < g.n; i++) {
                uint64_t want = reverse ? 200000 - i : 200000 - ns[t] + 1 + i;

                cr_assert_eq(g.v[i].seq, want, "-n %zu reverse %d [%zu]", ns[t], reverse, i);
            }
            got_free(&g);
        }
    }
}

struct span {
    size_t n;
    uint64_t first, last;
    bool gap;
};

static int span_cb(const struct journal_record *r, void *ud)
{
    struct span *sp = ud;

    if (sp->n == 0)
        sp->first = r->seq;
    else if (r->seq != sp->last + 1)
        sp->gap = true;
    sp->last = r->seq;
    sp->n++;
    return 0;
}

static void check_since(struct journal_query *q, size_t total, uint64_t t0, uint64_t step)
{
    struct span sp = {0};
    uint64_t since = q->since_usec;
    size_t first = since <= t0 ? 0 : (size_t)((since - t0 + step - 1) / step);
    size_t want = first >= total ? 0 : total - first;

    cr_assert_eq(journal_read(tmpdir, q, span_cb, &sp, NULL), 0);
    cr_assert_eq(sp.n, want, "since %llu: %zu records, want %zu", (unsigned long long)since, sp.n,
                 want);
    cr_assert_not(sp.gap);
    if (want > 0) {
        cr_assert_eq(sp.first, first + 1);
        cr_assert_eq(sp.last, total);
    }
}

/* Bisection on realtime, within one large segment and across rotated ones. */
Test(journal_file, since_bisects_exactly)
{
    struct journal_limits l = {.max_file_size = 256 * 1024};
    struct journal_store *s = open_store(&l);
    const size_t total = 50000;
    uint64_t probes[] = {0,
                         1,
                         T0,
                         T0 + 1,
                         T0 + 10,
                         T0 + 15,
                         T0 + 12345 * 10,
                         T0 + 12345 * 10 + 1,
                         T0 + (total - 1) * 10,
                         T0 + total * 10,
                         UINT64_MAX / 2};

    append_n(s, "a.service", total, T0, 10);
    journal_store_free(s);
    cr_assert_gt(count_segments("a.service", false), 10);
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        struct journal_query q = {.since_usec = probes[i]};

        check_since(&q, total, T0, 10);
    }
    for (uint64_t since = T0; since < T0 + total * 10; since += 31111) {
        struct journal_query q = {.since_usec = since};

        check_since(&q, total, T0, 10);
    }
    /* since with lines and reverse, and until. */
    {
        struct journal_query q = {.since_usec = T0 + 49990 * 10, .lines = 100};
        struct got g;

        cr_assert_eq(read_all(&q, &g, NULL), 0);
        cr_assert_eq(g.n, 10);
        cr_assert_eq(g.v[0].seq, 49991);
        got_free(&g);
        q = (struct journal_query){
            .since_usec = T0 + 100 * 10, .until_usec = T0 + 199 * 10, .reverse = true};
        cr_assert_eq(read_all(&q, &g, NULL), 0);
        cr_assert_eq(g.n, 100);
        cr_assert_eq(g.v[0].seq, 200);
        cr_assert_eq(g.v[99].seq, 101);
        got_free(&g);
    }
}

/* A clock stepped back mid-file: bisection is approximate, but records at or after the point it
 * finds are all returned (documented in docs/journal-format.md). */
Test(journal_file, since_with_clock_step_back)
{
    struct journal_store *s = open_store(NULL);
    struct journal_query q = {.since_usec = T0 + 50000};
    struct got g;

    append_n(s, "a.service", 10000, T0, 10);         /* T0 .. T0 + 99990 */
    append_n(s, "a.service", 10000, T0 + 20000, 10); /* stepped back */
    journal_store_free(s);
    cr_assert_eq(read_all(&q, &g, NULL), 0);
    /* At least everything of the second run at or after since. */
    {
        size_t late = 0;

        for (size_t i = 0; i < g.n; i++) {
            cr_assert_geq(g.v[i].rt, q.since_usec);
            if (g.v[i].seq > 10000)
                late++;
        }
        cr_assert_eq(late, 10000 - 3000);
    }
    got_free(&g);
}

Test(journal_file, after_seq_across_segments)
{
    struct journal_limits l = {.max_file_size = 64 * 1024};
    struct journal_store *s = open_store(&l);
    uint64_t afters[] = {0, 1, 999, 5000, 19999, 20000, 30000, UINT64_MAX};

    append_n(s, "a.service", 10000, T0, 10);
    append_n(s, "b.service", 10000, T0 + 5, 10);
    journal_store_free(s);
    for (size_t i = 0; i < sizeof(afters) / sizeof(afters[0]); i++) {
        for (int reverse = 0; reverse < 2; reverse++) {
            struct journal_query q = {.after_seq = afters[i], .reverse = reverse};
            size_t want = afters[i] >= 20000 ? 0 : 20000 - afters[i];
            struct got g;

            cr_assert_eq(read_all(&q, &g, NULL), 0);
            cr_assert_eq(g.n, want, "after %llu", (unsigned long long)afters[i]);
            for (size_t k = 0; k < g.n; k++)
                cr_assert_gt(g.v[k].seq, afters[i]);
            got_free(&g);
        }
    }
}

Test(journal_file, filters)
{
    struct journal_store *s = open_store(NULL);
    struct journal_record b[8];
    struct journal_query q = {0};
    struct got g;

    for (int i = 0; i < 8; i++) {
        b[i] = rec("a.service", T0 + (uint64_t)i, "m");
        b[i].priority = i;
        b[i].invocation = i < 4 ? INV1 : INV2;
        b[i].identifier = i % 2 ? "odd" : "even";
    }
    cr_assert_eq(journal_store_append(s, b, 8), 0);
    journal_store_free(s);

    cr_assert_eq(read_all(&q, &g, NULL), 0); /* zeroed: everything */
    cr_assert_eq(g.n, 8);
    got_free(&g);
    q = (struct journal_query){.invocation = INV2, .max_priority = -1};
    cr_assert_eq(read_all(&q, &g, NULL), 0);
    cr_assert_eq(g.n, 4);
    cr_assert_eq(g.v[0].prio, 4);
    got_free(&g);
    q = (struct journal_query){.identifier = "odd", .max_priority = -1};
    cr_assert_eq(read_all(&q, &g, NULL), 0);
    cr_assert_eq(g.n, 4);
    for (size_t i = 0; i < g.n; i++)
        cr_assert_str_eq(g.v[i].ident, "odd");
    got_free(&g);
    q = (struct journal_query){.min_priority = 2, .max_priority = 5};
    cr_assert_eq(read_all(&q, &g, NULL), 0);
    cr_assert_eq(g.n, 4);
    cr_assert_eq(g.v[0].prio, 2);
    cr_assert_eq(g.v[3].prio, 5);
    got_free(&g);
    q = (struct journal_query){.max_priority = 3}; /* journalctl -p err */
    cr_assert_eq(read_all(&q, &g, NULL), 0);
    cr_assert_eq(g.n, 4);
    got_free(&g);
    q = (struct journal_query){
        .identifier = "even", .invocation = INV1, .max_priority = -1, .lines = 1};
    cr_assert_eq(read_all(&q, &g, NULL), 0);
    cr_assert_eq(g.n, 1);
    cr_assert_eq(g.v[0].prio, 2);
    got_free(&g);
    q = (struct journal_query){.until_usec = T0 + 2, .max_priority = -1};
    cr_assert_eq(read_all(&q, &g, NULL), 0);
    cr_assert_eq(g.n, 3);
    got_free(&g);
}

/* ---- rotation and retention (JRN-4) ---- */

Test(journal_file, rotation_names_and_order_JRN_4)
{
    struct journal_limits l = {.max_file_size = 8192};
    struct journal_store *s = open_store(&l);
    char path[256];
    struct dirent *de;
    struct got g;
    DIR *d;

    batch = 20;

    append_n(s, "a.service", 2000, T0, 1);
    journal_store_free(s);
    cr_assert_gt(count_segments("a.service", false), 5);
    path_of(path, sizeof(path), "a.service", "current.journal");
    cr_assert_leq(file_size(path), 8192);
    /* Each rotated name is its first record's seq and realtime. */
    snprintf(path, sizeof(path), "%s/a.service", tmpdir);
    d = opendir(path);
    while ((de = readdir(d))) {
        unsigned long long seq, rt;

        if (de->d_name[0] != '@')
            continue;
        cr_assert_eq(sscanf(de->d_name, "@%16llx-%16llx.journal", &seq, &rt), 2);
        cr_assert_eq(strlen(de->d_name), 42);
        cr_assert_eq(rt, T0 + seq - 1, "%s", de->d_name);
    }
    closedir(d);
    cr_assert_eq(read_all(NULL, &g, NULL), 0);
    cr_assert_eq(g.n, 2000);
    for (size_t i = 0; i < g.n; i++)
        cr_assert_eq(g.v[i].seq, i + 1);
    got_free(&g);
}

static uint64_t dir_use(const char *unit)
{
    char path[128];
    struct dirent *de;
    uint64_t n = 0;
    DIR *d;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, unit);
    d = opendir(path);
    cr_assert_not_null(d);
    while ((de = readdir(d))) {
        char p[512];

        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
        n += (uint64_t)file_size(p);
    }
    closedir(d);
    return n;
}

Test(journal_file, unit_cap_deletes_oldest_JRN_4)
{
    struct journal_limits l = {.max_file_size = 16384, .max_unit_use = 65536};
    struct journal_store *s = open_store(&l);
    struct got g;

    batch = 20;

    for (int round = 0; round < 20; round++) {
        append_n(s, "a.service", 500, T0 + (uint64_t)round * 1000, 1);
        cr_assert_leq(dir_use("a.service"), 65536);
    }
    journal_store_free(s);
    cr_assert_eq(read_all(NULL, &g, NULL), 0);
    cr_assert_gt(g.n, 0);
    /* What is left is the newest, without holes. */
    cr_assert_eq(g.v[g.n - 1].seq, 10000);
    for (size_t i = 1; i < g.n; i++)
        cr_assert_eq(g.v[i].seq, g.v[i - 1].seq + 1);
    got_free(&g);
}

Test(journal_file, total_cap_deletes_globally_oldest_JRN_4)
{
    struct journal_limits l = {.max_file_size = 8192, .max_total_use = 100000};
    struct journal_store *s = open_store(&l);
    struct got g;

    batch = 20;

    append_n(s, "old.service", 1000, T0, 1);
    append_n(s, "new.service", 1000, T0 + 10000, 1);
    cr_assert_leq(dir_use("old.service") + dir_use("new.service"), 100000);
    journal_store_free(s);
    /* old.service's rotated segments went first: only its current one is left. */
    cr_assert_eq(count_segments("old.service", false), 0);
    cr_assert_gt(count_segments("new.service", false), 0);
    cr_assert_eq(read_all(NULL, &g, NULL), 0);
    cr_assert_eq(g.v[g.n - 1].seq, 2000);
    got_free(&g);

    /* Caps lowered between runs are applied on open. */
    l.max_total_use = 20000;
    s = open_store(&l);
    journal_store_free(s);
    cr_assert_leq(dir_use("old.service") + dir_use("new.service"), 20000 + 2 * 8192);
}

/* ---- disk full (DISK-1) ---- */

/* RLIMIT_FSIZE makes write() stop part-way, as a full disk does: the store cuts the partial
 * write back, reports the error, and the file is as it was. */
Test(journal_file, failed_write_is_rolled_back)
{
    struct journal_store *s = open_store(NULL);
    struct journal_record b[500];
    char path[256], big[1000];
    struct rlimit rl;
    off_t before;
    struct got g;
    size_t skipped;

    append_n(s, "a.service", 10, T0, 1);
    path_of(path, sizeof(path), "a.service", "current.journal");
    before = file_size(path);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    for (int i = 0; i < 500; i++)
        b[i] = rec(i % 2 ? "a.service" : "b.service", T0 + 100, big);

    signal(SIGXFSZ, SIG_IGN);
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
    rl.rlim_cur = (rlim_t)before + 50000;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    cr_assert_eq(journal_store_append(s, b, 500), -EFBIG);
    cr_assert_eq(file_size(path), before);
    path_of(path, sizeof(path), "b.service", "current.journal");
    cr_assert_eq(file_size(path), 0);

    rl.rlim_cur = rl.rlim_max;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    cr_assert_eq(journal_store_append(s, b, 500), 0);
    cr_assert_eq(b[0].seq, 11);
    journal_store_free(s);
    cr_assert_eq(read_all(NULL, &g, &skipped), 0);
    cr_assert_eq(skipped, 0);
    cr_assert_eq(g.n, 510);
    got_free(&g);
}

static size_t count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    size_t n = 0;

    cr_assert_not_null(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

Test(journal_file, open_files_are_bounded)
{
    size_t base = count_fds();
    struct journal_store *s = open_store(NULL);
    struct got g;

    for (int i = 0; i < 150; i++) {
        char unit[32];

        snprintf(unit, sizeof(unit), "u%03d.service", i);
        append_n(s, unit, 3, T0 + (uint64_t)i, 1000);
    }
    cr_assert_leq(count_fds(), base + 64 + 1);
    /* Reopening loads all of them, within the same bound. */
    journal_store_free(s);
    s = open_store(NULL);
    cr_assert_leq(count_fds(), base + 64 + 1);
    append_n(s, "u000.service", 1, T0 + 5000, 1);
    journal_store_free(s);
    cr_assert_eq(count_fds(), base);
    cr_assert_eq(read_all(NULL, &g, NULL), 0);
    cr_assert_eq(g.n, 451);
    cr_assert_eq(g.v[450].seq, 451);
    got_free(&g);
}

/* The example in docs/journal-format.md is real: every line parses and checks out. */
Test(journal_file, documented_example_parses)
{
    char path[512], *doc, *p, *end, scratch[1024];
    size_t len, n = 0;

    snprintf(path, sizeof(path), "%s/docs/journal-format.md", MINISUP_SOURCE_DIR);
    doc = slurp(path, &len);
    p = strstr(doc, "### Example\n\n```\n");
    cr_assert_not_null(p);
    p += strlen("### Example\n\n```\n");
    end = strstr(p, "```");
    cr_assert_not_null(end);
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        struct journal_record r;

        cr_assert_not_null(nl);
        cr_assert_eq(journal_record_parse(p, (size_t)(nl + 1 - p), scratch, &r), 0, "%.*s",
                     (int)(nl - p), p);
        cr_assert_str_eq(r.unit, "fifo-echo.service");
        if (r.seq == 43)
            cr_assert_eq(memcmp(r.message, "bad byte \xff, tab\tand \x1b[1mbold", 28), 0);
        if (r.seq == 44)
            cr_assert_eq(r.flags, JOURNAL_FLAG_NO_NEWLINE);
        p = nl + 1;
        n++;
    }
    cr_assert_eq(n, 4);
    free(doc);
}

/* The instruction and the tables agree, on every length and alignment. */
Test(journal_file, crc32c_hardware_matches_tables)
{
    static unsigned char buf[4096 + 16];

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(rand() & 0xff);
    for (size_t len = 0; len < 1200; len += len < 300 ? 1 : 37) {
        for (size_t off = 0; off < 9; off++) {
            uint32_t a, b;

            crc32c_force_software(false);
            a = crc32c(buf + off, len);
            crc32c_force_software(true);
            b = crc32c(buf + off, len);
            crc32c_force_software(false);
            cr_assert_eq(a, b, "len %zu off %zu", len, off);
        }
    }
}

/* The run-time check finds the instruction whenever the kernel reports it (x86-64 only). */
Test(journal_file, crc32c_uses_the_instruction_the_cpu_has)
{
#if defined(__x86_64__)
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    bool flag = false;

    cr_assert(f, "/proc/cpuinfo: %s", strerror(errno));
    while (!flag && fgets(line, sizeof(line), f))
        flag = strncmp(line, "flags", 5) == 0 && strstr(line, " sse4_2");
    fclose(f);
    cr_assert_eq(crc32c_uses_hardware(), flag, "SSE 4.2 in /proc/cpuinfo: %d, in use: %d", flag,
                 crc32c_uses_hardware());
#else
    cr_assert_not(crc32c_uses_hardware());
#endif
}

static void fill_message(char *m, size_t len, unsigned seed)
{
    /* Mixed: binary (worst case for escaping), text, UTF-8. */
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        m[i] = (seed >> 16) % 3 == 0 ? (char)(seed >> 8) : (char)('a' + (seed >> 20) % 26);
    }
}

/* Several holed buffers at once (three streams, then the rest) give what two plain calls give,
 * with the instruction and with the tables, whatever the lengths and holes. */
Test(journal_file, crc32c_holed_matches_plain)
{
    static unsigned char buf[8][600];
    struct crc32c_holed_buf b[8];
    uint32_t got[8];

    srand(7);
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)(rand() % 8) + 1;

        for (size_t k = 0; k < n; k++) {
            size_t len = 8 + (size_t)(rand() % 590);

            for (size_t i = 0; i < len; i++)
                buf[k][i] = (unsigned char)(rand() & 0xff);
            b[k].buf = buf[k];
            b[k].len = len;
            b[k].hole = (size_t)rand() % (len - 7);
        }
        for (int sw = 0; sw < 2; sw++) {
            crc32c_force_software(sw);
            crc32c_holed(b, n, got);
            for (size_t k = 0; k < n; k++) {
                uint32_t want = crc32c_update(crc32c(buf[k], b[k].hole), buf[k] + b[k].hole + 8,
                                              b[k].len - b[k].hole - 8);
                cr_assert_eq(got[k], want, "round %d buffer %zu of %zu (len %zu hole %zu) sw %d",
                             round, k, n, b[k].len, b[k].hole, sw);
            }
        }
        crc32c_force_software(false);
    }
}

/* The batch formatter gives byte for byte the lines of journal_record_format(): shared fields
 * that change within the chain, a chain that skips records, seq digits that carry (999 to 1000),
 * escapes, long and empty messages. */
Test(journal_file, batch_format_matches_single_records)
{
    static const char *const units[] = {"a.service", "b@x.service"};
    static const char *const idents[] = {"a", "-", "with space", ""};
    static struct journal_record recs[300];
    static char msgs[300][700], batch_out[300 * 3500], single[300 * 3500];
    static size_t next[300];

    srand(11);
    for (int round = 0; round < 50; round++) {
        size_t n = 1 + (size_t)(rand() % 300), first = SIZE_MAX, *link = &first, len_single = 0;
        uint64_t first_seq = (uint64_t)(rand() % 3) == 0 ? 990 : (uint64_t)rand();

        for (size_t i = 0; i < n; i++) {
            size_t ml = rand() % 5 == 0 ? 0 : (size_t)(rand() % 700);

            fill_message(msgs[i], ml, (unsigned)rand());
            bool plain = rand() % 2;

            if (plain)
                memset(msgs[i], 'x', ml); /* plain text: the fast paths */
            recs[i] = (struct journal_record){
                .realtime_usec = T0 + (uint64_t)(rand() % 3 == 0 ? i : 0),
                .monotonic_usec = 12345 + (uint64_t)(rand() % 4 == 0),
                .unit = units[rand() % 7 == 0],
                .invocation = rand() % 9 == 0 ? "" : INV1,
                .identifier = idents[rand() % 10 == 0 ? rand() % 4 : 0],
                .pid = rand() % 11 == 0 ? 7 : 4242,
                .stream = (enum journal_stream)(rand() % 13 == 0 ? 2 : 0),
                .priority = rand() % 8 == 0 ? 3 : 6,
                .flags = (rand() % 6 == 0 ? (unsigned)(rand() % 4) : 0) |
                         (plain && rand() % 2 ? JOURNAL_FLAG_PLAIN : 0),
                .message = msgs[i],
                .message_len = ml,
            };
            next[i] = SIZE_MAX;
            if (round % 2 == 0 || rand() % 3 != 0) { /* odd rounds skip some */
                *link = i;
                link = &next[i];
            }
        }
        for (size_t i = first; i != SIZE_MAX; i = next[i]) {
            struct journal_record r = recs[i];

            r.seq = first_seq + i;
            r.flags &= ~(unsigned)JOURNAL_FLAG_PLAIN; /* the hint changes no byte */
            len_single += journal_record_format(&r, single + len_single, 3500);
        }
        size_t len_batch =
            first == SIZE_MAX ? 0 : journal_records_format(recs, first, next, first_seq, batch_out);
        cr_assert_eq(len_batch, len_single, "round %d", round);
        cr_assert_arr_eq(batch_out, single, len_single, "round %d", round);
    }
}

/* The collector's scan: the line end is memchr's, and "plain" is true exactly when no byte
 * before it needs escaping, for every length around the 16-byte blocks and every byte value. */
Test(journal_file, line_scan_matches_memchr_and_escaping)
{
    static const unsigned char specials[] = {'\n', '\\', 0x7f, 0x1f, 0x80, 0xc3, 0, '\t', 0xff};
    char buf[80];

    srand(5);
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(rand() % (int)sizeof(buf));
        bool plain, want_plain = true;

        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(0x20 + rand() % 0x5f);
        for (int k = rand() % 3; k > 0 && n > 0; k--)
            buf[rand() % (int)n] = (char)specials[rand() % (int)sizeof(specials)];
        if (round < 256 && n > 0)
            buf[n - 1] = (char)round; /* every byte value, last */

        const char *nl = memchr(buf, '\n', n);
        size_t want = nl ? (size_t)(nl - buf) : n;

        for (size_t i = 0; i < want; i++) {
            unsigned char c = (unsigned char)buf[i];
            if (c < 0x20 || c >= 0x7f || c == '\\')
                want_plain = false;
        }
        cr_assert_eq(journal_line_scan(buf, n, &plain), want, "round %d", round);
        cr_assert_eq(plain, want_plain, "round %d", round);
    }
}

/* Lines from empty to the largest message, all bytes escaped: forward, backward and tail reads
 * give back the same bytes (LOG-6 sizes, JRN-3 bounds). */
Test(journal_file, long_lines_round_trip_LOG_6)
{
    size_t sizes[] = {0, 1, 100, 40000, 100000, 5, JOURNAL_MESSAGE_MAX, 7, 70000};
    size_t n = sizeof(sizes) / sizeof(sizes[0]);
    struct journal_store *s = open_store(NULL);
    struct journal_record r = rec("a.service", T0, "");
    char *msgs[9];
    struct got g;

    for (size_t i = 0; i < n; i++) {
        msgs[i] = malloc(sizes[i] + 1);
        fill_message(msgs[i], sizes[i], (unsigned)i);
        if (i == 6)
            memset(msgs[i], 0x01, sizes[i]); /* every byte escaped: the longest line there is */
        r = rec("a.service", T0 + i, "");
        r.message = msgs[i];
        r.message_len = sizes[i];
        cr_assert_eq(journal_store_append(s, &r, 1), 0);
    }
    r.message_len = JOURNAL_MESSAGE_MAX + 1;
    cr_assert_eq(journal_store_append(s, &r, 1), -EMSGSIZE);
    journal_store_free(s);
    /* Reopening repairs nothing: the last line is long and good. */
    s = open_store(NULL);
    journal_store_free(s);

    for (int mode = 0; mode < 4; mode++) {
        struct journal_query q = {.reverse = mode == 1 || mode == 3, .lines = mode >= 2 ? 4 : 0};
        size_t skipped;
        size_t want = mode >= 2 ? 4 : n;

        cr_assert_eq(read_all(&q, &g, &skipped), 0);
        cr_assert_eq(skipped, 0);
        cr_assert_eq(g.n, want, "mode %d", mode);
        for (size_t k = 0; k < g.n; k++) {
            size_t i = (size_t)(g.v[k].seq - 1);

            cr_assert_eq(g.v[k].msg_len, sizes[i]);
            cr_assert_eq(memcmp(g.v[k].msg, msgs[i], sizes[i]), 0, "mode %d seq %zu", mode, i + 1);
        }
        got_free(&g);
    }
    for (size_t i = 0; i < n; i++)
        free(msgs[i]);
}

/* JRN-2: random damage of four kinds. The reader never hands out a record that differs from
 * what was written, finds every record the damage did not touch, and so does the store's repair
 * followed by a read. */
Test(journal_file, random_corruption_never_yields_bad_records_JRN_2, .timeout = 120)
{
    const size_t n = 300;
    char path[256], *orig, *buf;
    size_t len, *line_start;
    char **msgs = calloc(n, sizeof(*msgs));
    size_t *msg_lens = calloc(n, sizeof(*msg_lens));

    {
        struct journal_store *s = open_store(NULL);

        for (size_t i = 0; i < n; i++) {
            struct journal_record r = rec("a.service", T0 + i, "");
            size_t l = (size_t)(rand() % 300);

            msgs[i] = malloc(l + 1);
            msg_lens[i] = l;
            fill_message(msgs[i], l, (unsigned)i + 1000);
            r.message = msgs[i];
            r.message_len = l;
            cr_assert_eq(journal_store_append(s, &r, 1), 0);
        }
        journal_store_free(s);
    }
    path_of(path, sizeof(path), "a.service", "current.journal");
    orig = slurp(path, &len);
    line_start = calloc(n + 1, sizeof(*line_start));
    for (size_t i = 0, k = 1; i < len; i++)
        if (orig[i] == '\n' && k <= n)
            line_start[k++] = i + 1;
    buf = malloc(len + 8192);

    for (int iter = 0; iter < 200; iter++) {
        int kind = iter % 4;
        size_t n_len = len, lo = 0, hi = 0; /* the damaged byte range [lo, hi) */

        memcpy(buf, orig, len);
        if (kind == 0) { /* one flipped bit */
            lo = (size_t)rand() % len;
            hi = lo + 1;
            buf[lo] ^= (char)(1 << (rand() % 8));
        } else if (kind == 1) { /* a zeroed 4 KiB page */
            lo = ((size_t)rand() % (len / 4096 + 1)) * 4096;
            hi = lo + 4096 < len ? lo + 4096 : len;
            memset(buf + lo, 0, hi - lo);
        } else if (kind == 2) { /* junk appended */
            size_t k = 1 + (size_t)rand() % 5000;

            for (size_t i = 0; i < k; i++)
                buf[len + i] = (char)(rand() % 256);
            n_len += k;
            lo = hi = len;
        } else { /* the file cut short */
            n_len = (size_t)rand() % len;
            lo = n_len;
            hi = len;
        }
        for (int pass = 0; pass < 2; pass++) {
            size_t untouched = 0;

            spit(path, buf, n_len);
            if (pass == 1) {
                struct journal_store *s = open_store(NULL);

                journal_store_free(s);
            }
            for (size_t i = 0; i < n; i++) {
                /* A line is untouched if the damage is outside it and its newline. */
                bool hit = lo < line_start[i + 1] && hi > line_start[i];

                /* A flipped newline also breaks the line after it. */
                if (kind == 0 && orig[lo] == '\n' && line_start[i] == lo + 1)
                    hit = true;
                /* Repair cuts from the end back to the last good line. */
                if (pass == 1 && line_start[i] >= lo && kind != 2)
                    hit = true;
                untouched += !hit;
            }
            for (int reverse = 0; reverse < 2; reverse++) {
                struct journal_query q = {.reverse = reverse};
                struct got g;

                cr_assert_eq(read_all(&q, &g, NULL), 0);
                for (size_t k = 0; k < g.n; k++) {
                    size_t i = (size_t)(g.v[k].seq - 1);

                    cr_assert_lt(i, n);
                    cr_assert_eq(g.v[k].rt, T0 + i);
                    cr_assert_eq(g.v[k].msg_len, msg_lens[i]);
                    cr_assert_eq(memcmp(g.v[k].msg, msgs[i], msg_lens[i]), 0, "iter %d seq %zu",
                                 iter, i + 1);
                }
                cr_assert_geq(g.n, untouched, "iter %d kind %d pass %d: %zu < %zu", iter, kind,
                              pass, g.n, untouched);
                got_free(&g);
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        free(msgs[i]);
    free(msgs);
    free(msg_lens);
    free(line_start);
    free(buf);
    free(orig);
}
