"""Smoke tests in a real terminal: ``jackrec tui`` and ``jackrec run`` in tmux.

tmux runs on a socket of its own (``-L``), so a user's tmux is untouched,
and is killed by that socket at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import soundfile as sf

from jackrec import counter
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests.conftest import jackrec_command
from tests.tmux import Tmux, wait_for_exit

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")


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
