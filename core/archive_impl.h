/* archive_impl.h - internals of core/archive.c that the tests reach: the zip central directory, read on
 * its own for what libarchive does not hand out (the CRC-32 stored for an encrypted member). */
#ifndef VIGIL_ARCHIVE_IMPL_H
#define VIGIL_ARCHIVE_IMPL_H

#include <stddef.h>
#include <stdint.h>

typedef struct vigil__zip_cd_entry {
    const uint8_t *name; /* into the directory's bytes */
    uint16_t name_len;
    uint16_t flags;      /* general purpose bits: bit 0 = encrypted */
    uint16_t method;     /* 99: AES (WinZip AE-x), whose AE-2 form stores 0 as the CRC */
    uint32_t crc32;
    uint64_t size;       /* uncompressed, as the directory says (0xFFFFFFFF: in a ZIP64 extra) */
    uint64_t csize;      /* compressed, the same */
    uint64_t header_at;  /* where its local header is */
} vigil__zip_cd_entry;

/* Finds the end-of-central-directory record in the last bytes of a zip (tail[0..n), which end
 * where the file ends, file_size long): 0 and the directory's offset and size, or -1. */
int vigil__zip_eocd(const uint8_t *tail, size_t n, uint64_t file_size, uint64_t *cd_off, uint64_t *cd_size);
/* Splits a central directory (cd[0..n)) into at most max entries; the count, every entry checked
 * against n before use. */
size_t vigil__zip_cd_parse(const uint8_t *cd, size_t n, vigil__zip_cd_entry *out, size_t max);

#endif
