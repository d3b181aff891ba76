/* plot.c - line and bar charts as PNG (written with libpng via libvigil's encoder): enough for
 * ROC curves and histograms, with axes, ticks, a legend and a 5x7 bitmap font of our own. */
#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 5x7 glyphs, one byte per row, bit 4 = leftmost column. Lower case prints as upper case. */
static const struct { char c; uint8_t rows[7]; } font[] = {
    {'0', {14, 17, 19, 21, 25, 17, 14}}, {'1', {4, 12, 4, 4, 4, 4, 14}},     {'2', {14, 17, 1, 2, 4, 8, 31}},
    {'3', {31, 2, 4, 2, 1, 17, 14}},     {'4', {2, 6, 10, 18, 31, 2, 2}},    {'5', {31, 16, 30, 1, 1, 17, 14}},
    {'6', {6, 8, 16, 30, 17, 17, 14}},   {'7', {31, 1, 2, 4, 8, 8, 8}},      {'8', {14, 17, 17, 14, 17, 17, 14}},
    {'9', {14, 17, 17, 15, 1, 2, 12}},   {'A', {14, 17, 17, 31, 17, 17, 17}}, {'B', {30, 17, 17, 30, 17, 17, 30}},
    {'C', {14, 17, 16, 16, 16, 17, 14}}, {'D', {28, 18, 17, 17, 17, 18, 28}}, {'E', {31, 16, 16, 30, 16, 16, 31}},
    {'F', {31, 16, 16, 30, 16, 16, 16}}, {'G', {14, 17, 16, 23, 17, 17, 15}}, {'H', {17, 17, 17, 31, 17, 17, 17}},
    {'I', {14, 4, 4, 4, 4, 4, 14}},      {'J', {7, 2, 2, 2, 2, 18, 12}},     {'K', {17, 18, 20, 24, 20, 18, 17}},
    {'L', {16, 16, 16, 16, 16, 16, 31}}, {'M', {17, 27, 21, 21, 17, 17, 17}}, {'N', {17, 17, 25, 21, 19, 17, 17}},
    {'O', {14, 17, 17, 17, 17, 17, 14}}, {'P', {30, 17, 17, 30, 16, 16, 16}}, {'Q', {14, 17, 17, 17, 21, 18, 13}},
    {'R', {30, 17, 17, 30, 20, 18, 17}}, {'S', {15, 16, 16, 14, 1, 1, 30}},  {'T', {31, 4, 4, 4, 4, 4, 4}},
    {'U', {17, 17, 17, 17, 17, 17, 14}}, {'V', {17, 17, 17, 17, 17, 10, 4}}, {'W', {17, 17, 17, 21, 21, 21, 10}},
    {'X', {17, 17, 10, 4, 10, 17, 17}},  {'Y', {17, 17, 10, 4, 4, 4, 4}},    {'Z', {31, 1, 2, 4, 8, 16, 31}},
    {'.', {0, 0, 0, 0, 0, 12, 12}},      {',', {0, 0, 0, 0, 12, 4, 8}},      {'-', {0, 0, 0, 31, 0, 0, 0}},
    {'+', {0, 4, 4, 31, 4, 4, 0}},       {'=', {0, 0, 31, 0, 31, 0, 0}},     {'%', {24, 25, 2, 4, 8, 19, 3}},
    {'(', {2, 4, 8, 8, 8, 4, 2}},        {')', {8, 4, 2, 2, 2, 4, 8}},       {'/', {0, 1, 2, 4, 8, 16, 0}},
    {':', {0, 12, 12, 0, 12, 12, 0}},    {'<', {2, 4, 8, 16, 8, 4, 2}},      {'>', {8, 4, 2, 1, 2, 4, 8}},
    {'^', {4, 10, 17, 0, 0, 0, 0}},      {'_', {0, 0, 0, 0, 0, 0, 31}},      {'\'', {4, 4, 8, 0, 0, 0, 0}},
};

plot_canvas *plot_new(int w, int h)
{
    plot_canvas *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->w = w;
    c->h = h;
    c->px = malloc((size_t)w * h * 3);
    if (!c->px) { free(c); return NULL; }
    memset(c->px, 255, (size_t)w * h * 3);
    return c;
}

void plot_free(plot_canvas *c)
{
    if (c) free(c->px);
    free(c);
}

static void dot(plot_canvas *c, int x, int y, uint32_t rgb)
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
    uint8_t *p = c->px + ((size_t)y * c->w + x) * 3;
    p[0] = (uint8_t)(rgb >> 16);
    p[1] = (uint8_t)(rgb >> 8);
    p[2] = (uint8_t)rgb;
}

void plot_rect(plot_canvas *c, int x0, int y0, int x1, int y1, uint32_t rgb)
{
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) dot(c, x, y, rgb);
}

/* A line 2 px wide (Bresenham, thickened). */
void plot_line(plot_canvas *c, int x0, int y0, int x1, int y1, uint32_t rgb, int width)
{
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1, dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1, e = dx + dy;
    for (;;) {
        for (int a = 0; a < width; a++)
            for (int b = 0; b < width; b++) dot(c, x0 + a - width / 2, y0 + b - width / 2, rgb);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) { e += dy; x0 += sx; }
        if (e2 <= dx) { e += dx; y0 += sy; }
    }
}

void plot_text(plot_canvas *c, int x, int y, const char *s, uint32_t rgb, int scale)
{
    for (; *s; s++, x += 6 * scale) {
        char ch = (*s >= 'a' && *s <= 'z') ? (char)(*s - 32) : *s;
        for (size_t g = 0; g < sizeof font / sizeof font[0]; g++) {
            if (font[g].c != ch) continue;
            for (int r = 0; r < 7; r++)
                for (int b = 0; b < 5; b++)
                    if (font[g].rows[r] >> (4 - b) & 1) plot_rect(c, x + b * scale, y + r * scale, x + b * scale + scale - 1, y + r * scale + scale - 1, rgb);
            break;
        }
    }
}

int plot_text_width(const char *s, int scale)
{
    return (int)strlen(s) * 6 * scale;
}

/* ---- charts: a plot area with axes, ticks and labels ------------------------------------------ */

static double map_x(const plot_chart *ch, double v)
{
    if (ch->log_x) v = log10(v < ch->x0 ? ch->x0 : v);
    double a = ch->log_x ? log10(ch->x0) : ch->x0, b = ch->log_x ? log10(ch->x1) : ch->x1;
    return ch->left + (v - a) / (b - a) * (ch->right - ch->left);
}

static double map_y(const plot_chart *ch, double v)
{
    return ch->bottom - (v - ch->y0) / (ch->y1 - ch->y0) * (ch->bottom - ch->top);
}

void plot_axes(plot_canvas *c, plot_chart *ch, const char *title, const char *xlabel, const char *ylabel)
{
    ch->left = 90;
    ch->right = c->w - 30;
    ch->top = 60;
    ch->bottom = c->h - 70;
    plot_text(c, (c->w - plot_text_width(title, 2)) / 2, 18, title, 0x000000, 2);
    plot_text(c, (ch->left + ch->right - plot_text_width(xlabel, 2)) / 2, c->h - 30, xlabel, 0x000000, 2);
    plot_text(c, 8, ch->top - 30, ylabel, 0x000000, 2);
    /* grid and ticks */
    for (int i = 0; i <= ch->x_ticks; i++) {
        double v = ch->log_x ? pow(10, log10(ch->x0) + (log10(ch->x1) - log10(ch->x0)) * i / ch->x_ticks)
                             : ch->x0 + (ch->x1 - ch->x0) * i / ch->x_ticks;
        int x = (int)lround(map_x(ch, v));
        plot_line(c, x, ch->top, x, ch->bottom, 0xe6e6e6, 1);
        char t[32];
        if (ch->log_x) snprintf(t, sizeof t, "1E%d", (int)lround(log10(v)));
        else snprintf(t, sizeof t, ch->x1 - ch->x0 <= 2 ? "%.1f" : "%.0f", v);
        plot_text(c, x - plot_text_width(t, 2) / 2, ch->bottom + 10, t, 0x333333, 2);
    }
    for (int i = 0; i <= ch->y_ticks; i++) {
        double v = ch->y0 + (ch->y1 - ch->y0) * i / ch->y_ticks;
        int y = (int)lround(map_y(ch, v));
        plot_line(c, ch->left, y, ch->right, y, 0xe6e6e6, 1);
        char t[32];
        snprintf(t, sizeof t, ch->y1 - ch->y0 <= 2 ? "%.1f" : "%.0f", v);
        plot_text(c, ch->left - 10 - plot_text_width(t, 2), y - 7, t, 0x333333, 2);
    }
    plot_line(c, ch->left, ch->bottom, ch->right, ch->bottom, 0x000000, 2);
    plot_line(c, ch->left, ch->top, ch->left, ch->bottom, 0x000000, 2);
}

void plot_series(plot_canvas *c, const plot_chart *ch, const double *x, const double *y, int n, uint32_t rgb, int width)
{
    for (int i = 1; i < n; i++)
        plot_line(c, (int)lround(map_x(ch, x[i - 1])), (int)lround(map_y(ch, y[i - 1])), (int)lround(map_x(ch, x[i])),
                  (int)lround(map_y(ch, y[i])), rgb, width);
}

void plot_bars(plot_canvas *c, const plot_chart *ch, const double *y, int n, double x_first, double x_step, uint32_t rgb)
{
    for (int i = 0; i < n; i++) {
        int xa = (int)lround(map_x(ch, x_first + i * x_step)), xb = (int)lround(map_x(ch, x_first + (i + 1) * x_step)) - 1;
        int ya = (int)lround(map_y(ch, y[i] > ch->y1 ? ch->y1 : y[i]));
        if (y[i] > 0) plot_rect(c, xa, ya, xb > xa ? xb : xa, ch->bottom - 1, rgb);
    }
}

void plot_vline(plot_canvas *c, const plot_chart *ch, double x, uint32_t rgb, const char *label)
{
    int px = (int)lround(map_x(ch, x));
    for (int y = ch->top; y < ch->bottom; y += 8) plot_line(c, px, y, px, y + 4, rgb, 2);
    if (label) plot_text(c, px + 6, ch->top + 6, label, rgb, 2);
}

void plot_legend(plot_canvas *c, const plot_chart *ch, int row, const char *text, uint32_t rgb)
{
    int x = ch->right - 330, y = ch->legend_bottom ? ch->bottom - 12 - (4 - row) * 24 : ch->top + 12 + row * 24;
    plot_rect(c, x, y + 3, x + 24, y + 9, rgb);
    plot_text(c, x + 32, y, text, 0x000000, 2);
}
