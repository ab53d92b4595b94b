/* Deterministic tar writer: libarchive's pax-restricted format streamed
 * into a blob_writer.
 *
 * Headers carry only name, type, mode (permission bits), uid, gid, size,
 * mtime and link name: no uname/gname, atime, ctime, xattrs or device
 * numbers, so the same calls give the same bytes on any machine and in
 * any locale.  Entries are plain ustar unless a field does not fit (a long
 * path or link target, a non-ASCII name, a large id or size), and only then
 * get a pax extended header ("<dir>/PaxHeader/<name>", no pid in it); a
 * name that is not UTF-8 is kept byte for byte with "hdrcharset=BINARY".
 * There is no blocking beyond tar's 512-byte records: the archive ends
 * with two zero records, as Go's archive/tar (docker, containerd, umoci)
 * writes it.
 *
 * Paths are relative and safe ("usr/bin/cat": no leading "/", no ".."
 * component); directories get a trailing "/" in the header.  The caller
 * decides the order of entries.
 *
 * Ownership: the tar writer borrows the blob_writer; free the tar writer
 * first.  The first failure is sticky: later calls fail, so does finish.
 * tar_writer_free() without a successful finish writes nothing more. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "basic/hash.h"
#include "layer/blob.h"

struct tar_writer;

int tar_writer_new(struct blob_writer *out, struct tar_writer **ret, struct smith_error **err);

struct tar_entry_meta {
        uid_t uid;
        gid_t gid;
        mode_t perm; /* permission bits only (07777); the type comes from the call */
        int64_t mtime;
        struct sha256 *hash; /* files: updated with their bytes as they are written, or NULL */
        struct sha1 *sha1;   /* the same, for SPDX, or NULL */
};

int tar_writer_add_dir(struct tar_writer *t, const char *path, const struct tar_entry_meta *m,
                       struct smith_error **err);
/* Streams size bytes from fd (read from its current offset); fails if fd
 * yields more or fewer bytes than size. */
int tar_writer_add_file_fd(struct tar_writer *t, const char *path, int fd, int64_t size, const struct tar_entry_meta *m,
                           struct smith_error **err);
int tar_writer_add_data(struct tar_writer *t, const char *path, const void *data, size_t len,
                        const struct tar_entry_meta *m, struct smith_error **err);
int tar_writer_add_symlink(struct tar_writer *t, const char *path, const char *target, const struct tar_entry_meta *m,
                           struct smith_error **err);
/* target_path is another entry's path in this archive, written earlier. */
int tar_writer_add_hardlink(struct tar_writer *t, const char *path, const char *target_path,
                            const struct tar_entry_meta *m, struct smith_error **err);
/* Writes the end-of-archive records.  Does not finish the blob_writer. */
int tar_writer_finish(struct tar_writer *t, struct smith_error **err);
void tar_writer_free(struct tar_writer *t);
DEFINE_POINTER_CLEANUP(struct tar_writer, tar_writer_free)
