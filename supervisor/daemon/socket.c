/* Socket and FIFO listeners, made the way systemd.socket(5) describes. minisupd holds every
 * listener open for the life of the socket unit, so bytes written while the service restarts
 * wait in the kernel (DESIGN: the channel exists before the service). */
#include "socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "paths.h"

static const char *const kind_names[LISTEN_KIND_MAX] = {
    [LISTEN_STREAM] = "Stream",
    [LISTEN_DATAGRAM] = "Datagram",
    [LISTEN_SEQPACKET] = "SequentialPacket",
    [LISTEN_FIFO] = "FIFO",
};

const char *listen_kind_to_string(enum listen_kind k)
{
    return k < LISTEN_KIND_MAX ? kind_names[k] : "invalid";
}

static int parse_port(const char *s, uint16_t *ret)
{
    char *end;
    long v;

    if (!*s)
        return -EINVAL;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < 1 || v > 65535)
        return -EINVAL;
    *ret = (uint16_t)v;
    return 0;
}

int socket_address_parse(const char *s, struct socket_address *ret)
{
    struct socket_address a;
    uint16_t port;

    memset(&a, 0, sizeof(a));
    if (s[0] == '/' || s[0] == '@') {
        struct sockaddr_un *un = (struct sockaddr_un *)&a.sa;
        size_t n = strlen(s);
        if (n >= sizeof(un->sun_path) || n < 2)
            return -EINVAL;
        un->sun_family = AF_UNIX;
        a.family = AF_UNIX;
        if (s[0] == '@') {
            /* Abstract: a leading NUL, and the length says where the name ends. */
            a.abstract = true;
            memcpy(un->sun_path + 1, s + 1, n - 1);
            a.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
        } else {
            memcpy(un->sun_path, s, n + 1);
            memcpy(a.path, s, n + 1);
            a.len = sizeof(*un);
        }
        *ret = a;
        return 0;
    }
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        char host[INET6_ADDRSTRLEN];
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a.sa;
        if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
            return -EINVAL;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1 || parse_port(close + 2, &port) < 0)
            return -EINVAL;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        a.family = AF_INET6;
        a.len = sizeof(*in6);
        *ret = a;
        return 0;
    }
    const char *colon = strrchr(s, ':');
    if (!colon) {
        /* A bare port: every address, IPv6 with IPv4 mapped in, as systemd binds it. */
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a.sa;
        if (parse_port(s, &port) < 0)
            return -EINVAL;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_any;
        in6->sin6_port = htons(port);
        a.family = AF_INET6;
        a.len = sizeof(*in6);
        *ret = a;
        return 0;
    }
    char host[INET_ADDRSTRLEN];
    struct sockaddr_in *in = (struct sockaddr_in *)&a.sa;
    if ((size_t)(colon - s) >= sizeof(host))
        return -EINVAL;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    if (inet_pton(AF_INET, host, &in->sin_addr) != 1 || parse_port(colon + 1, &port) < 0)
        return -EINVAL;
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    a.family = AF_INET;
    a.len = sizeof(*in);
    *ret = a;
    return 0;
}

static int make_parent(const char *path, mode_t mode)
{
    char *dir = strdup(path);
    char *slash;
    int r = 0;

    if (!dir)
        return -ENOMEM;
    slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        r = mkdir_p(dir, mode);
    }
    free(dir);
    return r;
}

static int fail(int r, char *err, size_t size, const char *what, const char *address)
{
    snprintf(err, size, "Failed to %s '%s': %s", what, address, strerror(-r));
    return r;
}

int socket_listen(enum listen_kind kind, const char *address, const struct listen_options *o,
                  char *err, size_t error_size)
{
    struct socket_address a;
    int fd, r, type;

    if (kind == LISTEN_FIFO) {
        struct stat st;
        if (address[0] != '/')
            return fail(-EINVAL, err, error_size, "use FIFO path", address);
        r = make_parent(address, o->directory_mode);
        if (r < 0)
            return fail(r, err, error_size, "create the directory of", address);
        /* SocketMode= is the mode asked for; mkfifo still applies our umask, as systemd does
         * with its own umask of 0 — so set the mode explicitly afterwards. */
        if (mkfifo(address, o->socket_mode) < 0 && errno != EEXIST)
            return fail(-errno, err, error_size, "create FIFO", address);
        if (lstat(address, &st) < 0 || !S_ISFIFO(st.st_mode))
            return fail(-EEXIST, err, error_size, "use as FIFO (not a FIFO)", address);
        (void)chmod(address, o->socket_mode);
        if (o->uid != (uid_t)-1 || o->gid != (gid_t)-1)
            if (chown(address, o->uid, o->gid) < 0)
                return fail(-errno, err, error_size, "chown FIFO", address);
        /* O_RDWR: we are a writer too, so readers never see EOF between writers, and a writer
         * never gets ENXIO while the service is down. */
        fd = open(address, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            return fail(-errno, err, error_size, "open FIFO", address);
        return fd;
    }

    if (socket_address_parse(address, &a) < 0)
        return fail(-EINVAL, err, error_size, "parse socket address", address);
    type = kind == LISTEN_STREAM     ? SOCK_STREAM
           : kind == LISTEN_DATAGRAM ? SOCK_DGRAM
                                     : SOCK_SEQPACKET;
    fd = socket(a.family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(-errno, err, error_size, "create socket for", address);
    if (a.family != AF_UNIX) {
        int one = 1, zero = 0;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (a.family == AF_INET6) /* BindIPv6Only=default: dual-stack */
            (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    } else if (!a.abstract) {
        r = make_parent(a.path, o->directory_mode);
        if (r < 0) {
            close(fd);
            return fail(r, err, error_size, "create the directory of", address);
        }
        (void)unlink(a.path); /* a stale socket from an earlier run */
    }
    if (bind(fd, (struct sockaddr *)&a.sa, a.len) < 0) {
        r = -errno;
        close(fd);
        return fail(r, err, error_size, "bind", address);
    }
    if (a.family == AF_UNIX && !a.abstract) {
        (void)chmod(a.path, o->socket_mode);
        if ((o->uid != (uid_t)-1 || o->gid != (gid_t)-1) && chown(a.path, o->uid, o->gid) < 0) {
            r = -errno;
            close(fd);
            return fail(r, err, error_size, "chown", address);
        }
    }
    if (type != SOCK_DGRAM && listen(fd, o->backlog > 0 ? o->backlog : SOMAXCONN) < 0) {
        r = -errno;
        close(fd);
        return fail(r, err, error_size, "listen on", address);
    }
    return fd;
}

void socket_remove_path(enum listen_kind kind, const char *address)
{
    if (kind == LISTEN_FIFO || address[0] == '/')
        (void)unlink(address);
}

/* An IP address and port as an instance name or $REMOTE_ADDR writes it: IPv4-mapped IPv6
 * addresses as IPv4, the way systemd's sockaddr_pretty() translates them. */
static int ip_text(const struct sockaddr_storage *ss, char *buf, size_t size, unsigned *ret_port)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        *ret_port = ntohs(a->sin_port);
        return inet_ntop(AF_INET, &a->sin_addr, buf, (socklen_t)size) ? 0 : -errno;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        *ret_port = ntohs(a->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
            return inet_ntop(AF_INET, a->sin6_addr.s6_addr + 12, buf, (socklen_t)size) ? 0 : -errno;
        return inet_ntop(AF_INET6, &a->sin6_addr, buf, (socklen_t)size) ? 0 : -errno;
    }
    return -EAFNOSUPPORT;
}

int socket_peer_address(int conn, char *addr, size_t addr_size, unsigned *ret_port)
{
    struct sockaddr_storage ss = {0};
    socklen_t len = sizeof(ss);

    if (getpeername(conn, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    return ip_text(&ss, addr, addr_size, ret_port);
}

int socket_instance_name(int conn, unsigned nr, char *buf, size_t size)
{
    struct sockaddr_storage local = {0}, remote = {0};
    socklen_t llen = sizeof(local), rlen = sizeof(remote);
    char la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN];
    unsigned lport, rport;
    int n;

    if (getsockname(conn, (struct sockaddr *)&local, &llen) < 0 ||
        getpeername(conn, (struct sockaddr *)&remote, &rlen) < 0)
        return -errno;
    if (local.ss_family == AF_UNIX) {
        struct ucred cred;
        socklen_t clen = sizeof(cred);

        /* A peer in another pid namespace has no pid here: systemd's "unknown". */
        if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 && cred.pid > 0)
            n = snprintf(buf, size, "%u-%d-%u", nr, (int)cred.pid, (unsigned)cred.uid);
        else
            n = snprintf(buf, size, "%u-unknown", nr);
    } else {
        int r = ip_text(&local, la, sizeof(la), &lport);
        if (r == 0)
            r = ip_text(&remote, ra, sizeof(ra), &rport);
        if (r < 0)
            return r;
        n = snprintf(buf, size, "%u-%s:%u-%s:%u", nr, la, lport, ra, rport);
    }
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}
