/* slowfs - a read-only FUSE mirror of a directory whose reads are slow or fail on demand.
 *
 *   slowfs [-d MS] [-o MS] [-m GLOB] [-e GLOB] [-E OFFSET] [-T THREADS] SOURCE MOUNTPOINT
 *
 * Every file under SOURCE appears under MOUNTPOINT. A read of a file whose name (relative
 * to SOURCE, e.g. "big/slow.bin") matches -m takes -d milliseconds longer, an open -o
 * milliseconds longer; a read of a file matching -e at or past byte OFFSET fails with EIO.
 * Files are opened with direct_io, so every read() a server makes reaches slowfs (none is
 * answered from the page cache). It runs in the foreground, one thread per request in
 * flight, until it is unmounted (fusermount3 -u MOUNTPOINT) or gets SIGTERM.  Each time
 * it falls idle with a new record, it says on stderr how many opens and reads it has
 * served at once at most (of -T THREADS): while that stays below THREADS, slowfs was
 * not what limited the server in front of it.
 *
 * The lab uses it to show, on any machine, what a slow disk does to a synchronous event
 * loop (stage 3) and what asynchronous reads change (stage 4), and to make reads fail. */
#define FUSE_USE_VERSION 31

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <fuse.h>
#include <stdatomic.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_DELAY_MS 600000 /* ten minutes: anything longer is a typo */

static struct {
    int source;          /* descriptor of SOURCE: every path is opened beneath it */
    long read_delay_ms;  /* -d */
    long open_delay_ms;  /* -o */
    const char *slow;    /* -m: which files are slow (default: all) */
    const char *failing; /* -e: which files fail to read (default: none) */
    long long fail_from; /* -E */
    long threads;        /* -T */
} opt = {.source = -1, .slow = "*", .fail_from = 0, .threads = 64};

static atomic_long busy, most_busy; /* opens and reads under way; the most at once */
static atomic_long most_told;       /* the most, as last said on stderr */

/* An open or read begins: count it, and keep the highest count. */
static void
begin(void)
{
    long now = atomic_fetch_add(&busy, 1) + 1, most = atomic_load(&most_busy);

    while (now > most && !atomic_compare_exchange_weak(&most_busy, &most, now))
        continue;
}

/* An open or read ends.  The last one under way says the record, if it is new (not at
 * the unmount only: a server killed mid-read can leave slowfs to be killed too). */
static void
end(void)
{
    if (atomic_fetch_sub(&busy, 1) == 1) {
        long most = atomic_load(&most_busy);
        if (atomic_exchange(&most_told, most) != most)
            fprintf(stderr, "slowfs: at most %ld opens and reads at once (threads: %ld)\n", most,
                    opt.threads);
    }
}

static const char usage[] =
    "usage: slowfs [-d MS] [-o MS] [-m GLOB] [-e GLOB] [-E OFFSET] [-T THREADS] SOURCE MOUNTPOINT\n"
    "  -d MS      delay every read of a slow file by MS milliseconds (default 0)\n"
    "  -o MS      delay every open of a slow file by MS milliseconds (default 0)\n"
    "  -m GLOB    which files are slow, by path under SOURCE (default: all)\n"
    "  -e GLOB    reads of these files fail with EIO (default: none)\n"
    "  -E OFFSET  ... but only reads at or past byte OFFSET (default 0)\n"
    "  -T THREADS at most this many requests served at once (default 64): each slow read\n"
    "             holds one for its delay, so THREADS / delay bounds the reads per second\n";

/* FUSE names "/a/b"; beneath the source descriptor that is "a/b", and "/" is ".". */
static const char *
relative(const char *path)
{
    path += strspn(path, "/");
    return *path == '\0' ? "." : path;
}

static bool
matches(const char *glob, const char *path)
{
    return glob != NULL && fnmatch(glob, relative(path), FNM_PATHNAME) == 0;
}

static void
sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, ms % 1000 * 1000000L};

    while (nanosleep(&t, &t) < 0 && errno == EINTR)
        continue;
}

static void *
fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    /* Reads the kernel sends without waiting for them (io_uring's, aio's with O_DIRECT)
     * are "background" requests, of which FUSE lets only 12 wait by default: as many as
     * we serve at once, so that the delay, not that cap, sets the pace. */
    conn->max_background = (unsigned)opt.threads;
    conn->congestion_threshold = (unsigned)opt.threads;
    cfg->use_ino = 1;
    cfg->direct_io = 1; /* no page cache: each read the server makes is a read here */
    cfg->attr_timeout = 0;
    cfg->entry_timeout = 0;
    return NULL;
}

static int
fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    if (fi != NULL)
        return fstat((int)fi->fh, st) < 0 ? -errno : 0;
    return fstatat(opt.source, relative(path), st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int
fs_readlink(const char *path, char *buf, size_t size)
{
    ssize_t n = readlinkat(opt.source, relative(path), buf, size - 1);

    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return 0;
}

static int
fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi,
           enum fuse_readdir_flags flags)
{
    int fd = openat(opt.source, relative(path), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    DIR *dir;
    struct dirent *e;

    (void)off, (void)fi, (void)flags;
    if (fd < 0)
        return -errno;
    if ((dir = fdopendir(fd)) == NULL) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    while ((e = readdir(dir)) != NULL)
        if (fill(buf, e->d_name, NULL, 0, 0) != 0)
            break;
    closedir(dir);
    return 0;
}

static int
fs_open(const char *path, struct fuse_file_info *fi)
{
    int fd;

    if ((fi->flags & O_ACCMODE) != O_RDONLY)
        return -EROFS;
    begin();
    if (matches(opt.slow, path))
        sleep_ms(opt.open_delay_ms);
    /* O_NOFOLLOW: the kernel has already walked every symlink on the way here. */
    fd = openat(opt.source, relative(path), O_RDONLY | O_NOFOLLOW);
    end();
    if (fd < 0)
        return -errno;
    fi->fh = (uint64_t)fd;
    fi->direct_io = 1;
    return 0;
}

static int
fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    ssize_t n = -1;

    begin();
    if (matches(opt.slow, path))
        sleep_ms(opt.read_delay_ms);
    if (matches(opt.failing, path) && off + (off_t)size > opt.fail_from)
        errno = EIO;
    else
        n = pread((int)fi->fh, buf, size, off);
    end();
    return n < 0 ? -errno : (int)n;
}

static int
fs_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    close((int)fi->fh);
    return 0;
}

static const struct fuse_operations ops = {
    .init = fs_init,
    .getattr = fs_getattr,
    .readlink = fs_readlink,
    .readdir = fs_readdir,
    .open = fs_open,
    .read = fs_read,
    .release = fs_release,
};

static long
number(const char *flag, const char *arg, long long max)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v < 0 || v > max) {
        fprintf(stderr, "slowfs: %s: not a number from 0 to %lld: %s\n%s", flag, max, arg, usage);
        exit(2);
    }
    return (long)v;
}

int
main(int argc, char **argv)
{
    static char fopts[96];
    char *fargv[] = {argv[0], "-f", "-o", fopts, NULL, NULL};
    int c;

    while ((c = getopt(argc, argv, "d:o:m:e:E:T:h")) != -1) {
        switch (c) {
        case 'd': opt.read_delay_ms = number("-d", optarg, MAX_DELAY_MS); break;
        case 'o': opt.open_delay_ms = number("-o", optarg, MAX_DELAY_MS); break;
        case 'm': opt.slow = optarg; break;
        case 'e': opt.failing = optarg; break;
        case 'E': opt.fail_from = number("-E", optarg, LONG_MAX); break;
        case 'T': opt.threads = number("-T", optarg, 65535); break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "slowfs: needs SOURCE and MOUNTPOINT\n%s", usage);
        return 2;
    }
    opt.source = open(argv[optind], O_RDONLY | O_DIRECTORY);
    if (opt.source < 0) {
        fprintf(stderr, "slowfs: cannot open %s: %s\n", argv[optind], strerror(errno));
        return 1;
    }
    snprintf(fopts, sizeof fopts, "ro,default_permissions,fsname=slowfs,max_threads=%ld",
             opt.threads > 0 ? opt.threads : 1);
    fargv[4] = argv[optind + 1];
    /* fuse_main mounts, serves requests on several threads, and unmounts on SIGTERM. */
    return fuse_main(5, fargv, &ops, NULL) == 0 ? 0 : 1;
}
