"""Levels: dBFS conversion, the one consumer of the callback's meters, and
each take's own peaks.

The callback's peaks are taken-and-reset by whoever reads them, so exactly
one `Meters` object per capture reads them; the status line and the console
look at it.  A take's peaks and clips (`TakeLevels`) are measured by the
disk writer on exactly the frames it writes, so they are the file's.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import numpy.typing as npt

from jackrec.core.capture import Capture, MeterReading
from jackrec.core.peaks import accumulate_peaks

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


class TakeLevels:
    """Per-channel peak and clip count of the frames written to one take."""

    def __init__(self, channels: int) -> None:
        self.peaks = np.zeros(channels, dtype=np.float32)
        self.clips = np.zeros(channels, dtype=np.uint64)

    def add(self, frames: npt.NDArray[np.float32]) -> None:
        """Fold in C-contiguous float32 frames of shape ``(n, channels)``."""
        accumulate_peaks(frames, self.peaks, self.clips)

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
