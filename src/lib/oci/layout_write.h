/* Writes an OCI image layout packed as one .tar.gz, atomically.
 *
 * The archive holds, in this order: "blobs/" and "blobs/sha256/" (0755),
 * every blob as "blobs/sha256/<hex>" (0644) sorted by digest and written
 * once even if listed twice, "oci-layout" ({"imageLayoutVersion":"1.0.0"})
 * and "index.json" ({"schemaVersion":2,"mediaType":<index>,"manifests":
 * [...]} with the given descriptors in the given order).  Every header has
 * uid/gid 0 and the same mtime, so equal inputs give equal bytes.
 *
 * The output appears whole or not at all: it is an unnamed file in
 * out_path's directory (atomic_file_open()) until it is complete, fsynced
 * and renamed over out_path; on any failure nothing is left and out_path
 * is as it was.  The file gets mode 0644.
 *
 * Ownership: nothing passed in is kept or freed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "oci/image.h"

/* Where a blob's bytes come from, first match wins: in_blobs_dir (the file
 * blobs/sha256/<hex> below dir_fd: a layout or the cache's store), path
 * (opened below dir_fd), data (non-NULL), fd (>= 0; read from offset 0,
 * left at the end), else the empty blob (len 0).  Set fd to -1 when unused:
 * 0 is an fd. */
struct layout_blob {
        struct oci_descriptor desc; /* digest and size are what gets checked/named */
        bool in_blobs_dir;          /* at blobs/sha256/<hex> below dir_fd */
        const char *path;           /* file holding the blob, or NULL */
        int dir_fd;                 /* with in_blobs_dir or path: dir fd they are relative to (AT_FDCWD ok) */
        int fd;                     /* or an open file holding the blob, or -1 */
        const void *data;           /* or the blob in memory ... */
        size_t len;                 /* ... and its length */
};

/* Blobs that are compressed already gain nothing from a second deflate:
 * this keeps the .tar.gz format but stores the bytes (a few hundred bytes
 * more per megabyte, no compression time). */
#define LAYOUT_GZIP_STORED (-2)

struct layout_writer_opts {
        int64_t mtime;  /* for every tar header, 0 by default */
        bool plain;     /* a plain tar, not gzip (`--format oci-tar`) */
        int gzip_level; /* 1..9; 0 or -1 for the default (6), so a zeroed struct is sane;
                         * LAYOUT_GZIP_STORED for stored (uncompressed) gzip blocks */
};

/* A file or fd blob's length must equal desc.size (checked while
 * streaming); an in-memory blob's length must equal desc.size and its
 * sha256 desc.digest.
 * o may be NULL (mtime 0, default gzip level). */
int layout_write_targz(const char *out_path, const struct layout_blob *blobs, size_t n_blobs,
                       const struct oci_descriptor *index_manifests, size_t n_manifests,
                       const struct layout_writer_opts *o, struct smith_error **err);

/* Copies blob b (from wherever it is: memory, a file, an fd, a layout's
 * blobs) to blobs/sha256/<hex> below dfd, a new file. */
int layout_copy_blob(int dfd, const struct layout_blob *b, struct smith_error **err);

/* The same layout as a directory at out_path (`--format oci-dir`): made
 * beside it under a temporary name, then renamed into place (replacing a
 * layout directory there: one with an oci-layout file, nothing else). */
int layout_write_dir(const char *out_path, const struct layout_blob *blobs, size_t n_blobs,
                     const struct oci_descriptor *index_manifests, size_t n_manifests, struct smith_error **err);

/* An index.json entry for an image manifest: its media type (OCI),
 * digest and size, the annotation org.opencontainers.image.ref.name =
 * ref_name (callers may add more to d->annotations) and platform p.  d
 * then owns its annotations and platform: layout_index_entry_release(). */
int layout_index_entry(struct oci_descriptor *d, const char *digest, int64_t size, const char *ref_name,
                       const struct oci_platform *p, struct smith_error **err);
void layout_index_entry_release(struct oci_descriptor *d);
