/* test_sevenz.c - vigil's own 7z header reader (core/sevenz_headers.c) on archives written by 7z
 * (p7zip, kept in tests/fuzz/corpus/archive): an encrypted solid one with its LZMA-encoded header,
 * one per file (-ms=off), one with a plain header (-mhc=off), one with the header encrypted
 * (-mhe), one not encrypted; then every cut and many flipped bytes of one, which must never
 * list anything wrong (each flip either fails a CRC and lists nothing, or lists the same). */
#include "tests.h"
#include "sevenz_headers.h"

#include <stdlib.h>
#include <string.h>

typedef struct mem { const uint8_t *p; size_t n; } mem;

static long mem_read(void *ctx, uint64_t off, uint8_t *buf, size_t n)
{
    const mem *m = ctx;
    if (off >= m->n) return 0;
    size_t k = m->n - off < n ? (size_t)(m->n - off) : n;
    memcpy(buf, m->p + off, k);
    return (long)k;
}

static uint32_t crc_of(const char *s)
{
    uint32_t c = 0xffffffffu;
    for (; *s; s++) {
        c ^= (uint8_t)*s;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
    }
    return ~c;
}

static uint8_t *load(const char *name, size_t *n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/../../fuzz/corpus/archive/%s", t_data_dir, name);
    return t_read_file(path, n);
}

/* The two files every sample holds: a.txt "hello seeds\n", b.txt "second\n". */
static int lists_both(const vigil__facts *l, int encrypted)
{
    static const char *const names[] = {"a.txt", "b.txt"}, *const text[] = {"hello seeds\n", "second\n"};
    int found = 0;
    for (size_t i = 0; i < l->n; i++)
        for (int k = 0; k < 2; k++)
            if (!strcmp(l->names + l->f[i].name_at, names[k]) && l->f[i].size == strlen(text[k]) && l->f[i].has_crc &&
                l->f[i].crc32 == crc_of(text[k]) && l->f[i].encrypted == encrypted && !l->f[i].dir)
                found |= 1 << k;
    return found;
}

void test_sevenz_headers(void)
{
    static const struct { const char *name; int files, encrypted, locked; } s[] = {
        {"s-enc.7z", 2, 1, 0}, {"s-nsolid.7z", 2, 1, 0}, {"s-plain.7z", 2, 1, 0}, {"s-stored.7z", 2, 0, 0}, {"s-hdr.7z", 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof s / sizeof *s; i++) {
        size_t n;
        uint8_t *b = load(s[i].name, &n);
        CHECK(b != NULL, "%s: missing", s[i].name);
        if (!b) continue;
        mem m = {b, n};
        vigil__facts l;
        CHECK(vigil__7z_walk(mem_read, &m, n, 1u << 20, &l) == 0, "%s: walk", s[i].name);
        CHECK(l.n == (size_t)s[i].files && l.locked == s[i].locked, "%s: %zu files (want %d), locked %d", s[i].name, l.n,
              s[i].files, l.locked);
        if (s[i].files) CHECK(lists_both(&l, s[i].encrypted) == 3, "%s: both files with name, size, CRC-32", s[i].name);
        vigil__facts_free(&l);
        free(b);
    }
    /* every cut of the encrypted one, and flipped bytes: nothing listed, or the right list */
    size_t n;
    uint8_t *b = load("s-enc.7z", &n);
    if (!b) return;
    int wrong = 0;
    for (size_t cut = 0; cut < n; cut++) {
        mem m = {b, cut};
        vigil__facts l;
        if (vigil__7z_walk(mem_read, &m, cut, 1u << 20, &l) || l.n) wrong++;
        vigil__facts_free(&l);
    }
    CHECK(!wrong, "%d cuts listed something (the header sits at the end)", wrong);
    uint8_t *c = malloc(n);
    for (int round = 0; round < 2000; round++) {
        memcpy(c, b, n);
        for (int k = 0, nk = 1 + (int)(t_rand() % 3); k < nk; k++) c[t_rand() % n] ^= (uint8_t)(1 + t_rand() % 255);
        mem m = {c, n};
        vigil__facts l;
        int r = vigil__7z_walk(mem_read, &m, n, 1u << 20, &l);
        if (r || (l.n && (l.n != 2 || lists_both(&l, 1) != 3))) wrong++;
        vigil__facts_free(&l);
    }
    CHECK(!wrong, "%d flips listed something wrong", wrong);
    free(c);
    free(b);
}
