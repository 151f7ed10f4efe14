"""``jackrec record``'s time machine on a real JACK server: where takes begin and end.

See `tests.integration.triggered` for how the counter pins the frames.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from jackrec import counter
from jackrec.source import SourceProcess
from tests.conftest import RATE, jackrec_command, run_jackrec, stop_process
from tests.integration.triggered import (
    HOLD_SECONDS,
    PREROLL_SECONDS,
    TRIGGER_DBFS,
    check_triggered_takes,
    positions,
    read_take,
)


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


def run_with_cues(
    generator: SourceProcess,
    series: Path,
    client: str,
    options: list[str],
    cues: Sequence[tuple[signal.Signals | None, float]],
    *,
    stop: bool,
) -> None:
    """``jackrec record`` armed on the generator's first channel, named `client`.

    Once its ports exist, each cue signal is sent and followed by its pause;
    then SIGTERM ends it (`stop`), or it must end by itself.  It must exit 0.
    """
    process = subprocess.Popen(
        jackrec_command(
            "record", "--server", generator.server, "-p", generator.port_names[0], "-q",
            "--name", client, *options, str(series),
        ),
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for_ports(generator.server, client)
        for cue, pause in cues:
            if cue is not None:
                process.send_signal(cue)
            time.sleep(pause)
        if stop:
            process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    finally:
        stop_process(process)
    assert process.returncode == 0, stderr


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
    check_triggered_takes(paths)


def test_signals_start_and_end_takes_with_the_preroll(
    generator: SourceProcess, tmp_path: Path
) -> None:
    series = tmp_path / "cue.wav"
    cues = [(None, 1.0)] + [(cue, 0.6) for cue in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGUSR1)]
    run_with_cues(generator, series, "tm-signals", ["--preroll", "0.25"], cues, stop=True)
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
    options = ["--preroll", "0.25", "--duration", "0.5", "--takes", "2"]
    cues = [(None, 0.5), (signal.SIGUSR1, 1.0), (signal.SIGUSR1, 1.0)]
    run_with_cues(generator, series, "tm-timed", options, cues, stop=False)  # ends by itself
    for name in ("timed-001.wav", "timed-002.wav"):
        data, sidecar = read_take(tmp_path / name)
        assert len(data) == RATE // 2 and sidecar["ended_by"] == "duration"


def test_time_machine_options_need_arming() -> None:
    for options, message in (
        (["--takes", "2"], "--takes needs --preroll, --trigger, --transport or --freewheel"),
        (["--trigger-hold", "1"], "--trigger-hold needs --trigger"),
        (["--preroll", "1", "--trigger", "-20", "--trigger-release", "-10"], "--trigger-release"),
        (["--trigger", "3"], "--trigger must be -120 to 0 dBFS"),
    ):
        result = run_jackrec(["record", *options, "x.wav"])
        assert result.returncode == 2 and message in result.stderr, (options, result.stderr)
        assert "Traceback" not in result.stderr


def test_rotation_cuts_a_take_into_files_that_count_as_one_take(
    generator: SourceProcess, tmp_path: Path
) -> None:
    series = tmp_path / "long.wav"
    options = ["--preroll", "0.25", "--rotate", "1", "--takes", "1"]
    cues = [(None, 0.5), (signal.SIGUSR1, 2.6), (signal.SIGUSR2, 0.0)]  # 2.6 s: a third file
    run_with_cues(generator, series, "tm-rotate", options, cues, stop=False)  # one take: ends
    names = sorted(p.name for p in tmp_path.glob("long-*.wav"))
    assert names == ["long-001.wav", "long-002.wav", "long-003.wav"]
    takes = [read_take(tmp_path / name) for name in names]
    assert [sidecar["start"]["started_by"] for _, sidecar in takes] == [
        "signal", "rotation", "rotation",
    ]  # fmt: skip
    assert [len(data) for data, _ in takes[:2]] == [RATE, RATE]  # the pre-roll included
    assert [sidecar["ended_by"] for _, sidecar in takes] == ["rotated", "rotated", "signal"]
    joined = np.concatenate([data for data, _ in takes])  # one unbroken stretch
    assert (np.diff(positions(joined)) % counter.PERIOD == 1).all()
