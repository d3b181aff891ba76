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
