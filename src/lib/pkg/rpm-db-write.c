/* The rpm database written back: the image's, holding the packages that
 * shipped a file (their files not shipped marked not installed), and the
 * rpm source's cached root's, installed from the fetched headers; see
 * rpm-db.h.
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
#include <stdlib.h>
#include <string.h>

#include <rpm/rpmlib.h>
#include <rpm/rpmfiles.h>
#include <rpm/rpmts.h>
#include <sqlite3.h>

#include "basic/fs.h"
#include "basic/path.h"
#include "pkg/rpm-db-internal.h"
#include "pkg/rpm-db.h"
#include "pkg/usr-merge.h"

static const char *const release_files[] = {
        "etc/os-release",     "etc/redhat-release", "etc/system-release",    "etc/fedora-release",
        "etc/centos-release", "etc/rocky-release",  "etc/almalinux-release", "etc/oracle-release",
        "etc/SuSE-release",   "etc/mageia-release", "etc/openEuler-release",
};

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
        pkg = rpmdb_find_key(c->db, e->package);
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

        rpmdb_env_enter(&env, db->dbpath);
        {
                rpmts ts = rpmdb_ts_new();
                r = ts ? rpmtsRebuildDB(ts) : -1;
                if (r != 0)
                        rpmdb_error(err, SMITH_ERR_IO, "rebuild the rpm database");
                rpmtsFree(ts);
        }
        rpmdb_env_leave(&env);
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
        ts = rpmdb_ts_new();
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
                        rpmdb_error(err, SMITH_ERR_SOURCE, "read a package header");
                        goto out;
                }
                r = rpmtsAddInstallElement(ts, h, (fnpyKey) (uintptr_t) (i + 1), 0, NULL);
                headerFree(h);
                if (r != 0) {
                        r = -1;
                        rpmdb_error(err, SMITH_ERR_SOURCE, "add a package to the transaction");
                        goto out;
                }
                r = -1;
        }
        rpmtsSetNotifyCallback(ts, install_notify, &in);
        rpmtsSetFlags(ts, RPMTRANS_FLAG_JUSTDB | RPMTRANS_FLAG_NOSCRIPTS | RPMTRANS_FLAG_NOTRIGGERS |
                                  RPMTRANS_FLAG_NOPLUGINS);
        if (rpmtsRun(ts, NULL, (rpmprobFilterFlags) ~0) != 0) {
                rpmdb_error(err, SMITH_ERR_SOURCE, "record the packages in an rpm database");
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
        r = rpmdb_make_tmp(&tmp, &dbpath);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "create a temporary directory");
        rpmdb_env_enter(&env, dbpath);
        r = install_headers(dbpath, fds, n, err);
        rpmdb_env_leave(&env);
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
        r = copy_bytes(in, out, 0, NULL, NULL);
        if (r < 0)
                r = error_set_errno(err, SMITH_ERR_IO, r, "copy the rpm database to '/var/lib/rpm/" RPMDB_DB "'");
out:
        (void) rm_rf_at(AT_FDCWD, tmp);
        return r < 0 ? -1 : 0;
}
