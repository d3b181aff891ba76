/* features_fast.c - the FAST-9 row test (Rosten and Drummond 2006) that finds the corner
 * candidates of features.c: the portable reference and the dispatch to the ISA variant
 * (x86/fast_avx2.c; tests/test_features.c compares them byte for byte). The variant does whole
 * spans of 32 pixels or more; a shorter span is done here, so the variant never calls back. */
#include "cpu.h"
#include "features_impl.h"
#include "internal.h"

#include <string.h>

const int8_t vigil__fast_circle[16][2] = {{0, -3}, {1, -3}, {2, -2}, {3, -1}, {3, 0}, {3, 1}, {2, 2}, {1, 3},
                                     {0, 3}, {-1, 3}, {-2, 2}, {-3, 1}, {-3, 0}, {-3, -1}, {-2, -2}, {-1, -3}};

void vigil__fast_row_portable(const uint8_t *row, size_t stride, int x0, int x1, int t, uint8_t *out)
{
    ptrdiff_t off[16];
    for (int k = 0; k < 16; k++)
        off[k] = (ptrdiff_t)vigil__fast_circle[k][1] * (ptrdiff_t)stride + vigil__fast_circle[k][0];
    for (int x = x0; x < x1; x++) {
        const uint8_t *p = row + x;
        int c = p[0], hi = c + t, lo = c - t;
        uint32_t b = 0, d = 0;
        for (int k = 0; k < 16; k++) {
            b |= (uint32_t)(p[off[k]] > hi) << k;
            d |= (uint32_t)(p[off[k]] < lo) << k;
        }
        /* a run of 9 set bits around the circle: AND the mask (doubled, to wrap) with its shifts */
        b |= b << 16;
        d |= d << 16;
        uint32_t rb = b, rd = d;
        for (int k = 1; k < 9; k++) { rb &= b >> k; rd &= d >> k; }
        out[x] = (rb | rd) & 0xffff ? 0xff : 0;
    }
}

#if defined(__x86_64__)
/* A span under one 32-pixel block has no block to overlap its tail with: portable. */
static void fast_row_avx2_any(const uint8_t *row, size_t stride, int x0, int x1, int t, uint8_t *out)
{
    if (x1 - x0 >= 32) vigil__fast_row_avx2(row, stride, x0, x1, t, out);
    else vigil__fast_row_portable(row, stride, x0, x1, t, out);
}
#endif

vigil__fast_row_fn vigil__fast_row_named(const char *name)
{
    if (!strcmp(name, "portable")) return vigil__fast_row_portable;
#if defined(__x86_64__)
    if (!strcmp(name, "avx2") && (vigil__cpu_features() & VIGIL_CPU_AVX2)) return fast_row_avx2_any;
#endif
    return NULL;
}

vigil__fast_row_fn vigil__fast_row_best(void)
{
    vigil__fast_row_fn f = vigil__fast_row_named("avx2");
    return f ? f : vigil__fast_row_portable;
}
