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
            "walks the tree and hands out batches to the ranks that ask; every rank opens the indexes,\n"
            "hashes with its threads (-j) and writes OUTDIR/ranks/R/journal.vgj; rank 0 then merges\n"
            "them into OUTDIR/journal.vgj and the reports, the same as one scan's. A job killed\n"
            "part-way (any rank, kill -9: MPI ends the whole job) is finished by --resume with any\n"
            "number of ranks, or without --mpi; a second job on OUTDIR is refused. No progress line.\n"
            "--batch N sets the files a rank asks for at a time (default 64 per thread); smaller\n"
            "batches spread a tree of a few huge files more evenly.\n"
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

/* ---- rank 0: the walk, shared by the coordinator and rank 0's own worker ------------------------ */

typedef struct dist_walk {
    pthread_mutex_t mu;
    int batch, taken;        /* rank 0's own worker: its batches are as big as the others' */
    cli_walk *w;
    scan_journal done;       /* its path table only: every path done before or handed out now */
    unsigned long long listed, skipped;
    double walk_s;           /* time spent listing (the walk and the table) */
} dist_walk;

/* The next path not done yet; the caller holds mu. */
static int walk_take(dist_walk *dw, char **path, char **err, int *link)
{
    double t = cli_now();
    int rc = 0;
    while (!scan_stopped() && cli_walk_next(dw->w, path, err)) {
        int c = journal_claim(&dw->done, *path);
        if (c) { free(*path); free(*err); }
        if (c < 0) { rc = -1; break; }
        if (c > 0) { dw->skipped++; continue; }
        *link = cli_walk_via_link(dw->w);
        dw->listed++;
        rc = 1;
        break;
    }
    dw->walk_s += cli_now() - t;
    return rc;
}

static int local_next(void *ctx, char **path, char **err, int *link, char *why, size_t whylen)
{
    dist_walk *dw = ctx;
    pthread_mutex_lock(&dw->mu);
    int rc = walk_take(dw, path, err, link);
    pthread_mutex_unlock(&dw->mu);
    if (rc < 0) snprintf(why, whylen, "out of memory");
    if (rc > 0 && ++dw->taken == dw->batch) { dw->taken = 0; rc = 2; }
    return rc;
}

/* A batch on the wire: per path u8 link, u32 path length, u32 error length (UINT32_MAX: none),
 * the path, the error. An empty batch: no more. */
typedef struct wbuf { char *p; size_t n, cap; } wbuf;

static int wput(wbuf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 65536;
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

static int fill_batch(dist_walk *dw, wbuf *b, uint32_t want, unsigned long long *files)
{
    b->n = 0;
    pthread_mutex_lock(&dw->mu);
    int rc = 0;
    for (uint32_t i = 0; i < want; i++) {
        char *path, *err;
        int link = 0, r = walk_take(dw, &path, &err, &link);
        if (r < 0) { rc = -1; break; }
        if (!r) break;
        uint8_t l = (uint8_t)link;
        uint32_t pl = (uint32_t)strlen(path), el = err ? (uint32_t)strlen(err) : UINT32_MAX;
        if (wput(b, &l, 1) || wput(b, &pl, 4) || wput(b, &el, 4) || wput(b, path, pl) || (err && wput(b, err, el))) rc = -1;
        free(path);
        free(err);
        if (rc) break;
        ++*files;
    }
    pthread_mutex_unlock(&dw->mu);
    return rc;
}

/* ---- ranks > 0: paths from rank 0 ---------------------------------------------------------------- */

typedef struct net_src {
    char *buf;
    int len, pos, ended;
    uint32_t want;
    unsigned long long requests;
} net_src;

static int net_next(void *ctx, char **path, char **err, int *link, char *why, size_t whylen)
{
    net_src *ns = ctx;
    if (ns->pos >= ns->len) {
        free(ns->buf);
        ns->buf = NULL;
        ns->len = ns->pos = 0;
        if (ns->ended || scan_stopped()) return 0;
        if (dist_net_send(0, DIST_REQ, &ns->want, 4) || dist_net_recv(0, DIST_BATCH, &ns->buf, &ns->len)) {
            snprintf(why, whylen, "lost rank 0 (the coordinator)");
            return -1;
        }
        ns->requests++;
        if (!ns->len) { ns->ended = 1; return 0; }
    }
    uint8_t l;
    uint32_t pl, el;
    if (ns->len - ns->pos < 9) goto bad;
    memcpy(&l, ns->buf + ns->pos, 1);
    memcpy(&pl, ns->buf + ns->pos + 1, 4);
    memcpy(&el, ns->buf + ns->pos + 5, 4);
    ns->pos += 9;
    if (pl > (uint32_t)(ns->len - ns->pos) || (el != UINT32_MAX && el > (uint32_t)(ns->len - ns->pos) - pl)) goto bad;
    *path = strndup(ns->buf + ns->pos, pl);
    ns->pos += (int)pl;
    *err = NULL;
    if (el != UINT32_MAX) {
        *err = strndup(ns->buf + ns->pos, el);
        ns->pos += (int)el;
    }
    *link = l;
    if (!*path || (el != UINT32_MAX && !*err)) { free(*path); free(*err); snprintf(why, whylen, "out of memory"); return -1; }
    return ns->pos >= ns->len ? 2 : 1; /* 2: the batch rank 0 sent ends here */
bad:
    snprintf(why, whylen, "a damaged batch from rank 0");
    return -1;
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
 * go into the done table. */
static int collect_done(scan_dist *d, const char *settings, dist_walk *dw, unsigned long long *before, char *why, size_t whylen)
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
            if (j.pset[k] && journal_claim_key(&dw->done, j.pset[k]) < 0) { snprintf(why, whylen, "out of memory"); rc = -1; }
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

int scan_dist_run(scan_dist *d, scan *s, const char *settings, char **paths, int npaths, scan_set *sets, int nsets, int thumbs,
                  double start)
{
    char why[8400];
    int ok = 1, status = EXIT_USAGE;
    scan_catch_signals();
    dist_walk dw;
    memset(&dw, 0, sizeof dw);
    dw.done.fd = -1;
    dw.batch = scan_batch_files(s);
    pthread_mutex_init(&dw.mu, NULL);
    unsigned long long before = 0;
    if (d->rank == 0) {
        if (collect_done(d, settings, &dw, &before, why, sizeof why)) { cli_warn("%s", why); ok = 0; }
        else if (!(dw.w = cli_walk_new(paths, npaths))) { cli_warn("out of memory"); ok = 0; }
    }
    d->synced = 1;
    if (!sync_ok(d, ok)) goto end;

    /* every rank: its own journal */
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
    if (!sync_ok(d, ok)) {
        if (j->fd >= 0) journal_close(j);
        cli_unlock_outdir(rlock);
        goto end;
    }

    if (d->rank) {
        net_src ns = {.want = (uint32_t)scan_batch_files(s)};
        scan_source src = {net_next, &ns};
        int rc = work(s, &src, why, sizeof why);
        if (rc) cli_warn("rank %d: %s", d->rank, why);
        free(ns.buf);
        scan_close_thumbs(s);
        journal_close(j); /* synced and closed before rank 0 reads it */
        cli_unlock_outdir(rlock);
        unsigned long long c[3];
        scan_run_counts(s, c);
        done_msg m = {rc ? rc : scan_stopped() ? 130 : 0, 0, c[0], c[1], c[2]};
        char *fin = NULL;
        int flen = 0;
        int32_t final = EXIT_USAGE;
        if (!dist_net_send(0, DIST_DONE, &m, sizeof m) && !dist_net_recv(0, DIST_FINAL, &fin, &flen) && flen == 4) memcpy(&final, fin, 4);
        free(fin);
        status = final;
        goto end;
    }

    /* rank 0: its own worker in a thread, the coordinator in this one */
    local_run lr = {.s = s, .src = {local_next, &dw}};
    double cpu0 = thread_cpu(), t0 = cli_now();
    unsigned long long msgs_in = 0, msgs_out = 0, bytes_in = 0, bytes_out = 0, remote_files = 0, files[3] = {0};
    int remaining = d->size - 1, failed_rank = -1, interrupted = 0;
    if (d->size == 1) {
        local_worker(&lr);
    } else {
        pthread_t th;
        int threaded = !pthread_create(&th, NULL, local_worker, &lr);
        if (!threaded) { cli_warn("cannot start rank 0's worker thread"); lr.rc = EXIT_USAGE; atomic_store(&lr.finished, 1); }
        wbuf b = {0};
        double backoff = 50e-6;
        while (remaining > 0) {
            char *msg;
            int from, tag, len;
            if (!dist_net_poll(&from, &tag, &msg, &len)) { nap(&backoff); continue; }
            backoff = 50e-6;
            msgs_in++;
            bytes_in += (unsigned long long)len;
            if (tag == DIST_REQ && len == 4) {
                uint32_t want;
                memcpy(&want, msg, 4);
                if (want > 65536) want = 65536;
                if (fill_batch(&dw, &b, want, &remote_files)) { cli_warn("out of memory"); b.n = 0; }
                dist_net_send(from, DIST_BATCH, b.p, (int)b.n);
                msgs_out++;
                bytes_out += b.n;
            } else if (tag == DIST_DONE && len == (int)sizeof(done_msg)) {
                done_msg m;
                memcpy(&m, msg, sizeof m);
                files[0] += m.files;
                files[1] += m.dedup;
                files[2] += m.failed;
                if (m.status == 130) interrupted = 1;
                else if (m.status) failed_rank = from;
                remaining--;
            }
            free(msg);
        }
        free(b.p);
        if (threaded) pthread_join(th, NULL);
    }
    double cpu = thread_cpu() - cpu0, wall = cli_now() - t0;
    if (lr.rc) { cli_warn("rank 0: %s", lr.why); failed_rank = 0; }
    unsigned long long c[3];
    scan_run_counts(s, c);
    for (int k = 0; k < 3; k++) files[k] += c[k];
    scan_close_thumbs(s);
    journal_close(j);
    cli_unlock_outdir(rlock);
    if (scan_stopped()) interrupted = 1;

    if (failed_rank >= 0) {
        cli_warn("rank %d stopped the scan (above); what every rank recorded is kept in %s/ranks: run the same command with --resume "
                 "(with any number of ranks, or without --mpi) to finish it", failed_rank, d->outdir);
        status = EXIT_USAGE;
    } else if (interrupted) {
        fprintf(stderr, "%s: interrupted after %llu files (%llu before this run); run the same command with --resume to continue\n",
                cli_prog, files[0], before);
        status = 130;
    } else {
        double post0 = cli_now();
        int *rs, nr;
        scan_journal *in = NULL;
        int nin = 0;
        if (rank_dirs(d->outdir, &rs, &nr) || !(in = calloc((size_t)(nr ? nr : 1), sizeof *in))) {
            cli_warn("%s/ranks: cannot read: %s", d->outdir, strerror(errno));
            free(rs);
        } else {
            int bad = 0;
            for (int i = 0; i < nr && !bad; i++) {
                rank_dir(d, rs[i], dir, sizeof dir);
                if (journal_open_read(&in[nin], dir, settings, why, sizeof why)) { cli_warn("%s", why); bad = 1; }
                else nin++;
            }
            free(rs);
            scan_report_opts ro = {d->outdir, sets, nsets, thumbs, scan_threads(s), cli_now() - start, 0, settings, 0, 0, 0};
            scan_merge_stats st = {0};
            if (!bad && scan_merge(d->outdir, settings, in, nin, paths, npaths, &ro, &st, why, sizeof why)) { cli_warn("%s", why); bad = 1; }
            for (int i = 0; i < nin; i++) journal_close(&in[i]);
            free(in);
            if (!bad) {
                if (!scan_quiet(s))
                    fprintf(stderr, "%llu files: %llu matched a reference set, %llu could not be read or decoded (this run: %llu scanned "
                            "by %d rank%s, %llu identical to an earlier file of the same rank, %llu already done)\n",
                            ro.files, ro.matched, ro.failed, files[0], d->size, d->size == 1 ? "" : "s", files[1], dw.skipped);
                if (getenv("VIGIL_MPI_STATS")) {
                    unsigned long long handed = dw.listed;
                    fprintf(stderr, "mpi-stats: ranks %d files %llu remote_files %llu msgs_in %llu msgs_out %llu bytes_in %llu bytes_out %llu "
                            "coord_cpu_s %.6f wall_s %.3f walk_s %.6f walk_files_per_s %.0f merge_s %.3f merge_records %llu runs %llu post_s %.3f\n",
                            d->size, handed, remote_files, msgs_in, msgs_out, bytes_in, bytes_out, cpu, wall, dw.walk_s,
                            dw.walk_s > 0 ? (double)(handed + dw.skipped) / dw.walk_s : 0, st.seconds, st.records, st.runs, cli_now() - post0);
                }
                printf("%s/summary.json\n%s/report.html\n", d->outdir, d->outdir);
                status = ro.failed ? EXIT_SOME_FAILED : 0;
            }
        }
    }
    for (int r = 1; r < d->size; r++) {
        int32_t v = status;
        dist_net_send(r, DIST_FINAL, &v, 4);
    }
end:
    if (dw.w) cli_walk_free(dw.w);
    journal_close(&dw.done);
    pthread_mutex_destroy(&dw.mu);
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
