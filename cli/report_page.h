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

#endif
