/* What the commands share: the usage error, worded the same everywhere:
 * "[<command>: ]<what> (see 'smith [<command> ]--help')". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "basic/error.h"
#include "cmd.h"

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
