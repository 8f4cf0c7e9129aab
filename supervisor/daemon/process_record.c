/* The process record of the running instance, and the start-up sweep of a killed one's. The
 * file is text, one process per line: "<pid> <pgid> <starttime> <unit>", rewritten in place
 * whole on each change. */
#include "process_record.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "paths.h"
#include "proc.h"

struct known {
    pid_t pid, pgid;
    uint64_t start;
    char *line; /* "<pid> <pgid> <starttime> <unit>\n", formatted once per process */
    size_t len;
};

struct process_record {
    char *path;
    int fd;              /* the record, kept open: rewritten in place */
    size_t file_len;     /* what the last write left in it */
    struct known *known; /* the processes of the last write, sorted by pid */
    size_t n_known;
    char *buf; /* the text of a write, kept between writes */
    size_t cap;
};

int process_record_new(const char *runtime_dir, struct process_record **ret)
{
    struct process_record *r = calloc(1, sizeof(*r));

    if (!r)
        return -ENOMEM;
    r->fd = -1;
    r->path = path_join(runtime_dir, PROCESS_RECORD_NAME);
    if (!r->path) {
        process_record_free(r, false);
        return -ENOMEM;
    }
    *ret = r;
    return 0;
}

static void free_known(struct known *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].line);
    free(v);
}

void process_record_free(struct process_record *r, bool remove)
{
    if (!r)
        return;
    if (remove) {
        (void)unlink(r->path);
    }
    if (r->fd >= 0)
        close(r->fd);
    free(r->path);
    free_known(r->known, r->n_known);
    free(r->buf);
    free(r);
}

static int cmp_known(const void *a, const void *b)
{
    pid_t x = ((const struct known *)a)->pid, y = ((const struct known *)b)->pid;

    return (x > y) - (x < y);
}

static const char header[] = "# minisupd process record: pid pgid starttime unit\n";

/* Each process's line is formatted once and copied into every later write: the record is
 * rewritten whole at each change, which a start or stop of 1000 units makes about 1000 times,
 * so formatting every line each time made them O(N^2) in vfprintf (7 % of a start-up's CPU,
 * 14 % of a stop's). */
int process_record_write(struct process_record *r, const struct process_entry *procs, size_t n)
{
    struct known *now = calloc(n + 1, sizeof(*now));
    size_t k = 0, len = sizeof(header) - 1;
    int ret = 0;

    if (!now)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct known key = {.pid = procs[i].pid}, *hit;

        if (procs[i].pid <= 0)
            continue;
        hit = r->n_known ? bsearch(&key, r->known, r->n_known, sizeof(key), cmp_known) : NULL;
        if (hit && hit->line) {
            key = *hit;
            hit->line = NULL; /* moves to the new list */
        } else {
            if (hit) {
                key.start = hit->start;
                key.pgid = hit->pgid;
            } else if (proc_start_time(key.pid, &key.start, &key.pgid) < 0) {
                continue; /* already gone: nothing to stop later */
            }
            if (procs[i].pgid > 0)
                key.pgid = procs[i].pgid;
            int l = asprintf(&key.line, "%d %d %llu %s\n", (int)key.pid, (int)key.pgid,
                             (unsigned long long)key.start, procs[i].unit);
            if (l < 0) {
                key.line = NULL;
                ret = -ENOMEM;
                break;
            }
            key.len = (size_t)l;
        }
        now[k++] = key;
        len += key.len;
    }
    if (ret == 0 && len > r->cap) {
        char *g = realloc(r->buf, len);
        if (!g)
            ret = -ENOMEM;
        else
            r->buf = g, r->cap = len;
    }
    if (ret == 0) {
        size_t off = sizeof(header) - 1;
        memcpy(r->buf, header, off);
        for (size_t i = 0; i < k; i++) {
            memcpy(r->buf + off, now[i].line, now[i].len);
            off += now[i].len;
        }
    }
    /* Rewritten in place, not renamed over: no inode per change (start-up of 1000 units
     * changes it often). A crash between the write and the truncate leaves old lines at the
     * end; they name processes by start time, so a successor only stops what really ran. */
    if (ret == 0 && r->fd < 0) {
        r->fd = open(r->path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (r->fd < 0)
            ret = -errno;
        r->file_len = 0;
    }
    if (ret == 0) {
        ssize_t w = pwrite(r->fd, r->buf, len, 0);
        if (w < 0)
            ret = -errno;
        else if ((size_t)w != len)
            ret = -EIO;
        else if (len < r->file_len && ftruncate(r->fd, (off_t)len) < 0)
            ret = -errno;
        else
            r->file_len = len;
    }
    if (ret < 0) {
        /* The old list keeps what it still owns; lines moved out of it are the new list's. */
        free_known(now, k);
        return ret;
    }
    qsort(now, k, sizeof(*now), cmp_known);
    free_known(r->known, r->n_known);
    r->known = now;
    r->n_known = k;
    return 0;
}

struct stale {
    struct known k;
    char unit[256];
    char comm[64];
    bool group; /* the recorded group still holds the process: signal the group */
    bool killed, done;
    uint64_t deadline_ms;
};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void stale_signal(const struct stale *s, int sig)
{
    /* While a member we verified is in it, the group id cannot belong to anyone else. */
    (void)kill(s->group ? -s->k.pgid : s->k.pid, sig);
}

static bool stale_alive(const struct stale *s)
{
    pid_t member;
    uint64_t start;

    if (s->group)
        return proc_group_members(s->k.pgid, &member, 1) > 0;
    return proc_start_time(s->k.pid, &start, NULL) == 0 && start == s->k.start;
}

/* Reads the record; stale processes (still running as recorded) into *ret. */
static int read_stale(const char *path, struct stale **ret, size_t *ret_n)
{
    struct stale *v = NULL;
    size_t n = 0, cap = 0;
    char line[512];
    FILE *f = fopen(path, "re");

    *ret = NULL;
    *ret_n = 0;
    if (!f)
        return errno == ENOENT ? 0 : -errno;
    while (fgets(line, sizeof(line), f)) {
        struct stale s = {0};
        unsigned long long start;
        uint64_t t;
        int pid, pgid;
        pid_t cur_pgid;

        if (line[0] == '#' || sscanf(line, "%d %d %llu %255s", &pid, &pgid, &start, s.unit) != 4 ||
            pid <= 1)
            continue;
        s.k.pid = pid;
        s.k.pgid = pgid;
        s.k.start = start;
        if (proc_start_time(pid, &t, &cur_pgid) < 0) {
            /* Gone, but its group may not be: a main process dies of its PR_SET_PDEATHSIG with
             * minisupd, the children it started do not. While one of them is in the group, the
             * kernel keeps the group's id from being reused, so the group is still this run's
             * (docs/design-decisions.md, "When minisupd itself dies"). */
            pid_t member;
            /* Only the group the process led (its id is the process's pid, which the kernel
             * keeps while the group lives), and never our own: a record written before the
             * child's setpgid() names the group it was forked in. */
            if (pgid <= 1 || pgid != pid || pgid == getpgrp() ||
                proc_group_members(pgid, &member, 1) == 0)
                continue;
            s.group = true;
            s.k.pid = member;
        } else if (t != start) {
            continue; /* the pid now names someone else (then the old group is empty) */
        } else {
            s.group = pgid > 1 && cur_pgid == pgid;
        }
        proc_comm(s.k.pid, s.comm, sizeof(s.comm));
        if (n == cap) {
            struct stale *g = realloc(v, (cap = cap ? 2 * cap : 8) * sizeof(*v));
            if (!g) {
                free(v);
                fclose(f);
                return -ENOMEM;
            }
            v = g;
        }
        v[n++] = s;
    }
    fclose(f);
    *ret = v;
    *ret_n = n;
    return 0;
}

int process_record_sweep(const char *runtime_dir, process_record_timeout_cb timeout,
                         process_record_stopped_cb stopped, void *userdata)
{
    char *path = path_join(runtime_dir, PROCESS_RECORD_NAME);
    struct stale *v;
    size_t n, left, n_killed = 0;
    uint64_t t0;
    int r;

    if (!path)
        return -ENOMEM;
    r = read_stale(path, &v, &n);
    if (r < 0) {
        free(path);
        return r;
    }
    if (n == 0) {
        (void)unlink(path);
        free(path);
        return 0;
    }
    log_warning("%zu process(es) of a previous minisupd instance still run; stopping them.", n);
    t0 = now_ms();
    for (size_t i = 0; i < n; i++) {
        unsigned ms = timeout ? timeout(v[i].unit, userdata) : PROCESS_RECORD_TERM_MAX_MS;

        log_warning("Stopping stale process %d (%s) of %s.", (int)v[i].k.pid, v[i].comm, v[i].unit);
        v[i].deadline_ms = t0 + (ms < PROCESS_RECORD_TERM_MAX_MS ? ms : PROCESS_RECORD_TERM_MAX_MS);
        stale_signal(&v[i], SIGTERM);
        stale_signal(&v[i], SIGCONT); /* a stopped process acts on SIGTERM only once resumed */
    }
    /* They are not our children (init or a subreaper adopted them): poll, bounded. */
    for (left = n; left > 0;) {
        uint64_t now = now_ms();

        for (size_t i = 0; i < n; i++) {
            struct stale *s = &v[i];

            if (s->done)
                continue;
            if (!stale_alive(s)) {
                s->done = true;
                left--;
                if (stopped)
                    stopped(s->unit, s->k.pid, s->comm, s->killed, userdata);
            } else if (!s->killed && now >= s->deadline_ms) {
                log_warning("Stale process %d (%s) of %s did not stop on SIGTERM; killing it.",
                            (int)s->k.pid, s->comm, s->unit);
                stale_signal(s, SIGKILL);
                s->killed = true;
                n_killed++;
                s->deadline_ms = now + 2000;
            } else if (s->killed && now >= s->deadline_ms) {
                log_error("Stale process %d (%s) of %s survives SIGKILL; leaving it.",
                          (int)s->k.pid, s->comm, s->unit);
                s->done = true;
                left--;
            }
        }
        if (left > 0) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    log_warning("Stopped %zu stale process(es) of a previous instance (%zu with SIGKILL).", n,
                n_killed);
    (void)unlink(path);
    free(path);
    free(v);
    return (int)n;
}
