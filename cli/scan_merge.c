/* scan_merge.c - the journals of several processes (the shards of `--shard`, the ranks of `--mpi`)
 * merged into the journal and reports one process would have written.
 *
 * Every input journal is a series of runs in walk order: a shard walks in order and appends in
 * order; an MPI rank gets its batches in walk order; each --resume starts a new run from the top
 * of the walk. So a first pass finds the runs (where a path sorts before the one before it), and
 * a k-way merge of the runs writes the records in walk order: results.jsonl and vics.json come out
 * line for line as one process with one thread writes them. Of several files with the same content
 * the first in that order is the decoded one and every later one becomes "duplicate", taking the
 * first one's content-determined part (hashes, status, matches), as one process does; each input
 * decoded a content at most once. A path found in two inputs is refused: the inputs overlap.
 * Memory: the output journal's two tables (as a scan: 46-92 bytes a file), one 64 KiB read window
 * per run, and the runs' offsets. */
#include "scan_dist.h"
#include "thumbs.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MERGE_WINDOW (64u << 10)
#define MERGE_MAX_RUNS 256 /* per input; past it (a list on stdin in no order) the rest is one run */

typedef struct run { int in; uint64_t from, to; } run;

typedef struct cursor {
    journal_iter *it;
    uint64_t to;
    jrecord rec;
    int root, in;
} cursor;

typedef struct merger {
    scan_journal *out;
    char *const *roots;
    int nroots;
    cursor *c;
    int *heap, nheap;
    char *buf;
    size_t cap;
} merger;

static int cur_less(const merger *m, int a, int b)
{
    const cursor *x = &m->c[a], *y = &m->c[b];
    int k = scan_walk_cmp(x->root, x->rec.path, y->root, y->rec.path);
    return k < 0 || (k == 0 && a < b);
}

static void heap_down(merger *m, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, s = i;
        if (l < m->nheap && cur_less(m, m->heap[l], m->heap[s])) s = l;
        if (r < m->nheap && cur_less(m, m->heap[r], m->heap[s])) s = r;
        if (s == i) return;
        int t = m->heap[i];
        m->heap[i] = m->heap[s];
        m->heap[s] = t;
        i = s;
    }
}

/* Advances cursor k: 1 a record, 0 its run is done, -1 a read error. */
static int cur_next(merger *m, int k)
{
    cursor *c = &m->c[k];
    uint64_t off;
    int r = journal_iter_next(c->it, &c->rec, &off);
    if (r <= 0) return r;
    if (off >= c->to) return 0;
    c->root = scan_root_of(m->roots, m->nroots, c->rec.path);
    return 1;
}

/* The runs of one journal: where a path sorts before the previous one, a new run starts. */
static int find_runs(scan_journal *j, int in, char *const *roots, int nroots, run **runs, size_t *nruns, size_t *cap)
{
    journal_iter *it = journal_iter_new(j, journal_first_record(j), MERGE_WINDOW);
    if (!it) return -1;
    char *prev = NULL;
    size_t pcap = 0;
    int proot = 0, have = 0, r, mine = 0;
    jrecord rec;
    uint64_t off, from = journal_first_record(j);
    while ((r = journal_iter_next(it, &rec, &off)) > 0) {
        int root = scan_root_of(roots, nroots, rec.path);
        if (have && mine < MERGE_MAX_RUNS - 1 && scan_walk_cmp(root, rec.path, proot, prev) < 0) {
            if (*nruns == *cap) {
                size_t nc = *cap ? *cap * 2 : 16;
                run *p = realloc(*runs, nc * sizeof *p);
                if (!p) { r = -1; break; }
                *runs = p;
                *cap = nc;
            }
            (*runs)[(*nruns)++] = (run){in, from, off};
            from = off;
            mine++;
        }
        size_t n = rec.fix.path_len + 1;
        if (n > pcap) {
            char *p = realloc(prev, n);
            if (!p) { r = -1; break; }
            prev = p;
            pcap = n;
        }
        memcpy(prev, rec.path, n);
        proot = root;
        have = 1;
    }
    journal_iter_free(it);
    free(prev);
    if (r < 0) return -1;
    if (*nruns == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        run *p = realloc(*runs, nc * sizeof *p);
        if (!p) return -1;
        *runs = p;
        *cap = nc;
    }
    (*runs)[(*nruns)++] = (run){in, from, j->end};
    return 0;
}

static const char DUP[] = "\"duplicate\":true,";
#define DUPLEN (sizeof DUP - 1)

/* Appends one record to the output, as the one process would have written it. */
static int emit(merger *m, const jrecord *r, const char *indir, char *why, size_t whylen)
{
    scan_journal *out = m->out;
    int claim = journal_claim(out, r->path);
    if (claim < 0) { snprintf(why, whylen, "out of memory"); return -1; }
    if (claim > 0) {
        snprintf(why, whylen, "%s: %s is in the output of more than one shard or rank (the inputs overlap: two scans of one "
                 "share, or shards of different splits?); nothing was merged", indir, r->path);
        return -1;
    }
    jfix fx = r->fix;
    size_t pl = fx.content_off;
    if ((fx.flags & J_DEDUP) && pl >= DUPLEN && !memcmp(r->json + pl - DUPLEN, DUP, DUPLEN)) pl -= DUPLEN;
    fx.flags &= ~(uint32_t)J_DEDUP;
    jrecord first = {0};
    int dup = 0;
    if (fx.flags & J_DIGESTS) {
        int ins;
        uint64_t *v = journal_content(out, fx.xxh128, &ins);
        if (!v) { snprintf(why, whylen, "out of memory"); return -1; }
        if (!ins) {
            if (journal_read(out, *v, &first)) { snprintf(why, whylen, "%s: cannot read back a record it wrote", out->path); return -1; }
            dup = 1;
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
    if ((fx.flags & J_DIGESTS) && !dup) {
        int ins;
        uint64_t *v = journal_content(out, fx.xxh128, &ins);
        if (v) *v = at;
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

/* The review thumbnails of the inputs (thumbs.vgt beside each input journal) into outdir's, once
 * per matched content and within the --thumbs budget, so the merged page shows what one
 * process's would. A thumbnail that cannot be copied only leaves a text row. */
typedef struct thumb_merge {
    scan_thumbs out, *in;
    int nin;
} thumb_merge;

static int copy_thumb(const jrecord *r, void *ctx)
{
    thumb_merge *t = ctx;
    if (!r->fix.nmatches || !(r->fix.flags & J_DIGESTS) || thumbs_has(&t->out, r->fix.xxh128)) return 0;
    for (int i = 0; i < t->nin; i++) {
        if (t->in[i].fd < 0) continue;
        size_t n;
        uint8_t *img = thumbs_get(&t->in[i], r->fix.xxh128, &n);
        if (!img) continue;
        int k = thumbs_put(&t->out, r->fix.xxh128, img, n);
        free(img);
        if (k < 0) return -1;
        break;
    }
    return 0;
}

static void merge_thumbs(const char *outdir, scan_journal *in, int nin, scan_journal *out, int budget_mb)
{
    if (budget_mb <= 0) return;
    thumb_merge t;
    char why[512];
    memset(&t, 0, sizeof t);
    if (!(t.in = calloc((size_t)nin, sizeof *t.in))) return;
    t.nin = nin;
    for (int i = 0; i < nin; i++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s", in[i].path);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0; else snprintf(dir, sizeof dir, ".");
        if (thumbs_open_read(&t.in[i], dir)) t.in[i].fd = -1;
    }
    if (thumbs_open(&t.out, outdir, 1, (uint64_t)budget_mb << 20, why, sizeof why)) cli_warn("%s", why);
    else {
        if (journal_each(out, copy_thumb, &t)) cli_warn("%s: cannot write: %s; some matched files get no thumbnail", t.out.path, strerror(errno));
        thumbs_sync(&t.out);
        thumbs_close(&t.out);
    }
    for (int i = 0; i < nin; i++)
        if (t.in[i].fd >= 0) thumbs_close(&t.in[i]);
    free(t.in);
}

int scan_merge(const char *outdir, const char *settings, scan_journal *in, int nin, char *const *roots, int nroots,
               scan_report_opts *o, scan_merge_stats *st, char *why, size_t whylen)
{
    double t0 = cli_now();
    char tmpdir[4200], final[4200];
    snprintf(tmpdir, sizeof tmpdir, "%s/merge.tmp", outdir);
    snprintf(final, sizeof final, "%s/journal.vgj", outdir);
    if (mkdir(tmpdir, 0755) && errno != EEXIST) { snprintf(why, whylen, "%s: cannot create: %s", tmpdir, strerror(errno)); return -1; }
    {
        char stale[4300];
        snprintf(stale, sizeof stale, "%s/journal.vgj", tmpdir);
        if (unlink(stale) && errno != ENOENT) { snprintf(why, whylen, "%s: cannot remove: %s", stale, strerror(errno)); return -1; }
    }
    scan_journal out;
    if (journal_open(&out, tmpdir, settings, 0, why, whylen)) return -1;
    merger m = {.out = &out, .roots = roots, .nroots = nroots};
    run *runs = NULL;
    size_t nruns = 0, rcap = 0;
    int rc = -1;
    for (int i = 0; i < nin; i++)
        if (find_runs(&in[i], i, roots, nroots, &runs, &nruns, &rcap)) { snprintf(why, whylen, "%s: cannot read it", in[i].path); goto done; }
    m.c = calloc(nruns ? nruns : 1, sizeof *m.c);
    m.heap = calloc(nruns ? nruns : 1, sizeof *m.heap);
    if (!m.c || !m.heap) { snprintf(why, whylen, "out of memory"); goto done; }
    for (size_t k = 0; k < nruns; k++) {
        cursor *c = &m.c[k];
        c->in = runs[k].in;
        c->to = runs[k].to;
        if (!(c->it = journal_iter_new(&in[c->in], runs[k].from, MERGE_WINDOW))) { snprintf(why, whylen, "out of memory"); goto done; }
        int r = cur_next(&m, (int)k);
        if (r < 0) { snprintf(why, whylen, "%s: cannot read it", in[c->in].path); goto done; }
        if (r) m.heap[m.nheap++] = (int)k;
    }
    for (int i = m.nheap / 2 - 1; i >= 0; i--) heap_down(&m, i);
    while (m.nheap) {
        int k = m.heap[0];
        if (emit(&m, &m.c[k].rec, in[m.c[k].in].path, why, whylen)) goto done;
        int r = cur_next(&m, k);
        if (r < 0) { snprintf(why, whylen, "%s: cannot read it", in[m.c[k].in].path); goto done; }
        if (!r) m.heap[0] = m.heap[--m.nheap];
        if (m.nheap) heap_down(&m, 0);
    }
    if (journal_sync(&out) || rename(out.path, final) || fsync_dir(outdir)) {
        snprintf(why, whylen, "%s: cannot write: %s", final, strerror(errno));
        goto done;
    }
    rmdir(tmpdir);
    snprintf(out.path, sizeof out.path, "%s", final);
    if (st) {
        st->records = out.records;
        st->runs = nruns;
        st->seconds = cli_now() - t0;
    }
    merge_thumbs(outdir, in, nin, &out, o->thumbs_max);
    o->dir = outdir;
    rc = scan_write_reports(&out, o, why, whylen);
done:
    for (size_t k = 0; m.c && k < nruns; k++) journal_iter_free(m.c[k].it);
    free(m.c);
    free(m.heap);
    free(m.buf);
    free(runs);
    journal_close(&out);
    return rc;
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
    scan_report_opts ro = {outdir, sets, nsets, thumbs, threads, 0, 0, base, 0, 0, 0};
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
