/* pdq.c - the PDQ photo hash: luma, tent filter, 64x64 sampling, quality, 16x16 DCT, median bits.
 *
 * PDQ (Meta, 2017) reduces an image to the signs of 256 low-frequency DCT coefficients relative to
 * their median. The steps and their exact f32 semantics are in ../shared/pdq/spec.md; the section
 * numbers below refer to it. Bit-exactness with Meta's pdq-photo-hasher hinges on:
 *   - the 512x512 nearest-neighbour pre-resize sampling floor(o*n/512) (section 2, done by the caller);
 *   - the box filter as a running f32 sum, add-before-subtract, same edge renormalisation (section 5);
 *   - DCT sums in index order k = 0..63 with no FMA (section 8; this file is built -ffp-contract=off);
 *   - the lower median and a strict ">" (section 9).
 *
 * Speed: the reference filters row by row with a serial dependency per row (its cost against this
 * file's: bench/results/hash.md). Here
 * every pass runs down the columns, so the inner loop is an element-wise update across a whole row
 * (one running sum per column) that the compiler vectorises without reordering any lane's
 * operations. Horizontal passes run the same way on 16-row strips transposed in cache (a whole-plane
 * transpose of 512x512 floats thrashes the cache at its 2 KiB stride). The same holds for
 * the DCT: the vector runs across the output index j, never across the summation index k.
 */
#include "pdq.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

static float dct[16][64];   /* D[u][x], section 8 */
static float dct_t[64][16]; /* its transpose, for the second product */
static pthread_once_t dct_once = PTHREAD_ONCE_INIT;

static void dct_init(void)
{
    const double pi = 3.14159265358979323846;
    const float s = (float)sqrt(2.0 / 64.0);
    for (int u = 0; u < 16; u++)
        for (int x = 0; x < 64; x++) {
            dct[u][x] = (float)((double)s * cos(((pi / 2.0 / 64.0) * (u + 1)) * (2 * x + 1)));
            dct_t[x][u] = dct[u][x];
        }
}

/* y = s / c, bit for bit. When c is a power of two (the common 512-wide case has w = 4), the
 * product with 1/c is the same correctly rounded value and avoids the divider, which bounds the
 * whole filter otherwise. */
static inline void div_row(const float *restrict s, float *restrict y, int n, int c)
{
    if ((c & (c - 1)) == 0) {
        const float r = 1.0f / (float)c;
        for (int j = 0; j < n; j++) y[j] = s[j] * r;
    } else {
        const float fc = (float)c;
        for (int j = 0; j < n; j++) y[j] = s[j] / fc;
    }
}

/* A vertical box pass that can be fed rows as they become available (section 5's four phases,
 * numbered as steps k = 0 .. n+h-2: step k adds row k while k < n, subtracts row k-w once k >= w,
 * and writes output row k-(h-1) once k >= h-1). Every pass, horizontal or vertical, is one of these
 * run down the columns of a row-major array, so the vector lanes are independent columns and
 * each lane keeps the reference's operation order. Rows whose `need` is 0 are not written. */
typedef struct vstream {
    int n, cols, w, h, k, c;
    float *s;
    const uint8_t *need;
} vstream;

static void vstream_init(vstream *v, int n, int cols, int w, float *s, const uint8_t *need)
{
    *v = (vstream){n, cols, w, (w + 2) / 2, 0, 0, s, need};
    memset(s, 0, (size_t)cols * sizeof *s);
}

/* s += x (if x), s -= xl (if xl), and y = s / c where y is non-NULL, in one sweep. */
static inline void vstep(float *restrict s, const float *restrict x, const float *restrict xl,
                         float *restrict y, int n, int c)
{
    const int pow2 = (c & (c - 1)) == 0;
    const float fc = (float)c, r = 1.0f / fc;
    if (x && xl) {
        if (!y) for (int j = 0; j < n; j++) s[j] = (s[j] + x[j]) - xl[j];
        else if (pow2) for (int j = 0; j < n; j++) { float t = (s[j] + x[j]) - xl[j]; s[j] = t; y[j] = t * r; }
        else for (int j = 0; j < n; j++) { float t = (s[j] + x[j]) - xl[j]; s[j] = t; y[j] = t / fc; }
    } else if (x) {
        for (int j = 0; j < n; j++) s[j] = s[j] + x[j];
        if (y) div_row(s, y, n, c);
    } else {
        for (int j = 0; j < n; j++) s[j] = s[j] - xl[j];
        if (y) div_row(s, y, n, c);
    }
}

/* Runs every step whose input rows are among the first `avail` rows of `in`. */
static void vstream_run(vstream *v, const float *restrict in, float *restrict out, int avail)
{
    const int n = v->n, cols = v->cols, w = v->w, h = v->h;
    for (; v->k < n + h - 1; v->k++) {
        const int k = v->k;
        if (k < n && k >= avail) break;
        const float *x = k < n ? in + (size_t)k * cols : NULL;
        const float *xl = k >= w ? in + (size_t)(k - w) * cols : NULL;
        if (k < n && k < w) v->c++;
        if (k >= n) v->c--;
        const int o = k - (h - 1);
        float *y = o >= 0 && (!v->need || v->need[o]) ? out + (size_t)o * cols : NULL;
        vstep(v->s, x, xl, y, cols, v->c);
    }
}

/* out (cols x rows) = transpose of in (rows x cols, row stride `ld`), for a strip of few rows. */
static void transpose_strip(const float *restrict in, size_t ld, float *restrict out, int rows, int cols)
{
    int j = 0;
#if defined(__SSE2__)
    if (rows % 4 == 0) {
        for (; j + 4 <= cols; j += 4)
            for (int i = 0; i < rows; i += 4) {
                __m128 r0 = _mm_loadu_ps(in + (size_t)(i + 0) * ld + j);
                __m128 r1 = _mm_loadu_ps(in + (size_t)(i + 1) * ld + j);
                __m128 r2 = _mm_loadu_ps(in + (size_t)(i + 2) * ld + j);
                __m128 r3 = _mm_loadu_ps(in + (size_t)(i + 3) * ld + j);
                _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
                _mm_storeu_ps(out + (size_t)(j + 0) * rows + i, r0);
                _mm_storeu_ps(out + (size_t)(j + 1) * rows + i, r1);
                _mm_storeu_ps(out + (size_t)(j + 2) * rows + i, r2);
                _mm_storeu_ps(out + (size_t)(j + 3) * rows + i, r3);
            }
    }
#endif
    for (; j < cols; j++)
        for (int i = 0; i < rows; i++) out[(size_t)j * rows + i] = in[(size_t)i * ld + j];
}

/* The inverse: in (cols x rows) back to out rows (row stride `ld`). */
static void untranspose_strip(const float *restrict in, float *restrict out, size_t ld, int rows, int cols)
{
    int j = 0;
#if defined(__SSE2__)
    if (rows % 4 == 0) {
        for (; j + 4 <= cols; j += 4)
            for (int i = 0; i < rows; i += 4) {
                __m128 r0 = _mm_loadu_ps(in + (size_t)(j + 0) * rows + i);
                __m128 r1 = _mm_loadu_ps(in + (size_t)(j + 1) * rows + i);
                __m128 r2 = _mm_loadu_ps(in + (size_t)(j + 2) * rows + i);
                __m128 r3 = _mm_loadu_ps(in + (size_t)(j + 3) * rows + i);
                _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
                _mm_storeu_ps(out + (size_t)(i + 0) * ld + j, r0);
                _mm_storeu_ps(out + (size_t)(i + 1) * ld + j, r1);
                _mm_storeu_ps(out + (size_t)(i + 2) * ld + j, r2);
                _mm_storeu_ps(out + (size_t)(i + 3) * ld + j, r3);
            }
    }
#endif
    for (; j < cols; j++)
        for (int i = 0; i < rows; i++) out[(size_t)i * ld + j] = in[(size_t)j * rows + i];
}

/* 16 rows: enough independent lanes per step to hide the add/sub latency chain of the running
 * sums, while the two strips (2 x 32 KiB at 512 columns) stay in L1/L2. */
#define STRIP 16

/* Horizontal pass: STRIP rows at a time are transposed into a strip, filtered down its columns
 * (one lane per image row, same op order as the reference's row loop), and put back. With `sel`
 * (64 column indices) only those columns are written, compactly: out is then rows x 64. */
static void box_across(const float *in, float *out, int rows, int cols, int w, float *strip,
                       const int *sel, const uint8_t *need_cols)
{
    float *t = strip, *u = strip + (size_t)cols * STRIP + 16, *s = strip + (size_t)cols * 2 * STRIP + 48;
    for (int r0 = 0; r0 < rows; r0 += STRIP) {
        int h = rows - r0 < STRIP ? rows - r0 : STRIP;
        transpose_strip(in + (size_t)r0 * cols, (size_t)cols, t, h, cols);
        vstream v;
        vstream_init(&v, cols, h, w, s, need_cols);
        vstream_run(&v, t, u, cols);
        if (!sel) {
            untranspose_strip(u, out + (size_t)r0 * cols, (size_t)cols, h, cols);
        } else {
            for (int r = 0; r < h; r++)
                for (int jj = 0; jj < 64; jj++) out[(size_t)(r0 + r) * 64 + jj] = u[(size_t)sel[jj] * h + r];
        }
    }
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Quickselect for the 128th smallest (index 127), section 9. Works on a copy. */
static float lower_median(const float *v)
{
    float a[256];
    memcpy(a, v, sizeof a);
    int lo = 0, hi = 255;
    const int k = 127;
    while (hi - lo > 16) {
        float p = a[(lo + hi) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] < p) i++;
            while (a[j] > p) j--;
            if (i <= j) { float t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return a[k];
    }
    qsort(a + lo, (size_t)(hi - lo + 1), sizeof(float), cmp_float);
    return a[k];
}

static void bits_from(const float *c, vigil_pdq *out)
{
    const float m = lower_median(c);
    vigil_pdq h = {{0, 0, 0, 0}};
    for (int k = 0; k < 256; k++)
        if (c[k] > m)
            h.w[k >> 6] |= 1ull << (k & 63);
    *out = h;
}

/* Section 11: every variant is a sign pattern on C, optionally transposed. */
static void dihedral_from(const float C[16][16], vigil_pdq out[8])
{
    float B[16][16];
    for (int t = 0; t < 8; t++) {
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 16; j++) {
                float v = C[i][j];
                int transpose_it = 0;
                switch (t) {
                case VIGIL_ORIG: break;
                case VIGIL_ROT90: transpose_it = 1; if (!(j & 1)) v = -v; break;
                case VIGIL_ROT180: if ((i + j) & 1) v = -v; break;
                case VIGIL_ROT270: transpose_it = 1; if (!(i & 1)) v = -v; break;
                case VIGIL_FLIPX: if (!(i & 1)) v = -v; break;
                case VIGIL_FLIPY: if (!(j & 1)) v = -v; break;
                case VIGIL_FLIPP: transpose_it = 1; break;
                case VIGIL_FLIPM: transpose_it = 1; if ((i + j) & 1) v = -v; break;
                }
                if (transpose_it) B[j][i] = v; else B[i][j] = v;
            }
        bits_from(&B[0][0], &out[t]);
    }
}

/* Sections 7-9 from the 64x64 buffer A. */
static void hash_from_A(const float A[64][64], vigil_pdq *hash, int *quality, vigil_pdq dihedral[8])
{
    if (quality) {
        int g = 0;
        for (int i = 0; i < 63; i++)
            for (int j = 0; j < 64; j++) {
                float t = ((A[i][j] - A[i + 1][j]) * 100.0f) / 255.0f;
                int d = (int)t;
                g += d < 0 ? -d : d;
            }
        for (int i = 0; i < 64; i++)
            for (int j = 0; j < 63; j++) {
                float t = ((A[i][j] - A[i][j + 1]) * 100.0f) / 255.0f;
                int d = (int)t;
                g += d < 0 ? -d : d;
            }
        int q = g / 90;
        *quality = q > 100 ? 100 : q;
    }

    pthread_once(&dct_once, dct_init);
    float T[16][64], C[16][16];
    for (int i = 0; i < 16; i++) {
        float acc[64] = {0};
        for (int k = 0; k < 64; k++) {
            const float d = dct[i][k];
            for (int j = 0; j < 64; j++) acc[j] = acc[j] + d * A[k][j];
        }
        memcpy(T[i], acc, sizeof acc);
    }
    for (int i = 0; i < 16; i++) {
        float acc[16] = {0};
        for (int k = 0; k < 64; k++) {
            const float t = T[i][k];
            for (int j = 0; j < 16; j++) acc[j] = acc[j] + t * dct_t[k][j];
        }
        memcpy(C[i], acc, sizeof acc);
    }
    if (hash)
        bits_from(&C[0][0], hash);
    if (dihedral)
        dihedral_from(C, dihedral);
}

/* Per-thread scratch, kept between calls: a fresh 1 MiB malloc is an mmap whose page faults cost
 * more than the filter itself (measured: bench/results/hash.md). Seven planes of at most
 * 512x512 floats (7.3 MiB) per thread, freed when the thread exits. */
typedef struct scratch { float *l, *y, *a, *b, *q, *p2, *s; void *mem; size_t cap; } scratch;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static void scratch_free(void *p)
{
    scratch *sc = p;
    if (!sc) return;
    free(sc->mem); free(sc);
}
static void scratch_init(void) { pthread_key_create(&scratch_key, scratch_free); }

static scratch *get_scratch(int rows, int cols)
{
    size_t n = (size_t)rows * (cols > 64 ? cols : 64);
    if (n < (size_t)cols * (2 * STRIP + 1) + 64) n = (size_t)cols * (2 * STRIP + 1) + 64; /* box_across's strip */
    pthread_once(&scratch_once, scratch_init);
    scratch *sc = pthread_getspecific(scratch_key);
    if (!sc) {
        sc = calloc(1, sizeof *sc);
        if (!sc || pthread_setspecific(scratch_key, sc)) { free(sc); return NULL; }
    }
    if (sc->cap < n) {
        /* One block, each buffer shifted by a different multiple of 64 bytes: with 2 KiB rows all
         * buffers would otherwise share their address bits mod 4 KiB, and every load would
         * falsely wait on an unrelated store (4K aliasing). */
        free(sc->mem);
        size_t stride = n + 256;
        sc->mem = malloc(7 * stride * sizeof(float) + 64);
        sc->cap = sc->mem ? n : 0;
        if (sc->mem) {
            float *base = (float *)(((uintptr_t)sc->mem + 63) & ~(uintptr_t)63);
            sc->y = base;
            sc->a = base + stride + 16;
            sc->b = base + 2 * stride + 32;
            sc->q = base + 3 * stride + 48;
            sc->s = base + 4 * stride + 64;
            sc->l = base + 5 * stride + 80;
            sc->p2 = base + 6 * stride + 96;
        }
        if (!sc->cap) return NULL;
    }
    return sc;
}

/* Section 5 in the order H(wx), V(wy), H(wx), V(wy), fused: the plane is walked once in blocks of
 * STRIP rows and each block goes through all four passes while it is still in cache (four separate
 * passes over 1 MiB planes ran from L3; see bench/results/hash.md). The rows of the result that `need`
 * marks land in `out`. */
static vigil_result tent_filter(const float *L, float *out, int rows, int cols, const uint8_t *need,
                               const int *sel, const uint8_t *need_cols)
{
    const int wx = (cols + 127) / 128, wy = (rows + 127) / 128;
    scratch *sc = get_scratch(rows, cols);
    if (!sc) return VIGIL_E_NOMEM;
    float *Y = sc->y, *P = sc->a, *P2 = sc->p2;
    float *strip = sc->b, *s1 = sc->s, *s2 = sc->s + cols + 16;
    vstream v1, v2;
    vstream_init(&v1, rows, cols, wy, s1, NULL);
    vstream_init(&v2, rows, 64, wy, s2, need);
    int h2_done = 0; /* rows that went through the second horizontal pass, into P2 (rows x 64) */
    for (int b0 = 0; b0 < rows; b0 += STRIP) {
        const int b1 = b0 + STRIP < rows ? b0 + STRIP : rows;
        box_across(L + (size_t)b0 * cols, Y + (size_t)b0 * cols, b1 - b0, cols, wx, strip, NULL, NULL);
        vstream_run(&v1, Y, P, b1);
        const int v1_out = v1.k - (v1.h - 1); /* rows of P written so far */
        while (h2_done + STRIP <= v1_out || (v1_out == rows && h2_done < rows)) {
            const int e = h2_done + STRIP < rows ? h2_done + STRIP : rows;
            box_across(P + (size_t)h2_done * cols, P2 + (size_t)h2_done * 64, e - h2_done, cols, wx,
                       strip, sel, need_cols);
            h2_done = e;
        }
        vstream_run(&v2, P2, out, h2_done);
    }
    return VIGIL_OK;
}

vigil_result vigil__pdq_from_luma(const float *Y, int rows, int cols, vigil_pdq *hash, int *quality,
                                  vigil_pdq dihedral[8])
{
    static const vigil_pdq zero = {{0, 0, 0, 0}};
    if (rows < 5 || cols < 5) {
        if (hash) *hash = zero;
        if (quality) *quality = 0;
        if (dihedral) for (int t = 0; t < 8; t++) dihedral[t] = zero;
        return VIGIL_E_TOO_SMALL;
    }
    float A[64][64];
    if (rows == 64 && cols == 64 && hash) {
        /* Section 6: the plain path skips the filter on an exact 64x64 plane; the dihedral path
         * does not, so a 64x64 image needs both. */
        memcpy(A, Y, sizeof A);
        hash_from_A(A, hash, quality, NULL);
        if (!dihedral) return VIGIL_OK;
        hash = NULL;
        quality = NULL; /* the reference reports the plain path's quality */
    }
    /* Only 64 rows and 64 columns of the filtered plane are ever read (section 6). */
    uint8_t need[rows], need_cols[cols];
    int sel[64];
    memset(need, 0, (size_t)rows);
    memset(need_cols, 0, (size_t)cols);
    for (int i = 0; i < 64; i++) {
        need[(int)(((i + 0.5) * rows) / 64)] = 1;
        sel[i] = (int)(((i + 0.5) * cols) / 64);
        need_cols[sel[i]] = 1;
    }
    scratch *sc = get_scratch(rows, cols);
    if (!sc) return VIGIL_E_NOMEM;
    vigil_result r = tent_filter(Y, sc->q, rows, cols, need, sel, need_cols);
    if (r) return r;
    for (int i = 0; i < 64; i++)
        memcpy(A[i], sc->q + (size_t)(int)(((i + 0.5) * rows) / 64) * 64, sizeof A[i]);
    hash_from_A(A, hash, quality, dihedral);
    return VIGIL_OK;
}

/* Section 3: each product and sum rounded to f32; tables hold the exact f32 products. */
static float lut_r[256], lut_g[256], lut_b[256];
static pthread_once_t lut_once = PTHREAD_ONCE_INIT;
static void lut_init(void)
{
    for (int v = 0; v < 256; v++) {
        lut_r[v] = 0.299f * (float)v;
        lut_g[v] = 0.587f * (float)v;
        lut_b[v] = 0.114f * (float)v;
    }
}

vigil_result vigil__pdq_hash(const vigil__pixels *px, vigil_pdq *hash, int *quality,
                             vigil_pdq dihedral[8])
{
    const int rows = (int)px->h, cols = (int)px->w;
    scratch *sc = get_scratch(rows, cols);
    if (!sc) return VIGIL_E_NOMEM;
    float *Y = sc->l;
    pthread_once(&lut_once, lut_init);
    for (int i = 0; i < rows; i++) {
        const uint8_t *p = px->px + (size_t)i * cols * px->channels;
        float *y = Y + (size_t)i * cols;
        if (px->channels == 1)
            for (int j = 0; j < cols; j++) y[j] = (float)p[j];
        else
            for (int j = 0; j < cols; j++)
                y[j] = (lut_r[p[3 * j]] + lut_g[p[3 * j + 1]]) + lut_b[p[3 * j + 2]];
    }
    return vigil__pdq_from_luma(Y, rows, cols, hash, quality, dihedral);
}

/* Spec section 2: n > 512 on either side resamples both sides to exactly 512 by floor(o*n/512). */
vigil_result vigil_pdq_from_pixels(const uint8_t *pixels, uint32_t width, uint32_t height,
                                   size_t stride, int channels, vigil_pdq *hash, int *quality,
                                   vigil_pdq dihedral[8])
{
    if (!pixels || !hash || (channels != 1 && channels != 3) || width == 0 || height == 0 ||
        stride < (size_t)width * channels)
        return VIGIL_E_INVALID;
    int resize = width > 512 || height > 512;
    uint32_t ow = resize ? 512 : width, oh = resize ? 512 : height;
    vigil__pixels px = {malloc((size_t)ow * oh * channels), ow, oh, channels};
    if (!px.px) return VIGIL_E_NOMEM;
    for (uint32_t o = 0; o < oh; o++) {
        uint32_t sy = resize ? (uint32_t)(((double)o * height) / 512) : o;
        const uint8_t *src = pixels + (size_t)sy * stride;
        uint8_t *dst = px.px + (size_t)o * ow * channels;
        for (uint32_t x = 0; x < ow; x++) {
            uint32_t sx = resize ? (uint32_t)(((double)x * width) / 512) : x;
            for (int c = 0; c < channels; c++) dst[x * channels + c] = src[(size_t)sx * channels + c];
        }
    }
    vigil_result r = vigil__pdq_hash(&px, hash, quality, dihedral);
    free(px.px);
    return r;
}
