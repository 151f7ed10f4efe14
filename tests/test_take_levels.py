"""A take's own peaks and clip counts (C, over interleaved frames) agree with NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from jackrec.levels import TakeLevels


@pytest.mark.parametrize("channels", [1, 3, 4, 63, 64, 65, 130, 1024])
def test_peaks_and_clips_of_every_channel(channels: int) -> None:
    rng = np.random.default_rng(channels)
    frames = rng.uniform(-1.25, 1.25, (700, channels)).astype(np.float32)
    frames[5, 0] = -1.0  # full scale is a clip, as in the meters
    levels = TakeLevels(channels)
    for block in np.array_split(frames, 3):  # in blocks, as the writer hands them over
        levels.add(np.ascontiguousarray(block))
    assert np.array_equal(levels.peaks, np.abs(frames).max(axis=0))
    assert np.array_equal(levels.clips, (np.abs(frames) >= 1.0).sum(axis=0))


def test_silence_is_minus_infinity() -> None:
    levels = TakeLevels(2)
    levels.add(np.zeros((10, 2), np.float32))
    assert levels.peaks_dbfs() == [-np.inf, -np.inf]
