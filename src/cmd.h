/* The commands main() dispatches to; each parses its own options. */
#pragma once

struct smith_error;

int cmd_build(int argc, char **argv, struct smith_error **err);
int cmd_upload(int argc, char **argv, struct smith_error **err);
int cmd_download(int argc, char **argv, struct smith_error **err);
