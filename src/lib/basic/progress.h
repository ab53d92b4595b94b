/* Progress of a build's long phases on a TTY (fetching packages, unpacking
 * them or an image's layers, pulling a base, writing the layer): one line
 * per phase, updated at most five times a second with bytes, rate and
 * ETA, cleared when the phase ends; and a summary of each phase's time
 * when the build is done.  Nothing at all when stderr is not a TTY, or
 * with -q (progress_set_quiet(), which also silences warnings).
 *
 * Phases follow each other; progress_add() may be called from any thread
 * (the fetch workers). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

void progress_set_quiet(bool quiet);
bool progress_quiet(void);

/* A phase named name (a short word: "fetch") of total bytes (0: unknown;
 * only its time is kept). */
void progress_start(const char *name, uint64_t total);
void progress_add(uint64_t n);
void progress_stop(void);

/* "smith: image.tar.gz in 2.1 s (fetch 0.8 s, unpack 0.5 s, layer 0.6 s)",
 * on a TTY only. */
void progress_summary(const char *what);
