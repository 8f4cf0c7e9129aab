/* The control server: the Varlink interface io.minisup.Manager on a Unix stream socket.
 * Connections, framing (through varlink.c), access control by SO_PEERCRED, dispatch to the
 * manager and journal, job replies, journal follow streams. Calls are answered in order. */
#ifndef MINISUP_CONTROL_H
#define MINISUP_CONTROL_H

#include <stdbool.h>
#include <sys/types.h>

#include <uv.h>

struct manager;
struct journal;
struct control;

struct control_info {
    /* The Shutdown method: stops every unit and ends minisupd (root and its own uid only). */
    void (*shutdown)(void *userdata);
    void *shutdown_userdata;
    const char *version;
    const char *runtime_dir;
    const char *log_dir;
    const char *unit_dir;
    /* --admin-group: its members may do everything, like root and the daemon's own user. */
    bool has_admin_group;
    gid_t admin_gid;
};

/* Binds and listens on socket_path (replacing a stale socket file; the single-instance lock
 * guarantees it is not in use). Mode 0666 when running as root (each call is then checked
 * against the peer's credentials), 0600 otherwise. 0 or a negative errno. */
int control_new(uv_loop_t *loop, const char *socket_path, const struct control_info *info,
                struct manager *m, struct journal *j, struct control **ret);

/* Stops accepting, ends follow streams, closes every connection; frees once the loop ran the
 * close callbacks. Removes the socket file. */
void control_close(struct control *c);

#endif
