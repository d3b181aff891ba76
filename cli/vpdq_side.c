/* vpdq_side.c - one side of a video comparison: a video (hashed here) or a vPDQ file. */
#include "vpdq_side.h"
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_is_video(const char *path)
{
    uint64_t size;
    int fd = cli_open_regular(path, 0, &size, NULL, 0);
    if (fd < 0) return 0;
    unsigned char head[512];
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    return n > 0 && vigil_video_sniff(head, (size_t)n);
}

typedef struct grow {
    vigil_vpdq_frame *f;
    size_t n, cap;
    int nomem;
} grow;

static int add_frame(const vigil_video_frame *vf, void *ctx)
{
    grow *g = ctx;
    if (g->n == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 256;
        vigil_vpdq_frame *p = realloc(g->f, nc * sizeof *p);
        if (!p) { g->nomem = 1; return 1; }
        g->f = p;
        g->cap = nc;
    }
    vigil_vpdq_frame *o = &g->f[g->n++];
    o->pdq = vf->pdq;
    o->quality = vf->quality;
    o->frame_number = vf->frame_number;
    o->timestamp = vf->timestamp;
    return 0;
}

typedef struct pctx {
    const char *path;
    cli_vpdq_side *s;
    int nomem;
} pctx;

static int add_video(const char *name, const vigil_vpdq_frame *f, size_t n, void *ctx)
{
    pctx *p = ctx;
    cli_vpdq_video *nv = realloc(p->s->v, (p->s->n + 1) * sizeof *nv);
    if (!nv) { p->nomem = 1; return 1; }
    p->s->v = nv;
    cli_vpdq_video *v = &nv[p->s->n];
    size_t len = strlen(p->path) + (name ? strlen(name) + 1 : 0) + 1;
    v->name = malloc(len);
    v->f = malloc((n ? n : 1) * sizeof *v->f);
    if (!v->name || !v->f) { free(v->name); free(v->f); p->nomem = 1; return 1; }
    if (name) snprintf(v->name, len, "%s#%s", p->path, name);
    else snprintf(v->name, len, "%s", p->path);
    if (n) memcpy(v->f, f, n * sizeof *f);
    v->n = n;
    p->s->n++;
    return 0;
}

int cli_vpdq_load(const char *path, const vigil_video_options *opt, cli_vpdq_side *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (strcmp(path, "-") && cli_is_video(path)) {
        grow g = {0};
        vigil_error err;
        vigil_video_info info;
        vigil_result r = vigil_video_hash_file(path, opt, add_frame, &g, &info, &err);
        if (g.nomem) { free(g.f); snprintf(why, whylen, "out of memory"); return -1; }
        if (r) {
            if (!g.n) { free(g.f); snprintf(why, whylen, "%s", err.message); return -1; }
            cli_warn("%s: %s; the %zu frames hashed before it are used", path, err.message, g.n);
        }
        out->v = calloc(1, sizeof *out->v);
        if (!out->v) { free(g.f); snprintf(why, whylen, "out of memory"); return -1; }
        out->v[0].name = strdup(path);
        out->v[0].f = g.f;
        out->v[0].n = g.n;
        out->n = 1;
        if (!out->v[0].name) { cli_vpdq_side_free(out); snprintf(why, whylen, "out of memory"); return -1; }
        return 0;
    }
    size_t n;
    char *text = cli_read_all(path, cli_list_max(), CLI_LIST_RAISE, &n, why, whylen);
    if (!text) return -1;
    pctx p = {path, out, 0};
    vigil_error err;
    vigil_result r = vigil_vpdq_parse(text, n, add_video, &p, &err);
    free(text);
    if (r || p.nomem) {
        snprintf(why, whylen, "%s", p.nomem ? "out of memory" : err.message);
        cli_vpdq_side_free(out);
        return -1;
    }
    if (!out->n) { snprintf(why, whylen, "neither a video nor a vPDQ file with frames"); return -1; }
    return 0;
}

void cli_vpdq_side_free(cli_vpdq_side *s)
{
    for (size_t i = 0; i < s->n; i++) { free(s->v[i].name); free(s->v[i].f); }
    free(s->v);
    memset(s, 0, sizeof *s);
}
