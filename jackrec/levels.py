"""Levels: dBFS conversion, the one consumer of the callback's meters, and
each take's own peaks.

The callback's peaks are taken-and-reset by whoever reads them, so exactly
one `Meters` object per capture reads them; the status line and the console
look at it.  A service's meters have many readers (each console attached to
it), so `SharedMeters` folds whatever one of them takes into every reader's
own account.  A take's peaks and clips (`TakeLevels`) are measured by the
disk writer on exactly the frames it writes, so they are the file's.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import numpy.typing as npt

from jackrec.core.capture import Capture, MeterReading

#: What a level of exactly zero is shown as.
FLOOR_DBFS = -math.inf


def dbfs(amplitude: float) -> float:
    """Amplitude relative to full scale (1.0) in dB; -inf for silence."""
    return 20.0 * math.log10(amplitude) if amplitude > 0 else FLOOR_DBFS


def format_dbfs(value: float) -> str:
    return "-inf" if value == FLOOR_DBFS else f"{value:.1f}"


class Meters:
    """Reads the capture's meters; `poll` is safe from any thread."""

    def __init__(self, capture: Capture) -> None:
        self._capture = capture
        self._lock = threading.Lock()  # take_meters fills buffers of the capture's

    def poll(self) -> MeterReading:
        """Take the levels since the last poll."""
        with self._lock:
            return self._capture.take_meters()


class SharedMeters:
    """One capture's meters for several readers, each reading at its own pace.

    Whichever reader looks, the levels taken from the capture are folded
    into every reader's account (`MeterAccount`), and the reader gets, and
    resets, only its own: no reader steals another's peaks.  Safe from any
    thread.  The source is swapped with `attach`: a capture about to be
    closed must be detached first, so that nobody reads it any more.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source: Meters | None = None
        self._channels = 0
        self._accounts: list[MeterAccount] = []

    def attach(self, source: Meters | None, channels: int = 0) -> None:
        """Read `source`, of `channels`, from now on (None: nothing to read).

        Accounts of another number of channels start again, empty.
        """
        with self._lock:
            self._source = source
            if source is not None and channels != self._channels:
                self._channels = channels
                for account in self._accounts:
                    account.clear(channels)

    def reader(self) -> MeterAccount:
        """A new reader's account; close it when done."""
        with self._lock:
            account = MeterAccount(self, self._channels)
            self._accounts.append(account)
        return account

    def _take(self, account: MeterAccount) -> MeterReading:
        with self._lock:
            if self._source is not None:
                reading = self._source.poll()
                for each in self._accounts:
                    each.add(reading)
            return account.take_and_reset()

    def _remove(self, account: MeterAccount) -> None:
        with self._lock:
            if account in self._accounts:
                self._accounts.remove(account)


class MeterAccount:
    """The levels since one reader of `SharedMeters` last looked."""

    def __init__(self, shared: SharedMeters, channels: int) -> None:
        self._shared = shared
        self.clear(channels)

    def take(self) -> MeterReading:
        """The levels since the last call (see `MeterReading`)."""
        return self._shared._take(self)

    def close(self) -> None:
        """Stop accounting for this reader."""
        self._shared._remove(self)

    def clear(self, channels: int) -> None:
        self._peaks = np.zeros(channels, dtype=np.float32)
        self._sums = np.zeros(channels, dtype=np.float64)
        self._frames = np.zeros(channels, dtype=np.uint64)
        self._clips = np.zeros(channels, dtype=np.uint64)

    def add(self, reading: MeterReading) -> None:
        np.maximum(self._peaks, reading.peaks, out=self._peaks)
        self._sums += reading.mean_squares * reading.frames
        self._frames += reading.frames
        self._clips = reading.clips.copy()  # a running count already

    def take_and_reset(self) -> MeterReading:
        frames = self._frames
        mean_squares = np.divide(self._sums, frames, out=np.zeros(len(frames)), where=frames > 0)
        reading = MeterReading(
            self._peaks.copy(),
            mean_squares,
            np.minimum(frames, np.iinfo(np.uint32).max).astype(np.uint32),
            self._clips.copy(),
        )
        self._peaks[:] = 0
        self._sums[:] = 0
        self._frames[:] = 0
        return reading


class TakeLevels:
    """Per-channel peak and clip count of the frames written to one take.

    Measured by the C writer as it writes them (`jackrec.core.filewrite`).
    """

    def __init__(self, channels: int) -> None:
        self.peaks = np.zeros(channels, dtype=np.float32)
        self.clips = np.zeros(channels, dtype=np.uint64)

    def peaks_dbfs(self) -> list[float]:
        return [dbfs(float(peak)) for peak in self.peaks]


#: The IEC 60268-18 meter scale as meterbridge and jack_capture draw it:
#: (dB, deflection) breakpoints, linear in between.  It gives the top 20 dB
#: half the scale, where levels are read most closely.
IEC_SCALE = ((-70.0, 0.0), (-60.0, 0.025), (-50.0, 0.075), (-40.0, 0.15),
             (-30.0, 0.30), (-20.0, 0.50), (0.0, 1.0))  # fmt: skip


def iec_deflection(db: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Meter deflection (0 to 1) of levels in dBFS on the IEC 268 scale."""
    points, deflections = zip(*IEC_SCALE, strict=True)
    values = np.nan_to_num(np.asarray(db, dtype=np.float64), nan=-np.inf, neginf=-200.0)
    return np.asarray(np.interp(values, points, deflections), dtype=np.float64)
