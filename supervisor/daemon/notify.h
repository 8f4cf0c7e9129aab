/* The sd_notify(3) endpoint: a Unix datagram socket whose path services get as $NOTIFY_SOCKET.
 * Every datagram is handed on with the sender's pid as the kernel vouches for it
 * (SCM_CREDENTIALS), never as the message claims. Knows nothing about units. */
#ifndef MINISUP_NOTIFY_H
#define MINISUP_NOTIFY_H

#include <stddef.h>
#include <sys/types.h>

#include <uv.h>

struct notify;

/* Called for each datagram: the sender's pid and the message (not NUL-terminated). */
typedef void (*notify_cb)(pid_t sender, const char *message, size_t len, void *userdata);

/* Binds the socket at path (replacing a stale one). 0 or a negative errno. */
int notify_new(uv_loop_t *loop, const char *path, notify_cb cb, void *userdata,
               struct notify **ret);

const char *notify_socket_path(const struct notify *n);

/* Closes the socket and removes its file; frees once the loop ran the close callback. */
void notify_close(struct notify *n);

/* Looks up KEY in a notify message ("READY=1\nSTATUS=x\n"). Returns a pointer to the value and
 * its length in *ret_len, or NULL. Pure; for the manager and tests. */
const char *notify_message_get(const char *message, size_t len, const char *key, size_t *ret_len);

#endif
