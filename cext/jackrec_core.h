/*
 * jackrec realtime core: public API.
 *
 * This header is read twice: by the C compiler, and (with the lines that
 * start with '#pragma' or '#include' removed) by cffi as the cdef of the
 * jackrec._core extension.  Keep it free of anything cffi cannot parse:
 * no atomics, no inline functions, no JACK types.  The structs that hold
 * atomics are opaque here and defined in the .c files.
 *
 * Threads:
 *   - the JACK process thread runs the process callbacks installed by
 *     jr_capture_install() and jr_source_install(), and nothing else;
 *   - any one other thread (the disk writer) is the ring's consumer;
 *   - any thread may read statistics and meters.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Single-producer/single-consumer ring of fixed-size elements.        */
/* ------------------------------------------------------------------ */

typedef struct jr_ring jr_ring_t;

/* Up to two contiguous regions of a ring (the second is used when the
 * span wraps around the end of the buffer). */
typedef struct {
    void *data[2];
    uint64_t count[2];  /* elements in each region */
} jr_regions_t;

/* Capacity is rounded up to a power of two elements; returns NULL when
 * memory cannot be had.  *locked reports whether mlock() succeeded. */
jr_ring_t *jr_ring_new(uint64_t min_capacity, size_t element_size, int *locked);
void jr_ring_free(jr_ring_t *ring);

uint64_t jr_ring_capacity(const jr_ring_t *ring);
size_t jr_ring_element_size(const jr_ring_t *ring);

/* Consumer side. */
uint64_t jr_ring_read_space(const jr_ring_t *ring);
uint64_t jr_ring_read_position(const jr_ring_t *ring);
uint64_t jr_ring_read_regions(const jr_ring_t *ring, uint64_t max_count,
                              jr_regions_t *regions);
void jr_ring_read_advance(jr_ring_t *ring, uint64_t count);

/* Producer side. */
uint64_t jr_ring_write_space(const jr_ring_t *ring);
uint64_t jr_ring_write_position(const jr_ring_t *ring);
uint64_t jr_ring_write_regions(const jr_ring_t *ring, uint64_t max_count,
                               jr_regions_t *regions);
void jr_ring_write_advance(jr_ring_t *ring, uint64_t count);
/* Copy count elements in, all or nothing; returns 1 if written. */
int jr_ring_write(jr_ring_t *ring, const void *src, uint64_t count);

/* ------------------------------------------------------------------ */
/* Capture: the recorder's process callback.                           */
/* ------------------------------------------------------------------ */

typedef struct jr_capture jr_capture_t;

/* One overflow run: `frames` frames were lost after ring position
 * `ring_position`; they were stream frames [stream_frame,
 * stream_frame + frames), the first at JACK frame time `jack_frame`. */
typedef struct {
    uint64_t ring_position;
    uint64_t stream_frame;
    uint64_t frames;
    uint32_t jack_frame;
    uint32_t reserved;
} jr_gap_t;

/* Callback durations are counted in a log-linear histogram: exact below
 * 16 ns, then 8 buckets per octave (12.5 % resolution) up to 2^31 ns;
 * jr_histogram_floor_ns() gives each bucket's lower bound. */
#define JR_HISTOGRAM_BUCKETS 232

typedef struct {
    uint64_t cycles;           /* process callbacks run */
    uint64_t stream_frames;    /* frames seen while capturing */
    uint64_t frames_lost;      /* of those, frames that did not fit */
    uint64_t overflow_runs;    /* runs of consecutive lost cycles */
    uint64_t ring_fill_max;    /* most frames the ring has held (high-water mark) */
    uint64_t callback_ns_last;
    uint64_t callback_ns_max;
    uint64_t histogram[JR_HISTOGRAM_BUCKETS];
    uint32_t nframes_max;      /* largest period seen */
    uint32_t started;          /* 1 once the first frame was captured */
    uint32_t first_jack_frame; /* JACK frame time of stream frame 0 */
    uint32_t reserved;
} jr_capture_stats_t;

uint64_t jr_histogram_floor_ns(uint32_t bucket);

/* Allocates everything the callback touches: a frame ring of at least
 * ring_frames frames of `channels` float32 samples, and a gap queue and a
 * state queue (below) of gap_capacity records each. */
jr_capture_t *jr_capture_new(uint32_t channels, uint64_t ring_frames,
                             uint64_t gap_capacity);
void jr_capture_free(jr_capture_t *capture);
int jr_capture_memory_locked(const jr_capture_t *capture);

/* Set-up, before the client is activated.  `client` and `port` are the
 * jack_client_t * and jack_port_t * of JACK-Client, passed as void *.
 * jr_capture_install sets the process callback and the freewheel callback. */
void jr_capture_set_port(jr_capture_t *capture, uint32_t channel, void *port);
int jr_capture_install(jr_capture_t *capture, void *client);

/* While not capturing the callback only meters; while capturing it also
 * feeds the ring.  Safe to flip from any thread at any time. */
void jr_capture_set_capturing(jr_capture_t *capture, int capturing);

jr_ring_t *jr_capture_frames(jr_capture_t *capture);
jr_ring_t *jr_capture_gaps(jr_capture_t *capture);

/* Transport and freewheel.  While capturing and watching some of these
 * bits, the callback queues a jr_state_t each time the watched state
 * changes, at the first stream frame of the cycle in which it was first
 * seen (JACK's transport and freewheel change between cycles), before it
 * publishes that cycle's frames.  Stopping to watch queues a last record
 * with state 0 if the state was not 0. */
#define JR_STATE_ROLLING 1   /* jack_transport_query() says Rolling */
#define JR_STATE_FREEWHEEL 2 /* JACK freewheels */

typedef struct {
    uint64_t stream_frame;    /* the cycle's first frame */
    uint64_t transport_frame; /* the transport's position then (0 unless watched) */
    uint32_t state;           /* JR_STATE_* bits, of those watched */
    uint32_t jack_frame;      /* JACK frame time of stream_frame */
} jr_state_t;

jr_ring_t *jr_capture_states(jr_capture_t *capture);
/* Which JR_STATE_* bits to follow (0: none); any thread, any time. */
void jr_capture_watch(jr_capture_t *capture, uint32_t watch);
/* 1 while JACK freewheels (as its freewheel callback last said). */
int jr_capture_freewheeling(const jr_capture_t *capture);

/* An overflow run still open (no cycle has fitted since it began).
 * Only meaningful once the callback can no longer run (after
 * jack_deactivate or server shutdown); returns 1 and fills *gap if so. */
int jr_capture_open_gap(const jr_capture_t *capture, jr_gap_t *gap);

void jr_capture_read_stats(const jr_capture_t *capture, jr_capture_stats_t *out);

/* Takes and resets the meters of all channels: peak |x|, and the sum of
 * squares with the number of frames it covers.  clips[] is the running
 * count of samples at or beyond full scale (never reset). */
void jr_capture_take_meters(jr_capture_t *capture, float *peaks,
                            float *sum_squares, uint32_t *frames,
                            uint64_t *clips);

/* A port's capture latency range in frames (min, max): for an output, what
 * its client declares; for an input, what JACK computed from its
 * connections.  Not realtime: called from Python. */
void jr_port_capture_latency(void *port, uint32_t range[2]);

/* Have the server work out every port's latency now (jack_recompute_total_
 * latencies): after connecting, so that the inputs' capture latencies are
 * known before a take reads them.  Returns JACK's error code (0: done).
 * Not realtime. */
int jr_recompute_latencies(void *client);

/* ------------------------------------------------------------------ */
/* File writer: frames into one sound file, for the disk writer (not   */
/* realtime; see filewrite.c).                                          */
/* ------------------------------------------------------------------ */

/* The libsndfile functions the file writer calls (sf_count_t is int64_t). */
typedef struct {
    int64_t (*write_raw)(void *sndfile, void *ptr, int64_t bytes);
    int64_t (*writef_float)(void *sndfile, void *ptr, int64_t frames);
    int64_t (*writef_int)(void *sndfile, void *ptr, int64_t frames);
    int64_t (*writef_short)(void *sndfile, void *ptr, int64_t frames);
} jr_sndfile_api_t;

/* One file of a take, as the file writer sees it. */
typedef struct {
    void *sndfile;               /* SNDFILE * */
    const jr_sndfile_api_t *api;
    uint32_t channels;           /* the file's */
    uint32_t bits;               /* integer samples: 16, 24 or 32; 0: float */
    int raw;                     /* 1: packed little-endian samples through
                                  * sf_write_raw; 0: sf_writef_float, _short,
                                  * or _int (24 bits in an int's top bits) */
    const uint32_t *map;         /* file channel c is column map[c] of the frames */
    const double *noise;         /* NULL, or each sample's dither in LSB
                                  * (16-bit only), in the call's frames */
    float *peaks;                /* NULL, or the take's, per file channel: */
    uint64_t *clips;             /* max |x|, samples with |x| >= 1.0 */
    void *scratch;               /* encoded samples: one write at most */
    size_t scratch_bytes;        /* at least one frame */
    size_t filled;               /* of scratch; 0 between calls */
    float *line;                 /* one frame's gathered channels */
    int32_t *integers;           /* one frame's integer samples */
} jr_file_writer_t;

/* Rows of the frames the files are given at a time (see filewrite.c). */
#define JR_ROWS_BYTES 262144

/* Bytes of one encoded sample. */
size_t jr_sample_bytes(uint32_t bits, int raw);

/* Appends `frame_count` frames (rows of `stride` floats; 0: every frame
 * is the same row) to each of the `count` files, peaks and clips measured on the way, in writes of at most
 * a file's scratch; everything is in the files when it returns 0.  On -1,
 * libsndfile wrote less than it was given to file *failed (its error says
 * why), and the files hold different numbers of frames. */
int jr_files_write(jr_file_writer_t *files, uint32_t count, const float *frames,
                   uint64_t frame_count, uint32_t stride, uint32_t *failed);

/* ------------------------------------------------------------------ */
/* Source: the built-in test-signal generator's process callback.      */
/* ------------------------------------------------------------------ */

typedef struct jr_source jr_source_t;

#define JR_SOURCE_COUNTER 0
#define JR_SOURCE_SINE 1
#define JR_SOURCE_SAWTOOTH 2

/* Counter signal: channel c at frame n carries k / 32768 with
 * k = ((n + c * JR_COUNTER_STRIDE) mod 65536) - 32768, exact in float32
 * and in 16-bit PCM, distinct per channel and never zero on two
 * channels at once. */
#define JR_COUNTER_STRIDE 4099

jr_source_t *jr_source_new(uint32_t channels, int kind, uint32_t sample_rate);
void jr_source_free(jr_source_t *source);
void jr_source_set_port(jr_source_t *source, uint32_t channel, void *port);
/* The capture latency (frames) port `channel` declares; 0 unless set.  Set
 * before jr_source_install, which installs the latency callback that
 * declares them (in JACK's non-realtime thread). */
void jr_source_set_latency(jr_source_t *source, uint32_t channel, uint32_t frames);
int jr_source_install(jr_source_t *source, void *client);
uint64_t jr_source_frames(const jr_source_t *source);
