/* prog.c - a program built against an installed libvigil (tests/install.sh): hashes one image
 * exactly as the reference tool does and prints the hex, then makes a thumbnail and frees it. */
#include <vigil.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    if (strcmp(vigil_version(), VIGIL_VERSION_STRING)) {
        fprintf(stderr, "header %s, library %s\n", VIGIL_VERSION_STRING, vigil_version());
        return 1;
    }
    vigil_error err;
    vigil_hash_options opt;
    vigil_hash_options_init(&opt);
    opt.flags = VIGIL_HASH_EXACT;
    vigil_hash_result r;
    if (vigil_init(&err) || vigil_hash_file(argv[1], &opt, &r, &err)) {
        fprintf(stderr, "%s: %s\n", argv[1], err.message);
        return 1;
    }
    char hex[65];
    vigil_pdq_to_hex(&r.pdq, hex);
    FILE *f = fopen(argv[1], "rb");
    static unsigned char buf[1 << 20];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    uint8_t *png = NULL;
    size_t png_size = 0;
    if (vigil_thumbnail_png(buf, n, 64, &png, &png_size, &err)) {
        fprintf(stderr, "thumbnail: %s\n", err.message);
        return 1;
    }
    printf("%s %d thumbnail-png=%d\n", hex, r.quality, png_size > 8 && !memcmp(png, "\x89PNG", 4));
    vigil_free(png);
    return 0;
}
