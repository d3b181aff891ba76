/* fix_sections.h - for tests and fuzz targets that patch bytes of a .vgi or .vgr: recompute every
 * section checksum and the header's, as a crafter would, so a mutation gets past the checksums to
 * the structure checks. The layout is core/sections.c's: header 64 bytes, 16 sections {type, pad,
 * offset, size, checksum}, header checksum at byte 32 over header (that field 0) + table. */
#ifndef VIGIL_TEST_FIX_SECTIONS_H
#define VIGIL_TEST_FIX_SECTIONS_H

#include <stdint.h>
#include <string.h>
#include <xxhash.h>

static inline void fix_checksums(uint8_t *b, size_t n)
{
    if (n < 576) return;
    for (int i = 0; i < 16; i++) {
        uint8_t *e = b + 64 + 32 * i;
        uint64_t off, size;
        memcpy(&off, e + 8, 8);
        memcpy(&size, e + 16, 8);
        if (off > n || size > n - off) continue;
        uint64_t c = XXH3_64bits(size ? b + off : (const uint8_t *)"", size);
        memcpy(e + 24, &c, 8);
    }
    uint64_t zero = 0, c;
    memcpy(b + 32, &zero, 8);
    c = XXH3_64bits(b, 576);
    memcpy(b + 32, &c, 8);
}

#endif
