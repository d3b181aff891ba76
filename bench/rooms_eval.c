/* rooms_eval.c - build/bench-rooms: how well the room index finds a place seen from another
 * viewpoint, with and without a person in front, among thousands of unrelated photographs.
 *
 * Places are 360-degree panoramas (datasets/panoramas.sh: blender-data's 8 CC0 HDRIs, one of them a
 * real hotel room). A view is a pinhole camera at (yaw, pitch, roll, field of view) rendered from the
 * panorama, so views of one place are related by a homography of rotation: real geometry, real
 * texture. Six places are known: 3 reference views each, 120 degrees apart, field of view 70 - the
 * gaps leave queries with every overlap from none to full. Two places are unknown: their views, and
 * crops of held-out photos, measure false matches. Distractors: K crops of every other photograph.
 *
 * A query is a random view (yaw anywhere, pitch +-20, roll +-8, field of view 45-90) under another
 * light (gain 0.75-1.25, gamma 0.8-1.25), in three conditions: clean; a person-shaped occluder
 * (textured with another photograph) and its bounding box given as mask; the occluder, no mask.
 * Overlap = share of the query's rays that the best reference view also sees.
 *
 *   bench-rooms --panoramas DIR --photos DIR [--out DIR] [--crops K] [--queries N] [--write DIR] [-j N]
 *
 * --write DIR saves the reference views, the first 200 distractor photos and every query (but
 * the unmasked occluded ones) as PNG with manifest.tsv, for bench-rooms-opencv. */
#include "vigil.h"
#include "stats.h"
#include "views.h"

#include <dirent.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <vips/vips.h>

#define VW 512
#define VH 384
#define NPLACES 8
#define NKNOWN 6
#define NREFV 3
#define REF_FOV 70.0

static const char *const place_names[NPLACES] = {"interior", "studio", "courtyard", "city", "forest", "sunrise",
                                                 "night", "sunset"};

typedef struct pano { uint8_t *px; int w, h; } pano;
typedef view_cam cam;

static uint64_t rng_state = 20261129;
static double urand(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}
static double uniform(double a, double b) { return a + (b - a) * urand(); }

static void cam_init(cam *c, double yaw, double pitch, double roll, double fov) { views_cam(c, yaw, pitch, roll, fov, VW, VH); }
static void render(const pano *p, const cam *c, uint8_t *out) { views_render(p->px, p->w, p->h, c, out); }
static double overlap(const cam *q, const cam *r) { return views_overlap(q, r); }

/* 8-bit grey, longer side <= max_side */
static uint8_t *load_grey(const char *path, int max_side, int *w, int *h)
{
    VipsImage *im = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL), *t;
    if (!im) return NULL;
#define STEP(call) do { if (call) { g_object_unref(im); return NULL; } g_object_unref(im); im = t; } while (0)
    if (vips_image_hasalpha(im)) STEP(vips_flatten(im, &t, "background", vips_array_double_newv(1, 255.0), NULL));
    STEP(vips_colourspace(im, &t, VIPS_INTERPRETATION_B_W, NULL));
    if (im->Bands > 1) STEP(vips_extract_band(im, &t, 0, "n", 1, NULL));
    if (im->BandFmt != VIPS_FORMAT_UCHAR) STEP(vips_cast(im, &t, VIPS_FORMAT_UCHAR, NULL));
    int longer = im->Xsize > im->Ysize ? im->Xsize : im->Ysize;
    if (longer > max_side) STEP(vips_resize(im, &t, (double)max_side / longer, NULL));
#undef STEP
    size_t len;
    uint8_t *px = vips_image_write_to_memory(im, &len);
    *w = im->Xsize;
    *h = im->Ysize;
    g_object_unref(im);
    return px;
}

typedef struct photo { char name[256]; uint8_t *px; int w, h; } photo;

/* a window of a photo: x, y, w, h as fractions */
static uint8_t *crop(const photo *p, double fx, double fy, double fw, double fh, int *w, int *h)
{
    int cw = (int)(fw * p->w), ch = (int)(fh * p->h), x0 = (int)(fx * (p->w - cw)), y0 = (int)(fy * (p->h - ch));
    if (cw < 48 || ch < 48) return NULL;
    uint8_t *o = malloc((size_t)cw * ch);
    for (int y = 0; y < ch; y++) memcpy(o + (size_t)y * cw, p->px + (size_t)(y0 + y) * p->w + x0, cw);
    *w = cw;
    *h = ch;
    return o;
}

static void write_png(const char *dir, const char *name, const uint8_t *px, int w, int h)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.png", dir, name);
    VipsImage *im = vips_image_new_from_memory(px, (size_t)w * h, w, h, 1, VIPS_FORMAT_UCHAR);
    if (im) { vips_pngsave(im, path, "compression", 1, NULL); g_object_unref(im); }
}

typedef struct query {
    int place;          /* 0..NPLACES-1, or -1: a crop of a held-out photo */
    int cond;           /* 0 clean, 1 occluder + mask, 2 occluder without mask */
    double ov;          /* best overlap with a reference view of its place */
    cam c;
    uint8_t *px;
    vigil_rect mask;
    /* results */
    int nres;
    int res_place[5];   /* place of each result, -1 for a distractor */
    uint32_t res_in[5];
    double t_extract, t_query;
    uint32_t nfeat;
} query;

/* a person: an ellipse head over a rounded body, textured with a photo, standing on the bottom edge */
static void occlude(uint8_t *px, const photo *tex, vigil_rect *box)
{
    double ph = uniform(0.55, 0.85) * VH, pw = uniform(0.22, 0.35) * VW, cx = uniform(0.15, 0.85) * VW;
    double top = VH - ph, head = ph * 0.16;
    box->x = (float)(cx - pw / 2); box->y = (float)top; box->w = (float)pw; box->h = (float)ph;
    for (int y = (int)top; y < VH; y++)
        for (int x = (int)(cx - pw / 2); x < (int)(cx + pw / 2); x++) {
            if (x < 0 || x >= VW || y < 0) continue;
            double dy = y - top, dx = x - cx, inside;
            if (dy < 2 * head) inside = (dx * dx) / (head * head * 0.6) + (dy - head) * (dy - head) / (head * head) <= 1;
            else inside = fabs(dx) <= pw / 2 * (dy < 3 * head ? (dy - 2 * head) / head : 1);
            if (!inside) continue;
            int tx = (x - (int)(cx - pw / 2)) % tex->w, ty = (y - (int)top) % tex->h;
            px[(size_t)y * VW + x] = tex->px[(size_t)ty * tex->w + tx];
        }
}

static int place_of(const char *labels)
{
    const char *p = strstr(labels, "hotel_id=");
    if (!p) return -1;
    p += 9;
    for (int i = 0; i < NPLACES; i++) {
        size_t n = strlen(place_names[i]);
        if (!strncmp(p, place_names[i], n) && (p[n] == 0 || p[n] == ' ')) return i;
    }
    return -1;
}


/* ROOMS_DIAG: where a query's correspondences with its best reference view are lost. For each query
 * feature: does its true position fall in the reference frame (inframe), is there a reference
 * keypoint within 4 px there (repeat), is that keypoint's descriptor within the radius (close), is
 * the Hamming-nearest reference feature the right one (nn), and does it pass the ratio test (ratio). */
static void diagnose(const query *Q, const cam *rc, const vigil_features *qf, const vigil_features *rf, int radius,
                     float ratio, int out[6])
{
    double H[9];
    views_homography(&Q->c, rc, H);
    memset(out, 0, 6 * sizeof *out);
    out[0] = (int)qf->n;
    for (uint32_t i = 0; i < qf->n; i++) {
        double x = qf->kp[i].x, y = qf->kp[i].y, w = H[6] * x + H[7] * y + H[8];
        double u = (H[0] * x + H[1] * y + H[2]) / w, v = (H[3] * x + H[4] * y + H[5]) / w;
        if (w <= 0 || u < 0 || v < 0 || u >= VW || v >= VH) continue;
        out[1]++;
        int bestd = 999, second = 999, bestj = -1, nearj = -1;
        double neard = 16;
        for (uint32_t j = 0; j < rf->n; j++) {
            double dx = rf->kp[j].x - u, dy = rf->kp[j].y - v, d2 = dx * dx + dy * dy;
            if (d2 < neard) { neard = d2; nearj = (int)j; }
            int hd = vigil_pdq_distance(&qf->desc[i], &rf->desc[j]);
            if (hd < bestd) { second = bestd; bestd = hd; bestj = (int)j; } else if (hd < second) second = hd;
        }
        if (nearj < 0) continue;
        out[2]++;
        if (vigil_pdq_distance(&qf->desc[i], &rf->desc[nearj]) <= radius) out[3]++;
        double dx = rf->kp[bestj].x - u, dy = rf->kp[bestj].y - v;
        if (bestd <= radius && dx * dx + dy * dy < 36) { out[4]++; if (bestd < ratio * second) out[5]++; }
    }
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    const char *pano_dir = NULL, *photo_dir = NULL, *out = "build/rooms-eval", *write_dir = NULL;
    int crops = 10, nq = 40, threads = omp_get_num_procs();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--panoramas") && i + 1 < argc) pano_dir = argv[++i];
        else if (!strcmp(argv[i], "--photos") && i + 1 < argc) photo_dir = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--crops") && i + 1 < argc) crops = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--queries") && i + 1 < argc) nq = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--write") && i + 1 < argc) write_dir = argv[++i];
        else if (!strcmp(argv[i], "-j") && i + 1 < argc) threads = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench-rooms --panoramas DIR --photos DIR [--out DIR] [--crops K] [--queries N] [--write DIR] [-j N]\n");
            return 2;
        }
    }
    if (!pano_dir || !photo_dir) { fprintf(stderr, "bench-rooms: --panoramas and --photos are required\n"); return 2; }
    vigil_error err;
    if (vigil_init(&err)) { fprintf(stderr, "%s\n", err.message); return 2; }
    mkdir(out, 0755);
    if (write_dir) mkdir(write_dir, 0755);

    pano pn[NPLACES];
    for (int i = 0; i < NPLACES; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/blender-data__%s.png", pano_dir, place_names[i]);
        pn[i].px = load_grey(path, 100000, &pn[i].w, &pn[i].h);
        if (!pn[i].px) { fprintf(stderr, "bench-rooms: %s: cannot load (run datasets/panoramas.sh)\n", path); return 2; }
    }
    /* photos, sorted by name: the last tenth is held out (never indexed) */
    DIR *d = opendir(photo_dir);
    if (!d) { fprintf(stderr, "bench-rooms: %s: cannot open\n", photo_dir); return 2; }
    char **names = NULL;
    int nn = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        names = realloc(names, (nn + 1) * sizeof *names);
        names[nn++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof *names, cmp_str);
    photo *ph = calloc(nn, sizeof *ph);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int i = 0; i < nn; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", photo_dir, names[i]);
        snprintf(ph[i].name, sizeof ph[i].name, "%s", names[i]);
        ph[i].px = load_grey(path, 1024, &ph[i].w, &ph[i].h);
        if (!ph[i].px) vips_error_clear();
    }
    int np = 0;
    for (int i = 0; i < nn; i++) if (ph[i].px && ph[i].w >= 64 && ph[i].h >= 64) ph[np++] = ph[i];
    int nheld = np / 10, nindexed = np - nheld;

    /* the reference set */
    vigil_rooms *rooms;
    vigil_rooms_new(&rooms, &err);
    vigil_features_options fo;
    vigil_features_options_init(&fo);
    fo.max_features = getenv("REFMAX") ? (uint32_t)atoi(getenv("REFMAX")) : 1000; /* as vigil rooms build */
    cam refc[NKNOWN][NREFV];
    static vigil_features reff[NKNOWN][NREFV]; /* kept for ROOMS_DIAG */
    double t0 = omp_get_wtime();
    uint8_t *view = malloc(VW * VH);
    FILE *wm = NULL;
    if (write_dir) {
        char p[4096];
        snprintf(p, sizeof p, "%s/manifest.tsv", write_dir);
        wm = fopen(p, "w");
        fprintf(wm, "role\tname\tplace\tcondition\toverlap\tmask_x\tmask_y\tmask_w\tmask_h\n");
    }
    for (int p = 0; p < NKNOWN; p++) {
        double base = uniform(0, 120);
        for (int k = 0; k < NREFV; k++) {
            cam_init(&refc[p][k], base + 120 * k, 0, 0, REF_FOV);
            render(&pn[p], &refc[p][k], view);
            vigil_features f;
            if (vigil_features_from_grey(view, VW, VH, VW, &fo, &f, &err)) { fprintf(stderr, "%s\n", err.message); return 1; }
            char name[64], labels[128];
            snprintf(name, sizeof name, "%s-ref%d", place_names[p], k);
            snprintf(labels, sizeof labels, "hotel_id=%s room=%s", place_names[p], place_names[p]);
            vigil_rooms_add(rooms, name, labels, &f, &err);
            reff[p][k] = f;
            if (wm) { write_png(write_dir, name, view, VW, VH); fprintf(wm, "ref\t%s\t%s\t\t\t\t\t\t\n", name, place_names[p]); }
        }
    }
    /* distractors: crop 0 is the whole photo, the others random windows of 40-100 % a side */
    int ndist = nindexed * crops, nadded = 0; /* crops under 48 px or without features are left out */
    vigil_features *df = calloc(ndist, sizeof *df);
    double *cropbox = malloc(ndist * 4 * sizeof *cropbox);
    for (int i = 0; i < ndist; i++) {
        double fw = i % crops ? uniform(0.4, 1) : 1, fh = i % crops ? uniform(0.4, 1) : 1;
        cropbox[4 * i] = urand(); cropbox[4 * i + 1] = urand(); cropbox[4 * i + 2] = fw; cropbox[4 * i + 3] = fh;
    }
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
    for (int i = 0; i < ndist; i++) {
        int w, h;
        uint8_t *c = crop(&ph[i / crops], cropbox[4 * i], cropbox[4 * i + 1], cropbox[4 * i + 2], cropbox[4 * i + 3], &w, &h);
        vigil_error e2;
        if (c && vigil_features_from_grey(c, w, h, w, &fo, &df[i], &e2)) memset(&df[i], 0, sizeof df[i]);
        if (c && write_dir && i < 200 * crops && i % crops < 1) {
            char name[400];
            snprintf(name, sizeof name, "distractor-%05d", i);
            write_png(write_dir, name, c, w, h);
        }
        free(c);
    }
    for (int i = 0; i < ndist; i++) {
        char name[400];
        snprintf(name, sizeof name, "%s#%d", ph[i / crops].name, i % crops);
        if (df[i].n && !vigil_rooms_add(rooms, name, "", &df[i], &err)) nadded++;
        if (wm && i < 200 * crops && i % crops < 1) fprintf(wm, "ref\tdistractor-%05d\t\t\t\t\t\t\t\n", i);
        vigil_features_free(&df[i]);
    }
    free(df);
    if (vigil_rooms_prepare(rooms, &err)) { fprintf(stderr, "%s\n", err.message); return 1; }
    vigil_rooms_stats st;
    vigil_rooms_get_stats(rooms, &st);
    double t_build = omp_get_wtime() - t0;
    fprintf(stderr, "bench-rooms: %llu reference images (%d place views, %d distractor crops of %d photos), %llu features, %.1f MB, built in %.1f s\n",
            (unsigned long long)st.images, NKNOWN * NREFV, nadded, nindexed, (unsigned long long)st.features, st.bytes / 1e6, t_build);

    /* queries: their own random stream, so the same queries meet any number of distractors */
    rng_state = getenv("ROOMS_SEED") ? strtoull(getenv("ROOMS_SEED"), NULL, 10) : 20261130;
    int nqk = NKNOWN * nq * 3, nqu = (NPLACES - NKNOWN) * nq * 2 + nheld * 2, nqt = nqk + nqu;
    query *q = calloc(nqt, sizeof *q);
    int qi = 0;
    for (int p = 0; p < NPLACES; p++) {
        int conds = p < NKNOWN ? 3 : 2;
        for (int k = 0; k < nq; k++) {
            cam c;
            cam_init(&c, uniform(0, 360), uniform(-20, 20), uniform(-8, 8), uniform(45, 90));
            double gain = uniform(0.75, 1.25), gamma = uniform(0.8, 1.25);
            const photo *tex = &ph[nindexed + (int)(urand() * nheld)]; /* never indexed */
            vigil_rect box;
            uint8_t *base = malloc(VW * VH);
            render(&pn[p], &c, base);
            for (int i = 0; i < VW * VH; i++) {
                double v = 255 * pow(base[i] / 255.0, gamma) * gain;
                base[i] = (uint8_t)(v > 255 ? 255 : v);
            }
            uint8_t *occ = malloc(VW * VH);
            memcpy(occ, base, VW * VH);
            occlude(occ, tex, &box);
            double ov = 0;
            for (int r = 0; p < NKNOWN && r < NREFV; r++) {
                double o = overlap(&c, &refc[p][r]);
                if (o > ov) ov = o;
            }
            for (int cnd = 0; cnd < conds; cnd++) {
                query *Q = &q[qi++];
                Q->place = p;
                Q->cond = cnd;
                Q->ov = ov;
                Q->c = c;
                Q->mask = box;
                Q->px = malloc(VW * VH);
                memcpy(Q->px, cnd ? occ : base, VW * VH);
            }
            free(base);
            free(occ);
        }
    }
    for (int i = nindexed; i < np; i++) /* held-out photos: two crops each */
        for (int k = 0; k < 2; k++) {
            query *Q = &q[qi++];
            Q->place = -1;
            int w, h;
            uint8_t *c = crop(&ph[i], urand(), urand(), uniform(0.5, 1), uniform(0.5, 1), &w, &h);
            Q->px = malloc(VW * VH);
            /* to the view size, nearest neighbour */
            for (int y = 0; y < VH; y++)
                for (int x = 0; x < VW; x++) Q->px[y * VW + x] = c ? c[(size_t)(y * h / VH) * w + x * w / VW] : 128;
            free(c);
        }
    nqt = qi;
    if (wm) {
        for (int i = 0; i < nqt; i++) {
            if (q[i].cond == 2) continue;
            char name[64];
            snprintf(name, sizeof name, "query-%04d", i);
            write_png(write_dir, name, q[i].px, VW, VH);
            fprintf(wm, "query\t%s\t%s\t%d\t%.3f\t%.0f\t%.0f\t%.0f\t%.0f\n", name,
                    q[i].place < 0 ? "held-out-photo" : place_names[q[i].place], q[i].cond, q[i].ov,
                    q[i].cond ? q[i].mask.x : 0, q[i].cond ? q[i].mask.y : 0, q[i].cond ? q[i].mask.w : 0, q[i].cond ? q[i].mask.h : 0);
        }
        fclose(wm);
    }
    /* one thread: the latency a caller sees */
    vigil_rooms_query_options qo;
    vigil_rooms_query_options_init(&qo);
    qo.min_inliers = 4;
    qo.exhaustive = getenv("ROOMS_EXHAUSTIVE") != NULL;
    /* knobs for experiments: ROOMS_EXHAUSTIVE, RATIO, STOP, RADIUS, TOL, VERIFY, GUIDED, REFMAX, QMAX; ROOMS_DIAG;
     * ROOMS_SEED draws another set of queries */
    if (getenv("RATIO")) qo.ratio = (float)atof(getenv("RATIO"));
    if (getenv("STOP")) qo.stop_factor = (uint32_t)atoi(getenv("STOP"));
    if (getenv("RADIUS")) qo.radius = atoi(getenv("RADIUS"));
    if (getenv("TOL")) qo.tolerance = (float)atof(getenv("TOL"));
    if (getenv("VERIFY")) qo.verify = (uint32_t)atoi(getenv("VERIFY"));
    if (getenv("GUIDED")) qo.guided_radius = atoi(getenv("GUIDED"));
    vigil_features_options qfo;
    vigil_features_options_init(&qfo);
    if (getenv("QMAX")) qfo.max_features = (uint32_t)atoi(getenv("QMAX"));
    for (int i = 0; i < nqt; i++) {
        vigil_features_options o = qfo;
        if (q[i].cond == 1) { o.mask = &q[i].mask; o.nmask = 1; }
        double a = omp_get_wtime();
        vigil_features f;
        if (vigil_features_from_grey(q[i].px, VW, VH, VW, &o, &f, &err)) continue;
        double b = omp_get_wtime();
        if (getenv("ROOMS_DIAG") && q[i].place >= 0 && q[i].place < NKNOWN && q[i].cond < 2 && q[i].ov >= 1.0 / 3) {
            int best = 0;
            double bo = -1;
            for (int r = 0; r < NREFV; r++) {
                double ov = overlap(&q[i].c, &refc[q[i].place][r]);
                if (ov > bo) { bo = ov; best = r; }
            }
            int dg[6];
            diagnose(&q[i], &refc[q[i].place][best], &f, &reff[q[i].place][best], qo.radius, qo.ratio, dg);
            fprintf(stderr, "diag %d %s cond %d ov %.2f fov %.0f feat %d ref %u inframe %d repeat %d close %d nn %d ratio %d\n", i,
                    place_names[q[i].place], q[i].cond, q[i].ov, q[i].c.fov, dg[0], reff[q[i].place][best].n, dg[1], dg[2], dg[3], dg[4], dg[5]);
        }
        vigil_rooms_match m[5];
        size_t nm = 0;
        vigil_rooms_query(rooms, &f, &qo, m, &nm, &err);
        double c = omp_get_wtime();
        q[i].t_extract = b - a;
        q[i].t_query = c - b;
        q[i].nfeat = f.n;
        q[i].nres = (int)nm;
        for (size_t k = 0; k < nm; k++) { q[i].res_place[k] = place_of(m[k].labels); q[i].res_in[k] = m[k].inliers; }
        vigil_features_free(&f);
    }

    /* report */
    char path[4096];
    snprintf(path, sizeof path, "%s/rooms.tsv", out);
    FILE *tf = fopen(path, "w");
    fprintf(tf, "query\tplace\tcondition\toverlap\tyaw\tpitch\troll\tfov\tfeatures\ttop1_place\ttop1_inliers\ttop2_inliers\textract_ms\tquery_ms\n");
    for (int i = 0; i < nqt; i++)
        fprintf(tf, "%d\t%s\t%d\t%.3f\t%.1f\t%.1f\t%.1f\t%.1f\t%u\t%s\t%u\t%u\t%.2f\t%.2f\n", i, q[i].place >= 0 ? place_names[q[i].place] : "held-out-photo",
                q[i].cond, q[i].ov, q[i].c.yaw, q[i].c.pitch, q[i].c.roll, q[i].c.fov, q[i].nfeat,
                q[i].nres ? (q[i].res_place[0] >= 0 ? place_names[q[i].res_place[0]] : "distractor") : "-",
                q[i].nres ? q[i].res_in[0] : 0, q[i].nres > 1 ? q[i].res_in[1] : 0, q[i].t_extract * 1e3, q[i].t_query * 1e3);
    fclose(tf);
    snprintf(path, sizeof path, "%s/rooms.md", out);
    FILE *md = fopen(path, "w");
    fprintf(md, "# Room recognition: views of 360-degree panoramas among %llu reference images\n\n", (unsigned long long)st.images);
    fprintf(md, "References: %d views of %d known places (3 each, 120 degrees apart, field of view 70) and %d distractor crops of %d photographs;"
                " %llu features, %.1f MB. Queries: %d per place and condition, random yaw, pitch +-20, roll +-8, field of view 45-90, other light;"
                " unknown places: %s, %s, and 2 crops of each of %d held-out photographs.\n\n",
            NKNOWN * NREFV, NKNOWN, nadded, nindexed, (unsigned long long)st.features, st.bytes / 1e6, nq, place_names[6], place_names[7], nheld);
    static const int thr[] = {6, 8, 10, 12, 15, 20, 25, 30};
    const int nthr = (int)(sizeof thr / sizeof thr[0]);
    fprintf(md, "## False matches and top-1 by score threshold (inliers)\n\n");
    fprintf(md, "| threshold | false matches, unknown places (n) | 95%% upper | false top-1 on known places | top-1, overlap >= 1/3, occluder + mask | top-1, overlap >= 1/3, clean |\n|---|---|---|---|---|---|\n");
    int chosen = thr[nthr - 1];
    for (int t = 0; t < nthr; t++) {
        int fu = 0, nu = 0, fk = 0, nk = 0, ok1 = 0, n1 = 0, ok0 = 0, n0 = 0;
        for (int i = 0; i < nqt; i++) {
            int hit = q[i].nres && q[i].res_in[0] >= (uint32_t)thr[t];
            if (q[i].place < 0 || q[i].place >= NKNOWN) { nu++; fu += hit; continue; }
            nk++;
            fk += hit && q[i].res_place[0] != q[i].place;
            if (q[i].ov >= 1.0 / 3 && q[i].cond == 1) { n1++; ok1 += hit && q[i].res_place[0] == q[i].place; }
            if (q[i].ov >= 1.0 / 3 && q[i].cond == 0) { n0++; ok0 += hit && q[i].res_place[0] == q[i].place; }
        }
        fprintf(md, "| %d | %d / %d = %.2f %% | %.2f %% | %d / %d | %d / %d = %.1f %% | %d / %d = %.1f %% |\n", thr[t], fu, nu, 100.0 * fu / nu,
                100 * bench_cp_upper(fu, nu), fk, nk, ok1, n1, 100.0 * ok1 / (n1 ? n1 : 1), ok0, n0, 100.0 * ok0 / (n0 ? n0 : 1));
        if (chosen == thr[nthr - 1] && (double)fu / nu <= 0.01 && fk <= nk / 100) chosen = thr[t];
    }
    fprintf(md, "\nChosen threshold: the lowest with at most 1 %% false matches: **%d inliers**.\n\n", chosen);
    fprintf(md, "## Top-1 and top-5 by overlap with the nearest reference view (threshold %d)\n\n", chosen);
    fprintf(md, "| overlap | condition | queries | top-1 | top-5 |\n|---|---|---|---|---|\n");
    static const double edges[] = {0, 0.1, 1.0 / 3, 0.66, 1.01};
    static const char *const cname[] = {"clean", "occluder + mask", "occluder, no mask"};
    for (int b = 0; b < 4; b++)
        for (int cnd = 0; cnd < 3; cnd++) {
            int n = 0, t1 = 0, t5 = 0;
            for (int i = 0; i < nqt; i++) {
                if (q[i].place < 0 || q[i].place >= NKNOWN || q[i].cond != cnd || q[i].ov < edges[b] || q[i].ov >= edges[b + 1]) continue;
                n++;
                int got1 = 0, got5 = 0;
                for (int k = 0; k < q[i].nres; k++)
                    if (q[i].res_in[k] >= (uint32_t)chosen && q[i].res_place[k] == q[i].place) { got5 = 1; got1 |= k == 0; }
                t1 += got1;
                t5 += got5;
            }
            fprintf(md, "| %.2f-%.2f | %s | %d | %.1f %% | %.1f %% |\n", edges[b], edges[b + 1] > 1 ? 1.0 : edges[b + 1], cname[cnd], n,
                    100.0 * t1 / (n ? n : 1), 100.0 * t5 / (n ? n : 1));
        }
    {
        int n1 = 0, t1 = 0, n5 = 0, t5 = 0;
        for (int i = 0; i < nqt; i++) {
            if (q[i].place < 0 || q[i].place >= NKNOWN || q[i].ov < 1.0 / 3 || q[i].cond != 1) continue;
            n1++;
            n5++;
            for (int k = 0; k < q[i].nres; k++)
                if (q[i].res_in[k] >= (uint32_t)chosen && q[i].res_place[k] == q[i].place) { t5++; t1 += k == 0; break; }
        }
        fprintf(md, "\n**Target check** (overlap >= 1/3, occluder + mask): top-1 %d / %d = %.1f %% (95 %% lower bound %.1f %%), top-5 %.1f %%.\n\n", t1, n1,
                100.0 * t1 / (n1 ? n1 : 1), 100 * bench_cp_lower(t1, n1), 100.0 * t5 / (n5 ? n5 : 1));
    }
    double se = 0, sq = 0, mq = 0;
    double *qt = malloc(nqt * sizeof *qt);
    for (int i = 0; i < nqt; i++) { se += q[i].t_extract; sq += q[i].t_query; qt[i] = q[i].t_query; if (q[i].t_query > mq) mq = q[i].t_query; }
    for (int i = 1; i < nqt; i++) for (int j = i; j > 0 && qt[j] < qt[j - 1]; j--) { double t = qt[j]; qt[j] = qt[j - 1]; qt[j - 1] = t; }
    fprintf(md, "## Time, one core\n\nFeature extraction (%dx%d view, no decode): mean %.2f ms. Search over %llu images: mean %.2f ms, median %.2f ms, 95th percentile %.2f ms, max %.2f ms. Build: %.1f s on %d threads.\n",
            VW, VH, 1e3 * se / nqt, (unsigned long long)st.images, 1e3 * sq / nqt, 1e3 * qt[nqt / 2], 1e3 * qt[nqt * 95 / 100], 1e3 * mq, t_build, threads);
    fclose(md);
    snprintf(path, sizeof path, "%s/rooms.md", out);
    fprintf(stderr, "bench-rooms: report in %s\n", path);
    vigil_rooms_free(rooms);
    for (int p = 0; p < NKNOWN; p++)
        for (int k = 0; k < NREFV; k++) vigil_features_free(&reff[p][k]);
    return 0;
}
