/* serve_parse.c - what `vigil serve` reads from clients: query strings, multipart/form-data bodies
 * and JSON bodies, and the JSON it writes back. Everything here is untrusted input: lengths are
 * explicit (bodies are not NUL-terminated), every limit is checked before use, and nothing is
 * logged. Fuzzed by tests/fuzz/fuzz_serve.c. */
#include "serve.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int srv_url_decode(const char *src, size_t n, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '+') c = ' ';
        else if (c == '%') {
            if (i + 2 >= n) return -1;
            int hi = hexval(src[i + 1]), lo = hi < 0 ? -1 : hexval(src[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            c = (unsigned char)(hi * 16 + lo);
            if (!c) return -1;
            i += 2;
        } else if (!c) return -1;
        dst[o++] = (char)c;
    }
    dst[o] = 0;
    return 0;
}

int srv_query_get(const char *query, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    const char *p = query ? query : "";
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t nl = eq ? (size_t)(eq - p) : len;
        /* keys are compared decoded, so sig%6Eal= is signal= as a browser would send it */
        if (nl <= 64) {
            char name[65];
            if (srv_url_decode(p, nl, name) == 0 && strlen(name) == kl && !memcmp(name, key, kl)) {
                const char *v = eq ? eq + 1 : p + len;
                size_t vl = eq ? len - nl - 1 : 0;
                if (vl + 1 > cap) return -1;
                return srv_url_decode(v, vl, out) ? -1 : 1;
            }
        }
        p += len;
        if (*p == '&') p++;
    }
    return 0;
}

/* ---- multipart ------------------------------------------------------------------------------ */

int srv_multipart_boundary(const char *ct, char *out, size_t cap)
{
    if (!ct) return -1;
    while (*ct == ' ') ct++;
    if (strncasecmp(ct, "multipart/form-data", 19)) return -1;
    const char *p = ct + 19;
    while (*p) {
        while (*p == ';' || *p == ' ' || *p == '\t') p++;
        if (!strncasecmp(p, "boundary=", 9)) {
            p += 9;
            size_t n = 0;
            if (*p == '"') {
                p++;
                while (p[n] && p[n] != '"') n++;
                if (p[n] != '"') return -1;
            } else {
                while (p[n] && p[n] != ';' && p[n] != ' ' && p[n] != '\t') n++;
            }
            if (n < 1 || n > 70 || n + 1 > cap) return -1;
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e) return -1;
            memcpy(out, p, n);
            out[n] = 0;
            return 0;
        }
        while (*p && *p != ';') p++;
    }
    return -1;
}

static const char *mem_find(const char *h, size_t hn, const char *n, size_t nn)
{
    if (nn == 0 || hn < nn) return NULL;
    return memmem(h, hn, n, nn);
}

/* The name="..." of a Content-Disposition: form-data header in hdr[0..n). */
static int part_name(const char *hdr, size_t n, char *name, size_t cap)
{
    const char *end = hdr + n, *line = hdr;
    while (line < end) {
        const char *eol = mem_find(line, (size_t)(end - line), "\r\n", 2);
        if (!eol) eol = end;
        size_t ll = (size_t)(eol - line);
        if (ll > 20 && !strncasecmp(line, "content-disposition:", 20)) {
            const char *p = line + 20, *le = eol;
            while (p < le) {
                while (p < le && (*p == ' ' || *p == ';' || *p == '\t')) p++;
                if (le - p > 5 && !strncasecmp(p, "name=", 5)) {
                    p += 5;
                    size_t k = 0;
                    if (p < le && *p == '"') {
                        p++;
                        while (p + k < le && p[k] != '"') k++;
                        if (p + k >= le) return -1;
                    } else {
                        while (p + k < le && p[k] != ';' && p[k] != ' ') k++;
                    }
                    if (k + 1 > cap) return -1;
                    memcpy(name, p, k);
                    name[k] = 0;
                    return 1;
                }
                while (p < le && *p != ';') p++;
            }
            return 0;
        }
        line = eol + 2;
    }
    return 0;
}

int srv_multipart_find(const char *body, size_t n, const char *boundary, const char *field, const char **data,
                       size_t *len, const char **why)
{
    char delim[80];
    size_t bl = strlen(boundary);
    if (bl < 1 || bl > 70) { *why = "bad multipart boundary"; return -1; }
    delim[0] = '-';
    delim[1] = '-';
    memcpy(delim + 2, boundary, bl);
    size_t dl = bl + 2;
    /* the first delimiter may come after a preamble; every later one follows CRLF */
    const char *p = mem_find(body, n, delim, dl);
    if (!p || (p != body && (p < body + 2 || p[-1] != '\n'))) { *why = "multipart body without its boundary"; return -1; }
    const char *end = body + n;
    int found = 0;
    for (;;) {
        p += dl;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') break; /* close delimiter */
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') { *why = "multipart delimiter not followed by CRLF"; return -1; }
        p += 2;
        const char *hend = mem_find(p, (size_t)(end - p), "\r\n\r\n", 4);
        const char *cstart;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') { hend = p; cstart = p + 2; }
        else if (!hend) { *why = "multipart part without the end of its headers"; return -1; }
        else cstart = hend + 4;
        if (hend - p > 8192) { *why = "multipart part headers over 8 KiB"; return -1; }
        char name[256];
        int r = part_name(p, (size_t)(hend - p), name, sizeof name);
        if (r < 0) { *why = "multipart part with a malformed name"; return -1; }
        /* the part ends at CRLF + delimiter */
        char nd[84];
        nd[0] = '\r';
        nd[1] = '\n';
        memcpy(nd + 2, delim, dl);
        const char *next = mem_find(cstart, (size_t)(end - cstart), nd, dl + 2);
        if (!next) { *why = "multipart part not closed by its boundary"; return -1; }
        if (r == 1 && !found && !strcmp(name, field)) {
            *data = cstart;
            *len = (size_t)(next - cstart);
            found = 1;
        }
        p = next + 2;
    }
    return found;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

typedef struct jp {
    const char *p, *end;
    size_t values;
    const char *why;
} jp;

#define SJ_MAX_DEPTH 16
#define SJ_MAX_VALUES (1u << 20)

static void ws(jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static void put_utf8(char *o, size_t *k, unsigned cp)
{
    if (cp < 0x80) o[(*k)++] = (char)cp;
    else if (cp < 0x800) { o[(*k)++] = (char)(0xc0 | cp >> 6); o[(*k)++] = (char)(0x80 | (cp & 63)); }
    else if (cp < 0x10000) {
        o[(*k)++] = (char)(0xe0 | cp >> 12);
        o[(*k)++] = (char)(0x80 | ((cp >> 6) & 63));
        o[(*k)++] = (char)(0x80 | (cp & 63));
    } else {
        o[(*k)++] = (char)(0xf0 | cp >> 18);
        o[(*k)++] = (char)(0x80 | ((cp >> 12) & 63));
        o[(*k)++] = (char)(0x80 | ((cp >> 6) & 63));
        o[(*k)++] = (char)(0x80 | (cp & 63));
    }
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0) return -1;
        *v = *v * 16 + (unsigned)h;
    }
    return 0;
}

static char *jstring(jp *j)
{
    /* j->p at the opening quote; the unescaped text is never longer than the escaped */
    const char *s = ++j->p;
    while (j->p < j->end && *j->p != '"') {
        if (*j->p == '\\') j->p++;
        j->p++;
    }
    if (j->p >= j->end) { j->why = "unterminated JSON string"; return NULL; }
    size_t n = (size_t)(j->p - s);
    j->p++;
    char *o = malloc(n + 1);
    if (!o) { j->why = "out of memory"; return NULL; }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20) { j->why = "control character in a JSON string"; free(o); return NULL; }
        if (c != '\\') { o[k++] = (char)c; continue; }
        if (++i >= n) { j->why = "bad JSON escape"; free(o); return NULL; }
        switch (s[i]) {
        case '"': o[k++] = '"'; break;
        case '\\': o[k++] = '\\'; break;
        case '/': o[k++] = '/'; break;
        case 'b': o[k++] = '\b'; break;
        case 'f': o[k++] = '\f'; break;
        case 'n': o[k++] = '\n'; break;
        case 'r': o[k++] = '\r'; break;
        case 't': o[k++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (i + 4 >= n) { j->why = "bad JSON \\u escape"; free(o); return NULL; }
            if (hex4(s + i + 1, &cp)) { j->why = "bad JSON \\u escape"; free(o); return NULL; }
            i += 4;
            if (cp >= 0xd800 && cp < 0xdc00) {
                if (i + 6 >= n || s[i + 1] != '\\' || s[i + 2] != 'u' || hex4(s + i + 3, &lo) || lo < 0xdc00 ||
                    lo > 0xdfff) {
                    j->why = "unpaired surrogate in a JSON string";
                    free(o);
                    return NULL;
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            } else if (cp >= 0xdc00 && cp < 0xe000) { j->why = "unpaired surrogate in a JSON string"; free(o); return NULL; }
            if (!cp) { j->why = "\\u0000 in a JSON string"; free(o); return NULL; }
            /* 6 escaped bytes become at most 4 */
            put_utf8(o, &k, cp);
            break;
        }
        default: j->why = "bad JSON escape"; free(o); return NULL;
        }
    }
    o[k] = 0;
    return o;
}

static srv_json *jvalue(jp *j, int depth);

static srv_json *jnew(jp *j, srv_json_type t)
{
    if (++j->values > SJ_MAX_VALUES) { j->why = "JSON with over 1 M values"; return NULL; }
    srv_json *v = calloc(1, sizeof *v);
    if (!v) { j->why = "out of memory"; return NULL; }
    v->type = t;
    return v;
}

static srv_json *jcontainer(jp *j, int depth, int obj)
{
    srv_json *v = jnew(j, obj ? SJ_OBJ : SJ_ARR);
    if (!v) return NULL;
    j->p++;
    ws(j);
    srv_json **tail = &v->child;
    if (j->p < j->end && *j->p == (obj ? '}' : ']')) { j->p++; return v; }
    for (;;) {
        char *key = NULL;
        ws(j);
        if (obj) {
            if (j->p >= j->end || *j->p != '"') { j->why = "JSON object key expected"; srv_json_free(v); return NULL; }
            key = jstring(j);
            if (!key) { srv_json_free(v); return NULL; }
            ws(j);
            if (j->p >= j->end || *j->p != ':') { j->why = "':' expected in a JSON object"; free(key); srv_json_free(v); return NULL; }
            j->p++;
        }
        srv_json *c = jvalue(j, depth + 1);
        if (!c) { free(key); srv_json_free(v); return NULL; }
        c->key = key;
        *tail = c;
        tail = &c->next;
        v->n++;
        ws(j);
        if (j->p < j->end && *j->p == ',') { j->p++; continue; }
        if (j->p < j->end && *j->p == (obj ? '}' : ']')) { j->p++; return v; }
        j->why = obj ? "',' or '}' expected in a JSON object" : "',' or ']' expected in a JSON array";
        srv_json_free(v);
        return NULL;
    }
}

static srv_json *jvalue(jp *j, int depth)
{
    if (depth > SJ_MAX_DEPTH) { j->why = "JSON nested over 16 deep"; return NULL; }
    ws(j);
    if (j->p >= j->end) { j->why = "JSON value expected"; return NULL; }
    char c = *j->p;
    if (c == '{' || c == '[') return jcontainer(j, depth, c == '{');
    if (c == '"') {
        srv_json *v = jnew(j, SJ_STR);
        if (!v) return NULL;
        if (!(v->str = jstring(j))) { free(v); return NULL; }
        return v;
    }
    static const struct { const char *w; srv_json_type t; int b; } lit[] = {
        {"true", SJ_BOOL, 1}, {"false", SJ_BOOL, 0}, {"null", SJ_NULL, 0}};
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(lit[i].w);
        if ((size_t)(j->end - j->p) >= l && !memcmp(j->p, lit[i].w, l)) {
            srv_json *v = jnew(j, lit[i].t);
            if (!v) return NULL;
            v->b = lit[i].b;
            j->p += l;
            return v;
        }
    }
    /* a number, by JSON's grammar, copied out so strtod never reads past the body */
    const char *s = j->p;
    if (j->p < j->end && *j->p == '-') j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') { j->why = "bad JSON value"; return NULL; }
    if (*j->p == '0') j->p++;
    else while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9') { j->why = "bad JSON number"; return NULL; }
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9') { j->why = "bad JSON number"; return NULL; }
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
    }
    size_t n = (size_t)(j->p - s);
    if (n > 64) { j->why = "JSON number over 64 characters"; return NULL; }
    char tmp[65];
    memcpy(tmp, s, n);
    tmp[n] = 0;
    srv_json *v = jnew(j, SJ_NUM);
    if (!v) return NULL;
    v->num = strtod(tmp, NULL);
    return v;
}

srv_json *srv_json_parse(const char *text, size_t n, const char **why)
{
    jp j = {text, text + n, 0, NULL};
    srv_json *v = jvalue(&j, 0);
    if (v) {
        ws(&j);
        if (j.p != j.end) { srv_json_free(v); v = NULL; j.why = "bytes after the JSON value"; }
    }
    if (!v && why) *why = j.why ? j.why : "bad JSON";
    return v;
}

void srv_json_free(srv_json *j)
{
    while (j) {
        srv_json *next = j->next;
        srv_json_free(j->child);
        free(j->str);
        free(j->key);
        free(j);
        j = next;
    }
}

const srv_json *srv_json_get(const srv_json *obj, const char *key)
{
    if (!obj || obj->type != SJ_OBJ) return NULL;
    for (const srv_json *c = obj->child; c; c = c->next)
        if (!strcmp(c->key, key)) return c;
    return NULL;
}

/* ---- output ---------------------------------------------------------------------------------- */

void srv_buf_add(srv_buf *b, const void *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void srv_buf_str(srv_buf *b, const char *s)
{
    srv_buf_add(b, s, strlen(s));
}

void srv_buf_fmt(srv_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) { srv_buf_add(b, tmp, (size_t)n); return; }
    char *big = malloc((size_t)n + 1);
    if (!big) { b->oom = 1; return; }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    srv_buf_add(b, big, (size_t)n);
    free(big);
}

static int utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80) return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xe0 && s[0] <= 0xef) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80) return 0;
        if (s[0] == 0xe0 && s[1] < 0xa0) return 0;
        if (s[0] == 0xed && s[1] > 0x9f) return 0;
        return 3;
    }
    if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80) return 0;
        if (s[0] == 0xf0 && s[1] < 0x90) return 0;
        if (s[0] == 0xf4 && s[1] > 0x8f) return 0;
        return 4;
    }
    return 0;
}

void srv_buf_json_str(srv_buf *b, const char *s)
{
    srv_buf_add(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') { char e[2] = {'\\', (char)c}; srv_buf_add(b, e, 2); p++; continue; }
        if (c < 0x20 || c == 0x7f) { srv_buf_fmt(b, "\\u%04x", c); p++; continue; }
        int l = utf8_len(p);
        if (!l) { srv_buf_str(b, "\xef\xbf\xbd"); p++; continue; }
        srv_buf_add(b, p, (size_t)l);
        p += l;
    }
    srv_buf_add(b, "\"", 1);
}

void srv_buf_json_id(srv_buf *b, const char *s)
{
    size_t n = strlen(s);
    int num = n >= 1 && n <= 18 && (n == 1 || s[0] != '0') && strspn(s, "0123456789") == n;
    if (num) srv_buf_add(b, s, n);
    else srv_buf_json_str(b, s);
}

int srv_token_equal(const char *a, size_t an, const char *b, size_t bn)
{
    /* every byte of the longer string is visited whatever matches, so the time tells the lengths
     * only (and the configured token's length is no secret worth more than its bytes) */
    size_t n = an > bn ? an : bn;
    volatile unsigned char d = (unsigned char)(an != bn);
    for (size_t i = 0; i < n; i++) {
        unsigned char x = i < an ? (unsigned char)a[i] : 0, y = i < bn ? (unsigned char)b[i] : 0;
        d |= (unsigned char)(x ^ y);
    }
    return d == 0 && n > 0;
}
