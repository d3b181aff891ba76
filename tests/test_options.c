/* test_options.c - option structs that can grow: struct_size rules, and a caller built against an
 * older (smaller) struct getting this build's defaults for the fields it lacks. */
#include "tests.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The fields an "old binary" had: everything before `field`. */
#define OLD_LAYOUT(type, field) offsetof(type, field)

static int said_init(const vigil_error *e, const char *type)
{
    char want[96];
    snprintf(want, sizeof want, "%s_init", type);
    return strstr(e->message, want) != NULL;
}

/* Uninitialised (struct_size 0), or bigger than this library knows: refused, naming the fix. */
void test_options_size_rules(void)
{
    const char *img = t_path(t_data_dir, "opencv-doc__box.png");
    vigil_hash_result hr;
    vigil_error e;
    vigil_hash_options ho;
    memset(&ho, 0, sizeof ho);
    CHECK(vigil_hash_file(img, &ho, &hr, &e) == VIGIL_E_INVALID && said_init(&e, "vigil_hash_options"), "%s", e.message);
    CHECK(hr.have == 0, "out is cleared on an option error");
    vigil_hash_options_init(&ho);
    CHECK(ho.struct_size == sizeof ho, "init sets struct_size");
    ho.struct_size = sizeof ho + 8;
    CHECK(vigil_hash_file(img, &ho, &hr, &e) == VIGIL_E_INVALID && strstr(e.message, "newer"), "%s", e.message);
    ho.struct_size = 3;
    CHECK(vigil_hash_memory("x", 1, &ho, &hr, &e) == VIGIL_E_INVALID, "struct_size under sizeof(size_t)");
    CHECK(vigil_hash_file(img, NULL, &hr, &e) == VIGIL_OK && (hr.have & VIGIL_HAVE_PDQ), "NULL options: defaults");

    vigil_index *idx = NULL;
    CHECK(vigil_index_new("opts", &idx, &e) == VIGIL_OK, "new");
    vigil_pdq h = {{1, 2, 3, 4}};
    CHECK(vigil_index_add(idx, &h, 100, "a", NULL, &e) == VIGIL_OK, "add");
    vigil_index_search_options so;
    memset(&so, 0, sizeof so);
    vigil_index_match *m = NULL;
    size_t nm = 0;
    CHECK(vigil_index_search(idx, &h, 1, 1, &so, &m, &nm, &e) == VIGIL_E_INVALID &&
          said_init(&e, "vigil_index_search_options"), "%s", e.message);
    vigil_index_search_options_init(&so);
    so.struct_size = sizeof so + 1;
    CHECK(vigil_index_search(idx, &h, 1, 1, &so, &m, &nm, &e) == VIGIL_E_INVALID, "larger struct_size");
    CHECK(vigil_index_search(idx, &h, 1, 1, NULL, &m, &nm, &e) == VIGIL_OK && nm == 1, "NULL options");
    free(m);
    vigil_index_free(idx);

    uint8_t grey[64 * 64];
    for (size_t i = 0; i < sizeof grey; i++) grey[i] = (uint8_t)((i * 37) ^ (i >> 6) * 91);
    vigil_features_options fo;
    memset(&fo, 0, sizeof fo);
    vigil_features f;
    CHECK(vigil_features_from_grey(grey, 64, 64, 64, &fo, &f, &e) == VIGIL_E_INVALID &&
          said_init(&e, "vigil_features_options"), "%s", e.message);
    CHECK(vigil_features_memory("x", 1, &fo, &f, &e) == VIGIL_E_INVALID, "features_memory too");
    vigil_features_options_init(&fo);
    fo.struct_size = sizeof fo * 2;
    CHECK(vigil_features_from_grey(grey, 64, 64, 64, &fo, &f, &e) == VIGIL_E_INVALID, "larger struct_size");

    vigil_rooms *r = NULL;
    CHECK(vigil_rooms_new(&r, &e) == VIGIL_OK && vigil_rooms_prepare(r, &e) == VIGIL_OK, "rooms");
    vigil_rooms_query_options qo;
    memset(&qo, 0, sizeof qo);
    vigil_features q = {0};
    vigil_rooms_match out[1];
    size_t nout = 7;
    CHECK(vigil_rooms_query(r, &q, &qo, out, &nout, &e) == VIGIL_E_INVALID &&
          said_init(&e, "vigil_rooms_query_options"), "%s", e.message);
    vigil_rooms_query_options_init(&qo);
    CHECK(qo.struct_size == sizeof qo, "init sets struct_size");
    qo.struct_size++;
    CHECK(vigil_rooms_query(r, &q, &qo, out, &nout, &e) == VIGIL_E_INVALID, "larger struct_size");
    CHECK(vigil_rooms_query(r, &q, NULL, out, &nout, &e) == VIGIL_OK && nout == 0, "NULL options");
    vigil_rooms_free(r);
}

static int same_features(const vigil_features *a, const vigil_features *b)
{
    return a->n == b->n && !memcmp(a->kp, b->kp, a->n * sizeof *a->kp) && !memcmp(a->desc, b->desc, a->n * sizeof *a->desc);
}

/* A caller compiled against an older, smaller struct: the library reads only the fields within
 * its struct_size (what lies past it is whatever the caller's memory holds: here, values that
 * would fail or crash if read) and uses its defaults for the rest. */
void test_options_older_caller(void)
{
    vigil_error e;
    /* hashing: an old struct without max_file_bytes and the callback */
    const char *img = t_path(t_data_dir, "opencv-doc__box.png");
    vigil_hash_options ho;
    vigil_hash_options_init(&ho);
    vigil_hash_result want, got;
    CHECK(vigil_hash_file(img, &ho, &want, &e) == VIGIL_OK, "%s", e.message);
    ho.max_file_bytes = 1;
    ho.before_decode = (int (*)(const vigil_hash_result *, void *))(uintptr_t)16; /* never called */
    CHECK(vigil_hash_file(img, &ho, &got, &e) == VIGIL_E_TOO_LARGE, "max_file_bytes is read in the full struct");
    ho.struct_size = OLD_LAYOUT(vigil_hash_options, max_file_bytes);
    CHECK(vigil_hash_file(img, &ho, &got, &e) == VIGIL_OK, "old struct: %s", e.message);
    CHECK((got.have & VIGIL_HAVE_PDQ) && !memcmp(&got.pdq, &want.pdq, sizeof got.pdq) && got.quality == want.quality,
          "old struct hashes as the defaults do");
    /* a struct_size that ends inside a field does not hold it */
    ho.struct_size = OLD_LAYOUT(vigil_hash_options, max_file_bytes) + 4;
    CHECK(vigil_hash_file(img, &ho, &got, &e) == VIGIL_OK, "half a field is no field: %s", e.message);
    /* an old struct that has only struct_size and flags: max_pixels past it (1 would refuse) */
    vigil_hash_options_init(&ho);
    ho.flags = VIGIL_HASH_DIHEDRAL;
    ho.max_pixels = 1;
    ho.struct_size = OLD_LAYOUT(vigil_hash_options, max_pixels);
    CHECK(vigil_hash_file(img, &ho, &got, &e) == VIGIL_OK && (got.have & VIGIL_HAVE_DIHEDRAL), "flags read: %s", e.message);

    /* search: an old struct holding only the radius; top_k, threads, method past it */
    vigil_index *idx = NULL;
    CHECK(vigil_index_new("opts", &idx, &e) == VIGIL_OK, "new");
    vigil_pdq q = {{0x0123456789abcdefull, 0xfedcba9876543210ull, 0x0f0f0f0f0f0f0f0full, 0x3333333333333333ull}};
    for (int i = 0; i < 20; i++) {
        vigil_pdq h = q;
        h.w[i % 4] ^= (1ull << i) - 1; /* i bits from the query */
        CHECK(vigil_index_add(idx, &h, 100, NULL, NULL, &e) == VIGIL_OK, "add");
    }
    CHECK(vigil_index_compact(idx, &e) == VIGIL_OK, "compact");
    vigil_index_search_options so;
    vigil_index_search_options_init(&so);
    so.radius = 10;
    so.top_k = 1;
    so.threads = -7;
    so.method = 12345;
    so.struct_size = OLD_LAYOUT(vigil_index_search_options, top_k);
    vigil_index_match *m = NULL;
    size_t nm = 0;
    CHECK(vigil_index_search(idx, &q, 1, 1, &so, &m, &nm, &e) == VIGIL_OK, "%s", e.message);
    CHECK(nm == 11, "radius 10 read, top_k left at 0 (all): %zu matches", nm);
    free(m);
    so.struct_size = OLD_LAYOUT(vigil_index_search_options, radius);
    so.radius = 999; /* would be refused */
    CHECK(vigil_index_search(idx, &q, 1, 1, &so, &m, &nm, &e) == VIGIL_OK && nm == 20, "default radius 31: %zu", nm);
    free(m);
    vigil_index_free(idx);

    /* features: an old struct without the masks (pointers past it that would crash if used) */
    size_t n;
    void *bytes = t_read_file(t_path(t_data_dir, "opencv-doc__hfs_001.jpg"), &n);
    CHECK(bytes != NULL, "read");
    if (!bytes) return;
    vigil_features_options fo;
    vigil_features_options_init(&fo);
    vigil_features fa, fb;
    CHECK(vigil_features_memory(bytes, n, &fo, &fa, &e) == VIGIL_OK && fa.n > 50, "%s", e.message);
    fo.mask = (const vigil_rect *)(uintptr_t)16;
    fo.nmask = 1000;
    fo.mask_image = (const uint8_t *)(uintptr_t)16;
    fo.mask_width = fo.mask_height = 100;
    fo.struct_size = OLD_LAYOUT(vigil_features_options, mask);
    CHECK(vigil_features_memory(bytes, n, &fo, &fb, &e) == VIGIL_OK && same_features(&fa, &fb), "old struct: %s", e.message);
    vigil_features_free(&fb);
    /* the oldest possible: struct_size alone, every field a default */
    vigil_features_options_init(&fo);
    fo.max_features = 3;
    fo.levels = 0; /* would be refused */
    fo.struct_size = sizeof fo.struct_size;
    CHECK(vigil_features_memory(bytes, n, &fo, &fb, &e) == VIGIL_OK && same_features(&fa, &fb), "only struct_size: %s",
          e.message);
    vigil_features_free(&fb);
    free(bytes);

    /* rooms query: an old struct without ratio, stop_factor and guided_radius */
    vigil_rooms *r = NULL;
    CHECK(vigil_rooms_new(&r, &e) == VIGIL_OK, "rooms");
    CHECK(vigil_rooms_add(r, "self", "room=1", &fa, &e) == VIGIL_OK && vigil_rooms_prepare(r, &e) == VIGIL_OK, "%s",
          e.message);
    vigil_rooms_query_options qo;
    vigil_rooms_query_options_init(&qo);
    vigil_rooms_match a[2], b[2];
    size_t na = 0, nb = 0;
    CHECK(vigil_rooms_query(r, &fa, &qo, a, &na, &e) == VIGIL_OK && na == 1, "self query: %s", e.message);
    qo.ratio = 7.0f;         /* would be refused */
    qo.guided_radius = -5;
    qo.stop_factor = 0;
    qo.struct_size = OLD_LAYOUT(vigil_rooms_query_options, ratio);
    CHECK(vigil_rooms_query(r, &fa, &qo, b, &nb, &e) == VIGIL_OK, "old struct: %s", e.message);
    CHECK(nb == na && (!na || (a[0].inliers == b[0].inliers && a[0].votes == b[0].votes && !strcmp(b[0].name, "self"))),
          "old struct queries as the defaults do");
    vigil_rooms_free(r);
    vigil_features_free(&fa);
}
