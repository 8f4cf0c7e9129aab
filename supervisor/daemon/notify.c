/* NOTIFY_SOCKET server on a non-blocking datagram socket polled by libuv (uv_udp has no
 * AF_UNIX support). SO_PASSCRED makes the kernel attach the sender's credentials to every
 * datagram; fds passed along (FDSTORE=1) are closed, since we keep no fd store. */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* sd_notify messages are short; anything longer is cut and handled as far as it goes. */
#define NOTIFY_MESSAGE_MAX 4096

struct notify {
    uv_poll_t poll;
    int fd;
    char *path;
    notify_cb cb;
    void *userdata;
};

const char *notify_message_get(const char *message, size_t len, const char *key, size_t *ret_len)
{
    size_t klen = strlen(key);
    const char *p = message, *end = message + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        if ((size_t)(line_end - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
            *ret_len = (size_t)(line_end - p - (ptrdiff_t)klen - 1);
            return p + klen + 1;
        }
        p = nl ? nl + 1 : end;
    }
    return NULL;
}

static void close_passed_fds(struct msghdr *mh)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int *fds = (int *)(void *)CMSG_DATA(c);
        for (size_t i = 0; i < n; i++)
            close(fds[i]);
    }
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    struct notify *n = h->data;

    if (status < 0)
        return;
    /* Drain everything queued: one poll wake-up may stand for many datagrams. */
    for (;;) {
        char buf[NOTIFY_MESSAGE_MAX + 1];
        union {
            struct cmsghdr align;
            char data[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 16)];
        } control;
        struct iovec iov = {.iov_base = buf, .iov_len = NOTIFY_MESSAGE_MAX};
        struct msghdr mh = {
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = &control,
            .msg_controllen = sizeof(control),
        };
        ssize_t len = recvmsg(n->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
        if (len < 0) {
            if (errno == EINTR)
                continue;
            return; /* EAGAIN: drained */
        }
        close_passed_fds(&mh);
        struct ucred *cred = NULL;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
                c->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
                cred = (struct ucred *)(void *)CMSG_DATA(c);
        if (!cred || cred->pid <= 0)
            continue; /* no credentials, no attribution: ignored */
        if ((size_t)len > NOTIFY_MESSAGE_MAX)
            len = NOTIFY_MESSAGE_MAX;
        n->cb(cred->pid, buf, (size_t)len, n->userdata);
    }
}

int notify_new(uv_loop_t *loop, const char *path, notify_cb cb, void *userdata, struct notify **ret)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct notify *n;
    int one = 1, r;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    n = calloc(1, sizeof(*n));
    if (!n)
        return -ENOMEM;
    n->path = strdup(path);
    n->cb = cb;
    n->userdata = userdata;
    n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (!n->path || n->fd < 0) {
        r = n->path ? -errno : -ENOMEM;
        goto fail;
    }
    strcpy(sa.sun_path, path);
    (void)unlink(path);
    if (bind(n->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        setsockopt(n->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
        r = -errno;
        goto fail;
    }
    /* Services may run as other users: anyone may send; attribution comes from the kernel. */
    (void)chmod(path, 0666);
    r = uv_poll_init(loop, &n->poll, n->fd);
    if (r < 0)
        goto fail;
    n->poll.data = n;
    uv_poll_start(&n->poll, UV_READABLE, on_readable);
    *ret = n;
    return 0;
fail:
    if (n->fd >= 0)
        close(n->fd);
    free(n->path);
    free(n);
    return r;
}

const char *notify_socket_path(const struct notify *n)
{
    return n->path;
}

static void on_closed(uv_handle_t *h)
{
    struct notify *n = h->data;

    close(n->fd);
    free(n->path);
    free(n);
}

void notify_close(struct notify *n)
{
    if (!n)
        return;
    (void)unlink(n->path);
    uv_close((uv_handle_t *)&n->poll, on_closed);
}
