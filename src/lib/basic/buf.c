/* The bounded growable buffer; see buf.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

#define BUF_MIN_CAP 256
#define BUF_READ_CHUNK 65536

static int buf_reserve(struct buf *b, size_t extra) {
        size_t want, cap;
        char *d;

        if (extra > b->max - b->len)
                return -EFBIG;
        want = b->len + extra + 1;
        if (want <= b->cap)
                return 0;
        cap = MAX(b->cap * 2, want);
        cap = MAX(cap, (size_t) BUF_MIN_CAP);
        cap = MIN(cap, b->max + 1);
        d = realloc(b->data, cap);
        if (!d)
                return -ENOMEM;
        b->data = d;
        b->cap = cap;
        return 0;
}

int buf_append(struct buf *b, const void *data, size_t len) {
        int r = buf_reserve(b, len);

        if (r < 0)
                return r;
        if (len > 0)
                memcpy(b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = '\0';
        return 0;
}

int buf_append_str(struct buf *b, const char *s) {
        return buf_append(b, s, strlen(s));
}

ssize_t read_retry(int fd, void *buf, size_t len) {
        ssize_t n;

        do
                n = read(fd, buf, len);
        while (n < 0 && errno == EINTR);
        return n < 0 ? -errno : n;
}

int buf_read_fd(struct buf *b, int fd) {
        for (;;) {
                size_t room = MIN((size_t) BUF_READ_CHUNK, b->max - b->len);
                char probe, *into;
                ssize_t n;
                int r;

                /* full: one byte more than max is enough to tell it is too big */
                r = room > 0 ? buf_reserve(b, room) : 0;
                if (r < 0)
                        return r;
                into = room > 0 ? b->data + b->len : &probe;
                n = read_retry(fd, into, room > 0 ? room : 1);
                if (n <= 0) {
                        if (n < 0)
                                return (int) n;
                        break;
                }
                if (room == 0)
                        return -EFBIG;
                b->len += (size_t) n;
                b->data[b->len] = '\0';
        }
        return b->data ? 0 : buf_append(b, "", 0);
}

char *buf_steal(struct buf *b, size_t *ret_len) {
        char *d;

        if (!b->data && buf_append(b, "", 0) < 0)
                return NULL;
        d = b->data;
        if (ret_len)
                *ret_len = b->len;
        b->data = NULL;
        b->len = b->cap = 0;
        return d;
}

void buf_release(struct buf *b) {
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
}
