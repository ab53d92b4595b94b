/* Paths as strings: the one lexical normaliser, joining, and the safety
 * check for relative names.  Nothing here looks at the file system (see
 * fs.h for resolving inside a root). */
#pragma once

#include <stdbool.h>

#define PATH_NAME_MAX 255 /* bytes in one component */

enum path_flags {
        PATH_ABSOLUTE = 1 << 0,      /* the result starts with "/" ("/" for the root), else it has
                                      * no leading "/" ("" for the root) */
        PATH_DOTDOT_REFUSE = 1 << 1, /* a ".." component is -EXDEV (names in archives), else it
                                      * pops one component and stops at the root */
        PATH_CHECK_LENGTH = 1 << 2,  /* -ENAMETOOLONG past 4096 bytes, or a component past
                                      * PATH_NAME_MAX */
};

/* Collapses "//", "." and ".." lexically (symlinks are not looked at);
 * leading slashes and a trailing one are dropped.  Input is always taken
 * relative to the root.  Returns 0, -EXDEV, -ENAMETOOLONG or -ENOMEM. */
int path_normalize(const char *in, unsigned flags, char **ret);
/* path_normalize() for the cases that cannot fail but for memory. */
char *path_normalized(const char *in, unsigned flags);

/* "a" + "/" + "b", with exactly one slash between. */
char *path_join(const char *a, const char *b);
/* True for a relative path that is safe to use below a directory: no
 * leading "/", no ".." component, not empty. */
bool path_is_safe_relative(const char *p);
/* path_is_safe_relative() and no blank, control character, '\\', '?' or '#',
 * no ':' before the first '/' and no "//" (an absolute URL): a file location
 * from a repository index, safe to append to its URL. */
bool path_is_safe_location(const char *p);
