/* geometry.h - private interface of geometry.c: the homography between two views of a place,
 * fitted by RANSAC on correspondences, and guided matching once it is known (for rooms_query.c). */
#ifndef VIGIL_GEOMETRY_H
#define VIGIL_GEOMETRY_H

#include "vigil.h"

/* RANSAC over n correspondences (query points qp -> reference points rp, pixels, x y pairs).
 * Returns the inlier count and the homography in pixels (h, row-major, query -> reference).
 * Deterministic: seeded by seed. work holds 4n doubles, iwork n + 8 ints. */
/* model: VIGIL__MODEL_HOMOGRAPHY (views of a place) or VIGIL__MODEL_AFFINE (one photograph
 * reframed: 3-point samples, h's last row 0 0 1), or VIGIL__MODEL_REFRAME (the same, its axes'
 * proportions kept within 1.45:1: known images). */
enum { VIGIL__MODEL_HOMOGRAPHY = 0, VIGIL__MODEL_AFFINE = 1, VIGIL__MODEL_REFRAME = 2 };
int vigil__ransac(const double *qp, const double *rp, int n, double tol_px, uint64_t seed, float h[9], double *work,
                  int *iwork, int model);

/* One reference image's features as guided matching sees them: n features (descriptor, x y in
 * pixels, shape as the room index stores it: orientation in 1/256 turns, log2 scale in 1/8
 * octaves), of which the nuse listed in use (increasing) take part. */
typedef struct vigil__guide_ref {
    const vigil_pdq *desc;
    const float *xy;
    const uint8_t *shape;
    uint32_t n;
    const uint32_t *use;
    uint32_t nuse;
} vigil__guide_ref;

/* Guided matching of the query features qf (those with qskip[i] == 0) against ref under h, within
 * tol pixels and descriptor distance radius; refits h on what it finds. Returns the count of
 * consistent matches and updates h, or -1 when out of memory (h unchanged). */
int vigil__guided(const vigil__guide_ref *ref, const vigil_features *qf, const uint8_t *qskip, double tol, int radius,
                  float h[9], int model);

#endif
