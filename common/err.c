/* err.c - error reporting shared by every program of the lab (see err.h). */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *prog = "server";
static const char *usage_line = "";

void
err_init(const char *argv0, const char *usage)
{
    const char *slash = strrchr(argv0, '/');

    prog = slash ? slash + 1 : argv0;
    usage_line = usage;
}

void
print_usage(void)
{
    printf("usage: %s %s\n", prog, usage_line);
}

/* The one place that formats a message; with_errno appends strerror(saved). */
static void
report(int with_errno, int saved, const char *fmt, va_list ap)
{
    char msg[512];

    vsnprintf(msg, sizeof msg, fmt, ap);
    if (with_errno)
        fprintf(stderr, "%s: %s: %s\n", prog, msg, strerror(saved));
    else
        fprintf(stderr, "%s: %s\n", prog, msg);
}

void
warn_sys(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    report(1, saved, fmt, ap);
    va_end(ap);
    errno = saved;
}

void
die_sys(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    report(1, saved, fmt, ap);
    va_end(ap);
    exit(1);
}

void
die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(0, 0, fmt, ap);
    va_end(ap);
    exit(1);
}

void
die_usage(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(0, 0, fmt, ap);
    va_end(ap);
    fprintf(stderr, "usage: %s %s\n", prog, usage_line);
    exit(2);
}

long
arg_long(const char *flag, const char *arg, long min, long max)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || n < min || n > max)
        die_usage("%s %s: not a number from %ld to %ld", flag, arg, min, max);
    return n;
}
