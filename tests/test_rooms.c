/* test_rooms.c - the room index against known geometry: perspective views cut from checked-in
 * 360-degree panoramas (tests/data/panoramas, CC0) are related by an exact homography, so a query
 * must find its place, and the homography it reports must agree with the true one. Also: masks,
 * unknown places, index versus brute force, save/open/add round trips, damaged files, threads. */
#include "tests.h"
#include "../bench/views.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define W 512
#define H 384

static const char *const places[] = {"interior", "courtyard", "city"};

static uint8_t *pano_grey(int p, uint32_t *w, uint32_t *h)
{
    char name[128];
    snprintf(name, sizeof name, "../panoramas/blender-data__%s.jpg", places[p]);
    size_t n;
    void *data = t_read_file(t_path(t_data_dir, name), &n);
    uint8_t *px = NULL;
    vigil_error e;
    if (!data || vigil_decode_grey(data, n, 4096, &px, w, h, &e)) px = NULL;
    free(data);
    return px;
}

static int features_of_view(const uint8_t *pano, uint32_t pw, uint32_t ph, const view_cam *c, const vigil_rect *mask,
                            uint8_t *scratch, vigil_features *f)
{
    views_render(pano, (int)pw, (int)ph, c, scratch);
    vigil_features_options o;
    vigil_features_options_init(&o);
    if (mask) { o.mask = mask; o.nmask = 1; }
    vigil_error e;
    return vigil_features_from_grey(scratch, W, H, W, &o, f, &e);
}

/* A reference set: 3 views (120 degrees apart) of the interior and the courtyard, plus the
 * checked-in photographs as distractors. The city stays out: the unknown place. */
typedef struct fixture {
    vigil_rooms *rooms;
    uint8_t *pano[3];
    uint32_t pw[3], ph[3];
    view_cam ref[2][3];
} fixture;

static int fixture_build(fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    for (int p = 0; p < 3; p++)
        if (!(fx->pano[p] = pano_grey(p, &fx->pw[p], &fx->ph[p]))) return -1;
    vigil_error e;
    if (vigil_rooms_new(&fx->rooms, &e)) return -1;
    uint8_t *v = malloc(W * H);
    for (int p = 0; p < 2; p++)
        for (int k = 0; k < 3; k++) {
            views_cam(&fx->ref[p][k], 10 + 120 * k, 0, 0, 70, W, H);
            vigil_features f;
            if (features_of_view(fx->pano[p], fx->pw[p], fx->ph[p], &fx->ref[p][k], NULL, v, &f)) { free(v); return -1; }
            char name[64], labels[96];
            snprintf(name, sizeof name, "%s-%d", places[p], k);
            snprintf(labels, sizeof labels, "hotel_id=%s room=%s chain=test", places[p], places[p]);
            vigil_rooms_add(fx->rooms, name, labels, &f, &e);
            vigil_features_free(&f);
        }
    free(v);
    static const char *const photos[] = {"opencv-doc__left.jpg", "opencv-doc__right.jpg", "opencv-doc__box.png",
                                         "gimp-help-en__threshold-orig.png", "libjxl-testdata__flower_small.q85_420_non_interleaved.jpg",
                                         "opencv-doc__hfs_001.jpg"};
    for (size_t i = 0; i < sizeof photos / sizeof *photos; i++) {
        size_t n;
        void *data = t_read_file(t_path(t_data_dir, photos[i]), &n);
        vigil_features f;
        if (data && !vigil_features_memory(data, n, NULL, &f, &e)) {
            vigil_rooms_add(fx->rooms, photos[i], NULL, &f, &e);
            vigil_features_free(&f);
        }
        free(data);
    }
    return vigil_rooms_prepare(fx->rooms, &e) ? -1 : 0;
}

static void fixture_free(fixture *fx)
{
    vigil_rooms_free(fx->rooms);
    for (int p = 0; p < 3; p++) free(fx->pano[p]);
}

/* Median distance, over a grid of query points that the reference also sees, between where the
 * reported homography and the true one put them. */
static double h_error(const float *got, const double *truth)
{
    double d[64];
    int n = 0;
    for (int j = 0; j < 8; j++)
        for (int i = 0; i < 8; i++) {
            /* keypoints put pixel centres on integers, the cameras at +0.5 */
            double x = (i + 0.5) * W / 8, y = (j + 0.5) * H / 8, X = x + 0.5, Y = y + 0.5;
            double wt = truth[6] * X + truth[7] * Y + truth[8];
            double ut = (truth[0] * X + truth[1] * Y + truth[2]) / wt - 0.5, vt = (truth[3] * X + truth[4] * Y + truth[5]) / wt - 0.5;
            if (wt <= 0 || ut < 0 || ut >= W || vt < 0 || vt >= H) continue;
            double wg = got[6] * x + got[7] * y + got[8];
            double ug = (got[0] * x + got[1] * y + got[2]) / wg, vg = (got[3] * x + got[4] * y + got[5]) / wg;
            d[n++] = hypot(ug - ut, vg - vt);
        }
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && d[b] < d[b - 1]; b--) { double t = d[b]; d[b] = d[b - 1]; d[b - 1] = t; }
    return n ? d[n / 2] : 1e9;
}

void test_rooms_find_place_from_other_viewpoint(void)
{
    fixture fx;
    if (fixture_build(&fx)) { CHECK(0, "fixture: cannot load tests/data/panoramas"); fixture_free(&fx); return; }
    uint8_t *v = malloc(W * H);
    /* queries between and across the reference views: another yaw, pitch, roll and zoom */
    static const double q[][4] = {{-20, 8, 3, 60}, {-100, -10, -5, 80}, {150, 5, 0, 50}, {265, 0, 6, 75}};
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < sizeof q / sizeof *q; i++) {
            view_cam c;
            views_cam(&c, q[i][0], q[i][1], q[i][2], q[i][3], W, H);
            int best = 0;
            double ov = 0;
            for (int k = 0; k < 3; k++) {
                double o = views_overlap(&c, &fx.ref[p][k]);
                if (o > ov) { ov = o; best = k; }
            }
            vigil_features f;
            CHECK(!features_of_view(fx.pano[p], fx.pw[p], fx.ph[p], &c, NULL, v, &f), "features");
            vigil_rooms_match m[5];
            size_t nm = 0;
            vigil_error e;
            CHECK(vigil_rooms_query(fx.rooms, &f, NULL, m, &nm, &e) == VIGIL_OK, "%s", e.message);
            char want[64];
            snprintf(want, sizeof want, "%s-%d", places[p], best);
            printf("    %s yaw %.0f pitch %.0f fov %.0f: overlap %.2f with %s; top %s, %u inliers\n", places[p], q[i][0], q[i][1],
                   q[i][3], ov, want, nm ? m[0].name : "-", nm ? m[0].inliers : 0);
            CHECK(nm >= 1 && strstr(m[0].labels, places[p]) != NULL, "%s query %zu: wrong or no room", places[p], i);
            if (nm && !strcmp(m[0].name, want)) {
                double truth[9];
                views_homography(&c, &fx.ref[p][best], truth);
                double err = h_error(m[0].h, truth);
                printf("      homography: median %.1f px from the true one where the views overlap\n", err);
                CHECK(err < 8, "%s query %zu: homography off by %.1f px", places[p], i, err);
            }
            /* one result per room: never the same hotel_id twice */
            for (size_t a = 0; a < nm; a++)
                for (size_t b = a + 1; b < nm; b++)
                    CHECK(strcmp(m[a].labels, m[b].labels) || !*m[a].labels, "room %s twice", m[a].labels);
            vigil_features_free(&f);
        }
    free(v);
    fixture_free(&fx);
}

/* Guided matching (after RANSAC, each query feature looked for where the homography puts it)
 * adds true matches the index missed: never fewer inliers for the same image, more in total,
 * and the homography it refits stays on the true one. */
void test_rooms_guided_matching(void)
{
    fixture fx;
    if (fixture_build(&fx)) { CHECK(0, "fixture"); fixture_free(&fx); return; }
    uint8_t *v = malloc(W * H);
    static const double q[][4] = {{-20, 8, 3, 60}, {-100, -10, -5, 80}, {150, 5, 0, 50}, {265, 0, 6, 75}, {40, -12, 4, 85}};
    uint32_t sum_off = 0, sum_on = 0;
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < sizeof q / sizeof *q; i++) {
            view_cam c;
            views_cam(&c, q[i][0], q[i][1], q[i][2], q[i][3], W, H);
            vigil_features f;
            CHECK(!features_of_view(fx.pano[p], fx.pw[p], fx.ph[p], &c, NULL, v, &f), "features");
            vigil_rooms_query_options o;
            vigil_rooms_query_options_init(&o);
            CHECK(o.guided_radius > 0, "guided matching is on by default");
            vigil_rooms_match on[5], off[5];
            size_t non = 0, noff = 0;
            vigil_error e;
            CHECK(vigil_rooms_query(fx.rooms, &f, &o, on, &non, &e) == VIGIL_OK, "%s", e.message);
            o.guided_radius = 0;
            CHECK(vigil_rooms_query(fx.rooms, &f, &o, off, &noff, &e) == VIGIL_OK, "%s", e.message);
            if (non && noff && !strcmp(on[0].name, off[0].name)) {
                CHECK(on[0].inliers >= off[0].inliers, "%s: %u inliers guided, %u without", on[0].name, on[0].inliers, off[0].inliers);
                sum_on += on[0].inliers;
                sum_off += off[0].inliers;
                int best = 0;
                double ov = 0;
                for (int k = 0; k < 3; k++) {
                    double ok = views_overlap(&c, &fx.ref[p][k]);
                    if (ok > ov) { ov = ok; best = k; }
                }
                char want[64];
                snprintf(want, sizeof want, "%s-%d", places[p], best);
                if (!strcmp(on[0].name, want)) {
                    double truth[9];
                    views_homography(&c, &fx.ref[p][best], truth);
                    double err = h_error(on[0].h, truth), err0 = h_error(off[0].h, truth);
                    printf("      %s yaw %.0f: %u inliers guided (%u without), homography %.1f px from the true one (%.1f without)\n",
                           want, q[i][0], on[0].inliers, off[0].inliers, err, err0);
                    /* refitted on more matches, a good homography stays good; a poor one (a wide,
                     * pitched view, little overlap) does not get worse */
                    CHECK(err < 8 || err <= err0, "%s: guided homography off by %.1f px (%.1f without)", want, err, err0);
                }
            }
            CHECK(non >= 1 && strstr(on[0].labels, places[p]), "%s query %zu: wrong or no room with guided matching", places[p], i);
            vigil_features_free(&f);
        }
    printf("    inliers of the top image over 10 queries: %u with guided matching, %u without\n", sum_on, sum_off);
    CHECK(sum_on > sum_off + 10, "guided matching added %d inliers", (int)sum_on - (int)sum_off);
    free(v);
    fixture_free(&fx);
}

void test_rooms_mask_and_unknown_place(void)
{
    fixture fx;
    if (fixture_build(&fx)) { CHECK(0, "fixture"); fixture_free(&fx); return; }
    uint8_t *v = malloc(W * H);
    view_cam c;
    views_cam(&c, 30, 4, -3, 65, W, H);
    /* a "person": a third of the view, filled with another place's texture */
    vigil_rect person = {180, 60, 170, 324};
    views_render(fx.pano[0], (int)fx.pw[0], (int)fx.ph[0], &c, v);
    uint8_t *other = malloc(W * H);
    view_cam oc;
    views_cam(&oc, 200, 0, 0, 40, W, H);
    views_render(fx.pano[2], (int)fx.pw[2], (int)fx.ph[2], &oc, other);
    for (int y = 60; y < H; y++) memcpy(v + (size_t)y * W + 180, other + (size_t)y * W + 180, 170);
    vigil_features_options o;
    vigil_features_options_init(&o);
    o.mask = &person;
    o.nmask = 1;
    vigil_features f;
    vigil_error e;
    CHECK(vigil_features_from_grey(v, W, H, W, &o, &f, &e) == VIGIL_OK, "%s", e.message);
    uint32_t inside = 0;
    for (uint32_t i = 0; i < f.n; i++)
        if (f.kp[i].x >= person.x && f.kp[i].x < person.x + person.w && f.kp[i].y >= person.y) {
            if (inside < 3) printf("    inside: %.1f %.1f scale %.2f\n", f.kp[i].x, f.kp[i].y, f.kp[i].scale);
            inside++;
        }
    CHECK(inside == 0, "%u features inside the mask", inside);
    vigil_rooms_match m[5];
    size_t nm = 0;
    CHECK(vigil_rooms_query(fx.rooms, &f, NULL, m, &nm, &e) == VIGIL_OK, "%s", e.message);
    CHECK(nm >= 1 && strstr(m[0].labels, "interior"), "masked query: %s", nm ? m[0].name : "no match");
    printf("    occluded and masked: %s, %u inliers\n", nm ? m[0].name : "-", nm ? m[0].inliers : 0);
    vigil_features_free(&f);

    /* the same mask as an image: white where the person stands */
    uint8_t mimg[12 * 16] = {0};
    for (int y = 2; y < 16; y++)
        for (int x = 5; x < 9; x++) mimg[y * 12 + x] = 255; /* x 213..383, y 48..384 of 512 x 384 */
    vigil_features_options_init(&o);
    o.mask_image = mimg;
    o.mask_width = 12;
    o.mask_height = 16;
    CHECK(vigil_features_from_grey(v, W, H, W, &o, &f, &e) == VIGIL_OK, "%s", e.message);
    inside = 0;
    for (uint32_t i = 0; i < f.n; i++) inside += f.kp[i].x >= 214 && f.kp[i].x < 383 && f.kp[i].y >= 49;
    CHECK(inside == 0 && f.n > 100, "mask image: %u of %u features inside", inside, f.n);
    vigil_features_free(&f);

    /* a place that is not in the set, and a photograph that is not either: nothing above the threshold */
    for (int k = 0; k < 3; k++) {
        views_cam(&c, 90 * k, 0, 0, 70, W, H);
        CHECK(!features_of_view(fx.pano[2], fx.pw[2], fx.ph[2], &c, NULL, v, &f), "features");
        CHECK(vigil_rooms_query(fx.rooms, &f, NULL, m, &nm, &e) == VIGIL_OK && nm == 0, "unknown place matched %s (%u inliers)",
              nm ? m[0].name : "", nm ? m[0].inliers : 0);
        vigil_features_free(&f);
    }
    free(v);
    free(other);
    fixture_free(&fx);
}

/* The tables must find what comparing with every feature finds (the brute-force baseline). */
void test_rooms_index_vs_exhaustive(void)
{
    fixture fx;
    if (fixture_build(&fx)) { CHECK(0, "fixture"); fixture_free(&fx); return; }
    uint8_t *v = malloc(W * H);
    int same = 0, n = 0;
    for (int p = 0; p < 2; p++)
        for (int k = 0; k < 4; k++) {
            view_cam c;
            views_cam(&c, 25 + 90 * k, 5, 2, 60, W, H);
            vigil_features f;
            if (features_of_view(fx.pano[p], fx.pw[p], fx.ph[p], &c, NULL, v, &f)) continue;
            vigil_rooms_query_options o;
            vigil_rooms_query_options_init(&o);
            vigil_rooms_match a[5], b[5];
            size_t na = 0, nb = 0;
            vigil_error e;
            vigil_rooms_query(fx.rooms, &f, &o, a, &na, &e);
            o.exhaustive = 1;
            vigil_rooms_query(fx.rooms, &f, &o, b, &nb, &e);
            n++;
            same += (na == 0 && nb == 0) || (na && nb && a[0].image == b[0].image);
            vigil_features_free(&f);
        }
    printf("    top result equal to brute force in %d of %d queries\n", same, n);
    CHECK(n == 8 && same >= 7, "index and brute force disagree: %d of %d", same, n);
    free(v);
    fixture_free(&fx);
}

typedef struct qjob { const vigil_rooms *r; const vigil_features *f; vigil_rooms_match m[5]; size_t nm; } qjob;
static void *run_query(void *p)
{
    qjob *j = p;
    vigil_error e;
    for (int i = 0; i < 3; i++) vigil_rooms_query(j->r, j->f, NULL, j->m, &j->nm, &e);
    return NULL;
}

void test_rooms_file_round_trip(void)
{
    fixture fx;
    if (fixture_build(&fx)) { CHECK(0, "fixture"); fixture_free(&fx); return; }
    vigil_error e;
    const char *path = t_path(t_tmp_dir, "rooms.vgr");
    CHECK(vigil_rooms_save(fx.rooms, path, &e) == VIGIL_OK, "%s", e.message);
    vigil_rooms *back;
    CHECK(vigil_rooms_open(path, &back, &e) == VIGIL_OK, "%s", e.message);
    vigil_rooms_stats s1, s2;
    vigil_rooms_get_stats(fx.rooms, &s1);
    vigil_rooms_get_stats(back, &s2);
    CHECK(s1.images == s2.images && s1.features == s2.features && s1.images == 12, "stats %llu/%llu images",
          (unsigned long long)s1.images, (unsigned long long)s2.images);
    const char *name, *labels;
    uint32_t nf;
    CHECK(vigil_rooms_image(back, 4, &name, &labels, &nf) == VIGIL_OK && !strcmp(name, "courtyard-1") &&
          !strcmp(labels, "hotel_id=courtyard room=courtyard chain=test") && nf > 100, "image 4: %s %s", name, labels);
    CHECK(vigil_rooms_image(back, 12, &name, &labels, &nf) == VIGIL_E_NOT_FOUND, "past the end");

    /* same answers from the file as from memory, and from two threads at once */
    uint8_t *v = malloc(W * H);
    view_cam c;
    views_cam(&c, 140, 3, 0, 55, W, H);
    vigil_features f;
    features_of_view(fx.pano[0], fx.pw[0], fx.ph[0], &c, NULL, v, &f);
    vigil_rooms_match a[5], b[5];
    size_t na = 0, nb = 0;
    vigil_rooms_query(fx.rooms, &f, NULL, a, &na, &e);
    vigil_rooms_query(back, &f, NULL, b, &nb, &e);
    CHECK(na >= 1 && na == nb && a[0].image == b[0].image && a[0].inliers == b[0].inliers, "file and memory differ: %zu %zu %s %u %u / %s %u %u",
          na, nb, na ? a[0].name : "", na ? a[0].inliers : 0, na ? a[0].votes : 0, nb ? b[0].name : "", nb ? b[0].inliers : 0, nb ? b[0].votes : 0);
    qjob j[2] = {{back, &f, {{0}}, 0}, {back, &f, {{0}}, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, run_query, &j[i]);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    CHECK(j[0].nm == na && j[1].nm == na && j[0].m[0].inliers == a[0].inliers && j[1].m[0].inliers == a[0].inliers, "threads differ");

    /* incremental: add the city to the opened file; its views then match it */
    view_cam rc;
    views_cam(&rc, 0, 0, 0, 70, W, H);
    vigil_features cf;
    features_of_view(fx.pano[2], fx.pw[2], fx.ph[2], &rc, NULL, v, &cf);
    CHECK(vigil_rooms_add(back, "city-0", "hotel_id=city room=1", &cf, &e) == VIGIL_OK, "%s", e.message);
    vigil_rooms_match m[5];
    size_t nm = 0;
    CHECK(vigil_rooms_query(back, &cf, NULL, m, &nm, &e) == VIGIL_E_INVALID, "query before prepare must be refused");
    CHECK(vigil_rooms_save(back, path, &e) == VIGIL_OK, "%s", e.message);
    vigil_rooms_free(back);
    CHECK(vigil_rooms_open(path, &back, &e) == VIGIL_OK, "%s", e.message);
    vigil_features qf;
    views_cam(&c, 20, 5, 0, 55, W, H);
    features_of_view(fx.pano[2], fx.pw[2], fx.ph[2], &c, NULL, v, &qf);
    CHECK(vigil_rooms_query(back, &qf, NULL, m, &nm, &e) == VIGIL_OK && nm >= 1 && !strcmp(m[0].name, "city-0"),
          "added image not found: %s", nm ? m[0].name : "-");
    vigil_features_free(&qf);
    vigil_features_free(&cf);
    vigil_features_free(&f);
    vigil_rooms_free(back);

    /* damage: a flipped byte in every 4 KiB stretch, a truncation, another kind of file */
    size_t n;
    uint8_t *bytes = t_read_file(path, &n);
    const char *bad = t_path(t_tmp_dir, "bad.vgr");
    int refused = 0, tried = 0;
    for (size_t off = 100; off < n; off += 4096) {
        bytes[off] ^= 0x10;
        t_write_file(bad, bytes, n);
        bytes[off] ^= 0x10;
        tried++;
        if (vigil_rooms_open(bad, &back, &e) == VIGIL_E_CORRUPT) refused++;
        else vigil_rooms_free(back);
    }
    CHECK(refused == tried, "%d of %d damaged copies refused", refused, tried);
    t_write_file(bad, bytes, n - 1000);
    CHECK(vigil_rooms_open(bad, &back, &e) == VIGIL_E_CORRUPT && strstr(e.message, "truncated"), "truncated: %s", e.message);
    const char *vgi = t_path(t_tmp_dir, "x.vgi");
    vigil_index *idx;
    vigil_index_new("x", &idx, &e);
    vigil_index_save(idx, vgi, &e);
    vigil_index_free(idx);
    CHECK(vigil_rooms_open(vgi, &back, &e) == VIGIL_E_FORMAT && strstr(e.message, "not a vigil room index"), "vgi: %s", e.message);
    CHECK(vigil_index_open(path, &idx, &e) == VIGIL_E_FORMAT, "a room index is not a hash index");
    free(bytes);
    free(v);
    fixture_free(&fx);
}
