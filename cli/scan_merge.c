/* scan_merge.c - the journals of several processes (the shards of `--shard`, the ranks of `--mpi`)
 * merged into the journal and reports one process would have written, by every rank at once.
 *
 * A journal is in no particular order (an MPI rank walks the parts of the tree it is handed, and
 * gives parts away; each --resume adds another run). So each input is first sorted into the order
 * of the walk (an order file of offsets; the inputs are shared out between the ranks), with an
 * archive's members kept just before the archive's own line, as one process writes them. Then
 * the walk order is cut into as many ranges as there are ranks (from a sample of every input's
 * keys), and each rank merges its range of every input into a part: journal, results.jsonl and
 * vics.json's entries. Of several files with the same content the first in walk order is the
 * decoded one and every later one becomes "duplicate", taking the first one's content-determined
 * part, as one process does: within a range the merge sees it; across ranges the first copy of
 * each content in each range is sent to the rank that owns that content (by its hash), which
 * answers with the first one in an earlier range. Each rank also makes its part of report.html's
 * data and thumbnails (scan_page.c), and copies its part of journal.vgj, results.jsonl and
 * vics.json into the joined files at its offset; rank 0 adds the heads and tails, the summary (the
 * parts' counts added up) and the page (its head, the parts' pieces copied by the kernel): no read
 * of the joined journal, and nothing per record but the page's. A path found twice is refused
 * (the inputs overlap). One rank (`scan merge`, a --resume without MPI)
 * does the same with one range.
 * Memory per rank: its range's two output tables (46-92 bytes a file), the first copies of its
 * contents (32-64 bytes a content), one record per input and, while sorting an input, its paths
 * (their length + 24 bytes a record); the page's (scan_page.c: 16 bytes a matched record, 56 a
 * matched content, 64 a thumbnail of the inputs). */
#include "scan_dist.h"
#include "thumbs.h"
#include "scan_page.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MERGE_WINDOW (64u << 10)
#define MERGE_SAMPLES 64 /* keys per input sent for the cut into ranges */

static const char ARCHIVE_LINE[] = ",\"archive\":{\"format\":"; /* cli_input_json: an archive's own line */

/* An archive's own line: digests only, never decoded, so never "duplicate" in one process either. */
static int archive_line(const jrecord *r)
{
    return r->fix.json_len && memmem(r->json, r->fix.json_len, ARCHIVE_LINE, sizeof ARCHIVE_LINE - 1) != NULL;
}

static uint64_t key_of16(const uint8_t k[16])
{
    uint64_t v;
    memcpy(&v, k, 8);
    return v;
}

/* The order file: a record, its sort key's length, its class among the records of one key: an
 * archive's members left by a kill (their archive's line in another journal, or none yet) first,
 * then the members before the line in the same journal, then the line (or the one file). */
typedef struct oent { uint64_t off; uint32_t keylen, cls; } oent;

int dist_put(dist_buf *b, const void *d, size_t n)
{
    if (!n) return 0;
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 4096;
        while (c < b->n + n) c *= 2;
        char *q = realloc(b->p, c);
        if (!q) return -1;
        b->p = q;
        b->cap = c;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
    return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* ---- the ranks' exchanges (no network with one rank) -------------------------------------------- */

typedef struct mctx {
    int me, size;
    char *const *roots;
    int nroots;
    scan_journal *in;
    int nin;
    char tmp[4200];
} mctx;

static int all_ok(const mctx *c, int ok) { return c->size > 1 ? dist_net_min_int(ok) : ok; }

/* Every rank sends out[p] to rank p and gets in[p] from every rank p (malloc'd; the caller frees). */
static int exchange(const mctx *c, int tag, dist_buf *out, char **in, int *inlen)
{
    int rc = 0;
    for (int p = 0; p < c->size; p++)
        if (p != c->me && dist_net_send(p, tag, out[p].p, (int)out[p].n)) rc = -1;
    for (int p = 0; p < c->size; p++) {
        in[p] = NULL;
        inlen[p] = 0;
        if (p == c->me) {
            if (!(in[p] = malloc(out[p].n + 1))) { rc = -1; continue; }
            if (out[p].n) memcpy(in[p], out[p].p, out[p].n);
            inlen[p] = (int)out[p].n;
        } else if (dist_net_recv(p, tag, &in[p], &inlen[p])) rc = -1;
    }
    return rc;
}

/* ---- sorting one input into walk order ---------------------------------------------------------- */

typedef struct srec { uint64_t off; char *path; uint32_t len, keylen, cls; int root; } srec;

static int srec_cmp(const void *a, const void *b)
{
    const srec *x = a, *y = b;
    int k = scan_walk_ncmp(x->root, x->path, x->keylen, y->root, y->path, y->keylen);
    if (k) return k;
    if (x->cls != y->cls) return x->cls < y->cls ? -1 : 1; /* an archive's members before its line */
    return x->off < y->off ? -1 : x->off > y->off;
}

static void order_path(const mctx *c, int i, char *p, size_t n) { snprintf(p, n, "%s/order-%d", c->tmp, i); }

/* Input i sorted: its order file written, MERGE_SAMPLES of its keys (root, weight, key) into smp. */
static int sort_input(const mctx *c, int i, dist_buf *smp, char *why, size_t whylen)
{
    scan_journal *j = &c->in[i];
    journal_iter *it = journal_iter_new(j, journal_first_record(j), MERGE_WINDOW);
    srec *r = NULL;
    size_t n = 0, cap = 0;
    int rc = -1, k;
    jrecord rec;
    uint64_t off;
    if (!it) goto oom;
    while ((k = journal_iter_next(it, &rec, &off)) > 0) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            srec *q = realloc(r, cap * sizeof *q);
            if (!q) goto oom;
            r = q;
        }
        srec *s = &r[n];
        if (!(s->path = strdup(rec.path))) goto oom;
        n++;
        s->off = off;
        s->len = s->keylen = rec.fix.path_len;
        s->cls = 2;
        s->root = scan_root_of(c->roots, c->nroots, s->path);
        /* an archive's line follows its members (nested ones too): they sort by the archive's path */
        if (archive_line(&rec))
            for (size_t m = n - 1; m-- > 0;) {
                srec *t = &r[m];
                if (t->len <= s->len + 1 || memcmp(t->path, s->path, s->len) || t->path[s->len] != '!' || t->path[s->len + 1] != '/') break;
                t->keylen = s->len;
                t->cls = 1;
            }
    }
    /* a member whose archive's line is not after it here: a kill stopped the archive part-way. Its
     * key is the archive's path: up to the first "!/" that does not continue a folder (a folder
     * "x!" beside a file "x" is a real path) */
    for (size_t q = 0; q < n; q++) {
        srec *t = &r[q];
        if (t->cls != 2) continue;
        for (char *b = strstr(t->path, "!/"); b; b = strstr(b + 2, "!/")) {
            struct stat st;
            char keep = b[1];
            b[1] = 0;
            int folder = !lstat(t->path, &st) && S_ISDIR(st.st_mode);
            b[1] = keep;
            if (folder) continue;
            t->keylen = (uint32_t)(b - t->path);
            t->cls = 0;
            break;
        }
    }
    if (k < 0) { snprintf(why, whylen, "%s: cannot read it", j->path); goto out; }
    if (n) qsort(r, n, sizeof *r, srec_cmp);
    char p[4300];
    order_path(c, i, p, sizeof p);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) { snprintf(why, whylen, "%s: cannot create: %s", p, strerror(errno)); goto out; }
    int bad = 0;
    oent buf[1024];
    for (size_t a = 0; a < n && !bad; a += 1024) {
        size_t b = n - a < 1024 ? n - a : 1024;
        for (size_t q = 0; q < b; q++) buf[q] = (oent){r[a + q].off, r[a + q].keylen, r[a + q].cls};
        bad = write_all(fd, buf, b * sizeof *buf);
    }
    if (close(fd) || bad) { snprintf(why, whylen, "%s: cannot write: %s", p, strerror(errno)); goto out; }
    size_t ns = n < MERGE_SAMPLES ? n : MERGE_SAMPLES;
    for (size_t q = 0; q < ns; q++) {
        size_t at = q * n / ns, next = (q + 1) * n / ns;
        uint32_t v[3] = {(uint32_t)r[at].root, (uint32_t)(next - at), r[at].keylen};
        if (dist_put(smp, v, sizeof v) || dist_put(smp, r[at].path, r[at].keylen)) goto oom;
    }
    rc = 0;
    goto out;
oom:
    snprintf(why, whylen, "out of memory");
out:
    journal_iter_free(it);
    for (size_t q = 0; q < n; q++) free(r[q].path);
    free(r);
    return rc;
}

/* ---- the cut into ranges ------------------------------------------------------------------------- */

typedef struct key { int root; uint32_t weight, len; const char *s; } key;

static int key_cmp(const void *a, const void *b)
{
    const key *x = a, *y = b;
    return scan_walk_ncmp(x->root, x->s, x->len, y->root, y->s, y->len);
}

/* Parses n samples (or splitters: weight 0) out of buf. */
static int parse_keys(const char *buf, int len, key **out, size_t *n, size_t *cap)
{
    for (int at = 0; at < len;) {
        uint32_t v[3];
        if (len - at < (int)sizeof v) return -1;
        memcpy(v, buf + at, sizeof v);
        at += (int)sizeof v;
        if (v[2] > (uint32_t)(len - at)) return -1;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 256;
            key *q = realloc(*out, *cap * sizeof *q);
            if (!q) return -1;
            *out = q;
        }
        (*out)[(*n)++] = (key){(int)v[0], v[1], v[2], buf + at};
        at += (int)v[2];
    }
    return 0;
}

/* A record's key against a splitter. */
static int rec_vs(const mctx *c, const jrecord *r, uint32_t keylen, const key *s)
{
    return scan_walk_ncmp(scan_root_of(c->roots, c->nroots, r->path), r->path, keylen, s->root, s->s, s->len);
}

/* ---- reading one input's range in order ---------------------------------------------------------- */

typedef struct cursor {
    int fd, in;
    uint64_t lo, hi, pos; /* this rank's range of the order file, in entries */
    oent e;
    jrecord rec;
    int root;
    oent buf[512];
    uint64_t bpos, bn;
} cursor;

static int ord_read(cursor *k, uint64_t pos, oent *e)
{
    if (pos < k->bpos || pos >= k->bpos + k->bn) {
        ssize_t got = pread(k->fd, k->buf, sizeof k->buf, (off_t)(pos * sizeof(oent)));
        if (got < (ssize_t)sizeof(oent)) return -1;
        k->bpos = pos;
        k->bn = (uint64_t)got / sizeof(oent);
    }
    *e = k->buf[pos - k->bpos];
    return 0;
}

/* The first position of [0, n) whose key is >= s (n when none; 0 when s is NULL). */
static int lower_bound(const mctx *c, cursor *k, uint64_t n, const key *s, uint64_t *at)
{
    uint64_t lo = 0, hi = s ? n : 0;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        oent e;
        jrecord r;
        if (ord_read(k, mid, &e) || journal_read(&c->in[k->in], e.off, &r)) return -1;
        int v = rec_vs(c, &r, e.keylen, s);
        free(r.buf);
        if (v < 0) lo = mid + 1; else hi = mid;
    }
    *at = lo;
    return 0;
}

/* 1 a record, 0 the range is done, -1 a read error. */
static int cur_next(const mctx *c, cursor *k)
{
    free(k->rec.buf);
    k->rec.buf = NULL;
    if (k->pos >= k->hi) return 0;
    if (ord_read(k, k->pos, &k->e) || journal_read(&c->in[k->in], k->e.off, &k->rec)) return -1;
    k->pos++;
    k->root = scan_root_of(c->roots, c->nroots, k->rec.path);
    return 1;
}

static int cur_less(const cursor *x, const cursor *y)
{
    int k = scan_walk_ncmp(x->root, x->rec.path, x->e.keylen, y->root, y->rec.path, y->e.keylen);
    if (k) return k < 0;
    if (x->e.cls != y->e.cls) return x->e.cls < y->e.cls;
    return x->in < y->in || (x->in == y->in && x->e.off < y->e.off);
}

typedef struct kmerge { cursor *c; int *heap, nheap, n; } kmerge;

static void heap_down(kmerge *m, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, s = i;
        if (l < m->nheap && cur_less(&m->c[m->heap[l]], &m->c[m->heap[s]])) s = l;
        if (r < m->nheap && cur_less(&m->c[m->heap[r]], &m->c[m->heap[s]])) s = r;
        if (s == i) return;
        int t = m->heap[i];
        m->heap[i] = m->heap[s];
        m->heap[s] = t;
        i = s;
    }
}

typedef int (*rec_fn)(const jrecord *r, int in, uint64_t off, void *ctx);

/* Calls fn on every record of this rank's range of every input, in walk order. */
static int kmerge_run(const mctx *c, kmerge *m, rec_fn fn, void *ctx, char *why, size_t whylen)
{
    m->nheap = 0;
    for (int k = 0; k < m->n; k++) {
        cursor *q = &m->c[k];
        q->pos = q->lo;
        int r = cur_next(c, q);
        if (r < 0) { snprintf(why, whylen, "%s: cannot read it", c->in[q->in].path); return -1; }
        if (r) m->heap[m->nheap++] = k;
    }
    for (int i = m->nheap / 2 - 1; i >= 0; i--) heap_down(m, i);
    while (m->nheap) {
        cursor *q = &m->c[m->heap[0]];
        if (fn(&q->rec, q->in, q->e.off, ctx)) return -1;
        int r = cur_next(c, q);
        if (r < 0) { snprintf(why, whylen, "%s: cannot read it", c->in[q->in].path); return -1; }
        if (!r) m->heap[0] = m->heap[--m->nheap];
        if (m->nheap) heap_down(m, 0);
    }
    return 0;
}

/* ---- pass A: the first copy of each content in this range, and how many records have digests ---- */

typedef struct firsts {
    scan_journal t;              /* its content table only: xxh128 -> input << 48 | offset */
    unsigned long long media, records;
} firsts;

#define LOC(in, off) ((uint64_t)(in) << 48 | (off))
#define LOC_IN(v) ((int)((v) >> 48))
#define LOC_OFF(v) ((v) & ((1ull << 48) - 1))

static int first_of(const jrecord *r, int in, uint64_t off, void *ctx)
{
    firsts *f = ctx;
    f->records++;
    if (!(r->fix.flags & J_DIGESTS)) return 0;
    f->media++;
    if (archive_line(r)) return 0;
    int ins;
    uint64_t *v = journal_content(&f->t, r->fix.xxh128, &ins);
    if (!v) return -1;
    if (ins) *v = LOC(in, off);
    return 0;
}

/* ---- pass B: this range's records written as one process would have ------------------------------ */

static const char DUP[] = "\"duplicate\":true,";
#define DUPLEN (sizeof DUP - 1)

typedef struct emitter {
    const mctx *c;
    scan_journal *out;
    scan_journal *ext;           /* content table: the first copy in an earlier range, as a LOC */
    char *buf;
    size_t cap;
    char *why;
    size_t whylen;
    page_part *pp;               /* the page's data of this part, noted as records go out */
} emitter;

/* Appends one record to the output, as the one process would have written it. */
static int emit(const jrecord *r, int in, uint64_t off, void *ctx)
{
    emitter *m = ctx;
    (void)off;
    scan_journal *out = m->out;
    char *why = m->why;
    size_t whylen = m->whylen;
    int claim = journal_claim(out, r->path);
    if (claim < 0) { snprintf(why, whylen, "out of memory"); return -1; }
    if (claim > 0) {
        snprintf(why, whylen, "%s: %s is in the output of more than one shard or rank (the inputs overlap: two scans of one "
                 "share, or shards of different splits?); nothing was merged", m->c->in[in].path, r->path);
        return -1;
    }
    jfix fx = r->fix;
    size_t pl = fx.content_off;
    if ((fx.flags & J_DEDUP) && pl >= DUPLEN && !memcmp(r->json + pl - DUPLEN, DUP, DUPLEN)) pl -= DUPLEN;
    fx.flags &= ~(uint32_t)J_DEDUP;
    jrecord first = {0};
    int dup = 0, ins = 0;
    if ((fx.flags & J_DIGESTS) && !archive_line(r)) {
        uint64_t *v = journal_content(out, fx.xxh128, &ins);
        if (!v) { snprintf(why, whylen, "out of memory"); return -1; }
        if (!ins) {
            if (journal_read(out, *v, &first)) { snprintf(why, whylen, "%s: cannot read back a record it wrote", out->path); return -1; }
            dup = 1;
        } else if (m->ext) { /* the first copy of its content in this range: is there one before the range? */
            int e;
            uint64_t *x = journal_content(m->ext, fx.xxh128, &e);
            if (!x) { snprintf(why, whylen, "out of memory"); return -1; }
            if (e) m->ext->cn--, *x = 0; /* not there: leave the slot empty again */
            else {
                if (LOC_IN(*x) >= m->c->nin || journal_read(&m->c->in[LOC_IN(*x)], LOC_OFF(*x), &first)) {
                    snprintf(why, whylen, "%s: cannot read back a record", LOC_IN(*x) < m->c->nin ? m->c->in[LOC_IN(*x)].path : "an input");
                    return -1;
                }
                dup = 1;
            }
        }
    }
    const char *content = dup ? first.json + first.fix.content_off : r->json + r->fix.content_off;
    size_t cl = dup ? first.fix.json_len - first.fix.content_off : r->fix.json_len - r->fix.content_off;
    size_t need = pl + DUPLEN + cl + 1;
    if (need > m->cap) {
        char *p = realloc(m->buf, need);
        if (!p) { free(first.buf); snprintf(why, whylen, "out of memory"); return -1; }
        m->buf = p;
        m->cap = need;
    }
    memcpy(m->buf, r->json, pl);
    const jmatch *matches = r->matches;
    if (dup) {
        const jfix *f = &first.fix;
        memcpy(m->buf + pl, DUP, DUPLEN);
        pl += DUPLEN;
        uint32_t own = fx.flags & (J_SIZE | J_LINK | J_CHANGED);
        fx.flags = own | J_DEDUP | (f->flags & (J_DIGESTS | J_PDQ | J_LOWQ | J_TRUNC));
        fx.status = f->status;
        fx.quality = f->quality;
        fx.pdq = f->pdq;
        fx.width = f->width;
        fx.height = f->height;
        memcpy(fx.format, f->format, sizeof fx.format);
        memcpy(fx.md5, f->md5, 16);
        memcpy(fx.sha1, f->sha1, 20);
        fx.matches_total = f->matches_total;
        fx.nmatches = f->nmatches;
        matches = first.matches;
    }
    memcpy(m->buf + pl, content, cl);
    m->buf[pl + cl] = 0;
    fx.content_off = (uint32_t)pl;
    fx.json_len = (uint32_t)(pl + cl);
    uint64_t at = journal_append(out, &fx, matches, r->path, m->buf);
    free(first.buf);
    if (at == UINT64_MAX) { snprintf(why, whylen, "%s: writing failed: %s", out->path, strerror(errno)); return -1; }
    if (m->pp && page_part_note(m->pp, &fx, in, at)) { snprintf(why, whylen, "out of memory"); return -1; }
    if (ins) { /* the range's first copy (itself "duplicate" when an earlier range had one) */
        int i2;
        uint64_t *v = journal_content(out, fx.xxh128, &i2);
        if (v) *v = at;
    }
    return 0;
}

enum { TAG_SAMPLES = 20, TAG_SPLITS, TAG_DUPQ, TAG_DUPA, TAG_COUNTS, TAG_BASE, TAG_SUMS, TAG_PBASE, TAG_TCHAIN, TAG_TASK, TAG_TANS, TAG_PAGE, TAG_PLACE };

static void free_bufs(const mctx *c, dist_buf *out, char **inb)
{
    for (int p = 0; p < c->size; p++) {
        free(out[p].p);
        out[p] = (dist_buf){0};
        free(inb[p]);
        inb[p] = NULL;
    }
}

/* ---- rank 0: the parts joined --------------------------------------------------------------------- */

/* Appends bytes [from, to) of file src (to = UINT64_MAX: its end) to fd, by the kernel where it can. */
static int copy_range(int fd, const char *src, uint64_t from, uint64_t to)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    struct stat st;
    if (fstat(in, &st)) { close(in); return -1; }
    if (to > (uint64_t)st.st_size) to = (uint64_t)st.st_size;
    off_t at = (off_t)from;
    int rc = 0;
    while ((uint64_t)at < to && !rc) {
        ssize_t n = copy_file_range(in, &at, fd, NULL, (size_t)(to - (uint64_t)at), 0);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        /* no copy_file_range here (or a short file): by hand */
        char buf[1 << 16];
        size_t want = to - (uint64_t)at < sizeof buf ? (size_t)(to - (uint64_t)at) : sizeof buf;
        ssize_t r = pread(in, buf, want, at);
        if (r <= 0 || write_all(fd, buf, (size_t)r)) rc = -1;
        else at += r;
    }
    close(in);
    return rc;
}

static void part_dir(const mctx *c, int p, char *d, size_t n) { snprintf(d, n, "%s/part-%d", c->tmp, p); }

/* How long the head of a part's vics.json is (up to its "value": [), the same in every part. */
static size_t vics_head(const mctx *c, int part)
{
    char d[4300], p[4400], buf[512];
    part_dir(c, part, d, sizeof d);
    snprintf(p, sizeof p, "%s/vics.json", d);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *v = strstr(buf, "\"value\": [");
    return v ? (size_t)(v - buf) + 10 : 0;
}

/* What each part sent rank 0 about its page: its thumbnail blocks, and where the first of them end. */
typedef struct page_join {
    const mctx *c;
    uint64_t *blocks, *ends; /* ends: REPORT_PAGE_PRE_THUMBS a part */
} page_join;

/* A piece of the page made by fn into memory, then written to fd (the joins write to the fd). */
static int put_piece(int fd, void (*fn)(FILE *, const void *), const void *arg)
{
    char *b = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&b, &n);
    if (!m) return -1;
    fn(m, arg);
    int rc = fclose(m) || write_all(fd, b, n) ? -1 : 0;
    free(b);
    return rc;
}

typedef struct head_arg { const scan_report_opts *o; const char *scan_id; } head_arg;
static void piece_head(FILE *f, const void *a) { const head_arg *h = a; report_page_head(f, h->o, h->scan_id); }
static void piece_mid(FILE *f, const void *a) { report_page_mid(f, *(const int *)a); }
static void piece_script(FILE *f, const void *a) { (void)a; report_page_script(f); }
static void piece_tail(FILE *f, const void *a) { (void)a; report_page_tail(f); }

/* report.html from the parts: the head, every part's entries, the end of the data, every part's
 * thumbnail blocks with the page's script after the first REPORT_PAGE_PRE_THUMBS, the tail. */
static int page_from_parts(FILE *f, const scan_report_opts *o, const char *scan_id, void *ctx)
{
    const page_join *pj = ctx;
    const mctx *c = pj->c;
    int fd = fileno(f), thumbs = o->thumbs_max > 0, script = 0;
    head_arg h = {o, scan_id};
    char d[4300], src[4400];
    if (fflush(f) || put_piece(fd, piece_head, &h)) return -1;
    for (int p = 0; p < c->size; p++) {
        part_dir(c, p, d, sizeof d);
        snprintf(src, sizeof src, "%s/page-records", d);
        if (copy_range(fd, src, 0, UINT64_MAX)) return -1;
    }
    if (put_piece(fd, piece_mid, &thumbs)) return -1;
    uint64_t before = 0, pre = (uint64_t)report_page_pre_thumbs();
    for (int p = 0; p < c->size; p++) {
        part_dir(c, p, d, sizeof d);
        snprintf(src, sizeof src, "%s/page-thumbs", d);
        uint64_t cut = UINT64_MAX;
        if (!script && before + pj->blocks[p] >= pre) cut = pj->ends[(size_t)p * REPORT_PAGE_PRE_THUMBS + (pre - before - 1)];
        if (copy_range(fd, src, 0, cut)) return -1;
        if (cut != UINT64_MAX) {
            if (put_piece(fd, piece_script, NULL) || copy_range(fd, src, cut, UINT64_MAX)) return -1;
            script = 1;
        }
        before += pj->blocks[p];
    }
    if (!script && put_piece(fd, piece_script, NULL)) return -1;
    return put_piece(fd, piece_tail, NULL);
}

/* OUTDIR/thumbs.vgt: the parts' images after one header, as one process's merge writes them. A
 * failure leaves only a warning: the page has its thumbnails already. */
static void join_thumbs(const mctx *c, const char *outdir)
{
    char path[4200], src[4400], d[4300], why[512], *tmp = NULL;
    FILE *f = cli_open_output_in(outdir, "thumbs.vgt", &tmp, path, sizeof path, why, sizeof why);
    if (!f) { cli_warn("%s", why); return; }
    int rc = fflush(f) ? -1 : 0;
    for (int p = 0; p < c->size && !rc; p++) {
        part_dir(c, p, d, sizeof d);
        snprintf(src, sizeof src, "%s/thumbs.vgt", d);
        if (copy_range(fileno(f), src, p ? 16 : 0, UINT64_MAX)) rc = -1; /* 16: a thumbs.vgt header */
    }
    if (rc) {
        cli_warn("%s: cannot join the parts of it: %s; some matched files get no thumbnail in a later review", path, strerror(errno));
        fclose(f);
        unlink(tmp);
    } else if (cli_commit_output(f, tmp, path)) cli_warn("%s: writing failed", path);
    free(tmp);
}

/* journal.vgj, results.jsonl and vics.json, the outputs that grow with the files, placed by every
 * rank at once: the parts' lengths are exchanged, each rank copies its part into the joined files
 * at its offset (the kernel copies), rank 0 writes vics.json's head and tail and renames the three
 * into OUTDIR. So rank 0 copies nothing a record. Every rank calls it; 0 or -1 (why). */
#define NPIECES 3
static const char *const piece_name[NPIECES] = {"journal.vgj", "results.jsonl", "vics.json"};

static void joined_path(const mctx *c, int k, char *p, size_t n) { snprintf(p, n, "%s/joined-%s", c->tmp, piece_name[k]); }

static int place_parts(const mctx *c, const char *outdir, const char *settings, dist_buf *out, char **inb, int *inl, char *why,
                       size_t whylen)
{
    int ok = 1, me = c->me, size = c->size;
    char d[4300], src[NPIECES][4400], dst[4400];
    uint64_t from[NPIECES] = {0}, to[NPIECES] = {0};
    size_t vh = vics_head(c, me);
    part_dir(c, me, d, sizeof d);
    for (int k = 0; k < NPIECES && ok; k++) {
        snprintf(src[k], sizeof src[k], "%s/%s", d, piece_name[k]);
        struct stat st;
        if (stat(src[k], &st)) { snprintf(why, whylen, "%s: cannot read it: %s", src[k], strerror(errno)); ok = 0; break; }
        to[k] = (uint64_t)st.st_size;
    }
    if (ok && me) { /* a journal's header once, from part 0 */
        scan_journal pj;
        if (journal_open_read(&pj, d, settings, why, whylen)) ok = 0;
        else { from[0] = journal_first_record(&pj); close(pj.fd); }
    }
    if (ok && (!vh || to[2] < vh + 4)) { snprintf(why, whylen, "%s: not a vics.json part", src[2]); ok = 0; }
    from[2] = vh;
    if (ok) to[2] -= 4; /* "\n]}\n" */
    free_bufs(c, out, inb);
    uint64_t len[NPIECES];
    for (int k = 0; k < NPIECES; k++) len[k] = ok ? to[k] - from[k] : 0;
    for (int p = 0; p < size; p++)
        if (dist_put(&out[p], len, sizeof len)) ok = 0;
    if (exchange(c, TAG_PLACE, out, inb, inl)) ok = 0;
    uint64_t at[NPIECES] = {0, 0, vh}, end[NPIECES] = {0, 0, vh};
    int sep = 0;
    for (int p = 0; p < size && ok; p++) {
        uint64_t l[NPIECES];
        if (inl[p] != (int)sizeof l) { snprintf(why, whylen, "rank %d sent no lengths", p); ok = 0; break; }
        memcpy(l, inb[p], sizeof l);
        if (p == me) { memcpy(at, end, sizeof at); sep = l[2] && end[2] > vh; }
        for (int k = 0; k < NPIECES; k++) end[k] += l[k] + (k == 2 && l[k] && end[2] > vh);
    }
    if (me == 0)
        for (int k = 0; k < NPIECES && ok; k++) {
            joined_path(c, k, dst, sizeof dst);
            int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd < 0 || (k == 2 && copy_range(fd, src[2], 0, vh)) || close(fd)) { snprintf(why, whylen, "%s: cannot create: %s", dst, strerror(errno)); ok = 0; }
        }
    if (!all_ok(c, ok)) return -1;
    for (int k = 0; k < NPIECES && ok; k++) {
        joined_path(c, k, dst, sizeof dst);
        int fd = open(dst, O_WRONLY | O_CLOEXEC);
        uint64_t o = at[k];
        if (fd < 0 || lseek(fd, (off_t)o, SEEK_SET) < 0 || (k == 2 && sep && write_all(fd, ",", 1)) ||
            copy_range(fd, src[k], from[k], from[k] + len[k]) || fdatasync(fd)) {
            snprintf(why, whylen, "%s: cannot write: %s", dst, strerror(errno));
            ok = 0;
        }
        if (fd >= 0) close(fd);
    }
    if (!all_ok(c, ok)) return -1;
    if (me) return 0;
    for (int k = 0; k < NPIECES && ok; k++) {
        char final[4300];
        joined_path(c, k, dst, sizeof dst);
        snprintf(final, sizeof final, "%s/%s", outdir, piece_name[k]);
        int fd = open(dst, O_WRONLY | O_CLOEXEC);
        struct stat st;
        /* whatever took the name meanwhile, a link or a device is not replaced */
        if (fd < 0 || (k == 2 && (lseek(fd, (off_t)end[2], SEEK_SET) < 0 || write_all(fd, "\n]}\n", 4))) || fdatasync(fd) ||
            (lstat(final, &st) == 0 && !S_ISREG(st.st_mode) && (errno = EEXIST)) || rename(dst, final)) {
            snprintf(why, whylen, "%s: cannot write: %s", final, strerror(errno));
            ok = 0;
        }
        if (fd >= 0) close(fd);
    }
    if (ok && fsync_dir(outdir)) { snprintf(why, whylen, "%s: cannot sync: %s", outdir, strerror(errno)); ok = 0; }
    return ok ? 0 : -1;
}

static int join_parts(const mctx *c, const char *outdir, const char *settings, unsigned long long records, scan_report_opts *o,
                      page_join *pg, char *why, size_t whylen)
{
    int rc;
    scan_journal out;
    if (journal_open_read(&out, outdir, settings, why, whylen)) return -1;
    out.records = records;
    if (o->thumbs_max > 0) join_thumbs(c, outdir);
    o->dir = outdir;
    o->lists = 2;
    rc = scan_write_reports_page(&out, o, page_from_parts, pg, why, whylen);
    o->lists = 0;
    close(out.fd);
    return rc;
}

/* ---- all of it ------------------------------------------------------------------------------------- */

/* The page's data of this part (scan_page.c), by every rank at once: the lines and entries of the
 * parts before; the thumbnail budget passed from part to part in walk order; for a content first
 * copied in an earlier part, the entry of that copy, asked of the rank that owns the content
 * (24 bytes a content, 8 back); then the part's page files, and to rank 0 how many thumbnail
 * blocks they hold and where the first ones end. Every rank calls it; 0 or -1 (why). */
static int page_parts(const mctx *c, page_part *pg, scan_journal *pj, const char *pdir, int thumbs_mb, scan_thumbs *ith,
                      signed char *iopen, dist_buf *out, char **inb, int *inl, page_join *pjoin, char *why, size_t whylen)
{
    int ok = 1, size = c->size, me = c->me, thumbs = thumbs_mb > 0;
    scan_journal own;
    memset(&own, 0, sizeof own);
    own.fd = -1;
    if (thumbs) page_part_find(pg, c->in, c->nin, ith, iopen);
    free_bufs(c, out, inb);
    for (int p = 0; p < size; p++) {
        uint64_t v[2] = {pg->records, pg->n};
        if (dist_put(&out[p], v, sizeof v)) ok = 0;
    }
    if (exchange(c, TAG_PBASE, out, inb, inl)) ok = 0;
    for (int p = 0; p < me && ok; p++) {
        uint64_t v[2];
        if (inl[p] != (int)sizeof v) { ok = 0; break; }
        memcpy(v, inb[p], sizeof v);
        pg->line_base += v[0];
        pg->entry_base += v[1];
    }
    if (thumbs) {
        uint64_t used = 0;
        if (me > 0) { /* the chain goes on whatever happened here, so no rank waits for ever */
            char *b = NULL;
            int l = 0;
            if (dist_net_recv(me - 1, TAG_TCHAIN, &b, &l) || l != (int)sizeof used) ok = 0;
            else memcpy(&used, b, sizeof used);
            free(b);
        }
        /* test hook: VIGIL_TEST_MERGE_THUMB_BYTES=N, the merge's budget in bytes (the ranks keep theirs) */
        const char *e = getenv("VIGIL_TEST_MERGE_THUMB_BYTES");
        page_part_budget(pg, &used, e ? strtoull(e, NULL, 10) : (uint64_t)thumbs_mb << 20);
        if (me < size - 1 && dist_net_send(me + 1, TAG_TCHAIN, &used, sizeof used)) ok = 0;
        free_bufs(c, out, inb);
        for (size_t k = 0; k < pg->sn; k++) {
            page_slot *s = &pg->s[k];
            uint64_t v = s->ext ? 0 : pg->entry_base + s->entry + 1;
            int to = (int)(key_of16(s->key) % (uint64_t)size);
            if ((s->ext || s->kept) && (dist_put(&out[to], s->key, 16) || dist_put(&out[to], &v, 8))) ok = 0;
        }
        if (exchange(c, TAG_TASK, out, inb, inl)) ok = 0;
        for (int p = 0; p < size && ok; p++) /* the offers: the entry of a kept first copy */
            for (int at = 0; at + 24 <= inl[p] && ok; at += 24) {
                uint64_t v;
                memcpy(&v, inb[p] + at + 16, 8);
                int ins;
                uint64_t *x = v ? journal_content(&own, (const uint8_t *)inb[p] + at, &ins) : &v;
                if (!x) ok = 0;
                else if (v) *x = v;
            }
        dist_buf *ans = calloc((size_t)size, sizeof *ans);
        if (!ans) ok = 0;
        for (int p = 0; p < size && ok; p++) /* the questions, answered in their order */
            for (int at = 0; at + 24 <= inl[p] && ok; at += 24) {
                uint64_t v, a = 0;
                memcpy(&v, inb[p] + at + 16, 8);
                if (v) continue;
                int ins;
                uint64_t *x = journal_content(&own, (const uint8_t *)inb[p] + at, &ins);
                if (!x) { ok = 0; break; }
                if (ins) own.cn--, *x = 0; /* no kept first copy: no thumbnail */
                else a = *x;
                if (dist_put(&ans[p], &a, 8)) ok = 0;
            }
        free_bufs(c, out, inb);
        if (ans) { memcpy(out, ans, (size_t)size * sizeof *out); free(ans); }
        if (exchange(c, TAG_TANS, out, inb, inl)) ok = 0;
        int *at = calloc((size_t)size, sizeof *at);
        if (!at) ok = 0;
        for (size_t k = 0; k < pg->sn && ok; k++) {
            page_slot *s = &pg->s[k];
            if (!s->ext) continue;
            int from = (int)(key_of16(s->key) % (uint64_t)size);
            if (at[from] + 8 > inl[from]) { ok = 0; break; }
            memcpy(&s->ref, inb[from] + at[from], 8);
            at[from] += 8;
        }
        free(at);
    }
    journal_close(&own);
    if (!ok) snprintf(why, whylen, "out of memory, or a rank sent no page data");
    if (ok && page_part_write(pg, pj, pdir, thumbs, ith, why, whylen)) ok = 0;
    free_bufs(c, out, inb);
    uint64_t nb = pg->blocks < REPORT_PAGE_PRE_THUMBS ? pg->blocks : REPORT_PAGE_PRE_THUMBS;
    if (dist_put(&out[0], &pg->blocks, 8) || dist_put(&out[0], pg->ends, nb * 8)) ok = 0;
    if (exchange(c, TAG_PAGE, out, inb, inl)) ok = 0;
    if (me == 0)
        for (int p = 0; p < size && ok; p++) {
            uint64_t b = 0;
            if (inl[p] >= 8) memcpy(&b, inb[p], 8);
            uint64_t k = b < REPORT_PAGE_PRE_THUMBS ? b : REPORT_PAGE_PRE_THUMBS;
            if (inl[p] != (int)(8 + 8 * k)) { snprintf(why, whylen, "rank %d sent no page data", p); ok = 0; break; }
            pjoin->blocks[p] = b;
            memcpy(&pjoin->ends[(size_t)p * REPORT_PAGE_PRE_THUMBS], inb[p] + 8, 8 * k);
        }
    free_bufs(c, out, inb);
    return ok ? 0 : -1;
}

static double thread_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

int scan_merge_ranks(const char *outdir, const char *settings, scan_journal *in, int nin, char *const *roots, int nroots,
                     scan_report_opts *o, int me, int size, scan_merge_stats *st, char *why, size_t whylen)
{
    double t0 = cli_now(), cpu0 = thread_cpu();
    mctx c = {me, size, roots, nroots, in, nin, ""};
    snprintf(c.tmp, sizeof c.tmp, "%s/merge.tmp", outdir);
    int ok = 1, rc = -1;
    dist_buf *out = calloc((size_t)size, sizeof *out);
    char **inb = calloc((size_t)size, sizeof *inb);
    int *inl = calloc((size_t)size, sizeof *inl);
    key *keys = NULL, *spl = NULL;
    size_t nkeys = 0, kcap = 0, nspl = 0, scap = 0;
    kmerge km = {0};
    firsts f;
    memset(&f, 0, sizeof f);
    f.t.fd = -1;
    scan_journal ext, own, pj;
    memset(&ext, 0, sizeof ext);
    memset(&own, 0, sizeof own);
    memset(&pj, 0, sizeof pj);
    ext.fd = own.fd = pj.fd = -1;
    uint32_t *orng = NULL;
    uint64_t *oloc = NULL;
    size_t no = 0, ocap = 0;
    unsigned long long base = 0, total = 0;
    /* the summary's counts of this part, then (rank 0) of all parts */
    size_t nsums = scan_report_nsums(o->nsets);
    unsigned long long *sums = calloc(nsums, sizeof *sums);
    page_part pg;
    memset(&pg, 0, sizeof pg);
    scan_thumbs *ith = calloc((size_t)(nin ? nin : 1), sizeof *ith);
    signed char *iopen = calloc((size_t)(nin ? nin : 1), 1);
    page_join pjoin = {&c, calloc((size_t)size, sizeof(uint64_t)), calloc((size_t)size * REPORT_PAGE_PRE_THUMBS, sizeof(uint64_t))};
    char pdir[4300];
    part_dir(&c, me, pdir, sizeof pdir);
    snprintf(why, whylen, "another rank failed the merge (above)");
    if (!out || !inb || !inl || !sums || !ith || !iopen || !pjoin.blocks || !pjoin.ends) { snprintf(why, whylen, "out of memory"); ok = 0; }
    if (ok && mkdir(c.tmp, 0755) && errno != EEXIST) { snprintf(why, whylen, "%s: cannot create: %s", c.tmp, strerror(errno)); ok = 0; }
    if (!all_ok(&c, ok)) goto done;

    /* 1. the inputs sorted, shared out between the ranks; their samples to rank 0 */
    for (int i = 0; i < nin && ok; i++)
        if (i % size == me && sort_input(&c, i, &out[0], why, whylen)) ok = 0;
    if (size > 1 && exchange(&c, TAG_SAMPLES, out, inb, inl)) ok = 0;
    if (size == 1) { inb[0] = out[0].p; inl[0] = (int)out[0].n; out[0] = (dist_buf){0}; }
    /* 2. rank 0 cuts the walk order into size ranges of about the same number of records */
    dist_buf cut = {0};
    if (me == 0) {
        for (int p = 0; p < size && ok; p++)
            if (parse_keys(inb[p], inl[p], &keys, &nkeys, &kcap)) { snprintf(why, whylen, "damaged samples from rank %d", p); ok = 0; }
        if (ok && nkeys) qsort(keys, nkeys, sizeof *keys, key_cmp);
        unsigned long long w = 0, sum = 0;
        for (size_t k = 0; k < nkeys; k++) w += keys[k].weight;
        for (size_t k = 0, next = 1; k < nkeys && next < (size_t)size && ok; k++) {
            while (next < (size_t)size && sum >= w * next / (unsigned long long)size) {
                uint32_t v[3] = {(uint32_t)keys[k].root, 0, keys[k].len};
                if (dist_put(&cut, v, sizeof v) || dist_put(&cut, keys[k].s, keys[k].len)) { snprintf(why, whylen, "out of memory"); ok = 0; }
                next++;
            }
            sum += keys[k].weight;
        }
    }
    if (size > 1) {
        for (int p = 0; p < size; p++) { free(inb[p]); inb[p] = NULL; free(out[p].p); out[p] = (dist_buf){0}; }
        if (me == 0)
            for (int p = 0; p < size; p++)
                if (dist_put(&out[p], cut.p ? cut.p : "", cut.n)) ok = 0;
        if (exchange(&c, TAG_SPLITS, out, inb, inl)) ok = 0;
        free(cut.p);
    } else {
        free(inb[0]);
        inb[0] = cut.p;
        inl[0] = (int)cut.n;
    }
    if (ok && parse_keys(inb[0], inl[0], &spl, &nspl, &scap)) { snprintf(why, whylen, "damaged ranges from rank 0"); ok = 0; }
    if (!all_ok(&c, ok)) goto done; /* every order file is written */

    /* 3. this rank's range of every input: [spl[me - 1], spl[me]) */
    km.n = nin;
    km.c = calloc((size_t)(nin ? nin : 1), sizeof *km.c);
    km.heap = calloc((size_t)(nin ? nin : 1), sizeof *km.heap);
    if (!km.c || !km.heap) { snprintf(why, whylen, "out of memory"); ok = 0; }
    for (int i = 0; i < nin && ok; i++) {
        cursor *q = &km.c[i];
        char p[4300];
        order_path(&c, i, p, sizeof p);
        q->in = i;
        struct stat s;
        if ((q->fd = open(p, O_RDONLY | O_CLOEXEC)) < 0 || fstat(q->fd, &s)) { snprintf(why, whylen, "%s: cannot open: %s", p, strerror(errno)); ok = 0; break; }
        uint64_t n = (uint64_t)s.st_size / sizeof(oent);
        if (lower_bound(&c, q, n, me > 0 && (size_t)me - 1 < nspl ? &spl[me - 1] : NULL, &q->lo) ||
            ((size_t)me < nspl ? lower_bound(&c, q, n, &spl[me], &q->hi) : (q->hi = n, 0))) {
            snprintf(why, whylen, "%s: cannot read it", in[i].path);
            ok = 0;
        }
    }


    /* 4. pass A; the first copies to the ranks that own their contents, which answer with the
     * first copy in an earlier range */
    if (ok && kmerge_run(&c, &km, first_of, &f, why, whylen)) ok = 0;
    free_bufs(&c, out, inb);
    if (size > 1) {
        for (size_t k = 0; k < f.t.ccap && ok; k++) {
            content_slot *s = &f.t.ctab[k];
            if (!s->value) continue;
            if (dist_put(&out[s->key[0] % (uint64_t)size], s->key, 16) || dist_put(&out[s->key[0] % (uint64_t)size], &s->value, 8)) ok = 0;
        }
        if (exchange(&c, TAG_DUPQ, out, inb, inl)) ok = 0;
        for (int p = 0; p < size && ok; p++) /* in range order: the first range that has a content wins */
            for (int at = 0; at + 24 <= inl[p] && ok; at += 24) {
                int ins;
                uint64_t *v = journal_content(&own, (const uint8_t *)inb[p] + at, &ins);
                if (!v) { ok = 0; break; }
                if (!ins) continue;
                if (no == ocap) {
                    ocap = ocap ? ocap * 2 : 1024;
                    uint32_t *a = realloc(orng, ocap * sizeof *a);
                    uint64_t *b = a ? realloc(oloc, ocap * sizeof *b) : NULL;
                    if (a) orng = a;
                    if (!b) { ok = 0; break; }
                    oloc = b;
                }
                orng[no] = (uint32_t)p;
                memcpy(&oloc[no], inb[p] + at + 16, 8);
                *v = ++no;
            }
        dist_buf *ans = calloc((size_t)size, sizeof *ans);
        if (!ans) ok = 0;
        for (int p = 0; p < size && ok; p++)
            for (int at = 0; at + 24 <= inl[p] && ok; at += 24) {
                int ins;
                uint64_t *v = journal_content(&own, (const uint8_t *)inb[p] + at, &ins);
                if (!v || ins) { ok = 0; break; }
                if (orng[*v - 1] < (uint32_t)p && (dist_put(&ans[p], inb[p] + at, 16) || dist_put(&ans[p], &oloc[*v - 1], 8))) ok = 0;
            }
        free_bufs(&c, out, inb);
        if (ans) { memcpy(out, ans, (size_t)size * sizeof *out); free(ans); }
        if (exchange(&c, TAG_DUPA, out, inb, inl)) ok = 0;
        for (int p = 0; p < size && ok; p++)
            for (int at = 0; at + 24 <= inl[p]; at += 24) {
                int ins;
                uint64_t *v = journal_content(&ext, (const uint8_t *)inb[p] + at, &ins);
                if (!v) { ok = 0; break; }
                memcpy(v, inb[p] + at + 16, 8);
            }
        if (!ok) snprintf(why, whylen, "out of memory");
        /* the MediaIDs of this range start after those of the ranges before it */
        free_bufs(&c, out, inb);
        unsigned long long cnt[2] = {f.media, f.records};
        if (dist_put(&out[0], cnt, sizeof cnt)) ok = 0;
        if (exchange(&c, TAG_COUNTS, out, inb, inl)) ok = 0;
        if (me == 0) {
            unsigned long long run = 0, all = 0;
            dist_buf *b2 = calloc((size_t)size, sizeof *b2);
            if (!b2) ok = 0;
            for (int p = 0; p < size && b2; p++) {
                unsigned long long v[2] = {0, 0}, give[2];
                if (inl[p] == (int)sizeof v) memcpy(v, inb[p], sizeof v); else ok = 0;
                all += v[1];
                give[0] = run;
                run += v[0];
                give[1] = 0;
                if (dist_put(&b2[p], give, sizeof give)) ok = 0;
            }
            for (int p = 0; p < size && b2; p++) { unsigned long long *g = (unsigned long long *)b2[p].p; if (g) g[1] = all; }
            free_bufs(&c, out, inb);
            if (b2) { memcpy(out, b2, (size_t)size * sizeof *out); free(b2); }
        } else free_bufs(&c, out, inb);
        if (exchange(&c, TAG_BASE, out, inb, inl)) ok = 0;
        unsigned long long g[2] = {0, 0};
        if (inl[0] == (int)sizeof g) memcpy(g, inb[0], sizeof g); else ok = 0;
        base = g[0];
        total = g[1];
    } else total = f.records;
    if (!all_ok(&c, ok)) goto done;

    /* 5. pass B: this range into its part, and the part's results.jsonl and vics.json entries */
    {
        char stale[4400];
        snprintf(stale, sizeof stale, "%s/journal.vgj", pdir);
        if (mkdir(pdir, 0755) && errno != EEXIST) { snprintf(why, whylen, "%s: cannot create: %s", pdir, strerror(errno)); ok = 0; }
        else if (unlink(stale) && errno != ENOENT) { snprintf(why, whylen, "%s: cannot remove: %s", stale, strerror(errno)); ok = 0; }
        else if (journal_open(&pj, pdir, settings, 0, why, whylen)) { ok = 0; pj.fd = -1; }
    }
    if (ok) {
        emitter em = {&c, &pj, size > 1 ? &ext : NULL, NULL, 0, why, whylen, &pg};
        if (kmerge_run(&c, &km, emit, &em, why, whylen) || journal_sync(&pj)) ok = 0;
        free(em.buf);
        scan_report_opts po = *o;
        po.dir = pdir;
        po.lists = 1;
        po.media_base = base;
        po.sums = sums;
        if (ok && scan_write_reports(&pj, &po, why, whylen)) ok = 0;
    }
    if (!all_ok(&c, ok)) goto done;
    if (page_parts(&c, &pg, &pj, pdir, o->thumbs_max, ith, iopen, out, inb, inl, &pjoin, why, whylen)) ok = 0;
    if (!all_ok(&c, ok)) goto done;
    /* every part's counts to rank 0, added up: the summary needs no second read of the journal */
    free_bufs(&c, out, inb);
    if (dist_put(&out[0], sums, nsums * sizeof *sums)) ok = 0;
    if (exchange(&c, TAG_SUMS, out, inb, inl)) ok = 0;
    if (me == 0) {
        memset(sums, 0, nsums * sizeof *sums);
        for (int p = 0; p < size; p++) {
            if (inl[p] != (int)(nsums * sizeof *sums)) { snprintf(why, whylen, "rank %d sent no counts", p); ok = 0; break; }
            for (size_t k = 0; k < nsums; k++) {
                unsigned long long v;
                memcpy(&v, inb[p] + k * sizeof v, sizeof v);
                sums[k] += v;
            }
        }
    }
    if (!all_ok(&c, ok)) goto done;

    /* 6. rank 0 joins the parts and writes the summary and the page */
    double j0 = cli_now(), jc0 = thread_cpu();
    o->sums = sums;
    if (place_parts(&c, outdir, settings, out, inb, inl, why, whylen)) ok = 0;
    else if (me == 0 && join_parts(&c, outdir, settings, total, o, &pjoin, why, whylen)) ok = 0;
    o->sums = NULL;
    if (st) { st->join_s = cli_now() - j0; st->join_cpu = thread_cpu() - jc0; }
    if (!all_ok(&c, ok)) goto done;
    if (st) {
        st->records = total;
        st->runs = (unsigned long long)nin;
        st->seconds = cli_now() - t0;
        st->cpu = thread_cpu() - cpu0;
    }
    rc = 0;
done:
    if (pj.fd >= 0) journal_close(&pj);
    if (km.c)
        for (int i = 0; i < nin; i++) {
            if (km.c[i].fd > 0) close(km.c[i].fd);
            free(km.c[i].rec.buf);
        }
    free(km.c);
    free(km.heap);
    if (out && inb) free_bufs(&c, out, inb);
    free(out);
    free(inb);
    free(inl);
    free(keys);
    free(spl);
    free(orng);
    free(oloc);
    free(sums);
    page_part_free(&pg);
    for (int i = 0; i < nin && iopen; i++)
        if (iopen[i] > 0) thumbs_close(&ith[i]);
    free(ith);
    free(iopen);
    free(pjoin.blocks);
    free(pjoin.ends);
    journal_close(&f.t);
    journal_close(&ext);
    journal_close(&own);
    /* this rank's temporary files; rank 0 the folder, once every rank is past it */
    for (int i = 0; i < nin; i++)
        if (i % size == me) { char p[4300]; order_path(&c, i, p, sizeof p); unlink(p); }
    static const char *const part_files[] = {"journal.vgj", "results.jsonl", "vics.json", "scan-id", "page-records", "page-thumbs", "thumbs.vgt"};
    for (size_t k = 0; k < sizeof part_files / sizeof *part_files; k++) {
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", pdir, part_files[k]);
        unlink(p);
    }
    rmdir(pdir);
    if (me == 0)
        for (int k = 0; k < NPIECES; k++) { char p[4400]; joined_path(&c, k, p, sizeof p); unlink(p); } /* left by a failure */
    if (all_ok(&c, 1) && me == 0) rmdir(c.tmp);
    return rc;
}

int scan_merge(const char *outdir, const char *settings, scan_journal *in, int nin, char *const *roots, int nroots,
               scan_report_opts *o, scan_merge_stats *st, char *why, size_t whylen)
{
    return scan_merge_ranks(outdir, settings, in, nin, roots, nroots, o, 0, 1, st, why, whylen);
}

/* ---- vigil scan merge ---------------------------------------------------------------------------- */

void help_scan_merge(FILE *f)
{
    fprintf(f,
            "`vigil scan merge` merges the outputs of the N shards of one tree (scans with --shard K/N\n"
            "into OUT1..OUTN, with the same options and indexes) into OUT: journal.vgj and the reports\n"
            "one scan of the whole tree would have written, line for line, in the walk's order. Of\n"
            "identical files in several shards the first in walk order is the decoded one and every\n"
            "later one is \"duplicate\", as in one scan. It refuses, naming the folder: a shard missing\n"
            "or given twice, a shard not finished (no shard.done, or resumed since), shards of other\n"
            "settings, indexes, roots or N, a shard still running, and a file in two shards. The\n"
            "indexes are opened again from the paths the shards used, and must have the same\n"
            "content; run it where those paths (and, for the thumbnails, the scanned files) resolve.\n\n");
}

/* The reference sets named in the settings, opened again and checked by content id. */
static int open_sets_from(const char *settings, scan_set *sets, int max, int *nsets, char *why, size_t whylen)
{
    const char *p = strchr(settings, ';');
    p = p ? strchr(p + 1, ';') : NULL;
    *nsets = 0;
    if (!p) { snprintf(why, whylen, "the shards' settings name no index"); return -1; }
    p++;
    while (*p) {
        int rooms = !strncmp(p, " rooms=", 7);
        if (!rooms && strncmp(p, " index=", 7)) break;
        if (*nsets == max) { snprintf(why, whylen, "too many sets"); return -1; }
        p += 7;
        const char *c = p, *after = NULL;
        for (; (c = strstr(c, " content=")); c++) {
            size_t h = strspn(c + 9, "0123456789abcdef");
            if (h == 32 && !strncmp(c + 41, rooms ? " min_inliers=" : " set=", rooms ? 13 : 5)) { after = c + 41; break; }
        }
        if (!after) break;
        scan_set *s = &sets[(*nsets)++];
        s->path = strndup(p, (size_t)(c - p));
        if (!s->path) break;
        char id[33];
        memcpy(id, c + 9, 32);
        id[32] = 0;
        const char *q;
        if (rooms) {
            q = after + 13;
            char *e;
            s->radius = (int)strtol(q, &e, 10);
            if (*e != ';') break;
            s->name = strdup(strrchr(s->path, '/') ? strrchr(s->path, '/') + 1 : s->path);
            q = e + 1;
        } else {
            /* the set name runs to the " radius=N;" that ends the clause */
            const char *nm = after + 5, *r = nm, *end = NULL;
            for (; (r = strstr(r, " radius=")); r++) {
                size_t d = strspn(r + 8, "0123456789");
                if (d && r[8 + d] == ';' && (!r[9 + d] || !strncmp(r + 9 + d, " index=", 7) || !strncmp(r + 9 + d, " rooms=", 7))) { end = r; break; }
            }
            if (!end) break;
            s->name = strndup(nm, (size_t)(end - nm));
            s->radius = atoi(end + 8);
            q = strchr(end, ';') + 1;
        }
        vigil_error err;
        char have[33];
        if (!s->name) { snprintf(why, whylen, "out of memory"); return -1; }
        if (rooms ? vigil_rooms_open(s->path, &s->rooms, &err) : vigil_index_open(s->path, &s->idx, &err)) {
            snprintf(why, whylen, "%s: %s: %s (the shards were scanned against it: run the merge where it is found)", s->path,
                     vigil_result_name(err.code), err.message);
            return -1;
        }
        if (rooms) vigil_rooms_content_id(s->rooms, have);
        else vigil_index_content_id(s->idx, have);
        if (strcmp(have, id)) {
            snprintf(why, whylen, "%s: not the version the shards were scanned against (content id %s; theirs was %s); merge "
                     "with that version of the file", s->path, have, id);
            return -1;
        }
        p = q;
    }
    if (*p || !*nsets) { snprintf(why, whylen, "cannot read the sets out of the shards' settings (%.300s)", settings); return -1; }
    return 0;
}

int cmd_scan_merge(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, 0, 'o'}, {"thumbs", required_argument, 0, 'T'},
        {"quiet", no_argument, 0, 'q'},        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *outdir = NULL;
    int thumbs = 200, quiet = 0, threads = omp_get_num_procs(), c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:j:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': outdir = optarg; break;
        case 'T': if (cli_parse_int("--thumbs", optarg, 0, 4096, &thumbs)) return EXIT_USAGE; break;
        case 'j': if (cli_parse_int("-j", optarg, 1, 1024, &threads)) return EXIT_USAGE; break;
        case 'q': quiet = 1; break;
        case 'h': help_scan_merge(stdout); return 0;
        default: help_scan_merge(stderr); return EXIT_USAGE;
        }
    }
    int nin = argc - optind;
    if (!outdir || nin < 1) {
        cli_warn("scan merge needs -o OUT and the output folders of the shards");
        return EXIT_USAGE;
    }
    vigil_error err;
    if (vigil_init(&err)) { cli_warn("%s", err.message); return EXIT_USAGE; }
    char **dirs = argv + optind;
    enum { MAXSETS = 65 };
    scan_set sets[MAXSETS];
    memset(sets, 0, sizeof sets);
    int nsets = 0, status = EXIT_USAGE, outlock = -1;
    int *locks = calloc((size_t)nin, sizeof *locks);
    scan_journal *in = calloc((size_t)nin, sizeof *in);
    scan_shard_info *info = calloc((size_t)nin, sizeof *info);
    char **own = calloc((size_t)nin, sizeof *own);
    char *base = NULL, *why = malloc(8400);
    unsigned char *seen = NULL;
    size_t wl = 8400;
    if (!locks || !in || !info || !own || !why) { cli_warn("out of memory"); goto out; }
    for (int i = 0; i < nin; i++) { locks[i] = -1; in[i].fd = -1; }
    struct stat ost;
    if (mkdir(outdir, 0755) && errno != EEXIST) { cli_warn("%s: cannot create: %s", outdir, strerror(errno)); goto out; }
    if (!lstat(outdir, &ost) && !S_ISDIR(ost.st_mode)) { cli_warn("%s: not a folder", outdir); goto out; }
    if (cli_lock_outdir(outdir, &outlock, why, wl)) { cli_warn("%s", why); goto out; }
    {
        char j[4200];
        snprintf(j, sizeof j, "%s/journal.vgj", outdir);
        if (!lstat(j, &ost)) { cli_warn("%s already holds a scan; merge into a new folder", outdir); goto out; }
    }
    for (int i = 0; i < nin; i++) {
        for (int k = 0; k < i; k++)
            if (!strcmp(dirs[k], dirs[i])) { cli_warn("%s: given twice", dirs[i]); goto out; }
        if (cli_lock_outdir(dirs[i], &locks[i], why, wl)) { cli_warn("%s (a shard still running is not merged)", why); goto out; }
        int r = scan_shard_read_done(dirs[i], &info[i], why, wl);
        if (r < 0) { cli_warn("%s", why); goto out; }
        if (r > 0) {
            cli_warn("%s: not a finished shard: it has no shard.done (a --shard scan writes it when it completes; an "
                     "interrupted one is finished with --resume)", dirs[i]);
            goto out;
        }
        if (!(own[i] = journal_stored_settings(dirs[i]))) { cli_warn("%s: no scan journal there", dirs[i]); goto out; }
        scan_shard sh;
        char *b = scan_settings_unsharded(own[i], &sh);
        if (!b) { cli_warn("out of memory"); goto out; }
        if (sh.n != info[i].sh.n || sh.k != info[i].sh.k) { free(b); cli_warn("%s: its shard.done does not match its journal", dirs[i]); goto out; }
        if (!base) base = b;
        else {
            int same = !strcmp(base, b);
            free(b);
            if (!same) {
                cli_warn("%s was scanned with other settings or indexes than %s (%.600s; %s has %.600s): merge only the shards of one "
                         "scan", dirs[i], dirs[0], own[i], dirs[0], own[0]);
                goto out;
            }
        }
        if (info[i].sh.n != info[0].sh.n) {
            cli_warn("%s is shard %u/%u, %s is shard %u/%u: the shards of one split have the same N", dirs[i], info[i].sh.k, info[i].sh.n,
                     dirs[0], info[0].sh.k, info[0].sh.n);
            goto out;
        }
        int sameroots = info[i].nroots == info[0].nroots;
        for (int k = 0; sameroots && k < info[i].nroots; k++) sameroots = !strcmp(info[i].roots[k], info[0].roots[k]);
        if (!sameroots) {
            cli_warn("%s scanned other paths than %s (%s ... against %s ...): the shards of one scan walk the same tree", dirs[i], dirs[0],
                     info[i].nroots ? info[i].roots[0] : "none", info[0].nroots ? info[0].roots[0] : "none");
            goto out;
        }
    }
    unsigned n = info[0].sh.n;
    seen = calloc(n + 1, 1);
    if (!seen) { cli_warn("out of memory"); goto out; }
    for (int i = 0; i < nin; i++) {
        if (seen[info[i].sh.k]) { cli_warn("%s: shard %u/%u given twice", dirs[i], info[i].sh.k, n); goto out; }
        seen[info[i].sh.k] = 1;
    }
    for (unsigned k = 1; k <= n; k++)
        if (!seen[k]) {
            cli_warn("shard %u/%u is missing: a merge needs the outputs of all %u shards, or files would be left out", k, n, n);
            goto out;
        }
    for (int i = 0; i < nin; i++) {
        if (journal_open(&in[i], dirs[i], own[i], 1, why, wl)) { cli_warn("%s", why); goto out; }
        if (in[i].records != info[i].records || in[i].end != info[i].bytes || in[i].dropped || in[i].torn) {
            cli_warn("%s: its journal holds %llu records (%llu bytes), not the %llu (%llu bytes) it had when the shard finished: it "
                     "was resumed or damaged since; finish it with --resume", dirs[i], (unsigned long long)in[i].records,
                     (unsigned long long)in[i].end, info[i].records, info[i].bytes);
            goto out;
        }
    }
    if (open_sets_from(base, sets, MAXSETS, &nsets, why, wl)) { cli_warn("%s", why); goto out; }
    scan_report_opts ro = {outdir, sets, nsets, thumbs, threads, 0, 0, base, 0, 0, 0, 0, 0, NULL};
    scan_merge_stats st;
    if (scan_merge(outdir, base, in, nin, info[0].roots, info[0].nroots, &ro, &st, why, wl)) { cli_warn("%s", why); goto out; }
    if (!quiet)
        fprintf(stderr, "%llu files from %d shards: %llu matched a reference set, %llu could not be read or decoded (merged in %.2f s)\n",
                ro.files, nin, ro.matched, ro.failed, st.seconds);
    printf("%s/summary.json\n%s/report.html\n", outdir, outdir);
    status = ro.failed ? EXIT_SOME_FAILED : 0;
out:
    for (int i = 0; i < nin; i++) {
        if (in && in[i].fd >= 0) journal_close(&in[i]);
        if (locks) cli_unlock_outdir(locks[i]);
        if (info) scan_shard_info_free(&info[i]);
        if (own) free(own[i]);
    }
    for (int k = 0; k < nsets; k++) {
        vigil_index_free(sets[k].idx);
        vigil_rooms_free(sets[k].rooms);
        free((char *)sets[k].path);
        free((char *)sets[k].name);
    }
    cli_unlock_outdir(outlock);
    free(locks);
    free(in);
    free(info);
    free(own);
    free(base);
    free(why);
    free(seen);
    return status;
}
