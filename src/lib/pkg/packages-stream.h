/* A Debian Packages index on its way into libsolv (pkg/solve.c): the file
 * decompressed by libsolv's solv_xfopen_fd() in a thread ahead of the
 * parser, the fields no build reads dropped on the way, and a note of the
 * name and Size of every stanza, which repo_add_debpackages() does not
 * keep and every download is bounded by.  The index is hostile: the notes
 * are bounded by the stanzas themselves, names and lines are cut at fixed
 * lengths. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct packages_note {
        uint64_t name; /* packages_name_hash() of the Package: no allocation per package */
        uint64_t size; /* UINT64_MAX: no Size field */
};

struct packages_notes {
        struct packages_note *v; /* one per stanza with a Package field, in order */
        size_t n, cap;
};

struct packages_stream;
struct index_progress;

/* The stream of fd (taken: closed in every case), compressed as hint's
 * suffix says: *ret_f is what to hand to libsolv.  It fails once more than
 * max bytes were decompressed, and moves progress (may be NULL) along.
 * -EINVAL when libsolv cannot open it, -ENOMEM. */
int packages_stream_open(int fd, const char *hint, uint64_t max, struct index_progress *progress,
                         struct packages_stream **ret, FILE **ret_f);
/* Closes f and the stream; the notes go to *ret (the caller frees ret->v).
 * false when anything failed on the way (a read or decompression error,
 * memory for the notes, more than max bytes: *ret_too_large, may be
 * NULL). */
bool packages_stream_close(struct packages_stream *s, FILE *f, struct packages_notes *ret, bool *ret_too_large);
/* FNV-1a of a package name, to match the n-th note to the n-th solvable. */
uint64_t packages_name_hash(const char *name);
