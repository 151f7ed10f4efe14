"""Smoke tests in a real terminal: ``jackrec tui`` and ``jackrec run`` in tmux.

tmux runs on a socket of its own (``-L``), so a user's tmux is untouched,
and is killed by that socket at the end.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import soundfile as sf

from jackrec import counter
from jackrec.jackserver import DummyServer
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests.conftest import (
    PERIOD,
    RATE,
    jackrec_command,
    leftovers,
    server_name,
    start_generator,
)
from tests.tmux import Tmux, wait_for_exit

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")


def console_command(tmp_path: Path, server: str, ports: str, *options: str) -> list[str]:
    """``jackrec tui`` on `server` with an empty settings file, takes in tmp_path/takes."""
    settings = tmp_path / "config.toml"
    settings.touch()
    return jackrec_command(
        "--config", str(settings), "tui", "--server", server, "-p", ports,
        "--dir", str(tmp_path / "takes"), *options,
    )  # fmt: skip


def start_recording(tmux: Tmux) -> None:
    tmux.wait_for("STOPPED")
    tmux.press("r")
    tmux.wait_for("● REC")
    time.sleep(1.5)


def wait_until_gone(pid: int, timeout: float = 20.0) -> bool:
    """Whether process `pid` (not our child) has ended within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.1)
    return False


def record_one_take(tmux: Tmux) -> str:
    tmux.wait_for("STOPPED")
    tmux.press("r")
    tmux.wait_for("● REC")
    time.sleep(1.5)
    tmux.press("r")
    screen = tmux.wait_for("ended by stop request")
    tmux.press("q")
    return screen


def test_console_in_tmux_records_a_take(
    tmux: Tmux, generator: SourceProcess, tmp_path: Path
) -> None:
    takes = tmp_path / "takes"
    (tmp_path / "empty.toml").write_text("")
    tmux.start(
        jackrec_command(
            "--config", str(tmp_path / "empty.toml"), "tui", "--server", generator.server,
            "-p", "counter:out_[1-4]", "--dir", str(takes),
        ),
        tmp_path / "exit",
    )  # fmt: skip
    assert "armed 4/4" in record_one_take(tmux)
    assert wait_for_exit(tmp_path / "exit") == "exit=0"
    (take,) = takes.glob("*.wav")
    report = counter.check_file(take)
    assert report.gapless and report.frames > 48000


def test_run_without_a_server_uses_a_demo_server_and_cleans_up(tmux: Tmux, tmp_path: Path) -> None:
    """What ``make run`` does on a machine with no JACK running."""
    takes = tmp_path / "takes"
    tmux.start(
        jackrec_command("run", "--dir", str(takes)),
        tmp_path / "exit",
        JACK_DEFAULT_SERVER=f"absent-{os.getpid()}",
    )
    record_one_take(tmux)
    assert wait_for_exit(tmp_path / "exit") == "exit=0"
    (take,) = takes.glob("*.wav")
    data, _ = sf.read(str(take), dtype="float32")
    assert data.shape[1] == 8 and len(data) > 48000
    assert 0.1 < abs(data).max() < 1.0  # the demo's sines, not silence
    assert read_sidecar(take)["channels"][0]["sources"] == ["jackrec-source:out_1"]
    leftovers = subprocess.run(["pgrep", "-f", "jackrec-demo-"], capture_output=True, check=False)
    assert leftovers.stdout == b""


@pytest.mark.parametrize("file_format", ["wav", "flac"])
def test_closing_the_terminal_finalizes_the_take(
    tmux: Tmux, generator: SourceProcess, tmp_path: Path, file_format: str
) -> None:
    """tmux kill-session: SIGHUP, then a terminal that reads end of file and fails writes."""
    tmux.start(
        console_command(tmp_path, generator.server, "counter:out_[1-4]", "--format", file_format),
        tmp_path / "exit",
    )
    start_recording(tmux)
    shell = tmux.pane_pid()
    (recorder,) = map(int, Path(f"/proc/{shell}/task/{shell}/children").read_text().split())
    tmux.close()
    assert wait_until_gone(recorder), "the console outlived its terminal"
    (take,) = (tmp_path / "takes").glob(f"*.{file_format}")
    sidecar = read_sidecar(take)
    report = counter.check_file(take)
    assert sidecar["complete"] is True and sidecar["ended_by"] == "stop request"
    assert sidecar["frames"] == report.frames > RATE
    assert report.gapless


@pytest.mark.parametrize("server_signal", [signal.SIGTERM, signal.SIGKILL])
def test_the_console_says_when_the_server_dies(
    tmux: Tmux, tmp_path: Path, server_signal: signal.Signals
) -> None:
    server = DummyServer(
        server_name("console-dying"), rate=RATE, period=PERIOD, synchronous=True
    ).start()
    generator = start_generator(server.name, 2, "counter-console-dying")
    try:
        tmux.start(
            console_command(tmp_path, server.name, "counter-console-dying:*"), tmp_path / "exit"
        )
        start_recording(tmux)
        assert server.process is not None
        server.process.send_signal(server_signal)
        assert wait_for_exit(tmp_path / "exit") == "exit=1"
        screen = tmux.screen()
    finally:
        generator.stop()
        server.stop()
        assert not [name for name in leftovers() if server.name in name]  # slot given back

    (take,) = (tmp_path / "takes").glob("*.wav")
    sidecar = read_sidecar(take)
    assert sidecar["complete"] is True and sidecar["ended_by"] == "server shutdown"
    data, _ = sf.read(str(take), dtype="float32")
    assert sidecar["frames"] == len(data) > RATE and counter.check(data).gapless
    (said,) = [line.strip() for line in screen.splitlines() if line.strip()]
    expected = (
        rf"jackrec: error: JACK server '{server.name}' shut down \(.+\); "
        rf"{re.escape(str(take))} holds {len(data)} frames"
    )
    assert re.fullmatch(expected, said), said
