/* hamming.h - the Hamming kernels (hamming.c: the portable reference and the dispatch; the ISA
 * variants in x86/, declared in x86/hamming_x86.h). */
#ifndef VIGIL_HAMMING_H
#define VIGIL_HAMMING_H

#include "vigil.h"

#include <stddef.h>
#include <stdint.h>

/* hamming.c: batch kernels. A hit is one (query, reference) pair within the radius. */
typedef struct vigil__hit {
    uint32_t ref;   /* position in refs (or in slots, when slots is given) */
    uint16_t query; /* position in queries */
    uint16_t dist;
} vigil__hit;

/* For every query q[i] (i < nq <= 65535) and reference j < n, where the reference is refs[j], or
 * refs[slots[j]] when slots is non-NULL: appends (j, i, d) to hits when d = distance <= radius.
 * hits must hold nq * n entries. Returns the number appended. Hits come in order of j, then i. */
typedef size_t (*vigil__radius_fn)(const vigil_pdq *q, size_t nq, const vigil_pdq *refs,
                                   const uint32_t *slots, size_t n, int radius, vigil__hit *hits);
/* dist[j] = distance(q, refs[j]) for j < n. */
typedef void (*vigil__dist_fn)(const vigil_pdq *q, const vigil_pdq *refs, size_t n, uint16_t *dist);

typedef struct vigil__kernels {
    const char *name;
    vigil__radius_fn radius;
    vigil__dist_fn dist;
} vigil__kernels;

/* The portable reference and the ISA variants (x86 only), and the best one this CPU runs
 * (honouring VIGIL_DISABLE_CPU_FEATURES). */
extern const vigil__kernels vigil__kernels_portable;
const vigil__kernels *vigil__kernels_best(void);
/* Kernel by level ("portable", "popcnt", "avx2", "avx512"); NULL if this build or CPU lacks it. */
const vigil__kernels *vigil__kernels_named(const char *name);

#endif
