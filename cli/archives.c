/* archives.c - the walk with archives opened: wraps cli_walk, sniffs each file's first 512 bytes,
 * and for an archive hands out its members (read into memory by core/archive.c) one by one, in
 * archive order, then the archive itself. Serial by design: an archive is read front to back on
 * the walking thread while the hashing runs in parallel on the members already handed out.
 *
 * Paths: OUTER!/MEMBER, the archive's path, "!/", the member's name as stored (bytes, never
 * resolved: ../../etc/passwd stays a name). A name seen twice in one outermost archive (tar
 * appends, crafted zips) gets "!#2", "!#3"... so that each member is one input, also to --resume.
 * An archive's own input comes after its members, so that a journal holding it holds them all. */
#include "archives.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct cli_awalk {
    cli_walk *w;
    vigil_archive_options o;
    int off;
    cli_claim_fn claim;
    void *ctx;
    vigil_archive *a;     /* the archive being listed, or NULL */
    char *outer;          /* its path */
    int outer_link;
    uint64_t *seen;       /* path keys of its members (duplicate names) */
    size_t nseen, cap;
    cli_path_fn next;     /* the files come from next instead of w (cli_awalk_source) */
    void *next_ctx;
    int batch_end;        /* the last file ended its source's batch: say so before the next */
    char why[512];
};

vigil_archive_options cli_archive_opts;
int cli_archives_off;

int cli_archive_option(int c, const char *arg, vigil_archive_options *o, int *off)
{
    if (!o->struct_size) vigil_archive_options_init(o);
    int v;
    uint64_t u;
    switch (c) {
    case CLI_OPT_ADEPTH:
        if (cli_parse_int("--archive-depth", arg, 0, 32, &v)) return -1;
        *off = v == 0;
        o->max_depth = v ? (uint32_t)v : 1;
        return 1;
    case CLI_OPT_ARATIO:
        if (cli_parse_int("--archive-ratio", arg, 1, 1000000, &v)) return -1;
        o->max_ratio = (uint32_t)v;
        return 1;
    case CLI_OPT_ATOTAL:
        if (cli_parse_u64("--archive-max-total", arg, 1, UINT64_MAX, 1, &u)) return -1;
        o->max_total_bytes = u;
        return 1;
    }
    return 0;
}

void cli_archive_settings(FILE *f, const vigil_archive_options *o, int off)
{
    if (off) fputs(" archives=off", f);
    /* video:1: video members are hashed as videos (older journals gave them digests only);
     * 7zcrc:1: encrypted 7z members carry the CRC-32 from the 7z header (older: none) */
    else fprintf(f, " archives=depth:%u,ratio:%u,floor:%llu,total:%llu,member:%llu,video:1,7zcrc:1", o->max_depth, o->max_ratio,
                 (unsigned long long)o->ratio_floor, (unsigned long long)o->max_total_bytes,
                 (unsigned long long)o->max_member_bytes);
}

cli_awalk *cli_awalk_new(char **paths, int n, const vigil_archive_options *o, int off, cli_claim_fn claim, void *ctx)
{
    cli_awalk *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    if (!(w->w = cli_walk_new(paths, n))) { free(w); return NULL; }
    if (o && o->struct_size) w->o = *o;
    else vigil_archive_options_init(&w->o);
    w->off = off;
    w->claim = claim;
    w->ctx = ctx;
    return w;
}

cli_awalk *cli_awalk_source(cli_path_fn next, void *next_ctx, const vigil_archive_options *o, int off,
                            cli_claim_fn claim, void *ctx)
{
    cli_awalk *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    if (o && o->struct_size) w->o = *o;
    else vigil_archive_options_init(&w->o);
    w->off = off;
    w->claim = claim;
    w->ctx = ctx;
    w->next = next;
    w->next_ctx = next_ctx;
    return w;
}

const char *cli_awalk_why(const cli_awalk *w) { return w->why[0] ? w->why : "out of memory"; }

static void close_archive(cli_awalk *w)
{
    vigil_archive_free(w->a);
    w->a = NULL;
    free(w->outer);
    w->outer = NULL;
    w->nseen = 0;
}

void cli_awalk_free(cli_awalk *w)
{
    if (!w) return;
    close_archive(w);
    free(w->seen);
    cli_walk_free(w->w);
    free(w);
}

void cli_input_free(cli_input *in)
{
    free(in->path);
    free(in->err);
    free(in->data);
    vigil_digest_ticket_free(in->ticket);
    memset(in, 0, sizeof *in);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) { cli_warn("out of memory"); exit(EXIT_USAGE); }
    return p;
}

static char *join3(const char *a, const char *sep, const char *b)
{
    size_t na = strlen(a), ns = strlen(sep), nb = strlen(b);
    char *p = xmalloc(na + ns + nb + 1);
    memcpy(p, a, na);
    memcpy(p + na, sep, ns);
    memcpy(p + na + ns, b, nb + 1);
    return p;
}

static uint64_t key_of(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h ? h : 1;
}

/* Adds a key; 1 when it was there already. */
static int seen_add(cli_awalk *w, uint64_t k)
{
    if (10 * (w->nseen + 1) > 7 * w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 1024;
        uint64_t *t = calloc(cap, sizeof *t);
        if (!t) { cli_warn("out of memory"); exit(EXIT_USAGE); }
        for (size_t i = 0; i < w->cap; i++)
            if (w->seen[i]) {
                size_t j = w->seen[i] & (cap - 1);
                while (t[j]) j = (j + 1) & (cap - 1);
                t[j] = w->seen[i];
            }
        free(w->seen);
        w->seen = t;
        w->cap = cap;
    }
    size_t j = k & (w->cap - 1);
    for (; w->seen[j]; j = (j + 1) & (w->cap - 1))
        if (w->seen[j] == k) return 1;
    w->seen[j] = k;
    w->nseen++;
    return 0;
}

/* The member's path, made unique within the outermost archive. */
static char *member_path(cli_awalk *w, const char *inner)
{
    char *p = join3(w->outer, "!/", inner);
    if (!seen_add(w, key_of(p))) return p;
    for (unsigned k = 2;; k++) {
        char sfx[16];
        snprintf(sfx, sizeof sfx, "!#%u", k);
        char *q = join3(p, sfx, "");
        if (!seen_add(w, key_of(q))) { free(p); return q; }
        free(q);
    }
}

/* The archive format the file at path starts with, or NULL. */
static const char *sniff_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return NULL;
    struct stat st;
    unsigned char head[512];
    ssize_t n = !fstat(fd, &st) && S_ISREG(st.st_mode) ? pread(fd, head, sizeof head, 0) : -1;
    close(fd);
    return n > 0 ? vigil_archive_sniff(head, (size_t)n) : NULL;
}

/* One entry of the open archive: 1 an input, 0 none (skipped or entered), -1 stop. */
static int from_archive(cli_awalk *w, cli_input *in)
{
    vigil_archive_entry e;
    if (!vigil_archive_next(w->a, &e)) { close_archive(w); return 0; }
    if (e.kind == VIGIL_ARCHIVE_END) {
        in->kind = CLI_IN_ARCHIVE;
        in->path = e.path[0] ? join3(w->outer, "!/", e.path) : join3(w->outer, "", "");
        in->link = w->outer_link;
        in->data = e.data;
        in->size = e.data_size;
        in->status = e.status;
        in->why = e.err;
        in->members = e.members;
        in->mflags = e.flags;
        snprintf(in->format, sizeof in->format, "%s", e.format ? e.format : "archive");
        if (e.depth == 0) { /* its digests are waited for where it is hashed, not here: the walk goes on */
            in->ticket = vigil_archive_digests_ticket(w->a);
            close_archive(w);
        }
        return 1;
    }
    char *path = member_path(w, e.path);
    int c = w->claim ? w->claim(path, w->ctx) : 0;
    if (c) { free(path); return c > 0 ? 0 : -1; }
    in->kind = CLI_IN_MEMBER;
    in->path = path;
    in->link = w->outer_link;
    in->mflags = e.flags;
    in->declared = e.size;
    in->crc32 = e.crc32;
    if (e.flags & VIGIL_MEMBER_NOT_FILE) {
        in->err = join3("skipped: not a regular file inside the archive (a link, device or FIFO entry)", "", "");
        return 1;
    }
    if (e.flags & VIGIL_MEMBER_ENCRYPTED) return 1;
    vigil_error err;
    vigil_result r = vigil_archive_read_later(w->a, &in->ticket, &err);
    if (!r) { /* a stored member of the zip file: read where it is hashed, in parallel, unless an archive */
        uint8_t head[512];
        size_t hn = vigil_digest_ticket_peek(in->ticket, head, sizeof head);
        if (!vigil_archive_sniff(head, hn)) {
            in->later = 1;
            in->size = (size_t)e.size;
            return 1;
        }
        r = vigil_digest_ticket_read(in->ticket, &in->data, &in->size, &err);
    } else if (r == VIGIL_E_NOT_FOUND) {
        r = vigil_archive_read(w->a, &in->data, &in->size, &err);
    }
    if (r) {
        in->status = r;
        in->why = err;
        return 1;
    }
    const char *fmt = vigil_archive_sniff(in->data, in->size);
    if (fmt) {
        r = vigil_archive_enter(w->a, in->data, in->size, &err);
        if (!r) { /* its members come next; this input comes back at its END */
            in->data = NULL;
            cli_input_free(in);
            return 0;
        }
        if (r != VIGIL_E_FORMAT) { /* past the depth, or damaged: digests only */
            in->status = r;
            in->why = err;
            if (r == VIGIL_E_CORRUPT) { in->kind = CLI_IN_ARCHIVE; snprintf(in->format, sizeof in->format, "%s", fmt); }
        }
    }
    if (in->kind == CLI_IN_MEMBER && !in->ticket) in->ticket = vigil_archive_member_ticket(w->a);
    return 1;
}

int cli_awalk_next(cli_awalk *w, cli_input *in)
{
    memset(in, 0, sizeof *in);
    for (;;) {
        if (w->a) {
            int r = from_archive(w, in);
            if (r) return r;
            continue;
        }
        char *path, *err;
        int link = 0;
        if (w->next) {
            if (w->batch_end) { w->batch_end = 0; return CLI_AWALK_BATCH_END; }
            int got = w->next(w->next_ctx, &path, &err, &link, w->why, sizeof w->why);
            if (got < 0) return -1;
            if (!got) return 0;
            w->batch_end = got == 2;
        } else {
            if (!cli_walk_next(w->w, &path, &err)) return 0;
            link = cli_walk_via_link(w->w);
        }
        if (!err && cli_is_own_output(path)) { free(path); continue; }
        int c = w->claim ? w->claim(path, w->ctx) : 0;
        if (c) { free(path); free(err); if (c < 0) return -1; continue; }
        in->path = path;
        in->err = err;
        in->link = link;
        const char *fmt = err || w->off ? NULL : sniff_file(path);
        if (!fmt) return 1;
        vigil_error e;
        vigil_result r = vigil_archive_open_file(path, &w->o, &w->a, &e);
        if (r == VIGIL_E_CORRUPT) { /* an archive, unreadable: its record says why */
            in->kind = CLI_IN_ARCHIVE;
            in->status = r;
            in->why = e;
            snprintf(in->format, sizeof in->format, "%s", fmt);
            return 1;
        }
        if (r) return 1; /* not one after all: a file */
        vigil_archive_digests_begin(w->a, &e); /* if it cannot start, the record reads the file again */
        w->outer = path;
        w->outer_link = in->link;
        w->nseen = 0;
        memset(in, 0, sizeof *in);
    }
}

/* A member whose digests come with a ticket: they are set before before_decode sees the result
 * (it looks duplicates up by XXH3-128), as when the hash takes them itself. */
typedef struct ticket_hook {
    const vigil_hash_result *d;
    int (*before_decode)(const vigil_hash_result *r, void *ctx);
    void *ctx;
} ticket_hook;

static void take_digests(vigil_hash_result *r, const vigil_hash_result *d)
{
    memcpy(r->md5, d->md5, sizeof r->md5);
    memcpy(r->sha1, d->sha1, sizeof r->sha1);
    memcpy(r->xxh128, d->xxh128, sizeof r->xxh128);
    r->have |= VIGIL_HAVE_DIGESTS;
}

static int ticket_before_decode(const vigil_hash_result *r, void *p)
{
    ticket_hook *h = p;
    take_digests((vigil_hash_result *)r, h->d);
    return h->before_decode ? h->before_decode(r, h->ctx) : 1;
}

vigil_result cli_input_hash(const cli_input *in, const vigil_hash_options *opt, const vigil_features_options *fopt,
                            vigil_hash_result *r, vigil_features *features, vigil_error *ferr, vigil_error *err)
{
    vigil_hash_options o = *opt;
    vigil_result rc;
    if (in->later) { /* its bytes, read here (on the hashing thread) rather than by the walk */
        cli_input *m = (cli_input *)in;
        vigil_error le;
        m->later = 0;
        m->size = 0;
        vigil_result lr = vigil_digest_ticket_read(m->ticket, &m->data, &m->size, &le);
        if (lr) { m->status = lr; m->why = le; }
    }
    if (in->kind == CLI_IN_ARCHIVE) o.flags |= VIGIL_HASH_NO_PDQ;
    vigil_hash_result td;
    ticket_hook hook;
    int ticket = in->kind == CLI_IN_MEMBER && in->ticket && in->data && !(o.flags & VIGIL_HASH_NO_DIGESTS) &&
                 !vigil_digest_ticket_wait(in->ticket, &td);
    vigil_hash_result own;
    int have_own = in->have_digests;
    if (in->kind == CLI_IN_ARCHIVE && in->ticket) { /* else read again by path */
        memset(&own, 0, sizeof own);
        have_own = !vigil_digest_ticket_wait(in->ticket, &own);
    }
    if (ticket) { /* the archive's pass took them: the same digests, not taken twice */
        o.flags |= VIGIL_HASH_NO_DIGESTS;
        hook = (ticket_hook){&td, opt->before_decode, opt->before_decode_ctx};
        o.before_decode = ticket_before_decode;
        o.before_decode_ctx = &hook;
    }
    if (in->kind == CLI_IN_MEMBER && !in->data) { /* encrypted, or not read: nothing to hash */
        memset(r, 0, sizeof *r);
        if (features) memset(features, 0, sizeof *features);
        r->file_size = in->declared;
        rc = VIGIL_OK;
    } else if (in->kind == CLI_IN_ARCHIVE && have_own) { /* taken while its members were read */
        memset(r, 0, sizeof *r);
        if (features) memset(features, 0, sizeof *features);
        if (features && ferr) { /* as vigil_hash_file_features says for VIGIL_HASH_NO_PDQ */
            memset(ferr, 0, sizeof *ferr);
            ferr->code = VIGIL_E_NOT_FOUND;
            snprintf(ferr->message, sizeof ferr->message, "not decoded (an archive's own record)");
        }
        *r = in->ticket ? own : in->digests;
        rc = VIGIL_OK;
    } else if (in->kind == CLI_IN_FILE || !in->data) {
        rc = features ? vigil_hash_file_features(in->path, &o, fopt, r, features, ferr, err) : vigil_hash_file(in->path, &o, r, err);
    } else {
        rc = features ? vigil_hash_memory_features(in->data, in->size, &o, fopt, r, features, ferr, err)
                      : vigil_hash_memory(in->data, in->size, &o, r, err);
    }
    if (ticket) take_digests(r, &td);
    if (in->kind == CLI_IN_ARCHIVE && !rc) snprintf(r->format, sizeof r->format, "%s", in->format);
    if (in->status) {
        if (err) *err = in->why;
        rc = in->status;
        if (features && ferr) *ferr = in->why;
    }
    return rc;
}

void cli_input_json(FILE *f, const cli_input *in)
{
    if (in->kind == CLI_IN_MEMBER && (in->mflags & VIGIL_MEMBER_ENCRYPTED)) {
        fputs(",\"encrypted\":true", f);
        if (in->mflags & VIGIL_MEMBER_CRC) fprintf(f, ",\"crc32\":\"%08x\"", (unsigned)in->crc32);
    }
    if (in->kind == CLI_IN_ARCHIVE) {
        if (in->mflags & VIGIL_MEMBER_ENCRYPTED) fputs(",\"encrypted\":true", f);
        fputs(",\"archive\":{\"format\":", f);
        cli_json_str(f, in->format);
        fprintf(f, ",\"members\":%llu}", (unsigned long long)in->members);
    }
}
