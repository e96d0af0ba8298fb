/* LD_PRELOAD shim for the pull stress test: a pread(2) that finds no bytes pauses for a
 * moment before it returns. A reader that follows a file another thread writes then looks
 * at the writer's state only after the writer had time to write and finish: the window in
 * which "no bytes yet" can be mistaken for "the end" is held open on every empty read,
 * instead of once in many thousand pulls. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);

static void pause_a_moment(void) {
    const char *us = getenv("PAUSE_AT_EOF_US");
    long micros = us ? atol(us) : 2000;
    struct timespec ts = {micros / 1000000, (micros % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static ssize_t paused(const char *name, int fd, void *buf, size_t n, off_t offset) {
    pread_fn real = (pread_fn)dlsym(RTLD_NEXT, name);
    ssize_t got = real(fd, buf, n, offset);
    if (got == 0 && n > 0) pause_a_moment();
    return got;
}

ssize_t pread(int fd, void *buf, size_t n, off_t offset) { return paused("pread", fd, buf, n, offset); }
ssize_t pread64(int fd, void *buf, size_t n, off_t offset) { return paused("pread64", fd, buf, n, offset); }
