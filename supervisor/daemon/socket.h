/* Listeners of .socket units (systemd.socket(5)): parsing ListenStream=/ListenDatagram=/
 * ListenSequentialPacket= addresses, creating the sockets and FIFOs with their modes and
 * owners, and removing them. Plain syscalls, no event loop and no unit knowledge: the manager
 * polls the fds and starts services. Never logs. */
#ifndef MINISUP_SOCKET_H
#define MINISUP_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

enum listen_kind {
    LISTEN_STREAM,
    LISTEN_DATAGRAM,
    LISTEN_SEQPACKET,
    LISTEN_FIFO,
    LISTEN_KIND_MAX,
};

/* A parsed address. */
struct socket_address {
    struct sockaddr_storage sa;
    socklen_t len;
    int family;     /* AF_UNIX, AF_INET, AF_INET6 */
    bool abstract;  /* "@name" */
    char path[108]; /* AF_UNIX path (empty for abstract) */
};

/* "/run/x.sock", "@abstract", "8080" (any address, IPv6 dual-stack), "127.0.0.1:8080",
 * "[::1]:8080". 0 or -EINVAL. */
int socket_address_parse(const char *s, struct socket_address *ret);

/* How listeners are made (SocketMode=, DirectoryMode=, SocketUser=/SocketGroup=, Backlog=). */
struct listen_options {
    mode_t socket_mode;    /* default 0666 */
    mode_t directory_mode; /* default 0755, for missing parent directories */
    uid_t uid;             /* (uid_t)-1: leave as is */
    gid_t gid;             /* (gid_t)-1 */
    int backlog;           /* default SOMAXCONN */
};

/* Creates one listener: a socket bound (and listening, for stream/seqpacket) or a FIFO opened
 * O_RDWR so it never sees EOF and writers never get ENXIO. Non-blocking, close-on-exec.
 * Returns the fd, or a negative errno with a short reason in ret_error. */
int socket_listen(enum listen_kind kind, const char *address, const struct listen_options *o,
                  char *ret_error, size_t error_size);

/* RemoveOnStop=: unlinks a FIFO or Unix socket path (nothing for abstract or IP). */
void socket_remove_path(enum listen_kind kind, const char *address);

const char *listen_kind_to_string(enum listen_kind k); /* "Stream", "FIFO", ... */

/* The instance name systemd gives the service of the nr-th connection (from 0) an Accept=yes
 * socket took: "nr-LOCAL:PORT-REMOTE:PORT" for IP (an IPv4-mapped IPv6 pair as plain IPv4),
 * "nr-PID-UID" of the peer for AF_UNIX ("nr-unknown" when its credentials are not known).
 * 0, or a negative errno (getsockname/getpeername failed, -ENAMETOOLONG). */
int socket_instance_name(int conn, unsigned nr, char *buf, size_t size);

/* A connection's peer as $REMOTE_ADDR and $REMOTE_PORT show it, an IPv4-mapped IPv6 address
 * as plain IPv4 (as systemd does). 0, or -EAFNOSUPPORT when the peer is not IP. */
int socket_peer_address(int conn, char *addr, size_t addr_size, unsigned *ret_port);

#endif
