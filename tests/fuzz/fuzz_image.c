/* fuzz_image.c - decode and hash arbitrary bytes, both modes, with a small pixel limit so a
 * fuzzer's huge headers are refused quickly. */
#include "vigil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vigil_hash_options opt;
    vigil_hash_options_init(&opt);
    opt.max_pixels = 1u << 22;
    vigil_hash_result r;
    opt.flags = VIGIL_HASH_DIHEDRAL;
    vigil_hash_memory(data, size, &opt, &r, NULL);
    opt.flags = VIGIL_HASH_EXACT | VIGIL_HASH_NO_DIGESTS;
    vigil_hash_memory(data, size, &opt, &r, NULL);
    return 0;
}
