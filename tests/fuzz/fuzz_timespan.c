/* F3: time spans. parse_timespan() on arbitrary strings, and format_timespan() on what it
 * accepted. Properties:
 *   - parse returns 0, -EINVAL or -ERANGE, never anything else;
 *   - round trip: format(parse(x)) parses back to the same value, with every default unit (the
 *     formatted text always names its units, so the default must not matter);
 *   - format_timespan() into a buffer of any size writes a NUL-terminated prefix of the full text
 *     and never past the buffer (each size gets its own heap block, so ASan sees an overflow). */
#include <errno.h>
#include <inttypes.h>

#include "fuzz.h"
#include "values.h"

#define SPAN_BUF 256

static void check_format_sizes(uint64_t v, const char *full)
{
    size_t n = strlen(full);

    for (size_t k = 1; k <= n + 1; k++) {
        char *b = fuzz_xmalloc(k);

        memset(b, 'Z', k);
        format_timespan(b, k, v);
        FUZZ_CHECK(memchr(b, '\0', k) != NULL, "format_timespan(size %zu) left no NUL", k);
        FUZZ_CHECK(strncmp(b, full, strlen(b)) == 0 && strlen(b) == (k - 1 < n ? k - 1 : n),
                   "format_timespan(size %zu) gave \"%s\", full text \"%s\"", k, b, full);
        free(b);
    }
}

static void check_one(const char *s, uint64_t default_unit)
{
    static const uint64_t units[] = {1, USEC_PER_MSEC, USEC_PER_SEC};
    char buf[SPAN_BUF];
    uint64_t v = 0;
    int r;

    r = parse_timespan(s, default_unit, &v);
    FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE, "parse_timespan returned %d", r);
    if (r < 0)
        return;

    format_timespan(buf, sizeof(buf), v);
    FUZZ_CHECK(strlen(buf) < sizeof(buf) - 1, "format_timespan(%" PRIu64 ") filled the buffer", v);
    check_format_sizes(v, buf);
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        uint64_t w = 0;
        int k = parse_timespan(buf, units[i], &w);

        if (k != 0 || w != v)
            fuzz_dump("input", s, strlen(s));
        FUZZ_CHECK(k == 0, "format(parse(x)) = \"%s\" (value %" PRIu64 ") does not parse: %d", buf,
                   v, k);
        FUZZ_CHECK(w == v,
                   "format(parse(x)) = \"%s\" parses to %" PRIu64 ", not %" PRIu64
                   " (default unit %" PRIu64 ")",
                   buf, w, v, units[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;

    if (size > 4096) /* spans are short; long inputs only slow the search down */
        return 0;
    s = fuzz_cstring(data, size);
    check_one(s, USEC_PER_SEC);
    check_one(s, USEC_PER_MSEC);
    check_one(s, 1);
    free(s);
    return 0;
}
