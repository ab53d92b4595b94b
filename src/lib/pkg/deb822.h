/* deb822 control syntax (RFC 822-like stanzas, as Debian writes Release,
 * Packages and .sources files), shared by the apt parsers of this folder.
 *
 * A stanza is a run of "Key: value" fields, continuation lines starting
 * with a space or a tab, ended by a blank line.  Lines starting with '#'
 * are comments (.sources files allow them).  Everything is hostile text:
 * sizes are bounded by the caller's max_stanzas and the input length, and
 * nothing is interpreted here beyond the syntax.
 *
 * Ownership: deb822_parse() returns an array of stanzas owning all of its
 * strings; deb822_free() releases it (NULL fine). */
#pragma once

#include <stddef.h>

struct deb822_field {
        char *key;
        /* the first line's value, then "\n" and each continuation line, with
         * surrounding blanks removed (a lone "." is an empty line) */
        char *value;
        size_t value_len, value_cap;
        size_t line; /* 1-based, of the key */
};

struct deb822_stanza {
        struct deb822_field *fields;
        size_t n_fields;
        size_t line; /* 1-based, of the first field */
};

#define DEB822_MAX_FIELDS 1000 /* fields in one stanza */

/* Parses len bytes.  Returns 0, or -EINVAL with *ret_err_line (1-based)
 * naming the malformed line, -E2BIG past max_stanzas or DEB822_MAX_FIELDS,
 * -ENOMEM.  A NUL byte is malformed. */
int deb822_parse(const char *text, size_t len, size_t max_stanzas, struct deb822_stanza **ret, size_t *ret_n,
                 size_t *ret_err_line);
void deb822_free(struct deb822_stanza *s, size_t n);

/* The value of key (ASCII case-insensitive), or NULL.  The first wins. */
const char *deb822_get(const struct deb822_stanza *s, const char *key);
/* The field of key, or NULL. */
const struct deb822_field *deb822_field(const struct deb822_stanza *s, const char *key);
