/* Readers of one smith.yaml value each, for config-yaml.c's walk: strings,
 * YAML 1.1 booleans, lists with their line numbers, and the free-key
 * mappings `labels` and `ports`.  Every message names file:line:column,
 * and every copied byte counts against CONFIG_MAX_EXPANDED. */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "basic/strv.h"
#include "config-yaml-internal.h"

/* --- messages --- */

int cfg_verror(struct smith_error **err, const char *name, yaml_mark_t mark, const char *fmt, va_list ap) {
        _cleanup_free_ char *m = NULL;

        if (vasprintf(&m, fmt, ap) < 0)
                return error_oom(err);
        return error_set(err, SMITH_ERR_CONFIG, "%s:%zu:%zu: %s", name, (size_t) mark.line + 1,
                         (size_t) mark.column + 1, m);
}

_printf_(3, 4) int cfg_error(struct parser *p, const yaml_node_t *n, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = cfg_verror(p->err, p->name, n->start_mark, fmt, ap);
        va_end(ap);
        return r;
}

int cfg_oom(struct parser *p) {
        return error_oom(p->err);
}

/* A key as written, made safe for a one-line message: control characters
 * become '?', and long keys are cut (at a character boundary) with "...". */
const char *cfg_shown(const char *s, char buf[static SHOWN_MAX + 4]) {
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

const char *cfg_scalar(const yaml_node_t *n) {
        return (const char *) n->data.scalar.value;
}

bool cfg_is_plain(const yaml_node_t *n) {
        return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* YAML 1.1 null: "~", "null" in its three spellings, or nothing at all. */
bool cfg_is_null(const yaml_node_t *n) {
        if (n->type != YAML_SCALAR_NODE)
                return false;
        if (n->tag && streq((const char *) n->tag, YAML_NULL_TAG))
                return true;
        if (!cfg_is_plain(n))
                return false;
        return n->data.scalar.length == 0 || streq(cfg_scalar(n), "~") || streq(cfg_scalar(n), "null") ||
               streq(cfg_scalar(n), "Null") || streq(cfg_scalar(n), "NULL");
}

/* ghodss/yaml takes a number or boolean given for a string as text, so every
 * scalar is its text here.  Checks the bounds and copies it. */
int cfg_scalar_dup(struct parser *p, const yaml_node_t *n, const char *what, char **ret) {
        size_t len = n->data.scalar.length;
        char *s;

        if (len > CONFIG_MAX_SCALAR)
                return cfg_error(p, n, "'%s' is longer than %d bytes", what, CONFIG_MAX_SCALAR);
        if (strlen(cfg_scalar(n)) != len) /* a "\0" escape */
                return cfg_error(p, n, "'%s' contains a NUL character", what);
        if (len + 1 > CONFIG_MAX_EXPANDED - p->expanded)
                return cfg_error(p, n, "configuration is larger than %d MiB once aliases are expanded",
                                 CONFIG_MAX_EXPANDED / (1024 * 1024));
        s = strndup(cfg_scalar(n), len);
        if (!s)
                return cfg_oom(p);
        p->expanded += len + 1;
        *ret = s;
        return 0;
}

/* The text of a key in section what (NULL: the top level): a non-null
 * scalar without NUL, and not a merge key. */
int cfg_key_text(struct parser *p, const yaml_node_t *k, const char *what, const char **ret) {
        if (k->type != YAML_SCALAR_NODE || cfg_is_null(k) || strlen(cfg_scalar(k)) != k->data.scalar.length)
                return what ? cfg_error(p, k, "keys in '%s' must be strings", what)
                            : cfg_error(p, k, "keys must be strings");
        if (cfg_is_plain(k) && streq(cfg_scalar(k), "<<"))
                return cfg_error(p, k, "merge keys ('<<') are not supported");
        *ret = cfg_scalar(k);
        return 0;
}

size_t cfg_n_items(const yaml_node_t *n) {
        return (size_t) (n->data.sequence.items.top - n->data.sequence.items.start);
}

size_t cfg_n_pairs(const yaml_node_t *n) {
        return (size_t) (n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

/* --- field types --- */

int cfg_parse_string(struct parser *p, const yaml_node_t *n, const char *what, char **field) {
        char *s;

        if (n->type != YAML_SCALAR_NODE)
                return cfg_error(p, n, "'%s' must be a string", what);
        /* Go cannot tell "" from unset, and neither do we. */
        if (cfg_is_null(n) || n->data.scalar.length == 0)
                return 0;
        if (cfg_scalar_dup(p, n, what, &s) < 0)
                return -1;
        free(*field);
        *field = s;
        return 0;
}

static const char *const yaml_true[] = { "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON" };
static const char *const yaml_false[] = { "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF" };

int cfg_parse_bool(struct parser *p, const yaml_node_t *n, const char *what, bool *field) {
        if (n->type == YAML_SCALAR_NODE && cfg_is_null(n)) {
                *field = false;
                return 0;
        }
        /* A quoted "true" is a string, which the original refused too. */
        if (cfg_is_plain(n) || (n->type == YAML_SCALAR_NODE && n->tag && streq((const char *) n->tag, YAML_BOOL_TAG))) {
                for (size_t i = 0; i < ELEMENTSOF(yaml_true); i++)
                        if (streq(cfg_scalar(n), yaml_true[i])) {
                                *field = true;
                                return 0;
                        }
                for (size_t i = 0; i < ELEMENTSOF(yaml_false); i++)
                        if (streq(cfg_scalar(n), yaml_false[i])) {
                                *field = false;
                                return 0;
                        }
        }
        return cfg_error(p, n, "'%s' must be true or false", what);
}

/* With lines, also each entry's line (1-based), for messages about it later. */
int cfg_collection_count(struct parser *p, const yaml_node_t *n, const char *what, unsigned kinds, const char *expected,
                         size_t *ret_count) {
        bool list = n->type == YAML_SEQUENCE_NODE, map = n->type == YAML_MAPPING_NODE;

        *ret_count = 0;
        if (cfg_is_null(n))
                return 0;
        if (!((kinds & TAKES_LIST) && list) && !((kinds & TAKES_MAP) && map))
                return cfg_error(p, n, "'%s' must be %s", what, expected);
        *ret_count = list ? cfg_n_items(n) : cfg_n_pairs(n);
        if (*ret_count > CONFIG_MAX_ITEMS)
                return cfg_error(p, n, "'%s' has more than %d entries", what, CONFIG_MAX_ITEMS);
        return *ret_count > 0;
}

int cfg_parse_list(struct parser *p, const yaml_node_t *n, const char *what, char ***field, unsigned **lines) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ unsigned *ls = NULL;
        size_t count;
        int r = cfg_collection_count(p, n, what, TAKES_LIST, "a list of strings", &count);

        if (r <= 0)
                return r;
        l = calloc(count + 1, sizeof(char *));
        if (!l || (lines && !(ls = calloc(count, sizeof(unsigned)))))
                return cfg_oom(p);
        for (size_t i = 0; i < count; i++) {
                const yaml_node_t *item = yaml_document_get_node(p->doc, n->data.sequence.items.start[i]);

                if (!item || item->type != YAML_SCALAR_NODE)
                        return cfg_error(p, item ?: n, "'%s' must be a list of strings", what);
                /* Go decodes a null element of a []string as "". */
                if (cfg_is_null(item)) {
                        if (p->expanded + 1 > CONFIG_MAX_EXPANDED)
                                return cfg_error(p, item,
                                                 "configuration is larger than %d MiB once aliases are expanded",
                                                 CONFIG_MAX_EXPANDED / (1024 * 1024));
                        p->expanded++;
                        l[i] = strdup("");
                        if (!l[i])
                                return cfg_oom(p);
                } else if (cfg_scalar_dup(p, item, what, &l[i]) < 0)
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
/* The entries of collection n ("what" as a user names it; takes and
 * expected as cfg_collection_count() has them), allocated: 1 when there is
 * at least one, 0 when none (null or empty), -1 on errors. */
static int entries_begin(struct parser *p, const yaml_node_t *n, const char *what, unsigned takes, const char *expected,
                         struct entries *es, size_t *ret_count) {
        int r = cfg_collection_count(p, n, what, takes, expected, ret_count);

        if (r <= 0)
                return r;
        es->e = calloc(*ret_count, sizeof(struct entry));
        return es->e ? 1 : cfg_oom(p);
}

static int entries_sort(struct parser *p, struct entries *es, const char *what, bool unique) {
        size_t j = 0;
        char buf[SHOWN_MAX + 4];

        qsort(es->e, es->n, sizeof(struct entry), entry_cmp);
        for (size_t i = 0; i < es->n; i++) {
                if (j > 0 && streq(es->e[j - 1].key, es->e[i].key)) {
                        if (!unique)
                                return cfg_error(p, es->e[i].key_node, "duplicate key '%s' in '%s' (first at %zu:%zu)",
                                                 cfg_shown(es->e[i].key, buf), what,
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
                return cfg_oom(p);
        if (ret_values) {
                values = calloc(es->n + 1, sizeof(char *));
                if (!values)
                        return cfg_oom(p);
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

int cfg_parse_labels(struct parser *p, const yaml_node_t *n, const char *what, struct smith_config *c) {
        _cleanup_(entries_release) struct entries es = {};
        size_t count;
        int r = entries_begin(p, n, what, TAKES_MAP, "a mapping of strings to strings", &es, &count);

        if (r <= 0)
                return r;
        for (size_t i = 0; i < count; i++) {
                const yaml_node_pair_t *pair = &n->data.mapping.pairs.start[i];
                const yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
                const yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
                struct entry *e = &es.e[es.n++];
                const char *text;

                if (!k || !v)
                        return cfg_error(p, n, "'%s' must be a mapping of strings to strings", what);
                if (cfg_key_text(p, k, what, &text) < 0)
                        return -1;
                e->key_node = k;
                e->index = i;
                if (cfg_scalar_dup(p, k, what, &e->key) < 0)
                        return -1;
                if (v->type != YAML_SCALAR_NODE)
                        return cfg_error(p, v, "'%s' must be a mapping of strings to strings", what);
                /* Go decodes a null map[string]string value as "". */
                if (cfg_is_null(v)) {
                        e->value = strdup("");
                        if (!e->value)
                                return cfg_oom(p);
                } else if (cfg_scalar_dup(p, v, what, &e->value) < 0)
                        return -1;
        }
        if (entries_sort(p, &es, what, false) < 0)
                return -1;
        return entries_take(p, &es, &c->label_keys, &c->label_values);
}

/* The original's map[string]struct{} ({"80/tcp": {}}), and the list of
 * strings docker users write. */
int cfg_parse_ports(struct parser *p, const yaml_node_t *n, const char *what, struct smith_config *c) {
        _cleanup_(entries_release) struct entries es = {};
        bool is_list = n->type == YAML_SEQUENCE_NODE;
        size_t count;
        int r = entries_begin(p, n, what, TAKES_LIST | TAKES_MAP, "a mapping or a list of strings", &es, &count);

        if (r <= 0)
                return r;
        for (size_t i = 0; i < count; i++) {
                struct entry *e = &es.e[es.n++];
                const yaml_node_t *k;

                e->index = i;
                if (is_list) {
                        k = yaml_document_get_node(p->doc, n->data.sequence.items.start[i]);
                        if (!k || k->type != YAML_SCALAR_NODE || cfg_is_null(k))
                                return cfg_error(p, k ?: n, "'%s' must be a mapping or a list of strings", what);
                } else {
                        const yaml_node_pair_t *pair = &n->data.mapping.pairs.start[i];
                        const yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
                        const char *text;

                        k = yaml_document_get_node(p->doc, pair->key);
                        if (!k || !v)
                                return cfg_error(p, n, "'%s' must be a mapping or a list of strings", what);
                        if (cfg_key_text(p, k, what, &text) < 0)
                                return -1;
                        if (!cfg_is_null(v) && !(v->type == YAML_MAPPING_NODE && cfg_n_pairs(v) == 0))
                                return cfg_error(p, v, "values in '%s' must be empty (null or {})", what);
                }
                e->key_node = k;
                if (cfg_scalar_dup(p, k, what, &e->key) < 0)
                        return -1;
        }
        if (entries_sort(p, &es, what, is_list) < 0)
                return -1;
        return entries_take(p, &es, &c->ports, NULL);
}
