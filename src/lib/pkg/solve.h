/* Dependency solving with libsolv, for Debian and RPM packages.
 *
 * RPM pools (pkg_pool_new_rpm()) work the same way with rpm's rules:
 * primary.xml indexes, Requires/Provides with rpm's version comparison,
 * file requires from the files primary lists (and filelists, added when
 * a path is required that primary does not list), the architecture given plus
 * noarch; their versions are rpm's EVR ("[epoch:]version-release").
 *
 * One pool (DISTTYPE_DEB, the target architecture plus "all"), one repo per
 * Packages index and one for local .deb files.  What is asked is installed
 * with everything it Depends or Pre-Depends on (alternatives, virtual
 * packages through Provides, version constraints), nothing else: neither
 * Recommends (unless asked) nor the Essential or Priority: required set
 * a full system would hold.  Among candidates libsolv takes the newest
 * version, whichever index it comes from.
 *
 * The indexes were verified before they were added (apt-repo.h); what they
 * say is still checked where it becomes a URL: a Filename that is absolute,
 * has a ".." component or odd characters is refused.
 *
 * Errors are SMITH_ERR_SOURCE, one line: an unknown package, or libsolv's
 * problem text ("nothing provides libfoo needed by bar-1.0.amd64"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/hash.h"

struct pkg_pool;

struct pkg_choice {
        char *name, *version, *arch, *source; /* source: the source package's name */
        char *url;                            /* where to fetch it; NULL for a local .deb */
        char *local;                          /* a local .deb: its name as shown to pkg_pool_add_deb(), or NULL */
        char *repo;                           /* the name of the index it comes from ("local" for a file) */
        char digest[DIGEST_STR_LEN + 1];      /* sha256 from the index ("" for a local .deb) */
        uint64_t size;
};

int pkg_pool_new(const char *arch, struct pkg_pool **ret, struct smith_error **err);
/* The same with DISTTYPE_RPM: arch is rpm's name ("x86_64"), noarch too. */
int pkg_pool_new_rpm(const char *arch, struct pkg_pool **ret, struct smith_error **err);
void pkg_pool_free(struct pkg_pool *p);
DEFINE_POINTER_CLEANUP(struct pkg_pool, pkg_pool_free)

/* Adds a Packages index read from fd (borrowed, read from its current
 * offset); hint is a file name telling its compression ("Packages.xz"),
 * base_uri what its Filenames are relative to.  At most max bytes are
 * read decompressed (index-read.h: the size its Release lists, or
 * measured): more is an error, and an index of INDEX_PROGRESS_MIN or more
 * shows its progress on a TTY. */
int pkg_pool_add_index(struct pkg_pool *p, const char *name, const char *base_uri, int fd, const char *hint,
                       uint64_t max, struct smith_error **err);
/* The same index, saved after pkg_pool_add_index() with pkg_pool_save_index()
 * in libsolv's own format and added back from it: an order of magnitude
 * faster than parsing the Packages text again, and smaller in memory.  The
 * file is the caller's cache, derived from a verified index: a damaged one
 * is an error (the caller then parses the index). */
int pkg_pool_save_index(struct pkg_pool *p, const char *name, int out_fd, struct smith_error **err);
/* Gives back what only solving uses (libsolv's what-provides index, rebuilt
 * by the next solve): for a pool kept to save its indexes from. */
void pkg_pool_trim(struct pkg_pool *p);
int pkg_pool_add_saved_index(struct pkg_pool *p, const char *name, const char *base_uri, int fd,
                             struct smith_error **err);

/* Adds a local .deb, always installed, by its control file's text
 * (deb_read_control()); shown names it in messages and pkg_choice.local. */
int pkg_pool_add_deb(struct pkg_pool *p, const char *control, size_t len, const char *shown, struct smith_error **err);

/* RPM pools: a primary.xml read from fd (borrowed, any compression the
 * hint's suffix names: .gz, .xz, .zst), its locations relative to
 * base_uri; and a local .rpm read whole from fd (borrowed), always
 * installed, shown naming it in messages and pkg_choice.local. */
int pkg_pool_add_rpmmd(struct pkg_pool *p, const char *name, const char *base_uri, int fd, const char *hint,
                       uint64_t max, struct smith_error **err);
int pkg_pool_add_rpm(struct pkg_pool *p, int fd, const char *shown, struct smith_error **err);

/* True when the last pkg_solve() failed because a dependency on a path
 * (Requires: /usr/share/x) of a package it needed is provided by nothing in
 * the pool: primary lists only some files (those in bin directories and
 * /etc), the rest only its filelists.  A path some package of the pool
 * that the solve does not need requires is no reason. */
bool pkg_pool_solve_lacked_path(const struct pkg_pool *p);
/* Adds the files of a filelists.xml read from fd (borrowed; compressed as
 * the hint's suffix says) to the packages of the rpm-md index name. */
int pkg_pool_add_rpmmd_filelists(struct pkg_pool *p, const char *name, int fd, const char *hint, uint64_t max,
                                 struct smith_error **err);

/* Solves for names (repository package names, may be NULL) plus every local
 * .deb added; returns the packages to unpack, sorted by name. */
int pkg_solve(struct pkg_pool *p, char *const *names, bool recommends, struct pkg_choice **ret, size_t *ret_n,
              struct smith_error **err);
void pkg_choices_free(struct pkg_choice *c, size_t n);
/* Whether a package of that name is in the pool (by name, not Provides). */
bool pkg_pool_has(struct pkg_pool *p, const char *name);

/* "name-[epoch:]version-release.arch", rpm's NEVRA. */
char *pkg_choice_nevra(const struct pkg_choice *c);
/* "name_version_arch" as dpkg names package files (the epoch left out). */
char *pkg_choice_file_name(const struct pkg_choice *c);
