/* The path -> package index of a package database (dpkg-db.c, rpm-db.c):
 * every path the packages list, in its merged-/usr form (usr-merge.h), in
 * one array sorted by path, so that the package of a file is one bsearch.
 * Packages are indexes into the database's own array, which the index
 * neither knows nor owns.  Paths are listed by hostile databases: each is
 * normalised (a ".." is skipped, not followed) and the count is bounded.
 *
 * Ownership: the index owns its entries' strings (path_index_done()). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "basic/error.h"
#include "pkg/usr-merge.h"
#include "tree/plan.h"

struct path_index_entry {
        char *path; /* relative, in its /usr form */
        size_t pkg;
};

struct path_index {
        struct usr_merge usr; /* the root's aliases: set before the first add */
        struct path_index_entry *v;
        size_t n, cap;
        size_t max; /* entries allowed; 0 is no bound */
};

void path_index_done(struct path_index *ix);

/* Adds listed (absolute or relative, as a database lists it) for package
 * pkg.  A path that is empty or climbs out of the root is skipped.
 * Returns 0, -E2BIG past ix->max, or -ENOMEM. */
int path_index_add(struct path_index *ix, const char *listed, size_t pkg);

/* Sorts by path, then package.  With unique, a path several packages list
 * (directories, mostly) keeps the lowest package: the answer then does not
 * depend on the order the database was read in. */
void path_index_sort(struct path_index *ix, bool unique);

/* The package of path (relative, in either form) in a sorted index, or -1. */
ssize_t path_index_owner(const struct path_index *ix, const char *path);

/* A sorted index holds usr_path (in its /usr form) for package pkg. */
bool path_index_contains(const struct path_index *ix, const char *usr_path, size_t pkg);

/* Records on every file and symlink the plan took from the source that no
 * package claims yet the package the index names for it, as key(pkg)
 * spells it.  The merged-/usr links are the root's layout and stay
 * unclaimed.  Returns the number of entries attributed. */
int path_index_attribute(const struct path_index *ix, struct plan *p, const char *(*key)(size_t pkg, const void *ud),
                         const void *ud, struct smith_error **err);
