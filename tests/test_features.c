/* test_features.c - local features: rotation and scale repeatability against known geometry,
 * determinism, masks, bounds. */
#include "tests.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "load.h" /* libvigil's internal decoder (static library): grey or RGB pixels at a bounded size */

static uint8_t *grey_of(const char *name, uint32_t *w, uint32_t *h)
{
    size_t n;
    void *data = t_read_file(t_path(t_data_dir, name), &n);
    uint8_t *px;
    uint32_t W, H;
    int ch;
    vigil_error e;
    if (!data || vigil__thumb_sized(data, n, 640, 1ull << 28, &px, w, h, &ch, &W, &H, &e)) { free(data); return NULL; }
    free(data);
    if (ch == 3)
        for (size_t i = 0; i < (size_t)*w * *h; i++) px[i] = (uint8_t)((px[3 * i] * 299 + px[3 * i + 1] * 587 + px[3 * i + 2] * 114) / 1000);
    return px;
}

/* Mutual nearest neighbours by Hamming distance (< 64 bits); how many land where the known
 * geometry puts them (within tol pixels of B), of how many. */
typedef void (*map_fn)(float x, float y, float *u, float *v, const void *ctx);
static void agree(const vigil_features *a, const vigil_features *b, map_fn map, const void *ctx, float tol, int *good, int *all)
{
    *good = *all = 0;
    int *nn = malloc(a->n * sizeof *nn);
    for (uint32_t i = 0; i < a->n; i++) {
        int best = 999, bj = -1;
        for (uint32_t j = 0; j < b->n; j++) {
            int d = vigil_pdq_distance(&a->desc[i], &b->desc[j]);
            if (d < best) { best = d; bj = (int)j; }
        }
        nn[i] = best < 64 ? bj : -1;
    }
    for (uint32_t i = 0; i < a->n; i++) {
        if (nn[i] < 0) continue;
        int best = 999, bi = -1;
        for (uint32_t k = 0; k < a->n; k++) {
            int d = vigil_pdq_distance(&a->desc[k], &b->desc[nn[i]]);
            if (d < best) { best = d; bi = (int)k; }
        }
        if (bi != (int)i) continue;
        (*all)++;
        float u, v;
        map(a->kp[i].x, a->kp[i].y, &u, &v, ctx);
        float dx = u - b->kp[nn[i]].x, dy = v - b->kp[nn[i]].y;
        if (sqrtf(dx * dx + dy * dy) <= tol * b->kp[nn[i]].scale) (*good)++;
    }
    free(nn);
}

static void rot90_map(float x, float y, float *u, float *v, const void *ctx)
{
    uint32_t h = *(const uint32_t *)ctx; /* clockwise: (x, y) -> (h - 1 - y, x) */
    *u = (float)h - 1 - y;
    *v = x;
}

static void scale_map(float x, float y, float *u, float *v, const void *ctx)
{
    float s = *(const float *)ctx;
    *u = (x + 0.5f) * s - 0.5f;
    *v = (y + 0.5f) * s - 0.5f;
}

void test_features_repeatable(void)
{
    uint32_t w, h;
    uint8_t *g = grey_of("opencv-doc__hfs_001.jpg", &w, &h);
    CHECK(g != NULL, "decode");
    if (!g) return;
    vigil_features_options o;
    vigil_features_options_init(&o);
    vigil_features a, b, c;
    vigil_error e;
    CHECK(vigil_features_from_grey(g, w, h, w, &o, &a, &e) == VIGIL_OK, "features: %s", e.message);
    CHECK(a.n >= 100 && a.n <= o.max_features, "%u features", a.n);
    /* the same input gives the same features */
    CHECK(vigil_features_from_grey(g, w, h, w, &o, &c, &e) == VIGIL_OK && c.n == a.n &&
          !memcmp(c.desc, a.desc, a.n * sizeof *a.desc) && !memcmp(c.kp, a.kp, a.n * sizeof *a.kp), "not deterministic");
    vigil_features_free(&c);
    /* rotated by 90 degrees: descriptors are rotation-aware, so matches land on the rotated points */
    uint8_t *r = malloc((size_t)w * h);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) r[(size_t)x * h + (h - 1 - y)] = g[(size_t)y * w + x];
    CHECK(vigil_features_from_grey(r, h, w, h, &o, &b, &e) == VIGIL_OK, "rotated");
    int good, all;
    agree(&a, &b, rot90_map, &h, 3, &good, &all);
    printf("    rotation 90: %d of %d mutual matches where the geometry puts them\n", good, all);
    CHECK(good >= 40 && good * 10 >= all * 7, "rotation 90: %d of %d", good, all);
    vigil_features_free(&b);
    /* scaled to 0.7: the pyramid finds the same corners a level up */
    float s = 0.7f;
    uint32_t sw = (uint32_t)lroundf(w * s), sh = (uint32_t)lroundf(h * s);
    uint8_t *d = malloc((size_t)sw * sh);
    for (uint32_t y = 0; y < sh; y++)
        for (uint32_t x = 0; x < sw; x++) {
            float fx = (x + 0.5f) / s - 0.5f, fy = (y + 0.5f) / s - 0.5f;
            int x0 = (int)fx, y0 = (int)fy;
            float ax = fx - x0, ay = fy - y0;
            int x1 = x0 + 1 < (int)w ? x0 + 1 : x0, y1 = y0 + 1 < (int)h ? y0 + 1 : y0;
            d[(size_t)y * sw + x] = (uint8_t)((1 - ay) * ((1 - ax) * g[(size_t)y0 * w + x0] + ax * g[(size_t)y0 * w + x1]) +
                                              ay * ((1 - ax) * g[(size_t)y1 * w + x0] + ax * g[(size_t)y1 * w + x1]) + 0.5f);
        }
    CHECK(vigil_features_from_grey(d, sw, sh, sw, &o, &b, &e) == VIGIL_OK, "scaled");
    agree(&a, &b, scale_map, &s, 3, &good, &all);
    printf("    scale 0.7: %d of %d mutual matches where the geometry puts them\n", good, all);
    CHECK(good >= 40 && good * 10 >= all * 6, "scale 0.7: %d of %d", good, all);
    vigil_features_free(&b);
    /* a mask drops every feature inside it */
    vigil_rect m = {0, 0, w / 2.0f, (float)h};
    o.mask = &m;
    o.nmask = 1;
    CHECK(vigil_features_from_grey(g, w, h, w, &o, &b, &e) == VIGIL_OK && b.n > 0, "masked");
    int inside = 0;
    for (uint32_t i = 0; i < b.n; i++) inside += b.kp[i].x < w / 2.0f - 1;
    CHECK(inside == 0, "%d features inside the mask", inside);
    vigil_features_free(&b);
    /* bounded */
    o.nmask = 0;
    o.max_features = 50;
    CHECK(vigil_features_from_grey(g, w, h, w, &o, &b, &e) == VIGIL_OK && b.n == 50, "max 50: %u", b.n);
    vigil_features_free(&b);
    CHECK(vigil_features_from_grey(g, 20, 20, w, &o, &b, &e) == VIGIL_E_TOO_SMALL, "tiny");
    vigil_features_free(&a);
    free(g); free(r); free(d);
}

static void identity_map(float x, float y, float *u, float *v, const void *ctx)
{
    (void)ctx;
    *u = x;
    *v = y;
}

/* Equalisation: a photo taken in a dark room (a tenth of the light, another gamma) gives the
 * corners of the lit one. Spread: with the grid, the low-contrast half of an image keeps features
 * that the textured half would otherwise take. */
void test_features_light_and_spread(void)
{
    uint32_t w, h;
    uint8_t *g = grey_of("opencv-doc__hfs_001.jpg", &w, &h);
    CHECK(g != NULL, "decode");
    if (!g) return;
    size_t n = (size_t)w * h;
    uint8_t *dark = malloc(n), *half = malloc(n);
    for (size_t i = 0; i < n; i++) dark[i] = (uint8_t)lround(24 * pow(g[i] / 255.0, 1.2));
    vigil_features_options o;
    vigil_features_options_init(&o);
    CHECK(o.equalise == 1 && o.grid == 4, "defaults: equalise %d, grid %u", o.equalise, o.grid);
    vigil_features a, b;
    vigil_error e;
    int good[2], all[2];
    uint32_t nd[2];
    for (int eq = 1; eq >= 0; eq--) {
        o.equalise = eq;
        CHECK(vigil_features_from_grey(g, w, h, w, &o, &a, &e) == VIGIL_OK, "lit: %s", e.message);
        CHECK(vigil_features_from_grey(dark, w, h, w, &o, &b, &e) == VIGIL_OK, "dark: %s", e.message);
        agree(&a, &b, identity_map, NULL, 2, &good[eq], &all[eq]);
        nd[eq] = b.n;
        vigil_features_free(&a);
        vigil_features_free(&b);
    }
    printf("    dark copy: equalised %d of %d mutual matches in place (%u features); not equalised %d of %d (%u)\n", good[1],
           all[1], nd[1], good[0], all[0], nd[0]);
    CHECK(nd[1] == o.max_features && good[1] >= 250 && good[1] * 10 >= all[1] * 8, "equalised dark copy: %d of %d, %u features",
          good[1], all[1], nd[1]);
    CHECK(good[1] > good[0], "equalisation does not help: %d against %d", good[1], good[0]);
    /* the left half twice, the second copy at half the contrast */
    o.equalise = 1;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            int v = x < w / 2 ? g[(size_t)y * w + x] : 128 + (g[(size_t)y * w + x - w / 2] - 128) / 2;
            half[(size_t)y * w + x] = (uint8_t)v;
        }
    int right[2], busiest[2];
    for (int grid = 0; grid < 2; grid++) {
        o.grid = grid ? 4 : 0;
        CHECK(vigil_features_from_grey(half, w, h, w, &o, &a, &e) == VIGIL_OK, "half: %s", e.message);
        CHECK(a.n == o.max_features, "%u features", a.n);
        int cells[12] = {0};
        right[grid] = busiest[grid] = 0;
        for (uint32_t i = 0; i < a.n; i++) {
            right[grid] += a.kp[i].x > w / 2.0f + 2;
            int c = (int)(a.kp[i].y * 3 / h) * 4 + (int)(a.kp[i].x * 4 / w);
            if (++cells[c] > busiest[grid]) busiest[grid] = cells[c];
        }
        vigil_features_free(&a);
    }
    printf("    low-contrast copy: %d of %u features with the grid (busiest of 4x3 cells %d), %d without (busiest %d)\n", right[1],
           o.max_features, busiest[1], right[0], busiest[0]);
    CHECK(right[1] >= right[0] + 20 && busiest[1] * 4 <= busiest[0] * 3, "spread: %d with the grid (busiest cell %d), %d without (%d)",
          right[1], busiest[1], right[0], busiest[0]);
    free(g); free(dark); free(half);
}

void test_features_from_file_bytes(void)
{
    size_t n;
    void *data = t_read_file(t_path(t_data_dir, "opencv-doc__left.jpg"), &n);
    vigil_features f;
    vigil_error e;
    vigil_features_options o;
    vigil_features_options_init(&o);
    o.work_side = 256; /* smaller than the image: keypoints come back in the stored image's pixels */
    CHECK(vigil_features_memory(data, n, &o, &f, &e) == VIGIL_OK, "%s", e.message);
    float maxx = 0, maxy = 0;
    for (uint32_t i = 0; i < f.n; i++) { if (f.kp[i].x > maxx) maxx = f.kp[i].x; if (f.kp[i].y > maxy) maxy = f.kp[i].y; }
    CHECK(f.n > 20 && maxx < f.width && maxy < f.height && maxx > f.width * 0.6f, "%u features, max x %.0f of %u", f.n, maxx, f.width);
    vigil_features_free(&f);
    CHECK(vigil_features_memory("junk", 4, &o, &f, &e) == VIGIL_E_FORMAT, "junk");
    free(data);
}

/* libvigil internals: the FAST-9 row test, portable and per ISA */
typedef void (*fast_row_fn)(const uint8_t *row, size_t stride, int x0, int x1, int t, uint8_t *out);
fast_row_fn vigil__fast_row_named(const char *name);

/* Every variant of the FAST-9 row test against the portable reference, byte for byte, on noise,
 * flat areas, edges, saturated pixels and every threshold; and the reference against FAST-9
 * recomputed here from its definition (9 contiguous of the 16 circle pixels). */
void test_fast9_row_variants(void)
{
    enum { W = 211, H = 9 };
    uint8_t img[W * H], a[W], b[W];
    fast_row_fn ref = vigil__fast_row_named("portable"), avx2 = vigil__fast_row_named("avx2");
    CHECK(ref != NULL, "portable FAST-9 row test missing");
    if (!avx2) printf("    no AVX2 on this CPU: only the portable row test runs\n");
    static const int ring[16][2] = {{0, -3}, {1, -3}, {2, -2}, {3, -1}, {3, 0}, {3, 1}, {2, 2}, {1, 3},
                                    {0, 3}, {-1, 3}, {-2, 2}, {-3, 1}, {-3, 0}, {-3, -1}, {-2, -2}, {-1, -3}};
    int differ = 0, missed = 0, corners = 0, passed = 0;
    for (int round = 0; round < 400; round++) {
        int kind = round % 4;
        for (int i = 0; i < W * H; i++) {
            uint64_t r = t_rand();
            img[i] = kind == 0 ? (uint8_t)r                                   /* noise */
                   : kind == 1 ? (uint8_t)(128 + (int)(r % 5) - 2)            /* flat */
                   : kind == 2 ? (uint8_t)((i % W) > (int)(r % 4) + W / 2 ? 250 : 5) /* an edge */
                               : (uint8_t)(r & 1 ? 255 : (r & 2 ? 0 : r >> 8)); /* saturated */
        }
        int t = 1 + (int)(t_rand() % 80), x0 = 3 + (int)(t_rand() % 40), x1 = W - 3 - (int)(t_rand() % 40);
        if (round % 8 == 7) x1 = x0 + 1 + (int)(t_rand() % 40); /* spans under, at and just over one block */
        const uint8_t *row = img + 4 * W;
        memset(a, 0x55, sizeof a);
        memset(b, 0x55, sizeof b);
        ref(row, W, x0, x1, t, a);
        if (avx2) {
            avx2(row, W, x0, x1, t, b);
            differ += memcmp(a + x0, b + x0, (size_t)(x1 - x0)) != 0 || b[x0 - 1] != 0x55 || b[x1] != 0x55;
        }
        for (int x = x0; x < x1; x++) {
            int c = row[x], bright = 0, dark = 0;
            for (int k = 0; k < 16; k++) {
                int v = row[x + ring[k][1] * W + ring[k][0]];
                bright |= (v > c + t) << k;
                dark |= (v < c - t) << k;
            }
            int corner = 0;
            for (int s = 0; s < 16 && !corner; s++) {
                int rb = 1, rd = 1;
                for (int k = 0; k < 9; k++) { rb &= bright >> ((s + k) & 15); rd &= dark >> ((s + k) & 15); }
                corner = (rb | rd) & 1;
            }
            corners += corner;
            passed += a[x] != 0;
            missed += corner != (a[x] != 0);
        }
    }
    printf("    %d FAST-9 corners by definition, %d found, %d rounds differing between variants\n", corners, passed, differ);
    CHECK(differ == 0, "AVX2 row test differs from the portable one in %d rounds", differ);
    CHECK(missed == 0 && corners > 100, "row test wrong on %d pixels (of %d corners)", missed, corners);
}

/* libvigil internals: the orientation moments, portable and per ISA */
typedef void (*orient_fn)(const uint8_t *p, size_t stride, int32_t *m10, int32_t *m01);
orient_fn vigil__orient_named(const char *name);
extern const uint8_t vigil__orient_span[31];

/* Every variant of the orientation moments against the portable reference, and the reference
 * against the moments recomputed here from their definition (the disc of radius 15, row
 * half-widths floor(sqrt(225 - dy^2))), on noise, saturated patches, ramps and flat ones. */
void test_orient_moments_variants(void)
{
    enum { W = 77, H = 40 };
    uint8_t img[W * H];
    orient_fn ref = vigil__orient_named("portable"), avx2 = vigil__orient_named("avx2");
    CHECK(ref != NULL, "portable orientation moments missing");
    if (!avx2) printf("    no AVX2 on this CPU: only the portable moments run\n");
    int span_ok = 1;
    for (int dy = -15; dy <= 15; dy++) span_ok &= vigil__orient_span[dy + 15] == (int)floor(sqrt(225.0 - dy * dy));
    CHECK(span_ok, "the disc's row half-widths");
    int differ = 0, wrong = 0;
    for (int round = 0; round < 600; round++) {
        int kind = round % 4;
        for (int i = 0; i < W * H; i++) {
            uint64_t r = t_rand();
            img[i] = kind == 0 ? (uint8_t)r : kind == 1 ? (uint8_t)(r & 1 ? 255 : 0)
                   : kind == 2 ? (uint8_t)((i % W) * 3 + (i / W) * 2) : (uint8_t)255;
        }
        int x = 16 + (int)(t_rand() % (W - 32)), y = 15 + (int)(t_rand() % (H - 30));
        const uint8_t *p = img + y * W + x;
        int32_t a10, a01, b10 = 0, b01 = 0;
        ref(p, W, &a10, &a01);
        long w10 = 0, w01 = 0;
        for (int dy = -15; dy <= 15; dy++)
            for (int dx = -15; dx <= 15; dx++)
                if (dx * dx + dy * dy <= 225) { w10 += dx * p[dy * W + dx]; w01 += dy * p[dy * W + dx]; }
        wrong += a10 != w10 || a01 != w01;
        if (avx2) {
            avx2(p, W, &b10, &b01);
            differ += a10 != b10 || a01 != b01;
        }
    }
    CHECK(!wrong, "the portable moments against their definition: %d of 600 patches differ", wrong);
    CHECK(!differ, "avx2 against portable: %d of 600 patches differ", differ);
}
