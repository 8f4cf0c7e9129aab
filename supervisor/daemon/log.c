/* The daemon's diagnostic log: one formatted write per message, so lines from a busy daemon
 * never interleave mid-line. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int log_max_level = LOG_INFO;

static void log_va(int level, int error, const char *fmt, va_list ap)
{
    char buf[2048];
    int n = snprintf(buf, sizeof(buf), "minisupd: ");

    n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
    if (n >= (int)sizeof(buf) - 1)
        n = (int)sizeof(buf) - 2;
    if (error)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", strerror(error));
    if (n >= (int)sizeof(buf) - 1)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    (void)level;
    (void)!write(STDERR_FILENO, buf, (size_t)n); /* nothing sensible to do if stderr is gone */
}

void log_internal(int level, int error, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_va(level, error, fmt, ap);
    va_end(ap);
}

int log_errno_internal(int level, int r, const char *fmt, ...)
{
    va_list ap;

    if (level <= log_max_level) {
        va_start(ap, fmt);
        log_va(level, r < 0 ? -r : r, fmt, ap);
        va_end(ap);
    }
    return r;
}
