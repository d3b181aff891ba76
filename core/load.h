/* load.h - the decoder (load.c): image bytes to the pixel grid PDQ hashes, and to thumbnails,
 * through libvips with an allow-list of loaders and a pixel limit. */
#ifndef VIGIL_LOAD_H
#define VIGIL_LOAD_H

#include "internal.h"

/* load.c: decodes the input into the pixel grid PDQ hashes. exact != 0 follows spec sections 1-2
 * to the bit; otherwise shrink-on-load. Fills width/height/format of out. */
vigil_result vigil__load_input(const vigil__input *in, int exact, uint64_t max_pixels, vigil__pixels *px,
                               vigil_hash_result *out, vigil_error *err);
vigil_result vigil__load(const void *data, size_t size, int exact, uint64_t max_pixels,
                         vigil__pixels *px, vigil_hash_result *out, vigil_error *err);

/* One decode, many consumers: besides PDQ's grid, sinks see every row of the same decoded image
 * (view.c makes the features' working image and, later, a review thumbnail from them), so a file
 * is decoded once whatever is made of it. The image as the sinks get it: */
typedef struct vigil__decoded {
    uint32_t w, h;    /* as decoded: after shrink-on-load, which follows PDQ's rule (load.c) */
    uint32_t W, H;    /* as stored in the file, before the shrink and before any orientation */
    int bands;        /* 1 (grey) or 3 (RGB); alpha dropped */
    int wide;         /* samples are uint16_t (16-bit files), else uint8_t */
    int orientation;  /* EXIF orientation 1..8 (1 when absent): applied by the sink, not here */
} vigil__decoded;
typedef struct vigil__sink {
    /* Once, before the first row: allocate here (a failure ends the decode with that result). */
    vigil_result (*begin)(void *ctx, const vigil__decoded *d, vigil_error *err);
    /* Every row, top to bottom, once each: w x bands samples. */
    void (*row)(void *ctx, uint32_t y, const void *row);
    void *ctx;
    uint32_t side; /* the longer side the sink makes: the decode must hold at least that many;
                    * 0: it wants the header facts only (begin), told in every decode */
} vigil__sink;
/* vigil__load_input with sinks (nsinks may be 0); *fed (may be NULL) says whether they were fed.
 *
 * The sinks' decode is the same whether PDQ's grid is made beside them or not, so a sink's
 * result does not depend on it: JPEG and WebP shrink on load as PDQ's grid does (short side kept
 * >= 512), halved further while the longer side would be under the largest sink's side; others
 * decode at full size. With px (the grid), when that is PDQ's own decode (a usual photo: the
 * longer side keeps 640 px) the sinks are fed from it; when it is not (a near-square photo, or
 * an exact hash, which decodes at full size), they are not fed, *fed is 0, and the caller decodes
 * again for them with px NULL. px NULL: only the sinks, and the 5x5 minimum is theirs to judge. */
vigil_result vigil__load_each(const vigil__input *in, int exact, uint64_t max_pixels, vigil__pixels *px,
                              const vigil__sink *sinks, int nsinks, int *fed, vigil_hash_result *out, vigil_error *err);

/* load.c: a thumbnail, longer side <= max_side, EXIF orientation applied; same allow-list and
 * pixel limit as hashing. *px is malloc'd, *channels (1 grey, 3 RGB) bytes per pixel. */
vigil_result vigil__thumb(const void *data, size_t size, int max_side, uint64_t max_pixels, uint8_t **px,
                          uint32_t *w, uint32_t *h, int *channels, vigil_error *err);

/* The same, also giving the image's stored size (before the shrink). */
vigil_result vigil__thumb_sized(const void *data, size_t size, int max_side, uint64_t max_pixels, uint8_t **px,
                                uint32_t *w, uint32_t *h, int *channels, uint32_t *W, uint32_t *H, vigil_error *err);

#endif
