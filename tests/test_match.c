/* test_match.c - the matching engine: every kernel level against the portable one, the index
 * against brute force (100 % recall), incremental changes, the file format under damage, and the
 * hash-list parser. */
#include "tests.h"
#include "../core/cpu.h"
#include "../core/hamming.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void rand_hash(vigil_pdq *h)
{
    for (int k = 0; k < 4; k++) h->w[k] = t_rand();
}

static void flip_bits(vigil_pdq *h, int n)
{
    for (int f = 0; f < n;) {
        int b = (int)(t_rand() % 256);
        uint64_t m = 1ull << (b & 63);
        /* distinct bits, so the distance is exactly n */
        static vigil_pdq seen;
        if (f == 0) memset(&seen, 0, sizeof seen);
        if (seen.w[b >> 6] & m) continue;
        seen.w[b >> 6] |= m;
        h->w[b >> 6] ^= m;
        f++;
    }
}

static int cmp_hit(const void *a, const void *b)
{
    const vigil__hit *x = a, *y = b;
    if (x->ref != y->ref) return x->ref < y->ref ? -1 : 1;
    if (x->query != y->query) return x->query - y->query;
    return x->dist - y->dist;
}

void test_kernels_match_portable(void)
{
    static const char *levels[] = {"popcnt", "avx2", "avx512"};
    const vigil__kernels *ref = &vigil__kernels_portable;
    unsigned present = vigil__cpu_features_present();
    for (int l = 0; l < 3; l++) {
        const vigil__kernels *k = vigil__kernels_named(levels[l]);
        if (!k) {
            printf("    SKIPPED %s: %s\n", levels[l],
                   (present & (l == 0 ? VIGIL_CPU_POPCNT : l == 1 ? VIGIL_CPU_AVX2 : VIGIL_CPU_AVX512))
                       ? "switched off by VIGIL_DISABLE_CPU_FEATURES" : "this CPU lacks it; NOT TESTED HERE");
            continue;
        }
        int checked = 0;
        for (int round = 0; round < 300; round++) {
            size_t nq = 1 + t_rand() % 9, n = t_rand() % 300;
            /* unaligned buffers: hashes start at a random byte offset */
            uint8_t *qb = malloc(nq * 32 + 32), *rb = malloc(n * 32 + 32);
            vigil_pdq *q = (vigil_pdq *)(qb + t_rand() % 32), *r = (vigil_pdq *)(rb + t_rand() % 32);
            for (size_t i = 0; i < nq; i++) {
                vigil_pdq h;
                int kind = (int)(t_rand() % 4);
                if (kind == 0) memset(&h, 0, sizeof h);
                else if (kind == 1) memset(&h, 0xff, sizeof h);
                else rand_hash(&h);
                memcpy(&q[i], &h, sizeof h);
            }
            for (size_t j = 0; j < n; j++) {
                vigil_pdq h;
                int kind = (int)(t_rand() % 5);
                memcpy(&h, &q[t_rand() % nq], sizeof h);
                if (kind == 0) { /* identical: distance 0 */ }
                else if (kind == 1) { for (int w = 0; w < 4; w++) h.w[w] = ~h.w[w]; } /* distance 256 */
                else if (kind == 2) flip_bits(&h, (int)(t_rand() % 64));
                else rand_hash(&h);
                memcpy(&r[j], &h, sizeof h);
            }
            static const int radii[] = {0, 1, 31, 32, 100, 255, 256};
            int radius = radii[t_rand() % 7];
            uint32_t *slots = NULL;
            size_t ns = n;
            if (round % 3 == 0 && n) { /* gathered references, with repeats */
                ns = t_rand() % (2 * n);
                slots = malloc((ns ? ns : 1) * sizeof *slots);
                for (size_t s = 0; s < ns; s++) slots[s] = (uint32_t)(t_rand() % n);
            }
            vigil__hit *a = malloc((nq * ns + 1) * sizeof *a), *b = malloc((nq * ns + 1) * sizeof *b);
            size_t na = ref->radius(q, nq, r, slots, ns, radius, a), nb = k->radius(q, nq, r, slots, ns, radius, b);
            qsort(a, na, sizeof *a, cmp_hit);
            qsort(b, nb, sizeof *b, cmp_hit);
            CHECK(na == nb && !memcmp(a, b, na * sizeof *a), "%s radius: %zu vs %zu hits (nq %zu, n %zu, r %d)",
                  levels[l], nb, na, nq, ns, radius);
            uint16_t *da = malloc((n + 1) * 2), *db = malloc((n + 1) * 2);
            ref->dist(q, r, n, da);
            k->dist(q, r, n, db);
            CHECK(!memcmp(da, db, n * 2), "%s dist differs (n %zu)", levels[l], n);
            free(da); free(db); free(a); free(b); free(slots); free(qb); free(rb);
            checked++;
        }
        printf("    %s: %d random rounds agree with portable\n", levels[l], checked);
    }
}

void test_dispatch_honours_env(void)
{
    const char *env = getenv("VIGIL_DISABLE_CPU_FEATURES");
    unsigned f = vigil__cpu_features(), present = vigil__cpu_features_present();
    const char *want = (f & VIGIL_CPU_AVX512) ? "avx512" : (f & VIGIL_CPU_AVX2) ? "avx2" : (f & VIGIL_CPU_POPCNT) ? "popcnt" : "portable";
    const char *got = vigil__kernels_best()->name;
    printf("    cpu: %s%s%s; VIGIL_DISABLE_CPU_FEATURES=%s; dispatched: %s\n", present & VIGIL_CPU_POPCNT ? "popcnt " : "",
           present & VIGIL_CPU_AVX2 ? "avx2 " : "", present & VIGIL_CPU_AVX512 ? "avx512" : "(no avx512)", env ? env : "(unset)", got);
    CHECK(!strcmp(got, want), "dispatched %s, expected %s", got, want);
    if (env && strstr(env, "avx2")) CHECK(!(f & (VIGIL_CPU_AVX2 | VIGIL_CPU_AVX512)), "avx2 still on");
    if (env && strstr(env, "all")) CHECK(!strcmp(got, "portable"), "not portable with all off");
}

/* Near-duplicate clusters: centres with 0..20 bits flipped; queries half near a stored hash (5..30
 * bits away), half fresh. */
static vigil_pdq *make_set(size_t n, size_t cluster)
{
    vigil_pdq *h = malloc(n * sizeof *h), c;
    for (size_t i = 0; i < n; i++) {
        if (i % cluster == 0) rand_hash(&c);
        h[i] = c;
        flip_bits(&h[i], (int)(t_rand() % 21));
    }
    return h;
}

typedef struct bm { uint32_t q; uint64_t e; int d; } bm;
static int cmp_bm(const void *a, const void *b)
{
    const bm *x = a, *y = b;
    if (x->q != y->q) return x->q < y->q ? -1 : 1;
    if (x->d != y->d) return x->d - y->d;
    return x->e < y->e ? -1 : x->e > y->e;
}

/* Brute force with the portable distance: the definition of the right answer. */
static bm *brute(const vigil_index *idx, const vigil_pdq *q, size_t nq, int variants, int radius, size_t *nout)
{
    vigil_index_stats st;
    vigil_index_get_stats(idx, &st);
    size_t cap = 1024, n = 0;
    bm *out = malloc(cap * sizeof *out);
    for (uint64_t e = 0; e < st.indexed + st.unsorted; e++) {
        vigil_pdq h;
        if (vigil_index_entry(idx, e, &h, NULL, NULL, NULL)) continue;
        for (size_t g = 0; g < nq; g++) {
            int best = 999;
            for (int v = 0; v < variants; v++) {
                int d = vigil_pdq_distance(&q[g * variants + v], &h);
                if (d < best) best = d;
            }
            if (best <= radius) {
                if (n == cap) out = realloc(out, (cap *= 2) * sizeof *out);
                out[n++] = (bm){(uint32_t)g, e, best};
            }
        }
    }
    qsort(out, n, sizeof *out, cmp_bm);
    *nout = n;
    return out;
}

static int same_results(const vigil_index_match *m, size_t nm, const bm *b, size_t nb, const char *what)
{
    size_t miss = 0, extra = 0, i = 0, j = 0;
    while (i < nm || j < nb) {
        if (j == nb) { extra++; i++; continue; }
        if (i == nm) { miss++; j++; continue; }
        bm x = {m[i].query, m[i].entry, m[i].distance};
        int c = cmp_bm(&x, &b[j]);
        if (c == 0) { i++; j++; }
        else if (c < 0) { extra++; i++; }
        else { miss++; j++; }
    }
    CHECK(miss == 0 && extra == 0, "%s: %zu missed, %zu wrong of %zu true matches", what, miss, extra, nb);
    return miss == 0 && extra == 0;
}

static int same_matches(const vigil_index_match *a, const vigil_index_match *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].query != b[i].query || a[i].entry != b[i].entry || a[i].distance != b[i].distance ||
            a[i].transform != b[i].transform)
            return 0;
    return 1;
}

static vigil_index *build(const vigil_pdq *h, size_t n, const char *set)
{
    vigil_index *idx;
    vigil_error e;
    vigil_index_new(set, &idx, &e);
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "ref%zu", i);
        vigil_index_add(idx, &h[i], 100, id, i % 2 ? "series=a" : NULL, &e);
    }
    CHECK(vigil_index_compact(idx, &e) == VIGIL_OK, "compact: %s", e.message);
    return idx;
}

static vigil_pdq *make_queries(const vigil_pdq *set, size_t n, size_t nq, int variants)
{
    vigil_pdq *q = malloc(nq * variants * sizeof *q);
    for (size_t g = 0; g < nq; g++)
        for (int v = 0; v < variants; v++) {
            vigil_pdq *h = &q[g * variants + v];
            if ((g + v) % 2 == 0) { *h = set[t_rand() % n]; flip_bits(h, 5 + (int)(t_rand() % 26)); }
            else rand_hash(h);
        }
    return q;
}

void test_index_recall_vs_brute_force(void)
{
    size_t n = 60000; /* above MIH_MIN_ENTRIES, so the tables are built */
    vigil_pdq *set = make_set(n, 10);
    vigil_index *idx = build(set, n, "victims");
    static const int radii[] = {31, 24, 0, 40, 47, 60};
    for (int variants = 1; variants <= 8; variants += 7)
        for (size_t r = 0; r < sizeof radii / sizeof radii[0]; r++) {
            size_t nq = 60;
            vigil_pdq *q = make_queries(set, n, nq, variants);
            size_t nb;
            bm *want = brute(idx, q, nq, variants, radii[r], &nb);
            for (int method = 1; method <= 2; method++) {
                vigil_index_search_options o;
                vigil_index_search_options_init(&o);
                o.radius = radii[r];
                o.method = method;
                vigil_index_match *m;
                size_t nm;
                vigil_error e;
                CHECK(vigil_index_search(idx, q, nq, variants, &o, &m, &nm, &e) == VIGIL_OK, "search: %s", e.message);
                char what[96];
                snprintf(what, sizeof what, "%s, radius %d, %d variant(s)", method == 1 ? "scan" : "index", radii[r], variants);
                same_results(m, nm, want, nb, what);
                if (r == 0 && method == 2) printf("    radius 31, %d variant(s): %zu true matches over %zu queries, all found\n", variants, nb, nq);
                free(m);
            }
            free(want);
            free(q);
        }
    /* top-k: the k nearest, in order */
    vigil_pdq *q = make_queries(set, n, 20, 1);
    vigil_index_search_options o;
    vigil_index_search_options_init(&o);
    o.radius = 256;
    o.top_k = 3;
    vigil_index_match *m;
    size_t nm, nb;
    vigil_error e;
    CHECK(vigil_index_search(idx, q, 20, 1, &o, &m, &nm, &e) == VIGIL_OK, "top-k");
    bm *all = brute(idx, q, 20, 1, 256, &nb);
    CHECK(nm == 60, "top-3 of 20 queries gave %zu", nm);
    for (size_t i = 0; i < nm && i < 60; i++) {
        size_t j = 0;
        while (j < nb && all[j].q != m[i].query) j++;
        CHECK(m[i].distance == all[j + i % 3].d, "top-k rank %zu: %d vs %d", i % 3, m[i].distance, all[j + i % 3].d);
    }
    free(m); free(all); free(q);
    vigil_index_free(idx);
    free(set);
}

void test_index_incremental(void)
{
    size_t n = 40000;
    vigil_pdq *set = make_set(n + 500, 5);
    vigil_index *idx = build(set, n, "hotels");
    vigil_error e;
    for (size_t i = n; i < n + 500; i++) { /* unsorted segment */
        char id[32];
        snprintf(id, sizeof id, "ref%zu", i);
        CHECK(vigil_index_add(idx, &set[i], 90, id, "hotel_id=7 room=12", &e) == VIGIL_OK, "add");
    }
    size_t removed;
    CHECK(vigil_index_remove(idx, "ref3", &removed, &e) == VIGIL_OK && removed == 1, "remove base");
    CHECK(vigil_index_remove(idx, "ref40007", &removed, &e) == VIGIL_OK && removed == 1, "remove delta");
    CHECK(vigil_index_remove(idx, "nope", &removed, &e) == VIGIL_OK && removed == 0, "remove absent");
    vigil_index_stats st;
    vigil_index_get_stats(idx, &st);
    CHECK(st.entries == n + 498 && st.unsorted == 500 && st.removed == 2, "stats %llu %llu %llu",
          (unsigned long long)st.entries, (unsigned long long)st.unsorted, (unsigned long long)st.removed);
    /* exact queries for the removed and the added entries */
    vigil_pdq q[3] = {set[3], set[n + 7], set[n + 100]};
    vigil_index_match *m;
    size_t nm;
    CHECK(vigil_index_search(idx, q, 3, 1, NULL, &m, &nm, &e) == VIGIL_OK, "search");
    int found[3] = {0};
    for (size_t i = 0; i < nm; i++) {
        const char *id, *labels;
        vigil_index_entry(idx, m[i].entry, NULL, NULL, &id, &labels);
        if (m[i].distance == 0 && !strcmp(id, "ref3")) found[0] = 1;
        if (m[i].distance == 0 && !strcmp(id, "ref40007")) found[1] = 1;
        if (m[i].distance == 0 && !strcmp(id, "ref40100")) { found[2] = 1; CHECK(!strcmp(labels, "hotel_id=7 room=12"), "labels"); }
    }
    CHECK(!found[0] && !found[1] && found[2], "removed entries found (%d %d) or added missing (%d)", found[0], found[1], found[2]);
    free(m);
    /* compact keeps exactly the live entries and the same answers */
    vigil_pdq *qs = make_queries(set, n, 50, 1);
    size_t nb1, nb2;
    bm *before = brute(idx, qs, 50, 1, 31, &nb1);
    CHECK(vigil_index_compact(idx, &e) == VIGIL_OK, "compact");
    vigil_index_get_stats(idx, &st);
    CHECK(st.entries == n + 498 && st.unsorted == 0 && st.removed == 0 && st.indexed == n + 498, "after compact");
    bm *after = brute(idx, qs, 50, 1, 31, &nb2);
    CHECK(nb1 == nb2, "compact changed the match count %zu -> %zu", nb1, nb2);
    CHECK(vigil_index_search(idx, qs, 50, 1, NULL, &m, &nm, &e) == VIGIL_OK, "search");
    same_results(m, nm, after, nb2, "after compact");
    free(m); free(before); free(after); free(qs);
    vigil_index_free(idx);
    free(set);
}

void test_index_file_round_trip(void)
{
    size_t n = 50000;
    vigil_pdq *set = make_set(n, 10);
    vigil_index *idx = build(set, n, "victims"), *back;
    vigil_error e;
    vigil_pdq extra = set[0];
    flip_bits(&extra, 3);
    vigil_index_add(idx, &extra, 77, "extra", "series=x", &e);
    vigil_index_remove(idx, "ref5", NULL, &e);
    char *p = t_path(t_tmp_dir, "rt.vgi");
    CHECK(vigil_index_save(idx, p, &e) == VIGIL_OK, "save: %s", e.message);
    CHECK(vigil_index_open(p, &back, &e) == VIGIL_OK, "open: %s", e.message);
    if (!back) return;
    CHECK(vigil_index_verify(back, &e) == VIGIL_OK, "verify: %s", e.message);
    vigil_index_stats a, b;
    vigil_index_get_stats(idx, &a);
    vigil_index_get_stats(back, &b);
    CHECK(a.entries == b.entries && a.unsorted == b.unsorted && a.removed == b.removed && !strcmp(b.set_name, "victims"), "stats");
    for (uint64_t i = 0; i < a.indexed + a.unsorted; i++) {
        vigil_pdq h1, h2;
        int q1, q2;
        const char *i1, *i2, *l1, *l2;
        int r1 = vigil_index_entry(idx, i, &h1, &q1, &i1, &l1), r2 = vigil_index_entry(back, i, &h2, &q2, &i2, &l2);
        if (r1 != r2 || (!r1 && (memcmp(&h1, &h2, 32) || q1 != q2 || strcmp(i1, i2) || (l1 == NULL) != (l2 == NULL) ||
                                 (l1 && strcmp(l1, l2))))) {
            CHECK(0, "entry %llu differs after save/open", (unsigned long long)i);
            break;
        }
    }
    vigil_pdq *q = make_queries(set, n, 40, 8);
    vigil_index_match *m1, *m2;
    size_t n1, n2;
    vigil_index_search(idx, q, 40, 8, NULL, &m1, &n1, &e);
    vigil_index_search(back, q, 40, 8, NULL, &m2, &n2, &e);
    CHECK(n1 == n2 && same_matches(m1, m2, n1), "search differs after save/open (%zu vs %zu)", n1, n2);
    free(m1); free(m2); free(q);
    vigil_index_free(back);
    vigil_index_free(idx);
    free(set);
}

/* Read by several threads (4 MiB pieces): the same index, the same answers; damage still found;
 * a thread count out of range refused. */
void test_index_open_threads(void)
{
    size_t n = 120000; /* about 14 MB: several pieces */
    vigil_pdq *set = make_set(n, 10);
    vigil_index *idx = build(set, n, "victims"), *back = NULL, *one = NULL;
    vigil_error e;
    char *p = t_path(t_tmp_dir, "threads.vgi"), *bad = t_path(t_tmp_dir, "threads-bad.vgi");
    CHECK(vigil_index_save(idx, p, &e) == VIGIL_OK, "save: %s", e.message);
    vigil_open_options oo;
    vigil_open_options_init(&oo);
    CHECK(oo.threads == 1, "default threads %u", oo.threads);
    CHECK(vigil_index_open_with(p, NULL, &one, &e) == VIGIL_OK, "open, no options: %s", e.message);
    oo.threads = 3;
    CHECK(vigil_index_open_with(p, &oo, &back, &e) == VIGIL_OK, "open on 3 threads: %s", e.message);
    if (!back || !one) return;
    char c1[33], c2[33];
    vigil_index_content_id(one, c1);
    vigil_index_content_id(back, c2);
    CHECK(!strcmp(c1, c2), "content id %s on one thread, %s on three", c1, c2);
    CHECK(vigil_index_verify(back, &e) == VIGIL_OK, "verify: %s", e.message);
    vigil_pdq *q = make_queries(set, n, 40, 8);
    vigil_index_match *m1, *m2;
    size_t n1, n2;
    vigil_index_search(one, q, 40, 8, NULL, &m1, &n1, &e);
    vigil_index_search(back, q, 40, 8, NULL, &m2, &n2, &e);
    CHECK(n1 > 0 && n1 == n2 && same_matches(m1, m2, n1), "search differs on three threads (%zu vs %zu)", n1, n2);
    free(m1); free(m2); free(q);
    vigil_index_free(back);
    /* a flipped byte in the last piece, and a cut in the middle of one: found with 3 threads too */
    size_t len;
    uint8_t *bytes = t_read_file(p, &len);
    bytes[len - 100] ^= 0x20;
    t_write_file(bad, bytes, len);
    back = NULL;
    CHECK(vigil_index_open_with(bad, &oo, &back, &e) == VIGIL_E_CORRUPT && !back, "a flipped byte opened on 3 threads");
    bytes[len - 100] ^= 0x20;
    t_write_file(bad, bytes, len / 2 + 12345);
    CHECK(vigil_index_open_with(bad, &oo, &back, &e) != VIGIL_OK && !back && strlen(e.message) > 10, "a truncated file opened on 3 threads");
    free(bytes);
    oo.threads = 0;
    CHECK(vigil_index_open_with(p, &oo, &back, &e) == VIGIL_E_INVALID && !back, "threads 0 accepted");
    oo.threads = 65;
    CHECK(vigil_index_open_with(p, &oo, &back, &e) == VIGIL_E_INVALID && !back, "threads 65 accepted");
    vigil_open_options zero = {0};
    CHECK(vigil_index_open_with(p, &zero, &back, &e) == VIGIL_E_INVALID && !back, "struct_size 0 accepted");
    vigil_index_free(one);
    vigil_index_free(idx);
    free(set);
}

void test_index_file_damage(void)
{
    size_t n = 40000;
    vigil_pdq *set = make_set(n, 10);
    vigil_index *idx = build(set, n, "victims"), *back;
    vigil_error e;
    char *good = t_path(t_tmp_dir, "good.vgi"), *bad = t_path(t_tmp_dir, "bad.vgi");
    vigil_index_save(idx, good, &e);
    size_t len;
    uint8_t *bytes = t_read_file(good, &len);
    vigil_pdq *q = make_queries(set, n, 30, 1);
    vigil_index_match *m0;
    size_t n0;
    vigil_index_search(idx, q, 30, 1, NULL, &m0, &n0, &e);
    /* truncations */
    size_t cuts[] = {0, 7, 63, 64, 200, 2047, len / 3, len / 2, len - 64, len - 1};
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        t_write_file(bad, bytes, cuts[c]);
        vigil_result r = vigil_index_open(bad, &back, &e);
        CHECK(r != VIGIL_OK && back == NULL, "truncated to %zu bytes: opened", cuts[c]);
        CHECK(r == VIGIL_OK || strlen(e.message) > 10, "truncated: no message");
    }
    /* single-byte damage anywhere: refused, or (padding) harmless */
    int refused = 0, harmless = 0;
    for (int t = 0; t < 150; t++) {
        uint8_t *copy = malloc(len);
        memcpy(copy, bytes, len);
        size_t pos = t < 50 ? t_rand() % 2048 : t_rand() % len;
        copy[pos] ^= (uint8_t)(1 + t_rand() % 255);
        t_write_file(bad, copy, len);
        free(copy);
        if (vigil_index_open(bad, &back, &e) != VIGIL_OK) { refused++; continue; }
        vigil_index_match *m;
        size_t nm;
        vigil_index_search(back, q, 30, 1, NULL, &m, &nm, &e);
        CHECK(nm == n0 && same_matches(m, m0, nm), "byte %zu damaged: opened and answered differently", pos);
        harmless++;
        free(m);
        vigil_index_free(back);
    }
    printf("    150 one-byte damages: %d refused, %d in padding and harmless\n", refused, harmless);
    /* foreign and other-version files */
    uint8_t *copy = malloc(len);
    memcpy(copy, bytes, len);
    copy[8] = 99; /* version */
    t_write_file(bad, copy, len);
    CHECK(vigil_index_open(bad, &back, &e) == VIGIL_E_VERSION && strstr(e.message, "version 99"), "version: %s", e.message);
    size_t jl;
    void *jpg = t_read_file(t_path(t_data_dir, "opencv-doc__hfs_001.jpg"), &jl);
    t_write_file(bad, jpg, jl);
    CHECK(vigil_index_open(bad, &back, &e) == VIGIL_E_FORMAT && strstr(e.message, "not a vigil index"), "jpeg: %s", e.message);
    CHECK(vigil_index_open(t_path(t_tmp_dir, "missing.vgi"), &back, &e) == VIGIL_E_IO, "missing");
    CHECK(vigil_index_open(t_tmp_dir, &back, &e) == VIGIL_E_NOT_FILE, "directory");
    /* an atomic save never leaves a half-written file: a failed save keeps the old one */
    CHECK(vigil_index_save(idx, "/nonexistent-dir/x.vgi", &e) == VIGIL_E_IO, "save into a missing folder");
    free(jpg); free(copy); free(bytes); free(m0); free(q);
    vigil_index_free(idx);
    free(set);
}

typedef struct lres { int n, bad; char ids[16][64]; char labels[16][128]; int quality[16]; uint64_t badline[16];
                      int has_pdq[16]; vigil_pdq pdq[16]; uint8_t md5[16][16], sha1[16][20]; int dig[16]; } lres;
static int l_entry(const vigil_list_entry *e, void *p)
{
    lres *r = p;
    if (r->n < 16) {
        snprintf(r->ids[r->n], 64, "%s", e->id ? e->id : "-");
        snprintf(r->labels[r->n], 128, "%s", e->labels ? e->labels : "-");
        r->quality[r->n] = e->quality;
        r->has_pdq[r->n] = e->has_pdq;
        r->pdq[r->n] = e->hash;
        r->dig[r->n] = (e->md5 ? 1 : 0) | (e->sha1 ? 2 : 0);
        if (e->md5) memcpy(r->md5[r->n], e->md5, 16);
        if (e->sha1) memcpy(r->sha1[r->n], e->sha1, 20);
    }
    r->n++;
    return 0;
}
static int l_error(uint64_t line, const char *why, void *p)
{
    lres *r = p;
    (void)why;
    if (r->bad < 16) r->badline[r->bad] = line;
    r->bad++;
    return 0;
}

void test_hash_lists(void)
{
    const char *H = "f83cc4b6d7a303ebfc183cfc06f05287c68f380f4c78370c76e1300f3eea217c";
    char buf[4096];
    lres r;
    vigil_error e;
    /* plain: comments, ids, a bad hash, CRLF */
    snprintf(buf, sizeof buf, "# a comment\n%s\n%s victim-17\r\nnothex\n%s,abc def\n\n", H, H, H);
    memset(&r, 0, sizeof r);
    CHECK(vigil_list_parse(buf, strlen(buf), l_entry, l_error, &r, &e) == VIGIL_OK, "plain");
    CHECK(r.n == 3 && r.bad == 1 && r.badline[0] == 4, "plain: %d entries, %d bad (line %llu)", r.n, r.bad, (unsigned long long)r.badline[0]);
    CHECK(!strcmp(r.ids[0], "-") && !strcmp(r.ids[1], "victim-17") && !strcmp(r.ids[2], "abc def"), "plain ids %s|%s|%s", r.ids[0], r.ids[1], r.ids[2]);
    /* CSV with a header, quotes, quality, labels, a short row and a bad quality */
    snprintf(buf, sizeof buf, "ID,Hash,Quality,Series,Note\nv1,%s,90,s1,\"with, comma\"\nv2,%s,101,s2,x\nv3,%s\nv4,%s,40,s4,\"say \"\"hi\"\"\"\n",
             H, H, H, H);
    memset(&r, 0, sizeof r);
    CHECK(vigil_list_parse(buf, strlen(buf), l_entry, l_error, &r, &e) == VIGIL_OK, "csv");
    CHECK(r.n == 2 && r.bad == 2 && r.badline[0] == 3 && r.badline[1] == 4, "csv: %d entries, %d bad", r.n, r.bad);
    CHECK(!strcmp(r.ids[0], "v1") && r.quality[0] == 90 && !strcmp(r.labels[0], "Series=s1 Note=with,_comma"), "csv row 1: %s %d %s", r.ids[0], r.quality[0], r.labels[0]);
    CHECK(!strcmp(r.ids[1], "v4") && r.quality[1] == 40 && !strcmp(r.labels[1], "Series=s4 Note=say_\"hi\""), "csv row 4: %s", r.labels[1]);
    /* vigil hash TSV output, with a failed file (empty hash) */
    snprintf(buf, sizeof buf, "path\tpdq\tquality\twidth\theight\tsize\tformat\tmd5\tsha1\txxh128\terror\n"
                              "a.jpg\t%s\t100\t10\t10\t5\tjpeg\tm\ts\tx\t\nb.jpg\t\t\t\t\t0\t\t\t\t\tempty: empty file\n", H);
    memset(&r, 0, sizeof r);
    CHECK(vigil_list_parse(buf, strlen(buf), l_entry, l_error, &r, &e) == VIGIL_OK, "tsv");
    CHECK(r.n == 1 && r.bad == 1 && !strcmp(r.ids[0], "a.jpg") && !strcmp(r.labels[0], "md5=m sha1=s"), "tsv: %d %d %s", r.n, r.bad, r.labels[0]);
    /* JSON Lines as vigil hash --format jsonl writes it */
    snprintf(buf, sizeof buf, "{\"path\":\"a\\\"b.jpg\",\"pdq\":\"%s\",\"quality\":88,\"width\":10,\"md5\":\"m\",\"error\":null}\n{\"path\":\"x\",\"pdq\":null}\n{broken\n", H);
    memset(&r, 0, sizeof r);
    CHECK(vigil_list_parse(buf, strlen(buf), l_entry, l_error, &r, &e) == VIGIL_OK, "jsonl");
    CHECK(r.n == 1 && r.bad == 2 && !strcmp(r.ids[0], "a\"b.jpg") && r.quality[0] == 88 && !strcmp(r.labels[0], "md5=m"), "jsonl: %d %d %s %s", r.n, r.bad, r.ids[0], r.labels[0]);
    /* a header without a hash column is refused as a whole */
    snprintf(buf, sizeof buf, "name,value\na,b\n");
    memset(&r, 0, sizeof r);
    CHECK(vigil_list_parse(buf, strlen(buf), l_entry, l_error, &r, &e) == VIGIL_E_PARSE && strstr(e.message, "hash column"), "no hash column");
    /* binary junk: errors, never a crash */
    for (int i = 0; i < 2000; i++) buf[i] = (char)t_rand();
    memset(&r, 0, sizeof r);
    vigil_list_parse(buf, 2000, l_entry, l_error, &r, &e);
    CHECK(r.n == 0, "junk gave entries");
}

void test_digest_lists_and_vics(void)
{
    const char *H = "f83cc4b6d7a303ebfc183cfc06f05287c68f380f4c78370c76e1300f3eea217c";
    const char *M = "d41d8cd98f00b204e9800998ecf8427e", *S = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    char buf[4096];
    lres r;
    vigil_error e;
    /* plain lines: 32 digits MD5, 40 SHA-1, 64 PDQ, anything else a bad line */
    snprintf(buf, sizeof buf, "%s id-m\n%s\n%s p\nabc\n", M, S, H);
    memset(&r, 0, sizeof r);
    CHECK(vigil_list_parse(buf, strlen(buf), l_entry, l_error, &r, &e) == VIGIL_OK, "plain digests");
    CHECK(r.n == 3 && r.bad == 1 && r.dig[0] == 1 && r.dig[1] == 2 && r.has_pdq[2] && !r.has_pdq[0] &&
          !strcmp(r.ids[0], "id-m") && r.md5[0][0] == 0xd4 && r.sha1[1][19] == 0x09, "plain digests: %d %d", r.n, r.bad);
    /* CSV with only digest columns: digest entries, other columns labels */
    snprintf(buf, sizeof buf, "MD5,SHA1,Category\n%s,,1\n,%s,2\nxyz,,3\n", M, S);
    memset(&r, 0, sizeof r);
    CHECK(vigil_list_parse(buf, strlen(buf), l_entry, l_error, &r, &e) == VIGIL_OK, "csv digests");
    CHECK(r.n == 2 && r.bad == 1 && r.badline[0] == 4 && r.dig[0] == 1 && r.dig[1] == 2 && !strcmp(r.labels[0], "Category=1"),
          "csv digests: %d %d %s", r.n, r.bad, r.labels[0]);
    /* VICS 2.0: PDQ as an alternative hash (digests become labels), digest-only media, a \u
     * escape, unknown nested members skipped, a bad MD5 reported with its line */
    snprintf(buf, sizeof buf,
             "{\"@odata.context\": \"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media\",\n"
             " \"value\": [\n"
             "  {\"MediaID\": 1, \"Category\": 1, \"MD5\": \"%s\", \"SHA1\": \"%s\", \"MediaSize\": 12,\n"
             "   \"AlternativeHashes\": [{\"HashName\": \"PhotoDNA\", \"HashValue\": \"x\"}, {\"HashName\": \"PDQ\", \"HashValue\": \"%s\"}],\n"
             "   \"Comments\": [{\"a\": [1, 2, {\"b\": null}]}], \"Note\": \"caf\\u00e9 \\ud83d\\ude00\"},\n"
             "  {\"MediaID\": 2, \"Category\": 2, \"MD5\": \"%s\"},\n"
             "  {\"MediaID\": 3, \"MD5\": \"12\"}\n"
             " ]}\n", "B8FCA412F4D504BE328618C2CC73B1B1", S, H, M);
    memset(&r, 0, sizeof r);
    CHECK(vigil_list_parse(buf, strlen(buf), l_entry, l_error, &r, &e) == VIGIL_OK, "vics: %s", e.message);
    CHECK(r.n == 2 && r.bad == 1 && r.badline[0] == 7, "vics: %d entries, %d bad, line %llu", r.n, r.bad, (unsigned long long)r.badline[0]);
    char hex[65];
    vigil_pdq_to_hex(&r.pdq[0], hex);
    CHECK(r.has_pdq[0] && !strcmp(hex, H) && !strcmp(r.ids[0], "b8fca412f4d504be328618c2cc73b1b1"), "vics pdq entry %s %s", hex, r.ids[0]);
    CHECK(!strncmp(r.labels[0], "category=1 md5=b8fca412f4d504be328618c2cc73b1b1 sha1=da39", 56), "vics labels %s", r.labels[0]);
    CHECK(!r.has_pdq[1] && r.dig[1] == 1 && !strcmp(r.labels[1], "category=2 vics_id=2"), "vics digest entry %s", r.labels[1]);
    /* VICS 1.x: Media inside Cases */
    snprintf(buf, sizeof buf, "{\"@odata.context\": \"x/1.3.xml/$metadata#Cases\", \"value\": [{\"CaseNumber\": \"c\", \"Media\": [{\"MD5\": \"%s\"}, {\"SHA1\": \"%s\"}]}]}", M, S);
    memset(&r, 0, sizeof r);
    CHECK(vigil_list_parse(buf, strlen(buf), l_entry, l_error, &r, &e) == VIGIL_OK && r.n == 2 && r.dig[0] == 1 && r.dig[1] == 2, "vics 1.x: %d", r.n);
    /* malformed documents: an error naming the line, never a crash */
    const char *broken[] = {"{\"@odata.context\": \"a\", \"value\": [{\"MD5\": \"x\"",
                            "{\"@odata.context\": \"a\",\n\"value\": [tru]}",
                            "{\"@odata.context\": \"a\", \"value\": [{\"MD5\": \"\\ud800\"}]}",
                            "{\"@odata.context\": \"a\", \"value\": []} trailing"};
    for (int i = 0; i < 4; i++) {
        memset(&r, 0, sizeof r);
        CHECK(vigil_list_parse(broken[i], strlen(broken[i]), l_entry, l_error, &r, &e) == VIGIL_E_PARSE &&
              strstr(e.message, "VICS JSON") && strstr(e.message, "line"), "broken %d: %s", i, e.message);
    }
    /* nesting bomb */
    char deep[2200];
    int k = snprintf(deep, sizeof deep, "{\"@odata.context\": \"a\", \"value\": [");
    for (int i = 0; i < 1000; i++) deep[k++] = '[';
    deep[k] = 0;
    CHECK(vigil_list_parse(deep, (size_t)k, l_entry, l_error, &r, &e) == VIGIL_E_PARSE, "deep");
}

void test_index_digest_entries(void)
{
    uint8_t md5[3][16], sha1[3][20];
    for (int i = 0; i < 3; i++) {
        for (int b = 0; b < 16; b++) md5[i][b] = (uint8_t)t_rand();
        for (int b = 0; b < 20; b++) sha1[i][b] = (uint8_t)t_rand();
    }
    vigil_index *x;
    vigil_error e;
    CHECK(vigil_index_new("d", &x, &e) == VIGIL_OK, "new");
    CHECK(vigil_index_add_digest(x, NULL, NULL, "none", NULL, &e) == VIGIL_E_INVALID, "neither digest");
    CHECK(vigil_index_add_digest(x, md5[0], NULL, "a", "category=1", &e) == VIGIL_OK, "add md5");
    CHECK(vigil_index_add_digest(x, NULL, sha1[1], "b", NULL, &e) == VIGIL_OK, "add sha1");
    CHECK(vigil_index_add_digest(x, md5[2], sha1[2], "c", NULL, &e) == VIGIL_OK, "add both");
    /* many more, so that the table grows past its first size */
    for (int i = 0; i < 3000; i++) {
        uint8_t m[16];
        for (int b = 0; b < 16; b++) m[b] = (uint8_t)t_rand();
        vigil_index_add_digest(x, m, NULL, NULL, NULL, &e);
    }
    const char *dir = t_tmp_dir;
    const char *path = t_path(dir, "digests.vgi");
    for (int round = 0; round < 2; round++) {
        uint64_t out[4];
        const char *id, *labels;
        CHECK(vigil_index_find_digest(x, md5[0], NULL, out, 4) == 1 && out[0] == 0, "md5 0 (round %d)", round);
        CHECK(vigil_index_digest_entry(x, out[0], NULL, NULL, NULL, &id, &labels) == VIGIL_OK && !strcmp(id, "a") && !strcmp(labels, "category=1"), "entry a");
        CHECK(vigil_index_find_digest(x, md5[1], sha1[1], out, 4) == 1 && out[0] == 1, "sha1 1");
        CHECK(vigil_index_find_digest(x, md5[2], sha1[2], out, 4) == 1 && out[0] == 2, "both digests: listed once");
        CHECK(vigil_index_find_digest(x, md5[1], NULL, out, 4) == 0, "absent md5");
        CHECK(vigil_index_find_digest(x, (const uint8_t *)sha1[0], NULL, out, 4) == 0, "absent");
        vigil_index_stats st;
        vigil_index_get_stats(x, &st);
        CHECK(st.digests == 3003 && st.digest_records == 3003, "stats %llu", (unsigned long long)st.digests);
        if (round == 0) { /* saved and opened again: the same answers */
            CHECK(vigil_index_save(x, path, &e) == VIGIL_OK, "save %s", e.message);
            vigil_index_free(x);
            CHECK(vigil_index_open(path, &x, &e) == VIGIL_OK, "open %s", e.message);
        }
    }
    size_t removed = 0;
    CHECK(vigil_index_remove(x, "a", &removed, &e) == VIGIL_OK && removed == 1, "remove");
    uint64_t out[4];
    CHECK(vigil_index_find_digest(x, md5[0], NULL, out, 4) == 0, "removed entry still found");
    CHECK(vigil_index_digest_entry(x, 0, NULL, NULL, NULL, NULL, NULL) == VIGIL_E_NOT_FOUND, "removed entry readable");
    vigil_index_free(x);

    /* one content listed many times (the same file in several hash lists): every entry is found
     * and counted once, however small max is; an entry matching on both digests is one match */
    CHECK(vigil_index_new("many", &x, &e) == VIGIL_OK, "new");
    for (int i = 0; i < 40; i++) vigil_index_add_digest(x, md5[2], sha1[2], NULL, NULL, &e);
    for (int i = 0; i < 10; i++) vigil_index_add_digest(x, NULL, sha1[2], NULL, NULL, &e);
    for (int i = 0; i < 7; i++) vigil_index_add_digest(x, md5[2], NULL, NULL, NULL, &e);
    uint64_t all[64];
    CHECK(vigil_index_find_digest(x, md5[2], sha1[2], NULL, 0) == 57, "count with max 0: %zu", vigil_index_find_digest(x, md5[2], sha1[2], NULL, 0));
    CHECK(vigil_index_find_digest(x, md5[2], sha1[2], all, 16) == 57, "count past max 16");
    CHECK(vigil_index_find_digest(x, md5[2], sha1[2], all, 64) == 57, "all 57");
    int seen[57] = {0}, twice = 0;
    for (int i = 0; i < 57; i++) { if (all[i] < 57 && seen[all[i]]++) twice++; }
    CHECK(!twice, "an entry listed twice");
    CHECK(vigil_index_find_digest(x, NULL, sha1[2], all, 64) == 50 && vigil_index_find_digest(x, md5[2], NULL, all, 64) == 47, "by one digest");
    vigil_index_free(x);
}
