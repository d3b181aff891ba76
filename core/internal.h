/* internal.h - what every core file shares: errors (vigil__fail), the small helpers of common.c
 * (hex, file kinds, opening a regular file), the decoded-pixels and input structs, and the
 * library-wide limits; never installed. Each module declares its own functions in its own
 * header: load.h, pdq.h, digest.h, cpu.h, hamming.h, png_encode.h, vics.h, sections.h, buf.h,
 * text.h, json.h, mih.h, geometry.h, features_impl.h, index_impl.h, rooms_impl.h (tests/layering.sh
 * checks that each declares only its own module's functions).
 *
 * Layout: core/ stays flat, and a file's name says which stage it belongs to, in pipeline order:
 * decode (load.c), hash (pdq.c, hasher.c, digest.c), index (index.c, index_file.c,
 * index_digests.c, mih.c; rooms*.c for the room index), match (hamming.c with hamming_template.h,
 * x86/ for the ISA variants, features.c), lists (hashlist.c, vics.c, text.c), and the shared
 * pieces underneath (buf.c, sections.c, common.c, cpu.c, png.c). Flat, because the files are
 * few (about twenty) and a prefix groups them in any listing, while subfolders would make every
 * include path and Makefile rule longer for no reader's gain; x86/ is the exception, as its files
 * build with their own ISA flags. Dependencies point one way (tests/layering.sh checks it):
 * buf.c and mih.c call no other core file; index_file.c builds on index.c, and both use
 * index_digests.c, which uses neither. */
#ifndef VIGIL_INTERNAL_H
#define VIGIL_INTERNAL_H

#include "vigil.h"
#include <stdarg.h>

#define VIGIL_DEFAULT_MAX_PIXELS (1ull << 28)     /* 268 megapixels: larger than any camera */
/* Files up to this size are read whole; larger ones are digested in a stream and decoded from
 * the file (VIGIL_TEST_STREAM_ABOVE=BYTES lowers it, for tests). */
#define VIGIL__WHOLE_READ_MAX (1ull << 30)

/* common.c: one hex digit's value or -1; n bytes from exactly 2n hex digits (0, or -1). */
int vigil__hex_digit(int c);
int vigil__unhex(const char *s, size_t len, uint8_t *out, size_t n);

/* common.c: "a FIFO", "a directory", "a character device", ... for an st_mode, in messages. */
const char *vigil__file_kind(unsigned mode);
/* Opens path to read a regular file: O_NONBLOCK (a FIFO cannot hang the open), O_NOCTTY, O_CLOEXEC,
 * then fstat. A directory, FIFO, device or socket is refused naming what it is (VIGIL_E_NOT_FILE),
 * so is a file over max_bytes (VIGIL_E_TOO_LARGE; 0 = no limit). *fd is then blocking again, *size
 * fstat's; on failure *fd is -1 and err says why. */
vigil_result vigil__open_regular(const char *path, uint64_t max_bytes, int *fd, uint64_t *size, vigil_error *err);

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

/* An image's bytes: in memory (fd < 0), or an open regular file that the decoder reads with
 * pread (a file too big to read whole). */
typedef struct vigil__input {
    const void *data;
    size_t size;
    int fd;
} vigil__input;

#endif
