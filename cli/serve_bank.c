/* serve_bank.c - a bank of `vigil serve`: one index file (its set name is the bank's name), the
 * add log beside it (FILE.vgi.log) and the snapshot that searches see.
 *
 * Adds and deletes are appended to the log and fdatasync'd before the reply, so an acknowledged
 * change survives kill -9 and power loss; they then go into the snapshot: an add into a small
 * index of its own (the delta, searched beside the file's index, so nothing is rebuilt), a delete
 * as tombstones in both. A reload (the file replaced by rename, SIGHUP) reads the new file outside
 * every lock, applies the log on top, and swaps the snapshot under a mutex held for a pointer
 * copy; requests hold a reference from start to end, so a swap never fails or blocks one, and the
 * old snapshot is freed by whichever request ends last. Compaction writes file + log into a new
 * file with the library's atomic writer, then empties the log; an add found in the file already
 * (a crash between the two) is not applied twice, since every add carries its id.
 *
 * Memory: the file's index (86 bytes an entry, vigil.h), two of them while a reload or compaction
 * reads the next one, plus per logged change about 140 bytes (the op kept for reloads, and its
 * entry in the delta). */
#include "cli.h"
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

typedef struct op {
    char del;           /* 0 add, 1 delete */
    char id[32];
    vigil_pdq h;
    int quality;
    char *labels;
    int in_base;        /* the file read last holds this add already */
} op;

struct srv_snap {
    atomic_int refs;
    vigil_index *base, *delta;
    pthread_rwlock_t lock; /* searches read; adds and deletes write (delta, tombstones) */
    char cid[33];
};

struct srv_bank {
    char *path, *logpath;
    char name[64];
    int logfd, readonly;
    pthread_mutex_t wlock; /* one change at a time: adds, deletes, reload, compaction */
    pthread_mutex_t slock; /* guards cur: held only to copy the pointer and take a reference */
    srv_snap *cur;
    op *ops;
    size_t nops, cap;
    uint64_t next_id;
    atomic_uint_fast64_t reloads;
};

static void snap_free(srv_snap *s)
{
    vigil_index_free(s->base);
    vigil_index_free(s->delta);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

srv_snap *srv_bank_acquire(srv_bank *b)
{
    pthread_mutex_lock(&b->slock);
    srv_snap *s = b->cur;
    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&b->slock);
    return s;
}

void srv_snap_release(srv_snap *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) snap_free(s);
}

const char *srv_bank_name(const srv_bank *b) { return b->name; }
const char *srv_bank_path(const srv_bank *b) { return b->path; }
uint64_t srv_bank_reloads(srv_bank *b) { return atomic_load(&b->reloads); }
uint64_t srv_bank_log_records(srv_bank *b)
{
    pthread_mutex_lock(&b->wlock);
    uint64_t n = b->nops;
    pthread_mutex_unlock(&b->wlock);
    return n;
}
const char *srv_snap_content_id(srv_snap *s) { return s->cid; }

void srv_snap_sizes(srv_snap *s, uint64_t *live, uint64_t *base, uint64_t *delta, uint64_t *digests)
{
    vigil_index_stats a, d;
    pthread_rwlock_rdlock(&s->lock);
    vigil_index_get_stats(s->base, &a);
    vigil_index_get_stats(s->delta, &d);
    pthread_rwlock_unlock(&s->lock);
    if (live) *live = a.entries + d.entries;
    if (base) *base = a.entries;
    if (delta) *delta = d.entries;
    if (digests) *digests = a.digests;
}

/* ---- the log: one line per change, "A\tID\tHEX\tQUALITY\tLABELS\tXXH64" or "D\tID\tXXH64" ---- */

static int line_check(const char *line, size_t n, char **body_end)
{
    /* the last tab-separated field is the XXH3-64 of everything before that tab */
    const char *t = NULL;
    for (size_t i = n; i-- > 0;)
        if (line[i] == '\t') { t = line + i; break; }
    if (!t || line + n - t - 1 != 16) return -1;
    char want[17];
    snprintf(want, sizeof want, "%016" PRIx64, (uint64_t)XXH3_64bits(line, (size_t)(t - line)));
    if (memcmp(want, t + 1, 16)) return -1;
    *body_end = (char *)t;
    return 0;
}

static int push_op(srv_bank *b, const op *o)
{
    if (b->nops == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        op *p = realloc(b->ops, cap * sizeof *p);
        if (!p) return -1;
        b->ops = p;
        b->cap = cap;
    }
    b->ops[b->nops++] = *o;
    return 0;
}

static int parse_op(char *line, op *o)
{
    memset(o, 0, sizeof *o);
    char *f[6];
    int nf = 0;
    f[nf++] = line;
    for (char *p = line; *p && nf < 6; p++)
        if (*p == '\t') { *p = 0; f[nf++] = p + 1; }
    if (nf == 2 && !strcmp(f[0], "D") && strlen(f[1]) < sizeof o->id) {
        o->del = 1;
        strcpy(o->id, f[1]);
        return 0;
    }
    if (nf != 5 || strcmp(f[0], "A") || strlen(f[1]) >= sizeof o->id || !f[1][0]) return -1;
    strcpy(o->id, f[1]);
    if (vigil_pdq_from_hex(f[2], strlen(f[2]), &o->h)) return -1;
    long long q;
    if (cli_strict_int(f[3], -1, 100, &q)) return -1;
    o->quality = (int)q;
    if (f[4][0] && !(o->labels = strdup(f[4]))) return -1;
    return 0;
}

/* Reads the log: good lines become ops, a damaged line is reported and skipped, a torn last line
 * (no newline: the write that a crash cut) is cut off the file. */
static int read_log(srv_bank *b, char *why, size_t whylen)
{
    struct stat st;
    if (fstat(b->logfd, &st)) { snprintf(why, whylen, "%s: %s", b->logpath, strerror(errno)); return -1; }
    if (st.st_size == 0) return 0;
    size_t n = (size_t)st.st_size;
    char *text = malloc(n + 1);
    if (!text) { snprintf(why, whylen, "%s: out of memory", b->logpath); return -1; }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(b->logfd, text + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { free(text); snprintf(why, whylen, "%s: cannot read: %s", b->logpath, r ? strerror(errno) : "short read"); return -1; }
        got += (size_t)r;
    }
    text[n] = 0;
    size_t pos = 0, lineno = 0;
    while (pos < n) {
        char *nl = memchr(text + pos, '\n', n - pos);
        lineno++;
        if (!nl) {
            cli_warn("%s: the last change was cut short (no newline): dropped, as it was never acknowledged", b->logpath);
            if (ftruncate(b->logfd, (off_t)pos) || fdatasync(b->logfd)) {
                snprintf(why, whylen, "%s: cannot cut the torn last line: %s", b->logpath, strerror(errno));
                free(text);
                return -1;
            }
            break;
        }
        *nl = 0;
        char *body_end;
        op o;
        if (line_check(text + pos, (size_t)(nl - text - pos), &body_end) == 0) {
            *body_end = 0;
            if (parse_op(text + pos, &o) == 0) {
                if (push_op(b, &o)) { free(o.labels); free(text); snprintf(why, whylen, "out of memory"); return -1; }
            } else cli_warn("%s:%zu: unreadable change, skipped", b->logpath, lineno);
        } else cli_warn("%s:%zu: damaged change (checksum), skipped", b->logpath, lineno);
        pos = (size_t)(nl - text) + 1;
    }
    free(text);
    return 0;
}

static int append_line(srv_bank *b, const char *body, char *why, size_t whylen)
{
    size_t n = strlen(body);
    char *line = malloc(n + 19);
    if (!line) { snprintf(why, whylen, "out of memory"); return -1; }
    memcpy(line, body, n);
    snprintf(line + n, 19, "\t%016" PRIx64 "\n", (uint64_t)XXH3_64bits(body, n));
    size_t len = n + 18, off = 0;
    /* O_APPEND: one write() puts the whole line at the end; a short one is finished below */
    while (off < len) {
        ssize_t w = write(b->logfd, line + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            snprintf(why, whylen, "%s: cannot write: %s", b->logpath, strerror(errno));
            free(line);
            return -1;
        }
        off += (size_t)w;
    }
    free(line);
    if (fdatasync(b->logfd)) { snprintf(why, whylen, "%s: cannot sync: %s", b->logpath, strerror(errno)); return -1; }
    return 0;
}

/* ---- snapshots ------------------------------------------------------------------------------- */

static int is_decimal(const char *s, uint64_t *v)
{
    size_t n = strlen(s);
    if (!n || n > 18 || strspn(s, "0123456789") != n) return 0;
    *v = strtoull(s, NULL, 10);
    return 1;
}

/* An id table of the ops' ids (open addressing), to tell in one pass over the file which adds it
 * holds already. */
typedef struct idset { const char **k; size_t *op; size_t mask; } idset;

static int idset_build(idset *s, const srv_bank *b)
{
    size_t cap = 16;
    while (cap < b->nops * 2 + 2) cap *= 2;
    s->k = calloc(cap, sizeof *s->k);
    s->op = calloc(cap, sizeof *s->op);
    s->mask = cap - 1;
    if (!s->k || !s->op) { free(s->k); free(s->op); return -1; }
    for (size_t i = 0; i < b->nops; i++) {
        if (b->ops[i].del) continue;
        size_t h = (size_t)XXH3_64bits(b->ops[i].id, strlen(b->ops[i].id)) & s->mask;
        while (s->k[h]) h = (h + 1) & s->mask;
        s->k[h] = b->ops[i].id;
        s->op[h] = i;
    }
    return 0;
}

static long idset_find(const idset *s, const char *id)
{
    size_t h = (size_t)XXH3_64bits(id, strlen(id)) & s->mask;
    while (s->k[h]) {
        if (!strcmp(s->k[h], id)) return (long)s->op[h];
        h = (h + 1) & s->mask;
    }
    return -1;
}

/* A snapshot of base with the log applied: the caller holds wlock. Takes base. */
static srv_snap *build_snap(srv_bank *b, vigil_index *base, char *why, size_t whylen)
{
    srv_snap *s = calloc(1, sizeof *s);
    vigil_error err;
    if (!s) { vigil_index_free(base); snprintf(why, whylen, "out of memory"); return NULL; }
    pthread_rwlock_init(&s->lock, NULL);
    atomic_init(&s->refs, 1);
    s->base = base;
    if (vigil_index_content_id(base, s->cid)) s->cid[0] = 0;
    if (vigil_index_new(b->name, &s->delta, &err)) {
        snprintf(why, whylen, "%s", err.message);
        snap_free(s);
        return NULL;
    }
    /* one pass over the file: the highest numeric id (new ids follow it) and which logged adds it
     * holds already */
    idset set = {0};
    if (idset_build(&set, b)) { snprintf(why, whylen, "out of memory"); snap_free(s); return NULL; }
    for (size_t i = 0; i < b->nops; i++) b->ops[i].in_base = 0;
    vigil_index_stats st;
    vigil_index_get_stats(base, &st);
    uint64_t total = st.indexed + st.unsorted, maxid = 0, v;
    for (uint64_t e = 0; e < total; e++) {
        const char *id;
        if (vigil_index_entry(base, e, NULL, NULL, &id, NULL) || !id) continue;
        if (is_decimal(id, &v) && v > maxid) maxid = v;
        if (b->nops) {
            long k = idset_find(&set, id);
            if (k >= 0) b->ops[k].in_base = 1;
        }
    }
    for (uint64_t d = 0; d < st.digest_records; d++) {
        const char *id;
        if (vigil_index_digest_entry(base, d, NULL, NULL, NULL, &id, NULL) || !id) continue;
        if (is_decimal(id, &v) && v > maxid) maxid = v;
    }
    free(set.k);
    free(set.op);
    for (size_t i = 0; i < b->nops; i++) {
        const op *o = &b->ops[i];
        if (is_decimal(o->id, &v) && v > maxid) maxid = v;
        vigil_result r = VIGIL_OK;
        if (!o->del && !o->in_base) r = vigil_index_add(s->delta, &o->h, o->quality, o->id, o->labels, &err);
        else if (o->del) {
            r = vigil_index_remove(s->base, o->id, NULL, &err);
            if (!r) r = vigil_index_remove(s->delta, o->id, NULL, &err);
        }
        if (r) { snprintf(why, whylen, "%s", err.message); snap_free(s); return NULL; }
    }
    if (maxid + 1 > b->next_id) b->next_id = maxid + 1;
    return s;
}

static vigil_index *open_checked(srv_bank *b, char *why, size_t whylen)
{
    vigil_index *x;
    vigil_error err;
    if (vigil_index_open(b->path, &x, &err)) { snprintf(why, whylen, "%s: %s", b->path, err.message); return NULL; }
    vigil_index_stats st;
    vigil_index_get_stats(x, &st);
    if (b->name[0] && strcmp(st.set_name, b->name)) {
        snprintf(why, whylen, "%s: now holds set '%s', not bank '%s'; kept the version loaded", b->path, st.set_name,
                 b->name);
        vigil_index_free(x);
        return NULL;
    }
    return x;
}

srv_bank *srv_bank_open(const char *path, char *why, size_t whylen)
{
    srv_bank *b = calloc(1, sizeof *b);
    if (!b) { snprintf(why, whylen, "out of memory"); return NULL; }
    b->logfd = -1;
    pthread_mutex_init(&b->wlock, NULL);
    pthread_mutex_init(&b->slock, NULL);
    b->next_id = 1;
    b->path = strdup(path);
    size_t n = strlen(path);
    b->logpath = malloc(n + 5);
    if (!b->path || !b->logpath) { snprintf(why, whylen, "out of memory"); srv_bank_free(b); return NULL; }
    memcpy(b->logpath, path, n);
    memcpy(b->logpath + n, ".log", 5);
    vigil_index *x = open_checked(b, why, whylen);
    if (!x) { srv_bank_free(b); return NULL; }
    vigil_index_stats st;
    vigil_index_get_stats(x, &st);
    snprintf(b->name, sizeof b->name, "%s", st.set_name);
    b->logfd = open(b->logpath, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (b->logfd < 0) {
        snprintf(why, whylen, "%s: cannot open the add log: %s", b->logpath, strerror(errno));
        vigil_index_free(x);
        srv_bank_free(b);
        return NULL;
    }
    /* one writer per log: a second server on the same files serves them read-only */
    if (flock(b->logfd, LOCK_EX | LOCK_NB)) {
        cli_warn("%s: held by another vigil serve: bank %s is served read-only here", b->logpath, b->name);
        b->readonly = 1;
        close(b->logfd);
        b->logfd = -1;
    } else if (read_log(b, why, whylen)) {
        vigil_index_free(x);
        srv_bank_free(b);
        return NULL;
    }
    pthread_mutex_lock(&b->wlock);
    b->cur = build_snap(b, x, why, whylen);
    pthread_mutex_unlock(&b->wlock);
    if (!b->cur) { srv_bank_free(b); return NULL; }
    return b;
}

void srv_bank_free(srv_bank *b)
{
    if (!b) return;
    srv_snap_release(b->cur);
    for (size_t i = 0; i < b->nops; i++) free(b->ops[i].labels);
    free(b->ops);
    if (b->logfd >= 0) close(b->logfd);
    pthread_mutex_destroy(&b->wlock);
    pthread_mutex_destroy(&b->slock);
    free(b->path);
    free(b->logpath);
    free(b);
}

static void swap_in(srv_bank *b, srv_snap *s)
{
    pthread_mutex_lock(&b->slock);
    srv_snap *old = b->cur;
    b->cur = s;
    pthread_mutex_unlock(&b->slock);
    srv_snap_release(old);
}

int srv_bank_reload(srv_bank *b, int force, char *why, size_t whylen)
{
    srv_snap *cur = srv_bank_acquire(b);
    vigil_source_state state = vigil_index_source_state(cur->base, NULL);
    srv_snap_release(cur);
    if (!force && state == VIGIL_SOURCE_SAME) return 0;
    /* the slow part (read and check the whole file) holds no lock */
    vigil_index *x = open_checked(b, why, whylen);
    if (!x) return -1;
    pthread_mutex_lock(&b->wlock);
    srv_snap *s = build_snap(b, x, why, whylen);
    if (s) swap_in(b, s);
    pthread_mutex_unlock(&b->wlock);
    if (!s) return -1;
    atomic_fetch_add(&b->reloads, 1);
    return 1;
}

static void clean_labels(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '_';
}

int srv_bank_add(srv_bank *b, const vigil_pdq *h, int quality, const char *labels, char id[32], char *why,
                 size_t whylen)
{
    if (b->readonly) { snprintf(why, whylen, "bank %s is read-only here: another vigil serve holds its add log", b->name); return -1; }
    char *lab = labels ? strdup(labels) : NULL;
    if (labels && !lab) { snprintf(why, whylen, "out of memory"); return -1; }
    if (lab) clean_labels(lab);
    char hex[65];
    vigil_pdq_to_hex(h, hex);
    pthread_mutex_lock(&b->wlock);
    op o = {0};
    snprintf(o.id, sizeof o.id, "%" PRIu64, b->next_id);
    o.h = *h;
    o.quality = quality;
    o.labels = lab;
    srv_buf line = {0};
    srv_buf_fmt(&line, "A\t%s\t%s\t%d\t", o.id, hex, quality);
    if (lab) srv_buf_str(&line, lab);
    int rc = line.oom ? (snprintf(why, whylen, "out of memory"), -1) : append_line(b, line.p, why, whylen);
    free(line.p);
    if (!rc && push_op(b, &o)) { snprintf(why, whylen, "out of memory"); rc = -1; }
    if (!rc) {
        b->next_id++;
        srv_snap *s = b->cur; /* wlock keeps it current; its own lock keeps searches out meanwhile */
        vigil_error err;
        pthread_rwlock_wrlock(&s->lock);
        vigil_result r = vigil_index_add(s->delta, h, quality, o.id, lab, &err);
        pthread_rwlock_unlock(&s->lock);
        /* logged but not in memory: the next reload has it; say so rather than pretend */
        if (r) { snprintf(why, whylen, "logged but not searchable until the next reload: %s", err.message); rc = -1; }
        memcpy(id, o.id, 32);
    } else free(lab);
    pthread_mutex_unlock(&b->wlock);
    return rc;
}

int srv_bank_delete(srv_bank *b, const char *id, uint64_t *n, char *why, size_t whylen)
{
    if (b->readonly) { snprintf(why, whylen, "bank %s is read-only here: another vigil serve holds its add log", b->name); return -1; }
    if (!id[0] || strlen(id) >= 32 || strpbrk(id, "\t\n\r")) { snprintf(why, whylen, "bad content id"); return -1; }
    pthread_mutex_lock(&b->wlock);
    op o = {0};
    o.del = 1;
    strcpy(o.id, id);
    srv_buf line = {0};
    srv_buf_fmt(&line, "D\t%s", id);
    int rc = line.oom ? (snprintf(why, whylen, "out of memory"), -1) : append_line(b, line.p, why, whylen);
    free(line.p);
    if (!rc && push_op(b, &o)) { snprintf(why, whylen, "out of memory"); rc = -1; }
    if (!rc) {
        srv_snap *s = b->cur;
        size_t n1 = 0, n2 = 0;
        vigil_error err;
        pthread_rwlock_wrlock(&s->lock);
        vigil_result r = vigil_index_remove(s->base, id, &n1, &err);
        if (!r) r = vigil_index_remove(s->delta, id, &n2, &err);
        pthread_rwlock_unlock(&s->lock);
        if (r) { snprintf(why, whylen, "%s", err.message); rc = -1; }
        *n = n1 + n2;
    }
    pthread_mutex_unlock(&b->wlock);
    return rc;
}

static int fsync_dir_of(const char *path)
{
    char *d = strdup(path);
    if (!d) return -1;
    char *sl = strrchr(d, '/');
    if (sl) *(sl == d ? sl + 1 : sl) = 0;
    int fd = open(sl ? d : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(d);
    if (fd < 0) return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

int srv_bank_compact(srv_bank *b, char *why, size_t whylen)
{
    if (b->readonly) { snprintf(why, whylen, "bank %s is read-only here", b->name); return -1; }
    pthread_mutex_lock(&b->wlock);
    int rc = -1;
    vigil_error err;
    /* the file as it is now, with every change of the log applied: the same recipe as a snapshot */
    vigil_index *x = open_checked(b, why, whylen);
    srv_snap *s = x ? build_snap(b, x, why, whylen) : NULL;
    if (!s) goto out;
    vigil_index_stats st;
    vigil_index_get_stats(s->delta, &st);
    for (uint64_t e = 0; e < st.indexed + st.unsorted; e++) {
        vigil_pdq h;
        int q;
        const char *id, *lab;
        if (vigil_index_entry(s->delta, e, &h, &q, &id, &lab)) continue;
        if (vigil_index_add(s->base, &h, q, id, lab, &err)) { snprintf(why, whylen, "%s", err.message); goto out; }
    }
    if (vigil_index_compact(s->base, &err) || vigil_index_save(s->base, b->path, &err)) {
        snprintf(why, whylen, "%s: %s", b->path, err.message);
        goto out;
    }
    /* the file holds everything now: an empty log, made durable before anything else is added */
    if (ftruncate(b->logfd, 0) || fdatasync(b->logfd) || fsync_dir_of(b->path)) {
        snprintf(why, whylen, "%s: cannot empty the add log: %s", b->logpath, strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < b->nops; i++) free(b->ops[i].labels);
    b->nops = 0;
    snap_free(s);
    s = NULL;
    x = open_checked(b, why, whylen);
    if (x && (s = build_snap(b, x, why, whylen))) {
        swap_in(b, s);
        s = NULL;
        atomic_fetch_add(&b->reloads, 1);
        rc = 0;
    }
out:
    if (s) snap_free(s);
    pthread_mutex_unlock(&b->wlock);
    return rc;
}

/* ---- searching ------------------------------------------------------------------------------- */

typedef struct hit { size_t q; int d, t, delta; uint64_t e; } hit;

static int hit_cmp(const void *a, const void *b)
{
    const hit *x = a, *y = b;
    if (x->q != y->q) return x->q < y->q ? -1 : 1;
    if (x->d != y->d) return x->d - y->d;
    if (x->delta != y->delta) return x->delta - y->delta;
    return x->e < y->e ? -1 : x->e > y->e;
}

int srv_snap_search(srv_snap *s, const vigil_pdq *q, size_t nq, int variants, int radius, srv_match_fn fn, void *ctx,
                    char *why, size_t whylen)
{
    vigil_index_search_options o;
    vigil_index_search_options_init(&o);
    o.radius = radius;
    o.threads = 1; /* the server's threads are the parallelism; OpenMP inside would oversubscribe */
    vigil_index_match *m1 = NULL, *m2 = NULL;
    size_t n1 = 0, n2 = 0;
    vigil_error err;
    int rc = 0;
    pthread_rwlock_rdlock(&s->lock);
    if (vigil_index_search(s->base, q, nq, variants, &o, &m1, &n1, &err) ||
        vigil_index_search(s->delta, q, nq, variants, &o, &m2, &n2, &err)) {
        snprintf(why, whylen, "%s", err.message);
        rc = -1;
    } else if (n2 == 0) {
        /* the common case: nothing added since the file, the file's order is already right */
        for (size_t i = 0; i < n1; i++) {
            srv_match m = {NULL, m1[i].distance, (int)m1[i].transform, 0};
            vigil_index_entry(s->base, m1[i].entry, NULL, NULL, &m.id, NULL);
            if (!m.id) m.id = "";
            fn(m1[i].query, &m, ctx);
        }
    } else {
        hit *h = malloc((n1 + n2) * sizeof *h);
        if (!h) { snprintf(why, whylen, "out of memory"); rc = -1; }
        for (size_t i = 0; h && i < n1 + n2; i++) {
            const vigil_index_match *x = i < n1 ? &m1[i] : &m2[i - n1];
            h[i] = (hit){x->query, x->distance, (int)x->transform, i >= n1, x->entry};
        }
        if (h) qsort(h, n1 + n2, sizeof *h, hit_cmp);
        for (size_t i = 0; h && i < n1 + n2; i++) {
            srv_match m = {NULL, h[i].d, h[i].t, h[i].delta};
            vigil_index_entry(h[i].delta ? s->delta : s->base, h[i].e, NULL, NULL, &m.id, NULL);
            if (!m.id) m.id = "";
            fn(h[i].q, &m, ctx);
        }
        free(h);
    }
    pthread_rwlock_unlock(&s->lock);
    vigil_free(m1);
    vigil_free(m2);
    return rc;
}

void srv_snap_digest(srv_snap *s, const uint8_t *md5, const uint8_t *sha1, size_t q, srv_match_fn fn, void *ctx)
{
    uint64_t found[64];
    pthread_rwlock_rdlock(&s->lock);
    size_t n = vigil_index_find_digest(s->base, md5, sha1, found, 64);
    if (n > 64) n = 64;
    for (size_t i = 0; i < n; i++) {
        srv_match m = {NULL, 0, 0, 0};
        if (vigil_index_digest_entry(s->base, found[i], NULL, NULL, NULL, &m.id, NULL)) continue;
        if (!m.id) m.id = "";
        fn(q, &m, ctx);
    }
    pthread_rwlock_unlock(&s->lock);
}
