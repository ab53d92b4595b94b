/* NULL-terminated string vectors (char **), as in systemd's strv.
 * A strv owns its strings; strv_free() accepts NULL. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

size_t strv_length(char *const *l);
/* Appends a copy of s; returns 0 or -ENOMEM. */
int strv_extend(char ***l, const char *s);
/* Appends s itself (takes ownership, even on failure). */
int strv_consume(char ***l, char *s);
bool strv_contains(char *const *l, const char *s);
char **strv_copy(char *const *l);
/* Splits s at every sep character; empty fields are kept unless drop_empty. */
char **strv_split(const char *s, const char *sep, bool drop_empty);
char *strv_join(char *const *l, const char *sep);
void strv_sort(char **l);
void strv_free(char **l);
void strv_free_array(char **const *l, size_t n);
/* strv_free_many(a, b, c): strv_free() of each, for destructors. */
#define strv_free_many(...) \
        strv_free_array((char **const[]){ __VA_ARGS__ }, sizeof((char **const[]){ __VA_ARGS__ }) / sizeof(char **))
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)
