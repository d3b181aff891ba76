/* common.c - version, vigil_free, result names, error formatting, hex helpers, opening files by name. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *vigil_version(void) { return VIGIL_VERSION_STRING; }

void vigil_free(void *p) { free(p); }

const char *vigil_result_name(vigil_result r)
{
    static const char *const names[VIGIL_RESULT_COUNT] = {
        "ok", "invalid-argument", "out-of-memory", "io", "not-a-file", "empty", "format",
        "decode", "too-large", "too-small", "parse", "corrupt", "version", "not-found", "internal",
    };
    if ((unsigned)r >= VIGIL_RESULT_COUNT)
        return "unknown";
    return names[r];
}

vigil_result vigil__fail(vigil_error *err, vigil_result code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *vigil__file_kind(unsigned mode)
{
    return S_ISREG(mode) ? "a regular file" : S_ISDIR(mode) ? "a directory" : S_ISFIFO(mode) ? "a FIFO"
         : S_ISCHR(mode) ? "a character device" : S_ISBLK(mode) ? "a block device" : S_ISSOCK(mode) ? "a socket"
         : S_ISLNK(mode) ? "a symbolic link" : "not a regular file";
}

vigil_result vigil__open_regular(const char *path, uint64_t max_bytes, int *fd_out, uint64_t *size, vigil_error *err)
{
    struct stat st;
    *fd_out = -1;
    /* stat before open: a device is never opened at all (opening one can act: a tape rewinds) */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return vigil__fail(err, VIGIL_E_NOT_FILE, "is %s, not a regular file", vigil__file_kind(st.st_mode));
    /* O_NONBLOCK: should the path become a FIFO after the stat, the open still returns at once */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return vigil__fail(err, e == ENXIO ? VIGIL_E_NOT_FILE : VIGIL_E_IO, "cannot open: %s", strerror(e));
    }
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        return vigil__fail(err, VIGIL_E_IO, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(st.st_mode)) { /* it changed since the stat */
        close(fd);
        return vigil__fail(err, VIGIL_E_NOT_FILE, "is %s, not a regular file", vigil__file_kind(st.st_mode));
    }
    if (max_bytes && (uint64_t)st.st_size > max_bytes) {
        close(fd);
        return vigil__fail(err, VIGIL_E_TOO_LARGE, "file is %llu bytes, over the limit of %llu",
                           (unsigned long long)st.st_size, (unsigned long long)max_bytes);
    }
    int fl = fcntl(fd, F_GETFL); /* a regular file ignores O_NONBLOCK; readers need not know it was set */
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *fd_out = fd;
    *size = (uint64_t)st.st_size;
    return VIGIL_OK;
}

void vigil_hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = 0;
}

const char *vigil_transform_name(vigil_transform t)
{
    static const char *const names[VIGIL_TRANSFORM_COUNT] = {
        "orig", "rot90", "rot180", "rot270", "flipx", "flipy", "flipp", "flipm",
    };
    if ((unsigned)t >= VIGIL_TRANSFORM_COUNT)
        return "unknown";
    return names[t];
}

/* Hex is the 256-bit integer big-endian (spec section 10): word 3 first. */
void vigil_pdq_to_hex(const vigil_pdq *h, char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 64; i++) {
        int bit = 252 - 4 * i;
        out[i] = digits[(h->w[bit >> 6] >> (bit & 63)) & 15];
    }
    out[64] = 0;
}

int vigil__hex_digit(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int vigil__unhex(const char *s, size_t len, uint8_t *out, size_t n)
{
    if (len != 2 * n) return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = vigil__hex_digit((unsigned char)s[2 * i]), lo = vigil__hex_digit((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

vigil_result vigil_pdq_from_hex(const char *hex, size_t len, vigil_pdq *out)
{
    if (!hex || !out || len != 64)
        return VIGIL_E_PARSE;
    vigil_pdq h = {{0, 0, 0, 0}};
    for (int i = 0; i < 64; i++) {
        int v = vigil__hex_digit((unsigned char)hex[i]);
        if (v < 0) return VIGIL_E_PARSE;
        int bit = 252 - 4 * i;
        h.w[bit >> 6] |= (uint64_t)v << (bit & 63);
    }
    *out = h;
    return VIGIL_OK;
}

int vigil_pdq_distance(const vigil_pdq *a, const vigil_pdq *b)
{
    return __builtin_popcountll(a->w[0] ^ b->w[0]) + __builtin_popcountll(a->w[1] ^ b->w[1]) +
           __builtin_popcountll(a->w[2] ^ b->w[2]) + __builtin_popcountll(a->w[3] ^ b->w[3]);
}
