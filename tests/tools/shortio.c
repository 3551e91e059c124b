/* shortio.so - an LD_PRELOAD library that makes a program's socket I/O as short as the
 * kernel is allowed to make it.
 *
 *   LD_PRELOAD=tests/tools/shortio.so ./server ...
 *
 * Every read(), write(), recv(), send(), readv(), writev() and sendfile() on a socket moves
 * at most a few bytes (a random count from 1 to SHORTIO_MAX, default 7), and about one call
 * in SHORTIO_EINTR (default 8; 0 never) fails with EINTR before moving anything, as a call
 * interrupted by a signal does. Files, pipes and terminals are left alone. A server that
 * loops on short counts and retries EINTR behaves exactly as without the shim, only slower;
 * one that assumes write() sent everything loses bytes, and the tests show it.
 *
 *   SHORTIO_MAX=N      largest count one call moves (default 7)
 *   SHORTIO_EINTR=N    one call in N fails with EINTR (default 8; 0 never)
 *   SHORTIO_SEED=N     the random sequence (default: from the process ID)
 *   SHORTIO_LOG=FILE   each process that had a call cut short appends "shortio: pid N" once
 *   SHORTIO_TRACE=FILE when a socket is closed, one line on what it went through: bytes and
 *                      calls each way, the calls failed with EINTR, and any short write()
 *                      whose rest never followed (the next write() on the socket did not
 *                      start with it, or the socket was closed first): its sizes
 *
 * Calls glibc makes internally (stdio on a socket, for instance) are not seen. */
#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define DEFAULT_MAX 7   /* "a few bytes": small enough to split every request and header */
#define DEFAULT_EINTR 8 /* often enough that every test meets it many times */

static long max_count = DEFAULT_MAX;
static long eintr_one_in = DEFAULT_EINTR;
static unsigned long seed;
static atomic_flag logged = ATOMIC_FLAG_INIT;
static _Thread_local unsigned long rng; /* each thread its own sequence: no locking */

static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_readv)(int, const struct iovec *, int);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_sendfile)(int, int, off_t *, size_t);
static int (*real_close)(int);

/* What each socket went through, for SHORTIO_TRACE (descriptors below MAX_TRACED). */
#define MAX_TRACED 4096
struct trace {
    unsigned long reads, read_bytes, writes, written, eintrs;
    /* After a short write: the bytes the next write must start with (the first few). */
    size_t pending, expect_len;
    unsigned char expect[16];
    /* Short writes whose rest never came: how many, and the first one's sizes. */
    unsigned long dropped;
    size_t drop_asked, drop_took;
};
static struct trace traced[MAX_TRACED];
static const char *trace_path;

static long
env_long(const char *name, long fallback, long min)
{
    const char *s = getenv(name);
    char *end;
    long v;

    if (s == NULL || *s == '\0')
        return fallback;
    errno = 0;
    v = strtol(s, &end, 10);
    return errno != 0 || *end != '\0' || v < min ? fallback : v;
}

/* Runs when the library is loaded, before main(): find the real functions, read the settings.
 * Another library's constructor may call read() before this one has run: ready() covers it. */
__attribute__((constructor)) static void
shortio_init(void)
{
    real_read = (ssize_t(*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    real_recv = (ssize_t(*)(int, void *, size_t, int))dlsym(RTLD_NEXT, "recv");
    real_send = (ssize_t(*)(int, const void *, size_t, int))dlsym(RTLD_NEXT, "send");
    real_readv = (ssize_t(*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "readv");
    real_writev = (ssize_t(*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "writev");
    real_sendfile = (ssize_t(*)(int, int, off_t *, size_t))dlsym(RTLD_NEXT, "sendfile");
    real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
    trace_path = getenv("SHORTIO_TRACE");
    max_count = env_long("SHORTIO_MAX", DEFAULT_MAX, 1);
    eintr_one_in = env_long("SHORTIO_EINTR", DEFAULT_EINTR, 0);
    seed = (unsigned long)env_long("SHORTIO_SEED", (long)getpid(), 0);
}

static void
ready(void)
{
    if (real_sendfile == NULL)
        shortio_init();
}

/* xorshift64: plenty random for picking counts, and the same run for the same seed. */
static unsigned long
next_random(void)
{
    if (rng == 0)
        rng = (seed + 1) * 0x9E3779B97F4A7C15UL ^ (unsigned long)&rng;
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int
is_socket(int fd)
{
    struct stat st;
    int saved = errno;
    int yes = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);

    errno = saved;
    return yes;
}

static void
note_process(void)
{
    const char *path = getenv("SHORTIO_LOG");
    char line[64];
    int fd, saved = errno, len;

    if (path == NULL || atomic_flag_test_and_set(&logged))
        return;
    len = snprintf(line, sizeof line, "shortio: pid %ld\n", (long)getpid());
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        /* One short line with O_APPEND: written whole or not at all. */
        if (real_write(fd, line, (size_t)len) < 0) {
            /* the log is a courtesy: the program goes on either way */
        }
        close(fd);
    }
    errno = saved;
}

/* The count a call on fd asking for len bytes may move: len for a non-socket; else a few
 * bytes, or -1 (errno EINTR) when this call is to fail as if interrupted. */
static ssize_t
cut(int fd, size_t len)
{
    size_t few;

    ready();
    if (len == 0 || !is_socket(fd))
        return (ssize_t)len;
    note_process();
    if (eintr_one_in > 0 && next_random() % (unsigned long)eintr_one_in == 0) {
        errno = EINTR;
        return -1;
    }
    few = 1 + next_random() % (unsigned long)max_count;
    return (ssize_t)(few < len ? few : len);
}

/* Count a call on socket fd (when tracing): asked bytes, the call's result n; for a write,
 * its buffer (NULL: a write whose bytes we cannot see), to check that after a short write
 * the next one starts with the rest. */
static void
trace_call(int fd, size_t asked, ssize_t n, int is_write, const void *buf)
{
    struct trace *t;

    if (trace_path == NULL || fd < 0 || fd >= MAX_TRACED || asked == 0)
        return;
    t = &traced[fd];
    if (n < 0) {
        t->eintrs += errno == EINTR;
        return;
    }
    if (!is_write) {
        t->reads++;
        t->read_bytes += (unsigned long)n;
        return;
    }
    t->writes++;
    t->written += (unsigned long)n;
    if (t->pending > 0 && buf != NULL &&
        memcmp(buf, t->expect, t->expect_len < asked ? t->expect_len : asked) != 0)
        t->dropped++; /* the first drop's sizes were kept when it was cut */
    t->pending = 0;
    if ((size_t)n < asked && buf != NULL) {
        t->pending = asked - (size_t)n;
        t->expect_len = t->pending < sizeof t->expect ? t->pending : sizeof t->expect;
        memcpy(t->expect, (const unsigned char *)buf + n, t->expect_len);
        if (t->dropped == 0) {
            t->drop_asked = asked;
            t->drop_took = (size_t)n;
        }
    }
}

/* Socket fd is being closed: append its line to SHORTIO_TRACE, and forget it. */
static void
trace_close(int fd)
{
    struct trace *t = &traced[fd];
    char line[400];
    int len, out, saved = errno;

    if (t->reads + t->writes + t->eintrs == 0)
        return;
    len = snprintf(line, sizeof line,
                   "shortio: pid %ld fd %d: read %lu bytes in %lu calls, wrote %lu in %lu, "
                   "%lu calls failed with EINTR",
                   (long)getpid(), fd, t->read_bytes, t->reads, t->written, t->writes, t->eintrs);
    if (t->pending > 0 && t->dropped == 0)
        len += snprintf(line + len, sizeof line - (size_t)len,
                        "; a write() asked for %zu bytes and moved %zu, and the server closed"
                        " the socket without sending the other %zu",
                        t->drop_asked, t->drop_took, t->pending);
    else if (t->dropped > 0)
        len += snprintf(line + len, sizeof line - (size_t)len,
                        "; %lu short writes whose rest was never sent (the first asked for %zu"
                        " bytes and moved %zu; the next write() started elsewhere)",
                        t->dropped, t->drop_asked, t->drop_took);
    len += snprintf(line + len, sizeof line - (size_t)len, "\n");
    if (len > (int)sizeof line)
        len = (int)sizeof line;
    out = open(trace_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (out >= 0) {
        if (real_write(out, line, (size_t)len) < 0) {
            /* the trace is a courtesy: the program goes on either way */
        }
        real_close(out);
    }
    errno = saved;
}

int
close(int fd)
{
    ready();
    if (trace_path != NULL && fd >= 0 && fd < MAX_TRACED) {
        if (is_socket(fd))
            trace_close(fd);
        memset(&traced[fd], 0, sizeof traced[fd]); /* a file's counts, or the socket's */
    }
    return real_close(fd);
}

ssize_t
read(int fd, void *buf, size_t len)
{
    ssize_t n = cut(fd, len);
    n = n < 0 ? -1 : real_read(fd, buf, (size_t)n);
    trace_call(fd, len, n, 0, NULL);
    return n;
}

ssize_t
write(int fd, const void *buf, size_t len)
{
    ssize_t n = cut(fd, len);
    n = n < 0 ? -1 : real_write(fd, buf, (size_t)n);
    trace_call(fd, len, n, 1, buf);
    return n;
}

ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
    ssize_t n = cut(fd, len);
    n = n < 0 ? -1 : real_recv(fd, buf, (size_t)n, flags);
    trace_call(fd, len, n, 0, NULL);
    return n;
}

ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
    ssize_t n = cut(fd, len);
    n = n < 0 ? -1 : real_send(fd, buf, (size_t)n, flags);
    trace_call(fd, len, n, 1, buf);
    return n;
}

static size_t
vector_len(const struct iovec *iov, int cnt)
{
    size_t total = 0;

    for (int i = 0; i < cnt; i++)
        total += iov[i].iov_len;
    return total;
}

/* The vector calls move a few bytes of their first non-empty buffer: a legal short count. */
static ssize_t
cut_vector(int fd, const struct iovec *iov, int cnt, struct iovec *first)
{
    size_t total = vector_len(iov, cnt);
    int i;

    ready();
    if (total == 0 || !is_socket(fd))
        return 0;
    for (i = 0; iov[i].iov_len == 0; i++)
        ;
    *first = iov[i];
    ssize_t n = cut(fd, first->iov_len);
    if (n > 0)
        first->iov_len = (size_t)n;
    return n < 0 ? -1 : 1;
}

ssize_t
readv(int fd, const struct iovec *iov, int cnt)
{
    struct iovec one;
    ssize_t k = cut_vector(fd, iov, cnt, &one);
    ssize_t n = k < 0 ? -1 : k == 0 ? real_readv(fd, iov, cnt) : real_readv(fd, &one, 1);
    trace_call(fd, vector_len(iov, cnt), n, 0, NULL);
    return n;
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
    struct iovec one;
    ssize_t k = cut_vector(fd, iov, cnt, &one);
    ssize_t n = k < 0 ? -1 : k == 0 ? real_writev(fd, iov, cnt) : real_writev(fd, &one, 1);
    trace_call(fd, vector_len(iov, cnt), n, 1, NULL);
    return n;
}

ssize_t
sendfile(int out, int in, off_t *offset, size_t len)
{
    ssize_t n = cut(out, len);
    n = n < 0 ? -1 : real_sendfile(out, in, offset, (size_t)n);
    trace_call(out, len, n, 1, NULL);
    return n;
}

/* Programs built with _FORTIFY_SOURCE call these instead of read() and recv(). */
ssize_t
__read_chk(int fd, void *buf, size_t len, size_t buflen)
{
    if (len > buflen)
        abort();
    return read(fd, buf, len);
}

ssize_t
__recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
    if (len > buflen)
        abort();
    return recv(fd, buf, len, flags);
}
