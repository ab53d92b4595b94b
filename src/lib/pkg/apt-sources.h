/* apt's package sources: the one-line form of sources.list
 * ("deb [signed-by=/k.gpg trusted=yes arch=amd64] URI suite [components]")
 * and deb822 .sources files (Types, URIs, Suites, Components, Signed-By,
 * Trusted, Architectures, Enabled), read the way apt reads them.
 *
 * Every source is expanded to one entry per (URI, suite): the unit that has
 * one InRelease.  deb-src entries and disabled ones are skipped.  A suite
 * ending in '/' is a flat repository (InRelease and Packages right under
 * URI/suite), which has no components.
 *
 * Errors are SMITH_ERR_CONFIG, one line, naming "file:line".  Ownership: an
 * apt_sources owns its entries and their strings (apt_sources_release()). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"

struct apt_source {
        char *uri;           /* without a trailing '/' */
        char *suite;         /* "bookworm", or a flat path ending in '/' */
        char **components;   /* strv; NULL for a flat repository */
        char **signed_by;    /* keyring files (absolute), or NULL: the host's trusted keys */
        char *signed_by_key; /* an inline armored key block (deb822), or NULL */
        char **archs;        /* strv, or NULL: the build machine's */
        bool trusted;        /* [trusted=yes]: the signature is not checked */
        char *where;         /* "file:line", for messages */
};

struct apt_sources {
        struct apt_source *items;
        size_t n;
};

#define APT_SOURCES_MAX_FILE (1024 * 1024) /* bytes in one sources file */
#define APT_SOURCES_MAX 10000              /* entries in all */

void apt_sources_release(struct apt_sources *s);

/* One line of the one-line form (comments after '#' allowed).  A blank or
 * comment line and deb-src lines add nothing.  where names the line. */
int apt_sources_parse_line(const char *where, const char *line, struct apt_sources *out, struct smith_error **err);

/* A whole sources.list file (name is what messages call it). */
int apt_sources_parse_list(const char *name, const char *text, size_t len, struct apt_sources *out,
                           struct smith_error **err);

/* A whole deb822 .sources file. */
int apt_sources_parse_deb822(const char *name, const char *text, size_t len, struct apt_sources *out,
                             struct smith_error **err);

/* Appends one entry per suite (smith.yaml's mapping form); the strings
 * are copied and checked as the parsers check them. */
int apt_sources_add(struct apt_sources *out, const char *where, const char *uri, char *const *suites,
                    char *const *components, char *const *signed_by, bool trusted, struct smith_error **err);

/* The sources configured in etc_apt (normally "/etc/apt"): sources.list,
 * then sources.list.d/ *.list and *.sources in name order.  Missing files
 * are fine (out may stay empty). */
int apt_sources_load_host(const char *etc_apt, struct apt_sources *out, struct smith_error **err);

/* "uri suite": how messages name a source. */
char *apt_source_name(const struct apt_source *s);

/* The build machine's architecture in dpkg's naming ("amd64", "arm64",
 * "armhf", "i386", "ppc64el", "s390x", "riscv64", ...). */
const char *apt_host_arch(void);

/* True if the source serves arch (its archs, or any when unset). */
bool apt_source_has_arch(const struct apt_source *s, const char *arch);
