/* vics.h - Project VIC VICS JSON (vics.c), read as a hash list by hashlist.c. */
#ifndef VIGIL_VICS_H
#define VIGIL_VICS_H

#include "vigil.h"

/* vics.c: Project VIC VICS JSON documents, read as hash lists (by hashlist.c). vigil__is_vics looks
 * at the first 64 KiB; vigil__vics_parse reads the document from the source's position. */
struct vigil__src;
int vigil__is_vics(const char *data, size_t size);
vigil_result vigil__vics_parse(struct vigil__src *src, vigil_list_entry_fn on_entry, vigil_list_error_fn on_error,
                               void *ctx, vigil_error *err);

#endif
