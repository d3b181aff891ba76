/* cmd_video.c - `vigil video hash` (vPDQ, bit-exact with vpdq-hash-video) and `vigil video match`
 * (python-threatexchange's comparison). docs/video.md has the rules. */
#include "cli.h"
#include "vpdq_side.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

void help_video(FILE *f)
{
    fprintf(f,
            "Usage: vigil video hash [-r SECONDS] [--fast] [--dihedral] [-o FILE] [LIMITS] VIDEO...\n"
            "       vigil video match [--format tsv|jsonl] [--quality N] [--distance N]\n"
            "                         [--query-pct P] [--target-pct P] [-r SECONDS] [--fast] QUERY TARGET\n"
            "       vigil video match --index SET.vgi [--format tsv|jsonl] [OPTIONS] QUERY...\n\n"
            "hash writes vPDQ, one line per sampled frame: frameNumber,quality,pdqHex,timestamp\n"
            "(seconds, three decimals). By default it is bit-exact with Meta's vpdq-hash-video: decoded\n"
            "frames are counted from 0 and frame n is hashed when n is a multiple of\n"
            "(int)(SECONDS * fps), the frame is converted to RGB24 by libswscale (SWS_AREA) and PDQ runs\n"
            "on it at its own size. With several VIDEOs each video's lines follow a line '# PATH'\n"
            "(vigil's readers take each block as one video). A video that stops decoding keeps the\n"
            "frames that decoded; the error is reported and the exit status is 1.\n\n"
            "match compares two videos (each a video file or a vPDQ file; a file of several blocks\n"
            "gives every pair) with python-threatexchange's rule, which HMA uses: frames of quality\n"
            "N or more, each hash once, a query frame matches when a target frame is within the\n"
            "distance; verdict 'match' when query %% >= P and target %% >= the target's P.\n"
            "Columns: query target query_match_pct target_match_pct verdict\n"
            "With --index, each QUERY (a video or vPDQ file) is searched in a video set that\n"
            "`vigil index build` made from videos or vPDQ files: every query frame is one search of\n"
            "the index (not a comparison with every video), and every video with a matching frame\n"
            "gets a row, its id as target, plus (jsonl) the first matching query timestamp.\n\n"
            "  --index SET.vgi   (match) search this video set instead of a TARGET\n"
            "  -r SECONDS        seconds per hashed frame (default 1; 0 = every frame)\n"
            "  --fast            decode key frames only: much faster, not bit-exact (docs/video.md)\n"
            "  --dihedral        (hash) also print the 8 dihedral hashes after the timestamp\n"
            "  -o FILE           (hash) write to FILE (atomically) instead of standard output\n"
            "  --format FMT      (match) tsv (default) or jsonl\n"
            "  --quality N       (match) frames under quality N are dropped (default 50)\n"
            "  --distance N      (match) a frame matches within N bits (default 31)\n"
            "  --query-pct P     (match) query %% needed for a match (default 80)\n"
            "  --target-pct P    (match) target %% needed for a match (default 0)\n"
            "  --max-duration S  refuse videos longer than S seconds (default 86400; 0 = no limit)\n"
            "  --max-pixels N    refuse frames of more than N pixels (default 33554432)\n"
            "  --max-streams N   refuse containers of more than N streams (default 64)\n"
            "  --max-decoded N   refuse videos whose frames decode to more than N bytes\n"
            "                    (K, M, G, T suffixes; default 1T)\n"
            "  --threads N       decoder threads per video (default 1)\n\n"
            "Only plain containers are read (MP4/MOV, Matroska/WebM, AVI, FLV, MPEG-TS/PS, ASF, Ogg),\n"
            "found by content; FFmpeg never opens another file or a URL.\n\n"
            "Exit status: 0 done, 1 some videos failed (reported), 2 usage or fatal.\n");
}

enum { O_FAST = 256, O_DIH, O_FORMAT, O_QUALITY, O_DISTANCE, O_QPCT, O_TPCT, O_MAXDUR, O_MAXPIX, O_MAXSTR,
       O_MAXDEC, O_THREADS, O_INDEX };

typedef struct hctx {
    FILE *f;
    int dihedral;
} hctx;

static int print_frame(const vigil_video_frame *vf, void *ctx)
{
    hctx *h = ctx;
    char hex[65];
    vigil_pdq_to_hex(&vf->pdq, hex);
    fprintf(h->f, "%llu,%d,%s,%.3f", (unsigned long long)vf->frame_number, vf->quality, hex, vf->timestamp);
    if (h->dihedral)
        for (int t = 0; t < 8; t++) {
            vigil_pdq_to_hex(&vf->dihedral[t], hex);
            fprintf(h->f, ",%s", hex);
        }
    fputc('\n', h->f);
    return 0;
}

static int video_hash(int argc, char **argv, vigil_video_options *vo, const char *outpath, int dihedral)
{
    char why[4200];
    if (cli_check_output(outpath, argv, argc, why, sizeof why)) { cli_warn("%s", why); return EXIT_USAGE; }
    char *tmp = NULL;
    FILE *f = cli_open_output(outpath, &tmp, why, sizeof why);
    if (!f) { cli_warn("%s", why); return EXIT_USAGE; }
    if (dihedral) vo->flags |= VIGIL_VIDEO_DIHEDRAL;
    int failed = 0;
    hctx h = {f, dihedral};
    for (int i = 0; i < argc; i++) {
        if (argc > 1) fprintf(f, "# %s\n", argv[i]);
        vigil_error err;
        vigil_video_info info;
        vigil_result r = vigil_video_hash_file(argv[i], vo, print_frame, &h, &info, &err);
        if (r) {
            if (info.frames_hashed)
                cli_warn("%s: %s (the %llu frames hashed before it are written)", argv[i], err.message,
                         (unsigned long long)info.frames_hashed);
            else
                cli_warn("%s: %s", argv[i], err.message);
            failed++;
        }
    }
    if (outpath) {
        if (cli_commit_output(f, tmp, outpath)) { free(tmp); return EXIT_USAGE; }
    } else if (fflush(stdout) || ferror(stdout)) {
        cli_warn("standard output: write failed");
        return EXIT_USAGE;
    }
    free(tmp);
    return failed ? EXIT_SOME_FAILED : EXIT_ALL_OK;
}

static void print_pair(cli_out *o, const char *q, const char *t, double qp, double tp, int verdict)
{
    char a[32], b[32];
    snprintf(a, sizeof a, "%.3f", qp);
    snprintf(b, sizeof b, "%.3f", tp);
    if (o->fmt == FMT_JSONL) {
        fputc('{', o->f);
        cli_json_path(o->f, "query", q);
        fputc(',', o->f);
        cli_json_path(o->f, "target", t);
        fprintf(o->f, ",\"query_match_pct\":%s,\"target_match_pct\":%s,\"verdict\":\"%s\"}\n", a, b,
                verdict ? "match" : "no_match");
        return;
    }
    cli_row_begin(o);
    cli_field_path(o, q);
    cli_field_path(o, t);
    cli_field_raw(o, a);
    cli_field_raw(o, b);
    cli_field_str(o, verdict ? "match" : "no_match");
    cli_row_end(o);
}

static int video_match(int argc, char **argv, vigil_video_options *vo, const vigil_vpdq_match_options *mo,
                       cli_format fmt)
{
    if (argc != 2) { cli_warn("video match needs QUERY and TARGET"); help_video(stderr); return EXIT_USAGE; }
    cli_vpdq_side s[2];
    char why[4200];
    for (int k = 0; k < 2; k++)
        if (cli_vpdq_load(argv[k], vo, &s[k], why, sizeof why)) {
            cli_warn("%s: %s", argv[k], why);
            if (k) cli_vpdq_side_free(&s[0]);
            return EXIT_SOME_FAILED;
        }
    cli_out o = {stdout, fmt, NULL, 0, 0};
    static const char *cols[] = {"query", "target", "query_match_pct", "target_match_pct", "verdict"};
    if (fmt != FMT_JSONL) cli_header(&o, cols, 5);
    int rc = EXIT_ALL_OK;
    for (size_t i = 0; i < s[0].n; i++)
        for (size_t j = 0; j < s[1].n; j++) {
            double qp, tp;
            int verdict;
            vigil_error err;
            if (vigil_vpdq_compare(s[0].v[i].f, s[0].v[i].n, s[1].v[j].f, s[1].v[j].n, mo, &qp, &tp, &verdict, &err)) {
                cli_warn("%s", err.message);
                rc = EXIT_USAGE;
                goto done;
            }
            print_pair(&o, s[0].v[i].name, s[1].v[j].name, qp, tp, verdict);
        }
done:
    cli_vpdq_side_free(&s[0]);
    cli_vpdq_side_free(&s[1]);
    if (fflush(stdout) || ferror(stdout)) { cli_warn("standard output: write failed"); return EXIT_USAGE; }
    return rc;
}

static int video_search(const char *path, int argc, char **argv, vigil_video_options *vo,
                        const vigil_vpdq_match_options *mo, cli_format fmt)
{
    vigil_index *idx;
    vigil_error err;
    if (vigil_index_open(path, &idx, &err)) { cli_warn("%s: %s", path, err.message); return EXIT_USAGE; }
    cli_out o = {stdout, fmt, NULL, 0, 0};
    static const char *cols[] = {"query", "target", "query_match_pct", "target_match_pct", "verdict"};
    if (fmt != FMT_JSONL) cli_header(&o, cols, 5);
    int failed = 0;
    char why[4200];
    for (int i = 0; i < argc; i++) {
        cli_vpdq_side s;
        if (cli_vpdq_load(argv[i], vo, &s, why, sizeof why)) { cli_warn("%s: %s", argv[i], why); failed++; continue; }
        for (size_t v = 0; v < s.n; v++) {
            cli_video_hit *h;
            size_t nh;
            if (cli_video_search(idx, s.v[v].f, s.v[v].n, mo, &h, &nh, why, sizeof why)) {
                cli_warn("%s: %s", s.v[v].name, why);
                failed++;
                continue;
            }
            for (size_t k = 0; k < nh; k++) {
                if (fmt == FMT_JSONL) {
                    fputc('{', stdout);
                    cli_json_path(stdout, "query", s.v[v].name);
                    fputc(',', stdout);
                    cli_json_path(stdout, "target", h[k].id);
                    printf(",\"query_match_pct\":%.3f,\"target_match_pct\":%.3f,\"verdict\":\"%s\",\"timestamp\":%.3f,"
                           "\"distance\":%d}\n", h[k].query_pct, h[k].target_pct, h[k].verdict ? "match" : "no_match",
                           h[k].first_ts, h[k].best_distance);
                } else print_pair(&o, s.v[v].name, h[k].id, h[k].query_pct, h[k].target_pct, h[k].verdict);
            }
            free(h);
        }
        cli_vpdq_side_free(&s);
    }
    vigil_index_free(idx);
    if (fflush(stdout) || ferror(stdout)) { cli_warn("standard output: write failed"); return EXIT_USAGE; }
    return failed ? EXIT_SOME_FAILED : EXIT_ALL_OK;
}

int cmd_video(int argc, char **argv)
{
    if (argc < 2) { help_video(stderr); return EXIT_USAGE; }
    const char *sub = argv[1];
    int is_hash = !strcmp(sub, "hash"), is_match = !strcmp(sub, "match");
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) { help_video(stdout); return 0; }
    if (!is_hash && !is_match) { cli_warn("video: unknown subcommand '%s' (hash, match)", sub); return EXIT_USAGE; }
    vigil_video_options vo;
    vigil_video_options_init(&vo);
    vigil_vpdq_match_options mo;
    vigil_vpdq_match_options_init(&mo);
    cli_format fmt = FMT_TSV;
    const char *outpath = NULL, *index = NULL;
    int dihedral = 0;
    static const struct option lo[] = {
        {"fast", no_argument, 0, O_FAST}, {"dihedral", no_argument, 0, O_DIH},
        {"format", required_argument, 0, O_FORMAT}, {"quality", required_argument, 0, O_QUALITY},
        {"distance", required_argument, 0, O_DISTANCE}, {"query-pct", required_argument, 0, O_QPCT},
        {"target-pct", required_argument, 0, O_TPCT}, {"max-duration", required_argument, 0, O_MAXDUR},
        {"max-pixels", required_argument, 0, O_MAXPIX}, {"max-streams", required_argument, 0, O_MAXSTR},
        {"max-decoded", required_argument, 0, O_MAXDEC}, {"threads", required_argument, 0, O_THREADS}, {"index", required_argument, 0, O_INDEX},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    optind = 1;
    int c, iv;
    uint64_t u;
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "+r:o:h", lo, NULL)) != -1) {
        switch (c) {
        case 'r': if (cli_parse_double("-r", optarg, 0, 86400, &vo.seconds_per_hash)) return EXIT_USAGE; break;
        case 'o': if (!is_hash) { cli_warn("-o is for video hash"); return EXIT_USAGE; } outpath = optarg; break;
        case O_FAST: vo.flags |= VIGIL_VIDEO_FAST; break;
        case O_DIH: if (!is_hash) { cli_warn("--dihedral is for video hash"); return EXIT_USAGE; } dihedral = 1; break;
        case O_FORMAT:
            if (cli_parse_format(optarg, &fmt) || fmt == FMT_CSV) {
                cli_warn("--format: tsv or jsonl, not '%s'", optarg);
                return EXIT_USAGE;
            }
            break;
        case O_QUALITY: if (cli_parse_int("--quality", optarg, 0, 101, &mo.quality_min)) return EXIT_USAGE; break;
        case O_DISTANCE: if (cli_parse_int("--distance", optarg, 0, 256, &mo.distance_max)) return EXIT_USAGE; break;
        case O_QPCT: if (cli_parse_double("--query-pct", optarg, 0, 100, &mo.query_pct_min)) return EXIT_USAGE; break;
        case O_TPCT: if (cli_parse_double("--target-pct", optarg, 0, 100, &mo.target_pct_min)) return EXIT_USAGE; break;
        case O_MAXDUR: if (cli_parse_double("--max-duration", optarg, 0, 1e9, &vo.max_duration)) return EXIT_USAGE; break;
        case O_MAXPIX: if (cli_parse_u64("--max-pixels", optarg, 25, 1ull << 32, 0, &vo.max_pixels)) return EXIT_USAGE; break;
        case O_MAXSTR:
            if (cli_parse_int("--max-streams", optarg, 1, 100000, &iv)) return EXIT_USAGE;
            vo.max_streams = (uint32_t)iv;
            break;
        case O_MAXDEC: if (cli_parse_u64("--max-decoded", optarg, 0, UINT64_MAX, 1, &u)) return EXIT_USAGE; vo.max_decoded_bytes = u; break;
        case O_THREADS: if (cli_parse_int("--threads", optarg, 1, 64, &vo.threads)) return EXIT_USAGE; break;
        case O_INDEX: if (!is_match) { cli_warn("--index is for video match"); return EXIT_USAGE; } index = optarg; break;
        case 'h': help_video(stdout); return 0;
        default: help_video(stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc) { cli_warn("video %s needs at least one %s", sub, is_hash ? "VIDEO" : "QUERY"); help_video(stderr); return EXIT_USAGE; }
    if (is_hash) return video_hash(argc - optind, argv + optind, &vo, outpath, dihedral);
    if (index) return video_search(index, argc - optind, argv + optind, &vo, &mo, fmt);
    return video_match(argc - optind, argv + optind, &vo, &mo, fmt);
}
