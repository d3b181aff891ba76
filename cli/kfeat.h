/* kfeat.h - the CLI's helpers for known images by local features (cli/kfeat.c). */
#ifndef VIGIL_CLI_KFEAT_H
#define VIGIL_CLI_KFEAT_H

#include "cli.h"

/* As cli_hashed_fn, with the features of the same read (features->n 0 and ferr why, when none). */
typedef int (*kfeat_hashed_fn)(char *path, const char *walk_error, vigil_result rc, const vigil_error *err,
                               const vigil_hash_result *r, const vigil_features *features, const vigil_error *ferr,
                               void *ctx);
/* cli_hash_tree with vigil_hash_file_features: one read and the same bytes for hash and features. */
void kfeat_hash_tree(char **paths, int n, const vigil_hash_options *opt, const vigil_features_options *fopt, int threads,
                     kfeat_hashed_fn fn, void *ctx);
/* Whether any of the n indexes holds features. */
int kfeat_any(vigil_index *const *idx, int n);
/* --feature-inliers N of match and scan: the least inliers of a feature match (0: the library's
 * default, vigil_index_features_options). kfeat_set_inliers parses it (0, or 2 after a message). */
int kfeat_set_inliers(const char *arg);
/* The matching options with that threshold. */
void kfeat_match_options(vigil_index_features_options *o);
/* The usage line and paragraph of --feature-inliers. */
#define KFEAT_HELP_INLIERS                                                                        \
    "--feature-inliers N: a feature match needs N inliers (default 12, chosen on make eval:\n"    \
    "bench/results/eval.md; 4..65535). Fewer finds more of the hardest copies (a collage, a\n"  \
    "photo of a screen) and risks matches between different photos.\n"
/* ,"inliers":N,"box":[..],"crop":[..],"scale":S,"rotation":R,"mirrored":B (the shared contract) */
void kfeat_json_fields(FILE *f, const vigil_index_features_match *m);
/* The same as text cells: "x0 y0 x1 y1", "x y w h", scale, rotation. */
void kfeat_text_fields(char *box, char *crop, char *scale, char *rot, size_t n, const vigil_index_features_match *m);

#endif
