/* thumbs.h - OUTDIR/thumbs.vgt, the scan's review thumbnails of matched files (cli/thumbs.c). */
#ifndef VIGIL_THUMBS_H
#define VIGIL_THUMBS_H

#include <stddef.h>
#include <stdint.h>

typedef struct thumb_slot {
    uint64_t key[2];   /* the content's XXH3-128; key[0] | key[1] == 0 marks an empty slot */
    uint64_t off;      /* where the image's bytes start */
    uint32_t len;
} thumb_slot;

typedef struct scan_thumbs {
    int fd;
    uint64_t end;      /* where the next record goes */
    uint64_t budget;   /* most bytes of images kept; 0 = none at all */
    uint64_t used;     /* image bytes kept */
    uint64_t over;     /* images left out for the budget */
    thumb_slot *tab;
    size_t cap, n;
    char path[4200];
} scan_thumbs;

/* Opens dir/thumbs.vgt for a scan: fresh starts it empty, else it is read back and a torn or
 * damaged tail cut off. 0, or -1 with why. */
int thumbs_open(scan_thumbs *t, const char *dir, int fresh, uint64_t budget, char *why, size_t whylen);
/* Opens it to read (the report): 0, or -1 when absent or unreadable (no thumbnails then). */
int thumbs_open_read(scan_thumbs *t, const char *dir);
int thumbs_has(const scan_thumbs *t, const uint8_t key[16]);
/* Appends one image for a content: 0 kept, 1 not (already there, or over the budget), -1 write error. */
int thumbs_put(scan_thumbs *t, const uint8_t key[16], const uint8_t *img, size_t n);
/* The image of a content, malloc'd; NULL when there is none or it cannot be read. */
uint8_t *thumbs_get(const scan_thumbs *t, const uint8_t key[16], size_t *n);
/* For a merge: the frames' headers only (no image read; a torn tail is where a frame does not fit
 * in the file), 0 or -1; thumbs_len the image's length (0: none); thumbs_get_checked the image,
 * NULL when there is none or its sum does not check. */
int thumbs_open_index(scan_thumbs *t, const char *dir);
uint32_t thumbs_len(const scan_thumbs *t, const uint8_t key[16]);
uint8_t *thumbs_get_checked(const scan_thumbs *t, const uint8_t key[16], size_t *n);
void thumbs_sync(scan_thumbs *t);
void thumbs_close(scan_thumbs *t);

#endif
