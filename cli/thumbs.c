/* thumbs.c - OUTDIR/thumbs.vgt: the review thumbnails of the matched files, made by the scan from
 * the decode that hashing did (vigil_hash_options.thumb) and read by report.c into report.html.
 *
 * Append-only, like the journal: an 16-byte header ("VIGILTHB", version, 0) then one record per
 * content: {magic, image length, XXH3-128 of the content, XXH3-64 of key and image} + the image
 * (JPEG). A record goes out with one write(), before the file's journal record, so a kill leaves
 * at worst an image no record points to; it is fdatasync'd once, when the scan ends (not with the
 * journal's once a second: after a power loss a file the journal kept may have lost its thumbnail
 * and is a text row, which is worth the fsyncs a thumbnail is not worth). On resume the file
 * is read back and cut at the first record that does not check (a torn tail); a new scan starts it
 * empty. The budget is on the images' bytes: past it a matched file is a text row in the report.
 * Memory: one 32-byte slot per image at load <= 0.5 (64 bytes an image). */
#include "thumbs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define TMAGIC "VIGILTHB"
#define TVERSION 2u /* 2: thumbnails turned by the EXIF orientation; a version-1 file is started again */
#define TRMAGIC 0x42485456u /* "VTHB" */
#define TMAX_IMAGE (16u << 20)

typedef struct tframe {
    uint32_t magic, len;
    uint8_t key[16];
    uint64_t sum;
} tframe;

static uint64_t sum_of(const uint8_t key[16], const uint8_t *img, size_t n)
{
    XXH3_state_t *s = XXH3_createState();
    if (!s) return 0;
    XXH3_64bits_reset(s);
    XXH3_64bits_update(s, key, 16);
    XXH3_64bits_update(s, img, n);
    uint64_t h = XXH3_64bits_digest(s);
    XXH3_freeState(s);
    return h;
}

static void key_of(const uint8_t key[16], uint64_t k[2])
{
    memcpy(&k[0], key, 8);
    memcpy(&k[1], key + 8, 8);
    if (!(k[0] | k[1])) k[1] = 1; /* the all-zero content id would read as an empty slot */
}

static thumb_slot *find(const scan_thumbs *t, const uint64_t k[2])
{
    if (!t->cap) return NULL;
    for (size_t i = (size_t)(k[0] ^ k[1]) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        thumb_slot *s = &t->tab[i];
        if (!(s->key[0] | s->key[1]) || (s->key[0] == k[0] && s->key[1] == k[1])) return s;
    }
}

static int add(scan_thumbs *t, const uint64_t k[2], uint64_t off, uint32_t len)
{
    if (2 * (t->n + 1) > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        thumb_slot *old = t->tab;
        size_t ocap = t->cap;
        t->tab = calloc(cap, sizeof *t->tab);
        if (!t->tab) { t->tab = old; return -1; }
        t->cap = cap;
        for (size_t i = 0; i < ocap; i++)
            if (old[i].key[0] | old[i].key[1]) *find(t, old[i].key) = old[i];
        free(old);
    }
    thumb_slot *s = find(t, k);
    if (s->key[0] | s->key[1]) return 0;
    s->key[0] = k[0];
    s->key[1] = k[1];
    s->off = off;
    s->len = len;
    t->n++;
    return 0;
}

/* Reads the records back from the header on; the end of the last good one goes to t->end. */
static int load(scan_thumbs *t)
{
    char head[16];
    if (pread(t->fd, head, sizeof head, 0) != (ssize_t)sizeof head || memcmp(head, TMAGIC, 8)) return -1;
    uint32_t v;
    memcpy(&v, head + 8, 4);
    if (v != TVERSION) return -1;
    uint64_t off = sizeof head;
    uint8_t *img = NULL;
    size_t cap = 0;
    for (;;) {
        tframe f;
        if (pread(t->fd, &f, sizeof f, (off_t)off) != (ssize_t)sizeof f || f.magic != TRMAGIC || f.len > TMAX_IMAGE) break;
        if (f.len > cap) {
            uint8_t *p = realloc(img, f.len);
            if (!p) break;
            img = p;
            cap = f.len;
        }
        if (pread(t->fd, img, f.len, (off_t)(off + sizeof f)) != (ssize_t)f.len || sum_of(f.key, img, f.len) != f.sum) break;
        uint64_t k[2];
        key_of(f.key, k);
        if (add(t, k, off + sizeof f, f.len)) break;
        t->used += f.len;
        off += sizeof f + f.len;
    }
    free(img);
    t->end = off;
    return 0;
}

static void init(scan_thumbs *t, const char *dir)
{
    memset(t, 0, sizeof *t);
    t->fd = -1;
    snprintf(t->path, sizeof t->path, "%s/thumbs.vgt", dir);
}

int thumbs_open(scan_thumbs *t, const char *dir, int fresh, uint64_t budget, char *why, size_t whylen)
{
    init(t, dir);
    /* test hook: VIGIL_TEST_THUMB_BYTES=N makes a scan's budget N bytes (a merge's is its own) */
    const char *e = getenv("VIGIL_TEST_THUMB_BYTES");
    if (e && budget && budget != UINT64_MAX) budget = strtoull(e, NULL, 10);
    t->budget = budget;
    /* O_NOFOLLOW: OUTDIR is the scan's own (locked); a link planted there is not written through */
    t->fd = open(t->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (fresh ? O_TRUNC : 0), 0644);
    if (t->fd < 0) { snprintf(why, whylen, "%s: cannot open: %s", t->path, strerror(errno)); return -1; }
    if (!fresh && !load(t)) {
        if (ftruncate(t->fd, (off_t)t->end)) { snprintf(why, whylen, "%s: cannot cut its torn tail: %s", t->path, strerror(errno)); return -1; }
        return 0;
    }
    /* new, or not a thumbnail file we can read: start it again (thumbnails only, nothing is lost) */
    free(t->tab);
    t->tab = NULL;
    t->cap = t->n = 0;
    t->used = 0;
    char head[16] = TMAGIC;
    uint32_t v = TVERSION;
    memcpy(head + 8, &v, 4);
    if (ftruncate(t->fd, 0) || pwrite(t->fd, head, sizeof head, 0) != (ssize_t)sizeof head) {
        snprintf(why, whylen, "%s: writing failed: %s", t->path, strerror(errno));
        return -1;
    }
    t->end = sizeof head;
    return 0;
}

int thumbs_open_read(scan_thumbs *t, const char *dir)
{
    init(t, dir);
    t->fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (t->fd < 0) return -1;
    if (load(t)) { thumbs_close(t); t->fd = -1; return -1; }
    return 0;
}

int thumbs_has(const scan_thumbs *t, const uint8_t key[16])
{
    uint64_t k[2];
    key_of(key, k);
    const thumb_slot *s = find(t, k);
    return s && (s->key[0] | s->key[1]);
}

int thumbs_put(scan_thumbs *t, const uint8_t key[16], const uint8_t *img, size_t n)
{
    if (t->fd < 0 || !n || n > TMAX_IMAGE || thumbs_has(t, key)) return 1;
    if (t->used + n > t->budget) { t->over++; return 1; }
    tframe f = {TRMAGIC, (uint32_t)n, {0}, sum_of(key, img, n)};
    memcpy(f.key, key, 16);
    uint8_t *rec = malloc(sizeof f + n);
    if (!rec) return 1;
    memcpy(rec, &f, sizeof f);
    memcpy(rec + sizeof f, img, n);
    size_t len = sizeof f + n, done = 0;
    while (done < len) {
        ssize_t w = pwrite(t->fd, rec + done, len - done, (off_t)(t->end + done));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { free(rec); return -1; }
        done += (size_t)w;
    }
    free(rec);
    uint64_t k[2];
    key_of(key, k);
    if (add(t, k, t->end + sizeof f, (uint32_t)n)) return 1;
    t->end += len;
    t->used += n;
    return 0;
}

uint8_t *thumbs_get(const scan_thumbs *t, const uint8_t key[16], size_t *n)
{
    uint64_t k[2];
    key_of(key, k);
    const thumb_slot *s = find(t, k);
    if (!s || !(s->key[0] | s->key[1])) return NULL;
    uint8_t *p = malloc(s->len ? s->len : 1);
    if (!p) return NULL;
    if (pread(t->fd, p, s->len, (off_t)s->off) != (ssize_t)s->len) { free(p); return NULL; }
    *n = s->len;
    return p;
}

/* A merge reads many ranks' files for a few of their images: only the frames' headers at open (a
 * record must lie within the file), each image's sum checked when it is taken. */
int thumbs_open_index(scan_thumbs *t, const char *dir)
{
    init(t, dir);
    t->fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (t->fd < 0) return -1;
    char head[16];
    uint32_t v = 0;
    off_t size = lseek(t->fd, 0, SEEK_END);
    if (size < 0 || pread(t->fd, head, sizeof head, 0) != (ssize_t)sizeof head || memcmp(head, TMAGIC, 8) ||
        (memcpy(&v, head + 8, 4), v != TVERSION)) {
        thumbs_close(t);
        return -1;
    }
    uint64_t off = sizeof head;
    tframe f;
    while (pread(t->fd, &f, sizeof f, (off_t)off) == (ssize_t)sizeof f && f.magic == TRMAGIC && f.len <= TMAX_IMAGE &&
           off + sizeof f + f.len <= (uint64_t)size) {
        uint64_t k[2];
        key_of(f.key, k);
        if (add(t, k, off + sizeof f, f.len)) break;
        off += sizeof f + f.len;
    }
    t->end = off;
    return 0;
}

uint32_t thumbs_len(const scan_thumbs *t, const uint8_t key[16])
{
    uint64_t k[2];
    key_of(key, k);
    const thumb_slot *s = find(t, k);
    return s && (s->key[0] | s->key[1]) ? s->len : 0;
}

uint8_t *thumbs_get_checked(const scan_thumbs *t, const uint8_t key[16], size_t *n)
{
    uint64_t k[2];
    key_of(key, k);
    const thumb_slot *s = find(t, k);
    if (!s || !(s->key[0] | s->key[1]) || s->off < sizeof(tframe)) return NULL;
    uint8_t *p = malloc(sizeof(tframe) + s->len);
    if (!p) return NULL;
    tframe f;
    if (pread(t->fd, p, sizeof f + s->len, (off_t)(s->off - sizeof f)) != (ssize_t)(sizeof f + s->len)) { free(p); return NULL; }
    memcpy(&f, p, sizeof f);
    uint64_t fk[2];
    key_of(f.key, fk);
    if (f.magic != TRMAGIC || f.len != s->len || fk[0] != k[0] || fk[1] != k[1] || sum_of(f.key, p + sizeof f, s->len) != f.sum) {
        free(p);
        return NULL;
    }
    memmove(p, p + sizeof f, s->len);
    *n = s->len;
    return p;
}

void thumbs_sync(scan_thumbs *t)
{
    if (t->fd >= 0) fdatasync(t->fd);
}

void thumbs_close(scan_thumbs *t)
{
    if (t->fd >= 0) close(t->fd);
    t->fd = -1;
    free(t->tab);
    t->tab = NULL;
    t->cap = t->n = 0;
}
