/* One journal record as one text line: validation, escaping, formatting and parsing. Pure
 * functions on caller memory; the hot paths (integer printing, escaping, the checksum) are
 * hand-written because the store formats millions of lines a second. The grammar is in
 * docs/journal-format.md; keep the two in step. */
#include "journal_format.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "crc32c.h"

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static const char digits2[201] = "0001020304050607080910111213141516171819"
                                 "2021222324252627282930313233343536373839"
                                 "4041424344454647484950515253545556575859"
                                 "6061626364656667686970717273747576777879"
                                 "8081828384858687888990919293949596979899";
static const char hexdigits[16] = "0123456789abcdef";
static const char stream_chars[JOURNAL_STREAM_MAX] = {'o', 'e', 'm'};

const char *journal_stream_to_string(enum journal_stream s)
{
    static const char *const names[JOURNAL_STREAM_MAX] = {"stdout", "stderr", "manager"};

    if ((unsigned)s >= JOURNAL_STREAM_MAX)
        return "unknown";
    return names[s];
}

bool journal_unit_name_is_valid(const char *name)
{
    size_t n = 0;

    if (!name || name[0] == '\0' || name[0] == '.')
        return false;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;

        if (n >= JOURNAL_UNIT_NAME_MAX)
            return false;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            continue;
        if (c == ':' || c == '_' || c == '.' || c == '@' || c == '\\' || c == '-')
            continue;
        return false;
    }
    return true;
}

static bool invocation_is_valid(const char *s)
{
    for (int i = 0; i < 32; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return s[32] == '\0';
}

int journal_records_validate(const struct journal_record *recs, size_t n)
{
    const char *unit_ok = NULL, *inv_ok = NULL;

    for (size_t i = 0; i < n; i++) {
        const struct journal_record *r = &recs[i];

        /* A batch mostly repeats the same unit and invocation strings: check each once. */
        if (!unit_ok || r->unit != unit_ok) {
            if (!journal_unit_name_is_valid(r->unit))
                return -EINVAL;
            unit_ok = r->unit;
        }
        if (r->invocation && r->invocation != inv_ok && r->invocation[0] != '\0') {
            if (!invocation_is_valid(r->invocation))
                return -EINVAL;
            inv_ok = r->invocation;
        }
        if (r->priority < 0 || r->priority > 7 || (unsigned)r->stream >= JOURNAL_STREAM_MAX ||
            r->pid < 0 || (r->message_len > 0 && !r->message))
            return -EINVAL;
        if (r->message_len > JOURNAL_MESSAGE_MAX)
            return -EMSGSIZE;
    }
    return 0;
}

int journal_record_validate(const struct journal_record *r)
{
    return journal_records_validate(r, 1);
}

size_t journal_record_format_bound(const struct journal_record *r)
{
    /* Three u64 and a pid (20 digits each), 32 hex, stream, flags, crc, 10 spaces and the newline
     * fit in 200; the unit is written as is, the identifier and message at most 4x escaped. */
    return 200 + JOURNAL_UNIT_NAME_MAX + 4 * JOURNAL_IDENTIFIER_MAX + 4 * r->message_len;
}

static inline size_t u64_len(uint64_t v)
{
    size_t n = 1;

    while (v >= 10000) {
        v /= 10000;
        n += 4;
    }
    return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* Decimal, two digits per division, written from the end in place. */
static inline char *put_u64(char *p, uint64_t v)
{
    size_t n = u64_len(v);
    char *e = p + n;

    while (v >= 100) {
        e -= 2;
        memcpy(e, digits2 + (v % 100) * 2, 2);
        v /= 100;
    }
    if (v >= 10) {
        e -= 2;
        memcpy(e, digits2 + v * 2, 2);
    } else {
        *--e = (char)('0' + v);
    }
    return p + n;
}

/* True when none of the 8 bytes needs escaping: all in 0x20..0x7e and none a backslash. The
 * three tests are the exact "has a byte less than / more than / equal to" tricks of Sean
 * Anderson's bit hacks. */
static inline bool word_is_plain(uint64_t w)
{
    uint64_t lt = (w - ONES * 0x20) & ~w & HIGHS;
    uint64_t gt = ((w + ONES * 0x01) | w) & HIGHS;
    uint64_t bs = w ^ (ONES * '\\');

    bs = (bs - ONES) & ~bs & HIGHS;
    return (lt | gt | bs) == 0;
}

/* Length of the valid, printable UTF-8 sequence at s (2..4 bytes), or 0 when s[0] starts none:
 * a stray continuation byte, an overlong form, a surrogate, a code point over U+10FFFF, a
 * truncated sequence, or a C1 control (U+0080..U+009F, which terminals would act on). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len;

    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        if (c == 0xc2)
            lo = 0xa0; /* C1 controls */
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* over U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

static inline bool byte_is_plain(unsigned char c, bool escape_space)
{
    return c >= 0x20 && c < 0x7f && c != '\\' && !(escape_space && c == ' ');
}

#ifdef __SSE2__
/* One bit per byte of x that is not plain (byte_is_plain() without escape_space): as signed
 * bytes, everything below 0x20 (the controls and all of 0x80..0xff), DEL and the backslash. */
static inline unsigned not_plain_mask(__m128i x)
{
    __m128i bad = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
                               _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)),
                                            _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));

    return (unsigned)_mm_movemask_epi8(bad);
}
#endif

/* Writes s escaped: printable ASCII and valid printable UTF-8 as they are, every other byte and
 * the backslash as \xHH. With escape_space, ' ' too (for the space-delimited identifier). */
static char *put_escaped(char *o, const unsigned char *s, size_t n, bool escape_space)
{
    size_t i = 0, run = 0; /* s[run..i) went out byte for byte, unescaped */

    while (i < n) {
        unsigned char c;
        size_t l;

        if (!escape_space) {
#ifdef __SSE2__
            /* 16 bytes at a time: as signed bytes, everything below 0x20 (controls and all of
             * 0x80..0xff) plus DEL and the backslash needs a closer look. The whole block is
             * stored even when only its start is plain: the output has room for 4x the rest. */
            while (i + 16 <= n) {
                __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
                unsigned m = not_plain_mask(x);

                _mm_storeu_si128((__m128i *)(void *)o, x);
                if (m != 0) {
                    unsigned k = (unsigned)__builtin_ctz(m);

                    o += k;
                    i += k;
                    break;
                }
                o += 16;
                i += 16;
            }
            /* Fewer than 16 left after a plain run of at least 16: check the last 16 bytes
             * at once, overlapping what was copied already (1:1, so it lines up). */
            if (i < n && i + 16 > n && n >= 16 && n - 16 >= run) {
                __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));

                if (not_plain_mask(x) == 0) {
                    _mm_storeu_si128((__m128i *)(void *)(o - (i - (n - 16))), x);
                    o += n - i;
                    break; /* all of s is out */
                }
            }
#endif
            while (i + 8 <= n) {
                uint64_t w;

                memcpy(&w, s + i, sizeof(w));
                if (!word_is_plain(w))
                    break;
                memcpy(o, s + i, sizeof(w));
                o += 8;
                i += 8;
            }
            if (i >= n)
                break;
        }
        c = s[i];
        if (byte_is_plain(c, escape_space)) {
            *o++ = (char)c;
            i++;
            continue;
        }
        if (c >= 0x80 && (l = utf8_len(s + i, n - i)) > 0) {
            memcpy(o, s + i, l);
            o += l;
            i += l;
            continue;
        }
        o[0] = '\\';
        o[1] = 'x';
        o[2] = hexdigits[c >> 4];
        o[3] = hexdigits[c & 15];
        o += 4;
        i++;
        run = i;
    }
    return o;
}

size_t journal_line_scan(const char *data, size_t n, bool *ret_plain)
{
    const unsigned char *s = (const unsigned char *)data;
    const char *nl;
    size_t i = 0;

#ifdef __SSE2__
    /* The same test as put_escaped()'s: the first byte that is not plain ends the scan, and
     * in the common line that byte is the newline itself. */
    while (i + 16 <= n) {
        unsigned m = not_plain_mask(_mm_loadu_si128((const __m128i *)(const void *)(s + i)));

        if (m != 0) {
            i += (size_t)__builtin_ctz(m);
            break;
        }
        i += 16;
    }
    if (i + 16 > n)
#endif
        while (i < n && byte_is_plain(s[i], false))
            i++;
    if (i == n || s[i] == '\n') {
        *ret_plain = true;
        return i;
    }
    *ret_plain = false;
    nl = memchr(data + i, '\n', n - i);
    return nl ? (size_t)(nl - data) : n;
}

static size_t escaped_len(const unsigned char *s, size_t n, bool escape_space)
{
    size_t len = 0;

    for (size_t i = 0; i < n;) {
        size_t l;

        if (byte_is_plain(s[i], escape_space)) {
            len++;
            i++;
        } else if (s[i] >= 0x80 && (l = utf8_len(s + i, n - i)) > 0) {
            len += l;
            i += l;
        } else {
            len += 4;
            i++;
        }
    }
    return len;
}

static size_t identifier_len(const char *id)
{
    return id ? strnlen(id, JOURNAL_IDENTIFIER_MAX) : 0;
}

/* An identifier that is empty, or exactly "-", must not read back as the other. */
static char *put_identifier(char *p, const char *id)
{
    size_t n = identifier_len(id);

    if (n == 0) {
        *p++ = '-';
    } else if (n == 1 && id[0] == '-') {
        memcpy(p, "\\x2d", 4);
        p += 4;
    } else {
        p = put_escaped(p, (const unsigned char *)id, n, true);
    }
    return p;
}

/* The eight lower-case hex digits of v, most significant first, in one 8-byte store: each
 * nibble spread to a byte, then '0' added, and 'a' - '0' - 10 more where the nibble is >= 10. */
static inline void put_hex32(char *at, uint32_t v)
{
    uint64_t x = v, ge10;

    x = (x | x << 16) & 0x0000ffff0000ffffULL;
    x = (x | x << 8) & 0x00ff00ff00ff00ffULL;
    x = (x | x << 4) & 0x0f0f0f0f0f0f0f0fULL;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    x = __builtin_bswap64(x); /* the most significant nibble goes first in memory */
#endif
    ge10 = ((x + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;
    x += 0x3030303030303030ULL + ge10 * (uint64_t)('a' - '0' - 10);
    memcpy(at, &x, sizeof(x));
}

/* The message field: copied as it is when the collector's scan found nothing to escape. */
static inline char *put_message(char *p, const struct journal_record *r)
{
    if (r->flags & JOURNAL_FLAG_PLAIN) {
        memcpy(p, r->message, r->message_len);
        return p + r->message_len;
    }
    return put_escaped(p, (const unsigned char *)r->message, r->message_len, false);
}

static size_t format_exact_len(const struct journal_record *r)
{
    size_t n = identifier_len(r->identifier);
    size_t len = 0;

    len += u64_len(r->realtime_usec) + 1 + u64_len(r->monotonic_usec) + 1;
    len += u64_len(r->seq) + 1 + strlen(r->unit) + 1;
    len += (r->invocation && r->invocation[0] ? 32 : 1) + 1;
    len += u64_len((uint64_t)r->pid) + 1 + 2 + 1;
    len += (r->flags & (JOURNAL_FLAG_CONTINUED | JOURNAL_FLAG_NO_NEWLINE)
                ? ((r->flags & JOURNAL_FLAG_CONTINUED) != 0) +
                      ((r->flags & JOURNAL_FLAG_NO_NEWLINE) != 0)
                : 1) +
           1;
    if (n == 0)
        len += 1;
    else if (n == 1 && r->identifier[0] == '-')
        len += 4;
    else
        len += escaped_len((const unsigned char *)r->identifier, n, true);
    len += 1 + 8 + 1;
    len += escaped_len((const unsigned char *)r->message, r->message_len, false);
    return len + 1;
}

/* The fields from unit to identifier and the space after it: one writer for the single-record
 * and the batch formatter, so the two cannot drift apart. */
static char *put_unit_to_identifier(char *p, const struct journal_record *r)
{
    unsigned flags = r->flags & (JOURNAL_FLAG_CONTINUED | JOURNAL_FLAG_NO_NEWLINE);
    size_t unit_len = strlen(r->unit);

    memcpy(p, r->unit, unit_len);
    p += unit_len;
    *p++ = ' ';
    if (r->invocation && r->invocation[0]) {
        memcpy(p, r->invocation, 32);
        p += 32;
    } else {
        *p++ = '-';
    }
    *p++ = ' ';
    p = put_u64(p, (uint64_t)r->pid);
    *p++ = ' ';
    *p++ = stream_chars[r->stream];
    *p++ = (char)('0' + r->priority);
    *p++ = ' ';
    if (!flags)
        *p++ = '-';
    if (flags & JOURNAL_FLAG_CONTINUED)
        *p++ = 'C';
    if (flags & JOURNAL_FLAG_NO_NEWLINE)
        *p++ = 'N';
    *p++ = ' ';
    p = put_identifier(p, r->identifier);
    *p++ = ' ';
    return p;
}

static size_t format_into(const struct journal_record *r, char *buf)
{
    char *p = buf, *crc_at;
    uint32_t crc;

    p = put_u64(p, r->realtime_usec);
    *p++ = ' ';
    p = put_u64(p, r->monotonic_usec);
    *p++ = ' ';
    p = put_u64(p, r->seq);
    *p++ = ' ';
    p = put_unit_to_identifier(p, r);
    crc_at = p;
    p += 8;
    *p++ = ' ';
    p = put_message(p, r);

    /* The checksum covers every byte of the line but its own eight digits and the newline. */
    crc = crc32c_update(crc32c(buf, (size_t)(crc_at - buf)), crc_at + 8, (size_t)(p - crc_at - 8));
    put_hex32(crc_at, crc);
    *p++ = '\n';
    return (size_t)(p - buf);
}

size_t journal_record_format(const struct journal_record *r, char *buf, size_t size)
{
    size_t need;

    if (size >= journal_record_format_bound(r))
        return format_into(r, buf);
    need = format_exact_len(r);
    if (need <= size)
        format_into(r, buf);
    return need;
}

/* ---- a batch of records ---- */

/* Lines whose checksums are computed together (crc32c_holed() runs three at a time). */
#define CRC_GROUP 12

/* What consecutive records of a batch share, formatted once: the two timestamps ("rt mono "),
 * and everything from the unit to the identifier (" unit inv pid sP F ident "), valid while
 * the fields they came from are the same. The strings are compared by pointer: the records of
 * one call are all alive, so one pointer means one string for its length. */
struct shared_fields {
    bool times_valid, rest_valid, seq_valid;
    uint64_t rt, mono, seq;
    const char *unit, *invocation, *identifier;
    pid_t pid;
    enum journal_stream stream;
    int priority;
    unsigned flags;
    size_t times_len, rest_len, seq_len;
    char times[48];
    char seq_text[24];
    char rest[8 + JOURNAL_UNIT_NAME_MAX + 32 + 20 + 8 + 4 * JOURNAL_IDENTIFIER_MAX];
};

static void shared_times(struct shared_fields *f, const struct journal_record *r)
{
    char *p = f->times;

    p = put_u64(p, r->realtime_usec);
    *p++ = ' ';
    p = put_u64(p, r->monotonic_usec);
    *p++ = ' ';
    f->times_len = (size_t)(p - f->times);
    f->rt = r->realtime_usec;
    f->mono = r->monotonic_usec;
    f->times_valid = true;
}

static void shared_rest(struct shared_fields *f, const struct journal_record *r)
{
    unsigned flags = r->flags & (JOURNAL_FLAG_CONTINUED | JOURNAL_FLAG_NO_NEWLINE);
    char *p = f->rest;

    *p++ = ' ';
    p = put_unit_to_identifier(p, r);
    f->rest_len = (size_t)(p - f->rest);
    f->unit = r->unit;
    f->invocation = r->invocation;
    f->identifier = r->identifier;
    f->pid = r->pid;
    f->stream = r->stream;
    f->priority = r->priority;
    f->flags = flags;
    f->rest_valid = true;
}

/* The sequence number's digits: the last one plus one is a carry in place, not a division. */
static void shared_seq(struct shared_fields *f, uint64_t seq)
{
    if (f->seq_valid && seq == f->seq + 1) {
        size_t i = f->seq_len;

        while (i > 0 && f->seq_text[i - 1] == '9')
            f->seq_text[--i] = '0';
        if (i > 0) {
            f->seq_text[i - 1]++;
            f->seq = seq;
            return;
        }
    }
    f->seq_len = (size_t)(put_u64(f->seq_text, seq) - f->seq_text);
    f->seq = seq;
    f->seq_valid = true;
}

static void put_crcs(struct crc32c_holed_buf *lines, size_t n)
{
    uint32_t crc[CRC_GROUP];

    crc32c_holed(lines, n, crc);
    for (size_t k = 0; k < n; k++) {
        char *at = (char *)(uintptr_t)lines[k].buf + lines[k].hole;

        put_hex32(at, crc[k]);
    }
}

size_t journal_records_format(const struct journal_record *recs, size_t first, const size_t *next,
                              uint64_t first_seq, char *buf)
{
    struct shared_fields f;
    struct crc32c_holed_buf lines[CRC_GROUP];
    size_t n_lines = 0;
    char *p = buf;

    memset(&f, 0, sizeof(f)); /* the fixed-size copies below read whole arrays */
    for (size_t i = first; i != SIZE_MAX; i = next[i]) {
        const struct journal_record *r = &recs[i];
        char *line = p;

        if (!f.times_valid || r->realtime_usec != f.rt || r->monotonic_usec != f.mono)
            shared_times(&f, r);
        if (!f.rest_valid || r->unit != f.unit || r->invocation != f.invocation ||
            r->identifier != f.identifier || r->pid != f.pid || r->stream != f.stream ||
            r->priority != f.priority ||
            (r->flags & (JOURNAL_FLAG_CONTINUED | JOURNAL_FLAG_NO_NEWLINE)) != f.flags)
            shared_rest(&f, r);
        shared_seq(&f, first_seq + i);
        /* Fixed-size copies (a few vector moves, no call): what they write past a field is
         * overwritten by the next one, and a record's bound leaves room for it. */
        memcpy(p, f.times, sizeof(f.times));
        p += f.times_len;
        memcpy(p, f.seq_text, sizeof(f.seq_text));
        p += f.seq_len;
        if (f.rest_len <= 64)
            memcpy(p, f.rest, 64);
        else
            memcpy(p, f.rest, f.rest_len);
        p += f.rest_len;
        lines[n_lines].buf = line;
        lines[n_lines].hole = (size_t)(p - line);
        p += 8;
        *p++ = ' ';
        p = put_message(p, r);
        lines[n_lines].len = (size_t)(p - line);
        *p++ = '\n';
        if (++n_lines == CRC_GROUP) {
            put_crcs(lines, n_lines);
            n_lines = 0;
        }
    }
    if (n_lines > 0)
        put_crcs(lines, n_lines);
    return (size_t)(p - buf);
}

/* ---- parsing ---- */

/* Hex digit values plus one, so that 0 means "not a hex digit". */
static const unsigned char hex_table[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static inline int hexval(char c)
{
    return (int)hex_table[(unsigned char)c] - 1;
}

/* Reads a decimal field and the space after it. */
static int parse_u64(const char **p, const char *end, uint64_t *ret)
{
    const char *s = *p;
    uint64_t v = 0;

    if (s >= end || *s < '0' || *s > '9')
        return -EBADMSG;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');

        if (v >= UINT64_MAX / 10 && (v > UINT64_MAX / 10 || d > UINT64_MAX % 10))
            return -EBADMSG;
        v = v * 10 + d;
    }
    if (s >= end || *s != ' ')
        return -EBADMSG;
    *p = s + 1;
    *ret = v;
    return 0;
}

/* The next non-empty space-terminated field. */
static int next_field(const char **p, const char *end, const char **ret_start, size_t *ret_len)
{
    const char *s = *p, *sp = s;

    /* Fields are short: a plain loop beats a call to memchr. */
    while (sp < end && *sp != ' ')
        sp++;
    if (sp == end || sp == s)
        return -EBADMSG;
    *ret_start = s;
    *ret_len = (size_t)(sp - s);
    *p = sp + 1;
    return 0;
}

/* Lower-case only: the checksum does not cover its own digits, so 'A' for 'a' must not pass. */
static int parse_crc(const char *s, uint32_t *ret)
{
    uint32_t v = 0;

    for (int i = 0; i < 8; i++) {
        int h = hexval(s[i]);

        if (h < 0 || (s[i] >= 'A' && s[i] <= 'F'))
            return -EBADMSG;
        v = v << 4 | (uint32_t)h;
    }
    *ret = v;
    return 0;
}

/* Undoes put_escaped(); returns the end of the output or NULL on a malformed escape. */
static char *unescape(char *o, const char *s, size_t n)
{
    const char *end = s + n;

    while (s < end) {
        const char *bs = memchr(s, '\\', (size_t)(end - s));
        size_t run = bs ? (size_t)(bs - s) : (size_t)(end - s);
        int h1, h2;

        memcpy(o, s, run);
        o += run;
        if (!bs)
            break;
        if (end - bs < 4 || bs[1] != 'x' || (h1 = hexval(bs[2])) < 0 || (h2 = hexval(bs[3])) < 0)
            return NULL;
        *o++ = (char)(h1 << 4 | h2);
        s = bs + 4;
    }
    return o;
}

int journal_line_peek(const char *line, size_t len, uint64_t *ret_realtime, uint64_t *ret_seq)
{
    const char *p = line, *end = line + len, *f;
    uint64_t rt, mono, seq;
    uint32_t want, got;
    size_t fl;

    if (parse_u64(&p, end, &rt) < 0 || parse_u64(&p, end, &mono) < 0 ||
        parse_u64(&p, end, &seq) < 0)
        return -EBADMSG;
    /* unit, invocation, pid, stream+priority, flags, identifier */
    for (int i = 0; i < 6; i++)
        if (next_field(&p, end, &f, &fl) < 0)
            return -EBADMSG;
    if (end - p < 9 || p[8] != ' ' || parse_crc(p, &want) < 0)
        return -EBADMSG;
    got = crc32c_update(crc32c(line, (size_t)(p - line)), p + 8, (size_t)(end - p - 8));
    if (got != want)
        return -EBADMSG;
    *ret_realtime = rt;
    *ret_seq = seq;
    return 0;
}

int journal_line_parse(const char *line, size_t len, char *scratch, struct journal_record *ret,
                       bool verify)
{
    const char *p = line, *end, *f, *crc_at;
    struct journal_record r = {0};
    char *o = scratch, *e;
    uint64_t pid;
    size_t fl;
    uint32_t want;

    if (len > 0 && line[len - 1] == '\n')
        len--;
    end = line + len;
    if (parse_u64(&p, end, &r.realtime_usec) < 0 || parse_u64(&p, end, &r.monotonic_usec) < 0 ||
        parse_u64(&p, end, &r.seq) < 0)
        return -EBADMSG;

    /* unit */
    if (next_field(&p, end, &f, &fl) < 0 || fl > JOURNAL_UNIT_NAME_MAX)
        return -EBADMSG;
    memcpy(o, f, fl);
    o[fl] = '\0';
    if (!journal_unit_name_is_valid(o))
        return -EBADMSG;
    r.unit = o;
    o += fl + 1;

    /* invocation */
    if (next_field(&p, end, &f, &fl) < 0)
        return -EBADMSG;
    if (fl == 1 && f[0] == '-') {
        o[0] = '\0';
    } else {
        if (fl != 32)
            return -EBADMSG;
        memcpy(o, f, 32);
        o[32] = '\0';
        if (!invocation_is_valid(o))
            return -EBADMSG;
    }
    r.invocation = o;
    o += fl == 1 ? 1 : 33;

    if (parse_u64(&p, end, &pid) < 0 || pid > INT_MAX)
        return -EBADMSG;
    r.pid = (pid_t)pid;

    /* stream and priority */
    if (next_field(&p, end, &f, &fl) < 0 || fl != 2 || f[1] < '0' || f[1] > '7')
        return -EBADMSG;
    if (f[0] == 'o')
        r.stream = JOURNAL_STREAM_STDOUT;
    else if (f[0] == 'e')
        r.stream = JOURNAL_STREAM_STDERR;
    else if (f[0] == 'm')
        r.stream = JOURNAL_STREAM_MANAGER;
    else
        return -EBADMSG;
    r.priority = f[1] - '0';

    /* flags: letters we do not know are newer flags and are ignored */
    if (next_field(&p, end, &f, &fl) < 0)
        return -EBADMSG;
    if (!(fl == 1 && f[0] == '-')) {
        for (size_t i = 0; i < fl; i++) {
            if (f[i] == 'C')
                r.flags |= JOURNAL_FLAG_CONTINUED;
            else if (f[i] == 'N')
                r.flags |= JOURNAL_FLAG_NO_NEWLINE;
            else if (f[i] < 'A' || f[i] > 'Z')
                return -EBADMSG;
        }
    }

    /* identifier */
    if (next_field(&p, end, &f, &fl) < 0)
        return -EBADMSG;
    if (fl == 1 && f[0] == '-') {
        e = o;
    } else {
        e = unescape(o, f, fl);
        if (!e || memchr(o, '\0', (size_t)(e - o)))
            return -EBADMSG;
    }
    *e = '\0';
    r.identifier = o;
    o = e + 1;

    /* checksum, then the message: everything after the space that follows it */
    if (end - p < 9 || p[8] != ' ' || parse_crc(p, &want) < 0)
        return -EBADMSG;
    crc_at = p;
    if (verify && crc32c_update(crc32c(line, (size_t)(crc_at - line)), crc_at + 8,
                                (size_t)(end - crc_at - 8)) != want)
        return -EBADMSG;
    p += 9;
    e = unescape(o, p, (size_t)(end - p));
    if (!e)
        return -EBADMSG;
    r.message = o;
    r.message_len = (size_t)(e - o);
    *ret = r;
    return 0;
}

int journal_record_parse(const char *line, size_t len, char *scratch, struct journal_record *ret)
{
    return journal_line_parse(line, len, scratch, ret, true);
}
