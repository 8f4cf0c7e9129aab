/* Whether anything in the unit directory may have changed, asked without a system call.
 *
 * `status` warns when a unit's files changed on disk since they were read (systemd's
 * NeedDaemonReload). Finding out by stat()ing the unit file and opening its drop-in directories
 * took three to five system calls per GetUnit, on the path of every status call. Instead,
 * inotify (through libuv's uv_fs_event) watches the unit directory and each of its drop-in
 * directories (*.d), and every event bumps a generation counter: an answer worked out at one
 * generation holds until the counter moves. Knows nothing about units.
 *
 * The kernel queues an event when the change is made, so the loop sees it before any request
 * sent after the change (epoll reports ready fds in the order they became ready). */
#ifndef MINISUP_UNIT_DIR_WATCH_H
#define MINISUP_UNIT_DIR_WATCH_H

#include <stdint.h>

#include <uv.h>

struct unit_dir_watch;

/* Watches dir and the drop-in directories in it. Never fails for lack of inotify: a watch
 * that could not be set up reports generation 0, "unknown, look for yourself". NULL only when
 * out of memory. */
struct unit_dir_watch *unit_dir_watch_new(uv_loop_t *loop, const char *dir);

/* Looks for drop-in directories again (at daemon-reload) and moves the generation on. */
void unit_dir_watch_rescan(struct unit_dir_watch *w);

/* Moves whenever something in the watched directories changed; 0 while not watching. */
uint64_t unit_dir_watch_generation(const struct unit_dir_watch *w);

/* Stops watching; the memory goes once the loop ran the close callbacks. Accepts NULL. */
void unit_dir_watch_free(struct unit_dir_watch *w);

#endif
