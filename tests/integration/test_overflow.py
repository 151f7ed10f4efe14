"""A stalled disk overflows the ring: the loss is counted, placed and filled.

The take file is swapped for one whose writes block until released (a disk
that hangs), with a ring of a quarter second.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from jackrec import counter
from jackrec.recorder import Recorder, RecordOptions, Summary
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from jackrec.takefile import TakeFile
from tests.conftest import RATE


class HangingTake(TakeFile):
    """A take whose writes block until `release` is set: a disk that hangs."""

    release = threading.Event()

    def write(self, frames: npt.NDArray[np.float32]) -> None:
        self.release.wait(timeout=30)
        super().write(frames)


def record_with_stall(
    generator: SourceProcess, take: Path, stall: float, *, stop_while_stalled: bool
) -> Summary:
    """Record while the disk hangs for `stall` seconds, then stop.

    With `stop_while_stalled` the recording is stopped before the disk
    wakes, so the overflow run is still open when the client deactivates.
    """
    HangingTake.release = threading.Event()
    recorder = Recorder(
        RecordOptions(
            path=take,
            ports=tuple(generator.port_names[:4]),
            server=generator.server,
            client_name="jackrec-overflow",
            buffer_seconds=0.25,
        ),
        take_factory=HangingTake.create,
    )
    recorder.start()
    recorder.finished.wait(stall)
    if stop_while_stalled:
        threading.Timer(0.5, HangingTake.release.set).start()
    else:
        HangingTake.release.set()
        recorder.finished.wait(1.0)
    return recorder.stop()


def test_overflow_leaves_silence_of_exactly_the_lost_length(
    generator: SourceProcess, tmp_path: Path
) -> None:
    take = tmp_path / "overflow.wav"
    summary = record_with_stall(generator, take, 1.5, stop_while_stalled=False)
    assert summary.frames_lost > 0.5 * RATE

    data, _ = sf.read(str(take), dtype="float32")
    report = counter.check(data)
    assert report.timeline_kept and report.net_shift == 0

    gaps = read_sidecar(take)["gaps"]
    assert len(gaps) == 1
    assert report.filled_gaps == [(gaps[0]["file_frame"], gaps[0]["frames"])]
    assert gaps[0]["frames"] == summary.frames_lost
    assert len(data) == summary.frames


def test_a_gap_still_open_at_stop_is_written_at_the_end(
    generator: SourceProcess, tmp_path: Path
) -> None:
    take = tmp_path / "open-gap.wav"
    summary = record_with_stall(generator, take, 1.0, stop_while_stalled=True)
    data, _ = sf.read(str(take), dtype="float32")
    report = counter.check(data)
    assert report.exact and report.channels_in_order
    last_start, last_length = report.silence_runs[-1]
    assert last_start + last_length == len(data)  # the take ends in the gap
    gaps = read_sidecar(take)["gaps"]
    assert (gaps[-1]["file_frame"], gaps[-1]["frames"]) == (last_start, last_length)
    assert summary.frames_lost == sum(gap["frames"] for gap in gaps)
