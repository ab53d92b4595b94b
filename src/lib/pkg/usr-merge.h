/* Merged /usr in a package database's root: a top-level bin, sbin, lib,
 * lib32, lib64 or libx32 that is a symlink to usr/<the same name> makes a
 * listed /bin/cat the image's /usr/bin/cat.  The dpkg and rpm databases
 * (dpkg-db.c, rpm-db.c) compare paths in their /usr form. */
#pragma once

#include <stdbool.h>

#define USR_MERGE_ALIASES 6

struct usr_merge {
        bool alias[USR_MERGE_ALIASES]; /* which of the top-level names is such a symlink in the root */
};

/* Reads the root's top-level symlinks (inside root_fd, never followed). */
void usr_merge_find(struct usr_merge *m, int root_fd);
/* The /usr form of a relative path: "bin/cat" is "usr/bin/cat" where bin
 * is an alias; an alias itself ("bin") stays as it is.  NULL on ENOMEM. */
char *usr_merge_form(const struct usr_merge *m, const char *path);
/* path (relative) is one of the aliases. */
bool usr_merge_is_alias(const struct usr_merge *m, const char *path);
