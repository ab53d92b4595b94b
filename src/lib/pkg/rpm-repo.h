/* rpm-md repositories: where they are configured, and their metadata,
 * verified before anything in it is used.
 *
 *   configuration  smith.yaml's rpm-md `repos:` mappings, or yum's
 *                  /etc/yum.repos.d/ *.repo (ini: [id], baseurl, gpgkey,
 *                  gpgcheck, repo_gpgcheck, enabled), $basearch and
 *                  $releasever expanded in baseurl and gpgkey.
 *   repomd.xml     asked for at every build, conditionally, kept in the
 *                  cache's pkgs/repomd-<hash of the baseurl>, standing in
 *                  (with a warning naming its age) when the repository
 *                  cannot be reached, used without asking with -f
 *                  (repo-meta.h); with repo_gpgcheck its detached signature
 *                  repomd.xml.asc (kept beside it) is checked with gpgv
 *                  against the repository's gpgkey files (apt-verify.h), a
 *                  cached copy too; read by libsolv (repo_add_repomdxml()).
 *   primary        the location repomd names, fetched into the blob store
 *                  with the size and sha256 repomd gives checked before it
 *                  is opened (fetch.h).
 *   filelists      the same, only when asked for (rpm_repo_open_filelists():
 *                  a requirement on a path primary's file subset lacks).
 *
 * Only baseurl repositories (no mirrorlist or metalink); gpgkey files are
 * local (a path or file://).  Errors are SMITH_ERR_CONFIG for the
 * configuration ("file:line: ..."), SMITH_ERR_SOURCE for a repository.
 * Ownership: an rpm_repos owns its entries and their strings. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apt-repo.h"
#include "basic/error.h"
#include "basic/hash.h"

struct cache;
struct http;

/* A file repomd.xml names, its location checked (relative, no ".."). */
struct rpm_md_file {
        char *location; /* NULL: repomd.xml lists none */
        char digest[DIGEST_STR_LEN + 1];
        uint64_t size;
};
void rpm_md_file_release(struct rpm_md_file *f);

struct rpm_repo {
        char *id;                     /* "[id]", or smith.yaml's name (else its baseurl) */
        char *baseurl;                /* expanded, without a trailing '/' */
        char **gpgkeys;               /* strv of absolute key file paths, or NULL */
        bool gpgcheck;                /* packages' signatures checked (default true) */
        bool repo_gpgcheck;           /* repomd.xml's signature checked (default false) */
        char *where;                  /* "file:line", for messages */
        struct rpm_md_file filelists; /* filled by rpm_repo_load() */
};

struct rpm_repos {
        struct rpm_repo *items;
        size_t n;
};

struct rpm_vars {
        const char *basearch, *releasever; /* releasever may be NULL: "$releasever" is then an error */
};

#define RPM_REPOS_MAX_FILE (1024 * 1024) /* bytes in one .repo file */
#define RPM_REPOS_MAX 1000               /* repositories in all */
#define RPM_REPOMD_MAX (16u << 20)

void rpm_repos_release(struct rpm_repos *r);

/* Appends one repository; gpgkey is yum's list (paths or file:// URLs,
 * separated by blanks or commas), relative paths starting at base_dir
 * (may be NULL: must be absolute). */
int rpm_repos_add(struct rpm_repos *out, const char *where, const char *id, const char *baseurl, const char *gpgkey,
                  const char *base_dir, bool gpgcheck, bool repo_gpgcheck, const struct rpm_vars *v,
                  struct smith_error **err);

/* A whole .repo file (name is what messages call it); disabled
 * repositories and those without a baseurl add nothing. */
int rpm_repos_parse_ini(const char *name, const char *text, size_t len, const struct rpm_vars *v, struct rpm_repos *out,
                        struct smith_error **err);

/* Where each line of an ini text comes from, when it was cut out of
 * another file (a mock configuration's 'dnf.conf' string): line i (0-based)
 * is files[line_file[i]]:line_no[i].  warn_mirrors: a repository with only
 * a mirrorlist or metalink is a warning, not a -v note. */
struct rpm_ini_origin {
        char *const *files;
        const size_t *line_file, *line_no;
        size_t n;
        bool warn_mirrors;
};

/* rpm_repos_parse_ini() with messages naming o's lines (o may be NULL). */
int rpm_repos_parse_ini_origin(const char *name, const char *text, size_t len, const struct rpm_ini_origin *o,
                               const struct rpm_vars *v, struct rpm_repos *out, struct smith_error **err);

/* dir's (normally "/etc/yum.repos.d") *.repo files in name order. */
int rpm_repos_load_host(const char *dir, const struct rpm_vars *v, struct rpm_repos *out, struct smith_error **err);

/* s with $basearch, $arch and $releasever (also ${...}) replaced; NULL
 * with errno EINVAL for an unknown or unset variable, ENOMEM. */
char *rpm_expand_vars(const char *s, const struct rpm_vars *v);

/* The build machine's architecture in rpm's naming ("x86_64", "aarch64"),
 * and its VERSION_ID from /etc/os-release (NULL when unknown; freed by the
 * caller). */
const char *rpm_host_arch(void);
char *rpm_host_releasever(void);

/* Loads the repository's primary index into out (appended; the entry's
 * name is the repository's id, its hint the location's file name) and
 * notes where its filelists are (r->filelists); fast is -f. */
int rpm_repo_load(struct rpm_repo *r, struct cache *c, struct http *h, bool fast, struct apt_indexes *out,
                  struct smith_error **err);

/* The repository's filelists (after rpm_repo_load()), fetched into the
 * blob store when needed with repomd's size and sha256 checked, opened
 * read-only (*ret_hint, pointing into r, names its compression).  Returns
 * 0, 1 if repomd.xml lists none, or -1 with err. */
int rpm_repo_open_filelists(const struct rpm_repo *r, struct cache *c, struct http *h, int *ret_fd,
                            const char **ret_hint, struct smith_error **err);
