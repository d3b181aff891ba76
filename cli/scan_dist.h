/* scan_dist.h - one scan spread over several processes:
 *   --shard K/N        a deterministic share of the tree (scan_shard.c)
 *   vigil scan merge   shard outputs merged into the outputs of one scan (scan_merge.c)
 *   --mpi              demand-driven batches from one walking rank (scan_dist.c), over MPI
 *                      (scan_mpi.c, built only where Open MPI is found; scan_nompi.c otherwise)
 * See docs/mpi.md. */
#ifndef VIGIL_SCAN_DIST_H
#define VIGIL_SCAN_DIST_H

#include "scan.h"

/* Where the scan loop takes its paths from: 1 an item (path and err malloc'd; err NULL or the
 * walk's reason the path cannot be used; *link: reached through a link), 2 an item that ends the
 * source's batch (the loop hashes what it has), 0 no more, -1 fatal (why set). */
typedef struct scan_source {
    int (*next)(void *ctx, char **path, char **err, int *link, char *why, size_t whylen);
    void *ctx;
} scan_source;

/* ---- scan_shard.c ------------------------------------------------------------------------------ */

typedef struct scan_shard { unsigned k, n; } scan_shard; /* k in 1..n; n == 0: the whole tree */

/* "K/N" with 1 <= K <= N <= 1000000; says what is wrong and returns -1 otherwise. */
int scan_shard_parse(const char *spec, scan_shard *sh);
/* The shard (1..n) a path belongs to: XXH3-64 of the path below the root it was found under (the
 * file name for a root that is a file), so the split is the same on every run and on every
 * machine, wherever the tree is mounted. */
unsigned scan_shard_of(const char *root, const char *path, unsigned n);
/* The order of the walk (cli_walk): roots in the order given, then depth-first with each folder's
 * names in strcmp order. *ra / *rb: the roots' positions, from scan_root_of. */
int scan_root_of(char *const *roots, int nroots, const char *path);
int scan_walk_cmp(int ra, const char *a, int rb, const char *b);
/* The same on the first la / lb bytes of a and b (which hold no NUL there). */
int scan_walk_ncmp(int ra, const char *a, size_t la, int rb, const char *b, size_t lb);

/* The walk as a source, keeping only the paths of one shard when sh->n. */
typedef struct scan_walk_src {
    cli_walk *w;
    scan_shard sh;
    unsigned long long others; /* paths left to the other shards */
} scan_walk_src;
int scan_walk_source(scan_walk_src *ws, scan_source *src, char **paths, int npaths, const scan_shard *sh);
void scan_walk_source_free(scan_walk_src *ws);

/* OUTDIR/shard.done, written once a shard's scan is complete: which shard, the roots, and the
 * journal's record count and size then, so that a merge can tell a complete shard from one that
 * was interrupted or resumed since. */
typedef struct scan_shard_info {
    scan_shard sh;
    unsigned long long records, bytes;
    char **roots;
    int nroots;
} scan_shard_info;
int scan_shard_write_done(const char *dir, const scan_shard *sh, const scan_journal *j, char **roots, int nroots, char *why,
                          size_t whylen);
/* 0 read, 1 absent, -1 unreadable (why set). */
int scan_shard_read_done(const char *dir, scan_shard_info *in, char *why, size_t whylen);
void scan_shard_info_free(scan_shard_info *in);
/* The settings without their " shard=K/N" (malloc'd); *sh gets K/N (n 0 when none). */
char *scan_settings_unsharded(const char *settings, scan_shard *sh);

/* ---- scan_merge.c ------------------------------------------------------------------------------ */

/* Merges the open journals in[0..nin) into outdir/journal.vgj (written beside it, then renamed over any
 * earlier one) in walk order, each path once (a path in two inputs is refused, naming both); of
 * files with the same content the first in walk order is the one decoded, every later one is
 * "duplicate", as in one process. Then writes the reports. o->dir is outdir. */
/* seconds and cpu: all of it on this rank (thread CPU); join_*: rank 0 joining the parts and writing
 * summary.json and report.html, the part that does not shrink with more ranks */
typedef struct scan_merge_stats { unsigned long long records, runs; double seconds, cpu, join_s, join_cpu; } scan_merge_stats;
int scan_merge(const char *outdir, const char *settings, scan_journal *in, int nin, char *const *roots, int nroots,
               scan_report_opts *o, scan_merge_stats *st, char *why, size_t whylen);
/* A growing buffer of bytes (messages between the ranks): dist_put appends, 0 or -1 (out of memory). */
typedef struct dist_buf { char *p; size_t n, cap; } dist_buf;
int dist_put(dist_buf *b, const void *d, size_t n);
/* The same by every rank of an MPI job at once (rank me of size; size 1: alone): each rank sorts
 * some inputs, then merges one range of the walk order into a part, and rank 0 joins the parts and
 * writes the reports. Every rank calls it with the same inputs. */
int scan_merge_ranks(const char *outdir, const char *settings, scan_journal *in, int nin, char *const *roots, int nroots,
                     scan_report_opts *o, int me, int size, scan_merge_stats *st, char *why, size_t whylen);
int cmd_scan_merge(int argc, char **argv);
void help_scan_merge(FILE *f);

/* ---- cmd_scan.c, for scan_dist.c --------------------------------------------------------------- */

typedef struct scan scan;
/* The scan loop over src into s's journal (opened by the caller): 0, or -1 with why. */
int scan_batches(scan *s, const scan_source *src, char *why, size_t whylen);
scan_journal *scan_journal_of(scan *s);
/* A rank's review thumbnails in dir/thumbs.vgt (kept, as its journal, when resumed), budget_mb of
 * them at most (0: none); merged by scan_merge. 0, or -1 with why. Closed (synced) by
 * scan_close_thumbs. */
int scan_open_thumbs(scan *s, const char *dir, int budget_mb, char *why, size_t whylen);
void scan_close_thumbs(scan *s);
int scan_threads(const scan *s);
int scan_quiet(const scan *s);
/* --batch N: the files a rank asks rank 0 for at a time (default 64 per thread). */
int scan_batch_files(const scan *s);
/* 0 when every set is still the version opened, else -1 with why (as at the end of a scan). */
int scan_check_sets(scan *s, char *why, size_t whylen);
void scan_catch_signals(void);
int scan_stopped(void);
/* This run's counters: files scanned, of them identical to an earlier file, failed. */
void scan_run_counts(const scan *s, unsigned long long c[3]);

/* ---- scan_dist.c ------------------------------------------------------------------------------- */

/* The --shard, --mpi and merge paragraphs of `vigil help scan`. */
void help_scan_dist(FILE *f);

typedef struct scan_dist {
    int on, rank, size, mpi, synced;
    int lockfd;
    const char *outdir;
    /* rank 0's figures of the run (VIGIL_MPI_STATS) */
    double stats_cpu, stats_wall, stats_walk_s;
    unsigned long long stats_msgs_in, stats_msgs_out, stats_bytes_in, stats_bytes_out, stats_splits, stats_listed, stats_files[3];
    unsigned long long stats_listed0;
    /* the coordinator's CPU split: rounds that handled or sent messages, polls that found none */
    double stats_busy_cpu, stats_idle_cpu;
    unsigned long long stats_busy_rounds, stats_idle_rounds;
} scan_dist;
/* Whether OUTDIR holds a scan made with --mpi (OUTDIR/ranks/): a --resume of it, with or without
 * --mpi, continues it as such. */
int scan_dist_layout(const char *outdir);
/* Before the sets are opened: MPI started (when mpi), OUTDIR checked and locked by rank 0; each
 * rank's exit status when it fails (every rank fails together). */
int scan_dist_begin(scan_dist *d, const char *outdir, int mpi, int resume);
/* The whole scan of the ranks, then the merge and the reports on rank 0: the exit status. */
int scan_dist_run(scan_dist *d, scan *s, const char *settings, char **paths, int npaths, scan_set *sets, int nsets, int thumbs,
                  double start);
/* At the end of cmd_scan, whatever happened: a rank that failed before scan_dist_run tells the
 * others; MPI ends. Returns the exit status. */
int scan_dist_end(scan_dist *d, int status);

/* ---- scan_mpi.c (MPI) or scan_nompi.c (none): the transport ------------------------------------ */

/* REQ: a rank wants an item; ITEM: a part of the walk (empty: the walk is over); SPLIT: rank 0 asks
 * a rank for part of its walk, SPLITR its answer; PROG: counters for the progress line; DONE: a
 * rank's scan ended; KEYS: the paths done before (--resume). The merge uses tags from 20 on. */
enum { DIST_REQ = 1, DIST_ITEM = 2, DIST_DONE = 3, DIST_SPLIT = 5, DIST_SPLITR = 6, DIST_PROG = 7, DIST_KEYS = 8 };
/* 0 started (*rank, *size), -1 with why (no MPI in this build, or MPI_Init failed). */
int dist_net_init(int *rank, int *size, char *why, size_t whylen);
int dist_net_available(void);
int dist_net_bcast_int(int v);           /* rank 0's v, on every rank */
int dist_net_min_int(int v);             /* the least v of every rank */
/* One message from any rank, without blocking: 1 (buf malloc'd, the caller frees), 0 none. */
int dist_net_poll(int *from, int *tag, char **buf, int *len);
/* A message from a given rank and tag, waiting (sleeping between polls, not spinning). */
int dist_net_recv(int from, int tag, char **buf, int *len);
/* Sends a copy of buf; returns at once (the copy is freed once delivered). */
int dist_net_send(int to, int tag, const void *buf, int len);
void dist_net_finalize(void);

#endif
