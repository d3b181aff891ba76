/* test_video.c - the video loader from many threads at once (each result against Meta's hashes),
 * its option checks, and the vPDQ comparison on hand-made frames. */
#include "tests.h"
#include "vigil.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SAMPLE "tests/data/video/test-padded-dimensions"

typedef struct buf { char *s; size_t n, cap; } buf;

static int append(const vigil_video_frame *f, void *p)
{
    buf *b = p;
    char hex[65], line[128];
    vigil_pdq_to_hex(&f->pdq, hex);
    int n = snprintf(line, sizeof line, "%llu,%d,%s,%.3f\n", (unsigned long long)f->frame_number, f->quality, hex, f->timestamp);
    if (b->n + (size_t)n + 1 > b->cap) {
        b->cap = (b->n + (size_t)n + 1) * 2;
        b->s = realloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, line, (size_t)n + 1);
    b->n += (size_t)n;
    return 0;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)len + 1);
    *n = fread(s, 1, (size_t)len, f);
    s[*n] = 0;
    fclose(f);
    return s;
}

typedef struct job { const char *data; size_t size; int by_fd, ok; const char *want; } job;

static void *worker(void *p)
{
    job *j = p;
    for (int r = 0; r < 3; r++) {
        buf b = {0};
        vigil_video_options o;
        vigil_video_options_init(&o);
        o.seconds_per_hash = 0;
        vigil_error err;
        vigil_result rc;
        if (j->by_fd) {
            int fd = open(SAMPLE ".mp4", O_RDONLY);
            rc = vigil_video_hash_fd(fd, &o, append, &b, NULL, &err);
            close(fd);
        } else rc = vigil_video_hash_memory(j->data, j->size, &o, append, &b, NULL, &err);
        if (rc || !b.s || strcmp(b.s, j->want)) { j->ok = 0; free(b.s); return NULL; }
        free(b.s);
    }
    j->ok = 1;
    return NULL;
}

void test_video_threads(void)
{
    size_t n, wn;
    char *data = slurp(SAMPLE ".mp4", &n), *want = slurp(SAMPLE ".r0.txt", &wn);
    CHECK(data && want, "the sample and its hashes are readable");
    if (!data || !want) { free(data); free(want); return; }
    pthread_t th[8];
    job j[8];
    for (int i = 0; i < 8; i++) {
        j[i] = (job){data, n, i & 1, 0, want};
        pthread_create(&th[i], NULL, worker, &j[i]);
    }
    int ok = 0;
    for (int i = 0; i < 8; i++) { pthread_join(th[i], NULL); ok += j[i].ok; }
    CHECK(ok == 8, "8 threads x 3 runs (memory and fd) all give vpdq-hash-video's 150 lines: %d of 8 threads did", ok);
    /* a truncated copy in memory: the frames before the cut, then an error */
    buf b = {0};
    vigil_error err;
    vigil_video_info info;
    vigil_result rc = vigil_video_hash_memory(data, 0, NULL, append, &b, &info, &err);
    CHECK(rc == VIGIL_E_EMPTY, "zero bytes: VIGIL_E_EMPTY, got %s", vigil_result_name(rc));
    rc = vigil_video_hash_memory(data, 100, NULL, append, &b, &info, &err);
    CHECK(rc != VIGIL_OK && b.n == 0, "100 bytes of an MP4 (header only): an error, no frame (%s)", vigil_result_name(rc));
    free(b.s);
    free(data);
    free(want);
}

void test_video_options(void)
{
    vigil_video_options o;
    vigil_video_options_init(&o);
    CHECK(o.seconds_per_hash == 1.0 && o.max_streams == 64 && o.threads == 1, "defaults");
    vigil_error err;
    o.struct_size = 0;
    CHECK(vigil_video_hash_memory("x", 1, &o, NULL, NULL, NULL, &err) == VIGIL_E_INVALID, "struct_size 0 refused");
    o.struct_size = sizeof o + 8;
    CHECK(vigil_video_hash_memory("x", 1, &o, NULL, NULL, NULL, &err) == VIGIL_E_INVALID, "a newer struct refused");
    vigil_video_options_init(&o);
    o.seconds_per_hash = -1;
    CHECK(vigil_video_hash_memory("x", 1, &o, NULL, NULL, NULL, &err) == VIGIL_E_INVALID, "-1 s per hash refused");
    CHECK(vigil_video_hash_memory("not a video at all", 18, NULL, NULL, NULL, NULL, &err) == VIGIL_E_FORMAT,
          "text is not a video container");
    static const uint8_t heic[12] = {0, 0, 0, 24, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c'};
    static const uint8_t mp4[12] = {0, 0, 0, 24, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm'};
    CHECK(!vigil_video_sniff(heic, 12) && vigil_video_sniff(mp4, 12), "sniff: HEIF is an image, isom a video");
}

static vigil_vpdq_frame fr(int bitflips, int quality, uint64_t seed)
{
    vigil_vpdq_frame f;
    memset(&f, 0, sizeof f);
    for (int w = 0; w < 4; w++) f.pdq.w[w] = seed * 0x9e3779b97f4a7c15ull * (uint64_t)(w + 1) ^ (seed << w);
    for (int k = 0; k < bitflips; k++) f.pdq.w[k / 64] ^= 1ull << (k % 64);
    f.quality = quality;
    return f;
}

void test_vpdq_compare(void)
{
    /* query: A, A (repeat), B, C (quality 10, dropped); target: A+31 bits, D */
    vigil_vpdq_frame q[4] = {fr(0, 100, 1), fr(0, 100, 1), fr(0, 90, 2), fr(0, 10, 3)};
    vigil_vpdq_frame t[2] = {fr(31, 100, 1), fr(0, 100, 4)};
    double qp, tp;
    int v;
    vigil_error err;
    CHECK(!vigil_vpdq_compare(q, 4, t, 2, NULL, &qp, &tp, &v, &err), "compare");
    CHECK(qp == 50 && tp == 50 && !v, "1 of 2 kept query frames, 1 of 2 target frames, no match: %.1f %.1f %d", qp, tp, v);
    vigil_vpdq_match_options o;
    vigil_vpdq_match_options_init(&o);
    o.distance_max = 30;
    vigil_vpdq_compare(q, 4, t, 2, &o, &qp, &tp, &v, &err);
    CHECK(qp == 0 && tp == 0, "31 bits is outside --distance 30");
    vigil_vpdq_match_options_init(&o);
    o.query_pct_min = 50;
    vigil_vpdq_compare(q, 4, t, 2, &o, &qp, &tp, &v, &err);
    CHECK(v, "query %% >= 50 is a match with --query-pct 50");
    o.quality_min = 0;
    o.query_pct_min = 80;
    vigil_vpdq_compare(q, 4, t, 2, &o, &qp, &tp, &v, &err);
    CHECK(qp > 33.3 && qp < 33.4, "with quality 0, C counts: 1 of 3 (%.3f)", qp);
    vigil_vpdq_compare(q, 0, t, 2, NULL, &qp, &tp, &v, &err);
    CHECK(qp == 0 && tp == 0 && !v, "an empty query is 0 %%");
}
