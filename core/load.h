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

/* load.c: a thumbnail, longer side <= max_side, EXIF orientation applied; same allow-list and
 * pixel limit as hashing. *px is malloc'd, *channels (1 grey, 3 RGB) bytes per pixel. */
vigil_result vigil__thumb(const void *data, size_t size, int max_side, uint64_t max_pixels, uint8_t **px,
                          uint32_t *w, uint32_t *h, int *channels, vigil_error *err);

/* The same, also giving the image's stored size (before the shrink). */
vigil_result vigil__thumb_sized(const void *data, size_t size, int max_side, uint64_t max_pixels, uint8_t **px,
                                uint32_t *w, uint32_t *h, int *channels, uint32_t *W, uint32_t *H, vigil_error *err);

#endif
