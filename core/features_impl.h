/* features_impl.h - private interface of the local-feature extractor (features.c), its FAST-9 row test
 * (features_fast.c, with the ISA variant in x86/fast_avx2.c), for the library and the bench tools. */
#ifndef VIGIL_FEATURES_IMPL_H
#define VIGIL_FEATURES_IMPL_H

#include "vigil.h"

/* features.c: every selected keypoint's smoothed patch, rotated to its orientation, 27 x 27
 * (pattern coordinates -13..13, row-major), as the descriptor samples it: for learning the
 * comparison pattern (bench/learn_pattern.c). */
#define VIGIL__PATCH 27
typedef void (*vigil__patch_fn)(const uint8_t *patch, void *ctx);
vigil_result vigil__feature_patches(const uint8_t *grey, uint32_t width, uint32_t height, size_t stride,
                                    const vigil_features_options *opt, vigil__patch_fn fn, void *ctx, vigil_error *err);

/* The FAST-9 test over one row: out[x] = 0xff for x0 <= x < x1 where 9 contiguous pixels of the
 * radius-3 circle are all brighter than row[x] + t, or all darker than row[x] - t; 0 elsewhere.
 * Rows y-3..y+3 and columns x-3..x+3 must exist. */
/* features_fast.c: the 16 pixels (x, y) of the Bresenham circle of radius 3, in order round it. */
extern const int8_t vigil__fast_circle[16][2];
typedef void (*vigil__fast_row_fn)(const uint8_t *row, size_t stride, int x0, int x1, int t, uint8_t *out);
/* features_fast.c: the portable reference; by level name ("portable", "avx2"), NULL where this
 * build or CPU lacks it; and the best. Every level returned takes any span. */
void vigil__fast_row_portable(const uint8_t *row, size_t stride, int x0, int x1, int t, uint8_t *out);
vigil__fast_row_fn vigil__fast_row_named(const char *name);
vigil__fast_row_fn vigil__fast_row_best(void);
/* x86/fast_avx2.c: bit-parallel over 32 pixels; spans of at least 32 pixels only (x1 - x0 >= 32),
 * shorter ones are the dispatcher's (features_fast.c). */
void vigil__fast_row_avx2(const uint8_t *row, size_t stride, int x0, int x1, int t, uint8_t *out);

/* The intensity-centroid moments of the circular patch of radius VIGIL__ORIENT_R about p (a
 * feature's orientation is atan2(m01, m10)): m10 = sum of dx I, m01 = sum of dy I over the pixels
 * with |dx| <= vigil__orient_span[dy + R]. Rows p - R stride .. p + R stride and columns p - 16 ..
 * p + 15 must exist. features_orient.c: the span table, the portable reference, by level name
 * ("portable", "avx2"; NULL where this build or CPU lacks it) and the best; x86/orient_avx2.c. */
#define VIGIL__ORIENT_R 15
extern const uint8_t vigil__orient_span[2 * VIGIL__ORIENT_R + 1];
typedef void (*vigil__orient_fn)(const uint8_t *p, size_t stride, int32_t *m10, int32_t *m01);
void vigil__orient_moments_portable(const uint8_t *p, size_t stride, int32_t *m10, int32_t *m01);
void vigil__orient_moments_avx2(const uint8_t *p, size_t stride, int32_t *m10, int32_t *m01);
vigil__orient_fn vigil__orient_named(const char *name);
vigil__orient_fn vigil__orient_best(void);

/* features.c: the caller's options as this build's struct (NULL: defaults), checked as every
 * vigil_features_* call checks them. */
vigil_result vigil__features_options(const vigil_features_options *in, vigil_features_options *o, vigil_error *err);
/* features.c: the features of a view (view.c) of an image: px, w x h grey, of the stored image
 * W x H as displayed (keypoints and masks are in its pixels). opt as from vigil__features_options;
 * vigil_features_memory is this on its own decode. */
vigil_result vigil__features_from_view(const uint8_t *px, uint32_t w, uint32_t h, uint32_t W, uint32_t H,
                                       const vigil_features_options *opt, vigil_features *out, vigil_error *err);

#endif
