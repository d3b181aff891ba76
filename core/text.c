/* text.c - records, fields, numbers and encodings of list text (see text.h). */
#include "text.h"

#include <stdlib.h>
#include <string.h>

void vigil__src_memory(vigil__src *s, const void *data, size_t size)
{
    *s = (vigil__src){.buf = (char *)data, .len = size, .cap = size, .eof = 1};
}

void vigil__src_reader(vigil__src *s, vigil_read_fn read, void *ctx)
{
    *s = (vigil__src){.read = read, .ctx = ctx};
}

void vigil__src_free(vigil__src *s)
{
    if (s->read) free(s->buf);
    s->buf = NULL;
    s->pos = s->len = s->cap = 0;
}

size_t vigil__src_fill(vigil__src *s, size_t want)
{
    if (!s->read || s->len - s->pos >= want) return s->len - s->pos;
    if (s->pos) { /* drop what was consumed */
        memmove(s->buf, s->buf + s->pos, s->len - s->pos);
        s->base += s->pos;
        s->len -= s->pos;
        s->pos = 0;
    }
    while (s->len < want && !s->eof) {
        if (s->cap - s->len < VIGIL__SRC_CHUNK / 2 + 1 || s->cap < want + 1) {
            size_t cap = s->cap ? s->cap : VIGIL__SRC_CHUNK + 1;
            while (cap - s->len < VIGIL__SRC_CHUNK / 2 + 1 || cap < want + 1) cap *= 2;
            char *b = realloc(s->buf, cap);
            if (!b) { s->failed = VIGIL_E_NOMEM; s->eof = 1; break; }
            s->buf = b;
            s->cap = cap;
        }
        ptrdiff_t r = s->read(s->buf + s->len, s->cap - s->len - 1, s->ctx);
        if (r < 0 || (size_t)r > s->cap - s->len - 1) { s->failed = VIGIL_E_IO; s->eof = 1; break; }
        if (r == 0) s->eof = 1;
        s->len += (size_t)r;
    }
    return s->len;
}

char *vigil__record_end(char *p, const char *end, char sep, uint64_t *newlines, int *open)
{
    *open = 0;
    if (sep != ',') {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        return nl ? nl : (char *)end;
    }
    int field_start = 1;
    while (p < end && *p == ' ') p++; /* the readers drop spaces before a record's first field */
    while (p < end) {
        if (field_start && *p == '"') {
            p++;
            for (;;) {
                if (p == end) { *open = 1; return (char *)end; }
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') { p += 2; continue; }
                    p++;
                    break;
                }
                if (*p == '\n') ++*newlines;
                p++;
            }
            field_start = 0;
            continue;
        }
        if (*p == '\n') return p;
        field_start = *p == sep;
        p++;
    }
    return (char *)end;
}

int vigil__next_field(char **ps, char sep, char **field, const char **why)
{
    char *p = *ps;
    if (sep == ',' && *p == '"') {
        char *w = p, *r = p + 1;
        *field = p;
        for (;;) {
            if (!*r) { *why = "a quoted field is not closed"; return -1; }
            if (*r == '"') {
                if (r[1] == '"') { *w++ = '"'; r += 2; continue; }
                r++;
                break;
            }
            *w++ = *r++;
        }
        *w = 0;
        while (*r == ' ' || *r == '\r') r++;
        if (!*r) { *ps = r; return 0; }
        if (*r != sep) { *why = "text after the closing quote of a field"; return -1; }
        *ps = r + 1;
        return 1;
    }
    *field = p;
    char *next = strchr(p, sep);
    if (!next) { *ps = p + strlen(p); return 0; }
    *next = 0;
    *ps = next + 1;
    return 1;
}

int vigil__fields_push(vigil__fields *f, char *s)
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

int vigil__split_record(char *rec, char sep, vigil__fields *f, const char **why)
{
    f->n = 0;
    for (char *p = rec;;) {
        char *field;
        int more = vigil__next_field(&p, sep, &field, why);
        if (more < 0) return -2;
        if (vigil__fields_push(f, field)) return -1;
        if (!more) return 0;
    }
}

int vigil__parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!*s) return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10) return -1; /* v * 10 + d would pass max (or overflow) */
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

const char *vigil__foreign_encoding(const void *data, size_t size)
{
    const unsigned char *b = data;
    if (size >= 4 && !memcmp(b, "\xff\xfe\0\0", 4))
        return "UTF-32 text (little-endian): convert to UTF-8, e.g. iconv -f UTF-32 -t UTF-8";
    if (size >= 4 && !memcmp(b, "\0\0\xfe\xff", 4))
        return "UTF-32 text (big-endian): convert to UTF-8, e.g. iconv -f UTF-32 -t UTF-8";
    if (size >= 2 && b[0] == 0xff && b[1] == 0xfe)
        return "UTF-16 text (little-endian): convert to UTF-8, e.g. iconv -f UTF-16 -t UTF-8";
    if (size >= 2 && b[0] == 0xfe && b[1] == 0xff)
        return "UTF-16 text (big-endian): convert to UTF-8, e.g. iconv -f UTF-16 -t UTF-8";
    /* no mark: ASCII written as UTF-16 has a NUL in every other byte */
    size_t pairs = (size < 1024 ? size : 1024) / 2, le = 0, be = 0;
    for (size_t i = 0; i < pairs; i++) {
        le += b[2 * i] && !b[2 * i + 1];
        be += !b[2 * i] && b[2 * i + 1];
    }
    if (pairs >= 2 && le * 10 >= pairs * 9)
        return "UTF-16 text (little-endian, no byte-order mark): convert to UTF-8, e.g. iconv -f UTF-16LE -t UTF-8";
    if (pairs >= 2 && be * 10 >= pairs * 9)
        return "UTF-16 text (big-endian, no byte-order mark): convert to UTF-8, e.g. iconv -f UTF-16BE -t UTF-8";
    return NULL;
}

size_t vigil__utf8_bom(const void *data, size_t size)
{
    return size >= 3 && !memcmp(data, "\xef\xbb\xbf", 3) ? 3 : 0;
}
