"""The test-signal generator's process callback (``cext/source.c``).

`SignalGenerator` owns the C state and installs its callback on a JACK
client, as `jackrec.core.capture.Capture` does for the recorder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import jack

from jackrec._core import ffi, lib
from jackrec.errors import JackrecError

SignalKind = Literal["counter", "sine", "sawtooth"]
KINDS: dict[str, int] = {
    "counter": lib.JR_SOURCE_COUNTER,
    "sine": lib.JR_SOURCE_SINE,
    "sawtooth": lib.JR_SOURCE_SAWTOOTH,
}

#: Channel c of the counter signal runs this many frames ahead of channel 0
#: (see ``jackrec_core.h``), so that no two channels are alike.
COUNTER_STRIDE = int(lib.JR_COUNTER_STRIDE)


class SignalGenerator:
    """A C process callback writing `kind` to `channels` output ports.

    Raises
    ------
    JackrecError
        When its memory cannot be allocated.
    """

    def __init__(self, channels: int, kind: SignalKind, sample_rate: int) -> None:
        self._ptr = lib.jr_source_new(channels, KINDS[kind], sample_rate)
        if self._ptr == ffi.NULL:
            raise JackrecError(f"cannot allocate a signal source of {channels} channels")

    def set_latency(self, channel: int, frames: int) -> None:
        """Have port `channel` declare a capture latency of `frames` (before `install`)."""
        lib.jr_source_set_latency(self._ptr, channel, frames)

    def install(self, client: jack.Client, ports: Sequence[jack.Port]) -> None:
        """Make the C callbacks (process, latency) those of an inactive `client`."""
        for channel, port in enumerate(ports):
            lib.jr_source_set_port(self._ptr, channel, port._ptr)
        if lib.jr_source_install(self._ptr, client._ptr) != 0:
            raise JackrecError("JACK refused the process callback")

    @property
    def frames(self) -> int:
        """Frames generated so far."""
        return int(lib.jr_source_frames(self._ptr))

    def close(self) -> None:
        """Free the C state; the client must be deactivated first."""
        if self._ptr is not None:
            lib.jr_source_free(self._ptr)
            self._ptr = None
