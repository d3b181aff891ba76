/* test_thumb.c - the review thumbnail taken from the hashing decode (core/thumb.c). */
#include "tests.h"

#include <stdlib.h>
#include <string.h>

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
