/* mih.c - building and checking multi-index tables (mih.h). */
#include "mih.h"

#include <stdlib.h>

int vigil__mih_build(const vigil_pdq *codes, uint64_t n, int t, uint32_t *off, uint8_t *slots, int width)
{
    memset(off, 0, (VIGIL__MIH_BUCKETS + 1) * sizeof *off);
    for (uint64_t i = 0; i < n; i++) off[vigil__mih_key(&codes[i], t) + 1]++;
    for (uint32_t k = 0; k < VIGIL__MIH_BUCKETS; k++) off[k + 1] += off[k];
    uint32_t *pos = malloc(VIGIL__MIH_BUCKETS * sizeof *pos);
    if (!pos) return -1;
    memcpy(pos, off, VIGIL__MIH_BUCKETS * sizeof *pos);
    if (width == 4) {
        uint32_t *dst = (uint32_t *)(void *)slots; /* callers' slot arrays are 4-aligned */
        for (uint64_t i = 0; i < n; i++) dst[pos[vigil__mih_key(&codes[i], t)]++] = (uint32_t)i;
    } else {
        for (uint64_t i = 0; i < n; i++) {
            uint32_t v = (uint32_t)i, p = pos[vigil__mih_key(&codes[i], t)]++;
            memcpy(slots + (uint64_t)p * width, &v, (size_t)width);
        }
    }
    free(pos);
    return 0;
}

int vigil__mih_check(const uint32_t *off, uint64_t n, int t, const uint8_t *slots, int width, const vigil_pdq *codes,
                     uint64_t *where)
{
    if (off[0] != 0 || off[VIGIL__MIH_BUCKETS] != n) return VIGIL__MIH_UNCOVERED;
    for (uint32_t k = 0; k < VIGIL__MIH_BUCKETS; k++)
        if (off[k] > off[k + 1]) { *where = k; return VIGIL__MIH_DISORDER; }
    if (!slots && !codes) return VIGIL__MIH_OK;
    for (uint32_t k = 0; k < VIGIL__MIH_BUCKETS; k++)
        for (uint64_t i = off[k]; i < off[k + 1]; i++) {
            uint64_t s = slots ? vigil__mih_slot(slots, i, width) : i;
            if (s >= n) { *where = i; return VIGIL__MIH_RANGE; }
            if (codes && vigil__mih_key(&codes[s], t) != k) { *where = i; return VIGIL__MIH_MISFILED; }
        }
    return VIGIL__MIH_OK;
}
