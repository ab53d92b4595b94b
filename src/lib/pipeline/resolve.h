/* `smith lock`: resolve what a build of smith.yaml depends on and write it
 * to smith.lock beside it (source/lock.h), fetching nothing more than
 * resolving needs.  Without update, a lock that already covers smith.yaml
 * is kept as it is. */
#pragma once

#include <stdbool.h>

#include "basic/error.h"
#include "build.h"

/* Uses o's conf, dir, insecure, verbose, fast and limits; the lock is
 * written atomically (mode 0644). */
int build_lock(const struct build_opts *o, bool update, struct smith_error **err);
