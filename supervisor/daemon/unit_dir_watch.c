/* The unit directory's change counter: see unit_dir_watch.h. */
#include "unit_dir_watch.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "paths.h"

struct dir_handle {
    uv_fs_event_t event;
    struct unit_dir_watch *w;
    char *path;
    struct dir_handle *next;
};

struct unit_dir_watch {
    uv_loop_t *loop;
    char *dir;
    const char *dir_base;       /* the directory's own name, as libuv reports events on itself */
    struct dir_handle *handles; /* the directory first, then its drop-in directories */
    uint64_t generation;
    bool broken; /* some watch failed or was lost: answer 0 until the next rescan */
};

static void on_handle_closed(uv_handle_t *h)
{
    struct dir_handle *d = h->data;

    free(d->path);
    free(d);
}

static bool is_dropin_dir_name(const char *name)
{
    size_t len = name ? strlen(name) : 0;

    return len > 2 && strcmp(name + len - 2, ".d") == 0;
}

static bool is_directory(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void watch_dir(struct unit_dir_watch *w, const char *path);

/* A drop-in directory that appeared is watched from now on; one that went is let go. */
static void dropin_dir_changed(struct unit_dir_watch *w, const char *name)
{
    char *path = path_join(w->dir, name);
    struct dir_handle **p;

    if (!path) {
        w->broken = true;
        return;
    }
    for (p = &w->handles; *p; p = &(*p)->next)
        if (strcmp((*p)->path, path) == 0)
            break;
    if (is_directory(path)) {
        if (!*p)
            watch_dir(w, path);
    } else if (*p && *p != w->handles) {
        struct dir_handle *gone = *p;
        *p = gone->next;
        uv_close((uv_handle_t *)&gone->event, on_handle_closed);
    }
    free(path);
}

static void on_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    struct dir_handle *d = h->data;
    struct unit_dir_watch *w = d->w;

    w->generation++;
    if (status < 0) {
        w->broken = true;
        return;
    }
    if (d != w->handles || !(events & UV_RENAME) || !filename)
        return;
    /* An event named as the directory is about the directory itself (no unit file or drop-in
     * directory has such a name): deleted or moved, its watch is dead, and nothing more would
     * be heard until a daemon-reload sets it up again. */
    if (strcmp(filename, w->dir_base) == 0) {
        w->broken = true;
        return;
    }
    if (is_dropin_dir_name(filename))
        dropin_dir_changed(w, filename);
}

static void watch_dir(struct unit_dir_watch *w, const char *path)
{
    struct dir_handle *d = calloc(1, sizeof(*d)), **tail;

    if (!d || !(d->path = strdup(path))) {
        free(d);
        w->broken = true;
        return;
    }
    d->w = w;
    if (uv_fs_event_init(w->loop, &d->event) < 0) {
        free(d->path);
        free(d);
        w->broken = true;
        return;
    }
    d->event.data = d;
    for (tail = &w->handles; *tail; tail = &(*tail)->next)
        ;
    *tail = d;
    if (uv_fs_event_start(&d->event, on_event, path, 0) < 0) {
        log_debug("Cannot watch %s for changes; status looks at the files each time.", path);
        w->broken = true;
    }
}

static void close_all(struct unit_dir_watch *w)
{
    while (w->handles) {
        struct dir_handle *d = w->handles;
        w->handles = d->next;
        uv_close((uv_handle_t *)&d->event, on_handle_closed);
    }
}

void unit_dir_watch_rescan(struct unit_dir_watch *w)
{
    DIR *dir;

    if (!w)
        return;
    close_all(w);
    w->broken = false;
    w->generation++;
    watch_dir(w, w->dir);
    dir = opendir(w->dir);
    if (!dir) {
        w->broken = true;
        return;
    }
    for (struct dirent *de; (de = readdir(dir));) {
        char *path;
        if (!is_dropin_dir_name(de->d_name))
            continue;
        path = path_join(w->dir, de->d_name);
        if (!path)
            w->broken = true;
        else if (is_directory(path))
            watch_dir(w, path);
        free(path);
    }
    closedir(dir);
}

struct unit_dir_watch *unit_dir_watch_new(uv_loop_t *loop, const char *dir)
{
    struct unit_dir_watch *w = calloc(1, sizeof(*w));
    const char *slash;

    if (!w || !(w->dir = strdup(dir))) {
        free(w);
        return NULL;
    }
    /* "units/" reports events on itself as "units". */
    while (strlen(w->dir) > 1 && w->dir[strlen(w->dir) - 1] == '/')
        w->dir[strlen(w->dir) - 1] = '\0';
    slash = strrchr(w->dir, '/');
    w->dir_base = slash ? slash + 1 : w->dir;
    w->loop = loop;
    unit_dir_watch_rescan(w);
    return w;
}

uint64_t unit_dir_watch_generation(const struct unit_dir_watch *w)
{
    return w && !w->broken ? w->generation : 0;
}

void unit_dir_watch_free(struct unit_dir_watch *w)
{
    if (!w)
        return;
    close_all(w);
    free(w->dir);
    free(w);
}
