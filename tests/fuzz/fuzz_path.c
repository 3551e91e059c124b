/*
 * libFuzzer harness for stage 3's target-to-path resolution: for any request target,
 * decode_target either refuses it (400) or yields a path without a ".." segment,
 * squeeze_path leaves it in one spelling (no "//" or "/./"), and open_beneath never
 * opens a file outside the root, whatever symlinks the root holds.
 *
 * It builds from stage 3's path.c, the very file stages 3 to 5 and the comparison
 * servers of stage 6 run (make lint checks that stages 4 and 5 keep it unchanged).
 */
#include "../../stage3-files/path.h"
#include "http.h"

#include <assert.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root_path[PATH_MAX], top_dir[PATH_MAX];
static int root_fd = -1;

/* Remove the root make_root built (libFuzzer ends with exit(), so atexit runs this). */
static void
remove_root(void)
{
    static const char *const made[] = {"www/sub/loop", "www/abs", "www/up", "www/a.txt",
                                       "secret",       "www/sub", "www"};
    char p[PATH_MAX + 64];

    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", top_dir, made[i]);
        if (unlink(p) < 0)
            rmdir(p);
    }
    rmdir(top_dir);
}

/* A root with a file, a subfolder, and symlinks that point out of it in three ways. */
static void
make_root(void)
{
    char dir[] = "/tmp/evlab-fuzz-XXXXXX", p[PATH_MAX + 64];

    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(top_dir, sizeof top_dir, "%s", dir);
    atexit(remove_root);
    snprintf(root_path, sizeof root_path, "%s/www", dir);
    snprintf(p, sizeof p, "%s/secret", dir);
    if (mkdir(root_path, 0755) < 0 || close(open(p, O_CREAT | O_WRONLY, 0644)) < 0)
        abort();
    snprintf(p, sizeof p, "%s/sub", root_path);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/a.txt", root_path);
    close(open(p, O_CREAT | O_WRONLY, 0644));
    snprintf(p, sizeof p, "%s/up", root_path);
    if (symlink("../secret", p) < 0)
        abort();
    snprintf(p, sizeof p, "%s/abs", root_path);
    if (symlink("/etc/passwd", p) < 0)
        abort();
    snprintf(p, sizeof p, "%s/sub/loop", root_path);
    if (symlink("../../", p) < 0)
        abort();
    if ((root_fd = open(root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char target[HTTP_MAX_HEAD], path[HTTP_MAX_HEAD], link[64], where[PATH_MAX];
    const char *name;
    int fd;
    ssize_t n;

    if (root_fd < 0)
        make_root();
    if (size >= sizeof target)
        size = sizeof target - 1;
    memcpy(target, data, size);
    target[size] = '\0';
    if (decode_target(target, path, sizeof path) != 0)
        return 0; /* refused: the only other answer allowed is 400 */
    assert(path[0] == '/');
    for (const char *seg = path; *seg != '\0'; seg++)
        assert(!((seg == path || seg[-1] == '/') && strncmp(seg, "..", 2) == 0 &&
                 (seg[2] == '/' || seg[2] == '\0')));
    /* One spelling per file: no empty or "." segment is left (a trailing "/" may be). */
    squeeze_path(path);
    assert(path[0] == '/' && strstr(path, "//") == NULL && strstr(path, "/./") == NULL);
    assert(strcmp(path + strlen(path) - (strlen(path) >= 2 ? 2 : 0), "/.") != 0);
    name = path + strspn(path, "/");
    if (*name == '\0')
        name = ".";
    if ((fd = open_beneath(root_fd, name)) < 0)
        return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, where, sizeof where - 1);
    close(fd);
    assert(n > 0);
    where[n] = '\0';
    /* What was opened is the root or lies beneath it. */
    assert(strncmp(where, root_path, strlen(root_path)) == 0 &&
           (where[strlen(root_path)] == '\0' || where[strlen(root_path)] == '/'));
    return 0;
}
