/* Cleanup attributes and small macros shared by every module.
 *
 * Modelled on systemd's macro.h: variables declared with _cleanup_* are
 * released when they go out of scope, and TAKE_PTR/TAKE_FD hand ownership
 * out of such a variable without releasing it. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static inline void freep(void *p) {
        free(*(void **) p);
}

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

/* free_many(a, b, c): frees each pointer, as systemd's free_many_charp();
 * a destructor says what it owns in one line. */
static inline void free_many_array(void *const *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(p[i]);
}
#define free_many(...) \
        free_many_array((void *const[]){ __VA_ARGS__ }, sizeof((void *const[]){ __VA_ARGS__ }) / sizeof(void *))

/* close_many(a, b): closes each descriptor that is >= 0. */
static inline void close_many_array(const int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
}
#define close_many(...) \
        close_many_array((const int[]){ __VA_ARGS__ }, sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int))

/* Frees a secret (password, token) after overwriting it, as systemd's
 * erase_and_free(). */
static inline void erase_and_free(char *s) {
        if (s)
                explicit_bzero(s, strlen(s));
        free(s);
}

static inline void erase_and_freep(char **p) {
        erase_and_free(*p);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Returns the pointer and clears the variable, so its cleanup does nothing. */
#define TAKE_PTR(p)                      \
        ({                               \
                __typeof__(p) _p_ = (p); \
                (p) = NULL;              \
                _p_;                     \
        })

#define TAKE_FD(fd)              \
        ({                       \
                int _fd_ = (fd); \
                (fd) = -1;       \
                _fd_;            \
        })

/* Declares fooP(struct foo **) that calls foo_free(), for _cleanup_(). */
#define DEFINE_POINTER_CLEANUP(type, func)     \
        static inline void func##p(type **p) { \
                if (*p)                        \
                        func(*p);              \
        }

#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)
#define isempty(s) (!(s) || (s)[0] == '\0')

/* s is 1 to max bytes, each an ASCII letter or digit or one of extra: a
 * name or version a package database gives, say.  Not the locale's idea
 * of a letter. */
static inline bool ascii_word(const char *s, size_t max, const char *extra) {
        size_t n = 0;

        for (const char *c = s; c && *c; c++, n++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                      strchr(extra, *c)))
                        return false;
        return n > 0 && n <= max;
}
