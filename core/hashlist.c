/* hashlist.c - reads reference hash lists as they arrive from exchanges and tools:
 *   - plain lines "HEX [ID]" (ThreatExchange-style dumps; 32 or 40 digits: MD5 or SHA-1), # comments;
 *   - CSV or TSV with a header row naming the hash column (pdq, hash, pdq_hash, signal,
 *     signal_value), optionally quality, id (id, ref_id, name, path, file); every other column
 *     becomes a label "name=value";
 *   - vigil's own `vigil hash` output in TSV, CSV or JSON Lines.
 * CSV is RFC 4180: a quoted field may hold separators, "" for a quote, and line breaks (the line
 * numbers of messages are still those of the file). A UTF-8 byte-order mark is skipped; UTF-16 and
 * UTF-32 text, and binary data, are refused saying what they are. Each bad line is reported with
 * its number and the reason, and parsing goes on. JSON Lines records are read by core/json.c, the
 * reader VICS documents (core/vics.c) use too, so both decode escapes alike.
 *
 * The text arrives as a stream (core/text.c's source) and one record is held at a time: lists
 * are read in 256 KiB chunks, whatever their size. */
#include "json.h"
#include "vics.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef vigil__buf buf;

typedef vigil__fields fields;

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
    int stop, nomem;
    buf labels;
    buf jtext;   /* a JSON line's keys and values, decoded, each NUL-terminated */
    size_t *joff, jcap;
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

/* A JSON Lines record (the line t, n bytes, whose first byte is in column col): a flat object whose
 * members are strings, numbers, true, false or null (null reads as ""). keys and vals point into
 * p->jtext. Returns 0, or -1 with the reason and its column in why. */
static int json_object(parser *p, const char *t, size_t n, uint64_t col, fields *keys, fields *vals, char *why, size_t whylen)
{
    vigil__src src;
    vigil__src_memory(&src, t, n);
    vigil__json j;
    vigil__json_init(&j, &src, VIGIL__JSON_LONE_FFFD);
    buf *b = &p->jtext;
    size_t nstr = 0;
    int r = -1;
    b->n = 0;
    vigil__jtok tk = vigil__json_next(&j);
    if (tk == VIGIL__J_OBJECT) {
        for (int value = 0;; value = !value) {
            tk = vigil__json_next(&j);
            if (!value && tk == VIGIL__J_OBJECT_END) {
                r = vigil__json_next(&j) == VIGIL__J_END ? 0 : -1;
                break;
            }
            if (tk == VIGIL__J_ERROR) break;
            if (tk == VIGIL__J_OBJECT || tk == VIGIL__J_ARRAY) {
                vigil__json_fail(&j, "a nested object or array: only flat objects are read");
                break;
            }
            if (nstr == p->jcap) {
                size_t cap = p->jcap ? p->jcap * 2 : 32;
                size_t *o = realloc(p->joff, cap * sizeof *o);
                if (!o) { p->stop = p->nomem = 1; break; }
                p->joff = o;
                p->jcap = cap;
            }
            p->joff[nstr++] = b->n;
            if ((tk != VIGIL__J_NULL && vigil__buf_put(b, j.text.p, j.len)) || vigil__buf_put(b, "", 1)) { p->stop = p->nomem = 1; break; }
        }
    } else if (tk != VIGIL__J_ERROR) vigil__json_fail(&j, "not a JSON object");
    if (r && !p->stop) snprintf(why, whylen, "%s at column %llu", j.why, (unsigned long long)(j.ecol + col - 1));
    vigil__json_free(&j);
    keys->n = vals->n = 0;
    for (size_t i = 0; !r && i + 1 < nstr; i += 2)
        if (vigil__fields_push(keys, (char *)b->p + p->joff[i]) || vigil__fields_push(vals, (char *)b->p + p->joff[i + 1])) r = -1, p->stop = p->nomem = 1;
    return r;
}

/* Reads the next record from the source into *rec, *n bytes (NUL-terminated in place, in the
 * source's buffer: valid until the next call): the text up to a '\n', for CSV one outside quotes. *inner
 * counts the newlines inside it, *open is set for a CSV record that ends inside quotes. Returns 1,
 * 0 at the end of the list, -1 when reading failed. */
static int next_record(vigil__src *s, char sep, char **rec, size_t *n, uint64_t *inner, int *open)
{
    size_t want = 1;
    for (;;) {
        size_t avail = vigil__src_fill(s, want);
        if (!avail) return s->failed ? -1 : 0;
        char *line = s->buf + s->pos, *end = s->buf + s->len;
        *inner = 0;
        char *stop = vigil__record_end(line, end, sep == ',' ? ',' : '\n', inner, open);
        if (stop == end && !s->eof) { /* the record goes on past the buffer: read more, twice as much, so a
                                         long record is scanned a bounded number of times */
            want = 2 * avail;
            continue;
        }
        if (stop == end && s->failed) return -1; /* cut short, not ended */
        s->pos = stop < end ? (size_t)(stop + 1 - s->buf) : s->len;
        *stop = 0; /* the '\n', or the spare byte after the text */
        *rec = line;
        *n = (size_t)(stop - line);
        return 1;
    }
}

static ptrdiff_t memory_read(void *dst, size_t cap, void *ctx)
{
    const char **m = ctx; /* m[0]: next byte, m[1]: the end */
    size_t n = (size_t)(m[1] - m[0]) < cap ? (size_t)(m[1] - m[0]) : cap;
    if (n) memcpy(dst, m[0], n);
    m[0] += n;
    return (ptrdiff_t)n;
}

vigil_result vigil_list_parse(const char *data, size_t size, vigil_list_entry_fn on_entry, vigil_list_error_fn on_error,
                              void *ctx, vigil_error *err)
{
    if ((!data && size) || !on_entry) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    if (!size) data = ""; /* NULL + 0 is undefined in C */
    const char *m[2] = {data, data + size};
    return vigil_list_parse_stream(memory_read, m, on_entry, on_error, ctx, err);
}

typedef struct fd_source { int fd, errnum; } fd_source;

static ptrdiff_t fd_read(void *dst, size_t cap, void *ctx)
{
    fd_source *f = ctx;
    for (;;) {
        ssize_t r = read(f->fd, dst, cap);
        if (r >= 0) return r;
        if (errno != EINTR) { f->errnum = errno; return -1; }
    }
}

vigil_result vigil_list_parse_fd(int fd, vigil_list_entry_fn on_entry, vigil_list_error_fn on_error, void *ctx,
                                 vigil_error *err)
{
    if (fd < 0) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    fd_source f = {fd, 0};
    vigil_result r = vigil_list_parse_stream(fd_read, &f, on_entry, on_error, ctx, err);
    if (r == VIGIL_E_IO && f.errnum) return vigil__fail(err, r, "read failed: %s", strerror(f.errnum));
    return r;
}

/* Every record of a list that is not VICS, from the source's position. */
static vigil_result parse_records(vigil__src *src, vigil_list_entry_fn on_entry, vigil_list_error_fn on_error, void *ctx,
                                  vigil_error *err)
{
    parser p = {on_entry, on_error, ctx, 0, 0, {0}, {0}, NULL, 0, ""};
    fields hdr = {0}, row = {0}, vals = {0};
    char *hdr_text = NULL; /* the header record, kept: the source's buffer moves on */
    char sep = 0; /* 0: not known yet; '\t' or ',' with a header; ' ' plain lines; '{' JSON */
    int hcol = -1, qcol = -1, icol = -1, mcol = -1, scol = -1, ecol = -1;
    uint64_t ln = 1; /* the line the next record starts on */
    vigil_result r = VIGIL_OK;
    const char *why = NULL;
    char jwhy[160];
    while (!p.stop) {
        uint64_t at = ln, inner = 0;
        int open = 0;
        char *line;
        size_t len;
        int got = next_record(src, sep, &line, &len, &inner, &open);
        if (got < 0) { r = src->failed; break; }
        if (!got) break;
        ln += 1 + inner;
        const char *nul = memchr(line, 0, len);
        if (nul) {
            unsigned long long off = src->base + (uint64_t)(nul - src->buf);
            if (!sep) { /* before the first header or entry: this is not a text list at all */
                r = vigil__fail(err, VIGIL_E_PARSE, "binary data: NUL byte at offset %llu (line %llu); not a text list", off,
                                (unsigned long long)at);
                break;
            }
            bad(&p, at, "binary data: NUL byte at offset %llu", off);
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
                if (!(hdr_text = strdup(t))) { r = VIGIL_E_NOMEM; break; }
                int sr = vigil__split_record(hdr_text, sep, &hdr, &why);
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
                continue;
            }
        }
        if (sep == '{') {
            if (json_object(&p, t, tl, (uint64_t)(t - line) + 1, &row, &vals, jwhy, sizeof jwhy)) {
                if (p.stop) break;
                bad(&p, at, "not a flat JSON object: %s", jwhy);
                continue;
            }
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
            int sr = vigil__split_record(t, sep, &row, &why);
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
    free(hdr.v); free(row.v); free(vals.v); free(p.labels.p); free(p.jtext.p); free(p.joff); free(hdr_text);
    if (p.nomem) r = VIGIL_E_NOMEM;
    if (r == VIGIL_E_NOMEM) return vigil__fail(err, r, "out of memory");
    return r;
}

vigil_result vigil_list_parse_stream(vigil_read_fn read, void *read_ctx, vigil_list_entry_fn on_entry,
                                     vigil_list_error_fn on_error, void *ctx, vigil_error *err)
{
    if (!read || !on_entry) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    vigil__src src;
    vigil__src_reader(&src, read, read_ctx);
    /* the format is told from the first 64 KiB (after a byte-order mark), however the bytes come */
    size_t avail = vigil__src_fill(&src, 65536 + 3);
    vigil_result r = VIGIL_OK;
    const char *enc = src.failed ? NULL : vigil__foreign_encoding(src.buf, avail);
    if (enc) r = vigil__fail(err, VIGIL_E_PARSE, "%s", enc);
    else if (!src.failed) {
        src.pos = vigil__utf8_bom(src.buf, avail); /* offsets in messages still count it */
        if (vigil__is_vics(src.buf + src.pos, avail - src.pos)) r = vigil__vics_parse(&src, on_entry, on_error, ctx, err);
        else r = parse_records(&src, on_entry, on_error, ctx, err);
    }
    if (src.failed == VIGIL_E_IO)
        r = vigil__fail(err, VIGIL_E_IO, "read failed after %llu bytes", (unsigned long long)(src.base + src.len));
    else if (src.failed)
        r = vigil__fail(err, src.failed, "out of memory");
    vigil__src_free(&src);
    return r;
}
