/*
 * Stage 1: an iterative time-of-day server.
 *
 * One client at a time: accept a connection, read one request (blocking, for
 * at most -t seconds), answer it with the time of day, close, and only then
 * accept the next.  While one client is being served every other client waits
 * in the listen queue; that wait is this stage's lesson.
 */
#include "err.h"
#include "http.h"
#include "net.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define USAGE "[-a ADDR] [-p PORT] [-t SECS] [-q] [-h]"
#define MAX_DRAIN 65536 /* unread request bytes we swallow before closing */
#define LINGER_SECS 1   /* and how long we wait for them (as nginx's lingering close) */

static bool quiet;

/* Write all len bytes, resuming after short writes and EINTR; 0, or -1 and errno. */
static int
write_all(int fd, const char *buf, size_t len)
{
    /* BEGIN STUDENT: write until all len bytes are out; resume after short writes, EINTR */
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
    /* STUB: (void)fd, (void)buf, (void)len; */
    /* STUB: return -1; */
    /* END STUDENT */
}

/*
 * Read until a whole request head is in buf.  Returns its length; 0 if it
 * does not fit in size bytes; -1 if the client closed, reset, or stayed
 * silent for -t seconds (read fails with EAGAIN when SO_RCVTIMEO expires).
 */
static ssize_t
read_head(int fd, char *buf, size_t size)
{
    /* BEGIN STUDENT: read until the head is whole; resume after short reads, EINTR */
    size_t len = 0, head;

    while ((head = http_head_len(buf, len)) == 0) {
        if (len == size)
            return 0;
        ssize_t n = read(fd, buf + len, size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        len += (size_t)n;
    }
    return (ssize_t)head;
    /* STUB: (void)fd, (void)buf, (void)size; */
    /* STUB: return -1; */
    /* END STUDENT */
}

/* Format the whole answer to req: the head, and the time of day unless HEAD. */
static size_t
time_of_day(char *out, size_t size, const struct http_request *req)
{
    char body[64];
    struct tm tm = {0};
    time_t now = time(NULL);
    size_t blen, len;

    localtime_r(&now, &tm);
    blen = strftime(body, sizeof body, "%a %b %e %H:%M:%S %Y\n", &tm);
    len = http_head(out, size, req, 200, "text/plain", (long long)blen);
    if (!req->head && len + blen < size) {
        memcpy(out + len, body, blen);
        len += blen;
    }
    return len;
}

/* Read one request from the client on fd and answer it. */
static void
serve(int fd, const char *peer)
{
    /* BEGIN STUDENT: read, parse and answer one request (write_all), then log it */
    char in[HTTP_MAX_HEAD], out[HTTP_MAX_RESPONSE_HEAD + 64];
    struct http_request req;
    ssize_t head = read_head(fd, in, sizeof in);
    size_t len;
    int status;

    if (head < 0)
        return;
    if (head == 0) {
        req.line[0] = '\0';
        status = 431;
        len = http_error(out, sizeof out, NULL, status);
    } else if ((status = http_parse(in, (size_t)head, &req)) != 0) {
        len = http_error(out, sizeof out, &req, status);
    } else {
        req.keep_alive = false; /* one request per connection: that is stage 1 */
        status = 200;
        len = time_of_day(out, sizeof out, &req);
    }
    bool sent = write_all(fd, out, len) == 0;
    if (!quiet)
        http_log(peer, req.line[0] ? req.line : NULL, status, sent ? (long long)len : 0);
    /* STUB: (void)fd, (void)peer, (void)read_head, (void)time_of_day, (void)write_all; */
    /* END STUDENT */
}

/*
 * Close without losing the answer.  close() on a socket with unread input
 * sends a reset, which can destroy the response before the client reads it;
 * so say we are done writing, swallow what the client still sends, then close.
 */
static void
close_gracefully(int fd)
{
    char junk[4096];
    size_t drained = 0;
    ssize_t n;

    /* Not for long: a client that neither closes nor sends would hold us up for -t. */
    struct timeval linger = {.tv_sec = LINGER_SECS};

    if (shutdown(fd, SHUT_WR) == 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &linger, sizeof linger) == 0) {
        while (drained < MAX_DRAIN &&
               ((n = read(fd, junk, sizeof junk)) > 0 || (n < 0 && errno == EINTR)))
            drained += n > 0 ? (size_t)n : 0;
    }
    close(fd);
}

/*
 * Serve clients one at a time, for ever: accept the next connection, give its reads and
 * writes -t seconds each, serve it, close it.  It never returns.
 */
static void
serve_clients(int listenfd, long timeout)
{
    /* BEGIN STUDENT: accept each client (EINTR, ECONNABORTED: next), set -t, serve, close */
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t peerlen = sizeof peer;
        char name[ADDR_STRLEN];
        int fd = accept(listenfd, (struct sockaddr *)&peer, &peerlen);

        if (fd < 0) {
            /* A client that gave up in the queue, or a passing shortage: try the next. */
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                warn_sys("accept");
                sleep(1);
                continue;
            }
            /* A listener that is not one is our bug; anything else is that connection's
             * own error (Linux reports one pending on it, EPROTO say, here): it costs
             * that client only. */
            if (errno == EBADF || errno == EINVAL || errno == ENOTSOCK || errno == EFAULT)
                die_sys("accept");
            warn_sys("accept");
            continue;
        }
        /* Blocking reads and writes, but none may wait longer than -t seconds. */
        struct timeval tv = {.tv_sec = timeout};
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0)
            serve(fd, addr_format(&peer, name, sizeof name));
        else
            warn_sys("setsockopt");
        close_gracefully(fd);
    }
    /* STUB: (void)listenfd, (void)timeout, (void)serve, (void)close_gracefully; */
    /* END STUDENT */
}

int
main(int argc, char *argv[])
{
    const char *addr = "127.0.0.1";
    long port = 8080, timeout = 10;
    struct sockaddr_storage sa;
    socklen_t salen;
    int opt, listenfd;

    err_init(argv[0], USAGE);
    while ((opt = getopt(argc, argv, "a:p:t:qh")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'p': port = arg_long("-p", optarg, 0, 65535); break;
        case 't': timeout = arg_long("-t", optarg, 1, 86400); break;
        case 'q': quiet = true; break;
        case 'h': print_usage(); return 0;
        default: die_usage("unknown flag or missing argument");
        }
    }
    if (optind < argc)
        die_usage("unexpected argument: %s", argv[optind]);
    if (addr_parse(addr, (int)port, &sa, &salen) < 0)
        die_usage("-a %s: not an IPv4 or IPv6 address", addr);

    /* A client that hangs up while we write must cost us that client, not our life. */
    struct sigaction ign = {.sa_handler = SIG_IGN};
    if (sigaction(SIGPIPE, &ign, NULL) < 0)
        die_sys("sigaction");
    listenfd = Tcp_listen(&sa, salen);

    serve_clients(listenfd, timeout);
    return 0;
}
