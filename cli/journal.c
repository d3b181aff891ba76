/* journal.c - the scan's crash-safe record of finished files, OUTDIR/journal.vgj.
 *
 * Append-only: a header (magic, version, the scan's settings) then one framed record per file:
 * {magic, payload length, XXH3-64 of the payload} + payload. A record is written whole with one
 * write() after its file is done, and the file is fdatasync'd at most once a second, so:
 *   - kill -9 loses nothing already written (the page cache belongs to the kernel);
 *   - power loss loses at most the last second, which --resume scans again;
 *   - a torn tail (short record, bad checksum) is cut off on resume, so no file is counted twice.
 * On resume the journal is read once to rebuild two tables: the paths already done (8 bytes of
 * XXH3-64 each) and the contents already decoded (XXH3-128 -> record offset, 24 bytes), both open
 * addressing at load <= 0.7 (so 11-23 and 34-69 bytes a file). That is the scan's only per-file
 * memory. The path table also keeps a path given twice on the command line from being done twice. */
#include "scan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define JMAGIC "VIGILJNL"
#define JVERSION 1u
#define RMAGIC 0x52474956u /* "VIGR" */

typedef struct jhead {
    char magic[8];
    uint32_t version, optlen;
    uint64_t opthash;
} jhead;

typedef struct rframe {
    uint32_t magic, len;
    uint64_t sum;
} rframe;

/* ---- tables ---------------------------------------------------------------------------------- */

static int pset_grow(scan_journal *j)
{
    size_t cap = j->pcap ? j->pcap * 2 : 1024;
    uint64_t *t = calloc(cap, sizeof *t);
    if (!t) return -1;
    for (size_t i = 0; i < j->pcap; i++) {
        if (!j->pset[i]) continue;
        size_t k = j->pset[i] & (cap - 1);
        while (t[k]) k = (k + 1) & (cap - 1);
        t[k] = j->pset[i];
    }
    free(j->pset);
    j->pset = t;
    j->pcap = cap;
    return 0;
}

static uint64_t path_key(const char *path)
{
    uint64_t h = XXH3_64bits(path, strlen(path));
    return h ? h : 1; /* 0 marks an empty slot */
}

/* 1 if key was there already, 0 if added now, -1 out of memory. */
static int pset_add(scan_journal *j, uint64_t key)
{
    if (10 * (j->pn + 1) > 7 * j->pcap && pset_grow(j)) return -1;
    size_t k = key & (j->pcap - 1);
    while (j->pset[k]) {
        if (j->pset[k] == key) return 1;
        k = (k + 1) & (j->pcap - 1);
    }
    j->pset[k] = key;
    j->pn++;
    return 0;
}

/* Claims a path for this run: 1 if the journal has it already or this run met it before (a folder
 * given twice), 0 if it is new and now claimed, -1 out of memory. */
int journal_claim(scan_journal *j, const char *path)
{
    return pset_add(j, path_key(path));
}

static int ctab_grow(scan_journal *j)
{
    size_t cap = j->ccap ? j->ccap * 2 : 1024;
    content_slot *t = calloc(cap, sizeof *t);
    if (!t) return -1;
    for (size_t i = 0; i < j->ccap; i++) {
        if (!j->ctab[i].value) continue;
        size_t k = j->ctab[i].key[0] & (cap - 1);
        while (t[k].value) k = (k + 1) & (cap - 1);
        t[k] = j->ctab[i];
    }
    free(j->ctab);
    j->ctab = t;
    j->ccap = cap;
    return 0;
}

/* The slot of a content: *inserted says whether it is new (its value is then the caller's to set). */
uint64_t *journal_content(scan_journal *j, const uint8_t xxh128[16], int *inserted)
{
    if (10 * (j->cn + 1) > 7 * j->ccap && ctab_grow(j)) return NULL;
    uint64_t key[2];
    memcpy(key, xxh128, 16);
    size_t k = key[0] & (j->ccap - 1);
    for (; j->ctab[k].value; k = (k + 1) & (j->ccap - 1))
        if (j->ctab[k].key[0] == key[0] && j->ctab[k].key[1] == key[1]) { *inserted = 0; return &j->ctab[k].value; }
    j->ctab[k].value = UINT64_MAX; /* taken; the caller sets the value at once */
    j->ctab[k].key[0] = key[0];
    j->ctab[k].key[1] = key[1];
    j->cn++;
    *inserted = 1;
    return &j->ctab[k].value;
}

size_t journal_memory(const scan_journal *j)
{
    return j->pcap * sizeof *j->pset + j->ccap * sizeof *j->ctab;
}

/* ---- file ------------------------------------------------------------------------------------ */

static int write_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_at(int fd, void *p, size_t n, uint64_t off)
{
    char *b = p;
    while (n) {
        ssize_t r = pread(fd, b, n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        b += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

int journal_read(scan_journal *j, uint64_t off, jrecord *rec)
{
    rframe f;
    if (read_at(j->fd, &f, sizeof f, off) || f.magic != RMAGIC || f.len < sizeof(jfix)) return -1;
    char *p = malloc(f.len + 1);
    if (!p) return -1;
    if (read_at(j->fd, p, f.len, off + sizeof f) || XXH3_64bits(p, f.len) != f.sum) { free(p); return -1; }
    p[f.len] = 0;
    if (journal_decode(p, f.len, rec)) { free(p); return -1; }
    return 0;
}

int journal_decode(char *p, uint32_t len, jrecord *rec)
{
    memcpy(&rec->fix, p, sizeof rec->fix);
    const jfix *x = &rec->fix;
    uint64_t need = sizeof *x + (uint64_t)x->nmatches * sizeof(jmatch) + x->path_len + 1 + x->json_len;
    if (need != len || x->content_off > x->json_len || x->nmatches > 1u << 20) return -1;
    rec->buf = p;
    rec->matches = (jmatch *)(void *)(p + sizeof *x); /* jfix is a multiple of 8 bytes */
    rec->path = p + sizeof *x + x->nmatches * sizeof(jmatch);
    if (rec->path[x->path_len] != 0) return -1;
    rec->json = rec->path + x->path_len + 1;
    return 0;
}

/* Reads the next whole, checksummed record from f into *p (grown as needed). 0, or -1 at the end
 * of the journal or at its first damaged record. */
static int next_record(FILE *f, char **p, size_t *cap, jrecord *rec, uint32_t *len)
{
    rframe fr;
    if (fread(&fr, sizeof fr, 1, f) != 1 || fr.magic != RMAGIC || fr.len < sizeof(jfix) || fr.len > (1u << 28)) return -1;
    if (fr.len + 1 > *cap) {
        char *q = realloc(*p, fr.len + 1);
        if (!q) return -1;
        *p = q;
        *cap = fr.len + 1;
    }
    if (fread(*p, fr.len, 1, f) != 1 || XXH3_64bits(*p, fr.len) != fr.sum || journal_decode(*p, fr.len, rec)) return -1;
    *len = fr.len;
    return 0;
}

/* Opens OUTDIR/journal.vgj: new (fails if one exists, unless resume) or existing (resume: the
 * settings must be the same; the torn tail, if any, is cut off; the tables are rebuilt). */
int journal_open(scan_journal *j, const char *dir, const char *settings, int resume, char *why, size_t whylen)
{
    memset(j, 0, sizeof *j);
    const char *crash = getenv("VIGIL_TEST_CRASH_AFTER");
    j->crash_after = crash ? strtoull(crash, NULL, 10) : 0;
    snprintf(j->path, sizeof j->path, "%s/journal.vgj", dir);
    j->fd = open(j->path, O_RDWR | O_CLOEXEC | (resume ? O_CREAT : O_CREAT | O_EXCL), 0644);
    if (j->fd < 0) {
        if (errno == EEXIST) snprintf(why, whylen, "%s already holds a scan; add --resume to continue it, or choose another -o", dir);
        else snprintf(why, whylen, "%s: cannot open: %s", j->path, strerror(errno));
        return -1;
    }
    struct stat st;
    fstat(j->fd, &st);
    size_t optlen = strlen(settings);
    jhead h = {JMAGIC, JVERSION, (uint32_t)optlen, XXH3_64bits(settings, optlen)};
    if (st.st_size == 0) {
        if (write_all(j->fd, &h, sizeof h) || write_all(j->fd, settings, optlen) || fsync(j->fd)) {
            snprintf(why, whylen, "%s: cannot write: %s", j->path, strerror(errno));
            return -1;
        }
        j->end = sizeof h + optlen;
        return 0;
    }
    jhead old;
    if (read_at(j->fd, &old, sizeof old, 0) || memcmp(old.magic, JMAGIC, 8)) {
        snprintf(why, whylen, "%s: not a vigil scan journal", j->path);
        return -1;
    }
    if (old.version != JVERSION) {
        snprintf(why, whylen, "%s: journal version %u; this vigil writes version %u", j->path, old.version, JVERSION);
        return -1;
    }
    if (old.opthash != h.opthash || old.optlen != h.optlen) {
        char *was = calloc(1, old.optlen < 4096 ? old.optlen + 1 : 4097);
        if (was) read_at(j->fd, was, old.optlen < 4096 ? old.optlen : 4096, sizeof old);
        snprintf(why, whylen, "%s: this scan was started with other settings (%s); resume with the same --index, "
                 "--radius and options, or start a new scan in another folder", j->path, was ? was : "?");
        free(was);
        return -1;
    }
    /* replay: every whole, checksummed record counts; the first bad one ends the journal */
    uint64_t off = sizeof old + old.optlen;
    FILE *f = fdopen(dup(j->fd), "rb");
    if (!f || fseeko(f, (off_t)off, SEEK_SET)) { snprintf(why, whylen, "%s: cannot read", j->path); if (f) fclose(f); return -1; }
    char *p = NULL;
    size_t cap = 0;
    jrecord rec;
    uint32_t len;
    while (!next_record(f, &p, &cap, &rec, &len)) {
        if (pset_add(j, rec.fix.path_hash) < 0) { snprintf(why, whylen, "out of memory"); free(p); fclose(f); return -1; }
        if ((rec.fix.flags & J_DIGESTS) && !(rec.fix.flags & J_DEDUP)) {
            int ins;
            uint64_t *v = journal_content(j, rec.fix.xxh128, &ins);
            if (!v) { snprintf(why, whylen, "out of memory"); free(p); fclose(f); return -1; }
            if (ins) *v = off;
        }
        j->records++;
        off += sizeof(rframe) + len;
    }
    free(p);
    fclose(f);
    if ((uint64_t)st.st_size > off) {
        j->torn = (uint64_t)st.st_size - off;
        if (ftruncate(j->fd, (off_t)off) || fsync(j->fd)) {
            snprintf(why, whylen, "%s: cannot cut the torn tail: %s", j->path, strerror(errno));
            return -1;
        }
    }
    j->end = off;
    j->resumed = 1;
    return 0;
}

/* Appends one record: frame + payload in one write(). Returns its offset, or UINT64_MAX. */
uint64_t journal_append(scan_journal *j, const jfix *fix, const jmatch *m, const char *path, const char *json)
{
    uint64_t plen = sizeof *fix + fix->nmatches * sizeof *m + fix->path_len + 1 + fix->json_len;
    char *p = malloc(sizeof(rframe) + plen);
    if (!p) return UINT64_MAX;
    char *w = p + sizeof(rframe);
    memcpy(w, fix, sizeof *fix); w += sizeof *fix;
    if (fix->nmatches) { memcpy(w, m, fix->nmatches * sizeof *m); w += fix->nmatches * sizeof *m; }
    memcpy(w, path, fix->path_len + 1); w += fix->path_len + 1;
    memcpy(w, json, fix->json_len);
    rframe fr = {RMAGIC, (uint32_t)plen, XXH3_64bits(p + sizeof fr, plen)};
    memcpy(p, &fr, sizeof fr);
    uint64_t at = j->end;
    if (j->crash_after && j->appended == j->crash_after) {
        /* test hook (VIGIL_TEST_CRASH_AFTER=N): a torn record, then death as by kill -9 */
        if (pwrite(j->fd, p, (sizeof fr + plen) / 2, (off_t)at) < 0) abort();
        raise(SIGKILL);
    }
    j->appended++;
    /* pwrite at our own end: after a failed partial write the next record overwrites the torn one */
    size_t n = sizeof fr + plen, done = 0;
    while (done < n) {
        ssize_t r = pwrite(j->fd, p + done, n - done, (off_t)(at + done));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { free(p); return UINT64_MAX; }
        done += (size_t)r;
    }
    free(p);
    j->end += n;
    j->records++; /* the path was claimed when the walk met it (journal_claim) */
    return at;
}

int journal_sync(scan_journal *j)
{
    return fdatasync(j->fd);
}

uint64_t journal_path_key(const char *path)
{
    return path_key(path);
}

/* Calls fn for every record in order. */
int journal_each(scan_journal *j, int (*fn)(const jrecord *r, void *ctx), void *ctx)
{
    jhead h;
    if (read_at(j->fd, &h, sizeof h, 0)) return -1;
    FILE *f = fdopen(dup(j->fd), "rb");
    if (!f || fseeko(f, (off_t)(sizeof h + h.optlen), SEEK_SET)) { if (f) fclose(f); return -1; }
    char *p = NULL;
    size_t cap = 0;
    int rc = 0;
    jrecord rec;
    uint32_t len;
    for (uint64_t i = 0; i < j->records && !rc; i++) {
        if (next_record(f, &p, &cap, &rec, &len)) { rc = -1; break; }
        rc = fn(&rec, ctx);
    }
    free(p);
    fclose(f);
    return rc;
}

void journal_close(scan_journal *j)
{
    if (j->fd > 0) { fdatasync(j->fd); close(j->fd); }
    free(j->pset);
    free(j->ctab);
    j->fd = -1;
}

/* The settings stored in DIR's journal (malloc'd), or NULL when there is none or it cannot be read:
 * for saying why a --resume is refused (cmd_scan.c). */
char *journal_stored_settings(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/journal.vgj", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return NULL;
    jhead h;
    char *s = NULL;
    if (!read_at(fd, &h, sizeof h, 0) && !memcmp(h.magic, JMAGIC, 8) && h.optlen < (1u << 24) && (s = malloc(h.optlen + 1))) {
        if (read_at(fd, s, h.optlen, sizeof h)) { free(s); s = NULL; }
        else s[h.optlen] = 0;
    }
    close(fd);
    return s;
}
