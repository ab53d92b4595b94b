/* For the fuzz targets that unpack into a root: anything that appears in
 * the root's parent beside it is an escape, and the run aborts. */
#pragma once

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "basic/macro.h"

static inline void fuzz_check_alone(const char *parent) {
        DIR *d = opendir(parent);
        struct dirent *de;

        if (!d)
                abort();
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") && !streq(de->d_name, "root")) {
                        fprintf(stderr, "escape: '%s' appeared beside the root\n", de->d_name);
                        abort();
                }
        closedir(d);
}
