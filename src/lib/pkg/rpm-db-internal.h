/* What the three parts of the rpm database code share (rpm-db.h is the
 * interface): the database's state, and librpm set up around smith
 * (rpm-db-env.c): one caller at a time, the host's configuration never
 * read, librpm's messages kept for errors instead of printed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rpm/rpmlog.h>
#include <rpm/rpmts.h>

#include "basic/error.h"
#include "pkg/path-index.h"

struct rpm_db_package;

#define RPMDB_DB "rpmdb.sqlite"

struct rpm_pkg {
        char *name;  /* NULL: a header left out (gpg-pubkey, a name that is not rpm's) */
        char *nevra; /* "bash-5.2.15-3.fc38.x86_64" */
        char *key;   /* as plan entries name it: name, or nevra when the name is there twice */
        unsigned hnum;
        bool shipped;
        struct rpm_db_package *info; /* rpm_db_package()'s: one allocation with its strings, or NULL */
};

struct rpm_db {
        char *tmp;    /* the private directory */
        char *dbpath; /* tmp/db: the copy librpm opens */
        struct rpm_pkg *pkgs;
        size_t n;
        size_t *by_key; /* indexes into pkgs of those with a key, sorted by key */
        size_t n_keys;
        struct path_index paths; /* unique; pkg indexes pkgs */
};

struct rpm_env {
        rpmlogCallback old_cb;
        rpmlogCallbackData old_data;
};

/* The macros a transaction or a rebuild on dbpath needs, and nothing from
 * the host; holds the one lock around librpm until rpmdb_env_leave(). */
void rpmdb_env_enter(struct rpm_env *e, const char *dbpath);
void rpmdb_env_leave(struct rpm_env *e);
/* A transaction set on "/" that checks header digests, with no keys. */
rpmts rpmdb_ts_new(void);
/* "what: librpm's last message" (under rpmdb_env_enter()).  -1. */
int rpmdb_error(struct smith_error **err, enum smith_error_kind kind, const char *what);
/* A private directory under $TMPDIR and its db/ for a copy.  -errno. */
int rpmdb_make_tmp(char **ret_tmp, char **ret_dbpath);
/* Copies at most max bytes from in to a new file path (0600).  -errno. */
int rpmdb_copy_fd_to(int in, const char *path, uint64_t max);
/* The package whose key (as plan entries name it) is key, or NULL. */
struct rpm_pkg *rpmdb_find_key(const struct rpm_db *db, const char *key);
