/* review.c - what report.html and `vigil review apply` share (see review.h): the scan id, the
 * decisions file's reader (untrusted input: fuzzed by tests/fuzz/fuzz_decisions.c) and the
 * rewriting of a results.jsonl line and a vics.json Media line with the decisions. */
#include "review.h"
#include "cli.h"
#include "json.h" /* core: the streaming JSON reader */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static int is_id(const char *s)
{
    for (int i = 0; i < 32; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return s[32] == 0 || s[32] == '\n';
}

int review_read_scan_id(const char *dir, char id[33])
{
    char path[4200];
    snprintf(path, sizeof path, "%s/scan-id", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    char b[40] = {0};
    ssize_t n = fd >= 0 ? read(fd, b, 34) : -1;
    if (fd >= 0) close(fd);
    if (n < 32 || !is_id(b)) return -1;
    memcpy(id, b, 32);
    id[32] = 0;
    return 0;
}

int review_scan_id(const char *dir, int fresh, char id[33], char *why, size_t whylen)
{
    char path[4200];
    if (!fresh && !review_read_scan_id(dir, id)) return 0;
    uint8_t r[16];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { snprintf(why, whylen, "cannot draw a scan id: %s", strerror(errno)); return -1; }
        got += (size_t)n;
    }
    vigil_hex(r, 16, id);
    char *tmp = NULL;
    FILE *f = cli_open_output_in(dir, "scan-id", &tmp, path, sizeof path, why, whylen);
    if (!f) return -1;
    fprintf(f, "%s\n", id);
    int rc = cli_commit_output(f, tmp, path);
    if (rc) snprintf(why, whylen, "%s: writing failed", path);
    free(tmp);
    return rc ? -1 : 0;
}

/* ---- the decisions file ---------------------------------------------------------------------- */

static const char *const names[] = {NULL, "confirmed", "rejected", "needs-review"};

const char *review_decision_name(int d) { return d > 0 && d <= 3 ? names[d] : NULL; }

static int jfail(vigil__json *j, const char *what, char *why, size_t whylen)
{
    if (what) vigil__json_fail(j, what);
    snprintf(why, whylen, "line %llu, column %llu: %s", (unsigned long long)j->eline, (unsigned long long)j->ecol, j->why);
    return -1;
}

static int parse_match_id(const char *s, uint64_t *line, uint32_t *index)
{
    uint64_t l = 0, k = 0;
    const char *p = s;
    if (*p < '0' || *p > '9') return -1;
    for (; *p >= '0' && *p <= '9'; p++) { l = l * 10 + (uint64_t)(*p - '0'); if (l > (1ull << 48)) return -1; }
    if (*p++ != ':' || *p < '0' || *p > '9') return -1;
    for (; *p >= '0' && *p <= '9'; p++) { k = k * 10 + (uint64_t)(*p - '0'); if (k > 0xffffffffu) return -1; }
    if (*p) return -1;
    *line = l;
    *index = (uint32_t)k;
    return 0;
}

static int cmp_decision(const void *a, const void *b)
{
    const review_decision *x = a, *y = b;
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* One {"match": ..., ...} of the list; *got is 0 when the entry sets nothing (skipped). */
static int parse_entry(vigil__json *j, review_decision *d, char *why, size_t whylen)
{
    int have_match = 0;
    memset(d, 0, sizeof *d);
    d->category = -1;
    for (;;) {
        vigil__jtok t = vigil__json_next(j);
        if (t == VIGIL__J_OBJECT_END) break;
        if (t != VIGIL__J_KEY) return jfail(j, t == VIGIL__J_ERROR ? NULL : "expected a member name", why, whylen);
        char key[16];
        snprintf(key, sizeof key, "%s", (const char *)j->text.p);
        int known = j->len < sizeof key;
        if (known && !strcmp(key, "match")) {
            if (vigil__json_next(j) != VIGIL__J_STRING || strlen((const char *)j->text.p) != j->len ||
                parse_match_id((const char *)j->text.p, &d->line, &d->index))
                return jfail(j, j->failed ? NULL : "\"match\" must be a match id \"LINE:INDEX\"", why, whylen);
            have_match = 1;
        } else if (known && !strcmp(key, "path")) {
            vigil__jtok v = vigil__json_next(j);
            if (v != VIGIL__J_STRING) return jfail(j, v == VIGIL__J_ERROR ? NULL : "\"path\" must be a string", why, whylen);
            if (strlen((const char *)j->text.p) != j->len) return jfail(j, "\"path\" holds a NUL", why, whylen);
            free(d->path);
            if (!(d->path = strdup((const char *)j->text.p))) { snprintf(why, whylen, "out of memory"); return -1; }
        } else if (known && !strcmp(key, "decision")) {
            vigil__jtok v = vigil__json_next(j);
            d->decision = REVIEW_NONE;
            if (v == VIGIL__J_STRING) {
                for (int k = 1; k <= 3; k++)
                    if (!strcmp((const char *)j->text.p, names[k]) && j->len == strlen(names[k])) d->decision = k;
                if (!d->decision) return jfail(j, "\"decision\" must be \"confirmed\", \"rejected\", \"needs-review\" or null", why, whylen);
            } else if (v != VIGIL__J_NULL)
                return jfail(j, v == VIGIL__J_ERROR ? NULL : "\"decision\" must be \"confirmed\", \"rejected\", \"needs-review\" or null", why, whylen);
        } else if (known && !strcmp(key, "category")) {
            vigil__jtok v = vigil__json_next(j);
            long long c;
            if (v == VIGIL__J_NUMBER && !cli_strict_int((const char *)j->text.p, 0, 99, &c)) d->category = (int)c;
            else if (v != VIGIL__J_NULL)
                return jfail(j, v == VIGIL__J_ERROR ? NULL : "\"category\" must be a Project VIC category, a whole number 0..99, or null", why, whylen);
        } else if (vigil__json_skip(j)) return jfail(j, NULL, why, whylen);
    }
    if (!have_match) return jfail(j, "a decision without its \"match\" id", why, whylen);
    return 0;
}

int review_decisions_parse(const char *data, size_t n, review_decisions *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    vigil__src src;
    vigil__src_memory(&src, data, n);
    vigil__json j;
    vigil__json_init(&j, &src, 0);
    int rc = -1, version = 0, have_id = 0, have_list = 0;
    size_t cap = 0;
    vigil__jtok t = vigil__json_next(&j);
    if (t != VIGIL__J_OBJECT) { jfail(&j, t == VIGIL__J_ERROR ? NULL : "not a vigil decisions file: expected an object", why, whylen); goto done; }
    for (;;) {
        t = vigil__json_next(&j);
        if (t == VIGIL__J_OBJECT_END) break;
        if (t != VIGIL__J_KEY) { jfail(&j, t == VIGIL__J_ERROR ? NULL : "expected a member name", why, whylen); goto done; }
        char key[16];
        snprintf(key, sizeof key, "%s", (const char *)j.text.p);
        int known = j.len < sizeof key;
        if (known && !strcmp(key, "vigil_review")) {
            if (vigil__json_next(&j) != VIGIL__J_NUMBER || strcmp((const char *)j.text.p, "1")) {
                jfail(&j, j.failed ? NULL : "\"vigil_review\" must be 1 (the version this vigil reads)", why, whylen);
                goto done;
            }
            version = 1;
        } else if (known && !strcmp(key, "scan_id")) {
            if (vigil__json_next(&j) != VIGIL__J_STRING || j.len != 32 || !is_id((const char *)j.text.p)) {
                jfail(&j, j.failed ? NULL : "\"scan_id\" must be 32 hex digits", why, whylen);
                goto done;
            }
            memcpy(out->scan_id, j.text.p, 33);
            have_id = 1;
        } else if (known && !strcmp(key, "decisions")) {
            if (have_list) { jfail(&j, "\"decisions\" given twice", why, whylen); goto done; }
            have_list = 1;
            t = vigil__json_next(&j);
            if (t != VIGIL__J_ARRAY) { jfail(&j, t == VIGIL__J_ERROR ? NULL : "\"decisions\" must be an array", why, whylen); goto done; }
            for (;;) {
                t = vigil__json_next(&j);
                if (t == VIGIL__J_ARRAY_END) break;
                if (t != VIGIL__J_OBJECT) { jfail(&j, t == VIGIL__J_ERROR ? NULL : "each decision must be an object", why, whylen); goto done; }
                if (out->n == cap) {
                    size_t nc = cap ? cap * 2 : 64;
                    review_decision *p = realloc(out->d, nc * sizeof *p);
                    if (!p) { snprintf(why, whylen, "out of memory"); goto done; }
                    out->d = p;
                    cap = nc;
                }
                review_decision *d = &out->d[out->n];
                if (parse_entry(&j, d, why, whylen)) { free(d->path); goto done; }
                out->n++;
            }
        } else if (vigil__json_skip(&j)) { jfail(&j, NULL, why, whylen); goto done; }
    }
    t = vigil__json_next(&j);
    if (t != VIGIL__J_END) { jfail(&j, t == VIGIL__J_ERROR ? NULL : "more after the document", why, whylen); goto done; }
    if (!version || !have_id || !have_list) {
        snprintf(why, whylen, "not a vigil decisions file: \"%s\" is missing", !version ? "vigil_review" : !have_id ? "scan_id" : "decisions");
        goto done;
    }
    qsort(out->d, out->n, sizeof *out->d, cmp_decision);
    for (size_t i = 1; i < out->n; i++)
        if (!cmp_decision(&out->d[i - 1], &out->d[i])) {
            snprintf(why, whylen, "match %llu:%u is decided twice", (unsigned long long)out->d[i].line, out->d[i].index);
            goto done;
        }
    rc = 0;
done:
    vigil__json_free(&j);
    vigil__src_free(&src);
    if (rc) review_decisions_free(out);
    return rc;
}

void review_decisions_free(review_decisions *d)
{
    for (size_t i = 0; i < d->n; i++) free(d->d[i].path);
    free(d->d);
    d->d = NULL;
    d->n = 0;
}

/* ---- rewriting results.jsonl and vics.json ----------------------------------------------------- */

static size_t ws(const char *s, size_t i, size_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) i++;
    return i;
}

/* The index just past a JSON value starting at i (strings, numbers, literals, nesting), or n + 1. */
static size_t skip_value(const char *s, size_t i, size_t n, int depth)
{
    if (i >= n || depth > 64) return n + 1;
    if (s[i] == '"') {
        for (i++; i < n; i++) {
            if (s[i] == '\\') { i++; continue; }
            if (s[i] == '"') return i + 1;
            if ((unsigned char)s[i] < 0x20) return n + 1;
        }
        return n + 1;
    }
    if (s[i] == '{' || s[i] == '[') {
        char close = s[i] == '{' ? '}' : ']';
        int obj = s[i] == '{';
        i = ws(s, i + 1, n);
        if (i < n && s[i] == close) return i + 1;
        for (;;) {
            if (obj) {
                if (i >= n || s[i] != '"') return n + 1;
                i = ws(s, skip_value(s, i, n, depth + 1), n);
                if (i >= n || s[i] != ':') return n + 1;
                i = ws(s, i + 1, n);
            }
            i = ws(s, skip_value(s, i, n, depth + 1), n);
            if (i >= n) return n + 1;
            if (s[i] == close) return i + 1;
            if (s[i] != ',') return n + 1;
            i = ws(s, i + 1, n);
        }
    }
    size_t b = i;
    while (i < n && (strchr("+-.eE", s[i]) || (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z'))) i++;
    return i > b ? i : n + 1;
}

static int key_is(const char *s, size_t ks, size_t ke, const char *name)
{
    size_t l = strlen(name);
    return ke - ks == l + 2 && !memcmp(s + ks + 1, name, l);
}

/* The category a file takes from its decisions: the first confirmed match's, else the first
 * not-rejected one's; -2 (remove it) when every match of the file is rejected; -1 leave it. */
static int file_category(const review_decision *d, size_t n, size_t nmatches)
{
    size_t rejected = 0;
    for (size_t i = 0; i < n; i++)
        if (!d[i].unknown && d[i].decision == REVIEW_CONFIRMED && d[i].category >= 0) return d[i].category;
    for (size_t i = 0; i < n; i++) {
        if (d[i].unknown) continue;
        if (d[i].decision == REVIEW_REJECTED) rejected++;
        else if (d[i].category >= 0) return d[i].category;
    }
    return nmatches && rejected == nmatches ? -2 : -1;
}

char *review_rewrite_line(const char *s, size_t n, review_decision *d, size_t nd, size_t *outlen, size_t *unknown, int *cat,
                          int *has_md5)
{
    *cat = -1;
    *has_md5 = 0;
    size_t i = ws(s, 0, n), path_s = 0, path_e = 0, arr_s = 0, arr_e = 0;
    if (i >= n || s[i] != '{') return NULL;
    i = ws(s, i + 1, n);
    while (i < n && s[i] != '}') {
        size_t ks = i, ke = skip_value(s, i, n, 1);
        if (s[i] != '"' || ke > n) return NULL;
        i = ws(s, ke, n);
        if (i >= n || s[i] != ':') return NULL;
        size_t vs = ws(s, i + 1, n), ve = skip_value(s, vs, n, 1);
        if (ve > n) return NULL;
        if (key_is(s, ks, ke, "path")) { path_s = vs; path_e = ve; }
        if (key_is(s, ks, ke, "md5")) *has_md5 = 1;
        if (key_is(s, ks, ke, "matches")) { if (s[vs] != '[') return NULL; arr_s = vs; arr_e = ve; }
        i = ws(s, ve, n);
        if (i < n && s[i] == ',') i = ws(s, i + 1, n);
        else if (i >= n || s[i] != '}') return NULL;
    }
    if (i >= n || ws(s, i + 1, n) != n || !arr_e || !path_e) return NULL;

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    /* each decision's path, written as the line writes it, must be the line's */
    for (size_t k = 0; k < nd; k++) {
        d[k].unknown = 0;
        if (!d[k].path) continue;
        char *enc = NULL;
        size_t el = 0;
        FILE *m = open_memstream(&enc, &el);
        if (!m) { fclose(f); free(buf); return NULL; }
        cli_json_str(m, d[k].path);
        fclose(m);
        if (el != path_e - path_s || memcmp(enc, s + path_s, el)) d[k].unknown = 1;
        free(enc);
    }
    fwrite(s, 1, arr_s + 1, f);
    size_t j = ws(s, arr_s + 1, n), m = 0, k = 0;
    while (j < arr_e - 1) {
        size_t me = skip_value(s, j, n, 2);
        if (s[j] != '{' || me > n) { fclose(f); free(buf); return NULL; }
        while (k < nd && d[k].index < m) k++;
        review_decision *dk = k < nd && d[k].index == m && !d[k].unknown ? &d[k] : NULL;
        if (!dk) fwrite(s + j, 1, me - j, f);
        else {
            /* the match's members, less a decision and category an earlier apply wrote */
            fputc('{', f);
            size_t q = ws(s, j + 1, n);
            int first = 1;
            while (q < me - 1) {
                size_t ks = q, ke = skip_value(s, q, n, 3);
                if (ke > n || (q = ws(s, ke, n)) >= n || s[q] != ':') { fclose(f); free(buf); return NULL; }
                size_t vs = ws(s, q + 1, n), ve = skip_value(s, vs, n, 3);
                if (ve > n) { fclose(f); free(buf); return NULL; }
                if (!key_is(s, ks, ke, "decision") && !key_is(s, ks, ke, "category")) {
                    if (!first) fputc(',', f);
                    fwrite(s + ks, 1, ve - ks, f);
                    first = 0;
                }
                q = ws(s, ve, n);
                if (q < n && s[q] == ',') q = ws(s, q + 1, n);
            }
            const char *name = review_decision_name(dk->decision);
            if (name) fprintf(f, "%s\"decision\":\"%s\"", first ? "" : ",", name), first = 0;
            if (dk->category >= 0) fprintf(f, "%s\"category\":%d", first ? "" : ",", dk->category);
            fputc('}', f);
        }
        m++;
        j = ws(s, me, n);
        if (j < n && s[j] == ',') { fputc(',', f); j = ws(s, j + 1, n); }
    }
    fwrite(s + arr_e - 1, 1, n - (arr_e - 1), f);
    for (size_t q = 0; q < nd; q++)
        if (d[q].index >= m) d[q].unknown = 1;
    for (size_t q = 0; q < nd; q++) *unknown += (size_t)d[q].unknown;
    *cat = file_category(d, nd, m);
    if (fclose(f)) { free(buf); return NULL; }
    *outlen = len;
    return buf;
}

char *review_vics_line(const char *s, size_t n, int cat, size_t *outlen)
{
    static const char head[] = "{\"MediaID\": ", catkey[] = ", \"Category\": ";
    size_t i = ws(s, 0, n), hl = sizeof head - 1, cl = sizeof catkey - 1;
    if (n - i < hl || memcmp(s + i, head, hl)) return NULL;
    size_t e = i + hl;
    if (e >= n || s[e] < '0' || s[e] > '9') return NULL;
    while (e < n && s[e] >= '0' && s[e] <= '9') e++;
    size_t rest = e;
    if (n - e >= cl && !memcmp(s + e, catkey, cl)) {
        rest = e + cl;
        if (rest >= n || s[rest] < '0' || s[rest] > '9') return NULL;
        while (rest < n && s[rest] >= '0' && s[rest] <= '9') rest++;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    fwrite(s, 1, e, f);
    if (cat >= 0) fprintf(f, "%s%d", catkey, cat);
    else if (cat == -1) fwrite(s + e, 1, rest - e, f);
    fwrite(s + rest, 1, n - rest, f);
    if (fclose(f)) { free(buf); return NULL; }
    *outlen = len;
    return buf;
}
