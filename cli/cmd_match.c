/* cmd_match.c - `vigil match`: images or hash lists against one or more indexes in one pass. */
#include "cli.h"
#include "archives.h"
#include "kfeat.h"

#include <getopt.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

void help_match(FILE *f)
{
    fprintf(f,
            "Usage: vigil match --index FILE.vgi [--index FILE2.vgi ...] [--radius 31] [--top K]\n"
            "                   [--dihedral] [--exact] [--format tsv|csv|jsonl] [-o OUT] [-j N]\n"
            "                   [--follow-links] [--archive-depth N] [--archive-ratio N]\n"
            "                   [--archive-max-total SIZE] [--feature-inliers N] INPUT...\n\n"
            "INPUT is images or folders (hashed on the fly) or hash lists (as `vigil index` reads\n"
            "them). Every query is matched against every index; a match is distance <= radius\n"
            "(default 31, PDQ's recommendation). --dihedral also matches rotated and flipped\n"
            "copies (the 8 dihedral hashes of an image in one pass; lists carry one hash).\n"
            "--top K keeps the K nearest per query and index; without it, or with --top 0,\n"
            "every match within the radius is printed. At most 64 --index.\n\n"
            "Columns: query query_pdq index set ref_id distance transform ref_quality labels\n"
            "One row per match; queries without a match print nothing.\n\n"
            "An index built with --features (`vigil index build --features`) is also matched by\n"
            "local features: every image finds its cropped, framed, padded, slightly turned,\n"
            "captioned and mirrored copies there (hash lists carry no features). The columns then\n"
            "go on: kind (pdq or features) inliers box crop scale rotation mirrored. A features\n"
            "row has the inliers of the affine fit, box 'x0 y0 x1 y1' where the reference lies in\n"
            "the query (0..1), crop 'x y w h' the part of the reference shown (its pixels), scale\n"
            "(query pixels per reference pixel), rotation in degrees and mirrored (docs/kfeat.md).\n"
            KFEAT_HELP_INLIERS
            CLI_HELP_CELLS CLI_HELP_LINKS "\n"
            CLI_HELP_ARCHIVES "\n"
            "Options for archives:\n"
            CLI_HELP_ARCHIVE_OPTS "\n"
            "Exit status: 0 done, 1 some inputs failed (reported), 2 usage or unusable index.\n");
}

typedef struct query {
    char *name;
    vigil_pdq h[8];
} query;

typedef struct qbatch {
    query *q;
    size_t n, cap;
    int variants;
} qbatch;

typedef struct mctx {
    vigil_index **idx;
    char **idx_path;
    int nidx;
    vigil_index_search_options sopt;
    cli_out out;
    int threads;
    unsigned long long queries, matches, failed;
    int fatal;
    int features;  /* some index holds features: the extra columns, and images matched by them */
} mctx;

static void flush(mctx *m, qbatch *b)
{
    if (!b->n) return;
    vigil_pdq *hs = malloc(b->n * (size_t)b->variants * sizeof *hs);
    if (!hs) { cli_warn("out of memory"); m->fatal = 1; return; }
    for (size_t i = 0; i < b->n; i++) memcpy(hs + i * b->variants, b->q[i].h, (size_t)b->variants * sizeof *hs);
    vigil_index_match **res = calloc((size_t)m->nidx, sizeof *res);
    size_t *nres = calloc((size_t)m->nidx, sizeof *nres), *pos = calloc((size_t)m->nidx, sizeof *pos);
    for (int k = 0; k < m->nidx && !m->fatal; k++) {
        vigil_error err;
        if (vigil_index_search(m->idx[k], hs, b->n, b->variants, &m->sopt, &res[k], &nres[k], &err)) {
            cli_warn("%s: %s", m->idx_path[k], err.message);
            m->fatal = 1;
        }
    }
    const char *set[64];
    for (int k = 0; k < m->nidx; k++) {
        vigil_index_stats st;
        vigil_index_get_stats(m->idx[k], &st);
        set[k] = st.set_name;
    }
    for (size_t i = 0; i < b->n && !m->fatal; i++) {
        char qhex[65];
        vigil_pdq_to_hex(&b->q[i].h[0], qhex);
        for (int k = 0; k < m->nidx; k++) {
            for (; pos[k] < nres[k] && res[k][pos[k]].query == i; pos[k]++) {
                const vigil_index_match *mt = &res[k][pos[k]];
                int q;
                const char *id, *labels;
                vigil_index_entry(m->idx[k], mt->entry, NULL, &q, &id, &labels);
                cli_row_begin(&m->out);
                cli_field_path(&m->out, b->q[i].name);
                cli_field_str(&m->out, qhex);
                cli_field_path(&m->out, m->idx_path[k]);
                cli_field_str(&m->out, set[k]);
                cli_field_str(&m->out, id ? id : (m->out.fmt == FMT_JSONL ? NULL : ""));
                cli_field_int(&m->out, mt->distance, 1);
                cli_field_str(&m->out, vigil_transform_name((vigil_transform)mt->transform));
                cli_field_int(&m->out, q, 1);
                cli_field_str(&m->out, labels ? labels : (m->out.fmt == FMT_JSONL ? NULL : ""));
                if (m->features) {
                    cli_field_str(&m->out, "pdq");
                    for (int e = 0; e < 6; e++) cli_field_str(&m->out, m->out.fmt == FMT_JSONL ? NULL : "");
                }
                cli_row_end(&m->out);
                m->matches++;
            }
        }
    }
    for (int k = 0; k < m->nidx; k++) free(res[k]);
    free(res); free(nres); free(pos); free(hs);
    for (size_t i = 0; i < b->n; i++) free(b->q[i].name);
    m->queries += b->n;
    b->n = 0;
}

static query *push(mctx *m, qbatch *b, int variants)
{
    if (b->n && b->variants != variants) flush(m, b);
    b->variants = variants;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        query *q = realloc(b->q, cap * sizeof *q);
        if (!q) { cli_warn("out of memory"); exit(EXIT_USAGE); }
        b->q = q;
        b->cap = cap;
    }
    return &b->q[b->n++];
}

#define BATCH 1024

typedef struct lctx { mctx *m; qbatch *b; const char *src; } lctx;

static int list_entry(const vigil_list_entry *e, void *p)
{
    lctx *l = p;
    query *q = push(l->m, l->b, 1);
    q->h[0] = e->hash;
    if (e->id) q->name = strdup(e->id);
    else {
        size_t n = strlen(l->src) + 24;
        q->name = malloc(n);
        if (q->name) snprintf(q->name, n, "%s:%llu", l->src, (unsigned long long)e->line);
    }
    if (!q->name) { cli_warn("out of memory"); exit(EXIT_USAGE); }
    if (l->b->n >= BATCH) flush(l->m, l->b);
    return l->m->fatal;
}

static int list_error(uint64_t line, const char *reason, void *p)
{
    lctx *l = p;
    l->m->failed++;
    cli_warn("%s:%llu: %s", l->src, (unsigned long long)line, reason);
    return 0;
}

typedef struct ictx { mctx *m; qbatch *b; int variants; } ictx;

static int match_image(char *path, const char *walk_error, vigil_result rc, const vigil_error *err,
                       const vigil_hash_result *r, void *p)
{
    ictx *c = p;
    if (walk_error || rc) {
        cli_warn("%s: %s", path, walk_error ? walk_error : err->message);
        c->m->failed++;
        free(path);
        return c->m->fatal;
    }
    query *q = push(c->m, c->b, c->variants);
    q->name = path;
    if (c->variants == 8) memcpy(q->h, r->dihedral, sizeof q->h);
    else q->h[0] = r->pdq;
    if (c->b->n >= BATCH) flush(c->m, c->b);
    return c->m->fatal;
}

/* An image against the indexes with features: its PDQ rows first (the batch flushed), then one
 * row per reference its features match. */
static int match_image_features(char *path, const char *walk_error, vigil_result rc, const vigil_error *err,
                                const vigil_hash_result *r, const vigil_features *f, const vigil_error *ferr, void *p)
{
    ictx *c = p;
    mctx *m = c->m;
    char *name = walk_error || rc ? NULL : strdup(path);
    if (match_image(path, walk_error, rc, err, r, p) || !name) { free(name); return m->fatal; }
    flush(m, c->b);
    char qhex[65];
    vigil_pdq_to_hex(&r->pdq, qhex);
    const char *none = m->out.fmt == FMT_JSONL ? NULL : "";
    if (ferr->code && ferr->code != VIGIL_E_NOT_FOUND) cli_warn("%s: no features: %s", name, ferr->message);
    for (int k = 0; k < m->nidx && f->n; k++) {
        vigil_index_features_options o;
        kfeat_match_options(&o);
        if (m->sopt.top_k > 0 && (uint32_t)m->sopt.top_k < 30) o.top_k = (uint32_t)m->sopt.top_k;
        else if (m->sopt.top_k == 0) o.top_k = 30;
        vigil_index_features_match fm[30];
        size_t nf = 0;
        vigil_error e;
        if (vigil_index_match_features(m->idx[k], f, &o, fm, &nf, &e)) { cli_warn("%s: %s: %s", name, m->idx_path[k], e.message); m->failed++; continue; }
        vigil_index_stats st;
        vigil_index_get_stats(m->idx[k], &st);
        for (size_t j = 0; j < nf; j++) {
            const char *id, *labels;
            vigil_index_features_ref(m->idx[k], fm[j].ref, &id, &labels);
            cli_row_begin(&m->out);
            cli_field_path(&m->out, name);
            cli_field_str(&m->out, qhex);
            cli_field_path(&m->out, m->idx_path[k]);
            cli_field_str(&m->out, st.set_name);
            cli_field_str(&m->out, id ? id : none);
            cli_field_int(&m->out, 0, 0);
            cli_field_str(&m->out, none);
            cli_field_int(&m->out, 0, 0);
            cli_field_str(&m->out, labels ? labels : none);
            cli_field_str(&m->out, "features");
            cli_field_int(&m->out, fm[j].inliers, 1);
            char box[96], crop[96], sc[32], rot[32], json[128];
            kfeat_text_fields(box, crop, sc, rot, sizeof box, &fm[j]);
            if (m->out.fmt == FMT_JSONL) {
                snprintf(json, sizeof json, "[%.4f,%.4f,%.4f,%.4f]", fm[j].box[0], fm[j].box[1], fm[j].box[2], fm[j].box[3]);
                cli_field_raw(&m->out, json);
                snprintf(json, sizeof json, "[%.0f,%.0f,%.0f,%.0f]", fm[j].crop[0], fm[j].crop[1], fm[j].crop[2], fm[j].crop[3]);
                cli_field_raw(&m->out, json);
                cli_field_raw(&m->out, sc);
                cli_field_raw(&m->out, rot);
                cli_field_raw(&m->out, fm[j].mirrored ? "true" : "false");
            } else { /* numbers: no text guard (a rotation may start with '-') */
                cli_field_str(&m->out, box);
                cli_field_str(&m->out, crop);
                cli_field_raw(&m->out, sc);
                cli_field_raw(&m->out, rot);
                cli_field_raw(&m->out, fm[j].mirrored ? "true" : "false");
            }
            cli_row_end(&m->out);
            m->matches++;
        }
    }
    free(name);
    return m->fatal;
}

static void match_images(mctx *m, qbatch *b, char **paths, int n, uint32_t flags)
{
    vigil_hash_options opt;
    vigil_hash_options_init(&opt);
    opt.flags = flags | VIGIL_HASH_NO_DIGESTS;
    ictx c = {m, b, (flags & VIGIL_HASH_DIHEDRAL) ? 8 : 1};
    if (m->features) {
        vigil_features_options fo;
        vigil_known_query_options_init(&fo);
        kfeat_hash_tree(paths, n, &opt, &fo, m->threads, match_image_features, &c);
        return;
    }
    cli_hash_tree(paths, n, &opt, m->threads, match_image, &c);
}

int cmd_match(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"index", required_argument, 0, 'i'}, {"radius", required_argument, 0, 'r'},
        {"top", required_argument, 0, 'k'},   {"dihedral", no_argument, 0, 'd'},
        {"exact", no_argument, 0, 'e'},       {"format", required_argument, 0, 'f'},
        {"output", required_argument, 0, 'o'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},        {"follow-links", no_argument, 0, 'L'}, CLI_ARCHIVE_LONGOPTS,
        {"feature-inliers", required_argument, 0, 'F'}, {0, 0, 0, 0},
    };
    mctx m = {0};
    vigil_index_search_options_init(&m.sopt);
    m.threads = omp_get_num_procs();
    m.out.fmt = FMT_TSV;
    char *paths[64];
    const char *outpath = NULL;
    uint32_t flags = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "j:o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (m.nidx == 64) { cli_warn("at most 64 --index"); return EXIT_USAGE; }
            paths[m.nidx++] = optarg;
            break;
        case 'r': if (cli_parse_int("--radius", optarg, 0, 256, &m.sopt.radius)) return EXIT_USAGE; break;
        case 'k': if (cli_parse_int("--top", optarg, 0, 1000000, &m.sopt.top_k)) return EXIT_USAGE; break;
        case 'j': if (cli_parse_int("-j", optarg, 1, 1024, &m.threads)) return EXIT_USAGE; break;
        case 'd': flags |= VIGIL_HASH_DIHEDRAL; break;
        case 'e': flags |= VIGIL_HASH_EXACT; break;
        case 'f': if (cli_parse_format(optarg, &m.out.fmt)) { cli_warn("unknown --format '%s'", optarg); return EXIT_USAGE; } break;
        case 'o': outpath = optarg; break;
        case 'q': break;
        case 'L': cli_follow_links = 1; break;
        case 'F': if (kfeat_set_inliers(optarg)) return EXIT_USAGE; break;
        case 'h': help_match(stdout); return 0;
        default: {
            int a = cli_archive_option(c, optarg, &cli_archive_opts, &cli_archives_off);
            if (a > 0) break;
            if (!a) help_match(stderr);
            return EXIT_USAGE;
        }
        }
    }
    if (!m.nidx || optind >= argc) { cli_warn("match needs --index FILE.vgi and at least one INPUT"); help_match(stderr); return EXIT_USAGE; }
    m.sopt.threads = m.threads;
    char why[4200];
    /* the output must be none of the indexes nor of the INPUTs */
    if (cli_check_output(outpath, paths, m.nidx, why, sizeof why) ||
        cli_check_output(outpath, argv + optind, argc - optind, why, sizeof why)) {
        cli_warn("%s", why);
        return EXIT_USAGE;
    }
    vigil_error err;
    if (vigil_init(&err)) { cli_warn("%s", err.message); return EXIT_USAGE; }
    vigil_index *idx[64];
    vigil_open_options oo; /* the -j threads read the indexes too */
    vigil_open_options_init(&oo);
    oo.threads = m.threads < 64 ? (uint32_t)m.threads : 64;
    for (int k = 0; k < m.nidx; k++) {
        if (vigil_index_open_with(paths[k], &oo, &idx[k], &err)) {
            cli_warn("%s: %s: %s", paths[k], vigil_result_name(err.code), err.message);
            while (k--) vigil_index_free(idx[k]);
            return EXIT_USAGE;
        }
    }
    m.idx = idx;
    m.idx_path = paths;
    char *tmp = NULL;
    m.out.f = cli_open_output(outpath, &tmp, why, sizeof why);
    if (!m.out.f) { cli_warn("%s", why); for (int k = 0; k < m.nidx; k++) vigil_index_free(idx[k]); return EXIT_USAGE; }
    const char *names[] = {"query", "query_pdq", "index", "set", "ref_id", "distance", "transform", "ref_quality", "labels",
                           "kind", "inliers", "box", "crop", "scale", "rotation", "mirrored"};
    m.features = kfeat_any(idx, m.nidx);
    cli_header(&m.out, names, m.features ? 16 : 9);
    qbatch b = {0};
    for (int i = optind; i < argc && !m.fatal; i++) {
        if (cli_is_list(argv[i])) {
            lctx l = {&m, &b, argv[i]};
            char lwhy[320];
            if (cli_parse_list(argv[i], list_entry, list_error, &l, lwhy, sizeof lwhy)) {
                cli_warn("%s: %s", argv[i], lwhy);
                m.failed++;
            }
        } else {
            match_images(&m, &b, &argv[i], 1, flags);
        }
    }
    flush(&m, &b);
    free(b.q);
    for (int k = 0; k < m.nidx; k++) vigil_index_free(idx[k]);
    if (cli_commit_output(m.out.f, tmp, outpath)) { cli_warn("writing output failed"); free(tmp); return EXIT_USAGE; }
    free(tmp);
    if (m.fatal) return EXIT_USAGE;
    return m.failed ? EXIT_SOME_FAILED : 0;
}
