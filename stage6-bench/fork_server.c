/*
 * Stage 6: a process per connection, the classic Unix server.
 *
 * The parent only accepts.  For each client it fork()s a child, which closes
 * the listener, serves that one client with plain blocking calls (files.c) and
 * exits.  A client that waits on the network or the disk holds up only its own
 * process, and a crash ends only its own connection; the kernel's scheduler is
 * the event loop.  The price: a fork() per connection (the page tables are
 * copied, the pages themselves only when written), and a process, with its
 * stack and kernel bookkeeping, for every client at once.
 *
 * A child that exits stays a zombie, holding its exit status and its process
 * slot, until the parent collects it with waitpid().  SIGCHLD says when.
 */
#include "err.h"
#include "files.h"
#include "net.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* Set by the SIGCHLD handler, read by the loop. */
static volatile sig_atomic_t child_exited;

/* Only note that a child exited.  The handler's real work is to exist: SIGCHLD is
 * ignored by default, and only a caught one interrupts the parent's wait for a client. */
static void
on_child(int sig)
{
    (void)sig;
    child_exited = 1;
}

/* Collect every child that has exited, without waiting for those still serving. */
static void
reap_children(void)
{
    child_exited = 0; /* before waitpid: a child exiting meanwhile sets it again */
    while (waitpid(-1, NULL, WNOHANG) > 0)
        continue;
}

int
main(int argc, char *argv[])
{
    int listenfd = setup(argc, argv);

    catch_signal(SIGCHLD, on_child);
    while (!stop_requested) {
        char peer[ADDR_STRLEN];
        int fd = accept_client(listenfd, peer, sizeof peer);
        pid_t pid;

        /* After a SIGCHLD, and after every accept too: one that came just before
         * the wait began did not interrupt it, and zombies must not pile up. */
        if (child_exited || fd >= 0)
            reap_children();
        if (fd < 0)
            continue; /* a signal, or a failure already reported */
        if ((pid = fork()) == 0) {
            close(listenfd); /* the child serves this client only */
            serve_client(fd, peer);
            _exit(0); /* not exit(): nothing of the parent's (stdio buffers, atexit) to run */
        }
        if (pid < 0) {
            warn_sys("fork"); /* EAGAIN: out of processes or memory; the next may fit */
            refuse(fd);
        } else {
            close(fd); /* the child has its own copy; ours would keep the connection open */
        }
    }

    /* Stop accepting (the kernel now refuses new clients), and wait for the children.
     * They learn of the stop from the pipe they share with us (files.c), not from a
     * signal of their own: each finishes the answer under way and closes, and one
     * whose client is idle between two requests closes at once. */
    close(listenfd);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        continue;
    return 0;
}
