/* bench_hash.c - in-process throughput of vigil's hashing: files/s and MB/s per mode and thread
 * count, plus the PDQ step alone on a 512x512 luma plane. One parseable line per result:
 *   bench=<name> threads=<n> images=<n> seconds=<best> images_per_s=<x> mb_per_s=<y>
 * Each configuration runs `rounds` times over all files; the best round is kept (zstd fullbench). */
#include "../core/pdq.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct { void *data; size_t size; char *path; } file;

static int load_file(const char *path, file *f)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->data = malloc((size_t)n);
    f->size = fread(f->data, 1, (size_t)n, fp);
    f->path = strdup(path);
    fclose(fp);
    return 0;
}

static volatile uint64_t sink;

/* Hashes all files (from disk, as the CLI does: read + digests + decode + PDQ). */
static double run_files(file *fs, int n, uint32_t flags, int threads)
{
    vigil_hash_options opt;
    vigil_hash_options_init(&opt);
    opt.flags = flags;
    uint64_t acc = 0;
    double t0 = now();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) reduction(^ : acc)
    for (int i = 0; i < n; i++) {
        vigil_hash_result r;
        vigil_error e;
        if (vigil_hash_file(fs[i].path, &opt, &r, &e) == VIGIL_OK) acc ^= r.pdq.w[0];
    }
    double t = now() - t0;
    sink ^= acc;
    return t;
}

int main(int argc, char **argv)
{
    int rounds = 3;
    const char *label = "files";
    int a = 1;
    for (; a < argc && argv[a][0] == '-'; a++) {
        if (!strcmp(argv[a], "--rounds") && a + 1 < argc) rounds = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--label") && a + 1 < argc) label = argv[++a];
    }
    vigil_error err;
    if (vigil_init(&err)) { fprintf(stderr, "%s\n", err.message); return 2; }

    /* The PDQ step alone: 512x512 luma -> 256 bits + quality (and with the dihedral set). */
    {
        float *plane = malloc(512 * 512 * sizeof *plane), *work = malloc(512 * 512 * sizeof *work);
        uint32_t s = 12345;
        for (int i = 0; i < 512 * 512; i++) { s = s * 1664525u + 1013904223u; plane[i] = (float)(s >> 24); }
        for (int dih = 0; dih < 2; dih++) {
            double best = 1e9;
            for (int r = 0; r < 30; r++) {
                int iters = 50;
                double t0 = now();
                for (int k = 0; k < iters; k++) {
                    vigil_pdq h, d[8];
                    int q;
                    vigil__pdq_from_luma(plane, 512, 512, &h, &q, dih ? d : NULL);
                    sink ^= h.w[0] + (uint64_t)q;
                }
                double per = (now() - t0) / iters;
                if (per < best) best = per;
            }
            printf("bench=pdq_step%s plane=512x512 ms_per_hash=%.4f\n", dih ? "_dihedral" : "", best * 1e3);
        }
        free(plane);
        free(work);
    }

    int n = argc - a;
    if (n <= 0) return 0;
    file *fs = calloc((size_t)n, sizeof *fs);
    double mb = 0;
    for (int i = 0; i < n; i++) {
        if (load_file(argv[a + i], &fs[i])) { fprintf(stderr, "cannot read %s\n", argv[a + i]); return 2; }
        mb += fs[i].size / 1e6;
    }
    /* Largest first: with dynamic scheduling this keeps one big file from finishing alone on one
     * thread at the end of a round (the CLI's batches are large enough not to care). */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && fs[j].size > fs[j - 1].size; j--) { file t = fs[j]; fs[j] = fs[j - 1]; fs[j - 1] = t; }
    struct { const char *name; uint32_t flags; } modes[] = {
        {"fast", VIGIL_HASH_NO_DIGESTS},
        {"fast+digests", 0},
        {"exact", VIGIL_HASH_EXACT | VIGIL_HASH_NO_DIGESTS},
    };
    int maxthreads = omp_get_num_procs() < 2 ? 1 : 2;
    run_files(fs, n < 4 ? n : 4, 0, 1); /* warm the page cache and libvips */
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++)
        for (int th = 1; th <= maxthreads; th++) {
            double best = 1e9;
            for (int r = 0; r < rounds; r++) {
                double t = run_files(fs, n, modes[m].flags, th);
                if (t < best) best = t;
            }
            printf("bench=hash_%s set=%s threads=%d images=%d seconds=%.4f images_per_s=%.2f mb_per_s=%.2f\n",
                   modes[m].name, label, th, n, best, n / best, mb / best);
            fflush(stdout);
        }
    return 0;
}
