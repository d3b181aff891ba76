/* scan_page.c - report.html's data and thumbnails made per part of a range merge (scan_merge.c),
 * so that rank 0 only joins the parts with the kernel's copies and writes the page's head and
 * tail, instead of reading the whole joined journal again.
 *
 * The page names each matched record by its line in results.jsonl and points it at the entry
 * whose thumbnail it shows: the first matched record of its content, when that content's
 * thumbnail is kept (within the --thumbs budget, taken in walk order, as one process does). Within
 * a part both are local counts plus the parts' before (line_base, entry_base); a content whose
 * first copy lies in an earlier part (its first record here is "duplicate") gets the entry from
 * the rank that owns the content (scan_merge.c routes the question). The budget is a chain: each
 * part takes it from the one before, decides its own thumbnails in order, and passes it on.
 * Memory per rank: 16 bytes a matched record of its part, 48 bytes a content of them (at most
 * load 0.5 in the index: +8), the inputs' thumbnail indexes (64 bytes a thumbnail). */
#include "scan_page.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t key_hash(const uint8_t key[16])
{
    uint64_t h;
    memcpy(&h, key, 8);
    return h;
}

static uint32_t *slot_find(page_part *pp, const uint8_t key[16])
{
    for (size_t i = (size_t)key_hash(key) & (pp->icap - 1);; i = (i + 1) & (pp->icap - 1))
        if (!pp->idx[i] || !memcmp(pp->s[pp->idx[i] - 1].key, key, 16)) return &pp->idx[i];
}

static page_slot *slot_get(page_part *pp, const uint8_t key[16])
{
    if (!pp->icap) return NULL;
    uint32_t *x = slot_find(pp, key);
    return *x ? &pp->s[*x - 1] : NULL;
}

static int slot_add(page_part *pp, const uint8_t key[16], uint64_t entry, int in, int ext)
{
    if (pp->sn == pp->scap) {
        size_t c = pp->scap ? pp->scap * 2 : 256;
        page_slot *q = realloc(pp->s, c * sizeof *q);
        if (!q) return -1;
        pp->s = q;
        pp->scap = c;
    }
    if (2 * (pp->sn + 1) > pp->icap) {
        size_t c = pp->icap ? pp->icap * 2 : 512;
        uint32_t *old = pp->idx;
        if (!(pp->idx = calloc(c, sizeof *pp->idx))) { pp->idx = old; return -1; }
        free(old);
        pp->icap = c;
        for (size_t i = 0; i < pp->sn; i++) *slot_find(pp, pp->s[i].key) = (uint32_t)i + 1;
    }
    page_slot *s = &pp->s[pp->sn];
    memset(s, 0, sizeof *s);
    memcpy(s->key, key, 16);
    s->entry = entry;
    s->in = in;
    s->ext = (uint8_t)ext;
    *slot_find(pp, key) = (uint32_t)++pp->sn;
    return 0;
}

int page_part_note(page_part *pp, const jfix *fx, int in, uint64_t at)
{
    uint64_t line = pp->records++;
    if (!fx->nmatches) return 0;
    if (pp->n == pp->cap) {
        size_t c = pp->cap ? pp->cap * 2 : 1024;
        uint64_t *a = realloc(pp->off, c * sizeof *a);
        if (!a) return -1;
        pp->off = a;
        uint64_t *b = realloc(pp->line, c * sizeof *b);
        if (!b) return -1;
        pp->line = b;
        pp->cap = c;
    }
    uint64_t entry = pp->n;
    pp->off[pp->n] = at;
    pp->line[pp->n++] = line;
    /* the first record of a content in this part is "duplicate" only when an earlier part has
     * the content's first copy (the merge made it so) */
    if ((fx->flags & J_DIGESTS) && !slot_get(pp, fx->xxh128)) return slot_add(pp, fx->xxh128, entry, in, (fx->flags & J_DEDUP) != 0);
    return 0;
}

static scan_thumbs *input_thumbs(scan_journal *in, int i, scan_thumbs *th, signed char *open)
{
    if (!open[i]) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s", in[i].path);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0; else snprintf(dir, sizeof dir, ".");
        open[i] = thumbs_open_index(&th[i], dir) ? -1 : 1;
    }
    return open[i] > 0 ? &th[i] : NULL;
}

void page_part_find(page_part *pp, scan_journal *in, int nin, scan_thumbs *th, signed char *open)
{
    for (size_t k = 0; k < pp->sn; k++) {
        page_slot *s = &pp->s[k];
        if (s->ext) continue;
        /* the rank that decoded it most likely holds its thumbnail; any input's is the same image */
        int first = s->in;
        s->in = -1;
        for (int t = -1; t < nin && s->in < 0; t++) {
            int i = t < 0 ? first : t;
            if (i < 0 || i >= nin || (t >= 0 && i == first)) continue;
            scan_thumbs *x = input_thumbs(in, i, th, open);
            uint32_t n = x ? thumbs_len(x, s->key) : 0;
            if (n) { s->len = n; s->in = i; }
        }
    }
}

void page_part_budget(page_part *pp, uint64_t *used, uint64_t budget)
{
    for (size_t k = 0; k < pp->sn; k++) {
        page_slot *s = &pp->s[k];
        if (s->ext || !s->len || *used + s->len > budget) continue; /* as thumbs_put: past it, the next may still fit */
        s->kept = 1;
        *used += s->len;
    }
}

int page_part_write(page_part *pp, scan_journal *j, const char *dir, int thumbs, scan_thumbs *th, char *why, size_t whylen)
{
    char path[4400], tpath[4400];
    snprintf(path, sizeof path, "%s/page-records", dir);
    snprintf(tpath, sizeof tpath, "%s/page-thumbs", dir);
    FILE *f = fopen(path, "we"), *tf = fopen(tpath, "we");
    scan_thumbs out;
    int rc = -1, tout = 0;
    if (!f || !tf) { snprintf(why, whylen, "%s: cannot create: %s", !f ? path : tpath, strerror(errno)); goto done; }
    if (thumbs) {
        if (thumbs_open(&out, dir, 1, UINT64_MAX, why, whylen)) goto done;
        tout = 1;
    }
    for (size_t i = 0; i < pp->n; i++) {
        jrecord r;
        if (journal_read(j, pp->off[i], &r)) { snprintf(why, whylen, "%s: cannot read back a record it wrote", j->path); goto done; }
        uint64_t ref = 0;
        page_slot *s = thumbs && (r.fix.flags & J_DIGESTS) ? slot_get(pp, r.fix.xxh128) : NULL;
        if (s) ref = s->ext ? s->ref : s->kept ? pp->entry_base + s->entry + 1 : 0;
        report_page_entry(f, pp->entry_base + i ? "," : "", pp->line_base + pp->line[i], ref, &r);
        free(r.buf);
    }
    /* the kept thumbnails in entry order: the part's blocks and its share of OUTDIR/thumbs.vgt */
    for (size_t k = 0; k < pp->sn && thumbs; k++) {
        page_slot *s = &pp->s[k];
        if (!s->kept) continue;
        size_t n;
        uint8_t *img = thumbs_get_checked(&th[s->in], s->key, &n);
        if (!img) continue; /* unreadable now: the card says it has no thumbnail */
        int put = thumbs_put(&out, s->key, img, n);
        if (put >= 0) report_page_thumb(tf, pp->entry_base + s->entry, img, n);
        free(img);
        if (put < 0) { snprintf(why, whylen, "%s: writing failed: %s", out.path, strerror(errno)); goto done; }
        if (pp->blocks < REPORT_PAGE_PRE_THUMBS) pp->ends[pp->blocks] = (uint64_t)ftell(tf);
        pp->blocks++;
    }
    rc = 0;
done:
    if (tout) thumbs_close(&out);
    if (f && fclose(f) && !rc) { snprintf(why, whylen, "%s: writing failed", path); rc = -1; }
    if (tf && fclose(tf) && !rc) { snprintf(why, whylen, "%s: writing failed", tpath); rc = -1; }
    return rc;
}

void page_part_free(page_part *pp)
{
    free(pp->off);
    free(pp->line);
    free(pp->s);
    free(pp->idx);
    memset(pp, 0, sizeof *pp);
}
