"""``make bench``'s console cost: ``jackrec tui`` drawing meters that all move.

The real console (`bench.tui_runner`) runs in a tmux pane (a real
terminal) of each size in `SIZES`, on a private dummy server, metering a
sawtooth client (`jackrec demo-source --signal sawtooth`: every channel
sweeps its whole scale a few times a second, so every meter changes every
frame, as with music).  Its CPU is the scheduler's run time of all its
threads (`bench.cpu.cores`) over `WINDOW_SECONDS` after a warm-up,
first while it only meters, then while it records (its disk writer runs
in the same process).  The take is then checked: every frame the console
recorded is in the file, and its sidecar counts no frame lost.

Beside each, in the same pane, Textual's own floor (`bench.textual_floor`):
as many lines as the console's meters fill, all changing every frame at
the console's rate, drawn from strips made in advance; the console's cost
above it is what jackrec's own work (ballistics, drawing, status) adds.

Then where the console's CPU goes (`profile`): for each channel count,
the console at `PROFILED_SIZE`, metering, its pieces timed
(`bench.console_profile`).

usage: python -m bench.console [--quick] [--report]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import soundfile as sf

from bench import report
from bench.cpu import cores
from bench.runfile import ROOT, append, results_file, unwind_on_sigterm
from jackrec.core.signal import SignalKind
from jackrec.jackserver import DummyServer
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests.tmux import Tmux

RATE, PERIOD = 48000, 256
SOURCE: SignalKind = "sawtooth"
#: Terminal sizes (columns, lines): the smallest usable, a common one, a big one.
SIZES = ((80, 24), (120, 40), (160, 50))
CHANNELS = (16, 64)
WARM_UP_SECONDS = 2.0
WINDOW_SECONDS = 10.0
#: The terminal size at which the console's CPU is taken apart, piece by piece.
PROFILED_SIZE = SIZES[-1]
#: Runs of one look in a meter's line (number, label, bar zones, readout):
#: what the floor draws per meter.
SEGMENTS_PER_METER = 11


@dataclass(frozen=True)
class Case:
    channels: int
    columns: int
    lines: int


def measure(case: Case, server: str, workdir: Path, window: float) -> dict[str, Any]:
    """The console's CPU metering then recording `case`, its take checked, and
    Textual's floor for as many changing lines."""
    takes = workdir / "takes"
    info_file, exit_file = workdir / "tui.json", workdir / "tui.exit"
    info_file.unlink(missing_ok=True)
    exit_file.unlink(missing_ok=True)
    tmux = Tmux(case.columns, case.lines)
    command = [
        sys.executable, "-m", "bench.tui_runner", "--server", server, "--port", f"{SOURCE}:*",
        "--dir", str(takes), "--info-file", str(info_file),
    ]  # fmt: skip
    result: dict[str, Any] = {
        "kind": "console", "rate": RATE, "period": PERIOD, "channels": case.channels,
        "columns": case.columns, "lines": case.lines, "window": window,
    }  # fmt: skip
    try:
        tmux.start(command, exit_file, PYTHONPATH=str(ROOT))
        tmux.wait_for("STOPPED", timeout=30)
        info = json.loads(wait_for_file(info_file).read_text())
        pid = info["pid"]
        result.update(meter_rows=info["rows"], meter_columns=info["columns"])
        time.sleep(WARM_UP_SECONDS)
        result["metering"] = cores(pid, window)
        tmux.press("r")
        tmux.wait_for("● REC")
        time.sleep(WARM_UP_SECONDS)
        result["recording"] = cores(pid, window)
        tmux.press("r")
        tmux.wait_for("ended by stop request")
        tmux.press("q")
        deadline = time.monotonic() + 30
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        tmux.kill()
    for take in takes.glob("*.wav"):
        sidecar = read_sidecar(take)
        result.update(
            frames_in_file=sf.info(str(take)).frames,
            frames=sidecar["frames"],
            lost_frames=sidecar["frames_lost"],
            xruns=len(sidecar["xruns"]),
        )
        take.unlink()
        take.with_name(take.name + ".json").unlink()
    result["floor"] = floor(case, result["meter_rows"], result["meter_columns"], workdir, window)
    return result


def profile(case: Case, server: str, workdir: Path) -> dict[str, Any]:
    """The console's pieces' shares of a core while it meters `case`."""
    info_file, exit_file = workdir / "tui.json", workdir / "tui.exit"
    profile_file = workdir / "profile.json"
    for stale in (info_file, exit_file, profile_file):
        stale.unlink(missing_ok=True)
    tmux = Tmux(case.columns, case.lines)
    command = [
        sys.executable, "-m", "bench.tui_runner", "--server", server, "--port", f"{SOURCE}:*",
        "--dir", str(workdir / "takes"), "--info-file", str(info_file),
        "--profile", str(profile_file),
    ]  # fmt: skip
    try:
        tmux.start(command, exit_file, PYTHONPATH=str(ROOT))
        timings = json.loads(wait_for_file(profile_file, timeout=60).read_text())
        tmux.press("q")
    finally:
        tmux.kill()
    return {"kind": "console_profile", "channels": case.channels, "columns": case.columns,
            "lines": case.lines, **timings}  # fmt: skip


def floor(case: Case, rows: int, columns: int, workdir: Path, window: float) -> float:
    """Textual's cost for `rows` lines of `columns` meters changing every frame."""
    pid_file = workdir / "floor.pid"
    pid_file.unlink(missing_ok=True)
    tmux = Tmux(case.columns, case.lines)
    command = [
        sys.executable, "-m", "bench.textual_floor", str(rows),
        str(columns * SEGMENTS_PER_METER), str(pid_file),
    ]  # fmt: skip
    try:
        tmux.start(command, workdir / "floor.exit", PYTHONPATH=str(ROOT))
        pid = int(wait_for_file(pid_file).read_text())
        time.sleep(WARM_UP_SECONDS)
        return cores(pid, window)
    finally:
        tmux.kill()


def wait_for_file(path: Path, timeout: float = 30.0) -> Path:
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.stat().st_size:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.1)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.console")
    parser.add_argument("--quick", action="store_true", help="one run per case, 5 s windows")
    parser.add_argument("--report", action="store_true", help="only regenerate the report")
    args = parser.parse_args()
    if args.report:
        report.write_latest()
        return 0
    unwind_on_sigterm()
    repetitions, window = (1, 5.0) if args.quick else (3, WINDOW_SECONDS)
    what = f"bench.console: {repetitions} runs per case"
    # the takes go to the disk, as a user's do (not a tmpfs /tmp)
    with (
        results_file("console", "console", what) as (output, _),
        tempfile.TemporaryDirectory(dir=ROOT / "build") as tmp,
        DummyServer("jackrec-bench", rate=RATE, period=PERIOD) as server,
    ):
        for channels in CHANNELS:
            source = SourceProcess(server.name, channels, SOURCE, name=SOURCE).start()
            try:
                for repetition in range(repetitions):
                    for size in SIZES:
                        result = measure(Case(channels, *size), server.name, Path(tmp), window)
                        result["repetition"] = repetition
                        append(output, result, report.console_progress_line(result))
                append(output, profile(Case(channels, *PROFILED_SIZE), server.name, Path(tmp)))
            finally:
                source.stop()
    report.write_latest()
    return 0


if __name__ == "__main__":
    sys.exit(main())
