/*
 * path.h - from a request's target to a file beneath the document root: the
 * rules that keep every answer inside it.
 *
 *   char path[HTTP_MAX_HEAD];
 *   if ((status = decode_target(req.target, path, sizeof path)) != 0)   400
 *   squeeze_path(path);                   "/a//./b" is "/a/b": one spelling per file
 *   fd = open_beneath(root_fd, "a/b");    -1 and errno (EXDEV: it leads out)
 *
 * Stage 3 writes them; stages 4 and 5 keep them as they are (make lint checks
 * that the copies are the same), and so do the comparison servers of stage 6,
 * which build from stage 3's own path.c.
 */
#ifndef EVLAB_PATH_H
#define EVLAB_PATH_H

#include <stddef.h>

/* Percent-decode the path of target into path (the query string is dropped).  0, or 400
 * for a target that is not "/...", a bad escape, a NUL byte or a ".." segment. */
int decode_target(const char *target, char *path, size_t size);

/* Drop the empty and "." segments of path, in place; a trailing slash stays. */
void squeeze_path(char *path);

/* Open path for reading beneath directory dir, never outside it; -1 and errno. */
int open_beneath(int dir, const char *path);

#endif
