/* `smith inspect IMAGE [PATH]`: every entry of an image with its mode,
 * owner, size, package and the reason it is there (what the build
 * recorded), or the one entry at PATH; --json for scripts.
 *
 * The library reads and verifies the image (pipeline/inspect.h); this
 * file only prints.  The table is for people: control characters in
 * names are shown as '?'.  The JSON is the documented shape (README,
 * "smith inspect"): an array of objects, keys always present, null where
 * there is nothing to say. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "basic/error.h"
#include "cmd.h"
#include "pipeline/inspect.h"
#include "tree/provenance.h"

#define PATH_COLUMN_MAX 60
#define PACKAGE_COLUMN_MAX 32

static bool opt_json;

/* --- the table --- */

static void put_safe(const char *s, FILE *f) {
        for (; *s; s++)
                fputc((unsigned char) *s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static void mode_string(const struct inspect_entry *e, char out[static 11]) {
        static const char rwx[] = "rwxrwxrwx";
        char t = streq(e->type, "dir") ? 'd' : streq(e->type, "symlink") ? 'l' : streq(e->type, "other") ? '?' : '-';

        out[0] = t;
        for (int i = 0; i < 9; i++)
                out[1 + i] = e->mode & (0400u >> i) ? rwx[i] : '-';
        if (e->mode & 04000)
                out[3] = out[3] == 'x' ? 's' : 'S';
        if (e->mode & 02000)
                out[6] = out[6] == 'x' ? 's' : 'S';
        if (e->mode & 01000)
                out[9] = out[9] == 'x' ? 't' : 'T';
        out[10] = '\0';
}

static int print_line(const struct inspect_result *r, const struct inspect_entry *e, int size_w, int pkg_w, int path_w,
                      struct smith_error **err) {
        _cleanup_free_ char *why = inspect_reason_text(r, e);
        char mode[11], owner[48];
        int n;

        if (!why)
                return error_oom(err);
        mode_string(e, mode);
        snprintf(owner, sizeof(owner), "%lld:%lld", (long long) e->uid, (long long) e->gid);
        printf("%s %-11s %*lld ", mode, owner, size_w, (long long) e->size);
        put_safe(e->package ?: "-", stdout);
        printf("%*s ", pkg_w - (int) strlen(e->package ?: "-"), "");
        put_safe(e->path, stdout);
        n = (int) strlen(e->path);
        if (e->target) {
                fputs(streq(e->type, "symlink") ? " -> " : " link to ", stdout);
                put_safe(e->target, stdout);
                n += (int) strlen(e->target) + (streq(e->type, "symlink") ? 4 : 9);
        }
        printf("%*s  ", n < path_w ? path_w - n : 0, "");
        put_safe(why, stdout);
        putchar('\n');
        return 0;
}

static int print_table(const struct inspect_result *r, const struct inspect_entry *only, struct smith_error **err) {
        int size_w = 4, path_w = 4, pkg_w = 7;

        for (size_t i = 0; i < r->n; i++) {
                const struct inspect_entry *e = only ?: &r->entries[i];
                char s[32];
                int w = snprintf(s, sizeof(s), "%lld", (long long) e->size);
                int p = (int) strlen(e->path) + (e->target ? (int) strlen(e->target) + 4 : 0);
                size_w = w > size_w ? w : size_w;
                if (e->package && (int) strlen(e->package) > pkg_w)
                        pkg_w = (int) strlen(e->package);
                path_w = p > path_w ? p : path_w;
                if (only)
                        break;
        }
        if (path_w > PATH_COLUMN_MAX)
                path_w = PATH_COLUMN_MAX;
        if (pkg_w > PACKAGE_COLUMN_MAX)
                pkg_w = PACKAGE_COLUMN_MAX;
        if (!only)
                printf("%-10s %-11s %*s %-*s %-*s  %s\n", "MODE", "OWNER", size_w, "SIZE", pkg_w, "PACKAGE", path_w,
                       "PATH", "REASON");
        for (size_t i = 0; i < r->n; i++) {
                if (print_line(r, only ?: &r->entries[i], size_w, pkg_w, path_w, err) < 0)
                        return -1;
                if (only)
                        break;
        }
        return 0;
}

/* --- JSON --- */

/* A JSON string of s (NULL: null); bytes that are not UTF-8 become '?'. */
static json_t *string_or_null(const char *s) {
        _cleanup_free_ char *copy = NULL;
        json_t *j;

        if (!s)
                return json_null();
        j = json_string(s);
        if (j)
                return j;
        copy = strdup(s);
        if (!copy)
                return NULL;
        for (char *p = copy; *p; p++)
                if ((unsigned char) *p >= 0x80)
                        *p = '?';
        return json_string(copy);
}

static json_t *entry_json(const struct inspect_result *r, const struct inspect_entry *e) {
        _cleanup_free_ char *why = inspect_reason_text(r, e);
        char mode[8];

        if (!why)
                return NULL;
        snprintf(mode, sizeof(mode), "%04o", e->mode);
        return json_pack("{s:o, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:{s:s, s:o, s:o, s:o, s:o, s:o}}", "path",
                         string_or_null(e->path), "type", e->type, "mode", mode, "uid", (json_int_t) e->uid, "gid",
                         (json_int_t) e->gid, "size", (json_int_t) e->size, "package", string_or_null(e->package),
                         "target", string_or_null(e->target), "reason", "kind", plan_reason_kind_name(e->why.kind),
                         "text", string_or_null(why), "detail", string_or_null(e->why.detail), "needed_by",
                         string_or_null(e->why.needed_by), "pattern", string_or_null(e->why.pattern), "line",
                         e->why.line > 0 ? json_integer(e->why.line) : json_null());
}

static int print_json(const struct inspect_result *r, const struct inspect_entry *only, struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *a = json_array();

        if (!a)
                return error_oom(err);
        for (size_t i = 0; i < r->n; i++) {
                if (json_array_append_new(a, entry_json(r, only ?: &r->entries[i])) < 0)
                        return error_oom(err);
                if (only)
                        break;
        }
        if (json_dumpf(a, stdout, JSON_INDENT(2)) < 0 || putchar('\n') == EOF)
                return error_set_errno(err, SMITH_ERR_IO, errno, "write the listing");
        return 0;
}

/* --- the command --- */

static const struct cmd_option options[] = {
        { "json", 0, CMD_FLAG, &opt_json, "print JSON (an array of entries) for scripts" },
        {},
};

static int run(const struct command *cmd, int argc, char **argv, struct smith_error **err) {
        _cleanup_(inspect_result_freep) struct inspect_result *res = NULL;
        const struct inspect_entry *only = NULL;
        const char *image, *path;
        int first = argc, r;

        opt_json = false;
        r = cmd_parse_operands(cmd, argc, argv, 1, 2, "image", &first, err);
        if (r != 0)
                return r < 0 ? r : 0;
        image = argv[first];
        path = argc - first == 2 ? argv[first + 1] : NULL;
        r = inspect_image(image, &res, err);
        if (r < 0)
                return r;
        if (path) {
                only = inspect_find(res, path);
                if (!only)
                        return error_set(err, SMITH_ERR_SOURCE, "'%s' is not in '%s'", PATH_FOR_MSG(path),
                                         PATH_FOR_MSG(image));
        }
        if (res->n == 0 && !opt_json)
                return 0;
        r = opt_json ? print_json(res, only, err) : print_table(res, only, err);
        if (r < 0)
                return r;
        if (fflush(stdout) == EOF)
                return error_set_errno(err, SMITH_ERR_IO, errno, "write the listing");
        return 0;
}

const struct command cmd_inspect = {
        .name = "inspect",
        .summary = "list what an image holds and why",
        .usage = "  smith inspect IMAGE [PATH] [flags]\n",
        .details = "IMAGE is a layout tarball or directory (path[:tag]), as a build writes it.  Lists every\n"
                   "entry of its layers: mode, owner (uid:gid), size, package and the reason it is in the\n"
                   "image, as the build recorded it; with PATH, that one entry (exit 4 if it is not there).\n",
        .options = options,
        .run = run,
};
