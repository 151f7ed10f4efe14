"""Port latencies (``cext/latency.c``): JACK-Client has no binding for them."""

from __future__ import annotations

import jack

from jackrec._core import ffi, lib
from jackrec.errors import JackrecError


def capture_latency(port: jack.Port) -> tuple[int, int]:
    """The capture latency range (min, max) of `port`, in frames.

    For a source's output, what its client declares; for an input, what
    JACK computed from its connections (once it has got round to it).
    """
    latency = ffi.new("uint32_t[2]")
    lib.jr_port_capture_latency(port._ptr, latency)
    return int(latency[0]), int(latency[1])


def recompute_latencies(client: jack.Client) -> None:
    """Have the server work out every port's latency now.

    JACK does it on its own some time after connections change; a take
    begun right after connecting would read its inputs' latencies as 0.

    Raises
    ------
    JackrecError
        With JACK's error code, if the server refuses.
    """
    code = lib.jr_recompute_latencies(client._ptr)
    if code != 0:
        raise JackrecError(f"JACK could not recompute latencies (error {code})")
