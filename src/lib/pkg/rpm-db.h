/* The rpm database of a source root, read so that the files a build ships
 * can be told apart by package, and written back into the image for the
 * packages that shipped something, so scanners and rpm see them; and, for
 * the rpm source, the database its cached root gets, as rpm would have
 * written it had it installed the packages.
 *
 * Everything goes through librpm on a private copy: the source's database
 * file (var/lib/rpm/rpmdb.sqlite, or usr/lib/sysimage/rpm/, or an older
 * Berkeley DB "Packages" that librpm reads and converts) is copied out of
 * the root through root_open_regular() (contained, bounded) into a fresh
 * directory under $TMPDIR, and librpm opens that copy with the root "/"
 * and %_dbpath pointing at it: nothing is chrooted, so it works
 * unprivileged, and the host's rpm configuration and database are never
 * read (no rpmReadConfigFiles(): the macros smith needs are pushed and
 * popped around each use).  Nothing from a package is run.
 *
 * The image's database keeps the packages' headers whole: their immutable
 * region is signed and digested, so the file lists cannot be cut down.
 * What rpm records at install time, outside that region, says which files
 * are there: every file of a kept package that the image does not ship is
 * marked RPMFILE_STATE_NOTINSTALLED (as --excludedocs leaves files), so
 * `rpm -qf` does not name its package and `rpm -V` skips it, while
 * `rpm -ql` still lists it.  Headers are patched in place in the copy's
 * Packages table (the state bytes, and the install times), the packages
 * that shipped nothing are deleted there, and librpm's rebuild then writes
 * a fresh database with every index made from the headers that remain.
 *
 * Merged /usr as in pkg/dpkg-db.h: /bin/sh as a package lists it is
 * /usr/bin/sh where bin is a symlink to usr/bin, and the other way round.
 *
 * Ownership: a struct rpm_db owns its strings and its temporary directory
 * (removed by rpm_db_free()). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "tree/plan.h"

#define RPMDB_FILE_MAX (1ULL << 30) /* bytes of the database file copied from a root */
#define RPMDB_MAX_PACKAGES 100000   /* headers read */
#define RPMDB_MAX_PATHS 10000000    /* listed paths, all packages together */
#define RPMDB_RELEASE_MAX (64U << 10)
#define RPMDB_TAG_MAX 8192 /* bytes of one header string kept for the SBOMs */

struct rpm_db;

/* Reads root_fd's rpm database; root_name is for messages.  *ret is NULL
 * when the root has none.  Errors are SMITH_ERR_SOURCE (a database librpm
 * cannot open) or SMITH_ERR_IO. */
int rpm_db_load(int root_fd, const char *root_name, struct rpm_db **ret, struct smith_error **err);
void rpm_db_free(struct rpm_db *db);
DEFINE_POINTER_CLEANUP(struct rpm_db, rpm_db_free)

/* The number of packages (headers, gpg-pubkey ones left out) read. */
size_t rpm_db_size(const struct rpm_db *db);
/* The package that lists path (relative, "usr/bin/cat") as installed, as
 * plan entries name it: its name, or name-version-release.arch where the
 * database holds the name more than once; or NULL. */
const char *rpm_db_owner(const struct rpm_db *db, const char *path);

/* Records on every file and symlink the plan took from the source that no
 * other database claimed (PLAN_FROM_SOURCE, no package yet) the package
 * that lists it.  Returns the number of entries attributed. */
int rpm_db_attribute(const struct rpm_db *db, struct plan *p, struct smith_error **err);

/* Adds to the plan, as PLAN_FROM_GENERATED with reason "package metadata",
 * when at least one package shipped a file: /var/lib/rpm/rpmdb.sqlite
 * holding those packages (the files not shipped marked not installed; with
 * install_time >= 0, INSTALLTIME and INSTALLTID set to it), and
 * /etc/os-release, /etc/redhat-release, /etc/system-release and the
 * distribution's own /etc/<name>-release from the root (resolved inside
 * it) when it has them.  Returns the number of packages. */
int rpm_db_plan_metadata(struct rpm_db *db, int root_fd, struct plan *p, int64_t install_time,
                         struct smith_error **err);

/* Writes root_fd's var/lib/rpm/rpmdb.sqlite: the headers of the .rpm
 * files fds (n of them, each read from offset 0), recorded by a librpm
 * transaction that only touches the database (RPMTRANS_FLAG_JUSTDB, no
 * scriptlets, triggers or plugins), installed at time 0 so the cached root
 * does not depend on when it was made. */
int rpm_db_install(int root_fd, const int *fds, size_t n, struct smith_error **err);

/* What the SBOMs say of a package: its header's tags, as librpm reads them
 * when the database is loaded.  Each string is NULL when the header lacks
 * the tag or its value is longer than RPMDB_TAG_MAX, not UTF-8, or holds
 * control characters (it came from the image: hostile); epoch is 0 when
 * the header has none.  Owned by the struct rpm_db. */
struct rpm_db_package {
        const char *name;      /* "bash" */
        uint32_t epoch;        /* 0: none */
        const char *version;   /* "5.2.15" */
        const char *release;   /* "3.fc38" */
        const char *arch;      /* "x86_64", "noarch" */
        const char *license;   /* the License tag as written: "GPL-3.0-or-later", "GPLv2+" */
        const char *sourcerpm; /* "bash-5.2.15-3.fc38.src.rpm" */
        const char *vendor;    /* "Fedora Project" */
};

/* The package plan entries name key (rpm_db_owner()'s answer), or NULL. */
const struct rpm_db_package *rpm_db_package(const struct rpm_db *db, const char *key);
