/* Adding the ./rootfs overlay to the plan; see overlay.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "tree/overlay.h"

#define OVERLAY_MAX_DEPTH 256

static char *place(struct plan *p, const char *rel) {
        /* the parent goes through the plan's symlinks; the entry itself is replaced */
        const char *slash = strrchr(rel, '/');
        _cleanup_free_ char *parent = NULL, *resolved = NULL;
        char *r;

        if (!slash)
                return strdup(rel);
        parent = strndup(rel, (size_t) (slash - rel));
        if (!parent)
                return NULL;
        resolved = plan_resolve(p, parent, true);
        if (!resolved)
                return NULL;
        if (asprintf(&r, "%s%s%s", resolved, isempty(resolved) ? "" : "/", slash + 1) < 0)
                return NULL;
        return r;
}

static int overlay_walk(struct plan *p, int top_fd, const char *name, const char *rel, int dfd, unsigned depth,
                        struct smith_error **err) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int keep = -1;
        int q;

        if (depth > OVERLAY_MAX_DEPTH) {
                close(dfd);
                return error_set(err, SMITH_ERR_IO, "'%s/%s': directories nested too deep", name, rel);
        }
        keep = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        q = keep < 0 ? -errno : dir_list_sorted(dfd, &names);
        if (keep < 0)
                close(dfd);
        if (q < 0)
                return error_set_errno(err, SMITH_ERR_IO, q, "read '%s/%s'", name, rel);
        for (size_t i = 0; names && names[i]; i++) {
                _cleanup_free_ char *child = NULL, *dest = NULL;
                struct stat st;
                int r;

                if (asprintf(&child, "%s%s%s", rel, isempty(rel) ? "" : "/", names[i]) < 0) {
                        return error_oom(err);
                }
                if (fstatat(keep, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        return error_set_errno(err, SMITH_ERR_IO, r, "stat '%s/%s'", name, child);
                }
                if (S_ISDIR(st.st_mode))
                        dest = plan_resolve(p, child, true);
                else
                        dest = place(p, child);
                if (!dest) {
                        return error_set(err, SMITH_ERR_IO, "'%s/%s': too many levels of symbolic links", name, child);
                }
                if (S_ISDIR(st.st_mode)) {
                        int cfd;
                        r = plan_add_dir(p, dest, PLAN_FROM_OVERLAY);
                        if (r >= 0) {
                                cfd = openat(keep, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                                r = cfd < 0 ? -errno : 0;
                                if (r >= 0) {
                                        r = overlay_walk(p, top_fd, name, child, cfd, depth + 1, err);
                                        if (r < 0)
                                                return r;
                                }
                        }
                } else if (S_ISREG(st.st_mode)) {
                        if (streq(names[i], ".gitignore"))
                                continue;
                        r = plan_add_file(p, dest, PLAN_FROM_OVERLAY, top_fd, child, (st.st_mode & 0111) != 0,
                                          st.st_dev, st.st_ino, st.st_nlink);
                } else if (S_ISLNK(st.st_mode)) {
                        char target[4096];
                        ssize_t n = readlinkat(keep, names[i], target, sizeof(target) - 1);
                        if (n < 0)
                                r = -errno;
                        else {
                                target[n] = '\0';
                                r = plan_add_symlink(p, dest, PLAN_FROM_OVERLAY, target);
                        }
                } else {
                        log_warn("skipping '%s/%s': device, fifo or socket", name, child);
                        r = 0;
                }
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_IO, r, "overlay '%s/%s'", name, child);
        }
        return 0;
}

int overlay_add_tree(struct plan *p, int dirfd, const char *name, struct smith_error **err) {
        const struct plan_reason why = { .kind = PLAN_REASON_OVERLAY };
        int dfd;

        if (plan_set_reason(p, &why) < 0)
                return error_oom(err);
        dfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "overlay '%s'", name);
        return overlay_walk(p, dirfd, name, "", dfd, 0, err);
}
