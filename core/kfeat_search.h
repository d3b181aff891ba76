/* kfeat_search.h - private interface of kfeat_search.c: the candidate search and verification of
 * known images by local features (for kfeat.c), over the features a room index holds. */
#ifndef VIGIL_KFEAT_SEARCH_H
#define VIGIL_KFEAT_SEARCH_H

#include "rooms_impl.h"

typedef struct vigil__kfs vigil__kfs;

/* The lookup tables over r's features (r is not prepared: its own tables are not needed).
 * VIGIL_E_NOMEM on failure. */
vigil_result vigil__kfs_build(const vigil_rooms *r, vigil__kfs **out, vigil_error *err);
void vigil__kfs_free(vigil__kfs *s);
/* The tables as a file stores them (kfeat.c's section, version 2): vigil__kfs_file_bytes(n) bytes,
 * 4-aligned, filled from n descriptors by fill; view uses such bytes in place (they must outlive
 * the handle) after checking what a lookup relies on (VIGIL_E_CORRUPT with *why; VIGIL_E_NOMEM). */
uint64_t vigil__kfs_file_bytes(uint64_t nfeat);
void vigil__kfs_fill(const vigil_pdq *desc, uint64_t nfeat, uint8_t *p);
vigil_result vigil__kfs_view(const uint8_t *p, uint64_t size, uint64_t nfeat, vigil__kfs **out, const char **why);
/* s's arrays into p (vigil__kfs_file_bytes(its features) bytes); its feature count; whether it
 * views a file's bytes (0 for NULL). */
void vigil__kfs_copy(const vigil__kfs *s, uint8_t *p);
uint64_t vigil__kfs_nfeat(const vigil__kfs *s);
int vigil__kfs_borrowed(const vigil__kfs *s);
/* Bytes of the tables (stated per feature in kfeat_search.c). */
uint64_t vigil__kfs_bytes(const vigil__kfs *s);
/* The same for a set of nfeat features, before it is built. */
uint64_t vigil__kfs_bytes_for(uint64_t nfeat);

typedef struct vigil__kfs_options {
    uint32_t min_inliers; /* the least a match needs */
    float tolerance;      /* inlier distance, fraction of the reference's longer side */
    int mirrored;         /* the query's second half holds its mirrored twins */
    int guided_radius;    /* descriptor distance of guided matching */
} vigil__kfs_options;

typedef struct vigil__kfs_match {
    uint32_t img, inliers;
    int mirrored;
    float h[9];           /* query pixels (mirrored when mirrored) -> reference pixels */
    float spread;         /* the inliers' bounding box in the reference, fraction of its area */
} vigil__kfs_match;

/* The verified references for q, best first, at most cap (one per reference and half). r holds
 * the features s was built on. Thread-safe (s and r are only read). */
vigil_result vigil__kfs_query(const vigil__kfs *s, const vigil_rooms *r, const vigil_features *q,
                              const vigil__kfs_options *o, vigil__kfs_match *out, size_t cap, size_t *nout,
                              vigil_error *err);

#endif
