/* What the files of oci/ that read layouts share, and nothing outside
 * oci/ includes: the media type lists, descriptor and JSON parsing with
 * their messages, and the tarball importer (layout_import.c) that
 * layout_read.c opens tarballs with. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

struct cache;
struct layer_stage;
struct unpack_limits;

extern const char *const oci_manifest_types[]; /* NULL-terminated */
extern const char *const oci_index_types[];
bool oci_in_list(const char *const *l, const char *s);

/* A descriptor from a hostile document, checked: its strings borrowed. */
struct oci_desc {
        const char *media_type; /* may be NULL */
        const char *digest;     /* valid */
        int64_t size;           /* >= 0 */
        json_t *annotations;    /* borrowed, may be NULL */
        json_t *platform;       /* borrowed, may be NULL */
};

/* Checks and borrows the descriptor j; what names it in messages. */
int oci_parse_descriptor(json_t *j, const char *what, struct oci_desc *d, struct smith_error **err);
/* Reads the blob d describes below blobs_fd, at most max bytes, whole,
 * and checks its size and digest; what names it in messages. */
int oci_read_blob_verified(int blobs_fd, const char *what, const struct oci_desc *d, size_t max, char **ret,
                           size_t *ret_len, struct smith_error **err);
/* Parses a JSON object (duplicate keys refused); what names it in messages. */
int oci_parse_json(const char *buf, size_t len, const char *what, json_t **ret, struct smith_error **err);

/* Reads a layout tarball once from fd: the blobs its index references into
 * the cache's store (see layout_import.c), index.json into memory; with
 * ret_stage, the first compressed blob is unpacked on the way too.
 * Returns 0, -1 with err, or OCI_IMPORT_NO_INDEX (err set too) for an
 * archive without index.json (a docker-archive, perhaps). */
#define OCI_IMPORT_NO_INDEX (-2)
int oci_import_tarball(struct cache *cache, int fd, const struct unpack_limits *limits, char **ret_index,
                       size_t *ret_len, struct layer_stage **ret_stage, struct smith_error **err);
