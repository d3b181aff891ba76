/* report_page.h - report.html, the review page (cli/report_page.c). */
#ifndef VIGIL_REPORT_PAGE_H
#define VIGIL_REPORT_PAGE_H

#include "scan.h"

typedef struct report_page_stats {
    unsigned long long matches, thumbs, thumb_bytes, text_rows;
} report_page_stats;

/* Writes the page to f from the journal (one more pass) and OUTDIR/thumbs.vgt; o->files,
 * o->matched and o->failed already filled. 0, or -1 (journal unreadable, out of memory). */
int report_page_write(FILE *f, scan_journal *j, const scan_report_opts *o, const char *scan_id, report_page_stats *st);

/* The page in pieces, for a merge that makes its data per part (cli/scan_merge.c): head (up to
 * the records), entries, mid (the end of the data), thumbnail blocks with the script after the
 * first REPORT_PAGE_PRE_THUMBS of them (or after the last), tail. report_page_write is these. */
#define REPORT_PAGE_PRE_THUMBS 500
int report_page_pre_thumbs(void); /* REPORT_PAGE_PRE_THUMBS, or fewer for a test */
void report_page_head(FILE *f, const scan_report_opts *o, const char *scan_id);
/* One matched record: sep ("" for the first, else ","), its line in results.jsonl, ref the entry
 * whose thumbnail it shows + 1 (0: none). */
void report_page_entry(FILE *f, const char *sep, uint64_t line, uint64_t ref, const jrecord *r);
void report_page_mid(FILE *f, int thumbs);
void report_page_thumb(FILE *f, uint64_t entry, const uint8_t *img, size_t n);
void report_page_script(FILE *f);
void report_page_tail(FILE *f);

#endif
