/* sections.h - the container of .vgi and .vgr files (sections.c): header, section table,
 * checksummed sections, read into memory at open, written atomically. */
#ifndef VIGIL_SECTIONS_H
#define VIGIL_SECTIONS_H

#include "internal.h"

/* sections.c: the container of .vgi and .vgr files (header, section table, checksummed sections). */
#define VIGIL__MAX_SECTIONS 16
typedef struct vigil__part { uint32_t type; const void *p; uint64_t n; } vigil__part;
/* The file a handle was opened from, to tell later whether it changed (vigil_index_source_state). */
typedef struct vigil__source {
    char *path;              /* NULL: no file */
    int fd;                  /* the file as opened, kept so that a write in place is told from a replacement */
    uint64_t dev, ino, size, nlink, mode, uid, gid;
    int64_t mtime_ns, ctime_ns;
    uint8_t content_id[16];  /* XXH3-128 of header + section table: every section's size and checksum */
} vigil__source;
vigil_source_state vigil__source_state(const vigil__source *s, vigil_error *why);
vigil_result vigil__source_content_id(const vigil__source *s, char out[33]);
void vigil__source_close(vigil__source *s);

typedef struct vigil__mapped {
    uint8_t *map;            /* the file's bytes, read into memory (sections.c says why not mmap) */
    uint64_t size;
    const uint8_t *part[VIGIL__MAX_SECTIONS + 1]; /* by section type; NULL when absent */
    uint64_t len[VIGIL__MAX_SECTIONS + 1];
    vigil__source src;
} vigil__mapped;
/* Writes atomically: temporary file, fsync, rename, fsync of the folder. */
vigil_result vigil__sections_write(const char *path, const char magic[8], uint32_t version, const vigil__part *parts,
                                   int n, vigil_error *err);
/* Reads the file into memory (opt->threads reading it in 4 MiB pieces; opt NULL: one) and
 * checks header, sizes and every checksum; section types must be 1..ntypes-1. `what` names the
 * kind of file in messages ("index", "room index"). m->src keeps the file's identity;
 * vigil__sections_unmap frees both. */
vigil_result vigil__sections_map(const char *path, const char magic[8], uint32_t version, const char *what,
                                 int ntypes, const vigil_open_options *opt, vigil__mapped *m, vigil_error *err);
void vigil__sections_unmap(vigil__mapped *m);

#endif
