/* fuzz_shard.c - what `scan merge` reads from a shard's folder before it trusts it
 * (cli/scan_shard.c): shard.done (scan_shard_read_done), the settings with their shard clause
 * (scan_settings_unsharded, on the journal header's text), a --shard value (scan_shard_parse),
 * and the walk order and shard of arbitrary paths (scan_walk_cmp, scan_root_of, scan_shard_of).
 * The first byte picks which; the rest is the input. */
#include "../../cli/scan_dist.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *cli_prog = "fuzz-shard";
void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[256];
    vsnprintf(buf, sizeof buf, fmt, ap); /* formatted (so its arguments are read), not printed */
    va_end(ap);
}

static char dir[64], path[128];

static void cleanup(void)
{
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/vigil-fuzz-shard.XXXXXX", access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
        if (!mkdtemp(dir)) abort();
        snprintf(path, sizeof path, "%s/shard.done", dir);
        atexit(cleanup);
    }
    if (!size) return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0; /* a C string: the text up to the first NUL */
    switch (data[0] % 4) {
    case 0: {
        FILE *f = fopen(path, "wb");
        if (!f) abort();
        fwrite(data + 1, 1, size - 1, f);
        fclose(f);
        scan_shard_info in;
        char why[300];
        if (!scan_shard_read_done(dir, &in, why, sizeof why)) {
            if (!in.sh.n || in.sh.k < 1 || in.sh.k > in.sh.n) abort();
            for (int i = 0; i < in.nroots; i++) if (!in.roots[i]) abort();
            scan_shard_info_free(&in);
        }
        break;
    }
    case 1: {
        scan_shard sh;
        char *u = scan_settings_unsharded(s, &sh);
        if (u && strlen(u) > strlen(s)) abort();
        if (u && sh.n && strstr(u, " shard=") && strstr(u, " shard=") < strchr(u, ';')) { /* a second clause may stay */ }
        free(u);
        break;
    }
    case 2: {
        scan_shard sh;
        if (!scan_shard_parse(s, &sh) && (!sh.n || sh.k < 1 || sh.k > sh.n)) abort();
        break;
    }
    default: {
        /* two paths and a root, NUL-separated */
        size_t a = strlen(s);
        const char *b = a + 1 < size - 1 ? s + a + 1 : "";
        char *roots[1] = {s};
        int ra = scan_root_of(roots, 1, s), rb = scan_root_of(roots, 1, b);
        int x = scan_walk_cmp(ra, s, rb, b), y = scan_walk_cmp(rb, b, ra, s);
        if ((x < 0) != (y > 0) || (x == 0) != (y == 0)) abort(); /* an order: antisymmetric */
        unsigned k = scan_shard_of(s, b, 7);
        if (k < 1 || k > 7) abort();
    }
    }
    free(s);
    return 0;
}
