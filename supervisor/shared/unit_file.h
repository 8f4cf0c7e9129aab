/* Unit files: systemd's lexing fed to inih through ini_parse_stream, and the resulting immutable
 * struct unit_config. Shared by minisupd (loading) and minisupctl (offline verify). Never logs:
 * every diagnostic is returned to the caller as a list of `file:line: message` entries. */
#ifndef MINISUP_UNIT_FILE_H
#define MINISUP_UNIT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "condition.h"
#include "values.h"

enum unit_kind {
    UNIT_KIND_SERVICE,
    UNIT_KIND_SOCKET,
    UNIT_KIND_MAX,
};

enum service_type {
    SERVICE_TYPE_SIMPLE,
    SERVICE_TYPE_EXEC,
    SERVICE_TYPE_FORKING,
    SERVICE_TYPE_ONESHOT,
    SERVICE_TYPE_NOTIFY,
    SERVICE_TYPE_DBUS,
    SERVICE_TYPE_IDLE,
    SERVICE_TYPE_MAX,
};

/* Order and names as systemd.service(5) lists them. */
enum restart_policy {
    RESTART_NO,
    RESTART_ON_SUCCESS,
    RESTART_ON_FAILURE,
    RESTART_ON_ABNORMAL,
    RESTART_ON_WATCHDOG,
    RESTART_ON_ABORT,
    RESTART_ALWAYS,
    RESTART_MAX,
};

enum kill_mode {
    KILL_MODE_CONTROL_GROUP,
    KILL_MODE_PROCESS,
    KILL_MODE_MIXED,
    KILL_MODE_NONE,
    KILL_MODE_MAX,
};

enum std_output {
    STD_OUTPUT_JOURNAL, /* also: inherit -> our journal pipe for stderr, kmsg/syslog variants */
    STD_OUTPUT_NULL,
    STD_OUTPUT_INHERIT,
    STD_OUTPUT_FILE,   /* file:PATH, truncating open */
    STD_OUTPUT_APPEND, /* append:PATH */
    STD_OUTPUT_TRUNCATE,
    STD_OUTPUT_MAX,
};

/* NotifyAccess=: who may send sd_notify messages for the unit. */
enum notify_access {
    NOTIFY_ACCESS_NONE,
    NOTIFY_ACCESS_MAIN,
    NOTIFY_ACCESS_EXEC,
    NOTIFY_ACCESS_ALL,
    NOTIFY_ACCESS_MAX,
};

/* One diagnostic about a unit file. Severity error means the unit did not load. */
enum diag_level {
    DIAG_WARNING,
    DIAG_ERROR,
};

struct unit_diag {
    enum diag_level level;
    char *file;
    unsigned line; /* 0 when the message is about the whole file */
    char *message; /* systemd's wording where one exists, without the "file:line: " prefix */
};

struct unit_diags {
    struct unit_diag *items;
    size_t n;
};

/* The parsed configuration of one unit. Owned by whoever loaded it (the manager, or verify);
 * immutable after unit_file_load() returns. String lists are NULL-terminated arrays of owned
 * strings (strv, see values.h); a NULL list means "never set". */
struct unit_config {
    char *name;        /* "fifo-echo.service", or "x@inst.service" for an instance */
    char *path;        /* the file it came from (FragmentPath) */
    char *source_text; /* the file's bytes as loaded, for `minisupctl cat` */
    /* Drop-in files parsed after `path`, in the order they applied (DropInPaths), and their
     * bytes as loaded (for cat), index for index; NULL when there are none. */
    char **dropin_paths;
    char **dropin_texts;
    enum unit_kind kind;

    /* [Unit] */
    char *description;
    char **documentation;
    char **requires, **wants, **requisite, **binds_to, **part_of, **conflicts;
    char **after, **before;
    uint64_t start_limit_interval_usec; /* default 10 s */
    unsigned start_limit_burst;         /* default 5 */
    struct condition *conditions;       /* Condition*= and Assert*=, in file order */
    size_t n_conditions;
    uint64_t job_timeout_usec;         /* JobTimeoutSec=, default infinity */
    uint64_t job_running_timeout_usec; /* JobRunningTimeoutSec=, default infinity */

    /* [Service] */
    enum service_type type;
    struct exec_list exec_start_pre, exec_start, exec_start_post;
    struct exec_list exec_reload, exec_stop, exec_stop_post;
    enum restart_policy restart;
    uint64_t restart_usec;       /* RestartSec=, default 100 ms */
    uint64_t timeout_start_usec; /* default 90 s; USEC_INFINITY disables */
    uint64_t timeout_stop_usec;  /* default 90 s */
    bool remain_after_exit;
    bool guess_main_pid;
    enum notify_access notify_access; /* default none, main for Type=notify */
    uint64_t watchdog_usec;           /* WatchdogSec=, 0 = off */
    char *pid_file;
    struct exit_status_set success_exit_status;
    struct exit_status_set restart_prevent_exit_status;
    struct exit_status_set restart_force_exit_status;

    /* systemd.kill(5) */
    enum kill_mode kill_mode;
    int kill_signal;         /* default SIGTERM */
    int restart_kill_signal; /* default: kill_signal */
    int final_kill_signal;   /* default SIGKILL */
    bool send_sigkill;       /* default yes */
    bool send_sighup;        /* default no */

    /* systemd.exec(5) */
    char **environment;       /* "K=V" entries in order; later ones override earlier ones */
    char **environment_files; /* each may begin with '-' (missing file is fine) */
    char **pass_environment;
    char **unset_environment;
    char *working_directory; /* may begin with '-'; "~" means the user's home */
    mode_t umask;            /* default 0022 */
    char *user, *group;
    char **supplementary_groups;
    char *syslog_identifier;
    int syslog_level;         /* default LOG_INFO */
    bool syslog_level_prefix; /* default yes */
    enum std_output std_output, std_error;
    char *std_output_path, *std_error_path;
    bool ignore_sigpipe; /* default yes */
    /* LogRateLimitIntervalSec=/LogRateLimitBurst=; USEC_INFINITY - 1 and UINT_MAX mean "not
     * set": the journal's RateLimitIntervalSec=/RateLimitBurst= apply. 0 turns it off. */
    uint64_t log_rate_limit_interval_usec;
    unsigned log_rate_limit_burst;
    char **runtime_directory, **state_directory, **logs_directory;
    /* Limit*=: by RLIMIT_* number (RLIMIT_NLIMITS entries); RLIM_INFINITY for infinity. */
    struct unit_rlimit {
        bool set;
        uint64_t soft, hard;
    } rlimits[16];
    bool nice_set;
    int nice;               /* Nice=, -20..19 */
    bool no_new_privileges; /* NoNewPrivileges= */

    /* [Socket] */
    char **listen_stream, **listen_datagram, **listen_seqpacket, **listen_fifo;
    /* Every Listen*= in file order, as "<K>:<address>" with K = S (stream), D (datagram),
     * Q (sequential packet), F (FIFO): the order the fds are passed in. */
    char **listens;
    char *socket_service;  /* Service=, default <name>.service (or <name>@.service, Accept=) */
    mode_t socket_mode;    /* SocketMode=, default 0666 */
    mode_t directory_mode; /* DirectoryMode=, default 0755 */
    char *socket_user, *socket_group;
    unsigned backlog;         /* Backlog=, 0 = SOMAXCONN */
    bool accept;              /* Accept= */
    unsigned max_connections; /* MaxConnections=, default 64 */
    char *fd_name;            /* FileDescriptorName=, default the unit name */
    bool remove_on_stop;      /* RemoveOnStop= */

    /* [Install] */
    char **wanted_by, **required_by, **also, **alias;
};

/* Where a unit file is loaded from and what the specifiers resolve to. */
struct unit_load_context {
    const char *runtime_dir; /* %t */
    const char *state_dir;   /* %S */
    const char *logs_dir;    /* %L */
};

/* Parse the unit file at `path` as unit `name` (its basename normally, also when NULL; for
 * templates the instance name, e.g. "x@a.service" loaded from "x@.service"), followed by its
 * drop-ins found in the directory of `path` (unit_dropins_find()). On success stores a new config
 * in *ret_config and returns 0. On a fatal problem returns -EINVAL (bad setting), -ERFKILL (the
 * unit file is empty or a link to /dev/null: the unit is masked, "Unit x is masked.") or another
 * negative errno (file unreadable: load state "error"), with *ret_config left untouched. Warnings
 * and errors are appended to *diags in both cases. Never logs. */
int unit_file_load(const char *path, const char *name, const struct unit_load_context *ctx,
                   struct unit_config **ret_config, struct unit_diags *diags);

/* The drop-in files of unit `name` in unit directory `dir`, as systemd.unit(5) finds them: the
 * "*.conf" files of <name>.d/, for an instance also of its template's <template>.d/, of each
 * dash-prefix directory (for "a-b-c.service": a-b-.service.d/, a-.service.d/) and of the type's
 * service.d/ or socket.d/. A file name that appears in several of these directories is taken
 * from the most specific one (in that order); an empty file or a link to /dev/null of that name
 * masks it. The result is sorted by file name, the order they apply in. On success stores a new
 * NULL-terminated list of paths (NULL when there is none) in *ret_paths and returns the number
 * of paths; -ENOMEM, or -E2BIG beyond 1024 files. Directories that cannot be read count as
 * empty. Never logs. */
int unit_dropins_find(const char *dir, const char *name, char ***ret_paths);

/* unit_file_load() with the drop-in files given (NULL-terminated; NULL for none) instead of
 * found: each is parsed after the main file, with the same rules (lists append, an empty
 * assignment resets, a later single value wins), as systemd does; diagnostics name the drop-in
 * and its line. A drop-in that cannot be read fails the load, as the unit file would. */
int unit_file_load_dropins(const char *path, char *const *dropins, const char *name,
                           const struct unit_load_context *ctx, struct unit_config **ret_config,
                           struct unit_diags *diags);

/* unit_file_load() of one file in memory, without drop-ins (tests and fuzzing); `path` is only
 * used in diagnostics. */
int unit_file_load_string(const char *text, size_t len, const char *path, const char *name,
                          const struct unit_load_context *ctx, struct unit_config **ret_config,
                          struct unit_diags *diags);

/* Frees a config; accepts NULL; returns NULL. */
struct unit_config *unit_config_free(struct unit_config *c);

void unit_diags_done(struct unit_diags *d);

/* Kind of a unit name from its suffix; -EINVAL when it is not a unit we handle. */
int unit_name_kind(const char *name, enum unit_kind *ret_kind);

/* "fifo-echo" -> "fifo-echo.service"; a name that already has a known suffix is copied.
 * Returns a new string, or NULL on out-of-memory. */
char *unit_name_normalize(const char *name);

/* True when `name` follows systemd's unit-name grammar. */
bool unit_name_is_valid(const char *name);

/* A unit name (or glob pattern) from what a user typed, as systemctl's and journalctl's
 * unit_name_mangle(name, UNIT_NAME_MANGLE_GLOB) make it: a valid name or a glob of name
 * characters stays as it is; an absolute path becomes a .device (under /dev or /sys) or .mount
 * name ("/dev/sda1" -> "dev-sda1.device"); anything else has '/' turned into '-' and every
 * character a name (or glob) cannot have escaped as \xNN ("tpl@a b" -> "tpl@a\x20b.service"),
 * and ".service" appended unless the result is a valid name or a glob. On success stores a new
 * string in *ret_name and returns 0 (used as given) or 1 (made from it); *ret_escaped (when not
 * NULL) gets the escaped text before any suffix when characters were escaped, for the caller's
 * notice, else NULL. -EINVAL for an empty name, -ENAMETOOLONG, -ENOMEM. Never logs. */
int unit_name_mangle(const char *name, char **ret_name, char **ret_escaped);

const char *service_type_to_string(enum service_type t);
const char *restart_policy_to_string(enum restart_policy r);
const char *kill_mode_to_string(enum kill_mode k);

#endif
