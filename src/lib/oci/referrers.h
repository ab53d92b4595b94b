/* OCI 1.1 artifacts that refer to an image (SBOMs, provenance): the
 * documents a registry's referrers answer (or its `sha256-<hex>` tag
 * fallback) lists, and how an image layout keeps them.
 *
 * In a layout, index.json lists the image manifest and, after it, the
 * descriptor of an image index annotated OCI_ANNOTATION_REFERRERS = the
 * image manifest's digest.  That nested index lists the artifact manifests
 * exactly as a referrers answer would (mediaType, digest, size,
 * annotations, artifactType).  Each artifact manifest has the empty config
 * (OCI_MT_EMPTY), its documents as layers and the image manifest as its
 * subject.
 *
 * Everything here is hostile: an index's entries are checked and bounded
 * (OCI_REFERRERS_MAX), an artifact manifest must hash to its descriptor
 * and name the image as its subject, its blobs are bounded in number and
 * size.  Nothing here follows a URL from a document.
 *
 * Ownership: struct oci_referrers owns its artifacts, each its descriptor
 * (a JSON object), manifest bytes and blob list; oci_referrers_release()
 * frees them and accepts a zeroed struct. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/hash.h"
#include "oci/media.h" /* OCI_ANNOTATION_REFERRERS */

struct oci_image;

#define OCI_REFERRERS_MAX 256               /* artifacts of one image */
#define OCI_ARTIFACT_MAX_BLOBS 64           /* config and layers of one artifact */
#define OCI_ARTIFACT_MAX_BLOB (1LL << 30)   /* bytes of one of them */
#define OCI_ARTIFACTS_MAX_BYTES (4LL << 30) /* all blobs of an image's artifacts, pulled */
#define OCI_REFERRERS_INDEX_MAX (1U << 12)  /* entries of an index kept when it is extended */

struct oci_artifact_blob {
        char digest[DIGEST_STR_LEN + 1];
        int64_t size;
};

struct oci_artifact {
        char digest[DIGEST_STR_LEN + 1]; /* of the artifact manifest */
        int64_t size;
        json_t *descriptor; /* {mediaType, digest, size[, annotations], artifactType} */
        char *manifest;     /* its bytes, NUL-terminated (not counted) */
        size_t manifest_len;
        struct oci_artifact_blob *blobs; /* the config, then the layers, each once */
        size_t n_blobs;
};

struct oci_referrers {
        struct oci_artifact *artifacts;
        size_t n;
};

void oci_referrers_release(struct oci_referrers *r);

/* The artifact manifests an index lists (a referrers answer, the tag
 * fallback, a layout's nested index), in its order, each digest once:
 * a new JSON array of descriptors with only the keys above (annotations
 * strings, artifactType a string when given).  Entries that are not image
 * manifests are passed over (indexes as artifacts are not followed).
 * More than OCI_REFERRERS_MAX of them, a manifest larger than OCI_JSON_MAX
 * or a malformed entry is an error of kind, naming what. */
int oci_referrers_index_parse(const char *buf, size_t len, const char *what, enum smith_error_kind kind, json_t **ret,
                              struct smith_error **err);

/* Checks the bytes of the artifact manifest desc (an entry from
 * oci_referrers_index_parse()) describes: its digest and size, schema 2,
 * an OCI manifest, subject the image manifest `subject` (else "artifact
 * 'A' refers to 'B', not to the image 'C'"), its config and layers
 * (OCI_ARTIFACT_MAX_BLOBS, OCI_ARTIFACT_MAX_BLOB), an artifactType (the
 * descriptor's, which must then be the manifest's, or the manifest's).
 * Appends it to r, taking manifest (freed on errors too).  Errors are of
 * kind. */
int oci_referrers_add(struct oci_referrers *r, const json_t *desc, char *manifest, size_t len, const char *subject,
                      enum smith_error_kind kind, struct smith_error **err);

/* True if r lists the artifact manifest digest. */
bool oci_referrers_has(const struct oci_referrers *r, const char *digest);

/* The artifacts the layout img came from keeps for it (the nested index
 * annotated with its manifest digest): every document read and checked
 * (SMITH_ERR_SOURCE).  A layout without one gives none: *ret zeroed. */
int oci_image_referrers(const struct oci_image *img, struct oci_referrers *ret, struct smith_error **err);

/* The nested index of r: {"schemaVersion":2,"mediaType":<index>,
 * "manifests":[descriptors]}, and its index.json entry (media type index,
 * annotated OCI_ANNOTATION_REFERRERS = subject; *ret_entry then owns its
 * annotations: layout_index_entry_release()). */
struct oci_descriptor;
int oci_referrers_index_build(const struct oci_referrers *r, const char *subject, char **ret, size_t *ret_len,
                              struct oci_descriptor *ret_entry, struct smith_error **err);
