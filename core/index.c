/* index.c - the reference index: building the multi-index tables, incremental add/remove, compact,
 * and exact radius / top-k search.
 *
 * Multi-index hashing (Norouzi, Punjani, Fleet 2012) with the 16 DCT rows of PDQ as substrings:
 * if d(q, x) <= r then some row differs in at most floor(r / 16) bits (16 rows with 2 or more
 * differing bits would make 32 > 31). So for r <= 31 the candidates are the entries whose row t
 * is within 1 bit of the query's row t, for some t: 16 tables x 17 buckets. Each candidate is then
 * checked with the full 256-bit distance by the batch kernels, so the answer is exact.
 *
 * Table 0 is the storage order itself (entries sorted by row 0), so its buckets are contiguous
 * runs of hashes and cost no slot array; tables 1..15 store 3-byte slots (4 past 2^24 entries).
 *
 * The scan does the same job by streaming every hash through the kernel in blocks of 256 against
 * up to 256 query hashes, so each block is read from memory once per 256 queries. The search
 * picks the cheaper of the two from the expected candidate count. */
#include "hamming.h"
#include "index_impl.h"
#include "kfeat.h"
#include "options.h"

#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The file an index was opened from: its bytes (the base arrays point into them) and identity. */
static void release_file(vigil_index *x)
{
    free(x->map);
    x->map = NULL;
    x->map_size = 0;
    vigil__source_close(&x->src);
}

vigil_result vigil_index_new(const char *set_name, vigil_index **out, vigil_error *err)
{
    if (!out) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    if (!set_name) set_name = "";
    if (strlen(set_name) >= 64) return vigil__fail(err, VIGIL_E_INVALID, "set name longer than 63 bytes");
    vigil_index *x = calloc(1, sizeof *x);
    if (!x) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    snprintf(x->set_name, sizeof x->set_name, "%s", set_name);
    x->id_width = 3;
    /* offset 0 of every string area means "no string": keep a NUL there */
    if (vigil__buf_put(&x->dstrings, "", 1)) { free(x); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); }
    *out = x;
    return VIGIL_OK;
}

static void free_base(vigil_index *x)
{
    for (int i = 0; i < 6; i++) { free(x->owned[i]); x->owned[i] = NULL; }
    x->hashes = NULL; x->quality = NULL; x->meta = NULL; x->strings = NULL; x->offsets = NULL; x->ids = NULL;
    x->nbase = 0;
    x->strings_size = 0;
}

void vigil_index_free(vigil_index *x)
{
    if (!x) return;
    free_base(x);
    release_file(x);
    free(x->dhashes.p); free(x->dquality.p); free(x->dmeta.p); free(x->dstrings.p); free(x->tomb.p);
    free(x->xrec.p); free(x->xstrings.p); free(x->xtab);
    vigil__kfeat_free(x->kfeat);
    free(x);
}

/* Entries' ids and labels: offset 0 is "none" (every string area starts with a NUL). */
static uint32_t put_string(buf *b, const char *s)
{
    return vigil__strtab_put(b, s);
}

vigil_result vigil_index_add(vigil_index *x, const vigil_pdq *hash, int quality, const char *id, const char *labels,
                             vigil_error *err)
{
    if (!x || !hash) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    if (x->nbase + x->ndelta >= UINT32_MAX - 1) return vigil__fail(err, VIGIL_E_TOO_LARGE, "index is full (2^32 entries)");
    if (quality < 0) quality = 100; /* lists without quality: trusted as given */
    if (quality > 100) quality = 100;
    uint32_t m[2] = {put_string(&x->dstrings, id), put_string(&x->dstrings, labels)};
    uint8_t q = (uint8_t)quality;
    if (m[0] == UINT32_MAX || m[1] == UINT32_MAX || vigil__buf_put(&x->dhashes, hash, sizeof *hash) ||
        vigil__buf_put(&x->dquality, &q, 1) || vigil__buf_put(&x->dmeta, m, sizeof m))
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory adding an entry");
    x->ndelta++;
    uint64_t total = x->nbase + x->ndelta;
    if (x->tomb.n < (total + 7) / 8 && vigil__buf_put(&x->tomb, NULL, (total + 7) / 8 - x->tomb.n))
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    return VIGIL_OK;
}

static const char *entry_string(const vigil_index *x, uint64_t e, int which)
{
    if (e < x->nbase) {
        uint32_t off = x->meta[2 * e + which];
        return off ? x->strings + off : NULL;
    }
    uint32_t off = ((const uint32_t *)x->dmeta.p)[2 * (e - x->nbase) + which];
    return off ? (const char *)x->dstrings.p + off : NULL;
}

vigil_result vigil_index_entry(const vigil_index *x, uint64_t e, vigil_pdq *hash, int *quality, const char **id,
                               const char **labels)
{
    if (!x || e >= x->nbase + x->ndelta || is_removed(x, e)) return VIGIL_E_NOT_FOUND;
    if (hash) *hash = e < x->nbase ? x->hashes[e] : ((const vigil_pdq *)x->dhashes.p)[e - x->nbase];
    if (quality) *quality = e < x->nbase ? x->quality[e] : x->dquality.p[e - x->nbase];
    if (id) *id = entry_string(x, e, 0);
    if (labels) *labels = entry_string(x, e, 1);
    return VIGIL_OK;
}

vigil_result vigil_index_remove(vigil_index *x, const char *id, size_t *removed, vigil_error *err)
{
    if (!x || !id) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    uint64_t total = x->nbase + x->ndelta;
    if (x->tomb.n < (total + 7) / 8 && vigil__buf_put(&x->tomb, NULL, (total + 7) / 8 - x->tomb.n))
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    size_t n = 0;
    for (uint64_t e = 0; e < total; e++) {
        if (is_removed(x, e)) continue;
        const char *s = entry_string(x, e, 0);
        if (s && !strcmp(s, id)) { x->tomb.p[e / 8] |= (uint8_t)(1u << (e % 8)); n++; }
    }
    x->nremoved += n;
    n += vigil__digests_remove(x, id);
    n += vigil__kfeat_remove(x->kfeat, id);
    if (removed) *removed = n;
    return VIGIL_OK;
}

void vigil_index_get_stats(const vigil_index *x, vigil_index_stats *st)
{
    memset(st, 0, sizeof *st);
    st->indexed = x->nbase;
    st->unsorted = x->ndelta;
    st->removed = x->nremoved;
    st->entries = x->nbase + x->ndelta - x->nremoved;
    st->set_name = x->set_name;
    st->bytes = x->map ? x->map_size
                       : x->nbase * (sizeof(vigil_pdq) + 1 + 8 + (x->has_mih ? (MIH_TABLES - 1) * (uint64_t)x->id_width : 0)) +
                             x->strings_size + (x->has_mih ? MIH_TABLES * (MIH_BUCKETS + 1) * 4ull : 0);
    st->bytes += x->dhashes.n + x->dquality.n + x->dmeta.n + x->dstrings.n + x->tomb.n;
    st->digests = x->nxlive;
    st->digest_records = x->xrec.n / sizeof(vigil__digest_rec);
    st->bytes += x->xrec.n + x->xstrings.n + x->xtab_cap * sizeof *x->xtab;
}

/* Takes ownership of the arrays, sorts them by table 0's key and builds tables 1..15. */
static vigil_result set_base(vigil_index *x, vigil_pdq *h, uint8_t *q, uint32_t *m, char *strings,
                             uint64_t strings_size, uint64_t n, vigil_error *err)
{
    int idw = n < (1u << 24) ? 3 : 4, mih = n >= MIH_MIN_ENTRIES;
    uint32_t *off = malloc(MIH_TABLES * (MIH_BUCKETS + 1ull) * sizeof *off);
    uint32_t *perm = malloc((n ? n : 1) * sizeof *perm);
    uint8_t *ids = malloc((mih ? (MIH_TABLES - 1) * n * idw : 0) + 4);
    vigil_pdq *h2 = malloc((n ? n : 1) * sizeof *h2);
    uint8_t *q2 = malloc(n ? n : 1);
    uint32_t *m2 = malloc((n ? n : 1) * 2 * sizeof *m2);
    /* the storage order: the entries sorted by row 0 (table 0, whose slots are then 0..n-1) */
    if (!off || !perm || !ids || !h2 || !q2 || !m2 || vigil__mih_build(h, n, 0, off, (uint8_t *)perm, 4)) {
        free(off); free(perm); free(ids); free(h2); free(q2); free(m2); free(h); free(q); free(m); free(strings);
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory building the index");
    }
    for (uint64_t s = 0; s < n; s++) {
        h2[s] = h[perm[s]];
        q2[s] = q[perm[s]];
        m2[2 * s] = m[2 * (uint64_t)perm[s]];
        m2[2 * s + 1] = m[2 * (uint64_t)perm[s] + 1];
    }
    free(h); free(q); free(m); free(perm);
    /* tables 1..15 over the storage order */
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1)
    for (int t = 1; t < (mih ? MIH_TABLES : 1); t++)
        if (vigil__mih_build(h2, n, t, off + (uint64_t)t * (MIH_BUCKETS + 1), ids + (uint64_t)(t - 1) * n * idw, idw))
            failed = 1;
    if (failed) {
        free(off); free(ids); free(h2); free(q2); free(m2); free(strings);
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory building the index");
    }
    memset(ids + (mih ? (MIH_TABLES - 1) * n * idw : 0), 0, 4);
    if (!mih) { free(off); off = NULL; }
    free_base(x);
    x->owned[0] = h2; x->owned[1] = q2; x->owned[2] = m2; x->owned[3] = strings; x->owned[4] = off; x->owned[5] = ids;
    x->hashes = h2; x->quality = q2; x->meta = m2; x->strings = strings; x->strings_size = strings_size;
    x->offsets = off; x->ids = ids; x->id_width = idw; x->nbase = n; x->has_mih = mih;
    return VIGIL_OK;
}

vigil_result vigil_index_compact(vigil_index *x, vigil_error *err)
{
    if (!x) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    vigil_result kr = vigil__kfeat_own(x->kfeat, err); /* it may point into the file's bytes, released below */
    if (kr) return kr;
    uint64_t total = x->nbase + x->ndelta, live = total - x->nremoved;
    vigil_pdq *h = malloc((live ? live : 1) * sizeof *h);
    uint8_t *q = malloc(live ? live : 1);
    uint32_t *m = malloc((live ? live : 1) * 2 * sizeof *m);
    buf str = {0};
    if (!h || !q || !m || vigil__buf_put(&str, "", 1)) {
        free(h); free(q); free(m); free(str.p);
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory compacting the index");
    }
    uint64_t k = 0;
    for (uint64_t e = 0; e < total; e++) {
        if (is_removed(x, e)) continue;
        vigil_index_entry(x, e, &h[k], NULL, NULL, NULL);
        q[k] = e < x->nbase ? x->quality[e] : x->dquality.p[e - x->nbase];
        m[2 * k] = put_string(&str, entry_string(x, e, 0));
        m[2 * k + 1] = put_string(&str, entry_string(x, e, 1));
        if (m[2 * k] == UINT32_MAX || m[2 * k + 1] == UINT32_MAX) {
            free(h); free(q); free(m); free(str.p);
            return vigil__fail(err, VIGIL_E_NOMEM, "out of memory compacting the index");
        }
        k++;
    }
    vigil_result r = set_base(x, h, q, m, (char *)str.p, str.n, live, err);
    if (r) return r;
    release_file(x);
    x->ndelta = 0;
    x->dhashes.n = x->dquality.n = x->dmeta.n = 0;
    x->dstrings.n = 1;
    x->nremoved = 0;
    x->tomb.n = 0;
    if (vigil__buf_put(&x->tomb, NULL, (live + 7) / 8)) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    return VIGIL_OK;
}

vigil_result vigil_index_verify(const vigil_index *x, vigil_error *err)
{
    if (!x) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    for (int t = 0; t < (x->has_mih ? MIH_TABLES : 0); t++) {
        uint64_t at = 0;
        switch (vigil__mih_check(x->offsets + (uint64_t)t * (MIH_BUCKETS + 1), x->nbase, t, t ? mih_slots(x, t) : NULL,
                                 x->id_width, x->hashes, &at)) {
        case VIGIL__MIH_OK: break;
        case VIGIL__MIH_UNCOVERED:
            return vigil__fail(err, VIGIL_E_CORRUPT, "table %d does not cover the %llu entries", t, (unsigned long long)x->nbase);
        case VIGIL__MIH_DISORDER: return vigil__fail(err, VIGIL_E_CORRUPT, "table %d: bucket %u out of order", t, (unsigned)at);
        default: return vigil__fail(err, VIGIL_E_CORRUPT, "table %d: entry %u is not in its bucket", t, (unsigned)at);
        }
    }
    for (uint64_t e = 0; e < x->nbase; e++)
        if (x->quality[e] > 100) return vigil__fail(err, VIGIL_E_CORRUPT, "entry %llu: quality %u", (unsigned long long)e, x->quality[e]);
    return VIGIL_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Search */

void vigil_index_search_options_init(vigil_index_search_options *o)
{
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->radius = 31;
}

/* The caller's options (NULL: defaults) as this build's struct: take_search_options (options.h). */
#define SEARCH_OPTION_FIELDS(X) X(radius) X(top_k) X(threads) X(method)
VIGIL__OPTIONS_READER(take_search_options, vigil_index_search_options, vigil_index_search_options_init,
                      SEARCH_OPTION_FIELDS, method)

typedef struct hitv { vigil_index_match *p; size_t n, cap; } hitv;

static int hitv_push(hitv *v, uint32_t query, uint64_t entry, int dist, uint32_t transform)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        vigil_index_match *p = realloc(v->p, cap * sizeof *p);
        if (!p) return -1;
        v->p = p;
        v->cap = cap;
    }
    v->p[v->n++] = (vigil_index_match){query, transform, entry, dist};
    return 0;
}

static int cmp_entry_dist(const void *a, const void *b)
{
    const vigil_index_match *x = a, *y = b;
    if (x->query != y->query) return x->query < y->query ? -1 : 1;
    if (x->entry != y->entry) return x->entry < y->entry ? -1 : 1;
    if (x->distance != y->distance) return x->distance - y->distance;
    return (int)x->transform - (int)y->transform;
}

static int cmp_dist(const void *a, const void *b)
{
    const vigil_index_match *x = a, *y = b;
    if (x->query != y->query) return x->query < y->query ? -1 : 1;
    if (x->distance != y->distance) return x->distance - y->distance;
    return x->entry < y->entry ? -1 : x->entry > y->entry;
}

/* One entry per (query, entry) at its best variant; sorted by query, distance, entry; top-k. */
static void finish(hitv *v, int top_k)
{
    if (!v->n) return;
    qsort(v->p, v->n, sizeof *v->p, cmp_entry_dist);
    size_t w = 0;
    for (size_t i = 0; i < v->n; i++)
        if (!w || v->p[w - 1].query != v->p[i].query || v->p[w - 1].entry != v->p[i].entry) v->p[w++] = v->p[i];
    v->n = w;
    qsort(v->p, v->n, sizeof *v->p, cmp_dist);
    if (top_k > 0) {
        w = 0;
        for (size_t i = 0, run = 0; i < v->n; i++) {
            run = (i && v->p[i].query == v->p[i - 1].query) ? run + 1 : 0;
            if ((int)run < top_k) v->p[w++] = v->p[i];
        }
        v->n = w;
    }
}

/* Masks of 16 bits with at most r bits set, r <= 3 (1 + 16 + 120 + 560), in order of bit count,
 * made once, not per search, where recomputing them cost about a tenth of a lookup. */
static uint16_t mask_table[697];
static pthread_once_t mask_once = PTHREAD_ONCE_INIT;
static void masks_init(void)
{
    int n = 0;
    for (int bits = 0; bits <= 3; bits++)
        for (uint32_t m = 0; m < MIH_BUCKETS; m++)
            if (__builtin_popcount(m) == bits) mask_table[n++] = (uint16_t)m;
}

static const int probes_for[4] = {1, 17, 137, 697};

/* Expected cost of answering `groups` query groups by the tables, in units of one sequential
 * hash compare. A random candidate read costs about 6 (bench/results/match.md). */
static int use_index(const vigil_index *x, int radius, int variants)
{
    int rt = radius / MIH_TABLES;
    if (rt > 3 || !x->has_mih) return 0;
    double probes = (double)MIH_TABLES * probes_for[rt] * variants;
    double cand = probes * (double)x->nbase / MIH_BUCKETS;
    double index_cost = probes * 4 + cand * 6;
    double scan_cost = (double)x->nbase * variants;
    return index_cost < scan_cost;
}

typedef struct sctx {
    const vigil_index *x;
    const vigil__kernels *k;
    const vigil_pdq *queries;
    int variants, radius, top_k;
} sctx;

/* With top-k, a thread's hits are cut back to the k * variants nearest per query whenever they
 * pass a bound, so a scan at a large radius holds O(queries * k) matches, not O(queries * N). */
static void prune(hitv *v, const sctx *c, size_t nq)
{
    size_t keep = (size_t)c->top_k * (size_t)c->variants;
    if (!c->top_k || v->n < 2 * nq * keep + 65536) return;
    qsort(v->p, v->n, sizeof *v->p, cmp_dist);
    size_t w = 0;
    for (size_t i = 0, run = 0; i < v->n; i++) {
        run = (i && v->p[i].query == v->p[i - 1].query) ? run + 1 : 0;
        if (run < keep) v->p[w++] = v->p[i];
    }
    v->n = w;
}

/* Hits of `nq` query hashes (starting at query hash qbase) against refs[0..n): pushed with the
 * entry number base_entry + j. Skips tombstones. */
static int scan_block(const sctx *c, const vigil_pdq *q, size_t nq, size_t qbase, const vigil_pdq *refs,
                      const uint32_t *slots, size_t n, uint64_t base_entry, vigil__hit *hits, hitv *out)
{
    size_t nh = c->k->radius(q, nq, refs, slots, n, c->radius, hits);
    for (size_t h = 0; h < nh; h++) {
        uint64_t e = slots ? slots[hits[h].ref] : base_entry + hits[h].ref;
        if (is_removed(c->x, e)) continue;
        size_t qh = qbase + hits[h].query;
        if (hitv_push(out, (uint32_t)(qh / c->variants), e, hits[h].dist, (uint32_t)(qh % c->variants))) return -1;
    }
    return 0;
}

/* Appends every thread's matches to `all` (one copy per thread) and frees them. */
static int gather(hitv *per, int threads, hitv *all, int failed)
{
    size_t total = all->n;
    for (int t = 0; t < threads; t++) total += per[t].n;
    if (!failed && total > all->cap) {
        vigil_index_match *p = realloc(all->p, (total ? total : 1) * sizeof *p);
        if (p) { all->p = p; all->cap = total; }
        else failed = 1;
    }
    for (int t = 0; t < threads; t++) {
        if (!failed && per[t].n) {
            memcpy(all->p + all->n, per[t].p, per[t].n * sizeof *per[t].p);
            all->n += per[t].n;
        }
        free(per[t].p);
    }
    free(per);
    return failed ? -1 : 0;
}

#define SCAN_BLOCK 256
#define SCAN_QUERIES 256 /* query hashes per kernel call; a multiple of 8 keeps groups together */
#define CAND_CHUNK 4096

static int search_scan(const sctx *c, size_t nq, int threads, hitv *all)
{
    const vigil_index *x = c->x;
    size_t nh = nq * c->variants, nblocks = (x->nbase + SCAN_BLOCK - 1) / SCAN_BLOCK;
    size_t ndb = (x->ndelta + SCAN_BLOCK - 1) / SCAN_BLOCK;
    int failed = 0;
    hitv *per = calloc((size_t)threads, sizeof *per);
    if (!per) return -1;
#pragma omp parallel num_threads(threads)
    {
        hitv *mine = &per[omp_get_thread_num()];
        vigil__hit *hits = malloc(SCAN_BLOCK * SCAN_QUERIES * sizeof *hits);
        if (!hits) failed = 1;
#pragma omp for schedule(dynamic, 16)
        for (size_t b = 0; b < nblocks + ndb; b++) {
            if (!hits) continue;
            int delta = b >= nblocks;
            uint64_t start = (delta ? b - nblocks : b) * SCAN_BLOCK;
            uint64_t end = delta ? x->ndelta : x->nbase;
            size_t n = end - start < SCAN_BLOCK ? end - start : SCAN_BLOCK;
            const vigil_pdq *refs = delta ? (const vigil_pdq *)x->dhashes.p + start : x->hashes + start;
            for (size_t q0 = 0; q0 < nh; q0 += SCAN_QUERIES) {
                size_t m = nh - q0 < SCAN_QUERIES ? nh - q0 : SCAN_QUERIES;
                if (scan_block(c, c->queries + q0, m, q0, refs, NULL, n, (delta ? x->nbase : 0) + start, hits, mine))
                    failed = 1;
            }
            prune(mine, c, nq);
        }
        free(hits);
    }
    return gather(per, threads, all, failed);
}

static int search_index(const sctx *c, size_t nq, int threads, hitv *all)
{
    const vigil_index *x = c->x;
    const int rt = c->radius / MIH_TABLES;
    pthread_once(&mask_once, masks_init);
    const uint16_t *masks = mask_table;
    const int nmask = probes_for[rt];
    int failed = 0;
    hitv *per = calloc((size_t)threads, sizeof *per);
    if (!per) return -1;
#pragma omp parallel num_threads(threads)
    {
        hitv *mine = &per[omp_get_thread_num()];
        vigil__hit *hits = malloc((size_t)CAND_CHUNK * 8 * sizeof *hits);
        buf cand = {0};
        if (!hits) failed = 1;
#pragma omp for schedule(dynamic, 1)
        for (size_t g = 0; g < nq; g++) {
            if (!hits || failed) continue;
            const vigil_pdq *q = c->queries + g * c->variants;
            /* per variant: its candidates from every table, each checked against that variant only
             * (by pigeonhole a variant's matches are among its own candidates); checking every
             * candidate against all 8 cost 8x the compares for nothing */
            for (int v = 0; v < c->variants && !failed; v++) {
                cand.n = 0;
                for (int t = 0; t < MIH_TABLES; t++) {
                    const uint32_t *o = x->offsets + (uint64_t)t * (MIH_BUCKETS + 1);
                    uint32_t key = mih_key(&q[v], t);
                    for (int p = 0; p < nmask; p++) {
                        uint32_t k = key ^ masks[p], lo = o[k], hi = o[k + 1];
                        if (lo == hi) continue;
                        if (vigil__buf_put(&cand, NULL, (size_t)(hi - lo) * 4)) { failed = 1; break; }
                        uint32_t *dst = (uint32_t *)(cand.p + cand.n) - (hi - lo);
                        if (t == 0) for (uint32_t i = lo; i < hi; i++) *dst++ = i;
                        else for (uint32_t i = lo; i < hi; i++) *dst++ = mih_slot(x, t, i);
                    }
                }
                const uint32_t *slots = (const uint32_t *)cand.p;
                size_t ncand = cand.n / 4;
                for (size_t s = 0; s < ncand && !failed; s += CAND_CHUNK) {
                    size_t n = ncand - s < CAND_CHUNK ? ncand - s : CAND_CHUNK;
                    if (scan_block(c, &q[v], 1, g * c->variants + v, x->hashes, slots + s, n, 0, hits, mine)) failed = 1;
                }
            }
            /* the unsorted segment is scanned */
            for (uint64_t s = 0; s < x->ndelta && !failed; s += CAND_CHUNK) {
                size_t n = x->ndelta - s < CAND_CHUNK ? x->ndelta - s : CAND_CHUNK;
                if (scan_block(c, q, (size_t)c->variants, g * c->variants, (const vigil_pdq *)x->dhashes.p + s, NULL, n,
                               x->nbase + s, hits, mine))
                    failed = 1;
            }
        }
        free(hits);
        free(cand.p);
    }
    return gather(per, threads, all, failed);
}

vigil_result vigil_index_search(const vigil_index *x, const vigil_pdq *queries, size_t nq, int variants,
                                const vigil_index_search_options *opt, vigil_index_match **matches, size_t *nmatches, vigil_error *err)
{
    vigil_index_search_options def;
    vigil_result ro = take_search_options(opt, &def, err);
    if (ro) return ro;
    opt = &def;
    if (!x || (!queries && nq) || !matches || !nmatches || (variants != 1 && variants != 8))
        return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    if (opt->radius < 0 || opt->radius > 256) return vigil__fail(err, VIGIL_E_INVALID, "radius %d is not in 0..256", opt->radius);
    if (nq > UINT32_MAX) return vigil__fail(err, VIGIL_E_INVALID, "too many queries");
    *matches = NULL;
    *nmatches = 0;
    sctx c = {x, vigil__kernels_best(), queries, variants, opt->radius, opt->top_k > 0 ? opt->top_k : 0};
    int threads = opt->threads > 0 ? opt->threads : omp_get_max_threads();
    int index = opt->method == VIGIL_SEARCH_INDEX ? x->has_mih && opt->radius / MIH_TABLES <= 3
              : opt->method == VIGIL_SEARCH_SCAN  ? 0
                                                  : use_index(x, opt->radius, variants);
    hitv all = {0};
    int r = index ? search_index(&c, nq, threads, &all) : search_scan(&c, nq, threads, &all);
    if (r) { free(all.p); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory during search"); }
    finish(&all, opt->top_k);
    *matches = all.p;
    *nmatches = all.n;
    return VIGIL_OK;
}
