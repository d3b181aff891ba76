/* features.c - local binary features for recognising a place seen from another viewpoint (hotel
 * rooms): FAST-9 corners over an image pyramid, ranked by the Harris response, oriented by the
 * intensity centroid, each described by 256 binary intensity comparisons rotated to that
 * orientation (the ORB recipe: Rublee et al. 2011; Rosten and Drummond 2006 for FAST). The
 * descriptors are 256-bit like PDQ hashes, so the same Hamming kernels compare them.
 *
 * Working size: the image is decoded with shrink-on-load and brought to `work_side` pixels on its
 * longer side (default 640); the pyramid then shrinks by 1/scale_factor per level. At most
 * `max_features` features per image (default 500): 32 bytes of descriptor + 20 of keypoint each.
 * The comparison pattern is learned from oriented patches of real photographs (bench/learn_pattern.c
 * writes core/feature_pattern.h, ORB's section 4.3), and precomputed at 32 orientations.
 *
 * Stages of one extraction (extract): the pyramid, detection (FAST-9, features_fast.c), suppression
 * (3x3 non-maximum, masks, Harris ranking score), ranking (strongest first, shared by level and grid
 * cell), then per selected corner its orientation and descriptor. */
#include "features_impl.h"
#include "internal.h"
#include "load.h"
#include "options.h"
#include "radix.h"
#include "view.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PAIR_R 13       /* comparison points within [-13, 13]: rotated they stay within 18.4 */
#define BORDER 20       /* no keypoint nearer the edge than this (19 = 18.4 + 2 for the 5x5 box) */
#define ANGLE_BINS 32
#define FAST_FLOOR 4    /* the adaptive FAST threshold stops halving here */

typedef struct pair8 { int8_t x1, y1, x2, y2; } pair8;
static pair8 pattern[ANGLE_BINS][256];
static pthread_once_t pattern_once = PTHREAD_ONCE_INIT;

#include "feature_pattern.h"

static void make_pattern(void)
{
    const int8_t (*base)[4] = pattern_base;
    for (int a = 0; a < ANGLE_BINS; a++) {
        double t = a * 6.283185307179586 / ANGLE_BINS, c = cos(t), sn = sin(t);
        for (int i = 0; i < 256; i++) {
            pattern[a][i].x1 = (int8_t)lround(c * base[i][0] - sn * base[i][1]);
            pattern[a][i].y1 = (int8_t)lround(sn * base[i][0] + c * base[i][1]);
            pattern[a][i].x2 = (int8_t)lround(c * base[i][2] - sn * base[i][3]);
            pattern[a][i].y2 = (int8_t)lround(sn * base[i][2] + c * base[i][3]);
        }
    }
}

void vigil_features_options_init(vigil_features_options *o)
{
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->max_features = 500;
    o->work_side = 640;
    o->levels = 5;
    o->scale_factor = 1.3f;
    o->fast_threshold = 20;
    o->equalise = 1;
    o->grid = 4;
}

/* The caller's options (NULL: defaults) as this build's struct: take_options (options.h). */
#define FEATURES_OPTION_FIELDS(X)                                                                  \
    X(max_features) X(work_side) X(levels) X(scale_factor) X(fast_threshold) X(equalise) X(grid) \
    X(mask) X(nmask) X(mask_image) X(mask_width) X(mask_height) X(mirrored) X(even_levels)
VIGIL__OPTIONS_READER(take_options, vigil_features_options, vigil_features_options_init, FEATURES_OPTION_FIELDS,
                      even_levels)

void vigil_features_free(vigil_features *f)
{
    if (!f) return;
    free(f->kp);
    free(f->desc);
    memset(f, 0, sizeof *f);
}

/* ---- one pyramid level ----------------------------------------------------------------------- */

typedef struct level {
    uint8_t *img, *smooth;
    int w, h;
    float scale;
    int32_t *off; /* the pattern's points as offsets in this level's rows, per bin, then mirrored: level_offsets */
} level;

/* Bilinear shrink (enough between levels 1.3x apart); the column positions are computed once.
 * Each result through lut when given (the equalisation, in the same pass). */
static uint8_t *shrink(const uint8_t *src, int w, int h, size_t stride, int nw, int nh, const uint8_t *lut)
{
    uint8_t *dst = malloc((size_t)nw * nh);
    if (dst && nw == w && nh == h) { /* level 0 at the decoded size: bilinear would copy */
        for (int y = 0; y < h; y++) memcpy(dst + (size_t)y * w, src + (size_t)y * stride, (size_t)w);
        for (size_t i = 0, n = (size_t)w * h; lut && i < n; i++) dst[i] = lut[dst[i]];
        return dst;
    }
    int *cx = malloc((size_t)nw * 2 * sizeof *cx);
    float *cw = malloc((size_t)nw * sizeof *cw);
    if (!dst || !cx || !cw) { free(dst); free(cx); free(cw); return NULL; }
    float sx = (float)w / nw, sy = (float)h / nh;
    for (int x = 0; x < nw; x++) {
        float fx = (x + 0.5f) * sx - 0.5f;
        int x0 = (int)floorf(fx);
        float ax = fx - x0;
        if (x0 < 0) { x0 = 0; ax = 0; }
        cx[2 * x] = x0;
        cx[2 * x + 1] = x0 + 1 < w ? x0 + 1 : w - 1;
        cw[x] = ax;
    }
    for (int y = 0; y < nh; y++) {
        float fy = (y + 0.5f) * sy - 0.5f;
        int y0 = (int)floorf(fy);
        float ay = fy - y0;
        if (y0 < 0) { y0 = 0; ay = 0; }
        int y1 = y0 + 1 < h ? y0 + 1 : h - 1;
        const uint8_t *r0 = src + y0 * stride, *r1 = src + y1 * stride;
        for (int x = 0; x < nw; x++) {
            int x0 = cx[2 * x], x1 = cx[2 * x + 1];
            float ax = cw[x];
            float v = (1 - ay) * ((1 - ax) * r0[x0] + ax * r0[x1]) + ay * ((1 - ax) * r1[x0] + ax * r1[x1]);
            dst[(size_t)y * nw + x] = (uint8_t)(v + 0.5f);
        }
        if (lut) {
            uint8_t *d = dst + (size_t)y * nw;
            for (int x = 0; x < nw; x++) d[x] = lut[d[x]];
        }
    }
    free(cx);
    free(cw);
    return dst;
}

/* Clipped histogram equalisation, as a 256-entry table: detection then sees the same corners
 * under any global change of brightness, contrast or gamma, and finds them in a dark room's
 * shadows. Clipping each bin at twice the mean keeps a large flat area (a wall, the sky) from
 * having its noise stretched. Monotonic, so the descriptors' comparisons are unchanged but for ties. */
static void equaliser(const uint8_t *img, size_t n, uint8_t lut[256])
{
    uint32_t hist[256] = {0};
    for (size_t i = 0; i < n; i++) hist[img[i]]++;
    double lim = 2.0 * (double)n / 256, excess = 0, h[256], acc = 0;
    for (int v = 0; v < 256; v++) {
        h[v] = hist[v] > lim ? lim : hist[v];
        excess += hist[v] - h[v];
    }
    for (int v = 0; v < 256; v++) { /* the mid-point of each bin's share of the cumulative count */
        double b = h[v] + excess / 256;
        lut[v] = (uint8_t)lround(255 * (acc + b / 2) / (double)n);
        acc += b;
    }
}

/* 5x5 box mean (noise-robust comparisons, as ORB does), separable: 5-pixel column sums, then
 * 5-wide sums of those along the row. At the edges the window is cut to the image and the mean
 * taken over what remains. */
static uint8_t *box5(const uint8_t *img, int w, int h)
{
    uint16_t *col = malloc((size_t)w * sizeof *col);
    uint8_t *out = malloc((size_t)w * h);
    if (!col || !out) { free(col); free(out); return NULL; }
    for (int y = 0; y < h; y++) {
        int ya = y - 2 < 0 ? 0 : y - 2, yb = y + 3 > h ? h : y + 3, ny = yb - ya;
        if (y == 0) { /* the window's column sums, then kept running: a row in, a row out */
            for (int x = 0; x < w; x++) col[x] = img[x];
            for (int k = 1; k < ny; k++)
                for (int x = 0; x < w; x++) col[x] = (uint16_t)(col[x] + img[(size_t)k * w + x]);
        } else {
            if (y + 3 <= h) {
                const uint8_t *in = img + (size_t)(y + 2) * w;
                for (int x = 0; x < w; x++) col[x] = (uint16_t)(col[x] + in[x]);
            }
            if (y >= 3) {
                const uint8_t *gone = img + (size_t)(y - 3) * w;
                for (int x = 0; x < w; x++) col[x] = (uint16_t)(col[x] - gone[x]);
            }
        }
        uint8_t *o = out + (size_t)y * w;
        for (int x = 0; x < w && x < 2; x++) { /* left edge */
            int xb = x + 3 > w ? w : x + 3;
            uint32_t sum = 0;
            for (int i = 0; i < xb; i++) sum += col[i];
            o[x] = (uint8_t)(sum / (uint32_t)(ny * xb));
        }
        if (ny == 5) /* interior: a sum of at most 25 * 255, divided by 25 exactly as (s * 5243) >> 17 */
            for (int x = 2; x < w - 2; x++)
                o[x] = (uint8_t)(((uint32_t)col[x - 2] + col[x - 1] + col[x] + col[x + 1] + col[x + 2]) * 5243u >> 17);
        else
            for (int x = 2; x < w - 2; x++)
                o[x] = (uint8_t)(((uint32_t)col[x - 2] + col[x - 1] + col[x] + col[x + 1] + col[x + 2]) / (uint32_t)(ny * 5));
        for (int x = w - 2 > 2 ? w - 2 : 2; x < w; x++) { /* right edge */
            int xa = x - 2 < 0 ? 0 : x - 2;
            uint32_t sum = 0;
            for (int i = xa; i < w; i++) sum += col[i];
            o[x] = (uint8_t)(sum / (uint32_t)(ny * (w - xa)));
        }
    }
    free(col);
    return out;
}

/* The strength of a pixel the row test found to be a corner: the summed excess over the threshold
 * on the side that holds the 9-pixel arc. */
static int fast9(const uint8_t *p, const int *off, int t)
{
    int c = p[0], hi = c + t, lo = c - t;
    uint32_t bright = 0;
    int sb = 0, sd = 0;
    for (int k = 0; k < 16; k++) { /* branch-free: the comparisons are unpredictable */
        int v = p[off[k]], gb = v - hi, gd = lo - v;
        bright |= (uint32_t)(gb > 0) << k;
        sb += gb > 0 ? gb : 0;
        sd += gd > 0 ? gd : 0;
    }
    uint32_t b = bright | bright << 16, rb = b;
    for (int k = 1; k < 9; k++) rb &= b >> k;
    return (rb & 0xffff) ? sb + 1 : sd + 1;
}

/* Harris response over a 7x7 window of central-difference gradients. */
static float harris(const uint8_t *img, int w, int x, int y)
{
    /* integer sums: at most 49 * 255^2, so exact, and exact again as floats (< 2^24) */
    int32_t a = 0, b = 0, c = 0;
    for (int dy = -3; dy <= 3; dy++) {
        const uint8_t *p = img + (size_t)(y + dy) * w + x;
        for (int dx = -3; dx <= 3; dx++) {
            int ix = p[dx + 1] - p[dx - 1], iy = p[dx + w] - p[dx - w];
            a += ix * ix;
            b += iy * iy;
            c += ix * iy;
        }
    }
    float fa = (float)a, fb = (float)b, fc = (float)c;
    return fa * fb - fc * fc - 0.04f * (fa + fb) * (fa + fb);
}

/* Orientation by the intensity centroid of the circular patch (features_orient.c: the moments,
 * per ISA; they were 4 % of extracting a query's features). */
static float orientation(vigil__orient_fn moments, const uint8_t *img, int w, int x, int y)
{
    int32_t m10, m01;
    moments(img + (size_t)y * w + x, (size_t)w, &m10, &m01);
    return atan2f((float)m01, (float)m10);
}

typedef struct cand { float score; int x, y, lev; } cand;

/* Strongest first; ties in the order found (level, row, column), so the result is the same on
 * every platform. A stable radix sort (radix.c) of the scores' complemented bits: positive
 * floats order as their bits. */
static int sort_cands(cand *cv, size_t nc)
{
    uint64_t *k = malloc(nc * sizeof *k + 1);
    uint32_t *perm = malloc(nc * sizeof *perm + 1);
    cand *tmp = malloc(nc * sizeof *tmp + 1);
    int r = !k || !perm || !tmp ? -1 : 0;
    for (size_t i = 0; !r && i < nc; i++) {
        uint32_t bits;
        memcpy(&bits, &cv[i].score, 4);
        k[i] = (uint32_t)~bits;
    }
    if (!r) r = vigil__radix_order(k, perm, nc);
    for (size_t i = 0; !r && i < nc; i++) tmp[i] = cv[perm[i]];
    if (!r && nc) memcpy(cv, tmp, nc * sizeof *cv); /* cv is NULL when every corner was masked */
    free(k);
    free(perm);
    free(tmp);
    return r;
}

static int masked(const vigil_features_options *o, float x, float y, uint32_t width, uint32_t height)
{
    if (o->mask_image && o->mask_width && o->mask_height) {
        uint64_t mx = (uint64_t)(x < 0 ? 0 : x) * o->mask_width / width, my = (uint64_t)(y < 0 ? 0 : y) * o->mask_height / height;
        if (mx >= o->mask_width) mx = o->mask_width - 1;
        if (my >= o->mask_height) my = o->mask_height - 1;
        if (o->mask_image[my * o->mask_width + mx] >= 128) return 1;
    }
    for (size_t i = 0; i < o->nmask; i++) {
        const vigil_rect *r = &o->mask[i];
        if (x >= r->x && y >= r->y && x < r->x + r->w && y < r->y + r->h) return 1;
    }
    return 0;
}

static vigil_result extract(const uint8_t *grey, uint32_t width, uint32_t height, size_t stride,
                            const vigil_features_options *opt, vigil_features *out, vigil__patch_fn patch_fn, void *ctx,
                            vigil_error *err);

vigil_result vigil_features_from_grey(const uint8_t *grey, uint32_t width, uint32_t height, size_t stride,
                                      const vigil_features_options *opt, vigil_features *out, vigil_error *err)
{
    return extract(grey, width, height, stride, opt, out, NULL, NULL, err);
}

vigil_result vigil__feature_patches(const uint8_t *grey, uint32_t width, uint32_t height, size_t stride,
                                    const vigil_features_options *opt, vigil__patch_fn fn, void *ctx, vigil_error *err)
{
    vigil_features f;
    vigil_result r = extract(grey, width, height, stride, opt, &f, fn, ctx, err);
    if (!r) vigil_features_free(&f);
    return r;
}

/* One extraction's working state, shared by its stages. */
typedef struct extraction {
    const vigil_features_options *opt;
    uint32_t width, height;      /* of the image given */
    level lv[16];
    int nl;                      /* levels built */
    cand *cv;                    /* candidates of every level, after suppression */
    size_t nc, cc;
    uint32_t *pts;               /* one level's FAST corners (positions y * w + x) */
    size_t np, pc;
    int *score;                  /* FAST strength plane, zero but at pts */
    uint8_t *pass;               /* one row's FAST results */
} extraction;

/* Pyramid: level 0 at the working size (the image shrinks by s0 only when larger), each next
 * 1/scale_factor smaller, until a level would be too small to hold a keypoint inside the border.
 * The equalisation table comes from level 0, so every level sees the same intensity mapping. */
static vigil_result build_pyramid(extraction *x, const uint8_t *grey, size_t stride, vigil_error *err)
{
    const vigil_features_options *opt = x->opt;
    float s0 = (float)(x->width > x->height ? x->width : x->height) / (float)opt->work_side;
    if (s0 < 1) s0 = 1;
    uint8_t lut[256];
    for (int l = 0; l < opt->levels; l++) {
        float sc = s0 * powf(opt->scale_factor, (float)l);
        int w = (int)lroundf(x->width / sc), h = (int)lroundf(x->height / sc);
        if (w < 2 * BORDER + 8 || h < 2 * BORDER + 8) break;
        level *L = &x->lv[l];
        L->w = w;
        L->h = h;
        L->scale = sc;
        /* level 0 gives the table, which then maps it in place and the other levels as they are made */
        L->img = shrink(grey, (int)x->width, (int)x->height, stride, w, h, l > 0 && opt->equalise ? lut : NULL);
        if (L->img && opt->equalise && l == 0) {
            equaliser(L->img, (size_t)w * h, lut);
            for (size_t i = 0, n = (size_t)w * h; i < n; i++) L->img[i] = lut[L->img[i]];
        }
        L->smooth = L->img ? box5(L->img, w, h) : NULL;
        x->nl = l + 1;
        if (!L->img || !L->smooth) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    }
    return VIGIL_OK;
}

/* Detection on level l at threshold t: the row test marks the corners, and only those get their
 * FAST strength (the suppression's measure) in the score plane, listed in pts so that the plane
 * is cleared by the list rather than by a memset. */
static vigil_result detect(extraction *x, int l, int t, vigil__fast_row_fn fast_row, vigil_error *err)
{
    const level *L = &x->lv[l];
    int w = L->w, h = L->h;
    int off[16];
    for (int k = 0; k < 16; k++) off[k] = vigil__fast_circle[k][1] * w + vigil__fast_circle[k][0];
    x->np = 0;
    for (int y = BORDER; y < h - BORDER; y++) {
        const uint8_t *row = L->img + (size_t)y * w;
        fast_row(row, (size_t)w, BORDER, w - BORDER, t, x->pass);
        memset(x->pass + w - BORDER, 0, 8);
        for (int c = BORDER; c < w - BORDER; c += 8) {
            uint64_t any;
            memcpy(&any, x->pass + c, 8);
            if (!any) continue; /* most of a row is not a corner */
            for (int k = c; k < c + 8 && k < w - BORDER; k++) {
                if (!x->pass[k]) continue;
                if (x->np == x->pc) {
                    x->pc = x->pc ? x->pc * 2 : 4096;
                    uint32_t *n = realloc(x->pts, x->pc * sizeof *n);
                    if (!n) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
                    x->pts = n;
                }
                x->pts[x->np++] = (uint32_t)y * (uint32_t)w + (uint32_t)k;
                x->score[(size_t)y * w + k] = fast9(row + k, off, t);
            }
        }
    }
    return VIGIL_OK;
}

/* Suppression on level l: a corner survives when no neighbour of its 3x3 window is stronger and it
 * is outside the masks; only then is its Harris response (the ranking score) computed, since that
 * costs 49 gradient pairs a point. Clears the score plane for the next level. */
static vigil_result suppress(extraction *x, int l, vigil_error *err)
{
    const level *L = &x->lv[l];
    int w = L->w;
    float sc = L->scale;
    vigil_result r = VIGIL_OK;
    for (size_t i = 0; i < x->np; i++) {
        int y = (int)(x->pts[i] / (uint32_t)w), c = (int)(x->pts[i] % (uint32_t)w);
        int v = x->score[x->pts[i]];
        int best = 1;
        for (int dy = -1; dy <= 1 && best; dy++)
            for (int dx = -1; dx <= 1 && best; dx++) {
                int u = x->score[(size_t)(y + dy) * w + c + dx];
                /* ties go to the first in scan order, so a plateau keeps one point */
                if ((dx || dy) && (u > v || (u == v && (dy < 0 || (dy == 0 && dx < 0))))) best = 0;
            }
        if (!best || masked(x->opt, (c + 0.5f) * sc - 0.5f, (y + 0.5f) * sc - 0.5f, x->width, x->height)) continue;
        float hs = harris(L->img, w, c, y);
        if (x->nc == x->cc) {
            x->cc = x->cc ? x->cc * 2 : 4096;
            cand *n = realloc(x->cv, x->cc * sizeof *n);
            if (!n) { r = vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); break; }
            x->cv = n;
        }
        x->cv[x->nc++] = (cand){hs > 0 ? hs : 1e-3f, c, y, l};
    }
    if (r) return r; /* the plane is freed with the rest: no need to clear it */
    for (size_t i = 0; i < x->np; i++) x->score[x->pts[i]] = 0;
    return VIGIL_OK;
}

/* Candidates of every level. A low-contrast view (a plain wall, a blurred photo) has few corners
 * at the usual threshold: halve it (20, 10, 5, 4) until there are enough candidates; equalised,
 * 4 grey levels is still above the noise of a dark room's shadows. */
static vigil_result find_candidates(extraction *x, vigil_error *err)
{
    const vigil_features_options *opt = x->opt;
    const vigil__fast_row_fn fast_row = vigil__fast_row_best();
    /* one score plane for all levels: level 0 is the largest */
    x->score = calloc((size_t)x->lv[0].w * x->lv[0].h, sizeof *x->score);
    x->pass = malloc((size_t)x->lv[0].w + 8);
    if (!x->score || !x->pass) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    for (int t = opt->fast_threshold;; t = t / 2 > FAST_FLOOR ? t / 2 : FAST_FLOOR) {
        x->nc = 0;
        for (int l = 0; l < x->nl; l++) {
            vigil_result r = detect(x, l, t, fast_row, err);
            if (!r) r = suppress(x, l, err);
            if (r) return r;
        }
        if (x->nc >= opt->max_features || t <= FAST_FLOOR || opt->fast_threshold <= FAST_FLOOR) break;
    }
    return VIGIL_OK;
}

/* 256 comparisons of the pixels at offsets o (pairs, level_offsets) from p: bit k is set when
 * the first of pair k is the darker. */
static vigil_pdq compare(const uint8_t *p, const int32_t *o)
{
    vigil_pdq d;
    for (int w = 0; w < 4; w++, o += 128) { /* a word at a time in a register (not d.w[k >> 6] in memory:
                                             * 20 instructions a comparison, 2.5 % of a scan's) */
        uint64_t v = 0;
        for (int k = 0; k < 64; k++) v |= (uint64_t)(p[o[2 * k]] < p[o[2 * k + 1]]) << k;
        d.w[w] = v;
    }
    return d;
}

/* The descriptor of a selected corner: 256 comparisons of the smoothed level, the pattern turned
 * to the orientation's bin. The patch callback (learning the pattern) sees the oriented patch as
 * the rotated pattern samples it. */
static vigil_pdq describe(const level *L, const cand *c, int bin, vigil__patch_fn patch_fn, void *ctx)
{
    const uint8_t *p = L->smooth + (size_t)c->y * L->w + c->x;
    if (patch_fn) {
        uint8_t patch[VIGIL__PATCH * VIGIL__PATCH];
        double t = bin * 6.283185307179586 / ANGLE_BINS, co = cos(t), si = sin(t);
        for (int dy = -PAIR_R; dy <= PAIR_R; dy++)
            for (int dx = -PAIR_R; dx <= PAIR_R; dx++)
                patch[(dy + PAIR_R) * VIGIL__PATCH + dx + PAIR_R] = p[lround(si * dx + co * dy) * L->w + lround(co * dx - si * dy)];
        patch_fn(patch, ctx);
    }
    return compare(p, L->off + (size_t)bin * 512);
}

/* The descriptor the left-right mirror image gives the same corner: there the corner's orientation
 * is pi - angle (bin 16 - bin), and each of its comparison points, mirrored back, is the x-negated
 * point of that bin's pattern. Exact, since the pattern rotations are rounded per point and the box
 * means are symmetric; it saves describing a mirrored copy of the image. */
static vigil_pdq describe_mirrored(const level *L, const cand *c, int bin)
{
    const uint8_t *p = L->smooth + (size_t)c->y * L->w + c->x;
    return compare(p, L->off + (size_t)(ANGLE_BINS + (ANGLE_BINS + ANGLE_BINS / 2 - bin) % ANGLE_BINS) * 512);
}

/* The pattern's points as offsets in level L's rows, every bin, then every bin x-negated (the
 * mirrored descriptor's): made once per level that has a feature, so that a descriptor's 256
 * comparisons are two loads each, with no multiplication (they were 29 % of an extraction). */
static int level_offsets(level *L, int mirrored)
{
    if (L->off) return 0;
    L->off = malloc((size_t)(mirrored ? 2 : 1) * ANGLE_BINS * 512 * sizeof *L->off);
    if (!L->off) return -1;
    for (int m = 0; m <= mirrored; m++)
        for (int a = 0; a < ANGLE_BINS; a++) {
            int32_t *o = L->off + (size_t)(m * ANGLE_BINS + a) * 512;
            int sx = m ? -1 : 1;
            for (int k = 0; k < 256; k++) {
                const pair8 *q = &pattern[a][k];
                o[2 * k] = q->y1 * L->w + sx * q->x1;
                o[2 * k + 1] = q->y2 * L->w + sx * q->x2;
            }
        }
    return 0;
}

/* Ranking and selection: the strongest first, shared between levels in proportion to their area
 * (as ORB does), so coarse levels keep some features for large scale changes; and spread: a first
 * pass takes at most an equal share from each cell of a grid over the image, so a query that
 * shares only part of its view with a reference still has features there (the strongest corners
 * otherwise crowd into the most textured region). Each one taken is oriented and described. */
static vigil_result select_features(extraction *x, vigil_features *out, vigil__patch_fn patch_fn, void *ctx,
                                    vigil_error *err)
{
    const vigil_features_options *opt = x->opt;
    const vigil__orient_fn moments = vigil__orient_best();
    uint32_t width = x->width, height = x->height;
    if (sort_cands(x->cv, x->nc)) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    uint32_t quota[16] = {0}, used[16] = {0}, total = 0;
    double area = 0;
    for (int l = 0; l < x->nl; l++) area += (double)x->lv[l].w * x->lv[l].h;
    for (int l = 0; l < x->nl; l++)
        quota[l] = (uint32_t)ceil(opt->even_levels ? (double)opt->max_features / x->nl
                                                   : opt->max_features * (double)x->lv[l].w * x->lv[l].h / area);
    size_t cap = (opt->max_features ? opt->max_features : 1) * (size_t)(opt->mirrored ? 2 : 1);
    out->kp = malloc(cap * sizeof *out->kp);
    out->desc = malloc(cap * sizeof *out->desc);
    int mref = !!opt->mirrored;
    if (!out->kp || !out->desc) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    uint32_t gx = 1, gy = 1;
    if (opt->grid) {
        double a = (double)width / height;
        gx = a >= 1 ? opt->grid : (uint32_t)lround(opt->grid * a);
        gy = a >= 1 ? (uint32_t)lround(opt->grid / a) : opt->grid;
        if (gx < 1) gx = 1;
        if (gy < 1) gy = 1;
    }
    uint32_t cellq = (opt->max_features + gx * gy - 1) / (gx * gy);
    uint32_t *cellused = calloc((size_t)gx * gy, sizeof *cellused);
    if (!cellused) { return vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); }
    /* first within the cells' and the levels' quotas, then the levels' alone, then the rest */
    for (int stage = opt->grid ? 0 : 1; stage < 3; stage++)
        for (size_t i = 0; i < x->nc && total < opt->max_features; i++) {
            cand *c = &x->cv[i];
            if (c->score < 0) continue;
            float sc = x->lv[c->lev].scale;
            uint32_t cx = (uint32_t)((c->x + 0.5f) * sc * gx / width), cy = (uint32_t)((c->y + 0.5f) * sc * gy / height);
            uint32_t cell = (cy < gy ? cy : gy - 1) * gx + (cx < gx ? cx : gx - 1);
            if (stage == 0 && cellused[cell] >= cellq) continue;
            if (stage <= 1 && used[c->lev] >= quota[c->lev]) continue;
            level *L = &x->lv[c->lev];
            if (level_offsets(L, mref)) { free(cellused); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); }
            used[c->lev]++;
            cellused[cell]++;
            float ang = orientation(moments, L->img, L->w, c->x, c->y);
            int bin = (int)lroundf(ang * ANGLE_BINS / 6.2831853f);
            bin = ((bin % ANGLE_BINS) + ANGLE_BINS) % ANGLE_BINS;
            out->desc[total] = describe(L, c, bin, patch_fn, ctx);
            out->kp[total] = (vigil_keypoint){(c->x + 0.5f) * L->scale - 0.5f, (c->y + 0.5f) * L->scale - 0.5f, L->scale,
                                              ang, c->score};
            if (mref) { /* kept beside the first half, moved to the second once the count is known */
                out->desc[cap / 2 + total] = describe_mirrored(L, c, bin);
                out->kp[cap / 2 + total] = (vigil_keypoint){(L->w - c->x - 0.5f) * L->scale - 0.5f,
                                                            (c->y + 0.5f) * L->scale - 0.5f, L->scale,
                                                            3.14159265f - ang, c->score};
            }
            total++;
            c->score = -1; /* taken */
        }
    if (mref && total < cap / 2) {
        memmove(out->kp + total, out->kp + cap / 2, total * sizeof *out->kp);
        memmove(out->desc + total, out->desc + cap / 2, total * sizeof *out->desc);
    }
    out->n = mref ? 2 * total : total;
    free(cellused);
    return VIGIL_OK;
}

static vigil_result extract(const uint8_t *grey, uint32_t width, uint32_t height, size_t stride,
                            const vigil_features_options *opt, vigil_features *out, vigil__patch_fn patch_fn, void *ctx,
                            vigil_error *err)
{
    vigil_features_options def;
    vigil_result ro = take_options(opt, &def, err);
    if (ro) return ro;
    opt = &def;
    if (!grey || !out || width < 2 * BORDER + 1 || height < 2 * BORDER + 1 || stride < width || opt->levels < 1 ||
        opt->levels > 16 || opt->scale_factor <= 1.0f || opt->work_side < 64)
        return vigil__fail(err, width < 2 * BORDER + 1 || height < 2 * BORDER + 1 ? VIGIL_E_TOO_SMALL : VIGIL_E_INVALID,
                           "image too small for features or invalid options");
    pthread_once(&pattern_once, make_pattern);
    memset(out, 0, sizeof *out);
    out->width = width;
    out->height = height;
    extraction x;
    memset(&x, 0, sizeof x);
    x.opt = opt;
    x.width = width;
    x.height = height;
    vigil_result r = build_pyramid(&x, grey, stride, err);
    if (!r) r = find_candidates(&x, err);
    if (!r) r = select_features(&x, out, patch_fn, ctx, err);
    for (int l = 0; l < x.nl; l++) { free(x.lv[l].img); free(x.lv[l].smooth); free(x.lv[l].off); }
    free(x.cv);
    free(x.pts);
    free(x.score);
    free(x.pass);
    if (r) vigil_features_free(out);
    return r;
}

static vigil_result grey_sized(const void *data, size_t size, uint32_t max_side, uint8_t **out, uint32_t *w, uint32_t *h,
                               uint32_t *W, uint32_t *H, vigil_error *err)
{
    int ch;
    uint8_t *px;
    vigil_result r = vigil__thumb_sized(data, size, (int)max_side, VIGIL_DEFAULT_MAX_PIXELS, &px, w, h, &ch, W, H, err);
    if (r) return r;
    if (ch == 3) { /* Rec. 601 luma, integer */
        for (size_t i = 0, n = (size_t)*w * *h; i < n; i++)
            px[i] = vigil__luma(px[3 * i], px[3 * i + 1], px[3 * i + 2]);
    }
    *out = px;
    return VIGIL_OK;
}

vigil_result vigil_decode_grey(const void *data, size_t size, uint32_t max_side, uint8_t **px, uint32_t *w, uint32_t *h,
                               vigil_error *err)
{
    uint32_t W, H;
    if (!data || !size || !px || !w || !h || max_side < 1) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    return grey_sized(data, size, max_side, px, w, h, &W, &H, err);
}

vigil_result vigil__features_options(const vigil_features_options *in, vigil_features_options *o, vigil_error *err)
{
    return take_options(in, o, err);
}

vigil_result vigil_features_memory(const void *data, size_t size, const vigil_features_options *opt, vigil_features *out,
                                   vigil_error *err)
{
    vigil_features_options def;
    vigil_result ro = take_options(opt, &def, err);
    if (ro) return ro;
    opt = &def;
    if (!data || !size || !out) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    /* The decode the hash makes (vigil_hash_file_features makes the same view beside PDQ's grid),
     * without the grid: the same bytes give the same features either way. */
    const vigil__input in = {data, size, -1};
    vigil__view v;
    vigil__view_init(&v, opt->work_side, 1);
    const vigil__sink sink = vigil__view_sink(&v);
    vigil_hash_result info;
    memset(&info, 0, sizeof info);
    vigil_result r = vigil__load_each(&in, 0, VIGIL_DEFAULT_MAX_PIXELS, NULL, &sink, 1, NULL, &info, err);
    if (!r) r = vigil__view_finish(&v, err);
    if (!r) r = vigil__features_from_view(v.px, v.w, v.h, v.W, v.H, opt, out, err);
    vigil__view_free(&v);
    return r;
}

vigil_result vigil__features_from_view(const uint8_t *px, uint32_t w, uint32_t h, uint32_t W, uint32_t H,
                                       const vigil_features_options *opt, vigil_features *out, vigil_error *err)
{
    vigil_result r;
    /* keypoints and masks scale by the stored size, as displayed */
    float fx = (float)W / w, fy = (float)H / h;
    vigil_features_options o = *opt;
    vigil_rect *m = NULL;
    if (opt->nmask) {
        m = malloc(opt->nmask * sizeof *m);
        if (!m) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
        for (size_t i = 0; i < opt->nmask; i++)
            m[i] = (vigil_rect){opt->mask[i].x / fx, opt->mask[i].y / fy, opt->mask[i].w / fx, opt->mask[i].h / fy};
        o.mask = m;
    }
    r = vigil_features_from_grey(px, w, h, w, &o, out, err);
    free(m);
    if (r) return r;
    for (uint32_t i = 0; i < out->n; i++) {
        out->kp[i].x = (out->kp[i].x + 0.5f) * fx - 0.5f;
        out->kp[i].y = (out->kp[i].y + 0.5f) * fy - 0.5f;
        out->kp[i].scale *= fx;
    }
    out->width = W;
    out->height = H;
    return VIGIL_OK;
}
