"""The disk writer: a Python thread that drains the capture ring into a take.

It wakes on its own timer (the process callback never signals it), takes
everything the ring holds in large blocks, and writes it through zero-copy
views of ring memory.  Where the callback lost frames to a full ring it
writes exactly that many frames of silence, so the file keeps the timeline
of the JACK graph (and stays in sync with other recorders).

Nothing here can make the JACK thread wait: the ring is lock-free and the
callback drops, rather than blocks, when it is full.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from jackrec.capture import Capture, Gap
from jackrec.takefile import TakeFile

log = logging.getLogger(__name__)

#: How often the writer looks at the ring.  The ring holds seconds, so this
#: only sets the write size (about 4800 frames at 48 kHz) and how much a
#: killed recorder can leave unwritten.
POLL_SECONDS = 0.1

#: Largest write handed to libsndfile at once.  Small, so the kernel's copy
#: into the page cache is short: on a kernel without forced preemption
#: (CONFIG_PREEMPT_NONE, common on servers and VMs, and this one) a write()
#: holds its core until it returns, and a realtime thread woken there waits.
#: Measured at 256 channels, 96 kHz / 64 (alternating 4 s runs): 1 MiB
#: writes gave the process callback a p99.9 of 1.3-2.6 ms and 280-510
#: xruns a second; 128 KiB and less, 0.15-0.5 ms and 10-70 a second, near
#: what the idle server makes (about 26 a second).
BLOCK_BYTES = 1 << 16


class DiskWriter(threading.Thread):
    """Drains `capture`'s ring into `take` until `finish` is called.

    Parameters
    ----------
    capture
        The realtime core to drain.
    take
        The open file.
    limit_frames
        Stop after this many file frames (an exact ``--duration``); the
        `reached_limit` event is set then.
    on_gap
        Called in the writer thread with each gap and the file frame where
        its silence starts.
    """

    def __init__(
        self,
        capture: Capture,
        take: TakeFile,
        *,
        limit_frames: int | None = None,
        on_gap: Callable[[Gap, int], None] | None = None,
    ) -> None:
        super().__init__(name="jackrec-writer", daemon=True)
        self._capture = capture
        self._take = take
        self._limit = limit_frames
        self._on_gap = on_gap
        self._stopping = threading.Event()
        self._silence = np.zeros((0, capture.channels), dtype=np.float32)
        self._block_frames = max(1, BLOCK_BYTES // (4 * capture.channels))
        self.reached_limit = threading.Event()
        self.gaps: list[tuple[int, Gap]] = []  # (file frame, gap)
        self.error: BaseException | None = None

    @property
    def frames_written(self) -> int:
        return self._take.frames

    def run(self) -> None:
        try:
            while not self._stopping.wait(POLL_SECONDS):
                self._drain()
        except BaseException as error:  # reported by the recorder, not lost
            self.error = error
            self.reached_limit.set()

    def finish(self, timeout: float | None = None) -> None:
        """Write what is left and close the take.

        Call after the JACK client is deactivated, so the ring no longer
        grows and an overflow run still open is final.
        """
        self._stopping.set()
        self.join(timeout)
        try:
            if self.error is None:
                self._drain()
                gap = self._capture.open_gap()
                if gap is not None:
                    self._write_gap(gap)
        except Exception as error:  # disk full and the like: reported, not raised
            self.error = error
        finally:
            self._take.close()

    def _room(self) -> int:
        if self._limit is None:
            return self._block_frames
        return min(self._block_frames, self._limit - self._take.frames)

    def _drain(self) -> None:
        ring, gaps = self._capture.frames, self._capture.gaps
        while (room := self._room()) > 0:
            views = ring.peek(room)
            # Looked at after peek(): the callback queues a gap before it
            # publishes the frames behind it, so no gap inside `views` can
            # be missed here.
            gap = gaps.peek()
            available = sum(len(view) for view in views)
            if gap is not None:
                available = min(available, gap.ring_position - ring.read_position)
            self._write_views(views, available)
            ring.release(available)
            if gap is not None and gap.ring_position == ring.read_position:
                self._write_gap(gap)
                gaps.pop()
            elif available == 0:
                break
        if self._limit is not None and self._take.frames >= self._limit:
            self.reached_limit.set()

    def _write_views(self, views: list[npt.NDArray[np.float32]], frames: int) -> None:
        for view in views:
            if frames <= 0:
                break
            self._take.write(view[:frames])
            frames -= len(view)

    def _write_gap(self, gap: Gap) -> None:
        """Write silence in place of a gap (as far as the take reaches)."""
        start = self._take.frames
        frames = gap.frames if self._limit is None else min(gap.frames, self._limit - start)
        if frames <= 0:
            return
        gap = dataclasses.replace(gap, frames=frames)
        self.gaps.append((start, gap))
        log.warning("lost %d frames at file frame %d (ring full)", frames, start)
        if self._on_gap is not None:
            self._on_gap(gap, start)
        while frames > 0:
            block = min(frames, self._block_frames)
            if len(self._silence) < block:
                self._silence = np.zeros((block, self._capture.channels), np.float32)
            self._take.write(self._silence[:block])
            frames -= block
