/* Value parsers for unit-file settings, exactly as systemd reads them: time spans, booleans,
 * signals, exit-status lists, command lines (quoting, escapes, prefixes), Environment= lines,
 * and string lists. Pure functions: no I/O, no logging. */
#ifndef MINISUP_VALUES_H
#define MINISUP_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USEC_PER_MSEC 1000ULL
#define USEC_PER_SEC 1000000ULL
#define USEC_INFINITY UINT64_MAX

/* Prefixes of a command line, systemd.service(5) "Command lines". */
enum exec_flags {
    EXEC_FLAG_IGNORE_FAILURE = 1 << 0,  /* "-" */
    EXEC_FLAG_ARGV0 = 1 << 1,           /* "@": second word is argv[0] */
    EXEC_FLAG_NO_ENV_EXPAND = 1 << 2,   /* ":" */
    EXEC_FLAG_FULL_PRIVILEGES = 1 << 3, /* "+" */
    EXEC_FLAG_AMBIENT = 1 << 4,         /* "!!": ambient capabilities instead of setuid */
    EXEC_FLAG_NO_SETUID = 1 << 5,       /* "!": no user/group change */
};

/* One command line. argv holds the words after unquoting and escape processing but before
 * $VAR expansion (which needs the environment at spawn time); argv[0] is the path to execute
 * (argv0 holds the "@" override, or NULL). */
struct exec_command {
    char *path;
    char **argv; /* NULL-terminated */
    char *argv0; /* NULL unless "@" was used */
    unsigned flags;
    unsigned line; /* line in the unit file, for diagnostics */
};

struct exec_list {
    struct exec_command *items;
    size_t n;
};

/* Exit statuses and signals that count as success (SuccessExitStatus=) or steer restarts. */
struct exit_status_set {
    uint8_t status[256 / 8]; /* bit per exit status */
    uint64_t signals;        /* bit (1 << signo) */
};

/* Time span: "5", "5s", "1min 30s", "500ms", "2h", "us"/"µs", "infinity". A bare number is
 * seconds (default_unit = USEC_PER_SEC) except where a key says otherwise. -ERANGE on overflow,
 * -EINVAL on syntax. */
int parse_timespan(const char *s, uint64_t default_unit, uint64_t *ret_usec);

/* Formats like systemd's format_timespan(): "1min 30s", "100ms", "infinity". */
char *format_timespan(char *buf, size_t size, uint64_t usec);

/* Size: "4096", "64K", "1.5G", "1G 512M" (systemd's parse_size()); suffixes B, K, M, G, T, P, E
 * to the given base (1024 or 1000), each at most once and largest first. -ERANGE on overflow or
 * a negative number, -EINVAL on syntax. */
int parse_size(const char *s, uint64_t base, uint64_t *ret);

/* 1/yes/y/true/t/on and 0/no/n/false/f/off, case-insensitive. 1, 0 or -EINVAL. */
int parse_boolean(const char *s);

/* "SIGTERM", "TERM" or "15". Returns the signal number or -EINVAL. */
int parse_signal(const char *s);
/* "TERM" for 15; NULL for unknown. */
const char *signal_to_string(int signo);

/* Adds the space-separated numbers and signal names of `s` to *set. -EINVAL on a bad word. An
 * empty string resets the set (the caller decides, as systemd does). */
int parse_exit_status_set(const char *s, struct exit_status_set *set);
bool exit_status_set_has_status(const struct exit_status_set *set, int status);
bool exit_status_set_has_signal(const struct exit_status_set *set, int signo);
bool exit_status_set_is_empty(const struct exit_status_set *set);

/* Splits `s` into words with systemd's quoting rules ("..." '...' and C escapes) and prefixes.
 * A lone ";" word separates several commands, in every Exec*= key as in systemd ("\;" is a
 * literal ";" argument). Appends the commands to *list. -EINVAL with *reterr_msg set (static
 * string) on bad quoting or an invalid executable; commands before the problem stay appended. */
int parse_exec_line(const char *s, unsigned line, struct exec_list *list, const char **reterr_msg);

/* Expands $VAR (word split) and ${VAR} (in-word) in cmd's words using env ("K=V" strv). Returns
 * a new NULL-terminated argv (caller frees with strv_free) or NULL on out-of-memory. argv[0], the
 * path, is copied as it is; "$$" becomes "$"; with EXEC_FLAG_NO_ENV_EXPAND nothing is expanded. */
char **exec_command_expand(const struct exec_command *cmd, char *const *env);

void exec_list_done(struct exec_list *list);

/* Hooks for parse_exec_line_full(): `resolve` expands specifiers in one word (after unquoting,
 * as systemd does) into a new string, returning a negative errno when it cannot; `diag` receives
 * each warning (error=false) or error (error=true) in systemd's wording. Either may be NULL. */
struct exec_parse_hooks {
    int (*resolve)(void *userdata, const char *word, char **ret);
    void (*diag)(void *userdata, bool error, const char *message);
    void *userdata;
};

/* parse_exec_line() with hooks, following systemd's config_parse_exec(): commands parsed before a
 * problem stay appended. Returns 0 when all commands were appended; 1 when the rest of the line
 * was ignored with a warning (bad quoting in a command's first word, or any problem in a command
 * with the "-" prefix); -EINVAL on a fatal problem (systemd refuses the unit: bad quoting in a
 * later word, an empty or invalid executable, a specifier that cannot be resolved); -ENOMEM. */
int parse_exec_line_full(const char *s, unsigned line, const struct exec_parse_hooks *hooks,
                         struct exec_list *list, const char **reterr_msg);

/* Flags for extract_word(). */
enum extract_flags {
    EXTRACT_UNQUOTE = 1 << 0,        /* "..." and '...' group words and are removed */
    EXTRACT_CUNESCAPE = 1 << 1,      /* C escapes, inside and outside quotes */
    EXTRACT_UNESCAPE_RELAX = 1 << 2, /* keep unknown escapes verbatim instead of failing */
    EXTRACT_RELAX = 1 << 3,          /* accept an unterminated quote at the end */
    EXTRACT_RETAIN_ESCAPE = 1 << 4,  /* backslashes are ordinary characters (unit names) */
};

/* Extracts the next whitespace-separated word from *p (systemd's extract_first_word()), advancing
 * *p. Returns 1 and a new string in *ret, 0 at the end of input (*ret = NULL), -EINVAL on bad
 * quoting or escapes, -ENOMEM. */
int extract_word(const char **p, char **ret, unsigned flags);

/* Environment variable names: letters, digits and '_', not starting with a digit. */
bool env_name_is_valid(const char *s, size_t n);
/* "NAME=value" with a valid name and no control characters in the value but \t and \n. */
bool env_assignment_is_valid(const char *s);

/* Environment= value: several assignments, each possibly quoted. Appends "K=V" to *env. */
int parse_environment_line(const char *s, char ***env);

/* Assignments an environment file had that were skipped for their name ("export A=b" among
 * them), as systemd skips them: how many, and the first one's line and name (cut short). */
struct env_file_ignored {
    unsigned count;
    unsigned line;
    char name[64];
};

/* Reads an EnvironmentFile= (KEY=VALUE lines, comments, quoting) into *env. ignored (may be
 * NULL) learns the assignments skipped for an invalid name. */
int load_environment_file(const char *path, char ***env, struct env_file_ignored *ignored);

/* Sets or replaces "K=V" in an environment strv. */
int strv_env_set(char ***env, const char *assignment);
const char *strv_env_get(char *const *env, const char *key);

/* NULL-terminated string arrays. */
size_t strv_length(char *const *l);
int strv_push(char ***l, char *owned); /* takes ownership, even on failure */
int strv_extend(char ***l, const char *s);
/* strv_push() for long lists: *n is the length and *cap the allocated slots (NULL included),
 * both kept up to date; start from n = strv_length(l), cap = n ? n + 1 : 0. */
int strv_push_sized(char ***l, size_t *n, size_t *cap, char *owned);
/* Splits on whitespace and appends each word (After=a b c). */
int strv_split_append(char ***l, const char *s);
char **strv_free(char **l);

#endif
