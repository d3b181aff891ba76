/* index_file.c - the .vgi file: one header, a section table, and 64-byte-aligned sections, every
 * one with its own XXH3-64 checksum. Little-endian throughout (the canonical byte order of
 * include/vigil.h); a big-endian reader sees the byte-order mark wrong and refuses the file.
 *
 *   offset 0   header   magic "VIGILIDX", version, byte-order mark, section count, file size,
 *                       checksum of header + section table
 *   64         sections table: {type, offset, size, checksum} x count
 *   ...        sections (META, HASHES, QUALITY, META_OFFSETS, STRINGS, MIH_OFFSETS, MIH_IDS,
 *                        DELTA_*, TOMBSTONES, digest entries and their strings)
 *
 * Opening maps the file and checks everything before use: sizes against the header and the actual
 * file, every section's bounds and checksum (XXH3 runs at memory speed: ~0.1 s for 10 M entries),
 * and the structure the search relies on (bucket offsets monotonic and complete, slots in range,
 * string offsets inside their area). The multi-index part is then used in place, never rebuilt.
 * Writing goes to a temporary file in the same folder, fsync, rename, fsync of the folder. */
#include "index_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libgen.h>
#include <xxhash.h>

#define MAGIC "VIGILIDX"
#define VERSION 1
#define BOM 0x01020304u
#define MAX_SECTIONS 16

enum { S_META = 1, S_HASHES, S_QUALITY, S_ENTRY_META, S_STRINGS, S_MIH_OFFSETS, S_MIH_IDS,
       S_DHASHES, S_DQUALITY, S_DMETA, S_DSTRINGS, S_TOMB, S_XRECS, S_XSTRINGS, S_COUNT };
/* Sections a file may lack (written by an earlier 0.1 build): read as empty. */
#define OPTIONAL_SECTION(t) ((t) == S_XRECS || (t) == S_XSTRINGS)

typedef struct header {
    char magic[8];
    uint32_t version, bom, nsections, reserved;
    uint64_t file_size, checksum; /* checksum of header (this field 0) + section table */
    uint8_t pad[24];
} header;

typedef struct section { uint32_t type, reserved; uint64_t offset, size, checksum; } section;

typedef struct meta {
    char set_name[64];
    uint64_t nbase, ndelta, nremoved;
    uint32_t id_width, tables;
    uint64_t strings_size, dstrings_size;
} meta;

_Static_assert(sizeof(header) == 64, "header is 64 bytes");
_Static_assert(sizeof(section) == 32, "section entry is 32 bytes");

void vigil__index_unmap(vigil_index *x)
{
    if (x->map) munmap(x->map, x->map_size);
    x->map = NULL;
    x->map_size = 0;
}

/* ------------------------------------------------------------------------------------------------
 * Save */

typedef struct out { int fd; uint64_t pos; int failed; int err; } out;

static void put(out *o, const void *p, uint64_t n)
{
    const uint8_t *b = p;
    while (n && !o->failed) {
        ssize_t w = write(o->fd, b, n > (1u << 30) ? (1u << 30) : n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { o->failed = 1; o->err = w < 0 ? errno : EIO; return; }
        b += w; n -= (uint64_t)w; o->pos += (uint64_t)w;
    }
}

static void pad64(out *o)
{
    static const uint8_t z[64];
    if (o->pos % 64) put(o, z, 64 - o->pos % 64);
}

vigil_result vigil_index_save(const vigil_index *x, const char *path, vigil_error *err)
{
    if (!x || !path) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    meta m = {0};
    memcpy(m.set_name, x->set_name, sizeof m.set_name);
    m.nbase = x->nbase;
    m.ndelta = x->ndelta;
    m.nremoved = x->nremoved;
    m.id_width = (uint32_t)x->id_width;
    m.tables = x->has_mih ? MIH_TABLES : 0;
    m.strings_size = x->strings_size;
    m.dstrings_size = x->dstrings.n;
    uint64_t total = x->nbase + x->ndelta;
    struct { int type; const void *p; uint64_t n; } parts[] = {
        {S_META, &m, sizeof m},
        {S_HASHES, x->hashes, x->nbase * sizeof(vigil_pdq)},
        {S_QUALITY, x->quality, x->nbase},
        {S_ENTRY_META, x->meta, x->nbase * 8},
        {S_STRINGS, x->strings, x->strings_size},
        {S_MIH_OFFSETS, x->offsets, x->has_mih ? MIH_TABLES * (MIH_BUCKETS + 1ull) * 4 : 0},
        {S_MIH_IDS, x->ids, x->has_mih ? (MIH_TABLES - 1) * x->nbase * (uint64_t)x->id_width + 4 : 0},
        {S_DHASHES, x->dhashes.p, x->dhashes.n},
        {S_DQUALITY, x->dquality.p, x->dquality.n},
        {S_DMETA, x->dmeta.p, x->dmeta.n},
        {S_DSTRINGS, x->dstrings.p, x->dstrings.n},
        {S_TOMB, x->tomb.p, (total + 7) / 8 <= x->tomb.n ? (total + 7) / 8 : x->tomb.n},
        {S_XRECS, x->xrec.p, x->xrec.n},
        {S_XSTRINGS, x->xstrings.p, x->xstrings.n},
    };
    const int ns = (int)(sizeof parts / sizeof parts[0]);
    header h = {0};
    section sec[MAX_SECTIONS] = {{0}};
    memcpy(h.magic, MAGIC, 8);
    h.version = VERSION;
    h.bom = BOM;
    h.nsections = (uint32_t)ns;
    uint64_t pos = sizeof h + sizeof(section) * MAX_SECTIONS;
    for (int i = 0; i < ns; i++) {
        pos = (pos + 63) & ~63ull;
        sec[i] = (section){(uint32_t)parts[i].type, 0, pos, parts[i].n,
                           parts[i].n ? XXH3_64bits(parts[i].p, parts[i].n) : XXH3_64bits("", 0)};
        pos += parts[i].n;
    }
    h.file_size = pos;
    XXH3_state_t *st = XXH3_createState();
    if (!st) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, &h, sizeof h);
    XXH3_64bits_update(st, sec, sizeof sec);
    h.checksum = XXH3_64bits_digest(st);
    XXH3_freeState(st);

    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    out o = {mkstemp(tmp), 0, 0, 0};
    if (o.fd < 0) {
        int e = errno;
        free(tmp);
        return vigil__fail(err, VIGIL_E_IO, "cannot create a temporary file next to it: %s", strerror(e));
    }
    /* mkstemp makes 0600: keep the mode of the file we replace, else the usual 0644 */
    struct stat old;
    fchmod(o.fd, stat(path, &old) == 0 ? (old.st_mode & 07777) : 0644);
    put(&o, &h, sizeof h);
    put(&o, sec, sizeof sec);
    for (int i = 0; i < ns; i++) {
        pad64(&o);
        if (parts[i].n) put(&o, parts[i].p, parts[i].n);
    }
    if (!o.failed && fsync(o.fd)) { o.failed = 1; o.err = errno; }
    if (close(o.fd) && !o.failed) { o.failed = 1; o.err = errno; }
    if (!o.failed && rename(tmp, path)) { o.failed = 1; o.err = errno; }
    if (o.failed) {
        unlink(tmp);
        free(tmp);
        return vigil__fail(err, VIGIL_E_IO, "writing failed: %s (the previous file, if any, is untouched)", strerror(o.err));
    }
    free(tmp);
    /* the rename itself must reach the disk: fsync the folder */
    char *dup = strdup(path);
    if (dup) {
        int dfd = open(dirname(dup), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) { fsync(dfd); close(dfd); }
        free(dup);
    }
    return VIGIL_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Open */

static vigil_result corrupt(vigil_error *err, const char *what)
{
    return vigil__fail(err, VIGIL_E_CORRUPT, "%s", what);
}

static int copy_into(buf *b, const uint8_t *p, uint64_t n)
{
    b->n = 0;
    return vigil__buf_put(b, p, n);
}

/* Every string offset must point inside its area, which must end with a NUL. */
static int strings_ok(const uint32_t *m, uint64_t n, const char *s, uint64_t size)
{
    if (size == 0) return n == 0;
    if (s[size - 1] != 0) return 0;
    for (uint64_t i = 0; i < 2 * n; i++)
        if (m[i] >= size) return 0;
    return 1;
}

vigil_result vigil_index_open(const char *path, vigil_index **out_idx, vigil_error *err)
{
    if (!path || !out_idx) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    *out_idx = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return vigil__fail(err, VIGIL_E_IO, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return vigil__fail(err, VIGIL_E_NOT_FILE, "not a regular file");
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < sizeof(header) + sizeof(section) * MAX_SECTIONS) {
        close(fd);
        return vigil__fail(err, size >= 8 ? VIGIL_E_CORRUPT : VIGIL_E_FORMAT, "not a vigil index (%llu bytes is too short)",
                           (unsigned long long)size);
    }
    uint8_t *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return vigil__fail(err, VIGIL_E_IO, "cannot map: %s", strerror(errno));
    vigil_result r;
    header h;
    memcpy(&h, map, sizeof h);
    section sec[MAX_SECTIONS];
    memcpy(sec, map + sizeof h, sizeof sec);
    if (memcmp(h.magic, MAGIC, 8)) { r = vigil__fail(err, VIGIL_E_FORMAT, "not a vigil index (wrong magic)"); goto fail; }
    if (h.bom != BOM) { r = vigil__fail(err, VIGIL_E_FORMAT, "byte order not little-endian: written on another kind of machine?"); goto fail; }
    if (h.version != VERSION) {
        r = vigil__fail(err, VIGIL_E_VERSION, "index format version %u; this vigil reads version %u", h.version, VERSION);
        goto fail;
    }
    if (h.file_size != size) {
        r = vigil__fail(err, VIGIL_E_CORRUPT, "truncated or extended: the header says %llu bytes, the file has %llu",
                        (unsigned long long)h.file_size, (unsigned long long)size);
        goto fail;
    }
    {
        header hz = h;
        hz.checksum = 0;
        XXH3_state_t *xs = XXH3_createState();
        if (!xs) { r = vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); goto fail; }
        XXH3_64bits_reset(xs);
        XXH3_64bits_update(xs, &hz, sizeof hz);
        XXH3_64bits_update(xs, sec, sizeof sec);
        uint64_t c = XXH3_64bits_digest(xs);
        XXH3_freeState(xs);
        if (c != h.checksum) { r = corrupt(err, "header checksum mismatch"); goto fail; }
    }
    if (h.nsections > MAX_SECTIONS) { r = corrupt(err, "too many sections"); goto fail; }
    const uint8_t *part[S_COUNT] = {0};
    uint64_t plen[S_COUNT] = {0};
    for (uint32_t i = 0; i < h.nsections; i++) {
        if (sec[i].type == 0 || sec[i].type >= S_COUNT || part[sec[i].type]) { r = corrupt(err, "bad section table"); goto fail; }
        if (sec[i].offset % 64 || sec[i].offset > size || sec[i].size > size - sec[i].offset) {
            r = corrupt(err, "a section lies outside the file");
            goto fail;
        }
        const uint8_t *p = map + sec[i].offset;
        if (XXH3_64bits(sec[i].size ? p : (const uint8_t *)"", sec[i].size) != sec[i].checksum) {
            r = vigil__fail(err, VIGIL_E_CORRUPT, "checksum mismatch in section %u (bytes %llu..%llu): the file is damaged",
                            sec[i].type, (unsigned long long)sec[i].offset, (unsigned long long)(sec[i].offset + sec[i].size));
            goto fail;
        }
        part[sec[i].type] = p;
        plen[sec[i].type] = sec[i].size;
    }
    for (int t = 1; t < S_COUNT; t++)
        if (!part[t] && !OPTIONAL_SECTION(t)) { r = corrupt(err, "a section is missing"); goto fail; }
    if (plen[S_META] != sizeof(meta)) { r = corrupt(err, "bad META section"); goto fail; }
    meta m;
    memcpy(&m, part[S_META], sizeof m);
    m.set_name[63] = 0;
    uint64_t nb = m.nbase, nd = m.ndelta;
    int mih = m.tables == MIH_TABLES;
    if (nb >= UINT32_MAX || nd >= UINT32_MAX || (m.tables != MIH_TABLES && m.tables != 0) || mih != (nb >= MIH_MIN_ENTRIES) || (m.id_width != 3 && m.id_width != 4) ||
        (nb >= (1u << 24) && m.id_width != 4) || plen[S_HASHES] != nb * 32 || plen[S_QUALITY] != nb ||
        plen[S_ENTRY_META] != nb * 8 || plen[S_STRINGS] != m.strings_size ||
        plen[S_MIH_OFFSETS] != (mih ? MIH_TABLES * (MIH_BUCKETS + 1ull) * 4 : 0) ||
        plen[S_MIH_IDS] != (mih ? (MIH_TABLES - 1) * nb * m.id_width + 4 : 0) || plen[S_DHASHES] != nd * 32 ||
        plen[S_DQUALITY] != nd || plen[S_DMETA] != nd * 8 || plen[S_DSTRINGS] != m.dstrings_size ||
        plen[S_TOMB] > (nb + nd + 7) / 8 || m.nremoved > nb + nd || (uintptr_t)part[S_HASHES] % 8 ||
        plen[S_XRECS] % sizeof(vigil__digest_rec) || plen[S_XRECS] / sizeof(vigil__digest_rec) >= (UINT32_MAX >> 2)) {
        r = corrupt(err, "section sizes do not agree with the entry counts");
        goto fail;
    }
    vigil_index *x;
    if ((r = vigil_index_new(m.set_name, &x, err))) goto fail;
    x->map = map;
    x->map_size = size;
    x->nbase = nb;
    x->hashes = (const vigil_pdq *)part[S_HASHES];

    x->quality = part[S_QUALITY];
    x->meta = (const uint32_t *)part[S_ENTRY_META];
    x->strings = (const char *)part[S_STRINGS];
    x->strings_size = m.strings_size;
    x->offsets = mih ? (const uint32_t *)part[S_MIH_OFFSETS] : NULL;
    x->ids = mih ? part[S_MIH_IDS] : NULL;
    x->has_mih = mih;
    x->id_width = (int)m.id_width;
    x->ndelta = nd;
    x->nremoved = m.nremoved;
    if (copy_into(&x->dhashes, part[S_DHASHES], plen[S_DHASHES]) || copy_into(&x->dquality, part[S_DQUALITY], plen[S_DQUALITY]) ||
        copy_into(&x->dmeta, part[S_DMETA], plen[S_DMETA]) || copy_into(&x->dstrings, part[S_DSTRINGS], plen[S_DSTRINGS]) ||
        copy_into(&x->tomb, part[S_TOMB], plen[S_TOMB]) || copy_into(&x->xrec, part[S_XRECS], plen[S_XRECS]) ||
        copy_into(&x->xstrings, part[S_XSTRINGS], plen[S_XSTRINGS]) ||
        (x->tomb.n < (nb + nd + 7) / 8 && vigil__buf_put(&x->tomb, NULL, (nb + nd + 7) / 8 - x->tomb.n))) {
        vigil_index_free(x);
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    }
    /* structure the search relies on, so a crafted file cannot send it out of bounds */
    const char *why = NULL;
    if (!strings_ok(x->meta, nb, x->strings, x->strings_size) ||
        !strings_ok((const uint32_t *)x->dmeta.p, nd, (const char *)x->dstrings.p, x->dstrings.n))
        why = "string offsets out of range";
    for (int t = 0; t < MIH_TABLES && mih && !why; t++) {
        const uint32_t *o = x->offsets + (uint64_t)t * (MIH_BUCKETS + 1);
        if (o[0] != 0 || o[MIH_BUCKETS] != nb) why = "bucket offsets do not cover the entries";
        for (uint32_t k = 0; k < MIH_BUCKETS && !why; k++)
            if (o[k] > o[k + 1]) why = "bucket offsets out of order";
        for (uint64_t i = 0; t > 0 && i < nb && !why; i++)
            if (mih_slot(x, t, i) >= nb) why = "a slot points outside the entries";
    }
    for (uint64_t s = 0; s < nb && mih && !why; s++) { /* table 0 is the storage order: check it fully */
        uint32_t k = mih_key(&x->hashes[s], 0);
        if (s < x->offsets[k] || s >= x->offsets[k + 1]) why = "entries out of order";
    }
    if (!why && x->dstrings.n == 0 && vigil__buf_put(&x->dstrings, "", 1)) why = "out of memory";
    {
        const vigil__digest_rec *xr = (const vigil__digest_rec *)x->xrec.p;
        size_t nx = x->xrec.n / sizeof *xr;
        if (x->xstrings.n && x->xstrings.p[x->xstrings.n - 1] != 0 && !why) why = "digest strings not terminated";
        for (size_t i = 0; i < nx && !why; i++)
            if ((xr[i].have & ~3u) || xr[i].id >= (x->xstrings.n ? x->xstrings.n : 1) ||
                xr[i].labels >= (x->xstrings.n ? x->xstrings.n : 1))
                why = "a digest entry is out of range";
        if (!why && vigil__digests_rehash(x)) why = "out of memory";
    }
    uint64_t dead = 0;
    for (size_t i = 0; i < x->tomb.n; i++) dead += (uint64_t)__builtin_popcount(x->tomb.p[i]);
    if (!why && dead != x->nremoved) why = "tombstone count disagrees";
    if (why) {
        vigil_index_free(x);
        return corrupt(err, why);
    }
    *out_idx = x;
    return VIGIL_OK;
fail:
    munmap(map, size);
    return r;
}
