/* minisupctl, the command-line client of minisupd: parses argv, makes plain blocking Varlink
 * calls on one connection (no event loop, nothing opened that the command does not need), prints
 * the replies as systemctl and journalctl would and maps the outcome to their exit codes. All
 * formatting lives in ctl_output.c; this file decides what to ask and what it means. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl_output.h"
#include "journal_file.h"
#include "paths.h"
#include "unit_file.h"
#include "unit_show.h"
#include "unit_verify.h"
#include "values.h"
#include "varlink.h"

#define IFACE VARLINK_INTERFACE "."

/* systemctl's exit codes (LSB for status). */
enum ctl_exit {
    CTL_EXIT_OK = 0,
    CTL_EXIT_FAILURE = 1,
    /* systemctl exits 1 on bad arguments too: its main() turns every error of parse_argv()
     * into EXIT_FAILURE. LSB's 2 ("invalid arguments") is for init scripts. */
    CTL_EXIT_USAGE = 1,
    CTL_EXIT_NOT_ACTIVE = 3,
    CTL_EXIT_NO_UNIT = 4,
    /* A job verb's errors, as systemctl's translate_bus_error_to_exit_status() maps them. */
    CTL_EXIT_NOT_IMPLEMENTED = 3, /* job type not applicable */
    CTL_EXIT_NOT_INSTALLED = 5,   /* no such unit */
    CTL_EXIT_NOT_CONFIGURED = 6,  /* the unit failed to load */
};

/* How long a query may take before we call the daemon hung: systemctl's D-Bus default. Jobs and
 * journal follow wait without a deadline, as systemctl and journalctl do. */
#define QUERY_TIMEOUT_MS 25000
#define STATUS_JOURNAL_LINES 10
#define FOLLOW_JOURNAL_LINES 10
#define PAGER_END_JOURNAL_LINES 1000 /* journalctl -e: -n1000 */
/* A bare journal -n, as journalctl's. */
#define BARE_JOURNAL_LINES 10

/* -n: not given, or "all". Values >= 0 are a count. */
#define LINES_UNSET (-1)
#define LINES_ALL (-2)

/* Everything argv decided, and the one connection, opened on first use. */
struct ctl {
    const char *socket_option;
    /* Every -s: --socket, except that for kill a signal name or number is systemctl's
     * --signal (decided once the verb is known). */
    const char *s_args[8];
    size_t n_s_args;
    char *joined[16]; /* "-n5" from "-n" "5" (join_optional_values) */
    size_t n_joined;
    char *socket_path;
    struct varlink_client *client;
    int mode; /* enum ctl_output_mode, or -1 when -o was not given */
    bool no_block, all, follow, quiet, no_legend;
    long long lines;
    bool lines_oldest;        /* -n +N: the first N records, journalctl's "from the start" */
    bool lines_bare;          /* -n without a value: 10 for journal, refused by the other verbs */
    bool pager_end;           /* journal -e: the last 1000 lines unless -n says otherwise */
    const char *journal_only; /* the first of journalctl's options given (-e, -x, -b, --utc,
                               * --no-hostname), refused by the other verbs; NULL if none */
    bool boot;                /* -b: entries since the current boot only */
    const char *boot_arg;     /* -b's value, checked by journal; NULL for the current boot */
    json_t *units;            /* -u, for journal: names or glob patterns, as given */
    json_t *states;           /* --state and --failed, for list-units */
    json_t *type_args;        /* every -t and --type value, read once the verb is known */
    unsigned types;           /* list-units: a bit per enum unit_kind; 0 = every type */
    const char *invocation;   /* --invocation, normalized into invocation_id */
    char invocation_id[33];
    const char *directory;             /* journal --directory: read files, not the daemon */
    const char *since_arg, *until_arg; /* parsed once "now" is known */
    uint64_t since, until;             /* 0 = no bound */
    int min_priority, max_priority;    /* -p; -1 = not given */
    const char *identifier;            /* -t, or the one SYSLOG_IDENTIFIER= match */
    /* journal's FIELD=VALUE arguments, journalctl's matches: the valid values of each field (a
     * value journald would never store, such as PRIORITY=9, matches nothing and is left out),
     * and a bit per field given. What the daemon cannot filter is checked entry by entry
     * (match_client); match_none: nothing can match. */
    json_t *match_units, *match_identifiers, *match_invocations, *match_pids;
    unsigned match_priorities; /* a bit per PRIORITY= value */
    unsigned match_given;      /* a bit per enum journal_match_field */
    bool match_client, match_none;
    const char *grep;   /* -g: an extended regex on MESSAGE, NULL if none */
    int case_sensitive; /* --case-sensitive; -1 = smart case */
    regex_t grep_re;    /* -g compiled, valid while grep_compiled */
    bool grep_compiled;
    const char *p_arg;  /* the last -p: priority (journal) or a property (show) */
    json_t *properties; /* show: every -p, --property and -P name, NULL if none */
    bool value;         /* show --value (or -P): print values only */
    bool help;          /* --help: of the command, if one was given */
    bool reverse, show_types;
    int kill_signal;       /* --signal, 0 = the daemon's default */
    const char *kill_whom; /* --kill-whom, NULL = the daemon's default */
    char hostname[HOST_NAME_MAX + 1];
    struct ctl_style style;
};

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

static bool streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Several units, one exit code: the first unit that did not succeed decides, as systemctl's
 * verbs keep theirs ("if (r > 0 && ret == 0) ret = r"). */
static int exit_merge(int a, int b)
{
    return a != CTL_EXIT_OK ? a : b;
}

static const char help_text[] =
    "minisupctl [OPTIONS...] COMMAND ...\n"
    "\n"
    "Query or send control commands to minisupd.\n"
    "\n"
    "Commands:\n"
    "  list-units [PATTERN...]    List units (the default command)\n"
    "  list-sockets [PATTERN...]  List socket units and what they activate\n"
    "  status [UNIT...]           Show runtime status and recent log of units\n"
    "  why UNIT...                Show how the last runs of units ended and whether\n"
    "                             they were restarted, and why\n"
    "  cat UNIT...                Show the unit files as minisupd loaded them\n"
    "  show UNIT...               Show properties of units (Key=Value, systemd's names)\n"
    "  start UNIT...              Start units\n"
    "  stop UNIT...               Stop units\n"
    "  restart UNIT...            Stop and start units\n"
    "  reload UNIT...             Reload units (ExecReload=)\n"
    "  try-restart UNIT...        Restart units that are active\n"
    "  reload-or-restart UNIT...  Reload units if they support it, else restart\n"
    "  reset-failed [UNIT...]     Leave the failed state (all failed units by default)\n"
    "  kill UNIT...               Send a signal to the processes of units\n"
    "  is-active UNIT...          Check whether units are active\n"
    "  is-failed UNIT...          Check whether units are failed\n"
    "  is-enabled UNIT...         Check whether units start with minisupd (enabled,\n"
    "                             static, alias or not-found)\n"
    "  journal [UNIT|MATCH...]    Show the journal, of all units or the given ones;\n"
    "                             FIELD=VALUE matches as journalctl's\n"
    "  daemon-reload              Make minisupd re-read its unit files\n"
    "  verify [FILE|DIR...]       Check unit files offline, as minisupd would load them;\n"
    "                             without files, minisupd checks its unit directory\n"
    "  shutdown                   Stop every unit and end minisupd (root only)\n"
    "  version                    Show client and daemon versions and paths\n"
    "\n"
    "Options:\n"
    "  -s --socket=PATH           Talk to minisupd on this socket\n"
    "  -o --output=MODE           short, short-iso, short-precise, short-monotonic,\n"
    "                             short-unix, short-full, with-unit, cat, json,\n"
    "                             json-pretty, verbose or export (\"help\" lists them)\n"
    "  -a --all                   list-units, show: show inactive units, empty values;\n"
    "                             journal: show binary and long fields as they are\n"
    "     --state=STATE,...       list-units: only units in these states\n"
    "     --failed                list-units: only failed units (--state=failed)\n"
    "  -t --type=TYPE,...         list-units: only units of these types (service,\n"
    "                             socket; \"help\" lists them)\n"
    "     --no-legend             list-units: no header and footer\n"
    "     --no-block              start, stop, restart, reload: do not wait for the job\n"
    "  -q --quiet                 is-active, is-failed, is-enabled, journal: is-*:\n"
    "                             print nothing, only set the exit code; journal:\n"
    "                             no \"-- No entries --\" line\n"
    "     --signal=SIGNAL         kill: the signal to send (name or number; TERM); kill -s\n"
    "                             SIGNAL too, as in systemctl\n"
    "     --kill-whom=WHOM        kill: main, control or all processes (all); with\n"
    "                             -fail (all-fail, ...), fail when none was signalled\n"
    "  -u --unit=UNIT|PATTERN     journal: show this unit, or the units matching a\n"
    "                             glob pattern (may be repeated)\n"
    "  -n --lines[=[+]N|all]      journal, status: number of journal lines (journal:\n"
    "                             10 when bare, +N for the first N)\n"
    "  -f --follow                journal: keep printing new entries\n"
    "  -e --pager-end             journal: the last 1000 entries, unless -n is given\n"
    "                             (journalctl's jump to the end; there is no pager)\n"
    "  -x --catalog               journal: accepted for journalctl's -xe habit; there\n"
    "                             is no message catalog to add explanations from\n"
    "  -b --boot[=ID]             journal: entries of the current boot (0, -0 or its\n"
    "                             ID; minisupd tells no other boots apart)\n"
    "     --utc                   journal: timestamps in UTC\n"
    "     --no-hostname           journal: no host in the short formats\n"
    "     --invocation=ID         journal: only entries of this invocation (32 hex\n"
    "                             digits, as $INVOCATION_ID, or a UUID)\n"
    "  -S --since=TIME            journal: entries from TIME on (\"2026-11-21 10:00\",\n"
    "                             \"today\", \"-1h\", \"10min ago\")\n"
    "  -U --until=TIME            journal: entries up to TIME\n"
    "  -p --priority=PRIO         journal: entries of PRIO or more important (err, 3,\n"
    "                             or a range warning..err)\n"
    "  -p --property=NAME,...     show: only these properties (may be repeated)\n"
    "     --value                 show: print the values without \"NAME=\"\n"
    "  -P NAME                    show: only this property's value (-p NAME --value)\n"
    "  -t --identifier=ID         journal: entries of this SyslogIdentifier\n"
    "  -r --reverse               journal: newest first\n"
    "  -g --grep=PATTERN          journal: entries whose message matches PATTERN (POSIX\n"
    "                             extended regex; case-insensitive if all lowercase)\n"
    "     --case-sensitive[=BOOL] journal: make --grep case-sensitive (or not)\n"
    "  -D --directory=DIR         journal: read the journal files in DIR, no daemon\n"
    "     --show-types            list-sockets: show the socket type\n"
    "     --no-pager              Accepted for compatibility; there is no pager\n"
    "  -l --full                  Accepted for compatibility; nothing is ellipsized\n"
    "  -h --help                  Show this help\n"
    "     --version               Show the version\n"
    "\n"
    "The socket is -s, else $MINISUP_SOCKET, else $MINISUP_RUNTIME_DIR/minisupd.sock,\n"
    "else the runtime directory's default. See minisupctl(1) in docs/minisupctl.md.\n";

static void help(void)
{
    fputs(help_text, stdout);
}

/* Is this option line meant for cmd? Lines whose text starts "a, b: " belong to those
 * commands; the others are global. */
static bool option_line_for(const char *line, size_t len, const char *cmd)
{
    const char *text = len > 29 ? line + 29 : NULL;
    const char *colon;
    size_t n = strlen(cmd);

    if (!text)
        return false;
    colon = memchr(text, ':', (size_t)(line + len - text));
    if (!colon || strspn(text, "abcdefghijklmnopqrstuvwxyz-, ") != (size_t)(colon - text))
        return true; /* global */
    for (const char *p = text; p < colon;) {
        size_t w = strcspn(p, ",:");
        if (w == n && strncmp(p, cmd, n) == 0)
            return true;
        p += w;
        while (p < colon && (*p == ',' || *p == ' '))
            p++;
    }
    return false;
}

/* `minisupctl COMMAND --help`: that command's line and the options that apply to it, taken
 * from the one help text so the two never disagree. */
static void help_command(const char *cmd)
{
    const char *p = help_text;
    enum { HEAD, COMMANDS, OPTIONS, TAIL } part = HEAD;
    bool in_cmd = false, in_opt = false;
    size_t n = strlen(cmd);

    printf("minisupctl [OPTIONS...] %s ...\n\n", cmd);
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len == 9 && strncmp(p, "Commands:", 9) == 0) {
            part = COMMANDS;
        } else if (len == 8 && strncmp(p, "Options:", 8) == 0) {
            part = OPTIONS;
            fputs("\nOptions:\n", stdout);
        } else if (len == 0 && part == OPTIONS) {
            part = TAIL;
        } else if (part == COMMANDS && len > 2) {
            bool cont = p[2] == ' ';
            if (!cont)
                in_cmd = strncmp(p + 2, cmd, n) == 0 && (p[2 + n] == ' ');
            if (in_cmd)
                printf("%.*s\n", (int)len, p);
        } else if (part == OPTIONS && len > 2) {
            bool cont = len > 29 && strspn(p, " ") >= 29;
            if (!cont)
                in_opt = option_line_for(p, len, cmd);
            if (in_opt)
                printf("%.*s\n", (int)len, p);
        }
        p += len + (nl ? 1 : 0);
    }
    printf("\nSee minisupctl(1) in docs/minisupctl.md.\n");
}

/* Output meant for programs: no "-- No entries --" and similar human lines. journalctl's own
 * list: -o export, json, json-pretty, json-sse, json-seq and cat imply --quiet. */
static bool machine_mode(int mode)
{
    return mode == CTL_OUTPUT_JSON || mode == CTL_OUTPUT_JSON_PRETTY || mode == CTL_OUTPUT_CAT ||
           mode == CTL_OUTPUT_EXPORT;
}

static int usage_error(void)
{
    fprintf(stderr, "Try 'minisupctl --help' for more information.\n");
    return CTL_EXIT_USAGE;
}

static int oom(void);
static bool is_glob(const char *s);
static bool unit_pattern_matches(const char *pattern, const char *name);
static json_t *known_units(struct ctl *c, int *ret_exit);

/* Frees the n entries of names, any of them NULL, and names. */
static void free_names(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

/* unit_name_mangle() (shared/unit_file.c), with systemd's notice on stderr when characters
 * were escaped and `warn` (systemctl and journalctl leave it out with --quiet). 0 or 1, or a
 * negative errno. */
static int mangle_name(const char *name, bool warn, char **ret)
{
    char *escaped = NULL;
    int r = unit_name_mangle(name, ret, warn ? &escaped : NULL);

    if (r >= 0 && escaped) {
        fflush(stdout);
        fprintf(stderr,
                "Invalid unit name \"%s\" was escaped as \"%s\" (maybe you should use "
                "systemd-escape?)\n",
                name, escaped);
    }
    free(escaped);
    return r;
}

/* The units a command's arguments name, as systemctl's expand_unit_names() finds them: each is
 * mangled as systemctl mangles it ("fifo-echo" -> "fifo-echo.service", "tpl@a b" ->
 * "tpl@a\x20b.service" with systemd's notice, "/dev/sda1" -> "dev-sda1.device"); a glob pattern
 * ("web-*") becomes the loaded units it matches, after the plain names, each once. Asks the
 * daemon only when there is a pattern. *n is updated; NULL with *ret_exit set (the error
 * printed) on failure. */
static char **expand_names(struct ctl *c, char **args, int *n, int *ret_exit)
{
    json_t *known = NULL;
    size_t cap = (size_t)*n + 1, len = 0;
    char **r = calloc(cap, sizeof(*r)), **mangled = calloc(cap, sizeof(*mangled));

    *ret_exit = CTL_EXIT_OK;
    for (int i = 0; r && mangled && i < *n; i++) {
        int k = mangle_name(args[i], !c->quiet, &mangled[i]);

        if (k == -ENOMEM)
            goto oom;
        if (k < 0) {
            /* systemctl's words: an empty name cannot be made valid. */
            fprintf(stderr, "Failed to mangle name: %s\n", strerror(-k));
            *ret_exit = CTL_EXIT_FAILURE;
            goto fail;
        }
    }
    for (int i = 0; r && mangled && i < *n; i++) {
        if (is_glob(mangled[i]))
            continue;
        r[len++] = mangled[i];
        mangled[i] = NULL;
    }
    for (int i = 0; r && mangled && i < *n; i++) {
        size_t k;
        json_t *v;

        if (!mangled[i])
            continue;
        if (!known && !(known = known_units(c, ret_exit)))
            goto fail;
        json_array_foreach(known, k, v)
        {
            const char *name = json_string_value(v);
            bool seen = false;

            if (!name || !unit_pattern_matches(mangled[i], name))
                continue;
            for (size_t j = 0; j < len && !seen; j++)
                seen = strcmp(r[j], name) == 0;
            if (seen)
                continue;
            if (len + 1 >= cap) {
                char **grown = realloc(r, (cap *= 2) * sizeof(*r));
                if (!grown)
                    goto oom;
                r = grown;
            }
            if (!(r[len++] = strdup(name)))
                goto oom;
            r[len] = NULL;
        }
    }
    if (!r || !mangled)
        goto oom;
    json_decref(known);
    free_names(mangled, (size_t)*n);
    *n = (int)len;
    return r;
oom:
    *ret_exit = oom();
fail:
    json_decref(known);
    strv_free(r);
    free_names(mangled, (size_t)*n);
    return NULL;
}

static int oom(void)
{
    fprintf(stderr, "Out of memory.\n");
    return CTL_EXIT_FAILURE;
}

static int ctl_connect(struct ctl *c)
{
    int r;

    if (c->client)
        return 0;
    c->socket_path = paths_control_socket(c->socket_option);
    if (!c->socket_path)
        return -ENOMEM;
    r = varlink_client_connect(c->socket_path, &c->client);
    if (r < 0) {
        fprintf(stderr, "Failed to connect to minisupd at %s: %s\n", c->socket_path, strerror(-r));
        return r;
    }
    return 0;
}

/* Sends one call; steals params. Prints the failure. */
static int ctl_send(struct ctl *c, const char *method, json_t *params, unsigned flags)
{
    int r = params ? varlink_client_send(c->client, method, params, flags) : -ENOMEM;

    if (r < 0)
        fprintf(stderr, "Failed to send %s to minisupd at %s: %s\n", method, c->socket_path,
                strerror(-r));
    return r;
}

/* Queues one call to go out with the next ctl_flush() (steals params). Prints the failure. */
static int ctl_queue(struct ctl *c, const char *method, json_t *params, unsigned flags)
{
    int r = params ? varlink_client_queue(c->client, method, params, flags) : -ENOMEM;

    if (r < 0)
        fprintf(stderr, "Failed to send %s to minisupd at %s: %s\n", method, c->socket_path,
                strerror(-r));
    return r;
}

/* Sends the queued calls in one write. Prints the failure. */
static int ctl_flush(struct ctl *c)
{
    int r = varlink_client_flush(c->client);

    if (r < 0)
        fprintf(stderr, "Failed to send to minisupd at %s: %s\n", c->socket_path, strerror(-r));
    return r;
}

/* The text for a transport failure; a hang-up is the daemon's doing, not ours. */
static const char *transport_error(int r)
{
    if (r == -ECONNRESET)
        return "minisupd closed the connection";
    if (r == -ETIMEDOUT)
        return "minisupd did not answer in time";
    return strerror(-r);
}

/* One reply, split. Returns 0 with *ret_msg (owned; the other results borrow from it) or a
 * negative errno (transport or framing), without printing. */
static int ctl_receive(struct ctl *c, int timeout_ms, json_t **ret_msg, const char **ret_error,
                       json_t **ret_params, bool *ret_continues)
{
    json_t *msg = NULL;
    int r = varlink_client_receive(c->client, timeout_ms, &msg);

    if (r < 0)
        return r;
    r = varlink_reply_parse(msg, ret_error, ret_params, ret_continues);
    if (r < 0) {
        json_decref(msg);
        return r;
    }
    *ret_msg = msg;
    return 0;
}

/* Like ctl_receive() without a deadline, but returns -EINTR once SIGINT or SIGTERM arrived: the
 * client's own wait restarts on EINTR, so we wait for readability here and let it read only when
 * bytes are there (a partial message stays in its buffer for the next round). */
static int ctl_receive_interruptible(struct ctl *c, json_t **ret_msg, const char **ret_error,
                                     json_t **ret_params, bool *ret_continues)
{
    for (;;) {
        int r = ctl_receive(c, 0, ret_msg, ret_error, ret_params, ret_continues);
        if (r != -ETIMEDOUT)
            return r;
        if (interrupted)
            return -EINTR;
        struct pollfd p = {.fd = varlink_client_fd(c->client), .events = POLLIN};
        if (poll(&p, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        r = ctl_receive(c, 100, ret_msg, ret_error, ret_params, ret_continues);
        if (r != -ETIMEDOUT)
            return r;
    }
}

/* Prints a Varlink error reply as systemctl words it and returns the exit code. `what` is the
 * action ("start"), `unit` the unit it was for or NULL. */
static int report_error(const char *what, const char *unit, const char *error, const json_t *params)
{
    const char *sep, *u;

    /* Errors about a unit name it; a caller that did not say which unit still gets it right. */
    if (!unit)
        unit = json_string_value(json_object_get(params, "name"));
    if (unit && !*unit)
        unit = NULL;
    sep = unit ? " " : "";
    u = unit ? unit : "";

    /* Keep stdout and stderr in order when both go to one place. */
    fflush(stdout);

    if (streq(error, IFACE "NoSuchUnit") && json_is_string(json_object_get(params, "reason"))) {
        /* A name no unit can have (a template's): systemd refuses it as an invalid argument. */
        fprintf(stderr, "Failed to %s%s%s: %s\n", what, sep, u,
                json_string_value(json_object_get(params, "reason")));
        return CTL_EXIT_FAILURE;
    }
    if (streq(error, IFACE "NoSuchUnit")) {
        /* systemd loads a unit to start it, and only looks one up to stop, kill or reset it. */
        bool looked_up = streq(what, "stop") || streq(what, "kill unit") ||
                         streq(what, "reset failed state of unit");
        if (unit)
            fprintf(stderr, "Failed to %s %s: Unit %s %s.\n", what, u, u,
                    looked_up ? "not loaded" : "not found");
        else
            fprintf(stderr, "Failed to %s: Unit not found.\n", what);
        return CTL_EXIT_NO_UNIT;
    }
    if (streq(error, IFACE "UnitNotLoaded") &&
        streq(json_string_value(json_object_get(params, "loadState")), "masked")) {
        /* BUS_ERROR_UNIT_MASKED, which systemctl maps to no exit code of its own: 1. */
        fprintf(stderr, "Failed to %s%s%s: Unit %s is masked.\n", what, sep, u, u);
        return CTL_EXIT_FAILURE;
    }
    if (streq(error, IFACE "UnitNotLoaded") && streq(what, "stop")) {
        /* systemd refuses to stop an inactive unit that did not load with "Unit x not
         * loaded." (BUS_ERROR_NO_SUCH_UNIT, exit 5), whatever the load error was. */
        fprintf(stderr, "Failed to stop %s: Unit %s not loaded.\n", u, u);
        return CTL_EXIT_NO_UNIT;
    }
    if (streq(error, IFACE "UnitNotLoaded")) {
        const char *reason = json_string_value(json_object_get(params, "loadError"));
        fprintf(stderr, "Failed to %s%s%s: Unit %s has a bad unit file setting.\n", what, sep, u,
                u);
        if (reason && *reason)
            fprintf(stderr, "%s\n", reason);
        return CTL_EXIT_FAILURE;
    }
    if (streq(error, IFACE "PermissionDenied")) {
        /* The issue's contract (SEC-*): "Access denied", exit 1. */
        fprintf(stderr, "Failed to %s%s%s: Access denied\n", what, sep, u);
        return CTL_EXIT_FAILURE;
    }
    if (streq(error, IFACE "UnitNotActive")) {
        fprintf(stderr, "Failed to %s%s%s: Unit %s is not active.\n", what, sep, u, u);
        return CTL_EXIT_FAILURE;
    }
    if (streq(error, IFACE "JobNotApplicable")) {
        fprintf(stderr, "Failed to %s%s%s: Job type %s is not applicable for unit %s.\n", what, sep,
                u, what, u);
        return CTL_EXIT_FAILURE;
    }
    if (streq(error, IFACE "NoSuchProcess")) {
        const char *reason = json_string_value(json_object_get(params, "reason"));
        fprintf(stderr, "Failed to %s%s%s: %s\n", what, sep, u,
                reason ? reason : "No process to signal.");
        return CTL_EXIT_FAILURE;
    }
    if (streq(error, IFACE "ShuttingDown")) {
        fprintf(stderr, "Failed to %s%s%s: minisupd is shutting down.\n", what, sep, u);
        return CTL_EXIT_FAILURE;
    }
    if (streq(error, "org.varlink.service.MethodNotFound")) {
        fprintf(stderr, "Failed to %s%s%s: minisupd does not know %s (an older version?)\n", what,
                sep, u, json_string_value(json_object_get(params, "method")) ?: "the method");
        return CTL_EXIT_FAILURE;
    }
    const char *reason = json_string_value(json_object_get(params, "reason"));
    const char *parameter = json_string_value(json_object_get(params, "parameter"));
    if (reason)
        fprintf(stderr, "Failed to %s%s%s: %s\n", what, sep, u, reason);
    else if (parameter)
        fprintf(stderr, "Failed to %s%s%s: %s (parameter '%s')\n", what, sep, u, error, parameter);
    else
        fprintf(stderr, "Failed to %s%s%s: %s\n", what, sep, u, error);
    return CTL_EXIT_FAILURE;
}

/* One call and its single reply, with the query deadline. Returns 0 with *ret_msg and
 * *ret_params, or an exit code after printing why. */
static int ctl_call(struct ctl *c, const char *what, const char *method, json_t *params,
                    json_t **ret_msg, json_t **ret_params)
{
    const char *error;
    bool continues;
    json_t *msg;
    int r = ctl_connect(c);

    if (r < 0) {
        json_decref(params);
        return r == -ENOMEM ? oom() : CTL_EXIT_FAILURE;
    }
    if (ctl_send(c, method, params, 0) < 0)
        return CTL_EXIT_FAILURE;
    r = ctl_receive(c, QUERY_TIMEOUT_MS, &msg, &error, ret_params, &continues);
    if (r < 0) {
        fprintf(stderr, "Failed to %s: %s\n", what, transport_error(r));
        return CTL_EXIT_FAILURE;
    }
    if (error) {
        r = report_error(what, NULL, error, *ret_params);
        json_decref(msg);
        return r;
    }
    *ret_msg = msg;
    return CTL_EXIT_OK;
}

/* GetUnit for one (normalized) name; an unknown unit is reported as status reports it. Returns
 * CTL_EXIT_OK with *ret_msg and *ret_params, or an exit code after printing why. */
static int ctl_call_unit(struct ctl *c, const char *name, json_t **ret_msg, json_t **ret_params)
{
    const char *error;
    bool continues;
    json_t *msg;
    int r = ctl_connect(c);

    if (r < 0)
        return r == -ENOMEM ? oom() : CTL_EXIT_FAILURE;
    if (ctl_send(c, IFACE "GetUnit", json_pack("{s:s}", "name", name), 0) < 0)
        return CTL_EXIT_FAILURE;
    r = ctl_receive(c, QUERY_TIMEOUT_MS, &msg, &error, ret_params, &continues);
    if (r < 0) {
        fprintf(stderr, "Failed to get status of %s: %s\n", name, transport_error(r));
        return CTL_EXIT_FAILURE;
    }
    if (streq(error, IFACE "NoSuchUnit")) {
        fflush(stdout);
        fprintf(stderr, "Unit %s could not be found.\n", name);
        json_decref(msg);
        return CTL_EXIT_NO_UNIT;
    }
    if (error) {
        r = report_error("get status of", name, error, *ret_params);
        json_decref(msg);
        return r;
    }
    *ret_msg = msg;
    return CTL_EXIT_OK;
}

static void fill_hostname(struct ctl *c)
{
    if (gethostname(c->hostname, sizeof(c->hostname)) < 0 || !c->hostname[0])
        snprintf(c->hostname, sizeof(c->hostname), "localhost");
    c->hostname[sizeof(c->hostname) - 1] = '\0';
    c->style.hostname = c->hostname;
}

static void print_json_line(const json_t *j)
{
    json_dumpf(j, stdout, JSON_COMPACT);
    putchar('\n');
}

/* -o json and -o json-pretty for the unit commands: one line, or indented as systemd's pretty
 * JSON is (eight spaces). */
static bool json_mode(const struct ctl *c)
{
    return c->mode == CTL_OUTPUT_JSON || c->mode == CTL_OUTPUT_JSON_PRETTY;
}

static void print_json(const struct ctl *c, const json_t *j)
{
    if (c->mode == CTL_OUTPUT_JSON_PRETTY) {
        json_dumpf(j, stdout, JSON_INDENT(8));
        putchar('\n');
    } else {
        print_json_line(j);
    }
}

static bool is_active_state(const char *s)
{
    return streq(s, "active") || streq(s, "reloading");
}

/* systemctl's explanation of a failed service job, keyed by the unit's Result. */
static const char *failure_explanation(const char *result)
{
    static const struct {
        const char *result, *explanation;
    } table[] = {
        {"resources", "of unavailable resources or another system error"},
        {"protocol", "the service did not take the steps required by its unit configuration"},
        {"timeout", "a timeout was exceeded"},
        {"exit-code", "the control process exited with error code"},
        {"signal", "a fatal signal was delivered to the control process"},
        {"core-dump", "a fatal signal was delivered causing the control process to dump core"},
        {"watchdog", "the service failed to send watchdog ping"},
        {"start-limit-hit", "start of the service was attempted too often"},
        {"exec", "the service's program could not be executed"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (streq(result, table[i].result))
            return table[i].explanation;
    return "the control process exited with error code";
}

static void print_job_failure(const char *name, const char *result, const json_t *unit)
{
    if (streq(result, "dependency")) {
        fprintf(stderr, "A dependency job for %s failed. See 'minisupctl journal' for details.\n",
                name);
        return;
    }
    if (streq(result, "canceled")) {
        fprintf(stderr, "Job for %s canceled.\n", name);
        return;
    }
    if (streq(result, "assert")) {
        fprintf(stderr, "Assertion failed on job for %s.\n", name);
        return;
    }
    if (streq(result, "timeout")) {
        /* JobTimeoutSec= cancelled the job; the unit keeps its state (systemctl's words). */
        fprintf(stderr, "Job for %s timed out.\n", name);
        return;
    }
    fprintf(stderr, "Job for %s failed because %s.\n", name,
            failure_explanation(json_string_value(json_object_get(unit, "result"))));
    fprintf(stderr, "See \"minisupctl status %s\" and \"minisupctl journal %s\" for details.\n",
            name, name);
}

/* A command that makes one call per unit: the jobs, reset-failed and kill. */
struct unit_call {
    const char *method;
    const char *verb; /* for "Failed to <verb> x.service: ..." */
    bool job;         /* answers with a job result and takes noBlock */
};

/* start, stop, restart, reload and friends exit as systemctl's job verbs do: 5 for a unit that
 * does not exist (or, for stop, did not load), 3 for a job the unit cannot do, 6 for a unit
 * that failed to load. Access
 * denied stays 1, the issue's contract (SEC-*), where systemctl says 4. */
static int job_error_exit(const char *verb, const char *error, const json_t *params)
{
    /* A name no unit can have is an invalid argument to systemd: 1. */
    if (streq(error, IFACE "NoSuchUnit") && json_object_get(params, "reason"))
        return CTL_EXIT_FAILURE;
    /* A masked unit: translate_bus_error_to_exit_status() has no code for it. */
    if (streq(error, IFACE "UnitNotLoaded") &&
        streq(json_string_value(json_object_get(params, "loadState")), "masked"))
        return CTL_EXIT_FAILURE;
    if (streq(error, IFACE "NoSuchUnit") ||
        (streq(error, IFACE "UnitNotLoaded") && streq(verb, "stop")))
        return CTL_EXIT_NOT_INSTALLED;
    if (streq(error, IFACE "JobNotApplicable"))
        return CTL_EXIT_NOT_IMPLEMENTED;
    if (streq(error, IFACE "UnitNotLoaded"))
        return CTL_EXIT_NOT_CONFIGURED;
    return CTL_EXIT_FAILURE;
}

/* Parameters of one unit's call; NULL on ENOMEM. */
static json_t *unit_call_params(const struct ctl *c, const struct unit_call *call, const char *name)
{
    json_t *p = json_pack("{s:s}", "name", name);

    if (!p)
        return NULL;
    if (call->job && c->no_block)
        json_object_set_new(p, "noBlock", json_true());
    if (c->kill_signal > 0)
        json_object_set_new(p, "signal", json_integer(c->kill_signal));
    if (c->kill_whom)
        json_object_set_new(p, "whom", json_string(c->kill_whom));
    return p;
}

/* systemctl's warn_unit_file_changed(): the unit's files changed since minisupd read them. */
static void warn_unit_file_changed(const char *name)
{
    fflush(stdout);
    fprintf(stderr,
            "Warning: The unit file, source configuration file or drop-ins of %s changed on "
            "disk. Run 'minisupctl daemon-reload' to reload units.\n",
            name);
}

/* Reads the reply of the GetUnit a job call was preceded by: whether the unit needs a
 * daemon-reload (false for a unit that does not exist, whose job call reports that). Returns
 * 0 or a negative errno (transport failure, not printed). */
static int receive_need_reload(struct ctl *c, bool *ret_need)
{
    const char *error;
    json_t *msg, *params;
    bool continues;
    int r = ctl_receive(c, -1, &msg, &error, &params, &continues);

    if (r < 0)
        return r;
    *ret_need = !error &&
                json_is_true(json_object_get(json_object_get(params, "unit"), "needDaemonReload"));
    json_decref(msg);
    return 0;
}

/* One call per unit, all sent before the first reply is read (the daemon answers them in
 * order), each waited for without a deadline: a job takes as long as the unit's own timeouts
 * allow. Every outcome is reported; the exit code is the highest. A job call goes behind a
 * GetUnit of its unit, so that an accepted job warns, as systemctl does, when the unit's files
 * changed on disk since minisupd read them. */
static int run_unit_calls(struct ctl *c, const struct unit_call *call, char **names, int n)
{
    int ret = CTL_EXIT_OK, r, sent = 0;

    r = ctl_connect(c);
    if (r < 0)
        return r == -ENOMEM ? oom() : CTL_EXIT_FAILURE;
    for (; sent < n; sent++) {
        if (call->job &&
            ctl_send(c, IFACE "GetUnit", json_pack("{s:s}", "name", names[sent]), 0) < 0) {
            ret = CTL_EXIT_FAILURE;
            break;
        }
        if (ctl_send(c, call->method, unit_call_params(c, call, names[sent]), 0) < 0) {
            ret = CTL_EXIT_FAILURE;
            break;
        }
    }
    for (int i = 0; i < sent; i++) {
        const char *error;
        json_t *msg, *params;
        bool continues, need_reload = false;

        r = call->job ? receive_need_reload(c, &need_reload) : 0;
        if (r >= 0)
            r = ctl_receive(c, -1, &msg, &error, &params, &continues);
        if (r < 0) {
            fprintf(stderr, "Failed to %s %s: %s\n", call->verb, names[i], transport_error(r));
            ret = CTL_EXIT_FAILURE;
            break;
        }
        if (error) {
            report_error(call->verb, names[i], error, params);
            r = call->job ? job_error_exit(call->verb, error, params) : CTL_EXIT_FAILURE;
        } else {
            const char *result = json_string_value(json_object_get(params, "result"));
            r = CTL_EXIT_OK;
            if (need_reload)
                warn_unit_file_changed(names[i]);
            if (call->job && !streq(result, "done") && !streq(result, "queued")) {
                print_job_failure(names[i], result ? result : "", json_object_get(params, "unit"));
                r = CTL_EXIT_FAILURE;
            }
        }
        ret = exit_merge(ret, r);
        json_decref(msg);
    }
    return ret;
}

static int run_unit_command(struct ctl *c, const struct unit_call *call, char **args, int n)
{
    int r;
    char **names = expand_names(c, args, &n, &r);

    if (!names)
        return r;
    r = run_unit_calls(c, call, names, n);
    strv_free(names);
    return r;
}

/* reset-failed without units resets every failed unit, as systemctl does. */
static int run_reset_failed_all(struct ctl *c, const struct unit_call *call)
{
    json_t *msg, *reply, *u;
    char **names = NULL;
    size_t i, n = 0;
    int r = ctl_call(c, "list units", IFACE "ListUnits", json_pack("{s:[s]}", "states", "failed"),
                     &msg, &reply);

    if (r != CTL_EXIT_OK)
        return r;
    names = calloc(json_array_size(json_object_get(reply, "units")) + 1, sizeof(*names));
    if (!names) {
        json_decref(msg);
        return oom();
    }
    json_array_foreach(json_object_get(reply, "units"), i, u)
    {
        const char *name = json_string_value(json_object_get(u, "name"));
        if (name && !(names[n++] = strdup(name))) {
            strv_free(names);
            json_decref(msg);
            return oom();
        }
    }
    json_decref(msg);
    r = n > 0 ? run_unit_calls(c, call, names, (int)n) : CTL_EXIT_OK;
    strv_free(names);
    return r;
}

/* Whether list-units shows a unit: PATTERN arguments match its name, and without --all or
 * --state inactive units are left out unless a job is pending for them, as systemctl does. */
static bool list_shows(const struct ctl *c, const json_t *u, char **patterns, int n)
{
    const char *name = json_string_value(json_object_get(u, "name"));
    const char *active = json_string_value(json_object_get(u, "activeState"));
    bool match = n == 0;

    for (int i = 0; i < n && !match; i++)
        match = name && fnmatch(patterns[i], name, 0) == 0;
    if (!match)
        return false;
    if (c->all || c->states || json_object_get(u, "job"))
        return true;
    return !streq(active, "inactive");
}

/* Whether -t/--type lets list-units show a unit: no types given, or the name's type is one. */
static bool type_shows(const struct ctl *c, const json_t *u)
{
    const char *name = json_string_value(json_object_get(u, "name"));
    enum unit_kind kind;

    if (c->types == 0)
        return true;
    return name && unit_name_kind(name, &kind) == 0 && (c->types & (1u << kind));
}

static int run_list_units(struct ctl *c, char **patterns, int n)
{
    json_t *params = json_object(), *msg, *reply, *shown;
    size_t i;
    json_t *u;
    int r;

    if (params && c->states)
        json_object_set(params, "states", c->states);
    r = ctl_call(c, "list units", IFACE "ListUnits", params, &msg, &reply);
    if (r != CTL_EXIT_OK)
        return r;
    shown = json_array();
    if (!shown) {
        json_decref(msg);
        return oom();
    }
    json_array_foreach(json_object_get(reply, "units"), i, u)
    {
        if (list_shows(c, u, patterns, n) && type_shows(c, u))
            json_array_append(shown, u);
    }
    if (json_mode(c))
        print_json(c, shown);
    else
        ctl_print_unit_table(stdout, shown,
                             (c->no_legend ? 0 : CTL_TABLE_LEGEND) |
                                 (c->all || c->states ? 0 : CTL_TABLE_ALL_HINT),
                             &c->style);
    json_decref(shown);
    json_decref(msg);
    return CTL_EXIT_OK;
}

/* status without units: every unit on one line behind its state dot. */
static int run_status_all(struct ctl *c)
{
    json_t *msg, *reply;
    int r = ctl_call(c, "list units", IFACE "ListUnits", json_object(), &msg, &reply);

    if (r != CTL_EXIT_OK)
        return r;
    if (json_mode(c))
        print_json(c, json_object_get(reply, "units"));
    else
        ctl_print_unit_table(stdout, json_object_get(reply, "units"), CTL_TABLE_DOTS, &c->style);
    json_decref(msg);
    return CTL_EXIT_OK;
}

/* GetJournal parameters shared by status and journal; `filters` (the journal command's
 * --since, --until, -p, -t, -r) may be NULL. NULL on ENOMEM. */
static json_t *journal_params(json_t *units, long long lines, bool follow, const char *invocation,
                              const struct ctl *filters)
{
    json_t *p = json_object();

    if (!p)
        return NULL;
    if (units && json_array_size(units) > 0)
        json_object_set(p, "units", units);
    if (lines > 0)
        json_object_set_new(p, "lines", json_integer(lines));
    if (follow)
        json_object_set_new(p, "follow", json_true());
    if (invocation && *invocation)
        json_object_set_new(p, "invocationId", json_string(invocation));
    if (!filters)
        return p;
    if (filters->since > 0)
        json_object_set_new(p, "since", json_integer((json_int_t)filters->since));
    if (filters->until > 0)
        json_object_set_new(p, "until", json_integer((json_int_t)filters->until));
    if (filters->max_priority >= 0) {
        json_object_set_new(p, "minPriority", json_integer(filters->min_priority));
        json_object_set_new(p, "maxPriority", json_integer(filters->max_priority));
    }
    if (filters->identifier)
        json_object_set_new(p, "identifier", json_string(filters->identifier));
    if (filters->reverse)
        json_object_set_new(p, "reverse", json_true());
    return p;
}

/* The main process as it is called now, as systemctl's status reads it (get_process_comm()):
 * a wrapper such as "/bin/sh -c '... exec prog'" or "env prog" is known by what it became. The
 * daemon names it by the file it started. Kept as it is when the process is gone or in another
 * pid namespace. */
static void name_main_process(json_t *unit)
{
    json_int_t pid = json_integer_value(json_object_get(unit, "mainPid"));
    char path[64], comm[64];
    ssize_t n;
    int fd;

    if (pid <= 0)
        return;
    snprintf(path, sizeof(path), "/proc/%" JSON_INTEGER_FORMAT "/comm", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    n = read(fd, comm, sizeof(comm) - 1);
    close(fd);
    if (n <= 1)
        return;
    comm[comm[n - 1] == '\n' ? n - 1 : n] = '\0';
    json_object_set_new(unit, "mainCommand", json_string(comm));
}

/* Reads the replies of one non-following GetJournal call and appends their entries to `into`.
 * A refused journal (PermissionDenied) just leaves `into` empty: status still shows the state.
 * Returns 0 or a negative errno (transport failure, printed). */
static int collect_journal(struct ctl *c, const char *unit, json_t *into)
{
    for (;;) {
        const char *error;
        json_t *msg, *params;
        bool continues;
        int r = ctl_receive(c, QUERY_TIMEOUT_MS, &msg, &error, &params, &continues);

        if (r < 0) {
            fprintf(stderr, "Failed to read journal of %s: %s\n", unit, transport_error(r));
            return r;
        }
        if (!error)
            json_array_extend(into, json_object_get(params, "entries"));
        json_decref(msg);
        if (error || !continues)
            return 0;
    }
}

static int run_status(struct ctl *c, char **args, int n)
{
    char **names;
    json_t **replies, **journals;
    long long lines = c->lines == LINES_UNSET ? STATUS_JOURNAL_LINES : c->lines;
    int ret = CTL_EXIT_OK, r;
    bool first = true;

    if (n == 0)
        return run_status_all(c);
    if (!(names = expand_names(c, args, &n, &ret)))
        return ret;
    replies = calloc((size_t)n + 1, sizeof(*replies));
    journals = calloc((size_t)n + 1, sizeof(*journals));
    if (!replies || !journals) {
        ret = oom();
        goto out;
    }
    r = ctl_connect(c);
    if (r < 0) {
        ret = r == -ENOMEM ? oom() : CTL_EXIT_FAILURE;
        goto out;
    }
    fill_hostname(c);

    /* One round trip: each unit's state with its processes (Tasks:, CGroup:) and, right behind
     * it, its recent journal of the run that state names (currentInvocation), all in one
     * write. */
    for (int i = 0; i < n; i++) {
        if (ctl_queue(c, IFACE "GetUnit", json_pack("{s:s, s:b}", "name", names[i], "processes", 1),
                      0) < 0) {
            ret = CTL_EXIT_FAILURE;
            goto out;
        }
        if (c->mode == CTL_OUTPUT_JSON || lines == 0)
            continue;
        json_t *units = json_pack("[s]", names[i]);
        json_t *p = units ? journal_params(units, lines, false, NULL, NULL) : NULL;
        json_decref(units);
        if (p && json_object_set_new(p, "currentInvocation", json_true()) < 0) {
            json_decref(p);
            p = NULL;
        }
        journals[i] = json_array();
        if (!journals[i] || ctl_queue(c, IFACE "GetJournal", p, VARLINK_CALL_MORE) < 0) {
            ret = CTL_EXIT_FAILURE;
            goto out;
        }
    }
    if (ctl_flush(c) < 0) {
        ret = CTL_EXIT_FAILURE;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        const char *error;
        json_t *params;
        bool continues;
        r = ctl_receive(c, QUERY_TIMEOUT_MS, &replies[i], &error, &params, &continues);
        if (r < 0) {
            fprintf(stderr, "Failed to get status of %s: %s\n", names[i], transport_error(r));
            ret = CTL_EXIT_FAILURE;
            goto out;
        }
        if (journals[i] && collect_journal(c, names[i], journals[i]) < 0) {
            ret = CTL_EXIT_FAILURE;
            goto out;
        }
    }

    for (int i = 0; i < n; i++) {
        json_t *params = json_object_get(replies[i], "parameters");
        const char *error = json_string_value(json_object_get(replies[i], "error"));
        json_t *unit = json_object_get(params, "unit");

        if (streq(error, IFACE "NoSuchUnit")) {
            fflush(stdout);
            fprintf(stderr, "Unit %s could not be found.\n", names[i]);
            r = CTL_EXIT_NO_UNIT;
        } else if (error || !unit) {
            r = report_error("get status of", names[i], error ? error : "no unit in reply", params);
        } else {
            if (json_mode(c)) {
                print_json(c, unit);
            } else {
                if (!first)
                    putchar('\n');
                name_main_process(unit);
                ctl_print_unit_status(stdout, unit, journals[i],
                                      c->mode < 0 ? CTL_OUTPUT_SHORT : c->mode, &c->style);
                /* After the journal, on stderr, as systemctl status warns. */
                if (json_is_true(json_object_get(unit, "needDaemonReload")))
                    warn_unit_file_changed(names[i]);
            }
            first = false;
            r = is_active_state(json_string_value(json_object_get(unit, "activeState")))
                    ? CTL_EXIT_OK
                    : CTL_EXIT_NOT_ACTIVE;
        }
        ret = exit_merge(ret, r);
    }

out:
    for (int i = 0; replies && i < n; i++)
        json_decref(replies[i]);
    for (int i = 0; journals && i < n; i++)
        json_decref(journals[i]);
    free(replies);
    free(journals);
    strv_free(names);
    return ret;
}

/* Asks GetUnit for every unit named in args at once (pipelined) and hands each reply to fn, in
 * order: unit is the reply's unit, or NULL when there is no such unit. Other errors are
 * reported as "Failed to <what> <name>: ..." and merged into the exit code, with fn's own. */
typedef int (*unit_reply_fn)(struct ctl *c, const char *name, json_t *unit, void *userdata);

static int get_each_unit(struct ctl *c, char **names, int n, const char *what, unit_reply_fn fn,
                         void *userdata)
{
    int ret = CTL_EXIT_OK, r, sent = 0;

    r = ctl_connect(c);
    if (r < 0)
        return r == -ENOMEM ? oom() : CTL_EXIT_FAILURE;
    for (; sent < n; sent++)
        if (ctl_send(c, IFACE "GetUnit", json_pack("{s:s}", "name", names[sent]), 0) < 0) {
            ret = CTL_EXIT_FAILURE;
            break;
        }
    for (int i = 0; i < sent; i++) {
        const char *error = NULL;
        json_t *msg = NULL, *params;
        bool continues;

        r = ctl_receive(c, QUERY_TIMEOUT_MS, &msg, &error, &params, &continues);
        if (r < 0) {
            fprintf(stderr, "Failed to %s %s: %s\n", what, names[i], transport_error(r));
            return CTL_EXIT_FAILURE;
        }
        if (error && !streq(error, IFACE "NoSuchUnit"))
            ret = exit_merge(ret, report_error(what, names[i], error, params));
        else
            ret = exit_merge(
                ret, fn(c, names[i], error ? NULL : json_object_get(params, "unit"), userdata));
        json_decref(msg);
    }
    return ret;
}

static int for_each_unit_reply(struct ctl *c, char **args, int n, const char *what,
                               unit_reply_fn fn, void *userdata)
{
    int ret;
    char **names = expand_names(c, args, &n, &ret);

    if (!names)
        return ret;
    ret = get_each_unit(c, names, n, what, fn, userdata);
    strv_free(names);
    return ret;
}

struct is_state {
    bool failed; /* is-failed, else is-active */
    bool any, all_not_found;
};

static int is_state_reply(struct ctl *c, const char *name, json_t *unit, void *userdata)
{
    struct is_state *w = userdata;
    const char *state = "inactive"; /* an unknown unit */

    if (unit) {
        const char *s = json_string_value(json_object_get(unit, "activeState"));
        state = s ? s : "unknown";
        if (!streq(json_string_value(json_object_get(unit, "loadState")), "not-found"))
            w->all_not_found = false;
    }
    w->any = w->any || (w->failed ? streq(state, "failed") : is_active_state(state));
    if (!c->quiet)
        puts(state);
    return CTL_EXIT_OK;
}

/* is-active and is-failed: print each unit's activeState (an unknown unit is "inactive"); 0
 * when any unit is in the asked-for state, else 4 when every unit was unknown, else 3 for
 * is-active and 1 for is-failed, as systemctl does since systemd 253 (check_unit_generic()). */
static int run_is_state(struct ctl *c, char **args, int n, bool failed)
{
    struct is_state w = {.failed = failed, .all_not_found = true};
    int ret = for_each_unit_reply(c, args, n, "get state of", is_state_reply, &w);

    if (ret != CTL_EXIT_OK)
        return ret;
    if (w.any)
        return CTL_EXIT_OK;
    if (w.all_not_found)
        return CTL_EXIT_NO_UNIT;
    return failed ? CTL_EXIT_FAILURE : CTL_EXIT_NOT_ACTIVE;
}

struct is_enabled {
    bool enabled, all_not_found;
};

static int is_enabled_reply(struct ctl *c, const char *name, json_t *unit, void *userdata)
{
    struct is_enabled *w = userdata;
    const char *state = "not-found";

    if (unit) {
        const char *load = json_string_value(json_object_get(unit, "loadState"));
        const char *uname = json_string_value(json_object_get(unit, "name"));
        if (streq(load, "loaded")) {
            w->all_not_found = false;
            w->enabled = true; /* every loaded unit is enabled, static or an alias */
            if (uname && !streq(uname, name))
                state = "alias"; /* GetUnit followed the symlink */
            else if (json_is_true(json_object_get(unit, "enabled")))
                state = "enabled";
            else
                state = "static";
        } else if (streq(load, "masked")) {
            w->all_not_found = false; /* and not enabled: systemctl exits 1 for it alone */
            state = "masked";
        } else if (!streq(load, "not-found")) {
            /* bad-setting or error: the file is there, but what it says is not known. */
            const char *reason = json_string_value(json_object_get(unit, "loadError"));
            w->all_not_found = false;
            fflush(stdout);
            fprintf(stderr,
                    "Failed to get unit file state for %s: Unit %s has a bad unit file "
                    "setting.\n",
                    name, name);
            if (reason && *reason)
                fprintf(stderr, "%s\n", reason);
            return CTL_EXIT_FAILURE;
        }
    }
    if (!c->quiet)
        puts(state);
    return CTL_EXIT_OK;
}

/* is-enabled: whether each unit starts with minisupd. There is no enable or disable (the unit
 * files are the whole configuration), so a unit is "enabled" when its [Install] section has
 * WantedBy= or RequiredBy= (GetUnit's `enabled`), "static" when it has neither (systemd's word
 * for a unit without installation information), "alias" when the name is a symlink to another
 * unit, "masked" when its file is empty or a link to /dev/null (not enabled), and "not-found"
 * when there is no such unit file. Exit 0 when one unit is enabled, static
 * or an alias, else 4 when every unit was not found, else 1, as systemctl does since systemd 253
 * (verb_is_enabled()). A unit that failed to load has no state to tell: that is an error, as
 * systemctl reports one for a unit file it cannot read (exit 1). */
static int run_is_enabled(struct ctl *c, char **args, int n)
{
    struct is_enabled w = {.all_not_found = true};
    int ret = for_each_unit_reply(c, args, n, "get unit file state for", is_enabled_reply, &w);

    if (ret != CTL_EXIT_OK)
        return ret;
    if (w.enabled)
        return CTL_EXIT_OK;
    return w.all_not_found ? CTL_EXIT_NO_UNIT : CTL_EXIT_FAILURE;
}

/* daemon-reload: the daemon re-reads its unit directory; units that failed to parse are named
 * by status and list-units, so here they only earn a warning. */
static int run_daemon_reload(struct ctl *c)
{
    json_t *msg = NULL, *reply;
    long long failed;
    int r = ctl_call(c, "reload daemon", IFACE "Reload", json_object(), &msg, &reply);

    if (r != CTL_EXIT_OK)
        return r;
    failed = (long long)json_integer_value(json_object_get(reply, "failedUnits"));
    if (failed > 0)
        fprintf(stderr,
                "Warning: %lld unit file%s failed to load (a unit that was loaded keeps the "
                "configuration it had); see 'minisupctl verify'.\n",
                failed, failed == 1 ? "" : "s");
    json_decref(msg);
    return CTL_EXIT_OK;
}

static void install_interrupt_handlers(void)
{
    struct sigaction sa = {.sa_handler = on_interrupt};

    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);
}

/* A record read from the files, in the shape GetJournal sends, so every output mode prints
 * both alike. NULL on ENOMEM. */
static json_t *record_to_json(const struct journal_record *r)
{
    json_t *o = json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:i, s:s, s:i}", "realtime",
                          (json_int_t)r->realtime_usec, "monotonic", (json_int_t)r->monotonic_usec,
                          "seq", (json_int_t)r->seq, "unit", r->unit ? r->unit : "", "invocationId",
                          r->invocation ? r->invocation : "", "identifier",
                          r->identifier ? r->identifier : "", "pid", (int)r->pid, "stream",
                          journal_stream_to_string(r->stream), "priority", r->priority);
    json_t *msg;

    if (!o)
        return NULL;
    /* jansson refuses invalid UTF-8, and a message with a NUL would print "\u0000", which
     * strict JSON readers refuse: such a message travels as bytes, as from the daemon. */
    msg =
        memchr(r->message, '\0', r->message_len) ? NULL : json_stringn(r->message, r->message_len);
    if (!msg) {
        msg = json_array();
        for (size_t i = 0; msg && i < r->message_len; i++)
            json_array_append_new(msg, json_integer((unsigned char)r->message[i]));
    }
    json_object_set_new(o, msg && json_is_array(msg) ? "messageBytes" : "message", msg);
    return o;
}

/* ---- journal: unit patterns, --grep, and where entries go ---- */

/* journalctl's -u takes a glob pattern as well as a name. */
static bool is_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* Whether a -u pattern matches a unit: the name as it is, or the pattern with ".service"
 * appended, as a plain name gets it ("web-?" matches web-1.service). */
static bool unit_pattern_matches(const char *pattern, const char *name)
{
    char *p = NULL;
    bool match;

    if (fnmatch(pattern, name, 0) == 0)
        return true;
    if (asprintf(&p, "%s.service", pattern) < 0)
        return false;
    match = fnmatch(p, name, 0) == 0;
    free(p);
    return match;
}

/* Appends name to arr unless it is there already. 0 or -ENOMEM. */
static int append_unique(json_t *arr, const char *name)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v)
    {
        if (streq(json_string_value(v), name))
            return 0;
    }
    return json_array_append_new(arr, json_string(name)) < 0 ? -ENOMEM : 0;
}

static bool in_set(const json_t *set, const char *s)
{
    size_t i;
    json_t *v;

    json_array_foreach(set, i, v)
    {
        if (streq(json_string_value(v), s))
            return true;
    }
    return false;
}

static int collect_unit_name(const struct journal_record *r, void *userdata)
{
    json_t *set = userdata;

    if (!r->unit || !*r->unit || json_object_get(set, r->unit))
        return 0;
    return json_object_set_new(set, r->unit, json_true()) < 0 ? -ENOMEM : 0;
}

/* The unit names -u patterns are matched against: minisupd's units, inactive ones included
 * (ListUnits), or with --directory the units named in the journal files, as journalctl reads
 * them from its journal. Returns a new array, or NULL with *ret_exit set (the error printed). */
static json_t *known_units(struct ctl *c, int *ret_exit)
{
    json_t *names = json_array(), *msg, *reply, *u;
    size_t i;
    int r;

    if (!names) {
        *ret_exit = oom();
        return NULL;
    }
    if (c->directory) {
        struct journal_query q = {.max_priority = -1};
        json_t *set = json_object();
        const char *key;
        json_t *v;

        r = set ? journal_read(c->directory, &q, collect_unit_name, set, NULL) : -ENOMEM;
        json_object_foreach(set, key, v)
        {
            if (json_array_append_new(names, json_string(key)) < 0)
                r = -ENOMEM;
        }
        json_decref(set);
        if (r < 0 && r != -ENOENT) {
            json_decref(names);
            if (r == -ENOMEM) {
                *ret_exit = oom();
                return NULL;
            }
            fprintf(stderr, "Failed to read journal in %s: %s\n", c->directory, strerror(-r));
            *ret_exit = CTL_EXIT_FAILURE;
            return NULL;
        }
        return names;
    }
    r = ctl_call(c, "list units", IFACE "ListUnits", json_object(), &msg, &reply);
    if (r != CTL_EXIT_OK) {
        json_decref(names);
        *ret_exit = r;
        return NULL;
    }
    json_array_foreach(json_object_get(reply, "units"), i, u)
    {
        const char *name = json_string_value(json_object_get(u, "name"));
        if (name && json_array_append_new(names, json_string(name)) < 0) {
            json_decref(names);
            json_decref(msg);
            *ret_exit = oom();
            return NULL;
        }
    }
    json_decref(msg);
    return names;
}

/* The fields journal's FIELD=VALUE arguments may name: what minisupd's records keep. */
enum journal_match_field {
    MATCH_UNIT,
    MATCH_IDENTIFIER,
    MATCH_INVOCATION,
    MATCH_PID,
    MATCH_PRIORITY,
    MATCH_MAX,
};

static const char *const match_field_names[MATCH_MAX] = {
    [MATCH_UNIT] = "_SYSTEMD_UNIT",
    [MATCH_IDENTIFIER] = "SYSLOG_IDENTIFIER",
    [MATCH_INVOCATION] = "_SYSTEMD_INVOCATION_ID",
    [MATCH_PID] = "_PID",
    [MATCH_PRIORITY] = "PRIORITY",
};

/* sd-journal's match_is_valid(): FIELD=VALUE, the field of uppercase letters, digits and
 * underscores, and none of the "__" ones journald adds itself. */
static bool match_is_valid(const char *s)
{
    const char *eq = strchr(s, '=');

    if (!eq || eq == s || strncmp(s, "__", 2) == 0)
        return false;
    for (const char *p = s; p < eq; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

/* Whether journald could have stored `value` in the field: a unit name, an identifier, 32
 * lowercase hex digits, a decimal pid, a priority digit. A value that fails matches nothing. */
static bool match_value_is_possible(enum journal_match_field field, const char *value)
{
    size_t len = strlen(value), i;

    switch (field) {
    case MATCH_UNIT:
        return unit_name_is_valid(value);
    case MATCH_IDENTIFIER:
        return len > 0;
    case MATCH_INVOCATION:
        for (i = 0; i < len; i++)
            if (!isdigit((unsigned char)value[i]) && !(value[i] >= 'a' && value[i] <= 'f'))
                return false;
        return len == 32;
    case MATCH_PID:
        for (i = 0; i < len; i++)
            if (!isdigit((unsigned char)value[i]))
                return false;
        return len > 0 && len < 11 && value[0] != '0';
    case MATCH_PRIORITY:
        return len == 1 && value[0] >= '0' && value[0] <= '7';
    case MATCH_MAX:
        break;
    }
    return false;
}

/* One FIELD=VALUE argument of journal, as journalctl takes its matches: the values of one field
 * are alternatives, the fields must all match. _SYSTEMD_UNIT= is -u with the exact name,
 * SYSLOG_IDENTIFIER= is -t. Returns -1 to go on, or the exit code. */
static int add_journal_match(struct ctl *c, const char *arg)
{
    const char *eq = strchr(arg, '='), *value = eq ? eq + 1 : "";
    json_t **sets[MATCH_MAX] = {
        [MATCH_UNIT] = &c->match_units,
        [MATCH_IDENTIFIER] = &c->match_identifiers,
        [MATCH_INVOCATION] = &c->match_invocations,
        [MATCH_PID] = &c->match_pids,
    };
    int field;

    if (streq(arg, "+")) {
        fprintf(stderr, "Failed to add match '+': matches cannot be combined with '+' here.\n");
        return CTL_EXIT_FAILURE;
    }
    if (!match_is_valid(arg)) {
        fprintf(stderr, "Failed to add match '%s': Invalid argument\n", arg);
        return CTL_EXIT_FAILURE;
    }
    for (field = 0; field < MATCH_MAX; field++)
        if (strlen(match_field_names[field]) == (size_t)(eq - arg) &&
            strncmp(arg, match_field_names[field], (size_t)(eq - arg)) == 0)
            break;
    if (field == MATCH_MAX) {
        fprintf(stderr,
                "Failed to add match '%s': minisupd's journal has no field %.*s to match "
                "(only _SYSTEMD_UNIT, SYSLOG_IDENTIFIER, PRIORITY, _PID and "
                "_SYSTEMD_INVOCATION_ID).\n",
                arg, (int)(eq - arg), arg);
        return CTL_EXIT_FAILURE;
    }
    c->match_given |= 1u << field;
    if (!match_value_is_possible(field, value))
        return -1;
    if (field == MATCH_PRIORITY) {
        c->match_priorities |= 1u << (value[0] - '0');
        return -1;
    }
    if (!*sets[field] && !(*sets[field] = json_array()))
        return oom();
    return append_unique(*sets[field], value) < 0 ? oom() : -1;
}

/* After the FIELD=VALUE arguments: what the daemon (or the file reader) can filter goes into its
 * filters, the rest is checked entry by entry, and a field none of whose values journald could
 * have stored, or that contradicts --invocation or -p, matches nothing. */
static void resolve_journal_matches(struct ctl *c)
{
    size_t n;

    for (int field = 0; field < MATCH_MAX; field++) {
        json_t *set = field == MATCH_UNIT         ? c->match_units
                      : field == MATCH_IDENTIFIER ? c->match_identifiers
                      : field == MATCH_INVOCATION ? c->match_invocations
                      : field == MATCH_PID        ? c->match_pids
                                                  : NULL;
        bool empty = field == MATCH_PRIORITY ? c->match_priorities == 0 : !json_array_size(set);
        /* _SYSTEMD_UNIT= joins the units, which resolve_journal_units() checks. */
        if (field != MATCH_UNIT && (c->match_given & 1u << field) && empty)
            c->match_none = true;
    }
    /* SYSLOG_IDENTIFIER= is -t: one identifier the daemon filters, several are checked here. */
    n = json_array_size(c->match_identifiers);
    if (n > 0 && c->identifier && !in_set(c->match_identifiers, c->identifier) &&
        json_array_append_new(c->match_identifiers, json_string(c->identifier)) == 0)
        n++;
    if (n == 1)
        c->identifier = json_string_value(json_array_get(c->match_identifiers, 0));
    else if (n > 1)
        c->identifier = NULL, c->match_client = true;
    /* --invocation and _SYSTEMD_INVOCATION_ID= must both match. */
    n = json_array_size(c->match_invocations);
    if (n > 0 && c->invocation && !in_set(c->match_invocations, c->invocation))
        c->match_none = true;
    else if (n == 1 && !c->invocation)
        c->invocation = json_string_value(json_array_get(c->match_invocations, 0));
    else if (n > 1 && !c->invocation)
        c->match_client = true;
    if (json_array_size(c->match_pids) > 0)
        c->match_client = true;
    /* PRIORITY= values within -p's range; the daemon filters their span, and when that span has
     * a gap (PRIORITY=3 PRIORITY=6), each entry's priority is checked here too. */
    if (c->match_priorities) {
        unsigned mask = c->match_priorities, range = 0;
        int lo = 0, hi = 7;

        if (c->max_priority >= 0)
            for (int p = c->min_priority; p <= c->max_priority; p++)
                range |= 1u << p;
        if (range)
            mask &= range;
        if (!mask) {
            c->match_none = true;
            return;
        }
        while (!(mask & 1u << lo))
            lo++;
        while (!(mask & 1u << hi))
            hi--;
        c->min_priority = lo;
        c->max_priority = hi;
        c->match_priorities = mask;
        if (mask != ((2u << hi) - (1u << lo)))
            c->match_client = true;
        else
            c->match_priorities = 0;
    }
}

/* The units of journal: the arguments and every -u, each a unit name (mangled and normalized, as
 * journalctl does) or a glob pattern expanded to the units it matches, and the _SYSTEMD_UNIT=
 * matches as they are. As journalctl, patterns that match no unit at all, with no plain name
 * beside them, are an error rather than a filter that lets everything through; plain names of
 * which none can be a unit's ("@x", _SYSTEMD_UNIT=web) match nothing (c->match_none). Replaces
 * c->units; returns -1 to go on, or the exit code. */
static int resolve_journal_units(struct ctl *c, char **args, int n)
{
    json_t *resolved = json_array(), *known = NULL, *v;
    bool patterns = false, plain = (c->match_given & 1u << MATCH_UNIT) != 0;
    int ret = -1;
    size_t i;

    if (!resolved)
        return oom();
    for (int k = 0; k < n; k++)
        if (json_array_append_new(c->units, json_string(args[k])) < 0) {
            ret = oom();
            goto out;
        }
    json_array_foreach(c->units, i, v)
    {
        const char *s = json_string_value(v);
        char *norm = NULL;
        size_t j;
        json_t *name;
        int r;

        if (!s)
            continue;
        /* journalctl's notice, unless its --quiet, which cat, json and export imply. */
        r = mangle_name(s, !c->quiet && !machine_mode(c->mode < 0 ? CTL_OUTPUT_SHORT : c->mode),
                        &norm);
        if (r == -ENOMEM) {
            ret = oom();
            goto out;
        }
        if (r < 0) {
            /* journalctl's add_units() fails (an empty name, a path too long for a name). */
            fprintf(stderr, "Failed to add filter for units: %s\n", strerror(-r));
            ret = CTL_EXIT_FAILURE;
            goto out;
        }
        if (!is_glob(norm)) {
            /* A name no unit can have ("@x") matches nothing, as journalctl's match. */
            r = unit_name_is_valid(norm) ? append_unique(resolved, norm) : 0;
            plain = true;
        } else if (known || (known = known_units(c, &ret))) {
            patterns = true;
            json_array_foreach(known, j, name)
            {
                const char *u = json_string_value(name);
                if (unit_pattern_matches(norm, u) && (r = append_unique(resolved, u)) < 0)
                    break;
            }
        } else {
            free(norm);
            goto out; /* known_units() said why */
        }
        free(norm);
        if (r < 0) {
            ret = oom();
            goto out;
        }
    }
    json_array_foreach(c->match_units, i, v)
    {
        if (append_unique(resolved, json_string_value(v)) < 0) {
            ret = oom();
            goto out;
        }
    }
    if (patterns && !plain && json_array_size(resolved) == 0) {
        /* journalctl's words for it: sd-journal's match list came out empty (ENODATA). */
        fprintf(stderr, "Failed to add filter for units: No data available\n");
        ret = CTL_EXIT_FAILURE;
        goto out;
    }
    if (plain && json_array_size(resolved) == 0)
        c->match_none = true;
    json_decref(c->units);
    c->units = resolved;
    resolved = NULL;
out:
    json_decref(known);
    json_decref(resolved);
    return ret;
}

/* -g: compiled once. Smart case, as journalctl: case-insensitive unless the pattern has an
 * uppercase letter (ASCII: minisupctl runs in the C locale), --case-sensitive decides otherwise.
 * Returns -1 to go on, or the exit code. */
static int compile_grep(struct ctl *c)
{
    int flags = REG_EXTENDED | REG_NOSUB, r;
    bool icase = true;

    if (!c->grep)
        return -1;
    if (c->case_sensitive >= 0)
        icase = !c->case_sensitive;
    else
        for (const char *p = c->grep; *p; p++)
            if (isupper((unsigned char)*p))
                icase = false;
    r = regcomp(&c->grep_re, c->grep, flags | (icase ? REG_ICASE : 0));
    if (r != 0) {
        char msg[256];
        regerror(r, &c->grep_re, msg, sizeof(msg));
        fprintf(stderr, "Bad pattern \"%s\": %s\n", c->grep, msg);
        return CTL_EXIT_FAILURE;
    }
    c->grep_compiled = true;
    return -1;
}

/* text[0..len) with text[len] == '\0': regexec stops at a NUL byte, so each NUL-separated piece
 * is tried on its own. */
static bool text_matches(const regex_t *re, const char *text, size_t len)
{
    for (const char *p = text, *end = text + len; p <= end; p += strlen(p) + 1)
        if (regexec(re, p, 0, NULL, 0) == 0)
            return true;
    return false;
}

/* Whether an entry passes the matches the daemon could not apply (several values of one
 * field, _PID=, PRIORITY= values that are no range). */
static bool entry_passes_matches(const struct ctl *c, const json_t *e)
{
    json_int_t prio = json_integer_value(json_object_get(e, "priority"));
    char pid[32];

    if (!c->match_client)
        return true;
    if (json_array_size(c->match_identifiers) > 1 &&
        !in_set(c->match_identifiers, json_string_value(json_object_get(e, "identifier"))))
        return false;
    if (json_array_size(c->match_invocations) > 1 && !c->invocation &&
        !in_set(c->match_invocations, json_string_value(json_object_get(e, "invocationId"))))
        return false;
    snprintf(pid, sizeof(pid), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(e, "pid")));
    if (json_array_size(c->match_pids) > 0 && !in_set(c->match_pids, pid))
        return false;
    if (c->match_priorities && (prio < 0 || prio > 7 || !(c->match_priorities & 1u << prio)))
        return false;
    return true;
}

/* Whether an entry passes the matches and --grep: its message, text or (messageBytes, not valid
 * UTF-8) bytes. */
static bool entry_matches(const struct ctl *c, const json_t *e)
{
    const json_t *msg = json_object_get(e, "message"), *bytes, *b;
    char *buf;
    size_t n, i;
    bool match;

    if (!entry_passes_matches(c, e))
        return false;
    if (!c->grep_compiled)
        return true;
    if (json_is_string(msg))
        return text_matches(&c->grep_re, json_string_value(msg), json_string_length(msg));
    bytes = json_object_get(e, "messageBytes");
    n = json_array_size(bytes);
    buf = malloc(n + 1);
    if (!buf)
        return false;
    json_array_foreach(bytes, i, b)
    {
        buf[i] = (char)json_integer_value(b);
    }
    buf[n] = '\0';
    match = text_matches(&c->grep_re, buf, n);
    free(buf);
    return match;
}

/* Where journal entries go: through --grep, then printed. With --grep and -n N the daemon (or
 * the files) cannot count for us, so every entry is asked for and the last N matching ones
 * held back until the stored part is read (with -r, the first N are printed): journalctl's -n
 * counts the entries --grep lets through. */
struct journal_sink {
    const struct ctl *c;
    enum ctl_output_mode mode;
    size_t keep;       /* > 0: print only that many matching entries of the stored part */
    bool first;        /* keep the first `keep` entries (-r, -n +N), not the last ones */
    json_t *held;      /* the last matching ones so far, while keep > 0 and not first */
    size_t printed;    /* entries printed */
    uint64_t last_seq; /* the highest seq seen, matching --grep or not */
};

static void sink_print(struct journal_sink *s, const json_t *e)
{
    ctl_print_journal_entry(stdout, e, s->mode, &s->c->style);
    s->printed++;
}

/* 0 or -ENOMEM. */
static int sink_entry(struct journal_sink *s, json_t *e)
{
    json_int_t seq = json_integer_value(json_object_get(e, "seq"));

    if (seq > 0 && (uint64_t)seq > s->last_seq)
        s->last_seq = (uint64_t)seq;
    if (!entry_matches(s->c, e))
        return 0;
    if (s->keep == 0) {
        sink_print(s, e);
        return 0;
    }
    if (s->first) {
        if (s->printed < s->keep)
            sink_print(s, e);
        return 0;
    }
    if (!s->held && !(s->held = json_array()))
        return -ENOMEM;
    if (json_array_append(s->held, e) < 0)
        return -ENOMEM;
    /* Drop what can no longer be among the last N, in one go now and then rather than one
     * entry at a time (each removal moves the whole array). */
    if (json_array_size(s->held) >= 2 * s->keep) {
        json_t *tail = json_array();
        size_t n = json_array_size(s->held);
        if (!tail)
            return -ENOMEM;
        for (size_t i = n - s->keep; i < n; i++)
            if (json_array_append(tail, json_array_get(s->held, i)) < 0) {
                json_decref(tail);
                return -ENOMEM;
            }
        json_decref(s->held);
        s->held = tail;
    }
    return 0;
}

/* The stored part is read: print what was held back; from now on (-f) every match prints. */
static void sink_flush(struct journal_sink *s)
{
    size_t n = json_array_size(s->held);

    for (size_t i = n > s->keep ? n - s->keep : 0; i < n; i++)
        sink_print(s, json_array_get(s->held, i));
    json_decref(s->held);
    s->held = NULL;
    s->keep = 0;
}

static int print_record(const struct journal_record *r, void *userdata)
{
    struct journal_sink *s = userdata;
    json_t *e = record_to_json(r);
    int ret;

    if (!e)
        return -ENOMEM;
    ret = sink_entry(s, e);
    json_decref(e);
    return ret;
}

/* Waits up to ms, or less when interrupted. */
static void nap(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

    (void)nanosleep(&ts, NULL); /* EINTR: the caller checks `interrupted` */
}

/* The reader finds nothing in a missing directory; a typo deserves an error instead. Returns -1
 * to go on, or the exit code. */
static int check_directory(const struct ctl *c)
{
    struct stat st;
    int err = stat(c->directory, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;

    if (!err)
        return -1;
    fprintf(stderr, "Failed to open journal directory %s: %s\n", c->directory, strerror(err));
    return CTL_EXIT_FAILURE;
}

/* The end of a journal read that is not following: "-- No entries --" when nothing was shown
 * (not with -q, as journalctl), and the exit code. As journalctl (and grep), a --grep that matched
 * nothing exits 1. */
static int journal_finish(const struct ctl *c, const struct journal_sink *s)
{
    if (s->printed > 0 || c->follow)
        return CTL_EXIT_OK;
    if (!c->quiet && !machine_mode(s->mode))
        puts("-- No entries --");
    return c->grep_compiled ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}

/* journal --directory: the files read directly, no daemon needed (a stopped or crashed one, a
 * copied log directory). -f polls for records past the last sequence number seen. */
static int run_journal_directory(struct ctl *c, struct journal_sink *s, long long lines)
{
    size_t n = json_array_size(c->units), skipped = 0, i;
    const char **units = NULL;
    struct journal_query q = {.invocation = c->invocation,
                              .identifier = c->identifier,
                              .since_usec = c->since,
                              .until_usec = c->until,
                              .min_priority = c->max_priority >= 0 ? c->min_priority : -1,
                              .max_priority = c->max_priority,
                              .lines = lines > 0 && s->keep == 0 ? (size_t)lines : 0,
                              .reverse = c->reverse};
    json_t *v;
    int r;

    /* The reader reads 0..0 as no filter; -1..0 asks for emerg only. */
    if (q.min_priority == 0 && q.max_priority == 0)
        q.min_priority = -1;
    if (n > 0) {
        units = calloc(n + 1, sizeof(*units));
        if (!units)
            return oom();
        json_array_foreach(c->units, i, v)
        {
            units[i] = json_string_value(v);
        }
        q.units = units;
    }
    fill_hostname(c);
    c->style.all = c->all;
    if (c->follow)
        install_interrupt_handlers();
    r = journal_read(c->directory, &q, print_record, s, &skipped);
    sink_flush(s);
    while (r >= 0 && c->follow && !interrupted) {
        fflush(stdout);
        nap(250);
        q.lines = 0;
        q.after_seq = s->last_seq;
        r = journal_read(c->directory, &q, print_record, s, &skipped);
    }
    free(units);
    if (r < 0 && !(r == -ENOENT && s->printed == 0)) {
        fprintf(stderr, "Failed to read journal in %s: %s\n", c->directory, strerror(-r));
        return CTL_EXIT_FAILURE;
    }
    if (skipped > 0)
        fprintf(stderr, "Skipped %zu damaged journal record%s.\n", skipped,
                skipped == 1 ? "" : "s");
    return journal_finish(c, s);
}

/* Sends one GetJournal call and hands every entry of its replies to the sink, until the last
 * reply or, following, until the daemon hangs up or we are interrupted. The entries of the first
 * reply are dropped when skip_first. Returns the exit code. */
static int journal_call(struct ctl *c, json_t *params, bool follow, bool skip_first,
                        struct journal_sink *s)
{
    if (!params)
        return oom();
    if (ctl_send(c, IFACE "GetJournal", params, VARLINK_CALL_MORE) < 0)
        return CTL_EXIT_FAILURE;
    for (bool first = true;; first = false) {
        const char *error;
        json_t *msg = NULL, *reply, *e;
        bool continues;
        size_t i;
        int r;

        if (follow)
            r = ctl_receive_interruptible(c, &msg, &error, &reply, &continues);
        else
            r = ctl_receive(c, QUERY_TIMEOUT_MS, &msg, &error, &reply, &continues);
        if (r < 0) {
            if (follow && (r == -EINTR || r == -ECONNRESET))
                return CTL_EXIT_OK;
            fprintf(stderr, "Failed to read journal: %s\n", transport_error(r));
            return CTL_EXIT_FAILURE;
        }
        if (error) {
            r = report_error("read journal", NULL, error, reply);
            json_decref(msg);
            return r;
        }
        if (!(first && skip_first))
            json_array_foreach(json_object_get(reply, "entries"), i, e)
            {
                if (sink_entry(s, e) < 0) {
                    json_decref(msg);
                    return oom();
                }
            }
        json_decref(msg);
        if (follow)
            fflush(stdout);
        if (!continues)
            return CTL_EXIT_OK;
    }
}

static int parse_boot(const char *arg, char *ret_id, long *ret_offset);

/* This boot's ID, as the kernel names it (a UUID), into ret[33] as 32 lowercase hex digits.
 * 0 or a negative errno. */
static int read_boot_id(char ret[33])
{
    char buf[64];
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
    size_t k = 0;
    int r = -EIO;

    if (!f)
        return -errno;
    if (fgets(buf, sizeof(buf), f)) {
        for (const char *p = buf; *p && k < 32; p++)
            if (isxdigit((unsigned char)*p))
                ret[k++] = (char)tolower((unsigned char)*p);
        ret[k] = '\0';
        r = k == 32 ? 0 : -EIO;
    }
    fclose(f);
    return r;
}

/* -b: minisupd keeps no boot IDs in its records, but one boot has a meaning: the current one,
 * whose entries are those since it began (the realtime clock less CLOCK_BOOTTIME). So -b, -b 0
 * and -b with this boot's ID narrow --since to that moment; any other boot is unknown, in
 * journalctl's words. Returns -1 to go on, or the exit code. */
static int apply_boot(struct ctl *c)
{
    struct timespec rt, bt;
    char id[33], current[33];
    long offset;
    uint64_t boot;

    if (!c->boot)
        return -1;
    if (parse_boot(c->boot_arg, id, &offset) < 0)
        return CTL_EXIT_FAILURE; /* refused by parse_argv already */
    if (offset != 0 || (*id && (read_boot_id(current) < 0 || !streq(id, current)))) {
        if (*id)
            fprintf(stderr,
                    "Data from the specified boot (%s) is not available: No such boot ID in "
                    "journal\n",
                    id);
        else
            fprintf(stderr,
                    "Data from the specified boot (%+ld) is not available: No such boot ID in "
                    "journal\n",
                    offset);
        return CTL_EXIT_FAILURE;
    }
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_BOOTTIME, &bt);
    boot = (uint64_t)((int64_t)(rt.tv_sec - bt.tv_sec) * 1000000 +
                      (int64_t)(rt.tv_nsec - bt.tv_nsec) / 1000);
    if (c->since < boot)
        c->since = boot;
    return -1;
}

/* journal: the selected entries, oldest first; with -f then every new one until the daemon
 * hangs up or we are interrupted (both exit 0, as journalctl -f does). */
static int run_journal(struct ctl *c, char **args, int n)
{
    enum ctl_output_mode mode = c->mode < 0 ? CTL_OUTPUT_SHORT : c->mode;
    struct journal_sink s = {.c = c, .mode = mode, .first = c->reverse};
    long long lines = c->lines;
    bool skip_first = false, oldest;
    int r, units = 0;

    if (c->follow && c->reverse) {
        fprintf(stderr, "Please specify either --reverse or --follow, not both.\n");
        return usage_error();
    }
    r = compile_grep(c);
    if (r < 0)
        r = apply_boot(c);
    /* FIELD=VALUE arguments are matches (no unit name has a '='), the others units. */
    for (int k = 0; r < 0 && k < n; k++) {
        if (strchr(args[k], '=') || streq(args[k], "+"))
            r = add_journal_match(c, args[k]);
        else
            args[units++] = args[k];
    }
    n = units;
    if (r >= 0)
        return r;
    resolve_journal_matches(c);
    /* journalctl: -e implies -n1000, so the pager never holds an unbounded log; an explicit
     * -n wins. -f alone implies -n10. */
    if (lines == LINES_UNSET && c->pager_end)
        lines = PAGER_END_JOURNAL_LINES;
    if (lines == LINES_UNSET && c->follow)
        lines = FOLLOW_JOURNAL_LINES;
    if (lines == 0) {
        /* The daemon reads 0 as "all": ask for one and drop it, or for nothing at all, which
         * journalctl reports as "-- No entries --" (and with --grep, nothing matched: exit 1). */
        if (!c->follow)
            return journal_finish(c, &s);
        lines = 1;
        skip_first = true;
    }
    /* -n +N: the first N from the start. With -r journalctl still shows the newest N; with -f it
     * shows every stored record and follows (its loop goes on past N when following). */
    oldest = c->lines_oldest && lines > 0 && !skip_first && !c->reverse;
    if (oldest && c->follow) {
        oldest = false;
        lines = LINES_ALL;
    }
    /* --grep or a match checked here with -n N, and -n +N: read everything, keep the last (or
     * first) N matching (struct journal_sink). */
    if ((oldest || c->grep_compiled || c->match_client) && lines > 0 && !skip_first) {
        s.keep = (size_t)(lines < (long long)(SIZE_MAX / 4) ? lines : (long long)(SIZE_MAX / 4));
        s.first = s.first || oldest;
    }
    if (c->directory) {
        r = check_directory(c);
        if (r < 0)
            r = resolve_journal_units(c, args, n);
        if (r >= 0)
            return r;
        if (c->match_none)
            return journal_finish(c, &s);
        return run_journal_directory(c, &s, skip_first ? 0 : lines);
    }
    r = ctl_connect(c);
    if (r < 0)
        return r == -ENOMEM ? oom() : CTL_EXIT_FAILURE;
    r = resolve_journal_units(c, args, n);
    if (r >= 0)
        return r;
    /* A filter nothing can pass (a name no unit can have, PRIORITY=9): journalctl finds no
     * entries; without a filter the daemon would send them all. Following, there is nothing to
     * wait for. */
    if (c->match_none)
        return journal_finish(c, &s);
    fill_hostname(c);
    c->style.all = c->all; /* journalctl's -a: JSON keeps big fields */
    if (c->follow)
        install_interrupt_handlers();
    if (s.keep > 0 && c->follow) {
        /* The stored part first, whole, to find the last N matches; then follow from past the
         * last entry it had, so nothing is printed twice or missed in between. */
        r = journal_call(c, journal_params(c->units, 0, false, c->invocation, c), false, false, &s);
        if (r != CTL_EXIT_OK)
            return r;
        sink_flush(&s);
        json_t *p = journal_params(c->units, 0, true, c->invocation, c);
        if (p && json_object_set_new(p, "afterSeq", json_integer((json_int_t)s.last_seq)) < 0) {
            json_decref(p);
            p = NULL;
        }
        r = journal_call(c, p, true, false, &s);
    } else {
        r = journal_call(
            c, journal_params(c->units, s.keep > 0 ? 0 : lines, c->follow, c->invocation, c),
            c->follow, skip_first, &s);
        sink_flush(&s);
    }
    if (r != CTL_EXIT_OK)
        return r;
    return journal_finish(c, &s);
}

/* cat: each unit's file as the daemon loaded it, as systemctl cat prints them. */
static int run_cat(struct ctl *c, char **args, int n)
{
    int ret = CTL_EXIT_OK, r, sent = 0;
    char **names = expand_names(c, args, &n, &r);
    bool first = true;

    if (!names)
        return r;
    r = ctl_connect(c);
    if (r < 0) {
        strv_free(names);
        return r == -ENOMEM ? oom() : CTL_EXIT_FAILURE;
    }
    for (; sent < n; sent++)
        if (ctl_send(c, IFACE "GetUnitFile", json_pack("{s:s}", "name", names[sent]), 0) < 0) {
            ret = CTL_EXIT_FAILURE;
            break;
        }
    for (int i = 0; i < sent; i++) {
        const char *error;
        json_t *msg, *params;
        bool continues;

        r = ctl_receive(c, QUERY_TIMEOUT_MS, &msg, &error, &params, &continues);
        if (r < 0) {
            fprintf(stderr, "Failed to get unit file of %s: %s\n", names[i], transport_error(r));
            ret = CTL_EXIT_FAILURE;
            break;
        }
        if (streq(error, IFACE "NoSuchUnit")) {
            fflush(stdout);
            fprintf(stderr, "No files found for %s.\n", names[i]);
            ret = exit_merge(ret, CTL_EXIT_FAILURE);
        } else if (error) {
            ret = exit_merge(ret, report_error("get unit file of", names[i], error, params));
        } else {
            const char *path = json_string_value(json_object_get(params, "path"));
            const char *text = json_string_value(json_object_get(params, "text"));
            json_t *dropin;
            size_t k;
            if (!first)
                putchar('\n');
            first = false;
            ctl_print_unit_file(stdout, path ? path : names[i], text ? text : "");
            /* Each drop-in after an empty line, as systemctl cat prints them. */
            json_array_foreach(json_object_get(params, "dropIns"), k, dropin)
            {
                const char *dpath = json_string_value(json_object_get(dropin, "path"));
                const char *dtext = json_string_value(json_object_get(dropin, "text"));
                putchar('\n');
                ctl_print_unit_file(stdout, dpath ? dpath : "", dtext ? dtext : "");
            }
        }
        json_decref(msg);
    }
    strv_free(names);
    return ret;
}

static int run_list_sockets(struct ctl *c, char **patterns, int n)
{
    json_t *msg, *reply, *shown, *u;
    size_t i;
    int r = ctl_call(c, "list sockets", IFACE "ListSockets", json_object(), &msg, &reply);

    if (r != CTL_EXIT_OK)
        return r;
    shown = json_array();
    if (!shown) {
        json_decref(msg);
        return oom();
    }
    json_array_foreach(json_object_get(reply, "sockets"), i, u)
    {
        if (list_shows(c, u, patterns, n))
            json_array_append(shown, u);
    }
    if (json_mode(c))
        print_json(c, shown);
    else
        ctl_print_socket_table(stdout, shown,
                               (c->no_legend ? 0 : CTL_TABLE_LEGEND) |
                                   (c->all ? 0 : CTL_TABLE_ALL_HINT) |
                                   (c->show_types ? CTL_TABLE_TYPES : 0),
                               &c->style);
    json_decref(shown);
    json_decref(msg);
    return CTL_EXIT_OK;
}

/* why: the restart story of each unit, from GetUnit's death history. */
static int run_why(struct ctl *c, char **args, int n)
{
    int ret = CTL_EXIT_OK;

    for (int i = 0; i < n; i++) {
        char *name = NULL;
        json_t *msg = NULL, *reply = NULL;
        int r = mangle_name(args[i], !c->quiet, &name);

        if (r == -ENOMEM)
            return oom();
        if (r < 0) {
            fprintf(stderr, "Failed to mangle name: %s\n", strerror(-r));
            return exit_merge(ret, CTL_EXIT_FAILURE);
        }
        r = ctl_call_unit(c, name, &msg, &reply);
        if (r == CTL_EXIT_OK) {
            json_t *unit = json_object_get(reply, "unit");
            if (json_mode(c)) {
                print_json(c, unit);
            } else {
                if (i > 0)
                    putchar('\n');
                ctl_print_why(stdout, unit, &c->style);
            }
            json_decref(msg);
        }
        free(name);
        ret = exit_merge(ret, r);
        if (r == CTL_EXIT_FAILURE)
            break;
    }
    return ret;
}

static int run_version(struct ctl *c)
{
    json_t *msg, *reply;
    int r = ctl_call(c, "get version", IFACE "GetVersion", json_object(), &msg, &reply);

    if (r != CTL_EXIT_OK)
        return r;
    if (json_mode(c)) {
        print_json(c, reply);
    } else {
        printf("minisupctl %s\n", MINISUP_VERSION);
        printf("minisupd %s (pid %lld)\n",
               json_string_value(json_object_get(reply, "version")) ?: "unknown",
               (long long)json_integer_value(json_object_get(reply, "pid")));
        printf("Socket: %s\n", c->socket_path);
        printf("Runtime directory: %s\n",
               json_string_value(json_object_get(reply, "runtimeDirectory")) ?: "");
        printf("Log directory: %s\n",
               json_string_value(json_object_get(reply, "logDirectory")) ?: "");
        printf("Unit directory: %s\n",
               json_string_value(json_object_get(reply, "unitDirectory")) ?: "");
    }
    json_decref(msg);
    return CTL_EXIT_OK;
}

/* verify: load unit files as minisupd would, offline; diagnostics as "file:line: message" on
 * stderr. A directory argument verifies every unit in it. */
static int run_verify(char **args, int n)
{
    char *runtime_dir = paths_default_runtime_dir(), *log_dir = paths_default_log_dir();
    struct unit_load_context ctx = {
        .runtime_dir = runtime_dir,
        .state_dir = runtime_dir,
        .logs_dir = log_dir,
    };
    int failed = 0, ret = CTL_EXIT_OK;

    if (!runtime_dir || !log_dir) {
        ret = oom();
        goto out;
    }
    for (int i = 0; i < n; i++) {
        struct stat st;
        int r;

        if (stat(args[i], &st) == 0 && S_ISDIR(st.st_mode))
            r = unit_verify_directory(args[i], &ctx, stderr);
        else
            r = unit_verify_files(args + i, 1, &ctx, stderr);
        if (r < 0) {
            fprintf(stderr, "Failed to verify '%s': %s\n", args[i], strerror(-r));
            ret = CTL_EXIT_FAILURE;
        } else {
            failed += r;
        }
    }
    if (failed > 0) {
        fprintf(stderr, "%d unit%s failed to load.\n", failed, failed == 1 ? "" : "s");
        ret = CTL_EXIT_FAILURE;
    }
out:
    free(runtime_dir);
    free(log_dir);
    return ret;
}

/* Appends the comma-separated words of arg to *list (made on first use): --state's states,
 * -p/--property/-P's property names (systemctl shows every property named by any of them). */
static int append_words(json_t **list, const char *arg)
{
    char *copy = strdup(arg), *save = NULL;
    int r = 0;

    if (!copy)
        return -ENOMEM;
    if (!*list)
        *list = json_array();
    if (!*list)
        r = -ENOMEM;
    for (char *t = strtok_r(copy, ",", &save); t && r == 0; t = strtok_r(NULL, ",", &save))
        if (json_array_append_new(*list, json_string(t)) < 0)
            r = -ENOMEM;
    free(copy);
    return r;
}

static int add_states(struct ctl *c, const char *arg)
{
    return append_words(&c->states, arg);
}

/* The unit types -t/--type takes: those minisupd loads (enum unit_kind). */
static const char *const unit_type_names[UNIT_KIND_MAX] = {
    [UNIT_KIND_SERVICE] = "service",
    [UNIT_KIND_SOCKET] = "socket",
};

/* systemd's load states, which -t also takes, as --state, for compatibility with old
 * systemctl versions (parse_types_argument()). */
static const char *const load_state_names[] = {
    "stub", "loaded", "not-found", "bad-setting", "error", "merged", "masked",
};

/* -t help: the types, with systemctl's header unless --no-legend. */
static void help_types(const struct ctl *c)
{
    if (!c->no_legend)
        puts("Available unit types:");
    for (size_t i = 0; i < UNIT_KIND_MAX; i++)
        puts(unit_type_names[i]);
}

/* Reads every -t/--type value into c->types (and load states into c->states), in order, as
 * systemctl parses them: comma-separated, an empty value resets the list, "help" prints the
 * types and ends the program. Returns -1 to go on, or the exit code to leave with (1 for an
 * unknown type, as systemctl). */
static int apply_types(struct ctl *c)
{
    size_t i;
    json_t *v;

    json_array_foreach(c->type_args, i, v)
    {
        const char *arg = json_string_value(v);
        char *copy, *save = NULL;
        int ret = -1;

        if (!*arg) {
            c->types = 0;
            continue;
        }
        copy = strdup(arg);
        if (!copy)
            return oom();
        for (char *t = strtok_r(copy, ",", &save); t && ret < 0; t = strtok_r(NULL, ",", &save)) {
            bool known = false;
            if (streq(t, "help")) {
                help_types(c);
                ret = CTL_EXIT_OK;
                break;
            }
            for (size_t k = 0; k < UNIT_KIND_MAX && !known; k++)
                if (streq(t, unit_type_names[k])) {
                    c->types |= 1u << k;
                    known = true;
                }
            for (size_t k = 0; k < sizeof(load_state_names) / sizeof(*load_state_names) && !known;
                 k++)
                if (streq(t, load_state_names[k])) {
                    if (add_states(c, t) < 0)
                        ret = oom();
                    known = true;
                }
            if (!known) {
                fprintf(stderr, "Unknown unit type or load state '%s'.\n", t);
                fprintf(stderr, "Use -t help to see a list of allowed values.\n");
                ret = CTL_EXIT_FAILURE;
            }
        }
        free(copy);
        if (ret >= 0)
            return ret;
    }
    return -1;
}

static int add_properties(struct ctl *c, const char *arg)
{
    return append_words(&c->properties, arg);
}

/* --invocation: a 128-bit ID as journalctl reads one, 32 hex digits or the UUID form with dashes,
 * in either case, into ret as the 32 lowercase digits minisupd's records keep. journalctl's
 * offsets ("0", "-1") are not supported. 0 or -EINVAL. */
static int parse_invocation(const char *arg, char ret[33])
{
    /* NULL never comes from getopt here (--invocation's value is required), but since -n's
     * is optional the analyzer cannot tell; NULL reads as empty. */
    size_t len = arg ? strlen(arg) : 0, k = 0;
    bool uuid = len == 36;

    if (len != 32 && !uuid)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (uuid && (i == 8 || i == 13 || i == 18 || i == 23)) {
            if (arg[i] != '-')
                return -EINVAL;
            continue;
        }
        if (!isxdigit((unsigned char)arg[i]))
            return -EINVAL;
        ret[k++] = (char)tolower((unsigned char)arg[i]);
    }
    ret[k] = '\0';
    return 0;
}

/* -b's value as journalctl's parse_boot_descriptor() reads it: an offset ("0", "-1", "+2"), or
 * a boot ID of 32 hex digits, optionally followed by an offset ("ID-1"). The ID (lowercase, "" if
 * none) into ret_id[33] and the offset into *ret_offset, each when not NULL. 0 or -EINVAL. */
static int parse_boot(const char *arg, char *ret_id, long *ret_offset)
{
    char id[33] = "";
    const char *p = arg ? arg : "";
    char *end;
    long offset = 0;
    size_t i;

    /* 32 hex digits first: the ID (strspn keeps the scan inside the string). */
    if (strspn(p, "0123456789abcdefABCDEF") >= 32) {
        for (i = 0; i < 32; i++)
            id[i] = (char)tolower((unsigned char)p[i]);
        p += 32;
    }
    if (*id && *p && *p != '-' && *p != '+')
        return -EINVAL;
    if (*p) {
        errno = 0;
        offset = strtol(p, &end, 10);
        if (errno || end == p || *end || isspace((unsigned char)*p) || offset < INT_MIN ||
            offset > INT_MAX)
            return -EINVAL;
    }
    if (ret_id)
        memcpy(ret_id, id, sizeof(id));
    if (ret_offset)
        *ret_offset = offset;
    return 0;
}

/* -n's value as journalctl reads it: N, "all", or +N (the first N; *ret_oldest set). */
static int parse_lines(const char *arg, long long *ret, bool *ret_oldest)
{
    bool oldest = arg && arg[0] == '+';
    const char *digits = oldest ? arg + 1 : arg;
    char *end;
    long long v;

    if (!arg)
        return -EINVAL;
    if (streq(arg, "all")) {
        *ret = LINES_ALL;
        *ret_oldest = false;
        return 0;
    }
    if (!isdigit((unsigned char)digits[0]))
        return -EINVAL;
    errno = 0;
    v = strtoll(digits, &end, 10);
    if (errno || *end)
        return -EINVAL;
    *ret = v;
    *ret_oldest = oldest;
    return 0;
}

enum {
    ARG_VERSION = 0x100,
    ARG_NO_BLOCK,
    ARG_NO_PAGER,
    ARG_NO_LEGEND,
    ARG_STATE,
    ARG_INVOCATION,
    ARG_SIGNAL,
    ARG_KILL_WHOM,
    ARG_SHOW_TYPES,
    ARG_PROPERTY,
    ARG_VALUE,
    ARG_FAILED,
    ARG_TYPE,
    ARG_IDENTIFIER,
    ARG_CASE_SENSITIVE,
    ARG_UTC,
    ARG_NO_HOSTNAME,
};

/* The option letters and their arguments, as getopt_long() reads them below. */
#define SHORT_OPTIONS "s:o:aqlu:n::fexb::hS:U:p:P:t:rD:g:"

/* Whether the word after an option with an optional value (-n, -b) is that value. */
static bool reads_as_value(int opt, const char *word)
{
    long long lines;
    bool oldest;

    if (opt == 'n')
        return parse_lines(word, &lines, &oldest) >= 0;
    return parse_boot(word, NULL, NULL) >= 0;
}

/* journalctl takes -n and -b's values as the next word when it reads as one (-n 5, --lines 5,
 * -b -1), though getopt gives an optional value only when it is attached (-n5, --lines=5).
 * glibc's getopt lets a caller peek at the next word; musl's (minisupctl's) has already
 * moved the words it skipped by then. So the two words are joined into one here, before
 * getopt, the same way for every C library: argv[i] becomes "-n5" or "--lines=5" and the value
 * word leaves argv. Options taking a required value have it skipped, so `-g -n` keeps -n a
 * pattern. Returns the new argc; the joined strings go to c->joined. */
static int join_optional_values(struct ctl *c, int argc, char **argv, const struct option *options)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int opt = 0;
        char *joined;

        if (streq(a, "--"))
            break;
        if (a[0] != '-' || a[1] == '\0')
            continue;
        if (a[1] == '-') {
            const struct option *o = options;
            size_t len = strcspn(a + 2, "=");

            while (o->name && (strlen(o->name) != len || strncmp(o->name, a + 2, len) != 0))
                o++;
            if (!o->name || a[2 + len] == '=')
                continue;
            if (o->has_arg == required_argument)
                i++;
            else if (o->has_arg == optional_argument && (o->val == 'n' || o->val == 'b'))
                opt = o->val;
        } else {
            for (const char *p = a + 1; *p; p++) {
                const char *spec = strchr(SHORT_OPTIONS, *p);

                if (!spec || *p == ':' || spec[1] != ':')
                    continue; /* a flag, or an unknown letter getopt will report */
                if (spec[2] != ':') {
                    i += p[1] == '\0'; /* a required value: the rest, or the next word */
                } else if (p[1] == '\0') {
                    opt = (unsigned char)*p; /* -n or -fn at the end of the word */
                }
                break;
            }
        }
        if (!opt || i + 1 >= argc || !reads_as_value(opt, argv[i + 1]) ||
            c->n_joined >= sizeof(c->joined) / sizeof(c->joined[0]))
            continue;
        if (asprintf(&joined, "%s%s%s", a, a[1] == '-' ? "=" : "", argv[i + 1]) < 0)
            return -1;
        c->joined[c->n_joined++] = joined;
        argv[i] = joined;
        memmove(&argv[i + 1], &argv[i + 2], (size_t)(argc - i - 2) * sizeof(argv[0]));
        argv[--argc] = NULL;
    }
    return argc;
}

/* getopt's own messages differ between C libraries; these are glibc's, which systemctl prints.
 * optopt is 0 for an unknown long option, the option's letter or ARG_* otherwise. */
static int option_error(int argc, char **argv)
{
    /* musl's getopt may leave a NULL where the missing value was looked for */
    const char *word = optind > 0 && optind - 1 < argc ? argv[optind - 1] : NULL;

    if (!word)
        word = "";

    if (optopt == 0) {
        fprintf(stderr, "minisupctl: unrecognized option '%s'\n", word);
    } else if (optopt < 0x100 && !strchr(SHORT_OPTIONS, optopt)) {
        fprintf(stderr, "minisupctl: invalid option -- '%c'\n", optopt);
    } else if (strncmp(word, "--", 2) == 0) {
        if (strchr(word, '='))
            fprintf(stderr, "minisupctl: option '%.*s' doesn't allow an argument\n",
                    (int)strcspn(word, "="), word);
        else
            fprintf(stderr, "minisupctl: option '%s' requires an argument\n", word);
    } else {
        fprintf(stderr, "minisupctl: option requires an argument -- '%c'\n", optopt);
    }
    return usage_error();
}

/* Returns -1 to go on, or the exit code to leave with. */
static int parse_argv(struct ctl *c, int *argcp, char **argv)
{
    static const struct option options[] = {
        {"socket", required_argument, NULL, 's'},
        {"output", required_argument, NULL, 'o'},
        {"all", no_argument, NULL, 'a'},
        {"state", required_argument, NULL, ARG_STATE},
        {"failed", no_argument, NULL, ARG_FAILED},
        {"type", required_argument, NULL, ARG_TYPE},
        {"no-legend", no_argument, NULL, ARG_NO_LEGEND},
        {"no-block", no_argument, NULL, ARG_NO_BLOCK},
        {"no-pager", no_argument, NULL, ARG_NO_PAGER},
        {"full", no_argument, NULL, 'l'},
        {"quiet", no_argument, NULL, 'q'},
        {"unit", required_argument, NULL, 'u'},
        {"lines", optional_argument, NULL, 'n'},
        {"follow", no_argument, NULL, 'f'},
        {"pager-end", no_argument, NULL, 'e'},
        {"catalog", no_argument, NULL, 'x'},
        {"boot", optional_argument, NULL, 'b'},
        {"utc", no_argument, NULL, ARG_UTC},
        {"no-hostname", no_argument, NULL, ARG_NO_HOSTNAME},
        {"invocation", required_argument, NULL, ARG_INVOCATION},
        {"since", required_argument, NULL, 'S'},
        {"until", required_argument, NULL, 'U'},
        {"priority", required_argument, NULL, 'p'},
        {"property", required_argument, NULL, ARG_PROPERTY},
        {"value", no_argument, NULL, ARG_VALUE},
        {"identifier", required_argument, NULL, ARG_IDENTIFIER},
        {"reverse", no_argument, NULL, 'r'},
        {"grep", required_argument, NULL, 'g'},
        {"case-sensitive", optional_argument, NULL, ARG_CASE_SENSITIVE},
        {"directory", required_argument, NULL, 'D'},
        {"show-types", no_argument, NULL, ARG_SHOW_TYPES},
        {"signal", required_argument, NULL, ARG_SIGNAL},
        {"kill-whom", required_argument, NULL, ARG_KILL_WHOM},
        {"kill-who", required_argument, NULL, ARG_KILL_WHOM}, /* systemctl's older spelling */
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, ARG_VERSION},
        {NULL, 0, NULL, 0},
    };
    int opt, argc = join_optional_values(c, *argcp, argv, options);

    if (argc < 0)
        return oom();
    *argcp = argc;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, SHORT_OPTIONS, options, NULL)) >= 0) {
        switch (opt) {
        case 's':
            if (c->n_s_args < sizeof(c->s_args) / sizeof(c->s_args[0]))
                c->s_args[c->n_s_args++] = optarg;
            c->socket_option = optarg;
            break;
        case 'o':
            /* journalctl's and systemctl's -o help: the modes, one per line, from the table
             * the parser uses (the bash completion offers them). */
            if (streq(optarg, "help")) {
                for (int m = 0; m < CTL_OUTPUT_MAX; m++)
                    puts(ctl_output_mode_to_string(m));
                return CTL_EXIT_OK;
            }
            c->mode = ctl_output_mode_from_string(optarg);
            if (c->mode < 0) {
                fprintf(stderr, "Unknown output format '%s'.\n", optarg);
                return usage_error();
            }
            break;
        case 'a':
            c->all = true;
            break;
        case ARG_STATE:
            if (add_states(c, optarg) < 0)
                return oom();
            break;
        case ARG_FAILED:
            if (add_states(c, "failed") < 0)
                return oom();
            break;
        case ARG_TYPE:
            if (json_array_append_new(c->type_args, json_string(optarg)) < 0)
                return oom();
            break;
        case ARG_NO_LEGEND:
            c->no_legend = true;
            break;
        case ARG_NO_BLOCK:
            c->no_block = true;
            break;
        case ARG_NO_PAGER:
        case 'l': /* --full: minisupctl never ellipsizes */
            break;
        case 'q':
            c->quiet = true;
            break;
        case 'u':
            /* Kept as given: a glob pattern is expanded, a name normalized, by journal. */
            if (json_array_append_new(c->units, json_string(optarg)) < 0)
                return oom();
            break;
        case 'n':
            /* journalctl's -n takes its value optionally: bare, it is 10; -n 5 and --lines 5
             * arrive here as -n5 and --lines=5 (join_optional_values). */
            c->lines_bare = false;
            if (optarg) {
                if (parse_lines(optarg, &c->lines, &c->lines_oldest) < 0) {
                    fprintf(stderr, "Invalid number of lines '%s'.\n", optarg);
                    return usage_error();
                }
            } else {
                c->lines = BARE_JOURNAL_LINES;
                c->lines_oldest = false;
                c->lines_bare = true;
            }
            break;
        case 'f':
            c->follow = true;
            break;
        case 'e':
            c->pager_end = true;
            c->journal_only = c->journal_only ? c->journal_only : "-e/--pager-end";
            break;
        case 'x':
            c->journal_only = c->journal_only ? c->journal_only : "-x/--catalog";
            break;
        case 'b':
            /* journalctl's -b takes its value optionally, as -n does: the next word is the
             * value only when it reads as a boot (an offset, an ID), so -b UNIT keeps the unit
             * an argument (join_optional_values). */
            c->boot = true;
            c->boot_arg = NULL;
            c->journal_only = c->journal_only ? c->journal_only : "-b/--boot";
            if (optarg) {
                if (parse_boot(optarg, NULL, NULL) < 0) {
                    fprintf(stderr, "Failed to parse boot descriptor '%s'\n", optarg);
                    return CTL_EXIT_FAILURE;
                }
                c->boot_arg = optarg;
            }
            break;
        case ARG_UTC:
            c->style.utc = true;
            c->journal_only = c->journal_only ? c->journal_only : "--utc";
            break;
        case ARG_NO_HOSTNAME:
            c->style.no_hostname = true;
            c->journal_only = c->journal_only ? c->journal_only : "--no-hostname";
            break;
        case ARG_INVOCATION:
            /* journalctl refuses a malformed descriptor with exit 1, whatever the verb. */
            if (parse_invocation(optarg, c->invocation_id) < 0) {
                fprintf(stderr,
                        "Failed to parse invocation ID '%s': expected 32 hexadecimal digits "
                        "(as in $INVOCATION_ID) or a UUID.\n",
                        optarg);
                return CTL_EXIT_FAILURE;
            }
            c->invocation = c->invocation_id;
            break;
        case 'S':
            c->since_arg = optarg;
            break;
        case 'U':
            c->until_arg = optarg;
            break;
        case 'p':
            /* -p is systemctl's --property for show, journalctl's --priority otherwise; the
             * verb is not known yet, so keep the words both ways and decide later. */
            c->p_arg = optarg;
            if (add_properties(c, optarg) < 0)
                return oom();
            break;
        case ARG_PROPERTY:
            if (add_properties(c, optarg) < 0)
                return oom();
            break;
        case 'P':
            if (add_properties(c, optarg) < 0)
                return oom();
            c->value = true;
            break;
        case ARG_VALUE:
            c->value = true;
            break;
        case 't':
            /* -t is systemctl's --type and journalctl's --identifier: kept both ways, as -p
             * is; list-units reads the types once the verb is known, journal the identifier. */
            if (json_array_append_new(c->type_args, json_string(optarg)) < 0)
                return oom();
            c->identifier = optarg;
            break;
        case ARG_IDENTIFIER:
            c->identifier = optarg;
            break;
        case 'r':
            c->reverse = true;
            break;
        case 'g':
            c->grep = optarg;
            break;
        case ARG_CASE_SENSITIVE: {
            /* journalctl's spelling: a bare --case-sensitive means yes. */
            int b = optarg ? parse_boolean(optarg) : 1;
            if (b < 0) {
                fprintf(stderr, "Failed to parse --case-sensitive= argument '%s'.\n", optarg);
                return usage_error();
            }
            c->case_sensitive = b;
            break;
        }
        case 'D':
            c->directory = optarg;
            break;
        case ARG_SHOW_TYPES:
            c->show_types = true;
            break;
        case ARG_SIGNAL:
            c->kill_signal = ctl_signal_from_string(optarg);
            if (c->kill_signal < 0) {
                fprintf(stderr, "Unknown signal '%s'.\n", optarg);
                return usage_error();
            }
            break;
        case ARG_KILL_WHOM:
            if (!streq(optarg, "main") && !streq(optarg, "all") && !streq(optarg, "control") &&
                !streq(optarg, "main-fail") && !streq(optarg, "all-fail") &&
                !streq(optarg, "control-fail")) {
                fprintf(stderr,
                        "Unknown kill target '%s': use main, control or all (or main-fail, "
                        "control-fail, all-fail).\n",
                        optarg);
                return usage_error();
            }
            c->kill_whom = optarg;
            break;
        case 'h':
            c->help = true;
            break;
        case ARG_VERSION:
            printf("minisupctl %s\n", MINISUP_VERSION);
            return CTL_EXIT_OK;
        case '?':
            return option_error(argc, argv);
        default:
            return usage_error();
        }
    }
    return -1;
}

struct command {
    const char *name;
    int min_args, max_args; /* max -1: any number */
    int (*run)(struct ctl *c, const struct command *cmd, char **args, int n);
    struct unit_call call; /* for the commands that make one call per unit */
};

static int cmd_unit(struct ctl *c, const struct command *cmd, char **args, int n)
{
    if (n == 0 && streq(cmd->name, "reset-failed"))
        return run_reset_failed_all(c, &cmd->call);
    return run_unit_command(c, &cmd->call, args, n);
}

static int cmd_list_units(struct ctl *c, const struct command *cmd, char **args, int n)
{
    return run_list_units(c, args, n);
}

static int cmd_status(struct ctl *c, const struct command *cmd, char **args, int n)
{
    return run_status(c, args, n);
}

static int cmd_is_active(struct ctl *c, const struct command *cmd, char **args, int n)
{
    return run_is_state(c, args, n, streq(cmd->name, "is-failed"));
}

static int cmd_is_enabled(struct ctl *c, const struct command *cmd, char **args, int n)
{
    return run_is_enabled(c, args, n);
}

static int cmd_journal(struct ctl *c, const struct command *cmd, char **args, int n)
{
    return run_journal(c, args, n);
}

static int cmd_cat(struct ctl *c, const struct command *cmd, char **args, int n)
{
    return run_cat(c, args, n);
}

static int cmd_list_sockets(struct ctl *c, const struct command *cmd, char **args, int n)
{
    return run_list_sockets(c, args, n);
}

static int cmd_why(struct ctl *c, const struct command *cmd, char **args, int n)
{
    return run_why(c, args, n);
}

/* shutdown: minisupd stops every unit and exits; we return once it has closed our
 * connection, so `minisupctl shutdown && ...` runs after the daemon is gone. */
static int run_shutdown(struct ctl *c)
{
    json_t *msg = NULL, *reply = NULL;
    int r = ctl_call(c, "shut down minisupd", IFACE "Shutdown", json_object(), &msg, &reply);

    if (r != CTL_EXIT_OK)
        return r;
    json_decref(msg);
    for (;;) {
        const char *error;
        bool continues;
        json_t *m = NULL, *p;
        int rr = ctl_receive(c, -1, &m, &error, &p, &continues);
        json_decref(m);
        if (rr < 0)
            break; /* the daemon hung up: it is gone */
    }
    return CTL_EXIT_OK;
}

/* verify without files: ask the daemon to check its own unit directory. */
static int run_verify_daemon(struct ctl *c)
{
    json_t *msg = NULL, *reply = NULL;
    int r = ctl_call(c, "verify", IFACE "Verify", json_object(), &msg, &reply);
    size_t i;
    json_t *line;

    if (r != CTL_EXIT_OK)
        return r;
    json_array_foreach(json_object_get(reply, "diagnostics"), i, line)
    {
        fprintf(stderr, "%s\n", json_string_value(line));
    }
    json_int_t failed = json_integer_value(json_object_get(reply, "failedUnits"));
    if (failed > 0)
        fprintf(stderr, "%lld unit%s failed to load.\n", (long long)failed, failed == 1 ? "" : "s");
    json_decref(msg);
    return failed > 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}

static int cmd_verify(struct ctl *c, const struct command *cmd, char **args, int n)
{
    return n == 0 ? run_verify_daemon(c) : run_verify(args, n);
}

static int cmd_daemon_reload(struct ctl *c, const struct command *cmd, char **args, int n)
{
    return run_daemon_reload(c);
}

/* show: Key=Value lines as systemctl show prints them; -p/--property picks some (always
 * printed, even when empty), --all prints empty ones too, --value leaves out the names. */
static bool property_wanted(const json_t *wanted, const char *name)
{
    size_t i;
    json_t *v;

    json_array_foreach(wanted, i, v)
    {
        if (streq(json_string_value(v), name))
            return true;
    }
    return false;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* What systemctl show prints for a unit that has no file: systemd loads a stub with LoadState
 * not-found and the defaults of a unit that never ran, and exits 0. In the order minisupd
 * sends the properties of a loaded unit; empty values only when `empty`. NULL on ENOMEM. */
static json_t *not_found_properties(const char *name, bool empty)
{
    char error[512];
    bool socket = has_suffix(name, ".socket");
    const struct {
        const char *name, *value;
        bool service_only, socket_only;
    } props[] = {
        {"LoadState", "not-found", false, false},
        {"LoadError", error, false, false},
        {"ActiveState", "inactive", false, false},
        {"SubState", "dead", false, false},
        {"Result", "success", false, false},
        {"UnitFileState", "", false, false},
        {"NeedDaemonReload", "no", false, false},
        {"StateChangeTimestamp", "", false, false},
        {"ActiveEnterTimestamp", "", false, false},
        {"InactiveEnterTimestamp", "", false, false},
        {"ConditionResult", "no", false, false},
        {"ConditionTimestamp", "", false, false},
        {"AssertResult", "no", false, false},
        {"AssertTimestamp", "", false, false},
        {"MainPID", "0", true, false},
        {"ExecMainPID", "0", true, false},
        {"ExecMainCode", "0", true, false},
        {"ExecMainStatus", "0", true, false},
        {"NRestarts", "0", true, false},
        {"InvocationID", "", true, false},
        {"StatusText", "", true, false},
        {"TasksCurrent", "[not set]", true, false},
        {"NAccepted", "0", false, true},
        {"NConnections", "0", false, true},
        {"Id", name, false, false},
        {"Names", name, false, false},
        {"Description", name, false, false},
    };
    json_t *list = json_array();

    snprintf(error, sizeof(error), "org.freedesktop.systemd1.NoSuchUnit \"Unit %s not found.\"",
             name);
    for (size_t i = 0; list && i < sizeof(props) / sizeof(props[0]); i++) {
        if ((props[i].service_only && socket) || (props[i].socket_only && !socket))
            continue;
        if (!*props[i].value && !empty)
            continue;
        if (json_array_append_new(list, json_pack("{s:s, s:s}", "name", props[i].name, "value",
                                                  props[i].value)) < 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

/* An Exec*= line of show with its "start_time=[...] ; stop_time=[...]" written again in our
 * time zone; NULL when the line has no such fields (or on ENOMEM). The fields follow the
 * command's words, so the last " ; start_time=[" is theirs whatever the words say. */
static char *exec_times_localized(const char *value, uint64_t start_usec, uint64_t stop_usec)
{
    static const char key[] = " ; start_time=[";
    const char *at = NULL, *stop, *rest;
    char start_buf[64], stop_buf[64], *r;

    for (const char *p = strstr(value, key); p; p = strstr(p + 1, key))
        at = p;
    stop = at ? strstr(at, "] ; stop_time=[") : NULL;
    rest = stop ? strstr(stop + 1, "] ; pid=") : NULL;
    if (!rest)
        return NULL;
    unit_show_format_timestamp(start_buf, sizeof(start_buf), start_usec);
    unit_show_format_timestamp(stop_buf, sizeof(stop_buf), stop_usec);
    if (asprintf(&r, "%.*s%s%s] ; stop_time=[%s%s", (int)(at - value), value, key,
                 *start_buf ? start_buf : "n/a", *stop_buf ? stop_buf : "n/a", rest) < 0)
        return NULL;
    return r;
}

/* systemctl writes show's timestamps where it runs (bus_print_property() -> format_timestamp(),
 * in its own time zone), while minisupd formats them in its own. A property that comes with its
 * µs (usec; startUsec and stopUsec of an Exec*= line) is therefore written again here; the text
 * of a daemon that sends none is kept. */
static void localize_properties(json_t *list)
{
    size_t i;
    json_t *p;

    json_array_foreach(list, i, p)
    {
        json_t *usec = json_object_get(p, "usec");
        json_t *start = json_object_get(p, "startUsec"), *stop = json_object_get(p, "stopUsec");
        const char *value = json_string_value(json_object_get(p, "value"));
        char buf[64];

        if (json_is_integer(usec)) {
            unit_show_format_timestamp(buf, sizeof(buf), (uint64_t)json_integer_value(usec));
            json_object_set_new(p, "value", json_string(buf));
        } else if (value && json_is_integer(start) && json_is_integer(stop)) {
            char *v = exec_times_localized(value, (uint64_t)json_integer_value(start),
                                           (uint64_t)json_integer_value(stop));
            if (v)
                json_object_set_new(p, "value", json_string(v));
            free(v);
        }
    }
}

static void print_properties(const struct ctl *c, const json_t *list)
{
    bool filter = json_array_size(c->properties) > 0;
    size_t i;
    json_t *p;

    json_array_foreach(list, i, p)
    {
        const char *name = json_string_value(json_object_get(p, "name"));
        const char *value = json_string_value(json_object_get(p, "value"));
        if (!name || (filter && !property_wanted(c->properties, name)))
            continue;
        if (c->value)
            printf("%s\n", value ? value : "");
        else
            printf("%s=%s\n", name, value ? value : "");
    }
}

/* One GetUnitProperties call per unit, all sent before the first reply is read. An unknown
 * unit is shown as systemctl shows it (LoadState=not-found), not as an error. */
static int run_show(struct ctl *c, char **args, int n)
{
    bool picked = json_array_size(c->properties) > 0, first = true;
    int ret = CTL_EXIT_OK, r, sent = 0;
    char **names = expand_names(c, args, &n, &r);

    if (!names)
        return r;
    r = ctl_connect(c);
    if (r < 0) {
        strv_free(names);
        return r == -ENOMEM ? oom() : CTL_EXIT_FAILURE;
    }
    for (; sent < n; sent++)
        if (ctl_send(c, IFACE "GetUnitProperties",
                     json_pack("{s:s, s:b}", "name", names[sent], "all", c->all || picked),
                     0) < 0) {
            ret = CTL_EXIT_FAILURE;
            break;
        }
    for (int i = 0; i < sent; i++) {
        const char *error;
        json_t *msg, *params, *list, *stub = NULL;
        bool continues;

        r = ctl_receive(c, QUERY_TIMEOUT_MS, &msg, &error, &params, &continues);
        if (r < 0) {
            fprintf(stderr, "Failed to show %s: %s\n", names[i], transport_error(r));
            ret = CTL_EXIT_FAILURE;
            break;
        }
        if (streq(error, IFACE "NoSuchUnit")) {
            list = stub = not_found_properties(names[i], c->all || picked);
            if (!stub) {
                json_decref(msg);
                ret = oom();
                break;
            }
        } else if (error) {
            ret = exit_merge(ret, report_error("show", names[i], error, params));
            json_decref(msg);
            continue;
        } else {
            list = json_object_get(params, "properties");
            localize_properties(list);
        }
        if (json_mode(c)) {
            /* -p picks the properties here too. */
            json_t *picked_list = picked ? json_array() : json_incref(list);
            size_t k;
            json_t *p;

            json_array_foreach(picked ? list : NULL, k, p)
            {
                const char *pname = json_string_value(json_object_get(p, "name"));
                if (pname && property_wanted(c->properties, pname))
                    json_array_append(picked_list, p);
            }
            print_json(c, picked_list);
            json_decref(picked_list);
        } else {
            if (!first)
                putchar('\n');
            print_properties(c, list);
        }
        first = false;
        json_decref(stub);
        json_decref(msg);
    }
    strv_free(names);
    return ret;
}

static int cmd_show(struct ctl *c, const struct command *cmd, char **args, int n)
{
    return run_show(c, args, n);
}

static int cmd_shutdown(struct ctl *c, const struct command *cmd, char **args, int n)
{
    return run_shutdown(c);
}

static int cmd_version(struct ctl *c, const struct command *cmd, char **args, int n)
{
    return run_version(c);
}

static const struct command commands[] = {
    {"list-units", 0, -1, cmd_list_units, {0}},
    {"list-sockets", 0, -1, cmd_list_sockets, {0}},
    {"status", 0, -1, cmd_status, {0}},
    {"why", 1, -1, cmd_why, {0}},
    {"cat", 1, -1, cmd_cat, {0}},
    {"show", 1, -1, cmd_show, {0}},
    {"start", 1, -1, cmd_unit, {IFACE "StartUnit", "start", true}},
    {"stop", 1, -1, cmd_unit, {IFACE "StopUnit", "stop", true}},
    {"restart", 1, -1, cmd_unit, {IFACE "RestartUnit", "restart", true}},
    {"reload", 1, -1, cmd_unit, {IFACE "ReloadUnit", "reload", true}},
    {"try-restart", 1, -1, cmd_unit, {IFACE "TryRestartUnit", "try-restart", true}},
    {"reload-or-restart",
     1,
     -1,
     cmd_unit,
     {IFACE "ReloadOrRestartUnit", "reload-or-restart", true}},
    {"reset-failed",
     0,
     -1,
     cmd_unit,
     {IFACE "ResetFailedUnit", "reset failed state of unit", false}},
    {"kill", 1, -1, cmd_unit, {IFACE "KillUnit", "kill unit", false}},
    {"is-active", 1, -1, cmd_is_active, {0}},
    {"is-failed", 1, -1, cmd_is_active, {0}},
    {"is-enabled", 1, -1, cmd_is_enabled, {0}},
    {"journal", 0, -1, cmd_journal, {0}},
    {"daemon-reload", 0, 0, cmd_daemon_reload, {0}},
    {"verify", 0, -1, cmd_verify, {0}},
    {"shutdown", 0, 0, cmd_shutdown, {0}},
    {"version", 0, 0, cmd_version, {0}},
};

/* --since/--until, read once "now" is known. */
static int parse_time_option(const char *arg, uint64_t now_usec, uint64_t *ret)
{
    if (!arg)
        return 0;
    if (ctl_parse_timestamp(arg, now_usec, ret) < 0) {
        fprintf(stderr, "Failed to parse timestamp '%s'.\n", arg);
        return -EINVAL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct ctl c = {.mode = -1,
                    .lines = LINES_UNSET,
                    .min_priority = -1,
                    .max_priority = -1,
                    .case_sensitive = -1};
    const struct command *cmd = &commands[0];
    const char *no_color = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    struct timespec now;
    int ret, n;

    /* jansson would seed its hash function from /dev/urandom (three system calls in every
     * run); a seed against colliding keys guards a server, and we only read minisupd's
     * replies. Any value but 0 (which asks for urandom) will do. */
    clock_gettime(CLOCK_MONOTONIC, &now);
    json_object_seed((size_t)now.tv_nsec | 1);
    c.units = json_array();
    c.type_args = json_array();
    if (!c.units || !c.type_args) {
        json_decref(c.units);
        json_decref(c.type_args);
        return oom();
    }
    ret = parse_argv(&c, &argc, argv);
    if (ret >= 0)
        goto out;
    if (c.help && optind >= argc) {
        help();
        ret = CTL_EXIT_OK;
        goto out;
    }

    if (optind < argc) {
        cmd = NULL;
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
            if (streq(argv[optind], commands[i].name))
                cmd = &commands[i];
        if (!cmd) {
            fprintf(stderr, "Unknown command verb '%s'.\n", argv[optind]);
            ret = usage_error();
            goto out;
        }
        if (c.help) {
            help_command(cmd->name);
            ret = CTL_EXIT_OK;
            goto out;
        }
        if (streq(cmd->name, "kill")) {
            /* systemctl kill -s SIGNAL: a value that names a signal is one, a path (with a
             * slash) is --socket, and anything else is a misspelt signal, reported as one. */
            c.socket_option = NULL;
            for (size_t i = 0; i < c.n_s_args; i++) {
                int sig = ctl_signal_from_string(c.s_args[i]);
                if (sig > 0) {
                    c.kill_signal = sig;
                } else if (strchr(c.s_args[i], '/')) {
                    c.socket_option = c.s_args[i];
                } else {
                    fprintf(stderr, "Unknown signal '%s'.\n", c.s_args[i]);
                    ret = usage_error();
                    goto out;
                }
            }
        }
        if (c.p_arg && !streq(cmd->name, "show") &&
            ctl_parse_priority(c.p_arg, &c.min_priority, &c.max_priority) < 0) {
            fprintf(stderr, "Unknown log level '%s'.\n", c.p_arg);
            ret = usage_error();
            goto out;
        }
        optind++;
    }
    /* -t and --type are checked for every verb, as systemctl does, except journal's -t. */
    if (!streq(cmd->name, "journal")) {
        ret = apply_types(&c);
        if (ret >= 0)
            goto out;
        if (c.journal_only) {
            fprintf(stderr, "Option %s is journal's, not '%s'.\n", c.journal_only, cmd->name);
            ret = usage_error();
            goto out;
        }
        /* A bare -n and -n +N are journalctl's; systemctl's -n needs a plain count. */
        if (c.lines_bare || c.lines_oldest) {
            fprintf(stderr,
                    c.lines_bare ? "Option -n/--lines needs a value for '%s'.\n"
                                 : "Invalid number of lines for '%s': +N is journal's.\n",
                    cmd->name);
            ret = usage_error();
            goto out;
        }
    }
    n = argc - optind;
    if (n < cmd->min_args || (cmd->max_args >= 0 && n > cmd->max_args)) {
        fprintf(stderr, "%s for '%s'.\n",
                n < cmd->min_args ? "Too few arguments" : "Too many arguments", cmd->name);
        ret = usage_error();
        goto out;
    }

    clock_gettime(CLOCK_REALTIME, &now);
    c.style.now_usec = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
    c.style.colour = isatty(STDOUT_FILENO) && !(no_color && *no_color) && !streq(term, "dumb");
    c.style.hostname = "localhost";
    if (parse_time_option(c.since_arg, c.style.now_usec, &c.since) < 0 ||
        parse_time_option(c.until_arg, c.style.now_usec, &c.until) < 0) {
        ret = usage_error();
        goto out;
    }
    if (c.since_arg && c.until_arg && c.since > c.until) {
        /* journalctl's parse_argv() refuses an empty window rather than printing nothing. */
        fprintf(stderr, "--since= must be before --until=.\n");
        ret = CTL_EXIT_FAILURE;
        goto out;
    }

    ret = cmd->run(&c, cmd, argv + optind, n);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "Failed to write to standard output: %s\n", strerror(errno));
        if (ret == CTL_EXIT_OK)
            ret = CTL_EXIT_FAILURE;
    }

out:
    varlink_client_free(c.client);
    free(c.socket_path);
    for (size_t i = 0; i < c.n_joined; i++)
        free(c.joined[i]);
    json_decref(c.units);
    json_decref(c.match_units);
    json_decref(c.match_identifiers);
    json_decref(c.match_invocations);
    json_decref(c.match_pids);
    json_decref(c.states);
    json_decref(c.type_args);
    json_decref(c.properties);
    if (c.grep_compiled)
        regfree(&c.grep_re);
    return ret;
}
