/* hasher.c - one file in, one vigil_hash_result out: read once, digest, decode, PDQ. Files over
 * 1 GiB are digested in a stream instead of held in memory. The same read and the same decode
 * also serve the local features (vigil_hash_file_features): the decode hands its rows to PDQ's
 * grid and to a view (view.c) at the features' working size, so a scan with a room index reads
 * and decodes each file once, and the hash and the features always describe the same bytes.
 * Other pictures of the file hang off the same decode as more sinks of vigil__load_each (see
 * `extra` in decode_and_hash). */
#include "digest.h"
#include "features_impl.h"
#include "internal.h"
#include "load.h"
#include "options.h"
#include "pdq.h"
#include "view.h"
#include "thumb.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void vigil_hash_options_init(vigil_hash_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
    opt->max_pixels = VIGIL_DEFAULT_MAX_PIXELS;
}

/* The caller's options (NULL: defaults) as this build's struct: take_fields (options.h); a
 * thumbnail asked for starts empty. */
#define HASH_OPTION_FIELDS(X) X(flags) X(max_pixels) X(max_file_bytes) X(before_decode) X(before_decode_ctx) \
    X(thumb_side) X(thumb)
VIGIL__OPTIONS_READER(take_fields, vigil_hash_options, vigil_hash_options_init, HASH_OPTION_FIELDS, thumb)
static vigil_result take_options(const vigil_hash_options *in, vigil_hash_options *o, vigil_error *err)
{
    vigil_result r = take_fields(in, o, err);
    if (!r && o->thumb) memset(o->thumb, 0, sizeof *o->thumb);
    return r;
}

/* What else the decode feeds: the features' view, when they are asked for and made from this
 * decode (feat non-NULL). done is set once the features are settled here (made, or their error
 * set); otherwise features_too decides. */
typedef struct also {
    const vigil_features_options *fo; /* taken */
    vigil_features *f;
    vigil_error *ferr;
    vigil__view view;
    int on, done;
} also;

/* The review thumbnail's one need from the decode besides PDQ's grid: the EXIF orientation, for
 * display (the hash ignores it). A sink that keeps it and wants no rows of its own (side 0). */
static vigil_result orientation_begin(void *ctx, const vigil__decoded *d, vigil_error *err)
{
    (void)err;
    *(int *)ctx = d->orientation;
    return VIGIL_OK;
}
static void orientation_row(void *ctx, uint32_t y, const void *row) { (void)ctx; (void)y; (void)row; }

/* Decode and PDQ, once the digests are known; and the features from the same decode. */
static vigil_result decode_and_hash(const vigil__input *in, const vigil_hash_options *opt, vigil_hash_result *out,
                                    vigil_error *err, also *feat)
{
    if (opt->flags & VIGIL_HASH_NO_PDQ)
        return VIGIL_OK;
    if (opt->before_decode && !opt->before_decode(out, opt->before_decode_ctx))
        return VIGIL_OK;

    vigil__pixels px;
    /* The sinks of this decode; a review thumbnail (issue 19) is one more vigil__view here. */
    vigil__sink extra[2];
    int nextra = 0, orientation = 1;
    const int want_thumb = opt->thumb && opt->thumb_side > 0 && opt->thumb_side <= 4096;
    if (want_thumb) extra[nextra++] = (vigil__sink){orientation_begin, orientation_row, &orientation, 0};
    if (feat && feat->on) {
        vigil__view_init(&feat->view, feat->fo->work_side, 1);
        extra[nextra++] = vigil__view_sink(&feat->view);
    }
    int fed = 0;
    vigil_result r = vigil__load_each(in, !!(opt->flags & VIGIL_HASH_EXACT),
                                      opt->max_pixels ? opt->max_pixels : VIGIL_DEFAULT_MAX_PIXELS, &px, extra, nextra,
                                      &fed, out, err);
    if (feat && feat->on) {
        if (!r) {
            vigil_result fr = VIGIL_OK;
            if (!fed) { /* PDQ's decode is not the features' (see vigil__load_each): theirs, as vigil_features_memory's */
                vigil_hash_result info;
                memset(&info, 0, sizeof info);
                vigil__view_free(&feat->view);
                vigil__view_init(&feat->view, feat->fo->work_side, 1);
                fr = vigil__load_each(in, 0, VIGIL_DEFAULT_MAX_PIXELS, NULL, extra, nextra, NULL, &info, feat->ferr);
            }
            if (!fr) fr = vigil__view_finish(&feat->view, feat->ferr);
            if (!fr) fr = vigil__features_from_view(feat->view.px, feat->view.w, feat->view.h, feat->view.W,
                                                    feat->view.H, feat->fo, feat->f, feat->ferr);
            if (!fr) { feat->ferr->code = VIGIL_OK; feat->ferr->message[0] = 0; }
            else memset(feat->f, 0, sizeof *feat->f);
            feat->done = 1;
        }
        vigil__view_free(&feat->view);
    }
    if (r) return r;
    if (want_thumb) /* the review's picture, same pixels, shown as a person saw the photo */
        vigil__thumb_from_grid(&px, out->width, out->height, opt->thumb_side, orientation, opt->thumb);
    int want_dih = !!(opt->flags & VIGIL_HASH_DIHEDRAL);
    r = vigil__pdq_hash(&px, &out->pdq, &out->quality, want_dih ? out->dihedral : NULL);
    free(px.px);
    if (r == VIGIL_E_TOO_SMALL)
        return vigil__fail(err, r, "image is %ux%u; PDQ needs at least 5x5", out->width, out->height);
    if (r) return vigil__fail(err, r, "out of memory while hashing");
    out->have |= VIGIL_HAVE_PDQ | (want_dih ? VIGIL_HAVE_DIHEDRAL : 0);
    return VIGIL_OK;
}

/* Digests, decode and PDQ of bytes in memory, with options already taken and out cleared. */
static vigil_result hash_bytes(const void *data, size_t size, const vigil_hash_options *opt, vigil_hash_result *out,
                               vigil_error *err, also *feat)
{
    out->file_size = size;
    if (!(opt->flags & VIGIL_HASH_NO_DIGESTS))
        vigil__digests(data, size, out);
    if (size == 0)
        return vigil__fail(err, VIGIL_E_EMPTY, "empty file");
    const vigil__input in = {data, size, -1};
    return decode_and_hash(&in, opt, out, err, feat);
}

vigil_result vigil_hash_memory(const void *data, size_t size, const vigil_hash_options *opt,
                               vigil_hash_result *out, vigil_error *err)
{
    if (!out || (!data && size))
        return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    memset(out, 0, sizeof *out);
    vigil_hash_options def;
    vigil_result ro = take_options(opt, &def, err);
    if (ro) return ro;
    return hash_bytes(data, size, &def, out, err, NULL);
}

/* Whether the file is not as it was at open: another size or modification time. */
static int moved_on(int fd, const struct stat *was)
{
    struct stat now;
    if (fstat(fd, &now)) return 1;
    return now.st_size != was->st_size || now.st_mtim.tv_sec != was->st_mtim.tv_sec ||
           now.st_mtim.tv_nsec != was->st_mtim.tv_nsec;
}

/* A file too big to hold: digests as it is read, then the decoder reads it from the file. */
static vigil_result hash_stream(int fd, const struct stat *st, const vigil_hash_options *opt, vigil_hash_result *out,
                                vigil_error *err)
{
    uint64_t len = (uint64_t)st->st_size;
    out->file_size = len;
    if (!(opt->flags & VIGIL_HASH_NO_DIGESTS)) {
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        vigil_result r = vigil__digest_fd(fd, &len, out, err);
        if (r) return r;
        out->file_size = len;
        if (len != (uint64_t)st->st_size || moved_on(fd, st)) out->file_flags |= VIGIL_FILE_CHANGED;
    }
    if (len == 0)
        return vigil__fail(err, VIGIL_E_EMPTY, "empty file (it had %llu bytes when opened)",
                           (unsigned long long)st->st_size);
    const vigil__input in = {NULL, 0, fd};
    vigil_result r = decode_and_hash(&in, opt, out, err, NULL);
    if (moved_on(fd, st)) out->file_flags |= VIGIL_FILE_CHANGED;
    return r;
}

static uint64_t whole_read_max(void)
{
    const char *s = getenv("VIGIL_TEST_STREAM_ABOVE");
    if (s && *s) {
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (!*end) return v;
    }
    return VIGIL__WHOLE_READ_MAX;
}

/* Reads fd to the end, not just st_size bytes: a file that grows is read as far as it goes (up to
 * one byte past `whole`), and *changed says so. The byte to spare sees the end of a file that kept
 * its size without growing the buffer. */
static vigil_result read_whole(int fd, const struct stat *st, uint64_t whole, uint8_t **out, size_t *n, int *changed,
                               vigil_error *err)
{
    size_t cap = (size_t)st->st_size + 1, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) return vigil__fail(err, VIGIL_E_NOMEM, "out of memory reading file");
    for (;;) {
        if (len == cap) {
            if (len > whole) break;
            size_t ncap = cap < 32768 ? 65536 : cap * 2;
            if (ncap > whole + 1) ncap = (size_t)whole + 1;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) { free(buf); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory reading file"); }
            buf = nb; cap = ncap;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            return vigil__fail(err, VIGIL_E_IO, "read failed: %s", strerror(e));
        }
        if (r == 0) break;
        len += (size_t)r;
        if (vigil__test_read_hook) vigil__test_read_hook(len);
    }
    *changed = len != (size_t)st->st_size || moved_on(fd, st);
    *out = buf;
    *n = len;
    return VIGIL_OK;
}

/* Why there are no features, when decode_and_hash did not settle them (feat->done): the hash
 * failed, the file was too big to hold, or it was not decoded. */
static void features_too(const uint8_t *buf, size_t len, vigil_result hash_rc, const vigil_hash_result *out,
                         const vigil_error *hash_err, const vigil_features_options *fo, vigil_features *f,
                         vigil_error *ferr, const also *feat)
{
    vigil_error tmp;
    if (!ferr) ferr = &tmp;
    if (hash_rc) { vigil_features_free(f); *ferr = *hash_err; return; }
    if (!buf) { vigil__fail(ferr, VIGIL_E_TOO_LARGE, "file over the whole-read limit (1 GiB): not held, no features"); return; }
    if (!(out->have & VIGIL_HAVE_PDQ)) { vigil__fail(ferr, VIGIL_E_NOT_FOUND, "not decoded: no features"); return; }
    if (feat && feat->done) {
        if (ferr != feat->ferr) *ferr = *feat->ferr;
        return;
    }
    vigil__fail(ferr, VIGIL_E_INTERNAL, "decoded, but no features were made");
}

/* vigil_hash_file, and with f the features of the same bytes (vigil_hash_file_features). */
static vigil_result hash_path(const char *path, const vigil_hash_options *opt, vigil_hash_result *out, vigil_error *err,
                              const vigil_features_options *fo, vigil_features *f, vigil_error *ferr)
{
    vigil_hash_options def;
    vigil_error herr;
    if (!err) err = &herr;
    if (f) memset(f, 0, sizeof *f);
    if (!path || !out) {
        vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
        if (f) features_too(NULL, 0, VIGIL_E_INVALID, out, err, fo, f, ferr, NULL);
        return VIGIL_E_INVALID;
    }
    memset(out, 0, sizeof *out);
    vigil_result r;
    uint8_t *buf = NULL;
    size_t len = 0;
    if ((r = take_options(opt, &def, err))) goto done;
    opt = &def;
    /* O_NONBLOCK: opening a FIFO must not hang the scan; the type is checked right after. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        r = vigil__fail(err, errno == EISDIR ? VIGIL_E_NOT_FILE : VIGIL_E_IO, "cannot open: %s", strerror(errno));
        goto done;
    }
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        r = vigil__fail(err, VIGIL_E_IO, "cannot stat: %s", strerror(e));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        const char *kind = S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO"
                         : S_ISSOCK(st.st_mode) ? "a socket" : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                         : "not a regular file";
        r = vigil__fail(err, VIGIL_E_NOT_FILE, "skipped: %s", kind);
        goto done;
    }
    if (opt->max_file_bytes && (uint64_t)st.st_size > opt->max_file_bytes) {
        close(fd);
        out->file_size = (uint64_t)st.st_size;
        r = vigil__fail(err, VIGIL_E_TOO_LARGE, "file is %llu bytes, over the limit of %llu",
                        (unsigned long long)st.st_size, (unsigned long long)opt->max_file_bytes);
        goto done;
    }
    const uint64_t whole = whole_read_max();
    if ((uint64_t)st.st_size > whole) {
        r = hash_stream(fd, &st, opt, out, err);
        close(fd);
        goto done;
    }
    int changed;
    r = read_whole(fd, &st, whole, &buf, &len, &changed, err);
    close(fd);
    if (r) goto done;
    /* The features from the hash's decode, unless their options are refused (that is then their
     * error). */
    vigil_features_options ftaken;
    vigil_error fe_own;
    also feat = {&ftaken, f, ferr ? ferr : &fe_own, {0}, 0, 0};
    if (f) {
        if (vigil__features_options(fo, &ftaken, feat.ferr)) feat.done = 1;
        else feat.on = 1;
    }
    r = hash_bytes(buf, len, opt, out, err, f ? &feat : NULL); /* opt already taken, out already cleared */
    if (changed) out->file_flags |= VIGIL_FILE_CHANGED;
    if (f) features_too(buf, len, r, out, err, fo, f, ferr, &feat);
    free(buf);
    return r;
done:
    if (f) features_too(buf, len, r, out, err, fo, f, ferr, NULL);
    free(buf);
    return r;
}

vigil_result vigil_hash_file(const char *path, const vigil_hash_options *opt, vigil_hash_result *out,
                             vigil_error *err)
{
    return hash_path(path, opt, out, err, NULL, NULL, NULL);
}

vigil_result vigil_hash_file_features(const char *path, const vigil_hash_options *opt, const vigil_features_options *fopt,
                                      vigil_hash_result *out, vigil_features *features, vigil_error *features_err,
                                      vigil_error *err)
{
    if (!features) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    return hash_path(path, opt, out, err, fopt, features, features_err);
}

vigil_result vigil_hash_memory_features(const void *data, size_t size, const vigil_hash_options *hopt,
                                        const vigil_features_options *fopt, vigil_hash_result *out,
                                        vigil_features *features, vigil_error *features_err, vigil_error *err)
{
    vigil_error herr;
    if (!err) err = &herr;
    if (!features || !out || (!data && size)) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    memset(features, 0, sizeof *features);
    memset(out, 0, sizeof *out);
    vigil_hash_options def;
    vigil_result r = take_options(hopt, &def, err);
    if (r) {
        features_too(data, size, r, out, err, fopt, features, features_err, NULL);
        return r;
    }
    /* one decode for both, as hash_path */
    vigil_features_options ftaken;
    vigil_error fe_own;
    also feat = {&ftaken, features, features_err ? features_err : &fe_own, {0}, 0, 0};
    if (vigil__features_options(fopt, &ftaken, feat.ferr)) feat.done = 1;
    else feat.on = 1;
    r = hash_bytes(data, size, &def, out, err, &feat);
    features_too(data, size, r, out, err, fopt, features, features_err, &feat);
    return r;
}

vigil_result vigil_features_file(const char *path, const vigil_features_options *opt, vigil_features *out,
                                 vigil_error *err)
{
    if (!path || !out) return vigil__fail(err, VIGIL_E_INVALID, "invalid argument");
    memset(out, 0, sizeof *out);
    int fd;
    uint64_t size;
    const uint64_t whole = VIGIL__WHOLE_READ_MAX;
    vigil_result r = vigil__open_regular(path, whole, &fd, &size, err);
    if (r) return r;
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        return vigil__fail(err, VIGIL_E_IO, "cannot stat: %s", strerror(e));
    }
    uint8_t *buf;
    size_t len;
    int changed;
    r = read_whole(fd, &st, whole, &buf, &len, &changed, err);
    close(fd);
    if (r) return r;
    if (len > whole) r = vigil__fail(err, VIGIL_E_TOO_LARGE, "file grew past the limit of %llu bytes while read",
                                     (unsigned long long)whole);
    else if (!len) r = vigil__fail(err, VIGIL_E_EMPTY, "empty file");
    else r = vigil_features_memory(buf, len, opt, out, err);
    free(buf);
    return r;
}
