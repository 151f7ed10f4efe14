/*
 * Peak and clip measurement of interleaved frames, for the disk writer.
 *
 * Not realtime code: the writer calls it (through cffi, with the GIL
 * released) on the frames it hands to a take, so each take's sidecar can
 * state its own per-channel peak and clip count.  The JACK thread's meters
 * (capture.c) are per cycle and shared by every reader; these are exact per
 * take.  A clip is a sample at or beyond full scale, as in the meters.
 */
#include "jackrec_core.h"

#include <math.h>

/* Channels are measured CHUNK at a time into local accumulators (32-bit
 * clip counters, one width with the floats), LANES at a time in a loop of
 * constant length, which the compiler turns into one SIMD operation at -O2,
 * as in capture.c's meters.  Measured (1 s of 512 channels at 48 kHz, in
 * 64 KiB blocks): 12-13 ms, against 40 ms for the plain loop over a frame's
 * channels straight into peaks[] and clips[]. */
#define CHUNK 64
#define LANES 4

static void measure_chunk(const float *frames, uint64_t count, uint32_t channels,
                          uint32_t first, uint32_t n, float *peaks, uint64_t *clips)
{
    float peak[CHUNK];
    uint32_t clip[CHUNK];
    uint32_t whole = n - n % LANES;
    for (uint32_t c = 0; c < n; c++) {
        peak[c] = peaks[first + c];
        clip[c] = 0;
    }
    for (uint64_t f = 0; f < count; f++) {
        const float *x = frames + f * channels + first;
        uint32_t c = 0;
        for (; c < whole; c += LANES)
            for (uint32_t l = 0; l < LANES; l++) {
                float a = fabsf(x[c + l]);
                peak[c + l] = a > peak[c + l] ? a : peak[c + l];
                clip[c + l] += a >= 1.0f;
            }
        for (; c < n; c++) {
            float a = fabsf(x[c]);
            peak[c] = a > peak[c] ? a : peak[c];
            clip[c] += a >= 1.0f;
        }
    }
    for (uint32_t c = 0; c < n; c++) {
        peaks[first + c] = peak[c];
        clips[first + c] += clip[c];
    }
}

void jr_peaks_accumulate(const float *frames, uint64_t count, uint32_t channels,
                         float *peaks, uint64_t *clips)
{
    /* 32-bit counters: at most count clips per call */
    for (uint64_t done = 0; done < count; done += UINT32_MAX) {
        uint64_t part = count - done < UINT32_MAX ? count - done : UINT32_MAX;
        for (uint32_t first = 0; first < channels; first += CHUNK) {
            uint32_t n = channels - first < CHUNK ? channels - first : CHUNK;
            measure_chunk(frames + done * channels, part, channels, first, n, peaks, clips);
        }
    }
}
