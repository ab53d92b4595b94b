/* Fetching what package repositories serve: small metadata into memory,
 * indexes and packages into the cache's verified blob store.
 *
 * Everything goes through net/http.h, except file:// URLs (local
 * repositories, and the tests), which are read directly with the same
 * bounds and checks.  A blob is hashed and counted while it streams into a
 * tmp/ file of the cache and published (cache_blob_commit()) only when its
 * size and sha256 are the ones the verified metadata named; one already in
 * the store is not fetched again.
 *
 * Errors are SMITH_ERR_SOURCE (a checksum or size that does not match, an
 * HTTP error, the server unreachable) or SMITH_ERR_IO (local trouble); on
 * failure nothing is left in tmp/. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

struct cache;
struct http;
struct http_opts;

/* url (http, https or file) into memory, at most max bytes.  Returns 0
 * with the body (NUL-terminated), 1 if the server says it does not exist
 * (404, 410, a missing file), or -1 with err; *ret_unreachable (may be
 * NULL) then says whether the server could not be reached at all (a
 * transport error or a 5xx after the retries), the case where a cached
 * copy may stand in.  attempts as in http_request (0: the default). */
int pkg_fetch_small(struct http *h, const char *url, size_t max, unsigned attempts, char **ret, size_t *ret_len,
                    bool *ret_unreachable, struct smith_error **err);

/* Makes sure the blob store holds digest ("sha256:<hex>", size bytes),
 * fetching url when it does not.  Returns 0, 1 if the server says url does
 * not exist (nothing stored), or -1 with err (what names the file for
 * messages). */
int pkg_fetch_blob(struct cache *c, struct http *h, const char *url, const char *what, const char *digest,
                   uint64_t size, struct smith_error **err);

struct pkg_fetch_item {
        const char *url, *what, *digest;
        uint64_t size;
};

/* pkg_fetch_blob() for every item, by up to workers threads, each with an
 * HTTP client of its own.  The first error stops the others and is the
 * one returned; a missing file is an error here. */
int pkg_fetch_blobs(struct cache *c, const struct http_opts *ho, const struct pkg_fetch_item *items, size_t n,
                    unsigned workers, struct smith_error **err);

/* The local path of a file: URL ("file:///x", "file:/x"), or NULL when
 * url is not one (the result points into url). */
const char *pkg_file_url_path(const char *url);
