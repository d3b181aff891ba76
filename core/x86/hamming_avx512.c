/* hamming_avx512.c - AVX-512 VPOPCNTDQ kernels: one vpopcntq per reference instead of the nibble
 * lookup; the rest is the AVX2 kernel body (256-bit vectors with AVX512VL), so only the popcount
 * differs from the variant the tests run everywhere. */
#include "../hamming.h"
#include "hamming_x86.h"
#include <immintrin.h>

#define POPCNT4(x) _mm256_popcnt_epi64(x)
#define KERNEL(name) name##_avx512
#include "hamming_avx_template.h"

const vigil__kernels vigil__kernels_avx512 = {"avx512", radius_avx512, dist_avx512};
