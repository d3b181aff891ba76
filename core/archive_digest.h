/* archive_digest.h - an archive file's own digests on a thread of their own (archive_digest.c),
 * with the digests of its stored members taken in the same pass. */
#ifndef VIGIL_ARCHIVE_DIGEST_H
#define VIGIL_ARCHIVE_DIGEST_H

#include "internal.h"

#include <sys/stat.h>

/* A stored member as the zip's central directory gives it: where its local header is, its size
 * and CRC-32. The thread reads the local header for where the bytes start. */
typedef struct vigil__adigest_member {
    uint64_t header_at;
    uint64_t size;
    uint32_t crc32;
} vigil__adigest_member;

typedef struct vigil__adigest vigil__adigest;

/* Starts digesting fd (pread from 0 to its end; st: the file when opened) and members[0..n) (n
 * may be 0; the thread takes a copy); one reference is the caller's. */
vigil_result vigil__adigest_start(int fd, const struct stat *st, const vigil__adigest_member *members, size_t n,
                                  vigil__adigest **out, vigil_error *err);
/* Asks the thread to stop (checked every 256 KiB); the members not done yet then fail. The last
 * reference does it; the thread reads its own duplicate of fd, so it may outlive the caller's. */
void vigil__adigest_stop(vigil__adigest *d);
/* Waits for the thread: the file's digests (file_size, VIGIL_FILE_CHANGED) or why not. */
vigil_result vigil__adigest_join(vigil__adigest *d, vigil_hash_result *out, vigil_error *err);
/* Drops a reference (the last joins the thread first). */
void vigil__adigest_unref(vigil__adigest *d);
/* A ticket for member k (a new reference), or for the file's own digests (VIGIL__ADIGEST_FILE),
 * or NULL. */
#define VIGIL__ADIGEST_FILE SIZE_MAX
vigil_digest_ticket *vigil__adigest_ticket(vigil__adigest *d, size_t k);

#endif
