/* rpm-md repositories: configuration and verified metadata; see rpm-repo.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <solv/chksum.h>
#include <solv/dataiterator.h>
#include <solv/pool.h>
#include <solv/repo.h>
#include <solv/repo_repomdxml.h>

#include "apt-verify.h"
#include "basic/fs.h"
#include "basic/hash.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "pkg/os-release.h"
#include "fetch.h"
#include "repo-meta.h"
#include "rpm-repo.h"
#include "store/cache.h"

void rpm_md_file_release(struct rpm_md_file *f) {
        free(f->location);
        *f = (struct rpm_md_file){};
}

void rpm_repos_release(struct rpm_repos *r) {
        for (size_t i = 0; i < r->n; i++) {
                free_many(r->items[i].id, r->items[i].baseurl, r->items[i].where);
                strv_free(r->items[i].gpgkeys);
                rpm_md_file_release(&r->items[i].filelists);
        }
        free(r->items);
        r->items = NULL;
        r->n = 0;
}

/* --- variables --- */

const char *rpm_host_arch(void) {
        struct utsname u;
        static char machine[sizeof(u.machine)];

        if (uname(&u) != 0)
                return "x86_64";
        if (streq(u.machine, "i686") || streq(u.machine, "i586"))
                return "i686";
        snprintf(machine, sizeof(machine), "%s", u.machine);
        return machine;
}

char *rpm_host_releasever(void) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;

        if (read_file_at(AT_FDCWD, "/etc/os-release", 64 * 1024, &text, &len) < 0)
                return NULL;
        return os_release_value(text, len, "VERSION_ID");
}

char *rpm_expand_vars(const char *s, const struct rpm_vars *v) {
        _cleanup_free_ char *out = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&out, &n);

        if (!f)
                return NULL;
        for (const char *p = s; *p;) {
                const char *name, *val = NULL;
                size_t len;
                bool brace;

                if (*p != '$') {
                        fputc(*p++, f);
                        continue;
                }
                brace = p[1] == '{';
                name = p + 1 + brace;
                len = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_");
                if (brace && name[len] != '}')
                        len = 0;
                if (len == 8 && strneq(name, "basearch", 8))
                        val = v->basearch;
                else if (len == 4 && strneq(name, "arch", 4))
                        val = v->basearch;
                else if (len == 10 && strneq(name, "releasever", 10))
                        val = v->releasever;
                if (!val) {
                        fclose(f);
                        errno = EINVAL;
                        return NULL;
                }
                fputs(val, f);
                p = name + len + brace;
        }
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(out);
}

/* --- configuration --- */

static bool id_ok(const char *id) {
        size_t n = strlen(id);
        return n > 0 && n <= 200 &&
               strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") == n;
}

static bool url_ok(const char *u) {
        if (!strneq(u, "http://", 7) && !strneq(u, "https://", 8) && !strneq(u, "file:/", 6))
                return false;
        for (const char *q = u; *q; q++)
                if ((unsigned char) *q <= 0x20 || *q == 0x7f)
                        return false;
        return true;
}

int rpm_repos_add(struct rpm_repos *out, const char *where, const char *id, const char *baseurl, const char *gpgkey,
                  const char *base_dir, bool gpgcheck, bool repo_gpgcheck, const struct rpm_vars *v,
                  struct smith_error **err) {
        _cleanup_free_ char *url = NULL, *keys = NULL;
        _cleanup_strv_free_ char **words = NULL, **paths = NULL;
        struct rpm_repo *items, *r;
        size_t n;

        if (out->n >= RPM_REPOS_MAX)
                return error_set(err, SMITH_ERR_CONFIG, "%s: more than %d repositories", where, RPM_REPOS_MAX);
        if (!id_ok(id))
                return error_set(err, SMITH_ERR_CONFIG, "%s: repository id '%.200s' is not valid", where, id);
        url = rpm_expand_vars(baseurl, v);
        if (!url)
                return errno == ENOMEM ? error_oom(err)
                                       : error_set(err, SMITH_ERR_CONFIG, "%s: baseurl '%.200s': unknown variable",
                                                   where, baseurl);
        n = strlen(url);
        while (n > 0 && url[n - 1] == '/')
                url[--n] = '\0';
        if (!url_ok(url))
                return error_set(err, SMITH_ERR_CONFIG, "%s: baseurl '%.200s' is not an http, https or file URL", where,
                                 url);
        if (gpgkey) {
                keys = rpm_expand_vars(gpgkey, v);
                if (!keys)
                        return errno == ENOMEM ? error_oom(err)
                                               : error_set(err, SMITH_ERR_CONFIG,
                                                           "%s: gpgkey '%.200s': unknown variable", where, gpgkey);
                words = strv_split(keys, " \t\n,", true);
                if (!words)
                        return error_oom(err);
        }
        for (size_t i = 0; words && words[i]; i++) {
                const char *k = pkg_file_url_path(words[i]);
                if (!k && strstr(words[i], "://"))
                        return error_set(err, SMITH_ERR_CONFIG, "%s: gpgkey '%.200s': only local keys are supported",
                                         where, words[i]);
                k = k ? k : words[i];
                if (k[0] != '/' && !base_dir)
                        return error_set(err, SMITH_ERR_CONFIG, "%s: gpgkey '%.200s' is not an absolute path", where,
                                         k);
                if (strv_consume(&paths, k[0] == '/' ? strdup(k) : path_join(base_dir, k)) < 0)
                        return error_oom(err);
        }
        items = realloc(out->items, (out->n + 1) * sizeof(*items));
        if (!items)
                return error_oom(err);
        out->items = items;
        r = &out->items[out->n++];
        *r = (struct rpm_repo){ .id = strdup(id),
                                .baseurl = TAKE_PTR(url),
                                .gpgkeys = TAKE_PTR(paths),
                                .gpgcheck = gpgcheck,
                                .repo_gpgcheck = repo_gpgcheck,
                                .where = strdup(where) };
        if (!r->id || !r->where)
                return error_oom(err);
        return 0;
}

/* yum's booleans: 1/0, yes/no, true/false, on/off. */
static int parse_bool(const char *v, bool *ret) {
        static const char *const t[] = { "1", "yes", "true", "on" }, *const f[] = { "0", "no", "false", "off" };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                if (strcasecmp(v, t[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(v, f[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

struct section {
        char *id, *baseurl, *gpgkey;
        bool gpgcheck, repo_gpgcheck, enabled, mirrors; /* mirrors: a mirrorlist or metalink */
        char *where;                                    /* "file:line" of its header */
};

static void section_clear(struct section *s) {
        free_many(s->id, s->baseurl, s->gpgkey, s->where);
        *s = (struct section){ .gpgcheck = true, .enabled = true };
}

static int section_end(struct section *s, const struct rpm_ini_origin *o, const struct rpm_vars *v,
                       struct rpm_repos *out, struct smith_error **err) {
        _cleanup_free_ char *first = NULL;
        int r = 0;

        if (s->id && streq(s->id, "main"))
                ; /* yum's own settings, not a repository */
        else if (s->id && s->enabled && s->baseurl) {
                /* yum takes a list of baseurls; the first is used */
                size_t k = strcspn(s->baseurl, " \t\n,");
                first = strndup(s->baseurl, k);
                if (!first)
                        return error_oom(err);
                r = rpm_repos_add(out, s->where, s->id, first, s->gpgkey, NULL, s->gpgcheck, s->repo_gpgcheck, v, err);
        } else if (s->id && s->enabled && o && o->warn_mirrors && s->mirrors)
                log_warn("%s: repository '%s' has only a mirrorlist or metalink, which smith does not support: "
                         "skipped (give it a baseurl)",
                         s->where, s->id);
        else if (s->id && s->enabled)
                log_info("%s: repository '%s' has no baseurl (mirrorlist and metalink are not supported)", s->where,
                         s->id);
        section_clear(s);
        return r;
}

static char *strip(char *s) {
        size_t n;
        s += strspn(s, " \t\r");
        n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                s[--n] = '\0';
        return s;
}

int rpm_repos_parse_ini(const char *name, const char *text, size_t len, const struct rpm_vars *v, struct rpm_repos *out,
                        struct smith_error **err) {
        return rpm_repos_parse_ini_origin(name, text, len, NULL, v, out, err);
}

int rpm_repos_parse_ini_origin(const char *name, const char *text, size_t len, const struct rpm_ini_origin *o,
                               const struct rpm_vars *v, struct rpm_repos *out, struct smith_error **err) {
        _cleanup_free_ char *copy = NULL;
        struct section s = { .gpgcheck = true, .enabled = true };
        char **last = NULL; /* the value a continuation line extends */
        size_t lineno = 0;
        int r = 0;

        if (len > RPM_REPOS_MAX_FILE)
                return error_set(err, SMITH_ERR_CONFIG, "%s: larger than %d bytes", name, RPM_REPOS_MAX_FILE);
        copy = strndup(text, len);
        if (!copy)
                return error_oom(err);
        if (strlen(copy) != len)
                return error_set(err, SMITH_ERR_CONFIG, "%s: holds a NUL byte", name);
        for (char *l = copy, *next; r >= 0 && l; l = next) {
                char *line, *eq, *key, *val, where[512];

                next = strchr(l, '\n');
                if (next)
                        *next++ = '\0';
                lineno++;
                if (o && lineno - 1 < o->n)
                        snprintf(where, sizeof(where), "%.400s:%zu", o->files[o->line_file[lineno - 1]],
                                 o->line_no[lineno - 1]);
                else
                        snprintf(where, sizeof(where), "%.400s:%zu", name, lineno);
                if ((l[0] == ' ' || l[0] == '\t') && last && *strip(l)) {
                        /* a continuation line: one more word of the value */
                        char *joined;
                        if (asprintf(&joined, "%s %s", *last, strip(l)) < 0)
                                return section_clear(&s), error_oom(err);
                        free(*last);
                        *last = joined;
                        continue;
                }
                line = strip(l);
                if (!*line || line[0] == '#' || line[0] == ';') {
                        if (!*line)
                                last = NULL;
                        continue;
                }
                last = NULL;
                if (line[0] == '[') {
                        char *end = strchr(line, ']');
                        if (!end || *strip(end + 1))
                                r = error_set(err, SMITH_ERR_CONFIG, "%s: malformed section header", where);
                        else if ((r = section_end(&s, o, v, out, err)) >= 0) {
                                *end = '\0';
                                s.id = strdup(strip(line + 1));
                                s.where = strdup(where);
                                if (!s.id || !s.where)
                                        r = error_oom(err);
                                else if (!id_ok(s.id))
                                        r = error_set(err, SMITH_ERR_CONFIG, "%s: repository id '%.200s' is not valid",
                                                      where, s.id);
                        }
                        continue;
                }
                eq = strchr(line, '=');
                if (!eq) {
                        r = error_set(err, SMITH_ERR_CONFIG, "%s: expected 'key=value'", where);
                        continue;
                }
                *eq = '\0';
                key = strip(line);
                val = strip(eq + 1);
                if (!s.id) {
                        if (!streq(key, "") && strchr(key, ' '))
                                r = error_set(err, SMITH_ERR_CONFIG, "%s: expected 'key=value'", where);
                        continue; /* before any section: [main]-like settings, ignored */
                }
                if (streq(key, "mirrorlist") || streq(key, "metalink"))
                        s.mirrors = true;
                else if (streq(key, "baseurl") || streq(key, "gpgkey")) {
                        char **slot = streq(key, "baseurl") ? &s.baseurl : &s.gpgkey;
                        free(*slot);
                        *slot = strdup(val);
                        if (!*slot)
                                r = error_oom(err);
                        last = slot;
                } else if (streq(key, "gpgcheck") || streq(key, "repo_gpgcheck") || streq(key, "enabled")) {
                        bool *b = streq(key, "gpgcheck")  ? &s.gpgcheck
                                  : streq(key, "enabled") ? &s.enabled
                                                          : &s.repo_gpgcheck;
                        if (parse_bool(val, b) < 0)
                                r = error_set(err, SMITH_ERR_CONFIG, "%s: '%s' must be a boolean, not '%.100s'", where,
                                              key, val);
                }
        }
        if (r >= 0)
                r = section_end(&s, o, v, out, err);
        section_clear(&s);
        return r < 0 ? -1 : 0;
}

static int name_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int rpm_repos_load_host(const char *dir, const struct rpm_vars *v, struct rpm_repos *out, struct smith_error **err) {
        _cleanup_strv_free_ char **names = NULL;
        DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return errno == ENOENT ? 0 : error_set_errno(err, SMITH_ERR_IO, errno, "open '%s'", dir);
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);
                if (n > 5 && streq(de->d_name + n - 5, ".repo") && strv_extend(&names, de->d_name) < 0) {
                        closedir(d);
                        return error_oom(err);
                }
        }
        closedir(d);
        if (names)
                qsort(names, strv_length(names), sizeof(char *), name_cmp);
        for (size_t i = 0; names && names[i]; i++) {
                _cleanup_free_ char *path = path_join(dir, names[i]), *text = NULL;
                size_t len = 0;
                int r;

                if (!path)
                        return error_oom(err);
                r = read_file_at(AT_FDCWD, path, RPM_REPOS_MAX_FILE, &text, &len);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_CONFIG, r, "read '%s'", path);
                if (rpm_repos_parse_ini(path, text, len, v, out, err) < 0)
                        return -1;
        }
        return 0;
}

/* --- metadata --- */

/* The entry of repomd.xml of the given type ("primary", "filelists"), read
 * by libsolv; *ret untouched (location NULL) when there is none. */
static int repomd_entry(Pool *pool, Repo *repo, const char *id, const char *type, struct rpm_md_file *ret,
                        struct smith_error **err) {
        Dataiterator di;
        const char *loc = NULL, *sum = NULL;
        Id sum_type = 0;
        uint64_t size = 0;
        int r = 0;

        dataiterator_init(&di, pool, repo, SOLVID_META, REPOSITORY_REPOMD_TYPE, type, SEARCH_STRING);
        dataiterator_prepend_keyname(&di, REPOSITORY_REPOMD);
        if (dataiterator_step(&di)) {
                dataiterator_setpos_parent(&di);
                loc = pool_lookup_str(pool, SOLVID_POS, REPOSITORY_REPOMD_LOCATION);
                sum = pool_lookup_checksum(pool, SOLVID_POS, REPOSITORY_REPOMD_CHECKSUM, &sum_type);
                size = pool_lookup_num(pool, SOLVID_POS, REPOSITORY_REPOMD_SIZE, 0);
        }
        dataiterator_free(&di);
        if (!loc)
                return 0;
        if (!path_is_safe_location(loc))
                return error_set(err, SMITH_ERR_SOURCE, "repository '%s': refusing %s location '%.200s'", id, type,
                                 loc);
        if (!sum || sum_type != REPOKEY_TYPE_SHA256 || strlen(sum) != SHA256_HEX_LEN)
                return error_set(err, SMITH_ERR_SOURCE, "repository '%s': repomd.xml gives %s no SHA256 checksum", id,
                                 type);
        if (size == 0)
                return error_set(err, SMITH_ERR_SOURCE, "repository '%s': repomd.xml gives %s no size", id, type);
        ret->location = strdup(loc);
        if (!ret->location)
                r = error_oom(err);
        snprintf(ret->digest, sizeof(ret->digest), "sha256:%s", sum);
        ret->size = size;
        return r;
}

/* How new a repomd.xml is: its <revision> and its newest <timestamp>. */
struct repomd_age {
        char *revision;               /* or NULL */
        unsigned long long timestamp; /* 0: none */
};

static void repomd_age_release(struct repomd_age *a) {
        free(a->revision);
        *a = (struct repomd_age){};
}

/* repomd.xml's primary (required) and filelists (optional) entries, and
 * its age (may be NULL); with ret_primary NULL, only the age. */
static int repomd_read(const char *id, const char *xml, size_t len, struct rpm_md_file *ret_primary,
                       struct rpm_md_file *ret_filelists, struct repomd_age *ret_age, struct smith_error **err) {
        Pool *pool = pool_create();
        Repo *repo;
        FILE *f;
        int r = -1;

        if (!pool)
                return error_oom(err);
        repo = repo_create(pool, id);
        f = fmemopen((void *) xml, len, "r");
        if (!f) {
                pool_free(pool);
                return error_oom(err);
        }
        if (repo_add_repomdxml(repo, f, 0) != 0) {
                error_set(err, SMITH_ERR_SOURCE, "repository '%s': repomd.xml: %s", id, pool_errstr(pool));
                fclose(f);
                goto out;
        }
        fclose(f);
        repo_internalize(repo);
        if (ret_age) {
                const char *rev = repo_lookup_str(repo, SOLVID_META, REPOSITORY_REVISION);

                ret_age->timestamp = repo_lookup_num(repo, SOLVID_META, REPOSITORY_TIMESTAMP, 0);
                ret_age->revision = rev ? strdup(rev) : NULL;
                if (rev && !ret_age->revision) {
                        error_oom(err);
                        goto out;
                }
        }
        if (!ret_primary) {
                r = 0;
                goto out;
        }
        if (repomd_entry(pool, repo, id, "primary", ret_primary, err) < 0 ||
            repomd_entry(pool, repo, id, "filelists", ret_filelists, err) < 0)
                goto out;
        if (!ret_primary->location)
                error_set(err, SMITH_ERR_SOURCE, "repository '%s': repomd.xml lists no primary", id);
        else
                r = 0;
out:
        pool_free(pool);
        return r;
}

/* A revision to compare as a number: digits only (createrepo_c's default
 * is the time it ran). */
static bool numeric_revision(const char *s, unsigned long long *ret) {
        char *end;

        if (!s || !*s || strlen(s) > 19 || strspn(s, "0123456789") != strlen(s))
                return false;
        errno = 0;
        *ret = strtoull(s, &end, 10);
        return errno == 0 && *end == '\0';
}

static void format_time(unsigned long long t, char buf[static 64]) {
        time_t tt = (time_t) t;
        struct tm tm;

        if (!gmtime_r(&tt, &tm) || strftime(buf, 64, "%a, %d %b %Y %H:%M:%S UTC", &tm) == 0)
                snprintf(buf, 64, "%llu", t);
}

/* A fetched repomd.xml older than the copy the cache holds for the same
 * repository is refused, like an older Release (apt-repo.c): a mirror, or
 * someone between, serving an old but validly signed repomd.xml would roll
 * the repository back to packages with known holes.  Older: a smaller
 * <revision> when both are numbers and differ, else an older newest
 * <timestamp>.  The cached copy was checked when it was stored, so only
 * its age is read here; an unreadable one is simply replaced. */
static int check_rollback(const char *id, const struct repomd_age *fresh, const char *cached, size_t cached_len,
                          struct smith_error **err) {
        struct repomd_age old = {};
        unsigned long long a, b;
        char now[64], was[64];
        int r = 0;

        if (!cached || repomd_read(id, cached, cached_len, NULL, NULL, &old, NULL) < 0)
                return 0;
        if (numeric_revision(fresh->revision, &a) && numeric_revision(old.revision, &b) && a != b) {
                if (a < b)
                        r = error_set(err, SMITH_ERR_SOURCE,
                                      "repository '%s': repomd.xml revision '%s' is older than the cached copy's "
                                      "'%s': refusing the rollback",
                                      id, fresh->revision, old.revision);
        } else if (fresh->timestamp != 0 && old.timestamp != 0 && fresh->timestamp < old.timestamp) {
                format_time(fresh->timestamp, now);
                format_time(old.timestamp, was);
                r = error_set(err, SMITH_ERR_SOURCE,
                              "repository '%s': repomd.xml timestamp '%s' is older than the cached copy's '%s': "
                              "refusing the rollback",
                              id, now, was);
        }
        repomd_age_release(&old);
        return r;
}

static int cache_name(const struct rpm_repo *r, char ret[static 7 + SHA256_HEX_LEN + 1]) {
        _cleanup_free_ char *id = NULL;
        char d[DIGEST_STR_LEN + 1];

        if (asprintf(&id, "rpm\n%s", r->baseurl) < 0)
                return -ENOMEM;
        sha256_digest_of(id, strlen(id), d);
        snprintf(ret, 7 + SHA256_HEX_LEN + 1, "repomd-%s", digest_hex(d));
        return 0;
}

/* repomd.xml.asc: with a fresh repomd.xml fetched too, else the cached one
 * (fetched when there is none), and checked. */
static int check_repomd_signature(const struct rpm_repo *r, struct cache *c, struct http *h, const char *url,
                                  const char *name, const struct pkg_meta *m, struct smith_error **err) {
        _cleanup_free_ char *sig_url = NULL, *sig = NULL, *sig_name = NULL;
        size_t sig_len = 0;
        bool fetched = false;
        int k = -1;

        if (!r->gpgkeys)
                return error_set(err, SMITH_ERR_SOURCE, "repository '%s': repo_gpgcheck without a gpgkey", r->id);
        if (asprintf(&sig_url, "%s.asc", url) < 0 || asprintf(&sig_name, "%s.asc", name) < 0)
                return error_oom(err);
        if (m->from != PKG_META_FETCHED)
                k = cache_pkgs_read(c, sig_name, 1u << 20, &sig, &sig_len, NULL);
        if (k < 0) {
                free(TAKE_PTR(sig));
                k = pkg_fetch_small(h, sig_url, 1u << 20, 0, &sig, &sig_len, NULL, err);
                if (k == 1)
                        return error_set(err, SMITH_ERR_SOURCE, "repository '%s': repomd.xml: not signed (no '%s')",
                                         r->id, "repomd.xml.asc");
                if (k < 0)
                        return error_wrap(err, "repository '%s'", r->id);
                fetched = true;
        }
        if (apt_verify_detached("repomd.xml", m->data, m->len, sig, sig_len, r->gpgkeys, NULL, err) < 0)
                return error_wrap(err, "repository '%s'", r->id);
        return fetched ? cache_pkgs_write(c, sig_name, sig, sig_len, err) : 0;
}

int rpm_repo_load(struct rpm_repo *r, struct cache *c, struct http *h, bool fast, struct apt_indexes *out,
                  struct smith_error **err) {
        _cleanup_free_ char *url = NULL, *purl = NULL, *what = NULL;
        _cleanup_(pkg_meta_release) struct pkg_meta m = {};
        char name[7 + SHA256_HEX_LEN + 1];
        struct rpm_md_file primary = {};
        struct repomd_age age = {};
        struct pkg_meta_request rq;
        struct apt_index *items, *x;
        const char *hint;
        int fd = -1, k;

        if (asprintf(&url, "%s/repodata/repomd.xml", r->baseurl) < 0 || cache_name(r, name) < 0)
                return error_oom(err);
        rq = (struct pkg_meta_request){
                .name = name, .url = url, .shown = r->id, .max = RPM_REPOMD_MAX, .fast = fast, .now = time(NULL)
        };
        k = pkg_meta_fetch(c, h, &rq, &m, err);
        if (k == 1)
                return error_set(err, SMITH_ERR_SOURCE, "repository '%s': no repodata/repomd.xml at '%s'", r->id,
                                 r->baseurl);
        if (k < 0)
                return error_wrap(err, "repository '%s'", r->id);
        if (r->repo_gpgcheck && check_repomd_signature(r, c, h, url, name, &m, err) < 0)
                return -1;
        rpm_md_file_release(&r->filelists);
        if (repomd_read(r->id, m.data, m.len, &primary, &r->filelists, &age, err) < 0 ||
            (m.from == PKG_META_FETCHED && check_rollback(r->id, &age, m.cached, m.cached_len, err) < 0) ||
            pkg_meta_store(c, &rq, &m, err) < 0) {
                rpm_md_file_release(&primary);
                repomd_age_release(&age);
                return -1;
        }
        repomd_age_release(&age);
        hint = strrchr(primary.location, '/') ? strrchr(primary.location, '/') + 1 : primary.location;
        if (asprintf(&purl, "%s/%s", r->baseurl, primary.location) < 0 ||
            asprintf(&what, "repository '%s': '%s'", r->id, primary.location) < 0) {
                rpm_md_file_release(&primary);
                return error_oom(err);
        }
        k = pkg_fetch_blob(c, h, purl, what, primary.digest, primary.size, err);
        if (k == 1)
                k = error_set(err, SMITH_ERR_SOURCE, "%s: not on the server", what);
        if (k >= 0 && (k = blob_open(c->blobs_fd, primary.digest, &fd)) < 0)
                k = error_set_errno(err, SMITH_ERR_IO, k, "open %s", what);
        if (k < 0) {
                rpm_md_file_release(&primary);
                return -1;
        }
        items = realloc(out->items, (out->n + 1) * sizeof(*items));
        if (!items) {
                close(fd);
                rpm_md_file_release(&primary);
                return error_oom(err);
        }
        out->items = items;
        x = &out->items[out->n++];
        *x = (struct apt_index){
                .fd = fd, .name = strdup(r->id), .base_uri = strdup(r->baseurl), .hint = strdup(hint)
        };
        memcpy(x->digest, primary.digest, sizeof(x->digest));
        rpm_md_file_release(&primary);
        if (!x->name || !x->base_uri || !x->hint)
                return error_oom(err);
        return 0;
}

int rpm_repo_open_filelists(const struct rpm_repo *r, struct cache *c, struct http *h, int *ret_fd,
                            const char **ret_hint, struct smith_error **err) {
        _cleanup_free_ char *url = NULL, *what = NULL;
        const char *loc = r->filelists.location;
        int k;

        if (!loc)
                return 1;
        if (asprintf(&url, "%s/%s", r->baseurl, loc) < 0 || asprintf(&what, "repository '%s': '%s'", r->id, loc) < 0)
                return error_oom(err);
        k = pkg_fetch_blob(c, h, url, what, r->filelists.digest, r->filelists.size, err);
        if (k == 1)
                return error_set(err, SMITH_ERR_SOURCE, "%s: not on the server", what);
        if (k < 0)
                return -1;
        k = blob_open(c->blobs_fd, r->filelists.digest, ret_fd);
        if (k < 0)
                return error_set_errno(err, SMITH_ERR_IO, k, "open %s", what);
        *ret_hint = strrchr(loc, '/') ? strrchr(loc, '/') + 1 : loc;
        return 0;
}
