/*
 * err.h - how every program in the lab reports errors.
 *
 * Two tiers, after Stevens: the lab's primitives return -1 and leave errno
 * set; these helpers turn a failure into a message.  Only start-up code
 * (arguments, socket, bind, listen) may exit; code that serves one client
 * never does, it closes that client and goes on.
 *
 *   err_init(argv[0], usage)     name and usage line used by the others
 *   warn_sys("accept")           "server: accept: Too many open files", go on
 *   die_sys("bind %s", addr)     the same, then exit 1
 *   die("no such root")          "server: no such root", exit 1
 *   die_usage("bad flag %s", f)  reason and usage line, exit 2
 *   arg_long("-p", optarg, 0, 65535)   a number from the command line, or die_usage
 */
#ifndef EVLAB_ERR_H
#define EVLAB_ERR_H

#include <stdnoreturn.h>

/* Remember the program name (basename of argv0) and its usage line. */
void err_init(const char *argv0, const char *usage);

/* Print the usage line to stdout (for -h). */
void print_usage(void);

/* "prog: message: strerror(errno)" on stderr; errno is preserved. */
void warn_sys(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* As warn_sys, then exit(1). */
noreturn void die_sys(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "prog: message" on stderr, then exit(1). */
noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "prog: message" and the usage line on stderr, then exit(2). */
noreturn void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse a whole decimal number in [min, max] given to flag; die_usage if it is not one. */
long arg_long(const char *flag, const char *arg, long min, long max);

#endif
