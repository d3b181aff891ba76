/* kfeat.h - private interface of kfeat.c: the local features of a hash index's known images (the
 * optional FEATURES section of a .vgi), for index.c (free, remove) and index_file.c (save, open). */
#ifndef VIGIL_KFEAT_H
#define VIGIL_KFEAT_H

#include "vigil.h"

#include <stddef.h>
#include <stdint.h>

typedef struct vigil__kfeat vigil__kfeat;

void vigil__kfeat_free(vigil__kfeat *k);
/* Marks every live reference whose id equals id as removed; returns how many. */
size_t vigil__kfeat_remove(vigil__kfeat *k, const char *id);
/* The section's bytes (malloc'd, *size 0 and *blob NULL when k holds no live reference). */
vigil_result vigil__kfeat_serialise(const vigil__kfeat *k, uint8_t **blob, uint64_t *size, vigil_error *err);
/* Checks and reads a section (VIGIL_E_CORRUPT with the reason) into a new set, prepared. The set
 * may point into p (version 2): p must stay until vigil__kfeat_own or vigil__kfeat_free. */
vigil_result vigil__kfeat_parse(const uint8_t *p, uint64_t size, vigil__kfeat **out, vigil_error *err);
/* Copies what the set still reads from the section it was parsed from (index.c, before the
 * file's bytes go). */
vigil_result vigil__kfeat_own(vigil__kfeat *k, vigil_error *err);

#endif
