/* Writes a journal segment with the real writer (journal_store_append), for the seed corpus of
 * fuzz_journal: records that use every feature of the line grammar (escapes, UTF-8, flags, the
 * three streams, "-" fields). Usage: make_journal_seed DIR; the segment is then
 * DIR/fz.service/current.journal. scripts/fuzz does not need it: the output is committed as
 * tests/fuzz/corpus/journal/writer.journal; this is how it was made. */
#include <stdio.h>
#include <string.h>

#include "journal_file.h"

int main(int argc, char **argv)
{
    static const char inv[] = "0123456789abcdef0123456789abcdef";
    struct journal_record recs[] = {
        {.unit = "fz.service",
         .invocation = inv,
         .identifier = "fz",
         .pid = 1234,
         .stream = JOURNAL_STREAM_STDOUT,
         .priority = 6,
         .message = "hello world"},
        {.unit = "fz.service",
         .invocation = inv,
         .identifier = "fz",
         .pid = 1234,
         .stream = JOURNAL_STREAM_STDERR,
         .priority = 3,
         .message = "bad byte \xff, tab\tand \x1b[1mbold\x1b[0m, caf\xc3\xa9 \\ back"},
        {.unit = "fz.service",
         .invocation = inv,
         .identifier = "fz",
         .pid = 1234,
         .stream = JOURNAL_STREAM_STDOUT,
         .priority = 6,
         .flags = JOURNAL_FLAG_CONTINUED,
         .message = "a long line, first piece"},
        {.unit = "fz.service",
         .invocation = inv,
         .identifier = "fz",
         .pid = 1234,
         .stream = JOURNAL_STREAM_STDOUT,
         .priority = 6,
         .flags = JOURNAL_FLAG_NO_NEWLINE,
         .message = "last words"},
        {.unit = "fz.service",
         .invocation = "",
         .identifier = "-",
         .pid = 1,
         .stream = JOURNAL_STREAM_MANAGER,
         .priority = 5,
         .message = "Stopped fz.service."},
        {.unit = "fz.service",
         .invocation = "",
         .identifier = "",
         .pid = 0,
         .stream = JOURNAL_STREAM_STDERR,
         .priority = 0,
         .message = ""},
        {.unit = "fz.service",
         .invocation = inv,
         .identifier = "my id\x01",
         .pid = 2147483647,
         .stream = JOURNAL_STREAM_STDOUT,
         .priority = 7,
         .message = "nul\0byte"},
    };
    struct journal_store *s = NULL;
    size_t n = sizeof(recs) / sizeof(recs[0]);
    int r;

    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < n; i++) {
        recs[i].realtime_usec = 1718000000000000 + 1000 * i;
        recs[i].monotonic_usec = 5234567890 + 1000 * i;
        recs[i].message_len = strlen(recs[i].message) + (i == n - 1 ? 5 : 0);
    }
    r = journal_store_open(argv[1], NULL, &s);
    if (r == 0)
        r = journal_store_append(s, recs, n);
    journal_store_free(s);
    if (r < 0) {
        fprintf(stderr, "make_journal_seed: %s\n", strerror(-r));
        return 1;
    }
    return 0;
}
