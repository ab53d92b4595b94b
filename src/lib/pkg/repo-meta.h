/* A repository's top metadata file (apt's InRelease, rpm-md's repomd.xml),
 * the one thing asked of the server at every build, and its copy in the
 * cache's pkgs/<name>, shared by the deb and rpm sources:
 *
 *   - with a cached copy the request is conditional (If-None-Match and
 *     If-Modified-Since from the validators the server gave with it, kept
 *     in pkgs/<name>.http with the copy's sha256 and the URL, so they are
 *     only ever sent for the copy they belong to); a 304 means the cached
 *     copy is current, nothing is downloaded;
 *   - when the server cannot be reached (a transport error or a 5xx after
 *     the retries, tried only briefly when there is a copy), the cached copy
 *     stands in, with one warning naming the repository and its age;
 *   - with -f (fast) the cached copy is used without asking.
 *
 * Nothing here verifies anything: the caller checks whatever it gets (a
 * cached copy too: it was verified when it was stored, and is checked again
 * at every use) and stores a fetched copy only once it passed
 * (pkg_meta_store()).  Errors as fetch.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "basic/error.h"

struct cache;
struct http;

enum pkg_meta_from {
        PKG_META_FETCHED,      /* a new copy from the server: verify it, then pkg_meta_store() */
        PKG_META_NOT_MODIFIED, /* the server answered 304: data is the cached copy, current */
        PKG_META_CACHED,       /* -f, or the server unreachable: data is the cached copy */
};

struct pkg_meta_request {
        const char *name;  /* pkgs/<name>, a plain file name */
        const char *url;   /* http(s) or file */
        const char *shown; /* the repository, for the warning */
        size_t max;        /* bytes */
        bool fast;         /* -f: a cached copy is used without asking */
        time_t now;
};

struct pkg_meta {
        enum pkg_meta_from from;
        char *data; /* NUL-terminated */
        size_t len;
        char *cached; /* the cached copy (with FETCHED too, for comparisons), or NULL */
        size_t cached_len;
        time_t cached_time;         /* when the cached copy was last known current */
        char *etag, *last_modified; /* a FETCHED answer's validators, or NULL */
};

/* Returns 0 with *ret filled, 1 if the server says the file does not exist
 * (nothing in *ret), or -1 with err. */
int pkg_meta_fetch(struct cache *c, struct http *h, const struct pkg_meta_request *rq, struct pkg_meta *ret,
                   struct smith_error **err);

/* Stores m's data (FETCHED, verified by the caller) as pkgs/<rq->name>,
 * with its validators; nothing to do for the other kinds. */
int pkg_meta_store(struct cache *c, const struct pkg_meta_request *rq, const struct pkg_meta *m,
                   struct smith_error **err);

void pkg_meta_release(struct pkg_meta *m);

/* "3 hours ago", "1 day ago", "0 seconds ago" (for the offline warning). */
void pkg_format_age(time_t seconds, char *buf, size_t len);
