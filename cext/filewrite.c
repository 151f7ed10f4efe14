/*
 * The disk writer's C: frames from the capture ring into one sound file.
 *
 * Not realtime code.  The disk writer (jackrec/writer.py, a Python thread)
 * calls jr_files_write once per take with every frame it has to write (one
 * call for each of the ring's two regions), with the GIL released, and this
 * does all the per-sample work in one pass: picks each file's channels out
 * of the ring's frames, measures the take's peaks and clips, converts the
 * samples and hands them to libsndfile in writes of at most a file's
 * scratch buffer.  Python keeps every
 * decision (which frames, which take, commands, gaps, triggers) and does
 * no per-block work.
 *
 * Sample conversion (integers): full scale is 2^(bits-1) both ways; a
 * sample is scaled (plus its dither, if any), rounded to nearest with ties
 * to even, and clipped to [-2^(bits-1), 2^(bits-1) - 1], so every float on
 * the integer grid survives the round trip.  Clipping first and rounding
 * after gives the same result, since the limits are integers; a NaN
 * becomes the lowest value.
 *
 * libsndfile is reached through function pointers taken from the library
 * soundfile loaded (jr_sndfile_api_t), so the process has one libsndfile
 * and the build needs no libsndfile headers.  WAV, RF64 and W64 files get
 * their samples packed here and written with sf_write_raw (on a
 * little-endian host): libsndfile would otherwise convert 24-bit samples
 * in 8 KiB pieces, a system call each.
 */
#include "jackrec_core.h"

#include <math.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Round to nearest, ties to even, without a call to rint() per sample:
 * adding 1.5 * 2^52 leaves no bits below the units place, in the current
 * (default: nearest-even) rounding mode.  Exact for |s| < 2^51. */
static inline double round_even(double s)
{
    const double magic = 6755399441055744.0;
    return (s + magic) - magic;
}

static inline double clamp(double s, double lo, double hi)
{
    s = s >= lo ? s : lo; /* a NaN fails the test: lo */
    return s <= hi ? s : hi;
}

/* Peaks and clips of one frame's `n` samples, into the take's.  Four at a
 * time (GCC's -O2 leaves a loop of unknown length scalar); clips are rare,
 * so they are counted one by one when a group has any.  A NaN leaves the
 * peak as it is, in both loops. */
static inline void measure(const float *restrict x, uint32_t n, float *restrict peaks,
                           uint64_t *restrict clips)
{
    uint32_t c = 0;
#ifdef __SSE2__
    const __m128 magnitude = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
    const __m128 one = _mm_set1_ps(1.0f);
    for (; c + 4 <= n; c += 4) {
        __m128 a = _mm_and_ps(_mm_loadu_ps(x + c), magnitude);
        /* max(a, peak) is peak when a is a NaN */
        _mm_storeu_ps(peaks + c, _mm_max_ps(a, _mm_loadu_ps(peaks + c)));
        for (int over = _mm_movemask_ps(_mm_cmpge_ps(a, one)); over; over &= over - 1)
            clips[c + (uint32_t)__builtin_ctz((unsigned)over)]++;
    }
#endif
    for (; c < n; c++) {
        float a = fabsf(x[c]);
        peaks[c] = a > peaks[c] ? a : peaks[c];
        clips[c] += a >= 1.0f;
    }
}

/* The integers of `n` samples (without dither) at `scale` = 2^(bits-1).
 * Four at a time in float arithmetic where that is exact (16 and 24 bits:
 * the scaling is by a power of two, and the limits and every integer
 * below 2^24 are floats), rounded by the processor's conversion, which
 * rounds to nearest with ties to even (the default mode, as round_even);
 * max() returns its second operand for a NaN, as clamp() does. */
static void to_integers(const float *x, uint32_t n, double scale, int32_t *out)
{
    double lo = -scale, hi = scale - 1.0;
    uint32_t c = 0;
#ifdef __SSE2__
    if (scale <= 8388608.0) {
        __m128 s = _mm_set1_ps((float)scale), low = _mm_set1_ps((float)lo);
        __m128 high = _mm_set1_ps((float)hi);
        for (; c + 4 <= n; c += 4) {
            __m128 v = _mm_mul_ps(_mm_loadu_ps(x + c), s);
            v = _mm_min_ps(_mm_max_ps(v, low), high);
            _mm_storeu_si128((__m128i *)(out + c), _mm_cvtps_epi32(v));
        }
    }
#endif
    for (; c < n; c++)
        out[c] = (int32_t)round_even(clamp((double)x[c] * scale, lo, hi));
}

/* One frame's `n` samples into `out` in the file's sample format; returns
 * the bytes written.  `noise`: the frame's dither (NULL: none). */
static size_t encode(const jr_file_writer_t *w, const float *x, uint32_t n,
                     const double *noise, unsigned char *out)
{
    if (w->bits == 0) {
        memcpy(out, x, n * sizeof(float));
        return n * sizeof(float);
    }
    double scale = (double)(1u << (w->bits - 1));
    if (w->bits == 16 && noise) {
        int16_t *s16 = (int16_t *)out;
        for (uint32_t c = 0; c < n; c++)
            s16[c] = (int16_t)round_even(clamp((double)x[c] * scale + noise[c], -scale,
                                               scale - 1.0));
        return n * sizeof(int16_t);
    }
    int32_t *v = w->integers;
    to_integers(x, n, scale, v);
    if (w->bits == 16) {
        int16_t *s16 = (int16_t *)out;
        for (uint32_t c = 0; c < n; c++)
            s16[c] = (int16_t)v[c];
        return n * sizeof(int16_t);
    }
    if (w->bits == 24 && w->raw) {
        /* three bytes, little-endian (the host's order: raw is only used on
         * one): each sample stored as four, the fourth overwritten by the
         * next sample's first; the last one byte by byte */
        for (uint32_t c = 0; c + 1 < n; c++)
            memcpy(out + 3 * c, &v[c], sizeof v[c]);
        out[3 * n - 3] = (unsigned char)v[n - 1];
        out[3 * n - 2] = (unsigned char)(v[n - 1] >> 8);
        out[3 * n - 1] = (unsigned char)(v[n - 1] >> 16);
        return 3u * n;
    }
    /* 32 bits, or 24 in the top bits of an int, as sf_writef_int takes them */
    int32_t *s32 = (int32_t *)out;
    uint32_t shift = 32u - w->bits;
    for (uint32_t c = 0; c < n; c++)
        s32[c] = (int32_t)((uint32_t)v[c] << shift);
    return n * sizeof(int32_t);
}

size_t jr_sample_bytes(uint32_t bits, int raw)
{
    if (bits == 16)
        return 2;
    return bits == 24 && raw ? 3 : 4;
}

/* Hands `bytes` bytes of encoded frames at `data` to libsndfile; 0, or -1
 * when it wrote less. */
static int hand_over(const jr_file_writer_t *w, void *data, size_t bytes)
{
    const jr_sndfile_api_t *api = w->api;
    int64_t frames = (int64_t)(bytes / (w->channels * jr_sample_bytes(w->bits, w->raw)));
    if (bytes == 0)
        return 0;
    if (w->raw)
        return api->write_raw(w->sndfile, data, (int64_t)bytes) == (int64_t)bytes ? 0 : -1;
    if (w->bits == 0)
        return api->writef_float(w->sndfile, data, frames) == frames ? 0 : -1;
    if (w->bits == 16)
        return api->writef_short(w->sndfile, data, frames) == frames ? 0 : -1;
    return api->writef_int(w->sndfile, data, frames) == frames ? 0 : -1;
}

/* Hands the file's scratch to libsndfile and empties it. */
static int flush(jr_file_writer_t *w)
{
    size_t bytes = w->filled;
    w->filled = 0;
    return hand_over(w, w->scratch, bytes);
}

/* Whether file channel c is column map[0] + c: the common case. */
static int contiguous(const jr_file_writer_t *w)
{
    for (uint32_t c = 1; c < w->channels; c++)
        if (w->map[c] != w->map[0] + c)
            return 0;
    return 1;
}

/* Frames [from, to) of the call into the file's scratch (with room for
 * them: see jr_files_write). */
static void encode_rows(jr_file_writer_t *w, const float *frames, uint64_t from, uint64_t to,
                        uint32_t stride, int neighbours)
{
    uint32_t n = w->channels;
    const uint32_t *map = w->map;
    unsigned char *out = (unsigned char *)w->scratch + w->filled;
    for (uint64_t f = from; f < to; f++) {
        const float *row = frames + f * stride;
        const float *x = row + map[0];
        if (!neighbours) {
            for (uint32_t c = 0; c < n; c++)
                w->line[c] = row[map[c]];
            x = w->line;
        }
        if (w->peaks)
            measure(x, n, w->peaks, w->clips);
        out += encode(w, x, n, w->noise ? w->noise + f * n : NULL, out);
    }
    w->filled = (size_t)(out - (unsigned char *)w->scratch);
}

/* Frames [from, to) of float frames that are the file's as they are (every
 * column, in order): measured, then handed over from where they lie, in
 * pieces of the scratch's size, with no copy but the kernel's. */
static int write_in_place(jr_file_writer_t *w, const float *frames, uint64_t from, uint64_t to)
{
    uint32_t n = w->channels;
    uint64_t piece = w->scratch_bytes / (n * sizeof(float));
    piece = piece ? piece : 1;
    for (uint64_t f = from; f < to; f += piece) {
        uint64_t end = to - f < piece ? to : f + piece;
        if (w->peaks)
            for (uint64_t g = f; g < end; g++)
                measure(frames + g * n, n, w->peaks, w->clips);
        if (hand_over(w, (void *)(frames + f * n), (end - f) * n * sizeof(float)) != 0)
            return -1;
    }
    return 0;
}

int jr_files_write(jr_file_writer_t *files, uint32_t count, const float *frames,
                   uint64_t frame_count, uint32_t stride, uint32_t *failed)
{
    /* A stretch of rows small enough to stay in the cache while every file
     * takes its channels from it: a take split into 2048 mono files reads
     * each row 2048 times. */
    uint64_t rows = stride ? JR_ROWS_BYTES / ((uint64_t)stride * sizeof(float)) : frame_count;
    rows = rows ? rows : 1;
    for (uint64_t from = 0; from < frame_count; from += rows) {
        uint64_t to = frame_count - from < rows ? frame_count : from + rows;
        for (uint32_t i = 0; i < count; i++) {
            jr_file_writer_t *w = &files[i];
            int neighbours = contiguous(w);
            if (w->bits == 0 && neighbours && w->map[0] == 0 && w->channels == stride) {
                if (write_in_place(w, frames, from, to) != 0) {
                    *failed = i;
                    return -1;
                }
                continue;
            }
            size_t frame_bytes = w->channels * jr_sample_bytes(w->bits, w->raw);
            for (uint64_t f = from; f < to;) {
                uint64_t room = (w->scratch_bytes - w->filled) / frame_bytes;
                if (room == 0) {
                    if (flush(w) != 0) {
                        *failed = i;
                        return -1;
                    }
                    continue;
                }
                uint64_t end = to - f < room ? to : f + room;
                encode_rows(w, frames, f, end, stride, neighbours);
                f = end;
            }
        }
    }
    /* everything handed over is in the files when this returns */
    for (uint32_t i = 0; i < count; i++)
        if (flush(&files[i]) != 0) {
            *failed = i;
            return -1;
        }
    return 0;
}
