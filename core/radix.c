/* radix.c - see radix.h. */
#include "radix.h"

#include <stdlib.h>
#include <string.h>

int vigil__radix_order(uint64_t *keys, uint32_t *perm, size_t n)
{
    if (n > UINT32_MAX) return -1;
    uint64_t *kt = malloc(n * sizeof *kt + 1);
    uint32_t *pt = malloc(n * sizeof *pt + 1);
    if (!kt || !pt) { free(kt); free(pt); return -1; }
    uint64_t *ka = keys, *kb = kt;
    uint32_t *pa = perm, *pb = pt;
    for (size_t i = 0; i < n; i++) pa[i] = (uint32_t)i;
    for (int shift = 0; shift < 64; shift += 8) {
        size_t cnt[257] = {0};
        for (size_t i = 0; i < n; i++) cnt[(ka[i] >> shift & 255) + 1]++;
        if (n && cnt[(ka[0] >> shift & 255) + 1] == n) continue; /* one byte for all: nothing moves */
        for (int d = 0; d < 256; d++) cnt[d + 1] += cnt[d];
        for (size_t i = 0; i < n; i++) {
            size_t at = cnt[ka[i] >> shift & 255]++;
            kb[at] = ka[i];
            pb[at] = pa[i];
        }
        uint64_t *xk = ka; ka = kb; kb = xk;
        uint32_t *xp = pa; pa = pb; pb = xp;
    }
    if (ka != keys) { /* an odd number of passes moved: the result is in the scratch */
        memcpy(keys, ka, n * sizeof *keys);
        memcpy(perm, pa, n * sizeof *perm);
    }
    free(kt);
    free(pt);
    return 0;
}
