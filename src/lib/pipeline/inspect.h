/* `smith inspect`: what an image holds and why, entry by entry.
 *
 * Mode, owner, size and type are read from the layers themselves (what is
 * shipped, verified against the manifest's digests and the config's
 * diff_ids), the reason from the provenance blob the build wrote
 * (tree/provenance.h).  Layers are applied as a runtime would, lowest
 * first: a later entry replaces an earlier one at the same path, and OCI
 * whiteouts hide what lower layers put there.  Entries of the layer the
 * blob describes get its reasons; those of other layers (a parent image's)
 * are PLAN_REASON_PARENT_IMAGE.  An image without the blob (another tool's,
 * an older smith's) is not an error: every reason is unknown. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "tree/plan.h"

#define INSPECT_MAX_ENTRIES (1U << 22) /* in all layers together */

struct provenance;

struct inspect_entry {
        char *path;             /* absolute ("/usr/bin/cat") */
        const char *type;       /* "dir", "file", "symlink", "hardlink", "other" (static) */
        unsigned mode;          /* permission bits, 07777 */
        int64_t uid, gid, size; /* a hardlink's size is its target's */
        char *target;           /* symlink: its contents; hardlink: the absolute path it links to */
        const char *package;    /* NULL: not attributed (borrowed from the provenance) */
        struct plan_reason why; /* strings borrowed from the provenance */
        size_t layer;           /* index of the layer it comes from, lowest 0 */
};

struct inspect_result {
        char *source; /* the image as named, for messages */
        size_t n;
        struct inspect_entry *entries; /* sorted by path, unique */
        struct provenance *pv;         /* NULL: the image records no provenance */
};

/* Reads the image at ref ("path[:tag]", a layout tarball or directory, as
 * oci_image_open_layout() takes it). */
int inspect_image(const char *ref, struct inspect_result **ret, struct smith_error **err);
void inspect_result_free(struct inspect_result *r);
DEFINE_POINTER_CLEANUP(struct inspect_result, inspect_result_free)

/* The entry at path (absolute or not; "." and ".." applied lexically), or
 * NULL. */
const struct inspect_entry *inspect_find(const struct inspect_result *r, const char *path);

/* The reason in words ("DT_NEEDED libz.so.1 of /usr/bin/x", "unknown (no
 * provenance recorded)", ...).  NULL when out of memory. */
char *inspect_reason_text(const struct inspect_result *r, const struct inspect_entry *e);
