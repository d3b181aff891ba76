/* vigil.h - the one public header of libvigil: perceptual hashing, indexing and matching of images.
 *
 * Conventions: every fallible function returns a vigil_result (0 = success) and, where it takes
 * one, fills a caller-owned vigil_error. The library never prints and never exits. Unless a
 * comment says otherwise, functions are thread-safe: any number of threads may call them on
 * distinct objects. Names are vigil_OBJECT_VERB (vigil_index_search, vigil_rooms_get_stats);
 * vigil_OBJECT_VERB_options is the option struct of vigil_OBJECT_VERB.
 *
 * Option structs (vigil_hash_options, vigil_index_search_options, vigil_features_options,
 * vigil_rooms_query_options) can grow: each starts with size_t struct_size, which its _init sets
 * to the sizeof the caller was compiled with, and new fields are only appended. Always fill one
 * with its _init, then change fields. The library reads a field only if it lies wholly within
 * struct_size; the fields an older caller's struct lacks keep their defaults. struct_size 0 (a
 * struct never given to _init) and a struct_size larger than this library knows (a program
 * built against a newer vigil.h, asking for what this library cannot do) are refused with
 * VIGIL_E_INVALID, the message saying which. Passing NULL for the options means the defaults.
 *
 * What the library does to the process:
 *   - Threads: vigil_index_search runs on `threads` OpenMP threads (0 = omp_get_max_threads())
 *     and vigil_index_compact on the OpenMP default; the OpenMP runtime (libgomp) keeps its pool
 *     of threads after the first such call, as OpenMP does. Every other call runs on the calling
 *     thread, apart from libvips's own worker (see vigil_init). Nothing is started at load time.
 *   - Memory: each thread that computes a PDQ hash (vigil_hash_file, vigil_hash_memory,
 *     vigil_pdq_from_pixels) keeps a scratch block of up to 7.3 MiB (seven 512x512 float planes),
 *     reused by its later hashes and freed when that thread exits; the main thread's is freed
 *     at process exit. Static tables filled once (the DCT matrix, the feature pattern,
 *     lookup masks: about 50 KiB) stay for the life of the process. Everything else belongs to the objects and buffers that
 *     the caller frees (vigil_index_free, vigil_rooms_free, vigil_features_free, vigil_free).
 *   - libvips: started once and set process-wide (see vigil_init), never shut down.
 *   - Files: an open index or room index holds one read-only descriptor until freed; saves write
 *     a temporary file beside the target and rename it over. Descriptors are opened close-on-exec,
 *     except that temporary file (mkstemp) for the time of the save.
 *   - Environment: VIGIL_DISABLE_CPU_FEATURES (avx512, avx2, popcnt, all) is read once, at the
 *     first kernel dispatch; VIGIL_TEST_STREAM_ABOVE (tests only) at each vigil_hash_file.
 *   - Signals: none are installed, blocked or raised; indexes are read into private memory, so no
 *     SIGBUS can come from a file changed under the program. No locale, umask, working folder or
 *     standard stream is touched. */
#ifndef VIGIL_H
#define VIGIL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(VIGIL_BUILDING)
#  define VIGIL_API __attribute__((visibility("default")))
#else
#  define VIGIL_API
#endif

#define VIGIL_VERSION_MAJOR 0
#define VIGIL_VERSION_MINOR 1
#define VIGIL_VERSION_PATCH 0
#define VIGIL_VERSION_STRING "0.1.0"

/* Runtime version, "MAJOR.MINOR.PATCH". Thread-safe. */
VIGIL_API const char *vigil_version(void);

/* Frees memory the library allocated and handed to the caller: the buffers of
 * vigil_thumbnail_png (*png), vigil_decode_grey (*px) and vigil_index_search (*matches). NULL is
 * a no-op. Objects with their own free function (vigil_index_free, vigil_rooms_free,
 * vigil_features_free) are freed with that instead. Today it is free(), so older code that calls
 * free() keeps working; vigil_free keeps working if the library's allocator changes, or when the
 * caller's C runtime is another one. Thread-safe. */
VIGIL_API void vigil_free(void *p);

/* ---------------------------------------------------------------------------------------------- */
/* Results and errors                                                                             */
/* ---------------------------------------------------------------------------------------------- */

/* Every fallible call returns one of these; 0 is success. */
typedef enum vigil_result {
    VIGIL_OK = 0,
    VIGIL_E_INVALID,      /* bad argument from the caller */
    VIGIL_E_NOMEM,        /* allocation failed */
    VIGIL_E_IO,           /* open/read/write/stat failed (errno text in the message) */
    VIGIL_E_NOT_FILE,     /* a directory, device, FIFO or socket where a file was expected */
    VIGIL_E_EMPTY,        /* zero-byte file */
    VIGIL_E_FORMAT,       /* not an image, or a format vigil does not load */
    VIGIL_E_DECODE,       /* an image whose data is corrupt or truncated */
    VIGIL_E_TOO_LARGE,    /* over the pixel or byte limit: refused before decoding */
    VIGIL_E_TOO_SMALL,    /* under 5x5 pixels: PDQ is undefined (spec section 4) */
    VIGIL_E_PARSE,        /* malformed text input (hex hash, hash list line) */
    VIGIL_E_CORRUPT,      /* a vigil file that fails its checks (magic, checksum, bounds) */
    VIGIL_E_VERSION,      /* a vigil file of a version this build cannot read */
    VIGIL_E_NOT_FOUND,    /* a looked-up entry does not exist */
    VIGIL_E_INTERNAL,     /* a bug; please report */
    VIGIL_RESULT_COUNT
} vigil_result;

/* Short stable name of a result ("ok", "io", "decode", ...). Never NULL. Thread-safe. */
VIGIL_API const char *vigil_result_name(vigil_result r);

/* Caller-owned error detail. Functions that take one fill it on failure (code + one-line message
 * naming the reason; the caller adds the file name). */
typedef struct vigil_error {
    vigil_result code;
    char message[256];
} vigil_error;

/* Initialise the decoding back end (libvips) once. Called implicitly by the functions that need it;
 * call it yourself from the main thread before starting threads if you want failures early.
 * Thread-safe; later calls return the first call's result.
 *
 * It changes libvips for the whole process, so a program that uses libvips itself sees them:
 * VIPS_INIT("vigil") (unless the program started libvips first); the operation cache off
 * (vips_cache_set_max, _max_mem and _max_files 0: no decoded image outlives its call);
 * vips_concurrency_set(1) (one libvips worker per image, since vigil's callers parallelise across
 * files); vips_block_untrusted_set(TRUE) (loaders libvips marks untrusted are refused); and
 * libvips's "VIPS" log domain sent to a handler that drops every message (the library never
 * prints). It never calls vips_shutdown. */
VIGIL_API vigil_result vigil_init(vigil_error *err);

/* ---------------------------------------------------------------------------------------------- */
/* 256-bit PDQ hashes                                                                             */
/* ---------------------------------------------------------------------------------------------- */

/* Bit k of the hash (k = 16*row + column of the DCT, spec section 10) is bit (k % 64) of w[k / 64].
 * Stored on disk as the four words little-endian, i.e. the 256-bit integer in little-endian byte
 * order. The hex form is the same integer big-endian, as Meta's reference tool prints it. */
typedef struct vigil_pdq {
    uint64_t w[4];
} vigil_pdq;

/* The 8 dihedral variants, in the reference tool's order (spec section 11). */
typedef enum vigil_transform {
    VIGIL_ORIG = 0, VIGIL_ROT90, VIGIL_ROT180, VIGIL_ROT270,
    VIGIL_FLIPX, VIGIL_FLIPY, VIGIL_FLIPP, VIGIL_FLIPM,
    VIGIL_TRANSFORM_COUNT
} vigil_transform;

/* "orig", "rot90", ... Never NULL. */
VIGIL_API const char *vigil_transform_name(vigil_transform t);

/* Writes 64 lower-case hex digits and a NUL into out[65]. */
VIGIL_API void vigil_pdq_to_hex(const vigil_pdq *h, char out[65]);

/* Parses exactly 64 hex digits (either case). Returns VIGIL_OK or VIGIL_E_PARSE. */
VIGIL_API vigil_result vigil_pdq_from_hex(const char *hex, size_t len, vigil_pdq *out);

/* Hamming distance, 0..256. */
VIGIL_API int vigil_pdq_distance(const vigil_pdq *a, const vigil_pdq *b);

/* PDQ of an 8-bit image already in memory (row-major, `channels` = 1 grey or 3 RGB, `stride` bytes
 * per row). Applies the reference tool's 512x512 pre-resize (spec section 2). `dihedral` may be NULL;
 * otherwise it receives the 8 variants. Returns VIGIL_E_TOO_SMALL (hash zero, quality 0) under 5x5.
 * Thread-safe. */
VIGIL_API vigil_result vigil_pdq_from_pixels(const uint8_t *pixels, uint32_t width, uint32_t height,
                                             size_t stride, int channels, vigil_pdq *hash,
                                             int *quality, vigil_pdq dihedral[8]);

/* ---------------------------------------------------------------------------------------------- */
/* Hashing files                                                                                  */
/* ---------------------------------------------------------------------------------------------- */

enum {
    VIGIL_HASH_EXACT = 1u << 0,      /* decode as the reference tool does: full-size, bit-exact */
    VIGIL_HASH_DIHEDRAL = 1u << 1,   /* also compute the 8 dihedral hashes */
    VIGIL_HASH_NO_DIGESTS = 1u << 2, /* skip MD5, SHA-1 and XXH3-128 */
    VIGIL_HASH_NO_PDQ = 1u << 3      /* content digests only; no decode */
};

typedef struct vigil_hash_result vigil_hash_result;

/* A small picture of a decoded image (vigil_hash_options.thumb): w x h pixels of `channels` bytes
 * (1 grey, 3 RGB), rows packed; px is the library's, freed with vigil_free. */
typedef struct vigil_thumb {
    uint8_t *px;
    uint32_t w, h;
    int channels;
} vigil_thumb;

typedef struct vigil_hash_options {
    size_t struct_size;      /* sizeof(vigil_hash_options), set by vigil_hash_options_init */
    uint32_t flags;          /* VIGIL_HASH_* */
    uint64_t max_pixels;     /* refuse images whose header announces more; 0 = default (2^28) */
    uint64_t max_file_bytes; /* refuse larger files before reading (VIGIL_E_TOO_LARGE, no digests);
                                0 = no limit (the default) */
    /* Optional: called once the content digests are known, before decoding. Returning 0 skips
     * the decode (the call then succeeds with digests only); a scanner uses it to decode each
     * distinct content once. Called on the hashing thread. */
    int (*before_decode)(const vigil_hash_result *digests, void *ctx);
    void *before_decode_ctx;
    /* Optional: with thumb_side > 0 and thumb set, a decoded image also yields a thumbnail of
     * longer side <= thumb_side (1..4096), taken from the pixels the hash decoded (no second
     * decode), turned by the file's EXIF orientation for display (the hash is not turned, as
     * PDQ defines it). *thumb is cleared first and stays empty
     * when nothing was decoded; the caller frees thumb->px with vigil_free. */
    int thumb_side;
    vigil_thumb *thumb;
} vigil_hash_options;

/* Fills defaults: fast mode, no dihedral, digests on. */
VIGIL_API void vigil_hash_options_init(vigil_hash_options *opt);

/* What one file hashed to. Fields are valid as `have` says. */
enum { VIGIL_HAVE_DIGESTS = 1u << 0, VIGIL_HAVE_PDQ = 1u << 1, VIGIL_HAVE_DIHEDRAL = 1u << 2,
       VIGIL_HAVE_SIZE = 1u << 3 };
/* file_flags: VIGIL_FILE_CHANGED: the file changed while it was read (its size or modification
 * time differed from when it was opened, or the bytes read were not its size). The digests and
 * hash are of the bytes that were read, and file_size is their count. */
enum { VIGIL_FILE_CHANGED = 1u << 0 };

struct vigil_hash_result {
    uint32_t have;
    vigil_pdq pdq;
    vigil_pdq dihedral[8]; /* dihedral[VIGIL_ORIG] is the dihedral path's own orig (spec section 6) */
    int quality;           /* 0..100 */
    uint32_t width, height;/* as stored in the file */
    uint64_t file_size;
    uint8_t md5[16], sha1[20], xxh128[16]; /* xxh128: canonical (big-endian) XXH3-128 */
    char format[12];       /* "jpeg", "png", "webp", "gif", "tiff", "heif", ... */
    uint32_t file_flags;   /* VIGIL_FILE_*; set by vigil_hash_file only */
};

/* Content digests over the file's bytes, then decode (sniffed by content, never by name) and PDQ.
 * A file up to 1 GiB is read once, into memory. A larger one is not held: its digests are computed
 * as it is read (1 MiB at a time), so a multi-gigabyte video gets its MD5 and SHA-1, and a JPEG,
 * PNG or TIFF is then decoded from the file as it is read again; other formats that big, whose
 * decoders would hold the whole file, are refused with VIGIL_E_TOO_LARGE after their digests.
 * Decoding is limited by max_pixels, whatever the file's size. An image cut short is refused
 * (VIGIL_E_DECODE, "truncated image: ..."), as in every function that decodes. On failure `out`
 * keeps what was computed before it (e.g. digests of a corrupt image) and `err` says why.
 * Thread-safe: call it from as many threads as you like. */
VIGIL_API vigil_result vigil_hash_file(const char *path, const vigil_hash_options *opt,
                                       vigil_hash_result *out, vigil_error *err);

/* The same for bytes already in memory (an upload). Thread-safe. */
VIGIL_API vigil_result vigil_hash_memory(const void *data, size_t size, const vigil_hash_options *opt,
                                         vigil_hash_result *out, vigil_error *err);

/* A vigil_thumb as a PNG (8-bit grey or RGB) in a buffer the caller frees with vigil_free. */
VIGIL_API vigil_result vigil_thumb_png(const vigil_thumb *t, uint8_t **png, size_t *png_size, vigil_error *err);
/* The same as a baseline JPEG of the given quality (1..100), metadata stripped: a fifth to a
 * tenth of the PNG's size for photographs. Thread-safe. */
VIGIL_API vigil_result vigil_thumb_jpeg(const vigil_thumb *t, int quality, uint8_t **jpeg, size_t *jpeg_size,
                                        vigil_error *err);

/* A review thumbnail of an image file's bytes: longer side at most max_side (1..4096) pixels,
 * EXIF orientation applied, as a PNG (8-bit grey or RGB) in a buffer the caller frees with vigil_free.
 * The same format allow-list and pixel limit as hashing. Thread-safe. */
VIGIL_API vigil_result vigil_thumbnail_png(const void *data, size_t size, int max_side, uint8_t **png,
                                           size_t *png_size, vigil_error *err);

/* ---------------------------------------------------------------------------------------------- */
/* Indexes of reference hashes and matching                                                      */
/* ---------------------------------------------------------------------------------------------- */

/* An index: the hashes of one reference set (say "victims" or "hotels") with, per entry, its
 * quality, an id and free-text labels ("series=... hotel_id=... room=..."). Exact radius search:
 * multi-index hashing over the 16 DCT rows of the hash for radius <= 31 (by pigeonhole, a hash
 * within 31 bits agrees with the query to within 1 bit on at least one row), a scan otherwise;
 * the choice is automatic. Entries added after the last build sit in a small unsorted segment that
 * is scanned; removed entries are tombstoned until vigil_index_compact.
 *
 * Memory per entry: 32 bytes of hash + 45 of index (15 tables of 3-byte slots, 4-byte past 2^24
 * entries; the 16th table is the storage order itself) + 1 of quality + 8 of id/label offsets =
 * 86 bytes, plus the id and label text, plus 4 MiB of bucket offsets per index whatever its size.
 * It grows linearly with the collection.
 *
 * Thread-safety: searching one index from many threads is safe; changing it (add, remove, compact)
 * needs the caller's exclusive access. */
typedef struct vigil_index vigil_index;

/* An empty index for the named set (at most 63 bytes). */
VIGIL_API vigil_result vigil_index_new(const char *set_name, vigil_index **out, vigil_error *err);
/* Reads an index file into memory and checks it completely (header, section bounds, per-section
 * XXH3 checksums, structure) before returning; a truncated, corrupted or foreign file is an error.
 * The handle holds its own copy (private memory, the file's size): the file may be rewritten,
 * truncated or replaced while it is open without affecting searches (no SIGBUS, no unchecked
 * bytes). It keeps one file descriptor open, to tell a later change (vigil_index_source_state). */
VIGIL_API vigil_result vigil_index_open(const char *path, vigil_index **out, vigil_error *err);
/* How vigil_index_open_with and vigil_rooms_open_with read a file. */
typedef struct vigil_open_options {
    size_t struct_size; /* sizeof(vigil_open_options), set by vigil_open_options_init */
    uint32_t threads;   /* threads that read the file into memory, 1 to 64 (default 1): a 3 GB index
                         * with features took 2.9-3.3 s on one, 1.6-2.0 s on two */
} vigil_open_options;
VIGIL_API void vigil_open_options_init(vigil_open_options *opt);
/* vigil_index_open with options (NULL: the defaults, as vigil_index_open). */
VIGIL_API vigil_result vigil_index_open_with(const char *path, const vigil_open_options *opt, vigil_index **out,
                                             vigil_error *err);
/* Writes the index to path atomically (temporary file, fsync, rename, fsync of the folder). */
VIGIL_API vigil_result vigil_index_save(const vigil_index *idx, const char *path, vigil_error *err);
VIGIL_API void vigil_index_free(vigil_index *idx);

/* Adds one entry (to the unsorted segment until the next compact). id and labels may be NULL. */
VIGIL_API vigil_result vigil_index_add(vigil_index *idx, const vigil_pdq *hash, int quality, const char *id,
                                       const char *labels, vigil_error *err);
/* Tombstones every live entry whose id equals `id`; *removed (may be NULL) says how many. */
VIGIL_API vigil_result vigil_index_remove(vigil_index *idx, const char *id, size_t *removed, vigil_error *err);
/* Rebuilds the multi-index tables over every live entry: the unsorted segment merges in and
 * tombstoned entries go. Entry numbers change. */
VIGIL_API vigil_result vigil_index_compact(vigil_index *idx, vigil_error *err);

typedef struct vigil_index_stats {
    uint64_t entries;       /* live entries */
    uint64_t indexed;       /* in the multi-index part */
    uint64_t unsorted;      /* added since the last compact */
    uint64_t removed;       /* tombstoned, still taking space */
    uint64_t bytes;         /* memory (or file bytes) of the whole index */
    uint64_t digests;       /* live content-digest entries (see vigil_index_add_digest) */
    uint64_t digest_records;/* digest entry numbers run 0 .. digest_records - 1 (removed ones too) */
    const char *set_name;
} vigil_index_stats;
VIGIL_API void vigil_index_get_stats(const vigil_index *idx, vigil_index_stats *st);

/* What happened to the file a handle was opened from, since it was opened. */
typedef enum vigil_source_state {
    VIGIL_SOURCE_SAME = 0,     /* unchanged; also a handle not opened from a file, or no longer
                                  holding its copy (an index after vigil_index_compact, a room
                                  index after vigil_rooms_add) */
    VIGIL_SOURCE_WRITTEN = 1,  /* the file itself was written or truncated in place (cp onto it,
                                  touch); the handle still holds the content checked at open */
    VIGIL_SOURCE_REPLACED = 2  /* the path names another file now (renamed over, as vigil's own
                                  writers do) or none */
} vigil_source_state;
/* One fstat and one stat; `why` (may be NULL) gets what changed. Thread-safe. A change made in
 * the same clock tick (a few ms) as the file's previous one, to the same size, can go unseen:
 * compare vigil_index_content_id where that matters. */
VIGIL_API vigil_source_state vigil_index_source_state(const vigil_index *idx, vigil_error *why);
/* 32 lower-case hex digits and a NUL naming the content of the file as it was opened: XXH3-128 of
 * its header and section table, which hold every section's size and XXH3-64 checksum. Files with
 * the same bytes get the same id; a different index of the same size gets another. Not
 * cryptographic: it tells versions apart, it does not authenticate them. VIGIL_E_NOT_FOUND (and
 * "") where vigil_index_source_state has no file. Thread-safe. */
VIGIL_API vigil_result vigil_index_content_id(const vigil_index *idx, char out[33]);

/* Entry e (0 .. indexed + unsorted - 1). Returns VIGIL_E_NOT_FOUND for a removed or absent entry.
 * The strings stay valid until the index changes or is freed. Any out-pointer may be NULL. */
VIGIL_API vigil_result vigil_index_entry(const vigil_index *idx, uint64_t e, vigil_pdq *hash, int *quality,
                                         const char **id, const char **labels);
/* Runs the full structural check that `vigil index verify` reports (open already checks
 * checksums and bounds; this also checks that every entry sits in the bucket of its key). */
VIGIL_API vigil_result vigil_index_verify(const vigil_index *idx, vigil_error *err);

/* Content-digest entries: references known only by the MD5 and/or SHA-1 of the file (most
 * Project VIC and NCMEC lists), kept beside the PDQ entries and looked up exactly. 48 bytes each
 * plus id and label text, plus 8 bytes of lookup table per digest at most. */
enum { VIGIL_DIGEST_MD5 = 1, VIGIL_DIGEST_SHA1 = 2 };
/* Either digest may be NULL, not both. */
VIGIL_API vigil_result vigil_index_add_digest(vigil_index *idx, const uint8_t md5[16], const uint8_t sha1[20],
                                              const char *id, const char *labels, vigil_error *err);
/* Digest entries whose MD5 equals md5 or whose SHA-1 equals sha1 (either may be NULL): writes up
 * to max entry numbers to out, each once, and returns how many matched. Thread-safe. */
VIGIL_API size_t vigil_index_find_digest(const vigil_index *idx, const uint8_t md5[16], const uint8_t sha1[20],
                                         uint64_t *out, size_t max);
/* Digest entry d (0 .. number ever added - 1); VIGIL_E_NOT_FOUND for a removed or absent one.
 * *have gets VIGIL_DIGEST_* bits. Any out-pointer may be NULL. */
VIGIL_API vigil_result vigil_index_digest_entry(const vigil_index *idx, uint64_t d, uint8_t md5[16], uint8_t sha1[20],
                                                int *have, const char **id, const char **labels);

enum { VIGIL_SEARCH_AUTO = 0, VIGIL_SEARCH_SCAN = 1, VIGIL_SEARCH_INDEX = 2 };

typedef struct vigil_index_search_options {
    size_t struct_size; /* sizeof(vigil_index_search_options), set by vigil_index_search_options_init */
    int radius;   /* match when distance <= radius (default 31, PDQ's recommendation) */
    int top_k;    /* keep the k nearest per query; 0 = all within the radius */
    int threads;  /* 0 = all cores */
    int method;   /* VIGIL_SEARCH_AUTO, _SCAN or _INDEX (tests and benchmarks force one) */
} vigil_index_search_options;
VIGIL_API void vigil_index_search_options_init(vigil_index_search_options *opt);

typedef struct vigil_index_match {
    uint32_t query;     /* which query (group) */
    uint32_t transform; /* vigil_transform of the query variant that matched best */
    uint64_t entry;     /* entry number in the index */
    int distance;
} vigil_index_match;

/* Searches nq queries. With variants == 8, queries holds nq groups of 8 dihedral hashes (in
 * vigil_transform order) and each entry is reported once per group, at its best variant; with
 * variants == 1, plain hashes. Matches come sorted by query, then distance, then entry, in a
 * malloc'd array the caller frees with vigil_free. Thread-safe for concurrent searches. */
VIGIL_API vigil_result vigil_index_search(const vigil_index *idx, const vigil_pdq *queries, size_t nq, int variants,
                                          const vigil_index_search_options *opt, vigil_index_match **matches,
                                          size_t *nmatches, vigil_error *err);

/* ---------------------------------------------------------------------------------------------- */
/* Local features (recognising a place from another viewpoint)                                    */
/* ---------------------------------------------------------------------------------------------- */

/* FAST-9 corners over an image pyramid, ranked by Harris response, oriented by intensity centroid,
 * each with a 256-bit rotated binary descriptor (ORB-style; our own comparison pattern). The
 * descriptor has the vigil_pdq layout, so the Hamming kernels compare it. */
typedef struct vigil_keypoint {
    float x, y;      /* in the pixels of the image as stored */
    float scale;     /* pixels of the image per pixel of the level it was found on */
    float angle;     /* radians, image axes (y down) */
    float response;  /* Harris response at its level */
} vigil_keypoint;

typedef struct vigil_rect { float x, y, w, h; } vigil_rect;

typedef struct vigil_features_options {
    size_t struct_size;    /* sizeof(vigil_features_options), set by vigil_features_options_init */
    uint32_t max_features; /* at most this many per image (default 500: 26 KiB of keypoints + descriptors) */
    uint32_t work_side;    /* longer side of the first pyramid level (default 640) */
    int levels;            /* pyramid levels (default 5) */
    float scale_factor;    /* between levels (default 1.3) */
    int fast_threshold;    /* FAST intensity threshold (default 20) */
    int equalise;          /* detect on the histogram-equalised image (default 1: light-invariant) */
    uint32_t grid;         /* spread features over a grid this many cells across the longer side (default 4; 0 = off) */
    const vigil_rect *mask;/* regions to ignore (a person in the foreground), image pixels */
    size_t nmask;
    const uint8_t *mask_image; /* optional 8-bit mask stretched over the image: >= 128 ignores */
    uint32_t mask_width, mask_height;
    int mirrored;          /* also the features of the left-right mirror image (default 0): then n is
                              2m, features m..2m-1 being features 0..m-1 as that image has them
                              (x -> width - 1 - x, angle -> pi - angle, the descriptor it gives),
                              for finding mirrored copies at the cost of 256 more comparisons each */
    int even_levels;       /* share max_features equally between the pyramid levels (default 0: in
                              proportion to their area), so coarse levels keep more: the known-image
                              references' preset, for copies at half size (docs/kfeat.md) */
} vigil_features_options;
VIGIL_API void vigil_features_options_init(vigil_features_options *opt);

typedef struct vigil_features {
    uint32_t n;
    vigil_keypoint *kp;
    vigil_pdq *desc;
    uint32_t width, height; /* of the image as stored */
} vigil_features;

/* Features of an 8-bit grey image in memory (no resize beyond the pyramid's working size). */
VIGIL_API vigil_result vigil_features_from_grey(const uint8_t *grey, uint32_t width, uint32_t height, size_t stride,
                                                const vigil_features_options *opt, vigil_features *out, vigil_error *err);
/* Features of an image file's bytes: decoded with the hash's shrink-on-load (halved further while
 * the longer side would be under the working size), then brought to the working size on the
 * longer side with EXIF orientation applied; width, height and keypoints are in pixels of the
 * image as displayed. Same format allow-list and limits as hashing. Thread-safe. */
VIGIL_API vigil_result vigil_features_memory(const void *data, size_t size, const vigil_features_options *opt,
                                             vigil_features *out, vigil_error *err);
VIGIL_API void vigil_features_free(vigil_features *f);
/* Features of an image file by name, read whole into memory once (a file over 1 GiB is refused
 * with VIGIL_E_TOO_LARGE; a directory, FIFO, device or socket with VIGIL_E_NOT_FILE, never opened
 * for reading; an empty file with VIGIL_E_EMPTY), then as vigil_features_memory. On failure *out
 * is empty (n = 0). Thread-safe. */
VIGIL_API vigil_result vigil_features_file(const char *path, const vigil_features_options *opt, vigil_features *out,
                                           vigil_error *err);
/* vigil_hash_file and the local features of the same file from one read: the hash and the
 * features describe the same bytes even when the file changes on disk. The return value, *out and
 * *err are exactly vigil_hash_file's (hopt as there). *features (fopt as in vigil_features_memory;
 * NULL = defaults) is always set: the features when the hash decoded the image (VIGIL_HAVE_PDQ in
 * out->have) and they could be extracted, else empty (n = 0), so that a hash result never waits
 * on its features. features_err (may be NULL) gets VIGIL_OK, or why there are none: the hash's
 * own error, VIGIL_E_NOT_FOUND when the hash did not decode (VIGIL_HASH_NO_PDQ, or before_decode
 * declined), VIGIL_E_TOO_LARGE for a file over 1 GiB (it is digested as a stream, not held), or
 * the features' error. The features are exactly vigil_features_memory's of the same bytes (EXIF
 * orientation applied, keypoints in pixels of the image as displayed); they are made from the
 * hash's own decode when that holds their working size (a usual photo), else from a decode of
 * their own (a near-square JPEG or WebP over 512 px, or an exact hash of a shrunk one). Free them
 * with vigil_features_free. Thread-safe: call it from as many threads as you like. */
VIGIL_API vigil_result vigil_hash_file_features(const char *path, const vigil_hash_options *hopt,
                                                const vigil_features_options *fopt, vigil_hash_result *out,
                                                vigil_features *features, vigil_error *features_err,
                                                vigil_error *err);
/* The same for bytes in memory (an archive member): vigil_hash_memory and the features of the same
 * bytes. */
VIGIL_API vigil_result vigil_hash_memory_features(const void *data, size_t size, const vigil_hash_options *hopt,
                                                  const vigil_features_options *fopt, vigil_hash_result *out,
                                                  vigil_features *features, vigil_error *features_err,
                                                  vigil_error *err);
/* An image file's bytes as 8-bit grey (Rec. 601 luma), longer side at most max_side, EXIF
 * orientation applied: for mask images. *px is the caller's to free with vigil_free. */
VIGIL_API vigil_result vigil_decode_grey(const void *data, size_t size, uint32_t max_side, uint8_t **px, uint32_t *w,
                                         uint32_t *h, vigil_error *err);

/* ---------------------------------------------------------------------------------------------- */
/* Room index: which known room (hotel) a photo was taken in                                      */
/* ---------------------------------------------------------------------------------------------- */

/* Reference images' local features with their labels ("hotel_id=... chain=... room=..."). A query
 * finds candidate features by multi-index hashing (8 tables keyed by 16-bit substrings of the
 * descriptor), votes per reference image, then verifies the best-voted images geometrically (RANSAC
 * homography) and ranks by inlier count. Memory: 74 bytes per reference feature in the file (32
 * descriptor, 8 position, 2 orientation and scale, 8 x 4 table slots, read in at open) + 4 (its image), 32 per
 * image + its name and labels, plus 2 MiB of bucket offsets: at 1000 features per reference
 * image (vigil rooms build), 78 KB per image, 780 MB for 10,000 images; linear in the number of
 * images. */
typedef struct vigil_rooms vigil_rooms;

VIGIL_API vigil_result vigil_rooms_new(vigil_rooms **out, vigil_error *err);
/* Reads a .vgr file into memory after checking its checksums and structure, as vigil_index_open
 * does (the file may change while it is open without affecting queries); adding to it afterwards
 * copies it into growable buffers first. */
VIGIL_API vigil_result vigil_rooms_open(const char *path, vigil_rooms **out, vigil_error *err);
/* vigil_rooms_open with options (vigil_open_options; NULL: the defaults). */
VIGIL_API vigil_result vigil_rooms_open_with(const char *path, const vigil_open_options *opt, vigil_rooms **out,
                                             vigil_error *err);
/* As vigil_index_source_state and vigil_index_content_id, for a room index. Thread-safe. */
VIGIL_API vigil_source_state vigil_rooms_source_state(const vigil_rooms *r, vigil_error *why);
VIGIL_API vigil_result vigil_rooms_content_id(const vigil_rooms *r, char out[33]);
/* Adds one reference image's features (at most 65535) under a name (a path or id) and labels. */
VIGIL_API vigil_result vigil_rooms_add(vigil_rooms *r, const char *name, const char *labels, const vigil_features *f,
                                       vigil_error *err);
/* Builds the lookup tables; queries need it after adds (open and save leave the index prepared). */
VIGIL_API vigil_result vigil_rooms_prepare(vigil_rooms *r, vigil_error *err);
/* Prepares, then writes atomically (temporary file, fsync, rename). */
VIGIL_API vigil_result vigil_rooms_save(vigil_rooms *r, const char *path, vigil_error *err);
VIGIL_API void vigil_rooms_free(vigil_rooms *r);

typedef struct vigil_rooms_stats {
    uint64_t images, features;
    uint64_t bytes; /* of the arrays a query touches (file or memory) */
} vigil_rooms_stats;
VIGIL_API void vigil_rooms_get_stats(const vigil_rooms *r, vigil_rooms_stats *s);
/* Image i's name, labels ("" when none) and feature count. VIGIL_E_NOT_FOUND past the end. */
VIGIL_API vigil_result vigil_rooms_image(const vigil_rooms *r, uint64_t i, const char **name, const char **labels,
                                         uint32_t *nfeatures);

typedef struct vigil_rooms_query_options {
    size_t struct_size;      /* sizeof(vigil_rooms_query_options), set by vigil_rooms_query_options_init */
    uint32_t top_k;          /* rooms to return (default 5) */
    int radius;              /* descriptor distance for a candidate match (default 50 of 256) */
    uint32_t verify;         /* best-voted images verified geometrically (default 30) */
    uint32_t min_inliers;    /* below this an image is not reported (default 10) */
    float tolerance;         /* RANSAC inlier distance, as a fraction of the reference's longer side (default 0.015) */
    int exhaustive;          /* compare with every reference feature instead of the tables: the
                                brute-force baseline the index is measured against (default 0) */
    float ratio;             /* a match must be nearer than ratio x the next other feature of the
                                same image (default 0.8): repeated patterns say nothing */
    uint32_t stop_factor;    /* table buckets over 64 + this x their mean size hold common,
                                featureless patterns and are skipped (default 5; the speed knob:
                                8 is 1.3 points more top-1 for half again the search time) */
    int guided_radius;       /* after RANSAC, each query feature is looked for again where the
                                homography puts it, within this descriptor distance (default 64;
                                0: off): the matches the index missed then count as inliers too */
    int model;               /* what verification fits: VIGIL_ROOMS_HOMOGRAPHY (default: another view
                                of a place) or VIGIL_ROOMS_AFFINE (the same photograph reframed:
                                cropped, scaled, turned; no perspective, no mirror, at most 2:1
                                stretch); h then has the last row 0 0 1 */
    uint32_t seed_features;  /* only the first this many query features look for candidates (0 =
                                all, the default); all of them take part in guided matching. With
                                seed_tables the speed knob of a large set of known images, whose
                                true matches are near and many */
    uint32_t seed_tables;    /* only the first this many of the 8 tables are looked up (0 = all) */
} vigil_rooms_query_options;
enum { VIGIL_ROOMS_HOMOGRAPHY = 0, VIGIL_ROOMS_AFFINE = 1 };
VIGIL_API void vigil_rooms_query_options_init(vigil_rooms_query_options *o);

typedef struct vigil_rooms_match {
    uint64_t image;       /* reference image */
    uint32_t inliers;     /* the score: correspondences consistent with one homography */
    uint32_t votes;       /* descriptor matches before verification */
    const char *name;     /* of the reference, valid while the index lives */
    const char *labels;
    float h[9];           /* query pixels -> reference pixels, row-major */
} vigil_rooms_match;

/* Ranks rooms for one query's features (extracted with the query's mask, if any): at most
 * top_k matches into out, best first, one per room (hotel_id + room labels, else one per image).
 * Thread-safe for concurrent queries on a prepared index. */
VIGIL_API vigil_result vigil_rooms_query(const vigil_rooms *r, const vigil_features *q,
                                         const vigil_rooms_query_options *opt, vigil_rooms_match *out, size_t *nout,
                                         vigil_error *err);

/* ---------------------------------------------------------------------------------------------- */
/* Known images by local features: the same photograph, reframed                                 */
/* ---------------------------------------------------------------------------------------------- */

/* A hash index (.vgi) may also hold local features of its reference images, in an optional
 * section beside the unchanged PDQ part: a cropped, framed, padded, slightly turned, captioned
 * or mirrored copy is found by them where PDQ cannot find it. Verification fits an affine map
 * (a reframed photo: no perspective) with a tight tolerance. Memory per reference: its features
 * (default 256) x 78 bytes (32 descriptor, 8 position, 2 shape, 32 of table slots, 4 owner) + 32
 * of record + its id and labels, about 20 KB, plus 2 MiB of bucket offsets per index; linear in
 * the number of references (bench/results/kfeat.md). */

/* The reference preset: 256 features per image at the room working size (640 px). */
VIGIL_API void vigil_known_features_options_init(vigil_features_options *o);
/* The query preset: 1000 features and their mirrored twins (mirrored = 1). */
VIGIL_API void vigil_known_query_options_init(vigil_features_options *o);

/* Adds one reference image's features (at most 65535; extracted with the reference preset) under
 * an id and labels (either may be NULL). Needs the caller's exclusive access, as vigil_index_add. */
VIGIL_API vigil_result vigil_index_add_features(vigil_index *idx, const char *id, const char *labels,
                                                const vigil_features *f, vigil_error *err);

typedef struct vigil_index_features_stats {
    uint64_t refs;     /* live references with features */
    uint64_t features; /* their features */
    uint64_t bytes;    /* memory of the feature part once prepared for search */
} vigil_index_features_stats;
VIGIL_API void vigil_index_get_features_stats(const vigil_index *idx, vigil_index_features_stats *st);
/* Reference r's id and labels (NULL when none); VIGIL_E_NOT_FOUND for a removed or absent one. */
VIGIL_API vigil_result vigil_index_features_ref(const vigil_index *idx, uint64_t r, const char **id, const char **labels);

typedef struct vigil_index_features_options {
    size_t struct_size;    /* sizeof, set by vigil_index_features_options_init */
    uint32_t min_inliers;  /* the least inliers of a match (default 12, chosen on make eval) */
    uint32_t top_k;        /* at most this many references per query (default 5, at most 30) */
    int query_mirrored;    /* the query holds mirrored twins (vigil_known_query_options_init; default 1) */
    float tolerance;       /* inlier distance, fraction of the reference's longer side (default 0.01) */
} vigil_index_features_options;
VIGIL_API void vigil_index_features_options_init(vigil_index_features_options *o);

typedef struct vigil_index_features_match {
    uint64_t ref;          /* the reference (vigil_index_features_ref) */
    uint32_t inliers;
    int mirrored;          /* found as the left-right mirror of the reference */
    float box[4];          /* x0 y0 x1 y1: where the reference lies in the query, 0..1 of its size */
    float crop[4];         /* x y w h: the part of the reference the query shows, reference pixels */
    float scale;           /* query pixels per reference pixel */
    float rotation;        /* degrees the reference was turned (image axes, y down: clockwise as shown) */
    float h[9];            /* query pixels (mirrored when mirrored) -> reference pixels, row-major */
} vigil_index_features_match;

/* The references whose features a query's (vigil_features, extracted with the query preset) match
 * after geometric verification, best first: at most top_k into out, *nout of them. An index
 * without features gives none. Thread-safe for concurrent queries (the first one prepares the
 * lookup tables of an index changed since, under a lock). */
VIGIL_API vigil_result vigil_index_match_features(const vigil_index *idx, const vigil_features *q,
                                                  const vigil_index_features_options *opt,
                                                  vigil_index_features_match *out, size_t *nout, vigil_error *err);

/* ---------------------------------------------------------------------------------------------- */
/* Hash lists                                                                                     */
/* ---------------------------------------------------------------------------------------------- */

/* One parsed reference: hash, quality (-1 when the list has none), id and labels (NULL when
 * absent). Strings are valid during the callback only. */
typedef struct vigil_list_entry {
    vigil_pdq hash;         /* valid when has_pdq */
    int quality;
    const char *id;
    const char *labels;
    uint64_t line;
    int has_pdq;            /* 0 for a reference known only by its content digests */
    const uint8_t *md5;     /* NULL when absent; given only for entries without a PDQ */
    const uint8_t *sha1;
} vigil_list_entry;

/* Called per good entry; return non-zero to stop. */
typedef int (*vigil_list_entry_fn)(const vigil_list_entry *e, void *ctx);
/* Called per bad line with its number and the reason; return non-zero to stop. */
typedef int (*vigil_list_error_fn)(uint64_t line, const char *reason, void *ctx);

/* Parses a hash list from a stream of bytes (thread-safe; callbacks run on the calling thread):
 * `vigil hash` output (TSV/CSV/JSONL), CSV or TSV with a header naming a hash column (pdq, hash,
 * pdq_hash, signal) or only digest columns (md5, sha1), plain lines "HEX [ID]" (64 hex digits:
 * PDQ; 32: MD5; 40: SHA-1), or a Project VIC VICS 1.x/2.0 JSON document (PDQ from
 * AlternativeHashes, else MD5/SHA1; Category and the digests become labels). Other header columns
 * become labels "name=value". Bad lines go to on_error and the parse goes on. */
VIGIL_API vigil_result vigil_list_parse(const char *data, size_t size, vigil_list_entry_fn on_entry,
                                        vigil_list_error_fn on_error, void *ctx, vigil_error *err);

/* Supplies a stream's next bytes: copies at most cap (> 0) bytes into buf and returns how many,
 * 0 at the end, or -1 when reading failed. */
typedef ptrdiff_t (*vigil_read_fn)(void *buf, size_t cap, void *ctx);

/* vigil_list_parse on a stream, for lists too large to hold: read is asked for 256 KiB at a time
 * (more while a record longer than that is gathered) and only the record or JSON token at hand is
 * kept, so memory grows with the longest line (or string), never with the list; a VICS export of
 * gigabytes costs what its entries cost the callbacks. The format is told from the first 64 KiB, as vigil_list_parse tells it, and the
 * entries, messages and line numbers are the same as vigil_list_parse's on the same bytes.
 * Returns VIGIL_E_IO when read returns -1 (the entries before it have been delivered), else as
 * vigil_list_parse. Thread-safe; read and the callbacks run on the calling thread. */
VIGIL_API vigil_result vigil_list_parse_stream(vigil_read_fn read, void *read_ctx, vigil_list_entry_fn on_entry,
                                               vigil_list_error_fn on_error, void *ctx, vigil_error *err);

/* The same from a file descriptor, read from its current offset to its end (EINTR is retried; a
 * read error is VIGIL_E_IO with errno's text). fd is left open. Thread-safe. */
VIGIL_API vigil_result vigil_list_parse_fd(int fd, vigil_list_entry_fn on_entry, vigil_list_error_fn on_error, void *ctx,
                                           vigil_error *err);

/* ---------------------------------------------------------------------------------------------- */
/* Archives: the members of zip, tar (plain, gz, bz2, xz, zstd), 7z and rar, read with libarchive  */
/* ---------------------------------------------------------------------------------------------- */
/* Members are read into memory, never written anywhere (a name such as ../../etc/passwd is only a
 * name). Archives inside archives are opened to max_depth. Limits against bombs hold over the
 * whole outermost archive, nested ones included: once the bytes read out (declared sizes counted
 * before reading) pass max_ratio times the outermost archive's size (and ratio_floor), or
 * max_total_bytes, reading stops with VIGIL_E_TOO_LARGE naming the limit. Docs: docs/archives.md. */
typedef struct vigil_archive_options {
    size_t struct_size;        /* sizeof(vigil_archive_options), set by vigil_archive_options_init */
    uint32_t max_depth;        /* archives inside archives opened this deep (default 4; 1 = none) */
    uint32_t max_ratio;        /* bytes out / outermost archive's bytes (default 100) */
    uint64_t ratio_floor;      /* the ratio applies once more than this is out (default 1 MiB) */
    uint64_t max_total_bytes;  /* bytes out of one outermost archive (default 64 GiB) */
    uint64_t max_member_bytes; /* one member held in memory (default 1 GiB) */
} vigil_archive_options;
VIGIL_API void vigil_archive_options_init(vigil_archive_options *opt);

/* The archive format of bytes from the start of a file ("zip", "tar", "tar.gz", "tar.bz2",
 * "tar.xz", "tar.zst", "7z", "rar"), or NULL. A compressed stream is only an archive if it holds
 * a tar: the sniff says "gz"/"bz2"/"xz"/"zst" for one and the open decides. n >= 512 is best. */
VIGIL_API const char *vigil_archive_sniff(const void *head, size_t n);

typedef struct vigil_archive vigil_archive;
/* Opens an archive file (a regular file, opened O_NONBLOCK) or bytes in memory (which must stay
 * valid until vigil_archive_free). VIGIL_E_FORMAT when it is no archive libarchive reads,
 * VIGIL_E_CORRUPT when it is one, damaged before its first member. */
VIGIL_API vigil_result vigil_archive_open_file(const char *path, const vigil_archive_options *opt,
                                               vigil_archive **out, vigil_error *err);
VIGIL_API vigil_result vigil_archive_open_memory(const void *data, size_t size, const vigil_archive_options *opt,
                                                 vigil_archive **out, vigil_error *err);

enum { VIGIL_ARCHIVE_MEMBER = 1, /* a member: read it, skip it (next), or enter it */
       VIGIL_ARCHIVE_END = 2 };  /* an archive's members are over (nested first, the outermost last) */
enum { VIGIL_MEMBER_ENCRYPTED = 1u << 0, /* its data cannot be read without a password */
       VIGIL_MEMBER_NOT_FILE = 1u << 1,  /* a link, device or FIFO entry: no data */
       VIGIL_MEMBER_SIZE = 1u << 2,      /* size is known (the header stores it) */
       VIGIL_MEMBER_CRC = 1u << 3 };     /* crc32 is the one the format stores (zip) */
typedef struct vigil_archive_entry {
    int kind;                /* VIGIL_ARCHIVE_* */
    /* MEMBER: its path inside the outermost archive, the names of the nested archives on the way
     * joined by "!/" ("dir/inner.zip!/photo.jpg"), bytes as stored. END: the path of the archive
     * that ended ("" for the outermost). Valid until the next call. */
    const char *path;
    unsigned depth;          /* 1: a member of the outermost archive; END: 0 for the outermost */
    uint32_t flags;          /* MEMBER: VIGIL_MEMBER_*; END: VIGIL_MEMBER_ENCRYPTED when the
                                archive's directory is encrypted (nothing listed, not an error) */
    uint64_t size;           /* MEMBER: declared size (VIGIL_MEMBER_SIZE) */
    uint32_t crc32;
    const char *format;      /* END: "zip", "tar.gz", ...; valid until vigil_archive_free */
    uint64_t members;        /* END: members listed */
    /* END of a nested archive: its bytes, given back (the caller's, vigil_free); NULL else */
    uint8_t *data;
    size_t data_size;
    vigil_result status;     /* END: why listing stopped early (truncated, corrupt, a limit) */
    vigil_error err;
} vigil_archive_entry;

/* The next entry: 1, or 0 when the outermost archive's END has been given. Not thread-safe on
 * one archive. */
VIGIL_API int vigil_archive_next(vigil_archive *a, vigil_archive_entry *e);
/* The data of the member just given, in a malloc'd buffer that becomes the caller's (vigil_free;
 * an empty member gives a non-NULL buffer and 0). Over max_member_bytes: VIGIL_E_TOO_LARGE,
 * unread. A limit of the whole archive passed, or damage: the error, and the archive's next
 * entries are the ENDs of every open level, carrying it. */
VIGIL_API vigil_result vigil_archive_read(vigil_archive *a, uint8_t **data, size_t *size, vigil_error *err);
/* Opens the member just read (its bytes, which the archive takes) as a nested archive: its
 * members come next, then its END with the bytes given back. VIGIL_E_TOO_LARGE past max_depth,
 * VIGIL_E_FORMAT when it is no archive (VIGIL_E_CORRUPT: one, damaged); the bytes stay the
 * caller's then. */
VIGIL_API vigil_result vigil_archive_enter(vigil_archive *a, uint8_t *data, size_t size, vigil_error *err);
/* The outermost archive file's own content digests (MD5, SHA-1, XXH3-128, file_size, and
 * VIGIL_FILE_CHANGED as vigil_hash_file sets it), computed on a thread of their own from the
 * moment begin is called, with pread beside the members' reads: as vigil_hash_file with
 * VIGIL_HASH_NO_PDQ would give them, without a second pass after the members. digests waits for
 * them. Only for vigil_archive_open_file; freeing the archive stops the thread unless a ticket
 * (below) still waits for it. */
VIGIL_API vigil_result vigil_archive_digests_begin(vigil_archive *a, vigil_error *err);
VIGIL_API vigil_result vigil_archive_digests(vigil_archive *a, vigil_hash_result *out, vigil_error *err);
/* The MD5, SHA-1 and XXH3-128 of the member just read, when that digest thread takes them in its
 * pass over the file (a stored, unencrypted member of an outermost zip, whose bytes lie in the file
 * as they are): a ticket, else NULL (digest the bytes). Hash the member with VIGIL_HASH_NO_DIGESTS
 * and take the digests from the ticket, which outlives the archive and may be waited on by any
 * thread. wait: VIGIL_OK with md5, sha1, xxh128 and VIGIL_HAVE_DIGESTS set in out (nothing else
 * touched), or VIGIL_E_IO when the thread stopped first or read other bytes there than the central
 * directory's CRC-32 says: digest the member's bytes then. */
typedef struct vigil_digest_ticket vigil_digest_ticket;
VIGIL_API vigil_digest_ticket *vigil_archive_member_ticket(vigil_archive *a);
/* The same for the archive's own digests (as vigil_archive_digests gives them: file_size and
 * VIGIL_FILE_CHANGED too), so that they may be waited for once the archive is freed. */
VIGIL_API vigil_digest_ticket *vigil_archive_digests_ticket(vigil_archive *a);
VIGIL_API vigil_result vigil_digest_ticket_wait(vigil_digest_ticket *t, vigil_hash_result *out);
VIGIL_API void vigil_digest_ticket_free(vigil_digest_ticket *t);
/* In place of vigil_archive_read, for such a member: nothing is read now (the walk copies no
 * bytes); the limits are checked against its size, and the ticket reads the bytes later, on any
 * thread (vigil_digest_ticket_read: the bytes the digest thread read and checked, once it has
 * them, else pread from the file, CRC-32 checked against the central directory,
 * VIGIL_E_CORRUPT when it differs; the buffer is the caller's, vigil_free). peek: its
 * first bytes (at most n, no check), the count read. VIGIL_E_NOT_FOUND (nothing done) for any
 * other member: read it. */
VIGIL_API vigil_result vigil_archive_read_later(vigil_archive *a, vigil_digest_ticket **t, vigil_error *err);
VIGIL_API vigil_result vigil_digest_ticket_read(vigil_digest_ticket *t, uint8_t **data, size_t *size, vigil_error *err);
VIGIL_API size_t vigil_digest_ticket_peek(vigil_digest_ticket *t, uint8_t *buf, size_t n);
VIGIL_API void vigil_archive_free(vigil_archive *a);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
VIGIL_API void vigil_hex(const uint8_t *bytes, size_t n, char *out);

/* ---------------------------------------------------------------------------------------------- */
/* Video: vPDQ (a PDQ hash per sampled frame), decoded with FFmpeg's libraries (docs/video.md)    */
/* ---------------------------------------------------------------------------------------------- */

enum {
    VIGIL_VIDEO_FAST = 1u << 0,     /* decode key frames only (not bit-exact with vpdq-hash-video) */
    VIGIL_VIDEO_DIHEDRAL = 1u << 1  /* also the 8 dihedral hashes of each hashed frame */
};

typedef struct vigil_video_options {
    size_t struct_size;        /* sizeof(vigil_video_options), set by vigil_video_options_init */
    uint32_t flags;            /* VIGIL_VIDEO_* */
    double seconds_per_hash;   /* vpdq's -r: frameMod = (int)(seconds * fps), 0 = every frame; default 1 */
    double max_duration;       /* seconds; a longer video (by its header, or as it decodes) is refused;
                                  default 86400, 0 = no limit */
    uint64_t max_pixels;       /* per frame; default 2^25 (8K UHD fits) */
    uint32_t max_streams;      /* streams in the container; default 64 */
    uint64_t max_decoded_bytes;/* raw bytes of all decoded frames together; default 2^40, 0 = no limit */
    int threads;               /* decoder threads; default 1 (callers parallelise across videos) */
} vigil_video_options;

VIGIL_API void vigil_video_options_init(vigil_video_options *opt);

/* One hashed frame, valid during the callback only. */
typedef struct vigil_video_frame {
    uint64_t frame_number;     /* decoded frames counted from 0 (fast mode: from the time stamp) */
    double timestamp;          /* frame_number / fps (fast mode: the frame's own time stamp) */
    int quality;               /* 0..100; 0 and a zero hash for frames under 5x5 */
    vigil_pdq pdq;
    vigil_pdq dihedral[8];     /* with VIGIL_VIDEO_DIHEDRAL */
    uint32_t width, height;
    const uint8_t *rgb;        /* the frame as RGB24, width * 3 bytes per row */
} vigil_video_frame;

/* Returning non-zero stops the decode (the call then returns VIGIL_OK). */
typedef int (*vigil_video_frame_fn)(const vigil_video_frame *f, void *ctx);

typedef struct vigil_video_info {
    char format[16];           /* the demuxer: "mov,mp4,..." is given as "mp4", "matroska", "avi", ... */
    char codec[16];            /* "h264", "vp9", ... */
    uint32_t width, height;
    double fps;                /* avg_frame_rate, else r_frame_rate: what frameMod uses */
    double duration;           /* seconds, from the container (0 when it does not say) */
    uint32_t streams;
    uint64_t frames_decoded, frames_hashed, decode_errors;
} vigil_video_info;

/* Whether the first bytes of a file (n >= 12 helps; 512 is plenty) look like a video container
 * vigil decodes: MP4/MOV/3GP (ftyp, not the HEIF/AVIF image brands), Matroska/WebM, AVI, FLV,
 * MPEG-TS, MPEG-PS, ASF/WMV, Ogg. A cheap check made before FFmpeg is asked. */
VIGIL_API int vigil_video_sniff(const void *head, size_t n);

/* Decodes the first video stream and calls fn for every sampled frame, in order. Only the bytes
 * given are read: FFmpeg's protocols, devices and any reference to another file are refused, and
 * only the containers vigil_video_sniff names are probed. The limits are checked on the header
 * before decoding (duration, frame size, streams, the decoded bytes the header implies) and again
 * as frames come. A damaged or truncated video gives the frames that decoded, then VIGIL_E_DECODE
 * naming what went wrong; info (may be NULL) is filled as far as it got. Thread-safe: each call
 * has its own FFmpeg contexts. Memory: the decoder's frames plus, while a frame is hashed, about
 * 31 bytes per pixel (the RGB frame and PDQ's float planes, kept per thread). */
VIGIL_API vigil_result vigil_video_hash_fd(int fd, const vigil_video_options *opt, vigil_video_frame_fn fn,
                                           void *ctx, vigil_video_info *info, vigil_error *err);
VIGIL_API vigil_result vigil_video_hash_memory(const void *data, size_t size, const vigil_video_options *opt,
                                               vigil_video_frame_fn fn, void *ctx, vigil_video_info *info,
                                               vigil_error *err);
VIGIL_API vigil_result vigil_video_hash_file(const char *path, const vigil_video_options *opt, vigil_video_frame_fn fn,
                                             void *ctx, vigil_video_info *info, vigil_error *err);

/* One frame of a vPDQ hash as python-threatexchange compares them. */
typedef struct vigil_vpdq_frame {
    vigil_pdq pdq;
    int quality;
    uint64_t frame_number;
    double timestamp;
} vigil_vpdq_frame;

typedef struct vigil_vpdq_match_options {
    size_t struct_size;        /* sizeof(vigil_vpdq_match_options), set by vigil_vpdq_match_options_init */
    int quality_min;           /* frames under it are dropped; default 50 */
    int distance_max;          /* a frame matches within this many bits (<=); default 31 */
    double query_pct_min;      /* verdict: query % >= this ...; default 80 */
    double target_pct_min;     /* ... and target % >= this; default 0 */
} vigil_vpdq_match_options;

VIGIL_API void vigil_vpdq_match_options_init(vigil_vpdq_match_options *opt);

/* python-threatexchange's vPDQ comparison (what HMA uses): on each side, frames under quality_min
 * are dropped and a hash seen before is dropped (the first kept); a query frame matches when some
 * target frame is within distance_max bits; query % is the share of query frames that match, target
 * % the same the other way. *verdict = query % >= query_pct_min && target % >= target_pct_min.
 * A side with no frame left gives 0 %. O(nq * nt) distance tests. */
VIGIL_API vigil_result vigil_vpdq_compare(const vigil_vpdq_frame *q, size_t nq, const vigil_vpdq_frame *t, size_t nt,
                                          const vigil_vpdq_match_options *opt, double *query_pct,
                                          double *target_pct, int *verdict, vigil_error *err);

/* vPDQ's text: one line per frame, "frameNumber,quality,pdqHex,timestamp" (vpdq-hash-video's
 * output). vigil's own files may hold several videos: a line "# NAME" starts the next one (see
 * docs/video.md). fn gets each video's frames (name NULL for lines before any "# " line); a
 * non-zero return stops. Empty lines and a CR before the LF are allowed; any other line that is
 * not four well-formed fields (64 hex digits, quality 0..100) fails the parse with VIGIL_E_PARSE
 * naming the line. Memory: the frames of one video at a time. */
typedef int (*vigil_vpdq_video_fn)(const char *name, const vigil_vpdq_frame *frames, size_t n, void *ctx);
VIGIL_API vigil_result vigil_vpdq_parse(const char *data, size_t size, vigil_vpdq_video_fn fn, void *ctx,
                                        vigil_error *err);

/* A review thumbnail of a video: the first frame hashed at 1 s whose PDQ equals *want (the first
 * frame when want is NULL), scaled so its longer side is <= max_side, as a malloc'd PNG (free with
 * vigil_free). VIGIL_E_NOT_FOUND when no frame has that hash. Same guards and limits as hashing. */
VIGIL_API vigil_result vigil_video_frame_png(const char *path, const vigil_pdq *want, int max_side, uint8_t **png,
                                             size_t *png_size, vigil_error *err);
/* The same from a video in memory (an archive member); data must stay valid during the call. */
VIGIL_API vigil_result vigil_video_frame_png_memory(const void *data, size_t size, const vigil_pdq *want, int max_side,
                                                    uint8_t **png, size_t *png_size, vigil_error *err);

#ifdef __cplusplus
}
#endif
#endif /* VIGIL_H */
