/* The user and group of the container and the name-service files smith
 * writes, with exactly the original smith's numbering and content.
 *
 * A user string is "user[:group]", each part a name or a number.  Numbers
 * name the default entry with that id (or "smith"); unknown names get id 10.
 * When nss is asked for, or a part is a name, or extra groups are given,
 * /etc/passwd, /etc/group and /etc/nsswitch.conf are generated. */
#pragma once

#include <stdbool.h>

#define NSS_DEFAULT_ID 10

struct nss_user {
        long uid, gid;
        char *user, *group;
        bool named; /* a part was given as a name */
};

int nss_parse_user(const char *user, struct nss_user *ret);
void nss_user_release(struct nss_user *u);

struct nss_files {
        char *passwd, *group, *nsswitch; /* NULL when not generated */
};

/* Fills *ret; ret->passwd is NULL when no files are needed (numeric or no
 * user, no groups, nss false).  Returns -ENOMEM on allocation failure. */
int nss_generate(const char *user, char *const *groups, bool nss, struct nss_files *ret);
void nss_files_release(struct nss_files *f);
