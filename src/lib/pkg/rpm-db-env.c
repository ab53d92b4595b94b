/* librpm around smith, for the rpm database code; see rpm-db-internal.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpm/rpmkeyring.h>
#include <rpm/rpmcrypto.h>
#include <rpm/rpmmacro.h>

#include "basic/fs.h"
#include "basic/macro.h"
#include "basic/path.h"
#include "pkg/rpm-db-internal.h"

/* librpm reports through rpmlog, which prints; the library never does, so
 * the last message is kept for the error instead. */
static char last_log[256];
static const char *log_dbpath; /* the private copy's path: not for messages */

static int log_keep(rpmlogRec rec, rpmlogCallbackData data) {
        const char *m = rpmlogRecMessage(rec);
        char *tmp;
        size_t n;

        (void) data;
        if (m && rpmlogRecPriority(rec) <= RPMLOG_WARNING) {
                snprintf(last_log, sizeof(last_log), "%s", m);
                tmp = log_dbpath ? strstr(last_log, log_dbpath) : NULL;
                if (tmp && tmp - last_log >= 4 && strneq(tmp - 4, " in ", 4))
                        tmp -= 4;
                if (tmp)
                        *tmp = '\0';
                n = strlen(last_log);
                while (n > 0 && (last_log[n - 1] == '\n' || last_log[n - 1] == ' '))
                        last_log[--n] = '\0';
        }
        return 0;
}

static pthread_mutex_t rpm_lock = PTHREAD_MUTEX_INITIALIZER;

static void init_crypto(void) {
        (void) rpmInitCrypto();
}

/* The macros a transaction or a rebuild on dbpath needs, and nothing from
 * the host: the lock beside the database, the sqlite backend. */
void rpmdb_env_enter(struct rpm_env *e, const char *dbpath) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        _cleanup_free_ char *lock = NULL;

        pthread_mutex_lock(&rpm_lock);
        pthread_once(&once, init_crypto);
        last_log[0] = '\0';
        e->old_data = NULL;
        log_dbpath = dbpath;
        e->old_cb = rpmlogSetCallback(log_keep, NULL);
        if (asprintf(&lock, "%s/.rpm.lock", dbpath) < 0)
                lock = NULL;
        rpmPushMacro(NULL, "_dbpath", NULL, dbpath, RMIL_CMDLINE);
        rpmPushMacro(NULL, "_rpmlock_path", NULL, lock ? lock : "/nonexistent/.rpm.lock", RMIL_CMDLINE);
        rpmPushMacro(NULL, "_db_backend", NULL, "sqlite", RMIL_CMDLINE);
}

void rpmdb_env_leave(struct rpm_env *e) {
        rpmPopMacro(NULL, "_db_backend");
        rpmPopMacro(NULL, "_rpmlock_path");
        rpmPopMacro(NULL, "_dbpath");
        rpmlogSetCallback(e->old_cb, e->old_data);
        log_dbpath = NULL;
        pthread_mutex_unlock(&rpm_lock);
}

/* A transaction set on "/" (no chroot) that verifies header digests but
 * has no keys to check signatures with: the headers were checked when the
 * packages were fetched, or come from the image as they are. */
rpmts rpmdb_ts_new(void) {
        rpmts ts = rpmtsCreate();
        rpmKeyring kr = rpmKeyringNew();

        if (ts) {
                rpmtsSetRootDir(ts, "/");
                rpmtsSetKeyring(ts, kr);
                rpmtsSetVSFlags(ts, RPMVSF_MASK_NOSIGNATURES);
        }
        rpmKeyringFree(kr);
        return ts;
}

int rpmdb_error(struct smith_error **err, enum smith_error_kind kind, const char *what) {
        return error_set(err, kind, "%s%s%s", what, last_log[0] ? ": " : "", last_log);
}

int rpmdb_make_tmp(char **ret_tmp, char **ret_dbpath) {
        const char *t = getenv("TMPDIR");
        _cleanup_free_ char *tmp = NULL, *dbpath = NULL;
        int r = mkdtemp_in(isempty(t) ? "/tmp" : t, "smith-rpmdb-", &tmp);

        if (r < 0)
                return r;
        dbpath = path_join(tmp, "db");
        if (!dbpath || mkdir(dbpath, 0700) < 0) {
                r = dbpath ? -errno : -ENOMEM;
                (void) rm_rf_at(AT_FDCWD, tmp);
                return r;
        }
        *ret_tmp = TAKE_PTR(tmp);
        *ret_dbpath = TAKE_PTR(dbpath);
        return 0;
}

/* Copies at most max bytes from in to a new file path (0600). */
int rpmdb_copy_fd_to(int in, const char *path, uint64_t max) {
        _cleanup_close_ int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        return out < 0 ? -errno : copy_bytes(in, out, max, NULL, NULL);
}
