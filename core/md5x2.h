/* md5x2.h - MD5 of one stream or of two at once (md5x2.c). */
#ifndef VIGIL_MD5X2_H
#define VIGIL_MD5X2_H

#include <stddef.h>
#include <stdint.h>

typedef struct vigil__md5 {
    uint32_t s[4];
    uint64_t len;   /* bytes so far */
    unsigned fill;  /* bytes waiting in buf */
    uint8_t buf[64];
} vigil__md5;

void vigil__md5_init(vigil__md5 *m);
void vigil__md5_update(vigil__md5 *m, const void *data, size_t n);
/* n bytes to each of two streams (d0 to m0, d1 to m1; the same bytes or not), stepped together. */
void vigil__md5_update2(vigil__md5 *m0, const void *d0, vigil__md5 *m1, const void *d1, size_t n);
void vigil__md5_final(vigil__md5 *m, uint8_t out[16]);
/* nblocks whole 64-byte blocks of each stream into the bare states, by the kernel the CPU runs;
 * and that kernel's name ("avx512", "portable"), for the tests. */
void vigil__md5x2_blocks(uint32_t s0[4], const uint8_t *p0, uint32_t s1[4], const uint8_t *p1, size_t nblocks);
const char *vigil__md5x2_level(void);

#endif
