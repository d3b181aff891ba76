/* md5x2_avx512.c - two MD5 streams in the lanes of one register (AVX-512F + VL, 128-bit
 * vectors). Lane 0 is stream 0, lane 1 stream 1; each step is the RFC 1321 step for both.
 *
 * Why: an MD5 step is a chain of dependent operations, and vpternlogd makes F, G, H and I one
 * instruction, vprold the rotate one more, so a step is four single-cycle operations deep for
 * both streams. 97 MB, two streams: 0.97-0.98x nettle's one stream, where md5x2.c's two scalar
 * chains interleaved took 1.09-1.29x (bench/results/archive.md, run 6). Built with -mavx512f
 * -mavx512vl on this file only; called only where cpu.c reports AVX-512. */
#include "md5x2_avx512.h"
#include "../md5_table.h"

#include <immintrin.h>

/* vpternlogd truth tables, operands (b, c, d) = (0xF0, 0xCC, 0xAA):
 * F = b ? c : d, G = d ? b : c, H = b ^ c ^ d, I = c ^ (b | ~d) */
#define TL_F 0xCA
#define TL_G 0xE4
#define TL_H 0x96
#define TL_I 0x39

/* a = b + rotl(a + f(b, c, d) + X[k] + T[i], r) in both lanes; W holds X[k] of the two streams side by side. */
#define STEP(tl, a, b, c, d, k, i, r)                                                                         \
    do {                                                                                                      \
        __m128i t_ = _mm_add_epi32(a, _mm_add_epi32(_mm_loadl_epi64((const __m128i *)(W + 2 * (k))),          \
                                                    _mm_set1_epi32((int)vigil__md5_t[i])));                   \
        t_ = _mm_add_epi32(t_, _mm_ternarylogic_epi32(b, c, d, tl));                                          \
        a = _mm_add_epi32(b, _mm_rol_epi32(t_, r));                                                           \
    } while (0)

void vigil__md5x2_blocks_avx512(uint32_t s0[4], const uint8_t *p0, uint32_t s1[4], const uint8_t *p1, size_t nblocks)
{
    __m128i a = _mm_set_epi32(0, 0, (int)s1[0], (int)s0[0]), b = _mm_set_epi32(0, 0, (int)s1[1], (int)s0[1]);
    __m128i c = _mm_set_epi32(0, 0, (int)s1[2], (int)s0[2]), d = _mm_set_epi32(0, 0, (int)s1[3], (int)s0[3]);
    /* the message words of the two blocks interleaved: W[2k] stream 0's word k, W[2k + 1] stream 1's
     * (x86 is little-endian, as MD5's words). 128-bit vectors only: 512-bit ones would lower the
     * clock of the core the decoders share with this thread. */
    uint32_t W[32] __attribute__((aligned(16)));
    for (size_t n = 0; n < nblocks; n++, p0 += 64, p1 += 64) {
        for (int q = 0; q < 4; q++) {
            const __m128i x0 = _mm_loadu_si128((const __m128i *)(p0 + 16 * q)), x1 = _mm_loadu_si128((const __m128i *)(p1 + 16 * q));
            _mm_store_si128((__m128i *)(W + 8 * q), _mm_unpacklo_epi32(x0, x1));
            _mm_store_si128((__m128i *)(W + 8 * q + 4), _mm_unpackhi_epi32(x0, x1));
        }
        const __m128i a0 = a, b0 = b, c0 = c, d0 = d;
        STEP(TL_F, a, b, c, d, 0, 0, 7);    STEP(TL_F, d, a, b, c, 1, 1, 12);   STEP(TL_F, c, d, a, b, 2, 2, 17);
        STEP(TL_F, b, c, d, a, 3, 3, 22);   STEP(TL_F, a, b, c, d, 4, 4, 7);    STEP(TL_F, d, a, b, c, 5, 5, 12);
        STEP(TL_F, c, d, a, b, 6, 6, 17);   STEP(TL_F, b, c, d, a, 7, 7, 22);   STEP(TL_F, a, b, c, d, 8, 8, 7);
        STEP(TL_F, d, a, b, c, 9, 9, 12);   STEP(TL_F, c, d, a, b, 10, 10, 17); STEP(TL_F, b, c, d, a, 11, 11, 22);
        STEP(TL_F, a, b, c, d, 12, 12, 7);  STEP(TL_F, d, a, b, c, 13, 13, 12); STEP(TL_F, c, d, a, b, 14, 14, 17);
        STEP(TL_F, b, c, d, a, 15, 15, 22);
        STEP(TL_G, a, b, c, d, 1, 16, 5);   STEP(TL_G, d, a, b, c, 6, 17, 9);   STEP(TL_G, c, d, a, b, 11, 18, 14);
        STEP(TL_G, b, c, d, a, 0, 19, 20);  STEP(TL_G, a, b, c, d, 5, 20, 5);   STEP(TL_G, d, a, b, c, 10, 21, 9);
        STEP(TL_G, c, d, a, b, 15, 22, 14); STEP(TL_G, b, c, d, a, 4, 23, 20);  STEP(TL_G, a, b, c, d, 9, 24, 5);
        STEP(TL_G, d, a, b, c, 14, 25, 9);  STEP(TL_G, c, d, a, b, 3, 26, 14);  STEP(TL_G, b, c, d, a, 8, 27, 20);
        STEP(TL_G, a, b, c, d, 13, 28, 5);  STEP(TL_G, d, a, b, c, 2, 29, 9);   STEP(TL_G, c, d, a, b, 7, 30, 14);
        STEP(TL_G, b, c, d, a, 12, 31, 20);
        STEP(TL_H, a, b, c, d, 5, 32, 4);   STEP(TL_H, d, a, b, c, 8, 33, 11);  STEP(TL_H, c, d, a, b, 11, 34, 16);
        STEP(TL_H, b, c, d, a, 14, 35, 23); STEP(TL_H, a, b, c, d, 1, 36, 4);   STEP(TL_H, d, a, b, c, 4, 37, 11);
        STEP(TL_H, c, d, a, b, 7, 38, 16);  STEP(TL_H, b, c, d, a, 10, 39, 23); STEP(TL_H, a, b, c, d, 13, 40, 4);
        STEP(TL_H, d, a, b, c, 0, 41, 11);  STEP(TL_H, c, d, a, b, 3, 42, 16);  STEP(TL_H, b, c, d, a, 6, 43, 23);
        STEP(TL_H, a, b, c, d, 9, 44, 4);   STEP(TL_H, d, a, b, c, 12, 45, 11); STEP(TL_H, c, d, a, b, 15, 46, 16);
        STEP(TL_H, b, c, d, a, 2, 47, 23);
        STEP(TL_I, a, b, c, d, 0, 48, 6);   STEP(TL_I, d, a, b, c, 7, 49, 10);  STEP(TL_I, c, d, a, b, 14, 50, 15);
        STEP(TL_I, b, c, d, a, 5, 51, 21);  STEP(TL_I, a, b, c, d, 12, 52, 6);  STEP(TL_I, d, a, b, c, 3, 53, 10);
        STEP(TL_I, c, d, a, b, 10, 54, 15); STEP(TL_I, b, c, d, a, 1, 55, 21);  STEP(TL_I, a, b, c, d, 8, 56, 6);
        STEP(TL_I, d, a, b, c, 15, 57, 10); STEP(TL_I, c, d, a, b, 6, 58, 15);  STEP(TL_I, b, c, d, a, 13, 59, 21);
        STEP(TL_I, a, b, c, d, 4, 60, 6);   STEP(TL_I, d, a, b, c, 11, 61, 10); STEP(TL_I, c, d, a, b, 2, 62, 15);
        STEP(TL_I, b, c, d, a, 9, 63, 21);
        a = _mm_add_epi32(a, a0);
        b = _mm_add_epi32(b, b0);
        c = _mm_add_epi32(c, c0);
        d = _mm_add_epi32(d, d0);
    }
    s0[0] = (uint32_t)_mm_extract_epi32(a, 0); s1[0] = (uint32_t)_mm_extract_epi32(a, 1);
    s0[1] = (uint32_t)_mm_extract_epi32(b, 0); s1[1] = (uint32_t)_mm_extract_epi32(b, 1);
    s0[2] = (uint32_t)_mm_extract_epi32(c, 0); s1[2] = (uint32_t)_mm_extract_epi32(c, 1);
    s0[3] = (uint32_t)_mm_extract_epi32(d, 0); s1[3] = (uint32_t)_mm_extract_epi32(d, 1);
}
