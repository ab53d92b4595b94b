/* What the commands share: the usage error, worded the same everywhere:
 * "[<command>: ]<what> (see 'smith [<command> ]--help')", and the size
 * limits' settings (layer/unpack.h, README "Limits"). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "cmd.h"
#include "layer/unpack.h"

int cmd_usage_error(const char *cmd, struct smith_error **err, const char *fmt, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (r < 0)
                return error_set(err, SMITH_ERR_USAGE, "bad command line (see 'smith --help')");
        if (!cmd)
                return error_set(err, SMITH_ERR_USAGE, "%s (see 'smith --help')", what);
        return error_set(err, SMITH_ERR_USAGE, "%s: %s (see 'smith %s --help')", cmd, what, cmd);
}

int cmd_parse_size(const char *s, uint64_t *ret) {
        static const char units[] = "KMGT";
        unsigned long long n;
        unsigned shift = 0;
        char *end;

        if (!s || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        n = strtoull(s, &end, 10);
        if (errno != 0 || n == 0)
                return -EINVAL;
        if (*end) {
                const char *p = strchr(units, toupper((unsigned char) *end));
                if (!p || end[1])
                        return -EINVAL;
                shift = 10 * (unsigned) (p - units + 1);
        }
        if (n > ((unsigned long long) INT64_MAX >> shift))
                return -EINVAL;
        *ret = (uint64_t) n << shift;
        return 0;
}

static int env_size(const char *name, uint64_t *field, struct smith_error **err) {
        const char *v = getenv(name);

        if (!v || !*v)
                return 0;
        if (cmd_parse_size(v, field) < 0)
                return error_set(err, SMITH_ERR_USAGE,
                                 "%s: invalid size '%s' (a number of bytes with an optional K, M, G or T)", name, v);
        return 0;
}

int cmd_limits_from_env(struct unpack_limits *l, struct smith_error **err) {
        if (env_size("SMITH_MAX_UNPACKED", &l->max_unpacked, err) < 0 ||
            env_size("SMITH_MAX_ENTRY", &l->max_entry, err) < 0)
                return -1;
        return 0;
}
