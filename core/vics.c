/* vics.c - reads Project VIC's VICS JSON (the OData documents Griffeye, IPED and the Project VIC
 * hash sets use) as a reference list.
 *
 * VICS 2.0 is {"@odata.context": ".../2.0.xml/...$metadata#Media", "value": [Media, ...]}; VICS
 * 1.x wraps the same Media objects in Cases: "value": [{"Media": [...]}, ...]. Both are read. Per
 * Media: MD5, SHA1, MediaSize, Category, MediaID, and AlternativeHashes [{HashName, HashValue}],
 * where a "PDQ" entry is the perceptual hash. Unknown members are skipped whatever they hold.
 *
 * The JSON is core/json.c's pull reader, on the list's stream: one Media is held at a time, so an
 * export of gigabytes costs the entries it yields and nothing more. Every malformed byte ends the
 * parse with its line and column (the entries before it are kept). MediaSize and Category, numbers
 * in VICS, must be whole numbers: a Media whose are not is reported and left out. */
#include "json.h"
#include "vics.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef vigil__buf buf;

/* Out of memory in a copy of ours: ends the reading as the reader's own would. */
static int oom(vigil__json *j)
{
    vigil__json_fail(j, "out of memory");
    j->failed = VIGIL_E_NOMEM;
    return -1;
}

/* A string or scalar value as text into out (NUL-terminated; null gives ""). */
static int text(vigil__json *j, buf *out)
{
    vigil__jtok t = vigil__json_next(j);
    if (t == VIGIL__J_ERROR) return -1;
    if (t < VIGIL__J_STRING) return vigil__json_fail(j, "expected a string or number");
    out->n = 0;
    if (t != VIGIL__J_NULL && vigil__buf_put(out, j->text.p, j->len)) return oom(j);
    return vigil__buf_put(out, "", 1) ? oom(j) : 0;
}

/* ------------------------------------------------------------------------------------------------ */

enum { F_MD5, F_SHA1, F_SIZE, F_CATEGORY, F_ID, F_PDQ, F_HNAME, F_HVAL, F_COUNT };
typedef struct media {
    buf f[F_COUNT];
    uint64_t line; /* where its '{' is */
} media;

static void media_clear(media *m, int release)
{
    for (int i = 0; i < F_COUNT; i++) {
        if (release) { free(m->f[i].p); m->f[i] = (buf){0}; }
        else m->f[i].n = 0;
    }
}

typedef struct vctx {
    vigil__json *j;
    vigil_list_entry_fn on_entry;
    vigil_list_error_fn on_error;
    void *ctx;
    int stop;
    media m;
    buf labels;
    uint64_t media_count;
} vctx;

/* Reads the members of an object whose '{' has been read: member(v, key) is called for each with
 * the reader before its value, which it must consume (it compares the key first: reading the value
 * overwrites it). */
static int members(vctx *v, int (*member)(vctx *v, const char *key))
{
    for (;;) {
        vigil__jtok t = vigil__json_next(v->j);
        if (t == VIGIL__J_OBJECT_END) return 0;
        if (t != VIGIL__J_KEY || member(v, (const char *)v->j->text.p)) return -1;
    }
}

/* After a member name: null (0, *is_null set), the '[' of an array (0), or an error (-1). */
static int array_or_null(vigil__json *j, int *is_null)
{
    vigil__jtok t = vigil__json_next(j);
    *is_null = t == VIGIL__J_NULL;
    if (t == VIGIL__J_ERROR) return -1;
    return t == VIGIL__J_ARRAY || t == VIGIL__J_NULL ? 0 : vigil__json_fail(j, "expected an array");
}

static int alt_member(vctx *v, const char *key)
{
    media *m = &v->m;
    if (!strcasecmp(key, "HashName")) return text(v->j, &m->f[F_HNAME]);
    if (!strcasecmp(key, "HashValue")) return text(v->j, &m->f[F_HVAL]);
    return vigil__json_skip(v->j);
}

static int alternative_hashes(vctx *v)
{
    media *m = &v->m;
    int null;
    if (array_or_null(v->j, &null) || null) return null ? 0 : -1;
    for (;;) {
        vigil__jtok t = vigil__json_next(v->j);
        if (t == VIGIL__J_ARRAY_END) return 0;
        if (t == VIGIL__J_ERROR) return -1;
        if (t != VIGIL__J_OBJECT) return vigil__json_fail(v->j, "expected an object");
        m->f[F_HNAME].n = m->f[F_HVAL].n = 0;
        if (members(v, alt_member)) return -1;
        if (m->f[F_HNAME].n && m->f[F_HVAL].n && !strcasecmp((const char *)m->f[F_HNAME].p, "PDQ")) {
            m->f[F_PDQ].n = 0;
            if (vigil__buf_put(&m->f[F_PDQ], m->f[F_HVAL].p, m->f[F_HVAL].n)) return oom(v->j);
        }
    }
}

static int media_array(vctx *v);

static int media_member(vctx *v, const char *key)
{
    media *m = &v->m;
    vigil__json *j = v->j;
    if (!strcasecmp(key, "MD5")) return text(j, &m->f[F_MD5]);
    if (!strcasecmp(key, "SHA1")) return text(j, &m->f[F_SHA1]);
    if (!strcasecmp(key, "MediaSize")) return text(j, &m->f[F_SIZE]);
    if (!strcasecmp(key, "Category")) return text(j, &m->f[F_CATEGORY]);
    if (!strcasecmp(key, "MediaID")) return text(j, &m->f[F_ID]);
    if (!strcasecmp(key, "AlternativeHashes")) return alternative_hashes(v);
    if (!strcasecmp(key, "Media")) { /* VICS 1.x: a Case holding Media */
        int null;
        if (array_or_null(j, &null) || null) return null ? 0 : -1;
        media saved = *m;
        *m = (media){0};
        int r = media_array(v);
        media_clear(m, 1);
        *m = saved;
        return r;
    }
    return vigil__json_skip(j);
}

static int digest_of(const buf *b, uint8_t *out, size_t n)
{
    return vigil__unhex((const char *)b->p, b->n - 1, out, n); /* b holds the text and its NUL */
}

static void label(vctx *v, const char *k, const buf *val, int lower)
{
    if (val->n > 1) vigil__label_put(&v->labels, k, (const char *)val->p, val->n - 1, lower); /* val: text + NUL */
}

static void report(vctx *v, const char *why)
{
    if (v->stop || !v->on_error) return;
    char msg[200];
    snprintf(msg, sizeof msg, "VICS media #%llu: %s", (unsigned long long)v->media_count, why);
    if (v->on_error(v->m.line, msg, v->ctx)) v->stop = 1;
}

static void report_value(vctx *v, const char *field, const buf *val, const char *want)
{
    char why[120];
    snprintf(why, sizeof why, "%s '%.40s' is not %s", field, (const char *)val->p, want);
    report(v, why);
}

/* One Case or Media, its '{' read. */
static int case_or_media(vctx *v)
{
    media *m = &v->m;
    media_clear(m, 0);
    m->line = v->j->line;
    v->media_count++;
    if (members(v, media_member)) return -1;
    if (v->stop) return -1;
    if (!m->f[F_MD5].n && !m->f[F_SHA1].n && !m->f[F_PDQ].n) return 0; /* a Case (VICS 1.x) or an empty Media */
    vigil_list_entry e = {.quality = -1, .line = m->line};
    uint8_t md5[16], sha1[20];
    int has_md5 = m->f[F_MD5].n > 1, has_sha1 = m->f[F_SHA1].n > 1;
    if (has_md5 && digest_of(&m->f[F_MD5], md5, 16)) { report(v, "MD5 is not 32 hex digits"); return 0; }
    if (has_sha1 && digest_of(&m->f[F_SHA1], sha1, 20)) { report(v, "SHA1 is not 40 hex digits"); return 0; }
    uint64_t num;
    if (m->f[F_SIZE].n > 1 && vigil__parse_u64((const char *)m->f[F_SIZE].p, UINT64_MAX, &num)) {
        report_value(v, "MediaSize", &m->f[F_SIZE], "a whole number of bytes");
        return 0;
    }
    if (m->f[F_CATEGORY].n > 1 && vigil__parse_u64((const char *)m->f[F_CATEGORY].p, 99, &num)) {
        report_value(v, "Category", &m->f[F_CATEGORY], "a whole number from 0 to 99");
        return 0;
    }
    if (m->f[F_PDQ].n) {
        if (vigil_pdq_from_hex((const char *)m->f[F_PDQ].p, m->f[F_PDQ].n - 1, &e.hash)) { report(v, "the PDQ alternative hash is not 64 hex digits"); return 0; }
        e.has_pdq = 1;
    } else if (!has_md5 && !has_sha1) {
        report(v, "no MD5, SHA1 or PDQ");
        return 0;
    }
    v->labels.n = 0;
    label(v, "category", &m->f[F_CATEGORY], 0);
    if (e.has_pdq) { label(v, "md5", &m->f[F_MD5], 1); label(v, "sha1", &m->f[F_SHA1], 1); }
    label(v, "size", &m->f[F_SIZE], 0);
    label(v, "vics_id", &m->f[F_ID], 0);
    if (vigil__buf_put(&v->labels, "", 1)) return oom(v->j);
    e.labels = v->labels.n > 1 ? (const char *)v->labels.p : NULL;
    /* the id a match reports: the file's MD5 (what VICS tools key on), else its SHA-1 */
    char idhex[41];
    if (has_md5) vigil_hex(md5, 16, idhex);
    else if (has_sha1) vigil_hex(sha1, 20, idhex);
    e.id = has_md5 || has_sha1 ? idhex : NULL;
    if (!e.has_pdq) {
        e.md5 = has_md5 ? md5 : NULL;
        e.sha1 = has_sha1 ? sha1 : NULL;
    }
    if (v->on_entry(&e, v->ctx)) { v->stop = 1; return -1; }
    return 0;
}

/* The elements of an array of Cases or Media, its '[' read. */
static int media_array(vctx *v)
{
    for (;;) {
        vigil__jtok t = vigil__json_next(v->j);
        if (t == VIGIL__J_ARRAY_END) return 0;
        if (t == VIGIL__J_ERROR) return -1;
        if (t != VIGIL__J_OBJECT) return vigil__json_fail(v->j, "expected an object");
        if (case_or_media(v)) return -1;
    }
}

static int top_member(vctx *v, const char *key)
{
    if (strcmp(key, "value")) return vigil__json_skip(v->j);
    vigil__jtok t = vigil__json_next(v->j);
    if (t == VIGIL__J_ERROR) return -1;
    if (t != VIGIL__J_ARRAY) return vigil__json_fail(v->j, "expected an array");
    return media_array(v);
}

int vigil__is_vics(const char *data, size_t size)
{
    size_t n = size < 65536 ? size : 65536, i = 0;
    while (i < n && isspace((unsigned char)data[i])) i++;
    if (i == n || data[i] != '{') return 0;
    static const char *const marks[] = {"\"@odata.context\"", "\"Media\"", "\"MediaID\""};
    for (int k = 0; k < 3; k++) {
        size_t ml = strlen(marks[k]);
        for (size_t s = i; s + ml <= n; s++)
            if (data[s] == '"' && !memcmp(data + s, marks[k], ml)) return 1;
    }
    return 0;
}

vigil_result vigil__vics_parse(vigil__src *src, vigil_list_entry_fn on_entry, vigil_list_error_fn on_error, void *ctx,
                               vigil_error *err)
{
    vigil__json j;
    vigil__json_init(&j, src, 0);
    vctx v = {&j, on_entry, on_error, ctx, 0, {{{0}}, 0}, {0}, 0};
    vigil__jtok t = vigil__json_next(&j);
    int r = t == VIGIL__J_OBJECT ? members(&v, top_member) : t == VIGIL__J_ERROR ? -1 : vigil__json_fail(&j, "expected an object");
    if (!r && vigil__json_next(&j) != VIGIL__J_END) r = -1;
    media_clear(&v.m, 1);
    free(v.labels.p);
    vigil_result code = VIGIL_OK;
    if (r && !v.stop) {
        code = j.failed ? j.failed : VIGIL_E_PARSE;
        if (code == VIGIL_E_PARSE)
            vigil__fail(err, code, "VICS JSON: %s at line %llu, column %llu", j.why, (unsigned long long)j.eline,
                        (unsigned long long)j.ecol);
        else
            vigil__fail(err, code, "VICS JSON: %s at line %llu", j.why, (unsigned long long)j.eline);
    }
    vigil__json_free(&j);
    return code;
}
