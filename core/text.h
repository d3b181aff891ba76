/* text.h - the pieces every list reader shares: the bytes of a list as they arrive (a source that
 * reads in chunks), where a CSV/TSV record ends, its fields, strict whole numbers, and what the
 * first bytes of a text say about its encoding. Used by core/hashlist.c, core/json.c and
 * core/vics.c, and by the CLI's room-list reader (it links the static library). Nothing here
 * prints; only the source allocates (its buffer). */
#ifndef VIGIL_TEXT_H
#define VIGIL_TEXT_H

#include "vigil.h"

#include <stddef.h>
#include <stdint.h>

/* A list's bytes: in memory (read NULL: buf holds all there is and is never written), or from a
 * read callback into a buffer of our own that holds only what has not been consumed yet, so a
 * list of any length costs the longest record (or JSON token) at hand, not its size. The
 * unconsumed bytes are buf[pos..len); when the buffer is ours, buf[len] may be written (one spare
 * byte, for a terminating NUL). */
typedef struct vigil__src {
    vigil_read_fn read;
    void *ctx;
    char *buf;
    size_t pos, len, cap;
    uint64_t base;        /* the stream offset of buf[0], for offsets in messages */
    int eof;              /* nothing more will come */
    vigil_result failed;  /* VIGIL_E_IO (read returned -1) or VIGIL_E_NOMEM; then eof is set too */
} vigil__src;

#define VIGIL__SRC_CHUNK ((size_t)1 << 18) /* 256 KiB reads: large enough that read(2) costs nothing */

void vigil__src_memory(vigil__src *s, const void *data, size_t size);
void vigil__src_reader(vigil__src *s, vigil_read_fn read, void *ctx);
void vigil__src_free(vigil__src *s);
/* Reads until at least `want` bytes are unconsumed or the stream ends (or fails), dropping the
 * consumed ones first (so pointers into buf do not survive a call). Returns len - pos. */
size_t vigil__src_fill(vigil__src *s, size_t want);

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

/* A record's fields, pointing into the record; grown as needed, v freed by the caller. */
typedef struct vigil__fields { char **v; size_t n, cap; } vigil__fields;
/* Appends one field: 0, or -1 when out of memory. */
int vigil__fields_push(vigil__fields *f, char *s);
/* Splits a record (modified in place) into f with vigil__next_field. Returns 0, -1 when out of
 * memory, -2 for broken quoting (*why says how). */
int vigil__split_record(char *rec, char sep, vigil__fields *f, const char **why);

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
