/* `smith upload`: push an image to a registry.  The registry client is not
 * part of this smith yet; the command exists so that the user gets a clear
 * error (exit code 5) instead of an attempt to build. */
#include "basic/error.h"
#include "cmd.h"

int cmd_upload(int argc, char **argv, struct smith_error **err) {
        return error_set(err, SMITH_ERR_REGISTRY, "upload: registries are not supported by this smith yet");
}
