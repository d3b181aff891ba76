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
