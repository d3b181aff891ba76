/* json.c - the JSON pull reader (see json.h).
 *
 * Why our own and not a library: VICS exports run to gigabytes and are one JSON value
 * ({"value": [Media, ...]}), so the reader must stream. Of Debian 12's C libraries, jansson
 * (libjansson-dev) and json-c (libjson-c-dev; its tokener takes chunks but builds the tree) keep
 * the whole document as a tree: fed a 200 MB VICS file in chunks they peak at 1.2 and 1.8 GB,
 * where `vigil index build` with this reader peaks at 164 MB, index included, and at the same
 * 164 MB on a 2.4 GB file of the same Media (bench/results/vics_memory.md). yajl (libyajl-dev)
 * streams, but upstream has made no release since 2.1.0 (2014), GitHub's security team could not
 * reach a maintainer for CVE-2022-24795 (an overflow on inputs near 2 GiB) and distributions patch
 * it themselves; its errors give a byte offset, not the line and column we report. Reading JSON
 * tokens is under 400 lines here, fuzzed (tests/fuzz/fuzz_list.c: whole, and in chunks of 1 to 4096
 * bytes, which must give the same entries and messages). */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { E_VALUE, E_FIRST_VALUE, E_FIRST_KEY, E_KEY, E_NEXT, E_DONE, E_ERROR };

void vigil__json_init(vigil__json *j, vigil__src *src, unsigned flags)
{
    *j = (vigil__json){.src = src, .line_no = 1, .line_start = src->base + src->pos, .expect = E_VALUE, .flags = flags};
}

void vigil__json_free(vigil__json *j)
{
    free(j->text.p);
    j->text = (vigil__buf){0};
}

/* The stream offset of the next unread byte. */
static uint64_t offset(const vigil__json *j)
{
    return j->src->base + j->src->pos;
}

/* An error at stream offset `at` (on the current line). Returns VIGIL__J_ERROR. */
static vigil__jtok error_at(vigil__json *j, uint64_t at, vigil_result code, const char *why)
{
    if (j->expect != E_ERROR) {
        j->expect = E_ERROR;
        j->failed = code;
        snprintf(j->why, sizeof j->why, "%s", why);
        j->eline = j->line_no;
        j->ecol = at - j->line_start + 1;
    }
    return VIGIL__J_ERROR;
}

static vigil__jtok error_here(vigil__json *j, const char *why)
{
    return error_at(j, offset(j), VIGIL_E_PARSE, why);
}

/* The end of the bytes, or a read that failed: the message says which. */
static vigil__jtok error_end(vigil__json *j, const char *why)
{
    vigil_result f = j->src->failed;
    return error_at(j, offset(j), f ? f : VIGIL_E_PARSE, f == VIGIL_E_NOMEM ? "out of memory" : f ? "read failed" : why);
}

int vigil__json_fail(vigil__json *j, const char *why)
{
    if (j->expect != E_ERROR) {
        j->expect = E_ERROR;
        j->failed = VIGIL_E_PARSE;
        snprintf(j->why, sizeof j->why, "%s", why);
        j->eline = j->line;
        j->ecol = j->col;
    }
    return -1;
}

/* The next byte, not consumed, or -1 at the end. */
static int peek(vigil__json *j)
{
    vigil__src *s = j->src;
    if (s->pos == s->len && !vigil__src_fill(s, 1)) return -1;
    return (unsigned char)s->buf[s->pos];
}

static int next_byte(vigil__json *j)
{
    int c = peek(j);
    if (c >= 0) j->src->pos++;
    return c;
}

/* Skips whitespace, counting lines (a newline appears nowhere else: a raw one inside a string is an
 * error); returns the next byte, not consumed, or -1. */
static int ws(vigil__json *j)
{
    vigil__src *s = j->src;
    for (;;) {
        while (s->pos < s->len) {
            char c = s->buf[s->pos];
            if (c == '\n') {
                j->line_no++;
                j->line_start = s->base + s->pos + 1;
            } else if (c != ' ' && c != '\t' && c != '\r') return (unsigned char)c;
            s->pos++;
        }
        if (!vigil__src_fill(s, 1)) return -1;
    }
}

static int put(vigil__json *j, const void *p, size_t n)
{
    if (!vigil__buf_put(&j->text, p, n)) return 0;
    error_at(j, offset(j), VIGIL_E_NOMEM, "out of memory");
    return -1;
}

static int put_utf8(vigil__json *j, unsigned cp)
{
    uint8_t u[4];
    size_t n;
    if (cp < 0x80) { u[0] = (uint8_t)cp; n = 1; }
    else if (cp < 0x800) { u[0] = (uint8_t)(0xc0 | cp >> 6); u[1] = (uint8_t)(0x80 | (cp & 0x3f)); n = 2; }
    else if (cp < 0x10000) {
        u[0] = (uint8_t)(0xe0 | cp >> 12); u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)); u[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (uint8_t)(0xf0 | cp >> 18); u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)); u[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return put(j, u, n);
}

/* The 4 hex digits of a \u escape that began at stream offset `at`. */
static int hex4(vigil__json *j, uint64_t at, unsigned *cp)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int c = next_byte(j);
        int h = c < 0 ? -1 : vigil__hex_digit(c);
        if (h < 0) {
            if (c < 0) return error_end(j, "the text ends inside a \\u escape"), -1;
            error_at(j, at, VIGIL_E_PARSE, "bad \\u escape: \\u must be followed by 4 hex digits");
            return -1;
        }
        v = v << 4 | (unsigned)h;
    }
    *cp = v;
    return 0;
}

/* A surrogate *cp without its other half (its escape at stream offset `at`): U+FFFD, or an error. */
static int lone(vigil__json *j, uint64_t at, unsigned *cp)
{
    if (j->flags & VIGIL__JSON_LONE_FFFD) { *cp = 0xfffd; return 0; }
    char why[64];
    snprintf(why, sizeof why, "lone surrogate \\u%04x (half of a UTF-16 pair)", *cp);
    error_at(j, at, VIGIL_E_PARSE, why);
    return -1;
}

/* One escape; its backslash, at stream offset `at`, has been consumed. */
static int escape(vigil__json *j, uint64_t at, int keep)
{
    int c = next_byte(j);
    unsigned cp;
    switch (c) {
    case '"': case '\\': case '/': cp = (unsigned)c; break;
    case 'b': cp = '\b'; break;
    case 'f': cp = '\f'; break;
    case 'n': cp = '\n'; break;
    case 'r': cp = '\r'; break;
    case 't': cp = '\t'; break;
    case 'u':
        if (hex4(j, at, &cp)) return -1;
        /* a high surrogate joins the low one of the \u escape right after it; without one it is
         * lone, and that next escape (if any) is read as itself */
        while (cp >= 0xd800 && cp < 0xdc00) {
            if (peek(j) != '\\') { if (lone(j, at, &cp)) return -1; break; }
            uint64_t at2 = offset(j);
            j->src->pos++;
            if (peek(j) != 'u') {
                if (lone(j, at, &cp) || (keep && put_utf8(j, cp))) return -1;
                return escape(j, at2, keep);
            }
            j->src->pos++;
            unsigned lo;
            if (hex4(j, at2, &lo)) return -1;
            if (lo >= 0xdc00 && lo < 0xe000) { cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00); break; }
            if (lone(j, at, &cp) || (keep && put_utf8(j, cp))) return -1;
            cp = lo;
            at = at2;
        }
        if (cp >= 0xdc00 && cp < 0xe000 && lone(j, at, &cp)) return -1;
        break;
    default:
        if (c < 0) return error_end(j, "unterminated string"), -1;
        char why[40];
        if (c > 0x20 && c < 0x7f) snprintf(why, sizeof why, "bad escape '\\%c'", c);
        else snprintf(why, sizeof why, "bad escape: byte 0x%02x after '\\'", (unsigned)c);
        error_at(j, at, VIGIL_E_PARSE, why);
        return -1;
    }
    return keep ? put_utf8(j, cp) : 0;
}

/* A string; its opening quote has been consumed. Kept in text when keep. */
static int string(vigil__json *j, int keep)
{
    vigil__src *s = j->src;
    if (keep) j->text.n = 0;
    for (;;) {
        const char *p = s->buf + s->pos, *e = s->buf + s->len, *q = p;
        while (q < e && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20) q++;
        if (keep && q > p && put(j, p, (size_t)(q - p))) return -1;
        s->pos += (size_t)(q - p);
        if (q == e) {
            if (!vigil__src_fill(s, 1)) return error_end(j, "unterminated string"), -1;
            continue;
        }
        if (*q == '"') { s->pos++; break; }
        if (*q != '\\') return error_here(j, *q == '\n' ? "a line break inside a string (JSON writes it \\n)" : "control character in a string"), -1;
        uint64_t at = offset(j);
        s->pos++;
        if (escape(j, at, keep)) return -1;
    }
    if (keep) {
        j->len = j->text.n;
        if (put(j, "", 1)) return -1;
    }
    return 0;
}

/* The length of a JSON number at s (RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?), or 0. */
static size_t number_length(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i < n && s[i] == '0') i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9') while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    else return 0;
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return 0;
    }
    return i;
}

static int scalar_byte(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '+' || c == '.';
}

/* A number, true, false or null: the whole run of letters, digits, signs and dots is taken and
 * must be one of them, so "01", "1e" and "NaN" are refused as they are written. */
static vigil__jtok scalar(vigil__json *j)
{
    uint64_t at = offset(j);
    vigil__src *s = j->src;
    j->text.n = 0;
    for (;;) {
        const char *p = s->buf + s->pos, *e = s->buf + s->len, *q = p;
        while (q < e && scalar_byte((unsigned char)*q)) q++;
        if (q > p && put(j, p, (size_t)(q - p))) return VIGIL__J_ERROR;
        s->pos += (size_t)(q - p);
        if (q < e || !vigil__src_fill(s, 1)) break;
    }
    if (s->failed) return error_end(j, "");
    j->len = j->text.n;
    if (put(j, "", 1)) return VIGIL__J_ERROR;
    const char *t = (const char *)j->text.p;
    size_t n = j->len;
    if (n == 4 && !memcmp(t, "true", 4)) return VIGIL__J_TRUE;
    if (n == 5 && !memcmp(t, "false", 5)) return VIGIL__J_FALSE;
    if (n == 4 && !memcmp(t, "null", 4)) return VIGIL__J_NULL;
    if (n && number_length(t, n) == n) return VIGIL__J_NUMBER;
    return error_at(j, at, VIGIL_E_PARSE, "expected a value (a JSON number, string, true, false or null)");
}

static void after_value(vigil__json *j)
{
    j->expect = j->depth ? E_NEXT : E_DONE;
}

static vigil__jtok open_container(vigil__json *j, int array)
{
    if (j->depth == VIGIL__JSON_MAX_DEPTH) return error_here(j, "nested too deeply");
    j->src->pos++;
    j->in_array[j->depth++] = (unsigned char)array;
    j->expect = array ? E_FIRST_VALUE : E_FIRST_KEY;
    return array ? VIGIL__J_ARRAY : VIGIL__J_OBJECT;
}

static vigil__jtok close_container(vigil__json *j)
{
    j->src->pos++;
    int array = j->in_array[--j->depth];
    after_value(j);
    return array ? VIGIL__J_ARRAY_END : VIGIL__J_OBJECT_END;
}

static vigil__jtok next(vigil__json *j, int keep)
{
    for (;;) {
        if (j->expect == E_ERROR) return VIGIL__J_ERROR;
        int c = ws(j);
        j->line = j->line_no;
        j->col = offset(j) - j->line_start + 1;
        switch (j->expect) {
        case E_DONE:
            if (c < 0) return j->src->failed ? error_end(j, "") : VIGIL__J_END;
            return error_here(j, "text after the document");
        case E_NEXT: {
            int array = j->in_array[j->depth - 1];
            if (c == ',') {
                j->src->pos++;
                j->expect = array ? E_VALUE : E_KEY;
                continue;
            }
            if (c == (array ? ']' : '}')) return close_container(j);
            if (c < 0) return error_end(j, array ? "the text ends inside an array" : "the text ends inside an object");
            return error_here(j, array ? "expected ',' or ']'" : "expected ',' or '}'");
        }
        case E_FIRST_KEY:
            if (c == '}') return close_container(j);
            /* fall through */
        case E_KEY:
            if (c != '"') {
                if (c < 0) return error_end(j, "the text ends inside an object");
                return error_here(j, j->expect == E_KEY ? "expected a member name (a string)" : "expected a member name (a string) or '}'");
            }
            j->src->pos++;
            if (string(j, keep)) return VIGIL__J_ERROR;
            if (ws(j) != ':') return error_end(j, "expected ':' after a member name");
            j->src->pos++;
            j->expect = E_VALUE;
            return VIGIL__J_KEY;
        case E_FIRST_VALUE:
            if (c == ']') return close_container(j);
            /* fall through */
        default: /* E_VALUE */
            if (c == '{' || c == '[') return open_container(j, c == '[');
            if (c == '"') {
                j->src->pos++;
                if (string(j, keep)) return VIGIL__J_ERROR;
                after_value(j);
                return VIGIL__J_STRING;
            }
            if (c < 0)
                return error_end(j, !j->depth ? "unexpected end: a value is missing"
                                 : j->in_array[j->depth - 1] ? "the text ends inside an array" : "the text ends inside an object");
            vigil__jtok t = scalar(j);
            if (t != VIGIL__J_ERROR) after_value(j);
            return t;
        }
    }
}

vigil__jtok vigil__json_next(vigil__json *j)
{
    return next(j, 1);
}

int vigil__json_skip(vigil__json *j)
{
    int depth = j->depth;
    vigil__jtok t = next(j, 0);
    if (t == VIGIL__J_OBJECT || t == VIGIL__J_ARRAY) {
        while (j->depth > depth && t != VIGIL__J_ERROR) t = next(j, 0);
        return t == VIGIL__J_ERROR ? -1 : 0;
    }
    if (t == VIGIL__J_ERROR) return -1;
    /* only where no value can begin: at the end, or a closing bracket */
    return t < VIGIL__J_KEY && t != VIGIL__J_OBJECT && t != VIGIL__J_ARRAY ? vigil__json_fail(j, "expected a value") : 0;
}
