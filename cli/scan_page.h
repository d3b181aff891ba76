/* scan_page.h - the review page's data and thumbnails of one part of a range merge
 * (cli/scan_page.c), so that rank 0 only joins parts, as for results.jsonl and vics.json. */
#ifndef VIGIL_SCAN_PAGE_H
#define VIGIL_SCAN_PAGE_H

#include "scan.h"
#include "thumbs.h"
#include "report_page.h"

/* One content of the part's matched records, at its first record in the part. */
typedef struct page_slot {
    uint8_t key[16];
    uint64_t entry;   /* its first record's entry in the part (0-based) */
    uint64_t ref;     /* ext: the global entry + 1 whose thumbnail it shows (0: none) */
    uint32_t len;     /* the thumbnail's length (0: none found) */
    int32_t in;       /* the input its first record came from; then the one holding the thumbnail */
    uint8_t ext;      /* its first copy is in an earlier part (the record is "duplicate") */
    uint8_t kept;     /* its thumbnail is within the budget (decided in walk order) */
} page_slot;

typedef struct page_part {
    uint64_t records;       /* lines of the part */
    uint64_t *off, *line;   /* per matched record: where it is in the part's journal, its line */
    size_t n, cap;
    page_slot *s;           /* contents in the order of their first records */
    size_t sn, scap;
    uint32_t *idx;          /* open addressing over s: index + 1, 0 empty */
    size_t icap;
    uint64_t line_base, entry_base; /* lines and entries of the parts before */
    uint64_t blocks, ends[REPORT_PAGE_PRE_THUMBS]; /* written: thumbnail blocks, the ends of the first ones */
} page_part;

/* Each record as the merge appends it (its final flags) at offset at of the part's journal, taken
 * from input in: 0, or -1 out of memory. */
int page_part_note(page_part *pp, const jfix *fx, int in, uint64_t at);
/* The thumbnails of the contents first seen in this part: their lengths, from the inputs'
 * thumbs.vgt (beside each input journal; headers only, opened as needed into th[0..nin)). */
void page_part_find(page_part *pp, scan_journal *in, int nin, scan_thumbs *th, signed char *open);
/* The budget, in walk order: *used holds the parts' before, and this part's after. */
void page_part_budget(page_part *pp, uint64_t *used, uint64_t budget);
/* dir/page-records (the data's entries), dir/page-thumbs (the blocks) and dir/thumbs.vgt (the kept
 * images) from the part's journal j; line_base, entry_base and the ext refs set. 0 or -1 (why). */
int page_part_write(page_part *pp, scan_journal *j, const char *dir, int thumbs, scan_thumbs *th, char *why, size_t whylen);
void page_part_free(page_part *pp);

#endif
