"""A session frozen in time, for snapshots of the console.

A test double: it answers what the console asks of a `Session` with fixed
values (levels, transport, log), so a screenshot is the same every time.
The console's behaviour against a real session is tested in
``tests/integration/test_tui.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jackrec import events
from jackrec.core.capture import MeterReading
from jackrec.session import Session, SessionOptions, SessionStatus


@dataclass(frozen=True)
class FrozenPort:
    name: str

    @property
    def shortname(self) -> str:
        return self.name.split(":", 1)[1]


class FrozenMeters:
    """Every poll reads the same levels: a ramp of sines, one clipping."""

    def __init__(self, channels: int) -> None:
        levels_db = -3.0 - 60.0 * np.arange(channels) / max(1, channels - 1)
        peaks = 10 ** (levels_db / 20)
        clips = np.zeros(channels, np.uint64)
        clips[0] = 3
        self.reading = MeterReading(
            peaks=peaks.astype(np.float32),
            mean_squares=peaks.astype(np.float64) ** 2 / 2,
            frames=np.full(channels, 1600, np.uint32),
            clips=clips,
        )

    def poll(self) -> MeterReading:
        return self.reading


class FrozenSession(Session):
    def __init__(self, channels: int, state: str = "recording") -> None:
        super().__init__(SessionOptions(channels=channels, preroll_seconds=5.0))
        self._inputs = [FrozenPort(f"jackrec:in_{i + 1}") for i in range(channels)]
        self._frozen_meters = FrozenMeters(channels)
        self._frozen_state = state
        self.armed = [i % 5 != 4 for i in range(channels)]
        self.xruns = 2
        take, at = Path("20261125-120000-take001.wav"), 1795600800.0
        for event in [
            events.TakeStarted(take, 0, time=at),
            events.Xrun(312, time=at),
            events.MarkerAdded(take, "marker 1", 96000, time=at),
        ]:
            self._events.append(event)
            self._events_total += 1

    @property
    def meters(self) -> FrozenMeters:  # type: ignore[override]
        return self._frozen_meters

    @property
    def state(self) -> str:
        return self._frozen_state

    @property
    def preroll_armed(self) -> bool:
        return False

    @property
    def sample_rate(self) -> int:
        return 48000

    def sources(self) -> list[tuple[str, ...]]:
        return [(f"system:capture_{i + 1}",) for i in range(self.channels)]

    def status(self) -> SessionStatus:
        return SessionStatus(
            state=self._frozen_state,
            take=Path("20261125-120000-take001.wav"),
            take_frames=48000 * 83,
            take_bytes=48000 * 83 * 4 * self.channels,
            ring_fill=0.004,
            preroll_fill=0.0,
            xruns=self.xruns,
            frames_lost=0,
            dsp_load=4.2,
            sample_rate=48000,
            period=256,
            disk_free=80 * 10**9,
        )
