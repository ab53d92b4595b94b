/* A repository index on its way to libsolv, bounded: a signed, honest
 * Packages.xz of a few KiB may inflate to 4 GiB, and libsolv reads about
 * 9 MB a second, so an index is never read past a bound (what its
 * Release lists uncompressed, else its size measured first, at
 * decompression speed, against --max-index), and a large one shows its
 * progress on a TTY while it loads.
 *
 * Nothing here prints but the progress line; errors are the caller's to
 * word (the return codes say what happened). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define INDEX_PROGRESS_MIN (16ULL << 20) /* smaller indexes load without a progress line */

/* The decompressed size of fd's content (compressed as hint's suffix says),
 * read from a duplicate of fd, which is left at offset 0.  Returns 0,
 * -EFBIG when it is larger than max (reading stops there), -EINVAL when it
 * cannot be decompressed, -ENOMEM. */
int index_measure(int fd, const char *hint, uint64_t max, uint64_t *ret);

/* A progress line for one index of total bytes (decompressed), shown on a
 * TTY when total >= INDEX_PROGRESS_MIN and at most four times a second. */
struct index_progress {
        const char *label;
        uint64_t total, done;
        int64_t last_ms;
        bool on, printed;
};
void index_progress_init(struct index_progress *p, const char *label, uint64_t total);
void index_progress_add(struct index_progress *p, uint64_t n);
void index_progress_end(struct index_progress *p);

/* A stream of fd's decompressed content (fd taken: closed with the
 * stream) that fails once more than max bytes came through (*too_large
 * set then) and moves p along. */
FILE *index_open_bounded(int fd, const char *hint, uint64_t max, struct index_progress *p, bool *too_large);
