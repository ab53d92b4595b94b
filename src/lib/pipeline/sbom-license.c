/* The licenses of the packages in the SBOMs, as SPDX license expressions:
 * those a Debian machine-readable copyright file declares, mapped onto
 * SPDX ids (else LicenseRef-s), and an rpm License tag when it is already
 * an SPDX expression, checked against the SPDX license list
 * (spdx-license.h) by a small recursive-descent parser.  Both read text
 * from packages: bounded, and nothing is trusted to be well formed; see
 * sbom.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/buf.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "pipeline/sbom.h"
#include "pipeline/spdx-license.h"

/* --- licenses --- */

static const struct {
        const char *debian, *spdx;
} license_map[] = {
        { "GPL-1", "GPL-1.0-only" },
        { "GPL-1+", "GPL-1.0-or-later" },
        { "GPL-2", "GPL-2.0-only" },
        { "GPL-2+", "GPL-2.0-or-later" },
        { "GPL-3", "GPL-3.0-only" },
        { "GPL-3+", "GPL-3.0-or-later" },
        { "LGPL-2", "LGPL-2.0-only" },
        { "LGPL-2+", "LGPL-2.0-or-later" },
        { "LGPL-2.1", "LGPL-2.1-only" },
        { "LGPL-2.1+", "LGPL-2.1-or-later" },
        { "LGPL-3", "LGPL-3.0-only" },
        { "LGPL-3+", "LGPL-3.0-or-later" },
        { "Expat", "MIT" },
        { "MIT", "MIT" },
        { "BSD-2-clause", "BSD-2-Clause" },
        { "BSD-3-clause", "BSD-3-Clause" },
        { "BSD-4-clause", "BSD-4-Clause" },
        { "Apache-2.0", "Apache-2.0" },
        { "ISC", "ISC" },
        { "Zlib", "Zlib" },
        { "Artistic", "Artistic-1.0" },
        { "GFDL-1.3+", "GFDL-1.3-or-later" },
        { "MPL-2.0", "MPL-2.0" },
        { "CC0-1.0", "CC0-1.0" },
};

/* A Debian license name as an SPDX id, or "LicenseRef-<name>" (added to
 * refs) for one SPDX does not know. */
static char *license_id(const char *name, char ***refs) {
        char *r = NULL;

        for (size_t i = 0; i < ELEMENTSOF(license_map); i++)
                if (strcasecmp(name, license_map[i].debian) == 0)
                        return strdup(license_map[i].spdx);
        if (asprintf(&r, "LicenseRef-%s", name) < 0)
                return NULL;
        for (char *c = r + 11; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
                      *c == '-'))
                        *c = '-';
        if (!strv_contains(*refs, r) && strv_extend(refs, r) < 0) {
                free(r);
                return NULL;
        }
        return r;
}

/* One "License:" value ("GPL-3+ and BSD-4-clause-UC", "GPL-2+ or Artistic")
 * as an SPDX expression; a value that is not names between and/or is one
 * LicenseRef. */
static char *license_expression(const char *value, char ***refs) {
        _cleanup_strv_free_ char **words = strv_split(value, " \t,", true);
        _cleanup_free_ char *out = NULL;
        size_t n = strv_length(words);
        bool ok = n % 2 == 1;

        if (!words)
                return NULL;
        for (size_t i = 1; ok && i < n; i += 2)
                ok = strcasecmp(words[i], "and") == 0 || strcasecmp(words[i], "or") == 0;
        if (!ok) {
                _cleanup_free_ char *joined = strv_join(words, "-");
                return joined ? license_id(joined, refs) : NULL;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *id = NULL, *next = NULL;
                if (i % 2 == 1)
                        id = strdup(strcasecmp(words[i], "and") == 0 ? "AND" : "OR");
                else
                        id = license_id(words[i], refs);
                if (!id || asprintf(&next, "%s%s%s", out ?: "", out ? " " : "", id) < 0)
                        return NULL;
                free(out);
                out = TAKE_PTR(next);
        }
        if (n > 1) {
                char *p = NULL;
                return asprintf(&p, "(%s)", out) < 0 ? NULL : p;
        }
        return TAKE_PTR(out);
}

char *sbom_copyright_license(const char *text, size_t len, char ***refs) {
        _cleanup_free_ char *buf = strndup(text, len);
        _cleanup_strv_free_ char **values = NULL;
        _cleanup_strv_free_ char **exprs = NULL;

        if (!buf || strncmp(buf, "Format:", 7) != 0)
                return NULL;
        for (char *l = buf; l && *l;) {
                char *eol = strchr(l, '\n');
                if (eol)
                        *eol = '\0';
                if (strncasecmp(l, "License:", 8) == 0) {
                        char *v = l + 8;
                        v += strspn(v, " \t");
                        for (char *e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r');)
                                *--e = '\0';
                        /* a value longer than any license line is no license line: left out */
                        if (*v && strlen(v) <= SBOM_LICENSE_VALUE_MAX && strv_length(values) < SBOM_MAX_LICENSES &&
                            !strv_contains(values, v) && strv_extend(&values, v) < 0)
                                return NULL;
                }
                l = eol ? eol + 1 : NULL;
        }
        if (!values)
                return NULL;
        strv_sort(values);
        for (size_t i = 0; values[i]; i++) {
                char *e = license_expression(values[i], refs);
                if (!e || strv_consume(&exprs, e) < 0)
                        return NULL;
        }
        return strv_join(exprs, " AND ");
}

/* --- SPDX license expressions (an rpm's License tag) --- */

#define EXPR_DEPTH_MAX 32

struct lexer {
        char **tok; /* "(", ")" and the words between */
        size_t n, i;
        struct buf out;
        char **refs; /* the LicenseRefs it names */
        int depth;
};

static bool licenseref_valid(const char *w) {
        if (!strneq(w, "LicenseRef-", 11) || !w[11])
                return false;
        for (const char *c = w + 11; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
                      *c == '-'))
                        return false;
        return true;
}

static const char *lex_peek(const struct lexer *x) {
        return x->i < x->n ? x->tok[x->i] : NULL;
}

static int lex_emit(struct lexer *x, const char *s) {
        return buf_append_str(&x->out, s) < 0 ? -ENOMEM : 0;
}

static int lex_or(struct lexer *x);

/* term: "(" or-expression ")" | license-id["+"] ["WITH" exception-id] | LicenseRef-... */
static int lex_term(struct lexer *x) {
        const char *w = lex_peek(x);
        int r;

        if (!w)
                return -EINVAL;
        x->i++;
        if (streq(w, "(")) {
                if (++x->depth > EXPR_DEPTH_MAX)
                        return -EINVAL;
                r = lex_emit(x, "(");
                if (r >= 0)
                        r = lex_or(x);
                if (r < 0)
                        return r;
                if (!lex_peek(x) || !streq(lex_peek(x), ")"))
                        return -EINVAL;
                x->i++;
                x->depth--;
                return lex_emit(x, ")");
        }
        if (licenseref_valid(w)) {
                if (!strv_contains(x->refs, w) && strv_extend(&x->refs, w) < 0)
                        return -ENOMEM;
                r = lex_emit(x, w);
        } else {
                size_t n = strlen(w);
                bool plus = n > 1 && w[n - 1] == '+';
                _cleanup_free_ char *base = strndup(w, plus ? n - 1 : n);
                const char *id;

                if (!base)
                        return -ENOMEM;
                id = spdx_license_id(base);
                if (!id)
                        return -EINVAL;
                r = lex_emit(x, id);
                if (r >= 0 && plus)
                        r = lex_emit(x, "+");
        }
        if (r < 0 || !lex_peek(x) || !streq(lex_peek(x), "WITH"))
                return r;
        x->i++;
        w = lex_peek(x);
        w = w ? spdx_exception_id(w) : NULL;
        if (!w)
                return -EINVAL;
        x->i++;
        r = lex_emit(x, " WITH ");
        return r < 0 ? r : lex_emit(x, w);
}

/* One level of the grammar: next, then any number of "op next". */
static int lex_level(struct lexer *x, const char *op, int (*next)(struct lexer *x)) {
        int r = next(x);

        while (r >= 0 && lex_peek(x) && streq(lex_peek(x), op)) {
                x->i++;
                r = lex_emit(x, " ");
                if (r >= 0)
                        r = lex_emit(x, op);
                if (r >= 0)
                        r = lex_emit(x, " ");
                if (r >= 0)
                        r = next(x);
        }
        return r;
}

static int lex_and(struct lexer *x) {
        return lex_level(x, "AND", lex_term);
}

static int lex_or(struct lexer *x) {
        return lex_level(x, "OR", lex_and);
}

int sbom_spdx_expression(const char *value, char ***refs, char **ret) {
        _cleanup_strv_free_ char **tok = NULL;
        struct lexer x = { .out = BUF_INIT(SBOM_EXPRESSION_MAX * 2) };
        size_t len = value ? strlen(value) : 0;
        int r = 0;

        *ret = NULL;
        if (len == 0 || len > SBOM_EXPRESSION_MAX)
                return 0;
        for (const char *c = value; *c && r >= 0;) {
                size_t n = strcspn(c, " \t\n\r()");
                if (n > 0) {
                        char *t = strndup(c, n);
                        r = t ? strv_consume(&tok, t) : -ENOMEM;
                } else if (*c == '(' || *c == ')')
                        r = strv_extend(&tok, *c == '(' ? "(" : ")"), n = 1;
                else
                        n = 1;
                c += n;
        }
        if (r < 0)
                return -ENOMEM;
        x.tok = tok;
        x.n = strv_length(tok);
        r = x.n > 0 ? lex_or(&x) : -EINVAL;
        if (r >= 0 && x.i != x.n)
                r = -EINVAL;
        for (size_t i = 0; r >= 0 && x.refs && x.refs[i]; i++)
                if (!strv_contains(*refs, x.refs[i]) && strv_extend(refs, x.refs[i]) < 0)
                        r = -ENOMEM;
        strv_free(x.refs);
        if (r >= 0)
                *ret = buf_steal(&x.out, NULL);
        buf_release(&x.out);
        if (r == -EINVAL)
                return 0;
        if (r < 0 || !*ret)
                return -ENOMEM;
        return 1;
}
