/* rooms_tables.c - the room index's multi-index tables: each descriptor filed in 8 tables under its
 * 16-bit substrings (rooms_query.c says why 8 x 16), built and checked by mih.c as the PDQ index's
 * are, with 4-byte slots. */
#include "rooms_impl.h"

int vigil__rooms_tables_build(const vigil_pdq *desc, uint64_t n, uint32_t *off, uint32_t *ids)
{
    for (int t = 0; t < VIGIL__ROOM_TABLES; t++)
        if (vigil__mih_build(desc, n, t, off + (size_t)t * (VIGIL__ROOM_BUCKETS + 1), (uint8_t *)(ids + (uint64_t)t * n), 4))
            return -1;
    return 0;
}

/* What the search relies on, so that a crafted file cannot send it out of bounds. */
const char *vigil__rooms_tables_check(const uint32_t *off, const uint32_t *ids, uint64_t n)
{
    for (int t = 0; t < VIGIL__ROOM_TABLES; t++) {
        uint64_t at;
        switch (vigil__mih_check(off + (size_t)t * (VIGIL__ROOM_BUCKETS + 1), n, t, (const uint8_t *)(ids + (uint64_t)t * n), 4,
                                 NULL, &at)) {
        case VIGIL__MIH_OK: break;
        case VIGIL__MIH_UNCOVERED: return "bucket offsets do not cover the features";
        case VIGIL__MIH_DISORDER: return "bucket offsets out of order";
        default: return "a slot points outside the features";
        }
    }
    return NULL;
}
