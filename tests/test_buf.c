/* test_buf.c - core/buf.c (buffers, string tables, labels) and core/mih.c (multi-index tables). */
#include "buf.h"
#include "mih.h"
#include "tests.h"

#include <stdlib.h>
#include <string.h>

void test_buf_strings_and_labels(void)
{
    vigil__buf b = {0};
    CHECK(vigil__buf_put(&b, "ab", 2) == 0 && b.n == 2, "put");
    CHECK(vigil__buf_put(&b, NULL, 3) == 0 && b.n == 5 && !memcmp(b.p, "ab\0\0\0", 5), "zeros");
    CHECK(vigil__buf_put(&b, NULL, 0) == 0 && b.n == 5, "nothing");
    for (int i = 0; i < 1000; i++) vigil__buf_put(&b, "xyz", 3);
    CHECK(b.n == 3005 && b.cap >= b.n && !memcmp(b.p + 3002, "xyz", 3), "growth: %zu", b.n);
    free(b.p);

    /* put: "" and NULL are 0, which holds the NUL written first; append always appends */
    vigil__buf t = {0};
    CHECK(vigil__strtab_put(&t, NULL) == 0 && vigil__strtab_put(&t, "") == 0 && t.n == 0, "none costs nothing");
    CHECK(vigil__strtab_put(&t, "id1") == 1 && t.n == 5, "first string after the NUL: n=%zu", t.n);
    CHECK(vigil__strtab_put(&t, "x") == 5 && !memcmp(t.p, "\0id1\0x\0", 7), "second");
    CHECK(vigil__strtab_append(&t, "") == 7 && vigil__strtab_append(&t, NULL) == 8 && t.n == 9, "append keeps empties");
    free(t.p);

    vigil__buf l = {0};
    CHECK(vigil__label_put(&l, "note", "a b\tc\r\nd", 8, 0) == 0, "put");
    CHECK(vigil__label_put(&l, "empty", "", 0, 0) == 0, "empty value: nothing");
    CHECK(vigil__label_put(&l, "md5", "ABCdef", 6, 1) == 0, "lower");
    CHECK(vigil__label_put(&l, NULL, "k=v j=w", 7, 0) == 0, "verbatim");
    CHECK(vigil__label_put(&l, "cut", "xyz", 2, 0) == 0, "len bytes only");
    vigil__buf_put(&l, "", 1);
    const char *want = "note=a_b_c__d md5=abcdef k=v j=w cut=xy";
    CHECK(!strcmp((const char *)l.p, want), "labels '%s'", (const char *)l.p);

    const char *v;
    size_t n;
    CHECK(vigil__label_find((const char *)l.p, "md5", &v, &n) && n == 6 && !strncmp(v, "abcdef", 6), "md5");
    CHECK(vigil__label_find((const char *)l.p, "cut", &v, &n) && n == 2 && !strncmp(v, "xy", 2), "last word");
    CHECK(vigil__label_find((const char *)l.p, "j", &v, &n) && n == 1 && *v == 'w', "j");
    CHECK(!vigil__label_find((const char *)l.p, "no", &v, &n), "a key's prefix is not the key");
    CHECK(!vigil__label_find((const char *)l.p, "a_b", &v, &n), "inside a value is not a key");
    CHECK(!vigil__label_find(NULL, "k", &v, &n) && !vigil__label_find("", "k", &v, &n), "none");
    CHECK(vigil__label_find("  room=12  hotel_id=", "hotel_id", &v, &n) && n == 0, "empty value, spaces around");
    CHECK(vigil__label_find("room=1=2", "room", &v, &n) && n == 3 && !strncmp(v, "1=2", 3), "'=' in a value");
    free(l.p);
}

void test_mih_build_and_check(void)
{
    enum { N = 5000 };
    vigil_pdq *c = malloc(N * sizeof *c);
    uint32_t *off = malloc((VIGIL__MIH_BUCKETS + 1) * sizeof *off);
    uint8_t *s3 = malloc(N * 3 + 1), *s4 = malloc(N * 4);
    for (int i = 0; i < N; i++)
        for (int w = 0; w < 4; w++) c[i].w[w] = t_rand() & (i % 3 ? 0x00ff00ff00ff00ffull : ~0ull); /* crowded buckets too */
    for (int t = 0; t < 16; t += 5) {
        uint64_t at = 0;
        CHECK(vigil__mih_build(c, N, t, off, s4, 4) == 0, "build");
        uint32_t *o4 = malloc((VIGIL__MIH_BUCKETS + 1) * sizeof *o4);
        memcpy(o4, off, (VIGIL__MIH_BUCKETS + 1) * sizeof *o4);
        CHECK(vigil__mih_build(c, N, t, off, s3, 3) == 0, "build 3");
        CHECK(!memcmp(o4, off, (VIGIL__MIH_BUCKETS + 1) * sizeof *o4), "offsets do not depend on the width");
        free(o4);
        s3[N * 3] = 0;
        int sorted = 1;
        for (uint32_t k = 0; k < VIGIL__MIH_BUCKETS; k++)
            for (uint32_t i = off[k]; i < off[k + 1]; i++) {
                uint32_t a = vigil__mih_slot(s4, i, 4), b = vigil__mih_slot(s3, i, 3);
                if (a != b || a >= N || vigil__mih_key(&c[a], t) != k || (i > off[k] && vigil__mih_slot(s4, i - 1, 4) >= a))
                    sorted = 0;
            }
        CHECK(sorted && off[0] == 0 && off[VIGIL__MIH_BUCKETS] == N, "table %d: every code in its bucket, ascending", t);
        CHECK(vigil__mih_check(off, N, t, s4, 4, c, &at) == VIGIL__MIH_OK, "sound table %d", t);
        CHECK(vigil__mih_check(off, N, t, s3, 3, c, &at) == VIGIL__MIH_OK, "sound table %d (3 bytes)", t);
        CHECK(vigil__mih_check(off, N + 1, t, s4, 4, c, &at) == VIGIL__MIH_UNCOVERED, "count");
        /* a slot out of range, then a code in the wrong bucket */
        uint32_t first = off[vigil__mih_key(&c[0], t)], keep;
        memcpy(&keep, s4 + 4ull * first, 4);
        uint32_t big = N;
        memcpy(s4 + 4ull * first, &big, 4);
        CHECK(vigil__mih_check(off, N, t, s4, 4, NULL, &at) == VIGIL__MIH_RANGE && at == first, "range at %llu",
              (unsigned long long)at);
        uint32_t k0 = vigil__mih_key(&c[0], t), other = 0;
        while (other < N && vigil__mih_key(&c[other], t) == k0) other++;
        memcpy(s4 + 4ull * first, &other, 4);
        CHECK(vigil__mih_check(off, N, t, s4, 4, NULL, &at) == VIGIL__MIH_OK, "in range: only the offsets and ranges");
        CHECK(vigil__mih_check(off, N, t, s4, 4, c, &at) == VIGIL__MIH_MISFILED && at == first, "misfiled");
        memcpy(s4 + 4ull * first, &keep, 4);
        /* offsets that go backwards */
        uint32_t k = 1;
        while (off[k] == 0) k++; /* a bucket after codes, short of the end */
        uint32_t save = off[k + 1];
        off[k + 1] = off[k] - 1;
        CHECK(vigil__mih_check(off, N, t, NULL, 4, NULL, &at) == VIGIL__MIH_DISORDER && at == k, "disorder");
        off[k + 1] = save;
    }
    /* storage order: slots NULL, codes in bucket order */
    uint32_t *perm = (uint32_t *)(void *)s4;
    vigil__mih_build(c, N, 0, off, s4, 4);
    vigil_pdq *sorted = malloc(N * sizeof *sorted);
    for (int i = 0; i < N; i++) sorted[i] = c[perm[i]];
    uint64_t at;
    CHECK(vigil__mih_check(off, N, 0, NULL, 4, sorted, &at) == VIGIL__MIH_OK, "storage order");
    CHECK(vigil__mih_check(off, N, 0, NULL, 4, c, &at) == VIGIL__MIH_MISFILED, "unsorted codes");
    CHECK(vigil__mih_build(c, 0, 3, off, s4, 4) == 0 && vigil__mih_check(off, 0, 3, s4, 4, c, &at) == VIGIL__MIH_OK,
          "empty table");
    free(sorted); free(c); free(off); free(s3); free(s4);
}
