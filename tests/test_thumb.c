/* test_thumb.c - the review thumbnail taken from the hashing decode (core/thumb.c). */
#include "tests.h"

#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

/* Hashing with thumb_side set gives a thumbnail at the stored aspect, of the same picture (its
 * JPEG hashes near the original), and the hash itself is unchanged by asking for it. */
void test_thumb_from_hash_decode(void)
{
    const char *names[] = {"opencv-doc__hfs_001.jpg", "opencv-doc__box.png", "gcompris-qt-data__categorization__others_bulb.webp"};
    for (int k = 0; k < 3; k++) {
        size_t n;
        void *data = t_read_file(t_path(t_data_dir, names[k]), &n);
        CHECK(data, "%s", names[k]);
        if (!data) continue;
        vigil_hash_options o;
        vigil_hash_options_init(&o);
        vigil_thumb t;
        memset(&t, 0xab, sizeof t); /* cleared by the call */
        o.thumb_side = 160;
        o.thumb = &t;
        vigil_hash_result a, b;
        vigil_error e;
        CHECK(vigil_hash_memory(data, n, &o, &a, &e) == VIGIL_OK, "%s: %s", names[k], e.message);
        CHECK(vigil_hash_memory(data, n, NULL, &b, &e) == VIGIL_OK && !memcmp(&a.pdq, &b.pdq, sizeof a.pdq), "%s: same hash", names[k]);
        CHECK(t.px && (t.w == 160 || t.h == 160) && t.w <= 160 && t.h <= 160, "%s: %ux%u", names[k], t.w, t.h);
        /* the aspect of the stored image, to the pixel */
        double want = (double)a.width / a.height, got = (double)t.w / t.h;
        CHECK(got > want * (1 - 1.0 / 80) && got < want * (1 + 1.0 / 80), "%s: aspect %.3f, stored %.3f", names[k], got, want);
        uint8_t *jpg = NULL;
        size_t jn = 0;
        CHECK(vigil_thumb_jpeg(&t, 80, &jpg, &jn, &e) == VIGIL_OK && jn > 100 && jpg[0] == 0xff && jpg[1] == 0xd8, "%s: JPEG", names[k]);
        vigil_hash_result c;
        CHECK(jpg && vigil_hash_memory(jpg, jn, NULL, &c, &e) == VIGIL_OK, "%s: the thumbnail decodes", names[k]);
        if (jpg) CHECK(vigil_pdq_distance(&a.pdq, &c.pdq) <= 48, "%s: thumbnail PDQ %d bits away", names[k], vigil_pdq_distance(&a.pdq, &c.pdq));
        uint8_t *png = NULL;
        size_t pn = 0;
        CHECK(vigil_thumb_png(&t, &png, &pn, &e) == VIGIL_OK && pn > 8 && !memcmp(png, "\x89PNG", 4), "%s: PNG", names[k]);
        vigil_free(jpg);
        vigil_free(png);
        vigil_free(t.px);
        free(data);
    }
    /* nothing decoded, nothing made: junk, and a decode declined by before_decode */
    vigil_hash_options o;
    vigil_hash_options_init(&o);
    vigil_thumb t;
    o.thumb_side = 64;
    o.thumb = &t;
    vigil_hash_result r;
    vigil_error e;
    CHECK(vigil_hash_memory("not an image", 12, &o, &r, &e) == VIGIL_E_FORMAT && !t.px, "junk: no thumbnail");
    uint8_t *x = NULL;
    size_t xn;
    CHECK(vigil_thumb_jpeg(&t, 80, &x, &xn, &e) == VIGIL_E_INVALID && !x, "empty thumbnail refused");
    CHECK(vigil_thumb_jpeg(NULL, 80, &x, &xn, &e) == VIGIL_E_INVALID, "NULL refused");
}

/* The box average, exactly: a 10x6 grey image of four flat quarters at side 2 is 2x1 pixels, each
 * the mean of its half. */
void test_thumb_box_average(void)
{
    uint8_t px[6 * 10];
    for (int y = 0; y < 6; y++)
        for (int x = 0; x < 10; x++) px[y * 10 + x] = (uint8_t)(x < 5 ? (y < 3 ? 10 : 30) : (y < 3 ? 200 : 250));
    vigil_thumb src = {px, 10, 6, 1};
    uint8_t *png = NULL;
    size_t pn;
    vigil_error e;
    CHECK(vigil_thumb_png(&src, &png, &pn, &e) == VIGIL_OK, "%s", e.message);
    vigil_hash_options o;
    vigil_hash_options_init(&o);
    vigil_thumb t;
    o.thumb_side = 2;
    o.thumb = &t;
    vigil_hash_result r;
    CHECK(vigil_hash_memory(png, pn, &o, &r, &e) == VIGIL_OK, "%s", e.message);
    CHECK(t.px && t.w == 2 && t.h == 1 && t.channels == 1, "%ux%u x%d", t.w, t.h, t.channels);
    if (t.px && t.w == 2 && t.h == 1) CHECK(t.px[0] == 20 && t.px[1] == 225, "%u %u", t.px[0], t.px[1]);
    vigil_free(t.px);
    vigil_free(png);
}

/* The thumbnail is shown the way the photo is meant to be seen: an RGB JPEG of four coloured
 * quarters, 96x60, saved with EXIF orientations 1-8, gives a thumbnail whose size and quarters
 * are those of libvips's own vips_autorot of the decoded file (an independent rotation), while
 * the hash stays that of the stored pixels (the same for every orientation, as PDQ defines it). */
void test_thumb_oriented(void)
{
    enum { W = 96, H = 60 };
    static const uint8_t col[4][3] = {{200, 30, 30}, {30, 200, 30}, {30, 30, 200}, {220, 220, 40}};
    uint8_t *px = malloc((size_t)W * H * 3);
    CHECK(px, "memory");
    if (!px) return;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) memcpy(px + ((size_t)y * W + x) * 3, col[(y >= H / 2) * 2 + (x >= W / 2)], 3);
    vigil_pdq first;
    for (int o = 1; o <= 8; o++) {
        VipsImage *im = vips_image_new_from_memory_copy(px, (size_t)W * H * 3, W, H, 3, VIPS_FORMAT_UCHAR), *c = NULL;
        void *jpg = NULL;
        size_t n = 0;
        int bad = !im || vips_copy(im, &c, "interpretation", VIPS_INTERPRETATION_sRGB, NULL);
        if (!bad) {
            vips_image_set_int(c, VIPS_META_ORIENTATION, o);
            bad = vips_jpegsave_buffer(c, &jpg, &n, "Q", 95, NULL);
        }
        if (c) g_object_unref(c);
        if (im) g_object_unref(im);
        CHECK(!bad && jpg, "orientation %d: JPEG written", o);
        if (bad || !jpg) continue;
        /* the reference: the decoded file, rotated by libvips */
        VipsImage *d = vips_image_new_from_buffer(jpg, n, "", NULL), *rot = NULL;
        CHECK(d && !vips_autorot(d, &rot, NULL), "orientation %d: vips_autorot", o);
        vigil_hash_options opt;
        vigil_hash_options_init(&opt);
        vigil_thumb t;
        opt.thumb_side = 160;
        opt.thumb = &t;
        vigil_hash_result r;
        vigil_error e;
        CHECK(vigil_hash_memory(jpg, n, &opt, &r, &e) == VIGIL_OK, "orientation %d: %s", o, e.message);
        if (o == 1) first = r.pdq;
        else CHECK(!memcmp(&first, &r.pdq, sizeof first), "orientation %d: the hash is that of the stored pixels", o);
        CHECK(rot && t.px && t.w == (uint32_t)rot->Xsize && t.h == (uint32_t)rot->Ysize && t.channels == 3,
              "orientation %d: thumbnail %ux%u, autorot %dx%d", o, t.w, t.h, rot ? rot->Xsize : 0, rot ? rot->Ysize : 0);
        if (rot && t.px && t.w == (uint32_t)rot->Xsize && t.h == (uint32_t)rot->Ysize && t.channels == 3) {
            VipsRegion *reg = vips_region_new(rot);
            VipsRect all = {0, 0, rot->Xsize, rot->Ysize};
            CHECK(reg && !vips_region_prepare(reg, &all) && rot->Bands == 3, "orientation %d: reference pixels", o);
            int worst = 0;
            for (int qy = 0; qy < 2; qy++)
                for (int qx = 0; qx < 2; qx++) { /* the middle of each quarter */
                    uint32_t x = (uint32_t)(t.w * (1 + 2 * qx) / 4), y = (uint32_t)(t.h * (1 + 2 * qy) / 4);
                    const VipsPel *ref = VIPS_REGION_ADDR(reg, (int)x, (int)y);
                    for (int k = 0; k < 3; k++) {
                        int dv = abs((int)t.px[((size_t)y * t.w + x) * 3 + k] - (int)ref[k]);
                        if (dv > worst) worst = dv;
                    }
                }
            CHECK(worst <= 24, "orientation %d: thumbnail quarters differ from vips_autorot's by up to %d", o, worst);
            if (reg) g_object_unref(reg);
        }
        vigil_free(t.px);
        if (rot) g_object_unref(rot);
        if (d) g_object_unref(d);
        g_free(jpg);
    }
    free(px);
}
