/* The pieces of the smith.yaml walk shared by its two files: the parser
 * state, messages with file:line:column, and readers of one value of each
 * field type (config-yaml-values.c).  config-yaml.c holds the tables of
 * known keys and the walk over the document. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "config.h"

struct parser {
        const char *name;
        yaml_document_t *doc;
        size_t expanded; /* bytes of strings copied so far */
        struct smith_error **err;
};

/* --- messages --- */
/* "name:line:column: what", line and column 1-based from libyaml's mark. */
int cfg_verror(struct smith_error **err, const char *name, yaml_mark_t mark, const char *fmt, va_list ap)
        _printf_(4, 0);
_printf_(3, 4) int cfg_error(struct parser *p, const yaml_node_t *n, const char *fmt, ...);
int cfg_oom(struct parser *p);
#define SHOWN_MAX 64
/* A key as written, made safe for a one-line message. */
const char *cfg_shown(const char *s, char buf[static SHOWN_MAX + 4]);

/* --- scalars --- */
const char *cfg_scalar(const yaml_node_t *n);
bool cfg_is_plain(const yaml_node_t *n);
bool cfg_is_null(const yaml_node_t *n);
int cfg_scalar_dup(struct parser *p, const yaml_node_t *n, const char *what, char **ret);
int cfg_key_text(struct parser *p, const yaml_node_t *k, const char *what, const char **ret);
size_t cfg_n_items(const yaml_node_t *n);
size_t cfg_n_pairs(const yaml_node_t *n);

/* --- field types --- */
/* What a collection field starts with: nothing to do for null or an empty
 * collection (0), else 1 and the entry count, which is bounded.  kinds are
 * the node types accepted (a mapping, a sequence, or either); expected
 * words the error when it is neither. */
enum { TAKES_LIST = 1 << 0, TAKES_MAP = 1 << 1 };
int cfg_collection_count(struct parser *p, const yaml_node_t *n, const char *what, unsigned kinds, const char *expected,
                         size_t *ret_count);
int cfg_parse_string(struct parser *p, const yaml_node_t *n, const char *what, char **field);
int cfg_parse_bool(struct parser *p, const yaml_node_t *n, const char *what, bool *field);
int cfg_parse_list(struct parser *p, const yaml_node_t *n, const char *what, char ***field, unsigned **lines);
int cfg_parse_labels(struct parser *p, const yaml_node_t *n, const char *what, struct smith_config *c);
int cfg_parse_ports(struct parser *p, const yaml_node_t *n, const char *what, struct smith_config *c);
