/* The plan: a sorted map from output path to what the layer holds there.
 *
 * Nothing is copied to a staging directory; selection, the ELF closure, the
 * generated files and the ./rootfs overlay only add entries here, and the
 * layer writer walks the plan in order.  Paths are relative to the image
 * root without a leading slash ("usr/bin/cat"); every entry's parents are
 * present as directories.  Entries carry a precedence: an entry from a
 * higher one replaces an existing entry, one from a lower or equal
 * precedence leaves the existing entry as it is (the first copy wins, as in
 * the original smith).
 *
 * Every entry also carries why it is there (struct plan_reason), recorded
 * as it is added: the caller states the reason with plan_set_reason()
 * before adding, and directories implied by an entry say so.  The build
 * writes the reasons into the image (tree/provenance.h) for `smith
 * inspect`. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"

enum plan_type {
        PLAN_DIR,
        PLAN_FILE,
        PLAN_SYMLINK,
};

enum plan_precedence {
        PLAN_FROM_SOURCE = 0,    /* the package's files */
        PLAN_FROM_LAYOUT = 1,    /* /dev /read /write /run /proc /sys, mounts */
        PLAN_FROM_GENERATED = 2, /* passwd, group, nsswitch.conf */
        PLAN_FROM_OVERLAY = 3,   /* ./rootfs beside smith.yaml */
};

enum plan_reason_kind {
        PLAN_REASON_UNKNOWN,          /* nothing recorded */
        PLAN_REASON_PATTERN,          /* matched a `paths` pattern (its smith.yaml line) */
        PLAN_REASON_INTERPRETER,      /* the ELF interpreter of needed_by */
        PLAN_REASON_NEEDED,           /* the library that DT_NEEDED detail (a soname) of needed_by names */
        PLAN_REASON_NSS,              /* NSS module detail (nss: true, or named users) */
        PLAN_REASON_SYMLINK,          /* a symlink met on the way to needed_by */
        PLAN_REASON_PARENT,           /* a directory only because needed_by is below it */
        PLAN_REASON_OVERLAY,          /* from ./rootfs beside smith.yaml */
        PLAN_REASON_GENERATED,        /* passwd, group, nsswitch.conf */
        PLAN_REASON_MOUNT,            /* a `mounts` entry (detail: as written) */
        PLAN_REASON_LAYOUT,           /* /dev /read /write /run /proc /sys */
        PLAN_REASON_PARENT_IMAGE,     /* never in a plan: an entry of a parent image's layer, for readers */
        PLAN_REASON_PACKAGE_METADATA, /* the dpkg database and os-release of what shipped (pkg/dpkg-db.h) */
};

/* Why an entry is in the plan.  Strings may be NULL; in an entry they are
 * the entry's own. */
struct plan_reason {
        enum plan_reason_kind kind;
        const char *detail;    /* NEEDED: the soname; NSS: the module; MOUNT: the mount */
        const char *needed_by; /* absolute path inside the image ("/usr/bin/cat") */
        const char *pattern;   /* PATTERN: the `paths` entry as written */
        unsigned line;         /* PATTERN: its line in smith.yaml, 0 if not known */
};

struct plan_entry {
        char *path;
        enum plan_type type;
        enum plan_precedence from;
        bool exec;      /* file: any exec bit set in the source */
        int src_fd;     /* file: fd of the tree it comes from (borrowed) */
        char *src_path; /* file: resolved path inside that tree */
        char *data;     /* file: generated content (instead of src_*) */
        size_t data_len;
        char *target; /* symlink: its contents, unchanged */
        dev_t dev;    /* file: identity in its tree, to keep hardlinks */
        ino_t ino;
        nlink_t nlink;
        struct plan_reason why;
        char *package; /* the package the file came from ("coreutils", "libc6:amd64"), or NULL */
};

struct plan;

int plan_new(struct plan **ret);
void plan_free(struct plan *p);
DEFINE_POINTER_CLEANUP(struct plan, plan_free)

struct plan_entry *plan_get(struct plan *p, const char *path);
size_t plan_size(const struct plan *p);

/* The reason the entries that the next plan_add_*() calls insert (or
 * replace) carry; copied.  NULL: unknown.  Parent directories they imply
 * are PLAN_REASON_PARENT, needed_by the entry.  An existing directory keeps
 * its reason, unless it was only implied. */
int plan_set_reason(struct plan *p, const struct plan_reason *why);

/* Adds a directory (and its missing parents). */
int plan_add_dir(struct plan *p, const char *path, enum plan_precedence from);
/* Adds a file whose bytes come from src_path inside src_fd. */
int plan_add_file(struct plan *p, const char *path, enum plan_precedence from, int src_fd, const char *src_path,
                  bool exec, dev_t dev, ino_t ino, nlink_t nlink);
/* Adds a file with generated content (copied). */
int plan_add_data(struct plan *p, const char *path, enum plan_precedence from, const void *data, size_t len, bool exec);
int plan_add_symlink(struct plan *p, const char *path, enum plan_precedence from, const char *target);

/* Resolves path through the plan's own symlinks (in every component but the
 * last, and in the last too with follow_last), inside the plan's root.
 * Used to place overlay and generated files the way a copy into the output
 * tree would land.  Returns a new relative path, or NULL on a loop. */
char *plan_resolve(struct plan *p, const char *path, bool follow_last);
/* Adds generated bytes at path (relative) where a copy into the output tree
 * would land them: every component but the last resolved through the
 * plan's symlinks.  Errors name path: a loop is SMITH_ERR_SOURCE. */
int plan_add_generated(struct plan *p, const char *path, const void *data, size_t len, struct smith_error **err);

/* Records the package the entry at path came from (copied; NULL: none).
 * -ENOENT when there is no such entry. */
int plan_set_package(struct plan *p, const char *path, const char *package);

/* Calls cb for every entry in path order; a negative return stops. */
int plan_foreach(struct plan *p, int (*cb)(const struct plan_entry *e, void *userdata), void *userdata);
