/* orient_avx2.c - a feature's intensity-centroid moments a row of the patch at a time (portable twin
 * and dispatch: core/features_orient.c; tests/test_features.c compares them). A row's 32 bytes
 * from dx = -16 go through maddubs twice: against the weights dx (0 outside the row's span) for
 * m10, and against 1 (0 outside) for the row's sum, which madd then weighs by dy for m01. Every
 * pair sum fits 16 bits (2 x 255 x 16), every total 32: the same integers as the portable loop. */
#include "../features_impl.h"
#include <immintrin.h>
#include <pthread.h>

static int8_t wx[2 * VIGIL__ORIENT_R + 1][32], wm[2 * VIGIL__ORIENT_R + 1][32];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* the disc's rows as features_orient.c's table has them (|dx| <= floor(sqrt(R^2 - dy^2)), worked
 * out here so that this file and that one do not use each other) */
static void make_weights(void)
{
    for (int r = 0; r <= 2 * VIGIL__ORIENT_R; r++)
        for (int i = 0; i < 32; i++) {
            int dx = i - 16, dy = r - VIGIL__ORIENT_R, in = dx * dx + dy * dy <= VIGIL__ORIENT_R * VIGIL__ORIENT_R;
            wx[r][i] = (int8_t)(in ? dx : 0);
            wm[r][i] = (int8_t)in;
        }
}

void vigil__orient_moments_avx2(const uint8_t *p, size_t stride, int32_t *m10, int32_t *m01)
{
    pthread_once(&once, make_weights);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i a = _mm256_setzero_si256(), b = _mm256_setzero_si256();
    for (int dy = -VIGIL__ORIENT_R; dy <= VIGIL__ORIENT_R; dy++) {
        const int r = dy + VIGIL__ORIENT_R;
        const __m256i px = _mm256_loadu_si256((const __m256i *)(p + (ptrdiff_t)dy * (ptrdiff_t)stride - 16));
        const __m256i t = _mm256_maddubs_epi16(px, _mm256_loadu_si256((const __m256i *)wx[r]));
        const __m256i s = _mm256_maddubs_epi16(px, _mm256_loadu_si256((const __m256i *)wm[r]));
        a = _mm256_add_epi32(a, _mm256_madd_epi16(t, ones));
        b = _mm256_add_epi32(b, _mm256_madd_epi16(s, _mm256_set1_epi16((short)dy)));
    }
    /* the eight lanes of each into one */
    __m128i a4 = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    __m128i b4 = _mm_add_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
    a4 = _mm_add_epi32(a4, _mm_shuffle_epi32(a4, 0x4e));
    b4 = _mm_add_epi32(b4, _mm_shuffle_epi32(b4, 0x4e));
    a4 = _mm_add_epi32(a4, _mm_shuffle_epi32(a4, 0xb1));
    b4 = _mm_add_epi32(b4, _mm_shuffle_epi32(b4, 0xb1));
    *m10 = _mm_cvtsi128_si32(a4);
    *m01 = _mm_cvtsi128_si32(b4);
}
