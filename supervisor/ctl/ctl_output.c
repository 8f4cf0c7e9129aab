/* minisupctl's human output: every line systemctl or journalctl would print, built from the
 * JSON the daemon sent. It reads no clock and no environment (the caller passes "now", the host
 * name and whether to colour), so the exact text is testable. It must not talk to the daemon. */
#include "ctl_output.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unit_show.h"

/* systemd's colours (ANSI_HIGHLIGHT_*), so a terminal shows what systemctl users know. */
#define ANSI_GREEN "\033[0;1;32m"
#define ANSI_RED "\033[0;1;31m"
#define ANSI_YELLOW "\033[0;1;33m"
#define ANSI_BOLD "\033[0;1;39m"
#define ANSI_GREY "\033[0;38;5;245m"
#define ANSI_NORMAL "\033[0m"

#define DOT "\xe2\x97\x8f"          /* U+25CF BLACK CIRCLE, systemctl's unit marker */
#define WHITE_CIRCLE "\xe2\x97\x8b" /* U+25CB: inactive, in status */
#define CROSS "\xc3\x97"            /* U+00D7 MULTIPLICATION SIGN: failed */
#define CIRCLE_ARROW "\xe2\x86\xbb" /* U+21BB: reloading */

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
    [CTL_OUTPUT_SHORT_MONOTONIC] = "short-monotonic",
    [CTL_OUTPUT_JSON_PRETTY] = "json-pretty",
    [CTL_OUTPUT_VERBOSE] = "verbose",
    [CTL_OUTPUT_EXPORT] = "export",
    [CTL_OUTPUT_SHORT_UNIX] = "short-unix",
    [CTL_OUTPUT_SHORT_FULL] = "short-full",
    [CTL_OUTPUT_WITH_UNIT] = "with-unit",
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
    const char *name;

    /* systemctl status: "code=exited, status=1/FAILURE", "code=killed, signal=TERM". */
    if (strcmp(code, "killed") == 0 || strcmp(code, "dumped") == 0) {
        name = ctl_signal_to_string(status);
        if (name)
            snprintf(buf, n, "code=%s, signal=%s", code, name);
        else
            snprintf(buf, n, "code=%s, signal=%d", code, status);
        return buf;
    }
    name = ctl_exit_status_to_string(status);
    if (name)
        snprintf(buf, n, "code=%s, status=%d/%s", code, status, name);
    else
        snprintf(buf, n, "code=%s, status=%d", code, status);
    return buf;
}

char *ctl_format_timestamp(char *buf, size_t n, uint64_t usec)
{
    if (!*unit_show_format_timestamp(buf, n, usec))
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

char *ctl_format_timespan(char *buf, size_t n, uint64_t usec)
{
    static const struct {
        const char *suffix;
        uint64_t usec;
    } parts[] = {{"d", USEC_PER_DAY}, {"h", USEC_PER_HOUR}, {"min", USEC_PER_MINUTE}};
    size_t off = 0;

    buf[0] = '\0';
    if (usec == 0) {
        snprintf(buf, n, "0");
        return buf;
    }
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        if (usec >= parts[i].usec && off < n) {
            off += (size_t)snprintf(buf + off, n - off, "%s%" PRIu64 "%s", off ? " " : "",
                                    usec / parts[i].usec, parts[i].suffix);
            usec %= parts[i].usec;
        }
    if (off >= n)
        return buf;
    if (usec >= USEC_PER_SEC) {
        /* Seconds with the milliseconds as a fraction, trailing zeros dropped: "1.5s". */
        unsigned ms = (unsigned)(usec % USEC_PER_SEC / USEC_PER_MSEC);
        char frac[8] = "";
        if (ms) {
            snprintf(frac, sizeof(frac), ".%03u", ms);
            for (size_t l = strlen(frac); l > 1 && frac[l - 1] == '0'; l--)
                frac[l - 1] = '\0';
        }
        snprintf(buf + off, n - off, "%s%" PRIu64 "%ss", off ? " " : "", usec / USEC_PER_SEC, frac);
    } else if (usec >= USEC_PER_MSEC) {
        snprintf(buf + off, n - off, "%s%" PRIu64 "ms", off ? " " : "", usec / USEC_PER_MSEC);
    } else if (usec > 0 && off == 0) {
        snprintf(buf + off, n - off, "%" PRIu64 "us", usec);
    }
    return buf;
}

/* The unit words of systemd.time(7). */
static uint64_t span_unit(const char *word, size_t len)
{
    static const struct {
        const char *name;
        uint64_t usec;
    } units[] = {
        {"us", 1},
        {"usec", 1},
        {"ms", USEC_PER_MSEC},
        {"msec", USEC_PER_MSEC},
        {"s", USEC_PER_SEC},
        {"sec", USEC_PER_SEC},
        {"second", USEC_PER_SEC},
        {"seconds", USEC_PER_SEC},
        {"m", USEC_PER_MINUTE},
        {"min", USEC_PER_MINUTE},
        {"minute", USEC_PER_MINUTE},
        {"minutes", USEC_PER_MINUTE},
        {"h", USEC_PER_HOUR},
        {"hr", USEC_PER_HOUR},
        {"hour", USEC_PER_HOUR},
        {"hours", USEC_PER_HOUR},
        {"d", USEC_PER_DAY},
        {"day", USEC_PER_DAY},
        {"days", USEC_PER_DAY},
        {"w", USEC_PER_WEEK},
        {"week", USEC_PER_WEEK},
        {"weeks", USEC_PER_WEEK},
        {"M", USEC_PER_MONTH},
        {"month", USEC_PER_MONTH},
        {"months", USEC_PER_MONTH},
        {"y", USEC_PER_YEAR},
        {"year", USEC_PER_YEAR},
        {"years", USEC_PER_YEAR},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strlen(units[i].name) == len && strncmp(word, units[i].name, len) == 0)
            return units[i].usec;
    return 0;
}

int ctl_parse_timespan(const char *s, uint64_t *ret_usec)
{
    uint64_t total = 0;
    bool any = false;

    for (;;) {
        uint64_t whole = 0, unit, frac_num = 0, frac_den = 1;
        const char *word;

        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        if (!isdigit((unsigned char)*s))
            return -EINVAL;
        for (; isdigit((unsigned char)*s); s++) {
            if (whole > (UINT64_MAX - 9) / 10)
                return -ERANGE;
            whole = whole * 10 + (uint64_t)(*s - '0');
        }
        if (*s == '.')
            for (s++; isdigit((unsigned char)*s); s++)
                if (frac_den < UINT64_C(1000000000)) {
                    frac_num = frac_num * 10 + (uint64_t)(*s - '0');
                    frac_den *= 10;
                }
        while (isspace((unsigned char)*s))
            s++;
        for (word = s; isalpha((unsigned char)*s); s++)
            ;
        unit = s == word ? USEC_PER_SEC : span_unit(word, (size_t)(s - word));
        if (unit == 0)
            return -EINVAL;
        if (whole > UINT64_MAX / unit || total > UINT64_MAX - whole * unit)
            return -ERANGE;
        total += whole * unit + (uint64_t)((double)frac_num / (double)frac_den * (double)unit);
        any = true;
    }
    if (!any)
        return -EINVAL;
    *ret_usec = total;
    return 0;
}

static bool has_suffix(const char *s, const char *suffix, size_t *ret_len)
{
    size_t l = strlen(s), sl = strlen(suffix);

    if (l <= sl || strcmp(s + l - sl, suffix) != 0)
        return false;
    *ret_len = l - sl;
    return true;
}

/* now +/- a span written in s[0..len). */
static int relative_time(const char *s, size_t len, bool future, uint64_t now_usec,
                         uint64_t *ret_usec)
{
    char span[64];
    uint64_t d;
    int r;

    if (len >= sizeof(span))
        return -EINVAL;
    memcpy(span, s, len);
    span[len] = '\0';
    r = ctl_parse_timespan(span, &d);
    if (r < 0)
        return r;
    if (future)
        *ret_usec = now_usec + d;
    else
        *ret_usec = d < now_usec ? now_usec - d : 0;
    return 0;
}

/* Local midnight of the day `days` away from now's. */
static int midnight(uint64_t now_usec, int days, uint64_t *ret_usec)
{
    time_t t = (time_t)(now_usec / USEC_PER_SEC);
    struct tm tm;

    if (!localtime_r(&t, &tm))
        return -EINVAL;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_mday += days;
    tm.tm_isdst = -1;
    t = mktime(&tm);
    if (t == (time_t)-1)
        return -EINVAL;
    *ret_usec = (uint64_t)t * USEC_PER_SEC;
    return 0;
}

int ctl_parse_timestamp(const char *s, uint64_t now_usec, uint64_t *ret_usec)
{
    static const struct {
        const char *format;
        bool has_date;
    } formats[] = {
        {"%Y-%m-%d %H:%M:%S", true}, {"%Y-%m-%dT%H:%M:%S", true}, {"%Y-%m-%d %H:%M", true},
        {"%Y-%m-%d", true},          {"%H:%M:%S", false},         {"%H:%M", false},
    };
    time_t now = (time_t)(now_usec / USEC_PER_SEC);
    size_t len;

    tzset(); /* localtime_r() need not, and tzname[] must be right below */
    while (isspace((unsigned char)*s))
        s++;
    if (strcmp(s, "now") == 0) {
        *ret_usec = now_usec;
        return 0;
    }
    if (strcmp(s, "today") == 0)
        return midnight(now_usec, 0, ret_usec);
    if (strcmp(s, "yesterday") == 0)
        return midnight(now_usec, -1, ret_usec);
    if (strcmp(s, "tomorrow") == 0)
        return midnight(now_usec, 1, ret_usec);
    if (*s == '+' || *s == '-')
        return relative_time(s + 1, strlen(s + 1), *s == '+', now_usec, ret_usec);
    if (has_suffix(s, " ago", &len))
        return relative_time(s, len, false, now_usec, ret_usec);
    if (has_suffix(s, " left", &len))
        return relative_time(s, len, true, now_usec, ret_usec);
    if (*s == '@') {
        char *end;
        double v;
        errno = 0;
        v = strtod(s + 1, &end);
        if (errno || end == s + 1 || *end || v < 0 || v > 1e13)
            return -EINVAL;
        *ret_usec = (uint64_t)(v * 1e6);
        return 0;
    }

    /* A leading weekday, as our own timestamps have, is redundant: skip it. */
    if (isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1]) &&
        isalpha((unsigned char)s[2]) && s[3] == ' ')
        s += 4;
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        struct tm tm;
        const char *rest;
        bool utc = false;
        unsigned long usec = 0;
        time_t t;

        if (!localtime_r(&now, &tm))
            return -EINVAL;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        rest = strptime(s, formats[i].format, &tm);
        if (!rest)
            continue;
        if (*rest == '.' && isdigit((unsigned char)rest[1])) {
            /* Microseconds, as short-precise prints them; fewer digits scale up. */
            unsigned digits = 0;
            for (rest++; isdigit((unsigned char)*rest); rest++)
                if (digits < 6) {
                    usec = usec * 10 + (unsigned long)(*rest - '0');
                    digits++;
                }
            for (; digits < 6; digits++)
                usec *= 10;
        }
        if (strcmp(rest, " UTC") == 0 || strcmp(rest, "Z") == 0)
            utc = true;
        else if (*rest == ' ' &&
                 (strcmp(rest + 1, tzname[0]) == 0 || strcmp(rest + 1, tzname[1]) == 0))
            ; /* the local zone's own name */
        else if (*rest)
            continue;
        tm.tm_isdst = -1;
        t = utc ? timegm(&tm) : mktime(&tm);
        if (t < 0)
            return -EINVAL;
        *ret_usec = (uint64_t)t * USEC_PER_SEC + usec;
        return 0;
    }
    return -EINVAL;
}

static int priority_from_string(const char *s, size_t len)
{
    static const char *const names[] = {"emerg",   "alert",  "crit", "err",
                                        "warning", "notice", "info", "debug"};

    if (len == 1 && s[0] >= '0' && s[0] <= '7')
        return s[0] - '0';
    for (int i = 0; i < 8; i++)
        if (strlen(names[i]) == len && strncmp(s, names[i], len) == 0)
            return i;
    return -EINVAL;
}

int ctl_parse_priority(const char *s, int *ret_min, int *ret_max)
{
    const char *dots = strstr(s, "..");
    int a, b;

    if (!dots) {
        a = priority_from_string(s, strlen(s));
        if (a < 0)
            return a;
        *ret_min = 0;
        *ret_max = a;
        return 0;
    }
    a = priority_from_string(s, (size_t)(dots - s));
    b = priority_from_string(dots + 2, strlen(dots + 2));
    if (a < 0 || b < 0)
        return -EINVAL;
    *ret_min = a < b ? a : b;
    *ret_max = a < b ? b : a;
    return 0;
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
     * dead ones, leaving inactive for activating ones and leaving active for deactivating ones
     * (the last change, from a daemon that sends neither). */
    if (streq(active, "active") || streq(active, "reloading"))
        ts = usec_field(unit, "activeEnterTimestamp");
    else if (streq(active, "inactive") || streq(active, "failed"))
        ts = usec_field(unit, "inactiveEnterTimestamp");
    else if (streq(active, "activating") && usec_field(unit, "inactiveExitTimestamp"))
        ts = usec_field(unit, "inactiveExitTimestamp");
    else if (streq(active, "deactivating") && usec_field(unit, "activeExitTimestamp"))
        ts = usec_field(unit, "activeExitTimestamp");
    else
        ts = usec_field(unit, "stateChangeTimestamp");
    if (ts > 0) {
        char abs[CTL_TIMESTAMP_MAX], rel[CTL_TIMESPAN_MAX];
        fprintf(f, " since %s; %s", ctl_format_timestamp(abs, sizeof(abs), ts),
                ctl_format_timestamp_relative(rel, sizeof(rel), ts, st->now_usec));
    }
}

/* systemctl's "Condition:" and "Assert:" lines, after a start that an unmet check stopped. */
static void print_checks(FILE *f, const json_t *unit, const struct ctl_style *st)
{
    static const char *const kinds[2][4] = {
        {"conditionResult", "conditionTimestamp", "failedCondition", "Condition"},
        {"assertResult", "assertTimestamp", "failedAssert", "Assert"},
    };

    for (int k = 0; k < 2; k++) {
        uint64_t ts = usec_field(unit, kinds[k][1]);
        const char *what = str_field(unit, kinds[k][2]);
        char abs[CTL_TIMESTAMP_MAX], rel[CTL_TIMESPAN_MAX];

        if (ts == 0 || json_is_true(json_object_get(unit, kinds[k][0])))
            continue;
        fprintf(f, "%11s: start %s failed at %s; %s\n", kinds[k][3],
                k == 0 ? "condition" : "assertion", ctl_format_timestamp(abs, sizeof(abs), ts),
                ctl_format_timestamp_relative(rel, sizeof(rel), ts, st->now_usec));
        if (*what)
            fprintf(f, "             \u2514\u2500 %s was not met\n", what);
        else
            fprintf(f, "             \u2514\u2500 none of the trigger %ss was met\n",
                    k == 0 ? "condition" : "assertion");
    }
}

/* systemctl's marker of a unit's state in status: a full circle while it is (or is becoming)
 * active, an arrow while it reloads, an empty circle when inactive, a cross when failed. */
static const char *status_glyph(const char *active)
{
    return streq(active, "failed")      ? CROSS
           : streq(active, "inactive")  ? WHITE_CIRCLE
           : streq(active, "reloading") ? CIRCLE_ARROW
                                        : DOT;
}

static void print_loaded(FILE *f, const json_t *unit, const struct ctl_style *st)
{
    const char *load = str_field(unit, "loadState");
    const char *error = str_field(unit, "loadError");
    const char *path = str_field(unit, "fragmentPath");
    /* systemctl colours error, not-found and bad-setting, not masked (asked for). */
    const char *on = st->colour && !streq(load, "loaded") && !streq(load, "masked") ? ANSI_RED : "";

    fprintf(f, "     Loaded: %s%s%s", on, load, colour_off(on));
    if (*error)
        fprintf(f, " (Reason: %s)", error);
    else if (streq(load, "not-found"))
        fprintf(f, " (Reason: Unit %s not found.)", str_field(unit, "name"));
    else if (*path)
        /* As is-enabled words it: without WantedBy=/RequiredBy= a unit is static, since no
         * enable command could make it start at start-up; "disabled" cannot happen. */
        fprintf(f, " (%s; %s)", path,
                json_is_true(json_object_get(unit, "enabled")) ? "enabled" : "static");
    fputc('\n', f);
}

/* systemctl's "Drop-In:" lines: each directory once, with the names of its drop-ins after a
 * tree glyph; a directory comes again when a later drop-in (by name) returns to it. */
static void print_dropins(FILE *f, const json_t *unit)
{
    json_t *list = json_object_get(unit, "dropInPaths");
    size_t n = json_array_size(list), dir_len = 0;
    const char *dir = NULL;

    for (size_t i = 0; i < n; i++) {
        const char *path = json_string_value(json_array_get(list, i));
        const char *slash = path ? strrchr(path, '/') : NULL;
        const char *next = i + 1 < n ? json_string_value(json_array_get(list, i + 1)) : NULL;
        const char *next_slash = next ? strrchr(next, '/') : NULL;
        bool last;

        if (!slash)
            continue;
        if (!dir || (size_t)(slash - path) != dir_len || strncmp(path, dir, dir_len) != 0) {
            fprintf(f, "%s%.*s\n             \u2514\u2500",
                    dir ? "             " : "    Drop-In: ", (int)(slash - path), path);
            dir = path;
            dir_len = (size_t)(slash - path);
        }
        last = !next_slash || (size_t)(next_slash - next) != dir_len ||
               strncmp(next, dir, dir_len) != 0;
        fprintf(f, "%s%s", slash + 1, last ? "\n" : ", ");
    }
}

/* systemctl's "Docs:" lines: the unit's Documentation=, one per line. */
static void print_docs(FILE *f, const json_t *unit)
{
    json_t *docs = json_object_get(unit, "documentation");
    size_t i;
    json_t *d;

    json_array_foreach(docs, i, d)
    {
        fprintf(f, "   %9s %s\n", i == 0 ? "Docs:" : "", json_string_value(d));
    }
}

/* How long the unit was active, for one that is down again (systemctl's "Duration:"). */
static void print_duration(FILE *f, const json_t *unit)
{
    const char *active = str_field(unit, "activeState");
    uint64_t enter = usec_field(unit, "activeEnterTimestamp");
    uint64_t exit = usec_field(unit, "activeExitTimestamp");
    char span[CTL_TIMESPAN_MAX];

    if ((streq(active, "inactive") || streq(active, "failed")) && enter && exit && exit >= enter)
        fprintf(f, "   Duration: %s\n", ctl_format_timespan(span, sizeof(span), exit - enter));
}

/* systemctl's "Process:" lines: each command that ran and ended, the failures in red (yellow
 * when "-" made them harmless). */
static void print_processes(FILE *f, const json_t *unit, const struct ctl_style *st)
{
    json_t *list = json_object_get(unit, "execStatus");
    char exit_text[CTL_EXIT_MAX];
    size_t i;
    json_t *p;

    json_array_foreach(list, i, p)
    {
        const char *code = str_field(p, "code");
        int status = (int)int_field(p, "status");
        /* systemd's is_clean_exit() for daemons: 0, or one of the four polite signals. */
        bool clean = streq(code, "exited")
                         ? status == 0
                         : streq(code, "killed") && (status == SIGHUP || status == SIGINT ||
                                                     status == SIGTERM || status == SIGPIPE);
        const char *on = st->colour && !clean ? ANSI_RED : "";

        ctl_format_exit(exit_text, sizeof(exit_text), code, status);
        fprintf(f, "    Process: %" PRId64 " %s=%s %s(%s)%s\n", int_field(p, "pid"),
                str_field(p, "name"), str_field(p, "argv"), on, exit_text, colour_off(on));
    }
}

/* "Main PID:" with the process's name while it runs, or how it ended; and the control process
 * running now, as systemctl prints them. */
static void print_main_pid(FILE *f, const json_t *unit)
{
    int64_t pid = int_field(unit, "mainPid");
    int64_t exec_pid = int_field(unit, "execMainPid");
    int64_t control = int_field(unit, "controlPid");
    const char *command = str_field(unit, "mainCommand");
    const char *code = str_field(unit, "execMainCode");
    char exit_text[CTL_EXIT_MAX];

    if (pid <= 0 && exec_pid <= 0 && control <= 0)
        return;
    if (pid > 0) {
        fprintf(f, "   Main PID: %" PRId64, pid);
        if (*command)
            fprintf(f, " (%s)", command);
    } else if (exec_pid > 0) {
        fprintf(f, "   Main PID: %" PRId64, exec_pid);
        if (*code)
            fprintf(f, " (%s)",
                    ctl_format_exit(exit_text, sizeof(exit_text), code,
                                    (int)int_field(unit, "execMainStatus")));
    }
    if (control > 0) {
        const char *comm = str_field(unit, "controlCommand");
        /* First in its line, the label is shortened to keep the column. */
        fprintf(f, "%s%" PRId64,
                pid > 0 || exec_pid > 0 ? "; Control PID: " : "  Cntrl PID: ", control);
        if (*comm && !streq(comm, "?"))
            fprintf(f, " (%s)", comm);
    }
    fputc('\n', f);
}

/* The restart counter and how the last run ended, so a crash loop explains itself in status
 * (the whole story is in `minisupctl why`). */
static void print_restarts(FILE *f, const json_t *unit)
{
    json_t *deaths = json_object_get(unit, "deaths");
    size_t n = json_array_size(deaths);
    int64_t restarts = int_field(unit, "nRestarts");
    char exit_text[CTL_EXIT_MAX];

    if (restarts == 0 && n == 0)
        return;
    fprintf(f, "   Restarts: %" PRId64, restarts);
    if (n > 0) {
        const json_t *last = json_array_get(deaths, n - 1);
        const char *code = str_field(last, "code");
        if (*code) {
            ctl_format_exit(exit_text, sizeof(exit_text), code, (int)int_field(last, "status"));
            char ran[64];
            /* The run's length as Duration: writes it ("1.234s", "20min 34s"). */
            fprintf(
                f, "; last death: %s after %s", exit_text,
                ctl_format_timespan(ran, sizeof(ran), (uint64_t)int_field(last, "runtimeUSec")));
        } else {
            fprintf(f, "; last start: %s", str_field(last, "result"));
        }
        fprintf(f, " (%s)",
                json_is_true(json_object_get(last, "restart")) ? "restart scheduled"
                                                               : str_field(last, "reason"));
    }
    fputc('\n', f);
}

/* Processes the last run left running (KillMode=process, or escaped the group). */
static void print_leftovers(FILE *f, const json_t *unit)
{
    json_t *pids = json_object_get(unit, "leftoverPids");
    size_t i;
    json_t *p;

    if (json_array_size(pids) == 0)
        return;
    fputs("   Leftover:", f);
    json_array_foreach(pids, i, p)
    {
        fprintf(f, " %" JSON_INTEGER_FORMAT, json_integer_value(p));
    }
    fputs(" (still running after the unit stopped)\n", f);
}

/* One process of the CGroup: tree. */
struct tree_node {
    int64_t pid, ppid;
    const char *command_line;
    size_t parent; /* index of its parent in the list, n for none (a top-level process) */
};

/* One level of the walk down the tree: the group of siblings being printed, the next of them,
 * where the prefix ends at this level and the siblings' pid column. */
struct tree_frame {
    size_t group, next, prefix_len;
    int width;
};

static int digits(int64_t v)
{
    int d = 1;

    for (; v >= 10; v /= 10)
        d++;
    return d;
}

static const struct tree_node *sort_nodes; /* qsort's comparators take no context */

static int cmp_node_pid(const void *a, const void *b)
{
    int64_t x = sort_nodes[*(const size_t *)a].pid, y = sort_nodes[*(const size_t *)b].pid;

    return x < y ? -1 : x > y;
}

static int cmp_pid_key(const void *key, const void *elem)
{
    int64_t x = *(const int64_t *)key, y = sort_nodes[*(const size_t *)elem].pid;

    return x < y ? -1 : x > y;
}

/* The processes of a unit (its "processes", each {pid, ppid, commandLine}) as a tree under
 * `prefix`: each process under its parent when that is in the list, siblings in pid order, with
 * systemd's glyphs and its pid column, as wide as the widest pid among the siblings. The daemon
 * sends a forest; a list whose parents loop (which no kernel makes) is cut where the loop closes,
 * so every process is printed once, and nothing recurses, however deep the tree. */
static void print_process_tree(FILE *f, const json_t *procs, const char *prefix,
                               const struct ctl_style *st)
{
    size_t n = json_array_size(procs), depth = 0, base = strlen(prefix);
    struct tree_node *v = calloc(n + 1, sizeof(*v));
    size_t *by_pid = calloc(n + 1, sizeof(size_t)), *kids = calloc(n + 1, sizeof(size_t));
    size_t *first = calloc(n + 2, sizeof(size_t)), *path = calloc(n + 1, sizeof(size_t));
    unsigned char *state = calloc(n + 1, 1);
    struct tree_frame *frames = calloc(n + 1, sizeof(*frames));
    /* Two glyphs of three bytes at most per level (a vertical bar and a space). */
    char *pre = malloc(base + 4 * n + 1);
    const char *on = st->colour ? ANSI_GREY : "";

    if (!v || !by_pid || !kids || !first || !path || !state || !frames || !pre)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get(procs, i);
        v[i] = (struct tree_node){int_field(p, "pid"), int_field(p, "ppid"),
                                  str_field(p, "commandLine"), n};
        by_pid[i] = i;
    }
    sort_nodes = v;
    qsort(by_pid, n, sizeof(size_t), cmp_node_pid);
    for (size_t i = 0; i < n; i++) {
        const size_t *hit = v[i].ppid != v[i].pid
                                ? bsearch(&v[i].ppid, by_pid, n, sizeof(size_t), cmp_pid_key)
                                : NULL;
        if (hit)
            v[i].parent = *hit;
    }
    /* Cut loops: walk up from each process not seen yet; meeting the walk itself again means a
     * loop, which is cut there (that process becomes top-level). Each process is walked once. */
    for (size_t i = 0; i < n; i++) {
        size_t len = 0, j = i;
        for (; j != n && state[j] == 0; j = v[j].parent) {
            state[j] = 1;
            path[len++] = j;
        }
        if (j != n && state[j] == 1)
            v[j].parent = n;
        while (len > 0)
            state[path[--len]] = 2;
    }
    /* Children grouped by parent (group n: the top level), each group in pid order: counted
     * into first[], then placed, with path[] (free again) as each group's fill count. */
    for (size_t i = 0; i < n; i++)
        first[v[i].parent + 1]++;
    for (size_t g = 1; g <= n + 1; g++)
        first[g] += first[g - 1];
    memset(path, 0, (n + 1) * sizeof(size_t));
    for (size_t k = 0; k < n; k++) {
        size_t i = by_pid[k], g = v[i].parent;
        kids[first[g] + path[g]++] = i;
    }

    /* pre holds the prefix of the deepest level so far; each line prints its own level's part
     * of it (%.*s), so it is kept NUL-terminated only for tidiness. */
    memcpy(pre, prefix, base + 1);
    frames[depth++] = (struct tree_frame){n, 0, base, 0};
    while (depth > 0) {
        struct tree_frame *fr = &frames[depth - 1];
        size_t count = first[fr->group + 1] - first[fr->group];
        size_t i;
        bool last;

        if (fr->next == count) {
            depth--;
            continue;
        }
        if (fr->next == 0)
            fr->width = digits(v[kids[first[fr->group] + count - 1]].pid);
        i = kids[first[fr->group] + fr->next++];
        last = fr->next == count;
        fprintf(f, "%.*s%s%s%*" PRId64 " %s%s\n", (int)fr->prefix_len, pre,
                last ? "\u2514\u2500" : "\u251c\u2500", on, fr->width, v[i].pid, v[i].command_line,
                colour_off(on));
        if (first[i + 1] > first[i]) {
            const char *seg = last ? "  " : "\u2502 ";
            size_t len = strlen(seg), at = fr->prefix_len;
            memcpy(pre + at, seg, len + 1);
            frames[depth++] = (struct tree_frame){i, 0, at + len, 0};
        }
    }

out:
    free(pre);
    free(frames);
    free(state);
    free(path);
    free(first);
    free(kids);
    free(by_pid);
    free(v);
}

/* systemctl's Tasks:, CPU: and CGroup: lines, for a unit with live processes (GetUnit with
 * "processes"). There is no cgroup: the header names the unit, whose processes follow. Memory:
 * is left out: without a cgroup there is no figure that means what systemd's does. */
static void print_cgroup(FILE *f, const json_t *unit, const struct ctl_style *st)
{
    const json_t *procs = json_object_get(unit, "processes");
    char span[CTL_TIMESPAN_MAX];

    if (json_array_size(procs) == 0)
        return;
    fprintf(f, "      Tasks: %" PRId64, int_field(unit, "tasksCurrent"));
    if (json_is_true(json_object_get(unit, "processesTruncated")))
        fprintf(f, " (counted in the first %zu processes; there are more)", json_array_size(procs));
    fputc('\n', f);
    if (json_is_integer(json_object_get(unit, "cpuUsageUSec")))
        fprintf(f, "        CPU: %s\n",
                ctl_format_timespan(span, sizeof(span), usec_field(unit, "cpuUsageUSec")));
    fprintf(f, "     CGroup: %s\n", str_field(unit, "name"));
    print_process_tree(f, procs, "             ", st);
}

/* What the journal could not keep: records a full disk refused, lines over the rate limit
 * (DISK-*). Silent when nothing was dropped. */
static void print_journal_losses(FILE *f, const json_t *unit, const struct ctl_style *st)
{
    int64_t lost = int_field(unit, "journalLost"),
            unreported = int_field(unit, "journalLostUnreported");
    int64_t suppressed = int_field(unit, "journalSuppressed");
    const char *sep = "";

    if (lost <= 0 && suppressed <= 0)
        return;
    fputs("    Journal: ", f);
    if (lost > 0) {
        fprintf(f, "%s%" PRId64 " record%s could not be stored (%s)%s",
                unreported > 0 && st->colour ? ANSI_RED : "", lost, lost == 1 ? "" : "s",
                str_field(unit, "journalError"), unreported > 0 && st->colour ? ANSI_NORMAL : "");
        if (unreported > 0)
            fprintf(f, ", %" PRId64 " not yet noted in the journal: storage is still failing",
                    unreported);
        sep = "; ";
    }
    if (suppressed > 0)
        fprintf(f, "%s%" PRId64 " line%s suppressed by the rate limit", sep, suppressed,
                suppressed == 1 ? "" : "s");
    fputc('\n', f);
}

/* Socket units: what they activate, where they listen, and for Accept=yes how many connections
 * they took, as systemctl shows them. */
static void print_socket(FILE *f, const json_t *unit)
{
    const char *triggers = str_field(unit, "triggers");
    json_t *listen = json_object_get(unit, "listen");
    size_t i;
    json_t *l;

    if (*triggers)
        fprintf(f, "   Triggers: " DOT " %s\n", triggers);
    json_array_foreach(listen, i, l)
    {
        fprintf(f, "%s%s (%s)\n", i == 0 ? "     Listen: " : "             ",
                str_field(l, "address"), str_field(l, "type"));
    }
    if (strchr(triggers, '@') || int_field(unit, "nAccepted") > 0)
        fprintf(f, "   Accepted: %" PRId64 "; Connected: %" PRId64 ";\n",
                int_field(unit, "nAccepted"), int_field(unit, "nConnections"));
}

/* Services: the sockets that start them, a dot in each socket's state colour, as systemctl's
 * TriggeredBy: lines. */
static void print_triggered_by(FILE *f, const json_t *unit, const struct ctl_style *st)
{
    size_t i;
    json_t *t;

    json_array_foreach(json_object_get(unit, "triggeredBy"), i, t)
    {
        const char *on = active_colour(str_field(t, "activeState"), st);
        fprintf(f, "%s%s" DOT "%s %s\n", i == 0 ? "TriggeredBy: " : "             ", on,
                colour_off(on), str_field(t, "name"));
    }
}

void ctl_print_unit_status(FILE *f, const json_t *unit, const json_t *entries,
                           enum ctl_output_mode mode, const struct ctl_style *st)
{
    const char *name = str_field(unit, "name");
    const char *description = str_field(unit, "description");
    const char *status_text = str_field(unit, "statusText");
    const char *on = active_colour(str_field(unit, "activeState"), st);
    size_t i;
    json_t *e;

    fprintf(f, "%s%s%s %s", on, status_glyph(str_field(unit, "activeState")), colour_off(on), name);
    if (*description && !streq(description, name))
        fprintf(f, " - %s", description);
    fputc('\n', f);
    print_loaded(f, unit, st);
    print_dropins(f, unit);
    fputs("     Active: ", f);
    ctl_print_active(f, unit, st);
    fputc('\n', f);
    print_duration(f, unit);
    print_checks(f, unit, st);
    print_triggered_by(f, unit, st);
    print_docs(f, unit);
    if (json_object_get(unit, "listen"))
        print_socket(f, unit);
    print_processes(f, unit, st);
    print_main_pid(f, unit);
    print_restarts(f, unit);
    print_leftovers(f, unit);
    print_journal_losses(f, unit, st);
    if (*status_text)
        fprintf(f, "     Status: \"%s\"\n", status_text);
    if (int_field(unit, "statusErrno") > 0)
        fprintf(f, "      Error: %" PRId64 " (%s)\n", int_field(unit, "statusErrno"),
                strerror((int)int_field(unit, "statusErrno")));
    print_cgroup(f, unit, st);

    if (json_array_size(entries) > 0) {
        fputc('\n', f);
        json_array_foreach(entries, i, e)
        {
            ctl_print_journal_entry(f, e, mode, st);
        }
    }
    if (json_is_true(json_object_get(unit, "unitFileChanged")))
        fprintf(f,
                "\n%sWarning:%s The unit file or drop-ins of %s changed on disk; daemon-reload "
                "read them, and the new settings apply at the unit's next start.\n",
                st->colour ? ANSI_RED : "", st->colour ? ANSI_NORMAL : "", name);
}

void ctl_print_why(FILE *f, const json_t *unit, const struct ctl_style *st)
{
    const char *name = str_field(unit, "name");
    const char *restart = str_field(unit, "restart");
    json_t *deaths = json_object_get(unit, "deaths");
    int64_t n_restarts = int_field(unit, "nRestarts");
    char span[CTL_TIMESPAN_MAX], when[CTL_TIMESTAMP_MAX], ago[CTL_TIMESPAN_MAX];
    char exit_text[CTL_EXIT_MAX];
    size_t i;
    json_t *d;

    fprintf(f, "%s\n     Active: ", name);
    ctl_print_active(f, unit, st);
    fputc('\n', f);
    if (*restart) {
        fprintf(f,
                "    Restart: %s (start limit: %" PRId64 " starts in %s); %" PRId64
                " automatic restart%s since the last start\n",
                restart, int_field(unit, "startLimitBurst"),
                ctl_format_timespan(span, sizeof(span), usec_field(unit, "startLimitIntervalUSec")),
                n_restarts, n_restarts == 1 ? "" : "s");
    }
    fputc('\n', f);
    if (json_array_size(deaths) == 0) {
        fprintf(f, "No run of %s has ended since minisupd started.\n", name);
        return;
    }
    /* Oldest first, as the daemon keeps them: the story reads top to bottom. */
    json_array_foreach(deaths, i, d)
    {
        const char *code = str_field(d, "code");
        const char *result = str_field(d, "result");
        const char *reason = str_field(d, "reason");
        uint64_t ts = usec_field(d, "timestamp");

        fprintf(f, "%s (%s): ", ctl_format_timestamp(when, sizeof(when), ts),
                ctl_format_timestamp_relative(ago, sizeof(ago), ts, st->now_usec));
        if (*code)
            fprintf(
                f, "ran %s, %s",
                ctl_format_timespan(span, sizeof(span), usec_field(d, "runtimeUSec")),
                ctl_format_exit(exit_text, sizeof(exit_text), code, (int)int_field(d, "status")));
        else
            fputs("never ran", f);
        fprintf(f, " (Result: %s)\n", *result ? result : "unknown");
        if (json_is_true(json_object_get(d, "restart")))
            fprintf(f, "    -> restart #%" PRId64 "%s%s\n", int_field(d, "restartNumber"),
                    *reason ? ": " : "", reason);
        else
            fprintf(f, "    -> not restarted%s%s\n", *reason ? ": " : "", reason);
    }
}

void ctl_print_unit_file(FILE *f, const char *path, const char *text)
{
    size_t len = strlen(text);

    fprintf(f, "# %s\n", path);
    fwrite(text, 1, len, f);
    if (len > 0 && text[len - 1] != '\n')
        fputc('\n', f);
}

/* ---- journal entries, as systemd 252's logs-show.c writes them ---- */

/* Whether s[0..n) is printable as systemd's utf8_is_printable_newline() has it: valid UTF-8
 * (shortest forms, no surrogates, no noncharacters, nothing past U+10FFFF) with no control
 * character but tab, and newline when `newline`: C0, DEL and C1 (U+0080..U+009F) are not.
 * journalctl prints such a value as text; any other is binary data. */
static bool printable(const char *s, size_t n, bool newline)
{
    const unsigned char *p = (const unsigned char *)s;

    for (size_t i = 0; i < n;) {
        uint32_t c = p[i];
        size_t len = c < 0x80             ? 1
                     : (c & 0xe0) == 0xc0 ? 2
                     : (c & 0xf0) == 0xe0 ? 3
                     : (c & 0xf8) == 0xf0 ? 4
                                          : 0;

        if (len == 0 || len > n - i)
            return false;
        if (len > 1) {
            c &= 0x7fu >> len;
            for (size_t k = 1; k < len; k++) {
                if ((p[i + k] & 0xc0) != 0x80)
                    return false;
                c = c << 6 | (p[i + k] & 0x3f);
            }
            if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
                c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) || (c >= 0xfdd0 && c <= 0xfdef) ||
                (c & 0xfffe) == 0xfffe)
                return false;
        }
        if ((c < 0x20 && c != '\t' && !(newline && c == '\n')) || (c >= 0x7f && c <= 0x9f))
            return false;
        i += len;
    }
    return true;
}

#define FORMAT_BYTES_MAX 32 /* "18014398509481983.9E" fits */

/* systemd's format_bytes(): "13B" below 1K, else 1024-based with one decimal, "1.5K", "2.0M". */
static char *format_bytes(char *buf, size_t size, uint64_t t)
{
    static const char suffixes[] = "KMGTPE";

    for (int i = 5; i >= 0; i--) {
        uint64_t factor = UINT64_C(1) << (10 * (i + 1));
        if (t >= factor) {
            uint64_t tenth = i > 0 ? t / (factor >> 10) * 10 / 1024 % 10 : t * 10 / 1024 % 10;
            snprintf(buf, size, "%" PRIu64 ".%" PRIu64 "%c", t / factor, tenth, suffixes[i]);
            return buf;
        }
    }
    snprintf(buf, size, "%" PRIu64 "B", t);
    return buf;
}

/* systemd 252's strip_tab_ansi(), which journalctl's short formats apply unless --all: a tab
 * becomes eight spaces, colour sequences (ESC '[' digits and ';' ... 'm') and operating system
 * commands (ESC ']' printable ASCII ... BEL: terminal hyperlinks) are dropped. Anything else
 * stays, other escape sequences and a lone or truncated one included, so such a message is
 * still not printable afterwards. A new string of *ret_n bytes, NULL on ENOMEM. */
static char *strip_tab_ansi(const char *s, size_t n, size_t *ret_n)
{
    char *out = n < SIZE_MAX / 8 ? malloc(n * 8 + 1) : NULL;
    size_t o = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\t') {
            memcpy(out + o, "        ", 8);
            o += 8;
            continue;
        }
        if (s[i] == '\x1b' && i + 1 < n) {
            size_t j = i + 2;
            if (s[i + 1] == '[') {
                while (j < n && (isdigit((unsigned char)s[j]) || s[j] == ';'))
                    j++;
                if (j < n && s[j] == 'm') {
                    i = j;
                    continue;
                }
            } else if (s[i + 1] == ']') {
                while (j < n && (unsigned char)s[j] >= 32 && (unsigned char)s[j] <= 126)
                    j++;
                if (j < n && s[j] == '\a') {
                    i = j;
                    continue;
                }
            } else {
                /* Another sequence: ESC and the byte after it pass as they are. */
                out[o++] = s[i++];
            }
            /* A sequence not finished as above: ESC passes, what follows is read again. */
        }
        out[o++] = s[i];
    }
    out[o] = '\0';
    *ret_n = o;
    return out;
}

/* The message of an entry, its text or the bytes of messageBytes: s[0..*ret_n). *ret_owned is
 * set when it had to be built; the caller frees it. NULL on ENOMEM. */
static const char *message_data(const json_t *entry, size_t *ret_n, char **ret_owned)
{
    json_t *msg = json_object_get(entry, "message");
    json_t *bytes = json_object_get(entry, "messageBytes"), *b;
    size_t i, n = json_array_size(bytes);
    char *buf;

    *ret_owned = NULL;
    if (json_is_string(msg)) {
        *ret_n = json_string_length(msg);
        return json_string_value(msg);
    }
    buf = malloc(n + 1);
    if (!buf)
        return NULL;
    json_array_foreach(bytes, i, b)
    {
        buf[i] = (char)(json_integer_value(b) & 0xff);
    }
    buf[n] = '\0';
    *ret_n = n;
    *ret_owned = buf;
    return buf;
}

/* systemd's print_multiline() at full width: each line of s[0..n) on a line of its own, in the
 * colour `on`, the lines after the first indented by `indent` columns to stand under the first;
 * a trailing newline adds no empty line, an empty value is an empty line. */
static void print_multiline(FILE *f, int indent, const char *on, const char *s, size_t n)
{
    const char *p = s, *end = s + n;

    if (n == 0)
        fputc('\n', f);
    for (int line = 0; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;

        fprintf(f, "%*s%s", line > 0 ? indent : 0, "", on);
        fwrite(p, 1, (size_t)(e - p), f);
        fprintf(f, "%s\n", colour_off(on));
        p = e + 1;
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

/* Local time, or UTC with --utc (journalctl's localtime_or_gmtime_r()). */
static struct tm *broken_down(uint64_t usec, bool utc, struct tm *tm)
{
    time_t t = (time_t)(usec / USEC_PER_SEC);

    return utc ? gmtime_r(&t, tm) : localtime_r(&t, tm);
}

/* systemd's full timestamp, "Sun 2026-11-22 10:04:17 UTC" (short-full, with-unit), with the
 * microseconds before the zone for verbose's header (micro). Its length, 0 if it did not fit. */
static size_t format_full_timestamp(char *buf, size_t size, uint64_t usec, bool utc, bool micro)
{
    char day[48], zone[16] = "UTC";
    struct tm tm;
    int n;

    if (!broken_down(usec, utc, &tm) ||
        strftime(day, sizeof(day), "%a %Y-%m-%d %H:%M:%S", &tm) == 0)
        return 0;
    if (!utc && strftime(zone, sizeof(zone), "%Z", &tm) == 0)
        zone[0] = '\0';
    n = micro ? snprintf(buf, size, "%s.%06u %s", day, (unsigned)(usec % USEC_PER_SEC), zone)
              : snprintf(buf, size, "%s %s", day, zone);
    return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

/* The timestamp a line of the short modes starts with; returns its width. */
static int print_time_prefix(FILE *f, const json_t *entry, enum ctl_output_mode mode,
                             const struct ctl_style *st)
{
    uint64_t usec = usec_field(entry, "realtime");
    char buf[CTL_TIMESTAMP_MAX];
    struct tm tm;
    size_t n = 0;

    if (mode == CTL_OUTPUT_SHORT_MONOTONIC) {
        usec = usec_field(entry, "monotonic");
        return fprintf(f, "[%5" PRIu64 ".%06" PRIu64 "]", usec / USEC_PER_SEC, usec % USEC_PER_SEC);
    }
    if (mode == CTL_OUTPUT_SHORT_UNIX)
        return fprintf(f, "%10" PRIu64 ".%06" PRIu64, usec / USEC_PER_SEC, usec % USEC_PER_SEC);
    /* The formats stay literals (a choice of two), so -Wformat-nonliteral still checks them. */
    if (mode == CTL_OUTPUT_SHORT_FULL || mode == CTL_OUTPUT_WITH_UNIT)
        n = format_full_timestamp(buf, sizeof(buf), usec, st->utc, false);
    else if (broken_down(usec, st->utc, &tm))
        n = strftime(buf, sizeof(buf),
                     mode == CTL_OUTPUT_SHORT_ISO ? "%Y-%m-%dT%H:%M:%S%z" : "%b %d %H:%M:%S", &tm);
    if (n == 0)
        n = (size_t)snprintf(buf, sizeof(buf), "-");
    fputs(buf, f);
    if (mode == CTL_OUTPUT_SHORT_PRECISE)
        n += (size_t)fprintf(f, ".%06u", (unsigned)(usec % USEC_PER_SEC));
    return (int)n;
}

/* The fields of a JournalEntry under journald's names (systemd.journal-fields(7)), in the
 * order verbose, export and json write them; MESSAGE follows them. */
static const struct {
    const char *json, *journald;
} journal_fields[] = {
    {"realtime", "__REALTIME_TIMESTAMP"},
    {"monotonic", "__MONOTONIC_TIMESTAMP"},
    {"seq", "__SEQNUM"},
    {"unit", "_SYSTEMD_UNIT"},
    {"invocationId", "_SYSTEMD_INVOCATION_ID"},
    {"identifier", "SYSLOG_IDENTIFIER"},
    {"pid", "_PID"},
    {"stream", "_TRANSPORT"},
    {"priority", "PRIORITY"},
};

/* A field's value as export and verbose write it, under journald's rules: empty strings and a
 * zero _PID are left out (journald stores no empty field), as json leaves them out. */
static bool field_text(const json_t *v, const char *name, char *num, size_t size, const char **ret)
{
    if (json_is_string(v) && json_string_length(v) > 0) {
        *ret = json_string_value(v);
        return true;
    }
    if (json_is_integer(v) && (json_integer_value(v) > 0 || strcmp(name, "_PID") != 0)) {
        snprintf(num, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *ret = num;
        return true;
    }
    return false;
}

/* One field of verbose or export. verbose: "    NAME=value", the lines of a value of several
 * indented under its first; a value that is not printable "    NAME=[23B blob data]" unless
 * st->all. export (journald's Journal Export Format): "NAME=value", or for a value with a
 * newline or that is not printable, binary-safe: NAME, a newline, the value's size as a
 * little-endian 64-bit number, the bytes, a newline. */
static void print_field(FILE *f, const char *name, const char *value, size_t n, bool verbose,
                        const struct ctl_style *st)
{
    char size[FORMAT_BYTES_MAX];

    if (verbose) {
        fprintf(f, "    %s=", name);
        if (st->all || printable(value, n, true))
            print_multiline(f, (int)(4 + strlen(name) + 1), "", value, n);
        else
            fprintf(f, "[%s blob data]\n", format_bytes(size, sizeof(size), n));
        return;
    }
    if (printable(value, n, false)) {
        fprintf(f, "%s=", name);
        fwrite(value, 1, n, f);
        fputc('\n', f);
        return;
    }
    fprintf(f, "%s\n", name);
    for (int i = 0; i < 8; i++)
        fputc((int)(((uint64_t)n >> (8 * i)) & 0xff), f);
    fwrite(value, 1, n, f);
    fputc('\n', f);
}

/* verbose and export: the fields json has, _HOSTNAME included. verbose heads each entry with
 * journalctl's microsecond timestamp ("Sun 2026-11-22 10:04:17.281644 UTC") and, in place of
 * journalctl's cursor, the sequence number; the __ fields (timestamps, sequence number) are
 * journalctl's header and cursor there, not fields. export has them first, as journalctl's
 * export does, and ends an entry with a blank line. */
static void print_fields(FILE *f, const json_t *entry, enum ctl_output_mode mode,
                         const struct ctl_style *st)
{
    const size_t n = sizeof(journal_fields) / sizeof(journal_fields[0]);
    bool verbose = mode == CTL_OUTPUT_VERBOSE;
    char num[32], *owned;
    const char *text;
    size_t len;

    if (verbose) {
        char when[CTL_TIMESTAMP_MAX];

        if (format_full_timestamp(when, sizeof(when), usec_field(entry, "realtime"), st->utc,
                                  true) == 0)
            snprintf(when, sizeof(when), "-");
        fprintf(f, "%s [s=%" PRId64 "]\n", when, int_field(entry, "seq"));
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = journal_fields[i].journald;

        if (verbose && strncmp(name, "__", 2) == 0)
            continue;
        if (field_text(json_object_get(entry, journal_fields[i].json), name, num, sizeof(num),
                       &text))
            print_field(f, name, text, strlen(text), verbose, st);
    }
    if (st->hostname && *st->hostname)
        print_field(f, "_HOSTNAME", st->hostname, strlen(st->hostname), verbose, st);
    /* Out of memory: the message is left out rather than written half. */
    text = message_data(entry, &len, &owned);
    if (text)
        print_field(f, "MESSAGE", text, len, verbose, st);
    free(owned);
    if (!verbose)
        fputc('\n', f);
}

/* journalctl's JSON writes a field of this many bytes or more ("NAME=value") as null, unless
 * --all (JSON_THRESHOLD in systemd's logs-show.c). */
#define JSON_FIELD_MAX 4096

/* A field's value as journalctl's JSON has it: a string, an array of byte values when it is
 * not printable UTF-8, or null when too big (not with `all`). `bytes` (messageBytes) is
 * always an array. NULL on ENOMEM. */
static json_t *json_field_value(const char *name, const char *text, size_t len, const json_t *bytes,
                                bool all)
{
    json_t *a;
    size_t i;

    if (bytes)
        len = json_array_size(bytes);
    if (!all && strlen(name) + 1 + len >= JSON_FIELD_MAX)
        return json_null();
    if (!bytes && printable(text, len, true))
        return json_stringn(text, len);
    a = json_array();
    for (i = 0; a && i < len; i++) {
        int v = bytes ? (int)(json_integer_value(json_array_get(bytes, i)) & 0xff)
                      : (unsigned char)text[i];
        if (json_array_append_new(a, json_integer(v)) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* An entry as journalctl -o json writes one: an object of journald's field names (as export
 * and verbose use them) and string values, numbers too, so that `jq -r .MESSAGE` reads it.
 * Empty and absent fields are left out, as journald stores none; _HOSTNAME is the host the
 * short formats name. NULL on ENOMEM. */
static json_t *journal_entry_json(const json_t *entry, const struct ctl_style *st)
{
    const size_t n = sizeof(journal_fields) / sizeof(journal_fields[0]);
    json_t *o = json_object(), *msg = json_object_get(entry, "message");
    json_t *bytes = json_object_get(entry, "messageBytes"), *v;
    char num[32];

    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *name = journal_fields[i].journald;
        json_t *x = json_object_get(entry, journal_fields[i].json);

        const char *text;

        if (!field_text(x, name, num, sizeof(num), &text))
            continue;
        v = json_is_string(x) ? json_field_value(name, text, strlen(text), NULL, st->all)
                              : json_string(text);
        if (json_object_set_new(o, name, v) < 0)
            goto fail;
    }
    if (st->hostname && *st->hostname &&
        json_object_set_new(
            o, "_HOSTNAME",
            json_field_value("_HOSTNAME", st->hostname, strlen(st->hostname), NULL, st->all)) < 0)
        goto fail;
    if (json_is_string(msg))
        v = json_field_value("MESSAGE", json_string_value(msg), json_string_length(msg), NULL,
                             st->all);
    else if (json_is_array(bytes))
        v = json_field_value("MESSAGE", NULL, 0, bytes, st->all);
    else
        return o;
    if (json_object_set_new(o, "MESSAGE", v) < 0)
        goto fail;
    return o;

fail:
    json_decref(o);
    return NULL;
}

void ctl_print_journal_entry(FILE *f, const json_t *entry, enum ctl_output_mode mode,
                             const struct ctl_style *st)
{
    const char *name = str_field(entry, "identifier"), *unit = str_field(entry, "unit");
    int64_t pid = int_field(entry, "pid");
    const char *on = priority_colour(
        json_is_integer(json_object_get(entry, "priority")) ? int_field(entry, "priority") : 6, st);
    char *owned = NULL, *stripped = NULL, size[FORMAT_BYTES_MAX];
    const char *text;
    size_t len;
    int width;

    if (mode == CTL_OUTPUT_JSON || mode == CTL_OUTPUT_JSON_PRETTY) {
        json_t *o = journal_entry_json(entry, st);

        /* Out of memory: the entry is left out rather than written half. */
        if (!o)
            return;
        /* json-pretty: eight spaces, as systemd's pretty JSON (and minisupctl's other
         * commands) indent. */
        json_dumpf(o, f, mode == CTL_OUTPUT_JSON ? JSON_COMPACT : JSON_INDENT(8));
        fputc('\n', f);
        json_decref(o);
        return;
    }
    if (mode == CTL_OUTPUT_VERBOSE || mode == CTL_OUTPUT_EXPORT) {
        print_fields(f, entry, mode, st);
        return;
    }
    text = message_data(entry, &len, &owned);
    if (!text)
        return;
    if (mode == CTL_OUTPUT_CAT) {
        /* journalctl's cat writes the message as it is, binary or not. */
        fputs(on, f);
        fwrite(text, 1, len, f);
        fprintf(f, "%s\n", colour_off(on));
        free(owned);
        return;
    }
    width = print_time_prefix(f, entry, mode, st);
    if (!st->no_hostname)
        width += fprintf(f, " %s", st->hostname ? st->hostname : "localhost");
    /* The identifier, or the unit for lines without one (journalctl would take _COMM);
     * with-unit puts the unit first. */
    if (!*name || (mode == CTL_OUTPUT_WITH_UNIT && *unit))
        name = unit;
    width += fprintf(f, " %s", name);
    if (pid > 0)
        width += fprintf(f, "[%" PRId64 "]", pid);
    fputs(": ", f);
    if (!st->all && (stripped = strip_tab_ansi(text, len, &len)))
        text = stripped;
    if (!st->all && !printable(text, len, true))
        fprintf(f, "[%s blob data]\n", format_bytes(size, sizeof(size), len));
    else
        print_multiline(f, width + 2, on, text, len);
    free(stripped);
    free(owned);
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
    /* JOB only when some unit has a pending job, as systemctl hides the empty column. */
    int wj = (int)max_len(units, "job", 0);
    size_t n = json_array_size(units), i;
    json_t *u;

    if (wj > 0 && wj < 3)
        wj = 3;
    /* The header even over no rows, as systemctl's table prints it (`systemctl --failed` on a
     * healthy machine). */
    if (flags & CTL_TABLE_LEGEND) {
        fprintf(f, "  %-*s %-*s %-*s %-*s ", wu, "UNIT", wl, "LOAD", wa, "ACTIVE", ws, "SUB");
        if (wj > 0)
            fprintf(f, "%-*s ", wj, "JOB");
        fputs("DESCRIPTION\n", f);
    }
    json_array_foreach(units, i, u)
    {
        const char *load = str_field(u, "loadState");
        const char *active = str_field(u, "activeState");
        const char *name = str_field(u, "name");
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
        /* systemd's unit_description(): the name stands in for a missing Description=. */
        if (!*description)
            description = name;
        print_cell(f, "", name, wu);
        print_cell(f, unloaded ? bad : "", load, wl);
        print_cell(f, failed ? bad : "", active, wa);
        print_cell(f, failed ? bad : "", str_field(u, "subState"), *description || wj > 0 ? ws : 0);
        if (wj > 0)
            print_cell(f, "", str_field(u, "job"), *description ? wj : 0);
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
    if (n > 0 && wj > 0)
        fputs("JOB    = Pending job for the unit.\n", f);
    /* systemctl highlights the count, in red when it is zero. */
    const char *count_on = st->colour ? (n > 0 ? ANSI_BOLD : ANSI_RED) : "";
    fprintf(f, "%s%zu loaded units listed.%s%s\n", count_on, n, colour_off(count_on),
            (flags & CTL_TABLE_ALL_HINT) ? " Pass --all to see loaded but inactive units, too."
                                         : "");
}

void ctl_print_socket_table(FILE *f, const json_t *sockets, unsigned flags,
                            const struct ctl_style *st)
{
    int wl = 6, wt = 4, wu = 4;
    size_t rows = 0, i, k;
    json_t *u, *l;

    /* One row per listener: widths from every address, type and unit name. */
    json_array_foreach(sockets, i, u)
    {
        json_array_foreach(json_object_get(u, "listen"), k, l)
        {
            int la = (int)strlen(str_field(l, "address")), lt = (int)strlen(str_field(l, "type"));
            int lu = (int)strlen(str_field(u, "name"));
            wl = la > wl ? la : wl;
            wt = lt > wt ? lt : wt;
            wu = lu > wu ? lu : wu;
            rows++;
        }
    }
    if (flags & CTL_TABLE_LEGEND) {
        fprintf(f, "%-*s ", wl, "LISTEN");
        if (flags & CTL_TABLE_TYPES)
            fprintf(f, "%-*s ", wt, "TYPE");
        fprintf(f, "%-*s %s\n", wu, "UNIT", "ACTIVATES");
    }
    json_array_foreach(sockets, i, u)
    {
        const char *triggers = str_field(u, "triggers");
        json_array_foreach(json_object_get(u, "listen"), k, l)
        {
            print_cell(f, "", str_field(l, "address"), wl);
            if (flags & CTL_TABLE_TYPES)
                print_cell(f, "", str_field(l, "type"), wt);
            print_cell(f, "", str_field(u, "name"), *triggers ? wu : 0);
            fprintf(f, "%s\n", triggers);
        }
    }
    if (!(flags & CTL_TABLE_LEGEND))
        return;
    /* systemctl's output_legend(): a blank line, the count (red when zero), the hint. */
    const char *count_on = st->colour ? (rows > 0 ? ANSI_BOLD : ANSI_RED) : "";
    fprintf(f, "\n%s%zu sockets listed.%s\n", count_on, rows, colour_off(count_on));
    if (flags & CTL_TABLE_ALL_HINT)
        fputs("Pass --all to see loaded but inactive sockets, too.\n", f);
}
