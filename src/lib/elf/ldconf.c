/* Reading a root's /etc/ld.so.conf and the files it includes, as ldconfig
 * does, to know the library directories the root's ld.so.cache should
 * cover (we search them ourselves in case the cache is stale or missing).
 *
 * The format: one directory per line ("dir=type" and whitespace, ':' or
 * ',' separated lists are accepted, as old ldconfig did), '#' comments,
 * "include <glob>..." lines, and "hwcap" lines, which we ignore.  Globs are
 * matched here, component by component, with readdir() in directories
 * opened through root_openat() and fnmatch(), never with glob() on a host
 * path, so a hostile root's symlinks stay inside it.  Includes are read in
 * the sorted order glob() would give; a file that (indirectly) includes
 * itself is skipped, nesting and the number of files are bounded. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "basic/fs.h"
#include "basic/glob.h"
#include "basic/strv.h"
#include "elf.h"

#define LD_CONF_MAX_FILES 1024U
#define LD_CONF_MAX_MATCHES 4096U
#define LD_CONF_MAX_DIRS 4096U

struct conf_state {
        int root_fd;
        char **dirs;
        char **stack; /* files being read, outermost first */
        unsigned n_files;
};

/* Expands an absolute pattern to the sorted matching paths inside the root. */
static int glob_root(int root_fd, const char *pattern, char ***ret) {
        _cleanup_free_ char *norm = path_normalized(pattern, PATH_ABSOLUTE);
        _cleanup_strv_free_ char **comps = NULL, **matches = NULL;
        int r;

        if (!norm)
                return -ENOMEM;
        comps = strv_split(norm, "/", true);
        if (!comps)
                return -ENOMEM;
        r = root_glob_expand(root_fd, comps, ROOT_GLOB_PERIOD, LD_CONF_MAX_MATCHES, &matches);
        if (r < 0)
                return r;
        *ret = matches ? TAKE_PTR(matches) : calloc(1, sizeof(char *));
        return *ret ? 0 : -ENOMEM;
}

/* --- parsing --- */

static int parse_file(struct conf_state *s, const char *path, unsigned depth, struct smith_error **err);

static int add_dir(struct conf_state *s, const char *file, char *word, struct smith_error **err) {
        _cleanup_free_ char *norm = NULL;
        char *eq = strchr(word, '=');

        if (eq) /* "dir=libc6": the type is a relic of libc5 days */
                *eq = '\0';
        if (word[0] != '/') /* ldconfig ignores relative directories too */
                return 0;
        norm = path_normalized(word, PATH_ABSOLUTE);
        if (!norm)
                return error_oom(err);
        if (strv_contains(s->dirs, norm))
                return 0;
        if (strv_length(s->dirs) >= LD_CONF_MAX_DIRS)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': too many library directories", file);
        if (strv_consume(&s->dirs, TAKE_PTR(norm)) < 0)
                return error_oom(err);
        return 0;
}

static int include_pattern(struct conf_state *s, const char *file, const char *pattern, unsigned depth,
                           struct smith_error **err) {
        _cleanup_strv_free_ char **matches = NULL;
        _cleanup_free_ char *full = NULL;
        int r;

        if (pattern[0] == '/')
                full = strdup(pattern);
        else {
                /* Relative to the including file's directory. */
                const char *slash = strrchr(file, '/');
                size_t dirlen = slash ? (size_t) (slash - file) : 0;
                if (asprintf(&full, "%.*s/%s", (int) dirlen, file, pattern) < 0)
                        full = NULL;
        }
        if (!full)
                return error_oom(err);
        r = glob_root(s->root_fd, full, &matches);
        if (r == -E2BIG)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': include '%s' matches too many files", file, pattern);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "'%s': include '%s'", file, pattern);
        for (size_t i = 0; matches[i]; i++) {
                r = parse_file(s, matches[i], depth + 1, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool starts_with_word(const char *line, const char *word) {
        size_t n = strlen(word);
        return strncasecmp(line, word, n) == 0 && (line[n] == ' ' || line[n] == '\t');
}

static int parse_line(struct conf_state *s, const char *file, char *line, unsigned depth, struct smith_error **err) {
        char *p, *w;
        int r;

        p = strchr(line, '#');
        if (p)
                *p = '\0';
        line += strspn(line, " \t\r\f\v");
        if (*line == '\0')
                return 0;

        if (starts_with_word(line, "include")) {
                p = line + strlen("include");
                while ((w = strsep(&p, " \t\r\f\v")))
                        if (*w != '\0') {
                                r = include_pattern(s, file, w, depth, err);
                                if (r < 0)
                                        return r;
                        }
                return 0;
        }
        if (starts_with_word(line, "hwcap"))
                return 0;

        p = line;
        while ((w = strsep(&p, " \t\r\f\v:,")))
                if (*w != '\0') {
                        r = add_dir(s, file, w, err);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int parse_file(struct conf_state *s, const char *path, unsigned depth, struct smith_error **err) {
        _cleanup_free_ char *norm = path_normalized(path, PATH_ABSOLUTE);
        _cleanup_free_ char *buf = NULL;
        size_t len, n_stack;
        char *line, *next;
        int r;

        if (!norm)
                return error_oom(err);
        if (strv_contains(s->stack, norm))
                return 0; /* an include loop: the file is being read already */
        if (depth > LD_CONF_MAX_DEPTH)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': includes nested too deeply", norm);
        if (++s->n_files > LD_CONF_MAX_FILES)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': too many included files", norm);

        r = root_read_file(s->root_fd, norm, LD_CONF_MAX_SIZE, &buf, &len);
        if (r == -ENOENT || r == -ENOTDIR || r == -EISDIR || r == -ELOOP)
                return 0;
        if (r == -EFBIG)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': larger than %u bytes", norm, LD_CONF_MAX_SIZE);
        if (r == -EBADF)
                return error_set(err, SMITH_ERR_SOURCE, "'%s' is not a regular file", norm);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "read '%s'", norm);

        n_stack = strv_length(s->stack);
        if (strv_extend(&s->stack, norm) < 0)
                return error_oom(err);
        /* buf is NUL-terminated; a NUL inside a line ends that line early. */
        for (line = buf; line && line < buf + len; line = next) {
                next = memchr(line, '\n', (size_t) (buf + len - line));
                if (next)
                        *next++ = '\0';
                r = parse_line(s, norm, line, depth, err);
                if (r < 0)
                        break;
        }
        free(s->stack[n_stack]);
        s->stack[n_stack] = NULL;
        return r < 0 ? r : 0;
}

int ld_conf_load(int root_fd, const char *path, char ***ret_dirs, struct smith_error **err) {
        struct conf_state s = { .root_fd = root_fd };
        int r;

        s.dirs = calloc(1, sizeof(char *));
        if (!s.dirs)
                return error_oom(err);
        r = parse_file(&s, path, 0, err);
        strv_free(s.stack);
        if (r < 0) {
                strv_free(s.dirs);
                return r;
        }
        *ret_dirs = s.dirs;
        return 0;
}
