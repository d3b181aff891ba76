/* fuzz_list.c - the hash-list parser on arbitrary bytes (TSV, CSV, JSON Lines, plain lines, VICS),
 * whole in memory and streamed in chunks: of 1 byte (inputs up to 8 KiB), of 1 to 13 bytes, or of
 * 1 to 4096 bytes, chosen by the input, so strings, escapes, numbers and records are split at every
 * place. Both must report the same entries, messages and lines (a digest of every callback); any
 * difference aborts. */
#include "vigil.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void mix(uint64_t *h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) *h = (*h ^ b[i]) * 0x100000001b3ull;
}

static void mix_str(uint64_t *h, const char *s)
{
    if (s) mix(h, s, strlen(s) + 1);
    else mix(h, "\xff", 1);
}

static int on_entry(const vigil_list_entry *e, void *ctx)
{
    uint64_t *h = ctx;
    mix(h, "E", 1);
    if (e->has_pdq) mix(h, &e->hash, sizeof e->hash);
    mix(h, &e->quality, sizeof e->quality);
    mix(h, &e->line, sizeof e->line);
    mix_str(h, e->id);
    mix_str(h, e->labels);
    if (e->md5) mix(h, e->md5, 16);
    if (e->sha1) mix(h, e->sha1, 20);
    return 0;
}

static int on_error(uint64_t line, const char *why, void *ctx)
{
    uint64_t *h = ctx;
    mix(h, "X", 1);
    mix(h, &line, sizeof line);
    mix_str(h, why);
    return 0;
}

typedef struct chunks { const uint8_t *p; size_t left; uint32_t seed, most; } chunks;

static ptrdiff_t read_chunk(void *buf, size_t cap, void *ctx)
{
    chunks *c = ctx;
    c->seed = c->seed * 1103515245u + 12345u;
    size_t n = 1 + (c->seed >> 8) % c->most;
    if (n > cap) n = cap;
    if (n > c->left) n = c->left;
    memcpy(buf, c->p, n);
    c->p += n;
    c->left -= n;
    return (ptrdiff_t)n;
}

static uint64_t run(const uint8_t *data, size_t size, int mode)
{
    uint64_t h = 0xcbf29ce484222325ull;
    vigil_error e;
    memset(&e, 0, sizeof e);
    vigil_result r;
    if (mode == 0) r = vigil_list_parse((const char *)data, size, on_entry, on_error, &h, &e);
    else {
        static const uint32_t most[3] = {1, 13, 4096};
        chunks c = {data, size, (uint32_t)size * 2654435761u, most[mode - 1]};
        r = vigil_list_parse_stream(read_chunk, &c, on_entry, on_error, &h, &e);
    }
    mix(&h, &r, sizeof r);
    if (r) mix_str(&h, e.message);
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t whole = run(data, size, 0);
    uint32_t pick = ((uint32_t)size * 2246822519u ^ (size ? data[size / 2] * 40503u : 0)) >> 8;
    int mode = 1 + (int)(pick % 3);
    if (mode == 1 && size > 8192) mode = 2;
    if (run(data, size, mode) != whole) abort(); /* streamed differently */
    return 0;
}
