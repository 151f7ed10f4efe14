"""Threaded stress test: a producer and a consumer thread race on the ring.

The ring's C functions release the GIL, so the two threads really run at
once on two cores.  Every frame is checked.
"""

from __future__ import annotations

import threading

import numpy as np

from jackrec.core.ring import FrameRing

TOTAL_FRAMES = 4_000_000
CHANNELS = 3


def test_every_frame_arrives_once_in_order() -> None:
    ring = FrameRing.allocate(4096, CHANNELS)
    rng = np.random.default_rng(1)
    block_sizes = rng.integers(1, 3000, size=TOTAL_FRAMES // 500)
    failures: list[str] = []

    def produce() -> None:
        position = 0
        for size in block_sizes:
            size = int(min(size, TOTAL_FRAMES - position))
            if size == 0:
                break
            frames = _frames(position, size)
            while not ring.write(frames):
                pass  # spin: the consumer frees space
            position += size
        while position < TOTAL_FRAMES:
            size = min(1024, TOTAL_FRAMES - position)
            while not ring.write(_frames(position, size)):
                pass
            position += size

    def consume() -> None:
        position = 0
        while position < TOTAL_FRAMES:
            views = ring.peek(int(rng.integers(1, 5000)))
            for view in views:
                if not np.array_equal(view, _frames(position, len(view))):
                    failures.append(f"mismatch at frame {position}")
                    return
                position += len(view)
            ring.release(sum(len(view) for view in views))

    threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    try:
        assert not any(thread.is_alive() for thread in threads), "stress test hung"
        assert failures == []
        assert ring.read_position == ring.write_position == TOTAL_FRAMES
    finally:
        ring.close()


def _frames(start: int, count: int) -> np.ndarray:
    """Frame n holds (n, n + 0.25, n + 0.5) modulo 2**22, exact in float32."""
    n = (np.arange(start, start + count) % 2**22).astype(np.float32)
    return n[:, None] + np.array([0.0, 0.25, 0.5], dtype=np.float32)
