/* Error objects: creation, wrapping with context, exit codes, the
 * converters from foreign libraries' error reports, and paths shortened
 * for messages. */
#include <archive.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static char *vformat(const char *fmt, va_list ap) {
        char *s = NULL;
        if (vasprintf(&s, fmt, ap) < 0)
                return NULL;
        return s;
}

static int error_new(struct smith_error **err, enum smith_error_kind kind, int errnum, char *msg) {
        struct smith_error *e;

        if (!err) {
                free(msg);
                return -1;
        }
        if (*err) { /* keep the first error */
                free(msg);
                return -1;
        }
        e = calloc(1, sizeof(*e));
        if (!e) {
                free(msg);
                return -1;
        }
        e->kind = kind;
        e->errnum = errnum;
        e->msg = msg ? msg : strdup("out of memory");
        *err = e;
        return -1;
}

int error_set(struct smith_error **err, enum smith_error_kind kind, const char *fmt, ...) {
        va_list ap;
        char *m;

        va_start(ap, fmt);
        m = vformat(fmt, ap);
        va_end(ap);
        return error_new(err, kind, 0, m);
}

int error_set_errno(struct smith_error **err, enum smith_error_kind kind, int errnum, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        char *full = NULL;
        va_list ap;

        if (errnum < 0)
                errnum = -errnum;
        va_start(ap, fmt);
        m = vformat(fmt, ap);
        va_end(ap);
        if (m && asprintf(&full, "%s: %s", m, strerror(errnum)) < 0)
                full = NULL;
        return error_new(err, kind, errnum, full);
}

int error_wrap(struct smith_error **err, const char *fmt, ...) {
        _cleanup_free_ char *ctx = NULL;
        char *full = NULL;
        va_list ap;

        if (!err)
                return -1;
        va_start(ap, fmt);
        ctx = vformat(fmt, ap);
        va_end(ap);
        if (!*err)
                return error_new(err, SMITH_ERR_IO, 0, ctx ? strdup(ctx) : NULL);
        if (ctx && asprintf(&full, "%s: %s", ctx, (*err)->msg) >= 0) {
                free((*err)->msg);
                (*err)->msg = full;
        }
        return -1;
}

int error_oom(struct smith_error **err) {
        return error_new(err, SMITH_ERR_IO, ENOMEM, strdup("out of memory"));
}

void error_free(struct smith_error *e) {
        if (!e)
                return;
        free(e->msg);
        free(e);
}

int error_exit_code(const struct smith_error *e) {
        if (!e)
                return 0;
        switch (e->kind) {
        case SMITH_ERR_USAGE:
                return 2;
        case SMITH_ERR_CONFIG:
                return 3;
        case SMITH_ERR_SOURCE:
                return 4;
        case SMITH_ERR_REGISTRY:
                return 5;
        case SMITH_ERR_IO:
        default:
                return 1;
        }
}

static void copy_for_msg(char *out, const char *in, size_t n) {
        for (size_t i = 0; i < n; i++)
                out[i] = ((unsigned char) in[i] < 0x20 || in[i] == 0x7f) ? '?' : in[i];
}

static bool utf8_continuation(char c) {
        return ((unsigned char) c & 0xc0) == 0x80;
}

const char *path_for_msg(const char *p, char buf[static PATH_FOR_MSG_SIZE]) {
        size_t len, head, tail;

        if (!p)
                return "(none)";
        len = strlen(p);
        if (len <= PATH_FOR_MSG_MAX) {
                copy_for_msg(buf, p, len);
                buf[len] = '\0';
                return buf;
        }
        /* a little more of the tail: the file name says most */
        head = (PATH_FOR_MSG_MAX - 3) / 2;
        tail = PATH_FOR_MSG_MAX - 3 - head;
        while (head > 0 && utf8_continuation(p[head]))
                head--;
        while (tail > 0 && utf8_continuation(p[len - tail]))
                tail--;
        copy_for_msg(buf, p, head);
        memcpy(buf + head, "...", 3);
        copy_for_msg(buf + head + 3, p + len - tail, tail);
        buf[head + 3 + tail] = '\0';
        return buf;
}

int error_from_archive(struct smith_error **err, enum smith_error_kind kind, struct archive *a, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        const char *s = a ? archive_error_string(a) : NULL;
        int errnum = a ? archive_errno(a) : 0;
        char *full = NULL;
        va_list ap;

        va_start(ap, fmt);
        m = vformat(fmt, ap);
        va_end(ap);
        if (m && asprintf(&full, "%s: %s", m, s ? s : "unknown archive error") < 0)
                full = NULL;
        return error_new(err, kind, errnum > 0 ? errnum : 0, full);
}

char *text_for_msg(const char *s) {
        char *r = strndup(s, strnlen(s, 200));

        for (char *p = r; p && *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        *p = ' ';
        return r;
}
