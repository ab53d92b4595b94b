/* Parsing dpkg's status file (and distroless' status.d files) into
 * struct dpkg_package, for dpkg-db.c; see dpkg_status_parse() in
 * dpkg-db.h.  The input is hostile: names and architectures must be
 * dpkg's characters, versions bounded, and the file size and package
 * count bounded. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/buf.h"
#include "basic/strv.h"
#include "pkg/dpkg-db.h"

#define DPKG_NAME_MAX 256

static bool name_valid(const char *s, bool arch) {
        size_t n = strlen(s);

        if (n == 0 || n > DPKG_NAME_MAX)
                return false;
        for (const char *c = s; *c; c++) {
                bool ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
                          (!arch && (*c == '.' || *c == '+'));
                if (!ok)
                        return false;
        }
        return true;
}

static void package_release(struct dpkg_package *p) {
        free_many(p->name, p->arch, p->version, p->source, p->source_version, p->info_name, p->stanza);
        *p = (struct dpkg_package){};
}

void dpkg_packages_free(struct dpkg_package *pkgs, size_t n) {
        for (size_t i = 0; pkgs && i < n; i++)
                package_release(&pkgs[i]);
        free(pkgs);
}

static bool version_valid(const char *s) {
        return ascii_word(s, DPKG_NAME_MAX, ".+-:~");
}

/* The value of field (a line "Field: value") within a stanza, trimmed, or
 * NULL; copied.  -ENOMEM. */
static int stanza_field(const char *st, size_t len, const char *field, char **ret) {
        size_t fl = strlen(field);

        *ret = NULL;
        for (const char *l = st; l < st + len;) {
                const char *eol = memchr(l, '\n', (size_t) (st + len - l));
                size_t ll = eol ? (size_t) (eol - l) : (size_t) (st + len - l);

                if (ll > fl && l[fl] == ':' && strncasecmp(l, field, fl) == 0) {
                        const char *v = l + fl + 1, *end = l + ll;
                        while (v < end && (*v == ' ' || *v == '\t'))
                                v++;
                        while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                                end--;
                        *ret = strndup(v, (size_t) (end - v));
                        return *ret ? 0 : -ENOMEM;
                }
                l += ll + 1;
        }
        return 0;
}

int dpkg_package_cmp(const void *a, const void *b) {
        const struct dpkg_package *x = a, *y = b;
        int c = strcmp(x->info_name, y->info_name);
        return c ? c : strcmp(x->stanza, y->stanza);
}

/* The stanza's text with its Status (status.d's may lack one), ending in
 * a newline. */
static int stanza_text(const char *st, size_t len, bool has_status, char **ret) {
        _cleanup_buf_ struct buf b = BUF_INIT(DPKG_STATUS_MAX + 64);
        const char *eol = memchr(st, '\n', len);
        size_t first = eol ? (size_t) (eol - st) + 1 : len;

        if (has_status) {
                if (buf_append(&b, st, len) < 0)
                        return -ENOMEM;
        } else if (buf_append(&b, st, first) < 0 || (!eol && buf_append_str(&b, "\n") < 0) ||
                   buf_append_str(&b, "Status: install ok installed\n") < 0 ||
                   buf_append(&b, st + first, len - first) < 0)
                return -ENOMEM;
        if ((b.len == 0 || b.data[b.len - 1] != '\n') && buf_append_str(&b, "\n") < 0)
                return -ENOMEM;
        *ret = buf_steal(&b, NULL);
        return *ret ? 0 : -ENOMEM;
}

/* One stanza: 1 if it is an installed package (*pkg filled), 0 if not,
 * -ENOMEM. */
static int parse_stanza(const char *st, size_t len, bool status_d, struct dpkg_package *ret) {
        _cleanup_free_ char *status = NULL, *source = NULL, *ma = NULL;
        struct dpkg_package pkg = { .from_status_d = status_d };
        int r;

        if (stanza_field(st, len, "Status", &status) < 0 || stanza_field(st, len, "Package", &pkg.name) < 0 ||
            stanza_field(st, len, "Architecture", &pkg.arch) < 0 ||
            stanza_field(st, len, "Version", &pkg.version) < 0 || stanza_field(st, len, "Source", &source) < 0 ||
            stanza_field(st, len, "Multi-Arch", &ma) < 0) {
                r = -ENOMEM;
                goto out;
        }
        r = 0;
        if (status ? !streq(status, "install ok installed") : !status_d)
                goto out;
        if (!pkg.name || !name_valid(pkg.name, false) || (pkg.arch && !name_valid(pkg.arch, true)) ||
            (pkg.version && !version_valid(pkg.version)))
                goto out;
        r = -ENOMEM;
        if (source) {
                /* "Source: util-linux (2.38.1-5+deb12u3)" */
                char *paren = strchr(source, '(');
                if (paren) {
                        char *close = strchr(paren, ')');
                        if (close && close > paren + 1) {
                                pkg.source_version = strndup(paren + 1, (size_t) (close - paren - 1));
                                if (!pkg.source_version)
                                        goto out;
                                if (!version_valid(pkg.source_version))
                                        free(TAKE_PTR(pkg.source_version));
                        }
                        while (paren > source && paren[-1] == ' ')
                                paren--;
                        *paren = '\0';
                }
                if (name_valid(source, false))
                        pkg.source = TAKE_PTR(source);
        }
        if (!pkg.source && !(pkg.source = strdup(pkg.name)))
                goto out;
        if (!pkg.source_version && pkg.version && !(pkg.source_version = strdup(pkg.version)))
                goto out;
        /* "libc6:amd64" for Multi-Arch: same packages, as dpkg names their files */
        if (ma && streq(ma, "same") && pkg.arch) {
                if (asprintf(&pkg.info_name, "%s:%s", pkg.name, pkg.arch) < 0) {
                        pkg.info_name = NULL;
                        goto out;
                }
        } else if (!(pkg.info_name = strdup(pkg.name)))
                goto out;
        if (stanza_text(st, len, status != NULL, &pkg.stanza) < 0)
                goto out;
        *ret = pkg;
        return 1;
out:
        package_release(&pkg);
        return r;
}

/* Finds the next stanza from *pos: its start is returned, *pos is set past
 * it (past its last newline).  A stanza ends at an empty line. */
static size_t next_stanza(const char *buf, size_t len, size_t *pos) {
        size_t s = *pos, e;

        while (s < len && buf[s] == '\n')
                s++;
        for (e = s; e < len; e++)
                if (buf[e] == '\n' && (e + 1 == len || buf[e + 1] == '\n'))
                        break;
        if (e < len)
                e++;
        *pos = e;
        return s;
}

int dpkg_status_parse(const char *buf, size_t len, bool status_d, struct dpkg_package **ret, size_t *ret_n,
                      struct smith_error **err) {
        struct dpkg_package *pkgs = NULL;
        size_t n = 0, cap = 0, pos = 0, w;

        if (len > DPKG_STATUS_MAX)
                return error_set(err, SMITH_ERR_SOURCE, "larger than %u MiB", DPKG_STATUS_MAX >> 20);
        if (memchr(buf, '\0', len))
                return error_set(err, SMITH_ERR_SOURCE, "holds a NUL byte");
        while (pos < len) {
                size_t start = next_stanza(buf, len, &pos);
                struct dpkg_package pkg;
                int r;

                if (pos <= start)
                        break;
                r = parse_stanza(buf + start, pos - start, status_d, &pkg);
                if (r == 0)
                        continue;
                if (r > 0 && n >= DPKG_MAX_PACKAGES) {
                        package_release(&pkg);
                        dpkg_packages_free(pkgs, n);
                        return error_set(err, SMITH_ERR_SOURCE, "lists more than %d packages", DPKG_MAX_PACKAGES);
                }
                if (r > 0 && n == cap) {
                        size_t c = cap ? cap * 2 : 64;
                        struct dpkg_package *q = reallocarray(pkgs, c, sizeof(*pkgs));
                        if (!q) {
                                package_release(&pkg);
                                r = -ENOMEM;
                        } else {
                                pkgs = q;
                                cap = c;
                        }
                }
                if (r < 0) {
                        dpkg_packages_free(pkgs, n);
                        return error_oom(err);
                }
                pkgs[n++] = pkg;
        }
        if (n > 0)
                qsort(pkgs, n, sizeof(*pkgs), dpkg_package_cmp);
        /* a package listed twice: the first in that order (dpkg would refuse the file) */
        for (size_t i = w = 0; i < n; i++) {
                if (w > 0 && streq(pkgs[w - 1].info_name, pkgs[i].info_name)) {
                        package_release(&pkgs[i]);
                        continue;
                }
                pkgs[w++] = pkgs[i];
        }
        *ret = pkgs;
        *ret_n = w;
        return 0;
}
