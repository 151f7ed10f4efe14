"""JACK frame times are 32-bit: differences must cross the wrap both ways."""

from __future__ import annotations

import pytest

from jackrec.session import FRAME_TIME_WRAP, frames_between


@pytest.mark.parametrize(
    ("earlier", "later", "frames"),
    [
        (1000, 1256, 256),
        (1256, 1000, -256),  # the writer's frame slightly ahead of JACK's now
        (FRAME_TIME_WRAP - 100, 156, 256),  # across the wrap
        (156, FRAME_TIME_WRAP - 100, -256),
        (0, FRAME_TIME_WRAP // 2 - 1, FRAME_TIME_WRAP // 2 - 1),
    ],
)
def test_frames_between(earlier: int, later: int, frames: int) -> None:
    assert frames_between(earlier, later) == frames
