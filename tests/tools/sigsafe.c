/* sigsafe.so - an LD_PRELOAD library that catches a signal handler calling a function
 * that is not async-signal-safe.
 *
 *   LD_PRELOAD=tests/tools/sigsafe.so SIGSAFE_LOG=/tmp/report ./server ...
 *
 * A handler may run between any two instructions of the program: inside malloc(), say,
 * with the heap half updated. So POSIX lets a handler call only the functions it lists
 * as async-signal-safe (write, _exit, sigaction, ... ; man 7 signal-safety); malloc, free,
 * the printf family and the rest of stdio are not among them. This library installs a
 * wrapper around every handler the program gives sigaction() or signal(): while one runs
 * (on the thread it interrupted), a call to one of the functions below is written to
 * SIGSAFE_LOG (default: stderr) as one line,
 *
 *       sigsafe: pid 1234: free() called in the handler of signal 1 (HUP)
 *
 * and then carried out, so that the program behaves as without the library. Each handler
 * it wraps is logged too, "sigsafe: pid 1234: watching the handler of signal 1 (HUP)": a
 * test can tell that the library was at work. Calls glibc
 * makes to itself are not seen; the functions a handler calls by name are.
 *
 *   malloc calloc realloc free  printf fprintf vprintf vfprintf dprintf snprintf
 *   vsnprintf sprintf puts fputs fwrite fflush perror strerror exit syslog
 */
#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static struct sigaction user[NSIG];  /* the program's own handlers, by signal */
static _Thread_local int in_handler; /* the signal whose handler runs on this thread; 0 */

/* The real functions, found on first use. */
#define REAL(name) real_##name
#define FIND(name) ((__typeof__(REAL(name)))find((void **)&REAL(name), #name))
static int (*REAL(sigaction))(int, const struct sigaction *, struct sigaction *);
static void *(*REAL(malloc))(size_t);
static void *(*REAL(calloc))(size_t, size_t);
static void *(*REAL(realloc))(void *, size_t);
static void (*REAL(free))(void *);
static int (*REAL(vfprintf))(FILE *, const char *, va_list);
static int (*REAL(vdprintf))(int, const char *, va_list);
static int (*REAL(vsnprintf))(char *, size_t, const char *, va_list);
static int (*REAL(vsprintf))(char *, const char *, va_list);
static int (*REAL(puts))(const char *);
static int (*REAL(fputs))(const char *, FILE *);
static size_t (*REAL(fwrite))(const void *, size_t, size_t, FILE *);
static int (*REAL(fflush))(FILE *);
static void (*REAL(perror))(const char *);
static char *(*REAL(strerror))(int);
static void (*REAL(exit))(int);
static void (*REAL(vsyslog))(int, const char *, va_list);

static void *
find(void **slot, const char *name)
{
    if (*slot == NULL)
        *slot = dlsym(RTLD_NEXT, name);
    return *slot;
}

/* Append one line to SIGSAFE_LOG (default: stderr) with one write(), which is safe. */
static void
say(const char *what, const char *name, int sig)
{
    static const char *path;
    const char *abbrev = sigabbrev_np(sig);
    char line[160];
    int fd, saved = errno, len;

    if (path == NULL)
        path = getenv("SIGSAFE_LOG");
    len = snprintf(line, sizeof line, "sigsafe: pid %ld: %s%s the handler of signal %d (%s)\n",
                   (long)getpid(), name, what, sig, abbrev != NULL ? abbrev : "?");
    fd = path != NULL ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : 2;
    if (fd >= 0) {
        if (write(fd, line, (size_t)len) < 0) {
            /* the report is a courtesy: the program goes on either way */
        }
        if (fd != 2)
            close(fd);
    }
    errno = saved;
}

/* Report a call to name if a handler runs on this thread. */
static void
check(const char *name)
{
    int sig = in_handler;

    if (sig == 0)
        return;
    in_handler = 0; /* the calls say() makes are ours, not the handler's */
    say("() called in", name, sig);
    in_handler = sig;
}

/* Every handler the program installs runs through here. */
static void
trampoline(int sig, siginfo_t *info, void *context)
{
    int outer = in_handler;

    in_handler = sig;
    if (user[sig].sa_flags & SA_SIGINFO)
        user[sig].sa_sigaction(sig, info, context);
    else
        user[sig].sa_handler(sig);
    in_handler = outer;
}

int
sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    struct sigaction mine, previous = {0};
    int handled = sig > 0 && sig < NSIG;

    if (FIND(sigaction) == NULL) {
        errno = ENOSYS;
        return -1;
    }
    if (handled)
        previous = user[sig];
    if (act != NULL && handled && act->sa_handler != SIG_IGN && act->sa_handler != SIG_DFL) {
        mine = *act;
        mine.sa_sigaction = trampoline;
        mine.sa_flags |= SA_SIGINFO;
        if (REAL(sigaction)(sig, &mine, old) < 0)
            return -1;
        user[sig] = *act;
        say("watching", "", sig);
    } else {
        if (REAL(sigaction)(sig, act, old) < 0)
            return -1;
        if (act != NULL && handled)
            user[sig] = *act;
    }
    /* The program sees its own handler, not the trampoline. */
    if (old != NULL && handled && (old->sa_flags & SA_SIGINFO) && old->sa_sigaction == trampoline)
        *old = previous;
    return 0;
}

sighandler_t
signal(int sig, sighandler_t handler)
{
    struct sigaction act = {.sa_handler = handler, .sa_flags = SA_RESTART}, old;

    if (sigaction(sig, &act, &old) < 0)
        return SIG_ERR;
    return old.sa_handler;
}

/* dlsym() may itself allocate: the first bytes come from here, and are never freed. */
static char early[4096];
static size_t early_used;

static void *
early_alloc(size_t size)
{
    void *p = early + early_used;

    size = (size + 15) & ~(size_t)15;
    if (early_used + size > sizeof early)
        return NULL;
    early_used += size;
    return p;
}

static int
is_early(const void *p)
{
    return (const char *)p >= early && (const char *)p < early + sizeof early;
}

static int finding; /* inside dlsym() for an allocator */

void *
malloc(size_t size)
{
    check("malloc");
    if (REAL(malloc) == NULL) {
        if (finding)
            return early_alloc(size);
        finding = 1;
        FIND(malloc);
        finding = 0;
    }
    return REAL(malloc)(size);
}

void *
calloc(size_t n, size_t size)
{
    check("calloc");
    if (REAL(calloc) == NULL) {
        if (finding)
            return early_alloc(n * size); /* static, hence zeroed */
        finding = 1;
        FIND(calloc);
        finding = 0;
    }
    return REAL(calloc)(n, size);
}

void *
realloc(void *p, size_t size)
{
    check("realloc");
    if (is_early(p)) {
        void *q = malloc(size);
        if (q != NULL)
            memcpy(q, p, size); /* at most what early holds past p: it is all ours */
        return q;
    }
    return FIND(realloc)(p, size);
}

void
free(void *p)
{
    check("free");
    if (p == NULL || is_early(p))
        return;
    FIND(free)(p);
}

int
vfprintf(FILE *f, const char *fmt, va_list ap)
{
    check("vfprintf");
    return FIND(vfprintf)(f, fmt, ap);
}

int
fprintf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    int n;

    check("fprintf");
    va_start(ap, fmt);
    n = FIND(vfprintf)(f, fmt, ap);
    va_end(ap);
    return n;
}

int
printf(const char *fmt, ...)
{
    va_list ap;
    int n;

    check("printf");
    va_start(ap, fmt);
    n = FIND(vfprintf)(stdout, fmt, ap);
    va_end(ap);
    return n;
}

int
vprintf(const char *fmt, va_list ap)
{
    check("vprintf");
    return FIND(vfprintf)(stdout, fmt, ap);
}

int
dprintf(int fd, const char *fmt, ...)
{
    va_list ap;
    int n;

    check("dprintf");
    va_start(ap, fmt);
    n = FIND(vdprintf)(fd, fmt, ap);
    va_end(ap);
    return n;
}

int
vsnprintf(char *s, size_t size, const char *fmt, va_list ap)
{
    check("vsnprintf");
    return FIND(vsnprintf)(s, size, fmt, ap);
}

int
snprintf(char *s, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    check("snprintf");
    va_start(ap, fmt);
    n = FIND(vsnprintf)(s, size, fmt, ap);
    va_end(ap);
    return n;
}

int
sprintf(char *s, const char *fmt, ...)
{
    va_list ap;
    int n;

    check("sprintf");
    va_start(ap, fmt);
    n = FIND(vsprintf)(s, fmt, ap);
    va_end(ap);
    return n;
}

int
puts(const char *s)
{
    check("puts");
    return FIND(puts)(s);
}

int
fputs(const char *s, FILE *f)
{
    check("fputs");
    return FIND(fputs)(s, f);
}

size_t
fwrite(const void *p, size_t size, size_t n, FILE *f)
{
    check("fwrite");
    return FIND(fwrite)(p, size, n, f);
}

int
fflush(FILE *f)
{
    check("fflush");
    return FIND(fflush)(f);
}

void
perror(const char *s)
{
    check("perror");
    FIND(perror)(s);
}

char *
strerror(int err)
{
    check("strerror");
    return FIND(strerror)(err);
}

void
exit(int status)
{
    check("exit");
    FIND(exit)(status);
    _exit(status); /* not reached */
}

void
syslog(int prio, const char *fmt, ...)
{
    va_list ap;

    check("syslog");
    va_start(ap, fmt);
    FIND(vsyslog)(prio, fmt, ap);
    va_end(ap);
}
