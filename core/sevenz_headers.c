/* sevenz_headers.c - the header of a 7z archive (see sevenz_headers.h). Layout from the 7z format
 * description that ships with 7-Zip (7zFormat.txt): a 32-byte signature header points at the
 * next header, which is either the header itself (kHeader) or streams info for an encoded header
 * (kEncodedHeader): a folder, usually one LZMA coder, whose output is the header. The header's
 * main streams info gives the folders (their coders: AES 06F10701 means encrypted), the
 * substreams of each folder (sizes and CRC-32s), and files info the names, in the order the
 * substreams are used by the files that have data.
 *
 * Untrusted input: every count is checked against the bytes left that would have to hold it,
 * coders and streams per folder are bounded, the decoded header is bounded by max_header and its
 * CRC-32 checked, and the LZMA dictionary is never larger than the header being decoded (a
 * dictionary at least as long as the output decodes the same). Any check that fails ends with
 * nothing listed: libarchive reports the damage, this only adds facts. */
#include "sevenz_headers.h"

#include <libdeflate.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>

#define CODERS_MAX 32       /* per folder; 7-Zip writes at most 4 */
#define STREAMS_MAX 32      /* in or out streams per coder */
#define ENCODED_DEPTH 4     /* an encoded header whose output is encoded again */
#define SUBSTREAMS_MAX (1u << 24)

enum { K_END = 0x00, K_HEADER = 0x01, K_ARCHIVE_PROPS = 0x02, K_ADD_STREAMS = 0x03, K_MAIN_STREAMS = 0x04,
       K_FILES = 0x05, K_PACK = 0x06, K_UNPACK = 0x07, K_SUBSTREAMS = 0x08, K_SIZE = 0x09, K_CRC = 0x0A,
       K_FOLDER = 0x0B, K_UNPACK_SIZE = 0x0C, K_NUM_UNPACK = 0x0D, K_EMPTY_STREAM = 0x0E, K_NAME = 0x11,
       K_ENCODED = 0x17 };

#define ID_COPY 0x00u
#define ID_LZMA2 0x21u
#define ID_LZMA 0x030101u
#define ID_AES 0x06F10701u

typedef struct cur {
    const uint8_t *p;
    size_t n, at;
    int bad;
} cur;

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static size_t left(const cur *c) { return c->bad ? 0 : c->n - c->at; }

static unsigned byte(cur *c)
{
    if (c->bad || c->at >= c->n) { c->bad = 1; return 0; }
    return c->p[c->at++];
}

/* 7z's NUMBER: the first byte's high bits say how many bytes follow (little-endian), its low bits
 * are the top of the value. */
static uint64_t number(cur *c)
{
    unsigned first = byte(c), mask = 0x80;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        if (!(first & mask)) return v | (uint64_t)(first & (mask - 1)) << (8 * i);
        v |= (uint64_t)byte(c) << (8 * i);
        mask >>= 1;
    }
    return v;
}

/* A count of things each at least one bit (bits) or one byte long in what is left. */
static uint64_t count(cur *c, int bits)
{
    uint64_t v = number(c);
    uint64_t room = (uint64_t)left(c) * (bits ? 8 : 1);
    if (v > room || v > SUBSTREAMS_MAX) c->bad = 1;
    return c->bad ? 0 : v;
}

static const uint8_t *take(cur *c, uint64_t n)
{
    if (c->bad || n > left(c)) { c->bad = 1; return NULL; }
    const uint8_t *p = c->p + c->at;
    c->at += (size_t)n;
    return p;
}

/* n bits, most significant first: into out[0..n) as 0/1; an "all defined" byte first when
 * with_all is set (as the digests and some file properties have). */
static void bits(cur *c, uint64_t n, uint8_t *out, int with_all)
{
    if (with_all && byte(c)) { memset(out, 1, (size_t)n); return; }
    const uint8_t *b = take(c, (n + 7) / 8);
    if (!b) return;
    for (uint64_t i = 0; i < n; i++) out[i] = (uint8_t)(b[i / 8] >> (7 - i % 8) & 1);
}

/* Digests of n streams: which are defined, then a CRC-32 for each defined one. */
static void digests(cur *c, uint64_t n, uint8_t *has, uint32_t *crc)
{
    bits(c, n, has, 1);
    for (uint64_t i = 0; i < n && !c->bad; i++)
        if (has[i]) {
            const uint8_t *p = take(c, 4);
            if (p) crc[i] = le32(p);
        }
}

typedef struct folder {
    uint64_t id0;           /* its first coder (the only one an encoded header is decoded with) */
    const uint8_t *props0;
    size_t props0_n;
    unsigned ncoders;
    int encrypted;
    unsigned nout, main_out;
    uint64_t unpack_size;
    uint8_t has_crc;
    uint32_t crc;
    uint64_t nsub;          /* substreams (files) it holds */
} folder;

typedef struct streams {
    uint64_t pack_pos, npack;
    uint64_t *pack_sizes;
    uint64_t nfolders;
    folder *f;
    uint64_t nsub;
    uint64_t *sub_size;
    uint32_t *sub_crc;
    uint8_t *sub_has;
    uint64_t *sub_folder;
} streams;

static void streams_free(streams *s)
{
    free(s->pack_sizes);
    free(s->f);
    free(s->sub_size);
    free(s->sub_crc);
    free(s->sub_has);
    free(s->sub_folder);
    memset(s, 0, sizeof *s);
}

static void pack_info(cur *c, streams *s)
{
    s->pack_pos = number(c);
    s->npack = count(c, 0);
    if (c->bad || !(s->pack_sizes = calloc(s->npack ? s->npack : 1, sizeof *s->pack_sizes))) { c->bad = 1; return; }
    for (uint64_t id = number(c); id != K_END && !c->bad; id = number(c)) {
        if (id == K_SIZE) {
            for (uint64_t i = 0; i < s->npack; i++) s->pack_sizes[i] = number(c);
        } else if (id == K_CRC) {
            uint8_t *has = calloc(s->npack ? s->npack : 1, 1);
            uint32_t *crc = calloc(s->npack ? s->npack : 1, 4);
            if (has && crc) digests(c, s->npack, has, crc);
            else c->bad = 1;
            free(has);
            free(crc);
        } else {
            c->bad = 1;
        }
    }
}

static void one_folder(cur *c, folder *f)
{
    f->ncoders = (unsigned)number(c);
    if (!f->ncoders || f->ncoders > CODERS_MAX) { c->bad = 1; return; }
    unsigned nin = 0, nout = 0;
    for (unsigned k = 0; k < f->ncoders && !c->bad; k++) {
        unsigned flags = byte(c), idn = flags & 0x0F;
        if ((flags & 0x80) || idn > 8) { c->bad = 1; return; } /* alternative methods: not in any 7-Zip since 4.x */
        const uint8_t *idb = take(c, idn);
        uint64_t id = 0;
        for (unsigned i = 0; idb && i < idn; i++) id = id << 8 | idb[i];
        uint64_t in = 1, out = 1;
        if (flags & 0x10) {
            in = number(c);
            out = number(c);
            if (in > STREAMS_MAX || out > STREAMS_MAX) { c->bad = 1; return; }
        }
        const uint8_t *props = NULL;
        uint64_t pn = 0;
        if (flags & 0x20) {
            pn = number(c);
            props = take(c, pn);
        }
        if (id == ID_AES) f->encrypted = 1;
        if (k == 0) { f->id0 = id; f->props0 = props; f->props0_n = (size_t)pn; }
        nin += (unsigned)in;
        nout += (unsigned)out;
    }
    if (c->bad || !nout) { c->bad = 1; return; }
    uint8_t bound[CODERS_MAX * STREAMS_MAX] = {0};
    for (unsigned b = 0; b + 1 < nout && !c->bad; b++) { /* bind pairs: in index, out index */
        uint64_t i = number(c), o = number(c);
        if (i >= nin || o >= nout) { c->bad = 1; return; }
        bound[o] = 1;
    }
    if (nin < nout - 1) { c->bad = 1; return; }
    unsigned packed = nin - (nout - 1);
    if (packed > 1)
        for (unsigned k = 0; k < packed; k++)
            if (number(c) >= nin) c->bad = 1;
    f->nout = nout;
    f->main_out = 0;
    while (f->main_out < nout && bound[f->main_out]) f->main_out++;
    if (f->main_out == nout) c->bad = 1;
}

static void unpack_info(cur *c, streams *s)
{
    if (number(c) != K_FOLDER) { c->bad = 1; return; }
    s->nfolders = count(c, 0);
    if (byte(c) != 0) c->bad = 1; /* "external": the folders elsewhere, which 7-Zip never writes */
    if (c->bad || !(s->f = calloc(s->nfolders ? s->nfolders : 1, sizeof *s->f))) { c->bad = 1; return; }
    for (uint64_t k = 0; k < s->nfolders && !c->bad; k++) one_folder(c, &s->f[k]);
    if (number(c) != K_UNPACK_SIZE) { c->bad = 1; return; }
    for (uint64_t k = 0; k < s->nfolders && !c->bad; k++)
        for (unsigned o = 0; o < s->f[k].nout; o++) {
            uint64_t v = number(c);
            if (o == s->f[k].main_out) s->f[k].unpack_size = v;
        }
    uint64_t id = number(c);
    if (id == K_CRC) {
        uint8_t *has = calloc(s->nfolders ? s->nfolders : 1, 1);
        uint32_t *crc = calloc(s->nfolders ? s->nfolders : 1, 4);
        if (has && crc) {
            digests(c, s->nfolders, has, crc);
            for (uint64_t k = 0; k < s->nfolders; k++) { s->f[k].has_crc = has[k]; s->f[k].crc = crc[k]; }
        } else {
            c->bad = 1;
        }
        free(has);
        free(crc);
        id = number(c);
    }
    if (id != K_END) c->bad = 1;
}

/* The substreams: each folder's count (1 unless said), their sizes (the last takes what is left of
 * the folder), their CRC-32s (a folder of one substream with its own CRC lends it). */
static void substreams(cur *c, streams *s, int present)
{
    for (uint64_t k = 0; k < s->nfolders; k++) s->f[k].nsub = 1;
    uint64_t id = present ? number(c) : K_END;
    if (id == K_NUM_UNPACK) {
        for (uint64_t k = 0; k < s->nfolders && !c->bad; k++) s->f[k].nsub = count(c, 1);
        id = number(c);
    }
    uint64_t total = 0;
    for (uint64_t k = 0; k < s->nfolders; k++) {
        total += s->f[k].nsub;
        if (total > SUBSTREAMS_MAX) c->bad = 1;
    }
    if (c->bad) return;
    s->nsub = total;
    size_t n = total ? (size_t)total : 1;
    s->sub_size = calloc(n, sizeof *s->sub_size);
    s->sub_crc = calloc(n, sizeof *s->sub_crc);
    s->sub_has = calloc(n, 1);
    s->sub_folder = calloc(n, sizeof *s->sub_folder);
    if (!s->sub_size || !s->sub_crc || !s->sub_has || !s->sub_folder) { c->bad = 1; return; }
    size_t at = 0;
    for (uint64_t k = 0; k < s->nfolders && !c->bad; k++) {
        const folder *f = &s->f[k];
        if (!f->nsub) continue;
        uint64_t sum = 0;
        for (uint64_t j = 1; j < f->nsub && !c->bad; j++) {
            if (id != K_SIZE) { c->bad = 1; break; } /* several substreams need their sizes */
            uint64_t v = number(c);
            if (v > f->unpack_size - sum) c->bad = 1;
            else { sum += v; s->sub_folder[at] = k; s->sub_size[at++] = v; }
        }
        if (c->bad) break;
        s->sub_folder[at] = k;
        s->sub_size[at++] = f->unpack_size - sum;
    }
    if (id == K_SIZE) id = number(c);
    /* which substreams have no CRC from their folder: those get one here, in order */
    uint64_t need = 0;
    for (uint64_t k = 0; k < s->nfolders; k++) need += s->f[k].nsub == 1 && s->f[k].has_crc ? 0 : s->f[k].nsub;
    uint8_t *has = calloc(need ? need : 1, 1);
    uint32_t *crc = calloc(need ? need : 1, 4);
    if (!has || !crc) { free(has); free(crc); c->bad = 1; return; }
    if (id == K_CRC) {
        digests(c, need, has, crc);
        id = number(c);
    }
    size_t d = 0, i = 0;
    for (uint64_t k = 0; k < s->nfolders && !c->bad; k++) {
        const folder *f = &s->f[k];
        if (f->nsub == 1 && f->has_crc) { s->sub_has[i] = 1; s->sub_crc[i++] = f->crc; continue; }
        for (uint64_t j = 0; j < f->nsub; j++, i++, d++) { s->sub_has[i] = has[d]; s->sub_crc[i] = crc[d]; }
    }
    free(has);
    free(crc);
    if (present && id != K_END) c->bad = 1;
}

static void streams_info(cur *c, streams *s)
{
    uint64_t id = number(c);
    if (id == K_PACK) { pack_info(c, s); id = number(c); }
    if (id == K_UNPACK) { unpack_info(c, s); id = number(c); }
    int sub = id == K_SUBSTREAMS;
    if (!c->bad) substreams(c, s, sub);
    if (sub) id = number(c);
    if (id != K_END) c->bad = 1;
}

/* ---- the encoded header ---------------------------------------------------------------------------- */

static int lzma_decode(uint64_t id, const uint8_t *props, size_t pn, const uint8_t *in, size_t in_n, uint8_t *out, size_t out_n)
{
    lzma_filter f[2] = {{id == ID_LZMA ? LZMA_FILTER_LZMA1 : LZMA_FILTER_LZMA2, NULL}, {LZMA_VLI_UNKNOWN, NULL}};
    if (!props || lzma_properties_decode(&f[0], NULL, props, pn) != LZMA_OK) return -1;
    lzma_options_lzma *o = f[0].options;
    uint32_t dict = out_n < LZMA_DICT_SIZE_MIN ? LZMA_DICT_SIZE_MIN : (uint32_t)out_n;
    if (o->dict_size > dict) o->dict_size = dict; /* as long as the output: decodes the same, costs no more */
    lzma_stream s = LZMA_STREAM_INIT;
    int ok = lzma_raw_decoder(&s, f) == LZMA_OK;
    free(f[0].options);
    if (!ok) return -1;
    s.next_in = in;
    s.avail_in = in_n;
    s.next_out = out;
    s.avail_out = out_n;
    lzma_ret r = LZMA_OK;
    while (r == LZMA_OK && s.avail_out) {
        size_t before = s.avail_out + s.avail_in;
        r = lzma_code(&s, LZMA_FINISH);
        if (s.avail_out + s.avail_in == before) break;
    }
    lzma_end(&s);
    return s.avail_out ? -1 : 0;
}

/* The header an encoded header stands for, in a new buffer (*n), or NULL; *locked when its folder
 * is encrypted. */
static uint8_t *decode_header(vigil__pread_fn rd, void *ctx, uint64_t size, size_t max, cur *c, size_t *n, int *locked)
{
    streams s = {0};
    streams_info(c, &s);
    uint8_t *in = NULL, *out = NULL;
    if (c->bad || !s.nfolders || !s.npack) goto done;
    const folder *f = &s.f[0];
    if (f->encrypted) { *locked = 1; goto done; }
    if (f->ncoders != 1 || (f->id0 != ID_COPY && f->id0 != ID_LZMA && f->id0 != ID_LZMA2)) goto done;
    uint64_t at = 32 + s.pack_pos, pn = s.pack_sizes[0];
    if (s.pack_pos > size || at > size || pn > size - at || pn > max || f->unpack_size > max || !f->unpack_size) goto done;
    if (!(in = malloc((size_t)pn ? (size_t)pn : 1)) || !(out = malloc((size_t)f->unpack_size))) goto done;
    if (rd(ctx, at, in, (size_t)pn) != (long)pn) goto done;
    int bad;
    if (f->id0 == ID_COPY) {
        bad = pn < f->unpack_size;
        if (!bad) memcpy(out, in, (size_t)f->unpack_size);
    } else {
        bad = lzma_decode(f->id0, f->props0, f->props0_n, in, (size_t)pn, out, (size_t)f->unpack_size);
    }
    if (bad || (f->has_crc && (uint32_t)libdeflate_crc32(0, out, (size_t)f->unpack_size) != f->crc)) goto done;
    *n = (size_t)f->unpack_size;
    free(in);
    streams_free(&s);
    return out;
done:
    free(in);
    free(out);
    streams_free(&s);
    return NULL;
}

/* ---- the header -------------------------------------------------------------------------------------- */

/* Empties the list but keeps locked: an encrypted header is still news when its list is not. */
static void drop(vigil__facts *l)
{
    int locked = l->locked;
    vigil__facts_free(l);
    l->locked = locked;
}

/* One UTF-16LE name from p[*at..n), ended by a 0 unit, as UTF-8 into out (at most 4 bytes a unit
 * of input, so out holds (n - *at) * 2 bytes): its length, or -1 when no end is found. */
static long utf8_name(const uint8_t *p, size_t n, size_t *at, char *out)
{
    size_t o = 0;
    while (*at + 2 <= n) {
        uint32_t u = (uint32_t)p[*at] | (uint32_t)p[*at + 1] << 8;
        *at += 2;
        if (!u) return (long)o;
        if (u >= 0xD800 && u < 0xDC00 && *at + 2 <= n) {
            uint32_t v = (uint32_t)p[*at] | (uint32_t)p[*at + 1] << 8;
            if (v >= 0xDC00 && v < 0xE000) { *at += 2; u = 0x10000 + ((u - 0xD800) << 10) + (v - 0xDC00); }
            else u = 0xFFFD;
        } else if (u >= 0xD800 && u < 0xE000) {
            u = 0xFFFD;
        }
        if (u < 0x80) out[o++] = (char)u;
        else if (u < 0x800) { out[o++] = (char)(0xC0 | u >> 6); out[o++] = (char)(0x80 | (u & 63)); }
        else if (u < 0x10000) { out[o++] = (char)(0xE0 | u >> 12); out[o++] = (char)(0x80 | (u >> 6 & 63)); out[o++] = (char)(0x80 | (u & 63)); }
        else { out[o++] = (char)(0xF0 | u >> 18); out[o++] = (char)(0x80 | (u >> 12 & 63)); out[o++] = (char)(0x80 | (u >> 6 & 63)); out[o++] = (char)(0x80 | (u & 63)); }
    }
    return -1;
}

/* Files info, matched with the main streams' substreams: into the list. 0, or -1 out of memory. */
static int files_info(cur *c, const streams *s, vigil__facts *l)
{
    uint64_t nf = count(c, 1);
    uint8_t *empty = calloc(nf ? nf : 1, 1);
    const uint8_t *names = NULL;
    size_t names_n = 0;
    if (!empty) return -1;
    for (uint64_t id = number(c); id != K_END && !c->bad; id = number(c)) {
        uint64_t sz = number(c);
        const uint8_t *d = take(c, sz);
        if (!d) break;
        cur sub = {d, (size_t)sz, 0, 0};
        if (id == K_EMPTY_STREAM) bits(&sub, nf, empty, 0);
        else if (id == K_NAME && sz >= 1 && d[0] == 0) { names = d + 1; names_n = (size_t)sz - 1; } /* 1: external */
        if (sub.bad) c->bad = 1;
    }
    int rc = 0;
    char *name = malloc(names_n * 2 + 1);
    size_t at = 0, sub = 0;
    if (!name) rc = -1;
    for (uint64_t i = 0; i < nf && !c->bad && !rc; i++) {
        long nl = names ? utf8_name(names, names_n, &at, name) : 0;
        if (nl < 0) { c->bad = 1; break; }
        if (empty[i]) { rc = vigil__facts_add(l, name, (size_t)nl, 0, 0, 0, 0, 1); continue; }
        if (sub >= s->nsub) { c->bad = 1; break; }
        const folder *f = &s->f[s->sub_folder[sub]];
        rc = vigil__facts_add(l, name, (size_t)nl, s->sub_size[sub], s->sub_crc[sub], s->sub_has[sub], f->encrypted, 0);
        sub++;
    }
    free(name);
    free(empty);
    return rc;
}

static int header(cur *c, vigil__facts *l)
{
    if (byte(c) != K_HEADER) return 0;
    uint64_t id = number(c);
    if (id == K_ARCHIVE_PROPS) {
        for (uint64_t t = number(c); t != K_END && !c->bad; t = number(c)) take(c, number(c));
        id = number(c);
    }
    streams extra = {0}, ms = {0};
    if (id == K_ADD_STREAMS) { streams_info(c, &extra); id = number(c); }
    if (id == K_MAIN_STREAMS) { streams_info(c, &ms); id = number(c); }
    int rc = 0;
    if (id == K_FILES && !c->bad) { rc = files_info(c, &ms, l); id = number(c); }
    if (id != K_END) c->bad = 1;
    streams_free(&extra);
    streams_free(&ms);
    return rc;
}

int vigil__7z_walk(vigil__pread_fn rd, void *ctx, uint64_t size, size_t max_header, vigil__facts *out)
{
    memset(out, 0, sizeof *out);
    uint8_t sh[32];
    if (size < 32 || rd(ctx, 0, sh, 32) != 32 || memcmp(sh, "7z\xBC\xAF\x27\x1C", 6)) return 0;
    if ((uint32_t)libdeflate_crc32(0, sh + 12, 20) != le32(sh + 8)) return 0;
    uint64_t off = le64(sh + 12), n = le64(sh + 20);
    if (!n || n > max_header || off > size - 32 || n > size - 32 - off) return 0;
    uint8_t *buf = malloc((size_t)n);
    if (!buf) return -1;
    if (rd(ctx, 32 + off, buf, (size_t)n) != (long)n || (uint32_t)libdeflate_crc32(0, buf, (size_t)n) != le32(sh + 28)) {
        free(buf);
        return 0;
    }
    size_t len = (size_t)n;
    int rc = 0;
    for (int depth = 0; depth < ENCODED_DEPTH && buf; depth++) {
        cur c = {buf, len, 0, 0};
        unsigned kind = buf[0];
        if (kind == K_HEADER) {
            rc = header(&c, out);
            if (c.bad) drop(out); /* nothing rather than part */
            break;
        }
        if (kind != K_ENCODED) break;
        c.at = 1;
        size_t dn = 0;
        uint8_t *dec = decode_header(rd, ctx, size, max_header, &c, &dn, &out->locked);
        free(buf);
        buf = dec;
        len = dn;
    }
    free(buf);
    if (rc) drop(out);
    return rc;
}
