/* scan_dist.c - `vigil scan --mpi`: one scan run by the ranks of an MPI job (mpirun, srun).
 *
 * Rank 0 walks the tree and hands out batches of paths to the ranks that ask for one, so a slow
 * node or a huge file holds up only its own rank. Every rank (rank 0 too, in a thread beside the
 * coordinator) opens the indexes itself, hashes with its OpenMP threads and appends to its own
 * journal, OUTDIR/ranks/R/journal.vgj, with the journal's usual crash safety. When every rank is
 * done, rank 0 merges the journals (scan_merge.c) into OUTDIR/journal.vgj and writes the reports,
 * as one process would have. Files of the same content are decoded at most once per rank; the
 * merged report counts them as one process does (the first in walk order decoded, every later one
 * "duplicate").
 *
 * Faults: Open MPI ends the whole job when a rank dies (kill -9 included); what every rank
 * recorded stays in its journal. `--resume` with any number of ranks, or without MPI at all,
 * reads every OUTDIR/ranks/R journal (a torn tail cut), leaves the paths they hold out of the
 * walk, and hands out the rest: every file ends up in exactly one journal, and the merge checks
 * that too. Rank 0 holds OUTDIR/scan.lock for the job (a second job on OUTDIR is refused) and each
 * rank its ranks/R/scan.lock.
 *
 * The coordinator never blocks in MPI: it polls for requests and sleeps between polls (up to
 * 1 ms), so it leaves its node's cores to the hashing. Memory on rank 0: the paths handed out, 8
 * bytes each in an open-addressing table at load <= 0.7 (11-23 bytes a file), beside what the
 * merge needs (scan_merge.c). */
#include "scan_dist.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void help_scan_dist(FILE *f)
{
    fprintf(f,
            "--shard K/N scans the K-th of N shares of the tree (1 <= K <= N): a file belongs to the\n"
            "share given by a hash of its path below the folder named on the command line, so N\n"
            "scans started anywhere (a job array) split one tree the same way, each into its own\n"
            "OUTDIR, which then holds shard.done. `vigil scan merge` joins them (below).\n\n"
            "--mpi runs the scan as one MPI job (mpirun -np N vigil scan --mpi ..., or srun): rank 0\n"
            "hands out parts of the tree (the paths named, then halves of the folders a rank is still\n"
            "walking) to the ranks that ask, so the walk runs on every rank and a huge folder or a slow\n"
            "node is split up as the job goes; every rank opens the indexes, hashes with its threads\n"
            "(-j) and writes OUTDIR/ranks/R/journal.vgj; then the ranks merge them together (each a\n"
            "range of the walk order) into OUTDIR/journal.vgj and the reports, the same as one scan's.\n"
            "A job killed part-way (any rank, kill -9: MPI ends the whole job) is finished by --resume\n"
            "with any number of ranks, or without --mpi; a second job on OUTDIR is refused. On a\n"
            "terminal rank 0 shows the files scanned and listed so far by all ranks, and the rate.\n"
            "--batch N: a rank hashes at most N files (default 64 per thread) before it answers rank 0\n"
            "again; smaller batches spread a tree of a few huge files more evenly.\n"
            "Needs a vigil built with Open MPI (one built without it says so). See docs/mpi.md.\n\n");
    help_scan_merge(f);
}

static int is_dir(const char *p)
{
    struct stat st;
    return !lstat(p, &st) && S_ISDIR(st.st_mode);
}

int scan_dist_layout(const char *outdir)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/ranks", outdir);
    return is_dir(p);
}

/* Rank 0: OUTDIR made, checked and locked, OUTDIR/ranks made. */
static int rank0_prepare(scan_dist *d, int resume, char *why, size_t whylen)
{
    const char *o = d->outdir;
    struct stat st;
    char p[4200];
    if (mkdir(o, 0755) && errno != EEXIST) { snprintf(why, whylen, "%s: cannot create: %s", o, strerror(errno)); return -1; }
    if (!lstat(o, &st) && !S_ISDIR(st.st_mode)) {
        if (S_ISLNK(st.st_mode)) snprintf(why, whylen, "%s: is a symbolic link; give the folder itself as -o", o);
        else snprintf(why, whylen, "%s: is %s, not a folder", o, cli_file_kind(st.st_mode));
        return -1;
    }
    if (cli_lock_outdir(o, &d->lockfd, why, whylen)) return -1;
    snprintf(p, sizeof p, "%s/journal.vgj", o);
    int top = !lstat(p, &st), ranks = scan_dist_layout(o);
    if (!resume && (top || ranks)) {
        snprintf(why, whylen, "%s already holds a scan; add --resume to continue it, or choose another -o", o);
        return -1;
    }
    if (top && !ranks) {
        snprintf(why, whylen, "%s holds a scan made without --mpi: resume it without --mpi, or choose another -o", o);
        return -1;
    }
    snprintf(p, sizeof p, "%s/ranks", o);
    if (mkdir(p, 0755) && errno != EEXIST) { snprintf(why, whylen, "%s: cannot create: %s", p, strerror(errno)); return -1; }
    return 0;
}

int scan_dist_begin(scan_dist *d, const char *outdir, int mpi, int resume)
{
    memset(d, 0, sizeof *d);
    d->on = 1;
    d->outdir = outdir;
    d->mpi = mpi;
    d->lockfd = -1;
    d->size = 1;
    char why[8400];
    if (mpi && dist_net_init(&d->rank, &d->size, why, sizeof why)) {
        cli_warn("%s", why);
        d->on = 0;
        return EXIT_USAGE;
    }
    int ok = 1;
    if (d->rank == 0 && rank0_prepare(d, resume, why, sizeof why)) { cli_warn("%s", why); ok = 0; }
    if (d->size > 1) ok = dist_net_bcast_int(ok);
    if (!ok) {
        cli_unlock_outdir(d->lockfd);
        if (d->mpi) dist_net_finalize();
        d->on = 0;
        return EXIT_USAGE;
    }
    return 0;
}

/* The numbers of OUTDIR/ranks/N that hold a journal, ascending. */
static int rank_dirs(const char *outdir, int **out, int *n)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/ranks", outdir);
    *out = NULL;
    *n = 0;
    DIR *dir = opendir(p);
    if (!dir) return -1;
    struct dirent *e;
    int cap = 0;
    while ((e = readdir(dir))) {
        char *end;
        long r = strtol(e->d_name, &end, 10);
        if (!e->d_name[0] || *end || r < 0 || r > 10000000 || e->d_name[0] == '-' || e->d_name[0] == '+') continue;
        char j[4600];
        snprintf(j, sizeof j, "%s/%s/journal.vgj", p, e->d_name);
        struct stat st;
        if (lstat(j, &st)) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            int *q = realloc(*out, (size_t)cap * sizeof *q);
            if (!q) { closedir(dir); return -1; }
            *out = q;
        }
        (*out)[(*n)++] = (int)r;
    }
    closedir(dir);
    for (int i = 1; i < *n; i++) /* few: insertion sort */
        for (int k = i; k > 0 && (*out)[k - 1] > (*out)[k]; k--) { int t = (*out)[k]; (*out)[k] = (*out)[k - 1]; (*out)[k - 1] = t; }
    return 0;
}

static void rank_dir(const scan_dist *d, int r, char *p, size_t n)
{
    snprintf(p, n, "%s/ranks/%d", d->outdir, r);
}

/* ---- items: parts of the walk, as they travel ----------------------------------------------------- */

/* An item: u32 kind (ITEM_ROOT: a path named on the command line; ITEM_PART: a cli_walk_part),
 * u32 length and the root it is under; a part then has u32 via_link, u32 folders, u64 names, per
 * folder u64 dev, u64 ino, u32 length, the path; per name u32 length, the name. */
enum { ITEM_ROOT = 1, ITEM_PART = 2 };
static int wstr(dist_buf *b, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    return dist_put(b, &n, 4) || dist_put(b, s, n);
}

static int item_root(dist_buf *b, const char *root)
{
    uint32_t k = ITEM_ROOT;
    return dist_put(b, &k, 4) || wstr(b, root);
}

static int item_part(dist_buf *b, const char *root, const cli_walk_part *p)
{
    uint32_t k = ITEM_PART, v[2] = {(uint32_t)p->via_link, (uint32_t)p->nanc};
    uint64_t n = p->n;
    if (dist_put(b, &k, 4) || wstr(b, root) || dist_put(b, v, 8) || dist_put(b, &n, 8)) return -1;
    for (size_t i = 0; i < p->nanc; i++)
        if (dist_put(b, &p->dev[i], 8) || dist_put(b, &p->ino[i], 8) || wstr(b, p->dirs[i])) return -1;
    for (size_t i = 0; i < p->n; i++)
        if (wstr(b, p->names[i])) return -1;
    return 0;
}

typedef struct rd { const char *p; size_t n, at; int bad; } rd;

static void rget(rd *r, void *d, size_t n)
{
    if (r->bad || r->n - r->at < n) { r->bad = 1; memset(d, 0, n); return; }
    memcpy(d, r->p + r->at, n);
    r->at += n;
}

static char *rstr(rd *r)
{
    uint32_t n;
    rget(r, &n, 4);
    if (r->bad || r->n - r->at < n) { r->bad = 1; return NULL; }
    char *s = strndup(r->p + r->at, n);
    r->at += n;
    if (!s || strlen(s) != n) { free(s); r->bad = 1; return NULL; } /* a NUL inside: damaged */
    return s;
}

/* One rank's walk: the item it was handed last. */
typedef struct worker {
    cli_walk *w;
    char *rootv[1];
    unsigned long long listed;
} worker;

static void worker_end(worker *k)
{
    cli_walk_free(k->w);
    k->w = NULL;
    free(k->rootv[0]);
    k->rootv[0] = NULL;
}

/* The walk of an item; 0, or -1 (damaged: nothing set). */
static int worker_start(worker *k, const char *buf, size_t len)
{
    rd r = {buf, len, 0, 0};
    uint32_t kind;
    rget(&r, &kind, 4);
    char *root = rstr(&r);
    if (r.bad || (kind != ITEM_ROOT && kind != ITEM_PART)) { free(root); return -1; }
    if (kind == ITEM_ROOT) {
        k->rootv[0] = root;
        k->w = cli_walk_new(k->rootv, 1);
        return k->w ? 0 : -1;
    }
    cli_walk_part p;
    memset(&p, 0, sizeof p);
    uint32_t v[2];
    uint64_t n;
    rget(&r, v, 8);
    rget(&r, &n, 8);
    if (r.bad || !v[1] || v[1] > 1u << 20 || n > (r.n - r.at) / 4) { free(root); return -1; }
    p.via_link = (int)v[0];
    p.dirs = calloc(v[1], sizeof *p.dirs);
    p.dev = calloc(v[1], sizeof *p.dev);
    p.ino = calloc(v[1], sizeof *p.ino);
    p.names = calloc(n ? n : 1, sizeof *p.names);
    if (!p.dirs || !p.dev || !p.ino || !p.names) r.bad = 1;
    for (uint32_t i = 0; i < v[1] && !r.bad; i++) {
        rget(&r, &p.dev[i], 8);
        rget(&r, &p.ino[i], 8);
        if ((p.dirs[i] = rstr(&r))) p.nanc = i + 1;
    }
    for (uint64_t i = 0; i < n && !r.bad; i++)
        if ((p.names[i] = rstr(&r))) p.n = i + 1;
    if (r.bad || r.at != r.n) { cli_walk_part_free(&p); free(root); return -1; }
    k->w = cli_walk_from(root, &p);
    k->rootv[0] = root;
    return k->w ? 0 : -1;
}

/* The next file of the item: 1, or 0 when the item is done. */
static int worker_next(worker *k, char **path, char **err, int *link)
{
    if (!k->w || !cli_walk_next(k->w, path, err)) return 0;
    *link = cli_walk_via_link(k->w);
    k->listed++;
    return 1;
}

/* Half of what is left of the item (cli_walk_split) as an item into b: 1, 0 nothing to give. */
static int worker_split(worker *k, dist_buf *b)
{
    cli_walk_part p;
    if (!k->w || !cli_walk_split(k->w, &p)) return 0;
    int rc = item_part(b, cli_walk_root(k->w), &p) ? -1 : 1;
    cli_walk_part_free(&p);
    return rc;
}

/* ---- ranks > 0: items from rank 0 ------------------------------------------------------------------- */

/* Counters a rank sends with each message: files scanned this run, files listed. */
typedef struct counts { uint64_t done, listed; } counts;

typedef struct net_src {
    scan *s;
    worker k;
    int ended, batch, taken, progress;
    double last;
    unsigned long long requests, given;
} net_src;

static counts net_counts(net_src *ns)
{
    unsigned long long c[3];
    scan_run_counts(ns->s, c);
    return (counts){c[0], ns->k.listed};
}

/* A rank answers a request for part of its walk: its counters and the part (none: nothing to give). */
static int answer_split(net_src *ns, int give)
{
    dist_buf b = {0};
    counts c = net_counts(ns);
    int rc = dist_put(&b, &c, sizeof c);
    if (!rc && give && worker_split(&ns->k, &b) > 0) ns->given++;
    if (!rc) rc = dist_net_send(0, DIST_SPLITR, b.p, (int)b.n);
    free(b.p);
    return rc;
}

/* Messages rank 0 sent meanwhile: split requests answered, *item set to an item when one came. */
static int net_drain(net_src *ns, int give, char **item, int *ilen, char *why, size_t whylen)
{
    int from, tag, len;
    char *msg;
    while (dist_net_poll(&from, &tag, &msg, &len)) {
        if (tag == DIST_SPLIT) { free(msg); if (answer_split(ns, give)) goto lost; continue; }
        if (tag == DIST_ITEM && item && !*item) { *item = msg; *ilen = len; return 1; }
        if (tag == DIST_ITEM && !len) { ns->ended = 1; worker_end(&ns->k); } /* stop: the job ends (a rank failed, Ctrl-C) */
        free(msg); /* nothing else comes during the walk */
    }
    return 0;
lost:
    snprintf(why, whylen, "lost rank 0 (the coordinator)");
    return -1;
}

static int net_next(void *ctx, char **path, char **err, int *link, char *why, size_t whylen)
{
    net_src *ns = ctx;
    for (;;) {
        if (net_drain(ns, 1, NULL, NULL, why, whylen) < 0) return -1;
        if (worker_next(&ns->k, path, err, link)) {
            double t = cli_now();
            if (ns->progress && t - ns->last >= 0.5) { /* for rank 0's progress line */
                ns->last = t;
                counts c = net_counts(ns);
                dist_net_send(0, DIST_PROG, &c, sizeof c);
            }
            if (++ns->taken >= ns->batch) { ns->taken = 0; return 2; } /* hash these, then answer rank 0 again */
            return 1;
        }
        worker_end(&ns->k);
        if (ns->ended || scan_stopped()) return 0;
        counts c = net_counts(ns);
        if (dist_net_send(0, DIST_REQ, &c, sizeof c)) { snprintf(why, whylen, "lost rank 0 (the coordinator)"); return -1; }
        ns->requests++;
        char *item = NULL;
        int ilen = 0, r;
        long wait = 20000;
        while (!(r = net_drain(ns, 0, &item, &ilen, why, whylen))) { /* sleeping, not spinning */
            struct timespec ts = {0, wait};
            nanosleep(&ts, NULL);
            if (wait < 1000000) wait *= 2;
        }
        if (r < 0) return -1;
        if (!ilen) { free(item); ns->ended = 1; return 0; } /* no more: the walk is done */
        int bad = worker_start(&ns->k, item, (size_t)ilen);
        free(item);
        if (bad) { snprintf(why, whylen, "a damaged item from rank 0"); return -1; }
    }
}

/* ---- rank 0: the coordinator and its own worker ------------------------------------------------------ */

typedef struct qitem { char *p; int n; } qitem;

typedef struct coord {
    pthread_mutex_t qmu, wmu;   /* the queue; rank 0's own walk (split by the coordinator) */
    pthread_cond_t qcv;
    qitem *q;
    size_t qhead, qn, qcap;
    qitem *stdin_q;             /* items of "-" (a list on rank 0's stdin): rank 0's own */
    size_t sn;
    int local_waiting, finished, stop, batch, taken;
    worker k;                   /* rank 0's own walk */
    double walk_s;
} coord;

static int q_push(coord *co, char *p, int n) /* qmu held */
{
    if (co->qhead + co->qn == co->qcap) {
        if (co->qhead) { memmove(co->q, co->q + co->qhead, co->qn * sizeof *co->q); co->qhead = 0; }
        else {
            size_t c = co->qcap ? co->qcap * 2 : 64;
            qitem *q = realloc(co->q, c * sizeof *q);
            if (!q) return -1;
            co->q = q;
            co->qcap = c;
        }
    }
    co->q[co->qhead + co->qn++] = (qitem){p, n};
    return 0;
}

static int q_pop(coord *co, qitem *it) /* qmu held */
{
    if (!co->qn) return 0;
    *it = co->q[co->qhead++];
    co->qn--;
    return 1;
}

static int local_next(void *ctx, char **path, char **err, int *link, char *why, size_t whylen)
{
    coord *co = ctx;
    for (;;) {
        if (co->stop) return 0;
        pthread_mutex_lock(&co->wmu);
        double t = cli_now();
        int got = worker_next(&co->k, path, err, link);
        co->walk_s += cli_now() - t;
        if (!got) worker_end(&co->k);
        pthread_mutex_unlock(&co->wmu);
        if (got && ++co->taken >= co->batch) { co->taken = 0; return 2; }
        if (got) return 1;
        qitem it = {0};
        pthread_mutex_lock(&co->qmu);
        co->local_waiting = 1;
        for (;;) {
            if (co->sn) { it = co->stdin_q[0]; memmove(co->stdin_q, co->stdin_q + 1, --co->sn * sizeof *co->stdin_q); break; }
            if (q_pop(co, &it) || co->finished || scan_stopped()) break;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 50000000;
            if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
            pthread_cond_timedwait(&co->qcv, &co->qmu, &ts);
        }
        if (it.p) co->local_waiting = 0;
        pthread_mutex_unlock(&co->qmu);
        if (!it.p) return 0;
        pthread_mutex_lock(&co->wmu);
        int bad = worker_start(&co->k, it.p, (size_t)it.n);
        pthread_mutex_unlock(&co->wmu);
        free(it.p);
        if (bad) { snprintf(why, whylen, "out of memory"); return -1; }
    }
}

/* ---- the run -------------------------------------------------------------------------------------- */

typedef struct done_msg { int32_t status; uint32_t pad; uint64_t files, dedup, failed; } done_msg;

typedef struct local_run {
    scan *s;
    scan_source src;
    int rc;
    char why[8400];
    atomic_int finished;
} local_run;

/* One rank's work into its open journal: 0, or an exit status. */
static int work(scan *s, const scan_source *src, char *why, size_t whylen)
{
    if (scan_batches(s, src, why, whylen)) return EXIT_USAGE;
    if (!scan_stopped() && scan_check_sets(s, why, whylen)) return EXIT_USAGE;
    return 0;
}

static void *local_worker(void *p)
{
    local_run *lr = p;
    lr->rc = work(lr->s, &lr->src, lr->why, sizeof lr->why);
    atomic_store(&lr->finished, 1);
    return NULL;
}

static void nap(double *backoff)
{
    struct timespec t = {0, (long)(*backoff * 1e9)};
    nanosleep(&t, NULL);
    if (*backoff < 1e-3) *backoff *= 2;
}

static double thread_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* Rank 0 before the run: every rank journal there is read (a torn tail cut), the paths it holds
 * go into done (its path table), for every rank to leave out of its walk. */
static int collect_done(scan_dist *d, const char *settings, scan_journal *done, unsigned long long *before, char *why, size_t whylen)
{
    int *rs, nr;
    if (rank_dirs(d->outdir, &rs, &nr)) { snprintf(why, whylen, "%s/ranks: cannot read: %s", d->outdir, strerror(errno)); return -1; }
    int rc = 0;
    for (int i = 0; i < nr && !rc; i++) {
        char dir[4200], note[8400];
        rank_dir(d, rs[i], dir, sizeof dir);
        int lk;
        if (cli_lock_outdir(dir, &lk, why, whylen)) { rc = -1; break; }
        scan_journal j;
        if (journal_open(&j, dir, settings, 1, why, whylen)) { cli_unlock_outdir(lk); rc = -1; break; }
        if (journal_damage_note(&j, note, sizeof note)) cli_warn("%s", note);
        for (size_t k = 0; k < j.pcap && !rc; k++)
            if (j.pset[k] && journal_claim_key(done, j.pset[k]) < 0) { snprintf(why, whylen, "out of memory"); rc = -1; }
        *before += j.records;
        journal_close(&j);
        cli_unlock_outdir(lk);
    }
    free(rs);
    return rc;
}

static int sync_ok(scan_dist *d, int ok)
{
    return d->size > 1 ? dist_net_min_int(ok) : ok;
}

/* The paths done before, from rank 0's table to every rank's own journal table: sent as one array
 * of keys (8 bytes a file) when resuming. */
static int share_done(scan_dist *d, scan_journal *done, scan_journal *mine, char *why, size_t whylen)
{
    int ok = 1;
    if (d->rank == 0) {
        uint64_t *keys = malloc((done->pn ? done->pn : 1) * sizeof *keys);
        size_t n = 0;
        if (!keys) ok = 0;
        for (size_t k = 0; ok && k < done->pcap; k++)
            if (done->pset[k]) keys[n++] = done->pset[k];
        if (n > (size_t)INT32_MAX / 8) ok = 0; /* one message; 268 M files */
        for (int r = 1; r < d->size; r++) dist_net_send(r, DIST_KEYS, ok ? (void *)keys : (void *)"", ok ? (int)(n * 8) : 0);
        for (size_t k = 0; ok && k < n; k++)
            if (journal_claim_key(mine, keys[k]) < 0) ok = 0;
        free(keys);
    } else {
        char *buf = NULL;
        int len = 0;
        if (dist_net_recv(0, DIST_KEYS, &buf, &len)) ok = 0;
        for (int at = 0; ok && at + 8 <= len; at += 8) {
            uint64_t key;
            memcpy(&key, buf + at, 8);
            if (journal_claim_key(mine, key) < 0) ok = 0;
        }
        free(buf);
    }
    if (!ok) snprintf(why, whylen, "out of memory (the table of the files done before)");
    return ok ? 0 : -1;
}

/* Whether the user sees rank 0's stderr on a terminal. mpirun gives its ranks pipes (and a pty
 * for stdout whatever its own is), so for a rank started by mpirun on this node it is mpirun's
 * own stderr that tells, as /proc shows it. */
static int on_terminal(void)
{
    if (isatty(STDERR_FILENO)) return 1;
    char p[64], t[256];
    snprintf(p, sizeof p, "/proc/%ld/fd/2", (long)getppid());
    ssize_t n = readlink(p, t, sizeof t - 1);
    if (n <= 0) return 0;
    t[n] = 0;
    return !strncmp(t, "/dev/pts/", 9) || !strncmp(t, "/dev/tty", 8);
}

/* rank 0's progress line on a terminal: files scanned and files listed so far by every rank */
static void progress_line(const scan_dist *d, unsigned long long done, unsigned long long listed, double t0, int end)
{
    double dt = cli_now() - t0;
    if (dt < 1e-3) dt = 1e-3;
    fprintf(stderr, "\r\033[Kscan --mpi %llu/%llu files (listed so far)  %.1f files/s  %d rank%s%s", done, listed > done ? listed : done,
            done / dt, d->size, d->size == 1 ? "" : "s", end ? "\n" : "");
    fflush(stderr);
}

/* The walk is over (or stopped): rank 0's worker and every rank still there are told (an empty item). */
static int finish_all(coord *co, const char *gone, int n, unsigned long long *msgs)
{
    pthread_mutex_lock(&co->qmu);
    co->finished = 1;
    pthread_cond_broadcast(&co->qcv);
    pthread_mutex_unlock(&co->qmu);
    for (int r = 1; r < n; r++)
        if (!gone[r]) { dist_net_send(r, DIST_ITEM, "", 0); ++*msgs; }
    return 1;
}

int scan_dist_run(scan_dist *d, scan *s, const char *settings, char **paths, int npaths, scan_set *sets, int nsets, int thumbs,
                  double start)
{
    char why[8400];
    int ok = 1, status = EXIT_USAGE;
    scan_catch_signals();
    coord co;
    memset(&co, 0, sizeof co);
    pthread_mutex_init(&co.qmu, NULL);
    pthread_mutex_init(&co.wmu, NULL);
    pthread_cond_init(&co.qcv, NULL);
    co.batch = scan_batch_files(s);
    scan_journal done;
    memset(&done, 0, sizeof done);
    done.fd = -1;
    unsigned long long before = 0;
    if (d->rank == 0) {
        if (collect_done(d, settings, &done, &before, why, sizeof why)) { cli_warn("%s", why); ok = 0; }
        for (int i = 0; i < npaths && ok; i++) { /* the roots, in order: the first items */
            dist_buf b = {0};
            if (item_root(&b, paths[i])) { ok = 0; break; }
            if (!strcmp(paths[i], "-")) {
                qitem *q = realloc(co.stdin_q, (co.sn + 1) * sizeof *q);
                if (!q) { free(b.p); ok = 0; break; }
                co.stdin_q = q;
                co.stdin_q[co.sn++] = (qitem){b.p, (int)b.n};
            } else if (q_push(&co, b.p, (int)b.n)) { free(b.p); ok = 0; }
        }
        if (!ok && !why[0]) snprintf(why, sizeof why, "out of memory");
    }
    d->synced = 1;
    if (!sync_ok(d, ok)) goto end;
    int resumed_any = d->size > 1 ? dist_net_bcast_int(done.pn > 0) : done.pn > 0;
    /* the progress line only where rank 0 shows it: a batch job's ranks send no counters meanwhile */
    int show = d->rank == 0 && !scan_quiet(s) && on_terminal();
    if (d->size > 1) show = dist_net_bcast_int(show);

    /* every rank: its own journal, and the table of what is done already */
    char dir[4200];
    int rlock = -1;
    scan_journal *j = scan_journal_of(s);
    j->fd = -1;
    rank_dir(d, d->rank, dir, sizeof dir);
    if (mkdir(dir, 0755) && errno != EEXIST) { cli_warn("%s: cannot create: %s", dir, strerror(errno)); ok = 0; }
    else if (cli_lock_outdir(dir, &rlock, why, sizeof why)) { cli_warn("%s", why); ok = 0; }
    else if (journal_open(j, dir, settings, 1, why, sizeof why)) { cli_warn("%s", why); ok = 0; }
    else if (scan_open_thumbs(s, dir, thumbs, why, sizeof why)) { cli_warn("%s", why); journal_close(j); ok = 0; }
    else if (journal_damage_note(j, why, sizeof why)) cli_warn("%s", why);
    if (resumed_any && share_done(d, &done, j, why, sizeof why)) { cli_warn("rank %d: %s", d->rank, why); ok = 0; }
    if (!sync_ok(d, ok)) {
        if (j->fd >= 0) journal_close(j);
        cli_unlock_outdir(rlock);
        goto end;
    }

    if (d->rank) {
        net_src ns = {.s = s, .batch = scan_batch_files(s), .progress = show};
        scan_source src = {net_next, &ns};
        int rc = work(s, &src, why, sizeof why);
        if (rc) cli_warn("rank %d: %s", d->rank, why);
        worker_end(&ns.k);
        scan_close_thumbs(s);
        journal_close(j); /* synced and closed before rank 0 reads it */
        cli_unlock_outdir(rlock);
        unsigned long long c[3];
        scan_run_counts(s, c);
        done_msg m = {rc ? rc : scan_stopped() && !ns.ended ? 130 : 0, 0, c[0], c[1], c[2]};
        dist_net_send(0, DIST_DONE, &m, sizeof m);
    } else {
        /* rank 0: its own worker in a thread, the coordinator in this one */
        local_run lr = {.s = s, .src = {local_next, &co}};
        double cpu0 = thread_cpu(), t0 = cli_now(), shown = 0;
        unsigned long long msgs_in = 0, msgs_out = 0, bytes_in = 0, bytes_out = 0, splits = 0, files[3] = {0};
        int failed_rank = -1, interrupted = 0, remaining = d->size - 1;
        int progress = show;
        int n = d->size;
        char *busy = calloc((size_t)n, 1), *waiting = calloc((size_t)n, 1), *split_out = calloc((size_t)n, 1), *gone = calloc((size_t)n, 1);
        double *quiet_at = calloc((size_t)n, sizeof *quiet_at);
        counts *cnt = calloc((size_t)n, sizeof *cnt);
        pthread_t th;
        int threaded = busy && waiting && split_out && gone && quiet_at && cnt && !pthread_create(&th, NULL, local_worker, &lr);
        if (!threaded) { cli_warn("cannot start rank 0's worker thread"); lr.rc = EXIT_USAGE; failed_rank = 0; }
        double backoff = 50e-6, busy_cpu = 0, idle_cpu = 0;
        unsigned long long busy_rounds = 0, idle_rounds = 0;
        int finished = !threaded;
        if (finished) remaining = 0;
        while (threaded && (remaining > 0 || !finished)) {
            char *msg;
            int from, tag, len, got = 0;
            /* busy: a round that handled or sent a message; idle: a poll that found nothing (the nap
             * after it is sleep, no CPU); both in this thread's CPU */
            double r0 = thread_cpu();
            while (n > 1 && dist_net_poll(&from, &tag, &msg, &len)) {
                got = 1;
                msgs_in++;
                bytes_in += (unsigned long long)len;
                if (from > 0 && from < n && len >= (int)sizeof(counts) && (tag == DIST_REQ || tag == DIST_SPLITR || tag == DIST_PROG))
                    memcpy(&cnt[from], msg, sizeof(counts));
                if (from <= 0 || from >= n) {
                } else if (tag == DIST_REQ) {
                    busy[from] = 0;
                    waiting[from] = 1;
                } else if (tag == DIST_SPLITR) {
                    split_out[from] = 0;
                    if (len > (int)sizeof(counts)) {
                        char *p = malloc((size_t)len - sizeof(counts));
                        if (p) memcpy(p, msg + sizeof(counts), (size_t)len - sizeof(counts));
                        pthread_mutex_lock(&co.qmu);
                        if (!p || q_push(&co, p, len - (int)sizeof(counts))) { free(p); cli_warn("out of memory"); failed_rank = 0; }
                        pthread_cond_signal(&co.qcv);
                        pthread_mutex_unlock(&co.qmu);
                        splits++;
                    } else quiet_at[from] = cli_now();
                } else if (tag == DIST_DONE && len == (int)sizeof(done_msg)) {
                    done_msg m;
                    memcpy(&m, msg, sizeof m);
                    files[0] += m.files;
                    files[1] += m.dedup;
                    files[2] += m.failed;
                    cnt[from].done = m.files;
                    if (m.status == 130) interrupted = 1;
                    else if (m.status) failed_rank = from;
                    gone[from] = 1;
                    busy[from] = waiting[from] = split_out[from] = 0;
                    remaining--;
                }
                free(msg);
            }
            if (atomic_load(&lr.finished) && lr.rc) failed_rank = 0; /* rank 0's own worker failed */
            if (atomic_load(&lr.finished) && !finished) { /* it stopped (a signal): so does the walk */
                pthread_mutex_lock(&co.qmu);
                co.local_waiting = 1;
                pthread_mutex_unlock(&co.qmu);
            }
            if (!finished && (failed_rank >= 0 || interrupted || scan_stopped())) { /* stop: every rank ends now */
                co.stop = 1;
                finished = finish_all(&co, gone, n, &msgs_out);
            }
            /* items to the ranks that wait for one */
            for (int r = 1; r < n && !finished; r++) {
                if (!waiting[r]) continue;
                qitem it;
                pthread_mutex_lock(&co.qmu);
                int have = q_pop(&co, &it);
                pthread_mutex_unlock(&co.qmu);
                if (!have) break;
                dist_net_send(r, DIST_ITEM, it.p, it.n);
                msgs_out++;
                bytes_out += (unsigned long long)it.n;
                free(it.p);
                waiting[r] = 0;
                busy[r] = 1;
                got = 1;
            }
            /* too few items left: ask the busy ranks for part of their walk (each once at a time; one that
             * had nothing to give is asked again 5 ms later), rank 0's own walk too */
            pthread_mutex_lock(&co.qmu);
            size_t queued = co.qn;
            int local_waiting = co.local_waiting;
            pthread_mutex_unlock(&co.qmu);
            double now = cli_now();
            if (n > 1 && !finished) {
                size_t asked = 0;
                for (int r = 1; r < n; r++) asked += (size_t)split_out[r];
                for (int r = 1; r < n && queued + asked < (size_t)n; r++)
                    if (busy[r] && !split_out[r] && now - quiet_at[r] > 0.005) {
                        dist_net_send(r, DIST_SPLIT, "", 0);
                        msgs_out++;
                        split_out[r] = 1;
                        asked++;
                        got = 1;
                    }
                if (queued + asked < (size_t)n && !local_waiting && now - quiet_at[0] > 0.005 && !pthread_mutex_trylock(&co.wmu)) {
                    dist_buf b = {0};
                    int k = worker_split(&co.k, &b);
                    pthread_mutex_unlock(&co.wmu);
                    if (k > 0) {
                        pthread_mutex_lock(&co.qmu);
                        if (q_push(&co, b.p, (int)b.n)) { free(b.p); failed_rank = 0; }
                        pthread_cond_signal(&co.qcv);
                        pthread_mutex_unlock(&co.qmu);
                        splits++;
                    } else {
                        free(b.p);
                        quiet_at[0] = now;
                    }
                }
            }
            /* the end of the walk: nothing queued or asked for, every rank waiting (or gone) */
            if (!finished) {
                int all = 1;
                for (int r = 1; r < n && all; r++) all = (waiting[r] || gone[r]) && !split_out[r];
                pthread_mutex_lock(&co.qmu);
                all = all && !co.qn && !co.sn && co.local_waiting;
                pthread_mutex_unlock(&co.qmu);
                if (all) finished = finish_all(&co, gone, n, &msgs_out);
            }
            if (progress && now - shown >= 0.25) {
                unsigned long long c[3], dn = 0, ls = co.k.listed;
                scan_run_counts(s, c);
                dn = c[0];
                for (int r = 1; r < n; r++) { dn += cnt[r].done; ls += cnt[r].listed; }
                progress_line(d, dn, ls, t0, 0);
                shown = now;
            }
            double r1 = thread_cpu() - r0;
            if (got) busy_cpu += r1, busy_rounds++; else idle_cpu += r1, idle_rounds++;
            if (!got) nap(&backoff); else backoff = 50e-6;
        }
        if (threaded) pthread_join(th, NULL);
        double cpu = thread_cpu() - cpu0, wall = cli_now() - t0;
        if (lr.rc) { cli_warn("rank 0: %s", lr.why); failed_rank = 0; }
        unsigned long long c[3], listed = co.k.listed;
        scan_run_counts(s, c);
        for (int k = 0; k < 3; k++) files[k] += c[k];
        for (int r = 1; r < n && cnt; r++) listed += cnt[r].listed;
        if (progress) progress_line(d, files[0], listed, t0, 1);
        free(busy);
        free(waiting);
        free(split_out);
        free(gone);
        free(quiet_at);
        free(cnt);
        scan_close_thumbs(s);
        journal_close(j);
        cli_unlock_outdir(rlock);
        if (scan_stopped()) interrupted = 1;
        d->stats_cpu = cpu;
        d->stats_wall = wall;
        d->stats_msgs_in = msgs_in;
        d->stats_msgs_out = msgs_out;
        d->stats_bytes_in = bytes_in;
        d->stats_bytes_out = bytes_out;
        d->stats_splits = splits;
        d->stats_listed = listed;
        d->stats_walk_s = co.walk_s;
        d->stats_busy_cpu = busy_cpu;
        d->stats_idle_cpu = idle_cpu;
        d->stats_busy_rounds = busy_rounds;
        d->stats_idle_rounds = idle_rounds;
        d->stats_listed0 = co.k.listed;
        if (failed_rank >= 0) {
            cli_warn("rank %d stopped the scan (above); what every rank recorded is kept in %s/ranks: run the same command with --resume "
                     "(with any number of ranks, or without --mpi) to finish it", failed_rank, d->outdir);
            status = EXIT_USAGE;
        } else if (interrupted) {
            fprintf(stderr, "%s: interrupted after %llu files (%llu before this run); run the same command with --resume to continue\n",
                    cli_prog, files[0], before);
            status = 130;
        } else status = 0;
        d->stats_files[0] = files[0];
        d->stats_files[1] = files[1];
        d->stats_files[2] = files[2];
    }

    /* every rank: the merge, when the scan is complete */
    int go = d->rank == 0 ? status == 0 : 0;
    if (d->size > 1) go = dist_net_bcast_int(go);
    if (go) {
        double post0 = cli_now();
        int *rs = NULL, nr = 0, nin = 0, bad = 0;
        scan_journal *in = NULL;
        if (rank_dirs(d->outdir, &rs, &nr) || !(in = calloc((size_t)(nr ? nr : 1), sizeof *in))) {
            cli_warn("%s/ranks: cannot read: %s", d->outdir, strerror(errno));
            bad = 1;
        }
        for (int i = 0; i < nr && !bad; i++) {
            rank_dir(d, rs[i], dir, sizeof dir);
            if (journal_open_read(&in[nin], dir, settings, why, sizeof why)) { cli_warn("%s", why); bad = 1; }
            else nin++;
        }
        free(rs);
        bad = !sync_ok(d, !bad);
        scan_report_opts ro = {d->outdir, sets, nsets, thumbs, scan_threads(s), cli_now() - start, 0, settings, 0, 0, 0, 0, 0, NULL};
        scan_merge_stats st = {0};
        if (!bad && scan_merge_ranks(d->outdir, settings, in, nin, paths, npaths, &ro, d->rank, d->size, &st, why, sizeof why)) {
            cli_warn("%s%s", d->rank ? "" : "", why);
            bad = 1;
        }
        for (int i = 0; i < nin; i++) journal_close(&in[i]);
        free(in);
        if (d->rank == 0) {
            if (bad) status = EXIT_USAGE;
            else {
                if (!scan_quiet(s))
                    fprintf(stderr, "%llu files: %llu matched a reference set, %llu could not be read or decoded (this run: %llu scanned "
                            "by %d rank%s, %llu identical to an earlier file of the same rank)\n",
                            ro.files, ro.matched, ro.failed, d->stats_files[0], d->size, d->size == 1 ? "" : "s", d->stats_files[1]);
                if (getenv("VIGIL_MPI_STATS"))
                    fprintf(stderr, "mpi-stats: ranks %d files %llu listed %llu msgs_in %llu msgs_out %llu bytes_in %llu bytes_out %llu "
                            "splits %llu coord_cpu_s %.6f wall_s %.3f rank0_walk_s %.6f merge_s %.3f merge_records %llu inputs %llu "
                            "merge_cpu_s %.3f join_s %.3f join_cpu_s %.3f rank0_listed %llu post_s %.3f coord_busy_cpu_s %.6f "
                            "coord_busy_rounds %llu coord_idle_cpu_s %.6f coord_idle_rounds %llu\n",
                            d->size, ro.files, d->stats_listed, d->stats_msgs_in, d->stats_msgs_out, d->stats_bytes_in, d->stats_bytes_out,
                            d->stats_splits, d->stats_cpu, d->stats_wall, d->stats_walk_s, st.seconds, st.records, st.runs, st.cpu,
                            st.join_s, st.join_cpu, d->stats_listed0, cli_now() - post0, d->stats_busy_cpu, d->stats_busy_rounds,
                            d->stats_idle_cpu, d->stats_idle_rounds);
                printf("%s/summary.json\n%s/report.html\n", d->outdir, d->outdir);
                status = ro.failed ? EXIT_SOME_FAILED : 0;
            }
        }
    }
    if (d->size > 1) status = dist_net_bcast_int(status);
end:
    worker_end(&co.k);
    for (size_t i = 0; i < co.qn; i++) free(co.q[co.qhead + i].p);
    for (size_t i = 0; i < co.sn; i++) free(co.stdin_q[i].p);
    free(co.q);
    free(co.stdin_q);
    journal_close(&done);
    pthread_mutex_destroy(&co.qmu);
    pthread_mutex_destroy(&co.wmu);
    pthread_cond_destroy(&co.qcv);
    return status;
}

int scan_dist_end(scan_dist *d, int status)
{
    if (!d->synced && d->size > 1) dist_net_min_int(0); /* this rank failed before the run: all stop */
    cli_unlock_outdir(d->lockfd);
    d->lockfd = -1;
    if (d->mpi) dist_net_finalize();
    d->on = 0;
    return status;
}
