/* The deb source's os-release, from the repository's base-files; see
 * deb-release.c. */
#pragma once

#include "basic/error.h"
#include "pkg/solve.h"
#include "source.h"

struct http_opts;

/* The repositories' base-files, solved alone in pool: *ret holds it (and
 * whatever it needs), or nothing (n 0) when pool has no base-files.
 * Returns 0, or -ENOMEM. */
int deb_release_choices(struct pkg_pool *pool, struct pkg_choice **ret, size_t *ret_n);

/* Fills s->release (s->root_fd open) unless the root has /etc/os-release:
 * base-files from c (deb_release_choices()), fetched and verified, only
 * its release files taken.  No base-files there is not an error. */
int deb_source_release(struct source *s, struct pkg_choice *c, size_t n, const struct source_ctx *ctx,
                       const struct http_opts *ho, struct smith_error **err);
