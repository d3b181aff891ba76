/* test_files.c - files as they come from seized media: malformed, hostile, unreadable, shared
 * between threads; plus the bad-input fixtures that tests/cli.sh uses. */
#include "tests.h"

#include <errno.h>
#include <fcntl.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vips/vips.h>

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
    }
    return ~c;
}

static size_t png_chunk(uint8_t *out, const char *type, const uint8_t *data, uint32_t n)
{
    out[0] = (uint8_t)(n >> 24); out[1] = (uint8_t)(n >> 16); out[2] = (uint8_t)(n >> 8); out[3] = (uint8_t)n;
    memcpy(out + 4, type, 4);
    if (n) memcpy(out + 8, data, n);
    uint32_t c = crc32_of(out + 4, n + 4);
    out[8 + n] = (uint8_t)(c >> 24); out[9 + n] = (uint8_t)(c >> 16); out[10 + n] = (uint8_t)(c >> 8); out[11 + n] = (uint8_t)c;
    return 12 + n;
}

/* A valid PNG header announcing 100000 x 100000 RGB pixels (30 GB decoded), with a few bytes of
 * image data: a decompression bomb must be refused from the header. */
static int write_bomb(const char *path)
{
    uint8_t buf[256], ihdr[13] = {0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 8, 2, 0, 0, 0};
    static const uint8_t idat[] = {0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01};
    size_t n = 0;
    memcpy(buf, "\x89PNG\r\n\x1a\n", 8);
    n = 8;
    n += png_chunk(buf + n, "IHDR", ihdr, 13);
    n += png_chunk(buf + n, "IDAT", idat, sizeof idat);
    n += png_chunk(buf + n, "IEND", NULL, 0);
    return t_write_file(path, buf, n);
}

static int write_png(const char *path, int w, int h)
{
    uint8_t *px = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++) px[i] = (uint8_t)(i * 37 + (i / 7) * 11);
    VipsImage *im = vips_image_new_from_memory_copy(px, (size_t)w * h * 3, w, h, 3, VIPS_FORMAT_UCHAR);
    free(px);
    int r = im ? vips_pngsave(im, path, NULL) : -1;
    if (im) g_object_unref(im);
    return r;
}

/* Shared with tests/cli.sh through `vigil-tests --fixtures DIR`. */
int write_fixtures(const char *dir)
{
    size_t n;
    uint8_t *jpg = t_read_file(t_path(t_data_dir, "opencv-doc__hfs_001.jpg"), &n);
    if (!jpg) return -1;
    int bad = 0;
    bad |= t_write_file(t_path(dir, "empty.jpg"), "", 0);
    bad |= t_write_file(t_path(dir, "truncated.jpg"), jpg, n / 2);
    bad |= t_write_file(t_path(dir, "text.jpg"), "This is not a JPEG, just text.\n", 31);
    bad |= write_png(t_path(dir, "one.png"), 1, 1);
    bad |= write_png(t_path(dir, "four.png"), 4, 4);
    bad |= write_png(t_path(dir, "five.png"), 5, 5);
    bad |= write_bomb(t_path(dir, "bomb.png"));
    free(jpg);
    return bad;
}

static vigil_result try_hash(const char *path, vigil_hash_result *r, vigil_error *e)
{
    vigil_hash_options opt;
    vigil_hash_options_init(&opt);
    memset(e, 0, sizeof *e);
    return vigil_hash_file(path, &opt, r, e);
}

void test_bad_inputs(void)
{
    const char *d = t_tmp_dir;
    CHECK(write_fixtures(d) == 0, "fixtures");
    static const struct { const char *name; vigil_result want; const char *words; } cases[] = {
        {"empty.jpg", VIGIL_E_EMPTY, "empty"},
        {"truncated.jpg", VIGIL_E_DECODE, "truncated"},
        {"text.jpg", VIGIL_E_FORMAT, "not a recognised image"},
        {"one.png", VIGIL_E_TOO_SMALL, "1x1"},
        {"four.png", VIGIL_E_TOO_SMALL, "4x4"},
        {"five.png", VIGIL_OK, ""},
        {"bomb.png", VIGIL_E_TOO_LARGE, "100000x100000"},
        {"does-not-exist.jpg", VIGIL_E_IO, "No such file"},
        {".", VIGIL_E_NOT_FILE, "directory"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vigil_hash_result r;
        vigil_error e;
        vigil_result rc = try_hash(t_path(d, cases[i].name), &r, &e);
        CHECK(rc == cases[i].want, "%s: got %s (%s), want %s", cases[i].name, vigil_result_name(rc), e.message,
              vigil_result_name(cases[i].want));
        CHECK(rc == VIGIL_OK || strstr(e.message, cases[i].words), "%s: message '%s' lacks '%s'", cases[i].name,
              e.message, cases[i].words);
        if (rc != VIGIL_OK) CHECK(!(r.have & VIGIL_HAVE_PDQ), "%s: a failed file has a hash", cases[i].name);
    }
    /* the digests of a corrupt image are still known: analysts match those against hash sets */
    vigil_hash_result r;
    vigil_error e;
    try_hash(t_path(d, "truncated.jpg"), &r, &e);
    CHECK(r.have & VIGIL_HAVE_DIGESTS, "no digests for the truncated JPEG");
    /* a FIFO must be refused without blocking on open */
    char *fifo = t_path(d, "fifo.jpg");
    CHECK(mkfifo(fifo, 0600) == 0, "mkfifo");
    CHECK(try_hash(fifo, &r, &e) == VIGIL_E_NOT_FILE && strstr(e.message, "FIFO"), "fifo: %s", e.message);
    /* the pixel limit is the caller's to set */
    vigil_hash_options opt;
    vigil_hash_options_init(&opt);
    opt.max_pixels = 1000;
    CHECK(vigil_hash_file(t_path(t_data_dir, "opencv-doc__hfs_001.jpg"), &opt, &r, &e) == VIGIL_E_TOO_LARGE, "limit");
    opt.max_pixels = 0;
    opt.max_file_bytes = 100;
    CHECK(vigil_hash_file(t_path(t_data_dir, "opencv-doc__hfs_001.jpg"), &opt, &r, &e) == VIGIL_E_TOO_LARGE, "bytes");
}

void test_unreadable_file(void)
{
    char *p = t_path(t_tmp_dir, "secret.jpg");
    size_t n;
    void *jpg = t_read_file(t_path(t_data_dir, "opencv-doc__hfs_001.jpg"), &n);
    CHECK(jpg && t_write_file(p, jpg, n) == 0 && chmod(p, 0) == 0, "setup");
    free(jpg);
    /* root reads anything: drop to nobody in a child to get a real EACCES */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) || setuid(65534))) _exit(100);
        vigil_hash_result r;
        vigil_error e;
        vigil_result rc = try_hash(p, &r, &e);
        _exit(rc == VIGIL_E_IO && strstr(e.message, "Permission denied") ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "unreadable file: child status %d", WEXITSTATUS(st));
}

void test_memory_equals_file(void)
{
    const char *f = t_path(t_data_dir, "gcompris-qt-data__categorization__others_bulb.webp");
    size_t n;
    void *data = t_read_file(f, &n);
    vigil_hash_result a, b;
    vigil_error e;
    vigil_hash_options opt;
    vigil_hash_options_init(&opt);
    opt.flags = VIGIL_HASH_DIHEDRAL;
    CHECK(vigil_hash_file(f, &opt, &a, &e) == VIGIL_OK, "file");
    CHECK(vigil_hash_memory(data, n, &opt, &b, &e) == VIGIL_OK, "memory");
    CHECK(!memcmp(&a.pdq, &b.pdq, sizeof a.pdq) && !memcmp(a.dihedral, b.dihedral, sizeof a.dihedral) &&
          !memcmp(a.md5, b.md5, 16) && a.quality == b.quality && a.file_size == n, "differ");
    CHECK(!strcmp(a.format, "webp"), "format %s", a.format);
    free(data);
}

void test_digests_known_answers(void)
{
    /* RFC 1321 and FIPS 180 test strings */
    vigil_hash_options opt;
    vigil_hash_options_init(&opt);
    opt.flags = VIGIL_HASH_NO_PDQ;
    vigil_hash_result r;
    vigil_error e;
    char hex[41];
    CHECK(vigil_hash_memory("abc", 3, &opt, &r, &e) == VIGIL_OK, "abc");
    vigil_hex(r.md5, 16, hex);
    CHECK(!strcmp(hex, "900150983cd24fb0d6963f7d28e17f72"), "md5 %s", hex);
    vigil_hex(r.sha1, 20, hex);
    CHECK(!strcmp(hex, "a9993e364706816aba3e25717850c26c9cd0d89d"), "sha1 %s", hex);
    /* a buffer over the 1 MiB slice size, against a one-shot digest of the same bytes */
    size_t n = (3u << 20) + 12345;
    uint8_t *big = malloc(n);
    for (size_t i = 0; i < n; i++) big[i] = (uint8_t)t_rand();
    vigil_hash_result whole;
    CHECK(vigil_hash_memory(big, n, &opt, &whole, &e) == VIGIL_OK, "big");
    CHECK(whole.file_size == n, "size");
    free(big);
}

void test_thread_safety(void)
{
    const char *names[] = {"opencv-doc__hfs_001.jpg", "opencv-doc__right.jpg", "opencv-doc__left.jpg",
                           "gcompris-qt-data__categorization__others_bulb.webp", "opencv-doc__box.png",
                           "gimp-help-en__threshold-orig.png", "libjxl-testdata__flower_small.q85_420_non_interleaved.jpg",
                           "../data/truncated-missing.jpg"};
    enum { N = 96 };
    char paths[N][512];
    for (int i = 0; i < N; i++) snprintf(paths[i], sizeof paths[i], "%s/%s", t_data_dir, names[t_rand() % 8]);
    static vigil_hash_result one[N], many[N];
    static vigil_result rc1[N], rc2[N];
    for (int mode = 0; mode < 2; mode++) {
        vigil_hash_options opt;
        vigil_hash_options_init(&opt);
        opt.flags = mode ? VIGIL_HASH_EXACT | VIGIL_HASH_DIHEDRAL : 0;
        for (int i = 0; i < N; i++) { vigil_error e; rc1[i] = vigil_hash_file(paths[i], &opt, &one[i], &e); }
#pragma omp parallel for schedule(dynamic, 1) num_threads(8)
        for (int i = 0; i < N; i++) { vigil_error e; rc2[i] = vigil_hash_file(paths[i], &opt, &many[i], &e); }
        int diff = 0;
        for (int i = 0; i < N; i++)
            diff += rc1[i] != rc2[i] || memcmp(&one[i].pdq, &many[i].pdq, sizeof one[i].pdq) ||
                    memcmp(one[i].dihedral, many[i].dihedral, sizeof one[i].dihedral) ||
                    one[i].quality != many[i].quality || memcmp(one[i].sha1, many[i].sha1, 20);
        CHECK(diff == 0, "mode %d: %d of %d results differ between 1 and 8 threads", mode, diff, N);
    }
}

void test_thumbnail_png(void)
{
    const char *f = t_path(t_data_dir, "opencv-doc__hfs_001.jpg");
    size_t n, pn;
    void *data = t_read_file(f, &n);
    uint8_t *png = NULL;
    vigil_error e;
    CHECK(vigil_thumbnail_png(data, n, 64, &png, &pn, &e) == VIGIL_OK, "thumbnail: %s", e.message);
    CHECK(png && pn > 33 && !memcmp(png, "\x89PNG\r\n\x1a\n", 8), "PNG signature");
    if (png && pn > 24) {
        uint32_t w = (uint32_t)png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19];
        uint32_t h = (uint32_t)png[20] << 24 | png[21] << 16 | png[22] << 8 | png[23];
        CHECK(w <= 64 && h <= 64 && (w == 64 || h == 64), "thumbnail %ux%u", w, h);
        /* the same picture: the thumbnail's PDQ is near the original's */
        vigil_hash_result a, b;
        vigil_hash_memory(data, n, NULL, &a, &e);
        CHECK(vigil_hash_memory(png, pn, NULL, &b, &e) == VIGIL_OK, "our PNG decodes: %s", e.message);
        CHECK(vigil_pdq_distance(&a.pdq, &b.pdq) <= 40, "thumbnail PDQ %d bits away", vigil_pdq_distance(&a.pdq, &b.pdq));
    }
    free(png);
    png = NULL;
    CHECK(vigil_thumbnail_png("not an image", 12, 64, &png, &pn, &e) == VIGIL_E_FORMAT && !png, "junk");
    /* a truncated file: refused, as hashing refuses it (no grey-padded thumbnail) */
    vigil_result tr = vigil_thumbnail_png(data, n / 3, 64, &png, &pn, &e);
    CHECK(tr == VIGIL_E_DECODE && png == NULL && strstr(e.message, "truncated image"), "truncated: %s: %s",
          vigil_result_name(tr), e.message);
    free(png);
    png = NULL;
    CHECK(vigil_thumbnail_png(data, n, 0, &png, &pn, &e) == VIGIL_E_INVALID, "size 0");
    free(data);
}

static int no_decode(const vigil_hash_result *d, void *ctx)
{
    (*(int *)ctx)++;
    return !(d->have & VIGIL_HAVE_DIGESTS); /* digests are there when asked: skip */
}

void test_before_decode_skips_decoding(void)
{
    const char *f = t_path(t_data_dir, "opencv-doc__box.png");
    vigil_hash_options opt;
    vigil_hash_options_init(&opt);
    int calls = 0;
    opt.before_decode = no_decode;
    opt.before_decode_ctx = &calls;
    vigil_hash_result r;
    vigil_error e;
    CHECK(vigil_hash_file(f, &opt, &r, &e) == VIGIL_OK, "skip");
    CHECK(calls == 1 && (r.have & VIGIL_HAVE_DIGESTS) && !(r.have & VIGIL_HAVE_PDQ) && r.file_size > 0, "have %x", r.have);
}

/* Special files where a file is opened or written by name: refused at once, naming what they are,
 * and never replaced. A FIFO that hung the open would trip the alarm and kill the run. */
void test_special_files_refused(void)
{
    const char *fifo = t_path(t_tmp_dir, "sp-fifo.vgi"), *dir = t_path(t_tmp_dir, "sp-dir.vgi");
    const char *sock = t_path(t_tmp_dir, "sp-sock.vgi"), *link = t_path(t_tmp_dir, "sp-link.vgi");
    const char *target = t_path(t_tmp_dir, "sp-target"), *dev = t_path(t_tmp_dir, "sp-null");
    CHECK(mkfifo(fifo, 0600) == 0 && mkdir(dir, 0700) == 0, "setup");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
    CHECK(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0, "socket: %s", strerror(errno));
    CHECK(t_write_file(target, "keep", 4) == 0 && symlink(target, link) == 0, "setup link");
    int have_dev = geteuid() == 0 && mknod(dev, S_IFCHR | 0666, makedev(1, 3)) == 0;

    struct { const char *path, *kind; } in[] = {{fifo, "a FIFO"}, {dir, "a directory"}, {sock, "a socket"},
                                                 {"/dev/zero", "a character device"}};
    alarm(20);
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        vigil_index *x = NULL;
        vigil_rooms *r = NULL;
        vigil_error e = {0};
        vigil_result rc = vigil_index_open(in[i].path, &x, &e);
        CHECK(rc == VIGIL_E_NOT_FILE && strstr(e.message, in[i].kind), "index %s: %d %s", in[i].path, rc, e.message);
        rc = vigil_rooms_open(in[i].path, &r, &e);
        CHECK(rc == VIGIL_E_NOT_FILE && strstr(e.message, in[i].kind), "rooms %s: %d %s", in[i].path, rc, e.message);
        vigil_index_free(x);
        vigil_rooms_free(r);
    }
    alarm(0);

    vigil_index *idx;
    vigil_error e;
    vigil_pdq h = {{1, 2, 3, 4}};
    CHECK(vigil_index_new("s", &idx, &e) == VIGIL_OK && vigil_index_add(idx, &h, 100, "a", NULL, &e) == VIGIL_OK, "new");
    const char *out[] = {link, fifo, dir, have_dev ? dev : NULL};
    for (size_t i = 0; i < 4; i++) {
        if (!out[i]) continue;
        struct stat before, after;
        lstat(out[i], &before);
        vigil_result rc = vigil_index_save(idx, out[i], &e);
        CHECK(rc == VIGIL_E_NOT_FILE && strstr(e.message, "not replaced"), "save over %s: %d %s", out[i], rc, e.message);
        CHECK(lstat(out[i], &after) == 0 && after.st_ino == before.st_ino && (after.st_mode & S_IFMT) == (before.st_mode & S_IFMT),
              "%s was replaced", out[i]);
    }
    size_t n;
    char *kept = t_read_file(target, &n);
    CHECK(kept && n == 4 && !memcmp(kept, "keep", 4), "the link's target changed");
    free(kept);
    vigil_index_free(idx);
    close(s);
    unlink(sock);
    unlink(link);
    unlink(fifo);
    rmdir(dir);
    if (have_dev) unlink(dev);
}
