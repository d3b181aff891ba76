/* serve.h - the pieces of `vigil serve` (cmd_serve.c): request parsing (serve_parse.c), banks with
 * their add logs and snapshots (serve_bank.c), the API handlers (serve_api.c), metrics
 * (serve_metrics.c) and the HTTP layer on libmicrohttpd (serve_http.c). Only serve_http.c and
 * cmd_serve.c see libmicrohttpd; the parsers are plain C so that the fuzz target links them alone. */
#ifndef VIGIL_SERVE_H
#define VIGIL_SERVE_H

#include "vigil.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* ---- serve_parse.c: untrusted request text --------------------------------------------------- */

/* Decodes %XX and '+' of a query-string component src[0..n) into dst (at least n+1 bytes), NUL
 * terminated; -1 for a bad escape or an encoded NUL. */
int srv_url_decode(const char *src, size_t n, char *dst);
/* The value of key in a query string "a=1&b=2" (decoded into out, cap bytes): 1 found, 0 absent,
 * -1 malformed or too long. */
int srv_query_get(const char *query, const char *key, char *out, size_t cap);

/* The boundary of a "multipart/form-data; boundary=..." Content-Type into out (at most 70 bytes,
 * RFC 2046): 0, or -1 when it is not multipart or the boundary is missing or bad. */
int srv_multipart_boundary(const char *content_type, char *out, size_t cap);
/* Finds the part whose Content-Disposition name is `field` in body[0..n): 1 with *data and *len the
 * part's bytes, 0 when no such part, -1 when the body is not well-formed multipart (why says how). */
int srv_multipart_find(const char *body, size_t n, const char *boundary, const char *field, const char **data,
                       size_t *len, const char **why);

/* A small JSON tree for request bodies: depth <= 16, at most 1 M values, strings unescaped to
 * UTF-8 (\u0000 refused). One allocation per value; free with srv_json_free. */
typedef enum { SJ_NULL, SJ_BOOL, SJ_NUM, SJ_STR, SJ_ARR, SJ_OBJ } srv_json_type;
typedef struct srv_json {
    srv_json_type type;
    int b;
    double num;
    char *str;               /* SJ_STR; for a member of an object, key is its name */
    char *key;
    struct srv_json *child;  /* SJ_ARR / SJ_OBJ: first element */
    struct srv_json *next;
    size_t n;                /* elements */
} srv_json;
/* NULL with why on any syntax error or limit. */
srv_json *srv_json_parse(const char *text, size_t n, const char **why);
void srv_json_free(srv_json *j);
const srv_json *srv_json_get(const srv_json *obj, const char *key);

/* Appends a JSON string literal of s (escaped; bytes that are not UTF-8 become U+FFFD). */
typedef struct srv_buf {
    char *p;
    size_t n, cap;
    int oom;
} srv_buf;
void srv_buf_add(srv_buf *b, const void *s, size_t n);
void srv_buf_str(srv_buf *b, const char *s);
void srv_buf_fmt(srv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void srv_buf_json_str(srv_buf *b, const char *s);
/* "ID" as HMA writes a bank_content_id: a JSON number when s is a decimal integer of at most 18
 * digits without leading zeros, else a JSON string. */
void srv_buf_json_id(srv_buf *b, const char *s);

/* Constant-time equality of two byte strings (time depends on the lengths only). */
int srv_token_equal(const char *a, size_t an, const char *b, size_t bn);

/* ---- serve_bank.c: a bank = an index file + its add log + an in-memory delta ---------------- */

/* What searches see: the index as read from the file, plus the entries added since (delta, its own
 * small index) and the ids deleted since (a set). Reference-counted: a request holds one from
 * start to end, a reload swaps in a new one and the old one is freed by its last holder. */
typedef struct srv_snap srv_snap;
typedef struct srv_bank srv_bank;

typedef struct srv_match {
    const char *id;     /* valid while the snapshot is held */
    int distance;
    int transform;
    int delta;          /* from the delta (added since the file was written) */
} srv_match;

/* Opens the index at path and replays PATH.log; NULL with why. */
srv_bank *srv_bank_open(const char *path, char *why, size_t whylen);
void srv_bank_free(srv_bank *b);
const char *srv_bank_name(const srv_bank *b);
const char *srv_bank_path(const srv_bank *b);
srv_snap *srv_bank_acquire(srv_bank *b);
void srv_snap_release(srv_snap *s);
/* entries live (base + delta - deleted), entries in the file, in the delta */
void srv_snap_sizes(srv_snap *s, uint64_t *live, uint64_t *base, uint64_t *delta, uint64_t *digests);
const char *srv_snap_content_id(srv_snap *s);
/* Searches nq queries (variants 1 or 8 hashes each) within radius; calls fn per match (query order,
 * then distance). 0, or -1 with why. */
typedef void (*srv_match_fn)(size_t q, const srv_match *m, void *ctx);
int srv_snap_search(srv_snap *s, const vigil_pdq *q, size_t nq, int variants, int radius, srv_match_fn fn, void *ctx,
                    char *why, size_t whylen);
/* Digest lookups (md5 or sha1 may be NULL): calls fn per live matching entry (distance 0). */
void srv_snap_digest(srv_snap *s, const uint8_t *md5, const uint8_t *sha1, size_t q, srv_match_fn fn, void *ctx);

/* Adds a hash (labels may be NULL): appended to the log and fsync'd, then in the delta, before it
 * returns; *id gets the new bank_content_id (decimal). 0, or -1 with why. */
int srv_bank_add(srv_bank *b, const vigil_pdq *h, int quality, const char *labels, char id[32], char *why,
                 size_t whylen);
/* Deletes every entry with this id (logged first); *n how many were live. */
int srv_bank_delete(srv_bank *b, const char *id, uint64_t *n, char *why, size_t whylen);
/* Re-reads the index file when it was replaced (or always when force): a new snapshot with the log
 * applied on top. 1 reloaded, 0 unchanged, -1 failed (the old snapshot stays; why says why). */
int srv_bank_reload(srv_bank *b, int force, char *why, size_t whylen);
/* Writes base + log into the index file (atomic), then empties the log. 0, or -1 with why. */
int srv_bank_compact(srv_bank *b, char *why, size_t whylen);
uint64_t srv_bank_log_records(srv_bank *b);
uint64_t srv_bank_reloads(srv_bank *b);

/* ---- serve_rooms.c: the room index, reloadable ---------------------------------------------- */

/* As a bank's snapshot: a request holds one from start to end; a reload swaps in a new one and
 * the old one is freed by its last holder. */
typedef struct srv_rooms srv_rooms;
typedef struct srv_rsnap srv_rsnap;
/* Reads the .vgr at path; NULL with why. */
srv_rooms *srv_rooms_open(const char *path, char *why, size_t whylen);
void srv_rooms_free(srv_rooms *x);
const char *srv_rooms_path(const srv_rooms *x);
uint64_t srv_rooms_reloads(srv_rooms *x);
srv_rsnap *srv_rooms_acquire(srv_rooms *x);
const vigil_rooms *srv_rsnap_rooms(const srv_rsnap *s);
void srv_rsnap_release(srv_rsnap *s);
/* Re-reads the file when it was replaced (or always when force). 1 reloaded, 0 unchanged, -1
 * failed (the old version stays; why says why). */
int srv_rooms_reload(srv_rooms *x, int force, char *why, size_t whylen);

/* ---- serve_metrics.c ------------------------------------------------------------------------- */

enum { SRV_EP_STATUS, SRV_EP_LOOKUP_GET, SRV_EP_LOOKUP_POST, SRV_EP_HASH, SRV_EP_COMPARE, SRV_EP_INDEX_STATUS,
       SRV_EP_BANKS, SRV_EP_BANK, SRV_EP_ADD_SIGNAL, SRV_EP_ADD_CONTENT, SRV_EP_DELETE, SRV_EP_BATCH, SRV_EP_ROOMS,
       SRV_EP_METRICS, SRV_EP_OTHER, SRV_EP_COUNT };
const char *srv_endpoint_name(int ep);
void srv_metrics_record(int ep, int code, double seconds);
void srv_metrics_reload(int ok);
/* Requests between their first line and their end (+1 or -1). */
void srv_metrics_inflight(int delta);
/* Prometheus text exposition of the counters; bank sizes are added by the caller. */
void srv_metrics_write(srv_buf *b);

/* ---- serve_api.c: the handlers ---------------------------------------------------------------- */

typedef struct srv_config {
    srv_bank **banks;
    int nbanks;
    srv_rooms *rooms;            /* NULL without --rooms */
    int radius;                  /* default match radius (31) */
    uint64_t max_pixels;
    char *token, *curation_token; /* NULL = none */
    size_t token_len, curation_token_len;
    volatile int ready;
} srv_config;

typedef struct srv_request {
    const char *method, *path, *query; /* query: after '?', "" when none */
    const char *content_type;
    const char *authorization;
    const char *body;
    size_t body_len;
} srv_request;

typedef struct srv_response {
    int code;
    const char *content_type;
    srv_buf body;
    int endpoint;
} srv_response;

/* Answers one request (never fails: errors are {"message":...} with their code). */
void srv_handle(srv_config *cfg, const srv_request *rq, srv_response *rs);
/* Which endpoint a method + path is (for the metrics of requests refused before srv_handle). */
int srv_route_endpoint(const char *method, const char *path);

#endif
