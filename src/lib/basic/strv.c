/* String vector helpers; see strv.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

size_t strv_length(char *const *l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

int strv_consume(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **t;

        if (!s)
                return -ENOMEM;
        t = realloc(*l, sizeof(char *) * (n + 2));
        if (!t) {
                free(s);
                return -ENOMEM;
        }
        t[n] = s;
        t[n + 1] = NULL;
        *l = t;
        return 0;
}

int strv_extend(char ***l, const char *s) {
        return strv_consume(l, strdup(s));
}

bool strv_contains(char *const *l, const char *s) {
        for (size_t i = 0; l && l[i]; i++)
                if (strcmp(l[i], s) == 0)
                        return true;
        return false;
}

char **strv_copy(char *const *l) {
        char **r = calloc(strv_length(l) + 1, sizeof(char *));
        if (!r)
                return NULL;
        for (size_t i = 0; l && l[i]; i++) {
                r[i] = strdup(l[i]);
                if (!r[i]) {
                        strv_free(r);
                        return NULL;
                }
        }
        return r;
}

char **strv_split(const char *s, const char *sep, bool drop_empty) {
        char **r = calloc(1, sizeof(char *));
        const char *p = s;

        if (!r)
                return NULL;
        if (!s)
                return r;
        for (;;) {
                size_t n = strcspn(p, sep);
                if ((n > 0 || !drop_empty) && strv_consume(&r, strndup(p, n)) < 0) {
                        strv_free(r);
                        return NULL;
                }
                if (p[n] == '\0')
                        break;
                p += n + 1;
        }
        return r;
}

char *strv_join(char *const *l, const char *sep) {
        size_t len = 0, seplen = strlen(sep), n = strv_length(l);
        char *r, *p;

        for (size_t i = 0; i < n; i++)
                len += strlen(l[i]) + (i > 0 ? seplen : 0);
        r = malloc(len + 1);
        if (!r)
                return NULL;
        p = r;
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        p = stpcpy(p, sep);
                p = stpcpy(p, l[i]);
        }
        *p = '\0';
        return r;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void strv_sort(char **l) {
        if (!l)
                return;
        qsort(l, strv_length(l), sizeof(char *), cmp_str);
}

void strv_free(char **l) {
        for (size_t i = 0; l && l[i]; i++)
                free(l[i]);
        free(l);
}

void strv_free_array(char **const *l, size_t n) {
        for (size_t i = 0; i < n; i++)
                strv_free(l[i]);
}
