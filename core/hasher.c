/* hasher.c - one file in, one vigil_hash_result out: read once, digest, decode, PDQ. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void vigil_hash_options_init(vigil_hash_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->max_pixels = VIGIL_DEFAULT_MAX_PIXELS;
    opt->max_file_bytes = VIGIL_DEFAULT_MAX_FILE_BYTES;
}

vigil_result vigil_hash_memory(const void *data, size_t size, const vigil_hash_options *opt,
                               vigil_hash_result *out, vigil_error *err)
{
    vigil_hash_options def;
    if (!opt) { vigil_hash_options_init(&def); opt = &def; }
    if (!out || (!data && size))
        return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    memset(out, 0, sizeof *out);
    out->file_size = size;
    if (!(opt->flags & VIGIL_HASH_NO_DIGESTS))
        vigil__digests(data, size, out);
    if (size == 0)
        return vigil__fail(err, VIGIL_E_EMPTY, "empty file");
    if (opt->flags & VIGIL_HASH_NO_PDQ)
        return VIGIL_OK;
    if (opt->before_decode && !opt->before_decode(out, opt->before_decode_ctx))
        return VIGIL_OK;

    vigil__pixels px;
    vigil_result r = vigil__load(data, size, !!(opt->flags & VIGIL_HASH_EXACT),
                                 opt->max_pixels ? opt->max_pixels : VIGIL_DEFAULT_MAX_PIXELS, &px, out, err);
    if (r) return r;
    int want_dih = !!(opt->flags & VIGIL_HASH_DIHEDRAL);
    r = vigil__pdq_hash(&px, &out->pdq, &out->quality, want_dih ? out->dihedral : NULL);
    free(px.px);
    if (r == VIGIL_E_TOO_SMALL)
        return vigil__fail(err, r, "image is %ux%u; PDQ needs at least 5x5", out->width, out->height);
    if (r) return vigil__fail(err, r, "out of memory while hashing");
    out->have |= VIGIL_HAVE_PDQ | (want_dih ? VIGIL_HAVE_DIHEDRAL : 0);
    return VIGIL_OK;
}

vigil_result vigil_hash_file(const char *path, const vigil_hash_options *opt, vigil_hash_result *out,
                             vigil_error *err)
{
    vigil_hash_options def;
    if (!opt) { vigil_hash_options_init(&def); opt = &def; }
    if (!path || !out)
        return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    memset(out, 0, sizeof *out);
    /* O_NONBLOCK: opening a FIFO must not hang the scan; the type is checked right after. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return vigil__fail(err, errno == EISDIR ? VIGIL_E_NOT_FILE : VIGIL_E_IO, "cannot open: %s",
                           strerror(errno));
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        return vigil__fail(err, VIGIL_E_IO, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        const char *kind = S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO"
                         : S_ISSOCK(st.st_mode) ? "a socket" : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                         : "not a regular file";
        return vigil__fail(err, VIGIL_E_NOT_FILE, "skipped: %s", kind);
    }
    uint64_t limit = opt->max_file_bytes ? opt->max_file_bytes : VIGIL_DEFAULT_MAX_FILE_BYTES;
    if ((uint64_t)st.st_size > limit) {
        close(fd);
        out->file_size = (uint64_t)st.st_size;
        return vigil__fail(err, VIGIL_E_TOO_LARGE, "file is %llu bytes, over the limit of %llu",
                           (unsigned long long)st.st_size, (unsigned long long)limit);
    }
    size_t cap = (size_t)st.st_size, len = 0;
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf) { close(fd); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory reading file"); }
    for (;;) {
        if (len == cap) {
            /* The file grew since fstat (or is a /proc-like file): read on up to the limit. */
            if (cap >= limit) break;
            size_t ncap = cap ? cap * 2 : 65536;
            if (ncap > limit) ncap = (size_t)limit;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) { free(buf); close(fd); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory reading file"); }
            buf = nb; cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            free(buf); close(fd);
            return vigil__fail(err, VIGIL_E_IO, "read failed: %s", strerror(e));
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    vigil_result r = vigil_hash_memory(buf, len, opt, out, err);
    free(buf);
    return r;
}
