/* A layer blob in another compression: decompressed (gzip, zstd or plain,
 * by libarchive's in-process filters), checked against its diff_id, and
 * written again through a blob writer (layer/blob.h).  For the
 * docker-archive's plain layers and for `smith upload --compression`. */
#pragma once

#include "basic/error.h"
#include "layer/blob.h"

/* Reads the blob in in_fd from its start; out_fd gets it compressed with
 * c at level (-1: the default) and *ret its digest, diff_id and size.  A
 * blob that does not decompress to diff_id is SMITH_ERR_SOURCE. */
int layer_recompress(int in_fd, const char *diff_id, enum blob_compression c, int level, int out_fd,
                     struct blob_result *ret, struct smith_error **err);
