/* md5x2_avx512.h - the AVX-512 kernel of the two-stream MD5 (md5x2_avx512.c), for md5x2.c's
 * dispatch. */
#ifndef VIGIL_MD5X2_AVX512_H
#define VIGIL_MD5X2_AVX512_H

#include <stddef.h>
#include <stdint.h>

/* nblocks 64-byte blocks of each stream: p0's into state s0, p1's into s1 (MD5's A, B, C, D). */
void vigil__md5x2_blocks_avx512(uint32_t s0[4], const uint8_t *p0, uint32_t s1[4], const uint8_t *p1, size_t nblocks);

#endif
