/* kfeat.c - known images by local features: the features of a hash index's reference images (the
 * optional FEATURES section of a .vgi), and finding a reframed copy of one.
 *
 * The features are the rooms' (features.c), kept in a room index in memory (rooms.c) so that the
 * candidate search, votes and verification are the rooms' own (rooms_query.c); what differs is
 * the model. A room is another view of a place (a homography, loose); a known image is the same
 * photograph cropped, scaled, turned a little or framed, so verification fits an affine map with a
 * tight tolerance (1 % of the reference's side), and unrelated photos, which a homography can bend
 * to fit, find few inliers (bench/results/kfeat.md). Mirrored copies: the query carries the
 * descriptors its mirror image would give (features.c, mirrored = 1) and each half is matched on
 * its own.
 *
 * References are numbered in the order added; a removed one keeps its number until the index is
 * saved (the section holds only live ones). The PDQ part knows nothing of them: compaction does
 * not renumber them. */
#include "index_impl.h"
#include "kfeat.h"
#include "kfeat_search.h"
#include "options.h"
#include "rooms_impl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define VERSION 3
#define HEADER 64
#define REF_BYTES 24
#define MAX_SIDE (1u << 20)

typedef struct kref { uint32_t id, labels, removed; } kref;

struct vigil__kfeat {
    vigil_rooms *r;          /* features, one "room" per reference; its names, labels and tables unused */
    vigil__kfs *search;      /* the lookup tables (kfeat_search.c), built by the first query after a change, or the file's */
    vigil__room_img *img;    /* r's records, when r points into a file's section (parse_view) */
    vigil__buf refs, str;    /* kref per reference; ids and labels (offset 0 = none) */
    uint64_t nlive;
    pthread_mutex_t lock;    /* the lazy build of search */
};

/* 256 shared equally by the 5 levels, not by their area: a photo at half size (a collage of four)
 * meets the reference's coarse levels, which then hold 51 features each instead of 14 to 40
 * (make eval, 40 photos: collages 62.5 -> 87.5 %, photos of a screen 77.5 -> 87.5 %, all edits
 * 94.0 -> 95.6 %; 7 levels found 92.5 % of the collages but lost the fine levels' crops:
 * bench/results/kfeat.md) */
void vigil_known_features_options_init(vigil_features_options *o)
{
    vigil_features_options_init(o);
    o->max_features = 256;
    o->even_levels = 1;
}

/* 1000, not the rooms' 500: a photo at half size in a collage, or turned 15 degrees, keeps enough
 * of them (make eval: collage 60 % found at 500, 85 % at 1000) */
void vigil_known_query_options_init(vigil_features_options *o)
{
    vigil_features_options_init(o);
    o->max_features = 1000;
    o->mirrored = 1;
}

void vigil_index_features_options_init(vigil_index_features_options *o)
{
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->min_inliers = 12;
    o->top_k = 5;
    o->query_mirrored = 1;
    o->tolerance = 0.01f;
}

static vigil_result take_options(const vigil_index_features_options *in, vigil_index_features_options *o, vigil_error *err)
{
    vigil_index_features_options_init(o);
    if (!in) return VIGIL_OK;
    vigil_result r = vigil__opt_check(in->struct_size, sizeof *o, "vigil_index_features_options", err);
    if (r) return r;
    VIGIL__OPT_TAKE(o, in, min_inliers);
    VIGIL__OPT_TAKE(o, in, top_k);
    VIGIL__OPT_TAKE(o, in, query_mirrored);
    VIGIL__OPT_TAKE(o, in, tolerance);
    VIGIL__OPT_LAST(vigil_index_features_options, tolerance);
    return VIGIL_OK;
}

static vigil_result kfeat_new(vigil__kfeat **out, vigil_error *err)
{
    vigil__kfeat *k = calloc(1, sizeof *k);
    if (!k) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    vigil_result r = vigil_rooms_new(&k->r, err);
    if (r || vigil__buf_put(&k->str, "", 1)) {
        vigil_rooms_free(k->r);
        free(k);
        return r ? r : vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    }
    pthread_mutex_init(&k->lock, NULL);
    *out = k;
    return VIGIL_OK;
}

void vigil__kfeat_free(vigil__kfeat *k)
{
    if (!k) return;
    vigil__kfs_free(k->search);
    vigil_rooms_free(k->r);
    free(k->img);
    free(k->refs.p);
    free(k->str.p);
    pthread_mutex_destroy(&k->lock);
    free(k);
}

static uint64_t nrefs(const vigil__kfeat *k) { return k ? k->refs.n / sizeof(kref) : 0; }
static const kref *ref_at(const vigil__kfeat *k, uint64_t i) { return (const kref *)k->refs.p + i; }

size_t vigil__kfeat_remove(vigil__kfeat *k, const char *id)
{
    size_t n = 0;
    for (uint64_t i = 0; i < nrefs(k) && id; i++) {
        kref *f = (kref *)k->refs.p + i;
        if (!f->removed && f->id && !strcmp(k->str.p ? (const char *)k->str.p + f->id : "", id)) {
            f->removed = 1;
            n++;
        }
    }
    if (k) k->nlive -= n;
    return n;
}

/* One reference into k: features to the room index, id and labels to the string table. */
static vigil_result add_ref(vigil__kfeat *k, const char *id, const char *labels, const vigil_features *f, vigil_error *err)
{
    size_t s0 = k->str.n;
    kref rec = {vigil__strtab_put(&k->str, id), vigil__strtab_put(&k->str, labels), 0};
    if (rec.id == UINT32_MAX || rec.labels == UINT32_MAX) { k->str.n = s0; return vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); }
    vigil_result r = vigil_rooms_add(k->r, "", "", f, err);
    if (r) { k->str.n = s0; return r; }
    vigil__kfs_free(k->search);
    k->search = NULL;
    if (vigil__buf_put(&k->refs, &rec, sizeof rec)) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    k->nlive++;
    return VIGIL_OK;
}

vigil_result vigil_index_add_features(vigil_index *x, const char *id, const char *labels, const vigil_features *f,
                                      vigil_error *err)
{
    if (!x || !f || (f->n && (!f->kp || !f->desc))) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    if (!f->width || !f->height || f->width > MAX_SIDE || f->height > MAX_SIDE)
        return vigil__fail(err, VIGIL_E_INVALID, "features of an image of %ux%u pixels", f->width, f->height);
    if (!x->kfeat) {
        vigil_result r = kfeat_new(&x->kfeat, err);
        if (r) return r;
    }
    return add_ref(x->kfeat, id, labels, f, err);
}

void vigil_index_get_features_stats(const vigil_index *x, vigil_index_features_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!x || !x->kfeat) return;
    vigil_rooms_stats rs;
    vigil_rooms_get_stats(x->kfeat->r, &rs);
    st->refs = x->kfeat->nlive;
    st->features = rs.features;
    /* descriptor, position, shape and record (the room index's), the lookup tables, ids, labels */
    st->bytes = rs.features * (32 + 8 + 2) + rs.images * sizeof(vigil__room_img) + vigil__kfs_bytes_for(rs.features) +
                x->kfeat->refs.n + x->kfeat->str.n;
}

vigil_result vigil_index_features_ref(const vigil_index *x, uint64_t i, const char **id, const char **labels)
{
    if (!x || !x->kfeat || i >= nrefs(x->kfeat) || ref_at(x->kfeat, i)->removed) return VIGIL_E_NOT_FOUND;
    const kref *f = ref_at(x->kfeat, i);
    const char *s = (const char *)x->kfeat->str.p;
    if (id) *id = f->id ? s + f->id : NULL;
    if (labels) *labels = f->labels ? s + f->labels : NULL;
    return VIGIL_OK;
}

/* ------------------------------------------------------------------------------------------------
 * The section. Version 3 (this build writes it): a 64-byte header (version, references, features,
 * string bytes, search-table bytes), the reference records (n, width, height, id, labels, 0: six
 * u32), the strings, then from the next multiple of 64 per feature its descriptor (32), position
 * (two float32) and shape (2), each array whole, in that order, and from the next multiple of 8 the
 * search tables (kfeat_search.c: 10 x (4 x 2^B + 4) bytes of directory, a 6-byte slot a feature a
 * table).
 * Opening uses all of it where it lies in the index's file bytes, after the checks a lookup relies
 * on (bench/results/kfeat.md: 100,000 references open in about a second, where rebuilding the
 * tables took 20 s). File bytes a reference: 24 + ids + 256 x (42 + 60) + 10 x 4 x 2^B / refs,
 * about 29.5 KB at 100,000 (B = 23), linear beyond 67 M features (B = 24 at most). Version 1 (no
 * tables, the arrays unaligned) and version 2 (the same bytes as 3 but each table's numbers and
 * check bits in two arrays) are still read: copied and their tables built in memory. */

#define VERSION1 1
#define VERSION2 2 /* the tables' numbers and check bits in two arrays: read as version 1 is */

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Offsets of the arrays in a section; *end is its size. */
typedef struct layout { uint64_t desc, xy, shape, tables, end; } layout;

static layout layout_of(int version, uint64_t live, uint64_t nf, uint64_t ns)
{
    layout l;
    l.desc = HEADER + live * REF_BYTES + ns;
    if (version != VERSION1) l.desc = (l.desc + 63) & ~63ull;
    l.xy = l.desc + nf * 32;
    l.shape = l.xy + nf * 8;
    l.tables = l.shape + nf * 2;
    if (version != VERSION1) l.tables = (l.tables + 7) & ~7ull;
    l.end = l.tables + (version != VERSION1 ? vigil__kfs_file_bytes(nf) : 0);
    return l;
}

vigil_result vigil__kfeat_serialise(const vigil__kfeat *k, uint8_t **blob, uint64_t *size, vigil_error *err)
{
    *blob = NULL;
    *size = 0;
    if (!k || !k->nlive) return VIGIL_OK;
    const vigil_rooms *r = k->r;
    vigil__buf str = {0};
    uint64_t live = 0, nf = 0;
    if (vigil__buf_put(&str, "", 1)) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    uint32_t *ids = malloc(2 * k->nlive * sizeof *ids + 1);
    if (!ids) { free(str.p); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); }
    for (uint64_t i = 0; i < nrefs(k); i++) {
        const kref *f = ref_at(k, i);
        if (f->removed) continue;
        ids[2 * live] = vigil__strtab_put(&str, f->id ? (const char *)k->str.p + f->id : NULL);
        ids[2 * live + 1] = vigil__strtab_put(&str, f->labels ? (const char *)k->str.p + f->labels : NULL);
        if (ids[2 * live] == UINT32_MAX || ids[2 * live + 1] == UINT32_MAX) { free(ids); free(str.p); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); }
        nf += r->img[i].n;
        live++;
    }
    layout l = layout_of(VERSION, live, nf, str.n);
    uint8_t *p = calloc(1, l.end);
    if (!p) { free(ids); free(str.p); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); }
    put32(p, VERSION);
    put64(p + 8, live);
    put64(p + 16, nf);
    put64(p + 24, str.n);
    put64(p + 32, l.end - l.tables);
    uint8_t *rec = p + HEADER, *s = rec + live * REF_BYTES, *d = p + l.desc, *xy = p + l.xy, *sh = p + l.shape;
    memcpy(s, str.p, str.n);
    uint64_t j = 0, at = 0;
    for (uint64_t i = 0; i < nrefs(k); i++) {
        if (ref_at(k, i)->removed) continue;
        const vigil__room_img *im = &r->img[i];
        uint64_t first = vigil__room_first(im);
        put32(rec + j * REF_BYTES, im->n);
        put32(rec + j * REF_BYTES + 4, im->width);
        put32(rec + j * REF_BYTES + 8, im->height);
        put32(rec + j * REF_BYTES + 12, ids[2 * j]);
        put32(rec + j * REF_BYTES + 16, ids[2 * j + 1]);
        memcpy(d + at * 32, r->desc + first, (size_t)im->n * 32);
        memcpy(xy + at * 8, r->xy + 2 * first, (size_t)im->n * 8);
        memcpy(sh + at * 2, r->shape + 2 * first, (size_t)im->n * 2);
        at += im->n;
        j++;
    }
    free(ids);
    free(str.p);
    /* the tables over the live features: those in memory when nothing was removed, else anew */
    if (k->search && k->nlive == nrefs(k) && vigil__kfs_nfeat(k->search) == nf) vigil__kfs_copy(k->search, p + l.tables);
    else vigil__kfs_fill((const vigil_pdq *)d, nf, p + l.tables);
    *blob = p;
    *size = l.end;
    return VIGIL_OK;
}

static vigil_result corrupt(vigil_error *err, const char *why)
{
    return vigil__fail(err, VIGIL_E_CORRUPT, "features section: %s", why);
}

/* Version 1: every reference copied into the room index, the tables built (20 s at 100,000). */
static vigil_result parse_copy(vigil__kfeat *k, const uint8_t *p, const layout *l, uint64_t live, vigil_error *err)
{
    const uint8_t *rec = p + HEADER, *s = rec + live * REF_BYTES, *d = p + l->desc, *xy = p + l->xy, *sh = p + l->shape;
    vigil_keypoint *kp = malloc(65536 * sizeof *kp);
    vigil_pdq *desc = malloc(65536 * sizeof *desc);
    if (!kp || !desc) { free(kp); free(desc); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); }
    uint64_t at = 0;
    vigil_result r = VIGIL_OK;
    for (uint64_t i = 0; i < live && !r; i++) {
        const uint8_t *q = rec + i * REF_BYTES;
        vigil_features f = {get32(q), kp, desc, get32(q + 4), get32(q + 8)};
        for (uint32_t j = 0; j < f.n; j++, at++) {
            float x, y;
            memcpy(&x, xy + 8 * at, 4);
            memcpy(&y, xy + 8 * at + 4, 4);
            /* the shape bytes back to the angle and scale they quantise: vigil_rooms_add gives back the same bytes */
            kp[j] = (vigil_keypoint){x, y, exp2f((sh[2 * at + 1] - 64) / 8.0f), sh[2 * at] * (6.2831853f / 256), 0};
            memcpy(&desc[j], d + 32 * at, 32);
        }
        const char *id = get32(q + 12) ? (const char *)s + get32(q + 12) : NULL;
        const char *labels = get32(q + 16) ? (const char *)s + get32(q + 16) : NULL;
        r = add_ref(k, id, labels, &f, err);
    }
    free(kp);
    free(desc);
    return r ? r : vigil__kfs_build(k->r, &k->search, err);
}

/* Version 3: the room index and the tables point into the section, which outlives k (it is the
 * index's file bytes); only the records and the strings are copied. */
static vigil_result parse_view(vigil__kfeat *k, const uint8_t *p, const layout *l, uint64_t live, uint64_t nf, uint64_t ns,
                               vigil_error *err)
{
    const char *why;
    vigil_result r = vigil__kfs_view(p + l->tables, l->end - l->tables, nf, &k->search, &why);
    if (r) return r == VIGIL_E_CORRUPT ? corrupt(err, why) : vigil__fail(err, r, "%s", why);
    const uint8_t *rec = p + HEADER, *s = rec + live * REF_BYTES;
    k->img = malloc((live ? live : 1) * sizeof *k->img);
    if (!k->img || vigil__buf_put(&k->refs, NULL, live * sizeof(kref))) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    k->str.n = 0;
    if (vigil__buf_put(&k->str, s, ns)) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    uint64_t first = 0;
    for (uint64_t i = 0; i < live; i++) {
        const uint8_t *q = rec + i * REF_BYTES;
        k->img[i] = (vigil__room_img){(uint32_t)first, (uint32_t)(first >> 32), get32(q), get32(q + 4), get32(q + 8), 0, 0, 0};
        ((kref *)k->refs.p)[i] = (kref){get32(q + 12), get32(q + 16), 0};
        first += get32(q);
    }
    vigil_rooms *rm = k->r;
    rm->img = k->img;
    rm->nimg = live;
    rm->nfeat = nf;
    rm->desc = (const vigil_pdq *)(p + l->desc);
    rm->xy = (const float *)(p + l->xy);
    rm->shape = p + l->shape;
    rm->strings = "";
    rm->strings_size = 1;
    rm->owned = 0; /* the first add copies (rooms.c) */
    k->nlive = live;
    return VIGIL_OK;
}

vigil_result vigil__kfeat_parse(const uint8_t *p, uint64_t size, vigil__kfeat **out, vigil_error *err)
{
    *out = NULL;
    if (size < HEADER) return corrupt(err, "shorter than its header");
    uint32_t version = get32(p);
    if (version != VERSION && version != VERSION1 && version != VERSION2)
        return vigil__fail(err, VIGIL_E_VERSION, "features section version %u (this build reads %d to %d)", version, VERSION1, VERSION);
    uint64_t live = get64(p + 8), nf = get64(p + 16), ns = get64(p + 24), tb = get64(p + 32);
    if (get32(p + 4)) return corrupt(err, "reserved bytes are not zero");
    for (int i = version == VERSION1 ? 32 : 40; i < HEADER; i++)
        if (p[i]) return corrupt(err, "reserved bytes are not zero");
    if (live >= UINT32_MAX || nf >= UINT32_MAX || ns >= UINT32_MAX || ns < 1)
        return corrupt(err, "size does not agree with its counts");
    layout l = layout_of((int)version, live, nf, ns);
    if (size != l.end || (version != VERSION1 && tb != l.end - l.tables))
        return corrupt(err, "size does not agree with its counts");
    const uint8_t *rec = p + HEADER, *s = rec + live * REF_BYTES, *xy = p + l.xy;
    if (s[0] || s[ns - 1]) return corrupt(err, "strings not terminated");
    /* every record in range, the counts adding up, every position a finite number */
    uint64_t sum = 0;
    for (uint64_t i = 0; i < live; i++) {
        const uint8_t *q = rec + i * REF_BYTES;
        uint32_t n = get32(q), w = get32(q + 4), h = get32(q + 8);
        if (n > 65535 || !w || !h || w > MAX_SIDE || h > MAX_SIDE || get32(q + 12) >= ns || get32(q + 16) >= ns || get32(q + 20))
            return corrupt(err, "a reference record is out of range");
        sum += n;
    }
    if (sum != nf) return corrupt(err, "reference feature counts do not add up");
    int bad = 0;
    for (uint64_t i = 0; i < 2 * nf; i++) {
        float v;
        memcpy(&v, xy + 4 * i, 4);
        bad |= !(v > -1e7f && v < 1e7f);
    }
    if (bad) return corrupt(err, "a feature position is not a number in range");
    vigil__kfeat *k;
    vigil_result r = kfeat_new(&k, err);
    if (r) return r;
    /* in place where the arrays are aligned as their types want (a file's bytes read into memory
     * are: sections start at multiples of 64) */
    if (version != VERSION || (uintptr_t)(p + l.desc) % 8) r = parse_copy(k, p, &l, live, err);
    else r = parse_view(k, p, &l, live, nf, ns, err);
    if (r) { vigil__kfeat_free(k); return r; }
    *out = k;
    return VIGIL_OK;
}

vigil_result vigil__kfeat_own(vigil__kfeat *k, vigil_error *err)
{
    if (!k || k->r->owned) return VIGIL_OK;
    vigil_result r = vigil__rooms_own(k->r, err);
    if (r) return r;
    if (vigil__kfs_borrowed(k->search)) { vigil__kfs_free(k->search); k->search = NULL; } /* rebuilt by the next query */
    return VIGIL_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Matching */

/* Bounding box of the rectangle [0,w] x [0,h] mapped by the affine m (row-major 3x3). */
static void map_box(const double m[9], double w, double h, double b[4])
{
    const double cx[4] = {0, w, 0, w}, cy[4] = {0, 0, h, h};
    b[0] = b[1] = 1e300;
    b[2] = b[3] = -1e300;
    for (int i = 0; i < 4; i++) {
        double u = m[0] * cx[i] + m[1] * cy[i] + m[2], v = m[3] * cx[i] + m[4] * cy[i] + m[5];
        if (u < b[0]) b[0] = u;
        if (v < b[1]) b[1] = v;
        if (u > b[2]) b[2] = u;
        if (v > b[3]) b[3] = v;
    }
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The transform of a match, from h (query pixels, mirrored when mirrored, -> reference pixels). */
static void describe_match(vigil_index_features_match *m, const float hf[9], int mirrored, uint32_t qw, uint32_t qh,
                           uint32_t rw, uint32_t rh)
{
    double h[9];
    for (int i = 0; i < 9; i++) h[i] = hf[i];
    /* the query image's own pixels: a mirrored match's points were x -> qw - 1 - x */
    if (mirrored) {
        h[2] += h[0] * (qw - 1.0);
        h[5] += h[3] * (qw - 1.0);
        h[0] = -h[0];
        h[3] = -h[3];
    }
    double det = h[0] * h[4] - h[1] * h[3];
    double inv[9] = {h[4] / det, -h[1] / det, 0, -h[3] / det, h[0] / det, 0, 0, 0, 1};
    inv[2] = -(inv[0] * h[2] + inv[1] * h[5]);
    inv[5] = -(inv[3] * h[2] + inv[4] * h[5]);
    double b[4];
    map_box(inv, rw, rh, b);
    m->box[0] = (float)clampd(b[0] / qw, 0, 1);
    m->box[1] = (float)clampd(b[1] / qh, 0, 1);
    m->box[2] = (float)clampd(b[2] / qw, 0, 1);
    m->box[3] = (float)clampd(b[3] / qh, 0, 1);
    map_box(h, qw, qh, b);
    double x0 = clampd(b[0], 0, rw), y0 = clampd(b[1], 0, rh), x1 = clampd(b[2], 0, rw), y1 = clampd(b[3], 0, rh);
    m->crop[0] = (float)x0;
    m->crop[1] = (float)y0;
    m->crop[2] = (float)(x1 - x0);
    m->crop[3] = (float)(y1 - y0);
    /* the proper map from the reference to the (mirrored) query, hf's inverse: its scale and turn */
    double a = hf[0], bb = hf[1], c = hf[3], dd = hf[4], dt = a * dd - bb * c;
    m->scale = (float)(dt > 0 ? 1 / sqrt(dt) : 0);
    double rot = -atan2(c - bb, a + dd) * (180 / 3.14159265358979);
    if (rot <= -180) rot += 360;
    m->rotation = (float)rot;
    m->mirrored = mirrored;
    memcpy(m->h, hf, sizeof m->h);
}

static int cmp_match(const void *a, const void *b)
{
    const vigil_index_features_match *p = a, *q = b;
    if (p->inliers != q->inliers) return p->inliers > q->inliers ? -1 : 1;
    if (p->mirrored != q->mirrored) return p->mirrored - q->mirrored;
    return p->ref < q->ref ? -1 : p->ref > q->ref;
}

#define MAX_TOP 30
/* Guided matching's descriptor distance: the rooms' 64 let a sunset collect 68 "inliers" in a
 * grand canyon; 48 keeps the same photograph's (make eval, 40 photos: the closest unrelated pair
 * 9 inliers at 48, 14 at 64, every edit found alike within 1 %: bench/results/kfeat.md) */
#define GUIDED_RADIUS 48

vigil_result vigil_index_match_features(const vigil_index *x, const vigil_features *q, const vigil_index_features_options *opt,
                                        vigil_index_features_match *out, size_t *nout, vigil_error *err)
{
    vigil_index_features_options def;
    vigil_result ro = take_options(opt, &def, err);
    if (ro) return ro;
    opt = &def;
    if (!x || !q || !nout || (q->n && (!q->kp || !q->desc)) || (opt->top_k && !out) || opt->top_k > MAX_TOP ||
        !(opt->tolerance > 0 && opt->tolerance < 1))
        return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    *nout = 0;
    vigil__kfeat *k = x->kfeat;
    if (!k || !k->nlive || !q->n || !opt->top_k || !q->width || !q->height) return VIGIL_OK;
    pthread_mutex_lock(&k->lock);
    vigil_result r = k->search ? VIGIL_OK : vigil__kfs_build(k->r, &k->search, err);
    pthread_mutex_unlock(&k->lock);
    if (r) return r;
    vigil__kfs_options ko = {opt->min_inliers, opt->tolerance, opt->query_mirrored, GUIDED_RADIUS};
    vigil__kfs_match km[2 * MAX_TOP];
    size_t nk = 0;
    if ((r = vigil__kfs_query(k->search, k->r, q, &ko, km, 2 * MAX_TOP, &nk, err))) return r;
    /* one result per reference, its better half (km is best first) */
    vigil_index_features_match all[2 * MAX_TOP];
    size_t n = 0;
    for (size_t i = 0; i < nk; i++) {
        uint64_t ref = km[i].img;
        if (ref_at(k, ref)->removed) continue;
        size_t j = 0;
        while (j < n && all[j].ref != ref) j++;
        if (j < n) continue;
        const vigil__room_img *im = &k->r->img[ref];
        all[n].ref = ref;
        all[n].inliers = km[i].inliers;
        describe_match(&all[n], km[i].h, km[i].mirrored, q->width, q->height, im->width, im->height);
        n++;
    }
    qsort(all, n, sizeof *all, cmp_match);
    if (n > opt->top_k) n = opt->top_k;
    memcpy(out, all, n * sizeof *all);
    *nout = n;
    return VIGIL_OK;
}
