/* test_pdq.c - PDQ: hex, distance, differential against the literal spec, golden vectors,
 * dihedral semantics, and the decoding rules of spec section 1. */
#include "tests.h"
#include "../core/pdq.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

void test_version_and_names(void)
{
    CHECK(!strcmp(vigil_version(), VIGIL_VERSION_STRING), "%s", vigil_version());
    for (int i = 0; i < VIGIL_RESULT_COUNT; i++)
        for (int j = i + 1; j < VIGIL_RESULT_COUNT; j++)
            CHECK(strcmp(vigil_result_name(i), vigil_result_name(j)), "%d %d share a name", i, j);
    CHECK(!strcmp(vigil_result_name(VIGIL_RESULT_COUNT), "unknown"), "out of range");
    CHECK(!strcmp(vigil_transform_name(VIGIL_FLIPM), "flipm"), "flipm");
}

void test_hex_round_trip(void)
{
    vigil_pdq h = {{1, 0, 0, 0}}, g;
    char hex[65];
    vigil_pdq_to_hex(&h, hex);
    CHECK(!strcmp(hex, "0000000000000000000000000000000000000000000000000000000000000001"), "%s", hex);
    h = (vigil_pdq){{0, 0, 0, 1ull << 63}};
    vigil_pdq_to_hex(&h, hex);
    CHECK(!strcmp(hex, "8000000000000000000000000000000000000000000000000000000000000000"), "%s", hex);
    /* spec section 10: word w[0] (DCT row 0) is the last 4 hex digits */
    h = (vigil_pdq){{0xabcd, 0, 0, 0}};
    vigil_pdq_to_hex(&h, hex);
    CHECK(!strcmp(hex + 60, "abcd"), "%s", hex);
    for (int i = 0; i < 1000; i++) {
        for (int k = 0; k < 4; k++) h.w[k] = t_rand();
        vigil_pdq_to_hex(&h, hex);
        CHECK(vigil_pdq_from_hex(hex, 64, &g) == VIGIL_OK && !memcmp(&g, &h, sizeof h), "round trip %s", hex);
        for (int k = 0; k < 64; k++) if (hex[k] >= 'a') hex[k] -= 32;
        CHECK(vigil_pdq_from_hex(hex, 64, &g) == VIGIL_OK && !memcmp(&g, &h, sizeof h), "upper case %s", hex);
    }
    CHECK(vigil_pdq_from_hex(hex, 63, &g) == VIGIL_E_PARSE, "63 chars accepted");
    CHECK(vigil_pdq_from_hex(hex, 65, &g) == VIGIL_E_PARSE, "65 chars accepted");
    char bad[65];
    memcpy(bad, hex, 65);
    bad[17] = 'g';
    CHECK(vigil_pdq_from_hex(bad, 64, &g) == VIGIL_E_PARSE, "'g' accepted");
    bad[17] = 0;
    CHECK(vigil_pdq_from_hex(bad, 64, &g) == VIGIL_E_PARSE, "NUL accepted");
    CHECK(vigil_pdq_from_hex(NULL, 64, &g) == VIGIL_E_PARSE, "NULL accepted");
}

void test_distance(void)
{
    vigil_pdq z = {{0, 0, 0, 0}}, o = {{~0ull, ~0ull, ~0ull, ~0ull}}, a, b;
    CHECK(vigil_pdq_distance(&z, &z) == 0, "0");
    CHECK(vigil_pdq_distance(&z, &o) == 256, "256");
    for (int i = 0; i < 200; i++) {
        for (int k = 0; k < 4; k++) a.w[k] = t_rand();
        b = a;
        int flips = (int)(t_rand() % 257), set = 0;
        while (set < flips) {
            int bit = (int)(t_rand() % 256);
            if (((a.w[bit >> 6] ^ b.w[bit >> 6]) >> (bit & 63)) & 1) continue;
            b.w[bit >> 6] ^= 1ull << (bit & 63);
            set++;
        }
        CHECK(vigil_pdq_distance(&a, &b) == flips, "%d", flips);
    }
}

/* A plane with photo-like structure (smooth gradients, edges) plus noise, or pure noise. */
static void random_plane(float *p, int rows, int cols, int kind)
{
    double fx = (double)(t_rand() % 1000) / 100.0, fy = (double)(t_rand() % 1000) / 100.0;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            double v;
            if (kind == 0) v = (double)(t_rand() % 256);
            else v = 127.5 + 60 * sin(fx * j / cols + fy * i / rows) + 40 * ((i * 7 / rows + j * 5 / cols) & 1) + (double)(t_rand() % 32);
            if (kind == 2) v = floor(v / 64) * 64; /* few levels: many ties at the median */
            p[(size_t)i * cols + j] = (float)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
}

void test_pdq_vs_reference_random_planes(void)
{
    static const int fixed[][2] = {{5, 5}, {5, 600}, {600, 5}, {127, 128}, {128, 129}, {129, 257},
                                   {512, 512}, {384, 385}, {63, 65}, {300, 700}, {1, 1}};
    float *p = malloc(700 * 700 * sizeof *p);
    int mismatches = 0;
    for (int t = 0; t < 60; t++) {
        int rows, cols;
        if (t < (int)(sizeof fixed / sizeof fixed[0])) { rows = fixed[t][0]; cols = fixed[t][1]; }
        else { rows = 5 + (int)(t_rand() % 520); cols = 5 + (int)(t_rand() % 520); }
        random_plane(p, rows, cols, t % 3);
        vigil_pdq got, want;
        int qg, qw;
        vigil_result r = vigil__pdq_from_luma(p, rows, cols, &got, &qg, NULL);
        ref_pdq_from_luma(p, rows, cols, &want, &qw, 0);
        CHECK(r == (rows < 5 || cols < 5 ? VIGIL_E_TOO_SMALL : VIGIL_OK), "result %d at %dx%d", r, cols, rows);
        if (memcmp(&got, &want, sizeof got) || qg != qw) {
            mismatches++;
            CHECK(0, "%dx%d kind %d: distance %d, quality %d vs %d", cols, rows, t % 3,
                  vigil_pdq_distance(&got, &want), qg, qw);
        }
    }
    CHECK(mismatches == 0, "%d planes differ", mismatches);
    free(p);
}

void test_pdq_tiny_and_64x64(void)
{
    float p[64 * 64];
    vigil_pdq h, d[8], want;
    int q, qw;
    random_plane(p, 64, 64, 1);
    /* plain path: no filter (spec section 6); dihedral path: filtered */
    CHECK(vigil__pdq_from_luma(p, 64, 64, &h, &q, d) == VIGIL_OK, "64x64");
    ref_pdq_from_luma(p, 64, 64, &want, &qw, 0);
    CHECK(!memcmp(&h, &want, sizeof h) && q == qw, "plain 64x64 differs from the unfiltered reference");
    ref_pdq_from_luma(p, 64, 64, &want, &qw, 1);
    CHECK(!memcmp(&d[0], &want, sizeof want), "dihedral 64x64 orig differs from the filtered reference");
    CHECK(vigil__pdq_from_luma(p, 4, 64, &h, &q, NULL) == VIGIL_E_TOO_SMALL && q == 0 && !h.w[0], "4 rows");
    CHECK(vigil__pdq_from_luma(p, 64, 4, &h, &q, NULL) == VIGIL_E_TOO_SMALL, "4 cols");
}

typedef struct vec { char file[256]; char pdq[65]; int quality, w, h; char dih[7][65]; char note[128]; } vec;

static int load_vectors(vec *v, int max)
{
    size_t n;
    char *txt = t_read_file(t_path(t_data_dir, "../vectors.tsv"), &n);
    if (!txt) return 0;
    txt = realloc(txt, n + 1);
    txt[n] = 0;
    int count = 0;
    char *save = NULL, *line = strtok_r(txt, "\n", &save);
    for (line = strtok_r(NULL, "\n", &save); line && count < max; line = strtok_r(NULL, "\n", &save)) {
        vec *e = &v[count];
        memset(e, 0, sizeof *e);
        char *f[13] = {0};
        int k = 0;
        for (char *p = line; k < 13; k++) {
            f[k] = p;
            char *tab = strchr(p, '\t');
            if (!tab) { k++; break; }
            *tab = 0;
            p = tab + 1;
        }
        if (k < 12) continue;
        snprintf(e->file, sizeof e->file, "%s", f[0]);
        snprintf(e->pdq, sizeof e->pdq, "%s", f[1]);
        e->quality = atoi(f[2]);
        e->w = atoi(f[3]);
        e->h = atoi(f[4]);
        for (int t = 0; t < 7; t++) snprintf(e->dih[t], 65, "%s", f[5 + t]);
        if (f[12]) snprintf(e->note, sizeof e->note, "%s", f[12]);
        count++;
    }
    free(txt);
    return count;
}

void test_golden_vectors_exact(void)
{
    vec v[32];
    int n = load_vectors(v, 32);
    CHECK(n >= 5, "only %d vectors in %s", n, t_data_dir);
    vigil_hash_options opt;
    vigil_hash_options_init(&opt);
    opt.flags = VIGIL_HASH_EXACT | VIGIL_HASH_DIHEDRAL;
    for (int i = 0; i < n; i++) {
        vigil_hash_result r;
        vigil_error e;
        vigil_result rc = vigil_hash_file(t_path(t_data_dir, v[i].file), &opt, &r, &e);
        CHECK(rc == VIGIL_OK, "%s: %s", v[i].file, e.message);
        if (rc) continue;
        char hex[65];
        vigil_pdq_to_hex(&r.pdq, hex);
        CHECK(!strcmp(hex, v[i].pdq), "%s: pdq %s, reference %s", v[i].file, hex, v[i].pdq);
        CHECK(r.quality == v[i].quality, "%s: quality %d vs %d", v[i].file, r.quality, v[i].quality);
        CHECK((int)r.width == v[i].w && (int)r.height == v[i].h, "%s: size", v[i].file);
        for (int t = 0; t < 7; t++) {
            vigil_pdq_to_hex(&r.dihedral[t + 1], hex);
            CHECK(!strcmp(hex, v[i].dih[t]), "%s: %s %s vs %s", v[i].file, vigil_transform_name(t + 1), hex, v[i].dih[t]);
        }
    }
}

void test_golden_vectors_fast(void)
{
    vec v[32];
    int n = load_vectors(v, 32);
    vigil_hash_options opt;
    vigil_hash_options_init(&opt);
    for (int i = 0; i < n; i++) {
        vigil_hash_result r;
        vigil_error e;
        vigil_pdq want;
        CHECK(vigil_hash_file(t_path(t_data_dir, v[i].file), &opt, &r, &e) == VIGIL_OK, "%s: %s", v[i].file, e.message);
        CHECK(vigil_pdq_from_hex(v[i].pdq, 64, &want) == VIGIL_OK, "vector hex");
        int d = vigil_pdq_distance(&r.pdq, &want);
        printf("    fast %-60s distance %d\n", v[i].file, d);
        CHECK(v[i].quality < 80 || d <= 10, "%s: fast mode %d bits from the reference", v[i].file, d);
    }
}

/* Decodes a file to 8-bit RGB with libvips, for building transformed images in memory. */
static uint8_t *decode_rgb(const char *path, int *w, int *h)
{
    VipsImage *im = vips_image_new_from_file(path, NULL), *t;
    if (!im) return NULL;
    if (im->Bands != 3) {
        if (vips_colourspace(im, &t, VIPS_INTERPRETATION_sRGB, NULL)) return NULL;
        g_object_unref(im); im = t;
        if (im->Bands > 3) { vips_extract_band(im, &t, 0, "n", 3, NULL); g_object_unref(im); im = t; }
    }
    size_t n;
    uint8_t *p = vips_image_write_to_memory(im, &n);
    *w = im->Xsize;
    *h = im->Ysize;
    g_object_unref(im);
    return p;
}

/* dst = src under a dihedral transform t (named as in spec section 11). */
static uint8_t *transform_rgb(const uint8_t *src, int w, int h, int t, int *ow, int *oh)
{
    int swap = t == VIGIL_ROT90 || t == VIGIL_ROT270 || t == VIGIL_FLIPP || t == VIGIL_FLIPM;
    *ow = swap ? h : w;
    *oh = swap ? w : h;
    uint8_t *dst = malloc((size_t)w * h * 3);
    for (int y = 0; y < *oh; y++)
        for (int x = 0; x < *ow; x++) {
            int sx, sy;
            switch (t) {
            case VIGIL_ROT90: sx = w - 1 - y; sy = x; break;        /* counter-clockwise */
            case VIGIL_ROT180: sx = w - 1 - x; sy = h - 1 - y; break;
            case VIGIL_ROT270: sx = y; sy = h - 1 - x; break;
            case VIGIL_FLIPX: sx = x; sy = h - 1 - y; break;         /* top <-> bottom */
            case VIGIL_FLIPY: sx = w - 1 - x; sy = y; break;         /* mirror */
            case VIGIL_FLIPP: sx = y; sy = x; break;                 /* transpose */
            case VIGIL_FLIPM: sx = w - 1 - y; sy = h - 1 - x; break; /* anti-transpose */
            default: sx = x; sy = y;
            }
            memcpy(dst + ((size_t)y * *ow + x) * 3, src + ((size_t)sy * w + sx) * 3, 3);
        }
    return dst;
}

void test_dihedral_matches_real_transforms(void)
{
    const char *files[] = {"opencv-doc__hfs_001.jpg", "gcompris-qt-data__categorization__others_bulb.webp",
                           "opencv-doc__right.jpg"};
    for (int f = 0; f < 3; f++) {
        int w, h;
        uint8_t *px = decode_rgb(t_path(t_data_dir, files[f]), &w, &h);
        CHECK(px, "decode %s", files[f]);
        if (!px) continue;
        vigil_pdq base, dih[8];
        int q;
        CHECK(vigil_pdq_from_pixels(px, w, h, (size_t)w * 3, 3, &base, &q, dih) == VIGIL_OK, "hash");
        for (int t = 1; t < 8; t++) {
            int ow, oh, q2;
            uint8_t *tp = transform_rgb(px, w, h, t, &ow, &oh);
            vigil_pdq th;
            vigil_pdq_from_pixels(tp, ow, oh, (size_t)ow * 3, 3, &th, &q2, NULL);
            int best = 0, bestd = 999;
            for (int u = 0; u < 8; u++) {
                int d = vigil_pdq_distance(&th, &dih[u]);
                if (d < bestd) { bestd = d; best = u; }
            }
            int d = vigil_pdq_distance(&th, &dih[t]);
            CHECK(best == t, "%s: the %s image is nearest to %s (%d bits), not %s (%d)", files[f],
                  vigil_transform_name(t), vigil_transform_name(best), bestd, vigil_transform_name(t), d);
            CHECK(d <= 31, "%s %s: %d bits", files[f], vigil_transform_name(t), d);
            /* Spec section 11: a transpose commutes with every step up to f32 order; only images
             * within 512 on both sides avoid the asymmetric 512 resample. */
            if (t == VIGIL_FLIPP && w <= 512 && h <= 512)
                CHECK(d <= 2, "%s flipp: %d bits from the transposed image", files[f], d);
            free(tp);
        }
        g_free(px);
    }
}

/* Encodes 8- or 16-bit pixels to a PNG file with libvips. */
static int save_png(const char *path, const void *px, int w, int h, int bands, int sixteen)
{
    VipsImage *im = vips_image_new_from_memory_copy(px, (size_t)w * h * bands * (sixteen ? 2 : 1), w, h, bands,
                                                    sixteen ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR);
    if (!im) return -1;
    if (sixteen) vips_image_set_int(im, "interpretation", bands >= 3 ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_GREY16);
    int r = vips_pngsave(im, path, "bitdepth", sixteen ? 16 : 8, NULL);
    g_object_unref(im);
    return r;
}

static int hash_path(const char *path, uint32_t flags, vigil_hash_result *r)
{
    vigil_hash_options opt;
    vigil_error e;
    vigil_hash_options_init(&opt);
    opt.flags = flags;
    int rc = vigil_hash_file(path, &opt, r, &e);
    if (rc) printf("    %s: %s\n", path, e.message);
    return rc;
}

void test_sixteen_bit_scaled_not_low_byte(void)
{
    int w, h;
    uint8_t *px = decode_rgb(t_path(t_data_dir, "opencv-doc__hfs_001.jpg"), &w, &h);
    size_t n = (size_t)w * h * 3;
    uint16_t *wide = malloc(n * 2);
    for (size_t i = 0; i < n; i++) wide[i] = (uint16_t)(px[i] * 257 + (px[i] < 255 ? (int)(t_rand() % 128) : 0)); /* noise in the low byte */
    char *p8 = t_path(t_tmp_dir, "eight.png"), *p16 = t_path(t_tmp_dir, "sixteen.png");
    CHECK(!save_png(p8, px, w, h, 3, 0) && !save_png(p16, wide, w, h, 3, 1), "save");
    vigil_hash_result a, b;
    CHECK(!hash_path(p8, VIGIL_HASH_EXACT, &a) && !hash_path(p16, VIGIL_HASH_EXACT, &b), "hash");
    CHECK(vigil_pdq_distance(&a.pdq, &b.pdq) == 0, "16-bit copy is %d bits away", vigil_pdq_distance(&a.pdq, &b.pdq));
    free(wide);
    g_free(px);
}

void test_alpha_dropped_not_composited(void)
{
    int w, h;
    uint8_t *px = decode_rgb(t_path(t_data_dir, "opencv-doc__hfs_001.jpg"), &w, &h);
    uint8_t *rgba = malloc((size_t)w * h * 4);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        memcpy(rgba + 4 * i, px + 3 * i, 3);
        rgba[4 * i + 3] = (uint8_t)(i % 3 ? 0 : 255); /* mostly fully transparent */
    }
    char *a = t_path(t_tmp_dir, "rgb.png"), *b = t_path(t_tmp_dir, "rgba.png");
    CHECK(!save_png(a, px, w, h, 3, 0) && !save_png(b, rgba, w, h, 4, 0), "save");
    vigil_hash_result ra, rb;
    for (int exact = 0; exact < 2; exact++) {
        CHECK(!hash_path(a, exact ? VIGIL_HASH_EXACT : 0, &ra) && !hash_path(b, exact ? VIGIL_HASH_EXACT : 0, &rb), "hash");
        CHECK(!memcmp(&ra.pdq, &rb.pdq, sizeof ra.pdq), "alpha changed the hash by %d bits", vigil_pdq_distance(&ra.pdq, &rb.pdq));
    }
    free(rgba);
    g_free(px);
}

void test_grey_rgb_as_one_channel(void)
{
    /* An RGB file whose pixels are all grey must hash like the 1-channel file (spec section 1),
     * which differs from the RGB luma formula for 35 of 256 levels. */
    int w = 200, h = 150;
    uint8_t *g = malloc((size_t)w * h), *rgb = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h; i++) {
        g[i] = (uint8_t)((i % w) + (i / w) + (int)(t_rand() % 40));
        memset(rgb + 3 * i, g[i], 3);
    }
    char *a = t_path(t_tmp_dir, "grey.png"), *b = t_path(t_tmp_dir, "greyrgb.png");
    CHECK(!save_png(a, g, w, h, 1, 0) && !save_png(b, rgb, w, h, 3, 0), "save");
    vigil_hash_result ra, rb;
    CHECK(!hash_path(a, VIGIL_HASH_EXACT, &ra) && !hash_path(b, VIGIL_HASH_EXACT, &rb), "hash");
    CHECK(!memcmp(&ra.pdq, &rb.pdq, sizeof ra.pdq) && ra.quality == rb.quality, "grey RGB hashed differently");
    free(g);
    free(rgb);
}

/* The same pixels through every container vigil loads: lossless ones must hash identically to
 * the PNG, lossy ones must load and land close. A GIF's first frame is the one hashed. */
void test_formats(void)
{
    int w, h;
    uint8_t *px = decode_rgb(t_path(t_data_dir, "opencv-doc__hfs_001.jpg"), &w, &h);
    VipsImage *im = vips_image_new_from_memory_copy(px, (size_t)w * h * 3, w, h, 3, VIPS_FORMAT_UCHAR);
    char *png = t_path(t_tmp_dir, "f.png");
    CHECK(!vips_pngsave(im, png, NULL), "png");
    vigil_hash_result ref, r;
    CHECK(!hash_path(png, VIGIL_HASH_EXACT, &ref), "png hash");
    static const struct { const char *name, *fmt; int lossless; } f[] = {
        {"f.tif", "tiff", 1}, {"f.ppm", "pnm", -1}, {"f.webp", "webp", 1}, {"f.jxl", "jxl", 1},
        {"f.gif", "gif", 0}, {"f.heic", "heif", 0}, {"f.jp2", "jp2k", -1},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        char *p = t_path(t_tmp_dir, f[i].name);
        int saved;
        if (!strcmp(f[i].fmt, "webp")) saved = !vips_webpsave(im, p, "lossless", TRUE, NULL);
        else if (!strcmp(f[i].fmt, "jxl")) saved = !vips_jxlsave(im, p, "lossless", TRUE, NULL);
        else if (!strcmp(f[i].fmt, "jp2k")) saved = !vips_jp2ksave(im, p, "lossless", TRUE, NULL);
        else if (!strcmp(f[i].fmt, "heif")) saved = !vips_heifsave(im, p, "Q", 90, NULL);
        else saved = !vips_image_write_to_file(im, p, NULL);
        vips_error_clear();
        if (!saved) { printf("    skipped %s: this libvips cannot write it\n", f[i].fmt); continue; }
        if (f[i].lossless < 0) { /* refused on purpose: untrusted loaders */
            vigil_hash_options opt;
            vigil_error e;
            vigil_hash_options_init(&opt);
            CHECK(vigil_hash_file(p, &opt, &r, &e) == VIGIL_E_FORMAT && strstr(e.message, "allow-list"),
                  "%s: %s", f[i].name, e.message);
            continue;
        }
        CHECK(!hash_path(p, VIGIL_HASH_EXACT, &r), "%s does not hash", f[i].name);
        CHECK(!strcmp(r.format, f[i].fmt), "%s: format %s", f[i].name, r.format);
        int d = vigil_pdq_distance(&r.pdq, &ref.pdq);
        if (f[i].lossless) CHECK(d == 0, "%s: lossless copy %d bits away", f[i].name, d);
        else CHECK(d <= 16, "%s: lossy copy %d bits away", f[i].name, d);
    }
    /* two-frame GIF: frame 1 is the photo, frame 2 its negative; the photo must be hashed */
    VipsImage *neg, *pages[2], *anim;
    vips_invert(im, &neg, NULL);
    VipsImage *negu;
    vips_cast(neg, &negu, VIPS_FORMAT_UCHAR, NULL);
    pages[0] = im; pages[1] = negu;
    vips_arrayjoin(pages, &anim, 2, "across", 1, NULL);
    vips_image_set_int(anim, "page-height", h);
    char *gif = t_path(t_tmp_dir, "anim.gif"), *one = t_path(t_tmp_dir, "f.gif");
    CHECK(!vips_gifsave(anim, gif, NULL), "gif save");
    vigil_hash_result ra, r1;
    CHECK(!hash_path(gif, VIGIL_HASH_EXACT, &ra) && !hash_path(one, VIGIL_HASH_EXACT, &r1), "gif hash");
    CHECK(ra.height == (uint32_t)h, "animated GIF height %u, want the first frame's %d", ra.height, h);
    CHECK(vigil_pdq_distance(&ra.pdq, &r1.pdq) <= 16, "animated GIF hashed %d bits from its first frame",
          vigil_pdq_distance(&ra.pdq, &r1.pdq));
    g_object_unref(anim); g_object_unref(neg); g_object_unref(negu); g_object_unref(im);
    g_free(px);
}
