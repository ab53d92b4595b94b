/* A growable byte buffer with a maximum, for everything that grows from
 * outside input (curl's dynbuf): HTTP bodies, helper output, JSON being
 * written, whole files read into memory.
 *
 * The data is always NUL-terminated (the NUL is not counted in len), so a
 * text buffer can be used as a string.  Appending past max fails with
 * -EFBIG and leaves the buffer as it was; running out of memory is
 * -ENOMEM.  A buffer owns its data: buf_release() frees it, buf_steal()
 * hands it out. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "macro.h"

struct buf {
        char *data; /* NULL until something (even nothing) is appended */
        size_t len, cap, max;
};

#define BUF_INIT(maximum) ((struct buf){ .max = (maximum) })

/* 0, -EFBIG (past max) or -ENOMEM. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_append_str(struct buf *b, const char *s);
/* Reads fd to its end into b; -EFBIG as soon as max would be exceeded,
 * -errno of a failed read. */
int buf_read_fd(struct buf *b, int fd);
/* read(), again after EINTR: the count, 0 at the end, or -errno. */
ssize_t read_retry(int fd, void *buf, size_t len);
/* The data (an empty string if nothing was appended, NULL only if that
 * allocation fails), now the caller's; b is empty afterwards. */
char *buf_steal(struct buf *b, size_t *ret_len);
void buf_release(struct buf *b);
static inline void buf_releasep(struct buf *b) {
        buf_release(b);
}
#define _cleanup_buf_ _cleanup_(buf_releasep)
