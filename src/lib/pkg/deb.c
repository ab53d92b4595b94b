/* .deb payloads; see deb.h.  Two libarchive readers: the ar archive over
 * the file, and the data tar over the ar member's bytes (its read callback
 * pulls archive_read_data() from the outer one), so nothing is written to
 * a temporary file and the payload is read once. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/strv.h"
#include "deb.h"
#include "layer/unpack.h"

#define MEMBER_BUF (64 * 1024)

uint64_t deb_max_uncompressed(uint64_t size) {
        uint64_t floor = 256ULL << 20;
        if (size > UNPACK_DEFAULT_MAX_UNPACKED / 100)
                return UNPACK_DEFAULT_MAX_UNPACKED;
        return MAX(floor, size * 100);
}

int deb_merged_usr(int root_fd, struct smith_error **err) {
        static const char *const dirs[] = { "bin", "sbin", "lib", "lib64" };

        if (mkdirat(root_fd, "usr", 0755) < 0 && errno != EEXIST)
                return error_set_errno(err, SMITH_ERR_IO, errno, "create '/usr'");
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *d = path_join("usr", dirs[i]);
                if (!d)
                        return error_oom(err);
                if (mkdirat(root_fd, d, 0755) < 0 && errno != EEXIST)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "create '/%s'", d);
                if (symlinkat(d, root_fd, dirs[i]) < 0 && errno != EEXIST)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "create '/%s'", dirs[i]);
        }
        return 0;
}

struct member {
        struct archive *outer;
        int tar_fd; /* >= 0: the member's tar, decompressed before (deb_data_decompress()), read from here */
        uint64_t max;
        char *buf;
        bool too_large; /* the limit stopped it (a filter's own message would hide that) */
};

static la_ssize_t member_read(struct archive *a, void *ud, const void **buf) {
        struct member *m = ud;
        la_ssize_t n;

        /* what the tar format consumed so far, decompressed: a bomb stops here */
        if (archive_filter_bytes(a, 0) > (la_int64_t) m->max) {
                archive_set_error(a, EFBIG, "more than %llu bytes uncompressed", (unsigned long long) m->max);
                m->too_large = true;
                return -1;
        }
        if (m->tar_fd >= 0) {
                do
                        n = read(m->tar_fd, m->buf, MEMBER_BUF);
                while (n < 0 && errno == EINTR);
                if (n < 0) {
                        archive_set_error(a, errno, "read error");
                        return -1;
                }
                *buf = m->buf;
                return n;
        }
        n = archive_read_data(m->outer, m->buf, MEMBER_BUF);
        if (n < 0) {
                archive_set_error(a, EIO, "%s", archive_error_string(m->outer) ?: "read error");
                return -1;
        }
        *buf = m->buf;
        return n;
}

/* The filter for a member named prefix + ".tar" + a known suffix; -1 for
 * a name that is not one. */
static int member_filter(const char *name, const char *prefix) {
        static const struct {
                const char *suffix;
                int filter;
        } map[] = {
                { "", ARCHIVE_FILTER_NONE },     { ".xz", ARCHIVE_FILTER_XZ },     { ".gz", ARCHIVE_FILTER_GZIP },
                { ".zst", ARCHIVE_FILTER_ZSTD }, { ".bz2", ARCHIVE_FILTER_BZIP2 }, { ".lzma", ARCHIVE_FILTER_LZMA },
        };
        size_t n = strlen(prefix);

        if (!strneq(name, prefix, n) || !strneq(name + n, ".tar", 4))
                return -1;
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(name + n + 4, map[i].suffix))
                        return map[i].filter;
        return -1;
}

static int data_filter(const char *name) {
        return member_filter(name, "data");
}

static int enable_filter(struct archive *a, int filter) {
        switch (filter) {
        case ARCHIVE_FILTER_XZ:
                return archive_read_support_filter_xz(a);
        case ARCHIVE_FILTER_GZIP:
                return archive_read_support_filter_gzip(a);
        case ARCHIVE_FILTER_ZSTD:
                return archive_read_support_filter_zstd(a);
        case ARCHIVE_FILTER_BZIP2:
                return archive_read_support_filter_bzip2(a);
        case ARCHIVE_FILTER_LZMA:
                return archive_read_support_filter_lzma(a);
        default:
                return ARCHIVE_OK;
        }
}

/* A tar reader over the current member of outer, decompressed by filter. */
static int open_member(struct archive *outer, int tar_fd, struct member *m, int filter, const char *member,
                       uint64_t max, struct archive **ret, struct smith_error **err) {
        struct archive *inner;
        int r;

        *m = (struct member){ .outer = outer, .tar_fd = tar_fd, .max = max };
        if (tar_fd >= 0)
                filter = ARCHIVE_FILTER_NONE; /* decompressed already */
        m->buf = malloc(MEMBER_BUF);
        inner = archive_read_new();
        if (!m->buf || !inner) {
                free(m->buf);
                archive_read_free(inner);
                return error_oom(err);
        }
        /* in-process filters only: ARCHIVE_WARN means libarchive would run
         * an external program, which a hostile package must not choose */
        r = enable_filter(inner, filter);
        if (r == ARCHIVE_OK)
                r = archive_read_support_format_tar(inner);
        if (r != ARCHIVE_OK) {
                error_from_archive(err, SMITH_ERR_IO, inner, "'%s'", member);
                goto fail;
        }
        if (archive_read_open(inner, m, NULL, member_read, NULL) != ARCHIVE_OK) {
                error_from_archive(err, SMITH_ERR_SOURCE, inner, "'%s'", member);
                goto fail;
        }
        *ret = inner;
        return 0;
fail:
        archive_read_free(inner);
        free(m->buf);
        return -1;
}

static int unpack_data(int root_fd, struct archive *outer, int tar_fd, const char *member, uint64_t max,
                       const struct unpack_limits *limits, uint64_t *used, char ***ret_paths,
                       struct smith_error **err) {
        struct member m;
        struct unpack_stats stats = { .unpacked = *used };
        struct archive *inner = NULL;
        int r;

        if (open_member(outer, tar_fd, &m, data_filter(member), member, max, &inner, err) < 0)
                return -1;
        r = layer_unpack_archive(root_fd, inner,
                                 UNPACK_NO_WHITEOUTS | UNPACK_KEEP_DIR_SYMLINKS | (ret_paths ? UNPACK_LIST_PATHS : 0),
                                 limits, &stats, err);
        *used = stats.unpacked;
        if (r < 0) {
                if (m.too_large) {
                        error_free(*err);
                        *err = NULL;
                        error_set(err, SMITH_ERR_SOURCE, "more than %llu bytes uncompressed (a decompression bomb?)",
                                  (unsigned long long) max);
                }
                error_wrap(err, "'%s'", member);
                goto out;
        }
        if (ret_paths)
                *ret_paths = TAKE_PTR(stats.paths);
out:
        strv_free(stats.paths);
        archive_read_free(inner);
        free(m.buf);
        return r < 0 ? -1 : 0;
}

/* Walks the ar members of a .deb as dpkg reads them (deb(5)):
 * debian-binary first, then control.tar*, then data.tar*, members named
 * "_..." (reserved, skipped) anywhere between; anything else before
 * data.tar, a second control.tar or data.tar anywhere, is refused, since
 * two tools reading one file must never see two payloads.  fn is called
 * for the member named prefix.tar*, and the walk goes on to the end. */
typedef int (*member_fn)(struct archive *a, const char *name, void *userdata, struct smith_error **err);

enum walk_state {
        WALK_VERSION,
        WALK_CONTROL,
        WALK_DATA,
        WALK_AFTER,
};

static int walk_deb(int fd, const char *prefix, member_fn fn, void *userdata, struct smith_error **err) {
        struct archive *a = archive_read_new();
        enum walk_state state = WALK_VERSION;
        int r = -1;

        if (!a)
                return error_oom(err);
        if (archive_read_support_format_ar(a) != ARCHIVE_OK) {
                error_from_archive(err, SMITH_ERR_IO, a, "libarchive");
                goto out;
        }
        if (archive_read_open_fd(a, fd, MEMBER_BUF) != ARCHIVE_OK) {
                error_from_archive(err, SMITH_ERR_SOURCE, a, "not a .deb");
                goto out;
        }
        for (;;) {
                struct archive_entry *e;
                const char *name;
                bool control, data;
                int q = archive_read_next_header(a, &e);

                if (q == ARCHIVE_EOF)
                        break;
                if (q != ARCHIVE_OK && q != ARCHIVE_WARN) {
                        error_from_archive(err, SMITH_ERR_SOURCE, a, "not a .deb");
                        goto out;
                }
                name = archive_entry_pathname(e);
                if (!name)
                        name = "";
                if (state == WALK_VERSION) {
                        char v[16] = "";
                        la_ssize_t n;

                        if (!streq(name, "debian-binary")) {
                                error_set(err, SMITH_ERR_SOURCE, "not a .deb: the first member is not 'debian-binary'");
                                goto out;
                        }
                        n = archive_read_data(a, v, sizeof(v) - 1);
                        if (n < 2 || !strneq(v, "2.", 2)) {
                                error_set(err, SMITH_ERR_SOURCE, "unsupported .deb format version");
                                goto out;
                        }
                        state = WALK_CONTROL;
                        continue;
                }
                if (name[0] == '_')
                        continue;
                control = member_filter(name, "control") >= 0;
                data = member_filter(name, "data") >= 0;
                if (control && state != WALK_CONTROL) {
                        error_set(err, SMITH_ERR_SOURCE, "not a .deb: a second control member '%.100s'", name);
                        goto out;
                }
                if (data && state == WALK_AFTER) {
                        error_set(err, SMITH_ERR_SOURCE, "not a .deb: a second data member '%.100s'", name);
                        goto out;
                }
                if (state == WALK_CONTROL && !control) {
                        error_set(err, SMITH_ERR_SOURCE, "not a .deb: member '%.100s' where control.tar belongs", name);
                        goto out;
                }
                if (state == WALK_DATA && !data) {
                        error_set(err, SMITH_ERR_SOURCE, "not a .deb: unknown member '%.100s' before data.tar", name);
                        goto out;
                }
                if (state == WALK_AFTER)
                        continue; /* what follows data.tar is never read (dpkg stops there) */
                if ((control || data) && member_filter(name, prefix) >= 0 && fn(a, name, userdata, err) < 0)
                        goto out;
                state = control ? WALK_DATA : WALK_AFTER;
        }
        if (state != WALK_AFTER) {
                error_set(err, SMITH_ERR_SOURCE, "not a .deb: no %s.tar member",
                          state == WALK_DATA ? "data" : "control");
                goto out;
        }
        r = 0;
out:
        archive_read_free(a);
        return r;
}

struct unpack_args {
        int root_fd;
        int tar_fd;
        uint64_t max;
        const struct unpack_limits *limits;
        uint64_t *used;
        char ***ret_paths;
};

static int unpack_member(struct archive *a, const char *name, void *userdata, struct smith_error **err) {
        struct unpack_args *u = userdata;
        return unpack_data(u->root_fd, a, u->tar_fd, name, u->max, u->limits, u->used, u->ret_paths, err);
}

int deb_unpack_tar(int root_fd, int fd, int tar_fd, uint64_t max_uncompressed, const struct unpack_limits *limits,
                   uint64_t *used, char ***ret_paths, struct smith_error **err) {
        struct unpack_args u = { .root_fd = root_fd,
                                 .tar_fd = tar_fd,
                                 .max = max_uncompressed,
                                 .limits = limits,
                                 .used = used,
                                 .ret_paths = ret_paths };
        if (tar_fd >= 0 && lseek(tar_fd, 0, SEEK_SET) < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "read the decompressed data");
        return walk_deb(fd, "data", unpack_member, &u, err);
}

int deb_unpack(int root_fd, int fd, uint64_t max_uncompressed, const struct unpack_limits *limits, uint64_t *used,
               char ***ret_paths, struct smith_error **err) {
        return deb_unpack_tar(root_fd, fd, -1, max_uncompressed, limits, used, ret_paths, err);
}

/* --- decompressing ahead --- */

struct decompress_args {
        int out_fd;
        uint64_t max;
};

static int decompress_member(struct archive *outer, const char *name, void *userdata, struct smith_error **err) {
        struct decompress_args *d = userdata;
        int filter = data_filter(name);
        struct member m = { .outer = outer, .tar_fd = -1, .max = d->max };
        struct archive *raw = NULL;
        struct archive_entry *e;
        char *out = NULL;
        uint64_t total = 0;
        int r = -1;

        if (filter == ARCHIVE_FILTER_NONE)
                return -1; /* nothing to gain */
        m.buf = malloc(MEMBER_BUF);
        out = malloc(MEMBER_BUF);
        raw = archive_read_new();
        if (!m.buf || !out || !raw || enable_filter(raw, filter) != ARCHIVE_OK ||
            archive_read_support_format_raw(raw) != ARCHIVE_OK ||
            archive_read_open(raw, &m, NULL, member_read, NULL) != ARCHIVE_OK ||
            archive_read_next_header(raw, &e) != ARCHIVE_OK)
                goto out;
        for (;;) {
                la_ssize_t n = archive_read_data(raw, out, MEMBER_BUF);
                if (n < 0)
                        goto out;
                if (n == 0)
                        break;
                total += (uint64_t) n;
                if (total > d->max || write_full(d->out_fd, out, (size_t) n) < 0)
                        goto out;
        }
        r = 0;
out:
        archive_read_free(raw);
        free(m.buf);
        free(out);
        return r < 0 ? error_set(err, SMITH_ERR_SOURCE, "cannot decompress ahead") : 0;
}

int deb_data_decompress(int fd, uint64_t max_uncompressed, int out_fd) {
        struct decompress_args d = { .out_fd = out_fd, .max = max_uncompressed };
        struct smith_error *err = NULL;
        int r = walk_deb(fd, "data", decompress_member, &d, &err);

        error_free(err);
        return r;
}

struct control_args {
        char *text;
        size_t len;
};

static int control_member(struct archive *a, const char *name, void *userdata, struct smith_error **err) {
        struct control_args *c = userdata;
        struct member m;
        struct archive *inner = NULL;
        int r = -1;

        if (open_member(a, -1, &m, member_filter(name, "control"), name, DEB_CONTROL_MAX * 64, &inner, err) < 0)
                return -1;
        for (;;) {
                struct archive_entry *e;
                const char *p;
                int q = archive_read_next_header(inner, &e);

                if (q == ARCHIVE_EOF) {
                        error_set(err, SMITH_ERR_SOURCE, "'%s' holds no control file", name);
                        break;
                }
                if (q != ARCHIVE_OK && q != ARCHIVE_WARN) {
                        error_from_archive(err, SMITH_ERR_SOURCE, inner, "'%s'", name);
                        break;
                }
                p = archive_entry_pathname(e);
                if (!p || (!streq(p, "./control") && !streq(p, "control")))
                        continue;
                if (archive_entry_filetype(e) != AE_IFREG || archive_entry_size(e) < 0 ||
                    archive_entry_size(e) > DEB_CONTROL_MAX) {
                        error_set(err, SMITH_ERR_SOURCE, "'%s': the control file is not a file of at most %d bytes",
                                  name, DEB_CONTROL_MAX);
                        break;
                }
                c->len = (size_t) archive_entry_size(e);
                c->text = malloc(c->len + 1);
                if (!c->text) {
                        error_oom(err);
                        break;
                }
                if (archive_read_data(inner, c->text, c->len) != (la_ssize_t) c->len) {
                        error_from_archive(err, SMITH_ERR_SOURCE, inner, "'%s'", name);
                        break;
                }
                c->text[c->len] = '\0';
                r = 0;
                break;
        }
        archive_read_free(inner);
        free(m.buf);
        return r;
}

int deb_read_control(int fd, char **ret, size_t *ret_len, struct smith_error **err) {
        struct control_args c = {};

        if (walk_deb(fd, "control", control_member, &c, err) < 0) {
                free(c.text);
                return -1;
        }
        *ret = c.text;
        *ret_len = c.len;
        return 0;
}
