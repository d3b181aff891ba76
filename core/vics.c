/* vics.c - reads Project VIC's VICS JSON (the OData documents Griffeye, IPED and the Project VIC
 * hash sets use) as a reference list.
 *
 * VICS 2.0 is {"@odata.context": ".../2.0.xml/...$metadata#Media", "value": [Media, ...]}; VICS
 * 1.x wraps the same Media objects in Cases: "value": [{"Media": [...]}, ...]. Both are read. Per
 * Media: MD5, SHA1, MediaSize, Category, MediaID, and AlternativeHashes [{HashName, HashValue}],
 * where a "PDQ" entry is the perceptual hash. Unknown members are skipped whatever they hold.
 *
 * A small JSON reader of our own: strings are unescaped (\uXXXX to UTF-8, surrogate pairs joined),
 * numbers follow JSON's grammar exactly (no NaN, Infinity, hex or leading '+'), nesting is limited,
 * and every malformed byte ends the parse with the line it is on. MediaSize and Category, numbers
 * in VICS, must be whole numbers: a Media whose are not is reported and left out. */
#include "index_impl.h"
#include "text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 64

typedef struct jr {
    const char *s, *p, *end;
    const char *err;
    int depth;
    const char *lpos; /* newline counting is incremental: positions only move forward */
    uint64_t line;
} jr;

static uint64_t line_of(jr *j, const char *pos)
{
    for (; j->lpos < pos; j->lpos++) j->line += *j->lpos == '\n';
    return j->line;
}

static void ws(jr *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int fail(jr *j, const char *why)
{
    if (!j->err) j->err = why;
    return -1;
}

static int eat(jr *j, char c)
{
    ws(j);
    if (j->p < j->end && *j->p == c) { j->p++; return 0; }
    return -1;
}

static int u4(jr *j, unsigned *cp)
{
    if (j->end - j->p < 4) return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = vigil__hex_digit((unsigned char)j->p[i]);
        if (h < 0) return -1;
        v = v << 4 | (unsigned)h;
    }
    j->p += 4;
    *cp = v;
    return 0;
}

/* A string into out (NUL-terminated; out may be NULL to skip). */
static int str(jr *j, buf *out)
{
    ws(j);
    if (j->p >= j->end || *j->p != '"') return fail(j, "expected a string");
    j->p++;
    if (out) out->n = 0;
    for (;;) {
        if (j->p >= j->end) return fail(j, "unterminated string");
        unsigned char c = (unsigned char)*j->p++;
        if (c == '"') break;
        if (c < 0x20) return fail(j, "control character in a string");
        if (c != '\\') {
            if (out && vigil__buf_put(out, &c, 1)) return fail(j, "out of memory");
            continue;
        }
        if (j->p >= j->end) return fail(j, "unterminated string");
        char e = *j->p++;
        unsigned cp;
        switch (e) {
        case '"': case '\\': case '/': cp = (unsigned char)e; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (u4(j, &cp)) return fail(j, "bad \\u escape");
            if (cp >= 0xd800 && cp < 0xdc00) {
                unsigned lo;
                if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u') return fail(j, "lone surrogate");
                j->p += 2;
                if (u4(j, &lo) || lo < 0xdc00 || lo > 0xdfff) return fail(j, "lone surrogate");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp < 0xe000) return fail(j, "lone surrogate");
            break;
        default: return fail(j, "bad escape");
        }
        uint8_t u[4];
        int n;
        if (cp < 0x80) { u[0] = (uint8_t)cp; n = 1; }
        else if (cp < 0x800) { u[0] = (uint8_t)(0xc0 | cp >> 6); u[1] = (uint8_t)(0x80 | (cp & 0x3f)); n = 2; }
        else if (cp < 0x10000) { u[0] = (uint8_t)(0xe0 | cp >> 12); u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)); u[2] = (uint8_t)(0x80 | (cp & 0x3f)); n = 3; }
        else { u[0] = (uint8_t)(0xf0 | cp >> 18); u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f)); u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)); u[3] = (uint8_t)(0x80 | (cp & 0x3f)); n = 4; }
        if (out && vigil__buf_put(out, u, (size_t)n)) return fail(j, "out of memory");
    }
    if (out && vigil__buf_put(out, "", 1)) return fail(j, "out of memory");
    return 0;
}

/* The length of a JSON number at s (RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?), or 0. */
static size_t json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i < n && s[i] == '0') i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9') while (i < n && isdigit((unsigned char)s[i])) i++;
    else return 0;
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && isdigit((unsigned char)s[i])) i++;
        if (i == d) return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t d = i;
        while (i < n && isdigit((unsigned char)s[i])) i++;
        if (i == d) return 0;
    }
    return i;
}

/* A number, true, false or null, copied as text into out (NUL-terminated; null gives ""). */
static int scalar(jr *j, buf *out)
{
    ws(j);
    const char *s = j->p;
    while (j->p < j->end && (isalnum((unsigned char)*j->p) || *j->p == '-' || *j->p == '+' || *j->p == '.')) j->p++;
    if (j->p == s) return fail(j, "expected a value");
    size_t n = (size_t)(j->p - s);
    int null = n == 4 && !memcmp(s, "null", 4);
    if (json_number(s, n) != n && !(n == 4 && !memcmp(s, "true", 4)) && !(n == 5 && !memcmp(s, "false", 5)) && !null)
        return fail(j, "expected a value (a JSON number, string, true, false or null)");
    if (out) {
        out->n = 0;
        if (!null && vigil__buf_put(out, s, n)) return fail(j, "out of memory");
        if (vigil__buf_put(out, "", 1)) return fail(j, "out of memory");
    }
    return 0;
}

static int skip(jr *j);

/* Calls member(j, key, ctx) for each member of an object; the callback consumes the value. */
typedef int (*member_fn)(jr *j, const char *key, void *ctx);

static int object(jr *j, member_fn fn, void *ctx)
{
    if (eat(j, '{')) return fail(j, "expected an object");
    if (++j->depth > MAX_DEPTH) return fail(j, "nested too deeply");
    buf key = {0};
    int r = 0;
    if (!eat(j, '}')) goto done;
    for (;;) {
        if ((r = str(j, &key))) break;
        if ((r = eat(j, ':') ? fail(j, "expected ':'") : 0)) break;
        if ((r = fn ? fn(j, (const char *)key.p, ctx) : skip(j))) break;
        if (!eat(j, ',')) continue;
        if (!eat(j, '}')) break;
        r = fail(j, "expected ',' or '}'");
        break;
    }
done:
    free(key.p);
    j->depth--;
    return r;
}

/* Calls elem(j, ctx) for each element of an array. */
typedef int (*elem_fn)(jr *j, void *ctx);

static int array(jr *j, elem_fn fn, void *ctx)
{
    if (eat(j, '[')) return fail(j, "expected an array");
    if (++j->depth > MAX_DEPTH) return fail(j, "nested too deeply");
    int r = 0;
    if (!eat(j, ']')) goto done;
    for (;;) {
        if ((r = fn ? fn(j, ctx) : skip(j))) break;
        if (!eat(j, ',')) continue;
        if (!eat(j, ']')) break;
        r = fail(j, "expected ',' or ']'");
        break;
    }
done:
    j->depth--;
    return r;
}

static int skip(jr *j)
{
    ws(j);
    if (j->p >= j->end) return fail(j, "unexpected end");
    if (*j->p == '{') return object(j, NULL, NULL);
    if (*j->p == '[') return array(j, NULL, NULL);
    if (*j->p == '"') return str(j, NULL);
    return scalar(j, NULL);
}

/* A string or scalar value as text. */
static int text(jr *j, buf *out)
{
    ws(j);
    if (j->p < j->end && *j->p == '"') return str(j, out);
    if (j->p < j->end && (*j->p == '{' || *j->p == '[')) return fail(j, "expected a string or number");
    return scalar(j, out);
}

/* ------------------------------------------------------------------------------------------------ */

enum { F_MD5, F_SHA1, F_SIZE, F_CATEGORY, F_ID, F_PDQ, F_HNAME, F_HVAL, F_COUNT };
typedef struct media {
    buf f[F_COUNT];
    const char *start;
} media;

static void media_clear(media *m, int release)
{
    for (int i = 0; i < F_COUNT; i++) {
        if (release) { free(m->f[i].p); m->f[i] = (buf){0}; }
        else m->f[i].n = 0;
    }
}

typedef struct vctx {
    vigil_list_entry_fn on_entry;
    vigil_list_error_fn on_error;
    void *ctx;
    int stop;
    media m;
    buf labels;
    uint64_t media_count;
} vctx;

static int alt_member(jr *j, const char *key, void *p)
{
    media *m = p;
    if (!strcasecmp(key, "HashName")) return text(j, &m->f[F_HNAME]);
    if (!strcasecmp(key, "HashValue")) return text(j, &m->f[F_HVAL]);
    return skip(j);
}

static int alt_elem(jr *j, void *p)
{
    media *m = p;
    m->f[F_HNAME].n = m->f[F_HVAL].n = 0;
    if (object(j, alt_member, m)) return -1;
    if (m->f[F_HNAME].n && m->f[F_HVAL].n && !strcasecmp((const char *)m->f[F_HNAME].p, "PDQ")) {
        m->f[F_PDQ].n = 0;
        return vigil__buf_put(&m->f[F_PDQ], m->f[F_HVAL].p, m->f[F_HVAL].n) ? fail(j, "out of memory") : 0;
    }
    return 0;
}

static int case_or_media(jr *j, void *p);

static int media_member(jr *j, const char *key, void *p)
{
    vctx *v = p;
    media *m = &v->m;
    if (!strcasecmp(key, "MD5")) return text(j, &m->f[F_MD5]);
    if (!strcasecmp(key, "SHA1")) return text(j, &m->f[F_SHA1]);
    if (!strcasecmp(key, "MediaSize")) return text(j, &m->f[F_SIZE]);
    if (!strcasecmp(key, "Category")) return text(j, &m->f[F_CATEGORY]);
    if (!strcasecmp(key, "MediaID")) return text(j, &m->f[F_ID]);
    if (!strcasecmp(key, "AlternativeHashes")) {
        ws(j);
        if (j->p < j->end && *j->p == 'n') return scalar(j, NULL);
        return array(j, alt_elem, m);
    }
    if (!strcasecmp(key, "Media")) { /* VICS 1.x: a Case holding Media */
        ws(j);
        if (j->p < j->end && *j->p == 'n') return scalar(j, NULL);
        media saved = *m;
        *m = (media){0};
        int r = array(j, case_or_media, v);
        media_clear(m, 1);
        *m = saved;
        return r;
    }
    return skip(j);
}

static int digest_of(const buf *b, uint8_t *out, size_t n)
{
    return vigil__unhex((const char *)b->p, b->n - 1, out, n); /* b holds the text and its NUL */
}

static void label(vctx *v, const char *k, const buf *val, int lower)
{
    if (val->n > 1) vigil__label_put(&v->labels, k, (const char *)val->p, val->n - 1, lower); /* val: text + NUL */
}

static void report(vctx *v, jr *j, const char *why)
{
    if (v->stop || !v->on_error) return;
    char msg[200];
    snprintf(msg, sizeof msg, "VICS media #%llu: %s", (unsigned long long)v->media_count, why);
    if (v->on_error(line_of(j, v->m.start), msg, v->ctx)) v->stop = 1;
}

static void report_value(vctx *v, jr *j, const char *field, const buf *val, const char *want)
{
    char why[120];
    snprintf(why, sizeof why, "%s '%.40s' is not %s", field, (const char *)val->p, want);
    report(v, j, why);
}

static int case_or_media(jr *j, void *p)
{
    vctx *v = p;
    media *m = &v->m;
    media_clear(m, 0);
    ws(j);
    m->start = j->p;
    v->media_count++;
    if (object(j, media_member, v)) return -1;
    if (v->stop) return -1;
    if (!m->f[F_MD5].n && !m->f[F_SHA1].n && !m->f[F_PDQ].n) return 0; /* a Case (VICS 1.x) or an empty Media */
    vigil_list_entry e = {.quality = -1, .line = line_of(j, m->start)};
    uint8_t md5[16], sha1[20];
    int has_md5 = m->f[F_MD5].n > 1, has_sha1 = m->f[F_SHA1].n > 1;
    if (has_md5 && digest_of(&m->f[F_MD5], md5, 16)) { report(v, j, "MD5 is not 32 hex digits"); return 0; }
    if (has_sha1 && digest_of(&m->f[F_SHA1], sha1, 20)) { report(v, j, "SHA1 is not 40 hex digits"); return 0; }
    uint64_t num;
    if (m->f[F_SIZE].n > 1 && vigil__parse_u64((const char *)m->f[F_SIZE].p, UINT64_MAX, &num)) {
        report_value(v, j, "MediaSize", &m->f[F_SIZE], "a whole number of bytes");
        return 0;
    }
    if (m->f[F_CATEGORY].n > 1 && vigil__parse_u64((const char *)m->f[F_CATEGORY].p, 99, &num)) {
        report_value(v, j, "Category", &m->f[F_CATEGORY], "a whole number from 0 to 99");
        return 0;
    }
    if (m->f[F_PDQ].n) {
        if (vigil_pdq_from_hex((const char *)m->f[F_PDQ].p, m->f[F_PDQ].n - 1, &e.hash)) { report(v, j, "the PDQ alternative hash is not 64 hex digits"); return 0; }
        e.has_pdq = 1;
    } else if (!has_md5 && !has_sha1) {
        report(v, j, "no MD5, SHA1 or PDQ");
        return 0;
    }
    v->labels.n = 0;
    label(v, "category", &m->f[F_CATEGORY], 0);
    if (e.has_pdq) { label(v, "md5", &m->f[F_MD5], 1); label(v, "sha1", &m->f[F_SHA1], 1); }
    label(v, "size", &m->f[F_SIZE], 0);
    label(v, "vics_id", &m->f[F_ID], 0);
    if (vigil__buf_put(&v->labels, "", 1)) return fail(j, "out of memory");
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

static int top_member(jr *j, const char *key, void *p)
{
    if (!strcmp(key, "value")) return array(j, case_or_media, p);
    return skip(j);
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

vigil_result vigil__vics_parse(const char *data, size_t size, vigil_list_entry_fn on_entry, vigil_list_error_fn on_error,
                               void *ctx, vigil_error *err)
{
    jr j = {data, data, data + size, NULL, 0, data, 1};
    vctx v = {on_entry, on_error, ctx, 0, {{{0}}, NULL}, {0}, 0};
    int r = object(&j, top_member, &v);
    if (!r && (ws(&j), j.p != j.end)) r = fail(&j, "text after the document");
    media_clear(&v.m, 1);
    free(v.labels.p);
    if (r && !v.stop)
        return vigil__fail(err, VIGIL_E_PARSE, "VICS JSON: %s at line %llu", j.err ? j.err : "malformed",
                           (unsigned long long)line_of(&j, j.p < j.end ? j.p : j.end));
    return VIGIL_OK;
}
