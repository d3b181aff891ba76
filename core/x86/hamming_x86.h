/* hamming_x86.h - declarations of the x86 kernel variants (hamming_popcnt.c, hamming_avx2.c,
 * hamming_avx512.c), for hamming.c's dispatch. The kernel bodies are templates apart from this:
 * core/hamming_template.h (portable, POPCNT) and hamming_avx_template.h (AVX2, AVX-512). */
#ifndef VIGIL_HAMMING_X86_H
#define VIGIL_HAMMING_X86_H

#include "../hamming.h"

#if defined(__x86_64__)
#define VIGIL_X86_KERNELS 1
extern const vigil__kernels vigil__kernels_popcnt;
extern const vigil__kernels vigil__kernels_avx2;
extern const vigil__kernels vigil__kernels_avx512;
#else
#define VIGIL_X86_KERNELS 0
#endif

#endif
