"""Checking a recording of the counter signal: gapless, bit-exact, in order.

The source (``cext/source.c``) writes ``k / 32768`` on channel ``c`` at
frame ``n``, with ``k = ((n + c * STRIDE) mod 65536) - 32768``.  A recording
of it is correct when every channel carries the same position ``n`` at every
frame (channel order), and ``n`` advances by one per file frame.  Frames the
recorder lost show up as a jump; silence written in place of lost frames
(all channels exactly zero, which the counter never is on two channels at
once, so recordings need two channels or more) keeps the timeline when its
length equals the jump.

The tests and the benchmarks check every recorder with this one checker;
`check_file` streams, so a take of any length fits in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from jackrec.core.signal import COUNTER_STRIDE

STRIDE = COUNTER_STRIDE
PERIOD = 65536

#: A jump out and straight back within this many frames is a torn cycle
#: (frames overwritten while read), not frames lost and then repeated.
TORN_SPAN = 8192


def expected(channel: int, start: int, frames: int) -> npt.NDArray[np.float32]:
    """The counter on `channel` for positions ``start .. start + frames``."""
    n = np.arange(start, start + frames, dtype=np.int64) + channel * STRIDE
    return (((n % PERIOD) - 32768) / 32768.0).astype(np.float32)


@dataclass
class CounterReport:
    """What the checker found.

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
        ``(file frame, change of offset)`` where the offset changes for
        good: frames lost (positive) or repeated (negative).
    torn
        ``(file frame, length)`` of each stretch whose offset jumped and
        came straight back: overwritten frames, nothing lost.
    silence_runs
        ``(first file frame, length)`` of each all-zero run.
    filled_gaps
        Silence runs inside the take that stand in for exactly the frames
        lost there (the offset is the same on both sides).
    deviant
        File frames that are misordered or off the first frame's offset.
    """

    frames: int = 0
    exact: bool = True
    misordered_frames: int = 0
    discontinuities: list[tuple[int, int]] = field(default_factory=list)
    torn: list[tuple[int, int]] = field(default_factory=list)
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
        """Counter positions missing from the take (silence fills excluded)."""
        return sum(change for _, change in self.discontinuities if change > 0)

    @property
    def filled_frames(self) -> int:
        """Frames lost by the recorder and replaced by silence of the same length."""
        return sum(length for _, length in self.filled_gaps)

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
        return self.exact and self.channels_in_order and not self.discontinuities and not self.torn

    @property
    def gapless(self) -> bool:
        """Like `timeline_kept`, and no silence stands in for lost frames."""
        return self.timeline_kept and not self.filled_gaps

    def deviant_cycles(self, period: int) -> set[int]:
        """The periods (counted from the first frame) holding deviant frames."""
        return {int(frame) // period for frame in self.deviant}


class CounterChecker:
    """Checks a recording fed block by block, in order."""

    def __init__(self) -> None:
        self.report = CounterReport()
        self._first_offset: int | None = None
        self._last_offset: int | None = None
        self._changes: list[tuple[int, int]] = []
        self._deviant: list[npt.NDArray[np.int64]] = []

    def feed(self, data: npt.NDArray[np.floating]) -> None:
        """Check the next ``frames x channels`` block."""
        report = self.report
        base = report.frames
        frames, channels = data.shape
        report.frames += frames
        scaled = data.astype(np.float64) * 32768.0
        k = np.rint(scaled).astype(np.int64)
        silent = np.all(data == 0, axis=1)
        report.exact = report.exact and bool(np.all(k[~silent] == scaled[~silent]))
        self._add_silence(silent, base)

        positions = (k + 32768 - np.arange(channels) * STRIDE) % PERIOD
        sounding = np.flatnonzero(~silent)
        agree = np.all(positions[sounding] == positions[sounding][:, :1], axis=1)
        report.misordered_frames += int(np.count_nonzero(~agree))
        self._deviant.append(sounding[~agree] + base)
        good = sounding[agree]
        if len(good) == 0:
            return
        offsets = (positions[good, 0] - good - base) % PERIOD
        previous = int(offsets[0]) if self._last_offset is None else self._last_offset
        if self._first_offset is None:
            self._first_offset = previous
        steps = np.diff(offsets, prepend=previous)
        changes = (steps + PERIOD // 2) % PERIOD - PERIOD // 2  # signed
        for at in np.flatnonzero(changes):
            self._changes.append((int(good[at]) + base, int(changes[at])))
        self._deviant.append(good[offsets != self._first_offset] + base)
        self._last_offset = int(offsets[-1])

    def finish(self) -> CounterReport:
        """Classify the offset changes and the silence runs; return the report."""
        report = self.report
        changes = self._changes
        i = 0
        while i < len(changes):
            frame, change = changes[i]
            if (
                i + 1 < len(changes)
                and changes[i + 1][1] == -change
                and changes[i + 1][0] - frame <= TORN_SPAN
            ):
                report.torn.append((frame, changes[i + 1][0] - frame))
                i += 2
            else:
                report.discontinuities.append((frame, change))
                i += 1
        broken = {frame for frame, _ in changes}
        report.filled_gaps = [
            (start, length)
            for start, length in report.silence_runs
            if start > 0 and start + length < report.frames and start + length not in broken
        ]
        report.deviant = np.concatenate([np.zeros(0, np.int64), *self._deviant])
        return report

    def _add_silence(self, silent: npt.NDArray[np.bool_], base: int) -> None:
        runs = self.report.silence_runs
        for start, length in _runs(silent):
            start += base
            if runs and sum(runs[-1]) == start:  # continues across blocks
                runs[-1] = (runs[-1][0], runs[-1][1] + length)
            else:
                runs.append((start, length))


def check(data: npt.NDArray[np.floating]) -> CounterReport:
    """Check a whole recording (``frames x channels``, float) of the counter."""
    checker = CounterChecker()
    checker.feed(data)
    return checker.finish()


def check_file(path: Path, block_frames: int = 1 << 16) -> CounterReport:
    """Check a sound file of the counter without loading it whole."""
    return check_files([path], block_frames)


def check_files(paths: list[Path], block_frames: int = 1 << 16) -> CounterReport:
    """Check sound files of the counter joined in order (the takes of a
    rotated run, which must join into one gapless recording)."""
    checker = CounterChecker()
    for path in paths:
        for block in sf.blocks(str(path), blocksize=block_frames, dtype="float32", always_2d=True):
            checker.feed(block)
    return checker.finish()


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """``(start, length)`` of each run of True in `mask`."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return [(int(s), int(e - s)) for s, e in zip(starts, ends, strict=True)]
