/* scan_kfeat.h - the scan's hook for known images by local features (cli/scan_kfeat.c): each
 * decoded image's features against every --index that holds features. */
#ifndef VIGIL_SCAN_KFEAT_H
#define VIGIL_SCAN_KFEAT_H

#include "kfeat.h"
#include "scan.h"

/* One feature match of a file: which set, and the match (ref, inliers, transform). */
typedef struct scan_fhit {
    int32_t set;
    vigil_index_features_match m;
} scan_fhit;

/* Whether any of the sets is an index with features (then the scan extracts them). */
int scan_kfeat_wanted(const scan_set *sets, int nsets);
/* The features preset of a scan's query: the known-image one (with mirrored twins). */
void scan_kfeat_options(vigil_features_options *fo);
/* The features f (the known-image query preset) against every set with features: at most top_k
 * (0: 30) per set into *out (malloc'd, the caller frees it), *n of them. 0, or -1 when out of memory. */
int scan_kfeat_match(const scan_set *sets, int nsets, int top_k, const vigil_features *f, scan_fhit **out, int *n);
/* The journal matches (MATCH_FEATURES) of those hits. */
jmatch scan_kfeat_jmatch(const scan_fhit *h);
/* The hit behind a journal match, NULL when none. */
const scan_fhit *scan_kfeat_find(const scan_fhit *h, int n, const jmatch *m);
/* Copy of n hits (NULL for none or out of memory). */
scan_fhit *scan_kfeat_dup(const scan_fhit *h, int n);
/* The settings clause part of a set: " features=MIN_INLIERS" for an index with features, else "". */
const char *scan_kfeat_clause(const scan_set *set, char *buf, size_t n);

#endif
