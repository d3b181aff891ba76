/* eval.c - how well PDQ, as vigil computes it, finds edited copies and avoids unrelated photos.
 *
 *   bench-eval --photos DIR [--manifest eval-photos.tsv] [--out DIR] [--max-side 1024] [--limit N] [-j N]
 *              [--write-edits DIR]
 *
 * --write-edits also saves every edit as DIR/<photo>__<nn>.jpg, with DIR/edits.tsv naming each
 * file's original, edit and family: the generator, for measuring other hashers on the same set.
 *
 * Per photo: the picture (alpha flattened on white, longer side brought to --max-side, the size of
 * a reference copy) is the original; libvips makes ~40 edits of it (transforms[] below), each saved
 * the way a user would meet it (JPEG Q95 unless the edit is a JPEG quality) and hashed from those
 * bytes by vigil_hash_memory, in fast and in exact mode, with the 8 dihedral variants.
 * Positives: an edit against its own original. Negatives: every edit and original against every
 * other original, except pairs in the same identity_group of the manifest (the same scene seen
 * twice: neither). All distances come from the library's batch search (radius 256 returns every
 * pair), not from pairwise loops. Writes eval.md (tables), eval.tsv (per transform) and PNG plots. */
#include "plot.h"
#include "stats.h"
#include "vigil.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "png_encode.h" /* libvigil's PNG writer (internal, linked from the static library) */

/* ---- the edits ----------------------------------------------------------------------------------- */

enum kind {
    K_JPEG, K_SCALE, K_CROP, K_CROP_OFF, K_PAD, K_BORDER, K_ASPECT, K_ROT, K_FLIP_H, K_FLIP_V, K_ROTATE,
    K_BRIGHT, K_CONTRAST, K_GAMMA, K_GREY, K_BLUR, K_NOISE, K_LOGO, K_CAPTION, K_SCREENSHOT,
    K_CROPA, K_CROPA_OFF, K_SHOT_UI, K_CAPTION_TEXT, K_COLLAGE, K_SCREEN,
};

typedef struct step { enum kind k; double a; } step;
typedef struct transform {
    const char *name, *family;
    step s[3];
    int n;
    int quality; /* JPEG quality of the saved edit */
} transform;

static const transform transforms[] = {
    {"jpeg q90", "recompression", {{K_JPEG, 90}}, 1, 90},
    {"jpeg q70", "recompression", {{K_JPEG, 70}}, 1, 70},
    {"jpeg q50", "recompression", {{K_JPEG, 50}}, 1, 50},
    {"jpeg q30", "recompression", {{K_JPEG, 30}}, 1, 30},
    {"jpeg q20", "recompression", {{K_JPEG, 20}}, 1, 20},
    {"scale 0.75", "resize", {{K_SCALE, 0.75}}, 1, 95},
    {"scale 0.5", "resize", {{K_SCALE, 0.5}}, 1, 95},
    {"scale 0.25", "resize", {{K_SCALE, 0.25}}, 1, 95},
    {"scale 0.1", "resize", {{K_SCALE, 0.1}}, 1, 95},
    {"upscale 1.5", "resize", {{K_SCALE, 1.5}}, 1, 95},
    {"aspect 1.3:1", "resize", {{K_ASPECT, 1.3}}, 1, 95},
    {"crop 2% a side", "crop", {{K_CROP, 0.02}}, 1, 95},
    {"crop 5% a side", "crop", {{K_CROP, 0.05}}, 1, 95},
    {"crop 10% a side (64% of area left)", "crop", {{K_CROP, 0.10}}, 1, 95},
    {"crop 20% a side (36% left)", "crop", {{K_CROP, 0.20}}, 1, 95},
    {"crop 40% a side (4% left)", "crop", {{K_CROP, 0.40}}, 1, 95},
    {"crop 20% left and top (64% left)", "crop", {{K_CROP_OFF, 0.10}}, 1, 95},
    {"pad 10% white", "border", {{K_PAD, 0.10}}, 1, 95},
    {"border 5% black", "border", {{K_BORDER, 0.05}}, 1, 95},
    {"screenshot frame", "border", {{K_SCREENSHOT, 0}}, 1, 95},
    {"rotate 90", "dihedral", {{K_ROT, 90}}, 1, 95},
    {"rotate 180", "dihedral", {{K_ROT, 180}}, 1, 95},
    {"rotate 270", "dihedral", {{K_ROT, 270}}, 1, 95},
    {"mirror", "dihedral", {{K_FLIP_H, 0}}, 1, 95},
    {"flip vertical", "dihedral", {{K_FLIP_V, 0}}, 1, 95},
    {"rotate 2 deg", "small rotation", {{K_ROTATE, 2}}, 1, 95},
    {"rotate 5 deg", "small rotation", {{K_ROTATE, 5}}, 1, 95},
    {"rotate 10 deg", "small rotation", {{K_ROTATE, 10}}, 1, 95},
    {"brightness +40", "colour", {{K_BRIGHT, 40}}, 1, 95},
    {"contrast x1.4", "colour", {{K_CONTRAST, 1.4}}, 1, 95},
    {"gamma 0.6", "colour", {{K_GAMMA, 0.6}}, 1, 95},
    {"greyscale", "colour", {{K_GREY, 0}}, 1, 95},
    {"blur sigma 2", "filter", {{K_BLUR, 2}}, 1, 95},
    {"noise sigma 12", "filter", {{K_NOISE, 12}}, 1, 95},
    {"logo 10% area", "overlay", {{K_LOGO, 0.10}}, 1, 95},
    {"logo 25% area", "overlay", {{K_LOGO, 0.25}}, 1, 95},
    {"caption bar 15%", "overlay", {{K_CAPTION, 0.15}}, 1, 95},
    {"scale 0.5 + jpeg q50", "chain", {{K_SCALE, 0.5}, {K_JPEG, 50}}, 2, 50},
    {"crop 5% a side + jpeg q70", "chain", {{K_CROP, 0.05}, {K_JPEG, 70}}, 2, 70},
    {"mirror + scale 0.5 + jpeg q70", "chain", {{K_FLIP_H, 0}, {K_SCALE, 0.5}, {K_JPEG, 70}}, 3, 70},
    {"rotate 5 deg + scale 0.5 + jpeg q70", "chain", {{K_ROTATE, 5}, {K_SCALE, 0.5}, {K_JPEG, 70}}, 3, 70},
    {"greyscale + blur 1 + jpeg q50", "chain", {{K_GREY, 0}, {K_BLUR, 1}, {K_JPEG, 50}}, 3, 50},
    /* what users meet beyond PDQ's reach (issue 17): crops by the share of the area cut */
    {"crop 30% of area, off-centre", "crop", {{K_CROPA_OFF, 0.30}}, 1, 95},
    {"crop 50% of area", "crop", {{K_CROPA, 0.50}}, 1, 95},
    {"crop 50% of area, off-centre", "crop", {{K_CROPA_OFF, 0.50}}, 1, 95},
    {"mirrored crop 20% of area", "crop", {{K_FLIP_H, 0}, {K_CROPA_OFF, 0.20}}, 2, 95},
    {"rotate 15 deg", "small rotation", {{K_ROTATE, 15}}, 1, 95},
    {"screenshot with interface bars", "border", {{K_SHOT_UI, 0}}, 1, 95},
    {"caption in a bar", "overlay", {{K_CAPTION_TEXT, 0}}, 1, 95},
    {"collage of four", "collage", {{K_COLLAGE, 0}}, 1, 95},
    {"photo of a screen", "screen", {{K_SCREEN, 0}}, 1, 90},
};
#define NT ((int)(sizeof transforms / sizeof transforms[0]))

/* A perspective view of the picture on a screen: the inverse homography samples it (bilinear)
 * for every pixel of a dark w x h frame whose quad q (4 corners, clockwise from top-left) shows it. */
static int solve8(double *a, double *b)
{
    for (int c = 0; c < 8; c++) {
        int p = c;
        for (int i = c + 1; i < 8; i++) if (fabs(a[i * 8 + c]) > fabs(a[p * 8 + c])) p = i;
        if (fabs(a[p * 8 + c]) < 1e-12) return -1;
        for (int k = 0; k < 8; k++) { double t = a[c * 8 + k]; a[c * 8 + k] = a[p * 8 + k]; a[p * 8 + k] = t; }
        double t = b[c]; b[c] = b[p]; b[p] = t;
        for (int i = 0; i < 8; i++) {
            if (i == c) continue;
            double f = a[i * 8 + c] / a[c * 8 + c];
            for (int k = 0; k < 8; k++) a[i * 8 + k] -= f * a[c * 8 + k];
            b[i] -= f * b[c];
        }
    }
    for (int c = 0; c < 8; c++) b[c] /= a[c * 8 + c];
    return 0;
}

static VipsImage *screen_photo(VipsImage *in)
{
    int w = in->Xsize, h = in->Ysize;
    size_t n;
    uint8_t *src = vips_image_write_to_memory(in, &n);
    if (!src) return NULL;
    const double q[4][2] = {{0.10 * w, 0.12 * h}, {0.88 * w, 0.05 * h}, {0.93 * w, 0.94 * h}, {0.06 * w, 0.84 * h}};
    const double r[4][2] = {{0, 0}, {w - 1.0, 0}, {w - 1.0, h - 1.0}, {0, h - 1.0}};
    double a[64] = {0}, b[8];
    for (int i = 0; i < 4; i++) { /* frame point -> picture point */
        double x = q[i][0], y = q[i][1], u = r[i][0], v = r[i][1];
        double r1[8] = {x, y, 1, 0, 0, 0, -u * x, -u * y}, r2[8] = {0, 0, 0, x, y, 1, -v * x, -v * y};
        memcpy(a + 16 * i, r1, sizeof r1);
        memcpy(a + 16 * i + 8, r2, sizeof r2);
        b[2 * i] = u;
        b[2 * i + 1] = v;
    }
    if (solve8(a, b)) { g_free(src); return NULL; }
    uint8_t *dst = g_malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double d = b[6] * x + b[7] * y + 1, u = (b[0] * x + b[1] * y + b[2]) / d, v = (b[3] * x + b[4] * y + b[5]) / d;
            uint8_t *o = dst + ((size_t)y * w + x) * 3;
            if (u < 0 || v < 0 || u > w - 1.001 || v > h - 1.001) { o[0] = o[1] = o[2] = 18; continue; }
            int x0 = (int)u, y0 = (int)v;
            double fx = u - x0, fy = v - y0;
            for (int c = 0; c < 3; c++) {
                const uint8_t *p = src + ((size_t)y0 * w + x0) * 3 + c;
                double t = (1 - fy) * ((1 - fx) * p[0] + fx * p[3]) + fy * ((1 - fx) * p[(size_t)w * 3] + fx * p[(size_t)w * 3 + 3]);
                o[c] = (uint8_t)(t * 0.85 + 20); /* a screen's black is grey and its white dimmer */
            }
        }
    g_free(src);
    VipsImage *m = vips_image_new_from_memory_copy(dst, (size_t)w * h * 3, w, h, 3, VIPS_FORMAT_UCHAR), *o = NULL;
    g_free(dst);
    if (!m) return NULL;
    int rc = vips_gaussblur(m, &o, 1.5, NULL);
    g_object_unref(m);
    return rc ? NULL : o;
}

/* Grey blocks standing for a line of text (a caption, interface labels): deterministic widths. */
static void text_line(VipsImage *o, double ink[3], int x, int y, int width, int hgt, unsigned seed)
{
    for (int at = x; at < x + width;) {
        seed = seed * 1103515245u + 12345u;
        int wl = hgt / 2 + (int)((seed >> 16) % (unsigned)(hgt * 2 + 1));
        if (at + wl > x + width) break;
        vips_draw_rect(o, ink, 3, at, y, wl, hgt, "fill", TRUE, NULL);
        at += wl + hgt / 2 + 1;
    }
}

/* the three other photos of a collage (set by the caller per photo) */
static __thread VipsImage *collage_others[3];

/* One step on an 8-bit sRGB (3-band) image; returns a new reference or NULL. */
static VipsImage *apply(VipsImage *in, step s)
{
    VipsImage *o = NULL, *t = NULL, *u = NULL;
    int w = in->Xsize, h = in->Ysize;
    switch (s.k) {
    case K_JPEG: g_object_ref(in); return in; /* the quality is applied when saving */
    case K_SCALE: if (vips_resize(in, &o, s.a, NULL)) return NULL; break;
    case K_ASPECT: if (vips_resize(in, &o, s.a, "vscale", 1.0, NULL)) return NULL; break;
    case K_CROP: {
        int dx = (int)(w * s.a), dy = (int)(h * s.a);
        if (vips_extract_area(in, &o, dx, dy, w - 2 * dx, h - 2 * dy, NULL)) return NULL;
        break;
    }
    case K_CROP_OFF: { /* cut from the left and the top only */
        int dx = (int)(w * s.a * 2), dy = (int)(h * s.a * 2);
        if (vips_extract_area(in, &o, dx, dy, w - dx, h - dy, NULL)) return NULL;
        break;
    }
    case K_PAD: case K_BORDER: {
        int dx = (int)(w * s.a), dy = (int)(h * s.a);
        if (vips_embed(in, &o, dx, dy, w + 2 * dx, h + 2 * dy, "extend", s.k == K_PAD ? VIPS_EXTEND_WHITE : VIPS_EXTEND_BLACK, NULL)) return NULL;
        break;
    }
    case K_SCREENSHOT: { /* the picture at 70 % in a dark window with a light title bar */
        if (vips_resize(in, &t, 0.7, NULL)) return NULL;
        double bg[3] = {48, 48, 48};
        int W = w, H = h, tw = t->Xsize, th = t->Ysize;
        if (vips_embed(t, &u, (W - tw) / 2, (H - th) / 2 + H / 20, W, H, "extend", VIPS_EXTEND_BACKGROUND,
                       "background", vips_array_double_new(bg, 3), NULL)) { g_object_unref(t); return NULL; }
        g_object_unref(t);
        o = vips_image_copy_memory(u);
        g_object_unref(u);
        if (!o) return NULL;
        double bar[3] = {230, 230, 230};
        vips_draw_rect(o, bar, 3, 0, 0, W, H / 14, "fill", TRUE, NULL);
        return o;
    }
    case K_ROT:
        if (vips_rot(in, &o, s.a == 90 ? VIPS_ANGLE_D90 : s.a == 180 ? VIPS_ANGLE_D180 : VIPS_ANGLE_D270, NULL)) return NULL;
        break;
    case K_FLIP_H: if (vips_flip(in, &o, VIPS_DIRECTION_HORIZONTAL, NULL)) return NULL; break;
    case K_FLIP_V: if (vips_flip(in, &o, VIPS_DIRECTION_VERTICAL, NULL)) return NULL; break;
    case K_ROTATE: if (vips_rotate(in, &o, s.a, NULL)) return NULL; break; /* black corners, as phones do */
    case K_BRIGHT: if (vips_linear1(in, &t, 1.0, s.a, "uchar", TRUE, NULL)) return NULL; o = t; break;
    case K_CONTRAST: if (vips_linear1(in, &t, s.a, 128 * (1 - s.a), "uchar", TRUE, NULL)) return NULL; o = t; break;
    case K_GAMMA: if (vips_gamma(in, &o, "exponent", 1.0 / s.a, NULL)) return NULL; break;
    case K_GREY: {
        if (vips_colourspace(in, &t, VIPS_INTERPRETATION_B_W, NULL)) return NULL;
        VipsImage *b[3] = {t, t, t};
        int r = vips_bandjoin(b, &o, 3, NULL);
        g_object_unref(t);
        if (r) return NULL;
        break;
    }
    case K_BLUR: if (vips_gaussblur(in, &o, s.a, NULL)) return NULL; break;
    case K_NOISE: {
        if (vips_gaussnoise(&t, w, h, "sigma", s.a, "mean", 0.0, NULL)) return NULL;
        int r = vips_add(in, t, &u, NULL);
        g_object_unref(t);
        if (r) return NULL;
        r = vips_cast(u, &o, VIPS_FORMAT_UCHAR, NULL);
        g_object_unref(u);
        if (r) return NULL;
        break;
    }
    case K_CROPA: case K_CROPA_OFF: { /* a share s.a of the area cut: centred, or mostly from the left */
        double k = sqrt(1 - s.a);
        int cw = (int)(w * k), chh = (int)(h * k);
        int x = s.k == K_CROPA ? (w - cw) / 2 : (int)((w - cw) * 0.85), y = s.k == K_CROPA ? (h - chh) / 2 : (int)((h - chh) * 0.15);
        if (vips_extract_area(in, &o, x, y, cw, chh, NULL)) return NULL;
        break;
    }
    case K_SHOT_UI: { /* a phone screenshot: status bar, app bar, the picture, text lines, nav bar */
        int W = w, H = (int)(h * 1.7), sb = H / 28, ab = H / 14, nb = H / 16;
        if (vips_resize(in, &t, 0.94, NULL)) return NULL;
        double white[3] = {250, 250, 250};
        if (vips_embed(t, &u, (W - t->Xsize) / 2, sb + ab + H / 40, W, H, "extend", VIPS_EXTEND_BACKGROUND, "background",
                       vips_array_double_new(white, 3), NULL)) { g_object_unref(t); return NULL; }
        int bottom = sb + ab + H / 40 + t->Ysize;
        g_object_unref(t);
        o = vips_image_copy_memory(u);
        g_object_unref(u);
        if (!o) return NULL;
        double dark[3] = {30, 30, 30}, bar[3] = {33, 90, 160}, light[3] = {235, 235, 235}, grey[3] = {90, 90, 90};
        vips_draw_rect(o, dark, 3, 0, 0, W, sb, "fill", TRUE, NULL);
        text_line(o, light, W / 30, sb / 4, W / 6, sb / 2, 7);
        text_line(o, light, W - W / 5, sb / 4, W / 6, sb / 2, 9);
        vips_draw_rect(o, bar, 3, 0, sb, W, ab, "fill", TRUE, NULL);
        text_line(o, light, W / 8, sb + ab / 3, W / 2, ab / 3, 11);
        for (int l = 0; l < 3 && bottom + (l + 1) * (H / 30) < H - nb; l++)
            text_line(o, grey, W / 20, bottom + H / 60 + l * (H / 30), W * 8 / 10, H / 60, 13 + l);
        vips_draw_rect(o, dark, 3, 0, H - nb, W, nb, "fill", TRUE, NULL);
        for (int b = 0; b < 3; b++) vips_draw_rect(o, light, 3, W * (2 * b + 1) / 6 - nb / 6, H - nb * 2 / 3, nb / 3, nb / 3, "fill", TRUE, NULL);
        return o;
    }
    case K_CAPTION_TEXT: { /* a white bar above the picture with a line of black text in it */
        int bh = h / 6 > 12 ? h / 6 : 12;
        double white[3] = {255, 255, 255}, ink[3] = {10, 10, 10};
        if (vips_embed(in, &u, 0, bh, w, h + bh, "extend", VIPS_EXTEND_BACKGROUND, "background", vips_array_double_new(white, 3), NULL))
            return NULL;
        o = vips_image_copy_memory(u);
        g_object_unref(u);
        if (!o) return NULL;
        text_line(o, ink, w / 20, bh / 4, w * 9 / 10, bh / 3, 5);
        text_line(o, ink, w / 20, bh * 5 / 8, w * 6 / 10, bh / 4, 6);
        return o;
    }
    case K_COLLAGE: { /* the picture at half size in one quadrant, three other photos in the rest */
        int tw = w / 2, th = h / 2;
        if (vips_black(&t, 2 * tw + 6, 2 * th + 6, "bands", 3, NULL)) return NULL;
        o = vips_image_copy_memory(t);
        g_object_unref(t);
        if (!o) return NULL;
        for (int q = 0; q < 4; q++) {
            VipsImage *src = q == 0 ? in : collage_others[q - 1], *r = NULL;
            if (!src) continue;
            if (vips_resize(src, &r, (double)tw / src->Xsize, "vscale", (double)th / src->Ysize, NULL)) continue;
            /* the picture itself keeps its aspect: tw x th is half of it */
            int pos = q; /* the picture at top-left; the quadrant does not matter to either matcher */
            if (vips_draw_image(o, r, (pos % 2) * (tw + 6), (pos / 2) * (th + 6), NULL)) { g_object_unref(r); g_object_unref(o); return NULL; }
            g_object_unref(r);
        }
        return o;
    }
    case K_SCREEN: return screen_photo(in);
    case K_LOGO: case K_CAPTION: {
        /* a fresh buffer: copy_memory of an image already in memory would return that very image,
         * and the drawing would land on the original */
        o = vips_image_new_memory();
        if (vips_image_write(in, o)) { g_object_unref(o); return NULL; }
        if (s.k == K_LOGO) { /* an opaque square-ish block in the bottom-right corner */
            double side = sqrt(s.a);
            double ink[3] = {220, 30, 40};
            vips_draw_rect(o, ink, 3, (int)(w * (1 - side)) - w / 40, (int)(h * (1 - side)) - h / 40, (int)(w * side), (int)(h * side), "fill", TRUE, NULL);
        } else {
            double ink[3] = {0, 0, 0};
            vips_draw_rect(o, ink, 3, 0, (int)(h * (1 - s.a)), w, (int)(h * s.a), "fill", TRUE, NULL);
        }
        return o;
    }
    }
    return o;
}

/* ---- hashing ------------------------------------------------------------------------------------- */

typedef struct hashed { vigil_pdq fast[8], exact[8]; int qfast, qexact, ok; } hashed;

static int hash_bytes(const void *buf, size_t len, hashed *h)
{
    vigil_hash_options o;
    vigil_hash_options_init(&o);
    o.flags = VIGIL_HASH_DIHEDRAL | VIGIL_HASH_NO_DIGESTS;
    vigil_hash_result r;
    vigil_error e;
    if (vigil_hash_memory(buf, len, &o, &r, &e)) return -1;
    memcpy(h->fast, r.dihedral, sizeof h->fast);
    h->fast[0] = r.pdq; /* the scan matches the plain hash; dihedral[0] is the dihedral path's own */
    h->qfast = r.quality;
    o.flags |= VIGIL_HASH_EXACT;
    if (vigil_hash_memory(buf, len, &o, &r, &e)) return -1;
    memcpy(h->exact, r.dihedral, sizeof h->exact);
    h->exact[0] = r.pdq;
    h->qexact = r.quality;
    h->ok = 1;
    return 0;
}

/* The original: flattened, 8-bit sRGB, longer side <= max_side, in memory. */
static VipsImage *load_base(const char *path, int max_side)
{
    VipsImage *im = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL), *t;
    if (!im) return NULL;
#define STEP(call) do { if (call) { g_object_unref(im); return NULL; } g_object_unref(im); im = t; } while (0)
    if (vips_image_hasalpha(im)) STEP(vips_flatten(im, &t, "background", vips_array_double_newv(1, 255.0), NULL));
    STEP(vips_colourspace(im, &t, VIPS_INTERPRETATION_sRGB, NULL));
    if (im->Bands > 3) STEP(vips_extract_band(im, &t, 0, "n", 3, NULL));
    if (im->BandFmt != VIPS_FORMAT_UCHAR) STEP(vips_cast(im, &t, VIPS_FORMAT_UCHAR, NULL));
    int longer = im->Xsize > im->Ysize ? im->Xsize : im->Ysize;
    if (longer > max_side) STEP(vips_resize(im, &t, (double)max_side / longer, NULL));
#undef STEP
    t = vips_image_copy_memory(im);
    g_object_unref(im);
    return t;
}

static int save_jpeg(VipsImage *im, int q, void **buf, size_t *len)
{
    return vips_jpegsave_buffer(im, buf, len, "Q", q, "strip", TRUE, NULL);
}

/* ---- statistics ---------------------------------------------------------------------------------- */

/* Distance counts for one configuration (fast/exact x plain/dihedral). */
typedef struct tally {
    unsigned long long pos[NT + 1][257]; /* per transform; [NT] = all edits */
    unsigned long long neg[257];
} tally;

/* a collage of photo p holds photos p+1..p+3 too: those pairs are neither positive nor negative */
static int T_COLLAGE = -1, NPHOTOS = 0;
static int *group_of;
static int collage_holds(int t, int p, int ref)
{
    if (t != T_COLLAGE || t < 0) return 0;
    for (int j = 1; j <= 3; j++) if (group_of[(p + j) % NPHOTOS] == group_of[ref]) return 1; /* or the same scene */
    return 0;
}

static void count_pairs(const vigil_pdq *refs, size_t nref, const vigil_pdq *q, size_t nq, int variants,
                        const int *q_photo, const int *q_transform, const int *ref_group, const int *photo_group,
                        int threads, tally *t)
{
    vigil_index *idx;
    vigil_error e;
    vigil_index_new("eval", &idx, &e);
    for (size_t i = 0; i < nref; i++) {
        char id[24];
        snprintf(id, sizeof id, "%zu", i);
        vigil_index_add(idx, &refs[i], 100, id, NULL, &e);
    }
    vigil_index_compact(idx, &e); /* entries are reordered: map them back through their ids */
    int *photo_of = malloc(nref * sizeof *photo_of);
    for (size_t i = 0; i < nref; i++) {
        const char *id;
        vigil_index_entry(idx, i, NULL, NULL, &id, NULL);
        photo_of[i] = atoi(id);
    }
    vigil_index_search_options so;
    vigil_index_search_options_init(&so);
    so.radius = 256;
    so.threads = threads;
    so.method = VIGIL_SEARCH_SCAN;
    /* in slices, so that the match list stays small */
    const size_t slice = 2048;
    for (size_t b = 0; b < nq; b += slice) {
        size_t n = nq - b < slice ? nq - b : slice;
        vigil_index_match *m = NULL;
        size_t nm = 0;
        if (vigil_index_search(idx, q + b * variants, n, variants, &so, &m, &nm, &e)) { fprintf(stderr, "search: %s\n", e.message); exit(1); }
        for (size_t k = 0; k < nm; k++) {
            size_t qi = b + m[k].query;
            int ref = photo_of[m[k].entry], ph = q_photo[qi];
            if (ref == ph) { if (q_transform[qi] >= 0) t->pos[q_transform[qi]][m[k].distance]++; } /* an original against itself: neither */
            else if (ref_group[ref] != photo_group[ph] && !collage_holds(q_transform[qi], ph, ref)) t->neg[m[k].distance]++;
        }
        free(m);
    }
    for (int d = 0; d <= 256; d++)
        for (int k = 0; k < NT; k++) t->pos[NT][d] += t->pos[k][d];
    free(photo_of);
    vigil_index_free(idx);
}

static double share_within(const unsigned long long *h, int d)
{
    unsigned long long in = 0, all = 0;
    for (int i = 0; i <= 256; i++) { all += h[i]; if (i <= d) in += h[i]; }
    return all ? (double)in / all : 0;
}

static unsigned long long total(const unsigned long long *h)
{
    unsigned long long s = 0;
    for (int i = 0; i <= 256; i++) s += h[i];
    return s;
}

static unsigned long long within(const unsigned long long *h, int d)
{
    unsigned long long s = 0;
    for (int i = 0; i <= d && i <= 256; i++) s += h[i];
    return s;
}

/* ---- plots ---------------------------------------------------------------------------------------- */

static void write_png(plot_canvas *c, const char *path)
{
    uint8_t *png;
    size_t n;
    vigil_error e;
    if (vigil__png_encode(c->px, (uint32_t)c->w, (uint32_t)c->h, (size_t)c->w * 3, 3, &png, &n, &e)) { fprintf(stderr, "%s: %s\n", path, e.message); return; }
    FILE *f = fopen(path, "wb");
    if (f) { fwrite(png, 1, n, f); fclose(f); }
    free(png);
}

static void plot_histogram(const tally *t, const char *path, const char *title)
{
    /* PDQ hashes have 128 bits set (median threshold), so distances are even: bins of 2 */
    plot_canvas *c = plot_new(1000, 560);
    plot_chart ch = {0, 160, 0, 0, 0, 8, 5, 0, 0, 0, 0, 0};
    double ps[80], ns[80];
    unsigned long long P = total(t->pos[NT]), N = total(t->neg);
    double top = 0;
    for (int b = 0; b < 80; b++) {
        ps[b] = P ? 100.0 * (t->pos[NT][2 * b] + t->pos[NT][2 * b + 1]) / P : 0;
        ns[b] = N ? 100.0 * (t->neg[2 * b] + t->neg[2 * b + 1]) / N : 0;
        if (ps[b] > top) top = ps[b];
        if (ns[b] > top) top = ns[b];
    }
    ch.y1 = ceil(top / 5) * 5;
    plot_axes(c, &ch, title, "HAMMING DISTANCE", "% OF PAIRS");
    plot_bars(c, &ch, ns, 80, 0, 2, 0xe07b39);
    plot_bars(c, &ch, ps, 80, 0, 2, 0x3a6ea5);
    plot_vline(c, &ch, 32, 0x000000, "31");
    plot_legend(c, &ch, 0, "SAME PHOTO, EDITED", 0x3a6ea5);
    plot_legend(c, &ch, 1, "DIFFERENT PHOTOS", 0xe07b39);
    write_png(c, path);
    plot_free(c);
}

static void plot_roc(const tally *t[4], const char *names[4], const char *path)
{
    static const uint32_t col[4] = {0x3a6ea5, 0x9ecae1, 0xd62728, 0xff9896};
    plot_canvas *c = plot_new(1000, 620);
    plot_chart ch = {1e-7, 1, 0, 1, 1, 7, 5, 1, 0, 0, 0, 0};
    plot_axes(c, &ch, "ROC: ALL EDITS, THRESHOLD 0 TO 128", "FALSE-POSITIVE RATE (LOG, 0 DRAWN AT 1E-7)", "TRUE-POSITIVE RATE");
    for (int k = 0; k < 4; k++) {
        double x[129], y[129];
        int n = 0;
        unsigned long long N = total(t[k]->neg);
        for (int d = 0; d <= 128; d++) {
            double fpr = N ? (double)within(t[k]->neg, d) / N : 0;
            if (fpr <= 0) fpr = 1e-7; /* no event yet: drawn on the left edge */
            x[n] = fpr;
            y[n] = share_within(t[k]->pos[NT], d);
            n++;
        }
        plot_series(c, &ch, x, y, n, col[k], k < 2 ? 6 : 2); /* fast wide, exact thin on top: both show where they agree */
        plot_legend(c, &ch, k, names[k], col[k]);
    }
    write_png(c, path);
    plot_free(c);
}

typedef struct photo { char name[256], group[256]; } photo;
typedef photo photo_name;

/* ---- local features (known-image sets) --------------------------------------------------------------
 * Every original's features (the reference preset, as `index build --features` stores them) in
 * one index; every edit and original queried as `vigil scan` does (the query preset, with mirrored
 * twins), at a low threshold so that the tail of unrelated pairs shows. */
#define FBINS 512
#define F_FLOOR 6 /* the least inliers the eval asks for: every threshold studied is above it */
static vigil_index *fidx;
static int *fref_photo;          /* features reference -> photo */
static int *fown;                /* per (photo, transform), transform NT = the original: own-reference inliers, -1 failed */
static unsigned long long fneg[FBINS];
static int fneg_best = 0;
static char fneg_best_what[600];

static void features_query(const void *buf, size_t len, int pi, int t, const photo_name *names)
{
    vigil_features_options fo;
    vigil_known_query_options_init(&fo);
    vigil_features f;
    vigil_error e;
    int *own = &fown[(size_t)pi * (NT + 1) + t];
    if (vigil_features_memory(buf, len, &fo, &f, &e)) { *own = -1; return; }
    vigil_index_features_options o;
    vigil_index_features_options_init(&o);
    o.min_inliers = F_FLOOR;
    o.top_k = 30;
    vigil_index_features_match m[30];
    size_t nm = 0;
    *own = 0;
    if (!vigil_index_match_features(fidx, &f, &o, m, &nm, &e))
        for (size_t k = 0; k < nm; k++) {
            int rp = fref_photo[m[k].ref], in = (int)m[k].inliers < FBINS ? (int)m[k].inliers : FBINS - 1;
            if (rp == pi) { *own = (int)m[k].inliers; continue; }
            if (group_of[rp] == group_of[pi] || collage_holds(t, pi, rp)) continue;
#pragma omp atomic
            fneg[in]++;
#pragma omp critical(fneg_best)
            if (in > fneg_best) {
                fneg_best = in;
                snprintf(fneg_best_what, sizeof fneg_best_what, "%s (%s) against %s", names[pi].name, t < NT ? transforms[t].name : "original",
                         names[rp].name);
            }
        }
    vigil_features_free(&f);
}

/* ---- main ------------------------------------------------------------------------------------------ */


int main(int argc, char **argv)
{
    const char *dir = NULL, *manifest = "datasets/eval-photos.tsv", *out = "build/eval";
    const char *edits_dir = NULL;
    int max_side = 1024, limit = 0, threads = omp_get_num_procs();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--photos") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--manifest") && i + 1 < argc) manifest = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--max-side") && i + 1 < argc) max_side = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc) limit = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-j") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--write-edits") && i + 1 < argc) edits_dir = argv[++i];
        else { fprintf(stderr, "usage: bench-eval --photos DIR [--manifest TSV] [--out DIR] [--max-side N] [--limit N] [-j N] [--write-edits DIR]\n"); return 2; }
    }
    if (!dir) { fprintf(stderr, "bench-eval: --photos DIR is required\n"); return 2; }
    vigil_error err;
    if (vigil_init(&err)) { fprintf(stderr, "%s\n", err.message); return 2; }
    double t0 = omp_get_wtime();

    /* the photos of the manifest that are present, with their identity groups */
    FILE *mf = fopen(manifest, "r");
    if (!mf) { fprintf(stderr, "%s: cannot open\n", manifest); return 2; }
    photo *ph = NULL;
    int np = 0, cap = 0;
    char line[8192];
    fgets(line, sizeof line, mf);
    while (fgets(line, sizeof line, mf)) {
        char *f[8] = {0};
        int nf = 0;
        for (char *p = line, *q; nf < 8 && p; p = q) {
            q = strchr(p, '\t');
            if (q) *q++ = 0;
            f[nf++] = p;
        }
        if (nf < 7) continue;
        f[6][strcspn(f[6], "\r\n")] = 0;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, f[0]);
        FILE *t = fopen(path, "rb");
        if (!t) continue;
        fclose(t);
        if (np == cap) { cap = cap ? 2 * cap : 256; ph = realloc(ph, (size_t)cap * sizeof *ph); }
        snprintf(ph[np].name, sizeof ph[np].name, "%s", f[0]);
        snprintf(ph[np].group, sizeof ph[np].group, "%s", *f[6] ? f[6] : f[0]);
        np++;
        if (limit && np == limit) break;
    }
    fclose(mf);
    if (np < 2) { fprintf(stderr, "bench-eval: fewer than 2 photos of %s found in %s\n", manifest, dir); return 2; }
    int *group = malloc((size_t)np * sizeof *group);
    for (int i = 0; i < np; i++) {
        group[i] = i;
        for (int j = 0; j < i; j++) if (!strcmp(ph[i].group, ph[j].group)) { group[i] = group[j]; break; }
    }

    /* the features of every original, in one index: the references */
    NPHOTOS = np;
    for (int t = 0; t < NT; t++) if (transforms[t].s[0].k == K_COLLAGE) T_COLLAGE = t;
    group_of = group;
    fown = malloc((size_t)np * (NT + 1) * sizeof *fown);
    for (size_t i = 0; i < (size_t)np * (NT + 1); i++) fown[i] = -1;
    fref_photo = malloc((size_t)np * sizeof *fref_photo);
    vigil_features *rfeat = calloc((size_t)np, sizeof *rfeat);
    vigil_index_new("eval", &fidx, &err);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int i = 0; i < np; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, ph[i].name);
        VipsImage *base = load_base(path, max_side);
        void *buf = NULL;
        size_t len = 0;
        vigil_features_options fo;
        vigil_known_features_options_init(&fo);
        vigil_error fe;
        if (base && !vips_pngsave_buffer(base, &buf, &len, "compression", 1, NULL)) {
            if (vigil_features_memory(buf, len, &fo, &rfeat[i], &fe)) memset(&rfeat[i], 0, sizeof rfeat[i]);
            g_free(buf);
        }
        if (base) g_object_unref(base);
        vips_error_clear();
    }
    int nfref = 0;
    for (int i = 0; i < np; i++) {
        if (!rfeat[i].n) continue;
        if (vigil_index_add_features(fidx, ph[i].name, NULL, &rfeat[i], &err)) { fprintf(stderr, "features: %s\n", err.message); return 2; }
        fref_photo[nfref++] = i;
        vigil_features_free(&rfeat[i]);
    }
    free(rfeat);
    double t_feat_refs = omp_get_wtime() - t0;

    /* hash every original and every edit */
    hashed *orig = calloc((size_t)np, sizeof *orig), *ed = calloc((size_t)np * NT, sizeof *ed);
    int failed_edits = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) reduction(+ : failed_edits)
    for (int i = 0; i < np; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, ph[i].name);
        VipsImage *base = load_base(path, max_side);
        if (!base) { failed_edits += NT; vips_error_clear(); continue; }
        void *buf = NULL;
        size_t len = 0;
        if (!vips_pngsave_buffer(base, &buf, &len, "compression", 1, NULL)) {
            hash_bytes(buf, len, &orig[i]);
            features_query(buf, len, i, NT, ph);
            g_free(buf);
        }
        for (int j = 0; j < 3; j++) { /* the collage's other photos */
            char op[4096];
            snprintf(op, sizeof op, "%s/%s", dir, ph[(i + 1 + j) % np].name);
            collage_others[j] = load_base(op, max_side);
            vips_error_clear();
        }
        for (int k = 0; k < NT && orig[i].ok; k++) {
            VipsImage *im = base;
            g_object_ref(im);
            for (int s = 0; s < transforms[k].n && im; s++) {
                VipsImage *n = apply(im, transforms[k].s[s]);
                g_object_unref(im);
                im = n;
            }
            if (!im || save_jpeg(im, transforms[k].quality, &buf, &len) || hash_bytes(buf, len, &ed[(size_t)i * NT + k])) failed_edits++;
            else features_query(buf, len, i, k, ph);
            if (im && ed[(size_t)i * NT + k].ok && edits_dir) { /* the generator's output, for other tools: DIR/<photo>__<nn>.jpg */
                char dp[4400];
                snprintf(dp, sizeof dp, "%s/%s__%02d.jpg", edits_dir, ph[i].name, k);
                FILE *df = fopen(dp, "wb");
                if (df) { fwrite(buf, 1, len, df); fclose(df); }
            }
            if (im) g_object_unref(im);
            g_free(buf);
            buf = NULL;
            vips_error_clear();
        }
        for (int j = 0; j < 3; j++) if (collage_others[j]) { g_object_unref(collage_others[j]); collage_others[j] = NULL; }
        g_object_unref(base);
    }
    double t_hash = omp_get_wtime() - t0;
    if (edits_dir) {
        char tp[4200];
        snprintf(tp, sizeof tp, "%s/edits.tsv", edits_dir);
        FILE *ef = fopen(tp, "w");
        if (ef) {
            fprintf(ef, "file\toriginal\tedit\tfamily\tidentity_group\n");
            for (int i = 0; i < np; i++)
                for (int t = 0; t < NT; t++)
                    if (ed[(size_t)i * NT + t].ok)
                        fprintf(ef, "%s__%02d.jpg\t%s\t%s\t%s\t%s\n", ph[i].name, t, ph[i].name, transforms[t].name, transforms[t].family, ph[i].group);
            fclose(ef);
        }
    }

    /* queries: the edits, then the originals themselves (as negatives against the others) */
    size_t nq = (size_t)np * NT + (size_t)np;
    vigil_pdq *qf = malloc(nq * 8 * sizeof *qf), *qe = malloc(nq * 8 * sizeof *qe), *rf = malloc((size_t)np * sizeof *rf), *re = malloc((size_t)np * sizeof *re);
    int *q_photo = malloc(nq * sizeof *q_photo), *q_tr = malloc(nq * sizeof *q_tr);
    size_t k = 0;
    for (int i = 0; i < np; i++) { rf[i] = orig[i].fast[0]; re[i] = orig[i].exact[0]; }
    for (int i = 0; i < np; i++) {
        for (int t = 0; t <= NT; t++) {
            const hashed *h = t < NT ? &ed[(size_t)i * NT + t] : &orig[i];
            if (!h->ok || !orig[i].ok) continue;
            memcpy(qf + k * 8, h->fast, 8 * sizeof *qf);
            memcpy(qe + k * 8, h->exact, 8 * sizeof *qe);
            q_photo[k] = i;
            q_tr[k] = t < NT ? t : -1; /* an original: only a negative */
            k++;
        }
    }
    nq = k;
    /* plain queries: only variant 0 of each group */
    vigil_pdq *qf1 = malloc(nq * sizeof *qf1), *qe1 = malloc(nq * sizeof *qe1);
    for (size_t i = 0; i < nq; i++) { qf1[i] = qf[i * 8]; qe1[i] = qe[i * 8]; }
    tally *T[4];
    const char *names[4] = {"FAST, DIHEDRAL", "FAST, PLAIN", "EXACT, DIHEDRAL", "EXACT, PLAIN"};
    for (int c = 0; c < 4; c++) {
        T[c] = calloc(1, sizeof(tally));
        const vigil_pdq *refs = c < 2 ? rf : re, *q = c == 0 ? qf : c == 1 ? qf1 : c == 2 ? qe : qe1;
        count_pairs(refs, (size_t)np, q, nq, (c % 2 == 0) ? 8 : 1, q_photo, q_tr, group, group, threads, T[c]);
    }
    double t_all = omp_get_wtime() - t0;

    /* ---- outputs ---- */
    char path[4096];
    snprintf(path, sizeof path, "mkdir -p '%s'", out);
    if (system(path)) return 2;
    snprintf(path, sizeof path, "%s/eval.md", out);
    FILE *md = fopen(path, "w");
    snprintf(path, sizeof path, "%s/eval.tsv", out);
    FILE *tsv = fopen(path, "w");
    if (!md || !tsv) { fprintf(stderr, "%s: cannot write\n", out); return 2; }
    unsigned long long N = total(T[0]->neg), P = total(T[0]->pos[NT]);
    int groups = 0;
    for (int i = 0; i < np; i++) groups += group[i] == i;
    fprintf(md, "%d photos in %d identity groups (two photos of the same scene are neither a positive nor a negative pair), "
                "%d edits each: %llu edited copies hashed (%d edits failed to build); %llu different-photo pairs. Originals at "
                "most %d px on the longer side. Hashing %.0f s, all %.0f s, %d threads.\n\n",
            np, groups, NT, P, failed_edits, N, max_side, t_hash, t_all, threads);
    for (int c = 0; c < 4; c++) {
        int dmin = -1;
        for (int d = 0; d <= 256 && dmin < 0; d++) if (T[c]->neg[d]) dmin = d;
        fprintf(md, "%sclosest different-photo pair, %s: %d bits", c ? "; " : "The ", names[c], dmin);
    }
    fprintf(md, ".\n\n");
    static const int D[5] = {16, 24, 31, 40, 48};
    fprintf(md, "### Share of edited copies found, fast mode with dihedral matching (what `vigil scan` does)\n\n");
    fprintf(md, "| edit | family | <= 16 | <= 24 | <= 31 | <= 40 | <= 48 | median distance | <= 31 plain | <= 31 exact |\n|---|---|---|---|---|---|---|---|---|---|\n");
    fprintf(tsv, "transform\tfamily\tn\tfast_dihedral_16\tfast_dihedral_24\tfast_dihedral_31\tfast_dihedral_40\tfast_dihedral_48\tfast_plain_31\texact_dihedral_31\texact_plain_31\tmedian\n");
    for (int t = 0; t <= NT; t++) {
        const unsigned long long *h = T[0]->pos[t];
        unsigned long long n = total(h), half = 0;
        int med = 0;
        for (int d = 0; d <= 256; d++) { half += h[d]; if (2 * half >= n) { med = d; break; } }
        const char *name = t < NT ? transforms[t].name : "**all edits**";
        const char *fam = t < NT ? transforms[t].family : "";
        double r31 = share_within(h, 31);
        int weak = t < NT && r31 < 0.9;
        fprintf(md, "| %s%s | %s |", name, weak ? " **(PDQ fails)**" : "", fam);
        for (int j = 0; j < 5; j++) fprintf(md, " %.1f %% |", 100 * share_within(h, D[j]));
        fprintf(md, " %d | %.1f %% | %.1f %% |\n", med, 100 * share_within(T[1]->pos[t], 31), 100 * share_within(T[2]->pos[t], 31));
        fprintf(tsv, "%s\t%s\t%llu", name, fam, n);
        for (int j = 0; j < 5; j++) fprintf(tsv, "\t%.4f", share_within(h, D[j]));
        fprintf(tsv, "\t%.4f\t%.4f\t%.4f\t%d\n", share_within(T[1]->pos[t], 31), share_within(T[2]->pos[t], 31), share_within(T[3]->pos[t], 31), med);
    }
    fprintf(md, "\nRows marked **(PDQ fails)** find fewer than 90 %% at 31: the map for the next matching methods.\n\n");
    fprintf(md, "### False positives: different-photo pairs within the distance\n\n");
    fprintf(md, "| distance | fast, dihedral | fast, plain | exact, dihedral | exact, plain |\n|---|---|---|---|---|\n");
    static const int FD[] = {16, 24, 31, 40, 48, 56, 64, 72, 80, 88, 96};
    for (size_t j = 0; j < sizeof FD / sizeof FD[0]; j++) {
        fprintf(md, "| <= %d |", FD[j]);
        for (int c = 0; c < 4; c++) {
            unsigned long long n = total(T[c]->neg), kk = within(T[c]->neg, FD[j]);
            fprintf(md, " %llu of %llu = %.2g (95 %% bound %.2g) |", kk, n, n ? (double)kk / n : 0, bench_cp_upper(kk, n));
        }
        fprintf(md, "\n");
    }
    fprintf(md, "\nThe bound is the one-sided 95 %% Clopper-Pearson upper limit of the per-pair rate (with no event, about 3 / pairs). "
                "Dihedral matching compares each pair 8 ways and keeps the nearest, so its rate can only be higher.\n");
    /* ---- local features beside PDQ ---- */
    {
        unsigned long long fn = 0; /* feature negative pairs: every query against every reference of another group */
        int *gcount = calloc((size_t)np, sizeof *gcount);
        for (int r = 0; r < nfref; r++) gcount[group[fref_photo[r]]]++;
        for (size_t qi = 0; qi < nq; qi++) {
            int p = q_photo[qi], t = q_tr[qi] < 0 ? NT : q_tr[qi];
            if (fown[(size_t)p * (NT + 1) + t] < 0) continue;
            fn += (unsigned long long)(nfref - gcount[group[p]]);
            if (t == T_COLLAGE)
                for (int r = 0; r < nfref; r++) if (group[fref_photo[r]] != group[p] && collage_holds(t, p, fref_photo[r])) fn--;
        }
        free(gcount);
        vigil_index_features_options dfo;
        vigil_index_features_options_init(&dfo);
        int TH = (int)dfo.min_inliers;
        fprintf(md, "\n### Local features beside PDQ (an index built with `--features`, as `vigil scan` matches it)\n\n");
        fprintf(md, "References: the %d originals' features (256 each); queries: every edit and original, 1000 features and their mirrored "
                    "twins, verified by an affine fit within 1 %% of the reference's side. A copy is found by PDQ at 31 bits (fast, dihedral) "
                    "or by features at %d inliers or more (the default, `min_inliers`). Reference features %.0f s.\n\n", nfref, TH, t_feat_refs);
        fprintf(md, "| edit | PDQ <= 31 | features >= %d | PDQ + features | median inliers |\n|---|---|---|---|---|\n", TH);
        snprintf(path, sizeof path, "%s/features.tsv", out);
        FILE *ft = fopen(path, "w");
        if (ft) fprintf(ft, "transform\tfamily\tn\tpdq_31\tfeatures\tboth\tmedian_inliers\n");
        unsigned long long an = 0, apdq = 0, afeat = 0, aboth = 0;
        for (int t = 0; t < NT; t++) {
            unsigned long long n = 0, fp = 0, ff = 0, fb = 0;
            int *inl = malloc((size_t)np * sizeof *inl), ni = 0;
            for (int i = 0; i < np; i++) {
                const hashed *h = &ed[(size_t)i * NT + t];
                int own = fown[(size_t)i * (NT + 1) + t];
                if (!h->ok || !orig[i].ok) continue;
                int d = 256;
                for (int v = 0; v < 8; v++) { int dv = vigil_pdq_distance(&h->fast[v], &orig[i].fast[0]); if (dv < d) d = dv; }
                int byp = d <= 31, byf = own >= TH;
                n++; fp += byp; ff += byf; fb += byp || byf;
                inl[ni++] = own > 0 ? own : 0;
            }
            for (int a2 = 1; a2 < ni; a2++) for (int b2 = a2; b2 > 0 && inl[b2 - 1] > inl[b2]; b2--) { int x = inl[b2]; inl[b2] = inl[b2 - 1]; inl[b2 - 1] = x; }
            int med = ni ? inl[ni / 2] : 0;
            free(inl);
            an += n; apdq += fp; afeat += ff; aboth += fb;
            double rb = n ? (double)fb / n : 0;
            fprintf(md, "| %s | %.1f %% | %.1f %% | %s%.1f %%%s | %d |\n", transforms[t].name, n ? 100.0 * fp / n : 0, n ? 100.0 * ff / n : 0,
                    rb < 0.95 ? "" : "", 100 * rb, "", med);
            if (ft) fprintf(ft, "%s\t%s\t%llu\t%.4f\t%.4f\t%.4f\t%d\n", transforms[t].name, transforms[t].family, n, n ? (double)fp / n : 0,
                            n ? (double)ff / n : 0, rb, med);
        }
        fprintf(md, "| **all edits** | %.1f %% | %.1f %% | %.1f %% | |\n\n", an ? 100.0 * apdq / an : 0, an ? 100.0 * afeat / an : 0,
                an ? 100.0 * aboth / an : 0);
        if (ft) fclose(ft);
        fprintf(md, "False feature matches over the %llu different-photo pairs (each query against every reference of another identity "
                    "group; a collage's other three photos excluded); the closest unrelated pair: %d inliers (%s).\n\n",
                fn, fneg_best, fneg_best_what[0] ? fneg_best_what : "none above the floor");
        fprintf(md, "| inliers >= | false matches | rate | 95 %% bound |\n|---|---|---|---|\n");
        static const int FT[] = {6, 8, 10, 12, 14, 16, 20, 25, 30};
        for (size_t j = 0; j < sizeof FT / sizeof FT[0]; j++) {
            unsigned long long kk = 0;
            for (int b2 = FT[j]; b2 < FBINS; b2++) kk += fneg[b2];
            fprintf(md, "| %d%s | %llu of %llu | %.2g | %.2g |\n", FT[j], FT[j] == TH ? " (default)" : "", kk, fn, fn ? (double)kk / fn : 0,
                    bench_cp_upper(kk, fn));
        }
        fprintf(md, "\nThe pairs below the eval's floor of %d inliers are not counted: the table starts there.\n", F_FLOOR);
        /* the raw counts, so that any threshold can be studied without a second run */
        snprintf(path, sizeof path, "%s/features-inliers.tsv", out);
        FILE *fr = fopen(path, "w");
        if (fr) {
            fprintf(fr, "photo\ttransform\town_inliers\n");
            for (int i = 0; i < np; i++)
                for (int t = 0; t < NT; t++)
                    if (ed[(size_t)i * NT + t].ok && orig[i].ok)
                        fprintf(fr, "%s\t%s\t%d\n", ph[i].name, transforms[t].name, fown[(size_t)i * (NT + 1) + t]);
            fprintf(fr, "#negatives\t%llu\n", fn);
            for (int b2 = F_FLOOR; b2 < FBINS; b2++)
                if (fneg[b2]) fprintf(fr, "#unrelated_at\t%d\t%llu\n", b2, fneg[b2]);
            fclose(fr);
        }
    }
    fclose(md);
    fclose(tsv);
    snprintf(path, sizeof path, "%s/hist-fast.png", out);
    plot_histogram(T[1], path, "PDQ DISTANCES, FAST MODE, PLAIN");
    snprintf(path, sizeof path, "%s/hist-fast-dihedral.png", out);
    plot_histogram(T[0], path, "PDQ DISTANCES, FAST MODE, DIHEDRAL (BEST OF 8)");
    snprintf(path, sizeof path, "%s/roc.png", out);
    const tally *TT[4] = {T[0], T[1], T[2], T[3]};
    plot_roc(TT, names, path);
    printf("eval: %d photos, %llu edits, %llu negative pairs, %.0f s; wrote %s/eval.md, eval.tsv, roc.png, hist-fast.png, hist-fast-dihedral.png\n",
           np, P, N, t_all, out);
    vips_shutdown();
    return 0;
}
