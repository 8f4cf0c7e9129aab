/* Varlink framing and message shapes. The daemon drives the buffer from libuv reads; the CLI
 * uses the blocking client below. Neither end ever trusts a length it has not bounded. */
#include "varlink.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int varlink_buffer_append(struct varlink_buffer *b, const void *p, size_t n)
{
    const char *s = p, *end = s + n;
    size_t tail = b->tail, off = b->base ? (size_t)(b->data - b->base) : 0;

    if (n == 0)
        return 0;
    if (n > VARLINK_MESSAGE_MAX * 2 || b->len + n > VARLINK_MESSAGE_MAX * 2)
        return -EMSGSIZE;
    /* Every message is held to the bound, not only the first one buffered: each terminator in
     * the new bytes ends one, and the unterminated rest will never become valid once too long.
     * Only the new bytes are scanned; tail carries the length of the message they continue. */
    for (const char *q = s; q < end;) {
        const char *nul = memchr(q, '\0', (size_t)(end - q));

        if (!nul) {
            tail += (size_t)(end - q);
            break;
        }
        if (tail + (size_t)(nul - q) > VARLINK_MESSAGE_MAX)
            return -EMSGSIZE;
        tail = 0;
        q = nul + 1;
    }
    if (tail > VARLINK_MESSAGE_MAX)
        return -EMSGSIZE;

    if (off + b->len + n > b->cap) {
        /* Move the unread bytes to the front only when more bytes were taken off than are left
         * to move: each byte taken off pays for at most one byte moved. Otherwise grow; with
         * off < len <= 2 * MAX - n, the allocation stays below 4 * VARLINK_MESSAGE_MAX. */
        if (off > 0 && off >= b->len) {
            memmove(b->base, b->data, b->len);
            b->data = b->base;
            off = 0;
        }
        if (off + b->len + n > b->cap) {
            size_t cap = b->cap ? b->cap : 4096;
            char *d;

            while (cap < off + b->len + n)
                cap *= 2;
            d = realloc(b->base, cap);
            if (!d)
                return -ENOMEM;
            b->base = d;
            b->data = d + off;
            b->cap = cap;
        }
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->tail = tail;
    return 0;
}

int varlink_buffer_next(struct varlink_buffer *b, json_t **ret)
{
    char *end;
    size_t n;
    json_t *msg;
    json_error_t err;

    if (b->len == 0)
        return 0;
    end = memchr(b->data, '\0', b->len);
    if (!end)
        return 0;
    n = (size_t)(end - b->data);
    msg = json_loadb(b->data, n, JSON_REJECT_DUPLICATES, &err);
    /* Taken off by moving the start, not the bytes behind it (O(n) for n bytes of messages). */
    b->data = end + 1;
    b->len -= n + 1;
    if (b->len == 0)
        b->data = b->base;
    if (!msg || !json_is_object(msg)) {
        json_decref(msg);
        return -EBADMSG;
    }
    *ret = msg;
    return 1;
}

void varlink_buffer_done(struct varlink_buffer *b)
{
    free(b->base);
    *b = (struct varlink_buffer){0};
}

char *varlink_encode(const json_t *msg, size_t *ret_len)
{
    char *s = json_dumps(msg, JSON_COMPACT);
    size_t n;
    char *r;

    if (!s)
        return NULL;
    n = strlen(s);
    /* json_dumps leaves no room for the terminator we must send, so copy once. */
    r = realloc(s, n + 1);
    if (!r) {
        free(s);
        return NULL;
    }
    r[n] = '\0';
    *ret_len = n + 1;
    return r;
}

json_t *varlink_call_new(const char *method, json_t *params, unsigned flags)
{
    json_t *m = json_object();

    if (!m) {
        json_decref(params);
        return NULL;
    }
    json_object_set_new(m, "method", json_string(method));
    json_object_set_new(m, "parameters", params ? params : json_object());
    if (flags & VARLINK_CALL_MORE)
        json_object_set_new(m, "more", json_true());
    if (flags & VARLINK_CALL_ONEWAY)
        json_object_set_new(m, "oneway", json_true());
    return m;
}

json_t *varlink_reply_new(json_t *params, bool continues)
{
    json_t *m = json_object();

    if (!m) {
        json_decref(params);
        return NULL;
    }
    json_object_set_new(m, "parameters", params ? params : json_object());
    if (continues)
        json_object_set_new(m, "continues", json_true());
    return m;
}

json_t *varlink_error_new(const char *error, json_t *params)
{
    json_t *m = json_object();

    if (!m) {
        json_decref(params);
        return NULL;
    }
    json_object_set_new(m, "error", json_string(error));
    json_object_set_new(m, "parameters", params ? params : json_object());
    return m;
}

int varlink_call_parse(json_t *msg, const char **ret_method, json_t **ret_params,
                       unsigned *ret_flags)
{
    json_t *method = json_object_get(msg, "method");
    json_t *params = json_object_get(msg, "parameters");
    unsigned flags = 0;

    if (!json_is_string(method))
        return -EBADMSG;
    if (params && !json_is_object(params) && !json_is_null(params))
        return -EBADMSG;
    if (json_is_true(json_object_get(msg, "more")))
        flags |= VARLINK_CALL_MORE;
    if (json_is_true(json_object_get(msg, "oneway")))
        flags |= VARLINK_CALL_ONEWAY;
    *ret_method = json_string_value(method);
    *ret_params = json_is_object(params) ? params : NULL;
    *ret_flags = flags;
    return 0;
}

int varlink_reply_parse(json_t *msg, const char **ret_error, json_t **ret_params,
                        bool *ret_continues)
{
    json_t *error = json_object_get(msg, "error");
    json_t *params = json_object_get(msg, "parameters");

    if (error && !json_is_string(error))
        return -EBADMSG;
    if (params && !json_is_object(params))
        return -EBADMSG;
    *ret_error = error ? json_string_value(error) : NULL;
    *ret_params = params;
    *ret_continues = json_is_true(json_object_get(msg, "continues"));
    return 0;
}

struct varlink_client {
    int fd;
    struct varlink_buffer in;
    char *out; /* queued calls, NUL-terminated each */
    size_t out_len, out_size;
};

int varlink_client_connect(const char *path, struct varlink_client **ret)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct varlink_client *c;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return -ENOMEM;
    }
    c->fd = fd;
    *ret = c;
    return 0;
}

int varlink_client_queue(struct varlink_client *c, const char *method, json_t *params,
                         unsigned flags)
{
    json_t *m = varlink_call_new(method, params, flags);
    size_t len;
    char *s;

    if (!m)
        return -ENOMEM;
    s = varlink_encode(m, &len);
    json_decref(m);
    if (!s)
        return -ENOMEM;
    if (c->out_size - c->out_len < len) {
        size_t size = c->out_size ? c->out_size : 4096;
        while (size - c->out_len < len)
            size *= 2;
        char *out = realloc(c->out, size);
        if (!out) {
            free(s);
            return -ENOMEM;
        }
        c->out = out;
        c->out_size = size;
    }
    memcpy(c->out + c->out_len, s, len);
    c->out_len += len;
    free(s);
    return 0;
}

int varlink_client_flush(struct varlink_client *c)
{
    size_t off = 0;
    int r = 0;

    while (off < c->out_len) {
        ssize_t n = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            break;
        }
        off += (size_t)n;
    }
    c->out_len = 0;
    return r;
}

int varlink_client_send(struct varlink_client *c, const char *method, json_t *params,
                        unsigned flags)
{
    int r = varlink_client_queue(c, method, params, flags);

    return r < 0 ? r : varlink_client_flush(c);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int varlink_client_receive(struct varlink_client *c, int timeout_ms, json_t **ret_reply)
{
    long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    char buf[65536];

    for (;;) {
        int r = varlink_buffer_next(&c->in, ret_reply);
        if (r != 0)
            return r < 0 ? r : 0;

        int wait = -1;
        if (deadline >= 0) {
            long long left = deadline - now_ms();
            if (left <= 0)
                return -ETIMEDOUT;
            wait = (int)left;
        }
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        r = poll(&p, 1, wait);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return -ETIMEDOUT;
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -errno;
        }
        if (n == 0)
            return -ECONNRESET;
        r = varlink_buffer_append(&c->in, buf, (size_t)n);
        if (r < 0)
            return r;
    }
}

int varlink_client_fd(const struct varlink_client *c)
{
    return c->fd;
}

struct varlink_client *varlink_client_free(struct varlink_client *c)
{
    if (!c)
        return NULL;
    close(c->fd);
    varlink_buffer_done(&c->in);
    free(c->out);
    free(c);
    return NULL;
}
