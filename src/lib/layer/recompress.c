/* Recompressing a layer blob; see recompress.h. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/macro.h"
#include "recompress.h"

#define CHUNK (1u << 16)

int layer_recompress(int in_fd, const char *diff_id, enum blob_compression c, int level, int out_fd,
                     struct blob_result *ret, struct smith_error **err) {
        _cleanup_(blob_writer_freep) struct blob_writer *w = NULL;
        _cleanup_free_ char *buf = malloc(CHUNK);
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        int r = -1;

        if (!buf || !a) {
                archive_read_free(a);
                return error_oom(err);
        }
        if (blob_writer_new(out_fd, c, level, &w, err) < 0)
                goto out;
        if (lseek(in_fd, 0, SEEK_SET) < 0 || archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
            archive_read_support_filter_zstd(a) != ARCHIVE_OK || archive_read_support_format_raw(a) != ARCHIVE_OK ||
            archive_read_open_fd(a, in_fd, CHUNK) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK) {
                error_set(err, SMITH_ERR_SOURCE, "layer '%s': %s", diff_id, archive_error_string(a) ?: "unreadable");
                goto out;
        }
        for (;;) {
                la_ssize_t n = archive_read_data(a, buf, CHUNK);
                if (n < 0) {
                        error_set(err, SMITH_ERR_SOURCE, "layer '%s': %s", diff_id,
                                  archive_error_string(a) ?: "read error");
                        goto out;
                }
                if (n == 0)
                        break;
                if (blob_writer_write(w, buf, (size_t) n, err) < 0)
                        goto out;
        }
        if (blob_writer_finish(w, ret, err) < 0)
                goto out;
        if (!streq(ret->diff_id, diff_id)) {
                error_set(err, SMITH_ERR_SOURCE, "layer '%s' decompresses to '%s'", diff_id, ret->diff_id);
                goto out;
        }
        r = 0;
out:
        archive_read_free(a);
        return r;
}
