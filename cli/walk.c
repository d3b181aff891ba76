/* walk.c - streams the files under command-line paths (or paths read from stdin for "-").
 *
 * Depth-first with an explicit stack of open directories; each directory's names are read and
 * sorted so output order is stable across filesystems. Symbolic links are followed, and a link to
 * a directory that is already on the stack (a loop) is reported instead of entered. Devices, FIFOs
 * and sockets are reported, never opened.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct frame {
    char *dir;
    char **names;
    size_t n, i;
    dev_t dev;
    ino_t ino;
} frame;

struct cli_walk {
    char **roots;
    int nroots, next_root;
    int from_stdin;
    frame *stack;
    size_t depth, cap;
    char *line;
    size_t linecap;
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
static char *push_dir(cli_walk *w, const char *path, const struct stat *st)
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
    w->stack[w->depth++] = (frame){xstrdup(path), names, n, 0, st->st_dev, st->st_ino};
    return NULL;
}

static void pop_dir(cli_walk *w)
{
    frame *f = &w->stack[--w->depth];
    for (size_t i = f->i; i < f->n; i++) free(f->names[i]);
    free(f->names);
    free(f->dir);
}

/* Classifies one path: 1 file (path kept), 1 error, or 0 when it was a directory pushed. */
static int visit(cli_walk *w, char *path, char **out, char **error)
{
    struct stat st;
    if (stat(path, &st)) {
        struct stat lst;
        if (errno == ENOENT && !lstat(path, &lst) && S_ISLNK(lst.st_mode))
            *error = fmt_error("dangling symbolic link", NULL);
        else if (errno == ELOOP)
            *error = fmt_error("symlink loop: too many levels of symbolic links", NULL);
        else
            *error = fmt_error("cannot open: %s", strerror(errno));
        *out = path;
        return 1;
    }
    if (S_ISDIR(st.st_mode)) {
        char *e = push_dir(w, path, &st);
        if (e) { *out = path; *error = e; return 1; }
        free(path);
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        *error = fmt_error("skipped: %s", cli_file_kind(st.st_mode));
        *out = path;
        return 1;
    }
    *out = path;
    *error = NULL;
    return 1;
}

int cli_walk_next(cli_walk *w, char **path, char **error)
{
    for (;;) {
        while (w->depth) {
            frame *f = &w->stack[w->depth - 1];
            if (f->i == f->n) { pop_dir(w); continue; }
            char *name = f->names[f->i++];
            char *p = join(f->dir, name);
            free(name);
            if (visit(w, p, path, error)) return 1;
        }
        if (w->from_stdin) {
            ssize_t n = getline(&w->line, &w->linecap, stdin);
            if (n < 0) { w->from_stdin = 0; continue; }
            while (n && (w->line[n - 1] == '\n' || w->line[n - 1] == '\r')) w->line[--n] = 0;
            if (!n) continue;
            if (visit(w, xstrdup(w->line), path, error)) return 1;
            continue;
        }
        if (w->next_root >= w->nroots) return 0;
        const char *r = w->roots[w->next_root++];
        if (!strcmp(r, "-")) { w->from_stdin = 1; continue; }
        if (visit(w, xstrdup(r), path, error)) return 1;
    }
}

void cli_walk_free(cli_walk *w)
{
    if (!w) return;
    while (w->depth) pop_dir(w);
    free(w->stack);
    free(w->line);
    free(w);
}
