/* buf.h - the small containers the core builds records and files with: a growable byte buffer,
 * string tables, and label text ("k=v k=v"). Every module that writes a list, an index or a PNG
 * uses these; nothing here calls another core file, prints or exits. Allocation failure is -1
 * (UINT32_MAX for an offset). */
#ifndef VIGIL_BUF_H
#define VIGIL_BUF_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer; zero-initialised is empty. data NULL appends n zero bytes. */
typedef struct vigil__buf { uint8_t *p; size_t n, cap; } vigil__buf;
int vigil__buf_put(vigil__buf *b, const void *data, size_t n);

/* String tables: NUL-terminated strings one after another, addressed by 32-bit offsets (the
 * STRINGS sections of .vgi and .vgr). Both return the offset of s, or UINT32_MAX when out of
 * memory or when the table would pass 4 GiB. */
/* Appends s (NULL as "") and its NUL. */
uint32_t vigil__strtab_append(vigil__buf *b, const char *s);
/* The same, except that NULL or "" is offset 0, which holds a NUL (written first when the table
 * is empty): index entries use 0 for "no id" and "no labels". */
uint32_t vigil__strtab_put(vigil__buf *b, const char *s);

/* Labels are one string of space-separated key=value words, so that every value stays one word:
 * whitespace inside a value (space, tab, CR, LF) is written as '_'. */
/* Appends key=value (a space first when b already holds a label); len bytes of value, lower-cased
 * when lower is set; nothing when len is 0. key NULL: value is label text already, appended as
 * it is. b holds no NUL: the caller ends the text. */
int vigil__label_put(vigil__buf *b, const char *key, const char *value, size_t len, int lower);
/* The value of the first word "key=..." in labels (NULL: none); 1 and *value, *len (not
 * NUL-terminated: it ends at the next space) when found, else 0. */
int vigil__label_find(const char *labels, const char *key, const char **value, size_t *len);

#endif
