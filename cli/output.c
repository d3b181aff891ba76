/* output.c - TSV (default), CSV and JSON Lines writers with escaping that survives any file name.
 *
 * File names are bytes, not text. TSV and CSV write control characters, backslashes and bytes that
 * are not valid UTF-8 as \xHH / \\ so a row always stays one line and round-trips; JSON writes such
 * names with U+FFFD in "path" plus the exact bytes in "path_hex".
 *
 * Names can also mislead. The bidirectional controls (U+202A-202E, U+2066-2069, U+200E, U+200F,
 * U+061C) reorder what is shown ("evil\u202Egpj.exe" shows as "evilexe.jpg"): TSV and CSV write
 * their bytes as \xHH, JSON as \uXXXX, the review page as a visible <U+XXXX>. And a TSV or CSV text
 * cell that begins with = + - @ (or tab or CR) is a formula to a spreadsheet: such a cell, or one
 * that begins with quotes (' or ") before such a character, gets one more leading ' (OWASP's
 * advice; core/hashlist.c takes it off when the file is read back as a list). Numeric columns are
 * written by cli_field_int/raw and never changed.
 */
#include "cli.h"

#include <string.h>

int cli_parse_format(const char *s, cli_format *f)
{
    if (!strcmp(s, "tsv")) *f = FMT_TSV;
    else if (!strcmp(s, "csv")) *f = FMT_CSV;
    else if (!strcmp(s, "jsonl") || !strcmp(s, "json")) *f = FMT_JSONL;
    else return -1;
    return 0;
}

/* Length of the valid UTF-8 sequence at s, or 0. */
int cli_utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    int n;
    unsigned min;
    if (c >= 0xc2 && c <= 0xdf) { n = 2; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; min = 0x10000; }
    else return 0;
    unsigned cp = c & (0x3f >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

unsigned cli_bidi_control(const unsigned char *s)
{
    if (s[0] == 0xd8 && s[1] == 0x9c) return 0x61c;
    if (s[0] != 0xe2) return 0;
    if (s[1] == 0x80 && (s[2] == 0x8e || s[2] == 0x8f || (s[2] >= 0xaa && s[2] <= 0xae))) return 0x2000u | (s[2] & 0x3fu);
    if (s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9) return 0x2040u | (s[2] & 0x3fu);
    return 0;
}

void cli_tsv_escape(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        int n = cli_utf8_len(s);
        if (n == 1 && *s >= 0x20 && *s != 0x7f && *s != '\\') { fputc(*s, f); s++; continue; }
        if (n > 1 && cli_bidi_control(s)) { for (int k = 0; k < n; k++) fprintf(f, "\\x%02x", s[k]); s += n; continue; }
        if (n > 1) { fwrite(s, 1, (size_t)n, f); s += n; continue; }
        if (*s == '\\') fputs("\\\\", f);
        else if (*s == '\t') fputs("\\t", f);
        else if (*s == '\n') fputs("\\n", f);
        else if (*s == '\r') fputs("\\r", f);
        else fprintf(f, "\\x%02x", *s);
        s++;
    }
}

int cli_cell_needs_guard(const char *s)
{
    while (*s == '\'' || *s == '"') s++; /* an importer may take a leading '"' for CSV quoting */
    return *s && strchr("=+-@\t\r", *s) != NULL;
}

static int csv_needs_quotes(const char *s)
{
    return strpbrk(s, ",\"") != NULL;
}

static void csv_write(FILE *f, const char *s, int guard)
{
    if (!csv_needs_quotes(s)) {
        if (guard) fputc('\'', f);
        cli_tsv_escape(f, s);
        return;
    }
    fputc('"', f);
    if (guard) fputc('\'', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"') { fputs("\"\"", f); continue; }
        /* keep multi-byte sequences intact (escaped only if they are bidi controls) */
        int n = cli_utf8_len((const unsigned char *)p);
        if (n > 1) {
            char seq[5] = {0};
            memcpy(seq, p, (size_t)n);
            cli_tsv_escape(f, seq);
            p += n - 1;
            continue;
        }
        char one[2] = {*p, 0};
        cli_tsv_escape(f, one);
    }
    fputc('"', f);
}

/* A text cell of TSV or CSV, guarded against formulas. */
static void text_cell(cli_out *o, const char *s)
{
    int guard = cli_cell_needs_guard(s);
    if (o->fmt == FMT_TSV) {
        if (guard) fputc('\'', o->f);
        cli_tsv_escape(o->f, s);
    } else csv_write(o->f, s, guard);
}

/* JSON string; returns 1 if some byte was not valid UTF-8 (written as U+FFFD). */
int cli_json_str(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    int lossy = 0;
    fputc('"', f);
    while (*s) {
        int n = cli_utf8_len(s);
        if (n == 0) { fputs("\\ufffd", f); lossy = 1; s++; continue; }
        unsigned bidi = n > 1 ? cli_bidi_control(s) : 0;
        if (bidi) { fprintf(f, "\\u%04x", bidi); s += n; continue; }
        if (n > 1) { fwrite(s, 1, (size_t)n, f); s += n; continue; }
        switch (*s) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        case '\r': fputs("\\r", f); break;
        default:
            if (*s < 0x20 || *s == 0x7f) fprintf(f, "\\u%04x", *s);
            else fputc(*s, f);
        }
        s++;
    }
    fputc('"', f);
    return lossy;
}

void cli_header(cli_out *o, const char **names, int ncols)
{
    o->names = names;
    o->ncols = ncols;
    if (o->fmt == FMT_JSONL) return;
    for (int i = 0; i < ncols; i++) {
        if (i) fputc(o->fmt == FMT_TSV ? '\t' : ',', o->f);
        fputs(names[i], o->f);
    }
    fputc('\n', o->f);
}

void cli_row_begin(cli_out *o)
{
    o->col = 0;
    if (o->fmt == FMT_JSONL) fputc('{', o->f);
}

static void sep(cli_out *o)
{
    if (o->fmt == FMT_JSONL) {
        if (o->col) fputc(',', o->f);
        fprintf(o->f, "\"%s\":", o->names[o->col]);
    } else if (o->col) {
        fputc(o->fmt == FMT_TSV ? '\t' : ',', o->f);
    }
}

void cli_field_str(cli_out *o, const char *s)
{
    sep(o);
    if (o->fmt == FMT_JSONL) { if (s) cli_json_str(o->f, s); else fputs("null", o->f); }
    else if (s) text_cell(o, s);
    o->col++;
}

void cli_field_path(cli_out *o, const char *s)
{
    sep(o);
    if (o->fmt == FMT_JSONL) {
        if (cli_json_str(o->f, s)) {
            fputs(",\"path_hex\":\"", o->f);
            for (const unsigned char *p = (const unsigned char *)s; *p; p++) fprintf(o->f, "%02x", *p);
            fputc('"', o->f);
        }
    } else text_cell(o, s);
    o->col++;
}

void cli_field_int(cli_out *o, long long v, int present)
{
    sep(o);
    if (present) fprintf(o->f, "%lld", v);
    else if (o->fmt == FMT_JSONL) fputs("null", o->f);
    o->col++;
}

void cli_field_raw(cli_out *o, const char *json)
{
    sep(o);
    if (o->fmt == FMT_JSONL) fputs(json ? json : "null", o->f);
    else if (json) fputs(json, o->f);
    o->col++;
}

void cli_row_end(cli_out *o)
{
    if (o->fmt == FMT_JSONL) fputc('}', o->f);
    fputc('\n', o->f);
}

void cli_json_path(FILE *f, const char *key, const char *name)
{
    fprintf(f, "\"%s\":", key);
    if (cli_json_str(f, name)) {
        fprintf(f, ",\"%s_hex\":\"", key);
        for (const unsigned char *p = (const unsigned char *)name; *p; p++) fprintf(f, "%02x", *p);
        fputc('"', f);
    }
}
