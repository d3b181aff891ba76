/* view.c - a decoded image as a person sees it, at a given size (see view.h): a sink of the one
 * decode. */
#include "view.h"

#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

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
    free(v->px);
    v->box = v->px = NULL;
    v->sum = NULL;
}

static vigil_result view_begin(void *ctx, const vigil__decoded *d, vigil_error *err)
{
    vigil__view *v = ctx;
    v->d = *d;
    uint32_t L = d->w > d->h ? d->w : d->h;
    v->k = L / (2 * v->side);
    if (v->k < 1) v->k = 1;
    v->bw = (d->w + v->k - 1) / v->k;
    v->bh = (d->h + v->k - 1) / v->k;
    v->box = malloc((size_t)v->bw * v->bh * (size_t)v->channels);
    v->sum = calloc((size_t)v->bw * (size_t)v->channels, sizeof *v->sum);
    if (!v->box || !v->sum) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory for a %ux%u view", v->bw, v->bh);
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
        /* the usual case, cell by cell with no division per pixel (the same sums as below: 4 % of
         * a scan with features went here, bench/results/kfeat.md) */
        for (uint32_t x = 0, bx = 0; x < w; bx++) {
            uint32_t e = w - x > k ? x + k : w, acc = 0;
            if (bands == 3)
                for (; x < e; x++) acc += (299 * r8[3 * x] + 587 * r8[3 * x + 1] + 114 * r8[3 * x + 2] + 500) / 1000;
            else
                for (; x < e; x++) acc += r8[x];
            s[bx] += acc;
        }
    } else
    for (uint32_t x = 0; x < w; x++) {
        uint32_t p[3];
        for (int c = 0; c < bands; c++) {
            size_t i = (size_t)x * bands + c;
            p[c] = v->d.wide ? to8(r16[i]) : r8[i];
        }
        uint32_t *cell = s + (size_t)(x / k) * ch;
        if (ch == 1)
            cell[0] += bands == 3 ? (299 * p[0] + 587 * p[1] + 114 * p[2] + 500) / 1000 : p[0];
        else
            for (int c = 0; c < 3; c++) cell[c] += p[bands == 3 ? c : 0];
    }
    /* the last row of a band of k rows (or of the image): the band's means into the box image */
    if ((y + 1) % k && y + 1 != v->d.h) return;
    const uint32_t rows = y % k + 1, by = y / k;
    uint8_t *out = v->box + (size_t)by * v->bw * ch;
    for (uint32_t bx = 0; bx < v->bw; bx++) {
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
    tw = (double)(uint32_t)(tw + 0.5);
    th = (double)(uint32_t)(th + 0.5);
    vigil_result r = VIGIL_OK;
    uint8_t *small = NULL;
    uint32_t sw = 0, sh = 0;
    VipsImage *in = vips_image_new_from_memory(v->box, (size_t)v->bw * v->bh * ch, (int)v->bw, (int)v->bh, ch,
                                               VIPS_FORMAT_UCHAR);
    VipsImage *t = NULL;
    VipsRegion *reg = NULL;
    if (!in || vips_resize(in, &t, tw / v->bw, "vscale", th / v->bh, NULL)) {
        r = vigil__fail(err, VIGIL_E_DECODE, "cannot resize the image to %ux%u", (unsigned)tw, (unsigned)th);
        goto done;
    }
    sw = (uint32_t)t->Xsize;
    sh = (uint32_t)t->Ysize;
    small = malloc((size_t)sw * sh * ch);
    reg = vips_region_new(t);
    VipsRect rect = {0, 0, (int)sw, (int)sh};
    if (!small || !reg || vips_region_prepare(reg, &rect)) {
        r = vigil__fail(err, small && reg ? VIGIL_E_DECODE : VIGIL_E_NOMEM, "cannot resize the image");
        goto done;
    }
    for (uint32_t y = 0; y < sh; y++)
        memcpy(small + (size_t)y * sw * ch, VIPS_REGION_ADDR(reg, 0, (int)y), (size_t)sw * ch);
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
    vips_error_clear();
    if (reg) g_object_unref(reg);
    if (t) g_object_unref(t);
    if (in) g_object_unref(in);
    free(small);
    free(v->box);
    free(v->sum);
    v->box = NULL;
    v->sum = NULL;
    return r;
}
