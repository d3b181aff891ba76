/* kfeat.c - the CLI's side of known images by local features (core/kfeat.c): hashing a tree with
 * the features of the same read (index build/add --features, match), and a feature match as
 * JSON fields (match's jsonl rows, the scan's results.jsonl). */
#include "kfeat.h"

#include <stdlib.h>
#include <string.h>

void kfeat_hash_tree(char **paths, int n, const vigil_hash_options *opt, const vigil_features_options *fopt, int threads,
                     kfeat_hashed_fn fn, void *ctx)
{
    cli_walk *w = cli_walk_new(paths, n);
    const int batch = 16 * threads;
    char **p = calloc((size_t)batch, sizeof *p), **e = calloc((size_t)batch, sizeof *e);
    vigil_hash_result *r = calloc((size_t)batch, sizeof *r);
    vigil_features *f = calloc((size_t)batch, sizeof *f);
    vigil_result *rc = calloc((size_t)batch, sizeof *rc);
    vigil_error *er = calloc((size_t)batch, sizeof *er), *fe = calloc((size_t)batch, sizeof *fe);
    if (!w || !p || !e || !r || !f || !rc || !er || !fe) { cli_warn("out of memory"); exit(EXIT_USAGE); }
    int done = 0, stop = 0;
    while (!done && !stop) {
        int k = 0;
        while (k < batch && !(done = !cli_walk_next(w, &p[k], &e[k]))) {
            if (!e[k] && cli_is_own_output(p[k])) { free(p[k]); continue; }
            k++;
        }
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (int i = 0; i < k; i++) {
            memset(&r[i], 0, sizeof r[i]);
            memset(&f[i], 0, sizeof f[i]);
            fe[i].code = VIGIL_E_NOT_FOUND;
            rc[i] = e[i] ? VIGIL_E_IO : vigil_hash_file_features(p[i], opt, fopt, &r[i], &f[i], &fe[i], &er[i]);
        }
        for (int i = 0; i < k; i++) {
            if (!stop) stop = fn(p[i], e[i], rc[i], &er[i], &r[i], &f[i], &fe[i], ctx);
            else free(p[i]);
            vigil_features_free(&f[i]);
            free(e[i]);
        }
    }
    free(p); free(e); free(r); free(f); free(rc); free(er); free(fe);
    cli_walk_free(w);
}

int kfeat_any(vigil_index *const *idx, int n)
{
    for (int k = 0; k < n; k++) {
        vigil_index_features_stats st;
        vigil_index_get_features_stats(idx[k], &st);
        if (st.refs) return 1;
    }
    return 0;
}

static unsigned min_inliers; /* 0: the library's default */

int kfeat_set_inliers(const char *arg)
{
    int v;
    if (cli_parse_int("--feature-inliers", arg, 4, 65535, &v)) return EXIT_USAGE;
    min_inliers = (unsigned)v;
    return 0;
}

void kfeat_match_options(vigil_index_features_options *o)
{
    vigil_index_features_options_init(o);
    if (min_inliers) o->min_inliers = min_inliers;
}

/* -0.0 reads as a turn the other way */
static double unsigned_zero(double v) { return v > -0.05 && v < 0.05 ? 0 : v; }

void kfeat_json_fields(FILE *f, const vigil_index_features_match *m)
{
    fprintf(f, ",\"inliers\":%u,\"box\":[%.4f,%.4f,%.4f,%.4f],\"crop\":[%.0f,%.0f,%.0f,%.0f],\"scale\":%.3f,\"rotation\":%.1f,"
               "\"mirrored\":%s",
            m->inliers, m->box[0], m->box[1], m->box[2], m->box[3], m->crop[0], m->crop[1], m->crop[2], m->crop[3], m->scale,
            unsigned_zero(m->rotation), m->mirrored ? "true" : "false");
}

void kfeat_text_fields(char *box, char *crop, char *scale, char *rot, size_t n, const vigil_index_features_match *m)
{
    snprintf(box, n, "%.4f %.4f %.4f %.4f", m->box[0], m->box[1], m->box[2], m->box[3]);
    snprintf(crop, n, "%.0f %.0f %.0f %.0f", m->crop[0], m->crop[1], m->crop[2], m->crop[3]);
    snprintf(scale, n, "%.3f", m->scale);
    snprintf(rot, n, "%.1f", unsigned_zero(m->rotation));
}
