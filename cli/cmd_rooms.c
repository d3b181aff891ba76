/* cmd_rooms.c - `vigil rooms`: build a room index from reference photos, and find which room a
 * photo was taken in (core/rooms.c). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void help_rooms(FILE *f)
{
    fprintf(f,
            "Usage:\n"
            "  vigil rooms build -o ROOMS.vgr [--labels 'k=v ...'] [--max-features N] [-j N] INPUT...\n"
            "  vigil rooms add ROOMS.vgr [--labels 'k=v ...'] INPUT...\n"
            "  vigil rooms query --index ROOMS.vgr [--mask X,Y,W,H]... [--mask-image FILE]\n"
            "                    [--top K] [--min-inliers N] [--format tsv|csv|jsonl] [-o OUT] IMAGE...\n"
            "  vigil rooms info ROOMS.vgr [--format tsv|csv|jsonl]\n\n"
            "INPUT is images and folders of reference photos (their path is the reference's name,\n"
            "--labels gives them labels), or a CSV/TSV list with a header naming a path column\n"
            "(path, file, image) and label columns such as hotel_id, chain, room, note; relative\n"
            "paths are relative to the list. Inside a value, spaces become '_'.\n"
            CLI_HELP_LINKS "\n"
            "Local features are found on a 640-pixel working size: at most 1000 per reference\n"
            "image and 500 per query (--max-features changes either). A query looks its features\n"
            "up in the index and verifies the best candidates geometrically. The score\n"
            "is the number of features consistent with one homography (inliers); results below\n"
            "--min-inliers (default 10; bench/results/rooms.md shows how it was chosen) are not\n"
            "reported. One result per room (hotel_id + room labels), best first, at most K (5;\n"
            "no more than the 30 best-voted images a query verifies).\n"
            "--mask X,Y,W,H (pixels of the image as displayed; up to 64) and --mask-image\n"
            "(white = ignore, stretched over the image) hide a person in the foreground.\n"
            CLI_HELP_CELLS "\n"
            "Exit status: 0 done, 1 some inputs failed (reported, the rest done), 2 usage error\n"
            "or unusable index.\n");
}

/* ---- reference lists ------------------------------------------------------------------------- */

typedef struct ref { char *path, *labels; } ref;
typedef struct refs { ref *v; size_t n, cap; } refs;

static int push_ref(refs *r, char *path, char *labels)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        ref *v = realloc(r->v, cap * sizeof *v);
        if (!v) return -1;
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = (ref){path, labels};
    return 0;
}

static int on_ref(char *path, char *labels, void *ctx)
{
    if (push_ref(ctx, path, labels)) { free(path); free(labels); return -1; }
    return 0;
}

static void read_list(const char *list, refs *out, unsigned long long *bad)
{
    char why[256];
    size_t len;
    char *data = cli_read_all(list, cli_list_max(), CLI_LIST_RAISE, &len, why, sizeof why);
    if (!data) { cli_warn("%s: %s", list, why); (*bad)++; return; }
    char *text = realloc(data, len + 1);
    if (!text) { free(data); cli_warn("%s: out of memory", list); (*bad)++; return; }
    cli_room_list_parse(list, text, len, on_ref, out, bad);
    free(text);
}

static void collect(char **inputs, int n, const char *labels, refs *out, unsigned long long *bad)
{
    for (int i = 0; i < n; i++) {
        if (cli_is_list(inputs[i])) { read_list(inputs[i], out, bad); continue; }
        cli_walk *w = cli_walk_new(&inputs[i], 1);
        char *path, *error;
        while (cli_walk_next(w, &path, &error)) {
            if (error) { cli_warn("%s: %s", path, error); free(path); free(error); (*bad)++; continue; }
            char *l = strdup(labels ? labels : "");
            if (!l || push_ref(out, path, l)) { free(path); free(l); (*bad)++; }
        }
        cli_walk_free(w);
    }
}

/* Extracts in parallel, adds in input order (the index does not depend on the thread count). */
static int add_refs(vigil_rooms *rooms, refs *rf, const vigil_features_options *fo, int threads, unsigned long long *added,
                    unsigned long long *bad)
{
    const size_t batch = 64 * (size_t)threads;
    vigil_features *f = calloc(batch, sizeof *f);
    vigil_error *e = calloc(batch, sizeof *e);
    vigil_result *rc = calloc(batch, sizeof *rc);
    if (!f || !e || !rc) { free(f); free(e); free(rc); cli_warn("out of memory"); return -1; }
    int failed = 0;
    for (size_t b = 0; b < rf->n && !failed; b += batch) {
        size_t n = rf->n - b < batch ? rf->n - b : batch;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (size_t i = 0; i < n; i++) rc[i] = vigil_features_file(rf->v[b + i].path, fo, &f[i], &e[i]);
        for (size_t i = 0; i < n; i++) {
            if (rc[i]) { cli_warn("%s: %s", rf->v[b + i].path, e[i].message); (*bad)++; continue; }
            vigil_error err;
            if (!failed && vigil_rooms_add(rooms, rf->v[b + i].path, rf->v[b + i].labels, &f[i], &err)) {
                cli_warn("%s: %s", rf->v[b + i].path, err.message);
                failed = 1;
            } else if (!failed) (*added)++;
            vigil_features_free(&f[i]);
        }
    }
    free(f); free(e); free(rc);
    return failed ? -1 : 0;
}

/* ---- query ----------------------------------------------------------------------------------- */

/* A mask image as 8-bit grey (any size; it is stretched over the query). */
static uint8_t *load_mask(const char *path, uint32_t *w, uint32_t *h)
{
    char why[256];
    size_t len;
    char *data = cli_read_all(path, cli_image_max(), NULL, &len, why, sizeof why);
    if (!data) { cli_warn("%s: %s", path, why); return NULL; }
    uint8_t *px = NULL;
    vigil_error err;
    if (vigil_decode_grey(data, len, 1024, &px, w, h, &err)) cli_warn("%s: not a usable mask image: %s", path, err.message);
    free(data);
    return px;
}

static int query_files(vigil_rooms *rooms, char **paths, int n, const vigil_features_options *fo,
                       const vigil_rooms_query_options *qo, cli_out *o, unsigned long long *bad)
{
    cli_walk *w = cli_walk_new(paths, n);
    char *path, *error;
    vigil_rooms_match *m = calloc(qo->top_k ? qo->top_k : 1, sizeof *m);
    if (!m) { cli_walk_free(w); return -1; }
    while (cli_walk_next(w, &path, &error)) {
        vigil_features f;
        vigil_error e;
        if (error) { cli_warn("%s: %s", path, error); (*bad)++; free(path); free(error); continue; }
        if (cli_is_own_output(path)) { free(path); continue; }
        if (vigil_features_file(path, fo, &f, &e)) { cli_warn("%s: %s", path, e.message); (*bad)++; free(path); continue; }
        size_t nm = 0;
        if (vigil_rooms_query(rooms, &f, qo, m, &nm, &e)) { cli_warn("%s: %s", path, e.message); (*bad)++; }
        for (size_t k = 0; k < (nm ? nm : 1); k++) {
            cli_row_begin(o);
            cli_field_path(o, path);
            cli_field_int(o, (long long)f.n, 1);
            cli_field_int(o, (long long)k + 1, nm > 0);
            cli_field_str(o, nm ? m[k].name : NULL);
            cli_field_str(o, nm ? m[k].labels : NULL);
            cli_field_int(o, nm ? m[k].inliers : 0, nm > 0);
            cli_field_int(o, nm ? m[k].votes : 0, nm > 0);
            cli_row_end(o);
        }
        vigil_features_free(&f);
        free(path);
    }
    cli_walk_free(w);
    free(m);
    return 0;
}

static vigil_rooms *open_rooms(const char *path)
{
    vigil_rooms *r;
    vigil_error err;
    if (vigil_rooms_open(path, &r, &err)) {
        cli_warn("%s: %s: %s", path, vigil_result_name(err.code), err.message);
        return NULL;
    }
    return r;
}

int cmd_rooms(int argc, char **argv)
{
    if (argc < 2) { help_rooms(stderr); return EXIT_USAGE; }
    const char *sub = argv[1];
    static const struct option longopts[] = {
        {"index", required_argument, 0, 'i'}, {"output", required_argument, 0, 'o'},
        {"labels", required_argument, 0, 'l'}, {"max-features", required_argument, 0, 'M'},
        {"mask", required_argument, 0, 'm'},   {"mask-image", required_argument, 0, 'I'},
        {"top", required_argument, 0, 'k'},    {"min-inliers", required_argument, 0, 'n'},
        {"format", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'},
        {"follow-links", no_argument, 0, 'L'}, {0, 0, 0, 0},
    };
    const char *out = NULL, *index = NULL, *labels = NULL, *mask_image = NULL;
    int threads = omp_get_num_procs(), c, top = 5, min_inliers = -1, maxf = -1;
    vigil_rect masks[64];
    int nmask = 0;
    cli_format fmt = FMT_TSV;
    optind = 2;
    while ((c = getopt_long(argc, argv, "o:j:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'i': index = optarg; break;
        case 'o': out = optarg; break;
        case 'l': if (cli_parse_labels("--labels", optarg)) return EXIT_USAGE; labels = optarg; break;
        case 'I': mask_image = optarg; break;
        case 'm':
            if (nmask == 64) { cli_warn("at most 64 --mask"); return EXIT_USAGE; }
            if (cli_parse_rect("--mask", optarg, &masks[nmask++])) return EXIT_USAGE;
            break;
        case 'M': if (cli_parse_int("--max-features", optarg, 16, 65535, &maxf)) return EXIT_USAGE; break;
        case 'k': if (cli_parse_int("--top", optarg, 1, 1000, &top)) return EXIT_USAGE; break;
        case 'n': if (cli_parse_int("--min-inliers", optarg, 4, 100000, &min_inliers)) return EXIT_USAGE; break;
        case 'j': if (cli_parse_int("-j", optarg, 1, 1024, &threads)) return EXIT_USAGE; break;
        case 'f': if (cli_parse_format(optarg, &fmt)) { cli_warn("unknown --format '%s'", optarg); return EXIT_USAGE; } break;
        case 'L': cli_follow_links = 1; break;
        case 'h': help_rooms(stdout); return 0;
        default: help_rooms(stderr); return EXIT_USAGE;
        }
    }
    char **rest = argv + optind;
    int nrest = argc - optind;
    vigil_error err;
    if (vigil_init(&err)) { cli_warn("%s", err.message); return EXIT_USAGE; }
    vigil_features_options fo;
    vigil_features_options_init(&fo);
    /* a reference is indexed once and should be found from any side: twice a query's features */
    fo.max_features = maxf > 0 ? (uint32_t)maxf : !strcmp(sub, "query") ? 500 : 1000;

    if (!strcmp(sub, "build") || !strcmp(sub, "add")) {
        const char *file = !strcmp(sub, "build") ? out : (nrest ? rest[0] : NULL);
        char **inputs = !strcmp(sub, "build") ? rest : rest + 1;
        int ninputs = !strcmp(sub, "build") ? nrest : nrest - 1;
        if (!file || ninputs < 1) { cli_warn("rooms %s needs %s and at least one INPUT", sub, !strcmp(sub, "build") ? "-o ROOMS.vgr" : "ROOMS.vgr"); return EXIT_USAGE; }
        /* add replaces the room index it has read whole; an INPUT must never be the target */
        const char *target = out ? out : file;
        char why[4200];
        if (cli_output_ok(target, why, sizeof why) ||
            (!(!strcmp(sub, "add") && cli_same_file(target, file)) && cli_check_output(target, inputs, ninputs, why, sizeof why))) {
            cli_warn("%s", why);
            return EXIT_USAGE;
        }
        vigil_rooms *rooms = NULL;
        /* the writer's lock on the file it replaces (lock.c): an add holds it from before its
         * read, a build only to save */
        char lwhy[512];
        int lk = -1, add = !strcmp(sub, "add");
        if (add && cli_lock_writer(target, &lk, lwhy, sizeof lwhy) < 0) { cli_warn("%s: %s", target, lwhy); return EXIT_USAGE; }
        if (add) { if (!(rooms = open_rooms(file))) { cli_unlock(lk); return EXIT_USAGE; } }
        if (add) cli_test_pause("locked", 1);
        else if (vigil_rooms_new(&rooms, &err)) { cli_warn("%s", err.message); return EXIT_USAGE; }
        refs rf = {0};
        unsigned long long bad = 0, added = 0;
        collect(inputs, ninputs, labels, &rf, &bad);
        int rc = add_refs(rooms, &rf, &fo, threads, &added, &bad);
        /* nothing came through: a room index there is worth more than an empty one */
        int none = !rc && !added && bad;
        if (!rc && !none && !add && cli_lock_writer(target, &lk, lwhy, sizeof lwhy) < 0) { cli_warn("%s: %s", target, lwhy); rc = -1; }
        if (!rc && !none && vigil_rooms_save(rooms, target, &err)) { cli_warn("%s: %s", target, err.message); rc = -1; }
        cli_unlock(lk);
        vigil_rooms_stats st;
        vigil_rooms_get_stats(rooms, &st);
        for (size_t i = 0; i < rf.n; i++) { free(rf.v[i].path); free(rf.v[i].labels); }
        free(rf.v);
        vigil_rooms_free(rooms);
        if (rc) return EXIT_USAGE;
        if (none) {
            cli_warn("%s: no reference images: every input failed (%llu, listed above); %s", target, bad,
                     access(target, F_OK) ? "no room index written" : "the room index there is left unchanged");
            return EXIT_SOME_FAILED;
        }
        fprintf(stderr, "%s: %llu reference images added (%llu in all, %llu features, %.1f MB)%s\n", out ? out : file, added,
                (unsigned long long)st.images, (unsigned long long)st.features, st.bytes / 1e6,
                bad ? "; some inputs failed (listed above)" : "");
        return bad ? EXIT_SOME_FAILED : 0;
    }
    if (!strcmp(sub, "query")) {
        if (!index || nrest < 1) { cli_warn("rooms query needs --index ROOMS.vgr and at least one IMAGE"); return EXIT_USAGE; }
        char *named[2] = {(char *)index, (char *)(mask_image ? mask_image : "-")}, bad_out[4200];
        if (cli_check_output(out, named, 2, bad_out, sizeof bad_out) || cli_check_output(out, rest, nrest, bad_out, sizeof bad_out)) {
            cli_warn("%s", bad_out);
            return EXIT_USAGE;
        }
        vigil_rooms *rooms = open_rooms(index);
        if (!rooms) return EXIT_USAGE;
        uint8_t *mpx = NULL;
        if (mask_image) {
            if (!(mpx = load_mask(mask_image, &fo.mask_width, &fo.mask_height))) { vigil_rooms_free(rooms); return EXIT_USAGE; }
            fo.mask_image = mpx;
        }
        fo.mask = nmask ? masks : NULL;
        fo.nmask = (size_t)nmask;
        vigil_rooms_query_options qo;
        vigil_rooms_query_options_init(&qo);
        qo.top_k = (uint32_t)top;
        if (min_inliers >= 0) qo.min_inliers = (uint32_t)min_inliers;
        char *tmp = NULL, why[4200];
        FILE *f = cli_open_output(out, &tmp, why, sizeof why);
        if (!f) { cli_warn("%s", why); vigil_rooms_free(rooms); free(mpx); return EXIT_USAGE; }
        const char *names[] = {"query", "features", "rank", "reference", "labels", "inliers", "votes"};
        cli_out o = {.f = f, .fmt = fmt};
        cli_header(&o, names, 7);
        unsigned long long bad = 0;
        int rc = query_files(rooms, rest, nrest, &fo, &qo, &o, &bad);
        if (cli_commit_output(f, tmp, out)) { cli_warn("writing %s failed", out ? out : "standard output"); rc = -1; }
        vigil_rooms_free(rooms);
        free(mpx);
        if (rc) return EXIT_USAGE;
        return bad ? EXIT_SOME_FAILED : 0;
    }
    if (!strcmp(sub, "info")) {
        if (nrest < 1) { cli_warn("rooms info needs ROOMS.vgr"); return EXIT_USAGE; }
        vigil_rooms *rooms = open_rooms(rest[0]);
        if (!rooms) return EXIT_USAGE;
        vigil_rooms_stats st;
        vigil_rooms_get_stats(rooms, &st);
        const char *names[] = {"file", "images", "features", "bytes", "bytes_per_image"};
        cli_out o = {.f = stdout, .fmt = fmt};
        cli_header(&o, names, 5);
        cli_row_begin(&o);
        cli_field_path(&o, rest[0]);
        cli_field_int(&o, (long long)st.images, 1);
        cli_field_int(&o, (long long)st.features, 1);
        cli_field_int(&o, (long long)st.bytes, 1);
        cli_field_int(&o, st.images ? (long long)(st.bytes / st.images) : 0, 1);
        cli_row_end(&o);
        vigil_rooms_free(rooms);
        return 0;
    }
    cli_warn("no such rooms command: %s", sub);
    help_rooms(stderr);
    return EXIT_USAGE;
}
