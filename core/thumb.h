/* thumb.h - the review thumbnail taken from the grid hashing already decoded (core/thumb.c). */
#ifndef VIGIL_THUMB_H
#define VIGIL_THUMB_H

#include "internal.h"

/* Fills *t with a thumbnail of px, the grid the PDQ step hashes (W x H the stored size, which
 * gives the aspect the 512x512 grid of a large image lost), longer side at most `side`, turned by
 * EXIF orientation o (1..8; the grid is not). Leaves *t empty when out of memory: a thumbnail is
 * never a reason for a hash to fail. */
void vigil__thumb_from_grid(const vigil__pixels *px, uint32_t W, uint32_t H, int side, int o, vigil_thumb *t);

#endif
