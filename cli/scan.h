/* scan.h - `vigil scan`: the journal (journal.c), the scan loop (cmd_scan.c) and the reports written
 * from the journal when the scan ends (report.c: results.jsonl, summary.json, vics.json,
 * report.html). */
#ifndef VIGIL_SCAN_H
#define VIGIL_SCAN_H

#include "cli.h"

/* One match as the journal keeps it: enough to look the reference up again in its index. */
enum { MATCH_PDQ = 0, MATCH_MD5 = 1, MATCH_SHA1 = 2, MATCH_ROOM = 3,
       MATCH_FEATURES = 4 /* entry: the index's features reference; distance: inliers */,
       MATCH_VIDEO = 5 /* a video-set match (cli/scan_video.c): entry = one frame of the known video */ };
typedef struct jmatch {
    uint64_t entry;     /* PDQ entry, digest entry for MD5/SHA1 matches, reference image for rooms */
    int32_t set;        /* which --index, in command-line order */
    uint16_t distance;  /* Hamming distance; for MATCH_ROOM the inlier count */
    uint8_t transform;
    uint8_t kind;       /* MATCH_* */
} jmatch;

/* J_TRUNC: more matches than a record keeps (see
 * JMAX_SET_MATCHES), jfix.matches_total holds how many there were. */
enum { J_DIGESTS = 1, J_PDQ = 2, J_DEDUP = 4, J_LOWQ = 8, J_SIZE = 16,
       J_LINK = 32 /* reached through a symbolic link */,
       J_CHANGED = 64 /* changed while read */, J_TRUNC = 128 };

/* Limits of one record. A file keeps at most JMAX_SET_MATCHES matches per set (the nearest), and
 * its JSON at most JMAX_JSON bytes spread evenly over the sets; beyond either it is J_TRUNC. So a
 * record stays under JREC_MAX, which the reader refuses to go beyond (a damaged length). */
#define JMAX_SET_MATCHES 10000
#define JMAX_JSON (192u << 20)
#define JREC_MAX (1u << 28)
#define JMAX_MATCHES (1u << 20) /* per record: 65 sets x JMAX_SET_MATCHES fit */
_Static_assert(65 * JMAX_SET_MATCHES <= JMAX_MATCHES, "a record holds every set's matches");

/* The fixed part of a journal record; then nmatches jmatch, the path and a NUL, the JSON line. */
typedef struct jfix {
    uint64_t path_hash;
    uint64_t size;
    uint8_t xxh128[16], md5[16], sha1[20];
    uint32_t flags;            /* J_* */
    int32_t status;            /* vigil_result; VIGIL_E_IO / NOT_FILE for walk errors */
    int32_t quality;
    vigil_pdq pdq;
    uint32_t width, height;
    uint32_t nmatches, path_len;
    uint32_t content_off;      /* where the content-determined part of the JSON starts */
    uint32_t json_len;
    char format[12];
    uint32_t matches_total;    /* J_TRUNC: matches found, of which nmatches are kept (was padding: 0) */
} jfix;
_Static_assert(sizeof(jfix) % 8 == 0, "jmatch array after jfix stays aligned");
_Static_assert(sizeof(jfix) == 152, "the record layout of journal version 1");

typedef struct jrecord {
    jfix fix;
    const jmatch *matches;
    const char *path, *json;
    char *buf; /* journal_read: the caller frees it */
} jrecord;

typedef struct content_slot {
    uint64_t key[2];
    uint64_t value; /* a journal offset (never 0: the header comes first) or PENDING | slot; 0 = empty */
} content_slot;

typedef struct scan_journal {
    char path[4200];
    int fd;
    uint64_t end, records, torn;
    const char *torn_why;           /* what was wrong with the torn tail */
    /* damage found by journal_open in the middle: records dropped (their files are scanned
     * again), their bytes, and why; holes: stretches marked now as holes, which readers skip */
    uint64_t dropped, dropped_bytes, holes;
    unsigned bad_sum, bad_len, bad_magic, bad_layout;
    uint64_t appended, crash_after; /* crash_after: test hook, see journal_append */
    int resumed;
    uint64_t *pset;
    size_t pcap, pn;
    content_slot *ctab;
    size_t ccap, cn;
} scan_journal;

int journal_open(scan_journal *j, const char *dir, const char *settings, int resume, char *why, size_t whylen);
int journal_claim(scan_journal *j, const char *path);
uint64_t *journal_content(scan_journal *j, const uint8_t xxh128[16], int *inserted);
uint64_t journal_append(scan_journal *j, const jfix *fix, const jmatch *m, const char *path, const char *json);
int journal_read(scan_journal *j, uint64_t off, jrecord *rec);
/* Checks and splits one record's payload (p 8-byte aligned, len bytes); 0 or -1. */
int journal_decode(char *p, uint32_t len, jrecord *rec);
int journal_each(scan_journal *j, int (*fn)(const jrecord *r, void *ctx), void *ctx);
int journal_sync(scan_journal *j);
uint64_t journal_path_key(const char *path);
size_t journal_memory(const scan_journal *j);
/* What journal_open found wrong and dealt with (dropped records, torn tail), one line for the
 * user; 0 when nothing. */
int journal_damage_note(const scan_journal *j, char *out, size_t n);
void journal_close(scan_journal *j);
char *journal_stored_settings(const char *dir);
/* Reading records from an offset on, with a read window of `window` bytes (0: 1 MiB): 1 a record
 * (valid until the next call; rec->buf stays the iterator's), 0 the end, -1 a read error. */
typedef struct journal_iter journal_iter;
uint64_t journal_first_record(scan_journal *j);
journal_iter *journal_iter_new(scan_journal *j, uint64_t from, size_t window);
int journal_iter_next(journal_iter *it, jrecord *rec, uint64_t *off);
uint64_t journal_iter_offset(const journal_iter *it);
void journal_iter_free(journal_iter *it);
int journal_open_read(scan_journal *j, const char *dir, const char *settings, char *why, size_t whylen);
/* journal_claim by the path's key (journal_path_key), as another journal's table holds it. */
int journal_claim_key(scan_journal *j, uint64_t key);

/* The reference sets of a scan: hash indexes, then at most one room index (--rooms). */
typedef struct scan_set {
    const char *path;
    vigil_index *idx;
    vigil_rooms *rooms; /* a room index instead of idx */
    const char *name;   /* set name, else the file name */
    int radius;         /* for a room index: the least inliers reported */
} scan_set;

typedef struct scan_report_opts {
    const char *dir;
    scan_set *sets;
    int nsets;
    int thumbs_max;     /* thumbnails embedded in report.html */
    int threads;
    double seconds;
    int interrupted;
    const char *settings;
    unsigned long long files, failed, matched; /* out: totals over the whole journal */
    /* a merge split by ranges (scan_merge.c): 1 = only results.jsonl and vics.json's entries,
     * with MediaIDs from media_base + 1 (one part); 2 = all but those two (already joined) */
    int lists;
    unsigned long long media_base;
    /* the summary's counts, scan_report_nsums(nsets) of them, or NULL: lists 1 writes the part's
     * there, lists 2 takes them (the parts' added up) instead of reading the journal again */
    unsigned long long *sums;
} scan_report_opts;
size_t scan_report_nsums(int nsets);

/* report.c: writes results.jsonl, summary.json, vics.json and report.html from the journal, each
 * atomically. Prints nothing; returns 0 or -1 with why set. */
int scan_write_reports(scan_journal *j, scan_report_opts *o, char *why, size_t whylen);
/* The same, with report.html's whole text written by page (a merge joins it from its parts,
 * scan_merge.c) instead of from a read of the journal: page returns 0 or -1. */
typedef int (*scan_page_fn)(FILE *f, const scan_report_opts *o, const char *scan_id, void *ctx);
int scan_write_reports_page(scan_journal *j, scan_report_opts *o, scan_page_fn page, void *ctx, char *why, size_t whylen);
/* The reference behind a match (id, labels); NULLs when not found. */
void scan_match_ref(const scan_set *sets, const jmatch *m, const char **id, const char **labels);

#endif
