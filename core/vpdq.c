/* vpdq.c - comparing two videos' vPDQ frames the way python-threatexchange does (what HMA uses):
 * quality filter, repeated hashes dropped, then each side's share of frames that have a partner
 * within the distance. A bag of frames: order and time play no part. */
#include "internal.h"
#include "options.h"

#include <stdlib.h>
#include <string.h>

void vigil_vpdq_match_options_init(vigil_vpdq_match_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->quality_min = 50;
    o->distance_max = 31;
    o->query_pct_min = 80;
    o->target_pct_min = 0;
}

static int cmp_pdq(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(vigil_pdq));
}

/* The frames kept: quality >= qmin, each hash once (the first; only the hash matters here). */
static size_t keep(const vigil_vpdq_frame *f, size_t n, int qmin, vigil_pdq *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (f[i].quality >= qmin) out[k++] = f[i].pdq;
    if (k < 2) return k;
    qsort(out, k, sizeof *out, cmp_pdq);
    size_t u = 1;
    for (size_t i = 1; i < k; i++)
        if (memcmp(&out[i], &out[u - 1], sizeof *out)) out[u++] = out[i];
    return u;
}

static double share(const vigil_pdq *a, size_t na, const vigil_pdq *b, size_t nb, int dmax)
{
    if (!na) return 0;
    size_t hit = 0;
    for (size_t i = 0; i < na; i++)
        for (size_t k = 0; k < nb; k++)
            if (vigil_pdq_distance(&a[i], &b[k]) <= dmax) { hit++; break; }
    return 100.0 * (double)hit / (double)na;
}

vigil_result vigil_vpdq_compare(const vigil_vpdq_frame *q, size_t nq, const vigil_vpdq_frame *t, size_t nt,
                                const vigil_vpdq_match_options *opt, double *query_pct, double *target_pct,
                                int *verdict, vigil_error *err)
{
    vigil_vpdq_match_options o;
    vigil_vpdq_match_options_init(&o);
    if (opt) {
        vigil_result r = vigil__opt_check(opt->struct_size, sizeof o, "vigil_vpdq_match_options", err);
        if (r) return r;
        VIGIL__OPT_TAKE(&o, opt, quality_min);
        VIGIL__OPT_TAKE(&o, opt, distance_max);
        VIGIL__OPT_TAKE(&o, opt, query_pct_min);
        VIGIL__OPT_TAKE(&o, opt, target_pct_min);
        VIGIL__OPT_LAST(vigil_vpdq_match_options, target_pct_min);
    }
    if ((nq && !q) || (nt && !t) || o.distance_max < 0 || o.distance_max > 256)
        return vigil__fail(err, VIGIL_E_INVALID, "vigil_vpdq_compare: bad arguments");
    vigil_pdq *a = malloc((nq + 1) * sizeof *a), *b = malloc((nt + 1) * sizeof *b);
    if (!a || !b) { free(a); free(b); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory comparing videos"); }
    size_t na = keep(q, nq, o.quality_min, a), nb = keep(t, nt, o.quality_min, b);
    double qp = share(a, na, b, nb, o.distance_max), tp = share(b, nb, a, na, o.distance_max);
    free(a);
    free(b);
    if (query_pct) *query_pct = qp;
    if (target_pct) *target_pct = tp;
    if (verdict) *verdict = qp >= o.query_pct_min && tp >= o.target_pct_min;
    return VIGIL_OK;
}

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (!n || n > 19) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* A non-negative decimal with an optional fraction, as %.3f writes it (any number of digits). */
static int parse_seconds(const char *s, size_t n, double *out)
{
    if (!n || n > 40) return -1;
    double v = 0, scale = 1;
    int dot = 0, digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' && !dot) { dot = 1; continue; }
        if (s[i] < '0' || s[i] > '9') return -1;
        digits++;
        if (dot) { scale /= 10; v += (s[i] - '0') * scale; }
        else v = v * 10 + (s[i] - '0');
    }
    if (!digits) return -1;
    *out = v;
    return 0;
}

vigil_result vigil_vpdq_parse(const char *data, size_t size, vigil_vpdq_video_fn fn, void *ctx, vigil_error *err)
{
    if (!data && size) return vigil__fail(err, VIGIL_E_INVALID, "vigil_vpdq_parse: no data");
    vigil_vpdq_frame *f = NULL;
    size_t n = 0, cap = 0;
    char *name = NULL;
    int started = 0; /* a "# NAME" line or a frame has been seen */
    vigil_result res = VIGIL_OK;
    size_t line = 0;
    for (size_t p = 0; p < size;) {
        const char *s = data + p;
        const char *nl = memchr(s, '\n', size - p);
        size_t len = nl ? (size_t)(nl - s) : size - p;
        p += len + (nl ? 1 : 0);
        line++;
        if (len && s[len - 1] == '\r') len--;
        if (!len) continue;
        if (s[0] == '#') {
            if (started && fn && fn(name, f, n, ctx)) goto done;
            free(name);
            size_t k = 1;
            while (k < len && s[k] == ' ') k++;
            name = malloc(len - k + 1);
            if (!name) { res = vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); goto done; }
            memcpy(name, s + k, len - k);
            name[len - k] = 0;
            n = 0;
            started = 1;
            continue;
        }
        const char *c[4];
        size_t cl[4];
        size_t at = 0;
        int k = 0;
        for (; k < 4; k++) {
            c[k] = s + at;
            const char *comma = k < 3 ? memchr(s + at, ',', len - at) : NULL;
            if (k < 3 && !comma) break;
            cl[k] = k < 3 ? (size_t)(comma - (s + at)) : len - at;
            at += cl[k] + 1;
        }
        vigil_vpdq_frame fr;
        uint64_t q;
        if (k < 4 || parse_u64(c[0], cl[0], &fr.frame_number) || parse_u64(c[1], cl[1], &q) || q > 100 ||
            vigil_pdq_from_hex(c[2], cl[2], &fr.pdq) || parse_seconds(c[3], cl[3], &fr.timestamp)) {
            res = vigil__fail(err, VIGIL_E_PARSE, "line %zu: not a vPDQ line (frameNumber,quality,pdqHex,timestamp)", line);
            goto done;
        }
        fr.quality = (int)q;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            vigil_vpdq_frame *g = realloc(f, nc * sizeof *g);
            if (!g) { res = vigil__fail(err, VIGIL_E_NOMEM, "out of memory at line %zu", line); goto done; }
            f = g;
            cap = nc;
        }
        f[n++] = fr;
        started = 1;
    }
    if (started && fn) fn(name, f, n, ctx);
done:
    free(f);
    free(name);
    return res;
}
