"""Checking takes the level trigger began and its hold ended, on the counter signal.

The counter source's first channel is a sawtooth over 65536 frames, from
-1.0 up to just below +1.0: it is loud (beyond -6 dBFS) near either end of
its period and quiet in the middle, so the frames where it crosses a level
are known exactly.  A take's samples say which counter positions it holds,
and its sidecar which stream frames: together they pin every take's first
and last frame to the frame the trigger and the hold asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile as sf

from jackrec import counter
from jackrec.sidecar import read_sidecar

RATE = 48000
TRIGGER_DBFS = -6.0
LEVEL = 10 ** (TRIGGER_DBFS / 20)
RELEASE = 10 ** ((TRIGGER_DBFS - 6) / 20)  # the default: 6 dB below
HOLD_SECONDS = 0.1
HOLD = round(HOLD_SECONDS * RATE)
PREROLL_SECONDS = 0.2
PREROLL = round(PREROLL_SECONDS * RATE)


def positions(data: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
    """The counter position of each frame of a channel."""
    found: npt.NDArray[np.int64] = (np.rint(data * 32768).astype(np.int64) + 32768) % counter.PERIOD
    return found


def read_take(path: Path) -> tuple[npt.NDArray[np.float32], dict[str, Any]]:
    """Channel 1 of a complete, gapless take, and its sidecar."""
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    assert rate == RATE
    sidecar = read_sidecar(path)
    assert sidecar["complete"] and sidecar["frames"] == len(data) and sidecar["frames_lost"] == 0
    channel: npt.NDArray[np.float32] = data[:, 0]
    assert (np.diff(positions(channel)) % counter.PERIOD == 1).all(), "not one unbroken stretch"
    return channel, sidecar


def first_loud_from(stream_frame: int, offset: int) -> int:
    """The first stream frame from `stream_frame` on at the trigger level."""
    stream = np.arange(stream_frame, stream_frame + counter.PERIOD)
    values = counter.expected(0, 0, counter.PERIOD)[(stream + offset) % counter.PERIOD]
    return stream_frame + int(np.flatnonzero(np.abs(values) >= LEVEL)[0])


def check_triggered_takes(paths: list[Path]) -> None:
    """Takes of the counter's first channel, triggered at -6 dBFS, held 0.1 s, pre-roll 0.2 s.

    Each begins the pre-roll before its loud frame (the first take: at most
    that, as the stream may have begun later); each after the first at the
    first loud frame after the one before it; each ends exactly the hold
    after its last frame at the release level, with no silence that long
    before it.
    """
    takes = [read_take(path) for path in paths]
    data, sidecar = takes[0]
    offset = int(positions(data[:1])[0]) - sidecar["start"]["stream_frame"]
    previous_end = None
    for data, sidecar in takes:
        start = sidecar["start"]
        assert int(positions(data[:1])[0]) == (start["stream_frame"] + offset) % counter.PERIOD
        assert start["started_by"] == "trigger" and sidecar["ended_by"] == "trigger hold"
        cue = start["cue_stream_frame"]
        if previous_end is None:
            assert start["stream_frame"] == max(0, cue - PREROLL)
        else:  # listening again from the frame after the last take
            assert cue == first_loud_from(previous_end, offset)
            assert start["stream_frame"] == cue - PREROLL
        assert start["preroll_frames"] == cue - start["stream_frame"]
        assert abs(data[start["preroll_frames"]]) >= LEVEL
        heard = np.flatnonzero(np.abs(data[start["preroll_frames"] :]) >= RELEASE)
        heard += start["preroll_frames"]
        assert len(data) == heard[-1] + 1 + HOLD
        assert np.diff(heard).max() <= HOLD
        assert sidecar["trigger"]["last_loud_frame"] == heard[-1]
        assert sidecar["trigger"]["hold_frames"] == HOLD
        previous_end = start["stream_frame"] + len(data)
