/* smith.yaml parsing: libyaml's loader builds the node graph, then a walk
 * over fixed tables of known keys fills struct smith_config.
 *
 * The walk never descends further than top level -> mock -> list -> scalar,
 * so aliases (which may even point at an ancestor) cannot make it recurse;
 * a collection where a scalar belongs is just a type error.  What aliases
 * can do is repeat a large scalar many times, so every copied byte counts
 * against CONFIG_MAX_EXPANDED.
 *
 * Positions come from the nodes' start marks (0-based in libyaml, printed
 * 1-based), so every message reads "name:line:column: what is wrong". */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <yaml.h>

#include "basic/strv.h"
#include "config.h"

struct parser {
        const char *name;
        yaml_document_t *doc;
        size_t expanded; /* bytes of strings copied so far */
        struct smith_error **err;
};

/* --- messages --- */

_printf_(3, 4) static int parse_error(struct parser *p, const yaml_node_t *n, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        if (!m)
                return error_oom(p->err);
        return error_set(p->err, SMITH_ERR_CONFIG, "%s:%zu:%zu: %s", p->name, (size_t) n->start_mark.line + 1,
                         (size_t) n->start_mark.column + 1, m);
}

static int oom(struct parser *p) {
        return error_oom(p->err);
}

#define SHOWN_MAX 64

/* A key as written, made safe for a one-line message: control characters
 * become '?', and long keys are cut (at a character boundary) with "...". */
static const char *shown(const char *s, char buf[static SHOWN_MAX + 4]) {
        size_t n = 0;

        for (; s[n] && n < SHOWN_MAX; n++)
                buf[n] = ((unsigned char) s[n] < 0x20 || s[n] == 0x7f) ? '?' : s[n];
        if (s[n]) {
                while (n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80)
                        n--;
                memcpy(buf + n, "...", 3);
                n += 3;
        }
        buf[n] = '\0';
        return buf;
}

/* --- scalars --- */

static const char *scalar(const yaml_node_t *n) {
        return (const char *) n->data.scalar.value;
}

static bool is_plain(const yaml_node_t *n) {
        return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* YAML 1.1 null: "~", "null" in its three spellings, or nothing at all. */
static bool node_is_null(const yaml_node_t *n) {
        if (n->type != YAML_SCALAR_NODE)
                return false;
        if (n->tag && streq((const char *) n->tag, YAML_NULL_TAG))
                return true;
        if (!is_plain(n))
                return false;
        return n->data.scalar.length == 0 || streq(scalar(n), "~") || streq(scalar(n), "null") ||
               streq(scalar(n), "Null") || streq(scalar(n), "NULL");
}

/* ghodss/yaml takes a number or boolean given for a string as text, so every
 * scalar is its text here.  Checks the bounds and copies it. */
static int scalar_dup(struct parser *p, const yaml_node_t *n, const char *what, char **ret) {
        size_t len = n->data.scalar.length;
        char *s;

        if (len > CONFIG_MAX_SCALAR)
                return parse_error(p, n, "'%s' is longer than %d bytes", what, CONFIG_MAX_SCALAR);
        if (strlen(scalar(n)) != len) /* a "\0" escape */
                return parse_error(p, n, "'%s' contains a NUL character", what);
        if (len + 1 > CONFIG_MAX_EXPANDED - p->expanded)
                return parse_error(p, n, "configuration is larger than %d MiB once aliases are expanded",
                                   CONFIG_MAX_EXPANDED / (1024 * 1024));
        s = strndup(scalar(n), len);
        if (!s)
                return oom(p);
        p->expanded += len + 1;
        *ret = s;
        return 0;
}

/* The text of a key in section what (NULL: the top level): a non-null
 * scalar without NUL, and not a merge key. */
static int key_text(struct parser *p, const yaml_node_t *k, const char *what, const char **ret) {
        if (k->type != YAML_SCALAR_NODE || node_is_null(k) || strlen(scalar(k)) != k->data.scalar.length)
                return what ? parse_error(p, k, "keys in '%s' must be strings", what)
                            : parse_error(p, k, "keys must be strings");
        if (is_plain(k) && streq(scalar(k), "<<"))
                return parse_error(p, k, "merge keys ('<<') are not supported");
        *ret = scalar(k);
        return 0;
}

static size_t n_items(const yaml_node_t *n) {
        return (size_t) (n->data.sequence.items.top - n->data.sequence.items.start);
}

static size_t n_pairs(const yaml_node_t *n) {
        return (size_t) (n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

/* --- field types --- */

static int parse_string(struct parser *p, const yaml_node_t *n, const char *what, char **field) {
        char *s;

        if (n->type != YAML_SCALAR_NODE)
                return parse_error(p, n, "'%s' must be a string", what);
        /* Go cannot tell "" from unset, and neither do we. */
        if (node_is_null(n) || n->data.scalar.length == 0)
                return 0;
        if (scalar_dup(p, n, what, &s) < 0)
                return -1;
        free(*field);
        *field = s;
        return 0;
}

static const char *const yaml_true[] = { "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON" };
static const char *const yaml_false[] = { "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF" };

static int parse_bool(struct parser *p, const yaml_node_t *n, const char *what, bool *field) {
        if (n->type == YAML_SCALAR_NODE && node_is_null(n)) {
                *field = false;
                return 0;
        }
        /* A quoted "true" is a string, which the original refused too. */
        if (is_plain(n) || (n->type == YAML_SCALAR_NODE && n->tag && streq((const char *) n->tag, YAML_BOOL_TAG))) {
                for (size_t i = 0; i < ELEMENTSOF(yaml_true); i++)
                        if (streq(scalar(n), yaml_true[i])) {
                                *field = true;
                                return 0;
                        }
                for (size_t i = 0; i < ELEMENTSOF(yaml_false); i++)
                        if (streq(scalar(n), yaml_false[i])) {
                                *field = false;
                                return 0;
                        }
        }
        return parse_error(p, n, "'%s' must be true or false", what);
}

/* With lines, also each entry's line (1-based), for messages about it later. */
/* What a collection field starts with: nothing to do for null or an empty
 * collection (0), else 1 and the entry count, which is bounded.  kinds are
 * the node types accepted (a mapping, a sequence, or either); expected
 * words the error when it is neither. */
enum { TAKES_LIST = 1 << 0, TAKES_MAP = 1 << 1 };

static int collection_count(struct parser *p, const yaml_node_t *n, const char *what, unsigned kinds,
                            const char *expected, size_t *ret_count) {
        bool list = n->type == YAML_SEQUENCE_NODE, map = n->type == YAML_MAPPING_NODE;

        *ret_count = 0;
        if (node_is_null(n))
                return 0;
        if (!((kinds & TAKES_LIST) && list) && !((kinds & TAKES_MAP) && map))
                return parse_error(p, n, "'%s' must be %s", what, expected);
        *ret_count = list ? n_items(n) : n_pairs(n);
        if (*ret_count > CONFIG_MAX_ITEMS)
                return parse_error(p, n, "'%s' has more than %d entries", what, CONFIG_MAX_ITEMS);
        return *ret_count > 0;
}

static int parse_list(struct parser *p, const yaml_node_t *n, const char *what, char ***field, unsigned **lines) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ unsigned *ls = NULL;
        size_t count;
        int r = collection_count(p, n, what, TAKES_LIST, "a list of strings", &count);

        if (r <= 0)
                return r;
        l = calloc(count + 1, sizeof(char *));
        if (!l || (lines && !(ls = calloc(count, sizeof(unsigned)))))
                return oom(p);
        for (size_t i = 0; i < count; i++) {
                const yaml_node_t *item = yaml_document_get_node(p->doc, n->data.sequence.items.start[i]);

                if (!item || item->type != YAML_SCALAR_NODE)
                        return parse_error(p, item ?: n, "'%s' must be a list of strings", what);
                /* Go decodes a null element of a []string as "". */
                if (node_is_null(item)) {
                        if (p->expanded + 1 > CONFIG_MAX_EXPANDED)
                                return parse_error(p, item,
                                                   "configuration is larger than %d MiB once aliases are expanded",
                                                   CONFIG_MAX_EXPANDED / (1024 * 1024));
                        p->expanded++;
                        l[i] = strdup("");
                        if (!l[i])
                                return oom(p);
                } else if (scalar_dup(p, item, what, &l[i]) < 0)
                        return -1;
                if (ls)
                        ls[i] = (unsigned) item->start_mark.line + 1;
        }
        strv_free(*field);
        *field = TAKE_PTR(l);
        if (lines) {
                free(*lines);
                *lines = TAKE_PTR(ls);
        }
        return 0;
}

/* --- mappings with free keys: labels and ports --- */

struct entry {
        const yaml_node_t *key_node;
        char *key, *value;
        size_t index; /* position in the document, to report the later duplicate */
};

struct entries {
        struct entry *e;
        size_t n;
};

static void entries_release(struct entries *es) {
        for (size_t i = 0; i < es->n; i++) {
                free(es->e[i].key);
                free(es->e[i].value);
        }
        free(es->e);
}

static int entry_cmp(const void *a, const void *b) {
        const struct entry *x = a, *y = b;
        int r = strcmp(x->key, y->key);

        if (r != 0)
                return r;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* Sorts by key; equal keys are an error (duplicates) or merged (unique). */
static int entries_sort(struct parser *p, struct entries *es, const char *what, bool unique) {
        size_t j = 0;
        char buf[SHOWN_MAX + 4];

        qsort(es->e, es->n, sizeof(struct entry), entry_cmp);
        for (size_t i = 0; i < es->n; i++) {
                if (j > 0 && streq(es->e[j - 1].key, es->e[i].key)) {
                        if (!unique)
                                return parse_error(p, es->e[i].key_node,
                                                   "duplicate key '%s' in '%s' (first at %zu:%zu)",
                                                   shown(es->e[i].key, buf), what,
                                                   (size_t) es->e[j - 1].key_node->start_mark.line + 1,
                                                   (size_t) es->e[j - 1].key_node->start_mark.column + 1);
                        free(es->e[i].key);
                        free(es->e[i].value);
                        continue;
                }
                es->e[j++] = es->e[i];
        }
        es->n = j;
        return 0;
}

/* Moves the keys (and values) out into strvs. */
static int entries_take(struct parser *p, struct entries *es, char ***ret_keys, char ***ret_values) {
        _cleanup_strv_free_ char **keys = NULL, **values = NULL;

        keys = calloc(es->n + 1, sizeof(char *));
        if (!keys)
                return oom(p);
        if (ret_values) {
                values = calloc(es->n + 1, sizeof(char *));
                if (!values)
                        return oom(p);
        }
        for (size_t i = 0; i < es->n; i++) {
                keys[i] = TAKE_PTR(es->e[i].key);
                if (values)
                        values[i] = TAKE_PTR(es->e[i].value);
        }
        strv_free(*ret_keys);
        *ret_keys = TAKE_PTR(keys);
        if (ret_values) {
                strv_free(*ret_values);
                *ret_values = TAKE_PTR(values);
        }
        return 0;
}

static int parse_labels(struct parser *p, const yaml_node_t *n, const char *what, struct smith_config *c) {
        _cleanup_(entries_release) struct entries es = {};
        size_t count;
        int r = collection_count(p, n, what, TAKES_MAP, "a mapping of strings to strings", &count);

        if (r <= 0)
                return r;
        es.e = calloc(count, sizeof(struct entry));
        if (!es.e)
                return oom(p);
        for (size_t i = 0; i < count; i++) {
                const yaml_node_pair_t *pair = &n->data.mapping.pairs.start[i];
                const yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
                const yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
                struct entry *e = &es.e[es.n++];
                const char *text;

                if (!k || !v)
                        return parse_error(p, n, "'%s' must be a mapping of strings to strings", what);
                if (key_text(p, k, what, &text) < 0)
                        return -1;
                e->key_node = k;
                e->index = i;
                if (scalar_dup(p, k, what, &e->key) < 0)
                        return -1;
                if (v->type != YAML_SCALAR_NODE)
                        return parse_error(p, v, "'%s' must be a mapping of strings to strings", what);
                /* Go decodes a null map[string]string value as "". */
                if (node_is_null(v)) {
                        e->value = strdup("");
                        if (!e->value)
                                return oom(p);
                } else if (scalar_dup(p, v, what, &e->value) < 0)
                        return -1;
        }
        if (entries_sort(p, &es, what, false) < 0)
                return -1;
        return entries_take(p, &es, &c->label_keys, &c->label_values);
}

/* The original's map[string]struct{} ({"80/tcp": {}}), and the list of
 * strings docker users write. */
static int parse_ports(struct parser *p, const yaml_node_t *n, const char *what, struct smith_config *c) {
        _cleanup_(entries_release) struct entries es = {};
        bool is_list = n->type == YAML_SEQUENCE_NODE;
        size_t count;
        int r = collection_count(p, n, what, TAKES_LIST | TAKES_MAP, "a mapping or a list of strings", &count);

        if (r <= 0)
                return r;
        es.e = calloc(count, sizeof(struct entry));
        if (!es.e)
                return oom(p);
        for (size_t i = 0; i < count; i++) {
                struct entry *e = &es.e[es.n++];
                const yaml_node_t *k;

                e->index = i;
                if (is_list) {
                        k = yaml_document_get_node(p->doc, n->data.sequence.items.start[i]);
                        if (!k || k->type != YAML_SCALAR_NODE || node_is_null(k))
                                return parse_error(p, k ?: n, "'%s' must be a mapping or a list of strings", what);
                } else {
                        const yaml_node_pair_t *pair = &n->data.mapping.pairs.start[i];
                        const yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
                        const char *text;

                        k = yaml_document_get_node(p->doc, pair->key);
                        if (!k || !v)
                                return parse_error(p, n, "'%s' must be a mapping or a list of strings", what);
                        if (key_text(p, k, what, &text) < 0)
                                return -1;
                        if (!node_is_null(v) && !(v->type == YAML_MAPPING_NODE && n_pairs(v) == 0))
                                return parse_error(p, v, "values in '%s' must be empty (null or {})", what);
                }
                e->key_node = k;
                if (scalar_dup(p, k, what, &e->key) < 0)
                        return -1;
        }
        if (entries_sort(p, &es, what, is_list) < 0)
                return -1;
        return entries_take(p, &es, &c->ports, NULL);
}

/* --- the known keys --- */

enum field_type {
        FIELD_STRING,
        FIELD_BOOL,
        FIELD_BOOL_NOT, /* a bool stored negated: keys that default to true */
        FIELD_LIST,
        FIELD_LABELS,
        FIELD_PORTS,
        FIELD_MOCK,
        FIELD_PACKAGE,
        FIELD_REPOS,
        FIELD_WORDS,
        FIELD_TRISTATE, /* an int: -1 unset, else the boolean */
        FIELD_PACKAGES,
};

struct field {
        const char *key;
        enum field_type type;
        size_t offset;
};

#define TOP(k, t, m) \
        { k, t, offsetof(struct smith_config, m) }
#define MOCK(k, t, m) \
        { k, t, offsetof(struct smith_mock_config, m) }

/* In the original's struct order. */
static const struct field top_fields[] = {
        TOP("type", FIELD_STRING, type),
        TOP("mock", FIELD_MOCK, mock),
        TOP("package", FIELD_PACKAGE, package),
        TOP("paths", FIELD_LIST, paths),
        TOP("excludes", FIELD_LIST, excludes),
        TOP("parent", FIELD_STRING, parent),
        TOP("nss", FIELD_BOOL, nss),
        TOP("root", FIELD_BOOL, root),
        TOP("user", FIELD_STRING, user),
        TOP("groups", FIELD_LIST, groups),
        TOP("mounts", FIELD_LIST, mounts),
        TOP("entrypoint", FIELD_LIST, entrypoint),
        TOP("cmd", FIELD_LIST, cmd),
        TOP("dir", FIELD_STRING, dir),
        TOP("env", FIELD_LIST, env),
        TOP("labels", FIELD_LABELS, label_keys),
        TOP("ports", FIELD_PORTS, ports),
        TOP("repos", FIELD_REPOS, repos),
        TOP("package-metadata", FIELD_BOOL_NOT, no_package_metadata),
        TOP("packages", FIELD_PACKAGES, packages),
};

#define REPO(k, t, m) \
        { k, t, offsetof(struct smith_repo, m) }

/* A mapping in `repos:`; "url" and "suite" are spellings of "uri" and
 * "suites", "baseurl" (yum's name) of "uri" too, making it an rpm-md
 * repository. */
static const struct field repo_fields[] = {
        REPO("uri", FIELD_STRING, uri),
        REPO("url", FIELD_STRING, uri),
        REPO("baseurl", FIELD_STRING, uri),
        REPO("type", FIELD_STRING, type),
        REPO("name", FIELD_STRING, name),
        REPO("gpgkey", FIELD_STRING, gpgkey),
        REPO("gpgcheck", FIELD_TRISTATE, gpgcheck),
        REPO("repo_gpgcheck", FIELD_TRISTATE, repo_gpgcheck),
        REPO("releasever", FIELD_STRING, releasever),
        REPO("suites", FIELD_WORDS, suites),
        REPO("suite", FIELD_WORDS, suites),
        REPO("components", FIELD_WORDS, components),
        REPO("signed-by", FIELD_STRING, signed_by),
        REPO("trusted", FIELD_BOOL, trusted),
};

static const struct field mock_fields[] = {
        MOCK("config", FIELD_STRING, config),         MOCK("pre-build", FIELD_STRING, pre_build),
        MOCK("post-build", FIELD_STRING, post_build), MOCK("deps", FIELD_LIST, deps),
        MOCK("debuginfo", FIELD_BOOL, debuginfo),     MOCK("debugdeps", FIELD_LIST, debugdeps),
        MOCK("debugpaths", FIELD_LIST, debugpaths),
};

/* `packages:`, a mapping like `mock:` */
static const struct field packages_fields[] = {
        { "recommends", FIELD_BOOL, offsetof(struct smith_packages_config, recommends) },
};

static char ascii_lower(char ch) {
        return ch >= 'A' && ch <= 'Z' ? (char) (ch - 'A' + 'a') : ch;
}

/* encoding/json matches field names case-insensitively too ("Paths"). */
static bool ascii_caseeq(const char *a, const char *b) {
        for (; *a && *b; a++, b++)
                if (ascii_lower(*a) != ascii_lower(*b))
                        return false;
        return *a == *b;
}

/* Levenshtein distance, ignoring ASCII case; both strings are short. */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b), prev[SHOWN_MAX + 1], cur[SHOWN_MAX + 1];

        if (la > SHOWN_MAX || lb > SHOWN_MAX)
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                prev[j] = j;
        for (size_t i = 1; i <= la; i++) {
                cur[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t sub = prev[j - 1] + (ascii_lower(a[i - 1]) != ascii_lower(b[j - 1]));
                        cur[j] = MIN(MIN(prev[j] + 1, cur[j - 1] + 1), sub);
                }
                memcpy(prev, cur, sizeof(size_t) * (lb + 1));
        }
        return prev[lb];
}

/* The closest known key, if it is close enough to be a typo. */
static const char *suggest(const char *key, const struct field *fields, size_t n_fields) {
        size_t best = SIZE_MAX;
        const char *r = NULL;

        for (size_t i = 0; i < n_fields; i++) {
                size_t d = edit_distance(key, fields[i].key);
                if (d < best) {
                        best = d;
                        r = fields[i].key;
                }
        }
        return best <= 2 && best < strlen(key) ? r : NULL;
}

static int parse_fields(struct parser *p, const yaml_node_t *n, const struct field *fields, size_t n_fields, void *base,
                        const char *section);

/* --- package and repos --- */

/* `package:` is a string (one package, image or directory, as the
 * original had it) or a list of package names. */
static int parse_package(struct parser *p, const yaml_node_t *n, const char *what, struct smith_config *c) {
        if (n->type == YAML_SCALAR_NODE)
                return parse_string(p, n, what, &c->package);
        if (n->type != YAML_SEQUENCE_NODE)
                return parse_error(p, n, "'%s' must be a string or a list of strings", what);
        if (parse_list(p, n, what, &c->package_list, NULL) < 0)
                return -1;
        for (size_t i = 0; c->package_list && c->package_list[i]; i++)
                if (isempty(c->package_list[i]))
                        return parse_error(p, n, "'%s' must not hold empty names", what);
        free(c->package);
        c->package = c->package_list ? strv_join(c->package_list, " ") : NULL;
        if (c->package_list && !c->package)
                return oom(p);
        return 0;
}

/* A string of words ("main contrib") or a list of strings. */
static int parse_words(struct parser *p, const yaml_node_t *n, const char *what, char ***field) {
        _cleanup_free_ char *s = NULL;

        if (n->type != YAML_SCALAR_NODE)
                return parse_list(p, n, what, field, NULL);
        if (parse_string(p, n, what, &s) < 0)
                return -1;
        if (!s)
                return 0;
        strv_free(*field);
        *field = strv_split(s, " \t", true);
        if (!*field)
                return oom(p);
        if (!(*field)[0]) {
                strv_free(*field);
                *field = NULL;
        }
        return 0;
}

static bool repo_has_key(struct parser *p, const yaml_node_t *n, const char *key) {
        for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
                const yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
                if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == strlen(key) &&
                    ascii_caseeq((const char *) k->data.scalar.value, key))
                        return true;
        }
        return false;
}

/* `repos:` a list of one-line apt sources ("deb [signed-by=...] URI suite
 * main") or mappings; the deb source parses the lines. */
static int parse_repos(struct parser *p, const yaml_node_t *n, const char *what, struct smith_config *c) {
        size_t count;

        if (collection_count(p, n, what, TAKES_LIST, "a list of strings or mappings", &count) < 0)
                return -1;
        /* a repeated "repos" key was refused already: c->repos is NULL */
        c->repos = count ? calloc(count, sizeof(struct smith_repo)) : NULL;
        if (count && !c->repos)
                return oom(p);
        for (size_t i = 0; i < count; i++) {
                const yaml_node_t *item = yaml_document_get_node(p->doc, n->data.sequence.items.start[i]);
                struct smith_repo *r = &c->repos[c->n_repos++];

                if (!item || (item->type != YAML_MAPPING_NODE &&
                              (item->type != YAML_SCALAR_NODE || node_is_null(item) || item->data.scalar.length == 0)))
                        return parse_error(p, item ?: n, "'%s' must be a list of strings or mappings", what);
                if (asprintf(&r->where, "%s:%zu:%zu", p->name, (size_t) item->start_mark.line + 1,
                             (size_t) item->start_mark.column + 1) < 0) {
                        r->where = NULL;
                        return oom(p);
                }
                if (item->type == YAML_SCALAR_NODE) {
                        if (scalar_dup(p, item, what, &r->line) < 0)
                                return -1;
                        continue;
                }
                r->gpgcheck = r->repo_gpgcheck = -1;
                if (parse_fields(p, item, repo_fields, ELEMENTSOF(repo_fields), r, "repos") < 0)
                        return -1;
                r->rpm_md = repo_has_key(p, item, "baseurl") || (r->type && streq(r->type, "rpm-md"));
                if (r->type && !streq(r->type, "rpm-md") && !streq(r->type, "deb"))
                        return parse_error(p, item, "'repos' entry type '%s' not recognized (rpm-md, deb)", r->type);
                if (r->rpm_md) {
                        if (!r->uri)
                                return parse_error(p, item, "'repos' entry without 'baseurl'");
                        continue;
                }
                if (!r->uri)
                        return parse_error(p, item, "'repos' entry without 'uri'");
                if (!r->suites)
                        return parse_error(p, item, "'repos' entry without 'suites'");
        }
        return 0;
}

static int parse_field(struct parser *p, const yaml_node_t *v, const struct field *f, void *base, const char *section) {
        char what[64];
        void *field = (char *) base + f->offset;

        snprintf(what, sizeof(what), "%s%s%s", section ?: "", section ? "." : "", f->key);
        switch (f->type) {
        case FIELD_STRING:
                return parse_string(p, v, what, field);
        case FIELD_BOOL:
                return parse_bool(p, v, what, field);
        case FIELD_BOOL_NOT: {
                bool value = true;
                if (node_is_null(v)) /* unset: the default */
                        return 0;
                if (parse_bool(p, v, what, &value) < 0)
                        return -1;
                *(bool *) field = !value;
                return 0;
        }
        case FIELD_LIST:
                /* the lines of `paths`, so that `smith inspect` can name them */
                return parse_list(p, v, what, field,
                                  !section && f->offset == offsetof(struct smith_config, paths)
                                          ? &((struct smith_config *) base)->path_lines
                                          : NULL);
        case FIELD_LABELS:
                return parse_labels(p, v, what, base);
        case FIELD_PORTS:
                return parse_ports(p, v, what, base);
        case FIELD_PACKAGE:
                return parse_package(p, v, what, base);
        case FIELD_REPOS:
                return parse_repos(p, v, what, base);
        case FIELD_WORDS:
                return parse_words(p, v, what, field);
        case FIELD_TRISTATE: {
                bool b = false;
                if (parse_bool(p, v, what, &b) < 0)
                        return -1;
                *(int *) field = b;
                return 0;
        }
        case FIELD_MOCK:
                if (node_is_null(v))
                        return 0;
                if (v->type != YAML_MAPPING_NODE)
                        return parse_error(p, v, "'%s' must be a mapping", what);
                return parse_fields(p, v, mock_fields, ELEMENTSOF(mock_fields), field, f->key);
        case FIELD_PACKAGES:
                if (node_is_null(v))
                        return 0;
                if (v->type != YAML_MAPPING_NODE)
                        return parse_error(p, v, "'%s' must be a mapping", what);
                return parse_fields(p, v, packages_fields, ELEMENTSOF(packages_fields), field, f->key);
        }
        return parse_error(p, v, "internal error: unknown field type");
}

/* A mapping of known keys (the top level, or "mock" as section). */
static int parse_fields(struct parser *p, const yaml_node_t *n, const struct field *fields, size_t n_fields, void *base,
                        const char *section) {
        const yaml_node_t *seen[ELEMENTSOF(top_fields)] = {};
        char buf[SHOWN_MAX + 4];

        for (size_t i = 0; i < n_pairs(n); i++) {
                const yaml_node_pair_t *pair = &n->data.mapping.pairs.start[i];
                const yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
                const yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
                const struct field *f = NULL;
                const char *key;

                if (!k || !v)
                        return parse_error(p, n, "malformed mapping");
                if (key_text(p, k, section, &key) < 0)
                        return -1;
                for (size_t j = 0; j < n_fields && !f; j++)
                        if (streq(key, fields[j].key))
                                f = &fields[j];
                for (size_t j = 0; j < n_fields && !f; j++)
                        if (ascii_caseeq(key, fields[j].key))
                                f = &fields[j];
                if (!f) {
                        const char *s = suggest(key, fields, n_fields);
                        return parse_error(p, k, "unknown key '%s'%s%s%s%s%s%s", shown(key, buf),
                                           section ? " in '" : "", section ?: "", section ? "'" : "",
                                           s ? " (did you mean '" : "", s ?: "", s ? "'?)" : "");
                }
                if (seen[f - fields])
                        return parse_error(p, k, "duplicate key '%s' (first at %zu:%zu)", shown(key, buf),
                                           (size_t) seen[f - fields]->start_mark.line + 1,
                                           (size_t) seen[f - fields]->start_mark.column + 1);
                seen[f - fields] = k;
                if (parse_field(p, v, f, base, section) < 0)
                        return -1;
        }
        return 0;
}

/* --- documents --- */

/* "name:line:column: problem" for libyaml's own errors. */
static int yaml_error(const char *name, const yaml_parser_t *parser, const char *data, size_t len,
                      struct smith_error **err) {
        size_t line, column;
        const char *problem = parser->problem ?: "invalid YAML";

        switch (parser->error) {
        case YAML_MEMORY_ERROR:
                return error_oom(err);
        case YAML_READER_ERROR:
                /* Only a byte offset here; count lines and characters ourselves. */
                line = 1;
                column = 1;
                for (size_t i = 0; i < MIN(parser->problem_offset, len); i++) {
                        if (data[i] == '\n') {
                                line++;
                                column = 1;
                        } else if (((unsigned char) data[i] & 0xc0) != 0x80)
                                column++;
                }
                break;
        default:
                line = parser->problem_mark.line + 1;
                column = parser->problem_mark.column + 1;
                break;
        }
        return error_set(err, SMITH_ERR_CONFIG, "%s:%zu:%zu: %s", name, line, column, problem);
}

static void yaml_parser_deletep(yaml_parser_t **parser) {
        if (*parser)
                yaml_parser_delete(*parser);
}

static void yaml_event_deletep(yaml_event_t **ev) {
        if (*ev)
                yaml_event_delete(*ev);
}

_printf_(4, 5) static int event_error(const char *name, const yaml_event_t *ev, struct smith_error **err,
                                      const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        if (!m)
                return error_oom(err);
        return error_set(err, SMITH_ERR_CONFIG, "%s:%zu:%zu: %s", name, (size_t) ev->start_mark.line + 1,
                         (size_t) ev->start_mark.column + 1, m);
}

/* libyaml's scanner spends O(nesting) on every token and its loader
 * O(anchors) on every alias, so a 1 MiB file of "[[[[..." or of anchors
 * would take minutes.  One pass over the events first bounds both (and
 * reports any syntax error, in any document) before the loader runs. */
static int yaml_precheck(const char *name, const char *data, size_t len, struct smith_error **err) {
        _cleanup_(yaml_parser_deletep) yaml_parser_t *parser = NULL;
        yaml_parser_t parser_storage;
        size_t depth = 0, anchors = 0;

        if (!yaml_parser_initialize(&parser_storage))
                return error_oom(err);
        parser = &parser_storage;
        yaml_parser_set_input_string(parser, (const unsigned char *) data, len);

        for (;;) {
                _cleanup_(yaml_event_deletep) yaml_event_t *ev = NULL;
                yaml_event_t ev_storage;
                const yaml_char_t *anchor = NULL;

                if (!yaml_parser_parse(parser, &ev_storage))
                        return yaml_error(name, parser, data, len, err);
                ev = &ev_storage;
                switch (ev->type) {
                case YAML_STREAM_END_EVENT:
                        return 0;
                case YAML_SEQUENCE_START_EVENT:
                case YAML_MAPPING_START_EVENT:
                        anchor = ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor
                                                                       : ev->data.mapping_start.anchor;
                        if (++depth > CONFIG_MAX_DEPTH)
                                return event_error(name, ev, err, "nesting is deeper than %d levels", CONFIG_MAX_DEPTH);
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        depth--;
                        break;
                case YAML_SCALAR_EVENT:
                        anchor = ev->data.scalar.anchor;
                        break;
                default:
                        break;
                }
                if (anchor && ++anchors > CONFIG_MAX_ANCHORS)
                        return event_error(name, ev, err, "more than %d anchors", CONFIG_MAX_ANCHORS);
        }
}

static void yaml_document_deletep(yaml_document_t **doc) {
        if (*doc)
                yaml_document_delete(*doc);
}

int config_parse(const char *name, const char *data, size_t len, struct smith_config **ret, struct smith_error **err) {
        _cleanup_(config_freep) struct smith_config *c = NULL;
        _cleanup_(yaml_parser_deletep) yaml_parser_t *parser = NULL;
        _cleanup_(yaml_document_deletep) yaml_document_t *doc = NULL, *next = NULL;
        yaml_parser_t parser_storage;
        yaml_document_t doc_storage, next_storage;
        struct parser p = { .name = name, .err = err };
        const yaml_node_t *root;

        if (len > CONFIG_MAX_FILE_SIZE)
                return error_set(err, SMITH_ERR_CONFIG, "'%s' is larger than %d MiB", name,
                                 CONFIG_MAX_FILE_SIZE / (1024 * 1024));
        if (yaml_precheck(name, data, len, err) < 0)
                return -1;
        c = config_new();
        if (!c)
                return error_oom(err);
        if (!yaml_parser_initialize(&parser_storage))
                return error_oom(err);
        parser = &parser_storage;
        yaml_parser_set_input_string(parser, (const unsigned char *) data, len);

        if (!yaml_parser_load(parser, &doc_storage))
                return yaml_error(name, parser, data, len, err);
        doc = &doc_storage;
        p.doc = doc;

        /* An empty file, or one holding only "~", is an empty config. */
        root = yaml_document_get_root_node(doc);
        if (root && !node_is_null(root)) {
                if (root->type != YAML_MAPPING_NODE)
                        return parse_error(&p, root, "top level must be a mapping");
                if (parse_fields(&p, root, top_fields, ELEMENTSOF(top_fields), c, NULL) < 0)
                        return -1;
        }

        /* The original read the first document only; rather than ignore the
         * rest, refuse it.  An empty trailing "---" is harmless. */
        if (!yaml_parser_load(parser, &next_storage))
                return yaml_error(name, parser, data, len, err);
        next = &next_storage;
        root = yaml_document_get_root_node(next);
        if (root && !node_is_null(root))
                return parse_error(&p, root, "only one YAML document is allowed");

        *ret = TAKE_PTR(c);
        return 0;
}
