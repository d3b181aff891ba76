/* views.c - pinhole views of equirectangular panoramas, and the homographies between them. */
#include "views.h"

#include <math.h>
#include <string.h>

static void mul3(const double *a, const double *b, double *o)
{
    double t[9] = {0};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++) t[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
    memcpy(o, t, sizeof t);
}

void views_cam(view_cam *c, double yaw, double pitch, double roll, double fov, int w, int h)
{
    c->yaw = yaw; c->pitch = pitch; c->roll = roll; c->fov = fov; c->w = w; c->h = h;
    double a = yaw * M_PI / 180, b = pitch * M_PI / 180, g = roll * M_PI / 180;
    double Ry[9] = {cos(a), 0, sin(a), 0, 1, 0, -sin(a), 0, cos(a)};
    double Rx[9] = {1, 0, 0, 0, cos(b), sin(b), 0, -sin(b), cos(b)};
    double Rz[9] = {cos(g), -sin(g), 0, sin(g), cos(g), 0, 0, 0, 1};
    double t[9];
    mul3(Rx, Rz, t);
    mul3(Ry, t, c->r);
}

static double focal(const view_cam *c) { return (c->w / 2.0) / tan(c->fov * M_PI / 360); }

static void ray(const view_cam *c, double u, double v, double d[3])
{
    double f = focal(c), x = (u - c->w / 2.0) / f, y = (v - c->h / 2.0) / f, z = 1;
    for (int i = 0; i < 3; i++) d[i] = c->r[i * 3] * x + c->r[i * 3 + 1] * y + c->r[i * 3 + 2] * z;
}

void views_render(const uint8_t *p, int pw, int ph, const view_cam *c, uint8_t *out)
{
    for (int v = 0; v < c->h; v++)
        for (int u = 0; u < c->w; u++) {
            double d[3];
            ray(c, u + 0.5, v + 0.5, d);
            double lon = atan2(d[0], d[2]), lat = atan2(-d[1], hypot(d[0], d[2]));
            double x = (lon / (2 * M_PI) + 0.5) * pw - 0.5, y = (0.5 - lat / M_PI) * ph - 0.5;
            int x0 = (int)floor(x), y0 = (int)floor(y);
            double fx = x - x0, fy = y - y0;
            if (y0 < 0) { y0 = 0; fy = 0; }
            if (y0 >= ph - 1) { y0 = ph - 2; fy = 1; }
            int xa = ((x0 % pw) + pw) % pw, xb = (xa + 1) % pw;
            const uint8_t *r0 = p + (size_t)y0 * pw, *r1 = r0 + pw;
            double s = (1 - fy) * ((1 - fx) * r0[xa] + fx * r0[xb]) + fy * ((1 - fx) * r1[xa] + fx * r1[xb]);
            out[(size_t)v * c->w + u] = (uint8_t)(s + 0.5);
        }
}

double views_overlap(const view_cam *q, const view_cam *r)
{
    int in = 0, n = 0;
    double f = focal(r);
    for (int j = 0; j < 24; j++)
        for (int i = 0; i < 32; i++, n++) {
            double d[3], e[3];
            ray(q, (i + 0.5) * q->w / 32, (j + 0.5) * q->h / 24, d);
            for (int k = 0; k < 3; k++) e[k] = r->r[k] * d[0] + r->r[3 + k] * d[1] + r->r[6 + k] * d[2]; /* R^T d */
            if (e[2] <= 0) continue;
            double u = f * e[0] / e[2] + r->w / 2.0, v = f * e[1] / e[2] + r->h / 2.0;
            in += u >= 0 && u < r->w && v >= 0 && v < r->h;
        }
    return (double)in / n;
}

void views_homography(const view_cam *q, const view_cam *r, double h[9])
{
    /* pixel centres at +0.5: K maps (x, y, 1) to (f x + w/2, f y + h/2) as ray() inverts */
    double fq = focal(q), fr = focal(r);
    double Kqi[9] = {1 / fq, 0, -q->w / 2.0 / fq, 0, 1 / fq, -q->h / 2.0 / fq, 0, 0, 1};
    double Kr[9] = {fr, 0, r->w / 2.0, 0, fr, r->h / 2.0, 0, 0, 1};
    double Rrt[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) Rrt[i * 3 + j] = r->r[j * 3 + i];
    double t[9];
    mul3(q->r, Kqi, t);
    mul3(Rrt, t, t);
    mul3(Kr, t, h);
    for (int i = 0; i < 9; i++) h[i] /= h[8] ? h[8] : 1;
}
