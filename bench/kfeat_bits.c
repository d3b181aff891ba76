/* kfeat_bits.c - which descriptor bits a reframed copy keeps: the flip rate of each of the 256
 * bits over true correspondences between a photo and a copy of it at half size (the scale of a
 * photo in a collage of four, where whole 32-bit words survive least), for the keys of
 * core/kfeat_search.c (kfeat_keybits.h).
 *
 *   bench-kfeat-bits --photos DIR [--limit N] [--scale 0.5]
 *
 * Per photo: the reference preset's features of the photo, and the query preset's of the photo
 * shrunk by --scale into the top-left corner of a grey canvas of the original size. A reference
 * feature at (x, y) corresponds to the query feature nearest in descriptor among those within 1.5
 * pixels of (s x, s y), when nearer than 90 bits. Prints the bits by flip rate and the C table. */
#include "vigil.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static double flips[256];
static int cmp_bit(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return flips[x] < flips[y] ? -1 : flips[x] > flips[y] ? 1 : x - y;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int limit = 60;
    double sc = 0.5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--photos") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc) limit = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--scale") && i + 1 < argc) sc = atof(argv[++i]);
        else { fprintf(stderr, "usage: bench-kfeat-bits --photos DIR [--limit N] [--scale S]\n"); return 2; }
    }
    if (!dir || !(sc > 0.1 && sc <= 1)) { fprintf(stderr, "bench-kfeat-bits: --photos DIR, --scale in (0.1, 1]\n"); return 2; }
    vigil_error e;
    if (vigil_init(&e)) { fprintf(stderr, "%s\n", e.message); return 2; }
    DIR *d = opendir(dir);
    if (!d) { fprintf(stderr, "%s: cannot open\n", dir); return 2; }
    char **names = NULL;
    int nn = 0, cap = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.') continue;
        if (nn == cap) { cap = cap ? cap * 2 : 256; names = realloc(names, (size_t)cap * sizeof *names); }
        names[nn++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)nn, sizeof *names, cmp_name);
    unsigned long long pairs = 0, cnt[256] = {0};
    int used = 0;
    for (int i = 0; i < nn && used < limit; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        fseek(f, 0, SEEK_END);
        size_t len = (size_t)ftell(f);
        rewind(f);
        void *buf = malloc(len);
        if (fread(buf, 1, len, f) != len) len = 0;
        fclose(f);
        uint8_t *g;
        uint32_t w, h;
        if (!len || vigil_decode_grey(buf, len, 640, &g, &w, &h, &e)) { free(buf); continue; }
        free(buf);
        /* the copy: a box-filtered shrink into the top-left corner of a mid-grey canvas */
        uint8_t *c = malloc((size_t)w * h);
        memset(c, 128, (size_t)w * h);
        uint32_t cw = (uint32_t)(w * sc), ch = (uint32_t)(h * sc);
        for (uint32_t y = 0; y < ch; y++)
            for (uint32_t x = 0; x < cw; x++) {
                uint32_t x0 = (uint32_t)(x / sc), x1 = (uint32_t)((x + 1) / sc), y0 = (uint32_t)(y / sc), y1 = (uint32_t)((y + 1) / sc);
                if (x1 > w) x1 = w;
                if (y1 > h) y1 = h;
                unsigned s = 0, n = 0;
                for (uint32_t yy = y0; yy < y1; yy++)
                    for (uint32_t xx = x0; xx < x1; xx++) { s += g[(size_t)yy * w + xx]; n++; }
                c[(size_t)y * w + x] = (uint8_t)(n ? (s + n / 2) / n : 128);
            }
        vigil_features_options ro, qo;
        vigil_known_features_options_init(&ro);
        vigil_known_query_options_init(&qo);
        qo.mirrored = 0;
        vigil_features rf, qf;
        int ok = !vigil_features_from_grey(g, w, h, w, &ro, &rf, &e);
        if (ok && vigil_features_from_grey(c, w, h, w, &qo, &qf, &e)) { vigil_features_free(&rf); ok = 0; }
        vigil_free(g);
        free(c);
        if (!ok) continue;
        used++;
        for (uint32_t a = 0; a < rf.n; a++) {
            double ex = rf.kp[a].x * sc, ey = rf.kp[a].y * sc;
            int best = 91, bj = -1;
            for (uint32_t b = 0; b < qf.n; b++) {
                double dx = qf.kp[b].x - ex, dy = qf.kp[b].y - ey;
                if (dx * dx + dy * dy > 1.5 * 1.5) continue;
                int dd = vigil_pdq_distance(&rf.desc[a], &qf.desc[b]);
                if (dd < best) { best = dd; bj = (int)b; }
            }
            if (bj < 0) continue;
            pairs++;
            for (int k = 0; k < 256; k++) cnt[k] += (rf.desc[a].w[k >> 6] ^ qf.desc[bj].w[k >> 6]) >> (k & 63) & 1;
        }
        vigil_features_free(&rf);
        vigil_features_free(&qf);
    }
    if (!pairs) { fprintf(stderr, "bench-kfeat-bits: no correspondences\n"); return 2; }
    int order[256];
    double mean = 0;
    for (int k = 0; k < 256; k++) { flips[k] = (double)cnt[k] / (double)pairs; order[k] = k; mean += flips[k]; }
    qsort(order, 256, sizeof *order, cmp_bit);
    printf("%d photos, %llu correspondences at scale %.2f; mean flip rate %.3f, most stable %.3f, least %.3f\n", used, pairs, sc,
           mean / 256, flips[order[0]], flips[order[255]]);
    for (int t = 0; t < 8; t++) {
        double p = 1, q = 1;
        for (int k = 0; k < 32; k++) p *= 1 - flips[order[32 * t + k]];
        for (int k = 0; k < 32; k++) q *= 1 - flips[32 * t + k];
        printf("key %d: by stability, a whole 32-bit key survives %.4f; bits %d..%d in order, %.4f\n", t, p, 32 * t, 32 * t + 31, q);
    }
    printf("static const uint8_t kfeat_keybits[256] = {");
    for (int k = 0; k < 256; k++) printf("%s%d", k ? (k % 16 ? ", " : ",\n    ") : "\n    ", order[k]);
    printf("};\n");
    return 0;
}
