/* fuzz_archive.c - the container reader (core/archive.c over libarchive) on arbitrary bytes: the
 * sniff, every member listed and read, archives inside entered as the scan enters them, the
 * ENDs with their bytes given back; the zip central-directory reader, the RAR 4/5 header walker
 * (core/rar_headers.c) and the 7z header reader (core/sevenz_headers.c, its LZMA-encoded header
 * included) on the same bytes; and the same bytes as a file (a memfd), so that the zip's own digest
 * thread reads its stored members' local headers and the members are read later by ticket
 * (core/archive_digest.c).
 * Small limits, so that a mutated size or a bomb stays cheap: a member at most 4 MiB, 16 MiB out
 * in all, depth 3. */
#include "vigil.h"
#include "../../core/archive_impl.h"
#include "../../core/rar_headers.h"
#include "../../core/sevenz_headers.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* The bytes as an archive file: its own digests on their thread, stored members by ticket. */
static void as_file(const uint8_t *data, size_t size, const vigil_archive_options *o)
{
    if (size < 4 || memcmp(data, "PK\3\4", 4)) return; /* the tickets are for zips only */
    int fd = memfd_create("fuzz-archive", MFD_CLOEXEC);
    if (fd < 0) return;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    vigil_archive *a;
    vigil_error err;
    if (write(fd, data, size) == (ssize_t)size && !vigil_archive_open_file(path, o, &a, &err)) {
        vigil_archive_digests_begin(a, &err);
        vigil_archive_entry e;
        vigil_digest_ticket *t[8] = {0};
        int nt = 0;
        unsigned long steps = 0;
        while (vigil_archive_next(a, &e) && ++steps < 100000) {
            if (e.kind == VIGIL_ARCHIVE_END) { vigil_free(e.data); continue; }
            vigil_digest_ticket *tk;
            uint8_t *buf = NULL, head[16];
            size_t n;
            if (!vigil_archive_read_later(a, &tk, &err)) {
                (void)vigil_digest_ticket_peek(tk, head, sizeof head);
                if (!vigil_digest_ticket_read(tk, &buf, &n, &err)) vigil_free(buf);
                if (nt < 8) t[nt++] = tk; /* waited on after the archive is freed */
                else vigil_digest_ticket_free(tk);
            } else if (!vigil_archive_read(a, &buf, &n, &err)) {
                vigil_free(buf);
            }
        }
        vigil_digest_ticket *own = vigil_archive_digests_ticket(a);
        vigil_archive_free(a);
        vigil_hash_result r;
        for (int i = 0; i < nt; i++) { (void)vigil_digest_ticket_wait(t[i], &r); vigil_digest_ticket_free(t[i]); }
        (void)vigil_digest_ticket_wait(own, &r);
        vigil_digest_ticket_free(own);
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mem m = {data, size};
    vigil__facts rl;
    if (!vigil__rar_walk(mem_read, &m, size, 4096, &rl)) {
        volatile uint32_t sink = 0;
        for (size_t i = 0; i < rl.n; i++) /* every name and the NUL after it are inside the list */
            if (rl.names[rl.f[i].name_at + rl.f[i].name_len] || strlen(rl.names + rl.f[i].name_at) > rl.f[i].name_len) abort();
        for (size_t i = 0; i < rl.n; i++) sink += rl.f[i].crc32;
        (void)sink;
    }
    vigil__facts_free(&rl);
    vigil__facts sl;
    if (!vigil__7z_walk(mem_read, &m, size, 1u << 22, &sl)) {
        volatile uint32_t sink = 0;
        for (size_t i = 0; i < sl.n; i++)
            if (sl.names[sl.f[i].name_at + sl.f[i].name_len] || strlen(sl.names + sl.f[i].name_at) > sl.f[i].name_len) abort();
        for (size_t i = 0; i < sl.n; i++) sink += sl.f[i].crc32 + (uint32_t)sl.f[i].size;
        (void)sink;
    }
    vigil__facts_free(&sl);
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
    as_file(data, size, &o);
    return 0;
}
