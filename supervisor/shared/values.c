/* Value parsers for unit-file settings: the word splitter with systemd's quoting and C escapes,
 * time spans, booleans, signals, exit statuses, command lines, environment assignments and
 * string lists. Pure functions over strings (load_environment_file() excepted, which reads one
 * file); nothing here logs or keeps global state. */
#include "values.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WHITESPACE " \t\n\r"
#define USEC_PER_MINUTE (60ULL * USEC_PER_SEC)
#define USEC_PER_HOUR (60ULL * USEC_PER_MINUTE)
#define USEC_PER_DAY (24ULL * USEC_PER_HOUR)
#define USEC_PER_WEEK (7ULL * USEC_PER_DAY)
#define USEC_PER_MONTH (2629800ULL * USEC_PER_SEC) /* 30.44 days, as systemd */
#define USEC_PER_YEAR (31557600ULL * USEC_PER_SEC) /* 365.25 days */

/* An environment file is read whole; larger ones are refused rather than buffered. */
#define ENV_FILE_MAX (4U * 1024U * 1024U)

/* ---- strv ---------------------------------------------------------------------------------- */

size_t strv_length(char *const *l)
{
    size_t n = 0;

    if (!l)
        return 0;
    while (l[n])
        n++;
    return n;
}

/* Lists are plain NULL-terminated arrays so that they can be handed to execve() as they are;
 * strv_push() reallocates per element, strv_push_sized() keeps a capacity for long lists. */
int strv_push(char ***l, char *owned)
{
    size_t n = strv_length(*l);
    char **grown;

    if (!owned)
        return -ENOMEM;
    grown = realloc(*l, (n + 2) * sizeof(char *));
    if (!grown) {
        free(owned);
        return -ENOMEM;
    }
    grown[n] = owned;
    grown[n + 1] = NULL;
    *l = grown;
    return 0;
}

int strv_push_sized(char ***l, size_t *n, size_t *cap, char *owned)
{
    if (!owned)
        return -ENOMEM;
    if (*n + 2 > *cap) {
        size_t c = *cap < 4 ? 4 : *cap * 2;
        char **grown = realloc(*l, c * sizeof(char *));

        if (!grown) {
            free(owned);
            return -ENOMEM;
        }
        *l = grown;
        *cap = c;
    }
    (*l)[(*n)++] = owned;
    (*l)[*n] = NULL;
    return 0;
}

int strv_extend(char ***l, const char *s)
{
    return strv_push(l, strdup(s));
}

int strv_split_append(char ***l, const char *s)
{
    const char *p = s;
    size_t n = strv_length(*l), cap = n ? n + 1 : 0;

    for (;;) {
        size_t k;
        int r;

        p += strspn(p, WHITESPACE);
        if (*p == '\0')
            return 0;
        k = strcspn(p, WHITESPACE);
        r = strv_push_sized(l, &n, &cap, strndup(p, k));
        if (r < 0)
            return r;
        p += k;
    }
}

char **strv_free(char **l)
{
    for (size_t i = 0; l && l[i]; i++)
        free(l[i]);
    free(l);
    return NULL;
}

/* ---- words --------------------------------------------------------------------------------- */

static int unhex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -EINVAL;
}

/* Encodes code point c as UTF-8 into out (at least 4 bytes); returns the length. */
static size_t utf8_encode(char *out, uint32_t c)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xe0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* One C escape after a backslash (p points past it), as systemd's cunescape_one(): returns the
 * number of input bytes consumed and the decoded bytes in out/ret_len, or -EINVAL. NUL bytes are
 * refused, since the result ends up in a C string. */
static int cunescape_one(const char *p, char out[4], size_t *ret_len)
{
    static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\\"\"''s ";
    uint32_t c = 0;
    int v;

    for (size_t i = 0; simple[i]; i += 2)
        if (p[0] == simple[i]) {
            out[0] = simple[i + 1];
            *ret_len = 1;
            return 1;
        }

    switch (p[0]) {
    case 'x': {
        int a = unhex(p[1]), b = a < 0 ? -1 : unhex(p[2]);
        if (a < 0 || b < 0 || (a == 0 && b == 0))
            return -EINVAL;
        out[0] = (char)((a << 4) | b);
        *ret_len = 1;
        return 3;
    }
    case 'u':
    case 'U': {
        int digits = p[0] == 'u' ? 4 : 8;
        for (int i = 1; i <= digits; i++) {
            v = unhex(p[i]);
            if (v < 0)
                return -EINVAL;
            c = (c << 4) | (uint32_t)v;
        }
        if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return -EINVAL;
        *ret_len = utf8_encode(out, c);
        return digits + 1;
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
        for (int i = 0; i < 3; i++) {
            if (p[i] < '0' || p[i] > '7')
                return -EINVAL;
            c = (c << 3) | (uint32_t)(p[i] - '0');
        }
        if (c == 0 || c > 255)
            return -EINVAL;
        out[0] = (char)c;
        *ret_len = 1;
        return 3;
    default:
        return -EINVAL;
    }
}

/* A growing, always NUL-terminated byte buffer for building words. */
struct buf {
    char *s;
    size_t n, cap;
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        char *grown;

        while (cap < b->n + n + 1)
            cap *= 2;
        grown = realloc(b->s, cap);
        if (!grown)
            return -ENOMEM;
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
    return 0;
}

static int buf_addc(struct buf *b, char c)
{
    return buf_add(b, &c, 1);
}

/* systemd's extract_first_word() with the flags we need. Quotes may start and end anywhere in a
 * word (a"b c"d is one word, "ab cd"); escapes are processed inside both kinds of quotes, as
 * systemd does with EXTRACT_CUNESCAPE; "" is an empty word, not no word. */
int extract_word(const char **p, char **ret, unsigned flags)
{
    struct buf b = {0};
    const char *s = *p;
    char quote = 0;
    int r = 0;

    *ret = NULL;
    if (!s)
        return 0;
    s += strspn(s, WHITESPACE);
    if (*s == '\0') {
        *p = s;
        return 0;
    }
    /* A word that is present but empty ("") still yields a string. */
    r = buf_add(&b, "", 0);
    if (r < 0)
        goto fail;

    for (; *s; s++) {
        char c = *s;

        if (c == '\\' && (flags & EXTRACT_CUNESCAPE)) {
            char out[4];
            size_t len;
            int k;

            if (s[1] == '\0') {
                if (flags & (EXTRACT_UNESCAPE_RELAX | EXTRACT_RELAX)) {
                    r = buf_addc(&b, '\\');
                    if (r < 0)
                        goto fail;
                    continue;
                }
                r = -EINVAL;
                goto fail;
            }
            k = cunescape_one(s + 1, out, &len);
            if (k > 0) {
                r = buf_add(&b, out, len);
                s += k;
            } else if (flags & EXTRACT_UNESCAPE_RELAX) {
                /* Unknown escapes are kept verbatim, backslash included. */
                r = buf_add(&b, s, 2);
                s++;
            } else {
                r = -EINVAL;
            }
            if (r < 0)
                goto fail;
            continue;
        }
        if (c == '\\' && !(flags & EXTRACT_RETAIN_ESCAPE)) {
            /* Without C unescaping a backslash only protects the next character. */
            if (s[1] == '\0') {
                r = buf_addc(&b, '\\');
                if (r < 0)
                    goto fail;
                continue;
            }
            s++;
            r = buf_addc(&b, *s);
            if (r < 0)
                goto fail;
            continue;
        }
        if (quote) {
            if (c == quote) {
                quote = 0;
                continue;
            }
        } else if ((c == '"' || c == '\'') && (flags & EXTRACT_UNQUOTE)) {
            quote = c;
            continue;
        } else if (strchr(WHITESPACE, c)) {
            break;
        }
        r = buf_addc(&b, c);
        if (r < 0)
            goto fail;
    }
    if (quote && !(flags & EXTRACT_RELAX)) {
        r = -EINVAL;
        goto fail;
    }
    s += strspn(s, WHITESPACE);
    *p = s;
    *ret = b.s;
    return 1;

fail:
    free(b.s);
    return r;
}

/* ---- time spans ---------------------------------------------------------------------------- */

static const char *extract_multiplier(const char *p, uint64_t *ret)
{
    /* Longest spellings first where one is a prefix of another ("ms" before "m"). */
    static const struct {
        const char *suffix;
        uint64_t usec;
    } table[] = {
        {"seconds", USEC_PER_SEC},
        {"second", USEC_PER_SEC},
        {"sec", USEC_PER_SEC},
        {"s", USEC_PER_SEC},
        {"minutes", USEC_PER_MINUTE},
        {"minute", USEC_PER_MINUTE},
        {"min", USEC_PER_MINUTE},
        {"months", USEC_PER_MONTH},
        {"month", USEC_PER_MONTH},
        {"M", USEC_PER_MONTH},
        {"msec", USEC_PER_MSEC},
        {"ms", USEC_PER_MSEC},
        {"m", USEC_PER_MINUTE},
        {"hours", USEC_PER_HOUR},
        {"hour", USEC_PER_HOUR},
        {"hr", USEC_PER_HOUR},
        {"h", USEC_PER_HOUR},
        {"days", USEC_PER_DAY},
        {"day", USEC_PER_DAY},
        {"d", USEC_PER_DAY},
        {"weeks", USEC_PER_WEEK},
        {"week", USEC_PER_WEEK},
        {"w", USEC_PER_WEEK},
        {"years", USEC_PER_YEAR},
        {"year", USEC_PER_YEAR},
        {"y", USEC_PER_YEAR},
        {"usec", 1},
        {"us", 1},
        {"\xce\xbcs", 1},
        {"\xc2\xb5s", 1},
    };

    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        size_t n = strlen(table[i].suffix);
        if (strncmp(p, table[i].suffix, n) == 0) {
            *ret = table[i].usec;
            return p + n;
        }
    }
    return p;
}

/* systemd's parse_time(): a sum of number-unit pairs, blanks allowed between and inside them
 * ("1 min 30 s"); a number may have a fraction ("1.5s"); every step is overflow-checked so that
 * a huge value is -ERANGE rather than a wrapped small one. */
int parse_timespan(const char *t, uint64_t default_unit, uint64_t *ret_usec)
{
    const char *p = t + strspn(t, WHITESPACE);
    uint64_t usec = 0;

    if (strncmp(p, "infinity", 8) == 0) {
        const char *rest = p + 8;
        if (rest[strspn(rest, WHITESPACE)] != '\0')
            return -EINVAL;
        *ret_usec = USEC_INFINITY;
        return 0;
    }

    do {
        uint64_t multiplier = default_unit, k;
        const char *s;
        long long l;
        char *e;

        /* strtoll() would accept a sign and leading blanks; systemd's parser does too, and
         * refuses negative values below. */
        errno = 0;
        l = strtoll(p, &e, 10);
        if (errno > 0)
            return -errno;
        if (l < 0)
            return -ERANGE;
        if (*e == '.') {
            p = e + 1;
            p += strspn(p, "0123456789");
        } else if (e == p) {
            return -EINVAL;
        } else {
            p = e;
        }

        s = extract_multiplier(p + strspn(p, WHITESPACE), &multiplier);
        if (s == p && *s != '\0')
            return -EINVAL; /* "12.34.56" */
        p = s;

        /* systemd refuses l >= USEC_INFINITY / multiplier, which also turns away counts whose
         * product fits ("584542y", what format_timespan() writes from 584542 years on); refuse
         * only a product that would reach USEC_INFINITY. */
        if ((uint64_t)l > (USEC_INFINITY - 1) / multiplier)
            return -ERANGE;
        k = (uint64_t)l * multiplier;
        if (k >= USEC_INFINITY - usec)
            return -ERANGE;
        usec += k;

        if (*e == '.') {
            uint64_t m = multiplier / 10;
            const char *b;

            for (b = e + 1; *b >= '0' && *b <= '9'; b++, m /= 10) {
                k = (uint64_t)(*b - '0') * m;
                if (k >= USEC_INFINITY - usec)
                    return -ERANGE;
                usec += k;
            }
            if (b == e + 1)
                return -EINVAL; /* "3." or "3.sec" */
        }
        p += strspn(p, WHITESPACE);
    } while (*p != '\0');

    *ret_usec = usec;
    return 0;
}

char *format_timespan(char *buf, size_t size, uint64_t t)
{
    static const struct {
        const char *suffix;
        uint64_t usec;
    } table[] = {
        {"y", USEC_PER_YEAR}, {"month", USEC_PER_MONTH}, {"w", USEC_PER_WEEK},
        {"d", USEC_PER_DAY},  {"h", USEC_PER_HOUR},      {"min", USEC_PER_MINUTE},
        {"s", USEC_PER_SEC},  {"ms", USEC_PER_MSEC},     {"us", 1},
    };
    char *p = buf;
    size_t l = size;

    if (size == 0)
        return buf;
    if (t == USEC_INFINITY || t == 0) {
        snprintf(buf, size, "%s", t == 0 ? "0" : "infinity");
        return buf;
    }

    /* Same algorithm as systemd's format_timespan() with accuracy 1us: the largest units
     * first, and under a minute a remainder becomes a decimal fraction ("1.500000s"). */
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]) && t > 0 && l > 1; i++) {
        uint64_t a, b;
        int k;

        if (t < table[i].usec)
            continue;
        a = t / table[i].usec;
        b = t % table[i].usec;
        if (t < USEC_PER_MINUTE && b > 0) {
            int j = 0;

            for (uint64_t cc = table[i].usec; cc > 1; cc /= 10)
                j++;
            k = snprintf(p, l, "%s%" PRIu64 ".%0*" PRIu64 "%s", p > buf ? " " : "", a, j, b,
                         table[i].suffix);
            t = 0;
        } else {
            k = snprintf(p, l, "%s%" PRIu64 "%s", p > buf ? " " : "", a, table[i].suffix);
            t = b;
        }
        if (k < 0)
            break;
        if ((size_t)k >= l)
            k = (int)(l - 1);
        p += k;
        l -= (size_t)k;
    }
    *p = '\0';
    return buf;
}

/* ---- sizes ----------------------------------------------------------------------------------- */

/* systemd's parse_size(): a sum of number-suffix pairs, largest suffix first ("1G 512M"), blanks
 * allowed; a number may have a fraction ("1.5G"). The fraction is computed exactly and then
 * truncated, where systemd goes through a double; both give 1610612736 for "1.5G". */
int parse_size(const char *t, uint64_t base, uint64_t *ret)
{
    static const char suffixes[] = "EPTGMKB";
    const char *p = t;
    size_t start = 0;
    uint64_t size = 0;

    if (base != 1000 && base != 1024)
        return -EINVAL;
    do {
        uint64_t l, factor = 1, frac_num = 0, frac_den = 1, k;
        size_t i;
        char *e;

        p += strspn(p, WHITESPACE);
        if (*p == '-')
            return -ERANGE;
        if (*p < '0' || *p > '9')
            return -EINVAL;
        errno = 0;
        l = strtoull(p, &e, 10);
        if (errno > 0)
            return -errno;
        if (*e == '.') {
            /* Digits past the 18th cannot change the result by a byte worth keeping. */
            for (e++; *e >= '0' && *e <= '9'; e++)
                if (frac_den < UINT64_C(1000000000000000000)) {
                    frac_num = frac_num * 10 + (uint64_t)(*e - '0');
                    frac_den *= 10;
                }
        }
        e += strspn(e, WHITESPACE);

        /* The suffix, no larger than the previous one's successor; none means bytes. */
        for (i = start; i < sizeof(suffixes) - 1; i++)
            if (*e == suffixes[i])
                break;
        if (i < sizeof(suffixes) - 1) {
            for (size_t j = i + 1; j < sizeof(suffixes) - 1; j++)
                factor *= base;
            e++;
            start = i + 1;
        } else if (*e != '\0') {
            return -EINVAL;
        } else {
            start = sizeof(suffixes) - 1;
        }

        if (l > UINT64_MAX / factor)
            return -ERANGE;
        k = l * factor;
        if (frac_num > 0) {
            unsigned __int128 f = (unsigned __int128)frac_num * factor / frac_den;
            if (f > UINT64_MAX - k)
                return -ERANGE;
            k += (uint64_t)f;
        }
        if (k > UINT64_MAX - size)
            return -ERANGE;
        size += k;
        p = e;
        p += strspn(p, WHITESPACE);
    } while (*p != '\0');

    *ret = size;
    return 0;
}

/* ---- booleans, signals, exit statuses ------------------------------------------------------ */

/* The spellings of systemd's parse_boolean(). */
int parse_boolean(const char *s)
{
    static const char *const yes[] = {"1", "yes", "y", "true", "t", "on"};
    static const char *const no[] = {"0", "no", "n", "false", "f", "off"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return 1;
        if (strcasecmp(s, no[i]) == 0)
            return 0;
    }
    return -EINVAL;
}

/* Linux signal names without the SIG prefix, as signal_to_string() prints them. */
static const char *const signal_names[] = {
    [SIGHUP] = "HUP",   [SIGINT] = "INT",       [SIGQUIT] = "QUIT", [SIGILL] = "ILL",
    [SIGTRAP] = "TRAP", [SIGABRT] = "ABRT",     [SIGBUS] = "BUS",   [SIGFPE] = "FPE",
    [SIGKILL] = "KILL", [SIGUSR1] = "USR1",     [SIGSEGV] = "SEGV", [SIGUSR2] = "USR2",
    [SIGPIPE] = "PIPE", [SIGALRM] = "ALRM",     [SIGTERM] = "TERM", [SIGSTKFLT] = "STKFLT",
    [SIGCHLD] = "CHLD", [SIGCONT] = "CONT",     [SIGSTOP] = "STOP", [SIGTSTP] = "TSTP",
    [SIGTTIN] = "TTIN", [SIGTTOU] = "TTOU",     [SIGURG] = "URG",   [SIGXCPU] = "XCPU",
    [SIGXFSZ] = "XFSZ", [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF", [SIGWINCH] = "WINCH",
    [SIGIO] = "IO",     [SIGPWR] = "PWR",       [SIGSYS] = "SYS",
};

const char *signal_to_string(int signo)
{
    if (signo <= 0 || (size_t)signo >= sizeof(signal_names) / sizeof(signal_names[0]))
        return NULL;
    return signal_names[signo];
}

/* Parses a decimal number in [0, max] with nothing else around it. */
static int parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
    unsigned long v;
    char *e;

    if (!isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &e, 10);
    if (errno > 0)
        return -errno;
    if (*e != '\0')
        return -EINVAL;
    if (v > max)
        return -ERANGE;
    *ret = v;
    return 0;
}

/* Numbers 1..SIGRTMAX, names with or without "SIG", and the real-time forms. */
int parse_signal(const char *s)
{
    unsigned long n;
    const char *name = s;

    if (parse_uint(s, (unsigned long)SIGRTMAX, &n) >= 0)
        return n >= 1 ? (int)n : -EINVAL;

    if (strncmp(name, "SIG", 3) == 0)
        name += 3;
    for (size_t i = 1; i < sizeof(signal_names) / sizeof(signal_names[0]); i++)
        if (signal_names[i] && strcmp(name, signal_names[i]) == 0)
            return (int)i;
    if (strcmp(name, "POLL") == 0)
        return SIGIO;
    if (strcmp(name, "IOT") == 0)
        return SIGABRT;

    /* Real-time signals: RTMIN, RTMIN+n, RTMAX, RTMAX-n (systemd's signal_from_string()). */
    if (strncmp(name, "RTMIN", 5) == 0 || strncmp(name, "RTMAX", 5) == 0) {
        bool min = name[4] == 'N';
        const char *rest = name + 5;
        int base = min ? SIGRTMIN : SIGRTMAX;

        if (*rest == '\0')
            return base;
        if (*rest != (min ? '+' : '-'))
            return -EINVAL;
        if (parse_uint(rest + 1, (unsigned long)(SIGRTMAX - SIGRTMIN), &n) < 0)
            return -EINVAL;
        return min ? base + (int)n : base - (int)n;
    }
    return -EINVAL;
}

/* Symbolic exit codes systemd accepts besides numbers: LSB, BSD sysexits and its own. */
static const struct {
    const char *name;
    uint8_t status;
} exit_status_names[] = {
    /* clang-format off */
    {"SUCCESS", 0}, {"FAILURE", 1}, {"INVALIDARGUMENT", 2}, {"NOTIMPLEMENTED", 3},
    {"NOPERMISSION", 4}, {"NOTINSTALLED", 5}, {"NOTCONFIGURED", 6}, {"NOTRUNNING", 7},
    {"USAGE", 64}, {"DATAERR", 65}, {"NOINPUT", 66}, {"NOUSER", 67}, {"NOHOST", 68},
    {"UNAVAILABLE", 69}, {"SOFTWARE", 70}, {"OSERR", 71}, {"OSFILE", 72}, {"CANTCREAT", 73},
    {"IOERR", 74}, {"TEMPFAIL", 75}, {"PROTOCOL", 76}, {"NOPERM", 77}, {"CONFIG", 78},
    {"CHDIR", 200}, {"NICE", 201}, {"FDS", 202}, {"EXEC", 203}, {"MEMORY", 204}, {"LIMITS", 205},
    {"OOM_ADJUST", 206}, {"SIGNAL_MASK", 207}, {"STDIN", 208}, {"STDOUT", 209}, {"CHROOT", 210},
    {"IOPRIO", 211}, {"TIMERSLACK", 212}, {"SECUREBITS", 213}, {"SETSCHEDULER", 214},
    {"CPUAFFINITY", 215}, {"GROUP", 216}, {"USER", 217}, {"CAPABILITIES", 218}, {"CGROUP", 219},
    {"SETSID", 220}, {"CONFIRM", 221}, {"STDERR", 222}, {"PAM", 224}, {"NETWORK", 225},
    {"NAMESPACE", 226}, {"NO_NEW_PRIVILEGES", 227}, {"SECCOMP", 228}, {"SELINUX_CONTEXT", 229},
    {"PERSONALITY", 230}, {"APPARMOR_PROFILE", 231}, {"ADDRESS_FAMILIES", 232},
    {"RUNTIME_DIRECTORY", 233}, {"CHOWN", 235}, {"SMACK_PROCESS_LABEL", 236}, {"KEYRING", 237},
    {"STATE_DIRECTORY", 238}, {"CACHE_DIRECTORY", 239}, {"LOGS_DIRECTORY", 240},
    {"CONFIGURATION_DIRECTORY", 241}, {"NUMA_POLICY", 242}, {"CREDENTIALS", 243}, {"BPF", 245},
    {"EXCEPTION", 255},
    /* clang-format on */
};

/* Each word is tried as an exit status first (a number, or a name from the table above), then
 * as a signal name: the order of systemd's config_parse_set_status(). */
int parse_exit_status_set(const char *s, struct exit_status_set *set)
{
    const char *p = s;
    int r = 0;

    if (s[strspn(s, WHITESPACE)] == '\0') {
        memset(set, 0, sizeof(*set));
        return 0;
    }
    for (;;) {
        char word[64];
        size_t n;
        unsigned long v;
        int sig;
        bool found = false;

        p += strspn(p, WHITESPACE);
        if (*p == '\0')
            break;
        n = strcspn(p, WHITESPACE);
        if (n >= sizeof(word)) {
            r = -EINVAL;
            p += n;
            continue;
        }
        memcpy(word, p, n);
        word[n] = '\0';
        p += n;

        /* Numbers are exit statuses first (systemd parses "15" as status 15, not SIGTERM). */
        if (parse_uint(word, 255, &v) >= 0) {
            set->status[v / 8] |= (uint8_t)(1U << (v % 8));
            continue;
        }
        for (size_t i = 0; i < sizeof(exit_status_names) / sizeof(exit_status_names[0]); i++)
            if (strcmp(word, exit_status_names[i].name) == 0) {
                uint8_t st = exit_status_names[i].status;
                set->status[st / 8] |= (uint8_t)(1U << (st % 8));
                found = true;
                break;
            }
        if (found)
            continue;
        sig = parse_signal(word);
        if (sig > 0 && sig < 64 && !isdigit((unsigned char)word[0])) {
            set->signals |= 1ULL << sig;
            continue;
        }
        r = -EINVAL;
    }
    return r;
}

bool exit_status_set_has_status(const struct exit_status_set *set, int status)
{
    if (status < 0 || status > 255)
        return false;
    return set->status[status / 8] & (1U << (status % 8));
}

bool exit_status_set_has_signal(const struct exit_status_set *set, int signo)
{
    if (signo <= 0 || signo >= 64)
        return false;
    return set->signals & (1ULL << signo);
}

bool exit_status_set_is_empty(const struct exit_status_set *set)
{
    for (size_t i = 0; i < sizeof(set->status); i++)
        if (set->status[i])
            return false;
    return set->signals == 0;
}

/* ---- command lines ------------------------------------------------------------------------- */

/* Frees what one command owns and leaves it zeroed. */
static void exec_command_done(struct exec_command *c)
{
    free(c->path);
    strv_free(c->argv);
    free(c->argv0);
    memset(c, 0, sizeof(*c));
}

void exec_list_done(struct exec_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        exec_command_done(&list->items[i]);
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

/* Formats a diagnostic for the caller's hook; command lines never log themselves. */
static void exec_diag(const struct exec_parse_hooks *h, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void exec_diag(const struct exec_parse_hooks *h, bool error, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    int r;

    if (!h || !h->diag)
        return;
    va_start(ap, fmt);
    r = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (r < 0)
        return;
    h->diag(h->userdata, error, msg);
    free(msg);
}

/* extract_first_word_and_warn(): a strict try, then one that keeps unknown escapes verbatim
 * with a warning. Returns 1, 0 at the end, -EINVAL for unbalanced quoting (not reported: the
 * caller knows whether that is fatal) or -ENOMEM. */
static int exec_word(const char **p, char **ret, const struct exec_parse_hooks *h)
{
    const char *save = *p;
    int r;

    r = extract_word(p, ret, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE);
    if (r != -EINVAL)
        return r;
    *p = save;
    r = extract_word(p, ret, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE | EXTRACT_UNESCAPE_RELAX);
    if (r >= 0)
        exec_diag(h, false, "Ignoring unknown escape sequences: \"%s\"", *ret);
    return r;
}

/* Specifier expansion of one word through the caller's hook; *ret is a new string. */
static int resolve_word(const struct exec_parse_hooks *h, const char *word, char **ret)
{
    if (!h || !h->resolve) {
        *ret = strdup(word);
        return *ret ? 0 : -ENOMEM;
    }
    return h->resolve(h->userdata, word, ret);
}

/* A path is acceptable when absolute, or a plain file name to look up in PATH later. */
static bool exec_path_is_valid(const char *path)
{
    if (path[0] == '/')
        return strlen(path) < PATH_MAX;
    if (strchr(path, '/') || strcmp(path, ".") == 0 || strcmp(path, "..") == 0)
        return false;
    return strlen(path) <= NAME_MAX;
}

static bool string_is_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < ' ' || *p == 127 || strchr("\\\"'", *p))
            return false;
    return true;
}

/* Parses the prefixes of the first word into cmd->flags; returns the rest of the word. */
static const char *exec_prefixes(const char *f, struct exec_command *cmd)
{
    const unsigned priv = EXEC_FLAG_FULL_PRIVILEGES | EXEC_FLAG_NO_SETUID | EXEC_FLAG_AMBIENT;

    /* Each prefix at most once, in any order; "+", "!" and "!!" exclude each other. */
    for (;; f++) {
        if (*f == '-' && !(cmd->flags & EXEC_FLAG_IGNORE_FAILURE))
            cmd->flags |= EXEC_FLAG_IGNORE_FAILURE;
        else if (*f == '@' && !(cmd->flags & EXEC_FLAG_ARGV0))
            cmd->flags |= EXEC_FLAG_ARGV0;
        else if (*f == ':' && !(cmd->flags & EXEC_FLAG_NO_ENV_EXPAND))
            cmd->flags |= EXEC_FLAG_NO_ENV_EXPAND;
        else if (*f == '+' && !(cmd->flags & priv))
            cmd->flags |= EXEC_FLAG_FULL_PRIVILEGES;
        else if (*f == '!' && !(cmd->flags & priv))
            cmd->flags |= EXEC_FLAG_NO_SETUID;
        else if (*f == '!' && !(cmd->flags & (EXEC_FLAG_FULL_PRIVILEGES | EXEC_FLAG_AMBIENT))) {
            cmd->flags &= ~(unsigned)EXEC_FLAG_NO_SETUID;
            cmd->flags |= EXEC_FLAG_AMBIENT;
        } else
            return f;
    }
}

/* Parses one command starting at *p into cmd. Returns 0 on success (with *semicolon set when
 * another command follows), 1 when the command is to be ignored with a warning, -EINVAL when it
 * is a fatal error (reported through the hooks), -ENOMEM. */
static int exec_parse_one(const char **p, const char *rvalue, const struct exec_parse_hooks *h,
                          struct exec_command *cmd, bool *semicolon, const char **reterr_msg)
{
    char *first = NULL, *word = NULL;
    const char *f, *why = NULL;
    bool ignore = false;
    size_t argc = 0, cap = 0; /* of cmd->argv, which long command lines make worth tracking */
    int r;

    r = exec_word(p, &first, h);
    if (r == -EINVAL) {
        /* systemd ignores a command whose first word is unparsable, with a warning. */
        exec_diag(h, false, "Unbalanced quoting, ignoring: \"%s\"", rvalue);
        if (reterr_msg)
            *reterr_msg = "Unbalanced quoting";
        return 1;
    }
    if (r < 0)
        return r;
    if (r == 0)
        return 2; /* nothing left */
    if (strcmp(first, ";") == 0) {
        free(first);
        *semicolon = true;
        return 3; /* an empty command between separators */
    }

    f = exec_prefixes(first, cmd);
    ignore = cmd->flags & EXEC_FLAG_IGNORE_FAILURE;
    r = resolve_word(h, f, &cmd->path);
    if (r < 0) {
        if (r != -ENOMEM) {
            exec_diag(h, !ignore, "Failed to resolve specifiers in '%s'%s.", f,
                      ignore ? ", ignoring" : "");
            if (reterr_msg)
                *reterr_msg = "Failed to resolve specifiers";
            r = -EINVAL;
        }
        goto out;
    }

    if (cmd->path[0] == '\0')
        why = "Empty path in command line";
    else if (!string_is_safe(cmd->path))
        why = "Executable name contains special characters";
    else if (cmd->path[strlen(cmd->path) - 1] == '/')
        why = "Executable path specifies a directory";
    else if (!exec_path_is_valid(cmd->path))
        why = "Neither a valid executable name nor an absolute path";
    if (why) {
        char *msg = NULL;

        if (h && h->diag &&
            asprintf(&msg, "%s%s: %s", why, ignore ? ", ignoring" : "", rvalue) >= 0) {
            h->diag(h->userdata, !ignore, msg);
            free(msg);
        }
        if (reterr_msg)
            *reterr_msg = why;
        r = -EINVAL;
        goto out;
    }

    if (!(cmd->flags & EXEC_FLAG_ARGV0)) {
        r = strv_push_sized(&cmd->argv, &argc, &cap, strdup(cmd->path));
        if (r < 0)
            goto out;
    }

    while (**p) {
        const char *s = *p;
        char *resolved = NULL;

        /* A lone ";" separates commands; "\;" is a literal semicolon argument. */
        if (s[0] == ';' && (!s[1] || strchr(WHITESPACE, s[1]))) {
            *p = s + 1 + strspn(s + 1, WHITESPACE);
            *semicolon = true;
            break;
        }
        if (s[0] == '\\' && s[1] == ';' && (!s[2] || strchr(WHITESPACE, s[2]))) {
            *p = s + 2 + strspn(s + 2, WHITESPACE);
            r = strv_push_sized(&cmd->argv, &argc, &cap, strdup(";"));
            if (r < 0)
                goto out;
            continue;
        }
        r = exec_word(p, &word, h);
        if (r == -EINVAL) {
            exec_diag(h, !ignore, "Unbalanced quoting%s: \"%s\"", ignore ? ", ignoring" : "",
                      rvalue);
            if (reterr_msg)
                *reterr_msg = "Unbalanced quoting";
            goto out;
        }
        if (r < 0)
            goto out;
        if (r == 0)
            break;
        r = resolve_word(h, word, &resolved);
        if (r < 0) {
            if (r != -ENOMEM) {
                exec_diag(h, !ignore, "Failed to resolve specifiers in '%s'%s.", word,
                          ignore ? ", ignoring" : "");
                if (reterr_msg)
                    *reterr_msg = "Failed to resolve specifiers";
                r = -EINVAL;
            }
            goto out;
        }
        free(word);
        word = NULL;
        r = strv_push_sized(&cmd->argv, &argc, &cap, resolved);
        if (r < 0)
            goto out;
    }

    if (strv_length(cmd->argv) == 0) {
        exec_diag(h, !ignore, "Empty executable name or zeroeth argument%s: %s",
                  ignore ? ", ignoring" : "", rvalue);
        if (reterr_msg)
            *reterr_msg = "Empty executable name or zeroeth argument";
        r = -EINVAL;
        goto out;
    }

    /* Our argv[0] is always the path; the "@" override travels in argv0. */
    if (cmd->flags & EXEC_FLAG_ARGV0) {
        char *path = strdup(cmd->path);

        if (!path) {
            r = -ENOMEM;
            goto out;
        }
        cmd->argv0 = cmd->argv[0];
        cmd->argv[0] = path;
    }
    r = 0;

out:
    free(first);
    free(word);
    if (r == -EINVAL && ignore)
        r = 1;
    return r;
}

int parse_exec_line_full(const char *s, unsigned line, const struct exec_parse_hooks *h,
                         struct exec_list *list, const char **reterr_msg)
{
    const char *p = s, *rvalue = s;
    bool semicolon;

    do {
        struct exec_command cmd = {.line = line};
        struct exec_command *grown;
        int r;

        semicolon = false;
        r = exec_parse_one(&p, rvalue, h, &cmd, &semicolon, reterr_msg);
        if (r != 0) {
            exec_command_done(&cmd);
            if (r == 2)
                return 0;
            if (r == 3)
                continue;
            return r;
        }
        grown = realloc(list->items, (list->n + 1) * sizeof(*grown));
        if (!grown) {
            exec_command_done(&cmd);
            return -ENOMEM;
        }
        list->items = grown;
        list->items[list->n++] = cmd;
        rvalue = p;
    } while (semicolon);

    return 0;
}

int parse_exec_line(const char *s, unsigned line, struct exec_list *list, const char **reterr_msg)
{
    int r = parse_exec_line_full(s, line, NULL, list, reterr_msg);

    if (r > 0) {
        if (reterr_msg && !*reterr_msg)
            *reterr_msg = "Invalid command line";
        return -EINVAL;
    }
    return r;
}

/* systemd's replace_env() for one word: "${NAME}" is substituted (empty when unset), "$$" is a
 * single "$", anything else is kept. */
static char *replace_env(const char *word, char *const *env)
{
    struct buf b = {0};
    const char *p = word;

    if (buf_add(&b, "", 0) < 0)
        return NULL;
    while (*p) {
        if (p[0] == '$' && p[1] == '$') {
            if (buf_addc(&b, '$') < 0)
                goto oom;
            p += 2;
        } else if (p[0] == '$' && p[1] == '{' && strchr(p + 2, '}')) {
            const char *end = strchr(p + 2, '}');
            size_t n = (size_t)(end - (p + 2));
            const char *v = NULL;

            for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], p + 2, n) == 0 && env[i][n] == '=') {
                    v = env[i] + n + 1;
                    break;
                }
            if (v && buf_add(&b, v, strlen(v)) < 0)
                goto oom;
            p = end + 1;
        } else {
            if (buf_addc(&b, *p) < 0)
                goto oom;
            p++;
        }
    }
    return b.s;
oom:
    free(b.s);
    return NULL;
}

/* systemd's replace_env_argv(), run at spawn time: the environment is only known then. */
char **exec_command_expand(const struct exec_command *cmd, char *const *env)
{
    char **out = NULL;
    size_t n = 0, cap = 0;

    if (!cmd->argv || !cmd->argv[0])
        return NULL;
    /* argv[0] is the path to execute and is never expanded. */
    if (strv_push_sized(&out, &n, &cap, strdup(cmd->argv[0])) < 0)
        return NULL;
    for (size_t i = 1; cmd->argv[i]; i++) {
        const char *w = cmd->argv[i];

        if (cmd->flags & EXEC_FLAG_NO_ENV_EXPAND) {
            if (strv_push_sized(&out, &n, &cap, strdup(w)) < 0)
                goto oom;
            continue;
        }
        if (w[0] == '$' && w[1] != '{' && w[1] != '$') {
            /* "$NAME" as a whole word becomes the value split into words (quotes honoured);
             * unset, it becomes no word at all. */
            const char *v = strv_env_get(env, w + 1);
            const char *q = v;
            char *word;
            int r;

            while (q) {
                r = extract_word(&q, &word, EXTRACT_UNQUOTE | EXTRACT_RELAX);
                if (r < 0)
                    goto oom;
                if (r == 0)
                    break;
                if (strv_push_sized(&out, &n, &cap, word) < 0)
                    goto oom;
            }
            continue;
        }
        if (strv_push_sized(&out, &n, &cap, replace_env(w, env)) < 0)
            goto oom;
    }
    return out;
oom:
    strv_free(out);
    return NULL;
}

/* ---- environment --------------------------------------------------------------------------- */

bool env_name_is_valid(const char *s, size_t n)
{
    if (n == 0 || isdigit((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return false;
    return true;
}

bool env_assignment_is_valid(const char *s)
{
    const char *eq = strchr(s, '=');

    if (!eq || !env_name_is_valid(s, (size_t)(eq - s)))
        return false;
    for (const unsigned char *p = (const unsigned char *)eq + 1; *p; p++)
        if ((*p < ' ' && *p != '\t' && *p != '\n') || *p == 127)
            return false;
    return true;
}

/* Looks a name up in a "K=V" list; NULL when absent. */
const char *strv_env_get(char *const *env, const char *key)
{
    size_t n = strlen(key);

    /* The last assignment wins, as in a shell. */
    for (size_t i = strv_length(env); i > 0; i--)
        if (strncmp(env[i - 1], key, n) == 0 && env[i - 1][n] == '=')
            return env[i - 1] + n + 1;
    return NULL;
}

/* Replaces the assignment of the same name in place (keeping its position, as systemd's
 * strv_env_replace() does) or appends. */
int strv_env_set(char ***env, const char *assignment)
{
    const char *eq = strchr(assignment, '=');
    size_t n;
    char *copy;

    if (!eq)
        return -EINVAL;
    n = (size_t)(eq - assignment) + 1;
    copy = strdup(assignment);
    if (!copy)
        return -ENOMEM;
    for (size_t i = 0; *env && (*env)[i]; i++)
        if (strncmp((*env)[i], assignment, n) == 0) {
            free((*env)[i]);
            (*env)[i] = copy;
            return 0;
        }
    return strv_push(env, copy);
}

/* Environment= without specifiers (unit_file.c does its own, to expand them per word). */
int parse_environment_line(const char *s, char ***env)
{
    const char *p = s;
    int r, ret = 0;

    for (;;) {
        char *word;

        r = extract_word(&p, &word, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE);
        if (r < 0)
            return r;
        if (r == 0)
            return ret;
        if (!env_assignment_is_valid(word)) {
            free(word);
            ret = -EINVAL;
            continue;
        }
        r = strv_env_set(env, word);
        free(word);
        if (r < 0)
            return r;
    }
}

/* Pushes key=value (value may be NULL: empty) into *env; invalid names are skipped, and
 * counted in ignored (may be NULL) with the line the key began on. */
static int env_file_push(char ***env, struct buf *key, struct buf *value, unsigned key_line,
                         struct env_file_ignored *ignored)
{
    char *kv = NULL;
    size_t klen = key->n;
    int r;

    /* Trailing blanks of the key never count. */
    while (klen > 0 && strchr(WHITESPACE, key->s[klen - 1]))
        klen--;
    if (!env_name_is_valid(key->s ? key->s : "", klen)) {
        if (ignored && ignored->count++ == 0) {
            ignored->line = key_line;
            snprintf(ignored->name, sizeof(ignored->name), "%.*s", (int)klen, key->s ? key->s : "");
        }
        return 0;
    }
    if (asprintf(&kv, "%.*s=%s", (int)klen, key->s, value->s ? value->s : "") < 0)
        return -ENOMEM;
    r = strv_env_set(env, kv);
    free(kv);
    return r;
}

/* systemd's parse_env_file_internal() state machine. */
static int parse_env_text(const char *text, char ***env, struct env_file_ignored *ignored)
{
    enum {
        PRE_KEY,
        KEY,
        PRE_VALUE,
        VALUE,
        VALUE_ESCAPE,
        SINGLE_QUOTE_VALUE,
        DOUBLE_QUOTE_VALUE,
        DOUBLE_QUOTE_VALUE_ESCAPE,
        COMMENT,
        COMMENT_ESCAPE,
    } state = PRE_KEY;
    struct buf key = {0}, value = {0};
    size_t last_value_ws = SIZE_MAX;
    unsigned line = 1, key_line = 1;
    int r = 0;

    for (const char *p = text; *p; line += *p == '\n', p++) {
        char c = *p;

        switch (state) {
        case PRE_KEY:
            if (c == '#' || c == ';')
                state = COMMENT;
            else if (!strchr(WHITESPACE, c)) {
                state = KEY;
                key_line = line;
                key.n = 0;
                r = buf_addc(&key, c);
            }
            break;
        case KEY:
            if (c == '\n' || c == '\r')
                state = PRE_KEY;
            else if (c == '=') {
                state = PRE_VALUE;
                last_value_ws = SIZE_MAX;
                value.n = 0;
                if (value.s)
                    value.s[0] = '\0';
            } else
                r = buf_addc(&key, c);
            break;
        case PRE_VALUE:
            if (c == '\n' || c == '\r') {
                state = PRE_KEY;
                r = env_file_push(env, &key, &value, key_line, ignored);
            } else if (c == '\'')
                state = SINGLE_QUOTE_VALUE;
            else if (c == '"')
                state = DOUBLE_QUOTE_VALUE;
            else if (c == '\\')
                state = VALUE_ESCAPE;
            else if (!strchr(WHITESPACE, c)) {
                state = VALUE;
                r = buf_addc(&value, c);
            }
            break;
        case VALUE:
            if (c == '\n' || c == '\r') {
                state = PRE_KEY;
                if (last_value_ws != SIZE_MAX) {
                    value.n = last_value_ws;
                    value.s[value.n] = '\0';
                }
                r = env_file_push(env, &key, &value, key_line, ignored);
                last_value_ws = SIZE_MAX;
            } else if (c == '\\') {
                state = VALUE_ESCAPE;
                last_value_ws = SIZE_MAX;
            } else {
                if (!strchr(WHITESPACE, c))
                    last_value_ws = SIZE_MAX;
                else if (last_value_ws == SIZE_MAX)
                    last_value_ws = value.n;
                r = buf_addc(&value, c);
            }
            break;
        case VALUE_ESCAPE:
            state = VALUE;
            /* An escaped newline is a continuation line and disappears. */
            if (c != '\n' && c != '\r')
                r = buf_addc(&value, c);
            break;
        case SINGLE_QUOTE_VALUE:
            if (c == '\'')
                state = PRE_VALUE;
            else
                r = buf_addc(&value, c);
            break;
        case DOUBLE_QUOTE_VALUE:
            if (c == '"')
                state = PRE_VALUE;
            else if (c == '\\')
                state = DOUBLE_QUOTE_VALUE_ESCAPE;
            else
                r = buf_addc(&value, c);
            break;
        case DOUBLE_QUOTE_VALUE_ESCAPE:
            state = DOUBLE_QUOTE_VALUE;
            if (strchr("\"\\`$", c))
                r = buf_addc(&value, c);
            else if (c != '\n') {
                /* Like a shell, other escapes keep their backslash. */
                r = buf_addc(&value, '\\');
                if (r >= 0)
                    r = buf_addc(&value, c);
            }
            break;
        case COMMENT:
            if (c == '\\')
                state = COMMENT_ESCAPE;
            else if (c == '\n' || c == '\r')
                state = PRE_KEY;
            break;
        case COMMENT_ESCAPE:
            /* Since systemd 254 a backslash does not continue a comment line. */
            state = (c == '\n' || c == '\r') ? PRE_KEY : COMMENT;
            break;
        }
        if (r < 0)
            goto out;
    }

    if (state == PRE_VALUE || state == VALUE || state == VALUE_ESCAPE ||
        state == SINGLE_QUOTE_VALUE || state == DOUBLE_QUOTE_VALUE ||
        state == DOUBLE_QUOTE_VALUE_ESCAPE) {
        if (state == VALUE && last_value_ws != SIZE_MAX) {
            value.n = last_value_ws;
            value.s[value.n] = '\0';
        }
        r = env_file_push(env, &key, &value, key_line, ignored);
    }
out:
    free(key.s);
    free(value.s);
    return r;
}

/* The file is read whole, up to ENV_FILE_MAX, and parsed by parse_env_text(); a missing file is
 * -ENOENT, which the caller ignores for "-" entries. Never blocks: the daemon reads these in its
 * event loop, so a FIFO or socket is -ENXIO and a device with nothing to read -EAGAIN. */
int load_environment_file(const char *path, char ***env, struct env_file_ignored *ignored)
{
    struct stat st;
    char *text = NULL;
    size_t n = 0;
    int fd, r = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        r = -EISDIR;
        goto out;
    }
    if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
        r = -ENXIO;
        goto out;
    }
    text = malloc(ENV_FILE_MAX + 1);
    if (!text) {
        r = -ENOMEM;
        goto out;
    }
    for (;;) {
        ssize_t k = read(fd, text + n, ENV_FILE_MAX + 1 - n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            goto out;
        }
        if (k == 0)
            break;
        n += (size_t)k;
        if (n > ENV_FILE_MAX) {
            r = -EFBIG;
            goto out;
        }
    }
    text[n] = '\0';
    /* Embedded NUL bytes end the text, as they would in systemd's string handling. */
    r = parse_env_text(text, env, ignored);
out:
    free(text);
    close(fd);
    return r;
}
