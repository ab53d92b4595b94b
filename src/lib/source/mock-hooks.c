/* Running mock.pre-build and mock.post-build; see mock-hooks.h. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "mock-hooks.h"

int mock_hook_run(const char *what, const char *prog, const struct source_ctx *ctx, const char *root,
                  struct smith_error **err) {
        _cleanup_strv_free_ char **env = NULL;
        posix_spawn_file_actions_t fa;
        char *argv[2] = { (char *) prog, NULL };
        pid_t pid;
        int r, status;

        for (char **e = environ; e && *e; e++)
                if (!strneq(*e, "SMITH_ROOT=", 11) && strv_extend(&env, *e) < 0)
                        return error_oom(err);
        if (root) {
                char *kv = NULL;
                if (asprintf(&kv, "SMITH_ROOT=%s", root) < 0 || strv_consume(&env, kv) < 0)
                        return error_oom(err);
        }
        if (!env && !(env = calloc(1, sizeof(char *))))
                return error_oom(err);
        log_info("mock.%s: running '%s' in '%s'", what, prog, ctx->build_dir);
        /* stdout is the user's, as the original left it; the child's stdout
         * and stderr are smith's */
        posix_spawn_file_actions_init(&fa);
        r = posix_spawn_file_actions_addchdir_np(&fa, ctx->build_dir);
        if (r == 0)
                r = strchr(prog, '/') ? posix_spawn(&pid, prog, &fa, NULL, argv, env)
                                      : posix_spawnp(&pid, prog, &fa, NULL, argv, env);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "mock.%s '%s'", what, prog);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "mock.%s '%s': wait", what, prog);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status))
                return error_set(err, SMITH_ERR_SOURCE, "mock.%s '%s' failed with exit status %d", what, prog,
                                 WEXITSTATUS(status));
        return error_set(err, SMITH_ERR_SOURCE, "mock.%s '%s' was killed by signal %d (%s)", what, prog,
                         WTERMSIG(status), strsignal(WTERMSIG(status)));
}
