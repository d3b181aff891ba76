/* mih.h - multi-index hashing tables (Norouzi, Punjani, Fleet 2012) over 256-bit codes: table t
 * files every code under its 16-bit word t, so a lookup of a query's word t finds the codes that
 * share it. The PDQ index (index.c, 16 tables: every row of the hash) and the room index (rooms.c,
 * 8 tables over the first 128 bits of each descriptor) build and check their tables here.
 *
 * A table is BUCKETS + 1 offsets (bucket k holds slots off[k] .. off[k+1]-1) and one slot per
 * code: the code's number, `width` bytes little-endian (3 or 4), ascending within each bucket. */
#ifndef VIGIL_MIH_H
#define VIGIL_MIH_H

#include "vigil.h"

#include <string.h>

#define VIGIL__MIH_BUCKETS 65536u

/* Key of table t: 16-bit word t of the code (for PDQ, DCT row t: spec section 10). */
static inline uint32_t vigil__mih_key(const vigil_pdq *c, int t)
{
    return (uint32_t)(c->w[t >> 2] >> ((t & 3) * 16)) & 0xffffu;
}

/* Slot i of a table. Reads 4 bytes, so a 3-byte slot array carries 1 byte of padding. */
static inline uint32_t vigil__mih_slot(const uint8_t *slots, uint64_t i, int width)
{
    uint32_t v;
    memcpy(&v, slots + i * (uint64_t)width, 4);
    return width == 4 ? v : v & 0xffffffu;
}

/* Builds table t of codes[0..n) (n < 2^32; n < 2^24 for width 3) by a counting sort: all of off,
 * and n * width bytes of slots. 0, or -1 when out of memory. Reentrant: tables build in parallel. */
int vigil__mih_build(const vigil_pdq *codes, uint64_t n, int t, uint32_t *off, uint8_t *slots, int width);

/* What vigil__mih_check found wrong. */
enum {
    VIGIL__MIH_OK = 0,
    VIGIL__MIH_UNCOVERED, /* off[0] != 0 or off[BUCKETS] != n */
    VIGIL__MIH_DISORDER,  /* off[k] > off[k+1]; *where = k */
    VIGIL__MIH_RANGE,     /* a slot >= n; *where = its position */
    VIGIL__MIH_MISFILED   /* a code in a bucket other than its key's; *where = its position */
};
/* Checks table t over n codes, so that a crafted file cannot send a lookup out of bounds: the
 * offsets always; every slot's range when slots is non-NULL; and, when codes is non-NULL, that
 * each code sits in its own key's bucket (slots NULL: slot i is code i, the storage order). One
 * pass over the slots in order, the first fault reported. */
int vigil__mih_check(const uint32_t *off, uint64_t n, int t, const uint8_t *slots, int width, const vigil_pdq *codes,
                     uint64_t *where);

#endif
