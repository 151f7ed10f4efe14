/*
 * The built-in test-signal source: a JACK process callback that writes a
 * counter (for bit-exact tests and benchmarks), sines (for the demo) or
 * sawtooths (every meter moves every frame: for measuring the console) to
 * its output ports.  It lives in C for the same reason as the recorder: a
 * generator written in Python would be a source of xruns itself.
 */
#define _POSIX_C_SOURCE 200809L
#include "jackrec_core.h"
#include "memory.h"

#include <jack/jack.h>
#include <math.h>
#include <stdatomic.h>

#define TWO_PI 6.283185307179586
/* just under full scale, so a sawtooth never latches a meter's clip */
#define SAWTOOTH_LEVEL 0.98

struct jr_source {
    uint32_t channels;
    int kind;
    jack_port_t **ports;
    uint32_t *latency; /* capture latency each port declares, in frames */
    /* sine and sawtooth state, touched by the callback only */
    double *phase;     /* in cycles, [0, 1) */
    double *increment; /* cycles per frame */
    double *level;     /* peak amplitude */
    double lfo_increment;
    double lfo_phase;
    _Atomic uint64_t frames; /* frames generated; written by the callback only */
};

static void write_counter(uint32_t ch, float *out, uint64_t position,
                          jack_nframes_t nframes)
{
    uint64_t n = position + (uint64_t)ch * JR_COUNTER_STRIDE;
    for (jack_nframes_t f = 0; f < nframes; f++, n++) {
        int32_t k = (int32_t)(n & 0xFFFFu) - 32768;
        out[f] = (float)k * (1.0f / 32768.0f);
    }
}

static void write_sine(jr_source_t *s, uint32_t ch, float *out, jack_nframes_t nframes)
{
    /* a slow swell per channel, so the meters move */
    double swell = 0.55 + 0.45 * sin(TWO_PI * (s->lfo_phase + ch / 7.0));
    float amplitude = (float)(s->level[ch] * swell);
    double phase = s->phase[ch];
    for (jack_nframes_t f = 0; f < nframes; f++) {
        out[f] = amplitude * (float)sin(TWO_PI * phase);
        phase += s->increment[ch];
        phase -= floor(phase);
    }
    s->phase[ch] = phase;
}

static void write_sawtooth(jr_source_t *s, uint32_t ch, float *out, jack_nframes_t nframes)
{
    double phase = s->phase[ch];
    for (jack_nframes_t f = 0; f < nframes; f++) {
        out[f] = (float)(SAWTOOTH_LEVEL * (2.0 * phase - 1.0));
        phase += s->increment[ch];
        phase -= floor(phase);
    }
    s->phase[ch] = phase;
}

static int process(jack_nframes_t nframes, void *arg)
{
    jr_source_t *s = arg;
    uint64_t position = atomic_load_explicit(&s->frames, memory_order_relaxed);
    for (uint32_t ch = 0; ch < s->channels; ch++) {
        float *out = jack_port_get_buffer(s->ports[ch], nframes);
        if (s->kind == JR_SOURCE_COUNTER)
            write_counter(ch, out, position, nframes);
        else if (s->kind == JR_SOURCE_SINE)
            write_sine(s, ch, out, nframes);
        else
            write_sawtooth(s, ch, out, nframes);
    }
    s->lfo_phase += s->lfo_increment * nframes;
    s->lfo_phase -= floor(s->lfo_phase);
    atomic_store_explicit(&s->frames, position + nframes, memory_order_relaxed);
    return 0;
}

jr_source_t *jr_source_new(uint32_t channels, int kind, uint32_t sample_rate)
{
    if (channels == 0 || sample_rate == 0 ||
        (kind != JR_SOURCE_COUNTER && kind != JR_SOURCE_SINE &&
         kind != JR_SOURCE_SAWTOOTH))
        return NULL;
    jr_source_t *s = jr_memory_alloc(sizeof *s, NULL);
    if (!s)
        return NULL;
    s->channels = channels;
    s->kind = kind;
    s->ports = jr_memory_alloc(channels * sizeof *s->ports, NULL);
    s->phase = jr_memory_alloc(channels * sizeof *s->phase, NULL);
    s->increment = jr_memory_alloc(channels * sizeof *s->increment, NULL);
    s->level = jr_memory_alloc(channels * sizeof *s->level, NULL);
    s->latency = jr_memory_alloc(channels * sizeof *s->latency, NULL);
    if (!s->ports || !s->phase || !s->increment || !s->level || !s->latency) {
        jr_source_free(s);
        return NULL;
    }
    for (uint32_t ch = 0; ch < channels; ch++) {
        /* a semitone apart from A2, levels stepping down 3 dB per channel
         * over an octave of channels */
        double hz = 110.0 * pow(2.0, (ch % 48) / 12.0);
        if (kind == JR_SOURCE_SAWTOOTH) /* 1 to 2.9 Hz: every meter sweeps */
            hz = 1.0 + (ch % 16) / 8.0;
        s->increment[ch] = hz / sample_rate;
        s->level[ch] = 0.9 * pow(10.0, -3.0 * (ch % 12) / 20.0);
    }
    s->lfo_increment = 0.25 / sample_rate;
    return s;
}

void jr_source_free(jr_source_t *s)
{
    if (!s)
        return;
    jr_memory_free(s->latency, s->channels * sizeof *s->latency, 0);
    jr_memory_free(s->level, s->channels * sizeof *s->level, 0);
    jr_memory_free(s->increment, s->channels * sizeof *s->increment, 0);
    jr_memory_free(s->phase, s->channels * sizeof *s->phase, 0);
    jr_memory_free(s->ports, s->channels * sizeof *s->ports, 0);
    jr_memory_free(s, sizeof *s, 0);
}

void jr_source_set_port(jr_source_t *s, uint32_t channel, void *port)
{
    if (channel < s->channels)
        s->ports[channel] = port;
}

void jr_source_set_latency(jr_source_t *s, uint32_t channel, uint32_t frames)
{
    if (channel < s->channels)
        s->latency[channel] = frames;
}

/* JACK asks each client for its ports' latencies after a graph change; a
 * source declares its outputs' capture latency (it has no inputs). */
static void declare_latency(jack_latency_callback_mode_t mode, void *arg)
{
    jr_source_t *s = arg;
    if (mode != JackCaptureLatency)
        return;
    for (uint32_t ch = 0; ch < s->channels; ch++) {
        jack_latency_range_t range = {s->latency[ch], s->latency[ch]};
        jack_port_set_latency_range(s->ports[ch], JackCaptureLatency, &range);
    }
}

int jr_source_install(jr_source_t *s, void *client)
{
    for (uint32_t ch = 0; ch < s->channels; ch++)
        if (!s->ports[ch])
            return -1;
    if (jack_set_latency_callback(client, declare_latency, s) != 0)
        return -1;
    return jack_set_process_callback(client, process, s);
}

uint64_t jr_source_frames(const jr_source_t *s)
{
    return atomic_load_explicit(&s->frames, memory_order_relaxed);
}
