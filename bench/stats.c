/* stats.c - exact binomial (Clopper-Pearson) bounds, by bisection on the binomial CDF. */
#include "stats.h"

#include <math.h>

static double cdf(unsigned long long k, unsigned long long n, double p) /* P(X <= k) */
{
    double s = 0;
    for (unsigned long long i = 0; i <= k; i++)
        s += exp(lgamma((double)n + 1) - lgamma((double)i + 1) - lgamma((double)(n - i) + 1) + i * log(p) + (n - i) * log1p(-p));
    return s;
}

double bench_cp_upper(unsigned long long k, unsigned long long n)
{
    if (n == 0 || k >= n) return 1;
    double lo = (double)k / n, hi = 1;
    for (int it = 0; it < 100; it++) { /* P(X <= k | p) = 0.05 */
        double p = (lo + hi) / 2;
        if (cdf(k, n, p) > 0.05) lo = p; else hi = p;
    }
    return hi;
}

double bench_cp_lower(unsigned long long k, unsigned long long n)
{
    if (n == 0 || k == 0) return 0;
    double lo = 0, hi = (double)k / n;
    for (int it = 0; it < 100; it++) { /* P(X >= k | p) = 0.05 */
        double p = (lo + hi) / 2;
        if (1 - cdf(k - 1, n, p) < 0.05) lo = p; else hi = p;
    }
    return lo;
}
