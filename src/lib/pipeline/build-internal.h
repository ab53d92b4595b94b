/* What build.c and platforms.c share: a multi-platform build runs one
 * build per platform (build_run() with build_opts.stash set), whose image
 * goes into the stash (build_stash_image()) instead of a file of its own. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

struct build_opts;
struct build_stash;
struct cache;
struct layout_blob;
struct oci_descriptor;
struct smith_config;

struct layout_writer_opts;

/* The layout in o->format (not docker-archive, which holds one image of
 * one platform: write_image() writes that). */
int build_write_layout(const struct build_opts *o, const struct layout_blob *blobs, size_t n_blobs,
                       const struct oci_descriptor *entries, size_t n_entries, struct layout_writer_opts *lo,
                       struct smith_error **err);

/* The platforms of a multi-platform build (--platform given more than
 * once, else smith.yaml's platforms: with more than one), or NULL. */
char *const *build_platforms(const struct build_opts *o, const struct smith_config *cfg);

/* Builds o for each of platforms into one layout at o->image (cache holds
 * the stash; epoch is SOURCE_DATE_EPOCH or -1). */
int build_multi(const struct build_opts *o, char *const *platforms, struct cache *cache, int64_t epoch,
                struct smith_error **err);

/* One platform's image: its blobs (each once) and its index.json entries
 * (the image, with its platform; the index of its artifacts). */
int build_stash_image(struct build_stash *st, const struct layout_blob *blobs, size_t n_blobs,
                      const struct oci_descriptor *entries, size_t n_entries, struct smith_error **err);
