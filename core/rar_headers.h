/* rar_headers.h - the file headers of a RAR 4 or RAR 5 archive, walked by vigil itself (rar_headers.c)
 * for what libarchive does not hand out: the CRC-32 a header stores for an encrypted member, and
 * (RAR 5, where libarchive 3.6 reads an encrypted member's ciphertext as its data) whether a
 * member is encrypted at all. */
#ifndef VIGIL_RAR_HEADERS_H
#define VIGIL_RAR_HEADERS_H

#include "member_facts.h"

/* Walks the headers from the signature at offset 0 of an archive size bytes long, skipping each
 * member's data, until the end header, a header that fails its CRC or leaves the file, or
 * max_files entries. 0 (what was walked, possibly nothing; out->version says which RAR), -1 out
 * of memory (free out with vigil__facts_free). Reads one header at
 * a time (at most 2 MiB, the RAR 5 limit); memory: 40 bytes and the name per file. */
int vigil__rar_walk(vigil__pread_fn rd, void *ctx, uint64_t size, size_t max_files, vigil__facts *out);

#endif
