/* review.h - what the review page and `vigil review apply` share (cli/review.c): the scan's id. */
#ifndef VIGIL_REVIEW_H
#define VIGIL_REVIEW_H

#include <stddef.h>
#include <stdint.h>

/* dir/scan-id: 32 hex digits drawn when a scan starts afresh (fresh = 1: a new one is drawn and
 * written atomically), kept across --resume and rewritten reports, so that decisions kept by the
 * page (its local storage) and decision files stay tied to the one scan. fresh = 0 reads it, and
 * draws one only when there is none (an OUTDIR from before scan ids). 0, or -1 with why. */
int review_scan_id(const char *dir, int fresh, char id[33], char *why, size_t whylen);
/* Reads dir/scan-id only: 0, or -1 when there is none. */
int review_read_scan_id(const char *dir, char id[33]);

#endif

/* ---- decisions files (the review page's export; `vigil review apply`) ------------------------- */

enum { REVIEW_NONE = 0, REVIEW_CONFIRMED, REVIEW_REJECTED, REVIEW_NEEDS_REVIEW };

typedef struct review_decision {
    uint64_t line;     /* results.jsonl line (0-based): the match id is LINE:INDEX */
    uint32_t index;    /* the match's place in that line's "matches" */
    int decision;      /* REVIEW_* */
    int category;      /* 0..99, or -1 */
    char *path;        /* the file's path as the page had it, checked against the line */
    int unknown;       /* review_rewrite_line: names no match of its line (index or path) */
} review_decision;

typedef struct review_decisions {
    char scan_id[33];
    review_decision *d; /* sorted by line, then index; no id twice */
    size_t n;
} review_decisions;

/* Parses a decisions file (whole, in memory): {"vigil_review": 1, "scan_id": "...", "decisions":
 * [{"match": "LINE:INDEX", "path": "...", "decision": "confirmed" | "rejected" | "needs-review" |
 * null, "category": 0..99 | null, ...}]}; other members are ignored. 0, or -1 with why (the line
 * and column). Memory: 40 bytes and the path per decision. */
int review_decisions_parse(const char *data, size_t n, review_decisions *out, char *why, size_t whylen);
void review_decisions_free(review_decisions *d);
const char *review_decision_name(int d);

/* One results.jsonl line (without its newline) with the decisions d[0..n) of this line written
 * into its matches as "decision" and "category" (replacing those a previous apply wrote; a match
 * not in d keeps its own). *unknown counts decisions whose index is past the line's matches or
 * whose path is not the line's; those are left out. Also gives the line's vics.json category for
 * the file (*cat: >= 0 set it, -1 leave it, -2 remove it) and whether it has digests (a Media in
 * vics.json). The result is malloc'd; NULL when the line is not JSON as vigil writes it. */
char *review_rewrite_line(const char *line, size_t len, review_decision *d, size_t n, size_t *outlen, size_t *unknown,
                          int *cat, int *has_md5);
/* One vics.json Media line with its "Category" set to cat (>= 0) or removed (-2); NULL if the line
 * is not one of vigil's Media lines. */
char *review_vics_line(const char *line, size_t len, int cat, size_t *outlen);
