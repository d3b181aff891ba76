/* md5x2.c - MD5 (RFC 1321) of one stream, and of two streams at once.
 *
 * MD5 is one long chain of dependent adds and rotates: a core runs it at about a third of its
 * issue width. Two independent messages stepped in the same loop fill the idle slots, so both
 * cost little more than one (bench/results/archive.md). The archive reader uses this to take
 * the MD5 of a stored zip member in the same pass as the MD5 of the zip around it (digest.c's
 * plan), where a second pass over the member would cost a whole MD5 more.
 *
 * Portable C, and core/x86/md5x2_avx512.c for runs of whole blocks of both streams where the CPU
 * has AVX-512 (both streams in one register's lanes: about the cost of one nettle stream). nettle
 * stays the MD5 of everything else, and the tests check this one against it and against the
 * RFC's vectors, at every level. */
#include "md5x2.h"
#include "cpu.h"
#include "md5_table.h"
#if defined(__x86_64__)
#include "x86/md5x2_avx512.h"
#endif

#include <string.h>

static inline uint32_t rotl(uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }
static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define G(x, y, z) ((y) ^ ((z) & ((x) ^ (y))))
#define H(x, y, z) ((x) ^ (y) ^ (z))
#define I(x, y, z) ((y) ^ ((x) | ~(z)))

/* One step of stream s: a = b + rotl(a + f(b, c, d) + X[k] + T[i], r). */
#define STEP(f, a, b, c, d, X, k, i, r) (a) = (b) + rotl((a) + f(b, c, d) + (X)[k] + vigil__md5_t[i], r)

/* The 64 steps of one block, for one stream (ONE) or two interleaved (TWO): the order of message
 * words and shifts of the RFC's four rounds. */
#define ROUNDS(S)                                                                                      \
    S(F, a, b, c, d, 0, 0, 7) S(F, d, a, b, c, 1, 1, 12) S(F, c, d, a, b, 2, 2, 17)                    \
    S(F, b, c, d, a, 3, 3, 22) S(F, a, b, c, d, 4, 4, 7) S(F, d, a, b, c, 5, 5, 12)                    \
    S(F, c, d, a, b, 6, 6, 17) S(F, b, c, d, a, 7, 7, 22) S(F, a, b, c, d, 8, 8, 7)                    \
    S(F, d, a, b, c, 9, 9, 12) S(F, c, d, a, b, 10, 10, 17) S(F, b, c, d, a, 11, 11, 22)               \
    S(F, a, b, c, d, 12, 12, 7) S(F, d, a, b, c, 13, 13, 12) S(F, c, d, a, b, 14, 14, 17)              \
    S(F, b, c, d, a, 15, 15, 22)                                                                       \
    S(G, a, b, c, d, 1, 16, 5) S(G, d, a, b, c, 6, 17, 9) S(G, c, d, a, b, 11, 18, 14)                 \
    S(G, b, c, d, a, 0, 19, 20) S(G, a, b, c, d, 5, 20, 5) S(G, d, a, b, c, 10, 21, 9)                 \
    S(G, c, d, a, b, 15, 22, 14) S(G, b, c, d, a, 4, 23, 20) S(G, a, b, c, d, 9, 24, 5)                \
    S(G, d, a, b, c, 14, 25, 9) S(G, c, d, a, b, 3, 26, 14) S(G, b, c, d, a, 8, 27, 20)                \
    S(G, a, b, c, d, 13, 28, 5) S(G, d, a, b, c, 2, 29, 9) S(G, c, d, a, b, 7, 30, 14)                 \
    S(G, b, c, d, a, 12, 31, 20)                                                                       \
    S(H, a, b, c, d, 5, 32, 4) S(H, d, a, b, c, 8, 33, 11) S(H, c, d, a, b, 11, 34, 16)                \
    S(H, b, c, d, a, 14, 35, 23) S(H, a, b, c, d, 1, 36, 4) S(H, d, a, b, c, 4, 37, 11)                \
    S(H, c, d, a, b, 7, 38, 16) S(H, b, c, d, a, 10, 39, 23) S(H, a, b, c, d, 13, 40, 4)               \
    S(H, d, a, b, c, 0, 41, 11) S(H, c, d, a, b, 3, 42, 16) S(H, b, c, d, a, 6, 43, 23)                \
    S(H, a, b, c, d, 9, 44, 4) S(H, d, a, b, c, 12, 45, 11) S(H, c, d, a, b, 15, 46, 16)               \
    S(H, b, c, d, a, 2, 47, 23)                                                                        \
    S(I, a, b, c, d, 0, 48, 6) S(I, d, a, b, c, 7, 49, 10) S(I, c, d, a, b, 14, 50, 15)                \
    S(I, b, c, d, a, 5, 51, 21) S(I, a, b, c, d, 12, 52, 6) S(I, d, a, b, c, 3, 53, 10)                \
    S(I, c, d, a, b, 10, 54, 15) S(I, b, c, d, a, 1, 55, 21) S(I, a, b, c, d, 8, 56, 6)                \
    S(I, d, a, b, c, 15, 57, 10) S(I, c, d, a, b, 6, 58, 15) S(I, b, c, d, a, 13, 59, 21)              \
    S(I, a, b, c, d, 4, 60, 6) S(I, d, a, b, c, 11, 61, 10) S(I, c, d, a, b, 2, 62, 15)                \
    S(I, b, c, d, a, 9, 63, 21)

#define ONE(f, a, b, c, d, k, i, r) STEP(f, a##0, b##0, c##0, d##0, x0, k, i, r);
#define TWO(f, a, b, c, d, k, i, r) STEP(f, a##0, b##0, c##0, d##0, x0, k, i, r); STEP(f, a##1, b##1, c##1, d##1, x1, k, i, r);

static void compress1(uint32_t s0[4], const uint8_t *p0)
{
    uint32_t x0[16];
    for (int k = 0; k < 16; k++) x0[k] = le32(p0 + 4 * k);
    uint32_t a0 = s0[0], b0 = s0[1], c0 = s0[2], d0 = s0[3];
    ROUNDS(ONE)
    s0[0] += a0; s0[1] += b0; s0[2] += c0; s0[3] += d0;
}

static void compress2(uint32_t s0[4], const uint8_t *p0, uint32_t s1[4], const uint8_t *p1)
{
    uint32_t x0[16], x1[16];
    for (int k = 0; k < 16; k++) { x0[k] = le32(p0 + 4 * k); x1[k] = le32(p1 + 4 * k); }
    uint32_t a0 = s0[0], b0 = s0[1], c0 = s0[2], d0 = s0[3];
    uint32_t a1 = s1[0], b1 = s1[1], c1 = s1[2], d1 = s1[3];
    ROUNDS(TWO)
    s0[0] += a0; s0[1] += b0; s0[2] += c0; s0[3] += d0;
    s1[0] += a1; s1[1] += b1; s1[2] += c1; s1[3] += d1;
}

static void blocks2_portable(uint32_t s0[4], const uint8_t *p0, uint32_t s1[4], const uint8_t *p1, size_t nblocks)
{
    for (size_t k = 0; k < nblocks; k++) compress2(s0, p0 + 64 * k, s1, p1 + 64 * k);
}

typedef void (*blocks2_fn)(uint32_t s0[4], const uint8_t *p0, uint32_t s1[4], const uint8_t *p1, size_t nblocks);

/* The best kernel the CPU has, chosen once (cpu.c honours VIGIL_DISABLE_CPU_FEATURES). */
static blocks2_fn blocks2(void)
{
#if defined(__x86_64__)
    if (vigil__cpu_features() & VIGIL_CPU_AVX512) return vigil__md5x2_blocks_avx512;
#endif
    return blocks2_portable;
}

const char *vigil__md5x2_level(void) { return blocks2() == blocks2_portable ? "portable" : "avx512"; }

void vigil__md5x2_blocks(uint32_t s0[4], const uint8_t *p0, uint32_t s1[4], const uint8_t *p1, size_t nblocks)
{
    blocks2()(s0, p0, s1, p1, nblocks);
}

void vigil__md5_init(vigil__md5 *m)
{
    m->s[0] = 0x67452301;
    m->s[1] = 0xefcdab89;
    m->s[2] = 0x98badcfe;
    m->s[3] = 0x10325476;
    m->len = 0;
    m->fill = 0;
}

/* The next whole block of m's stream from p[*at..n): its buffer topped up, or the bytes in
 * place; NULL when fewer than a block's worth remain (they wait in the buffer). */
static const uint8_t *next_block(vigil__md5 *m, const uint8_t *p, size_t n, size_t *at)
{
    if (m->fill) {
        size_t k = 64 - m->fill;
        if (k > n - *at) k = n - *at;
        memcpy(m->buf + m->fill, p + *at, k);
        m->fill += (unsigned)k;
        *at += k;
        if (m->fill < 64) return NULL;
        m->fill = 0;
        return m->buf;
    }
    if (n - *at < 64) return NULL;
    *at += 64;
    return p + *at - 64;
}

static void keep_tail(vigil__md5 *m, const uint8_t *p, size_t n, size_t at)
{
    if (at < n) { /* fewer than 64 bytes, and m->fill is 0 here */
        memcpy(m->buf + m->fill, p + at, n - at);
        m->fill += (unsigned)(n - at);
    }
}

void vigil__md5_update(vigil__md5 *m, const void *data, size_t n)
{
    const uint8_t *p = data;
    size_t at = 0;
    m->len += n;
    const uint8_t *b;
    while ((b = next_block(m, p, n, &at))) compress1(m->s, b);
    keep_tail(m, p, n, at);
}

void vigil__md5_update2(vigil__md5 *m0, const void *d0, vigil__md5 *m1, const void *d1, size_t n)
{
    const uint8_t *p0 = d0, *p1 = d1;
    size_t at0 = 0, at1 = 0;
    m0->len += n;
    m1->len += n;
    blocks2_fn bulk = blocks2();
    for (;;) {
        /* both streams in place (no partial block waiting): their common run of whole blocks at once */
        size_t nb = (n - at0 < n - at1 ? n - at0 : n - at1) / 64;
        if (nb && !m0->fill && !m1->fill) {
            bulk(m0->s, p0 + at0, m1->s, p1 + at1, nb);
            at0 += 64 * nb;
            at1 += 64 * nb;
        }
        const uint8_t *b0 = next_block(m0, p0, n, &at0);
        const uint8_t *b1 = next_block(m1, p1, n, &at1);
        if (b0 && b1) { compress2(m0->s, b0, m1->s, b1); continue; }
        /* one stream is out of whole blocks: at most one block is left in the other */
        if (b0) compress1(m0->s, b0);
        if (b1) compress1(m1->s, b1);
        if (b0 && (b0 = next_block(m0, p0, n, &at0))) compress1(m0->s, b0);
        if (b1 && (b1 = next_block(m1, p1, n, &at1))) compress1(m1->s, b1);
        break;
    }
    keep_tail(m0, p0, n, at0);
    keep_tail(m1, p1, n, at1);
}

void vigil__md5_final(vigil__md5 *m, uint8_t out[16])
{
    uint64_t bits = m->len * 8;
    uint8_t pad[72] = {0x80};
    size_t k = (m->fill < 56 ? 56 : 120) - m->fill;
    for (int i = 0; i < 8; i++) pad[k + i] = (uint8_t)(bits >> (8 * i));
    uint64_t len = m->len;
    vigil__md5_update(m, pad, k + 8);
    m->len = len;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = (uint8_t)(m->s[i] >> (8 * j));
}
