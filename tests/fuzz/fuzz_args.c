/* fuzz_args.c - the strict parsers of option values (cli/inputs.c: whole numbers, sizes,
 * decimals, --mask rectangles, --labels) and the TSV/CSV cell writers (cli/output.c), on
 * arbitrary strings. What a parser accepts must be exactly what its grammar allows, and a written
 * cell must never hold a raw control or bidirectional control character. */
#include "../../cli/cli.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *cli_prog = "fuzz-args";
void cli_warn(const char *fmt, ...)
{
    (void)fmt;
}

static int only(const char *s, const char *set)
{
    return strspn(s, set) == strlen(s);
}

static void check_cells(const char *s)
{
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    if (!f) return;
    const char *names[] = {"a", "b"};
    for (int fmt = FMT_TSV; fmt <= FMT_CSV; fmt++) {
        cli_out o = {.f = f, .fmt = (cli_format)fmt};
        cli_header(&o, names, 2);
        cli_row_begin(&o);
        cli_field_str(&o, s);
        cli_field_path(&o, s);
        cli_row_end(&o);
    }
    fclose(f);
    size_t lines = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c == '\n') { lines++; continue; }
        if ((c < 0x20 && c != '\t') || c == 0x7f) abort();
        int l = cli_utf8_len((const unsigned char *)out + i);
        if (l > 1 && cli_bidi_control((const unsigned char *)out + i)) abort();
        if (l > 1) i += (size_t)l - 1;
    }
    if (lines != 4) abort(); /* each row stays one line */
    /* no cell, TSV or CSV, quoted or not, starts like a formula */
    for (char *p = out; (p = strchr(p, '\n')) && p[1]; p++) {
        const char *cell = p + 1;
        if (*cell == '"') cell++;
        if (*cell && strchr("=+-@", *cell)) abort();
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = 0;
    long long i;
    if (!cli_strict_int(s, -1000, 1000, &i) && (i < -1000 || i > 1000 || !only(s + (*s == '-'), "0123456789") || strtoll(s, NULL, 10) != i))
        abort();
    if (!cli_strict_int(s, 0, 256, &i) && (i < 0 || i > 256 || !only(s, "-0123456789"))) abort();
    uint64_t u;
    if (!cli_strict_u64(s, 1, UINT64_MAX, 0, &u) && (!u || !only(s, "0123456789") || strtoull(s, NULL, 10) != u)) abort();
    if (!cli_strict_u64(s, 0, 1ull << 40, 1, &u) && (u > 1ull << 40 || !only(s, "0123456789KMGTkmgtiB"))) abort();
    double d;
    if (!cli_strict_double(s, -1e9, 1e9, &d) && (!isfinite(d) || d < -1e9 || d > 1e9 || !only(s, "-0123456789.eE+"))) abort();
    vigil_rect r;
    if (!cli_strict_rect(s, &r) && (!(r.w > 0) || !(r.h > 0) || !isfinite(r.x) || !isfinite(r.y) || !isfinite(r.w) || !isfinite(r.h)))
        abort();
    const char *why = cli_labels_problem(s);
    if (!why && strpbrk(s, "\t\n\r")) abort();
    check_cells(s);
    free(s);
    return 0;
}
