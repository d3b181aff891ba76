/* hamming.c - Hamming distance kernels over 256-bit hashes: the portable reference, and runtime
 * dispatch to the ISA variants in core/x86/ (BLAKE3's layout: one file per variant, one table).
 *
 * Every kernel is batch-shaped: a block of queries against a block of references, so a caller
 * streams references through the cache once for many queries (a dihedral query is 8 of them).
 * OpenMP lives in the layer above (index.c); kernels are single-threaded and reentrant. */
#include "internal.h"
#include "x86/hamming_x86.h"

#include <string.h>

/* Callers may pass hashes at any byte address (a buffer of records), so words are loaded with
 * memcpy, which compiles to plain loads. */
static inline int dist_portable(const vigil_pdq *a, const vigil_pdq *b)
{
    uint64_t x[4], y[4];
    memcpy(x, a, sizeof x);
    memcpy(y, b, sizeof y);
    return __builtin_popcountll(x[0] ^ y[0]) + __builtin_popcountll(x[1] ^ y[1]) +
           __builtin_popcountll(x[2] ^ y[2]) + __builtin_popcountll(x[3] ^ y[3]);
}

static size_t radius_portable(const vigil_pdq *q, size_t nq, const vigil_pdq *refs, const uint32_t *slots,
                              size_t n, int radius, vigil__hit *hits)
{
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        const vigil_pdq *r = slots ? &refs[slots[j]] : &refs[j];
        for (size_t i = 0; i < nq; i++) {
            int d = dist_portable(&q[i], r);
            if (d <= radius) hits[k++] = (vigil__hit){(uint32_t)j, (uint16_t)i, (uint16_t)d};
        }
    }
    return k;
}

static void dist_portable_n(const vigil_pdq *q, const vigil_pdq *refs, size_t n, uint16_t *dist)
{
    for (size_t j = 0; j < n; j++) dist[j] = (uint16_t)dist_portable(q, &refs[j]);
}

const vigil__kernels vigil__kernels_portable = {"portable", radius_portable, dist_portable_n};

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
