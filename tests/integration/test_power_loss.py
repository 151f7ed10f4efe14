"""Power loss: what reaches the disk, with and without ``--sync``.

Recorded onto an ext4 file system on a loop device, whose image a copy
freezes as a power cut would (`tests.loopdisk`): the page cache is not in
it, only what the file system wrote to its device.  With ``--sync 1`` the
copy holds the take up to a second (and a writer's step) before the cut,
gapless against the counter; without, the kernel has written back little
or nothing within a few seconds, which shows the copy really loses what
only the page cache held.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import soundfile as sf

from jackrec import counter
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests import loopdisk
from tests.conftest import RATE, let_it_record, run_jackrec, start_recording, stop_process

pytestmark = pytest.mark.skipif(loopdisk.available() is not None, reason=str(loopdisk.available()))

RECORD_SECONDS = 3.5
SYNC_SECONDS = 1.0
#: What the last sync point may lag behind the cut besides the interval:
#: the writer's hand-over and a loaded machine's delays.
SLACK_SECONDS = 1.0


def cut_power_while_recording(
    generator: SourceProcess, tmp_path: Path, *options: str
) -> tuple[Path, float]:
    """Record onto the loop disk for `RECORD_SECONDS`, then cut the power:
    the disk's image as it was, and the Unix time of the cut."""
    with loopdisk.ext4_disk(tmp_path) as disk:
        process = start_recording(generator, disk / "take.wav", "-q", *options)
        try:
            let_it_record(disk / "take.wav", RECORD_SECONDS)
            process.send_signal(signal.SIGSTOP)  # nothing more from jackrec
            cut = time.time()
            snapshot = loopdisk.cut_power(tmp_path, "after-the-cut")
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        finally:
            stop_process(process)
    return snapshot, cut


def surviving_frames(take: Path) -> int:
    """Frames of the take the disk holds after ``jackrec repair`` (0: none)."""
    if not take.exists() or take.stat().st_size == 0:
        return 0
    result = run_jackrec(["repair", str(take)])
    assert result.returncode == 0, result.stderr
    data, _ = sf.read(str(take), dtype="float32")
    assert counter.check(data).gapless
    return len(data)


def test_with_sync_a_power_cut_loses_at_most_the_interval(
    generator: SourceProcess, tmp_path: Path
) -> None:
    snapshot, cut = cut_power_while_recording(generator, tmp_path, "--sync", "1")
    with loopdisk.mounted(snapshot, tmp_path / "after") as disk:
        take = disk / "take.wav"
        sidecar = read_sidecar(take)  # durable from the take's first frame
        assert sidecar["complete"] is False
        began = sidecar["start"]["unix_time"]
        frames = surviving_frames(take)
        assert frames >= sidecar["frames"] > 0  # never less than the sidecar says
        lost = cut - began - frames / RATE
        assert lost <= SYNC_SECONDS + SLACK_SECONDS, lost


def test_without_sync_the_cut_takes_what_only_the_page_cache_held(
    generator: SourceProcess, tmp_path: Path
) -> None:
    snapshot, _ = cut_power_while_recording(generator, tmp_path)
    with loopdisk.mounted(snapshot, tmp_path / "after") as disk:
        # the kernel writes back after 30 s (vm.dirty_expire_centisecs)
        survived = surviving_frames(disk / "take.wav") / RATE
        assert survived < RECORD_SECONDS - SYNC_SECONDS - SLACK_SECONDS, survived


def test_with_sync_a_take_is_on_the_disk_when_jackrec_exits(
    generator: SourceProcess, tmp_path: Path
) -> None:
    with loopdisk.ext4_disk(tmp_path) as disk:
        process = start_recording(
            generator, disk / "take.wav", "-q", "--sync", "5", "--duration", "1.5"
        )
        try:
            assert process.wait(30) == 0
        finally:
            stop_process(process)
        snapshot = loopdisk.cut_power(tmp_path, "after-exit")
    with loopdisk.mounted(snapshot, tmp_path / "after") as disk:
        take = disk / "take.wav"
        sidecar = read_sidecar(take)
        assert sidecar["complete"] is True and sidecar["frames"] >= RATE
        data, _ = sf.read(str(take), dtype="float32")  # finalized: no repair needed
        assert len(data) == sidecar["frames"] and counter.check(data).gapless
