/* The dpkg database of a source root, read so that the files a build ships
 * can be told apart by package, and written back into the image for the
 * packages that shipped something, so scanners and dpkg see them.
 *
 * Read (all through root_read_file(), inside the root, bounded): the
 * stanzas of /var/lib/dpkg/status ("Status: install ok installed" only),
 * or distroless' /var/lib/dpkg/status.d/<pkg> (one stanza a file), and
 * each installed package's file list, /var/lib/dpkg/info/<pkg>[:<arch>].list
 * (status.d: the paths of status.d/<pkg>.md5sums).  Everything read is
 * hostile: package names and architectures must be dpkg's characters (they
 * name files), and sizes and counts are bounded below.
 *
 * Merged /usr: a root whose top-level bin, sbin, lib, lib32, lib64 or
 * libx32 is a symlink to usr/<same name> ships /bin/cat (as coreutils lists
 * it) as /usr/bin/cat.  Paths are compared in their /usr form, both those
 * listed and those in the plan, so either spelling finds its package.
 *
 * Ownership: a struct dpkg_db owns every string in it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"
#include "tree/plan.h"

#define DPKG_STATUS_MAX (64U << 20) /* bytes of status (and of one status.d file) */
#define DPKG_LIST_MAX (64U << 20)   /* bytes of one .list or .md5sums */
#define DPKG_MAX_PACKAGES 100000    /* installed packages */
#define DPKG_MAX_PATHS 10000000     /* listed paths, all packages together */
#define DPKG_OS_RELEASE_MAX (64U << 10)

struct dpkg_package {
        char *name;           /* "libc6" */
        char *arch;           /* "amd64", "all"; NULL when the stanza has none */
        char *version;        /* NULL when the stanza has none */
        char *source;         /* the Source: field's package, or the name itself */
        char *source_version; /* the Source: field's "(version)", or the version */
        char *info_name;      /* its files' name in info/: "coreutils" or "libc6:amd64" */
        char *stanza;         /* as in the status file, with "Status: install ok installed", ending in "\n" */
        bool from_status_d;   /* distroless: status.d/<name> */
};

struct dpkg_db;

/* The installed stanzas of a status file (status_d: one status.d file,
 * where a missing Status: field means installed).  Stanzas whose name or
 * architecture is not dpkg's, or that repeat a name and architecture, are
 * left out.  *ret (sorted by info_name) and its strings are the caller's:
 * dpkg_packages_free(). */
int dpkg_status_parse(const char *buf, size_t len, bool status_d, struct dpkg_package **ret, size_t *ret_n,
                      struct smith_error **err);
void dpkg_packages_free(struct dpkg_package *pkgs, size_t n);
/* qsort order of packages: by info_name, then by stanza. */
int dpkg_package_cmp(const void *a, const void *b);

/* Reads root_fd's database; root_name is for messages.  *ret is NULL when
 * the root has none (no status file and no status.d).  Errors are
 * SMITH_ERR_SOURCE. */
int dpkg_db_load(int root_fd, const char *root_name, struct dpkg_db **ret, struct smith_error **err);
void dpkg_db_free(struct dpkg_db *db);
DEFINE_POINTER_CLEANUP(struct dpkg_db, dpkg_db_free)

size_t dpkg_db_size(const struct dpkg_db *db);
const struct dpkg_package *dpkg_db_package(const struct dpkg_db *db, size_t i);
/* By info_name ("libc6:amd64"), or NULL. */
const struct dpkg_package *dpkg_db_find(const struct dpkg_db *db, const char *info_name);
/* The package that lists path (relative, "usr/bin/cat"), or NULL. */
const struct dpkg_package *dpkg_db_owner(const struct dpkg_db *db, const char *path);

/* Records on every file and symlink the plan took from the source
 * (PLAN_FROM_SOURCE) the package that lists it (plan_set_package()).
 * Returns the number of entries attributed. */
int dpkg_db_attribute(const struct dpkg_db *db, struct plan *p, struct smith_error **err);

/* Adds to the plan, as PLAN_FROM_GENERATED with reason "package metadata",
 * for the packages the plan's entries name: /var/lib/dpkg/status (their
 * stanzas), /var/lib/dpkg/info/<info_name>.list and .md5sums (only the
 * paths shipped, as the image names them, sorted); and, when there was at
 * least one, /etc/os-release and /etc/debian_version from the root
 * (resolved inside it) when it has them.  Returns the number of packages. */
int dpkg_db_plan_metadata(const struct dpkg_db *db, int root_fd, struct plan *p, struct smith_error **err);
