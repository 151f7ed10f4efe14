"""Python side of the C ring: the consumer's zero-copy view.

The ring itself (``cext/ring.c``) is a single-producer/single-consumer ring
of fixed-size elements.  `FrameRing` exposes the consumer side as NumPy
views of ring memory; each view is valid only until the elements are
released with `release`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from jackrec._core import ffi, lib

Frames = npt.NDArray[np.float32]


class FrameRing:
    """A ring of interleaved float32 frames.

    Parameters
    ----------
    pointer
        The ``jr_ring_t *``.
    channels
        Samples per frame.
    owned
        Whether this object allocated the ring and must free it
        (`FrameRing.allocate`); a ring borrowed from a capture is freed by
        the capture.
    """

    def __init__(self, pointer: Any, channels: int, *, owned: bool = False) -> None:
        self._ptr = pointer
        self.channels = channels
        self._owned = owned
        self._regions = ffi.new("jr_regions_t *")

    @classmethod
    def allocate(cls, capacity: int, channels: int) -> FrameRing:
        """Allocate a ring of at least `capacity` frames (tests, benchmarks)."""
        pointer = lib.jr_ring_new(capacity, channels * 4, ffi.NULL)
        if pointer == ffi.NULL:
            raise MemoryError(f"cannot allocate a ring of {capacity} frames")
        return cls(pointer, channels, owned=True)

    def close(self) -> None:
        """Free an owned ring; no view of it may be used afterwards."""
        if self._owned and self._ptr is not None:
            lib.jr_ring_free(self._ptr)
        self._ptr = None

    @property
    def capacity(self) -> int:
        return int(lib.jr_ring_capacity(self._ptr))

    @property
    def read_space(self) -> int:
        """Frames ready to read."""
        return int(lib.jr_ring_read_space(self._ptr))

    @property
    def write_space(self) -> int:
        return int(lib.jr_ring_write_space(self._ptr))

    @property
    def read_position(self) -> int:
        """Frames released so far: the stream position of the next read."""
        return int(lib.jr_ring_read_position(self._ptr))

    @property
    def write_position(self) -> int:
        return int(lib.jr_ring_write_position(self._ptr))

    def peek(self, max_frames: int) -> list[Frames]:
        """Return up to `max_frames` readable frames as one or two views.

        The views alias ring memory: use them before `release`.
        """
        count = lib.jr_ring_read_regions(self._ptr, max_frames, self._regions)
        if count == 0:
            return []
        return [
            self._view(self._regions.data[i], int(self._regions.count[i]))
            for i in range(2)
            if self._regions.count[i]
        ]

    def release(self, frames: int) -> None:
        """Hand `frames` read frames back to the producer."""
        lib.jr_ring_read_advance(self._ptr, frames)

    def write(self, frames: Frames) -> bool:
        """Copy whole frames in (the producer side, for tests and benchmarks).

        Returns False, writing nothing, when they do not all fit.
        """
        block = np.ascontiguousarray(frames, dtype=np.float32)
        count = block.size // self.channels
        return bool(lib.jr_ring_write(self._ptr, ffi.from_buffer(block), count))

    def _view(self, pointer: Any, frames: int) -> Frames:
        buffer = ffi.buffer(pointer, frames * self.channels * 4)
        return np.frombuffer(buffer, dtype=np.float32).reshape(frames, self.channels)
