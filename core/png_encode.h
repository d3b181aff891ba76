/* png_encode.h - PNG writing (png.c). Not named png.h: libpng's own png.h is on the include path. */
#ifndef VIGIL_PNG_ENCODE_H
#define VIGIL_PNG_ENCODE_H

#include "internal.h"

/* png.c: 8-bit grey (1) or RGB (3) pixels to a malloc'd PNG. */
vigil_result vigil__png_encode(const uint8_t *px, uint32_t w, uint32_t h, size_t stride, int channels,
                               uint8_t **png, size_t *png_size, vigil_error *err);

#endif
