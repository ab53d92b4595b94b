/* A mock configuration (`mock.config`, /etc/mock/default.cfg), read for the
 * repositories it names, without running Python.
 *
 * mock's .cfg files are Python executed with a dict config_opts in scope.
 * What smith needs from them is the subset every real config uses, read
 * statement by statement:
 *
 *   config_opts['key'] = 'text'     also "text", '''text''', """text""",
 *   config_opts['key'] += 'text'    r/b/u/f prefixes; adjacent literals
 *                                   are joined, as Python joins them
 *   include('path')                 relative paths: to the including
 *                                   file's directory, then to /etc/mock;
 *                                   nested at most MOCK_CFG_MAX_DEPTH
 *                                   deep, an include cycle is an error
 *
 * Of the keys, 'dnf.conf' (else 'yum.conf': the text holding yum's ini
 * [repo] sections), 'releasever', 'target_arch' and 'legacy_target_arch'
 * are kept; "{{ key }}" in the repository text is replaced by the string
 * value of config_opts['key'] (mock renders its configs with Jinja the
 * same way).  Every other statement (other keys, nested keys, any Python
 * that is not one of the above) is skipped as a whole, strings and
 * brackets spanning lines included; conditionals are not evaluated: every
 * assignment counts, in order.  A kept key given anything but string
 * literals, an unterminated string or bracket, and a bad include are
 * errors naming file:line (SMITH_ERR_CONFIG).
 *
 * Ownership: a struct mock_cfg owns its strings. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"

#define MOCK_CFG_MAX_FILE (1024 * 1024) /* bytes in one file */
#define MOCK_CFG_MAX_FILES 64           /* files read in all */
#define MOCK_CFG_MAX_DEPTH 16           /* nested includes */
#define MOCK_CFG_MAX_OPTS 4096          /* string-valued keys remembered for {{ }} */
#define MOCK_CFG_MAX_TEXT (4 * 1024 * 1024)
#define MOCK_CFG_DIR "/etc/mock"

struct mock_cfg {
        char *releasever, *target_arch; /* NULL when unset (target_arch: else legacy_target_arch) */
        char *repos;                    /* the 'dnf.conf' (else 'yum.conf') text, NULL when neither is set */
        size_t repos_len;
        /* where each line of repos comes from: line i (0-based) is in
         * files[line_file[i]] at line line_no[i] */
        char **files;
        size_t *line_file, *line_no, n_lines;
};

/* Reads path and what it includes (include_dir: where relative includes
 * are also looked for, normally MOCK_CFG_DIR; NULL: nowhere else). */
int mock_cfg_load(const char *path, const char *include_dir, struct mock_cfg *ret, struct smith_error **err);
/* The same from text in memory, named name in messages; include()s are
 * checked but not followed when allow_include is false (the fuzz target). */
int mock_cfg_parse(const char *name, const char *text, size_t len, bool allow_include, struct mock_cfg *ret,
                   struct smith_error **err);
void mock_cfg_release(struct mock_cfg *c);
