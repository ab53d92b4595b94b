/* Provenance: why each entry of the layer smith built is there, as a JSON
 * blob in the image (media type SMITH_MT_PROVENANCE, an artifact referring
 * to the image beside the spec, see pipeline/build.c), written from the
 * plan's reasons at build time and read back by `smith inspect`.
 *
 * The blob is deterministic (entries in the plan's path order, fixed key
 * order, no timestamps), so rebuilds stay byte-identical:
 *
 *   {"schemaVersion":1,"layer":"sha256:<diff_id>","config":"smith.yaml",
 *    "entries":[{"path":"/usr/bin/cat","type":"file","package":null,
 *                "reason":{"kind":"pattern","pattern":"/usr/bin/c?t","line":3}},...]}
 *
 * "layer" is the diff_id of the layer the entries describe; reason members
 * other than "kind" are left out when unset; "package" is the package the
 * file came from (pkg/dpkg-db.h), null when none.  Read back, the blob comes from an image
 * and is hostile: provenance_parse() bounds its size, every string and the
 * number of entries, and refuses duplicate paths. */
#pragma once

#include <stddef.h>

#include "basic/error.h"
#include "tree/plan.h"

#define PROVENANCE_MAX_SIZE (64U << 20) /* bytes of the blob */
#define PROVENANCE_MAX_STRING 4096      /* bytes in one path, pattern, ... */
#define PROVENANCE_VERSION 1

struct provenance_record {
        char *path;             /* absolute ("/usr/bin/cat") */
        enum plan_type type;    /* as recorded */
        char *package;          /* NULL: no package recorded */
        struct plan_reason why; /* its strings are the record's */
};

struct provenance {
        char *layer;  /* diff_id of the layer described */
        char *config; /* the config file's name ("smith.yaml"), may be NULL */
        size_t n;
        struct provenance_record *records; /* sorted by path, paths unique */
};

/* The blob for plan p, whose layer has layer_diff_id; config_name is the
 * config file's name as patterns' lines are to be shown ("smith.yaml").
 * *ret is NUL-terminated (not counted in *ret_len). */
int provenance_write(struct plan *p, const char *layer_diff_id, const char *config_name, char **ret, size_t *ret_len,
                     struct smith_error **err);

/* Parses a blob (at most PROVENANCE_MAX_SIZE bytes).  Errors are
 * SMITH_ERR_SOURCE and one line; an unknown reason kind (a newer smith)
 * reads as PLAN_REASON_UNKNOWN. */
int provenance_parse(const char *buf, size_t len, struct provenance **ret, struct smith_error **err);
void provenance_free(struct provenance *pv);
DEFINE_POINTER_CLEANUP(struct provenance, provenance_free)

/* The record for an absolute path, or NULL. */
const struct provenance_record *provenance_find(const struct provenance *pv, const char *path);

/* "pattern", "needed", ... as in the blob; "unknown" for anything else. */
const char *plan_reason_kind_name(enum plan_reason_kind kind);
const char *plan_type_name(enum plan_type type);

/* The reason in words: "paths '/usr/bin/c?t' (smith.yaml:3)", "DT_NEEDED
 * libz.so.1 of /usr/bin/x", "symlink on the way to /usr/lib/x", ...;
 * config_name may be NULL ("smith.yaml").  NULL when out of memory. */
char *plan_reason_text(const struct plan_reason *why, const char *config_name);
