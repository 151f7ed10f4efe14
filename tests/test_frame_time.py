"""JACK frame times are 32-bit: differences must cross the wrap both ways."""

from __future__ import annotations

import pytest

from jackrec.session import FRAME_TIME_WRAP, frames_between, unix_time_of


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


@pytest.mark.parametrize(
    ("jack_frame", "frame_now", "seconds_before_now"),
    [
        (FRAME_TIME_WRAP - 48000, 0, 1.0),  # a take begun a second before the wrap
        (480, FRAME_TIME_WRAP - 480, -0.02),  # a marker just past it, JACK's now just before
        (1000, 1000 - 256, -256 / 48000),  # the writer's frame ahead of JACK's estimate
    ],
)
def test_unix_times_across_the_wrap(
    jack_frame: int, frame_now: int, seconds_before_now: float
) -> None:
    now = 1_800_000_000.0
    assert unix_time_of(jack_frame, frame_now, now, 48000) == pytest.approx(
        now - seconds_before_now, abs=1e-6
    )
