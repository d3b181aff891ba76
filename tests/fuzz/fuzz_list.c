/* fuzz_list.c - the hash-list parser on arbitrary bytes. */
#include "vigil.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static int on_entry(const vigil_list_entry *e, void *ctx)
{
    size_t *n = ctx;
    *n += (e->id ? strlen(e->id) : 0) + (e->labels ? strlen(e->labels) : 0);
    return 0;
}
static int on_error(uint64_t line, const char *why, void *ctx)
{
    size_t *n = ctx;
    *n += strlen(why) + (size_t)line;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    vigil_list_parse((const char *)data, size, on_entry, on_error, &n, NULL);
    return 0;
}
