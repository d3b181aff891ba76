/* hamming_popcnt.c - the portable loop built with the POPCNT instruction (x86-64-v2): the level
 * for CPUs without AVX2. */
#include "../hamming.h"
#include "hamming_x86.h"

#define KERNEL(name) name##_popcnt
#define POPCOUNT64(x) __builtin_popcountll(x)
#include "../hamming_template.h"

const vigil__kernels vigil__kernels_popcnt = {"popcnt", radius_popcnt, dist_popcnt};
