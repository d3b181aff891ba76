/* fast_avx2.c - the FAST pre-filter 32 pixels at a time (portable twin: vigil__fast_row_portable
 * in core/features.c; tests/test_features.c compares the two byte for byte). Unsigned saturating
 * arithmetic gives exactly the scalar comparisons: v > c + t  <=>  v -sat (c +sat t) != 0, since
 * c + t > 255 leaves no brighter v either way; likewise for darker. */
#include "../internal.h"
#include <immintrin.h>

void vigil__fast_row_avx2(const uint8_t *row, size_t stride, int x0, int x1, int t, uint8_t *out)
{
    static const int8_t even8[8][2] = {{0, -3}, {2, -2}, {3, 0}, {2, 2}, {0, 3}, {-2, 2}, {-3, 0}, {-2, -2}};
    const __m256i tv = _mm256_set1_epi8((char)(t > 255 ? 255 : t)), zero = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi8(-1);
    ptrdiff_t off[8];
    for (int k = 0; k < 8; k++) off[k] = (ptrdiff_t)even8[k][1] * (ptrdiff_t)stride + even8[k][0];
    int x = x0;
    for (; x + 32 <= x1; x += 32) {
        const uint8_t *p = row + x;
        __m256i c = _mm256_loadu_si256((const __m256i *)p);
        __m256i hi = _mm256_adds_epu8(c, tv), lo = _mm256_subs_epu8(c, tv);
        __m256i b[8], d[8];
        for (int k = 0; k < 8; k++) { /* 0xff where brighter / darker */
            __m256i v = _mm256_loadu_si256((const __m256i *)(p + off[k]));
            b[k] = _mm256_xor_si256(_mm256_cmpeq_epi8(_mm256_subs_epu8(v, hi), zero), ones);
            d[k] = _mm256_xor_si256(_mm256_cmpeq_epi8(_mm256_subs_epu8(lo, v), zero), ones);
        }
        /* 4 consecutive (cyclically) of the 8 */
        __m256i any = zero;
        for (int s = 0; s < 8; s++) {
            __m256i rb = _mm256_and_si256(_mm256_and_si256(b[s], b[(s + 1) & 7]), _mm256_and_si256(b[(s + 2) & 7], b[(s + 3) & 7]));
            __m256i rd = _mm256_and_si256(_mm256_and_si256(d[s], d[(s + 1) & 7]), _mm256_and_si256(d[(s + 2) & 7], d[(s + 3) & 7]));
            any = _mm256_or_si256(any, _mm256_or_si256(rb, rd));
        }
        _mm256_storeu_si256((__m256i *)(out + x), any);
    }
    if (x < x1) vigil__fast_row_portable(row, stride, x, x1, t, out);
}
