/* docker-archive: the tar `docker save` writes and `docker load`,
 * `podman load` and skopeo's docker-archive: transport read (the format is
 * docker's, described in its image spec v1.2): manifest.json naming the
 * config and the layers, the config as <hex>.json, each layer as an
 * uncompressed tar <diff_id hex>/layer.tar, and, when the image has a
 * name, the legacy `repositories` file.  One image, one platform: an index
 * has no place in it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/hash.h"

struct docker_archive_layer {
        int fd;                           /* the layer blob (gzip, zstd or plain tar), read from offset 0 */
        char diff_id[DIGEST_STR_LEN + 1]; /* what it decompresses to: checked */
};

/* Writes the archive to out_path (a temp file renamed into place), every
 * tar header at mtime; repo_tag ("name:tag") may be NULL for an untagged
 * image.  Each layer is decompressed into a temporary file first (its size
 * goes in the tar header), checked against its diff_id. */
int docker_archive_write(const char *out_path, const char *config, size_t config_len,
                         const struct docker_archive_layer *layers, size_t n_layers, const char *repo_tag,
                         int64_t mtime, struct smith_error **err);

/* --- reading one back (smith upload and smith inspect of a docker-archive) --- */

#define DOCKER_ARCHIVE_MAX_LAYERS 1000

/* manifest.json of a docker-archive (its first image): the config's and
 * the layers' names in the archive and the first RepoTags entry (NULL when
 * none).  Names are only ever looked up among the archive's entries. */
int docker_manifest_parse(const char *json, size_t len, char **ret_config, char ***ret_layers, char **ret_tag,
                          struct smith_error **err);

struct cache;
struct unpack_limits;

/* The docker-archive in fd (plain or compressed, by magic; read once,
 * within limits) into the cache's store: each layer it names as the plain
 * tar it is (its digest is then its diff_id, checked against the config's),
 * the config, and an OCI manifest naming them (layers
 * application/vnd.oci.image.layer.v1.tar); *ret_index is an index.json
 * naming that manifest after the first RepoTags tag (else "latest").
 * Errors are SMITH_ERR_SOURCE. */
int docker_archive_import(struct cache *cache, int fd, const struct unpack_limits *limits, char **ret_index,
                          size_t *ret_len, struct smith_error **err);
