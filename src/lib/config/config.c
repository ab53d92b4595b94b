/* The config object's life cycle, reading smith.yaml from disk, and the
 * parts of the original's build logic that only touch the config: filling
 * defaults from a parent image, and looking up environment variables.
 * Parsing lives in config-yaml.c, the spec JSON in config-json.c. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "basic/fs.h"
#include "basic/strv.h"
#include "config.h"

struct smith_config *config_new(void) {
        return calloc(1, sizeof(struct smith_config));
}

void config_free(struct smith_config *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n_repos; i++) {
                struct smith_repo *r = &c->repos[i];
                free_many(r->line, r->uri, r->signed_by, r->type, r->name, r->gpgkey, r->releasever, r->where);
                strv_free_many(r->suites, r->components);
        }
        free_many(c->type, c->package, c->repos, c->parent, c->user, c->dir, c->path_lines, c->platform);
        free_many(c->mock.config, c->mock.pre_build, c->mock.post_build);
        strv_free_many(c->package_list, c->mock.deps, c->mock.debugdeps, c->mock.debugpaths);
        strv_free_many(c->paths, c->excludes, c->groups, c->mounts, c->entrypoint, c->cmd, c->env, c->platforms);
        strv_free_many(c->label_keys, c->label_values, c->ports);
        free(c);
}

int config_load(const char *path, struct smith_config **ret, struct smith_error **err) {
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r;

        r = read_file_at(AT_FDCWD, path, CONFIG_MAX_FILE_SIZE, &data, &len);
        if (r == -EFBIG)
                return error_set(err, SMITH_ERR_CONFIG, "'%s' is larger than %d MiB", path,
                                 CONFIG_MAX_FILE_SIZE / (1024 * 1024));
        if (r < 0)
                return error_set_errno(err, r == -ENOMEM ? SMITH_ERR_IO : SMITH_ERR_CONFIG, r, "read '%s'", path);
        return config_parse(path, data, len, ret, err);
}

const char *config_getenv(const struct smith_config *c, const char *name) {
        size_t n = strlen(name);
        const char *r = NULL;

        for (size_t i = 0; c && c->env && c->env[i]; i++)
                if (strneq(c->env[i], name, n) && c->env[i][n] == '=')
                        r = c->env[i] + n + 1;
        return r;
}

/* --- defaults from a parent image --- */

static int image_type_error(struct smith_error **err, const char *key, const char *type) {
        return error_set(err, SMITH_ERR_SOURCE, "image config: '%s' must be %s", key, type);
}

static int image_string(const json_t *v, const char *key, char **ret, struct smith_error **err) {
        const char *s;

        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return image_type_error(err, key, "a string");
        s = json_string_value(v);
        if (strlen(s) != json_string_length(v))
                return image_type_error(err, key, "a string without NUL characters");
        if (s[0] == '\0')
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : error_oom(err);
}

/* Room for n strings of key's and the NULL after them, n being at most
 * CONFIG_MAX_ITEMS: 1, or 0 when n is 0 (nothing to keep), or -1. */
static int image_strv_new(size_t n, const char *key, char ***ret, struct smith_error **err) {
        if (n == 0)
                return 0;
        if (n > CONFIG_MAX_ITEMS)
                return error_set(err, SMITH_ERR_SOURCE, "image config: '%s' has more than %d entries", key,
                                 CONFIG_MAX_ITEMS);
        *ret = calloc(n + 1, sizeof(char *));
        return *ret ? 1 : error_oom(err);
}

/* A []string: null elements decode as "" in Go. */
static int image_strv(const json_t *v, const char *key, char ***ret, struct smith_error **err) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n;
        int r;

        if (!v || json_is_null(v))
                return 0;
        if (!json_is_array(v))
                return image_type_error(err, key, "a list of strings");
        n = json_array_size(v);
        r = image_strv_new(n, key, &l, err);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const json_t *item = json_array_get(v, i);

                if (json_is_null(item))
                        l[i] = strdup("");
                else if (json_is_string(item) && strlen(json_string_value(item)) == json_string_length(item))
                        l[i] = strdup(json_string_value(item));
                else
                        return image_type_error(err, key, "a list of strings");
                if (!l[i])
                        return error_oom(err);
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* Keys of an object, sorted; with ret_values, the values too (strings, null
 * as ""), otherwise every value must be an object or null (ExposedPorts'
 * struct{}, which ignores what is inside). */
static int image_map(const json_t *v, const char *key, char ***ret_keys, char ***ret_values, struct smith_error **err) {
        _cleanup_strv_free_ char **keys = NULL, **values = NULL;
        const char *k;
        json_t *val;
        size_t n, i = 0;
        int r;

        if (!v || json_is_null(v))
                return 0;
        if (!json_is_object(v))
                return image_type_error(err, key, ret_values ? "an object of strings" : "an object");
        n = json_object_size(v);
        r = image_strv_new(n, key, &keys, err);
        if (r <= 0)
                return r;
        json_object_foreach((json_t *) v, k, val) {
                if (i >= n)
                        break;
                if (ret_values ? !(json_is_string(val) || json_is_null(val))
                               : !(json_is_object(val) || json_is_null(val)))
                        return image_type_error(err, key, ret_values ? "an object of strings" : "an object of objects");
                keys[i] = strdup(k);
                if (!keys[i++])
                        return error_oom(err);
        }
        strv_sort(keys);
        if (ret_values) {
                values = calloc(n + 1, sizeof(char *));
                if (!values)
                        return error_oom(err);
                for (size_t j = 0; j < i; j++) {
                        const json_t *s = json_object_get(v, keys[j]);
                        values[j] = strdup(json_is_string(s) ? json_string_value(s) : "");
                        if (!values[j])
                                return error_oom(err);
                }
                *ret_values = TAKE_PTR(values);
        }
        *ret_keys = TAKE_PTR(keys);
        return 0;
}

#define MOVE_IF_UNSET(field, value)        \
        do {                               \
                if (!(field)) {            \
                        (field) = (value); \
                        (value) = NULL;    \
                }                          \
        } while (0)

int config_apply_image_defaults(struct smith_config *c, const json_t *image_config_config, struct smith_error **err) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_strv_free_ char **entrypoint = NULL, **cmd = NULL, **env = NULL, **ports = NULL, **label_keys = NULL,
                                 **label_values = NULL;
        const json_t *j = image_config_config;

        if (!j || json_is_null(j))
                return 0;
        if (!json_is_object(j))
                return error_set(err, SMITH_ERR_SOURCE, "image config: 'config' must be an object");

        /* Decode everything first, so a bad image leaves c alone. */
        if (image_string(json_object_get(j, "WorkingDir"), "WorkingDir", &dir, err) < 0 ||
            image_strv(json_object_get(j, "Entrypoint"), "Entrypoint", &entrypoint, err) < 0 ||
            image_strv(json_object_get(j, "Cmd"), "Cmd", &cmd, err) < 0 ||
            image_strv(json_object_get(j, "Env"), "Env", &env, err) < 0 ||
            image_map(json_object_get(j, "ExposedPorts"), "ExposedPorts", &ports, NULL, err) < 0 ||
            image_map(json_object_get(j, "Labels"), "Labels", &label_keys, &label_values, err) < 0)
                return -1;

        MOVE_IF_UNSET(c->dir, dir);
        MOVE_IF_UNSET(c->entrypoint, entrypoint);
        MOVE_IF_UNSET(c->cmd, cmd);
        MOVE_IF_UNSET(c->env, env);
        MOVE_IF_UNSET(c->ports, ports);
        if (!c->label_keys) {
                strv_free(c->label_values);
                c->label_keys = TAKE_PTR(label_keys);
                c->label_values = TAKE_PTR(label_values);
        }
        return 0;
}
