/* The checks follow systemd.unit(5) and systemd's condition.c: paths follow symlinks except
 * for PathIsSymbolicLink=, DirectoryNotEmpty= ignores hidden and backup files, Host= globs
 * case-insensitively against the hostname or is the machine ID, User=/Group= describe the
 * manager (minisupd), not User= of the unit. */
#include "condition_check.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

extern char **environ;

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* systemd's hidden_or_backup_file(). */
static bool hidden_or_backup(const char *name)
{
    static const char *const suffixes[] = {
        "~",         ".rpmnew",    ".rpmsave",  ".rpmorig",     ".dpkg-old",    ".dpkg-new",
        ".dpkg-tmp", ".dpkg-dist", ".dpkg-bak", ".dpkg-backup", ".dpkg-remove", ".ucf-new",
        ".ucf-old",  ".ucf-dist",  ".swp",      ".bak",         ".old",         ".new",
    };

    if (name[0] == '.')
        return true;
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
        if (ends_with(name, suffixes[i]))
            return true;
    return false;
}

static bool directory_not_empty(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    bool found = false;

    if (!d)
        return false;
    while (!found && (de = readdir(d)))
        found = !hidden_or_backup(de->d_name);
    closedir(d);
    return found;
}

static bool is_mount_point(const char *path)
{
    struct stat a, b;
    char *parent;
    bool r;

    struct statx sx;

    if (statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &sx) == 0 &&
        (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
        return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    /* Older kernels: a mount point sits on another device than its parent, or is "/". */
    if (stat(path, &a) < 0 || asprintf(&parent, "%s/..", path) < 0)
        return false;
    r = stat(parent, &b) == 0 && (a.st_dev != b.st_dev || a.st_ino == b.st_ino);
    free(parent);
    return r;
}

static bool host_matches(const char *pattern)
{
    char host[256] = "", id[64] = "";
    FILE *f;

    if (gethostname(host, sizeof(host) - 1) == 0 && fnmatch(pattern, host, FNM_CASEFOLD) == 0)
        return true;
    f = fopen("/etc/machine-id", "re");
    if (!f)
        return false;
    if (!fgets(id, sizeof(id), f))
        id[0] = '\0';
    fclose(f);
    id[strcspn(id, "\n")] = '\0';
    return id[0] && strcasecmp(id, pattern) == 0;
}

/* A word of the kernel command line as it is, or as the left side of an assignment; an
 * assignment must match whole. */
static bool kernel_cmdline_has(const char *want)
{
    char buf[4096];
    size_t n;
    bool assignment = strchr(want, '=') != NULL, found = false;
    FILE *f = fopen("/proc/cmdline", "re");

    if (!f)
        return false;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (char *save = NULL, *w = strtok_r(buf, " \t\n", &save); w && !found;
         w = strtok_r(NULL, " \t\n", &save)) {
        size_t k = strlen(want);
        if (assignment)
            found = strcmp(w, want) == 0;
        else
            found = strcmp(w, want) == 0 || (strncmp(w, want, k) == 0 && w[k] == '=');
    }
    return found;
}

static bool environment_has(const char *want)
{
    bool assignment = strchr(want, '=') != NULL;
    size_t k = strlen(want);

    for (char **e = environ; e && *e; e++) {
        if (assignment ? strcmp(*e, want) == 0 : strncmp(*e, want, k) == 0 && (*e)[k] == '=')
            return true;
    }
    return false;
}

static bool parse_id(const char *s, unsigned long *ret)
{
    char *end;

    if (!*s || *s < '0' || *s > '9')
        return false;
    *ret = strtoul(s, &end, 10);
    return *end == '\0';
}

static bool user_matches(const char *want)
{
    unsigned long id;
    struct passwd *pw;

    if (strcmp(want, "@system") == 0)
        return getuid() <= 999 || geteuid() <= 999; /* SYSTEM_UID_MAX of Debian's login.defs */
    if (parse_id(want, &id))
        return id == getuid() || id == geteuid();
    pw = getpwnam(want);
    return pw && (pw->pw_uid == getuid() || pw->pw_uid == geteuid());
}

static bool group_matches(const char *want)
{
    unsigned long id;
    struct group *gr;
    gid_t groups[256];
    int n;

    if (parse_id(want, &id))
        ;
    else if ((gr = getgrnam(want)))
        id = gr->gr_gid;
    else
        return false;
    if (id == getgid() || id == getegid())
        return true;
    n = getgroups(256, groups);
    for (int i = 0; i < n; i++)
        if (groups[i] == id)
            return true;
    return false;
}

static bool test_plain(const struct condition *c)
{
    const char *p = c->parameter;
    struct stat st;
    glob_t g;
    bool r;

    switch (c->type) {
    case CONDITION_PATH_EXISTS:
        return access(p, F_OK) == 0;
    case CONDITION_PATH_EXISTS_GLOB:
        r = glob(p, GLOB_NOSORT | GLOB_BRACE, NULL, &g) == 0 && g.gl_pathc > 0;
        globfree(&g);
        return r;
    case CONDITION_PATH_IS_DIRECTORY:
        return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
    case CONDITION_PATH_IS_SYMBOLIC_LINK:
        return lstat(p, &st) == 0 && S_ISLNK(st.st_mode);
    case CONDITION_PATH_IS_MOUNT_POINT:
        return is_mount_point(p);
    case CONDITION_PATH_IS_READ_WRITE: {
        struct statvfs sv;
        return statvfs(p, &sv) == 0 && !(sv.f_flag & ST_RDONLY);
    }
    case CONDITION_DIRECTORY_NOT_EMPTY:
        return directory_not_empty(p);
    case CONDITION_FILE_NOT_EMPTY:
        return stat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
    case CONDITION_FILE_IS_EXECUTABLE:
        return stat(p, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
    case CONDITION_HOST:
        return host_matches(p);
    case CONDITION_KERNEL_COMMAND_LINE:
        return kernel_cmdline_has(p);
    case CONDITION_ENVIRONMENT:
        return environment_has(p);
    case CONDITION_USER:
        return user_matches(p);
    case CONDITION_GROUP:
        return group_matches(p);
    default:
        return false;
    }
}

int condition_test(const struct condition *c)
{
    return test_plain(c) != c->negate;
}

bool condition_list_test(const struct condition *v, size_t n, bool is_assert,
                         const struct condition **ret_failed)
{
    int triggered = -1; /* -1: no triggering condition seen */

    *ret_failed = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct condition *c = &v[i];
        int r;

        if (c->is_assert != is_assert)
            continue;
        r = condition_test(c);
        if (!c->trigger && r <= 0) {
            *ret_failed = c;
            return false;
        }
        if (c->trigger && triggered <= 0)
            triggered = r > 0;
    }
    return triggered != 0;
}
