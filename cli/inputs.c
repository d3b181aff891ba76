/* inputs.c - what an INPUT argument is: a hash list (text) or images (files, folders), and reading
 * whole files for the list parser. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Reads all of path ("-" = stdin) into a malloc'd buffer. */
char *cli_read_all(const char *path, size_t *n, char *why, size_t whylen)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) { snprintf(why, whylen, "cannot open: %s", strerror(errno)); return NULL; }
    size_t cap = 1 << 16, len = 0;
    char *p = malloc(cap);
    for (;;) {
        if (!p) { snprintf(why, whylen, "out of memory"); break; }
        if (len == cap) { cap *= 2; char *q = realloc(p, cap); if (!q) { free(p); p = NULL; continue; } p = q; }
        size_t r = fread(p + len, 1, cap - len, f);
        len += r;
        if (r == 0) {
            if (ferror(f)) { snprintf(why, whylen, "read failed: %s", strerror(errno)); free(p); p = NULL; }
            break;
        }
    }
    if (f != stdin) fclose(f);
    *n = len;
    return p;
}

/* An integer option value in lo..hi; otherwise says so, naming the option and the value. */
int cli_parse_int(const char *opt, const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        cli_warn("%s needs an integer from %d to %d, not '%s'", opt, lo, hi, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* A hash list is text: no NUL and mostly printable in its first 4 KiB. Images never are. */
int cli_is_list(const char *path)
{
    if (!strcmp(path, "-")) return 1;
    struct stat st;
    if (stat(path, &st) || !S_ISREG(st.st_mode)) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char b[4096];
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    if (n == 0) return 1;
    size_t odd = 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i] == 0) return 0;
        if (b[i] < 0x20 && b[i] != '\n' && b[i] != '\r' && b[i] != '\t') odd++;
    }
    return odd * 100 < n;
}

/* Walks the paths and hashes every file in parallel batches, calling fn in walk order with each
 * result. Batches of 64 files per thread keep the threads busy while the output stays ordered;
 * fn takes ownership of path. Stops early when fn returns non-zero. */
void cli_hash_tree(char **paths, int n, const vigil_hash_options *opt, int threads, cli_hashed_fn fn, void *ctx)
{
    cli_walk *w = cli_walk_new(paths, n);
    const int batch = 64 * threads;
    char **p = calloc((size_t)batch, sizeof *p), **e = calloc((size_t)batch, sizeof *e);
    vigil_hash_result *r = calloc((size_t)batch, sizeof *r);
    vigil_result *rc = calloc((size_t)batch, sizeof *rc);
    vigil_error *er = calloc((size_t)batch, sizeof *er);
    if (!w || !p || !e || !r || !rc || !er) { cli_warn("out of memory"); exit(EXIT_USAGE); }
    int done = 0, stop = 0;
    while (!done && !stop) {
        int k = 0;
        while (k < batch && !(done = !cli_walk_next(w, &p[k], &e[k]))) k++;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (int i = 0; i < k; i++) {
            memset(&r[i], 0, sizeof r[i]);
            rc[i] = e[i] ? VIGIL_E_IO : vigil_hash_file(p[i], opt, &r[i], &er[i]);
        }
        for (int i = 0; i < k; i++) {
            if (!stop) stop = fn(p[i], e[i], rc[i], &er[i], &r[i], ctx);
            else free(p[i]);
            free(e[i]);
        }
    }
    free(p); free(e); free(r); free(rc); free(er);
    cli_walk_free(w);
}
