/* Bounded reading of repository indexes; see index-read.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <solv/solv_xfopen.h>

#include "basic/fs.h"
#include "basic/macro.h"
#include "index-read.h"

#define MEASURE_CHUNK (1u << 17)
#define PROGRESS_INTERVAL_MS 250

int index_measure(int fd, const char *hint, uint64_t max, uint64_t *ret) {
        _cleanup_free_ char *buf = malloc(MEASURE_CHUNK);
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3), r = 0;
        uint64_t total = 0;
        FILE *f;

        if (!buf || dfd < 0) {
                if (dfd >= 0)
                        close(dfd);
                return -ENOMEM;
        }
        if (lseek(fd, 0, SEEK_SET) < 0) {
                close(dfd);
                return -errno;
        }
        f = solv_xfopen_fd(hint, dfd, "r");
        if (!f) {
                close(dfd);
                return -EINVAL;
        }
        for (;;) {
                size_t n = fread(buf, 1, MEASURE_CHUNK, f);

                total += n;
                if (total > max) {
                        r = -EFBIG;
                        break;
                }
                if (n < MEASURE_CHUNK) {
                        if (ferror(f))
                                r = -EINVAL;
                        break;
                }
        }
        fclose(f);
        if (lseek(fd, 0, SEEK_SET) < 0 && r == 0)
                r = -errno;
        if (r == 0)
                *ret = total;
        return r;
}

static int64_t mono_ms(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (int64_t) t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void index_progress_init(struct index_progress *p, const char *label, uint64_t total) {
        *p = (struct index_progress){ .label = label,
                                      .total = total,
                                      .on = total >= INDEX_PROGRESS_MIN && isatty(STDERR_FILENO) == 1,
                                      .last_ms = mono_ms() };
}

void index_progress_add(struct index_progress *p, uint64_t n) {
        int64_t now;

        p->done += n;
        if (!p->on)
                return;
        now = mono_ms();
        if (now - p->last_ms < PROGRESS_INTERVAL_MS)
                return;
        p->last_ms = now;
        fprintf(stderr, "\rindex '%.60s': %llu of %llu MiB\033[K", p->label, (unsigned long long) (p->done >> 20),
                (unsigned long long) (p->total >> 20));
        p->printed = true;
}

void index_progress_end(struct index_progress *p) {
        if (p->printed)
                fputs("\r\033[K", stderr);
        p->printed = false;
}

struct bounded {
        FILE *in;
        uint64_t max, seen;
        struct index_progress *progress;
        bool *too_large;
};

static ssize_t bounded_read(void *cookie, char *buf, size_t size) {
        struct bounded *b = cookie;
        size_t n = fread(buf, 1, size, b->in);

        if (n == 0 && ferror(b->in))
                return -1;
        b->seen += n;
        if (b->seen > b->max) {
                *b->too_large = true;
                errno = EFBIG;
                return -1;
        }
        if (b->progress)
                index_progress_add(b->progress, n);
        return (ssize_t) n;
}

static int bounded_close(void *cookie) {
        struct bounded *b = cookie;
        int r = fclose(b->in);

        free(b);
        return r;
}

FILE *index_open_bounded(int fd, const char *hint, uint64_t max, struct index_progress *p, bool *too_large) {
        cookie_io_functions_t io = { .read = bounded_read, .close = bounded_close };
        struct bounded *b = calloc(1, sizeof(*b));
        FILE *f;

        *too_large = false;
        if (!b) {
                close(fd);
                return NULL;
        }
        b->in = solv_xfopen_fd(hint, fd, "r");
        if (!b->in) {
                close(fd);
                free(b);
                return NULL;
        }
        b->max = max;
        b->progress = p;
        b->too_large = too_large;
        f = fopencookie(b, "r", io);
        if (!f) {
                fclose(b->in);
                free(b);
        }
        return f;
}
