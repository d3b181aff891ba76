/* test_video_png.c - a video's review thumbnail from bytes in memory (an archive member) is the
 * one read from the file, frame for frame, and a hash no frame has is NOT_FOUND. */
#include "tests.h"
#include "vigil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE "tests/data/video/test-padded-dimensions.mp4"

static int first_pdq(const vigil_video_frame *f, void *p)
{
    static int k;
    vigil_pdq *want = p;
    if (++k < 3) return 0; /* the third frame hashed: not the one want == NULL gives */
    k = 0;
    *want = f->pdq;
    return 1;
}

void test_video_frame_png_memory(void)
{
    FILE *f = fopen(SAMPLE, "rb");
    CHECK(f != NULL, "the sample opens");
    if (!f) return;
    static uint8_t data[1 << 20];
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    CHECK(n > 1000 && n < sizeof data, "the sample is read whole (%zu bytes)", n);
    vigil_error err;
    vigil_pdq want;
    memset(&want, 0, sizeof want);
    CHECK(!vigil_video_hash_memory(data, n, NULL, first_pdq, &want, NULL, &err), "the sample hashes");
    const vigil_pdq *wants[2] = {NULL, &want};
    for (int w = 0; w < 2; w++) {
        uint8_t *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        vigil_result ra = vigil_video_frame_png(SAMPLE, wants[w], 96, &a, &na, &err);
        vigil_result rb = vigil_video_frame_png_memory(data, n, wants[w], 96, &b, &nb, &err);
        CHECK(!ra && !rb && na > 8 && !memcmp(b, "\x89PNG", 4), "%s: both give a PNG (%d %d)", w ? "want" : "first", ra, rb);
        CHECK(na == nb && a && b && !memcmp(a, b, na), "%s: the PNG from memory is the file's, byte for byte (%zu, %zu)",
              w ? "want" : "first", na, nb);
        vigil_free(a);
        vigil_free(b);
    }
    uint8_t *c = NULL;
    size_t nc = 0;
    vigil_pdq none;
    memset(&none, 0x5a, sizeof none);
    CHECK(vigil_video_frame_png_memory(data, n, &none, 96, &c, &nc, &err) == VIGIL_E_NOT_FOUND && !c,
          "a hash no frame has: NOT_FOUND, no PNG");
    CHECK(vigil_video_frame_png_memory(data, n / 50, NULL, 96, &c, &nc, &err) != VIGIL_OK && !c,
          "the first 2 %% of the video: an error, no PNG (%s)", err.message);
    CHECK(vigil_video_frame_png_memory(NULL, 0, NULL, 96, &c, &nc, &err) != VIGIL_OK && !c, "no bytes: an error");
}
