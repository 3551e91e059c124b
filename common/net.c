/* net.c - listening socket set-up shared by every server of the lab (see net.h). */
#include "net.h"
#include "err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Queue this many finished handshakes before accept() takes them (the kernel caps it). */
#define BACKLOG 1024

int
addr_parse(const char *addr, int port, struct sockaddr_storage *sa, socklen_t *len)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;

    memset(sa, 0, sizeof *sa);
    if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((unsigned short)port);
        *len = sizeof *in4;
        return 0;
    }
    if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((unsigned short)port);
        *len = sizeof *in6;
        return 0;
    }
    return -1;
}

char *
addr_format(const struct sockaddr_storage *sa, char *buf, size_t size)
{
    char host[INET6_ADDRSTRLEN];

    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in4->sin_addr, host, sizeof host);
        snprintf(buf, size, "%s:%u", host, ntohs(in4->sin_port));
    } else {
        snprintf(buf, size, "?");
    }
    return buf;
}

int
tcp_listen(const struct sockaddr_storage *sa, socklen_t len)
{
    int fd, one = 1, saved;

    fd = socket(sa->ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    /* Let a restarted server bind at once, though old connections sit in TIME_WAIT. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        goto fail;
    /* "::" means IPv6 only here; the user asked for one family, not both. */
    if (sa->ss_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
        goto fail;
    if (bind(fd, (const struct sockaddr *)sa, len) < 0 || listen(fd, BACKLOG) < 0)
        goto fail;
    return fd;
fail:
    saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

int
Tcp_listen(const struct sockaddr_storage *sa, socklen_t len)
{
    struct sockaddr_storage real;
    socklen_t reallen = sizeof real;
    char name[ADDR_STRLEN];
    int fd;

    fd = tcp_listen(sa, len);
    if (fd < 0)
        die_sys("cannot listen on %s", addr_format(sa, name, sizeof name));
    /* With port 0 the kernel picked the port: ask it which, so scripts can connect. */
    if (getsockname(fd, (struct sockaddr *)&real, &reallen) < 0)
        die_sys("getsockname");
    fprintf(stderr, "listening on %s\n", addr_format(&real, name, sizeof name));
    return fd;
}
