/* Human output of minisupctl, modelled on systemctl and journalctl: the status block, unit and
 * socket tables, journal line formats, time formatting, and the parsing of the times, spans and
 * priorities users type. Pure functions from the JSON the daemon sends to text on a FILE; no
 * I/O besides that stream, no clock, no environment but the time zone, so tests can pin "now",
 * the host name and TZ. No logging. */
#ifndef MINISUP_CTL_OUTPUT_H
#define MINISUP_CTL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* The -o/--output modes, named as journalctl names them. */
enum ctl_output_mode {
    CTL_OUTPUT_SHORT,
    CTL_OUTPUT_SHORT_ISO,
    CTL_OUTPUT_SHORT_PRECISE,
    CTL_OUTPUT_CAT,
    CTL_OUTPUT_JSON,
    CTL_OUTPUT_SHORT_MONOTONIC, /* [seconds.micros] since boot, as journalctl */
    CTL_OUTPUT_JSON_PRETTY,
    CTL_OUTPUT_VERBOSE,    /* every field, one per line, journalctl's verbose */
    CTL_OUTPUT_EXPORT,     /* journald's export format: KEY=value lines, blank line */
    CTL_OUTPUT_SHORT_UNIX, /* seconds.micros since the epoch, then as short */
    CTL_OUTPUT_SHORT_FULL, /* "Sun 2026-11-22 10:04:17 UTC", then as short */
    CTL_OUTPUT_WITH_UNIT,  /* as short-full, the unit name in place of the identifier */
    CTL_OUTPUT_MAX,
};

/* What every formatter needs besides its data; filled once by main, fixed by tests. */
struct ctl_style {
    uint64_t now_usec;    /* wall clock, for "5s ago" */
    const char *hostname; /* the host column of journal lines */
    bool colour;          /* ANSI colours (stdout is a terminal and NO_COLOR is unset) */
    bool all;             /* journal -a: fields printed as they are, however long or binary */
    bool utc;             /* journal --utc: timestamps in UTC, not local time */
    bool no_hostname;     /* journal --no-hostname: the short formats leave out the host */
};

/* Buffer sizes that always hold the formatted results below. */
#define CTL_TIMESTAMP_MAX 64
#define CTL_TIMESPAN_MAX 64
#define CTL_EXIT_MAX 96

const char *ctl_output_mode_to_string(enum ctl_output_mode m);

/* The mode named `s`, or -EINVAL. */
int ctl_output_mode_from_string(const char *s);

/* "SUCCESS", "FAILURE", ... for the LSB exit codes 0..7; NULL for other codes. */
const char *ctl_exit_status_to_string(int status);

/* "KILL", "TERM", ... without the SIG prefix; NULL for an unknown signal number. */
const char *ctl_signal_to_string(int sig);

/* The number of a signal given as "KILL", "SIGKILL" or "9"; -EINVAL when it is none. */
int ctl_signal_from_string(const char *s);

/* "code=exited, status=1/FAILURE", "code=killed, status=9/KILL", "code=exited, status=42" from
 * a UnitStatus's execMainCode and execMainStatus. Always NUL-terminates buf; returns buf. */
char *ctl_format_exit(char *buf, size_t n, const char *code, int status);

/* "Sat 2026-11-21 19:01:45 UTC" in local time, as systemctl prints timestamps; "n/a" for 0. */
char *ctl_format_timestamp(char *buf, size_t n, uint64_t usec);

/* "5s ago", "1min 30s ago", "2h 5min ago", "3 days ago", or "... left" for the future, "now"
 * for no difference; systemd's format_timestamp_relative() rules. */
char *ctl_format_timestamp_relative(char *buf, size_t n, uint64_t usec, uint64_t now_usec);

/* "1.204s", "1min 30.5s", "2h 5min", "500ms", "0": a duration, as systemd's format_timespan()
 * prints it to millisecond accuracy. */
char *ctl_format_timespan(char *buf, size_t n, uint64_t usec);

/* A duration as journalctl and unit files take it: "30", "30s", "5min", "1h 30min", "2d",
 * "1.5h", "500ms". A bare number is seconds. 0 or -EINVAL / -ERANGE. */
int ctl_parse_timespan(const char *s, uint64_t *ret_usec);

/* A point in time as journalctl --since/--until take it: "2026-11-21 19:01:45", "2026-11-21",
 * "19:01" (today), "now", "today", "yesterday", "tomorrow", "-1h", "+5min", "10min ago",
 * "@1795287705", and our own "Sat 2026-11-21 19:01:45 UTC". Local time unless "UTC" follows.
 * 0 or -EINVAL. */
int ctl_parse_timestamp(const char *s, uint64_t now_usec, uint64_t *ret_usec);

/* A journalctl -p value: "err" or "3" means 0..3, "warning..err" or "3..4" the range. Names:
 * emerg alert crit err warning notice info debug. 0 or -EINVAL. */
int ctl_parse_priority(const char *s, int *ret_min, int *ret_max);

/* The text after "Active: " for a UnitStatus object, e.g. "active (running) since Sat
 * 2026-11-21 19:01:45 UTC; 5s ago" or "failed (Result: exit-code) since ...". */
void ctl_print_active(FILE *f, const json_t *unit, const struct ctl_style *st);

/* The systemctl-like status block of one UnitStatus, then, when `entries` (a JSON array of
 * JournalEntry objects, may be NULL) is not empty, a blank line and the entries in `mode`. */
void ctl_print_unit_status(FILE *f, const json_t *unit, const json_t *entries,
                           enum ctl_output_mode mode, const struct ctl_style *st);

/* Why a unit is in its state: the Active: line, its restart policy and start limit, and the
 * last deaths of its main process with the restart decision taken for each (the UnitStatus
 * "deaths" array). */
void ctl_print_why(FILE *f, const json_t *unit, const struct ctl_style *st);

/* `cat`: "# PATH" and then the unit file text as the daemon loaded it. */
void ctl_print_unit_file(FILE *f, const char *path, const char *text);

/* One journal entry in `mode`, as journalctl (systemd 252's logs-show.c) writes it. json and
 * json-pretty: journald's field names (MESSAGE, PRIORITY, _PID, SYSLOG_IDENTIFIER,
 * _SYSTEMD_UNIT, __REALTIME_TIMESTAMP, ..., as export and verbose name them) with string values;
 * a value that is not printable UTF-8 is an array of byte values, one of 4096 bytes or more null
 * unless st->all. Unless st->all, the short modes strip colour sequences and expand tabs, then
 * show a message that is still not printable UTF-8 (a control character but newline and tab, a
 * NUL, invalid UTF-8) as "[23B blob data]"; verbose shows such a field as "FIELD=[23B blob
 * data]". cat writes the message raw, export binary-safe (the export format's length-prefixed
 * form for a value with a newline or that is not printable). */
void ctl_print_journal_entry(FILE *f, const json_t *entry, enum ctl_output_mode mode,
                             const struct ctl_style *st);

/* Flags for ctl_print_unit_table(). */
enum ctl_table_flags {
    CTL_TABLE_LEGEND = 1 << 0,   /* header, LOAD/ACTIVE/SUB legend and the count footer */
    CTL_TABLE_ALL_HINT = 1 << 1, /* footer hints at --all (inactive units were left out) */
    CTL_TABLE_DOTS = 1 << 2,     /* a state dot before every unit (compact status list) */
    CTL_TABLE_TYPES = 1 << 3,    /* list-sockets: a TYPE column (Stream, FIFO, ...) */
};

/* The list-units table of a JSON array of UnitStatus objects, columns as wide as their
 * content: "UNIT LOAD ACTIVE SUB DESCRIPTION". Failed and unloaded units get a "●" marker
 * (red on colour); with CTL_TABLE_DOTS every unit gets a dot coloured by its state. */
void ctl_print_unit_table(FILE *f, const json_t *units, unsigned flags, const struct ctl_style *st);

/* The list-sockets table of a JSON array of socket UnitStatus objects: one row per listener,
 * "LISTEN UNIT ACTIVATES" (with CTL_TABLE_TYPES "LISTEN TYPE UNIT ACTIVATES"), and with
 * CTL_TABLE_LEGEND the count footer. */
void ctl_print_socket_table(FILE *f, const json_t *sockets, unsigned flags,
                            const struct ctl_style *st);

#endif
