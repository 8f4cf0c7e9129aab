/* Where minisup keeps things: the runtime dir (socket, lock, FIFOs), the journal dir, and how
 * minisupctl finds the socket. Shared by both programs so they always agree. No logging. */
#ifndef MINISUP_PATHS_H
#define MINISUP_PATHS_H

#include <stddef.h>

#define MINISUP_SOCKET_NAME "minisupd.sock"
#define MINISUP_PIDFILE_NAME "minisupd.pid"

/* Default runtime dir: $MINISUP_RUNTIME_DIR, else /run/minisup for root, else
 * $XDG_RUNTIME_DIR/minisup, else /tmp/minisup-<uid>. Returns a new string or NULL (ENOMEM). */
char *paths_default_runtime_dir(void);

/* Default journal dir: $MINISUP_LOG_DIR, else /var/log/minisup for root, else
 * $XDG_STATE_HOME/minisup, else ~/.local/state/minisup. New string or NULL. */
char *paths_default_log_dir(void);

/* Default state dir (StateDirectory= base, %S): $MINISUP_STATE_DIR, else /var/lib/minisup for
 * root, else $XDG_STATE_HOME/minisup/lib, else ~/.local/state/minisup/lib. New string or NULL. */
char *paths_default_state_dir(void);

/* The control socket for minisupctl: `option` (-s) if given, then $MINISUP_SOCKET, then
 * <runtime dir>/minisupd.sock. New string or NULL. */
char *paths_control_socket(const char *option);

/* Joins a and b with one '/'. New string or NULL. */
char *path_join(const char *a, const char *b);

/* mkdir -p with the given mode for created components. 0 or negative errno. */
int mkdir_p(const char *path, unsigned mode);

#endif
