/* fuzz_kfeat.c - the FEATURES section of a .vgi on crafted files: a valid index with features is
 * patched with the input's bytes (5-byte records: little-endian offset into the features section,
 * then a byte to store; offset 0xffffffff truncates the section's stated size by the byte) and its
 * checksums are recomputed, so the mutations reach the section's own checks. Open must refuse or
 * return an index whose feature queries, stats and references touch nothing outside the file. */
#include "vigil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include "../fix_sections.h"

static uint8_t *valid;
static size_t valid_size, feat_off, feat_size;
static vigil_features query;

static void setup(void)
{
    enum { S = 160 };
    static uint8_t img[S * S];
    uint64_t z = 1;
    for (int y = 0; y < S; y++) /* blocks of noise: corners everywhere */
        for (int x = 0; x < S; x++) {
            if ((x % 8) == 0) z = z * 6364136223846793005ull + (uint64_t)(y / 8) * 1442695040888963407ull + 1;
            img[y * S + x] = (uint8_t)(z >> ((x & 7) * 8));
        }
    vigil_features_options fo;
    vigil_known_features_options_init(&fo);
    vigil_features ref;
    vigil_features_from_grey(img, S, S, S, &fo, &ref, NULL);
    vigil_known_query_options_init(&fo);
    vigil_features_from_grey(img, S, S, S, &fo, &query, NULL);
    vigil_index *x;
    vigil_index_new("fuzz", &x, NULL);
    vigil_pdq h = {{1, 2, 3, 4}};
    vigil_index_add(x, &h, 90, "a", "k=v", NULL);
    vigil_index_add_features(x, "a", "k=v", &ref, NULL);
    vigil_index_add_features(x, "b", NULL, &ref, NULL);
    vigil_features_free(&ref);
    char path[] = "/tmp/vigil-fuzz-kfeat-seed.XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    vigil_index_save(x, path, NULL);
    vigil_index_free(x);
    FILE *f = fopen(path, "rb");
    if (f) {
        fseek(f, 0, SEEK_END);
        valid_size = (size_t)ftell(f);
        rewind(f);
        valid = malloc(valid_size);
        if (!valid || fread(valid, 1, valid_size, f) != valid_size) valid_size = 0;
        fclose(f);
    }
    unlink(path);
    for (int i = 0; i < 16 && valid_size >= 576; i++) { /* the FEATURES section: type 15 */
        uint32_t type;
        memcpy(&type, valid + 64 + 32 * i, 4);
        if (type == 15) { memcpy(&feat_off, valid + 64 + 32 * i + 8, 8); memcpy(&feat_size, valid + 64 + 32 * i + 16, 8); }
    }
}

/* the container's layout (core/sections.c): header 64 bytes, 16 sections {type, pad, offset,
 * size, checksum}, header checksum at byte 32 over header (that field 0) + table */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!valid) setup();
    if (!valid_size || !feat_size) return 0;
    uint8_t *b = malloc(valid_size);
    memcpy(b, valid, valid_size);
    for (size_t i = 0; i + 5 <= size; i += 5) {
        uint32_t off;
        memcpy(&off, data + i, 4);
        if (off == 0xffffffffu) { /* a shorter stated size: the reader must check it against the counts */
            for (int s = 0; s < 16; s++) {
                uint32_t type;
                memcpy(&type, b + 64 + 32 * s, 4);
                uint64_t sz;
                memcpy(&sz, b + 64 + 32 * s + 16, 8);
                if (type == 15 && sz >= data[i + 4]) { sz -= data[i + 4]; memcpy(b + 64 + 32 * s + 16, &sz, 8); }
            }
        } else b[feat_off + off % feat_size] = data[i + 4];
    }
    fix_checksums(b, valid_size);
    char path[] = "/tmp/vigil-fuzz-kfeat.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) { free(b); return 0; }
    if (write(fd, b, valid_size) != (ssize_t)valid_size) { close(fd); unlink(path); free(b); return 0; }
    close(fd);
    free(b);
    vigil_index *x;
    if (vigil_index_open(path, &x, NULL) == VIGIL_OK) {
        vigil_index_features_match m[5];
        size_t nm;
        vigil_index_match_features(x, &query, NULL, m, &nm, NULL);
        vigil_index_features_stats st;
        vigil_index_get_features_stats(x, &st);
        for (uint64_t r = 0; r < 4; r++) {
            const char *id, *labels;
            if (vigil_index_features_ref(x, r, &id, &labels) == VIGIL_OK && ((id && strlen(id) > (size_t)-2) || (labels && strlen(labels) > (size_t)-2)))
                abort();
        }
        vigil_index_free(x);
    }
    unlink(path);
    return 0;
}
