/* text.h - the pieces every list reader shares: where a CSV/TSV record ends, its fields, strict
 * whole numbers, and what the first bytes of a text say about its encoding. Used by core/hashlist.c
 * and core/vics.c, and by the CLI's room-list reader (it links the static library). Nothing here
 * allocates or prints. */
#ifndef VIGIL_TEXT_H
#define VIGIL_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* The end of the record that starts at p: the '\n' that ends it, or end. For CSV (sep ',') a
 * newline inside a quoted field (RFC 4180) does not end the record; *newlines counts those, so
 * that the caller's line numbers stay right, and *open is set when the text ends inside quotes.
 * TSV (any other sep) has no quoting: the record is the line. */
char *vigil__record_end(char *p, const char *end, char sep, uint64_t *newlines, int *open);

/* Cuts the next field out of a record (NUL-terminated, modified in place): *field is set and *ps
 * moves past the separator. Returns 1 when another field follows, 0 when this was the last, -1 for
 * a field whose quoting is broken (*why says how). For CSV a field that begins with '"' runs to the
 * next lone '"', "" standing for one quote; spaces may follow the closing quote, nothing else. */
int vigil__next_field(char **ps, char sep, char **field, const char **why);

/* A whole number written as decimal digits only (no sign, space, or other text) and at most max.
 * Returns 0 and sets *out, or -1. */
int vigil__parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Text that is not UTF-8 or ASCII by its first bytes: a UTF-16 or UTF-32 byte-order mark, or
 * UTF-16 without one (a NUL in every other byte). Returns a message naming the encoding and how
 * to convert it, or NULL. */
const char *vigil__foreign_encoding(const void *data, size_t size);

/* The length of a UTF-8 byte-order mark at the start (3), or 0. */
size_t vigil__utf8_bom(const void *data, size_t size);

#endif
