/* buf.c - growable buffers, string tables and label text (buf.h). */
#include "buf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int vigil__buf_put(vigil__buf *b, const void *data, size_t n)
{
    if (n == 0) return 0;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) return -1;
        b->p = p;
        b->cap = cap;
    }
    if (data) memcpy(b->p + b->n, data, n);
    else memset(b->p + b->n, 0, n);
    b->n += n;
    return 0;
}

uint32_t vigil__strtab_append(vigil__buf *b, const char *s)
{
    size_t len = strlen(s ? s : "") + 1;
    if (b->n > UINT32_MAX - len) return UINT32_MAX;
    uint32_t off = (uint32_t)b->n;
    return vigil__buf_put(b, s ? s : "", len) ? UINT32_MAX : off;
}

uint32_t vigil__strtab_put(vigil__buf *b, const char *s)
{
    if (!s || !*s) return 0;
    if (b->n == 0 && vigil__buf_put(b, "", 1)) return UINT32_MAX;
    return vigil__strtab_append(b, s);
}

int vigil__label_put(vigil__buf *b, const char *key, const char *value, size_t len, int lower)
{
    if (len == 0) return 0;
    if (b->n && vigil__buf_put(b, " ", 1)) return -1;
    if (!key) return vigil__buf_put(b, value, len);
    if (vigil__buf_put(b, key, strlen(key)) || vigil__buf_put(b, "=", 1)) return -1;
    size_t start = b->n;
    if (vigil__buf_put(b, value, len)) return -1;
    for (uint8_t *c = b->p + start; c < b->p + b->n; c++) {
        if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r') *c = '_';
        else if (lower) *c = (uint8_t)tolower(*c);
    }
    return 0;
}

int vigil__label_find(const char *labels, const char *key, const char **value, size_t *len)
{
    size_t kl = strlen(key);
    for (const char *p = labels; p && *p;) {
        while (*p == ' ') p++;
        const char *e = strchr(p, ' ');
        size_t wl = e ? (size_t)(e - p) : strlen(p);
        if (wl > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            *value = p + kl + 1;
            *len = wl - kl - 1;
            return 1;
        }
        p += wl;
    }
    return 0;
}
