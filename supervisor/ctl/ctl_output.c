/* minisupctl's human output: every line systemctl or journalctl would print, built from the
 * JSON the daemon sent. It reads no clock and no environment (the caller passes "now", the host
 * name and whether to colour), so the exact text is testable. It must not talk to the daemon. */
#include "ctl_output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* systemd's colours (ANSI_HIGHLIGHT_*), so a terminal shows what systemctl users know. */
#define ANSI_GREEN "\033[0;1;32m"
#define ANSI_RED "\033[0;1;31m"
#define ANSI_YELLOW "\033[0;1;33m"
#define ANSI_BOLD "\033[0;1;39m"
#define ANSI_GREY "\033[0;38;5;245m"
#define ANSI_NORMAL "\033[0m"

#define DOT "\xe2\x97\x8f" /* U+25CF BLACK CIRCLE, systemctl's unit marker */

#define USEC_PER_MSEC UINT64_C(1000)
#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_MINUTE (60 * USEC_PER_SEC)
#define USEC_PER_HOUR (60 * USEC_PER_MINUTE)
#define USEC_PER_DAY (24 * USEC_PER_HOUR)
#define USEC_PER_WEEK (7 * USEC_PER_DAY)
#define USEC_PER_MONTH (2629800 * USEC_PER_SEC) /* 30.44 days, as systemd counts */
#define USEC_PER_YEAR (31557600 * USEC_PER_SEC) /* 365.25 days */

static const char *const output_mode_table[CTL_OUTPUT_MAX] = {
    [CTL_OUTPUT_SHORT] = "short",
    [CTL_OUTPUT_SHORT_ISO] = "short-iso",
    [CTL_OUTPUT_SHORT_PRECISE] = "short-precise",
    [CTL_OUTPUT_CAT] = "cat",
    [CTL_OUTPUT_JSON] = "json",
};

const char *ctl_output_mode_to_string(enum ctl_output_mode m)
{
    return (unsigned)m < CTL_OUTPUT_MAX ? output_mode_table[m] : NULL;
}

int ctl_output_mode_from_string(const char *s)
{
    for (int i = 0; i < CTL_OUTPUT_MAX; i++)
        if (strcmp(s, output_mode_table[i]) == 0)
            return i;
    return -EINVAL;
}

const char *ctl_exit_status_to_string(int status)
{
    /* The LSB codes systemd names (systemd.exec(5), "Process Exit Codes"). */
    static const char *const names[] = {
        "SUCCESS",      "FAILURE",      "INVALIDARGUMENT", "NOTIMPLEMENTED",
        "NOPERMISSION", "NOTINSTALLED", "NOTCONFIGURED",   "NOTRUNNING",
    };
    if (status < 0 || (size_t)status >= sizeof(names) / sizeof(names[0]))
        return NULL;
    return names[status];
}

const char *ctl_signal_to_string(int sig)
{
    /* Linux numbering. A table rather than sigabbrev_np(), which musl (static builds) lacks. */
    static const char *const names[] = {
        [1] = "HUP",     [2] = "INT",   [3] = "QUIT",   [4] = "ILL",   [5] = "TRAP",
        [6] = "ABRT",    [7] = "BUS",   [8] = "FPE",    [9] = "KILL",  [10] = "USR1",
        [11] = "SEGV",   [12] = "USR2", [13] = "PIPE",  [14] = "ALRM", [15] = "TERM",
        [16] = "STKFLT", [17] = "CHLD", [18] = "CONT",  [19] = "STOP", [20] = "TSTP",
        [21] = "TTIN",   [22] = "TTOU", [23] = "URG",   [24] = "XCPU", [25] = "XFSZ",
        [26] = "VTALRM", [27] = "PROF", [28] = "WINCH", [29] = "IO",   [30] = "PWR",
        [31] = "SYS",
    };
    if (sig <= 0 || (size_t)sig >= sizeof(names) / sizeof(names[0]))
        return NULL;
    return names[sig];
}

int ctl_signal_from_string(const char *s)
{
    char *end;
    long v;

    if (strncmp(s, "SIG", 3) == 0)
        s += 3;
    for (int sig = 1; sig < 64; sig++) {
        const char *name = ctl_signal_to_string(sig);
        if (!name)
            break;
        if (strcmp(s, name) == 0)
            return sig;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v <= 0 || v > 64)
        return -EINVAL;
    return (int)v;
}

char *ctl_format_exit(char *buf, size_t n, const char *code, int status)
{
    bool by_signal = strcmp(code, "killed") == 0 || strcmp(code, "dumped") == 0;
    const char *name = by_signal ? ctl_signal_to_string(status) : ctl_exit_status_to_string(status);

    if (name)
        snprintf(buf, n, "code=%s, status=%d/%s", code, status, name);
    else
        snprintf(buf, n, "code=%s, status=%d", code, status);
    return buf;
}

char *ctl_format_timestamp(char *buf, size_t n, uint64_t usec)
{
    time_t t = (time_t)(usec / USEC_PER_SEC);
    struct tm tm;

    if (usec == 0 || !localtime_r(&t, &tm) || strftime(buf, n, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
        snprintf(buf, n, "n/a");
    return buf;
}

static const char *plural(uint64_t v, const char *one, const char *many)
{
    return v == 1 ? one : many;
}

char *ctl_format_timestamp_relative(char *buf, size_t n, uint64_t usec, uint64_t now_usec)
{
    const char *s = usec <= now_usec ? "ago" : "left";
    uint64_t d = usec <= now_usec ? now_usec - usec : usec - now_usec;

    if (d >= USEC_PER_YEAR) {
        uint64_t years = d / USEC_PER_YEAR, months = (d % USEC_PER_YEAR) / USEC_PER_MONTH;
        snprintf(buf, n, "%" PRIu64 " %s %" PRIu64 " %s %s", years, plural(years, "year", "years"),
                 months, plural(months, "month", "months"), s);
    } else if (d >= USEC_PER_MONTH) {
        uint64_t months = d / USEC_PER_MONTH, days = (d % USEC_PER_MONTH) / USEC_PER_DAY;
        snprintf(buf, n, "%" PRIu64 " %s %" PRIu64 " %s %s", months,
                 plural(months, "month", "months"), days, plural(days, "day", "days"), s);
    } else if (d >= USEC_PER_WEEK) {
        uint64_t weeks = d / USEC_PER_WEEK, days = (d % USEC_PER_WEEK) / USEC_PER_DAY;
        snprintf(buf, n, "%" PRIu64 " %s %" PRIu64 " %s %s", weeks, plural(weeks, "week", "weeks"),
                 days, plural(days, "day", "days"), s);
    } else if (d >= 2 * USEC_PER_DAY) {
        snprintf(buf, n, "%" PRIu64 " days %s", d / USEC_PER_DAY, s);
    } else if (d >= 25 * USEC_PER_HOUR) {
        snprintf(buf, n, "1 day %" PRIu64 "h %s", (d - USEC_PER_DAY) / USEC_PER_HOUR, s);
    } else if (d >= 6 * USEC_PER_HOUR) {
        snprintf(buf, n, "%" PRIu64 "h %s", d / USEC_PER_HOUR, s);
    } else if (d >= USEC_PER_HOUR) {
        snprintf(buf, n, "%" PRIu64 "h %" PRIu64 "min %s", d / USEC_PER_HOUR,
                 (d % USEC_PER_HOUR) / USEC_PER_MINUTE, s);
    } else if (d >= 5 * USEC_PER_MINUTE) {
        snprintf(buf, n, "%" PRIu64 "min %s", d / USEC_PER_MINUTE, s);
    } else if (d >= USEC_PER_MINUTE) {
        snprintf(buf, n, "%" PRIu64 "min %" PRIu64 "s %s", d / USEC_PER_MINUTE,
                 (d % USEC_PER_MINUTE) / USEC_PER_SEC, s);
    } else if (d >= USEC_PER_SEC) {
        snprintf(buf, n, "%" PRIu64 "s %s", d / USEC_PER_SEC, s);
    } else if (d >= USEC_PER_MSEC) {
        snprintf(buf, n, "%" PRIu64 "ms %s", d / USEC_PER_MSEC, s);
    } else if (d > 0) {
        snprintf(buf, n, "%" PRIu64 "us %s", d, s);
    } else {
        snprintf(buf, n, "now");
    }
    return buf;
}

/* Field readers that never fail: the daemon is trusted to send the shape it documents, but a
 * missing or mistyped field must print as empty, not crash the client. */
static const char *str_field(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static int64_t int_field(const json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

static uint64_t usec_field(const json_t *o, const char *key)
{
    int64_t v = int_field(o, key);
    return v > 0 ? (uint64_t)v : 0;
}

static bool streq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

/* The colour of an activeState, as systemctl's Active: line and status dot use it. */
static const char *active_colour(const char *active, const struct ctl_style *st)
{
    if (!st->colour)
        return "";
    if (streq(active, "active") || streq(active, "reloading"))
        return ANSI_GREEN;
    if (streq(active, "failed"))
        return ANSI_RED;
    return "";
}

static const char *colour_off(const char *on)
{
    return *on ? ANSI_NORMAL : "";
}

void ctl_print_active(FILE *f, const json_t *unit, const struct ctl_style *st)
{
    const char *active = str_field(unit, "activeState");
    const char *sub = str_field(unit, "subState");
    const char *result = str_field(unit, "result");
    const char *on = active_colour(active, st);
    uint64_t ts;

    /* "failed (Result: exit-code)", not "failed (failed)": a sub-state equal to the state adds
     * nothing, and systemctl leaves it out. */
    fprintf(f, "%s%s", on, active);
    if (*sub && !streq(sub, active))
        fprintf(f, " (%s)", sub);
    fputs(colour_off(on), f);
    if (*result && !streq(result, "success"))
        fprintf(f, " (Result: %s)", result);

    /* systemctl's choice of timestamp: entering active for active units, entering inactive for
     * dead ones, and the last change for the transitional states. */
    if (streq(active, "active") || streq(active, "reloading"))
        ts = usec_field(unit, "activeEnterTimestamp");
    else if (streq(active, "inactive") || streq(active, "failed"))
        ts = usec_field(unit, "inactiveEnterTimestamp");
    else
        ts = usec_field(unit, "stateChangeTimestamp");
    if (ts > 0) {
        char abs[CTL_TIMESTAMP_MAX], rel[CTL_TIMESPAN_MAX];
        fprintf(f, " since %s; %s", ctl_format_timestamp(abs, sizeof(abs), ts),
                ctl_format_timestamp_relative(rel, sizeof(rel), ts, st->now_usec));
    }
}

static void print_loaded(FILE *f, const json_t *unit, const struct ctl_style *st)
{
    const char *load = str_field(unit, "loadState");
    const char *error = str_field(unit, "loadError");
    const char *path = str_field(unit, "fragmentPath");
    const char *on = st->colour && !streq(load, "loaded") ? ANSI_RED : "";

    fprintf(f, "     Loaded: %s%s%s", on, load, colour_off(on));
    if (*error)
        fprintf(f, " (Reason: %s)", error);
    else if (streq(load, "not-found"))
        fprintf(f, " (Reason: Unit %s not found.)", str_field(unit, "name"));
    else if (*path)
        fprintf(f, " (%s; %s)", path,
                json_is_true(json_object_get(unit, "enabled")) ? "enabled" : "disabled");
    fputc('\n', f);
}

static void print_main_pid(FILE *f, const json_t *unit)
{
    int64_t pid = int_field(unit, "mainPid");
    const char *command = str_field(unit, "mainCommand");
    const char *code = str_field(unit, "execMainCode");
    char exit_text[CTL_EXIT_MAX];

    if (pid > 0) {
        fprintf(f, "   Main PID: %" PRId64, pid);
        if (*command)
            fprintf(f, " (%s)", command);
        fputc('\n', f);
    } else if (*code) {
        /* The daemon forgets the pid of a process that ended, so name it by its command, as
         * systemctl's "Process:" lines do. */
        ctl_format_exit(exit_text, sizeof(exit_text), code, (int)int_field(unit, "execMainStatus"));
        fprintf(f, "    Process: %s%s(%s)\n", command, *command ? " " : "", exit_text);
    }
}

void ctl_print_unit_status(FILE *f, const json_t *unit, const json_t *entries,
                           enum ctl_output_mode mode, const struct ctl_style *st)
{
    const char *name = str_field(unit, "name");
    const char *description = str_field(unit, "description");
    const char *on = active_colour(str_field(unit, "activeState"), st);
    size_t i;
    json_t *e;

    fprintf(f, "%s" DOT "%s %s", on, colour_off(on), name);
    if (*description && !streq(description, name))
        fprintf(f, " - %s", description);
    fputc('\n', f);
    print_loaded(f, unit, st);
    fputs("     Active: ", f);
    ctl_print_active(f, unit, st);
    fputc('\n', f);
    print_main_pid(f, unit);

    if (json_array_size(entries) == 0)
        return;
    fputc('\n', f);
    json_array_foreach(entries, i, e)
    {
        ctl_print_journal_entry(f, e, mode, st);
    }
}

/* Writes the message of an entry: text, or the raw bytes of a non-UTF-8 message. */
static void print_message(FILE *f, const json_t *entry)
{
    json_t *msg = json_object_get(entry, "message");
    json_t *bytes = json_object_get(entry, "messageBytes");
    size_t i;
    json_t *b;

    if (json_is_string(msg)) {
        fwrite(json_string_value(msg), 1, json_string_length(msg), f);
        return;
    }
    json_array_foreach(bytes, i, b)
    {
        fputc((int)(json_integer_value(b) & 0xff), f);
    }
}

/* journalctl's priority colours: errors red, warnings yellow, notices bold, debug grey. */
static const char *priority_colour(int64_t priority, const struct ctl_style *st)
{
    if (!st->colour)
        return "";
    if (priority <= 3)
        return ANSI_RED;
    if (priority == 4)
        return ANSI_YELLOW;
    if (priority == 5)
        return ANSI_BOLD;
    if (priority >= 7)
        return ANSI_GREY;
    return "";
}

static void print_time_prefix(FILE *f, uint64_t usec, enum ctl_output_mode mode)
{
    time_t t = (time_t)(usec / USEC_PER_SEC);
    char buf[CTL_TIMESTAMP_MAX];
    struct tm tm;
    size_t n = 0;

    /* Literal formats in each branch keep -Wformat-nonliteral able to check them. */
    if (localtime_r(&t, &tm)) {
        if (mode == CTL_OUTPUT_SHORT_ISO)
            n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S%z", &tm);
        else
            n = strftime(buf, sizeof(buf), "%b %d %H:%M:%S", &tm);
    }
    if (n == 0)
        snprintf(buf, sizeof(buf), "-");
    fputs(buf, f);
    if (mode == CTL_OUTPUT_SHORT_PRECISE)
        fprintf(f, ".%06u", (unsigned)(usec % USEC_PER_SEC));
}

void ctl_print_journal_entry(FILE *f, const json_t *entry, enum ctl_output_mode mode,
                             const struct ctl_style *st)
{
    const char *identifier = str_field(entry, "identifier");
    int64_t pid = int_field(entry, "pid");
    const char *on = priority_colour(
        json_is_integer(json_object_get(entry, "priority")) ? int_field(entry, "priority") : 6, st);

    if (mode == CTL_OUTPUT_JSON) {
        json_dumpf(entry, f, JSON_COMPACT);
        fputc('\n', f);
        return;
    }
    if (mode != CTL_OUTPUT_CAT) {
        print_time_prefix(f, usec_field(entry, "realtime"), mode);
        if (!*identifier)
            identifier = str_field(entry, "unit");
        fprintf(f, " %s %s", st->hostname ? st->hostname : "localhost", identifier);
        if (pid > 0)
            fprintf(f, "[%" PRId64 "]", pid);
        fputs(": ", f);
    }
    fputs(on, f);
    print_message(f, entry);
    fputs(colour_off(on), f);
    fputc('\n', f);
}

static size_t max_len(const json_t *units, const char *key, size_t min)
{
    size_t i, w = min;
    json_t *u;

    json_array_foreach(units, i, u)
    {
        size_t l = strlen(str_field(u, key));
        if (l > w)
            w = l;
    }
    return w;
}

/* One column, padded to `width` unless it is the last one; the colour wraps only the text so
 * the padding stays plain. */
static void print_cell(FILE *f, const char *on, const char *text, int width)
{
    fprintf(f, "%s%s%s", on, text, colour_off(on));
    if (width > 0)
        fprintf(f, "%*s", width - (int)strlen(text) + 1, "");
}

void ctl_print_unit_table(FILE *f, const json_t *units, unsigned flags, const struct ctl_style *st)
{
    int wu = (int)max_len(units, "name", 4), wl = (int)max_len(units, "loadState", 4);
    int wa = (int)max_len(units, "activeState", 6), ws = (int)max_len(units, "subState", 3);
    size_t n = json_array_size(units), i;
    json_t *u;

    if (n > 0 && (flags & CTL_TABLE_LEGEND))
        fprintf(f, "  %-*s %-*s %-*s %-*s %s\n", wu, "UNIT", wl, "LOAD", wa, "ACTIVE", ws, "SUB",
                "DESCRIPTION");
    json_array_foreach(units, i, u)
    {
        const char *load = str_field(u, "loadState");
        const char *active = str_field(u, "activeState");
        const char *description = str_field(u, "description");
        bool failed = streq(active, "failed");
        bool unloaded = !streq(load, "loaded");
        const char *bad = st->colour ? ANSI_RED : "";
        const char *dot_on = "";
        bool dot = flags & CTL_TABLE_DOTS;

        if (dot)
            dot_on = active_colour(active, st);
        else if (failed || unloaded)
            dot = true, dot_on = bad;
        if (dot)
            fprintf(f, "%s" DOT "%s ", dot_on, colour_off(dot_on));
        else
            fputs("  ", f);
        print_cell(f, "", str_field(u, "name"), wu);
        print_cell(f, unloaded ? bad : "", load, wl);
        print_cell(f, failed ? bad : "", active, wa);
        print_cell(f, failed ? bad : "", str_field(u, "subState"), *description ? ws : 0);
        fprintf(f, "%s\n", description);
    }
    if (!(flags & CTL_TABLE_LEGEND))
        return;
    if (n > 0)
        fputs("\n"
              "LOAD   = Reflects whether the unit definition was properly loaded.\n"
              "ACTIVE = The high-level unit activation state, i.e. generalization of SUB.\n"
              "SUB    = The low-level unit activation state, values depend on unit type.\n",
              f);
    fprintf(f, "%zu loaded units listed.%s\n", n,
            (flags & CTL_TABLE_ALL_HINT) ? " Pass --all to see loaded but inactive units, too."
                                         : "");
}
