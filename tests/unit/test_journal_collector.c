/* The collector end to end on a real libuv loop and real pipes, without processes: bytes go in
 * one end, records come out of the store. Line assembly, LineMax splitting (LOG-5), the last
 * line without a newline (LOG-2), <N> priority prefixes and per-stream attribution (LOG-8). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <uv.h>

#include "journal.h"

static char dir[] = "/tmp/minisup-collector-XXXXXX";
static uv_loop_t loop;
static struct journal *j;
static unsigned eofs;

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(uv_loop_init(&loop), 0);
    cr_assert_eq(journal_new(&loop, dir, NULL, &j), 0);
    eofs = 0;
}

static void teardown(void)
{
    char cmd[256];

    journal_close(j);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0, "handles left open");
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    (void)!system(cmd);
}

static void on_eof(void *userdata)
{
    eofs++;
}

/* Attaches a pipe as `stream` of unit t.service with the given invocation; returns the write
 * end. */
static int attach_limited(const char *invocation, enum journal_stream stream,
                          uint64_t rate_interval, unsigned rate_burst)
{
    int p[2];

    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    /* Room for the biggest test write, so the test can write before running the loop. */
    (void)fcntl(p[1], F_SETPIPE_SZ, 1024 * 1024);
    struct journal_source src = {
        .unit = "t.service",
        .invocation = invocation,
        .identifier = "t",
        .pid = 42,
        .stream = stream,
        .default_priority = LOG_INFO,
        .level_prefix = true,
        .rate_interval_usec = rate_interval,
        .rate_burst = rate_burst,
    };
    cr_assert_eq(journal_attach(j, p[0], &src, on_eof, NULL), 0);
    return p[1];
}

/* The journal's default rate limit (journald's 10000 lines per 30 s). */
static int attach(const char *invocation, enum journal_stream stream)
{
    return attach_limited(invocation, stream, UINT64_MAX - 1, UINT_MAX);
}

static void write_all(int fd, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, data, n);
        cr_assert_gt(w, 0);
        data += w;
        n -= (size_t)w;
    }
}

/* Runs the loop until `want` streams reached EOF; the loop itself is the deadline keeper:
 * each iteration blocks only on our pipes, which are closed by now. */
static void run_until_eofs(unsigned want)
{
    for (int i = 0; i < 100000 && eofs < want; i++)
        uv_run(&loop, UV_RUN_ONCE);
    cr_assert_eq(eofs, want);
}

struct collected {
    char *text; /* messages joined, pieces of a split line joined without separator */
    size_t len, n;
    unsigned flags_or;
    int priorities[16];
    char invocations[16][40];
};

static int collect(const struct journal_record *r, void *userdata)
{
    struct collected *c = userdata;

    c->text = realloc(c->text, c->len + r->message_len + 1);
    memcpy(c->text + c->len, r->message, r->message_len);
    c->len += r->message_len;
    if (!(r->flags & JOURNAL_FLAG_CONTINUED))
        c->text[c->len++] = '\n';
    c->flags_or |= r->flags;
    if (c->n < 16) {
        c->priorities[c->n] = r->priority;
        snprintf(c->invocations[c->n], sizeof(c->invocations[0]), "%s", r->invocation);
    }
    c->n++;
    return 0;
}

static void read_back(struct collected *c)
{
    memset(c, 0, sizeof(*c));
    struct journal_query q = {.max_priority = -1};
    /* Records in flight to the writer thread are stored first. */
    journal_flush(j);
    cr_assert_eq(journal_read(journal_directory(j), &q, collect, c, NULL), 0);
}

Test(journal_collector, lines_in_order_and_last_without_newline_LOG_2, .init = setup,
     .fini = teardown)
{
    int fd = attach("0123456789abcdef0123456789abcdef", JOURNAL_STREAM_STDOUT);
    struct collected c;

    write_all(fd, "one\ntwo\nthr", 11);
    write_all(fd, "ee\nlast words", 13);
    close(fd);
    run_until_eofs(1);
    read_back(&c);
    cr_assert_eq(c.n, 4);
    cr_assert_eq(c.len, strlen("one\ntwo\nthree\nlast words\n"));
    cr_assert_arr_eq(c.text, "one\ntwo\nthree\nlast words\n", c.len);
    cr_assert(c.flags_or & JOURNAL_FLAG_NO_NEWLINE);
    free(c.text);
}

/* The end of a stream whose lines are all stored is told in the loop turn that read it, with no
 * round trip through the writer thread (a restart waits on it); one whose last lines are still
 * with the writer is told only once they are stored (LOG-2). */
Test(journal_collector, end_of_a_stored_stream_told_at_once, .init = setup, .fini = teardown)
{
    int fd = attach("0123456789abcdef0123456789abcdef", JOURNAL_STREAM_STDOUT);
    struct collected c;

    write_all(fd, "first\n", 6);
    for (int i = 0; i < 1000; i++) /* until the line was read and handed to the writer */
        uv_run(&loop, UV_RUN_NOWAIT);
    journal_flush(j); /* and stored: the writer has nothing of the stream now */
    uv_run(&loop, UV_RUN_NOWAIT);
    close(fd);
    uv_run(&loop, UV_RUN_NOWAIT); /* one turn: reads the EOF */
    cr_assert_eq(eofs, 1, "the end waited for the writer thread");

    /* The unfinished last line must be stored first: the end comes after it. */
    fd = attach("0123456789abcdef0123456789abcdef", JOURNAL_STREAM_STDERR);
    write_all(fd, "unfinished", 10);
    close(fd);
    run_until_eofs(2);
    read_back(&c);
    cr_assert_eq(c.n, 2);
    cr_assert_arr_eq(c.text, "first\nunfinished\n", c.len);
    free(c.text);
}

Test(journal_collector, long_line_split_at_line_max_and_rebuilt_LOG_5, .init = setup,
     .fini = teardown)
{
    size_t n = JOURNAL_LINE_MAX_DEFAULT * 3 + 123;
    char *line = malloc(n + 1);
    struct collected c;

    for (size_t i = 0; i < n; i++)
        line[i] = (char)('a' + i % 26);
    line[n] = '\n';
    int fd = attach("0123456789abcdef0123456789abcdef", JOURNAL_STREAM_STDOUT);
    write_all(fd, line, n + 1);
    write_all(fd, "after\n", 6);
    close(fd);
    run_until_eofs(1);
    read_back(&c);
    cr_assert_eq(c.n, 5, "three full pieces, the rest, and the next line: got %zu", c.n);
    cr_assert_eq(c.len, n + 1 + 6);
    cr_assert_arr_eq(c.text, line, n + 1, "the pieces must rebuild the original bytes");
    cr_assert_arr_eq(c.text + n + 1, "after\n", 6);
    cr_assert(c.flags_or & JOURNAL_FLAG_CONTINUED);
    free(line);
    free(c.text);
}

Test(journal_collector, priority_prefix_parsed, .init = setup, .fini = teardown)
{
    int fd = attach("0123456789abcdef0123456789abcdef", JOURNAL_STREAM_STDERR);
    struct collected c;

    write_all(fd, "<3>broken\nplain\n<9>not a level\n", 31);
    close(fd);
    run_until_eofs(1);
    read_back(&c);
    cr_assert_eq(c.n, 3, "got %zu records: %.*s", c.n, (int)c.len, c.text);
    cr_assert_eq(c.priorities[0], LOG_ERR);
    cr_assert_eq(c.priorities[1], LOG_INFO);
    cr_assert_eq(c.priorities[2], LOG_INFO);
    cr_assert_arr_eq(c.text, "broken\nplain\n<9>not a level\n", c.len);
    free(c.text);
}

/* LOG-8: two runs of one unit write at the same time (the old pipe still drains while the new
 * run starts); every line keeps the invocation of the stream it came from. */
Test(journal_collector, streams_keep_their_invocation_LOG_8, .init = setup, .fini = teardown)
{
    int old_run = attach("11111111111111111111111111111111", JOURNAL_STREAM_STDOUT);
    int new_run = attach("22222222222222222222222222222222", JOURNAL_STREAM_STDOUT);
    struct collected c;

    write_all(new_run, "new 1\n", 6);
    write_all(old_run, "old 1\n", 6);
    close(old_run);
    close(new_run);
    run_until_eofs(2);
    read_back(&c);
    cr_assert_eq(c.n, 2);
    /* Records come back in time order; check the pairing message -> invocation. */
    for (size_t i = 0; i < c.n; i++) {
        const char *msg = c.text + i * 6;
        cr_assert_str_eq(c.invocations[i], strncmp(msg, "old", 3) == 0
                                               ? "11111111111111111111111111111111"
                                               : "22222222222222222222222222222222");
    }
    free(c.text);
}

Test(journal_collector, many_lines_none_lost, .init = setup, .fini = teardown)
{
    /* LogRateLimitIntervalSec=0: no limit, so every line must arrive. */
    int fd = attach_limited("0123456789abcdef0123456789abcdef", JOURNAL_STREAM_STDOUT, 0, 0);
    struct collected c;
    char buf[32];

    /* More than a pipe holds: the loop must read while we write, so write from a child. */
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 20000; i++) {
            int n = snprintf(buf, sizeof(buf), "line %d\n", i);
            if (write(fd, buf, (size_t)n) != n)
                _exit(1);
        }
        _exit(0);
    }
    close(fd);
    run_until_eofs(1);
    int status;
    waitpid(pid, &status, 0);
    cr_assert_eq(status, 0);
    read_back(&c);
    cr_assert_eq(c.n, 20000);
    char *p = c.text;
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(buf, sizeof(buf), "line %d\n", i);
        cr_assert_arr_eq(p, buf, (size_t)n, "line %d out of order or damaged", i);
        p += n;
    }
    free(c.text);
}

struct rate_seen {
    size_t lines, suppressed_notices;
    unsigned long long suppressed;
};

static int count_rate(const struct journal_record *r, void *userdata)
{
    struct rate_seen *rs = userdata;
    unsigned long long n;

    if (r->stream == JOURNAL_STREAM_MANAGER &&
        sscanf(r->message, "Suppressed %llu messages", &n) == 1) {
        rs->suppressed_notices++;
        rs->suppressed += n;
    } else if (r->stream == JOURNAL_STREAM_STDOUT) {
        rs->lines++;
    }
    return 0;
}

/* journald's rule: at most Burst lines per interval, the rest counted and reported exactly in
 * "Suppressed N messages from x.service" once the interval is over (R1: nothing vanishes
 * without a record). */
Test(journal_collector, rate_limit_reports_what_it_drops, .init = setup, .fini = teardown)
{
    int fd = attach_limited("0123456789abcdef0123456789abcdef", JOURNAL_STREAM_STDOUT, 1, 5);
    struct rate_seen rs = {0};
    struct journal_query q = {.max_priority = -1};

    /* An interval of 1 µs ends between any two reads, so write two bursts with a loop turn
     * (and so a read) between them. */
    write_all(fd, "1\n2\n3\n4\n5\n6\n7\n8\n", 16);
    for (int i = 0; i < 100; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    write_all(fd, "9\n", 2);
    close(fd);
    run_until_eofs(1);
    journal_flush(j);
    cr_assert_eq(journal_read(journal_directory(j), &q, count_rate, &rs, NULL), 0);
    cr_assert_eq(rs.lines, 6, "5 of the first burst and the line after the interval");
    cr_assert_eq(rs.suppressed_notices, 1);
    cr_assert_eq(rs.suppressed, 3);
    struct journal_unit_stats stats;
    journal_unit_stats(j, "t.service", &stats);
    cr_assert_eq(stats.suppressed, 3);
    cr_assert_eq(stats.lost, 0);
    cr_assert_eq(stats.error, 0);
}

/* minisupd's own messages of one loop turn are gathered and handed to the writer together: they
 * keep their place among a unit's lines, and a query sees them before the loop turns again. */
Test(journal_collector, own_messages_gathered_keep_their_order, .init = setup, .fini = teardown)
{
    const char *inv = "0123456789abcdef0123456789abcdef";
    int fd = attach(inv, JOURNAL_STREAM_STDOUT);
    struct journal_query q = {.max_priority = -1};
    struct collected c = {0};

    journal_log_unit(j, "t.service", inv, LOG_INFO, "m1");
    journal_log_unit(j, "t.service", inv, LOG_INFO, "m2");
    /* No loop turn yet: a query hands over what is gathered and waits for it. */
    cr_assert_gt(journal_last_seq(j), 0);
    cr_assert_eq(journal_read(journal_directory(j), &q, collect, &c, NULL), 0);
    cr_assert_eq(c.n, 2);
    cr_assert_arr_eq(c.text, "m1\nm2\n", c.len);
    free(c.text);

    /* Gathered before a read of the same turn: the message goes first, the lines after it. */
    journal_log_unit(j, "t.service", inv, LOG_INFO, "m3");
    write_all(fd, "line 1\nline 2\n", 14);
    for (int i = 0; i < 100; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    journal_log_unit(j, "t.service", inv, LOG_INFO, "m4");
    close(fd);
    run_until_eofs(1);
    journal_log_unit(j, "t.service", inv, LOG_INFO, "m5");
    read_back(&c);
    cr_assert_eq(c.n, 7);
    cr_assert_arr_eq(c.text, "m1\nm2\nm3\nline 1\nline 2\nm4\nm5\n", c.len);
    free(c.text);
}
