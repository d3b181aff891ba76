/* fuzz_video.c - the video loader on arbitrary bytes (exact and fast, every frame, small limits so
 * huge headers are refused quickly), and the vPDQ text parser on the same bytes. */
#include "vigil.h"

static int count(const vigil_video_frame *f, void *ctx)
{
    (void)f;
    return ++*(unsigned *)ctx > 64;
}
static int take(const char *name, const vigil_vpdq_frame *f, size_t n, void *ctx)
{
    (void)name;
    double a, b;
    int v;
    vigil_vpdq_compare(f, n, f, n, NULL, &a, &b, &v, NULL);
    (void)ctx;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vigil_video_options o;
    vigil_video_options_init(&o);
    o.max_pixels = 1u << 20;
    o.max_duration = 600;
    o.max_decoded_bytes = 1u << 28;
    o.seconds_per_hash = 0;
    unsigned n = 0;
    vigil_video_info info;
    vigil_error err;
    vigil_video_hash_memory(data, size, &o, count, &n, &info, &err);
    o.flags = VIGIL_VIDEO_FAST | VIGIL_VIDEO_DIHEDRAL;
    n = 0;
    vigil_video_hash_memory(data, size, &o, count, &n, &info, &err);
    vigil_vpdq_parse((const char *)data, size, take, NULL, &err);
    return 0;
}
