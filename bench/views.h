/* views.h - perspective views cut from 360-degree equirectangular panoramas: the ground truth of
 * the room-recognition evaluation (bench/rooms_eval.c) and tests (tests/test_rooms.c). Two views
 * from one point are related exactly by a homography, which views_homography gives. */
#ifndef VIGIL_BENCH_VIEWS_H
#define VIGIL_BENCH_VIEWS_H

#include <stdint.h>

typedef struct view_cam {
    double yaw, pitch, roll, fov; /* degrees; positive pitch looks up; fov is horizontal */
    int w, h;                     /* pixels */
    double r[9];                  /* camera to world (x right, y down, z ahead) */
} view_cam;

void views_cam(view_cam *c, double yaw, double pitch, double roll, double fov, int w, int h);
/* Grey view (w x h bytes) of a grey panorama (pw x ph), bilinear, wrapping in longitude. */
void views_render(const uint8_t *pano, int pw, int ph, const view_cam *c, uint8_t *out);
/* Share of q's rays (a 32 x 24 grid) inside r's frame. */
double views_overlap(const view_cam *q, const view_cam *r);
/* The homography taking pixels of q to pixels of r (row-major, h[8] = 1). */
void views_homography(const view_cam *q, const view_cam *r, double h[9]);

#endif
