/* Lexical path handling; see path.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "path.h"

#define PATH_TOTAL_MAX 4096

int path_normalize(const char *in, unsigned flags, char **ret) {
        size_t len = strlen(in);
        const char *p = in;
        char *out, *o;

        if ((flags & PATH_CHECK_LENGTH) && len > PATH_TOTAL_MAX)
                return -ENAMETOOLONG;
        out = malloc(len + 2);
        if (!out)
                return -ENOMEM;
        o = out;
        for (;;) {
                size_t n;

                while (*p == '/')
                        p++;
                if (*p == '\0')
                        break;
                n = strcspn(p, "/");
                if (n == 1 && p[0] == '.') {
                        /* nothing */
                } else if (n == 2 && p[0] == '.' && p[1] == '.') {
                        char *slash;

                        if (flags & PATH_DOTDOT_REFUSE) {
                                free(out);
                                return -EXDEV;
                        }
                        *o = '\0';
                        slash = strrchr(out, '/');
                        o = slash ? slash : out;
                } else {
                        if ((flags & PATH_CHECK_LENGTH) && n > PATH_NAME_MAX) {
                                free(out);
                                return -ENAMETOOLONG;
                        }
                        *o++ = '/';
                        memcpy(o, p, n);
                        o += n;
                }
                p += n;
        }
        *o = '\0';
        if (!(flags & PATH_ABSOLUTE)) {
                /* drop the leading "/" every component got */
                if (out[0] == '/')
                        memmove(out, out + 1, strlen(out));
        } else if (out[0] == '\0') {
                out[0] = '/';
                out[1] = '\0';
        }
        *ret = out;
        return 0;
}

char *path_normalized(const char *in, unsigned flags) {
        char *r = NULL;

        if (path_normalize(in, flags & ~(unsigned) (PATH_DOTDOT_REFUSE | PATH_CHECK_LENGTH), &r) < 0)
                return NULL;
        return r;
}

char *path_join(const char *a, const char *b) {
        char *r;
        size_t la = strlen(a);
        while (la > 1 && a[la - 1] == '/')
                la--;
        while (*b == '/')
                b++;
        if (asprintf(&r, "%.*s%s%s", (int) la, a, (la > 0 && a[la - 1] == '/') ? "" : "/", b) < 0)
                return NULL;
        return r;
}

bool path_is_safe_relative(const char *p) {
        const char *c = p;
        if (isempty(p) || p[0] == '/')
                return false;
        while (*c) {
                size_t n = strcspn(c, "/");
                if (n == 2 && c[0] == '.' && c[1] == '.')
                        return false;
                c += n;
                while (*c == '/')
                        c++;
        }
        return true;
}

bool path_is_safe_location(const char *p) {
        size_t first;

        if (!p || !path_is_safe_relative(p))
                return false;
        /* an absolute URL ("http://other/x.deb", "file:x") is not relative
         * to the repository, whatever the rest of it is: no ':' in the
         * first component, no "//" anywhere */
        first = strcspn(p, "/");
        if (memchr(p, ':', first) || strstr(p, "//"))
                return false;
        for (const char *q = p; *q; q++)
                if ((unsigned char) *q <= 0x20 || *q == 0x7f || *q == '\\' || *q == '?' || *q == '#')
                        return false;
        return true;
}
