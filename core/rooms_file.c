/* rooms_file.c - the room index's file (.vgr): sections.c's container with META, IMAGES, STRINGS,
 * DESC, XY, SHAPE, OFFSETS, IDS. Opening checks every count and offset the search relies on, so
 * that a damaged or crafted file is refused rather than read out of bounds. */
#include "rooms_impl.h"

#include <stdlib.h>
#include <string.h>

#define MAGIC "VIGILRMS"
#define VERSION 1
#define TABLES VIGIL__ROOM_TABLES
#define BUCKETS VIGIL__ROOM_BUCKETS

enum { S_META = 1, S_IMAGES, S_STRINGS, S_DESC, S_XY, S_OFFSETS, S_IDS, S_SHAPE, S_COUNT };

typedef struct rmeta { uint64_t nimages, nfeatures, strings_size; uint32_t tables, reserved; uint8_t pad[32]; } rmeta;

vigil_result vigil_rooms_save(vigil_rooms *r, const char *path, vigil_error *err)
{
    if (!r || !path) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    vigil_result e = vigil_rooms_prepare(r, err);
    if (e) return e;
    rmeta m = {r->nimg, r->nfeat, r->strings_size, TABLES, 0, {0}};
    vigil__part parts[] = {
        {S_META, &m, sizeof m},
        {S_IMAGES, r->img, r->nimg * sizeof *r->img},
        {S_STRINGS, r->strings, r->strings_size},
        {S_DESC, r->desc, r->nfeat * sizeof *r->desc},
        {S_XY, r->xy, r->nfeat * 8},
        {S_SHAPE, r->shape, r->nfeat * 2},
        {S_OFFSETS, r->offsets, TABLES * (BUCKETS + 1ull) * 4},
        {S_IDS, r->ids, TABLES * r->nfeat * 4},
    };
    return vigil__sections_write(path, MAGIC, VERSION, parts, (int)(sizeof parts / sizeof parts[0]), err);
}

/* After the first add the handle no longer holds the file's copy (rooms.c's own): no source then. */
vigil_source_state vigil_rooms_source_state(const vigil_rooms *r, vigil_error *why)
{
    return r ? vigil__source_state(&r->mp.src, why) : VIGIL_SOURCE_SAME;
}

vigil_result vigil_rooms_content_id(const vigil_rooms *r, char out[33])
{
    return r ? vigil__source_content_id(&r->mp.src, out) : VIGIL_E_INVALID;
}

/* Every section present and sized as META's counts say. */
static const char *check_sizes(const vigil__mapped *mp, rmeta *m)
{
    for (int t = 1; t < S_COUNT; t++)
        if (!mp->part[t]) return "a section is missing";
    if (mp->len[S_META] != sizeof *m) return "bad META section";
    memcpy(m, mp->part[S_META], sizeof *m);
    if (m->tables != TABLES || m->nimages >= UINT32_MAX || m->nfeatures >= UINT32_MAX ||
        mp->len[S_IMAGES] != m->nimages * sizeof(vigil__room_img) || mp->len[S_STRINGS] != m->strings_size ||
        m->strings_size == 0 || m->strings_size >= UINT32_MAX || mp->len[S_DESC] != m->nfeatures * 32 ||
        mp->len[S_XY] != m->nfeatures * 8 || mp->len[S_SHAPE] != m->nfeatures * 2 || mp->len[S_OFFSETS] != TABLES * (BUCKETS + 1ull) * 4 ||
        mp->len[S_IDS] != TABLES * m->nfeatures * 4)
        return "section sizes do not agree with the counts";
    return NULL;
}

/* The image records tile the features in order and name strings inside the table. */
static const char *check_images(const vigil_rooms *r)
{
    uint64_t next = 0;
    if (r->strings[r->strings_size - 1] != 0) return "strings not terminated";
    for (uint64_t i = 0; i < r->nimg; i++) {
        const vigil__room_img *c = &r->img[i];
        if (vigil__room_first(c) != next || c->n > 65535 || c->name >= r->strings_size || c->labels >= r->strings_size)
            return "an image record is out of range";
        next += c->n;
    }
    return next != r->nfeat ? "image records do not cover the features" : NULL;
}

vigil_result vigil_rooms_open(const char *path, vigil_rooms **out, vigil_error *err)
{
    return vigil_rooms_open_with(path, NULL, out, err);
}

vigil_result vigil_rooms_open_with(const char *path, const vigil_open_options *opt, vigil_rooms **out, vigil_error *err)
{
    if (!path || !out) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    *out = NULL;
    vigil_rooms *r = calloc(1, sizeof *r);
    if (!r) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    vigil_result e = vigil__sections_map(path, MAGIC, VERSION, "room index", S_COUNT, opt, &r->mp, err);
    if (e) { free(r); return e; }
    rmeta m;
    const char *why = check_sizes(&r->mp, &m);
    if (!why) {
        r->nimg = m.nimages;
        r->nfeat = m.nfeatures;
        r->strings_size = m.strings_size;
        r->img = (const vigil__room_img *)r->mp.part[S_IMAGES];
        r->strings = (const char *)r->mp.part[S_STRINGS];
        r->desc = (const vigil_pdq *)r->mp.part[S_DESC];
        r->xy = (const float *)r->mp.part[S_XY];
        r->shape = r->mp.part[S_SHAPE];
        r->offsets = (const uint32_t *)r->mp.part[S_OFFSETS];
        r->ids = (const uint32_t *)r->mp.part[S_IDS];
        why = check_images(r);
        if (!why) why = vigil__rooms_tables_check(r->offsets, r->ids, r->nfeat);
    }
    if (why) {
        vigil_rooms_free(r);
        return vigil__fail(err, VIGIL_E_CORRUPT, "%s", why);
    }
    if ((e = vigil__rooms_derive_owner(r, err))) { vigil_rooms_free(r); return e; }
    r->prepared = 1;
    *out = r;
    return VIGIL_OK;
}
