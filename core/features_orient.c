/* features_orient.c - the intensity-centroid moments that orient a feature (features.c): the
 * portable reference and the dispatch to the ISA variant (x86/orient_avx2.c; tests/test_features.c
 * compares them on random patches). Integer sums, so every variant gives the same moments and the
 * same orientation. */
#include "cpu.h"
#include "features_impl.h"

#include <string.h>

/* floor(sqrt(15^2 - dy^2)) for dy = -15..15: the circular patch's half-width per row */
const uint8_t vigil__orient_span[2 * VIGIL__ORIENT_R + 1] = {0, 5, 7, 9, 10, 11, 12, 12, 13, 13, 14, 14, 14, 14, 14, 15,
                                                               14, 14, 14, 14, 14, 13, 13, 12, 12, 11, 10, 9, 7, 5, 0};

void vigil__orient_moments_portable(const uint8_t *p, size_t stride, int32_t *m10, int32_t *m01)
{
    int32_t a = 0, b = 0;
    for (int dy = -VIGIL__ORIENT_R; dy <= VIGIL__ORIENT_R; dy++) {
        const int span = vigil__orient_span[dy + VIGIL__ORIENT_R];
        const uint8_t *row = p + (ptrdiff_t)dy * (ptrdiff_t)stride;
        int32_t s = 0;
        for (int dx = -span; dx <= span; dx++) {
            a += dx * row[dx];
            s += row[dx];
        }
        b += dy * s;
    }
    *m10 = a;
    *m01 = b;
}

vigil__orient_fn vigil__orient_named(const char *name)
{
    if (!strcmp(name, "portable")) return vigil__orient_moments_portable;
#if defined(__x86_64__)
    if (!strcmp(name, "avx2") && (vigil__cpu_features() & VIGIL_CPU_AVX2)) return vigil__orient_moments_avx2;
#endif
    return NULL;
}

vigil__orient_fn vigil__orient_best(void)
{
    vigil__orient_fn f = vigil__orient_named("avx2");
    return f ? f : vigil__orient_moments_portable;
}
