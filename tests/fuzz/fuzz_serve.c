/* fuzz_serve.c - the request parsers of `vigil serve` (cli/serve_parse.c) on arbitrary bytes: the
 * first byte picks the parser (query string, multipart body, JSON body), the rest is the input.
 * Each must return an answer without reading outside its input, and what it returns must hold its
 * own contract: a found multipart part lies inside the body, a decoded query value has no NUL, a
 * parsed JSON tree re-serialises to valid UTF-8 strings. */
#include "../../cli/cli.h"
#include "../../cli/serve.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *cli_prog = "fuzz-serve";
void cli_warn(const char *fmt, ...)
{
    (void)fmt;
}

static void walk(const srv_json *j, srv_buf *b)
{
    for (; j; j = j->next) {
        if (j->key) srv_buf_json_str(b, j->key);
        if (j->type == SJ_STR) srv_buf_json_str(b, j->str);
        walk(j->child, b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int mode = data[0] % 3;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    if (mode == 0) {
        /* a query string is NUL-terminated text in the server */
        char *q = malloc(n + 1);
        if (!q) return 0;
        memcpy(q, in, n);
        q[n] = 0;
        static const char *keys[] = {"signal", "signal_type", "banks", "url", "radius", "mask", "a"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            char out[256];
            int r = srv_query_get(q, keys[k], out, sizeof out);
            if (r == 1 && strlen(out) >= sizeof out) abort();
        }
        char ct[80];
        srv_multipart_boundary(q, ct, sizeof ct);
        free(q);
    } else if (mode == 1) {
        /* the boundary is the first line, the body the rest */
        const char *nl = memchr(in, '\n', n);
        if (!nl) return 0;
        size_t bl = (size_t)(nl - in);
        if (bl > 70 || bl == 0) return 0;
        char boundary[80];
        memcpy(boundary, in, bl);
        boundary[bl] = 0;
        if (strlen(boundary) != bl) return 0;
        const char *body = nl + 1;
        size_t blen = n - bl - 1;
        char *copy = malloc(blen ? blen : 1); /* exact size, so ASan sees any read past the end */
        if (!copy) return 0;
        memcpy(copy, body, blen);
        const char *d, *why;
        size_t len;
        if (srv_multipart_find(copy, blen, boundary, "photo", &d, &len, &why) == 1 &&
            (d < copy || d + len > copy + blen))
            abort();
        free(copy);
    } else {
        char *copy = malloc(n ? n : 1);
        if (!copy) return 0;
        memcpy(copy, in, n);
        const char *why;
        srv_json *j = srv_json_parse(copy, n, &why);
        if (j) {
            srv_buf b = {0};
            walk(j, &b);
            free(b.p);
            srv_json_free(j);
        }
        free(copy);
    }
    return 0;
}
