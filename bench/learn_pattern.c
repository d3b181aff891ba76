/* learn_pattern.c - build/learn-pattern: chooses the descriptor's 256 intensity comparisons from
 * real keypoints, as the ORB paper describes (Rublee et al. 2011, section 4.3), and writes them as
 * core/feature_pattern.h.
 *
 * Why: comparisons drawn at random are biased once the patch is turned to its intensity-centroid
 * orientation (the bright side always lies along +x), and neighbouring ones agree with each other.
 * Biased, correlated bits make unrelated descriptors look alike (median distance 96 instead of
 * 128) and crowd the room index's hash buckets. So: a pool of candidate pairs inside the patch,
 * evaluated on the oriented patches of every keypoint of the training photos; sorted by how far the
 * bit's mean is from 1/2; taken greedily when no taken pair correlates with it above a bound
 * (0.2, raised in steps until 256 are taken).
 *
 *   learn-pattern [-n MAXPATCHES] PHOTO... > core/feature_pattern.h */
#include "features_impl.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#define R 13
#define POOL 12000

typedef struct coll { uint8_t *p; size_t n, cap, max; } coll;

static void take(const uint8_t *patch, void *ctx)
{
    coll *c = ctx;
    if (c->n >= c->max) return;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 4096;
        c->p = realloc(c->p, c->cap * VIGIL__PATCH * VIGIL__PATCH);
    }
    memcpy(c->p + c->n++ * VIGIL__PATCH * VIGIL__PATCH, patch, VIGIL__PATCH * VIGIL__PATCH);
}

static uint64_t st = 0x6c6561726e;
static double urand(void)
{
    uint64_t z = (st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static int disc_point(int *x, int *y)
{
    do { *x = (int)floor(urand() * (2 * R + 1)) - R; *y = (int)floor(urand() * (2 * R + 1)) - R; } while (*x * *x + *y * *y > R * R);
    return 0;
}

typedef struct cand { int x1, y1, x2, y2; double mean; uint64_t *bits; } cand;
static int cmp_cand(const void *a, const void *b)
{
    double p = fabs(((const cand *)a)->mean - 0.5), q = fabs(((const cand *)b)->mean - 0.5);
    return p < q ? -1 : p > q;
}

int main(int argc, char **argv)
{
    coll c = {0};
    c.max = 100000;
    int first = 1;
    if (argc > 2 && !strcmp(argv[1], "-n")) { c.max = (size_t)atol(argv[2]); first = 3; }
    if (VIPS_INIT(argv[0])) return 2;
    vigil_features_options fo;
    vigil_features_options_init(&fo);
    int used = 0;
    for (int i = first; i < argc && c.n < c.max; i++) {
        VipsImage *im = vips_image_new_from_file(argv[i], NULL), *t;
        if (!im) { vips_error_clear(); continue; }
        if (vips_thumbnail_image(im, &t, 640, NULL)) { g_object_unref(im); vips_error_clear(); continue; }
        g_object_unref(im);
        if (vips_colourspace(t, &im, VIPS_INTERPRETATION_B_W, NULL)) { g_object_unref(t); vips_error_clear(); continue; }
        g_object_unref(t);
        if (vips_extract_band(im, &t, 0, NULL) || vips_cast(t, &im, VIPS_FORMAT_UCHAR, NULL)) { vips_error_clear(); continue; }
        size_t len;
        uint8_t *px = vips_image_write_to_memory(im, &len);
        vigil_error e;
        if (px && !vigil__feature_patches(px, (uint32_t)im->Xsize, (uint32_t)im->Ysize, (size_t)im->Xsize, &fo, take, &c, &e)) used++;
        g_free(px);
        g_object_unref(im);
    }
    if (c.n < 1000) { fprintf(stderr, "learn-pattern: only %zu patches\n", c.n); return 2; }
    fprintf(stderr, "learn-pattern: %zu patches from %d photos\n", c.n, used);
    size_t words = (c.n + 63) / 64;
    cand *pool = calloc(POOL, sizeof *pool);
    for (int k = 0; k < POOL; k++) {
        cand *p = &pool[k];
        do { disc_point(&p->x1, &p->y1); disc_point(&p->x2, &p->y2); } while ((p->x1 - p->x2) * (p->x1 - p->x2) + (p->y1 - p->y2) * (p->y1 - p->y2) < 4);
        p->bits = calloc(words, 8);
        size_t ones = 0;
        for (size_t i = 0; i < c.n; i++) {
            const uint8_t *q = c.p + i * VIGIL__PATCH * VIGIL__PATCH;
            if (q[(p->y1 + R) * VIGIL__PATCH + p->x1 + R] < q[(p->y2 + R) * VIGIL__PATCH + p->x2 + R]) {
                p->bits[i >> 6] |= 1ull << (i & 63);
                ones++;
            }
        }
        p->mean = (double)ones / c.n;
    }
    qsort(pool, POOL, sizeof *pool, cmp_cand);
    int chosen[256], nch = 0;
    double bound = 0.2;
    char *taken = calloc(POOL, 1);
    int hist[6] = {0};
    for (int k = 0; k < POOL; k++) hist[(int)(fabs(pool[k].mean - 0.5) * 10)]++;
    fprintf(stderr, "learn-pattern: pool |mean - 0.5| by tenths: %d %d %d %d %d %d\n", hist[0], hist[1], hist[2], hist[3], hist[4], hist[5]);
    double dev = 0.05; /* balance first: only pairs this near 1/2, widened with the bound */
    while (nch < 256) {
        for (int k = 0; k < POOL && nch < 256; k++) {
            if (taken[k]) continue;
            double ma = pool[k].mean;
            if (fabs(ma - 0.5) > dev) break;
            int ok = 1;
            for (int j = 0; j < nch && ok; j++) {
                const cand *b = &pool[chosen[j]];
                size_t both = 0;
                for (size_t w = 0; w < words; w++) both += (size_t)__builtin_popcountll(pool[k].bits[w] & b->bits[w]);
                double p11 = (double)both / c.n, mb = b->mean;
                double corr = (p11 - ma * mb) / sqrt(ma * (1 - ma) * mb * (1 - mb));
                ok = fabs(corr) < bound;
            }
            if (ok) { chosen[nch++] = k; taken[k] = 1; }
        }
        if (nch < 256) { bound += 0.025; dev += 0.025; }
    }
    double worst = 0;
    for (int j = 0; j < 256; j++) if (fabs(pool[chosen[j]].mean - 0.5) > worst) worst = fabs(pool[chosen[j]].mean - 0.5);
    fprintf(stderr, "learn-pattern: 256 of %d pairs, correlation bound %.2f, bit means within 0.5 +- %.3f\n", POOL, bound, worst);
    printf("/* feature_pattern.h - the descriptor's 256 comparisons (x1, y1, x2, y2; pattern coordinates,\n"
           " * -13..13, x along the keypoint's orientation). Generated by build/learn-pattern from %zu oriented\n"
           " * patches of %d photographs (datasets/public-photos.tsv): bit means within 0.5 +- %.3f, pairwise\n"
           " * correlation below %.2f. Changing it changes every descriptor: room indexes must be rebuilt. */\n",
           c.n, used, worst, bound);
    printf("static const int8_t pattern_base[256][4] = {\n");
    for (int j = 0; j < 256; j++) {
        const cand *p = &pool[chosen[j]];
        printf("%s{%d, %d, %d, %d},%s", j % 6 == 0 ? "    " : "", p->x1, p->y1, p->x2, p->y2, j % 6 == 5 || j == 255 ? "\n" : " ");
    }
    printf("};\n");
    return 0;
}
