"""A session's takes on a real server: frame-exact cuts, pauses, pre-roll."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jackrec import counter
from jackrec.session import Session
from jackrec.sidecar import read_sidecar, sidecar_path
from jackrec.source import SourceProcess
from jackrec.take import Take
from jackrec.takefile import FileFormat
from tests.conftest import PERIOD, RATE, open_session

FLOAT_WAV = FileFormat("WAV", "FLOAT")


@pytest.fixture
def session(generator: SourceProcess) -> Iterator[Session]:
    session = open_session(generator, "jackrec-session", preroll_seconds=2.0)
    yield session
    if session.state != "stopped" or session.take is not None:
        session.stop()
    session.close()


def positions(path: Path, channel_offsets: list[int] | None = None) -> np.ndarray:
    """Counter position of each frame of a take (checked consistent)."""
    data, _ = sf.read(str(path), dtype="float32", always_2d=True)
    offsets = np.array(channel_offsets or range(data.shape[1])) * counter.STRIDE
    k = np.rint(data.astype(np.float64) * 32768).astype(np.int64)
    pos = (k + 32768 - offsets) % counter.PERIOD
    assert (pos == pos[:, :1]).all(), "channels disagree"
    return np.asarray(pos[:, 0])


def wait_for(take: Take, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while take.ended_by is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert take.ended_by is not None


def test_rotation_is_frame_exact(session: Session, tmp_path: Path) -> None:
    first = session.new_take(tmp_path / "a.wav", FLOAT_WAV)
    second = session.new_take(tmp_path / "b.wav", FLOAT_WAV)
    session.record(first)
    time.sleep(1.0)
    session.rotate(second)
    time.sleep(1.0)
    session.stop()
    wait_for(second)
    assert first.ended_by == "rotated" and second.ended_by == "stop request"
    a, b = positions(first.path), positions(second.path)
    assert counter.check_file(first.path).gapless and counter.check_file(second.path).gapless
    assert (b[0] - a[-1]) % counter.PERIOD == 1  # not a frame lost or doubled
    assert read_sidecar(second.path)["start"]["stream_frame"] == first.frames


def test_pause_leaves_out_exactly_the_paused_stretch(session: Session, tmp_path: Path) -> None:
    take = session.new_take(tmp_path / "paused.wav", FLOAT_WAV)
    session.record(take)
    time.sleep(0.7)
    session.pause()
    time.sleep(0.5)
    assert session.state == "paused"
    session.resume()
    time.sleep(0.7)
    session.stop()
    wait_for(take)
    (pause,) = read_sidecar(take.path)["pauses"]
    report = counter.check_file(take.path)
    assert report.discontinuities == [(pause["file_frame"], pause["frames"])]
    assert 0.3 * RATE < pause["frames"] < 1.0 * RATE


def test_preroll_reaches_back_before_the_record_command(session: Session, tmp_path: Path) -> None:
    session.arm(1.0)
    time.sleep(2.0)
    assert session.state == "armed"
    assert session.status().preroll_fill == pytest.approx(1.0, abs=0.05)
    take = session.new_take(tmp_path / "preroll.wav", FLOAT_WAV)
    asked_at = session.capture.stats().stream_frames
    session.record(take)
    time.sleep(0.5)
    session.stop()
    wait_for(take)
    start = read_sidecar(take.path)["start"]["stream_frame"]
    assert abs((asked_at - RATE) - start) <= 2 * PERIOD  # one second of pre-roll
    assert take.frames >= 1.4 * RATE
    assert counter.check_file(take.path).gapless


def test_markers_land_at_their_frames(session: Session, tmp_path: Path) -> None:
    take = session.new_take(tmp_path / "marked.wav", FLOAT_WAV)
    session.record(take)
    time.sleep(0.5)
    session.marker("verse")
    time.sleep(0.5)
    session.marker("chorus")
    for n in range(8):  # right on the writer's heels, where frame times wrapped
        session.marker(f"quick {n}")
        time.sleep(0.01)
    time.sleep(0.3)
    session.stop()
    wait_for(take)
    sidecar = read_sidecar(take.path)
    markers = sidecar["markers"]
    assert [m["label"] for m in markers[:2]] == ["verse", "chorus"] and len(markers) == 10
    first, second = (m["file_frame"] for m in markers[:2])
    assert 0.3 * RATE < first < second - 0.3 * RATE < take.frames
    # every marker's clock time is the take's start plus its frame (a wrap
    # of JACK's 32-bit frame time once put markers 24.85 hours early)
    started = sidecar["start"]["unix_time"]
    for marker in markers:
        assert abs(marker["unix_time"] - started - marker["file_frame"] / RATE) < 0.05


def test_disarmed_channels_are_left_out(session: Session, tmp_path: Path) -> None:
    session.armed = [True, False, True, False]
    take = session.new_take(tmp_path / "armed.wav", FLOAT_WAV)
    session.record(take)
    time.sleep(0.5)
    session.stop()
    wait_for(take)
    assert sf.info(str(take.path)).channels == 2
    assert len(positions(take.path, channel_offsets=[0, 2])) > 0.4 * RATE  # channels 1 and 3
    sidecar = read_sidecar(take.path)
    assert [c["capture_channel"] for c in sidecar["channels"]] == [1, 3]
    assert sidecar["ended_by"] == "stop request" and sidecar["error"] is None


def test_a_take_that_never_began_leaves_no_file(session: Session, tmp_path: Path) -> None:
    take = session.new_take(tmp_path / "never.wav", FLOAT_WAV)
    session.rotate(take)  # nothing is recording: there is nothing to rotate
    time.sleep(0.3)
    assert not take.path.exists() and not sidecar_path(take.path).exists()
