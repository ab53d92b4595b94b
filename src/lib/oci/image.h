/* OCI (and Docker schema 2) JSON documents we write: descriptors, image
 * manifests, and the compact, stable serialisation used for everything
 * that gets hashed.
 *
 * Keys come out in a fixed order, that of the image-spec's Go structs
 * (descriptor: mediaType, digest, size, annotations, platform; manifest:
 * schemaVersion, mediaType, config, layers), with no whitespace, so the
 * same inputs always give the same bytes and the same digest.  The image
 * config itself is assembled by the build module and dumped with
 * oci_json_dump(). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/hash.h"
#include "oci/media.h"
#include "oci/platform.h"

#define OCI_ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"

/* Largest JSON document we produce (registries commonly cap manifests at
 * 4 MiB). */
#define OCI_JSON_MAX (4u * 1024u * 1024u)

/* A descriptor as plain data.  The struct owns nothing by itself: whoever
 * fills it keeps media_type, annotations (a JSON object of strings, or
 * NULL) and platform (a JSON object, or NULL) alive; the functions below
 * copy what they use. */
struct oci_descriptor {
        char *media_type;
        char digest[DIGEST_STR_LEN + 1];
        int64_t size;
        json_t *annotations;
        json_t *platform;
        const char *artifact_type; /* OCI 1.1: an artifact manifest's artifactType (static), or NULL */
};

/* A new JSON object for d (deep copies of annotations and platform), or
 * NULL if d is invalid (no media type, bad digest, negative size, non-object
 * annotations/platform, a non-string annotation) or memory ran out. */
json_t *oci_descriptor_to_json(const struct oci_descriptor *d);

/* Docker v2 layer media types named the OCI way (same bytes); everything
 * else as given. */
const char *oci_layer_media_type(const char *media_type);

/* {"schemaVersion":2,"mediaType":...,"config":{...},"layers":[...]}.
 * The layers' media types are used as given.  With docker, the manifest,
 * config and layer media types become Docker's; then every layer must be
 * gzip (Docker schema 2 has no zstd), otherwise an error.  The config
 * media type defaults to OCI_MT_CONFIG when NULL.  *ret_json is
 * NUL-terminated (not counted in *ret_len). */
int oci_manifest_build(const struct oci_descriptor *config, const struct oci_descriptor *layers, size_t n, bool docker,
                       char **ret_json, size_t *ret_len, struct smith_error **err);

/* An OCI 1.1 artifact manifest: schemaVersion, mediaType (OCI_MT_MANIFEST),
 * artifactType, config = the empty descriptor (OCI_MT_EMPTY, the blob
 * "{}"), layers = [blob], subject (the manifest it refers to) and the
 * annotations (strings, sorted; NULL or empty: none).  *ret_json is
 * NUL-terminated. */
int oci_artifact_manifest_build(const char *artifact_type, const struct oci_descriptor *blob,
                                const struct oci_descriptor *subject, const json_t *annotations, char **ret_json,
                                size_t *ret_len, struct smith_error **err);

/* {"schemaVersion":2,"mediaType":OCI_MT_INDEX,"manifests":[...]}, the
 * descriptors in the order given; what names the index in messages. */
int oci_index_build(const struct oci_descriptor *manifests, size_t n, const char *what, char **ret_json,
                    size_t *ret_len, struct smith_error **err);

/* Compact serialisation in insertion order, at most OCI_JSON_MAX bytes.
 * *ret is NUL-terminated (not counted in *ret_len). */
int oci_json_dump(const json_t *j, char **ret, size_t *ret_len, struct smith_error **err);
