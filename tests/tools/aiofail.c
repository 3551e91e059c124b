/* aiofail.so - an LD_PRELOAD library that makes a program's aio_read() calls fail the way
 * glibc's may: with EAGAIN when it cannot start a helper thread (or queue the request).
 *
 *   AIOFAIL_CALLS=2,5 LD_PRELOAD=tests/tools/aiofail.so ./server ...
 *
 * The calls numbered in AIOFAIL_CALLS (counting from 1, across the whole process) return
 * -1 with errno AIOFAIL_ERRNO (default EAGAIN) and start nothing; every other call goes to
 * the real aio_read.  AIOFAIL_EVERY=N fails every Nth call as well.  AIOFAIL_LOG=FILE:
 * each failure appends "aiofail: pid P call N" (so a test can tell the library was at
 * work).  An error path that is never taken is never tested: this takes it on demand. */
#define _GNU_SOURCE

#include <aio.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_long calls;

/* Is call n (from 1) one of those AIOFAIL_CALLS lists, or a multiple of AIOFAIL_EVERY? */
static int
chosen(long n)
{
    const char *list = getenv("AIOFAIL_CALLS"), *every = getenv("AIOFAIL_EVERY");
    char *end;

    if (every != NULL && atol(every) > 0 && n % atol(every) == 0)
        return 1;
    while (list != NULL && *list != '\0') {
        long k = strtol(list, &end, 10);
        if (end == list)
            break;
        if (k == n)
            return 1;
        list = *end == ',' ? end + 1 : end;
    }
    return 0;
}

/* Append "aiofail: pid P call N" to $AIOFAIL_LOG, with one write() (O_APPEND). */
static void
note(long n)
{
    const char *log = getenv("AIOFAIL_LOG");
    char line[64];
    int fd, len;

    if (log == NULL || *log == '\0' || (fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0644)) < 0)
        return;
    len = snprintf(line, sizeof line, "aiofail: pid %ld call %ld\n", (long)getpid(), n);
    if (write(fd, line, (size_t)len) < 0) {
        /* nothing to do: the log is a courtesy */
    }
    close(fd);
}

int
aio_read(struct aiocb *cb)
{
    static int (*real)(struct aiocb *);
    long n = atomic_fetch_add(&calls, 1) + 1;

    if (chosen(n)) {
        const char *e = getenv("AIOFAIL_ERRNO");
        note(n);
        errno = e != NULL && atoi(e) > 0 ? atoi(e) : EAGAIN;
        return -1;
    }
    if (real == NULL)
        real = (int (*)(struct aiocb *))dlsym(RTLD_NEXT, "aio_read");
    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return real(cb);
}
