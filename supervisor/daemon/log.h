/* minisupd's own diagnostics (never service output, which goes to the journal). Lines go to
 * stderr as "minisupd: <message>", filtered by one global level. */
#ifndef MINISUP_LOG_H
#define MINISUP_LOG_H

#include <syslog.h>

extern int log_max_level; /* LOG_ERR .. LOG_DEBUG; default LOG_INFO */

void log_internal(int level, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The level test comes first so disabled messages cost no formatting. */
#define log_full(level, ...)                                                                       \
    do {                                                                                           \
        if ((level) <= log_max_level)                                                              \
            log_internal((level), 0, __VA_ARGS__);                                                 \
    } while (0)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

/* Logs with ": <strerror(-r)>" appended and evaluates to r (a negative errno), so that
 * `return log_error_errno(r, "...");` logs and returns in one statement. */
#define log_error_errno(r, ...) log_errno_internal(LOG_ERR, (r), __VA_ARGS__)
#define log_warning_errno(r, ...) log_errno_internal(LOG_WARNING, (r), __VA_ARGS__)

int log_errno_internal(int level, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
