/* Debian package payloads: a .deb is an ar archive holding debian-binary,
 * control.tar.* and data.tar.*; the data tar is applied to a root exactly as
 * a hostile image layer is (layer_unpack_archive(): every name resolved
 * inside the root, links never followed out, limits on sizes), and nothing
 * of the package is run: no maintainer scripts, no triggers.
 *
 * The data member is decompressed in-process by libarchive's filter for
 * its name (xz, gzip, zstd, bzip2, lzma, or none) and read by the tar
 * format only; more uncompressed bytes than the caller's limit (a
 * decompression bomb) is an error.  Errors are SMITH_ERR_SOURCE naming the
 * entry; the caller adds which package. */
#pragma once

#include <stdint.h>

#include "basic/error.h"

struct unpack_limits;

/* What deb_merged_usr() lays down, part of the key of a cached root. */
#define DEB_MERGED_USR_VERSION "merged-usr 1: bin sbin lib lib64 -> usr/"

/* The merged-/usr layout Debian 12's debootstrap creates before unpacking:
 * usr/{bin,sbin,lib,lib64} and the links bin, sbin, lib, lib64 to them, so
 * that ./bin/cat lands in /usr/bin/cat (the links survive a package's own
 * ./bin/ directory entry, as with dpkg). */
int deb_merged_usr(int root_fd, struct smith_error **err);

/* Unpacks the .deb read from fd (at offset 0) into root_fd, at most
 * max_uncompressed bytes of data tar.  *ret_paths (may be NULL) gets the
 * paths written, as resolved in the root ("/usr/bin/cat"), a strv. */
int deb_unpack(int root_fd, int fd, uint64_t max_uncompressed, const struct unpack_limits *limits, uint64_t *used,
               char ***ret_paths, struct smith_error **err);

/* Decompressing ahead, so that unpacking (files created, one package at a
 * time) and decompressing (the next packages) can overlap.
 * deb_data_decompress() writes the data tar of the .deb in fd (at offset
 * 0), decompressed, to out_fd: 0, or -1 for anything that is not simply a
 * data tar of at most max_uncompressed bytes (no message: the caller then
 * calls deb_unpack(), which says what is wrong).  deb_unpack_tar() is
 * deb_unpack() with that tar read from tar_fd (from its start) instead of
 * decompressed again: the same checks, limits and errors otherwise. */
int deb_data_decompress(int fd, uint64_t max_uncompressed, int out_fd);
int deb_unpack_tar(int root_fd, int fd, int tar_fd, uint64_t max_uncompressed, const struct unpack_limits *limits,
                   uint64_t *used, char ***ret_paths, struct smith_error **err);

#define DEB_CONTROL_MAX (1 << 20) /* bytes of a control file */

/* The control file of the .deb read from fd (at offset 0): a Packages
 * stanza, NUL-terminated. */
int deb_read_control(int fd, char **ret, size_t *ret_len, struct smith_error **err);

/* The limit deb_unpack() callers use for a package of size bytes: 100
 * times its size, and at least 256 MiB. */
uint64_t deb_max_uncompressed(uint64_t size);
