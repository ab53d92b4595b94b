/* The build pipeline; see build.h.  The order matches the original smith
 * where it shows in the result: the spec blob is the normalised smith.yaml
 * after the package source filled its defaults (and its type), before the
 * parent image's defaults; the package's files come first and never replace
 * each other, the layout directories and generated nss files come next,
 * and ./rootfs overlays everything last. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "basic/log.h"
#include "basic/progress.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "build.h"
#include "build-internal.h"
#include "pipeline/debuginfo.h"
#include "pipeline/emit.h"
#include "pipeline/layer-cache.h"
#include "pipeline/sbom.h"
#include "tree/overlay.h"
#include "config/config.h"
#include "oci/image.h"
#include "oci/layout_read.h"
#include "oci/layout_write.h"
#include "oci/docker_archive.h"
#include "oci/platform.h"
#include "pkg/dpkg-db.h"
#include "pkg/rpm-db.h"
#include "smith-version.h"
#include "store/cache.h"
#include "source/lock.h"
#include "source/source.h"
#include "tree/plan.h"
#include "tree/provenance.h"
#include "tree/select.h"
#include "users/nss.h"

#define MT_SMITH_SPEC "application/vnd.smith.spec+json"
#define MT_SMITH_PACKAGES "application/vnd.smith.packages"

static const char *const layout_dirs[] = { "dev", "read", "write", "run", "proc", "sys" };

struct build {
        const struct build_opts *o;
        int dirfd;
        char *conf_name;
        struct smith_config *cfg;
        struct cache *cache;
        struct source *src;
        struct smith_lock *lock; /* smith.lock beside smith.yaml, or NULL */
        struct oci_image *parent;
        struct plan *plan;
        struct nss_files nss;
        int rootfs_fd;
        int layer_fd;
        int64_t epoch;              /* SOURCE_DATE_EPOCH, or -1 */
        char *buildno;              /* o->buildno, or the default */
        struct dpkg_db *db;         /* the source's dpkg database, or NULL */
        struct rpm_db *rpm_db;      /* its rpm database, or NULL (for the SBOMs) */
        struct layer_files files;   /* the layer's regular files and their digests, for the SBOMs */
        struct oci_platform target; /* the platform built for (build_target()) */
        bool target_given;          /* asked for, not this machine's by default */
};

static void build_release(struct build *b) {
        close_many(b->dirfd, b->rootfs_fd, b->layer_fd);
        plan_free(b->plan);
        dpkg_db_free(b->db);
        rpm_db_free(b->rpm_db);
        layer_files_release(&b->files);
        oci_image_free(b->parent);
        source_free(b->src);
        lock_free(b->lock);
        cache_free(b->cache);
        config_free(b->cfg);
        nss_files_release(&b->nss);
        free(b->conf_name);
        free(b->buildno);
}

static int get_epoch(int64_t *ret, struct smith_error **err) {
        const char *s = getenv("SOURCE_DATE_EPOCH");
        char *end;
        long long v;

        *ret = -1;
        if (isempty(s))
                return 0;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || *end != '\0' || v < 0)
                return error_set(err, SMITH_ERR_USAGE, "SOURCE_DATE_EPOCH '%s' is not a number of seconds", s);
        *ret = v;
        return 0;
}

/* The build number the manifest is annotated with: -b's, else
 * "<unix seconds>-<hostname>" as the original's, or with SOURCE_DATE_EPOCH
 * set, that number alone: the clock and the machine's name have no place
 * in a reproducible build. */
static int get_buildno(const struct build_opts *o, int64_t epoch, char **ret, struct smith_error **err) {
        char host[128] = "";
        int r;

        if (o->buildno)
                r = asprintf(ret, "%s", o->buildno);
        else if (epoch >= 0)
                r = asprintf(ret, "%lld", (long long) epoch);
        else {
                if (gethostname(host, sizeof(host) - 1) < 0)
                        host[0] = '\0';
                host[sizeof(host) - 1] = '\0';
                r = asprintf(ret, "%lld%s%s", (long long) time(NULL), host[0] ? "-" : "", host);
        }
        if (r < 0) {
                *ret = NULL;
                return error_oom(err);
        }
        return 0;
}

static int ensure_cache(struct build *b, struct smith_error **err) {
        if (b->cache)
                return 0;
        return cache_open(&b->cache, err);
}

/* --- the plan --- */

static int plan_layout(struct build *b, struct smith_error **err) {
        const struct plan_reason layout = { .kind = PLAN_REASON_LAYOUT };
        int r;

        if (plan_set_reason(b->plan, &layout) < 0)
                return error_oom(err);
        for (size_t i = 0; i < ELEMENTSOF(layout_dirs); i++) {
                r = plan_add_dir(b->plan, layout_dirs[i], PLAN_FROM_LAYOUT);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_IO, r, "add '/%s'", layout_dirs[i]);
        }
        for (size_t i = 0; b->cfg->mounts && b->cfg->mounts[i]; i++) {
                _cleanup_free_ char *p = plan_resolve(b->plan, b->cfg->mounts[i], true);
                const struct plan_reason mount = { .kind = PLAN_REASON_MOUNT, .detail = b->cfg->mounts[i] };
                if (plan_set_reason(b->plan, &mount) < 0)
                        return error_oom(err);
                if (!p)
                        return error_set(err, SMITH_ERR_CONFIG, "mount '%s': too many levels of symbolic links",
                                         b->cfg->mounts[i]);
                r = plan_add_dir(b->plan, p, PLAN_FROM_LAYOUT);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_IO, r, "mount '%s'", b->cfg->mounts[i]);
        }
        return 0;
}

static int plan_nss(struct build *b, struct smith_error **err) {
        const struct {
                const char *name;
                const char *data;
        } files[] = {
                { "etc/passwd", b->nss.passwd },
                { "etc/group", b->nss.group },
                { "etc/nsswitch.conf", b->nss.nsswitch },
        };
        const struct plan_reason generated = { .kind = PLAN_REASON_GENERATED };

        if (!b->nss.passwd)
                return 0;
        if (plan_set_reason(b->plan, &generated) < 0)
                return error_oom(err);
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                if (plan_add_generated(b->plan, files[i].name, files[i].data, strlen(files[i].data), err) < 0)
                        return -1;
        return 0;
}

static int plan_source(struct build *b, struct smith_error **err) {
        _cleanup_(selector_freep) struct selector *sel = NULL;
        const struct oci_arch *arch = b->target_given ? oci_platform_arch(&b->target) : NULL;
        struct selector_opts so = {
                .root_fd = b->src->root_fd,
                .root_name = b->src->name,
                .ld_library_path = config_getenv(b->cfg, "LD_LIBRARY_PATH"),
                .excludes = b->cfg->excludes,
                .nss = b->cfg->nss,
                .target_class = arch ? arch->elf_class : 0,
                .target_data = arch ? arch->elf_data : 0,
                .target_machine = arch ? arch->elf_machine : 0,
        };
        int cls, data;
        unsigned machine;
        int r;

        if (!b->cfg->paths)
                return 0;
        r = selector_new(b->plan, &so, &sel, err);
        if (r < 0)
                return r;
        for (size_t i = 0; b->cfg->paths[i]; i++) {
                r = selector_add_pattern(sel, b->cfg->paths[i], b->cfg->path_lines ? b->cfg->path_lines[i] : 0, err);
                if (r < 0)
                        return r;
        }
        r = selector_finish(sel, err);
        if (r >= 0 && b->cfg->mock.debuginfo)
                r = debuginfo_plan(b->plan, b->src, b->cfg, err);
        /* a directory has no platform but its programs': the image is for
         * what its first one is, when no platform was asked for */
        if (r >= 0 && !b->target_given && streq(b->src->ops->kind, "dir") &&
            selector_first_machine(sel, &cls, &data, &machine)) {
                const struct oci_arch *a = oci_arch_for_elf(cls, data, machine);
                if (a)
                        oci_platform_from_arch(a, &b->target);
        }
        return r;
}

static int plan_overlay(struct build *b, struct smith_error **err) {
        b->rootfs_fd = openat(b->dirfd, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (b->rootfs_fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return error_set_errno(err, SMITH_ERR_IO, errno, "open '%s/rootfs'", b->o->dir);
        }
        return overlay_add_tree(b->plan, b->rootfs_fd, "rootfs", err);
}

/* The release files the source gives beside its root (deb: from
 * base-files), where the root gave none. */
static int plan_release(struct build *b, struct smith_error **err) {
        const struct plan_reason why = { .kind = PLAN_REASON_PACKAGE_METADATA };

        if (b->src->n_release > 0 && plan_set_reason(b->plan, &why) < 0)
                return error_oom(err);
        for (size_t i = 0; i < b->src->n_release; i++) {
                const struct source_file *f = &b->src->release[i];
                const char *slash = strrchr(f->path, '/');
                _cleanup_free_ char *parent = slash ? strndup(f->path, (size_t) (slash - f->path)) : NULL, *dir = NULL,
                                    *where = NULL;
                int r;

                if (!parent)
                        return error_oom(err);
                dir = plan_resolve(b->plan, parent, true);
                if (!dir)
                        return error_set(err, SMITH_ERR_SOURCE, "'/%s': too many levels of symbolic links", parent);
                where = path_join(dir, slash + 1);
                if (!where)
                        return error_oom(err);
                if (plan_get(b->plan, where))
                        continue;
                r = f->target
                            ? plan_add_symlink(b->plan, where, PLAN_FROM_GENERATED, f->target)
                            : plan_add_data(b->plan, where, PLAN_FROM_GENERATED, f->data ? f->data : "", f->len, false);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_IO, r, "add '/%s'", f->path);
        }
        return 0;
}

/* The same for an rpm database.  The packages smith installed itself (the
 * rpm source) were installed at SOURCE_DATE_EPOCH (or 0); an image's or a
 * directory's keep the times they have. */
static int plan_rpm_packages(struct build *b, struct smith_error **err) {
        _cleanup_(rpm_db_freep) struct rpm_db *db = NULL;
        int64_t when = b->src->ops == &source_rpm_ops ? (b->epoch >= 0 ? b->epoch : 0) : -1;
        int r;

        r = rpm_db_load(b->src->root_fd, b->src->name, &db, err);
        if (r < 0)
                return error_wrap(err, "package metadata");
        if (!db)
                return 0;
        r = rpm_db_attribute(db, b->plan, err);
        if (r < 0)
                return r;
        log_info("%d files attributed to rpm packages", r);
        r = rpm_db_plan_metadata(db, b->src->root_fd, b->plan, when, err);
        if (r < 0)
                return error_wrap(err, "package metadata");
        log_info("rpm package metadata for %d packages", r);
        b->rpm_db = TAKE_PTR(db);
        return 0;
}

/* The package each file from the source came from, and the database and
 * os-release of those packages in the image, so scanners and dpkg (or rpm)
 * see them.  After the overlay: what rootfs/ replaced is not the package's. */
static int plan_packages(struct build *b, struct smith_error **err) {
        struct dpkg_db *db;
        int r;

        if (b->cfg->no_package_metadata)
                return 0;
        r = dpkg_db_load(b->src->root_fd, b->src->name, &b->db, err);
        if (r < 0)
                return error_wrap(err, "package metadata");
        db = b->db;
        if (!db)
                return plan_rpm_packages(b, err);
        r = dpkg_db_attribute(db, b->plan, err);
        if (r < 0)
                return r;
        log_info("%d files attributed to packages", r);
        r = dpkg_db_plan_metadata(db, b->src->root_fd, b->plan, err);
        if (r < 0)
                return error_wrap(err, "package metadata");
        log_info("package metadata for %d packages", r);
        if (r > 0 && plan_release(b, err) < 0)
                return -1;
        return plan_rpm_packages(b, err);
}

/* --- the image --- */

static json_t *strv_to_json(char *const *l) {
        json_t *a = json_array();
        for (size_t i = 0; a && l && l[i]; i++)
                json_array_append_new(a, json_string(l[i]));
        return a;
}

static json_t *set_to_json(char *const *keys) {
        json_t *o = json_object();
        for (size_t i = 0; o && keys && keys[i]; i++)
                json_object_set_new(o, keys[i], json_object());
        return o;
}

/* The image config in the original's field order, without "created" so
 * the digest is stable. */
static json_t *image_config(struct build *b, char *const *diff_ids) {
        const struct smith_config *c = b->cfg;
        _cleanup_(json_decrefp) json_t *j = json_object(), *cc = json_object(), *rootfs = json_object();
        char user[64];

        if (!j || !cc || !rootfs)
                return NULL;
        json_object_set_new(j, "architecture", json_string(b->target.arch));
        json_object_set_new(j, "os", json_string(b->target.os));
        if (b->target.variant[0])
                json_object_set_new(j, "variant", json_string(b->target.variant));
        if (c->root)
                json_object_set_new(cc, "User", json_string("0:0"));
        else if (!isempty(c->user))
                json_object_set_new(cc, "User", json_string(c->user));
        else {
                snprintf(user, sizeof(user), "%d:%d", NSS_DEFAULT_ID, NSS_DEFAULT_ID);
                json_object_set_new(cc, "User", json_string(user));
        }
        if (c->ports)
                json_object_set_new(cc, "ExposedPorts", set_to_json(c->ports));
        if (c->env)
                json_object_set_new(cc, "Env", strv_to_json(c->env));
        if (c->entrypoint)
                json_object_set_new(cc, "Entrypoint", strv_to_json(c->entrypoint));
        if (c->cmd)
                json_object_set_new(cc, "Cmd", strv_to_json(c->cmd));
        if (c->mounts)
                json_object_set_new(cc, "Volumes", set_to_json(c->mounts));
        if (!isempty(c->dir))
                json_object_set_new(cc, "WorkingDir", json_string(c->dir));
        if (c->label_keys) {
                json_t *l = json_object();
                for (size_t i = 0; l && c->label_keys[i]; i++)
                        json_object_set_new(l, c->label_keys[i], json_string(c->label_values[i]));
                json_object_set_new(cc, "Labels", l);
        }
        json_object_set_new(j, "config", TAKE_PTR(cc));
        json_object_set_new(rootfs, "type", json_string("layers"));
        json_object_set_new(rootfs, "diff_ids", strv_to_json(diff_ids));
        json_object_set_new(j, "rootfs", TAKE_PTR(rootfs));
        return TAKE_PTR(j);
}

static int format_time(int64_t epoch, char out[static 32]) {
        time_t t = epoch >= 0 ? (time_t) epoch : time(NULL);
        struct tm tm;
        if (!gmtime_r(&t, &tm))
                return -EINVAL;
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return 0;
}

/* --- the artifacts referring to the image ---
 *
 * smith's documents about the image (the spec, the packages a package
 * source used, the provenance of every entry, the SBOMs) are OCI 1.1
 * artifacts: each an image manifest with an artifactType, the empty config,
 * the document as its one layer and the image manifest as its subject.
 * index.json lists the image first and then one nested index annotated
 * OCI_ANNOTATION_REFERRERS = the image manifest's digest, whose
 * manifests are the artifacts' descriptors as a registry's referrers
 * response lists them (artifactType, annotations); one entry only beside
 * the image, as oci-image-tool's lookup by name copes with no more. */

#define ARTIFACTS_MAX 5

struct artifact {
        const char *type; /* artifactType and the document's media type */
        char *doc;        /* owned, unless borrowed */
        size_t doc_len;
        bool borrowed;
        char *manifest; /* the artifact manifest */
        size_t manifest_len;
        struct oci_descriptor doc_desc, desc; /* the document; the manifest, as the nested index lists it */
};

struct artifacts {
        struct artifact v[ARTIFACTS_MAX];
        size_t n;
        json_t *annotations; /* every artifact's */
        char *index;         /* the nested index */
        size_t index_len;
        char index_digest[DIGEST_STR_LEN + 1];
        char subject[DIGEST_STR_LEN + 1]; /* the image manifest's digest */
};

static void artifacts_release(struct artifacts *a) {
        for (size_t i = 0; i < a->n; i++) {
                if (!a->v[i].borrowed)
                        free(a->v[i].doc);
                free(a->v[i].manifest);
        }
        json_decref(a->annotations);
        free(a->index);
}

/* Adds the document (taken, or borrowed) as an artifact referring to subject. */
static int artifact_add(struct artifacts *a, const char *type, char *doc, size_t len, bool borrowed,
                        const struct oci_descriptor *subject, struct smith_error **err) {
        struct artifact *x = &a->v[a->n++];

        *x = (struct artifact){ .type = type, .doc = doc, .doc_len = len, .borrowed = borrowed };
        x->doc_desc = (struct oci_descriptor){ .media_type = (char *) type, .size = (int64_t) len };
        sha256_digest_of(doc, len, x->doc_desc.digest);
        if (oci_artifact_manifest_build(type, &x->doc_desc, subject, a->annotations, &x->manifest, &x->manifest_len,
                                        err) < 0)
                return error_wrap(err, "artifact '%s'", type);
        x->desc = (struct oci_descriptor){ .media_type = (char *) OCI_MT_MANIFEST,
                                           .size = (int64_t) x->manifest_len,
                                           .annotations = a->annotations,
                                           .artifact_type = type };
        sha256_digest_of(x->manifest, x->manifest_len, x->desc.digest);
        return 0;
}

/* A parent image's name for the SBOMs: its file's name without .tar* (and
 * a :tag).  The image's own is "image": its output file's name must not
 * change its bytes. */
static char *image_name(const char *path) {
        const char *slash = strrchr(path, '/');
        char *name = strdup(slash ? slash + 1 : path), *dot;

        if (name && (dot = strchr(name, ':')) && dot != name)
                *dot = '\0';
        if (name && (dot = strstr(name, ".tar")) && dot != name)
                *dot = '\0';
        if (name && (dot = strstr(name, ".tgz")) && dot != name)
                *dot = '\0';
        return name;
}

static int write_artifacts(struct build *b, const struct blob_result *layer, const char *spec, size_t spec_len,
                           const char *manifest_digest, size_t manifest_len, const char *created, struct artifacts *a,
                           struct smith_error **err) {
        static const enum sbom_format formats[] = { SBOM_SPDX, SBOM_CYCLONEDX };
        struct oci_descriptor subject = { .media_type = (char *) OCI_MT_MANIFEST, .size = (int64_t) manifest_len };
        _cleanup_free_ char *parent_name = NULL;
        char *doc = NULL;
        size_t len = 0;
        int r;

        memcpy(subject.digest, manifest_digest, sizeof(subject.digest));
        memcpy(a->subject, manifest_digest, sizeof(a->subject));
        a->annotations = json_object();
        if (!a->annotations ||
            json_object_set_new(a->annotations, "org.opencontainers.image.created", json_string(created)) < 0 ||
            (!isempty(b->buildno) &&
             json_object_set_new(a->annotations, "com.oracle.smith.build", json_string(b->buildno)) < 0))
                return error_oom(err);

        if (artifact_add(a, MT_SMITH_SPEC, (char *) spec, spec_len, true, &subject, err) < 0)
                return -1;
        if (b->src && b->src->packages) {
                doc = strv_join(b->src->packages, "\n");
                if (!doc)
                        return error_oom(err);
                if (artifact_add(a, MT_SMITH_PACKAGES, doc, strlen(doc), false, &subject, err) < 0)
                        return -1;
        }
        {
                /* why each entry of the layer is there, for `smith inspect` */
                const char *slash = strrchr(b->o->conf, '/');
                r = provenance_write(b->plan, layer->diff_id, slash ? slash + 1 : b->o->conf, &doc, &len, err);
                if (r < 0)
                        return error_wrap(err, "provenance");
                if (artifact_add(a, SMITH_MT_PROVENANCE, doc, len, false, &subject, err) < 0)
                        return -1;
        }
        {
                struct sbom_input si = {
                        .name = "image",
                        .manifest_digest = manifest_digest,
                        .files = &b->files,
                        .db = b->db,
                        .rpm_db = b->rpm_db,
                        .root_fd = b->src ? b->src->root_fd : -1,
                        .created = created,
                };
                if (b->parent) {
                        parent_name = image_name(b->cfg->parent);
                        if (!parent_name)
                                return error_oom(err);
                        si.base_name = parent_name;
                        si.base_digest = b->parent->manifest_digest;
                }
                for (size_t i = 0; i < ELEMENTSOF(formats); i++) {
                        if (sbom_write(&si, formats[i], &doc, &len, err) < 0)
                                return error_wrap(err, "sbom");
                        if (artifact_add(a, sbom_media_type(formats[i]), doc, len, false, &subject, err) < 0)
                                return -1;
                }
        }
        {
                struct oci_descriptor list[ARTIFACTS_MAX];
                for (size_t i = 0; i < a->n; i++)
                        list[i] = a->v[i].desc;
                if (oci_index_build(list, a->n, "referrers index", &a->index, &a->index_len, err) < 0)
                        return -1;
                sha256_digest_of(a->index, a->index_len, a->index_digest);
        }
        return 0;
}

/* Their blobs (documents, manifests, the empty config, the nested index)
 * and the nested index's index.json entry (its annotations are the
 * caller's to drop). */
static int artifacts_blobs(const struct artifacts *a, struct layout_blob *blobs, size_t *n_blobs,
                           struct oci_descriptor *ret_entry, struct smith_error **err) {
        struct oci_descriptor entry = { .media_type = (char *) OCI_MT_INDEX, .size = (int64_t) a->index_len };

        blobs[(*n_blobs)++] = (struct layout_blob){
                .desc = { .media_type = (char *) OCI_MT_EMPTY, .digest = OCI_EMPTY_DIGEST, .size = 2 },
                .fd = -1,
                .data = "{}",
                .len = 2,
        };
        for (size_t i = 0; i < a->n; i++) {
                const struct artifact *x = &a->v[i];
                blobs[(*n_blobs)++] =
                        (struct layout_blob){ .desc = x->doc_desc, .fd = -1, .data = x->doc, .len = x->doc_len };
                blobs[(*n_blobs)++] =
                        (struct layout_blob){ .desc = x->desc, .fd = -1, .data = x->manifest, .len = x->manifest_len };
        }
        memcpy(entry.digest, a->index_digest, sizeof(entry.digest));
        entry.annotations = json_pack("{s:s}", OCI_ANNOTATION_REFERRERS, a->subject);
        if (!entry.annotations)
                return error_oom(err);
        blobs[(*n_blobs)++] = (struct layout_blob){ .desc = entry, .fd = -1, .data = a->index, .len = a->index_len };
        *ret_entry = entry;
        return 0;
}

int build_format_parse(const char *s, enum build_format *ret) {
        static const char *const names[] = {
                [BUILD_FORMAT_OCI] = "oci",
                [BUILD_FORMAT_OCI_TAR] = "oci-tar",
                [BUILD_FORMAT_OCI_DIR] = "oci-dir",
                [BUILD_FORMAT_DOCKER] = "docker-archive",
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i])) {
                        *ret = (enum build_format) i;
                        return 0;
                }
        return -EINVAL;
}

int build_write_layout(const struct build_opts *o, const struct layout_blob *blobs, size_t n_blobs,
                       const struct oci_descriptor *entries, size_t n_entries, struct layout_writer_opts *lo,
                       struct smith_error **err) {
        switch (o->format) {
        case BUILD_FORMAT_OCI_DIR:
                return layout_write_dir(o->image, blobs, n_blobs, entries, n_entries, err);
        case BUILD_FORMAT_OCI_TAR:
                lo->plain = true;
                return layout_write_targz(o->image, blobs, n_blobs, entries, n_entries, lo, err);
        case BUILD_FORMAT_DOCKER:
                return error_set(err, SMITH_ERR_USAGE, "docker-archive holds one image of one platform");
        default:
                return layout_write_targz(o->image, blobs, n_blobs, entries, n_entries, lo, err);
        }
}

/* docker-archive: the config and every layer (the parent's, then the
 * build's own, b->layer_fd), uncompressed; the image has no name. */
static int write_docker_archive(struct build *b, const struct oci_descriptor *layers, char *const *diff_ids,
                                size_t n_layers, const char *config, size_t config_len, int64_t mtime,
                                struct smith_error **err) {
        _cleanup_free_ struct docker_archive_layer *dl = calloc(n_layers + 1, sizeof(*dl));
        int r = 0;

        if (!dl)
                return error_oom(err);
        for (size_t i = 0; i < n_layers; i++) {
                dl[i].fd = -1;
                snprintf(dl[i].diff_id, sizeof(dl[i].diff_id), "%s", diff_ids[i]);
        }
        for (size_t i = 0; r >= 0 && i < n_layers; i++) {
                if (b->parent && i < b->parent->n_layers)
                        r = oci_image_open_blob(b->parent, layers[i].digest, &dl[i].fd, err);
                else if ((dl[i].fd = fcntl(b->layer_fd, F_DUPFD_CLOEXEC, 3)) < 0)
                        r = error_set_errno(err, SMITH_ERR_IO, errno, "the layer");
        }
        if (r >= 0)
                r = docker_archive_write(b->o->image, config, config_len, dl, n_layers, NULL, mtime, err);
        for (size_t i = 0; i < n_layers; i++)
                if (dl[i].fd >= 0)
                        close(dl[i].fd);
        return r;
}

static int write_image(struct build *b, const struct blob_result *layer, const char *spec, size_t spec_len,
                       struct smith_error **err) {
        _cleanup_strv_free_ char **diff_ids = NULL;
        _cleanup_free_ struct oci_descriptor *layers = NULL;
        _cleanup_free_ struct layout_blob *blobs = NULL;
        _cleanup_free_ char *config_json = NULL, *manifest_json = NULL;
        _cleanup_(json_decrefp) json_t *config = NULL;
        _cleanup_(artifacts_release) struct artifacts arts = {};
        struct oci_descriptor config_desc = { .media_type = (char *) OCI_MT_CONFIG };
        struct oci_descriptor index[2] = {}; /* the image, the nested index of its referrers */
        size_t n_layers = 0, n_blobs = 0, config_len = 0, manifest_len = 0;
        size_t parent_layers = b->parent ? b->parent->n_layers : 0;
        char manifest_digest[DIGEST_STR_LEN + 1], created[32];
        /* the layer inside is compressed already: a second deflate gains nothing */
        struct layout_writer_opts lo = { .mtime = 0, .gzip_level = LAYOUT_GZIP_STORED };
        bool have_layer = false;
        int r;

        layers = calloc(parent_layers + 1, sizeof(*layers));
        blobs = calloc(parent_layers + 3 + ARTIFACTS_MAX * 2 + 2, sizeof(*blobs));
        if (!layers || !blobs)
                return error_oom(err);

        for (size_t i = 0; i < parent_layers; i++) {
                const struct layer_ref *l = &b->parent->layers[i];
                if (streq(l->diff_id, layer->diff_id)) {
                        have_layer = true;
                        log_info("layer with diff_id %s already exists in parent", l->diff_id);
                }
                /* parent layers keep their compression, named the OCI way */
                layers[n_layers] = oci_image_layer_descriptor(b->parent, i);
                if (strv_extend(&diff_ids, l->diff_id) < 0)
                        return error_oom(err);
                blobs[n_blobs++] = (struct layout_blob){
                        .desc = layers[n_layers], .fd = -1, .dir_fd = b->parent->blobs_fd, .in_blobs_dir = true
                };
                n_layers++;
        }
        if (!have_layer) {
                layers[n_layers] = (struct oci_descriptor){
                        .media_type = (char *) (b->o->zstd ? OCI_MT_LAYER_ZSTD : OCI_MT_LAYER_GZIP), .size = layer->size
                };
                memcpy(layers[n_layers].digest, layer->digest, sizeof(layer->digest));
                if (strv_extend(&diff_ids, layer->diff_id) < 0)
                        return error_oom(err);
                blobs[n_blobs++] =
                        (struct layout_blob){ .desc = layers[n_layers], .fd = b->layer_fd, .dir_fd = AT_FDCWD };
                n_layers++;
        }

        config = image_config(b, diff_ids);
        if (!config)
                return error_oom(err);
        r = oci_json_dump(config, &config_json, &config_len, err);
        if (r < 0)
                return error_wrap(err, "image config");
        sha256_digest_of(config_json, config_len, config_desc.digest);
        config_desc.size = (int64_t) config_len;
        blobs[n_blobs++] =
                (struct layout_blob){ .desc = config_desc, .fd = -1, .data = config_json, .len = config_len };

        r = oci_manifest_build(&config_desc, layers, n_layers, false, &manifest_json, &manifest_len, err);
        if (r < 0)
                return error_wrap(err, "manifest");
        sha256_digest_of(manifest_json, manifest_len, manifest_digest);

        {
                json_t *ann;

                r = format_time(b->epoch, created);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_IO, r, "time");
                r = layout_index_entry(&index[0], manifest_digest, (int64_t) manifest_len, "latest", &b->target, err);
                if (r < 0)
                        return r;
                ann = index[0].annotations;
                if (!isempty(b->buildno))
                        json_object_set_new(ann, "com.oracle.smith.build", json_string(b->buildno));
                json_object_set_new(ann, "com.oracle.smith.sha", json_string(SMITH_SHA));
                json_object_set_new(ann, "com.oracle.smith.version", json_string(SMITH_VERSION));
                json_object_set_new(ann, "org.opencontainers.image.created", json_string(created));
                blobs[n_blobs++] =
                        (struct layout_blob){ .desc = index[0], .fd = -1, .data = manifest_json, .len = manifest_len };
        }
        r = write_artifacts(b, layer, spec, spec_len, manifest_digest, manifest_len, created, &arts, err);
        if (r >= 0)
                r = artifacts_blobs(&arts, blobs, &n_blobs, &index[1], err);
        if (r < 0) {
                layout_index_entry_release(&index[0]);
                return r;
        }

        if (b->epoch >= 0)
                lo.mtime = b->epoch;
        if (b->o->stash)
                r = build_stash_image(b->o->stash, blobs, n_blobs, index, ELEMENTSOF(index), err);
        else if (b->o->format == BUILD_FORMAT_DOCKER)
                r = write_docker_archive(b, layers, diff_ids, n_layers, config_json, config_len, lo.mtime, err);
        else
                r = build_write_layout(b->o, blobs, n_blobs, index, ELEMENTSOF(index), &lo, err);
        layout_index_entry_release(&index[0]);
        json_decref(index[1].annotations);
        return r; /* its errors name the file */
}

/* --- the whole build --- */

static int open_layer_tmpfile(const char *image, int *ret, struct smith_error **err) {
        _cleanup_free_ char *dir = NULL;
        const char *slash = strrchr(image, '/');
        int fd;

        dir = slash ? strndup(image, (size_t) (slash - image) + (slash == image ? 1 : 0)) : strdup(".");
        if (!dir)
                return error_oom(err);
        /* an unnamed file beside the output: nothing is left behind on failure */
        fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
                const char *tmp = getenv("TMPDIR");
                fd = open(isempty(tmp) ? "/tmp" : tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        }
        if (fd < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "create a temporary file in '%s'", dir);
        *ret = fd;
        return 0;
}

/* The build directory, smith.yaml and the users of a build (or a lock). */
static int build_open(struct build *b, struct smith_error **err) {
        const struct build_opts *o = b->o;
        int r;

        b->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (b->dirfd < 0)
                return error_set_errno(err, SMITH_ERR_USAGE, errno, "build directory '%s'", o->dir);
        b->conf_name = (streq(o->dir, ".") || o->conf[0] == '/') ? strdup(o->conf) : path_join(o->dir, o->conf);
        if (!b->conf_name)
                return error_oom(err);
        r = config_load(b->conf_name, &b->cfg, err);
        if (r < 0)
                return r;
        r = nss_generate(b->cfg->user, b->cfg->groups, b->cfg->nss, &b->nss);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "nss");
        if (b->nss.passwd)
                b->cfg->nss = true; /* named users force nss on, as in the original */
        return 0;
}

/* About what the layer's files hold, for its progress line: each opened
 * inside its tree as the layer will read it. */
static int add_file_bytes(const struct plan_entry *e, void *userdata) {
        uint64_t *total = userdata;
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (e->type != PLAN_FILE)
                return 0;
        if (e->data)
                *total += e->data_len;
        else if (e->src_path && root_open_regular(e->src_fd, e->src_path, &fd) >= 0 && fstat(fd, &st) == 0)
                *total += (uint64_t) st.st_size;
        return 0;
}

static uint64_t plan_file_bytes(struct plan *p) {
        uint64_t total = 0;

        if (isatty(STDERR_FILENO) == 1 && !progress_quiet())
                (void) plan_foreach(p, add_file_bytes, &total);
        return total;
}

static int run(struct build *b, struct smith_error **err) {
        const struct build_opts *o = b->o;
        _cleanup_free_ char *spec = NULL;
        struct blob_result layer;
        struct nss_user u = {};
        struct layer_opts lo = { .compression = o->zstd ? BLOB_COMPRESS_ZSTD : BLOB_COMPRESS_GZIP,
                                 .level = o->level ? o->level : -1 };
        size_t spec_len = 0;
        int r;

        r = get_epoch(&b->epoch, err);
        if (r < 0)
                return r;
        r = get_buildno(o, b->epoch, &b->buildno, err);
        if (r < 0)
                return r;
        r = build_open(b, err);
        if (r < 0)
                return r;
        if (!o->stash && build_platforms(o, b->cfg) != NULL) {
                if (ensure_cache(b, err) < 0)
                        return -1;
                return build_multi(o, build_platforms(o, b->cfg), b->cache, b->epoch, err);
        }
        r = build_target(o, b->cfg, &b->target, &b->target_given, err);
        if (r < 0)
                return r;

        if (!isempty(b->cfg->package)) {
                struct source_ctx ctx;
                char shown[100];
                /* one lock per platform when smith.yaml names several */
                _cleanup_free_ char *lock_path =
                        o->stash ? lock_path_for_platform(o->conf, oci_platform_format(&b->target, shown))
                                 : lock_path_for(o->conf);

                if (!lock_path)
                        return error_oom(err);
                build_source_ctx(o, b->dirfd, &ctx);
                ctx.platform = b->target_given ? &b->target : NULL;
                r = lock_load(b->dirfd, lock_path, b->cfg, b->target.arch, &b->lock, err);
                if (r < 0)
                        return r;
                if (b->lock)
                        log_info("using '%s': nothing is resolved again", lock_path);
                ctx.lock = b->lock;
                r = ensure_cache(b, err);
                if (r < 0)
                        return r;
                ctx.cache = b->cache;
                r = source_open(b->cfg, &ctx, &b->src, err);
                if (r < 0)
                        return r;
                if (isempty(b->cfg->type)) {
                        free(b->cfg->type);
                        b->cfg->type = strdup(b->src->ops->kind);
                        if (!b->cfg->type)
                                return error_oom(err);
                }
                if (b->src->image) {
                        r = config_apply_image_defaults(b->cfg, json_object_get(b->src->image->config, "config"), err);
                        if (r < 0)
                                return error_wrap(err, "defaults from '%s'", b->cfg->package);
                }
        }
        r = config_to_spec_json(b->cfg, &spec, &spec_len, err);
        if (r < 0)
                return r;

        r = plan_new(&b->plan);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "plan");
        r = plan_layout(b, err);
        if (r >= 0 && b->src)
                r = plan_source(b, err);
        if (r >= 0)
                r = plan_nss(b, err);
        if (r >= 0)
                r = plan_overlay(b, err);
        if (r >= 0 && b->src)
                r = plan_packages(b, err);
        if (r < 0)
                return r;

        if (!isempty(b->cfg->parent)) {
                r = ensure_cache(b, err);
                if (r < 0)
                        return r;
                r = oci_image_open_layout(b->cache, b->dirfd, b->cfg->parent, &o->limits, &b->parent, err);
                if (r < 0)
                        return error_wrap(err, "parent");
                r = config_apply_image_defaults(b->cfg, json_object_get(b->parent->config, "config"), err);
                if (r < 0)
                        return error_wrap(err, "defaults from parent '%s'", b->cfg->parent);
        }

        if (b->cfg->root)
                lo.uid = lo.gid = 0;
        else {
                r = nss_parse_user(b->cfg->user, &u);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_IO, r, "user");
                lo.uid = (uid_t) u.uid;
                lo.gid = (gid_t) u.gid;
                nss_user_release(&u);
        }
        lo.mtime = b->epoch >= 0 ? b->epoch : 0;
        lo.files = &b->files;
        r = open_layer_tmpfile(o->image, &b->layer_fd, err);
        if (r < 0)
                return r;
        log_info("writing the layer: %zu entries", plan_size(b->plan));
        progress_start("layer", plan_file_bytes(b->plan));
        r = layer_write_cached(b->plan, &lo, b->cache, b->layer_fd, &layer, err);
        progress_stop();
        if (r < 0)
                return r;
        log_info("layer %s (diff_id %s), %lld bytes", layer.digest, layer.diff_id, (long long) layer.size);
        return write_image(b, &layer, spec, spec_len, err);
}

int build_target(const struct build_opts *o, const struct smith_config *cfg, struct oci_platform *ret, bool *ret_given,
                 struct smith_error **err) {
        const char *want = o->platform                        ? o->platform
                           : cfg->platform                    ? cfg->platform
                           : strv_length(cfg->platforms) == 1 ? cfg->platforms[0]
                                                              : NULL;
        char shown[100];

        if (cfg->platform && cfg->platforms)
                return error_set(err, SMITH_ERR_CONFIG, "smith.yaml: platform and platforms: name one of them");
        *ret_given = want != NULL;
        if (oci_platform_parse(want, ret, err) < 0) {
                if (!o->platform)
                        (*err)->kind = SMITH_ERR_CONFIG;
                return error_wrap(err, o->platform ? "--platform" : "smith.yaml: platform");
        }
        if (want && !oci_platform_arch(ret))
                return error_set(err, o->platform ? SMITH_ERR_USAGE : SMITH_ERR_CONFIG,
                                 "%s: smith cannot build for '%s' (it can for linux/amd64, linux/arm64, linux/arm/v7, "
                                 "linux/arm/v6, linux/arm/v5, linux/386, linux/ppc64le, linux/s390x, linux/riscv64, "
                                 "linux/mips64le)",
                                 o->platform ? "--platform" : "smith.yaml: platform", oci_platform_format(ret, shown));
        if (want && !streq(ret->os, "linux"))
                return error_set(err, o->platform ? SMITH_ERR_USAGE : SMITH_ERR_CONFIG,
                                 "%s: '%s': only linux images are built",
                                 o->platform ? "--platform" : "smith.yaml: platform", oci_platform_format(ret, shown));
        return 0;
}

void build_source_ctx(const struct build_opts *o, int dirfd, struct source_ctx *ret) {
        *ret = (struct source_ctx){
                .build_dirfd = dirfd,
                .build_dir = o->dir,
                .fast = o->fast,
                .verbose = o->verbose,
                .insecure = o->insecure,
                .limits = o->limits,
        };
}

/* --- smith lock with mock.debuginfo --- */

/* The build's first steps with the source resolving into l: the rpm
 * source makes its root, the selection runs, and mock.debuginfo's
 * packages are resolved for the ELF files it chose (debuginfo_plan(), the
 * source's debuginfo op recording into l). */
static int lock_select(struct build *b, struct smith_lock *l, struct smith_error **err) {
        struct source_ctx ctx;
        int r;

        r = build_open(b, err);
        if (r < 0)
                return r;
        if (build_target(b->o, b->cfg, &b->target, &b->target_given, err) < 0 || ensure_cache(b, err) < 0)
                return -1;
        build_source_ctx(b->o, b->dirfd, &ctx);
        ctx.platform = b->target_given ? &b->target : NULL;
        ctx.lock_out = l;
        ctx.cache = b->cache;
        if (source_lock_open(b->cfg, &ctx, &b->src, err) < 0)
                return -1;
        if (!b->src || b->src->root_fd < 0 || !b->cfg->mock.debuginfo)
                return 0; /* nothing to select from: a source without debuginfo packages */
        r = plan_new(&b->plan);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "plan");
        if (plan_layout(b, err) < 0)
                return -1;
        return plan_source(b, err);
}

int build_lock_selection(const struct build_opts *o, struct smith_lock *l, struct smith_error **err) {
        struct build b = { .o = o, .dirfd = -1, .rootfs_fd = -1, .layer_fd = -1 };
        int r = lock_select(&b, l, err);
        build_release(&b);
        return r;
}

int build_run(const struct build_opts *o, struct smith_error **err) {
        struct build b = { .o = o, .dirfd = -1, .rootfs_fd = -1, .layer_fd = -1 };
        int r = run(&b, err);
        build_release(&b);
        return r;
}
