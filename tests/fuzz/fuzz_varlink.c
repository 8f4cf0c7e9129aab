/* F4: Varlink framing and decoding, as the daemon's control connections drive them:
 * varlink_buffer_append() with the bytes of a stream in random chunk sizes (at most 64 KiB, the
 * daemon's read size), varlink_buffer_next() to take complete messages off (sometimes only every
 * few reads, as while a connection is busy with a job), and varlink_call_parse() on each.
 *
 * Input: byte 0 seeds the chunk sizes, byte 1 picks how often the buffer is drained, the rest is
 * the stream. In the stream, 0xf5 C B (0xf5 never occurs in UTF-8) expands to byte B repeated
 * (C + 1) * 8192 times, so that small inputs can build messages near and over the 1 MiB bound.
 *
 * Properties:
 *   - never more than 2 * VARLINK_MESSAGE_MAX bytes buffered, and no message longer than
 *     VARLINK_MESSAGE_MAX is ever handed to the JSON decoder ("hard bound on one message");
 *   - after -EMSGSIZE nothing of the refused read is kept, and nothing more is fed (the daemon
 *     disconnects); `tail` always counts the bytes after the last NUL buffered;
 *   - varlink_buffer_next() returns 1 only with a JSON object, else 0 or -EBADMSG, and 0 exactly
 *     when no NUL is buffered;
 *   - round trip: every message taken off (at most MESSAGES_MAX per input) re-encodes with
 *     varlink_encode() to one NUL-terminated JSON text without another NUL, which fed to a fresh
 *     buffer yields a json_equal() message; varlink_call_parse() gives the same verdict, method,
 *     flags and parameters for both. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>

#include "fuzz.h"
#include "varlink.h"

#define EXPAND_BYTE 0xf5
#define EXPAND_UNIT 8192
#define STREAM_MAX (3 * VARLINK_MESSAGE_MAX)
#define READ_MAX (64 * 1024)
#define MESSAGES_MAX 512

static uint32_t rng_next(uint32_t *x)
{
    /* xorshift32: any non-zero state */
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* Expands the 0xf5 runs; returns a new buffer of *ret_len bytes (at most STREAM_MAX). */
static char *expand(const uint8_t *p, size_t n, size_t *ret_len)
{
    size_t len = 0, cap = n + 1;
    char *s = fuzz_xmalloc(cap);

    for (size_t i = 0; i < n; i++) {
        size_t run = 1;
        uint8_t b = p[i];

        if (p[i] == EXPAND_BYTE && i + 2 < n) {
            run = ((size_t)p[i + 1] + 1) * EXPAND_UNIT;
            b = p[i + 2];
            i += 2;
        }
        if (len + run > STREAM_MAX)
            run = STREAM_MAX - len;
        if (len + run > cap) {
            while (cap < len + run)
                cap *= 2;
            s = realloc(s, cap);
            if (!s)
                abort();
        }
        memset(s + len, b, run);
        len += run;
        if (len == STREAM_MAX)
            break;
    }
    *ret_len = len;
    return s;
}

static void check_round_trip(json_t *msg)
{
    struct varlink_buffer b = {0};
    const char *m1 = NULL, *m2 = NULL;
    json_t *p1 = NULL, *p2 = NULL, *again = NULL;
    unsigned f1 = 0, f2 = 0;
    size_t n = 0;
    char *enc;
    int c1, c2, r;

    enc = varlink_encode(msg, &n);
    if (!enc)
        abort(); /* out of memory */
    FUZZ_CHECK(n > 0 && enc[n - 1] == '\0' && memchr(enc, '\0', n) == enc + n - 1,
               "varlink_encode() did not give exactly one terminating NUL (%zu bytes)", n);
    if (n - 1 > VARLINK_MESSAGE_MAX) { /* escapes can make a message grow past the bound */
        free(enc);
        return;
    }
    r = varlink_buffer_append(&b, enc, n);
    FUZZ_CHECK(r == 0, "a re-encoded message (%zu bytes) was refused: %d", n, r);
    r = varlink_buffer_next(&b, &again);
    if (r != 1)
        fuzz_dump("encoded", enc, n - 1);
    FUZZ_CHECK(r == 1, "a re-encoded message does not decode: %d", r);
    FUZZ_CHECK(b.len == 0, "%zu bytes left after the re-encoded message", b.len);
    if (!json_equal(msg, again))
        fuzz_dump("encoded", enc, n - 1);
    FUZZ_CHECK(json_equal(msg, again), "decode(encode(m)) is not json_equal to m");

    c1 = varlink_call_parse(msg, &m1, &p1, &f1);
    c2 = varlink_call_parse(again, &m2, &p2, &f2);
    FUZZ_CHECK(c1 == 0 || c1 == -EBADMSG, "varlink_call_parse returned %d", c1);
    FUZZ_CHECK(c1 == c2, "varlink_call_parse: %d, then %d after the round trip", c1, c2);
    if (c1 == 0) {
        FUZZ_CHECK(m1 && m2 && strcmp(m1, m2) == 0, "method differs after the round trip");
        FUZZ_CHECK(f1 == f2, "call flags %#x, then %#x", f1, f2);
        FUZZ_CHECK((!p1 && !p2) || (p1 && p2 && json_equal(p1, p2)),
                   "parameters differ after the round trip");
        FUZZ_CHECK(!p1 || json_is_object(p1), "parameters that are not an object");
    }
    json_decref(again);
    varlink_buffer_done(&b);
    free(enc);
}

/* Takes every complete message off the buffer, checking each; false once the input has had
 * MESSAGES_MAX of them. The cap keeps the search fast: a megabyte of NULs is a million empty
 * messages, over a second to take off even now that this is linear (finding V2 was quadratic;
 * tests/unit/test_varlink.c checks that next() moves no bytes). */
static bool drain(struct varlink_buffer *b, size_t *taken)
{
    for (;;) {
        const char *nul;
        json_t *msg = NULL;
        int r;

        nul = b->len ? memchr(b->data, '\0', b->len) : NULL;
        if (nul)
            FUZZ_CHECK((size_t)(nul - b->data) <= VARLINK_MESSAGE_MAX,
                       "a %zu-byte message reaches the decoder (bound %d)", (size_t)(nul - b->data),
                       VARLINK_MESSAGE_MAX);
        r = varlink_buffer_next(b, &msg);
        FUZZ_CHECK(r == 0 || r == 1 || r == -EBADMSG, "varlink_buffer_next returned %d", r);
        FUZZ_CHECK((r == 0) == !nul, "next returned %d with%s a complete message buffered", r,
                   nul ? "" : "out");
        if (r == 0)
            return true;
        /* On -EBADMSG the daemon disconnects; carry on to test the rest of the buffer. */
        if (r == 1) {
            FUZZ_CHECK(msg && json_is_object(msg), "next returned 1 without a JSON object");
            check_round_trip(msg);
            json_decref(msg);
        }
        if (++*taken >= MESSAGES_MAX)
            return false;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned busy_reads[8] = {2, 4, 16, 64, 256, 1024, 4096, UINT_MAX};
    struct varlink_buffer b = {0};
    uint32_t rng;
    unsigned drain_every;
    size_t len, off = 0, reads = 0, taken = 0;
    char *stream;

    if (size < 2)
        return 0;
    rng = 0x9e3779b9u ^ data[0];
    /* Mostly after every read; a quarter of the inputs model a connection that is busy with a job
     * for a while (or until the end), so that later messages pile up behind a complete one. */
    drain_every = data[1] % 4 == 3 ? busy_reads[data[1] >> 2 & 7] : 1;
    stream = expand(data + 2, size - 2, &len);

    while (off < len) {
        uint32_t x = rng_next(&rng);
        /* Mostly small reads, sometimes one up to the daemon's 64 KiB; in long streams mostly
         * large ones, or the run time goes into rescanning megabytes a few bytes at a time. */
        bool large = len > 256 * 1024 ? x % 4 != 0 : x % 4 == 0;
        size_t n = large ? 1 + (x >> 8) % READ_MAX : 1 + (x >> 8) % 64;
        size_t before = b.len;
        int r;

        if (n > len - off)
            n = len - off;
        r = varlink_buffer_append(&b, stream + off, n);
        FUZZ_CHECK(r == 0 || r == -EMSGSIZE, "varlink_buffer_append returned %d", r);
        FUZZ_CHECK(b.len <= 2 * (size_t)VARLINK_MESSAGE_MAX &&
                       (b.base ? (size_t)(b.data - b.base) : 0) + b.len <= b.cap,
                   "%zu bytes buffered (bound %d)", b.len, 2 * VARLINK_MESSAGE_MAX);
        /* tail: the bytes after the last NUL, the message still being received. */
        FUZZ_CHECK(b.tail <= b.len && b.tail <= VARLINK_MESSAGE_MAX &&
                       (b.tail == b.len || b.data[b.len - b.tail - 1] == '\0'),
                   "tail %zu of %zu buffered bytes", b.tail, b.len);
        if (r < 0) {
            /* The daemon disconnects; nothing of the refused read was kept. */
            FUZZ_CHECK(b.len == before, "buffer length %zu after -EMSGSIZE, %zu before", b.len,
                       before);
            break;
        }
        off += n;
        if (++reads % drain_every == 0 && !drain(&b, &taken))
            break;
    }
    if (off == len)
        drain(&b, &taken);
    varlink_buffer_done(&b);
    free(stream);
    return 0;
}
