/* rooms_query.c - finding a room again from another viewpoint: which reference images share the
 * query's place, and where.
 *
 * Stages (vigil_rooms_query):
 * 1. Candidates: multi-index hashing. Each 256-bit descriptor is filed in 8 tables under 16-bit
 *    substrings (rooms_tables.c); a query descriptor looks up its own 8 substrings and measures the
 *    full distance to everything filed there (the shared Hamming kernels). A true match at distance
 *    d shares a given substring with probability (1 - d/256)^16, so at d = 40 one of 8 tables finds
 *    it 42 % of the time: enough, since a room seen again yields dozens of true matches. Each lookup
 *    touches N / 65536 features, so the cost grows linearly with the collection but with a small
 *    constant.
 * 2. Votes: a query feature votes once for each image holding a match within the radius (and
 *    passing a ratio test there), weighted by rarity: log(images / images it matched in).
 * 3. Verification: the best-voted images get RANSAC on a homography (geometry.c). Before it, an
 *    image's correspondences must agree on the rotation between the views: the differences of
 *    keypoint orientations are binned (16 bins of 22.5 degrees) and only the strongest window of 3
 *    bins is kept (and, separately, the strongest one apart from it). A true view change turns
 *    every feature alike; chance matches spread over all bins, so 5 in 6 of them go before they can
 *    lend a homography inliers. The same again for the scale change (log-scale difference in bins
 *    of one pyramid level, the strongest window of 3 kept).
 * 4. Guided matching: with a plausible homography (6+ inliers), every distinctive query feature is
 *    looked for where it lands in the reference, and H is refitted on all it finds (geometry.c);
 *    the score is that count of consistent matches.
 * 5. Ranking: by that score, one image per room. */
#include "geometry.h"
#include "hamming.h"
#include "rooms_impl.h"
#include "options.h"

#include <stdlib.h>
#include <string.h>

#define TABLES VIGIL__ROOM_TABLES
#define BUCKETS VIGIL__ROOM_BUCKETS

/* At most this many of a feature's 8 keys may be stop words for it to take part in guided
 * matching: more, and it is a featureless pattern that lies within 64 bits of its like in
 * unrelated images (bench/results/rooms-guards.md). */
#define GUIDED_MAX_COMMON 2
#define GUIDED_COMMON_FACTOR 8 /* "common" as stop words are by default, whatever the query's stop_factor */

void vigil_rooms_query_options_init(vigil_rooms_query_options *o)
{
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->top_k = 5;
    o->radius = 50;
    o->verify = 30;
    o->min_inliers = 10;
    o->tolerance = 0.015f;
    o->exhaustive = 0;
    o->ratio = 0.8f;
    o->stop_factor = 5;
    o->guided_radius = 64;
}

/* The caller's options (NULL: defaults) as this build's struct: take_query_options (options.h). */
#define QUERY_OPTION_FIELDS(X)                                                                            \
    X(top_k) X(radius) X(verify) X(min_inliers) X(tolerance) X(exhaustive) X(ratio) X(stop_factor) \
    X(guided_radius) X(model) X(seed_features) X(seed_tables)
VIGIL__OPTIONS_READER(take_query_options, vigil_rooms_query_options, vigil_rooms_query_options_init,
                      QUERY_OPTION_FIELDS, seed_tables)

typedef struct corr { uint32_t img, qf, rf; uint16_t dist, pad; } corr;
typedef struct scored { uint32_t img, votes, inliers; float weight, h[9]; } scored;

/* One query's working state, shared by its stages. */
typedef struct query {
    const vigil_rooms *r;
    const vigil_features *qf;
    const vigil_rooms_query_options *opt;
    uint64_t stop, common_at;    /* bucket sizes: skipped as a stop word; "common" for guided matching */
    uint32_t *slots;             /* one query feature's candidates */
    vigil__hit *hits;
    size_t cap;
    uint32_t *votes, *touched, *stamp, *touched_q; /* per image */
    size_t ntouched;
    float *weight;               /* per image: its votes, each weighted by how rare the match is */
    uint64_t *best;              /* per image, this query feature: best distance, second distance, best feature */
    corr *cv;                    /* the correspondences that voted */
    size_t ncv, cvcap;
    uint8_t *qcommon;            /* per query feature: tables where it is a stop word (then: skip in guided) */
    uint8_t *qshape;             /* the query's features quantised like the references' */
    double *pts, *work;
    int *iwork;
    scored *sc;
} query;

static int cmp_corr(const void *a, const void *b)
{
    const corr *p = a, *q = b;
    if (p->img != q->img) return p->img < q->img ? -1 : 1;
    if (p->qf != q->qf) return p->qf < q->qf ? -1 : 1;
    return (int)p->dist - (int)q->dist;
}

static int cmp_rf(const void *a, const void *b)
{
    const corr *p = a, *q = b;
    if (p->rf != q->rf) return p->rf < q->rf ? -1 : 1;
    return p->dist != q->dist ? (int)p->dist - (int)q->dist : (p->qf > q->qf) - (p->qf < q->qf);
}

static int cmp_votes(const void *a, const void *b)
{
    const scored *p = a, *q = b;
    if (p->weight != q->weight) return p->weight > q->weight ? -1 : 1;
    if (p->votes != q->votes) return p->votes > q->votes ? -1 : 1;
    return p->img < q->img ? -1 : p->img > q->img;
}

static int cmp_inliers(const void *a, const void *b)
{
    const scored *p = a, *q = b;
    if (p->inliers != q->inliers) return p->inliers > q->inliers ? -1 : 1;
    return cmp_votes(a, b);
}

static int rot_bin(const query *s, const corr *c)
{
    return ((s->r->shape[2 * (uint64_t)c->rf] - s->qshape[2 * c->qf]) & 255) >> 4;
}

static int scale_bin(const query *s, const corr *c)
{
    int d = (int)s->r->shape[2 * (uint64_t)c->rf + 1] - (int)s->qshape[2 * c->qf + 1]; /* 1/8 octaves */
    int b = (d + 60) / 3;                                                             /* 3/8: one level */
    return b < 0 ? 0 : b > 39 ? 39 : b;
}

/* Stage 1 for query feature i: the reference features filed under its keys, into slots (the
 * identity when exhaustive). Also counts the tables where its key is a stop word. Returns how
 * many, or -1 when out of memory. */
static ptrdiff_t gather(query *s, uint32_t i)
{
    const vigil_rooms *r = s->r;
    size_t n = s->opt->exhaustive ? r->nfeat : 0;
    /* past the seed features (or tables), a feature only learns where it is common, for guided matching */
    int seed = !s->opt->seed_features || i < s->opt->seed_features;
    int ntab = s->opt->seed_tables && s->opt->seed_tables < TABLES ? (int)s->opt->seed_tables : TABLES;
    for (int t = 0; t < TABLES; t++) {
        const uint32_t *o = r->offsets + (size_t)t * (BUCKETS + 1);
        uint32_t k = vigil__room_key(&s->qf->desc[i], t), a = o[k], b = o[k + 1];
        /* a bucket far above the mean holds the common, featureless patterns: a stop word */
        s->qcommon[i] += b - a > s->common_at;
        if (s->opt->exhaustive || b - a > s->stop || !seed || t >= ntab) continue; /* brute force: the tables only say what is common */
        if (n + (b - a) > s->cap) {
            size_t nc = s->cap ? s->cap : 1024;
            while (nc < n + (b - a)) nc *= 2;
            uint32_t *ns = realloc(s->slots, nc * sizeof *ns);
            vigil__hit *nh = ns ? realloc(s->hits, nc * sizeof *nh) : NULL;
            if (ns) s->slots = ns;
            if (!ns || !nh) return -1;
            s->hits = nh;
            s->cap = nc;
        }
        if (b > a) memcpy(s->slots + n, r->ids + (uint64_t)t * r->nfeat + a, (size_t)(b - a) * sizeof *s->slots);
        n += b - a;
    }
    return (ptrdiff_t)n;
}

/* Stage 2 for query feature i, on its nh hits: per image, the nearest match and the distance of
 * the second nearest distinct feature; then one vote per image that passes the ratio test, all
 * weighted alike by rarity. 0, or -1 when out of memory. */
static int vote(query *s, uint32_t i, size_t nh)
{
    const vigil_rooms *r = s->r;
    size_t nimgs = 0;
    for (size_t h = 0; h < nh; h++) {
        uint32_t f = s->slots[s->hits[h].ref], img = r->owner[f], d = s->hits[h].dist;
        if (s->stamp[img] != i + 1) {
            s->stamp[img] = i + 1;
            s->best[img] = (uint64_t)d << 48 | (uint64_t)0xffff << 32 | f;
            s->touched_q[nimgs++] = img;
            continue;
        }
        uint32_t bd = (uint32_t)(s->best[img] >> 48), sd = (uint32_t)(s->best[img] >> 32) & 0xffff, bf = (uint32_t)s->best[img];
        if (f == bf) continue; /* the same feature found through another table */
        if (d < bd) s->best[img] = (uint64_t)d << 48 | (uint64_t)bd << 32 | f;
        else if (d < sd) s->best[img] = (uint64_t)bd << 48 | (uint64_t)d << 32 | bf;
    }
    size_t ncv0 = s->ncv;
    for (size_t k = 0; k < nimgs; k++) {
        uint32_t img = s->touched_q[k], bd = (uint32_t)(s->best[img] >> 48), sd = (uint32_t)(s->best[img] >> 32) & 0xffff;
        /* ratio test within the image: a second match nearly as near means a repeated or
         * featureless pattern, which says nothing about the place */
        if (sd != 0xffff && (float)bd > s->opt->ratio * (float)sd) continue;
        if (s->ncv == s->cvcap) {
            s->cvcap = s->cvcap ? s->cvcap * 2 : 4096;
            corr *nc = realloc(s->cv, s->cvcap * sizeof *nc);
            if (!nc) return -1;
            s->cv = nc;
        }
        s->cv[s->ncv++] = (corr){img, i, (uint32_t)s->best[img], (uint16_t)bd, 0};
        if (s->votes[img]++ == 0) s->touched[s->ntouched++] = img;
    }
    /* a query feature matching in many images is a common pattern: its votes count for less
     * (inverse document frequency), so the rare matches a place shares rank it among the
     * images that get verified */
    if (s->ncv > ncv0) {
        float w = logf((float)(r->nimg + 1) / (float)(s->ncv - ncv0));
        for (size_t k = ncv0; k < s->ncv; k++) s->weight[s->cv[k].img] += w;
    }
    return 0;
}

/* Stages 1 and 2 over every query feature. 0, or -1 when out of memory. */
static int candidates(query *s)
{
    const vigil_rooms *r = s->r;
    const vigil__kernels *kern = vigil__kernels_best();
    if (s->opt->exhaustive) { /* every reference feature, in order: the slots are the identity */
        s->cap = r->nfeat;
        s->slots = malloc(s->cap * sizeof *s->slots);
        s->hits = malloc(s->cap * sizeof *s->hits);
        if (!s->slots || !s->hits) return -1;
        for (uint64_t f = 0; f < r->nfeat; f++) s->slots[f] = (uint32_t)f;
    }
    for (uint32_t i = 0; i < s->qf->n; i++) {
        ptrdiff_t n = gather(s, i);
        if (n < 0) return -1;
        if (!n) continue;
        /* the candidates are scattered over the whole descriptor array (hundreds of MB at 10,000
         * images): ask for all their cache lines first, so the misses overlap instead of queueing */
        if (!s->opt->exhaustive)
            for (ptrdiff_t k = 0; k < n; k++) __builtin_prefetch(&r->desc[s->slots[k]]);
        size_t nh = kern->radius(&s->qf->desc[i], 1, r->desc, s->slots, (size_t)n, s->opt->radius, s->hits);
        if (nh && vote(s, i, nh)) return -1;
    }
    return 0;
}

/* The rotation between the views: the strongest window of 3 bins of orientation difference over
 * cv[lo, end), and the strongest apart from it (a repeated pattern can outvote the true
 * rotation); -1 for a window without enough support. */
static void rotation_peaks(const query *s, size_t lo, size_t end, uint32_t need, int peaks[2])
{
    uint32_t bins[16] = {0};
    for (size_t k = lo; k < end; k++) bins[rot_bin(s, &s->cv[k])]++;
    peaks[0] = peaks[1] = -1;
    for (int t = 0; t < 2; t++) {
        uint32_t bestw = 0;
        for (int b = 0; b < 16; b++) {
            if (t == 1 && ((b - peaks[0] + 18) & 15) <= 4) continue; /* overlaps the first window */
            uint32_t w = bins[(b + 15) & 15] + bins[b] + bins[(b + 1) & 15];
            if (w > bestw) { bestw = w; peaks[t] = b; }
        }
        if (bestw < need) peaks[t] = -1;
        if (peaks[t] < 0) break;
    }
}

/* Within the rotation window around peak, the scale change between the views (the strongest
 * window of 3 bins of log-scale difference, a bin being one pyramid level); the correspondences
 * in both windows, one per reference feature, into pts (query points, then reference points at
 * pts + 2 * qf->n). Returns how many. */
static int consistent_points(query *s, size_t lo, size_t end, int peak)
{
    const corr *cv = s->cv;
    uint32_t sbins[40] = {0};
    for (size_t k = lo; k < end; k++)
        if (((rot_bin(s, &cv[k]) - peak + 17) & 15) <= 2) sbins[scale_bin(s, &cv[k])]++;
    int speak = 1;
    uint32_t sw = 0;
    for (int b = 1; b < 39; b++)
        if (sbins[b - 1] + sbins[b] + sbins[b + 1] > sw) { sw = sbins[b - 1] + sbins[b] + sbins[b + 1]; speak = b; }
    double *pts = s->pts;
    uint32_t nq = s->qf->n;
    int n = 0;
    for (size_t k = lo; k < end; k++) {
        if (k > lo && cv[k].rf == cv[k - 1].rf) continue;
        if (((rot_bin(s, &cv[k]) - peak + 17) & 15) > 2) continue;
        if (abs(scale_bin(s, &cv[k]) - speak) > 1) continue;
        pts[2 * n] = s->qf->kp[cv[k].qf].x;
        pts[2 * n + 1] = s->qf->kp[cv[k].qf].y;
        pts[2 * nq + 2 * n] = s->r->xy[2 * (uint64_t)cv[k].rf];
        pts[2 * nq + 2 * n + 1] = s->r->xy[2 * (uint64_t)cv[k].rf + 1];
        n++;
    }
    return n;
}

/* Stage 4 for one image with a plausible homography: its distinctive reference features (a stop
 * word in at most GUIDED_MAX_COMMON tables) are handed to guided matching. */
static void guide(query *s, scored *c, const vigil__room_img *rec, double tol)
{
    const vigil_rooms *r = s->r;
    uint64_t first = vigil__room_first(rec);
    uint32_t m = 0, *use = malloc((size_t)rec->n * sizeof *use + 1);
    if (!use) return; /* out of memory: what RANSAC found stands */
    for (uint32_t j = 0; j < rec->n; j++) {
        const vigil_pdq *d = &r->desc[first + j];
        int common = 0;
        for (int t = 0; t < TABLES; t++) {
            const uint32_t *o = r->offsets + (size_t)t * (BUCKETS + 1);
            uint32_t key = vigil__room_key(d, t);
            common += o[key + 1] - o[key] > s->common_at;
        }
        if (common <= GUIDED_MAX_COMMON) use[m++] = j;
    }
    vigil__guide_ref ref = {r->desc + first, r->xy + 2 * first, r->shape + 2 * first, rec->n, use, m};
    float h[9];
    memcpy(h, c->h, sizeof h);
    int g = vigil__guided(&ref, s->qf, s->qcommon, tol, s->opt->guided_radius, h, s->opt->model);
    free(use);
    if (g > (int)c->inliers) { c->inliers = (uint32_t)g; memcpy(c->h, h, sizeof h); }
}

/* Stages 3 and 4 for one voted image: its correspondences (a run of the sorted cv), RANSAC within
 * each rotation peak, then guided matching; sets c->inliers and c->h. */
static void verify(query *s, scored *c)
{
    const vigil_rooms_query_options *opt = s->opt;
    uint32_t need = opt->min_inliers > 4 ? opt->min_inliers : 4;
    if (c->votes < need) { c->inliers = 0; return; }
    size_t lo = 0, hi = s->ncv; /* binary search for the image's run in cv */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->cv[mid].img < c->img) lo = mid + 1; else hi = mid;
    }
    size_t end = lo;
    while (end < s->ncv && s->cv[end].img == c->img) end++;
    /* one query feature per reference feature (the nearest): many query features landing on
     * one reference point would let a collapsing homography collect inliers */
    qsort(s->cv + lo, end - lo, sizeof *s->cv, cmp_rf);
    int peaks[2];
    rotation_peaks(s, lo, end, need, peaks);
    const vigil__room_img *rec = &s->r->img[c->img];
    double side = rec->width > rec->height ? rec->width : rec->height;
    double tol = opt->tolerance * (side > 0 ? side : 640);
    for (int t = 0; t < 2 && peaks[t] >= 0; t++) {
        int n = consistent_points(s, lo, end, peaks[t]);
        if (n < 4) continue;
        float h[9];
        uint32_t in = (uint32_t)vigil__ransac(s->pts, s->pts + 2 * s->qf->n, n, tol, c->img * 2 + (uint64_t)t, h, s->work,
                                              s->iwork, opt->model);
        if (in > c->inliers) { c->inliers = in; memcpy(c->h, h, sizeof h); }
    }
    /* a plausible homography: the matches the index missed, where it puts them */
    if (opt->guided_radius > 0 && c->inliers >= 6) guide(s, c, rec, tol);
}

/* "hotel_id value|room value" from labels "k=v k=v", empty when neither is there */
static void room_key(const char *labels, char *out, size_t cap)
{
    size_t n = 0;
    static const char *const keys[] = {"hotel_id", "room"};
    for (int k = 0; k < 2; k++) {
        const char *v;
        size_t vl;
        if (vigil__label_find(labels, keys[k], &v, &vl) && n + vl + 2 < cap) { memcpy(out + n, v, vl); n += vl; }
        if (n + 2 < cap) out[n++] = '|';
    }
    out[n] = 0;
    if (n == 2) out[0] = 0; /* neither label */
}

/* Stage 5: the verified images by inliers, at most top_k, one per room (the first of a room is
 * its best view; a reference without room labels is a room of its own). */
static void pick_rooms(query *s, size_t nver, vigil_rooms_match *out, size_t *nout)
{
    const vigil_rooms *r = s->r;
    scored *sc = s->sc;
    qsort(sc, nver, sizeof *sc, cmp_inliers);
    for (size_t v = 0; v < nver && *nout < s->opt->top_k; v++) {
        if (sc[v].inliers < s->opt->min_inliers) break;
        const vigil__room_img *rec = &r->img[sc[v].img];
        char key[256], other[256];
        room_key(r->strings + rec->labels, key, sizeof key);
        int dup = 0;
        for (size_t j = 0; j < *nout && key[0] && !dup; j++) {
            room_key(out[j].labels, other, sizeof other);
            dup = !strcmp(key, other);
        }
        if (dup) continue;
        vigil_rooms_match *m = &out[(*nout)++];
        m->image = sc[v].img;
        m->inliers = sc[v].inliers;
        m->votes = sc[v].votes;
        m->name = r->strings + rec->name;
        m->labels = r->strings + rec->labels;
        memcpy(m->h, sc[v].h, sizeof m->h);
    }
}

/* Stages 3 to 5: the best-voted images (by weight) verified, then ranked. 0, or -1 when out of
 * memory. */
static int rank(query *s, vigil_rooms_match *out, size_t *nout)
{
    const vigil_features *qf = s->qf;
    s->sc = malloc(s->ntouched * sizeof *s->sc);
    if (!s->sc) return -1;
    for (size_t i = 0; i < s->ntouched; i++) {
        uint32_t img = s->touched[i];
        s->sc[i] = (scored){img, s->votes[img], 0, s->weight[img], {0}};
    }
    qsort(s->sc, s->ntouched, sizeof *s->sc, cmp_votes);
    size_t nver = s->ntouched < s->opt->verify ? s->ntouched : s->opt->verify;
    qsort(s->cv, s->ncv, sizeof *s->cv, cmp_corr);
    s->qshape = malloc(2 * (size_t)qf->n);
    if (!s->qshape) return -1;
    for (uint32_t i = 0; i < qf->n; i++) {
        s->qshape[2 * i] = vigil__room_angle_byte(qf->kp[i].angle);
        s->qshape[2 * i + 1] = vigil__room_scale_byte(qf->kp[i].scale);
    }
    s->pts = malloc(4 * qf->n * sizeof *s->pts);
    s->work = malloc(4 * qf->n * sizeof *s->work);
    s->iwork = malloc(2 * (size_t)qf->n * sizeof *s->iwork + 8 * sizeof *s->iwork);
    if (!s->pts || !s->work || !s->iwork) return -1;
    /* guided matching: a query feature common in more than GUIDED_MAX_COMMON tables is skipped */
    for (uint32_t i = 0; i < qf->n; i++) s->qcommon[i] = s->qcommon[i] > GUIDED_MAX_COMMON;
    for (size_t v = 0; v < nver; v++) verify(s, &s->sc[v]);
    pick_rooms(s, nver, out, nout);
    return 0;
}

vigil_result vigil_rooms_query(const vigil_rooms *r, const vigil_features *qf, const vigil_rooms_query_options *opt,
                               vigil_rooms_match *out, size_t *nout, vigil_error *err)
{
    vigil_rooms_query_options def;
    vigil_result ro = take_query_options(opt, &def, err);
    if (ro) return ro;
    opt = &def;
    if (!r || !qf || !nout || (qf->n && (!qf->kp || !qf->desc)) || (opt->top_k && !out) || opt->radius < 0 || opt->radius > 256 ||
        !(opt->ratio > 0 && opt->ratio <= 1) || (opt->model != VIGIL_ROOMS_HOMOGRAPHY && opt->model != VIGIL_ROOMS_AFFINE))
        return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    if (!r->prepared) return vigil__fail(err, VIGIL_E_INVALID, "room index not prepared (call vigil_rooms_prepare after adding)");
    *nout = 0;
    if (qf->n == 0 || r->nfeat == 0 || opt->top_k == 0) return VIGIL_OK;
    query s;
    memset(&s, 0, sizeof s);
    s.r = r;
    s.qf = qf;
    s.opt = opt;
    s.stop = 64 + (uint64_t)opt->stop_factor * (r->nfeat / BUCKETS);
    s.common_at = 64 + (uint64_t)GUIDED_COMMON_FACTOR * (r->nfeat / BUCKETS);
    s.votes = calloc(r->nimg, sizeof *s.votes);
    s.weight = calloc(r->nimg, sizeof *s.weight);
    s.touched = malloc(r->nimg * sizeof *s.touched);
    s.stamp = calloc(r->nimg, sizeof *s.stamp); /* query feature + 1 that last voted for the image */
    s.touched_q = malloc(r->nimg * sizeof *s.touched_q);
    s.best = malloc(r->nimg * sizeof *s.best);
    s.qcommon = calloc(qf->n, 1);
    int bad = !s.qcommon || !s.votes || !s.weight || !s.touched || !s.stamp || !s.touched_q || !s.best;
    if (!bad) bad = candidates(&s);
    if (!bad && s.ntouched) bad = rank(&s, out, nout);
    free(s.slots); free(s.hits); free(s.votes); free(s.weight); free(s.touched); free(s.stamp); free(s.touched_q); free(s.best);
    free(s.cv); free(s.sc); free(s.pts); free(s.work); free(s.iwork); free(s.qshape); free(s.qcommon);
    return bad ? vigil__fail(err, VIGIL_E_NOMEM, "out of memory") : VIGIL_OK;
}
