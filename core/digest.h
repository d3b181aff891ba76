/* digest.h - the content digests (digest.c): XXH3-128, MD5 and SHA-1 over the same bytes. */
#ifndef VIGIL_DIGEST_H
#define VIGIL_DIGEST_H

#include "internal.h"

/* digest.c: the digests of bytes in memory; of a file read from its current offset to its end
 * (*len: the bytes read), in 1 MiB reads. */
void vigil__digests(const void *data, size_t size, vigil_hash_result *out);
vigil_result vigil__digest_fd(int fd, uint64_t *len, vigil_hash_result *out, vigil_error *err);
/* (An archive's own digests, read beside libarchive, are archive_digest.c's.) */

/* digest.c: tests only; when set, called after every read of a file being hashed with the bytes
 * read so far (a test appends to or truncates the file there, as another process would). */
extern void (*vigil__test_read_hook)(uint64_t done);

#endif
