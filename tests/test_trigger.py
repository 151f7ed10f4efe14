"""The level trigger, on a capture fed by hand (no JACK): where takes begin.

Channel 0 carries the frame's own index (``n / 2**20``, exact in float32),
so a take's first sample says at which stream frame it began; channel 1 is
quiet except where a test makes it loud.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jackrec.commands import Arm, Rotate, Trigger
from jackrec.core.capture import Capture
from jackrec.take import Take, TakeInfo
from jackrec.takefile import FileFormat
from jackrec.writer import DiskWriter

RATE = 48000
PREROLL = 1000
SCALE = 2**20
#: Stream fed after the trigger: an idle writer holds back its guard window
#: (a quarter of this ring), and a take can only begin once it is walked.
STREAM_AFTER = 20000


def frames(start: int, count: int, loud: range = range(0), murmur: range = range(0)) -> np.ndarray:
    """Channel 1: -0.9 in `loud`, 0.3 (above release, below the trigger) in `murmur`."""
    block = np.full((count, 2), 0.1, dtype=np.float32)
    block[:, 0] = np.arange(start, start + count) / SCALE
    for n in murmur:
        if start <= n < start + count:
            block[n - start, 1] = 0.3
    for n in loud:
        if start <= n < start + count:
            block[n - start, 1] = -0.9
    return block


@pytest.fixture
def writer() -> Iterator[DiskWriter]:
    capture = Capture(2, 1 << 16)
    writer = DiskWriter(capture, RATE, lambda frame: (None, None), lambda event: None)
    writer.submit(Arm(0, PREROLL))
    writer.start()
    yield writer
    writer.finish("stop request")
    capture.close()


def take_maker(tmp_path: Path) -> Callable[[], Take]:
    """Makes ``triggered.wav``, then ``triggered-2.wav``, ``triggered-3.wav``..."""
    made = []

    def make() -> Take:
        made.append(1)
        name = "triggered.wav" if len(made) == 1 else f"triggered-{len(made)}.wav"
        info = TakeInfo(
            tmp_path / name, FileFormat("WAV", "FLOAT"), (0, 1), ("in_1", "in_2"),
            ((), ()), RATE, 256,
        )  # fmt: skip
        return Take.create(info)

    return make


def feed(
    writer: DiskWriter, start: int, count: int, loud: range = range(0), murmur: range = range(0)
) -> int:
    """Write frames in small blocks as a callback would; returns the next frame."""
    ring = writer._capture.frames  # the producer side, as the callback would be
    for at in range(start, start + count, 256):
        block = frames(at, min(256, start + count - at), loud, murmur)
        deadline = time.monotonic() + 5
        while not ring.write(block):
            assert time.monotonic() < deadline, "the writer stopped draining"
            time.sleep(0.001)
    return start + count


def settle(writer: DiskWriter, until: int) -> None:
    """Wait until the writer has looked at every frame before `until`."""
    deadline = time.monotonic() + 5
    while writer._scanned < until and writer.trigger is not None:
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_the_take_begins_exactly_the_preroll_before_the_first_loud_frame(
    writer: DiskWriter, tmp_path: Path
) -> None:
    writer.submit(Arm(0, PREROLL, Trigger(0.5, (1,), take_maker(tmp_path))))
    time.sleep(0.3)  # the writer starts listening (from frame 0)
    n = feed(writer, 0, 30000, loud=range(20000, 20010))
    settle(writer, n)
    feed(writer, n, STREAM_AFTER)
    writer.finish("stop request")
    data, _ = sf.read(str(tmp_path / "triggered.wav"), dtype="float32")
    positions = np.rint(data[:, 0] * SCALE).astype(np.int64)
    assert np.array_equal(positions, np.arange(20000 - PREROLL, n + STREAM_AFTER))
    assert writer.trigger is None  # it fires once


def test_sound_from_before_arming_does_not_fire(writer: DiskWriter, tmp_path: Path) -> None:
    n = feed(writer, 0, 10000, loud=range(9000, 9010))
    deadline = time.monotonic() + 5
    while writer._capture.frames.read_space > writer._keep() and time.monotonic() < deadline:
        time.sleep(0.005)  # the writer has seen everything fed so far
    writer.submit(Arm(n, PREROLL, Trigger(0.5, (1,), take_maker(tmp_path))))  # armed at n
    time.sleep(0.3)
    n = feed(writer, n, 10000)
    settle(writer, n)
    assert writer.take is None and writer.trigger is not None
    n = feed(writer, n, 5000, loud=range(21234, 21240))
    settle(writer, n)
    feed(writer, n, STREAM_AFTER)
    writer.finish("stop request")
    data, _ = sf.read(str(tmp_path / "triggered.wav"), dtype="float32")
    assert round(data[0, 0] * SCALE) == 21234 - PREROLL


def positions_in(path: Path) -> np.ndarray:
    data, _ = sf.read(str(path), dtype="float32")
    positions: np.ndarray = np.rint(data[:, 0] * SCALE).astype(np.int64)
    return positions


def test_the_hold_ends_the_take_after_the_last_loud_frame_and_listens_again(
    writer: DiskWriter, tmp_path: Path
) -> None:
    hold = 1000
    trigger = Trigger(0.5, (1,), take_maker(tmp_path), hold_frames=hold, release=0.25)
    writer.submit(Arm(0, PREROLL, trigger))
    time.sleep(0.3)
    # fires at 20000; a burst within the hold, then a murmur above release
    # (too quiet to fire) keep it going: the last frame at release is 21899
    n = feed(writer, 0, 60000, loud=range(20000, 20010), murmur=range(20900, 21900))
    n = feed(writer, n, 20000, loud=range(70000, 70005))  # the second take
    n = feed(writer, n, 20000)
    writer.finish("stop request")
    first = positions_in(tmp_path / "triggered.wav")
    assert np.array_equal(first, np.arange(20000 - PREROLL, 21899 + 1 + hold))
    second = positions_in(tmp_path / "triggered-2.wav")
    assert np.array_equal(second, np.arange(70000 - PREROLL, 70004 + 1 + hold))
    sidecar = json.loads((tmp_path / "triggered.wav.json").read_text())
    assert sidecar["ended_by"] == "trigger hold"
    assert sidecar["start"]["started_by"] == "trigger"
    assert sidecar["start"]["cue_stream_frame"] == 20000
    assert sidecar["start"]["preroll_frames"] == PREROLL
    assert sidecar["trigger"]["last_loud_frame"] == 21899 - (20000 - PREROLL)
    assert sidecar["trigger"]["hold_frames"] == hold
    assert writer.trigger is trigger  # listening again


def test_a_rotation_keeps_the_takes_hold(writer: DiskWriter, tmp_path: Path) -> None:
    hold = 1000
    make = take_maker(tmp_path)
    trigger = Trigger(0.5, (1,), make, hold_frames=hold, release=0.25)
    writer.submit(Arm(0, PREROLL, trigger))
    writer.submit(Rotate(20500, make()))  # made first: it is triggered.wav
    time.sleep(0.3)
    n = feed(writer, 0, 40000, loud=range(20000, 20010))
    feed(writer, n, STREAM_AFTER)
    writer.finish("stop request")
    assert np.array_equal(positions_in(tmp_path / "triggered-2.wav"), np.arange(19000, 20500))
    assert np.array_equal(positions_in(tmp_path / "triggered.wav"), np.arange(20500, 21010))
    sidecar = json.loads((tmp_path / "triggered.wav.json").read_text())
    assert sidecar["ended_by"] == "trigger hold" and sidecar["start"]["started_by"] == "rotation"
