/* test_json.c - the JSON reader (core/json.c) on its own, and the lists streamed in chunks
 * (vigil_list_parse_stream, vigil_list_parse_fd): the same entries and messages as a whole parse
 * however the bytes are cut, escapes and surrogate pairs split across chunk boundaries, a read that
 * fails, and a descriptor. */
#include "tests.h"
#include "json.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every token of s as one line of text: "{ k:a s:b n:1 [ ] }", or "ERR why @line:col". */
static void tokens(const char *s, size_t n, unsigned flags, char *out, size_t cap)
{
    vigil__src src;
    vigil__src_memory(&src, s, n);
    vigil__json j;
    vigil__json_init(&j, &src, flags);
    size_t k = 0;
    out[0] = 0;
    for (;;) {
        vigil__jtok t = vigil__json_next(&j);
        const char *txt = (const char *)j.text.p;
        int w = 0;
        switch (t) {
        case VIGIL__J_ERROR: w = snprintf(out + k, cap - k, "ERR %s @%llu:%llu", j.why, (unsigned long long)j.eline, (unsigned long long)j.ecol); break;
        case VIGIL__J_END: break;
        case VIGIL__J_OBJECT: w = snprintf(out + k, cap - k, "{ "); break;
        case VIGIL__J_OBJECT_END: w = snprintf(out + k, cap - k, "} "); break;
        case VIGIL__J_ARRAY: w = snprintf(out + k, cap - k, "[ "); break;
        case VIGIL__J_ARRAY_END: w = snprintf(out + k, cap - k, "] "); break;
        case VIGIL__J_KEY: w = snprintf(out + k, cap - k, "k:%s ", txt); break;
        case VIGIL__J_STRING: w = snprintf(out + k, cap - k, "s:%s ", txt); break;
        default: w = snprintf(out + k, cap - k, "n:%s ", txt); break;
        }
        if (w > 0) k += (size_t)w < cap - k ? (size_t)w : cap - k - 1;
        if (t == VIGIL__J_ERROR || t == VIGIL__J_END) break;
    }
    vigil__json_free(&j);
}

void test_json_reader(void)
{
    char out[512];
    const char *all = "{\"a\": [1, -2.5e+3, true, false, null], \"b\": {}}";
    tokens(all, strlen(all), 0, out, sizeof out);
    CHECK(!strcmp(out, "{ k:a [ n:1 n:-2.5e+3 n:true n:false n:null ] k:b { } } "), "tokens: %s", out);
    /* escapes: \u to UTF-8, a surrogate pair joined, the short escapes */
    const char *esc = "[\"caf\\u00e9 \\ud83d\\ude00 \\u202e \\\"\\\\\\/\\b\\f\\n\\r\\t\"]";
    tokens(esc, strlen(esc), 0, out, sizeof out);
    CHECK(!strcmp(out, "[ s:caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x80\xae \"\\/\b\f\n\r\t ] "), "escapes: %s", out);
    /* a lone surrogate: refused where it is, or U+FFFD (also before another escape, or a second
     * high surrogate, which then pairs) */
    const char *lone = "[\n  \"x\\ud800y\"]";
    tokens(lone, strlen(lone), 0, out, sizeof out);
    CHECK(!strcmp(out, "[ ERR lone surrogate \\ud800 (half of a UTF-16 pair) @2:5"), "lone: %s", out);
    const char *lones = "[\"\\ud800\\n\\udc00\\ud800\\ud83d\\ude00\\ud800\"]";
    tokens(lones, strlen(lones), VIGIL__JSON_LONE_FFFD, out, sizeof out);
    CHECK(!strcmp(out, "[ s:\xef\xbf\xbd\n\xef\xbf\xbd\xef\xbf\xbd\xf0\x9f\x98\x80\xef\xbf\xbd ] "), "lone as U+FFFD: %s", out);
    /* errors name the line and the column of the byte at fault */
    struct { const char *in, *want; } bad[] = {
        {"{\"a\":\n  \"b\\q\"}", "{ k:a ERR bad escape '\\q' @2:5"},
        {"[\"\\u12g4\"]", "[ ERR bad \\u escape: \\u must be followed by 4 hex digits @1:3"},
        {"[\"\\u12", "[ ERR the text ends inside a \\u escape @1:7"},
        {"[\"a\tb\"]", "[ ERR control character in a string @1:4"},
        {"[\"a\nb\"]", "[ ERR a line break inside a string (JSON writes it \\n) @1:4"},
        {"[\"abc", "[ ERR unterminated string @1:6"},
        {"[1 2]", "[ n:1 ERR expected ',' or ']' @1:4"},
        {"{\"a\" 1}", "{ ERR expected ':' after a member name @1:6"},
        {"{\"a\":1,}", "{ k:a n:1 ERR expected a member name (a string) @1:8"},
        {"{1:2}", "{ ERR expected a member name (a string) or '}' @1:2"},
        {"[01]", "[ ERR expected a value (a JSON number, string, true, false or null) @1:2"},
        {"[NaN]", "[ ERR expected a value (a JSON number, string, true, false or null) @1:2"},
        {"[1,]", "[ n:1 ERR expected a value (a JSON number, string, true, false or null) @1:4"},
        {"[] x", "[ ] ERR text after the document @1:4"},
        {"[[", "[ [ ERR the text ends inside an array @1:3"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tokens(bad[i].in, strlen(bad[i].in), 0, out, sizeof out);
        CHECK(!strcmp(out, bad[i].want), "%zu: '%s' gave '%s', not '%s'", i, bad[i].in, out, bad[i].want);
    }
    /* nesting is limited; skipping reads a whole value, strings not kept */
    char deep[200];
    memset(deep, '[', 100);
    tokens(deep, 100, 0, out, sizeof out);
    CHECK(strstr(out, "ERR nested too deeply @1:65") != NULL, "deep: %s", out);
    const char *sk = "{\"skip\": {\"x\": [1, \"long string\", {\"y\": null}]}, \"keep\": \"k\"}";
    vigil__src src;
    vigil__src_memory(&src, sk, strlen(sk));
    vigil__json j;
    vigil__json_init(&j, &src, 0);
    int ok = vigil__json_next(&j) == VIGIL__J_OBJECT && vigil__json_next(&j) == VIGIL__J_KEY && !vigil__json_skip(&j) &&
             vigil__json_next(&j) == VIGIL__J_KEY && !strcmp((char *)j.text.p, "keep") && vigil__json_next(&j) == VIGIL__J_STRING &&
             vigil__json_next(&j) == VIGIL__J_OBJECT_END && vigil__json_next(&j) == VIGIL__J_END;
    CHECK(ok, "skip");
    vigil__json_free(&j);
}

/* ---- lists in a stream ------------------------------------------------------------------------ */

typedef struct record { uint64_t digest; int n, bad; uint64_t last_line; char first_why[200]; } record;

static void mix(uint64_t *h, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++) *h = (*h ^ ((const uint8_t *)p)[i]) * 0x100000001b3ull;
}

static int rec_entry(const vigil_list_entry *e, void *p)
{
    record *r = p;
    r->n++;
    r->last_line = e->line;
    mix(&r->digest, &e->line, sizeof e->line);
    if (e->has_pdq) mix(&r->digest, &e->hash, sizeof e->hash);
    if (e->id) mix(&r->digest, e->id, strlen(e->id));
    if (e->labels) mix(&r->digest, e->labels, strlen(e->labels));
    if (e->md5) mix(&r->digest, e->md5, 16);
    return 0;
}

static int rec_error(uint64_t line, const char *why, void *p)
{
    record *r = p;
    if (!r->bad++) snprintf(r->first_why, sizeof r->first_why, "%llu: %s", (unsigned long long)line, why);
    mix(&r->digest, &line, sizeof line);
    mix(&r->digest, why, strlen(why));
    return 0;
}

typedef struct cutter { const char *p; size_t left, step, fail_after; } cutter;

/* step bytes a call (0: the whole of what fits); -1 once fail_after bytes have gone, when set */
static ptrdiff_t cut_read(void *buf, size_t cap, void *ctx)
{
    cutter *c = ctx;
    if (c->fail_after && c->left <= c->fail_after) return -1;
    size_t n = c->step && c->step < cap ? c->step : cap;
    if (n > c->left) n = c->left;
    memcpy(buf, c->p, n);
    c->p += n;
    c->left -= n;
    return (ptrdiff_t)n;
}

static vigil_result stream(const char *s, size_t n, size_t step, record *r, vigil_error *e)
{
    memset(r, 0, sizeof *r);
    r->digest = 1469598103934665603ull;
    cutter c = {s, n, step, 0};
    return vigil_list_parse_stream(cut_read, &c, rec_entry, rec_error, r, e);
}

static vigil_result whole(const char *s, size_t n, record *r, vigil_error *e)
{
    memset(r, 0, sizeof *r);
    r->digest = 1469598103934665603ull;
    return vigil_list_parse(s, n, rec_entry, rec_error, r, e);
}

void test_lists_streamed(void)
{
    /* a VICS document of 1.2 MB: escapes, surrogate pairs and numbers fall on 256 KiB chunk edges
     * and on every byte of small reads */
    size_t cap = 1300000, n = 0;
    char *doc = malloc(cap);
    n += (size_t)snprintf(doc + n, cap - n, "{\"@odata.context\": \"x/2.0.xml/$metadata#Media\", \"value\": [\n");
    int media = 0;
    while (n < 1200000) {
        n += (size_t)snprintf(doc + n, cap - n,
                              "{\"MediaID\": \"caf\\u00e9-%d-\\ud83d\\ude00\", \"Category\": %d, \"MD5\": \"%032x\", \"Note\": \"%.*s\\n\"%s\n",
                              media, media % 4, media, media % 50, "padding padding padding padding padding padding padding",
                              media % 3 ? ", \"AlternativeHashes\": [{\"HashName\": \"PDQ\", \"HashValue\": \"f83cc4b6d7a303ebfc183cfc06f05287c68f380f4c78370c76e1300f3eea217c\"}]}," : "},");
        media++;
    }
    n += (size_t)snprintf(doc + n, cap - n, "{\"MD5\": \"zz\"}]}\n");
    record w, s;
    vigil_error e, es;
    CHECK(whole(doc, n, &w, &e) == VIGIL_OK && w.n == media && w.bad == 1, "VICS whole: %d of %d, %d bad", w.n, media, w.bad);
    size_t steps[] = {1, 7, 4093, 65536, 0};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        vigil_result rs = stream(doc, n, steps[i], &s, &es);
        CHECK(rs == VIGIL_OK && s.digest == w.digest && s.n == w.n && s.bad == w.bad, "VICS in %zu-byte reads: %d %d", steps[i], s.n, s.bad);
    }
    /* the MediaID decoded from its escapes */
    CHECK(strstr(doc, "caf\\u00e9-0-\\ud83d\\ude00") != NULL, "fixture");

    /* JSON Lines of 600 KB: the same in pieces; a bad escape is reported with its line and column */
    n = 0;
    int lines = 0;
    while (n < 600000) {
        n += (size_t)snprintf(doc + n, cap - n, "{\"pdq\": \"f83cc4b6d7a303ebfc183cfc06f05287c68f380f4c78370c76e1300f3eea217c\", \"id\": \"n\\u00e9e-%d \\ud834\\udd1e\"}\n", lines);
        lines++;
    }
    n += (size_t)snprintf(doc + n, cap - n, "{\"pdq\": \"f83cc4b6d7a303ebfc183cfc06f05287c68f380f4c78370c76e1300f3eea217c\", \"id\": \"bad\\x\"}\n");
    CHECK(whole(doc, n, &w, &e) == VIGIL_OK && w.n == lines && w.bad == 1, "JSONL whole: %d of %d, %d bad", w.n, lines, w.bad);
    char want[160];
    snprintf(want, sizeof want, "%d: not a flat JSON object: bad escape '\\x' at column 87", lines + 1);
    CHECK(!strcmp(w.first_why, want), "JSONL bad escape: '%s', not '%s'", w.first_why, want);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        vigil_result rs = stream(doc, n, steps[i], &s, &es);
        CHECK(rs == VIGIL_OK && s.digest == w.digest, "JSONL in %zu-byte reads: %d %d", steps[i], s.n, s.bad);
    }

    /* a read that fails: VIGIL_E_IO, the entries before it delivered */
    memset(&s, 0, sizeof s);
    cutter c = {doc, n, 4096, n / 2};
    CHECK(vigil_list_parse_stream(cut_read, &c, rec_entry, rec_error, &s, &es) == VIGIL_E_IO && strstr(es.message, "read failed") &&
          s.n > 0 && s.n < lines, "failed read: %d entries, %s", s.n, es.message);
    /* a VICS document cut short by a failed read: the same, not a syntax error */
    n = (size_t)snprintf(doc, cap, "{\"@odata.context\": \"x\", \"value\": [{\"MD5\": \"%032x\"}, {\"MD5\": \"%032x\"}]}", 1, 2);
    memset(&s, 0, sizeof s);
    cutter cv = {doc, n, 1, 20};
    CHECK(vigil_list_parse_stream(cut_read, &cv, rec_entry, rec_error, &s, &es) == VIGIL_E_IO, "VICS failed read: %s", es.message);

    /* from a descriptor; a descriptor that cannot be read (a folder) is VIGIL_E_IO with errno's text */
    n = (size_t)snprintf(doc, cap, "{\"@odata.context\": \"x\", \"value\": [{\"MD5\": \"%032x\"},\n{\"MD5\": \"%032x\"}]}", 1, 2);
    const char *path = t_path(t_tmp_dir, "streamed.json");
    CHECK(!t_write_file(path, doc, n), "write");
    int fd = open(path, O_RDONLY);
    memset(&s, 0, sizeof s);
    CHECK(vigil_list_parse_fd(fd, rec_entry, rec_error, &s, &es) == VIGIL_OK && s.n == 2 && s.last_line == 2, "fd: %d", s.n);
    close(fd);
    fd = open(t_tmp_dir, O_RDONLY | O_DIRECTORY);
    CHECK(vigil_list_parse_fd(fd, rec_entry, rec_error, &s, &es) == VIGIL_E_IO && strstr(es.message, "read failed: "), "folder: %s", es.message);
    close(fd);
    CHECK(vigil_list_parse_fd(-1, rec_entry, rec_error, &s, &es) == VIGIL_E_INVALID, "fd -1");
    free(doc);
}
