/* rooms.c - the room index in memory: reference images' local features (features.c), added one
 * image at a time and prepared for search (its tables: rooms_tables.c). The file is rooms_file.c,
 * the search rooms_query.c with its geometry in geometry.c. */
#include "rooms_impl.h"

#include <stdlib.h>
#include <string.h>

#define TABLES VIGIL__ROOM_TABLES
#define BUCKETS VIGIL__ROOM_BUCKETS

static void point_at_buffers(vigil_rooms *r)
{
    r->img = (const vigil__room_img *)r->bimg.p;
    r->strings = (const char *)r->bstr.p;
    r->strings_size = r->bstr.n;
    r->desc = (const vigil_pdq *)r->bdesc.p;
    r->xy = (const float *)r->bxy.p;
    r->shape = r->bshape.p;
}

vigil_result vigil_rooms_new(vigil_rooms **out, vigil_error *err)
{
    if (!out) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    vigil_rooms *r = calloc(1, sizeof *r);
    if (!r || vigil__buf_put(&r->bstr, "", 1)) { free(r); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); }
    r->owned = 1;
    point_at_buffers(r);
    *out = r;
    return VIGIL_OK;
}

void vigil_rooms_free(vigil_rooms *r)
{
    if (!r) return;
    vigil__sections_unmap(&r->mp);
    free(r->owner);
    free(r->bimg.p); free(r->bstr.p); free(r->bdesc.p); free(r->bxy.p); free(r->bshape.p); free(r->boff.p); free(r->bids.p);
    free(r);
}

vigil_result vigil__rooms_derive_owner(vigil_rooms *r, vigil_error *err)
{
    free(r->owner);
    r->owner = malloc((r->nfeat ? r->nfeat : 1) * sizeof *r->owner);
    if (!r->owner) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    for (uint64_t i = 0; i < r->nimg; i++)
        for (uint32_t k = 0; k < r->img[i].n; k++) r->owner[vigil__room_first(&r->img[i]) + k] = (uint32_t)i;
    return VIGIL_OK;
}

/* The copy-on-first-add of an index read from a file */
static vigil_result own(vigil_rooms *r, vigil_error *err)
{
    if (r->owned) return VIGIL_OK;
    if (vigil__buf_put(&r->bimg, r->img, r->nimg * sizeof *r->img) || vigil__buf_put(&r->bstr, r->strings, r->strings_size) ||
        vigil__buf_put(&r->bdesc, r->desc, r->nfeat * sizeof *r->desc) || vigil__buf_put(&r->bxy, r->xy, r->nfeat * 8) ||
        vigil__buf_put(&r->bshape, r->shape, r->nfeat * 2)) {
        r->bimg.n = r->bstr.n = r->bdesc.n = r->bxy.n = r->bshape.n = 0; /* still mapped: try again later */
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    }
    vigil__sections_unmap(&r->mp);
    r->owned = 1;
    r->prepared = 0;
    point_at_buffers(r);
    return VIGIL_OK;
}

vigil_result vigil__rooms_own(vigil_rooms *r, vigil_error *err) { return own(r, err); }

vigil_result vigil_rooms_add(vigil_rooms *r, const char *name, const char *labels, const vigil_features *f, vigil_error *err)
{
    if (!r || !f || (f->n && (!f->kp || !f->desc))) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    if (f->n > 65535) return vigil__fail(err, VIGIL_E_INVALID, "more than 65535 features in one image");
    if (r->nfeat + f->n >= UINT32_MAX || r->nimg >= UINT32_MAX - 1)
        return vigil__fail(err, VIGIL_E_INVALID, "room index full (4 billion features)");
    vigil_result e = own(r, err);
    if (e) return e;
    vigil__room_img rec = {(uint32_t)r->nfeat, (uint32_t)(r->nfeat >> 32), f->n, f->width, f->height, 0, 0, 0};
    size_t n0 = r->bstr.n;
    rec.name = vigil__strtab_append(&r->bstr, name);
    rec.labels = vigil__strtab_append(&r->bstr, labels);
    int bad = rec.name == UINT32_MAX || rec.labels == UINT32_MAX;
    if (!bad && r->bstr.n >= UINT32_MAX) bad = 1;
    size_t d0 = r->bdesc.n, x0 = r->bxy.n, a0 = r->bshape.n;
    bad = bad || vigil__buf_put(&r->bdesc, f->desc, (size_t)f->n * sizeof *f->desc) || vigil__buf_put(&r->bxy, NULL, (size_t)f->n * 8) ||
          vigil__buf_put(&r->bshape, NULL, (size_t)f->n * 2);
    bad = bad || vigil__buf_put(&r->bimg, &rec, sizeof rec);
    if (bad) {
        r->bstr.n = n0; r->bdesc.n = d0; r->bxy.n = x0; r->bshape.n = a0;
        point_at_buffers(r);
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    }
    float *xy = (float *)(r->bxy.p + x0);
    for (uint32_t i = 0; i < f->n; i++) {
        xy[2 * i] = f->kp[i].x;
        xy[2 * i + 1] = f->kp[i].y;
        r->bshape.p[a0 + 2 * i] = vigil__room_angle_byte(f->kp[i].angle);
        r->bshape.p[a0 + 2 * i + 1] = vigil__room_scale_byte(f->kp[i].scale);
    }
    r->nimg++;
    r->nfeat += f->n;
    r->prepared = 0;
    point_at_buffers(r);
    return VIGIL_OK;
}

vigil_result vigil_rooms_prepare(vigil_rooms *r, vigil_error *err)
{
    if (!r) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    if (r->prepared) return VIGIL_OK;
    r->boff.n = r->bids.n = 0;
    if (vigil__buf_put(&r->boff, NULL, TABLES * (BUCKETS + 1ull) * 4) || vigil__buf_put(&r->bids, NULL, TABLES * r->nfeat * 4 + 4))
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    uint32_t *off = (uint32_t *)r->boff.p, *ids = (uint32_t *)r->bids.p;
    if (vigil__rooms_tables_build(r->desc, r->nfeat, off, ids)) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    r->offsets = off;
    r->ids = ids;
    vigil_result e = vigil__rooms_derive_owner(r, err);
    if (e) return e;
    r->prepared = 1;
    return VIGIL_OK;
}

void vigil_rooms_get_stats(const vigil_rooms *r, vigil_rooms_stats *s)
{
    memset(s, 0, sizeof *s);
    if (!r) return;
    s->images = r->nimg;
    s->features = r->nfeat;
    s->bytes = r->nimg * sizeof(vigil__room_img) + r->strings_size + r->nfeat * (32 + 8 + 2 + TABLES * 4 + 4) +
               TABLES * (BUCKETS + 1ull) * 4;
}

vigil_result vigil_rooms_image(const vigil_rooms *r, uint64_t i, const char **name, const char **labels, uint32_t *nfeatures)
{
    if (!r || i >= r->nimg) return VIGIL_E_NOT_FOUND;
    if (name) *name = r->strings + r->img[i].name;
    if (labels) *labels = r->strings + r->img[i].labels;
    if (nfeatures) *nfeatures = r->img[i].n;
    return VIGIL_OK;
}
