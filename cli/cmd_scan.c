/* cmd_scan.c - `vigil scan`: walk seized media, hash every file once, match it against every
 * reference set, and keep a crash-safe journal so that an interrupted scan resumes where it
 * stopped. The reports are written from the journal at the end (report.c).
 *
 * Per batch of 64 files per thread: the walk (streaming) hands out paths not already in the
 * journal; the threads read, digest and decode them; a file whose content (XXH3-128) was seen
 * before is not decoded again but takes the earlier result; the batch is matched against every
 * index in one search call per index; then each file's record is appended to the journal in walk
 * order. */
#include "scan.h"
#include "archives.h"
#include "scan_video.h"
#include "scan_kfeat.h"
#include "review.h"
#include "thumbs.h"
#include "scan_dist.h"

#include <errno.h>
#include <getopt.h>
#include <omp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void help_scan(FILE *f)
{
    fprintf(f,
            "Usage: vigil scan --index FILE.vgi [--index FILE2.vgi ...] -o OUTDIR [--resume]\n"
            "                  [--radius N | --radius SET=N ...] [--min-quality Q] [--top K]\n"
            "                  [--no-dihedral] [--exact] [--thumbs MB] [-j N] [--quiet] [--follow-links]\n"
            "                  [--rooms ROOMS.vgr [--min-inliers N]] [--archive-depth N]\n"
            "                  [--archive-ratio N] [--archive-max-total SIZE]\n"
            "                  [--shard K/N | --mpi [--batch N]] [--feature-inliers N] PATH...\n"
            "       vigil scan merge -o OUT [--thumbs MB] [-j N] [--quiet] OUT1 OUT2...\n\n"
            "Scans files and folders (recursively; types sniffed by content, not by name) against\n"
            "reference sets: a PDQ match is distance <= radius (default 31; per set with\n"
            "SET=N), rotated and flipped copies included unless --no-dihedral; references known\n"
            "only by MD5 or SHA-1 match files with that digest. Hashes of quality below Q\n"
            "(default 50) are not PDQ-matched. --top K keeps, per file and set, the K nearest\n"
            "PDQ matches and K MD5/SHA-1 matches (default 10); --top 0 keeps them all, up to\n"
            "10,000 per file and set (the nearest; fewer when the references carry very long\n"
            "labels): a file with more is marked \"truncated\" in results.jsonl, its total in\n"
            "\"matches_total\". At most 64 --index. Identical files are decoded once.\n"
            CLI_HELP_LINKS
            "A link that was followed is marked \"link\": true in results.jsonl.\n\n"
            CLI_HELP_ARCHIVES
            "An encrypted member is listed (\"encrypted\": true, its size, and the CRC-32 a zip stores)\n"
            "and not counted as a failure; a damaged archive keeps the members read before the damage\n"
            "and its own line gives the error. --resume goes on member by member.\n"
            CLI_HELP_ARCHIVE_OPTS "\n"
            "--rooms adds a room index (`vigil rooms build`): every decodable image is also\n"
            "matched by local features, to say which known room (hotel) it was taken in; a room\n"
            "match needs N inliers (default 10); --top applies, up to the 30 best-voted rooms.\n"
            "It costs a second decode per image.\n\n"
            "Videos (found by content) are hashed at 1 s (vPDQ, docs/video.md) and are one record\n"
            "each (\"media\":\"video\", duration, frames): every frame is matched against image\n"
            "references (kind \"pdq\", with the \"timestamp\" of the first matching frame and up to 16\n"
            "\"timestamps\") and against video sets (kind \"video\", query_match_pct and\n"
            "target_match_pct, reported when either is 80 or more); report.html shows the frame.\n\n"
            "An --index built with --features (`vigil index build --features`) is also matched by\n"
            "local features: a cropped, framed, padded, slightly turned, captioned or mirrored copy\n"
            "of a reference is a match of kind \"features\" with inliers (see below), box (where\n"
            "the reference lies in the file, 0..1), crop (the part of the reference shown, its\n"
            "pixels), scale, rotation (degrees) and mirrored; --top applies, up to 30 per set.\n"
            "The features come from the same read as the hash (docs/kfeat.md).\n"
            KFEAT_HELP_INLIERS "\n"
            "OUTDIR receives:\n"
            "  journal.vgj    crash-safe progress; --resume continues after Ctrl-C, kill or power loss,\n"
            "                 with the same options and the same content of every index\n"
            "  scan.lock      held while a scan runs: a second scan or --resume on OUTDIR is refused\n"
            "  results.jsonl  one line per file: path, size, digests, PDQ, status or error, matches\n"
            "  summary.json   counts\n"
            "  vics.json      Project VIC VICS 2.0 export of the scanned media (PDQ as an alternative hash)\n"
            "  report.html    the review page (triage desk): every match in a grid or a list, filters,\n"
            "                 decisions and Project VIC categories by mouse or keyboard, exported for\n"
            "                 `vigil review apply`; thumbnails greyscale and blurred until revealed one at\n"
            "                 a time; self-contained, no network\n"
            "  thumbs.vgt     the matched files' thumbnails, taken from the decode hashing did\n"
            "  scan-id        the id that ties decisions to this scan\n\n"
            "--thumbs MB: the thumbnails' budget (default 200 MB of JPEG, about 5 KB each, so some\n"
            "40,000 files; the page is usable with its first page's pictures in under a second, the\n"
            "rest appear as the browser reads them, about 4 s at 200 MB); matched files past it are\n"
            "text rows in report.html; 0: no thumbnails.\n\n"
            "An index written in place while the scan runs (cp onto it) stops the scan before it records\n"
            "more; one replaced by rename (`vigil index add`) is not seen: the scan keeps the version it\n"
            "opened.\n\n");
    help_scan_dist(f);
    fprintf(f,
            "Exit status: 0 done, 1 done but some files could not be read or decoded (listed in\n"
            "results.jsonl), 2 usage error or unusable index or output, 130 interrupted (resumable).\n");
}

#define PENDING (1ull << 63)

typedef struct scan scan;

typedef struct item {
    char *path, *walk_err;
    vigil_hash_options opt;
    vigil_hash_result r;
    vigil_result rc;
    vigil_error err;
    int link;            /* reached through a symbolic link inside the tree (--follow-links or not) */
    int dup_slot;        /* same content earlier in this batch, or -1 */
    uint64_t dup_off;    /* same content in the journal, or UINT64_MAX */
    int owner;           /* first of its content: its table slot waits for its record offset */
    jmatch *m;
    size_t nm, mcap;
    uint64_t total;      /* matches found; more than nm kept: the record says it is truncated */
    jmatch *room;        /* room matches found while decoding in parallel */
    int nroom;
    scan_fhit *fh;       /* feature matches found while decoding (scan_kfeat.c) */
    int nfh;
    char *dup_json;      /* dup_off: the earlier record's content JSON */
    cli_input in;        /* an archive member's bytes, or an archive's own record (archives.c) */
    vigil_thumb thumb;   /* from the hash's decode (--thumbs); kept only for a matched file */
    uint8_t *timg;       /* its JPEG, for thumbs.vgt */
    size_t timg_n;
    scan *s;
    int slot;
    scan_video *video;   /* a video's frames and matches (cli/scan_video.c) */
    int video_borrowed;  /* video belongs to the batch's first file of this content */
} item;

struct scan {
    scan_set *sets;
    int nsets;
    int rooms_set;       /* position of the room index in sets, or -1 */
    int features;        /* some --index holds features: they are extracted with the hash */
    int dihedral, min_quality, top_k, threads;
    uint32_t flags;
    scan_journal j;
    /* counters of this run */
    unsigned long long files, bytes, failed, skipped_done, matched_files, matches, dedup;
    atomic_ullong found;
    atomic_int counting_done;
    int quiet, progress;
    double start, last_sync, last_progress;
    unsigned long batches;
    int *replaced;       /* per set: its path was renamed over during the run (said at the end) */
    vigil_archive_options ao;
    int archives_off;
    scan_thumbs th;      /* thumbs.vgt: the matched files' review thumbnails */
    scan_shard shard;    /* --shard K/N; n 0: the whole tree */
    int dist_batch;      /* --batch: files per request under --mpi; 0: 64 per thread */
};

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

/* ---- progress: a background walk counts the files, for the ETA ---------------------------------- */

typedef struct counter { scan *s; char **paths; int n; } counter;

static void *count_files(void *p)
{
    counter *c = p;
    cli_walk *w = cli_walk_new(c->paths, c->n);
    char *path, *err;
    while (w && !stop_requested && cli_walk_next(w, &path, &err)) {
        free(path);
        free(err);
        atomic_fetch_add(&c->s->found, 1);
    }
    cli_walk_free(w);
    atomic_store(&c->s->counting_done, 1);
    return NULL;
}

static void show_progress(scan *s, int force)
{
    if (!s->progress) return;
    double t = cli_now();
    if (!force && t - s->last_progress < 0.25) return;
    s->last_progress = t;
    double dt = t - s->start > 1e-3 ? t - s->start : 1e-3;
    unsigned long long done = s->files + s->skipped_done, found = atomic_load(&s->found);
    char eta[32] = "counting";
    if (atomic_load(&s->counting_done)) {
        double rate = s->files / dt, left = found > done ? (double)(found - done) : 0;
        if (rate > 0) {
            unsigned long long sec = (unsigned long long)(left / rate);
            snprintf(eta, sizeof eta, "ETA %llu:%02llu:%02llu", sec / 3600, sec / 60 % 60, sec % 60);
        } else snprintf(eta, sizeof eta, "ETA ?");
    }
    fprintf(stderr, "\r\033[Kscan %llu/%llu files  %.1f files/s  %.1f MB/s  %llu matched  %llu failed  %s", done,
            found > done ? found : done, s->files / dt, s->bytes / dt / 1e6, s->matched_files, s->failed, eta);
    fflush(stderr);
}

/* ---- one batch --------------------------------------------------------------------------------- */

static int before_decode(const vigil_hash_result *d, void *p)
{
    item *it = p;
    int decode = 1;
#pragma omp critical(vigil_scan_content)
    {
        int ins;
        uint64_t *v = journal_content(&it->s->j, d->xxh128, &ins);
        if (!v) decode = 1; /* out of memory: just decode */
        else if (ins) { *v = PENDING | (uint64_t)it->slot; it->owner = 1; }
        else {
            decode = 0;
            if (*v & PENDING) it->dup_slot = (int)(*v & ~PENDING);
            else it->dup_off = *v;
        }
    }
    return decode;
}

static int push_match(item *it, jmatch m)
{
    if (it->nm == it->mcap) {
        size_t cap = it->mcap ? it->mcap * 2 : 4;
        jmatch *p = realloc(it->m, cap * sizeof *p);
        if (!p) return -1;
        it->m = p;
        it->mcap = cap;
    }
    it->m[it->nm++] = m;
    return 0;
}

static int cmp_match(const void *a, const void *b)
{
    const jmatch *x = a, *y = b;
    if (x->set != y->set) return x->set < y->set ? -1 : 1;
    int xi = x->kind == MATCH_ROOM || x->kind == MATCH_FEATURES, yi = y->kind == MATCH_ROOM || y->kind == MATCH_FEATURES;
    if (xi != yi) return xi - yi; /* distances before inlier counts */
    if (x->distance != y->distance) /* nearest first; for rooms and features, most inliers first */
        return (x->distance < y->distance) == !xi ? -1 : 1;
    if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
    return x->entry < y->entry ? -1 : x->entry > y->entry;
}

static int pdq_usable(const scan *s, const item *it)
{
    return !it->walk_err && it->rc == VIGIL_OK && (it->r.have & VIGIL_HAVE_PDQ) && it->r.quality >= s->min_quality;
}

/* Matches the batch's own hashes (not those copied from the journal) against every set. */
static int match_batch(scan *s, item *it, int n, char *why, size_t whylen)
{
    int variants = s->dihedral ? 8 : 1;
    vigil_pdq *q = malloc((size_t)(n ? n : 1) * variants * sizeof *q);
    uint32_t *who = malloc((size_t)(n ? n : 1) * sizeof *who);
    if (!q || !who) { free(q); free(who); snprintf(why, whylen, "out of memory"); return -1; }
    size_t nq = 0;
    for (int i = 0; i < n; i++) {
        if (it[i].dup_slot >= 0 || it[i].dup_off != UINT64_MAX || !pdq_usable(s, &it[i])) continue;
        if (variants == 8) memcpy(q + nq * 8, it[i].r.dihedral, 8 * sizeof *q);
        else q[nq] = it[i].r.pdq;
        who[nq++] = (uint32_t)i;
    }
    uint64_t *hit = NULL;
    size_t hcap = 0;
    for (int k = 0; k < s->nsets; k++) {
        if (s->sets[k].rooms) { /* found in run_batch */
            for (int i = 0; i < n; i++) {
                it[i].total += (uint64_t)it[i].nroom;
                for (int r = 0; r < it[i].nroom; r++)
                    if (push_match(&it[i], it[i].room[r])) goto oom;
            }
            continue;
        }
        size_t first = 0; /* per query: the PDQ matches kept so far for this set */
        if (nq) {
            vigil_index_search_options so;
            vigil_index_search_options_init(&so);
            so.radius = s->sets[k].radius;
            so.top_k = s->top_k;
            so.threads = s->threads;
            vigil_index_match *res = NULL;
            size_t nres = 0;
            vigil_error err;
            if (vigil_index_search(s->sets[k].idx, q, nq, variants, &so, &res, &nres, &err)) {
                snprintf(why, whylen, "%s: %s", s->sets[k].path, err.message);
                free(q); free(who);
                return -1;
            }
            /* sorted by query, then distance: each query's nearest JMAX_SET_MATCHES are kept,
             * the rest only counted (--top 0 against a huge set must not outgrow a record) */
            for (size_t r = 0; r < nres; r++) {
                if (r == 0 || res[r].query != res[r - 1].query) first = 0;
                item *x = &it[who[res[r].query]];
                x->total++;
                if (first++ >= JMAX_SET_MATCHES) continue;
                jmatch m = {res[r].entry, k, (uint16_t)res[r].distance, (uint8_t)res[r].transform, MATCH_PDQ};
                if (push_match(x, m)) { free(res); goto oom; }
            }
            free(res);
        }
        /* local features, found in run_batch */
        for (int i = 0; i < n; i++)
            for (int h = 0; h < it[i].nfh; h++) {
                if (it[i].fh[h].set != k) continue;
                it[i].total++;
                if (push_match(&it[i], scan_kfeat_jmatch(&it[i].fh[h]))) goto oom;
            }
        /* exact digests: references known only by MD5 / SHA-1; --top counts them like PDQ matches */
        for (int i = 0; i < n; i++) {
            if (it[i].dup_slot >= 0 || it[i].dup_off != UINT64_MAX || !(it[i].r.have & VIGIL_HAVE_DIGESTS)) continue;
            size_t nh = vigil_index_find_digest(s->sets[k].idx, it[i].r.md5, it[i].r.sha1, hit, hcap);
            if (s->top_k > 0 && nh > (size_t)s->top_k) nh = (size_t)s->top_k;
            it[i].total += nh;
            if (nh > JMAX_SET_MATCHES) nh = JMAX_SET_MATCHES;
            if (nh > hcap) {
                uint64_t *p = realloc(hit, nh * sizeof *p);
                if (!p) goto oom;
                hit = p;
                hcap = nh;
                vigil_index_find_digest(s->sets[k].idx, it[i].r.md5, it[i].r.sha1, hit, hcap);
            }
            for (size_t h = 0; h < nh; h++) {
                int have = 0;
                uint8_t md5[16];
                vigil_index_digest_entry(s->sets[k].idx, hit[h], md5, NULL, &have, NULL, NULL);
                int kind = (have & VIGIL_DIGEST_MD5) && !memcmp(md5, it[i].r.md5, 16) ? MATCH_MD5 : MATCH_SHA1;
                jmatch m = {hit[h], k, 0, 0, (uint8_t)kind};
                if (push_match(&it[i], m)) goto oom;
            }
        }
    }
    free(hit);
    free(q);
    free(who);
    for (int i = 0; i < n; i++)
        if (it[i].video && it[i].dup_slot < 0 && it[i].dup_off == UINT64_MAX &&
            scan_video_match(it[i].video, s->sets, s->nsets, s->min_quality, s->dihedral, s->threads, &it[i].m, &it[i].nm,
                             &it[i].mcap, &it[i].total, why, whylen))
            return -1;
    for (int i = 0; i < n; i++) {
        if (it[i].nm > 1) qsort(it[i].m, it[i].nm, sizeof *it[i].m, cmp_match);
        /* the nearest JMAX_SET_MATCHES of each set, PDQ and digest matches together */
        size_t w = 0, run = 0;
        for (size_t r = 0; r < it[i].nm; r++) {
            run = r && it[i].m[r].set == it[i].m[r - 1].set ? run + 1 : 0;
            if (run < JMAX_SET_MATCHES) it[i].m[w++] = it[i].m[r];
        }
        it[i].nm = w;
    }
    /* same content as an earlier file of this batch: same result, same matches */
    for (int i = 0; i < n; i++) {
        if (it[i].dup_slot < 0) continue;
        const item *o = &it[it[i].dup_slot];
        it[i].total = o->total;
        it[i].fh = scan_kfeat_dup(o->fh, o->nfh);
        it[i].nfh = it[i].fh ? o->nfh : 0;
        for (size_t k = 0; k < o->nm; k++)
            if (push_match(&it[i], o->m[k])) { snprintf(why, whylen, "out of memory"); return -1; }
    }
    return 0;
oom:
    free(hit);
    free(q);
    free(who);
    snprintf(why, whylen, "out of memory");
    return -1;
}

static const char *hexs(const uint8_t *b, size_t n, char *out)
{
    vigil_hex(b, n, out);
    return out;
}

/* The most bytes cli_json_str writes for s: an escaped byte takes six at most. */
static size_t json_bound(const char *s)
{
    return s ? 6 * strlen(s) + 2 : 4;
}

/* The part of a record's JSON that depends on the content only (so a duplicate copies it). Each
 * set's matches take at most JMAX_JSON / nsets bytes (long labels): the matches left out are
 * dropped from it->m too, so that the record's matches and its JSON agree. */
static void content_json(FILE *f, const scan *s, item *it)
{
    const vigil_hash_result *r = &it->r;
    char h[65];
    if (r->have & VIGIL_HAVE_DIGESTS) {
        fprintf(f, "\"xxh128\":\"%s\",", hexs(r->xxh128, 16, h));
        fprintf(f, "\"md5\":\"%s\",", hexs(r->md5, 16, h));
        fprintf(f, "\"sha1\":\"%s\",", hexs(r->sha1, 20, h));
    }
    if (r->format[0]) fprintf(f, "\"format\":\"%s\",", r->format);
    if (r->have & VIGIL_HAVE_SIZE) fprintf(f, "\"width\":%u,\"height\":%u,", r->width, r->height);
    if (it->video) scan_video_record_json(f, it->video);
    if (r->have & VIGIL_HAVE_PDQ) {
        vigil_pdq_to_hex(&r->pdq, h);
        fprintf(f, "\"pdq\":\"%s\",\"quality\":%d,", h, r->quality);
        if (r->quality < s->min_quality) fprintf(f, "\"pdq_matched\":false,");
    }
    fprintf(f, "\"status\":\"%s\"", vigil_result_name(it->rc));
    if (it->rc) { fputs(",\"error\":", f); cli_json_str(f, it->err.message); }
    fputs(",\"matches\":[", f);
    size_t budget = JMAX_JSON / (size_t)(s->nsets > 0 ? s->nsets : 1), used = 0, kept = 0;
    for (size_t k = 0; k < it->nm; k++) {
        const jmatch *m = &it->m[k];
        const char *id, *labels;
        scan_match_ref(s->sets, m, &id, &labels);
        if (k == 0 || m->set != it->m[k - 1].set) used = 0;
        size_t need = json_bound(s->sets[m->set].name) + json_bound(s->sets[m->set].path) + json_bound(id) + json_bound(labels) + 160;
        if (used + need > budget) continue;
        used += need;
        it->m[kept] = *m;
        m = &it->m[kept];
        fprintf(f, "%s{\"set\":", kept++ ? "," : "");
        cli_json_str(f, s->sets[m->set].name);
        fputs(",\"index\":", f);
        cli_json_str(f, s->sets[m->set].path);
        fprintf(f, ",\"kind\":\"%s\",\"ref_id\":",
                m->kind == MATCH_ROOM ? "room" : m->kind == MATCH_FEATURES ? "features" : m->kind == MATCH_PDQ ? "pdq"
                : m->kind == MATCH_VIDEO ? "video" : m->kind == MATCH_MD5 ? "md5" : "sha1");
        if (id) cli_json_str(f, id); else fputs("null", f);
        fputs(",\"labels\":", f);
        if (labels) cli_json_str(f, labels); else fputs("null", f);
        const scan_fhit *fh = m->kind == MATCH_FEATURES ? scan_kfeat_find(it->fh, it->nfh, m) : NULL;
        if (fh) { kfeat_json_fields(f, &fh->m); fputc('}', f); }
        else if (m->kind == MATCH_ROOM || m->kind == MATCH_FEATURES) fprintf(f, ",\"inliers\":%d}", m->distance);
        else {
            fprintf(f, ",\"distance\":%d,\"transform\":\"%s\"", m->distance, vigil_transform_name((vigil_transform)m->transform));
            if (it->video) scan_video_match_json(f, it->video, m);
            fputc('}', f);
        }
    }
    it->nm = kept;
    fputc(']', f);
    if (it->total > it->nm) fprintf(f, ",\"truncated\":true,\"matches_total\":%llu", (unsigned long long)it->total);
    fputs("}\n", f);
}

static int write_batch(scan *s, item *it, int n, char *why, size_t whylen)
{
    for (int i = 0; i < n; i++) {
        item *x = &it[i];
        jfix fx;
        memset(&fx, 0, sizeof fx);
        fx.path_hash = journal_path_key(x->path);
        fx.path_len = (uint32_t)strlen(x->path);
        char *json = NULL;
        size_t jlen = 0;
        FILE *f = open_memstream(&json, &jlen);
        if (!f) { snprintf(why, whylen, "out of memory"); return -1; }
        fputc('{', f);
        cli_json_path(f, "path", x->path);
        if (x->link) { fx.flags |= J_LINK; fputs(",\"link\":true", f); }
        cli_input_json(f, &x->in);
        if (x->walk_err) {
            fx.status = strncmp(x->walk_err, "skipped", 7) ? VIGIL_E_IO : VIGIL_E_NOT_FILE;
            fprintf(f, ",\"status\":\"%s\",\"error\":", vigil_result_name((vigil_result)fx.status));
            cli_json_str(f, x->walk_err);
            fputs(",\"matches\":[]}\n", f);
        } else {
            const vigil_hash_result *r = &x->r;
            fx.size = r->file_size;
            fx.flags |= J_SIZE;
            fprintf(f, ",\"size\":%llu,", (unsigned long long)r->file_size);
            if (r->file_flags & VIGIL_FILE_CHANGED) { fx.flags |= J_CHANGED; fputs("\"changed\":true,", f); }
            if (x->dup_slot >= 0 || x->dup_off != UINT64_MAX) { fx.flags |= J_DEDUP; fputs("\"duplicate\":true,", f); }
            if (x->video) { /* the record carries the first matching frame's PDQ (the report's thumbnail) */
                int q;
                scan_video_pdq(x->video, &x->r.pdq, &q, &x->r.width, &x->r.height);
                x->r.have |= VIGIL_HAVE_SIZE;
                if (q >= 0) { x->r.quality = q; x->r.have |= VIGIL_HAVE_PDQ; }
                snprintf(x->r.format, sizeof x->r.format, "%s", "video");
            }
            fflush(f);
            fx.content_off = (uint32_t)jlen;
            if (x->dup_off != UINT64_MAX) fputs(x->dup_json, f);
            else content_json(f, s, x);
            fx.status = x->rc;
            fx.quality = r->quality;
            fx.pdq = r->pdq;
            fx.width = r->width;
            fx.height = r->height;
            memcpy(fx.format, r->format, sizeof fx.format);
            if (r->have & VIGIL_HAVE_DIGESTS) {
                fx.flags |= J_DIGESTS;
                memcpy(fx.xxh128, r->xxh128, 16);
                memcpy(fx.md5, r->md5, 16);
                memcpy(fx.sha1, r->sha1, 20);
            }
            if (r->have & VIGIL_HAVE_PDQ) fx.flags |= J_PDQ;
            if ((r->have & VIGIL_HAVE_PDQ) && r->quality < s->min_quality) fx.flags |= J_LOWQ;
        }
        if (fclose(f)) { free(json); snprintf(why, whylen, "out of memory"); return -1; }
        fx.json_len = (uint32_t)jlen;
        fx.nmatches = (uint32_t)x->nm;
        if (x->total > x->nm) {
            fx.flags |= J_TRUNC;
            fx.matches_total = x->total > UINT32_MAX ? UINT32_MAX : (uint32_t)x->total;
        }
        /* the thumbnail before the record: a kill in between leaves an image nothing points to */
        if (x->timg && thumbs_put(&s->th, x->r.xxh128, x->timg, x->timg_n) < 0)
            cli_warn("%s: writing failed: %s; %s gets no thumbnail", s->th.path, strerror(errno), x->path);
        uint64_t at = journal_append(&s->j, &fx, x->m, x->path, json);
        free(json);
        if (at == UINT64_MAX) { snprintf(why, whylen, "%s: writing failed: %s", s->j.path, strerror(errno)); return -1; }
        if (x->owner) {
            int ins;
            uint64_t *v = journal_content(&s->j, x->r.xxh128, &ins);
            if (v) *v = at;
        }
        s->files++;
        s->bytes += fx.size;
        if (fx.status) s->failed++;
        if (x->nm) { s->matched_files++; s->matches += x->nm; }
        if (fx.flags & J_DEDUP) s->dedup++;
    }
    return 0;
}

/* Takes the result of an identical file from the journal. */
static void copy_from_journal(scan *s, item *it)
{
    jrecord rec;
    if (journal_read(&s->j, it->dup_off, &rec)) { /* unreadable: decode after all */
        it->dup_off = UINT64_MAX;
        it->rc = cli_input_hash(&it->in, &it->opt, NULL, &it->r, NULL, NULL, &it->err);
        return;
    }
    vigil_hash_result *r = &it->r;
    r->pdq = rec.fix.pdq;
    r->quality = rec.fix.quality;
    r->width = rec.fix.width;
    r->height = rec.fix.height;
    memcpy(r->format, rec.fix.format, sizeof r->format);
    if (rec.fix.flags & J_PDQ) r->have |= VIGIL_HAVE_PDQ;
    if (rec.fix.width) r->have |= VIGIL_HAVE_SIZE;
    it->rc = (vigil_result)rec.fix.status;
    for (uint32_t k = 0; k < rec.fix.nmatches; k++) push_match(it, rec.matches[k]);
    it->total = rec.fix.flags & J_TRUNC ? rec.fix.matches_total : rec.fix.nmatches;
    it->dup_json = strdup(rec.json + rec.fix.content_off);
    free(rec.buf);
    if (!it->dup_json) { it->dup_off = UINT64_MAX; it->nm = 0; it->total = 0; it->rc = cli_input_hash(&it->in, &it->opt, NULL, &it->r, NULL, NULL, &it->err); }
}

/* The room index: the features came with the hash, from the same read of the file (see run_batch).
 * A file that cannot be matched this way keeps its hash result; the room part is just empty. */
static void match_rooms(scan *s, item *it, const vigil_features *f)
{
    const scan_set *set = &s->sets[s->rooms_set];
    vigil_error err;
    vigil_rooms_query_options qo;
    vigil_rooms_query_options_init(&qo);
    qo.min_inliers = (uint32_t)set->radius;
    /* a query ranks at most qo.verify images, so that many rooms at most: --top 0 means those */
    qo.top_k = s->top_k > 0 && (uint32_t)s->top_k < qo.verify ? (uint32_t)s->top_k : qo.verify;
    vigil_rooms_match *m = malloc(qo.top_k * sizeof *m);
    it->room = malloc(qo.top_k * sizeof *it->room);
    size_t nm = 0;
    if (m && it->room && !vigil_rooms_query(set->rooms, f, &qo, m, &nm, &err))
        for (size_t k = 0; k < nm; k++)
            it->room[it->nroom++] = (jmatch){m[k].image, s->rooms_set, (uint16_t)(m[k].inliers > 65535 ? 65535 : m[k].inliers), 0, MATCH_ROOM};
    free(m);
}

/* Every set stays the version the scan opened: the handles hold their own copies (core/sections.c),
 * so a file written in place cannot reach the search, but the results must be against one version
 * of each set, which --resume checks by content. A write in place (cp onto it) stops the scan
 * before anything more is recorded; a replacement by rename (vigil's own writers, an update
 * meant for later scans) does not: this scan keeps the version it opened, and says so at the end. */
static int sets_unchanged(scan *s, int pending, char *why, size_t whylen)
{
    for (int k = 0; k < s->nsets; k++) {
        vigil_error e;
        const scan_set *set = &s->sets[k];
        vigil_source_state st = set->rooms ? vigil_rooms_source_state(set->rooms, &e) : vigil_index_source_state(set->idx, &e);
        if (st == VIGIL_SOURCE_REPLACED) s->replaced[k] = 1;
        if (st != VIGIL_SOURCE_WRITTEN) continue;
        char left[96];
        if (pending) snprintf(left, sizeof left, "the last %d files were not recorded", pending);
        else snprintf(left, sizeof left, "every file is recorded but the reports were not written");
        snprintf(why, whylen,
                 "%s: this %s changed while the scan was reading it: %s; %s. The journal holds results against the "
                 "version the scan started with: put that file back and rerun with --resume, or start a new scan with another -o",
                 set->path, set->rooms ? "room index" : "index", e.message, left);
        return -1;
    }
    return 0;
}

/* Not an image but a video: its frames replace the image hash (digests stay as they are). */
static void scan_video_hook(scan *s, item *it)
{
    /* an archive member is decoded from its bytes in memory (docs/archives.md) */
    const cli_input *in = &it->in;
    int member = in->kind == CLI_IN_MEMBER;
    if (in->kind == CLI_IN_ARCHIVE || (member && !in->data)) return;
    if (it->rc != VIGIL_E_FORMAT || it->dup_slot >= 0 || it->dup_off != UINT64_MAX) return;
    if (member ? !vigil_video_sniff(in->data, in->size) : !scan_video_is(it->path)) return;
    vigil_result rc;
    vigil_error err;
    it->video = member ? scan_video_hash_memory(in->data, in->size, s->dihedral, &rc, &err)
                       : scan_video_hash(it->path, s->dihedral, &rc, &err);
    if (!it->video) return; /* out of memory: the file stays "not an image" */
    it->rc = rc;
    it->err = err;
}

/* An archive member's bytes, once hashed: freed here unless a video's thumbnail decodes them again
 * after the batch, so the next member reuses warm memory rather than the batch holding them all
 * (224 photos of a zip: about 9,000 fewer page faults, bench/results/archive.md). */
static void drop_member_bytes(item *it)
{
    if (it->in.kind != CLI_IN_MEMBER || it->video) return;
    free(it->in.data);
    it->in.data = NULL;
}

static int run_batch(scan *s, item *it, int n, char *why, size_t whylen)
{
    cli_test_pause("batch", ++s->batches);
#pragma omp parallel for schedule(dynamic, 1) num_threads(s->threads)
    for (int i = 0; i < n; i++) {
        if (it[i].walk_err) continue;
        if (s->rooms_set < 0 && !s->features) {
            it[i].rc = cli_input_hash(&it[i].in, &it[i].opt, NULL, &it[i].r, NULL, NULL, &it[i].err);
            scan_video_hook(s, &it[i]);
            drop_member_bytes(&it[i]);
            continue;
        }
        /* one read and the same bytes for both; no features when the content was a duplicate
         * (before_decode declined) or the file could not be hashed */
        vigil_features f, plain;
        vigil_error ferr;
        vigil_features_options fo;
        scan_kfeat_options(&fo);
        it[i].rc = cli_input_hash(&it[i].in, &it[i].opt, s->features ? &fo : NULL, &it[i].r, &f, &ferr, &it[i].err);
        plain = f;
        if (s->features) plain.n /= 2; /* the rooms see the image, not its mirrored twins */
        if (it[i].rc == VIGIL_OK && it[i].dup_slot < 0 && it[i].dup_off == UINT64_MAX && !ferr.code) {
            if (s->rooms_set >= 0) match_rooms(s, &it[i], &plain);
            if (s->features && scan_kfeat_match(s->sets, s->nsets, s->top_k, &f, &it[i].fh, &it[i].nfh)) it[i].nfh = 0;
        }
        vigil_features_free(&f);
        scan_video_hook(s, &it[i]);
        drop_member_bytes(&it[i]);
    }
    for (int i = 0; i < n; i++) {
        if (it[i].dup_slot >= 0) {
            const item *o = &it[it[i].dup_slot];
            uint64_t size = it[i].r.file_size;
            uint32_t file_flags = it[i].r.file_flags;
            it[i].r = o->r;
            it[i].r.file_size = size;
            it[i].r.file_flags = file_flags;
            it[i].rc = o->rc;
            it[i].err = o->err;
            it[i].video = o->video;
            it[i].video_borrowed = 1;
        } else if (it[i].dup_off != UINT64_MAX) {
            copy_from_journal(s, &it[i]);
        }
    }
    if (match_batch(s, it, n, why, whylen)) return -1;
    /* the matched files' thumbnails, encoded here in parallel; unmatched ones are dropped unencoded */
#pragma omp parallel for schedule(dynamic, 1) num_threads(s->threads)
    for (int i = 0; i < n; i++) {
        vigil_error e;
        if (it[i].nm && it[i].thumb.px && !thumbs_has(&s->th, it[i].r.xxh128) &&
            vigil_thumb_jpeg(&it[i].thumb, 80, &it[i].timg, &it[i].timg_n, &e))
            it[i].timg = NULL;
        /* a video's thumbnail is the frame the record carries (the first that matched), decoded
         * again on its own: the hash kept no frame */
        if (it[i].nm && it[i].video && !it[i].video_borrowed && s->th.budget && !thumbs_has(&s->th, it[i].r.xxh128)) {
            vigil_pdq pdq;
            int q;
            uint32_t w, h;
            char why1[256];
            scan_video_pdq(it[i].video, &pdq, &q, &w, &h);
            const cli_input *in = &it[i].in;
            if (q < 0 || (in->kind == CLI_IN_MEMBER && in->data
                              ? scan_video_thumb_memory(in->data, in->size, &pdq, 160, &it[i].timg, &it[i].timg_n, why1, sizeof why1)
                              : scan_video_thumb(it[i].path, &pdq, 160, &it[i].timg, &it[i].timg_n, why1, sizeof why1)))
                it[i].timg = NULL;
        }
    }
    if (sets_unchanged(s, n, why, whylen)) return -1;
    return write_batch(s, it, n, why, whylen);
}

static void reset_item(item *it)
{
    free(it->path);
    free(it->walk_err);
    free(it->dup_json);
    free(it->room);
    it->in.path = it->in.err = NULL; /* the same strings as path and walk_err */
    cli_input_free(&it->in);
    if (!it->video_borrowed) scan_video_free(it->video);
    free(it->fh);
    vigil_free(it->thumb.px);
    vigil_free(it->timg);
    jmatch *m = it->m;
    size_t cap = it->mcap;
    scan *s = it->s;
    int slot = it->slot;
    vigil_hash_options opt = it->opt;
    memset(it, 0, sizeof *it);
    it->m = m;
    it->mcap = cap;
    it->s = s;
    it->slot = slot;
    it->opt = opt;
    it->dup_slot = -1;
    it->dup_off = UINT64_MAX;
}

/* The walk's claim (archives.c): a path the journal holds is skipped, so is an archive's member. */
static int claim_path(const char *path, void *p)
{
    scan *s = p;
    int claim = journal_claim(&s->j, path);
    if (claim > 0) s->skipped_done++;
    return claim;
}

/* Archive members held in memory by one batch: a batch closes early past this (plus one member). */
#define BATCH_MEMBER_BYTES (256u << 20)

/* The files come from src (the walk, a shard of it, or --mpi's batches); archives among them are
 * opened by the archive walk, their members following the archive. */
static int scan_paths(scan *s, const scan_source *src, char *why, size_t whylen)
{
    cli_awalk *w = cli_awalk_source(src->next, src->ctx, &s->ao, s->archives_off, claim_path, s);
    const int batch = 64 * s->threads;
    item *it = calloc((size_t)batch, sizeof *it);
    if (!w || !it) { cli_awalk_free(w); free(it); snprintf(why, whylen, "out of memory"); return -1; }
    for (int i = 0; i < batch; i++) {
        it[i].s = s;
        it[i].slot = i;
        vigil_hash_options_init(&it[i].opt);
        it[i].opt.flags = s->flags;
        it[i].opt.before_decode = before_decode;
        it[i].opt.before_decode_ctx = &it[i];
        it[i].opt.thumb_side = s->th.budget ? 160 : 0;
        it[i].opt.thumb = &it[i].thumb;
        reset_item(&it[i]);
    }
    int rc = 0, done = 0;
    while (!done && !rc && !stop_requested) {
        int k = 0;
        size_t held = 0;
        while (k < batch && held < BATCH_MEMBER_BYTES) {
            int got = cli_awalk_next(w, &it[k].in);
            if (got < 0) { snprintf(why, whylen, "%s", cli_awalk_why(w)); rc = -1; break; }
            if (!got) { done = 1; break; }
            if (got == CLI_AWALK_BATCH_END) break; /* the source's batch ends here (--mpi) */
            it[k].path = it[k].in.path;
            it[k].walk_err = it[k].in.err;
            it[k].link = it[k].in.link;
            held += it[k].in.size;
            k++;
        }
        if (!rc) rc = run_batch(s, it, k, why, whylen);
        for (int i = 0; i < k; i++) reset_item(&it[i]);
        double t = cli_now();
        if (t - s->last_sync >= 1.0) { journal_sync(&s->j); s->last_sync = t; }
        show_progress(s, 0);
    }
    for (int i = 0; i < batch; i++) { reset_item(&it[i]); free(it[i].m); }
    free(it);
    cli_awalk_free(w);
    return rc;
}

/* ---- command ----------------------------------------------------------------------------------- */

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* One set's part of the settings: path, the content id of the version opened, how it is matched. */
static char *set_clause(const scan_set *set)
{
    char id[33], *c = NULL;
    size_t n = 0;
    if (set->rooms) vigil_rooms_content_id(set->rooms, id);
    else vigil_index_content_id(set->idx, id);
    FILE *f = open_memstream(&c, &n);
    if (!f) return NULL;
    /* view=2: the query features come from the integer-resized view (view.c); a journal of the
     * earlier view refuses --resume */
    if (set->rooms) fprintf(f, " rooms=%s content=%s min_inliers=%d view=2;", set->path, id, set->radius);
    else {
        char fc[48];
        fprintf(f, " index=%s content=%s set=%s radius=%d%s;", set->path, id, set->name, set->radius, scan_kfeat_clause(set, fc, sizeof fc));
    }
    if (fclose(f)) { free(c); return NULL; }
    return c;
}

/* The settings a resumed scan must share: the same references (by content, not by size or entry
 * count) matched the same way. One clause per set, so that a refused --resume can say which set
 * differs; as long as the sets need. */
static char *scan_settings(const scan *s, const scan_set *sets, int nall, char **clause)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    /* room_features: how the features are made; 2 = from the hash's decode (core/view.c), whose
     * features differ a little from the earlier vips_thumbnail ones, so such a journal is refused */
    int rooms = 0;
    for (int k = 0; k < nall; k++) rooms |= sets[k].rooms != NULL;
    fprintf(f, "vigil scan v2; video=vpdq1 dihedral=%d exact=%d min_quality=%d top=%d%s%s", s->dihedral, !!(s->flags & VIGIL_HASH_EXACT),
            s->min_quality, s->top_k, cli_follow_links ? " follow_links=1" : "", rooms ? " room_features=2" : "");
    cli_archive_settings(f, &s->ao, s->archives_off);
    if (s->shard.n) fprintf(f, " shard=%u/%u", s->shard.k, s->shard.n); /* merged shards drop it (scan_merge.c) */
    fputc(';', f);
    for (int k = 0; k < nall; k++) {
        if (!(clause[k] = set_clause(&sets[k]))) { fclose(f); free(buf); return NULL; }
        fputs(clause[k], f);
    }
    if (fclose(f)) { free(buf); return NULL; }
    return buf;
}

/* --resume onto a journal started with other settings: names the set that differs, and how.
 * 1 when it said why (refused), 0 to let journal_open decide. */
static int resume_refused(const char *outdir, const char *settings, const scan_set *sets, int nall, char **clause)
{
    char *old = journal_stored_settings(outdir);
    if (!old || !strcmp(old, settings)) { free(old); return 0; }
    int said = 0;
    const char *end = strchr(settings, ';');
    end = end ? strchr(end + 1, ';') : NULL; /* the options end at the second ';' */
    size_t hl = end ? (size_t)(end - settings) + 1 : strlen(settings);
    if (strncmp(old, "vigil scan v2;", 14)) {
        cli_warn("cannot resume: the scan in %s was started with other settings, by another version of vigil (%.300s); "
                 "start a new scan with another -o", outdir, old);
        free(old);
        return 1;
    }
    if (strncmp(old, settings, hl) || (old[hl] && old[hl] != ' ')) {
        const char *oe = strchr(old, ';');
        oe = oe ? strchr(oe + 1, ';') : NULL;
        cli_warn("cannot resume: the scan in %s was started with other settings: options (%.*s); this run has (%.*s)", outdir,
                 oe ? (int)(oe - old + 1) : 300, old, (int)hl, settings);
        said = 1;
    }
    for (int k = 0; k < nall; k++) {
        if (strstr(old, clause[k])) continue;
        const scan_set *set = &sets[k];
        const char *kind = set->rooms ? "room index" : "index";
        char id[33], *key = NULL;
        size_t kl = 0;
        if (set->rooms) vigil_rooms_content_id(set->rooms, id);
        else vigil_index_content_id(set->idx, id);
        FILE *f = open_memstream(&key, &kl);
        if (f) { fprintf(f, " %s=%s content=", set->rooms ? "rooms" : "index", set->path); fclose(f); }
        const char *at = key ? strstr(old, key) : NULL;
        if (at && strncmp(at + kl, id, 32))
            cli_warn("cannot resume: the scan in %s was started with other settings: %s is not the %s it was started with, its "
                     "content differs (content id %s; the scan's was %.32s); resume with that version of the file, or start a "
                     "new scan with another -o", outdir, set->path, kind, id, at + kl);
        else if (at)
            cli_warn("cannot resume: the scan in %s was started with other settings: %s is the same %s, but its %s or set name differs",
                     outdir, set->path, kind, set->rooms ? "--min-inliers" : "--radius");
        else
            cli_warn("cannot resume: the scan in %s was started with other settings: %s was not a%s %s of it", outdir, set->path,
                     set->rooms ? "" : "n", kind);
        free(key);
        said = 1;
    }
    int nold = 0;
    for (const char *p = old; (p = strstr(p, " content=")); p++) nold++;
    if (nold > nall) {
        cli_warn("cannot resume: the scan in %s was started with other settings: %d reference sets, this run gives %d (%.600s)",
                 outdir, nold, nall, old);
        said = 1;
    }
    free(old);
    return said;
}

int cmd_scan(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"index", required_argument, 0, 'i'},    {"radius", required_argument, 0, 'r'},
        {"min-quality", required_argument, 0, 'Q'}, {"top", required_argument, 0, 'k'},
        {"no-dihedral", no_argument, 0, 'D'},    {"exact", no_argument, 0, 'e'},
        {"output", required_argument, 0, 'o'},   {"resume", no_argument, 0, 'R'},
        {"thumbs", required_argument, 0, 'T'},   {"quiet", no_argument, 0, 'q'},
        {"rooms", required_argument, 0, 'M'},    {"min-inliers", required_argument, 0, 'N'},
        {"help", no_argument, 0, 'h'},           {"follow-links", no_argument, 0, 'L'},
        {"shard", required_argument, 0, 'S'},    {"mpi", no_argument, 0, 'P'},
        {"batch", required_argument, 0, 'B'},    CLI_ARCHIVE_LONGOPTS,
        {"feature-inliers", required_argument, 0, 'F'},
        {0, 0, 0, 0},
    };
    enum { MAXSETS = 64 };
    scan_set sets[MAXSETS + 1]; /* + the room index */
    memset(sets, 0, sizeof sets);
    char *radius_spec[MAXSETS];
    int nradius = 0, nsets = 0, resume = 0, thumbs = 200, c; /* MB: usable in < 1 s, all parsed in ~4 s (bench/results/review.md) */
    int default_radius = 31;
    const char *outdir = NULL, *rooms_path = NULL;
    int min_inliers = -1;
    scan s;
    memset(&s, 0, sizeof s);
    scan_dist dist = {0};
    int mpi = 0;
    if (argc > 1 && !strcmp(argv[1], "merge")) return cmd_scan_merge(argc - 1, argv + 1);
    s.dihedral = 1;
    s.min_quality = 50;
    s.top_k = 10;
    s.threads = omp_get_num_procs();
    vigil_archive_options_init(&s.ao);
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:j:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (nsets == MAXSETS) { cli_warn("at most %d --index", MAXSETS); return EXIT_USAGE; }
            sets[nsets++].path = optarg;
            break;
        case 'r':
            if (strchr(optarg, '=')) {
                int v;
                if (nradius == MAXSETS) { cli_warn("too many --radius"); return EXIT_USAGE; }
                if (cli_parse_int("--radius SET=N: N", strrchr(optarg, '=') + 1, 0, 256, &v)) return EXIT_USAGE;
                radius_spec[nradius++] = optarg;
            } else if (cli_parse_int("--radius", optarg, 0, 256, &default_radius)) return EXIT_USAGE;
            break;
        case 'Q': if (cli_parse_int("--min-quality", optarg, 0, 101, &s.min_quality)) return EXIT_USAGE; break;
        case 'k': if (cli_parse_int("--top", optarg, 0, 1000000, &s.top_k)) return EXIT_USAGE; break;
        case 'T': if (cli_parse_int("--thumbs", optarg, 0, 4096, &thumbs)) return EXIT_USAGE; break;
        case 'j': if (cli_parse_int("-j", optarg, 1, 1024, &s.threads)) return EXIT_USAGE; break;
        case 'D': s.dihedral = 0; break;
        case 'e': s.flags |= VIGIL_HASH_EXACT; break;
        case 'o': outdir = optarg; break;
        case 'M': rooms_path = optarg; break;
        case 'N': if (cli_parse_int("--min-inliers", optarg, 4, 65535, &min_inliers)) return EXIT_USAGE; break;
        case 'R': resume = 1; break;
        case 'q': s.quiet = 1; break;
        case 'L': cli_follow_links = 1; break;
        case 'S': if (scan_shard_parse(optarg, &s.shard)) return EXIT_USAGE; break;
        case 'P': mpi = 1; break;
        case 'B': if (cli_parse_int("--batch", optarg, 1, 65536, &s.dist_batch)) return EXIT_USAGE; break;
        case 'F': if (kfeat_set_inliers(optarg)) return EXIT_USAGE; break;
        case 'h': help_scan(stdout); return 0;
        default: {
            int a = cli_archive_option(c, optarg, &s.ao, &s.archives_off);
            if (a > 0) break;
            if (!a) help_scan(stderr);
            return EXIT_USAGE;
        }
        }
    }
    if ((!nsets && !rooms_path) || !outdir || optind >= argc) {
        cli_warn("scan needs --index FILE.vgi (or --rooms FILE.vgr), -o OUTDIR and at least one PATH");
        help_scan(stderr);
        return EXIT_USAGE;
    }
    if (s.dihedral) s.flags |= VIGIL_HASH_DIHEDRAL;
    vigil_error err;
    if (vigil_init(&err)) { cli_warn("%s", err.message); return EXIT_USAGE; }
    int status = EXIT_USAGE, lockfd = -1;
    char *settings = NULL, *clause[MAXSETS + 1] = {0};
    if (s.shard.n && (mpi || (resume && scan_dist_layout(outdir)))) {
        cli_warn("--shard splits the tree between separate scans; --mpi (or a scan made with it) splits it by itself: give one");
        return EXIT_USAGE;
    }
    if (mpi || (resume && scan_dist_layout(outdir))) { /* every rank: MPI started, OUTDIR locked by rank 0 */
        if ((status = scan_dist_begin(&dist, outdir, mpi, resume))) return status;
        status = EXIT_USAGE;
        goto locked;
    }
    /* OUTDIR is locked first, so that a second scan on it is refused before it opens any index */
    if (mkdir(outdir, 0755) && errno != EEXIST) { cli_warn("%s: cannot create: %s", outdir, strerror(errno)); return EXIT_USAGE; }
    {
        /* nothing, not even the lock, is written through a link or into what is not a folder */
        struct stat ost;
        if (!lstat(outdir, &ost) && !S_ISDIR(ost.st_mode)) {
            if (S_ISLNK(ost.st_mode)) cli_warn("%s: is a symbolic link; give the folder itself as -o", outdir);
            else cli_warn("%s: is %s, not a folder", outdir, cli_file_kind(ost.st_mode));
            return EXIT_USAGE;
        }
        char lwhy[2048];
        if (cli_lock_outdir(outdir, &lockfd, lwhy, sizeof lwhy)) { cli_warn("%s", lwhy); return EXIT_USAGE; }
    }
locked:;
    /* the -j threads read the sets too: a 3 GB set with features opens in 1.6-2.0 s on two
     * threads, 2.9-3.3 s on one (bench/results/kfeat.md) */
    vigil_open_options oo;
    vigil_open_options_init(&oo);
    oo.threads = s.threads < 64 ? (uint32_t)s.threads : 64;
    for (int k = 0; k < nsets; k++) {
        if (vigil_index_open_with(sets[k].path, &oo, &sets[k].idx, &err)) {
            cli_warn("%s: %s: %s", sets[k].path, vigil_result_name(err.code), err.message);
            goto out;
        }
        vigil_index_stats st;
        vigil_index_get_stats(sets[k].idx, &st);
        sets[k].name = st.set_name && *st.set_name ? st.set_name : base_name(sets[k].path);
        sets[k].radius = default_radius;
    }
    s.rooms_set = -1;
    if (rooms_path) {
        scan_set *rs = &sets[nsets];
        rs->path = rooms_path;
        if (vigil_rooms_open_with(rooms_path, &oo, &rs->rooms, &err)) {
            cli_warn("%s: %s: %s", rooms_path, vigil_result_name(err.code), err.message);
            goto out;
        }
        rs->name = base_name(rooms_path);
        vigil_rooms_query_options qo;
        vigil_rooms_query_options_init(&qo);
        rs->radius = min_inliers >= 0 ? min_inliers : (int)qo.min_inliers;
        s.rooms_set = nsets;
    }
    for (int r = 0; r < nradius; r++) {
        char *eq = strrchr(radius_spec[r], '='); /* a path may hold '=', a radius never */
        *eq = 0;
        int found = 0, v;
        if (cli_parse_int("--radius", eq + 1, 0, 256, &v)) goto out;
        for (int k = 0; k < nsets; k++)
            if (!strcmp(sets[k].name, radius_spec[r]) || !strcmp(sets[k].path, radius_spec[r])) { sets[k].radius = v; found = 1; }
        if (!found) { cli_warn("--radius %s=%s: no --index has that set name or path", radius_spec[r], eq + 1); goto out; }
    }
    s.features = scan_kfeat_wanted(sets, nsets);
    int nall = nsets + (rooms_path != NULL);
    if (!(settings = scan_settings(&s, sets, nall, clause)) || !(s.replaced = calloc((size_t)nall, sizeof *s.replaced))) {
        cli_warn("out of memory");
        goto out;
    }
    if (dist.on) { /* the scan of every rank, the merge and the reports: scan_dist.c */
        s.sets = sets;
        s.nsets = nall;
        status = scan_dist_run(&dist, &s, settings, argv + optind, argc - optind, sets, nall, thumbs, cli_now());
        goto out;
    }
    if (resume && resume_refused(outdir, settings, sets, nall, clause)) goto out;
    char why[8400];
    if (journal_open(&s.j, outdir, settings, resume, why, sizeof why)) { cli_warn("%s", why); goto out; }
    if (s.j.resumed && !s.quiet) fprintf(stderr, "resuming: %llu files already in the journal\n", (unsigned long long)s.j.records);
    if (journal_damage_note(&s.j, why, sizeof why)) cli_warn("%s", why); /* even with --quiet: a damaged journal */
    {
        char sid[33];
        if (review_scan_id(outdir, !s.j.resumed, sid, why, sizeof why) ||
            thumbs_open(&s.th, outdir, !s.j.resumed, (uint64_t)thumbs << 20, why, sizeof why)) {
            cli_warn("%s", why);
            journal_close(&s.j);
            goto out;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    s.sets = sets;
    s.nsets = nall;
    s.start = s.last_sync = s.last_progress = cli_now();
    s.progress = !s.quiet && isatty(STDERR_FILENO);
    pthread_t counter_thread;
    counter cn = {&s, argv + optind, argc - optind};
    int counting = s.progress && !pthread_create(&counter_thread, NULL, count_files, &cn);
    scan_walk_src ws;
    scan_source src;
    int rc = scan_walk_source(&ws, &src, argv + optind, argc - optind, &s.shard);
    if (rc) snprintf(why, sizeof why, "out of memory");
    else rc = scan_paths(&s, &src, why, sizeof why);
    scan_walk_source_free(&ws);
    if (counting) pthread_join(counter_thread, NULL);
    show_progress(&s, 1);
    if (s.progress) fputc('\n', stderr);
    journal_sync(&s.j);
    thumbs_sync(&s.th);
    if (!rc && !stop_requested) rc = sets_unchanged(&s, 0, why, sizeof why);
    if (rc) { cli_warn("%s", why); journal_close(&s.j); goto out; }
    if (stop_requested) {
        fprintf(stderr, "%s: interrupted after %llu files (%llu in the journal); run the same command with --resume to continue\n",
                cli_prog, s.files, (unsigned long long)s.j.records);
        journal_close(&s.j);
        status = 130;
        goto out;
    }
    if (s.th.over && !s.quiet)
        fprintf(stderr, "%llu matched files are text rows in report.html: the thumbnails reached --thumbs %d MB\n",
                (unsigned long long)s.th.over, thumbs);
    thumbs_close(&s.th);
    scan_report_opts ro = {outdir, sets, nall, thumbs, s.threads, cli_now() - s.start, 0, settings, 0, 0, 0, 0, 0, NULL};
    if (scan_write_reports(&s.j, &ro, why, sizeof why)) { cli_warn("%s", why); journal_close(&s.j); goto out; }
    if (s.shard.n && scan_shard_write_done(outdir, &s.shard, &s.j, argv + optind, argc - optind, why, sizeof why)) {
        cli_warn("%s", why);
        journal_close(&s.j);
        goto out;
    }
    if (!s.quiet) {
        fprintf(stderr, "%llu files: %llu matched a reference set, %llu could not be read or decoded "
                "(this run: %llu scanned, %llu identical to an earlier file, %llu already done)\n",
                ro.files, ro.matched, ro.failed, s.files, s.dedup, s.skipped_done);
    }
    for (int k = 0; k < nall; k++) {
        char id[33];
        if (sets[k].rooms) vigil_rooms_content_id(sets[k].rooms, id);
        else vigil_index_content_id(sets[k].idx, id);
        if (s.replaced[k])
            cli_warn("note: %s was replaced while the scan ran; these results are against the version the scan opened "
                     "(content id %s), not the new one", sets[k].path, id);
    }
    printf("%s/summary.json\n%s/report.html\n", outdir, outdir);
    status = ro.failed ? EXIT_SOME_FAILED : 0;
    journal_close(&s.j);
out:
    for (int k = 0; k < nsets; k++) vigil_index_free(sets[k].idx);
    if (rooms_path) vigil_rooms_free(sets[nsets].rooms);
    for (int k = 0; k <= MAXSETS; k++) free(clause[k]);
    free(settings);
    free(s.replaced);
    thumbs_close(&s.th);
    cli_unlock_outdir(lockfd);
    if (dist.on) status = scan_dist_end(&dist, status);
    return status;
}

/* ---- what scan_dist.c drives (--mpi) ------------------------------------------------------------ */

int scan_batches(scan *s, const scan_source *src, char *why, size_t whylen) { return scan_paths(s, src, why, whylen); }
scan_journal *scan_journal_of(scan *s) { return &s->j; }
int scan_open_thumbs(scan *s, const char *dir, int budget_mb, char *why, size_t whylen)
{
    return thumbs_open(&s->th, dir, !s->j.resumed, (uint64_t)(budget_mb > 0 ? budget_mb : 0) << 20, why, whylen);
}
void scan_close_thumbs(scan *s)
{
    thumbs_sync(&s->th);
    thumbs_close(&s->th);
}
int scan_threads(const scan *s) { return s->threads; }
int scan_quiet(const scan *s) { return s->quiet; }
int scan_batch_files(const scan *s) { return s->dist_batch ? s->dist_batch : 64 * s->threads; }
int scan_check_sets(scan *s, char *why, size_t whylen) { return sets_unchanged(s, 0, why, whylen); }
int scan_stopped(void) { return stop_requested; }
void scan_run_counts(const scan *s, unsigned long long c[3]) { c[0] = s->files; c[1] = s->dedup; c[2] = s->failed; }

void scan_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
