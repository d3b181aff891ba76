/* report.c - what a finished scan hands over, all written from the journal, each file atomically
 * (temporary file, fsync, rename):
 *   results.jsonl  the journal's JSON lines, one per file, in scan order
 *   summary.json   counts
 *   vics.json      Project VIC VICS 2.0 (OData) Media export, PDQ as an alternative hash
 *   report.html    the matches grouped by set, for review: one self-contained page, thumbnails
 *                  embedded as data: URIs, greyscale and blurred until the analyst reveals one (and
 *                  only one) at a time; a Content-Security-Policy forbids any network request.
 * Memory: the matched files' records (matches are few beside files), never the whole journal. */
#include "scan.h"
#include "archives.h"
#include "scan_video.h"
#include "buf.h" /* core: vigil__label_find */

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

typedef struct kept {
    char *path;
    uint64_t size;
    jmatch *m;
    uint32_t nm;
    uint32_t total;     /* J_TRUNC: matches found, of which nm kept; else 0 */
    int32_t quality;
    char pdq[65];
    char md5[33];
} kept;

typedef struct pass {
    const scan_report_opts *o;
    FILE *results, *vics;
    unsigned long long files, bytes, ok, failed, dup, lowq, matched, truncated, changed, by_status[VIGIL_RESULT_COUNT];
    unsigned long long *set_files, *set_matches;
    unsigned long long *seen; /* per set: the number of the last matched record with a match in it */
    unsigned long long media;
    kept *k;
    size_t nk, capk;
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
    fprintf(f, "%s\n    {\"MediaID\": %llu", p->media ? "," : "", p->media + 1);
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
    fwrite(r->json, 1, r->fix.json_len, p->results);
    p->files++;
    p->bytes += r->fix.size;
    if (r->fix.status >= 0 && r->fix.status < VIGIL_RESULT_COUNT) p->by_status[r->fix.status]++;
    if (r->fix.status) p->failed++; else p->ok++;
    if (r->fix.flags & J_DEDUP) p->dup++;
    if (r->fix.flags & J_LOWQ) p->lowq++;
    if (r->fix.flags & J_CHANGED) p->changed++;
    vics_media(p, r);
    if (!r->fix.nmatches) return 0;
    p->matched++;
    if (r->fix.flags & J_TRUNC) p->truncated++;
    for (uint32_t i = 0; i < r->fix.nmatches; i++) {
        int s = r->matches[i].set;
        if (s < 0 || s >= p->o->nsets) continue;
        p->set_matches[s]++;
        if (p->seen[s] != p->matched) { p->seen[s] = p->matched; p->set_files[s]++; }
    }
    if (p->nk == p->capk) {
        size_t cap = p->capk ? p->capk * 2 : 64;
        kept *k = realloc(p->k, cap * sizeof *k);
        if (!k) { p->oom = 1; return -1; }
        p->k = k;
        p->capk = cap;
    }
    kept *k = &p->k[p->nk];
    memset(k, 0, sizeof *k);
    k->path = strdup(r->path);
    k->m = malloc(r->fix.nmatches * sizeof *k->m);
    if (!k->path || !k->m) { free(k->path); free(k->m); p->oom = 1; return -1; }
    memcpy(k->m, r->matches, r->fix.nmatches * sizeof *k->m);
    k->nm = r->fix.nmatches;
    k->total = r->fix.flags & J_TRUNC ? r->fix.matches_total : 0;
    k->size = r->fix.size;
    k->quality = r->fix.flags & J_PDQ ? r->fix.quality : -1;
    if (r->fix.flags & J_PDQ) vigil_pdq_to_hex(&r->fix.pdq, k->pdq);
    if (r->fix.flags & J_DIGESTS) vigil_hex(r->fix.md5, 16, k->md5);
    p->nk++;
    return 0;
}

/* ---- report.html ------------------------------------------------------------------------------- */

static void html(FILE *f, const char *s)
{
    /* escapes markup; a byte that is not UTF-8 becomes U+FFFD, as in the JSON output; control and
     * bidirectional control characters, which hide or reorder what a name shows, are shown as
     * <U+XXXX> */
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if (*p < 0x20 || *p == 0x7f) fprintf(f, "<span class=\"esc\" title=\"control character\">&lt;U+%04X&gt;</span>", *p);
            else {
                int n = cli_utf8_len(p);
                unsigned bidi = n > 1 ? cli_bidi_control(p) : 0;
                if (bidi) fprintf(f, "<span class=\"esc\" title=\"bidirectional control character\">&lt;U+%04X&gt;</span>", bidi);
                else if (n) fwrite(p, 1, (size_t)n, f);
                else fputs("&#xfffd;", f);
                if (n) p += n - 1;
            }
        }
    }
}

static void base64(FILE *f, const uint8_t *d, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
        fputc(t[v >> 18], f);
        fputc(t[(v >> 12) & 63], f);
        fputc(i + 1 < n ? t[(v >> 6) & 63] : '=', f);
        fputc(i + 2 < n ? t[v & 63] : '=', f);
    }
}

typedef struct thumb { uint8_t *png; size_t n; char err[300]; } thumb;

static const char *page_head =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    /* no request of any kind may leave the page: images are data: URIs, style and script inline */
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n"
    "<meta name=\"referrer\" content=\"no-referrer\">\n"
    "<title>vigil scan report</title>\n<style>\n"
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}\n"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}\n"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e3e3e3;padding:6px;text-align:left;vertical-align:top}\n"
    ".t{width:180px}.t img{max-width:160px;max-height:160px;display:block}\n"
    /* wellness default: every thumbnail greyscale and heavily blurred */
    ".t img.h{filter:grayscale(1) blur(12px)}.t img.g{filter:grayscale(1)}\n"
    ".t button{margin-top:4px}.path{font-family:monospace;word-break:break-all}.lab{font-family:monospace;color:#555}\n"
    ".note{background:#fff7d6;border:1px solid #e8d58a;padding:8px}\n"
    ".esc{font-family:monospace;color:#b00000;background:#fde8e8}\n"
    "</style></head><body>\n";

static const char *page_script =
    "<script>\n"
    "// Reveal one thumbnail at a time: revealing another hides the one shown before.\n"
    "(function(){var shown=null;\n"
    "function hide(i){i.className='h';var b=i.parentNode.querySelectorAll('button');b[0].textContent='Reveal';b[1].hidden=true;}\n"
    "document.querySelectorAll('.t').forEach(function(td){var i=td.querySelector('img');if(!i)return;\n"
    "var b=td.querySelectorAll('button');\n"
    "b[0].addEventListener('click',function(){if(shown===i){hide(i);shown=null;return;}\n"
    "if(shown)hide(shown);i.className='g';b[0].textContent='Hide';b[1].hidden=false;shown=i;});\n"
    "b[1].addEventListener('click',function(){if(shown===i)i.className=i.className==='g'?'':'g';});});\n"
    "document.addEventListener('keydown',function(e){if(e.key==='Escape'&&shown){hide(shown);shown=null;}});})();\n"
    "</script>\n";

static int write_html(FILE *f, const scan_report_opts *o, const pass *p, thumb *th)
{
    fputs(page_head, f);
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
    fprintf(f, "<h1>vigil scan report</h1>\n<p>%s &middot; vigil %s &middot; %llu files, %llu with a match, %llu could not be read or decoded.</p>\n",
            when, vigil_version(), p->files, p->matched, p->failed);
    fputs("<p class=\"note\">Thumbnails are greyscale and blurred. <b>Reveal</b> shows one at a time, still in greyscale; "
          "<b>Colour</b> then shows it in colour. Revealing another, or Escape, hides it again.</p>\n", f);
    for (int s = 0; s < o->nsets; s++) {
        fputs("<h2>", f);
        html(f, o->sets[s].name);
        fputs(" <small>(", f);
        html(f, o->sets[s].path);
        if (o->sets[s].rooms) fprintf(f, ", room index, at least %d inliers): %llu files</small></h2>\n", o->sets[s].radius, p->set_files[s]);
        else fprintf(f, ", radius %d): %llu files</small></h2>\n", o->sets[s].radius, p->set_files[s]);
        if (!p->set_files[s]) { fputs("<p>No match.</p>\n", f); continue; }
        fprintf(f, "<table><tr><th>thumbnail</th><th>file</th><th>reference</th><th>%s</th><th>how</th></tr>\n",
                o->sets[s].rooms ? "inliers" : "distance");
        for (size_t i = 0; i < p->nk; i++) {
            const kept *k = &p->k[i];
            for (uint32_t m = 0; m < k->nm; m++) {
                const jmatch *mt = &k->m[m];
                if (mt->set != s) continue;
                const char *id, *labels;
                scan_match_ref(o->sets, mt, &id, &labels);
                fputs("<tr><td class=\"t\">", f);
                if (th[i].png) {
                    fputs("<img class=\"h\" alt=\"match thumbnail\" src=\"data:image/png;base64,", f);
                    base64(f, th[i].png, th[i].n);
                    fputs("\"><button type=\"button\">Reveal</button><button type=\"button\" hidden>Colour</button>", f);
                } else {
                    fputs("<i>", f);
                    html(f, th[i].err[0] ? th[i].err : "no thumbnail");
                    fputs("</i>", f);
                }
                fputs("</td><td class=\"path\">", f);
                html(f, k->path);
                fprintf(f, "<br><span class=\"lab\">%llu bytes", (unsigned long long)k->size);
                if (k->md5[0]) fprintf(f, " &middot; md5 %s", k->md5);
                if (k->quality >= 0) fprintf(f, " &middot; PDQ quality %d", k->quality);
                if (k->total) fprintf(f, " &middot; <b>%u matches, the nearest %u kept</b>", k->total, k->nm);
                fputs("</span></td><td>", f);
                html(f, id ? id : "(no id)");
                if (labels) { fputs("<br><span class=\"lab\">", f); html(f, labels); fputs("</span>", f); }
                fprintf(f, "</td><td>%d</td><td>%s%s%s</td></tr>\n", mt->distance,
                        mt->kind == MATCH_ROOM  ? "same room (local features)"
                        : mt->kind == MATCH_FEATURES ? (mt->transform ? "same photo, mirrored (local features)" : "same photo (local features)")
                        : mt->kind == MATCH_PDQ ? "PDQ"
                        : mt->kind == MATCH_VIDEO ? "vPDQ (known video)"
                        : mt->kind == MATCH_MD5 ? "MD5 (identical file)"
                                                : "SHA-1 (identical file)",
                        mt->kind == MATCH_PDQ && mt->transform ? ", " : "",
                        mt->kind == MATCH_PDQ && mt->transform ? vigil_transform_name((vigil_transform)mt->transform) : "");
                break; /* one row per file and set: its nearest reference (all of them are in results.jsonl) */
            }
        }
        fputs("</table>\n", f);
    }
    fputs(page_script, f);
    fputs("</body></html>\n", f);
    return 0;
}

static void make_thumbs(const pass *p, thumb *th, int max, int threads)
{
    size_t n = p->nk < (size_t)max ? p->nk : (size_t)max;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (size_t i = 0; i < n; i++) {
        char why[200];
        size_t len;
        vigil_pdq fp;
        if (scan_video_is(p->k[i].path) && !vigil_pdq_from_hex(p->k[i].pdq, 64, &fp)) { /* a video: its matching frame */
            if (scan_video_thumb(p->k[i].path, &fp, 160, &th[i].png, &th[i].n, why, sizeof why))
                snprintf(th[i].err, sizeof th[i].err, "no thumbnail: %s", why);
            continue;
        }
        char *data = cli_read_all(p->k[i].path, cli_image_max(), NULL, &len, why, sizeof why);
        if (!data && strstr(p->k[i].path, "!/")) /* an archive member (archives.c) */
            data = cli_read_member(p->k[i].path, cli_image_max(), &len, why, sizeof why);
        if (!data) { snprintf(th[i].err, sizeof th[i].err, "thumbnail unavailable: %s", why); continue; }
        vigil_error err;
        if (vigil_thumbnail_png(data, len, 160, &th[i].png, &th[i].n, &err))
            snprintf(th[i].err, sizeof th[i].err, "no thumbnail: %s", err.message);
        free(data);
    }
    for (size_t i = n; i < p->nk; i++) snprintf(th[i].err, sizeof th[i].err, "over the --thumbs limit");
}

/* ---- all of it --------------------------------------------------------------------------------- */

int scan_write_reports(scan_journal *j, scan_report_opts *o, char *why, size_t whylen)
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
    thumb *th = NULL;
    if (!p.set_files || !p.set_matches || !p.seen) { snprintf(why, whylen, "out of memory"); goto done; }
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

    char *stmp = NULL;
    FILE *f = cli_open_output_in(o->dir, "summary.json", &stmp, path, sizeof path, why, whylen);
    if (!f) goto done;
    fprintf(f, "{\n  \"vigil\": \"%s\",\n  \"complete\": true,\n  \"files\": %llu,\n  \"bytes\": %llu,\n  \"ok\": %llu,\n"
               "  \"failed\": %llu,\n  \"duplicates\": %llu,\n  \"low_quality_not_pdq_matched\": %llu,\n  \"matched_files\": %llu,\n"
               "  \"truncated_files\": %llu,\n  \"changed_while_read\": %llu,\n  \"by_status\": {",
            vigil_version(), p.files, p.bytes, p.ok, p.failed, p.dup, p.lowq, p.matched, p.truncated, p.changed);
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

    th = calloc(p.nk ? p.nk : 1, sizeof *th);
    if (!th) { snprintf(why, whylen, "out of memory"); goto done; }
    make_thumbs(&p, th, o->thumbs_max, o->threads);
    char *htmp = NULL;
    f = cli_open_output_in(o->dir, "report.html", &htmp, path, sizeof path, why, whylen);
    if (!f) goto done;
    write_html(f, o, &p, th);
    if (cli_commit_output(f, htmp, path)) { snprintf(why, whylen, "%s: writing failed", path); free(htmp); goto done; }
    free(htmp);
    o->files = p.files;
    o->failed = p.failed;
    o->matched = p.matched;
    rc = 0;
done:
    /* a report not committed leaves no temporary file behind */
    if (p.results) { fclose(p.results); unlink(rtmp); }
    if (p.vics) { fclose(p.vics); unlink(vtmp); }
    free(rtmp);
    free(vtmp);
    for (size_t i = 0; i < p.nk; i++) { free(p.k[i].path); free(p.k[i].m); if (th) free(th[i].png); }
    free(th);
    free(p.k);
    free(p.set_files);
    free(p.set_matches);
    free(p.seen);
    return rc;
}
