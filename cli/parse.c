/* parse.c - option values, parsed strictly: whole numbers, sizes with suffixes, decimals,
 * rectangles and key=value labels. One place, so that every command refuses the same way. */
#include "cli.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- option values ------------------------------------------------------------------------------
 * Strict: decimal digits only (a '-' only where negative values mean something), nothing before
 * or after them, no overflow; decimals follow the same rule plus a fraction and an exponent, never
 * NaN, infinity or hex, whatever the locale. Every refusal names the option, the range and the
 * value given. */

/* Decimal digits with an optional leading '-': *neg and the magnitude; -1 for anything else or a
 * magnitude past 2^64 - 1. */
static int whole(const char *s, int *neg, uint64_t *mag)
{
    *neg = *s == '-';
    if (*neg) s++;
    return vigil__parse_u64(s, UINT64_MAX, mag);
}

int cli_strict_int(const char *s, long long lo, long long hi, long long *out)
{
    int neg;
    uint64_t m;
    if (whole(s, &neg, &m)) return -1;
    if (neg ? m > (uint64_t)LLONG_MAX + 1 : m > (uint64_t)LLONG_MAX) return -1;
    long long v = neg ? (long long)(0 - m) : (long long)m;
    if (v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int cli_parse_int(const char *opt, const char *s, int lo, int hi, int *out)
{
    long long v;
    if (cli_strict_int(s, lo, hi, &v)) {
        cli_warn("%s needs a whole number from %d to %d, not '%s'", opt, lo, hi, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int cli_strict_u64(const char *s, uint64_t lo, uint64_t hi, int suffixes, uint64_t *out)
{
    const char *e = s;
    while (*e >= '0' && *e <= '9') e++;
    char digits[24];
    if (e == s || (size_t)(e - s) >= sizeof digits) return -1;
    memcpy(digits, s, (size_t)(e - s));
    digits[e - s] = 0;
    uint64_t v, unit = 1;
    if (vigil__parse_u64(digits, UINT64_MAX, &v)) return -1;
    if (*e && suffixes) {
        const char *units = "KMGT", *u = strchr(units, toupper((unsigned char)*e));
        if (!u) return -1;
        for (const char *k = units; k <= u; k++) unit *= 1024;
        e++;
        if (!strcmp(e, "iB") || !strcmp(e, "B")) e += strlen(e);
    }
    if (*e || v > UINT64_MAX / unit) return -1;
    v *= unit;
    if (v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int cli_parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, int suffixes, uint64_t *out)
{
    if (!cli_strict_u64(s, lo, hi, suffixes, out)) return 0;
    if (hi == UINT64_MAX) cli_warn("%s needs a whole number of at least %llu%s, not '%s'", opt, (unsigned long long)lo,
                                   suffixes ? " (K, M, G or T after it: x1024)" : "", s);
    else cli_warn("%s needs a whole number from %llu to %llu%s, not '%s'", opt, (unsigned long long)lo, (unsigned long long)hi,
                  suffixes ? " (K, M, G or T after it: x1024)" : "", s);
    return -1;
}

int cli_strict_double(const char *s, double lo, double hi, double *out)
{
    /* the grammar first: strtod alone would take " 1", "+1", "0x1p3", "nan" and "inf" */
    const char *p = s;
    if (*p == '-') p++;
    size_t digits = 0;
    while (isdigit((unsigned char)*p)) p++, digits++;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) p++, digits++;
    }
    if (!digits) return -1;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return -1;
        while (isdigit((unsigned char)*p)) p++;
    }
    if (*p) return -1;
    static locale_t c_locale;
    if (!c_locale) c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (!c_locale) return -1;
    errno = 0;
    double v = strtod_l(s, NULL, c_locale);
    if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1) || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int cli_parse_double(const char *opt, const char *s, double lo, double hi, double *out)
{
    if (!cli_strict_double(s, lo, hi, out)) return 0;
    cli_warn("%s needs a number from %g to %g, not '%s'", opt, lo, hi, s);
    return -1;
}

int cli_strict_rect(const char *s, vigil_rect *r)
{
    char b[256], *parts[4], *p = b;
    size_t n = strlen(s);
    if (n >= sizeof b) return -1;
    memcpy(b, s, n + 1);
    for (int i = 0; i < 4; i++) {
        parts[i] = p;
        char *c = strchr(p, ',');
        if ((i < 3) != (c != NULL)) return -1;
        if (c) { *c = 0; p = c + 1; }
    }
    double v[4];
    /* an image has at most 2^28 pixels: anything beyond a billion is a typo, and fits a float */
    for (int i = 0; i < 4; i++)
        if (cli_strict_double(parts[i], i < 2 ? -1e9 : 0, 1e9, &v[i])) return -1;
    *r = (vigil_rect){(float)v[0], (float)v[1], (float)v[2], (float)v[3]};
    /* judged as stored: a width of 1e-100 is above 0 as a double but 0 as a float (fuzz-args) */
    if (!(r->w > 0) || !(r->h > 0)) return -1;
    return 0;
}

int cli_parse_rect(const char *opt, const char *s, vigil_rect *r)
{
    if (!cli_strict_rect(s, r)) return 0;
    cli_warn("%s needs X,Y,W,H (pixels; width and height above 0, each at most 1e9), not '%s'", opt, s);
    return -1;
}

const char *cli_labels_problem(const char *s)
{
    for (const char *p = s; *p;) {
        if (*p == ' ') { p++; continue; }
        const char *e = strchr(p, ' '), *eq = memchr(p, '=', e ? (size_t)(e - p) : strlen(p));
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (!eq) return "a word without '=' (labels are key=value)";
        if (eq == p) return "a value without its key";
        if (eq + 1 == p + len) return "a key without a value";
        for (const char *c = p; c < p + len; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) return "a control character";
        p += len;
    }
    return NULL;
}

int cli_parse_labels(const char *opt, const char *s)
{
    const char *why = cli_labels_problem(s);
    if (!why) return 0;
    cli_warn("%s needs space-separated key=value labels (no space inside a value), not '%s': %s", opt, s, why);
    return -1;
}
