/* smith.lock: written sorted and pretty, read back bounded and checked
 * field by field; see lock.h. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "basic/fs.h"
#include "basic/strv.h"
#include "lock.h"

struct smith_lock *lock_new(void) {
        struct smith_lock *l = calloc(1, sizeof(struct smith_lock));

        if (l && !(l->path = strdup("smith.lock"))) {
                free(l);
                return NULL;
        }
        return l;
}

static void package_release(struct lock_package *p) {
        free_many(p->name, p->version, p->arch, p->source);
        free_many(p->url, p->local, p->repo);
}

void lock_free(struct smith_lock *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n_pkgs; i++)
                package_release(&l->pkgs[i]);
        free(l->pkgs);
        for (size_t i = 0; i < l->n_repos; i++) {
                free(l->repos[i].name);
                free(l->repos[i].uri);
        }
        strv_free(l->debuginfo_of);
        free_many(l->repos, l->source, l->path, l->image.reference, l->image.media_type, l);
}

static char *strdup_or_null(const char *s) {
        return s ? strdup(s) : NULL;
}

int lock_add_package(struct smith_lock *l, const struct lock_package *p, struct smith_error **err) {
        struct lock_package *n, *q;

        if (l->n_pkgs >= LOCK_MAX_ITEMS)
                return error_set(err, SMITH_ERR_SOURCE, "more than %d packages to lock", LOCK_MAX_ITEMS);
        n = reallocarray(l->pkgs, l->n_pkgs + 1, sizeof(*n));
        if (!n)
                return error_oom(err);
        l->pkgs = n;
        q = &n[l->n_pkgs];
        *q = (struct lock_package){ .name = strdup_or_null(p->name),
                                    .version = strdup_or_null(p->version),
                                    .arch = strdup_or_null(p->arch),
                                    .source = strdup_or_null(p->source),
                                    .url = strdup_or_null(p->url),
                                    .local = strdup_or_null(p->local),
                                    .repo = strdup_or_null(p->repo),
                                    .size = p->size,
                                    .os_release = p->os_release,
                                    .debuginfo = p->debuginfo };
        memcpy(q->digest, p->digest, sizeof(q->digest));
        l->n_pkgs++;
        if (!q->name || !q->version || !q->arch || !q->source || (p->url && !q->url) || (p->local && !q->local) ||
            (p->repo && !q->repo))
                return error_oom(err);
        return 0;
}

int lock_add_repo(struct smith_lock *l, const char *name, const char *uri, const char *index,
                  struct smith_error **err) {
        struct lock_repo *n;

        if (l->n_repos >= LOCK_MAX_REPOS)
                return error_set(err, SMITH_ERR_SOURCE, "more than %d repository indexes to lock", LOCK_MAX_REPOS);
        n = reallocarray(l->repos, l->n_repos + 1, sizeof(*n));
        if (!n)
                return error_oom(err);
        l->repos = n;
        n[l->n_repos] = (struct lock_repo){ .name = strdup(name), .uri = strdup(uri) };
        snprintf(n[l->n_repos].index, sizeof(n[l->n_repos].index), "%s", index);
        l->n_repos++;
        if (!n[l->n_repos - 1].name || !n[l->n_repos - 1].uri)
                return error_oom(err);
        return 0;
}

int lock_set_debuginfo_of(struct smith_lock *l, char *const *of, struct smith_error **err) {
        char **copy = of ? strv_copy(of) : calloc(1, sizeof(char *));

        if (!copy)
                return error_oom(err);
        strv_sort(copy);
        strv_free(l->debuginfo_of);
        l->debuginfo_of = copy;
        return 0;
}

/* --- the inputs digest --- */

static json_t *strv_json(char *const *l) {
        _cleanup_(json_decrefp) json_t *a = json_array();
        for (size_t i = 0; a && l && l[i]; i++)
                if (json_array_append_new(a, json_string(l[i])) < 0)
                        return NULL;
        return TAKE_PTR(a);
}

static json_t *str_or_null(const char *s) {
        return s ? json_string(s) : json_null();
}

/* Everything a repository entry says except where it was written. */
static json_t *repo_json(const struct smith_repo *r) {
        return json_pack("{s:o, s:o, s:o, s:o, s:o, s:b, s:b, s:o, s:o, s:o, s:o, s:i, s:i}", "line",
                         str_or_null(r->line), "uri", str_or_null(r->uri), "signed_by", str_or_null(r->signed_by),
                         "suites", strv_json(r->suites), "components", strv_json(r->components), "trusted", r->trusted,
                         "rpm_md", r->rpm_md, "type", str_or_null(r->type), "name", str_or_null(r->name), "gpgkey",
                         str_or_null(r->gpgkey), "releasever", str_or_null(r->releasever), "gpgcheck", r->gpgcheck,
                         "repo_gpgcheck", r->repo_gpgcheck);
}

int lock_inputs_digest(const struct smith_config *c, const char *host_arch, char ret[static DIGEST_STR_LEN + 1],
                       struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *j = NULL, *repos = json_array(), *pkgs = NULL;
        _cleanup_free_ char *text = NULL;

        if (!repos)
                return error_oom(err);
        for (size_t i = 0; i < c->n_repos; i++)
                if (json_array_append_new(repos, repo_json(&c->repos[i])) < 0)
                        return error_oom(err);
        if (c->package_list)
                pkgs = strv_json(c->package_list);
        else
                pkgs = json_pack("[s?]", c->package);
        j = json_pack("{s:i, s:s, s:o, s:O, s:o, s:O}", "lock", LOCK_VERSION, "arch", host_arch, "type",
                      str_or_null(c->type), "package", pkgs, "mock.deps", strv_json(c->mock.deps), "repos", repos);
        if (!j)
                return error_oom(err);
        /* only when on, so that locks made without it still cover their smith.yaml */
        if (c->mock.debuginfo && (json_object_set_new(j, "mock.debuginfo", json_true()) < 0 ||
                                  json_object_set_new(j, "mock.debugdeps", strv_json(c->mock.debugdeps)) < 0))
                return error_oom(err);
        text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        if (!text)
                return error_oom(err);
        sha256_digest_of(text, strlen(text), ret);
        return 0;
}

/* --- writing --- */

static int package_cmp(const void *a, const void *b) {
        const struct lock_package *x = a, *y = b;
        int r = strcmp(x->name, y->name);
        if (r == 0)
                r = strcmp(x->arch, y->arch);
        if (r == 0)
                r = strcmp(x->version, y->version);
        if (r == 0)
                r = (int) x->debuginfo - (int) y->debuginfo; /* the build's root first */
        return r;
}

static int repo_cmp(const void *a, const void *b) {
        const struct lock_repo *x = a, *y = b;
        int r = strcmp(x->name, y->name);
        return r != 0 ? r : strcmp(x->uri, y->uri);
}

int lock_to_json(struct smith_lock *l, char **ret, struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *j = NULL, *pkgs = json_array(), *repos = json_array();
        _cleanup_free_ char *text = NULL;

        if (!pkgs || !repos)
                return error_oom(err);
        if (l->n_pkgs > 1)
                qsort(l->pkgs, l->n_pkgs, sizeof(*l->pkgs), package_cmp);
        if (l->n_repos > 1)
                qsort(l->repos, l->n_repos, sizeof(*l->repos), repo_cmp);
        for (size_t i = 0; i < l->n_pkgs; i++) {
                const struct lock_package *p = &l->pkgs[i];
                json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "name", p->name, "version", p->version, "arch",
                                      p->arch, "source", p->source, "digest", p->digest, "size", (json_int_t) p->size);
                if (!o || json_array_append_new(pkgs, o) < 0)
                        return error_oom(err);
                if ((p->url && json_object_set_new(o, "url", json_string(p->url)) < 0) ||
                    (p->repo && json_object_set_new(o, "repository", json_string(p->repo)) < 0) ||
                    (p->local && json_object_set_new(o, "local", json_string(p->local)) < 0) ||
                    (p->os_release && json_object_set_new(o, "for", json_string("os-release")) < 0) ||
                    (p->debuginfo && json_object_set_new(o, "for", json_string("debuginfo")) < 0))
                        return error_oom(err);
        }
        for (size_t i = 0; i < l->n_repos; i++) {
                json_t *o = json_pack("{s:s, s:s, s:s}", "name", l->repos[i].name, "uri", l->repos[i].uri, "index",
                                      l->repos[i].index);
                if (!o || json_array_append_new(repos, o) < 0)
                        return error_oom(err);
        }
        j = json_pack("{s:i, s:s, s:s, s:O, s:O}", "version", LOCK_VERSION, "inputs", l->inputs, "source",
                      l->source ? l->source : "none", "packages", pkgs, "repositories", repos);
        if (!j)
                return error_oom(err);
        if (l->debuginfo_of) {
                strv_sort(l->debuginfo_of);
                if (json_object_set_new(j, "debuginfo-of", strv_json(l->debuginfo_of)) < 0)
                        return error_oom(err);
        }
        if (l->image.reference) {
                json_t *o =
                        json_pack("{s:s, s:s, s:s, s:I}", "reference", l->image.reference, "mediaType",
                                  l->image.media_type, "digest", l->image.digest, "size", (json_int_t) l->image.size);
                if (!o || json_object_set_new(j, "image", o) < 0)
                        return error_oom(err);
        }
        text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        if (!text)
                return error_oom(err);
        if (asprintf(ret, "%s\n", text) < 0)
                return error_oom(err);
        return 0;
}

/* --- reading --- */

static bool chars_in(const char *s, size_t min, size_t max, const char *extra) {
        size_t n = strlen(s);

        if (n < min || n > max)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr(extra, c)))
                        return false;
        }
        return true;
}

/* dpkg's and rpm's package names: letters, digits, + - . _, a letter or
 * digit first. */
static bool name_ok(const char *s) {
        return chars_in(s, 1, 256, "+-._") && s[0] != '-' && s[0] != '.' && s[0] != '+';
}

/* [epoch:]upstream[-revision] (dpkg), [epoch:]version-release (rpm) */
static bool version_ok(const char *s) {
        return chars_in(s, 1, 256, ".+~:_-");
}

static bool arch_ok(const char *s) {
        return chars_in(s, 1, 64, "_-");
}

static bool digest_ok(const char *s) {
        if (strlen(s) != DIGEST_STR_LEN || strncmp(s, "sha256:", 7) != 0)
                return false;
        for (const char *p = s + 7; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

/* Printable ASCII without quotes or backslashes, so it can go in messages. */
static bool text_ok(const char *s, size_t max) {
        size_t n = strlen(s);
        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '\'' || s[i] == '"' || s[i] == '\\')
                        return false;
        return true;
}

/* An absolute http(s) or file URL without spaces, fragments or queries. */
static bool url_ok(const char *s) {
        if (!text_ok(s, LOCK_MAX_STRING) || strpbrk(s, " ?#"))
                return false;
        return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 || strncmp(s, "file:/", 6) == 0;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

bool lock_url_inside(const char *url, const char *base) {
        size_t n = strlen(base);
        const char *p;

        if (n == 0 || strncmp(url, base, n) != 0 || url[n] != '/')
                return false;
        p = url + n + 1;
        if (*p == '\0')
                return false;
        while (*p) {
                size_t len = strcspn(p, "/");
                if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                for (size_t i = 0; i < len; i++) {
                        char c = p[i];
                        if (c == '%') {
                                /* an escape may only stand for a harmless character */
                                int hi = i + 2 < len ? hexval(p[i + 1]) : -1, lo = hi >= 0 ? hexval(p[i + 2]) : -1;
                                char d = (char) (hi * 16 + lo);
                                if (hi < 0 || lo < 0 || d == '\0' || !strchr("+:~_-", d))
                                        return false;
                                i += 2;
                                continue;
                        }
                        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                              strchr("._~+-", c)))
                                return false;
                }
                p += len;
                if (*p == '/')
                        p++;
                else
                        break;
                if (*p == '\0')
                        return false; /* a trailing '/' */
        }
        return true;
}

struct reader {
        const char *name; /* the file, for messages */
        struct smith_error **err;
};

static int bad(struct reader *rd, const char *where, const char *what) {
        return error_set(rd->err, SMITH_ERR_CONFIG, "%s: %s: %s", rd->name, where, what);
}

/* Every key of o is one of keys (NULL-terminated). */
static int only_keys(struct reader *rd, const char *where, json_t *o, const char *const *keys) {
        const char *k;
        json_t *v;

        if (!json_is_object(o))
                return bad(rd, where, "not an object");
        json_object_foreach(o, k, v) {
                bool known = false;
                for (size_t i = 0; keys[i]; i++)
                        if (streq(keys[i], k))
                                known = true;
                if (!known) {
                        _cleanup_free_ char *shown = text_for_msg(k);
                        return error_set(rd->err, SMITH_ERR_CONFIG, "%s: %s: unknown key '%s'", rd->name, where,
                                         shown ? shown : "?");
                }
        }
        return 0;
}

/* A string field checked by ok (NULL: text_ok); optional ones may be
 * missing (*ret NULL). */
static int get_str(struct reader *rd, const char *where, json_t *o, const char *key, bool optional,
                   bool (*ok)(const char *), char **ret) {
        json_t *v = json_object_get(o, key);
        const char *s = json_string_value(v);
        _cleanup_free_ char *w = NULL;

        *ret = NULL;
        if (!v && optional)
                return 0;
        if (asprintf(&w, "%s: '%s'", where, key) < 0)
                return error_oom(rd->err);
        if (!s)
                return bad(rd, w, v ? "not a string" : "missing");
        if (strlen(s) != json_string_length(v) || (ok ? !ok(s) : !text_ok(s, LOCK_MAX_STRING)))
                return bad(rd, w, "not valid here");
        *ret = strdup(s);
        return *ret ? 0 : error_oom(rd->err);
}

static int get_digest(struct reader *rd, const char *where, json_t *o, const char *key,
                      char ret[static DIGEST_STR_LEN + 1]) {
        _cleanup_free_ char *s = NULL, *w = NULL;

        if (get_str(rd, where, o, key, false, NULL, &s) < 0)
                return -1;
        if (!digest_ok(s)) {
                if (asprintf(&w, "%s: '%s'", where, key) < 0)
                        return error_oom(rd->err);
                return bad(rd, w, "not a sha256 digest (sha256:<64 lowercase hex digits>)");
        }
        memcpy(ret, s, DIGEST_STR_LEN + 1);
        return 0;
}

static int get_size(struct reader *rd, const char *where, json_t *o, const char *key, json_int_t max, json_int_t *ret) {
        json_t *v = json_object_get(o, key);
        _cleanup_free_ char *w = NULL;

        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
                if (asprintf(&w, "%s: '%s'", where, key) < 0)
                        return error_oom(rd->err);
                return bad(rd, w, v ? "not a size" : "missing");
        }
        *ret = json_integer_value(v);
        return 0;
}

static bool kind_ok(const char *s) {
        return streq(s, "deb") || streq(s, "rpm") || streq(s, "oci") || streq(s, "dir") || streq(s, "none");
}

static bool media_type_ok(const char *s) {
        return streq(s, "application/vnd.oci.image.manifest.v1+json") ||
               streq(s, "application/vnd.docker.distribution.manifest.v2+json");
}

/* A local package file as smith.yaml names it: relative or absolute, no
 * '..' component, a .deb or .rpm. */
static bool local_ok(const char *s) {
        size_t n = strlen(s);
        if (!text_ok(s, LOCK_MAX_STRING) || n < 5 || (!streq(s + n - 4, ".deb") && !streq(s + n - 4, ".rpm")))
                return false;
        for (const char *p = s; *p;) {
                size_t len = strcspn(p, "/");
                if (len == 2 && p[0] == '.' && p[1] == '.')
                        return false;
                p += len;
                if (*p)
                        p++;
        }
        return true;
}

static bool source_name_ok(const char *s) {
        return name_ok(s);
}

static int parse_package(struct reader *rd, json_t *o, size_t i, struct lock_package *p) {
        static const char *const keys[] = { "name", "version",    "arch",  "source", "digest", "size",
                                            "url",  "repository", "local", "for",    NULL };
        _cleanup_free_ char *purpose = NULL;
        char where[64];
        json_int_t size;

        snprintf(where, sizeof(where), "packages[%zu]", i);
        if (only_keys(rd, where, o, keys) < 0 || get_str(rd, where, o, "name", false, name_ok, &p->name) < 0 ||
            get_str(rd, where, o, "version", false, version_ok, &p->version) < 0 ||
            get_str(rd, where, o, "arch", false, arch_ok, &p->arch) < 0 ||
            get_str(rd, where, o, "source", false, source_name_ok, &p->source) < 0 ||
            get_digest(rd, where, o, "digest", p->digest) < 0 ||
            get_size(rd, where, o, "size", (json_int_t) 1 << 40, &size) < 0 ||
            get_str(rd, where, o, "url", true, url_ok, &p->url) < 0 ||
            get_str(rd, where, o, "repository", true, NULL, &p->repo) < 0 ||
            get_str(rd, where, o, "local", true, local_ok, &p->local) < 0 ||
            get_str(rd, where, o, "for", true, NULL, &purpose) < 0)
                return -1;
        if (purpose && !streq(purpose, "os-release") && !streq(purpose, "debuginfo"))
                return bad(rd, where, "'for' can only be \"os-release\" or \"debuginfo\"");
        p->os_release = purpose && streq(purpose, "os-release");
        p->debuginfo = purpose && streq(purpose, "debuginfo");
        p->size = (uint64_t) size;
        if (!p->local == !p->url)
                return bad(rd, where, "needs either 'url' or 'local'");
        if (!p->local != !!p->repo)
                return bad(rd, where, "'repository' goes with 'url' (and only with it)");
        return 0;
}

static int parse_repo(struct reader *rd, json_t *o, size_t i, struct lock_repo *r) {
        static const char *const keys[] = { "name", "uri", "index", NULL };
        char where[64];

        snprintf(where, sizeof(where), "repositories[%zu]", i);
        if (only_keys(rd, where, o, keys) < 0 || get_str(rd, where, o, "name", false, NULL, &r->name) < 0 ||
            get_str(rd, where, o, "uri", false, url_ok, &r->uri) < 0 || get_digest(rd, where, o, "index", r->index) < 0)
                return -1;
        if (r->uri[strlen(r->uri) - 1] == '/')
                return bad(rd, where, "'uri' ends in '/'");
        return 0;
}

static int parse_image(struct reader *rd, json_t *o, struct lock_image *img) {
        static const char *const keys[] = { "reference", "mediaType", "digest", "size", NULL };
        json_int_t size;

        if (only_keys(rd, "image", o, keys) < 0 ||
            get_str(rd, "image", o, "reference", false, NULL, &img->reference) < 0 ||
            get_str(rd, "image", o, "mediaType", false, media_type_ok, &img->media_type) < 0 ||
            get_digest(rd, "image", o, "digest", img->digest) < 0 ||
            get_size(rd, "image", o, "size", 4 << 20, &size) < 0)
                return -1;
        img->size = (int64_t) size;
        return 0;
}

static int get_list(struct reader *rd, json_t *j, const char *key, size_t max, json_t **ret) {
        json_t *a = json_object_get(j, key);

        if (!json_is_array(a))
                return error_set(rd->err, SMITH_ERR_CONFIG, "%s: '%s' %s", rd->name, key,
                                 a ? "is not a list" : "is missing");
        if (json_array_size(a) > max)
                return error_set(rd->err, SMITH_ERR_CONFIG, "%s: '%s' has more than %zu entries", rd->name, key, max);
        *ret = a;
        return 0;
}

/* "debuginfo-of": package names, each once. */
static int parse_debuginfo_of(struct reader *rd, json_t *j, struct smith_lock *l) {
        json_t *a, *v;
        size_t i;

        if (get_list(rd, j, "debuginfo-of", LOCK_MAX_ITEMS, &a) < 0)
                return -1;
        l->debuginfo_of = calloc(json_array_size(a) + 1, sizeof(char *));
        if (!l->debuginfo_of)
                return error_oom(rd->err);
        json_array_foreach(a, i, v) {
                const char *s = json_string_value(v);

                if (!s || strlen(s) != json_string_length(v) || !name_ok(s))
                        return error_set(rd->err, SMITH_ERR_CONFIG, "%s: debuginfo-of[%zu]: not a package name",
                                         rd->name, i);
                if (strv_contains(l->debuginfo_of, s))
                        return error_set(rd->err, SMITH_ERR_CONFIG, "%s: debuginfo-of[%zu]: a second '%s'", rd->name, i,
                                         s);
                l->debuginfo_of[i] = strdup(s);
                if (!l->debuginfo_of[i])
                        return error_oom(rd->err);
        }
        return 0;
}

static int parse(struct reader *rd, const char *data, size_t len, struct smith_lock *l) {
        static const char *const keys[] = { "version",      "inputs", "source",       "packages",
                                            "repositories", "image",  "debuginfo-of", NULL };
        _cleanup_(json_decrefp) json_t *j = NULL;
        json_t *pkgs, *repos, *v, *img;
        json_error_t jerr;
        size_t i;

        if (len > LOCK_MAX_FILE)
                return error_set(rd->err, SMITH_ERR_CONFIG, "%s: larger than %u bytes", rd->name, LOCK_MAX_FILE);
        j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j) {
                _cleanup_free_ char *shown = text_for_msg(jerr.text);
                return error_set(rd->err, SMITH_ERR_CONFIG, "%s:%d:%d: %s", rd->name, jerr.line, jerr.column,
                                 shown ? shown : "not JSON");
        }
        if (!json_is_object(j))
                return error_set(rd->err, SMITH_ERR_CONFIG, "%s: not a JSON object", rd->name);
        if (only_keys(rd, "the file", j, keys) < 0)
                return -1;
        v = json_object_get(j, "version");
        if (!json_is_integer(v) || json_integer_value(v) != LOCK_VERSION)
                return error_set(rd->err, SMITH_ERR_CONFIG,
                                 "%s: not a version %d lock file (made by another smith?): run 'smith lock --update'",
                                 rd->name, LOCK_VERSION);
        if (get_digest(rd, "the file", j, "inputs", l->inputs) < 0 ||
            get_str(rd, "the file", j, "source", false, kind_ok, &l->source) < 0 ||
            get_list(rd, j, "packages", LOCK_MAX_ITEMS, &pkgs) < 0 ||
            get_list(rd, j, "repositories", LOCK_MAX_REPOS, &repos) < 0)
                return -1;
        l->pkgs = calloc(json_array_size(pkgs) + 1, sizeof(*l->pkgs));
        l->repos = calloc(json_array_size(repos) + 1, sizeof(*l->repos));
        if (!l->pkgs || !l->repos)
                return error_oom(rd->err);
        json_array_foreach(repos, i, v) {
                l->n_repos++;
                if (parse_repo(rd, v, i, &l->repos[i]) < 0)
                        return -1;
                for (size_t k = 0; k < i; k++)
                        if (streq(l->repos[k].name, l->repos[i].name))
                                return error_set(rd->err, SMITH_ERR_CONFIG, "%s: repositories[%zu]: a second '%s'",
                                                 rd->name, i, l->repos[i].name);
        }
        json_array_foreach(pkgs, i, v) {
                bool found = false;
                l->n_pkgs++;
                if (parse_package(rd, v, i, &l->pkgs[i]) < 0)
                        return -1;
                for (size_t k = 0; l->pkgs[i].repo && k < l->n_repos; k++)
                        if (streq(l->repos[k].name, l->pkgs[i].repo))
                                found = true;
                if (l->pkgs[i].repo && !found)
                        return error_set(rd->err, SMITH_ERR_CONFIG,
                                         "%s: packages[%zu]: 'repository' names no entry of 'repositories'", rd->name,
                                         i);
        }
        if (json_object_get(j, "debuginfo-of") && parse_debuginfo_of(rd, j, l) < 0)
                return -1;
        img = json_object_get(j, "image");
        if (img && parse_image(rd, img, &l->image) < 0)
                return -1;
        if (img && (!streq(l->source, "oci") || l->n_pkgs > 0))
                return error_set(rd->err, SMITH_ERR_CONFIG, "%s: 'image' is only for an 'oci' source", rd->name);
        if (l->n_pkgs > 0 && !streq(l->source, "deb") && !streq(l->source, "rpm"))
                return error_set(rd->err, SMITH_ERR_CONFIG, "%s: 'packages' are only for a 'deb' or 'rpm' source",
                                 rd->name);
        return 0;
}

int lock_parse(const char *name, const char *data, size_t len, struct smith_lock **ret, struct smith_error **err) {
        _cleanup_(lock_freep) struct smith_lock *l = lock_new();
        struct reader rd = { .name = name, .err = err };

        if (!l)
                return error_oom(err);
        if (parse(&rd, data, len, l) < 0)
                return -1;
        *ret = TAKE_PTR(l);
        return 0;
}

int lock_load(int dirfd, const char *path, const struct smith_config *c, const char *host_arch, struct smith_lock **ret,
              struct smith_error **err) {
        _cleanup_(lock_freep) struct smith_lock *l = NULL;
        _cleanup_free_ char *text = NULL;
        char want[DIGEST_STR_LEN + 1];
        size_t len = 0;
        int r;

        *ret = NULL;
        r = read_file_at(dirfd, path, LOCK_MAX_FILE, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r == -EFBIG)
                return error_set(err, SMITH_ERR_CONFIG, "%s: larger than %u bytes", path, LOCK_MAX_FILE);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "read '%s'", path);
        if (lock_parse(path, text, len, &l, err) < 0)
                return -1;
        if (lock_inputs_digest(c, host_arch, want, err) < 0)
                return -1;
        free(l->path);
        l->path = strdup(path);
        if (!l->path)
                return error_oom(err);
        if (!streq(want, l->inputs))
                return error_set(
                        err, SMITH_ERR_CONFIG,
                        "%s: does not cover this smith.yaml (type, package, mock.deps, mock.debuginfo or repos "
                        "changed): run 'smith lock'",
                        path);
        *ret = TAKE_PTR(l);
        return 0;
}

char *lock_path_for(const char *conf) {
        return lock_path_for_platform(conf, NULL);
}

char *lock_path_for_platform(const char *conf, const char *platform) {
        size_t n = strlen(conf);
        _cleanup_free_ char *stem = NULL, *tag = platform ? strdup(platform) : NULL;
        char *r = NULL;

        if (platform && !tag)
                return NULL;
        for (char *p = tag; p && *p; p++)
                if (*p == '/')
                        *p = '-';

        if (n > 5 && streq(conf + n - 5, ".yaml"))
                stem = strndup(conf, n - 5);
        else if (n > 4 && streq(conf + n - 4, ".yml"))
                stem = strndup(conf, n - 4);
        else
                stem = strdup(conf);
        if (!stem || asprintf(&r, "%s%s%s.lock", stem, tag ? "." : "", tag ? tag : "") < 0)
                return NULL;
        return r;
}
