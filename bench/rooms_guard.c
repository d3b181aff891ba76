/* rooms_guard.c - build/bench-rooms-guard, part of `make bench-check`: ratios measured in the same
 * run on the checked-in test data (no download), best of 5 alternating rounds, against floors.
 *   - room query through the index against brute force (every reference feature compared);
 *   - the FAST-9 row test, dispatched (AVX2) against the portable one.
 * Prints "guard NAME RATIO (floor F) ok|FAILED" lines; exit status 1 when one fails.
 *   bench-rooms-guard [DATA_DIR]   (default tests/data) */
#include "features_impl.h"
#include "internal.h"
#include "views.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define W 512
#define H 384

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint8_t *load(const char *path, uint32_t *w, uint32_t *h)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *b = malloc((size_t)n), *px = NULL;
    if (b && fread(b, 1, (size_t)n, f) == (size_t)n) vigil_decode_grey(b, (size_t)n, 4096, &px, w, h, NULL);
    fclose(f);
    free(b);
    return px;
}

static int guard(const char *name, double ratio, double floor)
{
    int ok = ratio >= floor;
    printf("guard %s %.2f (floor %.2f) %s\n", name, ratio, floor, ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : "tests/data";
    vigil_error e;
    if (vigil_init(&e)) return 2;
    static const char *const places[] = {"interior", "courtyard", "city"};
    uint8_t *pano[3];
    uint32_t pw[3], ph[3];
    for (int p = 0; p < 3; p++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/panoramas/blender-data__%s.jpg", data, places[p]);
        if (!(pano[p] = load(path, &pw[p], &ph[p]))) { fprintf(stderr, "%s: cannot load\n", path); return 2; }
    }
    /* references: 8 views of each place, 45 degrees apart (24 images, ~12,000 features) */
    vigil_rooms *rooms;
    vigil_rooms_new(&rooms, &e);
    uint8_t *v = malloc(W * H);
    for (int p = 0; p < 3; p++)
        for (int k = 0; k < 8; k++) {
            view_cam c;
            views_cam(&c, 45 * k, 0, 0, 70, W, H);
            views_render(pano[p], (int)pw[p], (int)ph[p], &c, v);
            vigil_features f;
            if (vigil_features_from_grey(v, W, H, W, NULL, &f, &e)) return 2;
            vigil_rooms_add(rooms, places[p], "", &f, &e);
            vigil_features_free(&f);
        }
    vigil_rooms_prepare(rooms, &e);
    /* queries: 6 views between the references */
    vigil_features q[6];
    uint8_t *qv[6];
    for (int i = 0; i < 6; i++) {
        view_cam c;
        views_cam(&c, 20 + 60 * i, 5, 3, 60, W, H);
        qv[i] = malloc(W * H);
        views_render(pano[i % 3], (int)pw[i % 3], (int)ph[i % 3], &c, qv[i]);
        vigil_features_from_grey(qv[i], W, H, W, NULL, &q[i], &e);
    }
    vigil_rooms_query_options o;
    vigil_rooms_query_options_init(&o);
    double best[2] = {1e9, 1e9};
    for (int round = 0; round < 5; round++)
        for (int ex = 0; ex < 2; ex++) {
            o.exhaustive = ex;
            double a = now();
            for (int i = 0; i < 6; i++) {
                vigil_rooms_match m[5];
                size_t nm;
                vigil_rooms_query(rooms, &q[i], &o, m, &nm, &e);
            }
            double t = now() - a;
            if (t < best[ex]) best[ex] = t;
        }
    int fail = guard("rooms_index_vs_brute_force", best[1] / best[0], 3.0);
    /* the FAST-9 row test, dispatched against portable, over whole images */
    vigil__fast_row_fn fast = vigil__fast_row_best();
    if (fast != vigil__fast_row_portable) {
        double tb[2] = {1e9, 1e9};
        uint8_t out[W];
        for (int round = 0; round < 5; round++)
            for (int port = 0; port < 2; port++) {
                vigil__fast_row_fn fn = port ? vigil__fast_row_portable : fast;
                double a = now();
                for (int rep = 0; rep < 10; rep++)
                    for (int i = 0; i < 6; i++)
                        for (int y = 3; y < H - 3; y++) fn(qv[i] + (size_t)y * W, W, 3, W - 3, 20, out);
                double t = now() - a;
                if (t < tb[port]) tb[port] = t;
            }
        fail |= guard("fast9_simd_vs_portable", tb[1] / tb[0], 4.0);
    } else printf("guard fast9_simd_vs_portable skipped: no SIMD FAST-9 test on this CPU\n");
    vigil_rooms_stats st;
    vigil_rooms_get_stats(rooms, &st);
    printf("rooms: %.2f ms a query through the index, %.2f ms brute force (%llu reference features)\n", best[0] / 6 * 1e3,
           best[1] / 6 * 1e3, (unsigned long long)st.features);
    return fail;
}
