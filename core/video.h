/* video.h - what core/video.c shares with the rest of core/; never installed. */
#ifndef VIGIL_VIDEO_H
#define VIGIL_VIDEO_H

#include "internal.h"

/* The demuxers vigil lets FFmpeg use, as FFmpeg names them. Plain containers only: playlists
 * (hls, dash), concat, image sequences and anything that opens a second file or URL are out. */
#define VIGIL__VIDEO_DEMUXERS "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts,mpeg,asf,ogg"

#define VIGIL__VIDEO_MAX_PIXELS (1ull << 25)
#define VIGIL__VIDEO_MAX_STREAMS 64
#define VIGIL__VIDEO_MAX_DURATION 86400.0
#define VIGIL__VIDEO_MAX_DECODED (1ull << 40)

#endif
