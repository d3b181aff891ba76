/* load.c - decode: bytes -> the 8-bit pixel grid PDQ hashes, through libvips.
 *
 * Two modes:
 *  - exact: what Meta's pdq-photo-hasher sees (spec sections 1-2): full-size decode, alpha dropped
 *    (not composited), EXIF orientation ignored, an RGB image whose pixels are all R=G=B hashed as
 *    one grey channel, then nearest-neighbour sampling at floor(o*n/512) when a side exceeds 512.
 *    One deliberate difference: 16-bit samples are scaled to 8 bits; the reference keeps the low
 *    byte, which makes its hash of a 16-bit file noise.
 *  - fast (default): the same grid, but JPEG and WebP are decoded with shrink-on-load (libjpeg's
 *    scaled IDCT; 1/8 scale costs a fraction of a full decode) and the grid is sampled from the
 *    shrunk image at the same positions. The shrink keeps the short side >= FAST_MIN_SIDE pixels.
 *
 * Hardening: the loader is chosen by content; only raster photo formats are allowed (JPEG, PNG,
 * WebP, GIF, TIFF, HEIF/AVIF, JPEG XL where its loader is trusted; libvips marks its PNM and JPEG
 * 2000 loaders untrusted, and SVG, PDF, CSV, matrix and ImageMagick loaders are not photo
 * decoders); the pixel count is checked from the header before any pixel is decoded; libvips's own
 * operation cache and threads are off because callers parallelise across images.
 *
 * One rule for truncated files, in every path that decodes (hash, thumbnails, features, masks):
 * the decoder is opened with LOAD_OPTIONS (fail on truncation) and a failure goes through
 * decode_fail, which walks the file's structure to say whether and where it was cut short.
 */
#include "load.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

/* Short side kept after shrink-on-load in fast mode; bench/results/hash.md has the measurement. */
#ifndef FAST_MIN_SIDE
#define FAST_MIN_SIDE 512
#endif

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static vigil_result init_code = VIGIL_OK;
static char init_msg[200];

static void log_sink(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
    (void)domain; (void)level; (void)msg; (void)data; /* the library never prints */
}

static void do_init(void)
{
    if (VIPS_INIT("vigil")) {
        init_code = VIGIL_E_INTERNAL;
        snprintf(init_msg, sizeof init_msg, "libvips failed to start");
        return;
    }
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    vips_concurrency_set(1);
    vips_block_untrusted_set(TRUE);
    g_log_set_handler("VIPS", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION, log_sink, NULL);
}

vigil_result vigil_init(vigil_error *err)
{
    pthread_once(&init_once, do_init);
    if (init_code)
        return vigil__fail(err, init_code, "%s", init_msg);
    return VIGIL_OK;
}

/* libvips's own words are left out of messages: its error buffer is one for the whole process, so
 * with several decodes at once the line there may be another file's (two scans of the same
 * truncated files gave each other's reasons). The reasons vigil gives are its own, per file. */
static vigil_result vips_fail(vigil_error *err, vigil_result code, const char *what)
{
    vips_error_clear();
    return vigil__fail(err, code, "%s", what);
}

/* ---- the input: bytes in memory or a file read with pread ---------------------------------- */

typedef struct fd_source { int fd; gint64 pos; } fd_source;

static gint64 fd_read(VipsSourceCustom *s, void *buf, gint64 len, gpointer p)
{
    (void)s;
    fd_source *f = p;
    ssize_t n;
    do n = pread(f->fd, buf, (size_t)len, (off_t)f->pos); while (n < 0 && errno == EINTR);
    if (n < 0) return -1;
    f->pos += n;
    return n;
}

static gint64 fd_seek(VipsSourceCustom *s, gint64 off, int whence, gpointer p)
{
    (void)s;
    fd_source *f = p;
    struct stat st;
    gint64 base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f->pos : fstat(f->fd, &st) ? -1 : (gint64)st.st_size;
    if (base < 0 || base + off < 0) return -1;
    return f->pos = base + off;
}

/* A new libvips source over the input, positioned at its start. */
static VipsSource *input_source(const vigil__input *in)
{
    if (in->fd < 0) return vips_source_new_from_memory(in->data, in->size);
    VipsSourceCustom *s = vips_source_custom_new();
    fd_source *f = g_new0(fd_source, 1);
    f->fd = in->fd;
    g_object_set_data_full(G_OBJECT(s), "vigil-fd", f, g_free);
    g_signal_connect(s, "read", G_CALLBACK(fd_read), f);
    g_signal_connect(s, "seek", G_CALLBACK(fd_seek), f);
    return VIPS_SOURCE(s);
}

static uint64_t input_size(const vigil__input *in)
{
    struct stat st;
    if (in->fd < 0) return in->size;
    return fstat(in->fd, &st) ? 0 : (uint64_t)st.st_size;
}

/* Up to n bytes at off; returns how many there are. */
static size_t input_read(const vigil__input *in, uint64_t off, uint8_t *buf, size_t n)
{
    if (in->fd < 0) {
        if (off >= in->size) return 0;
        if (n > in->size - off) n = (size_t)(in->size - off);
        memcpy(buf, (const uint8_t *)in->data + off, n);
        return n;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(in->fd, buf + got, n - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    return got;
}

/* ---- the one rule for a decode that fails: truncated, corrupt, or either ------------------- */

/* Every decoder is opened with these: a file cut short is an error, never a grey-padded image. */
static const char LOAD_OPTIONS[] = "fail_on=truncated";

/* A byte-at-a-time view of the input through a small window: the structure walks below read
 * files of any size, in memory or not. */
typedef struct window {
    const vigil__input *in;
    uint64_t size, start;
    size_t len;
    uint8_t b[8192];
} window;

static int wbyte(window *w, uint64_t off)
{
    if (off >= w->size) return -1;
    if (off < w->start || off >= w->start + w->len) {
        w->start = off;
        w->len = input_read(w->in, off, w->b, sizeof w->b);
        if (!w->len) return -1;
    }
    return w->b[off - w->start];
}

static uint32_t wbe32(window *w, uint64_t off)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v = v << 8 | (uint32_t)wbyte(w, off + (uint64_t)i);
    return v;
}

enum { S_UNKNOWN, S_COMPLETE, S_TRUNCATED };

/* PNG: chunks from the signature to IEND, each inside the file. */
static int png_structure(window *w, char *why, size_t n)
{
    uint64_t off = 8;
    char type[5] = "";
    for (;;) {
        if (off + 8 > w->size) {
            if (off == w->size) snprintf(why, n, "the PNG ends after its '%s' chunk, without an IEND chunk", type);
            else snprintf(why, n, "the PNG ends inside a chunk header, at byte %llu", (unsigned long long)w->size);
            return S_TRUNCATED;
        }
        uint32_t len = wbe32(w, off);
        for (int i = 0; i < 4; i++) {
            int c = wbyte(w, off + 4 + (uint64_t)i);
            type[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
        if (len > 0x7fffffffu) return S_UNKNOWN;
        if (off + 12 + len > w->size) {
            snprintf(why, n, "the PNG ends inside its '%s' chunk, %llu of its %u bytes there", type,
                     (unsigned long long)(w->size - off - 8 > len ? len : w->size - off - 8), len);
            return S_TRUNCATED;
        }
        if (!memcmp(type, "IEND", 4)) return S_COMPLETE;
        off += 12 + (uint64_t)len;
    }
}

/* JPEG: marker segments, and the compressed data after each start-of-scan, up to end-of-image. */
static int jpeg_structure(window *w, char *why, size_t n)
{
    uint64_t off = 2;
    for (;;) {
        int b = wbyte(w, off);
        if (b < 0) break;
        if (b != 0xff) return S_UNKNOWN;
        while (wbyte(w, off) == 0xff) off++;
        int m = wbyte(w, off++);
        if (m < 0) break;
        if (m == 0xd9) return S_COMPLETE;
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd7)) continue;
        int hi = wbyte(w, off), lo = wbyte(w, off + 1);
        if (hi < 0 || lo < 0) break;
        uint32_t len = (uint32_t)(hi << 8 | lo);
        if (len < 2) return S_UNKNOWN;
        if (off + len > w->size) {
            snprintf(why, n, "the JPEG ends inside a marker segment (0xFF%02X)", m);
            return S_TRUNCATED;
        }
        off += len;
        if (m != 0xda) continue;
        for (;;) { /* entropy-coded data: FF 00 is a byte, FF D0..D7 a restart marker */
            int c = wbyte(w, off);
            if (c < 0) {
                snprintf(why, n, "the JPEG ends inside its compressed image data, before the end-of-image marker");
                return S_TRUNCATED;
            }
            if (c == 0xff) {
                int d = wbyte(w, off + 1);
                if (d == 0 || (d >= 0xd0 && d <= 0xd7)) { off += 2; continue; }
                if (d == 0xff) { off++; continue; }
                break;
            }
            off++;
        }
    }
    snprintf(why, n, "the JPEG ends before its end-of-image marker");
    return S_TRUNCATED;
}

/* GIF: header, colour tables, extension and image blocks (with their sub-blocks), trailer. */
static int gif_structure(window *w, char *why, size_t n)
{
    int flags = wbyte(w, 10);
    if (flags < 0) { snprintf(why, n, "the GIF ends inside its header"); return S_TRUNCATED; }
    uint64_t off = 13 + ((flags & 0x80) ? 3ull << ((flags & 7) + 1) : 0);
    for (;;) {
        int b = wbyte(w, off);
        if (b < 0) break;
        if (b == 0x3b) return S_COMPLETE;
        if (b == 0x21) off += 2;
        else if (b == 0x2c) {
            int f = wbyte(w, off + 9);
            if (f < 0) break;
            off += 10 + ((f & 0x80) ? 3ull << ((f & 7) + 1) : 0) + 1; /* + LZW code size */
        } else return S_UNKNOWN;
        for (;;) {
            int k = wbyte(w, off);
            if (k < 0) goto cut;
            off += 1 + (uint64_t)k;
            if (!k) break;
        }
    }
cut:
    snprintf(why, n, "the GIF ends before its trailer");
    return S_TRUNCATED;
}

/* WebP: the RIFF header's size against the file's. */
static int webp_structure(window *w, char *why, size_t n)
{
    if (w->size < 12) { snprintf(why, n, "the WebP ends inside its header"); return S_TRUNCATED; }
    uint32_t riff = (uint32_t)wbyte(w, 4) | (uint32_t)wbyte(w, 5) << 8 | (uint32_t)wbyte(w, 6) << 16 |
                    (uint32_t)wbyte(w, 7) << 24;
    if ((uint64_t)riff + 8 > w->size) {
        snprintf(why, n, "the WebP's header says %llu bytes, the file has %llu", (unsigned long long)riff + 8,
                 (unsigned long long)w->size);
        return S_TRUNCATED;
    }
    return S_COMPLETE;
}

static uint32_t wint(window *w, uint64_t off, int bytes, int big_endian)
{
    uint32_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | ((uint32_t)wbyte(w, off + (uint64_t)(big_endian ? i : bytes - 1 - i)) & 0xff);
    return v;
}

/* TIFF: the first directory, and the strips or tiles it points to, inside the file. */
static int tiff_structure(window *w, char *why, size_t n)
{
    if (w->size < 8) { snprintf(why, n, "the TIFF ends inside its header"); return S_TRUNCATED; }
    const int be = wbyte(w, 0) == 'M';
    if (wint(w, 2, 2, be) != 42) return S_UNKNOWN; /* BigTIFF: not walked */
    uint64_t ifd = wint(w, 4, 4, be);
    if (ifd + 2 > w->size) {
        snprintf(why, n, "the TIFF's first directory, at byte %llu, is past its end", (unsigned long long)ifd);
        return S_TRUNCATED;
    }
    uint32_t cnt = wint(w, ifd, 2, be);
    if (ifd + 2 + 12ull * cnt + 4 > w->size) { snprintf(why, n, "the TIFF ends inside its first directory"); return S_TRUNCATED; }
    uint64_t at[2] = {0, 0}, count[2] = {0, 0};
    int size[2] = {0, 0};
    for (uint32_t i = 0; i < cnt; i++) {
        uint64_t e = ifd + 2 + 12ull * i;
        uint32_t tag = wint(w, e, 2, be), type = wint(w, e + 2, 2, be), k = wint(w, e + 4, 4, be);
        int which = tag == 273 || tag == 324 ? 0 : tag == 279 || tag == 325 ? 1 : -1; /* offsets, byte counts */
        if (which < 0) continue;
        int sz = type == 3 ? 2 : type == 4 ? 4 : 0;
        if (!sz || k > (1u << 22)) return S_UNKNOWN;
        size[which] = sz;
        count[which] = k;
        at[which] = (uint64_t)k * (uint64_t)sz <= 4 ? e + 8 : wint(w, e + 8, 4, be);
    }
    if (!count[0] || count[0] != count[1]) return S_UNKNOWN;
    for (int j = 0; j < 2; j++)
        if (at[j] + count[j] * (uint64_t)size[j] > w->size) {
            snprintf(why, n, "the TIFF ends inside its table of strips");
            return S_TRUNCATED;
        }
    uint64_t end = 0;
    for (uint64_t i = 0; i < count[0]; i++) {
        uint64_t o = wint(w, at[0] + i * (uint64_t)size[0], size[0], be), l = wint(w, at[1] + i * (uint64_t)size[1], size[1], be);
        if (o + l > end) end = o + l;
    }
    if (end > w->size) {
        snprintf(why, n, "the TIFF's image data runs to byte %llu, the file has %llu", (unsigned long long)end,
                 (unsigned long long)w->size);
        return S_TRUNCATED;
    }
    return S_COMPLETE;
}

/* HEIF/AVIF (ISO BMFF): the top-level boxes, each inside the file. */
static int bmff_structure(window *w, char *why, size_t n)
{
    uint64_t off = 0;
    while (off < w->size) {
        if (off + 8 > w->size) { snprintf(why, n, "the HEIF ends inside a box header"); return S_TRUNCATED; }
        uint64_t sz = wint(w, off, 4, 1);
        char type[5];
        for (int i = 0; i < 4; i++) {
            int c = wbyte(w, off + 4 + (uint64_t)i);
            type[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
        type[4] = 0;
        if (sz == 1) {
            if (off + 16 > w->size) { snprintf(why, n, "the HEIF ends inside a box header"); return S_TRUNCATED; }
            sz = (uint64_t)wint(w, off + 8, 4, 1) << 32 | wint(w, off + 12, 4, 1);
        } else if (sz == 0) return S_COMPLETE; /* the last box runs to the end */
        if (sz < 8) return S_UNKNOWN;
        if (sz > w->size - off) {
            snprintf(why, n, "the HEIF ends inside its '%s' box, %llu of its %llu bytes there", type,
                     (unsigned long long)(w->size - off), (unsigned long long)sz);
            return S_TRUNCATED;
        }
        off += sz;
    }
    return S_COMPLETE;
}

/* Whether the file's own structure says it was cut short (why gets the place), is complete, or
 * cannot tell (JPEG XL, BigTIFF, a layout not walked). */
static int structure(const vigil__input *in, const char *name, char *why, size_t n)
{
    window *w = malloc(sizeof *w);
    if (!w) return S_UNKNOWN;
    w->in = in;
    w->size = input_size(in);
    w->start = w->len = 0;
    int s = !strcmp(name, "png") ? png_structure(w, why, n)
          : !strcmp(name, "jpeg") ? jpeg_structure(w, why, n)
          : !strcmp(name, "gif") ? gif_structure(w, why, n)
          : !strcmp(name, "webp") ? webp_structure(w, why, n)
          : !strcmp(name, "tiff") ? tiff_structure(w, why, n)
          : !strcmp(name, "heif") ? bmff_structure(w, why, n)
          : S_UNKNOWN;
    free(w);
    return s;
}

/* A decoder's failure: "truncated image: WHERE" when the file's structure ends early, else what
 * failed. Every decode path ends here. */
static vigil_result decode_fail(const vigil__input *in, const char *name, int header, vigil_error *err)
{
    char why[160];
    vips_error_clear();
    int s = structure(in, name, why, sizeof why);
    if (s == S_TRUNCATED) return vigil__fail(err, VIGIL_E_DECODE, "truncated image: %s", why);
    const char *what = header ? "cannot read the image header"
                     : s == S_COMPLETE ? "corrupt image data" : "corrupt or truncated image data";
    return vigil__fail(err, VIGIL_E_DECODE, "%s (%s)", what, name ? name : "image");
}

static const struct { const char *loader, *name; } allowed[] = {
    {"VipsForeignLoadJpeg", "jpeg"}, {"VipsForeignLoadPng", "png"},   {"VipsForeignLoadSpng", "png"},
    {"VipsForeignLoadWebp", "webp"}, {"VipsForeignLoadNsgif", "gif"}, {"VipsForeignLoadGif", "gif"},
    {"VipsForeignLoadTiff", "tiff"}, {"VipsForeignLoadHeif", "heif"}, {"VipsForeignLoadJxl", "jxl"},
};

/* The one loader: by content, sequential, LOAD_OPTIONS; shrink-on-load for JPEG and WebP. */
static VipsImage *open_image(const vigil__input *in, const char *name, int shrink)
{
    VipsSource *src = input_source(in);
    if (!src) return NULL;
    VipsImage *im;
    if (shrink > 1 && !strcmp(name, "jpeg"))
        im = vips_image_new_from_source(src, LOAD_OPTIONS, "access", VIPS_ACCESS_SEQUENTIAL, "shrink", shrink, NULL);
    else if (shrink > 1 && !strcmp(name, "webp"))
        im = vips_image_new_from_source(src, LOAD_OPTIONS, "access", VIPS_ACCESS_SEQUENTIAL, "scale", 1.0 / shrink, NULL);
    else
        im = vips_image_new_from_source(src, LOAD_OPTIONS, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    g_object_unref(src);
    return im;
}

/* Brings any band layout to 1 or 3 bands of uchar or ushort, dropping alpha uncomposited. */
static VipsImage *normalise(VipsImage *im)
{
    VipsImage *t = NULL;
    g_object_ref(im);
    VipsInterpretation in = vips_image_get_interpretation(im);
    if (in == VIPS_INTERPRETATION_CMYK || in == VIPS_INTERPRETATION_LAB ||
        in == VIPS_INTERPRETATION_scRGB || in == VIPS_INTERPRETATION_XYZ) {
        if (vips_colourspace(im, &t, VIPS_INTERPRETATION_sRGB, NULL)) goto fail;
        g_object_unref(im); im = t;
    }
    int bands = vips_image_get_bands(im);
    if (bands != 1 && bands != 3) {
        if (vips_extract_band(im, &t, 0, "n", bands >= 3 ? 3 : 1, NULL)) goto fail;
        g_object_unref(im); im = t;
    }
    VipsBandFormat f = vips_image_get_format(im);
    if (f != VIPS_FORMAT_UCHAR && f != VIPS_FORMAT_USHORT) {
        if (vips_cast(im, &t, VIPS_FORMAT_UCHAR, NULL)) goto fail;
        g_object_unref(im); im = t;
    }
    return im;
fail:
    g_object_unref(im);
    return NULL;
}

/* JPEG XL, bare codestream or ISO BMFF container, by its signature. */
static int is_jxl(const vigil__input *in)
{
    static const uint8_t box[12] = {0, 0, 0, 12, 'J', 'X', 'L', ' ', 0x0d, 0x0a, 0x87, 0x0a};
    uint8_t h[12];
    size_t n = input_read(in, 0, h, sizeof h);
    return (n >= 2 && h[0] == 0xff && h[1] == 0x0a) || (n == 12 && !memcmp(h, box, 12));
}

/* A JPEG XL file loads only where libvips has a JXL loader that it lets run; else it is an
 * unsupported format, named as such, not a corrupt file. */
static vigil_result jxl_loader(vigil_error *err)
{
    GType t = vips_type_find("VipsOperation", "jxlload_source");
    if (!t) return vigil__fail(err, VIGIL_E_FORMAT, "JPEG XL: this libvips has no JXL loader");
    VipsOperationClass *k = g_type_class_ref(t);
    int blocked = k && (k->flags & VIPS_OPERATION_BLOCKED);
    if (k) g_type_class_unref(k);
    if (blocked)
        return vigil__fail(err, VIGIL_E_FORMAT, "JPEG XL: not supported: this libvips marks its JXL loader untrusted, "
                                                "and vigil runs no untrusted decoder on evidence");
    return VIGIL_OK;
}

/* An allowed format by its signature alone, or NULL. */
static const char *magic_name(const vigil__input *in)
{
    static const char *const heif_brands[] = {"heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif", "avis"};
    uint8_t h[12];
    size_t n = input_read(in, 0, h, sizeof h);
    if (n >= 8 && !memcmp(h, "\x89PNG\r\n\x1a\n", 8)) return "png";
    if (n >= 3 && h[0] == 0xff && h[1] == 0xd8 && h[2] == 0xff) return "jpeg";
    if (n >= 6 && (!memcmp(h, "GIF87a", 6) || !memcmp(h, "GIF89a", 6))) return "gif";
    if (n >= 12 && !memcmp(h, "RIFF", 4) && !memcmp(h + 8, "WEBP", 4)) return "webp";
    if (n >= 4 && (!memcmp(h, "II*\0", 4) || !memcmp(h, "MM\0*", 4))) return "tiff";
    if (n >= 12 && !memcmp(h + 4, "ftyp", 4))
        for (size_t i = 0; i < sizeof heif_brands / sizeof heif_brands[0]; i++)
            if (!memcmp(h + 8, heif_brands[i], 4)) return "heif";
    return NULL;
}

/* The format by content, if it is on the allow-list. *name is also set for a format that is
 * recognised but refused (JPEG XL without a usable loader). */
static vigil_result sniff(const vigil__input *in, const char **name, vigil_error *err)
{
    *name = NULL;
    if (is_jxl(in)) {
        *name = "jxl";
        return jxl_loader(err);
    }
    VipsSource *probe = input_source(in);
    const char *loader = probe ? vips_foreign_find_load_source(probe) : NULL;
    if (probe) g_object_unref(probe);
    vips_error_clear();
    if (!loader) {
        /* libvips may not recognise a file of an allowed format that is cut short */
        char why[160];
        if ((*name = magic_name(in))) {
            if (structure(in, *name, why, sizeof why) == S_TRUNCATED)
                return vigil__fail(err, VIGIL_E_DECODE, "truncated image: %s", why);
            return vigil__fail(err, VIGIL_E_DECODE, "corrupt image: it starts like a %s file, but libvips cannot read it", *name);
        }
        return vigil__fail(err, VIGIL_E_FORMAT, "not a recognised image format");
    }
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (!strncmp(loader, allowed[i].loader, strlen(allowed[i].loader)))
            *name = allowed[i].name;
    if (!*name)
        return vigil__fail(err, VIGIL_E_FORMAT, "format refused: libvips loader %s is not on the allow-list "
                           "(PNM, JPEG 2000, SVG, PDF and others are untrusted or not photos)", loader);
    return VIGIL_OK;
}

vigil_result vigil__thumb(const void *data, size_t size, int max_side, uint64_t max_pixels, uint8_t **rgb,
                          uint32_t *w, uint32_t *h, int *channels, vigil_error *err)
{
    uint32_t W, H;
    return vigil__thumb_sized(data, size, max_side, max_pixels, rgb, w, h, channels, &W, &H, err);
}

vigil_result vigil__thumb_sized(const void *data, size_t size, int max_side, uint64_t max_pixels, uint8_t **rgb,
                                uint32_t *w, uint32_t *h, int *channels, uint32_t *W0, uint32_t *H0, vigil_error *err)
{
    vigil_result r = vigil_init(err);
    if (r) return r;
    const vigil__input in = {data, size, -1};
    const char *name;
    if ((r = sniff(&in, &name, err))) return r;
    VipsImage *im = open_image(&in, name, 1);
    if (!im) return decode_fail(&in, name, 1, err);
    uint64_t W = (uint64_t)vips_image_get_width(im), H = (uint64_t)vips_image_get_height(im);
    g_object_unref(im);
    *W0 = (uint32_t)W;
    *H0 = (uint32_t)H;
    if (W * H > max_pixels)
        return vigil__fail(err, VIGIL_E_TOO_LARGE, "image is %llux%llu, over the pixel limit; not decoded",
                           (unsigned long long)W, (unsigned long long)H);
    /* vips_thumbnail shrinks on load and applies the EXIF orientation: what a person saw. It opens
     * the decoder itself: libvips 8.14 drops its own fail_on there, so the rule goes in as the
     * decoder's option string too. */
    VipsImage *t = NULL, *n = NULL, *c = NULL;
    VipsSource *src = input_source(&in);
    if (!src) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    r = vips_thumbnail_source(src, &t, max_side, "height", max_side, "option_string", LOAD_OPTIONS, "fail_on",
                              VIPS_FAIL_ON_TRUNCATED, NULL) ? VIGIL_E_DECODE : VIGIL_OK;
    g_object_unref(src);
    if (r) return decode_fail(&in, name, 1, err);
    n = normalise(t);
    g_object_unref(t);
    if (!n) return vips_fail(err, VIGIL_E_DECODE, "cannot convert image");
    if (n->BandFmt != VIPS_FORMAT_UCHAR) {
        if (vips_cast(n, &c, VIPS_FORMAT_UCHAR, "shift", TRUE, NULL)) {
            g_object_unref(n);
            return vips_fail(err, VIGIL_E_DECODE, "cannot convert image");
        }
        g_object_unref(n);
        n = c;
    }
    /* read through a region on this thread: vips_image_write_to_memory would start a libvips
     * worker pool, whose threads race libvips's own exit handlers */
    *w = (uint32_t)n->Xsize;
    *h = (uint32_t)n->Ysize;
    *channels = n->Bands;
    size_t row = (size_t)*w * (size_t)*channels;
    *rgb = malloc(row * *h);
    VipsRegion *reg = vips_region_new(n);
    VipsRect rect = {0, 0, (int)*w, (int)*h};
    if (!*rgb || !reg || vips_region_prepare(reg, &rect)) {
        free(*rgb);
        *rgb = NULL;
        if (reg) g_object_unref(reg);
        g_object_unref(n);
        return decode_fail(&in, name, 0, err);
    }
    for (uint32_t y = 0; y < *h; y++) memcpy(*rgb + y * row, VIPS_REGION_ADDR(reg, 0, (int)y), row);
    g_object_unref(reg);
    g_object_unref(n);
    return VIGIL_OK;
}

vigil_result vigil__load(const void *data, size_t size, int exact, uint64_t max_pixels,
                         vigil__pixels *px, vigil_hash_result *out, vigil_error *err)
{
    const vigil__input in = {data, size, -1};
    return vigil__load_input(&in, exact, max_pixels, px, out, err);
}

vigil_result vigil__load_input(const vigil__input *in, int exact, uint64_t max_pixels, vigil__pixels *px,
                               vigil_hash_result *out, vigil_error *err)
{
    return vigil__load_each(in, exact, max_pixels, px, NULL, 0, NULL, out, err);
}

vigil_result vigil__load_each(const vigil__input *in, int exact, uint64_t max_pixels, vigil__pixels *px,
                              const vigil__sink *sinks, int nsinks, int *fed, vigil_hash_result *out, vigil_error *err)
{
    if (fed) *fed = 0;
    vigil_result r = vigil_init(err);
    if (r) return r;
    if (px) memset(px, 0, sizeof *px);
    uint32_t need = 0;
    for (int i = 0; i < nsinks; i++)
        if (sinks[i].side > need) need = sinks[i].side;

    const char *name;
    r = sniff(in, &name, err);
    if (name) snprintf(out->format, sizeof out->format, "%s", name);
    if (r) return r;
    /* From a file too big to read whole, only decoders that read as they go: libvips's GIF and
     * WebP loaders map the whole file into memory (measured), HEIF and JPEG XL are not measured. */
    if (in->fd >= 0 && strcmp(name, "jpeg") && strcmp(name, "png") && strcmp(name, "tiff"))
        return vigil__fail(err, VIGIL_E_TOO_LARGE, "a %s file over the whole-read limit (1 GiB) is not decoded: its "
                           "decoder would hold it all in memory (JPEG, PNG and TIFF are decoded as they are read)", name);

    /* Header only: libvips is lazy, no pixel is decoded yet. */
    VipsImage *im = open_image(in, name, 1);
    if (!im) return decode_fail(in, name, 1, err);
    const uint32_t W = (uint32_t)vips_image_get_width(im), H = (uint32_t)vips_image_get_height(im);
    out->width = W;
    out->height = H;
    out->have |= VIGIL_HAVE_SIZE;
    if ((uint64_t)W * H > max_pixels) {
        g_object_unref(im);
        return vigil__fail(err, VIGIL_E_TOO_LARGE,
                           "image is %ux%u (%llu pixels), over the limit of %llu; not decoded", W, H,
                           (unsigned long long)W * H, (unsigned long long)max_pixels);
    }
    const int resize = W > 512 || H > 512;
    if (px && !resize && (W < 5 || H < 5)) {
        g_object_unref(im);
        return vigil__fail(err, VIGIL_E_TOO_SMALL, "image is %ux%u; PDQ needs at least 5x5", W, H);
    }

    /* PDQ's shrink (none when exact) and the sinks' (PDQ's fast one, halved while the longer side
     * would be under their need): one decode serves both when they agree. */
    int shrink = 1, sink_shrink = 1;
    if (resize && (!strcmp(name, "jpeg") || !strcmp(name, "webp"))) {
        uint32_t short_side = W < H ? W : H, long_side = W < H ? H : W;
        while (shrink < 8 && short_side / (uint32_t)(shrink * 2) >= FAST_MIN_SIDE) shrink *= 2;
        sink_shrink = shrink;
        while (sink_shrink > 1 && long_side / (uint32_t)sink_shrink < need) sink_shrink /= 2;
        shrink = !px ? sink_shrink : exact ? 1 : shrink;
        if (shrink > 1) {
            g_object_unref(im);
            im = open_image(in, name, shrink);
            if (!im) return decode_fail(in, name, 1, err);
        }
    }
    const int orientation = vips_image_get_orientation(im);
    VipsImage *n = normalise(im);
    g_object_unref(im);
    if (!n) return vips_fail(err, VIGIL_E_DECODE, "cannot convert image");
    im = n;

    const uint32_t w = (uint32_t)im->Xsize, h = (uint32_t)im->Ysize; /* after shrink */
    const int bands = im->Bands, wide = im->BandFmt == VIPS_FORMAT_USHORT;
    const uint32_t ow = resize ? 512 : W, oh = resize ? 512 : H;
    uint32_t *colmap = NULL, *rowmap = NULL;
    VipsRegion *reg = vips_region_new(im);
    if (px) {
        colmap = malloc(ow * sizeof *colmap);
        rowmap = malloc(oh * sizeof *rowmap);
        px->px = malloc((size_t)ow * oh * bands);
    }
    if ((px && (!colmap || !rowmap || !px->px)) || !reg) {
        r = vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
        goto done;
    }
    /* not the sinks' decode: the caller makes theirs; a sink of side 0 is still told the header */
    const int nrow = shrink == sink_shrink ? nsinks : 0;
    const vigil__decoded dec = {w, h, W, H, bands, wide, orientation >= 1 && orientation <= 8 ? orientation : 1};
    for (int i = 0; i < nsinks; i++)
        if ((nrow || !sinks[i].side) && (r = sinks[i].begin(sinks[i].ctx, &dec, err))) goto done;
    if (!px) goto rows;
    /* Reference positions floor(o*n/512) in the full-size image, mapped into the shrunk one. */
    for (uint32_t o = 0; o < ow; o++) {
        uint64_t sx = resize ? (uint64_t)(((double)o * W) / 512) : o;
        uint64_t x = sx * w / W;
        colmap[o] = (uint32_t)(x < w ? x : w - 1);
    }
    for (uint32_t o = 0; o < oh; o++) {
        uint64_t sy = resize ? (uint64_t)(((double)o * H) / 512) : o;
        uint64_t y = sy * h / H;
        rowmap[o] = (uint32_t)(y < h ? y : h - 1);
    }

rows:;
    int all_grey = px && exact && bands == 3;
    uint32_t next = 0;
    for (uint32_t y0 = 0; y0 < h; y0 += 16) {
        VipsRect rect = {0, (int)y0, (int)w, (int)(h - y0 < 16 ? h - y0 : 16)};
        if (vips_region_prepare(reg, &rect)) {
            r = decode_fail(in, name, 0, err);
            goto done;
        }
        for (uint32_t y = y0; y < y0 + (uint32_t)rect.height; y++) {
            const VipsPel *row = VIPS_REGION_ADDR(reg, 0, (int)y);
            for (int i = 0; i < nrow; i++) sinks[i].row(sinks[i].ctx, y, row);
            if (!px) continue;
            if (all_grey) {
                if (wide) {
                    const uint16_t *p = (const uint16_t *)row;
                    for (uint32_t x = 0; x < w && all_grey; x++)
                        all_grey = p[3 * x] == p[3 * x + 1] && p[3 * x] == p[3 * x + 2];
                } else {
                    for (uint32_t x = 0; x < w && all_grey; x++)
                        all_grey = row[3 * x] == row[3 * x + 1] && row[3 * x] == row[3 * x + 2];
                }
            }
            for (; next < oh && rowmap[next] == y; next++) {
                uint8_t *dst = px->px + (size_t)next * ow * bands;
                for (uint32_t o = 0; o < ow; o++)
                    for (int c = 0; c < bands; c++) {
                        size_t k = (size_t)colmap[o] * bands + c;
                        /* 16 -> 8 bits by rounding v/257 (the reference keeps the low byte). */
                        dst[o * bands + c] = wide ? (uint8_t)((((const uint16_t *)row)[k] * 255u + 32767u) / 65535u)
                                                  : row[k];
                    }
            }
        }
    }
    r = VIGIL_OK;
    if (fed) *fed = nrow > 0;
    if (!px) goto done;
    px->w = ow;
    px->h = oh;
    px->channels = bands;
    if (all_grey) { /* spec section 1: ImageMagick hands an all-grey RGB image over as one channel */
        size_t m = (size_t)ow * oh;
        for (size_t i = 0; i < m; i++) px->px[i] = px->px[3 * i];
        px->channels = 1;
    }
    r = VIGIL_OK;
done:
    if (reg) g_object_unref(reg);
    g_object_unref(im);
    free(colmap);
    free(rowmap);
    if (r && px) { free(px->px); px->px = NULL; }
    return r;
}
