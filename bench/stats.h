/* stats.h - confidence bounds for the evaluations (bench/eval.c, bench/rooms_eval.c). */
#ifndef VIGIL_BENCH_STATS_H
#define VIGIL_BENCH_STATS_H

/* One-sided 95 % Clopper-Pearson bounds for k events in n trials. */
double bench_cp_upper(unsigned long long k, unsigned long long n);
double bench_cp_lower(unsigned long long k, unsigned long long n);

#endif
