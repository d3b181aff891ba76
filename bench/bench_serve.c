/* bench_serve.c - the in-process side of `make bench-serve` (bench/serve.sh), on the very index
 * file and queries the HTTP side is driven with, so the two are compared within one run:
 *
 *   bench-serve gen N OUT.vgi QUERIES.txt NQ BATCH
 *       N hashes in bench-match's clustered distribution (clusters of 10, 0..20 bits around random
 *       centres), ids 1..N, saved as OUT.vgi; NQ queries (half 5..30 bits from a stored hash, half
 *       fresh) as hex lines, and QUERIES.txt.batch with the same queries as batch bodies of BATCH
 *   bench-serve inproc FILE.vgi QUERIES.txt THREADS SECONDS BATCH
 *       single lookups and BATCH-query searches on THREADS threads (one search per call, as a
 *       server thread makes), each for SECONDS: q_per_s */
#include "vigil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t seed = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}
static void rand_hash(vigil_pdq *h)
{
    for (int i = 0; i < 4; i++) h->w[i] = rnd();
}
static void flip(vigil_pdq *h, int bits)
{
    for (int i = 0; i < bits; i++) {
        unsigned b = (unsigned)(rnd() % 256);
        h->w[b / 64] ^= 1ull << (b % 64);
    }
}
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int gen(size_t n, const char *out, const char *qpath, size_t nq, size_t batch)
{
    vigil_index *idx;
    vigil_error e;
    vigil_pdq *h = malloc(n * sizeof *h), c = {{0}};
    if (!h || vigil_index_new("BENCH", &idx, &e)) return 2;
    for (size_t i = 0; i < n; i++) {
        if (i % 10 == 0) rand_hash(&c);
        h[i] = c;
        flip(&h[i], (int)(rnd() % 21));
        char id[24];
        snprintf(id, sizeof id, "%zu", i + 1);
        if (vigil_index_add(idx, &h[i], 100, id, NULL, &e)) { fprintf(stderr, "%s\n", e.message); return 2; }
    }
    if (vigil_index_compact(idx, &e) || vigil_index_save(idx, out, &e)) { fprintf(stderr, "%s\n", e.message); return 2; }
    vigil_index_free(idx);
    FILE *q = fopen(qpath, "w");
    char bp[4096];
    snprintf(bp, sizeof bp, "%s.batch", qpath);
    FILE *b = fopen(bp, "w");
    if (!q || !b) return 2;
    for (size_t i = 0; i < nq; i++) {
        vigil_pdq x;
        if (i % 2 == 0) { x = h[rnd() % n]; flip(&x, 5 + (int)(rnd() % 26)); }
        else rand_hash(&x);
        char hex[65];
        vigil_pdq_to_hex(&x, hex);
        fprintf(q, "%s\n", hex);
        /* one batch body per line: {"signals":[...]} */
        if (i % batch == 0) fprintf(b, "{\"signals\":[");
        fprintf(b, "%s\"%s\"", i % batch ? "," : "", hex);
        if (i % batch == batch - 1 || i == nq - 1) fprintf(b, "]}\n");
    }
    fclose(q);
    fclose(b);
    free(h);
    return 0;
}

typedef struct job {
    const vigil_index *idx;
    const vigil_pdq *q;
    size_t nq, batch;
    double seconds;
    atomic_ullong *done;
} job;

static void *worker(void *p)
{
    job *j = p;
    vigil_index_search_options o;
    vigil_index_search_options_init(&o);
    o.threads = 1;
    double end = now() + j->seconds;
    size_t k = (size_t)(rnd() % j->nq);
    unsigned long long n = 0;
    while (now() < end) {
        size_t b = j->batch;
        if (k + b > j->nq) k = 0;
        vigil_index_match *m;
        size_t nm;
        vigil_error e;
        vigil_index_search(j->idx, j->q + k, b, 1, &o, &m, &nm, &e);
        vigil_free(m);
        k += b;
        n += b;
    }
    atomic_fetch_add(j->done, n);
    return NULL;
}

static double run(const vigil_index *idx, const vigil_pdq *q, size_t nq, int threads, double seconds, size_t batch)
{
    pthread_t t[64];
    atomic_ullong done = 0;
    job j = {idx, q, nq, batch, seconds, &done};
    double t0 = now();
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, worker, &j);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    return (double)atomic_load(&done) / (now() - t0);
}

int main(int argc, char **argv)
{
    if (argc == 7 && !strcmp(argv[1], "gen"))
        return gen(strtoull(argv[2], NULL, 10), argv[3], argv[4], strtoull(argv[5], NULL, 10), strtoull(argv[6], NULL, 10));
    if (argc == 7 && !strcmp(argv[1], "inproc")) {
        vigil_index *idx;
        vigil_error e;
        if (vigil_index_open(argv[2], &idx, &e)) { fprintf(stderr, "%s: %s\n", argv[2], e.message); return 2; }
        FILE *f = fopen(argv[3], "r");
        size_t cap = 1024, nq = 0;
        vigil_pdq *q = malloc(cap * sizeof *q);
        char line[128];
        while (f && fgets(line, sizeof line, f)) {
            if (nq == cap) q = realloc(q, (cap *= 2) * sizeof *q);
            if (!vigil_pdq_from_hex(line, 64, &q[nq])) nq++;
        }
        if (f) fclose(f);
        int threads = atoi(argv[4]);
        double secs = atof(argv[5]);
        size_t batch = strtoull(argv[6], NULL, 10);
        printf("bench=inproc_single threads=%d q_per_s=%.1f\n", threads, run(idx, q, nq, threads, secs, 1));
        printf("bench=inproc_batch threads=%d batch=%zu q_per_s=%.1f\n", threads, batch, run(idx, q, nq, threads, secs, batch));
        vigil_index_free(idx);
        free(q);
        return 0;
    }
    fprintf(stderr, "usage: bench-serve gen N OUT.vgi QUERIES.txt NQ BATCH | inproc FILE.vgi QUERIES.txt THREADS SECONDS BATCH\n");
    return 2;
}
