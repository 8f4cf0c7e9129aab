/* faultshim: an LD_PRELOAD library that makes a disk look full at awkward moments, for DISK-3
 * (RELIABILITY.md 2.6, tests/e2e/test_faults.c), or stall, for DISK-4. It fails with ENOSPC every
 * Nth operation of each kind on files under one directory, and passes everything else through to
 * libc (dlsym(RTLD_NEXT)):
 *
 *   open    open/openat (and their 64 and fortified variants) that create or open for writing
 *   write   write, pwrite, writev; a write of more than one byte first writes half of it and
 *           returns the short count, and the next write to that fd fails (what a filling disk
 *           does), so the caller's retry and rollback are exercised too
 *   sync    fsync, fdatasync
 *
 * Environment:
 *   MINISUP_FAULT_DIR    the directory (required; nothing is failed without it)
 *   MINISUP_FAULT_EVERY  N: fail the Nth, 2Nth, ... operation of each kind (default 3)
 *   MINISUP_FAULT_LIMIT  stop failing after this many failures in all (default 0: never stop)
 *   MINISUP_FAULT_STATS  a file replaced after each failure with
 *                        "open O write W sync S total T\n" (the failures so far)
 *   MINISUP_FAULT_STALL  a path: while a file of that name exists, every write and sync of a
 *                        file under the directory blocks (a disk that stalls without failing,
 *                        DISK-4); each write or sync that starts waiting adds one to the count
 *                        in the file MINISUP_FAULT_STALL.stalled, replaced each time
 *
 * Not for a sanitized program: an ASan executable insists that its runtime is loaded first. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum kind { K_OPEN, K_WRITE, K_SYNC, K_MAX };

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static char dir[PATH_MAX];
static size_t dir_len;
static unsigned long every = 3, limit;
static const char *stats_path, *stall_path;
static unsigned long stalled;
static unsigned long ops[K_MAX], failed[K_MAX], failed_total;
/* fds whose last write was cut short by a failure: their next write fails. */
#define PENDING_FDS 4096
static unsigned char pending[PENDING_FDS];

__attribute__((constructor)) static void shim_init(void)
{
    const char *d = getenv("MINISUP_FAULT_DIR"), *e = getenv("MINISUP_FAULT_EVERY"),
               *l = getenv("MINISUP_FAULT_LIMIT");

    if (e && *e)
        every = strtoul(e, NULL, 10);
    if (l && *l)
        limit = strtoul(l, NULL, 10);
    stats_path = getenv("MINISUP_FAULT_STATS");
    stall_path = getenv("MINISUP_FAULT_STALL");
    if (stall_path && !*stall_path)
        stall_path = NULL;
    /* The directory as the kernel names it in /proc/self/fd (symlinks resolved). */
    if (d && *d && realpath(d, dir))
        dir_len = strlen(dir);
    real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
    real_pwrite = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    real_writev = (ssize_t(*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "writev");
    real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    /* Last: ensure_init() takes it as the sign that all are set. */
    __atomic_store_n(&real_write, (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write"),
                     __ATOMIC_RELEASE);
}

/* A constructor of another preloaded library may call in before ours has run. */
static void ensure_init(void)
{
    if (!__atomic_load_n(&real_write, __ATOMIC_ACQUIRE))
        shim_init();
}

static bool under_dir(const char *path)
{
    return dir_len > 0 && strncmp(path, dir, dir_len) == 0 && path[dir_len] == '/';
}

static bool fd_path(int fd, char *buf, size_t size)
{
    char link[64];
    ssize_t n;

    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, buf, size - 1);
    if (n < 0)
        return false;
    buf[n] = '\0';
    return true;
}

static bool fd_under_dir(int fd)
{
    char path[PATH_MAX];

    return dir_len > 0 && fd >= 0 && fd_path(fd, path, sizeof(path)) && under_dir(path);
}

static bool at_under_dir(int dfd, const char *path)
{
    char base[PATH_MAX], full[2 * PATH_MAX];

    if (dir_len == 0 || !path)
        return false;
    if (path[0] == '/')
        return under_dir(path);
    if (dfd == AT_FDCWD) {
        if (!getcwd(base, sizeof(base)))
            return false;
    } else if (!fd_path(dfd, base, sizeof(base)))
        return false;
    snprintf(full, sizeof(full), "%s/%s", base, path);
    return under_dir(full);
}

/* Replaces the stats file (a new file renamed over it, so a reader never sees it half written). */
static void write_stats(void)
{
    char line[160], tmp[PATH_MAX + 8];
    int fd, n;

    if (!stats_path || !real_open || !real_write)
        return;
    snprintf(tmp, sizeof(tmp), "%s.tmp", stats_path);
    fd = real_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    n = snprintf(line, sizeof(line), "open %lu write %lu sync %lu total %lu\n", failed[K_OPEN],
                 failed[K_WRITE], failed[K_SYNC], failed_total);
    (void)!real_write(fd, line, (size_t)n);
    close(fd);
    (void)rename(tmp, stats_path);
}

/* Counts one operation of kind k on a file under the directory; true when it is to fail. */
static bool inject(enum kind k)
{
    unsigned long n = __atomic_add_fetch(&ops[k], 1, __ATOMIC_RELAXED);

    if (every == 0 || n % every != 0)
        return false;
    if (limit > 0 && __atomic_load_n(&failed_total, __ATOMIC_RELAXED) >= limit)
        return false;
    __atomic_add_fetch(&failed[k], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&failed_total, 1, __ATOMIC_RELAXED);
    write_stats();
    return true;
}

/* DISK-4: blocks while the stall file exists, polling it every 10 ms (a test helper: the time it
 * takes to notice the file is gone does not matter). Says that it waits in <stall file>.stalled,
 * so a test can wait for that instead of guessing. */
static void stall(void)
{
    struct timespec ts = {0, 10 * 1000 * 1000};
    char line[64], path[PATH_MAX + 16], tmp[PATH_MAX + 32];
    unsigned long n;
    int fd, k;

    if (!stall_path || access(stall_path, F_OK) < 0)
        return;
    n = __atomic_add_fetch(&stalled, 1, __ATOMIC_RELAXED);
    snprintf(path, sizeof(path), "%s.stalled", stall_path);
    snprintf(tmp, sizeof(tmp), "%s.%lu.tmp", path, n);
    fd = real_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        k = snprintf(line, sizeof(line), "%lu\n", n);
        (void)!real_write(fd, line, (size_t)k);
        close(fd);
        (void)rename(tmp, path);
    }
    while (access(stall_path, F_OK) == 0)
        nanosleep(&ts, NULL);
}

static bool open_writes(int flags)
{
    return (flags & O_CREAT) || (flags & O_ACCMODE) != O_RDONLY;
}

static bool open_needs_mode(int flags)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

static int do_openat(int dfd, const char *path, int flags, mode_t mode)
{
    ensure_init();
    if (open_writes(flags) && at_under_dir(dfd, path) && inject(K_OPEN)) {
        errno = ENOSPC;
        return -1;
    }
    return real_openat(dfd, path, flags, mode);
}

int open(const char *path, int flags, ...)
{
    mode_t mode = 0;

    if (open_needs_mode(flags)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return do_openat(AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;

    if (open_needs_mode(flags)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return do_openat(AT_FDCWD, path, flags, mode);
}

int openat(int dfd, const char *path, int flags, ...)
{
    mode_t mode = 0;

    if (open_needs_mode(flags)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return do_openat(dfd, path, flags, mode);
}

int openat64(int dfd, const char *path, int flags, ...)
{
    mode_t mode = 0;

    if (open_needs_mode(flags)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return do_openat(dfd, path, flags, mode);
}

/* _FORTIFY_SOURCE's checked variants (no mode: they are used only without O_CREAT). */
int __open_2(const char *path, int flags);
int __open_2(const char *path, int flags)
{
    return do_openat(AT_FDCWD, path, flags, 0);
}

int __open64_2(const char *path, int flags);
int __open64_2(const char *path, int flags)
{
    return do_openat(AT_FDCWD, path, flags, 0);
}

int __openat_2(int dfd, const char *path, int flags);
int __openat_2(int dfd, const char *path, int flags)
{
    return do_openat(dfd, path, flags, 0);
}

int __openat64_2(int dfd, const char *path, int flags);
int __openat64_2(int dfd, const char *path, int flags)
{
    return do_openat(dfd, path, flags, 0);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    ensure_init();
    if (n > 0 && fd_under_dir(fd)) {
        stall();
        if (fd < PENDING_FDS && pending[fd]) {
            pending[fd] = 0;
            errno = ENOSPC;
            return -1;
        }
        if (inject(K_WRITE)) {
            ssize_t k;

            if (n < 2 || fd >= PENDING_FDS) {
                errno = ENOSPC;
                return -1;
            }
            /* Half of it fits, then the disk is full. */
            k = real_write(fd, buf, n / 2);
            if (k > 0)
                pending[fd] = 1;
            else if (k == 0)
                errno = ENOSPC, k = -1;
            return k;
        }
    }
    return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    ensure_init();
    if (n > 0 && fd_under_dir(fd)) {
        stall();
        if (inject(K_WRITE)) {
            errno = ENOSPC;
            return -1;
        }
    }
    return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    return pwrite(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    ensure_init();
    if (iovcnt > 0 && fd_under_dir(fd)) {
        stall();
        if (inject(K_WRITE)) {
            errno = ENOSPC;
            return -1;
        }
    }
    return real_writev(fd, iov, iovcnt);
}

int fsync(int fd)
{
    ensure_init();
    if (fd_under_dir(fd)) {
        stall();
        if (inject(K_SYNC)) {
            errno = ENOSPC;
            return -1;
        }
    }
    return real_fsync(fd);
}

int fdatasync(int fd)
{
    ensure_init();
    if (fd_under_dir(fd)) {
        stall();
        if (inject(K_SYNC)) {
            errno = ENOSPC;
            return -1;
        }
    }
    return real_fdatasync(fd);
}
