"""Split takes (``--split``) on a real JACK server: one take, several files.

Every file of a split take must hold the same frames, from the same stream
frame, with its channels in order: the counter signal says so sample by
sample (file channel j of a file holding take channels a..b is the
counter of source channel a + j, at the same position in every file).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

from jackrec import counter
from jackrec.sidecar import read_sidecar, sidecar_path
from jackrec.source import SourceProcess
from jackrec.take import Take
from jackrec.takefile import FileFormat
from tests.conftest import (
    RATE,
    jackrec_command,
    let_it_record,
    open_session,
    run_jackrec,
    stop_process,
)

SECONDS = 2


def record(generator: SourceProcess, take: Path, channels: int, *options: str) -> dict[str, object]:
    ports = [arg for port in generator.port_names[:channels] for arg in ("-p", port)]
    timing = ["-d", str(SECONDS), "--json", *options]
    result = run_jackrec(["record", "--server", generator.server, *ports, *timing, str(take)])
    assert result.returncode == 0, result.stderr
    summary: dict[str, object] = json.loads(result.stdout)
    return summary


def position_of(sample: float, channel: int) -> int:
    """The counter position (mod its period) of `sample` on source `channel` (from 0)."""
    value = round(sample * 32768) + 32768
    return (value - channel * counter.STRIDE) % counter.PERIOD


def check_files(take: Path, groups: list[list[int]]) -> dict[str, Any]:
    """Check every file of `take` against the counter; returns the sidecar."""
    sidecar = read_sidecar(take)
    assert sidecar["complete"] is True and sidecar["frames"] == SECONDS * RATE
    assert [entry["channels"] for entry in sidecar["files"]] == groups
    assert not take.exists()  # the take is its files and its sidecar
    start = None
    for entry in sidecar["files"]:
        data, rate = sf.read(str(take.parent / entry["file"]), dtype="float32", always_2d=True)
        assert rate == RATE and data.shape == (SECONDS * RATE, len(entry["channels"]))
        assert entry["frames"] == SECONDS * RATE
        first = position_of(float(data[0, 0]), entry["channels"][0] - 1)
        start = first if start is None else start
        assert first == start, f"{entry['file']} starts on another frame"
        for j, channel in enumerate(entry["channels"]):
            np.testing.assert_array_equal(
                data[:, j], counter.expected(channel - 1, start, len(data)), entry["file"]
            )
    return sidecar


NAMES = ["take_01-03_counter_out.wav", "take_04_counter_out_4.wav", "take_05-12_counter_out.wav"]


def test_groups_are_exact_in_every_file(generator: SourceProcess, tmp_path: Path) -> None:
    take = tmp_path / "take.wav"
    summary = record(generator, take, 12, "--split", "1-3,4,5-12")
    assert summary["frames"] == SECONDS * RATE and summary["frames_lost"] == 0
    assert summary["files"] == [str(tmp_path / name) for name in NAMES]
    sidecar = check_files(take, [[1, 2, 3], [4], list(range(5, 13))])
    assert sidecar["split"] == "1-3,4,5-12"
    assert [entry["file"] for entry in sidecar["files"]] == NAMES
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*(entry["file"] for entry in sidecar["files"]), "take.wav.json"]
    )
    # one take: its channels, peaks and names are the take's, in order
    assert [c["sources"] for c in sidecar["channels"]] == [
        [port] for port in generator.port_names[:12]
    ]


def test_mono_and_pairs(generator: SourceProcess, tmp_path: Path) -> None:
    record(generator, tmp_path / "m.w64", 3, "--split", "mono")
    check_files(tmp_path / "m.w64", [[1], [2], [3]])
    # the take's name gives its markers (from its sidecar), as any take's
    listing = run_jackrec(["markers", "--json", str(tmp_path / "m.w64")])
    assert listing.returncode == 0, listing.stderr
    assert json.loads(listing.stdout)["from"] == "sidecar"
    record(generator, tmp_path / "p.caf", 3, "--split", "pairs", "--bits", "24")
    check_files(tmp_path / "p.caf", [[1, 2], [3]])


def test_flac_splits_by_itself_at_eight(generator: SourceProcess, tmp_path: Path) -> None:
    take = tmp_path / "wide.flac"
    record(generator, take, 12, "--bits", "16")
    sidecar = check_files(take, [list(range(1, 9)), list(range(9, 13))])
    assert sidecar["split"] == "auto"
    assert [entry["format"] for entry in sidecar["files"]] == ["FLAC", "FLAC"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--split", "1-2,4-8"], "groups must follow one another"),
        (["--split", "stereo"], "'stereo' is not a channel"),
        (["-c", "4", "--split", "1-2"], "groups cover channels 1-2; the take has 4"),
        (["-c", "12", "--split", "1-9,10-12", "-f", "flac"], "wider than the 8 channels"),
    ],
)
def test_bad_splits_are_one_line_usage_errors(
    generator: SourceProcess, tmp_path: Path, options: list[str], message: str
) -> None:
    take = tmp_path / "bad.wav"
    result = run_jackrec(["record", "--server", generator.server, *options, str(take)])
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_of_the_split_refuses_the_take(
    generator: SourceProcess, tmp_path: Path
) -> None:
    (tmp_path / "take_02_counter_out_2.wav").write_bytes(b"keep")
    ports = ["-p", generator.port_names[0], "-p", generator.port_names[1]]
    take = tmp_path / "take.wav"
    split = ["--split", "mono", "-d", "1"]
    result = run_jackrec(["record", "--server", generator.server, *ports, *split, str(take)])
    assert result.returncode == 1
    assert "never overwrites" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take_02_counter_out_2.wav"]
    assert (tmp_path / "take_02_counter_out_2.wav").read_bytes() == b"keep"
    assert not sidecar_path(take).exists()


class SlowTake(Take):
    """A take on a disk slower than the stream: the writer never catches up."""

    def write(self, frames: npt.NDArray[np.float32]) -> None:
        time.sleep(2 * len(frames) / RATE)  # half as fast as real time
        super().write(frames)


def test_a_writer_slower_than_the_stream_still_stops(
    generator: SourceProcess, tmp_path: Path
) -> None:
    """Commands given while the writer is behind reach it (found at 2048 channels)."""
    session = open_session(generator, "jackrec-slowsplit", buffer_seconds=0.5)
    try:
        info = session.take_info(tmp_path / "slow.wav", FileFormat("WAV", "FLOAT"), split="mono")
        take = SlowTake.create(info)
        session.record(take)
        time.sleep(1.5)  # behind by now, and losing frames
        session.marker("late")
        session.stop()
        deadline = time.monotonic() + 10
        while take.ended_by is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert take.ended_by == "stop request"
    finally:
        session.close()
    sidecar = read_sidecar(take.path)
    assert sidecar["frames_lost"] > 0 and [m["label"] for m in sidecar["markers"]] == ["late"]
    assert sidecar["complete"] is True


def test_a_killed_split_take_is_repaired_file_by_file(
    generator: SourceProcess, tmp_path: Path
) -> None:
    take = tmp_path / "killed.flac"
    ports = [arg for port in generator.port_names[:3] for arg in ("-p", port)]
    command = ["record", "--server", generator.server, "-q", *ports, "--split", "mono"]
    process = subprocess.Popen(jackrec_command(*command, str(take)))
    try:
        let_it_record(take, 1.5)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        stop_process(process)
    sidecar = read_sidecar(take)
    assert sidecar["complete"] is False
    files = [tmp_path / entry["file"] for entry in sidecar["files"]]
    result = run_jackrec(["repair", *map(str, files)])
    assert result.returncode == 0, result.stderr
    assert all("repaired" in line for line in result.stdout.splitlines())
    start = None
    for channel, path in enumerate(files):
        data, _ = sf.read(str(path), dtype="float32", always_2d=True)
        assert len(data) >= RATE  # a second and more: all but the encoder's last block
        first = position_of(float(data[0, 0]), channel)
        start = first if start is None else start
        assert first == start
        np.testing.assert_array_equal(data[:, 0], counter.expected(channel, start, len(data)))
