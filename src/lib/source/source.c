/* Choosing the package source backend; see source.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/strv.h"
#include "lock.h"
#include "pkg/apt-sources.h"
#include "pkg/rpm-repo.h"
#include "registry/registry.h"
#include "source.h"

static bool has_suffix(const char *s, size_t len, const char *suffix) {
        size_t n = strlen(suffix);
        return len >= n && strncmp(s + len - n, suffix, n) == 0;
}

bool source_looks_like_oci(const char *package) {
        const char *colon;
        size_t len;

        if (!package)
                return false;
        if (strncmp(package, "http://", 7) == 0 || strncmp(package, "https://", 8) == 0)
                return true;
        /* the file name is what comes before a ":tag" (a tag has no '/') */
        colon = strrchr(package, ':');
        len = (colon && !strchr(colon, '/')) ? (size_t) (colon - package) : strlen(package);
        return has_suffix(package, len, ".tar") || has_suffix(package, len, ".tar.gz") ||
               has_suffix(package, len, ".tgz");
}

static bool is_layout_dir(int dirfd, const char *path) {
        _cleanup_free_ char *p = path_join(path, "oci-layout");
        struct stat st;
        return p && fstatat(dirfd, p, &st, 0) == 0 && S_ISREG(st.st_mode);
}

/* A URL is always a registry image; a docker-style reference
 * ("host:5000/repo:tag") only when no local file or directory has that name
 * (with or without a ":tag"), so "./images/base.tar.gz" stays a file. */
static bool is_registry_package(int dirfd, const char *pkg) {
        const char *colon;
        struct stat st;

        if (strncmp(pkg, "http://", 7) == 0 || strncmp(pkg, "https://", 8) == 0)
                return true;
        if (!registry_ref_is_registry_package(pkg))
                return false;
        if (fstatat(dirfd, pkg, &st, 0) == 0)
                return false;
        colon = strrchr(pkg, ':');
        if (colon && !strchr(colon, '/')) {
                _cleanup_free_ char *path = strndup(pkg, (size_t) (colon - pkg));
                if (path && fstatat(dirfd, path, &st, 0) == 0)
                        return false;
        }
        return true;
}

static bool has_files(const char *dir, const char *const *suffixes) {
        _cleanup_strv_free_ char **l = NULL;
        DIR *d = opendir(dir);
        struct dirent *de;
        bool found = false;

        if (!d)
                return false;
        while (!found && (de = readdir(d)))
                for (size_t i = 0; suffixes[i]; i++)
                        if (has_suffix(de->d_name, strlen(de->d_name), suffixes[i]) &&
                            strlen(de->d_name) > strlen(suffixes[i]))
                                found = true;
        closedir(d);
        return found;
}

static bool host_has_apt_sources(void) {
        static const char *const apt[] = { ".list", ".sources", NULL };
        struct stat st;

        return (stat("/etc/apt/sources.list", &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) ||
               has_files("/etc/apt/sources.list.d", apt);
}

/* Package names ("coreutils", "libc6:amd64", "perl-Data-Dumper") or .deb
 * and .rpm files. */
static bool looks_like_package(const char *p) {
        size_t n = strlen(p);
        if (n > 4 && (streq(p + n - 4, ".deb") || streq(p + n - 4, ".rpm")))
                return true;
        return n > 0 && !strchr(p, '/') &&
               strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-._:") == n;
}

/* yum repositories configured, and no apt sources: an RPM machine. */
static bool host_has_yum(void) {
        static const char *const yum[] = { ".repo", NULL };
        return has_files("/etc/yum.repos.d", yum) && !host_has_apt_sources();
}

bool source_is_on_path(const char *prog) {
        _cleanup_strv_free_ char **dirs = NULL;
        const char *path = getenv("PATH");

        dirs = strv_split(path ? path : "/usr/bin:/bin", ":", true);
        for (size_t i = 0; dirs && dirs[i]; i++) {
                _cleanup_free_ char *p = path_join(dirs[i], prog);
                if (p && access(p, X_OK) == 0)
                        return true;
        }
        return false;
}

static bool repos_have_rpm_md(const struct smith_config *c, bool *ret_apt) {
        bool rpm = false;
        *ret_apt = false;
        for (size_t i = 0; i < c->n_repos; i++) {
                if (c->repos[i].rpm_md)
                        rpm = true;
                else
                        *ret_apt = true;
        }
        return rpm;
}

static bool looks_like_packages(const struct smith_config *c) {
        if (!c->package_list)
                return looks_like_package(c->package);
        for (size_t i = 0; c->package_list[i]; i++)
                if (!looks_like_package(c->package_list[i]))
                        return false;
        return true;
}

static int pick_backend(const struct smith_config *c, const struct source_ctx *ctx, const struct source_ops **ret,
                        struct smith_error **err) {
        const char *type = c->type ? c->type : "";
        const char *pkg = c->package;
        struct stat st;

        if ((streq(type, "oci") || isempty(type)) && is_registry_package(ctx->build_dirfd, pkg)) {
                *ret = &source_registry_ops;
                return 0;
        }
        if (streq(type, "oci")) {
                *ret = &source_oci_ops;
                return 0;
        }
        if (streq(type, "dir")) {
                *ret = &source_dir_ops;
                return 0;
        }
        if (streq(type, "deb")) {
                *ret = &source_deb_ops;
                return 0;
        }
        /* smith never runs mock: with or without it on PATH, its own RPM source (rpm.c says so under -v) */
        if (streq(type, "rpm") || streq(type, "mock")) {
                *ret = &source_rpm_ops;
                return 0;
        }
        if (!isempty(type) && !streq(type, "mock") && !streq(type, "rpm") && !streq(type, "deb"))
                return error_set(err, SMITH_ERR_CONFIG, "package type '%s' not recognized (oci, dir, deb, rpm, mock)",
                                 type);
        if (isempty(type)) {
                if (source_looks_like_oci(pkg)) {
                        *ret = &source_oci_ops;
                        return 0;
                }
                if (!c->package_list && fstatat(ctx->build_dirfd, pkg, &st, 0) == 0 && S_ISDIR(st.st_mode)) {
                        *ret = is_layout_dir(ctx->build_dirfd, pkg) ? &source_oci_ops : &source_dir_ops;
                        return 0;
                }
                bool apt_repos, rpm_repos = repos_have_rpm_md(c, &apt_repos);
                /* a mock configuration names rpm-md repositories too */
                if (looks_like_packages(c) &&
                    (rpm_repos || (!apt_repos && !isempty(c->mock.config)) || (c->n_repos == 0 && host_has_yum()))) {
                        *ret = &source_rpm_ops;
                        return 0;
                }
                if (looks_like_packages(c) && (apt_repos || (c->n_repos == 0 && host_has_apt_sources()))) {
                        *ret = &source_deb_ops;
                        return 0;
                }
        }
        return error_set(err, SMITH_ERR_SOURCE,
                         "'%s': not an OCI image or a directory, and %s packages are not supported by this smith "
                         "yet",
                         pkg, isempty(type) ? "rpm" : type);
}

int source_open(const struct smith_config *c, const struct source_ctx *ctx, struct source **ret,
                struct smith_error **err) {
        _cleanup_(source_freep) struct source *s = NULL;
        const struct source_ops *ops;
        int r;

        r = pick_backend(c, ctx, &ops, err);
        if (r < 0)
                return r;
        if (ctx->lock && !streq(ctx->lock->source, ops->kind))
                return error_set(err, SMITH_ERR_CONFIG,
                                 "%s: locks a '%s' source, this package is '%s': run "
                                 "'smith lock --update'",
                                 ctx->lock->path, ctx->lock->source, ops->kind);
        s = calloc(1, sizeof(*s));
        if (!s)
                return error_oom(err);
        s->ops = ops;
        s->root_fd = -1;
        s->debug_root_fd = -1;
        s->name = strdup(c->package);
        if (!s->name)
                return error_oom(err);
        r = ops->open(s, c, ctx, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int source_lock_open(const struct smith_config *c, const struct source_ctx *ctx, struct source **ret,
                     struct smith_error **err) {
        const struct source_ops *ops;

        *ret = NULL;
        if (pick_backend(c, ctx, &ops, err) < 0)
                return -1;
        free(ctx->lock_out->source);
        ctx->lock_out->source = strdup(ops->kind);
        if (!ctx->lock_out->source)
                return error_oom(err);
        if (!ops->locks)
                return 0; /* a directory or an image file: nothing to pin beyond the kind */
        return source_open(c, ctx, ret, err);
}

int source_lock(const struct smith_config *c, const struct source_ctx *ctx, struct smith_error **err) {
        _cleanup_(source_freep) struct source *s = NULL;

        return source_lock_open(c, ctx, &s, err);
}

void source_packages_clear(struct source *s) {
        for (size_t i = 0; i < s->n_pkgs; i++) {
                free_many(s->pkgs[i].name, s->pkgs[i].version, s->pkgs[i].arch, s->pkgs[i].source);
                strv_free(s->pkgs[i].files);
        }
        free(s->pkgs);
        s->pkgs = NULL;
        s->n_pkgs = 0;
}

void source_free(struct source *s) {
        if (!s)
                return;
        if (s->ops && s->ops->release)
                s->ops->release(s);
        if (s->root_fd >= 0)
                close(s->root_fd);
        if (s->debug_root_fd >= 0)
                close(s->debug_root_fd);
        free(s->root_path);
        oci_image_free(s->image);
        strv_free(s->packages);
        source_packages_clear(s);
        for (size_t i = 0; i < s->n_release; i++) {
                free_many(s->release[i].path, s->release[i].data, s->release[i].target);
        }
        free_many(s->release, s->name, s);
}

const struct oci_arch *source_arch(const struct source_ctx *ctx) {
        struct oci_platform host;
        const struct oci_arch *a = ctx->platform ? oci_platform_arch(ctx->platform) : NULL;

        if (a)
                return a;
        (void) oci_platform_parse(NULL, &host, NULL);
        a = oci_platform_arch(&host);
        /* a machine smith does not know the names of: its own names for it */
        if (!a) {
                static struct oci_arch self;
                self = (struct oci_arch){ .arch = oci_host_architecture(), .variant = "" };
                self.debian = apt_host_arch();
                self.rpm = rpm_host_arch();
                a = &self;
        }
        return a;
}

int source_check_platform(const struct source_ctx *ctx, const struct oci_image *img, const char *shown,
                          struct smith_error **err) {
        struct oci_platform want, have;
        char a[100], b[100];

        if (ctx->platform)
                want = *ctx->platform;
        else if (oci_platform_parse(NULL, &want, err) < 0)
                return -1;
        oci_platform_from_config(img->config, &have);
        if (oci_platform_matches(&want, have.os, have.arch, have.variant))
                return 0;
        return error_set(err, SMITH_ERR_SOURCE, "'%s' is an image for %s, not for %s, the platform built for", shown,
                         oci_platform_format(&have, a), oci_platform_format(&want, b));
}
