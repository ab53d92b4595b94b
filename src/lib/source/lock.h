/* smith.lock: what a build's package source resolved to, so that a later
 * build uses exactly that and resolves nothing.
 *
 * `smith lock` asks the source to resolve (ctx->lock_out): the deb and rpm
 * sources solve against their verified metadata and record every package
 * with its exact version, architecture, URL, sha256 and size, and every
 * index they read by its sha256; the registry source records the manifest
 * digest the reference resolves to for this platform.  A build with a lock
 * (ctx->lock) fetches each of those by its checksum (or takes it from the
 * cache) and never reads metadata or solves.
 *
 * The file is pretty-printed JSON with sorted keys and sorted lists, so it
 * diffs well.  It records a digest of the smith.yaml inputs that decide
 * the resolution (type, package, mock.deps, repos, mock.debuginfo and
 * mock.debugdeps when debuginfo is on, and this machine's
 * architecture): a lock that does not cover smith.yaml is an error asking
 * for `smith lock`.
 *
 * With mock.debuginfo the lock also records the debuginfo root: which
 * debuginfo packages a build installs depends on the ELF files it copies,
 * so `smith lock` runs the selection, pins the whole solution installed in
 * that root ("for": "debuginfo", a package of the build's root listed a
 * second time when the debuginfo root has it too) and the packages whose
 * debuginfo was looked for (debuginfo_of); a locked build whose selection
 * names other packages is an error asking for `smith lock --update`.
 *
 * When read back the lock is outside input: bounded (LOCK_MAX_FILE bytes,
 * LOCK_MAX_ITEMS packages, LOCK_MAX_REPOS indexes), every key known, every field checked for its
 * form (names, versions, architectures, sha256 hex, URLs).  Where each URL
 * may point is checked by the source against the repositories smith.yaml
 * (or the machine) names: lock_url_inside().  Errors are SMITH_ERR_CONFIG
 * and name the file and the field, never echoing what failed the check.
 *
 * Ownership: a smith_lock owns all its strings. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/hash.h"
#include "config/config.h"

#define LOCK_VERSION 1
#define LOCK_MAX_FILE (16u << 20) /* bytes of smith.lock */
#define LOCK_MAX_ITEMS 100000     /* packages */
#define LOCK_MAX_REPOS 1024       /* repository indexes (each package names one: kept small) */
#define LOCK_MAX_STRING 4096      /* bytes in one string (URLs) */

struct lock_package {
        char *name, *version, *arch, *source; /* source: the source package's name */
        char *url;                            /* where it is fetched; NULL for a local file */
        char *local;                          /* a local package file as smith.yaml names it, or NULL */
        char *repo;                           /* the index it came from (a lock_repo's name), NULL for local */
        char digest[DIGEST_STR_LEN + 1];
        uint64_t size;
        bool os_release; /* "for": "os-release": fetched only for the image's os-release (deb's base-files) */
        bool debuginfo;  /* "for": "debuginfo": installed in the mock.debuginfo root (and only there) */
};

/* One repository index the resolution read, by its checksum. */
struct lock_repo {
        char *name; /* "URI suite component" (apt) or the repository id (rpm-md) */
        char *uri;  /* what its packages' URLs are relative to, without a trailing '/' */
        char index[DIGEST_STR_LEN + 1];
};

struct lock_image {
        char *reference;  /* as smith.yaml's package shows it ("http://host/repo:tag"), NULL: no image */
        char *media_type; /* the platform's image manifest: OCI or Docker schema 2 */
        char digest[DIGEST_STR_LEN + 1];
        int64_t size;
};

struct smith_lock {
        char *path;                      /* the file it was read from, for messages (lock_load(); else "smith.lock") */
        char inputs[DIGEST_STR_LEN + 1]; /* lock_inputs_digest() of the smith.yaml it was made from */
        char *source;                    /* the backend's kind: "deb", "rpm", "oci", "dir"; "none" */
        struct lock_repo *repos;         /* sorted by name */
        size_t n_repos;
        struct lock_package *pkgs; /* sorted by name, then architecture */
        size_t n_pkgs;
        struct lock_image image;
        /* mock.debuginfo: the packages whose ELF files the selection copied
         * (sorted), whose debuginfo packages are the "for": "debuginfo"
         * ones; NULL when the lock did not run the selection
         * ("debuginfo-of" absent), else a strv, possibly empty */
        char **debuginfo_of;
};

struct smith_lock *lock_new(void);
void lock_free(struct smith_lock *l);
DEFINE_POINTER_CLEANUP(struct smith_lock, lock_free)

/* Appends a copy of p (or r); the lists are sorted by lock_to_json(). */
int lock_add_package(struct smith_lock *l, const struct lock_package *p, struct smith_error **err);
int lock_add_repo(struct smith_lock *l, const char *name, const char *uri, const char *index, struct smith_error **err);
/* Sets l->debuginfo_of to a sorted copy of of (NULL: an empty list). */
int lock_set_debuginfo_of(struct smith_lock *l, char *const *of, struct smith_error **err);

/* sha256 of what in c decides the resolution, for host_arch (with
 * mock.debuginfo on, mock.debuginfo and mock.debugdeps too; off, the
 * digest is the one locks made before them have). */
int lock_inputs_digest(const struct smith_config *c, const char *host_arch, char ret[static DIGEST_STR_LEN + 1],
                       struct smith_error **err);

/* The file's text: pretty JSON, keys and lists sorted, a final newline. */
int lock_to_json(struct smith_lock *l, char **ret, struct smith_error **err);

/* Parses and checks the form of len bytes; name is what messages call the
 * file. */
int lock_parse(const char *name, const char *data, size_t len, struct smith_lock **ret, struct smith_error **err);

/* Reads path (relative to dirfd) when it exists: 0 and *ret NULL when it
 * does not, else parsed, and checked to cover c (its inputs digest). */
int lock_load(int dirfd, const char *path, const struct smith_config *c, const char *host_arch, struct smith_lock **ret,
              struct smith_error **err);

/* The lock file's name for the config file conf: its .yaml or .yml suffix
 * replaced by .lock ("smith.yaml" -> "smith.lock"), else ".lock" added. */
char *lock_path_for(const char *conf);
/* The lock of one platform of a multi-platform smith.yaml: the platform
 * ("linux/arm64/v8") in the name, '/' as '-' ("smith.linux-arm64-v8.lock");
 * platform NULL is lock_path_for(). */
char *lock_path_for_platform(const char *conf, const char *platform);

/* True when url lies below base (a repository URI, no trailing '/'): it
 * starts with base and '/', and the rest is a relative path without '.'
 * or '..' components, empty components or characters outside
 * [A-Za-z0-9._~+%-] and '/'. */
bool lock_url_inside(const char *url, const char *base);
