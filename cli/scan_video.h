/* scan_video.h - videos in `vigil scan` (cli/scan_video.c): a file that is not an image but is a
 * video is hashed at 1 s (vPDQ, exact), its frames are matched against the image sets (a photo shown
 * in the video: kind "pdq" with the timestamp of the first matching frame) and the video sets (kind
 * "video" with python-threatexchange's percentages). One video is one journal record. */
#ifndef VIGIL_SCAN_VIDEO_H
#define VIGIL_SCAN_VIDEO_H

#include "scan.h"

typedef struct scan_video scan_video;

/* Whether path's content is a video container (its first bytes). */
int scan_video_is(const char *path);

/* Hashes the video at path (1 s, with the dihedral hashes when dihedral). NULL only when out of
 * memory; otherwise *rc/err say how decoding went (frames that decoded are kept either way). */
scan_video *scan_video_hash(const char *path, int dihedral, vigil_result *rc, vigil_error *err);
/* The same from a video in memory (an archive member's bytes, never written to disk). */
scan_video *scan_video_hash_memory(const void *data, size_t size, int dihedral, vigil_result *rc, vigil_error *err);
void scan_video_free(scan_video *v);

/* Appends the video's matches against every set to *m (grown with realloc; *nm, *cap): image
 * entries as MATCH_PDQ, video-set entries as MATCH_VIDEO (one per known video whose query % or
 * target % reaches 80). *total counts them. 0, or -1 (out of memory / search failed, why set). */
int scan_video_match(scan_video *v, const scan_set *sets, int nsets, int min_quality, int dihedral, int threads,
                     jmatch **m, size_t *nm, size_t *cap, uint64_t *total, char *why, size_t whylen);

/* The record's video fields: "media":"video","duration":..,"frames":..,"fps":.., and the fields
 * width, height and format take for an image. */
void scan_video_record_json(FILE *f, const scan_video *v);
/* The extra fields of one match ("timestamp", "timestamps", and for MATCH_VIDEO the percentages). */
void scan_video_match_json(FILE *f, const scan_video *v, const jmatch *m);
/* The PDQ the record carries: the first frame that matched, else the first frame of quality;
 * *quality -1 when no frame was hashed. */
void scan_video_pdq(const scan_video *v, vigil_pdq *pdq, int *quality, uint32_t *w, uint32_t *h);

/* report.c's thumbnail of a video record: the frame whose PDQ the record carries, as PNG with the
 * longer side <= max_side. 0, or -1 with why. */
int scan_video_thumb(const char *path, const vigil_pdq *pdq, int max_side, uint8_t **png, size_t *n, char *why,
                     size_t whylen);
int scan_video_thumb_memory(const void *data, size_t size, const vigil_pdq *pdq, int max_side, uint8_t **png, size_t *n,
                            char *why, size_t whylen);

#endif
