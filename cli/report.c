/* report.c - what a finished scan hands over, all written from the journal, each file atomically
 * (temporary file, fsync, rename):
 *   results.jsonl  the journal's JSON lines, one per file, in scan order
 *   summary.json   counts
 *   vics.json      Project VIC VICS 2.0 (OData) Media export, PDQ as an alternative hash
 *   report.html    the review page (report_page.c), written in a second pass over the journal
 * Memory: per set counters, never the whole journal. */
#include "scan.h"
#include "archives.h"
#include "scan_video.h"
#include "buf.h" /* core: vigil__label_find */
#include "report_page.h"
#include "review.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void scan_match_ref(const scan_set *sets, const jmatch *m, const char **id, const char **labels)
{
    *id = *labels = NULL;
    if (m->kind == MATCH_ROOM) {
        if (vigil_rooms_image(sets[m->set].rooms, m->entry, id, labels, NULL)) *id = *labels = NULL;
        else if (*labels && !**labels) *labels = NULL;
    } else if (m->kind == MATCH_PDQ || m->kind == MATCH_VIDEO) vigil_index_entry(sets[m->set].idx, m->entry, NULL, NULL, id, labels);
    else if (m->kind == MATCH_FEATURES) vigil_index_features_ref(sets[m->set].idx, m->entry, id, labels);
    else vigil_index_digest_entry(sets[m->set].idx, m->entry, NULL, NULL, NULL, id, labels);
}

/* The value of "key=" in a labels string ("k=v k=v"), copied into out; 0 if absent or longer than out. */
static int label_value(const char *labels, const char *key, char *out, size_t n)
{
    const char *v;
    size_t vl;
    if (!vigil__label_find(labels, key, &v, &vl)) return 0;
    if (vl > n - 1) return 0; /* cut short it would read as another value */
    memcpy(out, v, vl);
    out[vl] = 0;
    return 1;
}

/* ---- one pass over the journal: results.jsonl, summary counts, vics.json, matched records ----- */

typedef struct pass {
    const scan_report_opts *o;
    FILE *results, *vics;
    unsigned long long files, bytes, ok, failed, dup, lowq, matched, truncated, changed, by_status[VIGIL_RESULT_COUNT];
    unsigned long long *set_files, *set_matches;
    unsigned long long *seen; /* per set: the number of the last matched record with a match in it */
    unsigned long long media;
    int oom;
} pass;

static int category_of(const pass *p, const jrecord *r)
{
    /* the category of the nearest match that has one (matches are sorted by set, then distance) */
    int best = -1, bestd = 1 << 30;
    for (uint32_t i = 0; i < r->fix.nmatches; i++) {
        const char *id, *labels;
        char v[16];
        scan_match_ref(p->o->sets, &r->matches[i], &id, &labels);
        long long c;
        if (labels && label_value(labels, "category", v, sizeof v) && r->matches[i].distance < bestd && !cli_strict_int(v, 0, 99, &c)) {
            best = (int)c;
            bestd = r->matches[i].distance;
        }
    }
    return best;
}

static void vics_media(pass *p, const jrecord *r)
{
    if (!(r->fix.flags & J_DIGESTS)) return; /* nothing was read: no hashes to exchange */
    FILE *f = p->vics;
    char h[65];
    const char *slash = strrchr(r->path, '/');
    fprintf(f, "%s\n    {\"MediaID\": %llu", p->media ? "," : "", p->o->media_base + p->media + 1);
    int cat = category_of(p, r);
    if (cat >= 0) fprintf(f, ", \"Category\": %d", cat);
    vigil_hex(r->fix.md5, 16, h);
    for (char *c = h; *c; c++) *c = (char)(*c >= 'a' ? *c - 32 : *c); /* VICS writes hex upper-case */
    fprintf(f, ", \"MD5\": \"%s\"", h);
    vigil_hex(r->fix.sha1, 20, h);
    for (char *c = h; *c; c++) *c = (char)(*c >= 'a' ? *c - 32 : *c);
    fprintf(f, ", \"SHA1\": \"%s\", \"MediaSize\": %llu", h, (unsigned long long)r->fix.size);
    if (r->fix.flags & J_PDQ) {
        vigil_pdq_to_hex(&r->fix.pdq, h);
        fprintf(f, ", \"AlternativeHashes\": [{\"HashName\": \"PDQ\", \"HashValue\": \"%s\"}]", h);
    }
    fputs(", \"MediaFiles\": [{\"FileName\": ", f);
    cli_json_str(f, slash ? slash + 1 : r->path);
    fputs(", \"FilePath\": ", f);
    cli_json_str(f, r->path);
    fputs("}]}", f);
    p->media++;
}

static int on_record(const jrecord *r, void *ctx)
{
    pass *p = ctx;
    if (p->results) fwrite(r->json, 1, r->fix.json_len, p->results);
    p->files++;
    p->bytes += r->fix.size;
    if (r->fix.status >= 0 && r->fix.status < VIGIL_RESULT_COUNT) p->by_status[r->fix.status]++;
    if (r->fix.status) p->failed++; else p->ok++;
    if (r->fix.flags & J_DEDUP) p->dup++;
    if (r->fix.flags & J_LOWQ) p->lowq++;
    if (r->fix.flags & J_CHANGED) p->changed++;
    if (p->vics) vics_media(p, r);
    if (!r->fix.nmatches) return 0;
    p->matched++;
    if (r->fix.flags & J_TRUNC) p->truncated++;
    for (uint32_t i = 0; i < r->fix.nmatches; i++) {
        int s = r->matches[i].set;
        if (s < 0 || s >= p->o->nsets) continue;
        p->set_matches[s]++;
        if (p->seen[s] != p->matched) { p->seen[s] = p->matched; p->set_files[s]++; }
    }
    return 0;
}

/* ---- the summary's counts, flat (a merge adds up its parts') --------------------------------- */

enum { NSUMS_FIXED = 9 + VIGIL_RESULT_COUNT };

size_t scan_report_nsums(int nsets) { return NSUMS_FIXED + 2 * (size_t)nsets; }

static void sums_move(pass *p, unsigned long long *v, int out)
{
    unsigned long long *f[9] = {&p->files, &p->bytes, &p->ok, &p->failed, &p->dup, &p->lowq, &p->matched, &p->truncated, &p->changed};
    size_t at = 0;
    for (int i = 0; i < 9; i++, at++) { if (out) v[at] = *f[i]; else *f[i] = v[at]; }
    for (int i = 0; i < VIGIL_RESULT_COUNT; i++, at++) { if (out) v[at] = p->by_status[i]; else p->by_status[i] = v[at]; }
    for (int s = 0; s < p->o->nsets; s++, at++) { if (out) v[at] = p->set_files[s]; else p->set_files[s] = v[at]; }
    for (int s = 0; s < p->o->nsets; s++, at++) { if (out) v[at] = p->set_matches[s]; else p->set_matches[s] = v[at]; }
}

/* ---- all of it --------------------------------------------------------------------------------- */

int scan_write_reports(scan_journal *j, scan_report_opts *o, char *why, size_t whylen)
{
    return scan_write_reports_page(j, o, NULL, NULL, why, whylen);
}

int scan_write_reports_page(scan_journal *j, scan_report_opts *o, scan_page_fn page, void *ctx, char *why, size_t whylen)
{
    pass p;
    memset(&p, 0, sizeof p);
    p.o = o;
    p.set_files = calloc((size_t)o->nsets, sizeof *p.set_files);
    p.set_matches = calloc((size_t)o->nsets, sizeof *p.set_matches);
    p.seen = calloc((size_t)o->nsets + 1, sizeof *p.seen);
    char path[4200], vpath[4200];
    char *rtmp = NULL, *vtmp = NULL;
    int rc = -1;
    char scan_id[33];
    if (!p.set_files || !p.set_matches || !p.seen) { snprintf(why, whylen, "out of memory"); goto done; }
    if (review_scan_id(o->dir, 0, scan_id, why, whylen)) goto done;
    if (o->lists == 2 && o->sums) { /* joined from the parts, and so are the counts */
        sums_move(&p, o->sums, 0);
        goto summary;
    }
    if (o->lists == 2) { /* results.jsonl and vics.json are joined from the parts: count only */
        if (journal_each(j, on_record, &p)) { snprintf(why, whylen, "%s: cannot read the journal back", j->path); goto done; }
        goto summary;
    }
    p.results = cli_open_output_in(o->dir, "results.jsonl", &rtmp, path, sizeof path, why, whylen);
    p.vics = p.results ? cli_open_output_in(o->dir, "vics.json", &vtmp, vpath, sizeof vpath, why, whylen) : NULL;
    if (!p.results || !p.vics) goto done;
    fputs("{\"@odata.context\": \"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media\",\n"
          " \"value\": [", p.vics);
    if (journal_each(j, on_record, &p)) { snprintf(why, whylen, p.oom ? "out of memory" : "%s: cannot read the journal back", j->path); goto done; }
    fputs("\n]}\n", p.vics);
    FILE *r = p.results, *v = p.vics;
    p.results = p.vics = NULL;
    if (cli_commit_output(r, rtmp, path)) { snprintf(why, whylen, "%s: writing failed", path); fclose(v); unlink(vtmp); goto done; }
    if (cli_commit_output(v, vtmp, vpath)) { snprintf(why, whylen, "%s: writing failed", vpath); goto done; }
    if (o->lists == 1) {
        if (o->sums) sums_move(&p, o->sums, 1);
        rc = 0;
        goto done;
    }
summary:;

    char *stmp = NULL;
    FILE *f = cli_open_output_in(o->dir, "summary.json", &stmp, path, sizeof path, why, whylen);
    if (!f) goto done;
    fprintf(f, "{\n  \"vigil\": \"%s\",\n  \"scan_id\": \"%s\",\n  \"complete\": true,\n  \"files\": %llu,\n  \"bytes\": %llu,\n  \"ok\": %llu,\n"
               "  \"failed\": %llu,\n  \"duplicates\": %llu,\n  \"low_quality_not_pdq_matched\": %llu,\n  \"matched_files\": %llu,\n"
               "  \"truncated_files\": %llu,\n  \"changed_while_read\": %llu,\n  \"by_status\": {",
            vigil_version(), scan_id, p.files, p.bytes, p.ok, p.failed, p.dup, p.lowq, p.matched, p.truncated, p.changed);
    for (int s = 0, first = 1; s < VIGIL_RESULT_COUNT; s++)
        if (p.by_status[s]) { fprintf(f, "%s\"%s\": %llu", first ? "" : ", ", vigil_result_name((vigil_result)s), p.by_status[s]); first = 0; }
    fputs("},\n  \"sets\": [", f);
    for (int s = 0; s < o->nsets; s++) {
        fprintf(f, "%s\n    {\"set\": ", s ? "," : "");
        cli_json_str(f, o->sets[s].name);
        fputs(", \"index\": ", f);
        cli_json_str(f, o->sets[s].path);
        fprintf(f, ", \"%s\": %d, \"matched_files\": %llu, \"matches\": %llu}", o->sets[s].rooms ? "min_inliers" : "radius",
                o->sets[s].radius, p.set_files[s], p.set_matches[s]);
    }
    fprintf(f, "\n  ],\n  \"seconds_this_run\": %.3f\n}\n", o->seconds);
    if (cli_commit_output(f, stmp, path)) { snprintf(why, whylen, "%s: writing failed", path); free(stmp); goto done; }
    free(stmp);

    o->files = p.files;
    o->failed = p.failed;
    o->matched = p.matched;
    char *htmp = NULL;
    f = cli_open_output_in(o->dir, "report.html", &htmp, path, sizeof path, why, whylen);
    if (!f) goto done;
    report_page_stats st;
    if (page ? page(f, o, scan_id, ctx) : report_page_write(f, j, o, scan_id, &st)) {
        snprintf(why, whylen, "%s: cannot read the journal back for report.html", j->path);
        fclose(f);
        unlink(htmp);
        free(htmp);
        goto done;
    }
    if (cli_commit_output(f, htmp, path)) { snprintf(why, whylen, "%s: writing failed", path); free(htmp); goto done; }
    free(htmp);
    rc = 0;
done:
    /* a report not committed leaves no temporary file behind */
    if (p.results) { fclose(p.results); unlink(rtmp); }
    if (p.vics) { fclose(p.vics); unlink(vtmp); }
    free(rtmp);
    free(vtmp);
    free(p.set_files);
    free(p.set_matches);
    free(p.seen);
    return rc;
}
