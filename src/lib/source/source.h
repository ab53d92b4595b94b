/* Package sources: what turns smith.yaml's `package` into a source root, a
 * directory fd the selection reads from.
 *
 * One backend per kind, each a small ops table (libarchive's formats work
 * the same way): `dir` uses a directory tree in place, `oci` unpacks an OCI
 * image layout (tarball or directory) into the cache, `registry` pulls an
 * image from a registry and unpacks it the same way, `deb` solves Debian
 * package names against apt repositories and unpacks the packages into a
 * cached root, `rpm` (also `mock`, without a mock on PATH) does the same
 * with RPM packages and rpm-md repositories. */
#pragma once

#include <stdbool.h>

#include "basic/error.h"
#include "config/config.h"
#include "layer/unpack.h"
#include "oci/layout_read.h"
#include "oci/platform.h"
#include "store/cache.h"

struct smith_lock;

struct source_ctx {
        int build_dirfd;       /* the build directory: relative package paths start here */
        const char *build_dir; /* its path, for messages */
        struct cache *cache;
        bool fast;
        bool verbose;
        bool insecure;               /* -k: registry TLS certificates are not verified */
        struct unpack_limits limits; /* what an image may take (zeroes: the defaults) */
        /* the platform built for: Debian packages from binary-<arch>, RPM
         * from <arch> and noarch, an image index's entry for it; NULL:
         * this machine's */
        const struct oci_platform *platform;
        /* smith.lock (lock.h): a build uses what it names and resolves
         * nothing; NULL without one */
        const struct smith_lock *lock;
        /* `smith lock`: the backend resolves into it and fetches nothing
         * more than resolving needs; no root is opened (but the rpm
         * source's with mock.debuginfo, see source_lock_open()) */
        struct smith_lock *lock_out;
};

/* What a package backend knows of one package in the root. */
struct source_package {
        char *name, *version, *arch, *source; /* source: the source package's name */
        char **files;                         /* strv of the paths it put in the root ("/usr/bin/cat") */
};

/* A file the source adds to the image's package metadata beside what its
 * root holds (deb: the os-release of the repository's base-files, whose
 * other files are not installed): its data, or a symlink's target. */
struct source_file {
        char *path; /* relative: "etc/os-release" */
        char *data; /* NULL for a symlink */
        size_t len;
        char *target; /* a symlink's target, or NULL */
};

struct source {
        const struct source_ops *ops;
        char *name;  /* for messages: the package as written */
        int root_fd; /* the source root (owned) */
        char *root_path;
        struct oci_image *image;     /* oci: the base image (its config fills defaults) */
        char **packages;             /* package list for the spec blob, or NULL */
        struct source_package *pkgs; /* deb: the packages in the root, sorted by name */
        size_t n_pkgs;
        struct source_file *release; /* deb: os-release and debian_version when the root has none */
        size_t n_release;
        int debug_root_fd; /* mock.debuginfo: the root with the debuginfo packages (owned), or -1 */
        void *priv;        /* the backend's own state, freed by its release() */
};

struct source_ops {
        const char *kind;
        int (*open)(struct source *s, const struct smith_config *c, const struct source_ctx *ctx,
                    struct smith_error **err);
        void (*release)(struct source *s);
        /* mock.debuginfo (may be NULL: not supported): fills s->debug_root_fd
         * with a root holding the debuginfo packages of pkgs (package names
         * in s->pkgs; one without a debuginfo package is a warning) and the
         * extra packages (mock.debugdeps: names or .rpm files), with what
         * they need; nothing to install leaves it at -1.  With ctx->lock_out
         * (`smith lock`) it records them there instead (no root); with
         * ctx->lock it installs the ones the lock names, for the same pkgs. */
        int (*debuginfo)(struct source *s, char *const *pkgs, char *const *extra, struct smith_error **err);
        bool locks; /* open() knows ctx->lock and ctx->lock_out; for the others a lock names the kind only */
};

extern const struct source_ops source_dir_ops;
extern const struct source_ops source_oci_ops;
extern const struct source_ops source_registry_ops;
extern const struct source_ops source_deb_ops;
extern const struct source_ops source_rpm_ops;

/* Picks the backend from `type` or, when empty, from the package string as
 * the original did (URLs and .tar/.tar.gz/.tgz[:tag] are OCI images), plus
 * directories (an OCI layout directory is an image, any other is a tree).
 * An http(s) URL, or a docker-style reference naming a registry host that is
 * not a local file, is pulled from the registry.  Package names (and .rpm
 * files) are RPM packages when smith.yaml's `repos:` names rpm-md
 * repositories, or it has none and this machine has yum repositories and no
 * apt sources; package names (and .deb files) are Debian packages when
 * smith.yaml has apt `repos:` or this machine has apt sources. */
int source_open(const struct smith_config *c, const struct source_ctx *ctx, struct source **ret,
                struct smith_error **err);
/* `smith lock`: the backend for c resolves into ctx->lock_out (its kind
 * always; packages or an image where there is something to pin). */
int source_lock(const struct smith_config *c, const struct source_ctx *ctx, struct smith_error **err);
/* The same, keeping the source open (*ret; NULL for a kind with nothing
 * to pin): with mock.debuginfo the rpm source also makes its root, so the
 * selection can run and the debuginfo op resolve into ctx->lock_out. */
int source_lock_open(const struct smith_config *c, const struct source_ctx *ctx, struct source **ret,
                     struct smith_error **err);
void source_free(struct source *s);
/* Forgets what s->pkgs held. */
void source_packages_clear(struct source *s);
DEFINE_POINTER_CLEANUP(struct source, source_free)

/* Whether an executable prog is in one of $PATH's directories. */
bool source_is_on_path(const char *prog);

/* The original's isOci(): a URL, or a file name ending in .tar, .tar.gz or
 * .tgz once an optional ":tag" is taken off. */
bool source_looks_like_oci(const char *package);

/* The architecture ctx builds for (ctx->platform, else this machine's):
 * never NULL for a platform the build accepted (build.c refuses one
 * oci_platform_arch() does not know). */
const struct oci_arch *source_arch(const struct source_ctx *ctx);

/* A single-platform image of another platform than the one built for is
 * refused (one line naming both); shown names the image. */
int source_check_platform(const struct source_ctx *ctx, const struct oci_image *img, const char *shown,
                          struct smith_error **err);
