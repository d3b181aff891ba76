/* hashlist.c - reads reference hash lists as they arrive from exchanges and tools:
 *   - plain lines "HEX [ID]" (ThreatExchange-style dumps; 32 or 40 digits: MD5 or SHA-1), # comments;
 *   - CSV or TSV with a header row naming the hash column (pdq, hash, pdq_hash, signal,
 *     signal_value), optionally quality, id (id, ref_id, name, path, file); every other column
 *     becomes a label "name=value";
 *   - vigil's own `vigil hash` output in TSV, CSV or JSON Lines.
 * CSV is RFC 4180: a quoted field may hold separators, "" for a quote, and line breaks (the line
 * numbers of messages are still those of the file). A UTF-8 byte-order mark is skipped; UTF-16 and
 * UTF-32 text, and binary data, are refused saying what they are. Each bad line is reported with
 * its number and the reason, and parsing goes on. */
#include "index_impl.h"
#include "text.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct fields { char **v; size_t n, cap; } fields;

static int fields_push(fields *f, char *s)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        char **v = realloc(f->v, cap * sizeof *v);
        if (!v) return -1;
        f->v = v;
        f->cap = cap;
    }
    f->v[f->n++] = s;
    return 0;
}

/* Splits a record (modified in place) into fields; CSV quoting when sep is ','. Returns 0, -1 when
 * out of memory, -2 for broken quoting (*why says how). */
static int split(char *line, char sep, fields *f, const char **why)
{
    f->n = 0;
    char *p = line, *field;
    for (;;) {
        int more = vigil__next_field(&p, sep, &field, why);
        if (more < 0) return -2;
        if (fields_push(f, field)) return -1;
        if (!more) return 0;
    }
}

/* vigil writes a CSV/TSV text cell that begins with = + - @ (or such a cell behind quotes, ' or
 * ") with one more leading ', so that spreadsheets do not run it as a formula: undo it. */
static char *unguard(char *s)
{
    if (*s != '\'') return s;
    const char *t = s;
    while (*t == '\'' || *t == '"') t++;
    return *t && strchr("=+-@\t\r", *t) ? s + 1 : s;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = 0;
    return s;
}

/* A hex token of 64 (PDQ), 40 (SHA-1) or 32 (MD5) digits at the start of s. */
static int is_hex_token(const char *s)
{
    int n = 0;
    while (isxdigit((unsigned char)s[n])) n++;
    return (n == 64 || n == 40 || n == 32) && (s[n] == 0 || strchr(" \t,;\r", s[n]));
}


static int name_is(const char *s, const char *const *names)
{
    for (; *names; names++) if (!strcasecmp(s, *names)) return 1;
    return 0;
}

static const char *const hash_names[] = {"pdq", "hash", "pdq_hash", "signal", "signal_value", "pdqhash", NULL};
static const char *const quality_names[] = {"quality", "pdq_quality", NULL};
static const char *const md5_names[] = {"md5", "md5_hash", NULL};
static const char *const sha1_names[] = {"sha1", "sha-1", "sha1_hash", NULL};
static const char *const id_names[] = {"id", "ref_id", "name", "path", "file", "filename", NULL};
/* columns of `vigil hash` output that describe the file rather than label the reference */
static const char *const skip_names[] = {"width", "height", "size", "format", "xxh128", "error", "rot90", "rot180",
                                         "rot270", "flipx", "flipy", "flipp", "flipm", "path_hex", "changed", NULL};

typedef struct parser {
    vigil_list_entry_fn on_entry;
    vigil_list_error_fn on_error;
    void *ctx;
    int stop;
    buf labels;
    char msg[200];
} parser;

static void bad(parser *p, uint64_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void bad(parser *p, uint64_t line, const char *fmt, ...)
{
    if (p->stop || !p->on_error) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
    if (p->on_error(line, p->msg, p->ctx)) p->stop = 1;
}

/* Label text "k=v k=v": whitespace inside a value becomes '_' so the list stays one token each. */
static const char *const labels_names[] = {"labels", "label", NULL};

static int add_label(buf *b, const char *k, const char *v)
{
    /* a labels column is "k=v k=v" already (vigil index export): verbatim */
    return vigil__label_put(b, name_is(k, labels_names) ? NULL : k, v, strlen(v), 0);
}

/* A reference known only by its digests (no PDQ column, or a plain 32/40-digit line). */
static void emit_digest(parser *p, uint64_t line, const char *md5, const char *sha1, const char *id)
{
    vigil_list_entry e = {.quality = -1, .line = line, .id = id && *id ? id : NULL};
    uint8_t m[16], s[20];
    if (md5 && *md5) {
        if (vigil__unhex(md5, strlen(md5), m, 16)) { bad(p, line, "'%.70s' is not a 32-hex-digit MD5", md5); return; }
        e.md5 = m;
    }
    if (sha1 && *sha1) {
        if (vigil__unhex(sha1, strlen(sha1), s, 20)) { bad(p, line, "'%.70s' is not a 40-hex-digit SHA-1", sha1); return; }
        e.sha1 = s;
    }
    if (!e.md5 && !e.sha1) { bad(p, line, "no hash"); return; }
    if (vigil__buf_put(&p->labels, "", 1)) { p->stop = 1; return; }
    e.labels = p->labels.n > 1 ? (const char *)p->labels.p : NULL;
    if (!p->stop && p->on_entry(&e, p->ctx)) p->stop = 1;
}

static void emit(parser *p, uint64_t line, const char *hex, const char *quality, const char *id)
{
    vigil_list_entry e = {.quality = -1, .line = line, .id = id && *id ? id : NULL, .has_pdq = 1};
    if (!hex || !*hex) { bad(p, line, "no hash"); return; }
    if (vigil_pdq_from_hex(hex, strlen(hex), &e.hash)) {
        bad(p, line, "'%.70s' is not a 64-hex-digit PDQ hash", hex);
        return;
    }
    if (quality && *quality) {
        uint64_t q;
        if (vigil__parse_u64(quality, 100, &q)) { bad(p, line, "quality '%.40s' is not a whole number from 0 to 100", quality); return; }
        e.quality = (int)q;
    }
    if (vigil__buf_put(&p->labels, "", 1)) { p->stop = 1; return; }
    e.labels = p->labels.n > 1 ? (const char *)p->labels.p : NULL;
    if (!p->stop && p->on_entry(&e, p->ctx)) p->stop = 1;
}

static int hex4(const char *s, unsigned *v)
{
    *v = 0;
    for (int k = 0; k < 4; k++) {
        int h = vigil__hex_digit((unsigned char)s[k]);
        if (h < 0) return -1;
        *v = *v << 4 | (unsigned)h;
    }
    return 0;
}

/* A JSON string at *ps, unescaped in place: \uXXXX (surrogate pairs joined) becomes UTF-8, which
 * is never longer than the escape; a lone surrogate becomes U+FFFD. */
static char *json_string(char **ps)
{
    char *s = *ps;
    if (*s != '"') return NULL;
    char *w = ++s, *start = s;
    while (*s && *s != '"') {
        if (*s != '\\') { *w++ = *s++; continue; }
        s++;
        if (*s == 'u') {
            unsigned cp, lo;
            if (hex4(s + 1, &cp)) return NULL;
            s += 5;
            if (cp >= 0xd800 && cp < 0xdc00 && s[0] == '\\' && s[1] == 'u' && !hex4(s + 2, &lo) && lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                s += 6;
            } else if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;
            if (cp < 0x80) *w++ = (char)cp;
            else if (cp < 0x800) { *w++ = (char)(0xc0 | cp >> 6); *w++ = (char)(0x80 | (cp & 0x3f)); }
            else if (cp < 0x10000) { *w++ = (char)(0xe0 | cp >> 12); *w++ = (char)(0x80 | ((cp >> 6) & 0x3f)); *w++ = (char)(0x80 | (cp & 0x3f)); }
            else { *w++ = (char)(0xf0 | cp >> 18); *w++ = (char)(0x80 | ((cp >> 12) & 0x3f)); *w++ = (char)(0x80 | ((cp >> 6) & 0x3f)); *w++ = (char)(0x80 | (cp & 0x3f)); }
            continue;
        }
        if (!*s) return NULL;
        *w++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s == 'r' ? '\r' : *s == 'b' ? '\b' : *s == 'f' ? '\f' : *s;
        s++;
    }
    if (*s != '"') return NULL;
    *w = 0;
    *ps = s + 1;
    return start;
}

/* A flat JSON object: "key": string | number | true | false | null (null reads as ""). Nested
 * values are refused. Keys and values point into s, which is modified. */
static int json_object(char *s, fields *keys, fields *vals)
{
    keys->n = vals->n = 0;
    while (isspace((unsigned char)*s)) s++;
    if (*s++ != '{') return -1;
    for (int first = 1;; first = 0) {
        while (isspace((unsigned char)*s)) s++;
        if (*s == '}') return 0;
        if (!first) {
            if (*s++ != ',') return -1;
            while (isspace((unsigned char)*s)) s++;
        }
        char *k = json_string(&s), *v;
        if (!k) return -1;
        while (isspace((unsigned char)*s)) s++;
        if (*s++ != ':') return -1;
        while (isspace((unsigned char)*s)) s++;
        if (*s == '"') {
            if (!(v = json_string(&s))) return -1;
        } else {
            char *start = s;
            while (*s && *s != ',' && *s != '}' && !isspace((unsigned char)*s)) s++;
            if (s == start || *start == '{' || *start == '[') return -1;
            /* NUL-terminate the scalar without losing the delimiter after it: move it one byte
             * left, over the ':' or space that precedes it. */
            size_t n = (size_t)(s - start);
            memmove(start - 1, start, n);
            start[n - 1] = 0;
            v = !strcmp(start - 1, "null") ? (char *)"" : start - 1;
        }
        if (fields_push(keys, k) || fields_push(vals, v)) return -1;
    }
}

vigil_result vigil_list_parse(const char *data, size_t size, vigil_list_entry_fn on_entry, vigil_list_error_fn on_error,
                              void *ctx, vigil_error *err)
{
    if ((!data && size) || !on_entry) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    const char *enc = vigil__foreign_encoding(data, size);
    if (enc) return vigil__fail(err, VIGIL_E_PARSE, "%s", enc);
    size_t bom = vigil__utf8_bom(data, size); /* offsets in messages still count it */
    data += bom;
    size -= bom;
    if (vigil__is_vics(data, size)) return vigil__vics_parse(data, size, on_entry, on_error, ctx, err);
    char *text = malloc(size + 1);
    if (!text) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    memcpy(text, data, size);
    text[size] = 0;
    parser p = {on_entry, on_error, ctx, 0, {0}, ""};
    fields hdr = {0}, row = {0}, vals = {0};
    char sep = 0; /* 0: not known yet; '\t' or ',' with a header; ' ' plain lines; '{' JSON */
    int hcol = -1, qcol = -1, icol = -1, mcol = -1, scol = -1, ecol = -1;
    char *line = text, *next, *end = text + size;
    uint64_t ln = 1; /* the line the next record starts on */
    vigil_result r = VIGIL_OK;
    const char *why = NULL;
    for (; line && !p.stop; line = next) {
        uint64_t at = ln, inner = 0;
        int open = 0;
        char *stop = vigil__record_end(line, end, sep == ',' ? ',' : '\n', &inner, &open);
        next = stop < end ? stop + 1 : NULL;
        ln += 1 + inner;
        const char *nul = memchr(line, 0, (size_t)(stop - line));
        *stop = 0;
        if (nul) {
            size_t off = (size_t)(nul - text) + bom;
            if (!sep) { /* before the first header or entry: this is not a text list at all */
                r = vigil__fail(err, VIGIL_E_PARSE, "binary data: NUL byte at offset %zu (line %llu); not a text list", off,
                                (unsigned long long)at);
                break;
            }
            bad(&p, at, "binary data: NUL byte at offset %zu", off);
            continue;
        }
        if (open) { bad(&p, at, "a quoted field that begins on this line is not closed before the end of the file"); break; }
        /* only spaces and CR at the ends: a trailing tab is an empty last TSV field */
        char *t = line;
        while (*t == ' ') t++;
        size_t tl = strlen(t);
        while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\r')) t[--tl] = 0;
        if (!*t || *t == '#') continue;
        p.labels.n = 0;
        if (!sep) {
            if (*t == '{') sep = '{';
            else if (is_hex_token(t)) sep = ' ';
            else {
                sep = strchr(t, '\t') ? '\t' : ',';
                int sr = split(t, sep, &hdr, &why);
                if (sr == -1) { r = VIGIL_E_NOMEM; break; }
                if (sr) { r = vigil__fail(err, VIGIL_E_PARSE, "line %llu, the header: %s", (unsigned long long)at, why); break; }
                for (size_t i = 0; i < hdr.n; i++) {
                    hdr.v[i] = trim(hdr.v[i]);
                    if (hcol < 0 && name_is(hdr.v[i], hash_names)) hcol = (int)i;
                    else if (qcol < 0 && name_is(hdr.v[i], quality_names)) qcol = (int)i;
                    else if (icol < 0 && name_is(hdr.v[i], id_names)) icol = (int)i;
                    else if (mcol < 0 && name_is(hdr.v[i], md5_names)) mcol = (int)i;
                    else if (scol < 0 && name_is(hdr.v[i], sha1_names)) scol = (int)i;
                    if (ecol < 0 && !strcasecmp(hdr.v[i], "error")) ecol = (int)i;
                }
                if (hcol < 0 && mcol < 0 && scol < 0) {
                    r = vigil__fail(err, VIGIL_E_PARSE,
                                    "line %llu is neither a hash nor a header naming a hash column (pdq, hash, signal, md5, sha1)",
                                    (unsigned long long)at);
                    break;
                }
                /* keep header names: they point into `text`, which lives until the end */
                continue;
            }
        }
        if (sep == '{') {
            if (json_object(t, &row, &vals)) { bad(&p, at, "not a flat JSON object"); continue; }
            const char *hex = NULL, *q = NULL, *id = NULL, *md5 = NULL, *sha1 = NULL;
            for (size_t i = 0; i < row.n; i++) {
                if (!md5 && name_is(row.v[i], md5_names)) md5 = vals.v[i];
                if (!sha1 && name_is(row.v[i], sha1_names)) sha1 = vals.v[i];
                if (!hex && name_is(row.v[i], hash_names)) hex = vals.v[i];
                else if (!q && name_is(row.v[i], quality_names)) q = vals.v[i];
                else if (!id && name_is(row.v[i], id_names)) id = vals.v[i];
                else if (!name_is(row.v[i], skip_names) && add_label(&p.labels, row.v[i], vals.v[i])) p.stop = 1;
            }
            const char *errv = NULL;
            for (size_t i = 0; i < row.n; i++) if (!strcasecmp(row.v[i], "error")) errv = vals.v[i];
            if ((!hex || !*hex) && errv && *errv) { bad(&p, at, "its hashing had failed: %.150s", errv); continue; }
            if ((!hex || !*hex) && ((md5 && *md5) || (sha1 && *sha1))) {
                p.labels.n = 0; /* the digests are the entry itself */
                emit_digest(&p, at, md5, sha1, id);
            } else emit(&p, at, hex, q, id);
        } else if (sep == ' ') {
            char *hex = t, *rest = t;
            while (*rest && !strchr(" \t,;", *rest)) rest++;
            if (*rest) *rest++ = 0;
            while (*rest && strchr(" \t,;", *rest)) rest++;
            size_t hl = strlen(hex);
            if (hl == 32 || hl == 40) emit_digest(&p, at, hl == 32 ? hex : NULL, hl == 40 ? hex : NULL, rest);
            else if (hl != 64) bad(&p, at, "'%.70s' is not a PDQ hash (64 hex digits), an MD5 (32) or a SHA-1 (40)", hex);
            else emit(&p, at, hex, NULL, rest);
        } else {
            int sr = split(t, sep, &row, &why);
            if (sr == -1) { r = VIGIL_E_NOMEM; break; }
            if (sr) { bad(&p, at, "%s", why); continue; }
            if (row.n != hdr.n) { bad(&p, at, "%zu fields, the header has %zu", row.n, hdr.n); continue; }
            for (size_t i = 0; i < row.n; i++) row.v[i] = unguard(trim(row.v[i]));
            /* a row with a PDQ is a PDQ entry (its digests are labels); one with only digests
             * is a digest entry; a `vigil hash` row whose hashing failed is neither */
            int pdq_row = hcol >= 0 && *row.v[hcol];
            if (ecol >= 0 && *row.v[ecol] && !pdq_row) { bad(&p, at, "its hashing had failed: %.150s", row.v[ecol]); continue; }
            for (size_t i = 0; i < row.n; i++) {
                int digest_col = (int)i == mcol || (int)i == scol;
                if ((int)i != hcol && (int)i != qcol && (int)i != icol && (pdq_row || !digest_col) &&
                    !name_is(hdr.v[i], skip_names) && add_label(&p.labels, hdr.v[i], row.v[i]))
                    p.stop = 1;
            }
            if (pdq_row || (mcol < 0 && scol < 0)) emit(&p, at, hcol >= 0 ? row.v[hcol] : NULL, qcol >= 0 ? row.v[qcol] : NULL, icol >= 0 ? row.v[icol] : NULL);
            else emit_digest(&p, at, mcol >= 0 ? row.v[mcol] : NULL, scol >= 0 ? row.v[scol] : NULL, icol >= 0 ? row.v[icol] : NULL);
        }
    }
    free(hdr.v); free(row.v); free(vals.v); free(p.labels.p); free(text);
    if (r == VIGIL_E_NOMEM) return vigil__fail(err, r, "out of memory");
    return r;
}
