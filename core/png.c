/* png.c - 8-bit grey or RGB pixels to a PNG in memory, through libpng (review thumbnails, plots). */
#include "buf.h"
#include "load.h"
#include "png_encode.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>

static void put_bytes(png_structp p, png_bytep data, png_size_t n)
{
    if (vigil__buf_put(png_get_io_ptr(p), data, n)) png_error(p, "out of memory");
}

static void no_flush(png_structp p) { (void)p; }
static void quiet(png_structp p, png_const_charp msg) { (void)msg; png_longjmp(p, 1); }
static void quiet_warning(png_structp p, png_const_charp msg) { (void)p; (void)msg; }

vigil_result vigil__png_encode(const uint8_t *px, uint32_t w, uint32_t h, size_t stride, int channels,
                               uint8_t **png, size_t *png_size, vigil_error *err)
{
    if (!px || !w || !h || (channels != 1 && channels != 3) || !png || !png_size)
        return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    /* volatile: these live across setjmp */
    vigil__buf *volatile out = calloc(1, sizeof *out);
    png_structp volatile p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, quiet, quiet_warning);
    png_infop volatile info = p ? png_create_info_struct(p) : NULL;
    if (!out || !p || !info) {
        if (p) png_destroy_write_struct((png_structpp)&p, (png_infopp)&info);
        free(out);
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    }
    if (setjmp(png_jmpbuf(p))) {
        png_destroy_write_struct((png_structpp)&p, (png_infopp)&info);
        free(out->p);
        free(out);
        return vigil__fail(err, VIGIL_E_NOMEM, "PNG encoding failed");
    }
    png_set_write_fn(p, out, put_bytes, no_flush);
    png_set_IHDR(p, info, w, h, 8, channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(p, info);
    for (uint32_t y = 0; y < h; y++) png_write_row(p, (png_const_bytep)(px + (size_t)y * stride));
    png_write_end(p, info);
    png_destroy_write_struct((png_structpp)&p, (png_infopp)&info);
    *png = out->p;
    *png_size = out->n;
    free(out);
    return VIGIL_OK;
}

vigil_result vigil_thumbnail_png(const void *data, size_t size, int max_side, uint8_t **png, size_t *png_size,
                                 vigil_error *err)
{
    if (!data || !size || max_side < 1 || max_side > 4096 || !png || !png_size)
        return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    uint8_t *px;
    uint32_t w, h;
    int ch;
    vigil_result r = vigil__thumb(data, size, max_side, VIGIL_DEFAULT_MAX_PIXELS, &px, &w, &h, &ch, err);
    if (r) return r;
    r = vigil__png_encode(px, w, h, (size_t)w * ch, ch, png, png_size, err);
    free(px);
    return r;
}
