/* hamming_template.h - the scalar kernel body: the portable reference (hamming.c) and the POPCNT
 * level (x86/hamming_popcnt.c, built with -mpopcnt) are this one loop compiled twice; no include
 * guard, on purpose.
 *
 * The includer defines KERNEL(name): the variant's function name, and POPCOUNT64(x): the popcount
 * of a uint64_t (the same builtin in both, which -mpopcnt turns into one instruction). */
#if !defined(KERNEL) || !defined(POPCOUNT64)
#error "define KERNEL and POPCOUNT64 before including hamming_template.h"
#endif
#include <string.h>

/* Callers may pass hashes at any byte address (a buffer of records), so words are loaded with
 * memcpy, which compiles to plain loads. */
static inline int KERNEL(dist1)(const vigil_pdq *a, const vigil_pdq *b)
{
    uint64_t x[4], y[4];
    memcpy(x, a, sizeof x);
    memcpy(y, b, sizeof y);
    return POPCOUNT64(x[0] ^ y[0]) + POPCOUNT64(x[1] ^ y[1]) + POPCOUNT64(x[2] ^ y[2]) + POPCOUNT64(x[3] ^ y[3]);
}

static size_t KERNEL(radius)(const vigil_pdq *q, size_t nq, const vigil_pdq *refs, const uint32_t *slots, size_t n,
                             int radius, vigil__hit *hits)
{
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        const vigil_pdq *r = slots ? &refs[slots[j]] : &refs[j];
        for (size_t i = 0; i < nq; i++) {
            int d = KERNEL(dist1)(&q[i], r);
            if (d <= radius) hits[k++] = (vigil__hit){(uint32_t)j, (uint16_t)i, (uint16_t)d};
        }
    }
    return k;
}

static void KERNEL(dist)(const vigil_pdq *q, const vigil_pdq *refs, size_t n, uint16_t *dist)
{
    for (size_t j = 0; j < n; j++) dist[j] = (uint16_t)KERNEL(dist1)(q, &refs[j]);
}
