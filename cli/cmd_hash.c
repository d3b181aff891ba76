/* cmd_hash.c - `vigil hash`: PDQ hashes and content digests of files and folders. */
#include "cli.h"
#include "archives.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void help_hash(FILE *f)
{
    fprintf(f,
            "Usage: vigil hash [OPTIONS] PATH...\n\n"
            "Hashes every image under the given files and folders (recursively; '-' reads paths\n"
            "from standard input, one per line). Formats are recognised by content, not by name.\n\n"
            "Options:\n"
            "  --exact          decode as Meta's pdq-photo-hasher does (full size, bit-exact);\n"
            "                   default is fast mode (shrink-on-load, within a few bits)\n"
            "  --dihedral       add the 7 other dihedral hashes as columns\n"
            "                   (rot90 rot180 rot270 flipx flipy flipp flipm)\n"
            "  --no-digests     skip md5, sha1 and xxh128\n"
            "  --format FMT     tsv (default, with a header row), csv or jsonl\n"
            "  -o FILE          write to FILE (atomically: temporary file, fsync, rename)\n"
            "  -j N             threads (default: all cores)\n"
            "  --max-pixels N   refuse images whose header announces more pixels (default 268435456,\n"
            "                   i.e. 256M: K, M and G after N multiply by 1024)\n"
            "  --follow-links   also follow symbolic links that lead out of the folders given\n"
            "  -q, --quiet      no progress line\n"
            CLI_HELP_ARCHIVE_OPTS "\n"
            "Columns: path pdq quality width height size format md5 sha1 xxh128 [dihedral] error changed\n"
            "A file that fails gets a row with an empty hash and the reason in 'error', and a\n"
            "message on stderr; the run goes on. 'changed' is true for a file that changed while\n"
            "it was read (another size or modification time): its hashes are of the bytes read.\n"
            "Files over 1 GiB are digested as they are read, not held in memory.\n"
            CLI_HELP_LINKS CLI_HELP_CELLS "\n"
            CLI_HELP_ARCHIVES
            "An encrypted member gets a row with the reason \"encrypted: not read\" (its size and\n"
            "the CRC-32 a zip stores), counted as failed; so is a damaged archive, after the\n"
            "members read before the damage.\n\n"
            "Exit status: 0 all files hashed, 1 some failed, 2 usage or fatal error.\n");
}

static const char *dih_names[7] = {"rot90", "rot180", "rot270", "flipx", "flipy", "flipp", "flipm"};

typedef struct hctx {
    cli_out *out;
    cli_progress *prog;
    int dihedral, digests, failed;
} hctx;

static int emit(char *path, const char *walk_error, vigil_result rc, const vigil_error *err,
                const vigil_hash_result *r, void *p)
{
    hctx *c = p;
    cli_out *o = c->out;
    char hex[65], buf[48];
    int ok = !walk_error && rc == VIGIL_OK;
    if (!ok) {
        c->failed++;
        c->prog->failed++;
        if (walk_error) cli_warn("%s: %s", path, walk_error);
        else cli_warn("%s: %s: %s", path, vigil_result_name(rc), err->message);
    }
    cli_row_begin(o);
    cli_field_path(o, path);
    if (r->have & VIGIL_HAVE_PDQ) { vigil_pdq_to_hex(&r->pdq, hex); cli_field_str(o, hex); }
    else cli_field_str(o, NULL);
    cli_field_int(o, r->quality, (r->have & VIGIL_HAVE_PDQ) != 0);
    cli_field_int(o, r->width, (r->have & VIGIL_HAVE_SIZE) != 0);
    cli_field_int(o, r->height, (r->have & VIGIL_HAVE_SIZE) != 0);
    cli_field_int(o, (long long)r->file_size, !walk_error && rc != VIGIL_E_IO && rc != VIGIL_E_NOT_FILE);
    cli_field_str(o, r->format[0] ? r->format : NULL);
    if (c->digests) {
        int d = (r->have & VIGIL_HAVE_DIGESTS) != 0;
        if (d) vigil_hex(r->md5, 16, buf);
        cli_field_str(o, d ? buf : NULL);
        if (d) vigil_hex(r->sha1, 20, buf);
        cli_field_str(o, d ? buf : NULL);
        if (d) vigil_hex(r->xxh128, 16, buf);
        cli_field_str(o, d ? buf : NULL);
    }
    if (c->dihedral)
        for (int t = 1; t < 8; t++) {
            if (r->have & VIGIL_HAVE_DIHEDRAL) { vigil_pdq_to_hex(&r->dihedral[t], hex); cli_field_str(o, hex); }
            else cli_field_str(o, NULL);
        }
    if (ok) cli_field_str(o, o->fmt == FMT_JSONL ? NULL : "");
    else {
        char msg[400];
        if (walk_error) snprintf(msg, sizeof msg, "%s", walk_error);
        else snprintf(msg, sizeof msg, "%s: %s", vigil_result_name(rc), err->message);
        cli_field_str(o, msg);
    }
    cli_field_raw(o, r->file_flags & VIGIL_FILE_CHANGED ? "true" : "false");
    cli_row_end(o);
    c->prog->files++;
    c->prog->bytes += r->file_size;
    cli_progress_update(c->prog, 0);
    free(path);
    return 0;
}


int cmd_hash(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"exact", no_argument, 0, 'e'},      {"dihedral", no_argument, 0, 'd'},
        {"no-digests", no_argument, 0, 'D'}, {"format", required_argument, 0, 'f'},
        {"quiet", no_argument, 0, 'q'},      {"max-pixels", required_argument, 0, 'P'},
        {"help", no_argument, 0, 'h'},       {"output", required_argument, 0, 'o'},
        {"follow-links", no_argument, 0, 'L'}, CLI_ARCHIVE_LONGOPTS, {0, 0, 0, 0},
    };
    vigil_hash_options opt;
    vigil_hash_options_init(&opt);
    cli_format fmt = FMT_TSV;
    int threads = omp_get_num_procs(), quiet = 0, dihedral = 0, digests = 1, c;
    const char *outpath = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "j:qo:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'e': opt.flags |= VIGIL_HASH_EXACT; break;
        case 'd': opt.flags |= VIGIL_HASH_DIHEDRAL; dihedral = 1; break;
        case 'D': opt.flags |= VIGIL_HASH_NO_DIGESTS; digests = 0; break;
        case 'f':
            if (cli_parse_format(optarg, &fmt)) { cli_warn("unknown --format '%s' (tsv, csv, jsonl)", optarg); return EXIT_USAGE; }
            break;
        case 'q': quiet = 1; break;
        case 'o': outpath = optarg; break;
        case 'P': {
            uint64_t v;
            if (cli_parse_u64("--max-pixels", optarg, 1, UINT64_MAX, 1, &v)) return EXIT_USAGE;
            opt.max_pixels = v;
            break;
        }
        case 'L': cli_follow_links = 1; break;
        case 'j': if (cli_parse_int("-j", optarg, 1, 1024, &threads)) return EXIT_USAGE; break;
        case 'h': help_hash(stdout); return 0;
        default: {
            int a = cli_archive_option(c, optarg, &cli_archive_opts, &cli_archives_off);
            if (a > 0) break;
            if (!a) help_hash(stderr);
            return EXIT_USAGE;
        }
        }
    }
    if (optind >= argc) {
        cli_warn("hash: no PATH given (use '-' to read paths from standard input)");
        help_hash(stderr);
        return EXIT_USAGE;
    }
    char bad[4200];
    if (cli_check_output(outpath, argv + optind, argc - optind, bad, sizeof bad)) { cli_warn("%s", bad); return EXIT_USAGE; }
    vigil_error ierr;
    if (vigil_init(&ierr)) { cli_warn("%s", ierr.message); return EXIT_USAGE; }

    char *tmp = NULL, why[4200];
    FILE *f = cli_open_output(outpath, &tmp, why, sizeof why);
    if (!f) { cli_warn("%s", why); return EXIT_USAGE; }
    const char *names[24];
    int nc = 0;
    const char *base[] = {"path", "pdq", "quality", "width", "height", "size", "format"};
    for (int i = 0; i < 7; i++) names[nc++] = base[i];
    if (digests) { names[nc++] = "md5"; names[nc++] = "sha1"; names[nc++] = "xxh128"; }
    if (dihedral) for (int i = 0; i < 7; i++) names[nc++] = dih_names[i];
    names[nc++] = "error";
    names[nc++] = "changed";
    cli_out out = {.f = f, .fmt = fmt};
    cli_header(&out, names, nc);

    cli_progress prog;
    cli_progress_init(&prog, quiet, "hashed");
    hctx ctx = {&out, &prog, dihedral, digests, 0};
    cli_hash_tree(argv + optind, argc - optind, &opt, threads, emit, &ctx);
    cli_progress_done(&prog);
    if (cli_commit_output(f, tmp, outpath)) {
        cli_warn("writing output failed: %m");
        free(tmp);
        return EXIT_USAGE;
    }
    free(tmp);
    return ctx.failed ? EXIT_SOME_FAILED : EXIT_ALL_OK;
}
