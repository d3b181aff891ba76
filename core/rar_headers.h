/* rar_headers.h - the file headers of a RAR 4 or RAR 5 archive, walked by vigil itself (rar_headers.c)
 * for what libarchive does not hand out: the CRC-32 a header stores for an encrypted member, and
 * (RAR 5, where libarchive 3.6 reads an encrypted member's ciphertext as its data) whether a
 * member is encrypted at all. */
#ifndef VIGIL_RAR_HEADERS_H
#define VIGIL_RAR_HEADERS_H

#include <stddef.h>
#include <stdint.h>

typedef struct vigil__rar_file {
    size_t name_at;      /* into the list's names */
    uint32_t name_len;
    uint32_t crc32;
    uint64_t size;       /* unpacked, as the header says */
    uint8_t has_crc;     /* crc32 is the plain CRC-32 of the data (RAR 5 with tweaked checksums: not) */
    uint8_t encrypted;
    uint8_t dir;
} vigil__rar_file;

typedef struct vigil__rar_list {
    vigil__rar_file *f;
    size_t n;
    char *names;
    int locked;          /* the headers themselves are encrypted: nothing listed */
    int version;         /* 4 or 5; 0: no RAR signature */
} vigil__rar_list;

/* Reads n bytes at off into buf: the count read (short at the end), or -1. */
typedef long (*vigil__rar_read_fn)(void *ctx, uint64_t off, uint8_t *buf, size_t n);

/* Walks the headers from the signature at offset 0 of an archive size bytes long, skipping each
 * member's data, until the end header, a header that fails its CRC or leaves the file, or
 * max_files entries. 0 (what was walked, possibly nothing), -1 out of memory. Reads one header at
 * a time (at most 2 MiB, the RAR 5 limit); memory: 40 bytes and the name per file. */
int vigil__rar_walk(vigil__rar_read_fn rd, void *ctx, uint64_t size, size_t max_files, vigil__rar_list *out);
void vigil__rar_list_free(vigil__rar_list *l);

#endif
