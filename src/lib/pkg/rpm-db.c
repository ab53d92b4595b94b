/* The rpm database of a source root, read with librpm and written back for
 * what shipped; see rpm-db.h.
 *
 * Paths work as in dpkg-db.c: every installed file of every package goes
 * into one path index (path-index.h), packages in name order, so a path
 * several packages list keeps the first of them.
 *
 * The header surgery is done on the bytes of the stored header blobs, not
 * through headerMod(): librpm 4.18 cannot export a header read back from
 * a database once one of its install-time tags was changed.  Those tags
 * live after the immutable region, so overwriting their values in place
 * (same type, same count) leaves every digest and signature valid, and the
 * rebuild that follows re-reads and re-checks each header with librpm. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rpm/header.h>
#include <rpm/rpmcrypto.h>
#include <rpm/rpmdb.h>
#include <rpm/rpmfiles.h>
#include <rpm/rpmkeyring.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmps.h>
#include <rpm/rpmts.h>
#include <sqlite3.h>

#include "basic/buf.h"
#include "basic/fs.h"
#include "basic/log.h"
#include "basic/path.h"
#include "basic/utf8.h"
#include "basic/strv.h"
#include "pkg/rpm-db.h"
#include "pkg/path-index.h"
#include "pkg/usr-merge.h"

#define RPMDB_NAME_MAX 256
#define RPMDB_DB "rpmdb.sqlite"

/* Where a root keeps its database, newest layout first within each kind. */
static const char *const db_files[] = {
        "var/lib/rpm/" RPMDB_DB,
        "usr/lib/sysimage/rpm/" RPMDB_DB,
        "var/lib/rpm/Packages",
        "usr/lib/sysimage/rpm/Packages",
};

static const char *const release_files[] = {
        "etc/os-release",     "etc/redhat-release", "etc/system-release",    "etc/fedora-release",
        "etc/centos-release", "etc/rocky-release",  "etc/almalinux-release", "etc/oracle-release",
        "etc/SuSE-release",   "etc/mageia-release", "etc/openEuler-release",
};

struct rpm_pkg {
        char *name;  /* NULL: a header left out (gpg-pubkey, a name that is not rpm's) */
        char *nevra; /* "bash-5.2.15-3.fc38.x86_64" */
        char *key;   /* as plan entries name it: name, or nevra when the name is there twice */
        unsigned hnum;
        bool shipped;
        struct rpm_db_package *info; /* rpm_db_package()'s: one allocation with its strings, or NULL */
};

struct rpm_db {
        char *tmp;    /* the private directory */
        char *dbpath; /* tmp/db: the copy librpm opens */
        struct rpm_pkg *pkgs;
        size_t n;
        size_t *by_key; /* indexes into pkgs of those with a key, sorted by key */
        size_t n_keys;
        struct path_index paths; /* unique; pkg indexes pkgs */
};

/* --- librpm around smith --- */

/* librpm reports through rpmlog, which prints; the library never does, so
 * the last message is kept for the error instead. */
static char last_log[256];
static const char *log_dbpath; /* the private copy's path: not for messages */

static int log_keep(rpmlogRec rec, rpmlogCallbackData data) {
        const char *m = rpmlogRecMessage(rec);
        char *tmp;
        size_t n;

        (void) data;
        if (m && rpmlogRecPriority(rec) <= RPMLOG_WARNING) {
                snprintf(last_log, sizeof(last_log), "%s", m);
                tmp = log_dbpath ? strstr(last_log, log_dbpath) : NULL;
                if (tmp && tmp - last_log >= 4 && strneq(tmp - 4, " in ", 4))
                        tmp -= 4;
                if (tmp)
                        *tmp = '\0';
                n = strlen(last_log);
                while (n > 0 && (last_log[n - 1] == '\n' || last_log[n - 1] == ' '))
                        last_log[--n] = '\0';
        }
        return 0;
}

static pthread_mutex_t rpm_lock = PTHREAD_MUTEX_INITIALIZER;

static void init_crypto(void) {
        (void) rpmInitCrypto();
}

struct rpm_env {
        rpmlogCallback old_cb;
        rpmlogCallbackData old_data;
};

/* The macros a transaction or a rebuild on dbpath needs, and nothing from
 * the host: the lock beside the database, the sqlite backend. */
static void env_enter(struct rpm_env *e, const char *dbpath) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        _cleanup_free_ char *lock = NULL;

        pthread_mutex_lock(&rpm_lock);
        pthread_once(&once, init_crypto);
        last_log[0] = '\0';
        e->old_data = NULL;
        log_dbpath = dbpath;
        e->old_cb = rpmlogSetCallback(log_keep, NULL);
        if (asprintf(&lock, "%s/.rpm.lock", dbpath) < 0)
                lock = NULL;
        rpmPushMacro(NULL, "_dbpath", NULL, dbpath, RMIL_CMDLINE);
        rpmPushMacro(NULL, "_rpmlock_path", NULL, lock ? lock : "/nonexistent/.rpm.lock", RMIL_CMDLINE);
        rpmPushMacro(NULL, "_db_backend", NULL, "sqlite", RMIL_CMDLINE);
}

static void env_leave(struct rpm_env *e) {
        rpmPopMacro(NULL, "_db_backend");
        rpmPopMacro(NULL, "_rpmlock_path");
        rpmPopMacro(NULL, "_dbpath");
        rpmlogSetCallback(e->old_cb, e->old_data);
        log_dbpath = NULL;
        pthread_mutex_unlock(&rpm_lock);
}

/* A transaction set on "/" (no chroot) that verifies header digests but
 * has no keys to check signatures with: the headers were checked when the
 * packages were fetched, or come from the image as they are. */
static rpmts ts_new(void) {
        rpmts ts = rpmtsCreate();
        rpmKeyring kr = rpmKeyringNew();

        if (ts) {
                rpmtsSetRootDir(ts, "/");
                rpmtsSetKeyring(ts, kr);
                rpmtsSetVSFlags(ts, RPMVSF_MASK_NOSIGNATURES);
        }
        rpmKeyringFree(kr);
        return ts;
}

static int rpm_error(struct smith_error **err, enum smith_error_kind kind, const char *what) {
        return error_set(err, kind, "%s%s%s", what, last_log[0] ? ": " : "", last_log);
}

static int make_tmp(char **ret_tmp, char **ret_dbpath) {
        const char *t = getenv("TMPDIR");
        _cleanup_free_ char *tmp = NULL, *dbpath = NULL;
        int r = mkdtemp_in(isempty(t) ? "/tmp" : t, "smith-rpmdb-", &tmp);

        if (r < 0)
                return r;
        dbpath = path_join(tmp, "db");
        if (!dbpath || mkdir(dbpath, 0700) < 0) {
                r = dbpath ? -errno : -ENOMEM;
                (void) rm_rf_at(AT_FDCWD, tmp);
                return r;
        }
        *ret_tmp = TAKE_PTR(tmp);
        *ret_dbpath = TAKE_PTR(dbpath);
        return 0;
}

/* Copies at most max bytes from in to a new file path (0600). */
static int copy_fd_to(int in, const char *path, uint64_t max) {
        _cleanup_close_ int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        return out < 0 ? -errno : copy_bytes(in, out, max, NULL, NULL);
}

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
        rpmts ts = ts_new();

        if (!ts) {
                error_oom(err);
                return NULL;
        }
        if (rpmtsOpenDB(ts, O_RDONLY) != 0) {
                rpmtsFree(ts);
                rpm_error(err, SMITH_ERR_SOURCE, "open the database");
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
        rpmts ts = ts_new();
        int r;

        if (!ts)
                return error_oom(err);
        r = rpmtsRebuildDB(ts);
        rpmtsFree(ts);
        if (r != 0)
                return rpm_error(err, SMITH_ERR_SOURCE, "convert the database to sqlite");
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
        r = make_tmp(&db->tmp, &db->dbpath);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "create a temporary directory");
        copy = path_join(db->dbpath, strrchr(found, '/') + 1);
        if (!copy)
                return error_oom(err);
        r = copy_fd_to(fd, copy, RPMDB_FILE_MAX);
        if (r == -EFBIG)
                return error_set(err, SMITH_ERR_SOURCE, "'%s' in '%s' is larger than %llu MiB", found,
                                 PATH_FOR_MSG(root_name), RPMDB_FILE_MAX >> 20);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "copy '%s' of '%s'", found, PATH_FOR_MSG(root_name));
        usr_merge_find(&db->paths.usr, root_fd);
        db->paths.max = RPMDB_MAX_PATHS;
        env_enter(&env, db->dbpath);
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
        env_leave(&env);
        if (r < 0)
                return error_wrap(err, "rpm database '%s' in '%s'", found, PATH_FOR_MSG(root_name));
        *ret = TAKE_PTR(db);
        return 0;
}

const char *rpm_db_owner(const struct rpm_db *db, const char *path) {
        ssize_t i = db ? path_index_owner(&db->paths, path) : -1;
        return i >= 0 ? db->pkgs[i].key : NULL;
}

static struct rpm_pkg *find_key(const struct rpm_db *db, const char *key) {
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

/* --- writing the database back --- */

/* What shipped: each path (/usr form) with its package's index. */
struct shipped {
        const struct rpm_db *db;
        struct plan *plan;
        struct path_index s; /* not unique: a path with every package that shipped it */
        int r;
};

static int collect_one(const struct plan_entry *e, void *userdata) {
        struct shipped *c = userdata;
        struct rpm_pkg *pkg;

        if (!e->package || e->from != PLAN_FROM_SOURCE)
                return 0;
        pkg = find_key(c->db, e->package);
        if (!pkg)
                return 0;
        pkg->shipped = true;
        if (path_index_add(&c->s, e->path, (size_t) (pkg - c->db->pkgs)) < 0)
                return c->r = -ENOMEM;
        return 0;
}

static bool was_shipped(const struct shipped *c, const char *usr_path, size_t pkg) {
        return path_index_contains(&c->s, usr_path, pkg);
}

static uint32_t be32(const uint8_t *p) {
        uint32_t v;
        memcpy(&v, p, 4);
        return ntohl(v);
}

/* In a header blob as the database stores it (il, dl, il entries of 16
 * bytes, dl bytes of data), the offset into the blob of the value of tag
 * (of that type and count) among the entries after the immutable region,
 * or -1 when there is none such. */
static ssize_t dribble_offset(const uint8_t *b, size_t n, uint32_t tag, uint32_t type, uint32_t count) {
        const uint32_t size = type == RPM_CHAR_TYPE ? 1 : type == RPM_INT32_TYPE ? 4 : 0;
        uint32_t il, dl, roff, ril;
        const uint8_t *pe, *data;
        int32_t trailer;

        if (n < 8 || size == 0)
                return -1;
        il = be32(b);
        dl = be32(b + 4);
        if (il < 1 || il > 0x10000 || dl > n || 8 + (uint64_t) il * 16 + dl != n)
                return -1;
        pe = b + 8;
        data = pe + (size_t) il * 16;
        /* the region's entry first, its trailer in the data: -(its entries * 16) */
        if (be32(pe) != RPMTAG_HEADERIMMUTABLE || be32(pe + 4) != RPM_BIN_TYPE || be32(pe + 12) != 16)
                return -1;
        roff = be32(pe + 8);
        if ((uint64_t) roff + 16 > dl)
                return -1;
        trailer = (int32_t) be32(data + roff + 8);
        if (trailer >= 0 || trailer % 16 != 0 || (uint32_t) (-(int64_t) trailer / 16) > il)
                return -1;
        ril = (uint32_t) (-(int64_t) trailer / 16);
        for (uint32_t i = ril; i < il; i++) {
                const uint8_t *e = pe + (size_t) i * 16;
                uint32_t off = be32(e + 8);

                if (be32(e) != tag)
                        continue;
                if (be32(e + 4) != type || be32(e + 12) != count || off < roff + 16 ||
                    (uint64_t) off + (uint64_t) count * size > dl)
                        return -1;
                return (ssize_t) (data - b) + off;
        }
        return -1;
}

static void put_be32(uint8_t *p, uint32_t v) {
        v = htonl(v);
        memcpy(p, &v, 4);
}

/* One kept header's blob: the files it does not ship marked not installed,
 * the install times set.  A blob whose layout is not the one expected is
 * left as it is. */
static void patch_blob(const struct shipped *c, size_t pkg, uint8_t *b, size_t n, int64_t install_time) {
        Header h = headerImport(b, n, HEADERIMPORT_COPY);
        rpmfiles files = h ? rpmfilesNew(NULL, h, 0, RPMFI_FLAGS_QUERY) : NULL;
        int fc = files ? rpmfilesFC(files) : 0;
        ssize_t st = fc > 0 ? dribble_offset(b, n, RPMTAG_FILESTATES, RPM_CHAR_TYPE, (uint32_t) fc) : -1;

        for (int i = 0; st >= 0 && i < fc; i++) {
                _cleanup_free_ char *fn = rpmfilesFN(files, i), *rel = NULL, *u = NULL;

                if (!RPMFILE_IS_INSTALLED(b[st + i]))
                        continue;
                if (fn && path_normalize(fn, PATH_DOTDOT_REFUSE | PATH_CHECK_LENGTH, &rel) >= 0 && !isempty(rel))
                        u = usr_merge_form(&c->db->paths.usr, rel);
                /* a directory is there when the image has it, whoever put it there */
                if (S_ISDIR(rpmfilesFMode(files, i)) ? rel && (plan_get(c->plan, rel) || (u && plan_get(c->plan, u)))
                                                     : u && was_shipped(c, u, pkg))
                        continue;
                b[st + i] = RPMFILE_STATE_NOTINSTALLED;
        }
        if (install_time >= 0) {
                static const rpmTagVal times[] = { RPMTAG_INSTALLTIME, RPMTAG_INSTALLTID };
                for (size_t i = 0; i < ELEMENTSOF(times); i++) {
                        ssize_t o = dribble_offset(b, n, times[i], RPM_INT32_TYPE, 1);
                        if (o >= 0)
                                put_be32(b + o, (uint32_t) install_time);
                }
        }
        rpmfilesFree(files);
        headerFree(h);
}

static int sqlite_error(struct smith_error **err, sqlite3 *s, const char *what) {
        return error_set(err, SMITH_ERR_IO, "%s: %s", what, s ? sqlite3_errmsg(s) : "out of memory");
}

/* Deletes the rows of what shipped nothing and patches the others. */
static int edit_packages(struct rpm_db *db, const struct shipped *c, int64_t install_time, struct smith_error **err) {
        _cleanup_free_ char *path = path_join(db->dbpath, RPMDB_DB);
        sqlite3 *s = NULL;
        sqlite3_stmt *get = NULL, *put = NULL, *del = NULL;
        int r = -1;

        if (!path)
                return error_oom(err);
        if (sqlite3_open_v2(path, &s, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
                sqlite_error(err, s, "open the database copy");
                goto out;
        }
        if (sqlite3_prepare_v2(s, "SELECT blob FROM Packages WHERE hnum = ?", -1, &get, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(s, "UPDATE Packages SET blob = ? WHERE hnum = ?", -1, &put, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(s, "DELETE FROM Packages WHERE hnum = ?", -1, &del, NULL) != SQLITE_OK ||
            sqlite3_exec(s, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
                sqlite_error(err, s, "edit the database copy");
                goto out;
        }
        for (size_t i = 0; i < db->n; i++) {
                const struct rpm_pkg *p = &db->pkgs[i];
                _cleanup_free_ uint8_t *b = NULL;
                int n;

                if (!p->shipped) {
                        sqlite3_bind_int64(del, 1, p->hnum);
                        if (sqlite3_step(del) != SQLITE_DONE) {
                                sqlite_error(err, s, "delete a package");
                                goto out;
                        }
                        sqlite3_reset(del);
                        continue;
                }
                sqlite3_bind_int64(get, 1, p->hnum);
                if (sqlite3_step(get) != SQLITE_ROW) {
                        sqlite3_reset(get);
                        continue;
                }
                n = sqlite3_column_bytes(get, 0);
                b = n > 0 ? malloc((size_t) n) : NULL;
                if (n > 0 && !b) {
                        r = error_oom(err);
                        goto out;
                }
                if (n > 0)
                        memcpy(b, sqlite3_column_blob(get, 0), (size_t) n);
                sqlite3_reset(get);
                if (!b)
                        continue;
                patch_blob(c, i, b, (size_t) n, install_time);
                sqlite3_bind_blob(put, 1, b, n, SQLITE_TRANSIENT);
                sqlite3_bind_int64(put, 2, p->hnum);
                if (sqlite3_step(put) != SQLITE_DONE) {
                        sqlite_error(err, s, "update a package");
                        goto out;
                }
                sqlite3_reset(put);
        }
        if (sqlite3_exec(s, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
                sqlite_error(err, s, "edit the database copy");
                goto out;
        }
        r = 0;
out:
        sqlite3_finalize(get);
        sqlite3_finalize(put);
        sqlite3_finalize(del);
        sqlite3_close(s);
        return r;
}

static int plan_release(int root_fd, struct plan *p, struct smith_error **err) {
        for (size_t i = 0; i < ELEMENTSOF(release_files); i++) {
                _cleanup_free_ char *data = NULL;
                size_t len = 0;
                int r = root_read_file(root_fd, release_files[i], RPMDB_RELEASE_MAX, &data, &len);

                if (r == -ENOENT || r == -EBADF || r == -ENOTDIR || r == -ELOOP)
                        continue;
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_SOURCE, r, "read '/%s'", release_files[i]);
                if (plan_add_generated(p, release_files[i], data, len, err) < 0)
                        return -1;
        }
        return 0;
}

int rpm_db_plan_metadata(struct rpm_db *db, int root_fd, struct plan *p, int64_t install_time,
                         struct smith_error **err) {
        const struct plan_reason why = { .kind = PLAN_REASON_PACKAGE_METADATA };
        struct shipped c = { .db = db, .plan = p, .s.usr = db ? db->paths.usr : (struct usr_merge){} };
        _cleanup_free_ char *path = NULL, *data = NULL;
        struct rpm_env env;
        size_t len = 0;
        int n = 0, r;

        if (!db)
                return 0;
        r = plan_foreach(p, collect_one, &c);
        if (r >= 0 && c.r >= 0)
                path_index_sort(&c.s, false);
        for (size_t i = 0; i < db->n; i++)
                n += db->pkgs[i].shipped;
        if (r < 0 || c.r < 0)
                r = error_oom(err);
        else if (n > 0)
                r = edit_packages(db, &c, install_time, err);
        path_index_done(&c.s);
        if (r < 0)
                return error_wrap(err, "rpm database");
        if (n == 0)
                return 0;

        env_enter(&env, db->dbpath);
        {
                rpmts ts = ts_new();
                r = ts ? rpmtsRebuildDB(ts) : -1;
                if (r != 0)
                        rpm_error(err, SMITH_ERR_IO, "rebuild the rpm database");
                rpmtsFree(ts);
        }
        env_leave(&env);
        if (r != 0)
                return -1;
        path = path_join(db->dbpath, RPMDB_DB);
        if (!path)
                return error_oom(err);
        r = read_file_at(AT_FDCWD, path, RPMDB_FILE_MAX, &data, &len);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "read the rebuilt rpm database");
        if (plan_set_reason(p, &why) < 0)
                return error_oom(err);
        if (plan_add_generated(p, "var/lib/rpm/" RPMDB_DB, data, len, err) < 0 || plan_release(root_fd, p, err) < 0)
                return -1;
        return n;
}

/* --- the rpm source's database --- */

struct install {
        const int *fds;
        size_t n;
        FD_t open;
};

static void *install_notify(const void *h, const rpmCallbackType what, const rpm_loff_t amount, const rpm_loff_t total,
                            fnpyKey key, rpmCallbackData data) {
        struct install *in = data;
        size_t i = (size_t) (uintptr_t) key;

        (void) h;
        (void) amount;
        (void) total;
        if (what == RPMCALLBACK_INST_OPEN_FILE && i >= 1 && i <= in->n) {
                if (in->open)
                        Fclose(in->open);
                in->open = lseek(in->fds[i - 1], 0, SEEK_SET) == 0 ? fdDup(in->fds[i - 1]) : NULL;
                return in->open;
        }
        if (what == RPMCALLBACK_INST_CLOSE_FILE && in->open) {
                Fclose(in->open);
                in->open = NULL;
        }
        return NULL;
}

/* Sets SOURCE_DATE_EPOCH for rpmtsCreate() (which reads it for the
 * install times) and puts the caller's value back. */
static rpmts ts_new_at_zero(void) {
        const char *old = getenv("SOURCE_DATE_EPOCH");
        _cleanup_free_ char *saved = old ? strdup(old) : NULL;
        rpmts ts;

        setenv("SOURCE_DATE_EPOCH", "0", 1);
        ts = ts_new();
        if (saved)
                setenv("SOURCE_DATE_EPOCH", saved, 1);
        else
                unsetenv("SOURCE_DATE_EPOCH");
        return ts;
}

static int install_headers(const char *dbpath, const int *fds, size_t n, struct smith_error **err) {
        struct install in = { .fds = fds, .n = n };
        rpmts ts = ts_new_at_zero();
        int r = -1;

        (void) dbpath;
        if (!ts)
                return error_oom(err);
        rpmtsSetVSFlags(ts, RPMVSF_MASK_NOSIGNATURES | RPMVSF_MASK_NODIGESTS);
        for (size_t i = 0; i < n; i++) {
                FD_t f = lseek(fds[i], 0, SEEK_SET) == 0 ? fdDup(fds[i]) : NULL;
                Header h = NULL;
                rpmRC rc = f ? rpmReadPackageFile(ts, f, "package", &h) : RPMRC_FAIL;

                if (f)
                        Fclose(f);
                if (rc != RPMRC_OK || !h) {
                        headerFree(h);
                        rpm_error(err, SMITH_ERR_SOURCE, "read a package header");
                        goto out;
                }
                r = rpmtsAddInstallElement(ts, h, (fnpyKey) (uintptr_t) (i + 1), 0, NULL);
                headerFree(h);
                if (r != 0) {
                        r = -1;
                        rpm_error(err, SMITH_ERR_SOURCE, "add a package to the transaction");
                        goto out;
                }
                r = -1;
        }
        rpmtsSetNotifyCallback(ts, install_notify, &in);
        rpmtsSetFlags(ts, RPMTRANS_FLAG_JUSTDB | RPMTRANS_FLAG_NOSCRIPTS | RPMTRANS_FLAG_NOTRIGGERS |
                                  RPMTRANS_FLAG_NOPLUGINS);
        if (rpmtsRun(ts, NULL, (rpmprobFilterFlags) ~0) != 0) {
                rpm_error(err, SMITH_ERR_SOURCE, "record the packages in an rpm database");
                goto out;
        }
        r = 0;
out:
        if (in.open)
                Fclose(in.open);
        rpmtsFree(ts);
        return r;
}

int rpm_db_install(int root_fd, const int *fds, size_t n, struct smith_error **err) {
        _cleanup_free_ char *tmp = NULL, *dbpath = NULL, *path = NULL;
        _cleanup_close_ int in = -1, out = -1;
        struct rpm_env env;
        int r;

        if (n == 0)
                return 0;
        r = make_tmp(&tmp, &dbpath);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "create a temporary directory");
        env_enter(&env, dbpath);
        r = install_headers(dbpath, fds, n, err);
        env_leave(&env);
        if (r < 0)
                goto out;
        path = path_join(dbpath, RPMDB_DB);
        if (!path) {
                r = error_oom(err);
                goto out;
        }
        in = open(path, O_RDONLY | O_CLOEXEC);
        r = in < 0 ? -errno : root_mkdir_p(root_fd, "var/lib/rpm", 0755);
        if (r >= 0) {
                out = root_openat(root_fd, "var/lib/rpm/" RPMDB_DB, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
                r = out < 0 ? out : 0;
        }
        if (r < 0) {
                r = error_set_errno(err, SMITH_ERR_IO, r, "write '/var/lib/rpm/" RPMDB_DB "'");
                goto out;
        }
        for (;;) {
                char buf[1 << 14];
                ssize_t k = read(in, buf, sizeof(buf));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        r = k < 0 ? error_set_errno(err, SMITH_ERR_IO, errno, "read the rpm database") : 0;
                        break;
                }
                r = write_full(out, buf, (size_t) k);
                if (r < 0) {
                        r = error_set_errno(err, SMITH_ERR_IO, r, "write '/var/lib/rpm/" RPMDB_DB "'");
                        break;
                }
        }
out:
        (void) rm_rf_at(AT_FDCWD, tmp);
        return r < 0 ? -1 : 0;
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

/* Each package with a key gets its info; under env_enter(). */
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
        const struct rpm_pkg *p = db && key ? find_key(db, key) : NULL;

        return p ? p->info : NULL;
}
