/* The deb source's os-release, from the repository's base-files; see
 * deb-release.c. */
#pragma once

#include "basic/error.h"
#include "pkg/solve.h"
#include "source.h"

struct http_opts;

/* Fills s->release (s->root_fd open) unless the root has /etc/os-release:
 * base-files from pool, fetched and verified, only its release files
 * taken.  No base-files in pool is not an error. */
int deb_source_release(struct source *s, struct pkg_pool *pool, const struct source_ctx *ctx,
                       const struct http_opts *ho, struct smith_error **err);
