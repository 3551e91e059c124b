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
 *   FAULT_LOG=FILE        each fault appends "faults: pid P CALL N" (a test can tell the
 *                         library was at work)
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
#include <sys/socket.h>
#include <unistd.h>

static atomic_long aio_calls, accept_calls;

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
