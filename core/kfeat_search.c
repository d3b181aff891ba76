/* kfeat_search.c - finding the reference a reframed copy of a known image came from, among the
 * features of a known-image set (kfeat.c keeps them in a room index, unprepared).
 *
 * The rooms' search (rooms_query.c) is made for another view of a place: descriptors change a
 * lot, so it files them under short 16-bit keys and measures the distance to every feature in a
 * bucket, a mean of nfeat / 65536 of them per lookup (390 at 100,000 references of 256 features):
 * 1.4 s a query of 2000 features at 100,000 (bench/results/kfeat.md). A reframed photograph keeps
 * many descriptors nearly intact (a crop or a pad moves the pixels, it does not change them), so
 * here the keys are long: table t files each feature under the 24-bit word t of its descriptor
 * (10 tables, bits 0..239), and a query feature's candidates are only the features that share a
 * whole word with it. A match at distance d shares a given word with probability (1 - d/256)^24:
 * 0.38 at d = 10, 0.05 at d = 30; over the 10 words, 0.99 and 0.40. A copy has a hundred or more
 * such matches, so enough survive even when most descriptors moved. 32-bit words (8 tables) were
 * 4x faster but found 29 % of the collages, 92 % of the screenshots and turns of 10 degrees,
 * where 24 finds 62-100 % (make eval, 40 photos: bench/results/kfeat.md). A bucket far above the
 * mean is a featureless pattern shared by many photos: a stop word, skipped.
 *
 * Layout per table: a directory of 2^B bucket offsets over the key's top B bits (B about
 * log2(nfeat / 4), so a mean bucket holds 2 to 4 features), then per feature a slot of its number
 * (4 bytes) and the key's low 16 bits (2 bytes), which a lookup compares before touching the
 * descriptor.
 * So a lookup reads the directory (one cache miss), a few bucket slots (one more), and the
 * descriptors of the few whose check bits agree, asked for together. Memory: 10 x (6 + 4 x 2^B /
 * nfeat) bytes a feature, 70 to 76 (bench/results/kfeat.md), beside the 42 of descriptor,
 * position and shape that the room index holds.
 *
 * Votes: one per query feature for each reference holding one of its candidates within RADIUS
 * bits. The references with the most votes that agree on turn and scale, at most VERIFY per half
 * of a mirrored query, are verified: RANSAC of an affine map kept near a similarity
 * (VIGIL__MODEL_REFRAME, geometry.c), then guided matching under it over every feature of both
 * that is not a stop word, which counts the inliers; and the inliers must span MIN_SPREAD of the
 * reference. */
#include "kfeat_search.h"

#include "geometry.h"
#include "hamming.h"
#include "radix.h"

#include <stdlib.h>
#include <string.h>

#define KEY_BITS 24    /* see above: 32 is faster and finds less */
#define TABLES (256 / KEY_BITS)
#define RADIUS 64      /* a candidate sharing a key but further than this is a chance */
#define VERIFY 8       /* references verified per half of the query */
#define MIN_VOTES 4    /* RANSAC's least */
/* The least area a match's inliers span in the reference (their bounding box, a fraction of the
 * reference's area): a copy shows most of the photo, while the chance maps that pass the count
 * pair one featureless strip with another (bench/results/kfeat.md: a sunset's treeline and a
 * canyon's rim, 0.7-1.7 % of the area, where the true copies span 25-36 %) */
#define MIN_SPREAD 0.03
#define MIN_RANSAC 6   /* RANSAC inliers from which guided matching looks for the rest */
#define STOP_FACTOR 8  /* a bucket over 64 + this many times the mean is a stop word (32: 46 ms a
                          * query at 100,000 instead of 35, the same recall on make eval's 40 photos) */
#define MAX_CORR 4096  /* correspondences kept per query half: the nearest, when there are more */

struct vigil__kfs {
    uint64_t nfeat;
    int bits;                  /* B: the directory is indexed by the key's top B bits */
    int borrowed;              /* the arrays are a file's bytes (vigil__kfs_view), not ours to free */
    uint32_t stop;             /* bucket size from which a key is a stop word */
    const uint32_t *off;       /* TABLES x (2^B + 1) */
    const uint8_t *slot;       /* TABLES x nfeat slots of SLOT bytes: the feature's number, then the key's low 16 bits */
};

/* A slot holds what a lookup reads of one feature in one table, the number and the check bits
 * together: one cache miss where two arrays made two (bench/results/kfeat.md). 6 bytes, packed,
 * little-endian: read with memcpy. */
#define SLOT 6
static inline uint32_t slot_id(const uint8_t *q) { uint32_t v; memcpy(&v, q, 4); return v; }
static inline uint16_t slot_chk(const uint8_t *q) { uint16_t v; memcpy(&v, q + 4, 2); return v; }

/* Table t's key: descriptor bits KEY_BITS t .. KEY_BITS (t + 1) - 1 */
static uint32_t word(const vigil_pdq *d, int t)
{
    unsigned at = (unsigned)t * KEY_BITS, w = at >> 6, b = at & 63;
    uint64_t v = d->w[w] >> b;
    if (b + KEY_BITS > 64 && w < 3) v |= d->w[w + 1] << (64 - b);
    return KEY_BITS == 32 ? (uint32_t)v : (uint32_t)(v & ((1ull << KEY_BITS) - 1));
}

static int dir_bits(uint64_t nfeat)
{
    int b = 8;
    while (b < 26 && b < KEY_BITS && (1ull << b) * 4 < nfeat) b++;
    return b;
}

/* The two arrays, in this order, as built, stored in a file and viewed from it: off, slots */
static uint64_t dir_entries(uint64_t nfeat) { return (uint64_t)TABLES * ((1ull << dir_bits(nfeat)) + 1); }

uint64_t vigil__kfs_file_bytes(uint64_t nfeat)
{
    return dir_entries(nfeat) * 4 + (uint64_t)TABLES * nfeat * SLOT;
}

uint64_t vigil__kfs_bytes_for(uint64_t nfeat) { return vigil__kfs_file_bytes(nfeat) + sizeof(vigil__kfs); }

uint64_t vigil__kfs_bytes(const vigil__kfs *s) { return s ? vigil__kfs_bytes_for(s->nfeat) : 0; }

void vigil__kfs_free(vigil__kfs *s)
{
    if (!s) return;
    if (!s->borrowed) free((void *)s->off); /* one block: off, slots */
    free(s);
}

void vigil__kfs_copy(const vigil__kfs *s, uint8_t *p) { memcpy(p, s->off, vigil__kfs_file_bytes(s->nfeat)); }
uint64_t vigil__kfs_nfeat(const vigil__kfs *s) { return s->nfeat; }
int vigil__kfs_borrowed(const vigil__kfs *s) { return s && s->borrowed; }

static void set_arrays(vigil__kfs *s, const uint8_t *p, uint64_t n)
{
    s->nfeat = n;
    s->bits = dir_bits(n);
    s->stop = 64 + (uint32_t)(STOP_FACTOR * (n >> s->bits));
    s->off = (const uint32_t *)p;
    s->slot = p + dir_entries(n) * 4;
}

void vigil__kfs_fill(const vigil_pdq *desc, uint64_t n, uint8_t *p)
{
    int bits = dir_bits(n), shift = KEY_BITS - bits;
    uint64_t nb = 1ull << bits;
    uint32_t *off0 = (uint32_t *)p;
    uint8_t *slot0 = p + dir_entries(n) * 4;
    memset(off0, 0, dir_entries(n) * 4);
    /* a counting sort by the top bits per table (ascending feature numbers within a bucket); the
     * tables are independent, one a thread */
#pragma omp parallel for schedule(dynamic, 1)
    for (int t = 0; t < TABLES; t++) {
        uint32_t *off = off0 + t * (nb + 1);
        uint8_t *slot = slot0 + (uint64_t)t * n * SLOT;
        for (uint64_t f = 0; f < n; f++) off[(word(&desc[f], t) >> shift) + 1]++;
        for (uint64_t b = 0; b < nb; b++) off[b + 1] += off[b];
        for (uint64_t f = 0; f < n; f++) {
            uint32_t k = word(&desc[f], t), at = off[k >> shift]++;
            const uint32_t id = (uint32_t)f;
            const uint16_t chk = (uint16_t)k;
            memcpy(slot + (uint64_t)at * SLOT, &id, 4);
            memcpy(slot + (uint64_t)at * SLOT + 4, &chk, 2);
        }
        for (uint64_t b = nb; b > 0; b--) off[b] = off[b - 1]; /* back to each bucket's start */
        off[0] = 0;
    }
}

vigil_result vigil__kfs_build(const vigil_rooms *r, vigil__kfs **out, vigil_error *err)
{
    *out = NULL;
    vigil__kfs *s = calloc(1, sizeof *s);
    uint8_t *p = malloc(vigil__kfs_file_bytes(r->nfeat) + 8);
    if (!s || !p) { free(s); free(p); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); }
    vigil__kfs_fill(r->desc, r->nfeat, p);
    set_arrays(s, p, r->nfeat);
    *out = s;
    return VIGIL_OK;
}

vigil_result vigil__kfs_view(const uint8_t *p, uint64_t size, uint64_t nfeat, vigil__kfs **out, const char **why)
{
    *out = NULL;
    *why = NULL;
    if (size != vigil__kfs_file_bytes(nfeat) || (uintptr_t)p % 4) { *why = "search tables of the wrong size"; return VIGIL_E_CORRUPT; }
    vigil__kfs s0 = {0};
    set_arrays(&s0, p, nfeat);
    /* what a lookup relies on: each directory ascending from 0 to nfeat, every slot a feature */
    uint64_t nb = 1ull << s0.bits;
    for (int t = 0; t < TABLES && !*why; t++) {
        const uint32_t *off = s0.off + t * (nb + 1);
        const uint8_t *slot = s0.slot + (uint64_t)t * nfeat * SLOT;
        uint32_t bad = off[0] != 0 || off[nb] != nfeat;
        for (uint64_t b = 0; b < nb; b++) bad |= off[b + 1] < off[b];
        for (uint64_t f = 0; f < nfeat; f++) bad |= slot_id(slot + f * SLOT) >= nfeat;
        if (bad) *why = "search tables out of range";
    }
    if (*why) return VIGIL_E_CORRUPT;
    vigil__kfs *s = malloc(sizeof *s);
    if (!s) { *why = "out of memory"; return VIGIL_E_NOMEM; }
    *s = s0;
    s->borrowed = 1;
    *out = s;
    return VIGIL_OK;
}

typedef struct corr { uint32_t img, qf, rf; uint16_t dist, half; } corr;

static int cmp_corr(const void *a, const void *b)
{
    const corr *p = a, *q = b;
    if (p->half != q->half) return p->half - q->half;
    if (p->img != q->img) return p->img < q->img ? -1 : 1;
    if (p->rf != q->rf) return p->rf < q->rf ? -1 : 1;
    if (p->dist != q->dist) return p->dist - q->dist;
    return (p->qf > q->qf) - (p->qf < q->qf);
}

static int cmp_dist(const void *a, const void *b)
{
    const corr *p = a, *q = b;
    return p->dist != q->dist ? p->dist - q->dist : cmp_corr(a, b);
}

/* The correspondences (img still 0) in cmp_corr's order by a radix sort (radix.c) of a 64-bit
 * key: half (1 bit), rf (32), dist (8), qf (23), so no two keys tie but equal correspondences.
 * The fields fit when the query has under 2^23 features (the caller's test; dist is at most
 * RADIUS). qsort with its comparator was 3.5 % of a scan with features (bench/results/kfeat.md).
 * 0, or -1 when out of memory (the caller then sorts with qsort). */
_Static_assert(RADIUS < 256, "dist takes 8 bits of the sort key");
#define KEY_QF_MAX (1u << 23)

static int sort_corr(corr *cv, size_t n)
{
    uint64_t *k = malloc(n * sizeof *k + 1);
    uint32_t *perm = malloc(n * sizeof *perm + 1);
    corr *tmp = malloc(n * sizeof *tmp + 1);
    int r = !k || !perm || !tmp ? -1 : 0;
    for (size_t i = 0; !r && i < n; i++)
        k[i] = (uint64_t)cv[i].half << 63 | (uint64_t)cv[i].rf << 31 | (uint64_t)cv[i].dist << 23 | cv[i].qf;
    if (!r) r = vigil__radix_order(k, perm, n);
    for (size_t i = 0; !r && i < n; i++) tmp[i] = cv[perm[i]];
    if (!r && n) memcpy(cv, tmp, n * sizeof *cv);
    free(k);
    free(perm);
    free(tmp);
    return r;
}

/* The first keep of the correspondences in cmp_dist's order (nearest first), in no particular
 * order: all nearer than the distance D at which the count passes keep, and of those at D the
 * first in cmp_corr's order. 0, or -1 when out of memory (the caller then uses qsort). */
static int nearest_corr(corr *cv, size_t n, size_t keep)
{
    size_t cnt[RADIUS + 1] = {0};
    for (size_t i = 0; i < n; i++) cnt[cv[i].dist]++;
    size_t below = 0;
    int D = 0;
    while (D < RADIUS && below + cnt[D] < keep) below += cnt[D++];
    size_t m = 0, e = n;
    for (size_t i = 0; i < e;) { /* those nearer than D to the front, those at D after them, the rest past e */
        if (cv[i].dist < D) { corr t = cv[m]; cv[m] = cv[i]; cv[i] = t; m++; i++; }
        else if (cv[i].dist == D) i++;
        else { corr t = cv[--e]; cv[e] = cv[i]; cv[i] = t; }
    }
    /* cv[m..e) are at D: the first (keep - m) of them by cmp_corr */
    return sort_corr(cv + m, e - m);
}

typedef struct cand { uint32_t img, lo, hi, votes; uint16_t half; } cand;

static int cmp_cand(const void *a, const void *b)
{
    const cand *p = a, *q = b;
    if (p->votes != q->votes) return p->votes > q->votes ? -1 : 1;
    if (p->half != q->half) return p->half - q->half;
    return p->img < q->img ? -1 : p->img > q->img;
}

static int cmp_match(const void *a, const void *b)
{
    const vigil__kfs_match *p = a, *q = b;
    if (p->inliers != q->inliers) return p->inliers > q->inliers ? -1 : 1;
    if (p->mirrored != q->mirrored) return p->mirrored - q->mirrored;
    return p->img < q->img ? -1 : p->img > q->img;
}

/* The reference holding feature f: a binary search over the records' first features. */
static uint32_t owner(const vigil_rooms *r, uint32_t f)
{
    uint64_t lo = 0, hi = r->nimg;
    while (hi - lo > 1) {
        uint64_t mid = (lo + hi) / 2;
        if (vigil__room_first(&r->img[mid]) <= f) lo = mid; else hi = mid;
    }
    return (uint32_t)lo;
}

/* Whether feature d is a stop word in more than 2 of the tables: a featureless pattern, kept out
 * of guided matching as in the rooms' (rooms_query.c GUIDED_MAX_COMMON). */
static int common(const vigil__kfs *s, const vigil_pdq *d)
{
    int c = 0, shift = KEY_BITS - s->bits;
    uint64_t nb = 1ull << s->bits;
    for (int t = 0; t < TABLES; t++) {
        const uint32_t *off = s->off + t * (nb + 1);
        uint32_t b = word(d, t) >> shift;
        c += off[b + 1] - off[b] > s->stop;
    }
    return c > 2;
}

/* One query's working state. */
typedef struct qstate {
    const vigil__kfs *s;
    const vigil_rooms *r;
    const vigil_features *q;
    corr *cv;
    size_t ncv, cvcap;
    uint8_t *qskip;
    uint8_t *qshape;           /* per query feature: orientation and scale bytes, as the references' */
} qstate;

static int push(qstate *st, corr c)
{
    if (st->ncv == st->cvcap) {
        size_t nc = st->cvcap ? st->cvcap * 2 : 1024;
        corr *p = realloc(st->cv, nc * sizeof *p);
        if (!p) return -1;
        st->cv = p;
        st->cvcap = nc;
    }
    st->cv[st->ncv++] = c;
    return 0;
}

/* Each correspondence's reference, once they are sorted. They were sorted with img 0, which gives
 * the order of (half, img, rf, ...) since a reference's features are consecutive; so the owner
 * is looked up once per reference met instead of once per correspondence gathered (the binary
 * search was 70 % of gather, 7 % of a scan with features: bench/results/kfeat.md). */
static void set_owners(qstate *st)
{
    const vigil_rooms *r = st->r;
    uint32_t im = 0;
    uint64_t end = 0;
    for (size_t k = 0; k < st->ncv; k++) {
        corr *c = &st->cv[k];
        if (k == 0 || c->half != c[-1].half || c->rf >= end || c->rf < vigil__room_first(&r->img[im])) {
            im = owner(r, c->rf);
            end = vigil__room_first(&r->img[im]) + r->img[im].n;
        }
        c->img = im;
    }
}

/* Stage 1: every query feature's candidates, as correspondences. The lookups are random reads of
 * a 2 GB set (at 100,000 references), so they go in a pipeline over BATCH query features at a
 * time: every key's directory entry is asked for, then every bucket's slots, then every
 * candidate's descriptor, and only then is each read, so the cache misses of one step overlap
 * instead of queueing one behind another (bench/results/kfeat.md). A feature found through two
 * tables counts once (a small hash set, stamped per query feature); the distances are the
 * Hamming kernel's (hamming.c, the best this CPU runs). 0, or -1 when out of memory. */
#define BATCH 16
static int gather(qstate *st, uint32_t per_half)
{
    const vigil__kfs *s = st->s;
    const vigil_rooms *r = st->r;
    const vigil__kernels *kern = vigil__kernels_best();
    int shift = KEY_BITS - s->bits;
    uint64_t nb = 1ull << s->bits;
    size_t cap = (size_t)TABLES * (s->stop + 1), hs = 64;
    while (hs < 2 * cap) hs *= 2;
    uint32_t *cf = malloc(BATCH * cap * sizeof *cf), *hkey = malloc(hs * sizeof *hkey), *hstamp = calloc(hs, sizeof *hstamp);
    vigil__hit *hits = malloc(cap * sizeof *hits);
    int bad = !cf || !hkey || !hstamp || !hits;
    uint32_t key[BATCH][TABLES], lo[BATCH][TABLES], hi[BATCH][TABLES];
    size_t nc[BATCH];
    for (uint32_t i0 = 0; i0 < st->q->n && !bad; i0 += BATCH) {
        uint32_t nbatch = st->q->n - i0 < BATCH ? st->q->n - i0 : BATCH;
        for (uint32_t b = 0; b < nbatch; b++)
            for (int t = 0; t < TABLES; t++) {
                key[b][t] = word(&st->q->desc[i0 + b], t);
                __builtin_prefetch(s->off + t * (nb + 1) + (key[b][t] >> shift));
            }
        for (uint32_t b = 0; b < nbatch; b++)
            for (int t = 0; t < TABLES; t++) {
                const uint32_t *off = s->off + t * (nb + 1) + (key[b][t] >> shift);
                lo[b][t] = off[0];
                hi[b][t] = off[1];
                if (hi[b][t] - lo[b][t] <= s->stop && hi[b][t] > lo[b][t]) {
                    const uint8_t *q = s->slot + ((uint64_t)t * s->nfeat + lo[b][t]) * SLOT;
                    __builtin_prefetch(q);
                    __builtin_prefetch(q + (uint64_t)(hi[b][t] - lo[b][t]) * SLOT - 1); /* a bucket across two lines */
                }
            }
        for (uint32_t b = 0; b < nbatch; b++) {
            uint32_t i = i0 + b, *c = cf + b * cap;
            int stops = 0;
            nc[b] = 0;
            for (int t = 0; t < TABLES; t++) {
                uint32_t a = lo[b][t], e = hi[b][t];
                if (e - a > s->stop) { stops++; continue; }
                const uint8_t *slot = s->slot + (uint64_t)t * s->nfeat * SLOT;
                for (uint32_t j = a; j < e; j++) {
                    if (slot_chk(slot + (uint64_t)j * SLOT) != (uint16_t)key[b][t]) continue;
                    uint32_t f = slot_id(slot + (uint64_t)j * SLOT);
                    size_t h = (f * 2654435761u) & (hs - 1);
                    while (hstamp[h] == i + 1 && hkey[h] != f) h = (h + 1) & (hs - 1);
                    if (hstamp[h] == i + 1) continue; /* found through another table */
                    hstamp[h] = i + 1;
                    hkey[h] = f;
                    __builtin_prefetch(&r->desc[f]);
                    c[nc[b]++] = f;
                }
            }
            st->qskip[i] = stops > 2;
        }
        for (uint32_t b = 0; b < nbatch && !bad; b++) {
            uint32_t i = i0 + b;
            size_t nh = nc[b] ? kern->radius(&st->q->desc[i], 1, r->desc, cf + b * cap, nc[b], RADIUS, hits) : 0;
            for (size_t h = 0; h < nh && !bad; h++) {
                uint32_t f = cf[b * cap + hits[h].ref];
                bad = push(st, (corr){0, i, f, hits[h].dist, (uint16_t)(i >= per_half)}); /* img: set_owners */
            }
        }
    }
    free(cf);
    free(hkey);
    free(hstamp);
    free(hits);
    return bad ? -1 : 0;
}

/* Stage 2 for one candidate: its correspondences that agree on the turn and the scale between
 * the two (the strongest window of 3 of 16 bins of keypoint orientation difference, then of 3
 * bins of one pyramid level of scale difference within it), one per reference feature (the
 * nearest), as points into pts (query, then reference at pts + 2 * q->n). A reframed photo turns
 * and scales every feature alike; chance correspondences spread over the bins, so most of them go
 * before they can lend RANSAC a sample. Returns how many. */
static int consistent(qstate *st, const cand *c, double *pts)
{
    const vigil_rooms *r = st->r;
    uint32_t rb[16] = {0}, sb[40] = {0}, nq = st->q->n;
    for (uint32_t k = c->lo; k < c->hi; k++) rb[((r->shape[2 * (uint64_t)st->cv[k].rf] - st->qshape[2 * st->cv[k].qf]) & 255) >> 4]++;
    int rp = 0;
    for (int b = 0, best = -1; b < 16; b++) {
        int w = (int)(rb[(b + 15) & 15] + rb[b] + rb[(b + 1) & 15]);
        if (w > best) { best = w; rp = b; }
    }
    for (uint32_t k = c->lo; k < c->hi; k++) {
        const corr *v = &st->cv[k];
        if (((((r->shape[2 * (uint64_t)v->rf] - st->qshape[2 * v->qf]) & 255) >> 4) - rp + 17) % 16 > 2) continue;
        int d = (int)r->shape[2 * (uint64_t)v->rf + 1] - (int)st->qshape[2 * v->qf + 1], b = (d + 60) / 3;
        sb[b < 0 ? 0 : b > 39 ? 39 : b]++;
    }
    int sp = 1;
    for (int b = 1, best = -1; b < 39; b++) {
        int w = (int)(sb[b - 1] + sb[b] + sb[b + 1]);
        if (w > best) { best = w; sp = b; }
    }
    int n = 0;
    for (uint32_t k = c->lo; k < c->hi && n < (int)nq; k++) {
        const corr *v = &st->cv[k];
        if (k > c->lo && v->rf == st->cv[k - 1].rf) continue;
        if (((((r->shape[2 * (uint64_t)v->rf] - st->qshape[2 * v->qf]) & 255) >> 4) - rp + 17) % 16 > 2) continue;
        int d = (int)r->shape[2 * (uint64_t)v->rf + 1] - (int)st->qshape[2 * v->qf + 1], b = (d + 60) / 3;
        b = b < 0 ? 0 : b > 39 ? 39 : b;
        if (b < sp - 1 || b > sp + 1) continue;
        if (pts) {
            pts[2 * n] = st->q->kp[v->qf].x;
            pts[2 * n + 1] = st->q->kp[v->qf].y;
            pts[2 * (size_t)nq + 2 * n] = r->xy[2 * (uint64_t)v->rf];
            pts[2 * (size_t)nq + 2 * n + 1] = r->xy[2 * (uint64_t)v->rf + 1];
        }
        n++;
    }
    return n;
}

/* The bounding box, in the reference, of the n correspondences in pts that h maps within tol:
 * its area as a fraction of the reference's. */
static float spread(const double *pts, int n, uint32_t nq, const float h[9], double tol, const vigil__room_img *rec)
{
    double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
    for (int i = 0; i < n; i++) {
        double x = pts[2 * i], y = pts[2 * i + 1], u = h[0] * x + h[1] * y + h[2], v = h[3] * x + h[4] * y + h[5];
        double rx = pts[2 * (size_t)nq + 2 * i], ry = pts[2 * (size_t)nq + 2 * i + 1];
        if ((u - rx) * (u - rx) + (v - ry) * (v - ry) > tol * tol) continue;
        if (rx < x0) x0 = rx;
        if (rx > x1) x1 = rx;
        if (ry < y0) y0 = ry;
        if (ry > y1) y1 = ry;
    }
    return x1 > x0 && y1 > y0 ? (float)((x1 - x0) * (y1 - y0) / ((double)rec->width * rec->height)) : 0;
}

/* Stage 3: RANSAC on the consistent correspondences, then, from MIN_RANSAC inliers, guided matching. */
static void verify(qstate *st, const cand *c, const vigil__kfs_options *o, uint32_t per_half, vigil__kfs_match *m,
                   double *pts, double *work, int *iwork)
{
    const vigil_rooms *r = st->r;
    const vigil__room_img *rec = &r->img[c->img];
    uint32_t nq = st->q->n;
    int n = consistent(st, c, pts);
    m->img = c->img;
    m->mirrored = c->half;
    m->inliers = 0;
    m->spread = 0;
    if (n < MIN_VOTES) return;
    double side = rec->width > rec->height ? rec->width : rec->height;
    double tol = o->tolerance * (side > 0 ? side : 640);
    float h[9];
    int in = vigil__ransac(pts, pts + 2 * (size_t)nq, n, tol, c->img * 2ull + c->half, h, work, iwork, VIGIL__MODEL_REFRAME);
    if (in < 4) return;
    m->inliers = (uint32_t)in;
    memcpy(m->h, h, sizeof h);
    if (in < MIN_RANSAC || o->guided_radius <= 0) return;
    /* guided matching over the half's features, those of the reference that are not stop words */
    uint64_t first = vigil__room_first(rec);
    uint32_t *use = malloc((size_t)rec->n * sizeof *use + 1), nuse = 0;
    if (!use) return;
    for (uint32_t j = 0; j < rec->n; j++)
        if (!common(st->s, &r->desc[first + j])) use[nuse++] = j;
    vigil__guide_ref ref = {r->desc + first, r->xy + 2 * first, r->shape + 2 * first, rec->n, use, nuse};
    vigil_features half = {per_half, st->q->kp + (size_t)c->half * per_half, st->q->desc + (size_t)c->half * per_half,
                           st->q->width, st->q->height};
    int g = vigil__guided(&ref, &half, st->qskip + (size_t)c->half * per_half, tol, o->guided_radius, h, VIGIL__MODEL_REFRAME);
    free(use);
    if (g > in) { m->inliers = (uint32_t)g; memcpy(m->h, h, sizeof h); }
    m->spread = spread(pts, n, nq, m->h, tol, rec);
}

vigil_result vigil__kfs_query(const vigil__kfs *s, const vigil_rooms *r, const vigil_features *q,
                              const vigil__kfs_options *o, vigil__kfs_match *out, size_t cap, size_t *nout,
                              vigil_error *err)
{
    *nout = 0;
    if (!s || !q->n || !s->nfeat) return VIGIL_OK;
    uint32_t per_half = o->mirrored ? q->n / 2 : q->n;
    qstate st = {s, r, q, NULL, 0, 0, calloc(q->n, 1), malloc(2 * (size_t)q->n)};
    if (st.qshape)
        for (uint32_t i = 0; i < q->n; i++) {
            st.qshape[2 * i] = vigil__room_angle_byte(q->kp[i].angle);
            st.qshape[2 * i + 1] = vigil__room_scale_byte(q->kp[i].scale);
        }
    cand *cands = NULL;
    vigil__kfs_match *ms = NULL;
    double *pts = malloc(4 * (size_t)q->n * sizeof *pts), *work = malloc(4 * (size_t)q->n * sizeof *work);
    int *iwork = malloc((2 * (size_t)q->n + 8) * sizeof *iwork);
    int bad = !st.qskip || !st.qshape || !pts || !work || !iwork || gather(&st, per_half);
    /* the nearest MAX_CORR correspondences of each half, when there are more (a query of repeated
     * patterns): they bound the sort and the verification */
    if (!bad && st.ncv > MAX_CORR) {
        if (q->n >= KEY_QF_MAX || nearest_corr(st.cv, st.ncv, MAX_CORR)) qsort(st.cv, st.ncv, sizeof *st.cv, cmp_dist);
        st.ncv = MAX_CORR;
    }
    if (!bad && st.ncv) {
        if (q->n >= KEY_QF_MAX || sort_corr(st.cv, st.ncv)) qsort(st.cv, st.ncv, sizeof *st.cv, cmp_corr);
        set_owners(&st);
        /* the runs of one (half, reference): its votes are its distinct query features */
        size_t nc = 0;
        cands = malloc(st.ncv * sizeof *cands);
        bad = !cands;
        for (size_t k = 0; !bad && k < st.ncv;) {
            size_t e = k;
            while (e < st.ncv && st.cv[e].img == st.cv[k].img && st.cv[e].half == st.cv[k].half) e++;
            uint32_t votes = 0;
            for (size_t j = k; j < e; j++) votes += j == k || st.cv[j].rf != st.cv[j - 1].rf;
            cand c = {st.cv[k].img, (uint32_t)k, (uint32_t)e, votes, st.cv[k].half};
            /* ranked by the correspondences that agree on turn and scale */
            if (votes >= MIN_VOTES && (c.votes = (uint32_t)consistent(&st, &c, NULL)) >= MIN_VOTES) cands[nc++] = c;
            k = e;
        }
        if (!bad && nc) {
            qsort(cands, nc, sizeof *cands, cmp_cand);
            ms = malloc(2 * VERIFY * sizeof *ms);
            bad = !ms;
            size_t nm = 0, per[2] = {0, 0};
            for (size_t k = 0; !bad && k < nc; k++) {
                if (per[cands[k].half] >= VERIFY) continue;
                per[cands[k].half]++;
                verify(&st, &cands[k], o, per_half, &ms[nm], pts, work, iwork);
                if (ms[nm].inliers >= o->min_inliers && ms[nm].spread >= MIN_SPREAD) nm++;
            }
            if (!bad) {
                qsort(ms, nm, sizeof *ms, cmp_match);
                if (nm > cap) nm = cap;
                if (nm) memcpy(out, ms, nm * sizeof *ms);
                *nout = nm;
            }
        }
    }
    free(st.cv);
    free(st.qskip);
    free(st.qshape);
    free(cands);
    free(ms);
    free(pts);
    free(work);
    free(iwork);
    return bad ? vigil__fail(err, VIGIL_E_NOMEM, "out of memory") : VIGIL_OK;
}
