/* sevenz_headers.h - the header of a 7z archive, read by vigil itself (sevenz_headers.c) for what
 * libarchive does not hand out: the names, sizes and CRC-32s of encrypted members (the header,
 * usually LZMA-compressed, is plain when only the data is encrypted), and whether the header
 * itself is encrypted (7z -mhe: nothing can be listed without the password). */
#ifndef VIGIL_SEVENZ_HEADERS_H
#define VIGIL_SEVENZ_HEADERS_H

#include "member_facts.h"

/* Reads the header of the 7z archive at offset 0 (size bytes long), decoding an encoded header
 * (LZMA, LZMA2 or stored; liblzma) of at most max_header bytes. 0 and the files listed (nothing
 * when the header is damaged or unreadable: libarchive reports that), -1 out of memory. Every
 * count and size is checked against the bytes that hold it; memory: the header, decoded, plus 40
 * bytes and the name per file. */
int vigil__7z_walk(vigil__pread_fn rd, void *ctx, uint64_t size, size_t max_header, vigil__facts *out);

#endif
