/* rooms_impl.h - the room index's private interface: the handle, shared by the files that build it
 * (rooms.c), store it (rooms_file.c), file its descriptors in tables (rooms_tables.c) and query it
 * (rooms_query.c). */
#ifndef VIGIL_ROOMS_IMPL_H
#define VIGIL_ROOMS_IMPL_H

#include "buf.h"
#include "internal.h"
#include "mih.h"
#include "sections.h"

#include <math.h>

#define VIGIL__ROOM_TABLES 8         /* multi-index hashing: 8 tables of 16-bit keys */
#define VIGIL__ROOM_BUCKETS VIGIL__MIH_BUCKETS

/* One reference image: its features are first .. first + n - 1 (first split in two 32-bit
 * halves); name and labels are offsets into the string table. The file's layout (32 bytes). */
typedef struct vigil__room_img { uint32_t first_lo, first_hi, n, width, height, name, labels, reserved; } vigil__room_img;
_Static_assert(sizeof(vigil__room_img) == 32, "image record is 32 bytes");

struct vigil_rooms {
    vigil__mapped mp;           /* the file's bytes, when opened from a file and not yet added to */
    uint64_t nimg, nfeat, strings_size;
    const vigil__room_img *img;
    const char *strings;
    const vigil_pdq *desc;
    const float *xy;            /* 2 per feature, reference image pixels */
    const uint8_t *shape;       /* 2 per feature: orientation in 1/256 turns, log2 scale in 1/8 octaves */
    const uint32_t *offsets;    /* TABLES x (BUCKETS + 1) */
    const uint32_t *ids;        /* TABLES x nfeat */
    uint32_t *owner;            /* feature -> image, derived on open/prepare */
    int prepared;
    int owned;
    vigil__buf bimg, bstr, bdesc, bxy, bshape, boff, bids;
};

/* Table t's key: bits 16t..16t+15, i.e. the first 128 comparisons, which are the most balanced
 * ones (the learned pattern is ordered by balance: core/feature_pattern.h). */
static inline uint32_t vigil__room_key(const vigil_pdq *d, int t) { return vigil__mih_key(d, t); }

static inline uint64_t vigil__room_first(const vigil__room_img *r) { return r->first_lo | (uint64_t)r->first_hi << 32; }

/* A keypoint's orientation and scale as the index stores them (shape), so that the query's are
 * quantised alike. */
static inline uint8_t vigil__room_angle_byte(float a)
{
    return (uint8_t)((long)lroundf(a * (256 / 6.2831853f)) & 255);
}

static inline uint8_t vigil__room_scale_byte(float s)
{
    long v = lroundf(log2f(s > 1e-3f ? s : 1e-3f) * 8) + 64;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* rooms.c: copies what r reads from elsewhere (a file's bytes) into its own buffers, as its first
 * add does (for kfeat.c, whose set points into an index's file). */
vigil_result vigil__rooms_own(vigil_rooms *r, vigil_error *err);
/* rooms.c: owner[] (feature -> image) from the image records. */
vigil_result vigil__rooms_derive_owner(vigil_rooms *r, vigil_error *err);

/* rooms_tables.c: the multi-index tables, kept apart so that one build and one check can serve
 * both this and the PDQ index. build: per table, a counting sort of the features by key:
 * off (TABLES x (BUCKETS + 1), zeroed by the caller) and ids (TABLES x n); 0 or -1 (out of
 * memory). check: NULL when off and ids are consistent with n features, else why not. */
int vigil__rooms_tables_build(const vigil_pdq *desc, uint64_t n, uint32_t *off, uint32_t *ids);
const char *vigil__rooms_tables_check(const uint32_t *off, const uint32_t *ids, uint64_t n);

#endif
