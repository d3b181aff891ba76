/* inputs.c - what an INPUT argument is: a hash list (text) or images (files, folders), and reading
 * whole files, by name, for the list parser and the decoders. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *cli_file_kind(unsigned mode)
{
    return S_ISREG(mode) ? "a regular file" : S_ISDIR(mode) ? "a directory" : S_ISFIFO(mode) ? "a FIFO"
         : S_ISCHR(mode) ? "a character device" : S_ISBLK(mode) ? "a block device" : S_ISSOCK(mode) ? "a socket"
         : S_ISLNK(mode) ? "a symbolic link" : "not a regular file";
}

static uint64_t list_max = CLI_DEFAULT_MAX_LIST_BYTES;

int cli_limits_init(void)
{
    const char *s = getenv("VIGIL_MAX_LIST_BYTES");
    if (!s || !*s) return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;
    if (end != s && *end && !end[1]) shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : *end == 'T' ? 40 : 99;
    if (*s < '0' || *s > '9' || errno || !v || (*end && shift == 99) || (shift && v > (UINT64_MAX >> shift))) {
        cli_warn("VIGIL_MAX_LIST_BYTES needs a positive number of bytes (a K, M, G or T suffix may follow), not '%s'", s);
        return -1;
    }
    list_max = (uint64_t)v << shift;
    if (list_max > (1ull << 62)) list_max = 1ull << 62; /* more than any machine holds; keeps max + 1 finite */
    return 0;
}

uint64_t cli_list_max(void) { return list_max; }

uint64_t cli_image_max(void)
{
    vigil_hash_options o;
    vigil_hash_options_init(&o);
    return o.max_file_bytes;
}

int cli_open_regular(const char *path, uint64_t max, uint64_t *size, char *why, size_t whylen)
{
    struct stat st;
    /* stat before open: a device is never opened at all */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (why) snprintf(why, whylen, "is %s, not a regular file", cli_file_kind(st.st_mode));
        return -1;
    }
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        if (why) snprintf(why, whylen, "cannot open: %s", strerror(errno));
        return -1;
    }
    if (fstat(fd, &st)) {
        if (why) snprintf(why, whylen, "cannot stat: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) { /* it changed since the stat */
        if (why) snprintf(why, whylen, "is %s, not a regular file", cli_file_kind(st.st_mode));
        close(fd);
        return -1;
    }
    if (max && (uint64_t)st.st_size > max) {
        if (why) snprintf(why, whylen, "is %llu bytes, over the limit of %llu", (unsigned long long)st.st_size, (unsigned long long)max);
        close(fd);
        return -2;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *size = (uint64_t)st.st_size;
    return fd;
}

char *cli_read_all(const char *path, uint64_t max, const char *raise, size_t *n, char *why, size_t whylen)
{
    int std = !strcmp(path, "-");
    uint64_t size = 0;
    int fd = std ? 0 : cli_open_regular(path, max, &size, why, whylen);
    if (fd < 0) {
        size_t l = strlen(why);
        if (fd == -2 && raise) snprintf(why + l, whylen - l, "; %s", raise);
        return NULL;
    }
    /* a regular file's size is known; a pipe's is not: grow, but never past max + 1 (to see "more") */
    size_t cap = size ? (size_t)size + 1 : 1 << 16, len = 0;
    char *p = malloc(cap);
    int over = 0, rerr = 0;
    while (p) {
        if (len == cap) {
            size_t ncap = cap > max / 2 ? (size_t)max + 1 : cap * 2;
            char *q = realloc(p, ncap);
            if (!q) { free(p); p = NULL; break; }
            p = q;
            cap = ncap;
        }
        ssize_t r = read(fd, p + len, cap - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { rerr = errno; break; }
        if (r == 0) break;
        len += (size_t)r;
        if (len > max) { over = 1; break; }
    }
    if (!std) close(fd);
    if (!p) snprintf(why, whylen, "out of memory");
    else if (rerr) snprintf(why, whylen, "read failed: %s", strerror(rerr));
    else if (over) snprintf(why, whylen, "more than %llu bytes, over the limit%s%s", (unsigned long long)max, raise ? "; " : "", raise ? raise : "");
    if (!p || rerr || over) { free(p); return NULL; }
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
    uint64_t size;
    int fd = cli_open_regular(path, 0, &size, NULL, 0);
    if (fd < 0) return 0; /* the walk then names what it is */
    unsigned char b[4096];
    ssize_t r;
    while ((r = read(fd, b, sizeof b)) < 0 && errno == EINTR) {}
    close(fd);
    if (r < 0) return 0;
    size_t n = (size_t)r;
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
        while (k < batch && !(done = !cli_walk_next(w, &p[k], &e[k]))) {
            if (!e[k] && cli_is_own_output(p[k])) { free(p[k]); continue; }
            k++;
        }
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
