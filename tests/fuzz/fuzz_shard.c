/* fuzz_shard.c - what `scan merge` reads from a shard's folder before it trusts it
 * (cli/scan_shard.c): shard.done (scan_shard_read_done), the settings with their shard clause
 * (scan_settings_unsharded, on the journal header's text), a --shard value (scan_shard_parse),
 * the walk order and shard of arbitrary paths (scan_walk_cmp, scan_root_of, scan_shard_of), and a
 * rank's thumbs.vgt as the merge's page reads it (thumbs_open_index, thumbs_get_checked), checked
 * against the full reader (thumbs_open_read): whatever that one loads the index has, the same.
 * The first byte picks which (mod 8); the rest is the input. */
#include "../../cli/scan_dist.h"
#include "../../cli/thumbs.h"

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

static char dir[64], path[128], tpath[128];

static void cleanup(void)
{
    unlink(path);
    unlink(tpath);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/vigil-fuzz-shard.XXXXXX", access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
        if (!mkdtemp(dir)) abort();
        snprintf(path, sizeof path, "%s/shard.done", dir);
        snprintf(tpath, sizeof tpath, "%s/thumbs.vgt", dir);
        atexit(cleanup);
    }
    if (!size) return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0; /* a C string: the text up to the first NUL */
    switch (data[0] % 8) {
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
    case 4: {
        FILE *f = fopen(tpath, "wb");
        if (!f) abort();
        fwrite(data + 1, 1, size - 1, f);
        fclose(f);
        scan_thumbs ix, full;
        int hi = thumbs_open_index(&ix, dir), hf = thumbs_open_read(&full, dir);
        if (!hf && hi) abort(); /* a file the full reader takes, the index takes too */
        if (!hi) {
            for (size_t i = 0; i < ix.cap; i++) {
                thumb_slot *t = &ix.tab[i];
                if (!(t->key[0] | t->key[1])) continue;
                uint8_t key[16];
                memcpy(key, t->key, 8);
                memcpy(key + 8, &t->key[1], 8);
                size_t n = 0;
                uint8_t *img = thumbs_get_checked(&ix, key, &n);
                if (thumbs_len(&ix, key) != t->len || (img && n != t->len)) abort();
                if (!hf && thumbs_has(&full, key)) { /* checked by the full reader: the same bytes */
                    size_t m = 0;
                    uint8_t *ref = thumbs_get(&full, key, &m);
                    if (ref && (!img || m != n || memcmp(ref, img, n))) abort();
                    free(ref);
                }
                free(img);
            }
            if (!hf)
                for (size_t i = 0; i < full.cap; i++)
                    if ((full.tab[i].key[0] | full.tab[i].key[1])) {
                        uint8_t key[16];
                        memcpy(key, full.tab[i].key, 8);
                        memcpy(key + 8, &full.tab[i].key[1], 8);
                        if (thumbs_len(&ix, key) != full.tab[i].len) abort();
                    }
            thumbs_close(&ix);
        }
        if (!hf) thumbs_close(&full);
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
