/* hamming_avx2.c - AVX2 kernels: popcount by nibble lookup (vpshufb) summed with vpsadbw, the
 * usual method where the CPU has no vector popcount (Mula, Kurz, Lemire 2016). */
#include "../hamming.h"
#include "hamming_x86.h"
#include <immintrin.h>

static inline __m256i popcnt4_avx2(__m256i v)
{
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    __m256i lo = _mm256_and_si256(v, low), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
    __m256i bytes = _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
    return _mm256_sad_epu8(bytes, _mm256_setzero_si256());
}

#define POPCNT4(x) popcnt4_avx2(x)
#define KERNEL(name) name##_avx2
#include "hamming_avx_template.h"

const vigil__kernels vigil__kernels_avx2 = {"avx2", radius_avx2, dist_avx2};
