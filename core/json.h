/* json.h - the one JSON reader of the list readers: JSON Lines objects (core/hashlist.c) and VICS
 * documents (core/vics.c). A pull tokenizer over a vigil__src: the caller asks for the next token
 * and the reader checks the grammar, so the callers only say what they want where. Bytes arrive in
 * chunks and a token may be split anywhere, so a document of gigabytes is read with memory for the
 * nesting (at most VIGIL__JSON_MAX_DEPTH) and the token at hand only; a value skipped with
 * vigil__json_skip costs nothing, whatever strings it holds.
 *
 * Strings are decoded to UTF-8: \uXXXX escapes and surrogate pairs are joined. A lone surrogate,
 * which UTF-8 cannot hold, is an error, or with VIGIL__JSON_LONE_FFFD becomes U+FFFD: JSON Lines
 * lists take that, because they come from scripts and Python's json.dumps writes a file name it
 * could not decode as lone surrogates (\udcXX), and the reference is worth keeping under a name
 * with U+FFFD; a VICS export is one document from one tool, where a lone surrogate means damage and
 * is refused as any other damage is. Bytes that are not escapes pass through as they are. Numbers follow RFC 8259's grammar exactly (no NaN, Infinity, hex or leading '+').
 * Errors (a bad escape, a raw control character in a string, a missing ',') end the reading and
 * say where: line and column (in bytes, from 1) of the offending byte. Used by one thread at a
 * time; nothing is global. */
#ifndef VIGIL_JSON_H
#define VIGIL_JSON_H

#include "buf.h"
#include "internal.h"
#include "text.h"

typedef enum vigil__jtok {
    VIGIL__J_ERROR = -1, /* see why, eline, ecol and failed */
    VIGIL__J_END = 0,    /* the document is complete and only whitespace follows */
    VIGIL__J_OBJECT,
    VIGIL__J_OBJECT_END,
    VIGIL__J_ARRAY,
    VIGIL__J_ARRAY_END,
    VIGIL__J_KEY,        /* a member name (its ':' consumed); the value comes next */
    VIGIL__J_STRING,
    VIGIL__J_NUMBER,
    VIGIL__J_TRUE,
    VIGIL__J_FALSE,
    VIGIL__J_NULL
} vigil__jtok;

#define VIGIL__JSON_MAX_DEPTH 64

typedef struct vigil__json {
    vigil__src *src;
    /* The last KEY or STRING decoded, or NUMBER/TRUE/FALSE/NULL as written: text.p[0..len), then a
     * NUL (a decoded \u0000 may come earlier). Valid until the next call. */
    vigil__buf text;
    size_t len;
    uint64_t line, col;             /* where the last token began */
    vigil_result failed;            /* after VIGIL__J_ERROR: VIGIL_E_PARSE, _NOMEM or _IO */
    char why[96];
    uint64_t eline, ecol;           /* where the error is */
    uint64_t line_no, line_start;   /* the line being read, and the stream offset it began at */
    int depth, expect;
    unsigned flags;
    unsigned char in_array[VIGIL__JSON_MAX_DEPTH];
} vigil__json;

#define VIGIL__JSON_LONE_FFFD 1u

/* Starts a document at the source's current position, which is line 1, column 1. */
void vigil__json_init(vigil__json *j, vigil__src *src, unsigned flags);
void vigil__json_free(vigil__json *j);
vigil__jtok vigil__json_next(vigil__json *j);
/* Reads the next value whole without keeping it (after a KEY, or in an array): 0, or -1 on error. */
int vigil__json_skip(vigil__json *j);
/* The caller's own complaint about the last token ("expected an array"): ends the reading as a
 * grammar error would, at that token's line and column. Returns -1. */
int vigil__json_fail(vigil__json *j, const char *why);

#endif
