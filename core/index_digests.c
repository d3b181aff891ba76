/* index_digests.c - references known only by their file digests (MD5, SHA-1), as most Project VIC
 * and NCMEC hash sets are. They sit beside the PDQ entries of an index: an array of 48-byte
 * records and one open-addressing table over both digests, rebuilt when the index is opened.
 * Digests are uniformly random, so their first 8 bytes are the table hash. */
#include "index_impl.h"

#include <stdlib.h>
#include <string.h>

static uint64_t key_of(const uint8_t *d, int kind)
{
    uint64_t k;
    memcpy(&k, d, 8);
    return k ^ (kind == VIGIL_DIGEST_SHA1 ? 0x9e3779b97f4a7c15ull : 0);
}

static const vigil__digest_rec *rec(const vigil_index *x, size_t i)
{
    return (const vigil__digest_rec *)x->xrec.p + i;
}

static void tab_put(uint32_t *tab, size_t cap, uint64_t key, uint32_t v)
{
    size_t m = cap - 1, i = (size_t)key & m;
    while (tab[i]) i = (i + 1) & m;
    tab[i] = v;
}

vigil_result vigil__digests_rehash(vigil_index *x)
{
    size_t n = x->xrec.n / sizeof(vigil__digest_rec), need = 16;
    while (need < 4 * n) need *= 2; /* two keys per record at most, load <= 1/2 */
    uint32_t *tab = calloc(need, sizeof *tab);
    if (!tab) return VIGIL_E_NOMEM;
    uint64_t live = 0;
    for (size_t i = 0; i < n; i++) {
        const vigil__digest_rec *r = rec(x, i);
        if (r->have) live++;
        if (r->have & VIGIL_DIGEST_MD5) tab_put(tab, need, key_of(r->md5, VIGIL_DIGEST_MD5), (uint32_t)(i + 1) << 1);
        if (r->have & VIGIL_DIGEST_SHA1) tab_put(tab, need, key_of(r->sha1, VIGIL_DIGEST_SHA1), (uint32_t)(i + 1) << 1 | 1);
    }
    free(x->xtab);
    x->xtab = tab;
    x->xtab_cap = need;
    x->nxlive = live;
    return VIGIL_OK;
}

vigil_result vigil_index_add_digest(vigil_index *x, const uint8_t md5[16], const uint8_t sha1[20], const char *id,
                                    const char *labels, vigil_error *err)
{
    if (!x || (!md5 && !sha1)) return vigil__fail(err, VIGIL_E_INVALID, "a digest entry needs an MD5 or a SHA-1");
    if (x->xrec.n / sizeof(vigil__digest_rec) >= (UINT32_MAX >> 2))
        return vigil__fail(err, VIGIL_E_INVALID, "too many digest entries");
    vigil__digest_rec r = {{0}, {0}, 0, 0, 0};
    if (md5) { memcpy(r.md5, md5, 16); r.have |= VIGIL_DIGEST_MD5; }
    if (sha1) { memcpy(r.sha1, sha1, 20); r.have |= VIGIL_DIGEST_SHA1; }
    r.id = vigil__strtab_put(&x->xstrings, id);
    r.labels = vigil__strtab_put(&x->xstrings, labels);
    if (r.id == UINT32_MAX || r.labels == UINT32_MAX || vigil__buf_put(&x->xrec, &r, sizeof r))
        return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
    size_t n = x->xrec.n / sizeof r;
    if (4 * n > x->xtab_cap) {
        if (vigil__digests_rehash(x)) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory");
        return VIGIL_OK;
    }
    if (md5) tab_put(x->xtab, x->xtab_cap, key_of(md5, VIGIL_DIGEST_MD5), (uint32_t)n << 1);
    if (sha1) tab_put(x->xtab, x->xtab_cap, key_of(sha1, VIGIL_DIGEST_SHA1), (uint32_t)n << 1 | 1);
    x->nxlive++;
    return VIGIL_OK;
}

/* Each record holds one key per digest kind, so a probe meets an entry once. An entry that
 * matches on both digests is counted by the MD5 probe only (md5: the query's, or NULL), which
 * keeps the count exact however many there are, whatever max is. */
static size_t probe(const vigil_index *x, const uint8_t *d, int kind, const uint8_t *md5, uint64_t *out, size_t max,
                    size_t found)
{
    size_t m = x->xtab_cap - 1, i = (size_t)key_of(d, kind) & m;
    for (; x->xtab[i]; i = (i + 1) & m) {
        uint32_t v = x->xtab[i];
        if ((int)(v & 1) != (kind == VIGIL_DIGEST_SHA1)) continue;
        size_t e = (v >> 1) - 1;
        const vigil__digest_rec *r = rec(x, e);
        if (!(r->have & kind) || memcmp(kind == VIGIL_DIGEST_MD5 ? r->md5 : r->sha1, d, kind == VIGIL_DIGEST_MD5 ? 16 : 20))
            continue;
        if (md5 && (r->have & VIGIL_DIGEST_MD5) && !memcmp(r->md5, md5, 16)) continue;
        if (found < max) out[found] = e;
        found++;
    }
    return found;
}

size_t vigil_index_find_digest(const vigil_index *x, const uint8_t md5[16], const uint8_t sha1[20], uint64_t *out,
                               size_t max)
{
    if (!x || !x->xtab) return 0;
    size_t found = 0;
    if (md5) found = probe(x, md5, VIGIL_DIGEST_MD5, NULL, out, max, found);
    if (sha1) found = probe(x, sha1, VIGIL_DIGEST_SHA1, md5, out, max, found);
    return found;
}

vigil_result vigil_index_digest_entry(const vigil_index *x, uint64_t d, uint8_t md5[16], uint8_t sha1[20], int *have,
                                      const char **id, const char **labels)
{
    if (!x || d >= x->xrec.n / sizeof(vigil__digest_rec) || !rec(x, d)->have) return VIGIL_E_NOT_FOUND;
    const vigil__digest_rec *r = rec(x, d);
    if (md5) memcpy(md5, r->md5, 16);
    if (sha1) memcpy(sha1, r->sha1, 20);
    if (have) *have = (int)r->have;
    const char *s = (const char *)x->xstrings.p;
    if (id) *id = r->id ? s + r->id : NULL;
    if (labels) *labels = r->labels ? s + r->labels : NULL;
    return VIGIL_OK;
}

size_t vigil__digests_remove(vigil_index *x, const char *id)
{
    size_t n = x->xrec.n / sizeof(vigil__digest_rec), removed = 0;
    vigil__digest_rec *r = (vigil__digest_rec *)x->xrec.p;
    for (size_t i = 0; i < n; i++)
        if (r[i].have && r[i].id && !strcmp((const char *)x->xstrings.p + r[i].id, id)) { r[i].have = 0; removed++; }
    x->nxlive -= removed;
    if (removed) vigil__digests_rehash(x); /* a failed rehash keeps the old table: removed records are skipped */
    return removed;
}
