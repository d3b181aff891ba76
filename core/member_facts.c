/* member_facts.c - the list of what an archive's own headers say of its members (member_facts.h). */
#include "member_facts.h"

#include <stdlib.h>
#include <string.h>

int vigil__facts_add(vigil__facts *l, const void *name, size_t nl, uint64_t size, uint32_t crc, int has_crc,
                     int encrypted, int dir)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        vigil__fact *f = realloc(l->f, cap * sizeof *f);
        if (!f) return -1;
        l->f = f;
        l->cap = cap;
    }
    if (l->names_len + nl + 1 > l->names_cap) {
        size_t cap = (l->names_len + nl + 1) * 2;
        char *p = realloc(l->names, cap);
        if (!p) return -1;
        l->names = p;
        l->names_cap = cap;
    }
    memcpy(l->names + l->names_len, name, nl);
    l->names[l->names_len + nl] = 0;
    l->f[l->n++] = (vigil__fact){l->names_len, (uint32_t)nl, crc, size, (uint8_t)has_crc, (uint8_t)encrypted, (uint8_t)dir};
    l->names_len += nl + 1;
    return 0;
}

const vigil__fact *vigil__facts_find(vigil__facts *l, const char *name)
{
    size_t nl = strlen(name);
    for (size_t k = 0; k < l->n; k++) {
        size_t i = (l->cursor + k) % l->n;
        const vigil__fact *f = &l->f[i];
        if (f->name_len != nl || memcmp(l->names + f->name_at, name, nl)) continue;
        l->cursor = i + 1;
        return f;
    }
    return NULL;
}

void vigil__facts_free(vigil__facts *l)
{
    free(l->f);
    free(l->names);
    memset(l, 0, sizeof *l);
}
