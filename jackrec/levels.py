"""Levels: dBFS conversion and the one consumer of the callback's meters.

The callback's peaks are taken-and-reset by whoever reads them, so exactly
one `Meters` object per capture reads them; the status line, the summary
and (later) the TUI all look at it.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import numpy.typing as npt

from jackrec.capture import Capture, MeterReading

#: What a level of exactly zero is shown as.
FLOOR_DBFS = -math.inf


def dbfs(amplitude: float) -> float:
    """Amplitude relative to full scale (1.0) in dB; -inf for silence."""
    return 20.0 * math.log10(amplitude) if amplitude > 0 else FLOOR_DBFS


def format_dbfs(value: float) -> str:
    return "-inf" if value == FLOOR_DBFS else f"{value:.1f}"


class Meters:
    """Reads the capture's meters and keeps the peak of the whole session.

    Thread-safe: `poll` may run in one thread while others read.
    """

    def __init__(self, capture: Capture) -> None:
        self._capture = capture
        self._lock = threading.Lock()
        self.session_peaks: npt.NDArray[np.float32] = np.zeros(capture.channels, dtype=np.float32)
        self.latest: MeterReading | None = None

    def poll(self) -> MeterReading:
        """Take the levels since the last poll and fold them into the session."""
        with self._lock:
            reading = self._capture.take_meters()
            np.maximum(self.session_peaks, reading.peaks, out=self.session_peaks)
            self.latest = reading
            return reading

    def session_peaks_dbfs(self) -> list[float]:
        with self._lock:
            return [dbfs(float(p)) for p in self.session_peaks]


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
