/* Selection: turns smith.yaml's paths and excludes into plan entries, from
 * a source root opened as a directory fd (untrusted).
 *
 * As in the original smith: patterns are globs on absolute paths inside the
 * source root; a directory is copied whole; every symlink met on the way is
 * recreated in the plan and followed inside the root; dangling links are
 * skipped (noted with -v).  Beyond the original: excludes drop whole
 * subtrees, and every ELF file copied (whatever its mode bits) pulls in its
 * interpreter and libraries, recursively, found the way ld.so would find
 * them, by reading files only. */
#pragma once

#include <stdbool.h>

#include "basic/error.h"
#include "tree/plan.h"

struct selector;

struct selector_opts {
        int root_fd;                 /* the source root (borrowed) */
        const char *root_name;       /* for messages */
        const char *ld_library_path; /* LD_LIBRARY_PATH from smith.yaml's env, or NULL */
        char *const *excludes;       /* glob patterns, may be NULL */
        bool nss;                    /* add libnss_files/dns/compat and their dependencies */
        /* the platform built for, as an ELF identity (class, data,
         * machine: a library of another is never picked anyway): the
         * first program must be one of it, and the nss modules are looked
         * for as its; zero machine: whatever the first program is (this
         * machine's when there is none) */
        int target_class, target_data;
        unsigned target_machine;
};

int selector_new(struct plan *plan, const struct selector_opts *o, struct selector **ret, struct smith_error **err);
/* The ELF identity of the first dynamic program selected (what a
 * directory source is built for); false when none was. */
bool selector_first_machine(const struct selector *s, int *ret_class, int *ret_data, unsigned *ret_machine);
void selector_free(struct selector *s);
DEFINE_POINTER_CLEANUP(struct selector, selector_free)

/* Adds everything pattern matches (a pattern matching nothing is noted with
 * -v, like the original, which silently copied nothing); the entries'
 * reason names the pattern and line, its line in smith.yaml (0: unknown). */
int selector_add_pattern(struct selector *s, const char *pattern, unsigned line, struct smith_error **err);

/* Resolves the ELF closure of everything added so far (and the NSS modules
 * when asked).  Missing libraries are warnings naming who needs them: the
 * first few one by one, then one line with the count of the rest (with -v,
 * every one). */
int selector_finish(struct selector *s, struct smith_error **err);

/* Expands a glob pattern on absolute paths inside root_fd, like Go's
 * filepath.Glob (no special case for dot files; sorted per directory).
 * Matches are absolute paths inside the root, unresolved. */
int root_glob(int root_fd, const char *pattern, char ***ret, struct smith_error **err);
