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

void jr_peaks_accumulate(const float *frames, uint64_t count, uint32_t channels,
                         float *peaks, uint64_t *clips)
{
    for (uint64_t f = 0; f < count; f++) {
        const float *frame = frames + f * channels;
        /* over the channels: the inner loop touches peaks[] and clips[]
         * contiguously, which the compiler vectorizes */
        for (uint32_t ch = 0; ch < channels; ch++) {
            float a = fabsf(frame[ch]);
            peaks[ch] = a > peaks[ch] ? a : peaks[ch];
            clips[ch] += a >= 1.0f;
        }
    }
}
