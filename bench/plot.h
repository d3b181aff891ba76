/* plot.h - PNG charts for the evaluation (bench/eval.c). */
#ifndef VIGIL_PLOT_H
#define VIGIL_PLOT_H

#include <stdint.h>

typedef struct plot_canvas { int w, h; uint8_t *px; } plot_canvas;

typedef struct plot_chart {
    double x0, x1, y0, y1;
    int log_x, x_ticks, y_ticks;
    int legend_bottom;            /* legend in the lower right corner instead of the upper */
    int left, right, top, bottom; /* set by plot_axes */
} plot_chart;

plot_canvas *plot_new(int w, int h);
void plot_free(plot_canvas *c);
void plot_rect(plot_canvas *c, int x0, int y0, int x1, int y1, uint32_t rgb);
void plot_line(plot_canvas *c, int x0, int y0, int x1, int y1, uint32_t rgb, int width);
void plot_text(plot_canvas *c, int x, int y, const char *s, uint32_t rgb, int scale);
int plot_text_width(const char *s, int scale);
void plot_axes(plot_canvas *c, plot_chart *ch, const char *title, const char *xlabel, const char *ylabel);
void plot_series(plot_canvas *c, const plot_chart *ch, const double *x, const double *y, int n, uint32_t rgb, int width);
void plot_bars(plot_canvas *c, const plot_chart *ch, const double *y, int n, double x_first, double x_step, uint32_t rgb);
void plot_vline(plot_canvas *c, const plot_chart *ch, double x, uint32_t rgb, const char *label);
void plot_legend(plot_canvas *c, const plot_chart *ch, int row, const char *text, uint32_t rgb);

#endif
