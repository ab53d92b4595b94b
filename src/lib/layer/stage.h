/* Speculative unpacking of a layer while it is imported.
 *
 * Importing an OCI layout tarball copies each blob into the cache's blob
 * store; unpacking the image's layer then reads the blob again.  A stage
 * overlaps the two: the importer feeds a compressed blob's bytes, as it
 * copies them, to a thread that unpacks them (layer_unpack_unchecked())
 * into a fresh directory in the cache's tmp/.  Nothing about the result is
 * trusted until layer_root_open() has matched it against the image: a
 * single layer whose digest is the blob's (verified by the importer), whose
 * size is what was fed and whose diff_id is what the thread hashed.  Any
 * other outcome discards the directory and the layer is unpacked from the
 * store as usual, so a failed stage only costs time.
 *
 * A struct layer_stage owns its thread, its socket and its directory:
 * layer_stage_free() (NULL ok) removes the directory unless it was taken. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "layer/unpack.h"

struct cache;
struct layer_stage;
struct unpack_limits;

/* Starts unpacking the blob digest, size bytes, in a thread, within limits
 * (NULL: the defaults; layer/unpack.h) as the only layer of an image: a
 * stage that reaches one fails and is not used.  The caller then feeds
 * exactly its bytes and calls layer_stage_end(). */
int layer_stage_start(struct cache *cache, const char *digest, uint64_t size, const struct unpack_limits *limits,
                      struct layer_stage **ret, struct smith_error **err);

/* Passes on the blob's next bytes.  Never fails: a stage whose thread gave
 * up stops listening and will not be used. */
void layer_stage_feed(struct layer_stage *s, const void *buf, size_t len);

/* Ends the input and waits for the thread.  blob_ok says the importer
 * verified the whole blob against its digest and stored it; without it, or
 * if the thread failed, the directory is removed at once.  Returns true if
 * the stage holds a complete root. */
bool layer_stage_end(struct layer_stage *s, bool blob_ok);

/* True if the stage is complete and holds exactly these layers: one layer,
 * the staged blob, with its size and diff_id. */
bool layer_stage_matches(const struct layer_stage *s, const struct layer_ref *layers, size_t n_layers);

/* Moves the staged root to dst_name in dst_dirfd (renameat).  Returns
 * -errno; on success the stage no longer owns the directory. */
int layer_stage_take(struct layer_stage *s, int dst_dirfd, const char *dst_name);

void layer_stage_free(struct layer_stage *s);
DEFINE_POINTER_CLEANUP(struct layer_stage, layer_stage_free)
