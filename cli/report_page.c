/* report_page.c - report.html, the review page (triage desk): one self-contained file, the match
 * data embedded as JSON, the script and style inline and allowed by their SHA-256 in a
 * Content-Security-Policy that forbids every request (default-src 'none'; images data: only).
 * The page's code is cli/review/page.js and page.css, compiled in (build/gen/review_page.h).
 *
 * The data: for each matched file its results.jsonl line as it is (so what other kinds of match
 * add, a video frame's timestamp or a feature match's box, reaches the page unchanged), its line
 * number (a match's id is LINE:INDEX, which `vigil review apply` reads back) and the number of
 * the entry whose thumbnail it shows (its own, or an earlier file's with the same content), or
 * null. JSON cannot end the script element: '<', '>' and '&' are written as \u escapes (only
 * strings hold them), so a label "</script>" stays text.
 *
 * The thumbnails are not in the JSON: each is a data block of its own after it,
 * <script type="text/plain" id="vigil-tN">base64 JPEG</script>, read only when its card is drawn.
 * The page's script comes after the first PRE_THUMBS of them, so it runs once the data and the
 * first pages' pictures are parsed: the page is usable while the browser still parses the rest
 * (a 200 MB budget is some 270 MB of base64, which takes seconds to parse; bench/results/review.md),
 * and cards whose picture is not parsed yet are drawn again when it is (DOMContentLoaded).
 * Written in two more passes over the journal (the data, then the thumbnails): memory is one
 * record and the table of the contents whose thumbnail is embedded (24-byte slots at load <= 0.5:
 * 48 bytes a thumbnail). */
#include "report_page.h"
#include "thumbs.h"

#include "review_page.h" /* generated: review_js, review_css */

#include <nettle/base64.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* JSON text (already valid) into a <script> element: the three characters that could close it or
 * open markup become \u escapes, which only occur inside strings; so do the bidirectional
 * controls and line separators, so that not even the page's source shows text reordered. */
static void json_safe(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        unsigned cp = 0;
        if (c == '<') fputs("\\u003c", f);
        else if (c == '>') fputs("\\u003e", f);
        else if (c == '&') fputs("\\u0026", f);
        else if (c >= 0xc0 && i + 2 < n && (cp = cli_bidi_control((const unsigned char *)s + i))) {
            fprintf(f, "\\u%04x", cp);
            i += cp < 0x800 ? 1 : 2;
        } else if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 && ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
            fprintf(f, "\\u%04x", (unsigned char)s[i + 2] == 0xa8 ? 0x2028 : 0x2029);
            i += 2;
        } else fputc(c, f);
    }
}

static void json_str_safe(FILE *f, const char *s)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    if (!m) { fputs("null", f); return; }
    cli_json_str(m, s ? s : "");
    fclose(m);
    json_safe(f, buf, n);
    free(buf);
}

static void csp_hash(const char *s, char out[64])
{
    struct sha256_ctx c;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&c);
    sha256_update(&c, strlen(s), (const uint8_t *)s);
    sha256_digest(&c, sizeof d, d);
    base64_encode_raw((char *)out, sizeof d, d);
    out[BASE64_ENCODE_RAW_LENGTH(sizeof d)] = 0;
}

static void base64(FILE *f, const uint8_t *d, size_t n)
{
    char buf[BASE64_ENCODE_RAW_LENGTH(3 * 1024) + 1];
    for (size_t i = 0; i < n; i += 3 * 1024) {
        size_t k = n - i < 3 * 1024 ? n - i : 3 * 1024;
        base64_encode_raw(buf, k, d + i);
        fwrite(buf, 1, BASE64_ENCODE_RAW_LENGTH(k), f);
    }
}

typedef struct seen { uint8_t key[16]; uint64_t entry; } seen;

typedef struct pagepass {
    FILE *f;
    scan_thumbs th;
    int have_thumbs, script_out;
    uint64_t line, entries;
    seen *tab;   /* content -> the first entry that shows its thumbnail; open addressing */
    size_t cap, n;
    report_page_stats *st;
    int oom;
} pagepass;

/* The thumbnails before the page's script: the most one page shows (500), so that the first
 * page, in scan order, is drawn with its pictures. */
#define PRE_THUMBS report_page_pre_thumbs()

int report_page_pre_thumbs(void)
{
    /* test hook: VIGIL_TEST_PRE_THUMBS=N (1..500) puts the script after N blocks, so a small test
     * can check where a merge joined from parts puts it */
    const char *e = getenv("VIGIL_TEST_PRE_THUMBS");
    int n = e ? atoi(e) : 0;
    return n >= 1 && n <= REPORT_PAGE_PRE_THUMBS ? n : REPORT_PAGE_PRE_THUMBS;
}

static seen *seen_find(pagepass *p, const uint8_t key[16])
{
    uint64_t h;
    memcpy(&h, key, 8);
    for (size_t i = (size_t)h & (p->cap - 1);; i = (i + 1) & (p->cap - 1))
        if (p->tab[i].entry == 0 || !memcmp(p->tab[i].key, key, 16)) return &p->tab[i];
}

static int seen_add(pagepass *p, const uint8_t key[16], uint64_t entry)
{
    if (2 * (p->n + 1) > p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        seen *old = p->tab;
        size_t ocap = p->cap;
        seen *t = calloc(cap, sizeof *t);
        if (!t) return -1;
        p->tab = t;
        p->cap = cap;
        for (size_t i = 0; i < ocap; i++)
            if (old[i].entry) *seen_find(p, old[i].key) = old[i];
        free(old);
    }
    seen *s = seen_find(p, key);
    memcpy(s->key, key, 16);
    s->entry = entry + 1; /* 0 marks an empty slot */
    p->n++;
    return 0;
}

void report_page_entry(FILE *f, const char *sep, uint64_t line, uint64_t ref, const jrecord *r)
{
    fprintf(f, "%s\n[%llu,", sep, (unsigned long long)line);
    if (ref) fprintf(f, "%llu", (unsigned long long)(ref - 1));
    else fputs("null", f);
    fputc(',', f);
    size_t n = r->fix.json_len;
    while (n && (r->json[n - 1] == '\n' || r->json[n - 1] == '\r')) n--;
    json_safe(f, r->json, n);
    fputc(']', f);
}

void report_page_thumb(FILE *f, uint64_t entry, const uint8_t *img, size_t n)
{
    fprintf(f, "<script type=\"text/plain\" id=\"vigil-t%llu\">", (unsigned long long)entry);
    base64(f, img, n);
    fputs("</script>\n", f);
}

void report_page_script(FILE *f) { fprintf(f, "<script>%s</script>\n", review_js); }

/* Pass 1: the record's entry in the JSON data, and which entry's thumbnail it shows. */
static int on_record(const jrecord *r, void *ctx)
{
    pagepass *p = ctx;
    uint64_t line = p->line++;
    if (!r->fix.nmatches) return 0;
    uint64_t ref = 0;
    if (p->have_thumbs && (r->fix.flags & J_DIGESTS)) {
        seen *s = p->cap ? seen_find(p, r->fix.xxh128) : NULL;
        if (s && s->entry) ref = s->entry;
        else if (thumbs_has(&p->th, r->fix.xxh128)) {
            if (seen_add(p, r->fix.xxh128, p->entries)) { p->oom = 1; return -1; }
            ref = p->entries + 1;
        }
    }
    if (!ref) p->st->text_rows++;
    report_page_entry(p->f, p->entries ? "," : "", line, ref, r);
    p->st->matches += r->fix.nmatches;
    p->entries++;
    return 0;
}

static void page_script(pagepass *p)
{
    report_page_script(p->f);
    p->script_out = 1;
}

/* Pass 2: the thumbnail of every entry that owns one, in entry order, as a data block; the
 * page's script after the first PRE_THUMBS. */
static int on_record_thumb(const jrecord *r, void *ctx)
{
    pagepass *p = ctx;
    if (!r->fix.nmatches) return 0;
    uint64_t entry = p->entries++;
    if (!(r->fix.flags & J_DIGESTS) || !p->cap) return 0;
    seen *s = seen_find(p, r->fix.xxh128);
    if (!s->entry || s->entry - 1 != entry) return 0; /* none, or an earlier entry's */
    size_t n;
    uint8_t *img = thumbs_get(&p->th, r->fix.xxh128, &n);
    if (!img) return 0; /* unreadable now: the card says it has no thumbnail */
    report_page_thumb(p->f, entry, img, n);
    free(img);
    p->st->thumbs++;
    p->st->thumb_bytes += n;
    if (p->st->thumbs == (unsigned long long)PRE_THUMBS) page_script(p);
    return 0;
}

static const char *page_body =
    "<header><h1>vigil scan review</h1><p id=\"scaninfo\"></p></header>\n"
    "<p class=\"note\">Thumbnails are greyscale and blurred. <b>Reveal</b> (or <kbd>Space</kbd>) shows one at a time, "
    "still greyscale; <b>Colour</b> (<kbd>o</kbd>) then shows it in colour. Revealing another, or <kbd>Escape</kbd>, hides "
    "it again. <b>Text only</b> shows no picture at all.</p>\n"
    "<details id=\"keys\"><summary>Keyboard (<kbd>?</kbd>)</summary><table>\n"
    "<tr><td><kbd>j</kbd> <kbd>&darr;</kbd> <kbd>&rarr;</kbd> / <kbd>k</kbd> <kbd>&uarr;</kbd> <kbd>&larr;</kbd></td><td>next / previous match</td></tr>\n"
    "<tr><td><kbd>n</kbd> <kbd>PageDown</kbd> / <kbd>p</kbd> <kbd>PageUp</kbd>, <kbd>Home</kbd> <kbd>End</kbd></td><td>next / previous page, first / last match</td></tr>\n"
    "<tr><td><kbd>Space</kbd> <kbd>v</kbd></td><td>reveal the selected thumbnail (again: hide it); <kbd>o</kbd> colour</td></tr>\n"
    "<tr><td><kbd>Escape</kbd></td><td>hide the revealed thumbnail (also leaves a text field)</td></tr>\n"
    "<tr><td><kbd>c</kbd> / <kbd>x</kbd> / <kbd>r</kbd></td><td>confirm / reject / needs review (the same key again clears it); <kbd>u</kbd> clears decision and category</td></tr>\n"
    "<tr><td><kbd>0</kbd> &hellip; <kbd>4</kbd>, <kbd>-</kbd></td><td>Project VIC category of the selected match; clear it</td></tr>\n"
    "<tr><td><kbd>g</kbd> / <kbd>t</kbd> / <kbd>/</kbd></td><td>grid or list / text only / search</td></tr>\n"
    "</table><p>Project VIC categories (US): 0 non-pertinent, 1 CAM (child abuse material), 2 child exploitive (non-CAM) / "
    "age difficult, 3 CGI / animation (child exploitive), 4 comparison images; no category is uncategorized. A match without a category of its own shows its reference's (a <code>category=</code> "
    "label). Decisions are kept in this browser for this scan (local storage, by scan id); export them for "
    "<code>vigil review apply OUTDIR decisions.json</code> or for a colleague, who imports them.</p></details>\n"
    "<div class=\"bar\">\n"
    "<label>set <select id=\"f-set\"></select></label> <label>kind <select id=\"f-kind\"></select></label>\n"
    "<label>category <select id=\"f-cat\"></select></label> <label>decision <select id=\"f-dec\"></select></label>\n"
    "<label>distance &le; <input id=\"f-dist\" type=\"number\" min=\"0\" max=\"256\"></label>\n"
    "<label>inliers &ge; <input id=\"f-inl\" type=\"number\" min=\"0\"></label>\n"
    "<label>search <input id=\"f-q\" type=\"search\" placeholder=\"path, labels, reference\"></label>\n"
    "<label>sort <select id=\"f-sort\"><option value=\"scan\">scan order</option><option value=\"dist\">nearest first</option>"
    "<option value=\"distdesc\">farthest first</option><option value=\"path\">path</option><option value=\"set\">set</option>"
    "<option value=\"kind\">kind</option><option value=\"cat\">category</option><option value=\"dec\">decision</option></select></label>\n"
    "<span id=\"shown\"></span></div>\n"
    "<div class=\"bar\"><button type=\"button\" id=\"view\">List view</button>\n"
    "<label>blur <input id=\"blur\" type=\"range\" min=\"2\" max=\"40\" step=\"1\"></label>\n"
    "<label><input id=\"nothing\" type=\"checkbox\"> text only (show nothing)</label>\n"
    "<label>per page <select id=\"psize\"><option>10</option><option>50</option><option>100</option><option>200</option>"
    "<option>500</option></select></label>\n"
    "<button type=\"button\" data-action=\"export\" data-format=\"decisions\">Export decisions</button>\n"
    "<button type=\"button\" data-action=\"export\" data-format=\"vics\">Export VICS 2.0</button>\n"
    "<label>import decisions <input id=\"import\" data-action=\"import\" type=\"file\" accept=\".json,application/json\"></label></div>\n"
    "<div id=\"status\" role=\"status\"></div>\n"
    "<div class=\"pager\"><button type=\"button\" id=\"prev\">&larr; previous</button><span id=\"pageinfo\"></span>"
    "<button type=\"button\" id=\"next\">next &rarr;</button></div>\n"
    "<div id=\"matches\"></div>\n"
    "<div class=\"pager\"><button type=\"button\" id=\"prev2\">&larr; previous</button><span id=\"pageinfo2\"></span>"
    "<button type=\"button\" id=\"next2\">next &rarr;</button></div>\n";

void report_page_head(FILE *f, const scan_report_opts *o, const char *scan_id)
{
    char hs[64], hc[64];
    csp_hash(review_js, hs);
    csp_hash(review_css, hc);
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
               /* no request of any kind may leave the page: images are data: URIs, script and style
                * inline and allowed by hash only (the JSON data block is not a script) */
               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
               "style-src 'sha256-%s'; script-src 'sha256-%s'; base-uri 'none'; form-action 'none'\">\n"
               "<meta name=\"referrer\" content=\"no-referrer\">\n<title>vigil scan review</title>\n<style>%s</style></head><body>\n",
            hc, hs, review_css);
    fputs(page_body, f);
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
    fputs("<script type=\"application/json\" id=\"vigil-data\">{\"scan_id\":", f);
    json_str_safe(f, scan_id);
    fprintf(f, ",\"vigil\":\"%s\",\"created\":\"%s\",\"files\":%llu,\"matched\":%llu,\"failed\":%llu,\"thumb_budget_mb\":%d,\"sets\":[",
            vigil_version(), when, o->files, o->matched, o->failed, o->thumbs_max);
    for (int s = 0; s < o->nsets; s++) {
        fputs(s ? ",{\"name\":" : "{\"name\":", f);
        json_str_safe(f, o->sets[s].name);
        fputs(",\"index\":", f);
        json_str_safe(f, o->sets[s].path);
        fprintf(f, ",\"rooms\":%s,\"%s\":%d}", o->sets[s].rooms ? "true" : "false", o->sets[s].rooms ? "min_inliers" : "radius",
                o->sets[s].radius);
    }
    fputs("],\"records\":[", f);
}

void report_page_mid(FILE *f, int thumbs) { fprintf(f, "\n],\"thumbs\":%s}</script>\n", thumbs ? "true" : "false"); }

void report_page_tail(FILE *f) { fputs("</body></html>\n", f); }

int report_page_write(FILE *f, scan_journal *j, const scan_report_opts *o, const char *scan_id, report_page_stats *st)
{
    memset(st, 0, sizeof *st);
    report_page_head(f, o, scan_id);
    pagepass p;
    memset(&p, 0, sizeof p);
    p.f = f;
    p.st = st;
    p.have_thumbs = o->thumbs_max > 0 && !thumbs_open_read(&p.th, o->dir);
    int rc = journal_each(j, on_record, &p);
    report_page_mid(f, p.have_thumbs);
    if (!rc && p.have_thumbs && p.n) {
        p.entries = 0;
        rc = journal_each(j, on_record_thumb, &p);
    }
    if (!p.script_out) page_script(&p);
    report_page_tail(f);
    if (p.have_thumbs) thumbs_close(&p.th);
    free(p.tab);
    return rc || p.oom ? -1 : 0;
}
