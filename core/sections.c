/* sections.c - the container both vigil file formats share (.vgi hash index, .vgr room index):
 * a 64-byte header, a table of up to 16 sections, and 64-byte-aligned sections, each with its own
 * XXH3-64 checksum. Little-endian throughout; a big-endian reader sees the byte-order mark wrong.
 *
 *   offset 0    header   magic, version, byte-order mark, section count, file size,
 *                        checksum of header (checksum field 0) + section table
 *   64          sections table: {type, offset, size, checksum} x 16
 *   576...      sections
 *
 * Writing goes to a temporary file in the same folder, fsync, rename, fsync of the folder: a
 * crash leaves the old file or the new one, never a mix. Opening maps the file and checks the
 * header, the sizes against the actual file, every section's bounds and checksum before anything
 * reads a byte of it (XXH3 runs at memory speed). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define BOM 0x01020304u

typedef struct header {
    char magic[8];
    uint32_t version, bom, nsections, reserved;
    uint64_t file_size, checksum;
    uint8_t pad[24];
} header;

typedef struct section { uint32_t type, reserved; uint64_t offset, size, checksum; } section;

_Static_assert(sizeof(header) == 64, "header is 64 bytes");
_Static_assert(sizeof(section) == 32, "section entry is 32 bytes");

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

static uint64_t head_checksum(const header *h, const section *sec)
{
    uint8_t b[sizeof(header) + sizeof(section) * VIGIL__MAX_SECTIONS];
    header hz = *h;
    hz.checksum = 0;
    memcpy(b, &hz, sizeof hz);
    memcpy(b + sizeof hz, sec, sizeof(section) * VIGIL__MAX_SECTIONS);
    return XXH3_64bits(b, sizeof b);
}

vigil_result vigil__sections_write(const char *path, const char magic[8], uint32_t version, const vigil__part *parts,
                                   int n, vigil_error *err)
{
    if (n > VIGIL__MAX_SECTIONS) return vigil__fail(err, VIGIL_E_INVALID, "too many sections");
    header h = {0};
    section sec[VIGIL__MAX_SECTIONS] = {{0}};
    memcpy(h.magic, magic, 8);
    h.version = version;
    h.bom = BOM;
    h.nsections = (uint32_t)n;
    uint64_t pos = sizeof h + sizeof sec;
    for (int i = 0; i < n; i++) {
        pos = (pos + 63) & ~63ull;
        sec[i] = (section){parts[i].type, 0, pos, parts[i].n,
                           parts[i].n ? XXH3_64bits(parts[i].p, parts[i].n) : XXH3_64bits("", 0)};
        pos += parts[i].n;
    }
    h.file_size = pos;
    h.checksum = head_checksum(&h, sec);

    /* lstat: a symbolic link, device, FIFO or folder in the way is refused, never replaced */
    struct stat old;
    int have_old = lstat(path, &old) == 0;
    if (have_old && !S_ISREG(old.st_mode))
        return vigil__fail(err, VIGIL_E_NOT_FILE, "is %s: not replaced (only a regular file is)", vigil__file_kind(old.st_mode));
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
    fchmod(o.fd, have_old ? (old.st_mode & 07777) : 0644);
    put(&o, &h, sizeof h);
    put(&o, sec, sizeof sec);
    for (int i = 0; i < n; i++) {
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

vigil_result vigil__sections_map(const char *path, const char magic[8], uint32_t version, const char *what,
                                 int ntypes, vigil__mapped *m, vigil_error *err)
{
    memset(m, 0, sizeof *m);
    /* no size cap: the file is mapped, not read into memory, and its size must match the header */
    uint64_t size;
    int fd;
    vigil_result r = vigil__open_regular(path, 0, &fd, &size, err);
    if (r) return r;
    if (size < sizeof(header) + sizeof(section) * VIGIL__MAX_SECTIONS) {
        close(fd);
        return vigil__fail(err, size >= 8 ? VIGIL_E_CORRUPT : VIGIL_E_FORMAT, "not a vigil %s (%llu bytes is too short)", what,
                           (unsigned long long)size);
    }
    uint8_t *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return vigil__fail(err, VIGIL_E_IO, "cannot map: %s", strerror(errno));
    header h;
    section sec[VIGIL__MAX_SECTIONS];
    memcpy(&h, map, sizeof h);
    memcpy(sec, map + sizeof h, sizeof sec);
    if (memcmp(h.magic, magic, 8)) { r = vigil__fail(err, VIGIL_E_FORMAT, "not a vigil %s (wrong magic)", what); goto fail; }
    if (h.bom != BOM) { r = vigil__fail(err, VIGIL_E_FORMAT, "byte order not little-endian: written on another kind of machine?"); goto fail; }
    if (h.version != version) {
        r = vigil__fail(err, VIGIL_E_VERSION, "%s format version %u; this vigil reads version %u", what, h.version, version);
        goto fail;
    }
    if (h.file_size != size) {
        r = vigil__fail(err, VIGIL_E_CORRUPT, "truncated or extended: the header says %llu bytes, the file has %llu",
                        (unsigned long long)h.file_size, (unsigned long long)size);
        goto fail;
    }
    if (head_checksum(&h, sec) != h.checksum) { r = vigil__fail(err, VIGIL_E_CORRUPT, "header checksum mismatch"); goto fail; }
    if (h.nsections > VIGIL__MAX_SECTIONS || ntypes > VIGIL__MAX_SECTIONS + 1) {
        r = vigil__fail(err, VIGIL_E_CORRUPT, "too many sections");
        goto fail;
    }
    for (uint32_t i = 0; i < h.nsections; i++) {
        if (sec[i].type == 0 || sec[i].type >= (uint32_t)ntypes || m->part[sec[i].type]) {
            r = vigil__fail(err, VIGIL_E_CORRUPT, "bad section table");
            goto fail;
        }
        if (sec[i].offset % 64 || sec[i].offset > size || sec[i].size > size - sec[i].offset) {
            r = vigil__fail(err, VIGIL_E_CORRUPT, "a section lies outside the file");
            goto fail;
        }
        const uint8_t *p = map + sec[i].offset;
        if (XXH3_64bits(sec[i].size ? p : (const uint8_t *)"", sec[i].size) != sec[i].checksum) {
            r = vigil__fail(err, VIGIL_E_CORRUPT, "checksum mismatch in section %u (bytes %llu..%llu): the file is damaged",
                            sec[i].type, (unsigned long long)sec[i].offset, (unsigned long long)(sec[i].offset + sec[i].size));
            goto fail;
        }
        m->part[sec[i].type] = p;
        m->len[sec[i].type] = sec[i].size;
    }
    m->map = map;
    m->size = size;
    return VIGIL_OK;
fail:
    munmap(map, size);
    return r;
}

void vigil__sections_unmap(vigil__mapped *m)
{
    if (m->map) munmap(m->map, m->size);
    memset(m, 0, sizeof *m);
}
