/* The packages a solve chose, kept in the cache (pkgs/solve-<key>, JSON)
 * so that a build whose verified indexes and wanted names are those of an
 * earlier build takes that build's answer instead of loading every index
 * into libsolv and solving again.  The key is the sha256 of everything the
 * answer depends on: libsolv's version, the architecture, each index (its
 * name, base URI, compression and the sha256 Release gave for it, in
 * order) and the wanted names (in order).  Like the saved indexes, an
 * entry is only a faster copy of what was computed from verified
 * metadata: an unreadable or damaged one costs a solve, never the build,
 * and every package is still checked against its digest and size when
 * fetched. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <solv/solvversion.h>

#include "basic/hash.h"
#include "basic/log.h"
#include "pkg-root.h"
#include "store/cache.h"

/* Part of the key: to be raised whenever smith would solve the same
 * indexes and names differently (pkg_solve(), the index parsing). */
#define SOLVE_CACHE_VERSION "smith solve 2" /* 2: real packages win over providers of their name */
#define SOLVE_CACHE_MAX (16u << 20)

static void hash_str(struct sha256 *h, const char *s) {
        sha256_update(h, s ? s : "", s ? strlen(s) + 1 : 0);
        sha256_update(h, "\n", 1);
}

int source_solve_key(const char *kind, const char *arch, const struct apt_indexes *idx, char *const *wanted,
                     char ret[static SHA256_HEX_LEN + 1]) {
        _cleanup_(sha256_freep) struct sha256 *h = sha256_new();
        char d[DIGEST_STR_LEN + 1];

        if (!h)
                return -ENOMEM;
        hash_str(h, SOLVE_CACHE_VERSION);
        hash_str(h, solv_version);
        hash_str(h, kind);
        hash_str(h, arch);
        for (size_t i = 0; i < idx->n; i++) {
                hash_str(h, "index");
                hash_str(h, idx->items[i].name);
                hash_str(h, idx->items[i].base_uri);
                hash_str(h, idx->items[i].hint);
                hash_str(h, idx->items[i].digest);
        }
        for (size_t i = 0; wanted && wanted[i]; i++) {
                hash_str(h, "want");
                hash_str(h, wanted[i]);
        }
        sha256_final_digest(h, d);
        memcpy(ret, digest_hex(d), SHA256_HEX_LEN + 1);
        return 0;
}

static bool digest_ok(const char *d) {
        if (!d || strlen(d) != DIGEST_STR_LEN || strncmp(d, "sha256:", 7) != 0)
                return false;
        return strspn(d + 7, "0123456789abcdef") == SHA256_HEX_LEN;
}

static char *take_str(json_t *o, const char *key) {
        const char *v = json_string_value(json_object_get(o, key));
        return v && *v && !memchr(v, '\n', strlen(v)) ? strdup(v) : NULL;
}

int source_solve_load(struct cache *cache, const char *key, struct pkg_choice **ret, size_t *ret_n) {
        char name[sizeof("solve-") + SHA256_HEX_LEN];
        _cleanup_free_ char *text = NULL;
        _cleanup_(json_decrefp) json_t *j = NULL;
        struct pkg_choice *c = NULL;
        size_t len = 0, n = 0;
        json_t *pkgs;

        snprintf(name, sizeof(name), "solve-%s", key);
        if (cache_pkgs_read(cache, name, SOLVE_CACHE_MAX, &text, &len, NULL) < 0)
                return 0;
        j = json_loadb(text, len, 0, NULL);
        pkgs = json_object_get(j, "packages");
        if (!json_is_array(pkgs) || json_array_size(pkgs) == 0)
                return 0;
        c = calloc(json_array_size(pkgs) + 1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < json_array_size(pkgs); i++) {
                json_t *o = json_array_get(pkgs, i), *size = json_object_get(o, "size");
                struct pkg_choice *p = &c[n++];
                const char *digest = json_string_value(json_object_get(o, "digest"));

                p->name = take_str(o, "name");
                p->version = take_str(o, "version");
                p->arch = take_str(o, "arch");
                p->source = take_str(o, "source");
                p->url = take_str(o, "url");
                p->repo = take_str(o, "repo");
                if (!p->name || !p->version || !p->arch || !p->source || !p->url || !p->repo || !digest_ok(digest) ||
                    !json_is_integer(size) || json_integer_value(size) < 0) {
                        pkg_choices_free(c, n);
                        log_info("cache entry '%s' is damaged: solving again", name);
                        return 0;
                }
                memcpy(p->digest, digest, DIGEST_STR_LEN + 1);
                p->size = (uint64_t) json_integer_value(size);
        }
        *ret = c;
        *ret_n = n;
        return 1;
}

void source_solve_save(struct cache *cache, const char *key, const struct pkg_choice *c, size_t n) {
        _cleanup_(error_freep) struct smith_error *ignored = NULL;
        char name[sizeof("solve-") + SHA256_HEX_LEN];
        _cleanup_(json_decrefp) json_t *j = NULL;
        _cleanup_free_ char *text = NULL;
        _cleanup_(json_decrefp) json_t *pkgs = json_array();

        for (size_t i = 0; pkgs && i < n; i++) {
                json_t *o;

                if (c[i].local || !c[i].url)
                        return; /* a local file's content is not in the key */
                o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "name", c[i].name, "version", c[i].version,
                              "arch", c[i].arch, "source", c[i].source, "url", c[i].url, "repo", c[i].repo, "digest",
                              c[i].digest, "size", (json_int_t) c[i].size);
                if (json_array_append_new(pkgs, o) < 0)
                        return;
        }
        j = pkgs ? json_pack("{s:O}", "packages", pkgs) : NULL;
        text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (!text)
                return;
        snprintf(name, sizeof(name), "solve-%s", key);
        (void) cache_pkgs_write(cache, name, text, strlen(text), &ignored);
}
