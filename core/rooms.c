/* rooms.c - the room index (.vgr): reference images' local features, found again from another
 * viewpoint.
 *
 * Search has three steps. (1) Candidates: multi-index hashing. Each 256-bit descriptor is filed in
 * 8 tables under 16-bit substrings; a query descriptor looks up its own 8 substrings and measures
 * the full distance to everything filed there (the shared Hamming kernels). A true match at distance
 * d shares a given substring with probability (1 - d/256)^16, so at d = 40 one of 8 tables finds it
 * 42 % of the time: enough, since a room seen again yields dozens of true matches. Each lookup
 * touches N / 65536 features, so the cost grows linearly with the collection but with a small
 * constant. (2) Votes: a query feature votes once for each image holding a match within the radius
 * (and passing a ratio test there), weighted by rarity: log(images / images it matched in).
 * (3) Verification: the best-voted images get RANSAC on a homography (exact for views turned about
 * one point, a fair model for a room's dominant planes). (4) Guided matching: with a plausible
 * homography (6+ inliers), every distinctive query feature is looked for where it lands in the
 * reference, and H is refitted on all it finds; the score is that count of consistent matches.
 *
 * Before RANSAC, an image's correspondences must agree on the rotation between the views: the
 * differences of keypoint orientations are binned (16 bins of 22.5 degrees) and only the strongest
 * window of 3 bins is kept (and, separately, the strongest one apart from it). A true view change
 * turns every feature alike; chance matches spread over all bins, so 5 in 6 of them go before they
 * can lend a homography inliers. The same again for the scale change (log-scale difference in
 * bins of one pyramid level, the strongest window of 3 kept).
 *
 * File: sections.c's container with META, IMAGES, STRINGS, DESC, XY, SHAPE, OFFSETS, IDS. */
#include "internal.h"
#include "options.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "VIGILRMS"
#define VERSION 1
#define TABLES 8
#define BUCKETS 65536u

enum { S_META = 1, S_IMAGES, S_STRINGS, S_DESC, S_XY, S_OFFSETS, S_IDS, S_SHAPE, S_COUNT };

typedef struct img_rec { uint32_t first_lo, first_hi, n, width, height, name, labels, reserved; } img_rec;
typedef struct rmeta { uint64_t nimages, nfeatures, strings_size; uint32_t tables, reserved; uint8_t pad[32]; } rmeta;
_Static_assert(sizeof(img_rec) == 32, "image record is 32 bytes");

struct vigil_rooms {
    vigil__mapped mp;           /* the file's bytes, when opened from a file and not yet added to */
    uint64_t nimg, nfeat, strings_size;
    const img_rec *img;
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
static inline uint32_t key_of(const vigil_pdq *d, int t)
{
    return (uint32_t)(d->w[t >> 2] >> ((t & 3) * 16)) & 0xffffu;
}

static uint8_t angle_byte(float a)
{
    return (uint8_t)((long)lroundf(a * (256 / 6.2831853f)) & 255);
}

static uint8_t scale_byte(float s)
{
    long v = lroundf(log2f(s > 1e-3f ? s : 1e-3f) * 8) + 64;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static uint64_t first_of(const img_rec *r) { return r->first_lo | (uint64_t)r->first_hi << 32; }

static void point_at_buffers(vigil_rooms *r)
{
    r->img = (const img_rec *)r->bimg.p;
    r->strings = (const char *)r->bstr.p;
    r->strings_size = r->bstr.n;
    r->desc = (const vigil_pdq *)r->bdesc.p;
    r->xy = (const float *)r->bxy.p;
    r->shape = r->bshape.p;
}

vigil_result vigil_rooms_new(vigil_rooms **out, vigil_error *err)
{
    if (!out) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    vigil_rooms *r = calloc(1, sizeof *r);
    if (!r || vigil__buf_put(&r->bstr, "", 1)) { free(r); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); }
    r->owned = 1;
    point_at_buffers(r);
    *out = r;
    return VIGIL_OK;
}

void vigil_rooms_free(vigil_rooms *r)
{
    if (!r) return;
    vigil__sections_unmap(&r->mp);
    free(r->owner);
    free(r->bimg.p); free(r->bstr.p); free(r->bdesc.p); free(r->bxy.p); free(r->bshape.p); free(r->boff.p); free(r->bids.p);
    free(r);
}

static vigil_result derive_owner(vigil_rooms *r, vigil_error *err)
{
    free(r->owner);
    r->owner = malloc((r->nfeat ? r->nfeat : 1) * sizeof *r->owner);
    if (!r->owner) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    for (uint64_t i = 0; i < r->nimg; i++)
        for (uint32_t k = 0; k < r->img[i].n; k++) r->owner[first_of(&r->img[i]) + k] = (uint32_t)i;
    return VIGIL_OK;
}

/* The copy-on-first-add of a mapped index */
static vigil_result own(vigil_rooms *r, vigil_error *err)
{
    if (r->owned) return VIGIL_OK;
    if (vigil__buf_put(&r->bimg, r->img, r->nimg * sizeof *r->img) || vigil__buf_put(&r->bstr, r->strings, r->strings_size) ||
        vigil__buf_put(&r->bdesc, r->desc, r->nfeat * sizeof *r->desc) || vigil__buf_put(&r->bxy, r->xy, r->nfeat * 8) ||
        vigil__buf_put(&r->bshape, r->shape, r->nfeat * 2)) {
        r->bimg.n = r->bstr.n = r->bdesc.n = r->bxy.n = r->bshape.n = 0; /* still mapped: try again later */
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    }
    vigil__sections_unmap(&r->mp);
    r->owned = 1;
    r->prepared = 0;
    point_at_buffers(r);
    return VIGIL_OK;
}

vigil_result vigil_rooms_add(vigil_rooms *r, const char *name, const char *labels, const vigil_features *f, vigil_error *err)
{
    if (!r || !f || (f->n && (!f->kp || !f->desc))) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    if (f->n > 65535) return vigil__fail(err, VIGIL_E_INVALID, "more than 65535 features in one image");
    if (r->nfeat + f->n >= UINT32_MAX || r->nimg >= UINT32_MAX - 1)
        return vigil__fail(err, VIGIL_E_INVALID, "room index full (4 billion features)");
    vigil_result e = own(r, err);
    if (e) return e;
    img_rec rec = {(uint32_t)r->nfeat, (uint32_t)(r->nfeat >> 32), f->n, f->width, f->height, 0, 0, 0};
    size_t n0 = r->bstr.n;
    rec.name = (uint32_t)r->bstr.n;
    int bad = vigil__buf_put(&r->bstr, name ? name : "", strlen(name ? name : "") + 1);
    rec.labels = (uint32_t)r->bstr.n;
    bad = bad || vigil__buf_put(&r->bstr, labels ? labels : "", strlen(labels ? labels : "") + 1);
    if (!bad && r->bstr.n >= UINT32_MAX) bad = 1;
    size_t d0 = r->bdesc.n, x0 = r->bxy.n, a0 = r->bshape.n;
    bad = bad || vigil__buf_put(&r->bdesc, f->desc, (size_t)f->n * sizeof *f->desc) || vigil__buf_put(&r->bxy, NULL, (size_t)f->n * 8) ||
          vigil__buf_put(&r->bshape, NULL, (size_t)f->n * 2);
    bad = bad || vigil__buf_put(&r->bimg, &rec, sizeof rec);
    if (bad) {
        r->bstr.n = n0; r->bdesc.n = d0; r->bxy.n = x0; r->bshape.n = a0;
        point_at_buffers(r);
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    }
    float *xy = (float *)(r->bxy.p + x0);
    for (uint32_t i = 0; i < f->n; i++) {
        xy[2 * i] = f->kp[i].x;
        xy[2 * i + 1] = f->kp[i].y;
        r->bshape.p[a0 + 2 * i] = angle_byte(f->kp[i].angle);
        r->bshape.p[a0 + 2 * i + 1] = scale_byte(f->kp[i].scale);
    }
    r->nimg++;
    r->nfeat += f->n;
    r->prepared = 0;
    point_at_buffers(r);
    return VIGIL_OK;
}

vigil_result vigil_rooms_prepare(vigil_rooms *r, vigil_error *err)
{
    if (!r) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    if (r->prepared) return VIGIL_OK;
    /* counting sort per table: offsets, then slots */
    r->boff.n = r->bids.n = 0;
    if (vigil__buf_put(&r->boff, NULL, TABLES * (BUCKETS + 1ull) * 4) || vigil__buf_put(&r->bids, NULL, TABLES * r->nfeat * 4 + 4))
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    uint32_t *off = (uint32_t *)r->boff.p, *ids = (uint32_t *)r->bids.p;
    for (int t = 0; t < TABLES; t++) {
        uint32_t *o = off + (size_t)t * (BUCKETS + 1);
        for (uint64_t i = 0; i < r->nfeat; i++) o[key_of(&r->desc[i], t) + 1]++;
        for (uint32_t k = 0; k < BUCKETS; k++) o[k + 1] += o[k];
        uint32_t *fill = malloc(BUCKETS * sizeof *fill);
        if (!fill) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
        memcpy(fill, o, BUCKETS * sizeof *fill);
        for (uint64_t i = 0; i < r->nfeat; i++) ids[(uint64_t)t * r->nfeat + fill[key_of(&r->desc[i], t)]++] = (uint32_t)i;
        free(fill);
    }
    r->offsets = off;
    r->ids = ids;
    vigil_result e = derive_owner(r, err);
    if (e) return e;
    r->prepared = 1;
    return VIGIL_OK;
}

vigil_result vigil_rooms_save(vigil_rooms *r, const char *path, vigil_error *err)
{
    if (!r || !path) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    vigil_result e = vigil_rooms_prepare(r, err);
    if (e) return e;
    rmeta m = {r->nimg, r->nfeat, r->strings_size, TABLES, 0, {0}};
    vigil__part parts[] = {
        {S_META, &m, sizeof m},
        {S_IMAGES, r->img, r->nimg * sizeof *r->img},
        {S_STRINGS, r->strings, r->strings_size},
        {S_DESC, r->desc, r->nfeat * sizeof *r->desc},
        {S_XY, r->xy, r->nfeat * 8},
        {S_SHAPE, r->shape, r->nfeat * 2},
        {S_OFFSETS, r->offsets, TABLES * (BUCKETS + 1ull) * 4},
        {S_IDS, r->ids, TABLES * r->nfeat * 4},
    };
    return vigil__sections_write(path, MAGIC, VERSION, parts, (int)(sizeof parts / sizeof parts[0]), err);
}

/* After the first add the handle no longer holds the file's copy (own): no source then. */
vigil_source_state vigil_rooms_source_state(const vigil_rooms *r, vigil_error *why)
{
    return r ? vigil__source_state(&r->mp.src, why) : VIGIL_SOURCE_SAME;
}

vigil_result vigil_rooms_content_id(const vigil_rooms *r, char out[33])
{
    return r ? vigil__source_content_id(&r->mp.src, out) : VIGIL_E_INVALID;
}

vigil_result vigil_rooms_open(const char *path, vigil_rooms **out, vigil_error *err)
{
    if (!path || !out) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    *out = NULL;
    vigil_rooms *r = calloc(1, sizeof *r);
    if (!r) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    vigil_result e = vigil__sections_map(path, MAGIC, VERSION, "room index", S_COUNT, &r->mp, err);
    if (e) { free(r); return e; }
    const char *why = NULL;
    rmeta m;
    for (int t = 1; t < S_COUNT && !why; t++)
        if (!r->mp.part[t]) why = "a section is missing";
    if (!why && r->mp.len[S_META] != sizeof m) why = "bad META section";
    if (!why) {
        memcpy(&m, r->mp.part[S_META], sizeof m);
        if (m.tables != TABLES || m.nimages >= UINT32_MAX || m.nfeatures >= UINT32_MAX ||
            r->mp.len[S_IMAGES] != m.nimages * sizeof(img_rec) || r->mp.len[S_STRINGS] != m.strings_size ||
            m.strings_size == 0 || m.strings_size >= UINT32_MAX || r->mp.len[S_DESC] != m.nfeatures * 32 ||
            r->mp.len[S_XY] != m.nfeatures * 8 || r->mp.len[S_SHAPE] != m.nfeatures * 2 || r->mp.len[S_OFFSETS] != TABLES * (BUCKETS + 1ull) * 4 ||
            r->mp.len[S_IDS] != TABLES * m.nfeatures * 4)
            why = "section sizes do not agree with the counts";
    }
    if (!why) {
        r->nimg = m.nimages;
        r->nfeat = m.nfeatures;
        r->strings_size = m.strings_size;
        r->img = (const img_rec *)r->mp.part[S_IMAGES];
        r->strings = (const char *)r->mp.part[S_STRINGS];
        r->desc = (const vigil_pdq *)r->mp.part[S_DESC];
        r->xy = (const float *)r->mp.part[S_XY];
        r->shape = r->mp.part[S_SHAPE];
        r->offsets = (const uint32_t *)r->mp.part[S_OFFSETS];
        r->ids = (const uint32_t *)r->mp.part[S_IDS];
        /* the structure the search relies on, so a crafted file cannot send it out of bounds */
        uint64_t next = 0;
        if (r->strings[r->strings_size - 1] != 0) why = "strings not terminated";
        for (uint64_t i = 0; i < r->nimg && !why; i++) {
            const img_rec *c = &r->img[i];
            if (first_of(c) != next || c->n > 65535 || c->name >= r->strings_size || c->labels >= r->strings_size)
                why = "an image record is out of range";
            next += c->n;
        }
        if (!why && next != r->nfeat) why = "image records do not cover the features";
        for (int t = 0; t < TABLES && !why; t++) {
            const uint32_t *o = r->offsets + (size_t)t * (BUCKETS + 1);
            if (o[0] != 0 || o[BUCKETS] != r->nfeat) why = "bucket offsets do not cover the features";
            for (uint32_t k = 0; k < BUCKETS && !why; k++)
                if (o[k] > o[k + 1]) why = "bucket offsets out of order";
        }
        for (uint64_t i = 0; i < TABLES * r->nfeat && !why; i++)
            if (r->ids[i] >= r->nfeat) why = "a slot points outside the features";
    }
    if (why) {
        vigil_rooms_free(r);
        return vigil__fail(err, VIGIL_E_CORRUPT, "%s", why);
    }
    if ((e = derive_owner(r, err))) { vigil_rooms_free(r); return e; }
    r->prepared = 1;
    *out = r;
    return VIGIL_OK;
}

void vigil_rooms_get_stats(const vigil_rooms *r, vigil_rooms_stats *s)
{
    memset(s, 0, sizeof *s);
    if (!r) return;
    s->images = r->nimg;
    s->features = r->nfeat;
    s->bytes = r->nimg * sizeof(img_rec) + r->strings_size + r->nfeat * (32 + 8 + 2 + TABLES * 4 + 4) +
               TABLES * (BUCKETS + 1ull) * 4;
}

vigil_result vigil_rooms_image(const vigil_rooms *r, uint64_t i, const char **name, const char **labels, uint32_t *nfeatures)
{
    if (!r || i >= r->nimg) return VIGIL_E_NOT_FOUND;
    if (name) *name = r->strings + r->img[i].name;
    if (labels) *labels = r->strings + r->img[i].labels;
    if (nfeatures) *nfeatures = r->img[i].n;
    return VIGIL_OK;
}

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

/* The caller's options (NULL: defaults) as this build's struct; see options.h. */
static vigil_result take_query_options(const vigil_rooms_query_options *in, vigil_rooms_query_options *o,
                                       vigil_error *err)
{
    vigil_rooms_query_options_init(o);
    if (!in) return VIGIL_OK;
    vigil_result r = vigil__opt_check(in->struct_size, sizeof *o, "vigil_rooms_query_options", err);
    if (r) return r;
    VIGIL__OPT_TAKE(o, in, top_k);
    VIGIL__OPT_TAKE(o, in, radius);
    VIGIL__OPT_TAKE(o, in, verify);
    VIGIL__OPT_TAKE(o, in, min_inliers);
    VIGIL__OPT_TAKE(o, in, tolerance);
    VIGIL__OPT_TAKE(o, in, exhaustive);
    VIGIL__OPT_TAKE(o, in, ratio);
    VIGIL__OPT_TAKE(o, in, stop_factor);
    VIGIL__OPT_TAKE(o, in, guided_radius);
    VIGIL__OPT_LAST(vigil_rooms_query_options, guided_radius);
    return VIGIL_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Geometric verification */

typedef struct corr { uint32_t img, qf, rf; uint16_t dist, pad; } corr;

static int cmp_corr(const void *a, const void *b)
{
    const corr *p = a, *q = b;
    if (p->img != q->img) return p->img < q->img ? -1 : 1;
    if (p->qf != q->qf) return p->qf < q->qf ? -1 : 1;
    return (int)p->dist - (int)q->dist;
}

/* qshape: the query's features quantised like the references' (angle_byte, scale_byte) */
static int rot_bin(const vigil_rooms *r, const uint8_t *qshape, const corr *c)
{
    return ((r->shape[2 * (uint64_t)c->rf] - qshape[2 * c->qf]) & 255) >> 4;
}

static int scale_bin(const vigil_rooms *r, const uint8_t *qshape, const corr *c)
{
    int d = (int)r->shape[2 * (uint64_t)c->rf + 1] - (int)qshape[2 * c->qf + 1]; /* 1/8 octaves */
    int b = (d + 60) / 3;                                                                     /* 3/8: one level */
    return b < 0 ? 0 : b > 39 ? 39 : b;
}

static int cmp_rf(const void *a, const void *b)
{
    const corr *p = a, *q = b;
    if (p->rf != q->rf) return p->rf < q->rf ? -1 : 1;
    return p->dist != q->dist ? (int)p->dist - (int)q->dist : (p->qf > q->qf) - (p->qf < q->qf);
}

/* Solves the n x n system a x = b in place (partial pivoting); 0 when singular. */
static int solve(double *a, double *b, int n)
{
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int i = c + 1; i < n; i++)
            if (fabs(a[i * n + c]) > fabs(a[p * n + c])) p = i;
        if (fabs(a[p * n + c]) < 1e-10) return 0;
        if (p != c) {
            for (int k = 0; k < n; k++) { double t = a[c * n + k]; a[c * n + k] = a[p * n + k]; a[p * n + k] = t; }
            double t = b[c]; b[c] = b[p]; b[p] = t;
        }
        for (int i = c + 1; i < n; i++) {
            double f = a[i * n + c] / a[c * n + c];
            for (int k = c; k < n; k++) a[i * n + k] -= f * a[c * n + k];
            b[i] -= f * b[c];
        }
    }
    for (int c = n - 1; c >= 0; c--) {
        double s = b[c];
        for (int k = c + 1; k < n; k++) s -= a[c * n + k] * b[k];
        b[c] = s / a[c * n + c];
    }
    return 1;
}

/* Least-squares homography (h33 = 1) from the listed correspondences, normalised coordinates:
 * normal equations of the DLT rows. */
static int fit(const double *q, const double *p, const int *idx, int n, double h[9])
{
    double ata[64] = {0}, atb[8] = {0};
    for (int i = 0; i < n; i++) {
        double x = q[2 * idx[i]], y = q[2 * idx[i] + 1], u = p[2 * idx[i]], v = p[2 * idx[i] + 1];
        double r1[8] = {x, y, 1, 0, 0, 0, -u * x, -u * y}, r2[8] = {0, 0, 0, x, y, 1, -v * x, -v * y};
        for (int a = 0; a < 8; a++) {
            atb[a] += r1[a] * u + r2[a] * v;
            for (int b = 0; b < 8; b++) ata[a * 8 + b] += r1[a] * r1[b] + r2[a] * r2[b];
        }
    }
    if (!solve(ata, atb, 8)) return 0;
    memcpy(h, atb, 8 * sizeof *h);
    h[8] = 1;
    /* no mirror image (a room seen again keeps its handedness), and no collapse: both point sets
     * are normalised to the same spread, so a true view change keeps the local area within a
     * modest factor */
    double det = h[0] * h[4] - h[1] * h[3];
    return det > 1.0 / 16 && det < 16;
}

static int count_inliers(const double *q, const double *p, int n, const double h[9], double tol2, int *in)
{
    int c = 0;
    for (int i = 0; i < n; i++) {
        double x = q[2 * i], y = q[2 * i + 1];
        double w = h[6] * x + h[7] * y + h[8];
        if (w <= 1e-9) continue; /* behind the camera */
        double u = (h[0] * x + h[1] * y + h[2]) / w - p[2 * i], v = (h[3] * x + h[4] * y + h[5]) / w - p[2 * i + 1];
        if (u * u + v * v <= tol2) {
            if (in) in[c] = i;
            c++;
        }
    }
    return c;
}

static void normalise(const double *pt, int n, double *out, double t[3])
{
    double mx = 0, my = 0, d = 0;
    for (int i = 0; i < n; i++) { mx += pt[2 * i]; my += pt[2 * i + 1]; }
    mx /= n; my /= n;
    for (int i = 0; i < n; i++) d += hypot(pt[2 * i] - mx, pt[2 * i + 1] - my);
    double s = d > 0 ? 1.41421356 * n / d : 1;
    for (int i = 0; i < n; i++) { out[2 * i] = (pt[2 * i] - mx) * s; out[2 * i + 1] = (pt[2 * i + 1] - my) * s; }
    t[0] = s; t[1] = mx; t[2] = my;
}

/* Whether three of the four sample points (normalised coordinates) nearly lie on a line: such a
 * sample fixes the homography in one direction only. */
static int collinear(const double *pt, const int *s)
{
    static const int tri[4][3] = {{0, 1, 2}, {0, 1, 3}, {0, 2, 3}, {1, 2, 3}};
    for (int t = 0; t < 4; t++) {
        const double *a = pt + 2 * s[tri[t][0]], *b = pt + 2 * s[tri[t][1]], *c = pt + 2 * s[tri[t][2]];
        double area = fabs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])) / 2;
        if (area < 0.02) return 1;
    }
    return 0;
}

static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void to_pixels(const double *bh, const double *tq, const double *tp, float hout[9]);

/* RANSAC over n correspondences (query points qp -> reference points rp, pixels). Returns the
 * inlier count and the homography in pixels. Deterministic: seeded by the image. */
static int ransac(const double *qp, const double *rp, int n, double tol_px, uint64_t seed, float hout[9], double *work,
                  int *iwork)
{
    if (n < 4) return 0;
    double *q = work, *p = work + 2 * n;
    double tq[3], tp[3];
    normalise(qp, n, q, tq);
    normalise(rp, n, p, tp);
    double tol = tol_px * tp[0], tol2 = tol * tol;
    int best = 0, *in = iwork, *sample = iwork + n;
    double bh[9] = {0}, h[9];
    uint64_t s = seed * 0x2545f4914f6cdd1dull + 1;
    int iters = 500;
    for (int it = 0; it < iters; it++) {
        int k = 0;
        for (int tries = 0; k < 4 && tries < 64; tries++) {
            int c = (int)(next_rand(&s) % (uint64_t)n), dup = 0;
            for (int j = 0; j < k; j++) dup |= sample[j] == c;
            if (!dup) sample[k++] = c;
        }
        if (k < 4 || collinear(q, sample) || collinear(p, sample) || !fit(q, p, sample, 4, h)) continue;
        int c = count_inliers(q, p, n, h, tol2, NULL);
        if (c > best) {
            best = c;
            memcpy(bh, h, sizeof h);
            /* enough draws for 99 % confidence of one all-inlier sample at this inlier ratio */
            double w = (double)c / n, w4 = w * w * w * w;
            int need = w4 >= 1 ? 1 : (int)ceil(log(0.01) / log(1 - w4));
            if (need < iters) iters = need < 64 ? 64 : need;
        }
    }
    if (best < 4) return 0;
    /* refit on the inliers, twice, keeping the better count */
    for (int round = 0; round < 2; round++) {
        int c = count_inliers(q, p, n, bh, tol2, in);
        if (c < 4 || !fit(q, p, in, c, h)) break;
        int c2 = count_inliers(q, p, n, h, tol2, NULL);
        if (c2 < c) break;
        memcpy(bh, h, sizeof h);
        best = c2;
    }
    to_pixels(bh, tq, tp, hout);
    return best;
}

/* Back to pixels: H = Tp^-1 * Hn * Tq. */
static void to_pixels(const double *bh, const double *tq, const double *tp, float hout[9])
{
    double sq = tq[0], sp = tp[0];
    double A[9] = {sq, 0, -sq * tq[1], 0, sq, -sq * tq[2], 0, 0, 1}, B[9] = {1 / sp, 0, tp[1], 0, 1 / sp, tp[2], 0, 0, 1};
    double t1[9] = {0}, t2[9] = {0};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++) t1[i * 3 + j] += bh[i * 3 + k] * A[k * 3 + j];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++) t2[i * 3 + j] += B[i * 3 + k] * t1[k * 3 + j];
    for (int i = 0; i < 9; i++) hout[i] = (float)(t2[i] / t2[8]);
}

/* Guided matching. RANSAC saw only the correspondences the index found and the ratio test kept;
 * once the homography is known, each query feature is looked for where it puts it in the
 * reference image, within tol pixels and a looser descriptor distance. That recovers the true
 * matches the index missed (no 16-bit key in common) or the ratio test dropped (a repeated
 * pattern is harmless once the position is fixed). One query feature per reference feature, the
 * nearest in descriptor, whose orientation and scale agree with where H takes the query
 * keypoint's (within 30 degrees and half an octave). Then H is refitted on them all and the search
 * repeated once. Returns the count and updates h.
 * Two guards keep a chance homography from collecting "inliers": features that are a stop word in
 * more than 2 of their 8 tables (query or reference) take no part, and the orientation and scale
 * must agree. Without either, featureless patterns (within 64 bits of each other across unrelated
 * images) gave a night sky 30+ inliers on distractors: 63 / 214 false matches at 10 inliers
 * (bench-rooms, 10,216 images), against 1 / 214 with both. */
typedef struct ypt { float y; uint32_t j; } ypt;
/* At most this many of a feature's 8 keys may be stop words for it to take part: more, and
 * it is a featureless pattern that lies within 64 bits of its like in unrelated images. */
#define GUIDED_MAX_COMMON 2
#define GUIDED_COMMON_FACTOR 8 /* "common" as stop words are by default, whatever the query's stop_factor */

static int cmp_ypt(const void *a, const void *b)
{
    const ypt *p = a, *q = b;
    return p->y < q->y ? -1 : p->y > q->y ? 1 : (p->j > q->j) - (p->j < q->j);
}

/* One search: ys holds the image's m distinctive reference features by row (j indexes the
 * image's n features), claim[j] the nearest query feature that lands on j. */
static int guided_pass(const vigil_rooms *r, uint64_t first, const ypt *ys, uint32_t m, uint32_t n,
                       const vigil_features *qf, const uint8_t *qcommon, const float h[9], double tol, int radius,
                       uint64_t *claim, double *qp, double *rp)
{
    for (uint32_t j = 0; j < n; j++) claim[j] = UINT64_MAX;
    for (uint32_t i = 0; i < qf->n; i++) {
        if (qcommon[i] > GUIDED_MAX_COMMON) continue;
        double x = qf->kp[i].x, y = qf->kp[i].y, w = h[6] * x + h[7] * y + h[8];
        if (w <= 1e-9) continue;
        double u = (h[0] * x + h[1] * y + h[2]) / w, v = (h[3] * x + h[4] * y + h[5]) / w;
        int want_a = -1, want_s = 0; /* worked out at the first reference point in reach */
        uint32_t lo = 0, hi = m; /* the first reference point at or below v - tol */
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (ys[mid].y < v - tol) lo = mid + 1; else hi = mid;
        }
        uint32_t bd = (uint32_t)radius + 1, bj = 0;
        for (uint32_t k = lo; k < m && ys[k].y <= v + tol; k++) {
            uint64_t f = first + ys[k].j;
            double du = r->xy[2 * f] - u, dv = r->xy[2 * f + 1] - v;
            if (du * du + dv * dv > tol * tol) continue;
            if (want_a < 0) { /* where H takes the keypoint's orientation and scale: a step along it, mapped */
                double st = 8 * qf->kp[i].scale, x1 = x + st * cos(qf->kp[i].angle), y1 = y + st * sin(qf->kp[i].angle);
                double w1 = h[6] * x1 + h[7] * y1 + h[8];
                if (w1 <= 1e-9) break;
                double du1 = (h[0] * x1 + h[1] * y1 + h[2]) / w1 - u, dv1 = (h[3] * x1 + h[4] * y1 + h[5]) / w1 - v;
                double len = hypot(du1, dv1) / 8;
                want_a = (int)lround(atan2(dv1, du1) * (256 / 6.283185307179586)) & 255;
                want_s = (int)lround(log2(len > 1e-3 ? len : 1e-3) * 8) + 64;
            }
            int da = (r->shape[2 * f] - want_a) & 255, ds = (int)r->shape[2 * f + 1] - want_s;
            if ((da > 21 && da < 235) || ds > 4 || ds < -4) continue; /* 30 degrees, half an octave */
            uint32_t d = vigil_pdq_distance(&qf->desc[i], &r->desc[f]);
            if (d >= bd) continue;
            bd = d;
            bj = ys[k].j;
        }
        if (bd <= (uint32_t)radius && ((uint64_t)bd << 32 | i) < claim[bj]) claim[bj] = (uint64_t)bd << 32 | i;
    }
    int c = 0;
    for (uint32_t j = 0; j < n; j++) {
        if (claim[j] == UINT64_MAX) continue;
        uint32_t i = (uint32_t)claim[j];
        qp[2 * c] = qf->kp[i].x;
        qp[2 * c + 1] = qf->kp[i].y;
        rp[2 * c] = r->xy[2 * (first + j)];
        rp[2 * c + 1] = r->xy[2 * (first + j) + 1];
        c++;
    }
    return c;
}

/* common_at: the bucket size above which a key counts as a stop word for the guard */
static int guided(const vigil_rooms *r, const img_rec *rec, const vigil_features *qf, const uint8_t *qcommon,
                  uint64_t common_at, double tol, int radius, float h[9])
{
    uint32_t n = rec->n;
    uint64_t first = first_of(rec);
    ypt *ys = malloc((size_t)n * sizeof *ys + 1);
    uint64_t *claim = malloc((size_t)n * sizeof *claim + 1);
    double *buf = malloc((size_t)n * 8 * sizeof *buf + 1);
    int *idx = malloc((size_t)n * sizeof *idx + 1);
    int best = -1; /* -1: out of memory, the caller keeps what RANSAC found */
    if (!ys || !claim || !buf || !idx) goto out;
    uint32_t m = 0; /* the distinctive reference features, once for both passes */
    for (uint32_t j = 0; j < n; j++) {
        const vigil_pdq *d = &r->desc[first + j];
        int common = 0;
        for (int t = 0; t < TABLES; t++) {
            const uint32_t *o = r->offsets + (size_t)t * (BUCKETS + 1);
            uint32_t key = key_of(d, t);
            common += o[key + 1] - o[key] > common_at;
        }
        if (common > GUIDED_MAX_COMMON) continue;
        float y = r->xy[2 * (first + j) + 1]; /* non-finite (a damaged file): sorts last, never in reach */
        ys[m++] = (ypt){isfinite(y) ? y : FLT_MAX, j};
    }
    qsort(ys, m, sizeof *ys, cmp_ypt);
    double *qp = buf, *rp = buf + 2 * n, *qn = buf + 4 * n, *rn = buf + 6 * n;
    best = guided_pass(r, first, ys, m, n, qf, qcommon, h, tol, radius, claim, qp, rp);
    if (best < 8) goto out;
    double tq[3], tp[3], hn[9];
    normalise(qp, best, qn, tq);
    normalise(rp, best, rn, tp);
    for (int i = 0; i < best; i++) idx[i] = i;
    if (!fit(qn, rn, idx, best, hn)) goto out;
    float h2[9];
    to_pixels(hn, tq, tp, h2);
    int c = guided_pass(r, first, ys, m, n, qf, qcommon, h2, tol, radius, claim, qp, rp);
    if (c > best) { best = c; memcpy(h, h2, sizeof h2); }
out:
    free(ys); free(claim); free(buf); free(idx);
    return best;
}

/* ------------------------------------------------------------------------------------------------
 * Query */

/* "hotel_id value|room value" from labels "k=v k=v", empty when neither is there */
static void room_key(const char *labels, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    static const char *const keys[] = {"hotel_id=", "room="};
    for (int k = 0; k < 2; k++) {
        size_t kl = strlen(keys[k]);
        for (const char *p = labels; p && *p;) {
            if (!strncmp(p, keys[k], kl) && (p == labels || p[-1] == ' ')) {
                const char *v = p + kl, *e = strchr(v, ' ');
                size_t vl = e ? (size_t)(e - v) : strlen(v);
                if (n + vl + 2 < cap) { memcpy(out + n, v, vl); n += vl; }
                break;
            }
            const char *sp = strchr(p, ' ');
            p = sp ? sp + 1 : NULL;
        }
        if (n + 2 < cap) out[n++] = '|';
    }
    out[n] = 0;
    if (n == 2) out[0] = 0; /* neither label */
}

typedef struct scored { uint32_t img, votes, inliers; float weight, h[9]; } scored;

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

vigil_result vigil_rooms_query(const vigil_rooms *r, const vigil_features *qf, const vigil_rooms_query_options *opt,
                               vigil_rooms_match *out, size_t *nout, vigil_error *err)
{
    vigil_rooms_query_options def;
    vigil_result ro = take_query_options(opt, &def, err);
    if (ro) return ro;
    opt = &def;
    if (!r || !qf || !nout || (qf->n && (!qf->kp || !qf->desc)) || (opt->top_k && !out) || opt->radius < 0 || opt->radius > 256 ||
        !(opt->ratio > 0 && opt->ratio <= 1))
        return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    if (!r->prepared) return vigil__fail(err, VIGIL_E_INVALID, "room index not prepared (call vigil_rooms_prepare after adding)");
    *nout = 0;
    if (qf->n == 0 || r->nfeat == 0 || opt->top_k == 0) return VIGIL_OK;
    const vigil__kernels *kern = vigil__kernels_best();
    vigil_result res = VIGIL_OK;
    uint32_t *slots = NULL, *votes = NULL, *touched = NULL, *stamp = NULL, *touched_q = NULL;
    float *weight = NULL;  /* per image: its votes, each weighted by how rare the match is */
    uint64_t *best = NULL; /* per image, this query feature: best distance, second distance, best feature */
    vigil__hit *hits = NULL;
    corr *cv = NULL;
    scored *sc = NULL;
    double *pts = NULL, *work = NULL;
    uint8_t *qshape = NULL, *qcommon = NULL; /* per query feature: tables where it is a stop word */
    int *iwork = NULL;
    size_t cap = 0, ncv = 0, cvcap = 0, ntouched = 0;
    votes = calloc(r->nimg, sizeof *votes);
    weight = calloc(r->nimg, sizeof *weight);
    touched = malloc(r->nimg * sizeof *touched);
    stamp = calloc(r->nimg, sizeof *stamp); /* query feature + 1 that last voted for the image */
    touched_q = malloc(r->nimg * sizeof *touched_q);
    best = malloc(r->nimg * sizeof *best);
    qcommon = calloc(qf->n, 1);
    if (!qcommon || !votes || !weight || !touched || !stamp || !touched_q || !best) goto nomem;

    /* (1) + (2): candidates per query feature, one vote per image */
    const uint64_t stop = 64 + (uint64_t)opt->stop_factor * (r->nfeat / BUCKETS);
    const uint64_t common_at = 64 + (uint64_t)GUIDED_COMMON_FACTOR * (r->nfeat / BUCKETS);
    if (opt->exhaustive) { /* every reference feature, in order: the slots are the identity */
        cap = r->nfeat;
        slots = malloc(cap * sizeof *slots);
        hits = malloc(cap * sizeof *hits);
        if (!slots || !hits) goto nomem;
        for (uint64_t f = 0; f < r->nfeat; f++) slots[f] = (uint32_t)f;
    }
    for (uint32_t i = 0; i < qf->n; i++) {
        size_t n = opt->exhaustive ? r->nfeat : 0;
        for (int t = 0; t < TABLES; t++) {
            const uint32_t *o = r->offsets + (size_t)t * (BUCKETS + 1);
            uint32_t k = key_of(&qf->desc[i], t), a = o[k], b = o[k + 1];
            /* a bucket far above the mean holds the common, featureless patterns: a stop word */
            qcommon[i] += b - a > common_at;
            if (opt->exhaustive || b - a > stop) continue; /* brute force: the tables only say what is common */
            if (n + (b - a) > cap) {
                size_t nc = cap ? cap : 1024;
                while (nc < n + (b - a)) nc *= 2;
                uint32_t *ns = realloc(slots, nc * sizeof *ns);
                vigil__hit *nh = ns ? realloc(hits, nc * sizeof *nh) : NULL;
                if (ns) slots = ns;
                if (!ns || !nh) goto nomem;
                hits = nh;
                cap = nc;
            }
            if (b > a) memcpy(slots + n, r->ids + (uint64_t)t * r->nfeat + a, (size_t)(b - a) * sizeof *slots);
            n += b - a;
        }
        if (!n) continue;
        /* the candidates are scattered over the whole descriptor array (160 MB at 10,000 images):
         * ask for all their cache lines first, so the misses overlap instead of queueing */
        if (!opt->exhaustive)
            for (size_t k = 0; k < n; k++) __builtin_prefetch(&r->desc[slots[k]]);
        size_t nh = kern->radius(&qf->desc[i], 1, r->desc, slots, n, opt->radius, hits);
        if (!nh) continue;
        /* per image: the nearest match and the distance of the second nearest distinct feature */
        size_t nimgs = 0;
        for (size_t h = 0; h < nh; h++) {
            uint32_t f = slots[hits[h].ref], img = r->owner[f], d = hits[h].dist;
            if (stamp[img] != i + 1) {
                stamp[img] = i + 1;
                best[img] = (uint64_t)d << 48 | (uint64_t)0xffff << 32 | f;
                touched_q[nimgs++] = img;
                continue;
            }
            uint32_t bd = (uint32_t)(best[img] >> 48), sd = (uint32_t)(best[img] >> 32) & 0xffff, bf = (uint32_t)best[img];
            if (f == bf) continue; /* the same feature found through another table */
            if (d < bd) best[img] = (uint64_t)d << 48 | (uint64_t)bd << 32 | f;
            else if (d < sd) best[img] = (uint64_t)bd << 48 | (uint64_t)d << 32 | bf;
        }
        size_t ncv0 = ncv;
        for (size_t k = 0; k < nimgs; k++) {
            uint32_t img = touched_q[k], bd = (uint32_t)(best[img] >> 48), sd = (uint32_t)(best[img] >> 32) & 0xffff;
            /* ratio test within the image: a second match nearly as near means a repeated or
             * featureless pattern, which says nothing about the place */
            if (sd != 0xffff && (float)bd > opt->ratio * (float)sd) continue;
            if (ncv == cvcap) {
                cvcap = cvcap ? cvcap * 2 : 4096;
                corr *nc = realloc(cv, cvcap * sizeof *nc);
                if (!nc) goto nomem;
                cv = nc;
            }
            cv[ncv++] = (corr){img, i, (uint32_t)best[img], (uint16_t)bd, 0};
            if (votes[img]++ == 0) touched[ntouched++] = img;
        }
        /* a query feature matching in many images is a common pattern: its votes count for less
         * (inverse document frequency), so the rare matches a place shares rank it among the
         * images that get verified */
        if (ncv > ncv0) {
            float w = logf((float)(r->nimg + 1) / (float)(ncv - ncv0));
            for (size_t k = ncv0; k < ncv; k++) weight[cv[k].img] += w;
        }
    }
    if (!ntouched) goto done;

    /* (3): verify the best-voted images */
    sc = malloc(ntouched * sizeof *sc);
    if (!sc) goto nomem;
    for (size_t i = 0; i < ntouched; i++) sc[i] = (scored){touched[i], votes[touched[i]], 0, weight[touched[i]], {0}};
    qsort(sc, ntouched, sizeof *sc, cmp_votes);
    size_t nver = ntouched < opt->verify ? ntouched : opt->verify;
    qsort(cv, ncv, sizeof *cv, cmp_corr);
    qshape = malloc(2 * (size_t)qf->n);
    if (!qshape) goto nomem;
    for (uint32_t i = 0; i < qf->n; i++) {
        qshape[2 * i] = angle_byte(qf->kp[i].angle);
        qshape[2 * i + 1] = scale_byte(qf->kp[i].scale);
    }
    pts = malloc(4 * qf->n * sizeof *pts);
    work = malloc(4 * qf->n * sizeof *work);
    iwork = malloc(2 * (size_t)qf->n * sizeof *iwork + 8 * sizeof *iwork);
    if (!pts || !work || !iwork) goto nomem;
    for (size_t v = 0; v < nver; v++) {
        if (sc[v].votes < (opt->min_inliers > 4 ? opt->min_inliers : 4)) { sc[v].inliers = 0; continue; }
        /* this image's correspondences: binary search for its run in cv */
        size_t lo = 0, hi = ncv;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (cv[mid].img < sc[v].img) lo = mid + 1; else hi = mid;
        }
        size_t end = lo;
        while (end < ncv && cv[end].img == sc[v].img) end++;
        /* one query feature per reference feature (the nearest): many query features landing on
         * one reference point would let a collapsing homography collect inliers */
        qsort(cv + lo, end - lo, sizeof *cv, cmp_rf);
        /* the rotation between the views: the strongest window of 3 bins of orientation
         * difference, and the strongest apart from it (a repeated pattern can outvote the true
         * rotation); RANSAC on each, the better one counts */
        uint32_t bins[16] = {0};
        for (size_t k = lo; k < end; k++) bins[rot_bin(r, qshape, &cv[k])]++;
        int peaks[2] = {-1, -1};
        for (int t = 0; t < 2; t++) {
            uint32_t bestw = 0;
            for (int b = 0; b < 16; b++) {
                if (t == 1 && ((b - peaks[0] + 18) & 15) <= 4) continue; /* overlaps the first window */
                uint32_t w = bins[(b + 15) & 15] + bins[b] + bins[(b + 1) & 15];
                if (w > bestw) { bestw = w; peaks[t] = b; }
            }
            if (bestw < (opt->min_inliers > 4 ? opt->min_inliers : 4)) peaks[t] = -1;
            if (peaks[t] < 0) break;
        }
        const img_rec *rec = &r->img[sc[v].img];
        double side = rec->width > rec->height ? rec->width : rec->height;
        for (int t = 0; t < 2 && peaks[t] >= 0; t++) {
            /* within the rotation window, the scale change between the views: the strongest
             * window of 3 bins of log-scale difference, a bin being one pyramid level */
            uint32_t sbins[40] = {0};
            for (size_t k = lo; k < end; k++)
                if (((rot_bin(r, qshape, &cv[k]) - peaks[t] + 17) & 15) <= 2) sbins[scale_bin(r, qshape, &cv[k])]++;
            int speak = 1;
            uint32_t sw = 0;
            for (int b = 1; b < 39; b++)
                if (sbins[b - 1] + sbins[b] + sbins[b + 1] > sw) { sw = sbins[b - 1] + sbins[b] + sbins[b + 1]; speak = b; }
            int n = 0;
            for (size_t k = lo; k < end; k++) {
                if (k > lo && cv[k].rf == cv[k - 1].rf) continue;
                if (((rot_bin(r, qshape, &cv[k]) - peaks[t] + 17) & 15) > 2) continue;
                if (abs(scale_bin(r, qshape, &cv[k]) - speak) > 1) continue;
                pts[2 * n] = qf->kp[cv[k].qf].x;
                pts[2 * n + 1] = qf->kp[cv[k].qf].y;
                pts[2 * qf->n + 2 * n] = r->xy[2 * (uint64_t)cv[k].rf];
                pts[2 * qf->n + 2 * n + 1] = r->xy[2 * (uint64_t)cv[k].rf + 1];
                n++;
            }
            if (n < 4) continue;
            float h[9];
            uint32_t in = (uint32_t)ransac(pts, pts + 2 * qf->n, n, opt->tolerance * (side > 0 ? side : 640),
                                           sc[v].img * 2 + (uint64_t)t, h, work, iwork);
            if (in > sc[v].inliers) { sc[v].inliers = in; memcpy(sc[v].h, h, sizeof h); }
        }
        /* a plausible homography: the matches the index missed, where it puts them */
        if (opt->guided_radius > 0 && sc[v].inliers >= 6) {
            float h[9];
            memcpy(h, sc[v].h, sizeof h);
            int g = guided(r, rec, qf, qcommon, common_at, opt->tolerance * (side > 0 ? side : 640), opt->guided_radius, h);
            if (g > (int)sc[v].inliers) { sc[v].inliers = (uint32_t)g; memcpy(sc[v].h, h, sizeof h); }
        }
    }
    qsort(sc, nver, sizeof *sc, cmp_inliers);
    /* one per room */
    for (size_t v = 0; v < nver && *nout < opt->top_k; v++) {
        if (sc[v].inliers < opt->min_inliers) break;
        const img_rec *rec = &r->img[sc[v].img];
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
    goto done;
nomem:
    res = vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
done:
    free(slots); free(hits); free(votes); free(weight); free(touched); free(stamp); free(touched_q); free(best); free(cv); free(sc); free(pts); free(work); free(iwork); free(qshape); free(qcommon);
    return res;
}
