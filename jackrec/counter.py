"""Checking a recording of the counter signal: gapless, bit-exact, in order.

The source (``cext/source.c``) writes ``k / 32768`` on channel ``c`` at
frame ``n``, with ``k = ((n + c * STRIDE) mod 65536) - 32768``.  A recording
of it is correct when every channel carries the same position ``n`` at every
frame (channel order), and ``n`` advances by one per file frame.  Frames the
recorder lost show up as a jump; silence written in place of lost frames
(all channels exactly zero, which the counter never is on two channels at
once) keeps the timeline when its length equals the jump.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from jackrec._core import lib

STRIDE = int(lib.JR_COUNTER_STRIDE)
PERIOD = 65536


def expected(channel: int, start: int, frames: int) -> npt.NDArray[np.float32]:
    """The counter on `channel` for positions ``start .. start + frames``."""
    n = np.arange(start, start + frames, dtype=np.int64) + channel * STRIDE
    return (((n % PERIOD) - 32768) / 32768.0).astype(np.float32)


@dataclass
class CounterReport:
    """What `check` found.

    The *offset* of a frame is its counter position minus its file frame
    index; in a perfect recording it never changes.  Lost frames raise it,
    repeated frames lower it, and a cycle torn by a late client (an xrun in
    JACK's asynchronous mode) moves it for part of one period only.

    Attributes
    ----------
    frames
        Frames in the recording.
    exact
        Every non-silent sample lies exactly on the counter's grid.
    misordered_frames
        Frames whose channels do not all carry the same position.
    discontinuities
        ``(file frame, change of offset)`` wherever the offset changes.
    silence_runs
        ``(first file frame, length)`` of each all-zero run.
    filled_gaps
        Silence runs inside the take that stand in for exactly the frames
        lost there (the offset is the same on both sides).
    deviant
        File frames that are misordered or off the first frame's offset.
    """

    frames: int
    exact: bool = True
    misordered_frames: int = 0
    discontinuities: list[tuple[int, int]] = field(default_factory=list)
    silence_runs: list[tuple[int, int]] = field(default_factory=list)
    filled_gaps: list[tuple[int, int]] = field(default_factory=list)
    deviant: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(0, np.int64), repr=False
    )

    @property
    def channels_in_order(self) -> bool:
        return self.misordered_frames == 0

    @property
    def lost_frames(self) -> int:
        return sum(change for _, change in self.discontinuities if change > 0)

    @property
    def repeated_frames(self) -> int:
        return -sum(change for _, change in self.discontinuities if change < 0)

    @property
    def net_shift(self) -> int:
        """Offset at the end less offset at the start: 0 if the timeline held."""
        return sum(change for _, change in self.discontinuities)

    @property
    def timeline_kept(self) -> bool:
        """Exact, in order, every frame in its place (silent fills allowed)."""
        return self.exact and self.channels_in_order and not self.discontinuities

    @property
    def gapless(self) -> bool:
        """Like `timeline_kept`, and no silence stands in for lost frames."""
        return self.timeline_kept and not self.filled_gaps

    def deviant_cycles(self, period: int) -> set[int]:
        """The periods (counted from the first frame) holding deviant frames."""
        return {int(frame) // period for frame in self.deviant}


def check(data: npt.NDArray[np.floating]) -> CounterReport:
    """Check a recording (``frames x channels``, float) of the counter."""
    frames, channels = data.shape
    report = CounterReport(frames=frames)
    scaled = data.astype(np.float64) * 32768.0
    k = np.rint(scaled).astype(np.int64)
    silent = np.all(data == 0, axis=1)
    report.exact = bool(np.all(k[~silent] == scaled[~silent]))
    report.silence_runs = _runs(silent)

    positions = (k + 32768 - np.arange(channels) * STRIDE) % PERIOD
    sounding = np.flatnonzero(~silent)
    agree = np.all(positions[sounding] == positions[sounding][:, :1], axis=1)
    report.misordered_frames = int(np.count_nonzero(~agree))
    good = sounding[agree]
    if len(good) == 0:
        return report

    offsets = (positions[good, 0] - good) % PERIOD
    changes = (np.diff(offsets) + PERIOD // 2) % PERIOD - PERIOD // 2  # signed
    for at in np.flatnonzero(changes):
        report.discontinuities.append((int(good[at + 1]), int(changes[at])))
    report.deviant = np.union1d(sounding[~agree], good[offsets != offsets[0]])

    broken = {frame for frame, _ in report.discontinuities}
    report.filled_gaps = [
        (start, length)
        for start, length in report.silence_runs
        if start > 0 and start + length < frames and start + length not in broken
    ]
    return report


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """``(start, length)`` of each run of True in `mask`."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return [(int(s), int(e - s)) for s, e in zip(starts, ends, strict=True)]
