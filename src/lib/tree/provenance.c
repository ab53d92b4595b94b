/* The provenance blob: written from the plan, parsed back bounded; see
 * provenance.h.
 *
 * Built with jansson, which keeps object keys in insertion order, so the
 * order below is the order in the blob.  JSON strings are UTF-8: a path
 * that is not (a source root may hold any bytes) is left out of the blob,
 * and `smith inspect` says no reason was recorded for it. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/utf8.h"
#include "tree/provenance.h"

static const char *const kind_names[] = {
        [PLAN_REASON_UNKNOWN] = "unknown",
        [PLAN_REASON_PATTERN] = "pattern",
        [PLAN_REASON_INTERPRETER] = "interpreter",
        [PLAN_REASON_NEEDED] = "needed",
        [PLAN_REASON_NSS] = "nss",
        [PLAN_REASON_SYMLINK] = "symlink",
        [PLAN_REASON_PARENT] = "parent",
        [PLAN_REASON_OVERLAY] = "overlay",
        [PLAN_REASON_GENERATED] = "generated",
        [PLAN_REASON_MOUNT] = "mount",
        [PLAN_REASON_LAYOUT] = "layout",
        [PLAN_REASON_PARENT_IMAGE] = "parent-image",
        [PLAN_REASON_PACKAGE_METADATA] = "package-metadata",
};

static const char *const type_names[] = {
        [PLAN_DIR] = "dir",
        [PLAN_FILE] = "file",
        [PLAN_SYMLINK] = "symlink",
};

const char *plan_reason_kind_name(enum plan_reason_kind kind) {
        return (size_t) kind < ELEMENTSOF(kind_names) && kind_names[kind] ? kind_names[kind] : "unknown";
}

const char *plan_type_name(enum plan_type type) {
        return (size_t) type < ELEMENTSOF(type_names) ? type_names[type] : "unknown";
}

char *plan_reason_text(const struct plan_reason *why, const char *config_name) {
        const char *conf = config_name ?: "smith.yaml";
        char *r = NULL;
        int n = -1;

#define OR_NONE(s) ((s) ?: "?")
        switch (why->kind) {
        case PLAN_REASON_PATTERN:
                if (why->line > 0)
                        n = asprintf(&r, "paths '%s' (%s:%u)", OR_NONE(why->pattern), conf, why->line);
                else
                        n = asprintf(&r, "paths '%s' (%s)", OR_NONE(why->pattern), conf);
                break;
        case PLAN_REASON_INTERPRETER:
                n = asprintf(&r, "interpreter of %s", OR_NONE(why->needed_by));
                break;
        case PLAN_REASON_NEEDED:
                n = asprintf(&r, "DT_NEEDED %s of %s", OR_NONE(why->detail), OR_NONE(why->needed_by));
                break;
        case PLAN_REASON_NSS:
                n = asprintf(&r, "NSS module%s%s", why->detail ? " " : "", why->detail ?: "");
                break;
        case PLAN_REASON_SYMLINK:
                n = asprintf(&r, "symlink on the way to %s", OR_NONE(why->needed_by));
                break;
        case PLAN_REASON_PARENT:
                n = asprintf(&r, "parent directory of %s", OR_NONE(why->needed_by));
                break;
        case PLAN_REASON_OVERLAY:
                n = asprintf(&r, "rootfs/ overlay");
                break;
        case PLAN_REASON_GENERATED:
                n = asprintf(&r, "generated");
                break;
        case PLAN_REASON_MOUNT:
                n = asprintf(&r, "mounts '%s' (%s)", OR_NONE(why->detail), conf);
                break;
        case PLAN_REASON_LAYOUT:
                n = asprintf(&r, "layout");
                break;
        case PLAN_REASON_PARENT_IMAGE:
                n = asprintf(&r, "from the parent image");
                break;
        case PLAN_REASON_PACKAGE_METADATA:
                n = asprintf(&r, "package metadata");
                break;
        case PLAN_REASON_UNKNOWN:
                n = asprintf(&r, "unknown (not recorded)");
                break;
        }
#undef OR_NONE
        return n < 0 ? NULL : r;
}

/* --- writing --- */

/* Adds key: s unless s is NULL or not UTF-8.  -1 when out of memory. */
static int set_string(json_t *o, const char *key, const char *s) {
        if (!s || !utf8_valid(s, false))
                return 0;
        return json_object_set_new(o, key, json_string(s));
}

struct writer {
        json_t *entries;
        int r;
};

static int write_one(const struct plan_entry *e, void *userdata) {
        struct writer *w = userdata;
        _cleanup_(json_decrefp) json_t *o = json_object(), *why = json_object();
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "/%s", e->path) < 0 || !o || !why)
                return w->r = -ENOMEM;
        if (!utf8_valid(path, false))
                return 0;
        if (json_object_set_new(o, "path", json_string(path)) < 0 ||
            json_object_set_new(o, "type", json_string(plan_type_name(e->type))) < 0 ||
            json_object_set_new(o, "package",
                                (e->package && utf8_valid(e->package, false)) ? json_string(e->package) : json_null()) <
                    0 ||
            json_object_set_new(why, "kind", json_string(plan_reason_kind_name(e->why.kind))) < 0 ||
            set_string(why, "detail", e->why.detail) < 0 || set_string(why, "needed_by", e->why.needed_by) < 0 ||
            set_string(why, "pattern", e->why.pattern) < 0 ||
            (e->why.line > 0 && json_object_set_new(why, "line", json_integer(e->why.line)) < 0) ||
            json_object_set(o, "reason", why) < 0 || json_array_append(w->entries, o) < 0)
                return w->r = -ENOMEM;
        return 0;
}

int provenance_write(struct plan *p, const char *layer_diff_id, const char *config_name, char **ret, size_t *ret_len,
                     struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *doc = json_object(), *entries = json_array();
        struct writer w = { .entries = entries }; /* doc holds it too */
        char *s;

        if (!doc || !entries || json_object_set_new(doc, "schemaVersion", json_integer(PROVENANCE_VERSION)) < 0 ||
            json_object_set_new(doc, "layer", json_string(layer_diff_id)) < 0 ||
            set_string(doc, "config", config_name) < 0 || json_object_set(doc, "entries", entries) < 0)
                return error_oom(err);
        if (plan_foreach(p, write_one, &w) < 0 || w.r < 0)
                return error_oom(err);
        s = json_dumps(doc, JSON_COMPACT);
        if (!s)
                return error_oom(err);
        *ret_len = strlen(s);
        *ret = s;
        return 0;
}

/* --- reading --- */

static void record_release(struct provenance_record *r) {
        free(r->path);
        free(r->package);
        free((char *) r->why.detail);
        free((char *) r->why.needed_by);
        free((char *) r->why.pattern);
}

void provenance_free(struct provenance *pv) {
        if (!pv)
                return;
        for (size_t i = 0; i < pv->n; i++)
                record_release(&pv->records[i]);
        free_many(pv->records, pv->layer, pv->config, pv);
}

#define TOP SIZE_MAX /* get_string() of the document itself */

/* A copy of member key of o (entry i, or the document: TOP): absent or null
 * is NULL; anything else must be a string of at most PROVENANCE_MAX_STRING
 * bytes. */
static int get_string(json_t *o, const char *key, size_t i, char **ret, struct smith_error **err) {
        json_t *v = json_object_get(o, key);
        char where[48] = "";

        *ret = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (i != TOP)
                snprintf(where, sizeof(where), " entry %zu:", i);
        if (!json_is_string(v))
                return error_set(err, SMITH_ERR_SOURCE, "provenance:%s '%s' is not a string", where, key);
        if (json_string_length(v) > PROVENANCE_MAX_STRING)
                return error_set(err, SMITH_ERR_SOURCE, "provenance:%s '%s' is longer than %d bytes", where, key,
                                 PROVENANCE_MAX_STRING);
        *ret = strdup(json_string_value(v));
        return *ret ? 0 : error_oom(err);
}

static int parse_record(json_t *e, size_t i, struct provenance_record *rec, struct smith_error **err) {
        json_t *why, *kind, *type, *line;
        char *s = NULL;

        if (!json_is_object(e))
                return error_set(err, SMITH_ERR_SOURCE, "provenance: entry %zu is not an object", i);
        if (get_string(e, "path", i, &rec->path, err) < 0)
                return -1;
        if (!rec->path || rec->path[0] != '/')
                return error_set(err, SMITH_ERR_SOURCE, "provenance: entry %zu: 'path' is not an absolute path", i);
        type = json_object_get(e, "type");
        rec->type = PLAN_FILE;
        for (size_t t = 0; t < ELEMENTSOF(type_names); t++)
                if (json_is_string(type) && streq(json_string_value(type), type_names[t]))
                        rec->type = (enum plan_type) t;
        if (get_string(e, "package", i, &rec->package, err) < 0)
                return -1;
        why = json_object_get(e, "reason");
        if (!json_is_object(why))
                return error_set(err, SMITH_ERR_SOURCE, "provenance: entry %zu: 'reason' is not an object", i);
        kind = json_object_get(why, "kind");
        if (!json_is_string(kind))
                return error_set(err, SMITH_ERR_SOURCE, "provenance: entry %zu: 'kind' is not a string", i);
        rec->why.kind = PLAN_REASON_UNKNOWN;
        for (size_t k = 0; k < ELEMENTSOF(kind_names); k++)
                if (kind_names[k] && streq(json_string_value(kind), kind_names[k]))
                        rec->why.kind = (enum plan_reason_kind) k;
        if (get_string(why, "detail", i, &s, err) < 0)
                return -1;
        rec->why.detail = s;
        if (get_string(why, "needed_by", i, &s, err) < 0)
                return -1;
        rec->why.needed_by = s;
        if (get_string(why, "pattern", i, &s, err) < 0)
                return -1;
        rec->why.pattern = s;
        line = json_object_get(why, "line");
        if (line && !json_is_null(line)) {
                if (!json_is_integer(line) || json_integer_value(line) < 0 || json_integer_value(line) > UINT32_MAX)
                        return error_set(err, SMITH_ERR_SOURCE, "provenance: entry %zu: 'line' is not a line number",
                                         i);
                rec->why.line = (unsigned) json_integer_value(line);
        }
        return 0;
}

static int record_cmp(const void *a, const void *b) {
        return strcmp(((const struct provenance_record *) a)->path, ((const struct provenance_record *) b)->path);
}

int provenance_parse(const char *buf, size_t len, struct provenance **ret, struct smith_error **err) {
        _cleanup_(provenance_freep) struct provenance *pv = NULL;
        _cleanup_(json_decrefp) json_t *doc = NULL;
        json_error_t jerr;
        json_t *v, *entries;
        size_t n;

        if (len > PROVENANCE_MAX_SIZE)
                return error_set(err, SMITH_ERR_SOURCE, "provenance: larger than %u MiB", PROVENANCE_MAX_SIZE >> 20);
        doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc)
                return error_set(err, SMITH_ERR_SOURCE, "provenance: invalid JSON at line %d", jerr.line);
        if (!json_is_object(doc))
                return error_set(err, SMITH_ERR_SOURCE, "provenance: not a JSON object");
        v = json_object_get(doc, "schemaVersion");
        if (!json_is_integer(v) || json_integer_value(v) != PROVENANCE_VERSION)
                return error_set(err, SMITH_ERR_SOURCE, "provenance: unsupported 'schemaVersion'");
        entries = json_object_get(doc, "entries");
        if (!json_is_array(entries))
                return error_set(err, SMITH_ERR_SOURCE, "provenance: 'entries' is not a list");
        pv = calloc(1, sizeof(*pv));
        if (!pv)
                return error_oom(err);
        if (get_string(doc, "layer", TOP, &pv->layer, err) < 0 || get_string(doc, "config", TOP, &pv->config, err) < 0)
                return -1;
        /* every entry takes more than 16 bytes of the (bounded) blob */
        n = json_array_size(entries);
        pv->records = calloc(n ? n : 1, sizeof(*pv->records));
        if (!pv->records)
                return error_oom(err);
        for (size_t i = 0; i < n; i++) {
                pv->n = i + 1;
                if (parse_record(json_array_get(entries, i), i, &pv->records[i], err) < 0)
                        return -1;
        }
        qsort(pv->records, pv->n, sizeof(*pv->records), record_cmp);
        for (size_t i = 1; i < pv->n; i++)
                if (streq(pv->records[i - 1].path, pv->records[i].path))
                        return error_set(err, SMITH_ERR_SOURCE, "provenance: more than one entry for one path");
        *ret = TAKE_PTR(pv);
        return 0;
}

const struct provenance_record *provenance_find(const struct provenance *pv, const char *path) {
        struct provenance_record key = { .path = (char *) path };

        if (!pv || pv->n == 0)
                return NULL;
        return bsearch(&key, pv->records, pv->n, sizeof(*pv->records), record_cmp);
}
