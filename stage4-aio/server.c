/*
 * Stage 4: stage 3's file server, with file reads done by POSIX aio.
 *
 * Each chunk of a file is asked for with aio_read(), and the connection waits
 * in a new state, CONN_DISK, while the loop serves everyone else.  When a read
 * finishes, the aio library sends us SIGUSR2; like every signal here it is
 * blocked except inside pselect(), so it wakes the loop, which asks each
 * waiting connection's request whether it is done (aio_error) and takes its
 * result (aio_return).  open() and fstat() stay synchronous: POSIX has no
 * asynchronous open.
 */
#include "clock.h"
#include "err.h"
#include "http.h"
#include "net.h"
#include "path.h"

#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define USAGE "[-a ADDR] [-p PORT] [-t SECS] [-r DIR] [-q] [-h]"
#define OUT_SIZE 16384  /* a response head and (a chunk of) its body */
#define MAX_DRAIN 65536 /* unread request bytes we swallow before closing */
#define LINGER_MS 1000  /* and how long we wait for them (as nginx's lingering close) */

enum conn_state {
    CONN_READING, /* waiting for (the rest of) a request head */
    CONN_WRITING, /* sending out[outpos..outlen), refilled from the file while it lasts */
    CONN_DISK,    /* waiting for aio_read to put the next chunk of the file into out[] */
    CONN_CLOSING, /* all sent and our side shut down: swallowing input until the client closes */
};

struct conn {
    int fd;
    enum conn_state state;
    char peer[ADDR_STRLEN]; /* client address, for the log */
    long long last_active;  /* when a byte last moved (ms); -t counts from here */
    char in[HTTP_MAX_HEAD]; /* bytes received and not yet answered: requests arrive in pieces */
    size_t inlen;
    char out[OUT_SIZE]; /* the response being sent: writes are partial too */
    size_t outlen, outpos;
    bool keep_alive;          /* read the next request after this response */
    char line[HTTP_LOG_LINE]; /* the request being answered, for the log line */
    int status;
    long long sent;
    size_t drained;   /* bytes swallowed in CONN_CLOSING */
    int file;         /* the file being sent, or -1 */
    off_t file_left;  /* bytes of it not yet read */
    off_t file_off;   /* where the next read starts: aio has no file position */
    struct aiocb aio; /* the read in flight in CONN_DISK: it owns out[] until it is done */

    struct conn *next_orphan; /* closed with that read still in flight: see orphans */
};

/* Indexed by descriptor; select() cannot watch one at or above FD_SETSIZE anyway. */
static struct conn *conns[FD_SETSIZE];
/* Connections closed while their read was in flight.  glibc cannot stop a read that has
 * begun, and it still writes into c->out, so such a struct outlives its socket until the
 * read is done (reap_orphans).  The loop never waits for a disk. */
static struct conn *orphans;
static long long timeout_ms = 10000;
static bool quiet;
static int spare_fd = -1; /* kept open to be freed when accept() runs out of descriptors */
static int root_fd = -1;  /* the document root: every file is opened beneath it */

/* Write all len bytes, resuming after short writes and EINTR; 0, or -1 and errno. */
static int
write_all(int fd, const char *buf, size_t len)
{
    /* BEGIN STUDENT 1: write until all len bytes are out; resume after short writes, EINTR */
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

/* Set by the signal handler, read by the loop. */
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t disk_done; /* some aio_read has finished */

/* Only note which signal came.  A handler may run between any two instructions of
 * the loop, so the loop, not the handler, closes sockets and frees memory. */
static void
on_signal(int sig)
{
    /* BEGIN STUDENT 2: note which signal came; nothing else is safe in a handler */
    switch (sig) {
    case SIGINT:
    case SIGTERM: stop_requested = stop_requested + 1; break; /* a second one: stop now */
    case SIGUSR2: disk_done = 1; break;
    }
    /* STUB: (void)sig; */
    /* END STUDENT */
}

/* Make fd non-blocking: calls on it then fail with EAGAIN instead of waiting. */
static int
set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);

    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Put an error response into c->out (req NULL: no request could be parsed). */
static void
serve_error(struct conn *c, const struct http_request *req, int status)
{
    c->status = status;
    c->outlen = http_error(c->out, sizeof c->out, req, status);
    if (status == 503)
        c->keep_alive = false; /* out of descriptors: let this client go too */
}

/*
 * Ask for the next chunk of the file, to land in c->out after what is there, and
 * wait for it in CONN_DISK; 0, or -1 if the read could not be started.  The loop
 * serves the other clients meanwhile.
 */
static int
conn_fill(struct conn *c)
{
    /* BEGIN STUDENT: start an aio_read of the next chunk into out[]; its signal: SIGUSR2 */
    size_t want = sizeof c->out - c->outlen;

    if ((off_t)want > c->file_left)
        want = (size_t)c->file_left;
    memset(&c->aio, 0, sizeof c->aio);
    c->aio.aio_fildes = c->file;
    c->aio.aio_buf = c->out + c->outlen;
    c->aio.aio_nbytes = want;
    c->aio.aio_offset = c->file_off;
    /* No si_value: the handler only notes that some read finished (see conn_disk). */
    c->aio.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
    c->aio.aio_sigevent.sigev_signo = SIGUSR2;
    if (aio_read(&c->aio) < 0)
        return -1;
    c->state = CONN_DISK;
    return 0;
    /* STUB: (void)c; */
    /* STUB: return -1; */
    /* END STUDENT */
}

/*
 * Move a file's descriptor above FD_SETSIZE, where the limit leaves room (main raises
 * it): select() can watch no descriptor at or above FD_SETSIZE, and a file never goes
 * to select(), so every number below it is kept for a socket.  (Otherwise each download
 * takes two of them, and clients are refused at about 510, not 1020.)  Returns the
 * descriptor to use: fd itself if there is no room up there.
 */
static int
move_high(int fd)
{
    int high = fcntl(fd, F_DUPFD_CLOEXEC, FD_SETSIZE);

    if (high < 0)
        return fd;
    close(fd);
    return high;
}

/* Open the file req names, put its head into c->out and ask for the first chunk. */
static void
serve(struct conn *c, const struct http_request *req)
{
    /* BEGIN STUDENT 3: decode, open beneath the root (a folder: its index.html), answer */
    char path[HTTP_MAX_HEAD], index[HTTP_MAX_HEAD + sizeof "index.html"];
    const char *name;
    struct stat st;
    int status = decode_target(req->target, path, sizeof path), fd = -1;

    if (status != 0) {
        serve_error(c, req, status);
        return;
    }
    squeeze_path(path);
    /* "/a/b" names "a/b" under the root; "/" the root itself. */
    name = path + strspn(path, "/");
    if (*name == '\0')
        name = ".";
    fd = open_beneath(root_fd, name);
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        if (path[strlen(path) - 1] != '/') {
            /* "/docs" names a folder, but its page's relative links would resolve
             * against "/": send the client to "/docs/" first (as nginx does). */
            c->status = 301;
            c->outlen = http_redirect_dir(c->out, sizeof c->out, req);
            return;
        }
        /* Its index.html, opened from the root: it may be a symlink to anywhere inside. */
        snprintf(index, sizeof index, "%sindex.html", strcmp(name, ".") == 0 ? "" : name);
        name = index;
        fd = open_beneath(root_fd, name);
        if (fd < 0 && errno == ENOENT)
            errno = EACCES; /* a directory without an index is not listed */
    }
    if (fd < 0)
        status = http_open_status(errno);
    else if (fstat(fd, &st) < 0)
        status = 500;
    else if (!S_ISREG(st.st_mode))
        status = 403; /* a FIFO, device or socket: never read from it */
    if (status != 0) {
        if (fd >= 0)
            close(fd);
        serve_error(c, req, status);
        return;
    }
    c->status = 200;
    c->outlen = http_head(c->out, sizeof c->out, req, 200, http_content_type(name), st.st_size);
    if (req->head || st.st_size == 0) {
        close(fd);
        return;
    }
    c->file = move_high(fd);
    c->file_left = st.st_size;
    c->file_off = 0;
    /* The first chunk goes right after the head, so that both leave in one write, and a
     * small file in one packet. */
    if (conn_fill(c) < 0) {
        close(c->file);
        c->file = -1;
        serve_error(c, req, 500);
    }
    /* STUB: (void)move_high, (void)conn_fill; */
    /* STUB: serve_error(c, req, 404); */
    /* END STUDENT */
}

/* If a whole request head has arrived, prepare its answer and start writing it. */
static void
conn_process(struct conn *c)
{
    struct http_request req;
    size_t head = http_head_len(c->in, c->inlen);
    int status;

    if (head == 0 && c->inlen < sizeof c->in)
        return; /* not all here yet: wait for more */
    c->outpos = 0;
    c->sent = 0;
    c->state = CONN_WRITING;
    if (head == 0) {
        strcpy(c->line, "-");
        c->keep_alive = false;
        serve_error(c, NULL, 431);
    } else {
        status = http_parse(c->in, head, &req);
        memcpy(c->line, req.line, sizeof c->line);
        c->keep_alive = req.keep_alive;
        if (status != 0)
            serve_error(c, &req, status);
        else
            serve(c, &req);
        /* Pipelined requests that came after this one wait in in[] for their turn. */
        memmove(c->in, c->in + head, c->inlen - head);
        c->inlen -= head;
    }
}

/* Free the connection; log a response that was cut short. */
static void
conn_close(struct conn *c)
{
    if ((c->state == CONN_WRITING || c->state == CONN_DISK) && !quiet)
        http_log(c->peer, c->line, c->status, c->sent);
    close(c->fd);
    conns[c->fd] = NULL;
    /* BEGIN STUDENT: a read in flight owns c->out: cancel it, or leave c to reap_orphans */
    if (c->state == CONN_DISK) {
        /* The read still owns c->out.  A read not yet begun can be cancelled; one under
         * way cannot, and waiting for it here would stop every client until the disk
         * answers: leave the struct to reap_orphans instead. */
        aio_cancel(c->file, &c->aio);
        if (aio_error(&c->aio) == EINPROGRESS) {
            c->next_orphan = orphans;
            orphans = c;
            return;
        }
        aio_return(&c->aio);
    }
    /* END STUDENT */
    if (c->file >= 0)
        close(c->file);
    free(c);
}

/* Free the orphans whose reads have finished (a read ending raises SIGUSR2). */
static void
reap_orphans(void)
{
    /* BEGIN STUDENT: free each orphan whose read has finished (aio_return first) */
    struct conn **p = &orphans, *c;

    while ((c = *p) != NULL) {
        if (aio_error(&c->aio) == EINPROGRESS) {
            p = &c->next_orphan;
            continue;
        }
        *p = c->next_orphan;
        aio_return(&c->aio);
        close(c->file);
        free(c);
    }
    /* STUB: (void)orphans; */
    /* END STUDENT */
}

/* The socket is writable: send what we can of the response, and move on when it is all out. */
static void
conn_write(struct conn *c)
{
    /* BEGIN STUDENT 3: all of out[] sent and more to come: refill it (conn_fill) */
    /* All of out[] is sent and the file has more: refill it. */
    if (c->outpos == c->outlen && c->file >= 0) {
        c->outpos = c->outlen = 0;
        if (conn_fill(c) < 0) {
            conn_close(c); /* the head promised more than we can send */
            return;
        }
        return; /* in CONN_DISK: conn_disk comes back here with the data */
    }
    /* END STUDENT */
    /* BEGIN STUDENT 2: send what the socket takes; more to come: wait; all sent: log, go on */
    ssize_t n = write(c->fd, c->out + c->outpos, c->outlen - c->outpos);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return; /* no room after all: select() will say when there is */
    if (n < 0) {
        conn_close(c); /* EPIPE, ECONNRESET: the client has gone */
        return;
    }
    c->outpos += (size_t)n;
    c->sent += n;
    c->last_active = now_ms();
    if (c->outpos < c->outlen || c->file >= 0)
        return; /* a partial write, or more of the file: the rest on a later turn */

    if (!quiet)
        http_log(c->peer, c->line, c->status, c->sent);
    if (c->keep_alive) {
        c->state = CONN_READING;
        conn_process(c); /* a pipelined request may be waiting already */
    } else {
        /* close() now could reset the connection and lose the answer (stage 1's
         * close_gracefully); instead stop writing and wait for the client's EOF. */
        shutdown(c->fd, SHUT_WR);
        c->state = CONN_CLOSING;
    }
    /* STUB: (void)c, (void)conn_process; */
    /* END STUDENT */
}

/* The read conn_fill asked for may have finished: if so, take its bytes and send them. */
static void
conn_disk(struct conn *c)
{
    /* BEGIN STUDENT: if c's read is done, take its result (aio_return) and go on writing */
    ssize_t n;

    if (aio_error(&c->aio) == EINPROGRESS)
        return;
    n = aio_return(&c->aio); /* exactly once per request: it also frees the kernel's side */
    c->state = CONN_WRITING;
    if (n <= 0 && c->sent == 0) {
        /* Nothing of the answer has left yet: it can still become a 500. */
        close(c->file);
        c->file = -1;
        c->keep_alive = false;
        serve_error(c, NULL, 500);
    } else if (n <= 0) {
        conn_close(c); /* a read error, or the file shrank: the head promised more */
        return;
    } else {
        c->outlen += (size_t)n;
        c->file_left -= n;
        c->file_off += n;
        if (c->file_left == 0) {
            close(c->file);
            c->file = -1;
        }
    }
    conn_write(c);
    /* STUB: (void)c; */
    /* END STUDENT */
}

/* The socket is readable: take what the client sent. */
static void
conn_read(struct conn *c)
{
    /* BEGIN STUDENT 2: take what the client sent (swallow it when closing), process it */
    char junk[4096];
    bool closing = c->state == CONN_CLOSING;
    ssize_t n = closing ? read(c->fd, junk, sizeof junk)
                        : read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return; /* nothing after all: select() will tell us again */
    if (n <= 0) {
        conn_close(c); /* the client closed (0) or reset the connection */
        return;
    }
    if (closing) {
        c->drained += (size_t)n; /* not a sign of life: the linger runs on (conn_deadline) */
        if (c->drained > MAX_DRAIN)
            conn_close(c);
        return;
    }
    /* -t runs from a head's first byte, not its latest: a client that drips a byte at a
     * time must not hold its connection for ever (slowloris). */
    if (c->inlen == 0)
        c->last_active = now_ms();
    c->inlen += (size_t)n;
    conn_process(c);
    /* The socket is most likely writable: try now rather than wait for another turn
     * (unless a disk read is under way). */
    if (c->state == CONN_WRITING)
        conn_write(c);
    /* STUB: (void)c; */
    /* END STUDENT */
}

/* Answer 503 and close: for clients we cannot take on (best effort, never waits). */
static void
refuse(int fd)
{
    char out[HTTP_MAX_RESPONSE_HEAD + 64], junk[4096];
    size_t len = http_error(out, sizeof out, NULL, 503);

    /* These few bytes fit an empty socket buffer, though maybe not in one write().
     * If a write fails, the client is dropped all the same. */
    (void)write_all(fd, out, len);
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

/* A struct conn for a new client, or NULL if it cannot be served. */
static struct conn *
conn_open(int fd, const struct sockaddr_storage *sa)
{
    struct conn *c;

    /* FD_SET on a descriptor >= FD_SETSIZE writes past the end of the fd_set. */
    if (fd >= FD_SETSIZE || set_nonblocking(fd) < 0 || (c = calloc(1, sizeof *c)) == NULL)
        return NULL;
    /* A file leaves in 16 KiB writes.  Nagle's algorithm would hold each one back until
     * the client acknowledged the one before, and the client delays its ACKs by up to
     * 40 ms: a stall per response.  We never write a byte less than we have, so turn
     * it off (should that fail, we are slower, not wrong). */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
    c->fd = fd;
    c->file = -1;
    c->state = CONN_READING;
    c->last_active = now_ms();
    addr_format(sa, c->peer, sizeof c->peer);
    conns[fd] = c;
    return c;
}

/* Accept every client waiting in the listen queue (until EAGAIN). */
static void
accept_clients(int listenfd)
{
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof sa;
        int fd = accept(listenfd, (struct sockaddr *)&sa, &len);

        if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
            continue;
        if (fd < 0 && (errno == EMFILE || errno == ENFILE) && spare_fd >= 0) {
            /* A waiting client stays queued, so select() would report the listener ready
             * for ever: free our spare descriptor, take the client, refuse it, re-arm.
             * But accept() fails so even when nobody waits: then (EAGAIN) we are done,
             * or this would loop for ever and never serve the clients we hold. */
            close(spare_fd);
            fd = accept(listenfd, NULL, NULL);
            if (fd >= 0)
                refuse(fd);
            spare_fd = open("/dev/null", O_RDONLY);
            if (fd < 0)
                return;
            continue;
        }
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                warn_sys("accept");
            return;
        }
        if (conn_open(fd, &sa) == NULL)
            refuse(fd);
    }
}

/* Stopping: when the answers under way must be out (ms, on now_ms's clock); 0 until then. */
static long long stop_by;

/* When c runs out of time: -t after a byte last moved; or, once its answer is out and we
 * only wait for its end, LINGER_MS after that (a client that never closes costs a second);
 * and, stopping, when the stop's grace ends. */
static long long
conn_deadline(const struct conn *c)
{
    /* BEGIN STUDENT 2: -t after the last byte moved, LINGER_MS once closing; never past stop_by */
    long long t = c->last_active + (c->state == CONN_CLOSING ? LINGER_MS : timeout_ms);

    return stop_by > 0 && stop_by < t ? stop_by : t;
    /* STUB: (void)c; */
    /* STUB: return 0; */
    /* END STUDENT */
}

/* Has the client sent bytes we have not read?  Closing now would reset the connection. */
static bool
has_unread(int fd)
{
    int n = 0;

    return ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}

/*
 * pselect() lets a blocked signal in only when it has to wait: if a socket is ready at
 * once, it returns with the signal still pending, and a loop that is never idle (a busy
 * server) would never see SIGTERM.  So after a turn that did not wait, let any pending
 * signal in by hand: its handler runs here, between two turns.
 */
static void
take_signals(const sigset_t *waitmask)
{
    sigset_t pending, none, blocked;

    sigemptyset(&none);
    if (sigpending(&pending) == 0 && memcmp(&pending, &none, sizeof none) != 0 &&
        sigprocmask(SIG_SETMASK, waitmask, &blocked) == 0)
        sigprocmask(SIG_SETMASK, &blocked, NULL);
}

/*
 * The loop's first step: act on what the signal handlers noted.  SIGINT or SIGTERM:
 * stop accepting, and give the answers under way -t to finish (a reader that takes a
 * minute a megabyte must not hold the stop for an hour).
 */
static void
handle_signals(int *listenfd)
{
    /* BEGIN STUDENT 2: act on what on_signal noted: stopping, close the listener and set stop_by */
    if (stop_requested && *listenfd >= 0) {
        close(*listenfd); /* the kernel now refuses new clients */
        *listenfd = -1;
        stop_by = now_ms() + timeout_ms;
    }
    /* STUB: (void)listenfd, (void)stop_requested, (void)stop_by; */
    /* END STUDENT */
}

/*
 * The second step: fill select()'s sets (it overwrites them: anew on every turn), and
 * set *wait to how long it may sleep (ms; -1: no limit), until the first client's time
 * runs out.  Stopping, let go of the clients nothing is in flight for.  Returns the
 * highest descriptor to watch, or -1 when nothing is left to wait for.
 */
static int
arm(int listenfd, fd_set *rset, fd_set *wset, long long *wait)
{
    /* BEGIN STUDENT 2: fill the sets, *wait until the first deadline; stopping: let idle ones go */
    long long now = now_ms();
    int maxfd = listenfd;

    FD_ZERO(rset);
    FD_ZERO(wset);
    if (listenfd >= 0)
        FD_SET(listenfd, rset);
    *wait = -1;
    for (int fd = 0; fd < FD_SETSIZE; fd++) {
        struct conn *c = conns[fd];
        if (c == NULL)
            continue;
        /* Stopping: nothing is in flight for an idle client, or a request not yet
         * whole, or one that has its answer and sent nothing since; and after a second
         * signal, nothing is waited for. */
        if (stop_requested > 1 ||
            (stop_requested &&
             (c->state == CONN_READING || (c->state == CONN_CLOSING && !has_unread(fd))))) {
            conn_close(c); /* (a cut answer is logged as such) */
            continue;
        }
        if (stop_requested)
            c->keep_alive = false;
        if (c->state != CONN_DISK) /* the socket waits for the disk, not for select() */
            FD_SET(fd, c->state == CONN_WRITING ? wset : rset);
        maxfd = fd > maxfd ? fd : maxfd;
        long long left = conn_deadline(c) - now;
        if (*wait < 0 || left < *wait)
            *wait = left > 0 ? left : 0;
    }
    return maxfd;
    /* STUB: (void)listenfd, (void)rset, (void)wset, (void)wait, (void)has_unread; */
    /* STUB: return -1; */
    /* END STUDENT */
}

/*
 * The last step: act on what is ready.  New clients; then one read or one write for
 * each ready client (so that one pouring in requests cannot starve the others); and a
 * client whose time has run out is let go.  First, though, the disk reads that have
 * finished (the signal that says so woke pselect, or take_signals let it in).
 */
static void
dispatch(int listenfd, const fd_set *rset, const fd_set *wset)
{
    /* BEGIN STUDENT: reads done (disk_done, cleared first): conn_disk each, then reap_orphans */
    if (disk_done) {
        disk_done = 0; /* first: a read that finishes during the scan rings again */
        for (int fd = 0; fd < FD_SETSIZE; fd++)
            if (conns[fd] != NULL && conns[fd]->state == CONN_DISK)
                conn_disk(conns[fd]);
        reap_orphans();
    }
    /* STUB: (void)disk_done, (void)conn_disk, (void)reap_orphans; */
    /* END STUDENT */
    /* BEGIN STUDENT 2: accept if ready; a read or write per ready client; time-outs */
    if (listenfd >= 0 && FD_ISSET(listenfd, rset))
        accept_clients(listenfd);
    long long now = now_ms();
    for (int fd = 0; fd < FD_SETSIZE; fd++) {
        struct conn *c = conns[fd];
        if (c == NULL)
            continue;
        if (FD_ISSET(fd, rset))
            conn_read(c);
        else if (FD_ISSET(fd, wset))
            conn_write(c);
        else if (now >= conn_deadline(c))
            conn_close(c); /* its time ran out (conn_deadline) */
    }
    /* STUB: (void)listenfd, (void)rset, (void)wset, (void)accept_clients; */
    /* STUB: (void)conn_read, (void)conn_write, (void)conn_close, (void)conn_deadline; */
    /* END STUDENT */
}

/* Serve clients until SIGINT or SIGTERM, then finish the answers under way: each turn
 * handles the signals, arms select(), waits, and dispatches what is ready. */
static void
event_loop(int listenfd, const sigset_t *waitmask)
{
    /* BEGIN STUDENT 2: each turn: handle_signals, arm, pselect (EINTR: none ready), dispatch */
    fd_set rset, wset;
    long long wait;
    int maxfd;

    for (;;) {
        handle_signals(&listenfd);
        if ((maxfd = arm(listenfd, &rset, &wset, &wait)) < 0)
            break; /* stopping, and every answer is out */
        /* pselect unblocks our signals only while it waits, so none can slip in between
         * our look at the flags and going to sleep. */
        struct timespec ts = {.tv_sec = wait / 1000, .tv_nsec = wait % 1000 * 1000000};
        if (pselect(maxfd + 1, &rset, &wset, NULL, wait < 0 ? NULL : &ts, waitmask) < 0) {
            if (errno != EINTR)
                die_sys("select");
            FD_ZERO(&rset); /* a signal: no socket is known to be ready */
            FD_ZERO(&wset);
        }
        take_signals(waitmask);
        dispatch(listenfd, &rset, &wset);
    }
    /* STUB: (void)listenfd, (void)waitmask, (void)handle_signals, (void)arm; */
    /* STUB: (void)take_signals, (void)dispatch; */
    /* END STUDENT */
}

/*
 * Give the signals the loop handles to on_signal, and keep them blocked except while
 * pselect() waits: *waitmask is the mask it waits with (ours, less those signals).
 */
static void
catch_signals(sigset_t *waitmask)
{
    /* BEGIN STUDENT 2: on_signal for each handled signal; block them; *waitmask: all but those */
    static const int handled[] = {SIGINT, SIGTERM, SIGUSR2};
    struct sigaction act = {.sa_handler = on_signal};
    sigset_t block;

    sigemptyset(&block);
    for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++) {
        if (sigaction(handled[i], &act, NULL) < 0)
            die_sys("sigaction");
        sigaddset(&block, handled[i]);
    }
    if (sigprocmask(SIG_BLOCK, &block, waitmask) < 0)
        die_sys("sigprocmask");
    for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
        sigdelset(waitmask, handled[i]);
    /* STUB: (void)on_signal; */
    /* STUB: sigprocmask(SIG_BLOCK, NULL, waitmask); */
    /* END STUDENT */
}

int
main(int argc, char *argv[])
{
    const char *addr = "127.0.0.1", *root = ".";
    long port = 8080;
    struct sockaddr_storage sa;
    socklen_t salen;
    sigset_t waitmask;
    int opt, listenfd, probe;

    err_init(argv[0], USAGE);
    while ((opt = getopt(argc, argv, "a:p:t:r:qh")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'p': port = arg_long("-p", optarg, 0, 65535); break;
        case 't': timeout_ms = 1000LL * arg_long("-t", optarg, 1, 86400); break;
        case 'r': root = optarg; break;
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
    catch_signals(&waitmask);

    /* Room above FD_SETSIZE for the files (move_high), as far as the hard limit allows;
     * should that fail, files stay among the sockets: fewer clients, nothing wrong. */
    struct rlimit nofile;
    const rlim_t room = 2 * (rlim_t)FD_SETSIZE;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < room) {
        nofile.rlim_cur = nofile.rlim_max < room ? nofile.rlim_max : room;
        (void)setrlimit(RLIMIT_NOFILE, &nofile);
    }
    if ((spare_fd = open("/dev/null", O_RDONLY)) < 0)
        die_sys("/dev/null");
    if ((root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        die_sys("cannot open root %s", root);
    if ((probe = open_beneath(root_fd, ".")) < 0)
        die_sys("openat2 on root %s (needs Linux 5.6 or later)", root);
    close(probe);
    listenfd = Tcp_listen(&sa, salen);
    if (set_nonblocking(listenfd) < 0)
        die_sys("fcntl");
    if (listenfd >= FD_SETSIZE)
        die("listening descriptor %d is beyond select()'s FD_SETSIZE", listenfd);

    event_loop(listenfd, &waitmask);
    close(root_fd);
    close(spare_fd);
    return 0;
}
