/* test_read.c - how files are read and decoded: files over the whole-read limit digested in a
 * stream (the limit lowered with VIGIL_TEST_STREAM_ABOVE), files that change while they are read,
 * one rule for truncated images in every decoding function, and JPEG XL. */
#include "tests.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

#include "digest.h" /* libvigil internals: called after every read of a file being hashed */

static void stream_above(long long bytes)
{
    char v[32];
    if (bytes < 0) { unsetenv("VIGIL_TEST_STREAM_ABOVE"); return; }
    snprintf(v, sizeof v, "%lld", bytes);
    setenv("VIGIL_TEST_STREAM_ABOVE", v, 1);
}

static vigil_result hash_with(const char *path, uint32_t flags, vigil_hash_result *r, vigil_error *e)
{
    vigil_hash_options opt;
    vigil_hash_options_init(&opt);
    opt.flags = flags;
    memset(e, 0, sizeof *e);
    return vigil_hash_file(path, &opt, r, e);
}

static int same_digests(const vigil_hash_result *a, const vigil_hash_result *b)
{
    return (a->have & VIGIL_HAVE_DIGESTS) && (b->have & VIGIL_HAVE_DIGESTS) && !memcmp(a->md5, b->md5, 16) &&
           !memcmp(a->sha1, b->sha1, 20) && !memcmp(a->xxh128, b->xxh128, 16) && a->file_size == b->file_size;
}

static uint8_t *noise(size_t n)
{
    uint8_t *p = malloc(n);
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(t_rand() >> 24);
    return p;
}

/* A file just under, at and just over the whole-read limit: the same digests as the bytes in
 * memory, read whole or in a stream; an image streamed decodes from the file to the same hash. */
void test_stream_equals_whole_read(void)
{
    const size_t n = (3u << 20) + 777; /* over three 1 MiB reads, not a multiple of one */
    uint8_t *data = noise(n);
    char *p = t_path(t_tmp_dir, "noise.bin");
    CHECK(t_write_file(p, data, n) == 0, "setup");
    vigil_hash_result mem, r;
    vigil_error e;
    vigil_hash_memory(data, n, NULL, &mem, &e);
    const long long limits[] = {-1, (long long)n - 1, (long long)n, (long long)n + 1, 1 << 20, 1};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        stream_above(limits[i]);
        vigil_result rc = hash_with(p, 0, &r, &e);
        CHECK(rc == VIGIL_E_FORMAT && same_digests(&r, &mem) && !r.file_flags,
              "limit %lld: %s (%s), digests %s, flags %u", limits[i], vigil_result_name(rc), e.message,
              same_digests(&r, &mem) ? "same" : "differ", r.file_flags);
        CHECK(strstr(e.message, "not a recognised image format"), "limit %lld: '%s'", limits[i], e.message);
    }
    /* no digests asked: the stream path does not read for them, and still says what the file is */
    stream_above(1);
    CHECK(hash_with(p, VIGIL_HASH_NO_DIGESTS, &r, &e) == VIGIL_E_FORMAT && !(r.have & VIGIL_HAVE_DIGESTS) &&
          r.file_size == n, "no digests: %s", e.message);
    free(data);

    const char *images[] = {"opencv-doc__hfs_001.jpg", "opencv-doc__box.png", "../panoramas/blender-data__city.jpg"};
    for (size_t i = 0; i < sizeof images / sizeof images[0]; i++)
        for (uint32_t flags = 0; flags <= VIGIL_HASH_EXACT; flags += VIGIL_HASH_EXACT) {
            const char *f = t_path(t_data_dir, images[i]);
            vigil_hash_result whole, streamed;
            stream_above(-1);
            vigil_result a = hash_with(f, flags | VIGIL_HASH_DIHEDRAL, &whole, &e);
            stream_above(100);
            vigil_result b = hash_with(f, flags | VIGIL_HASH_DIHEDRAL, &streamed, &e);
            CHECK(a == VIGIL_OK && b == VIGIL_OK, "%s: %s", images[i], e.message);
            CHECK(same_digests(&whole, &streamed) && !memcmp(&whole.pdq, &streamed.pdq, sizeof whole.pdq) &&
                  !memcmp(whole.dihedral, streamed.dihedral, sizeof whole.dihedral) && whole.quality == streamed.quality &&
                  whole.width == streamed.width && !strcmp(whole.format, streamed.format) && !streamed.file_flags,
                  "%s (flags %u): streamed result differs", images[i], flags);
        }
    /* other formats are not decoded from a file that big: their decoders would hold all of it */
    stream_above(100);
    vigil_result rc = hash_with(t_path(t_data_dir, "gcompris-qt-data__categorization__others_bulb.webp"), 0, &r, &e);
    CHECK(rc == VIGIL_E_TOO_LARGE && strstr(e.message, "webp file over the whole-read limit") &&
          (r.have & VIGIL_HAVE_DIGESTS) && !strcmp(r.format, "webp"), "streamed WebP: %s: %s", vigil_result_name(rc), e.message);
    stream_above(-1);
}

static const char *hook_path;
static int hook_mode, hook_calls;
enum { H_NONE, H_GROW, H_SHRINK, H_TOUCH };
#define GROW_BY 5000

/* What another process might do to a file while vigil reads it, after the first read. */
static void hook(uint64_t done)
{
    (void)done;
    if (hook_calls++) return;
    if (hook_mode == H_GROW) {
        int fd = open(hook_path, O_WRONLY | O_APPEND);
        uint8_t more[GROW_BY];
        for (int i = 0; i < GROW_BY; i++) more[i] = (uint8_t)(i * 7);
        if (fd < 0 || write(fd, more, sizeof more) != (ssize_t)sizeof more) printf("    hook: append failed\n");
        if (fd >= 0) close(fd);
    } else if (hook_mode == H_SHRINK) {
        if (truncate(hook_path, 1000)) printf("    hook: truncate failed\n");
    } else if (hook_mode == H_TOUCH) {
        struct timespec t[2] = {{1000000000, 0}, {1000000000, 0}};
        if (utimensat(AT_FDCWD, hook_path, t, 0)) printf("    hook: utimensat failed\n");
    }
}

/* A file that grows, shrinks or is rewritten while it is read: hashed as far as it was read,
 * flagged as changed; read whole and in a stream alike. An unchanged file is not flagged. */
void test_file_changed_while_read(void)
{
    const size_t n = (5u << 19) + 3; /* 2.5 MiB: three reads when streamed */
    uint8_t *orig = noise(n), *grown = malloc(n + GROW_BY);
    memcpy(grown, orig, n);
    for (int i = 0; i < GROW_BY; i++) grown[n + i] = (uint8_t)(i * 7);
    char *p = t_path(t_tmp_dir, "changing.bin");
    hook_path = p;
    vigil__test_read_hook = hook;
    static const char *const modes[] = {"unchanged", "grows", "shrinks", "rewritten (mtime)"};
    for (int stream = 0; stream < 2; stream++)
        for (int mode = H_NONE; mode <= H_TOUCH; mode++) {
            CHECK(t_write_file(p, orig, n) == 0, "setup");
            stream_above(stream ? 1 << 20 : -1);
            hook_mode = mode;
            hook_calls = 0;
            vigil_hash_result r, want;
            vigil_error e;
            hash_with(p, VIGIL_HASH_NO_PDQ, &r, &e);
            const int changed = !!(r.file_flags & VIGIL_FILE_CHANGED);
            CHECK(changed == (mode != H_NONE), "%s, %s: changed flag %d", modes[mode], stream ? "streamed" : "read whole",
                  changed);
            /* the digests are of the bytes that were read, and file_size counts them */
            size_t want_n = mode == H_GROW ? n + GROW_BY : mode == H_SHRINK ? (size_t)r.file_size : n;
            CHECK(r.file_size == want_n && r.file_size <= n + GROW_BY, "%s, %s: %llu bytes read", modes[mode],
                  stream ? "streamed" : "read whole", (unsigned long long)r.file_size);
            if (r.file_size <= n + GROW_BY) {
                vigil_hash_memory(mode == H_GROW ? grown : orig, (size_t)r.file_size, NULL, &want, &e);
                CHECK(same_digests(&r, &want), "%s, %s: digests are not those of the bytes read", modes[mode],
                      stream ? "streamed" : "read whole");
            }
            if (mode == H_SHRINK) /* what was read: at least the first read, at most the file as it was */
                CHECK(r.file_size >= 1000 && r.file_size <= n, "shrinks: %llu bytes", (unsigned long long)r.file_size);
            CHECK(hook_calls > 0, "the read hook never ran");
        }
    vigil__test_read_hook = NULL;
    stream_above(-1);
    free(orig);
    free(grown);
}

/* An image cut short, through every function that decodes one, read whole or streamed: one rule,
 * VIGIL_E_DECODE "truncated image: <where>". A complete file with damaged data is not called
 * truncated. */
void test_truncated_one_rule(void)
{
    int w, h;
    size_t n;
    void *jpg = t_read_file(t_path(t_data_dir, "opencv-doc__left.jpg"), &n);
    CHECK(jpg != NULL, "setup");
    VipsImage *im = vips_image_new_from_buffer(jpg, n, "", NULL);
    CHECK(im != NULL, "decode");
    w = im->Xsize;
    h = im->Ysize;
    static const char *const kinds[] = {"jpeg", "png", "gif", "webp", "tiff", "heif"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        void *buf = NULL;
        size_t len = 0;
        int saved = !strcmp(kinds[k], "jpeg") ? !vips_jpegsave_buffer(im, &buf, &len, NULL)
                  : !strcmp(kinds[k], "png") ? !vips_pngsave_buffer(im, &buf, &len, NULL)
                  : !strcmp(kinds[k], "gif") ? !vips_gifsave_buffer(im, &buf, &len, NULL)
                  : !strcmp(kinds[k], "webp") ? !vips_webpsave_buffer(im, &buf, &len, NULL)
                  : !strcmp(kinds[k], "tiff") ? !vips_tiffsave_buffer(im, &buf, &len, NULL)
                  : !vips_heifsave_buffer(im, &buf, &len, "Q", 80, NULL);
        vips_error_clear();
        if (!saved) { printf("    skipped %s: this libvips cannot write it\n", kinds[k]); continue; }
        vigil_hash_result r;
        vigil_error e;
        CHECK(vigil_hash_memory(buf, len, NULL, &r, &e) == VIGIL_OK, "%s: whole file: %s", kinds[k], e.message);
        const size_t cut = len * 2 / 3;
        char name[32];
        snprintf(name, sizeof name, "cut.%s", kinds[k]);
        char *path = t_path(t_tmp_dir, name);
        CHECK(t_write_file(path, buf, cut) == 0, "setup");
        /* streamed, as a file over the whole-read limit: JPEG, PNG and TIFF are decoded from the file */
        const int streams = !strcmp(kinds[k], "jpeg") || !strcmp(kinds[k], "png") || !strcmp(kinds[k], "tiff");
        for (int stream = 0; stream <= streams; stream++) {
            stream_above(stream ? 100 : -1);
            vigil_result rc = hash_with(path, 0, &r, &e);
            CHECK(rc == VIGIL_E_DECODE && !strncmp(e.message, "truncated image: ", 17),
                  "%s cut at %zu of %zu, hash %s: %s: %s", kinds[k], cut, len, stream ? "streamed" : "whole",
                  vigil_result_name(rc), e.message);
            CHECK(!(r.have & VIGIL_HAVE_PDQ) && (r.have & VIGIL_HAVE_DIGESTS), "%s: a hash, or no digests", kinds[k]);
        }
        stream_above(-1);
        uint8_t *px = NULL, *png = NULL;
        uint32_t gw, gh;
        size_t pn;
        vigil_features f;
        vigil_result rc = vigil_decode_grey(buf, cut, 256, &px, &gw, &gh, &e);
        CHECK(rc == VIGIL_E_DECODE && !px && !strncmp(e.message, "truncated image: ", 17), "%s, grey (mask): %s: %s",
              kinds[k], vigil_result_name(rc), e.message);
        rc = vigil_features_memory(buf, cut, NULL, &f, &e);
        CHECK(rc == VIGIL_E_DECODE && !strncmp(e.message, "truncated image: ", 17), "%s, features: %s: %s", kinds[k],
              vigil_result_name(rc), e.message);
        if (rc == VIGIL_OK) vigil_features_free(&f);
        rc = vigil_thumbnail_png(buf, cut, 64, &png, &pn, &e);
        CHECK(rc == VIGIL_E_DECODE && !png && !strncmp(e.message, "truncated image: ", 17), "%s, thumbnail: %s: %s",
              kinds[k], vigil_result_name(rc), e.message);
        free(px);
        free(png);
        if (!strcmp(kinds[k], "png")) {
            /* a complete PNG whose image data is damaged: corrupt, not truncated */
            uint8_t *bad = malloc(len);
            memcpy(bad, buf, len);
            bad[len / 2] ^= 0xff;
            rc = vigil_hash_memory(bad, len, NULL, &r, &e);
            CHECK(rc == VIGIL_E_DECODE && strstr(e.message, "corrupt image data") && !strstr(e.message, "truncated"),
                  "damaged PNG: %s: %s", vigil_result_name(rc), e.message);
            rc = vigil_decode_grey(bad, len, 256, &px, &gw, &gh, &e);
            CHECK(rc == VIGIL_E_DECODE && strstr(e.message, "corrupt image data"), "damaged PNG, grey: %s", e.message);
            free(bad);
        }
        g_free(buf);
    }
    g_object_unref(im);
    free(jpg);
    (void)w;
    (void)h;
}

/* JPEG XL, bare codestream and container, and a file with only the signature: it loads where
 * libvips has a JXL loader that it trusts; elsewhere it is an unsupported format that says so,
 * never a corrupt file. */
void test_jpeg_xl(void)
{
    GType t = vips_type_find("VipsOperation", "jxlload_source");
    VipsOperationClass *k = t ? g_type_class_ref(t) : NULL;
    vigil_error e;
    vigil_init(&e); /* blocks libvips's untrusted loaders */
    const int usable = k && !(k->flags & VIPS_OPERATION_BLOCKED);
    if (k) g_type_class_unref(k);
    printf("    this libvips: %s\n", !t ? "no JXL loader" : usable ? "a trusted JXL loader" : "an untrusted JXL loader");
    const char *files[] = {"../jxl/flower-64.jxl", "../jxl/flower-64-container.jxl"};
    for (size_t i = 0; i < 2; i++) {
        vigil_hash_result r;
        vigil_result rc = hash_with(t_path(t_data_dir, files[i]), 0, &r, &e);
        CHECK(!strcmp(r.format, "jxl") && (r.have & VIGIL_HAVE_DIGESTS), "%s: format '%s'", files[i], r.format);
        if (usable) CHECK(rc == VIGIL_OK && r.width == 61 && r.height == 64, "%s: %s", files[i], e.message);
        else
            CHECK(rc == VIGIL_E_FORMAT && !strncmp(e.message, "JPEG XL: ", 9) &&
                  strstr(e.message, t ? "untrusted" : "no JXL loader"), "%s: %s: %s", files[i], vigil_result_name(rc),
                  e.message);
        size_t n;
        void *data = t_read_file(t_path(t_data_dir, files[i]), &n);
        uint8_t *png = NULL, *px = NULL;
        size_t pn;
        uint32_t w, h;
        CHECK(vigil_thumbnail_png(data, n, 32, &png, &pn, &e) == (usable ? VIGIL_OK : VIGIL_E_FORMAT), "%s thumb: %s",
              files[i], e.message);
        CHECK(vigil_decode_grey(data, n, 32, &px, &w, &h, &e) == (usable ? VIGIL_OK : VIGIL_E_FORMAT), "%s grey: %s",
              files[i], e.message);
        free(png);
        free(px);
        free(data);
    }
    static const uint8_t sig[] = {0xff, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    vigil_hash_result r;
    vigil_result rc = vigil_hash_memory(sig, sizeof sig, NULL, &r, &e);
    CHECK(usable ? rc == VIGIL_E_DECODE : rc == VIGIL_E_FORMAT && !strncmp(e.message, "JPEG XL: ", 9),
          "hand-made signature: %s: %s", vigil_result_name(rc), e.message);
}
