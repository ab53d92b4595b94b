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
