"""A recorder frozen in time, for snapshots of the console.

A test double of `jackrec.recorder.Recorder`: it answers what the console
asks with fixed values (levels, transport, log), so a screenshot is the
same every time, and its commands do nothing.  The console's behaviour
against a real session is tested in ``tests/integration/test_tui.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from jackrec import events
from jackrec.core.capture import MeterReading
from jackrec.recorder import Arming, Channel
from jackrec.session import SessionStatus

RATE = 48000
FLOAT_BYTES = 4


def frozen_levels(channels: int) -> MeterReading:
    """A ramp of sines, -3 to -63 dBFS, the first channel clipping."""
    levels_db = -3.0 - 60.0 * np.arange(channels) / max(1, channels - 1)
    peaks = 10 ** (levels_db / 20)
    clips = np.zeros(channels, np.uint64)
    clips[0] = 3
    return MeterReading(
        peaks=peaks.astype(np.float32),
        mean_squares=peaks.astype(np.float64) ** 2 / 2,
        frames=np.full(channels, 1600, np.uint32),
        clips=clips,
    )


class FrozenRecorder:
    """83 seconds into a take of `channels` (every fifth disarmed), in `state`."""

    session = None
    namer = None
    ends_with_console = True
    lost = None
    channels_version = 0

    def __init__(self, channels: int, state: str = "recording") -> None:
        self.channels = channels
        self._state = state
        self._levels = frozen_levels(channels)
        take, at = Path("20261125-120000-take001.wav"), 1795600800.0
        self._events: list[events.Event] = [
            events.TakeStarted(take, 0, time=at),
            events.Xrun(312, time=at),
            events.MarkerAdded(take, "marker 1", 96000, time=at),
        ]

    def channel_list(self) -> list[Channel]:
        return [
            Channel(f"jackrec:in_{i + 1}", (f"system:capture_{i + 1}",), i % 5 != 4)
            for i in range(self.channels)
        ]

    def meters(self) -> MeterReading:
        return self._levels

    def status(self) -> SessionStatus:
        return SessionStatus(
            state=self._state,
            take=Path("20261125-120000-take001.wav"),
            take_frames=RATE * 83,
            take_bytes=RATE * 83 * FLOAT_BYTES * self.channels,
            ring_fill=0.004,
            preroll_fill=0.0,
            xruns=2,
            frames_lost=0,
            dsp_load=4.2,
            sample_rate=RATE,
            period=256,
            disk_free=80 * 10**9,
        )

    def bytes_per_second(self) -> float:
        armed = sum(channel.armed for channel in self.channel_list())
        return float(FLOAT_BYTES * armed * RATE)

    def events_since(self, seen: int) -> tuple[list[events.Event], int]:
        return self._events[seen:], len(self._events)

    def arm_channels(self, armed: Sequence[bool]) -> None:
        pass

    def record(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def pause(self) -> None:
        pass

    def resume(self) -> None:
        pass

    def new_take(self) -> None:
        pass

    def marker(self, label: str) -> None:
        pass

    def arm(self) -> Arming:
        return Arming(0.0, None)

    def disarm(self) -> None:
        pass

    def step(self) -> None:
        pass
