/* internal.h - declarations shared by the files of core/; never installed.
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
#include "buf.h" /* vigil__buf: buffers, string tables, labels */
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

/* load.c: decodes the input into the pixel grid PDQ hashes. exact != 0 follows spec sections 1-2
 * to the bit; otherwise shrink-on-load. Fills width/height/format of out. */
vigil_result vigil__load_input(const vigil__input *in, int exact, uint64_t max_pixels, vigil__pixels *px,
                               vigil_hash_result *out, vigil_error *err);
vigil_result vigil__load(const void *data, size_t size, int exact, uint64_t max_pixels,
                         vigil__pixels *px, vigil_hash_result *out, vigil_error *err);

/* pdq.c: the hash of a grid already pre-resized (both sides <= 512 or exactly 512x512). */
vigil_result vigil__pdq_hash(const vigil__pixels *px, vigil_pdq *hash, int *quality,
                             vigil_pdq dihedral[8]);

/* pdq.c: the hash of a float luma plane (rows x cols, row-major). Exposed for the bench harness's
 * "hash only" timing and for tests. */
vigil_result vigil__pdq_from_luma(const float *luma, int rows, int cols, vigil_pdq *hash, int *quality,
                                  vigil_pdq dihedral[8]);

/* load.c: a thumbnail, longer side <= max_side, EXIF orientation applied; same allow-list and
 * pixel limit as hashing. *px is malloc'd, *channels (1 grey, 3 RGB) bytes per pixel. */
vigil_result vigil__thumb(const void *data, size_t size, int max_side, uint64_t max_pixels, uint8_t **px,
                          uint32_t *w, uint32_t *h, int *channels, vigil_error *err);

/* The same, also giving the image's stored size (before the shrink). */
vigil_result vigil__thumb_sized(const void *data, size_t size, int max_side, uint64_t max_pixels, uint8_t **px,
                                uint32_t *w, uint32_t *h, int *channels, uint32_t *W, uint32_t *H, vigil_error *err);

/* png.c: 8-bit grey (1) or RGB (3) pixels to a malloc'd PNG. */
vigil_result vigil__png_encode(const uint8_t *px, uint32_t w, uint32_t h, size_t stride, int channels,
                               uint8_t **png, size_t *png_size, vigil_error *err);

/* digest.c: the digests of bytes in memory; of a file read from its current offset to its end
 * (*len: the bytes read), in 1 MiB reads. */
void vigil__digests(const void *data, size_t size, vigil_hash_result *out);
vigil_result vigil__digest_fd(int fd, uint64_t *len, vigil_hash_result *out, vigil_error *err);

/* digest.c: tests only; when set, called after every read of a file being hashed with the bytes
 * read so far (a test appends to or truncates the file there, as another process would). */
extern void (*vigil__test_read_hook)(uint64_t done);

/* cpu.c */
enum { VIGIL_CPU_POPCNT = 1, VIGIL_CPU_AVX2 = 2, VIGIL_CPU_AVX512 = 4 /* F + VL + VPOPCNTDQ */ };
unsigned vigil__cpu_features(void);         /* detected, minus VIGIL_DISABLE_CPU_FEATURES; cached */
unsigned vigil__cpu_features_present(void); /* detected, ignoring the environment */

/* hamming.c: batch kernels. A hit is one (query, reference) pair within the radius. */
typedef struct vigil__hit {
    uint32_t ref;   /* position in refs (or in slots, when slots is given) */
    uint16_t query; /* position in queries */
    uint16_t dist;
} vigil__hit;

/* For every query q[i] (i < nq <= 65535) and reference j < n, where the reference is refs[j], or
 * refs[slots[j]] when slots is non-NULL: appends (j, i, d) to hits when d = distance <= radius.
 * hits must hold nq * n entries. Returns the number appended. Hits come in order of j, then i. */
typedef size_t (*vigil__radius_fn)(const vigil_pdq *q, size_t nq, const vigil_pdq *refs,
                                   const uint32_t *slots, size_t n, int radius, vigil__hit *hits);
/* dist[j] = distance(q, refs[j]) for j < n. */
typedef void (*vigil__dist_fn)(const vigil_pdq *q, const vigil_pdq *refs, size_t n, uint16_t *dist);

typedef struct vigil__kernels {
    const char *name;
    vigil__radius_fn radius;
    vigil__dist_fn dist;
} vigil__kernels;

/* The portable reference and the ISA variants (x86 only), and the best one this CPU runs
 * (honouring VIGIL_DISABLE_CPU_FEATURES). */
extern const vigil__kernels vigil__kernels_portable;
const vigil__kernels *vigil__kernels_best(void);
/* Kernel by level ("portable", "popcnt", "avx2", "avx512"); NULL if this build or CPU lacks it. */
const vigil__kernels *vigil__kernels_named(const char *name);


/* vics.c: Project VIC VICS JSON documents, read as hash lists (by hashlist.c). vigil__is_vics looks
 * at the first 64 KiB; vigil__vics_parse reads the document from the source's position. */
struct vigil__src;
int vigil__is_vics(const char *data, size_t size);
vigil_result vigil__vics_parse(struct vigil__src *src, vigil_list_entry_fn on_entry, vigil_list_error_fn on_error,
                               void *ctx, vigil_error *err);

/* sections.c: the container of .vgi and .vgr files (header, section table, checksummed sections). */
#define VIGIL__MAX_SECTIONS 16
typedef struct vigil__part { uint32_t type; const void *p; uint64_t n; } vigil__part;
/* The file a handle was opened from, to tell later whether it changed (vigil_index_source_state). */
typedef struct vigil__source {
    char *path;              /* NULL: no file */
    int fd;                  /* the file as opened, kept so that a write in place is told from a replacement */
    uint64_t dev, ino, size, nlink, mode, uid, gid;
    int64_t mtime_ns, ctime_ns;
    uint8_t content_id[16];  /* XXH3-128 of header + section table: every section's size and checksum */
} vigil__source;
vigil_source_state vigil__source_state(const vigil__source *s, vigil_error *why);
vigil_result vigil__source_content_id(const vigil__source *s, char out[33]);
void vigil__source_close(vigil__source *s);

typedef struct vigil__mapped {
    uint8_t *map;            /* the file's bytes, read into memory (sections.c says why not mmap) */
    uint64_t size;
    const uint8_t *part[VIGIL__MAX_SECTIONS + 1]; /* by section type; NULL when absent */
    uint64_t len[VIGIL__MAX_SECTIONS + 1];
    vigil__source src;
} vigil__mapped;
/* Writes atomically: temporary file, fsync, rename, fsync of the folder. */
vigil_result vigil__sections_write(const char *path, const char magic[8], uint32_t version, const vigil__part *parts,
                                   int n, vigil_error *err);
/* Reads the file into memory and checks header, sizes and every checksum; section types must be
 * 1..ntypes-1. `what` names the kind of file in messages ("index", "room index"). m->src keeps
 * the file's identity; vigil__sections_unmap frees both. */
vigil_result vigil__sections_map(const char *path, const char magic[8], uint32_t version, const char *what,
                                 int ntypes, vigil__mapped *m, vigil_error *err);
void vigil__sections_unmap(vigil__mapped *m);

#endif
