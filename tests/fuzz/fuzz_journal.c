/* fuzz_journal.c - the scan journal's reader (cli/journal.c) on arbitrary bytes: the resume path
 * (journal_open), the report's pass over the records (journal_each), reading a record back by
 * its offset (journal_read) and journal_decode itself. An input that starts like a journal is
 * the whole file, its own settings given back; anything else is the records after a valid
 * header. Then one record is appended and the journal opened again: it must hold exactly one
 * record more, whatever damage the reader dropped or cut. */
#include "../../cli/scan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

static char dir[64], path[128];

static int touch(const jrecord *r, void *ctx)
{
    size_t *n = ctx;
    *n += strlen(r->path) + r->fix.json_len + r->fix.content_off;
    for (uint32_t i = 0; i < r->fix.nmatches; i++) *n += (size_t)r->matches[i].set + r->matches[i].kind;
    if (r->fix.json_len) *n += (unsigned char)r->json[r->fix.json_len - 1];
    return 0;
}

static int write_file(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int bad = (na && fwrite(a, 1, na, f) != na) || (nb && fwrite(b, 1, nb, f) != nb);
    return fclose(f) || bad ? -1 : 0;
}

static void cleanup(void)
{
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) { /* tmpfs where there is one: the journal fsyncs, and runs should be many */
        snprintf(dir, sizeof dir, "%s/vigil-fuzz-journal.XXXXXX", access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
        if (!mkdtemp(dir)) abort();
        snprintf(path, sizeof path, "%s/journal.vgj", dir);
        atexit(cleanup);
    }
    /* journal_decode alone, on an aligned copy */
    if (size <= JREC_MAX) {
        char *p = malloc(size + 1);
        jrecord rec;
        memcpy(p, data, size);
        p[size] = 0;
        if (!journal_decode(p, (uint32_t)size, &rec)) {
            size_t n = 0;
            touch(&rec, &n);
        }
        free(p);
    }

    const char *fixed = "vigil scan v1; fuzz";
    char *settings = NULL;
    if (size >= 24 && !memcmp(data, "VIGILJNL", 8)) {
        uint32_t optlen;
        memcpy(&optlen, data + 12, 4);
        if (optlen > size - 24) return 0;
        settings = malloc(optlen + 1);
        memcpy(settings, data + 24, optlen);
        settings[optlen] = 0;
        if (write_file(data, size, NULL, 0)) abort();
    } else {
        struct { char magic[8]; uint32_t version, optlen; uint64_t opthash; } h = {"VIGILJNL", 1, (uint32_t)strlen(fixed), 0};
        h.opthash = XXH3_64bits(fixed, strlen(fixed));
        uint8_t head[sizeof h + 64];
        memcpy(head, &h, sizeof h);
        memcpy(head + sizeof h, fixed, h.optlen);
        if (write_file(head, sizeof h + h.optlen, data, size)) abort();
        settings = strdup(fixed);
    }
    scan_journal j;
    char why[8400] = "";
    if (journal_open(&j, dir, settings, 1, why, sizeof why)) {
        if (!why[0] || j.fd != -1) abort(); /* a refusal says why and holds nothing open */
        free(settings);
        return 0;
    }
    journal_damage_note(&j, why, sizeof why);
    size_t n = 0;
    if (journal_each(&j, touch, &n)) abort(); /* what open accepted reads back */
    for (size_t i = 0; i < j.ccap; i++) {
        uint64_t off = j.ctab[i].value;
        jrecord rec;
        if (!off || off == UINT64_MAX) continue;
        if (journal_read(&j, off, &rec)) abort(); /* every offset in the table is a record */
        touch(&rec, &n);
        free(rec.buf);
    }
    /* one more record; the journal opened again holds exactly that one more */
    uint64_t had = j.records;
    jfix fx;
    memset(&fx, 0, sizeof fx);
    const char *p = "/fuzz/appended", *json = "{\"path\":\"/fuzz/appended\"}\n";
    fx.path_hash = journal_path_key(p);
    fx.path_len = (uint32_t)strlen(p);
    fx.json_len = (uint32_t)strlen(json);
    jmatch m = {7, 0, 3, 0, MATCH_PDQ};
    fx.nmatches = 1;
    if (journal_append(&j, &fx, &m, p, json) == UINT64_MAX) abort();
    journal_close(&j);
    if (journal_open(&j, dir, settings, 1, why, sizeof why)) abort();
    if (j.records != had + 1 || j.torn) abort();
    journal_close(&j);
    free(settings);
    return 0;
}
