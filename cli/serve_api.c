/* serve_api.c - the endpoints of `vigil serve`: Hasher-Matcher-Actioner's paths, parameters and
 * JSON shapes (docs/serve.md lists every one and every difference), and vigil's own batch and
 * room endpoints. Each handler gets a whole request (serve_http.c has gathered and bounded the
 * body) and fills a response; none can fail without an answer. Nothing here logs a body. */
#include "cli.h"
#include "serve.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_BATCH 10000
#define MAX_RADIUS 64 /* past 31 every query scans the whole index: bounded so one request cannot take a core for long */

static void fail(srv_response *rs, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(srv_response *rs, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rs->code = code;
    rs->content_type = "application/json";
    rs->body.n = 0;
    if (rs->body.p) rs->body.p[0] = 0;
    srv_buf_str(&rs->body, "{\"message\":");
    srv_buf_json_str(&rs->body, msg);
    srv_buf_str(&rs->body, "}\n");
}

static void ok_json(srv_response *rs)
{
    rs->code = 200;
    rs->content_type = "application/json";
}

static srv_bank *find_bank(srv_config *cfg, const char *name, size_t n)
{
    for (int i = 0; i < cfg->nbanks; i++) {
        const char *b = srv_bank_name(cfg->banks[i]);
        if (strlen(b) == n && !memcmp(b, name, n)) return cfg->banks[i];
    }
    return NULL;
}

/* ---- matching -------------------------------------------------------------------------------- */

typedef struct collect {
    srv_buf *b;
    int first, with_transform;
    size_t count;
} collect;

static void on_match(size_t q, const srv_match *m, void *ctx)
{
    (void)q;
    collect *c = ctx;
    srv_buf_str(c->b, c->first ? "" : ",");
    c->first = 0;
    srv_buf_str(c->b, "{\"bank_content_id\":");
    srv_buf_json_id(c->b, m->id);
    srv_buf_fmt(c->b, ",\"distance\":\"%d\"", m->distance);
    if (c->with_transform) srv_buf_fmt(c->b, ",\"transform\":\"%s\"", vigil_transform_name((vigil_transform)m->transform));
    srv_buf_str(c->b, "}");
    c->count++;
}

/* Whether bank name is in the comma-separated list (NULL = every bank). */
static int wanted(const char *list, const char *name)
{
    if (!list) return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        if (l == n && !memcmp(p, name, n)) return 1;
        p += l;
        if (*p == ',') p++;
    }
    return 0;
}

/* {"BANK":[{"bank_content_id":..,"distance":".."}],...} for one query: hashes (variants of them),
 * or a digest. Banks without a match are left out, as HMA does. */
static int lookup_json(srv_config *cfg, const vigil_pdq *h, int variants, const uint8_t *md5, const uint8_t *sha1,
                       int radius, const char *banks, int with_transform, srv_buf *out, char *why, size_t whylen)
{
    srv_buf_str(out, "{");
    int firstbank = 1;
    for (int i = 0; i < cfg->nbanks; i++) {
        srv_bank *bk = cfg->banks[i];
        if (!wanted(banks, srv_bank_name(bk))) continue;
        srv_buf one = {0};
        collect c = {&one, 1, with_transform, 0};
        srv_snap *s = srv_bank_acquire(bk);
        int rc = 0;
        if (h) rc = srv_snap_search(s, h, 1, variants, radius, on_match, &c, why, whylen);
        else srv_snap_digest(s, md5, sha1, 0, on_match, &c);
        srv_snap_release(s);
        if (rc) { free(one.p); return -1; }
        if (c.count) {
            srv_buf_str(out, firstbank ? "" : ",");
            firstbank = 0;
            srv_buf_json_str(out, srv_bank_name(bk));
            srv_buf_str(out, ":[");
            if (one.p) srv_buf_add(out, one.p, one.n);
            srv_buf_str(out, "]");
        }
        free(one.p);
        if (one.oom) { snprintf(why, whylen, "out of memory"); return -1; }
    }
    srv_buf_str(out, "}");
    return 0;
}

/* ---- uploads --------------------------------------------------------------------------------- */

/* The `photo` part of a multipart body, hashed. 0, or -1 after filling rs. */
static int hash_upload(srv_config *cfg, const srv_request *rq, srv_response *rs, int dihedral, vigil_hash_result *res,
                       const char **data, size_t *len)
{
    char boundary[80];
    if (srv_multipart_boundary(rq->content_type, boundary, sizeof boundary)) {
        fail(rs, 400, "expected a multipart/form-data upload with a boundary (field 'photo')");
        return -1;
    }
    const char *why = NULL;
    int r = srv_multipart_find(rq->body, rq->body_len, boundary, "photo", data, len, &why);
    if (r < 0) { fail(rs, 400, "broken multipart body: %s", why); return -1; }
    if (r == 0) {
        const char *d2;
        size_t l2;
        if (srv_multipart_find(rq->body, rq->body_len, boundary, "video", &d2, &l2, &why) == 1)
            fail(rs, 400, "content type 'video' is not supported by this server; upload a 'photo'");
        else
            fail(rs, 400, "no 'photo' field in the upload");
        return -1;
    }
    vigil_hash_options o;
    vigil_hash_options_init(&o);
    o.max_pixels = cfg->max_pixels;
    if (dihedral) o.flags |= VIGIL_HASH_DIHEDRAL;
    vigil_error err;
    vigil_result rc = vigil_hash_memory(*data, *len, &o, res, &err);
    if (rc == VIGIL_E_TOO_LARGE) { fail(rs, 422, "photo refused before decoding: %s", err.message); return -1; }
    if (rc == VIGIL_E_NOMEM) { fail(rs, 503, "out of memory hashing the photo"); return -1; }
    if (rc) { fail(rs, 400, "photo cannot be hashed (%s): %s", vigil_result_name(rc), err.message); return -1; }
    return 0;
}

static void hex_of(const uint8_t *b, size_t n, char *out) { vigil_hex(b, n, out); }

/* ---- handlers -------------------------------------------------------------------------------- */

static int parse_radius(const srv_request *rq, srv_config *cfg, srv_response *rs, int *radius)
{
    char v[16];
    int r = srv_query_get(rq->query, "radius", v, sizeof v);
    *radius = cfg->radius;
    if (r == 0) return 0;
    long long x;
    if (r < 0 || cli_strict_int(v, 0, MAX_RADIUS, &x)) { fail(rs, 400, "radius must be a whole number 0-%d", MAX_RADIUS); return -1; }
    *radius = (int)x;
    return 0;
}

static void h_lookup_get(srv_config *cfg, const srv_request *rq, srv_response *rs)
{
    char url[8], st[32], sig[130], banks[4096], why[256];
    if (srv_query_get(rq->query, "url", url, sizeof url) != 0) {
        fail(rs, 501, "lookup by url is not supported: vigil serve makes no outbound requests; POST the photo to /m/lookup instead");
        return;
    }
    int a = srv_query_get(rq->query, "signal_type", st, sizeof st), b = srv_query_get(rq->query, "signal", sig, sizeof sig);
    if (a <= 0 || b <= 0) { fail(rs, 400, "Either url or both signal and signal_type are required"); return; }
    int hb = srv_query_get(rq->query, "banks", banks, sizeof banks);
    if (hb < 0) { fail(rs, 400, "bad banks parameter"); return; }
    int radius;
    if (parse_radius(rq, cfg, rs, &radius)) return;
    vigil_pdq h;
    uint8_t dig[20];
    int isdig = 0;
    if (!strcmp(st, "pdq")) {
        if (vigil_pdq_from_hex(sig, strlen(sig), &h)) { fail(rs, 400, "invalid signal type: a pdq signal is 64 hex digits"); return; }
    } else if (!strcmp(st, "md5") || !strcmp(st, "sha1")) {
        size_t want = st[0] == 'm' ? 32 : 40;
        if (strlen(sig) != want || strspn(sig, "0123456789abcdefABCDEF") != want) {
            fail(rs, 400, "invalid signal type: a %s signal is %zu hex digits", st, want);
            return;
        }
        for (size_t i = 0; i < want / 2; i++) sscanf(sig + 2 * i, "%2hhx", &dig[i]);
        isdig = st[0] == 'm' ? 1 : 2;
    } else {
        fail(rs, 400, "No such SignalType '%s' (this server knows pdq, md5 and sha1)", st);
        return;
    }
    if (lookup_json(cfg, isdig ? NULL : &h, 1, isdig == 1 ? dig : NULL, isdig == 2 ? dig : NULL, radius,
                    hb ? banks : NULL, 0, &rs->body, why, sizeof why)) {
        fail(rs, 500, "%s", why);
        return;
    }
    srv_buf_str(&rs->body, "\n");
    ok_json(rs);
}

static void h_lookup_post(srv_config *cfg, const srv_request *rq, srv_response *rs)
{
    char banks[4096], why[256];
    int hb = srv_query_get(rq->query, "banks", banks, sizeof banks);
    if (hb < 0) { fail(rs, 400, "bad banks parameter"); return; }
    int radius;
    if (parse_radius(rq, cfg, rs, &radius)) return;
    vigil_hash_result res;
    const char *d;
    size_t n;
    if (hash_upload(cfg, rq, rs, 0, &res, &d, &n)) return;
    srv_buf_str(&rs->body, "{\"pdq\":");
    if (lookup_json(cfg, &res.pdq, 1, NULL, NULL, radius, hb ? banks : NULL, 0, &rs->body, why, sizeof why)) {
        fail(rs, 500, "%s", why);
        return;
    }
    srv_buf_str(&rs->body, "}\n");
    ok_json(rs);
}

static void h_hash(srv_config *cfg, const srv_request *rq, srv_response *rs)
{
    if (!strcmp(rq->method, "GET")) {
        fail(rs, 501, "hashing by url is not supported: vigil serve makes no outbound requests; POST the photo (multipart field 'photo')");
        return;
    }
    vigil_hash_result res;
    const char *d;
    size_t n;
    if (hash_upload(cfg, rq, rs, 0, &res, &d, &n)) return;
    char hex[65], md5[33], sha1[41];
    vigil_pdq_to_hex(&res.pdq, hex);
    hex_of(res.md5, 16, md5);
    hex_of(res.sha1, 20, sha1);
    srv_buf_fmt(&rs->body, "{\"pdq\":\"%s\",\"quality\":%d,\"md5\":\"%s\",\"sha1\":\"%s\",\"width\":%u,\"height\":%u}\n", hex,
                res.quality, md5, sha1, res.width, res.height);
    ok_json(rs);
}

static srv_json *json_body(const srv_request *rq, srv_response *rs)
{
    const char *why;
    srv_json *j = srv_json_parse(rq->body ? rq->body : "", rq->body_len, &why);
    if (!j) fail(rs, 400, "request body is not JSON: %s", why);
    else if (j->type != SJ_OBJ) { fail(rs, 400, "request body must be a JSON object"); srv_json_free(j); j = NULL; }
    return j;
}

static void h_compare(srv_config *cfg, const srv_request *rq, srv_response *rs)
{
    srv_json *j = json_body(rq, rs);
    if (!j) return;
    srv_buf_str(&rs->body, "{");
    for (const srv_json *c = j->child; c; c = c->next) {
        if (strcmp(c->key, "pdq")) { fail(rs, 400, "No such SignalType '%s'", c->key); srv_json_free(j); return; }
        if (c->type != SJ_ARR || c->n != 2 || c->child->type != SJ_STR || c->child->next->type != SJ_STR) {
            fail(rs, 400, "Comparison hashes for pdq must be a list of exactly 2 strings");
            srv_json_free(j);
            return;
        }
        vigil_pdq a, b;
        if (vigil_pdq_from_hex(c->child->str, strlen(c->child->str), &a) ||
            vigil_pdq_from_hex(c->child->next->str, strlen(c->child->next->str), &b)) {
            fail(rs, 400, "Invalid pdq hash: 64 hex digits expected");
            srv_json_free(j);
            return;
        }
        int d = vigil_pdq_distance(&a, &b);
        srv_buf_fmt(&rs->body, "%s\"pdq\":[%s,{\"distance\":%d}]", c == j->child ? "" : ",", d <= cfg->radius ? "true" : "false", d);
    }
    srv_json_free(j);
    srv_buf_str(&rs->body, "}\n");
    ok_json(rs);
}

static void h_index_status(srv_config *cfg, const srv_request *rq, srv_response *rs)
{
    char st[32];
    int r = srv_query_get(rq->query, "signal_type", st, sizeof st);
    if (r < 0 || (r > 0 && strcmp(st, "pdq"))) { fail(rs, 400, "No such signal type '%s'", r > 0 ? st : "?"); return; }
    uint64_t total = 0;
    for (int i = 0; i < cfg->nbanks; i++) {
        srv_snap *s = srv_bank_acquire(cfg->banks[i]);
        uint64_t live, dig;
        srv_snap_sizes(s, &live, NULL, NULL, &dig);
        srv_snap_release(s);
        total += live + dig;
    }
    srv_buf_fmt(&rs->body, "{\"pdq\":{\"present\":%s,\"built_to\":%lld,\"size\":%llu}}\n", cfg->ready ? "true" : "false",
                cfg->ready ? (long long)time(NULL) : -1LL, (unsigned long long)total);
    ok_json(rs);
}

static void bank_json(srv_bank *b, srv_buf *o)
{
    srv_snap *s = srv_bank_acquire(b);
    uint64_t live, base, delta, dig;
    srv_snap_sizes(s, &live, &base, &delta, &dig);
    srv_buf_str(o, "{\"name\":");
    srv_buf_json_str(o, srv_bank_name(b));
    srv_buf_fmt(o, ",\"matching_enabled_ratio\":1.0,\"size\":%llu,\"in_file\":%llu,\"added\":%llu,\"digests\":%llu,\"content_id\":\"%s\",\"file\":",
                (unsigned long long)live, (unsigned long long)base, (unsigned long long)delta, (unsigned long long)dig,
                srv_snap_content_id(s));
    srv_buf_json_str(o, srv_bank_path(b));
    srv_buf_str(o, "}");
    srv_snap_release(s);
}

static void h_banks(srv_config *cfg, srv_response *rs)
{
    srv_buf_str(&rs->body, "[");
    for (int i = 0; i < cfg->nbanks; i++) {
        if (i) srv_buf_str(&rs->body, ",");
        bank_json(cfg->banks[i], &rs->body);
    }
    srv_buf_str(&rs->body, "]\n");
    ok_json(rs);
}

static void added(srv_response *rs, const char *id, const vigil_pdq *h)
{
    char hex[65];
    vigil_pdq_to_hex(h, hex);
    srv_buf_str(&rs->body, "{\"id\":");
    srv_buf_json_id(&rs->body, id);
    srv_buf_fmt(&rs->body, ",\"signals\":{\"pdq\":\"%s\"}}\n", hex);
    ok_json(rs);
}

/* "note=..." as an index label: one word (spaces become _), at most 1 KiB */
static int note_label(const char *note, char *out, size_t cap, srv_response *rs)
{
    size_t n = strlen(note);
    if (n > 1024) { fail(rs, 400, "note over 1024 bytes"); return -1; }
    if (n + 6 > cap) { fail(rs, 400, "note too long"); return -1; }
    memcpy(out, "note=", 5);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)note[i];
        out[5 + i] = c <= 0x20 || c == 0x7f ? '_' : (char)c;
    }
    out[5 + n] = 0;
    return 0;
}

static void h_add_signal(srv_config *cfg, srv_bank *b, const srv_request *rq, srv_response *rs)
{
    (void)cfg;
    srv_json *j = json_body(rq, rs);
    if (!j) return;
    const srv_json *pdq = NULL, *note = NULL;
    for (const srv_json *c = j->child; c; c = c->next) {
        if (!strcmp(c->key, "pdq")) pdq = c;
        else if (!strcmp(c->key, "note")) note = c;
        else { fail(rs, 400, "No such signal type %s", c->key); srv_json_free(j); return; }
    }
    vigil_pdq h;
    char label[1100], id[32], why[256];
    if (!pdq) { fail(rs, 400, "No signals given"); srv_json_free(j); return; }
    if (pdq->type != SJ_STR || vigil_pdq_from_hex(pdq->str, strlen(pdq->str), &h)) {
        fail(rs, 400, "Invalid pdq signal: 64 hex digits expected");
        srv_json_free(j);
        return;
    }
    if (note && note->type != SJ_STR) { fail(rs, 400, "note must be a string"); srv_json_free(j); return; }
    if (note && note_label(note->str, label, sizeof label, rs)) { srv_json_free(j); return; }
    srv_json_free(j);
    if (srv_bank_add(b, &h, -1, note ? label : NULL, id, why, sizeof why)) { fail(rs, 503, "%s", why); return; }
    added(rs, id, &h);
}

static void h_add_content(srv_config *cfg, srv_bank *b, const srv_request *rq, srv_response *rs)
{
    char url[8], note[1100], label[1100], id[32], why[256];
    if (srv_query_get(rq->query, "url", url, sizeof url) != 0) {
        fail(rs, 501, "adding by url is not supported: vigil serve makes no outbound requests; upload the photo");
        return;
    }
    int hn = srv_query_get(rq->query, "note", note, sizeof note);
    if (hn < 0) { fail(rs, 400, "bad note parameter"); return; }
    if (hn && note_label(note, label, sizeof label, rs)) return;
    vigil_hash_result res;
    const char *d;
    size_t n;
    if (hash_upload(cfg, rq, rs, 0, &res, &d, &n)) return;
    if (srv_bank_add(b, &res.pdq, res.quality, hn ? label : NULL, id, why, sizeof why)) { fail(rs, 503, "%s", why); return; }
    added(rs, id, &res.pdq);
}

static void h_delete(srv_bank *b, const char *id, srv_response *rs)
{
    char dec[64], why[256];
    if (strlen(id) >= sizeof dec || srv_url_decode(id, strlen(id), dec)) { fail(rs, 400, "bad content id"); return; }
    uint64_t n = 0;
    if (srv_bank_delete(b, dec, &n, why, sizeof why)) { fail(rs, strstr(why, "bad") ? 400 : 503, "%s", why); return; }
    srv_buf_fmt(&rs->body, "{\"deleted\":%llu}\n", (unsigned long long)n);
    ok_json(rs);
}

typedef struct batch_state { srv_buf *per; int *firstb; const char *bank; size_t open; } batch_state;

static void batch_cb(size_t qi, const srv_match *m, void *ctx)
{
    batch_state *st = ctx;
    srv_buf *b = &st->per[qi];
    if (st->open != qi) {
        if (st->open != (size_t)-1) srv_buf_str(&st->per[st->open], "]");
        srv_buf_str(b, st->firstb[qi] ? "" : ",");
        st->firstb[qi] = 0;
        srv_buf_json_str(b, st->bank);
        srv_buf_str(b, ":[");
        st->open = qi;
    } else srv_buf_str(b, ",");
    srv_buf_str(b, "{\"bank_content_id\":");
    srv_buf_json_id(b, m->id);
    srv_buf_fmt(b, ",\"distance\":\"%d\",\"transform\":\"%s\"}", m->distance, vigil_transform_name((vigil_transform)m->transform));
}

/* POST /v/lookup/batch {"signals":[HEX | [8 HEX]...], "md5":[...], "sha1":[...], "radius":N,
 * "dihedral":bool, "banks":["A",...]} -> {"pdq":[{BANK:[...]}...], "md5":[...], "sha1":[...]} */
static void h_batch(srv_config *cfg, const srv_request *rq, srv_response *rs)
{
    srv_json *j = json_body(rq, rs);
    if (!j) return;
    const srv_json *sig = srv_json_get(j, "signals"), *md5 = srv_json_get(j, "md5"), *sha1 = srv_json_get(j, "sha1"),
                   *rad = srv_json_get(j, "radius"), *dih = srv_json_get(j, "dihedral"), *banks = srv_json_get(j, "banks");
    for (const srv_json *c = j->child; c; c = c->next)
        if (strcmp(c->key, "signals") && strcmp(c->key, "md5") && strcmp(c->key, "sha1") && strcmp(c->key, "radius") &&
            strcmp(c->key, "dihedral") && strcmp(c->key, "banks")) {
            fail(rs, 400, "unknown field '%s' (signals, md5, sha1, radius, dihedral, banks)", c->key);
            goto out;
        }
    int radius = cfg->radius, variants = dih && dih->type == SJ_BOOL && dih->b ? 8 : 1;
    if (dih && dih->type != SJ_BOOL) { fail(rs, 400, "dihedral must be true or false"); goto out; }
    if (rad) {
        if (rad->type != SJ_NUM || rad->num < 0 || rad->num > MAX_RADIUS || rad->num != (int)rad->num) {
            fail(rs, 400, "radius must be a whole number 0-%d", MAX_RADIUS);
            goto out;
        }
        radius = (int)rad->num;
    }
    const srv_json *lists[3] = {sig, md5, sha1};
    size_t total = 0;
    for (int k = 0; k < 3; k++) {
        if (lists[k] && lists[k]->type != SJ_ARR) { fail(rs, 400, "%s must be a list", k == 0 ? "signals" : k == 1 ? "md5" : "sha1"); goto out; }
        total += lists[k] ? lists[k]->n : 0;
    }
    if (total > MAX_BATCH) { fail(rs, 413, "over %d queries in one batch", MAX_BATCH); goto out; }
    char bl[4096];
    size_t bn = 0;
    if (banks) {
        if (banks->type != SJ_ARR) { fail(rs, 400, "banks must be a list of names"); goto out; }
        for (const srv_json *c = banks->child; c; c = c->next) {
            size_t l = c->type == SJ_STR ? strlen(c->str) : 0;
            if (!l || strchr(c->str, ',') || bn + l + 2 > sizeof bl) { fail(rs, 400, "bad bank name in banks"); goto out; }
            if (bn) bl[bn++] = ',';
            memcpy(bl + bn, c->str, l);
            bn += l;
        }
        bl[bn] = 0;
    }
    /* parse every query before searching any, so a bad one costs no search */
    size_t nq = sig ? sig->n : 0;
    vigil_pdq *q = malloc((nq ? nq : 1) * (size_t)variants * sizeof *q);
    if (!q) { fail(rs, 503, "out of memory"); goto out; }
    size_t i = 0;
    for (const srv_json *c = sig ? sig->child : NULL; c; c = c->next, i++) {
        if (variants == 1) {
            if (c->type != SJ_STR || vigil_pdq_from_hex(c->str, strlen(c->str), &q[i])) {
                fail(rs, 400, "signals[%zu]: a pdq signal is 64 hex digits", i);
                free(q);
                goto out;
            }
        } else {
            if (c->type != SJ_ARR || c->n != 8) {
                fail(rs, 400, "signals[%zu]: with dihedral, each signal is a list of its 8 dihedral hashes", i);
                free(q);
                goto out;
            }
            int k = 0;
            for (const srv_json *v = c->child; v; v = v->next, k++)
                if (v->type != SJ_STR || vigil_pdq_from_hex(v->str, strlen(v->str), &q[i * 8 + (size_t)k])) {
                    fail(rs, 400, "signals[%zu][%d]: a pdq signal is 64 hex digits", i, k);
                    free(q);
                    goto out;
                }
        }
    }
    /* the whole batch per bank in one search call: the library's batched kernel (256 queries
     * against a cache-resident block) is what makes a batch cheaper than single lookups */
    srv_buf *per = calloc(nq ? nq : 1, sizeof *per);
    int *firstb = calloc(nq ? nq : 1, sizeof *firstb);
    char why[256];
    if (!per || !firstb) { free(q); free(per); free(firstb); fail(rs, 503, "out of memory"); goto out; }
    for (size_t x = 0; x < nq; x++) { srv_buf_str(&per[x], "{"); firstb[x] = 1; }
    int err = 0;
    for (int bi = 0; bi < cfg->nbanks && nq && !err; bi++) {
        srv_bank *bk = cfg->banks[bi];
        if (!wanted(banks ? bl : NULL, srv_bank_name(bk))) continue;
        /* matches arrive in query order: a query's array for this bank opens at its first match */
        srv_snap *s = srv_bank_acquire(bk);
        batch_state st = {per, firstb, srv_bank_name(bk), (size_t)-1};
        if (srv_snap_search(s, q, nq, variants, radius, batch_cb, &st, why, sizeof why)) err = 1;
        if (st.open != (size_t)-1) srv_buf_str(&per[st.open], "]");
        srv_snap_release(s);
    }
    free(q);
    if (err) { for (size_t x = 0; x < nq; x++) free(per[x].p); free(per); free(firstb); fail(rs, 500, "%s", why); goto out; }
    srv_buf_str(&rs->body, "{\"pdq\":[");
    for (size_t x = 0; x < nq; x++) {
        srv_buf_str(&per[x], "}");
        if (x) srv_buf_str(&rs->body, ",");
        if (per[x].p) srv_buf_add(&rs->body, per[x].p, per[x].n);
        free(per[x].p);
    }
    free(per);
    free(firstb);
    srv_buf_str(&rs->body, "]");
    for (int k = 1; k < 3; k++) {
        if (!lists[k]) continue;
        srv_buf_fmt(&rs->body, ",\"%s\":[", k == 1 ? "md5" : "sha1");
        size_t want = k == 1 ? 32 : 40, x = 0;
        for (const srv_json *c = lists[k]->child; c; c = c->next, x++) {
            uint8_t dig[20];
            if (c->type != SJ_STR || strlen(c->str) != want || strspn(c->str, "0123456789abcdefABCDEF") != want) {
                fail(rs, 400, "%s[%zu]: %zu hex digits expected", k == 1 ? "md5" : "sha1", x, want);
                goto out;
            }
            for (size_t y = 0; y < want / 2; y++) sscanf(c->str + 2 * y, "%2hhx", &dig[y]);
            if (x) srv_buf_str(&rs->body, ",");
            if (lookup_json(cfg, NULL, 1, k == 1 ? dig : NULL, k == 2 ? dig : NULL, 0, banks ? bl : NULL, 0, &rs->body, why,
                            sizeof why)) {
                fail(rs, 500, "%s", why);
                goto out;
            }
        }
        srv_buf_str(&rs->body, "]");
    }
    srv_buf_str(&rs->body, "}\n");
    ok_json(rs);
out:
    srv_json_free(j);
}

/* POST /v/rooms?mask=X,Y,W,H;X,Y,W,H[&top=K] with a multipart `photo`: the known rooms it was taken in */
static void h_rooms(srv_config *cfg, const srv_request *rq, srv_response *rs)
{
    if (!cfg->rooms) { fail(rs, 404, "no room index loaded (start with --rooms FILE.vgr)"); return; }
    char masks[2048], top[16];
    int hm = srv_query_get(rq->query, "mask", masks, sizeof masks);
    if (hm < 0) { fail(rs, 400, "bad mask parameter"); return; }
    vigil_rect rect[32];
    size_t nr = 0;
    for (char *p = hm ? masks : NULL, *save = NULL, *t = p ? strtok_r(p, ";", &save) : NULL; t;
         t = strtok_r(NULL, ";", &save)) {
        if (nr == 32) { fail(rs, 400, "at most 32 mask rectangles"); return; }
        if (cli_strict_rect(t, &rect[nr])) { fail(rs, 400, "bad mask rectangle '%s': X,Y,W,H in pixels, W and H above 0", t); return; }
        nr++;
    }
    long long k = 5;
    int ht = srv_query_get(rq->query, "top", top, sizeof top);
    if (ht < 0 || (ht && cli_strict_int(top, 1, 100, &k))) { fail(rs, 400, "top must be a whole number 1-100"); return; }
    char boundary[80];
    const char *why = NULL, *d;
    size_t n;
    if (srv_multipart_boundary(rq->content_type, boundary, sizeof boundary)) { fail(rs, 400, "expected a multipart/form-data upload (field 'photo')"); return; }
    int r = srv_multipart_find(rq->body, rq->body_len, boundary, "photo", &d, &n, &why);
    if (r < 0) { fail(rs, 400, "broken multipart body: %s", why); return; }
    if (r == 0) { fail(rs, 400, "no 'photo' field in the upload"); return; }
    vigil_features_options fo;
    vigil_features_options_init(&fo);
    fo.mask = rect;
    fo.nmask = nr;
    vigil_features f;
    vigil_error err;
    vigil_result rc = vigil_features_memory(d, n, &fo, &f, &err);
    if (rc == VIGIL_E_TOO_LARGE) { fail(rs, 422, "photo refused before decoding: %s", err.message); return; }
    if (rc) { fail(rs, 400, "photo cannot be read (%s): %s", vigil_result_name(rc), err.message); return; }
    vigil_rooms_query_options qo;
    vigil_rooms_query_options_init(&qo);
    qo.top_k = (uint32_t)k;
    vigil_rooms_match m[100];
    size_t nm = 0;
    /* the version this query started with is held until its names are written out: a reload
     * meanwhile swaps in the next one for the requests that follow */
    srv_rsnap *snap = srv_rooms_acquire(cfg->rooms);
    rc = vigil_rooms_query(srv_rsnap_rooms(snap), &f, &qo, m, &nm, &err);
    vigil_features_free(&f);
    if (rc) { srv_rsnap_release(snap); fail(rs, 500, "%s", err.message); return; }
    srv_buf_str(&rs->body, "{\"rooms\":[");
    for (size_t i = 0; i < nm; i++) {
        srv_buf_str(&rs->body, i ? ",{\"name\":" : "{\"name\":");
        srv_buf_json_str(&rs->body, m[i].name ? m[i].name : "");
        srv_buf_str(&rs->body, ",\"labels\":");
        srv_buf_json_str(&rs->body, m[i].labels ? m[i].labels : "");
        srv_buf_fmt(&rs->body, ",\"inliers\":%u,\"votes\":%u}", m[i].inliers, m[i].votes);
    }
    srv_buf_str(&rs->body, "]}\n");
    srv_rsnap_release(snap);
    ok_json(rs);
}

static void h_metrics(srv_config *cfg, srv_response *rs)
{
    srv_metrics_write(&rs->body);
    srv_buf_str(&rs->body, "# HELP vigil_bank_entries Live entries of a bank, by where they are.\n"
                           "# TYPE vigil_bank_entries gauge\n");
    for (int i = 0; i < cfg->nbanks; i++) {
        srv_snap *s = srv_bank_acquire(cfg->banks[i]);
        uint64_t live, base, delta, dig;
        srv_snap_sizes(s, &live, &base, &delta, &dig);
        srv_snap_release(s);
        const char *n = srv_bank_name(cfg->banks[i]);
        srv_buf_fmt(&rs->body, "vigil_bank_entries{bank=\"%s\",part=\"file\"} %llu\n", n, (unsigned long long)base);
        srv_buf_fmt(&rs->body, "vigil_bank_entries{bank=\"%s\",part=\"added\"} %llu\n", n, (unsigned long long)delta);
        srv_buf_fmt(&rs->body, "vigil_bank_entries{bank=\"%s\",part=\"digests\"} %llu\n", n, (unsigned long long)dig);
        srv_buf_fmt(&rs->body, "vigil_bank_log_records{bank=\"%s\"} %llu\n", n,
                    (unsigned long long)srv_bank_log_records(cfg->banks[i]));
    }
    if (cfg->rooms) {
        srv_rsnap *s = srv_rooms_acquire(cfg->rooms);
        vigil_rooms_stats st;
        char cid[33];
        vigil_rooms_get_stats(srv_rsnap_rooms(s), &st);
        if (vigil_rooms_content_id(srv_rsnap_rooms(s), cid)) cid[0] = 0;
        srv_rsnap_release(s);
        srv_buf_fmt(&rs->body,
                    "# HELP vigil_rooms_images Reference images of the room index, with its content id.\n"
                    "# TYPE vigil_rooms_images gauge\nvigil_rooms_images{content_id=\"%s\"} %llu\n"
                    "# HELP vigil_rooms_reloads_total Times the room index file was read again.\n"
                    "# TYPE vigil_rooms_reloads_total counter\nvigil_rooms_reloads_total %llu\n",
                    cid, (unsigned long long)st.images, (unsigned long long)srv_rooms_reloads(cfg->rooms));
    }
    rs->code = 200;
    rs->content_type = "text/plain; version=0.0.4";
}

/* ---- routing --------------------------------------------------------------------------------- */

int srv_route_endpoint(const char *method, const char *path)
{
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    if (!strcmp(path, "/status") || !strcmp(path, "/status/live")) return SRV_EP_STATUS;
    if (!strcmp(path, "/m/lookup")) return post ? SRV_EP_LOOKUP_POST : SRV_EP_LOOKUP_GET;
    if (!strcmp(path, "/h/hash")) return SRV_EP_HASH;
    if (!strcmp(path, "/m/compare")) return SRV_EP_COMPARE;
    if (!strcmp(path, "/m/index/status")) return SRV_EP_INDEX_STATUS;
    if (!strcmp(path, "/c/banks")) return SRV_EP_BANKS;
    if (!strcmp(path, "/v/lookup/batch")) return SRV_EP_BATCH;
    if (!strcmp(path, "/v/rooms")) return SRV_EP_ROOMS;
    if (!strcmp(path, "/metrics")) return SRV_EP_METRICS;
    if (!strncmp(path, "/c/bank/", 8)) {
        const char *rest = strchr(path + 8, '/');
        if (!rest) return SRV_EP_BANK;
        if (!strcmp(rest, "/signal")) return SRV_EP_ADD_SIGNAL;
        if (!strcmp(rest, "/content")) return SRV_EP_ADD_CONTENT;
        if (!strncmp(rest, "/content/", 9)) return SRV_EP_DELETE;
    }
    (void)get;
    return SRV_EP_OTHER;
}

static int method_ok(int ep, const char *m)
{
    int get = !strcmp(m, "GET") || !strcmp(m, "HEAD"), post = !strcmp(m, "POST");
    switch (ep) {
    case SRV_EP_LOOKUP_GET: return get;
    case SRV_EP_LOOKUP_POST: return post;
    case SRV_EP_HASH: return get || post;
    case SRV_EP_COMPARE: case SRV_EP_ADD_SIGNAL: case SRV_EP_ADD_CONTENT: case SRV_EP_BATCH: case SRV_EP_ROOMS: return post;
    case SRV_EP_DELETE: return !strcmp(m, "DELETE");
    default: return get;
    }
}

static int bearer_ok(const char *auth, const char *tok, size_t toklen)
{
    if (!auth || strncasecmp(auth, "Bearer ", 7)) return 0;
    const char *t = auth + 7;
    while (*t == ' ') t++;
    return srv_token_equal(t, strlen(t), tok, toklen);
}

void srv_handle(srv_config *cfg, const srv_request *rq, srv_response *rs)
{
    int ep = srv_route_endpoint(rq->method, rq->path);
    rs->endpoint = ep;
    rs->content_type = "application/json";
    if (ep == SRV_EP_OTHER) { fail(rs, 404, "no such endpoint: %s", rq->path); return; }
    if (!method_ok(ep, rq->method)) { fail(rs, 405, "method %s not allowed on %s", rq->method, rq->path); return; }
    if (cfg->token && !bearer_ok(rq->authorization, cfg->token, cfg->token_len)) {
        fail(rs, 401, "missing or wrong bearer token (Authorization: Bearer ...)");
        return;
    }
    int curation = ep == SRV_EP_ADD_SIGNAL || ep == SRV_EP_ADD_CONTENT || ep == SRV_EP_DELETE;
    if (curation) {
        if (!cfg->token && !cfg->curation_token) {
            fail(rs, 403, "changing banks is off: start vigil serve with --curation-token-file or --token-file");
            return;
        }
        if (cfg->curation_token && !bearer_ok(rq->authorization, cfg->curation_token, cfg->curation_token_len) &&
            !(cfg->token && bearer_ok(rq->authorization, cfg->token, cfg->token_len) && !cfg->curation_token)) {
            fail(rs, 401, "missing or wrong curation bearer token (Authorization: Bearer ...)");
            return;
        }
    }
    if (ep == SRV_EP_STATUS) {
        int live = !strcmp(rq->path, "/status/live");
        rs->content_type = "text/plain";
        if (!live && !cfg->ready) { rs->code = 503; srv_buf_str(&rs->body, "INDEX-NOT-LOADED\n"); return; }
        rs->code = 200;
        srv_buf_str(&rs->body, "I-AM-ALIVE\n");
        return;
    }
    if (ep == SRV_EP_METRICS) { h_metrics(cfg, rs); return; }
    if (!cfg->ready && ep != SRV_EP_HASH && ep != SRV_EP_COMPARE) { fail(rs, 503, "index not yet ready"); return; }
    switch (ep) {
    case SRV_EP_LOOKUP_GET: h_lookup_get(cfg, rq, rs); return;
    case SRV_EP_LOOKUP_POST: h_lookup_post(cfg, rq, rs); return;
    case SRV_EP_HASH: h_hash(cfg, rq, rs); return;
    case SRV_EP_COMPARE: h_compare(cfg, rq, rs); return;
    case SRV_EP_INDEX_STATUS: h_index_status(cfg, rq, rs); return;
    case SRV_EP_BANKS: h_banks(cfg, rs); return;
    case SRV_EP_BATCH: h_batch(cfg, rq, rs); return;
    case SRV_EP_ROOMS: h_rooms(cfg, rq, rs); return;
    default: break;
    }
    /* /c/bank/NAME[/...] */
    const char *name = rq->path + 8, *slash = strchr(name, '/');
    size_t nl = slash ? (size_t)(slash - name) : strlen(name);
    char dec[128];
    if (nl >= sizeof dec || srv_url_decode(name, nl, dec)) { fail(rs, 400, "bad bank name"); return; }
    srv_bank *b = find_bank(cfg, dec, strlen(dec));
    if (!b) { fail(rs, 404, "bank '%s' not found", dec); return; }
    switch (ep) {
    case SRV_EP_BANK: bank_json(b, &rs->body); srv_buf_str(&rs->body, "\n"); ok_json(rs); return;
    case SRV_EP_ADD_SIGNAL: h_add_signal(cfg, b, rq, rs); return;
    case SRV_EP_ADD_CONTENT: h_add_content(cfg, b, rq, rs); return;
    case SRV_EP_DELETE: h_delete(b, slash + 9, rs); return;
    default: fail(rs, 404, "no such endpoint: %s", rq->path); return;
    }
}
