/* test_hash_features.c - vigil_hash_file_features and vigil_features_file: one read of a file
 * gives exactly vigil_hash_file's result and vigil_features_memory's features of the same bytes. */
#include "tests.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int same_features(const vigil_features *a, const vigil_features *b)
{
    return a->n == b->n && a->width == b->width && a->height == b->height &&
           (!a->n || (!memcmp(a->kp, b->kp, a->n * sizeof *a->kp) && !memcmp(a->desc, b->desc, a->n * sizeof *a->desc)));
}

void test_hash_file_features(void)
{
    static const char *const names[] = {"opencv-doc__left.jpg", "opencv-doc__box.png",
                                        "gcompris-qt-data__categorization__others_bulb.webp"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *path = t_path(t_data_dir, names[i]);
        size_t n;
        void *data = t_read_file(path, &n);
        CHECK(data != NULL, "%s", names[i]);
        if (!data) continue;
        vigil_hash_result want, got;
        vigil_features fwant, fgot, fonly;
        vigil_error e, fe;
        CHECK(vigil_hash_file(path, NULL, &want, &e) == VIGIL_OK, "%s: %s", names[i], e.message);
        CHECK(vigil_features_memory(data, n, NULL, &fwant, &e) == VIGIL_OK, "%s: %s", names[i], e.message);
        CHECK(vigil_hash_file_features(path, NULL, NULL, &got, &fgot, &fe, &e) == VIGIL_OK, "%s: %s", names[i], e.message);
        CHECK(fe.code == VIGIL_OK && fgot.n > 0, "%s: features: %s", names[i], fe.message);
        CHECK(!memcmp(&want, &got, sizeof want), "%s: the hash result differs from vigil_hash_file's", names[i]);
        CHECK(same_features(&fwant, &fgot), "%s: %u features against %u", names[i], fgot.n, fwant.n);
        CHECK(vigil_features_file(path, NULL, &fonly, &e) == VIGIL_OK, "%s: %s", names[i], e.message);
        CHECK(same_features(&fwant, &fonly), "%s: vigil_features_file: %u features against %u", names[i], fonly.n, fwant.n);
        /* options reach the features: fewer of them */
        vigil_features_options fo;
        vigil_features_options_init(&fo);
        fo.max_features = 16;
        vigil_features fsmall;
        CHECK(!vigil_hash_file_features(path, NULL, &fo, &got, &fsmall, NULL, &e) && fsmall.n <= 16 && fsmall.n > 0,
              "%s: max_features 16 gave %u", names[i], fsmall.n);
        /* no decode, no features: the hash is still there */
        vigil_hash_options ho;
        vigil_hash_options_init(&ho);
        ho.flags = VIGIL_HASH_NO_PDQ;
        vigil_features fnone;
        CHECK(!vigil_hash_file_features(path, &ho, NULL, &got, &fnone, &fe, &e) && fnone.n == 0 && !fnone.kp &&
              fe.code == VIGIL_E_NOT_FOUND && !memcmp(got.md5, want.md5, sizeof want.md5),
              "%s: NO_PDQ: %u features, code %d", names[i], fnone.n, fe.code);
        vigil_features_free(&fwant);
        vigil_features_free(&fgot);
        vigil_features_free(&fonly);
        vigil_features_free(&fsmall);
        free(data);
    }
}

void test_hash_file_features_failures(void)
{
    vigil_hash_result r;
    vigil_features f;
    vigil_error e, fe;
    const char *missing = t_path(t_tmp_dir, "hf-missing.jpg");
    CHECK(vigil_hash_file_features(missing, NULL, NULL, &r, &f, &fe, &e) == VIGIL_E_IO && fe.code == VIGIL_E_IO &&
          f.n == 0 && strstr(e.message, "cannot open"), "missing: %s", e.message);
    const char *empty = t_path(t_tmp_dir, "hf-empty.jpg");
    CHECK(t_write_file(empty, "", 0) == 0, "write");
    CHECK(vigil_hash_file_features(empty, NULL, NULL, &r, &f, &fe, &e) == VIGIL_E_EMPTY && fe.code == VIGIL_E_EMPTY &&
          f.n == 0, "empty: %s", e.message);
    CHECK(vigil_features_file(empty, NULL, &f, &e) == VIGIL_E_EMPTY && f.n == 0, "empty: %s", e.message);
    const char *text = t_path(t_tmp_dir, "hf-text.jpg");
    CHECK(t_write_file(text, "not an image at all\n", 20) == 0, "write");
    CHECK(vigil_hash_file_features(text, NULL, NULL, &r, &f, &fe, &e) == VIGIL_E_FORMAT && fe.code == VIGIL_E_FORMAT &&
          f.n == 0 && !(r.have & VIGIL_HAVE_PDQ), "text: %d %s", e.code, e.message);
    CHECK(vigil_features_file(text, NULL, &f, &e) == VIGIL_E_FORMAT && f.n == 0, "text: %s", e.message);
    const char *fifo = t_path(t_tmp_dir, "hf-fifo");
    CHECK(mkfifo(fifo, 0600) == 0, "mkfifo");
    CHECK(vigil_hash_file_features(fifo, NULL, NULL, &r, &f, &fe, &e) == VIGIL_E_NOT_FILE && f.n == 0, "fifo: %s", e.message);
    CHECK(vigil_features_file(fifo, NULL, &f, &e) == VIGIL_E_NOT_FILE && strstr(e.message, "is a FIFO"), "fifo: %s", e.message);
    CHECK(vigil_features_file(t_tmp_dir, NULL, &f, &e) == VIGIL_E_NOT_FILE, "folder: %s", e.message);
    CHECK(vigil_hash_file_features(missing, NULL, NULL, &r, NULL, NULL, &e) == VIGIL_E_INVALID, "NULL features");
    CHECK(vigil_features_file(NULL, NULL, &f, &e) == VIGIL_E_INVALID, "NULL path");
}
