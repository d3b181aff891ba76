/* member_facts.h - what an archive's own headers say of its members, where libarchive does not
 * hand it out (rar_headers.c, sevenz_headers.c walk the headers; archive.c looks members up by
 * name): one list type, one way to fill it and one way to find a member in it. */
#ifndef VIGIL_MEMBER_FACTS_H
#define VIGIL_MEMBER_FACTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct vigil__fact {
    size_t name_at;      /* into the list's names (NUL-terminated) */
    uint32_t name_len;
    uint32_t crc32;
    uint64_t size;       /* unpacked, as the header says */
    uint8_t has_crc;     /* crc32 is the plain CRC-32 of the data (RAR 5 with tweaked checksums: not) */
    uint8_t encrypted;
    uint8_t dir;         /* no data: a directory (7z: or an empty file) */
} vigil__fact;

typedef struct vigil__facts {
    vigil__fact *f;
    size_t n;
    char *names;
    int locked;          /* the headers themselves are encrypted: nothing listed */
    int version;         /* rar: 4 or 5; 0: no RAR signature. 7z: 0 */
    size_t cap, names_len, names_cap;
    size_t cursor;       /* where vigil__facts_find looks first */
} vigil__facts;

/* Reads n bytes at off into buf: the count read (short at the end), or -1. */
typedef long (*vigil__pread_fn)(void *ctx, uint64_t off, uint8_t *buf, size_t n);

/* Appends a member; -1 out of memory. Memory: 40 bytes and the name per member. */
int vigil__facts_add(vigil__facts *l, const void *name, size_t nl, uint64_t size, uint32_t crc, int has_crc,
                     int encrypted, int dir);

/* The member named name, or NULL. Headers come in the order libarchive lists the members, so the
 * search starts after the last one found: one step a member in the usual case. */
const vigil__fact *vigil__facts_find(vigil__facts *l, const char *name);

void vigil__facts_free(vigil__facts *l);

#endif
