/*
 * files.h - stage 3's file serving, done with blocking calls, for the two
 * servers the event loops are measured against: fork_server (a process per
 * connection) and thread_server (a thread per connection).
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

#include <stdatomic.h>
#include <stddef.h>

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

#endif
