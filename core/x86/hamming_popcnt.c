/* hamming_popcnt.c - the portable loop built with the POPCNT instruction (x86-64-v2): the level
 * for CPUs without AVX2. */
#include "../internal.h"

static size_t radius_popcnt(const vigil_pdq *q, size_t nq, const vigil_pdq *refs, const uint32_t *slots,
                            size_t n, int radius, vigil__hit *hits)
{
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        const vigil_pdq *r = slots ? &refs[slots[j]] : &refs[j];
        for (size_t i = 0; i < nq; i++) {
            int d = __builtin_popcountll(q[i].w[0] ^ r->w[0]) + __builtin_popcountll(q[i].w[1] ^ r->w[1]) +
                    __builtin_popcountll(q[i].w[2] ^ r->w[2]) + __builtin_popcountll(q[i].w[3] ^ r->w[3]);
            if (d <= radius) hits[k++] = (vigil__hit){(uint32_t)j, (uint16_t)i, (uint16_t)d};
        }
    }
    return k;
}

static void dist_popcnt(const vigil_pdq *q, const vigil_pdq *refs, size_t n, uint16_t *dist)
{
    for (size_t j = 0; j < n; j++)
        dist[j] = (uint16_t)(__builtin_popcountll(q->w[0] ^ refs[j].w[0]) + __builtin_popcountll(q->w[1] ^ refs[j].w[1]) +
                             __builtin_popcountll(q->w[2] ^ refs[j].w[2]) + __builtin_popcountll(q->w[3] ^ refs[j].w[3]));
}

const vigil__kernels vigil__kernels_popcnt = {"popcnt", radius_popcnt, dist_popcnt};
