/*
 * A stand-in for the few libjack functions the process callbacks call, so
 * the C harness and the micro-benchmark can drive the real callbacks
 * without a JACK server.  A "port" is the address of a float * that points
 * at its buffer; the installed callbacks are kept for the caller, and the
 * transport's state and position are the caller's to set.
 */
#pragma once
#include <jack/jack.h>
#include <jack/transport.h>

extern JackProcessCallback fakejack_process;
extern void *fakejack_arg;
extern jack_nframes_t fakejack_frame_time;
extern JackFreewheelCallback fakejack_freewheel;
extern void *fakejack_freewheel_arg;
extern jack_transport_state_t fakejack_transport_state;
extern jack_nframes_t fakejack_transport_frame;
