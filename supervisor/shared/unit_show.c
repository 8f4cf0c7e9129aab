/* `show`: a struct unit_config as the Key=Value properties systemctl show prints, with systemd's
 * names and formats (systemctl-show.c, bus-print-properties.c, and the D-Bus vtables of
 * dbus-service.c, dbus-socket.c, dbus-execute.c, dbus-kill.c, dbus-unit.c). Builds each value in
 * one growing buffer and hands it to the caller's callback; never logs, never touches files. */
#include "unit_show.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "unit_file.h"
#include "values.h"

/* What systemd's shell_maybe_quote() looks for (escape.h): these characters make a string
 * quoted, and inside the quotes SHELL_NEED_ESCAPE ones get a backslash. */
#define WHITESPACE " \t\n\r"
#define SHELL_NEED_ESCAPE "\"\\`$"
#define SHELL_NEED_QUOTES                                                                          \
    SHELL_NEED_ESCAPE "*?["                                                                        \
                      "'()<>|&;!"

#define TIMESPAN_MAX 64 /* systemd's FORMAT_TIMESPAN_MAX */

struct out {
    const struct unit_config *c;
    unit_show_cb cb;
    void *userdata;
    unit_show_exec_lookup lookup; /* NULL: configuration only, nothing ran */
    void *lookup_userdata;
    unsigned flags;
    char *buf; /* the value being built, NUL-terminated when len > 0 */
    size_t len, cap;
    int r; /* first error: -ENOMEM or what cb returned; stops everything after it */
};

/* ---- the value buffer ---------------------------------------------------------------------- */

static void buf_add(struct out *o, const char *s, size_t n)
{
    if (o->r < 0)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        char *grown;

        while (cap < o->len + n + 1)
            cap *= 2;
        grown = realloc(o->buf, cap);
        if (!grown) {
            o->r = -ENOMEM;
            return;
        }
        o->buf = grown;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void buf_adds(struct out *o, const char *s)
{
    buf_add(o, s, strlen(s));
}

static void buf_addc(struct out *o, char ch)
{
    buf_add(o, &ch, 1);
}

static void buf_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void buf_printf(struct out *o, const char *fmt, ...)
{
    char small[128], *big = NULL;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        o->r = o->r < 0 ? o->r : -ENOMEM;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        buf_add(o, small, (size_t)n);
        return;
    }
    va_start(ap, fmt);
    n = vasprintf(&big, fmt, ap);
    va_end(ap);
    if (n < 0) {
        o->r = o->r < 0 ? o->r : -ENOMEM;
        return;
    }
    buf_add(o, big, (size_t)n);
    free(big);
}

/* Hands the buffer to the callback as the value of `name`, then empties it. An empty value is
 * passed only with UNIT_SHOW_EMPTY (systemd's BUS_PRINT_PROPERTY_SHOW_EMPTY). */
static void emit(struct out *o, const char *name)
{
    if (o->r < 0)
        return;
    if (o->len > 0 || (o->flags & UNIT_SHOW_EMPTY)) {
        int r = o->cb(name, o->len > 0 ? o->buf : "", o->userdata);
        if (r < 0)
            o->r = r;
    }
    o->len = 0;
}

/* ---- systemd's escaping -------------------------------------------------------------------- */

/* Length of the valid UTF-8 character at s, or -1 (systemd's utf8_encoded_valid_unichar():
 * no overlong forms, no surrogates, no noncharacters, nothing past U+10FFFF). */
static int utf8_char_len(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t ch;
    int n;

    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0) {
        n = 2;
        ch = p[0] & 0x1f;
    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3;
        ch = p[0] & 0x0f;
    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4;
        ch = p[0] & 0x07;
    } else
        return -1;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return -1;
        ch = (ch << 6) | (p[i] & 0x3f);
    }
    if ((n == 2 && ch < 0x80) || (n == 3 && ch < 0x800) || (n == 4 && ch < 0x10000))
        return -1;
    if (ch >= 0x110000 || (ch >= 0xd800 && ch <= 0xdfff) || (ch >= 0xfdd0 && ch <= 0xfdef) ||
        (ch & 0xfffe) == 0xfffe)
        return -1;
    return n;
}

static bool char_is_cc(char ch)
{
    return (unsigned char)ch < ' ' || ch == 127;
}

/* systemd's cescape_char(): C escapes for control bytes, octal for the rest. */
static void add_cescape(struct out *o, char ch)
{
    static const char from[] = "\a\b\f\n\r\t\v\\\"'", to[] = "abfnrtv\\\"'";
    const char *k = ch ? strchr(from, ch) : NULL;
    unsigned char u = (unsigned char)ch;

    if (k)
        buf_printf(o, "\\%c", to[k - from]);
    else if (u < ' ' || u >= 127)
        buf_printf(o, "\\%o%o%o", u >> 6, (u >> 3) & 7, u & 7);
    else
        buf_addc(o, ch);
}

/* systemd's shell_maybe_quote(s, 0): the string as it is when nothing in it is special to a
 * shell, else in double quotes with \ " ` $ escaped and control bytes C-escaped. systemctl show
 * prints every entry of a string-array property (Environment=, After=, ...) this way. */
static void add_quoted(struct out *o, const char *s)
{
    const char *p = s;
    int n;

    while (*p) {
        n = utf8_char_len(p);
        if (n < 0 || char_is_cc(*p) || strchr(WHITESPACE SHELL_NEED_QUOTES, *p))
            break;
        p += n;
    }
    if (*p == '\0') {
        buf_adds(o, s);
        return;
    }
    buf_addc(o, '"');
    buf_add(o, s, (size_t)(p - s));
    while (*p) {
        n = utf8_char_len(p);
        if (n < 0 || char_is_cc(*p)) {
            add_cescape(o, *p++);
        } else if (n == 1) {
            if (strchr(SHELL_NEED_ESCAPE, *p))
                buf_addc(o, '\\');
            buf_addc(o, *p++);
        } else {
            buf_add(o, p, (size_t)n);
            p += n;
        }
    }
    buf_addc(o, '"');
}

/* ---- value kinds --------------------------------------------------------------------------- */

/* "s" properties: printed as they are, "[unprintable]" when they hold a newline. */
static void show_string(struct out *o, const char *name, const char *s)
{
    if (s)
        buf_adds(o, strchr(s, '\n') ? "[unprintable]" : s);
    emit(o, name);
}

/* "as" properties: the entries quoted one by one, joined by spaces. */
static void show_strv(struct out *o, const char *name, char *const *l)
{
    for (size_t i = 0; l && l[i]; i++) {
        if (i > 0)
            buf_addc(o, ' ');
        add_quoted(o, l[i]);
    }
    emit(o, name);
}

static void show_bool(struct out *o, const char *name, bool b)
{
    buf_adds(o, b ? "yes" : "no");
    emit(o, name);
}

static void show_int(struct out *o, const char *name, long long v)
{
    buf_printf(o, "%lld", v);
    emit(o, name);
}

/* "u" properties whose name contains "Mode" or "UMask" are octal with four digits. */
static void show_mode(struct out *o, const char *name, unsigned m)
{
    buf_printf(o, "%04o", m);
    emit(o, name);
}

/* "t" properties named *USec: format_timespan(), "infinity" for USEC_INFINITY. */
static void show_timespan(struct out *o, const char *name, uint64_t usec)
{
    char t[TIMESPAN_MAX];

    buf_adds(o, format_timespan(t, sizeof(t), usec));
    emit(o, name);
}

/* A signal number as systemd's signal_to_string() names it: "TERM", "RTMIN+3", else digits. */
static void add_signal_name(struct out *o, int signo)
{
    const char *s = signal_to_string(signo);

    if (s)
        buf_adds(o, s);
    else if (signo >= SIGRTMIN && signo <= SIGRTMAX)
        buf_printf(o, "RTMIN+%d", signo - SIGRTMIN);
    else
        buf_printf(o, "%d", signo);
}

/* "(aiai)" exit-status sets: the statuses in ascending order, then the signals by name. */
static void show_exit_status(struct out *o, const char *name, const struct exit_status_set *set)
{
    for (int i = 0; i < 256; i++)
        if (exit_status_set_has_status(set, i))
            buf_printf(o, "%s%d", o->len ? " " : "", i);
    for (int i = 1; i < 64; i++)
        if (exit_status_set_has_signal(set, i)) {
            if (o->len)
                buf_addc(o, ' ');
            add_signal_name(o, i);
        }
    emit(o, name);
}

/* The flag words of systemd's exec_command_flags_to_strv(), in its bit order. */
static void add_exec_flags(struct out *o, unsigned flags)
{
    static const struct {
        unsigned flag;
        const char *word;
    } words[] = {
        {EXEC_FLAG_IGNORE_FAILURE, "ignore-failure"}, {EXEC_FLAG_FULL_PRIVILEGES, "privileged"},
        {EXEC_FLAG_NO_SETUID, "no-setuid"},           {EXEC_FLAG_AMBIENT, "ambient"},
        {EXEC_FLAG_NO_ENV_EXPAND, "no-env-expand"},
    };
    bool first = true;

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (flags & words[i].flag) {
            if (!first)
                buf_addc(o, ' ');
            buf_adds(o, words[i].word);
            first = false;
        }
}

/* Our argv[0] is the path; an "@" override travels in argv0. */
static const char *argv_word(const struct exec_command *cmd, size_t k)
{
    return k == 0 && cmd->argv0 ? cmd->argv0 : cmd->argv[k];
}

char *unit_show_command_line(const struct exec_command *cmd)
{
    size_t n = 1;
    char *line, *p;

    for (size_t k = 0; cmd->argv && cmd->argv[k]; k++)
        n += strlen(argv_word(cmd, k)) + 1;
    line = p = malloc(n);
    if (!line)
        return NULL;
    *p = '\0';
    for (size_t k = 0; cmd->argv && cmd->argv[k]; k++)
        p += sprintf(p, "%s%s", k ? " " : "", argv_word(cmd, k));
    return line;
}

/* Exec*= lists, one value per command. systemctl joins argv with spaces without quoting. The
 * runtime fields tell the command's last run, or systemd's "never ran" values: code (null) and
 * status 0/0, as systemctl prints a zero code. The "Ex" variant shows the prefixes as flag words
 * instead of ignore_errors. */
static void show_exec(struct out *o, const char *name, const struct exec_list *list, bool ex)
{
    for (size_t i = 0; i < list->n; i++) {
        const struct exec_command *cmd = &list->items[i];
        struct exec_status st = {0};
        char start[64], stop[64];

        buf_printf(o, "{ path=%s ; argv[]=", cmd->path);
        for (size_t k = 0; cmd->argv && cmd->argv[k]; k++) {
            if (k > 0)
                buf_addc(o, ' ');
            buf_adds(o, argv_word(cmd, k));
        }
        if (ex) {
            buf_adds(o, " ; flags=");
            add_exec_flags(o, cmd->flags);
        } else {
            buf_printf(o, " ; ignore_errors=%s",
                       cmd->flags & EXEC_FLAG_IGNORE_FAILURE ? "yes" : "no");
        }
        if (o->lookup && !o->lookup(cmd, &st, o->lookup_userdata))
            memset(&st, 0, sizeof(st));
        unit_show_format_timestamp(start, sizeof(start), st.start_usec);
        unit_show_format_timestamp(stop, sizeof(stop), st.exit_usec);
        buf_printf(o, " ; start_time=[%s] ; stop_time=[%s] ; pid=%d ; code=%s ; status=%d",
                   *start ? start : "n/a", *stop ? stop : "n/a", (int)st.pid,
                   st.code == CLD_EXITED   ? "exited"
                   : st.code == CLD_KILLED ? "killed"
                   : st.code == CLD_DUMPED ? "dumped"
                                           : "(null)",
                   st.status);
        if (st.code != CLD_EXITED) {
            buf_addc(o, '/');
            add_signal_name(o, st.status);
        }
        buf_adds(o, " }");
        emit(o, name);
    }
}

/* EnvironmentFiles=: one value per file, "PATH (ignore_errors=yes|no)". */
static void show_environment_files(struct out *o, char *const *l)
{
    for (size_t i = 0; l && l[i]; i++) {
        bool ignore = l[i][0] == '-';
        buf_printf(o, "%s (ignore_errors=%s)", l[i] + ignore, ignore ? "yes" : "no");
        emit(o, "EnvironmentFiles");
    }
}

/* A list of directory names as systemd's RuntimeDirectory= etc. show them: without the
 * ":symlink" part, which systemd shows in a property of its own. */
static void show_directories(struct out *o, const char *name, char *const *l)
{
    for (size_t i = 0; l && l[i]; i++) {
        size_t n = strcspn(l[i], ":");
        char *w = strndup(l[i], n);

        if (!w) {
            o->r = o->r < 0 ? o->r : -ENOMEM;
            return;
        }
        if (i > 0)
            buf_addc(o, ' ');
        add_quoted(o, w);
        free(w);
    }
    emit(o, name);
}

/* A socket address as systemd's socket_address_print() prints it: a bare port is "[::]:PORT"
 * (minisupd binds it on IPv6 with IPv4 mapped in, as systemd does), IP addresses in their
 * canonical form; paths, abstract names and anything else as written. */
static void add_socket_address(struct out *o, const char *a)
{
    char host[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN];
    unsigned char bin[sizeof(struct in6_addr)];
    const char *colon, *port;
    size_t n;

    if (a[0] != '\0' && strspn(a, "0123456789") == strlen(a)) {
        buf_printf(o, "[::]:%s", a);
        return;
    }
    if (a[0] == '[') {
        colon = strchr(a, ']');
        if (colon && colon[1] == ':' && (n = (size_t)(colon - a - 1)) < sizeof(host)) {
            memcpy(host, a + 1, n);
            host[n] = '\0';
            port = colon + 2;
            if (inet_pton(AF_INET6, host, bin) == 1 &&
                inet_ntop(AF_INET6, bin, text, sizeof(text))) {
                buf_printf(o, "[%s]:%s", text, port);
                return;
            }
        }
    } else if ((colon = strrchr(a, ':')) && (n = (size_t)(colon - a)) < sizeof(host)) {
        memcpy(host, a, n);
        host[n] = '\0';
        if (inet_pton(AF_INET, host, bin) == 1 && inet_ntop(AF_INET, bin, text, sizeof(text))) {
            buf_printf(o, "%s:%s", text, colon + 1);
            return;
        }
    }
    buf_adds(o, a);
}

/* Listen=: one value per Listen*= setting, in file order, "ADDRESS (Stream)". */
static void show_listen(struct out *o, char *const *listens)
{
    for (size_t i = 0; listens && listens[i]; i++) {
        const char *e = listens[i], *type;
        bool socket = true;

        switch (e[0]) {
        case 'S':
            type = "Stream";
            break;
        case 'D':
            type = "Datagram";
            break;
        case 'Q':
            type = "SequentialPacket";
            break;
        case 'F':
            type = "FIFO";
            socket = false;
            break;
        default:
            continue; /* not written by unit_file.c */
        }
        if (e[1] != ':')
            continue;
        if (socket)
            add_socket_address(o, e + 2);
        else
            buf_adds(o, e + 2);
        buf_printf(o, " (%s)", type);
        emit(o, "Listen");
    }
}

/* One resource limit: a number, or "infinity" (systemctl's rule for Limit* properties). */
static void add_rlimit(struct out *o, uint64_t v)
{
    if (v == (uint64_t)RLIM_INFINITY || v == UINT64_MAX)
        buf_adds(o, "infinity");
    else
        buf_printf(o, "%" PRIu64, v);
}

static const char *std_output_to_string(enum std_output s)
{
    static const char *const names[STD_OUTPUT_MAX] = {
        [STD_OUTPUT_JOURNAL] = "journal", [STD_OUTPUT_NULL] = "null",
        [STD_OUTPUT_INHERIT] = "inherit", [STD_OUTPUT_FILE] = "file",
        [STD_OUTPUT_APPEND] = "append",   [STD_OUTPUT_TRUNCATE] = "truncate",
    };

    return (unsigned)s < STD_OUTPUT_MAX ? names[s] : NULL;
}

/* ---- the interfaces, in systemd's order ---------------------------------------------------- */

/* org.freedesktop.systemd1.Service: systemd lists each command list twice, the second time as
 * the "Ex" variant with the prefixes spelled out. */
static void show_service(struct out *o)
{
    const struct unit_config *c = o->c;
    show_string(o, "Type", service_type_to_string(c->type));
    show_string(o, "Restart", restart_policy_to_string(c->restart));
    show_string(o, "PIDFile", c->pid_file);
    show_timespan(o, "RestartUSec", c->restart_usec);
    show_timespan(o, "TimeoutStartUSec", c->timeout_start_usec);
    show_timespan(o, "TimeoutStopUSec", c->timeout_stop_usec);
    show_bool(o, "RemainAfterExit", c->remain_after_exit);
    show_bool(o, "GuessMainPID", c->guess_main_pid);
    {
        static const char *const access[NOTIFY_ACCESS_MAX] = {"none", "main", "exec", "all"};
        show_string(o, "NotifyAccess",
                    c->notify_access < NOTIFY_ACCESS_MAX ? access[c->notify_access] : "none");
    }
    /* systemd shows 0 as "0"; format_timespan would say "0". */
    show_timespan(o, "WatchdogUSec", c->watchdog_usec);
    show_exit_status(o, "RestartPreventExitStatus", &c->restart_prevent_exit_status);
    show_exit_status(o, "RestartForceExitStatus", &c->restart_force_exit_status);
    show_exit_status(o, "SuccessExitStatus", &c->success_exit_status);
    const struct exec_list *l;
    const char *name;
    for (size_t i = 0; (l = unit_show_exec_list(c, i, &name)); i++) {
        char name_ex[32];
        snprintf(name_ex, sizeof(name_ex), "%sEx", name);
        show_exec(o, name, l, false);
        show_exec(o, name_ex, l, true);
    }
}

/* org.freedesktop.systemd1.Socket */
static void show_socket(struct out *o)
{
    const struct unit_config *c = o->c;

    /* Backlog=0 here means "not set": minisupd then listens with SOMAXCONN. */
    show_int(o, "Backlog", c->backlog ? c->backlog : SOMAXCONN);
    show_string(o, "SocketUser", c->socket_user);
    show_string(o, "SocketGroup", c->socket_group);
    show_mode(o, "SocketMode", c->socket_mode);
    show_mode(o, "DirectoryMode", c->directory_mode);
    show_bool(o, "Accept", c->accept);
    show_bool(o, "RemoveOnStop", c->remove_on_stop);
    show_listen(o, c->listens);
    show_int(o, "MaxConnections", c->max_connections);
    show_string(o, "FileDescriptorName", c->fd_name ? c->fd_name : c->name);
    show_exec(o, "ExecStartPre", &c->exec_start_pre, false);
    show_exec(o, "ExecStartPost", &c->exec_start_post, false);
    show_exec(o, "ExecStopPost", &c->exec_stop_post, false);
}

/* Limit*=: LimitX= is the hard limit and LimitXSoft= the soft one, "infinity" for no limit, in
 * systemd's order. A limit that is not set shows nothing: the service then keeps minisupd's own,
 * which systemd would look up (getrlimit()) and show; a pure function cannot. */
static void show_rlimits(struct out *o)
{
    static const struct {
        const char *name, *soft_name;
        int resource;
    } limits[] = {
        {"LimitCPU", "LimitCPUSoft", RLIMIT_CPU},
        {"LimitFSIZE", "LimitFSIZESoft", RLIMIT_FSIZE},
        {"LimitDATA", "LimitDATASoft", RLIMIT_DATA},
        {"LimitSTACK", "LimitSTACKSoft", RLIMIT_STACK},
        {"LimitCORE", "LimitCORESoft", RLIMIT_CORE},
        {"LimitRSS", "LimitRSSSoft", RLIMIT_RSS},
        {"LimitNOFILE", "LimitNOFILESoft", RLIMIT_NOFILE},
        {"LimitAS", "LimitASSoft", RLIMIT_AS},
        {"LimitNPROC", "LimitNPROCSoft", RLIMIT_NPROC},
        {"LimitMEMLOCK", "LimitMEMLOCKSoft", RLIMIT_MEMLOCK},
        {"LimitLOCKS", "LimitLOCKSSoft", RLIMIT_LOCKS},
        {"LimitSIGPENDING", "LimitSIGPENDINGSoft", RLIMIT_SIGPENDING},
        {"LimitMSGQUEUE", "LimitMSGQUEUESoft", RLIMIT_MSGQUEUE},
        {"LimitNICE", "LimitNICESoft", RLIMIT_NICE},
        {"LimitRTPRIO", "LimitRTPRIOSoft", RLIMIT_RTPRIO},
        {"LimitRTTIME", "LimitRTTIMESoft", RLIMIT_RTTIME},
    };
    const size_t n_slots = sizeof(o->c->rlimits) / sizeof(o->c->rlimits[0]);

    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        const struct unit_rlimit *l =
            (size_t)limits[i].resource < n_slots ? &o->c->rlimits[limits[i].resource] : NULL;

        if (l && l->set)
            add_rlimit(o, l->hard);
        emit(o, limits[i].name);
        if (l && l->set)
            add_rlimit(o, l->soft);
        emit(o, limits[i].soft_name);
    }
}

/* The exec context (systemd.exec(5)), shared by services and sockets. */
static void show_exec_context(struct out *o)
{
    const struct unit_config *c = o->c;
    const char *wd = c->working_directory;

    show_strv(o, "Environment", c->environment);
    show_environment_files(o, c->environment_files);
    show_strv(o, "PassEnvironment", c->pass_environment);
    show_strv(o, "UnsetEnvironment", c->unset_environment);
    show_mode(o, "UMask", c->umask);
    show_rlimits(o);
    /* systemd marks a directory that may be missing ("-" in the file) with "!". */
    if (wd && wd[0] == '-') {
        buf_addc(o, '!');
        wd++;
    }
    show_string(o, "WorkingDirectory", wd);
    /* Not set: the service keeps minisupd's own (which systemd would look up and show). */
    if (c->nice_set)
        show_int(o, "Nice", c->nice);
    else
        emit(o, "Nice");
    /* minisupd always connects standard input to /dev/null. */
    show_string(o, "StandardInput", "null");
    show_string(o, "StandardOutput", std_output_to_string(c->std_output));
    show_string(o, "StandardError", std_output_to_string(c->std_error));
    show_string(o, "SyslogIdentifier", c->syslog_identifier);
    show_bool(o, "SyslogLevelPrefix", c->syslog_level_prefix);
    show_int(o, "SyslogLevel", c->syslog_level);
    /* Not set: systemd shows 0 (the journal's own limits apply), and so do we. */
    if (c->log_rate_limit_interval_usec == USEC_INFINITY - 1)
        show_int(o, "LogRateLimitIntervalUSec", 0);
    else
        show_timespan(o, "LogRateLimitIntervalUSec", c->log_rate_limit_interval_usec);
    show_int(o, "LogRateLimitBurst",
             c->log_rate_limit_burst == UINT_MAX ? 0 : (long long)c->log_rate_limit_burst);
    show_string(o, "User", c->user);
    show_string(o, "Group", c->group);
    show_strv(o, "SupplementaryGroups", c->supplementary_groups);
    show_bool(o, "IgnoreSIGPIPE", c->ignore_sigpipe);
    show_bool(o, "NoNewPrivileges", c->no_new_privileges);
    show_directories(o, "RuntimeDirectory", c->runtime_directory);
    show_directories(o, "StateDirectory", c->state_directory);
    show_directories(o, "LogsDirectory", c->logs_directory);
}

/* The kill context (systemd.kill(5)): signals as numbers, as systemctl show prints them. */
static void show_kill_context(struct out *o)
{
    const struct unit_config *c = o->c;

    show_string(o, "KillMode", kill_mode_to_string(c->kill_mode));
    show_int(o, "KillSignal", c->kill_signal);
    show_int(o, "RestartKillSignal", c->restart_kill_signal);
    show_int(o, "FinalKillSignal", c->final_kill_signal);
    show_bool(o, "SendSIGKILL", c->send_sigkill);
    show_bool(o, "SendSIGHUP", c->send_sighup);
}

/* org.freedesktop.systemd1.Unit. Dependencies are the ones the file names (systemd adds its
 * implicit ones). WantedBy= and RequiredBy= come from [Install]: systemd shows the units that
 * want this one there, which is what enabling from [Install] produces. Alias= and Also= have no
 * systemd property; they close the list under their key names. */
static void show_unit(struct out *o)
{
    const struct unit_config *c = o->c;
    char *names[] = {c->name, NULL};
    char *triggers[] = {NULL, NULL};

    show_string(o, "Id", c->name);
    show_strv(o, "Names", names);
    show_strv(o, "Requires", c->requires);
    show_strv(o, "Requisite", c->requisite);
    show_strv(o, "Wants", c->wants);
    show_strv(o, "BindsTo", c->binds_to);
    show_strv(o, "PartOf", c->part_of);
    show_strv(o, "RequiredBy", c->required_by);
    show_strv(o, "WantedBy", c->wanted_by);
    show_strv(o, "Conflicts", c->conflicts);
    show_strv(o, "Before", c->before);
    show_strv(o, "After", c->after);
    if (c->kind == UNIT_KIND_SOCKET) {
        /* An Accept=yes socket triggers a new instance per connection, not a unit: systemd
         * shows no Triggers= for it. */
        triggers[0] = c->accept ? NULL : c->socket_service;
        show_strv(o, "Triggers", triggers);
    }
    show_strv(o, "Documentation", c->documentation);
    /* systemd's unit_description(): the name when there is no Description=. */
    show_string(o, "Description", c->description ? c->description : c->name);
    show_string(o, "FragmentPath", c->path);
    show_strv(o, "DropInPaths", c->dropin_paths);
    /* One line per check, as systemctl show prints its Conditions and Asserts arrays. */
    for (size_t i = 0; i < c->n_conditions; i++) {
        char text[512];

        condition_format(&c->conditions[i], text, sizeof(text));
        buf_adds(o, text);
        emit(o, c->conditions[i].is_assert ? "Asserts" : "Conditions");
    }
    /* systemd's Unit interface lists the job timeouts before the start limit. */
    show_timespan(o, "JobTimeoutUSec", c->job_timeout_usec);
    show_timespan(o, "JobRunningTimeoutUSec", c->job_running_timeout_usec);
    show_timespan(o, "StartLimitIntervalUSec", c->start_limit_interval_usec);
    show_int(o, "StartLimitBurst", c->start_limit_burst);
    show_strv(o, "Alias", c->alias);
    show_strv(o, "Also", c->also);
}

const struct exec_list *unit_show_exec_list(const struct unit_config *c, size_t i,
                                            const char **ret_name)
{
    static const struct {
        const char *name;
        size_t offset;
    } lists[] = {
        {"ExecStartPre", offsetof(struct unit_config, exec_start_pre)},
        {"ExecStart", offsetof(struct unit_config, exec_start)},
        {"ExecStartPost", offsetof(struct unit_config, exec_start_post)},
        {"ExecReload", offsetof(struct unit_config, exec_reload)},
        {"ExecStop", offsetof(struct unit_config, exec_stop)},
        {"ExecStopPost", offsetof(struct unit_config, exec_stop_post)},
    };

    if (i >= sizeof(lists) / sizeof(lists[0]))
        return NULL;
    *ret_name = lists[i].name;
    return (const void *)((const char *)c + lists[i].offset);
}

char *unit_show_format_timestamp(char *buf, size_t size, uint64_t usec)
{
    time_t t = (time_t)(usec / 1000000);
    struct tm tm;

    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (usec && (!localtime_r(&t, &tm) || strftime(buf, size, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0))
        buf[0] = '\0';
    return buf;
}

int unit_show_properties(const struct unit_config *c, unsigned flags, unit_show_cb cb,
                         void *userdata)
{
    return unit_show_properties_ran(c, flags, NULL, NULL, cb, userdata);
}

int unit_show_properties_ran(const struct unit_config *c, unsigned flags,
                             unit_show_exec_lookup lookup, void *lookup_userdata, unit_show_cb cb,
                             void *userdata)
{
    struct out o = {.c = c,
                    .cb = cb,
                    .userdata = userdata,
                    .flags = flags,
                    .lookup = lookup,
                    .lookup_userdata = lookup_userdata};

    if (c->kind == UNIT_KIND_SOCKET)
        show_socket(&o);
    else
        show_service(&o);
    show_exec_context(&o);
    show_kill_context(&o);
    show_unit(&o);
    free(o.buf);
    return o.r < 0 ? o.r : 0;
}

/* ---- unit-file keys to properties ---------------------------------------------------------- */

#define K_UNIT (1U << 0)
#define K_SERVICE (1U << 1)
#define K_SOCKET (1U << 2)
#define K_INSTALL (1U << 3)
#define K_EXEC (K_SERVICE | K_SOCKET)

/* Every key unit_file.c acts on (its key_defs[]), with the sections it is valid in. */
static const struct {
    const char *key;
    unsigned sections;
    const char *property;
} key_properties[] = {
    {"Description", K_UNIT, "Description"},
    {"Documentation", K_UNIT, "Documentation"},
    {"Requires", K_UNIT, "Requires"},
    {"Wants", K_UNIT, "Wants"},
    {"Requisite", K_UNIT, "Requisite"},
    {"BindsTo", K_UNIT, "BindsTo"},
    {"BindTo", K_UNIT, "BindsTo"},
    {"PartOf", K_UNIT, "PartOf"},
    {"Conflicts", K_UNIT, "Conflicts"},
    {"After", K_UNIT, "After"},
    {"Before", K_UNIT, "Before"},
    {"StartLimitIntervalSec", K_UNIT, "StartLimitIntervalUSec"},
    {"StartLimitInterval", K_UNIT | K_SERVICE, "StartLimitIntervalUSec"},
    {"StartLimitBurst", K_UNIT | K_SERVICE, "StartLimitBurst"},
    {"JobTimeoutSec", K_UNIT, "JobTimeoutUSec"},
    {"JobRunningTimeoutSec", K_UNIT, "JobRunningTimeoutUSec"},

    {"Type", K_SERVICE, "Type"},
    {"ExecStartPre", K_EXEC, "ExecStartPre"},
    {"ExecStart", K_SERVICE, "ExecStart"},
    {"ExecStartPost", K_EXEC, "ExecStartPost"},
    {"ExecReload", K_SERVICE, "ExecReload"},
    {"ExecStop", K_SERVICE, "ExecStop"},
    {"ExecStopPost", K_EXEC, "ExecStopPost"},
    {"Restart", K_SERVICE, "Restart"},
    {"RestartSec", K_SERVICE, "RestartUSec"},
    {"TimeoutSec", K_SERVICE, "TimeoutStartUSec"},
    {"TimeoutStartSec", K_SERVICE, "TimeoutStartUSec"},
    {"TimeoutStopSec", K_SERVICE, "TimeoutStopUSec"},
    {"RemainAfterExit", K_SERVICE, "RemainAfterExit"},
    {"GuessMainPID", K_SERVICE, "GuessMainPID"},
    {"PIDFile", K_SERVICE, "PIDFile"},
    {"SuccessExitStatus", K_SERVICE, "SuccessExitStatus"},
    {"RestartPreventExitStatus", K_SERVICE, "RestartPreventExitStatus"},
    {"NotifyAccess", K_SERVICE, "NotifyAccess"},
    {"WatchdogSec", K_SERVICE, "WatchdogUSec"},
    {"RestartForceExitStatus", K_SERVICE, "RestartForceExitStatus"},

    {"KillMode", K_EXEC, "KillMode"},
    {"KillSignal", K_EXEC, "KillSignal"},
    {"RestartKillSignal", K_EXEC, "RestartKillSignal"},
    {"FinalKillSignal", K_EXEC, "FinalKillSignal"},
    {"SendSIGKILL", K_EXEC, "SendSIGKILL"},
    {"SendSIGHUP", K_EXEC, "SendSIGHUP"},

    {"Environment", K_EXEC, "Environment"},
    {"EnvironmentFile", K_EXEC, "EnvironmentFiles"},
    {"PassEnvironment", K_EXEC, "PassEnvironment"},
    {"UnsetEnvironment", K_EXEC, "UnsetEnvironment"},
    {"WorkingDirectory", K_EXEC, "WorkingDirectory"},
    {"UMask", K_EXEC, "UMask"},
    {"User", K_EXEC, "User"},
    {"Group", K_EXEC, "Group"},
    {"SupplementaryGroups", K_EXEC, "SupplementaryGroups"},
    {"SyslogIdentifier", K_EXEC, "SyslogIdentifier"},
    {"SyslogLevel", K_EXEC, "SyslogLevel"},
    {"SyslogLevelPrefix", K_EXEC, "SyslogLevelPrefix"},
    {"StandardOutput", K_EXEC, "StandardOutput"},
    {"StandardError", K_EXEC, "StandardError"},
    {"IgnoreSIGPIPE", K_EXEC, "IgnoreSIGPIPE"},
    {"Nice", K_EXEC, "Nice"},
    {"NoNewPrivileges", K_EXEC, "NoNewPrivileges"},
    {"StandardInput", K_EXEC, "StandardInput"},
    {"LimitCPU", K_EXEC, "LimitCPU"},
    {"LimitFSIZE", K_EXEC, "LimitFSIZE"},
    {"LimitDATA", K_EXEC, "LimitDATA"},
    {"LimitSTACK", K_EXEC, "LimitSTACK"},
    {"LimitCORE", K_EXEC, "LimitCORE"},
    {"LimitRSS", K_EXEC, "LimitRSS"},
    {"LimitNOFILE", K_EXEC, "LimitNOFILE"},
    {"LimitAS", K_EXEC, "LimitAS"},
    {"LimitNPROC", K_EXEC, "LimitNPROC"},
    {"LimitMEMLOCK", K_EXEC, "LimitMEMLOCK"},
    {"LimitLOCKS", K_EXEC, "LimitLOCKS"},
    {"LimitSIGPENDING", K_EXEC, "LimitSIGPENDING"},
    {"LimitMSGQUEUE", K_EXEC, "LimitMSGQUEUE"},
    {"LimitNICE", K_EXEC, "LimitNICE"},
    {"LimitRTPRIO", K_EXEC, "LimitRTPRIO"},
    {"LimitRTTIME", K_EXEC, "LimitRTTIME"},
    {"LogRateLimitIntervalSec", K_EXEC, "LogRateLimitIntervalUSec"},
    {"LogRateLimitBurst", K_EXEC, "LogRateLimitBurst"},
    {"RuntimeDirectory", K_EXEC, "RuntimeDirectory"},
    {"StateDirectory", K_EXEC, "StateDirectory"},
    {"LogsDirectory", K_EXEC, "LogsDirectory"},

    {"ListenStream", K_SOCKET, "Listen"},
    {"ListenDatagram", K_SOCKET, "Listen"},
    {"ListenSequentialPacket", K_SOCKET, "Listen"},
    {"ListenFIFO", K_SOCKET, "Listen"},
    {"Service", K_SOCKET, "Triggers"},
    {"SocketMode", K_SOCKET, "SocketMode"},
    {"DirectoryMode", K_SOCKET, "DirectoryMode"},
    {"SocketUser", K_SOCKET, "SocketUser"},
    {"SocketGroup", K_SOCKET, "SocketGroup"},
    {"Backlog", K_SOCKET, "Backlog"},
    {"Accept", K_SOCKET, "Accept"},
    {"MaxConnections", K_SOCKET, "MaxConnections"},
    {"FileDescriptorName", K_SOCKET, "FileDescriptorName"},
    {"RemoveOnStop", K_SOCKET, "RemoveOnStop"},

    {"WantedBy", K_INSTALL, "WantedBy"},
    {"RequiredBy", K_INSTALL, "RequiredBy"},
    {"Also", K_INSTALL, "Also"},
    {"Alias", K_INSTALL, "Alias"},
};

const char *unit_show_property_for_key(const char *section, const char *key)
{
    unsigned sec;

    if (!section || !key)
        return NULL;
    if (strcmp(section, "Unit") == 0)
        sec = K_UNIT;
    else if (strcmp(section, "Service") == 0)
        sec = K_SERVICE;
    else if (strcmp(section, "Socket") == 0)
        sec = K_SOCKET;
    else if (strcmp(section, "Install") == 0)
        sec = K_INSTALL;
    else
        return NULL;
    for (size_t i = 0; i < sizeof(key_properties) / sizeof(key_properties[0]); i++)
        if ((key_properties[i].sections & sec) && strcmp(key_properties[i].key, key) == 0)
            return key_properties[i].property;
    if (sec == K_UNIT && strncmp(key, "Condition", 9) == 0 &&
        condition_type_from_string(key + 9) >= 0)
        return "Conditions";
    if (sec == K_UNIT && strncmp(key, "Assert", 6) == 0 && condition_type_from_string(key + 6) >= 0)
        return "Asserts";
    return NULL;
}
