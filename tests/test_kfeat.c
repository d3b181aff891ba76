/* test_kfeat.c - known images by local features (core/kfeat.c): the mirrored twins are the
 * descriptors the mirror image gives, the FEATURES section round-trips through a .vgi, an index
 * without features is written as before, and a damaged or crafted section is refused. */
#include "tests.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include "fix_sections.h"

/* A grey photo of the test data, decoded at the features' working size. */
static uint8_t *grey_photo(const char *name, uint32_t *w, uint32_t *h)
{
    size_t n;
    void *data = t_read_file(t_path(t_data_dir, name), &n);
    uint8_t *px = NULL;
    if (data && vigil_decode_grey(data, n, 640, &px, w, h, NULL)) px = NULL;
    free(data);
    return px;
}

void test_kfeat_mirrored_twins(void)
{
    uint32_t w, h;
    uint8_t *g = grey_photo("opencv-doc__hfs_001.jpg", &w, &h);
    CHECK(g != NULL, "decode");
    if (!g) return;
    uint8_t *m = malloc((size_t)w * h);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) m[(size_t)y * w + x] = g[(size_t)y * w + (w - 1 - x)];
    vigil_features_options o;
    vigil_features_options_init(&o);
    o.mirrored = 1;
    vigil_features a, b;
    CHECK(vigil_features_from_grey(g, w, h, w, &o, &a, NULL) == VIGIL_OK && a.n % 2 == 0 && a.n > 100, "features with twins: %u", a.n);
    o.mirrored = 0;
    CHECK(vigil_features_from_grey(m, w, h, w, &o, &b, NULL) == VIGIL_OK && b.n > 100, "features of the mirror image");
    /* every twin against the mirror image's own feature at the same place and orientation */
    uint32_t half = a.n / 2, same = 0, close = 0, found = 0;
    for (uint32_t i = half; i < a.n; i++)
        for (uint32_t j = 0; j < b.n; j++) {
            float dx = a.kp[i].x - b.kp[j].x, dy = a.kp[i].y - b.kp[j].y;
            if (dx * dx + dy * dy > 0.25f || a.kp[i].scale != b.kp[j].scale) continue;
            found++;
            int d = vigil_pdq_distance(&a.desc[i], &b.desc[j]);
            same += d == 0;
            close += d <= 16;
            break;
        }
    CHECK(found > half / 2, "twins at the mirror image's keypoints: %u of %u", found, half);
    CHECK(close >= found * 9 / 10 && same >= found / 2, "twin descriptors equal %u, within 16 bits %u, of %u", same, close, found);
    /* the first half is the plain extraction, unchanged by the option */
    vigil_features p;
    CHECK(vigil_features_from_grey(g, w, h, w, &o, &p, NULL) == VIGIL_OK && p.n == half &&
              !memcmp(p.desc, a.desc, half * sizeof *p.desc), "plain half: %u vs %u", p.n, half);
    vigil_features_free(&a);
    vigil_features_free(&b);
    vigil_features_free(&p);
    free(m);
    free(g);
}

static vigil_index *featured_index(vigil_features *q)
{
    const char *names[] = {"opencv-doc__hfs_001.jpg", "opencv-doc__left.jpg", "gimp-help-en__threshold-orig.png"};
    vigil_index *x;
    vigil_index_new("victims", &x, NULL);
    for (int i = 0; i < 3; i++) {
        vigil_features_options fo;
        vigil_known_features_options_init(&fo);
        vigil_features f;
        vigil_error e;
        vigil_hash_result r;
        CHECK(vigil_hash_file_features(t_path(t_data_dir, names[i]), NULL, &fo, &r, &f, NULL, &e) == VIGIL_OK && f.n == 256,
              "%s: %u features", names[i], f.n);
        vigil_index_add(x, &r.pdq, r.quality, names[i], "series=a", NULL);
        CHECK(vigil_index_add_features(x, names[i], "series=a", &f, &e) == VIGIL_OK, "%s", e.message);
        vigil_features_free(&f);
    }
    vigil_features_options qo;
    vigil_known_query_options_init(&qo);
    CHECK(vigil_features_file(t_path(t_data_dir, names[0]), &qo, q, NULL) == VIGIL_OK, "query features");
    return x;
}

void test_kfeat_file_round_trip(void)
{
    vigil_features q;
    vigil_index *x = featured_index(&q);
    vigil_index_features_match a[5], b[5];
    size_t na = 0, nb = 0;
    vigil_error e;
    CHECK(vigil_index_match_features(x, &q, NULL, a, &na, &e) == VIGIL_OK && na == 1 && a[0].ref == 0 && a[0].inliers > 100,
          "self match: %zu, %u inliers", na, na ? a[0].inliers : 0);
    const char *path = t_path(t_tmp_dir, "kfeat.vgi");
    CHECK(vigil_index_save(x, path, &e) == VIGIL_OK, "%s", e.message);
    vigil_index *y;
    CHECK(vigil_index_open(path, &y, &e) == VIGIL_OK, "%s", e.message);
    vigil_index_features_stats sx, sy;
    vigil_index_get_features_stats(x, &sx);
    vigil_index_get_features_stats(y, &sy);
    CHECK(sx.refs == 3 && sy.refs == 3 && sx.features == sy.features && sx.features == 768, "stats %llu %llu",
          (unsigned long long)sy.refs, (unsigned long long)sy.features);
    CHECK(vigil_index_match_features(y, &q, NULL, b, &nb, &e) == VIGIL_OK && nb == na && !memcmp(a, b, na * sizeof *a),
          "the same match after the round trip");
    const char *id, *labels;
    CHECK(vigil_index_features_ref(y, 2, &id, &labels) == VIGIL_OK && !strcmp(id, "gimp-help-en__threshold-orig.png") &&
              !strcmp(labels, "series=a"), "reference 2");
    /* saved again: the same bytes */
    const char *path2 = t_path(t_tmp_dir, "kfeat2.vgi");
    vigil_index_save(y, path2, NULL);
    size_t n1, n2;
    void *f1 = t_read_file(path, &n1), *f2 = t_read_file(path2, &n2);
    CHECK(f1 && f2 && n1 == n2 && !memcmp(f1, f2, n1), "save of an opened index is byte for byte the same");
    free(f1);
    free(f2);
    /* removing every featured entry writes the file as an index without features */
    size_t rm;
    vigil_index_remove(y, "opencv-doc__hfs_001.jpg", &rm, NULL);
    CHECK(rm == 2, "removed the entry and its features: %zu", rm);
    CHECK(vigil_index_match_features(y, &q, NULL, b, &nb, &e) == VIGIL_OK && (nb == 0 || b[0].ref != 0), "a removed reference is not matched");
    vigil_index_free(x);
    vigil_index_free(y);
    vigil_features_free(&q);
}

void test_kfeat_no_features_unchanged(void)
{
    vigil_index *x;
    vigil_index_new("s", &x, NULL);
    vigil_pdq h = {{1, 2, 3, 4}};
    vigil_index_add(x, &h, 90, "a", NULL, NULL);
    const char *path = t_path(t_tmp_dir, "plain.vgi");
    vigil_index_save(x, path, NULL);
    size_t n;
    uint8_t *b = t_read_file(path, &n);
    uint32_t count = 0;
    if (b && n >= 576) memcpy(&count, b + 16, 4);
    CHECK(count == 14, "an index without features has the 14 sections of before: %u", count);
    free(b);
    vigil_index_features_match m[1];
    size_t nm = 9;
    vigil_features q = {0};
    CHECK(vigil_index_match_features(x, &q, NULL, m, &nm, NULL) == VIGIL_OK && nm == 0, "no features: no match");
    vigil_index_features_stats st;
    vigil_index_get_features_stats(x, &st);
    CHECK(st.refs == 0 && st.features == 0, "no features");
    vigil_index_free(x);
}

void test_kfeat_damage(void)
{
    vigil_features q;
    vigil_index *x = featured_index(&q);
    const char *path = t_path(t_tmp_dir, "dmg.vgi");
    vigil_index_save(x, path, NULL);
    vigil_index_free(x);
    vigil_features_free(&q);
    size_t n;
    uint8_t *orig = t_read_file(path, &n);
    uint64_t off = 0, size = 0;
    for (int i = 0; i < 16 && orig; i++) {
        uint32_t type;
        memcpy(&type, orig + 64 + 32 * i, 4);
        if (type == 15) { memcpy(&off, orig + 64 + 32 * i + 8, 8); memcpy(&size, orig + 64 + 32 * i + 16, 8); }
    }
    CHECK(size > 64, "a FEATURES section (type 15)");
    if (size <= 64) { free(orig); return; }
    struct { uint64_t at; uint8_t v; int fix; const char *why; } cases[] = {
        {off + 100, 0x55, 0, "checksum"},                   /* a flipped byte: the checksum */
        {off + 0, 4, 1, "version"},                         /* another section version (7) */
        {off + 8, 9, 1, "size does not agree"},             /* the reference count */
        {off + 16, 0xff, 1, "size does not agree"},         /* the feature count */
        {off + 66, 0x01, 1, "out of range"},                /* a record's feature count over 65535 */
        {off + 64, 0xff, 1, "do not add up"},               /* a record's feature count, not the total */
        {off + 64 + 13, 0x7f, 1, "out of range"},           /* an id offset past the strings */
        {off + 40, 1, 1, "reserved"},                       /* reserved header bytes */
        {off + 32, 0x08, 1, "size does not agree"},         /* the search tables' byte count */
        {0, 0x40, 1, "search tables out of range"},         /* a bucket offset of table 0 (set below) */
        {0, 0x40, 1, "search tables out of range"},         /* a slot's feature number (set below) */
    };
    /* the search tables (version 3) end the section: directories, then 10 x 768 slots of 6 bytes */
    uint64_t tb = 0;
    memcpy(&tb, orig + off + 32, 8);
    uint64_t tab = off + size - tb, slots = tab + tb - 10 * 768 * 6;
    CHECK(tb > 10 * 768 * 6, "search tables stored: %llu bytes", (unsigned long long)tb);
    cases[9].at = tab + 4 * 7 + 3;
    cases[10].at = slots + 6 * 100 + 3; /* slot 100's number, its top byte */
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint8_t *b = malloc(n);
        memcpy(b, orig, n);
        b[cases[c].at] ^= cases[c].v;
        if (cases[c].fix) fix_checksums(b, n);
        const char *p = t_path(t_tmp_dir, "dmg2.vgi");
        t_write_file(p, b, n);
        vigil_index *y = NULL;
        vigil_error e;
        vigil_result r = vigil_index_open(p, &y, &e);
        CHECK(r != VIGIL_OK && strstr(e.message, cases[c].why), "case %zu: %s (%s)", c, r ? e.message : "opened", cases[c].why);
        vigil_index_free(y);
        free(b);
    }
    free(orig);
}

/* A section of version 1 (written before the search tables were stored, tests/data/kfeat-v1.vgi:
 * opencv-doc__hfs_001.jpg and opencv-doc__left.jpg) and one of version 2 (the same set saved by
 * 552ecc8, kfeat-v2.vgi: its tables' numbers and check bits in two arrays) open with their tables
 * built in memory and find the photos; saved, the set is version 3, which opens in place and finds
 * the same; then an add and a compaction of that opened file (its features copied out of the
 * file's bytes first). */
void test_kfeat_version1_and_in_place(void)
{
    vigil_index *x = NULL, *y = NULL;
    vigil_error e;
    CHECK(vigil_index_open(t_path(t_data_dir, "../kfeat-v1.vgi"), &x, &e) == VIGIL_OK, "version 1 opens: %s", e.message);
    if (!x) return;
    vigil_features_options qo;
    vigil_known_query_options_init(&qo);
    vigil_features q[2];
    const char *names[] = {"opencv-doc__hfs_001.jpg", "opencv-doc__left.jpg"};
    vigil_index_features_match a[5], b[5];
    size_t na = 0, nb = 0;
    for (int i = 0; i < 2; i++) {
        CHECK(vigil_features_file(t_path(t_data_dir, names[i]), &qo, &q[i], NULL) == VIGIL_OK, "query %d", i);
        CHECK(vigil_index_match_features(x, &q[i], NULL, a, &na, &e) == VIGIL_OK && na == 1 && a[0].ref == (uint64_t)i &&
                  a[0].inliers > 100, "version 1: %s found: %zu matches", names[i], na);
    }
    vigil_index *v2 = NULL;
    CHECK(vigil_index_open(t_path(t_data_dir, "../kfeat-v2.vgi"), &v2, &e) == VIGIL_OK, "version 2 opens: %s", e.message);
    for (int i = 0; i < 2 && v2; i++) {
        vigil_index_match_features(x, &q[i], NULL, a, &na, NULL);
        CHECK(vigil_index_match_features(v2, &q[i], NULL, b, &nb, &e) == VIGIL_OK && nb == na && !memcmp(a, b, na * sizeof *a),
              "version 2: the same match as version 1 for %s", names[i]);
    }
    vigil_index_free(v2);
    const char *path = t_path(t_tmp_dir, "kfeat-v3.vgi");
    CHECK(vigil_index_save(x, path, &e) == VIGIL_OK, "%s", e.message);
    size_t n;
    uint8_t *f = t_read_file(path, &n);
    uint32_t version = 0;
    for (int s = 0; s < 16 && f && n >= 576; s++) {
        uint32_t type;
        uint64_t at;
        memcpy(&type, f + 64 + 32 * s, 4);
        memcpy(&at, f + 64 + 32 * s + 8, 8);
        if (type == 15 && at + 4 <= n) memcpy(&version, f + at, 4);
    }
    free(f);
    CHECK(version == 3, "saved as features section version 3: %u", version);
    CHECK(vigil_index_open(path, &y, &e) == VIGIL_OK, "version 3 opens: %s", e.message);
    if (!y) { vigil_index_free(x); return; }
    for (int i = 0; i < 2; i++) {
        vigil_index_match_features(x, &q[i], NULL, a, &na, NULL);
        CHECK(vigil_index_match_features(y, &q[i], NULL, b, &nb, &e) == VIGIL_OK && nb == na && !memcmp(a, b, na * sizeof *a),
              "version 3 in place: the same match as version 1 for %s", names[i]);
    }
    /* an add to the set read in place, then a compaction, then the first reference again */
    CHECK(vigil_index_add_features(y, "copy", NULL, &q[1], &e) == VIGIL_OK, "add: %s", e.message);
    CHECK(vigil_index_compact(y, &e) == VIGIL_OK, "compact: %s", e.message);
    CHECK(vigil_index_match_features(y, &q[0], NULL, b, &nb, &e) == VIGIL_OK && nb == 1 && b[0].ref == 0 && b[0].inliers > 100,
          "after add and compact: the first reference found (%zu)", nb);
    CHECK(vigil_index_match_features(y, &q[1], NULL, b, &nb, &e) == VIGIL_OK && nb == 2, "and the added one beside its original (%zu)", nb);
    vigil_index_features_stats st;
    vigil_index_get_features_stats(y, &st);
    CHECK(st.refs == 3, "3 references with features: %llu", (unsigned long long)st.refs);
    for (int i = 0; i < 2; i++) vigil_features_free(&q[i]);
    vigil_index_free(x);
    vigil_index_free(y);
}

/* The references' preset shares its 256 features equally between the 5 pyramid levels
 * (even_levels), where the default shares them by area: the coarsest level (the largest scale)
 * then holds about 51 instead of about 14, for copies at half size. */
static uint32_t at_coarsest(const vigil_features *f)
{
    float top = 0;
    uint32_t n = 0;
    for (uint32_t i = 0; i < f->n; i++) top = f->kp[i].scale > top ? f->kp[i].scale : top;
    for (uint32_t i = 0; i < f->n; i++) n += f->kp[i].scale == top;
    return n;
}

void test_kfeat_even_levels(void)
{
    vigil_features_options fo;
    vigil_known_features_options_init(&fo);
    CHECK(fo.even_levels == 1 && fo.max_features == 256 && fo.levels == 5, "the references' preset");
    vigil_features a, b;
    vigil_error e;
    const char *img = t_path(t_data_dir, "opencv-doc__hfs_001.jpg");
    CHECK(vigil_features_file(img, &fo, &a, &e) == VIGIL_OK && a.n == 256, "even: %u features", a.n);
    fo.even_levels = 0;
    CHECK(vigil_features_file(img, &fo, &b, &e) == VIGIL_OK && b.n == 256, "by area: %u features", b.n);
    uint32_t ca = at_coarsest(&a), cb = at_coarsest(&b);
    CHECK(ca >= 45 && ca <= 52 && cb <= 20, "coarsest level: %u even, %u by area", ca, cb);
    vigil_features_free(&a);
    vigil_features_free(&b);
}
