"""Port latencies (``cext/latency.c``): JACK-Client has no binding for them."""

from __future__ import annotations

import jack

from jackrec._core import ffi, lib


def capture_latency(port: jack.Port) -> tuple[int, int]:
    """The capture latency range (min, max) of `port`, in frames.

    For a source's output, what its client declares; for an input, what
    JACK computed from its connections (once it has got round to it).
    """
    latency = ffi.new("uint32_t[2]")
    lib.jr_port_capture_latency(port._ptr, latency)
    return int(latency[0]), int(latency[1])
