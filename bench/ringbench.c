/*
 * Micro-benchmark: what one JACK cycle costs the realtime core, against
 * plain memcpy of the same bytes (the physical limit of this machine).
 *
 * For each channel count, three operations run interleaved, so machine
 * noise falls on all of them alike:
 *   memcpy    copy channels x period float32 into a ring-sized area;
 *   ring      jr_ring_write() of the same interleaved bytes (copy + atomics);
 *   callback  the real process callback (capture.c) through fakejack.c:
 *             port buffers, meters, interleave into the ring.
 * The consumer side is a bare read_advance, so only the producer is timed.
 *
 * usage: ringbench PERIOD ITERATIONS CHANNELS...
 * Prints one JSON object per channel count.
 */
#define _POSIX_C_SOURCE 200809L
#include "../cext/jackrec_core.h"
#include "../cext/tests/fakejack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING_FRAMES 65536 /* about 1.4 s at 48 kHz */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    uint64_t median, p999, max;
} summary_t;

static summary_t summarize(uint64_t *samples, size_t n)
{
    qsort(samples, n, sizeof *samples, compare_u64);
    summary_t s = {samples[n / 2], samples[(size_t)((double)n * 0.999)], samples[n - 1]};
    return s;
}

static void bench(uint32_t channels, uint32_t period, size_t iterations)
{
    size_t block = (size_t)channels * period;
    float *source = calloc(block, sizeof *source);
    float **port_buffers = calloc(channels, sizeof *port_buffers);
    for (uint32_t ch = 0; ch < channels; ch++) {
        port_buffers[ch] = calloc(period, sizeof(float));
        for (uint32_t f = 0; f < period; f++)
            port_buffers[ch][f] = (float)((f + ch) % 97) / 100.0f;
    }
    size_t area_frames = RING_FRAMES;
    float *area = calloc(area_frames * channels, sizeof *area);
    if (area) /* fault every page in now, as jr_memory_alloc() does for the rings */
        memset(area, 1, area_frames * channels * sizeof *area);
    jr_ring_t *ring = jr_ring_new(RING_FRAMES, channels * sizeof(float), NULL);
    jr_capture_t *capture = jr_capture_new(channels, RING_FRAMES, 16);
    if (!source || !port_buffers || !area || !ring || !capture) {
        fprintf(stderr, "ringbench: out of memory at %u channels\n", channels);
        exit(1);
    }
    for (uint32_t ch = 0; ch < channels; ch++)
        jr_capture_set_port(capture, ch, &port_buffers[ch]);
    jr_capture_install(capture, NULL);
    jr_capture_set_capturing(capture, 1);
    jr_ring_t *capture_ring = jr_capture_frames(capture);

    uint64_t *t_memcpy = calloc(iterations, sizeof(uint64_t));
    uint64_t *t_ring = calloc(iterations, sizeof(uint64_t));
    uint64_t *t_callback = calloc(iterations, sizeof(uint64_t));
    size_t offset = 0;
    for (size_t i = 0; i < iterations; i++) {
        uint64_t t0 = now_ns();
        memcpy(area + offset * channels, source, block * sizeof(float));
        uint64_t t1 = now_ns();
        jr_ring_write(ring, source, period);
        uint64_t t2 = now_ns();
        fakejack_process(period, fakejack_arg);
        uint64_t t3 = now_ns();
        jr_ring_read_advance(ring, period);
        jr_ring_read_advance(capture_ring, period);
        offset = (offset + period) % (area_frames - period);
        t_memcpy[i] = t1 - t0;
        t_ring[i] = t2 - t1;
        t_callback[i] = t3 - t2;
    }
    summary_t m = summarize(t_memcpy, iterations);
    summary_t r = summarize(t_ring, iterations);
    summary_t c = summarize(t_callback, iterations);
    printf("{\"channels\": %u, \"period\": %u, \"iterations\": %zu, "
           "\"memcpy_ns\": {\"median\": %llu, \"p999\": %llu, \"max\": %llu}, "
           "\"ring_ns\": {\"median\": %llu, \"p999\": %llu, \"max\": %llu}, "
           "\"callback_ns\": {\"median\": %llu, \"p999\": %llu, \"max\": %llu}}\n",
           channels, period, iterations, (unsigned long long)m.median,
           (unsigned long long)m.p999, (unsigned long long)m.max, (unsigned long long)r.median,
           (unsigned long long)r.p999, (unsigned long long)r.max, (unsigned long long)c.median,
           (unsigned long long)c.p999, (unsigned long long)c.max);
    fflush(stdout);

    free(t_callback);
    free(t_ring);
    free(t_memcpy);
    jr_capture_free(capture);
    jr_ring_free(ring);
    free(area);
    for (uint32_t ch = 0; ch < channels; ch++)
        free(port_buffers[ch]);
    free(port_buffers);
    free(source);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s PERIOD ITERATIONS CHANNELS...\n", argv[0]);
        return 2;
    }
    uint32_t period = (uint32_t)atoi(argv[1]);
    size_t iterations = (size_t)atol(argv[2]);
    if (period == 0 || iterations == 0)
        return 2;
    for (int i = 3; i < argc; i++)
        bench((uint32_t)atoi(argv[i]), period, iterations);
    return 0;
}
