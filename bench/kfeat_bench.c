/* kfeat_bench.c - speed and memory of a known-image set with local features (core/kfeat.c).
 *
 *   bench-kfeat --photos DIR --refs N[,N...] [--real 100] [--queries 20] [--save-pdq F.vgi --save-feat F.vgi]
 *
 * References: the features of up to --real photos of DIR (the reference preset, 256 each), then
 * synthetic ones up to N: a real photo's features with 64 of each descriptor's 256 bits flipped at
 * random and the positions moved (--synth flip, the default), so that the tables fill with
 * descriptors that keep the real ones' bit balance but belong to no photo (no 100,000 distinct
 * photos are at hand). --synth distinct flips the same bits but puts each point at random in the
 * image, so that a synthetic reference is another photo, as a real set's references are: with
 * flip, every real photo's thousand moved near-copies pass verification, and each query matched
 * 6 or 7 of them (bench/results/kfeat.md). Flipped bits almost never leave a 24-bit word whole, so for the long keys
 * of core/kfeat_search.c this flatters the chance candidates: --collisions counts those on the
 * real photos instead (how often a query feature shares a whole key with a feature of another
 * photo), to be scaled to N. --synth words takes each 32-bit word from a random real feature:
 * every real word then sits in the tables N / --real times over, a set of near-copies, which
 * turns them into stop words. Queries: the first --queries
 * photos cropped by 30 % of their area, off-centre, with the query preset (1000 features and their
 * mirrored twins), timed one at a time on one thread. Per N: build and prepare time, memory of the
 * set (library stats and the process's RSS growth), query time (median, 95th percentile, max), and
 * how many queries found their photo. --save-* write the largest set as .vgi, with and without
 * features (the same PDQ part: the real photos' hashes and random ones), for bench/kfeat.sh's scan;
 * --open F times the queries on such a saved set instead (its open as the build), the photos being
 * the same. */
#include "vigil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double rss_mb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) { if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0; fclose(f); }
    return res * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

static uint64_t rs = 88172645463325252ull;
static uint64_t rnd(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return rs; }

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int cmp_u64(const void *a, const void *b) { uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b; return (x > y) - (x < y); }

/* Descriptor bits 24 t .. 24 t + 23: table t's key in core/kfeat_search.c (10 tables) */
static uint64_t word24(const vigil_pdq *d, int t)
{
    unsigned at = (unsigned)t * 24, w = at >> 6, b = at & 63;
    uint64_t v = d->w[w] >> b;
    if (b + 24 > 64 && w < 3) v |= d->w[w + 1] << (64 - b);
    return v & 0xffffff;
}

/* How often a query feature shares a whole 24-bit descriptor word (one table's key in
 * core/kfeat_search.c) with a feature of a different real photo: the chance candidates a lookup
 * finds, per reference feature, so that they can be scaled to a set of any size. */
static void collisions(const vigil_features *real, int nr, const vigil_features *q, const int *qref, int nq)
{
    uint64_t nf = 0, hits = 0, looks = 0, byf[4] = {0}; /* hits by the word's count in the set: 1, 2-9, 10-99, 100+ */
    for (int i = 0; i < nr; i++) nf += real[i].n;
    uint64_t *keys = malloc(nf * sizeof *keys);
    for (int t = 0; t < 10; t++) {
        uint64_t k = 0;
        for (int i = 0; i < nr; i++)
            for (uint32_t j = 0; j < real[i].n; j++) keys[k++] = word24(&real[i].desc[j], t) << 20 | (uint64_t)i;
        qsort(keys, nf, sizeof *keys, cmp_u64);
        for (int a = 0; a < nq; a++)
            for (uint32_t j = 0; j < q[a].n; j++) {
                uint64_t w = word24(&q[a].desc[j], t), lo = 0, hi = nf;
                while (lo < hi) { uint64_t mid = (lo + hi) / 2; if (keys[mid] >> 20 < w) lo = mid + 1; else hi = mid; }
                uint64_t m = lo, h0 = hits;
                for (; m < nf && keys[m] >> 20 == w; m++) hits += (int)(keys[m] & 0xfffff) != qref[a];
                uint64_t c = m - lo;
                byf[c < 2 ? 0 : c < 10 ? 1 : c < 100 ? 2 : 3] += hits - h0;
                looks++;
            }
    }
    double rate = (double)hits / (double)looks / (double)nf;
    printf("chance candidates: %llu of %llu lookups (10 tables) found a feature of another of the %d real photos sharing the "
           "whole 24-bit word: %.3g per lookup per reference feature; at 100,000 references of 256 features, %.1f per lookup, "
           "%.0f per query of 2000 features, before stop words\n\n", (unsigned long long)hits, (unsigned long long)looks, nr, rate,
           rate * 25.6e6, rate * 25.6e6 * 10 * 2000);
    printf("by the word's count among the %llu reference features: 1: %llu, 2-9: %llu, 10-99: %llu, 100 or more: %llu\n\n",
           (unsigned long long)nf, (unsigned long long)byf[0], (unsigned long long)byf[1], (unsigned long long)byf[2], (unsigned long long)byf[3]);
    free(keys);
}

static int cmp_d(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv)
{
    const char *dir = NULL, *save_pdq = NULL, *save_feat = NULL, *open_path = NULL;
    char *refs_arg = "100000";
    int nreal = 100, nq = 20, words = 0, coll = 0, distinct = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--photos") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--refs") && i + 1 < argc) refs_arg = argv[++i];
        else if (!strcmp(argv[i], "--real") && i + 1 < argc) nreal = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--queries") && i + 1 < argc) nq = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--collisions")) coll = 1;
        else if (!strcmp(argv[i], "--synth") && i + 1 < argc) {
            ++i;
            words = !strcmp(argv[i], "words");
            distinct = !strcmp(argv[i], "distinct");
        }
        else if (!strcmp(argv[i], "--save-pdq") && i + 1 < argc) save_pdq = argv[++i];
        else if (!strcmp(argv[i], "--save-feat") && i + 1 < argc) save_feat = argv[++i];
        else if (!strcmp(argv[i], "--open") && i + 1 < argc) open_path = argv[++i];
        else { fprintf(stderr, "usage: bench-kfeat --photos DIR --refs N[,N...] [--real N] [--queries N] [--synth flip|distinct|words] [--collisions] [--save-pdq F --save-feat F] [--open F]\n"); return 2; }
    }
    if (!dir) { fprintf(stderr, "bench-kfeat: --photos DIR\n"); return 2; }
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
    /* the real references and the queries */
    vigil_features *real = calloc((size_t)nreal, sizeof *real), *q = calloc((size_t)nq, sizeof *q);
    vigil_hash_result *hr = calloc((size_t)nreal, sizeof *hr);
    char **realname = calloc((size_t)nreal, sizeof *realname);
    int nr = 0, nqok = 0;
    int *qref = calloc((size_t)nq, sizeof *qref);
    for (int i = 0; i < nn && nr < nreal; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        vigil_features_options fo;
        vigil_known_features_options_init(&fo);
        if (vigil_hash_file_features(path, NULL, &fo, &hr[nr], &real[nr], NULL, &e) || real[nr].n < 32) { vigil_features_free(&real[nr]); continue; }
        realname[nr] = names[i];
        if (nqok < nq) { /* the query: 30 % of the area cut, mostly from the left and top */
            size_t len;
            FILE *f = fopen(path, "rb");
            fseek(f, 0, SEEK_END);
            len = (size_t)ftell(f);
            rewind(f);
            void *buf = malloc(len);
            if (fread(buf, 1, len, f) != len) len = 0;
            fclose(f);
            uint8_t *g;
            uint32_t w, h;
            if (len && !vigil_decode_grey(buf, len, 1024, &g, &w, &h, &e)) {
                uint32_t cw = (uint32_t)(w * 0.84), ch = (uint32_t)(h * 0.84);
                vigil_features_options qo;
                vigil_known_query_options_init(&qo);
                if (!vigil_features_from_grey(g + (size_t)(h - ch) * w + (w - cw), cw, ch, w, &qo, &q[nqok], &e)) qref[nqok++] = nr;
                vigil_free(g);
            }
            free(buf);
        }
        nr++;
    }
    if (!nr || !nqok) { fprintf(stderr, "bench-kfeat: no usable photos in %s\n", dir); return 2; }
    printf("real references: %d photos of %s; queries: %d of them cropped by 30 %% of the area, off-centre; synthetic "
           "references: %s\n", nr, dir, nqok,
           words ? "words of random real features" : distinct ? "64 bits flipped, at random positions" : "64 bits flipped, moved");
    if (coll) collisions(real, nr, q, qref, nqok);
    printf("| references | features | build + prepare s | set bytes per reference | RSS growth MB | query median ms | p95 ms | max ms | found |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    vigil_keypoint *kp = malloc(65536 * sizeof *kp);
    vigil_pdq *desc = malloc(65536 * sizeof *desc);
    char *arg = strdup(refs_arg);
    long last = 0;
    for (char *tok = strtok(arg, ","); tok; tok = strtok(NULL, ",")) {
        long N = atol(tok);
        if (N < nr) N = nr;
        last = N;
        double r0 = rss_mb(), t0 = now();
        vigil_index *x;
        if (open_path) { /* a set --save-feat wrote: opening it is the build */
            if (vigil_index_open(open_path, &x, &e)) { fprintf(stderr, "%s: %s\n", open_path, e.message); return 2; }
            vigil_index_features_stats os;
            vigil_index_get_features_stats(x, &os);
            N = (long)os.refs;
        } else vigil_index_new("bench", &x, NULL);
        rs = 88172645463325252ull;
        for (long i = 0; i < N && !open_path; i++) {
            char id[32];
            snprintf(id, sizeof id, "ref-%ld", i);
            const vigil_features *src = &real[i % nr];
            vigil_pdq h;
            if (i < nr) h = hr[i].pdq;
            else for (int w = 0; w < 4; w++) h.w[w] = rnd();
            vigil_index_add(x, &h, 90, id, NULL, NULL);
            if (i < nr) { vigil_index_add_features(x, realname[i], NULL, src, &e); continue; }
            vigil_features f = *src;
            f.kp = kp;
            f.desc = desc;
            float dx = (float)(rnd() % 200), dy = (float)(rnd() % 200);
            for (uint32_t k = 0; k < f.n; k++) {
                kp[k] = src->kp[k];
                kp[k].x = (kp[k].x + dx) * 0.8f;
                kp[k].y = (kp[k].y + dy) * 0.8f;
                if (distinct) { /* another photo: no map takes the real one's points to these */
                    kp[k].x = (float)(rnd() % (f.width ? f.width : 1));
                    kp[k].y = (float)(rnd() % (f.height ? f.height : 1));
                }
                desc[k] = src->desc[k];
                if (words)
                    for (int w = 0; w < 8; w++) {
                        const vigil_features *o = &real[rnd() % (uint64_t)nr];
                        uint64_t word = o->desc[rnd() % o->n].w[w >> 1] >> (32 * (w & 1)) & 0xffffffffull;
                        desc[k].w[w >> 1] = (desc[k].w[w >> 1] & ~(0xffffffffull << (32 * (w & 1)))) | word << (32 * (w & 1));
                    }
                else
                    for (int b = 0; b < 64; b++) { unsigned bit = (unsigned)(rnd() & 255); desc[k].w[bit >> 6] ^= 1ull << (bit & 63); }
            }
            if (vigil_index_add_features(x, id, NULL, &f, &e)) { fprintf(stderr, "add: %s\n", e.message); return 2; }
        }
        if (!open_path) vigil_index_compact(x, NULL);
        /* the first query prepares the tables: part of the build, not of a query */
        vigil_index_features_match m[5];
        size_t nm;
        vigil_index_match_features(x, &q[0], NULL, m, &nm, NULL);
        double tb = now() - t0, r1 = rss_mb();
        vigil_index_features_stats st;
        vigil_index_get_features_stats(x, &st);
        double *qt = malloc((size_t)nqok * 3 * sizeof *qt);
        int found = 0, nt = 0;
        for (int rep = 0; rep < 3; rep++)
            for (int i = 0; i < nqok; i++) {
                double a = now();
                vigil_index_match_features(x, &q[i], NULL, m, &nm, NULL);
                qt[nt++] = (now() - a) * 1e3;
                if (rep == 0 && nm && m[0].ref == (uint64_t)qref[i]) found++;
            }
        qsort(qt, (size_t)nt, sizeof *qt, cmp_d);
        printf("| %ld | %llu | %.1f | %.0f | %.0f | %.1f | %.1f | %.1f | %d of %d |\n", N, (unsigned long long)st.features, tb,
               (double)st.bytes / (double)N, r1 - r0, qt[nt / 2], qt[(nt * 95) / 100 < nt ? (nt * 95) / 100 : nt - 1], qt[nt - 1], found, nqok);
        fflush(stdout);
        free(qt);
        int is_last = !strchr(refs_arg, ',') || tok + strlen(tok) == arg + strlen(refs_arg);
        if (is_last && save_feat && save_pdq) {
            double s0 = now();
            if (vigil_index_save(x, save_feat, &e)) { fprintf(stderr, "%s: %s\n", save_feat, e.message); return 2; }
            printf("\nsaved %s (%ld references with features) in %.1f s\n", save_feat, N, now() - s0);
            vigil_index *p;
            vigil_index_new("bench", &p, NULL);
            for (long i = 0; i < N; i++) {
                vigil_pdq h;
                const char *id;
                int qq;
                if (vigil_index_entry(x, (uint64_t)i, &h, &qq, &id, NULL) == VIGIL_OK) vigil_index_add(p, &h, qq, id, NULL, NULL);
            }
            vigil_index_compact(p, NULL);
            vigil_index_save(p, save_pdq, &e);
            vigil_index_free(p);
        }
        vigil_index_free(x);
    }
    (void)last;
    return 0;
}
