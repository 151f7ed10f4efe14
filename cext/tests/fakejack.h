/*
 * A stand-in for the few libjack functions the process callbacks call, so
 * the C harness and the micro-benchmark can drive the real callbacks
 * without a JACK server.  A "port" is the address of a float * that points
 * at its buffer; the installed process callback is kept for the caller.
 */
#pragma once
#include <jack/jack.h>

extern JackProcessCallback fakejack_process;
extern void *fakejack_arg;
extern jack_nframes_t fakejack_frame_time;
