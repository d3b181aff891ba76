/* hamming_popcnt.c - the portable loop built with the POPCNT instruction (x86-64-v2): the level
 * for CPUs without AVX2. */
#include "../internal.h"

#include <string.h>

/* memcpy loads: hashes may sit at any byte address */
static inline int dist(const vigil_pdq *a, const vigil_pdq *b)
{
    uint64_t x[4], y[4];
    memcpy(x, a, sizeof x);
    memcpy(y, b, sizeof y);
    return __builtin_popcountll(x[0] ^ y[0]) + __builtin_popcountll(x[1] ^ y[1]) + __builtin_popcountll(x[2] ^ y[2]) +
           __builtin_popcountll(x[3] ^ y[3]);
}

static size_t radius_popcnt(const vigil_pdq *q, size_t nq, const vigil_pdq *refs, const uint32_t *slots,
                            size_t n, int radius, vigil__hit *hits)
{
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        const vigil_pdq *r = slots ? &refs[slots[j]] : &refs[j];
        for (size_t i = 0; i < nq; i++) {
            int d = dist(&q[i], r);
            if (d <= radius) hits[k++] = (vigil__hit){(uint32_t)j, (uint16_t)i, (uint16_t)d};
        }
    }
    return k;
}

static void dist_popcnt(const vigil_pdq *q, const vigil_pdq *refs, size_t n, uint16_t *out)
{
    for (size_t j = 0; j < n; j++)
        out[j] = (uint16_t)dist(q, &refs[j]);
}

const vigil__kernels vigil__kernels_popcnt = {"popcnt", radius_popcnt, dist_popcnt};
