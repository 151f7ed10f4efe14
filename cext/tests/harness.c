/*
 * Concurrency harness for the realtime core, built with ThreadSanitizer and
 * with AddressSanitizer + UBSan (see `make sanitize`), and run under
 * valgrind memcheck.
 *
 * 1. Ring: a producer and a consumer thread move ring_elements elements
 *    through a small ring in random-sized blocks; every element is checked.
 *    Then a fuzz of the whole ring API in one thread against a model:
 *    random writes (whole, or by regions advanced by less than granted),
 *    random reads likewise, sizes from 0 to beyond the capacity, elements
 *    of an odd size; spaces, positions and every byte checked each step.
 * 2. Capture: a "JACK thread" calls the real process callback (capture.c)
 *    through a stand-in for libjack (fakejack.c), a "writer" drains frames
 *    and gaps the way jackrec/writer.py does and stalls now and then so the
 *    ring overflows, and a "meter" thread reads meters and statistics all
 *    along.
 *    Now and then "JACK" runs a cycle without calling the callback (a late
 *    or stopped client): only its frame time tells.
 *    The writer rebuilds the timeline (frames + silence for gaps) and checks
 *    it against the stream the JACK thread produced, frame by frame.
 * 3. Freewheel: the same, with JACK freewheeling: cycles back to back, the
 *    writer stalling, and not a frame lost (the callback waits for room);
 *    the freewheel run is queued as state changes at its exact frames.
 * 4. Transport: state changes queued at the first frame of the cycle that
 *    saw them, with the transport's position.
 *
 * usage: harness [SCALE]   (SCALE divides the work; valgrind runs SCALE 50)
 */
#define _POSIX_C_SOURCE 200809L
#include "../jackrec_core.h"

#include "fakejack.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

static uint32_t xorshift(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

static void nap(long ns)
{
    struct timespec ts = {0, ns};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------ */
/* 1. The ring alone.                                                  */
/* ------------------------------------------------------------------ */

static uint32_t ring_elements = 5000000u;
#define ELEMENT_WORDS 3

static void *ring_producer(void *arg)
{
    jr_ring_t *ring = arg;
    uint32_t seed = 1, next = 0;
    uint32_t block[64 * ELEMENT_WORDS];
    while (next < ring_elements) {
        uint32_t count = 1 + xorshift(&seed) % 64;
        if (count > ring_elements - next)
            count = ring_elements - next;
        for (uint32_t i = 0; i < count; i++)
            for (int w = 0; w < ELEMENT_WORDS; w++)
                block[i * ELEMENT_WORDS + w] = (next + i) * ELEMENT_WORDS + (uint32_t)w;
        while (!jr_ring_write(ring, block, count))
            sched_yield();
        next += count;
    }
    return NULL;
}

static void *ring_consumer(void *arg)
{
    jr_ring_t *ring = arg;
    uint32_t seed = 2, next = 0;
    jr_regions_t regions;
    while (next < ring_elements) {
        uint64_t count = jr_ring_read_regions(ring, 1 + xorshift(&seed) % 100, &regions);
        for (int r = 0; r < 2; r++) {
            const uint32_t *words = regions.data[r];
            for (uint64_t i = 0; i < regions.count[r] * ELEMENT_WORDS; i++)
                CHECK(words[i] == next * ELEMENT_WORDS + (uint32_t)i);
            next += (uint32_t)regions.count[r];
        }
        jr_ring_read_advance(ring, count);
    }
    return NULL;
}

static void test_ring(void)
{
    jr_ring_t *ring = jr_ring_new(100, ELEMENT_WORDS * sizeof(uint32_t), NULL);
    CHECK(ring && jr_ring_capacity(ring) == 128);
    pthread_t producer, consumer;
    pthread_create(&producer, NULL, ring_producer, ring);
    pthread_create(&consumer, NULL, ring_consumer, ring);
    pthread_join(producer, NULL);
    pthread_join(consumer, NULL);
    CHECK(jr_ring_read_space(ring) == 0);
    CHECK(jr_ring_read_position(ring) == ring_elements);
    jr_ring_free(ring);
    printf("ring: %u elements through a 128-element ring, all in order\n", ring_elements);
}

static uint32_t fuzz_steps = 2000000u;
#define FUZZ_ELEMENT 5 /* bytes: odd, so no element is aligned */

static unsigned char fuzz_byte(uint64_t element, size_t byte)
{
    return (unsigned char)(element * 7u + byte * 13u + (element >> 8));
}

/* Fill or check `count` elements from `first` across the regions. */
static void fuzz_regions(const jr_regions_t *regions, uint64_t first, int fill)
{
    uint64_t element = first;
    for (int r = 0; r < 2; r++) {
        unsigned char *bytes = regions->data[r];
        for (uint64_t i = 0; i < regions->count[r]; i++, element++)
            for (size_t b = 0; b < FUZZ_ELEMENT; b++) {
                if (fill)
                    bytes[i * FUZZ_ELEMENT + b] = fuzz_byte(element, b);
                else
                    CHECK(bytes[i * FUZZ_ELEMENT + b] == fuzz_byte(element, b));
            }
    }
}

static void test_ring_fuzz(void)
{
    jr_ring_t *ring = jr_ring_new(10, FUZZ_ELEMENT, NULL);
    CHECK(ring && jr_ring_capacity(ring) == 16);
    const uint64_t capacity = 16;
    uint64_t written = 0, read = 0; /* the model */
    uint32_t seed = 3;
    unsigned char block[40 * FUZZ_ELEMENT];
    jr_regions_t regions;
    for (uint32_t step = 0; step < fuzz_steps; step++) {
        uint64_t size = xorshift(&seed) % 40; /* 0 to more than the capacity */
        uint64_t held = written - read;
        switch (xorshift(&seed) % 3) {
        case 0: /* a whole write: all or nothing */
            for (uint64_t i = 0; i < size; i++)
                for (size_t b = 0; b < FUZZ_ELEMENT; b++)
                    block[i * FUZZ_ELEMENT + b] = fuzz_byte(written + i, b);
            CHECK(jr_ring_write(ring, block, size) == (size <= capacity - held));
            if (size <= capacity - held)
                written += size;
            break;
        case 1: { /* write by regions, publishing part of what was granted */
            uint64_t granted = jr_ring_write_regions(ring, size, &regions);
            CHECK(granted == (size < capacity - held ? size : capacity - held));
            CHECK(regions.count[0] + regions.count[1] == granted);
            fuzz_regions(&regions, written, 1);
            uint64_t advance = granted ? xorshift(&seed) % (granted + 1) : 0;
            jr_ring_write_advance(ring, advance);
            written += advance;
            break;
        }
        default: { /* read by regions, consuming part of what was granted */
            uint64_t granted = jr_ring_read_regions(ring, size, &regions);
            CHECK(granted == (size < held ? size : held));
            CHECK(regions.count[0] + regions.count[1] == granted);
            fuzz_regions(&regions, read, 0);
            uint64_t advance = granted ? xorshift(&seed) % (granted + 1) : 0;
            jr_ring_read_advance(ring, advance);
            read += advance;
        }
        }
        CHECK(jr_ring_read_space(ring) == written - read);
        CHECK(jr_ring_write_space(ring) == capacity - (written - read));
        CHECK(jr_ring_write_position(ring) == written && jr_ring_read_position(ring) == read);
    }
    jr_ring_free(ring);
    printf("ring fuzz: %u random operations against the model, %llu elements through\n",
           fuzz_steps, (unsigned long long)read);
}

/* ------------------------------------------------------------------ */
/* 2. The process callback, with a stand-in for libjack.               */
/* ------------------------------------------------------------------ */

#define CHANNELS 21 /* a block of 16 and 5 more: SSE tiles and the scalar rest */
#define PERIOD 62 /* not a multiple of 4, nor of the ring: cycles split at its end */
static uint32_t cycles = 20000u;
#define RING_FRAMES 1024

static float port_buffers[CHANNELS][PERIOD];
static float *ports[CHANNELS];
static atomic_int producer_done;

/* Sample of channel ch at stream frame n: exact in float32. */
static float sample(uint64_t n, int ch) { return (float)(n % 1000003u) + 0.125f * (float)ch; }

/* Cycles JACK runs without calling the callback: every MISSED_EVERY-th,
 * and the two after every (MISSED_EVERY * 7)-th, so that some missed
 * cycles join an overflow run and some stand alone. */
#define MISSED_EVERY 101u
static int missed(uint32_t cycle)
{
    return cycle % MISSED_EVERY == 50 || cycle % (MISSED_EVERY * 7) == 51 ||
           cycle % (MISSED_EVERY * 7) == 52;
}

/* With a non-NULL arg, JACK freewheels: cycles back to back, none missed. */
static void *jack_thread(void *arg)
{
    int freewheel = arg != NULL;
    uint64_t n = 0;
    for (uint32_t cycle = 0; cycle < cycles; cycle++) {
        for (int ch = 0; ch < CHANNELS; ch++)
            for (int f = 0; f < PERIOD; f++)
                port_buffers[ch][f] = sample(n + (uint64_t)f, ch);
        if (freewheel || !missed(cycle))
            CHECK(fakejack_process(PERIOD, fakejack_arg) == 0);
        n += PERIOD;
        fakejack_frame_time += PERIOD;
        if (cycle % 4 == 0 && !freewheel)
            nap(50000); /* a period passes: ~1.3 ms per 256 frames */
    }
    atomic_store(&producer_done, 1);
    return NULL;
}

typedef struct {
    jr_capture_t *capture;
    uint64_t timeline;   /* frames placed in the rebuilt take */
    uint64_t gap_frames; /* of which silence */
    uint64_t gaps;
} writer_t;

static void write_frames(writer_t *w, const float *frames, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++, w->timeline++)
        for (int ch = 0; ch < CHANNELS; ch++)
            CHECK(frames[i * CHANNELS + (uint64_t)ch] == sample(w->timeline, ch));
}

static void write_gap(writer_t *w, const jr_gap_t *gap)
{
    CHECK(gap->stream_frame == w->timeline); /* the gap starts where we are */
    CHECK(gap->frames > 0 && gap->frames % PERIOD == 0);
    w->timeline += gap->frames;
    w->gap_frames += gap->frames;
    w->gaps++;
}

/* One pass of jackrec/writer.py's DiskWriter._drain. */
static uint64_t drain(writer_t *w)
{
    jr_ring_t *frames = jr_capture_frames(w->capture);
    jr_ring_t *gaps = jr_capture_gaps(w->capture);
    jr_regions_t regions, gap_regions;
    uint64_t available = jr_ring_read_regions(frames, UINT64_MAX, &regions);
    const jr_gap_t *gap = NULL;
    if (jr_ring_read_regions(gaps, 1, &gap_regions))
        gap = gap_regions.data[0];
    uint64_t position = jr_ring_read_position(frames);
    if (gap && gap->ring_position - position < available)
        available = gap->ring_position - position;
    uint64_t first = available < regions.count[0] ? available : regions.count[0];
    write_frames(w, regions.data[0], first);
    write_frames(w, regions.data[1], available - first);
    jr_ring_read_advance(frames, available);
    if (gap && gap->ring_position == position + available) {
        write_gap(w, gap);
        jr_ring_read_advance(gaps, 1);
        return available + 1;
    }
    return available;
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *writer_thread(void *arg)
{
    writer_t *w = arg;
    double next_stall = seconds() + 0.02;
    while (!atomic_load(&producer_done)) {
        drain(w);
        if (seconds() > next_stall) {
            nap(5000000); /* a stalled disk: the ring overflows */
            next_stall = seconds() + 0.02;
        }
    }
    return NULL;
}

static void *meter_thread(void *arg)
{
    jr_capture_t *capture = arg;
    float peaks[CHANNELS], sums[CHANNELS];
    uint32_t frames[CHANNELS];
    uint64_t clips[CHANNELS];
    jr_capture_stats_t stats;
    while (!atomic_load(&producer_done)) {
        jr_capture_take_meters(capture, peaks, sums, frames, clips);
        for (int ch = 0; ch < CHANNELS; ch++)
            CHECK(peaks[ch] >= 0.0f && sums[ch] >= 0.0f);
        jr_capture_read_stats(capture, &stats);
        CHECK(stats.frames_lost <= stats.stream_frames);
        nap(1000000);
    }
    return NULL;
}

static void test_capture(void)
{
    jr_capture_t *capture = jr_capture_new(CHANNELS, RING_FRAMES, 16);
    CHECK(capture);
    for (int ch = 0; ch < CHANNELS; ch++) {
        ports[ch] = port_buffers[ch];
        jr_capture_set_port(capture, (uint32_t)ch, &ports[ch]);
    }
    CHECK(jr_capture_install(capture, (void *)1) == 0);
    jr_capture_set_capturing(capture, 1);

    writer_t writer = {.capture = capture};
    pthread_t jack, disk, meter;
    pthread_create(&disk, NULL, writer_thread, &writer);
    pthread_create(&meter, NULL, meter_thread, capture);
    pthread_create(&jack, NULL, jack_thread, NULL);
    pthread_join(jack, NULL); /* like jack_deactivate(): no more cycles */
    pthread_join(disk, NULL);
    pthread_join(meter, NULL);

    while (drain(&writer)) {
    }
    jr_gap_t open_gap;
    if (jr_capture_open_gap(capture, &open_gap))
        write_gap(&writer, &open_gap);

    /* cycles missed after the last call are never known: no cycle follows */
    uint32_t called = 0, seen = 0;
    for (uint32_t cycle = 0; cycle < cycles; cycle++)
        if (!missed(cycle)) {
            called++;
            seen = cycle + 1;
        }
    jr_capture_stats_t stats;
    jr_capture_read_stats(capture, &stats);
    CHECK(stats.cycles == called && stats.started && stats.first_jack_frame == 0);
    CHECK(stats.stream_frames == (uint64_t)seen * PERIOD);
    CHECK(stats.frames_lost >= (uint64_t)(seen - called) * PERIOD);
    CHECK(writer.timeline == stats.stream_frames);
    CHECK(writer.gap_frames == stats.frames_lost);
    CHECK(stats.overflow_runs > 0 && stats.overflow_runs == writer.gaps);
    /* it overflowed, so the ring was full to within a period at some point */
    CHECK(stats.ring_fill_max <= RING_FRAMES && stats.ring_fill_max > RING_FRAMES - PERIOD);
    uint64_t counted = 0;
    for (int b = 0; b < JR_HISTOGRAM_BUCKETS; b++)
        counted += stats.histogram[b];
    CHECK(counted == called);
    jr_capture_free(capture);
    printf("capture: %llu frames, %llu lost in %llu gaps (%u cycles missed), timeline rebuilt "
           "exactly\n",
           (unsigned long long)stats.stream_frames, (unsigned long long)stats.frames_lost,
           (unsigned long long)stats.overflow_runs, seen - called);
}

/* Meters against a reference computed here, with a period that is not a
 * multiple of the SIMD lanes so the tail loop counts too. */
static void test_meters(void)
{
    enum { N = 67 };
    static float buffer[N];
    static float *port = buffer;
    float expected_sum = 0.0f;
    uint64_t expected_clips = 0;
    for (int f = 0; f < N; f++) {
        buffer[f] = (float)(f % 13 - 6) / 5.0f; /* -1.2 .. 1.2 in steps of 0.2 */
        expected_sum += buffer[f] * buffer[f];
        expected_clips += buffer[f] >= 1.0f || buffer[f] <= -1.0f;
    }
    jr_capture_t *capture = jr_capture_new(1, 1024, 4);
    CHECK(capture);
    jr_capture_set_port(capture, 0, &port);
    CHECK(jr_capture_install(capture, (void *)1) == 0);
    CHECK(fakejack_process(N, fakejack_arg) == 0);
    CHECK(fakejack_process(N, fakejack_arg) == 0);
    float peak, sum;
    uint32_t frames;
    uint64_t clips;
    jr_capture_take_meters(capture, &peak, &sum, &frames, &clips);
    CHECK(peak == 1.2f && frames == 2 * N);
    CHECK(sum > 1.999f * expected_sum && sum < 2.001f * expected_sum);
    CHECK(clips == 2 * expected_clips);
    jr_capture_take_meters(capture, &peak, &sum, &frames, &clips);
    /* peak and energy were taken; the clip count runs on */
    CHECK(peak == 0.0f && sum == 0.0f && frames == 0 && clips == 2 * expected_clips);
    jr_capture_free(capture);
}

static void test_histogram(void)
{
    for (uint32_t b = 1; b < JR_HISTOGRAM_BUCKETS; b++)
        CHECK(jr_histogram_floor_ns(b) > jr_histogram_floor_ns(b - 1));
}

/* Freewheel from the first cycle: with a stalling writer the ring fills
 * many times over, and the callback waits instead of dropping. */
static void test_freewheel(void)
{
    jr_capture_t *capture = jr_capture_new(CHANNELS, RING_FRAMES, 16);
    CHECK(capture);
    for (int ch = 0; ch < CHANNELS; ch++) {
        ports[ch] = port_buffers[ch];
        jr_capture_set_port(capture, (uint32_t)ch, &ports[ch]);
    }
    CHECK(jr_capture_install(capture, (void *)1) == 0);
    jr_capture_watch(capture, JR_STATE_FREEWHEEL);
    jr_capture_set_capturing(capture, 1);
    fakejack_freewheel(1, fakejack_freewheel_arg); /* JACK: between cycles */
    CHECK(jr_capture_freewheeling(capture));

    atomic_store(&producer_done, 0);
    writer_t writer = {.capture = capture};
    pthread_t jack, disk;
    pthread_create(&disk, NULL, writer_thread, &writer);
    pthread_create(&jack, NULL, jack_thread, (void *)1);
    pthread_join(jack, NULL);
    pthread_join(disk, NULL);
    while (drain(&writer)) {
    }
    fakejack_freewheel(0, fakejack_freewheel_arg);
    for (int ch = 0; ch < CHANNELS; ch++) /* the first cycle after */
        for (int f = 0; f < PERIOD; f++)
            port_buffers[ch][f] = sample((uint64_t)cycles * PERIOD + (uint64_t)f, ch);
    CHECK(fakejack_process(PERIOD, fakejack_arg) == 0);
    while (drain(&writer)) {
    }

    jr_capture_stats_t stats;
    jr_capture_read_stats(capture, &stats);
    CHECK(stats.frames_lost == 0 && stats.overflow_runs == 0);
    CHECK(writer.timeline == stats.stream_frames && writer.gaps == 0);
    jr_ring_t *states = jr_capture_states(capture);
    jr_regions_t regions;
    CHECK(jr_ring_read_regions(states, 4, &regions) == 2);
    const jr_state_t *changes = regions.data[0];
    CHECK(changes[0].stream_frame == 0 && changes[0].state == JR_STATE_FREEWHEEL);
    CHECK(changes[1].stream_frame == (uint64_t)cycles * PERIOD && changes[1].state == 0);
    jr_capture_free(capture);
    printf("freewheel: %llu frames through a %u-frame ring with a stalling writer, none lost\n",
           (unsigned long long)stats.stream_frames, RING_FRAMES);
}

static const jr_state_t *next_state(jr_capture_t *capture)
{
    jr_regions_t regions;
    if (!jr_ring_read_regions(jr_capture_states(capture), 1, &regions))
        return NULL;
    return regions.data[0];
}

static void cycle(int times)
{
    for (int i = 0; i < times; i++) {
        CHECK(fakejack_process(PERIOD, fakejack_arg) == 0);
        fakejack_frame_time += PERIOD;
        if (fakejack_transport_state == JackTransportRolling)
            fakejack_transport_frame += PERIOD;
    }
}

/* Rolls, stops, and a roll under way when watching stops and starts. */
static void test_transport(void)
{
    static float buffer[PERIOD];
    static float *port = buffer;
    jr_capture_t *capture = jr_capture_new(1, 1024, 4);
    CHECK(capture);
    jr_capture_set_port(capture, 0, &port);
    CHECK(jr_capture_install(capture, (void *)1) == 0);
    fakejack_frame_time = 1000;
    fakejack_transport_state = JackTransportStopped;
    fakejack_transport_frame = 500;
    jr_capture_set_capturing(capture, 1);
    cycle(2); /* not watching: nothing queued */
    CHECK(next_state(capture) == NULL);
    jr_capture_watch(capture, JR_STATE_ROLLING);
    cycle(3); /* stopped, as queued-before: nothing */
    CHECK(next_state(capture) == NULL);
    fakejack_transport_state = JackTransportRolling;
    cycle(4);
    fakejack_transport_state = JackTransportStopped;
    cycle(1);
    const jr_state_t *s = next_state(capture);
    CHECK(s && s->stream_frame == 5 * PERIOD && s->state == JR_STATE_ROLLING);
    CHECK(s->transport_frame == 500 && s->jack_frame == 1000 + 5 * PERIOD);
    jr_ring_read_advance(jr_capture_states(capture), 1);
    s = next_state(capture);
    CHECK(s && s->stream_frame == 9 * PERIOD && s->state == 0);
    CHECK(s->transport_frame == 500 + 4 * PERIOD);
    jr_ring_read_advance(jr_capture_states(capture), 1);
    /* the queue full (4 records): a change waits for room, then is queued */
    for (int i = 0; i < 4; i++) {
        fakejack_transport_state = i % 2 ? JackTransportStopped : JackTransportRolling;
        cycle(1);
    }
    fakejack_transport_state = JackTransportRolling;
    cycle(1);
    CHECK(jr_ring_read_space(jr_capture_states(capture)) == 4);
    jr_ring_read_advance(jr_capture_states(capture), 4);
    cycle(1);
    s = next_state(capture);
    CHECK(s && s->stream_frame == 15 * PERIOD && s->state == JR_STATE_ROLLING);
    jr_ring_read_advance(jr_capture_states(capture), 1);
    /* watching ends while rolling: a last record says state 0 */
    jr_capture_watch(capture, 0);
    cycle(1);
    s = next_state(capture);
    CHECK(s && s->stream_frame == 16 * PERIOD && s->state == 0);
    jr_ring_read_advance(jr_capture_states(capture), 1);
    cycle(1);
    CHECK(next_state(capture) == NULL);
    jr_capture_free(capture);
}

int main(int argc, char **argv)
{
    uint32_t scale = argc > 1 ? (uint32_t)atoi(argv[1]) : 1;
    CHECK(scale >= 1);
    ring_elements /= scale;
    fuzz_steps /= scale;
    cycles /= scale;
    test_histogram();
    test_meters();
    test_ring();
    test_ring_fuzz();
    test_capture();
    test_transport();
    test_freewheel();
    return 0;
}
