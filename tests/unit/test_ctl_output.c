/* minisupctl's human output from fixed JSON, a fixed "now", a fixed host name and TZ=UTC: the
 * status block and its Active: variants, exit status names, relative times, the journal line
 * formats and the list-units table, compared as exact text. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

/* Unit tests link the daemon's libraries, not minisupctl, so the module under test is built in. */
#include "../../supervisor/ctl/ctl_output.c"

/* Sat 2026-11-21 19:01:45 UTC, and "now" five seconds later. */
#define T0 UINT64_C(1795287705000000)
#define NOW (T0 + 5 * USEC_PER_SEC)

static const struct ctl_style plain = {.now_usec = NOW, .hostname = "host", .colour = false};

static void utc(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
}

/* Runs one formatter into a string; the caller frees it. */
#define CAPTURE(out, call)                                                                         \
    do {                                                                                           \
        size_t len_;                                                                               \
        FILE *f = open_memstream(&(out), &len_);                                                   \
        cr_assert_not_null(f);                                                                     \
        call;                                                                                      \
        fclose(f);                                                                                 \
    } while (0)

static json_t *unit_new(const char *active, const char *sub, const char *result)
{
    json_t *u =
        json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:I, s:I, s:I, s:i, s:s, s:s, "
                  "s:i, s:i, s:s}",
                  "name", "fifo-echo.service", "description", "FIFO echo service", "loadState",
                  "loaded", "fragmentPath", "/path/etc/units/fifo-echo.service", "enabled", 1,
                  "activeState", active, "subState", sub, "result", result, "stateChangeTimestamp",
                  (json_int_t)T0, "activeEnterTimestamp", (json_int_t)T0, "inactiveEnterTimestamp",
                  (json_int_t)0, "mainPid", 0, "mainCommand", "fifo-echo", "execMainCode", "",
                  "execMainStatus", 0, "nRestarts", 0, "invocationId", "");
    cr_assert_not_null(u);
    return u;
}

static json_t *entry_new(uint64_t realtime, const char *identifier, int pid, const char *message)
{
    json_t *e = json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:i, s:s, s:i, s:s}", "realtime",
                          (json_int_t)realtime, "monotonic", (json_int_t)1, "seq", (json_int_t)7,
                          "unit", "fifo-echo.service", "invocationId", "", "identifier", identifier,
                          "pid", pid, "stream", "stdout", "priority", 6, "message", message);
    cr_assert_not_null(e);
    return e;
}

static char *active_line(const json_t *u)
{
    char *out = NULL;
    CAPTURE(out, ctl_print_active(f, u, &plain));
    return out;
}

Test(ctl_output, exit_status_names)
{
    static const char *const want[] = {"SUCCESS",        "FAILURE",      "INVALIDARGUMENT",
                                       "NOTIMPLEMENTED", "NOPERMISSION", "NOTINSTALLED",
                                       "NOTCONFIGURED",  "NOTRUNNING"};
    char buf[CTL_EXIT_MAX];

    for (int i = 0; i < 8; i++)
        cr_expect_str_eq(ctl_exit_status_to_string(i), want[i]);
    cr_expect_null(ctl_exit_status_to_string(8));
    cr_expect_null(ctl_exit_status_to_string(-1));
    cr_expect_str_eq(ctl_signal_to_string(9), "KILL");
    cr_expect_str_eq(ctl_signal_to_string(15), "TERM");
    cr_expect_null(ctl_signal_to_string(0));
    cr_expect_null(ctl_signal_to_string(99));
    cr_expect_eq(ctl_signal_from_string("KILL"), 9);
    cr_expect_eq(ctl_signal_from_string("SIGHUP"), 1);
    cr_expect_eq(ctl_signal_from_string("15"), 15);
    cr_expect_eq(ctl_signal_from_string("SIGFOO"), -EINVAL);
    cr_expect_eq(ctl_signal_from_string("0"), -EINVAL);
    cr_expect_eq(ctl_signal_from_string(""), -EINVAL);

    cr_expect_str_eq(ctl_format_exit(buf, sizeof(buf), "exited", 1),
                     "code=exited, status=1/FAILURE");
    cr_expect_str_eq(ctl_format_exit(buf, sizeof(buf), "exited", 0),
                     "code=exited, status=0/SUCCESS");
    cr_expect_str_eq(ctl_format_exit(buf, sizeof(buf), "exited", 42), "code=exited, status=42");
    /* systemctl names the signal of a killed process, without its number. */
    cr_expect_str_eq(ctl_format_exit(buf, sizeof(buf), "killed", 9), "code=killed, signal=KILL");
    cr_expect_str_eq(ctl_format_exit(buf, sizeof(buf), "dumped", 11), "code=dumped, signal=SEGV");
}

Test(ctl_output, output_modes)
{
    cr_expect_eq(ctl_output_mode_from_string("short"), CTL_OUTPUT_SHORT);
    cr_expect_eq(ctl_output_mode_from_string("short-iso"), CTL_OUTPUT_SHORT_ISO);
    cr_expect_eq(ctl_output_mode_from_string("short-precise"), CTL_OUTPUT_SHORT_PRECISE);
    cr_expect_eq(ctl_output_mode_from_string("cat"), CTL_OUTPUT_CAT);
    cr_expect_eq(ctl_output_mode_from_string("json"), CTL_OUTPUT_JSON);
    cr_expect_eq(ctl_output_mode_from_string("verbose"), CTL_OUTPUT_VERBOSE);
    cr_expect_eq(ctl_output_mode_from_string("short-monotonic"), CTL_OUTPUT_SHORT_MONOTONIC);
    cr_expect_eq(ctl_output_mode_from_string("json-pretty"), CTL_OUTPUT_JSON_PRETTY);
    cr_expect_eq(ctl_output_mode_from_string("export"), CTL_OUTPUT_EXPORT);
    cr_expect_eq(ctl_output_mode_from_string("bogus"), -EINVAL);
    cr_expect_str_eq(ctl_output_mode_to_string(CTL_OUTPUT_SHORT_ISO), "short-iso");
    cr_expect_null(ctl_output_mode_to_string(CTL_OUTPUT_MAX));
}

Test(ctl_output, timestamp, .init = utc)
{
    char buf[CTL_TIMESTAMP_MAX];

    cr_expect_str_eq(ctl_format_timestamp(buf, sizeof(buf), T0), "Sat 2026-11-21 19:01:45 UTC");
    cr_expect_str_eq(ctl_format_timestamp(buf, sizeof(buf), 0), "n/a");
}

Test(ctl_output, timestamp_relative)
{
    static const struct {
        uint64_t ago;
        const char *want;
    } cases[] = {
        {0, "now"},
        {500, "500us ago"},
        {5 * USEC_PER_MSEC, "5ms ago"},
        {5 * USEC_PER_SEC, "5s ago"},
        {65 * USEC_PER_SEC, "1min 5s ago"},
        {5 * USEC_PER_MINUTE + 7 * USEC_PER_SEC, "5min ago"},
        {USEC_PER_HOUR + 5 * USEC_PER_MINUTE, "1h 5min ago"},
        {7 * USEC_PER_HOUR + 5 * USEC_PER_MINUTE, "7h ago"},
        {26 * USEC_PER_HOUR, "1 day 2h ago"},
        {3 * USEC_PER_DAY + USEC_PER_HOUR, "3 days ago"},
        {8 * USEC_PER_DAY, "1 week 1 day ago"},
        {15 * USEC_PER_DAY, "2 weeks 1 day ago"},
        {40 * USEC_PER_DAY, "1 month 9 days ago"},
        {400 * USEC_PER_DAY, "1 year 1 month ago"},
    };
    char buf[CTL_TIMESPAN_MAX];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_expect_str_eq(ctl_format_timestamp_relative(buf, sizeof(buf), NOW - cases[i].ago, NOW),
                         cases[i].want, "%" PRIu64 " us ago", cases[i].ago);
    cr_expect_str_eq(ctl_format_timestamp_relative(buf, sizeof(buf), NOW + 5 * USEC_PER_SEC, NOW),
                     "5s left");
}

Test(ctl_output, active_running, .init = utc)
{
    json_t *u = unit_new("active", "running", "success");
    char *out = active_line(u);

    cr_expect_str_eq(out, "active (running) since Sat 2026-11-21 19:01:45 UTC; 5s ago");
    free(out);
    json_decref(u);
}

Test(ctl_output, active_inactive, .init = utc)
{
    json_t *u = unit_new("inactive", "dead", "success");
    char *out = active_line(u);

    /* Never stopped: no inactiveEnterTimestamp, so no "since". */
    cr_expect_str_eq(out, "inactive (dead)");
    free(out);
    json_object_set_new(u, "inactiveEnterTimestamp", json_integer((json_int_t)T0));
    out = active_line(u);
    cr_expect_str_eq(out, "inactive (dead) since Sat 2026-11-21 19:01:45 UTC; 5s ago");
    free(out);
    json_decref(u);
}

Test(ctl_output, active_failed, .init = utc)
{
    json_t *u = unit_new("failed", "failed", "exit-code");
    char *out;

    json_object_set_new(u, "inactiveEnterTimestamp",
                        json_integer((json_int_t)(T0 - 60 * USEC_PER_SEC)));
    out = active_line(u);
    cr_expect_str_eq(out,
                     "failed (Result: exit-code) since Sat 2026-11-21 19:00:45 UTC; 1min 5s ago");
    free(out);
    json_decref(u);
}

Test(ctl_output, active_auto_restart, .init = utc)
{
    json_t *u = unit_new("activating", "auto-restart", "exit-code");
    char *out;

    json_object_set_new(u, "stateChangeTimestamp", json_integer((json_int_t)(NOW - 300000)));
    out = active_line(u);
    cr_expect_str_eq(out, "activating (auto-restart) (Result: exit-code) since Sat 2026-11-21 "
                          "19:01:49 UTC; 300ms ago");
    free(out);
    json_decref(u);
}

Test(ctl_output, status_block_running, .init = utc)
{
    json_t *u = unit_new("active", "running", "success");
    json_t *entries = json_array();
    char *out = NULL;

    json_object_set_new(u, "mainPid", json_integer(1234));
    json_array_append_new(
        entries, entry_new(T0, "fifo-echo", 1234, "Listening on /run/minisup/fifo-echo.fifo"));
    CAPTURE(out, ctl_print_unit_status(f, u, entries, CTL_OUTPUT_SHORT, &plain));
    cr_expect_str_eq(out,
                     "● fifo-echo.service - FIFO echo service\n"
                     "     Loaded: loaded (/path/etc/units/fifo-echo.service; enabled)\n"
                     "     Active: active (running) since Sat 2026-11-21 19:01:45 UTC; 5s ago\n"
                     "   Main PID: 1234 (fifo-echo)\n"
                     "\n"
                     "Nov 21 19:01:45 host fifo-echo[1234]: Listening on "
                     "/run/minisup/fifo-echo.fifo\n");
    free(out);
    json_decref(entries);
    json_decref(u);
}

/* Documentation= as systemctl status prints it: "Docs:" right-aligned, one URL per line. */
Test(ctl_output, status_block_docs, .init = utc)
{
    json_t *u = unit_new("active", "running", "success");
    char *out = NULL;

    json_object_set_new(u, "mainPid", json_integer(1234));
    json_object_set_new(u, "documentation",
                        json_pack("[s, s]", "man:sshd(8)", "https://example.com/x"));
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect_str_eq(out,
                     "● fifo-echo.service - FIFO echo service\n"
                     "     Loaded: loaded (/path/etc/units/fifo-echo.service; enabled)\n"
                     "     Active: active (running) since Sat 2026-11-21 19:01:45 UTC; 5s ago\n"
                     "       Docs: man:sshd(8)\n"
                     "             https://example.com/x\n"
                     "   Main PID: 1234 (fifo-echo)\n");
    free(out);
    json_decref(u);
}

/* DISK-1/2: what the journal could not keep is in status, "still failing" while unreported. */
Test(ctl_output, status_block_journal_losses_DISK_1, .init = utc)
{
    json_t *u = unit_new("active", "running", "success");
    char *out = NULL;

    json_object_set_new(u, "mainPid", json_integer(1234));
    json_object_set_new(u, "journalLost", json_integer(12));
    json_object_set_new(u, "journalLostUnreported", json_integer(5));
    json_object_set_new(u, "journalError", json_string("No space left on device"));
    json_object_set_new(u, "journalSuppressed", json_integer(1));
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect(strstr(out, "   Main PID: 1234 (fifo-echo)\n"
                          "    Journal: 12 records could not be stored (No space left on device), "
                          "5 not yet noted in the journal: storage is still failing; 1 line "
                          "suppressed by the rate limit\n") != NULL,
              "%s", out);
    free(out);

    json_object_set_new(u, "journalLostUnreported", json_integer(0));
    json_object_del(u, "journalSuppressed");
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect(strstr(out, "    Journal: 12 records could not be stored (No space left on "
                          "device)\n") != NULL,
              "%s", out);
    free(out);

    json_object_del(u, "journalLost");
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect(strstr(out, "Journal:") == NULL, "%s", out);
    free(out);
    json_decref(u);
}

Test(ctl_output, status_block_failed_no_journal, .init = utc)
{
    json_t *u = unit_new("failed", "failed", "exit-code");
    char *out = NULL;

    json_object_set_new(u, "enabled", json_false());
    json_object_set_new(u, "inactiveEnterTimestamp", json_integer((json_int_t)T0));
    json_object_set_new(u, "activeEnterTimestamp", json_integer((json_int_t)(T0 - 2500000)));
    json_object_set_new(u, "activeExitTimestamp", json_integer((json_int_t)(T0 - 1000)));
    json_object_set_new(u, "execMainCode", json_string("exited"));
    json_object_set_new(u, "execMainStatus", json_integer(1));
    json_object_set_new(u, "execMainPid", json_integer(4321));
    json_object_set_new(u, "execStatus",
                        json_pack("[{s:s, s:i, s:s, s:s, s:i}, {s:s, s:i, s:s, s:s, s:i}]", "name",
                                  "ExecStartPre", "pid", 4320, "argv", "/bin/true", "code",
                                  "exited", "status", 0, "name", "ExecStart", "pid", 4321, "argv",
                                  "/usr/bin/fifo-echo --fifo /run/x", "code", "exited", "status",
                                  1));
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    /* systemctl's picture of a failed service: a cross, how long it was up, every command
     * with its pid and end, and the main pid with how it ended. */
    cr_expect_str_eq(out,
                     "\u00d7 fifo-echo.service - FIFO echo service\n"
                     "     Loaded: loaded (/path/etc/units/fifo-echo.service; static)\n"
                     "     Active: failed (Result: exit-code) since Sat 2026-11-21 19:01:45 "
                     "UTC; 5s ago\n"
                     "   Duration: 2.499s\n"
                     "    Process: 4320 ExecStartPre=/bin/true (code=exited, status=0/SUCCESS)\n"
                     "    Process: 4321 ExecStart=/usr/bin/fifo-echo --fifo /run/x (code=exited, "
                     "status=1/FAILURE)\n"
                     "   Main PID: 4321 (code=exited, status=1/FAILURE)\n");
    free(out);
    json_decref(u);
}

Test(ctl_output, status_block_killed, .init = utc)
{
    json_t *u = unit_new("inactive", "dead", "signal");
    json_t *none = json_array();
    char *out = NULL;

    json_object_set_new(u, "execMainCode", json_string("killed"));
    json_object_set_new(u, "execMainStatus", json_integer(9));
    json_object_set_new(u, "execMainPid", json_integer(99));
    CAPTURE(out, ctl_print_unit_status(f, u, none, CTL_OUTPUT_SHORT, &plain));
    /* An empty journal adds no blank line. */
    cr_expect_eq(out[strlen(out) - 1], '\n');
    cr_expect_null(strstr(out, "\n\n"), "%s", out);
    cr_expect(strstr(out, "     Active: inactive (dead) (Result: signal)\n"), "%s", out);
    cr_expect(strncmp(out, "\u25cb fifo-echo.service", 20) == 0, "%s", out);
    cr_expect(strstr(out, "   Main PID: 99 (code=killed, signal=KILL)\n"), "%s", out);
    free(out);
    json_decref(none);
    json_decref(u);
}

Test(ctl_output, status_block_control_process, .init = utc)
{
    json_t *u = unit_new("reloading", "reload", "success");
    char *out = NULL;

    json_object_set_new(u, "mainPid", json_integer(1234));
    json_object_set_new(u, "controlPid", json_integer(1240));
    json_object_set_new(u, "controlCommand", json_string("kill"));
    json_object_set_new(u, "statusErrno", json_integer(2));
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect(strncmp(out, "\u21bb fifo-echo.service", 20) == 0, "%s", out);
    cr_expect(strstr(out, "   Main PID: 1234 (fifo-echo); Control PID: 1240 (kill)\n"), "%s", out);
    cr_expect(strstr(out, "      Error: 2 (No such file or directory)\n"), "%s", out);
    free(out);

    /* A control process with no main one (ExecStartPre=) starts its own line. */
    json_object_set_new(u, "activeState", json_string("activating"));
    json_object_set_new(u, "subState", json_string("start-pre"));
    json_object_set_new(u, "mainPid", json_integer(0));
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect(strstr(out, "\n  Cntrl PID: 1240 (kill)\n"), "%s", out);
    free(out);
    json_decref(u);
}

Test(ctl_output, status_since_for_transitions, .init = utc)
{
    json_t *u = unit_new("activating", "start-pre", "success");
    char *out;

    /* systemctl: activating counts from leaving inactive, deactivating from leaving active. */
    json_object_set_new(u, "inactiveExitTimestamp", json_integer((json_int_t)(T0 - 60000000)));
    json_object_set_new(u, "activeExitTimestamp", json_integer((json_int_t)(T0 - 120000000)));
    out = active_line(u);
    cr_expect(strstr(out, "since Sat 2026-11-21 19:00:45 UTC; 1min 5s ago"), "%s", out);
    free(out);
    json_object_set_new(u, "activeState", json_string("deactivating"));
    json_object_set_new(u, "subState", json_string("stop-sigterm"));
    out = active_line(u);
    cr_expect(strstr(out, "since Sat 2026-11-21 18:59:45 UTC; 2min 5s ago"), "%s", out);
    free(out);
    json_decref(u);
}

Test(ctl_output, status_block_bad_setting, .init = utc)
{
    json_t *u = unit_new("inactive", "dead", "success");
    char *out = NULL;

    json_object_set_new(u, "loadState", json_string("bad-setting"));
    json_object_set_new(u, "loadError", json_string("fifo-echo.service:9: Missing ExecStart="));
    json_object_set_new(u, "description", json_string(""));
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect_str_eq(out, "\u25cb fifo-echo.service\n"
                          "     Loaded: bad-setting (Reason: fifo-echo.service:9: Missing "
                          "ExecStart=)\n"
                          "     Active: inactive (dead)\n");
    free(out);
    json_decref(u);
}

Test(ctl_output, status_block_not_found, .init = utc)
{
    json_t *u = unit_new("active", "running", "success");
    char *out = NULL;

    /* A running unit whose file was removed by daemon-reload. */
    json_object_set_new(u, "loadState", json_string("not-found"));
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect(strstr(out, "     Loaded: not-found (Reason: Unit fifo-echo.service not found.)\n"),
              "%s", out);
    free(out);
    json_decref(u);
}

Test(ctl_output, status_colour, .init = utc)
{
    struct ctl_style colour = plain;
    json_t *u = unit_new("failed", "failed", "exit-code");
    char *out = NULL;

    colour.colour = true;
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &colour));
    cr_expect(strncmp(out, ANSI_RED "\u00d7" ANSI_NORMAL " fifo-echo.service", 30) == 0, "%s", out);
    cr_expect(strstr(out, "Active: " ANSI_RED "failed" ANSI_NORMAL " (Result: exit-code)"), "%s",
              out);
    free(out);
    json_decref(u);
}

Test(ctl_output, journal_formats, .init = utc)
{
    json_t *e = entry_new(T0 + 42, "fifo-echo", 1234, "hello");
    static const struct {
        enum ctl_output_mode mode;
        const char *want;
    } cases[] = {
        {CTL_OUTPUT_SHORT, "Nov 21 19:01:45 host fifo-echo[1234]: hello\n"},
        {CTL_OUTPUT_SHORT_ISO, "2026-11-21T19:01:45+0000 host fifo-echo[1234]: hello\n"},
        {CTL_OUTPUT_SHORT_PRECISE, "Nov 21 19:01:45.000042 host fifo-echo[1234]: hello\n"},
        {CTL_OUTPUT_CAT, "hello\n"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = NULL;
        CAPTURE(out, ctl_print_journal_entry(f, e, cases[i].mode, &plain));
        cr_expect_str_eq(out, cases[i].want);
        free(out);
    }
    json_decref(e);
}

/* Parses the one line out, as jq would read journalctl -o json. */
static json_t *json_line(const char *out)
{
    json_t *o;

    cr_assert_eq(out[strlen(out) - 1], '\n');
    cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "one line: %s", out);
    o = json_loads(out, 0, NULL);
    cr_assert(json_is_object(o), "%s", out);
    return o;
}

static const char *jfield(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* -o json as journalctl writes it: journald's field names (as export and verbose use them),
 * every value a string, numbers included, so `jq -r .MESSAGE` works; empty fields left out. */
Test(ctl_output, journal_json_has_journald_fields)
{
    json_t *e = entry_new(1700000000123456, "fifo-echo", 1234, "hello \"you\"\ttab"), *o;
    char *out = NULL;

    json_object_set_new(e, "invocationId", json_string("0123456789abcdef0123456789abcdef"));
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_JSON, &plain));
    o = json_line(out);
    cr_expect_str_eq(jfield(o, "MESSAGE"), "hello \"you\"\ttab");
    cr_expect_str_eq(jfield(o, "PRIORITY"), "6");
    cr_expect_str_eq(jfield(o, "_PID"), "1234");
    cr_expect_str_eq(jfield(o, "SYSLOG_IDENTIFIER"), "fifo-echo");
    cr_expect_str_eq(jfield(o, "_SYSTEMD_UNIT"), "fifo-echo.service");
    cr_expect_str_eq(jfield(o, "_SYSTEMD_INVOCATION_ID"), "0123456789abcdef0123456789abcdef");
    cr_expect_str_eq(jfield(o, "__REALTIME_TIMESTAMP"), "1700000000123456");
    cr_expect_str_eq(jfield(o, "__MONOTONIC_TIMESTAMP"), "1");
    cr_expect_str_eq(jfield(o, "__SEQNUM"), "7");
    cr_expect_str_eq(jfield(o, "_TRANSPORT"), "stdout");
    cr_expect_str_eq(jfield(o, "_HOSTNAME"), "host");
    cr_expect_null(json_object_get(o, "message"), "no daemon field names: %s", out);
    cr_expect_null(json_object_get(o, "realtime"), "%s", out);
    json_decref(o);
    free(out);

    /* No invocation, no pid: left out, as journald stores no such field. */
    json_object_set_new(e, "invocationId", json_string(""));
    json_object_set_new(e, "pid", json_integer(0));
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_JSON_PRETTY, &plain));
    cr_expect(strncmp(out, "{\n        \"", 11) == 0, "indented by eight: %s", out);
    o = json_loads(out, 0, NULL);
    cr_assert_not_null(o, "%s", out);
    cr_expect_null(json_object_get(o, "_SYSTEMD_INVOCATION_ID"), "%s", out);
    cr_expect_null(json_object_get(o, "_PID"), "%s", out);
    cr_expect_str_eq(jfield(o, "MESSAGE"), "hello \"you\"\ttab");
    json_decref(o);
    free(out);
    json_decref(e);
}

/* journalctl's JSON writes a value that is not printable UTF-8 (a NUL, invalid UTF-8, a
 * control character other than tab and newline) as an array of its bytes, and one of 4096
 * bytes or more ("MESSAGE=" counted) as null unless -a. */
Test(ctl_output, journal_json_bytes_and_big_fields)
{
    json_t *e = entry_new(T0, "x", 7, "x"), *o, *m;
    struct ctl_style all = plain;
    char *out = NULL, *big;

    json_object_del(e, "message");
    json_object_set_new(e, "messageBytes", json_pack("[i, i, i, i]", 'a', 0, 0xff, 'b'));
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_JSON, &plain));
    o = json_line(out);
    m = json_object_get(o, "MESSAGE");
    cr_assert(json_is_array(m), "%s", out);
    cr_expect_eq(json_array_size(m), 4);
    cr_expect_eq(json_integer_value(json_array_get(m, 1)), 0);
    cr_expect_eq(json_integer_value(json_array_get(m, 2)), 0xff);
    cr_expect_null(json_object_get(o, "messageBytes"), "%s", out);
    json_decref(o);
    free(out);

    /* Valid UTF-8 with an escape sequence (a coloured line) is not printable: bytes. */
    json_object_del(e, "messageBytes");
    json_object_set_new(e, "message", json_string("\x1b[1mbold\x1b[0m"));
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_JSON, &plain));
    o = json_line(out);
    m = json_object_get(o, "MESSAGE");
    cr_assert(json_is_array(m), "%s", out);
    cr_expect_eq(json_integer_value(json_array_get(m, 0)), 0x1b);
    json_decref(o);
    free(out);
    json_object_set_new(e, "message", json_string("caf\u00e9\nnext line"));
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_JSON, &plain));
    o = json_line(out);
    cr_expect_str_eq(jfield(o, "MESSAGE"), "caf\u00e9\nnext line");
    json_decref(o);
    free(out);

    /* "MESSAGE=" and 4087 bytes make 4095: a string; one more: null, or with -a the string. */
    big = malloc(4089);
    cr_assert_not_null(big);
    memset(big, 'y', 4088);
    big[4087] = '\0';
    json_object_set_new(e, "message", json_string(big));
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_JSON, &plain));
    o = json_line(out);
    cr_expect(json_is_string(json_object_get(o, "MESSAGE")));
    json_decref(o);
    free(out);
    big[4087] = 'y';
    big[4088] = '\0';
    json_object_set_new(e, "message", json_string(big));
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_JSON, &plain));
    o = json_line(out);
    cr_expect(json_is_null(json_object_get(o, "MESSAGE")), "%.60s", out);
    json_decref(o);
    free(out);
    all.all = true;
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_JSON, &all));
    o = json_line(out);
    cr_expect_eq(json_string_length(json_object_get(o, "MESSAGE")), 4088);
    json_decref(o);
    free(out);
    free(big);
    json_decref(e);
}

/* A message with a NUL byte is binary data: journalctl's "[NB blob data]" in the short modes
 * and verbose, the bytes themselves in cat and json. */
Test(ctl_output, journal_message_with_nul_is_blob_data, .init = utc)
{
    json_t *e = entry_new(T0, "x", 7, "x"), *big = json_array();
    char *out = NULL;
    size_t len = 0;

    json_object_del(e, "message");
    json_object_set_new(e, "messageBytes", json_pack("[i, i, i, i]", 'a', 0, 'b', 0));
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT, &plain));
    cr_expect_str_eq(out, "Nov 21 19:01:45 host x[7]: [4B blob data]\n");
    free(out);
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_VERBOSE, &plain));
    cr_expect(strstr(out, "    MESSAGE=[4B blob data]\n"), "%s", out);
    free(out);

    /* cat writes the bytes as they are, as journalctl -o cat does. */
    {
        FILE *f = open_memstream(&out, &len);
        ctl_print_journal_entry(f, e, CTL_OUTPUT_CAT, &plain);
        fclose(f);
    }
    cr_expect_eq(len, 5);
    cr_expect(memcmp(out, "a\0b\0\n", 5) == 0);
    free(out);

    /* Sizes as systemd's format_bytes() writes them. */
    for (int i = 0; i < 1536; i++)
        json_array_append_new(big, json_integer(i == 0 ? 0 : 'x'));
    json_object_set_new(e, "messageBytes", big);
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_CAT, &plain));
    cr_expect_str_eq(out, "", "cat: raw, so the captured text ends at the NUL");
    free(out);
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT_ISO, &plain));
    cr_expect(strstr(out, ": [1.5K blob data]\n"), "%s", out);
    free(out);
    json_decref(e);
}

Test(ctl_output, journal_bytes_and_missing_fields, .init = utc)
{
    json_t *e = entry_new(T0, "", 0, "x");
    struct ctl_style all = plain;
    char *out = NULL;

    all.all = true;
    /* A non-UTF-8 message arrives as bytes and leaves as the same bytes. */
    json_object_del(e, "message");
    json_object_set_new(e, "messageBytes", json_pack("[i, i, i]", 0xff, 'A', 0xfe));
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_CAT, &plain));
    cr_expect_str_eq(out, "\xff"
                          "A\xfe\n");
    free(out);
    /* No pid: no brackets; no identifier: the unit name stands in. Not UTF-8: binary data,
     * unless -a. */
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT, &plain));
    cr_expect_str_eq(out, "Nov 21 19:01:45 host fifo-echo.service: [3B blob data]\n");
    free(out);
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT, &all));
    cr_expect_str_eq(out, "Nov 21 19:01:45 host fifo-echo.service: \xff"
                          "A\xfe\n");
    free(out);
    json_decref(e);
}

Test(ctl_output, journal_priority_colour, .init = utc)
{
    struct ctl_style colour = plain;
    json_t *e = entry_new(T0, "x", 1, "boom");
    char *out = NULL;

    colour.colour = true;
    json_object_set_new(e, "priority", json_integer(3));
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT, &colour));
    cr_expect_str_eq(out, "Nov 21 19:01:45 host x[1]: " ANSI_RED "boom" ANSI_NORMAL "\n");
    free(out);
    json_decref(e);
}

static json_t *table_units(void)
{
    json_t *units = json_array();
    json_t *a = unit_new("active", "running", "success");
    json_t *b = unit_new("failed", "failed", "exit-code");

    json_object_set_new(b, "name", json_string("a-much-longer-name.service"));
    json_object_set_new(b, "description", json_string("Crashes"));
    json_array_append_new(units, a);
    json_array_append_new(units, b);
    return units;
}

Test(ctl_output, unit_table)
{
    json_t *units = table_units();
    char *out = NULL;

    CAPTURE(out, ctl_print_unit_table(f, units, CTL_TABLE_LEGEND | CTL_TABLE_ALL_HINT, &plain));
    cr_expect_str_eq(out,
                     "  UNIT                       LOAD   ACTIVE SUB     DESCRIPTION\n"
                     "  fifo-echo.service          loaded active running FIFO echo service\n"
                     "● a-much-longer-name.service loaded failed failed  Crashes\n"
                     "\n"
                     "LOAD   = Reflects whether the unit definition was properly loaded.\n"
                     "ACTIVE = The high-level unit activation state, i.e. generalization of SUB.\n"
                     "SUB    = The low-level unit activation state, values depend on unit type.\n"
                     "2 loaded units listed. Pass --all to see loaded but inactive units, too.\n");
    free(out);
    json_decref(units);
}

/* A pending job shows in a JOB column, which systemctl hides when no unit has one, and the
 * legend explains it. */
Test(ctl_output, unit_table_job_column)
{
    json_t *units = table_units();
    char *out = NULL;

    json_object_set_new(json_array_get(units, 1), "job", json_string("restart"));
    CAPTURE(out, ctl_print_unit_table(f, units, CTL_TABLE_LEGEND, &plain));
    cr_expect_str_eq(
        out, "  UNIT                       LOAD   ACTIVE SUB     JOB     DESCRIPTION\n"
             "  fifo-echo.service          loaded active running         FIFO echo service\n"
             "● a-much-longer-name.service loaded failed failed  restart Crashes\n"
             "\n"
             "LOAD   = Reflects whether the unit definition was properly loaded.\n"
             "ACTIVE = The high-level unit activation state, i.e. generalization of SUB.\n"
             "SUB    = The low-level unit activation state, values depend on unit type.\n"
             "JOB    = Pending job for the unit.\n"
             "2 loaded units listed.\n");
    free(out);
    json_decref(units);
}

Test(ctl_output, unit_table_plain_and_dots)
{
    json_t *units = table_units();
    char *out = NULL;

    json_object_set_new(json_array_get(units, 0), "description", json_string(""));
    CAPTURE(out, ctl_print_unit_table(f, units, 0, &plain));
    /* No header, no footer; without a description the name stands in, as in systemd. */
    cr_expect_str_eq(out, "  fifo-echo.service          loaded active running fifo-echo.service\n"
                          "● a-much-longer-name.service loaded failed failed  Crashes\n");
    free(out);
    CAPTURE(out, ctl_print_unit_table(f, units, CTL_TABLE_DOTS, &plain));
    cr_expect_str_eq(out, "● fifo-echo.service          loaded active running fifo-echo.service\n"
                          "● a-much-longer-name.service loaded failed failed  Crashes\n");
    free(out);
    json_decref(units);
}

Test(ctl_output, unit_table_empty)
{
    json_t *units = json_array();
    char *out = NULL;

    /* systemctl prints the header over no rows (`systemctl --failed` on a healthy machine). */
    CAPTURE(out, ctl_print_unit_table(f, units, CTL_TABLE_LEGEND, &plain));
    cr_expect_str_eq(out, "  UNIT LOAD ACTIVE SUB DESCRIPTION\n"
                          "0 loaded units listed.\n");
    free(out);
    json_decref(units);
}

Test(ctl_output, timespan_format)
{
    char buf[CTL_TIMESPAN_MAX];

    cr_expect_str_eq(ctl_format_timespan(buf, sizeof(buf), 0), "0");
    cr_expect_str_eq(ctl_format_timespan(buf, sizeof(buf), 284), "284us");
    cr_expect_str_eq(ctl_format_timespan(buf, sizeof(buf), 500 * USEC_PER_MSEC), "500ms");
    cr_expect_str_eq(ctl_format_timespan(buf, sizeof(buf), 1204 * USEC_PER_MSEC), "1.204s");
    cr_expect_str_eq(ctl_format_timespan(buf, sizeof(buf), 1500 * USEC_PER_MSEC), "1.5s");
    cr_expect_str_eq(ctl_format_timespan(buf, sizeof(buf), 10 * USEC_PER_SEC), "10s");
    cr_expect_str_eq(ctl_format_timespan(buf, sizeof(buf), 90500 * USEC_PER_MSEC), "1min 30.5s");
    cr_expect_str_eq(ctl_format_timespan(buf, sizeof(buf), 2 * USEC_PER_HOUR + 5 * USEC_PER_MINUTE),
                     "2h 5min");
    cr_expect_str_eq(ctl_format_timespan(buf, sizeof(buf), USEC_PER_DAY + USEC_PER_SEC), "1d 1s");
}

Test(ctl_output, timespan_parse)
{
    static const struct {
        const char *text;
        uint64_t usec;
    } good[] = {
        {"30", 30 * USEC_PER_SEC},
        {"30s", 30 * USEC_PER_SEC},
        {"5min", 5 * USEC_PER_MINUTE},
        {"5m", 5 * USEC_PER_MINUTE},
        {"1h 30min", USEC_PER_HOUR + 30 * USEC_PER_MINUTE},
        {"1h30min", USEC_PER_HOUR + 30 * USEC_PER_MINUTE},
        {"1.5h", USEC_PER_HOUR + 30 * USEC_PER_MINUTE},
        {"500ms", 500 * USEC_PER_MSEC},
        {"2 days", 2 * USEC_PER_DAY},
        {"1w", USEC_PER_WEEK},
        {"10 us", 10},
    };
    static const char *const bad[] = {
        "", "   ", "abc", "5 parsecs", "-5s", "1h x", "99999999999999999999s"};
    uint64_t v;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cr_expect_eq(ctl_parse_timespan(good[i].text, &v), 0, "%s", good[i].text);
        cr_expect_eq(v, good[i].usec, "%s: %" PRIu64, good[i].text, v);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_expect_lt(ctl_parse_timespan(bad[i], &v), 0, "'%s' was accepted", bad[i]);
}

Test(ctl_output, timestamp_parse, .init = utc)
{
    static const struct {
        const char *text;
        uint64_t usec;
    } good[] = {
        {"now", NOW},
        {"2026-11-21 19:01:45", T0},
        {"2026-11-21T19:01:45", T0},
        {"2026-11-21 19:01:45.000042", T0 + 42},
        {"2026-11-21 19:01:45.5", T0 + 500 * USEC_PER_MSEC},
        {"2026-11-21 19:01:45 UTC", T0},
        {"Sat 2026-11-21 19:01:45 UTC", T0}, /* what ctl_format_timestamp prints */
        {"2026-11-21 19:01", T0 - 45 * USEC_PER_SEC},
        {"2026-11-21", T0 - 19 * USEC_PER_HOUR - 105 * USEC_PER_SEC},
        {"19:01:45", T0},
        {"today", T0 - 19 * USEC_PER_HOUR - 105 * USEC_PER_SEC},
        {"yesterday", T0 - 43 * USEC_PER_HOUR - 105 * USEC_PER_SEC},
        {"tomorrow", T0 + 5 * USEC_PER_HOUR - 105 * USEC_PER_SEC},
        {"-5s", T0},
        {"+1min", NOW + USEC_PER_MINUTE},
        {"5s ago", T0},
        {"1 min left", NOW + USEC_PER_MINUTE},
        {"@1795287705", T0},
    };
    static const char *const bad[] = {"",   "garbage", "2026-13-45 99:99", "19:01:45 MARS",
                                      "@x", "-x"};
    uint64_t v;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cr_expect_eq(ctl_parse_timestamp(good[i].text, NOW, &v), 0, "%s", good[i].text);
        cr_expect_eq(v, good[i].usec, "%s: %" PRIu64 " != %" PRIu64, good[i].text, v, good[i].usec);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_expect_lt(ctl_parse_timestamp(bad[i], NOW, &v), 0, "'%s' was accepted", bad[i]);
}

Test(ctl_output, priority_parse)
{
    int lo = -1, hi = -1;

    cr_expect_eq(ctl_parse_priority("err", &lo, &hi), 0);
    cr_expect(lo == 0 && hi == 3);
    cr_expect_eq(ctl_parse_priority("6", &lo, &hi), 0);
    cr_expect(lo == 0 && hi == 6);
    cr_expect_eq(ctl_parse_priority("warning..err", &lo, &hi), 0);
    cr_expect(lo == 3 && hi == 4);
    cr_expect_eq(ctl_parse_priority("debug..notice", &lo, &hi), 0);
    cr_expect(lo == 5 && hi == 7);
    cr_expect_eq(ctl_parse_priority("emerg", &lo, &hi), 0);
    cr_expect(lo == 0 && hi == 0);
    cr_expect_lt(ctl_parse_priority("8", &lo, &hi), 0);
    cr_expect_lt(ctl_parse_priority("error", &lo, &hi), 0);
    cr_expect_lt(ctl_parse_priority("err..", &lo, &hi), 0);
    cr_expect_lt(ctl_parse_priority("", &lo, &hi), 0);
}

/* The restart counter and the last death, its run's length written as Duration: is (a long
 * run once came out as "1.23e+03s"). */
Test(ctl_output, status_restarts_line, .init = utc)
{
    json_t *u = unit_new("activating", "auto-restart", "exit-code");
    char *out = NULL;

    json_object_set_new(u, "nRestarts", json_integer(2));
    json_object_set_new(u, "deaths",
                        json_pack("[{s:I, s:I, s:s, s:i, s:s, s:b, s:s, s:i}]", "timestamp",
                                  (json_int_t)T0, "runtimeUSec", (json_int_t)1234500000, "code",
                                  "exited", "status", 1, "result", "exit-code", "restart", 1,
                                  "reason", "Restart=on-failure", "restartNumber", 3));
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect(strstr(out, "   Restarts: 2; last death: code=exited, status=1/FAILURE after 20min "
                          "34.5s (restart scheduled)\n"),
              "%s", out);
    free(out);
    json_decref(u);
}

/* A service's sockets, after Active: and its checks, as systemctl's TriggeredBy: lines. */
Test(ctl_output, status_triggered_by, .init = utc)
{
    json_t *u = unit_new("inactive", "dead", "success");
    char *out = NULL;

    json_object_set_new(u, "triggeredBy",
                        json_pack("[{s:s, s:s}, {s:s, s:s}]", "name", "a.socket", "activeState",
                                  "active", "name", "b.socket", "activeState", "failed"));
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect(strstr(out, "\nTriggeredBy: \u25cf a.socket\n"
                          "             \u25cf b.socket\n"),
              "%s", out);
    free(out);
    json_decref(u);
}

Test(ctl_output, status_block_extras, .init = utc)
{
    json_t *u = unit_new("active", "running", "success");
    char *out = NULL;

    json_object_set_new(u, "mainPid", json_integer(77));
    json_object_set_new(u, "statusText", json_string("Ready for messages"));
    json_object_set_new(u, "unitFileChanged", json_true());
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect(strstr(out,
                     "   Main PID: 77 (fifo-echo)\n"
                     "     Status: \"Ready for messages\"\n"
                     "\n"
                     "Warning: The unit file or drop-ins of fifo-echo.service changed on disk;"),
              "%s", out);
    free(out);
    json_decref(u);
}

static json_t *socket_new(void)
{
    json_t *u = unit_new("active", "listening", "success");

    json_object_set_new(u, "name", json_string("fifo-echo.socket"));
    json_object_set_new(u, "description", json_string("FIFO of the echo service"));
    json_object_set_new(u, "mainCommand", json_null());
    json_object_set_new(u, "triggers", json_string("fifo-echo.service"));
    json_object_set_new(u, "nAccepted", json_integer(0));
    json_object_set_new(u, "nConnections", json_integer(0));
    json_object_set_new(u, "listen",
                        json_pack("[{s:s, s:s}, {s:s, s:s}]", "type", "FIFO", "address",
                                  "/run/minisup/fifo-echo.fifo", "type", "Stream", "address",
                                  "/run/minisup/echo.sock"));
    return u;
}

Test(ctl_output, status_block_socket, .init = utc)
{
    json_t *u = socket_new();
    char *out = NULL;

    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect_str_eq(out, "● fifo-echo.socket - FIFO of the echo service\n"
                          "     Loaded: loaded (/path/etc/units/fifo-echo.service; enabled)\n"
                          "     Active: active (listening) since Sat 2026-11-21 19:01:45 UTC; "
                          "5s ago\n"
                          "   Triggers: ● fifo-echo.service\n"
                          "     Listen: /run/minisup/fifo-echo.fifo (FIFO)\n"
                          "             /run/minisup/echo.sock (Stream)\n");
    free(out);
    /* Accept=yes sockets trigger a template and count connections. */
    json_object_set_new(u, "triggers", json_string("echo@.service"));
    json_object_set_new(u, "nAccepted", json_integer(3));
    json_object_set_new(u, "nConnections", json_integer(1));
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect(strstr(out, "   Accepted: 3; Connected: 1;\n"), "%s", out);
    free(out);
    json_decref(u);
}

Test(ctl_output, socket_table)
{
    json_t *sockets = json_array();
    char *out = NULL;

    json_array_append_new(sockets, socket_new());
    CAPTURE(out, ctl_print_socket_table(f, sockets, CTL_TABLE_LEGEND | CTL_TABLE_TYPES, &plain));
    cr_expect_str_eq(out, "LISTEN                      TYPE   UNIT             ACTIVATES\n"
                          "/run/minisup/fifo-echo.fifo FIFO   fifo-echo.socket fifo-echo.service\n"
                          "/run/minisup/echo.sock      Stream fifo-echo.socket fifo-echo.service\n"
                          "\n"
                          "2 sockets listed.\n");
    free(out);
    json_decref(sockets);
    sockets = json_array();
    CAPTURE(out, ctl_print_socket_table(f, sockets, CTL_TABLE_LEGEND | CTL_TABLE_ALL_HINT, &plain));
    cr_expect_str_eq(out, "LISTEN UNIT ACTIVATES\n"
                          "\n"
                          "0 sockets listed.\n"
                          "Pass --all to see loaded but inactive sockets, too.\n");
    free(out);
    json_decref(sockets);
}

Test(ctl_output, why, .init = utc)
{
    json_t *u = unit_new("failed", "failed", "start-limit-hit");
    char *out = NULL;

    json_object_set_new(u, "inactiveEnterTimestamp", json_integer((json_int_t)T0));
    json_object_set_new(u, "restart", json_string("on-failure"));
    json_object_set_new(u, "startLimitBurst", json_integer(5));
    json_object_set_new(u, "startLimitIntervalUSec", json_integer(10 * (json_int_t)USEC_PER_SEC));
    json_object_set_new(u, "nRestarts", json_integer(1));
    json_object_set_new(
        u, "deaths",
        json_pack("[{s:I, s:I, s:s, s:i, s:s, s:b, s:s, s:i}, {s:I, s:I, s:s, s:i, s:s, s:b, s:s, "
                  "s:i}]",
                  "timestamp", (json_int_t)(T0 - USEC_PER_SEC), "runtimeUSec",
                  (json_int_t)(1204 * USEC_PER_MSEC), "code", "exited", "status", 1, "result",
                  "exit-code", "restart", 1, "reason", "Restart=on-failure and an unclean exit",
                  "restartNumber", 1, "timestamp", (json_int_t)T0, "runtimeUSec", (json_int_t)0,
                  "code", "", "status", 0, "result", "start-limit-hit", "restart", 0, "reason",
                  "start limit hit", "restartNumber", 0));
    CAPTURE(out, ctl_print_why(f, u, &plain));
    cr_expect_str_eq(out, "fifo-echo.service\n"
                          "     Active: failed (Result: start-limit-hit) since Sat 2026-11-21 "
                          "19:01:45 UTC; 5s ago\n"
                          "    Restart: on-failure (start limit: 5 starts in 10s); 1 automatic "
                          "restart since the last start\n"
                          "\n"
                          "Sat 2026-11-21 19:01:44 UTC (6s ago): ran 1.204s, code=exited, "
                          "status=1/FAILURE (Result: exit-code)\n"
                          "    -> restart #1: Restart=on-failure and an unclean exit\n"
                          "Sat 2026-11-21 19:01:45 UTC (5s ago): never ran (Result: "
                          "start-limit-hit)\n"
                          "    -> not restarted: start limit hit\n");
    free(out);
    json_object_del(u, "deaths");
    CAPTURE(out, ctl_print_why(f, u, &plain));
    cr_expect(strstr(out, "No run of fifo-echo.service has ended since minisupd started.\n"), "%s",
              out);
    free(out);
    json_decref(u);
}

Test(ctl_output, unit_file)
{
    char *out = NULL;

    CAPTURE(out, ctl_print_unit_file(f, "/etc/units/x.service", "[Service]\nExecStart=x"));
    cr_expect_str_eq(out, "# /etc/units/x.service\n[Service]\nExecStart=x\n");
    free(out);
    CAPTURE(out, ctl_print_unit_file(f, "/u/y.service", "[Unit]\n"));
    cr_expect_str_eq(out, "# /u/y.service\n[Unit]\n");
    free(out);
}

Test(ctl_output, journal_export_and_verbose_fields)
{
    json_t *e = json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:i, s:s, s:i, s:s}", "realtime",
                          (json_int_t)1700000000000000, "monotonic", (json_int_t)5000000, "seq",
                          (json_int_t)42, "unit", "x.service", "invocationId",
                          "0123456789abcdef0123456789abcdef", "identifier", "x", "pid", 7, "stream",
                          "stdout", "priority", 6, "message", "hello");
    struct ctl_style st = {0};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    setenv("TZ", "UTC", 1);
    tzset();
    ctl_print_journal_entry(f, e, CTL_OUTPUT_EXPORT, &st);
    fclose(f);
    cr_assert(strstr(buf, "__SEQNUM=42\n_SYSTEMD_UNIT=x.service\n"), "%s", buf);
    cr_assert(strstr(buf, "MESSAGE=hello\n\n"), "an export entry ends with a blank line: %s", buf);
    free(buf);
    f = open_memstream(&buf, &len);
    ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT_MONOTONIC, &st);
    fclose(f);
    cr_assert(strncmp(buf, "[    5.000000] ", 15) == 0, "%s", buf);
    free(buf);
    json_decref(e);
}

/* verbose and export carry the fields json carries: _HOSTNAME, and no empty field or zero
 * _PID (journald stores none). verbose heads an entry with journalctl's microsecond timestamp
 * and the sequence number, and lists only data fields: journalctl has the __ ones (timestamps,
 * sequence number) in that header and its cursor. */
Test(ctl_output, journal_verbose_matches_journalctl, .init = utc)
{
    json_t *e = json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:i, s:s, s:i, s:s}", "realtime",
                          (json_int_t)1700000000123456, "monotonic", (json_int_t)5000000, "seq",
                          (json_int_t)42, "unit", "x.service", "invocationId", "", "identifier",
                          "x", "pid", 0, "stream", "stdout", "priority", 6, "message", "hello");
    char *out = NULL;

    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_VERBOSE, &plain));
    cr_expect_str_eq(out, "Tue 2023-11-14 22:13:20.123456 UTC [s=42]\n"
                          "    _SYSTEMD_UNIT=x.service\n"
                          "    SYSLOG_IDENTIFIER=x\n"
                          "    _TRANSPORT=stdout\n"
                          "    PRIORITY=6\n"
                          "    _HOSTNAME=host\n"
                          "    MESSAGE=hello\n");
    free(out);
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_EXPORT, &plain));
    cr_expect(strstr(out, "PRIORITY=6\n_HOSTNAME=host\nMESSAGE=hello\n\n"), "%s", out);
    cr_expect_null(strstr(out, "_PID="), "%s", out);
    cr_expect_null(strstr(out, "_SYSTEMD_INVOCATION_ID="), "%s", out);
    free(out);
    json_decref(e);
}

/* The modes journalctl has beside short: short-unix (seconds since the epoch, micros), short-full
 * (systemd's format_timestamp()), with-unit (short-full with the unit in place of the
 * identifier, the identifier when there is no unit); all listed by name. */
Test(ctl_output, journal_short_unix_full_with_unit, .init = utc)
{
    json_t *e = entry_new(T0 + 283141, "x", 7, "hi");
    char *out = NULL;

    cr_expect_eq(ctl_output_mode_from_string("short-unix"), CTL_OUTPUT_SHORT_UNIX);
    cr_expect_eq(ctl_output_mode_from_string("short-full"), CTL_OUTPUT_SHORT_FULL);
    cr_expect_eq(ctl_output_mode_from_string("with-unit"), CTL_OUTPUT_WITH_UNIT);
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT_UNIX, &plain));
    cr_expect_str_eq(out, "1795287705.283141 host x[7]: hi\n");
    free(out);
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT_FULL, &plain));
    cr_expect_str_eq(out, "Sat 2026-11-21 19:01:45 UTC host x[7]: hi\n");
    free(out);
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_WITH_UNIT, &plain));
    cr_expect_str_eq(out, "Sat 2026-11-21 19:01:45 UTC host fifo-echo.service[7]: hi\n");
    free(out);
    json_object_set_new(e, "unit", json_string(""));
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_WITH_UNIT, &plain));
    cr_expect_str_eq(out, "Sat 2026-11-21 19:01:45 UTC host x[7]: hi\n");
    free(out);
    json_decref(e);
}

/* --utc: every timestamp in UTC, whatever TZ says; --no-hostname: the short formats without
 * the host (verbose and json keep _HOSTNAME, as journalctl's do). */
Test(ctl_output, journal_utc_and_no_hostname)
{
    json_t *e = entry_new(T0, "x", 7, "hi");
    struct ctl_style st = plain;
    char *out = NULL;

    setenv("TZ", "CET-1", 1);
    tzset();
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT, &st));
    cr_expect_str_eq(out, "Nov 21 20:01:45 host x[7]: hi\n");
    free(out);
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT_FULL, &st));
    cr_expect_str_eq(out, "Sat 2026-11-21 20:01:45 CET host x[7]: hi\n");
    free(out);

    st.utc = true;
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT, &st));
    cr_expect_str_eq(out, "Nov 21 19:01:45 host x[7]: hi\n");
    free(out);
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT_PRECISE, &st));
    cr_expect_str_eq(out, "Nov 21 19:01:45.000000 host x[7]: hi\n");
    free(out);
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT_ISO, &st));
    cr_expect_str_eq(out, "2026-11-21T19:01:45+0000 host x[7]: hi\n");
    free(out);
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT_FULL, &st));
    cr_expect_str_eq(out, "Sat 2026-11-21 19:01:45 UTC host x[7]: hi\n");
    free(out);
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_VERBOSE, &st));
    cr_expect(strncmp(out, "Sat 2026-11-21 19:01:45.000000 UTC [s=7]\n", 41) == 0, "%s", out);
    free(out);

    st.no_hostname = true;
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT, &st));
    cr_expect_str_eq(out, "Nov 21 19:01:45 x[7]: hi\n");
    free(out);
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT_MONOTONIC, &st));
    cr_expect_str_eq(out, "[    0.000001] x[7]: hi\n");
    free(out);
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_WITH_UNIT, &st));
    cr_expect_str_eq(out, "Sat 2026-11-21 19:01:45 UTC fifo-echo.service[7]: hi\n");
    free(out);
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_VERBOSE, &st));
    cr_expect(strstr(out, "    _HOSTNAME=host\n"), "%s", out);
    free(out);
    json_decref(e);
}

static char *short_line(json_t *e, const char *message, const struct ctl_style *st)
{
    char *out = NULL;

    json_object_set_new(e, "message", json_string(message));
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT, st));
    return out;
}

/* The short formats as systemd 252's output_short(): unless -a, colour sequences and terminal
 * hyperlinks are stripped and tabs expanded (strip_tab_ansi()), and a message that is still not
 * printable UTF-8 (another escape, a control character but newline, a C1 character, a
 * surrogate, an overlong form) is "[N blob data]" of its size after stripping; the lines of a
 * message of several stand under the first. */
Test(ctl_output, journal_unprintable_messages_are_blob_data, .init = utc)
{
    static const struct {
        const char *message, *shown;
    } cases[] = {
        {"\x1b[1;31mred\x1b[0m text", "red text"},
        {"a\tb", "a        b"},
        {"\x1b]8;;http://x/\alink\x1b]8;;\a", "link"},
        {"caf\u00e9 \u2713", "caf\u00e9 \u2713"},
        {"\x1b(B lone", "[8B blob data]"},
        {"\x1b[2J clear", "[10B blob data]"},
        {"\x1b[31mbell\a", "[5B blob data]"},
        {"ding\a", "[5B blob data]"},
        {"a\rb", "[3B blob data]"},
        {"a\x7f", "[2B blob data]"},
        {"a\xc2\x85z", "[4B blob data]"},
        {"\xef\xbf\xbe", "[3B blob data]"},
    };
    json_t *e = entry_new(T0, "x", 7, "x");
    struct ctl_style all = plain;
    char *out;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[128];
        out = short_line(e, cases[i].message, &plain);
        snprintf(want, sizeof(want), "Nov 21 19:01:45 host x[7]: %s\n", cases[i].shown);
        cr_expect_str_eq(out, want, "case %zu", i);
        free(out);
    }
    /* Invalid UTF-8 arrives as bytes: a surrogate, an overlong "/". */
    json_object_del(e, "message");
    json_object_set_new(e, "messageBytes",
                        json_pack("[i, i, i, i, i]", 0xed, 0xa0, 0x80, 0xc0, 0xaf));
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_SHORT, &plain));
    cr_expect_str_eq(out, "Nov 21 19:01:45 host x[7]: [5B blob data]\n");
    free(out);
    json_object_del(e, "messageBytes");

    /* -a: as it came, escape sequences and all. */
    all.all = true;
    out = short_line(e, "\x1b[1mbold\x1b[0m\ta\x01", &all);
    cr_expect_str_eq(out, "Nov 21 19:01:45 host x[7]: \x1b[1mbold\x1b[0m\ta\x01\n");
    free(out);

    /* The second line under the first: 25 columns of prefix, then ": ". */
    out = short_line(e, "first\nsecond\n", &plain);
    cr_expect_str_eq(out, "Nov 21 19:01:45 host x[7]: first\n"
                          "                           second\n");
    free(out);
    json_decref(e);
}

/* systemd's format_bytes(), as the blob sizes show them. */
Test(ctl_output, journal_blob_sizes)
{
    static const struct {
        uint64_t n;
        const char *want;
    } cases[] = {
        {0, "0B"},
        {13, "13B"},
        {1023, "1023B"},
        {1024, "1.0K"},
        {1229, "1.2K"},
        {1536, "1.5K"},
        {1048575, "1023.9K"},
        {1048576, "1.0M"},
        {1572864, "1.5M"},
        {UINT64_C(5905580032), "5.5G"},
    };
    char buf[FORMAT_BYTES_MAX];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_expect_str_eq(format_bytes(buf, sizeof(buf), cases[i].n), cases[i].want);
}

/* -o export as the Journal Export Format has it: a value with a newline, or that is not
 * printable, is written binary-safe (NAME, newline, little-endian 64-bit size, the bytes,
 * newline); a tab is printable. */
Test(ctl_output, journal_export_is_binary_safe, .init = utc)
{
    json_t *e = entry_new(T0, "x", 7, "line1\nline2");
    char *out = NULL;
    size_t len = 0;
    FILE *fp;

    fp = open_memstream(&out, &len);
    ctl_print_journal_entry(fp, e, CTL_OUTPUT_EXPORT, &plain);
    fclose(fp);
    static const char multi[] = "_HOSTNAME=host\nMESSAGE\n\x0b\0\0\0\0\0\0\0line1\nline2\n\n";
    cr_assert_geq(len, sizeof(multi) - 1);
    cr_expect(memcmp(out + len - (sizeof(multi) - 1), multi, sizeof(multi) - 1) == 0, "%s", out);
    free(out);

    json_object_del(e, "message");
    json_object_set_new(e, "messageBytes", json_pack("[i, i, i]", 0, 1, 0xff));
    fp = open_memstream(&out, &len);
    ctl_print_journal_entry(fp, e, CTL_OUTPUT_EXPORT, &plain);
    fclose(fp);
    static const char binary[] = "MESSAGE\n\x03\0\0\0\0\0\0\0\0\x01\xff\n\n";
    cr_assert_geq(len, sizeof(binary) - 1);
    cr_expect(memcmp(out + len - (sizeof(binary) - 1), binary, sizeof(binary) - 1) == 0);
    free(out);

    json_object_del(e, "messageBytes");
    json_object_set_new(e, "message", json_string("a\tb"));
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_EXPORT, &plain));
    cr_expect(strstr(out, "\nMESSAGE=a\tb\n\n"), "%s", out);
    cr_expect(strncmp(out, "__REALTIME_TIMESTAMP=1795287705000000\n", 38) == 0, "%s", out);
    free(out);
    json_decref(e);
}

/* verbose: a field that is not printable is "FIELD=[N blob data]" unless -a; the lines of a
 * value of several stand under the first. */
Test(ctl_output, journal_verbose_blob_and_lines, .init = utc)
{
    json_t *e = entry_new(T0, "x", 7, "a\x1b[1mb");
    struct ctl_style all = plain;
    char *out = NULL;

    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_VERBOSE, &plain));
    cr_expect(strstr(out, "\n    MESSAGE=[6B blob data]\n"), "%s", out);
    free(out);
    all.all = true;
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_VERBOSE, &all));
    cr_expect(strstr(out, "\n    MESSAGE=a\x1b[1mb\n"), "%s", out);
    free(out);
    json_object_set_new(e, "message", json_string("one\ntwo"));
    CAPTURE(out, ctl_print_journal_entry(f, e, CTL_OUTPUT_VERBOSE, &plain));
    cr_expect(strstr(out, "\n    MESSAGE=one\n            two\n"), "%s", out);
    free(out);
    json_decref(e);
}

/* systemctl's Drop-In: block: each directory once, the names of its drop-ins after the tree
 * glyph, separated by commas; a later directory on a line of its own under the first. */
Test(ctl_output, status_dropins, .init = utc)
{
    json_t *u = unit_new("active", "running", "success");
    char *out = NULL;

    json_object_set_new(u, "dropInPaths",
                        json_pack("[s, s, s]", "/u/fifo-echo.service.d/10-a.conf",
                                  "/u/fifo-echo.service.d/20-b.conf", "/u/service.d/30-c.conf"));
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect(strstr(out, "; enabled)\n"
                          "    Drop-In: /u/fifo-echo.service.d\n"
                          "             \u2514\u250010-a.conf, 20-b.conf\n"
                          "             /u/service.d\n"
                          "             \u2514\u250030-c.conf\n"
                          "     Active: "),
              "%s", out);
    free(out);
    json_decref(u);
}

/* ---- Tasks:, CPU: and the CGroup: tree ---------------------------------------------------- */

static json_t *proc_new(int pid, int ppid, const char *command_line)
{
    json_t *p = json_pack("{s:i, s:i, s:s}", "pid", pid, "ppid", ppid, "commandLine", command_line);

    cr_assert_not_null(p);
    return p;
}

/* A unit with the processes of `procs` (stolen), as GetUnit with processes sends it. */
static json_t *unit_with_processes(json_t *procs, int tasks, int cpu_usec)
{
    json_t *u = unit_new("active", "running", "success");

    json_object_set_new(u, "mainPid", json_integer(1234));
    json_object_set_new(u, "processes", procs);
    json_object_set_new(u, "tasksCurrent", json_integer(tasks));
    json_object_set_new(u, "cpuUsageUSec", json_integer(cpu_usec));
    return u;
}

/* systemctl's order after Main PID: Status:, then Tasks:, CPU: and CGroup:. Children hang under
 * their parent; siblings in pid order whatever the order received; "│ " continues a level that
 * has more siblings below, "  " one that has not; a pid column as wide as the widest sibling. */
Test(ctl_output, status_process_tree, .init = utc)
{
    json_t *procs = json_array();
    char *out = NULL;

    json_array_append_new(procs, proc_new(1300, 1240, "sleep 2000"));
    json_array_append_new(procs, proc_new(1240, 1234, "/bin/sh -c worker"));
    json_array_append_new(procs, proc_new(1234, 1, "/usr/bin/fifo-echo --fifo /run/x"));
    json_array_append_new(procs, proc_new(99, 1240, "[kworker]"));
    json_array_append_new(procs, proc_new(20001, 1, "escaped --daemon"));
    json_array_append_new(procs, proc_new(1250, 1234, "sleep 1000"));
    json_t *u = unit_with_processes(procs, 7, 12345);
    json_object_set_new(u, "statusText", json_string("Ready"));
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect_str_eq(out,
                     "● fifo-echo.service - FIFO echo service\n"
                     "     Loaded: loaded (/path/etc/units/fifo-echo.service; enabled)\n"
                     "     Active: active (running) since Sat 2026-11-21 19:01:45 UTC; 5s ago\n"
                     "   Main PID: 1234 (fifo-echo)\n"
                     "     Status: \"Ready\"\n"
                     "      Tasks: 7\n"
                     "        CPU: 12ms\n"
                     "     CGroup: fifo-echo.service\n"
                     "             ├─ 1234 /usr/bin/fifo-echo --fifo /run/x\n"
                     "             │ ├─1240 /bin/sh -c worker\n"
                     "             │ │ ├─  99 [kworker]\n"
                     "             │ │ └─1300 sleep 2000\n"
                     "             │ └─1250 sleep 1000\n"
                     "             └─20001 escaped --daemon\n");
    free(out);
    json_decref(u);
}

/* No processes (an empty list, or a reply without one): none of the lines. */
Test(ctl_output, status_without_processes_has_no_cgroup, .init = utc)
{
    json_t *u = unit_with_processes(json_array(), 0, 0);
    char *out = NULL;

    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect_null(strstr(out, "Tasks:"), "%s", out);
    cr_expect_null(strstr(out, "CPU:"), "%s", out);
    cr_expect_null(strstr(out, "CGroup:"), "%s", out);
    cr_expect(strstr(out, "   Main PID: 1234 (fifo-echo)\n"), "%s", out);
    free(out);
    json_object_del(u, "processes");
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect_null(strstr(out, "Tasks:"), "%s", out);
    cr_expect_null(strstr(out, "CGroup:"), "%s", out);
    free(out);
    json_decref(u);
}

/* A list whose parents loop (no kernel makes one) and a process that is its own parent: each is
 * printed once, the loop cut where the walk found it closed; no CPU: without cpuUsageUSec; the
 * pid and command line grey on colour, as systemd's ansi_grey(); truncation is said. */
Test(ctl_output, status_process_tree_loops_colour_truncated, .init = utc)
{
    json_t *procs = json_array();
    struct ctl_style colour = plain;
    char *out = NULL;

    json_array_append_new(procs, proc_new(10, 30, "a"));
    json_array_append_new(procs, proc_new(20, 10, "b"));
    json_array_append_new(procs, proc_new(30, 20, "c"));
    json_array_append_new(procs, proc_new(40, 40, "self"));
    json_t *u = unit_with_processes(procs, 4, 0);
    json_object_del(u, "cpuUsageUSec");
    json_object_set_new(u, "processesTruncated", json_true());
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &plain));
    cr_expect(strstr(out, "   Main PID: 1234 (fifo-echo)\n"
                          "      Tasks: 4 (counted in the first 4 processes; there are more)\n"
                          "     CGroup: fifo-echo.service\n"
                          "             ├─10 a\n"
                          "             │ └─20 b\n"
                          "             │   └─30 c\n"
                          "             └─40 self\n"),
              "%s", out);
    free(out);

    colour.colour = true;
    json_object_del(u, "processesTruncated");
    json_array_clear(procs);
    json_array_append_new(procs, proc_new(7, 1, "sleep 9"));
    CAPTURE(out, ctl_print_unit_status(f, u, NULL, CTL_OUTPUT_SHORT, &colour));
    cr_expect(strstr(out, "      Tasks: 4\n"
                          "     CGroup: fifo-echo.service\n"
                          "             └─\033[0;38;5;245m7 sleep 9\033[0m\n"),
              "%s", out);
    free(out);
    json_decref(u);
}
