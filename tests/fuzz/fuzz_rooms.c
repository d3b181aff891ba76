/* fuzz_rooms.c - the .vgr reader on crafted files: a valid room index is patched with the input's
 * bytes (5-byte records: little-endian offset, then a byte to store) and its checksums are then
 * recomputed, so the mutations get past the checksums to the structural checks behind them. Open
 * must refuse or return an index that answers queries without touching memory outside the file. */
#include "vigil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include "../fix_sections.h"

static uint8_t *valid;
static size_t valid_size;
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
    vigil_rooms *r;
    vigil_rooms_new(&r, NULL);
    vigil_features_from_grey(img, S, S, S, NULL, &query, NULL);
    vigil_rooms_add(r, "a", "hotel_id=1 room=2", &query, NULL);
    vigil_rooms_add(r, "b", "", &query, NULL);
    char path[] = "/tmp/vigil-fuzz-rooms-seed.XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    vigil_rooms_save(r, path, NULL);
    vigil_rooms_free(r);
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
}

/* the container's layout (core/sections.c): header 64 bytes, 16 sections {type, pad, offset,
 * size, checksum}, header checksum at byte 32 over header (that field 0) + table */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!valid) setup();
    if (!valid_size) return 0;
    uint8_t *b = malloc(valid_size);
    memcpy(b, valid, valid_size);
    size_t n = valid_size;
    for (size_t i = 0; i + 5 <= size; i += 5) {
        uint32_t off;
        memcpy(&off, data + i, 4);
        if (off == 0xffffffffu) { /* truncate to a number of 4 KiB pages (at least one) */
            size_t t = (size_t)(data[i + 4] + 1) * 4096u;
            if (t < n) n = t;
        }
        else b[off % n] = data[i + 4];
    }
    fix_checksums(b, n);
    char path[] = "/tmp/vigil-fuzz-rooms.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) { free(b); return 0; }
    if (write(fd, b, n) != (ssize_t)n) { close(fd); unlink(path); free(b); return 0; }
    close(fd);
    free(b);
    vigil_rooms *r;
    if (vigil_rooms_open(path, &r, NULL) == VIGIL_OK) {
        vigil_rooms_match m[5];
        size_t nm;
        vigil_rooms_query(r, &query, NULL, m, &nm, NULL);
        vigil_rooms_query_options o;
        vigil_rooms_query_options_init(&o);
        o.exhaustive = 1;
        vigil_rooms_query(r, &query, &o, m, &nm, NULL);
        for (uint64_t i = 0; i < 4; i++) {
            const char *name, *labels;
            uint32_t nf;
            if (vigil_rooms_image(r, i, &name, &labels, &nf) == VIGIL_OK && (strlen(name) > (size_t)-2 || strlen(labels) > (size_t)-2)) abort();
        }
        vigil_rooms_free(r);
    }
    unlink(path);
    return 0;
}
