/*
 * net.h - setting up a listening TCP socket, which no stage teaches anew.
 *
 *   struct sockaddr_storage sa; socklen_t len;
 *   if (addr_parse("::1", 8080, &sa, &len) < 0)   not an IPv4/IPv6 literal
 *   int fd = Tcp_listen(&sa, len);   prints "listening on [::1]:8080"
 *   char peer[ADDR_STRLEN]; addr_format(&client_sa, peer, sizeof peer);
 *
 * tcp_listen is the primitive (-1 and errno); Tcp_listen exits on failure.
 */
#ifndef EVLAB_NET_H
#define EVLAB_NET_H

#include <stddef.h>
#include <sys/socket.h>

/* Room for "[" IPv6 "]:" port and the NUL. */
#define ADDR_STRLEN 64

/* Fill *sa and *len from a numeric IPv4 or IPv6 address and a port; -1 if not a literal. */
int addr_parse(const char *addr, int port, struct sockaddr_storage *sa, socklen_t *len);

/* Write "1.2.3.4:80" or "[::1]:80" into buf and return buf. */
char *addr_format(const struct sockaddr_storage *sa, char *buf, size_t size);

/* A socket bound to sa (SO_REUSEADDR) and listening; -1 and errno on failure. */
int tcp_listen(const struct sockaddr_storage *sa, socklen_t len);

/* tcp_listen, or exit 1 naming the cause; then print "listening on ADDR:PORT" to stderr. */
int Tcp_listen(const struct sockaddr_storage *sa, socklen_t len);

#endif
