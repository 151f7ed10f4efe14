/*
 * The recorder's JACK process callback.
 *
 * Each cycle it reads the input ports, updates the meters, and while
 * capturing appends the cycle to the frame ring as interleaved float32
 * frames.  A cycle goes into the ring whole or not at all: when it does not
 * fit, its frames are counted as lost and folded into the open overflow
 * run, which is queued (position and length) once a later cycle fits, just
 * before that cycle's frames, so the consumer always learns of a gap before
 * it reads past it.
 *
 * Cycles that JACK ran without this callback are lost frames too, counted
 * the same way: JACK's frame time says how many.  A client stopped (Ctrl-Z,
 * a debugger) misses every cycle until it runs again, and in asynchronous
 * mode JACK2 skips the cycles of a client still busy with an earlier one
 * (measured: one jump of the frame time by the frames skipped, never a
 * cycle twice).  So a take keeps JACK's timeline through an xrun as it does
 * through an overflow.  Freewheeling has a timeline of its own: no cycle is
 * compared across its start or end.  Nor across a change of the buffer
 * size: JACK2 then steps the frame time by the new size where the old one
 * ended (measured: 768 frames "missed" going from 256 to 1024, none lost).
 *
 * While watching (jr_capture_watch) it also notes, each cycle, whether
 * JACK's transport rolls and whether JACK freewheels, and queues every
 * change at the stream frame of the cycle it was first seen in (the first
 * frame of that cycle), before that cycle's frames, as gaps are queued.
 *
 * Realtime rules: no locks, no allocation, no system calls (the clock is
 * read through the vDSO), no output; the callback always returns 0, since
 * a non-zero return makes JACK deactivate the client.  Statistics and
 * meters are atomics: each has a single writer (this thread) except where
 * a reader takes-and-resets a meter with an atomic exchange.
 *
 * The one exception: while JACK freewheels, and only then, a cycle that
 * does not fit the ring waits for the disk writer to make room (short
 * nanosleeps), so a freewheel render loses no frame.  Freewheel is not
 * realtime: JACK runs the cycles back to back with realtime scheduling
 * dropped, and it is the recorder's pace that sets the render's.  The wait
 * ends as soon as capturing stops or freewheel ends, and after at most
 * FREEWHEEL_WAIT_NS (JACK's freewheel driver gives a client 10 s per
 * cycle), after which the cycle is lost as it would be in realtime.
 */
#define _POSIX_C_SOURCE 200809L
#include "jackrec_core.h"
#include "memory.h"

#include <jack/jack.h>
#include <jack/transport.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#ifdef __SSE__
#include <xmmintrin.h>
#endif

typedef struct {
    /* max |x| since last taken, as float bits: non-negative floats order
     * like their bit patterns, so the maximum can be kept as an integer */
    _Atomic uint32_t peak_bits;
    /* (float sum of squares bits << 32) | frames: one word, so a reader
     * always takes a sum together with the frames it covers */
    _Atomic uint64_t energy;
    _Atomic uint64_t clips;
} channel_meter_t;

struct jr_capture {
    /* Set up before activation, read-only afterwards. */
    uint32_t channels;
    jack_client_t *client;
    jack_port_t **ports;
    const float **buffers; /* this cycle's port buffers (callback scratch) */
    jr_ring_t *frames;
    jr_ring_t *gaps;
    channel_meter_t *meters;
    jr_ring_t *states;
    int frames_locked;

    _Atomic int capturing;
    _Atomic uint32_t watch;       /* JR_STATE_* bits to follow */
    _Atomic int freewheeling;     /* set by JACK's freewheel callback */
    uint32_t state_queued;        /* the callback's: the last state queued */

    /* The open overflow run; owned by the callback, read by others only once
     * the callback can no longer run.  frames == 0 when there is none. */
    jr_gap_t open_gap;
    /* The callback's: the frame time the next cycle should have, when the
     * last cycle captured was not freewheeling (frame_time_known), and that
     * cycle's length. */
    jack_nframes_t next_frame_time;
    jack_nframes_t last_nframes;
    int frame_time_known;

    /* Statistics: the callback is the only writer. */
    _Atomic uint64_t cycles;
    _Atomic uint64_t stream_frames;
    _Atomic uint64_t frames_lost;
    _Atomic uint64_t overflow_runs;
    _Atomic uint64_t ring_fill_max;
    _Atomic uint64_t callback_ns_last;
    _Atomic uint64_t callback_ns_max;
    _Atomic uint64_t histogram[JR_HISTOGRAM_BUCKETS];
    _Atomic uint32_t nframes_max;
    _Atomic uint32_t first_jack_frame;
    _Atomic uint32_t started;
};

/* How long one cycle may wait for ring space while freewheeling, and how
 * long each nap is: JACK's freewheel driver gives up on a client after
 * 10 s, and 50 us is well under a cycle of disk writing. */
#define FREEWHEEL_WAIT_NS 2000000000ull
#define FREEWHEEL_NAP_NS 50000l

/* ---- helpers for single-writer atomics ---- */

/* A counter with one writer needs no read-modify-write instruction:
 * a relaxed load and store is enough, and readers see whole values. */
static inline void add_u64(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_store_explicit(counter,
                          atomic_load_explicit(counter, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* The meters are taken by readers with an exchange, so updating them
 * needs compare-and-swap; a reader can make the loop retry, never block. */
static inline void raise_peak(_Atomic uint32_t *slot, float peak)
{
    uint32_t bits;
    memcpy(&bits, &peak, sizeof bits);
    uint32_t old = atomic_load_explicit(slot, memory_order_relaxed);
    while (bits > old &&
           !atomic_compare_exchange_weak_explicit(slot, &old, bits, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

static inline void add_energy(_Atomic uint64_t *slot, float sum, uint32_t frames)
{
    uint64_t old = atomic_load_explicit(slot, memory_order_relaxed);
    uint64_t new;
    do {
        uint32_t old_frames = (uint32_t)old;
        uint32_t sum_bits = (uint32_t)(old >> 32);
        float total;
        memcpy(&total, &sum_bits, sizeof total);
        if (old_frames > UINT32_MAX - frames) {
            /* untaken for a day: restart the window rather than wrap */
            total = 0.0f;
            old_frames = 0;
        }
        total += sum;
        memcpy(&sum_bits, &total, sizeof sum_bits);
        new = ((uint64_t)sum_bits << 32) | (old_frames + frames);
    } while (!atomic_compare_exchange_weak_explicit(slot, &old, new, memory_order_relaxed,
                                                    memory_order_relaxed));
}

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t histogram_bucket(uint64_t ns)
{
    if (ns < 8)
        return (uint32_t)ns;
    uint32_t octave = 63u - (uint32_t)__builtin_clzll(ns); /* >= 3 */
    uint32_t bucket = (octave - 2u) * 8u + (uint32_t)((ns >> (octave - 3u)) & 7u);
    return bucket < JR_HISTOGRAM_BUCKETS ? bucket : JR_HISTOGRAM_BUCKETS - 1;
}

uint64_t jr_histogram_floor_ns(uint32_t bucket)
{
    if (bucket < 8)
        return bucket;
    uint32_t octave = bucket / 8u + 2u;
    return (uint64_t)(8u + bucket % 8u) << (octave - 3u);
}

/* ---- the process callback ---- */

/* Meters of one channel for one cycle.  LANES independent accumulators let
 * the compiler use SIMD without reassociating floats (-ffast-math): one
 * running sum would be a chain of dependent additions.  Four lanes fill one
 * SSE register, so each accumulator stays in a register; eight or more
 * measured slower (bench/ringbench.c: 4.4 us for 64 channels x 256 frames
 * with four lanes, 8.2 us with eight, 15 us with one). */
#define LANES 4

typedef struct {
    float peak, sum;
    uint32_t clips;
} cycle_meter_t;

static cycle_meter_t meter_channel(const float *x, jack_nframes_t nframes)
{
    float peak[LANES] = {0}, sum[LANES] = {0};
    uint32_t clips[LANES] = {0};
    size_t f = 0; /* size_t, so x[f + l] is provably contiguous */
    for (; f + LANES <= nframes; f += LANES)
        for (size_t l = 0; l < LANES; l++) {
            float v = x[f + l], a = fabsf(v);
            peak[l] = a > peak[l] ? a : peak[l];
            sum[l] += v * v;
            clips[l] += a >= 1.0f;
        }
    for (; f < nframes; f++) {
        float a = fabsf(x[f]);
        peak[0] = a > peak[0] ? a : peak[0];
        sum[0] += x[f] * x[f];
        clips[0] += a >= 1.0f;
    }
    cycle_meter_t m = {0.0f, 0.0f, 0};
    for (int l = 0; l < LANES; l++) {
        m.peak = peak[l] > m.peak ? peak[l] : m.peak;
        m.sum += sum[l];
        m.clips += clips[l];
    }
    return m;
}

static void meter_channels(jr_capture_t *c, uint32_t first, uint32_t count,
                           jack_nframes_t nframes)
{
    for (uint32_t ch = first; ch < first + count; ch++) {
        cycle_meter_t cycle = meter_channel(c->buffers[ch], nframes);
        channel_meter_t *m = &c->meters[ch];
        raise_peak(&m->peak_bits, cycle.peak);
        add_energy(&m->energy, cycle.sum, nframes);
        if (cycle.clips)
            add_u64(&m->clips, cycle.clips);
    }
}

/* Interleaving is a transpose: port buffers are channel-major, the ring is
 * frame-major.  It is done BLOCK channels at a time, each block right after
 * its meters, so the block's port buffers (BLOCK x period floats, 16 KiB at
 * a period of 256) are read from memory once and transposed from the L1
 * cache, while the next block's are prefetched.  Within a block, 4 x 4
 * tiles are transposed in SSE registers, and each frame of a block is one
 * 64-byte run of streaming stores (a whole cache line when the ring's
 * frames are).  perf at 512 channels, 48 kHz / 256: the scalar loop of one
 * frame's channels after another was 57 % of the callback's time, the
 * first read of the port buffers 31 %.  The whole recorder, 512 channels,
 * alternated runs (bench/cpu.py's way): ordinary stores 0.32 cores,
 * streaming 0.24; the prefetch took its ratio to jack_capture from 0.80 to
 * 0.75. */
#define BLOCK 16
/* Cycles of at least this many bytes are written with streaming stores
 * (the ThreadSanitizer harness sets 1: every cycle). */
#ifndef STREAMING_BYTES
#define STREAMING_BYTES 65536u
#endif

/* Channels [first, first + count) of frames [from, from + n) of the cycle
 * into `dst`, the ring's slot of frame `from`. */
static void interleave_block(const jr_capture_t *c, uint32_t first, uint32_t count,
                             uint64_t from, uint64_t n, float *dst, int stream)
{
    const float *const *in = c->buffers + first;
    size_t stride = c->channels;
    uint64_t f = 0;
#ifdef __SSE__
    uint32_t tiles = count / 4;
    /* Streaming stores for a large cycle, where every tile's row is 16-byte
     * aligned: the ring is far larger than any cache, so an ordinary store
     * would first read its line from memory only to overwrite it.  A small
     * cycle stays in the cache, and the fence that orders streaming stores
     * would cost it more (96 kHz / 64, 16 channels: callback p99.9 19 us
     * with ordinary stores, 31 us streaming). */
    int aligned = stream && (uintptr_t)dst % 16 == 0 && stride % 4 == 0;
    for (; f + 4 <= n; f += 4) {
        float *row = dst + f * stride;
        __m128 v[BLOCK / 4][4]; /* [tile][frame] once transposed */
        for (uint32_t t = 0; t < tiles; t++) {
            const float *const *tile = in + 4 * t;
            for (int i = 0; i < 4; i++)
                v[t][i] = _mm_loadu_ps(tile[i] + from + f);
            _MM_TRANSPOSE4_PS(v[t][0], v[t][1], v[t][2], v[t][3]);
        }
        /* frame by frame, so each frame's part of the block is written in
         * one run of stores (one whole cache line) */
        for (int i = 0; i < 4; i++, row += stride)
            for (uint32_t t = 0; t < tiles; t++) {
                if (aligned)
                    _mm_stream_ps(row + 4 * t, v[t][i]);
                else
                    _mm_storeu_ps(row + 4 * t, v[t][i]);
            }
        row = dst + f * stride;
        for (uint32_t ch = 4 * tiles; ch < count; ch++) /* a block's last 1-3 */
            for (uint64_t i = 0; i < 4; i++)
                row[i * stride + ch] = in[ch][from + f + i];
    }
#endif
    for (; f < n; f++)
        for (uint32_t ch = 0; ch < count; ch++)
            dst[f * stride + ch] = in[ch][from + f];
}

/* Whether a cycle is written with streaming stores (see interleave_block). */
static int streaming(const jr_capture_t *c, jack_nframes_t nframes)
{
    return (uint64_t)c->channels * nframes * sizeof(float) >= STREAMING_BYTES;
}

/* Meters of every channel and, when `regions` is not NULL, the cycle
 * interleaved into them. */
static void meter_and_interleave(jr_capture_t *c, jack_nframes_t nframes,
                                 const jr_regions_t *regions)
{
    for (uint32_t first = 0; first < c->channels; first += BLOCK) {
        uint32_t count = c->channels - first < BLOCK ? c->channels - first : BLOCK;
        /* the next block's port buffers are fetched while this one is done */
        for (uint32_t ch = first + BLOCK; ch < first + 2 * BLOCK && ch < c->channels; ch++)
            for (jack_nframes_t f = 0; f < nframes; f += 16)
                __builtin_prefetch(c->buffers[ch] + f);
        meter_channels(c, first, count, nframes);
        if (!regions)
            continue;
        uint64_t from = 0;
        for (int r = 0; r < 2; r++) {
            float *region = regions->data[r];
            interleave_block(c, first, count, from, regions->count[r], region + first,
                             streaming(c, nframes));
            from += regions->count[r];
        }
    }
}

/* Queues a change of the watched state at this cycle's first frame.  A
 * full queue (the writer has not read 4096 changes) leaves the change to
 * be queued by a later cycle, never lost. */
static void note_state(jr_capture_t *c, uint64_t stream_frame, uint32_t watch, int freewheeling)
{
    uint32_t state = 0;
    jr_state_t record = {0};
    if (watch & JR_STATE_ROLLING) {
        jack_position_t position;
        if (jack_transport_query(c->client, &position) == JackTransportRolling)
            state |= JR_STATE_ROLLING;
        record.transport_frame = position.frame;
    }
    if ((watch & JR_STATE_FREEWHEEL) && freewheeling)
        state |= JR_STATE_FREEWHEEL;
    if (state == c->state_queued)
        return;
    record.stream_frame = stream_frame;
    record.jack_frame = jack_last_frame_time(c->client);
    record.state = state;
    if (jr_ring_write(c->states, &record, 1))
        c->state_queued = state;
}

/* Freewheel only (see the rules above): waits until `nframes` fit the
 * ring; returns the nanoseconds waited. */
static uint64_t wait_for_space(jr_capture_t *c, jack_nframes_t nframes)
{
    uint64_t start = now_ns(), waited = 0;
    while (jr_ring_write_space(c->frames) < nframes && waited < FREEWHEEL_WAIT_NS &&
           atomic_load_explicit(&c->capturing, memory_order_relaxed) &&
           atomic_load_explicit(&c->freewheeling, memory_order_relaxed)) {
        struct timespec nap = {0, FREEWHEEL_NAP_NS};
        nanosleep(&nap, NULL);
        waited = now_ns() - start;
    }
    return waited;
}

/* `frames` stream frames from `stream_frame` (the first at JACK frame time
 * `jack_frame`) never reach the ring: into the open run, or a new one. */
static void lose_frames(jr_capture_t *c, uint64_t frames, uint64_t stream_frame,
                        jack_nframes_t jack_frame)
{
    if (c->open_gap.frames == 0) {
        c->open_gap.ring_position = jr_ring_write_position(c->frames);
        c->open_gap.stream_frame = stream_frame;
        c->open_gap.jack_frame = jack_frame;
        add_u64(&c->overflow_runs, 1);
    }
    c->open_gap.frames += frames;
    add_u64(&c->frames_lost, frames);
    add_u64(&c->stream_frames, frames);
}

/* The frames of cycles JACK ran since the last one without calling us (see
 * the top of this file); a backward jump (half the frame-time range or
 * more: a clock that started again) is not a loss. */
static uint64_t missed_frames(jr_capture_t *c, jack_nframes_t frame_time, jack_nframes_t nframes,
                              int freewheeling)
{
    jack_nframes_t missed = frame_time - c->next_frame_time; /* modulo 2^32 */
    int comparable = c->frame_time_known && nframes == c->last_nframes && !freewheeling;
    return comparable && missed < (1u << 31) ? missed : 0;
}

static uint64_t capture_cycle(jr_capture_t *c, jack_nframes_t nframes)
{
    jack_nframes_t frame_time = jack_last_frame_time(c->client);
    if (!atomic_load_explicit(&c->started, memory_order_relaxed)) {
        atomic_store_explicit(&c->first_jack_frame, frame_time, memory_order_relaxed);
        /* release: readers that see started == 1 see first_jack_frame */
        atomic_store_explicit(&c->started, 1, memory_order_release);
    }
    int freewheeling = atomic_load_explicit(&c->freewheeling, memory_order_relaxed);
    uint64_t missed = missed_frames(c, frame_time, nframes, freewheeling);
    if (missed)
        lose_frames(c, missed, atomic_load_explicit(&c->stream_frames, memory_order_relaxed),
                    c->next_frame_time);
    c->next_frame_time = frame_time + nframes;
    c->last_nframes = nframes;
    c->frame_time_known = !freewheeling;
    uint64_t stream_frame = atomic_load_explicit(&c->stream_frames, memory_order_relaxed);
    uint32_t watch = atomic_load_explicit(&c->watch, memory_order_relaxed);
    if (watch || c->state_queued)
        note_state(c, stream_frame, watch, freewheeling);
    uint64_t waited = freewheeling ? wait_for_space(c, nframes) : 0;

    jr_regions_t regions;
    int gap_open = c->open_gap.frames > 0;
    int fits = jr_ring_write_regions(c->frames, nframes, &regions) == nframes &&
               (!gap_open || jr_ring_write_space(c->gaps) > 0);
    if (fits) {
        if (gap_open) {
            /* Queued before the frames that follow it are published: a
             * consumer that can see those frames can see this record. */
            jr_ring_write(c->gaps, &c->open_gap, 1);
            c->open_gap.frames = 0;
        }
        meter_and_interleave(c, nframes, &regions);
#ifdef __SSE__
        /* Streaming stores are weakly ordered, even on x86: the fence puts
         * them before the release store that publishes the frames. */
        if (streaming(c, nframes))
            _mm_sfence();
#endif
        jr_ring_write_advance(c->frames, nframes);
        /* one more acquire load of the consumer's position, for the
         * high-water mark: how close the disk writer came to losing frames */
        uint64_t fill = jr_ring_capacity(c->frames) - jr_ring_write_space(c->frames);
        if (fill > atomic_load_explicit(&c->ring_fill_max, memory_order_relaxed))
            atomic_store_explicit(&c->ring_fill_max, fill, memory_order_relaxed);
        add_u64(&c->stream_frames, nframes);
    } else {
        meter_and_interleave(c, nframes, NULL);
        lose_frames(c, nframes, stream_frame, frame_time);
    }
    return waited;
}

static void account_time(jr_capture_t *c, jack_nframes_t nframes, uint64_t ns)
{
    add_u64(&c->cycles, 1);
    atomic_store_explicit(&c->callback_ns_last, ns, memory_order_relaxed);
    if (ns > atomic_load_explicit(&c->callback_ns_max, memory_order_relaxed))
        atomic_store_explicit(&c->callback_ns_max, ns, memory_order_relaxed);
    add_u64(&c->histogram[histogram_bucket(ns)], 1);
    if (nframes > atomic_load_explicit(&c->nframes_max, memory_order_relaxed))
        atomic_store_explicit(&c->nframes_max, nframes, memory_order_relaxed);
}

static int process(jack_nframes_t nframes, void *arg)
{
    jr_capture_t *c = arg;
    uint64_t start = now_ns();
    for (uint32_t ch = 0; ch < c->channels; ch++)
        c->buffers[ch] = jack_port_get_buffer(c->ports[ch], nframes);
    uint64_t waited = 0;
    if (atomic_load_explicit(&c->capturing, memory_order_acquire))
        waited = capture_cycle(c, nframes); /* meters too */
    else
        meter_and_interleave(c, nframes, NULL);
    /* the callback's own time: a freewheel wait is the writer's */
    account_time(c, nframes, now_ns() - start - waited);
    return 0;
}

/* JACK calls this between cycles (synchronously, before the first cycle of
 * a freewheel run and after its last), in its notification thread. */
static void on_freewheel(int starting, void *arg)
{
    jr_capture_t *c = arg;
    atomic_store_explicit(&c->freewheeling, starting ? 1 : 0, memory_order_relaxed);
}

/* ---- set-up and teardown (never in the JACK thread) ---- */

jr_capture_t *jr_capture_new(uint32_t channels, uint64_t ring_frames, uint64_t gap_capacity)
{
    if (channels == 0 || ring_frames == 0 || gap_capacity == 0)
        return NULL;
    jr_capture_t *c = jr_memory_alloc(sizeof *c, NULL);
    if (!c)
        return NULL;
    c->channels = channels;
    c->ports = jr_memory_alloc(channels * sizeof *c->ports, NULL);
    c->buffers = jr_memory_alloc(channels * sizeof *c->buffers, NULL);
    c->meters = jr_memory_alloc(channels * sizeof *c->meters, NULL);
    c->frames = jr_ring_new(ring_frames, channels * sizeof(float), &c->frames_locked);
    c->gaps = jr_ring_new(gap_capacity, sizeof(jr_gap_t), NULL);
    c->states = jr_ring_new(gap_capacity, sizeof(jr_state_t), NULL);
    if (!c->ports || !c->buffers || !c->meters || !c->frames || !c->gaps || !c->states) {
        jr_capture_free(c);
        return NULL;
    }
    /* jr_memory_alloc() zeroes memory, which is a valid initial state for
     * these lock-free atomics on every platform we build for. */
    return c;
}

void jr_capture_free(jr_capture_t *c)
{
    if (!c)
        return;
    jr_ring_free(c->states);
    jr_ring_free(c->gaps);
    jr_ring_free(c->frames);
    jr_memory_free(c->meters, c->channels * sizeof *c->meters, 0);
    jr_memory_free(c->buffers, c->channels * sizeof *c->buffers, 0);
    jr_memory_free(c->ports, c->channels * sizeof *c->ports, 0);
    jr_memory_free(c, sizeof *c, 0);
}

int jr_capture_memory_locked(const jr_capture_t *c) { return c->frames_locked; }

void jr_capture_set_port(jr_capture_t *c, uint32_t channel, void *port)
{
    if (channel < c->channels)
        c->ports[channel] = port;
}

int jr_capture_install(jr_capture_t *c, void *client)
{
    for (uint32_t ch = 0; ch < c->channels; ch++)
        if (!c->ports[ch])
            return -1;
    c->client = client;
    if (jack_set_freewheel_callback(client, on_freewheel, c) != 0)
        return -1;
    return jack_set_process_callback(client, process, c);
}

void jr_capture_set_capturing(jr_capture_t *c, int capturing)
{
    atomic_store_explicit(&c->capturing, capturing ? 1 : 0, memory_order_release);
}

jr_ring_t *jr_capture_frames(jr_capture_t *c) { return c->frames; }

jr_ring_t *jr_capture_gaps(jr_capture_t *c) { return c->gaps; }

jr_ring_t *jr_capture_states(jr_capture_t *c) { return c->states; }

void jr_capture_watch(jr_capture_t *c, uint32_t watch)
{
    atomic_store_explicit(&c->watch, watch & (JR_STATE_ROLLING | JR_STATE_FREEWHEEL),
                          memory_order_relaxed);
}

int jr_capture_freewheeling(const jr_capture_t *c)
{
    return atomic_load_explicit(&c->freewheeling, memory_order_relaxed);
}

int jr_capture_open_gap(const jr_capture_t *c, jr_gap_t *gap)
{
    if (c->open_gap.frames == 0)
        return 0;
    *gap = c->open_gap;
    return 1;
}

void jr_capture_read_stats(const jr_capture_t *c, jr_capture_stats_t *out)
{
    memset(out, 0, sizeof *out);
    out->cycles = atomic_load_explicit(&c->cycles, memory_order_relaxed);
    out->stream_frames = atomic_load_explicit(&c->stream_frames, memory_order_relaxed);
    out->frames_lost = atomic_load_explicit(&c->frames_lost, memory_order_relaxed);
    out->overflow_runs = atomic_load_explicit(&c->overflow_runs, memory_order_relaxed);
    out->ring_fill_max = atomic_load_explicit(&c->ring_fill_max, memory_order_relaxed);
    out->callback_ns_last = atomic_load_explicit(&c->callback_ns_last, memory_order_relaxed);
    out->callback_ns_max = atomic_load_explicit(&c->callback_ns_max, memory_order_relaxed);
    for (uint32_t b = 0; b < JR_HISTOGRAM_BUCKETS; b++)
        out->histogram[b] = atomic_load_explicit(&c->histogram[b], memory_order_relaxed);
    out->nframes_max = atomic_load_explicit(&c->nframes_max, memory_order_relaxed);
    /* acquire: pairs with the release in capture_cycle */
    out->started = atomic_load_explicit(&c->started, memory_order_acquire);
    if (out->started)
        out->first_jack_frame = atomic_load_explicit(&c->first_jack_frame, memory_order_relaxed);
}

void jr_capture_take_meters(jr_capture_t *c, float *peaks, float *sum_squares,
                            uint32_t *frames, uint64_t *clips)
{
    for (uint32_t ch = 0; ch < c->channels; ch++) {
        channel_meter_t *m = &c->meters[ch];
        uint32_t peak_bits = atomic_exchange_explicit(&m->peak_bits, 0, memory_order_relaxed);
        uint64_t energy = atomic_exchange_explicit(&m->energy, 0, memory_order_relaxed);
        uint32_t sum_bits = (uint32_t)(energy >> 32);
        memcpy(&peaks[ch], &peak_bits, sizeof peak_bits);
        memcpy(&sum_squares[ch], &sum_bits, sizeof sum_bits);
        frames[ch] = (uint32_t)energy;
        clips[ch] = atomic_load_explicit(&m->clips, memory_order_relaxed);
    }
}
