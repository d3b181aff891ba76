/* scan_video.c - a video in `vigil scan`: hashed at 1 s, its frames matched against image sets
 * and video sets. See scan_video.h and docs/video.md. */
#include "scan_video.h"
#include "vpdq_side.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TIMESTAMPS 16 /* per match, besides the first: "timestamps" lists at most this many */
#define QUERY_CHUNK 8192  /* frames per index search (a search takes at most 65535 queries) */

typedef struct vextra {
    int32_t set;
    uint8_t kind;
    uint64_t entry;
    double qpct, tpct;
    uint32_t nts;
    double ts[MAX_TIMESTAMPS];
} vextra;

struct scan_video {
    vigil_video_info info;
    vigil_vpdq_frame *f;
    vigil_pdq *dih;      /* 8 per frame with dihedral */
    size_t n, cap;
    int dihedral, nomem;
    vextra *x;
    size_t nx, xcap;
    int matched_frame;   /* the frame whose PDQ the record carries, -1 none */
};

int scan_video_is(const char *path)
{
    return cli_is_video(path);
}

static int on_frame(const vigil_video_frame *vf, void *p)
{
    scan_video *v = p;
    if (v->n == v->cap) {
        size_t nc = v->cap ? 2 * v->cap : 64;
        vigil_vpdq_frame *f = realloc(v->f, nc * sizeof *f);
        if (f) v->f = f;
        vigil_pdq *d = v->dihedral ? realloc(v->dih, nc * 8 * sizeof *d) : NULL;
        if (d) v->dih = d;
        if (!f || (v->dihedral && !d)) { v->nomem = 1; return 1; }
        v->cap = nc;
    }
    v->f[v->n] = (vigil_vpdq_frame){vf->pdq, vf->quality, vf->frame_number, vf->timestamp};
    if (v->dihedral) memcpy(v->dih + 8 * v->n, vf->dihedral, 8 * sizeof *v->dih);
    v->n++;
    return 0;
}

/* From the file at path, or from data[0..size) when path is NULL. */
static scan_video *hash_video(const char *path, const void *data, size_t size, int dihedral, vigil_result *rc,
                              vigil_error *err)
{
    scan_video *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->dihedral = dihedral;
    v->matched_frame = -1;
    vigil_video_options o;
    vigil_video_options_init(&o);
    if (dihedral) o.flags |= VIGIL_VIDEO_DIHEDRAL;
    *rc = path ? vigil_video_hash_file(path, &o, on_frame, v, &v->info, err)
               : vigil_video_hash_memory(data, size, &o, on_frame, v, &v->info, err);
    if (v->nomem) { scan_video_free(v); return NULL; }
    return v;
}

scan_video *scan_video_hash(const char *path, int dihedral, vigil_result *rc, vigil_error *err)
{
    return hash_video(path, NULL, 0, dihedral, rc, err);
}

scan_video *scan_video_hash_memory(const void *data, size_t size, int dihedral, vigil_result *rc, vigil_error *err)
{
    return hash_video(NULL, data, size, dihedral, rc, err);
}

void scan_video_free(scan_video *v)
{
    if (!v) return;
    free(v->f);
    free(v->dih);
    free(v->x);
    free(v);
}

static vextra *extra(scan_video *v, int set, int kind, uint64_t entry, int create)
{
    for (size_t i = 0; i < v->nx; i++)
        if (v->x[i].set == set && v->x[i].kind == kind && v->x[i].entry == entry) return &v->x[i];
    if (!create) return NULL;
    if (v->nx == v->xcap) {
        size_t nc = v->xcap ? 2 * v->xcap : 16;
        vextra *x = realloc(v->x, nc * sizeof *x);
        if (!x) return NULL;
        v->x = x;
        v->xcap = nc;
    }
    vextra *e = &v->x[v->nx++];
    memset(e, 0, sizeof *e);
    e->set = set;
    e->kind = (uint8_t)kind;
    e->entry = entry;
    return e;
}

static int push(jmatch **m, size_t *nm, size_t *cap, jmatch x)
{
    if (*nm == *cap) {
        size_t nc = *cap ? 2 * *cap : 8;
        jmatch *p = realloc(*m, nc * sizeof *p);
        if (!p) return -1;
        *m = p;
        *cap = nc;
    }
    (*m)[(*nm)++] = x;
    return 0;
}

/* The frames of a set's image entries: each entry once, at its nearest distance, with the
 * timestamps of the frames that matched it (in frame order). */
static int match_images(scan_video *v, const scan_set *set, int k, int min_quality, int dihedral, int threads,
                        jmatch **m, size_t *nm, size_t *cap, uint64_t *total, char *why, size_t whylen)
{
    const int variants = dihedral && v->dih ? 8 : 1;
    size_t first = *nm; /* this set's image matches start here */
    vigil_pdq *q = malloc((size_t)QUERY_CHUNK * variants * sizeof *q);
    uint32_t *who = malloc(QUERY_CHUNK * sizeof *who);
    if (!q || !who) { free(q); free(who); snprintf(why, whylen, "out of memory"); return -1; }
    int rc = 0;
    for (size_t at = 0; at < v->n && !rc;) {
        size_t nq = 0;
        for (; at < v->n && nq < QUERY_CHUNK; at++) {
            if (v->f[at].quality < min_quality) continue;
            if (variants == 8) memcpy(q + nq * 8, v->dih + at * 8, 8 * sizeof *q);
            else q[nq] = v->f[at].pdq;
            who[nq++] = (uint32_t)at;
        }
        if (!nq) break;
        vigil_index_search_options so;
        vigil_index_search_options_init(&so);
        so.radius = set->radius;
        so.threads = threads;
        vigil_index_match *res = NULL;
        size_t nres = 0;
        vigil_error err;
        if (vigil_index_search(set->idx, q, nq, variants, &so, &res, &nres, &err)) {
            snprintf(why, whylen, "%s: %s", set->path, err.message);
            rc = -1;
            break;
        }
        for (size_t r = 0; r < nres && !rc; r++) {
            const char *id, *labels;
            if (vigil_index_entry(set->idx, res[r].entry, NULL, NULL, &id, &labels)) continue;
            if (labels && (strstr(labels, "video_frames=") == labels || strstr(labels, " video_frames="))) continue;
            const vigil_vpdq_frame *fr = &v->f[who[res[r].query]];
            size_t j = first;
            while (j < *nm && (*m)[j].entry != res[r].entry) j++;
            vextra *e = extra(v, k, MATCH_PDQ, res[r].entry, 1);
            if (!e) { rc = -1; snprintf(why, whylen, "out of memory"); break; }
            if (j == *nm) {
                jmatch x = {res[r].entry, k, (uint16_t)res[r].distance, (uint8_t)res[r].transform, MATCH_PDQ};
                if (push(m, nm, cap, x)) { rc = -1; snprintf(why, whylen, "out of memory"); break; }
                (*total)++;
                if (v->matched_frame < 0 || fr->frame_number < v->f[v->matched_frame].frame_number)
                    v->matched_frame = (int)who[res[r].query];
            } else if (res[r].distance < (*m)[j].distance) {
                (*m)[j].distance = (uint16_t)res[r].distance;
                (*m)[j].transform = (uint8_t)res[r].transform;
            }
            if (e->nts < MAX_TIMESTAMPS && (!e->nts || e->ts[e->nts - 1] != fr->timestamp)) e->ts[e->nts++] = fr->timestamp;
        }
        vigil_free(res);
    }
    free(q);
    free(who);
    return rc;
}

int scan_video_match(scan_video *v, const scan_set *sets, int nsets, int min_quality, int dihedral, int threads,
                     jmatch **m, size_t *nm, size_t *cap, uint64_t *total, char *why, size_t whylen)
{
    for (int k = 0; k < nsets; k++) {
        if (sets[k].rooms || !sets[k].idx) continue; /* room indexes take photos of rooms, not videos */
        if (match_images(v, &sets[k], k, min_quality, dihedral, threads, m, nm, cap, total, why, whylen)) return -1;
        vigil_vpdq_match_options mo;
        vigil_vpdq_match_options_init(&mo);
        mo.distance_max = sets[k].radius;
        mo.quality_min = min_quality;
        cli_video_hit *h;
        size_t nh;
        if (cli_video_search(sets[k].idx, v->f, v->n, &mo, &h, &nh, why, whylen)) return -1;
        for (size_t i = 0; i < nh; i++) {
            if (h[i].query_pct < 80 && h[i].target_pct < 80) continue;
            uint64_t entry = h[i].entry; /* the known video is named by one of its entries */
            vextra *e = extra(v, k, MATCH_VIDEO, entry, 1);
            jmatch x = {entry, k, (uint16_t)h[i].best_distance, 0, MATCH_VIDEO};
            if (!e || push(m, nm, cap, x)) { free(h); snprintf(why, whylen, "out of memory"); return -1; }
            e->qpct = h[i].query_pct;
            e->tpct = h[i].target_pct;
            e->ts[0] = h[i].first_ts;
            e->nts = 1;
            (*total)++;
        }
        free(h);
    }
    return 0;
}

void scan_video_record_json(FILE *f, const scan_video *v)
{
    fprintf(f, "\"media\":\"video\",\"duration\":%.3f,\"frames\":%llu,\"fps\":%.3f,", v->info.duration,
            (unsigned long long)v->info.frames_decoded, v->info.fps);
    if (v->info.codec[0]) fprintf(f, "\"codec\":\"%s\",", v->info.codec);
    fprintf(f, "\"hashed_frames\":%zu,", v->n);
}

void scan_video_match_json(FILE *f, const scan_video *v, const jmatch *m)
{
    const vextra *e = extra((scan_video *)v, m->set, m->kind, m->entry, 0);
    if (!e || !e->nts) return;
    fprintf(f, ",\"timestamp\":%.3f", e->ts[0]);
    if (m->kind == MATCH_VIDEO) {
        fprintf(f, ",\"query_match_pct\":%.3f,\"target_match_pct\":%.3f", e->qpct, e->tpct);
        return;
    }
    if (e->nts > 1) {
        fputs(",\"timestamps\":[", f);
        for (uint32_t i = 0; i < e->nts; i++) fprintf(f, "%s%.3f", i ? "," : "", e->ts[i]);
        fputc(']', f);
    }
}

void scan_video_pdq(const scan_video *v, vigil_pdq *pdq, int *quality, uint32_t *w, uint32_t *h)
{
    *w = v->info.width;
    *h = v->info.height;
    int pick = v->matched_frame;
    for (size_t i = 0; pick < 0 && i < v->n; i++)
        if (v->f[i].quality > 0) pick = (int)i;
    if (pick < 0) { memset(pdq, 0, sizeof *pdq); *quality = -1; return; }
    *pdq = v->f[pick].pdq;
    *quality = v->f[pick].quality;
}

int scan_video_thumb(const char *path, const vigil_pdq *pdq, int max_side, uint8_t **png, size_t *n, char *why,
                     size_t whylen)
{
    vigil_error err;
    if (vigil_video_frame_png(path, pdq, max_side, png, n, &err)) { snprintf(why, whylen, "%s", err.message); return -1; }
    return 0;
}

int scan_video_thumb_memory(const void *data, size_t size, const vigil_pdq *pdq, int max_side, uint8_t **png, size_t *n,
                            char *why, size_t whylen)
{
    vigil_error err;
    if (vigil_video_frame_png_memory(data, size, pdq, max_side, png, n, &err)) {
        snprintf(why, whylen, "%s", err.message);
        return -1;
    }
    return 0;
}
