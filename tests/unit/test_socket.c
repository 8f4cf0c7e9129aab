/* socket.c: the names systemd gives Accept=yes instances, and $REMOTE_ADDR. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "socket.h"

/* A connected TCP pair over loopback of the given family: [0] the accepted end. */
static void tcp_pair(int family, int fds[2])
{
    struct sockaddr_storage ss = {0};
    socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    int l = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    cr_assert_geq(l, 0);
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
    }
    cr_assert_eq(bind(l, (struct sockaddr *)&ss, len), 0);
    cr_assert_eq(listen(l, 1), 0);
    cr_assert_eq(getsockname(l, (struct sockaddr *)&ss, &len), 0);
    fds[1] = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_eq(connect(fds[1], (struct sockaddr *)&ss, len), 0);
    fds[0] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    cr_assert_geq(fds[0], 0);
    close(l);
}

/* Whether this machine has IPv6 loopback (a container may not). */
static bool have_ipv6(void)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

    if (fd >= 0)
        close(fd);
    return ok;
}

static unsigned port_of(int fd, bool peer)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    cr_assert_eq((peer ? getpeername : getsockname)(fd, (struct sockaddr *)&ss, &len), 0);
    return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                         : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* systemd's socket.c, instance_from_socket(): "nr-PID-UID" of the peer for AF_UNIX. */
Test(socket, instance_name_unix_is_peer_pid_and_uid)
{
    int sv[2];
    char buf[64], want[64];

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    cr_assert_eq(socket_instance_name(sv[0], 0, buf, sizeof(buf)), 0);
    snprintf(want, sizeof(want), "0-%d-%u", (int)getpid(), (unsigned)getuid());
    cr_assert_str_eq(buf, want);
    cr_assert_eq(socket_instance_name(sv[0], 7, buf, 4), -ENAMETOOLONG);
    cr_assert_eq(socket_peer_address(sv[0], buf, sizeof(buf), &(unsigned){0}), -EAFNOSUPPORT);
    close(sv[0]);
    close(sv[1]);
}

/* "nr-LOCAL:PORT-REMOTE:PORT" for IPv4 and IPv6. */
Test(socket, instance_name_ip_is_local_and_remote_address)
{
    int fds[2];
    char buf[160], want[160], addr[64];
    unsigned port = 0;

    tcp_pair(AF_INET, fds);
    cr_assert_eq(socket_instance_name(fds[0], 3, buf, sizeof(buf)), 0);
    snprintf(want, sizeof(want), "3-127.0.0.1:%u-127.0.0.1:%u", port_of(fds[0], false),
             port_of(fds[0], true));
    cr_assert_str_eq(buf, want);
    cr_assert_eq(socket_peer_address(fds[0], addr, sizeof(addr), &port), 0);
    cr_assert_str_eq(addr, "127.0.0.1");
    cr_assert_eq(port, port_of(fds[1], false));
    close(fds[0]);
    close(fds[1]);

    if (!have_ipv6()) {
        cr_log_warn("no IPv6 loopback here: the IPv6 name is not checked");
        return;
    }
    tcp_pair(AF_INET6, fds);
    cr_assert_eq(socket_instance_name(fds[0], 0, buf, sizeof(buf)), 0);
    snprintf(want, sizeof(want), "0-::1:%u-::1:%u", port_of(fds[0], false), port_of(fds[0], true));
    cr_assert_str_eq(buf, want);
    close(fds[0]);
    close(fds[1]);
}

/* A dual-stack listener sees an IPv4 client as ::ffff:127.0.0.1; systemd names and exports it
 * as plain IPv4. */
Test(socket, ipv4_mapped_peer_is_plain_ipv4)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int l = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), c, s, off = 0;
    char buf[160], want[160], addr[64];
    unsigned port = 0;

    if (!have_ipv6())
        cr_skip_test("no IPv6 here");
    cr_assert_geq(l, 0);
    cr_assert_eq(setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)), 0);
    cr_assert_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(l, 1), 0);
    cr_assert_eq(getsockname(l, (struct sockaddr *)&a, &len), 0);
    to.sin_port = a.sin6_port;
    c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_eq(connect(c, (struct sockaddr *)&to, sizeof(to)), 0);
    s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    cr_assert_geq(s, 0);
    cr_assert_eq(socket_instance_name(s, 1, buf, sizeof(buf)), 0);
    snprintf(want, sizeof(want), "1-127.0.0.1:%u-127.0.0.1:%u", port_of(s, false),
             port_of(s, true));
    cr_assert_str_eq(buf, want);
    cr_assert_eq(socket_peer_address(s, addr, sizeof(addr), &port), 0);
    cr_assert_str_eq(addr, "127.0.0.1");
    close(s);
    close(c);
    close(l);
}
