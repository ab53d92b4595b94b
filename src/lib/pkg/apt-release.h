/* A repository's Release text (the verified content of InRelease): the
 * fields smith uses and the SHA256 table that every index fetched from the
 * repository is checked against before it is used.
 *
 * The text is hostile until its signature checked out, and even then its
 * paths are only ever looked up, never used as file names.  Errors are
 * SMITH_ERR_SOURCE, one line; the caller adds which repository.
 * Ownership: an apt_release owns everything in it (apt_release_release()). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "basic/error.h"
#include "basic/hash.h"

struct apt_release_file {
        char *path; /* "main/binary-amd64/Packages.xz" */
        uint64_t size;
        char sha256[SHA256_HEX_LEN + 1]; /* lowercase hex */
};

struct apt_release {
        char *origin, *label, *suite, *codename; /* NULL when absent */
        time_t date, valid_until;                /* 0 when absent */
        bool acquire_by_hash;
        char **components, **archs;     /* strv, NULL when absent */
        struct apt_release_file *files; /* sorted by path */
        size_t n_files;
};

#define APT_RELEASE_MAX_SIZE (64u << 20) /* bytes of Release text */
#define APT_RELEASE_MAX_FILES 1000000

int apt_release_parse(const char *text, size_t len, struct apt_release *ret, struct smith_error **err);
void apt_release_release(struct apt_release *r);

/* The SHA256 entry for path, or NULL. */
const struct apt_release_file *apt_release_find(const struct apt_release *r, const char *path);

/* An RFC 2822 date as Release files write it ("Sat, 10 Jun 2023 08:58:02
 * UTC", "+0000" too).  Returns 0 or -EINVAL. */
int apt_release_parse_date(const char *s, time_t *ret);
