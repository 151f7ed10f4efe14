"""Meter ballistics: how the bars move, independent of how they are drawn.

Per channel, from the readings the callback's meters give (peak and mean
square since the last look):

- peak: rises at once, falls at `PEAK_FALL_DB_PER_S` (a PPM-like return);
- peak hold: the highest peak, held `HOLD_SECONDS`, then falling like the peak;
- RMS: the mean square smoothed with a `RMS_SECONDS` time constant;
- clip: latched on any sample at or beyond full scale, until cleared.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from jackrec.core.capture import MeterReading

PEAK_FALL_DB_PER_S = 20.0 / 1.5
HOLD_SECONDS = 2.0
RMS_SECONDS = 0.3
FLOOR_DB = -120.0

Levels = npt.NDArray[np.float64]


def to_db(amplitude: npt.ArrayLike) -> Levels:
    with np.errstate(divide="ignore"):
        return np.maximum(20.0 * np.log10(np.asarray(amplitude, dtype=np.float64)), FLOOR_DB)


class Ballistics:
    """Display state of `channels` meters, advanced by `update`."""

    def __init__(self, channels: int) -> None:
        self.peak_db: Levels = np.full(channels, FLOOR_DB)
        self.hold_db: Levels = np.full(channels, FLOOR_DB)
        self.rms_db: Levels = np.full(channels, FLOOR_DB)
        self.clipped = np.zeros(channels, dtype=bool)
        self._hold_age: Levels = np.zeros(channels)
        self._mean_square: Levels = np.zeros(channels)
        self._clips_seen = np.zeros(channels, dtype=np.uint64)

    def update(self, reading: MeterReading, seconds: float) -> None:
        """Fold in a reading that covers the last `seconds`."""
        fall = PEAK_FALL_DB_PER_S * seconds
        new_peak = to_db(reading.peaks)
        self.peak_db = np.maximum(new_peak, self.peak_db - fall)

        self._hold_age += seconds
        higher = new_peak >= self.hold_db
        self.hold_db = np.where(higher, new_peak, self.hold_db)
        self._hold_age[higher] = 0.0
        falling = self._hold_age > HOLD_SECONDS
        self.hold_db[falling] = np.maximum(self.hold_db[falling] - fall, self.peak_db[falling])

        weight = 1.0 - np.exp(-seconds / RMS_SECONDS)
        seen = reading.frames > 0
        self._mean_square[seen] += weight * (reading.mean_squares[seen] - self._mean_square[seen])
        self.rms_db = to_db(np.sqrt(self._mean_square))

        self.clipped |= reading.clips > self._clips_seen
        self._clips_seen = reading.clips.copy()

    def clear_clips(self, channel: int | None = None) -> None:
        if channel is None:
            self.clipped[:] = False
        else:
            self.clipped[channel] = False
