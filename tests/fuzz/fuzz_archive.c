/* fuzz_archive.c - the container reader (core/archive.c over libarchive) on arbitrary bytes: the
 * sniff, every member listed and read, archives inside entered as the scan enters them, the
 * ENDs with their bytes given back; and the zip central-directory reader and the RAR 4/5 header
 * walker (core/rar_headers.c) on the same bytes.
 * Small limits, so that a mutated size or a bomb stays cheap: a member at most 4 MiB, 16 MiB out
 * in all, depth 3. */
#include "vigil.h"
#include "../../core/archive_impl.h"
#include "../../core/rar_headers.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct mem { const uint8_t *p; size_t n; } mem;

static long mem_read(void *ctx, uint64_t off, uint8_t *buf, size_t n)
{
    const mem *m = ctx;
    if (off >= m->n) return 0;
    size_t k = m->n - off < n ? (size_t)(m->n - off) : n;
    memcpy(buf, m->p + off, k);
    return (long)k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mem m = {data, size};
    vigil__rar_list rl;
    if (!vigil__rar_walk(mem_read, &m, size, 4096, &rl)) {
        volatile uint32_t sink = 0;
        for (size_t i = 0; i < rl.n; i++) /* every name and the NUL after it are inside the list */
            if (rl.names[rl.f[i].name_at + rl.f[i].name_len] || strlen(rl.names + rl.f[i].name_at) > rl.f[i].name_len) abort();
        for (size_t i = 0; i < rl.n; i++) sink += rl.f[i].crc32;
        (void)sink;
    }
    vigil__rar_list_free(&rl);
    uint64_t off, cdsize;
    size_t tn = size < 65557 ? size : 65557;
    if (!vigil__zip_eocd(data + size - tn, tn, size, &off, &cdsize)) {
        vigil__zip_cd_entry e[64];
        size_t n = vigil__zip_cd_parse(data + off, (size_t)cdsize, e, 64);
        volatile uint32_t sink = 0;
        for (size_t i = 0; i < n; i++) sink += e[i].crc32 + e[i].name[e[i].name_len ? e[i].name_len - 1 : 0];
        (void)sink;
    }
    (void)vigil_archive_sniff(data, size);
    vigil_archive_options o;
    vigil_archive_options_init(&o);
    o.max_member_bytes = 4u << 20;
    o.max_total_bytes = 16u << 20;
    o.max_depth = 3;
    vigil_archive *a;
    vigil_error err;
    if (vigil_archive_open_memory(data, size, &o, &a, &err)) return 0;
    vigil_archive_entry e;
    unsigned long steps = 0;
    while (vigil_archive_next(a, &e) && ++steps < 100000) {
        if (e.kind == VIGIL_ARCHIVE_END) { vigil_free(e.data); continue; }
        if (strlen(e.path) > (1u << 20)) abort(); /* paths are bounded by the names stored */
        uint8_t *buf;
        size_t n;
        if (vigil_archive_read(a, &buf, &n, &err)) continue;
        if (vigil_archive_sniff(buf, n) && !vigil_archive_enter(a, buf, n, &err)) continue;
        vigil_free(buf);
    }
    vigil_archive_free(a);
    return 0;
}
