/* index_file.c - the .vgi file: one header, a section table, and 64-byte-aligned sections, every
 * one with its own XXH3-64 checksum. Little-endian throughout (the canonical byte order of
 * include/vigil.h); a big-endian reader sees the byte-order mark wrong and refuses the file.
 *
 *   offset 0   header   magic "VIGILIDX", version, byte-order mark, section count, file size,
 *                       checksum of header + section table
 *   64         sections table: {type, offset, size, checksum} x count
 *   ...        sections (META, HASHES, QUALITY, META_OFFSETS, STRINGS, MIH_OFFSETS, MIH_IDS,
 *                        DELTA_*, TOMBSTONES, digest entries and their strings)
 *
 * Opening reads the file into memory (sections.c says why) and checks everything before use: sizes against the header and the actual
 * file, every section's bounds and checksum (XXH3 runs at memory speed; open times in bench/results/match.md),
 * and the structure the search relies on (bucket offsets monotonic and complete, slots in range,
 * string offsets inside their area). The multi-index part is then used in place, never rebuilt.
 * The container (header, table, checksums, atomic write) is sections.c's. */
#include "index_impl.h"
#include "kfeat.h"

#include <stdlib.h>
#include <string.h>

#define MAGIC "VIGILIDX"
#define VERSION 1

enum { S_META = 1, S_HASHES, S_QUALITY, S_ENTRY_META, S_STRINGS, S_MIH_OFFSETS, S_MIH_IDS,
       S_DHASHES, S_DQUALITY, S_DMETA, S_DSTRINGS, S_TOMB, S_XRECS, S_XSTRINGS, S_FEATURES, S_COUNT };
/* Sections a file may lack (written by an earlier 0.1 build, or an index without features): read
 * as empty. FEATURES is written only when there are features, so such a file is byte for byte what
 * an earlier build wrote. */
#define OPTIONAL_SECTION(t) ((t) == S_XRECS || (t) == S_XSTRINGS || (t) == S_FEATURES)

typedef struct meta {
    char set_name[64];
    uint64_t nbase, ndelta, nremoved;
    uint32_t id_width, tables;
    uint64_t strings_size, dstrings_size;
} meta;

vigil_source_state vigil_index_source_state(const vigil_index *x, vigil_error *why)
{
    return x ? vigil__source_state(&x->src, why) : VIGIL_SOURCE_SAME;
}

vigil_result vigil_index_content_id(const vigil_index *x, char out[33])
{
    return x ? vigil__source_content_id(&x->src, out) : VIGIL_E_INVALID;
}

/* ------------------------------------------------------------------------------------------------
 * Save */

vigil_result vigil_index_save(const vigil_index *x, const char *path, vigil_error *err)
{
    if (!x || !path) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    meta m = {0};
    memcpy(m.set_name, x->set_name, sizeof m.set_name);
    m.nbase = x->nbase;
    m.ndelta = x->ndelta;
    m.nremoved = x->nremoved;
    m.id_width = (uint32_t)x->id_width;
    m.tables = x->has_mih ? MIH_TABLES : 0;
    m.strings_size = x->strings_size;
    m.dstrings_size = x->dstrings.n;
    uint64_t total = x->nbase + x->ndelta;
    vigil__part parts[] = {
        {S_META, &m, sizeof m},
        {S_HASHES, x->hashes, x->nbase * sizeof(vigil_pdq)},
        {S_QUALITY, x->quality, x->nbase},
        {S_ENTRY_META, x->meta, x->nbase * 8},
        {S_STRINGS, x->strings, x->strings_size},
        {S_MIH_OFFSETS, x->offsets, x->has_mih ? MIH_TABLES * (MIH_BUCKETS + 1ull) * 4 : 0},
        {S_MIH_IDS, x->ids, x->has_mih ? (MIH_TABLES - 1) * x->nbase * (uint64_t)x->id_width + 4 : 0},
        {S_DHASHES, x->dhashes.p, x->dhashes.n},
        {S_DQUALITY, x->dquality.p, x->dquality.n},
        {S_DMETA, x->dmeta.p, x->dmeta.n},
        {S_DSTRINGS, x->dstrings.p, x->dstrings.n},
        {S_TOMB, x->tomb.p, (total + 7) / 8 <= x->tomb.n ? (total + 7) / 8 : x->tomb.n},
        {S_XRECS, x->xrec.p, x->xrec.n},
        {S_XSTRINGS, x->xstrings.p, x->xstrings.n},
        {S_FEATURES, NULL, 0},
    };
    uint8_t *feat;
    uint64_t nfeat;
    vigil_result r = vigil__kfeat_serialise(x->kfeat, &feat, &nfeat, err);
    if (r) return r;
    parts[S_FEATURES - 1] = (vigil__part){S_FEATURES, feat, nfeat};
    int nparts = (int)(sizeof parts / sizeof parts[0]) - (feat == NULL);
    r = vigil__sections_write(path, MAGIC, VERSION, parts, nparts, err);
    free(feat);
    return r;
}

/* ------------------------------------------------------------------------------------------------
 * Open */

static vigil_result corrupt(vigil_error *err, const char *what)
{
    return vigil__fail(err, VIGIL_E_CORRUPT, "%s", what);
}

static int copy_into(buf *b, const uint8_t *p, uint64_t n)
{
    b->n = 0;
    return vigil__buf_put(b, p, n);
}

/* Every string offset must point inside its area, which must end with a NUL. */
static int strings_ok(const uint32_t *m, uint64_t n, const char *s, uint64_t size)
{
    if (size == 0) return n == 0;
    if (s[size - 1] != 0) return 0;
    for (uint64_t i = 0; i < 2 * n; i++)
        if (m[i] >= size) return 0;
    return 1;
}

/* vigil__mih_check of table t, in words; NULL when sound. */
static const char *table_problem(const vigil_index *x, int t, const uint8_t *slots, const vigil_pdq *codes)
{
    uint64_t at;
    switch (vigil__mih_check(x->offsets + (uint64_t)t * (MIH_BUCKETS + 1), x->nbase, t, slots, x->id_width, codes, &at)) {
    case VIGIL__MIH_OK: return NULL;
    case VIGIL__MIH_UNCOVERED: return "bucket offsets do not cover the entries";
    case VIGIL__MIH_DISORDER: return "bucket offsets out of order";
    case VIGIL__MIH_RANGE: return "a slot points outside the entries";
    default: return "entries out of order";
    }
}

vigil_result vigil_index_open(const char *path, vigil_index **out_idx, vigil_error *err)
{
    return vigil_index_open_with(path, NULL, out_idx, err);
}

vigil_result vigil_index_open_with(const char *path, const vigil_open_options *opt, vigil_index **out_idx, vigil_error *err)
{
    if (!path || !out_idx) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    *out_idx = NULL;
    vigil__mapped mp;
    vigil_result r = vigil__sections_map(path, MAGIC, VERSION, "index", S_COUNT, opt, &mp, err);
    if (r) return r;
    uint8_t *map = mp.map;
    uint64_t size = mp.size;
    const uint8_t *const *part = mp.part;
    const uint64_t *plen = mp.len;
    for (int t = 1; t < S_COUNT; t++)
        if (!part[t] && !OPTIONAL_SECTION(t)) { r = corrupt(err, "a section is missing"); goto fail; }
    if (plen[S_META] != sizeof(meta)) { r = corrupt(err, "bad META section"); goto fail; }
    meta m;
    memcpy(&m, part[S_META], sizeof m);
    m.set_name[63] = 0;
    uint64_t nb = m.nbase, nd = m.ndelta;
    int mih = m.tables == MIH_TABLES;
    if (nb >= UINT32_MAX || nd >= UINT32_MAX || (m.tables != MIH_TABLES && m.tables != 0) || mih != (nb >= MIH_MIN_ENTRIES) || (m.id_width != 3 && m.id_width != 4) ||
        (nb >= (1u << 24) && m.id_width != 4) || plen[S_HASHES] != nb * 32 || plen[S_QUALITY] != nb ||
        plen[S_ENTRY_META] != nb * 8 || plen[S_STRINGS] != m.strings_size ||
        plen[S_MIH_OFFSETS] != (mih ? MIH_TABLES * (MIH_BUCKETS + 1ull) * 4 : 0) ||
        plen[S_MIH_IDS] != (mih ? (MIH_TABLES - 1) * nb * m.id_width + 4 : 0) || plen[S_DHASHES] != nd * 32 ||
        plen[S_DQUALITY] != nd || plen[S_DMETA] != nd * 8 || plen[S_DSTRINGS] != m.dstrings_size ||
        plen[S_TOMB] > (nb + nd + 7) / 8 || m.nremoved > nb + nd || (uintptr_t)part[S_HASHES] % 8 ||
        plen[S_XRECS] % sizeof(vigil__digest_rec) || plen[S_XRECS] / sizeof(vigil__digest_rec) >= (UINT32_MAX >> 2)) {
        r = corrupt(err, "section sizes do not agree with the entry counts");
        goto fail;
    }
    vigil_index *x;
    if ((r = vigil_index_new(m.set_name, &x, err))) goto fail;
    x->map = map;
    x->map_size = size;
    x->src = mp.src;
    x->nbase = nb;
    x->hashes = (const vigil_pdq *)part[S_HASHES];

    x->quality = part[S_QUALITY];
    x->meta = (const uint32_t *)part[S_ENTRY_META];
    x->strings = (const char *)part[S_STRINGS];
    x->strings_size = m.strings_size;
    x->offsets = mih ? (const uint32_t *)part[S_MIH_OFFSETS] : NULL;
    x->ids = mih ? part[S_MIH_IDS] : NULL;
    x->has_mih = mih;
    x->id_width = (int)m.id_width;
    x->ndelta = nd;
    x->nremoved = m.nremoved;
    if (copy_into(&x->dhashes, part[S_DHASHES], plen[S_DHASHES]) || copy_into(&x->dquality, part[S_DQUALITY], plen[S_DQUALITY]) ||
        copy_into(&x->dmeta, part[S_DMETA], plen[S_DMETA]) || copy_into(&x->dstrings, part[S_DSTRINGS], plen[S_DSTRINGS]) ||
        copy_into(&x->tomb, part[S_TOMB], plen[S_TOMB]) || copy_into(&x->xrec, part[S_XRECS], plen[S_XRECS]) ||
        copy_into(&x->xstrings, part[S_XSTRINGS], plen[S_XSTRINGS]) ||
        (x->tomb.n < (nb + nd + 7) / 8 && vigil__buf_put(&x->tomb, NULL, (nb + nd + 7) / 8 - x->tomb.n))) {
        vigil_index_free(x);
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    }
    /* structure the search relies on, so a crafted file cannot send it out of bounds */
    const char *why = NULL;
    if (!strings_ok(x->meta, nb, x->strings, x->strings_size) ||
        !strings_ok((const uint32_t *)x->dmeta.p, nd, (const char *)x->dstrings.p, x->dstrings.n))
        why = "string offsets out of range";
    /* every table's offsets and slot range, then table 0 (the storage order) fully: one pass;
     * the buckets of tables 1..15 are vigil_index_verify's (16 random reads per entry) */
    for (int t = 0; t < MIH_TABLES && mih && !why; t++)
        why = table_problem(x, t, t ? mih_slots(x, t) : NULL, NULL);
    if (mih && !why) why = table_problem(x, 0, NULL, x->hashes);
    if (!why && x->dstrings.n == 0 && vigil__buf_put(&x->dstrings, "", 1)) why = "out of memory";
    {
        const vigil__digest_rec *xr = (const vigil__digest_rec *)x->xrec.p;
        size_t nx = x->xrec.n / sizeof *xr;
        if (x->xstrings.n && x->xstrings.p[x->xstrings.n - 1] != 0 && !why) why = "digest strings not terminated";
        for (size_t i = 0; i < nx && !why; i++)
            if ((xr[i].have & ~3u) || xr[i].id >= (x->xstrings.n ? x->xstrings.n : 1) ||
                xr[i].labels >= (x->xstrings.n ? x->xstrings.n : 1))
                why = "a digest entry is out of range";
        if (!why && vigil__digests_rehash(x)) why = "out of memory";
    }
    if (!why && part[S_FEATURES]) {
        vigil_result fr = vigil__kfeat_parse(part[S_FEATURES], plen[S_FEATURES], &x->kfeat, err);
        if (fr) { vigil_index_free(x); return fr; }
    }
    uint64_t dead = 0;
    for (size_t i = 0; i < x->tomb.n; i++) dead += (uint64_t)__builtin_popcount(x->tomb.p[i]);
    if (!why && dead != x->nremoved) why = "tombstone count disagrees";
    if (why) {
        vigil_index_free(x);
        return corrupt(err, why);
    }
    *out_idx = x;
    return VIGIL_OK;
fail:
    vigil__sections_unmap(&mp);
    return r;
}
