/* Unit files: a reader that lexes like systemd's config_parse() and feeds inih only short lines
 * (section headers, and `Key=<index>` with the real value and line number in a side table), the
 * handlers that fill struct unit_config with systemd's defaults and value rules, specifier
 * expansion, and the final checks. Never logs: every diagnostic goes to struct unit_diags. */
#include "unit_file.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <syslog.h>
#include <unistd.h>

#include <ini.h>

#define WHITESPACE " \t\n\r"
#define LINE_MAX_BYTES (1024U * 1024U)       /* systemd's LONG_LINE_MAX */
#define FILE_MAX_BYTES (16U * 1024U * 1024U) /* refuse bigger unit files outright */
#define UNIT_NAME_MAX 256
#define MAX_WARNINGS 1000 /* per unit file */
#define INIH_KEY_MAX 64   /* longer or odd keys travel to inih as a placeholder */
#define DROPINS_MAX 1024  /* drop-in file names per unit, masks included */

enum section {
    SECTION_NONE, /* before the first header */
    SECTION_UNIT,
    SECTION_SERVICE,
    SECTION_SOCKET,
    SECTION_INSTALL,
    SECTION_IGNORED, /* unknown or X- section: its lines are skipped */
};

#define S_UNIT (1U << SECTION_UNIT)
#define S_SERVICE (1U << SECTION_SERVICE)
#define S_SOCKET (1U << SECTION_SOCKET)
#define S_INSTALL (1U << SECTION_INSTALL)
#define S_EXEC (S_SERVICE | S_SOCKET)

static const char *const section_names[] = {
    [SECTION_UNIT] = "Unit",
    [SECTION_SERVICE] = "Service",
    [SECTION_SOCKET] = "Socket",
    [SECTION_INSTALL] = "Install",
};

/* One assignment as the lexer saw it; inih carries only its index. */
struct assignment {
    char *key;
    char *value;
    unsigned line;
};

struct parser {
    /* Input and lexer state. */
    const char *text;
    size_t len, pos;
    unsigned line;        /* physical lines consumed so far */
    unsigned owed_blanks; /* blank lines to hand inih before `pending` */
    char pending[INIH_KEY_MAX + 32];
    bool have_pending;
    enum section section;
    struct assignment *table;
    size_t n_table;

    /* What is being loaded. */
    const char *path; /* the file being read: the unit file, then each drop-in */
    const char *name; /* what specifiers see: a bare template gets a test instance */
    char *name_owned; /* name, when allocated here */
    const struct unit_load_context *ctx;
    struct unit_config *c;
    struct unit_diags *diags;
    unsigned cur_line;  /* line of the assignment being handled, for hook diagnostics */
    char bad_specifier; /* the unknown specifier behind the last resolve failure */

    /* Facts for the final checks. */
    bool type_set;
    bool notify_access_set;
    bool start_timeout_set;
    bool success_action_set; /* SuccessAction= (not acted upon) still satisfies the checks */
    bool bus_name_set;
    size_t env_n, env_cap; /* of c->environment, which p_environment() appends to */
    size_t env_folded;     /* env_n after the last env_finish() */
    unsigned n_warnings;
    bool other_listen; /* ListenNetlink= and the like: a socket we do not open, but a socket */
    int fatal;         /* first fatal problem: negative errno */
};

/* ---- diagnostics --------------------------------------------------------------------------- */

static void diag_add(struct parser *ps, enum diag_level level, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Appends a diagnostic about ps->path. An error also makes the load fail (systemd stops at its
 * first fatal problem, and so does the reader). Out of memory is remembered in ps->fatal. */
static void diag_add(struct parser *ps, enum diag_level level, unsigned line, const char *fmt, ...)
{
    struct unit_diag *grown;
    char *msg = NULL, *file = NULL;
    va_list ap;
    int r;

    if (level == DIAG_ERROR && ps->fatal == 0)
        ps->fatal = -EINVAL;

    /* A file full of mistakes gets a bounded list: errors always, warnings up to a limit. */
    if (level == DIAG_WARNING && ++ps->n_warnings > MAX_WARNINGS) {
        if (ps->n_warnings > MAX_WARNINGS + 1)
            return;
        msg = strdup("Too many warnings, not reporting more.");
        line = 0;
        if (!msg)
            goto oom;
    } else {
        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0) {
            msg = NULL;
            goto oom;
        }
    }
    file = strdup(ps->path);
    if (!file)
        goto oom;
    grown = ps->diags->items;
    if ((ps->diags->n & (ps->diags->n - 1)) == 0) { /* grow at powers of two */
        grown = realloc(ps->diags->items, (ps->diags->n ? 2 * ps->diags->n : 1) * sizeof(*grown));
        if (!grown)
            goto oom;
    }
    ps->diags->items = grown;
    grown[ps->diags->n++] =
        (struct unit_diag){.level = level, .file = file, .line = line, .message = msg};
    return;
oom:
    free(msg);
    free(file);
    ps->fatal = -ENOMEM;
}

/* Frees the list; the struct itself belongs to the caller. */
void unit_diags_done(struct unit_diags *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->items[i].file);
        free(d->items[i].message);
    }
    free(d->items);
    d->items = NULL;
    d->n = 0;
}

/* ---- small helpers ------------------------------------------------------------------------- */

static bool is_empty(const char *s)
{
    return !s || s[0] == '\0';
}

/* Strict UTF-8, as systemd's utf8_is_valid(): no overlong forms, no surrogates. */
static bool utf8_is_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        uint32_t c;
        int n;

        if (*p < 0x80) {
            p++;
            continue;
        }
        if ((*p & 0xe0) == 0xc0) {
            n = 1;
            c = *p & 0x1f;
        } else if ((*p & 0xf0) == 0xe0) {
            n = 2;
            c = *p & 0x0f;
        } else if ((*p & 0xf8) == 0xf0) {
            n = 3;
            c = *p & 0x07;
        } else
            return false;
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            c = (c << 6) | (p[i] & 0x3f);
        }
        /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
        if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
            c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return false;
        p += n + 1;
    }
    return true;
}

/* No control characters, quotes or backslashes (systemd's string_is_safe()). */
static bool string_is_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < ' ' || *p == 127 || strchr("\\\"'", *p))
            return false;
    return true;
}

/* Removes blanks at both ends, in place (systemd's strstrip()). */
static char *strip(char *s)
{
    char *e;

    s += strspn(s, WHITESPACE);
    e = s + strlen(s);
    while (e > s && strchr(WHITESPACE, e[-1]))
        e--;
    *e = '\0';
    return s;
}

/* Replaces a string setting; takes ownership of `owned` (may be NULL: unset). */
static int set_string(char **field, char *owned)
{
    free(*field);
    *field = owned;
    return 0;
}

/* ---- unit names ---------------------------------------------------------------------------- */

static const char *const unit_types[] = {"service", "socket",    "target", "device",
                                         "mount",   "automount", "swap",   "timer",
                                         "path",    "slice",     "scope"};

/* Every unit type systemd knows: names of others are valid in dependencies. */
static bool unit_type_is_valid(const char *s)
{
    for (size_t i = 0; i < sizeof(unit_types) / sizeof(unit_types[0]); i++)
        if (strcmp(s, unit_types[i]) == 0)
            return true;
    return false;
}

/* Validity with systemd's flags: plain names, instances ("a@b.service"), templates ("a@."). */
static bool unit_name_check(const char *n, bool plain, bool instance, bool template)
{
    static const char valid[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789:-_.\\@";
    const char *e, *at = NULL;

    if (is_empty(n) || strlen(n) >= UNIT_NAME_MAX)
        return false;
    e = strrchr(n, '.');
    if (!e || e == n || !unit_type_is_valid(e + 1))
        return false;
    for (const char *i = n; i < e; i++) {
        if (*i == '@' && !at)
            at = i;
        if (!strchr(valid, *i))
            return false;
    }
    if (at == n)
        return false;
    if (plain && !at)
        return true;
    if (instance && at && e > at + 1)
        return true;
    if (template && at && e == at + 1)
        return true;
    return false;
}

/* Any of plain, instance or template. */
bool unit_name_is_valid(const char *name)
{
    return unit_name_check(name, true, true, true);
}

/* Only the kinds minisup loads; other valid names are -EINVAL too. */
int unit_name_kind(const char *name, enum unit_kind *ret_kind)
{
    const char *e;

    if (!unit_name_is_valid(name))
        return -EINVAL;
    e = strrchr(name, '.') + 1;
    if (strcmp(e, "service") == 0)
        *ret_kind = UNIT_KIND_SERVICE;
    else if (strcmp(e, "socket") == 0)
        *ret_kind = UNIT_KIND_SOCKET;
    else
        return -EINVAL;
    return 0;
}

/* As systemctl does for a bare name on its command line. */
char *unit_name_normalize(const char *name)
{
    const char *e = strrchr(name, '.');
    char *s = NULL;

    if (e && unit_type_is_valid(e + 1))
        return strdup(name);
    if (asprintf(&s, "%s.service", name) < 0)
        return NULL;
    return s;
}

/* Characters of a unit name (systemd's VALID_CHARS), and those a glob of names may add. */
#define UNIT_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\"
#define UNIT_GLOB_CHARS "@" UNIT_NAME_CHARS "[]!-*?"

static bool string_is_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* systemd's unit_name_path_escape() and unit_name_from_path(): a path, its empty and "."
 * components and trailing slashes dropped, as a unit name ("/dev/sda1" -> "dev-sda1.device",
 * "/" -> "-.mount"): '/' becomes '-', a leading '.', '-', '\' and every other character a name
 * cannot have becomes \xNN. -EINVAL for a path with a ".." component or a result that is no
 * valid name, -ENAMETOOLONG, -ENOMEM. */
static int unit_name_from_path(const char *path, const char *suffix, char **ret)
{
    size_t len = strlen(path);
    char *s = malloc(len * 4 + strlen(suffix) + 2), *t = s;
    const char *p = path;

    if (!s)
        return -ENOMEM;
    while (*p) {
        size_t k;

        p += strspn(p, "/");
        k = strcspn(p, "/");
        if (k == 0 || (k == 1 && p[0] == '.')) {
            p += k;
            continue;
        }
        if (k == 2 && p[0] == '.' && p[1] == '.') {
            free(s);
            return -EINVAL; /* not normalized: path_is_normalized() refuses it */
        }
        if (t > s)
            *t++ = '-';
        for (size_t i = 0; i < k; i++) {
            char c = p[i];
            if ((t == s && c == '.') || c == '-' || c == '\\' || !strchr(UNIT_NAME_CHARS, c))
                t += sprintf(t, "\\x%02x", (unsigned char)c);
            else
                *t++ = c;
        }
        p += k;
    }
    if (t == s)
        *t++ = '-';                        /* the root directory */
    memcpy(t, suffix, strlen(suffix) + 1); /* the buffer was sized for it */
    if (strlen(s) >= UNIT_NAME_MAX || !unit_name_check(s, true, false, false)) {
        int r = strlen(s) >= UNIT_NAME_MAX ? -ENAMETOOLONG : -EINVAL;
        free(s);
        return r;
    }
    *ret = s;
    return 0;
}

/* systemd's is_device_path(): under /dev or /sys. */
static bool is_device_path(const char *path)
{
    const char *p = path + strspn(path, "/");

    return path[0] == '/' && (strncmp(p, "dev", 3) == 0 || strncmp(p, "sys", 3) == 0) &&
           (p[3] == '\0' || p[3] == '/');
}

int unit_name_mangle(const char *name, char **ret_name, char **ret_escaped)
{
    bool escaped = false;
    char *s, *t;
    int r;

    if (ret_escaped)
        *ret_escaped = NULL;
    if (is_empty(name))
        return -EINVAL; /* "We cannot mangle empty unit names to become valid, sorry." */
    if (unit_name_is_valid(name) ||
        (string_is_glob(name) && strspn(name, UNIT_GLOB_CHARS) == strlen(name))) {
        *ret_name = strdup(name);
        return *ret_name ? 0 : -ENOMEM;
    }
    if (name[0] == '/') {
        r = unit_name_from_path(name, is_device_path(name) ? ".device" : ".mount", ret_name);
        if (r != -EINVAL)
            return r < 0 ? r : 1;
    }
    s = malloc(strlen(name) * 4 + strlen(".service") + 1);
    if (!s)
        return -ENOMEM;
    t = s;
    for (const char *p = name; *p; p++) {
        if (*p == '/')
            *t++ = '-';
        else if (!strchr(UNIT_GLOB_CHARS, *p))
            t += sprintf(t, "\\x%02x", (unsigned char)*p);
        else
            *t++ = *p;
        escaped = escaped || *p == '/' || !strchr(UNIT_GLOB_CHARS, *p);
    }
    *t = '\0';
    if (escaped && ret_escaped && !(*ret_escaped = strdup(s))) {
        free(s);
        return -ENOMEM;
    }
    /* A glob keeps no suffix, so that "foo.*" stays a pattern. */
    if (!string_is_glob(s) && !unit_name_is_valid(s))
        memcpy(t, ".service", sizeof(".service")); /* the buffer was sized for it */
    *ret_name = s;
    return 1;
}

/* ---- string tables ------------------------------------------------------------------------- */

static const char *const service_type_table[SERVICE_TYPE_MAX] = {
    [SERVICE_TYPE_SIMPLE] = "simple",   [SERVICE_TYPE_EXEC] = "exec",
    [SERVICE_TYPE_FORKING] = "forking", [SERVICE_TYPE_ONESHOT] = "oneshot",
    [SERVICE_TYPE_NOTIFY] = "notify",   [SERVICE_TYPE_DBUS] = "dbus",
    [SERVICE_TYPE_IDLE] = "idle",
};

static const char *const restart_table[RESTART_MAX] = {
    [RESTART_NO] = "no",
    [RESTART_ON_SUCCESS] = "on-success",
    [RESTART_ON_FAILURE] = "on-failure",
    [RESTART_ON_ABNORMAL] = "on-abnormal",
    [RESTART_ON_WATCHDOG] = "on-watchdog",
    [RESTART_ON_ABORT] = "on-abort",
    [RESTART_ALWAYS] = "always",
};

static const char *const kill_mode_table[KILL_MODE_MAX] = {
    [KILL_MODE_CONTROL_GROUP] = "control-group",
    [KILL_MODE_PROCESS] = "process",
    [KILL_MODE_MIXED] = "mixed",
    [KILL_MODE_NONE] = "none",
};

/* The *_to_string() functions return NULL for values out of range. */
const char *service_type_to_string(enum service_type t)
{
    return (unsigned)t < SERVICE_TYPE_MAX ? service_type_table[t] : NULL;
}

const char *restart_policy_to_string(enum restart_policy r)
{
    return (unsigned)r < RESTART_MAX ? restart_table[r] : NULL;
}

const char *kill_mode_to_string(enum kill_mode k)
{
    return (unsigned)k < KILL_MODE_MAX ? kill_mode_table[k] : NULL;
}

/* The index of `s` in a string table, or -EINVAL; exact, case-sensitive match as in systemd. */
static int table_lookup(const char *const *table, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (table[i] && strcmp(table[i], s) == 0)
            return i;
    return -EINVAL;
}

/* ---- specifiers ---------------------------------------------------------------------------- */

/* Unescapes a unit-name part: "-" is "/", "\xNN" a byte (systemd's unit_name_unescape()). */
static char *unit_name_unescape(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;

    if (!out)
        return NULL;
    for (const char *p = s; *p; p++) {
        if (*p == '-')
            *o++ = '/';
        else if (p[0] == '\\' && p[1] == 'x' && p[2] && p[3]) {
            char hex[3] = {p[2], p[3], 0};
            char *e;
            long v = strtol(hex, &e, 16);
            if (*e != '\0' || v == 0) {
                free(out);
                return NULL;
            }
            *o++ = (char)v;
            p += 3;
        } else
            *o++ = *p;
    }
    *o = '\0';
    return out;
}

/* Reads the first line of a small file into buf (without the newline). */
static int read_one_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "re");
    int r = 0;

    if (!f)
        return -errno;
    if (!fgets(buf, (int)size, f))
        r = ferror(f) ? -EIO : -ENODATA;
    else
        buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
    return r;
}

/* One field of /etc/os-release (or /usr/lib/os-release); empty when absent, as in systemd. */
static int os_release_field(const char *key, char **ret)
{
    char **env = NULL;
    const char *v;
    int r;

    r = load_environment_file("/etc/os-release", &env, NULL);
    if (r == -ENOENT)
        r = load_environment_file("/usr/lib/os-release", &env, NULL);
    if (r < 0 && r != -ENOENT) {
        strv_free(env);
        return r;
    }
    v = strv_env_get(env, key);
    *ret = strdup(v ? v : "");
    strv_free(env);
    return *ret ? 0 : -ENOMEM;
}

/* An XDG base directory for a manager not running as root: $XDG_x, else ~/<fallback>. */
static int user_dir(const char *xdg, const char *fallback, char **ret)
{
    const char *e = getenv(xdg);
    const char *home = getenv("HOME");

    if (e && e[0] == '/') {
        *ret = strdup(e);
    } else if (home && home[0] == '/') {
        if (asprintf(ret, "%s/%s", home, fallback) < 0)
            *ret = NULL;
    } else {
        return -ENXIO;
    }
    return *ret ? 0 : -ENOMEM;
}

/* The value of specifier `c` as a new string; -EBADSLT when unknown. */
static int specifier_value(struct parser *ps, char c, char **ret)
{
    const char *name = ps->name;
    const char *at = strchr(name, '@');
    const char *dot = strrchr(name, '.');
    const struct unit_load_context *ctx = ps->ctx;
    bool root = getuid() == 0;
    char buf[HOST_NAME_MAX + 64];
    struct utsname u;
    int r;

    *ret = NULL;
    switch (c) {
    case 'n':
        *ret = strdup(name);
        break;
    case 'N':
        *ret = strndup(name, (size_t)(dot - name));
        break;
    case 'p':
    case 'P':
    case 'j':
    case 'J': {
        char *prefix = strndup(name, (size_t)((at ? at : dot) - name));
        char *part = prefix;

        if (!prefix)
            return -ENOMEM;
        if (c == 'j' || c == 'J') {
            char *dash = strrchr(prefix, '-');
            part = dash ? dash + 1 : prefix;
        }
        *ret = (c == 'P' || c == 'J') ? unit_name_unescape(part) : strdup(part);
        free(prefix);
        if (!*ret)
            return -EINVAL;
        return 0;
    }
    case 'i':
    case 'I': {
        char *inst = at ? strndup(at + 1, (size_t)(dot - at - 1)) : strdup("");

        if (!inst)
            return -ENOMEM;
        if (c == 'I') {
            *ret = unit_name_unescape(inst);
            free(inst);
            return *ret ? 0 : -EINVAL;
        }
        *ret = inst;
        return 0;
    }
    case 'f': {
        /* The unescaped instance, or the unescaped prefix, as an absolute path. */
        char *part = at && dot > at + 1 ? strndup(at + 1, (size_t)(dot - at - 1))
                                        : strndup(name, (size_t)((at ? at : dot) - name));
        char *un;

        if (!part)
            return -ENOMEM;
        un = unit_name_unescape(part);
        free(part);
        if (!un)
            return -EINVAL;
        if (asprintf(ret, "%s%s", un[0] == '/' ? "" : "/", un) < 0)
            *ret = NULL;
        free(un);
        break;
    }
    case 't':
        if (ctx && ctx->runtime_dir)
            *ret = strdup(ctx->runtime_dir);
        else if (root)
            *ret = strdup("/run");
        else {
            const char *x = getenv("XDG_RUNTIME_DIR");
            if (!x || x[0] != '/')
                return -ENXIO;
            *ret = strdup(x);
        }
        break;
    case 'S':
        if (ctx && ctx->state_dir)
            *ret = strdup(ctx->state_dir);
        else if (root)
            *ret = strdup("/var/lib");
        else
            return user_dir("XDG_STATE_HOME", ".local/state", ret);
        break;
    case 'L':
        if (ctx && ctx->logs_dir)
            *ret = strdup(ctx->logs_dir);
        else if (root)
            *ret = strdup("/var/log");
        else {
            char *state = NULL;
            r = user_dir("XDG_STATE_HOME", ".local/state", &state);
            if (r < 0)
                return r;
            if (asprintf(ret, "%s/log", state) < 0)
                *ret = NULL;
            free(state);
        }
        break;
    case 'C':
        if (root)
            *ret = strdup("/var/cache");
        else
            return user_dir("XDG_CACHE_HOME", ".cache", ret);
        break;
    case 'E':
        if (root)
            *ret = strdup("/etc");
        else
            return user_dir("XDG_CONFIG_HOME", ".config", ret);
        break;
    case 'T':
    case 'V': {
        const char *t = getenv("TMPDIR");
        *ret = strdup(t && t[0] == '/' ? t : c == 'T' ? "/tmp" : "/var/tmp");
        break;
    }
    case 'd': {
        const char *run = ctx && ctx->runtime_dir ? ctx->runtime_dir : "/run";
        if (asprintf(ret, "%s/credentials/%s", run, name) < 0)
            *ret = NULL;
        break;
    }
    case 'h':
    case 's':
    case 'u':
    case 'U':
    case 'g':
    case 'G': {
        char pwbuf[4096];
        struct passwd pw, *pwp = NULL;
        struct group gr, *grp = NULL;

        if (c == 'U') {
            snprintf(buf, sizeof(buf), "%u", (unsigned)getuid());
            *ret = strdup(buf);
            break;
        }
        if (c == 'G') {
            snprintf(buf, sizeof(buf), "%u", (unsigned)getgid());
            *ret = strdup(buf);
            break;
        }
        if (c == 'g') {
            if (getgrgid_r(getgid(), &gr, pwbuf, sizeof(pwbuf), &grp) != 0 || !grp)
                return -ESRCH;
            *ret = strdup(gr.gr_name);
            break;
        }
        if (getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &pwp) != 0 || !pwp)
            return -ESRCH;
        *ret = strdup(c == 'h' ? pw.pw_dir : c == 's' ? pw.pw_shell : pw.pw_name);
        break;
    }
    case 'H':
    case 'l':
    case 'q':
        if (gethostname(buf, sizeof(buf) - 1) < 0)
            return -errno;
        buf[sizeof(buf) - 1] = '\0';
        if (c == 'l')
            buf[strcspn(buf, ".")] = '\0';
        if (c == 'q') {
            char **env = NULL;
            const char *pretty;

            (void)load_environment_file("/etc/machine-info", &env, NULL);
            pretty = strv_env_get(env, "PRETTY_HOSTNAME");
            *ret = strdup(pretty && pretty[0] ? pretty : buf);
            strv_free(env);
            break;
        }
        *ret = strdup(buf);
        break;
    case 'v':
    case 'a':
        if (uname(&u) < 0)
            return -errno;
        if (c == 'v') {
            *ret = strdup(u.release);
            break;
        }
        /* systemd's architecture names for the common machines. */
        if (strcmp(u.machine, "x86_64") == 0)
            *ret = strdup("x86-64");
        else if (strcmp(u.machine, "aarch64") == 0)
            *ret = strdup("arm64");
        else if (u.machine[0] == 'i' && strcmp(u.machine + 2, "86") == 0)
            *ret = strdup("x86");
        else
            *ret = strdup(u.machine);
        break;
    case 'b':
    case 'm': {
        r = read_one_line(c == 'b' ? "/proc/sys/kernel/random/boot_id" : "/etc/machine-id", buf,
                          sizeof(buf));
        if (r < 0)
            return r;
        /* The boot ID file has dashes; systemd prints IDs as 32 plain hex digits. */
        char *o = buf;
        for (const char *p = buf; *p; p++)
            if (*p != '-')
                *o++ = *p;
        *o = '\0';
        *ret = strdup(buf);
        break;
    }
    case 'o':
        return os_release_field("ID", ret);
    case 'w':
        return os_release_field("VERSION_ID", ret);
    case 'W':
        return os_release_field("VARIANT_ID", ret);
    case 'B':
        return os_release_field("BUILD_ID", ret);
    case 'A':
        return os_release_field("IMAGE_VERSION", ret);
    case 'M':
        return os_release_field("IMAGE_ID", ret);
    case 'y':
        *ret = strdup(ps->path);
        break;
    case 'Y': {
        const char *slash = strrchr(ps->path, '/');
        *ret = slash ? strndup(ps->path, slash == ps->path ? 1 : (size_t)(slash - ps->path))
                     : strdup(".");
        break;
    }
    default:
        ps->bad_specifier = c;
        return -EBADSLT;
    }
    return *ret ? 0 : -ENOMEM;
}

/* Expands %x specifiers in `in` (systemd's specifier_printf()): "%%" is "%", a "%" at the very
 * end stays, an unknown one fails with -EBADSLT and ps->bad_specifier set. */
static int resolve(struct parser *ps, const char *in, char **ret)
{
    size_t cap = strlen(in) + 1, n = 0;
    char *out = malloc(cap);
    int r = 0;

    if (!out)
        return -ENOMEM;
    for (const char *p = in; *p; p++) {
        char *v = NULL;
        const char *add;
        size_t len;

        if (p[0] != '%' || p[1] == '\0') {
            add = p;
            len = 1;
        } else if (p[1] == '%') {
            add = "%";
            len = 1;
            p++;
        } else {
            r = specifier_value(ps, p[1], &v);
            if (r < 0)
                goto fail;
            add = v;
            len = strlen(v);
            p++;
        }
        if (n + len + 1 > cap) {
            char *grown;
            cap = (n + len + 1) * 2;
            grown = realloc(out, cap);
            if (!grown) {
                free(v);
                r = -ENOMEM;
                goto fail;
            }
            out = grown;
        }
        memcpy(out + n, add, len);
        n += len;
        free(v);
    }
    out[n] = '\0';
    *ret = out;
    return 0;
fail:
    free(out);
    return r;
}

/* The specifier hook handed to parse_exec_line_full(). */
static int resolve_hook(void *userdata, const char *word, char **ret)
{
    return resolve(userdata, word, ret);
}

/* Expands specifiers for a setting; on failure reports it (naming the specifier) and returns
 * a negative errno, the setting then being left unchanged. */
static int resolve_or_warn(struct parser *ps, const struct assignment *a, const char *in,
                           char **ret)
{
    int r;

    ps->bad_specifier = 0;
    r = resolve(ps, in, ret);
    if (r == -ENOMEM) {
        ps->fatal = r;
    } else if (r < 0 && ps->bad_specifier) {
        diag_add(ps, DIAG_WARNING, a->line,
                 "Failed to resolve specifiers in '%s' (unknown specifier '%%%c'), ignoring.", in,
                 ps->bad_specifier);
    } else if (r < 0) {
        diag_add(ps, DIAG_WARNING, a->line, "Failed to resolve specifiers in '%s': %s, ignoring.",
                 in, strerror(-r));
    }
    return r;
}

/* ---- setting parsers ----------------------------------------------------------------------- */

struct key_def;
typedef void (*parse_fn)(struct parser *ps, const struct key_def *d, const struct assignment *a,
                         void *field);

struct key_def {
    const char *key;
    unsigned sections;
    parse_fn parse;
    size_t offset;
    int arg;
};

/* The warning for a value that does not parse; the setting keeps its previous value. */
static void bad_value(struct parser *ps, const struct assignment *a, const char *what)
{
    diag_add(ps, DIAG_WARNING, a->line, "Failed to parse %s value '%s' for %s=, ignoring.", what,
             a->value, a->key);
}

enum string_kind {
    STRING_PLAIN,
    STRING_USER,
    STRING_PIDFILE,
    STRING_SERVICE_NAME,
};

/* Relaxed user/group name rules (systemd's VALID_USER_RELAX), or a numeric ID. */
static bool user_group_name_is_valid(const char *s)
{
    if (is_empty(s) || s[0] == '-' || s[0] == ' ' || s[strlen(s) - 1] == ' ')
        return false;
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strpbrk(s, ":/"))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < ' ' || *p == 127)
            return false;
    if (strspn(s, "0123456789") == strlen(s)) {
        unsigned long long v = strtoull(s, NULL, 10);
        return strlen(s) <= 10 && v != 65535 && v < 4294967295ULL;
    }
    return utf8_is_valid(s);
}

/* systemd's strict rules (what useradd accepts): [a-zA-Z_][a-zA-Z0-9_-]*, at most 31 bytes,
 * or a numeric ID. A relaxed name that breaks them is accepted with a notice, as systemd does. */
static bool user_group_name_is_strict(const char *s)
{
    size_t n = strlen(s);

    if (strspn(s, "0123456789") == n)
        return true;
    if (n == 0 || n > 31 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* Single-string settings: specifiers expanded, an empty value unsets, then per-kind checks. */
static void p_string(struct parser *ps, const struct key_def *d, const struct assignment *a,
                     void *field)
{
    char **s = field;
    char *v = NULL;

    if (is_empty(a->value)) {
        set_string(s, NULL);
        return;
    }
    if (resolve_or_warn(ps, a, a->value, &v) < 0)
        return;

    switch ((enum string_kind)d->arg) {
    case STRING_PLAIN:
        break;
    case STRING_USER:
        /* systemd refuses the unit for an invalid name: running as someone else is unsafe. */
        if (!user_group_name_is_valid(v)) {
            diag_add(ps, DIAG_ERROR, a->line, "Invalid user/group name or numeric ID: %s", v);
            free(v);
            return;
        }
        if (!user_group_name_is_strict(v))
            diag_add(ps, DIAG_WARNING, a->line,
                     "Accepting user/group name '%s', which does not match strict user/group "
                     "name rules.",
                     v);
        break;
    case STRING_PIDFILE: {
        char *abs = NULL;
        if (v[0] != '/') {
            char *run = NULL;
            if (resolve(ps, "%t", &run) < 0)
                run = strdup("/run");
            if (!run || asprintf(&abs, "%s/%s", run, v) < 0)
                abs = NULL;
            free(run);
            free(v);
            if (!abs) {
                ps->fatal = -ENOMEM;
                return;
            }
            v = abs;
        }
        if (strncmp(v, "/var/run/", 9) == 0) {
            char *z = NULL;
            if (asprintf(&z, "/run/%s", v + 9) < 0) {
                free(v);
                ps->fatal = -ENOMEM;
                return;
            }
            diag_add(ps, DIAG_WARNING, a->line,
                     "PIDFile= references a path below legacy directory /var/run/, updating %s "
                     "\xe2\x86\x92 %s; please update the unit file accordingly.",
                     v, z);
            free(v);
            v = z;
        }
        break;
    }
    case STRING_SERVICE_NAME: {
        const char *e = strrchr(v, '.');
        if (!unit_name_check(v, true, true, false) || strcmp(e, ".service") != 0) {
            diag_add(ps, DIAG_WARNING, a->line,
                     "Unit name '%s' is not a valid service name, "
                     "ignoring.",
                     v);
            free(v);
            return;
        }
        break;
    }
    }
    set_string(s, v);
}

enum list_kind {
    LIST_UNIT_NAMES, /* dependencies: no unquoting, each a valid unit name */
    LIST_INSTALL,    /* [Install] lists */
    LIST_DOCUMENTATION,
    LIST_GROUPS,
    LIST_DIRECTORIES, /* RuntimeDirectory= etc.: relative paths */
    LIST_PASS_ENV,
    LIST_UNSET_ENV,
    LIST_VALUE, /* the whole value is one entry (ListenStream= ...) */
};

/* systemd's documentation_url_is_valid(): http(s)://, file:/, man: and info: with ASCII. */
static bool documentation_url_is_valid(const char *u)
{
    const char *p;

    if (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0)
        p = strstr(u, "//") + 2;
    else if (strncmp(u, "file:/", 6) == 0)
        p = u + 6;
    else if (strncmp(u, "info:", 5) == 0)
        p = u + 5;
    else if (strncmp(u, "man:", 4) == 0)
        p = u + 4;
    else
        return false;
    if (*p == '\0' && strncmp(u, "file:/", 6) != 0)
        return false;
    for (; *p; p++)
        if ((unsigned char)*p < ' ' || (unsigned char)*p >= 127)
            return false;
    return true;
}

/* Checks one word of a list; false after reporting it. */
static bool list_word_ok(struct parser *ps, const struct key_def *d, const struct assignment *a,
                         const char *w)
{
    switch ((enum list_kind)d->arg) {
    case LIST_INSTALL:
        if (!unit_name_check(w, true, true, true)) {
            diag_add(ps, DIAG_WARNING, a->line, "Invalid unit name '%s' in %s=, ignoring.", w,
                     a->key);
            return false;
        }
        return true;
    case LIST_UNIT_NAMES:
        if (!unit_name_check(w, true, true, false)) {
            diag_add(ps, DIAG_WARNING, a->line,
                     "Failed to add dependency on %s, ignoring: Invalid argument", w);
            return false;
        }
        return true;
    case LIST_DOCUMENTATION:
        if (!documentation_url_is_valid(w)) {
            diag_add(ps, DIAG_WARNING, a->line, "Invalid URL, ignoring: %s", w);
            return false;
        }
        return true;
    case LIST_GROUPS:
        if (!user_group_name_is_valid(w)) {
            diag_add(ps, DIAG_WARNING, a->line,
                     "Invalid user/group name or numeric ID, "
                     "ignoring: %s",
                     w);
            return false;
        }
        return true;
    case LIST_DIRECTORIES: {
        size_t n = strcspn(w, ":");
        bool dotdot = false;

        for (const char *p = w; p < w + n;) {
            size_t k = strcspn(p, "/");
            if (k == 2 && p[0] == '.' && p[1] == '.')
                dotdot = true;
            p += k + (p[k] == '/');
            if (k == 0 && p[-1] != '/')
                break;
        }
        if (n == 0 || w[0] == '/' || dotdot) {
            diag_add(ps, DIAG_WARNING, a->line,
                     "%s= path is not a normalized relative path, ignoring: %s", a->key, w);
            return false;
        }
        return true;
    }
    case LIST_PASS_ENV:
        if (!env_name_is_valid(w, strlen(w))) {
            diag_add(ps, DIAG_WARNING, a->line, "Invalid environment name for %s, ignoring: %s",
                     a->key, w);
            return false;
        }
        return true;
    case LIST_UNSET_ENV:
        if (!env_name_is_valid(w, strlen(w)) && !env_assignment_is_valid(w)) {
            diag_add(ps, DIAG_WARNING, a->line,
                     "Invalid environment name or assignment %s, ignoring: %s", a->key, w);
            return false;
        }
        return true;
    case LIST_VALUE:
        return true;
    }
    return true;
}

/* List settings: each assignment appends its words (or the whole value for LIST_VALUE), an
 * empty one resets; a bad word is reported and skipped, the others are kept. */
static void p_list(struct parser *ps, const struct key_def *d, const struct assignment *a,
                   void *field)
{
    char ***l = field;
    const char *p = a->value;
    size_t n = strv_length(*l), cap = n ? n + 1 : 0;
    unsigned flags;

    /* An empty assignment resets the list. */
    if (is_empty(a->value)) {
        *l = strv_free(*l);
        return;
    }
    if (d->arg == LIST_VALUE) {
        char *v = NULL;
        if (resolve_or_warn(ps, a, a->value, &v) < 0)
            return;
        if (strv_push(l, v) < 0)
            ps->fatal = -ENOMEM;
        return;
    }

    /* Unit names keep their backslashes ("dev-disk-by\\x2duuid-....device"). */
    flags = d->arg == LIST_UNIT_NAMES || d->arg == LIST_INSTALL ? EXTRACT_RETAIN_ESCAPE
                                                                : EXTRACT_UNQUOTE;
    if (d->arg == LIST_PASS_ENV || d->arg == LIST_UNSET_ENV)
        flags |= EXTRACT_CUNESCAPE;
    for (;;) {
        char *word = NULL, *v = NULL;
        int r = extract_word(&p, &word, flags);

        if (r == -ENOMEM) {
            ps->fatal = r;
            return;
        }
        if (r < 0) {
            diag_add(ps, DIAG_WARNING, a->line, "Invalid syntax, ignoring: %s", a->value);
            return;
        }
        if (r == 0)
            return;
        r = resolve_or_warn(ps, a, word, &v);
        free(word);
        if (r < 0) {
            if (ps->fatal)
                return;
            continue;
        }
        if (!list_word_ok(ps, d, a, v)) {
            free(v);
            continue;
        }
        if (strv_push_sized(l, &n, &cap, v) < 0) {
            ps->fatal = -ENOMEM;
            return;
        }
    }
}

/* The diagnostic hook for command lines: reported at the line of the assignment. */
static void exec_diag_hook(void *userdata, bool error, const char *message)
{
    struct parser *ps = userdata;

    size_t n = strlen(message);

    /* Name the specifier, before the final full stop: "... in '%z' (unknown specifier '%z')." */
    if (ps->bad_specifier && strncmp(message, "Failed to resolve specifiers", 28) == 0) {
        bool dot = n > 0 && message[n - 1] == '.';
        diag_add(ps, error ? DIAG_ERROR : DIAG_WARNING, ps->cur_line,
                 "%.*s (unknown specifier '%%%c')%s", (int)(n - dot), message, ps->bad_specifier,
                 dot ? "." : "");
    } else
        diag_add(ps, error ? DIAG_ERROR : DIAG_WARNING, ps->cur_line, "%s", message);
}

/* Exec*= settings. A fatal problem (see parse_exec_line_full()) refuses the unit. */
static void p_exec(struct parser *ps, const struct key_def *d, const struct assignment *a,
                   void *field)
{
    struct exec_list *list = field;
    struct exec_parse_hooks hooks = {
        .resolve = resolve_hook, .diag = exec_diag_hook, .userdata = ps};
    const char *msg = NULL;
    int r;

    if (is_empty(a->value)) {
        exec_list_done(list);
        return;
    }
    ps->bad_specifier = 0;
    r = parse_exec_line_full(a->value, a->line, &hooks, list, &msg);
    if (r == -ENOMEM)
        ps->fatal = r;
    else if (r < 0 && ps->fatal == 0)
        ps->fatal = -EINVAL; /* reported by the hook already */
}

/* Type=; whether it was set at all matters for the checks at the end. */
static void p_service_type(struct parser *ps, const struct key_def *d, const struct assignment *a,
                           void *field)
{
    int v = table_lookup(service_type_table, SERVICE_TYPE_MAX, a->value);

    if (v < 0) {
        bad_value(ps, a, "service type");
        return;
    }
    ps->c->type = (enum service_type)v;
    ps->type_set = true;
}

/* Restart= */
static void p_restart(struct parser *ps, const struct key_def *d, const struct assignment *a,
                      void *field)
{
    int v = table_lookup(restart_table, RESTART_MAX, a->value);

    if (v < 0) {
        bad_value(ps, a, "restart policy");
        return;
    }
    ps->c->restart = (enum restart_policy)v;
}

/* KillMode= */
static void p_kill_mode(struct parser *ps, const struct key_def *d, const struct assignment *a,
                        void *field)
{
    int v = table_lookup(kill_mode_table, KILL_MODE_MAX, a->value);

    if (v < 0) {
        bad_value(ps, a, "kill mode");
        return;
    }
    ps->c->kill_mode = (enum kill_mode)v;
}

enum timespan_kind {
    TIMESPAN_PLAIN,
    TIMESPAN_FIX_0,         /* 0 means "no timeout" (infinity), as for systemd's timeouts */
    TIMESPAN_BOTH_TIMEOUTS, /* TimeoutSec= */
};

/* Time spans; a bare number is seconds. */
static void p_timespan(struct parser *ps, const struct key_def *d, const struct assignment *a,
                       void *field)
{
    uint64_t *t = field, v;

    if (parse_timespan(a->value, USEC_PER_SEC, &v) < 0) {
        bad_value(ps, a, "time span");
        return;
    }
    if (d->arg != TIMESPAN_PLAIN && v == 0)
        v = USEC_INFINITY;
    *t = v;
    if (t == &ps->c->timeout_start_usec)
        ps->start_timeout_set = true;
    if (d->arg == TIMESPAN_BOTH_TIMEOUTS)
        ps->c->timeout_stop_usec = v;
}

/* StartLimitBurst=: a decimal unsigned int. */
static void p_unsigned(struct parser *ps, const struct key_def *d, const struct assignment *a,
                       void *field)
{
    unsigned *u = field;
    unsigned long v;
    char *e;

    errno = 0;
    v = strtoul(a->value, &e, 10);
    if (a->value[0] < '0' || a->value[0] > '9' || *e != '\0' || errno || v > UINT_MAX) {
        bad_value(ps, a, "unsigned integer");
        return;
    }
    *u = (unsigned)v;
}

/* Boolean settings. */
static void p_bool(struct parser *ps, const struct key_def *d, const struct assignment *a,
                   void *field)
{
    bool *b = field;
    int v = parse_boolean(a->value);

    if (v < 0) {
        bad_value(ps, a, "boolean");
        return;
    }
    *b = v;
}

/* SuccessExitStatus= and friends: word by word, so one bad word does not lose the others. */
static void p_exit_status(struct parser *ps, const struct key_def *d, const struct assignment *a,
                          void *field)
{
    struct exit_status_set *set = field;
    const char *p = a->value;

    if (is_empty(a->value)) {
        memset(set, 0, sizeof(*set));
        return;
    }
    for (;;) {
        char *word = NULL;
        int r = extract_word(&p, &word, 0);

        if (r == -ENOMEM) {
            ps->fatal = r;
            return;
        }
        if (r <= 0)
            return;
        if (parse_exit_status_set(word, set) < 0)
            diag_add(ps, DIAG_WARNING, a->line,
                     "Failed to parse exit status value '%s' for %s=, ignoring.", word, a->key);
        free(word);
    }
}

/* Signal settings; empty restores the default (d->arg). */
static void p_signal(struct parser *ps, const struct key_def *d, const struct assignment *a,
                     void *field)
{
    int *sig = field;
    int v;

    if (is_empty(a->value)) {
        *sig = d->arg;
        return;
    }
    v = parse_signal(a->value);
    if (v <= 0) {
        bad_value(ps, a, "signal");
        return;
    }
    *sig = v;
}

struct env_slot {
    const char *s;
    size_t name_len;
    size_t pos;
};

/* Orders assignments by name, then by position, for env_finish(). */
static int env_slot_cmp(const void *x, const void *y)
{
    const struct env_slot *a = x, *b = y;
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int r = memcmp(a->s, b->s, n);

    if (r != 0)
        return r;
    if (a->name_len != b->name_len)
        return a->name_len < b->name_len ? -1 : 1;
    return a->pos < b->pos ? -1 : 1;
}

/* Environment=: a name assigned again keeps its first position and takes its last value, as
 * systemd's strv_env_replace() does; done once, by sorting, instead of per assignment. */
static void env_finish(struct parser *ps)
{
    char **env = ps->c->environment;
    size_t n = strv_length(env), k = 0;
    struct env_slot *slots;

    if (n < 2)
        return;
    slots = malloc(n * sizeof(*slots));
    if (!slots) {
        ps->fatal = -ENOMEM;
        return;
    }
    for (size_t i = 0; i < n; i++)
        slots[i] = (struct env_slot){env[i], strcspn(env[i], "="), i};
    qsort(slots, n, sizeof(*slots), env_slot_cmp);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;

        while (j < n && slots[j].name_len == slots[i].name_len &&
               memcmp(slots[i].s, slots[j].s, slots[i].name_len) == 0)
            j++;
        if (j - i > 1) {
            size_t first = slots[i].pos, last = slots[j - 1].pos;

            free(env[first]);
            env[first] = env[last];
            env[last] = NULL;
            for (size_t m = i + 1; m < j - 1; m++) {
                free(env[slots[m].pos]);
                env[slots[m].pos] = NULL;
            }
        }
        i = j;
    }
    free(slots);
    for (size_t i = 0; i < n; i++)
        if (env[i])
            env[k++] = env[i];
    env[k] = NULL;
}

/* Environment=: several assignments per line, each unquoted and unescaped, then specifiers. */
static void p_environment(struct parser *ps, const struct key_def *d, const struct assignment *a,
                          void *field)
{
    char ***env = field;
    const char *p = a->value;

    if (is_empty(a->value)) {
        *env = strv_free(*env);
        ps->env_n = ps->env_cap = ps->env_folded = 0;
        return;
    }
    /* Assignments before a syntax error stay, as in systemd's config_parse_environ(). */
    for (;;) {
        char *word = NULL, *v = NULL;
        int r = extract_word(&p, &word, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE);

        if (r == -ENOMEM) {
            ps->fatal = r;
            return;
        }
        if (r < 0) {
            diag_add(ps, DIAG_WARNING, a->line, "Invalid syntax, ignoring: %s", a->value);
            return;
        }
        if (r == 0)
            return;
        r = resolve_or_warn(ps, a, word, &v);
        free(word);
        if (r < 0) {
            if (ps->fatal)
                return;
            continue;
        }
        if (!env_assignment_is_valid(v)) {
            diag_add(ps, DIAG_WARNING, a->line, "Invalid environment assignment, ignoring: %s", v);
            free(v);
            continue;
        }
        /* Appended here; later assignments of a name replace earlier ones in env_finish(),
         * which keeps thousands of assignments linear. */
        r = strv_push_sized(env, &ps->env_n, &ps->env_cap, v);
        if (r < 0) {
            ps->fatal = r;
            return;
        }
        /* Folding now and then bounds the memory a file repeating one name can take. */
        if (ps->env_n >= 1024 && ps->env_n >= 2 * ps->env_folded) {
            env_finish(ps);
            ps->env_n = ps->env_folded = strv_length(*env);
        }
    }
}

/* EnvironmentFile=: an absolute path, optionally with "-"; read at start, not here. */
static void p_environment_file(struct parser *ps, const struct key_def *d,
                               const struct assignment *a, void *field)
{
    char ***l = field;
    char *v = NULL;

    if (is_empty(a->value)) {
        *l = strv_free(*l);
        return;
    }
    if (resolve_or_warn(ps, a, a->value, &v) < 0)
        return;
    if ((v[0] == '-' ? v[1] : v[0]) != '/') {
        diag_add(ps, DIAG_WARNING, a->line, "%s= path is not absolute, ignoring: %s", a->key, v);
        free(v);
        return;
    }
    if (strv_push(l, v) < 0)
        ps->fatal = -ENOMEM;
}

/* WorkingDirectory=: an absolute path or "~", optionally with "-" (stored with it). */
static void p_working_directory(struct parser *ps, const struct key_def *d,
                                const struct assignment *a, void *field)
{
    const char *p = a->value;
    bool missing_ok = p[0] == '-';
    char *v = NULL;

    if (is_empty(p)) {
        set_string(&ps->c->working_directory, NULL);
        return;
    }
    if (strcmp(p + missing_ok, "~") == 0) {
        v = strdup(p);
        if (!v)
            ps->fatal = -ENOMEM;
        else
            set_string(&ps->c->working_directory, v);
        return;
    }
    ps->bad_specifier = 0;
    if (resolve(ps, p + missing_ok, &v) < 0) {
        /* systemd refuses the unit unless the "-" prefix makes the directory optional. */
        diag_add(ps, missing_ok ? DIAG_WARNING : DIAG_ERROR, a->line,
                 "Failed to resolve specifiers in working directory path '%s'%s", p,
                 missing_ok ? ", ignoring." : ".");
        return;
    }
    if (v[0] != '/') {
        diag_add(ps, missing_ok ? DIAG_WARNING : DIAG_ERROR, a->line,
                 "WorkingDirectory= path is not absolute%s: %s", missing_ok ? ", ignoring" : "", v);
        free(v);
        return;
    }
    if (missing_ok) {
        char *m = NULL;
        if (asprintf(&m, "-%s", v) < 0) {
            free(v);
            ps->fatal = -ENOMEM;
            return;
        }
        free(v);
        v = m;
    }
    set_string(&ps->c->working_directory, v);
}

/* UMask=: octal, at most 07777. */
static void p_umask(struct parser *ps, const struct key_def *d, const struct assignment *a,
                    void *field)
{
    unsigned long v;
    char *e;

    errno = 0;
    v = strtoul(a->value, &e, 8);
    if (is_empty(a->value) || a->value[0] == '-' || a->value[0] == '+' || *e != '\0' || errno ||
        v > 07777) {
        bad_value(ps, a, "mode");
        return;
    }
    ps->c->umask = (mode_t)v;
}

/* A plain decimal number, nothing around it. */
static int parse_u64(const char *s, uint64_t *ret)
{
    uint64_t v;
    char *end;

    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -ERANGE;
    if (*end)
        return -EINVAL;
    *ret = v;
    return 0;
}

/* One value of Limit*=, by systemd's rules (rlimit_parse_one()): "infinity" everywhere; sizes
 * (FSIZE, DATA, STACK, CORE, RSS, AS, MEMLOCK, MSGQUEUE) take parse_size()'s suffixes to base
 * 1024 and fractions ("1.5G"); counts (NOFILE, NPROC, LOCKS, SIGPENDING, RTPRIO) are plain
 * numbers; LimitCPU= is in seconds and LimitRTTIME= in microseconds, and both accept time
 * spans; LimitNICE= is the raw rlimit 0..40, or with "+" or "-" a nice level, which the kernel
 * wants as 20 - nice (+0..+19 and -0..-20, so +5 is 15 and -10 is 30). */
static int parse_rlimit_value(const char *s, int resource, uint64_t *ret)
{
    uint64_t v;
    int r;

    if (strcmp(s, "infinity") == 0) {
        *ret = RLIM_INFINITY;
        return 0;
    }
    switch (resource) {
    case RLIMIT_CPU:
    case RLIMIT_RTTIME:
        r = parse_timespan(s, resource == RLIMIT_CPU ? USEC_PER_SEC : 1, &v);
        if (r < 0)
            return r;
        if (v == USEC_INFINITY) {
            *ret = RLIM_INFINITY;
            return 0;
        }
        if (resource == RLIMIT_CPU)
            v = (v + USEC_PER_SEC - 1) / USEC_PER_SEC;
        break;
    case RLIMIT_NICE:
        if (s[0] == '+' || s[0] == '-') {
            r = parse_u64(s + 1, &v);
            if (r < 0)
                return r;
            if (s[0] == '+' && v > 19)
                return -ERANGE;
            if (s[0] == '-' && v > 20)
                return -ERANGE;
            v = s[0] == '+' ? 20 - v : 20 + v;
        } else {
            r = parse_u64(s, &v);
            if (r < 0)
                return r;
            if (v > 40)
                return -ERANGE;
        }
        break;
    case RLIMIT_NOFILE:
    case RLIMIT_NPROC:
    case RLIMIT_LOCKS:
    case RLIMIT_SIGPENDING:
    case RLIMIT_RTPRIO:
        r = parse_u64(s, &v);
        if (r < 0)
            return r;
        break;
    default:
        r = parse_size(s, 1024, &v);
        if (r < 0)
            return r;
        break;
    }
    /* RLIM_INFINITY is all ones: a number that large is a range error, not "infinity". */
    if (v >= (uint64_t)RLIM_INFINITY)
        return -ERANGE;
    *ret = v;
    return 0;
}

static void p_rlimit(struct parser *ps, const struct key_def *d, const struct assignment *a,
                     void *field)
{
    struct unit_rlimit *l = &ps->c->rlimits[d->arg];
    char *copy = strdup(a->value), *colon;
    uint64_t soft, hard;

    if (!copy) {
        ps->fatal = -ENOMEM;
        return;
    }
    colon = strchr(copy, ':');
    if (colon)
        *colon = '\0';
    if (parse_rlimit_value(copy, d->arg, &soft) < 0 ||
        (colon && parse_rlimit_value(colon + 1, d->arg, &hard) < 0) || (colon && soft > hard)) {
        bad_value(ps, a, "resource limit");
        free(copy);
        return;
    }
    free(copy);
    l->set = true;
    l->soft = soft;
    l->hard = colon ? hard : soft;
}

/* NotifyAccess=: none, main, exec, all. */
static void p_notify_access(struct parser *ps, const struct key_def *d, const struct assignment *a,
                            void *field)
{
    static const char *const names[NOTIFY_ACCESS_MAX] = {
        [NOTIFY_ACCESS_NONE] = "none",
        [NOTIFY_ACCESS_MAIN] = "main",
        [NOTIFY_ACCESS_EXEC] = "exec",
        [NOTIFY_ACCESS_ALL] = "all",
    };
    int v = table_lookup(names, NOTIFY_ACCESS_MAX, a->value);

    if (v < 0) {
        bad_value(ps, a, "notify access");
        return;
    }
    ps->c->notify_access = (enum notify_access)v;
    ps->notify_access_set = true;
}

/* Nice=: -20 .. 19. */
static void p_nice(struct parser *ps, const struct key_def *d, const struct assignment *a,
                   void *field)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(a->value, &end, 10);
    if (is_empty(a->value) || *end || errno || v < -20 || v > 19) {
        bad_value(ps, a, "nice priority");
        return;
    }
    ps->c->nice_set = true;
    ps->c->nice = (int)v;
}

/* StandardInput=: only null is supported (a service never reads our terminal). */
static void p_std_input(struct parser *ps, const struct key_def *d, const struct assignment *a,
                        void *field)
{
    if (strcmp(a->value, "null") != 0)
        diag_add(ps, DIAG_WARNING, a->line,
                 "Unsupported value '%s' for StandardInput=; using null, ignoring.", a->value);
}

/* SocketMode=, DirectoryMode=: an octal mode. */
static void p_mode(struct parser *ps, const struct key_def *d, const struct assignment *a,
                   void *field)
{
    mode_t *m = field;
    unsigned long v;
    char *e;

    errno = 0;
    v = strtoul(a->value, &e, 8);
    if (is_empty(a->value) || a->value[0] == '-' || a->value[0] == '+' || *e != '\0' || errno ||
        v > 07777) {
        bad_value(ps, a, "mode");
        return;
    }
    *m = (mode_t)v;
}

/* Listen*=: appended to the list of its kind and to `listens`, which keeps the order of the
 * file across kinds (the fds are passed in that order). An empty value resets all of them, as
 * systemd.socket(5) says. */
static void p_listen(struct parser *ps, const struct key_def *d, const struct assignment *a,
                     void *field)
{
    struct unit_config *c = ps->c;
    struct key_def list_def = *d;
    size_t before = strv_length(*(char ***)field);
    char *entry;

    if (is_empty(a->value)) {
        c->listen_stream = strv_free(c->listen_stream);
        c->listen_datagram = strv_free(c->listen_datagram);
        c->listen_seqpacket = strv_free(c->listen_seqpacket);
        c->listen_fifo = strv_free(c->listen_fifo);
        c->listens = strv_free(c->listens);
        return;
    }
    list_def.arg = LIST_VALUE;
    p_list(ps, &list_def, a, field);
    char **l = *(char ***)field;
    if (strv_length(l) == before)
        return; /* the value was refused */
    if (asprintf(&entry, "%c:%s", d->arg, l[before]) < 0 || strv_push(&c->listens, entry) < 0)
        ps->fatal = -ENOMEM;
}

/* SyslogLevel=: a syslog(3) level name or its number. */
static void p_syslog_level(struct parser *ps, const struct key_def *d, const struct assignment *a,
                           void *field)
{
    static const char *const levels[] = {"emerg",   "alert",  "crit", "err",
                                         "warning", "notice", "info", "debug"};
    int v = table_lookup(levels, 8, a->value);

    if (v < 0 && a->value[0] >= '0' && a->value[0] <= '7' && a->value[1] == '\0')
        v = a->value[0] - '0';
    if (v < 0) {
        bad_value(ps, a, "log level");
        return;
    }
    ps->c->syslog_level = v;
}

/* StandardOutput=/StandardError= (d->arg 1): the kinds minisup implements. */
static void p_std_output(struct parser *ps, const struct key_def *d, const struct assignment *a,
                         void *field)
{
    static const struct {
        const char *prefix;
        enum std_output kind;
    } files[] = {
        {"file:", STD_OUTPUT_FILE},
        {"append:", STD_OUTPUT_APPEND},
        {"truncate:", STD_OUTPUT_TRUNCATE},
    };
    bool is_err = d->arg;
    enum std_output *out = is_err ? &ps->c->std_error : &ps->c->std_output;
    char **path = is_err ? &ps->c->std_error_path : &ps->c->std_output_path;
    const char *v = a->value;

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        size_t n = strlen(files[i].prefix);
        char *p = NULL;

        if (strncmp(v, files[i].prefix, n) != 0)
            continue;
        if (resolve_or_warn(ps, a, v + n, &p) < 0)
            return;
        if (p[0] != '/') {
            diag_add(ps, DIAG_WARNING, a->line, "%s= path is not absolute, ignoring: %s", a->key,
                     p);
            free(p);
            return;
        }
        set_string(path, p);
        *out = files[i].kind;
        return;
    }

    if (strcmp(v, "journal") == 0 || strcmp(v, "kmsg") == 0 || strcmp(v, "journal+console") == 0 ||
        strcmp(v, "kmsg+console") == 0) {
        *out = STD_OUTPUT_JOURNAL;
    } else if (strcmp(v, "syslog") == 0 || strcmp(v, "syslog+console") == 0) {
        diag_add(ps, DIAG_WARNING, a->line,
                 "Standard output type %s is obsolete, automatically updating to journal. Please "
                 "update your unit file, and consider removing the setting altogether.",
                 v);
        *out = STD_OUTPUT_JOURNAL;
    } else if (strcmp(v, "null") == 0) {
        *out = STD_OUTPUT_NULL;
    } else if (strcmp(v, "inherit") == 0) {
        *out = STD_OUTPUT_INHERIT;
    } else if (strcmp(v, "tty") == 0 || strcmp(v, "socket") == 0 || strncmp(v, "fd:", 3) == 0) {
        diag_add(ps, DIAG_WARNING, a->line,
                 "Unsupported value '%s' for %s= (not implemented by minisup), ignoring.", v,
                 a->key);
    } else {
        bad_value(ps, a, "output type");
    }
}

/* BusName= is not acted upon, but as in systemd it makes a service without Type= a dbus one. */
static void p_bus_name(struct parser *ps, const struct key_def *d, const struct assignment *a,
                       void *field)
{
    ps->bus_name_set = !is_empty(a->value);
    diag_add(ps, DIAG_WARNING, a->line, "Unsupported key name '%s' in section 'Service', ignoring.",
             a->key);
}

#define F(field) offsetof(struct unit_config, field)

/* Every key we act on: name, the sections it is valid in, its parser, the field it sets and an
 * argument for the parser. Keys are matched case-sensitively, as in systemd. */
static const struct key_def key_defs[] = {
    {"Description", S_UNIT, p_string, F(description), STRING_PLAIN},
    {"Documentation", S_UNIT, p_list, F(documentation), LIST_DOCUMENTATION},
    {"Requires", S_UNIT, p_list, F(requires), LIST_UNIT_NAMES},
    {"Wants", S_UNIT, p_list, F(wants), LIST_UNIT_NAMES},
    {"Requisite", S_UNIT, p_list, F(requisite), LIST_UNIT_NAMES},
    {"BindsTo", S_UNIT, p_list, F(binds_to), LIST_UNIT_NAMES},
    {"BindTo", S_UNIT, p_list, F(binds_to), LIST_UNIT_NAMES},
    {"PartOf", S_UNIT, p_list, F(part_of), LIST_UNIT_NAMES},
    {"Conflicts", S_UNIT, p_list, F(conflicts), LIST_UNIT_NAMES},
    {"After", S_UNIT, p_list, F(after), LIST_UNIT_NAMES},
    {"Before", S_UNIT, p_list, F(before), LIST_UNIT_NAMES},
    {"StartLimitIntervalSec", S_UNIT, p_timespan, F(start_limit_interval_usec), TIMESPAN_PLAIN},
    {"JobTimeoutSec", S_UNIT, p_timespan, F(job_timeout_usec), TIMESPAN_FIX_0},
    {"JobRunningTimeoutSec", S_UNIT, p_timespan, F(job_running_timeout_usec), TIMESPAN_FIX_0},
    {"StartLimitInterval", S_UNIT | S_SERVICE, p_timespan, F(start_limit_interval_usec),
     TIMESPAN_PLAIN},
    {"StartLimitBurst", S_UNIT | S_SERVICE, p_unsigned, F(start_limit_burst), 0},

    {"Type", S_SERVICE, p_service_type, F(type), 0},
    {"ExecStartPre", S_EXEC, p_exec, F(exec_start_pre), 0},
    {"ExecStart", S_SERVICE, p_exec, F(exec_start), 0},
    {"ExecStartPost", S_EXEC, p_exec, F(exec_start_post), 0},
    {"ExecReload", S_SERVICE, p_exec, F(exec_reload), 0},
    {"ExecStop", S_SERVICE, p_exec, F(exec_stop), 0},
    {"ExecStopPost", S_EXEC, p_exec, F(exec_stop_post), 0},
    {"Restart", S_SERVICE, p_restart, F(restart), 0},
    {"RestartSec", S_SERVICE, p_timespan, F(restart_usec), TIMESPAN_PLAIN},
    {"TimeoutSec", S_SERVICE, p_timespan, F(timeout_start_usec), TIMESPAN_BOTH_TIMEOUTS},
    {"TimeoutStartSec", S_SERVICE, p_timespan, F(timeout_start_usec), TIMESPAN_FIX_0},
    {"TimeoutStopSec", S_SERVICE, p_timespan, F(timeout_stop_usec), TIMESPAN_FIX_0},
    {"RemainAfterExit", S_SERVICE, p_bool, F(remain_after_exit), 0},
    {"GuessMainPID", S_SERVICE, p_bool, F(guess_main_pid), 0},
    {"PIDFile", S_SERVICE, p_string, F(pid_file), STRING_PIDFILE},
    {"SuccessExitStatus", S_SERVICE, p_exit_status, F(success_exit_status), 0},
    {"NotifyAccess", S_SERVICE, p_notify_access, F(notify_access), 0},
    {"WatchdogSec", S_SERVICE, p_timespan, F(watchdog_usec), TIMESPAN_PLAIN},
    {"RestartPreventExitStatus", S_SERVICE, p_exit_status, F(restart_prevent_exit_status), 0},
    {"RestartForceExitStatus", S_SERVICE, p_exit_status, F(restart_force_exit_status), 0},
    {"BusName", S_SERVICE, p_bus_name, 0, 0},

    {"KillMode", S_EXEC, p_kill_mode, F(kill_mode), 0},
    {"KillSignal", S_EXEC, p_signal, F(kill_signal), SIGTERM},
    {"RestartKillSignal", S_EXEC, p_signal, F(restart_kill_signal), 0},
    {"FinalKillSignal", S_EXEC, p_signal, F(final_kill_signal), SIGKILL},
    {"SendSIGKILL", S_EXEC, p_bool, F(send_sigkill), 0},
    {"SendSIGHUP", S_EXEC, p_bool, F(send_sighup), 0},

    {"Environment", S_EXEC, p_environment, F(environment), 0},
    {"EnvironmentFile", S_EXEC, p_environment_file, F(environment_files), 0},
    {"PassEnvironment", S_EXEC, p_list, F(pass_environment), LIST_PASS_ENV},
    {"UnsetEnvironment", S_EXEC, p_list, F(unset_environment), LIST_UNSET_ENV},
    {"WorkingDirectory", S_EXEC, p_working_directory, F(working_directory), 0},
    {"UMask", S_EXEC, p_umask, F(umask), 0},
    {"User", S_EXEC, p_string, F(user), STRING_USER},
    {"Group", S_EXEC, p_string, F(group), STRING_USER},
    {"SupplementaryGroups", S_EXEC, p_list, F(supplementary_groups), LIST_GROUPS},
    {"SyslogIdentifier", S_EXEC, p_string, F(syslog_identifier), STRING_PLAIN},
    {"SyslogLevel", S_EXEC, p_syslog_level, F(syslog_level), 0},
    {"SyslogLevelPrefix", S_EXEC, p_bool, F(syslog_level_prefix), 0},
    {"StandardOutput", S_EXEC, p_std_output, F(std_output), 0},
    {"StandardError", S_EXEC, p_std_output, F(std_error), 1},
    {"IgnoreSIGPIPE", S_EXEC, p_bool, F(ignore_sigpipe), 0},
    {"Nice", S_EXEC, p_nice, 0, 0},
    {"NoNewPrivileges", S_EXEC, p_bool, F(no_new_privileges), 0},
    {"StandardInput", S_EXEC, p_std_input, 0, 0},
    {"LimitCPU", S_EXEC, p_rlimit, 0, RLIMIT_CPU},
    {"LimitFSIZE", S_EXEC, p_rlimit, 0, RLIMIT_FSIZE},
    {"LimitDATA", S_EXEC, p_rlimit, 0, RLIMIT_DATA},
    {"LimitSTACK", S_EXEC, p_rlimit, 0, RLIMIT_STACK},
    {"LimitCORE", S_EXEC, p_rlimit, 0, RLIMIT_CORE},
    {"LimitRSS", S_EXEC, p_rlimit, 0, RLIMIT_RSS},
    {"LimitNOFILE", S_EXEC, p_rlimit, 0, RLIMIT_NOFILE},
    {"LimitAS", S_EXEC, p_rlimit, 0, RLIMIT_AS},
    {"LimitNPROC", S_EXEC, p_rlimit, 0, RLIMIT_NPROC},
    {"LimitMEMLOCK", S_EXEC, p_rlimit, 0, RLIMIT_MEMLOCK},
    {"LimitLOCKS", S_EXEC, p_rlimit, 0, RLIMIT_LOCKS},
    {"LimitSIGPENDING", S_EXEC, p_rlimit, 0, RLIMIT_SIGPENDING},
    {"LimitMSGQUEUE", S_EXEC, p_rlimit, 0, RLIMIT_MSGQUEUE},
    {"LimitNICE", S_EXEC, p_rlimit, 0, RLIMIT_NICE},
    {"LimitRTPRIO", S_EXEC, p_rlimit, 0, RLIMIT_RTPRIO},
    {"LimitRTTIME", S_EXEC, p_rlimit, 0, RLIMIT_RTTIME},
    {"LogRateLimitIntervalSec", S_EXEC, p_timespan, F(log_rate_limit_interval_usec),
     TIMESPAN_PLAIN},
    {"LogRateLimitBurst", S_EXEC, p_unsigned, F(log_rate_limit_burst), 0},
    {"RuntimeDirectory", S_EXEC, p_list, F(runtime_directory), LIST_DIRECTORIES},
    {"StateDirectory", S_EXEC, p_list, F(state_directory), LIST_DIRECTORIES},
    {"LogsDirectory", S_EXEC, p_list, F(logs_directory), LIST_DIRECTORIES},

    {"ListenStream", S_SOCKET, p_listen, F(listen_stream), 'S'},
    {"ListenDatagram", S_SOCKET, p_listen, F(listen_datagram), 'D'},
    {"ListenSequentialPacket", S_SOCKET, p_listen, F(listen_seqpacket), 'Q'},
    {"ListenFIFO", S_SOCKET, p_listen, F(listen_fifo), 'F'},
    {"Service", S_SOCKET, p_string, F(socket_service), STRING_SERVICE_NAME},
    {"SocketMode", S_SOCKET, p_mode, F(socket_mode), 0},
    {"DirectoryMode", S_SOCKET, p_mode, F(directory_mode), 0},
    {"SocketUser", S_SOCKET, p_string, F(socket_user), STRING_USER},
    {"SocketGroup", S_SOCKET, p_string, F(socket_group), STRING_USER},
    {"Backlog", S_SOCKET, p_unsigned, F(backlog), 0},
    {"Accept", S_SOCKET, p_bool, F(accept), 0},
    {"MaxConnections", S_SOCKET, p_unsigned, F(max_connections), 0},
    {"FileDescriptorName", S_SOCKET, p_string, F(fd_name), STRING_PLAIN},
    {"RemoveOnStop", S_SOCKET, p_bool, F(remove_on_stop), 0},

    {"WantedBy", S_INSTALL, p_list, F(wanted_by), LIST_INSTALL},
    {"RequiredBy", S_INSTALL, p_list, F(required_by), LIST_INSTALL},
    {"Also", S_INSTALL, p_list, F(also), LIST_INSTALL},
    {"Alias", S_INSTALL, p_list, F(alias), LIST_INSTALL},
};

/* Keys systemd knows that we read but do not act on: a warning, never a silent misreading.
 * Taken from systemd's load-fragment-gperf.gperf.in. */
static const char unsupported_unit[] =
    "SourcePath\0Upholds\0OnSuccess\0OnFailure\0PropagatesReloadTo\0PropagateReloadTo\0"
    "ReloadPropagatedFrom\0PropagateReloadFrom\0PropagatesStopTo\0StopPropagatedFrom\0"
    "JoinsNamespaceOf\0RequiresOverridable\0RequisiteOverridable\0RequiresMountsFor\0"
    "WantsMountsFor\0StopWhenUnneeded\0RefuseManualStart\0RefuseManualStop\0AllowIsolate\0"
    "DefaultDependencies\0SurviveFinalKillSignal\0OnSuccessJobMode\0OnFailureJobMode\0"
    "OnFailureIsolate\0IgnoreOnIsolate\0IgnoreOnSnapshot\0JobTimeoutAction\0JobTimeoutRebootArgumen"
    "t\0StartLimitAction\0"
    "FailureAction\0SuccessAction\0FailureActionExitStatus\0SuccessActionExitStatus\0"
    "RebootArgument\0CollectMode\0";

static const char conditions[] =
    "PathExists\0PathExistsGlob\0PathIsDirectory\0PathIsSymbolicLink\0PathIsMountPoint\0"
    "PathIsReadWrite\0PathIsEncrypted\0DirectoryNotEmpty\0FileNotEmpty\0FileIsExecutable\0"
    "NeedsUpdate\0FirstBoot\0Architecture\0Firmware\0Virtualization\0Host\0"
    "KernelCommandLine\0KernelVersion\0Version\0Credential\0Security\0Capability\0ACPower\0"
    "Memory\0CPUFeature\0CPUs\0Environment\0User\0Group\0ControlGroupController\0OSRelease\0"
    "MemoryPressure\0CPUPressure\0IOPressure\0KernelModuleLoaded\0";

static const char unsupported_service[] =
    "ExecCondition\0RestartSteps\0RestartMaxDelaySec\0TimeoutAbortSec\0"
    "TimeoutStartFailureMode\0TimeoutStopFailureMode\0RuntimeMaxSec\0"
    "RuntimeRandomizedExtraSec\0StartLimitAction\0FailureAction\0"
    "RebootArgument\0ExitType\0RestartMode\0PermissionsStartOnly\0RootDirectoryStartOnly\0"
    "SysVStartPriority\0NonBlocking\0FileDescriptorStoreMax\0FileDescriptorStorePreserve\0"
    "Sockets\0BusPolicy\0USBFunctionDescriptors\0USBFunctionStrings\0OOMPolicy\0"
    "OpenFile\0ReloadSignal\0";

static const char unsupported_socket[] =
    "ListenNetlink\0ListenSpecial\0ListenMessageQueue\0ListenUSBFunction\0SocketProtocol\0"
    "BindIPv6Only\0BindToDevice\0ExecStopPre\0TimeoutSec\0"
    "FlushPending\0Writable\0"
    "MaxConnectionsPerSource\0KeepAlive\0KeepAliveTimeSec\0KeepAliveIntervalSec\0"
    "KeepAliveProbes\0DeferAcceptSec\0NoDelay\0Priority\0ReceiveBuffer\0SendBuffer\0IPTOS\0"
    "IPTTL\0Mark\0PipeSize\0FreeBind\0Transparent\0Broadcast\0PassCredentials\0PassPIDFD\0"
    "PassSecurity\0PassPacketInfo\0AcceptFileDescriptors\0Timestamping\0TCPCongestion\0"
    "ReusePort\0MessageQueueMaxMessages\0MessageQueueMessageSize\0Symlinks\0"
    "PassFileDescriptorsToExec\0TriggerLimitIntervalSec\0"
    "TriggerLimitBurst\0PollLimitIntervalSec\0PollLimitBurst\0DeferTrigger\0"
    "DeferTriggerMaxSec\0SmackLabel\0SmackLabelIPIn\0SmackLabelIPOut\0SELinuxContextFromNet\0";

/* Exec, kill and cgroup context keys, valid in [Service] and [Socket]. */
static const char unsupported_exec[] =
    "RootDirectory\0RootImage\0RootImageOptions\0RootImagePolicy\0RootHash\0"
    "RootHashSignature\0RootVerity\0RootEphemeral\0ExtensionDirectories\0ExtensionImages\0"
    "ExtensionImagePolicy\0MountImages\0MountImagePolicy\0SetLoginEnvironment\0"
    "OOMScoreAdjust\0CoredumpFilter\0IOSchedulingClass\0IOSchedulingPriority\0"
    "CPUSchedulingPolicy\0CPUSchedulingPriority\0CPUSchedulingResetOnFork\0CPUAffinity\0"
    "NUMAPolicy\0NUMAMask\0DynamicUser\0RemoveIPC\0StandardInputText\0"
    "StandardInputData\0TTYPath\0TTYReset\0TTYVHangup\0TTYVTDisallocate\0TTYRows\0"
    "TTYColumns\0SyslogFacility\0LogLevelMax\0"
    "LogExtraFields\0LogFilterPatterns\0Capabilities\0SecureBits\0CapabilityBoundingSet\0"
    "AmbientCapabilities\0TimerSlackNSec\0KeyringMode\0ProtectProc\0"
    "ProcSubset\0PrivateBPF\0BPFDelegateCommands\0BPFDelegateMaps\0BPFDelegatePrograms\0"
    "BPFDelegateAttachments\0SystemCallFilter\0SystemCallArchitectures\0"
    "SystemCallErrorNumber\0SystemCallLog\0MemoryDenyWriteExecute\0RestrictNamespaces\0"
    "RestrictRealtime\0RestrictSUIDSGID\0RestrictAddressFamilies\0LockPersonality\0"
    "DelegateNamespaces\0RestrictFileSystems\0LandlockConfig\0"
    ""
    ""
    "ReadWriteDirectories\0ReadOnlyDirectories\0InaccessibleDirectories\0"
    "ReadWritePaths\0ReadOnlyPaths\0InaccessiblePaths\0ExecPaths\0NoExecPaths\0"
    "ExecSearchPath\0BindPaths\0BindReadOnlyPaths\0TemporaryFileSystem\0PrivateTmp\0"
    "PrivateDevices\0ProtectKernelTunables\0ProtectKernelModules\0ProtectKernelLogs\0"
    "ProtectClock\0ProtectControlGroups\0NetworkNamespacePath\0IPCNamespacePath\0"
    "LogNamespace\0PrivateNetwork\0PrivateUsers\0PrivateMounts\0PrivateIPC\0PrivatePIDs\0"
    "ProtectSystem\0ProtectHome\0MountFlags\0MountAPIVFS\0BindLogSockets\0Personality\0"
    "RuntimeDirectoryPreserve\0RuntimeDirectoryMode\0StateDirectoryMode\0"
    "StateDirectoryAccounting\0StateDirectoryQuota\0CacheDirectoryMode\0"
    "CacheDirectoryAccounting\0CacheDirectoryQuota\0CacheDirectory\0LogsDirectoryMode\0"
    "LogsDirectoryAccounting\0LogsDirectoryQuota\0ConfigurationDirectoryMode\0"
    "ConfigurationDirectory\0SetCredential\0SetCredentialEncrypted\0LoadCredential\0"
    "LoadCredentialEncrypted\0ImportCredential\0TimeoutCleanSec\0PAMName\0UtmpIdentifier\0"
    "UtmpMode\0SELinuxContext\0AppArmorProfile\0SmackProcessLabel\0ProtectHostname\0"
    "MemoryKSM\0WatchdogSignal\0"
    /* cgroup context */
    "Slice\0AllowedCPUs\0StartupAllowedCPUs\0AllowedMemoryNodes\0StartupAllowedMemoryNodes\0"
    "CPUAccounting\0CPUWeight\0StartupCPUWeight\0CPUShares\0StartupCPUShares\0CPUQuota\0"
    "CPUQuotaPeriodSec\0MemoryAccounting\0MemoryMin\0DefaultMemoryMin\0DefaultMemoryLow\0"
    "DefaultStartupMemoryLow\0MemoryLow\0StartupMemoryLow\0MemoryHigh\0StartupMemoryHigh\0"
    "MemoryMax\0StartupMemoryMax\0MemorySwapMax\0StartupMemorySwapMax\0MemoryZSwapMax\0"
    "StartupMemoryZSwapMax\0MemoryZSwapWriteback\0MemoryLimit\0DeviceAllow\0DevicePolicy\0"
    "IOAccounting\0IOWeight\0StartupIOWeight\0IODeviceWeight\0IOReadBandwidthMax\0"
    "IOWriteBandwidthMax\0IOReadIOPSMax\0IOWriteIOPSMax\0IODeviceLatencyTargetSec\0"
    "BlockIOAccounting\0BlockIOWeight\0StartupBlockIOWeight\0BlockIODeviceWeight\0"
    "BlockIOReadBandwidth\0BlockIOWriteBandwidth\0TasksAccounting\0TasksMax\0Delegate\0"
    "DelegateSubgroup\0DisableControllers\0IPAccounting\0IPAddressAllow\0IPAddressDeny\0"
    "IPIngressFilterPath\0IPEgressFilterPath\0ManagedOOMSwap\0ManagedOOMMemoryPressure\0"
    "ManagedOOMMemoryPressureLimit\0ManagedOOMMemoryPressureDurationSec\0"
    "ManagedOOMPreference\0NetClass\0BPFProgram\0SocketBindAllow\0SocketBindDeny\0"
    "RestrictNetworkInterfaces\0MemoryPressureThresholdSec\0MemoryPressureWatch\0NFTSet\0"
    "CoredumpReceive\0";

static const char unsupported_install[] = "UpheldBy\0DefaultInstance\0";

/* Membership in a "a\0b\0" list. */
static bool nulstr_contains(const char *list, const char *s)
{
    for (const char *p = list; *p; p += strlen(p) + 1)
        if (strcmp(p, s) == 0)
            return true;
    return false;
}

/* Whether systemd knows `key` in `sec` (so the warning says "Unsupported", not "Unknown"). */
static bool key_is_unsupported(enum section sec, const char *key)
{
    switch (sec) {
    case SECTION_UNIT:
        if (strncmp(key, "Condition", 9) == 0 && nulstr_contains(conditions, key + 9))
            return true;
        if (strncmp(key, "Assert", 6) == 0 && nulstr_contains(conditions, key + 6))
            return true;
        return nulstr_contains(unsupported_unit, key);
    case SECTION_SERVICE:
        return nulstr_contains(unsupported_service, key) || nulstr_contains(unsupported_exec, key);
    case SECTION_SOCKET:
        return nulstr_contains(unsupported_socket, key) || nulstr_contains(unsupported_exec, key);
    case SECTION_INSTALL:
        return nulstr_contains(unsupported_install, key);
    default:
        return false;
    }
}

/* ---- the reader: systemd's lexing, short lines for inih ------------------------------------ */

/* Sections a unit of this kind may have; others are unknown, as in systemd. */
static enum section section_from_name(const struct parser *ps, const char *n)
{
    if (strcmp(n, "Unit") == 0)
        return SECTION_UNIT;
    if (strcmp(n, "Install") == 0)
        return SECTION_INSTALL;
    if (strcmp(n, "Service") == 0 && ps->c->kind == UNIT_KIND_SERVICE)
        return SECTION_SERVICE;
    if (strcmp(n, "Socket") == 0 && ps->c->kind == UNIT_KIND_SOCKET)
        return SECTION_SOCKET;
    return SECTION_IGNORED;
}

/* Whether `s` can be shown to inih as it is: short, and no character inih treats specially
 * (";", "#", "=", ":", "[", "]", blanks). */
static bool inih_safe(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return false;
    for (const char *p = s; *p; p++)
        if (!(((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') || (*p >= '0' && *p <= '9') ||
              strchr("-_.", *p)))
            return false;
    return true;
}

/* Handles one logical line (comments already dropped) and sets ps->pending to what inih is to
 * see for it. */
static void lex_logical_line(struct parser *ps, char *l, unsigned line)
{
    char *e, *key, *value;
    struct assignment *grown;

    strcpy(ps->pending, "\n");
    l = strip(l);
    if (*l == '\0')
        return;
    if (!utf8_is_valid(l)) {
        diag_add(ps, DIAG_ERROR, line, "String is not UTF-8 clean, refusing.");
        return;
    }

    if (l[0] == '[') {
        size_t k = strlen(l);
        enum section sec;

        if (l[k - 1] != ']') {
            diag_add(ps, DIAG_ERROR, line, "Invalid section header '%s'", l);
            return;
        }
        l[k - 1] = '\0';
        if (!string_is_safe(l + 1)) {
            l[k - 1] = ']';
            diag_add(ps, DIAG_ERROR, line, "Bad characters in section header '%s'", l);
            return;
        }
        sec = section_from_name(ps, l + 1);
        if (sec == SECTION_IGNORED && strncmp(l + 1, "X-", 2) != 0)
            diag_add(ps, DIAG_WARNING, line, "Unknown section '%s'. Ignoring.", l + 1);
        ps->section = sec;
        snprintf(ps->pending, sizeof(ps->pending), "[%s]\n", inih_safe(l + 1, 40) ? l + 1 : "-");
        return;
    }

    if (ps->section == SECTION_NONE) {
        diag_add(ps, DIAG_WARNING, line, "Assignment outside of section. Ignoring.");
        return;
    }
    if (ps->section == SECTION_IGNORED)
        return;

    e = strchr(l, '=');
    if (!e) {
        diag_add(ps, DIAG_WARNING, line, "Missing '=', ignoring line.");
        return;
    }
    if (e == l) {
        diag_add(ps, DIAG_WARNING, line, "Missing key name before '=', ignoring line.");
        return;
    }
    *e = '\0';
    key = strdup(strip(l));
    value = strdup(strip(e + 1));
    grown = ps->table;
    if ((ps->n_table & (ps->n_table - 1)) == 0) /* grow at powers of two */
        grown = realloc(ps->table, (ps->n_table ? 2 * ps->n_table : 1) * sizeof(*grown));
    if (!key || !value || !grown) {
        free(key);
        free(value);
        if (grown)
            ps->table = grown;
        ps->fatal = -ENOMEM;
        return;
    }
    ps->table = grown;
    grown[ps->n_table] = (struct assignment){.key = key, .value = value, .line = line};
    snprintf(ps->pending, sizeof(ps->pending), "%s=%zu\n", inih_safe(key, INIH_KEY_MAX) ? key : "K",
             ps->n_table);
    ps->n_table++;
}

/* Reads one physical line: content in [*ret_start, +*ret_len), EOL bytes consumed the way
 * systemd's read_line() does ("\n", "\r", "\r\n", "\n\r" and NUL each end a line). */
static int read_physical_line(struct parser *ps, const char **ret_start, size_t *ret_len)
{
    const char *s = ps->text + ps->pos;
    size_t n = 0, left = ps->len - ps->pos;
    unsigned seen = 0;

    while (n < left && s[n] != '\n' && s[n] != '\r' && s[n] != '\0')
        n++;
    if (n > LINE_MAX_BYTES)
        return -ENOBUFS;
    *ret_start = s;
    *ret_len = n;
    ps->pos += n;
    while (ps->pos < ps->len) {
        char c = ps->text[ps->pos];
        unsigned bit = c == '\n' ? 1 : c == '\r' ? 2 : c == '\0' ? 4 : 0;

        if (bit == 0 || (seen & bit) || (seen & 4))
            break;
        seen |= bit;
        ps->pos++;
    }
    return 0;
}

/* Lexes the next logical line: counts its physical lines (inih gets a blank line for each but
 * the last) and prepares what inih sees for the last. False at the end of input. */
static bool lex_next(struct parser *ps)
{
    char *cont = NULL;
    size_t cont_len = 0, cont_cap = 0;
    unsigned nphys = 0;

    strcpy(ps->pending, "\n"); /* what inih sees unless the line turns out to say more */

    while (ps->pos < ps->len || cont) {
        const char *start;
        size_t n;
        bool escaped = false;
        char *grown;

        if (ps->pos >= ps->len) {
            /* The file ended inside a continuation: what we have is the line. */
            lex_logical_line(ps, cont, ps->line);
            goto done;
        }
        if (read_physical_line(ps, &start, &n) < 0) {
            diag_add(ps, DIAG_ERROR, ps->line + 1, "Line too long");
            ps->fatal = -ENOBUFS;
            goto done; /* pending is a blank line */
        }
        ps->line++;
        nphys++;
        if (ps->line == 1 && n >= 3 && memcmp(start, "\xef\xbb\xbf", 3) == 0) {
            start += 3;
            n -= 3;
        }

        /* Comment lines are dropped, also in the middle of a continuation. */
        {
            size_t ws = 0;
            while (ws < n && strchr(" \t", start[ws]))
                ws++;
            if (ws < n && (start[ws] == '#' || start[ws] == ';')) {
                if (cont)
                    continue;
                goto done; /* pending is a blank line */
            }
        }

        if (cont_len + n > LINE_MAX_BYTES) {
            diag_add(ps, DIAG_ERROR, ps->line, "Continuation line too long");
            ps->fatal = -ENOBUFS;
            goto done; /* pending is a blank line */
        }
        if (cont_len + n + 1 > cont_cap) {
            /* Doubling keeps long chains of continuation lines linear. */
            size_t cap = cont_cap ? cont_cap : 256;
            while (cap < cont_len + n + 1)
                cap *= 2;
            grown = realloc(cont, cap);
            if (!grown) {
                ps->fatal = -ENOMEM;
                goto done; /* pending is a blank line */
            }
            cont = grown;
            cont_cap = cap;
        }
        memcpy(cont + cont_len, start, n);

        /* A trailing backslash that is not itself escaped continues the line; it becomes a
         * space, as in systemd. Only the new part needs scanning: what came before ended in
         * that space. */
        for (size_t i = cont_len; i < cont_len + n; i++)
            escaped = escaped ? false : cont[i] == '\\';
        cont_len += n;
        cont[cont_len] = '\0';
        if (escaped) {
            cont[cont_len - 1] = ' ';
            continue;
        }
        lex_logical_line(ps, cont, ps->line);
        goto done;
    }
    free(cont);
    return false;

done:
    free(cont);
    ps->have_pending = true;
    ps->owed_blanks = nphys > 0 ? nphys - 1 : 0;
    return true;
}

/* inih's fgets()-like reader: owed blank lines first, then the prepared line; NULL at the end
 * of input or after a fatal problem. Every line fits inih's 200-byte buffer. */
static char *reader(char *str, int num, void *stream)
{
    struct parser *ps = stream;
    const char *out;

    if (ps->owed_blanks == 0 && !ps->have_pending) {
        /* Stop at the first fatal problem, as systemd's config_parse() does. */
        if (ps->fatal < 0 || !lex_next(ps))
            return NULL;
    }
    if (ps->owed_blanks > 0) {
        ps->owed_blanks--;
        out = "\n";
    } else {
        ps->have_pending = false;
        out = ps->pending;
    }
    snprintf(str, (size_t)num, "%s", out);
    return str;
}

/* ---- the inih handler ---------------------------------------------------------------------- */

/* Condition*=/Assert*= (systemd's config_parse_unit_condition_*()): "|" then "!" prefixes,
 * specifiers resolved, paths absolute; an empty value resets that list. */
static void p_condition(struct parser *ps, const struct assignment *a, bool is_assert, int type)
{
    struct unit_config *c = ps->c;
    const char *v = a->value;
    struct condition cond = {.type = (enum condition_type)type, .is_assert = is_assert};
    struct condition *grown;

    if (is_empty(v)) {
        size_t k = 0;
        for (size_t i = 0; i < c->n_conditions; i++) {
            if (c->conditions[i].is_assert == is_assert)
                free(c->conditions[i].parameter);
            else
                c->conditions[k++] = c->conditions[i];
        }
        c->n_conditions = k;
        return;
    }
    if (*v == '|') {
        cond.trigger = true;
        for (v++; *v == ' ' || *v == '\t'; v++)
            ;
    }
    if (*v == '!') {
        cond.negate = true;
        for (v++; *v == ' ' || *v == '\t'; v++)
            ;
    }
    if (resolve_or_warn(ps, a, v, &cond.parameter) < 0)
        return;
    if (condition_type_is_path(cond.type) && cond.parameter[0] != '/') {
        diag_add(ps, DIAG_WARNING, a->line, "Path in condition not absolute, ignoring: %s",
                 cond.parameter);
        free(cond.parameter);
        return;
    }
    grown = realloc(c->conditions, (c->n_conditions + 1) * sizeof(*grown));
    if (!grown) {
        free(cond.parameter);
        ps->fatal = -ENOMEM;
        return;
    }
    c->conditions = grown;
    c->conditions[c->n_conditions++] = cond;
}

/* Applies one assignment to the config. */
static void apply(struct parser *ps, enum section sec, const struct assignment *a)
{
    if (sec == SECTION_UNIT) {
        bool is_assert = strncmp(a->key, "Assert", 6) == 0;
        int t = -1;

        if (is_assert)
            t = condition_type_from_string(a->key + 6);
        else if (strncmp(a->key, "Condition", 9) == 0)
            t = condition_type_from_string(a->key + 9);
        if (t >= 0) {
            p_condition(ps, a, is_assert, t);
            return;
        }
    }
    for (size_t i = 0; i < sizeof(key_defs) / sizeof(key_defs[0]); i++) {
        const struct key_def *d = &key_defs[i];

        if ((d->sections & (1U << sec)) && strcmp(d->key, a->key) == 0) {
            d->parse(ps, d, a, (char *)ps->c + d->offset);
            return;
        }
    }
    if (strncmp(a->key, "X-", 2) == 0)
        return;
    if (sec == SECTION_SOCKET && strncmp(a->key, "Listen", 6) == 0 && !is_empty(a->value))
        ps->other_listen = true;
    if (sec == SECTION_UNIT && strcmp(a->key, "SuccessAction") == 0)
        ps->success_action_set = !is_empty(a->value) && strcmp(a->value, "none") != 0;
    if (key_is_unsupported(sec, a->key))
        diag_add(ps, DIAG_WARNING, a->line, "Unsupported key name '%s' in section '%s', ignoring.",
                 a->key, section_names[sec]);
    else
        diag_add(ps, DIAG_WARNING, a->line, "Unknown key name '%s' in section '%s', ignoring.",
                 a->key, section_names[sec]);
}

/* inih's callback: `value` is the index of the assignment in the side table. */
static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct parser *ps = user;
    struct assignment *a;
    enum section sec = SECTION_IGNORED;
    unsigned long idx;
    char *e;

    (void)name; /* the side table has the key as written, whatever inih was shown */
    if (ps->fatal < 0)
        return 1;
    for (int i = SECTION_UNIT; i <= SECTION_INSTALL; i++)
        if (strcmp(section, section_names[i]) == 0)
            sec = (enum section)i;
    idx = strtoul(value, &e, 10);
    if (sec == SECTION_IGNORED || *e != '\0' || idx >= ps->n_table || !ps->table[idx].key)
        return 1; /* cannot happen: the reader sends only assignments of known sections */
    a = &ps->table[idx];
    ps->cur_line = a->line;
    apply(ps, sec, a);

    /* Each assignment is used once: its text need not live until the end of the file. */
    free(a->key);
    free(a->value);
    a->key = a->value = NULL;
    return ps->fatal == -ENOMEM ? 0 : 1;
}

/* ---- config lifecycle and checks ----------------------------------------------------------- */

struct unit_config *unit_config_free(struct unit_config *c)
{
    if (!c)
        return NULL;
    for (size_t i = 0; i < c->n_conditions; i++)
        free(c->conditions[i].parameter);
    free(c->conditions);
    free(c->name);
    free(c->path);
    free(c->source_text);
    strv_free(c->dropin_paths);
    strv_free(c->dropin_texts);
    free(c->description);
    strv_free(c->documentation);
    strv_free(c->requires);
    strv_free(c->wants);
    strv_free(c->requisite);
    strv_free(c->binds_to);
    strv_free(c->part_of);
    strv_free(c->conflicts);
    strv_free(c->after);
    strv_free(c->before);
    exec_list_done(&c->exec_start_pre);
    exec_list_done(&c->exec_start);
    exec_list_done(&c->exec_start_post);
    exec_list_done(&c->exec_reload);
    exec_list_done(&c->exec_stop);
    exec_list_done(&c->exec_stop_post);
    free(c->pid_file);
    strv_free(c->environment);
    strv_free(c->environment_files);
    strv_free(c->pass_environment);
    strv_free(c->unset_environment);
    free(c->working_directory);
    free(c->user);
    free(c->group);
    strv_free(c->supplementary_groups);
    free(c->syslog_identifier);
    free(c->std_output_path);
    free(c->std_error_path);
    strv_free(c->runtime_directory);
    strv_free(c->state_directory);
    strv_free(c->logs_directory);
    strv_free(c->listen_stream);
    strv_free(c->listen_datagram);
    strv_free(c->listen_seqpacket);
    strv_free(c->listen_fifo);
    strv_free(c->listens);
    free(c->socket_service);
    free(c->socket_user);
    free(c->socket_group);
    free(c->fd_name);
    strv_free(c->wanted_by);
    strv_free(c->required_by);
    strv_free(c->also);
    strv_free(c->alias);
    free(c);
    return NULL;
}

/* systemd's defaults (systemd.service(5), systemd.exec(5), systemd.kill(5)). */
static void config_set_defaults(struct unit_config *c)
{
    c->start_limit_interval_usec = 10 * USEC_PER_SEC;
    c->start_limit_burst = 5;
    c->job_timeout_usec = USEC_INFINITY;
    c->job_running_timeout_usec = USEC_INFINITY;
    c->type = SERVICE_TYPE_SIMPLE;
    c->restart = RESTART_NO;
    c->restart_usec = 100 * USEC_PER_MSEC;
    c->timeout_start_usec = 90 * USEC_PER_SEC;
    c->timeout_stop_usec = 90 * USEC_PER_SEC;
    c->guess_main_pid = true;
    c->kill_mode = KILL_MODE_CONTROL_GROUP;
    c->kill_signal = SIGTERM;
    c->restart_kill_signal = 0; /* resolved to kill_signal after parsing */
    c->final_kill_signal = SIGKILL;
    c->send_sigkill = true;
    c->send_sighup = false;
    c->umask = 0022;
    c->syslog_level = LOG_INFO;
    c->syslog_level_prefix = true;
    c->std_output = STD_OUTPUT_JOURNAL;
    c->std_error = STD_OUTPUT_INHERIT; /* i.e. wherever stdout goes */
    c->ignore_sigpipe = true;
    c->log_rate_limit_interval_usec = USEC_INFINITY - 1; /* unset: the journal's default */
    c->log_rate_limit_burst = UINT_MAX;                  /* unset */
    c->socket_mode = 0666;
    c->directory_mode = 0755;
    c->max_connections = 64;
}

/* systemd's service_add_extras() and service_verify(), and socket_verify(). */
static void config_verify(struct parser *ps)
{
    struct unit_config *c = ps->c;

    if (c->restart_kill_signal == 0)
        c->restart_kill_signal = c->kill_signal;
    env_finish(ps);
    if (ps->fatal < 0)
        return;

    if (c->kind == UNIT_KIND_SOCKET) {
        if (!c->listen_stream && !c->listen_datagram && !c->listen_seqpacket && !c->listen_fifo &&
            !ps->other_listen)
            diag_add(ps, DIAG_ERROR, 0,
                     "Unit has no Listen setting (ListenStream=, ListenDatagram=, ListenFIFO=, "
                     "...). Refusing.");
        if (c->accept && c->socket_service) {
            diag_add(ps, DIAG_ERROR, 0,
                     "Explicit service configuration for accepting socket units not supported. "
                     "Refusing.");
            return;
        }
        if (c->accept && (c->listen_datagram || c->listen_fifo))
            diag_add(ps, DIAG_ERROR, 0,
                     "Unit configured for accepting sockets, but sockets are non-accepting. "
                     "Refusing.");
        if (!c->socket_service) {
            const char *dot = strrchr(c->name, '.');
            /* The service of "foo.socket" is "foo.service"; with Accept=yes each connection
             * gets an instance of the template "foo@.service". */
            if (asprintf(&c->socket_service, c->accept ? "%.*s@.service" : "%.*s.service",
                         (int)(dot - c->name), c->name) < 0) {
                c->socket_service = NULL;
                ps->fatal = -ENOMEM;
            }
        }
        return;
    }

    /* Without Type=, systemd picks dbus with BusName=, simple with ExecStart=, else oneshot. */
    if (!ps->type_set)
        c->type = ps->bus_name_set      ? SERVICE_TYPE_DBUS
                  : c->exec_start.n > 0 ? SERVICE_TYPE_SIMPLE
                                        : SERVICE_TYPE_ONESHOT;
    /* Oneshot services have no start timeout unless one is set. */
    if (c->type == SERVICE_TYPE_ONESHOT && !ps->start_timeout_set)
        c->timeout_start_usec = USEC_INFINITY;

    if (c->exec_start.n == 0 && c->exec_stop.n == 0 && !ps->success_action_set) {
        /* Without Type= systemd says "Service has no ExecStart=, ExecStop=, or SuccessAction=";
         * the ExecStart= wording tells the user more. */
        if (ps->type_set && c->type == SERVICE_TYPE_ONESHOT)
            diag_add(ps, DIAG_ERROR, 0,
                     "Service has no ExecStart=, ExecStop=, or SuccessAction=. Refusing.");
        else
            diag_add(ps, DIAG_ERROR, 0,
                     "Service has no ExecStart= setting, which is only allowed for Type=oneshot "
                     "services. Refusing.");
        return;
    }
    if (c->type != SERVICE_TYPE_ONESHOT && c->exec_start.n == 0) {
        diag_add(ps, DIAG_ERROR, 0,
                 "Service has no ExecStart= setting, which is only allowed for Type=oneshot "
                 "services. Refusing.");
        return;
    }
    if (!c->remain_after_exit && c->exec_start.n == 0 && !ps->success_action_set) {
        diag_add(ps, DIAG_ERROR, 0,
                 "Service has no ExecStart= and no SuccessAction= settings and does not have "
                 "RemainAfterExit=yes set. Refusing.");
        return;
    }
    if (c->type != SERVICE_TYPE_ONESHOT && c->exec_start.n > 1) {
        diag_add(ps, DIAG_ERROR, 0,
                 "Service has more than one ExecStart= setting, which is only allowed for "
                 "Type=oneshot services. Refusing.");
        return;
    }
    if (c->type == SERVICE_TYPE_ONESHOT &&
        (c->restart == RESTART_ALWAYS || c->restart == RESTART_ON_SUCCESS)) {
        diag_add(ps, DIAG_ERROR, 0,
                 "Service has Restart= set to either always or on-success, which isn't allowed "
                 "for Type=oneshot services. Refusing.");
        return;
    }
    if (c->type == SERVICE_TYPE_ONESHOT &&
        !exit_status_set_is_empty(&c->restart_force_exit_status)) {
        diag_add(ps, DIAG_ERROR, 0,
                 "Service has RestartForceExitStatus= set, which isn't allowed for Type=oneshot "
                 "services. Refusing.");
        return;
    }
    if (c->type == SERVICE_TYPE_DBUS && !ps->bus_name_set)
        diag_add(ps, DIAG_ERROR, 0,
                 "Service is of type D-Bus but no D-Bus service name has been specified. "
                 "Refusing.");
    /* systemd: Type=notify (and a WatchdogSec=) imply NotifyAccess=main unless set. */
    if (!ps->notify_access_set && (c->type == SERVICE_TYPE_NOTIFY || c->watchdog_usec > 0))
        c->notify_access = NOTIFY_ACCESS_MAIN;
}

/* One file to parse: the unit file first, then its drop-ins. */
struct unit_source {
    const char *path;
    const char *text; /* may be NULL when len is 0 */
    size_t len;
};

/* Copies the drop-ins' paths and texts into the config, for show, status and cat. */
static int config_keep_dropins(struct unit_config *c, const struct unit_source *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *text = malloc(src[i].len + 1);

        if (!text || strv_extend(&c->dropin_paths, src[i].path) < 0) {
            free(text);
            return -ENOMEM;
        }
        if (src[i].len > 0)
            memcpy(text, src[i].text, src[i].len);
        text[src[i].len] = '\0';
        if (strv_push(&c->dropin_texts, text) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* The whole pipeline: name checks, defaults, ini_parse_stream() with our reader and handler for
 * each file in turn (as systemd parses drop-ins after the unit file, into the same unit), then
 * the checks. The config is handed out only when nothing fatal happened. */
static int load_sources(const struct unit_source *src, size_t n_src, const char *name,
                        const struct unit_load_context *ctx, struct unit_config **ret_config,
                        struct unit_diags *diags)
{
    const char *main_path = src[0].path ? src[0].path : "<string>";
    struct parser ps = {.path = main_path, .ctx = ctx, .diags = diags};
    struct unit_config *c = NULL;
    enum unit_kind kind;
    const char *base;
    int r;

    if (!name) {
        base = strrchr(ps.path, '/');
        name = base ? base + 1 : ps.path;
    }
    ps.name = name;
    if (unit_name_check(name, false, false, true)) {
        /* A template loaded by itself is checked as `systemd-analyze verify` does: as an
         * instance named "test_instance", so that %i-based settings stay valid. */
        const char *at = strchr(name, '@');
        if (asprintf(&ps.name_owned, "%.*stest_instance%s", (int)(at + 1 - name), name, at + 1) <
            0) {
            ps.name_owned = NULL;
            r = -ENOMEM;
            goto out;
        }
        ps.name = ps.name_owned;
    }
    if (unit_name_kind(name, &kind) < 0) {
        diag_add(&ps, DIAG_ERROR, 0, "Unit name '%s' is not a valid service or socket name.", name);
        r = ps.fatal == -ENOMEM ? -ENOMEM : -EINVAL;
        goto out;
    }

    c = calloc(1, sizeof(*c));
    if (!c) {
        r = -ENOMEM;
        goto out;
    }
    config_set_defaults(c);
    c->kind = kind;
    c->name = strdup(name);
    c->path = strdup(ps.path);
    c->source_text = malloc(src[0].len + 1);
    if (!c->name || !c->path || !c->source_text || config_keep_dropins(c, src + 1, n_src - 1) < 0) {
        r = -ENOMEM;
        goto out;
    }
    if (src[0].len > 0) /* text may be NULL when empty */
        memcpy(c->source_text, src[0].text, src[0].len);
    c->source_text[src[0].len] = '\0';
    ps.c = c;

    /* Each file starts afresh: line 1, no section. Only the config and the facts for the final
     * checks carry over, so that a drop-in's settings land exactly as if appended. */
    for (size_t i = 0; i < n_src && ps.fatal == 0; i++) {
        ps.text = src[i].text;
        ps.len = src[i].len;
        ps.pos = 0;
        ps.line = 0;
        ps.owed_blanks = 0;
        ps.have_pending = false;
        ps.section = SECTION_NONE;
        ps.path = i == 0 ? main_path : src[i].path;
        r = ini_parse_stream(reader, &ps, handler, &ps);
        if (r == -2 && ps.fatal == 0)
            ps.fatal = -ENOMEM;
    }
    /* The final checks are about the unit as a whole: they name the unit file. */
    ps.path = main_path;
    if (ps.fatal == 0)
        config_verify(&ps);
    r = ps.fatal;
    if (r < 0)
        goto out;

    *ret_config = c;
    c = NULL;
    r = 0;
out:
    for (size_t i = 0; i < ps.n_table; i++) {
        free(ps.table[i].key);
        free(ps.table[i].value);
    }
    free(ps.table);
    free(ps.name_owned);
    unit_config_free(c);
    return r;
}

int unit_file_load_string(const char *text, size_t len, const char *path, const char *name,
                          const struct unit_load_context *ctx, struct unit_config **ret_config,
                          struct unit_diags *diags)
{
    struct unit_source src = {.path = path, .text = text, .len = len};

    return load_sources(&src, 1, name, ctx, ret_config, diags);
}

/* ---- drop-ins ------------------------------------------------------------------------------ */

/* Appends "<name>.d" to the list of drop-in directories unless it is there already. */
static int dropin_dir_add(char ***dirs, const char *name)
{
    char *d;

    if (asprintf(&d, "%s.d", name) < 0)
        return -ENOMEM;
    for (char **i = *dirs; i && *i; i++)
        if (strcmp(*i, d) == 0) {
            free(d);
            return 0;
        }
    return strv_push(dirs, d);
}

/* systemd's unit_file_find_dirs() for one unit directory: <name>.d, then for an instance all of
 * its template's, then those of the name cut after its last dash ("a-b-c.service" ->
 * "a-b-.service", "a-b-@i.service" for an instance), recursively: most specific first. */
static int dropin_dirs_for(char ***dirs, const char *name)
{
    const char *at = strchr(name, '@'), *dot = strrchr(name, '.');
    bool is_instance = unit_name_check(name, false, true, false);
    bool chopped = false;
    char *prefix, *built = NULL;
    int r;

    r = dropin_dir_add(dirs, name);
    if (r < 0)
        return r;
    if (is_instance) {
        char *template;

        if (asprintf(&template, "%.*s%s", (int)(at + 1 - name), name, dot) < 0)
            return -ENOMEM;
        r = dropin_dirs_for(dirs, template);
        free(template);
        if (r < 0)
            return r;
    }

    /* The prefix is what comes before "@" or the suffix. A trailing dash (the name is itself a
     * cut one, "a-b-.service") is dropped once, so that the next cut is at the dash before. */
    prefix = strndup(name, (size_t)((at ? at : dot) - name));
    if (!prefix)
        return -ENOMEM;
    for (;;) {
        char *dash = strrchr(prefix, '-');

        if (!dash || dash == prefix)
            goto out; /* no dash, or only a leading one: nothing to cut */
        if (dash[1] != '\0' || chopped) {
            dash[1] = '\0';
            break;
        }
        *dash = '\0';
        chopped = true;
    }
    if (is_instance)
        r = asprintf(&built, "%s@%.*s%s", prefix, (int)(dot - at - 1), at + 1, dot);
    else
        r = asprintf(&built, "%s%s", prefix, dot);
    if (r < 0) {
        built = NULL;
        r = -ENOMEM;
        goto out;
    }
    r = dropin_dirs_for(dirs, built);
out:
    free(built);
    free(prefix);
    return r < 0 ? r : 0;
}

static int compare_basename(const void *x, const void *y)
{
    const char *a = *(char *const *)x, *b = *(char *const *)y;

    return strcmp(strrchr(a, '/') + 1, strrchr(b, '/') + 1);
}

/* systemd's null_or_empty(): what masks a unit file or a drop-in, an empty regular file or a
 * character device (a link to /dev/null, whatever its numbers). */
static bool null_or_empty(const struct stat *st)
{
    return (S_ISREG(st->st_mode) && st->st_size <= 0) || S_ISCHR(st->st_mode);
}

/* Adds the "*.conf" files of one directory whose names were not claimed by a more specific
 * directory. Hidden files are skipped, as systemd does; so is what cannot be stat()ed. */
static int dropin_dir_scan(const char *dir, char ***seen, size_t *n_seen, char ***files)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int r = 0;

    if (!d)
        return 0; /* a directory that is not there (or not readable) has no drop-ins */
    while (r >= 0 && (de = readdir(d))) {
        const char *fn = de->d_name;
        size_t k = strlen(fn);
        bool claimed = false, masked;
        struct stat st;
        char *path;

        if (fn[0] == '.' || k <= 5 || strcmp(fn + k - 5, ".conf") != 0)
            continue;
        for (char **i = *seen; i && *i && !claimed; i++)
            claimed = strcmp(*i, fn) == 0;
        if (claimed)
            continue;
        if (asprintf(&path, "%s/%s", dir, fn) < 0) {
            r = -ENOMEM;
            break;
        }
        if (stat(path, &st) < 0) {
            free(path);
            continue;
        }
        /* An empty file or a link to /dev/null masks the drop-ins of that name further down. */
        masked = null_or_empty(&st);
        if (!masked && !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        if (++*n_seen > DROPINS_MAX) {
            free(path);
            r = -E2BIG;
            break;
        }
        r = strv_extend(seen, fn);
        if (r >= 0 && !masked)
            r = strv_push(files, path);
        else
            free(path);
    }
    closedir(d);
    return r;
}

int unit_dropins_find(const char *dir, const char *name, char ***ret_paths)
{
    char **dirs = NULL, **seen = NULL, **files = NULL;
    size_t n_seen = 0, n;
    int r = 0;

    if (!unit_name_is_valid(name)) {
        *ret_paths = NULL;
        return 0; /* the load reports the name */
    }
    r = dropin_dirs_for(&dirs, name);
    /* The unit type's service.d/ or socket.d/ comes last: the least specific. */
    if (r >= 0)
        r = dropin_dir_add(&dirs, strrchr(name, '.') + 1);
    for (char **i = dirs; r >= 0 && i && *i; i++) {
        char *path;

        if (asprintf(&path, "%s/%s", dir, *i) < 0) {
            r = -ENOMEM;
            break;
        }
        r = dropin_dir_scan(path, &seen, &n_seen, &files);
        free(path);
    }
    strv_free(dirs);
    strv_free(seen);
    if (r < 0) {
        strv_free(files);
        return r;
    }
    n = strv_length(files);
    if (files && n > 1)
        qsort(files, n, sizeof(*files), compare_basename);
    *ret_paths = files;
    return (int)n;
}

/* Reports a failure to read the file as a diagnostic about the whole file. */
static int load_error(const char *path, struct unit_diags *diags, int r, const char *what,
                      bool dropin)
{
    struct parser ps = {.path = path, .diags = diags};

    diag_add(&ps, DIAG_ERROR, 0, "Failed to %s %s file '%s': %s", what, dropin ? "drop-in" : "unit",
             path, strerror(-r));
    return ps.fatal == -ENOMEM ? -ENOMEM : r;
}

/* Reads a unit file or drop-in (size-limited, regular files only) into *ret_text (owned by the
 * caller, NULL when empty) and *ret_len. A unit file that is empty or linked to /dev/null is
 * masked (-ERFKILL, no diagnostic: the caller names the unit); a drop-in that is one reads as
 * empty. */
static int read_unit_text(const char *path, bool dropin, struct unit_diags *diags, char **ret_text,
                          size_t *ret_len)
{
    struct stat st;
    char *text = NULL;
    size_t n = 0, cap;
    int fd, r;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return load_error(path, diags, -errno, "open", dropin);
    if (fstat(fd, &st) < 0) {
        r = load_error(path, diags, -errno, "stat", dropin);
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        r = load_error(path, diags, -EISDIR, "read", dropin);
        goto out;
    }
    if (null_or_empty(&st)) {
        /* As systemd's unit_load_fragment(): the unit is masked, not a unit without settings. */
        if (dropin) {
            r = 0;
            goto done;
        }
        r = -ERFKILL;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        r = load_error(path, diags, -EBADFD, "read", dropin);
        goto out;
    }
    if (st.st_size > (off_t)FILE_MAX_BYTES) {
        r = load_error(path, diags, -EFBIG, "read", dropin);
        goto out;
    }

    /* Read to the end rather than trusting st_size: the file may change while we read. */
    cap = (size_t)st.st_size + 4096;
    text = malloc(cap);
    if (!text) {
        r = -ENOMEM;
        goto out;
    }
    for (;;) {
        ssize_t k;

        if (n == cap) {
            char *grown;
            cap = cap * 2 > FILE_MAX_BYTES + 1 ? FILE_MAX_BYTES + 1 : cap * 2;
            grown = realloc(text, cap);
            if (!grown) {
                r = -ENOMEM;
                goto out;
            }
            text = grown;
        }
        k = read(fd, text + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            r = load_error(path, diags, -errno, "read", dropin);
            goto out;
        }
        if (k == 0)
            break;
        n += (size_t)k;
        if (n > FILE_MAX_BYTES) {
            r = load_error(path, diags, -EFBIG, "read", dropin);
            goto out;
        }
    }
    r = 0;
done:
    *ret_text = text;
    *ret_len = n;
    text = NULL;
out:
    free(text);
    close(fd);
    return r;
}

int unit_file_load_dropins(const char *path, char *const *dropins, const char *name,
                           const struct unit_load_context *ctx, struct unit_config **ret_config,
                           struct unit_diags *diags)
{
    size_t n = 1 + (dropins ? strv_length(dropins) : 0);
    struct unit_source *src = calloc(n, sizeof(*src));
    char **texts = calloc(n, sizeof(*texts)); /* what src[i].text points to */
    int r = -ENOMEM;

    if (!src || !texts)
        goto out;
    r = 0;
    for (size_t i = 0; i < n && r >= 0; i++) {
        src[i].path = i == 0 ? path : dropins[i - 1];
        r = read_unit_text(src[i].path, i > 0, diags, &texts[i], &src[i].len);
        src[i].text = texts[i];
    }
    if (r == -ERFKILL) {
        /* bus_unit_validate_load_state()'s words, which systemd-analyze verify prints too. */
        const char *slash = strrchr(path, '/');
        struct parser ps = {.path = path, .diags = diags};

        diag_add(&ps, DIAG_ERROR, 0, "Unit %s is masked.", name ? name : slash ? slash + 1 : path);
        r = ps.fatal == -ENOMEM ? -ENOMEM : -ERFKILL;
    }
    if (r >= 0)
        r = load_sources(src, n, name, ctx, ret_config, diags);
out:
    for (size_t i = 0; texts && i < n; i++)
        free(texts[i]);
    free(texts);
    free(src);
    return r;
}

int unit_file_load(const char *path, const char *name, const struct unit_load_context *ctx,
                   struct unit_config **ret_config, struct unit_diags *diags)
{
    const char *slash = strrchr(path, '/');
    char **dropins = NULL, *dir;
    int r;

    if (!name)
        name = slash ? slash + 1 : path;
    dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return -ENOMEM;
    r = unit_dropins_find(dir, name, &dropins);
    free(dir);
    if (r == -E2BIG) {
        struct parser ps = {.path = path, .diags = diags};

        diag_add(&ps, DIAG_ERROR, 0, "More than %d drop-in files, refusing.", DROPINS_MAX);
        return ps.fatal == -ENOMEM ? -ENOMEM : -E2BIG;
    }
    if (r < 0)
        return r;
    r = unit_file_load_dropins(path, dropins, name, ctx, ret_config, diags);
    strv_free(dropins);
    return r;
}
