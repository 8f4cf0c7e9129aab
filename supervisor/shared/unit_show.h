/* The properties of a parsed unit as `systemctl show` prints them: systemd's property names, in
 * systemd's order (the unit type's own interface, then exec and kill settings, then the Unit
 * interface), with systemd's value formats. Shared by minisupd and minisupctl. Pure: no I/O, no
 * logging, nothing kept between calls. */
#ifndef MINISUP_UNIT_SHOW_H
#define MINISUP_UNIT_SHOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct unit_config;
struct exec_command;
struct exec_list;

enum unit_show_flags {
    /* Also pass properties whose value is empty, as `systemctl show --all` (and `-p`) print
     * them. Without it they are left out, as plain `systemctl show` does. Properties with one
     * value per entry (ExecStart=, Listen=, EnvironmentFiles=) are never passed when they have
     * no entry, in both modes, as in systemctl. */
    UNIT_SHOW_EMPTY = 1 << 0,
};

/* Receives one property. `name` and `value` are valid only during the call. A negative return
 * stops the walk; unit_show_properties() then returns that value. */
typedef int (*unit_show_cb)(const char *name, const char *value, void *userdata);

/* Calls cb(name, value, userdata) for each property of `c`, in a stable order. A property with
 * several entries (one per command in ExecStart=, one per socket in Listen=, ...) is passed once
 * per entry under the same name, as systemctl prints one line per entry. Returns 0, -ENOMEM, or
 * the first negative value cb returned. Never logs. */
int unit_show_properties(const struct unit_config *c, unsigned flags, unit_show_cb cb,
                         void *userdata);

/* The last run of one command (systemd's ExecStatus): what the runtime fields of an Exec*=
 * property and status's "Process:" lines show. */
struct exec_status {
    uint64_t start_usec, exit_usec; /* realtime µs; 0: not yet */
    pid_t pid;
    int code;   /* CLD_EXITED, CLD_KILLED or CLD_DUMPED once it ended; 0 before */
    int status; /* the exit status, or the signal */
};

/* Fills *ret with the last run of cmd, a command of the configuration being shown; false when
 * it never ran. */
typedef bool (*unit_show_exec_lookup)(const struct exec_command *cmd, struct exec_status *ret,
                                      void *userdata);

/* unit_show_properties() for a unit that runs: the Exec*= properties carry each command's last
 * run as lookup reports it (systemd's start_time, stop_time, pid, code and status). lookup is
 * called for each command just before its property is passed to cb, and for nothing else. */
int unit_show_properties_ran(const struct unit_config *c, unsigned flags,
                             unit_show_exec_lookup lookup, void *lookup_userdata, unit_show_cb cb,
                             void *userdata);

/* The i-th command list of a service in systemd's order (ExecStartPre=, ExecStart=,
 * ExecStartPost=, ExecReload=, ExecStop=, ExecStopPost=), with its property name in *ret_name;
 * NULL past the last. */
const struct exec_list *unit_show_exec_list(const struct unit_config *c, size_t i,
                                            const char **ret_name);

/* A command's words joined by spaces, without quoting, as systemctl shows argv[] and its
 * "Process:" lines: an "@" override stands first. Allocated; NULL when out of memory. */
char *unit_show_command_line(const struct exec_command *cmd);

/* A wall-clock time as systemd's format_timestamp() prints it in show ("Sun 2026-11-22
 * 07:12:55 UTC", local time); "" for 0. Reads the time zone, as localtime(3) does. */
char *unit_show_format_timestamp(char *buf, size_t size, uint64_t usec);

/* The property a unit-file key is shown under: ("Service", "TimeoutStopSec") ->
 * "TimeoutStopUSec", ("Service", "ExecStart") -> "ExecStart", ("Socket", "ListenStream") ->
 * "Listen". A key that sets two properties gives the first ("TimeoutSec" -> "TimeoutStartUSec",
 * which TimeoutStopUSec follows). NULL for keys minisup does not act on (those that load with an
 * "Unsupported key" warning), unknown keys, and keys outside their section. */
const char *unit_show_property_for_key(const char *section, const char *key);

#endif
