/* An apt repository's metadata, verified before anything in it is used:
 *
 *   InRelease  (or, when the repository has none, Release with its
 *              detached Release.gpg, checked by the same rules)
 *              asked for at every build, conditionally (a 304 keeps the
 *              cached copy), checked with gpgv against the source's
 *              keyrings (apt-verify.h; not with trusted=yes), kept in the
 *              cache's pkgs/ once it passed.  When the server cannot be
 *              reached, or with -f, the cached copy is checked again and
 *              used, with a warning naming its age when it stands in
 *              (repo-meta.h).
 *   Release    the signed text: Valid-Until (for what the server says is
 *              current), a Date not in the future (beyond a small skew)
 *              and not older than the cached copy's (no rollback), and
 *              the SHA256 table (apt-release.h).
 *   Packages   per component, the first of Packages.xz, .gz or plain that
 *              the table lists and the server has (by-hash when the
 *              repository offers it), fetched into the blob store with its
 *              size and sha256 checked before it is opened (fetch.h).
 *
 * Ownership: an apt_indexes owns its entries, their strings and fds. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "apt-sources.h"
#include "basic/error.h"
#include "basic/hash.h"

struct cache;
struct http;

struct apt_index {
        char *name;                      /* "URI suite component", for messages */
        char *base_uri;                  /* the source's URI: package Filenames are relative to it */
        char *hint;                      /* "Packages.xz": the compression, for solv_xfopen_fd() */
        int fd;                          /* the verified Packages file, read-only, at offset 0 */
        char digest[DIGEST_STR_LEN + 1]; /* its sha256, as Release gave it */
        uint64_t open_size;              /* its size decompressed, as Release gave it (plain Packages), or 0 */
};

struct apt_indexes {
        struct apt_index *items;
        size_t n;
};

struct apt_repo_opts {
        struct cache *cache;
        struct http *http; /* NULL: file:// sources only */
        const char *arch;  /* dpkg's name of the architecture to fetch */
        bool fast;         /* -f: a cached InRelease is used without asking the server */
        time_t now;
        uint64_t max_index; /* an index listed larger than this decompressed is refused unfetched (0: no limit) */
};

#define APT_INRELEASE_MAX (16u << 20)
#define APT_RELEASE_GPG_MAX (1u << 20) /* bytes of a detached Release.gpg */
/* A Release dated later than now by more than this is "not valid yet"
 * (apt's check, with room for a clock a little behind the server's). */
#define APT_RELEASE_FUTURE_SKEW 300

/* Loads src's indexes into out (appended). */
int apt_repo_load(const struct apt_source *src, const struct apt_repo_opts *o, struct apt_indexes *out,
                  struct smith_error **err);
void apt_indexes_release(struct apt_indexes *x);

/* "3 hours ago", "1 day ago", "0 seconds ago" (for the offline warning). */
void apt_format_age(time_t seconds, char *buf, size_t len);
