/* hamming.c - Hamming distance kernels over 256-bit hashes: the portable reference, and runtime
 * dispatch to the ISA variants in core/x86/ (BLAKE3's layout: one file per variant, one table).
 *
 * Every kernel is batch-shaped: a block of queries against a block of references, so a caller
 * streams references through the cache once for many queries (a dihedral query is 8 of them).
 * OpenMP lives in the layer above (index.c); kernels are single-threaded and reentrant. */
#include "cpu.h"
#include "hamming.h"
#include "x86/hamming_x86.h"

#include <string.h>

#define KERNEL(name) name##_portable
#define POPCOUNT64(x) __builtin_popcountll(x)
#include "hamming_template.h"

const vigil__kernels vigil__kernels_portable = {"portable", radius_portable, dist_portable};

static const vigil__kernels *level(const char *name, unsigned features)
{
    if (!strcmp(name, "portable")) return &vigil__kernels_portable;
#if VIGIL_X86_KERNELS
    if (!strcmp(name, "popcnt") && (features & VIGIL_CPU_POPCNT)) return &vigil__kernels_popcnt;
    if (!strcmp(name, "avx2") && (features & VIGIL_CPU_AVX2)) return &vigil__kernels_avx2;
    if (!strcmp(name, "avx512") && (features & VIGIL_CPU_AVX512)) return &vigil__kernels_avx512;
#else
    (void)features;
#endif
    return NULL;
}

const vigil__kernels *vigil__kernels_named(const char *name)
{
    return level(name, vigil__cpu_features());
}

static const vigil__kernels *best;

const vigil__kernels *vigil__kernels_best(void)
{
    const vigil__kernels *k = __atomic_load_n(&best, __ATOMIC_ACQUIRE);
    if (k) return k;
    static const char *const order[] = {"avx512", "avx2", "popcnt", "portable"};
    unsigned f = vigil__cpu_features();
    for (size_t i = 0; i < sizeof order / sizeof order[0] && !k; i++) k = level(order[i], f);
    __atomic_store_n(&best, k, __ATOMIC_RELEASE);
    return k;
}
