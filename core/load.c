/* load.c - decode: bytes -> the 8-bit pixel grid PDQ hashes, through libvips.
 *
 * Two modes:
 *  - exact: what Meta's pdq-photo-hasher sees (spec sections 1-2): full-size decode, alpha dropped
 *    (not composited), EXIF orientation ignored, an RGB image whose pixels are all R=G=B hashed as
 *    one grey channel, then nearest-neighbour sampling at floor(o*n/512) when a side exceeds 512.
 *    One deliberate difference: 16-bit samples are scaled to 8 bits; the reference keeps the low
 *    byte, which makes its hash of a 16-bit file noise.
 *  - fast (default): the same grid, but JPEG and WebP are decoded with shrink-on-load (libjpeg's
 *    scaled IDCT; 1/8 scale costs a fraction of a full decode) and the grid is sampled from the
 *    shrunk image at the same positions. The shrink keeps the short side >= FAST_MIN_SIDE pixels.
 *
 * Hardening: the loader is chosen by content; only raster photo formats are allowed (JPEG, PNG,
 * WebP, GIF, TIFF, HEIF/AVIF, JPEG XL; libvips marks its PNM and JPEG 2000 loaders untrusted, and
 * SVG, PDF, CSV, matrix and ImageMagick loaders are not photo decoders); the pixel count is checked from the header before any pixel
 * is decoded; a truncated file is an error, not a grey-padded image; libvips's own operation cache
 * and threads are off because callers parallelise across images.
 */
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

/* Short side kept after shrink-on-load in fast mode; see bench/README.md for the measurement. */
#ifndef FAST_MIN_SIDE
#define FAST_MIN_SIDE 512
#endif

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static vigil_result init_code = VIGIL_OK;
static char init_msg[200];

static void log_sink(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
    (void)domain; (void)level; (void)msg; (void)data; /* the library never prints */
}

static void do_init(void)
{
    if (VIPS_INIT("vigil")) {
        init_code = VIGIL_E_INTERNAL;
        snprintf(init_msg, sizeof init_msg, "libvips failed to start");
        return;
    }
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    vips_concurrency_set(1);
    vips_block_untrusted_set(TRUE);
    g_log_set_handler("VIPS", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION, log_sink, NULL);
}

vigil_result vigil_init(vigil_error *err)
{
    pthread_once(&init_once, do_init);
    if (init_code)
        return vigil__fail(err, init_code, "%s", init_msg);
    return VIGIL_OK;
}

/* The first line of libvips's error buffer, which is then cleared. */
static vigil_result vips_fail(vigil_error *err, vigil_result code, const char *what)
{
    char *buf = vips_error_buffer_copy();
    char line[180] = "";
    if (buf) {
        size_t n = strcspn(buf, "\n");
        if (n >= sizeof line) n = sizeof line - 1;
        memcpy(line, buf, n);
        line[n] = 0;
        g_free(buf);
    }
    return vigil__fail(err, code, "%s%s%s", what, line[0] ? ": " : "", line);
}

static const struct { const char *loader, *name; } allowed[] = {
    {"VipsForeignLoadJpeg", "jpeg"}, {"VipsForeignLoadPng", "png"},   {"VipsForeignLoadSpng", "png"},
    {"VipsForeignLoadWebp", "webp"}, {"VipsForeignLoadNsgif", "gif"}, {"VipsForeignLoadGif", "gif"},
    {"VipsForeignLoadTiff", "tiff"}, {"VipsForeignLoadHeif", "heif"}, {"VipsForeignLoadJxl", "jxl"},
};

static VipsImage *open_image(const void *data, size_t size, const char *name, int shrink)
{
    VipsSource *src = vips_source_new_from_memory(data, size);
    if (!src) return NULL;
    VipsImage *im;
    if (shrink > 1 && !strcmp(name, "jpeg"))
        im = vips_image_new_from_source(src, "", "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                        VIPS_FAIL_ON_TRUNCATED, "shrink", shrink, NULL);
    else if (shrink > 1 && !strcmp(name, "webp"))
        im = vips_image_new_from_source(src, "", "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                        VIPS_FAIL_ON_TRUNCATED, "scale", 1.0 / shrink, NULL);
    else
        im = vips_image_new_from_source(src, "", "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                        VIPS_FAIL_ON_TRUNCATED, NULL);
    g_object_unref(src);
    return im;
}

/* Brings any band layout to 1 or 3 bands of uchar or ushort, dropping alpha uncomposited. */
static VipsImage *normalise(VipsImage *im)
{
    VipsImage *t = NULL;
    g_object_ref(im);
    VipsInterpretation in = vips_image_get_interpretation(im);
    if (in == VIPS_INTERPRETATION_CMYK || in == VIPS_INTERPRETATION_LAB ||
        in == VIPS_INTERPRETATION_scRGB || in == VIPS_INTERPRETATION_XYZ) {
        if (vips_colourspace(im, &t, VIPS_INTERPRETATION_sRGB, NULL)) goto fail;
        g_object_unref(im); im = t;
    }
    int bands = vips_image_get_bands(im);
    if (bands != 1 && bands != 3) {
        if (vips_extract_band(im, &t, 0, "n", bands >= 3 ? 3 : 1, NULL)) goto fail;
        g_object_unref(im); im = t;
    }
    VipsBandFormat f = vips_image_get_format(im);
    if (f != VIPS_FORMAT_UCHAR && f != VIPS_FORMAT_USHORT) {
        if (vips_cast(im, &t, VIPS_FORMAT_UCHAR, NULL)) goto fail;
        g_object_unref(im); im = t;
    }
    return im;
fail:
    g_object_unref(im);
    return NULL;
}

/* The format by content, if it is on the allow-list. */
static vigil_result sniff(const void *data, size_t size, const char **name, vigil_error *err)
{
    VipsSource *probe = vips_source_new_from_memory(data, size);
    const char *loader = probe ? vips_foreign_find_load_source(probe) : NULL;
    if (probe) g_object_unref(probe);
    vips_error_clear();
    if (!loader)
        return vigil__fail(err, VIGIL_E_FORMAT, "not a recognised image format");
    *name = NULL;
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (!strncmp(loader, allowed[i].loader, strlen(allowed[i].loader)))
            *name = allowed[i].name;
    if (!*name)
        return vigil__fail(err, VIGIL_E_FORMAT, "format refused: libvips loader %s is not on the allow-list "
                           "(PNM, JPEG 2000, SVG, PDF and others are untrusted or not photos)", loader);
    return VIGIL_OK;
}

vigil_result vigil__thumb(const void *data, size_t size, int max_side, uint64_t max_pixels, uint8_t **rgb,
                          uint32_t *w, uint32_t *h, int *channels, vigil_error *err)
{
    uint32_t W, H;
    return vigil__thumb_sized(data, size, max_side, max_pixels, rgb, w, h, channels, &W, &H, err);
}

vigil_result vigil__thumb_sized(const void *data, size_t size, int max_side, uint64_t max_pixels, uint8_t **rgb,
                                uint32_t *w, uint32_t *h, int *channels, uint32_t *W0, uint32_t *H0, vigil_error *err)
{
    vigil_result r = vigil_init(err);
    if (r) return r;
    const char *name;
    if ((r = sniff(data, size, &name, err))) return r;
    VipsImage *im = open_image(data, size, name, 1);
    if (!im) return vips_fail(err, VIGIL_E_DECODE, "cannot read image header");
    uint64_t W = (uint64_t)vips_image_get_width(im), H = (uint64_t)vips_image_get_height(im);
    g_object_unref(im);
    *W0 = (uint32_t)W;
    *H0 = (uint32_t)H;
    if (W * H > max_pixels)
        return vigil__fail(err, VIGIL_E_TOO_LARGE, "image is %llux%llu, over the pixel limit; not decoded",
                           (unsigned long long)W, (unsigned long long)H);
    /* vips_thumbnail shrinks on load and applies the EXIF orientation: what a person saw */
    VipsImage *t = NULL, *n = NULL, *c = NULL;
    if (vips_thumbnail_buffer((void *)data, size, &t, max_side, "height", max_side, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL))
        return vips_fail(err, VIGIL_E_DECODE, "cannot make a thumbnail");
    n = normalise(t);
    g_object_unref(t);
    if (!n) return vips_fail(err, VIGIL_E_DECODE, "cannot convert image");
    if (n->BandFmt != VIPS_FORMAT_UCHAR) {
        if (vips_cast(n, &c, VIPS_FORMAT_UCHAR, "shift", TRUE, NULL)) {
            g_object_unref(n);
            return vips_fail(err, VIGIL_E_DECODE, "cannot convert image");
        }
        g_object_unref(n);
        n = c;
    }
    /* read through a region on this thread: vips_image_write_to_memory would start a libvips
     * worker pool, whose threads race libvips's own exit handlers */
    *w = (uint32_t)n->Xsize;
    *h = (uint32_t)n->Ysize;
    *channels = n->Bands;
    size_t row = (size_t)*w * (size_t)*channels;
    *rgb = malloc(row * *h);
    VipsRegion *reg = vips_region_new(n);
    VipsRect rect = {0, 0, (int)*w, (int)*h};
    if (!*rgb || !reg || vips_region_prepare(reg, &rect)) {
        free(*rgb);
        *rgb = NULL;
        if (reg) g_object_unref(reg);
        g_object_unref(n);
        return vips_fail(err, VIGIL_E_DECODE, "corrupt or truncated image data");
    }
    for (uint32_t y = 0; y < *h; y++) memcpy(*rgb + y * row, VIPS_REGION_ADDR(reg, 0, (int)y), row);
    g_object_unref(reg);
    g_object_unref(n);
    return VIGIL_OK;
}

vigil_result vigil__load(const void *data, size_t size, int exact, uint64_t max_pixels,
                         vigil__pixels *px, vigil_hash_result *out, vigil_error *err)
{
    vigil_result r = vigil_init(err);
    if (r) return r;
    memset(px, 0, sizeof *px);

    const char *name;
    if ((r = sniff(data, size, &name, err))) return r;
    snprintf(out->format, sizeof out->format, "%s", name);

    /* Header only: libvips is lazy, no pixel is decoded yet. */
    VipsImage *im = open_image(data, size, name, 1);
    if (!im)
        return vips_fail(err, VIGIL_E_DECODE, "cannot read image header");
    const uint32_t W = (uint32_t)vips_image_get_width(im), H = (uint32_t)vips_image_get_height(im);
    out->width = W;
    out->height = H;
    out->have |= VIGIL_HAVE_SIZE;
    if ((uint64_t)W * H > max_pixels) {
        g_object_unref(im);
        return vigil__fail(err, VIGIL_E_TOO_LARGE,
                           "image is %ux%u (%llu pixels), over the limit of %llu; not decoded", W, H,
                           (unsigned long long)W * H, (unsigned long long)max_pixels);
    }
    const int resize = W > 512 || H > 512;
    if (!resize && (W < 5 || H < 5)) {
        g_object_unref(im);
        return vigil__fail(err, VIGIL_E_TOO_SMALL, "image is %ux%u; PDQ needs at least 5x5", W, H);
    }

    int shrink = 1;
    if (!exact && resize && (!strcmp(name, "jpeg") || !strcmp(name, "webp"))) {
        uint32_t short_side = W < H ? W : H;
        while (shrink < 8 && short_side / (uint32_t)(shrink * 2) >= FAST_MIN_SIDE) shrink *= 2;
        if (shrink > 1) {
            g_object_unref(im);
            im = open_image(data, size, name, shrink);
            if (!im) return vips_fail(err, VIGIL_E_DECODE, "cannot read image header");
        }
    }
    VipsImage *n = normalise(im);
    g_object_unref(im);
    if (!n) return vips_fail(err, VIGIL_E_DECODE, "cannot convert image");
    im = n;

    const uint32_t w = (uint32_t)im->Xsize, h = (uint32_t)im->Ysize; /* after shrink */
    const int bands = im->Bands, wide = im->BandFmt == VIPS_FORMAT_USHORT;
    const uint32_t ow = resize ? 512 : W, oh = resize ? 512 : H;
    uint32_t *colmap = malloc(ow * sizeof *colmap), *rowmap = malloc(oh * sizeof *rowmap);
    px->px = malloc((size_t)ow * oh * bands);
    VipsRegion *reg = vips_region_new(im);
    if (!colmap || !rowmap || !px->px || !reg) {
        r = vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
        goto done;
    }
    /* Reference positions floor(o*n/512) in the full-size image, mapped into the shrunk one. */
    for (uint32_t o = 0; o < ow; o++) {
        uint64_t sx = resize ? (uint64_t)(((double)o * W) / 512) : o;
        uint64_t x = sx * w / W;
        colmap[o] = (uint32_t)(x < w ? x : w - 1);
    }
    for (uint32_t o = 0; o < oh; o++) {
        uint64_t sy = resize ? (uint64_t)(((double)o * H) / 512) : o;
        uint64_t y = sy * h / H;
        rowmap[o] = (uint32_t)(y < h ? y : h - 1);
    }

    int all_grey = exact && bands == 3;
    uint32_t next = 0;
    for (uint32_t y0 = 0; y0 < h; y0 += 16) {
        VipsRect rect = {0, (int)y0, (int)w, (int)(h - y0 < 16 ? h - y0 : 16)};
        if (vips_region_prepare(reg, &rect)) {
            r = vips_fail(err, VIGIL_E_DECODE, "corrupt or truncated image data");
            goto done;
        }
        for (uint32_t y = y0; y < y0 + (uint32_t)rect.height; y++) {
            const VipsPel *row = VIPS_REGION_ADDR(reg, 0, (int)y);
            if (all_grey) {
                if (wide) {
                    const uint16_t *p = (const uint16_t *)row;
                    for (uint32_t x = 0; x < w && all_grey; x++)
                        all_grey = p[3 * x] == p[3 * x + 1] && p[3 * x] == p[3 * x + 2];
                } else {
                    for (uint32_t x = 0; x < w && all_grey; x++)
                        all_grey = row[3 * x] == row[3 * x + 1] && row[3 * x] == row[3 * x + 2];
                }
            }
            for (; next < oh && rowmap[next] == y; next++) {
                uint8_t *dst = px->px + (size_t)next * ow * bands;
                for (uint32_t o = 0; o < ow; o++)
                    for (int c = 0; c < bands; c++) {
                        size_t k = (size_t)colmap[o] * bands + c;
                        /* 16 -> 8 bits by rounding v/257 (the reference keeps the low byte). */
                        dst[o * bands + c] = wide ? (uint8_t)((((const uint16_t *)row)[k] * 255u + 32767u) / 65535u)
                                                  : row[k];
                    }
            }
        }
    }
    px->w = ow;
    px->h = oh;
    px->channels = bands;
    if (all_grey) { /* spec section 1: ImageMagick hands an all-grey RGB image over as one channel */
        size_t m = (size_t)ow * oh;
        for (size_t i = 0; i < m; i++) px->px[i] = px->px[3 * i];
        px->channels = 1;
    }
    r = VIGIL_OK;
done:
    if (reg) g_object_unref(reg);
    g_object_unref(im);
    free(colmap);
    free(rowmap);
    if (r) { free(px->px); px->px = NULL; }
    return r;
}
