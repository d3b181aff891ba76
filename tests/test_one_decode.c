/* test_one_decode.c - one decode feeds PDQ and the features (core/load.c sinks, core/view.c).
 *
 * Differential: vigil_hash_file_features makes the features from the hash's own decode; they
 * must be bit for bit vigil_features_memory's (its own decode of the same bytes), and the hash
 * vigil_hash_file's, on photos that take every path: shrink-on-load (a large JPEG), EXIF
 * orientations that swap the axes and those that do not, a near-square JPEG whose PDQ decode is
 * smaller than the features' working size, 16-bit, grey and RGBA PNGs. And the view itself
 * against libvips's own thumbnail (vips_thumbnail, which the features used before): same size,
 * mean difference within 2 grey levels, so the orientation and the resize are right. */
#include "tests.h"
#include "load.h"
#include "view.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

static int same_features(const vigil_features *a, const vigil_features *b)
{
    return a->n == b->n && a->width == b->width && a->height == b->height &&
           (!a->n || (!memcmp(a->kp, b->kp, a->n * sizeof *a->kp) && !memcmp(a->desc, b->desc, a->n * sizeof *a->desc)));
}

/* A panorama of the test data, scaled by `scale`, cut to w x h when given, with EXIF orientation o,
 * saved as fmt ("jpg", "png", "png16", "grey", "rgba"). Returns its path or NULL. */
static const char *make_image(const char *name, double scale, int cw, int ch, int o, const char *fmt)
{
    VipsImage *a = vips_image_new_from_file("tests/data/panoramas/blender-data__interior.jpg", NULL), *b = NULL, *c = NULL;
    if (!a) return NULL;
    int bad = vips_resize(a, &b, scale, NULL);
    g_object_unref(a);
    if (bad) return NULL;
    if (cw) {
        bad = vips_crop(b, &c, 0, 0, cw, ch, NULL);
        g_object_unref(b);
        if (bad) return NULL;
        b = c;
    }
    if (!strcmp(fmt, "png16")) { /* v * 257 + a low byte that varies, so that 16 bits are 16 bits */
        VipsImage *t = NULL, *u = NULL;
        bad = vips_linear1(b, &t, 257.3, 0, NULL) || vips_cast(t, &u, VIPS_FORMAT_USHORT, NULL) ||
              vips_copy(u, &c, "interpretation", VIPS_INTERPRETATION_RGB16, NULL);
        if (t) g_object_unref(t);
        if (u) g_object_unref(u);
    } else if (!strcmp(fmt, "grey")) bad = vips_colourspace(b, &c, VIPS_INTERPRETATION_B_W, NULL);
    else if (!strcmp(fmt, "rgba")) bad = vips_bandjoin_const1(b, &c, 200, NULL);
    else { c = b; g_object_ref(c); }
    g_object_unref(b);
    if (bad) return NULL;
    b = NULL;
    if (vips_copy(c, &b, NULL)) { g_object_unref(c); return NULL; }
    g_object_unref(c);
    if (o > 1) vips_image_set_int(b, VIPS_META_ORIENTATION, o);
    const char *path = t_path(t_tmp_dir, name);
    bad = !strcmp(fmt, "jpg") ? vips_jpegsave(b, path, "Q", 90, NULL)
                              : vips_pngsave(b, path, "bitdepth", strcmp(fmt, "png16") ? 8 : 16, NULL);
    g_object_unref(b);
    return bad ? NULL : path;
}

/* The view the features are made from, of the file's bytes (as vigil_features_memory decodes). */
static int view_of(const void *data, size_t n, uint32_t side, vigil__view *v)
{
    const vigil__input in = {data, n, -1};
    vigil__view_init(v, side, 1);
    const vigil__sink s = vigil__view_sink(v);
    vigil_hash_result info;
    vigil_error e;
    memset(&info, 0, sizeof info);
    return vigil__load_each(&in, 0, 1ull << 28, NULL, &s, 1, NULL, &info, &e) || vigil__view_finish(v, &e);
}

/* Whether the hash's own decode (PDQ's grid) feeds a view of that side: the one-decode case. */
static int pdq_decode_feeds(const void *data, size_t n, uint32_t side, int exact)
{
    const vigil__input in = {data, n, -1};
    vigil__view v;
    vigil__view_init(&v, side, 1);
    const vigil__sink s = vigil__view_sink(&v);
    vigil_hash_result info;
    vigil__pixels px;
    vigil_error e;
    int fed = -1;
    memset(&info, 0, sizeof info);
    if (vigil__load_each(&in, exact, 1ull << 28, &px, &s, 1, &fed, &info, &e)) fed = -1;
    else free(px.px);
    vigil__view_free(&v);
    return fed;
}

void test_one_decode_features(void)
{
    vigil_error e, fe;
    CHECK(vigil_init(&e) == VIGIL_OK, "%s", e.message);
    /* one: whether the hash's decode feeds the features (1), or they need their own (0) */
    static const struct { const char *name; double scale; int w, h, o; const char *fmt; int W, H, one; } im[] = {
        {"big.jpg", 3, 0, 0, 1, "jpg", 3072, 1536, 1},          /* shrink-on-load 2 */
        {"big-rot6.jpg", 3, 0, 0, 6, "jpg", 1536, 3072, 1},     /* displayed turned 90 degrees */
        {"big-rot8.jpg", 3, 0, 0, 8, "jpg", 1536, 3072, 1},
        {"big-rot3.jpg", 3, 0, 0, 3, "jpg", 3072, 1536, 1},
        {"big-rot5.jpg", 2, 0, 0, 5, "jpg", 1024, 2048, 1},
        {"big-rot7.jpg", 6, 0, 0, 7, "jpg", 3072, 6144, 1},     /* shrink-on-load 8 */
        {"square.jpg", 2.2, 1100, 1100, 1, "jpg", 1100, 1100, 0}, /* PDQ's decode 550 px: under the 640 side */
        {"wide16.png", 0.8, 0, 0, 1, "png16", 819, 410, 1},
        {"grey.png", 0.7, 0, 0, 1, "grey", 717, 358, 1},
        {"rgba.png", 0.7, 0, 0, 1, "rgba", 717, 358, 1},
    };
    for (size_t i = 0; i < sizeof im / sizeof im[0]; i++) {
        const char *path = make_image(im[i].name, im[i].scale, im[i].w, im[i].h, im[i].o, im[i].fmt);
        CHECK(path != NULL, "%s: cannot make it: %s", im[i].name, vips_error_buffer());
        if (!path) { vips_error_clear(); continue; }
        size_t n;
        void *data = t_read_file(path, &n);
        CHECK(pdq_decode_feeds(data, n, 640, 0) == im[i].one, "%s: the hash's decode %s the features", im[i].name,
              im[i].one ? "does not feed" : "feeds");
        /* an exact hash decodes at full size: that feeds the features only where they want it too */
        const int exact_one = !im[i].one || !strstr(im[i].name, ".jpg");
        CHECK(pdq_decode_feeds(data, n, 640, 1) == exact_one, "%s: exact: the full-size decode %s the features",
              im[i].name, exact_one ? "does not feed" : "feeds");
        vigil_hash_result want, got;
        vigil_features fwant, fgot;
        CHECK(vigil_hash_file(path, NULL, &want, &e) == VIGIL_OK, "%s: %s", im[i].name, e.message);
        CHECK(vigil_features_memory(data, n, NULL, &fwant, &e) == VIGIL_OK, "%s: %s", im[i].name, e.message);
        CHECK(vigil_hash_file_features(path, NULL, NULL, &got, &fgot, &fe, &e) == VIGIL_OK && fe.code == VIGIL_OK,
              "%s: %s / %s", im[i].name, e.message, fe.message);
        CHECK(!memcmp(&want, &got, sizeof want), "%s: the hash differs from vigil_hash_file's", im[i].name);
        CHECK(fgot.n > 100 && same_features(&fwant, &fgot), "%s: %u features against vigil_features_memory's %u",
              im[i].name, fgot.n, fwant.n);
        /* the features are in the pixels of the image as displayed */
        CHECK(fgot.width == (uint32_t)im[i].W && fgot.height == (uint32_t)im[i].H, "%s: %ux%u, displayed %dx%d",
              im[i].name, fgot.width, fgot.height, im[i].W, im[i].H);
        int inside = 1;
        for (uint32_t k = 0; k < fgot.n; k++)
            inside &= fgot.kp[k].x >= 0 && fgot.kp[k].y >= 0 && fgot.kp[k].x < im[i].W && fgot.kp[k].y < im[i].H;
        CHECK(inside, "%s: a keypoint outside the displayed image", im[i].name);
        /* exact hashing decodes at full size; the features still are vigil_features_memory's */
        vigil_hash_options ho;
        vigil_hash_options_init(&ho);
        ho.flags = VIGIL_HASH_EXACT;
        vigil_features fx;
        CHECK(!vigil_hash_file_features(path, &ho, NULL, &got, &fx, &fe, &e) && same_features(&fwant, &fx),
              "%s: exact: %u features against %u", im[i].name, fx.n, fwant.n);
        /* the view against libvips's thumbnail of the same bytes (EXIF orientation applied) */
        vigil__view v;
        uint8_t *th = NULL;
        uint32_t tw = 0, thh = 0;
        CHECK(view_of(data, n, 640, &v) == 0, "%s: view", im[i].name);
        CHECK(vigil_decode_grey(data, n, 640, &th, &tw, &thh, &e) == VIGIL_OK, "%s: %s", im[i].name, e.message);
        CHECK(v.px && th && v.w == tw && v.h == thh, "%s: view %ux%u, vips_thumbnail %ux%u", im[i].name, v.w, v.h, tw, thh);
        if (v.px && th && v.w == tw && v.h == thh) {
            double d = 0;
            for (size_t k = 0, m = (size_t)tw * thh; k < m; k++) d += fabs((double)v.px[k] - th[k]);
            d /= (double)tw * thh;
            printf("    %s: view %ux%u, mean difference from vips_thumbnail %.2f grey levels\n", im[i].name, v.w, v.h, d);
            CHECK(d < 2.0, "%s: the view differs from vips_thumbnail's by %.2f grey levels on average", im[i].name, d);
        }
        vigil__view_free(&v);
        vigil_free(th);
        vigil_features_free(&fwant);
        vigil_features_free(&fgot);
        vigil_features_free(&fx);
        free(data);
    }
}

/* vigil__orient against libvips's own rotations and flips, on a small image with distinct pixels. */
void test_one_decode_orient(void)
{
    enum { W = 5, H = 3 };
    uint8_t a[W * H], out[W * H], *want;
    for (int i = 0; i < W * H; i++) a[i] = (uint8_t)(i * 7 + 1);
    for (int o = 1; o <= 8; o++) {
        VipsImage *in = vips_image_new_from_memory(a, sizeof a, W, H, 1, VIPS_FORMAT_UCHAR), *c = NULL, *r = NULL;
        CHECK(in && !vips_copy(in, &c, NULL), "copy");
        if (!c) { if (in) g_object_unref(in); continue; }
        vips_image_set_int(c, VIPS_META_ORIENTATION, o);
        CHECK(!vips_autorot(c, &r, NULL), "autorot %d", o);
        size_t len = 0;
        want = NULL;
        VipsRegion *reg = r ? vips_region_new(r) : NULL;
        VipsRect all = {0, 0, r ? r->Xsize : 0, r ? r->Ysize : 0};
        if (reg && !vips_region_prepare(reg, &all) && (want = g_malloc((size_t)all.width * all.height))) {
            len = (size_t)all.width * all.height;
            for (int y = 0; y < all.height; y++) memcpy(want + (size_t)y * all.width, VIPS_REGION_ADDR(reg, 0, y), (size_t)all.width);
        }
        if (reg) g_object_unref(reg);
        vigil__orient(a, W, H, 1, o, out);
        int ow = o >= 5 ? H : W;
        CHECK(want && len == sizeof out && r->Xsize == ow && !memcmp(want, out, sizeof out),
              "orientation %d: vigil__orient differs from vips_autorot", o);
        g_free(want);
        if (r) g_object_unref(r);
        g_object_unref(c);
        g_object_unref(in);
    }
}

/* The view's box stage against the plain mean of each cell, rounded half up: every box factor k
 * from 1 (a copy) through the reciprocal divisions (full cells of n = rows k < 4096) to past
 * them (k = 70: n = 4900 divides), with partial last rows and columns, grey, RGB kept as RGB,
 * and RGB taken to luma. Before resizing: the box image is the one the features see. */
void test_one_decode_box(void)
{
    static const struct { uint32_t w, h, side; int bands, ch; } cs[] = {
        {37, 23, 64, 1, 1},   {37, 23, 64, 3, 3},   {80, 61, 40, 1, 1},    {81, 62, 40, 3, 1},
        {95, 40, 31, 1, 1},   {95, 40, 31, 3, 3},   {200, 133, 28, 1, 1},  {444, 300, 7, 1, 1},
        {441, 301, 7, 3, 3},  {1300, 777, 20, 1, 1}, {140, 139, 2, 1, 1},  {211, 75, 3, 3, 1},
    };
    uint64_t seed = 12345;
    for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++) {
        const uint32_t w = cs[c].w, h = cs[c].h, b = (uint32_t)cs[c].bands, ch = (uint32_t)cs[c].ch;
        uint8_t *img = malloc((size_t)w * h * b);
        for (size_t i = 0; i < (size_t)w * h * b; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            /* extremes as well as noise: the divisions' worst case is a cell of 255s */
            img[i] = (uint8_t)(i % 7 == 0 ? 255 : i % 11 == 0 ? 0 : seed >> 56);
        }
        vigil__view v;
        vigil__view_init(&v, cs[c].side, (int)ch);
        const vigil__sink s = vigil__view_sink(&v);
        const vigil__decoded d = {w, h, w, h, (int)b, 0, 1};
        vigil_error e;
        CHECK(s.begin(s.ctx, &d, &e) == VIGIL_OK, "case %zu: begin: %s", c, e.message);
        for (uint32_t y = 0; y < h; y++) s.row(s.ctx, y, img + (size_t)y * w * b);
        const uint32_t k = v.k;
        int bad = 0;
        for (uint32_t by = 0; by < v.bh && !bad; by++)
            for (uint32_t bx = 0; bx < v.bw && !bad; bx++)
                for (uint32_t q = 0; q < ch && !bad; q++) {
                    uint32_t sum = 0, n = 0;
                    for (uint32_t y = by * k; y < h && y < (by + 1) * k; y++)
                        for (uint32_t x = bx * k; x < w && x < (bx + 1) * k; x++, n++) {
                            const uint8_t *p = img + ((size_t)y * w + x) * b;
                            sum += ch == 3 ? p[b == 3 ? q : 0] : b == 3 ? vigil__luma(p[0], p[1], p[2]) : p[0];
                        }
                    uint8_t want = (uint8_t)((sum + n / 2) / n), got = v.box[((size_t)by * v.bw + bx) * ch + q];
                    if (got != want) {
                        bad = 1;
                        CHECK(0, "case %zu (k %u): cell %u,%u channel %u is %u, its mean %u", c, k, bx, by, q, got, want);
                    }
                }
        CHECK(!bad, "case %zu: the box image is the cells' means", c);
        vigil__view_free(&v);
        free(img);
    }
}
