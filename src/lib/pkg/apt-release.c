/* Release files; see apt-release.h.  Only the SHA256 table is trusted for
 * checksums: MD5Sum and SHA1 are ignored, as apt ignores them when SHA256
 * is there (and smith requires it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/strv.h"
#include "apt-release.h"
#include "deb822.h"

void apt_release_release(struct apt_release *r) {
        free_many(r->origin, r->label, r->suite, r->codename);
        strv_free_many(r->components, r->archs);
        for (size_t i = 0; i < r->n_files; i++)
                free(r->files[i].path);
        free(r->files);
        *r = (struct apt_release){};
}

int apt_release_parse_date(const char *s, time_t *ret) {
        static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
        struct tm tm = {};
        char mon[4] = "", zone[8] = "";
        int day, year, h, m, sec, n = 0, off = 0;
        const char *comma = strchr(s, ',');
        time_t t;

        if (comma)
                s = comma + 1;
        if (sscanf(s, " %2d %3s %4d %2d:%2d:%2d %n", &day, mon, &year, &h, &m, &sec, &n) != 6)
                return -EINVAL;
        if (sscanf(s + n, "%7s", zone) == 1) {
                if (streq(zone, "UTC") || streq(zone, "GMT") || streq(zone, "Z") || streq(zone, "UT"))
                        off = 0;
                else if ((zone[0] == '+' || zone[0] == '-') && strlen(zone) == 5 &&
                         strspn(zone + 1, "0123456789") == 4) {
                        off = ((zone[1] - '0') * 10 + (zone[2] - '0')) * 3600 +
                              ((zone[3] - '0') * 10 + (zone[4] - '0')) * 60;
                        if (zone[0] == '-')
                                off = -off;
                } else
                        return -EINVAL;
        }
        for (tm.tm_mon = 0; tm.tm_mon < 12 && strcasecmp(mon, months[tm.tm_mon]) != 0; tm.tm_mon++)
                ;
        if (tm.tm_mon == 12 || day < 1 || day > 31 || year < 1970 || year > 9999 || h > 23 || m > 59 || sec > 60 ||
            h < 0 || m < 0 || sec < 0)
                return -EINVAL;
        tm.tm_mday = day;
        tm.tm_year = year - 1900;
        tm.tm_hour = h;
        tm.tm_min = m;
        tm.tm_sec = sec;
        t = timegm(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        *ret = t - off;
        return 0;
}

static int file_cmp(const void *a, const void *b) {
        return strcmp(((const struct apt_release_file *) a)->path, ((const struct apt_release_file *) b)->path);
}

static bool has_control(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

/* " <sha256> <size> <path>" lines. */
static int parse_sha256(const char *value, size_t key_line, struct apt_release *r, struct smith_error **err) {
        const char *p = value;
        size_t line = key_line, cap = 0;

        while (*p) {
                const char *eol = strchrnul(p, '\n');
                _cleanup_free_ char *l = strndup(p, (size_t) (eol - p));
                _cleanup_strv_free_ char **w = NULL;
                struct apt_release_file *f;
                unsigned long long size;
                char *end;

                if (!l || !(w = strv_split(l, " \t", true)))
                        return error_oom(err);
                if (w[0]) {
                        if (strv_length(w) != 3 || strlen(w[0]) != SHA256_HEX_LEN ||
                            strspn(w[0], "0123456789abcdefABCDEF") != SHA256_HEX_LEN ||
                            strspn(w[1], "0123456789") != strlen(w[1]) || strlen(w[1]) > 19 || strlen(w[2]) > 4096 ||
                            has_control(w[2]))
                                return error_set(err, SMITH_ERR_SOURCE, "Release: malformed SHA256 line %zu", line);
                        errno = 0;
                        size = strtoull(w[1], &end, 10);
                        if (errno != 0 || *end != '\0')
                                return error_set(err, SMITH_ERR_SOURCE, "Release: malformed SHA256 line %zu", line);
                        if (r->n_files >= APT_RELEASE_MAX_FILES)
                                return error_set(err, SMITH_ERR_SOURCE, "Release: more than %d files",
                                                 APT_RELEASE_MAX_FILES);
                        if (r->n_files == cap) {
                                size_t c = cap ? cap * 2 : 64;
                                f = realloc(r->files, c * sizeof(*f));
                                if (!f)
                                        return error_oom(err);
                                r->files = f;
                                cap = c;
                        }
                        f = &r->files[r->n_files];
                        for (size_t i = 0; i < SHA256_HEX_LEN; i++) {
                                char c = w[0][i];
                                f->sha256[i] = (char) (c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
                        }
                        f->sha256[SHA256_HEX_LEN] = '\0';
                        f->size = size;
                        f->path = TAKE_PTR(w[2]);
                        r->n_files++;
                }
                line++;
                p = *eol ? eol + 1 : eol;
        }
        qsort(r->files, r->n_files, sizeof(*r->files), file_cmp);
        for (size_t i = 1; i < r->n_files; i++)
                if (streq(r->files[i - 1].path, r->files[i].path))
                        return error_set(err, SMITH_ERR_SOURCE, "Release: '%.200s' is listed twice", r->files[i].path);
        return 0;
}

/* v with control characters (a multi-line value's newlines) as '?', in
 * place: only for messages, the stanza is not used afterwards. */
static const char *printable(const char *v) {
        for (char *p = (char *) v; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        return v;
}

static int dup_field(const struct deb822_stanza *st, const char *key, char **ret, struct smith_error **err) {
        const char *v = deb822_get(st, key);
        if (!v)
                return 0;
        *ret = strdup(v);
        return *ret ? 0 : error_oom(err);
}

int apt_release_parse(const char *text, size_t len, struct apt_release *ret, struct smith_error **err) {
        struct deb822_stanza *st = NULL;
        struct apt_release r = {};
        const struct deb822_field *sha;
        const char *v;
        size_t n = 0, line = 0;
        int q;

        if (len > APT_RELEASE_MAX_SIZE)
                return error_set(err, SMITH_ERR_SOURCE, "Release is larger than %u MiB", APT_RELEASE_MAX_SIZE >> 20);
        q = deb822_parse(text, len, 1, &st, &n, &line);
        if (q == -ENOMEM)
                return error_oom(err);
        if (q < 0)
                return error_set(err, SMITH_ERR_SOURCE, "Release: malformed line %zu", line);
        if (n != 1) {
                deb822_free(st, n);
                return error_set(err, SMITH_ERR_SOURCE, "Release: empty");
        }
        if (dup_field(st, "Origin", &r.origin, err) < 0 || dup_field(st, "Label", &r.label, err) < 0 ||
            dup_field(st, "Suite", &r.suite, err) < 0 || dup_field(st, "Codename", &r.codename, err) < 0)
                goto fail;
        v = deb822_get(st, "Date");
        if (v && apt_release_parse_date(v, &r.date) < 0) {
                error_set(err, SMITH_ERR_SOURCE, "Release: invalid Date '%.64s'", printable(v));
                goto fail;
        }
        v = deb822_get(st, "Valid-Until");
        if (v && apt_release_parse_date(v, &r.valid_until) < 0) {
                error_set(err, SMITH_ERR_SOURCE, "Release: invalid Valid-Until '%.64s'", printable(v));
                goto fail;
        }
        v = deb822_get(st, "Acquire-By-Hash");
        r.acquire_by_hash = v && strcasecmp(v, "yes") == 0;
        v = deb822_get(st, "Components");
        if (v && !(r.components = strv_split(v, " \t\n", true))) {
                error_oom(err);
                goto fail;
        }
        v = deb822_get(st, "Architectures");
        if (v && !(r.archs = strv_split(v, " \t\n", true))) {
                error_oom(err);
                goto fail;
        }
        sha = deb822_field(st, "SHA256");
        if (!sha) {
                error_set(err, SMITH_ERR_SOURCE, "Release: no SHA256 checksums");
                goto fail;
        }
        if (parse_sha256(sha->value, sha->line, &r, err) < 0)
                goto fail;
        deb822_free(st, n);
        *ret = r;
        return 0;
fail:
        deb822_free(st, n);
        apt_release_release(&r);
        return -1;
}

const struct apt_release_file *apt_release_find(const struct apt_release *r, const char *path) {
        struct apt_release_file key = { .path = (char *) path };
        return r->n_files ? bsearch(&key, r->files, r->n_files, sizeof(key), file_cmp) : NULL;
}
