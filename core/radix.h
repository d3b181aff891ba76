/* radix.h - the order of 64-bit keys by a stable LSD radix sort (radix.c): the features'
 * candidates by strength (features.c) and the known-image search's correspondences
 * (kfeat_search.c) sort with it, each building its own keys. */
#ifndef VIGIL_RADIX_H
#define VIGIL_RADIX_H

#include <stddef.h>
#include <stdint.h>

/* perm[0..n) gets the positions of keys[0..n) in ascending order of key, equal keys in their
 * given order; keys is left sorted. 8 passes of a byte each, a pass skipped when every key has
 * the same byte there. Scratch: n keys and n positions. 0, or -1 when out of memory or when n
 * passes UINT32_MAX. */
int vigil__radix_order(uint64_t *keys, uint32_t *perm, size_t n);

#endif
