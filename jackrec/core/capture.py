"""The recorder's realtime core, seen from Python.

`Capture` owns the C ``jr_capture_t``: the process callback's state, the
frame ring it fills, the queue of overflow gaps and the queue of transport
and freewheel changes.  It is the one owner of
that memory and frees it in `close`, which must come after the JACK client
is deactivated (the callback holds a pointer to it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jack
import numpy as np
import numpy.typing as npt

from jackrec._core import ffi, lib
from jackrec.core.ring import FrameRing
from jackrec.errors import JackrecError

#: Overflow runs that can be queued before the writer picks them up.  A run
#: only ends when the writer frees ring space, so this is generous.
GAP_QUEUE_CAPACITY = 4096

HISTOGRAM_FLOORS_NS = np.array(
    [lib.jr_histogram_floor_ns(b) for b in range(lib.JR_HISTOGRAM_BUCKETS)],
    dtype=np.float64,
)


@dataclass(frozen=True)
class Gap:
    """Frames lost to a full ring.

    Attributes
    ----------
    ring_position
        Frames that reached the ring before the gap.
    stream_frame
        Position of the first lost frame in the recording's timeline.
    frames
        Length of the gap.
    jack_frame
        JACK frame time of the first lost frame (wraps at 2**32).
    """

    ring_position: int
    stream_frame: int
    frames: int
    jack_frame: int

    @classmethod
    def from_c(cls, gap: Any) -> Gap:
        return cls(
            int(gap.ring_position),
            int(gap.stream_frame),
            int(gap.frames),
            int(gap.jack_frame),
        )


#: The bits of `StateChange.state` (and of `Capture.watch`).
ROLLING = int(lib.JR_STATE_ROLLING)
FREEWHEEL = int(lib.JR_STATE_FREEWHEEL)


@dataclass(frozen=True)
class StateChange:
    """The watched JACK state changed at the first frame of a cycle.

    Attributes
    ----------
    stream_frame
        The first frame of the cycle in which the change was first seen.
    state
        `ROLLING` and `FREEWHEEL` bits, of those watched, from then on.
    transport_frame
        The transport's position in that cycle (0 unless the transport is
        watched).
    jack_frame
        JACK frame time of `stream_frame` (wraps at 2**32).
    """

    stream_frame: int
    state: int
    transport_frame: int
    jack_frame: int


class StateQueue:
    """Consumer side of the callback's queue of `StateChange` records."""

    def __init__(self, pointer: Any) -> None:
        self._ptr = pointer
        self._regions = ffi.new("jr_regions_t *")

    def pop(self) -> StateChange | None:
        """The oldest queued change (taken off the queue), or None."""
        if lib.jr_ring_read_regions(self._ptr, 1, self._regions) == 0:
            return None
        record = ffi.cast("jr_state_t *", self._regions.data[0])[0]
        change = StateChange(
            int(record.stream_frame),
            int(record.state),
            int(record.transport_frame),
            int(record.jack_frame),
        )
        lib.jr_ring_read_advance(self._ptr, 1)
        return change


@dataclass(frozen=True)
class CaptureStats:
    """A snapshot of the process callback's counters."""

    cycles: int
    stream_frames: int
    frames_lost: int
    overflow_runs: int
    ring_fill_max: int
    ring_capacity: int
    callback_ns_last: int
    callback_ns_max: int
    histogram: tuple[int, ...]
    nframes_max: int
    started: bool
    first_jack_frame: int

    @property
    def ring_high_water(self) -> float:
        """The fullest the ring has been, as a share of its size."""
        return self.ring_fill_max / self.ring_capacity

    def callback_ns_quantile(self, q: float) -> float:
        """Upper bound of the `q` quantile of callback durations, in ns.

        The histogram has 12.5 % resolution; the bound is the top of the
        bucket holding the quantile (0 when no cycle ran).
        """
        counts = np.array(self.histogram, dtype=np.float64)
        total = counts.sum()
        if total == 0:
            return 0.0
        bucket = int(np.searchsorted(np.cumsum(counts), q * total))
        bucket = min(bucket, len(counts) - 1)
        if bucket + 1 < len(HISTOGRAM_FLOORS_NS):
            return float(HISTOGRAM_FLOORS_NS[bucket + 1])
        return float(self.callback_ns_max)


@dataclass(frozen=True)
class MeterReading:
    """Per-channel levels since the previous reading.

    Attributes
    ----------
    peaks
        Largest absolute sample value.
    mean_squares
        Mean of the squared samples (0 where no frame was seen).
    frames
        Frames the reading covers, per channel.
    clips
        Running count of samples at or beyond full scale.
    """

    peaks: npt.NDArray[np.float32]
    mean_squares: npt.NDArray[np.float64]
    frames: npt.NDArray[np.uint32]
    clips: npt.NDArray[np.uint64]


class GapQueue:
    """Consumer side of the callback's queue of overflow gaps."""

    def __init__(self, pointer: Any) -> None:
        self._ptr = pointer
        self._regions = ffi.new("jr_regions_t *")

    def peek(self) -> Gap | None:
        """The oldest queued gap, or None."""
        if lib.jr_ring_read_regions(self._ptr, 1, self._regions) == 0:
            return None
        return Gap.from_c(ffi.cast("jr_gap_t *", self._regions.data[0])[0])

    def pop(self) -> None:
        lib.jr_ring_read_advance(self._ptr, 1)


class Capture:
    """The C process callback and everything it touches.

    Parameters
    ----------
    channels
        Number of input channels.
    ring_frames
        Minimum ring size in frames (rounded up to a power of two).

    Raises
    ------
    MemoryError
        When the ring cannot be allocated.
    """

    def __init__(self, channels: int, ring_frames: int) -> None:
        pointer = lib.jr_capture_new(channels, ring_frames, GAP_QUEUE_CAPACITY)
        if pointer == ffi.NULL:
            raise MemoryError(
                f"cannot allocate a ring of {ring_frames} frames x {channels} channels"
            )
        self._ptr = pointer
        self.channels = channels
        self.frames = FrameRing(lib.jr_capture_frames(pointer), channels)
        self.gaps = GapQueue(lib.jr_capture_gaps(pointer))
        self.states = StateQueue(lib.jr_capture_states(pointer))
        self._stats = ffi.new("jr_capture_stats_t *")
        self._peaks = np.zeros(channels, dtype=np.float32)
        self._sums = np.zeros(channels, dtype=np.float32)
        self._meter_frames = np.zeros(channels, dtype=np.uint32)
        self._clips = np.zeros(channels, dtype=np.uint64)
        # the C views of those, made once: take_meters runs 30 times a second
        self._meter_buffers = (
            ffi.from_buffer("float[]", self._peaks),
            ffi.from_buffer("float[]", self._sums),
            ffi.from_buffer("uint32_t[]", self._meter_frames),
            ffi.from_buffer("uint64_t[]", self._clips),
        )

    @property
    def memory_locked(self) -> bool:
        """Whether the frame ring is locked in RAM (mlock succeeded)."""
        return bool(lib.jr_capture_memory_locked(self._ptr))

    def install(self, client: jack.Client, ports: Sequence[jack.Port]) -> None:
        """Make the C callbacks the process and freewheel callbacks of an inactive `client`.

        Only ``void *`` crosses from JACK-Client's ffi into ours.
        """
        if len(ports) != self.channels:
            raise ValueError(f"expected {self.channels} ports, got {len(ports)}")
        for channel, port in enumerate(ports):
            lib.jr_capture_set_port(self._ptr, channel, port._ptr)
        if lib.jr_capture_install(self._ptr, client._ptr) != 0:
            raise JackrecError("JACK refused the process callback")

    def set_capturing(self, capturing: bool) -> None:
        """Start or stop feeding the ring (metering never stops)."""
        lib.jr_capture_set_capturing(self._ptr, int(capturing))

    def watch(self, state: int) -> None:
        """Queue changes of these `ROLLING` / `FREEWHEEL` bits (0: none) while capturing."""
        lib.jr_capture_watch(self._ptr, state)

    @property
    def freewheeling(self) -> bool:
        """Whether JACK freewheels (as its freewheel callback last said)."""
        return bool(lib.jr_capture_freewheeling(self._ptr))

    def stats(self) -> CaptureStats:
        lib.jr_capture_read_stats(self._ptr, self._stats)
        s = self._stats
        return CaptureStats(
            cycles=int(s.cycles),
            stream_frames=int(s.stream_frames),
            frames_lost=int(s.frames_lost),
            overflow_runs=int(s.overflow_runs),
            ring_fill_max=int(s.ring_fill_max),
            ring_capacity=self.frames.capacity,
            callback_ns_last=int(s.callback_ns_last),
            callback_ns_max=int(s.callback_ns_max),
            histogram=tuple(int(n) for n in s.histogram),
            nframes_max=int(s.nframes_max),
            started=bool(s.started),
            first_jack_frame=int(s.first_jack_frame),
        )

    def take_meters(self) -> MeterReading:
        """Take (and reset) the levels since the previous call.

        Only one consumer should take meters; see `jackrec.levels.Meters`.
        """
        lib.jr_capture_take_meters(self._ptr, *self._meter_buffers)
        frames = self._meter_frames.copy()
        mean_squares = np.divide(
            self._sums.astype(np.float64),
            frames,
            out=np.zeros(self.channels),
            where=frames > 0,
        )
        return MeterReading(self._peaks.copy(), mean_squares, frames, self._clips.copy())

    def open_gap(self) -> Gap | None:
        """The overflow run still open when the callback stopped, if any.

        Call only after the client is deactivated or the server is gone.
        """
        gap = ffi.new("jr_gap_t *")
        if lib.jr_capture_open_gap(self._ptr, gap):
            return Gap.from_c(gap)
        return None

    def close(self) -> None:
        """Free the C memory.  The client must be deactivated first."""
        if self._ptr is not None:
            lib.jr_capture_free(self._ptr)
            self._ptr = None
