/* apt's sources.list and .sources formats; see apt-sources.h.  What apt
 * documents in sources.list(5) is followed where smith can use it: options
 * it does not know (by-hash=, lang=, target=, ...) are ignored, as apt
 * ignores what it does not use; fingerprints in Signed-By are refused since
 * smith checks signatures with keyring files only. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "basic/fs.h"
#include "basic/strv.h"
#include "apt-sources.h"
#include "deb822.h"

void apt_sources_release(struct apt_sources *s) {
        for (size_t i = 0; i < s->n; i++) {
                struct apt_source *a = &s->items[i];
                free_many(a->uri, a->suite, a->signed_by_key, a->where);
                strv_free_many(a->components, a->signed_by, a->archs);
        }
        free(s->items);
        s->items = NULL;
        s->n = 0;
}

char *apt_source_name(const struct apt_source *s) {
        char *r;
        if (asprintf(&r, "%s %s", s->uri, s->suite) < 0)
                return NULL;
        return r;
}

const char *apt_host_arch(void) {
        static const struct {
                const char *machine, *arch;
        } map[] = {
                { "x86_64", "amd64" }, { "aarch64", "arm64" },   { "armv7l", "armhf" },    { "armv6l", "armel" },
                { "i686", "i386" },    { "i586", "i386" },       { "i386", "i386" },       { "ppc64le", "ppc64el" },
                { "s390x", "s390x" },  { "riscv64", "riscv64" }, { "mips64", "mips64el" }, { "loongarch64", "loong64" },
        };
        struct utsname u;

        if (uname(&u) == 0)
                for (size_t i = 0; i < ELEMENTSOF(map); i++)
                        if (streq(u.machine, map[i].machine))
                                return map[i].arch;
#if defined(__x86_64__)
        return "amd64";
#elif defined(__aarch64__)
        return "arm64";
#else
        return "unknown";
#endif
}

bool apt_source_has_arch(const struct apt_source *s, const char *arch) {
        return !s->archs || strv_contains(s->archs, arch);
}

/* --- building entries --- */

static bool has_control(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

static int check_uri(const char *where, const char *uri, struct smith_error **err) {
        if (has_control(uri))
                return error_set(err, SMITH_ERR_CONFIG, "%s: invalid URI", where);
        if (strncasecmp(uri, "http://", 7) != 0 && strncasecmp(uri, "https://", 8) != 0 &&
            strncasecmp(uri, "file:/", 6) != 0)
                return error_set(err, SMITH_ERR_CONFIG, "%s: URI '%s': only http, https and file are supported", where,
                                 PATH_FOR_MSG(uri));
        return 0;
}

static int check_suite(const char *where, const char *suite, char *const *components, struct smith_error **err) {
        size_t n = strlen(suite);

        /* the suite becomes part of a URL path: no escaping it */
        if (n == 0 || has_control(suite) || suite[0] == '/' || strstr(suite, "..") || strpbrk(suite, "?#%"))
                return error_set(err, SMITH_ERR_CONFIG, "%s: invalid suite '%s'", where, PATH_FOR_MSG(suite));
        if (suite[n - 1] == '/' && components && components[0])
                return error_set(err, SMITH_ERR_CONFIG, "%s: a flat repository ('%s') takes no components", where,
                                 PATH_FOR_MSG(suite));
        if (suite[n - 1] != '/' && (!components || !components[0]))
                return error_set(err, SMITH_ERR_CONFIG, "%s: suite '%s' without components", where,
                                 PATH_FOR_MSG(suite));
        for (size_t i = 0; components && components[i]; i++)
                if (has_control(components[i]) || components[i][0] == '/' || strstr(components[i], "..") ||
                    strpbrk(components[i], "?#%"))
                        return error_set(err, SMITH_ERR_CONFIG, "%s: invalid component '%s'", where,
                                         PATH_FOR_MSG(components[i]));
        return 0;
}

static int check_keys(const char *where, char *const *keys, struct smith_error **err) {
        for (size_t i = 0; keys && keys[i]; i++) {
                if (keys[i][0] != '/')
                        return error_set(err, SMITH_ERR_CONFIG,
                                         "%s: Signed-By '%s': only absolute keyring paths are supported", where,
                                         PATH_FOR_MSG(keys[i]));
        }
        return 0;
}

/* Appends one entry per suite; the strings are copied. */
static int add_entries(struct apt_sources *out, const char *where, const char *uri, char *const *suites,
                       char *const *components, char *const *signed_by, const char *signed_by_key, char *const *archs,
                       bool trusted, struct smith_error **err) {
        size_t n_suites = strv_length(suites);
        struct apt_source *items;

        if (check_uri(where, uri, err) < 0 || check_keys(where, signed_by, err) < 0)
                return -1;
        for (size_t i = 0; i < n_suites; i++)
                if (check_suite(where, suites[i], components, err) < 0)
                        return -1;
        if (out->n + n_suites > APT_SOURCES_MAX)
                return error_set(err, SMITH_ERR_CONFIG, "%s: more than %d sources", where, APT_SOURCES_MAX);
        items = realloc(out->items, (out->n + n_suites) * sizeof(*items));
        if (!items && out->n + n_suites > 0)
                return error_oom(err);
        out->items = items;
        for (size_t i = 0; i < n_suites; i++) {
                struct apt_source *a = &out->items[out->n];
                size_t ulen = strlen(uri);

                *a = (struct apt_source){ .trusted = trusted };
                while (ulen > 0 && uri[ulen - 1] == '/')
                        ulen--;
                a->uri = strndup(uri, ulen);
                a->suite = strdup(suites[i]);
                a->where = strdup(where);
                a->components = components && components[0] ? strv_copy(components) : NULL;
                a->signed_by = signed_by && signed_by[0] ? strv_copy(signed_by) : NULL;
                a->signed_by_key = signed_by_key ? strdup(signed_by_key) : NULL;
                a->archs = archs && archs[0] ? strv_copy(archs) : NULL;
                out->n++;
                if (!a->uri || !a->suite || !a->where || (components && components[0] && !a->components) ||
                    (signed_by && signed_by[0] && !a->signed_by) || (signed_by_key && !a->signed_by_key) ||
                    (archs && archs[0] && !a->archs))
                        return error_oom(err);
        }
        return 0;
}

int apt_sources_add(struct apt_sources *out, const char *where, const char *uri, char *const *suites,
                    char *const *components, char *const *signed_by, bool trusted, struct smith_error **err) {
        return add_entries(out, where, uri, suites, components, signed_by, NULL, NULL, trusted, err);
}

/* --- the one-line form --- */

static bool yes_value(const char *v, bool *ret) {
        if (streq(v, "yes") || streq(v, "true") || streq(v, "1"))
                *ret = true;
        else if (streq(v, "no") || streq(v, "false") || streq(v, "0"))
                *ret = false;
        else
                return false;
        return true;
}

int apt_sources_parse_line(const char *where, const char *line, struct apt_sources *out, struct smith_error **err) {
        _cleanup_free_ char *copy = NULL, *opts = NULL;
        _cleanup_strv_free_ char **words = NULL, **signed_by = NULL, **archs = NULL;
        char *hash, *s;
        bool trusted = false;
        size_t n;

        if (strlen(line) > APT_SOURCES_MAX_FILE)
                return error_set(err, SMITH_ERR_CONFIG, "%s: line too long", where);
        copy = strdup(line);
        if (!copy)
                return error_oom(err);
        hash = strchr(copy, '#');
        if (hash)
                *hash = '\0';
        /* options in [...] right after the type may hold blanks: cut them
         * out first (a '[' later is an IPv6 address in the URI) */
        s = copy + strspn(copy, " \t");
        s += strcspn(s, " \t[");
        s += strspn(s, " \t");
        if (*s == '[') {
                char *close = strchr(s, ']');
                if (!close)
                        return error_set(err, SMITH_ERR_CONFIG, "%s: '[' without ']'", where);
                opts = strndup(s + 1, (size_t) (close - s - 1));
                if (!opts)
                        return error_oom(err);
                memset(s, ' ', (size_t) (close - s) + 1);
        }
        words = strv_split(copy, " \t\r\n", true);
        if (!words)
                return error_oom(err);
        n = strv_length(words);
        if (n == 0)
                return 0;
        if (streq(words[0], "deb-src"))
                return 0;
        if (!streq(words[0], "deb"))
                return error_set(err, SMITH_ERR_CONFIG, "%s: unknown type '%s' (deb, deb-src)", where,
                                 PATH_FOR_MSG(words[0]));
        if (opts) {
                _cleanup_strv_free_ char **o = strv_split(opts, " \t", true);
                if (!o)
                        return error_oom(err);
                for (size_t j = 0; o[j]; j++) {
                        char *eq = strchr(o[j], '=');
                        const char *key = o[j], *value;
                        if (!eq)
                                return error_set(err, SMITH_ERR_CONFIG, "%s: option '%s' without '='", where,
                                                 PATH_FOR_MSG(o[j]));
                        *eq = '\0';
                        value = eq + 1;
                        if (streq(key, "signed-by")) {
                                strv_free(signed_by);
                                signed_by = strv_split(value, ",", true);
                                if (!signed_by)
                                        return error_oom(err);
                        } else if (streq(key, "trusted")) {
                                if (!yes_value(value, &trusted))
                                        return error_set(err, SMITH_ERR_CONFIG, "%s: trusted='%s' (yes or no)", where,
                                                         PATH_FOR_MSG(value));
                        } else if (streq(key, "arch")) {
                                strv_free(archs);
                                archs = strv_split(value, ",", true);
                                if (!archs)
                                        return error_oom(err);
                        }
                        /* else: an option smith has no use for */
                }
        }
        if (n < 3)
                return error_set(err, SMITH_ERR_CONFIG, "%s: expected 'deb URI suite [components...]'", where);
        {
                char *suites[] = { words[2], NULL };
                return add_entries(out, where, words[1], suites, words + 3, signed_by, NULL, archs, trusted, err);
        }
}

int apt_sources_parse_list(const char *name, const char *text, size_t len, struct apt_sources *out,
                           struct smith_error **err) {
        const char *p = text, *end = text + len;
        size_t line = 0;

        if (memchr(text, '\0', len))
                return error_set(err, SMITH_ERR_CONFIG, "%s: contains a NUL byte", name);
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                _cleanup_free_ char *l = NULL, *where = NULL;

                if (!eol)
                        eol = end;
                line++;
                l = strndup(p, (size_t) (eol - p));
                if (!l || asprintf(&where, "%s:%zu", name, line) < 0)
                        return error_oom(err);
                if (apt_sources_parse_line(where, l, out, err) < 0)
                        return -1;
                p = eol < end ? eol + 1 : end;
        }
        return 0;
}

/* --- deb822 .sources --- */

static char **words_of(const char *v) {
        return strv_split(v ? v : "", " \t\n", true);
}

static int parse_stanza(const char *name, const struct deb822_stanza *st, struct apt_sources *out,
                        struct smith_error **err) {
        _cleanup_strv_free_ char **types = NULL, **uris = NULL, **suites = NULL, **components = NULL,
                                 **signed_by = NULL, **archs = NULL;
        _cleanup_free_ char *where = NULL;
        const char *v, *key_block = NULL;
        bool trusted = false, enabled = true, deb = false;

        if (asprintf(&where, "%s:%zu", name, st->line) < 0)
                return error_oom(err);
        v = deb822_get(st, "Enabled");
        if (v && !yes_value(v, &enabled))
                return error_set(err, SMITH_ERR_CONFIG, "%s: Enabled: '%s' (yes or no)", where, PATH_FOR_MSG(v));
        if (!enabled)
                return 0;
        v = deb822_get(st, "Trusted");
        if (v && !yes_value(v, &trusted))
                return error_set(err, SMITH_ERR_CONFIG, "%s: Trusted: '%s' (yes or no)", where, PATH_FOR_MSG(v));
        types = words_of(deb822_get(st, "Types"));
        uris = words_of(deb822_get(st, "URIs"));
        suites = words_of(deb822_get(st, "Suites"));
        components = words_of(deb822_get(st, "Components"));
        archs = words_of(deb822_get(st, "Architectures"));
        if (!types || !uris || !suites || !components || !archs)
                return error_oom(err);
        for (size_t i = 0; types[i]; i++) {
                if (streq(types[i], "deb"))
                        deb = true;
                else if (!streq(types[i], "deb-src"))
                        return error_set(err, SMITH_ERR_CONFIG, "%s: unknown type '%s' (deb, deb-src)", where,
                                         PATH_FOR_MSG(types[i]));
        }
        if (!types[0])
                return error_set(err, SMITH_ERR_CONFIG, "%s: no Types", where);
        if (!deb)
                return 0;
        if (!uris[0])
                return error_set(err, SMITH_ERR_CONFIG, "%s: no URIs", where);
        if (!suites[0])
                return error_set(err, SMITH_ERR_CONFIG, "%s: no Suites", where);
        v = deb822_get(st, "Signed-By");
        if (v && strstr(v, "-----BEGIN PGP PUBLIC KEY BLOCK-----"))
                key_block = v;
        else if (v) {
                signed_by = strv_split(v, " \t\n,", true);
                if (!signed_by)
                        return error_oom(err);
        }
        for (size_t i = 0; uris[i]; i++)
                if (add_entries(out, where, uris[i], suites, components, signed_by, key_block, archs, trusted, err) < 0)
                        return -1;
        return 0;
}

int apt_sources_parse_deb822(const char *name, const char *text, size_t len, struct apt_sources *out,
                             struct smith_error **err) {
        struct deb822_stanza *st = NULL;
        size_t n = 0, line = 0;
        int r;

        r = deb822_parse(text, len, APT_SOURCES_MAX, &st, &n, &line);
        if (r == -ENOMEM)
                return error_oom(err);
        if (r == -E2BIG)
                return error_set(err, SMITH_ERR_CONFIG, "%s:%zu: too many entries", name, line);
        if (r < 0)
                return error_set(err, SMITH_ERR_CONFIG, "%s:%zu: not a 'Key: value' line", name, line);
        for (size_t i = 0; i < n && r >= 0; i++)
                r = parse_stanza(name, &st[i], out, err);
        deb822_free(st, n);
        return r;
}

/* --- the host's files --- */

static int load_file(const char *path, bool deb822, struct apt_sources *out, struct smith_error **err) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = read_file_at(AT_FDCWD, path, APT_SOURCES_MAX_FILE, &text, &len);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_CONFIG, r, "read '%s'", path);
        return deb822 ? apt_sources_parse_deb822(path, text, len, out, err)
                      : apt_sources_parse_list(path, text, len, out, err);
}

static bool ends_with(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a > b && streq(s + a - b, suffix);
}

int apt_sources_load_host(const char *etc_apt, struct apt_sources *out, struct smith_error **err) {
        _cleanup_free_ char *list = path_join(etc_apt, "sources.list"), *dir = path_join(etc_apt, "sources.list.d");
        _cleanup_strv_free_ char **names = NULL;
        int r;

        if (!list || !dir)
                return error_oom(err);
        if (load_file(list, false, out, err) < 0)
                return -1;
        r = dir_list_configs(dir, (const char *const[]){ ".list", ".sources", NULL }, &names);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_CONFIG, r, "read '%s'", dir);
        for (size_t i = 0; names && names[i]; i++) {
                _cleanup_free_ char *p = path_join(dir, names[i]);
                if (!p)
                        return error_oom(err);
                if (load_file(p, ends_with(names[i], ".sources"), out, err) < 0)
                        return -1;
        }
        return 0;
}
