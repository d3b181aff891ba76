/* thumb.c - a review thumbnail from the pixels the hash decoded, so that a scan's report does not
 * decode a matched file a second time (bench/results/scan_thumbs.md). The PDQ grid of a large
 * image is 512x512 point samples of the shrink-on-load decode; a box average of it, back at the
 * stored aspect, is a fair 160-pixel picture. The EXIF orientation is applied to that small
 * picture (vigil__orient, view.c), as vigil_thumbnail_png applies it: the analyst sees the photo
 * the right way up, while the hash, as PDQ defines it, stays on the stored pixels. */
#include "thumb.h"
#include "png_encode.h"
#include "view.h"

#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

void vigil__thumb_from_grid(const vigil__pixels *px, uint32_t W, uint32_t H, int side, int o, vigil_thumb *t)
{
    memset(t, 0, sizeof *t);
    if (!px->px || !px->w || !px->h || side < 1 || !W || !H || px->channels < 1 || px->channels > 4) return;
    uint32_t s = (uint32_t)side, tw, th;
    if (W >= H) { tw = W < s ? W : s; th = (uint32_t)(((uint64_t)H * tw + W / 2) / W); }
    else { th = H < s ? H : s; tw = (uint32_t)(((uint64_t)W * th + H / 2) / H); }
    if (!tw) tw = 1;
    if (!th) th = 1;
    const int ch = px->channels;
    uint8_t *out = malloc((size_t)tw * th * ch);
    if (!out) return;
    /* a box filter over the bins in two passes: a bin row's input rows are added column by column
     * (one contiguous loop the compiler vectorises), then each bin sums its columns. The same sums
     * and rounding as a bin-by-bin walk, at about half its instructions (bench/results/review.md) */
    const size_t rw = (size_t)px->w * ch;
    uint32_t *col = (uint64_t)(px->h / th + 1) * 255 <= UINT32_MAX ? malloc(rw * sizeof *col) : NULL;
    if (!col) { free(out); return; } /* (billions of rows, past any decoder's limit: no thumbnail) */
    for (uint32_t y = 0; y < th; y++) {
        uint32_t y0 = (uint32_t)((uint64_t)y * px->h / th), y1 = (uint32_t)((uint64_t)(y + 1) * px->h / th);
        if (y1 <= y0) y1 = y0 + 1;
        memset(col, 0, rw * sizeof *col);
        for (uint32_t yy = y0; yy < y1; yy++) { /* at most px->h / th + 1 rows of 255 (checked above) */
            const uint8_t *restrict row = px->px + (size_t)yy * rw;
            uint32_t *restrict acc = col;
            for (size_t i = 0; i < rw; i++) acc[i] += row[i];
        }
        for (uint32_t x = 0; x < tw; x++) {
            uint32_t x0 = (uint32_t)((uint64_t)x * px->w / tw), x1 = (uint32_t)((uint64_t)(x + 1) * px->w / tw);
            if (x1 <= x0) x1 = x0 + 1;
            uint64_t n = (uint64_t)(y1 - y0) * (x1 - x0);
            uint64_t sum[4] = {0, 0, 0, 0};
            const uint32_t *p = col + (size_t)x0 * ch, *e = col + (size_t)x1 * ch;
            if (ch == 3)
                for (; p < e; p += 3) { sum[0] += p[0]; sum[1] += p[1]; sum[2] += p[2]; }
            else
                for (; p < e; p += ch)
                    for (int c = 0; c < ch; c++) sum[c] += p[c];
            for (int c = 0; c < ch; c++) out[((size_t)y * tw + x) * ch + c] = (uint8_t)((sum[c] + n / 2) / n);
        }
    }
    free(col);
    if (o >= 2 && o <= 8) {
        uint8_t *turned = malloc((size_t)tw * th * ch);
        if (!turned) { free(out); return; }
        vigil__orient(out, tw, th, ch, o, turned);
        free(out);
        out = turned;
        if (o >= 5) { uint32_t s2 = tw; tw = th; th = s2; }
    }
    t->px = out;
    t->w = tw;
    t->h = th;
    t->channels = ch;
}

vigil_result vigil_thumb_png(const vigil_thumb *t, uint8_t **png, size_t *png_size, vigil_error *err)
{
    if (!t || !t->px || !png || !png_size) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    return vigil__png_encode(t->px, t->w, t->h, (size_t)t->w * t->channels, t->channels, png, png_size, err);
}

vigil_result vigil_thumb_jpeg(const vigil_thumb *t, int quality, uint8_t **jpeg, size_t *jpeg_size, vigil_error *err)
{
    if (!t || !t->px || !t->w || !t->h || (t->channels != 1 && t->channels != 3) || quality < 1 || quality > 100 || !jpeg ||
        !jpeg_size)
        return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    *jpeg = NULL;
    *jpeg_size = 0;
    vigil_result r = vigil_init(err);
    if (r) return r;
    VipsImage *im = vips_image_new_from_memory(t->px, (size_t)t->w * t->h * t->channels, (int)t->w, (int)t->h, t->channels,
                                               VIPS_FORMAT_UCHAR);
    void *buf = NULL;
    size_t n = 0;
    int bad = !im || vips_jpegsave_buffer(im, &buf, &n, "Q", quality, "strip", TRUE, NULL);
    if (im) g_object_unref(im);
    vips_error_clear();
    if (bad) { g_free(buf); return vigil__fail(err, VIGIL_E_NOMEM, "JPEG encoding failed"); }
    /* the caller frees with vigil_free, which is free(): hand over a malloc'd copy */
    *jpeg = malloc(n);
    if (*jpeg) memcpy(*jpeg, buf, n);
    g_free(buf);
    if (!*jpeg) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    *jpeg_size = n;
    return VIGIL_OK;
}
