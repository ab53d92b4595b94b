/* Reading the Python subset mock configurations are written in; see
 * mock-cfg.h.
 *
 * The scanner walks the text once, statement by statement.  A statement it
 * does not understand is skipped up to the newline that ends it, which
 * means knowing where Python's strings (all four quotings, raw or not) and
 * brackets end; nothing is evaluated.  Decoded strings keep, for every line
 * they hold, the file line it started on, so the ini parser's messages can
 * name the mock file's own lines. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/buf.h"
#include "basic/fs.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "mock-cfg.h"

/* A decoded string, with the source line each of its lines starts on. */
struct text {
        struct buf b;
        size_t *file, *line, n; /* per line of b */
};

#define TEXT_INIT ((struct text){ .b = BUF_INIT(MOCK_CFG_MAX_TEXT) })

static void text_release(struct text *t) {
        buf_release(&t->b);
        free(t->file);
        free(t->line);
        *t = (struct text){};
}

static int text_new_line(struct text *t, size_t file, size_t line) {
        size_t *f, *l;
        if (t->n % 64 == 0) {
                f = realloc(t->file, (t->n + 64) * sizeof(*f));
                if (!f)
                        return -ENOMEM;
                t->file = f;
                l = realloc(t->line, (t->n + 64) * sizeof(*l));
                if (!l)
                        return -ENOMEM;
                t->line = l;
        }
        t->file[t->n] = file;
        t->line[t->n] = line;
        t->n++;
        return 0;
}

/* Appends one character that came from the given source line. */
static int text_putc(struct text *t, char c, size_t file, size_t line) {
        if (t->b.len == 0 || t->b.data[t->b.len - 1] == '\n') {
                int r = text_new_line(t, file, line);
                if (r < 0)
                        return r;
        }
        return buf_append(&t->b, &c, 1);
}

static int text_append(struct text *t, const struct text *s) {
        size_t line = 0;
        for (size_t i = 0; i < s->b.len; i++) {
                int r = text_putc(t, s->b.data[i], s->file[line], s->line[line]);
                if (r < 0)
                        return r;
                if (s->b.data[i] == '\n' && line + 1 < s->n)
                        line++;
        }
        return 0;
}

struct src {
        const char *name;
        const char *s;
        size_t len, pos, line, file;
        const char *dir; /* the file's directory, for relative includes; NULL: none */
};

struct parser {
        char **files;
        char **keys, **vals; /* string-valued config_opts, parallel */
        size_t n_opts;
        struct text dnf, yum;
        bool have_dnf, have_yum, allow_include;
        const char *include_dir;
        unsigned depth;
        size_t n_files;
        dev_t devs[MOCK_CFG_MAX_DEPTH + 1];
        ino_t inos[MOCK_CFG_MAX_DEPTH + 1];
};

static int parse_file(struct parser *p, const char *name, const char *text, size_t len, const char *dir,
                      struct smith_error **err);

/* --- lexing --- */

static bool is_ident(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static char cur(const struct src *s) {
        return s->pos < s->len ? s->s[s->pos] : '\0';
}

/* Blanks and backslash-newline continuations. */
static void skip_blanks(struct src *s) {
        while (s->pos < s->len) {
                char c = s->s[s->pos];
                if (c == ' ' || c == '\t' || c == '\f' || c == '\r')
                        s->pos++;
                else if (c == '\\' && s->pos + 1 < s->len && s->s[s->pos + 1] == '\n') {
                        s->pos += 2;
                        s->line++;
                } else
                        break;
        }
}

static void skip_comment(struct src *s) {
        while (s->pos < s->len && s->s[s->pos] != '\n')
                s->pos++;
}

/* Whether a string literal starts at pos: at most two prefix letters
 * (r, b, u, f in either case) and a quote, not inside an identifier.
 * *ret_quote is where the quote is. */
static bool string_at(const struct src *s, size_t pos, size_t *ret_quote, bool *ret_raw) {
        size_t q = pos;
        bool raw = false;

        if (pos < s->len && (s->s[pos] == '\'' || s->s[pos] == '"')) {
                /* a quote always starts one; raw when an r prefix stands before it */
                size_t b = pos;
                while (b > 0 && pos - b < 2 && strchr("rRbBuUfF", s->s[b - 1]) && s->s[b - 1] != '\0')
                        b--;
                for (size_t i = b; i < pos && !(b > 0 && is_ident(s->s[b - 1])); i++)
                        if (s->s[i] == 'r' || s->s[i] == 'R')
                                raw = true;
                *ret_quote = pos;
                *ret_raw = raw;
                return true;
        }
        if (pos > 0 && is_ident(s->s[pos - 1]))
                return false;
        while (q < s->len && q - pos < 2 && strchr("rRbBuUfF", s->s[q]) && s->s[q] != '\0') {
                if (s->s[q] == 'r' || s->s[q] == 'R')
                        raw = true;
                q++;
        }
        if (q >= s->len || (s->s[q] != '\'' && s->s[q] != '"'))
                return false;
        *ret_quote = q;
        *ret_raw = raw;
        return true;
}

/* Reads the literal at s->pos (string_at() said so) into out (NULL: only
 * skip it). */
static int read_string(struct src *s, struct text *out, struct smith_error **err) {
        size_t q = 0, start_line = s->line;
        bool raw = false, triple;
        char quote;
        int r = 0;

        if (!string_at(s, s->pos, &q, &raw))
                return error_set(err, SMITH_ERR_CONFIG, "%s:%zu: expected a string", s->name, s->line);
        quote = s->s[q];
        triple = q + 2 < s->len && s->s[q + 1] == quote && s->s[q + 2] == quote;
        s->pos = q + (triple ? 3 : 1);
        for (;;) {
                char c;

                if (s->pos >= s->len)
                        return error_set(err, SMITH_ERR_CONFIG, "%s:%zu: unterminated string", s->name, start_line);
                c = s->s[s->pos];
                if (c == quote &&
                    (!triple || (s->pos + 2 < s->len && s->s[s->pos + 1] == quote && s->s[s->pos + 2] == quote))) {
                        s->pos += triple ? 3 : 1;
                        return 0;
                }
                if (c == '\n' && !triple)
                        return error_set(err, SMITH_ERR_CONFIG, "%s:%zu: unterminated string", s->name, start_line);
                if (c == '\\' && s->pos + 1 < s->len) {
                        char e = s->s[s->pos + 1], d = 0;
                        s->pos += 2;
                        if (raw) {
                                /* kept as written; the backslash only stops the quote ending the string */
                                if (out && (r = text_putc(out, '\\', s->file, s->line)) >= 0)
                                        r = text_putc(out, e, s->file, s->line);
                                if (e == '\n')
                                        s->line++;
                        } else if (e == '\n')
                                s->line++; /* a continuation: nothing */
                        else {
                                d = e == 'n'    ? '\n'
                                    : e == 't'  ? '\t'
                                    : e == '\\' ? '\\'
                                    : e == '\'' ? '\''
                                    : e == '"'  ? '"'
                                                : 0;
                                if (out && d)
                                        r = text_putc(out, d, s->file, s->line);
                                else if (out && (r = text_putc(out, '\\', s->file, s->line)) >= 0)
                                        r = text_putc(out, e, s->file, s->line);
                        }
                } else {
                        if (out)
                                r = text_putc(out, c, s->file, s->line);
                        if (c == '\n')
                                s->line++;
                        s->pos++;
                }
                if (r == -EFBIG)
                        return error_set(err, SMITH_ERR_CONFIG, "%s:%zu: string longer than %d bytes", s->name,
                                         start_line, MOCK_CFG_MAX_TEXT);
                if (r < 0)
                        return error_oom(err);
        }
}

/* Skips the rest of a statement: up to the newline outside brackets and
 * strings (consumed). */
static int skip_statement(struct src *s, struct smith_error **err) {
        size_t depth = 0, open_line = 0;

        while (s->pos < s->len) {
                char c = s->s[s->pos];
                size_t q;
                bool raw;

                if (string_at(s, s->pos, &q, &raw)) {
                        if (read_string(s, NULL, err) < 0)
                                return -1;
                        continue;
                }
                if (c == '#')
                        skip_comment(s);
                else if (c == '\\' && s->pos + 1 < s->len && s->s[s->pos + 1] == '\n') {
                        s->pos += 2;
                        s->line++;
                } else if (c == '\n') {
                        s->pos++;
                        s->line++;
                        if (depth == 0)
                                return 0;
                } else if (c == '(' || c == '[' || c == '{') {
                        if (depth++ == 0)
                                open_line = s->line;
                        s->pos++;
                } else if (c == ')' || c == ']' || c == '}') {
                        if (depth == 0)
                                return error_set(err, SMITH_ERR_CONFIG, "%s:%zu: unbalanced '%c'", s->name, s->line, c);
                        depth--;
                        s->pos++;
                } else
                        s->pos++;
        }
        if (depth > 0)
                return error_set(err, SMITH_ERR_CONFIG, "%s:%zu: bracket not closed", s->name, open_line);
        return 0;
}

/* After a statement we understood: blanks, a comment, then the end of the
 * line (or ';').  false when something else follows. */
static bool statement_ends(struct src *s) {
        skip_blanks(s);
        if (cur(s) == '#')
                skip_comment(s);
        if (s->pos >= s->len)
                return true;
        if (cur(s) == '\n' || cur(s) == ';') {
                if (cur(s) == '\n')
                        s->line++;
                s->pos++;
                return true;
        }
        return false;
}

/* Adjacent literals, joined. */
static int read_strings(struct src *s, struct text *out, struct smith_error **err) {
        size_t q;
        bool raw;

        do {
                if (read_string(s, out, err) < 0)
                        return -1;
                skip_blanks(s);
        } while (string_at(s, s->pos, &q, &raw));
        if (out->b.len == 0 && !out->b.data && buf_append(&out->b, "", 0) < 0)
                return error_oom(err);
        return 0;
}

/* --- statements --- */

static int opt_set(struct parser *p, const char *where_name, size_t line, const char *key, const char *val, bool append,
                   struct smith_error **err) {
        char **k, **v;

        for (size_t i = 0; i < p->n_opts; i++)
                if (streq(p->keys[i], key)) {
                        char *n = NULL;
                        if (append ? asprintf(&n, "%s%s", p->vals[i], val) < 0 : !(n = strdup(val)))
                                return error_oom(err);
                        if (strlen(n) > MOCK_CFG_MAX_TEXT) {
                                free(n);
                                return error_set(err, SMITH_ERR_CONFIG, "%s:%zu: config_opts['%.100s'] too long",
                                                 where_name, line, key);
                        }
                        free(p->vals[i]);
                        p->vals[i] = n;
                        return 0;
                }
        if (p->n_opts >= MOCK_CFG_MAX_OPTS)
                return error_set(err, SMITH_ERR_CONFIG, "%s:%zu: more than %d config_opts keys", where_name, line,
                                 MOCK_CFG_MAX_OPTS);
        k = realloc(p->keys, (p->n_opts + 1) * sizeof(*k));
        if (!k)
                return error_oom(err);
        p->keys = k;
        v = realloc(p->vals, (p->n_opts + 1) * sizeof(*v));
        if (!v)
                return error_oom(err);
        p->vals = v;
        p->keys[p->n_opts] = strdup(key);
        p->vals[p->n_opts] = strdup(val);
        if (!p->keys[p->n_opts] || !p->vals[p->n_opts]) {
                free(p->keys[p->n_opts]);
                free(p->vals[p->n_opts]);
                return error_oom(err);
        }
        p->n_opts++;
        return 0;
}

static const char *opt_get(const struct parser *p, const char *key) {
        for (size_t i = 0; i < p->n_opts; i++)
                if (streq(p->keys[i], key))
                        return p->vals[i];
        return NULL;
}

static bool kept_key(const char *key) {
        return streq(key, "dnf.conf") || streq(key, "yum.conf") || streq(key, "releasever") ||
               streq(key, "target_arch") || streq(key, "legacy_target_arch");
}

/* config_opts[...] at s->pos. */
static int assignment(struct parser *p, struct src *s, struct smith_error **err) {
        _cleanup_(text_release) struct text key = TEXT_INIT, val = TEXT_INIT;
        size_t line = s->line, q;
        bool append = false, raw;

        s->pos += strlen("config_opts");
        skip_blanks(s);
        s->pos++; /* '[' */
        skip_blanks(s);
        if (!string_at(s, s->pos, &q, &raw))
                return skip_statement(s, err); /* config_opts[name]: not a literal key */
        if (read_strings(s, &key, err) < 0)
                return -1;
        if (cur(s) != ']')
                return skip_statement(s, err);
        s->pos++;
        skip_blanks(s);
        if (cur(s) == '+' && s->pos + 1 < s->len && s->s[s->pos + 1] == '=') {
                append = true;
                s->pos += 2;
        } else if (cur(s) == '=' && !(s->pos + 1 < s->len && s->s[s->pos + 1] == '='))
                s->pos++;
        else
                return skip_statement(s, err); /* config_opts['x']['y'] = ..., .append(), == */
        skip_blanks(s);
        if (!string_at(s, s->pos, &q, &raw)) {
                if (kept_key(key.b.data))
                        return error_set(err, SMITH_ERR_CONFIG,
                                         "%s:%zu: config_opts['%s']: only string literals are understood", s->name,
                                         line, key.b.data);
                return skip_statement(s, err);
        }
        if (read_strings(s, &val, err) < 0)
                return -1;
        if (!statement_ends(s)) {
                if (kept_key(key.b.data))
                        return error_set(err, SMITH_ERR_CONFIG,
                                         "%s:%zu: config_opts['%s']: only string literals are understood", s->name,
                                         line, key.b.data);
                return skip_statement(s, err);
        }
        if (streq(key.b.data, "dnf.conf") || streq(key.b.data, "yum.conf")) {
                bool dnf = streq(key.b.data, "dnf.conf");
                struct text *t = dnf ? &p->dnf : &p->yum;
                int r;
                if (!append) {
                        text_release(t);
                        *t = TEXT_INIT;
                }
                *(dnf ? &p->have_dnf : &p->have_yum) = true;
                r = text_append(t, &val);
                if (r == -EFBIG)
                        return error_set(err, SMITH_ERR_CONFIG, "%s:%zu: config_opts['%s'] longer than %d bytes",
                                         s->name, line, key.b.data, MOCK_CFG_MAX_TEXT);
                if (r < 0)
                        return error_oom(err);
                return 0;
        }
        if (strlen(val.b.data) != val.b.len)
                return error_set(err, SMITH_ERR_CONFIG, "%s:%zu: config_opts['%s'] holds a NUL byte", s->name, line,
                                 key.b.data);
        return opt_set(p, s->name, line, key.b.data, val.b.data, append, err);
}

static int load_include(struct parser *p, const char *path, struct smith_error **err) {
        _cleanup_free_ char *text = NULL, *dir = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        size_t len = 0;
        const char *slash;
        int r;

        if (p->n_files >= MOCK_CFG_MAX_FILES)
                return error_set(err, SMITH_ERR_CONFIG, "'%s': more than %d files included", path, MOCK_CFG_MAX_FILES);
        if (p->depth >= MOCK_CFG_MAX_DEPTH)
                return error_set(err, SMITH_ERR_CONFIG, "'%s': includes nested deeper than %d", path,
                                 MOCK_CFG_MAX_DEPTH);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0)
                return error_set_errno(err, SMITH_ERR_CONFIG, errno, "mock config '%s'", path);
        if (!S_ISREG(st.st_mode))
                return error_set(err, SMITH_ERR_CONFIG, "mock config '%s' is not a regular file", path);
        for (unsigned i = 0; i < p->depth; i++)
                if (p->devs[i] == st.st_dev && p->inos[i] == st.st_ino)
                        return error_set(err, SMITH_ERR_CONFIG, "mock config '%s' includes itself", path);
        r = read_full_fd(fd, MOCK_CFG_MAX_FILE, &text, &len);
        if (r == -EFBIG)
                return error_set(err, SMITH_ERR_CONFIG, "mock config '%s' is larger than %d bytes", path,
                                 MOCK_CFG_MAX_FILE);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_CONFIG, r, "read mock config '%s'", path);
        slash = strrchr(path, '/');
        dir = slash ? strndup(path, slash == path ? 1 : (size_t) (slash - path)) : strdup(".");
        if (!dir)
                return error_oom(err);
        p->devs[p->depth] = st.st_dev;
        p->inos[p->depth] = st.st_ino;
        p->depth++;
        p->n_files++;
        r = parse_file(p, path, text, len, dir, err);
        p->depth--;
        return r;
}

/* include('path') at s->pos. */
static int include(struct parser *p, struct src *s, struct smith_error **err) {
        _cleanup_(text_release) struct text arg = TEXT_INIT;
        _cleanup_free_ char *path = NULL;
        size_t line = s->line, q;
        bool raw;

        s->pos += strlen("include");
        skip_blanks(s);
        s->pos++; /* '(' */
        skip_blanks(s);
        if (!string_at(s, s->pos, &q, &raw) || read_strings(s, &arg, err) < 0 || cur(s) != ')')
                return error_set(err, SMITH_ERR_CONFIG, "%s:%zu: include() takes one string literal", s->name, line);
        s->pos++;
        if (!statement_ends(s))
                return error_set(err, SMITH_ERR_CONFIG, "%s:%zu: include() takes one string literal", s->name, line);
        if (!p->allow_include)
                return 0; /* text from memory: includes are not followed */
        if (isempty(arg.b.data) || strlen(arg.b.data) != arg.b.len)
                return error_set(err, SMITH_ERR_CONFIG, "%s:%zu: include() of an empty path", s->name, line);
        if (arg.b.data[0] == '/')
                path = strdup(arg.b.data);
        else {
                /* the including file's directory first, then mock's own */
                path = path_join(s->dir ? s->dir : ".", arg.b.data);
                if (path && access(path, F_OK) != 0 && p->include_dir) {
                        free(path);
                        path = path_join(p->include_dir, arg.b.data);
                }
        }
        if (!path)
                return error_oom(err);
        if (load_include(p, path, err) < 0)
                return error_wrap(err, "%s:%zu: include", s->name, line);
        return 0;
}

static bool word_at(const struct src *s, const char *w) {
        size_t n = strlen(w);
        return s->len - s->pos >= n && strneq(s->s + s->pos, w, n) &&
               (s->pos + n == s->len || !is_ident(s->s[s->pos + n]));
}

/* The next non-blank character after word w at s->pos. */
static char after_word(const struct src *s, const char *w) {
        struct src t = *s;
        t.pos += strlen(w);
        skip_blanks(&t);
        return cur(&t);
}

static int parse_file(struct parser *p, const char *name, const char *text, size_t len, const char *dir,
                      struct smith_error **err) {
        struct src s = { .s = text, .len = len, .line = 1, .dir = dir };

        if (memchr(text, '\0', len))
                return error_set(err, SMITH_ERR_CONFIG, "%s: holds a NUL byte", name);
        if (strv_extend(&p->files, name) < 0)
                return error_oom(err);
        s.file = strv_length(p->files) - 1;
        s.name = p->files[s.file];
        while (s.pos < s.len) {
                char c;
                int r;

                skip_blanks(&s);
                c = cur(&s);
                if (s.pos >= s.len)
                        break;
                if (c == '\n') {
                        s.pos++;
                        s.line++;
                        continue;
                }
                if (c == '#') {
                        skip_comment(&s);
                        continue;
                }
                if (c == ';') {
                        s.pos++;
                        continue;
                }
                if (word_at(&s, "config_opts") && after_word(&s, "config_opts") == '[')
                        r = assignment(p, &s, err);
                else if (word_at(&s, "include") && after_word(&s, "include") == '(')
                        r = include(p, &s, err);
                else
                        r = skip_statement(&s, err);
                if (r < 0)
                        return -1;
        }
        return 0;
}

/* --- the result --- */

/* "{{ key }}" replaced by config_opts['key'] where that is a one-line
 * string; anything else is kept as written. */
static char *render(const struct parser *p, const char *in, size_t len, size_t *ret_len) {
        struct buf b = BUF_INIT(MOCK_CFG_MAX_TEXT * 2);
        size_t i = 0;

        while (i < len) {
                const char *v = NULL;
                size_t j = i + 2, k;

                if (i + 1 < len && in[i] == '{' && in[i + 1] == '{') {
                        while (j < len && in[j] == ' ')
                                j++;
                        k = j;
                        while (k < len && is_ident(in[k]))
                                k++;
                        if (k > j && k - j < 200) {
                                char key[200];
                                size_t e = k;
                                memcpy(key, in + j, k - j);
                                key[k - j] = '\0';
                                while (e < len && in[e] == ' ')
                                        e++;
                                if (e + 1 < len && in[e] == '}' && in[e + 1] == '}') {
                                        v = opt_get(p, key);
                                        if (v && strchr(v, '\n'))
                                                v = NULL;
                                        if (v) {
                                                if (buf_append_str(&b, v) < 0)
                                                        goto fail;
                                                i = e + 2;
                                                continue;
                                        }
                                }
                        }
                }
                if (buf_append(&b, in + i, 1) < 0)
                        goto fail;
                i++;
        }
        return buf_steal(&b, ret_len);
fail:
        buf_release(&b);
        return NULL;
}

static char *render_opt(const struct parser *p, const char *key) {
        const char *v = opt_get(p, key);
        size_t n;
        return v ? render(p, v, strlen(v), &n) : NULL;
}

static void parser_release(struct parser *p) {
        strv_free(p->files);
        for (size_t i = 0; i < p->n_opts; i++) {
                free(p->keys[i]);
                free(p->vals[i]);
        }
        free(p->keys);
        free(p->vals);
        text_release(&p->dnf);
        text_release(&p->yum);
}

static int finish(struct parser *p, struct mock_cfg *ret, struct smith_error **err) {
        struct mock_cfg c = {};
        struct text *t = p->have_dnf ? &p->dnf : p->have_yum ? &p->yum : NULL;

        if (opt_get(p, "releasever") && !(c.releasever = render_opt(p, "releasever")))
                goto oom;
        if (opt_get(p, "target_arch")          ? !(c.target_arch = render_opt(p, "target_arch"))
            : opt_get(p, "legacy_target_arch") ? !(c.target_arch = render_opt(p, "legacy_target_arch"))
                                               : false)
                goto oom;
        if (t) {
                c.repos = render(p, t->b.data ? t->b.data : "", t->b.len, &c.repos_len);
                if (!c.repos)
                        goto oom;
                c.line_file = TAKE_PTR(t->file);
                c.line_no = TAKE_PTR(t->line);
                c.n_lines = t->n;
                t->n = 0;
        }
        c.files = TAKE_PTR(p->files);
        *ret = c;
        return 0;
oom:
        mock_cfg_release(&c);
        return error_oom(err);
}

int mock_cfg_parse(const char *name, const char *text, size_t len, bool allow_include, struct mock_cfg *ret,
                   struct smith_error **err) {
        struct parser p = { .allow_include = allow_include,
                            .include_dir = allow_include ? MOCK_CFG_DIR : NULL,
                            .dnf = TEXT_INIT,
                            .yum = TEXT_INIT };
        int r;

        if (len > MOCK_CFG_MAX_FILE)
                r = error_set(err, SMITH_ERR_CONFIG, "%s: larger than %d bytes", name, MOCK_CFG_MAX_FILE);
        else
                r = parse_file(&p, name, text, len, ".", err);
        if (r >= 0)
                r = finish(&p, ret, err);
        parser_release(&p);
        return r;
}

int mock_cfg_load(const char *path, const char *include_dir, struct mock_cfg *ret, struct smith_error **err) {
        struct parser p = { .allow_include = true, .include_dir = include_dir, .dnf = TEXT_INIT, .yum = TEXT_INIT };
        int r;

        r = load_include(&p, path, err);
        if (r >= 0)
                r = finish(&p, ret, err);
        parser_release(&p);
        return r;
}

void mock_cfg_release(struct mock_cfg *c) {
        free_many(c->releasever, c->target_arch, c->repos);
        strv_free(c->files);
        free(c->line_file);
        free(c->line_no);
        *c = (struct mock_cfg){};
}
