/* cmd_index.c - `vigil index`: build, add, remove, compact, info, verify, export. */
#include "cli.h"
#include "vpdq_side.h"
#include "kfeat.h"

#include <getopt.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void help_index(FILE *f)
{
    fprintf(f,
            "Usage:\n"
            "  vigil index build -o FILE.vgi [--set NAME] [--min-quality Q] [--features] [-j N] [--follow-links] INPUT...\n"
            "  vigil index add FILE.vgi [--min-quality Q] [--features] INPUT...\n"
            "  vigil index remove FILE.vgi ID...\n"
            "  vigil index compact FILE.vgi\n"
            "  vigil index info FILE.vgi [--format tsv|csv|jsonl]\n"
            "  vigil index verify FILE.vgi\n"
            "  vigil index export FILE.vgi [--format tsv|csv|jsonl] [-o OUT]\n\n"
            "INPUT is a hash list or images. Lists: `vigil hash` output (TSV, CSV, JSON Lines),\n"
            "CSV/TSV with a header naming the hash column (pdq, hash, pdq_hash, signal) and\n"
            "optionally quality and id (id, ref_id, name, path); other columns become labels\n"
            "name=value. Plain lines 'HEX [ID]' work too. Videos and vPDQ files become video sets:\n"
            "each frame an entry with the video as id (docs/video.md). Images and folders are hashed (fast\n"
            "mode) with their path as id. '-' reads a list from standard input. A list is read\n"
            "as a stream, at most 4 GiB (the environment's VIGIL_MAX_LIST_BYTES changes it). FIFOs,\n"
            "devices, sockets and folders are refused as lists and as FILE.vgi.\n\n"
            "Hashes of quality below Q (default 50, PDQ's recommendation) are left out and\n"
            "counted. `add` appends to an unsorted segment and `remove` tombstones by id, both\n"
            "without rebuilding; `compact` rebuilds. Files are written atomically; an output that\n"
            "is a symbolic link, device, FIFO or folder, or one of the INPUTs, is refused. A build\n"
            "whose inputs all failed writes nothing and leaves an index already there unchanged.\n"
            "Writers of one file take turns (a second waits, saying so), so two `add` at once\n"
            "both land.\n\n"
            "--features also stores the local features of every image INPUT (256 per image, about\n"
            "20 KB each; docs/kfeat.md), so that `match` and `scan` find it cropped, framed,\n"
            "padded, turned a little, captioned or mirrored, where PDQ cannot. Entries from a hash\n"
            "list keep PDQ only (a list carries no image). `info` gives the entries with features\n"
            "(features) and their memory (feature_bytes).\n"
            "Lists may be UTF-8 (a byte-order mark is skipped); CSV quoting is RFC 4180's.\n"
            CLI_HELP_LINKS CLI_HELP_CELLS "\n"
            "Exit status: 0 done, 1 some inputs or lines were bad (reported, the rest kept),\n"
            "2 usage error or unusable index.\n");
}

typedef struct add_ctx {
    vigil_index *idx;
    const char *src;
    int min_quality;
    unsigned long long added, low, bad, featured, nofeat;
    int failed;
} add_ctx;

static int on_entry(const vigil_list_entry *e, void *p)
{
    add_ctx *c = p;
    if (e->quality >= 0 && e->quality < c->min_quality) { c->low++; return 0; }
    vigil_error err;
    if (!e->has_pdq ? vigil_index_add_digest(c->idx, e->md5, e->sha1, e->id, e->labels, &err)
                    : vigil_index_add(c->idx, &e->hash, e->quality, e->id, e->labels, &err)) {
        cli_warn("%s:%llu: %s", c->src, (unsigned long long)e->line, err.message);
        c->failed = 1;
        return 1;
    }
    c->added++;
    return 0;
}

static int on_error(uint64_t line, const char *reason, void *p)
{
    add_ctx *c = p;
    c->bad++;
    if (c->bad <= 20) cli_warn("%s:%llu: %s", c->src, (unsigned long long)line, reason);
    else if (c->bad == 21) cli_warn("%s: further bad lines not shown", c->src);
    return 0;
}

static int add_image(char *path, const char *walk_error, vigil_result rc, const vigil_error *err,
                     const vigil_hash_result *r, void *p)
{
    add_ctx *c = p;
    if (walk_error || rc) {
        cli_warn("%s: %s", path, walk_error ? walk_error : err->message);
        c->bad++;
    } else if (r->quality < c->min_quality) {
        c->low++;
    } else {
        char md5[33], sha1[41], labels[100];
        vigil_hex(r->md5, 16, md5);
        vigil_hex(r->sha1, 20, sha1);
        snprintf(labels, sizeof labels, "md5=%s sha1=%s", md5, sha1);
        vigil_error e;
        if (vigil_index_add(c->idx, &r->pdq, r->quality, path, labels, &e)) {
            cli_warn("%s: %s", path, e.message);
            c->failed = 1;
        } else c->added++;
    }
    free(path);
    return c->failed;
}

/* --features: the PDQ entry as add_image, and the image's features under the same id and labels
 * (whatever its PDQ quality: a flat image has few features, but those it has are its own) */
static int add_image_features(char *path, const char *walk_error, vigil_result rc, const vigil_error *err,
                              const vigil_hash_result *r, const vigil_features *f, const vigil_error *ferr, void *p)
{
    add_ctx *c = p;
    if (walk_error || rc || !f->n) return add_image(path, walk_error, rc, err, r, p);
    char md5[33], sha1[41], labels[100];
    vigil_hex(r->md5, 16, md5);
    vigil_hex(r->sha1, 20, sha1);
    snprintf(labels, sizeof labels, "md5=%s sha1=%s", md5, sha1);
    vigil_error e;
    if (vigil_index_add_features(c->idx, path, labels, f, &e)) {
        cli_warn("%s: %s", path, e.message);
        c->failed = 1;
        free(path);
        return 1;
    }
    c->featured++;
    (void)ferr;
    return add_image(path, walk_error, rc, err, r, p);
}

static void add_images(add_ctx *c, char **paths, int n, int threads, int features)
{
    vigil_hash_options opt;
    vigil_hash_options_init(&opt);
    if (!features) { cli_hash_tree(paths, n, &opt, threads, add_image, c); return; }
    vigil_features_options fo;
    vigil_known_features_options_init(&fo);
    kfeat_hash_tree(paths, n, &opt, &fo, threads, add_image_features, c);
}

static int add_inputs(vigil_index *idx, char **inputs, int n, int min_quality, int threads, int features, add_ctx *c)
{
    memset(c, 0, sizeof *c);
    c->idx = idx;
    c->min_quality = min_quality;
    for (int i = 0; i < n && !c->failed; i++) {
        if (cli_is_video(inputs[i]) || cli_is_vpdq(inputs[i])) { /* video sets: cli/vpdq_side.c */
            if (cli_index_add_videos(idx, inputs[i], min_quality, &c->added, &c->low)) c->bad++;
            continue;
        }
        if (!cli_is_list(inputs[i])) { add_images(c, &inputs[i], 1, threads, features); continue; }
        char why[320];
        c->src = inputs[i];
        if (cli_parse_list(inputs[i], on_entry, on_error, c, why, sizeof why)) { cli_warn("%s: %s", inputs[i], why); c->bad++; }
    }
    return c->failed ? -1 : 0;
}

static int save(vigil_index *idx, const char *path)
{
    vigil_error err;
    if (vigil_index_save(idx, path, &err)) { cli_warn("%s: %s", path, err.message); return -1; }
    return 0;
}

/* The exclusive lock of a writer on the file it replaces: *fd -1 when there is none yet. */
static int lock_target(const char *path, int *fd)
{
    char why[512];
    if (cli_lock_writer(path, fd, why, sizeof why) < 0) { cli_warn("%s: %s", path, why); return -1; }
    return 0;
}

static vigil_index *open_index(const char *path)
{
    vigil_index *idx;
    vigil_error err;
    if (vigil_index_open(path, &idx, &err)) {
        cli_warn("%s: %s: %s", path, vigil_result_name(err.code), err.message);
        return NULL;
    }
    return idx;
}

static void report(const char *what, const add_ctx *c)
{
    fprintf(stderr, "%s: %llu entries added", what, c->added);
    if (c->featured) fprintf(stderr, ", %llu images' features", c->featured);
    if (c->low) fprintf(stderr, ", %llu left out for quality below %d", c->low, c->min_quality);
    if (c->bad) fprintf(stderr, ", %llu bad inputs or lines (listed above)", c->bad);
    fputc('\n', stderr);
}

int cmd_index(int argc, char **argv)
{
    if (argc < 2) { help_index(stderr); return EXIT_USAGE; }
    const char *sub = argv[1];
    static const struct option longopts[] = {
        {"set", required_argument, 0, 's'}, {"min-quality", required_argument, 0, 'Q'},
        {"format", required_argument, 0, 'f'}, {"output", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'}, {"follow-links", no_argument, 0, 'L'},
        {"features", no_argument, 0, 'F'}, {0, 0, 0, 0},
    };
    const char *out = NULL, *set = "";
    int features = 0;
    int min_quality = 50, threads = omp_get_num_procs(), c;
    cli_format fmt = FMT_TSV;
    optind = 2;
    while ((c = getopt_long(argc, argv, "o:j:h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': set = optarg; break;
        case 'o': out = optarg; break;
        case 'Q': if (cli_parse_int("--min-quality", optarg, 0, 101, &min_quality)) return EXIT_USAGE; break;
        case 'j': if (cli_parse_int("-j", optarg, 1, 1024, &threads)) return EXIT_USAGE; break;
        case 'f': if (cli_parse_format(optarg, &fmt)) { cli_warn("unknown --format '%s'", optarg); return EXIT_USAGE; } break;
        case 'L': cli_follow_links = 1; break;
        case 'F': features = 1; break;
        case 'h': help_index(stdout); return 0;
        default: help_index(stderr); return EXIT_USAGE;
        }
    }
    char **rest = argv + optind;
    int nrest = argc - optind;
    vigil_error err;
    if (vigil_init(&err)) { cli_warn("%s", err.message); return EXIT_USAGE; }

    char why[4200];
    if (!strcmp(sub, "build")) {
        if (!out || nrest < 1) { cli_warn("index build needs -o FILE.vgi and at least one INPUT"); return EXIT_USAGE; }
        if (cli_check_output(out, rest, nrest, why, sizeof why)) { cli_warn("%s", why); return EXIT_USAGE; }
        vigil_index *idx;
        if (vigil_index_new(set, &idx, &err)) { cli_warn("%s", err.message); return EXIT_USAGE; }
        add_ctx ctx;
        int rc = add_inputs(idx, rest, nrest, min_quality, threads, features, &ctx);
        /* nothing came through: an index there is worth more than an empty one */
        int none = !rc && !ctx.added && ctx.bad;
        if (!rc && !none && vigil_index_compact(idx, &err)) { cli_warn("%s", err.message); rc = -1; }
        /* locked only to save: a build reads nothing of the old file, but an `add` holding the
         * lock must not save after this build and bring the old content back */
        int lk = -1;
        if (!rc && !none && lock_target(out, &lk)) rc = -1;
        if (!rc && !none) cli_test_pause("locked", 1);
        if (!rc && !none) rc = save(idx, out);
        cli_unlock(lk);
        vigil_index_free(idx);
        if (rc) return EXIT_USAGE;
        if (none) {
            char low[64] = "";
            if (ctx.low) snprintf(low, sizeof low, ", %llu below quality %d", ctx.low, min_quality);
            cli_warn("%s: no entries: every input failed (%llu bad inputs or lines, listed above%s); %s", out, ctx.bad, low,
                     access(out, F_OK) ? "no index written" : "the index there is left unchanged");
            return EXIT_SOME_FAILED;
        }
        report(out, &ctx);
        return ctx.bad ? EXIT_SOME_FAILED : 0;
    }
    if (nrest < 1) { cli_warn("index %s needs FILE.vgi", sub); return EXIT_USAGE; }
    const char *file = rest[0];
    if (!strcmp(sub, "add") || !strcmp(sub, "remove") || !strcmp(sub, "compact")) {
        /* the index itself is read whole before it is replaced; an INPUT (add) is not */
        const char *target = out ? out : file;
        if (cli_output_ok(target, why, sizeof why) ||
            (!strcmp(sub, "add") && !cli_same_file(target, file) && cli_check_output(target, rest + 1, nrest - 1, why, sizeof why))) {
            cli_warn("%s", why);
            return EXIT_USAGE;
        }
        /* from before the read until after the rename: two writers at once both land */
        int lk;
        if (lock_target(out ? out : file, &lk)) return EXIT_USAGE;
        vigil_index *idx = open_index(file);
        if (!idx) { cli_unlock(lk); return EXIT_USAGE; }
        cli_test_pause("locked", 1); /* read, not yet written: where a writer without the lock would lose another's change */
        int rc = 0, status = 0;
        if (!strcmp(sub, "add")) {
            if (nrest < 2) { cli_warn("index add needs INPUT"); vigil_index_free(idx); cli_unlock(lk); return EXIT_USAGE; }
            add_ctx ctx;
            rc = add_inputs(idx, rest + 1, nrest - 1, min_quality, threads, features, &ctx);
            if (!rc) report(file, &ctx);
            status = ctx.bad ? EXIT_SOME_FAILED : 0;
        } else if (!strcmp(sub, "remove")) {
            if (nrest < 2) { cli_warn("index remove needs ID..."); vigil_index_free(idx); cli_unlock(lk); return EXIT_USAGE; }
            size_t total = 0;
            for (int i = 1; i < nrest; i++) {
                size_t n = 0;
                vigil_index_remove(idx, rest[i], &n, NULL);
                if (!n) { cli_warn("%s: no entry with id '%s'", file, rest[i]); status = EXIT_SOME_FAILED; }
                total += n;
            }
            fprintf(stderr, "%s: %zu entries removed\n", file, total);
        } else if (vigil_index_compact(idx, &err)) {
            cli_warn("%s: %s", file, err.message);
            rc = -1;
        }
        if (!rc) rc = save(idx, out ? out : file);
        cli_unlock(lk);
        vigil_index_free(idx);
        return rc ? EXIT_USAGE : status;
    }
    if (!strcmp(sub, "info") || !strcmp(sub, "verify")) {
        vigil_index *idx = open_index(file);
        if (!idx) return EXIT_USAGE;
        if (!strcmp(sub, "verify")) {
            int bad = vigil_index_verify(idx, &err) != VIGIL_OK;
            if (bad) cli_warn("%s: %s", file, err.message);
            else printf("%s: ok\n", file);
            vigil_index_free(idx);
            return bad ? EXIT_USAGE : 0;
        }
        vigil_index_stats st;
        vigil_index_get_stats(idx, &st);
        const char *names[] = {"file", "set", "entries", "indexed", "unsorted", "removed", "digest_entries", "bytes", "bytes_per_entry",
                               "features", "feature_bytes"};
        cli_out o = {.f = stdout, .fmt = fmt};
        cli_header(&o, names, 11);
        cli_row_begin(&o);
        cli_field_path(&o, file);
        cli_field_str(&o, st.set_name);
        cli_field_int(&o, (long long)st.entries, 1);
        cli_field_int(&o, (long long)st.indexed, 1);
        cli_field_int(&o, (long long)st.unsorted, 1);
        cli_field_int(&o, (long long)st.removed, 1);
        cli_field_int(&o, (long long)st.digests, 1);
        cli_field_int(&o, (long long)st.bytes, 1);
        char per[32];
        snprintf(per, sizeof per, "%.1f", st.entries + st.digests ? (double)st.bytes / (double)(st.entries + st.digests) : 0.0);
        cli_field_raw(&o, per);
        vigil_index_features_stats fs;
        vigil_index_get_features_stats(idx, &fs);
        cli_field_int(&o, (long long)fs.refs, 1);
        cli_field_int(&o, (long long)fs.bytes, 1);
        cli_row_end(&o);
        vigil_index_free(idx);
        return 0;
    }
    if (!strcmp(sub, "export")) {
        vigil_index *idx = open_index(file);
        if (!idx) return EXIT_USAGE;
        char *tmp = NULL;
        FILE *f = cli_check_output(out, rest, 1, why, sizeof why) ? NULL : cli_open_output(out, &tmp, why, sizeof why);
        if (!f) { cli_warn("%s", why); vigil_index_free(idx); return EXIT_USAGE; }
        const char *names[] = {"pdq", "quality", "id", "labels", "md5", "sha1"};
        cli_out o = {.f = f, .fmt = fmt};
        cli_header(&o, names, 6);
        const char *none = fmt == FMT_JSONL ? NULL : "";
        vigil_index_stats st;
        vigil_index_get_stats(idx, &st);
        for (uint64_t e = 0; e < st.indexed + st.unsorted; e++) {
            vigil_pdq h;
            int q;
            const char *id, *labels;
            if (vigil_index_entry(idx, e, &h, &q, &id, &labels)) continue;
            char hex[65];
            vigil_pdq_to_hex(&h, hex);
            cli_row_begin(&o);
            cli_field_str(&o, hex);
            cli_field_int(&o, q, 1);
            cli_field_str(&o, id ? id : (fmt == FMT_JSONL ? NULL : ""));
            cli_field_str(&o, labels ? labels : none);
            cli_field_str(&o, none);
            cli_field_str(&o, none);
            cli_row_end(&o);
        }
        /* digest entries: no PDQ, their MD5 / SHA-1 instead */
        for (uint64_t d = 0; d < st.digest_records; d++) {
            uint8_t md5[16], sha1[20];
            int have;
            const char *id, *labels;
            if (vigil_index_digest_entry(idx, d, md5, sha1, &have, &id, &labels)) continue;
            char m[33], s1[41];
            vigil_hex(md5, 16, m);
            vigil_hex(sha1, 20, s1);
            cli_row_begin(&o);
            cli_field_str(&o, none);
            cli_field_int(&o, 0, 0);
            cli_field_str(&o, id ? id : none);
            cli_field_str(&o, labels ? labels : none);
            cli_field_str(&o, have & VIGIL_DIGEST_MD5 ? m : none);
            cli_field_str(&o, have & VIGIL_DIGEST_SHA1 ? s1 : none);
            cli_row_end(&o);
        }
        vigil_index_free(idx);
        if (cli_commit_output(f, tmp, out)) { cli_warn("writing the export failed"); free(tmp); return EXIT_USAGE; }
        free(tmp);
        return 0;
    }
    cli_warn("no such index command: %s", sub);
    help_index(stderr);
    return EXIT_USAGE;
}
