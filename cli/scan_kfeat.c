/* scan_kfeat.c - the scan's hook for known images by local features: kept apart from cmd_scan.c,
 * which calls it where it decodes (run_batch), matches (match_batch) and writes a record
 * (content_json). The features come from the same read and decode call as the hash
 * (vigil_hash_file_features). */
#include "scan_kfeat.h"
#include "kfeat.h"

#include <stdlib.h>
#include <string.h>

int scan_kfeat_wanted(const scan_set *sets, int nsets)
{
    for (int k = 0; k < nsets; k++)
        if (sets[k].idx && kfeat_any(&sets[k].idx, 1)) return 1;
    return 0;
}

void scan_kfeat_options(vigil_features_options *fo)
{
    vigil_known_query_options_init(fo);
}

int scan_kfeat_match(const scan_set *sets, int nsets, int top_k, const vigil_features *f, scan_fhit **out, int *n)
{
    *out = NULL;
    *n = 0;
    for (int k = 0; k < nsets; k++) {
        if (!sets[k].idx || !f->n) continue;
        vigil_index_features_options o;
        kfeat_match_options(&o);
        o.top_k = top_k > 0 && top_k < 30 ? (uint32_t)top_k : 30;
        vigil_index_features_match m[30];
        size_t nm = 0;
        if (vigil_index_match_features(sets[k].idx, f, &o, m, &nm, NULL) || !nm) continue;
        scan_fhit *p = realloc(*out, (size_t)(*n + (int)nm) * sizeof *p);
        if (!p) return -1;
        *out = p;
        for (size_t j = 0; j < nm; j++) p[(*n)++] = (scan_fhit){k, m[j]};
    }
    return 0;
}

jmatch scan_kfeat_jmatch(const scan_fhit *h)
{
    return (jmatch){h->m.ref, h->set, (uint16_t)(h->m.inliers > 65535 ? 65535 : h->m.inliers),
                    (uint8_t)(h->m.mirrored ? VIGIL_FLIPX : VIGIL_ORIG), MATCH_FEATURES};
}

const scan_fhit *scan_kfeat_find(const scan_fhit *h, int n, const jmatch *m)
{
    for (int i = 0; i < n; i++)
        if (h[i].set == m->set && h[i].m.ref == m->entry) return &h[i];
    return NULL;
}

scan_fhit *scan_kfeat_dup(const scan_fhit *h, int n)
{
    if (!n) return NULL;
    scan_fhit *p = malloc((size_t)n * sizeof *p);
    if (p) memcpy(p, h, (size_t)n * sizeof *p);
    return p;
}

const char *scan_kfeat_clause(const scan_set *set, char *buf, size_t n)
{
    buf[0] = 0;
    if (set->idx && kfeat_any(&set->idx, 1)) {
        vigil_index_features_options o;
        kfeat_match_options(&o);
        /* search=3: the long-key search and verification of kfeat_search.c on features of the
         * integer-resized view (view.c); a journal of an earlier search or view, which found
         * other matches, refuses --resume */
        snprintf(buf, n, " features=%u search=3", o.min_inliers);
    }
    return buf;
}
