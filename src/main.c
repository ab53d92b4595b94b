/* smith's entry point: picks the command (build by default, upload,
 * download), runs it, and prints the error once, here, mapping its kind to
 * the exit code (see README "Exit codes"). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "basic/error.h"
#include "cmd.h"

static const struct command {
        const char *name;
        int (*run)(int argc, char **argv, struct smith_error **err);
} commands[] = {
        { "upload", cmd_upload },
        { "download", cmd_download },
};

int main(int argc, char **argv) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        int (*run)(int, char **, struct smith_error **) = cmd_build;
        int r;

        /* Past a file size limit (ulimit -f) a write fails with EFBIG, which
         * ends the command with one line and its cleanup, instead of a
         * SIGXFSZ that kills it with neither. */
        (void) signal(SIGXFSZ, SIG_IGN);
        if (argc > 1)
                for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                        if (streq(argv[1], commands[i].name)) {
                                run = commands[i].run;
                                argc--;
                                argv++;
                                break;
                        }
        r = run(argc, argv, &err);
        if (r >= 0)
                return 0;
        fprintf(stderr, "smith: %s\n", err ? err->msg : "unknown error");
        return err ? error_exit_code(err) : 1;
}
