/* Where a registry's credentials come from when the URL carries none: the
 * containers auth file ($REGISTRY_AUTH_FILE, else
 * $XDG_RUNTIME_DIR/containers/auth.json), then docker's config
 * ($DOCKER_CONFIG/config.json, else ~/.docker/config.json).  In each file:
 * "credHelpers" for the host, then "auths" (base64 "auth" or
 * "username"/"password", and "identitytoken"; keys matched as docker does,
 * plus podman's "host/namespace" keys), then "credsStore".
 *
 * A helper is `docker-credential-<name> get`, run with posix_spawnp: the
 * server on stdin, {"Username","Secret"} on stdout, bounded and with a
 * timeout; its stderr is discarded (it might echo secrets).  As in docker,
 * the Username "<token>" means the Secret is an identity token.  Nothing
 * read here is ever printed. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "basic/buf.h"
#include "basic/fs.h"
#include "registry-internal.h"

#define AUTH_FILE_MAX (4u << 20)

/* --- base64 --- */

char *registry_base64_encode(const void *data, size_t len) {
        size_t out_len = 4 * ((len + 2) / 3);
        char *out = malloc(out_len + 1);
        if (!out)
                return NULL;
        EVP_EncodeBlock((unsigned char *) out, data, (int) len);
        out[out_len] = 0;
        return out;
}

int registry_base64_decode(const char *s, char **ret, size_t *ret_len) {
        size_t len = strlen(s), pad = 0;
        _cleanup_free_ char *out = NULL;
        int n;

        if (len % 4 != 0 || len > INT32_MAX / 2)
                return -EINVAL;
        out = malloc(len / 4 * 3 + 1);
        if (!out)
                return -ENOMEM;
        n = EVP_DecodeBlock((unsigned char *) out, (const unsigned char *) s, (int) len);
        if (n < 0)
                return -EINVAL;
        if (len >= 1 && s[len - 1] == '=')
                pad++;
        if (len >= 2 && s[len - 2] == '=')
                pad++;
        n -= (int) pad;
        out[n] = 0;
        if (ret_len)
                *ret_len = (size_t) n;
        *ret = TAKE_PTR(out);
        return 0;
}

/* --- helpers --- */

void registry_credentials_release(struct registry_credentials *cr) {
        if (!cr)
                return;
        erase_and_free(cr->username);
        erase_and_free(cr->password);
        erase_and_free(cr->identity_token);
        *cr = (struct registry_credentials){ 0 };
}

static bool credentials_found(const struct registry_credentials *cr) {
        return cr->username || cr->identity_token;
}

static int64_t mono_ms(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (int64_t) t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* docker's helper convention: this Username means "Secret is an identity token" */
#define HELPER_TOKEN_USERNAME "<token>"

/* Runs docker-credential-<name> get with server on stdin.  Returns 0 with
 * the credentials, 0 with NULLs when the helper knows nothing, -1 with err. */
static int run_helper(const char *name, const char *server, struct registry_credentials *ret,
                      struct smith_error **err) {
        struct registry_credentials cr = { 0 };
        _cleanup_free_ char *prog = NULL;
        _cleanup_buf_ struct buf out = BUF_INIT(REGISTRY_MAX_SMALL);
        char *argv[3];
        int in[2] = { -1, -1 }, outp[2] = { -1, -1 };
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int r, status = 0;
        int64_t deadline;
        bool timed_out = false, too_big = false;
        _cleanup_(json_decrefp) json_t *j = NULL;
        const char *u, *s;

        for (const char *p = name; *p; p++)
                if (!isalnum((unsigned char) *p) && *p != '-' && *p != '_' && *p != '.')
                        return error_set(err, SMITH_ERR_REGISTRY, "credential helper '%s': invalid name", name);
        if (asprintf(&prog, "docker-credential-%s", name) < 0)
                return error_oom(err);
        if (pipe2(in, O_CLOEXEC) < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "credential helper '%s'", prog);
        if (pipe2(outp, O_CLOEXEC) < 0) {
                r = errno;
                close(in[0]);
                close(in[1]);
                return error_set_errno(err, SMITH_ERR_IO, r, "credential helper '%s'", prog);
        }
        argv[0] = prog;
        argv[1] = (char *) "get";
        argv[2] = NULL;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        r = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(in[0]);
        close(outp[1]);
        if (r != 0) {
                close(in[1]);
                close(outp[0]);
                return error_set_errno(err, SMITH_ERR_REGISTRY, r, "run credential helper '%s'", prog);
        }
        /* the server name is tiny: it fits in the pipe buffer */
        {
                struct sigaction ign = { .sa_handler = SIG_IGN }, old;
                sigaction(SIGPIPE, &ign, &old);
                (void) write_full(in[1], server, strlen(server));
                sigaction(SIGPIPE, &old, NULL);
        }
        close(in[1]);

        deadline = mono_ms() + REGISTRY_HELPER_TIMEOUT_MS;
        for (;;) {
                struct pollfd pfd = { .fd = outp[0], .events = POLLIN };
                int64_t left = deadline - mono_ms();
                char buf[4096];
                ssize_t k;

                if (left <= 0) {
                        timed_out = true;
                        break;
                }
                r = poll(&pfd, 1, (int) MIN(left, (int64_t) 1000));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        break;
                if (r == 0)
                        continue;
                k = read(outp[0], buf, sizeof(buf));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                if (buf_append(&out, buf, (size_t) k) < 0) {
                        too_big = true;
                        break;
                }
        }
        close(outp[0]);
        if (timed_out || too_big)
                kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (timed_out)
                return error_set(err, SMITH_ERR_REGISTRY, "credential helper '%s' timed out", prog);
        if (too_big)
                return error_set(err, SMITH_ERR_REGISTRY, "credential helper '%s': answer too large", prog);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                /* "credentials not found in native keychain": not an error */
                if (out.data && strstr(out.data, "not found"))
                        goto none;
                return error_set(err, SMITH_ERR_REGISTRY, "credential helper '%s' failed (status %d)", prog,
                                 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        }
        j = out.data ? json_loadb(out.data, out.len, 0, NULL) : NULL;
        if (out.data)
                explicit_bzero(out.data, out.len);
        if (!json_is_object(j))
                return error_set(err, SMITH_ERR_REGISTRY, "credential helper '%s': malformed answer", prog);
        u = json_string_value(json_object_get(j, "Username"));
        s = json_string_value(json_object_get(j, "Secret"));
        if (u && streq(u, HELPER_TOKEN_USERNAME)) {
                if (isempty(s))
                        goto none;
                cr.identity_token = strdup(s);
        } else if (isempty(u) || !s) {
                goto none;
        } else {
                cr.username = strdup(u);
                cr.password = strdup(s);
        }
        if (!cr.identity_token && (!cr.username || !cr.password)) {
                registry_credentials_release(&cr);
                return error_oom(err);
        }
        *ret = cr;
        return 0;
none:
        *ret = (struct registry_credentials){ 0 };
        return 0;
}

/* --- auth files --- */

/* docker's convertToHostname(): strip the scheme and the path. */
static char *key_hostname(const char *key, char **ret_path) {
        const char *p = key, *slash;
        if (strneq(p, "https://", 8))
                p += 8;
        else if (strneq(p, "http://", 7))
                p += 7;
        slash = strchr(p, '/');
        if (ret_path)
                *ret_path = slash ? strdup(slash + 1) : NULL;
        char *h = slash ? strndup(p, (size_t) (slash - p)) : strdup(p);
        for (char *c = h; c && *c; c++)
                *c = (char) tolower((unsigned char) *c);
        return h;
}

static bool host_matches(const char *key_host, const char *host, bool docker_hub) {
        if (streq(key_host, host))
                return true;
        return docker_hub && (streq(key_host, "index.docker.io") || streq(key_host, "docker.io") ||
                              streq(key_host, "registry-1.docker.io"));
}

/* How well key names host/repository: 0 no, 1 the host, 2+ a namespace
 * ("host/team"), longer is better. */
static size_t key_score(const char *key, const char *host, bool docker_hub, const char *repository) {
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ char *kh = key_hostname(key, &path);
        bool url = strneq(key, "https://", 8) || strneq(key, "http://", 7);

        if (!kh || !host_matches(kh, host, docker_hub))
                return 0;
        if (isempty(path) || url || streq(path, "v1/") || streq(path, "v1") || streq(path, "v2/") || streq(path, "v2"))
                return 1;
        /* podman: "host/namespace[/repo]" applies to that namespace */
        size_t pl = strlen(path);
        while (pl > 0 && path[pl - 1] == '/')
                pl--;
        if (repository && strneq(repository, path, pl) && (repository[pl] == 0 || repository[pl] == '/'))
                return 2 + pl;
        return 0;
}

/* An "auths" entry worth using: one with credentials of some kind. */
static bool entry_has_credentials(const json_t *e) {
        return json_is_object(e) && (!isempty(json_string_value(json_object_get(e, "auth"))) ||
                                     !isempty(json_string_value(json_object_get(e, "username"))) ||
                                     !isempty(json_string_value(json_object_get(e, "identitytoken"))));
}

static int decode_entry(json_t *e, struct registry_credentials *ret, const char *file, struct smith_error **err) {
        const char *a = json_string_value(json_object_get(e, "auth"));
        const char *u = json_string_value(json_object_get(e, "username"));
        const char *p = json_string_value(json_object_get(e, "password"));
        const char *t = json_string_value(json_object_get(e, "identitytoken"));
        struct registry_credentials cr = { 0 };

        if (!isempty(a)) {
                _cleanup_free_ char *dec = NULL;
                char *colon;
                size_t n;
                if (registry_base64_decode(a, &dec, &n) < 0 || strlen(dec) != n || !(colon = strchr(dec, ':'))) {
                        if (dec)
                                explicit_bzero(dec, n);
                        return error_set(err, SMITH_ERR_REGISTRY, "'%s': malformed \"auth\" entry", file);
                }
                *colon = 0;
                cr.username = strdup(dec);
                cr.password = strdup(colon + 1);
                explicit_bzero(dec, n);
                if (!cr.username || !cr.password)
                        goto oom;
        } else if (!isempty(u)) {
                cr.username = strdup(u);
                cr.password = strdup(p ? p : "");
                if (!cr.username || !cr.password)
                        goto oom;
        }
        /* docker login's OAuth flows (Azure ACR, ...) keep the username
         * ("00000000-...") next to the token; the token is what counts */
        if (!isempty(t) && !(cr.identity_token = strdup(t)))
                goto oom;
        *ret = cr;
        return 0;
oom:
        registry_credentials_release(&cr);
        return error_oom(err);
}

/* Looks host up in one file; 0 with or without a result, -1 on errors.
 * A missing file is no error. */

static bool json_is_string_entry(const json_t *v) {
        return json_is_string(v);
}

/* The key of map (an "auths" or "credHelpers" object) that names host best
 * (key_score()), among the entries usable() accepts; NULL if none. */
static const char *best_entry(json_t *map, const char *host, bool docker_hub, const char *repository,
                              bool (*usable)(const json_t *v)) {
        const char *key, *best_key = NULL;
        size_t best = 0;
        json_t *v;

        if (!json_is_object(map))
                return NULL;
        json_object_foreach(map, key, v) {
                size_t sc = key_score(key, host, docker_hub, repository);
                if (sc > best && usable(v)) {
                        best = sc;
                        best_key = key;
                }
        }
        return best_key;
}

static int lookup_file(const char *file, const char *host, bool docker_hub, const char *repository,
                       struct registry_credentials *ret, struct smith_error **err) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        _cleanup_(json_decrefp) json_t *j = NULL;
        json_t *helpers, *auths;
        const char *store, *key;
        int r;

        r = read_file_at(AT_FDCWD, file, AUTH_FILE_MAX, &data, &len);
        if (r == -ENOENT || r == -ENOTDIR)
                return 0;
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_REGISTRY, r, "read '%s'", file);
        j = json_loadb(data, len, 0, NULL);
        explicit_bzero(data, len);
        if (!json_is_object(j))
                return error_set(err, SMITH_ERR_REGISTRY, "'%s' is not a JSON object", file);
        const char *server = docker_hub ? "https://index.docker.io/v1/" : host;

        helpers = json_object_get(j, "credHelpers");
        key = best_entry(helpers, host, docker_hub, repository, json_is_string_entry);
        if (key)
                return run_helper(json_string_value(json_object_get(helpers, key)), server, ret, err);
        auths = json_object_get(j, "auths");
        key = best_entry(auths, host, docker_hub, repository, entry_has_credentials);
        if (key)
                return decode_entry(json_object_get(auths, key), ret, file, err);
        store = json_string_value(json_object_get(j, "credsStore"));
        if (!isempty(store)) {
                _cleanup_free_ char *s = strdup(store);
                if (!s)
                        return error_oom(err);
                return run_helper(s, server, ret, err);
        }
        return 0;
}

int registry_credentials_lookup(const char *host, bool docker_hub, const char *repository,
                                struct registry_credentials *ret, struct smith_error **err) {
        _cleanup_free_ char *f1 = NULL, *f2 = NULL;
        const char *e;
        struct registry_credentials cr = { 0 };

        e = getenv("REGISTRY_AUTH_FILE");
        if (!isempty(e))
                f1 = strdup(e);
        else if (!isempty(e = getenv("XDG_RUNTIME_DIR")))
                f1 = path_join(e, "containers/auth.json");
        if (!isempty(e = getenv("DOCKER_CONFIG")))
                f2 = path_join(e, "config.json");
        else if (!isempty(e = getenv("HOME")))
                f2 = path_join(e, ".docker/config.json");

        if (f1 && lookup_file(f1, host, docker_hub, repository, &cr, err) < 0)
                return -1;
        if (!credentials_found(&cr) && f2 && lookup_file(f2, host, docker_hub, repository, &cr, err) < 0)
                return -1;
        *ret = cr;
        return 0;
}
