/* test_text.c - the list readers' text handling (core/text.c, core/hashlist.c, core/vics.c):
 * records and fields of RFC 4180 CSV, strict whole numbers, encodings, byte-order marks, NUL bytes,
 * formula guards taken off, JSON escapes and VICS numbers. */
#include "tests.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>

typedef struct got { int n, bad; char id[8][64], labels[8][96]; int quality[8]; uint64_t line[8], badline[8]; char why[8][160]; } got;

static int on_entry(const vigil_list_entry *e, void *p)
{
    got *g = p;
    if (g->n < 8) {
        snprintf(g->id[g->n], 64, "%s", e->id ? e->id : "-");
        snprintf(g->labels[g->n], 96, "%s", e->labels ? e->labels : "-");
        g->quality[g->n] = e->quality;
        g->line[g->n] = e->line;
    }
    g->n++;
    return 0;
}

static int on_error(uint64_t line, const char *why, void *p)
{
    got *g = p;
    if (g->bad < 8) { g->badline[g->bad] = line; snprintf(g->why[g->bad], 160, "%s", why); }
    g->bad++;
    return 0;
}

static vigil_result parse(const char *s, size_t n, got *g, vigil_error *e)
{
    memset(g, 0, sizeof *g);
    return vigil_list_parse(s, n, on_entry, on_error, g, e);
}

void test_text_fields_and_numbers(void)
{
    char rec[] = "a,\"b,\"\"c\"\"\nd\",  e ,\"f\"  ";
    char *p = rec, *end = rec + strlen(rec), *f;
    uint64_t nl = 0;
    int open;
    CHECK(vigil__record_end(p, end, ',', &nl, &open) == end && nl == 1 && !open, "a quoted newline does not end the record");
    const char *why = NULL;
    const char *want[] = {"a", "b,\"c\"\nd", "  e ", "f"};
    for (int i = 0; i < 4; i++) {
        int more = vigil__next_field(&p, ',', &f, &why);
        CHECK(more == (i < 3) && !strcmp(f, want[i]), "field %d: %d '%s'", i, more, f);
    }
    char tsv[] = "a\"\tb\nc";
    nl = 0;
    CHECK(vigil__record_end(tsv, tsv + 6, '\t', &nl, &open) == tsv + 4 && nl == 0, "TSV: the line is the record");
    char bad1[] = "\"x\"y,z", bad2[] = "\"never";
    p = bad1;
    CHECK(vigil__next_field(&p, ',', &f, &why) == -1 && strstr(why, "after the closing quote"), "text after a quote");
    p = bad2;
    CHECK(vigil__next_field(&p, ',', &f, &why) == -1 && strstr(why, "not closed"), "unclosed");
    char open_rec[] = "a,\"b\nc";
    nl = 0;
    vigil__record_end(open_rec, open_rec + strlen(open_rec), ',', &nl, &open);
    CHECK(open, "an unclosed quote at the end is flagged");

    uint64_t v;
    CHECK(!vigil__parse_u64("0", 10, &v) && v == 0, "0");
    CHECK(!vigil__parse_u64("18446744073709551615", UINT64_MAX, &v) && v == UINT64_MAX, "2^64-1");
    const char *no[] = {"", "-1", "+1", " 1", "1 ", "1x", "0x10", "1e2", "18446744073709551616", "99999999999999999999999", "101"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) CHECK(vigil__parse_u64(no[i], 100, &v) == -1, "'%s' accepted", no[i]);

    CHECK(vigil__foreign_encoding("\xff\xfei\0d\0", 6) && strstr(vigil__foreign_encoding("\xff\xfei\0d\0", 6), "iconv -f UTF-16 "), "UTF-16LE BOM");
    CHECK(vigil__foreign_encoding("\xfe\xff\0i\0d", 6) != NULL, "UTF-16BE BOM");
    CHECK(vigil__foreign_encoding("\xff\xfe\0\0i\0\0\0", 8) && strstr(vigil__foreign_encoding("\xff\xfe\0\0i\0\0\0", 8), "UTF-32"), "UTF-32");
    CHECK(vigil__foreign_encoding("i\0d\0,\0p\0", 8) && strstr(vigil__foreign_encoding("i\0d\0,\0p\0", 8), "UTF-16LE"), "UTF-16LE, no BOM");
    CHECK(!vigil__foreign_encoding("id,pdq\n", 7) && !vigil__foreign_encoding("\xef\xbb\xbfid", 5), "UTF-8 is not foreign");
    CHECK(vigil__utf8_bom("\xef\xbb\xbfx", 4) == 3 && vigil__utf8_bom("\xef\xbb", 2) == 0, "BOM length");
}

void test_text_lists(void)
{
    const char *H = "f83cc4b6d7a303ebfc183cfc06f05287c68f380f4c78370c76e1300f3eea217c";
    char buf[4096];
    got g;
    vigil_error e;
    /* a UTF-8 BOM before the header: the id column is still found */
    int n = snprintf(buf, sizeof buf, "\xef\xbb\xbfid,pdq\nv1,%s\n", H);
    CHECK(parse(buf, (size_t)n, &g, &e) == VIGIL_OK && g.n == 1 && !strcmp(g.id[0], "v1"), "BOM: %d %s", g.n, g.id[0]);
    /* also before a VICS document */
    n = snprintf(buf, sizeof buf, "\xef\xbb\xbf{\"@odata.context\": \"x\", \"value\": [{\"MD5\": \"d41d8cd98f00b204e9800998ecf8427e\"}]}");
    CHECK(parse(buf, (size_t)n, &g, &e) == VIGIL_OK && g.n == 1, "BOM before VICS: %d", g.n);
    /* UTF-16 is refused as a whole, naming it */
    CHECK(parse("\xff\xfei\0d\0,\0p\0d\0q\0\n\0", 16, &g, &e) == VIGIL_E_PARSE && strstr(e.message, "UTF-16 text") && g.n == 0, "utf16: %s", e.message);
    /* NUL before anything: the file; after the header: that line, with the offset */
    CHECK(parse("id,p\0dq\n", 8, &g, &e) == VIGIL_E_PARSE && strstr(e.message, "binary data: NUL byte at offset 4 (line 1)"), "nul: %s", e.message);
    n = snprintf(buf, sizeof buf, "id,pdq\na,%s\nbX,%s\nc,%s\n", H, H, H);
    *strchr(buf, 'X') = 0;
    CHECK(parse(buf, (size_t)n, &g, &e) == VIGIL_OK && g.n == 2 && g.bad == 1 && g.badline[0] == 3 && strstr(g.why[0], "NUL byte at offset 75"),
          "nul later: %d %d %s", g.n, g.bad, g.why[0]);
    /* RFC 4180: quoted line breaks (the first record is lines 2-5); entries and errors keep their
     * file line numbers */
    n = snprintf(buf, sizeof buf, "id,pdq,note\r\n\"a\r\nb\",%s,\"x\ny\nz\"\r\nbad,%s,\"q\"w\r\nc,%s,\"\"\"\"\r\nd,nothex,\r\n", H, H, H);
    CHECK(parse(buf, (size_t)n, &g, &e) == VIGIL_OK && g.n == 2 && g.bad == 2, "rfc: %d %d", g.n, g.bad);
    CHECK(!strcmp(g.id[0], "a\r\nb") && g.line[0] == 2 && !strcmp(g.labels[0], "note=x_y_z"), "rfc 1: '%s' line %llu %s", g.id[0], (unsigned long long)g.line[0], g.labels[0]);
    CHECK(g.badline[0] == 6 && strstr(g.why[0], "closing quote") && !strcmp(g.id[1], "c") && g.line[1] == 7 && !strcmp(g.labels[1], "note=\""),
          "rfc 2: %llu %s / %s %llu %s", (unsigned long long)g.badline[0], g.why[0], g.id[1], (unsigned long long)g.line[1], g.labels[1]);
    CHECK(g.badline[1] == 8, "rfc: line of the bad hash %llu", (unsigned long long)g.badline[1]);
    n = snprintf(buf, sizeof buf, "id,pdq\na,%s\n\"open,%s\n", H, H);
    CHECK(parse(buf, (size_t)n, &g, &e) == VIGIL_OK && g.n == 1 && g.bad == 1 && g.badline[0] == 3 && strstr(g.why[0], "not closed"), "open quote");
    /* formula guards written by vigil are taken off; other leading quotes stay */
    n = snprintf(buf, sizeof buf, "id,pdq,note\n'=a,%s,'@b\n''-c,%s,'x\n\"'\"\"+d\",%s,ok\n", H, H, H);
    CHECK(parse(buf, (size_t)n, &g, &e) == VIGIL_OK && g.n == 3, "guards: %d", g.n);
    CHECK(!strcmp(g.id[0], "=a") && !strcmp(g.labels[0], "note=@b") && !strcmp(g.id[1], "'-c") && !strcmp(g.labels[1], "note='x") &&
          !strcmp(g.id[2], "\"+d"), "guards: %s %s %s %s %s", g.id[0], g.labels[0], g.id[1], g.labels[1], g.id[2]);
    /* quality: strict */
    n = snprintf(buf, sizeof buf, "id,pdq,quality\na,%s,+5\nb,%s,5.0\nc,%s,100\nd,%s,101\n", H, H, H, H);
    CHECK(parse(buf, (size_t)n, &g, &e) == VIGIL_OK && g.n == 1 && g.bad == 3 && g.quality[0] == 100, "quality: %d %d", g.n, g.bad);
    /* JSON Lines: \u escapes become UTF-8, a lone surrogate U+FFFD */
    n = snprintf(buf, sizeof buf, "{\"id\":\"caf\\u00e9 \\u202e \\ud83d\\ude00 \\ud800\",\"pdq\":\"%s\"}\n", H);
    CHECK(parse(buf, (size_t)n, &g, &e) == VIGIL_OK && g.n == 1 && !strcmp(g.id[0], "caf\xc3\xa9 \xe2\x80\xae \xf0\x9f\x98\x80 \xef\xbf\xbd"), "json: %s", g.id[0]);
    /* VICS: numbers by JSON's grammar; MediaSize and Category whole numbers */
    const char *vics_bad[] = {"NaN", "Infinity", "-Infinity", "+1", "01", "1.", ".5", "0x1f", "1e", "--1"};
    for (size_t i = 0; i < sizeof vics_bad / sizeof vics_bad[0]; i++) {
        n = snprintf(buf, sizeof buf, "{\"@odata.context\": \"x\", \"value\": [{\"MD5\": \"d41d8cd98f00b204e9800998ecf8427e\", \"Note\": %s}]}", vics_bad[i]);
        CHECK(parse(buf, (size_t)n, &g, &e) == VIGIL_E_PARSE && strstr(e.message, "expected a value"), "VICS %s: %s", vics_bad[i], e.message);
    }
    n = snprintf(buf, sizeof buf, "{\"@odata.context\": \"x\", \"value\": [{\"MD5\": \"d41d8cd98f00b204e9800998ecf8427e\", \"Note\": -1.5e+3},\n"
                                  "{\"MD5\": \"d41d8cd98f00b204e9800998ecf8427e\", \"Category\": 100},\n"
                                  "{\"MD5\": \"d41d8cd98f00b204e9800998ecf8427e\", \"MediaSize\": 1e3},\n"
                                  "{\"MD5\": \"d41d8cd98f00b204e9800998ecf8427e\", \"MediaSize\": \"12\", \"Category\": 3}]}");
    CHECK(parse(buf, (size_t)n, &g, &e) == VIGIL_OK && g.n == 2 && g.bad == 2, "VICS numbers: %d %d", g.n, g.bad);
    CHECK(g.badline[0] == 2 && strstr(g.why[0], "Category '100' is not a whole number from 0 to 99") && g.badline[1] == 3 &&
          strstr(g.why[1], "MediaSize '1e3'"), "VICS messages: %s / %s", g.why[0], g.why[1]);
    CHECK(!strcmp(g.labels[1], "category=3 size=12"), "VICS labels %s", g.labels[1]);
}
