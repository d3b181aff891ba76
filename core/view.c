/* view.c - a decoded image as a person sees it, at a given size (see view.h): a sink of the one
 * decode. */
#include "view.h"

#include <stdlib.h>
#include <string.h>
#include <math.h>

void vigil__view_init(vigil__view *v, uint32_t side, int channels)
{
    memset(v, 0, sizeof *v);
    v->side = side ? side : 1;
    v->channels = channels == 3 ? 3 : 1;
}

void vigil__view_free(vigil__view *v)
{
    free(v->box);
    free(v->sum);
    free(v->luma);
    free(v->px);
    v->box = v->px = v->luma = NULL;
    v->sum = NULL;
}

static vigil_result view_begin(void *ctx, const vigil__decoded *d, vigil_error *err)
{
    vigil__view *v = ctx;
    v->d = *d;
    uint32_t L = d->w > d->h ? d->w : d->h;
    v->k = L / v->side;
    if (v->k < 1) v->k = 1;
    v->bw = (d->w + v->k - 1) / v->k;
    v->bh = (d->h + v->k - 1) / v->k;
    v->box = malloc((size_t)v->bw * v->bh * (size_t)v->channels);
    v->sum = calloc((size_t)v->bw * (size_t)v->channels, sizeof *v->sum);
    v->luma = malloc((size_t)d->w + 1);
    if (!v->box || !v->sum || !v->luma) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory for a %ux%u view", v->bw, v->bh);
    return VIGIL_OK;
}

/* 16 bits to 8 as PDQ's grid rounds them (load.c). */
static inline uint32_t to8(uint32_t v) { return (v * 255u + 32767u) / 65535u; }

static void view_row(void *ctx, uint32_t y, const void *row)
{
    vigil__view *v = ctx;
    const uint32_t w = v->d.w, k = v->k;
    const int bands = v->d.bands, ch = v->channels;
    const uint8_t *r8 = row;
    const uint16_t *r16 = row;
    uint32_t *s = v->sum;
    if (!v->d.wide && ch == 1 && (bands == 3 || bands == 1)) {
        /* the usual case: the row's luma first (a loop that -O3 vectorises), then the cells'
         * sums, 2 at a time for the common k of 2 (the same sums as below, so the same view:
         * the per-cell loop was 7.5 % of extracting a query's features, bench/results/kfeat.md) */
        const uint8_t *g = r8;
        if (bands == 3) {
            uint8_t *restrict l = v->luma;
            const uint8_t *restrict src = r8;
            for (size_t x = 0; x < w; x++)
                l[x] = vigil__luma(src[3 * x], src[3 * x + 1], src[3 * x + 2]);
            g = l;
        }
        uint32_t full = w / k, bx = 0;
        if (k == 1)
            for (; bx < full; bx++) s[bx] += g[bx];
        else if (k == 2)
            for (; bx < full; bx++) s[bx] += (uint32_t)g[2 * bx] + g[2 * bx + 1];
        for (uint32_t x = bx * k; x < w; bx++) {
            uint32_t e = w - x > k ? x + k : w, acc = 0;
            for (; x < e; x++) acc += g[x];
            s[bx] += acc;
        }
    } else
    for (uint32_t x = 0; x < w; x++) {
        uint32_t p[3] = {0, 0, 0};
        for (int c = 0; c < bands; c++) {
            size_t i = (size_t)x * bands + c;
            p[c] = v->d.wide ? to8(r16[i]) : r8[i];
        }
        uint32_t *cell = s + (size_t)(x / k) * ch;
        if (ch == 1)
            cell[0] += bands == 3 ? vigil__luma(p[0], p[1], p[2]) : p[0];
        else
            for (int c = 0; c < 3; c++) cell[c] += p[bands == 3 ? c : 0];
    }
    /* the last row of a band of k rows (or of the image): the band's means into the box image */
    if ((y + 1) % k && y + 1 != v->d.h) return;
    const uint32_t rows = y % k + 1, by = y / k;
    uint8_t *out = v->box + (size_t)by * v->bw * ch;
    if (k == 1) { /* a cell is a pixel: its mean is itself (a division a pixel was 1 % of a scan with features) */
        for (size_t i = 0, n = (size_t)v->bw * ch; i < n; i++) {
            out[i] = (uint8_t)s[i];
            s[i] = 0;
        }
        return;
    }
    /* full cells divide by n = rows k through a reciprocal: floor(x ceil(2^32 / n) / 2^32) is
     * floor(x / n) for every x < 2^32 / n, and x < 256 n + n / 2 here, so exact while n < 4096 */
    const uint32_t nf = rows * k;
    uint32_t bx0 = 0;
    if (nf < 4096) {
        const uint64_t m = ((1ull << 32) + nf - 1) / nf;
        for (; bx0 + 1 < v->bw; bx0++)
            for (int c = 0; c < ch; c++) {
                size_t i = (size_t)bx0 * ch + c;
                out[i] = (uint8_t)(((s[i] + nf / 2) * m) >> 32);
                s[i] = 0;
            }
    }
    for (uint32_t bx = bx0; bx < v->bw; bx++) {
        uint32_t cols = bx + 1 < v->bw ? k : w - bx * k, n = rows * cols;
        for (int c = 0; c < ch; c++) {
            size_t i = (size_t)bx * ch + c;
            out[i] = (uint8_t)((s[i] + n / 2) / n);
            s[i] = 0;
        }
    }
}

vigil__sink vigil__view_sink(vigil__view *v)
{
    return (vigil__sink){view_begin, view_row, v, v->side};
}

void vigil__orient(const uint8_t *in, uint32_t w, uint32_t h, int ch, int o, uint8_t *out)
{
    const uint32_t ow = o >= 5 ? h : w, oh = o >= 5 ? w : h;
    for (uint32_t dy = 0; dy < oh; dy++)
        for (uint32_t dx = 0; dx < ow; dx++) {
            uint32_t sx, sy;
            switch (o) {
            case 2: sx = w - 1 - dx; sy = dy; break;
            case 3: sx = w - 1 - dx; sy = h - 1 - dy; break;
            case 4: sx = dx; sy = h - 1 - dy; break;
            case 5: sx = dy; sy = dx; break;
            case 6: sx = dy; sy = h - 1 - dx; break;
            case 7: sx = w - 1 - dy; sy = h - 1 - dx; break;
            case 8: sx = w - 1 - dy; sy = dx; break;
            default: sx = dx; sy = dy; break;
            }
            memcpy(out + ((size_t)dy * ow + dx) * ch, in + ((size_t)sy * w + sx) * ch, (size_t)ch);
        }
}

/* One axis of the resize: per output position its first input and its taps' weights, a tent of
 * half-width max(1, in / out) input pixels about the output pixel's centre (bilinear when
 * enlarging, an anti-aliasing triangle when shrinking), cut at the edges, in 1/2^14 that sum to
 * 2^14 exactly. libvips's vips_resize did this before, Lanczos-3 when shrinking and an affine
 * map with a bicubic interpolator when enlarging: 42 M instructions for a 640 x 400 view, 109 M
 * for a 320 x 240 photo enlarged to 640 x 480, more than the features' extraction itself
 * (bench/results/kfeat.md). */
typedef struct axis { uint32_t per; uint32_t *first; int32_t *w; } axis;

/* The tent's height at distance d from its centre, half-width sup. */
static double tent(double d, double sup)
{
    d = fabs(d) / sup;
    return d < 1 ? 1 - d : 0;
}

static int make_axis(uint32_t in, uint32_t out, axis *a)
{
    const double s = (double)in / out, sup = s > 1 ? s : 1;
    a->per = (uint32_t)(2 * sup) + 2;
    a->first = malloc((size_t)out * sizeof *a->first);
    a->w = calloc((size_t)out * a->per, sizeof *a->w);
    if (!a->first || !a->w) return -1;
    for (uint32_t o = 0; o < out; o++) {
        const double c = (o + 0.5) * s - 0.5;
        int64_t lo = (int64_t)floor(c - sup) + 1, hi = (int64_t)floor(c + sup);
        if (lo < 0) lo = 0;
        if (hi > (int64_t)in - 1) hi = (int64_t)in - 1;
        if (hi < lo) hi = lo = c < 0 ? 0 : (int64_t)in - 1; /* (cannot happen: a tap lies within sup >= 1) */
        if ((uint64_t)(hi - lo + 1) > a->per) hi = lo + a->per - 1;
        const uint32_t n = (uint32_t)(hi - lo + 1);
        double sum = 0;
        for (uint32_t j = 0; j < n; j++) sum += tent((double)(lo + j) - c, sup);
        int32_t *w = a->w + (size_t)o * a->per, tot = 0;
        uint32_t big = 0;
        for (uint32_t j = 0; j < n; j++) {
            w[j] = sum > 0 ? (int32_t)lround(tent((double)(lo + j) - c, sup) / sum * 16384) : (j == 0 ? 16384 : 0);
            tot += w[j];
            if (w[j] > w[big]) big = j;
        }
        w[big] += 16384 - tot; /* the rounding's remainder on the largest tap: a flat image stays flat */
        a->first[o] = (uint32_t)lo;
    }
    return 0;
}

/* One grey row's column pass: per taps each (inlined with a constant per, the loop unrolls). */
static inline __attribute__((always_inline)) void cols_grey(const uint16_t *t, const axis *ax, uint8_t *o, uint32_t ow,
                                                            uint32_t per)
{
    for (uint32_t x = 0; x < ow; x++) {
        const int32_t *w = ax->w + (size_t)x * per;
        const uint16_t *p = t + ax->first[x];
        int32_t s = 1 << 19;
        for (uint32_t j = 0; j < per; j++) s += w[j] * p[j];
        o[x] = (uint8_t)(s >> 20);
    }
}

/* in (iw x ih x ch) to out (ow x oh x ch): the rows first, where a tap is a whole row and the
 * loop runs along it (-O3 vectorises it), into 1/64 steps of grey; then the columns. Exact
 * integers, so every platform makes the same view. */
static int resize(const uint8_t *in, uint32_t iw, uint32_t ih, int ch, uint8_t *out, uint32_t ow, uint32_t oh)
{
    axis ax = {0, NULL, NULL}, ay = {0, NULL, NULL};
    const size_t irow = (size_t)iw * ch;
    int bad = make_axis(iw, ow, &ax) || make_axis(ih, oh, &ay);
    const size_t pad = (size_t)ax.per * ch; /* zeros after the last row, read by taps of weight 0 */
    uint16_t *tmp = bad ? NULL : calloc(irow * oh + pad, sizeof *tmp);
    int32_t *acc = malloc(irow * sizeof *acc);
    bad |= !tmp || !acc;
    for (uint32_t y = 0; y < oh && !bad; y++) {
        const int32_t *w = ay.w + (size_t)y * ay.per;
        int32_t *restrict a = acc;
        for (size_t x = 0; x < irow; x++) a[x] = 1 << 7;
        for (uint32_t j = 0; j < ay.per && ay.first[y] + j < ih; j++) {
            const int32_t wj = w[j];
            if (!wj) continue;
            const uint8_t *restrict r = in + (size_t)(ay.first[y] + j) * irow;
            for (size_t x = 0; x < irow; x++) a[x] += wj * r[x];
        }
        uint16_t *restrict t = tmp + (size_t)y * irow;
        for (size_t x = 0; x < irow; x++) t[x] = (uint16_t)(a[x] >> 8);
    }
    for (uint32_t y = 0; y < oh && !bad; y++) {
        const uint16_t *t = tmp + (size_t)y * irow;
        uint8_t *o = out + (size_t)y * ow * ch;
        if (ch == 1) /* every tap summed: those past a cut edge weigh 0 and read the row's padding */
            switch (ax.per) { /* the usual tap counts unrolled (4 enlarging, 5-7 shrinking up to 2.5x) */
            case 4: cols_grey(t, &ax, o, ow, 4); break;
            case 5: cols_grey(t, &ax, o, ow, 5); break;
            case 6: cols_grey(t, &ax, o, ow, 6); break;
            case 7: cols_grey(t, &ax, o, ow, 7); break;
            default: cols_grey(t, &ax, o, ow, ax.per); break;
            }
        else
            for (uint32_t x = 0; x < ow; x++) {
                const int32_t *w = ax.w + (size_t)x * ax.per;
                const uint16_t *p = t + (size_t)ax.first[x] * ch;
                for (int c = 0; c < ch; c++) {
                    int32_t s = 1 << 19;
                    for (uint32_t j = 0; j < ax.per; j++) s += w[j] * p[(size_t)j * ch + c];
                    o[(size_t)x * ch + c] = (uint8_t)(s >> 20);
                }
            }
    }
    free(tmp);
    free(acc);
    free(ax.first);
    free(ax.w);
    free(ay.first);
    free(ay.w);
    return bad ? -1 : 0;
}

vigil_result vigil__view_finish(vigil__view *v, vigil_error *err)
{
    const vigil__decoded *d = &v->d;
    const int ch = v->channels, o = d->orientation;
    if (!v->box) return vigil__fail(err, VIGIL_E_INTERNAL, "view: no decoded image");
    /* the target in stored axes: the longer side is `side`, the other keeps the stored aspect */
    const uint32_t W = d->W, H = d->H;
    double tw, th;
    if (W >= H) { tw = v->side; th = (double)H * v->side / W; }
    else { th = v->side; tw = (double)W * v->side / H; }
    if (th < 1) th = 1;
    if (tw < 1) tw = 1;
    const uint32_t sw = (uint32_t)(tw + 0.5), sh = (uint32_t)(th + 0.5);
    vigil_result r = VIGIL_OK;
    uint8_t *small = malloc((size_t)sw * sh * ch);
    if (!small || resize(v->box, v->bw, v->bh, ch, small, sw, sh)) {
        r = vigil__fail(err, VIGIL_E_NOMEM, "out of memory while resizing the image to %ux%u", sw, sh);
        goto done;
    }
    if (o == 1) {
        v->px = small;
        small = NULL;
    } else {
        v->px = malloc((size_t)sw * sh * ch);
        if (!v->px) { r = vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); goto done; }
        vigil__orient(small, sw, sh, ch, o, v->px);
    }
    const int swap = o >= 5;
    v->w = swap ? sh : sw;
    v->h = swap ? sw : sh;
    v->W = swap ? H : W;
    v->H = swap ? W : H;
done:
    free(small);
    free(v->box);
    free(v->sum);
    free(v->luma);
    v->box = v->luma = NULL;
    v->sum = NULL;
    return r;
}
