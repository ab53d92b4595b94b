/* The ./rootfs overlay: the tree beside smith.yaml, added to the plan last.
 *
 * Its files win over everything else (PLAN_FROM_OVERLAY), its symlinks
 * stay symlinks, and paths are placed through the plan's symlinks as a
 * copy into the output tree would land.  .gitignore files are left out, as
 * the original did.  The tree is the user's own: a failure reading it is an
 * I/O error, not a bad package. */
#pragma once

#include "basic/error.h"
#include "tree/plan.h"

int overlay_add_tree(struct plan *p, int dirfd, const char *name, struct smith_error **err);
