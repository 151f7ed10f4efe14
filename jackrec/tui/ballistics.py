"""Meter ballistics: how the bars move, independent of how they are drawn.

Per channel, from the readings the callback's meters give (peak and mean
square since the last look):

- peak: rises at once, falls at `PEAK_FALL_DB_PER_S` (a PPM-like return);
- peak hold: the highest peak, held `HOLD_SECONDS`, then falling like the peak;
- RMS: the mean square smoothed with a `RMS_SECONDS` time constant;
- clip: latched on any sample at or beyond full scale, until cleared.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from jackrec.core.capture import MeterReading

PEAK_FALL_DB_PER_S = 20.0 / 1.5
HOLD_SECONDS = 2.0
RMS_SECONDS = 0.3
FLOOR_DB = -120.0
FLOOR_AMPLITUDE = 10.0 ** (FLOOR_DB / 20.0)

Levels = npt.NDArray[np.float64]


def to_db(amplitude: npt.ArrayLike) -> Levels:
    # floored before the logarithm, so silence needs no special case
    floored = np.maximum(np.asarray(amplitude, dtype=np.float64), FLOOR_AMPLITUDE)
    levels: Levels = np.maximum(20.0 * np.log10(floored), FLOOR_DB)
    return levels


class Ballistics:
    """Display state of `channels` meters, advanced by `update`.

    Written as whole-array steps without masks: it runs 30 times a second,
    and for a few dozen channels numpy's cost is per call, not per channel.
    """

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

        higher = new_peak >= self.hold_db
        self._hold_age = np.where(higher, 0.0, self._hold_age + seconds)
        held = np.where(higher, new_peak, self.hold_db)
        falling = self._hold_age > HOLD_SECONDS
        self.hold_db = np.where(falling, np.maximum(held - fall, self.peak_db), held)

        weight = 1.0 - math.exp(-seconds / RMS_SECONDS)
        mean_square = self._mean_square
        seen = reading.frames > 0
        self._mean_square = np.where(
            seen, mean_square + weight * (reading.mean_squares - mean_square), mean_square
        )
        self.rms_db = to_db(np.sqrt(self._mean_square))

        self.clipped |= reading.clips > self._clips_seen
        self._clips_seen = reading.clips.copy()

    def clear_clips(self, channel: int | None = None) -> None:
        if channel is None:
            self.clipped[:] = False
        else:
            self.clipped[channel] = False
