/* smith's entry point: the verb table (build, the default, upload,
 * download, inspect, lock, sbom), and the one place an error is printed, mapping its kind to the
 * exit code (see README "Exit codes"). */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "basic/error.h"
#include "cmd.h"

static const struct command *const commands[] = { &cmd_build,   &cmd_upload, &cmd_download,
                                                  &cmd_inspect, &cmd_lock,   &cmd_sbom };

int main(int argc, char **argv) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        const struct command *cmd = &cmd_build;
        int r;

        /* Past a file size limit (ulimit -f) a write fails with EFBIG, which
         * ends the command with one line and its cleanup, instead of a
         * SIGXFSZ that kills it with neither. */
        (void) signal(SIGXFSZ, SIG_IGN);
        /* One malloc arena for every thread.  smith's threads (the index
         * saver, decompressing ahead, gzip members) hand big buffers to one
         * another and live briefly; an arena each kept freed pages resident
         * side by side: 9 MiB more peak RSS on a cold Debian build, and no
         * time saved. */
        (void) mallopt(M_ARENA_MAX, 1);
        if (argc > 1 && argv[1][0] != '-') {
                cmd = NULL;
                for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                        if (streq(argv[1], commands[i]->name))
                                cmd = commands[i];
                if (cmd) {
                        argc--;
                        argv++;
                } else
                        cmd = &cmd_build; /* it reports the operand */
        }
        r = cmd->run(cmd, argc, argv, &err);
        if (r >= 0)
                return 0;
        fprintf(stderr, "smith: %s\n", err ? err->msg : "unknown error");
        return err ? error_exit_code(err) : 1;
}
