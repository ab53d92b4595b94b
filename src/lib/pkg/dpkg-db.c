/* The dpkg database of a source root, read bounded and written back for
 * what shipped; see dpkg-db.h.
 *
 * Every listed path goes into one path index (path-index.h); packages are
 * sorted by name first, so a path several packages list keeps the first
 * package in name order. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/buf.h"
#include "basic/fs.h"
#include "basic/log.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "pkg/dpkg-db.h"
#include "pkg/path-index.h"
#include "pkg/usr-merge.h"

#define DPKG_DIR "var/lib/dpkg"

struct dpkg_db {
        struct dpkg_package *pkgs; /* sorted by info_name */
        size_t n;
        struct path_index paths; /* unique; pkg indexes db->pkgs */
};

/* --- the database --- */

void dpkg_db_free(struct dpkg_db *db) {
        if (!db)
                return;
        dpkg_packages_free(db->pkgs, db->n);
        path_index_done(&db->paths);
        free(db);
}

size_t dpkg_db_size(const struct dpkg_db *db) {
        return db ? db->n : 0;
}

const struct dpkg_package *dpkg_db_package(const struct dpkg_db *db, size_t i) {
        return db && i < db->n ? &db->pkgs[i] : NULL;
}

const struct dpkg_package *dpkg_db_find(const struct dpkg_db *db, const char *info_name) {
        if (!db || !info_name)
                return NULL;
        for (size_t lo = 0, hi = db->n; lo < hi;) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(info_name, db->pkgs[mid].info_name);
                if (c == 0)
                        return &db->pkgs[mid];
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

/* Adds the paths of a .list (one absolute path a line) or .md5sums ("<md5>
 * <path>") of package pkg. */
static int add_paths(struct dpkg_db *db, size_t pkg, const char *buf, size_t len, bool md5sums) {
        for (const char *l = buf; l < buf + len;) {
                const char *eol = memchr(l, '\n', (size_t) (buf + len - l));
                size_t ll = eol ? (size_t) (eol - l) : (size_t) (buf + len - l);
                _cleanup_free_ char *line = strndup(l, ll);
                const char *p = line;
                int r;

                l += ll + 1;
                if (!line)
                        return -ENOMEM;
                if (md5sums) {
                        p = strchr(line, ' ');
                        if (!p)
                                continue;
                        p += strspn(p, " ");
                }
                r = path_index_add(&db->paths, p, pkg);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The name of one of pkg's files: "var/lib/dpkg/info/<info_name>.<ext>",
 * or status.d's "var/lib/dpkg/status.d/<name>.md5sums". */
static char *info_path(const struct dpkg_package *pkg, const char *ext) {
        char *r = NULL;
        int n = pkg->from_status_d ? asprintf(&r, DPKG_DIR "/status.d/%s.%s", pkg->name, ext)
                                   : asprintf(&r, DPKG_DIR "/info/%s.%s", pkg->info_name, ext);
        return n < 0 ? NULL : r;
}

static int load_lists(struct dpkg_db *db, int root_fd, const char *root_name, struct smith_error **err) {
        for (size_t i = 0; i < db->n; i++) {
                const struct dpkg_package *pkg = &db->pkgs[i];
                _cleanup_free_ char *path = info_path(pkg, pkg->from_status_d ? "md5sums" : "list"), *buf = NULL;
                size_t len = 0;
                int r;

                if (!path)
                        return error_oom(err);
                r = root_read_file(root_fd, path, DPKG_LIST_MAX, &buf, &len);
                if (r == -ENOENT || r == -EBADF)
                        continue; /* a package without files (or a hostile non-file): nothing to attribute */
                if (r == -EFBIG)
                        return error_set(err, SMITH_ERR_SOURCE, "'%s' in '%s' is larger than %u MiB", path,
                                         PATH_FOR_MSG(root_name), DPKG_LIST_MAX >> 20);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_SOURCE, r, "read '%s' in '%s'", path,
                                               PATH_FOR_MSG(root_name));
                r = add_paths(db, i, buf, len, pkg->from_status_d);
                if (r == -E2BIG)
                        return error_set(err, SMITH_ERR_SOURCE, "the dpkg database of '%s' lists more than %d paths",
                                         PATH_FOR_MSG(root_name), DPKG_MAX_PATHS);
                if (r < 0)
                        return error_oom(err);
        }
        path_index_sort(&db->paths, true);
        return 0;
}

/* distroless: one stanza a file in status.d/, beside its .md5sums. */
static int load_status_d(int root_fd, const char *root_name, struct dpkg_package **ret, size_t *ret_n,
                         struct smith_error **err) {
        _cleanup_strv_free_ char **names = NULL;
        struct dpkg_package *all = NULL;
        size_t n_all = 0;
        int fd = root_openat(root_fd, DPKG_DIR "/status.d", O_RDONLY | O_DIRECTORY, 0);
        DIR *d;
        struct dirent *de;

        *ret = NULL;
        *ret_n = 0;
        if (fd < 0)
                return fd == -ENOENT || fd == -ENOTDIR
                               ? 0
                               : error_set_errno(err, SMITH_ERR_SOURCE, fd, "open '" DPKG_DIR "/status.d' in '%s'",
                                                 PATH_FOR_MSG(root_name));
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return error_oom(err);
        }
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (de->d_name[0] == '.' || (l > 8 && streq(de->d_name + l - 8, ".md5sums")))
                        continue; /* <name>.md5sums: read with the package */
                if (strv_length(names) >= DPKG_MAX_PACKAGES) {
                        closedir(d);
                        return error_set(err, SMITH_ERR_SOURCE,
                                         "'" DPKG_DIR "/status.d' in '%s' lists more than %d packages",
                                         PATH_FOR_MSG(root_name), DPKG_MAX_PACKAGES);
                }
                if (strv_extend(&names, de->d_name) < 0) {
                        closedir(d);
                        return error_oom(err);
                }
        }
        closedir(d);
        strv_sort(names);
        for (size_t i = 0; names && names[i]; i++) {
                _cleanup_free_ char *path = NULL, *buf = NULL;
                struct dpkg_package *pkgs = NULL, *q;
                size_t n = 0, len = 0;
                int r;

                if (asprintf(&path, DPKG_DIR "/status.d/%s", names[i]) < 0)
                        return dpkg_packages_free(all, n_all), error_oom(err);
                r = root_read_file(root_fd, path, DPKG_STATUS_MAX, &buf, &len);
                if (r == -EBADF || r == -ENOENT)
                        continue;
                if (r < 0) {
                        dpkg_packages_free(all, n_all);
                        return error_set_errno(err, SMITH_ERR_SOURCE, r, "read '%s' in '%s'", path,
                                               PATH_FOR_MSG(root_name));
                }
                if (dpkg_status_parse(buf, len, true, &pkgs, &n, err) < 0) {
                        dpkg_packages_free(all, n_all);
                        return error_wrap(err, "'%s' in '%s'", path, PATH_FOR_MSG(root_name));
                }
                q = n > 0 ? reallocarray(all, n_all + n, sizeof(*all)) : all;
                if (n > 0 && !q) {
                        dpkg_packages_free(pkgs, n);
                        dpkg_packages_free(all, n_all);
                        return error_oom(err);
                }
                all = q;
                if (n > 0)
                        memcpy(all + n_all, pkgs, n * sizeof(*pkgs));
                n_all += n;
                free(pkgs);
        }
        if (n_all > 0)
                qsort(all, n_all, sizeof(*all), dpkg_package_cmp);
        *ret = all;
        *ret_n = n_all;
        return 0;
}

int dpkg_db_load(int root_fd, const char *root_name, struct dpkg_db **ret, struct smith_error **err) {
        _cleanup_(dpkg_db_freep) struct dpkg_db *db = calloc(1, sizeof(*db));
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        *ret = NULL;
        if (!db)
                return error_oom(err);
        r = root_read_file(root_fd, DPKG_DIR "/status", DPKG_STATUS_MAX, &buf, &len);
        if (r == -EFBIG)
                return error_set(err, SMITH_ERR_SOURCE, "'" DPKG_DIR "/status' in '%s' is larger than %u MiB",
                                 PATH_FOR_MSG(root_name), DPKG_STATUS_MAX >> 20);
        if (r >= 0) {
                if (dpkg_status_parse(buf, len, false, &db->pkgs, &db->n, err) < 0)
                        return error_wrap(err, "'" DPKG_DIR "/status' in '%s'", PATH_FOR_MSG(root_name));
        } else if (r == -ENOENT || r == -ENOTDIR || r == -EBADF) {
                if (load_status_d(root_fd, root_name, &db->pkgs, &db->n, err) < 0)
                        return -1;
                if (db->n == 0)
                        return 0; /* no database */
        } else
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "read '" DPKG_DIR "/status' in '%s'",
                                       PATH_FOR_MSG(root_name));
        usr_merge_find(&db->paths.usr, root_fd);
        db->paths.max = DPKG_MAX_PATHS;
        if (load_lists(db, root_fd, root_name, err) < 0)
                return -1;
        *ret = TAKE_PTR(db);
        return 0;
}

const struct dpkg_package *dpkg_db_owner(const struct dpkg_db *db, const char *path) {
        ssize_t i = db ? path_index_owner(&db->paths, path) : -1;
        return i >= 0 ? &db->pkgs[i] : NULL;
}

/* --- attribution --- */

static const char *info_name_of(size_t pkg, const void *ud) {
        return ((const struct dpkg_db *) ud)->pkgs[pkg].info_name;
}

int dpkg_db_attribute(const struct dpkg_db *db, struct plan *p, struct smith_error **err) {
        return db ? path_index_attribute(&db->paths, p, info_name_of, db, err) : 0;
}

/* --- writing the metadata back --- */

struct shipped {
        char *path; /* as the image names it, relative */
        char *pkg;  /* info_name */
        bool file;  /* a regular file: has an md5sum */
};

struct collect {
        struct shipped *s;
        size_t n, cap;
        int r;
};

static int collect_one(const struct plan_entry *e, void *userdata) {
        struct collect *c = userdata;

        if (!e->package)
                return 0;
        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 256;
                struct shipped *q = reallocarray(c->s, cap, sizeof(*q));
                if (!q)
                        return c->r = -ENOMEM;
                c->s = q;
                c->cap = cap;
        }
        /* copies: the plan changes while they are used */
        c->s[c->n] =
                (struct shipped){ .path = strdup(e->path), .pkg = strdup(e->package), .file = e->type == PLAN_FILE };
        if (!c->s[c->n].path || !c->s[c->n].pkg) {
                free(c->s[c->n].path);
                free(c->s[c->n].pkg);
                return c->r = -ENOMEM;
        }
        c->n++;
        return 0;
}

/* Orders by package, then path: each package's files together, sorted. */
static int shipped_cmp(const void *a, const void *b) {
        const struct shipped *x = a, *y = b;
        int c = strcmp(x->pkg, y->pkg);
        return c ? c : strcmp(x->path, y->path);
}

struct md5 {
        char *path; /* /usr form */
        char sum[33];
};

static int md5_cmp(const void *a, const void *b) {
        return strcmp(((const struct md5 *) a)->path, ((const struct md5 *) b)->path);
}

static void md5s_free(struct md5 *m, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(m[i].path);
        free(m);
}

/* A package's md5sums from the root, sorted by /usr path; missing is empty. */
static int load_md5s(const struct dpkg_db *db, int root_fd, const struct dpkg_package *pkg, struct md5 **ret,
                     size_t *ret_n) {
        _cleanup_free_ char *path = info_path(pkg, "md5sums"), *buf = NULL;
        struct md5 *m = NULL;
        size_t n = 0, cap = 0, len = 0;
        int r;

        *ret = NULL;
        *ret_n = 0;
        if (!path)
                return -ENOMEM;
        r = root_read_file(root_fd, path, DPKG_LIST_MAX, &buf, &len);
        if (r < 0)
                return r == -ENOENT || r == -EBADF ? 0 : r;
        for (const char *l = buf; l < buf + len;) {
                const char *eol = memchr(l, '\n', (size_t) (buf + len - l));
                size_t ll = eol ? (size_t) (eol - l) : (size_t) (buf + len - l);
                _cleanup_free_ char *line = strndup(l, ll), *rel = NULL;
                const char *p;

                l += ll + 1;
                if (!line)
                        goto oom;
                if (ll < 34 || strspn(line, "0123456789abcdef") != 32 || line[32] != ' ')
                        continue;
                p = line + 32 + strspn(line + 32, " ");
                if (path_normalize(p, PATH_DOTDOT_REFUSE | PATH_CHECK_LENGTH, &rel) < 0 || isempty(rel))
                        continue;
                if (n == cap) {
                        size_t c = cap ? cap * 2 : 64;
                        struct md5 *q = reallocarray(m, c, sizeof(*q));
                        if (!q)
                                goto oom;
                        m = q;
                        cap = c;
                }
                m[n].path = usr_merge_form(&db->paths.usr, rel);
                if (!m[n].path)
                        goto oom;
                memcpy(m[n].sum, line, 32);
                m[n++].sum[32] = '\0';
        }
        if (n > 0)
                qsort(m, n, sizeof(*m), md5_cmp);
        *ret = m;
        *ret_n = n;
        return 0;
oom:
        md5s_free(m, n);
        return -ENOMEM;
}

/* One package's .list and .md5sums from its shipped entries s[0..n). */
static int plan_package_files(const struct dpkg_db *db, int root_fd, const struct dpkg_package *pkg,
                              const struct shipped *s, size_t n, struct plan *p, struct smith_error **err) {
        _cleanup_buf_ struct buf list = BUF_INIT(DPKG_LIST_MAX), sums = BUF_INIT(DPKG_LIST_MAX);
        _cleanup_free_ char *list_name = NULL, *sums_name = NULL;
        struct md5 *m = NULL;
        size_t n_m = 0;
        int r;

        r = load_md5s(db, root_fd, pkg, &m, &n_m);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "read the md5sums of '%s'", pkg->info_name);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *u = NULL;
                struct md5 key, *found = NULL;

                if (buf_append_str(&list, "/") < 0 || buf_append_str(&list, s[i].path) < 0 ||
                    buf_append_str(&list, "\n") < 0)
                        goto oom;
                if (!s[i].file || n_m == 0)
                        continue;
                u = usr_merge_form(&db->paths.usr, s[i].path);
                if (!u)
                        goto oom;
                key.path = u;
                found = bsearch(&key, m, n_m, sizeof(*m), md5_cmp);
                if (found && (buf_append_str(&sums, found->sum) < 0 || buf_append_str(&sums, "  ") < 0 ||
                              buf_append_str(&sums, s[i].path) < 0 || buf_append_str(&sums, "\n") < 0))
                        goto oom;
        }
        md5s_free(m, n_m);
        m = NULL;
        if (asprintf(&list_name, DPKG_DIR "/info/%s.list", pkg->info_name) < 0 ||
            asprintf(&sums_name, DPKG_DIR "/info/%s.md5sums", pkg->info_name) < 0)
                return error_oom(err);
        if (plan_add_generated(p, list_name, list.data, list.len, err) < 0)
                return -1;
        if (sums.len > 0 && plan_add_generated(p, sums_name, sums.data, sums.len, err) < 0)
                return -1;
        return 0;
oom:
        md5s_free(m, n_m);
        return error_oom(err);
}

static int plan_os_release(int root_fd, struct plan *p, struct smith_error **err) {
        static const char *const files[] = { "etc/os-release", "etc/debian_version" };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_buf_ struct buf b = BUF_INIT(DPKG_OS_RELEASE_MAX);
                size_t len = 0;
                int r = root_read_file(root_fd, files[i], DPKG_OS_RELEASE_MAX, &b.data, &len);

                if (r == -ENOENT || r == -EBADF || r == -ENOTDIR || r == -ELOOP)
                        continue;
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_SOURCE, r, "read '/%s'", files[i]);
                b.len = b.cap = len;
                if (plan_add_generated(p, files[i], b.data, b.len, err) < 0)
                        return -1;
        }
        return 0;
}

int dpkg_db_plan_metadata(const struct dpkg_db *db, int root_fd, struct plan *p, struct smith_error **err) {
        const struct plan_reason why = { .kind = PLAN_REASON_PACKAGE_METADATA };
        _cleanup_buf_ struct buf status = BUF_INIT(DPKG_STATUS_MAX + DPKG_MAX_PACKAGES * 64), format = BUF_INIT(8);
        struct collect c = {};
        int n = 0, r = 0;

        if (!db)
                return 0;
        if (plan_foreach(p, collect_one, &c) < 0 || c.r < 0)
                r = error_oom(err);
        if (r < 0 || c.n == 0)
                goto out;
        qsort(c.s, c.n, sizeof(*c.s), shipped_cmp);
        r = plan_set_reason(p, &why);
        if (r < 0)
                r = error_oom(err);
        for (size_t i = 0; r >= 0 && i < c.n;) {
                const struct dpkg_package *pkg = dpkg_db_find(db, c.s[i].pkg);
                size_t j = i;

                while (j < c.n && streq(c.s[j].pkg, c.s[i].pkg))
                        j++;
                if (pkg) {
                        if ((status.len > 0 && buf_append_str(&status, "\n") < 0) ||
                            buf_append_str(&status, pkg->stanza) < 0)
                                r = error_oom(err);
                        else
                                r = plan_package_files(db, root_fd, pkg, c.s + i, j - i, p, err);
                        n++;
                }
                i = j;
        }
out:
        for (size_t i = 0; i < c.n; i++) {
                free(c.s[i].path);
                free(c.s[i].pkg);
        }
        free(c.s);
        if (r < 0)
                return r;
        if (n == 0)
                return 0;
        /* info/format 1: the files of Multi-Arch: same packages are named "<name>:<arch>" */
        if (buf_append_str(&format, "1\n") < 0)
                return error_oom(err);
        if (plan_add_generated(p, DPKG_DIR "/status", status.data, status.len, err) < 0 ||
            plan_add_generated(p, DPKG_DIR "/info/format", format.data, format.len, err) < 0 ||
            plan_os_release(root_fd, p, err) < 0)
                return -1;
        return n;
}
