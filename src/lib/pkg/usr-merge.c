/* Merged /usr aliases of a source root, for the package databases; see
 * usr-merge.h. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "pkg/usr-merge.h"

static const char *const usr_aliases[USR_MERGE_ALIASES] = { "bin", "sbin", "lib", "lib32", "lib64", "libx32" };

void usr_merge_find(struct usr_merge *m, int root_fd) {
        for (size_t i = 0; i < ELEMENTSOF(usr_aliases); i++) {
                char target[PATH_MAX];
                _cleanup_free_ char *norm = NULL, *want = NULL;
                ssize_t n = readlinkat(root_fd, usr_aliases[i], target, sizeof(target) - 1);

                m->alias[i] = false;
                if (n <= 0)
                        continue;
                target[n] = '\0';
                norm = path_normalized(target, 0);
                if (asprintf(&want, "usr/%s", usr_aliases[i]) < 0)
                        want = NULL;
                m->alias[i] = norm && want && streq(norm, want);
        }
}

char *usr_merge_form(const struct usr_merge *m, const char *path) {
        size_t n = strcspn(path, "/");

        for (size_t i = 0; i < ELEMENTSOF(usr_aliases); i++)
                if (m->alias[i] && path[n] == '/' && strlen(usr_aliases[i]) == n && strneq(path, usr_aliases[i], n)) {
                        char *r = NULL;
                        return asprintf(&r, "usr/%s", path) < 0 ? NULL : r;
                }
        return strdup(path);
}

bool usr_merge_is_alias(const struct usr_merge *m, const char *path) {
        for (size_t i = 0; i < ELEMENTSOF(usr_aliases); i++)
                if (m->alias[i] && streq(path, usr_aliases[i]))
                        return true;
        return false;
}
