/* inputs.c - what an INPUT argument is: a hash list (text) or images (files, folders), reading
 * whole files by name under a cap for the list parser and the decoders, and the room-list reader. */
#include "cli.h"
#include "archives.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
    /* the library streams big files (0: no limit); what the CLI reads whole stays capped */
    return o.max_file_bytes ? o.max_file_bytes : CLI_DEFAULT_MAX_IMAGE_BYTES;
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

/* A list's bytes for the library's streaming parser, under the same cap as a whole read. */
typedef struct list_reader { int fd, errnum, over; uint64_t max, got; } list_reader;

static ptrdiff_t list_read(void *buf, size_t cap, void *ctx)
{
    list_reader *r = ctx;
    for (;;) {
        ssize_t n = read(r->fd, buf, cap);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { r->errnum = errno; return -1; }
        r->got += (uint64_t)n;
        if (r->got > r->max) { r->over = 1; return -1; }
        return n;
    }
}

int cli_parse_list(const char *path, vigil_list_entry_fn on_entry, vigil_list_error_fn on_error, void *ctx, char *why,
                   size_t whylen)
{
    int std = !strcmp(path, "-");
    uint64_t size = 0, max = cli_list_max();
    int fd = std ? 0 : cli_open_regular(path, max, &size, why, whylen);
    if (fd < 0) {
        size_t l = strlen(why);
        if (fd == -2) snprintf(why + l, whylen - l, "; %s", CLI_LIST_RAISE);
        return -1;
    }
    list_reader r = {fd, 0, 0, max, 0};
    vigil_error err;
    vigil_result rc = vigil_list_parse_stream(list_read, &r, on_entry, on_error, ctx, &err);
    if (!std) close(fd);
    if (r.over) snprintf(why, whylen, "more than %llu bytes, over the limit; %s", (unsigned long long)max, CLI_LIST_RAISE);
    else if (r.errnum) snprintf(why, whylen, "read failed: %s", strerror(r.errnum));
    else if (rc) snprintf(why, whylen, "%s", err.message);
    return rc ? -1 : 0;
}

/* ---- what an INPUT is -------------------------------------------------------------------------- */

/* The signatures of the image formats vigil decodes (core/load.c's allow-list). Their headers can
 * hold pages of text (XMP, EXIF), so they are recognised before the text test. */
static int image_magic(const unsigned char *b, size_t n)
{
    static const struct { size_t off, len; const char *m; } sig[] = {
        {0, 3, "\xff\xd8\xff"}, {0, 8, "\x89PNG\r\n\x1a\n"}, {0, 6, "GIF87a"}, {0, 6, "GIF89a"},
        {8, 4, "WEBP"}, {0, 4, "II*\0"}, {0, 4, "MM\0*"}, {0, 4, "II+\0"}, {0, 4, "MM\0+"},
        {4, 4, "ftyp"}, {0, 2, "\xff\x0a"}, {0, 12, "\0\0\0\x0cJXL \r\n\x87\n"},
    };
    for (size_t i = 0; i < sizeof sig / sizeof sig[0]; i++)
        if (n >= sig[i].off + sig[i].len && !memcmp(b + sig[i].off, sig[i].m, sig[i].len)) return 1;
    return 0;
}

/* Text, for the list readers, is anything that does not start like an image and whose bytes other
 * than NUL are mostly printable. NULs do not count against it: a list with a stray NUL, or UTF-16
 * text, then reaches the list parser, which says what it saw instead of "not an image". */
int cli_looks_like_list(const unsigned char *b, size_t n)
{
    if (n == 0) return 1;
    if (image_magic(b, n)) return 0;
    size_t odd = 0, nul = 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i] == 0) nul++;
        else if (b[i] < 0x20 && b[i] != '\n' && b[i] != '\r' && b[i] != '\t') odd++;
    }
    return odd * 100 < n - nul || nul == n;
}

/* A hash list is text: see cli_looks_like_list, on the first 4 KiB. */
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
    return cli_looks_like_list(b, (size_t)r);
}

/* ---- room lists -------------------------------------------------------------------------------- */

typedef vigil__fields strs;

/* Splits a record as the hash lists do (core/text.c), then trims spaces (and a CR) off each field;
 * 0, -1 out of memory, -2 broken quoting (*why). */
static int split_record(char *rec, char sep, strs *out, const char **why)
{
    int r = vigil__split_record(rec, sep, out, why);
    for (size_t i = 0; !r && i < out->n; i++) {
        char *f = out->v[i];
        size_t l = strlen(f);
        while (l && (f[l - 1] == '\r' || f[l - 1] == ' ')) f[--l] = 0;
        while (*f == ' ') f++;
        out->v[i] = f;
    }
    return r;
}

/* Label text stays one token per label: spaces and control characters become '_'. */
static void tokenise(char *s, int key)
{
    for (unsigned char *c = (unsigned char *)s; *c; c++)
        if (*c <= ' ' || *c == 0x7f || (key && *c == '=')) *c = '_';
}

int cli_room_list_parse(const char *list, char *text, size_t len, cli_ref_fn fn, void *ctx, unsigned long long *bad)
{
    const char *enc = vigil__foreign_encoding(text, len);
    if (enc) { cli_warn("%s: %s", list, enc); (*bad)++; return -1; }
    size_t bom = vigil__utf8_bom(text, len);
    const char *nul = memchr(text, 0, len);
    if (nul) {
        cli_warn("%s: binary data: NUL byte at offset %zu; not a room list", list, (size_t)(nul - text));
        (*bad)++;
        return -1;
    }
    const char *slash = strrchr(list, '/');
    size_t dirlen = slash ? (size_t)(slash - list + 1) : 0;
    char *p = text + bom, *end = text + len, sep = ',', *next;
    strs hdr = {0}, row = {0};
    int pathcol = -1, rc = 0;
    uint64_t ln = 1;
    const char *why;
    for (; p <= end; p = next) {
        uint64_t at = ln, inner = 0;
        int open = 0;
        if (!hdr.n) { /* the header's line says CSV or TSV */
            char *nl = memchr(p, '\n', (size_t)(end - p));
            sep = memchr(p, '\t', (size_t)((nl ? nl : end) - p)) ? '\t' : ',';
        }
        char *stop = vigil__record_end(p, end, sep, &inner, &open);
        next = stop + 1;
        *stop = 0;
        ln += 1 + inner;
        if (open) {
            cli_warn("%s:%llu: a quoted field that begins on this line is not closed", list, (unsigned long long)at);
            (*bad)++;
            if (!hdr.n) rc = -1;
            break;
        }
        char *t = p;
        while (*t == ' ' || *t == '\r') t++;
        if (!*t) continue;
        strs *dst = hdr.n ? &row : &hdr;
        int sr = split_record(t, sep, dst, &why);
        if (sr == -1) { cli_warn("%s: out of memory", list); (*bad)++; rc = -1; break; }
        if (sr) {
            cli_warn("%s:%llu: %s", list, (unsigned long long)at, why);
            (*bad)++;
            if (dst == &hdr) { hdr.n = 0; rc = -1; break; }
            continue;
        }
        if (dst == &hdr) {
            for (size_t i = 0; i < hdr.n; i++) {
                if (!*hdr.v[i]) cli_warn("%s:%llu: column %zu has no name in the header: its values are left out", list, (unsigned long long)at, i + 1);
                if (pathcol < 0 && (!strcasecmp(hdr.v[i], "path") || !strcasecmp(hdr.v[i], "file") || !strcasecmp(hdr.v[i], "image")))
                    pathcol = (int)i;
                tokenise(hdr.v[i], 1);
            }
            if (pathcol < 0) {
                cli_warn("%s: not a room list: the header (line %llu) names no path column (path, file or image)", list, (unsigned long long)at);
                (*bad)++;
                rc = -1;
                break;
            }
            continue;
        }
        if (row.n != hdr.n) { cli_warn("%s:%llu: %zu fields where the header has %zu", list, (unsigned long long)at, row.n, hdr.n); (*bad)++; continue; }
        const char *file = row.v[pathcol];
        if (!*file) { cli_warn("%s:%llu: empty path", list, (unsigned long long)at); (*bad)++; continue; }
        size_t cap = 1;
        for (size_t i = 0; i < row.n; i++) cap += strlen(hdr.v[i]) + strlen(row.v[i]) + 2;
        char *labels = malloc(cap), *path = malloc(dirlen + strlen(file) + 1);
        if (!labels || !path) { free(labels); free(path); cli_warn("%s: out of memory", list); (*bad)++; rc = -1; break; }
        size_t l = 0;
        for (size_t i = 0; i < row.n; i++) {
            if ((int)i == pathcol || !*row.v[i] || !*hdr.v[i]) continue;
            tokenise(row.v[i], 0);
            l += (size_t)snprintf(labels + l, cap - l, "%s%s=%s", l ? " " : "", hdr.v[i], row.v[i]);
        }
        labels[l] = 0;
        if (file[0] == '/') strcpy(path, file);
        else { memcpy(path, list, dirlen); strcpy(path + dirlen, file); }
        if (fn(path, labels, ctx)) { (*bad)++; rc = -1; break; }
    }
    if (!rc && !hdr.n) {
        cli_warn("%s: not a room list: no header (a first line naming a path column: path, file or image)", list);
        (*bad)++;
        rc = -1;
    }
    free(hdr.v);
    free(row.v);
    return rc;
}

/* Walks the paths and hashes every file in parallel batches, calling fn in walk order with each
 * result. Batches of 64 files per thread keep the threads busy while the output stays ordered;
 * fn takes ownership of path. Stops early when fn returns non-zero. */
void cli_hash_tree(char **paths, int n, const vigil_hash_options *opt, int threads, cli_hashed_fn fn, void *ctx)
{
    /* archives are opened (archives.c): a member is hashed like a file, from memory */
    cli_awalk *w = cli_awalk_new(paths, n, &cli_archive_opts, cli_archives_off, NULL, NULL);
    const int batch = 64 * threads;
    cli_input *in = calloc((size_t)batch, sizeof *in);
    vigil_hash_result *r = calloc((size_t)batch, sizeof *r);
    vigil_result *rc = calloc((size_t)batch, sizeof *rc);
    vigil_error *er = calloc((size_t)batch, sizeof *er);
    if (!w || !in || !r || !rc || !er) { cli_warn("out of memory"); exit(EXIT_USAGE); }
    int done = 0, stop = 0;
    while (!done && !stop) {
        int k = 0;
        size_t held = 0;
        while (k < batch && held < (256u << 20) && !(done = cli_awalk_next(w, &in[k]) <= 0)) held += in[k++].size;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (int i = 0; i < k; i++) {
            memset(&r[i], 0, sizeof r[i]);
            rc[i] = in[i].err ? VIGIL_E_IO : cli_input_hash(&in[i], opt, NULL, &r[i], NULL, NULL, &er[i]);
        }
        for (int i = 0; i < k; i++) {
            char enc[160];
            const char *werr = in[i].err;
            if (!werr && (in[i].mflags & VIGIL_MEMBER_ENCRYPTED)) {
                if (in[i].kind == CLI_IN_ARCHIVE)
                    snprintf(enc, sizeof enc, "encrypted: its list of members cannot be read without the password");
                else if (in[i].mflags & VIGIL_MEMBER_CRC)
                    snprintf(enc, sizeof enc, "encrypted: not read (%llu bytes, CRC-32 %08x)", (unsigned long long)in[i].declared, (unsigned)in[i].crc32);
                else snprintf(enc, sizeof enc, "encrypted: not read (%llu bytes)", (unsigned long long)in[i].declared);
                werr = enc;
            }
            if (!stop) stop = fn(in[i].path, werr, rc[i], &er[i], &r[i], ctx);
            else free(in[i].path);
            in[i].path = NULL;
            cli_input_free(&in[i]);
        }
    }
    free(in); free(r); free(rc); free(er);
    cli_awalk_free(w);
}
