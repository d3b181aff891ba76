/* fuzz_index.c - the .vgi reader on arbitrary bytes: open must refuse or return an index that
 * searches and verifies without touching memory outside the file. */
#include "vigil.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/vigil-fuzz-index.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    if (write(fd, data, size) != (ssize_t)size) { close(fd); unlink(path); return 0; }
    close(fd);
    vigil_index *idx;
    if (vigil_index_open(path, &idx, NULL) == VIGIL_OK) {
        vigil_pdq q[8] = {{{0x0123456789abcdefull, 1, 2, 3}}};
        vigil_index_match *m;
        size_t n;
        vigil_index_search(idx, q, 1, 8, NULL, &m, &n, NULL);
        free(m);
        vigil_index_verify(idx, NULL);
        vigil_index_stats st;
        vigil_index_get_stats(idx, &st);
        for (uint64_t e = 0; e < st.indexed + st.unsorted && e < 64; e++) vigil_index_entry(idx, e, NULL, NULL, NULL, NULL);
        vigil_index_free(idx);
    }
    unlink(path);
    return 0;
}
