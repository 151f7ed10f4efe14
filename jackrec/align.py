"""Lining up channels whose sources have different capture latencies (``--align``).

JACK tells each input its capture latency: how many frames ago the sound
that reaches it now was captured (the maximum of the range its sources
declare).  Sources of different latencies (a converter, a network
bridge, a plug-in chain) are therefore out of step in a recording.  As
Ardour does, an aligned take delays every channel behind the latest one:
channel c, of latency L_c, by ``d_c = L_max - L_c`` frames, so that one
file frame holds on every channel what was captured at the same moment.

The rule, for a take that begins at stream frame s0::

    file frame f, channel c  =  stream frame s0 + f - d_c, channel c

so every file frame f holds what was captured at stream frame
s0 + f - L_max.  The delay is applied to the stream, not to each take: a
take still has one frame per stream frame, and consecutive takes (a
rotation, a new take) join on every channel without a frame lost or
doubled.  The d_c frames before s0 come from the writer's history: it keeps
the last frames of every channel, as many as the largest delay a take of
the session has used.  Where the stream has no such frames they are
silence: at the start of the session's first aligned take (nothing was
kept before it), and when a take's delay is larger than any before.

A gap (frames lost to a full ring) is silence in the stream and is delayed
like the rest: the sidecar notes it at the file frame where it begins on
the undelayed channels; on channel c it begins d_c frames later.  Markers
and xruns are noted at file frames the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Frames = npt.NDArray[np.float32]


def align_delays(latencies: Sequence[int]) -> tuple[int, ...]:
    """Each channel's delay, for channels of capture latency `latencies` (frames)."""
    latest = max(latencies, default=0)
    return tuple(latest - latency for latency in latencies)


class Aligner:
    """Delays each channel of the stream by its own number of frames.

    The disk writer hands it every block of the stream in order: `process`
    for the frames it writes, `skip` and `skip_silence` for those it lets
    go, so the history is the stream's whatever the writer does with it.
    """

    def __init__(self, channels: int) -> None:
        self._channels = channels
        self._history: Frames = np.zeros((0, channels), np.float32)  # the newest frames walked
        self._groups: list[tuple[int, list[int]]] = []  # (delay, channels delayed by it)

    @property
    def depth(self) -> int:
        """How many past frames it keeps."""
        return len(self._history)

    def set_delays(self, delays: Sequence[int]) -> None:
        """Delay capture channel c by ``delays[c]`` frames from now on.

        The history grows to the largest delay (with silence in front: those
        frames were not kept) and never shrinks, so a later take with the
        same delays finds its frames.
        """
        missing = max(delays, default=0) - self.depth
        if missing > 0:
            silence = np.zeros((missing, self._channels), np.float32)
            self._history = np.concatenate((silence, self._history))
        groups: dict[int, list[int]] = {}
        for channel, delay in enumerate(delays):
            if delay:
                groups.setdefault(delay, []).append(channel)
        self._groups = sorted(groups.items())

    def process(self, block: Frames) -> Frames:
        """The next frames of the stream, each channel delayed (a new array when any is)."""
        depth, frames = self.depth, len(block)
        if depth == 0:
            return block
        joined = np.concatenate((self._history, block))
        self._history = joined[frames:]
        if not self._groups:
            return block
        aligned = block.copy()
        for delay, channels in self._groups:
            aligned[:, channels] = joined[depth - delay : depth - delay + frames, channels]
        return aligned

    def skip(self, block: Frames) -> None:
        """Frames of the stream that are not written: only kept as history."""
        depth, frames = self.depth, len(block)
        if frames >= depth:
            self._history = block[frames - depth :].copy()
        elif frames:
            self._history = np.concatenate((self._history[frames:], block))

    def skip_silence(self, frames: int) -> None:
        """`frames` of silence in the stream (a gap) that are not written."""
        self.skip(np.zeros((min(frames, self.depth), self._channels), np.float32))
