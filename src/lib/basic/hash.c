/* SHA-256 (and SHA-1) through OpenSSL's EVP API; see hash.h. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

struct sha256 {
        EVP_MD_CTX *ctx;
};

struct sha256 *sha256_new(void) {
        struct sha256 *h = calloc(1, sizeof(*h));
        if (!h)
                return NULL;
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
                sha256_free(h);
                return NULL;
        }
        return h;
}

void sha256_update(struct sha256 *h, const void *data, size_t len) {
        if (len > 0)
                EVP_DigestUpdate(h->ctx, data, len);
}

void sha256_final_digest(struct sha256 *h, char out[static DIGEST_STR_LEN + 1]) {
        static const char hex[] = "0123456789abcdef";
        unsigned char md[32];
        unsigned int n = 0;

        EVP_DigestFinal_ex(h->ctx, md, &n);
        memcpy(out, "sha256:", 7);
        for (unsigned i = 0; i < 32; i++) {
                out[7 + 2 * i] = hex[md[i] >> 4];
                out[7 + 2 * i + 1] = hex[md[i] & 15];
        }
        out[DIGEST_STR_LEN] = '\0';
}

void sha256_free(struct sha256 *h) {
        if (!h)
                return;
        EVP_MD_CTX_free(h->ctx);
        free(h);
}

void sha256_digest_of(const void *data, size_t len, char out[static DIGEST_STR_LEN + 1]) {
        struct sha256 *h = sha256_new();
        if (!h) {
                out[0] = '\0';
                return;
        }
        sha256_update(h, data, len);
        sha256_final_digest(h, out);
        sha256_free(h);
}

bool digest_is_valid(const char *s) {
        if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s) != DIGEST_STR_LEN)
                return false;
        for (const char *p = s + 7; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

const char *blob_path(const char *digest, char out[static BLOB_PATH_LEN + 1]) {
        snprintf(out, BLOB_PATH_LEN + 1, "blobs/sha256/%s", digest_hex(digest));
        return out;
}

/* --- SHA-1, for the checksum SPDX requires of every file --- */

struct sha1 {
        EVP_MD_CTX *ctx;
};

struct sha1 *sha1_new(void) {
        struct sha1 *h = calloc(1, sizeof(*h));
        if (!h)
                return NULL;
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha1(), NULL) != 1) {
                sha1_free(h);
                return NULL;
        }
        return h;
}

void sha1_update(struct sha1 *h, const void *data, size_t len) {
        if (len > 0)
                EVP_DigestUpdate(h->ctx, data, len);
}

void sha1_final_hex(struct sha1 *h, char out[static SHA1_HEX_LEN + 1]) {
        static const char hex[] = "0123456789abcdef";
        unsigned char md[20];
        unsigned int n = 0;

        EVP_DigestFinal_ex(h->ctx, md, &n);
        for (unsigned i = 0; i < 20; i++) {
                out[2 * i] = hex[md[i] >> 4];
                out[2 * i + 1] = hex[md[i] & 15];
        }
        out[SHA1_HEX_LEN] = '\0';
}

void sha1_free(struct sha1 *h) {
        if (!h)
                return;
        EVP_MD_CTX_free(h->ctx);
        free(h);
}
