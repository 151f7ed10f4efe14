"""A stalled disk overflows the ring: the loss is counted, placed and filled.

The take is one whose writes block until released (a disk that hangs),
recorded with a ring of a quarter second.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from jackrec import counter
from jackrec.bwf import Cue, read_cues
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from jackrec.take import Take
from jackrec.takefile import FileFormat
from tests.conftest import RATE, open_session


class HangingTake(Take):
    """A take whose writes block until `release` is set: a disk that hangs."""

    release = threading.Event()

    def write(self, frames: npt.NDArray[np.float32]) -> None:
        self.release.wait(timeout=30)
        super().write(frames)


def record_with_stall(
    generator: SourceProcess, path: Path, stall: float, *, stop_while_stalled: bool
) -> tuple[Take, int]:
    """Record while the disk hangs for `stall` seconds, then stop.

    With `stop_while_stalled` the session is closed before the disk wakes,
    so the overflow run is still open when the client deactivates.
    Returns the take and the frames the callback lost.
    """
    HangingTake.release = threading.Event()
    session = open_session(generator, "jackrec-overflow", buffer_seconds=0.25)
    take = HangingTake.create(session.take_info(path, FileFormat("WAV", "FLOAT")))
    session.record(take)
    session.shutdown.wait(stall)
    if stop_while_stalled:
        threading.Timer(0.5, HangingTake.release.set).start()
    else:
        HangingTake.release.set()
        session.shutdown.wait(1.0)
    stats = session.close()
    return take, stats.frames_lost


def test_overflow_leaves_silence_of_exactly_the_lost_length(
    generator: SourceProcess, tmp_path: Path
) -> None:
    path = tmp_path / "overflow.wav"
    take, lost = record_with_stall(generator, path, 1.5, stop_while_stalled=False)
    assert lost > 0.5 * RATE and take.frames_lost == lost

    data, _ = sf.read(str(path), dtype="float32")
    report = counter.check(data)
    assert report.timeline_kept and report.net_shift == 0

    gaps = read_sidecar(path)["gaps"]
    assert len(gaps) == 1
    assert report.filled_gaps == [(gaps[0]["file_frame"], gaps[0]["frames"])]
    assert gaps[0]["frames"] == lost
    assert len(data) == take.frames
    cues, _ = read_cues(path) or ([], 0)  # the gap is a cue point where it begins
    gap_cues = [cue for cue in cues if cue.kind != "xrun"]  # xruns: the machine's, if any
    assert gap_cues == [Cue(gaps[0]["file_frame"], "gap", f"gap: {lost} frames lost")]


def test_a_gap_still_open_at_stop_is_written_at_the_end(
    generator: SourceProcess, tmp_path: Path
) -> None:
    path = tmp_path / "open-gap.wav"
    take, lost = record_with_stall(generator, path, 1.0, stop_while_stalled=True)
    data, _ = sf.read(str(path), dtype="float32")
    report = counter.check(data)
    assert report.exact and report.channels_in_order
    last_start, last_length = report.silence_runs[-1]
    assert last_start + last_length == len(data)  # the take ends in the gap
    gaps = read_sidecar(path)["gaps"]
    assert (gaps[-1]["file_frame"], gaps[-1]["frames"]) == (last_start, last_length)
    assert lost == sum(gap["frames"] for gap in gaps) == take.frames_lost
