/* index_impl.h - the in-memory layout of an index, shared by index.c (build, search),
 * index_file.c (save, open: builds on index.c) and index_digests.c (the digest entries: index.c
 * and index_file.c use it, it uses neither). */
#ifndef VIGIL_INDEX_IMPL_H
#define VIGIL_INDEX_IMPL_H

#include "buf.h"
#include "internal.h"
#include "mih.h"
#include "sections.h"

#include <stdio.h>

#define MIH_TABLES 16
#define MIH_BUCKETS VIGIL__MIH_BUCKETS
/* Below this many entries a scan costs microseconds and the 4 MiB of bucket offsets is not worth
 * it: the index is a plain array. */
#define MIH_MIN_ENTRIES 32768u

typedef vigil__buf buf;

/* Key of table t: DCT row t of the hash, i.e. 16-bit word t (spec section 10). */
static inline uint32_t mih_key(const vigil_pdq *h, int t)
{
    return vigil__mih_key(h, t);
}

struct vigil_index {
    char set_name[64];
    /* Multi-indexed part ("base"), in order of table 0's key. Owned or inside `map`. */
    uint64_t nbase;
    const vigil_pdq *hashes;
    const uint8_t *quality;
    const uint32_t *meta;     /* 2 per entry: offset of id, offset of labels in strings (0 = none) */
    const char *strings;
    uint64_t strings_size;
    const uint32_t *offsets;  /* MIH_TABLES x (MIH_BUCKETS + 1) */
    const uint8_t *ids;       /* tables 1..15: nbase slots each, id_width bytes per slot */
    int id_width;             /* 3 or 4 */
    int has_mih;              /* tables built (nbase >= MIH_MIN_ENTRIES) */
    /* Added since the last compact: scanned, owned. Strings in dstrings. */
    uint64_t ndelta;
    buf dhashes, dquality, dmeta, dstrings;
    /* Tombstones over nbase + ndelta entries, owned. */
    buf tomb;
    uint64_t nremoved;
    /* Content-digest entries (MD5 and/or SHA-1, no PDQ; index_digests.c): owned. */
    buf xrec, xstrings;
    uint64_t nxlive;
    uint32_t *xtab;           /* open addressing: (record + 1) << 1 | kind; 0 = empty */
    size_t xtab_cap;
    /* Ownership: the file's bytes as read at open (sections.c), and the file they came from */
    void *map;
    size_t map_size;
    vigil__source src;
    void *owned[6];
    /* Local features of known images (kfeat.c), NULL when none: the optional FEATURES section */
    struct vigil__kfeat *kfeat;
};

/* Table t's slots (t >= 1; table 0 is the storage order). The id array carries 4 bytes of
 * padding, for vigil__mih_slot's 4-byte reads. */
static inline const uint8_t *mih_slots(const vigil_index *x, int t)
{
    return x->ids + (uint64_t)(t - 1) * x->nbase * (uint64_t)x->id_width;
}

static inline uint32_t mih_slot(const vigil_index *x, int t, uint64_t i)
{
    return vigil__mih_slot(mih_slots(x, t), i, x->id_width);
}

static inline int is_removed(const vigil_index *x, uint64_t e)
{
    return e / 8 < x->tomb.n && (x->tomb.p[e / 8] >> (e % 8)) & 1;
}

/* index_digests.c: one content-digest entry as stored (48 bytes, in the file too). have = 0 marks
 * a removed one. */
typedef struct vigil__digest_rec {
    uint8_t md5[16], sha1[20];
    uint32_t have;            /* VIGIL_DIGEST_MD5 | VIGIL_DIGEST_SHA1 */
    uint32_t id, labels;      /* offsets into xstrings; 0 = none */
} vigil__digest_rec;
/* Rebuilds the lookup table from xrec (after open or removal). */
vigil_result vigil__digests_rehash(vigil_index *x);
size_t vigil__digests_remove(vigil_index *x, const char *id);


#endif
