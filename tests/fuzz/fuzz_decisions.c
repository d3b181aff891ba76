/* fuzz_decisions.c - `vigil review apply`'s readers (cli/review.c) on arbitrary bytes: the
 * decisions file parser, and the rewriting of a results.jsonl line and a vics.json Media line.
 * Properties: a parsed file's decisions are sorted with no id twice and valid values; a rewritten
 * line rewritten again with the same decisions is unchanged (apply is idempotent), and so is a
 * Media line given the same category twice. */
#include "../../cli/cli.h"
#include "../../cli/review.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char *cli_prog = "fuzz-decisions";
void cli_warn(const char *fmt, ...)
{
    (void)fmt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) return 0;
    int mode = data[0] % 3;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    if (mode == 0) {
        review_decisions d;
        char why[512];
        if (!review_decisions_parse(s, n, &d, why, sizeof why)) {
            for (size_t i = 0; i < d.n; i++) {
                if (d.d[i].decision < 0 || d.d[i].decision > 3 || d.d[i].category < -1 || d.d[i].category > 99) abort();
                if (i && (d.d[i - 1].line > d.d[i].line || (d.d[i - 1].line == d.d[i].line && d.d[i - 1].index >= d.d[i].index))) abort();
            }
            review_decisions_free(&d);
        } else if (!why[0]) abort();
        return 0;
    }
    if (mode == 1) {
        /* decisions on the first matches of the line, from the bytes after a NUL (if any) */
        const char *nul = memchr(s, 0, n);
        size_t ln = nul ? (size_t)(nul - s) : n;
        review_decision d[3];
        size_t nd = 0;
        for (size_t i = 0; i < 3 && nul && (size_t)(nul - s) + 1 + i < n; i++) {
            uint8_t b = (uint8_t)nul[1 + i];
            d[nd] = (review_decision){0, (uint32_t)(nd + (b >> 6)), b % 4, (b >> 2) % 8 == 7 ? -1 : (b >> 2) % 8, NULL, 0};
            if (nd && d[nd].index <= d[nd - 1].index) d[nd].index = d[nd - 1].index + 1;
            nd++;
        }
        size_t ol, unknown = 0, u2 = 0;
        int cat, md5, cat2, md52;
        char *o = review_rewrite_line(s, ln, d, nd, &ol, &unknown, &cat, &md5);
        if (o) {
            size_t ol2;
            char *o2 = review_rewrite_line(o, ol, d, nd, &ol2, &u2, &cat2, &md52);
            if (!o2 || ol2 != ol || memcmp(o, o2, ol) || u2 != unknown || cat2 != cat || md52 != md5) abort();
            free(o2);
            free(o);
        }
        return 0;
    }
    int cat = (int)(data[0] / 3) % 104 - 2; /* -2 .. 101 */
    if (cat > 99) cat = -1;
    size_t ol;
    char *o = review_vics_line(s, n, cat, &ol);
    if (o) {
        size_t ol2;
        char *o2 = review_vics_line(o, ol, cat, &ol2);
        if (!o2 || (cat != -1 && (ol2 != ol || memcmp(o, o2, ol)))) abort();
        free(o2);
        free(o);
    }
    return 0;
}
