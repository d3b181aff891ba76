/* view.h - a view of a decoded image as a person sees it (view.c): brought to a given longer
 * side, EXIF orientation applied, grey (Rec. 601 luma) or RGB. It is a sink of load.c's one
 * decode (vigil__load_each), so that the hash, the local features' working image and any other
 * picture of the file (a review thumbnail) come from one decode of the same bytes.
 *
 * How: each decoded row is averaged into an integer box shrink as it arrives (factor
 * k = max(1, floor(L / side)), L the decoded longer side), so the decoded image is never held;
 * then a separable tent filter in exact integers (view.c: bilinear when enlarging, a triangle
 * of the shrink's width when shrinking) brings the box image to the longer side `side` exactly,
 * and the orientation is applied to the small result. Memory: the box image, at most 2 side x
 * 2 side x channels bytes (a 640 side: 1.6 MiB grey), the resize's rows of 16-bit sums (as many
 * as the result has, the box image's width each), and one row of 32-bit sums and one of luma. */
#ifndef VIGIL_VIEW_H
#define VIGIL_VIEW_H

#include "internal.h"
#include "load.h"

typedef struct vigil__view {
    uint32_t side;     /* asked: the longer side of the result */
    int channels;      /* asked: 1 grey (luma), 3 RGB */
    /* while decoding */
    vigil__decoded d;
    uint32_t k, bw, bh; /* box factor and box image size */
    uint8_t *box;
    uint32_t *sum;
    uint8_t *luma;     /* one decoded row's luma */
    /* the result, after vigil__view_finish */
    uint8_t *px;       /* w x h x channels, rows packed; the caller may take it (then set px NULL) */
    uint32_t w, h;     /* as displayed (orientation applied) */
    uint32_t W, H;     /* the stored image's size as displayed (W, H of the file, swapped for
                        * orientations 5-8): what the view's pixels scale to */
} vigil__view;

/* Rec. 601 luma of an 8-bit RGB pixel, in integers: the one formula of every grey view. */
static inline uint8_t vigil__luma(uint32_t r, uint32_t g, uint32_t b)
{
    return (uint8_t)((299u * r + 587u * g + 114u * b + 500u) / 1000u);
}

/* A view of longer side `side` (>= 1) in channels 1 or 3; the sink to hand to vigil__load_each. */
void vigil__view_init(vigil__view *v, uint32_t side, int channels);
vigil__sink vigil__view_sink(vigil__view *v);
/* Once the decode succeeded: resizes and orients. Frees the box image either way. */
vigil_result vigil__view_finish(vigil__view *v, vigil_error *err);
void vigil__view_free(vigil__view *v);

/* Orients an image stored as w x h (channels bytes a pixel) by EXIF orientation o (1..8) into
 * out, which is h x w for 5-8, else w x h. */
void vigil__orient(const uint8_t *in, uint32_t w, uint32_t h, int channels, int o, uint8_t *out);

#endif
