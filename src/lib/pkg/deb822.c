/* deb822 stanzas; see deb822.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/macro.h"
#include "deb822.h"

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r';
}

/* Copy of [s, e) without surrounding blanks. */
static char *trimmed(const char *s, const char *e) {
        while (s < e && is_blank(*s))
                s++;
        while (e > s && is_blank(e[-1]))
                e--;
        return strndup(s, (size_t) (e - s));
}

/* Appends "\n" and the trimmed line [s, e) to f's value (amortised: a
 * Release may hold a hundred thousand checksum lines). */
static int append_line(struct deb822_field *f, const char *s, const char *e) {
        size_t b;

        while (s < e && is_blank(*s))
                s++;
        while (e > s && is_blank(e[-1]))
                e--;
        b = (size_t) (e - s);
        if (b == 1 && s[0] == '.')
                b = 0;
        if (f->value_len + b + 2 > f->value_cap) {
                size_t c = MAX(f->value_cap * 2, f->value_len + b + 2);
                char *n = realloc(f->value, c);
                if (!n)
                        return -ENOMEM;
                f->value = n;
                f->value_cap = c;
        }
        f->value[f->value_len++] = '\n';
        memcpy(f->value + f->value_len, s, b);
        f->value_len += b;
        f->value[f->value_len] = '\0';
        return 0;
}

void deb822_free(struct deb822_stanza *s, size_t n) {
        if (!s)
                return;
        for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < s[i].n_fields; j++) {
                        free(s[i].fields[j].key);
                        free(s[i].fields[j].value);
                }
                free(s[i].fields);
        }
        free(s);
}

int deb822_parse(const char *text, size_t len, size_t max_stanzas, struct deb822_stanza **ret, size_t *ret_n,
                 size_t *ret_err_line) {
        struct deb822_stanza *st = NULL, *cur = NULL;
        size_t n = 0, line = 0, cap = 0;
        const char *p = text, *end = text + len;
        int r = 0;

        if (memchr(text, '\0', len)) {
                /* report the line of the first NUL */
                size_t l = 1;
                for (const char *q = text; *q; q++)
                        l += *q == '\n';
                *ret_err_line = l;
                return -EINVAL;
        }
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p)), *colon, *q;
                struct deb822_field *f;

                if (!eol)
                        eol = end;
                line++;
                for (q = p; q < eol && is_blank(*q); q++)
                        ;
                if (p[0] == '#') {
                        /* a comment, even inside a stanza */
                } else if (q == eol) {
                        cur = NULL; /* a blank line ends the stanza */
                } else if (is_blank(p[0])) {
                        if (!cur || cur->n_fields == 0) {
                                r = -EINVAL;
                                goto fail;
                        }
                        r = append_line(&cur->fields[cur->n_fields - 1], p, eol);
                        if (r < 0)
                                goto fail;
                } else {
                        colon = memchr(p, ':', (size_t) (eol - p));
                        if (!colon || colon == p) {
                                r = -EINVAL;
                                goto fail;
                        }
                        if (!cur) {
                                if (n >= max_stanzas) {
                                        r = -E2BIG;
                                        goto fail;
                                }
                                if (n == cap) {
                                        size_t c = MAX(cap * 2, (size_t) 8);
                                        struct deb822_stanza *t = realloc(st, c * sizeof(*st));
                                        if (!t) {
                                                r = -ENOMEM;
                                                goto fail;
                                        }
                                        st = t;
                                        cap = c;
                                }
                                cur = &st[n++];
                                *cur = (struct deb822_stanza){ .line = line };
                        }
                        if (cur->n_fields >= DEB822_MAX_FIELDS) {
                                r = -E2BIG;
                                goto fail;
                        }
                        f = realloc(cur->fields, (cur->n_fields + 1) * sizeof(*f));
                        if (!f) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        cur->fields = f;
                        f = &cur->fields[cur->n_fields];
                        f->key = trimmed(p, colon);
                        f->value = trimmed(colon + 1, eol);
                        f->value_len = f->value ? strlen(f->value) : 0;
                        f->value_cap = f->value_len + 1;
                        f->line = line;
                        cur->n_fields++;
                        if (!f->key || !f->value) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        if (f->key[0] == '\0' || strpbrk(f->key, " \t")) {
                                r = -EINVAL;
                                goto fail;
                        }
                }
                p = eol < end ? eol + 1 : end;
        }
        *ret = st;
        *ret_n = n;
        return 0;
fail:
        deb822_free(st, n);
        *ret_err_line = line;
        return r;
}

const struct deb822_field *deb822_field(const struct deb822_stanza *s, const char *key) {
        for (size_t i = 0; i < s->n_fields; i++)
                if (strcasecmp(s->fields[i].key, key) == 0)
                        return &s->fields[i];
        return NULL;
}

const char *deb822_get(const struct deb822_stanza *s, const char *key) {
        const struct deb822_field *f = deb822_field(s, key);
        return f ? f->value : NULL;
}
