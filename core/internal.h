/* internal.h - declarations shared by the files of core/; never installed. */
#ifndef VIGIL_INTERNAL_H
#define VIGIL_INTERNAL_H

#include "vigil.h"
#include <stdarg.h>

#define VIGIL_DEFAULT_MAX_PIXELS (1ull << 28)     /* 268 megapixels: larger than any camera */
#define VIGIL_DEFAULT_MAX_FILE_BYTES (1ull << 30) /* 1 GiB */

/* Sets err (if non-NULL) and returns code. printf-style. */
vigil_result vigil__fail(vigil_error *err, vigil_result code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An 8-bit image as PDQ consumes it: 1 (grey) or 3 (RGB) channels, at most 512x512 once the
 * reference tool's pre-resize has been applied (spec section 2). */
typedef struct vigil__pixels {
    uint8_t *px;
    uint32_t w, h;
    int channels;
} vigil__pixels;

/* load.c: decodes `data` into the pixel grid PDQ hashes. exact != 0 follows spec sections 1-2
 * to the bit; otherwise shrink-on-load. Fills width/height/format of out. */
vigil_result vigil__load(const void *data, size_t size, int exact, uint64_t max_pixels,
                         vigil__pixels *px, vigil_hash_result *out, vigil_error *err);

/* pdq.c: the hash of a grid already pre-resized (both sides <= 512 or exactly 512x512). */
vigil_result vigil__pdq_hash(const vigil__pixels *px, vigil_pdq *hash, int *quality,
                             vigil_pdq dihedral[8]);

/* pdq.c: the hash of a float luma plane (rows x cols, row-major). Exposed for the bench harness's
 * "hash only" timing and for tests. */
vigil_result vigil__pdq_from_luma(const float *luma, int rows, int cols, vigil_pdq *hash, int *quality,
                                  vigil_pdq dihedral[8]);

/* digest.c */
void vigil__digests(const void *data, size_t size, vigil_hash_result *out);

#endif
