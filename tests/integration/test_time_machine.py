"""``jackrec record``'s time machine on a real JACK server: where takes begin and end.

The counter source's first channel is a sawtooth over 65536 frames, from
-1.0 up to just below +1.0: it is loud (beyond -6 dBFS) near either end of
its period and quiet in the middle, so the frames where it crosses a level
are known exactly.  A take's samples say which counter positions it holds,
and the sidecar which stream frames: together they pin every take's first
and last frame to the frame the trigger, the hold or a signal asked for.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile as sf

from jackrec import counter
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests.conftest import RATE, jackrec_command, run_jackrec, stop_process

TRIGGER_DBFS = -6.0
LEVEL = 10 ** (TRIGGER_DBFS / 20)
RELEASE = 10 ** ((TRIGGER_DBFS - 6) / 20)  # the default: 6 dB below
HOLD_SECONDS = 0.1
HOLD = round(HOLD_SECONDS * RATE)
PREROLL_SECONDS = 0.2
PREROLL = round(PREROLL_SECONDS * RATE)


def positions(data: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
    """The counter position of each frame of channel 1."""
    found: npt.NDArray[np.int64] = (np.rint(data * 32768).astype(np.int64) + 32768) % counter.PERIOD
    return found


def read_take(path: Path) -> tuple[npt.NDArray[np.float32], dict[str, Any]]:
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    assert rate == RATE
    sidecar = read_sidecar(path)
    assert sidecar["complete"] and sidecar["frames"] == len(data) and sidecar["frames_lost"] == 0
    channel: npt.NDArray[np.float32] = data[:, 0]
    assert (np.diff(positions(channel)) % counter.PERIOD == 1).all(), "not one unbroken stretch"
    return channel, sidecar


def first_loud_from(stream_frame: int, offset: int) -> int:
    """The first stream frame from `stream_frame` on at the trigger level."""
    stream = np.arange(stream_frame, stream_frame + counter.PERIOD)
    values = counter.expected(0, 0, counter.PERIOD)[(stream + offset) % counter.PERIOD]
    return stream_frame + int(np.flatnonzero(np.abs(values) >= LEVEL)[0])


def wait_for_ports(server: str, client: str, timeout: float = 20.0) -> None:
    """Until `client` has registered its ports on `server`."""
    deadline = time.monotonic() + timeout
    command = ["jack_lsp", "-s", server]
    while (
        f"{client}:in_1"
        not in subprocess.run(
            command, capture_output=True, text=True, timeout=10, check=False
        ).stdout
    ):
        assert time.monotonic() < deadline, f"{client} never showed up"
        time.sleep(0.1)


def test_triggered_takes_begin_and_end_on_the_crossing_frames(
    generator: SourceProcess, tmp_path: Path
) -> None:
    series = tmp_path / "take.wav"
    result = run_jackrec(
        [
            "record", "--server", generator.server, "-p", generator.port_names[0], "-q",
            "--preroll", str(PREROLL_SECONDS), "--trigger", str(TRIGGER_DBFS),
            "--trigger-hold", str(HOLD_SECONDS), "--takes", "3", str(series),
        ]
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    paths = sorted(tmp_path.glob("take-*.wav"))
    assert [p.name for p in paths] == ["take-001.wav", "take-002.wav", "take-003.wav"]
    takes = [read_take(path) for path in paths]
    data, sidecar = takes[0]
    start = sidecar["start"]
    offset = int(positions(data[:1])[0]) - start["stream_frame"]  # the counter's stream frame
    previous_end = None
    for data, sidecar in takes:
        start = sidecar["start"]
        assert int(positions(data[:1])[0]) == (start["stream_frame"] + offset) % counter.PERIOD
        assert start["started_by"] == "trigger" and sidecar["ended_by"] == "trigger hold"
        cue = start["cue_stream_frame"]
        if previous_end is not None:  # listening again from the frame after the last take
            assert cue == first_loud_from(previous_end, offset)
        # (the first take's pre-roll can reach back only to the first frame captured)
        assert start["stream_frame"] == max(0, cue - PREROLL) == cue - start["preroll_frames"]
        assert abs(data[PREROLL]) >= LEVEL
        # the take ends exactly the hold after its last frame at the release level,
        # and no quiet stretch that long came before
        heard = np.flatnonzero(np.abs(data[PREROLL:]) >= RELEASE) + PREROLL
        assert len(data) == heard[-1] + 1 + HOLD
        assert np.diff(heard).max() <= HOLD
        assert sidecar["trigger"]["last_loud_frame"] == heard[-1]
        assert sidecar["trigger"]["hold_frames"] == HOLD
        previous_end = start["stream_frame"] + len(data)


def test_signals_start_and_end_takes_with_the_preroll(
    generator: SourceProcess, tmp_path: Path
) -> None:
    series = tmp_path / "cue.wav"
    process = subprocess.Popen(
        jackrec_command(
            "record", "--server", generator.server, "-p", generator.port_names[0], "-q",
            "--name", "tm-signals", "--preroll", "0.25", str(series),
        ),
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for_ports(generator.server, "tm-signals")
        time.sleep(1.0)  # the pre-roll fills
        for cue in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGUSR1):
            process.send_signal(cue)
            time.sleep(0.6)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    finally:
        stop_process(process)
    assert process.returncode == 0, stderr
    assert sorted(p.name for p in tmp_path.glob("cue-*.wav")) == ["cue-001.wav", "cue-002.wav"]
    first, second = read_take(tmp_path / "cue-001.wav"), read_take(tmp_path / "cue-002.wav")
    assert (first[1]["ended_by"], second[1]["ended_by"]) == ("signal", "stop request")
    for _, sidecar in (first, second):
        start = sidecar["start"]
        assert start["started_by"] == "signal" and "trigger" not in sidecar
        assert start["preroll_frames"] == round(0.25 * RATE)
        assert start["cue_stream_frame"] - start["stream_frame"] == round(0.25 * RATE)


def test_duration_is_each_takes_length_and_takes_end_the_command(
    generator: SourceProcess, tmp_path: Path
) -> None:
    series = tmp_path / "timed.wav"
    process = subprocess.Popen(
        jackrec_command(
            "record", "--server", generator.server, "-p", generator.port_names[0], "-q",
            "--name", "tm-timed", "--preroll", "0.25", "--duration", "0.5", "--takes", "2",
            str(series),
        ),
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for_ports(generator.server, "tm-timed")
        time.sleep(0.5)
        for _ in range(2):
            process.send_signal(signal.SIGUSR1)
            time.sleep(1.0)
        _, stderr = process.communicate(timeout=20)  # it ends by itself
    finally:
        stop_process(process)
    assert process.returncode == 0, stderr
    for name in ("timed-001.wav", "timed-002.wav"):
        data, sidecar = read_take(tmp_path / name)
        assert len(data) == RATE // 2 and sidecar["ended_by"] == "duration"


def test_time_machine_options_need_arming() -> None:
    for options, message in (
        (["--takes", "2"], "--takes needs --preroll or --trigger"),
        (["--trigger-hold", "1"], "--trigger-hold needs --trigger"),
        (["--preroll", "1", "--trigger", "-20", "--trigger-release", "-10"], "--trigger-release"),
        (["--trigger", "3"], "--trigger must be -120 to 0 dBFS"),
    ):
        result = run_jackrec(["record", *options, "x.wav"])
        assert result.returncode == 2 and message in result.stderr, (options, result.stderr)
        assert "Traceback" not in result.stderr
