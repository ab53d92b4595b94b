/* Globbing inside a root; see glob.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "glob.h"
#include "strv.h"

static bool has_meta(const char *s) {
        return strpbrk(s, "*?[\\") != NULL;
}

static bool missing(int r) {
        return r == -ENOENT || r == -ENOTDIR || r == -ELOOP || r == -EACCES;
}

static int expand(int root_fd, const char *prefix, char *const *comps, unsigned flags, size_t max, char ***results) {
        _cleanup_strv_free_ char **names = NULL;
        const char *here = isempty(prefix) ? "/" : prefix;
        int r, dfd;

        if (!comps[0]) {
                if (flags & ROOT_GLOB_EXISTING) {
                        int fd = root_openat(root_fd, here, O_PATH | O_NOFOLLOW, 0);
                        if (fd < 0)
                                return missing(fd) ? 0 : fd;
                        close(fd);
                }
                if (strv_length(*results) >= max)
                        return -E2BIG;
                return strv_extend(results, here);
        }
        if (!has_meta(comps[0])) {
                _cleanup_free_ char *next = NULL;
                if (asprintf(&next, "%s/%s", prefix, comps[0]) < 0)
                        return -ENOMEM;
                return expand(root_fd, next, comps + 1, flags, max, results);
        }
        dfd = root_openat(root_fd, here, O_RDONLY | O_DIRECTORY, 0);
        if (dfd < 0)
                return missing(dfd) ? 0 : dfd;
        r = dir_list_sorted(dfd, &names);
        if (r < 0)
                return r;
        for (size_t j = 0; names && names[j]; j++) {
                _cleanup_free_ char *next = NULL;
                if (fnmatch(comps[0], names[j], (flags & ROOT_GLOB_PERIOD) ? FNM_PERIOD : 0) != 0)
                        continue;
                if (asprintf(&next, "%s/%s", prefix, names[j]) < 0)
                        return -ENOMEM;
                r = expand(root_fd, next, comps + 1, flags, max, results);
                if (r < 0)
                        return r;
        }
        return 0;
}

int root_glob_expand(int root_fd, char *const *comps, unsigned flags, size_t max, char ***ret) {
        _cleanup_strv_free_ char **results = NULL;
        int r = expand(root_fd, "", comps, flags, max, &results);

        if (r < 0)
                return r;
        *ret = TAKE_PTR(results);
        return 0;
}
