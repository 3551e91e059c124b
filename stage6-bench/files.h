/*
 * files.h - stage 3's file serving, done with blocking calls, for the two
 * servers the event loops are measured against: fork_server (a process per
 * connection) and thread_server (a thread per connection); and stage 3's rules
 * and flags for uring_server, which has a loop of its own.
 *
 *   int listenfd = setup(argc, argv);        flags as stage 3; "listening on ..."
 *   while (!stop_requested)
 *       if ((fd = accept_client(listenfd, peer, sizeof peer)) >= 0)
 *           serve_client(fd, peer);          in a child process, or a thread
 *
 * serve_client keeps every buffer on its own stack, so any number of threads
 * may run it at once.
 */
#ifndef EVLAB_FILES_H
#define EVLAB_FILES_H

#include "http.h"

#include <linux/openat2.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* Set by SIGINT and SIGTERM: stop accepting.  serve_client sees the stop too, in every
 * process and thread: it finishes the answer under way and closes. */
extern atomic_int stop_requested;

/* Parse the command line, open the root, install the signal handlers; return the listener. */
int setup(int argc, char *argv[]);

/* Run handler on sig, without SA_RESTART: a blocking call then fails with EINTR. */
void catch_signal(int sig, void (*handler)(int));

/* The next client's socket and its address in peer; -1 after a signal or the stop (EINTR),
 * or a failure. */
int accept_client(int listenfd, char *peer, size_t size);

/* Serve the client on fd, one request after another, until it is done; then close fd. */
void serve_client(int fd, const char *peer);

/* Answer 503 and close fd: for a client we cannot take on. */
void refuse(int fd);

/* Open the file req names, by stage 3's rules (under the root, a folder's index.html):
 * 0, with the open regular file in *fd, its stat in *st and its MIME type in *type; 301
 * for a folder named without its final slash; or the status of the error to answer
 * (*fd is then -1). */
int open_target(const struct http_request *req, int *fd, struct stat *st, const char **type);

/*
 * The same rules a step at a time, for a server that makes the calls itself and waits
 * for none of them (uring_server submits them):
 *
 *   struct target t;
 *   int status = target_start(&t, req);
 *   while (status == TARGET_OPEN) {
 *       res = openat2(t.dir, t.name, &t.how, sizeof t.how);    the file, or -errno
 *       ... and if it opened, its stat: st, or NULL if fstat failed
 *       status = target_opened(&t, res, st);
 *   }
 *
 * 0 leaves t.fd open (a regular file, of MIME type t.type); any other status leaves no
 * descriptor open.  A folder takes two turns: itself, then its index.html.
 */
#define TARGET_OPEN 1 /* not a status: open t.name next */

struct target {
    int dir;                                        /* open name beneath this (the root), */
    char name[HTTP_MAX_HEAD + sizeof "index.html"]; /* relative, "." for the root itself */
    struct open_how how;                            /* so (open_beneath's flags) */
    bool slash;                                     /* the path ended in "/" */
    bool index;                                     /* name is a folder's index.html */
    int fd;                                         /* status 0: the file, else -1 */
    const char *type;                               /* status 0: its MIME type */
};

/* The first name to open for req: TARGET_OPEN, or the status of the error to answer. */
int target_start(struct target *t, const struct http_request *req);

/* t.name's open gave res (a descriptor, or -errno) and st (its stat; NULL if that
 * failed or it did not open): 0, TARGET_OPEN for another name, or the status to answer. */
int target_opened(struct target *t, int res, const struct stat *st);

/* What setup() read and made, for a server with a loop of its own: -t in seconds, -q,
 * and two descriptors that become readable for good, one at the stop (the first SIGINT
 * or SIGTERM), one when the answers under way must be cut (-t later, or a second). */
void setup_settings(long *timeout_s, bool *quiet_log, int *stop_fd, int *hurry_fd);

#endif
