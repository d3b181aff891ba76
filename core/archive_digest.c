/* archive_digest.c - an archive file's own MD5, SHA-1 and XXH3-128 (the record VICS lists) on a
 * thread of their own, beside libarchive's reads of the same file, and, in the same pass, the
 * digests of its stored zip members.
 *
 * Why the members: a stored member's bytes lie in the zip as they are, so the one pass over the
 * zip sees every one of them. Their MD5 goes through md5x2.c beside the zip's own (two streams in
 * one loop cost about 1.2 of one, where a second pass costs 2: bench/results/archive.md), and their
 * SHA-1, XXH3 and CRC-32 are taken from the same slice while it is in cache. A worker hashing such a
 * member then skips its digests and takes these (vigil_digest_ticket_wait); the thread checks the
 * CRC-32 of the range it read against the central directory's, as the reader checks the member's
 * bytes, so a ticket never gives the digests of other bytes.
 *
 * The bytes of a stored member are read into a buffer of its own, digested there in 256 KiB
 * pieces while they are in cache, and handed to the worker that hashes the member
 * (vigil_digest_ticket_read takes them), so the member is read from the file once, not twice, and
 * its CRC-32 is checked once. The thread reads ahead of the workers by at most HOLD_MAX bytes of
 * such buffers and then sleeps until one is taken; while anyone waits on it, it goes on without
 * keeping the bytes (the worker then preads them, as when a member is larger than HOLD_MAX), so
 * it never waits on a worker that waits on it.
 *
 * Memory: a 256 KiB slice, at most HOLD_MAX (8 MiB) of members read ahead, and about 100 bytes
 * per stored member (at most MEMBERS_MAX of them; members past that are digested by their
 * workers as any other). */
#include "archive_digest.h"
#include "md5x2.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <nettle/sha1.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define SLICE (256u << 10)
#define HOLD_MAX (8u << 20)
#define MEMBERS_MAX (1u << 20)

enum { M_PENDING, M_DONE, M_NONE };

typedef struct mstate {
    uint64_t header_at, size, at; /* at: where its bytes start (from its local header) */
    uint32_t crc_cd;
    uint8_t state;
    uint8_t md5[16], sha1[20], xxh[16];
    uint8_t *buf; /* its bytes, read ahead for its worker; NULL once taken or when not kept */
} mstate;

struct vigil__adigest {
    int fd;
    struct stat st;
    int stop;
    pthread_t th;
    int started, joined;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    int finished;       /* the thread is done: no member still pending will come */
    int waiters;        /* callers waiting on the thread now (a join counts for ever) */
    uint64_t held, hold_max; /* bytes in buffers read ahead and not yet taken; their bound */
    size_t n;
    mstate *m;
    vigil_hash_result res;
    vigil_result rc;
    vigil_error err;
};

struct vigil_digest_ticket {
    vigil__adigest *d;
    size_t k;
};

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static void publish(vigil__adigest *d, mstate *m, uint8_t state, uint8_t *buf)
{
    pthread_mutex_lock(&d->mu);
    m->state = state;
    m->buf = buf;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* Whether the next member's size bytes may be kept for its worker: under the bound, after
 * sleeping while over it and nobody waits on the thread. Reserved when so. */
static int reserve(vigil__adigest *d, uint64_t size)
{
    pthread_mutex_lock(&d->mu);
    while (!__atomic_load_n(&d->stop, __ATOMIC_RELAXED) && d->held && d->held + size > d->hold_max && !d->waiters)
        pthread_cond_wait(&d->cv, &d->mu);
    int keep = d->held + size <= d->hold_max;
    if (keep) d->held += size;
    pthread_mutex_unlock(&d->mu);
    return keep;
}

static void unreserve(vigil__adigest *d, uint64_t size)
{
    pthread_mutex_lock(&d->mu);
    d->held -= size;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* Waits (mu held) until member m is settled or the thread is done, as one of its waiters. */
static void wait_settled(vigil__adigest *d, const mstate *m)
{
    if (m ? m->state != M_PENDING : d->finished) return;
    if (d->finished) return;
    d->waiters++;
    pthread_cond_broadcast(&d->cv); /* a thread asleep over its bound goes on */
    while (!d->finished && (!m || m->state == M_PENDING)) pthread_cond_wait(&d->cv, &d->mu);
    d->waiters--;
}

static int by_start(const void *x, const void *y, void *ctx)
{
    const mstate *m = ctx;
    uint64_t a = m[*(const size_t *)x].at, b = m[*(const size_t *)y].at;
    return (a > b) - (a < b);
}

/* Where a member's bytes start, from its local header: a stored, unencrypted one whose bytes lie
 * inside the file as opened. 0: none. */
static uint64_t member_start(const vigil__adigest *d, const mstate *m)
{
    uint64_t fsize = (uint64_t)d->st.st_size;
    uint8_t h[30];
    if (m->header_at > fsize || pread(d->fd, h, sizeof h, (off_t)m->header_at) != (ssize_t)sizeof h ||
        le32(h) != 0x04034b50 || (le16(h + 6) & 1) || le16(h + 8) != 0)
        return 0;
    uint64_t at = m->header_at + 30 + le16(h + 26) + le16(h + 28);
    return at > fsize || m->size > fsize - at ? 0 : at;
}

/* Where each member's bytes are; those, in file order and not overlapping, into ord. The rest
 * are done with. */
static size_t plan(vigil__adigest *d, size_t *ord)
{
    size_t n = 0;
    for (size_t k = 0; k < d->n; k++) {
        mstate *m = &d->m[k];
        if (m->size == 0 || !(m->at = member_start(d, m))) continue;
        ord[n++] = k;
    }
    qsort_r(ord, n, sizeof *ord, by_start, d->m);
    size_t kept = 0;
    uint64_t end = 0;
    for (size_t i = 0; i < n; i++) {
        mstate *m = &d->m[ord[i]];
        if (m->at < end) { m->at = UINT64_MAX; continue; } /* overlaps the one before: crafted */
        end = m->at + m->size;
        ord[kept++] = ord[i];
    }
    pthread_mutex_lock(&d->mu);
    for (size_t k = 0; k < d->n; k++) /* at 0: not planned (no header puts bytes there) */
        if (d->m[k].at == 0 || d->m[k].at == UINT64_MAX) d->m[k].state = M_NONE;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    return kept;
}

typedef struct streams {
    vigil__md5 md5;
    struct sha1_ctx sha1;
    XXH3_state_t *xxh;
} streams;

static int streams_init(streams *s)
{
    vigil__md5_init(&s->md5);
    sha1_init(&s->sha1);
    if (!s->xxh && !(s->xxh = XXH3_createState())) return -1;
    XXH3_128bits_reset(s->xxh);
    return 0;
}

static void streams_final(streams *s, uint8_t md5[16], uint8_t sha1[20], uint8_t xxh[16])
{
    vigil__md5_final(&s->md5, md5);
    sha1_digest(&s->sha1, 20, sha1);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(s->xxh));
    memcpy(xxh, c.digest, 16);
}

/* Reads [*pos, to) (to UINT64_MAX: to the end of the file) in SLICE pieces, into dst when given
 * (the member's own buffer) else the slice, into the file's streams and, with mem, the member's
 * and its CRC-32. 0: all of it; 1: the file ended first; -1: d->err says why. */
static int span(vigil__adigest *d, uint64_t *pos, uint64_t to, uint8_t *slice, uint8_t *dst, streams *file,
                streams *mem, uint32_t *crc)
{
    const uint64_t from = *pos;
    while (*pos < to) {
        if (__atomic_load_n(&d->stop, __ATOMIC_RELAXED)) {
            vigil__fail(&d->err, VIGIL_E_IO, "stopped after %llu bytes", (unsigned long long)*pos);
            return -1;
        }
        size_t want = to - *pos < SLICE ? (size_t)(to - *pos) : SLICE;
        uint8_t *p = dst ? dst + (*pos - from) : slice;
        ssize_t got = pread(d->fd, p, want, (off_t)*pos);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            vigil__fail(&d->err, VIGIL_E_IO, "read failed after %llu bytes: %s", (unsigned long long)*pos, strerror(errno));
            return -1;
        }
        if (got == 0) return 1;
        size_t k = (size_t)got;
        if (mem) {
            vigil__md5_update2(&file->md5, p, &mem->md5, p, k);
            sha1_update(&mem->sha1, k, p);
            XXH3_128bits_update(mem->xxh, p, k);
            *crc = (uint32_t)libdeflate_crc32(*crc, p, k);
        } else {
            vigil__md5_update(&file->md5, p, k);
        }
        sha1_update(&file->sha1, k, p);
        XXH3_128bits_update(file->xxh, p, k);
        *pos += k;
    }
    return 0;
}

static vigil_result digest_all(vigil__adigest *d, uint64_t *len)
{
    size_t *ord = malloc((d->n ? d->n : 1) * sizeof *ord);
    uint8_t *slice = malloc(SLICE);
    streams file = {0}, mem = {0};
    vigil_result r = VIGIL_OK;
    *len = 0;
    if (!ord || !slice || streams_init(&file) || streams_init(&mem)) {
        r = vigil__fail(&d->err, VIGIL_E_NOMEM, "out of memory reading file");
        goto out;
    }
    size_t nord = plan(d, ord);
    uint64_t pos = 0;
    int s = 0;
    for (size_t i = 0; i < nord && !s; i++) {
        mstate *m = &d->m[ord[i]];
        if ((s = span(d, &pos, m->at, slice, NULL, &file, NULL, NULL))) break; /* headers, other bytes */
        int keep = reserve(d, m->size);
        uint8_t *buf = keep ? malloc((size_t)m->size + 1) : NULL;
        if (keep && !buf) { unreserve(d, m->size); keep = 0; }
        uint32_t crc = 0;
        if (streams_init(&mem)) { s = -1; vigil__fail(&d->err, VIGIL_E_NOMEM, "out of memory reading file"); }
        else s = span(d, &pos, m->at + m->size, slice, buf, &file, &mem, &crc);
        if (s || crc != m->crc_cd) { /* not these bytes: its worker reads and checks them itself */
            free(buf);
            if (keep) unreserve(d, m->size);
            if (!s) publish(d, m, M_NONE, NULL);
            continue;
        }
        streams_final(&mem, m->md5, m->sha1, m->xxh);
        publish(d, m, M_DONE, buf);
    }
    if (!s) s = span(d, &pos, UINT64_MAX, slice, NULL, &file, NULL, NULL); /* the rest, as far as it goes */
    *len = pos;
    if (s < 0) {
        r = d->err.code ? d->err.code : VIGIL_E_IO;
    } else {
        streams_final(&file, d->res.md5, d->res.sha1, d->res.xxh128);
        d->res.have |= VIGIL_HAVE_DIGESTS;
    }
out:
    XXH3_freeState(file.xxh);
    XXH3_freeState(mem.xxh);
    free(slice);
    free(ord);
    return r;
}

static void *run(void *p)
{
    vigil__adigest *d = p;
    uint64_t len = 0;
    d->rc = digest_all(d, &len);
    d->res.file_size = len;
    struct stat now;
    if (!d->rc && (len != (uint64_t)d->st.st_size || fstat(d->fd, &now) || now.st_size != d->st.st_size ||
                   now.st_mtim.tv_sec != d->st.st_mtim.tv_sec || now.st_mtim.tv_nsec != d->st.st_mtim.tv_nsec))
        d->res.file_flags |= VIGIL_FILE_CHANGED;
    pthread_mutex_lock(&d->mu);
    d->finished = 1; /* a member still pending now never comes: its ticket fails */
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

static void destroy(vigil__adigest *d)
{
    close(d->fd);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    for (size_t k = 0; k < d->n; k++) free(d->m[k].buf);
    free(d->m);
    free(d);
}

/* The bound on bytes read ahead; VIGIL_TEST_ADIGEST_HOLD sets another, for the tests (0: never
 * read ahead, every worker preads its member, as before the bytes were handed over). */
static uint64_t hold_max(void)
{
    const char *s = getenv("VIGIL_TEST_ADIGEST_HOLD");
    if (s && *s) {
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (!*end) return v;
    }
    return HOLD_MAX;
}

vigil_result vigil__adigest_start(int fd, const struct stat *st, const vigil__adigest_member *members, size_t n,
                                  vigil__adigest **out, vigil_error *err)
{
    *out = NULL;
    if (n > MEMBERS_MAX) n = MEMBERS_MAX;
    vigil__adigest *d = calloc(1, sizeof *d);
    if (!d || !(d->m = calloc(n ? n : 1, sizeof *d->m))) {
        free(d);
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    }
    d->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0); /* its own: it may read on after the archive is freed */
    if (d->fd < 0) {
        free(d->m);
        free(d);
        return vigil__fail(err, VIGIL_E_IO, "cannot duplicate the archive's descriptor: %s", strerror(errno));
    }
    d->st = *st;
    d->n = n;
    d->refs = 1;
    d->hold_max = hold_max();
    for (size_t k = 0; k < n; k++) {
        d->m[k].header_at = members[k].header_at;
        d->m[k].size = members[k].size;
        d->m[k].crc_cd = members[k].crc32;
    }
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    int e = pthread_create(&d->th, NULL, run, d);
    if (e) {
        destroy(d);
        return vigil__fail(err, VIGIL_E_NOMEM, "cannot start the digest thread: %s", strerror(e));
    }
    d->started = 1;
    *out = d;
    return VIGIL_OK;
}

void vigil__adigest_stop(vigil__adigest *d)
{
    if (!d) return;
    pthread_mutex_lock(&d->mu); /* under the lock: a thread asleep over its bound wakes to it */
    __atomic_store_n(&d->stop, 1, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

static void join(vigil__adigest *d)
{
    if (d->started && !d->joined) {
        pthread_mutex_lock(&d->mu); /* one who waits for the end: the thread no longer sleeps */
        d->waiters++;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->th, NULL);
        d->joined = 1;
    }
}

vigil_result vigil__adigest_join(vigil__adigest *d, vigil_hash_result *out, vigil_error *err)
{
    join(d);
    *out = d->res;
    if (d->rc && err) *err = d->err;
    return d->rc;
}

void vigil__adigest_unref(vigil__adigest *d)
{
    if (!d || __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL)) return;
    vigil__adigest_stop(d);
    join(d);
    destroy(d);
}

vigil_digest_ticket *vigil__adigest_ticket(vigil__adigest *d, size_t k)
{
    if (!d || (k >= d->n && k != VIGIL__ADIGEST_FILE)) return NULL;
    vigil_digest_ticket *t = malloc(sizeof *t);
    if (!t) return NULL;
    __atomic_add_fetch(&d->refs, 1, __ATOMIC_ACQ_REL);
    t->d = d;
    t->k = k;
    return t;
}

vigil_result vigil_digest_ticket_wait(vigil_digest_ticket *t, vigil_hash_result *out)
{
    if (!t || !out) return VIGIL_E_INVALID;
    vigil__adigest *d = t->d;
    if (t->k == VIGIL__ADIGEST_FILE) {
        pthread_mutex_lock(&d->mu);
        wait_settled(d, NULL);
        pthread_mutex_unlock(&d->mu);
        if (d->rc) return VIGIL_E_IO;
        memcpy(out->md5, d->res.md5, sizeof out->md5);
        memcpy(out->sha1, d->res.sha1, sizeof out->sha1);
        memcpy(out->xxh128, d->res.xxh128, sizeof out->xxh128);
        out->have |= VIGIL_HAVE_DIGESTS;
        out->file_size = d->res.file_size;
        out->file_flags |= d->res.file_flags;
        return VIGIL_OK;
    }
    mstate *m = &d->m[t->k];
    pthread_mutex_lock(&d->mu);
    wait_settled(d, m);
    int state = m->state;
    pthread_mutex_unlock(&d->mu);
    if (state != M_DONE) return VIGIL_E_IO;
    memcpy(out->md5, m->md5, sizeof out->md5);
    memcpy(out->sha1, m->sha1, sizeof out->sha1);
    memcpy(out->xxh128, m->xxh, sizeof out->xxh128);
    out->have |= VIGIL_HAVE_DIGESTS;
    return VIGIL_OK;
}

void vigil_digest_ticket_free(vigil_digest_ticket *t)
{
    if (!t) return;
    vigil__adigest *d = t->d;
    if (t->k != VIGIL__ADIGEST_FILE) { /* bytes read ahead for it and not taken: not wanted now */
        pthread_mutex_lock(&d->mu);
        mstate *m = &d->m[t->k];
        if (m->buf) {
            free(m->buf);
            m->buf = NULL;
            d->held -= m->size;
            pthread_cond_broadcast(&d->cv);
        }
        pthread_mutex_unlock(&d->mu);
    }
    vigil__adigest_unref(d);
    free(t);
}

/* ---- a stored member read by its ticket, on the thread that hashes it ---------------------------- */

static const mstate *ticket_member(const vigil_digest_ticket *t, uint64_t *at, vigil_error *err)
{
    if (!t || t->k == VIGIL__ADIGEST_FILE) {
        vigil__fail(err, VIGIL_E_INVALID, "not a member's ticket");
        return NULL;
    }
    const mstate *m = &t->d->m[t->k];
    if (!(*at = member_start(t->d, m))) {
        vigil__fail(err, VIGIL_E_CORRUPT, "zip member damaged: no stored local header where the central directory says "
                    "(at %llu)", (unsigned long long)m->header_at);
        return NULL;
    }
    return m;
}

static int read_at(int fd, uint8_t *buf, size_t n, uint64_t at)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, buf + got, n - got, (off_t)(at + got));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        got += (size_t)k;
    }
    return 0;
}

vigil_result vigil_digest_ticket_read(vigil_digest_ticket *t, uint8_t **data, size_t *size, vigil_error *err)
{
    if (!data || !size) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    *data = NULL;
    *size = 0;
    if (t && t->k != VIGIL__ADIGEST_FILE) { /* the bytes the thread read and checked, when it kept them */
        vigil__adigest *d = t->d;
        mstate *mm = &d->m[t->k];
        pthread_mutex_lock(&d->mu);
        wait_settled(d, mm);
        uint8_t *kept = mm->buf;
        if (kept) {
            mm->buf = NULL;
            d->held -= mm->size;
            pthread_cond_broadcast(&d->cv);
        }
        pthread_mutex_unlock(&d->mu);
        if (kept) {
            *data = kept;
            *size = (size_t)mm->size;
            return VIGIL_OK;
        }
    }
    uint64_t at;
    const mstate *m = ticket_member(t, &at, err);
    if (!m) return err ? err->code : VIGIL_E_CORRUPT;
    uint8_t *buf = malloc((size_t)m->size + 1);
    if (!buf) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory reading a member of %llu bytes", (unsigned long long)m->size);
    if (read_at(t->d->fd, buf, (size_t)m->size, at)) {
        free(buf);
        return vigil__fail(err, VIGIL_E_CORRUPT, "zip member damaged: its %llu bytes could not be read: %s",
                           (unsigned long long)m->size, errno ? strerror(errno) : "the zip ends first");
    }
    uint32_t got = (uint32_t)libdeflate_crc32(0, buf, (size_t)m->size);
    if (got != m->crc_cd) {
        free(buf);
        return vigil__fail(err, VIGIL_E_CORRUPT, "zip member damaged: its CRC-32 is %08x where the central directory says %08x",
                           (unsigned)got, (unsigned)m->crc_cd);
    }
    *data = buf;
    *size = (size_t)m->size;
    return VIGIL_OK;
}

size_t vigil_digest_ticket_peek(vigil_digest_ticket *t, uint8_t *buf, size_t n)
{
    uint64_t at;
    vigil_error err;
    const mstate *m = ticket_member(t, &at, &err);
    if (!m || !buf) return 0;
    if (n > m->size) n = (size_t)m->size;
    return read_at(t->d->fd, buf, n, at) ? 0 : n;
}
