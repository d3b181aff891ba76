/* rar_headers.c - the file headers of RAR 4 and RAR 5 archives (see rar_headers.h). Layouts from
 * RARLAB's technical notes: RAR 4 blocks are CRC16:2 TYPE:1 FLAGS:2 SIZE:2 (+ a 4-byte data size
 * when FLAGS has 0x8000), RAR 5 blocks are CRC32:4 SIZE:vint then SIZE bytes of header, its data
 * area after it. Every field is checked against the bytes read before it is used; a header whose
 * CRC does not match ends the walk (libarchive reports the damage, this only adds facts). */
#include "rar_headers.h"

#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>

#define RAR5_HEADER_MAX (2u << 20) /* the format's own limit (a 3-byte size vint) */
#define RAR4_HEADER_MAX 65535u

typedef struct walk {
    vigil__pread_fn rd;
    void *ctx;
    uint64_t size;
    size_t max;
    vigil__facts *out;
    uint8_t *h;                  /* the header being read */
} walk;

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static int read_all(walk *w, uint64_t off, uint8_t *buf, size_t n)
{
    if (off > w->size || n > w->size - off) return -1;
    return w->rd(w->ctx, off, buf, n) == (long)n ? 0 : -1;
}

/* ---- RAR 4 -------------------------------------------------------------------------------------- */

static int walk4(walk *w)
{
    uint64_t off = 7;
    while (w->out->n < w->max) {
        uint8_t b[7];
        if (read_all(w, off, b, 7)) return 0;
        unsigned type = b[2], flags = le16(b + 3), hs = le16(b + 5);
        if (hs < 7) return 0;
        if (read_all(w, off, w->h, hs)) return 0;
        if ((libdeflate_crc32(0, w->h + 2, hs - 2) & 0xFFFF) != le16(w->h)) return 0;
        uint64_t data = 0;
        if (type == 0x73 && (flags & 0x0080)) { w->out->locked = 1; return 0; } /* MHD_PASSWORD */
        if (type == 0x7B) return 0;                                             /* end of archive */
        if ((flags & 0x8000) && hs >= 11) data = le32(w->h + 7);
        if (type == 0x74) { /* a file */
            if (hs < 32) return 0;
            uint64_t unp = le32(w->h + 11);
            size_t nl = le16(w->h + 26), at = 32;
            if (flags & 0x0100) { /* 64-bit sizes */
                if (hs < 40) return 0;
                data |= (uint64_t)le32(w->h + 32) << 32;
                unp |= (uint64_t)le32(w->h + 36) << 32;
                at = 40;
            }
            if (at + nl > hs) return 0;
            size_t shown = nl; /* a Unicode name (0x200) is "ASCII\0encoded": the first part */
            const uint8_t *z = memchr(w->h + at, 0, nl);
            if ((flags & 0x0200) && z) shown = (size_t)(z - (w->h + at));
            if (vigil__facts_add(w->out, w->h + at, shown, unp, le32(w->h + 16), 1, !!(flags & 0x0004), (flags & 0x00E0) == 0x00E0)) return -1;
        }
        off += hs + data;
    }
    return 0;
}

/* ---- RAR 5 -------------------------------------------------------------------------------------- */

/* A vint at p[*at..n): 0 and *v, or -1 (runs past n or over 10 bytes). */
static int vint(const uint8_t *p, size_t n, size_t *at, uint64_t *v)
{
    uint64_t x = 0;
    for (int s = 0; s < 70; s += 7) {
        if (*at >= n) return -1;
        uint8_t b = p[(*at)++];
        x |= (uint64_t)(b & 0x7F) << s;
        if (!(b & 0x80)) { *v = x; return 0; }
    }
    return -1;
}

static int file5(walk *w, const uint8_t *h, size_t n, uint64_t hflags, uint64_t extra_size)
{
    size_t at = 0;
    uint64_t ff, unp, attr, comp, os, nl;
    if (vint(h, n, &at, &ff) || vint(h, n, &at, &unp) || vint(h, n, &at, &attr)) return 0;
    if ((ff & 0x2) && (at += 4) > n) return 0;
    uint32_t crc = 0;
    if (ff & 0x4) {
        if (at + 4 > n) return 0;
        crc = le32(h + at);
        at += 4;
    }
    if (vint(h, n, &at, &comp) || vint(h, n, &at, &os) || vint(h, n, &at, &nl) || nl > n - at) return 0;
    const uint8_t *name = h + at;
    int enc = 0, plain = 1;
    if ((hflags & 0x1) && extra_size <= n) { /* extra records: SIZE:vint TYPE:vint DATA */
        size_t x = n - (size_t)extra_size;
        while (x < n) {
            uint64_t rs, rt, ver, rf;
            size_t r0 = x;
            if (vint(h, n, &x, &rs) || rs > n - x) break;
            size_t end = x + (size_t)rs;
            if (vint(h, end, &x, &rt)) break;
            if (rt == 1) { /* file encryption: VERSION FLAGS ...; flag 0x2: checksums tweaked by the key */
                enc = 1;
                if (!vint(h, end, &x, &ver) && !vint(h, end, &x, &rf) && (rf & 0x2)) plain = 0;
            }
            x = end;
            if (x <= r0) break;
        }
    }
    return vigil__facts_add(w->out, name, (size_t)nl, unp, crc, (ff & 0x4) && plain, enc, !!(ff & 0x1));
}

static int walk5(walk *w)
{
    uint64_t off = 8;
    while (w->out->n < w->max) {
        uint8_t b[7];
        uint64_t avail = w->size - off;
        if (off >= w->size || read_all(w, off, b, avail < 7 ? (size_t)avail : 7)) return 0;
        size_t at = 4;
        uint64_t hsize;
        if (vint(b, avail < 7 ? (size_t)avail : 7, &at, &hsize) || hsize == 0 || hsize > RAR5_HEADER_MAX) return 0;
        size_t total = at + (size_t)hsize;
        if (read_all(w, off, w->h, total)) return 0;
        if ((uint32_t)libdeflate_crc32(0, w->h + 4, (size_t)(total - 4)) != le32(w->h)) return 0;
        const uint8_t *h = w->h + at;
        size_t n = (size_t)hsize, p = 0;
        uint64_t type, hflags, extra = 0, data = 0;
        if (vint(h, n, &p, &type) || vint(h, n, &p, &hflags)) return 0;
        if ((hflags & 0x1) && vint(h, n, &p, &extra)) return 0;
        if ((hflags & 0x2) && vint(h, n, &p, &data)) return 0;
        if (type == 4) { w->out->locked = 1; return 0; } /* archive encryption header */
        if (type == 5) return 0;                          /* end of archive */
        if (type == 2 && file5(w, h + p, n - p, hflags, extra)) return -1;
        if (data > w->size) return 0;
        off += total + data;
    }
    return 0;
}

int vigil__rar_walk(vigil__pread_fn rd, void *ctx, uint64_t size, size_t max_files, vigil__facts *out)
{
    memset(out, 0, sizeof *out);
    uint8_t sig[8];
    walk w = {rd, ctx, size, max_files, out, NULL};
    if (size < 8 || rd(ctx, 0, sig, 8) != 8 || memcmp(sig, "Rar!\x1a\x07", 6)) return 0;
    int v5 = sig[6] == 1 && sig[7] == 0;
    if (!v5 && sig[6] != 0) return 0;
    out->version = v5 ? 5 : 4;
    if (!(w.h = malloc(v5 ? RAR5_HEADER_MAX + 8 : RAR4_HEADER_MAX))) return -1;
    int r = v5 ? walk5(&w) : walk4(&w);
    free(w.h);
    return r;
}
