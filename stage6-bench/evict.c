/*
 * evict: drop files from the page cache, so that the next read of them goes to the disk.
 *
 *   evict FILE...
 *
 * posix_fadvise(POSIX_FADV_DONTNEED) asks the kernel to forget a file's clean cached
 * pages; dirty ones are written first (fdatasync), or they would stay.  No root needed,
 * and nothing else in the cache is disturbed (unlike writing to drop_caches).
 */
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define USAGE "FILE..."

int
main(int argc, char *argv[])
{
    int status = 0;

    err_init(argv[0], USAGE);
    if (argc < 2)
        die_usage("no FILE to evict");
    for (int i = 1; i < argc; i++) {
        int fd = open(argv[i], O_RDONLY | O_CLOEXEC), err;
        if (fd < 0) {
            warn_sys("%s", argv[i]);
            status = 1;
            continue;
        }
        if (fdatasync(fd) < 0)
            warn_sys("fdatasync %s", argv[i]);
        if ((err = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)) != 0) {
            errno = err;
            warn_sys("posix_fadvise %s", argv[i]);
            status = 1;
        }
        close(fd);
    }
    return status;
}
