/* The rpm database of a source root, read with librpm; see rpm-db.h.  The
 * database written back is rpm-db-write.c's.
 *
 * Paths work as in dpkg-db.c: every installed file of every package goes
 * into one path index (path-index.h), packages in name order, so a path
 * several packages list keeps the first of them. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <rpm/header.h>
#include <rpm/rpmfiles.h>
#include <rpm/rpmdb.h>
#include <rpm/rpmts.h>
#include <sqlite3.h>

#include "basic/fs.h"
#include "basic/path.h"
#include "basic/utf8.h"
#include "pkg/rpm-db-internal.h"
#include "pkg/rpm-db.h"
#include "pkg/usr-merge.h"

#define RPMDB_NAME_MAX 256

/* Where a root keeps its database, newest layout first within each kind. */
static const char *const db_files[] = {
        "var/lib/rpm/" RPMDB_DB,
        "usr/lib/sysimage/rpm/" RPMDB_DB,
        "var/lib/rpm/Packages",
        "usr/lib/sysimage/rpm/Packages",
};

/* --- reading --- */

static bool name_valid(const char *s) {
        return ascii_word(s, RPMDB_NAME_MAX, "._+-~^:");
}

void rpm_db_free(struct rpm_db *db) {
        if (!db)
                return;
        for (size_t i = 0; i < db->n; i++) {
                free_many(db->pkgs[i].name, db->pkgs[i].nevra, db->pkgs[i].key);
                free(db->pkgs[i].info);
        }
        free(db->pkgs);
        free(db->by_key);
        path_index_done(&db->paths);
        if (db->tmp)
                (void) rm_rf_at(AT_FDCWD, db->tmp);
        free_many(db->tmp, db->dbpath, db);
}

size_t rpm_db_size(const struct rpm_db *db) {
        size_t n = 0;

        for (size_t i = 0; db && i < db->n; i++)
                n += db->pkgs[i].name != NULL;
        return n;
}

/* The installed files and symlinks of header h, package pkg. */
static int add_paths(struct rpm_db *db, size_t pkg, Header h) {
        rpmfiles files = rpmfilesNew(NULL, h, 0, RPMFI_FLAGS_QUERY);
        int fc = files ? rpmfilesFC(files) : 0, r = 0;

        for (int i = 0; i < fc && r == 0; i++) {
                _cleanup_free_ char *fn = NULL;

                if (!RPMFILE_IS_INSTALLED(rpmfilesFState(files, i)) || S_ISDIR(rpmfilesFMode(files, i)))
                        continue;
                fn = rpmfilesFN(files, i);
                r = fn ? path_index_add(&db->paths, fn, pkg) : 0;
        }
        rpmfilesFree(files);
        return r;
}

static int pkg_name_cmp(const void *a, const void *b) {
        const struct rpm_pkg *x = a, *y = b;
        int c;

        if (!x->name || !y->name)
                return x->name ? -1 : y->name ? 1 : (x->hnum > y->hnum) - (x->hnum < y->hnum);
        c = strcmp(x->name, y->name);
        if (c)
                return c;
        c = strcmp(x->nevra, y->nevra);
        return c ? c : (x->hnum > y->hnum) - (x->hnum < y->hnum);
}

static const struct rpm_db *key_db; /* for key_cmp, under rpm_lock */

static int key_cmp(const void *a, const void *b) {
        return strcmp(key_db->pkgs[*(const size_t *) a].key, key_db->pkgs[*(const size_t *) b].key);
}

/* A transaction set with the copy's database open for reading, or NULL
 * with err. */
static rpmts ts_open_read(struct smith_error **err) {
        rpmts ts = rpmdb_ts_new();

        if (!ts) {
                error_oom(err);
                return NULL;
        }
        if (rpmtsOpenDB(ts, O_RDONLY) != 0) {
                rpmtsFree(ts);
                rpmdb_error(err, SMITH_ERR_SOURCE, "open the database");
                return NULL;
        }
        return ts;
}

/* Reads every header of the copy: the packages, then their paths. */
static int read_headers(struct rpm_db *db, struct smith_error **err) {
        rpmts ts = ts_open_read(err);
        rpmdbMatchIterator mi = NULL;
        Header h;
        size_t cap = 0;
        int r = 0;

        if (!ts)
                return -1;
        mi = rpmtsInitIterator(ts, RPMDBI_PACKAGES, NULL, 0);
        while (r == 0 && (h = rpmdbNextIterator(mi))) {
                struct rpm_pkg pkg = { .hnum = rpmdbGetIteratorOffset(mi) };
                const char *name = headerGetString(h, RPMTAG_NAME);

                if (db->n >= RPMDB_MAX_PACKAGES) {
                        r = error_set(err, SMITH_ERR_SOURCE, "the database holds more than %d packages",
                                      RPMDB_MAX_PACKAGES);
                        break;
                }
                if (name_valid(name) && !streq(name, "gpg-pubkey")) {
                        pkg.name = strdup(name);
                        pkg.nevra = headerGetAsString(h, RPMTAG_NEVRA);
                        if (!pkg.name || !pkg.nevra || !name_valid(pkg.nevra)) {
                                free(pkg.name);
                                free(pkg.nevra);
                                pkg.name = pkg.nevra = NULL;
                        }
                }
                if (db->n == cap) {
                        size_t c = cap ? cap * 2 : 64;
                        struct rpm_pkg *q = reallocarray(db->pkgs, c, sizeof(*q));
                        if (!q) {
                                free(pkg.name);
                                free(pkg.nevra);
                                r = error_oom(err);
                                break;
                        }
                        db->pkgs = q;
                        cap = c;
                }
                db->pkgs[db->n++] = pkg;
        }
        rpmdbFreeIterator(mi);
        if (r == 0 && db->n > 0)
                qsort(db->pkgs, db->n, sizeof(*db->pkgs), pkg_name_cmp);
        /* keys: the name, or the nevra where two share the name */
        for (size_t i = 0; r == 0 && i < db->n; i++) {
                struct rpm_pkg *p = &db->pkgs[i];
                bool twice =
                        p->name && ((i > 0 && db->pkgs[i - 1].name && streq(db->pkgs[i - 1].name, p->name)) ||
                                    (i + 1 < db->n && db->pkgs[i + 1].name && streq(db->pkgs[i + 1].name, p->name)));
                if (p->name && !(p->key = strdup(twice ? p->nevra : p->name)))
                        r = error_oom(err);
        }
        if (r == 0 && db->n > 0 && !(db->by_key = calloc(db->n, sizeof(*db->by_key))))
                r = error_oom(err);
        for (size_t i = 0; r == 0 && i < db->n; i++)
                if (db->pkgs[i].key)
                        db->by_key[db->n_keys++] = i;
        if (r == 0 && db->n_keys > 0) {
                key_db = db;
                qsort(db->by_key, db->n_keys, sizeof(*db->by_key), key_cmp);
        }
        /* the paths, package by package in name order */
        for (size_t i = 0; r == 0 && i < db->n; i++) {
                unsigned hnum = db->pkgs[i].hnum;
                int k;

                if (!db->pkgs[i].key)
                        continue;
                mi = rpmtsInitIterator(ts, RPMDBI_PACKAGES, &hnum, sizeof(hnum));
                h = rpmdbNextIterator(mi);
                k = h ? add_paths(db, i, h) : 0;
                rpmdbFreeIterator(mi);
                if (k == -E2BIG)
                        r = error_set(err, SMITH_ERR_SOURCE, "the database lists more than %d paths", RPMDB_MAX_PATHS);
                else if (k < 0)
                        r = error_oom(err);
        }
        rpmtsFree(ts);
        if (r < 0)
                return r;
        path_index_sort(&db->paths, true);
        return 0;
}

/* An older database (Berkeley DB, read-only in librpm): converted to
 * sqlite by a rebuild, so that everything after reads and writes one kind. */
static int convert(struct rpm_db *db, struct smith_error **err) {
        rpmts ts = rpmdb_ts_new();
        int r;

        if (!ts)
                return error_oom(err);
        r = rpmtsRebuildDB(ts);
        rpmtsFree(ts);
        if (r != 0)
                return rpmdb_error(err, SMITH_ERR_SOURCE, "convert the database to sqlite");
        (void) db;
        return 0;
}

/* The copy is an sqlite database with rpm's Packages table, asked of
 * sqlite before librpm sees it (librpm 4.18 leaks its handle on a file
 * that is not a database). */
static int check_sqlite(const char *path, struct smith_error **err) {
        sqlite3 *s = NULL;
        sqlite3_stmt *st = NULL;
        int r = 0;

        if (sqlite3_open_v2(path, &s, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(s, "SELECT hnum, blob FROM Packages LIMIT 1", -1, &st, NULL) != SQLITE_OK ||
            (sqlite3_step(st) != SQLITE_ROW && sqlite3_errcode(s) != SQLITE_DONE))
                r = error_set(err, SMITH_ERR_SOURCE, "not an rpm database: %s",
                              s ? sqlite3_errmsg(s) : "out of memory");
        sqlite3_finalize(st);
        sqlite3_close(s);
        return r;
}

static int read_package_info(struct rpm_db *db, struct smith_error **err);

int rpm_db_load(int root_fd, const char *root_name, struct rpm_db **ret, struct smith_error **err) {
        _cleanup_(rpm_db_freep) struct rpm_db *db = NULL;
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *copy = NULL;
        const char *found = NULL;
        struct rpm_env env;
        int r;

        *ret = NULL;
        for (size_t i = 0; i < ELEMENTSOF(db_files) && !found; i++) {
                r = root_open_regular(root_fd, db_files[i], &fd);
                if (r >= 0)
                        found = db_files[i];
                else if (r != -ENOENT && r != -ENOTDIR && r != -EBADF && r != -ELOOP)
                        return error_set_errno(err, SMITH_ERR_SOURCE, r, "read '%s' in '%s'", db_files[i],
                                               PATH_FOR_MSG(root_name));
        }
        if (!found)
                return 0;
        db = calloc(1, sizeof(*db));
        if (!db)
                return error_oom(err);
        r = rpmdb_make_tmp(&db->tmp, &db->dbpath);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "create a temporary directory");
        copy = path_join(db->dbpath, strrchr(found, '/') + 1);
        if (!copy)
                return error_oom(err);
        r = rpmdb_copy_fd_to(fd, copy, RPMDB_FILE_MAX);
        if (r == -EFBIG)
                return error_set(err, SMITH_ERR_SOURCE, "'%s' in '%s' is larger than %llu MiB", found,
                                 PATH_FOR_MSG(root_name), RPMDB_FILE_MAX >> 20);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "copy '%s' of '%s'", found, PATH_FOR_MSG(root_name));
        usr_merge_find(&db->paths.usr, root_fd);
        db->paths.max = RPMDB_MAX_PATHS;
        rpmdb_env_enter(&env, db->dbpath);
        r = 0;
        if (!streq(strrchr(found, '/') + 1, RPMDB_DB))
                r = convert(db, err);
        if (r == 0) {
                _cleanup_free_ char *sq = path_join(db->dbpath, RPMDB_DB);
                r = sq ? check_sqlite(sq, err) : error_oom(err);
        }
        if (r == 0)
                r = read_headers(db, err);
        if (r == 0)
                r = read_package_info(db, err);
        rpmdb_env_leave(&env);
        if (r < 0)
                return error_wrap(err, "rpm database '%s' in '%s'", found, PATH_FOR_MSG(root_name));
        *ret = TAKE_PTR(db);
        return 0;
}

const char *rpm_db_owner(const struct rpm_db *db, const char *path) {
        ssize_t i = db ? path_index_owner(&db->paths, path) : -1;
        return i >= 0 ? db->pkgs[i].key : NULL;
}

struct rpm_pkg *rpmdb_find_key(const struct rpm_db *db, const char *key) {
        for (size_t lo = 0, hi = db->n_keys; lo < hi;) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(key, db->pkgs[db->by_key[mid]].key);
                if (c == 0)
                        return &db->pkgs[db->by_key[mid]];
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

/* --- attribution --- */

static const char *key_of(size_t pkg, const void *ud) {
        return ((const struct rpm_db *) ud)->pkgs[pkg].key;
}

int rpm_db_attribute(const struct rpm_db *db, struct plan *p, struct smith_error **err) {
        return db ? path_index_attribute(&db->paths, p, key_of, db, err) : 0;
}

/* --- what the SBOMs say of a package --- */

/* A header string fit for the SBOMs: at most RPMDB_TAG_MAX bytes of UTF-8
 * without control characters. */
static bool tag_fit(const char *s) {
        return s && strnlen(s, RPMDB_TAG_MAX + 1) <= RPMDB_TAG_MAX && utf8_valid(s, true);
}

/* Header h's tags as one allocation: the struct, then its strings. */
static struct rpm_db_package *package_info(Header h) {
        static const rpmTagVal tags[] = { RPMTAG_NAME,    RPMTAG_VERSION,   RPMTAG_RELEASE, RPMTAG_ARCH,
                                          RPMTAG_LICENSE, RPMTAG_SOURCERPM, RPMTAG_VENDOR };
        const char *v[ELEMENTSOF(tags)];
        const char **dst[ELEMENTSOF(tags)];
        struct rpm_db_package *p;
        size_t total = sizeof(*p);
        char *at;

        for (size_t i = 0; i < ELEMENTSOF(tags); i++) {
                v[i] = headerGetString(h, tags[i]);
                if (!tag_fit(v[i]))
                        v[i] = NULL;
                total += v[i] ? strlen(v[i]) + 1 : 0;
        }
        p = calloc(1, total);
        if (!p)
                return NULL;
        dst[0] = &p->name, dst[1] = &p->version, dst[2] = &p->release, dst[3] = &p->arch;
        dst[4] = &p->license, dst[5] = &p->sourcerpm, dst[6] = &p->vendor;
        at = (char *) (p + 1);
        for (size_t i = 0; i < ELEMENTSOF(tags); i++) {
                size_t n = v[i] ? strlen(v[i]) + 1 : 0;
                if (!v[i])
                        continue;
                memcpy(at, v[i], n);
                *dst[i] = at;
                at += n;
        }
        if (headerIsEntry(h, RPMTAG_EPOCH)) {
                uint64_t e = headerGetNumber(h, RPMTAG_EPOCH);
                p->epoch = e <= UINT32_MAX ? (uint32_t) e : 0;
        }
        return p;
}

/* Each package with a key gets its info; under rpmdb_env_enter(). */
static int read_package_info(struct rpm_db *db, struct smith_error **err) {
        rpmts ts = ts_open_read(err);
        int r = 0;

        if (!ts)
                return -1;
        for (size_t i = 0; r == 0 && i < db->n; i++) {
                unsigned hnum = db->pkgs[i].hnum;
                rpmdbMatchIterator mi;
                Header h;

                if (!db->pkgs[i].key)
                        continue;
                mi = rpmtsInitIterator(ts, RPMDBI_PACKAGES, &hnum, sizeof(hnum));
                h = rpmdbNextIterator(mi);
                if (h && !(db->pkgs[i].info = package_info(h)))
                        r = error_oom(err);
                rpmdbFreeIterator(mi);
        }
        rpmtsFree(ts);
        return r;
}

const struct rpm_db_package *rpm_db_package(const struct rpm_db *db, const char *key) {
        const struct rpm_pkg *p = db && key ? rpmdb_find_key(db, key) : NULL;

        return p ? p->info : NULL;
}
