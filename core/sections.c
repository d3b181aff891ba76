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
 * crash leaves the old file or the new one, never a mix. Opening reads the file into memory and
 * checks the header, the sizes against the actual file, every section's bounds and checksum
 * before anything reads a byte of it (XXH3 runs at memory speed). */
#include "sections.h"
#include "options.h"

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

/* Why the file is read into memory and not mapped: a mapping shows other processes' writes as
 * they land. `cp new.vgi live.vgi` truncates the file and rewrites it, so a reader of the mapping
 * gets SIGBUS past the new end, and, worse, bytes of the new file under bounds and offsets that
 * were checked against the old one, which a signal handler cannot catch. A private copy is
 * immune, needs no signal handler in any program that uses the library, and costs little more
 * than the reads the checksums make anyway (open already touches every byte). The price: each
 * process holds its own copy instead of sharing the page cache. */
/* Whether the bytes may have changed between two fstat of one open file. A rename over its path
 * (vigil's own writers) drops its link count and so moves its ctime, as chmod and chown do: ctime
 * counts only when none of those changed. */
static int same_stat(const struct stat *a, const struct stat *b)
{
    if (a->st_size != b->st_size || a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec)
        return 0;
    int meta_same = a->st_nlink == b->st_nlink && a->st_mode == b->st_mode && a->st_uid == b->st_uid && a->st_gid == b->st_gid;
    return !meta_same || (a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec);
}

static int64_t ns_of(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

static void keep_source(vigil__source *s, const char *path, int fd, const struct stat *st)
{
    s->path = strdup(path);
    s->fd = s->path ? fd : -1;
    if (!s->path) close(fd); /* out of memory: the handle works, it just cannot tell a change */
    s->dev = (uint64_t)st->st_dev;
    s->ino = (uint64_t)st->st_ino;
    s->size = (uint64_t)st->st_size;
    s->nlink = (uint64_t)st->st_nlink;
    s->mode = (uint64_t)st->st_mode;
    s->uid = (uint64_t)st->st_uid;
    s->gid = (uint64_t)st->st_gid;
    s->mtime_ns = ns_of(st->st_mtim);
    s->ctime_ns = ns_of(st->st_ctim);
}

void vigil_open_options_init(vigil_open_options *o)
{
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->threads = 1;
}

#define OPEN_OPTION_FIELDS(X) X(threads)
VIGIL__OPTIONS_READER(take_open_options, vigil_open_options, vigil_open_options_init, OPEN_OPTION_FIELDS, threads)

vigil_result vigil__sections_map(const char *path, const char magic[8], uint32_t version, const char *what,
                                 int ntypes, const vigil_open_options *opt, vigil__mapped *m, vigil_error *err)
{
    memset(m, 0, sizeof *m);
    vigil_open_options oo;
    vigil_result ro = take_open_options(opt, &oo, err);
    if (ro) return ro;
    if (oo.threads < 1 || oo.threads > 64)
        return vigil__fail(err, VIGIL_E_INVALID, "vigil_open_options.threads is %u: 1 to 64", oo.threads);
    m->src.fd = -1;
    /* no size cap beyond memory: the whole file is read, and its size must match the header */
    uint64_t size;
    int fd;
    vigil_result r0 = vigil__open_regular(path, 0, &fd, &size, err);
    if (r0) return r0;
    struct stat st;
    if (fstat(fd, &st)) {
        close(fd);
        return vigil__fail(err, VIGIL_E_IO, "cannot stat: %s", strerror(errno));
    }
    if (size < sizeof(header) + sizeof(section) * VIGIL__MAX_SECTIONS) {
        close(fd);
        return vigil__fail(err, size >= 8 ? VIGIL_E_CORRUPT : VIGIL_E_FORMAT, "not a vigil %s (%llu bytes is too short)", what,
                           (unsigned long long)size);
    }
    uint8_t *map = NULL;
    if (size > SIZE_MAX || posix_memalign((void **)&map, size >= (8u << 20) ? (2u << 20) : 64, (size_t)size)) { /* 64: sections keep their file alignment; 2 MB: huge pages (below) */
        close(fd);
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory reading %llu bytes", (unsigned long long)size);
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    /* huge pages where the system gives them on request: a 3 GB index with features spent 40 % of
     * its open in 4 KB page faults (bench/results/kfeat.md) */
    if (size >= (8u << 20)) madvise(map, (size_t)size, MADV_HUGEPAGE);
    vigil_result r;
    /* In pieces, over opt->threads: most of a large file's read is the kernel zeroing fresh pages
     * and copying into them, which a second core halves (a 3 GB index with features: 2.9-3.3 s on
     * one thread, 1.6-2.0 s on two, bench/results/kfeat.md). */
    const int threads = (int)oo.threads;
    const uint64_t chunk = 4u << 20;
    const int64_t nchunks = (int64_t)((size + chunk - 1) / chunk);
    /* per piece: 0, or errno, or -1 when the file ended before it (no shared state, so no lock:
     * an OpenMP critical section would export a symbol from libvigil.so) */
    int *perr = calloc((size_t)nchunks + 1, sizeof *perr);
    uint64_t *pat = calloc((size_t)nchunks + 1, sizeof *pat);
    if (!perr || !pat) { free(perr); free(pat); r = vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); goto fail; }
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads > 1 && nchunks > 1 ? threads : 1)
    for (int64_t c = 0; c < nchunks; c++) {
        uint64_t at = (uint64_t)c * chunk, end = at + chunk < size ? at + chunk : size;
        while (at < end) {
            ssize_t n = pread(fd, map + at, (size_t)(end - at), (off_t)at);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) { perr[c] = n < 0 ? errno : -1; pat[c] = at; break; }
            at += (uint64_t)n;
        }
    }
    int64_t bad = -1;
    for (int64_t c = 0; c < nchunks && bad < 0; c++)
        if (perr[c]) bad = c;
    int berr = bad >= 0 ? perr[bad] : 0;
    uint64_t bat = bad >= 0 ? pat[bad] : 0;
    free(perr);
    free(pat);
    if (berr > 0) { r = vigil__fail(err, VIGIL_E_IO, "read failed: %s", strerror(berr)); goto fail; }
    if (berr < 0) {
        r = vigil__fail(err, VIGIL_E_IO, "the file shrank to %llu bytes while it was being read (written by another process?)",
                        (unsigned long long)bat);
        goto fail;
    }
    struct stat after;
    if (fstat(fd, &after) || !same_stat(&st, &after)) {
        r = vigil__fail(err, VIGIL_E_IO, "the file changed while it was being read (written by another process?); try again");
        goto fail;
    }
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
    /* the header and table hold every section's size and checksum: together they name the content */
    XXH128_canonical_t id;
    XXH128_canonicalFromHash(&id, XXH3_128bits(map, sizeof h + sizeof sec));
    memcpy(m->src.content_id, id.digest, 16);
    keep_source(&m->src, path, fd, &st);
    m->map = map;
    m->size = size;
    return VIGIL_OK;
fail:
    close(fd);
    free(map);
    memset(m->part, 0, sizeof m->part);
    return r;
}

vigil_source_state vigil__source_state(const vigil__source *s, vigil_error *why)
{
    if (!s || !s->path) return VIGIL_SOURCE_SAME;
    struct stat now, mine;
    /* first the path: a rename over it (vigil's own writers) changes the old file's ctime and
     * link count, which must not read as a write in place */
    if (stat(s->path, &now)) {
        vigil__fail(why, VIGIL_E_IO, "the file it was opened from is gone (%s)", strerror(errno));
        return VIGIL_SOURCE_REPLACED;
    }
    if ((uint64_t)now.st_dev != s->dev || (uint64_t)now.st_ino != s->ino) {
        vigil__fail(why, VIGIL_E_IO, "the path now names another file (replaced since it was opened)");
        return VIGIL_SOURCE_REPLACED;
    }
    if (s->fd < 0 || fstat(s->fd, &mine)) mine = now;
    /* ctime moves on chmod, chown and link changes too: it counts only when none of those did */
    int meta_same = (uint64_t)mine.st_nlink == s->nlink && (uint64_t)mine.st_mode == s->mode &&
                    (uint64_t)mine.st_uid == s->uid && (uint64_t)mine.st_gid == s->gid;
    if ((uint64_t)mine.st_size != s->size || ns_of(mine.st_mtim) != s->mtime_ns || (meta_same && ns_of(mine.st_ctim) != s->ctime_ns)) {
        if ((uint64_t)mine.st_size != s->size)
            vigil__fail(why, VIGIL_E_IO, "written in place since it was opened (%llu bytes then, %llu now)",
                        (unsigned long long)s->size, (unsigned long long)mine.st_size);
        else
            vigil__fail(why, VIGIL_E_IO, "written in place since it was opened (same size, modified)");
        return VIGIL_SOURCE_WRITTEN;
    }
    return VIGIL_SOURCE_SAME;
}

vigil_result vigil__source_content_id(const vigil__source *s, char hex[33])
{
    if (!hex) return VIGIL_E_INVALID;
    if (!s || !s->path) { hex[0] = 0; return VIGIL_E_NOT_FOUND; }
    vigil_hex(s->content_id, 16, hex);
    return VIGIL_OK;
}

void vigil__source_close(vigil__source *s)
{
    if (s->fd >= 0 && s->path) close(s->fd);
    free(s->path);
    s->path = NULL;
    s->fd = -1;
}

void vigil__sections_unmap(vigil__mapped *m)
{
    free(m->map);
    vigil__source_close(&m->src);
    memset(m, 0, sizeof *m);
    m->src.fd = -1;
}
