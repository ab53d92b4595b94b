/* `smith download`: pull an image from a registry into an OCI tar.gz.  Not
 * part of this smith yet; see cmd-upload.c. */
#include "basic/error.h"
#include "cmd.h"

int cmd_download(int argc, char **argv, struct smith_error **err) {
        return error_set(err, SMITH_ERR_REGISTRY, "download: registries are not supported by this smith yet");
}
