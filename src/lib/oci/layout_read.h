/* Reading an image out of an OCI image layout: a directory, or a tarball of
 * one (plain, gzip or zstd).
 *
 * Everything in the layout is hostile.  Blob names are checked with
 * digest_is_valid() before they are used in a path; index.json, manifests
 * and configs are bounded (4 MiB) and verified against their descriptors;
 * a tarball's blobs are hashed while they are copied into the cache's blob
 * store and kept only if they match their names and its index references
 * them (layout_read.c, "tarballs", says how in one pass).  A directory
 * layout is used in place: the manifest and config are verified when
 * opened, and layers are verified by whoever reads them (layer_unpack()
 * does).
 *
 * A tarball is read once: its identity (device, inode, size, mtime, ctime)
 * and the tag are remembered in the cache's refs/, so reopening it unchanged
 * only re-reads the (verified) manifest and config from the blob store. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/hash.h"
#include "layer/unpack.h"

struct cache;
struct layer_stage;
struct unpack_limits;

#define OCI_LAYOUT_MAX_JSON (4U << 20) /* index.json, manifests, configs */

/* Owns everything it points to; oci_image_free() accepts NULL. */
struct oci_image {
        char manifest_digest[DIGEST_STR_LEN + 1];
        int64_t manifest_size;
        char *manifest_media_type;
        char config_digest[DIGEST_STR_LEN + 1];
        int64_t config_size;
        json_t *manifest, *config; /* parsed documents */
        size_t n_layers;
        struct layer_ref *layers; /* lowest first; n_layers == config rootfs.diff_ids count */
        int blobs_fd;             /* dir containing blobs/sha256/<hex> for every blob of this image */
        json_t *annotations;      /* of the index entry that was chosen, may be NULL */
        json_t *index;            /* the layout's index.json (verified), NULL for an image from a store */
        char *source;             /* the layout's path as given, for messages */
        bool from_cache;          /* a tarball reopened through refs/ without reading it */
        bool blobs_in_store;      /* blobs_fd is the cache's store of verified blobs (a tarball) */
};

/* ref is "path[:tag]": path a .tar/.tar.gz/.tgz/.tar.zst file (compression by
 * magic) or a directory holding an OCI layout; tag picks the index entry
 * whose org.opencontainers.image.ref.name equals it (default "latest"; with
 * no tag given, no entry named latest and exactly one image in the index,
 * that one).  The tag is split at the last ':' only if no '/' follows it.
 * Relative paths are relative to base_dirfd (AT_FDCWD ok).  An entry that is
 * an index (manifest list) is followed one level to the linux image of the
 * host's architecture; an index inside it is not followed (an error that
 * names both indexes).  A tarball's import keeps within limits (NULL: the
 * defaults; see layer/reader.h).  Errors are SMITH_ERR_SOURCE and name the
 * file: "'base.tar.gz': no image named 'v2' in index.json". */
int oci_image_open_layout(struct cache *cache, int base_dirfd, const char *ref, const struct unpack_limits *limits,
                          struct oci_image **ret, struct smith_error **err);
/* The same for the platform want (NULL: this host's) when the entry is an
 * index, and when a tarball is read now, its first compressed blob is
 * also unpacked on the way (layer/stage.h), within limits: *ret_stage is
 * that stage or NULL, the caller's to hand to oci_image_root() and free.
 * The image itself holds no running work. */
struct oci_platform;
int oci_image_open_layout_staged(struct cache *cache, int base_dirfd, const char *ref, const struct oci_platform *want,
                                 const struct unpack_limits *limits, struct oci_image **ret,
                                 struct layer_stage **ret_stage, struct smith_error **err);
void oci_image_free(struct oci_image *img);
DEFINE_POINTER_CLEANUP(struct oci_image, oci_image_free)

/* The image whose manifest (media_type, digest, size: an OCI or Docker v2
 * image manifest) is already in a verified blob store below blobs_fd (a
 * registry pull puts it there): reads and checks the manifest and config as
 * oci_image_open_layout() does.  source names it in messages. */
int oci_image_from_store(int blobs_fd, const char *media_type, const char *digest, int64_t size, const char *source,
                         struct oci_image **ret, struct smith_error **err);

/* An O_RDONLY fd of the blob file (a regular file, never through a symlink
 * out of the layout).  For a directory layout its content is NOT verified
 * here: read it through a hash (layer_unpack() checks digest and size). */
int oci_image_open_blob(const struct oci_image *img, const char *digest, int *ret_fd, struct smith_error **err);

/* --- the unpacked root (root.c) --- */

struct unpack_opts;
/* The image's layers unpacked once into the cache, keyed by its manifest
 * digest (layer_root_open()); stage (may be NULL) is a layer unpacked while
 * the tarball was imported, used when it matches. */
int oci_image_root(struct cache *cache, const struct oci_image *img, struct layer_stage *stage,
                   const struct unpack_opts *o, int *ret_root_fd, char **ret_root_path, struct smith_error **err);

/* The blob of the first index.json entry with media_type (a blob beside
 * the image, such as smith's spec), read whole and verified against the
 * entry: at most max bytes.  Returns 1 and the blob (NUL-terminated, not
 * counted in *ret_len), or 0 when the index has no such entry (or img did
 * not come from a layout). */
int oci_image_read_index_blob(const struct oci_image *img, const char *media_type, size_t max, char **ret,
                              size_t *ret_len, struct smith_error **err);

/* When the index.json entry img was chosen from is an image index (a
 * multi-platform image): 1 and that index, read whole and verified; 0
 * when the entry is the image's own manifest (or img did not come from a
 * layout). */
int oci_image_platform_index(const struct oci_image *img, char **ret, size_t *ret_len, struct smith_error **err);

/* --- the image's manifest for others (manifest.c) --- */

enum oci_manifest_form {
        OCI_MANIFEST_AS_IS,  /* the image's own bytes, read back and verified */
        OCI_MANIFEST_OCI,    /* the own bytes if they are an OCI manifest, else rebuilt with OCI media types */
        OCI_MANIFEST_DOCKER, /* rebuilt with Docker v2 media types (gzip layers only) */
};

/* The image's manifest in the form asked for: a rebuilt one describes the
 * same config and layer bytes, so it is the same image.  *ret is
 * NUL-terminated; *ret_media_type is static. */
int oci_image_manifest(const struct oci_image *img, enum oci_manifest_form form, char **ret, size_t *ret_len,
                       const char **ret_media_type, struct smith_error **err);

/* The descriptor of the image's config, and of layer i, named the OCI way
 * (Docker media types mapped).  Nothing to free. */
struct oci_descriptor oci_image_config_descriptor(const struct oci_image *img);
struct oci_descriptor oci_image_layer_descriptor(const struct oci_image *img, size_t i);
