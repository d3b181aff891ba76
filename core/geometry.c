/* geometry.c - the homography between two views of a place: a least-squares fit on normalised
 * points, RANSAC over the index's correspondences, and guided matching once it is known. A
 * homography is exact for views turned about one point and a fair model for a room's dominant
 * planes; rooms_query.c decides which images get verified. */
#include "geometry.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Solves the n x n system a x = b in place (partial pivoting); 0 when singular. */
static int solve(double *a, double *b, int n)
{
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int i = c + 1; i < n; i++)
            if (fabs(a[i * n + c]) > fabs(a[p * n + c])) p = i;
        if (fabs(a[p * n + c]) < 1e-10) return 0;
        if (p != c) {
            for (int k = 0; k < n; k++) { double t = a[c * n + k]; a[c * n + k] = a[p * n + k]; a[p * n + k] = t; }
            double t = b[c]; b[c] = b[p]; b[p] = t;
        }
        for (int i = c + 1; i < n; i++) {
            double f = a[i * n + c] / a[c * n + c];
            for (int k = c; k < n; k++) a[i * n + k] -= f * a[c * n + k];
            b[i] -= f * b[c];
        }
    }
    for (int c = n - 1; c >= 0; c--) {
        double s = b[c];
        for (int k = c + 1; k < n; k++) s -= a[c * n + k] * b[k];
        b[c] = s / a[c * n + c];
    }
    return 1;
}

/* Least-squares homography (h33 = 1) from the listed correspondences, normalised coordinates:
 * normal equations of the DLT rows. */
static int fit(const double *q, const double *p, const int *idx, int n, double h[9])
{
    double ata[64] = {0}, atb[8] = {0};
    for (int i = 0; i < n; i++) {
        double x = q[2 * idx[i]], y = q[2 * idx[i] + 1], u = p[2 * idx[i]], v = p[2 * idx[i] + 1];
        double r1[8] = {x, y, 1, 0, 0, 0, -u * x, -u * y}, r2[8] = {0, 0, 0, x, y, 1, -v * x, -v * y};
        for (int a = 0; a < 8; a++) {
            atb[a] += r1[a] * u + r2[a] * v;
            for (int b = 0; b < 8; b++) ata[a * 8 + b] += r1[a] * r1[b] + r2[a] * r2[b];
        }
    }
    if (!solve(ata, atb, 8)) return 0;
    memcpy(h, atb, 8 * sizeof *h);
    h[8] = 1;
    /* no mirror image (a room seen again keeps its handedness), and no collapse: both point sets
     * are normalised to the same spread, so a true view change keeps the local area within a
     * modest factor */
    double det = h[0] * h[4] - h[1] * h[3];
    return det > 1.0 / 16 && det < 16;
}

/* The ratio of the singular values of h's linear part (s1 s2 = det, s1^2 + s2^2 = the squared
 * Frobenius norm): 1 for a similarity; infinite for a mirror or a collapse. */
static double stretch(const double h[9])
{
    double det = h[0] * h[4] - h[1] * h[3];
    if (!(det > 0)) return HUGE_VAL;
    double f = h[0] * h[0] + h[1] * h[1] + h[3] * h[3] + h[4] * h[4], disc = f * f - 4 * det * det;
    double s1 = sqrt((f + sqrt(disc > 0 ? disc : 0)) / 2), s2 = det / s1;
    return s1 / s2;
}

/* Least-squares affine map (the last row 0 0 1) from the listed correspondences, normalised
 * coordinates: the model of one photograph reframed (cropped, scaled, turned, stretched a little).
 * Six unknowns, so a stray correspondence cannot bend it the way a homography's perspective
 * terms bend to collect chance matches. Refused: a mirror, a collapse, and a stretch of more than
 * 2:1 between the two axes, which no reframing makes. */
static int fit_affine(const double *q, const double *p, const int *idx, int n, double h[9])
{
    double a[9] = {0}, bu[3] = {0}, bv[3] = {0};
    for (int i = 0; i < n; i++) {
        double r[3] = {q[2 * idx[i]], q[2 * idx[i] + 1], 1}, u = p[2 * idx[i]], v = p[2 * idx[i] + 1];
        for (int x = 0; x < 3; x++) {
            bu[x] += r[x] * u;
            bv[x] += r[x] * v;
            for (int y = 0; y < 3; y++) a[x * 3 + y] += r[x] * r[y];
        }
    }
    double a2[9];
    memcpy(a2, a, sizeof a);
    if (!solve(a, bu, 3) || !solve(a2, bv, 3)) return 0;
    double m[9] = {bu[0], bu[1], bu[2], bv[0], bv[1], bv[2], 0, 0, 1};
    memcpy(h, m, sizeof m);
    double det = h[0] * h[4] - h[1] * h[3];
    if (!(det > 1.0 / 16 && det < 16)) return 0;
    return stretch(h) <= 2;
}

/* The affine map with its axes' proportions kept within REFRAME_STRETCH (the known images'
 * model, kfeat_search.c): an aspect change of 1.3:1 passes, the 1.9:1 stretch-and-shear by which a
 * chance map paired a sunset's treeline with a canyon's rim (bench/results/kfeat.md) does not. */
#define REFRAME_STRETCH 1.45

static int fit_model(int model, const double *q, const double *p, const int *idx, int n, double h[9])
{
    if (model == VIGIL__MODEL_REFRAME) return fit_affine(q, p, idx, n, h) && stretch(h) <= REFRAME_STRETCH;
    return model == VIGIL__MODEL_AFFINE ? fit_affine(q, p, idx, n, h) : fit(q, p, idx, n, h);
}

static int count_inliers(const double *q, const double *p, int n, const double h[9], double tol2, int *in)
{
    int c = 0;
    for (int i = 0; i < n; i++) {
        double x = q[2 * i], y = q[2 * i + 1];
        double w = h[6] * x + h[7] * y + h[8];
        if (w <= 1e-9) continue; /* behind the camera */
        double u = (h[0] * x + h[1] * y + h[2]) / w - p[2 * i], v = (h[3] * x + h[4] * y + h[5]) / w - p[2 * i + 1];
        if (u * u + v * v <= tol2) {
            if (in) in[c] = i;
            c++;
        }
    }
    return c;
}

static void normalise(const double *pt, int n, double *out, double t[3])
{
    double mx = 0, my = 0, d = 0;
    for (int i = 0; i < n; i++) { mx += pt[2 * i]; my += pt[2 * i + 1]; }
    mx /= n; my /= n;
    for (int i = 0; i < n; i++) d += hypot(pt[2 * i] - mx, pt[2 * i + 1] - my);
    double s = d > 0 ? 1.41421356 * n / d : 1;
    for (int i = 0; i < n; i++) { out[2 * i] = (pt[2 * i] - mx) * s; out[2 * i + 1] = (pt[2 * i + 1] - my) * s; }
    t[0] = s; t[1] = mx; t[2] = my;
}

/* Whether three of the four sample points (normalised coordinates) nearly lie on a line: such a
 * sample fixes the homography in one direction only. */
static int collinear(const double *pt, const int *s, int k)
{
    static const int tri[4][3] = {{0, 1, 2}, {0, 1, 3}, {0, 2, 3}, {1, 2, 3}};
    for (int t = 0; t < (k == 3 ? 1 : 4); t++) {
        const double *a = pt + 2 * s[tri[t][0]], *b = pt + 2 * s[tri[t][1]], *c = pt + 2 * s[tri[t][2]];
        double area = fabs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])) / 2;
        if (area < 0.02) return 1;
    }
    return 0;
}

static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Back to pixels: H = Tp^-1 * Hn * Tq. */
static void to_pixels(const double *bh, const double *tq, const double *tp, float hout[9])
{
    double sq = tq[0], sp = tp[0];
    double A[9] = {sq, 0, -sq * tq[1], 0, sq, -sq * tq[2], 0, 0, 1}, B[9] = {1 / sp, 0, tp[1], 0, 1 / sp, tp[2], 0, 0, 1};
    double t1[9] = {0}, t2[9] = {0};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++) t1[i * 3 + j] += bh[i * 3 + k] * A[k * 3 + j];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++) t2[i * 3 + j] += B[i * 3 + k] * t1[k * 3 + j];
    for (int i = 0; i < 9; i++) hout[i] = (float)(t2[i] / t2[8]);
}

int vigil__ransac(const double *qp, const double *rp, int n, double tol_px, uint64_t seed, float hout[9], double *work,
                  int *iwork, int model)
{
    int ks = model == VIGIL__MODEL_HOMOGRAPHY ? 4 : 3; /* points a sample needs */
    if (n < 4) return 0;
    double *q = work, *p = work + 2 * n;
    double tq[3], tp[3];
    normalise(qp, n, q, tq);
    normalise(rp, n, p, tp);
    double tol = tol_px * tp[0], tol2 = tol * tol;
    int best = 0, *in = iwork, *sample = iwork + n;
    double bh[9] = {0}, h[9];
    uint64_t s = seed * 0x2545f4914f6cdd1dull + 1;
    int iters = 500;
    for (int it = 0; it < iters; it++) {
        int k = 0;
        for (int tries = 0; k < ks && tries < 64; tries++) {
            int c = (int)(next_rand(&s) % (uint64_t)n), dup = 0;
            for (int j = 0; j < k; j++) dup |= sample[j] == c;
            if (!dup) sample[k++] = c;
        }
        if (k < ks || collinear(q, sample, ks) || collinear(p, sample, ks) || !fit_model(model, q, p, sample, ks, h)) continue;
        int c = count_inliers(q, p, n, h, tol2, NULL);
        if (c > best) {
            best = c;
            memcpy(bh, h, sizeof h);
            /* enough draws for 99 % confidence of one all-inlier sample at this inlier ratio */
            double w = (double)c / n, w4 = ks == 3 ? w * w * w : w * w * w * w;
            int need = w4 >= 1 ? 1 : (int)ceil(log(0.01) / log(1 - w4));
            if (need < iters) iters = need < 64 ? 64 : need;
        }
    }
    if (best < 4) return 0;
    /* refit on the inliers, twice, keeping the better count */
    for (int round = 0; round < 2; round++) {
        int c = count_inliers(q, p, n, bh, tol2, in);
        if (c < 4 || !fit_model(model, q, p, in, c, h)) break;
        int c2 = count_inliers(q, p, n, h, tol2, NULL);
        if (c2 < c) break;
        memcpy(bh, h, sizeof h);
        best = c2;
    }
    to_pixels(bh, tq, tp, hout);
    return best;
}

/* Guided matching. RANSAC saw only the correspondences the index found and the ratio test kept;
 * once the homography is known, each query feature is looked for where it puts it in the
 * reference image, within tol pixels and a looser descriptor distance. That recovers the true
 * matches the index missed (no 16-bit key in common) or the ratio test dropped (a repeated
 * pattern is harmless once the position is fixed). One query feature per reference feature, the
 * nearest in descriptor, whose orientation and scale agree with where H takes the query
 * keypoint's (within 30 degrees and half an octave): without that guard a chance homography
 * collects featureless patterns as "inliers" (bench/results/rooms-guards.md). Then H is refitted
 * on them all and the search repeated once. */
typedef struct ypt { float y; uint32_t j; } ypt;

static int cmp_ypt(const void *a, const void *b)
{
    const ypt *p = a, *q = b;
    return p->y < q->y ? -1 : p->y > q->y ? 1 : (p->j > q->j) - (p->j < q->j);
}

/* One search: ys holds the m reference features that take part by row (j indexes the image's n
 * features), claim[j] the nearest query feature that lands on j. */
static int guided_pass(const vigil__guide_ref *ref, const ypt *ys, uint32_t m, const vigil_features *qf,
                       const uint8_t *qskip, const float h[9], double tol, int radius, uint64_t *claim, double *qp,
                       double *rp)
{
    uint32_t n = ref->n;
    for (uint32_t j = 0; j < n; j++) claim[j] = UINT64_MAX;
    for (uint32_t i = 0; i < qf->n; i++) {
        if (qskip[i]) continue;
        double x = qf->kp[i].x, y = qf->kp[i].y, w = h[6] * x + h[7] * y + h[8];
        if (w <= 1e-9) continue;
        double u = (h[0] * x + h[1] * y + h[2]) / w, v = (h[3] * x + h[4] * y + h[5]) / w;
        int want_a = -1, want_s = 0; /* worked out at the first reference point in reach */
        uint32_t lo = 0, hi = m; /* the first reference point at or below v - tol */
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (ys[mid].y < v - tol) lo = mid + 1; else hi = mid;
        }
        uint32_t bd = (uint32_t)radius + 1, bj = 0;
        for (uint32_t k = lo; k < m && ys[k].y <= v + tol; k++) {
            uint64_t f = ys[k].j;
            double du = ref->xy[2 * f] - u, dv = ref->xy[2 * f + 1] - v;
            if (du * du + dv * dv > tol * tol) continue;
            if (want_a < 0) { /* where H takes the keypoint's orientation and scale: a step along it, mapped */
                double st = 8 * qf->kp[i].scale, x1 = x + st * cos(qf->kp[i].angle), y1 = y + st * sin(qf->kp[i].angle);
                double w1 = h[6] * x1 + h[7] * y1 + h[8];
                if (w1 <= 1e-9) break;
                double du1 = (h[0] * x1 + h[1] * y1 + h[2]) / w1 - u, dv1 = (h[3] * x1 + h[4] * y1 + h[5]) / w1 - v;
                double len = hypot(du1, dv1) / 8;
                want_a = (int)lround(atan2(dv1, du1) * (256 / 6.283185307179586)) & 255;
                want_s = (int)lround(log2(len > 1e-3 ? len : 1e-3) * 8) + 64;
            }
            int da = (ref->shape[2 * f] - want_a) & 255, ds = (int)ref->shape[2 * f + 1] - want_s;
            if ((da > 21 && da < 235) || ds > 4 || ds < -4) continue; /* 30 degrees, half an octave */
            uint32_t d = vigil_pdq_distance(&qf->desc[i], &ref->desc[f]);
            if (d >= bd) continue;
            bd = d;
            bj = ys[k].j;
        }
        if (bd <= (uint32_t)radius && ((uint64_t)bd << 32 | i) < claim[bj]) claim[bj] = (uint64_t)bd << 32 | i;
    }
    int c = 0;
    for (uint32_t j = 0; j < n; j++) {
        if (claim[j] == UINT64_MAX) continue;
        uint32_t i = (uint32_t)claim[j];
        qp[2 * c] = qf->kp[i].x;
        qp[2 * c + 1] = qf->kp[i].y;
        rp[2 * c] = ref->xy[2 * (uint64_t)j];
        rp[2 * c + 1] = ref->xy[2 * (uint64_t)j + 1];
        c++;
    }
    return c;
}

int vigil__guided(const vigil__guide_ref *ref, const vigil_features *qf, const uint8_t *qskip, double tol, int radius,
                  float h[9], int model)
{
    uint32_t n = ref->n;
    ypt *ys = malloc((size_t)n * sizeof *ys + 1);
    uint64_t *claim = malloc((size_t)n * sizeof *claim + 1);
    double *buf = malloc((size_t)n * 8 * sizeof *buf + 1);
    int *idx = malloc((size_t)n * sizeof *idx + 1);
    int best = -1;
    if (!ys || !claim || !buf || !idx) goto out;
    uint32_t m = 0; /* by row, once for both passes */
    for (uint32_t k = 0; k < ref->nuse; k++) {
        uint32_t j = ref->use[k];
        float y = ref->xy[2 * (uint64_t)j + 1]; /* non-finite (a damaged file): sorts last, never in reach */
        ys[m++] = (ypt){isfinite(y) ? y : FLT_MAX, j};
    }
    qsort(ys, m, sizeof *ys, cmp_ypt);
    double *qp = buf, *rp = buf + 2 * n, *qn = buf + 4 * n, *rn = buf + 6 * n;
    best = guided_pass(ref, ys, m, qf, qskip, h, tol, radius, claim, qp, rp);
    if (best < 8) goto out;
    double tq[3], tp[3], hn[9];
    normalise(qp, best, qn, tq);
    normalise(rp, best, rn, tp);
    for (int i = 0; i < best; i++) idx[i] = i;
    if (!fit_model(model, qn, rn, idx, best, hn)) goto out;
    float h2[9];
    to_pixels(hn, tq, tp, h2);
    int c = guided_pass(ref, ys, m, qf, qskip, h2, tol, radius, claim, qp, rp);
    if (c > best) { best = c; memcpy(h, h2, sizeof h2); }
out:
    free(ys); free(claim); free(buf); free(idx);
    return best;
}
