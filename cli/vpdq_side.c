/* vpdq_side.c - one side of a video comparison: a video (hashed here) or a vPDQ file. */
#include "vpdq_side.h"
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_is_video(const char *path)
{
    uint64_t size;
    int fd = cli_open_regular(path, 0, &size, NULL, 0);
    if (fd < 0) return 0;
    unsigned char head[512];
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    return n > 0 && vigil_video_sniff(head, (size_t)n);
}

typedef struct grow {
    vigil_vpdq_frame *f;
    size_t n, cap;
    int nomem;
} grow;

static int add_frame(const vigil_video_frame *vf, void *ctx)
{
    grow *g = ctx;
    if (g->n == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 256;
        vigil_vpdq_frame *p = realloc(g->f, nc * sizeof *p);
        if (!p) { g->nomem = 1; return 1; }
        g->f = p;
        g->cap = nc;
    }
    vigil_vpdq_frame *o = &g->f[g->n++];
    o->pdq = vf->pdq;
    o->quality = vf->quality;
    o->frame_number = vf->frame_number;
    o->timestamp = vf->timestamp;
    return 0;
}

typedef struct pctx {
    const char *path;
    cli_vpdq_side *s;
    int nomem;
} pctx;

static int add_video(const char *name, const vigil_vpdq_frame *f, size_t n, void *ctx)
{
    pctx *p = ctx;
    cli_vpdq_video *nv = realloc(p->s->v, (p->s->n + 1) * sizeof *nv);
    if (!nv) { p->nomem = 1; return 1; }
    p->s->v = nv;
    cli_vpdq_video *v = &nv[p->s->n];
    size_t len = strlen(p->path) + (name ? strlen(name) + 1 : 0) + 1;
    v->name = malloc(len);
    v->f = malloc((n ? n : 1) * sizeof *v->f);
    if (!v->name || !v->f) { free(v->name); free(v->f); p->nomem = 1; return 1; }
    if (name) snprintf(v->name, len, "%s#%s", p->path, name);
    else snprintf(v->name, len, "%s", p->path);
    if (n) memcpy(v->f, f, n * sizeof *f);
    v->n = n;
    p->s->n++;
    return 0;
}

int cli_vpdq_load(const char *path, const vigil_video_options *opt, cli_vpdq_side *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (strcmp(path, "-") && cli_is_video(path)) {
        grow g = {0};
        vigil_error err;
        vigil_video_info info;
        vigil_result r = vigil_video_hash_file(path, opt, add_frame, &g, &info, &err);
        if (g.nomem) { free(g.f); snprintf(why, whylen, "out of memory"); return -1; }
        if (r) {
            if (!g.n) { free(g.f); snprintf(why, whylen, "%s", err.message); return -1; }
            cli_warn("%s: %s; the %zu frames hashed before it are used", path, err.message, g.n);
        }
        out->v = calloc(1, sizeof *out->v);
        if (!out->v) { free(g.f); snprintf(why, whylen, "out of memory"); return -1; }
        out->v[0].name = strdup(path);
        out->v[0].f = g.f;
        out->v[0].n = g.n;
        out->n = 1;
        if (!out->v[0].name) { cli_vpdq_side_free(out); snprintf(why, whylen, "out of memory"); return -1; }
        return 0;
    }
    size_t n;
    char *text = cli_read_all(path, cli_list_max(), CLI_LIST_RAISE, &n, why, whylen);
    if (!text) return -1;
    pctx p = {path, out, 0};
    vigil_error err;
    vigil_result r = vigil_vpdq_parse(text, n, add_video, &p, &err);
    free(text);
    if (r || p.nomem) {
        snprintf(why, whylen, "%s", p.nomem ? "out of memory" : err.message);
        cli_vpdq_side_free(out);
        return -1;
    }
    if (!out->n) { snprintf(why, whylen, "neither a video nor a vPDQ file with frames"); return -1; }
    return 0;
}

void cli_vpdq_side_free(cli_vpdq_side *s)
{
    for (size_t i = 0; i < s->n; i++) { free(s->v[i].name); free(s->v[i].f); }
    free(s->v);
    memset(s, 0, sizeof *s);
}

int cli_is_vpdq(const char *path)
{
    uint64_t size;
    int fd = cli_open_regular(path, 0, &size, NULL, 0);
    if (fd < 0) return 0;
    char b[4096];
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    if (n <= 0) return 0;
    b[n] = 0;
    char *s = b;
    if (s[0] == '#') { s = strchr(s, '\n'); if (!s) return 0; s++; }
    char *nl = strchr(s, '\n');
    size_t len = nl ? (size_t)(nl - s) : strlen(s);
    if (len && s[len - 1] == '\r') len--;
    vigil_error err;
    return len > 0 && vigil_vpdq_parse(s, len, NULL, NULL, &err) == VIGIL_OK;
}

static int cmp_frame_hash(const void *a, const void *b)
{
    return memcmp(&((const vigil_vpdq_frame *)a)->pdq, &((const vigil_vpdq_frame *)b)->pdq, sizeof(vigil_pdq));
}
static int cmp_frame_number(const void *a, const void *b)
{
    const vigil_vpdq_frame *x = a, *y = b;
    return x->frame_number < y->frame_number ? -1 : x->frame_number > y->frame_number;
}

/* python-threatexchange's filter: quality >= qmin, then each hash once (the first in frame order). */
static size_t keep_frames(vigil_vpdq_frame *f, size_t n, int qmin)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (f[i].quality >= qmin) f[k++] = f[i];
    qsort(f, k, sizeof *f, cmp_frame_hash); /* not stable: ties broken by frame number below */
    size_t u = 0;
    for (size_t i = 0; i < k;) {
        size_t e = i, best = i;
        while (e < k && !memcmp(&f[e].pdq, &f[i].pdq, sizeof f[i].pdq)) {
            if (f[e].frame_number < f[best].frame_number) best = e;
            e++;
        }
        f[u++] = f[best];
        i = e;
    }
    qsort(f, u, sizeof *f, cmp_frame_number);
    return u;
}

int cli_index_add_videos(vigil_index *idx, const char *path, int min_quality, unsigned long long *added,
                         unsigned long long *low)
{
    vigil_video_options vo;
    vigil_video_options_init(&vo);
    cli_vpdq_side s;
    char why[4200];
    if (cli_vpdq_load(path, &vo, &s, why, sizeof why)) { cli_warn("%s: %s", path, why); return -1; }
    int rc = 0;
    for (size_t v = 0; v < s.n && !rc; v++) {
        size_t lowq = 0;
        for (size_t i = 0; i < s.v[v].n; i++) lowq += s.v[v].f[i].quality < min_quality;
        *low += lowq; /* repeated hashes of one video are one entry, not counted as left out */
        size_t n = keep_frames(s.v[v].f, s.v[v].n, min_quality);
        for (size_t i = 0; i < n; i++) {
            char labels[96];
            snprintf(labels, sizeof labels, "video_frames=%zu frame=%llu t=%.3f", n,
                     (unsigned long long)s.v[v].f[i].frame_number, s.v[v].f[i].timestamp);
            vigil_error err;
            if (vigil_index_add(idx, &s.v[v].f[i].pdq, s.v[v].f[i].quality, s.v[v].name, labels, &err)) {
                cli_warn("%s: %s", s.v[v].name, err.message);
                rc = -1;
                break;
            }
            (*added)++;
        }
    }
    cli_vpdq_side_free(&s);
    return rc;
}

/* The video_frames=N label of an entry, 0 when it has none (not a video frame). */
static size_t video_frames(const char *labels)
{
    const char *p = labels ? strstr(labels, "video_frames=") : NULL;
    if (!p || (p != labels && p[-1] != ' ')) return 0;
    return (size_t)strtoull(p + 13, NULL, 10);
}

typedef struct vhit {
    const char *id;
    size_t frames;       /* the target's kept frames */
    uint64_t *entries;   /* distinct entries matched */
    size_t ne, cap;
    size_t qhits;        /* query frames with a partner in this video */
    uint32_t last_q;     /* the last query frame counted, +1 */
    double first_ts;
    int best;
} vhit;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int cli_video_search(const vigil_index *idx, const vigil_vpdq_frame *q, size_t nq, const vigil_vpdq_match_options *mo,
                     cli_video_hit **hits, size_t *nhits, char *why, size_t whylen)
{
    *hits = NULL;
    *nhits = 0;
    vigil_vpdq_frame *f = malloc((nq ? nq : 1) * sizeof *f);
    if (!f) { snprintf(why, whylen, "out of memory"); return -1; }
    if (nq) memcpy(f, q, nq * sizeof *f);
    size_t n = keep_frames(f, nq, mo->quality_min);
    if (n > 65535) n = 65535; /* the search's query count; a longer query keeps its first 65535 */
    vigil_pdq *h = malloc((n ? n : 1) * sizeof *h);
    if (!h) { free(f); snprintf(why, whylen, "out of memory"); return -1; }
    for (size_t i = 0; i < n; i++) h[i] = f[i].pdq;
    vigil_index_search_options so;
    vigil_index_search_options_init(&so);
    so.radius = mo->distance_max;
    vigil_index_match *m = NULL;
    size_t nm = 0;
    vigil_error err;
    int rc = 0;
    vhit *v = NULL;
    size_t nv = 0;
    if (n && vigil_index_search(idx, h, n, 1, &so, &m, &nm, &err)) { snprintf(why, whylen, "%s", err.message); rc = -1; goto out; }
    /* Matches come by query, then distance: one pass, videos found by id in a small table (the
     * videos a query matches are few; a linear look-up over them is fine). */
    for (size_t k = 0; k < nm; k++) {
        const char *id, *labels;
        if (vigil_index_entry(idx, m[k].entry, NULL, NULL, &id, &labels)) continue;
        size_t frames = video_frames(labels);
        if (!frames || !id) continue; /* an image entry: not part of a video comparison */
        size_t j = 0;
        while (j < nv && strcmp(v[j].id, id)) j++;
        if (j == nv) {
            vhit *nvp = realloc(v, (nv + 1) * sizeof *v);
            if (!nvp) { snprintf(why, whylen, "out of memory"); rc = -1; goto out; }
            v = nvp;
            memset(&v[nv], 0, sizeof v[nv]);
            v[nv].id = id;
            v[nv].frames = frames;
            v[nv].best = 257;
            v[nv].first_ts = -1;
            nv++;
        }
        vhit *x = &v[j];
        if (x->last_q != m[k].query + 1) {
            x->qhits++;
            x->last_q = m[k].query + 1;
            if (x->first_ts < 0 || f[m[k].query].timestamp < x->first_ts) x->first_ts = f[m[k].query].timestamp;
        }
        if (m[k].distance < x->best) x->best = m[k].distance;
        if (x->ne == x->cap) {
            size_t nc = x->cap ? 2 * x->cap : 16;
            uint64_t *e = realloc(x->entries, nc * sizeof *e);
            if (!e) { snprintf(why, whylen, "out of memory"); rc = -1; goto out; }
            x->entries = e;
            x->cap = nc;
        }
        x->entries[x->ne++] = m[k].entry;
    }
    if (nv) {
        *hits = calloc(nv, sizeof **hits);
        if (!*hits) { snprintf(why, whylen, "out of memory"); rc = -1; goto out; }
    }
    for (size_t j = 0; j < nv; j++) {
        qsort(v[j].entries, v[j].ne, sizeof *v[j].entries, cmp_u64);
        size_t u = 0;
        for (size_t i = 0; i < v[j].ne; i++)
            if (!i || v[j].entries[i] != v[j].entries[i - 1]) u++;
        cli_video_hit *o = &(*hits)[j];
        o->id = v[j].id;
        o->query_pct = 100.0 * (double)v[j].qhits / (double)n;
        o->target_pct = 100.0 * (double)(u > v[j].frames ? v[j].frames : u) / (double)v[j].frames;
        o->verdict = o->query_pct >= mo->query_pct_min && o->target_pct >= mo->target_pct_min;
        o->first_ts = v[j].first_ts;
        o->best_distance = v[j].best;
        o->entry = v[j].entries[0];
    }
    *nhits = nv;
out:
    for (size_t j = 0; j < nv; j++) free(v[j].entries);
    free(v);
    vigil_free(m);
    free(h);
    free(f);
    return rc;
}
