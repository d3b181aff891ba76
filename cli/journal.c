/* journal.c - the scan's crash-safe record of finished files, OUTDIR/journal.vgj.
 *
 * Append-only: a header (magic, version, the scan's settings) then one framed record per file:
 * {magic, payload length, XXH3-64 of the payload} + payload. A record is written whole with one
 * write() after its file is done, and the file is fdatasync'd at most once a second, so:
 *   - kill -9 loses nothing already written (the page cache belongs to the kernel);
 *   - power loss loses at most the last second, which --resume scans again;
 *   - a torn tail (short record, bad checksum) is cut off on resume, so no file is counted twice;
 *   - a damaged record in the middle costs only itself: the reader finds the next valid frame
 *     (marker, length and checksum that hold), its file is scanned again (its path is not in the
 *     done table), and the stretch is marked as a hole so later reads skip it quietly.
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
    if (read_at(j->fd, &f, sizeof f, off) || f.magic != RMAGIC || f.len < sizeof(jfix) || f.len > JREC_MAX) return -1;
    char *p = malloc(f.len + 1);
    if (!p) return -1;
    if (read_at(j->fd, p, f.len, off + sizeof f) || XXH3_64bits(p, f.len) != f.sum) { free(p); return -1; }
    p[f.len] = 0;
    if (journal_decode(p, f.len, rec)) { free(p); return -1; }
    return 0;
}

int journal_decode(char *p, uint32_t len, jrecord *rec)
{
    if (len < sizeof rec->fix) return -1;
    memcpy(&rec->fix, p, sizeof rec->fix);
    const jfix *x = &rec->fix;
    uint64_t need = sizeof *x + (uint64_t)x->nmatches * sizeof(jmatch) + x->path_len + 1 + x->json_len;
    if (need != len || x->content_off > x->json_len || x->nmatches > JMAX_MATCHES) return -1;
    rec->buf = p;
    rec->matches = (jmatch *)(void *)(p + sizeof *x); /* jfix is a multiple of 8 bytes */
    rec->path = p + sizeof *x + x->nmatches * sizeof(jmatch);
    if (rec->path[x->path_len] != 0) return -1;
    rec->json = rec->path + x->path_len + 1;
    return 0;
}

/* ---- reading the journal through: every valid frame, whatever lies between them -------------- */

/* A hole: a damaged stretch that an earlier resume dropped, kept as it was under a frame whose
 * checksum covers it, so that it is skipped (and not reported) from then on. */
#define RHOLE 0x48474956u /* "VIGH" */
#define JR_WINDOW (1u << 20)

enum { FR_RECORD = 0, FR_HOLE = 1, FR_MAGIC = -1, FR_LENGTH = -2, FR_SUM = -3, FR_LAYOUT = -4, FR_IO = -5 };

typedef struct jreader {
    int fd;
    uint64_t end;          /* nothing at or past it is read */
    char *win;             /* file bytes [wbeg, wbeg + wlen) */
    uint64_t wbeg;
    size_t wlen, wcap;
    char *rec;             /* the last record's payload, 8-byte aligned for its jmatch array */
    size_t rcap;
    jrecord r;
    uint32_t len;          /* the last frame's payload length */
    size_t wmin;           /* the least read into the window; 0: JR_WINDOW */
} jreader;

/* n bytes at off (valid until the next call), or NULL past the end or on a read error. */
static const char *jr_at(jreader *r, uint64_t off, size_t n)
{
    if (off > r->end || n > r->end - off) return NULL;
    if (off >= r->wbeg && off - r->wbeg + n <= r->wlen) return r->win + (off - r->wbeg);
    size_t wmin = r->wmin ? r->wmin : JR_WINDOW;
    size_t want = n > wmin ? n : wmin;
    if (want > r->end - off) want = (size_t)(r->end - off);
    if (want > r->wcap) {
        char *w = realloc(r->win, want);
        if (!w) return NULL;
        r->win = w;
        r->wcap = want;
    }
    r->wlen = 0;
    if (read_at(r->fd, r->win, want, off)) return NULL;
    r->wbeg = off;
    r->wlen = want;
    return r->win;
}

static int jr_hash(jreader *r, uint64_t off, uint64_t len, uint64_t *sum)
{
    XXH3_state_t *st = XXH3_createState();
    if (!st) return -1;
    XXH3_64bits_reset(st);
    while (len) {
        size_t n = len > JR_WINDOW ? JR_WINDOW : (size_t)len;
        const char *b = jr_at(r, off, n);
        if (!b) { XXH3_freeState(st); return -1; }
        XXH3_64bits_update(st, b, n);
        off += n;
        len -= n;
    }
    *sum = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return 0;
}

/* What sits at off: FR_RECORD (r->r decoded, r->len set), FR_HOLE (r->len set) or why neither. */
static int jr_frame(jreader *r, uint64_t off)
{
    const char *b = jr_at(r, off, sizeof(rframe));
    if (!b) return FR_LENGTH; /* fewer bytes left than a frame */
    rframe f;
    memcpy(&f, b, sizeof f);
    if (f.magic == RHOLE) {
        uint64_t sum;
        if (f.len > r->end - off - sizeof f) return FR_LENGTH;
        if (jr_hash(r, off + sizeof f, f.len, &sum)) return FR_IO;
        if (sum != f.sum) return FR_SUM;
        r->len = f.len;
        return FR_HOLE;
    }
    if (f.magic != RMAGIC) return FR_MAGIC;
    if (f.len < sizeof(jfix) || f.len > JREC_MAX || f.len > r->end - off - sizeof f) return FR_LENGTH;
    const char *p = jr_at(r, off + sizeof f, f.len);
    if (!p) return FR_IO;
    if (XXH3_64bits(p, f.len) != f.sum) return FR_SUM;
    if (f.len + 1 > r->rcap) {
        char *q = realloc(r->rec, f.len + 1);
        if (!q) return FR_IO;
        r->rec = q;
        r->rcap = f.len + 1;
    }
    memcpy(r->rec, p, f.len);
    r->rec[f.len] = 0;
    if (journal_decode(r->rec, f.len, &r->r)) return FR_LAYOUT;
    r->len = f.len;
    return FR_RECORD;
}

/* The first offset at or after from where a valid frame starts (r->end if none); *frames counts
 * the record markers passed on the way whose length looked right: records damaged too. */
static uint64_t jr_resync(jreader *r, uint64_t from, uint64_t *frames)
{
    uint64_t p = from;
    while (p < r->end && r->end - p >= sizeof(rframe)) {
        size_t n = r->end - p > JR_WINDOW ? JR_WINDOW : (size_t)(r->end - p);
        const char *b = jr_at(r, p, n);
        if (!b) return r->end;
        const char *hit = NULL;
        for (const char *q = b; q + 4 <= b + n; q++) {
            q = memmem(q, (size_t)(b + n - q), "VIG", 3);
            if (!q || q + 4 > b + n) break;
            if (q[3] == 'R' || q[3] == 'H') { hit = q; break; }
        }
        if (!hit) { p += n > 3 ? n - 3 : n; continue; }
        uint64_t c = p + (uint64_t)(hit - b);
        int k = jr_frame(r, c);
        if (k == FR_RECORD || k == FR_HOLE) return c;
        if (k != FR_MAGIC && k != FR_LENGTH) {
            uint32_t magic;
            const char *h = jr_at(r, c, 4);
            if (h && (memcpy(&magic, h, 4), magic == RMAGIC)) ++*frames;
        }
        p = c + 1;
    }
    return r->end;
}

static void jr_free(jreader *r)
{
    free(r->win);
    free(r->rec);
}

static const char *frame_why(int k)
{
    switch (k) {
    case FR_MAGIC: return "no record marker";
    case FR_LENGTH: return "bad length";
    case FR_SUM: return "bad checksum";
    case FR_LAYOUT: return "bad record layout";
    default: return "unreadable";
    }
}

/* Marks [off, next) as a hole: a 16-byte frame header over its start, the rest left as it is. */
static void mark_hole(scan_journal *j, jreader *r, uint64_t off, uint64_t next)
{
    if (next - off < sizeof(rframe) || next - off - sizeof(rframe) > UINT32_MAX) return;
    rframe h = {RHOLE, (uint32_t)(next - off - sizeof h), 0};
    if (jr_hash(r, off + sizeof h, h.len, &h.sum)) return;
    if (pwrite(j->fd, &h, sizeof h, (off_t)off) == (ssize_t)sizeof h) {
        r->wlen = 0; /* the window may hold the old bytes */
        j->holes++;
    }
}

/* Opens OUTDIR/journal.vgj: new (fails if one exists, unless resume) or existing (resume: the
 * settings must be the same; damage is dropped, the torn tail cut off; the tables are rebuilt).
 * OUTDIR must be a folder and the journal a regular file: never a link, FIFO or device. */
static int open_journal(scan_journal *j, const char *dir, const char *settings, int resume, char *why, size_t whylen);

int journal_open(scan_journal *j, const char *dir, const char *settings, int resume, char *why, size_t whylen)
{
    if (!open_journal(j, dir, settings, resume, why, whylen)) return 0;
    if (j->fd >= 0) close(j->fd);
    free(j->pset);
    free(j->ctab);
    j->fd = -1;
    j->pset = NULL;
    j->ctab = NULL;
    return -1;
}

static int open_journal(scan_journal *j, const char *dir, const char *settings, int resume, char *why, size_t whylen)
{
    memset(j, 0, sizeof *j);
    j->fd = -1;
    const char *crash = getenv("VIGIL_TEST_CRASH_AFTER");
    j->crash_after = crash ? strtoull(crash, NULL, 10) : 0;
    snprintf(j->path, sizeof j->path, "%s/journal.vgj", dir);
    struct stat st;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (dfd < 0) {
        int e = errno;
        if (e == ENOTDIR && !lstat(dir, &st) && S_ISLNK(st.st_mode)) e = ELOOP;
        if (e == ELOOP) snprintf(why, whylen, "%s: is a symbolic link; give the folder itself as -o", dir);
        else if (e == ENOTDIR) snprintf(why, whylen, "%s: not a folder; -o names the folder the scan writes into", dir);
        else snprintf(why, whylen, "%s: cannot open: %s", dir, strerror(e));
        return -1;
    }
    j->fd = openat(dfd, "journal.vgj", O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | (resume ? O_CREAT : O_CREAT | O_EXCL), 0644);
    int e = errno;
    close(dfd);
    if (j->fd < 0) {
        if (e == EEXIST) snprintf(why, whylen, "%s already holds a scan; add --resume to continue it, or choose another -o", dir);
        else if (e == ELOOP) snprintf(why, whylen, "%s: is a symbolic link, not a scan journal", j->path);
        else if (e == EISDIR) snprintf(why, whylen, "%s: is a folder, not a scan journal", j->path);
        else snprintf(why, whylen, "%s: cannot open: %s", j->path, strerror(e));
        return -1;
    }
    if (fstat(j->fd, &st) || !S_ISREG(st.st_mode)) {
        const char *what = S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISCHR(st.st_mode) ? "a character device"
                         : S_ISBLK(st.st_mode) ? "a block device" : S_ISSOCK(st.st_mode) ? "a socket" : "not a regular file";
        snprintf(why, whylen, "%s: is %s, not a scan journal", j->path, what);
        return -1;
    }
    fcntl(j->fd, F_SETFL, fcntl(j->fd, F_GETFL) & ~O_NONBLOCK);
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
        if (was && read_at(j->fd, was, old.optlen < 4096 ? old.optlen : 4096, sizeof old)) was[0] = 0;
        snprintf(why, whylen, "%s: this scan was started with other settings (%s); resume with the same --index, "
                 "--radius and options, or start a new scan in another folder", j->path, was && *was ? was : "?");
        free(was);
        return -1;
    }
    /* replay: every valid record counts; a damaged stretch in between costs only its own records */
    uint64_t off = sizeof old + old.optlen;
    jreader r = {.fd = j->fd, .end = (uint64_t)st.st_size};
    while (off < r.end) {
        int k = jr_frame(&r, off);
        if (k == FR_IO) { snprintf(why, whylen, "%s: cannot read: %s", j->path, errno ? strerror(errno) : "out of memory"); jr_free(&r); return -1; }
        if (k == FR_RECORD) {
            const jfix *x = &r.r.fix;
            if (pset_add(j, x->path_hash) < 0) { snprintf(why, whylen, "out of memory"); jr_free(&r); return -1; }
            if ((x->flags & J_DIGESTS) && !(x->flags & J_DEDUP)) {
                int ins;
                uint64_t *v = journal_content(j, x->xxh128, &ins);
                if (!v) { snprintf(why, whylen, "out of memory"); jr_free(&r); return -1; }
                if (ins) *v = off;
            }
            j->records++;
        }
        if (k >= 0) { off += sizeof(rframe) + r.len; continue; }
        uint64_t more = 0, next = jr_resync(&r, off + 1, &more);
        if (next >= r.end) { /* nothing valid after it: a torn tail */
            j->torn = r.end - off;
            j->torn_why = frame_why(k);
            break;
        }
        j->dropped += 1 + more;
        j->dropped_bytes += next - off;
        if (k == FR_SUM) j->bad_sum++;
        else if (k == FR_LENGTH) j->bad_len++;
        else if (k == FR_MAGIC) j->bad_magic++;
        else j->bad_layout++;
        j->bad_sum += (unsigned)more; /* a marker and a length that hold: the checksum failed */
        mark_hole(j, &r, off, next);
        off = next;
    }
    jr_free(&r);
    if (j->torn) {
        if (ftruncate(j->fd, (off_t)off)) {
            snprintf(why, whylen, "%s: cannot cut the torn tail: %s", j->path, strerror(errno));
            return -1;
        }
    }
    if ((j->torn || j->holes) && fsync(j->fd)) {
        snprintf(why, whylen, "%s: cannot write: %s", j->path, strerror(errno));
        return -1;
    }
    j->end = off;
    j->resumed = 1;
    return 0;
}

int journal_damage_note(const scan_journal *j, char *out, size_t n)
{
    if (!j->dropped && !j->torn) return 0;
    size_t w = (size_t)snprintf(out, n, "%s:", j->path);
    if (j->dropped && w < n) {
        int one = j->dropped == 1;
        w += (size_t)snprintf(out + w, n - w, " %llu damaged record%s (%llu bytes%s", (unsigned long long)j->dropped, one ? "" : "s",
                              (unsigned long long)j->dropped_bytes, one ? ", " : ": ");
        const char *sep = "";
        const struct { unsigned n; const char *what; } why[] = {
            {j->bad_sum, "bad checksum"}, {j->bad_len, "bad length"}, {j->bad_magic, "no record marker"}, {j->bad_layout, "bad record layout"}};
        for (size_t i = 0; i < sizeof why / sizeof why[0] && w < n; i++)
            if (why[i].n) {
                if (one) w += (size_t)snprintf(out + w, n - w, "%s", why[i].what);
                else w += (size_t)snprintf(out + w, n - w, "%s%u %s", sep, why[i].n, why[i].what);
                sep = ", ";
            }
        if (w < n)
            w += (size_t)snprintf(out + w, n - w, ") dropped; the records around %s are kept and %s scanned again", one ? "it" : "them",
                                  one ? "its file is" : "their files are");
    }
    if (j->torn && w < n)
        snprintf(out + w, n - w, "%s a torn last record (%llu bytes, %s) was cut off and will be scanned again", j->dropped ? ";" : "",
                 (unsigned long long)j->torn, j->torn_why);
    return 1;
}

/* Appends one record: frame + payload in one write(). Returns its offset, or UINT64_MAX. */
uint64_t journal_append(scan_journal *j, const jfix *fix, const jmatch *m, const char *path, const char *json)
{
    uint64_t plen = sizeof *fix + (uint64_t)fix->nmatches * sizeof *m + fix->path_len + 1 + fix->json_len;
    if (plen > JREC_MAX || fix->nmatches > JMAX_MATCHES) { errno = EFBIG; return UINT64_MAX; } /* the reader would refuse it */
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

/* Calls fn for every record in order, up to the end journal_open found and this run wrote. */
int journal_each(scan_journal *j, int (*fn)(const jrecord *r, void *ctx), void *ctx)
{
    jhead h;
    if (read_at(j->fd, &h, sizeof h, 0)) return -1;
    jreader r = {.fd = j->fd, .end = j->end};
    uint64_t off = sizeof h + h.optlen, n = 0;
    int rc = 0;
    while (off < r.end && !rc) {
        int k = jr_frame(&r, off);
        if (k == FR_RECORD) { n++; rc = fn(&r.r, ctx); }
        if (k >= 0) { off += sizeof(rframe) + r.len; continue; }
        if (k == FR_IO) { rc = -1; break; }
        uint64_t more = 0;
        off = jr_resync(&r, off + 1, &more); /* damaged since the open: the count below says so */
    }
    jr_free(&r);
    return rc ? rc : n == j->records ? 0 : -1;
}

void journal_close(scan_journal *j)
{
    if (j->fd >= 0) { fdatasync(j->fd); close(j->fd); }
    free(j->pset);
    free(j->ctab);
    j->fd = -1;
    j->pset = NULL;
    j->ctab = NULL;
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

/* ---- reading from an offset on: the merge of several journals (scan_merge.c) ---------------- */

struct journal_iter {
    jreader r;
    uint64_t off;
};

uint64_t journal_first_record(scan_journal *j)
{
    jhead h;
    if (read_at(j->fd, &h, sizeof h, 0)) return j->end;
    return sizeof h + h.optlen;
}

journal_iter *journal_iter_new(scan_journal *j, uint64_t from, size_t window)
{
    journal_iter *it = calloc(1, sizeof *it);
    if (!it) return NULL;
    it->r.fd = j->fd;
    it->r.end = j->end;
    it->r.wmin = window;
    it->off = from;
    return it;
}

int journal_iter_next(journal_iter *it, jrecord *rec, uint64_t *off)
{
    jreader *r = &it->r;
    while (it->off < r->end) {
        int k = jr_frame(r, it->off);
        if (k == FR_IO) return -1;
        if (k >= 0) {
            uint64_t at = it->off;
            it->off += sizeof(rframe) + r->len;
            if (k != FR_RECORD) continue;
            *rec = r->r;
            rec->buf = NULL; /* the iterator's own buffer, valid until the next call */
            if (off) *off = at;
            return 1;
        }
        uint64_t more = 0;
        it->off = jr_resync(r, it->off + 1, &more);
    }
    return 0;
}

uint64_t journal_iter_offset(const journal_iter *it)
{
    return it->off;
}

void journal_iter_free(journal_iter *it)
{
    if (!it) return;
    jr_free(&it->r);
    free(it);
}

int journal_claim_key(scan_journal *j, uint64_t key)
{
    return pset_add(j, key);
}

/* Opens DIR/journal.vgj for reading only, started with settings: no tables rebuilt, nothing
 * repaired (the iterator skips a damaged stretch or a torn tail, as journal_each does). For the
 * merge, which reads each journal through once more anyway. */
int journal_open_read(scan_journal *j, const char *dir, const char *settings, char *why, size_t whylen)
{
    memset(j, 0, sizeof *j);
    snprintf(j->path, sizeof j->path, "%s/journal.vgj", dir);
    j->fd = open(j->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat st;
    if (j->fd < 0 || fstat(j->fd, &st) || !S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "%s: cannot open: %s", j->path, j->fd < 0 ? strerror(errno) : "not a regular file");
        if (j->fd >= 0) close(j->fd);
        j->fd = -1;
        return -1;
    }
    jhead h;
    size_t optlen = strlen(settings);
    if (read_at(j->fd, &h, sizeof h, 0) || memcmp(h.magic, JMAGIC, 8) || h.version != JVERSION) {
        snprintf(why, whylen, "%s: not a vigil scan journal of version %u", j->path, JVERSION);
        close(j->fd);
        j->fd = -1;
        return -1;
    }
    if (h.optlen != optlen || h.opthash != XXH3_64bits(settings, optlen)) {
        snprintf(why, whylen, "%s: this scan was started with other settings", j->path);
        close(j->fd);
        j->fd = -1;
        return -1;
    }
    j->end = (uint64_t)st.st_size;
    return 0;
}
