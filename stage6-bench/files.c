/*
 * files.c - stage 3's file server, rewritten with blocking calls.
 *
 * The rules are stage 3's: it builds from stage 3's own path.c (decode_target,
 * squeeze_path, open_beneath) and answers by the same common/ helpers.  What goes
 * is the event loop:
 * serve_client reads a request, writes the whole answer (each write waits until
 * the kernel has taken every byte), and reads the next.  No state machine, no
 * select(): the code reads like stage 1.  The price is that a client waiting on
 * the network or the disk holds a whole process or thread for that time, and
 * that is what stage 6 measures.
 */
#include "files.h"
#include "../stage3-files/path.h" /* stage 3's rules, the very same file */
#include "clock.h"
#include "err.h"
#include "http.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define USAGE "[-a ADDR] [-p PORT] [-t SECS] [-r DIR] [-q] [-h]"
#define OUT_SIZE 16384  /* a response head and (a chunk of) its body */
#define MAX_DRAIN 65536 /* unread request bytes we swallow before closing */
#define LINGER_SECS 1   /* and how long we wait for them (as nginx's lingering close) */

/*
 * One client's connection.  It lives on serve_client's stack (with the request
 * and a path, some 45 KiB), never in a static: each thread has its own.
 */
struct conn {
    int fd;
    const char *peer;       /* client address, for the log */
    char in[HTTP_MAX_HEAD]; /* bytes received and not yet answered: requests arrive in pieces */
    size_t inlen;
    char out[OUT_SIZE]; /* the response head, then each chunk of the file */
    int status;         /* of the response being sent, for the log */
    long long sent;     /* bytes of it written so far */
};

/* Set by setup() before any client is served, and only read afterwards: threads may share them. */
static long timeout = 10;
static bool quiet;
static int root_fd = -1;  /* the document root: every file is opened beneath it */
static int spare_fd = -1; /* kept open to be freed when accept() runs out of descriptors */

/* Not the usual volatile sig_atomic_t: that is safe only between a handler and the thread
 * it interrupts, and connection threads read this flag too.  A lock-free atomic is safe
 * for both (C11 7.14.1.1). */
atomic_int stop_requested;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "a signal handler may only touch lock-free atomics");

/* The stop, told to every process and thread at once.  The handler writes a byte into
 * this pipe and nobody ever reads it, so from then on its read end is readable for good:
 * poll() waits on it beside a socket (a signal between testing a flag and going to sleep
 * cannot be missed: the self-pipe trick), and fork()ed children share it with the
 * parent, which alone gets the signal.  The second pipe says "hurry": the stop's grace
 * (-t) has run out, or a second signal came, and answers under way are cut. */
static int stop_pipe[2] = {-1, -1};
static int hurry_pipe[2] = {-1, -1};

/* Make the read end of pipe p readable for good (write() is async-signal-safe). */
static void
say(const int p[2])
{
    if (write(p[1], "", 1) < 0) {
        /* full (it was said already), or not yet made: nothing to add */
    }
}

/* Only note which signal came, in the flag and the pipes.  A handler may run between any
 * two instructions of the loop, so the loop, not the handler, closes sockets and waits
 * for clients. */
static void
on_signal(int sig)
{
    int saved = errno; /* the code we interrupted may be about to read it */

    if (sig == SIGALRM || stop_requested) {
        say(hurry_pipe); /* the grace is over, or a second SIGINT/SIGTERM */
    } else {
        stop_requested = 1;
        say(stop_pipe);
        alarm((unsigned)timeout); /* answers under way get -t to finish, then SIGALRM */
    }
    errno = saved;
}

/* Has the stop come?  Every process and thread can tell, signalled or not. */
static bool
stopping(void)
{
    struct pollfd p = {.fd = stop_pipe[0], .events = POLLIN};

    return poll(&p, 1, 0) > 0;
}

/* Wait until fd is ready for events (POLLIN or POLLOUT), or at most until deadline (ms,
 * now_ms's clock; -1: no limit), or until pipe p says so (the stop, or hurry).  1: ready;
 * 0: the time ran out or p spoke; -1 and errno (EINTR: a signal came). */
static int
wait_for(int fd, short events, long long deadline, const int p[2])
{
    struct pollfd w[2] = {{.fd = fd, .events = events}, {.fd = p[0], .events = POLLIN}};
    long long left = deadline - now_ms();
    int n = poll(w, 2, deadline < 0 ? -1 : left > 0 ? (int)left : 0);

    if (n > 0 && w[1].revents != 0)
        return 0;
    return n;
}

/* Send all len bytes, resuming after short sends and EINTR.  Returns how many were
 * sent (not stage 1's write_all, which says only whether all were): len, or fewer if
 * the client is gone (EPIPE, ECONNRESET), took nothing for -t
 * seconds, or the stop's grace ran out.  Each send() takes what fits without waiting,
 * and the waiting is done in poll(), which a hurry wakes. */
static size_t
send_all(int fd, const char *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = send(fd, buf + done, len - done, MSG_DONTWAIT);
        if (n >= 0) {
            done += (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            break; /* EPIPE, ECONNRESET: the client has gone */
        /* The client's socket is full: wait, at most -t, for it to take some. */
        int ready = wait_for(fd, POLLOUT, now_ms() + timeout * 1000, hurry_pipe);
        if (ready == 0 || (ready < 0 && errno != EINTR))
            break;
    }
    return done;
}

/* Send out[0..len) and count what left; false if not all of it could be sent. */
static bool
conn_write(struct conn *c, size_t len)
{
    size_t n = send_all(c->fd, c->out, len);

    c->sent += (long long)n;
    return n == len;
}

/*
 * Read until a whole request head is at the start of in[] (a pipelined one may be
 * there already).  Returns its length; 0 if in[] is full without one; -1 if the
 * client closed or reset, stayed silent for -t seconds, took longer than -t from its
 * head's first byte to its last, or the stop came while we waited (an idle client, or
 * a request not yet whole, is nothing in flight).
 */
static ssize_t
read_head(struct conn *c)
{
    /* BEGIN STUDENT 1: read until the head is whole; wait_for until -t from its first byte */
    long long deadline = now_ms() + timeout * 1000;
    size_t head;

    while ((head = http_head_len(c->in, c->inlen)) == 0) {
        if (c->inlen == sizeof c->in)
            return 0;
        int ready = wait_for(c->fd, POLLIN, deadline, stop_pipe);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            return -1;
        ssize_t n = read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        /* -t runs from a head's first byte, not its latest: a client that drips a byte
         * at a time must not hold its process or thread for ever (slowloris). */
        if (c->inlen == 0)
            deadline = now_ms() + timeout * 1000;
        c->inlen += (size_t)n;
    }
    return (ssize_t)head;
    /* STUB: (void)c; */
    /* STUB: return -1; */
    /* END STUDENT */
}

/* Answer with an error (req NULL: no request could be parsed); false if it was cut short. */
static bool
serve_error(struct conn *c, const struct http_request *req, int status)
{
    c->status = status;
    return conn_write(c, http_error(c->out, sizeof c->out, req, status));
}

/*
 * Read the next chunk of the file into out[len..), at most *left bytes; the new
 * length of out[], or 0 for a read error or a file that shrank.  This read() may
 * wait for the disk, but only this client waits with it.
 */
static size_t
conn_fill(struct conn *c, size_t len, int file, off_t *left)
{
    size_t want = sizeof c->out - len;
    ssize_t n;

    if ((off_t)want > *left)
        want = (size_t)*left;
    do
        n = read(file, c->out + len, want);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return 0;
    *left -= n;
    return len + (size_t)n;
}

int
target_start(struct target *t, const struct http_request *req)
{
    int status;

    *t = (struct target){
        .dir = root_fd,
        .how = {.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS}, /* as path.c's */
        .fd = -1,
    };
    /* BEGIN STUDENT 3: decode and squeeze the path into t->name, relative to the root */
    /* (name has room left for "index.html" after the longest path.) */
    if ((status = decode_target(req->target, t->name, HTTP_MAX_HEAD)) != 0)
        return status;
    squeeze_path(t->name);
    t->slash = t->name[strlen(t->name) - 1] == '/';
    /* "/a/b" names "a/b" under the root; "/" the root itself. */
    size_t skip = strspn(t->name, "/");
    memmove(t->name, t->name + skip, strlen(t->name + skip) + 1);
    if (t->name[0] == '\0')
        strcpy(t->name, ".");
    return TARGET_OPEN;
    /* STUB: (void)req, (void)status, (void)squeeze_path; */
    /* STUB: return 404; */
    /* END STUDENT */
}

int
target_opened(struct target *t, int res, const struct stat *st)
{
    int status = 0;

    /* BEGIN STUDENT 3: a folder: its index.html next; a regular file: serve it; or why not */
    if (res < 0) /* a folder without an index is not listed */
        return http_open_status(t->index && res == -ENOENT ? EACCES : -res);
    if (st != NULL && S_ISDIR(st->st_mode) && !t->index) {
        close(res);
        if (!t->slash) {
            /* "/docs" names a folder, but its page's relative links would resolve
             * against "/": send the client to "/docs/" first (as nginx does). */
            return 301;
        }
        /* Its index.html, opened from the root: it may be a symlink to anywhere inside. */
        size_t len = strcmp(t->name, ".") == 0 ? 0 : strlen(t->name);
        snprintf(t->name + len, sizeof t->name - len, "index.html");
        t->index = true;
        return TARGET_OPEN;
    }
    if (st == NULL)
        status = 500;
    else if (!S_ISREG(st->st_mode))
        status = 403; /* a FIFO, device or socket: never read from it */
    if (status != 0) {
        close(res);
        return status;
    }
    t->fd = res;
    t->type = http_content_type(t->name);
    return 0;
    /* STUB: (void)t, (void)st, (void)status, (void)http_open_status; */
    /* STUB: if (res >= 0) */
    /* STUB:     (void)close(res); */
    /* STUB: return 404; */
    /* END STUDENT */
}

int
open_target(const struct http_request *req, int *fd, struct stat *st, const char **type)
{
    struct target t;
    int status = target_start(&t, req);

    while (status == TARGET_OPEN) {
        int res = open_beneath(t.dir, t.name);
        if (res < 0)
            res = -errno;
        status = target_opened(&t, res, res >= 0 && fstat(res, st) == 0 ? st : NULL);
    }
    *fd = t.fd;
    *type = t.type;
    return status;
}

/* Answer req with the file it names, or an error; false if the answer was cut short. */
static bool
serve(struct conn *c, const struct http_request *req)
{
    const char *type;
    struct stat st;
    int fd, status = open_target(req, &fd, &st, &type);
    size_t len;
    off_t left;
    bool ok;

    if (status == 301) {
        c->status = 301;
        return conn_write(c, http_redirect_dir(c->out, sizeof c->out, req));
    }
    if (status != 0)
        return serve_error(c, req, status);
    c->status = 200;
    len = http_head(c->out, sizeof c->out, req, 200, type, st.st_size);
    left = req->head ? 0 : st.st_size;
    /* The first chunk goes right after the head, so that both leave in one write, and a
     * small file in one packet.  Then one 16 KiB chunk per write, whatever its size. */
    do {
        if (left > 0 && (len = conn_fill(c, len, fd, &left)) == 0) {
            /* Nothing sent yet: the client can still be told.  Otherwise the head
             * promised more than we can send, and only closing says so. */
            close(fd);
            return c->sent == 0 && serve_error(c, req, 500);
        }
        ok = conn_write(c, len);
        len = 0;
    } while (ok && left > 0);
    close(fd);
    return ok;
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

void
serve_client(int fd, const char *peer)
{
    struct conn c = {.fd = fd, .peer = peer};
    struct http_request req;
    ssize_t head;
    int status;
    bool ok;

    /* A file leaves in 16 KiB writes.  Nagle's algorithm would hold each one back until
     * the client acknowledged the one before, and the client delays its ACKs by up to
     * 40 ms: a stall per response.  We never write a byte less than we have, so turn
     * it off (should that fail, we are slower, not wrong). */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
    for (;;) {
        if ((head = read_head(&c)) < 0) {
            close(fd); /* the client closed, reset or fell silent: we owe it nothing */
            return;
        }
        c.sent = 0;
        if (head == 0) {
            req.line[0] = '\0';
            req.keep_alive = false;
            ok = serve_error(&c, NULL, 431);
        } else {
            status = http_parse(c.in, (size_t)head, &req);
            if (stopping())
                req.keep_alive = false; /* stopping: say that this answer is the last */
            ok = status != 0 ? serve_error(&c, &req, status) : serve(&c, &req);
            /* Pipelined requests that came after this one wait in in[] for their turn. */
            memmove(c.in, c.in + head, c.inlen - (size_t)head);
            c.inlen -= (size_t)head;
        }
        if (!quiet)
            http_log(peer, req.line[0] ? req.line : NULL, c.status, c.sent);
        if (!ok) {
            close(fd); /* cut short: the client is gone, or the file failed mid-way */
            return;
        }
        if (!req.keep_alive || c.status == 503 || stopping())
            break; /* (a 503 always closes: we are out of descriptors or processes) */
    }
    close_gracefully(fd);
}

void
refuse(int fd)
{
    char out[HTTP_MAX_RESPONSE_HEAD + 64], junk[4096];
    size_t len = http_error(out, sizeof out, NULL, 503);

    /* These few bytes fit an empty socket buffer, though maybe not in one write().
     * If a write fails, the client is dropped all the same. */
    (void)send_all(fd, out, len);
    /* close() with the request unread sends a reset, and the kernel drops what it has
     * not sent yet: the 503 may never arrive.  Swallow what has come (never waiting;
     * EINTR is no reason to stop), then close. */
    for (int i = 0; i < 64; i++) {
        ssize_t n = recv(fd, junk, sizeof junk, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EINTR))
            break;
    }
    close(fd);
}

void
catch_signal(int sig, void (*handler)(int))
{
    struct sigaction act = {.sa_handler = handler}; /* sa_flags 0: no SA_RESTART */

    if (sigaction(sig, &act, NULL) < 0)
        die_sys("sigaction");
}

int
accept_client(int listenfd, char *peer, size_t size)
{
    struct sockaddr_storage sa;
    socklen_t len;
    int fd;

    /* Sleep until a client or the stop comes, in one poll(): a stop that comes just
     * before we would have gone to sleep in accept() is not missed. */
    if (wait_for(listenfd, POLLIN, -1, stop_pipe) <= 0) {
        errno = EINTR; /* the stop, or a signal (SIGCHLD): the caller's loop looks */
        return -1;
    }
    do {
        len = sizeof sa;
        fd = accept(listenfd, (struct sockaddr *)&sa, &len);
    } while (fd < 0 && errno == ECONNABORTED); /* a client that gave up in the queue */
    if (fd < 0 && (errno == EMFILE || errno == ENFILE) && spare_fd < 0) {
        /* The spare was lost last time: between our close() and our accept(), another
         * thread's open() took the descriptor (the thread server).  That thread has
         * likely closed its file since: try to take the spare back. */
        int saved = errno;
        spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        errno = saved;
    }
    if (fd >= 0) {
        addr_format(&sa, peer, size);
    } else if ((errno == EMFILE || errno == ENFILE) && spare_fd >= 0) {
        /* Out of descriptors, and the client stays queued: poll() would wake us for it at
         * once, again and again.  Free our spare descriptor, take the client, refuse it
         * (503 and close: the clients we hold are served meanwhile), re-arm. */
        close(spare_fd);
        if ((fd = accept(listenfd, NULL, NULL)) >= 0)
            refuse(fd);
        spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        fd = -1;
        errno = EAGAIN;
    } else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        /* Out of memory, or of descriptors with no spare left: say so, and give our
         * clients a second to finish rather than spin. */
        warn_sys("accept");
        sleep(1);
    } else if (errno != EINTR && errno != EAGAIN) { /* EAGAIN: someone else took it */
        warn_sys("accept"); /* that connection's own error (EPROTO, say): it alone is lost */
    }
    return fd;
}

void
setup_settings(long *timeout_s, bool *quiet_log, int *stop_fd, int *hurry_fd)
{
    *timeout_s = timeout;
    *quiet_log = quiet;
    *stop_fd = stop_pipe[0];
    *hurry_fd = hurry_pipe[0];
}

int
setup(int argc, char *argv[])
{
    const char *addr = "127.0.0.1", *root = ".";
    long port = 8080;
    struct sockaddr_storage sa;
    socklen_t salen;
    int opt, probe;

    err_init(argv[0], USAGE);
    while ((opt = getopt(argc, argv, "a:p:t:r:qh")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'p': port = arg_long("-p", optarg, 0, 65535); break;
        case 't': timeout = arg_long("-t", optarg, 1, 86400); break;
        case 'r': root = optarg; break;
        case 'q': quiet = true; break;
        case 'h': print_usage(); exit(0);
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
    /* O_NONBLOCK on the end the handler writes: a handler must never wait. */
    if (pipe(stop_pipe) < 0 || fcntl(stop_pipe[1], F_SETFL, O_NONBLOCK) < 0 ||
        pipe(hurry_pipe) < 0 || fcntl(hurry_pipe[1], F_SETFL, O_NONBLOCK) < 0)
        die_sys("pipe");
    catch_signal(SIGINT, on_signal);
    catch_signal(SIGTERM, on_signal);
    catch_signal(SIGALRM, on_signal);

    if ((spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
        die_sys("/dev/null");
    if ((root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        die_sys("cannot open root %s", root);
    if ((probe = open_beneath(root_fd, ".")) < 0)
        die_sys("openat2 on root %s (needs Linux 5.6 or later)", root);
    close(probe);
    int listenfd = Tcp_listen(&sa, salen);
    /* Non-blocking, so that accept() after poll() cannot wait for a client that is gone. */
    if (fcntl(listenfd, F_SETFL, O_NONBLOCK) < 0)
        die_sys("fcntl");
    return listenfd;
}
