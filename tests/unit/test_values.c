/* Tests for values.c: time spans, booleans, signals, exit statuses, command lines (prefixes,
 * quoting, escapes, separators), $VAR expansion, environment assignments and strv helpers. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "values.h"

static uint64_t ts(const char *s)
{
    uint64_t t = 0;

    cr_assert_eq(parse_timespan(s, USEC_PER_SEC, &t), 0, "'%s'", s);
    return t;
}

Test(values, timespan_units)
{
    cr_assert_eq(ts("5"), 5 * USEC_PER_SEC);
    cr_assert_eq(ts("5s"), 5 * USEC_PER_SEC);
    cr_assert_eq(ts("5 sec"), 5 * USEC_PER_SEC);
    cr_assert_eq(ts("1min 30s"), 90 * USEC_PER_SEC);
    cr_assert_eq(ts("2min30s"), 150 * USEC_PER_SEC);
    cr_assert_eq(ts("500ms"), 500 * USEC_PER_MSEC);
    cr_assert_eq(ts("2h"), 7200 * USEC_PER_SEC);
    cr_assert_eq(ts("1hr"), 3600 * USEC_PER_SEC);
    cr_assert_eq(ts("1m"), 60 * USEC_PER_SEC);
    cr_assert_eq(ts("1d"), 86400 * USEC_PER_SEC);
    cr_assert_eq(ts("1w"), 7 * 86400 * USEC_PER_SEC);
    cr_assert_eq(ts("1M"), 2629800 * USEC_PER_SEC);
    cr_assert_eq(ts("1y"), 31557600 * USEC_PER_SEC);
    cr_assert_eq(ts("10us"), 10);
    cr_assert_eq(ts("10\xc2\xb5s"), 10); /* micro sign */
    cr_assert_eq(ts("10\xce\xbcs"), 10); /* Greek mu */
    cr_assert_eq(ts("1.5s"), 1500 * USEC_PER_MSEC);
    cr_assert_eq(ts("0.5"), 500 * USEC_PER_MSEC);
    cr_assert_eq(ts("0"), 0);
    cr_assert_eq(ts("infinity"), USEC_INFINITY);
    cr_assert_eq(ts("  infinity  "), USEC_INFINITY);
}

Test(values, timespan_default_unit)
{
    uint64_t t;

    cr_assert_eq(parse_timespan("500", USEC_PER_MSEC, &t), 0);
    cr_assert_eq(t, 500 * USEC_PER_MSEC);
    cr_assert_eq(parse_timespan("2s", USEC_PER_MSEC, &t), 0);
    cr_assert_eq(t, 2 * USEC_PER_SEC);
}

Test(values, timespan_errors)
{
    uint64_t t = 42;

    cr_assert_eq(parse_timespan("99999999999999999999h", USEC_PER_SEC, &t), -ERANGE);
    cr_assert_eq(parse_timespan("999999999999y", USEC_PER_SEC, &t), -ERANGE);
    cr_assert_eq(parse_timespan("-1", USEC_PER_SEC, &t), -ERANGE);
    cr_assert_eq(parse_timespan("abc", USEC_PER_SEC, &t), -EINVAL);
    cr_assert_eq(parse_timespan("", USEC_PER_SEC, &t), -EINVAL);
    cr_assert_eq(parse_timespan("5x", USEC_PER_SEC, &t), -EINVAL);
    cr_assert_eq(parse_timespan("3.", USEC_PER_SEC, &t), -EINVAL);
    cr_assert_eq(parse_timespan("1.2.3", USEC_PER_SEC, &t), -EINVAL);
    cr_assert_eq(parse_timespan("infinityx", USEC_PER_SEC, &t), -EINVAL);
    cr_assert_eq(t, 42, "failures leave the output alone");
}

static uint64_t size1024(const char *s)
{
    uint64_t v = 0;

    cr_assert_eq(parse_size(s, 1024, &v), 0, "'%s'", s);
    return v;
}

/* systemd's parse_size(): suffixes to a base, fractions, sums largest suffix first. */
Test(values, sizes)
{
    uint64_t v = 42;

    cr_assert_eq(size1024("0"), 0);
    cr_assert_eq(size1024("4096"), 4096);
    cr_assert_eq(size1024("12B"), 12);
    cr_assert_eq(size1024("64K"), 65536);
    cr_assert_eq(size1024("1.5G"), UINT64_C(1610612736));
    cr_assert_eq(size1024("0.5K"), 512);
    cr_assert_eq(size1024("10.M"), 10 * 1024 * 1024, "a dot without digits, as systemd");
    cr_assert_eq(size1024("1G 512M"), UINT64_C(1610612736));
    cr_assert_eq(size1024(" 2 K "), 2048);
    cr_assert_eq(size1024("1K5"), 1029, "the rest is bytes");
    cr_assert_eq(size1024("1.33333K"), 1365, "truncated");
    cr_assert_eq(size1024("15E"), UINT64_C(15) << 60);
    cr_assert_eq(parse_size("1.5K", 1000, &v), 0);
    cr_assert_eq(v, 1500);

    v = 42;
    cr_assert_eq(parse_size("-1", 1024, &v), -ERANGE);
    cr_assert_eq(parse_size("16E", 1024, &v), -ERANGE);
    cr_assert_eq(parse_size("99999999999999999999", 1024, &v), -ERANGE);
    cr_assert_eq(parse_size("", 1024, &v), -EINVAL);
    cr_assert_eq(parse_size("G", 1024, &v), -EINVAL);
    cr_assert_eq(parse_size("1X", 1024, &v), -EINVAL);
    cr_assert_eq(parse_size("1KiB", 1024, &v), -EINVAL);
    cr_assert_eq(parse_size("1M 1G", 1024, &v), -EINVAL, "largest first");
    cr_assert_eq(parse_size("1K 1K", 1024, &v), -EINVAL, "each suffix once");
    cr_assert_eq(parse_size("1 2", 1024, &v), -EINVAL);
    cr_assert_eq(v, 42, "failures leave the output alone");
}

Test(values, format_timespan)
{
    char buf[64];

    cr_assert_str_eq(format_timespan(buf, sizeof(buf), 90 * USEC_PER_SEC), "1min 30s");
    cr_assert_str_eq(format_timespan(buf, sizeof(buf), 100 * USEC_PER_MSEC), "100ms");
    cr_assert_str_eq(format_timespan(buf, sizeof(buf), USEC_INFINITY), "infinity");
    cr_assert_str_eq(format_timespan(buf, sizeof(buf), 0), "0");
    cr_assert_str_eq(format_timespan(buf, sizeof(buf), 90 * USEC_PER_SEC), "1min 30s");
    cr_assert_str_eq(format_timespan(buf, sizeof(buf), 3600 * USEC_PER_SEC), "1h");
    cr_assert_str_eq(format_timespan(buf, sizeof(buf), 1500 * USEC_PER_MSEC), "1.500000s");
    cr_assert_str_eq(
        format_timespan(buf, sizeof(buf), 2 * 86400 * USEC_PER_SEC + 3600 * USEC_PER_SEC), "2d 1h");
    /* Round trip. */
    cr_assert_eq(ts(format_timespan(buf, sizeof(buf), 93784 * USEC_PER_SEC)), 93784 * USEC_PER_SEC);
    /* A small buffer truncates but stays terminated. */
    cr_assert_str_eq(format_timespan(buf, 4, 90 * USEC_PER_SEC), "1mi");
}

/* T1 (docs/fuzzing.md): from 584542 years on, format_timespan() wrote a year count that
 * parse_timespan() refused with -ERANGE although the product fits. Every value below
 * USEC_INFINITY must parse back from its text, with any default unit. */
Test(values, timespan_round_trip_near_infinity)
{
    const uint64_t year = 31557600 * USEC_PER_SEC;
    const uint64_t top = USEC_INFINITY / year * year; /* 584542y */
    const uint64_t vals[] = {top - 1,          top, top + 1, top + USEC_PER_SEC, USEC_INFINITY - 2,
                             USEC_INFINITY - 1};
    const uint64_t units[] = {1, USEC_PER_MSEC, USEC_PER_SEC};
    char buf[128];
    uint64_t t;

    cr_assert_eq(ts("584542y"), top);
    cr_assert_eq(ts("584541y 1y"), top);
    cr_assert_eq(parse_timespan("584543y", USEC_PER_SEC, &t), -ERANGE);
    cr_assert_eq(parse_timespan("18446744073709551615us", USEC_PER_SEC, &t), -ERANGE);
    cr_assert_eq(parse_timespan("584542y 1y", USEC_PER_SEC, &t), -ERANGE);
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        format_timespan(buf, sizeof(buf), vals[i]);
        for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
            t = 0;
            cr_assert_eq(parse_timespan(buf, units[u], &t), 0, "'%s'", buf);
            cr_assert_eq(t, vals[i], "'%s'", buf);
        }
    }
    /* A sum that reaches USEC_INFINITY is refused: only "infinity" means that. */
    format_timespan(buf, sizeof(buf), USEC_INFINITY - 1);
    strcat(buf, " 1us");
    cr_assert_eq(parse_timespan(buf, USEC_PER_SEC, &t), -ERANGE, "'%s'", buf);
}

Test(values, booleans)
{
    const char *yes[] = {"1", "yes", "y", "true", "t", "on", "YES", "True", "On"};
    const char *no[] = {"0", "no", "n", "false", "f", "off", "NO", "False", "OFF"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        cr_assert_eq(parse_boolean(yes[i]), 1, "%s", yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        cr_assert_eq(parse_boolean(no[i]), 0, "%s", no[i]);
    cr_assert_eq(parse_boolean("2"), -EINVAL);
    cr_assert_eq(parse_boolean(""), -EINVAL);
    cr_assert_eq(parse_boolean("yess"), -EINVAL);
}

Test(values, signals)
{
    cr_assert_eq(parse_signal("SIGTERM"), SIGTERM);
    cr_assert_eq(parse_signal("TERM"), SIGTERM);
    cr_assert_eq(parse_signal("15"), 15);
    cr_assert_eq(parse_signal("KILL"), SIGKILL);
    cr_assert_eq(parse_signal("SIGHUP"), SIGHUP);
    cr_assert_eq(parse_signal("SIGRTMIN"), SIGRTMIN);
    cr_assert_eq(parse_signal("RTMIN+2"), SIGRTMIN + 2);
    cr_assert_eq(parse_signal("SIGRTMAX-1"), SIGRTMAX - 1);
    cr_assert_eq(parse_signal("0"), -EINVAL);
    cr_assert_eq(parse_signal("65"), -EINVAL);
    cr_assert_eq(parse_signal("SIGFOO"), -EINVAL);
    cr_assert_eq(parse_signal("term"), -EINVAL, "names are case-sensitive, as in systemd");
    cr_assert_eq(parse_signal(""), -EINVAL);
    cr_assert_str_eq(signal_to_string(SIGTERM), "TERM");
    cr_assert_str_eq(signal_to_string(SIGKILL), "KILL");
    cr_assert_null(signal_to_string(0));
    cr_assert_null(signal_to_string(999));
}

Test(values, exit_status_sets)
{
    struct exit_status_set set = {0};

    cr_assert_eq(parse_exit_status_set("0 1 75 SIGTERM KILL 255", &set), 0);
    cr_assert(exit_status_set_has_status(&set, 0));
    cr_assert(exit_status_set_has_status(&set, 1));
    cr_assert(exit_status_set_has_status(&set, 75));
    cr_assert(exit_status_set_has_status(&set, 255));
    cr_assert_not(exit_status_set_has_status(&set, 2));
    cr_assert(exit_status_set_has_signal(&set, SIGTERM));
    cr_assert(exit_status_set_has_signal(&set, SIGKILL));
    cr_assert_not(exit_status_set_has_signal(&set, SIGHUP));
    cr_assert_not(exit_status_set_has_signal(&set, 15 + 64));

    /* "15" is an exit status, never SIGTERM. */
    memset(&set, 0, sizeof(set));
    cr_assert_eq(parse_exit_status_set("15", &set), 0);
    cr_assert(exit_status_set_has_status(&set, 15));
    cr_assert_not(exit_status_set_has_signal(&set, SIGTERM));

    /* Bad words fail, good ones are still added. */
    cr_assert_eq(parse_exit_status_set("256 3 FOO", &set), -EINVAL);
    cr_assert(exit_status_set_has_status(&set, 3));
    cr_assert_not(exit_status_set_has_status(&set, 256));

    /* Symbolic names systemd accepts. */
    cr_assert_eq(parse_exit_status_set("TEMPFAIL EXEC", &set), 0);
    cr_assert(exit_status_set_has_status(&set, 75));
    cr_assert(exit_status_set_has_status(&set, 203));

    /* Empty resets. */
    cr_assert_eq(parse_exit_status_set("", &set), 0);
    cr_assert_not(exit_status_set_has_status(&set, 3));
    cr_assert_not(exit_status_set_has_signal(&set, SIGTERM));
}

/* Parses one line and returns the list; asserts the return value. */
static struct exec_list exec_parse(const char *s, int expect)
{
    struct exec_list l = {0};
    const char *msg = NULL;
    int r = parse_exec_line(s, 7, &l, &msg);

    cr_assert_eq(r, expect, "'%s': %d (%s)", s, r, msg ? msg : "");
    return l;
}

static void assert_argv(const struct exec_command *c, const char *const *want)
{
    size_t i;

    for (i = 0; want[i]; i++) {
        cr_assert_not_null(c->argv[i], "argv[%zu] missing, want '%s'", i, want[i]);
        cr_assert_str_eq(c->argv[i], want[i], "argv[%zu]", i);
    }
    cr_assert_null(c->argv[i], "extra argv[%zu] '%s'", i, c->argv[i]);
}

Test(values, exec_simple)
{
    struct exec_list l = exec_parse("/bin/echo hello   world", 0);

    cr_assert_eq(l.n, 1);
    cr_assert_str_eq(l.items[0].path, "/bin/echo");
    cr_assert_null(l.items[0].argv0);
    cr_assert_eq(l.items[0].flags, 0);
    cr_assert_eq(l.items[0].line, 7);
    assert_argv(&l.items[0], (const char *[]){"/bin/echo", "hello", "world", NULL});
    exec_list_done(&l);
    cr_assert_eq(l.n, 0);
    cr_assert_null(l.items);
}

Test(values, exec_quotes_and_escapes)
{
    struct exec_list l;

    l = exec_parse("/bin/sh -c 'echo a ; echo b'", 0);
    assert_argv(&l.items[0], (const char *[]){"/bin/sh", "-c", "echo a ; echo b", NULL});
    exec_list_done(&l);

    l = exec_parse("/bin/x \"double quoted\" 'single \"inner\"' a\"b c\"d \"\"", 0);
    assert_argv(&l.items[0],
                (const char *[]){"/bin/x", "double quoted", "single \"inner\"", "ab cd", "", NULL});
    exec_list_done(&l);

    l = exec_parse("/bin/x \\a\\b\\f\\n\\r\\t\\v \\\\ \\\" \\' a\\sb \\x41 \\101 \\u00e9 \"q\\tq\"",
                   0);
    assert_argv(&l.items[0], (const char *[]){"/bin/x", "\a\b\f\n\r\t\v", "\\", "\"", "'", "a b",
                                              "A", "A", "\xc3\xa9", "q\tq", NULL});
    exec_list_done(&l);

    /* Unknown escapes are kept verbatim (systemd warns and keeps them). */
    l = exec_parse("/bin/grep 'a\\.b' \\d", 0);
    assert_argv(&l.items[0], (const char *[]){"/bin/grep", "a\\.b", "\\d", NULL});
    exec_list_done(&l);
}

Test(values, exec_prefixes)
{
    struct exec_list l;

    l = exec_parse("-/bin/false", 0);
    cr_assert_eq(l.items[0].flags, EXEC_FLAG_IGNORE_FAILURE);
    cr_assert_str_eq(l.items[0].path, "/bin/false");
    exec_list_done(&l);

    l = exec_parse("@/bin/sh mysh -c true", 0);
    cr_assert_eq(l.items[0].flags, EXEC_FLAG_ARGV0);
    cr_assert_str_eq(l.items[0].path, "/bin/sh");
    cr_assert_str_eq(l.items[0].argv0, "mysh");
    assert_argv(&l.items[0], (const char *[]){"/bin/sh", "-c", "true", NULL});
    exec_list_done(&l);

    l = exec_parse("-:@+/bin/x x0 a", 0);
    cr_assert_eq(l.items[0].flags, EXEC_FLAG_IGNORE_FAILURE | EXEC_FLAG_NO_ENV_EXPAND |
                                       EXEC_FLAG_ARGV0 | EXEC_FLAG_FULL_PRIVILEGES);
    cr_assert_str_eq(l.items[0].argv0, "x0");
    exec_list_done(&l);

    l = exec_parse("!/bin/x", 0);
    cr_assert_eq(l.items[0].flags, EXEC_FLAG_NO_SETUID);
    exec_list_done(&l);

    l = exec_parse("!!/bin/x", 0);
    cr_assert_eq(l.items[0].flags, EXEC_FLAG_AMBIENT);
    exec_list_done(&l);

    /* "+" and "!" exclude each other: the second one is part of the path, which is then
     * not absolute. */
    l = exec_parse("+!/bin/x", -EINVAL);
    exec_list_done(&l);

    /* A bare name is looked up later; a relative path with a slash is refused. */
    l = exec_parse("fifo-echo --fifo x", 0);
    cr_assert_str_eq(l.items[0].path, "fifo-echo");
    exec_list_done(&l);
    l = exec_parse("bin/fifo-echo", -EINVAL);
    exec_list_done(&l);
    l = exec_parse("/usr/bin/", -EINVAL);
    exec_list_done(&l);
    l = exec_parse("@/bin/sh", -EINVAL); /* no argv[0] */
    exec_list_done(&l);
}

Test(values, exec_separators)
{
    struct exec_list l = exec_parse("/bin/a 1 ; /bin/b 2 \\; 3 ; -/bin/c", 0);

    cr_assert_eq(l.n, 3);
    assert_argv(&l.items[0], (const char *[]){"/bin/a", "1", NULL});
    assert_argv(&l.items[1], (const char *[]){"/bin/b", "2", ";", "3", NULL});
    assert_argv(&l.items[2], (const char *[]){"/bin/c", NULL});
    cr_assert_eq(l.items[2].flags, EXEC_FLAG_IGNORE_FAILURE);
    exec_list_done(&l);

    /* A ';' glued to a word is an ordinary character. */
    l = exec_parse("/bin/a b; c", 0);
    cr_assert_eq(l.n, 1);
    assert_argv(&l.items[0], (const char *[]){"/bin/a", "b;", "c", NULL});
    exec_list_done(&l);

    /* Appends to what the list already holds. */
    l = exec_parse("/bin/a", 0);
    cr_assert_eq(parse_exec_line("/bin/b", 8, &l, NULL), 0);
    cr_assert_eq(l.n, 2);
    cr_assert_eq(l.items[1].line, 8);
    exec_list_done(&l);
}

struct diag_capture {
    unsigned n_warn, n_err;
    char last[512];
};

static void capture(void *userdata, bool error, const char *message)
{
    struct diag_capture *d = userdata;

    if (error)
        d->n_err++;
    else
        d->n_warn++;
    snprintf(d->last, sizeof(d->last), "%s", message);
}

Test(values, exec_bad_quoting)
{
    struct diag_capture dc = {0};
    struct exec_parse_hooks h = {.diag = capture, .userdata = &dc};
    struct exec_list l = {0};
    const char *msg = NULL;

    /* Bad quoting in the first word: systemd ignores the line with a warning. */
    cr_assert_eq(parse_exec_line_full("'/bin/x", 1, &h, &l, &msg), 1);
    cr_assert_eq(l.n, 0);
    cr_assert_eq(dc.n_warn, 1);
    cr_assert(strstr(dc.last, "Unbalanced quoting, ignoring"), "%s", dc.last);

    /* In a later word systemd refuses the unit (-ENOEXEC there). */
    memset(&dc, 0, sizeof(dc));
    cr_assert_eq(parse_exec_line_full("/bin/x 'oops", 1, &h, &l, &msg), -EINVAL);
    cr_assert_eq(l.n, 0);
    cr_assert_eq(dc.n_err, 1);
    cr_assert_str_eq(msg, "Unbalanced quoting");

    /* ...unless "-" makes the command optional. */
    memset(&dc, 0, sizeof(dc));
    cr_assert_eq(parse_exec_line_full("-/bin/x \"oops", 1, &h, &l, &msg), 1);
    cr_assert_eq(dc.n_err, 0);
    cr_assert_eq(dc.n_warn, 1);

    /* Commands before the problem stay. */
    cr_assert_eq(parse_exec_line_full("/bin/a ; /bin/b 'x", 1, &h, &l, &msg), -EINVAL);
    cr_assert_eq(l.n, 1);
    exec_list_done(&l);

    /* The plain API reports any of it as -EINVAL. */
    cr_assert_eq(parse_exec_line("/bin/x \"a", 1, &l, &msg), -EINVAL);
    cr_assert_eq(parse_exec_line("\"/bin/x", 1, &l, &msg), -EINVAL);
    cr_assert_eq(parse_exec_line("/bin/x a\\", 1, &l, &msg), 0, "trailing backslash kept");
    cr_assert_str_eq(l.items[0].argv[1], "a\\");
    exec_list_done(&l);

    /* Unknown escape: a warning, the word kept. */
    memset(&dc, 0, sizeof(dc));
    cr_assert_eq(parse_exec_line_full("/bin/x \\q", 1, &h, &l, &msg), 0);
    cr_assert_eq(dc.n_warn, 1);
    cr_assert(strstr(dc.last, "Ignoring unknown escape sequences"));
    exec_list_done(&l);
}

static int upcase(void *userdata, const char *word, char **ret)
{
    (void)userdata;
    if (strstr(word, "%z"))
        return -EBADSLT;
    *ret = strdup(word);
    for (char *p = *ret; *p; p++)
        if (*p == '%')
            *p = '#';
    return 0;
}

Test(values, exec_resolve_hook)
{
    struct diag_capture dc = {0};
    struct exec_parse_hooks h = {.resolve = upcase, .diag = capture, .userdata = &dc};
    struct exec_list l = {0};

    /* Specifiers are resolved after unquoting, in every word. */
    cr_assert_eq(parse_exec_line_full("/bin/%n '%i x'", 1, &h, &l, NULL), 0);
    assert_argv(&l.items[0], (const char *[]){"/bin/#n", "#i x", NULL});
    cr_assert_eq(parse_exec_line_full("/bin/x %z", 1, &h, &l, NULL), -EINVAL);
    cr_assert_eq(dc.n_err, 1);
    cr_assert(strstr(dc.last, "Failed to resolve specifiers in '%z'"), "%s", dc.last);
    exec_list_done(&l);
}

static char **expand(const char *line, char **env)
{
    struct exec_list l = exec_parse(line, 0);
    char **argv = exec_command_expand(&l.items[0], env);

    exec_list_done(&l);
    cr_assert_not_null(argv);
    return argv;
}

Test(values, exec_expand)
{
    char *env[] = {"ARGS=-a  -b \"c d\"", "ONE=1", "EMPTY=", NULL};
    char **argv;

    argv =
        expand("/bin/x $ARGS ${ONE} pre${ONE}post $ONE$ONE $$ONE $UNSET ${UNSET}x $EMPTY end", env);
    cr_assert_str_eq(argv[0], "/bin/x");
    cr_assert_str_eq(argv[1], "-a");
    cr_assert_str_eq(argv[2], "-b");
    cr_assert_str_eq(argv[3], "c d");
    cr_assert_str_eq(argv[4], "1");
    cr_assert_str_eq(argv[5], "pre1post");
    /* "$ONE$ONE" is a whole-word $NAME lookup of "ONE$ONE", which is unset: no word. */
    cr_assert_str_eq(argv[6], "$ONE");
    cr_assert_str_eq(argv[7], "x");
    cr_assert_str_eq(argv[8], "end");
    cr_assert_null(argv[9]);
    strv_free(argv);

    /* ":" disables expansion. */
    argv = expand(":/bin/x $ONE ${ONE} $$", env);
    cr_assert_str_eq(argv[1], "$ONE");
    cr_assert_str_eq(argv[2], "${ONE}");
    cr_assert_str_eq(argv[3], "$$");
    strv_free(argv);

    /* An unterminated ${ stays as it is. */
    argv = expand("/bin/x a${ONE", env);
    cr_assert_str_eq(argv[1], "a${ONE");
    strv_free(argv);
}

Test(values, environment_lines)
{
    char **env = NULL;

    cr_assert_eq(parse_environment_line("A=1 \"B=2 3\" 'C=x y' D= E=\\x41", &env), 0);
    cr_assert_str_eq(strv_env_get(env, "A"), "1");
    cr_assert_str_eq(strv_env_get(env, "B"), "2 3");
    cr_assert_str_eq(strv_env_get(env, "C"), "x y");
    cr_assert_str_eq(strv_env_get(env, "D"), "");
    cr_assert_str_eq(strv_env_get(env, "E"), "A");
    cr_assert_null(strv_env_get(env, "F"));

    /* Later assignments replace earlier ones in place. */
    cr_assert_eq(parse_environment_line("A=2", &env), 0);
    cr_assert_str_eq(strv_env_get(env, "A"), "2");
    cr_assert_eq(strv_length(env), 5);

    /* Invalid assignments are skipped and reported. */
    cr_assert_eq(parse_environment_line("=x 1A=2 G=ok", &env), -EINVAL);
    cr_assert_str_eq(strv_env_get(env, "G"), "ok");
    cr_assert_eq(parse_environment_line("H=\"unterminated", &env), -EINVAL);
    cr_assert_null(strv_env_get(env, "H"));
    strv_free(env);
}

Test(values, environment_file)
{
    char path[] = "/tmp/minisup-envXXXXXX";
    int fd = mkstemp(path);
    const char text[] = "# comment\n"
                        "; another\n"
                        "A=1\n"
                        "  B = spaced value   \n"
                        "C='single $x \\n'\n"
                        "D=\"double \\\"q\\\" \\$HOME \\n\"\n"
                        "E=con\\\n"
                        "tinued\n"
                        "F=a # not a comment\n"
                        "1BAD=x\n"
                        "export X=y\n"
                        "G=\n"
                        "H=last";
    char **env = NULL;
    struct env_file_ignored ignored = {0};

    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
    close(fd);
    cr_assert_eq(load_environment_file(path, &env, &ignored), 0);
    unlink(path);
    cr_assert_str_eq(strv_env_get(env, "A"), "1");
    cr_assert_str_eq(strv_env_get(env, "B"), "spaced value");
    cr_assert_str_eq(strv_env_get(env, "C"), "single $x \\n");
    cr_assert_str_eq(strv_env_get(env, "D"), "double \"q\" $HOME \\n");
    cr_assert_str_eq(strv_env_get(env, "E"), "continued");
    cr_assert_str_eq(strv_env_get(env, "F"), "a # not a comment");
    cr_assert_null(strv_env_get(env, "1BAD"));
    /* A shell's "export" makes the name invalid: skipped, as systemd skips it, and told. */
    cr_assert_null(strv_env_get(env, "X"));
    cr_assert_eq(ignored.count, 2);
    cr_assert_eq(ignored.line, 10);
    cr_assert_str_eq(ignored.name, "1BAD");
    cr_assert_str_eq(strv_env_get(env, "G"), "");
    cr_assert_str_eq(strv_env_get(env, "H"), "last");
    strv_free(env);

    cr_assert_eq(load_environment_file("/nonexistent/env", &env, NULL), -ENOENT);
    cr_assert_eq(load_environment_file("/tmp", &env, NULL), -EISDIR);
}

Test(values, strv_helpers)
{
    char **l = NULL;

    cr_assert_eq(strv_length(l), 0);
    cr_assert_eq(strv_extend(&l, "a"), 0);
    cr_assert_eq(strv_push(&l, strdup("b")), 0);
    cr_assert_eq(strv_split_append(&l, "  c\td  e "), 0);
    cr_assert_eq(strv_length(l), 5);
    cr_assert_str_eq(l[0], "a");
    cr_assert_str_eq(l[4], "e");
    cr_assert_null(l[5]);
    cr_assert_eq(strv_env_set(&l, "K=1"), 0);
    cr_assert_eq(strv_env_set(&l, "K=2"), 0);
    cr_assert_eq(strv_length(l), 6);
    cr_assert_str_eq(strv_env_get(l, "K"), "2");
    cr_assert_eq(strv_env_set(&l, "noequals"), -EINVAL);
    cr_assert_null(strv_free(l));
    cr_assert_null(strv_free(NULL));
}

Test(values, extract_word)
{
    const char *p = "  one \"two three\" 'fo\"ur' ";
    char *w;

    cr_assert_eq(extract_word(&p, &w, EXTRACT_UNQUOTE), 1);
    cr_assert_str_eq(w, "one");
    free(w);
    cr_assert_eq(extract_word(&p, &w, EXTRACT_UNQUOTE), 1);
    cr_assert_str_eq(w, "two three");
    free(w);
    cr_assert_eq(extract_word(&p, &w, EXTRACT_UNQUOTE), 1);
    cr_assert_str_eq(w, "fo\"ur");
    free(w);
    cr_assert_eq(extract_word(&p, &w, EXTRACT_UNQUOTE), 0);
    cr_assert_null(w);

    p = "dev-disk-by\\x2duuid.device";
    cr_assert_eq(extract_word(&p, &w, EXTRACT_RETAIN_ESCAPE), 1);
    cr_assert_str_eq(w, "dev-disk-by\\x2duuid.device");
    free(w);

    p = "\"open";
    cr_assert_eq(extract_word(&p, &w, EXTRACT_UNQUOTE), -EINVAL);
    p = "\"open";
    cr_assert_eq(extract_word(&p, &w, EXTRACT_UNQUOTE | EXTRACT_RELAX), 1);
    cr_assert_str_eq(w, "open");
    free(w);
}
