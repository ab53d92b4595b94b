/* Parallel gzip: input cut into fixed-size chunks, each compressed by
 * libdeflate on a small pool of threads into its own gzip member, the
 * members written out in order.  The result is one valid multi-member gzip
 * file (RFC 1952 allows it; gzip, Go's compress/gzip, containerd, umoci and
 * skopeo all read it), and deterministic: the same input, chunk size and
 * level give the same bytes whatever the number of threads.
 *
 * Memory is bounded by (threads + 2) chunks in and out.  The sink is called
 * on the caller's thread only, in order.  Errors are sticky: a negative
 * return from the sink, or a failure of the pool, fails every later call. */
#pragma once

#include <stddef.h>

#define PGZIP_CHUNK (1u << 20)

struct pgzip;

typedef int (*pgzip_sink)(void *userdata, const void *data, size_t len);

/* level 0..12 (libdeflate's scale; 6 is zlib's default ratio, faster);
 * threads 0 means one per CPU, at most 4.  Returns 0 or -errno. */
int pgzip_new(int level, unsigned threads, pgzip_sink sink, void *userdata, struct pgzip **ret);
/* Returns 0, a negative errno, or the sink's negative return. */
int pgzip_write(struct pgzip *z, const void *data, size_t len);
/* Compresses what is left (an empty input still gives a valid gzip member)
 * and hands everything to the sink. */
int pgzip_finish(struct pgzip *z);
void pgzip_free(struct pgzip *z);
