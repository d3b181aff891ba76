/* archive.c - the members of archives (zip, tar plain or gz/bz2/xz/zstd, 7z, rar 4 and 5), read
 * with libarchive into memory, nested archives opened to a depth, bombs refused.
 *
 * A stack of open levels: the outermost reads the file itself (libarchive's fd reader, 1 MiB
 * blocks, seekable so zip uses its central directory and 7z its header at the end); a nested
 * archive is a member read whole into memory and opened there (archive_read_open_memory), so
 * memory is at most one member per level plus what libarchive holds per level (its decompressor
 * windows: up to 64 MiB for an xz or 7z LZMA dictionary). Nothing is written to disk, so member
 * names are only strings.
 *
 * The bomb limits are counted over everything read out of the outermost archive, nested levels
 * included (a nested archive's bytes count once as a member and again as its members' bytes):
 * a 42-style bomb passes the ratio within its first levels, a single member that expands 1000x
 * passes it as soon as its declared size is seen or, when the header lies, while it is read in
 * 1 MiB steps. */
#include "archive_impl.h"
#include "archive_digest.h"
#include "rar_headers.h"
#include "sevenz_headers.h"
#include "internal.h"
#include "options.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LEVELS 64            /* far above any sane max_depth; bounds the stack */
#define READ_STEP (1u << 20)     /* limits are checked after every step */
#define ZIP_CD_MAX (256u << 20)  /* a central directory read for CRCs: 256 MiB at most */
#define SEVENZ_HEADER_MAX (64u << 20) /* a 7z header read for CRCs, decoded: 64 MiB at most */

void vigil_archive_options_init(vigil_archive_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
    opt->max_depth = 4;
    opt->max_ratio = 100;
    opt->ratio_floor = 1u << 20;
    opt->max_total_bytes = 64ull << 30;
    opt->max_member_bytes = VIGIL__WHOLE_READ_MAX;
}

static vigil_result take_options(const vigil_archive_options *in, vigil_archive_options *o, vigil_error *err)
{
    vigil_archive_options_init(o);
    if (!in) return VIGIL_OK;
    vigil_result r = vigil__opt_check(in->struct_size, sizeof *o, "vigil_archive_options", err);
    if (r) return r;
    VIGIL__OPT_TAKE(o, in, max_depth);
    VIGIL__OPT_TAKE(o, in, max_ratio);
    VIGIL__OPT_TAKE(o, in, ratio_floor);
    VIGIL__OPT_TAKE(o, in, max_total_bytes);
    VIGIL__OPT_TAKE(o, in, max_member_bytes);
    VIGIL__OPT_LAST(vigil_archive_options, max_member_bytes);
    if (o->max_depth < 1 || o->max_ratio < 1)
        return vigil__fail(err, VIGIL_E_INVALID, "vigil_archive_options: max_depth and max_ratio must be at least 1");
    return VIGIL_OK;
}

/* ---- sniffing ------------------------------------------------------------------------------------ */

/* A tar header: the checksum at 148 (octal) is the sum of the 512 bytes with that field as spaces. */
static int tar_header(const uint8_t *b, size_t n)
{
    if (n < 512) return 0;
    if (!memcmp(b + 257, "ustar", 5)) return 1;
    unsigned long want = 0;
    int digits = 0;
    for (int i = 148; i < 156; i++) {
        if (b[i] >= '0' && b[i] <= '7') { want = want * 8 + (b[i] - '0'); digits++; }
        else if (b[i] == ' ' || b[i] == 0) { if (digits) break; }
        else return 0;
    }
    if (!digits || !b[0]) return 0;
    unsigned long sum = 0;
    for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : b[i];
    return sum == want;
}

const char *vigil_archive_sniff(const void *head, size_t n)
{
    const uint8_t *b = head;
    if (!b) return NULL;
    if (n >= 4 && b[0] == 'P' && b[1] == 'K' &&
        ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6) || (b[2] == 7 && b[3] == 8)))
        return "zip";
    if (n >= 6 && !memcmp(b, "7z\xBC\xAF\x27\x1C", 6)) return "7z";
    if (n >= 7 && !memcmp(b, "Rar!\x1A\x07", 6) && (b[6] == 0 || (b[6] == 1 && n >= 8 && b[7] == 0))) return "rar";
    if (n >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8) return "gz";
    if (n >= 4 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h' && b[3] >= '1' && b[3] <= '9') return "bz2";
    if (n >= 6 && !memcmp(b, "\xFD" "7zXZ\0", 6)) return "xz";
    if (n >= 4 && !memcmp(b, "\x28\xB5\x2F\xFD", 4)) return "zst";
    if (tar_header(b, n)) return "tar";
    return NULL;
}

/* ---- the zip central directory (for the CRC of encrypted members) ------------------------------- */

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

int vigil__zip_eocd(const uint8_t *tail, size_t n, uint64_t file_size, uint64_t *cd_off, uint64_t *cd_size)
{
    if (n < 22 || file_size < n) return -1;
    for (size_t i = n - 22 + 1; i-- > 0;) {
        const uint8_t *p = tail + i;
        if (le32(p) != 0x06054b50) continue;
        if (i + 22 + le16(p + 20) != n) continue; /* the comment must reach the end exactly */
        uint32_t size = le32(p + 12), off = le32(p + 16);
        if (off == 0xFFFFFFFFu || size == 0xFFFFFFFFu) return -1; /* ZIP64: not looked into */
        uint64_t eocd_at = file_size - n + i;
        if ((uint64_t)off + size > eocd_at) return -1;
        *cd_off = off;
        *cd_size = size;
        return 0;
    }
    return -1;
}

size_t vigil__zip_cd_parse(const uint8_t *cd, size_t n, vigil__zip_cd_entry *out, size_t max)
{
    size_t k = 0, at = 0;
    while (k < max && n - at >= 46) {
        const uint8_t *p = cd + at;
        if (le32(p) != 0x02014b50) break;
        size_t nl = le16(p + 28), xl = le16(p + 30), cl = le16(p + 32);
        if (46 + nl + xl + cl > n - at) break;
        out[k].name = p + 46;
        out[k].name_len = (uint16_t)nl;
        out[k].flags = le16(p + 8);
        out[k].method = le16(p + 10);
        out[k].crc32 = le32(p + 16);
        out[k].size = le32(p + 24);
        out[k].csize = le32(p + 20);
        out[k].header_at = le32(p + 42);
        k++;
        at += 46 + nl + xl + cl;
    }
    return k;
}

/* ---- the stack of open archives ----------------------------------------------------------------- */

typedef struct level {
    struct archive *ar;
    uint8_t *data;        /* a nested archive's bytes (NULL for the outermost) */
    size_t size;
    char *prefix;         /* path of this archive and "!/" ("" for the outermost) */
    size_t prefix_len;
    uint64_t members;
    int dead;             /* stopped early: status/err say why, its END comes next */
    int locked;           /* its directory is encrypted: nothing to list without the password */
    vigil_result status;
    vigil_error err;
    char format[16];
    /* the zip central directory, read at the first encrypted member */
    int cd_tried;
    uint8_t *cd;
    vigil__zip_cd_entry *cde;
    size_t ncde, cursor;
    int own_crc;          /* libarchive skips the members' CRC-32 check; vigil does it (zip_prepare) */
    size_t crc_cursor;
    /* a rar's or 7z's own headers, read at its first member (rar_headers.c, sevenz_headers.c) */
    int facts_tried;
    vigil__facts facts;
} level;

struct vigil_archive {
    vigil_archive_options o;
    int fd;                 /* the outermost archive's file, or -1 */
    const uint8_t *mem;     /* or the caller's bytes (vigil_archive_open_memory) */
    uint64_t outer_size;
    uint64_t out;           /* bytes read out so far, every level */
    level lv[MAX_LEVELS];
    int n;                  /* open levels */
    int current;            /* a member was given and not yet read */
    uint64_t current_size;
    int current_sized;
    vigil_result fail;      /* a limit of the whole archive passed: every level ends with it */
    vigil_error fail_err;
    char *path;
    size_t path_cap;
    char end_format[16];    /* the format of the level whose END was given last */
    /* the outermost file's own digests, on a thread of their own (vigil_archive_digests_begin) */
    vigil__adigest *ad;
    size_t ad_members;      /* the directory entries it was given */
    long ticket_k;          /* the member given: its directory entry, when ad digests it; or -1 */
    const vigil__zip_cd_entry *cur_cd; /* its directory entry, where vigil checks its CRC-32 (own_crc) */
};

typedef struct zipdir {
    uint8_t *cd;
    vigil__zip_cd_entry *cde;
    size_t n;
    int tried, own;
} zipdir;

static void zip_prepare(struct archive *ar, const uint8_t *mem, int fd, uint64_t size, zipdir *z);
static void zip_adopt(level *l, zipdir *z);
static void zip_drop(zipdir *z);

static struct archive *new_reader(void)
{
    struct archive *ar = archive_read_new();
    if (!ar) return NULL;
    archive_read_support_filter_gzip(ar);
    archive_read_support_filter_bzip2(ar);
    archive_read_support_filter_xz(ar);
    archive_read_support_filter_zstd(ar);
    archive_read_support_format_tar(ar);
    archive_read_support_format_gnutar(ar);
    archive_read_support_format_zip(ar);
    archive_read_support_format_7zip(ar);
    archive_read_support_format_rar(ar);
    archive_read_support_format_rar5(ar);
    return ar;
}

static void level_close(level *l)
{
    if (l->ar) archive_read_free(l->ar);
    free(l->prefix);
    free(l->cd);
    free(l->cde);
    vigil__facts_free(&l->facts);
    memset(l, 0, sizeof *l);
}

void vigil_archive_free(vigil_archive *a)
{
    if (!a) return;
    vigil__adigest_unref(a->ad); /* it reads on while a ticket waits for it */
    for (int i = 0; i < a->n; i++) { free(a->lv[i].data); level_close(&a->lv[i]); }
    if (a->fd >= 0) close(a->fd);
    free(a->path);
    free(a);
}

static const char *ar_why(struct archive *ar)
{
    const char *s = archive_error_string(ar);
    return s && *s ? s : "it ends early or its directory is damaged";
}

/* Why an open failed: no format libarchive knows (a gzip stream of something else than a tar),
 * or one it knows, damaged before the first member (a truncated gzip stream, smaller than the
 * first block libarchive decompresses to bid on the format). */
static vigil_result open_failed(struct archive *ar, vigil_error *err)
{
    if (archive_errno(ar) == EILSEQ) /* libarchive's ARCHIVE_ERRNO_FILE_FORMAT where there is no EFTYPE */
        return vigil__fail(err, VIGIL_E_FORMAT, "not an archive vigil reads: %s", ar_why(ar));
    return vigil__fail(err, VIGIL_E_CORRUPT, "damaged or truncated before its first member: %s", ar_why(ar));
}

/* Pushes a level reading ar (opened by the caller's open step). */
static vigil_result push(vigil_archive *a, struct archive *ar, uint8_t *data, size_t size, const char *prefix, vigil_error *err)
{
    level *l = &a->lv[a->n];
    memset(l, 0, sizeof *l);
    l->ar = ar;
    l->data = data;
    l->size = size;
    l->prefix_len = strlen(prefix);
    l->prefix = malloc(l->prefix_len + 1);
    if (!l->prefix) { archive_read_free(ar); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); }
    memcpy(l->prefix, prefix, l->prefix_len + 1);
    a->n++;
    return VIGIL_OK;
}

static vigil_result new_archive(const vigil_archive_options *opt, vigil_archive **out, vigil_error *err)
{
    *out = NULL;
    vigil_archive *a = calloc(1, sizeof *a);
    if (!a) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    vigil_result r = take_options(opt, &a->o, err);
    if (r) { free(a); return r; }
    a->fd = -1;
    a->ticket_k = -1;
    *out = a;
    return VIGIL_OK;
}

vigil_result vigil_archive_open_file(const char *path, const vigil_archive_options *opt, vigil_archive **out,
                                     vigil_error *err)
{
    if (!path || !out) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    vigil_archive *a;
    vigil_result r = new_archive(opt, &a, err);
    if (r) return r;
    a->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (a->fd < 0 || fstat(a->fd, &st)) {
        r = vigil__fail(err, VIGIL_E_IO, "cannot open: %s", strerror(errno));
        vigil_archive_free(a);
        return r;
    }
    if (!S_ISREG(st.st_mode)) {
        vigil_archive_free(a);
        return vigil__fail(err, VIGIL_E_NOT_FILE, "not a regular file");
    }
    fcntl(a->fd, F_SETFL, fcntl(a->fd, F_GETFL) & ~O_NONBLOCK);
    a->outer_size = (uint64_t)st.st_size;
    struct archive *ar = new_reader();
    if (!ar) { vigil_archive_free(a); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); }
    zipdir z;
    zip_prepare(ar, NULL, a->fd, a->outer_size, &z);
    /* A zip whose directory we read: libarchive reads only its local headers (members are read by
     * ticket), and its fd reader skips forward by lseek only in whole blocks, reading the rest; with
     * 1 MiB blocks it read 60 MB of a 97 MB zip of photos, with 16 KiB 6 MB (bench/results/archive.md).
     * Streams (tar.gz, 7z) keep 1 MiB: fewer reads where every byte is read anyway. */
    if (archive_read_open_fd(ar, a->fd, z.n ? 16u << 10 : 1u << 20) != ARCHIVE_OK) {
        r = open_failed(ar, err);
        archive_read_free(ar);
        zip_drop(&z);
        vigil_archive_free(a);
        return r;
    }
    if ((r = push(a, ar, NULL, 0, "", err))) { zip_drop(&z); vigil_archive_free(a); return r; }
    zip_adopt(&a->lv[a->n - 1], &z);
    *out = a;
    return VIGIL_OK;
}

static vigil_result open_memory(struct archive **out, const void *data, size_t size, zipdir *z, vigil_error *err)
{
    struct archive *ar = new_reader();
    if (!ar) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    zip_prepare(ar, data, -1, size, z);
    if (archive_read_open_memory(ar, data, size) != ARCHIVE_OK) {
        vigil_result r = open_failed(ar, err);
        archive_read_free(ar);
        zip_drop(z);
        return r;
    }
    *out = ar;
    return VIGIL_OK;
}

vigil_result vigil_archive_open_memory(const void *data, size_t size, const vigil_archive_options *opt,
                                       vigil_archive **out, vigil_error *err)
{
    if (!out || (!data && size)) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    vigil_archive *a;
    vigil_result r = new_archive(opt, &a, err);
    if (r) return r;
    a->outer_size = size;
    a->mem = data;
    struct archive *ar;
    zipdir z;
    if ((r = open_memory(&ar, data, size, &z, err))) { vigil_archive_free(a); return r; }
    if ((r = push(a, ar, NULL, 0, "", err))) { zip_drop(&z); vigil_archive_free(a); return r; }
    zip_adopt(&a->lv[a->n - 1], &z);
    *out = a;
    return VIGIL_OK;
}

/* The format as vigil names it, from libarchive's codes once a header has been read. */
static void name_format(level *l)
{
    if (l->format[0]) return;
    int f = archive_format(l->ar) & ARCHIVE_FORMAT_BASE_MASK;
    const char *base = f == ARCHIVE_FORMAT_ZIP ? "zip" : f == ARCHIVE_FORMAT_TAR ? "tar" : f == ARCHIVE_FORMAT_7ZIP ? "7z"
                     : f == ARCHIVE_FORMAT_RAR || f == ARCHIVE_FORMAT_RAR_V5 ? "rar" : NULL;
    if (!base) return;
    const char *z = "";
    if (archive_filter_count(l->ar) > 1) {
        int c = archive_filter_code(l->ar, 0);
        z = c == ARCHIVE_FILTER_GZIP ? ".gz" : c == ARCHIVE_FILTER_BZIP2 ? ".bz2" : c == ARCHIVE_FILTER_XZ ? ".xz"
          : c == ARCHIVE_FILTER_ZSTD ? ".zst" : "";
    }
    snprintf(l->format, sizeof l->format, "%s%s", base, z);
}

/* Passes a limit of the whole archive once `more` bytes are out? Then every level ends with it. */
static int over_limit(vigil_archive *a, uint64_t more, const char *what)
{
    uint64_t out = a->out + more;
    if (out > a->o.max_total_bytes)
        vigil__fail(&a->fail_err, VIGIL_E_TOO_LARGE,
                    "archive bomb refused: %s past the total-size limit of %llu bytes of members", what,
                    (unsigned long long)a->o.max_total_bytes);
    else if (out > a->o.ratio_floor && out / a->o.max_ratio >= (a->outer_size ? a->outer_size : 1) &&
             out > (uint64_t)a->o.max_ratio * a->outer_size)
        vigil__fail(&a->fail_err, VIGIL_E_TOO_LARGE,
                    "archive bomb refused: %s past the expansion-ratio limit of %u times the archive's %llu bytes "
                    "(%llu bytes with it)", what, a->o.max_ratio, (unsigned long long)a->outer_size, (unsigned long long)out);
    else
        return 0;
    a->fail = VIGIL_E_TOO_LARGE;
    return 1;
}

/* A zip's central directory, from mem or else the file fd (fsize bytes): 0 and its entries
 * (pointing into *cd), or -1. */
static int cd_load(const uint8_t *mem, int fd, uint64_t fsize, uint8_t **cd, vigil__zip_cd_entry **cde, size_t *n)
{
    *cd = NULL;
    *cde = NULL;
    *n = 0;
    if (!mem && fd < 0) return -1;
    uint8_t *tail = NULL;
    size_t tn = fsize < 65557 ? (size_t)fsize : 65557;
    if (!mem && (!(tail = malloc(tn ? tn : 1)) || pread(fd, tail, tn, (off_t)(fsize - tn)) != (ssize_t)tn)) { free(tail); return -1; }
    uint64_t off, size;
    int ok = !vigil__zip_eocd(mem ? mem + fsize - tn : tail, tn, fsize, &off, &size) && size <= ZIP_CD_MAX;
    free(tail);
    if (!ok || !size || !(*cd = malloc((size_t)size))) return -1;
    if (mem) memcpy(*cd, mem + off, (size_t)size);
    else if (pread(fd, *cd, (size_t)size, (off_t)off) != (ssize_t)size) { free(*cd); *cd = NULL; return -1; }
    size_t max = (size_t)size / 46;
    if (!(*cde = malloc((max ? max : 1) * sizeof **cde))) { free(*cd); *cd = NULL; return -1; }
    *n = vigil__zip_cd_parse(*cd, (size_t)size, *cde, max);
    return 0;
}

/* The directory entry of name, the next one in directory order first (libarchive reads the
 * members in that order); NULL when there is none. */
static const vigil__zip_cd_entry *cd_find(level *l, size_t *cursor, const char *name)
{
    size_t nl = strlen(name);
    for (size_t k = 0; k < l->ncde; k++) {
        size_t i = (*cursor + k) % l->ncde;
        if (l->cde[i].name_len == nl && !memcmp(l->cde[i].name, name, nl)) {
            *cursor = i + 1;
            return &l->cde[i];
        }
    }
    return NULL;
}

/* The CRC-32 the zip's central directory stores for name, when this level is a zip. */
static int zip_crc(vigil_archive *a, level *l, const char *name, uint32_t *crc)
{
    if (strncmp(l->format, "zip", 3) || l->format[3]) return 0;
    if (!l->cd_tried) {
        l->cd_tried = 1;
        const uint8_t *mem = l->data ? l->data : a->mem;
        if (cd_load(mem, mem ? -1 : a->fd, l->data ? l->size : a->outer_size, &l->cd, &l->cde, &l->ncde)) return 0;
    }
    const vigil__zip_cd_entry *c = cd_find(l, &l->cursor, name);
    if (!c) return 0;
    *crc = c->crc32;
    return !(c->method == 99 && !*crc); /* AE-2 stores no CRC */
}

/* ---- the CRC-32 of a zip's members, checked by vigil ------------------------------------------ */

/* libarchive checks a zip member's CRC-32 with zlib's crc32 (5.3 instructions a byte, 1.3 % of a scan
 * of stored photos: bench/results/archive.md); libdeflate's, with PCLMULQDQ, costs a small part of
 * that. So where every member can be told apart in the central directory (unique printable ASCII
 * names, stored or deflated, no encryption, no ZIP64 sizes), libarchive is told to skip its check
 * ("ignorecrc32") and vigil checks each member read against the directory's CRC instead; any
 * other zip keeps libarchive's check. */
static int cmp_names(const void *x, const void *y)
{
    const vigil__zip_cd_entry *a = *(const vigil__zip_cd_entry *const *)x, *b = *(const vigil__zip_cd_entry *const *)y;
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c = memcmp(a->name, b->name, n);
    return c ? c : (a->name_len > b->name_len) - (a->name_len < b->name_len);
}

static int own_crc_ok(const zipdir *z)
{
    if (!z->n) return 0;
    for (size_t i = 0; i < z->n; i++) {
        const vigil__zip_cd_entry *e = &z->cde[i];
        if ((e->flags & 1) || (e->method != 0 && e->method != 8) || e->size == 0xFFFFFFFFu || !e->name_len) return 0;
        for (size_t k = 0; k < e->name_len; k++)
            if (e->name[k] < 0x20 || e->name[k] > 0x7e) return 0;
    }
    const vigil__zip_cd_entry **by = malloc(z->n * sizeof *by);
    if (!by) return 0;
    for (size_t i = 0; i < z->n; i++) by[i] = &z->cde[i];
    qsort(by, z->n, sizeof *by, cmp_names);
    int unique = 1;
    for (size_t i = 1; i < z->n && unique; i++) unique = cmp_names(&by[i - 1], &by[i]) != 0;
    free(by);
    return unique;
}

/* Before ar is opened on a zip (mem, or else the file fd): its directory, and ignorecrc32 when
 * vigil can check every member itself. */
static void zip_prepare(struct archive *ar, const uint8_t *mem, int fd, uint64_t size, zipdir *z)
{
    memset(z, 0, sizeof *z);
    uint8_t head[4];
    if (size < 22) return;
    if (mem) memcpy(head, mem, 4);
    else if (fd < 0 || pread(fd, head, 4, 0) != 4) return;
    if (memcmp(head, "PK\3\4", 4)) return;
    z->tried = 1;
    if (cd_load(mem, fd, size, &z->cd, &z->cde, &z->n)) return;
    z->own = own_crc_ok(z) && archive_read_set_format_option(ar, "zip", "ignorecrc32", "1") == ARCHIVE_OK;
}

/* The level pushed for that archive takes the directory. */
static void zip_adopt(level *l, zipdir *z)
{
    l->cd_tried = z->tried;
    l->cd = z->cd;
    l->cde = z->cde;
    l->ncde = z->n;
    l->own_crc = z->own;
    memset(z, 0, sizeof *z);
}

static void zip_drop(zipdir *z)
{
    free(z->cd);
    free(z->cde);
    memset(z, 0, sizeof *z);
}

typedef struct level_src { const vigil_archive *a; const level *l; } level_src;

static long level_read(void *p, uint64_t off, uint8_t *buf, size_t n)
{
    const level_src *r = p;
    const uint8_t *mem = r->l->data ? r->l->data : r->a->n && r->l == &r->a->lv[0] ? r->a->mem : NULL;
    uint64_t size = r->l->data ? r->l->size : r->a->outer_size;
    if (mem) {
        if (off >= size) return 0;
        size_t k = size - off < n ? (size_t)(size - off) : n;
        memcpy(buf, mem + off, k);
        return (long)k;
    }
    if (r->a->fd < 0) return -1;
    ssize_t k = pread(r->a->fd, buf, n, (off_t)off);
    return k < 0 ? -1 : (long)k;
}

/* What a rar's or 7z's own headers say of the member named name: whether it is encrypted
 * (libarchive 3.6 does not see RAR 5's encryption record) and the CRC-32 stored for an encrypted
 * member (libarchive lists a 7z's as encrypted, its name and size, but not that). */
static void header_facts(vigil_archive *a, level *l, const char *name, vigil_archive_entry *e)
{
    int rar = !strcmp(l->format, "rar");
    if (!rar && strcmp(l->format, "7z")) return;
    if (!l->facts_tried) {
        l->facts_tried = 1;
        level_src src = {a, l};
        uint64_t size = l->data ? l->size : a->outer_size;
        int rc = rar ? vigil__rar_walk(level_read, &src, size, (size_t)1 << 24, &l->facts)
                     : vigil__7z_walk(level_read, &src, size, SEVENZ_HEADER_MAX, &l->facts);
        if (rc) vigil__facts_free(&l->facts);
    }
    const vigil__fact *f = vigil__facts_find(&l->facts, name);
    if (!f) return;
    if (f->encrypted) e->flags |= VIGIL_MEMBER_ENCRYPTED;
    if ((e->flags & VIGIL_MEMBER_ENCRYPTED) && f->has_crc) { e->crc32 = f->crc32; e->flags |= VIGIL_MEMBER_CRC; }
}

static int set_path(vigil_archive *a, const char *prefix, size_t pl, const char *name)
{
    size_t nl = strlen(name);
    if (pl + nl + 1 > a->path_cap) {
        size_t cap = (pl + nl + 1) * 2;
        char *p = realloc(a->path, cap);
        if (!p) return -1;
        a->path = p;
        a->path_cap = cap;
    }
    memcpy(a->path, prefix, pl);
    memcpy(a->path + pl, name, nl + 1);
    return 0;
}

/* Whether a zip ends with its end-of-central-directory record: libarchive lists a zip cut after
 * its last member (the directory gone) without a word. */
static int zip_complete(const vigil_archive *a, const level *l)
{
    uint64_t fsize = l->data ? l->size : a->outer_size;
    size_t tn = fsize < 65557 ? (size_t)fsize : 65557;
    uint8_t *tail = NULL;
    const uint8_t *t;
    if (l->data) t = l->data + fsize - tn;
    else if (a->fd >= 0 && (tail = malloc(tn ? tn : 1)) && pread(a->fd, tail, tn, (off_t)(fsize - tn)) == (ssize_t)tn) t = tail;
    else { free(tail); return 1; } /* cannot tell */
    uint64_t off, size;
    int ok = !vigil__zip_eocd(t, tn, fsize, &off, &size);
    if (!ok) { /* a ZIP64 one also counts: its locator signature sits before the record */
        for (size_t i = tn >= 22 ? tn - 22 + 1 : 0; i-- > 0 && !ok;) ok = le32(t + i) == 0x06054b50;
    }
    free(tail);
    return ok;
}

/* The END of the innermost level: its bytes go back to the caller. */
static int give_end(vigil_archive *a, vigil_archive_entry *e)
{
    level *l = &a->lv[a->n - 1];
    name_format(l);
    if (!a->fail && !l->status && !strcmp(l->format, "zip") && !zip_complete(a, l)) {
        l->status = VIGIL_E_CORRUPT;
        vigil__fail(&l->err, VIGIL_E_CORRUPT, "zip: truncated: no central directory at its end (the %llu members before "
                    "the cut were read)", (unsigned long long)l->members);
    }
    e->kind = VIGIL_ARCHIVE_END;
    e->depth = (unsigned)(a->n - 1);
    e->members = l->members;
    if (l->locked) e->flags |= VIGIL_MEMBER_ENCRYPTED;
    e->status = a->fail ? a->fail : l->status;
    if (a->fail) e->err = a->fail_err;
    else if (l->status) e->err = l->err;
    /* the archive's own path: its prefix without the trailing "!/" */
    size_t pl = l->prefix_len >= 2 ? l->prefix_len - 2 : 0;
    if (set_path(a, l->prefix, pl, "")) { a->path = NULL; }
    e->path = a->path ? a->path : "";
    memcpy(a->end_format, l->format, sizeof l->format); /* outlives the level */
    e->format = a->end_format[0] ? a->end_format : "archive";
    e->data = l->data;
    e->data_size = l->size;
    l->data = NULL;
    level_close(l);
    a->n--;
    a->current = 0;
    return 1;
}

int vigil_archive_next(vigil_archive *a, vigil_archive_entry *e)
{
    memset(e, 0, sizeof *e);
    if (!a || !a->n) return 0;
    a->current = 0;
    a->ticket_k = -1;
    a->cur_cd = NULL;
    for (;;) {
        level *l = &a->lv[a->n - 1];
        if (a->fail || l->dead) return give_end(a, e);
        struct archive_entry *ent;
        int r = archive_read_next_header(l->ar, &ent);
        if (r == ARCHIVE_EOF) return give_end(a, e);
        if (r < ARCHIVE_WARN) {
            name_format(l);
            l->dead = 1;
            const char *why = ar_why(l->ar);
            if (archive_read_has_encrypted_entries(l->ar) > 0 || strstr(why, "ncrypt")) { /* "encrypted", RAR 5's "Encryption is not supported" */
                l->locked = 1; /* listed as encrypted, not as damage */
                return give_end(a, e);
            }
            l->status = VIGIL_E_CORRUPT;
            vigil__fail(&l->err, VIGIL_E_CORRUPT, "%s: damaged or truncated after %llu members: %s",
                        l->format[0] ? l->format : "archive", (unsigned long long)l->members, ar_why(l->ar));
            return give_end(a, e);
        }
        name_format(l);
        unsigned type = archive_entry_filetype(ent);
        if (type == AE_IFDIR) continue;
        const char *name = archive_entry_pathname(ent);
        if (!name) name = archive_entry_pathname_utf8(ent);
        if (!name) name = "";
        if (set_path(a, l->prefix, l->prefix_len, name)) {
            a->fail = VIGIL_E_NOMEM;
            vigil__fail(&a->fail_err, VIGIL_E_NOMEM, "out of memory");
            return give_end(a, e);
        }
        l->members++;
        e->kind = VIGIL_ARCHIVE_MEMBER;
        e->path = a->path;
        e->depth = (unsigned)a->n;
        if (archive_entry_size_is_set(ent)) { e->flags |= VIGIL_MEMBER_SIZE; e->size = (uint64_t)archive_entry_size(ent); }
        if (type != AE_IFREG || (archive_entry_hardlink(ent) && !e->size)) e->flags |= VIGIL_MEMBER_NOT_FILE;
        if (archive_entry_is_data_encrypted(ent) || archive_entry_is_metadata_encrypted(ent)) e->flags |= VIGIL_MEMBER_ENCRYPTED;
        if ((e->flags & VIGIL_MEMBER_ENCRYPTED) && zip_crc(a, l, name, &e->crc32)) e->flags |= VIGIL_MEMBER_CRC;
        if (type == AE_IFREG) header_facts(a, l, name, e);
        a->current = !(e->flags & (VIGIL_MEMBER_NOT_FILE | VIGIL_MEMBER_ENCRYPTED));
        a->cur_cd = a->current && l->own_crc ? cd_find(l, &l->crc_cursor, name) : NULL;
        const vigil__zip_cd_entry *c = a->cur_cd;
        if (c && a->ad && a->n == 1 && !c->method && c->size == c->csize && (size_t)(c - l->cde) < a->ad_members)
            a->ticket_k = (long)(c - l->cde); /* a stored member of the file: in ad's pass */
        a->current_size = e->size;
        a->current_sized = !!(e->flags & VIGIL_MEMBER_SIZE);
        return 1;
    }
}

vigil_result vigil_archive_read(vigil_archive *a, uint8_t **data, size_t *size, vigil_error *err)
{
    if (!a || !data || !size) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    *data = NULL;
    *size = 0;
    if (!a->n || !a->current) return vigil__fail(err, VIGIL_E_INVALID, "no member to read (encrypted, not a file, or read already)");
    a->current = 0;
    level *l = &a->lv[a->n - 1];
    uint64_t max = a->o.max_member_bytes;
    if (a->current_sized && a->current_size > max)
        return vigil__fail(err, VIGIL_E_TOO_LARGE, "member is %llu bytes, over the limit of %llu held in memory",
                           (unsigned long long)a->current_size, (unsigned long long)max);
    if (a->current_sized && over_limit(a, a->current_size, "its declared size takes it")) {
        *err = a->fail_err;
        return a->fail;
    }
    size_t cap = a->current_sized ? (size_t)a->current_size + 1 : 65536, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory reading a member of %llu bytes", (unsigned long long)a->current_size);
    for (;;) {
        if (len == cap) {
            if (len > max) break;
            size_t ncap = cap * 2 > max + 1 ? (size_t)max + 1 : cap * 2;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) { free(buf); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory reading a member"); }
            buf = nb;
            cap = ncap;
        }
        size_t want = cap - len < READ_STEP ? cap - len : READ_STEP;
        la_ssize_t r = archive_read_data(l->ar, buf + len, want);
        if (r == 0) break;
        if (r < 0) {
            vigil_result code = VIGIL_E_CORRUPT;
            vigil__fail(err, code, "%s member damaged: %s", l->format[0] ? l->format : "archive", ar_why(l->ar));
            if (r == ARCHIVE_FATAL) {
                l->dead = 1;
                l->status = code;
                vigil__fail(&l->err, code, "%s: damaged or truncated after %llu members: %s", l->format[0] ? l->format : "archive",
                            (unsigned long long)(l->members ? l->members - 1 : 0), ar_why(l->ar));
            }
            free(buf);
            return code;
        }
        len += (size_t)r;
        a->out += (uint64_t)r;
        if (over_limit(a, 0, "reading it took the archive")) {
            free(buf);
            *err = a->fail_err;
            return a->fail;
        }
    }
    if (len > max) {
        free(buf);
        return vigil__fail(err, VIGIL_E_TOO_LARGE, "member is over the limit of %llu bytes held in memory", (unsigned long long)max);
    }
    const vigil__zip_cd_entry *c = a->cur_cd;
    uint32_t got = c ? (uint32_t)libdeflate_crc32(0, buf, len) : 0;
    if (c && got != c->crc32) {
        free(buf);
        return vigil__fail(err, VIGIL_E_CORRUPT, "zip member damaged: its CRC-32 is %08x where the central directory says %08x",
                           (unsigned)got, (unsigned)c->crc32);
    }
    if (!c || c->size != len) a->ticket_k = -1; /* ad's pass digests the bytes the directory says */
    *data = buf;
    *size = len;
    return VIGIL_OK;
}

vigil_result vigil_archive_enter(vigil_archive *a, uint8_t *data, size_t size, vigil_error *err)
{
    if (!a || !a->n || (!data && size)) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    if ((uint32_t)a->n >= a->o.max_depth || a->n >= MAX_LEVELS)
        return vigil__fail(err, VIGIL_E_TOO_LARGE, "an archive nested deeper than the depth limit of %u archives: not opened",
                           a->o.max_depth);
    if (!a->path) return vigil__fail(err, VIGIL_E_INVALID, "no member was given");
    struct archive *ar;
    zipdir z;
    vigil_result r = open_memory(&ar, data, size, &z, err);
    if (r) return r;
    size_t pl = strlen(a->path);
    char *prefix = malloc(pl + 3);
    if (!prefix) { archive_read_free(ar); zip_drop(&z); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory"); }
    memcpy(prefix, a->path, pl);
    memcpy(prefix + pl, "!/", 3);
    r = push(a, ar, data, size, prefix, err);
    free(prefix);
    if (r) { zip_drop(&z); return r; }
    zip_adopt(&a->lv[a->n - 1], &z);
    return VIGIL_OK;
}

/* ---- the outermost archive's own digests, alongside the members ------------------------------- */

/* The digests read the file with pread, beside libarchive's reads of the same descriptor: on a
 * core of its own, this takes the archive's MD5, SHA-1 and XXH3-128 (the record VICS lists) off the
 * path of the walk, which reads the members one after the other (bench/results/archive.md). In a
 * zip whose members vigil tells apart (own_crc), the stored ones are digested in the same pass
 * (archive_digest.c): indexed by their directory entry. */
vigil_result vigil_archive_digests_begin(vigil_archive *a, vigil_error *err)
{
    if (!a || a->fd < 0) return vigil__fail(err, VIGIL_E_INVALID, "vigil_archive_digests_begin: not an archive opened from a file");
    if (a->ad) return VIGIL_OK;
    struct stat st;
    if (fstat(a->fd, &st)) return vigil__fail(err, VIGIL_E_IO, "cannot stat: %s", strerror(errno));
    const level *l = a->n ? &a->lv[0] : NULL;
    size_t n = l && l->own_crc ? l->ncde : 0;
    vigil__adigest_member *m = calloc(n ? n : 1, sizeof *m);
    if (!m) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    for (size_t k = 0; k < n; k++) {
        const vigil__zip_cd_entry *c = &l->cde[k];
        if (c->method || (c->flags & 1) || c->size != c->csize || c->size == 0xFFFFFFFFu) continue; /* size 0: none */
        m[k] = (vigil__adigest_member){c->header_at, c->size, c->crc32};
    }
    vigil_result r = vigil__adigest_start(a->fd, &st, m, n, &a->ad, err);
    free(m);
    a->ad_members = n;
    return r;
}

vigil_result vigil_archive_digests(vigil_archive *a, vigil_hash_result *out, vigil_error *err)
{
    if (!a || !out || !a->ad) return vigil__fail(err, VIGIL_E_INVALID, "vigil_archive_digests: vigil_archive_digests_begin was not called");
    return vigil__adigest_join(a->ad, out, err);
}

vigil_digest_ticket *vigil_archive_digests_ticket(vigil_archive *a)
{
    return a && a->ad ? vigil__adigest_ticket(a->ad, VIGIL__ADIGEST_FILE) : NULL;
}

vigil_result vigil_archive_read_later(vigil_archive *a, vigil_digest_ticket **t, vigil_error *err)
{
    if (!a || !t) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    *t = NULL;
    if (!a->n || !a->current || a->ticket_k < 0)
        return vigil__fail(err, VIGIL_E_NOT_FOUND, "not a stored member of the zip file itself: read it");
    a->current = 0;
    uint64_t size = a->cur_cd->size;
    if (size > a->o.max_member_bytes)
        return vigil__fail(err, VIGIL_E_TOO_LARGE, "member is %llu bytes, over the limit of %llu held in memory",
                           (unsigned long long)size, (unsigned long long)a->o.max_member_bytes);
    if (over_limit(a, size, "its declared size takes it")) {
        *err = a->fail_err;
        return a->fail;
    }
    a->out += size; /* stored: the bytes it will have */
    if (!(*t = vigil__adigest_ticket(a->ad, (size_t)a->ticket_k))) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    return VIGIL_OK;
}

vigil_digest_ticket *vigil_archive_member_ticket(vigil_archive *a)
{
    return a && a->ad && a->ticket_k >= 0 ? vigil__adigest_ticket(a->ad, (size_t)a->ticket_k) : NULL;
}
