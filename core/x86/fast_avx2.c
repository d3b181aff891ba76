/* fast_avx2.c - the FAST compass pre-filter 32 pixels at a time (portable twin: fast_row_portable
 * in core/features.c; tests/test_features.c compares the two byte for byte). Unsigned saturating
 * arithmetic gives exactly the scalar comparisons: v > c + t  <=>  v -sat (c +sat t) != 0, since
 * c + t > 255 leaves no brighter v either way; likewise for darker. */
#include "../internal.h"
#include <immintrin.h>

void vigil__fast_row_avx2(const uint8_t *row, size_t stride, int x0, int x1, int t, uint8_t *out)
{
    const __m256i tv = _mm256_set1_epi8((char)(t > 255 ? 255 : t)), zero = _mm256_setzero_si256();
    int x = x0;
    for (; x + 32 <= x1; x += 32) {
        const uint8_t *p = row + x;
        __m256i c = _mm256_loadu_si256((const __m256i *)p);
        __m256i hi = _mm256_adds_epu8(c, tv), lo = _mm256_subs_epu8(c, tv);
        __m256i n = _mm256_loadu_si256((const __m256i *)(p - 3 * stride)), e = _mm256_loadu_si256((const __m256i *)(p + 3));
        __m256i s = _mm256_loadu_si256((const __m256i *)(p + 3 * stride)), w = _mm256_loadu_si256((const __m256i *)(p - 3));
        /* 0xff where brighter / darker */
#define BR(v) _mm256_xor_si256(_mm256_cmpeq_epi8(_mm256_subs_epu8(v, hi), zero), _mm256_set1_epi8(-1))
#define DK(v) _mm256_xor_si256(_mm256_cmpeq_epi8(_mm256_subs_epu8(lo, v), zero), _mm256_set1_epi8(-1))
        __m256i b0 = BR(n), b1 = BR(e), b2 = BR(s), b3 = BR(w);
        __m256i d0 = DK(n), d1 = DK(e), d2 = DK(s), d3 = DK(w);
#undef BR
#undef DK
        /* at least two of four */
        __m256i b = _mm256_or_si256(_mm256_or_si256(_mm256_and_si256(b0, _mm256_or_si256(b1, _mm256_or_si256(b2, b3))),
                                                    _mm256_and_si256(b1, _mm256_or_si256(b2, b3))),
                                    _mm256_and_si256(b2, b3));
        __m256i d = _mm256_or_si256(_mm256_or_si256(_mm256_and_si256(d0, _mm256_or_si256(d1, _mm256_or_si256(d2, d3))),
                                                    _mm256_and_si256(d1, _mm256_or_si256(d2, d3))),
                                    _mm256_and_si256(d2, d3));
        _mm256_storeu_si256((__m256i *)(out + x), _mm256_or_si256(b, d));
    }
    if (x < x1) vigil__fast_row_portable(row, stride, x, x1, t, out);
}
