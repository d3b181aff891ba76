/* digest.c - content digests of a file's bytes: XXH3-128 (dedup key), MD5 and SHA-1 (what VICS,
 * NCMEC and NSRL hash sets carry). MD5/SHA-1 come from nettle: small, constant-time-irrelevant
 * here, and uses SHA-NI where the CPU has it. Bytes in memory and a file read in a stream go
 * through the same update, so both give the same digests. */
#include "digest.h"

#include <errno.h>
#include <nettle/md5.h>
#include <nettle/sha1.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack: no allocation per file */
#include <xxhash.h>

/* One pass in 1 MiB slices keeps each slice in L2 for the three functions. */
#define SLICE (1u << 20)

typedef struct digest_state {
    struct md5_ctx md5;
    struct sha1_ctx sha1;
    XXH3_state_t xs;
} digest_state;

static void d_init(digest_state *d)
{
    md5_init(&d->md5);
    sha1_init(&d->sha1);
    XXH3_INITSTATE(&d->xs);
    XXH3_128bits_reset(&d->xs);
}

static void d_update(digest_state *d, const uint8_t *p, size_t left)
{
    while (left) {
        size_t n = left < SLICE ? left : SLICE;
        md5_update(&d->md5, n, p);
        sha1_update(&d->sha1, n, p);
        XXH3_128bits_update(&d->xs, p, n);
        p += n;
        left -= n;
    }
}

static void d_final(digest_state *d, vigil_hash_result *out)
{
    md5_digest(&d->md5, sizeof out->md5, out->md5);
    sha1_digest(&d->sha1, sizeof out->sha1, out->sha1);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&d->xs));
    memcpy(out->xxh128, c.digest, 16);
    out->have |= VIGIL_HAVE_DIGESTS;
}

void vigil__digests(const void *data, size_t size, vigil_hash_result *out)
{
    digest_state d;
    d_init(&d);
    d_update(&d, data, size);
    d_final(&d, out);
}

void (*vigil__test_read_hook)(uint64_t done); /* internal.h; hasher.c calls it too */

/* Reads from the descriptor's offset to its end; the test hook sees each slice. */
vigil_result vigil__digest_fd(int fd, uint64_t *len, vigil_hash_result *out, vigil_error *err)
{
    uint8_t *buf = malloc(SLICE);
    if (!buf) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory reading file");
    digest_state d;
    d_init(&d);
    *len = 0;
    for (;;) {
        ssize_t n = read(fd, buf, SLICE);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            return vigil__fail(err, VIGIL_E_IO, "read failed after %llu bytes: %s", (unsigned long long)*len, strerror(e));
        }
        if (n == 0) break;
        d_update(&d, buf, (size_t)n);
        *len += (uint64_t)n;
        if (vigil__test_read_hook) vigil__test_read_hook(*len);
    }
    free(buf);
    d_final(&d, out);
    return VIGIL_OK;
}
