/*
 * Stage 6: a thread per connection.
 *
 * The main thread only accepts.  Each client gets a thread of its own, which
 * serves it with plain blocking calls (files.c) and ends with the connection.
 * A thread is cheaper to start than a process (no page tables to copy), but
 * all threads share one memory: serve_client keeps its state on its own stack,
 * and the little that is shared is guarded: the count of live threads by a
 * mutex, the stop flag by being atomic.
 *
 * Threads are created detached: one frees its own resources when it returns,
 * with nobody to pthread_join it (the counterpart of a zombie process).  Each
 * gets the default stack, 8 MiB of address space (ulimit -s), of which only the
 * pages it touches take memory: some 45 KiB here (VmRSS in /proc/PID/status).
 * 10,000 clients reserve 80 GiB of address space, which 64 bits can spare, and
 * use some 450 MiB.
 */
#include "err.h"
#include "files.h"
#include "net.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* What main hands a new thread: malloc'ed by main, freed by the thread. */
struct client {
    int fd;
    char peer[ADDR_STRLEN];
};

/* The number of connection threads alive: at SIGTERM, main waits until it is 0. */
static int live;
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t live_none = PTHREAD_COND_INITIALIZER;

/* Add n to the count of live threads, and wake main when it reaches 0. */
static void
count_live(int n)
{
    pthread_mutex_lock(&live_lock);
    live += n;
    if (live == 0)
        pthread_cond_signal(&live_none);
    pthread_mutex_unlock(&live_lock);
}

/* A connection's thread: serve the client, then leave the count. */
static void *
client_thread(void *arg)
{
    struct client *cl = arg;

    serve_client(cl->fd, cl->peer);
    free(cl);
    count_live(-1);
    return NULL;
}

/* Start a thread that serves the client on fd; 0, or -1 and errno. */
static int
start_thread(int fd, const char *peer, const pthread_attr_t *attr)
{
    struct client *cl = malloc(sizeof *cl);
    pthread_t tid;
    int err;

    if (cl == NULL)
        return -1;
    cl->fd = fd;
    snprintf(cl->peer, sizeof cl->peer, "%s", peer);
    count_live(1); /* before the thread runs: it may end before pthread_create returns */
    err = pthread_create(&tid, attr, client_thread, cl);
    if (err != 0) {
        count_live(-1);
        free(cl);
        errno = err; /* pthread functions return their error instead of setting errno */
        return -1;
    }
    return 0;
}

int
main(int argc, char *argv[])
{
    int listenfd = setup(argc, argv);
    pthread_attr_t attr;

    if ((errno = pthread_attr_init(&attr)) != 0 ||
        (errno = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED)) != 0)
        die_sys("pthread_attr");
    while (!stop_requested) {
        char peer[ADDR_STRLEN];
        int fd = accept_client(listenfd, peer, sizeof peer);

        if (fd < 0)
            continue; /* a signal, or a failure already reported */
        if (start_thread(fd, peer, &attr) < 0) {
            warn_sys("pthread_create"); /* EAGAIN: out of threads or memory */
            refuse(fd);
        }
    }

    /* Stop accepting, and wait for the threads.  Whichever thread the signal landed on,
     * they all learn of the stop from the pipe (files.c): each finishes the answer under
     * way and closes, and one whose client is idle between two requests closes at once. */
    close(listenfd);
    pthread_mutex_lock(&live_lock);
    while (live > 0)
        pthread_cond_wait(&live_none, &live_lock);
    pthread_mutex_unlock(&live_lock);
    pthread_attr_destroy(&attr);
    return 0;
}
