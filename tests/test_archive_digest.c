/* test_archive_digest.c - the two-stream MD5 (core/md5x2.c) against RFC 1321's vectors and nettle,
 * and a stored zip's member digests taken in the archive's own pass (core/archive_digest.c)
 * against the digests of the members' bytes. */
#include "tests.h"
#include "archive_digest.h"
#include "md5x2.h"
#include "cpu.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/md5.h>
#include <stdlib.h>
#include <string.h>

static void hex(const uint8_t *b, size_t n, char *out) { vigil_hex(b, n, out); }

void test_md5x2_known_answers(void)
{
    /* RFC 1321, appendix A.5 */
    static const char *const msg[] = {
        "", "a", "abc", "message digest", "abcdefghijklmnopqrstuvwxyz",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "12345678901234567890123456789012345678901234567890123456789012345678901234567890"};
    static const char *const want[] = {
        "d41d8cd98f00b204e9800998ecf8427e", "0cc175b9c0f1b6a831c399e269772661", "900150983cd24fb0d6963f7d28e17f72",
        "f96b697d7cb7938d525a2f31aaf161d0", "c3fcd3d76192e4007dfb496cca67e13b", "d174ab98d277d9f5a5611c2c9f419d9f",
        "57edf4a22be3c955ac49da2e2107b67a"};
    for (size_t i = 0; i < sizeof msg / sizeof *msg; i++) {
        size_t n = strlen(msg[i]);
        uint8_t d0[16], d1[16];
        char h0[33], h1[33];
        vigil__md5 m0, m1;
        vigil__md5_init(&m0);
        vigil__md5_update(&m0, msg[i], n);
        vigil__md5_final(&m0, d0);
        hex(d0, 16, h0);
        CHECK(!strcmp(h0, want[i]), "one stream, \"%s\": %s", msg[i], h0);
        /* two streams: the message to both, the second byte by byte before the rest */
        vigil__md5_init(&m0);
        vigil__md5_init(&m1);
        size_t k = n ? 1 : 0;
        vigil__md5_update(&m1, msg[i], k);
        vigil__md5_update2(&m0, msg[i], &m1, msg[i] + k, n - k);
        vigil__md5_update(&m0, msg[i] + n - k, k);
        vigil__md5_final(&m0, d0);
        vigil__md5_final(&m1, d1);
        hex(d0, 16, h0);
        hex(d1, 16, h1);
        CHECK(!strcmp(h0, want[i]) && !strcmp(h1, want[i]), "two streams, \"%s\": %s %s", msg[i], h0, h1);
    }
}

/* Two different messages in pieces of random sizes, each stream with its own head start (so
 * their blocks never line up), against nettle's MD5 of each message whole. */
void test_md5x2_vs_nettle(void)
{
    enum { MAX = 9000 };
    uint8_t *a = malloc(MAX), *b = malloc(MAX);
    int bad = 0;
    for (int round = 0; round < 400 && !bad; round++) {
        for (size_t i = 0; i < MAX; i++) { a[i] = (uint8_t)t_rand(); b[i] = (uint8_t)t_rand(); }
        size_t head0 = t_rand() % 200, head1 = t_rand() % 200;
        size_t len = t_rand() % (MAX - 200);
        if (round < 64) len = (size_t)round * 17 % 300; /* short ones: every padding case */
        vigil__md5 m0, m1;
        vigil__md5_init(&m0);
        vigil__md5_init(&m1);
        vigil__md5_update(&m0, a, head0);
        vigil__md5_update(&m1, b, head1);
        size_t at = 0;
        while (at < len) {
            size_t k = 1 + t_rand() % (t_rand() % 2 ? 70 : 3000);
            if (k > len - at) k = len - at;
            vigil__md5_update2(&m0, a + head0 + at, &m1, b + head1 + at, k);
            at += k;
        }
        uint8_t got0[16], got1[16], want0[16], want1[16];
        vigil__md5_final(&m0, got0);
        vigil__md5_final(&m1, got1);
        struct md5_ctx n;
        md5_init(&n);
        md5_update(&n, head0 + len, a);
        md5_digest(&n, 16, want0);
        md5_init(&n);
        md5_update(&n, head1 + len, b);
        md5_digest(&n, 16, want1);
        bad = memcmp(got0, want0, 16) || memcmp(got1, want1, 16);
        CHECK(!bad, "round %d: heads %zu %zu, %zu bytes each: differs from nettle", round, head0, head1, len);
    }
    free(a);
    free(b);
}

/* The block kernel the dispatch picks (AVX-512 where the CPU has it and VIGIL_DISABLE_CPU_FEATURES
 * leaves it on; tests/run.sh runs this again without it, for the portable one) against nettle's
 * compression of each stream alone: random states, runs of 0-40 blocks at unaligned, unrelated
 * offsets. */
void test_md5x2_kernels(void)
{
    const char *level = vigil__md5x2_level();
    printf("    two-stream MD5 kernel: %s\n", level);
    if (strcmp(level, "avx512"))
        printf("    SKIPPED the AVX-512 kernel: %s\n", (vigil__cpu_features_present() & VIGIL_CPU_AVX512)
                                                       ? "switched off by VIGIL_DISABLE_CPU_FEATURES"
                                                       : "this CPU lacks it; NOT TESTED HERE");
    enum { MAX = 64 * 40 + 64 };
    uint8_t *x = malloc(MAX), *y = malloc(MAX);
    int bad = 0;
    for (int round = 0; round < 300 && !bad; round++) {
        for (size_t i = 0; i < MAX; i++) { x[i] = (uint8_t)t_rand(); y[i] = (uint8_t)t_rand(); }
        size_t o0 = t_rand() % 64, o1 = t_rand() % 64, nb = round < 41 ? (size_t)round : t_rand() % 41;
        uint32_t s0[4], s1[4], r0[4], r1[4];
        for (int k = 0; k < 4; k++) { s0[k] = r0[k] = (uint32_t)t_rand(); s1[k] = r1[k] = (uint32_t)t_rand(); }
        vigil__md5x2_blocks(s0, x + o0, s1, y + o1, nb);
        for (size_t k = 0; k < nb; k++) {
            nettle_md5_compress(r0, x + o0 + 64 * k);
            nettle_md5_compress(r1, y + o1 + 64 * k);
        }
        bad = memcmp(s0, r0, sizeof s0) || memcmp(s1, r1, sizeof s1);
        CHECK(!bad, "%s kernel, round %d: %zu blocks at offsets %zu and %zu differ from nettle", level, round, nb, o0, o1);
    }
    free(x);
    free(y);
}

/* ---- a stored zip, written here ------------------------------------------------------------------ */

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
    }
    return ~c;
}

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v & 0xffff); put16(p + 2, v >> 16); }

/* n stored members name "mK" of sizes[k] random bytes (made here into data[k], the caller's to
 * free); local extra fields of k bytes, so no member starts where the directory alone would say.
 * The zip's bytes, *len long. */
static uint8_t *make_zip(int n, const size_t *sizes, uint8_t **data, size_t *len)
{
    for (int k = 0; k < n; k++) {
        data[k] = malloc(sizes[k]);
        for (size_t i = 0; i < sizes[k]; i++) data[k][i] = (uint8_t)t_rand();
    }
    size_t cap = 1024;
    for (int k = 0; k < n; k++) cap += sizes[k] + 200;
    uint8_t *z = calloc(1, cap), *cd = calloc(1, 100 * (size_t)n + 1);
    size_t at = 0, cn = 0;
    for (int k = 0; k < n; k++) {
        char name[16];
        int nl = snprintf(name, sizeof name, "m%d", k);
        uint32_t crc = crc32_of(data[k], sizes[k]);
        uint8_t *h = z + at;
        put32(h, 0x04034b50); put16(h + 4, 10); put16(h + 6, 0); put16(h + 8, 0);
        put32(h + 14, crc); put32(h + 18, (uint32_t)sizes[k]); put32(h + 22, (uint32_t)sizes[k]);
        put16(h + 26, (unsigned)nl); put16(h + 28, (unsigned)k);
        memcpy(h + 30, name, (size_t)nl);
        memset(h + 30 + nl, 0, (size_t)k); /* an extra field of zeros: id 0, length 0, repeated */
        if (k >= 4) { put16(h + 30 + nl, 0xcafe); put16(h + 30 + nl + 2, (unsigned)k - 4); }
        memcpy(h + 30 + nl + k, data[k], sizes[k]);
        uint8_t *c = cd + cn;
        put32(c, 0x02014b50); put16(c + 4, 20); put16(c + 6, 10); put16(c + 8, 0); put16(c + 10, 0);
        put32(c + 16, crc); put32(c + 20, (uint32_t)sizes[k]); put32(c + 24, (uint32_t)sizes[k]);
        put16(c + 28, (unsigned)nl); put32(c + 42, (uint32_t)at);
        memcpy(c + 46, name, (size_t)nl);
        cn += 46 + (size_t)nl;
        at += 30 + (size_t)nl + (size_t)k + sizes[k];
    }
    memcpy(z + at, cd, cn);
    uint8_t *e = z + at + cn;
    put32(e, 0x06054b50); put16(e + 8, (unsigned)n); put16(e + 10, (unsigned)n);
    put32(e + 12, (uint32_t)cn); put32(e + 16, (uint32_t)at);
    *len = at + cn + 22;
    free(cd);
    return z;
}

/* Every stored member gets a ticket whose digests are those of its bytes; the tickets outlive the
 * archive; the zip's own digests are those of the whole file; an archive freed at once leaves
 * tickets that answer (the digests, or VIGIL_E_IO) and never hang. */
void test_archive_member_digests(void)
{
    enum { N = 7 };
    size_t sizes[N] = {1, 63, 64, 65, 3u << 20, 100000, 5};
    uint8_t *data[N];
    size_t len;
    uint8_t *z = make_zip(N, sizes, data, &len);
    const char *path = t_path(t_tmp_dir, "stored.zip");
    CHECK(!t_write_file(path, z, len), "write");
    vigil_hash_options ho;
    vigil_hash_options_init(&ho);
    ho.flags = VIGIL_HASH_NO_PDQ;
    for (int early = 0; early < 2; early++) {
        vigil_archive *a;
        vigil_error err;
        CHECK(vigil_archive_open_file(path, NULL, &a, &err) == VIGIL_OK, "open: %s", err.message);
        CHECK(vigil_archive_digests_begin(a, &err) == VIGIL_OK, "begin: %s", err.message);
        vigil_digest_ticket *t[N] = {0};
        int k = 0, tickets = 0;
        vigil_archive_entry e;
        while (!early && vigil_archive_next(a, &e) && e.kind == VIGIL_ARCHIVE_MEMBER && k < N) {
            uint8_t *d;
            size_t n;
            CHECK(vigil_archive_read(a, &d, &n, &err) == VIGIL_OK && n == sizes[k] && !memcmp(d, data[k], n), "member %d", k);
            t[k] = vigil_archive_member_ticket(a);
            tickets += !!t[k];
            vigil_free(d);
            k++;
        }
        if (!early) {
            CHECK(tickets == N, "a ticket for each stored member: %d of %d", tickets, N);
            vigil_hash_result own, want;
            CHECK(vigil_archive_digests(a, &own, &err) == VIGIL_OK, "own digests: %s", err.message);
            CHECK(vigil_hash_memory(z, len, &ho, &want, &err) == VIGIL_OK, "hash");
            CHECK(own.file_size == len && !memcmp(own.md5, want.md5, 16) && !memcmp(own.sha1, want.sha1, 20) &&
                      !memcmp(own.xxh128, want.xxh128, 16) && !(own.file_flags & VIGIL_FILE_CHANGED),
                  "the zip's own digests are those of its bytes");
        }
        vigil_archive_free(a); /* the tickets outlive it */
        for (int i = 0; i < N; i++) {
            if (!t[i]) continue;
            vigil_hash_result got, want;
            memset(&got, 0, sizeof got);
            CHECK(vigil_digest_ticket_wait(t[i], &got) == VIGIL_OK, "ticket %d", i);
            CHECK(vigil_hash_memory(data[i], sizes[i], &ho, &want, &err) == VIGIL_OK, "hash %d", i);
            CHECK((got.have & VIGIL_HAVE_DIGESTS) && !memcmp(got.md5, want.md5, 16) && !memcmp(got.sha1, want.sha1, 20) &&
                      !memcmp(got.xxh128, want.xxh128, 16),
                  "member %d (%zu bytes): the ticket's digests are those of its bytes", i, sizes[i]);
            vigil_digest_ticket_free(t[i]);
        }
    }
    /* no ticket from an archive in memory, nor before the thread was started */
    vigil_archive *a;
    vigil_error err;
    CHECK(vigil_archive_open_memory(z, len, NULL, &a, &err) == VIGIL_OK, "open memory");
    vigil_archive_entry e;
    uint8_t *d;
    size_t n;
    CHECK(vigil_archive_next(a, &e) && vigil_archive_read(a, &d, &n, &err) == VIGIL_OK, "read from memory");
    CHECK(!vigil_archive_member_ticket(a), "no ticket in memory");
    vigil_free(d);
    vigil_archive_free(a);
    /* the thread itself, given members the directory lies about: a wrong CRC-32 (as when the file
     * changed under it), no local header there, one overlapping the member before: those
     * tickets fail, so the caller digests the bytes it read; the others hold */
    int fd = open(path, O_RDONLY);
    struct stat st;
    CHECK(fd >= 0 && !fstat(fd, &st), "open fd");
    size_t h1 = 30 + 2 + 0 + sizes[0], h2 = h1 + 30 + 2 + 1 + sizes[1]; /* members 1 and 2's local headers */
    vigil__adigest_member m[5] = {
        {0, sizes[0], crc32_of(data[0], sizes[0])},       /* right */
        {h2, sizes[2], crc32_of(data[2], sizes[2]) ^ 1},  /* wrong CRC */
        {h1 + 3, sizes[1], crc32_of(data[1], sizes[1])},  /* not a header */
        {h1, sizes[1], crc32_of(data[1], sizes[1])},      /* right */
        {h1, sizes[1], crc32_of(data[1], sizes[1])},      /* the same bytes again: overlaps */
    };
    vigil__adigest *ad;
    CHECK(vigil__adigest_start(fd, &st, m, 5, &ad, &err) == VIGIL_OK, "start");
    vigil_result want[5] = {VIGIL_OK, VIGIL_E_IO, VIGIL_E_IO, VIGIL_OK, VIGIL_E_IO};
    int ok1 = 0;
    for (int k = 0; k < 5; k++) {
        vigil_digest_ticket *t = vigil__adigest_ticket(ad, (size_t)k);
        vigil_hash_result got;
        vigil_result r = vigil_digest_ticket_wait(t, &got);
        /* 3 and 4 are the same range: whichever the sort put first holds */
        if (k >= 3) { ok1 += r == VIGIL_OK; CHECK(r == VIGIL_OK || r == VIGIL_E_IO, "member %d: %d", k, r); }
        else CHECK(r == want[k], "member %d: %s, not %s", k, vigil_result_name(r), vigil_result_name(want[k]));
        vigil_digest_ticket_free(t);
    }
    CHECK(ok1 == 1, "of two members on the same bytes, one is digested: %d", ok1);
    CHECK(!vigil__adigest_ticket(ad, 5), "no ticket past the members");
    vigil_hash_result own;
    CHECK(vigil__adigest_join(ad, &own, &err) == VIGIL_OK && own.file_size == len, "the file's digests");
    vigil__adigest_unref(ad);
    close(fd);
    for (int k = 0; k < N; k++) free(data[k]);
    free(z);
}

/* Where member k's bytes start in make_zip's layout. */
static size_t member_at(const size_t *sizes, int k)
{
    size_t at = 0;
    for (int j = 0; j < k; j++) at += 30 + 2 + (size_t)j + sizes[j];
    return at + 30 + 2 + (size_t)k;
}

/* A ticket's bytes are the member's whether the digest thread kept them for it (the member is
 * read from the file once) or the reader preads them: under a bound that keeps all of them, some
 * or none (VIGIL_TEST_ADIGEST_HOLD), read as they come or all at the end in reverse order with
 * some tickets freed unread (2, 5, 8). The join waits on a thread asleep over its bound without hanging.
 * Kept bytes are the ones the thread read: a member overwritten on disk after the thread is done
 * still reads as it was when kept, and fails its CRC-32 check (VIGIL_E_CORRUPT) when not. */
void test_archive_read_ahead(void)
{
    enum { N = 9, BIG = 4 };
    size_t sizes[N] = {300000, 1, 700000, 65536, 3u << 20, 100000, 5, 262145, 999};
    uint8_t *data[N];
    size_t len;
    uint8_t *z = make_zip(N, sizes, data, &len);
    const char *path = t_path(t_tmp_dir, "ahead.zip");
    vigil_hash_options ho;
    vigil_hash_options_init(&ho);
    ho.flags = VIGIL_HASH_NO_PDQ;
    vigil_hash_result whole;
    vigil_error err;
    CHECK(vigil_hash_memory(z, len, &ho, &whole, &err) == VIGIL_OK, "hash the zip");
    const char *holds[] = {NULL, "0", "1000000", "400000"};
    for (size_t h = 0; h < sizeof holds / sizeof *holds; h++) {
        if (holds[h]) setenv("VIGIL_TEST_ADIGEST_HOLD", holds[h], 1);
        else unsetenv("VIGIL_TEST_ADIGEST_HOLD");
        const char *hn = holds[h] ? holds[h] : "default";
        for (int late = 0; late < 2; late++) {
            CHECK(!t_write_file(path, z, len), "write");
            vigil_archive *a;
            CHECK(vigil_archive_open_file(path, NULL, &a, &err) == VIGIL_OK, "open: %s", err.message);
            CHECK(vigil_archive_digests_begin(a, &err) == VIGIL_OK, "begin: %s", err.message);
            vigil_digest_ticket *t[N] = {0};
            int k = 0;
            vigil_archive_entry e;
            while (vigil_archive_next(a, &e) && e.kind == VIGIL_ARCHIVE_MEMBER && k < N) {
                CHECK(vigil_archive_read_later(a, &t[k], &err) == VIGIL_OK, "hold %s: member %d later: %s", hn, k, err.message);
                if (!late) {
                    uint8_t *d = NULL;
                    size_t n = 0;
                    CHECK(vigil_digest_ticket_read(t[k], &d, &n, &err) == VIGIL_OK && n == sizes[k] && !memcmp(d, data[k], n),
                          "hold %s: member %d read as it comes: its bytes", hn, k);
                    vigil_free(d);
                }
                k++;
            }
            CHECK(k == N, "hold %s: %d members", hn, k);
            vigil_hash_result own;
            CHECK(vigil_archive_digests(a, &own, &err) == VIGIL_OK && own.file_size == len && !memcmp(own.md5, whole.md5, 16) &&
                      !memcmp(own.sha1, whole.sha1, 20) && !memcmp(own.xxh128, whole.xxh128, 16),
                  "hold %s, %s: the zip's own digests", hn, late ? "nothing read yet" : "members read");
            if (late) { /* the thread is done: overwrite the big member on disk */
                int fd = open(path, O_WRONLY);
                uint8_t *junk = calloc(1, sizes[BIG]);
                CHECK(fd >= 0 && pwrite(fd, junk, sizes[BIG], (off_t)member_at(sizes, BIG)) == (ssize_t)sizes[BIG], "overwrite");
                close(fd);
                free(junk);
            }
            vigil_archive_free(a);
            for (int i = N - 1; i >= 0; i--) {
                vigil_hash_result got, want;
                memset(&got, 0, sizeof got);
                CHECK(vigil_digest_ticket_wait(t[i], &got) == VIGIL_OK, "hold %s: ticket %d", hn, i);
                CHECK(vigil_hash_memory(data[i], sizes[i], &ho, &want, &err) == VIGIL_OK, "hash %d", i);
                CHECK(!memcmp(got.md5, want.md5, 16) && !memcmp(got.sha1, want.sha1, 20) && !memcmp(got.xxh128, want.xxh128, 16),
                      "hold %s: member %d's digests", hn, i);
                if (late && i % 3 != 2) {
                    uint8_t *d = NULL;
                    size_t n = 0;
                    vigil_result r = vigil_digest_ticket_read(t[i], &d, &n, &err);
                    if (i == BIG) {
                        vigil_result w = holds[h] ? VIGIL_E_CORRUPT : VIGIL_OK; /* kept only under the default bound */
                        CHECK(r == w, "hold %s: the overwritten member reads %s, not %s", hn, vigil_result_name(r), vigil_result_name(w));
                        if (!r) CHECK(n == sizes[i] && !memcmp(d, data[i], n), "hold %s: as it was kept", hn);
                    } else {
                        CHECK(r == VIGIL_OK && n == sizes[i] && !memcmp(d, data[i], n), "hold %s: member %d read last: its bytes", hn, i);
                    }
                    vigil_free(d);
                }
                vigil_digest_ticket_free(t[i]);
            }
        }
    }
    unsetenv("VIGIL_TEST_ADIGEST_HOLD");
    for (int k = 0; k < N; k++) free(data[k]);
    free(z);
}
