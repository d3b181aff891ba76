/* sevenz_headers.h - the header of a 7z archive, read by vigil itself (sevenz_headers.c) for what
 * libarchive does not hand out: the names, sizes and CRC-32s of encrypted members (the header,
 * usually LZMA-compressed, is plain when only the data is encrypted), and whether the header
 * itself is encrypted (7z -mhe: nothing can be listed without the password). */
#ifndef VIGIL_SEVENZ_HEADERS_H
#define VIGIL_SEVENZ_HEADERS_H

#include <stddef.h>
#include <stdint.h>

typedef struct vigil__7z_file {
    size_t name_at;      /* into the list's names (UTF-8, NUL-terminated) */
    uint32_t name_len;
    uint32_t crc32;
    uint64_t size;
    uint8_t has_crc;
    uint8_t encrypted;   /* its folder's coders include AES */
    uint8_t empty;       /* no data: a directory or an empty file */
} vigil__7z_file;

typedef struct vigil__7z_list {
    vigil__7z_file *f;
    size_t n;
    char *names;
    int locked;          /* the header itself is encrypted: nothing listed */
} vigil__7z_list;

/* Reads n bytes at off into buf: the count read (short at the end), or -1. */
typedef long (*vigil__7z_read_fn)(void *ctx, uint64_t off, uint8_t *buf, size_t n);

/* Reads the header of the 7z archive at offset 0 (size bytes long), decoding an encoded header
 * (LZMA, LZMA2 or stored; liblzma) of at most max_header bytes. 0 and the files listed (nothing
 * when the header is damaged or unreadable: libarchive reports that), -1 out of memory. Every
 * count and size is checked against the bytes that hold it; memory: the header, decoded, plus 40
 * bytes and the name per file. */
int vigil__7z_walk(vigil__7z_read_fn rd, void *ctx, uint64_t size, size_t max_header, vigil__7z_list *out);
void vigil__7z_list_free(vigil__7z_list *l);

#endif
