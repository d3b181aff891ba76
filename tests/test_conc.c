/* test_conc.c - index and room-index files that change while a handle is open: the handle keeps
 * the content checked at open (no SIGBUS, no bytes of the new file), says what happened to its
 * file, and names its content. */
#include "tests.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static vigil_pdq rand_hash(void)
{
    vigil_pdq h;
    for (int k = 0; k < 4; k++) h.w[k] = t_rand();
    return h;
}

/* n random entries ("tag-i"); with MIH tables from 32768 on */
static vigil_index *made(size_t n, const char *tag, vigil_pdq *keep)
{
    vigil_index *x;
    vigil_error e;
    if (vigil_index_new(tag, &x, &e)) return NULL;
    char id[64];
    for (size_t i = 0; i < n; i++) {
        vigil_pdq h = rand_hash();
        if (keep) keep[i] = h;
        snprintf(id, sizeof id, "%s-%zu", tag, i);
        vigil_index_add(x, &h, 90, id, "series=s", &e);
    }
    vigil_index_compact(x, &e);
    return x;
}

static int write_over(const char *path, const char *from)
{
    size_t n;
    void *p = t_read_file(from, &n);
    if (!p) return -1;
    FILE *f = fopen(path, "r+b"); /* in place, as `cp` onto it: same inode */
    int rc = -1;
    if (f) {
        rc = ftruncate(fileno(f), 0) || fwrite(p, 1, n, f) != n ? -1 : 0;
        rc |= fclose(f) ? -1 : 0;
    }
    free(p);
    return rc;
}

void test_index_survives_rewrite_in_place(void)
{
    size_t n = 40000; /* past MIH_MIN_ENTRIES: bucket offsets and slots are read from the file's copy */
    vigil_pdq *h = malloc(n * sizeof *h);
    vigil_index *a = made(n, "big", h), *b = made(100, "small", NULL), *x = NULL;
    vigil_error e;
    char *pa = t_path(t_tmp_dir, "live.vgi"), *pb = t_path(t_tmp_dir, "small.vgi");
    CHECK(a && b && !vigil_index_save(a, pa, &e) && !vigil_index_save(b, pb, &e), "fixtures");
    CHECK(vigil_index_open(pa, &x, &e) == VIGIL_OK, "open: %s", e.message);
    if (!x) { free(h); vigil_index_free(a); vigil_index_free(b); return; }
    CHECK(vigil_index_source_state(x, &e) == VIGIL_SOURCE_SAME, "fresh handle: %s", e.message);
    vigil_pdq q[16];
    for (int i = 0; i < 16; i++) q[i] = h[(size_t)i * 997];
    vigil_index_search_options so;
    vigil_index_search_options_init(&so);
    so.method = VIGIL_SEARCH_INDEX;
    vigil_index_match *m1 = NULL, *m2 = NULL;
    size_t n1 = 0, n2 = 0;
    vigil_index_search(x, q, 16, 1, &so, &m1, &n1, &e);

    /* a smaller file written over it: with a mapping, any read past its end was SIGBUS */
    CHECK(write_over(pa, pb) == 0, "rewrite");
    CHECK(vigil_index_source_state(x, &e) == VIGIL_SOURCE_WRITTEN && strstr(e.message, "in place"), "not seen as written: %s",
          e.message);
    vigil_index_search(x, q, 16, 1, &so, &m2, &n2, &e);
    int same = n1 == 16 && n2 == n1;
    for (size_t i = 0; same && i < n1; i++)
        same = m1[i].query == m2[i].query && m1[i].entry == m2[i].entry && m1[i].distance == m2[i].distance;
    CHECK(same, "search changed after the rewrite: %zu vs %zu matches", n1, n2);
    const char *id = NULL;
    vigil_pdq got;
    CHECK(vigil_index_entry(x, m1[5].entry, &got, NULL, &id, NULL) == VIGIL_OK && id && !strncmp(id, "big-", 4) &&
              !memcmp(&got, &q[5], sizeof got),
          "entry after the rewrite: %s", id ? id : "(none)");
    CHECK(vigil_index_verify(x, &e) == VIGIL_OK, "verify after the rewrite: %s", e.message);
    free(m1);
    free(m2);
    vigil_index_free(x);
    vigil_index_free(a);
    vigil_index_free(b);
    free(h);
}

void test_source_state_and_content_id(void)
{
    vigil_error e;
    vigil_index *a = made(50, "set", NULL), *b = made(50, "set", NULL), *x = NULL, *y = NULL;
    char *p1 = t_path(t_tmp_dir, "c1.vgi"), *p2 = t_path(t_tmp_dir, "c2.vgi"), *p3 = t_path(t_tmp_dir, "c3.vgi");
    CHECK(a && b && !vigil_index_save(a, p1, &e) && !vigil_index_save(a, p3, &e) && !vigil_index_save(b, p2, &e), "fixtures");
    struct stat s1, s2;
    CHECK(!stat(p1, &s1) && !stat(p2, &s2) && s1.st_size == s2.st_size, "the two indexes should be the same size");
    char i1[33], i2[33], i3[33], im[33];
    CHECK(vigil_index_open(p1, &x, &e) == VIGIL_OK && vigil_index_open(p3, &y, &e) == VIGIL_OK, "open: %s", e.message);
    if (!x || !y) { vigil_index_free(x); vigil_index_free(y); vigil_index_free(a); vigil_index_free(b); return; }
    CHECK(vigil_index_content_id(x, i1) == VIGIL_OK && vigil_index_content_id(y, i3) == VIGIL_OK && strlen(i1) == 32 &&
              !strcmp(i1, i3),
          "same bytes, same id: %s %s", i1, i3);
    CHECK(vigil_index_content_id(a, im) == VIGIL_E_NOT_FOUND && !im[0], "built in memory: no file, no id");
    CHECK(vigil_index_source_state(a, NULL) == VIGIL_SOURCE_SAME, "built in memory: nothing to change");
    vigil_index_free(y);
    CHECK(vigil_index_open(p2, &y, &e) == VIGIL_OK && vigil_index_content_id(y, i2) == VIGIL_OK && strcmp(i1, i2),
          "same size, other content: the ids must differ (%s %s)", i1, i2);
    vigil_index_free(y);

    /* replaced by rename, as vigil's writers do: not a write in place, and the handle is untouched */
    CHECK(vigil_index_save(b, p1, &e) == VIGIL_OK, "save over");
    CHECK(vigil_index_source_state(x, &e) == VIGIL_SOURCE_REPLACED, "rename over it: %s", e.message);
    CHECK(vigil_index_content_id(x, im) == VIGIL_OK && !strcmp(im, i1), "the handle's id stays that of its version");
    unlink(p1);
    CHECK(vigil_index_source_state(x, &e) == VIGIL_SOURCE_REPLACED && strstr(e.message, "gone"), "removed: %s", e.message);
    vigil_index_free(x);

    /* chmod moves ctime: not a write */
    CHECK(vigil_index_open(p3, &x, &e) == VIGIL_OK, "open");
    chmod(p3, 0600);
    CHECK(vigil_index_source_state(x, &e) == VIGIL_SOURCE_SAME, "chmod is not a write: %s", e.message);
    CHECK(write_over(p3, p2) == 0 && vigil_index_source_state(x, &e) == VIGIL_SOURCE_WRITTEN, "same-size rewrite in place: %s",
          e.message);
    vigil_index_compact(x, &e); /* rebuilt in memory: no longer the file's copy */
    CHECK(vigil_index_source_state(x, NULL) == VIGIL_SOURCE_SAME && vigil_index_content_id(x, im) == VIGIL_E_NOT_FOUND,
          "after compact");
    vigil_index_free(x);

    /* room indexes: the same */
    vigil_rooms *r, *ro = NULL;
    char *pr = t_path(t_tmp_dir, "c.vgr");
    CHECK(vigil_rooms_new(&r, &e) == VIGIL_OK && vigil_rooms_save(r, pr, &e) == VIGIL_OK, "rooms: %s", e.message);
    CHECK(vigil_rooms_open(pr, &ro, &e) == VIGIL_OK, "rooms open: %s", e.message);
    if (ro) {
        CHECK(vigil_rooms_content_id(ro, im) == VIGIL_OK && strlen(im) == 32, "rooms id");
        CHECK(vigil_rooms_source_state(ro, NULL) == VIGIL_SOURCE_SAME, "rooms fresh");
        CHECK(write_over(pr, p2) == 0 && vigil_rooms_source_state(ro, &e) == VIGIL_SOURCE_WRITTEN, "rooms written: %s", e.message);
        vigil_rooms_stats st;
        vigil_rooms_get_stats(ro, &st);
        CHECK(st.images == 0, "rooms handle unchanged");
    }
    vigil_rooms_free(ro);
    vigil_rooms_free(r);
    vigil_index_free(a);
    vigil_index_free(b);
}
