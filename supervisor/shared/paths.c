/* Default locations, following DESIGN.md "Paths": root uses /run and /var/log, a user instance
 * the XDG directories, and every one can be overridden from the environment. */
#include "paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

char *path_join(const char *a, const char *b)
{
    char *r;
    size_t la = strlen(a);

    while (la > 1 && a[la - 1] == '/')
        la--;
    if (asprintf(&r, "%.*s/%s", (int)la, a, b) < 0)
        return NULL;
    return r;
}

char *paths_default_runtime_dir(void)
{
    const char *v = env_nonempty("MINISUP_RUNTIME_DIR");
    char *r;

    if (v)
        return strdup(v);
    if (geteuid() == 0)
        return strdup("/run/minisup");
    v = env_nonempty("XDG_RUNTIME_DIR");
    if (v)
        return path_join(v, "minisup");
    if (asprintf(&r, "/tmp/minisup-%u", (unsigned)geteuid()) < 0)
        return NULL;
    return r;
}

char *paths_default_log_dir(void)
{
    const char *v = env_nonempty("MINISUP_LOG_DIR");
    char *r;

    if (v)
        return strdup(v);
    if (geteuid() == 0)
        return strdup("/var/log/minisup");
    v = env_nonempty("XDG_STATE_HOME");
    if (v)
        return path_join(v, "minisup");
    v = env_nonempty("HOME");
    if (asprintf(&r, "%s/.local/state/minisup", v ? v : "/tmp") < 0)
        return NULL;
    return r;
}

char *paths_default_state_dir(void)
{
    const char *v = env_nonempty("MINISUP_STATE_DIR");
    char *r;

    if (v)
        return strdup(v);
    if (geteuid() == 0)
        return strdup("/var/lib/minisup");
    v = env_nonempty("XDG_STATE_HOME");
    if (v)
        return path_join(v, "minisup/lib");
    v = env_nonempty("HOME");
    if (asprintf(&r, "%s/.local/state/minisup/lib", v ? v : "/tmp") < 0)
        return NULL;
    return r;
}

char *paths_control_socket(const char *option)
{
    const char *v;
    char *dir, *r;

    if (option && *option)
        return strdup(option);
    v = env_nonempty("MINISUP_SOCKET");
    if (v)
        return strdup(v);
    dir = paths_default_runtime_dir();
    if (!dir)
        return NULL;
    r = path_join(dir, MINISUP_SOCKET_NAME);
    free(dir);
    return r;
}

int mkdir_p(const char *path, unsigned mode)
{
    char *p = strdup(path);
    int r = 0;

    if (!p)
        return -ENOMEM;
    /* Walk the components so every missing parent is created too. */
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST) {
            r = -errno;
            break;
        }
        *s = saved;
        if (saved == '\0')
            break;
    }
    free(p);
    return r;
}
