/* Verification shares unit_file_load() with the daemon, so "verify passes" means "minisupd
 * loads it". Cross-file checks look for the service of a socket beside the socket file. */
#include "unit_verify.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"
#include "unit_file.h"
#include "values.h"

static void print_diags(const struct unit_diags *d, FILE *out)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct unit_diag *g = &d->items[i];
        if (g->line)
            fprintf(out, "%s:%u: %s\n", g->file, g->line, g->message);
        else
            fprintf(out, "%s: %s\n", g->file, g->message);
    }
}

/* The service a socket activates must exist next to it (as a file). */
static int check_socket_service(const char *path, const struct unit_config *c, FILE *out)
{
    char *dir, *svc;
    int r = 0;

    if (!c->socket_service)
        return 0;
    dir = strdup(path);
    if (!dir)
        return -ENOMEM;
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    svc = path_join(dir, c->socket_service);
    if (svc && access(svc, F_OK) < 0) {
        /* "x@inst.service" is served by the template "x@.service". */
        const char *at = strchr(c->socket_service, '@');
        const char *dot = strrchr(c->socket_service, '.');
        if (at && dot && dot > at) {
            char tmpl[512];
            snprintf(tmpl, sizeof(tmpl), "%.*s@%s", (int)(at - c->socket_service),
                     c->socket_service, dot);
            free(svc);
            svc = path_join(dir, tmpl);
        }
    }
    if (svc && access(svc, F_OK) < 0) {
        fprintf(out, "%s: Service %s not found for %s. Refusing.\n", path, c->socket_service,
                c->name);
        r = 1;
    }
    free(svc);
    free(dir);
    return r;
}

/* A masked unit (an empty file, a link to /dev/null) fails when it was named, as
 * systemd-analyze verify refuses one; in a directory it is what its owner asked for, and
 * daemon-reload does not count it as failed either. */
static int verify_files(char *const *paths, size_t n, const struct unit_load_context *ctx,
                        FILE *out, bool masked_fails)
{
    int failed = 0;

    for (size_t i = 0; i < n; i++) {
        struct unit_diags d = {0};
        struct unit_config *c = NULL;
        const char *base = strrchr(paths[i], '/');
        base = base ? base + 1 : paths[i];
        int r = unit_file_load(paths[i], base, ctx, &c, &d);
        /* unit_diags_done() empties d: whether the load said why is known before. */
        bool said = d.n > 0;

        print_diags(&d, out);
        unit_diags_done(&d);
        if (r < 0) {
            if (!said)
                fprintf(out, "%s: Failed to load: %s\n", paths[i], strerror(-r));
            if (r != -ERFKILL || masked_fails)
                failed++;
            continue;
        }
        if (c->kind == UNIT_KIND_SOCKET && check_socket_service(paths[i], c, out) > 0)
            failed++;
        unit_config_free(c);
    }
    return failed;
}

int unit_verify_files(char *const *paths, size_t n, const struct unit_load_context *ctx, FILE *out)
{
    return verify_files(paths, n, ctx, out, true);
}

int unit_verify_directory(const char *dir, const struct unit_load_context *ctx, FILE *out)
{
    struct dirent **list = NULL;
    char **paths = NULL;
    int n, r;

    n = scandir(dir, &list, NULL, alphasort);
    if (n < 0)
        return -errno;
    for (int i = 0; i < n; i++) {
        enum unit_kind kind;
        if (list[i]->d_name[0] != '.' && unit_name_kind(list[i]->d_name, &kind) >= 0)
            strv_push(&paths, path_join(dir, list[i]->d_name));
        free(list[i]);
    }
    free(list);
    r = verify_files(paths, strv_length(paths), ctx, out, false);
    strv_free(paths);
    return r;
}
