/* The config file is ours (short lines, our own syntax), so inih reads it directly, unlike unit
 * files, which need systemd's lexing (unit_file.c). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "values.h"

struct config_ctx {
    const char *path;
    struct journal_options *opts;
    FILE *f;
    int line; /* counted by our reader: this inih has no line numbers in its handler */
    int bad;
};

static void bad(struct config_ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void bad(struct config_ctx *c, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s:%d: ", c->path, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    c->bad++;
}

static char *read_line(char *buf, int size, void *stream)
{
    struct config_ctx *c = stream;
    char *r = fgets(buf, size, c->f);

    if (r)
        c->line++;
    return r;
}

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
    struct config_ctx *c = user;
    int line = c->line;
    struct journal_options *o = c->opts;
    uint64_t v;

    if (strcmp(section, "Journal") != 0) {
        bad(c, line, "Unknown section '%s' (key %s=), ignoring.", section, key);
        return 1;
    }
    if (!strcmp(key, "SystemMaxUse") || !strcmp(key, "SystemMaxFileSize") ||
        !strcmp(key, "MaxUnitUse") || !strcmp(key, "LineMax")) {
        if (parse_size(value, 1024, &v) < 0) {
            bad(c, line, "Failed to parse size value '%s' for %s=, ignoring.", value, key);
            return 1;
        }
        if (!strcmp(key, "SystemMaxUse"))
            o->limits.max_total_use = v;
        else if (!strcmp(key, "SystemMaxFileSize"))
            o->limits.max_file_size = v;
        else if (!strcmp(key, "MaxUnitUse"))
            o->limits.max_unit_use = v;
        else if (v < 79 || v > 1024 * 1024) /* journald's bounds for LineMax= */
            bad(c, line, "LineMax=%s out of range (79 .. 1M), %s", value, "ignoring.");
        else
            o->line_max = (size_t)v;
        return 1;
    }
    if (!strcmp(key, "RateLimitIntervalSec") || !strcmp(key, "SyncIntervalSec")) {
        if (parse_timespan(value, USEC_PER_SEC, &v) < 0) {
            bad(c, line, "Failed to parse time span value '%s' for %s=, ignoring.", value, key);
            return 1;
        }
        if (!strcmp(key, "SyncIntervalSec"))
            o->sync_interval_usec = v ? v : 1;
        else
            o->rate_interval_usec = v == 0 ? UINT64_MAX : v; /* 0 turns the limit off */
        return 1;
    }
    if (!strcmp(key, "RateLimitBurst")) {
        char *end;
        unsigned long b = strtoul(value, &end, 10);
        if (*value < '0' || *value > '9' || *end || b >= UINT_MAX) {
            bad(c, line, "Failed to parse number '%s' for %s=, ignoring.", value, key);
            return 1;
        }
        o->rate_burst = b == 0 ? UINT_MAX : (unsigned)b; /* 0 turns the limit off */
        return 1;
    }
    bad(c, line, "Unknown key name '%s' in section '%s', ignoring.", key, section);
    return 1;
}

int config_load(const char *path, struct journal_options *opts)
{
    struct config_ctx c = {.path = path, .opts = opts};
    int r;

    c.f = fopen(path, "re");
    if (!c.f)
        return -errno;
    r = ini_parse_stream(read_line, &c, on_entry, &c);
    fclose(c.f);
    if (r > 0) {
        fprintf(stderr, "%s:%d: Syntax error, ignoring the line.\n", path, r);
        c.bad++;
    }
    return c.bad;
}
