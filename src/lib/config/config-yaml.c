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
#include "config-yaml-internal.h"
#include "config.h"

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
        TOP("platform", FIELD_STRING, platform),
        TOP("platforms", FIELD_LIST, platforms),
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
                return cfg_parse_string(p, n, what, &c->package);
        if (n->type != YAML_SEQUENCE_NODE)
                return cfg_error(p, n, "'%s' must be a string or a list of strings", what);
        if (cfg_parse_list(p, n, what, &c->package_list, NULL) < 0)
                return -1;
        for (size_t i = 0; c->package_list && c->package_list[i]; i++)
                if (isempty(c->package_list[i]))
                        return cfg_error(p, n, "'%s' must not hold empty names", what);
        free(c->package);
        c->package = c->package_list ? strv_join(c->package_list, " ") : NULL;
        if (c->package_list && !c->package)
                return cfg_oom(p);
        return 0;
}

/* A string of words ("main contrib") or a list of strings. */
static int parse_words(struct parser *p, const yaml_node_t *n, const char *what, char ***field) {
        _cleanup_free_ char *s = NULL;

        if (n->type != YAML_SCALAR_NODE)
                return cfg_parse_list(p, n, what, field, NULL);
        if (cfg_parse_string(p, n, what, &s) < 0)
                return -1;
        if (!s)
                return 0;
        strv_free(*field);
        *field = strv_split(s, " \t", true);
        if (!*field)
                return cfg_oom(p);
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

        if (cfg_collection_count(p, n, what, TAKES_LIST, "a list of strings or mappings", &count) < 0)
                return -1;
        /* a repeated "repos" key was refused already: c->repos is NULL */
        c->repos = count ? calloc(count, sizeof(struct smith_repo)) : NULL;
        if (count && !c->repos)
                return cfg_oom(p);
        for (size_t i = 0; i < count; i++) {
                const yaml_node_t *item = yaml_document_get_node(p->doc, n->data.sequence.items.start[i]);
                struct smith_repo *r = &c->repos[c->n_repos++];

                if (!item || (item->type != YAML_MAPPING_NODE &&
                              (item->type != YAML_SCALAR_NODE || cfg_is_null(item) || item->data.scalar.length == 0)))
                        return cfg_error(p, item ?: n, "'%s' must be a list of strings or mappings", what);
                if (asprintf(&r->where, "%s:%zu:%zu", p->name, (size_t) item->start_mark.line + 1,
                             (size_t) item->start_mark.column + 1) < 0) {
                        r->where = NULL;
                        return cfg_oom(p);
                }
                if (item->type == YAML_SCALAR_NODE) {
                        if (cfg_scalar_dup(p, item, what, &r->line) < 0)
                                return -1;
                        continue;
                }
                r->gpgcheck = r->repo_gpgcheck = -1;
                if (parse_fields(p, item, repo_fields, ELEMENTSOF(repo_fields), r, "repos") < 0)
                        return -1;
                r->rpm_md = repo_has_key(p, item, "baseurl") || (r->type && streq(r->type, "rpm-md"));
                if (r->type && !streq(r->type, "rpm-md") && !streq(r->type, "deb"))
                        return cfg_error(p, item, "'repos' entry type '%s' not recognized (rpm-md, deb)", r->type);
                if (r->rpm_md) {
                        if (!r->uri)
                                return cfg_error(p, item, "'repos' entry without 'baseurl'");
                        continue;
                }
                if (!r->uri)
                        return cfg_error(p, item, "'repos' entry without 'uri'");
                if (!r->suites)
                        return cfg_error(p, item, "'repos' entry without 'suites'");
        }
        return 0;
}

static int parse_field(struct parser *p, const yaml_node_t *v, const struct field *f, void *base, const char *section) {
        char what[64];
        void *field = (char *) base + f->offset;

        snprintf(what, sizeof(what), "%s%s%s", section ?: "", section ? "." : "", f->key);
        switch (f->type) {
        case FIELD_STRING:
                return cfg_parse_string(p, v, what, field);
        case FIELD_BOOL:
                return cfg_parse_bool(p, v, what, field);
        case FIELD_BOOL_NOT: {
                bool value = true;
                if (cfg_is_null(v)) /* unset: the default */
                        return 0;
                if (cfg_parse_bool(p, v, what, &value) < 0)
                        return -1;
                *(bool *) field = !value;
                return 0;
        }
        case FIELD_LIST:
                /* the lines of `paths`, so that `smith inspect` can name them */
                return cfg_parse_list(p, v, what, field,
                                      !section && f->offset == offsetof(struct smith_config, paths)
                                              ? &((struct smith_config *) base)->path_lines
                                              : NULL);
        case FIELD_LABELS:
                return cfg_parse_labels(p, v, what, base);
        case FIELD_PORTS:
                return cfg_parse_ports(p, v, what, base);
        case FIELD_PACKAGE:
                return parse_package(p, v, what, base);
        case FIELD_REPOS:
                return parse_repos(p, v, what, base);
        case FIELD_WORDS:
                return parse_words(p, v, what, field);
        case FIELD_TRISTATE: {
                bool b = false;
                if (cfg_parse_bool(p, v, what, &b) < 0)
                        return -1;
                *(int *) field = b;
                return 0;
        }
        case FIELD_MOCK:
        case FIELD_PACKAGES:
                if (cfg_is_null(v))
                        return 0;
                if (v->type != YAML_MAPPING_NODE)
                        return cfg_error(p, v, "'%s' must be a mapping", what);
                if (f->type == FIELD_MOCK)
                        return parse_fields(p, v, mock_fields, ELEMENTSOF(mock_fields), field, f->key);
                return parse_fields(p, v, packages_fields, ELEMENTSOF(packages_fields), field, f->key);
        }
        return cfg_error(p, v, "internal error: unknown field type");
}

/* A mapping of known keys (the top level, or "mock" as section). */
static int parse_fields(struct parser *p, const yaml_node_t *n, const struct field *fields, size_t n_fields, void *base,
                        const char *section) {
        const yaml_node_t *seen[ELEMENTSOF(top_fields)] = {};
        char buf[SHOWN_MAX + 4];

        for (size_t i = 0; i < cfg_n_pairs(n); i++) {
                const yaml_node_pair_t *pair = &n->data.mapping.pairs.start[i];
                const yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
                const yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
                const struct field *f = NULL;
                const char *key;

                if (!k || !v)
                        return cfg_error(p, n, "malformed mapping");
                if (cfg_key_text(p, k, section, &key) < 0)
                        return -1;
                for (size_t j = 0; j < n_fields && !f; j++)
                        if (streq(key, fields[j].key))
                                f = &fields[j];
                for (size_t j = 0; j < n_fields && !f; j++)
                        if (ascii_caseeq(key, fields[j].key))
                                f = &fields[j];
                if (!f) {
                        const char *s = suggest(key, fields, n_fields);
                        return cfg_error(p, k, "unknown key '%s'%s%s%s%s%s%s", cfg_shown(key, buf),
                                         section ? " in '" : "", section ?: "", section ? "'" : "",
                                         s ? " (did you mean '" : "", s ?: "", s ? "'?)" : "");
                }
                if (seen[f - fields])
                        return cfg_error(p, k, "duplicate key '%s' (first at %zu:%zu)", cfg_shown(key, buf),
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
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = cfg_verror(err, name, ev->start_mark, fmt, ap);
        va_end(ap);
        return r;
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
        if (root && !cfg_is_null(root)) {
                if (root->type != YAML_MAPPING_NODE)
                        return cfg_error(&p, root, "top level must be a mapping");
                if (parse_fields(&p, root, top_fields, ELEMENTSOF(top_fields), c, NULL) < 0)
                        return -1;
        }

        /* The original read the first document only; rather than ignore the
         * rest, refuse it.  An empty trailing "---" is harmless. */
        if (!yaml_parser_load(parser, &next_storage))
                return yaml_error(name, parser, data, len, err);
        next = &next_storage;
        root = yaml_document_get_root_node(next);
        if (root && !cfg_is_null(root))
                return cfg_error(&p, root, "only one YAML document is allowed");

        *ret = TAKE_PTR(c);
        return 0;
}
