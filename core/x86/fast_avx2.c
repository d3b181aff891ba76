/* fast_avx2.c - the FAST-9 test 32 pixels at a time (portable twin and dispatch: vigil__fast_row_portable
 * in core/features_fast.c; tests/test_features.c compares the two byte for byte). Each of the 16 circle
 * positions gives a 32-bit mask (one bit per pixel) of "brighter" and one of "darker"; a corner is
 * a pixel with 9 consecutive positions set, found for all 32 pixels at once by ANDing the masks
 * (bit-parallel). Unsigned saturating arithmetic gives exactly the scalar comparisons:
 * v > c + t  <=>  v -sat (c +sat t) != 0, since c + t > 255 leaves no brighter v either way. */
#include "../features_impl.h"
#include <immintrin.h>

/* The test for the 32 pixels from p, results to out[0..31]. */
static inline void block(const uint8_t *p, const ptrdiff_t *off, __m256i tv, uint8_t *out)
{
    const __m256i zero = _mm256_setzero_si256();
    __m256i c = _mm256_loadu_si256((const __m256i *)p);
    __m256i hi = _mm256_adds_epu8(c, tv), lo = _mm256_subs_epu8(c, tv);
    uint32_t b[16], d[16];
    for (int k = 0; k < 16; k++) { /* bit j: pixel j brighter / darker at position k */
        __m256i v = _mm256_loadu_si256((const __m256i *)(p + off[k]));
        b[k] = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_subs_epu8(v, hi), zero));
        d[k] = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_subs_epu8(lo, v), zero));
    }
    uint32_t b2[16], d2[16], b4[16], d4[16], hit = 0;
    for (int k = 0; k < 16; k++) { b2[k] = b[k] & b[(k + 1) & 15]; d2[k] = d[k] & d[(k + 1) & 15]; }
    for (int k = 0; k < 16; k++) { b4[k] = b2[k] & b2[(k + 2) & 15]; d4[k] = d2[k] & d2[(k + 2) & 15]; }
    for (int k = 0; k < 16; k++) /* positions k .. k+8 */
        hit |= (b4[k] & b4[(k + 4) & 15] & b[(k + 8) & 15]) | (d4[k] & d4[(k + 4) & 15] & d[(k + 8) & 15]);
    if (!hit) {
        _mm256_storeu_si256((__m256i *)out, zero);
        return;
    }
    /* bit j -> byte j: spread the mask over the bytes, then test each byte's own bit */
    const __m256i sel = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                         2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    __m256i m = _mm256_shuffle_epi8(_mm256_set1_epi32((int)hit), sel);
    _mm256_storeu_si256((__m256i *)out, _mm256_cmpeq_epi8(_mm256_and_si256(m, bit), bit));
}

void vigil__fast_row_avx2(const uint8_t *row, size_t stride, int x0, int x1, int t, uint8_t *out)
{
    static const int8_t circle[16][2] = {{0, -3}, {1, -3}, {2, -2}, {3, -1}, {3, 0}, {3, 1}, {2, 2}, {1, 3},
                                         {0, 3}, {-1, 3}, {-2, 2}, {-3, 1}, {-3, 0}, {-3, -1}, {-2, -2}, {-1, -3}};
    const __m256i tv = _mm256_set1_epi8((char)(t > 255 ? 255 : t));
    ptrdiff_t off[16];
    for (int k = 0; k < 16; k++) off[k] = (ptrdiff_t)circle[k][1] * (ptrdiff_t)stride + circle[k][0];
    int x = x0;
    for (; x + 32 <= x1; x += 32) block(row + x, off, tv, out + x);
    /* the tail as one more block ending at x1 (the span holds one: x1 - x0 >= 32): its overlap is
     * recomputed to the same values */
    if (x < x1) block(row + x1 - 32, off, tv, out + x1 - 32);
}
