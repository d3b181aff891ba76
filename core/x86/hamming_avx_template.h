/* hamming_avx_template.h - the AVX2 / AVX-512 kernel body, compiled once per variant file with its
 * own popcount (hamming_avx2.c, hamming_avx512.c); no include guard, on purpose.
 *
 * The includer defines POPCNT4(x): a __m256i of the popcounts of x's four 64-bit words, one per
 * 64-bit lane, and KERNEL(name): the variant's function name. One reference is one 32-byte vector
 * (the index stores hashes whole, so a candidate costs one cache line); four references are
 * reduced together so no horizontal sum is done per hash. */
#if !defined(POPCNT4) || !defined(KERNEL)
#error "define POPCNT4 and KERNEL before including hamming_avx_template.h"
#endif
#include <immintrin.h>

/* The 4 distances of q against a, b, c, d, as 64-bit lanes in that order. */
static inline __m256i dist4(__m256i q, __m256i a, __m256i b, __m256i c, __m256i d)
{
    __m256i pa = POPCNT4(_mm256_xor_si256(q, a)), pb = POPCNT4(_mm256_xor_si256(q, b));
    __m256i pc = POPCNT4(_mm256_xor_si256(q, c)), pd = POPCNT4(_mm256_xor_si256(q, d));
    __m256i ab = _mm256_add_epi64(_mm256_unpacklo_epi64(pa, pb), _mm256_unpackhi_epi64(pa, pb));
    __m256i cd = _mm256_add_epi64(_mm256_unpacklo_epi64(pc, pd), _mm256_unpackhi_epi64(pc, pd));
    return _mm256_add_epi64(_mm256_permute2x128_si256(ab, cd, 0x20), _mm256_permute2x128_si256(ab, cd, 0x31));
}

static inline __m256i load_ref(const vigil_pdq *refs, const uint32_t *slots, size_t j)
{
    return _mm256_loadu_si256((const __m256i *)(slots ? &refs[slots[j]] : &refs[j]));
}

#ifndef PF
#define PF 96 /* candidates ahead: one DRAM miss (~100 ns) is ~40 candidates of work */
#endif

static size_t KERNEL(radius)(const vigil_pdq *q, size_t nq, const vigil_pdq *refs, const uint32_t *slots,
                             size_t n, int radius, vigil__hit *hits)
{
    size_t k = 0, j = 0;
    const __m256i limit = _mm256_set1_epi64x((long long)radius + 1);
    for (; j + 4 <= n; j += 4) {
        if (slots && j + PF + 3 < n) { /* candidates are scattered: fetch ahead of use */
            _mm_prefetch((const char *)&refs[slots[j + PF]], _MM_HINT_T0);
            _mm_prefetch((const char *)&refs[slots[j + PF + 1]], _MM_HINT_T0);
            _mm_prefetch((const char *)&refs[slots[j + PF + 2]], _MM_HINT_T0);
            _mm_prefetch((const char *)&refs[slots[j + PF + 3]], _MM_HINT_T0);
        } else if (!slots && nq <= 2 && j + 66 < n) {
            /* a one-query scan is a pure stream: prefetching 2 KiB ahead brings it to a plain
             * read loop's bandwidth (bench/results/match.md) */
            _mm_prefetch((const char *)&refs[j + 64], _MM_HINT_NTA);
            _mm_prefetch((const char *)&refs[j + 66], _MM_HINT_NTA);
        }
        __m256i a = load_ref(refs, slots, j), b = load_ref(refs, slots, j + 1);
        __m256i c = load_ref(refs, slots, j + 2), d = load_ref(refs, slots, j + 3);
        for (size_t i = 0; i < nq; i++) {
            __m256i qq = _mm256_loadu_si256((const __m256i *)&q[i]);
            __m256i dd = dist4(qq, a, b, c, d);
            unsigned m = (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(limit, dd)));
            if (__builtin_expect(m != 0, 0)) {
                uint64_t ds[4];
                _mm256_storeu_si256((__m256i *)ds, dd);
                for (int l = 0; l < 4; l++)
                    if (m & (1u << l)) hits[k++] = (vigil__hit){(uint32_t)(j + l), (uint16_t)i, (uint16_t)ds[l]};
            }
        }
    }
    for (; j < n; j++) { /* tail: one reference against itself four times */
        __m256i a = load_ref(refs, slots, j);
        for (size_t i = 0; i < nq; i++) {
            __m256i qq = _mm256_loadu_si256((const __m256i *)&q[i]);
            int d = (int)_mm256_extract_epi64(dist4(qq, a, a, a, a), 0);
            if (d <= radius) hits[k++] = (vigil__hit){(uint32_t)j, (uint16_t)i, (uint16_t)d};
        }
    }
    return k;
}

static void KERNEL(dist)(const vigil_pdq *q, const vigil_pdq *refs, size_t n, uint16_t *dist)
{
    size_t j = 0;
    __m256i qq = _mm256_loadu_si256((const __m256i *)q);
    for (; j + 4 <= n; j += 4) {
        __m256i dd = dist4(qq, load_ref(refs, NULL, j), load_ref(refs, NULL, j + 1), load_ref(refs, NULL, j + 2),
                           load_ref(refs, NULL, j + 3));
        uint64_t ds[4];
        _mm256_storeu_si256((__m256i *)ds, dd);
        for (int l = 0; l < 4; l++) dist[j + l] = (uint16_t)ds[l];
    }
    for (; j < n; j++) {
        __m256i a = load_ref(refs, NULL, j);
        dist[j] = (uint16_t)_mm256_extract_epi64(dist4(qq, a, a, a, a), 0);
    }
}
