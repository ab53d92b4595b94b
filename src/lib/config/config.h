/* smith.yaml: the build definition, parsed into a plain struct.
 *
 * The original smith read smith.yaml with ghodss/yaml (YAML -> JSON -> Go
 * struct), so every file it accepted must parse here with the same meaning:
 * scalars given where a string is expected are taken as their literal text
 * ("user: 10", "cmd: [sleep, 10]"), null means unset, booleans are YAML 1.1
 * booleans and keys also match case-insensitively ("Paths:").  On top of
 * that we are strict: unknown keys, wrong types and duplicate keys are
 * errors that name the file, line and column.  "ports" also takes a list of
 * strings (["80/tcp"]), as docker users write it.
 *
 * The same config, serialised the way Go's json.Marshal wrote the original's
 * ConfigDef, is the image's "spec" blob (config_to_spec_json()).
 *
 * Ownership: a struct smith_config owns every string and strv in it; fields
 * are NULL when unset, and strvs are never empty (NULL instead).  Every
 * error from this module is one line and SMITH_ERR_CONFIG, except running
 * out of memory (SMITH_ERR_IO) and image defaults, whose input comes from an
 * image (SMITH_ERR_SOURCE). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"

#define CONFIG_MAX_FILE_SIZE (1024 * 1024)     /* larger smith.yaml files are refused */
#define CONFIG_MAX_SCALAR (64 * 1024)          /* bytes in one string */
#define CONFIG_MAX_ITEMS 100000                /* entries in one list or mapping */
#define CONFIG_MAX_EXPANDED (16 * 1024 * 1024) /* bytes of strings after aliases are expanded */
#define CONFIG_MAX_DEPTH 64                    /* nested collections (smith.yaml needs 3) */
#define CONFIG_MAX_ANCHORS 1000

struct smith_mock_config {
        char *config, *pre_build, *post_build; /* NULL when unset */
        char **deps;                           /* strv, NULL when unset/empty */
        bool debuginfo;
        char **debugdeps, **debugpaths;
};

/* `packages:`, how package sources (deb, rpm) solve. */
struct smith_packages_config {
        bool recommends; /* Recommends (rpm: weak dependencies) installed too (default false) */
};

/* One item of `repos:`: either the one-line apt form ("deb [opts] URI
 * suite [components...]", kept as written in line, parsed by the deb
 * source) or a mapping: an apt repository, or an rpm-md one when it has
 * `baseurl` or `type: rpm-md` (rpm_md).  where is "smith.yaml:LINE:COL"
 * for messages. */
struct smith_repo {
        char *line;                  /* the one-line form, or NULL for a mapping */
        char *uri, *signed_by;       /* mapping: NULL when unset (uri: also `baseurl`) */
        char **suites, **components; /* mapping: strv, NULL when unset */
        bool trusted;
        bool rpm_md;
        char *type, *name, *gpgkey, *releasever; /* rpm-md: NULL when unset */
        int gpgcheck, repo_gpgcheck;             /* rpm-md: 1, 0, or -1 when unset */
        char *where;
};

struct smith_config {
        char *type, *package, *parent, *user, *dir; /* NULL when unset */
        char *platform;                             /* "os/arch[/variant]" to build for, NULL: this machine's */
        char **platforms;                           /* `platforms:`, each built into one image index (strv), or NULL */
        /* `package:` given as a list: the names (package then holds them
         * joined by spaces, for messages); NULL when it was a string */
        char **package_list;
        struct smith_repo *repos; /* `repos:`, n_repos items; NULL when unset */
        size_t n_repos;
        struct smith_mock_config mock;
        char **paths, **excludes, **groups, **mounts, **entrypoint, **cmd, **env; /* strv, NULL when unset/empty */
        char **label_keys, **label_values; /* parallel strvs, sorted by key, keys unique */
        char **ports;                      /* strv of port keys ("80/tcp"), sorted, unique */
        unsigned *path_lines;              /* parallel to paths: each entry's line in the file (1-based) */
        bool nss, root;
        bool no_package_metadata; /* `package-metadata: false` (on by default) */
        struct smith_packages_config packages;
};

/* An empty config (what an empty smith.yaml gives), or NULL on ENOMEM. */
struct smith_config *config_new(void);
void config_free(struct smith_config *c);
DEFINE_POINTER_CLEANUP(struct smith_config, config_free)

/* Reads path (at most CONFIG_MAX_FILE_SIZE bytes) and parses it; messages
 * name the path as given. */
int config_load(const char *path, struct smith_config **ret, struct smith_error **err);
/* Parses len bytes of YAML; name is what messages call the file. */
int config_parse(const char *name, const char *data, size_t len, struct smith_config **ret, struct smith_error **err);

/* The original's json.Marshal(ConfigDef): compact, Go key order, omitempty
 * semantics ("mock" is a struct, so it is always there, {} when empty), map
 * keys sorted, ports as {"80/tcp":{}}, and Go's escaping (<, >, & as
 * \u003c \u003e \u0026, U+2028/2029 too).  Used as the image's spec blob.
 * *ret is NUL-terminated; *ret_len (optional) excludes the NUL. */
int config_to_spec_json(const struct smith_config *c, char **ret, size_t *ret_len, struct smith_error **err);

/* The original's setDefaultsFromImage (plus labels): fills dir, entrypoint,
 * cmd, env, ports and labels from an OCI image config's "config" object
 * (WorkingDir, Entrypoint, Cmd, Env, ExposedPorts, Labels) where smith.yaml
 * left them empty.  image_config_config may be NULL or JSON null (nothing to
 * do).  On error (SMITH_ERR_SOURCE: the image is malformed) c is unchanged. */
int config_apply_image_defaults(struct smith_config *c, const json_t *image_config_config, struct smith_error **err);

/* Value of NAME in c->env ("NAME=value"), or NULL.  The last one wins;
 * entries without '=' are ignored. */
const char *config_getenv(const struct smith_config *c, const char *name);
