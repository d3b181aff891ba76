/* digest.c - content digests of a file's bytes: XXH3-128 (dedup key), MD5 and SHA-1 (what VICS,
 * NCMEC and NSRL hash sets carry). MD5/SHA-1 come from nettle: small, constant-time-irrelevant
 * here, and uses SHA-NI where the CPU has it. */
#include "internal.h"

#include <nettle/md5.h>
#include <nettle/sha1.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack: no allocation per file */
#include <xxhash.h>

void vigil__digests(const void *data, size_t size, vigil_hash_result *out)
{
    struct md5_ctx md5;
    struct sha1_ctx sha1;
    md5_init(&md5);
    sha1_init(&sha1);
    /* One pass in 1 MiB slices keeps each slice in L2 for the three functions. */
    const uint8_t *p = data;
    size_t left = size;
    XXH3_state_t xs;
    XXH3_INITSTATE(&xs);
    XXH3_128bits_reset(&xs);
    while (left) {
        size_t n = left < (1u << 20) ? left : (1u << 20);
        md5_update(&md5, n, p);
        sha1_update(&sha1, n, p);
        XXH3_128bits_update(&xs, p, n);
        p += n;
        left -= n;
    }
    md5_digest(&md5, sizeof out->md5, out->md5);
    sha1_digest(&sha1, sizeof out->sha1, out->sha1);
    XXH128_hash_t h = XXH3_128bits_digest(&xs);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    memcpy(out->xxh128, c.digest, 16);
    out->have |= VIGIL_HAVE_DIGESTS;
}
