"""The console under measurement: its CPU cost, and recording while it redraws.

The real console (`bench.tui_runner`) runs in a tmux pane (a real
terminal), records the counter client's ports, and is driven by keys.  Its
process CPU is sampled from /proc over a steady stretch, first while it
only meters, then while it records; the take is checked like every other.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.profiles import ServerConfig
from bench.recorders import SOURCES
from jackrec import counter
from tests.tmux import Tmux

COLUMNS, LINES = 120, 40  # room for 64 meters in two columns with readouts


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_share(pid: int, seconds: float) -> float:
    """Share of one core the process used over the next `seconds`."""
    start, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - start) / (time.monotonic() - t0)


def measure_console(
    config: ServerConfig, server: str, channels: int, seconds: float, frame_seconds: float,
    workdir: Path,
) -> dict[str, Any]:  # fmt: skip
    takes, pid_file, exit_file = workdir / "tui-takes", workdir / "tui.pid", workdir / "tui.exit"
    pid_file.unlink(missing_ok=True)
    exit_file.unlink(missing_ok=True)
    tmux = Tmux(COLUMNS, LINES)
    command = [
        sys.executable, "-m", "bench.tui_runner", "--server", server, "--port", SOURCES,
        "--dir", str(takes), "--frame-seconds", str(frame_seconds), "--pid-file", str(pid_file),
    ]  # fmt: skip
    result: dict[str, Any] = {
        "kind": "tui", "rate": config.rate, "period": config.period, "channels": channels,
        "seconds": seconds, "frame_seconds": frame_seconds,
    }  # fmt: skip
    try:
        tmux.start(command, exit_file, PYTHONPATH=str(Path.cwd()))
        tmux.wait_for("STOPPED", timeout=30)
        pid = int(pid_file.read_text())
        time.sleep(1.0)
        result["cpu_metering"] = cpu_share(pid, seconds)
        tmux.press("r")
        tmux.wait_for("● REC")
        time.sleep(0.5)
        result["cpu_recording"] = cpu_share(pid, seconds)
        tmux.press("r")
        tmux.wait_for("ended by stop request")
        tmux.press("q")
        deadline = time.monotonic() + 30
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        tmux.kill()
    for take in takes.glob("*.wav"):
        report = counter.check_file(take, block_frames=8192)
        result.update(
            frames_in_file=report.frames,
            lost_frames=report.lost_frames + report.filled_frames,
            torn_stretches=len(report.torn),
            exact=report.exact,
        )
        take.unlink()
    return result
