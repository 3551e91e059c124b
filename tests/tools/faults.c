/* faults.so - an LD_PRELOAD library that makes chosen calls fail the way the kernel or
 * glibc may, so that error paths which a test run never meets are taken on demand.
 *
 *   FAULT_AIO_READ=1,5 LD_PRELOAD=tests/tools/faults.so ./server ...
 *
 *   FAULT_AIO_READ=N,...  those aio_read() calls (counting from 1) return -1 with EAGAIN
 *                         and start nothing: glibc's answer when it cannot start a thread
 *   FAULT_ACCEPT=N,...    those accept() and accept4() calls take the connection and drop
 *                         it, returning -1 with EPROTO: Linux passes on a network error
 *                         pending on a new connection that way (accept(2), "Error handling")
 *   FAULT_PSELECT_DELAY_MS=N   each pselect() sleeps N ms before it starts: the window
 *                         between a loop's last look at its flags and pselect's atomic
 *                         change of the signal mask, microseconds wide, becomes N ms wide.
 *                         A signal the loop left unblocked lands there, its handler runs,
 *                         and pselect then sleeps through the wake-up (the lost wake-up);
 *                         one kept blocked waits, and pselect returns at once (EINTR)
 *   FAULT_LOG=FILE        each fault appends "faults: pid P CALL N" (a test can tell the
 *                         library was at work; a widened pselect logs its first call)
 *
 * Every other call goes to the real function. */
#define _GNU_SOURCE

#include <aio.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static atomic_long aio_calls, accept_calls, pselect_calls;

/* Does the comma list in $var name call n? */
static int
chosen(const char *var, long n)
{
    const char *list = getenv(var);
    char *end;

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

/* Append "faults: pid P CALL N" to $FAULT_LOG, in one write() (O_APPEND). */
static void
note(const char *call, long n)
{
    const char *log = getenv("FAULT_LOG");
    char line[80];
    int fd, len;

    if (log == NULL || *log == '\0' || (fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0644)) < 0)
        return;
    len = snprintf(line, sizeof line, "faults: pid %ld %s %ld\n", (long)getpid(), call, n);
    if (write(fd, line, (size_t)len) < 0) {
        /* nothing to do: the log is a courtesy */
    }
    close(fd);
}

/* The next definition of name after this library's: the real function. */
static void *
real(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);

    if (f == NULL) {
        fprintf(stderr, "faults.so: no %s to call\n", name);
        abort();
    }
    return f;
}

int
aio_read(struct aiocb *cb)
{
    static int (*next)(struct aiocb *);
    long n = atomic_fetch_add(&aio_calls, 1) + 1;

    if (chosen("FAULT_AIO_READ", n)) {
        note("aio_read", n);
        errno = EAGAIN;
        return -1;
    }
    if (next == NULL)
        next = (int (*)(struct aiocb *))real("aio_read");
    return next(cb);
}

/* accept and accept4 both: got is what the real call returned; drop that connection
 * and fail if this call is chosen. */
static int
faulty_accept(int got, const char *call)
{
    long n = atomic_fetch_add(&accept_calls, 1) + 1;

    if (got < 0 || !chosen("FAULT_ACCEPT", n))
        return got;
    note(call, n);
    close(got);
    errno = EPROTO;
    return -1;
}

int
accept(int fd, struct sockaddr *sa, socklen_t *len)
{
    static int (*next)(int, struct sockaddr *, socklen_t *);

    if (next == NULL)
        next = (int (*)(int, struct sockaddr *, socklen_t *))real("accept");
    return faulty_accept(next(fd, sa, len), "accept");
}

int
accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
    static int (*next)(int, struct sockaddr *, socklen_t *, int);

    if (next == NULL)
        next = (int (*)(int, struct sockaddr *, socklen_t *, int))real("accept4");
    return faulty_accept(next(fd, sa, len, flags), "accept4");
}

int
pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *timeout,
        const sigset_t *mask)
{
    static int (*next)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
                       const sigset_t *);
    const char *ms = getenv("FAULT_PSELECT_DELAY_MS");
    long n = atomic_fetch_add(&pselect_calls, 1) + 1;

    if (next == NULL)
        next = (int (*)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
                        const sigset_t *))real("pselect");
    if (ms != NULL && atoi(ms) > 0) {
        struct timespec left = {.tv_sec = atoi(ms) / 1000, .tv_nsec = atoi(ms) % 1000 * 1000000L};
        int saved = errno;
        if (n == 1)
            note("pselect", n);
        /* The whole delay, signals or not: a handler that runs here runs before pselect. */
        while (nanosleep(&left, &left) < 0 && errno == EINTR)
            ;
        errno = saved;
    }
    return next(nfds, r, w, e, timeout, mask);
}
