/* vpdq_side.h - a video or a vPDQ file as a list of videos' frames (cli/vpdq_side.c), for the
 * commands that take either (video match, index build). */
#ifndef VIGIL_VPDQ_SIDE_H
#define VIGIL_VPDQ_SIDE_H

#include "vigil.h"
#include <stddef.h>

typedef struct cli_vpdq_video {
    char *name;               /* the path, or "PATH#NAME" for a named video of a vPDQ file */
    vigil_vpdq_frame *f;
    size_t n;
} cli_vpdq_video;

typedef struct cli_vpdq_side {
    cli_vpdq_video *v;
    size_t n;
} cli_vpdq_side;

/* Whether path starts like a video container (vigil_video_sniff on its first bytes). */
int cli_is_video(const char *path);

/* path as videos: a video is hashed with opt (its frames, even when decoding stopped early, with a
 * warning), anything else is read as vPDQ text. 0, or -1 with why (naming the reason; the caller
 * names the path). */
int cli_vpdq_load(const char *path, const vigil_video_options *opt, cli_vpdq_side *out, char *why, size_t whylen);
void cli_vpdq_side_free(cli_vpdq_side *s);

#endif

/* Whether path's first line is a vPDQ line or a "# NAME" block header followed by one. */
int cli_is_vpdq(const char *path);

/* Video sets (docs/video.md): every frame of quality >= min_quality of each video in path (a video
 * or a vPDQ file), each hash once per video, becomes an index entry with the video's name as its
 * id and the labels "video_frames=N frame=F t=SECONDS", N being the video's kept frames. *added and
 * *low count entries and frames left out. 0, or -1 after naming path and the reason. */
int cli_index_add_videos(vigil_index *idx, const char *path, int min_quality, unsigned long long *added,
                         unsigned long long *low);

/* The videos of an index that a query video's frames match (through vigil_index_search, radius
 * mo->distance_max): per matched video, its id, the query % and the target % of
 * python-threatexchange's rule, the verdict, and the first matching query frame's timestamp. The
 * query's frames are filtered and deduplicated as vigil_vpdq_compare does. */
typedef struct cli_video_hit {
    const char *id;           /* the index's string, valid while the index is */
    double query_pct, target_pct, first_ts;
    int verdict, best_distance;
    uint64_t entry;           /* one entry of that video (the first hit) */
} cli_video_hit;
int cli_video_search(const vigil_index *idx, const vigil_vpdq_frame *q, size_t nq, const vigil_vpdq_match_options *mo,
                     cli_video_hit **hits, size_t *nhits, char *why, size_t whylen);
