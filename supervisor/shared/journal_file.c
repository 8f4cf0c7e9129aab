/* The journal on disk: a directory per unit holding text segment files (current.journal and
 * rotated @<seq>-<realtime>.journal), the store that appends batches to them, rotates and
 * retires them, repairs a torn tail on open, and the reader that merges units by time. Plain
 * blocking I/O, no logging, no event loop. The format itself lives in journal_format.c and is
 * described in docs/journal-format.md. */
#include "journal_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal_format.h"

#define DEFAULT_MAX_FILE_SIZE (8ULL << 20)
#define DEFAULT_MAX_UNIT_USE (64ULL << 20)
#define DEFAULT_MAX_TOTAL_USE (512ULL << 20)
/* Segment fds the store keeps open; the least recently used are closed beyond this. */
#define OPEN_FILES_MAX 64
/* The unit of reading: small enough that `-n 100` reads one block per unit. */
#define BLOCK_SIZE (32 * 1024)
/* Bisection stops when the range is this small and the rest is scanned. */
#define BISECT_MIN (16 * 1024)
#define CURRENT_NAME "current.journal"
/* "@" 16 hex "-" 16 hex ".journal" and an optional "~"; with the unit and a slash. */
#define SEGMENT_NAME_LEN 44
#define PATH_LEN (JOURNAL_UNIT_NAME_MAX + 1 + SEGMENT_NAME_LEN + 1)
#define DIR_MODE 0750
#define FILE_MODE 0640

/* ---- segments ---- */

/* A rotated segment, named after its first record. `broken` marks a set-aside file (a
 * current.journal without a single good line at open): counted and retired, never read. */
struct segment {
    uint64_t first_seq;
    uint64_t first_realtime;
    uint64_t size;
    bool broken;
};

static void segment_name(char *buf, size_t n, const struct segment *g)
{
    snprintf(buf, n, "@%016" PRIx64 "-%016" PRIx64 ".journal%s", g->first_seq, g->first_realtime,
             g->broken ? "~" : "");
}

static bool parse_hex16(const char *s, uint64_t *ret)
{
    uint64_t v = 0;

    for (int i = 0; i < 16; i++) {
        char c = s[i];

        if (c >= '0' && c <= '9')
            v = v << 4 | (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v << 4 | (uint64_t)(c - 'a' + 10);
        else
            return false;
    }
    *ret = v;
    return true;
}

static bool segment_parse_name(const char *name, struct segment *ret)
{
    size_t n = strlen(name);

    if ((n != 42 && n != 43) || name[0] != '@' || name[17] != '-' ||
        memcmp(name + 34, ".journal", 8) != 0 || (n == 43 && name[42] != '~'))
        return false;
    if (!parse_hex16(name + 1, &ret->first_seq) || !parse_hex16(name + 18, &ret->first_realtime))
        return false;
    ret->broken = n == 43;
    ret->size = 0;
    return true;
}

static int segment_cmp(const void *a, const void *b)
{
    const struct segment *x = a, *y = b;

    if (x->first_seq != y->first_seq)
        return x->first_seq < y->first_seq ? -1 : 1;
    if (x->first_realtime != y->first_realtime)
        return x->first_realtime < y->first_realtime ? -1 : 1;
    return (int)x->broken - (int)y->broken;
}

static void unit_path(char *buf, const char *unit, const char *name)
{
    snprintf(buf, PATH_LEN, "%s/%s", unit, name);
}

/* Lists a unit's rotated segments, oldest first. */
static int list_segments(int dfd, const char *unit, struct segment **ret, size_t *ret_n)
{
    struct segment *segs = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    DIR *d = NULL;
    int ufd, r = 0;

    ufd = openat(dfd, unit, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ufd < 0)
        return -errno;
    d = fdopendir(ufd);
    if (!d) {
        r = -errno;
        close(ufd);
        return r;
    }
    for (;;) {
        struct segment g;
        struct stat st;

        errno = 0;
        de = readdir(d);
        if (!de) {
            r = -errno;
            break;
        }
        if (!segment_parse_name(de->d_name, &g))
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT) /* retired meanwhile */
                continue;
            r = -errno;
            break;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        g.size = (uint64_t)st.st_size;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct segment *p = realloc(segs, ncap * sizeof(*segs));

            if (!p) {
                r = -ENOMEM;
                break;
            }
            segs = p;
            cap = ncap;
        }
        segs[n++] = g;
    }
    closedir(d);
    if (r < 0) {
        free(segs);
        return r;
    }
    if (n > 1)
        qsort(segs, n, sizeof(*segs), segment_cmp);
    *ret = segs;
    *ret_n = n;
    return 0;
}

static int pread_full(int fd, char *buf, size_t n, uint64_t off, size_t *ret_got)
{
    size_t got = 0;

    while (got < n) {
        ssize_t k = pread(fd, buf + got, n - got, (off_t)(off + got));

        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    *ret_got = got;
    return 0;
}

/* ---- line scanner ----
 * Reads the lines of a file region [lo, hi) forward or backward in blocks, with memchr/memrchr.
 * The buffer grows only as far as the longest line (at most JOURNAL_LINE_MAX); a longer "line"
 * is passed over without being held. */
struct scan {
    int fd;
    bool backward;
    bool dropping; /* passing over an overlong line */
    uint64_t lo, hi;
    uint64_t pos; /* forward: offset of the next read; backward: file offset of buf[b_start] */
    size_t chunk; /* bytes per read (more only to finish a line) */
    char *buf;
    size_t cap;
    size_t b_start, b_end;
};

enum {
    SCAN_END = 0,
    SCAN_LINE = 1,     /* a line, with its '\n' unless it is an unterminated last piece */
    SCAN_OVERLONG = 2, /* a line over JOURNAL_LINE_MAX was passed over */
};

static void scan_reset(struct scan *sc, int fd, uint64_t lo, uint64_t hi, bool backward)
{
    sc->fd = fd;
    sc->backward = backward;
    sc->dropping = false;
    sc->lo = lo;
    sc->hi = hi;
    sc->pos = backward ? hi : lo;
    sc->chunk = backward ? BLOCK_SIZE : 4 * BLOCK_SIZE;
    sc->b_start = sc->b_end = backward ? sc->cap : 0;
}

static void scan_done(struct scan *sc)
{
    free(sc->buf);
    sc->buf = NULL;
    sc->cap = 0;
}

/* Makes the buffer at least `need` bytes, keeping [b_start, b_end) at the same end it sits. */
static int scan_grow(struct scan *sc, size_t need)
{
    size_t ncap = sc->cap ? sc->cap : BLOCK_SIZE;
    size_t len = sc->b_end - sc->b_start;
    char *p;

    while (ncap < need)
        ncap *= 2;
    if (ncap > JOURNAL_LINE_MAX + 2 * BLOCK_SIZE)
        ncap = JOURNAL_LINE_MAX + 2 * BLOCK_SIZE;
    if (ncap <= sc->cap)
        return 0;
    p = malloc(ncap);
    if (!p)
        return -ENOMEM;
    if (sc->backward) {
        if (len > 0)
            memcpy(p + ncap - len, sc->buf + sc->b_start, len);
        sc->b_start = ncap - len;
        sc->b_end = ncap;
    } else {
        if (len > 0)
            memcpy(p, sc->buf + sc->b_start, len);
        sc->b_start = 0;
        sc->b_end = len;
    }
    free(sc->buf);
    sc->buf = p;
    sc->cap = ncap;
    return 0;
}

static int scan_next(struct scan *sc, const char **ret_line, size_t *ret_len, uint64_t *ret_off)
{
    for (;;) {
        size_t len = sc->b_end - sc->b_start, got, room;
        const char *nl = len ? memchr(sc->buf + sc->b_start, '\n', len) : NULL;
        int r;

        if (nl) {
            size_t e = (size_t)(nl + 1 - sc->buf);

            *ret_off = sc->pos - len;
            *ret_line = sc->buf + sc->b_start;
            *ret_len = e - sc->b_start;
            sc->b_start = e;
            if (sc->dropping) {
                sc->dropping = false;
                return SCAN_OVERLONG;
            }
            return SCAN_LINE;
        }
        if (sc->pos >= sc->hi) {
            if (len == 0 && !sc->dropping)
                return SCAN_END;
            *ret_off = sc->pos - len;
            *ret_line = sc->buf + sc->b_start;
            *ret_len = len;
            sc->b_start = sc->b_end;
            if (sc->dropping) {
                sc->dropping = false;
                return SCAN_OVERLONG;
            }
            return SCAN_LINE;
        }
        if (len > JOURNAL_LINE_MAX)
            sc->dropping = true;
        if (sc->dropping)
            sc->b_start = sc->b_end = len = 0;
        if (sc->b_start > 0) {
            memmove(sc->buf, sc->buf + sc->b_start, len);
            sc->b_start = 0;
            sc->b_end = len;
        }
        if (sc->cap - sc->b_end < BLOCK_SIZE / 2) {
            r = scan_grow(sc, sc->b_end + BLOCK_SIZE);
            if (r < 0)
                return r;
        }
        room = sc->cap - sc->b_end;
        if (room > sc->chunk)
            room = sc->chunk;
        if (room > sc->hi - sc->pos)
            room = (size_t)(sc->hi - sc->pos);
        r = pread_full(sc->fd, sc->buf + sc->b_end, room, sc->pos, &got);
        if (r < 0)
            return r;
        if (got < room) /* the file shrank under us: what is there is all there is */
            sc->hi = sc->pos + got;
        sc->pos += got;
        sc->b_end += got;
    }
}

static int scan_prev(struct scan *sc, const char **ret_line, size_t *ret_len, uint64_t *ret_off)
{
    for (;;) {
        size_t len = sc->b_end - sc->b_start, got, n;
        /* The last byte ends the line we want (its '\n', or the region end): look before it,
         * unless we are passing over a line, whose end is already gone. */
        size_t search = sc->dropping ? len : (len > 0 ? len - 1 : 0);
        const char *nl = search ? memrchr(sc->buf + sc->b_start, '\n', search) : NULL;
        int r;

        if (nl || (sc->pos == sc->lo && (len > 0 || sc->dropping))) {
            size_t start = nl ? (size_t)(nl + 1 - sc->buf) : sc->b_start;

            *ret_off = sc->pos + (start - sc->b_start);
            *ret_line = sc->buf + start;
            *ret_len = sc->b_end - start;
            sc->b_end = start;
            if (sc->dropping) {
                sc->dropping = false;
                return SCAN_OVERLONG;
            }
            return SCAN_LINE;
        }
        if (sc->pos == sc->lo)
            return SCAN_END;
        if (len > JOURNAL_LINE_MAX + 1)
            sc->dropping = true;
        if (sc->dropping) {
            /* pos stays: it is where the bytes we drop began, and we read on before it. */
            sc->b_start = sc->b_end = sc->cap;
            len = 0;
        }
        if (sc->b_end != sc->cap) {
            memmove(sc->buf + sc->cap - len, sc->buf + sc->b_start, len);
            sc->b_start = sc->cap - len;
            sc->b_end = sc->cap;
        }
        if (sc->b_start < BLOCK_SIZE / 2) {
            r = scan_grow(sc, len + BLOCK_SIZE);
            if (r < 0)
                return r;
        }
        n = sc->b_start < sc->chunk ? sc->b_start : sc->chunk;
        if (n > sc->pos - sc->lo)
            n = (size_t)(sc->pos - sc->lo);
        r = pread_full(sc->fd, sc->buf + sc->b_start - n, n, sc->pos - n, &got);
        if (r < 0)
            return r;
        if (got < n) {
            /* The file shrank under us; give up on what lies before. */
            sc->lo = sc->pos;
            continue;
        }
        sc->pos -= n;
        sc->b_start -= n;
    }
}

static int scan_line(struct scan *sc, const char **ret_line, size_t *ret_len, uint64_t *ret_off)
{
    return sc->backward ? scan_prev(sc, ret_line, ret_len, ret_off)
                        : scan_next(sc, ret_line, ret_len, ret_off);
}

/* A complete, checksummed line: ends in '\n', passes journal_line_peek(), and has a seq the
 * grammar allows (from 1; the writer never writes 0, so a seq of 0 is damage, counted as such). */
static bool line_is_good(const char *line, size_t len, uint64_t *ret_rt, uint64_t *ret_seq)
{
    return len > 1 && line[len - 1] == '\n' &&
           journal_line_peek(line, len - 1, ret_rt, ret_seq) == 0 && *ret_seq > 0;
}

/* The first (forward) or last (backward) good line of [lo, hi): 1 and its offset, end and keys,
 * or 0 when there is none. */
static int find_good_line(struct scan *sc, int fd, uint64_t lo, uint64_t hi, bool backward,
                          uint64_t *ret_off, uint64_t *ret_end, uint64_t *ret_rt, uint64_t *ret_seq)
{
    scan_reset(sc, fd, lo, hi, backward);
    for (;;) {
        const char *line;
        size_t len;
        uint64_t off;
        int r = scan_line(sc, &line, &len, &off);

        if (r <= 0)
            return r;
        if (r == SCAN_LINE && line_is_good(line, len, ret_rt, ret_seq)) {
            *ret_off = off;
            *ret_end = off + len;
            return 1;
        }
    }
}

/* ---- the store ---- */

/* One unit's directory as the store keeps it. Owned by the store's table. */
struct store_unit {
    char *name;
    int fd;                             /* current.journal, or -1 while closed (see the LRU list) */
    uint64_t size;                      /* of current.journal */
    uint64_t first_seq, first_realtime; /* of current.journal's first record, when size > 0 */
    struct segment *segs;               /* rotated, oldest first */
    size_t n_segs, cap_segs;
    uint64_t rotated_use;
    struct store_unit *lru_prev, *lru_next; /* while fd >= 0 */
    /* During an append: this unit's records as a chain through journal_store.chain[]. */
    bool touched, written;
    size_t chain_head, chain_tail;
    uint64_t old_size;
};

struct journal_store {
    int dfd;
    struct journal_limits limits;
    struct store_unit **table; /* open addressing by name, a power of two */
    size_t table_cap, n_units;
    uint64_t next_seq;
    uint64_t total_use;
    struct journal_repair repair;
    struct store_unit *lru_head, *lru_tail;
    unsigned n_open;
    /* Scratch reused by every append. */
    char *buf;
    size_t buf_cap;
    size_t *chain;
    size_t chain_cap;
    struct store_unit **touched;
    size_t touched_cap;
};

static uint64_t now_realtime(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

static size_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

static struct store_unit *store_unit_free(struct store_unit *u)
{
    if (!u)
        return NULL;
    if (u->fd >= 0)
        close(u->fd);
    free(u->segs);
    free(u->name);
    free(u);
    return NULL;
}

static struct store_unit *unit_find(struct journal_store *s, const char *name)
{
    size_t mask = s->table_cap - 1;

    for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
        struct store_unit *u = s->table[i];

        if (!u || strcmp(u->name, name) == 0)
            return u;
    }
}

static int table_insert(struct journal_store *s, struct store_unit *u)
{
    size_t mask;

    if ((s->n_units + 1) * 2 > s->table_cap) {
        size_t ncap = s->table_cap * 2;
        struct store_unit **t = calloc(ncap, sizeof(*t));

        if (!t)
            return -ENOMEM;
        for (size_t i = 0; i < s->table_cap; i++) {
            struct store_unit *v = s->table[i];

            if (!v)
                continue;
            for (size_t j = name_hash(v->name) & (ncap - 1);; j = (j + 1) & (ncap - 1)) {
                if (!t[j]) {
                    t[j] = v;
                    break;
                }
            }
        }
        free(s->table);
        s->table = t;
        s->table_cap = ncap;
    }
    mask = s->table_cap - 1;
    for (size_t i = name_hash(u->name) & mask;; i = (i + 1) & mask) {
        if (!s->table[i]) {
            s->table[i] = u;
            s->n_units++;
            return 0;
        }
    }
}

/* The unit's entry, created with its directory when new. */
static int unit_get(struct journal_store *s, const char *name, struct store_unit **ret)
{
    struct store_unit *u = unit_find(s, name);
    int r;

    if (u) {
        *ret = u;
        return 0;
    }
    if (mkdirat(s->dfd, name, DIR_MODE) < 0 && errno != EEXIST)
        return -errno;
    u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    u->fd = -1;
    u->name = strdup(name);
    if (!u->name) {
        free(u);
        return -ENOMEM;
    }
    r = table_insert(s, u);
    if (r < 0) {
        store_unit_free(u);
        return r;
    }
    *ret = u;
    return 0;
}

static void lru_unlink(struct journal_store *s, struct store_unit *u)
{
    if (u->lru_prev)
        u->lru_prev->lru_next = u->lru_next;
    else
        s->lru_head = u->lru_next;
    if (u->lru_next)
        u->lru_next->lru_prev = u->lru_prev;
    else
        s->lru_tail = u->lru_prev;
    u->lru_prev = u->lru_next = NULL;
}

static void lru_push(struct journal_store *s, struct store_unit *u)
{
    u->lru_prev = NULL;
    u->lru_next = s->lru_head;
    if (s->lru_head)
        s->lru_head->lru_prev = u;
    s->lru_head = u;
    if (!s->lru_tail)
        s->lru_tail = u;
}

static void unit_close_fd(struct journal_store *s, struct store_unit *u)
{
    if (u->fd < 0)
        return;
    close(u->fd);
    u->fd = -1;
    lru_unlink(s, u);
    s->n_open--;
}

/* Takes over an open fd of u's current.journal, closing the least recently used beyond the
 * bound. */
static void unit_adopt_fd(struct journal_store *s, struct store_unit *u, int fd)
{
    u->fd = fd;
    lru_push(s, u);
    s->n_open++;
    while (s->n_open > OPEN_FILES_MAX && s->lru_tail != u)
        unit_close_fd(s, s->lru_tail);
}

/* u's current.journal, opened (and created) if need be, and marked most recently used. */
static int unit_fd(struct journal_store *s, struct store_unit *u)
{
    char path[PATH_LEN];
    int fd;

    if (u->fd >= 0) {
        if (s->lru_head != u) {
            lru_unlink(s, u);
            lru_push(s, u);
        }
        return u->fd;
    }
    unit_path(path, u->name, CURRENT_NAME);
    fd = openat(s->dfd, path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, FILE_MODE);
    if (fd < 0)
        return -errno;
    unit_adopt_fd(s, u, fd);
    return fd;
}

static int unit_reserve_segment(struct store_unit *u)
{
    if (u->n_segs == u->cap_segs) {
        size_t ncap = u->cap_segs ? u->cap_segs * 2 : 8;
        struct segment *p = realloc(u->segs, ncap * sizeof(*p));

        if (!p)
            return -ENOMEM;
        u->segs = p;
        u->cap_segs = ncap;
    }
    return 0;
}

static int unit_add_segment(struct store_unit *u, const struct segment *g)
{
    int r = unit_reserve_segment(u);

    if (r < 0)
        return r;
    u->segs[u->n_segs++] = *g;
    u->rotated_use += g->size;
    return 0;
}

/* Renames u's current.journal to g's name without replacing anything: on a clash (a clock that
 * went back, a set-aside file) the realtime part is bumped until the name is free. */
static int rename_current(struct journal_store *s, struct store_unit *u, struct segment *g)
{
    char from[PATH_LEN], to[PATH_LEN], name[SEGMENT_NAME_LEN];

    unit_path(from, u->name, CURRENT_NAME);
    for (int tries = 0; tries < 1000; tries++, g->first_realtime++) {
        segment_name(name, sizeof(name), g);
        unit_path(to, u->name, name);
#ifdef RENAME_NOREPLACE /* musl 1.2.3 (minisupctl's, which never writes) has no renameat2() */
        if (renameat2(s->dfd, from, s->dfd, to, RENAME_NOREPLACE) == 0)
            return 0;
        if (errno == EEXIST)
            continue;
        if (errno != EINVAL && errno != ENOSYS)
            return -errno;
#endif
        /* A file system without RENAME_NOREPLACE: check, then rename (we are the only writer). */
        if (faccessat(s->dfd, to, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
            continue;
        if (renameat(s->dfd, from, s->dfd, to) < 0)
            return -errno;
        return 0;
    }
    return -EEXIST;
}

/* Turns u's current segment into a rotated one; the next write creates a new current.journal. */
static int unit_rotate(struct journal_store *s, struct store_unit *u)
{
    struct segment g = {
        .first_seq = u->first_seq,
        .first_realtime = u->first_realtime,
        .size = u->size,
    };
    int r;

    if (u->size == 0)
        return 0;
    /* Make room first, so a failed allocation leaves the current segment where it was. */
    r = unit_reserve_segment(u);
    if (r < 0)
        return r;
    r = rename_current(s, u, &g);
    if (r < 0)
        return r;
    unit_close_fd(s, u);
    (void)unit_add_segment(u, &g); /* cannot fail: room was made above */
    u->size = 0;
    return 0;
}

/* Deletes u's oldest rotated segment. It leaves the accounting even when unlink fails, so a
 * file we cannot delete does not make every later append retry. */
static void unit_retire_oldest(struct journal_store *s, struct store_unit *u)
{
    char path[PATH_LEN], name[SEGMENT_NAME_LEN];
    struct segment g = u->segs[0];

    segment_name(name, sizeof(name), &g);
    unit_path(path, u->name, name);
    (void)unlinkat(s->dfd, path, 0);
    memmove(u->segs, u->segs + 1, (u->n_segs - 1) * sizeof(*u->segs));
    u->n_segs--;
    u->rotated_use -= g.size;
    s->total_use -= g.size;
}

/* Retires u's oldest rotated segments while u is over its cap. The current segment is never
 * deleted, so a unit may stay above a cap smaller than its current segment. */
static void store_enforce_unit_cap(struct journal_store *s, struct store_unit *u)
{
    while (u->n_segs > 0 && u->rotated_use + u->size > s->limits.max_unit_use)
        unit_retire_oldest(s, u);
}

/* Retires the store's oldest rotated segments while it is over the total cap. Sequence numbers
 * are store-wide, so the smallest first seq in a name is the oldest segment of all. */
static void store_enforce_total_cap(struct journal_store *s)
{
    while (s->total_use > s->limits.max_total_use) {
        struct store_unit *oldest = NULL;

        for (size_t i = 0; i < s->table_cap; i++) {
            struct store_unit *v = s->table[i];

            if (v && v->n_segs > 0 && (!oldest || segment_cmp(&v->segs[0], &oldest->segs[0]) < 0))
                oldest = v;
        }
        if (!oldest)
            break;
        unit_retire_oldest(s, oldest);
    }
}

static int mkdir_p(const char *path, mode_t mode)
{
    char *p, *copy;
    int r = 0;

    if (mkdir(path, mode) == 0 || errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return -errno;
    copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    for (p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, mode) < 0 && errno != EEXIST) {
            r = -errno;
            goto out;
        }
        *p = '/';
    }
    if (mkdir(copy, mode) < 0 && errno != EEXIST)
        r = -errno;
out:
    free(copy);
    return r;
}

/* Loads one unit directory: its segments, and its current.journal cut back to the last good
 * line (or set aside when it has none). Raises *max_seq to the highest seq found at the tails. */
static int store_load_unit(struct journal_store *s, struct scan *sc, const char *name,
                           uint64_t *max_seq)
{
    struct segment *segs = NULL;
    struct store_unit *u;
    char path[PATH_LEN];
    struct stat st;
    uint64_t off, end, rt, seq;
    size_t n_segs = 0;
    int fd = -1, r;

    r = unit_get(s, name, &u);
    if (r < 0)
        return r;
    r = list_segments(s->dfd, name, &segs, &n_segs);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n_segs; i++) {
        r = unit_add_segment(u, &segs[i]);
        if (r < 0)
            goto out;
        s->total_use += segs[i].size;
        /* Every seq in a segment is at least the one in its name. */
        if (segs[i].first_seq > *max_seq)
            *max_seq = segs[i].first_seq;
    }

    unit_path(path, name, CURRENT_NAME);
    fd = openat(s->dfd, path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
        /* No current segment (a crash between a rotation's rename and the next create): the
         * rotated ones still hold the last seq, which must never be handed out again. */
        if (errno != ENOENT) {
            r = -errno;
            goto out;
        }
        u->size = 0;
        goto last_rotated;
    }
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto out;
    }
    u->size = (uint64_t)st.st_size;
    if (u->size > 0) {
        /* The tail: a crash may have left a torn line, or a page of zeroes (JRN-1, CRASH-2). */
        r = find_good_line(sc, fd, 0, u->size, true, &off, &end, &rt, &seq);
        if (r < 0)
            goto out;
        if (r == 0) {
            /* Not one good line: keep the bytes for inspection, out of the reader's way. */
            struct segment g = {.first_realtime = now_realtime(), .size = u->size, .broken = true};

            close(fd);
            fd = -1;
            r = rename_current(s, u, &g);
            if (r < 0)
                goto out;
            r = unit_add_segment(u, &g);
            if (r < 0)
                goto out;
            s->total_use += u->size;
            s->repair.files_set_aside++;
            u->size = 0;
            goto last_rotated;
        }
        if (end < u->size) {
            if (ftruncate(fd, (off_t)end) < 0) {
                r = -errno;
                goto out;
            }
            s->repair.files_truncated++;
            s->repair.bytes_truncated += u->size - end;
            u->size = end;
        }
        if (seq > *max_seq)
            *max_seq = seq;
        r = find_good_line(sc, fd, 0, u->size, false, &off, &end, &rt, &seq);
        if (r < 0)
            goto out;
        u->first_seq = seq;
        u->first_realtime = rt;
    }
    s->total_use += u->size;
    unit_adopt_fd(s, u, fd);
    fd = -1;

last_rotated:
    /* An empty (or missing, or set aside) current segment: the newest good rotated one holds
     * the unit's last seq. */
    if (u->size == 0) {
        for (size_t i = u->n_segs; i-- > 0;) {
            char sname[SEGMENT_NAME_LEN];

            if (u->segs[i].broken)
                continue;
            segment_name(sname, sizeof(sname), &u->segs[i]);
            unit_path(path, name, sname);
            fd = openat(s->dfd, path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                r = errno == ENOENT ? 0 : -errno;
                goto out;
            }
            r = find_good_line(sc, fd, 0, u->segs[i].size, true, &off, &end, &rt, &seq);
            if (r < 0)
                goto out;
            if (r > 0 && seq > *max_seq)
                *max_seq = seq;
            break;
        }
    }
    r = 0;
out:
    if (fd >= 0)
        close(fd);
    free(segs);
    return r;
}

int journal_store_open(const char *dir, const struct journal_limits *limits,
                       struct journal_store **ret)
{
    struct journal_store *s = NULL;
    struct scan sc = {0};
    uint64_t max_seq = 0;
    DIR *d = NULL;
    int r, fd;

    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->dfd = -1;
    if (limits)
        s->limits = *limits;
    if (s->limits.max_file_size == 0)
        s->limits.max_file_size = DEFAULT_MAX_FILE_SIZE;
    if (s->limits.max_unit_use == 0)
        s->limits.max_unit_use = DEFAULT_MAX_UNIT_USE;
    if (s->limits.max_total_use == 0)
        s->limits.max_total_use = DEFAULT_MAX_TOTAL_USE;
    s->table_cap = 64;
    s->table = calloc(s->table_cap, sizeof(*s->table));
    if (!s->table) {
        r = -ENOMEM;
        goto fail;
    }
    r = mkdir_p(dir, DIR_MODE);
    if (r < 0)
        goto fail;
    s->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dfd < 0) {
        r = -errno;
        goto fail;
    }
    fd = fcntl(s->dfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        r = -errno;
        goto fail;
    }
    d = fdopendir(fd);
    if (!d) {
        r = -errno;
        close(fd);
        goto fail;
    }
    for (;;) {
        struct dirent *de;
        struct stat st;

        errno = 0;
        de = readdir(d);
        if (!de) {
            r = -errno;
            if (r < 0)
                goto fail;
            break;
        }
        if (!journal_unit_name_is_valid(de->d_name))
            continue;
        if (fstatat(s->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            continue;
        r = store_load_unit(s, &sc, de->d_name, &max_seq);
        if (r < 0)
            goto fail;
    }
    s->next_seq = max_seq + 1;
    for (size_t i = 0; i < s->table_cap; i++)
        if (s->table[i])
            store_enforce_unit_cap(s, s->table[i]);
    store_enforce_total_cap(s);
    closedir(d);
    scan_done(&sc);
    *ret = s;
    return 0;
fail:
    if (d)
        closedir(d);
    scan_done(&sc);
    journal_store_free(s);
    return r;
}

static int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, buf, n);

        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (k == 0)
            return -EIO;
        buf += k;
        n -= (size_t)k;
    }
    return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t ncap = *cap ? *cap : 64;
    void *q;

    if (need <= *cap)
        return 0;
    while (ncap < need)
        ncap *= 2;
    q = realloc(*p, ncap * elem);
    if (!q)
        return -ENOMEM;
    *p = q;
    *cap = ncap;
    return 0;
}

/* Formats u's records of this batch into s->buf; returns the length or a negative errno. */
static ssize_t format_unit_batch(struct journal_store *s, struct store_unit *u,
                                 const struct journal_record *recs)
{
    size_t need = 0;

    for (size_t i = u->chain_head; i != SIZE_MAX; i = s->chain[i])
        need += journal_record_format_bound(&recs[i]);
    if (s->buf_cap < need) {
        void *p = s->buf;
        int k = grow(&p, &s->buf_cap, need, 1);

        if (k < 0)
            return k;
        s->buf = p;
    }
    return (ssize_t)journal_records_format(recs, u->chain_head, s->chain, s->next_seq, s->buf);
}

/* Undoes the writes of a failed batch, so the files end where they ended before it. */
static void store_rollback(struct journal_store *s, size_t n_touched)
{
    for (size_t t = 0; t < n_touched; t++) {
        struct store_unit *u = s->touched[t];
        int fd;

        u->touched = false;
        if (!u->written)
            continue;
        u->written = false;
        fd = unit_fd(s, u);
        /* Nothing better to do if this fails too: the reader skips what does not check out. */
        if (fd >= 0)
            (void)ftruncate(fd, (off_t)u->old_size);
        u->size = u->old_size;
    }
}

int journal_store_append(struct journal_store *s, struct journal_record *recs, size_t n)
{
    struct store_unit *prev = NULL;
    size_t n_touched = 0;
    uint64_t added = 0;
    int r;

    if (n == 0)
        return 0;
    r = journal_records_validate(recs, n);
    if (r < 0)
        return r;
    if (s->next_seq > UINT64_MAX - n)
        return -EOVERFLOW;
    {
        void *p = s->chain;

        r = grow(&p, &s->chain_cap, n, sizeof(*s->chain));
        s->chain = p;
        if (r < 0)
            return r;
    }

    /* Chain each unit's records, in batch order. */
    for (size_t i = 0; i < n; i++) {
        struct store_unit *u = prev;

        /* Runs of records from one stream share the unit string: look it up once per run. */
        if (i == 0 || recs[i].unit != recs[i - 1].unit) {
            r = unit_get(s, recs[i].unit, &u);
            if (r < 0)
                goto fail;
            prev = u;
        }
        s->chain[i] = SIZE_MAX;
        if (u->touched) {
            s->chain[u->chain_tail] = i;
        } else {
            void *p = s->touched;

            r = grow(&p, &s->touched_cap, n_touched + 1, sizeof(*s->touched));
            s->touched = p;
            if (r < 0)
                goto fail;
            u->touched = true;
            u->written = false;
            u->chain_head = i;
            s->touched[n_touched++] = u;
        }
        u->chain_tail = i;
    }

    /* One write per unit. */
    for (size_t t = 0; t < n_touched; t++) {
        struct store_unit *u = s->touched[t];
        ssize_t len = format_unit_batch(s, u, recs);
        int fd;

        if (len < 0) {
            r = (int)len;
            goto fail;
        }
        if (u->size > 0 && u->size + (uint64_t)len > s->limits.max_file_size) {
            r = unit_rotate(s, u);
            if (r < 0)
                goto fail;
        }
        fd = unit_fd(s, u);
        if (fd < 0) {
            r = fd;
            goto fail;
        }
        u->old_size = u->size;
        u->written = true;
        r = write_all(fd, s->buf, (size_t)len);
        if (r < 0)
            goto fail; /* the rollback cuts the partial write off this file too */
        if (u->size == 0) {
            u->first_seq = s->next_seq + u->chain_head;
            u->first_realtime = recs[u->chain_head].realtime_usec;
        }
        u->size += (uint64_t)len;
        added += (uint64_t)len;
    }

    for (size_t i = 0; i < n; i++)
        recs[i].seq = s->next_seq + i;
    s->next_seq += n;
    s->total_use += added;
    for (size_t t = 0; t < n_touched; t++) {
        struct store_unit *u = s->touched[t];

        u->touched = u->written = false;
        store_enforce_unit_cap(s, u);
    }
    store_enforce_total_cap(s);
    return 0;
fail:
    store_rollback(s, n_touched);
    return r;
}

void journal_store_get_repair(const struct journal_store *s, struct journal_repair *ret)
{
    *ret = s->repair;
}

uint64_t journal_store_last_seq(const struct journal_store *s)
{
    return s->next_seq - 1;
}

int journal_store_sync(struct journal_store *s)
{
    int r = 0;

    for (struct store_unit *u = s->lru_head; u; u = u->lru_next)
        if (fdatasync(u->fd) < 0 && r == 0)
            r = -errno;
    return r;
}

struct journal_store *journal_store_free(struct journal_store *s)
{
    if (!s)
        return NULL;
    for (size_t i = 0; s->table && i < s->table_cap; i++)
        store_unit_free(s->table[i]);
    free(s->table);
    if (s->dfd >= 0)
        close(s->dfd);
    free(s->buf);
    free(s->chain);
    free(s->touched);
    free(s);
    return NULL;
}

/* ---- the reader ---- */

/* A segment to read. The current one comes last; its first record is read from the file (and
 * only when a query needs it), the others' from their names. */
struct rseg {
    char name[SEGMENT_NAME_LEN];
    uint64_t first_seq, first_realtime;
    bool first_known;
    int fd; /* opened early for the current segment or the one we bisect, else -1 */
    uint64_t size;
};

/* One unit's records in file order (forward) or reverse file order (backward). The head is the
 * next record to hand to the merge: a checked line in sc's buffer, valid until the next step. */
struct cursor {
    char *unit;
    struct rseg *segs;
    size_t n_segs;
    size_t start_seg; /* segments before it hold nothing the query wants */
    uint64_t start_off;
    size_t next; /* forward: the next segment to open; backward: one past it */
    bool open;
    bool in_current; /* the open segment is current.journal: its end may be mid-write */
    int fd;
    struct scan sc;
    const char *line;
    size_t len;
    uint64_t rt, seq;
};

struct collected {
    size_t off, len;
};

struct journal_reader {
    const struct journal_query *q;
    int dfd;
    int min_prio, max_prio;
    bool backward;
    bool collect;   /* lines = N in file order: collect backwards, then replay */
    bool merged;    /* the merge is over; what is left is the replay of the collected lines */
    size_t emitted; /* records that matched so far (for lines = N) */
    size_t replay;  /* collected lines not yet replayed */
    int failed;     /* a read error ends the reader for good */
    struct cursor *cur;
    size_t n_cur;
    struct cursor **heap;
    size_t heap_n;
    char *scratch;
    size_t scratch_cap;
    size_t skipped;
    /* lines = N in file order: the newest N lines, newest first, replayed backwards */
    char *arena;
    size_t arena_len, arena_cap;
    struct collected *coll;
    size_t n_coll, coll_cap;
};

static void cursor_done(struct cursor *c)
{
    for (size_t i = 0; i < c->n_segs; i++)
        if (c->segs[i].fd >= 0)
            close(c->segs[i].fd);
    if (c->open && c->fd >= 0)
        close(c->fd);
    free(c->segs);
    free(c->unit);
    scan_done(&c->sc);
}

/* The first good line starting in [from, hi) of a file of `size` bytes: 1 and its offset, end
 * and keys, or 0 when there is none. Starts reading at from - 1, so it knows whether `from`
 * begins a line. */
static int probe(struct scan *sc, int fd, uint64_t from, uint64_t hi, uint64_t size,
                 uint64_t *ret_off, uint64_t *ret_end, uint64_t *ret_rt, uint64_t *ret_seq)
{
    bool partial = from > 0;

    scan_reset(sc, fd, from > 0 ? from - 1 : 0, size, false);
    sc->chunk = 4096; /* a probe wants a line or two */
    for (;;) {
        const char *line;
        size_t len;
        uint64_t off;
        int r = scan_next(sc, &line, &len, &off);

        if (r <= 0)
            return r;
        if (partial) {
            partial = false;
            continue;
        }
        if (off >= hi)
            return 0;
        if (r == SCAN_LINE && line_is_good(line, len, ret_rt, ret_seq)) {
            *ret_off = off;
            *ret_end = off + len;
            return 1;
        }
    }
}

/* A line start at or before the first line whose key (realtime or seq) is >= target, assuming
 * keys grow through the file. Seqs always do; realtime does unless the clock stepped back, and
 * then the answer is approximate (docs/journal-format.md, "Reading"). The caller scans forward
 * from the result and filters every record, so nothing after it is lost. */
static int bisect(struct scan *sc, int fd, uint64_t size, bool by_seq, uint64_t target,
                  uint64_t *ret)
{
    uint64_t lo = 0, hi = size;

    while (hi - lo > BISECT_MIN) {
        uint64_t mid = lo + (hi - lo) / 2, off, end, rt, seq;
        int r = probe(sc, fd, mid, hi, size, &off, &end, &rt, &seq);

        if (r < 0)
            return r;
        if (r == 0)
            hi = mid;
        else if ((by_seq ? seq : rt) < target)
            lo = end;
        else
            hi = off;
    }
    *ret = lo;
    return 0;
}

static int rseg_open(struct journal_reader *rd, const char *unit, struct rseg *g)
{
    char path[PATH_LEN];
    struct stat st;
    int fd;

    if (g->fd >= 0)
        return 1;
    unit_path(path, unit, g->name);
    fd = openat(rd->dfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) /* retired by the store meanwhile */
        return errno == ENOENT ? 0 : -errno;
    if (fstat(fd, &st) < 0) {
        int r = -errno;

        close(fd);
        return r;
    }
    g->fd = fd;
    g->size = (uint64_t)st.st_size;
    return 1;
}

/* Lists the unit's segments and finds where the query starts: the last segment that can hold
 * nothing wanted is skipped by name, and the first wanted one is bisected. */
static int cursor_init(struct journal_reader *rd, struct cursor *c, const char *unit)
{
    const struct journal_query *q = rd->q;
    struct segment *segs = NULL;
    size_t n = 0, start = 0;
    struct rseg *cur;
    int r;

    c->fd = -1;
    c->unit = strdup(unit);
    if (!c->unit)
        return -ENOMEM;
    r = list_segments(rd->dfd, unit, &segs, &n);
    if (r == -ENOENT || r == -ENOTDIR)
        return 0; /* a unit asked for that never logged */
    if (r < 0)
        return r;
    c->segs = calloc(n + 1, sizeof(*c->segs));
    if (!c->segs) {
        free(segs);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        struct rseg *g;

        if (segs[i].broken)
            continue;
        g = &c->segs[c->n_segs++];
        segment_name(g->name, sizeof(g->name), &segs[i]);
        g->first_seq = segs[i].first_seq;
        g->first_realtime = segs[i].first_realtime;
        g->first_known = true;
        g->fd = -1;
    }
    free(segs);

    cur = &c->segs[c->n_segs];
    memcpy(cur->name, CURRENT_NAME, sizeof(CURRENT_NAME));
    cur->fd = -1;
    r = rseg_open(rd, unit, cur);
    if (r < 0)
        return r;
    if (r > 0 && cur->size > 0) {
        c->n_segs++;
        if (q->since_usec > 0 || q->after_seq > 0) {
            uint64_t off, end;

            r = probe(&c->sc, cur->fd, 0, cur->size, cur->size, &off, &end, &cur->first_realtime,
                      &cur->first_seq);
            if (r < 0)
                return r;
            cur->first_known = r > 0;
        }
    } else if (r > 0) {
        close(cur->fd);
        cur->fd = -1;
    }

    /* Segment i holds only seqs below segment i+1's first, and (clock permitting) realtimes up to
     * segment i+1's first realtime: start at the last segment that begins early enough. */
    if (q->after_seq == UINT64_MAX) {
        start = c->n_segs;
    } else if (q->after_seq > 0) {
        for (size_t i = c->n_segs; i-- > 1;) {
            if (c->segs[i].first_known && c->segs[i].first_seq <= q->after_seq + 1) {
                start = i;
                break;
            }
        }
    }
    if (q->since_usec > 0) {
        for (size_t i = c->n_segs; i-- > 1;) {
            if (c->segs[i].first_known && c->segs[i].first_realtime < q->since_usec) {
                if (i > start)
                    start = i;
                break;
            }
        }
    }
    c->start_seg = start;
    if (start < c->n_segs && (q->since_usec > 0 || q->after_seq > 0)) {
        struct rseg *g = &c->segs[start];
        uint64_t a = 0, b = 0;

        r = rseg_open(rd, unit, g);
        if (r < 0)
            return r;
        if (r > 0 && q->since_usec > 0) {
            r = bisect(&c->sc, g->fd, g->size, false, q->since_usec, &a);
            if (r < 0)
                return r;
        }
        if (g->fd >= 0 && q->after_seq > 0) {
            r = bisect(&c->sc, g->fd, g->size, true, q->after_seq + 1, &b);
            if (r < 0)
                return r;
        }
        c->start_off = a > b ? a : b;
    }
    c->next = rd->backward ? c->n_segs : start;
    return 0;
}

/* Parses a checked line into rd->scratch: 0, or -EBADMSG (counted in skipped), or -ENOMEM. */
static int reader_parse(struct journal_reader *rd, const char *line, size_t len,
                        struct journal_record *rec)
{
    if (rd->scratch_cap < len + 1) {
        void *p = rd->scratch;
        int r = grow(&p, &rd->scratch_cap, len + 1, 1);

        rd->scratch = p;
        if (r < 0)
            return r;
    }
    if (journal_line_parse(line, len, rd->scratch, rec, false) < 0) {
        rd->skipped++;
        return -EBADMSG;
    }
    return 0;
}

/* For a checked line the query does not want: counts it in skipped when its grammar is bad.
 * 0, or -ENOMEM. */
static int reader_check(struct journal_reader *rd, const char *line, size_t len)
{
    struct journal_record rec;
    int r = reader_parse(rd, line, len, &rec);

    return r == -EBADMSG ? 0 : r;
}

/* Moves c's head to the next wanted line: 1, or 0 when c has no more, or a negative errno. */
static int cursor_advance(struct journal_reader *rd, struct cursor *c)
{
    const struct journal_query *q = rd->q;

    for (;;) {
        const char *line;
        size_t len;
        uint64_t off, rt, seq;
        int r;

        if (!c->open) {
            struct rseg *g;
            size_t i;

            if (rd->backward) {
                if (c->next <= c->start_seg)
                    return 0;
                i = --c->next;
            } else {
                if (c->next >= c->n_segs)
                    return 0;
                i = c->next++;
            }
            g = &c->segs[i];
            r = rseg_open(rd, c->unit, g);
            if (r < 0)
                return r;
            if (r == 0)
                continue;
            c->fd = g->fd;
            g->fd = -1;
            c->open = true;
            c->in_current = strcmp(g->name, CURRENT_NAME) == 0;
            scan_reset(&c->sc, c->fd, i == c->start_seg ? c->start_off : 0, g->size, rd->backward);
            if (c->sc.lo > c->sc.hi)
                c->sc.lo = c->sc.hi;
        }
        r = scan_line(&c->sc, &line, &len, &off);
        if (r < 0)
            return r;
        if (r == SCAN_END) {
            close(c->fd);
            c->fd = -1;
            c->open = false;
            continue;
        }
        /* The unterminated end of current.journal is a line being written (a live journal),
         * or a torn tail that the next open cuts: not damage. */
        if (r == SCAN_LINE && c->in_current && len > 0 && line[len - 1] != '\n')
            continue;
        if (r == SCAN_OVERLONG || !line_is_good(line, len, &rt, &seq)) {
            rd->skipped++;
            continue;
        }
        if (seq <= q->after_seq || rt < q->since_usec ||
            (q->until_usec > 0 && rt > q->until_usec) || (q->until_seq > 0 && seq > q->until_seq)) {
            /* Not wanted, but its grammar is still checked, so that a damaged line is counted
             * whatever the query: the lines handed out are checked in reader_take(). */
            r = reader_check(rd, line, len - 1);
            if (r < 0)
                return r;
            continue;
        }
        c->line = line;
        c->len = len - 1;
        c->rt = rt;
        c->seq = seq;
        return 1;
    }
}

static bool head_before(const struct journal_reader *rd, const struct cursor *a,
                        const struct cursor *b)
{
    if (a->rt != b->rt)
        return rd->backward ? a->rt > b->rt : a->rt < b->rt;
    return rd->backward ? a->seq > b->seq : a->seq < b->seq;
}

static void heap_down(struct journal_reader *rd, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        struct cursor *t;

        if (l < rd->heap_n && head_before(rd, rd->heap[l], rd->heap[best]))
            best = l;
        if (r < rd->heap_n && head_before(rd, rd->heap[r], rd->heap[best]))
            best = r;
        if (best == i)
            return;
        t = rd->heap[i];
        rd->heap[i] = rd->heap[best];
        rd->heap[best] = t;
        i = best;
    }
}

/* Parses a checked line into rd->scratch and applies the filters that need the whole record:
 * 1 when it matches, 0 when not (or when it does not parse: counted), or -ENOMEM. */
static int reader_take(struct journal_reader *rd, const char *line, size_t len,
                       struct journal_record *rec)
{
    const struct journal_query *q = rd->q;
    int r = reader_parse(rd, line, len, rec);

    if (r < 0)
        return r == -EBADMSG ? 0 : r;
    if (rec->priority < rd->min_prio || rec->priority > rd->max_prio)
        return 0;
    if (q->invocation && strcmp(q->invocation, rec->invocation) != 0)
        return 0;
    if (q->identifier && strcmp(q->identifier, rec->identifier) != 0)
        return 0;
    return 1;
}

static int reader_collect(struct journal_reader *rd, const char *line, size_t len)
{
    void *p = rd->arena;
    int r = grow(&p, &rd->arena_cap, rd->arena_len + len, 1);

    rd->arena = p;
    if (r < 0)
        return r;
    p = rd->coll;
    r = grow(&p, &rd->coll_cap, rd->n_coll + 1, sizeof(*rd->coll));
    rd->coll = p;
    if (r < 0)
        return r;
    memcpy(rd->arena + rd->arena_len, line, len);
    rd->coll[rd->n_coll++] = (struct collected){rd->arena_len, len};
    rd->arena_len += len;
    return 0;
}

static int reader_add_unit(struct journal_reader *rd, const char *name)
{
    for (size_t i = 0; i < rd->n_cur; i++)
        if (strcmp(rd->cur[i].unit, name) == 0)
            return 0;
    if (rd->n_cur % 16 == 0) {
        struct cursor *p = realloc(rd->cur, (rd->n_cur + 16) * sizeof(*p));

        if (!p)
            return -ENOMEM;
        rd->cur = p;
    }
    memset(&rd->cur[rd->n_cur], 0, sizeof(*rd->cur));
    rd->n_cur++;
    return cursor_init(rd, &rd->cur[rd->n_cur - 1], name);
}

static int reader_add_all_units(struct journal_reader *rd)
{
    DIR *d;
    int fd, r = 0;

    fd = fcntl(rd->dfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    d = fdopendir(fd);
    if (!d) {
        r = -errno;
        close(fd);
        return r;
    }
    for (;;) {
        struct dirent *de;
        struct stat st;

        errno = 0;
        de = readdir(d);
        if (!de) {
            r = -errno;
            break;
        }
        if (!journal_unit_name_is_valid(de->d_name))
            continue;
        if (fstatat(rd->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            continue;
        r = reader_add_unit(rd, de->d_name);
        if (r < 0)
            break;
    }
    closedir(d);
    return r;
}

void journal_reader_free(struct journal_reader *rd)
{
    if (!rd)
        return;
    for (size_t i = 0; i < rd->n_cur; i++)
        cursor_done(&rd->cur[i]);
    free(rd->cur);
    free(rd->heap);
    free(rd->scratch);
    free(rd->arena);
    free(rd->coll);
    if (rd->dfd >= 0)
        close(rd->dfd);
    free(rd);
}

int journal_reader_open(const char *dir, const struct journal_query *q, struct journal_reader **ret)
{
    static const struct journal_query all = {.max_priority = -1};
    struct journal_reader *rd;
    int r;

    if (!q)
        q = &all;
    if (q->units)
        for (const char *const *u = q->units; *u; u++)
            if (!journal_unit_name_is_valid(*u))
                return -EINVAL;
    rd = calloc(1, sizeof(*rd));
    if (!rd)
        return -ENOMEM;
    rd->dfd = -1;
    rd->q = q;
    rd->min_prio = q->min_priority < 0 ? 0 : q->min_priority;
    rd->max_prio =
        q->max_priority < 0 || (q->max_priority == 0 && q->min_priority == 0) ? 7 : q->max_priority;
    /* The newest N come from reading backwards; in file order they are then replayed. */
    rd->backward = q->reverse || q->lines > 0;
    rd->collect = q->lines > 0 && !q->reverse;

    rd->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rd->dfd < 0) {
        r = -errno;
        goto fail;
    }
    if (q->units) {
        r = 0;
        for (const char *const *u = q->units; *u && r >= 0; u++)
            r = reader_add_unit(rd, *u);
    } else {
        r = reader_add_all_units(rd);
    }
    if (r < 0)
        goto fail;

    rd->heap = calloc(rd->n_cur + 1, sizeof(*rd->heap));
    if (!rd->heap) {
        r = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < rd->n_cur; i++) {
        r = cursor_advance(rd, &rd->cur[i]);
        if (r < 0)
            goto fail;
        if (r > 0)
            rd->heap[rd->heap_n++] = &rd->cur[i];
    }
    for (size_t i = rd->heap_n / 2; i-- > 0;)
        heap_down(rd, i);
    *ret = rd;
    return 0;
fail:
    journal_reader_free(rd);
    return r;
}

int journal_reader_next(struct journal_reader *rd, journal_record_cb cb, void *userdata, size_t max,
                        bool *ret_more)
{
    const struct journal_query *q = rd->q;
    struct journal_record rec;
    size_t done = 0; /* records looked at in this call, matching or not */
    int r = 0;

    *ret_more = true;
    if (rd->failed)
        return rd->failed;
    while (!rd->merged && done < max) {
        struct cursor *c;
        int k;

        if (rd->heap_n == 0 || (q->lines > 0 && rd->emitted >= q->lines)) {
            rd->merged = true;
            rd->replay = rd->n_coll;
            break;
        }
        c = rd->heap[0];
        k = reader_take(rd, c->line, c->len, &rec);
        if (k < 0)
            goto fail_k;
        done++;
        if (k > 0) {
            rd->emitted++;
            if (rd->collect) {
                k = reader_collect(rd, c->line, c->len);
                if (k < 0)
                    goto fail_k;
            } else {
                r = cb(&rec, userdata);
            }
        }
        /* The head is consumed even when the callback stops us: the next call goes on after it. */
        k = cursor_advance(rd, c);
        if (k < 0)
            goto fail_k;
        if (k == 0)
            rd->heap[0] = rd->heap[--rd->heap_n];
        heap_down(rd, 0);
        if (r != 0)
            return r;
        continue;
    fail_k:
        rd->failed = k;
        return k;
    }
    while (rd->merged && rd->replay > 0 && done < max) {
        rd->replay--;
        if (reader_take(rd, rd->arena + rd->coll[rd->replay].off, rd->coll[rd->replay].len, &rec) >
            0) {
            done++;
            r = cb(&rec, userdata);
            if (r != 0)
                return r;
        }
    }
    *ret_more = !rd->merged || rd->replay > 0;
    return 0;
}

size_t journal_reader_skipped(const struct journal_reader *rd)
{
    return rd->skipped;
}

int journal_read(const char *dir, const struct journal_query *q, journal_record_cb cb,
                 void *userdata, size_t *ret_skipped)
{
    struct journal_reader *rd;
    bool more;
    int r = journal_reader_open(dir, q, &rd);

    if (r < 0)
        return r;
    r = journal_reader_next(rd, cb, userdata, SIZE_MAX, &more);
    if (ret_skipped && r >= 0)
        *ret_skipped = rd->skipped;
    journal_reader_free(rd);
    return r;
}
