/* video.c - videos to vPDQ: FFmpeg's libraries decode, each sampled frame becomes a PDQ hash.
 *
 * Bit-exact with Meta's vpdq-hash-video (0.2.5) by default: the first video stream, frames counted
 * as the decoder gives them out, frame n hashed when n % frameMod == 0 with frameMod = (int)(seconds
 * * fps) (0 -> 1), fps = avg_frame_rate or else r_frame_rate, timestamp n / fps, libswscale with
 * SWS_AREA to RGB24 at the frame's own size, then PDQ on that RGB buffer at that size (no 512x512
 * pre-resize). One deliberate difference: attached pictures (cover art) are not taken as the video.
 *
 * Untrusted input: FFmpeg reads only the bytes handed over, through a custom AVIOContext (memory or
 * pread on the caller's descriptor); every attempt to open another file or URL is refused (io_open),
 * no device library is linked, and only plain containers may be probed (VIGIL__VIDEO_DEMUXERS).
 * The limits are checked on what the header says before any frame is decoded, then again per frame,
 * as a header may lie. */
#include "video.h"
#include "options.h"
#include "pdq.h"
#include "png_encode.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>

void vigil_video_options_init(vigil_video_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->seconds_per_hash = 1.0;
    o->max_duration = VIGIL__VIDEO_MAX_DURATION;
    o->max_pixels = VIGIL__VIDEO_MAX_PIXELS;
    o->max_streams = VIGIL__VIDEO_MAX_STREAMS;
    o->max_decoded_bytes = VIGIL__VIDEO_MAX_DECODED;
    o->threads = 1;
}

static vigil_result take_options(const vigil_video_options *src, vigil_video_options *o, vigil_error *err)
{
    vigil_video_options_init(o);
    if (!src) return VIGIL_OK;
    vigil_result r = vigil__opt_check(src->struct_size, sizeof *o, "vigil_video_options", err);
    if (r) return r;
    VIGIL__OPT_TAKE(o, src, flags);
    VIGIL__OPT_TAKE(o, src, seconds_per_hash);
    VIGIL__OPT_TAKE(o, src, max_duration);
    VIGIL__OPT_TAKE(o, src, max_pixels);
    VIGIL__OPT_TAKE(o, src, max_streams);
    VIGIL__OPT_TAKE(o, src, max_decoded_bytes);
    VIGIL__OPT_TAKE(o, src, threads);
    VIGIL__OPT_LAST(vigil_video_options, threads);
    if (!(o->seconds_per_hash >= 0 && o->seconds_per_hash <= 1e6) || !(o->max_duration >= 0) ||
        o->threads < 1 || o->threads > 64 || (o->flags & ~(uint32_t)(VIGIL_VIDEO_FAST | VIGIL_VIDEO_DIHEDRAL)))
        return vigil__fail(err, VIGIL_E_INVALID, "vigil_video_options out of range");
    if (!o->max_pixels) o->max_pixels = VIGIL__VIDEO_MAX_PIXELS;
    if (!o->max_streams) o->max_streams = VIGIL__VIDEO_MAX_STREAMS;
    return VIGIL_OK;
}

/* The library never prints: FFmpeg's log goes nowhere (process-wide, set once). */
static void log_nothing(void *p, int level, const char *fmt, va_list ap) { (void)p; (void)level; (void)fmt; (void)ap; }
static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static void log_init(void) { av_log_set_callback(log_nothing); }

int vigil_video_sniff(const void *head, size_t n)
{
    const uint8_t *b = head;
    if (!b || n < 4) return 0;
    if (n >= 12 && !memcmp(b + 4, "ftyp", 4)) {
        /* ISO BMFF is also HEIF/AVIF: those brands are images, for libvips. */
        static const char *const images[] = {"heic", "heix", "heim", "heis", "mif1", "msf1", "avif", "avis",
                                             "hevc", "hevx", "jpeg", "avci", "crx "};
        for (size_t i = 0; i < sizeof images / sizeof *images; i++)
            if (!memcmp(b + 8, images[i], 4)) return 0;
        return 1;
    }
    if (n >= 8 && (!memcmp(b + 4, "moov", 4) || !memcmp(b + 4, "mdat", 4) || !memcmp(b + 4, "wide", 4) ||
                   !memcmp(b + 4, "free", 4)))
        return 1; /* QuickTime files without ftyp */
    if (!memcmp(b, "\x1a\x45\xdf\xa3", 4)) return 1;                                 /* Matroska, WebM */
    if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "AVI ", 4)) return 1;     /* AVI */
    if (n >= 4 && !memcmp(b, "FLV\x01", 4)) return 1;                                 /* FLV */
    if (!memcmp(b, "\x00\x00\x01\xba", 4)) return 1;                                 /* MPEG-PS */
    if (!memcmp(b, "\x30\x26\xb2\x75", 4)) return 1;                                 /* ASF, WMV */
    if (!memcmp(b, "OggS", 4)) return 1;                                             /* Ogg (Theora) */
    if (b[0] == 0x47 && n >= 377 && b[188] == 0x47 && b[376] == 0x47) return 1;        /* MPEG-TS */
    return 0;
}

/* The bytes FFmpeg may read: memory, or pread on a descriptor (never its file position). */
typedef struct vio {
    const uint8_t *data;
    int fd;
    uint64_t size, pos;
    int io_errno;
} vio;

static int vio_read(void *opaque, uint8_t *buf, int n)
{
    vio *v = opaque;
    if (v->pos >= v->size) return AVERROR_EOF;
    size_t want = (size_t)n;
    if (want > v->size - v->pos) want = (size_t)(v->size - v->pos);
    if (v->data) {
        memcpy(buf, v->data + v->pos, want);
    } else {
        ssize_t got;
        do got = pread(v->fd, buf, want, (off_t)v->pos); while (got < 0 && errno == EINTR);
        if (got < 0) { v->io_errno = errno; return AVERROR(EIO); }
        if (got == 0) { v->size = v->pos; return AVERROR_EOF; } /* the file shrank */
        want = (size_t)got;
    }
    v->pos += want;
    return (int)want;
}

static int64_t vio_seek(void *opaque, int64_t off, int whence)
{
    vio *v = opaque;
    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE) return (int64_t)v->size;
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)v->pos : whence == SEEK_END ? (int64_t)v->size : -1;
    if (base < 0 || (off > 0 && base > INT64_MAX - off) || base + off < 0) return AVERROR(EINVAL);
    v->pos = (uint64_t)(base + off);
    return (int64_t)v->pos;
}

/* A container that names another file (a reference movie, a playlist) gets nothing. */
static int refuse_open(struct AVFormatContext *s, AVIOContext **pb, const char *url, int flags, AVDictionary **options)
{
    (void)s; (void)pb; (void)url; (void)flags; (void)options;
    return AVERROR(EPERM);
}
static int refuse_close2(struct AVFormatContext *s, AVIOContext *pb) { (void)s; (void)pb; return 0; }

typedef struct job {
    vigil_video_options o;
    vigil_video_frame_fn fn;
    void *ctx;
    vigil_video_info *info;
    vigil_error *err;
    AVFormatContext *fc;
    AVCodecContext *cc;
    struct SwsContext *sws;
    AVFrame *frame;
    AVPacket *pkt;
    uint8_t *rgb;
    size_t rgb_cap;
    int vs;
    double fps, tb;
    int64_t start_pts;
    int frame_mod;
    double next_due; /* fast mode: the time stamp the next hashed frame must reach */
    uint64_t decoded_bytes;
    int stop;
    vigil_result failed; /* a limit or hashing failure that ends the decode */
} job;

static const char *av_why(int e, char *buf, size_t n)
{
    if (av_strerror(e, buf, n) < 0) snprintf(buf, n, "FFmpeg error %d", e);
    return buf;
}

static vigil_result hash_frame(job *j, const AVFrame *f, uint64_t number, double ts)
{
    const int w = f->width, h = f->height;
    j->sws = sws_getCachedContext(j->sws, w, h, (enum AVPixelFormat)f->format, w, h, AV_PIX_FMT_RGB24, SWS_AREA,
                                  NULL, NULL, NULL);
    if (!j->sws) return vigil__fail(j->err, VIGIL_E_DECODE, "frame %llu: no conversion from pixel format %s to RGB",
                                    (unsigned long long)number, av_get_pix_fmt_name((enum AVPixelFormat)f->format) ?
                                    av_get_pix_fmt_name((enum AVPixelFormat)f->format) : "?");
    size_t need = (size_t)w * h * 3 + 64;
    if (need > j->rgb_cap) {
        free(j->rgb);
        j->rgb = malloc(need);
        j->rgb_cap = j->rgb ? need : 0;
        if (!j->rgb) return vigil__fail(j->err, VIGIL_E_NOMEM, "out of memory for a %dx%d frame", w, h);
    }
    /* Rows packed (w * 3 bytes), as vpdq's av_image_alloc(..., align 1) gives them. */
    uint8_t *dst[4] = {j->rgb, NULL, NULL, NULL};
    int dst_ls[4] = {w * 3, 0, 0, 0};
    sws_scale(j->sws, (const uint8_t *const *)f->data, f->linesize, 0, h, dst, dst_ls);
    vigil_video_frame vf;
    memset(&vf, 0, sizeof vf);
    vf.frame_number = number;
    vf.timestamp = ts;
    vf.width = (uint32_t)w;
    vf.height = (uint32_t)h;
    vf.rgb = j->rgb;
    vigil__pixels px = {j->rgb, (uint32_t)w, (uint32_t)h, 3};
    vigil_result r = vigil__pdq_hash(&px, &vf.pdq, &vf.quality,
                                     (j->o.flags & VIGIL_VIDEO_DIHEDRAL) ? vf.dihedral : NULL);
    if (r == VIGIL_E_NOMEM) return vigil__fail(j->err, r, "out of memory hashing a %dx%d frame", w, h);
    if (r && r != VIGIL_E_TOO_SMALL) return vigil__fail(j->err, r, "frame %llu could not be hashed", (unsigned long long)number);
    j->info->frames_hashed++;
    if (j->fn && j->fn(&vf, j->ctx)) j->stop = 1;
    return VIGIL_OK;
}

/* Every frame the decoder has ready. */
static void drain(job *j)
{
    while (!j->stop && !j->failed) {
        int e = avcodec_receive_frame(j->cc, j->frame);
        if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) return;
        if (e < 0) { j->info->decode_errors++; return; }
        const uint64_t n = j->info->frames_decoded++;
        const AVFrame *f = j->frame;
        if ((uint64_t)f->width * (uint64_t)f->height > j->o.max_pixels) {
            j->failed = vigil__fail(j->err, VIGIL_E_TOO_LARGE, "frame %llu is %dx%d, over the limit of %llu pixels",
                                    (unsigned long long)n, f->width, f->height, (unsigned long long)j->o.max_pixels);
            break;
        }
        int fb = av_image_get_buffer_size((enum AVPixelFormat)f->format, f->width, f->height, 1);
        j->decoded_bytes += fb > 0 ? (uint64_t)fb : 0;
        if (j->o.max_decoded_bytes && j->decoded_bytes > j->o.max_decoded_bytes) {
            j->failed = vigil__fail(j->err, VIGIL_E_TOO_LARGE, "decoded frames passed the limit of %llu bytes at frame %llu",
                                    (unsigned long long)j->o.max_decoded_bytes, (unsigned long long)n);
            break;
        }
        if (j->o.flags & VIGIL_VIDEO_FAST) {
            int64_t pts = f->best_effort_timestamp;
            double ts = pts == AV_NOPTS_VALUE ? (double)n / j->fps
                                              : (double)(pts - (j->start_pts == AV_NOPTS_VALUE ? 0 : j->start_pts)) * j->tb;
            if (ts < 0) ts = 0;
            if (j->o.max_duration > 0 && ts > j->o.max_duration) {
                j->failed = vigil__fail(j->err, VIGIL_E_TOO_LARGE, "the video runs past the limit of %.0f s",
                                        j->o.max_duration);
                break;
            }
            if (ts + 1e-9 >= j->next_due) {
                j->next_due = ts + j->o.seconds_per_hash - 0.5 / j->fps;
                vigil_result r = hash_frame(j, f, (uint64_t)llround(ts * j->fps), ts);
                if (r) j->failed = r;
            }
        } else {
            const double ts = (double)n / j->fps;
            if (j->o.max_duration > 0 && ts > j->o.max_duration) {
                j->failed = vigil__fail(j->err, VIGIL_E_TOO_LARGE, "the video runs past the limit of %.0f s (frame %llu)",
                                        j->o.max_duration, (unsigned long long)n);
                break;
            }
            if (n % (uint64_t)j->frame_mod == 0) {
                vigil_result r = hash_frame(j, f, n, ts);
                if (r) j->failed = r;
            }
        }
        av_frame_unref(j->frame);
    }
    av_frame_unref(j->frame);
}

static void copy_name(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
    char *c = strchr(dst, ',');
    if (c) *c = 0;
}

static vigil_result run(job *j, vio *v)
{
    vigil_error *err = j->err;
    vigil_video_info *info = j->info;
    char why[128];
    if (v->size == 0) return vigil__fail(err, VIGIL_E_EMPTY, "empty file (0 bytes)");
    uint8_t head[512];
    size_t hn = v->size < sizeof head ? (size_t)v->size : sizeof head;
    if (v->data) memcpy(head, v->data, hn);
    else {
        ssize_t got;
        do got = pread(v->fd, head, hn, 0); while (got < 0 && errno == EINTR);
        if (got < 0) return vigil__fail(err, VIGIL_E_IO, "cannot read: %s", strerror(errno));
        hn = (size_t)got;
    }
    if (!vigil_video_sniff(head, hn)) return vigil__fail(err, VIGIL_E_FORMAT, "not a video container vigil reads");

    pthread_once(&log_once, log_init);
    const int bufsize = 1 << 16;
    uint8_t *iobuf = av_malloc(bufsize);
    AVIOContext *pb = iobuf ? avio_alloc_context(iobuf, bufsize, 0, v, vio_read, NULL, vio_seek) : NULL;
    if (!pb) { av_free(iobuf); return vigil__fail(err, VIGIL_E_NOMEM, "out of memory opening the video"); }
    vigil_result res = VIGIL_OK;
    j->fc = avformat_alloc_context();
    if (!j->fc) { res = vigil__fail(err, VIGIL_E_NOMEM, "out of memory opening the video"); goto out_pb; }
    j->fc->pb = pb;
    j->fc->flags |= AVFMT_FLAG_CUSTOM_IO;
    j->fc->io_open = refuse_open;
    j->fc->io_close2 = refuse_close2;
    /* Streams cost memory before the limit can be read off the header: FFmpeg's own cap, raised to
     * one past ours so that "too many" is ours to say. */
    j->fc->max_streams = (int)(j->o.max_streams < 1000 ? 1000 : j->o.max_streams + 1);
    AVDictionary *opts = NULL;
    av_dict_set(&opts, "format_whitelist", VIGIL__VIDEO_DEMUXERS, 0);
    av_dict_set(&opts, "protocol_whitelist", "none", 0);
    int e = avformat_open_input(&j->fc, NULL, NULL, &opts);
    av_dict_free(&opts);
    if (e < 0) {
        /* avformat_open_input freed the context on failure */
        res = vigil__fail(err, e == AVERROR_INVALIDDATA ? VIGIL_E_DECODE : VIGIL_E_FORMAT,
                          "the container cannot be read (%s): damaged, truncated, or not a video",
                          av_why(e, why, sizeof why));
        goto out_pb;
    }
    copy_name(info->format, sizeof info->format, j->fc->iformat->name);
    if (!strcmp(info->format, "mov")) snprintf(info->format, sizeof info->format, "mp4");
    if (j->fc->nb_streams > j->o.max_streams) {
        info->streams = j->fc->nb_streams;
        res = vigil__fail(err, VIGIL_E_TOO_LARGE, "%u streams, over the limit of %u", j->fc->nb_streams, j->o.max_streams);
        goto out;
    }
    /* Every stream but the video is discarded, so the probe and the demuxer skip their packets. */
    j->vs = -1;
    unsigned audio = 0;
    for (unsigned i = 0; i < j->fc->nb_streams; i++) {
        AVStream *st = j->fc->streams[i];
        if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(st->disposition & AV_DISPOSITION_ATTACHED_PIC) && j->vs < 0)
            j->vs = (int)i;
        else {
            if (st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) audio++;
            st->discard = AVDISCARD_ALL;
        }
    }
    e = avformat_find_stream_info(j->fc, NULL);
    info->streams = j->fc->nb_streams;
    if (j->fc->nb_streams > j->o.max_streams) {
        res = vigil__fail(err, VIGIL_E_TOO_LARGE, "%u streams, over the limit of %u", j->fc->nb_streams, j->o.max_streams);
        goto out;
    }
    if (j->vs < 0) { /* MPEG-TS and PS announce their streams only as they come */
        for (unsigned i = 0; i < j->fc->nb_streams && j->vs < 0; i++) {
            AVStream *st = j->fc->streams[i];
            if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
                j->vs = (int)i;
        }
        audio = 0;
        for (unsigned i = 0; i < j->fc->nb_streams; i++)
            if ((int)i != j->vs) {
                if (j->fc->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) audio++;
                j->fc->streams[i]->discard = AVDISCARD_ALL;
            }
    }
    if (j->vs < 0) {
        res = vigil__fail(err, VIGIL_E_FORMAT, "no video stream (%u stream%s, %u of them audio)", j->fc->nb_streams,
                          j->fc->nb_streams == 1 ? "" : "s", audio);
        goto out;
    }
    if (e < 0 && j->fc->streams[j->vs]->codecpar->width == 0) {
        res = vigil__fail(err, VIGIL_E_DECODE, "the video stream cannot be read (%s)", av_why(e, why, sizeof why));
        goto out;
    }
    AVStream *st = j->fc->streams[j->vs];
    const AVCodecParameters *cp = st->codecpar;
    info->width = (uint32_t)(cp->width > 0 ? cp->width : 0);
    info->height = (uint32_t)(cp->height > 0 ? cp->height : 0);
    copy_name(info->codec, sizeof info->codec, avcodec_get_name(cp->codec_id));
    AVRational fr = st->avg_frame_rate;
    if (fr.num == 0 || fr.den == 0) fr = st->r_frame_rate;
    j->fps = fr.den ? (double)fr.num / (double)fr.den : 0;
    info->fps = j->fps;
    if (j->fc->duration > 0 && j->fc->duration != AV_NOPTS_VALUE) info->duration = (double)j->fc->duration / AV_TIME_BASE;
    else if (st->duration > 0 && st->duration != AV_NOPTS_VALUE) info->duration = (double)st->duration * av_q2d(st->time_base);
    if (cp->width <= 0 || cp->height <= 0) {
        res = vigil__fail(err, VIGIL_E_DECODE, "the video stream has no frame size (%dx%d)", cp->width, cp->height);
        goto out;
    }
    if (!(j->fps > 0) || !isfinite(j->fps) || j->fps > 1e6) {
        res = vigil__fail(err, VIGIL_E_DECODE, "the video stream has no usable frame rate (%d/%d)", fr.num, fr.den);
        goto out;
    }
    if ((uint64_t)cp->width * (uint64_t)cp->height > j->o.max_pixels) {
        res = vigil__fail(err, VIGIL_E_TOO_LARGE, "frames are %dx%d, over the limit of %llu pixels", cp->width, cp->height,
                          (unsigned long long)j->o.max_pixels);
        goto out;
    }
    if (j->o.max_duration > 0 && info->duration > j->o.max_duration) {
        res = vigil__fail(err, VIGIL_E_TOO_LARGE, "the video is %.0f s long, over the limit of %.0f s", info->duration,
                          j->o.max_duration);
        goto out;
    }
    {
        double frames = st->nb_frames > 0 ? (double)st->nb_frames : info->duration * j->fps;
        int fb = av_image_get_buffer_size(cp->format >= 0 ? (enum AVPixelFormat)cp->format : AV_PIX_FMT_YUV420P,
                                          cp->width, cp->height, 1);
        double bytes = frames * (fb > 0 ? fb : 1.5 * cp->width * cp->height);
        if (j->o.max_decoded_bytes && bytes > (double)j->o.max_decoded_bytes) {
            res = vigil__fail(err, VIGIL_E_TOO_LARGE, "its %.0f frames would decode to %.3g bytes, over the limit of %llu",
                              frames, bytes, (unsigned long long)j->o.max_decoded_bytes);
            goto out;
        }
    }
    const AVCodec *codec = avcodec_find_decoder(cp->codec_id);
    if (!codec) {
        res = vigil__fail(err, VIGIL_E_FORMAT, "no decoder for its %s video", info->codec);
        goto out;
    }
    j->cc = avcodec_alloc_context3(codec);
    if (!j->cc || avcodec_parameters_to_context(j->cc, cp) < 0) {
        res = vigil__fail(err, VIGIL_E_NOMEM, "out of memory for the decoder");
        goto out;
    }
    j->cc->thread_count = j->o.threads;
    if (j->o.threads > 1) j->cc->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    if (j->o.flags & VIGIL_VIDEO_FAST) j->cc->skip_frame = AVDISCARD_NONKEY;
    e = avcodec_open2(j->cc, codec, NULL);
    if (e < 0) {
        res = vigil__fail(err, VIGIL_E_DECODE, "its %s decoder refuses the stream (%s)", info->codec, av_why(e, why, sizeof why));
        goto out;
    }
    j->frame = av_frame_alloc();
    j->pkt = av_packet_alloc();
    if (!j->frame || !j->pkt) { res = vigil__fail(err, VIGIL_E_NOMEM, "out of memory for the decoder"); goto out; }
    /* The video's own length: its stream's duration, or the container's when it holds nothing else. */
    double stream_secs = st->duration > 0 && st->duration != AV_NOPTS_VALUE ? (double)st->duration * av_q2d(st->time_base)
                       : j->fc->nb_streams == 1 ? info->duration : 0;
    if (stream_secs <= 0) {
        AVDictionaryEntry *d = av_dict_get(st->metadata, "DURATION", NULL, 0); /* Matroska's per-track tag */
        unsigned hh, mm;
        double ss;
        if (d && sscanf(d->value, "%u:%u:%lf", &hh, &mm, &ss) == 3) stream_secs = hh * 3600.0 + mm * 60.0 + ss;
    }
    j->tb = av_q2d(st->time_base);
    j->start_pts = st->start_time;
    j->frame_mod = (int)(j->o.seconds_per_hash * j->fps);
    if (j->frame_mod <= 0) j->frame_mod = 1;

    int read_err = 0;
    uint64_t at_err = 0;
    int first_send_err = 0;
    while (!j->stop && !j->failed) {
        e = av_read_frame(j->fc, j->pkt);
        if (e == AVERROR(EAGAIN)) continue;
        if (e < 0) { if (e != AVERROR_EOF) { read_err = e; at_err = info->frames_decoded; } break; }
        /* Fast mode: a packet that is not a key frame never reaches the decoder (skip_frame alone
         * still has it parse every slice; measured in bench/results/video.md). */
        if (j->pkt->stream_index == j->vs &&
            (!(j->o.flags & VIGIL_VIDEO_FAST) || (j->pkt->flags & AV_PKT_FLAG_KEY))) {
            int s = avcodec_send_packet(j->cc, j->pkt);
            if (s < 0 && s != AVERROR(EAGAIN)) {
                info->decode_errors++;
                if (!first_send_err) { first_send_err = s; }
            }
            drain(j);
        }
        av_packet_unref(j->pkt);
    }
    if (!j->stop && !j->failed) {
        avcodec_send_packet(j->cc, NULL);
        drain(j);
    }
    if (j->failed) { res = j->failed; goto out; }
    if (j->stop) goto out;
    if (v->io_errno) {
        res = vigil__fail(err, VIGIL_E_IO, "read failed after frame %llu: %s", (unsigned long long)info->frames_decoded,
                          strerror(v->io_errno));
    } else if (read_err) {
        res = vigil__fail(err, VIGIL_E_DECODE, "damaged or truncated: the container stops making sense after frame %llu (%s)",
                          (unsigned long long)at_err, av_why(read_err, why, sizeof why));
    } else if (!(j->o.flags & VIGIL_VIDEO_FAST) && st->nb_frames > 0 && info->frames_decoded < (uint64_t)st->nb_frames) {
        res = vigil__fail(err, VIGIL_E_DECODE, "truncated or damaged: %llu of the %lld frames its header lists decoded",
                          (unsigned long long)info->frames_decoded, (long long)st->nb_frames);
    } else if (!(j->o.flags & VIGIL_VIDEO_FAST) && st->nb_frames <= 0 && stream_secs > 0 &&
               (double)info->frames_decoded / j->fps < stream_secs - fmax(1.0, 3.0 / j->fps)) {
        /* Containers without a frame count (Matroska, AVI, TS): the time its header gives */
        res = vigil__fail(err, VIGIL_E_DECODE, "truncated or damaged: its frames stop at %.3f s of the %.3f s its header gives",
                          (double)info->frames_decoded / j->fps, stream_secs);
    } else if (info->frames_decoded == 0) {
        res = vigil__fail(err, VIGIL_E_DECODE, "no frame decoded%s%s", first_send_err ? ": " : "",
                          first_send_err ? av_why(first_send_err, why, sizeof why) : "");
    } else if (info->decode_errors) {
        res = vigil__fail(err, VIGIL_E_DECODE, "damaged: %llu packets did not decode (%s); %llu frames did",
                          (unsigned long long)info->decode_errors,
                          first_send_err ? av_why(first_send_err, why, sizeof why) : "decoder error",
                          (unsigned long long)info->frames_decoded);
    }
out:
    av_packet_free(&j->pkt);
    av_frame_free(&j->frame);
    avcodec_free_context(&j->cc);
    sws_freeContext(j->sws);
    j->sws = NULL;
    free(j->rgb);
    j->rgb = NULL;
    avformat_close_input(&j->fc);
out_pb:
    if (pb) av_freep(&pb->buffer);
    avio_context_free(&pb);
    return res;
}

static vigil_result start(vio *v, const vigil_video_options *opt, vigil_video_frame_fn fn, void *ctx,
                          vigil_video_info *info, vigil_error *err)
{
    vigil_video_info dummy;
    if (!info) info = &dummy;
    memset(info, 0, sizeof *info);
    job j;
    memset(&j, 0, sizeof j);
    vigil_result r = take_options(opt, &j.o, err);
    if (r) return r;
    j.fn = fn;
    j.ctx = ctx;
    j.info = info;
    j.err = err;
    return run(&j, v);
}

vigil_result vigil_video_hash_memory(const void *data, size_t size, const vigil_video_options *opt,
                                     vigil_video_frame_fn fn, void *ctx, vigil_video_info *info, vigil_error *err)
{
    if (!data && size) return vigil__fail(err, VIGIL_E_INVALID, "no data");
    static const uint8_t none[1];
    vio v = {data ? data : none, -1, size, 0, 0};
    return start(&v, opt, fn, ctx, info, err);
}

vigil_result vigil_video_hash_fd(int fd, const vigil_video_options *opt, vigil_video_frame_fn fn, void *ctx,
                                 vigil_video_info *info, vigil_error *err)
{
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) return vigil__fail(err, VIGIL_E_IO, "cannot stat: %s", strerror(fd < 0 ? EBADF : errno));
    if (!S_ISREG(sb.st_mode)) return vigil__fail(err, VIGIL_E_NOT_FILE, "is %s, not a regular file", vigil__file_kind(sb.st_mode));
    vio v = {NULL, fd, (uint64_t)sb.st_size, 0, 0};
    return start(&v, opt, fn, ctx, info, err);
}

vigil_result vigil_video_hash_file(const char *path, const vigil_video_options *opt, vigil_video_frame_fn fn,
                                   void *ctx, vigil_video_info *info, vigil_error *err)
{
    if (!path) return vigil__fail(err, VIGIL_E_INVALID, "no path");
    int fd;
    uint64_t size;
    vigil_result r = vigil__open_regular(path, 0, &fd, &size, err);
    if (r) {
        if (info) memset(info, 0, sizeof *info);
        return r;
    }
    r = vigil_video_hash_fd(fd, opt, fn, ctx, info, err);
    close(fd);
    return r;
}

typedef struct thumb_ctx {
    const vigil_pdq *want;
    int max_side;
    uint8_t *png;
    size_t n;
    vigil_result r;
    vigil_error *err;
} thumb_ctx;

static int thumb_frame(const vigil_video_frame *f, void *p)
{
    thumb_ctx *t = p;
    if (t->want && memcmp(&f->pdq, t->want, sizeof f->pdq)) return 0;
    int w = (int)f->width, h = (int)f->height, tw = w, th = h;
    if (w > t->max_side || h > t->max_side) {
        if (w >= h) { tw = t->max_side; th = (int)((double)h * t->max_side / w + 0.5); }
        else { th = t->max_side; tw = (int)((double)w * t->max_side / h + 0.5); }
        if (tw < 1) tw = 1;
        if (th < 1) th = 1;
    }
    struct SwsContext *c = sws_getContext(w, h, AV_PIX_FMT_RGB24, tw, th, AV_PIX_FMT_RGB24, SWS_AREA, NULL, NULL, NULL);
    uint8_t *small = malloc((size_t)tw * th * 3 + 64);
    if (!c || !small) {
        sws_freeContext(c);
        free(small);
        t->r = vigil__fail(t->err, VIGIL_E_NOMEM, "out of memory for a thumbnail");
        return 1;
    }
    const uint8_t *src[4] = {f->rgb, NULL, NULL, NULL};
    int sls[4] = {w * 3, 0, 0, 0};
    uint8_t *dst[4] = {small, NULL, NULL, NULL};
    int dls[4] = {tw * 3, 0, 0, 0};
    sws_scale(c, src, sls, 0, h, dst, dls);
    sws_freeContext(c);
    t->r = vigil__png_encode(small, (uint32_t)tw, (uint32_t)th, (size_t)tw * 3, 3, &t->png, &t->n, t->err);
    free(small);
    return 1;
}

/* The thumbnail from the file at path, or from data[0..size) when path is NULL. */
static vigil_result frame_png(const char *path, const void *data, size_t size, const vigil_pdq *want, int max_side,
                              uint8_t **png, size_t *png_size, vigil_error *err)
{
    if (!png || !png_size || max_side < 1) return vigil__fail(err, VIGIL_E_INVALID, "vigil_video_frame_png: bad arguments");
    *png = NULL;
    *png_size = 0;
    thumb_ctx t = {want, max_side, NULL, 0, VIGIL_E_NOT_FOUND, err};
    vigil_result r = path ? vigil_video_hash_file(path, NULL, thumb_frame, &t, NULL, err)
                          : vigil_video_hash_memory(data, size, NULL, thumb_frame, &t, NULL, err);
    if (t.r == VIGIL_OK) { *png = t.png; *png_size = t.n; return VIGIL_OK; }
    if (t.r == VIGIL_E_NOT_FOUND) return r ? r : vigil__fail(err, VIGIL_E_NOT_FOUND, "no frame with that hash");
    return t.r;
}

vigil_result vigil_video_frame_png(const char *path, const vigil_pdq *want, int max_side, uint8_t **png,
                                   size_t *png_size, vigil_error *err)
{
    if (!path) return vigil__fail(err, VIGIL_E_INVALID, "no path");
    return frame_png(path, NULL, 0, want, max_side, png, png_size, err);
}

vigil_result vigil_video_frame_png_memory(const void *data, size_t size, const vigil_pdq *want, int max_side,
                                          uint8_t **png, size_t *png_size, vigil_error *err)
{
    return frame_png(NULL, data, size, want, max_side, png, png_size, err);
}
