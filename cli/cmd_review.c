/* cmd_review.c - `vigil review apply OUTDIR DECISIONS.json`: the decisions an analyst made on a
 * scan's review page (report.html, exported there) written into the scan's results.jsonl (each
 * decided match gains "decision" and "category") and vics.json (each decided file's "Category").
 * Both are rewritten whole, each to a temporary file that is fsync'd and renamed over (the
 * folder fsync'd): a crash leaves each as it was before or as it is after; applying the same
 * file again gives the same files. Streams both, one line at a time: memory is the decisions. */
#include "cli.h"
#include "review.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void help_review(FILE *f)
{
    fprintf(f,
            "Usage: vigil review apply OUTDIR DECISIONS.json\n\n"
            "Writes the decisions made on a scan's review page (report.html: Export decisions)\n"
            "into the scan's OUTDIR: each decided match in results.jsonl gains \"decision\"\n"
            "(\"confirmed\", \"rejected\" or \"needs-review\") and \"category\" (the Project VIC\n"
            "category, 0..99, when one was set); in vics.json each decided file takes the\n"
            "category of its first confirmed match (else of its first match not rejected), and a\n"
            "file whose matches were all rejected loses the category its reference gave it.\n"
            "Decisions applied before are replaced by those in the file; matches it does not\n"
            "name keep theirs. A later `vigil scan --resume` on OUTDIR rewrites both files from\n"
            "the journal: apply the decisions again after it.\n\n"
            "The file must be of this scan (its scan_id is OUTDIR/scan-id; another scan's is\n"
            "refused and nothing is written). A match id that names no match of the scan, or\n"
            "whose path is not that match's file, is reported and left out; the others are\n"
            "applied. Each file is written to a temporary file, fsync'd and renamed over.\n\n"
            "  --help       this text\n\n"
            "Exit status: 0 applied, 1 applied but some decisions named no match (listed), 2\n"
            "usage error, unreadable or invalid decisions file, another scan's decisions, or\n"
            "OUTDIR not a finished scan (no results written).\n");
}

typedef struct vcat { uint64_t media; int cat; } vcat;

static int apply(const char *dir, const char *dpath)
{
    char why[4400], sid[33], path[4200], vpath[4200];
    if (review_read_scan_id(dir, sid)) {
        cli_warn("%s/scan-id: missing or damaged: %s is not the OUTDIR of a finished scan by this vigil (a scan from an "
                 "older vigil gets one when it is resumed or its reports written again)", dir, dir);
        return EXIT_USAGE;
    }
    size_t n;
    char *data = cli_read_all(dpath, 1ull << 30, NULL, &n, why, sizeof why);
    if (!data) { cli_warn("%s", why); return EXIT_USAGE; }
    review_decisions ds;
    int prc = review_decisions_parse(data, n, &ds, why, sizeof why);
    free(data);
    if (prc) { cli_warn("%s: %s", dpath, why); return EXIT_USAGE; }
    if (strcmp(ds.scan_id, sid)) {
        cli_warn("%s: decisions of scan %s, but %s is scan %s; nothing written", dpath, ds.scan_id, dir, sid);
        review_decisions_free(&ds);
        return EXIT_USAGE;
    }
    int status = EXIT_USAGE, lockfd = -1;
    FILE *rin = NULL, *vin = NULL, *rout = NULL, *vout = NULL;
    char *rtmp = NULL, *vtmp = NULL, *line = NULL;
    size_t cap = 0, unknown = 0, applied = 0, files = 0, nv = 0, vcap = 0;
    vcat *vc = NULL;
    /* a scan writing these files right now would replace them under us */
    if (cli_lock_outdir(dir, &lockfd, why, sizeof why)) { cli_warn("%s", why); goto out; }
    snprintf(path, sizeof path, "%s/results.jsonl", dir);
    snprintf(vpath, sizeof vpath, "%s/vics.json", dir);
    if (!(rin = fopen(path, "re"))) { cli_warn("%s: cannot open: %s", path, strerror(errno)); goto out; }
    if (!(vin = fopen(vpath, "re"))) { cli_warn("%s: cannot open: %s", vpath, strerror(errno)); goto out; }
    if (!(rout = cli_open_output_in(dir, "results.jsonl", &rtmp, path, sizeof path, why, sizeof why))) { cli_warn("%s", why); goto out; }
    if (!(vout = cli_open_output_in(dir, "vics.json", &vtmp, vpath, sizeof vpath, why, sizeof why))) { cli_warn("%s", why); goto out; }
    uint64_t ln = 0, media = 0;
    size_t at = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, rin)) > 0) {
        size_t len = (size_t)got;
        int nl = line[len - 1] == '\n';
        if (nl) len--;
        size_t from = at;
        while (at < ds.n && ds.d[at].line == ln) at++;
        int cat = -1, md5 = 0;
        size_t ol = 0, before = unknown;
        char *o = review_rewrite_line(line, len, ds.d + from, at - from, &ol, &unknown, &cat, &md5);
        if (!o) { cli_warn("%s line %llu: not a results line as vigil writes it; nothing written", path, (unsigned long long)ln + 1); goto out; }
        if (at > from) { fwrite(o, 1, ol, rout); applied += (at - from) - (unknown - before); files += unknown - before < at - from; }
        else fwrite(line, 1, len, rout);
        free(o);
        if (nl) fputc('\n', rout);
        if (md5) {
            media++;
            if (at > from && cat != -1) {
                if (nv == vcap) {
                    vcap = vcap ? vcap * 2 : 64;
                    vcat *p = realloc(vc, vcap * sizeof *p);
                    if (!p) { cli_warn("out of memory"); goto out; }
                    vc = p;
                }
                vc[nv++] = (vcat){media, cat};
            }
        }
        ln++;
    }
    if (ferror(rin)) { cli_warn("%s: read failed: %s", path, strerror(errno)); goto out; }
    for (size_t k = at; k < ds.n; k++) ds.d[k].unknown = 1, unknown++;
    /* vics.json: Media are numbered in results order, one for each file with digests */
    uint64_t mid = 0;
    size_t vk = 0;
    while ((got = getline(&line, &cap, vin)) > 0) {
        size_t len = (size_t)got, ol;
        const char *p = line + strspn(line, " ");
        if (!strncmp(p, "{\"MediaID\": ", 12)) {
            mid++;
            if (vk < nv && vc[vk].media == mid) {
                char *o = review_vics_line(line, len, vc[vk].cat, &ol);
                if (!o) { cli_warn("%s: Media %llu: not as vigil writes it; nothing written", vpath, (unsigned long long)mid); goto out; }
                fwrite(o, 1, ol, vout);
                free(o);
                vk++;
                continue;
            }
        }
        fwrite(line, 1, len, vout);
    }
    if (ferror(vin)) { cli_warn("%s: read failed: %s", vpath, strerror(errno)); goto out; }
    if (mid != media) {
        cli_warn("%s holds %llu Media but results.jsonl %llu files with digests: they are not of one scan; nothing written", vpath,
                 (unsigned long long)mid, (unsigned long long)media);
        goto out;
    }
    FILE *r = rout, *v = vout;
    rout = vout = NULL;
    if (cli_commit_output(r, rtmp, path)) { cli_warn("%s: writing failed", path); fclose(v); unlink(vtmp); goto out; }
    if (cli_commit_output(v, vtmp, vpath)) { cli_warn("%s: writing failed (results.jsonl has the decisions: apply again)", vpath); goto out; }
    size_t said = 0;
    for (size_t k = 0; k < ds.n; k++) {
        if (!ds.d[k].unknown) continue;
        if (said++ < 20)
            cli_warn("%s: match %llu:%u: no such match in %s (past the file's matches, or another file: %s)", dpath,
                     (unsigned long long)ds.d[k].line, ds.d[k].index, dir, ds.d[k].path ? ds.d[k].path : "no path given");
    }
    if (said > 20) cli_warn("%s: and %zu more such match ids", dpath, said - 20);
    fprintf(stderr, "%zu decisions applied to %zu files in %s/results.jsonl and vics.json%s\n", applied, files, dir,
            unknown ? "; some match ids were unknown (above)" : "");
    status = unknown ? EXIT_SOME_FAILED : 0;
out:
    if (rout) { fclose(rout); unlink(rtmp); }
    if (vout) { fclose(vout); unlink(vtmp); }
    if (rin) fclose(rin);
    if (vin) fclose(vin);
    free(rtmp);
    free(vtmp);
    free(line);
    free(vc);
    review_decisions_free(&ds);
    cli_unlock_outdir(lockfd);
    return status;
}

int cmd_review(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { help_review(stdout); return 0; }
    if (argc < 2 || strcmp(argv[1], "apply")) {
        cli_warn(argc < 2 ? "review needs a subcommand: apply" : "review: unknown subcommand '%s' (known: apply)", argc < 2 ? "" : argv[1]);
        help_review(stderr);
        return EXIT_USAGE;
    }
    if (argc != 4) {
        cli_warn("review apply needs OUTDIR and DECISIONS.json");
        help_review(stderr);
        return EXIT_USAGE;
    }
    return apply(argv[2], argv[3]);
}
