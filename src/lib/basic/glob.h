/* Globbing inside an untrusted root: each component of a pattern matched
 * with fnmatch() against a sorted listing of a directory opened through
 * root_openat(), so a match can never name a file outside the root.  The
 * one engine for smith.yaml's paths (Go's filepath.Glob rules) and for
 * ld.so.conf's include lines (glob()'s). */
#pragma once

#include <stddef.h>

enum root_glob_flags {
        ROOT_GLOB_PERIOD = 1 << 0,   /* as glob(): a leading '.' is only matched by a '.' */
        ROOT_GLOB_EXISTING = 1 << 1, /* a match must exist (a literal last component too) */
};

/* Expands comps (the pattern's components, a NULL-terminated list without
 * "." and "..") below the root's top into absolute paths inside the root,
 * sorted per directory.  A directory that is missing or cannot be read
 * matches nothing, as with glob().  Returns 0 and a strv (NULL for no
 * match), -E2BIG for more than max matches, or another -errno. */
int root_glob_expand(int root_fd, char *const *comps, unsigned flags, size_t max, char ***ret);
