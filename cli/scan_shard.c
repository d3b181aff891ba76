/* scan_shard.c - `vigil scan --shard K/N`: the paths of one share of the tree, chosen by a hash of
 * each path below its root, so N processes started anywhere (a Slurm job array, Kubernetes Jobs)
 * split the tree the same way without talking to each other; and the walk order that the merge of
 * their outputs (scan_merge.c) restores. */
#include "scan_dist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

int scan_shard_parse(const char *spec, scan_shard *sh)
{
    const char *slash = strchr(spec, '/');
    long long k, n;
    char ks[32];
    if (!slash || (size_t)(slash - spec) >= sizeof ks) {
        cli_warn("--shard %s: give K/N, the K-th of N shares (1 <= K <= N), e.g. --shard 2/8", spec);
        return -1;
    }
    memcpy(ks, spec, (size_t)(slash - spec));
    ks[slash - spec] = 0;
    if (cli_strict_int(ks, 1, 1000000, &k) || cli_strict_int(slash + 1, 1, 1000000, &n) || k > n) {
        cli_warn("--shard %s: give K/N with whole numbers 1 <= K <= N <= 1000000, e.g. --shard 2/8", spec);
        return -1;
    }
    sh->k = (unsigned)k;
    sh->n = (unsigned)n;
    return 0;
}

/* The part of path below root: what stays the same wherever the tree is mounted. */
static const char *below_root(const char *root, const char *path)
{
    size_t n = strlen(root);
    if (!strcmp(path, root)) { /* the root is the file itself: its name */
        const char *s = strrchr(path, '/');
        return s && s[1] ? s + 1 : path;
    }
    if (n && !strncmp(path, root, n)) {
        if (root[n - 1] == '/') return path + n;
        if (path[n] == '/') return path + n + 1;
    }
    return path;
}

unsigned scan_shard_of(const char *root, const char *path, unsigned n)
{
    const char *rel = below_root(root, path);
    return (unsigned)(XXH3_64bits(rel, strlen(rel)) % n) + 1;
}

int scan_root_of(char *const *roots, int nroots, const char *path)
{
    for (int i = 0; i < nroots; i++) {
        size_t n = strlen(roots[i]);
        if (!strncmp(path, roots[i], n) && (path[n] == 0 || path[n] == '/' || (n && roots[i][n - 1] == '/'))) return i;
    }
    return nroots; /* from a list read on stdin: ordered by path after the roots */
}

int scan_walk_ncmp(int ra, const char *a, size_t la, int rb, const char *b, size_t lb)
{
    if (ra != rb) return ra < rb ? -1 : 1;
    /* names in strcmp order, depth-first: '/' sorts before every byte of a name */
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (size_t i = 0;; i++) {
        unsigned cx = i == la ? 0 : x[i] == '/' ? 1 : x[i] + 1u, cy = i == lb ? 0 : y[i] == '/' ? 1 : y[i] + 1u;
        if (cx != cy) return cx < cy ? -1 : 1;
        if (!cx) return 0;
    }
}

int scan_walk_cmp(int ra, const char *a, int rb, const char *b)
{
    return scan_walk_ncmp(ra, a, strlen(a), rb, b, strlen(b));
}

static int walk_next(void *ctx, char **path, char **err, int *link, char *why, size_t whylen)
{
    scan_walk_src *ws = ctx;
    (void)why;
    (void)whylen;
    for (;;) {
        if (!cli_walk_next(ws->w, path, err)) return 0;
        if (ws->sh.n && scan_shard_of(cli_walk_root(ws->w), *path, ws->sh.n) != ws->sh.k) {
            free(*path);
            free(*err);
            ws->others++;
            continue;
        }
        *link = cli_walk_via_link(ws->w);
        return 1;
    }
}

int scan_walk_source(scan_walk_src *ws, scan_source *src, char **paths, int npaths, const scan_shard *sh)
{
    memset(ws, 0, sizeof *ws);
    if (sh) ws->sh = *sh;
    if (!(ws->w = cli_walk_new(paths, npaths))) return -1;
    src->next = walk_next;
    src->ctx = ws;
    return 0;
}

void scan_walk_source_free(scan_walk_src *ws)
{
    cli_walk_free(ws->w);
    ws->w = NULL;
}

char *scan_settings_unsharded(const char *settings, scan_shard *sh)
{
    sh->k = sh->n = 0;
    char *s = strdup(settings);
    if (!s) return NULL;
    char *end = strchr(s, ';');
    end = end ? strchr(end + 1, ';') : NULL; /* the options end at the second ';' */
    char *at = strstr(s, " shard=");
    if (!at || !end || at > end) return s;
    unsigned k, n;
    int used = 0;
    if (sscanf(at, " shard=%u/%u%n", &k, &n, &used) == 2 && at + used == end) {
        sh->k = k;
        sh->n = n;
        memmove(at, end, strlen(end) + 1);
    }
    return s;
}

/* ---- shard.done -------------------------------------------------------------------------------- */

int scan_shard_write_done(const char *dir, const scan_shard *sh, const scan_journal *j, char **roots, int nroots, char *why,
                          size_t whylen)
{
    char *tmp = NULL, path[4200];
    FILE *f = cli_open_output_in(dir, "shard.done", &tmp, path, sizeof path, why, whylen);
    if (!f) return -1;
    fprintf(f, "vigil shard 1\nshard %u/%u\nrecords %llu\nbytes %llu\nroots %d\n", sh->k, sh->n, (unsigned long long)j->records,
            (unsigned long long)j->end, nroots);
    for (int i = 0; i < nroots; i++) { /* length first: a path may hold any byte but NUL */
        fprintf(f, "%zu ", strlen(roots[i]));
        fputs(roots[i], f);
        fputc('\n', f);
    }
    int rc = cli_commit_output(f, tmp, path);
    free(tmp);
    if (rc) snprintf(why, whylen, "%s: writing failed", path);
    return rc ? -1 : 0;
}

void scan_shard_info_free(scan_shard_info *in)
{
    for (int i = 0; i < in->nroots; i++) free(in->roots[i]);
    free(in->roots);
    in->roots = NULL;
    in->nroots = 0;
}

int scan_shard_read_done(const char *dir, scan_shard_info *in, char *why, size_t whylen)
{
    memset(in, 0, sizeof *in);
    char path[4200];
    snprintf(path, sizeof path, "%s/shard.done", dir);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return 1;
        snprintf(why, whylen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    int nroots = -1;
    if (fscanf(f, "vigil shard 1\nshard %u/%u\nrecords %llu\nbytes %llu\nroots %d\n", &in->sh.k, &in->sh.n, &in->records, &in->bytes,
               &nroots) != 5 || nroots < 0 || nroots > 1000000 || !in->sh.n || in->sh.k < 1 || in->sh.k > in->sh.n)
        goto bad;
    in->roots = calloc((size_t)nroots + 1, sizeof *in->roots);
    if (!in->roots) goto bad;
    for (int i = 0; i < nroots; i++) {
        size_t len;
        if (fscanf(f, "%zu", &len) != 1 || fgetc(f) != ' ' || len > 65536) goto bad;
        char *r = malloc(len + 1);
        if (!r) goto bad;
        in->roots[in->nroots++] = r;
        if (fread(r, 1, len, f) != len || fgetc(f) != '\n') goto bad;
        r[len] = 0;
    }
    fclose(f);
    return 0;
bad:
    fclose(f);
    scan_shard_info_free(in);
    snprintf(why, whylen, "%s: not a shard.done that this vigil wrote (damaged?)", path);
    return -1;
}
