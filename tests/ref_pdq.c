/* ref_pdq.c - PDQ written as literally as ../shared/pdq/spec.md states it, row by row, with no
 * optimisation. The differential tests hold core/pdq.c's fused, vectorised filter to it. */
#include "tests.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Section 5: one 1-D box pass over x[0..n-1] with stride, into y. */
static void box1d(const float *x, float *y, int n, int stride, int w)
{
    int h = (w + 2) / 2, r = 0, l = 0, o = 0, c = 0;
    float s = 0.0f;
    for (int k = 0; k < h - 1; k++) { s = s + x[(r++) * stride]; c++; }
    for (int k = 0; k < w - h + 1; k++) { s = s + x[(r++) * stride]; c++; y[(o++) * stride] = s / (float)c; }
    for (int k = 0; k < n - w; k++) { s = s + x[(r++) * stride]; s = s - x[(l++) * stride]; y[(o++) * stride] = s / (float)c; }
    for (int k = 0; k < h - 1; k++) { s = s - x[(l++) * stride]; c--; y[(o++) * stride] = s / (float)c; }
}

static float median127(const float *v)
{
    float a[256];
    memcpy(a, v, sizeof a);
    for (int i = 1; i < 256; i++) { /* insertion sort: slow and obviously right */
        float t = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > t) { a[j + 1] = a[j]; j--; }
        a[j + 1] = t;
    }
    return a[127];
}

void ref_pdq_from_luma(const float *Yin, int rows, int cols, vigil_pdq *hash, int *quality, int dihedral_path)
{
    memset(hash, 0, sizeof *hash);
    *quality = 0;
    if (rows < 5 || cols < 5) return;
    float A[64][64];
    if (rows == 64 && cols == 64 && !dihedral_path) {
        memcpy(A, Yin, sizeof A);
    } else {
        size_t n = (size_t)rows * cols;
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        memcpy(a, Yin, n * sizeof *a);
        int wx = (cols + 127) / 128, wy = (rows + 127) / 128;
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < rows; i++) box1d(a + (size_t)i * cols, b + (size_t)i * cols, cols, 1, wx);
            for (int j = 0; j < cols; j++) box1d(b + j, a + j, rows, cols, wy);
        }
        for (int i = 0; i < 64; i++)
            for (int j = 0; j < 64; j++)
                A[i][j] = a[(size_t)(int)(((i + 0.5) * rows) / 64) * cols + (int)(((j + 0.5) * cols) / 64)];
        free(a);
        free(b);
    }
    int g = 0;
    for (int i = 0; i < 63; i++)
        for (int j = 0; j < 64; j++) { int d = (int)(((A[i][j] - A[i + 1][j]) * 100.0f) / 255.0f); g += abs(d); }
    for (int i = 0; i < 64; i++)
        for (int j = 0; j < 63; j++) { int d = (int)(((A[i][j] - A[i][j + 1]) * 100.0f) / 255.0f); g += abs(d); }
    *quality = g / 90 > 100 ? 100 : g / 90;

    float D[16][64], T[16][64], C[16][16];
    float s = (float)sqrt(2.0 / 64.0);
    for (int u = 0; u < 16; u++)
        for (int x = 0; x < 64; x++)
            D[u][x] = (float)((double)s * cos(((3.14159265358979323846 / 2.0 / 64.0) * (u + 1)) * (2 * x + 1)));
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 64; j++) {
            float acc = 0.0f;
            for (int k = 0; k < 64; k++) acc = acc + D[i][k] * A[k][j];
            T[i][j] = acc;
        }
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++) {
            float acc = 0.0f;
            for (int k = 0; k < 64; k++) acc = acc + T[i][k] * D[j][k];
            C[i][j] = acc;
        }
    float m = median127(&C[0][0]);
    for (int k = 0; k < 256; k++)
        if ((&C[0][0])[k] > m) hash->w[k >> 6] |= 1ull << (k & 63);
}
