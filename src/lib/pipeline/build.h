/* The build: smith.yaml in, image.tar.gz out.  One straight line:
 * config -> source root -> plan (selection, ELF closure, layout dirs,
 * mounts, generated nss files, ./rootfs overlay) -> layer -> image config,
 * manifest, index -> OCI layout written atomically. */
#pragma once

#include <stdbool.h>

#include "basic/error.h"
#include "layer/unpack.h"

/* --format: what the build writes to --image */
enum build_format {
        BUILD_FORMAT_OCI,     /* an OCI layout as tar.gz (the default) */
        BUILD_FORMAT_OCI_TAR, /* the same, a plain tar */
        BUILD_FORMAT_OCI_DIR, /* the same, a directory */
        BUILD_FORMAT_DOCKER,  /* docker-archive: what docker load and podman load read */
};

/* "oci", "oci-tar", "oci-dir", "docker-archive": 0 and *ret, or -EINVAL. */
int build_format_parse(const char *s, enum build_format *ret);

struct build_opts {
        const char *conf;    /* smith.yaml, relative to dir */
        const char *dir;     /* the build directory (holds smith.yaml and rootfs/) */
        const char *image;   /* output, relative to the current directory */
        const char *buildno; /* annotation com.oracle.smith.build; NULL: the default (build.c) */
        bool fast;
        bool verbose;
        bool insecure;
        struct unpack_limits limits; /* for the package and parent images (zeroes: the defaults) */
        const char *platform;        /* --platform "os/arch[/variant]", or NULL */
        enum build_format format;
        bool zstd;        /* --compression zstd: the layer as tar+zstd, else tar+gzip */
        int level;        /* --compression's level, or -1 for the compressor's default */
        char **platforms; /* --platform given for several: each built, one index written; or NULL */
        /* (build.c) each platform of a multi-platform build writes its
         * blobs here rather than an image of its own */
        struct build_stash *stash;
};

int build_run(const struct build_opts *o, struct smith_error **err);

/* The platform a build of cfg with o is for: --platform, else smith.yaml's
 * `platform:` (*ret_given true), else this machine's (false; a directory
 * source is then built for what its first program is).  A platform smith
 * cannot build for is a usage or config error naming the ones it can. */
struct oci_platform;
struct smith_config;
int build_target(const struct build_opts *o, const struct smith_config *cfg, struct oci_platform *ret, bool *ret_given,
                 struct smith_error **err);

/* The source context a build or a lock with o opens its package source in,
 * dirfd being o->dir's; the cache and the lock are the caller's to set. */
struct source_ctx;
void build_source_ctx(const struct build_opts *o, int dirfd, struct source_ctx *ret);

/* `smith lock` of a smith.yaml with mock.debuginfo (resolve.h): the
 * source resolves into l as source_lock() has it, and where it has
 * debuginfo packages (rpm) it makes its root and the selection runs, so
 * that the debuginfo packages of the ELF files the image will hold are
 * resolved into l too. */
struct smith_lock;
int build_lock_selection(const struct build_opts *o, struct smith_lock *l, struct smith_error **err);
