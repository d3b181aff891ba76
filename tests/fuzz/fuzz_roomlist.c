/* fuzz_roomlist.c - the CLI's room-list reader (cli/inputs.c: CSV/TSV with a path column, BOM,
 * quoted fields over several lines) and its list-or-image sniffing, on arbitrary bytes. Every row
 * it gives must have a path and labels that `--labels` would accept. */
#include "../../cli/cli.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *cli_prog = "fuzz-roomlist";
void cli_warn(const char *fmt, ...)
{
    (void)fmt;
}

static int on_ref(char *path, char *labels, void *ctx)
{
    size_t *n = ctx;
    if (!*path || (*labels && cli_labels_problem(labels))) abort();
    *n += strlen(path) + strlen(labels);
    free(path);
    free(labels);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli_looks_like_list(data, size);
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    size_t n = 0;
    unsigned long long bad = 0;
    cli_room_list_parse(size && (data[0] & 1) ? "some/folder/rooms.csv" : "rooms.csv", text, size, on_ref, &n, &bad);
    free(text);
    return 0;
}
