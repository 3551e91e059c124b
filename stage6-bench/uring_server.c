/*
 * uring_server: stage 3's server built on completions (io_uring) instead of readiness.
 *
 * Stages 2 to 5 ask the kernel "which sockets are ready?" and then do the I/O
 * themselves, a call each, with partial results and EAGAIN.  Here the server asks the
 * kernel to do the I/O: it submits an operation (accept, receive, send; open, read at
 * an offset and close a file) into a ring shared with the kernel, and later
 * reaps its completion, which carries the result: the new socket or file, the byte
 * count, or an error.  There is no readiness check and no EAGAIN, and no helper thread
 * of ours: a call that must wait for the disk waits in the kernel (in its own
 * workers), and the loop serves the others meanwhile, as stage 4's aio did for reads
 * only, with glibc's threads and a signal per read.  This is the Linux counterpart of
 * the completion port (IOCP) of the course notes.
 *
 * Rules, flags, logging and signals are stage 3's (files.c, path.c; its rules a step at
 * a time, files.h's target): SIGINT or SIGTERM make a pipe readable, and a poll on that
 * pipe is one more submitted operation.
 *
 * Each connection has at most one operation in flight on its socket or its file, so
 * its buffers belong to the kernel exactly while that operation runs; a connection
 * closed meanwhile (a timeout, the stop) is shut down, which ends the operation, and is
 * freed when its completion comes back.
 */
#define _GNU_SOURCE /* statx, AT_EMPTY_PATH */
#include "clock.h"
#include "err.h"
#include "files.h"
#include "http.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_SIZE 16384  /* a response head and (a chunk of) its body */
#define MAX_DRAIN 65536 /* unread request bytes we swallow before closing */
#define LINGER_MS 1000  /* and how long we wait for them (as nginx's lingering close) */
#define RING_SIZE 4096  /* submission slots; completions get twice as many */

enum conn_state {
    CONN_READING, /* a receive in flight for (the rest of) a request head */
    CONN_WRITING, /* opening the file; a send of out[outpos..outlen); a read into out[] */
    CONN_CLOSING, /* all sent and our side shut down: receiving until the client closes */
};

/* What a completion is for: the low bits of its user_data.  A connection's operations
 * carry its address (8-aligned) with one of these; the others a number. */
enum op { OP_RECV = 1, OP_SEND = 2, OP_READ = 3, OP_OPEN = 4 };
#define OP_MASK 7u
#define UD_ACCEPT ((uint64_t)4 << 3) /* the listener's accept */
#define UD_STOP ((uint64_t)5 << 3)   /* the stop pipe became readable */
#define UD_HURRY ((uint64_t)6 << 3)  /* the hurry pipe became readable */
#define UD_CANCEL ((uint64_t)7 << 3) /* the cancel of the accept (its own result) */
#define UD_LISTEN ((uint64_t)8 << 3) /* out of descriptors: a client is waiting again */
#define UD_CLOSE ((uint64_t)9 << 3)  /* a file's close (nothing to do when it is done) */

/* A file being opened, by stage 3's rules (files.h's target): an open, and for a folder
 * another for its index.html.  Only while that runs, not per client. */
struct opening {
    struct http_request req; /* the request, for the answer's head */
    struct target t;
    struct opening *next; /* in the list of spare ones */
};
#define MAX_SPARE_OPENINGS 64

struct conn {
    int fd;
    enum conn_state state;
    bool busy;              /* an operation is in flight: the kernel owns in[] or out[] */
    bool dead;              /* closed: free it when that operation completes */
    char peer[ADDR_STRLEN]; /* client address, for the log */
    long long last_active;  /* when a byte last moved (ms); -t counts from here */
    char in[HTTP_MAX_HEAD]; /* bytes received and not yet answered */
    size_t inlen;
    char out[OUT_SIZE]; /* the response being sent */
    size_t outlen, outpos;
    bool keep_alive;
    char line[HTTP_LOG_LINE]; /* the request being answered, for the log line */
    int status;
    long long sent;
    size_t drained;           /* bytes swallowed in CONN_CLOSING */
    struct opening *opening;  /* the file being opened, or NULL */
    int file;                 /* the file being sent, or -1 */
    off_t file_off;           /* where its next read starts */
    off_t file_left;          /* bytes of it not yet read */
    struct conn *prev, *next; /* every open connection, for the stop and the time-outs */
};

static struct io_uring ring;
static struct conn *all; /* the open connections */
static int nconns;       /* how many */
static int zombies;      /* closed ones whose last operation is still in flight */
static long long timeout_ms = 10000;
static bool quiet;
static int listenfd = -1;
static bool accepting;                    /* an accept is in flight */
static bool stopping, hurry;              /* the stop came; answers under way must be cut */
static long long next_check;              /* no connection's time runs out before this (ms) */
static int spare_fd = -1;                 /* freed to refuse a client when descriptors run out */
static struct sockaddr_storage accept_sa; /* the client's address, from the accept in flight */
static struct opening *spare_openings;    /* done with, kept for the next ones */
static int nspare_openings;
static socklen_t accept_len;

/* A free submission slot; when the ring is full, hand what is queued to the kernel. */
static struct io_uring_sqe *
sqe_get(void)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

    if (sqe == NULL) {
        io_uring_submit(&ring);
        if ((sqe = io_uring_get_sqe(&ring)) == NULL)
            die("io_uring: no submission slot after submitting");
    }
    return sqe;
}

static long long
conn_deadline(const struct conn *c)
{
    return c->last_active + (c->state == CONN_CLOSING ? LINGER_MS : timeout_ms);
}

/* Bytes moved: -t starts again, and the next time-out check may be due sooner. */
static void
conn_touch(struct conn *c)
{
    c->last_active = now_ms();
    if (conn_deadline(c) < next_check)
        next_check = conn_deadline(c);
}

/* Submit the connection's next operation on its socket or file. */
static void
submit_recv(struct conn *c)
{
    struct io_uring_sqe *sqe = sqe_get();

    if (c->state == CONN_CLOSING) /* swallow into out[], which is done with */
        io_uring_prep_recv(sqe, c->fd, c->out, sizeof c->out, 0);
    else
        io_uring_prep_recv(sqe, c->fd, c->in + c->inlen, sizeof c->in - c->inlen, 0);
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | OP_RECV);
    c->busy = true;
}

static void
submit_send(struct conn *c)
{
    struct io_uring_sqe *sqe = sqe_get();

    io_uring_prep_send(sqe, c->fd, c->out + c->outpos, c->outlen - c->outpos, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | OP_SEND);
    c->busy = true;
}

/* Read the file's next chunk into out[] after what is there. */
static void
submit_read(struct conn *c)
{
    struct io_uring_sqe *sqe = sqe_get();

    /* BEGIN STUDENT 3: as much as out[] has room for, and no more than the file has left */
    size_t want = sizeof c->out - c->outlen;
    if ((off_t)want > c->file_left)
        want = (size_t)c->file_left;
    /* STUB: size_t want = 0; */
    /* END STUDENT */
    io_uring_prep_read(sqe, c->file, c->out + c->outlen, (unsigned)want, (uint64_t)c->file_off);
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | OP_READ);
    c->busy = true;
}

/* Open the file's next name beneath the root (files.h: target_opened says which). */
static void
submit_open(struct conn *c)
{
    struct io_uring_sqe *sqe = sqe_get();
    struct target *t = &c->opening->t;

    io_uring_prep_openat2(sqe, t->dir, t->name, &t->how);
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | OP_OPEN);
    c->busy = true;
}

/* Close the file that was sent.  A close can wait too (a network or FUSE file system
 * flushes), so it is one more operation; nothing waits for its completion. */
static void
close_file(struct conn *c)
{
    struct io_uring_sqe *sqe = sqe_get();

    io_uring_prep_close(sqe, c->file);
    io_uring_sqe_set_data64(sqe, UD_CLOSE);
    c->file = -1;
}

static void
submit_accept(void)
{
    struct io_uring_sqe *sqe = sqe_get();

    accept_len = sizeof accept_sa;
    io_uring_prep_accept(sqe, listenfd, (struct sockaddr *)&accept_sa, &accept_len, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, UD_ACCEPT);
    accepting = true;
}

/* Watch descriptor fd for readability: one completion, tagged ud, when it is. */
static void
submit_poll(int fd, uint64_t ud)
{
    struct io_uring_sqe *sqe = sqe_get();

    io_uring_prep_poll_add(sqe, fd, POLLIN);
    io_uring_sqe_set_data64(sqe, ud);
}

/* An opening's 17 KiB come and go with each request: malloc() and free() would grow and
 * shrink the heap over and over (brk, then a page fault per page), which halved the rate
 * here.  So the last few stay, for the next requests. */
static struct opening *
opening_get(void)
{
    struct opening *o = spare_openings;

    if (o == NULL)
        return malloc(sizeof *o);
    spare_openings = o->next;
    nspare_openings--;
    return o;
}

static void
opening_put(struct opening *o)
{
    if (o == NULL || nspare_openings >= MAX_SPARE_OPENINGS) {
        free(o);
        return;
    }
    o->next = spare_openings;
    spare_openings = o;
    nspare_openings++;
}

/* Free c, now that no operation of it is in flight. */
static void
conn_free(struct conn *c)
{
    opening_put(c->opening);
    if (c->file >= 0)
        close(c->file);
    close(c->fd);
    free(c);
}

/* Close c: out of the list at once, and its socket shut down so that an operation in
 * flight ends; its memory goes when that operation's completion comes. */
static void
conn_close(struct conn *c)
{
    if (c->state == CONN_WRITING && !quiet)
        http_log(c->peer, c->line, c->status, c->sent); /* a cut answer */
    *(c->prev ? &c->prev->next : &all) = c->next;
    if (c->next)
        c->next->prev = c->prev;
    nconns--;
    c->dead = true;
    if (c->busy) {
        shutdown(c->fd, SHUT_RDWR);
        zombies++;
    } else {
        conn_free(c);
    }
    /* A descriptor came free: an accept that waited for one can go again. */
    if (!accepting && listenfd >= 0 && !stopping)
        submit_accept();
}

/* Put an error response into c->out (req NULL: no request could be parsed). */
static void
serve_error(struct conn *c, const struct http_request *req, int status)
{
    c->status = status;
    c->outlen = http_error(c->out, sizeof c->out, req, status);
    if (status == 503)
        c->keep_alive = false;
}

/* Send the answer prepared in out[]: after its file's first chunk, if it has a file. */
static void
conn_start_answer(struct conn *c)
{
    if (c->file >= 0)
        submit_read(c); /* the chunk goes right after the head: one send for both */
    else
        submit_send(c);
}

/* Put the answer for status (from target_start or target_opened; not 0) into c->out. */
static void
serve_status(struct conn *c, const struct http_request *req, int status)
{
    if (status == 301) {
        c->status = 301;
        c->outlen = http_redirect_dir(c->out, sizeof c->out, req);
    } else {
        serve_error(c, req, status);
    }
}

/* Answer req with fd, an open regular file: its head into c->out, its body by reads. */
static void
serve_file(struct conn *c, const struct http_request *req, int fd, const char *type, off_t size)
{
    /* BEGIN STUDENT 3: the head; then the file, unless HEAD asked or it is empty */
    c->status = 200;
    c->outlen = http_head(c->out, sizeof c->out, req, 200, type, size);
    c->file = fd;
    if (req->head || size == 0) {
        close_file(c);
        return;
    }
    c->file_off = 0;
    c->file_left = size;
    /* STUB: (void)type, (void)size; */
    /* STUB: close(fd); */
    /* STUB: serve_error(c, req, 404); */
    /* END STUDENT */
}

/* Answer req: what names no file at once, a file once submitted calls have opened it. */
static void
serve(struct conn *c, const struct http_request *req)
{
    struct opening *o = opening_get();
    int status;

    if (o == NULL) {
        serve_error(c, req, 500);
        return;
    }
    if ((status = target_start(&o->t, req)) != TARGET_OPEN) {
        opening_put(o);
        serve_status(c, req, status);
        return;
    }
    o->req = *req; /* in[] moves on to the next request meanwhile */
    c->opening = o;
    c->status = 0; /* no answer yet: a connection cut before one logs 0 */
    submit_open(c);
}

/* The open of c's file gave res (the file, or -errno) and its stat st (NULL if it
 * failed or it did not open): open the next name (a folder's index), or answer. */
static void
conn_opened(struct conn *c, int res, const struct stat *st)
{
    struct opening *o = c->opening;
    int status = target_opened(&o->t, res, st);

    if (status == TARGET_OPEN) {
        submit_open(c);
        return;
    }
    if (status == 0)
        serve_file(c, &o->req, o->t.fd, o->t.type, st->st_size);
    else
        serve_status(c, &o->req, status);
    c->opening = NULL;
    opening_put(o);
    conn_start_answer(c);
}

/* If a whole request head has arrived, answer it; otherwise receive more. */
static void
conn_process(struct conn *c)
{
    struct http_request req;
    size_t head = http_head_len(c->in, c->inlen);

    if (head == 0 && c->inlen < sizeof c->in) {
        submit_recv(c); /* not all here yet */
        return;
    }
    c->outpos = 0;
    c->sent = 0;
    c->state = CONN_WRITING;
    if (head == 0) {
        strcpy(c->line, "-");
        c->keep_alive = false;
        serve_error(c, NULL, 431);
    } else {
        int status = http_parse(c->in, head, &req);
        memcpy(c->line, req.line, sizeof c->line);
        c->keep_alive = req.keep_alive && !stopping;
        if (status != 0)
            serve_error(c, &req, status);
        else
            serve(c, &req);
        /* Pipelined requests that came after this one wait in in[] for their turn. */
        memmove(c->in, c->in + head, c->inlen - head);
        c->inlen -= head;
    }
    if (c->opening == NULL)
        conn_start_answer(c); /* (else once the file is open) */
}

/* The whole answer is out: log it, then the next request, or close gracefully. */
static void
conn_answered(struct conn *c)
{
    if (!quiet)
        http_log(c->peer, c->line, c->status, c->sent);
    if (c->keep_alive && !stopping) {
        c->state = CONN_READING;
        conn_process(c); /* a pipelined request may be waiting already */
    } else {
        /* close() now could reset the connection and lose the answer: stop writing and
         * receive until the client's end, for LINGER_MS at most. */
        shutdown(c->fd, SHUT_WR);
        c->state = CONN_CLOSING;
        c->drained = 0;
        int unread = 0;
        if (stopping && (ioctl(c->fd, FIONREAD, &unread) < 0 || unread == 0)) {
            conn_close(c); /* stopping: nothing more is coming that we must wait for */
            return;
        }
        conn_touch(c);
        submit_recv(c);
    }
}

/* A completion for connection c: op, with result res (a count, or -errno). */
static void
conn_complete(struct conn *c, enum op op, int res)
{
    c->busy = false;
    if (op == OP_OPEN && res >= 0)
        c->file = res; /* (closed with c, if c was closed meanwhile) */
    if (c->dead) {
        conn_free(c); /* closed while this was in flight */
        zombies--;
        return;
    }
    switch (op) {
    case OP_RECV:
        if (res <= 0) {
            conn_close(c); /* the client closed (0) or reset the connection */
            return;
        }
        if (c->state == CONN_CLOSING) {
            c->drained += (size_t)res; /* not a sign of life: the linger runs on */
            if (c->drained > MAX_DRAIN)
                conn_close(c);
            else
                submit_recv(c);
            return;
        }
        /* -t runs from a head's first byte (slowloris). */
        if (c->inlen == 0)
            conn_touch(c);
        c->inlen += (size_t)res;
        conn_process(c);
        return;
    case OP_READ:
        if (res <= 0) { /* a read error, or a file that shrank */
            close_file(c);
            if (c->sent == 0 && c->outpos == 0) {
                serve_error(c, NULL, 500); /* nothing sent yet: the client can be told */
                c->keep_alive = false;
                submit_send(c);
            } else {
                conn_close(c); /* the head promised more than we can send */
            }
            return;
        }
        /* BEGIN STUDENT 3: the chunk is in out[]; at the file's end, close it */
        c->outlen += (size_t)res;
        c->file_off += res;
        c->file_left -= res;
        if (c->file_left == 0)
            close_file(c);
        /* END STUDENT */
        submit_send(c);
        return;
    case OP_OPEN: {
        /* Its type and size, as the kernel has them (AT_STATX_DONT_SYNC): that answers at
         * once, where a full stat may ask a file server (FUSE, NFS) and wait, and where
         * io_uring's own statx always hands the call to a worker thread, hit or not.  The
         * open has just fetched them. */
        const unsigned want = STATX_TYPE | STATX_SIZE;
        struct statx x;
        struct stat st;
        bool ok = res >= 0 && statx(res, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, want, &x) == 0 &&
                  (x.stx_mask & want) == want;
        if (ok)
            st = (struct stat){.st_mode = x.stx_mode, .st_size = (off_t)x.stx_size};
        c->file = -1; /* target_opened keeps it, or closes it */
        conn_opened(c, res, ok ? &st : NULL);
        return;
    }
    case OP_SEND:
        if (res < 0) {
            conn_close(c); /* EPIPE, ECONNRESET: the client has gone */
            return;
        }
        c->outpos += (size_t)res;
        c->sent += res;
        conn_touch(c);
        if (c->outpos < c->outlen) {
            submit_send(c); /* a partial send: the rest */
        } else if (c->file >= 0) {
            c->outpos = c->outlen = 0;
            submit_read(c); /* the file's next chunk */
        } else {
            conn_answered(c);
        }
        return;
    }
}

/* A client for us: serve it, or refuse it when we cannot. */
static void
conn_open(int fd)
{
    struct conn *c = calloc(1, sizeof *c);

    if (c == NULL) {
        refuse(fd);
        return;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
    c->fd = fd;
    c->file = -1;
    c->state = CONN_READING;
    addr_format(&accept_sa, c->peer, sizeof c->peer);
    c->next = all;
    if (all)
        all->prev = c;
    all = c;
    nconns++;
    conn_touch(c);
    submit_recv(c);
}

/* The accept's completion: res is the new socket, or -errno. */
static void
accept_complete(int res)
{
    accepting = false;
    if (stopping || listenfd < 0)
        return;
    if (res >= 0) {
        conn_open(res);
    } else if ((res == -EMFILE || res == -ENFILE) && spare_fd >= 0) {
        /* Out of descriptors: free the spare, take the client, refuse it (503), take the
         * spare back; the clients we hold are served meanwhile.  But accept() fails so
         * before it looks for a client: when none is waiting (EAGAIN), another accept
         * would fail at once, for ever.  Then wait until one is (a poll, the one
         * readiness check here), and refuse it the same way. */
        close(spare_fd);
        int fd = accept(listenfd, NULL, NULL);
        if (fd >= 0)
            refuse(fd);
        spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            submit_poll(listenfd, UD_LISTEN);
            accepting = true; /* (as good as: the poll's completion submits it) */
            return;
        }
    } else if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
        /* No spare left: accept again once a connection has closed (conn_close). */
        errno = -res;
        warn_sys("accept");
        return;
    }
    submit_accept();
}

/* The first SIGINT or SIGTERM: stop accepting, let go of the connections nothing is in
 * flight for, and give the others -t (files.c's alarm then makes the hurry pipe speak). */
static void
stop(void)
{
    struct io_uring_sqe *sqe;

    stopping = true;
    if (accepting) { /* an accept, or the poll that waits to submit one */
        sqe = sqe_get();
        io_uring_prep_cancel64(sqe, UD_ACCEPT, 0);
        io_uring_sqe_set_data64(sqe, UD_CANCEL);
        sqe = sqe_get();
        io_uring_prep_cancel64(sqe, UD_LISTEN, 0);
        io_uring_sqe_set_data64(sqe, UD_CANCEL);
    }
    close(listenfd); /* the kernel refuses new clients (once the accept is cancelled) */
    listenfd = -1;
    for (struct conn *c = all, *next; c != NULL; c = next) {
        int unread = 0;
        next = c->next;
        if (c->state == CONN_READING ||
            (c->state == CONN_CLOSING && (ioctl(c->fd, FIONREAD, &unread) < 0 || unread == 0)))
            conn_close(c);
        else
            c->keep_alive = false;
    }
}

/* Let go of every connection whose time has run out; note when the next one's will. */
static void
check_timeouts(void)
{
    long long now = now_ms();

    next_check = now + timeout_ms;
    for (struct conn *c = all, *next; c != NULL; c = next) {
        next = c->next;
        long long t = conn_deadline(c);
        if (now >= t)
            conn_close(c);
        else if (t < next_check)
            next_check = t;
    }
}

int
main(int argc, char *argv[])
{
    int stop_fd, hurry_fd, err;
    long timeout_s;
    struct rlimit nofile;

    listenfd = setup(argc, argv);
    setup_settings(&timeout_s, &quiet, &stop_fd, &hurry_fd);
    timeout_ms = 1000LL * timeout_s;
    /* As many clients as the hard limit on descriptors allows. */
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &nofile);
    }
    if ((spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
        die_sys("/dev/null");
    if ((err = io_uring_queue_init(RING_SIZE, &ring, 0)) < 0) {
        errno = -err;
        die_sys("io_uring_queue_init (io_uring is disabled or missing here)");
    }
    /* A read that must wait for the disk goes to the kernel's io-wq workers, which by
     * default wait for at most four such reads per CPU at once: on 2 cores, 8 reads of
     * 10 ms each make 800 a second, whatever the clients.  Let as many wait as the ring
     * holds (workers come and go with the load).  Kernels before 5.15 keep their
     * default, and say so. */
    unsigned int workers[2] = {RING_SIZE, 0}; /* bounded (files), unbounded (unchanged) */
    if ((err = io_uring_register_iowq_max_workers(&ring, workers)) < 0) {
        errno = -err;
        warn_sys("io_uring_register_iowq_max_workers");
    }
    submit_poll(stop_fd, UD_STOP);
    submit_accept();
    next_check = now_ms() + timeout_ms;

    /* Until stopped, and every answer is out, and the kernel has given back every buffer. */
    while (listenfd >= 0 || nconns > 0 || zombies > 0) {
        struct io_uring_cqe *cqe;
        long long wait = next_check - now_ms();
        struct __kernel_timespec ts = {.tv_sec = wait > 0 ? wait / 1000 : 0,
                                       .tv_nsec = wait > 0 ? wait % 1000 * 1000000 : 0};

        /* Hand over what was queued and sleep until a completion or the next time-out. */
        err = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, NULL);
        if (err < 0 && err != -ETIME && err != -EINTR) {
            errno = -err;
            die_sys("io_uring_wait");
        }
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe)
        {
            uint64_t ud = io_uring_cqe_get_data64(cqe);
            int res = cqe->res;
            seen++;
            if (ud & OP_MASK) {
                conn_complete((struct conn *)(uintptr_t)(ud & ~(uint64_t)OP_MASK),
                              (enum op)(ud & OP_MASK), res);
            } else if (ud == UD_ACCEPT) {
                accept_complete(res);
            } else if (ud == UD_LISTEN) {
                accepting = false;
                if (!stopping && listenfd >= 0)
                    submit_accept();
            } else if (ud == UD_STOP && !stopping) {
                stop();
                submit_poll(hurry_fd, UD_HURRY);
            } else if (ud == UD_HURRY) {
                hurry = true;
            }
        }
        io_uring_cq_advance(&ring, seen);
        if (hurry)
            while (all != NULL)
                conn_close(all); /* a second signal, or -t after the stop */
        if (now_ms() >= next_check)
            check_timeouts();
    }
    io_uring_queue_exit(&ring);
    while (spare_openings != NULL) {
        struct opening *o = spare_openings;
        spare_openings = o->next;
        free(o);
    }
    close(spare_fd);
    return 0;
}
