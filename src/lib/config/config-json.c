/* The image's "spec" blob: the config as the original's json.Marshal wrote
 * its ConfigDef, byte for byte.
 *
 * jansson cannot do this: Go emits struct fields in declaration order,
 * leaves out empty ones (omitempty) but always writes "mock" (a struct is
 * never "empty" to encoding/json), sorts map keys bytewise, and escapes
 * strings its own way: <, > and & as \u003c \u003e \u0026, U+2028/U+2029,
 * control characters other than \n \r \t as \u00XX with lowercase hex (the
 * Go of the original's day wrote \b and \f that way too), and invalid UTF-8
 * as \ufffd.  So this is a small writer of its own. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "basic/buf.h"
#include "basic/strv.h"
#include "config.h"

#define SPEC_MAX (128 * 1024 * 1024)

struct out {
        struct buf b;
        int failed; /* sticky: ENOMEM, or EFBIG past SPEC_MAX */
};

static void out_release(struct out *o) {
        buf_release(&o->b);
}

static void put(struct out *o, const char *s, size_t n) {
        int r;

        if (o->failed)
                return;
        r = buf_append(&o->b, s, n);
        if (r < 0)
                o->failed = -r;
}

static void puts_(struct out *o, const char *s) {
        put(o, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s and its code point, or 0 if it is
 * not one (overlong forms, surrogates and values past U+10FFFF included),
 * as Go's utf8.DecodeRuneInString decides. */
static size_t utf8_decode(const unsigned char *s, uint32_t *ret) {
        unsigned char c = s[0], lo = 0x80, hi = 0xbf;
        size_t n;
        uint32_t cp;

        if (c >= 0xc2 && c <= 0xdf) {
                n = 2;
                cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                n = 3;
                cp = c & 0x0f;
                if (c == 0xe0)
                        lo = 0xa0;
                else if (c == 0xed)
                        hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                n = 4;
                cp = c & 0x07;
                if (c == 0xf0)
                        lo = 0x90;
                else if (c == 0xf4)
                        hi = 0x8f;
        } else
                return 0;
        if (s[1] < lo || s[1] > hi)
                return 0;
        cp = (cp << 6) | (s[1] & 0x3f);
        for (size_t i = 2; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        *ret = cp;
        return n;
}

static void put_string(struct out *o, const char *str) {
        static const char hex[] = "0123456789abcdef";
        const unsigned char *s = (const unsigned char *) str;
        size_t i = 0, start = 0;

        put(o, "\"", 1);
        while (s[i]) {
                unsigned char ch = s[i];
                char esc[7];
                uint32_t cp;
                size_t n;

                if (ch < 0x80) {
                        if (ch >= 0x20 && ch != '"' && ch != '\\' && ch != '<' && ch != '>' && ch != '&') {
                                i++;
                                continue;
                        }
                        put(o, str + start, i - start);
                        switch (ch) {
                        case '"':
                                put(o, "\\\"", 2);
                                break;
                        case '\\':
                                put(o, "\\\\", 2);
                                break;
                        case '\n':
                                put(o, "\\n", 2);
                                break;
                        case '\r':
                                put(o, "\\r", 2);
                                break;
                        case '\t':
                                put(o, "\\t", 2);
                                break;
                        default:
                                memcpy(esc, "\\u00", 4);
                                esc[4] = hex[ch >> 4];
                                esc[5] = hex[ch & 0xf];
                                put(o, esc, 6);
                                break;
                        }
                        start = ++i;
                        continue;
                }
                n = utf8_decode(s + i, &cp);
                if (n == 0) {
                        put(o, str + start, i - start);
                        put(o, "\\ufffd", 6);
                        start = ++i;
                        continue;
                }
                if (cp == 0x2028 || cp == 0x2029) {
                        put(o, str + start, i - start);
                        put(o, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
                        start = i + n;
                }
                i += n;
        }
        put(o, str + start, i - start);
        put(o, "\"", 1);
}

/* Writes ,"key": before a member (the comma unless it is the first). */
static void put_key(struct out *o, bool *first, const char *key) {
        if (!*first)
                put(o, ",", 1);
        *first = false;
        put_string(o, key);
        put(o, ":", 1);
}

static void put_string_field(struct out *o, bool *first, const char *key, const char *value) {
        if (isempty(value))
                return;
        put_key(o, first, key);
        put_string(o, value);
}

static void put_bool_field(struct out *o, bool *first, const char *key, bool value) {
        if (!value)
                return;
        put_key(o, first, key);
        puts_(o, "true");
}

/* -1: unset, left out; else false or true, both written */
static void put_tristate_field(struct out *o, bool *first, const char *key, int value) {
        if (value < 0)
                return;
        put_key(o, first, key);
        puts_(o, value ? "true" : "false");
}

static void put_list_field(struct out *o, bool *first, const char *key, char *const *l) {
        if (!l || !l[0])
                return;
        put_key(o, first, key);
        put(o, "[", 1);
        for (size_t i = 0; l[i]; i++) {
                if (i > 0)
                        put(o, ",", 1);
                put_string(o, l[i]);
        }
        put(o, "]", 1);
}

static int index_cmp(const void *a, const void *b, void *userdata) {
        char *const *keys = userdata;
        return strcmp(keys[*(const size_t *) a], keys[*(const size_t *) b]);
}

/* A Go map: keys sorted bytewise; values from the parallel strv, or {} for
 * a set.  The config keeps keys sorted already; sorting again here keeps
 * the output right even for a struct built by hand. */
static void put_map_field(struct out *o, bool *first, const char *key, char *const *keys, char *const *values) {
        _cleanup_free_ size_t *order = NULL;
        size_t n = strv_length(keys);

        if (n == 0)
                return;
        order = calloc(n, sizeof(size_t));
        if (!order) {
                o->failed = ENOMEM;
                return;
        }
        for (size_t i = 0; i < n; i++)
                order[i] = i;
        qsort_r(order, n, sizeof(size_t), index_cmp, (void *) keys);

        put_key(o, first, key);
        put(o, "{", 1);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        put(o, ",", 1);
                put_string(o, keys[order[i]]);
                put(o, ":", 1);
                if (values)
                        put_string(o, values[order[i]] ?: "");
                else
                        put(o, "{}", 2);
        }
        put(o, "}", 1);
}

/* "repos" (not in the original, so omitted when unset and the specs of
 * its files stay the same): one-line items as strings, mappings as
 * objects with their keys in a fixed order. */
static void put_repos_field(struct out *o, bool *first, const struct smith_repo *repos, size_t n) {
        if (n == 0)
                return;
        put_key(o, first, "repos");
        put(o, "[", 1);
        for (size_t i = 0; i < n; i++) {
                const struct smith_repo *r = &repos[i];
                bool f = true;

                if (i > 0)
                        put(o, ",", 1);
                if (r->line) {
                        put_string(o, r->line);
                        continue;
                }
                put(o, "{", 1);
                if (r->rpm_md) {
                        put_string_field(o, &f, "baseurl", r->uri);
                        put_string_field(o, &f, "name", r->name);
                        put_string_field(o, &f, "gpgkey", r->gpgkey);
                        put_tristate_field(o, &f, "gpgcheck", r->gpgcheck);
                        put_tristate_field(o, &f, "repo_gpgcheck", r->repo_gpgcheck);
                        put_string_field(o, &f, "releasever", r->releasever);
                        put(o, "}", 1);
                        continue;
                }
                put_string_field(o, &f, "uri", r->uri);
                put_list_field(o, &f, "suites", r->suites);
                put_list_field(o, &f, "components", r->components);
                put_string_field(o, &f, "signed-by", r->signed_by);
                put_bool_field(o, &f, "trusted", r->trusted);
                put(o, "}", 1);
        }
        put(o, "]", 1);
}

int config_to_spec_json(const struct smith_config *c, char **ret, size_t *ret_len, struct smith_error **err) {
        _cleanup_(out_release) struct out o = { .b = BUF_INIT(SPEC_MAX) };
        bool first = true, mfirst = true;

        put(&o, "{", 1);
        put_string_field(&o, &first, "type", c->type);

        put_key(&o, &first, "mock");
        put(&o, "{", 1);
        put_string_field(&o, &mfirst, "config", c->mock.config);
        put_string_field(&o, &mfirst, "pre-build", c->mock.pre_build);
        put_string_field(&o, &mfirst, "post-build", c->mock.post_build);
        put_list_field(&o, &mfirst, "deps", c->mock.deps);
        put_bool_field(&o, &mfirst, "debuginfo", c->mock.debuginfo);
        put_list_field(&o, &mfirst, "debugdeps", c->mock.debugdeps);
        put_list_field(&o, &mfirst, "debugpaths", c->mock.debugpaths);
        put(&o, "}", 1);

        if (c->package_list)
                put_list_field(&o, &first, "package", c->package_list);
        else
                put_string_field(&o, &first, "package", c->package);
        put_list_field(&o, &first, "paths", c->paths);
        put_list_field(&o, &first, "excludes", c->excludes);
        put_string_field(&o, &first, "parent", c->parent);
        put_bool_field(&o, &first, "nss", c->nss);
        put_bool_field(&o, &first, "root", c->root);
        put_string_field(&o, &first, "user", c->user);
        put_list_field(&o, &first, "groups", c->groups);
        put_list_field(&o, &first, "mounts", c->mounts);
        put_list_field(&o, &first, "entrypoint", c->entrypoint);
        put_list_field(&o, &first, "cmd", c->cmd);
        put_string_field(&o, &first, "dir", c->dir);
        put_list_field(&o, &first, "env", c->env);
        put_map_field(&o, &first, "labels", c->label_keys, c->label_values);
        put_map_field(&o, &first, "ports", c->ports, NULL);
        put_repos_field(&o, &first, c->repos, c->n_repos);
        /* a *bool with omitempty: only when turned off, so earlier specs keep their bytes */
        if (c->no_package_metadata) {
                put_key(&o, &first, "package-metadata");
                puts_(&o, "false");
        }
        /* the same: only when asked for */
        if (c->packages.recommends) {
                put_key(&o, &first, "packages");
                puts_(&o, "{\"recommends\":true}");
        }
        put_string_field(&o, &first, "platform", c->platform);
        put_list_field(&o, &first, "platforms", c->platforms);
        put(&o, "}", 1);

        if (o.failed == EFBIG)
                return error_set(err, SMITH_ERR_CONFIG, "spec is larger than %d MiB", SPEC_MAX / (1024 * 1024));
        if (o.failed)
                return error_set_errno(err, SMITH_ERR_IO, o.failed, "write spec");
        *ret = buf_steal(&o.b, ret_len);
        return *ret ? 0 : error_oom(err);
}
