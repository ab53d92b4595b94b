/* Generates passwd, group and nsswitch.conf as the original smith did:
 * four default users and six default groups, the container user appended
 * (uid used for both id fields), extra groups numbered after the user's
 * gid with the user as member, entries with ids inside the default range
 * skipped, lines joined by "\n" with no newline at the end. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "nss.h"

static const char *const default_users[] = {
        "root:x:0:0:root:/write:",
        "daemon:x:1:1:daemon:/write:",
        "bin:x:2:2:bin:/write:",
        "sys:x:3:3:sys:/write:",
};

static const char *const default_groups[] = {
        "root:x:0:", "daemon:x:1:", "bin:x:2:", "sys:x:3:", "adm:x:4:", "tty:x:5:",
};

static long id_of(const char *const *items, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++) {
                size_t len = strcspn(items[i], ":");
                if (strlen(name) == len && strncmp(items[i], name, len) == 0)
                        return i; /* defaults are numbered by position */
        }
        return -1;
}

static const char *name_of(const char *const *items, size_t n, long id) {
        static char buf[64];
        if (id < 0 || (size_t) id >= n)
                return "";
        size_t len = strcspn(items[id], ":");
        if (len >= sizeof(buf))
                return "";
        memcpy(buf, items[id], len);
        buf[len] = '\0';
        return buf;
}

/* Go's strconv.Atoi: optional sign, decimal digits, fits in a long. */
static bool parse_number(const char *s, long *ret) {
        char *end;
        long v;
        if (isempty(s))
                return false;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || *end != '\0' || s[0] == ' ' || s[0] == '\t')
                return false;
        *ret = v;
        return true;
}

/* The id of *name (a number, or a default's name: -1 for others, which
 * set *named); a number becomes the default's name it has, or "".  *name
 * is NULL when out of memory. */
static long resolve(const char *const *items, size_t n, char **name, bool *named) {
        long v, id = id_of(items, n, *name);

        if (parse_number(*name, &v)) {
                free(*name);
                *name = strdup(name_of(items, n, v));
                return v;
        }
        if (!isempty(*name))
                *named = true;
        return id;
}

int nss_parse_user(const char *user, struct nss_user *ret) {
        _cleanup_free_ char *u = NULL, *g = NULL;
        const char *colon;
        struct nss_user r = { .named = false };

        user = user ? user : "";
        colon = strchr(user, ':');
        if (colon) {
                const char *second =
                        strchr(colon + 1, ':'); /* Go's Split: the part after the 1st colon up to the next */
                u = strndup(user, (size_t) (colon - user));
                g = second ? strndup(colon + 1, (size_t) (second - colon - 1)) : strdup(colon + 1);
        } else {
                u = strdup(user);
                g = strdup("");
        }
        if (!u || !g)
                return -ENOMEM;

        r.uid = resolve(default_users, ELEMENTSOF(default_users), &u, &r.named);
        r.gid = resolve(default_groups, ELEMENTSOF(default_groups), &g, &r.named);
        if (!u || !g)
                return -ENOMEM;
        if (r.uid == -1)
                r.uid = NSS_DEFAULT_ID;
        if (r.gid == -1)
                r.gid = NSS_DEFAULT_ID;
        r.user = isempty(u) ? strdup("smith") : TAKE_PTR(u);
        r.group = isempty(g) ? strdup("smith") : TAKE_PTR(g);
        if (!r.user || !r.group) {
                nss_user_release(&r);
                return -ENOMEM;
        }
        *ret = r;
        return 0;
}

void nss_user_release(struct nss_user *u) {
        free(u->user);
        free(u->group);
        u->user = u->group = NULL;
}

static int push_fmt(char ***l, const char *fmt, ...) _printf_(2, 3);
static int push_fmt(char ***l, const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;
        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return strv_consume(l, s);
}

int nss_generate(const char *user, char *const *groups, bool nss, struct nss_files *ret) {
        _cleanup_strv_free_ char **pw = NULL, **gr = NULL;
        struct nss_user u;
        struct nss_files f = {};
        long gid;
        int r;

        r = nss_parse_user(user, &u);
        if (r < 0)
                return r;
        if (!nss && !u.named && strv_length(groups) == 0) {
                nss_user_release(&u);
                *ret = f;
                return 0;
        }

        for (size_t i = 0; i < ELEMENTSOF(default_groups); i++)
                if (strv_extend(&gr, default_groups[i]) < 0)
                        goto oom;
        /* the user's own group has no members; extra groups list the user */
        if (u.gid >= (long) ELEMENTSOF(default_groups) && push_fmt(&gr, "%s:x:%ld:", u.group, u.gid) < 0)
                goto oom;
        gid = u.gid;
        for (size_t i = 0; groups && groups[i]; i++) {
                if (id_of(default_groups, ELEMENTSOF(default_groups), groups[i]) != -1)
                        continue;
                gid++;
                if (gid >= (long) ELEMENTSOF(default_groups) &&
                    push_fmt(&gr, "%s:x:%ld:%s", groups[i], gid, u.user) < 0)
                        goto oom;
        }
        for (size_t i = 0; i < ELEMENTSOF(default_users); i++)
                if (strv_extend(&pw, default_users[i]) < 0)
                        goto oom;
        if (u.uid >= (long) ELEMENTSOF(default_users) &&
            push_fmt(&pw, "%s:x:%ld:%ld:%s:/write", u.user, u.uid, u.uid, u.user) < 0)
                goto oom;

        f.passwd = strv_join(pw, "\n");
        f.group = strv_join(gr, "\n");
        f.nsswitch = strdup("passwd:     files\n"
                            "shadow:     files\n"
                            "group:      files\n"
                            "hosts:      files dns");
        nss_user_release(&u);
        if (!f.passwd || !f.group || !f.nsswitch) {
                nss_files_release(&f);
                return -ENOMEM;
        }
        *ret = f;
        return 0;
oom:
        nss_user_release(&u);
        return -ENOMEM;
}

void nss_files_release(struct nss_files *f) {
        free_many(f->passwd, f->group, f->nsswitch);
        f->passwd = f->group = f->nsswitch = NULL;
}
