/* SHA-256 (and SHA-1) over streams, with OpenSSL's EVP interface, and helpers for
 * OCI digest strings ("sha256:<64 hex>"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define SHA256_HEX_LEN 64
#define DIGEST_STR_LEN (7 + SHA256_HEX_LEN) /* "sha256:" + hex */

struct sha256;
struct sha256 *sha256_new(void);
void sha256_update(struct sha256 *h, const void *data, size_t len);
/* Writes "sha256:<hex>" and a NUL into out (DIGEST_STR_LEN + 1 bytes). */
void sha256_final_digest(struct sha256 *h, char out[static DIGEST_STR_LEN + 1]);
void sha256_free(struct sha256 *h);
static inline void sha256_freep(struct sha256 **h) {
        sha256_free(*h);
}

/* Digest of a whole buffer. */
void sha256_digest_of(const void *data, size_t len, char out[static DIGEST_STR_LEN + 1]);

/* SHA-1, only where a format demands it (SPDX's file checksums): never
 * for naming or verifying anything. */
#define SHA1_HEX_LEN 40
struct sha1;
struct sha1 *sha1_new(void);
void sha1_update(struct sha1 *h, const void *data, size_t len);
void sha1_final_hex(struct sha1 *h, char out[static SHA1_HEX_LEN + 1]);
void sha1_free(struct sha1 *h);
static inline void sha1_freep(struct sha1 **h) {
        sha1_free(*h);
}

/* True if s is exactly "sha256:" followed by 64 lowercase hex digits: the
 * only form we accept from untrusted input, so it is safe in a path. */
bool digest_is_valid(const char *s);
/* "blobs/sha256/<hex>": where a content-addressed blob lives, in an OCI
 * image layout and in the cache's store alike.  digest must be valid. */
#define BLOB_PATH_LEN (sizeof("blobs/sha256/") - 1 + SHA256_HEX_LEN)
const char *blob_path(const char *digest, char out[static BLOB_PATH_LEN + 1]);

/* The hex part of a valid digest. */
static inline const char *digest_hex(const char *digest) {
        return digest + 7;
}
