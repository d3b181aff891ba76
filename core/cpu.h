/* cpu.h - what the CPU runs (cpu.c): cpuid + xgetbv, minus VIGIL_DISABLE_CPU_FEATURES. */
#ifndef VIGIL_CPU_H
#define VIGIL_CPU_H

enum { VIGIL_CPU_POPCNT = 1, VIGIL_CPU_AVX2 = 2, VIGIL_CPU_AVX512 = 4 /* F + VL + VPOPCNTDQ */ };
unsigned vigil__cpu_features(void);         /* detected, minus VIGIL_DISABLE_CPU_FEATURES; cached */
unsigned vigil__cpu_features_present(void); /* detected, ignoring the environment */

#endif
