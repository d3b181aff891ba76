/* walk.c - streams the files under command-line paths (or paths read from stdin for "-").
 *
 * Depth-first with an explicit stack of open directories; each directory's names are read and
 * sorted so output order is stable across filesystems. A symbolic link met inside a folder is
 * followed when its target (realpath) lies inside the root it was found under: seized media holds
 * links to places on the examiner's own machine (absolute links resolve there), which must not
 * be read as evidence. Such a link is reported as "skipped: ..." unless --follow-links; a root
 * path given by the user is followed whatever it is. A link to a directory that is already on the
 * stack (a loop) is reported instead of entered. Devices, FIFOs and sockets are reported, never
 * opened.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cli_follow_links;

typedef struct frame {
    char *dir;
    char **names;
    size_t n, i;
    dev_t dev;
    ino_t ino;
    int via_link;     /* this folder was reached through a link inside the tree */
} frame;

struct cli_walk {
    char **roots;
    int nroots, next_root;
    int from_stdin;
    frame *stack;
    size_t depth, cap;
    char *line;
    size_t linecap;
    char *root_real;  /* realpath of the root being walked: links must stay under it */
    int last_link;    /* the item returned last came through a link */
    char *root;       /* the root being walked, as given (a --shard key is the path below it) */
};

cli_walk *cli_walk_new(char **paths, int npaths)
{
    cli_walk *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->roots = paths;
    w->nroots = npaths;
    return w;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) { cli_warn("out of memory"); exit(EXIT_USAGE); }
    return p;
}

static char *fmt_error(const char *fmt, const char *arg)
{
    size_t n = strlen(fmt) + (arg ? strlen(arg) : 0) + 1;
    char *s = malloc(n);
    if (!s) { cli_warn("out of memory"); exit(EXIT_USAGE); }
    snprintf(s, n, fmt, arg ? arg : "");
    return s;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) { cli_warn("out of memory"); exit(EXIT_USAGE); }
    memcpy(p, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/') p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

/* Pushes a directory; on failure returns an error message (malloc'd). */
static char *push_dir(cli_walk *w, const char *path, const struct stat *st, int via_link)
{
    for (size_t i = 0; i < w->depth; i++)
        if (w->stack[i].dev == st->st_dev && w->stack[i].ino == st->st_ino)
            return fmt_error("symlink loop: directory already visited as %s", w->stack[i].dir);
    DIR *d = opendir(path);
    if (!d) return fmt_error("cannot open directory: %s", strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, cap * sizeof *names);
            if (!nn) { cli_warn("out of memory"); exit(EXIT_USAGE); }
            names = nn;
        }
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_names); /* an empty folder has no array */
    if (w->depth == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 16;
        frame *ns = realloc(w->stack, w->cap * sizeof *ns);
        if (!ns) { cli_warn("out of memory"); exit(EXIT_USAGE); }
        w->stack = ns;
    }
    w->stack[w->depth++] = (frame){xstrdup(path), names, n, 0, st->st_dev, st->st_ino, via_link};
    return NULL;
}

static void pop_dir(cli_walk *w)
{
    frame *f = &w->stack[--w->depth];
    for (size_t i = f->i; i < f->n; i++) free(f->names[i]);
    free(f->names);
    free(f->dir);
}

/* Whether real (a resolved path) is root or lies under it. */
static int inside(const char *real, const char *root)
{
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/') return 1;
    return !strncmp(real, root, n) && (real[n] == '/' || real[n] == 0);
}

/* Classifies one path: 1 file (path kept), 1 error, or 0 when it was a directory pushed. in_tree:
 * found in a folder listing (not a root), so a symbolic link there is checked against the root;
 * via_link: its folder was reached through a link. */
static int visit(cli_walk *w, char *path, char **out, char **error, int in_tree, int via_link)
{
    struct stat st;
    int link = 0;
    *out = path;
    *error = NULL;
    if (in_tree) {
        if (lstat(path, &st)) { *error = fmt_error("cannot open: %s", strerror(errno)); return 1; }
        link = S_ISLNK(st.st_mode);
    }
    if (link && !cli_follow_links) {
        char *real = realpath(path, NULL);
        if (real && (!w->root_real || !inside(real, w->root_real))) {
            size_t n = strlen(real) + 120;
            *error = malloc(n);
            if (!*error) { cli_warn("out of memory"); exit(EXIT_USAGE); }
            snprintf(*error, n, "skipped: a symbolic link to %s, outside the folder scanned (--follow-links follows it)", real);
            free(real);
            return 1;
        }
        free(real); /* unresolvable: stat below says why (dangling, loop) */
    }
    if ((!in_tree || link) && stat(path, &st)) {
        struct stat lst;
        if (errno == ENOENT && !lstat(path, &lst) && S_ISLNK(lst.st_mode))
            *error = fmt_error("dangling symbolic link", NULL);
        else if (errno == ELOOP)
            *error = fmt_error("symlink loop: too many levels of symbolic links", NULL);
        else
            *error = fmt_error("cannot open: %s", strerror(errno));
        return 1;
    }
    via_link |= link;
    if (S_ISDIR(st.st_mode)) {
        char *e = push_dir(w, path, &st, via_link);
        if (e) { *error = e; return 1; }
        free(path);
        *out = NULL;
        return 0;
    }
    w->last_link = via_link;
    if (!S_ISREG(st.st_mode))
        *error = fmt_error("skipped: %s", cli_file_kind(st.st_mode));
    return 1;
}

/* A new root: its resolved path bounds the links followed below it. */
static int visit_root(cli_walk *w, char *path, char **out, char **error)
{
    free(w->root_real);
    w->root_real = realpath(path, NULL);
    free(w->root);
    w->root = xstrdup(path);
    return visit(w, path, out, error, 0, 0);
}

const char *cli_walk_root(const cli_walk *w)
{
    return w->root ? w->root : "";
}

int cli_walk_via_link(const cli_walk *w)
{
    return w->last_link;
}

int cli_walk_next(cli_walk *w, char **path, char **error)
{
    w->last_link = 0;
    for (;;) {
        while (w->depth) {
            frame *f = &w->stack[w->depth - 1];
            if (f->i == f->n) { pop_dir(w); continue; }
            char *name = f->names[f->i++];
            char *p = join(f->dir, name);
            free(name);
            if (visit(w, p, path, error, 1, f->via_link)) return 1;
        }
        if (w->from_stdin) {
            ssize_t n = getline(&w->line, &w->linecap, stdin);
            if (n < 0) { w->from_stdin = 0; continue; }
            while (n && (w->line[n - 1] == '\n' || w->line[n - 1] == '\r')) w->line[--n] = 0;
            if (!n) continue;
            if (visit_root(w, xstrdup(w->line), path, error)) return 1;
            continue;
        }
        if (w->next_root >= w->nroots) return 0;
        const char *r = w->roots[w->next_root++];
        if (!strcmp(r, "-")) { w->from_stdin = 1; continue; }
        if (visit_root(w, xstrdup(r), path, error)) return 1;
    }
}

void cli_walk_free(cli_walk *w)
{
    if (!w) return;
    while (w->depth) pop_dir(w);
    free(w->stack);
    free(w->line);
    free(w->root_real);
    free(w->root);
    free(w);
}

/* ---- parts of a walk, for scan --mpi (scan_dist.c): a walk handed over between processes ------ */

cli_walk *cli_walk_from(const char *root, cli_walk_part *p)
{
    cli_walk *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->root = xstrdup(root);
    w->root_real = realpath(root, NULL);
    w->cap = p->nanc ? p->nanc : 1;
    w->stack = calloc(w->cap, sizeof *w->stack);
    if (!w->stack) { cli_warn("out of memory"); exit(EXIT_USAGE); }
    /* the folders above keep only their identity (a link to one of them is a loop); the last one
     * holds the names still to walk */
    for (size_t k = 0; k < p->nanc; k++) {
        int last = k + 1 == p->nanc;
        w->stack[w->depth++] = (frame){p->dirs[k], last ? p->names : NULL, last ? p->n : 0, 0, (dev_t)p->dev[k], (ino_t)p->ino[k],
                                       last ? p->via_link : 0};
    }
    free(p->dirs);
    free(p->dev);
    free(p->ino);
    if (!p->nanc) { for (size_t i = 0; i < p->n; i++) free(p->names[i]); free(p->names); }
    memset(p, 0, sizeof *p);
    return w;
}

int cli_walk_split(cli_walk *w, cli_walk_part *p)
{
    memset(p, 0, sizeof *p);
    size_t s = 0;
    while (s < w->depth && w->stack[s].i == w->stack[s].n) s++;
    if (s == w->depth) return 0;
    frame *f = &w->stack[s];
    /* the second half of what is left: given all of it, the taker would be split again at once
     * and the parts would shrink by one name a time */
    size_t left = f->n - f->i, from = f->i + left / 2;
    if (s + 1 == w->depth) { /* the folder being listed now: it keeps at least its next name */
        if (left < 2) return 0;
        from = f->i + (left + 1) / 2;
    }
    p->nanc = s + 1;
    p->dirs = calloc(p->nanc, sizeof *p->dirs);
    p->dev = calloc(p->nanc, sizeof *p->dev);
    p->ino = calloc(p->nanc, sizeof *p->ino);
    p->n = f->n - from;
    p->names = malloc(p->n * sizeof *p->names);
    if (!p->dirs || !p->dev || !p->ino || !p->names) { cli_warn("out of memory"); exit(EXIT_USAGE); }
    for (size_t k = 0; k <= s; k++) {
        p->dirs[k] = xstrdup(w->stack[k].dir);
        p->dev[k] = (uint64_t)w->stack[k].dev;
        p->ino[k] = (uint64_t)w->stack[k].ino;
    }
    p->via_link = f->via_link;
    memcpy(p->names, f->names + from, p->n * sizeof *p->names);
    f->n = from;
    return 1;
}

void cli_walk_part_free(cli_walk_part *p)
{
    for (size_t k = 0; k < p->nanc; k++) free(p->dirs[k]);
    for (size_t i = 0; i < p->n; i++) free(p->names[i]);
    free(p->dirs);
    free(p->dev);
    free(p->ino);
    free(p->names);
    memset(p, 0, sizeof *p);
}
