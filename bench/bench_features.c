/* bench_features.c - local-feature extraction time on top of the decode, per image, best of N.
 *   bench-features [--rounds N] IMAGE...
 * Prints per image: megapixels, decode to the working size (shrink-on-load), extraction on it. */
#include "vigil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "load.h" /* libvigil's internal decoder (static library) */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    int rounds = 5, i = 1;
    if (argc > 2 && !strcmp(argv[1], "--rounds")) { rounds = atoi(argv[2]); i = 3; }
    vigil_error e;
    if (vigil_init(&e)) return 2;
    vigil_features_options o;
    vigil_features_options_init(&o);
    for (; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) { fprintf(stderr, "%s: cannot open\n", argv[i]); continue; }
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *data = malloc((size_t)n);
        if (fread(data, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(data); continue; }
        fclose(f);
        double best_dec = 1e9, best_feat = 1e9;
        uint32_t W = 0, H = 0, nf = 0;
        for (int r = 0; r < rounds; r++) {
            uint8_t *px;
            uint32_t w, h;
            int ch;
            double t0 = now();
            if (vigil__thumb_sized(data, (size_t)n, (int)o.work_side, 1ull << 28, &px, &w, &h, &ch, &W, &H, &e)) { fprintf(stderr, "%s: %s\n", argv[i], e.message); break; }
            if (ch == 3)
                for (size_t k = 0; k < (size_t)w * h; k++) px[k] = (uint8_t)((px[3 * k] * 299 + px[3 * k + 1] * 587 + px[3 * k + 2] * 114) / 1000);
            double t1 = now();
            vigil_features fs;
            if (vigil_features_from_grey(px, w, h, w, &o, &fs, &e)) { free(px); break; }
            double t2 = now();
            nf = fs.n;
            vigil_features_free(&fs);
            free(px);
            if (t1 - t0 < best_dec) best_dec = t1 - t0;
            if (t2 - t1 < best_feat) best_feat = t2 - t1;
        }
        printf("bench=features image=%s megapixels=%.1f features=%u decode_ms=%.1f extract_ms=%.1f\n", argv[i],
               W * (double)H / 1e6, nf, best_dec * 1e3, best_feat * 1e3);
        free(data);
    }
    return 0;
}
