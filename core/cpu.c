/* cpu.c - x86 feature detection, done once and cached: cpuid for the instructions, xgetbv for
 * whether the OS saves the YMM/ZMM registers on a context switch (without that, AVX is unusable
 * even where cpuid reports it). VIGIL_DISABLE_CPU_FEATURES (comma list: avx512, avx2, popcnt, or
 * "all") turns features off, so the test suite can run every kernel level on one machine. */
#include "cpu.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static unsigned detect(void)
{
    unsigned a, b, c, d, f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (c & bit_POPCNT) f |= VIGIL_CPU_POPCNT;
    int osxsave = (c & bit_OSXSAVE) != 0, avx = (c & bit_AVX) != 0;
    if (!osxsave || !avx) return f;
    uint64_t xcr0 = xgetbv0();
    int ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xe6) == 0xe6;
    if (__get_cpuid_max(0, NULL) < 7) return f;
    __cpuid_count(7, 0, a, b, c, d);
    if (ymm && (b & bit_AVX2)) f |= VIGIL_CPU_AVX2;
    if (zmm && (b & bit_AVX512F) && (b & bit_AVX512VL) && (c & bit_AVX512VPOPCNTDQ))
        f |= VIGIL_CPU_AVX512;
    return f;
}
#else
static unsigned detect(void) { return 0; }
#endif

static unsigned disabled_by_env(void)
{
    const char *e = getenv("VIGIL_DISABLE_CPU_FEATURES");
    unsigned off = 0;
    if (!e) return 0;
    if (strstr(e, "all")) return ~0u;
    if (strstr(e, "avx512")) off |= VIGIL_CPU_AVX512;
    if (strstr(e, "avx2")) off |= VIGIL_CPU_AVX2 | VIGIL_CPU_AVX512;
    if (strstr(e, "popcnt")) off |= VIGIL_CPU_POPCNT | VIGIL_CPU_AVX2 | VIGIL_CPU_AVX512;
    return off;
}

/* 0 = not yet detected; the stored value has bit 31 set so a CPU with no features still caches. */
static unsigned cached;

unsigned vigil__cpu_features(void)
{
    unsigned f = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (!f) {
        f = (detect() & ~disabled_by_env()) | 0x80000000u;
        __atomic_store_n(&cached, f, __ATOMIC_RELAXED);
    }
    return f & 0x7fffffffu;
}

unsigned vigil__cpu_features_present(void) { return detect(); }
