/*
 * path.c - stage 3's rules from a request target to a file beneath the root (see
 * path.h).  Each refuses what it cannot vouch for, rather than repair it.
 */
#include "path.h"

#include <ctype.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The value of hex digit c, or -1. */
static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * Percent-decode the path of target into path (the query string is dropped).
 * 0, or 400 for a target that is not "/...", a bad escape, a NUL byte or a ".."
 * segment.  ".." is refused outright, before the file system sees it: a path
 * that never climbs needs no cleverness to keep it inside the root.
 */
int
decode_target(const char *target, char *path, size_t size)
{
    /* BEGIN STUDENT 3: decode the path; 400 for bad escapes, NUL, "..", no leading / */
    size_t o = 0;

    if (target[0] != '/')
        return 400; /* absolute-form "http://host/x", or "*" */
    for (const char *t = target; *t != '\0' && *t != '?'; t++) {
        int c = (unsigned char)*t;
        if (c == '%') {
            int hi = hex_value(t[1]), lo = hi < 0 ? -1 : hex_value(t[2]);
            if (lo < 0)
                return 400;
            c = hi * 16 + lo;
            t += 2;
        }
        if (c == '\0' || o + 1 >= size)
            return 400;
        path[o++] = (char)c;
    }
    path[o] = '\0';
    for (const char *seg = path; *seg != '\0'; seg++) {
        if ((seg == path || seg[-1] == '/') && seg[0] == '.' && seg[1] == '.' &&
            (seg[2] == '/' || seg[2] == '\0'))
            return 400;
    }
    return 0;
    /* STUB: (void)hex_value; */
    /* STUB: size_t n = strcspn(target, "?"); */
    /* STUB: if (n >= size) */
    /* STUB:     return 400; */
    /* STUB: memcpy(path, target, n); */
    /* STUB: path[n] = '\0'; */
    /* STUB: return 0; */
    /* END STUDENT */
}

/*
 * Drop the empty and "." segments of path, in place ("/a//./b" becomes "/a/b"), so
 * that each file has one spelling (stage 5 keys its cache by it).  A trailing slash
 * stays: it says "a folder".
 */
void
squeeze_path(char *path)
{
    const char *r = path;
    char *w = path;

    while (*r == '/') {
        const char *seg = r + 1;
        size_t len = strcspn(seg, "/");
        if (len > 0 && !(len == 1 && seg[0] == '.')) {
            *w++ = '/';
            memmove(w, seg, len);
            w += len;
        } else if (seg[len] == '\0') {
            *w++ = '/';
        }
        r = seg + len;
    }
    *w = '\0';
}

/*
 * Open path for reading beneath directory dir.  The kernel resolves every
 * component, symlinks included, and fails with EXDEV if one would lead out of
 * dir.  (realpath() and a prefix check would leave a gap between the check and
 * the open, in which a component can be swapped for a symlink.)  O_NONBLOCK:
 * opening a FIFO must not wait for a writer.
 */
int
open_beneath(int dir, const char *path)
{
    /* BEGIN STUDENT 3: open path with openat2(RESOLVE_BENEATH): never outside dir */
    struct open_how how = {
        .flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };

    return (int)syscall(SYS_openat2, dir, path, &how, sizeof how);
    /* STUB: return openat(dir, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); */
    /* END STUDENT */
}
