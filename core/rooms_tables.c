/* rooms_tables.c - the room index's multi-index tables: each descriptor filed in 8 tables under its
 * 16-bit substrings (rooms_query.c says why 8 x 16). Kept in one place so that a shared build and
 * bucket check (the PDQ index has the same) can replace it. */
#include "rooms_impl.h"

#include <stdlib.h>
#include <string.h>

int vigil__rooms_tables_build(const vigil_pdq *desc, uint64_t n, uint32_t *off, uint32_t *ids)
{
    for (int t = 0; t < VIGIL__ROOM_TABLES; t++) { /* counting sort per table: offsets, then slots */
        uint32_t *o = off + (size_t)t * (VIGIL__ROOM_BUCKETS + 1);
        for (uint64_t i = 0; i < n; i++) o[vigil__room_key(&desc[i], t) + 1]++;
        for (uint32_t k = 0; k < VIGIL__ROOM_BUCKETS; k++) o[k + 1] += o[k];
        uint32_t *fill = malloc(VIGIL__ROOM_BUCKETS * sizeof *fill);
        if (!fill) return -1;
        memcpy(fill, o, VIGIL__ROOM_BUCKETS * sizeof *fill);
        for (uint64_t i = 0; i < n; i++) ids[(uint64_t)t * n + fill[vigil__room_key(&desc[i], t)]++] = (uint32_t)i;
        free(fill);
    }
    return 0;
}

/* What the search relies on, so that a crafted file cannot send it out of bounds. */
const char *vigil__rooms_tables_check(const uint32_t *off, const uint32_t *ids, uint64_t n)
{
    for (int t = 0; t < VIGIL__ROOM_TABLES; t++) {
        const uint32_t *o = off + (size_t)t * (VIGIL__ROOM_BUCKETS + 1);
        if (o[0] != 0 || o[VIGIL__ROOM_BUCKETS] != n) return "bucket offsets do not cover the features";
        for (uint32_t k = 0; k < VIGIL__ROOM_BUCKETS; k++)
            if (o[k] > o[k + 1]) return "bucket offsets out of order";
    }
    for (uint64_t i = 0; i < VIGIL__ROOM_TABLES * n; i++)
        if (ids[i] >= n) return "a slot points outside the features";
    return NULL;
}
