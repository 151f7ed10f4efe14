"""``jackrec run`` (what ``make run`` does) and the live status line."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

import soundfile as sf

from jackrec.jackclient import server_reachable
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests.conftest import jackrec_command, stop_process


def test_run_without_a_server_records_the_demo_and_cleans_up(tmp_path: Path) -> None:
    env = dict(os.environ, JACK_DEFAULT_SERVER=f"absent-{os.getpid()}")
    process = subprocess.Popen(
        jackrec_command("run", "--dir", str(tmp_path)),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob("demo-*.wav.json")) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        stop_process(process)
    assert process.returncode == 0, stderr
    assert "starting a private dummy server" in stdout
    (take,) = tmp_path.glob("demo-*.wav")
    data, _ = sf.read(str(take), dtype="float32")
    assert data.shape[1] == 8 and len(data) > 48000
    assert 0.1 < abs(data).max() < 1.0  # the sines, not silence
    assert read_sidecar(take)["channels"][0]["sources"] == ["jackrec-source:out_1"]
    demo_server = f"jackrec-demo-{process.pid}"
    assert not server_reachable(demo_server)
    leftover = subprocess.run(["pgrep", "-f", demo_server], capture_output=True, check=False)
    assert leftover.stdout == b""


def test_status_line_is_drawn_on_a_terminal_only(generator: SourceProcess, tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    take = tmp_path / "status.wav"
    process = subprocess.Popen(
        jackrec_command(
            "record",
            "--server",
            generator.server,
            "-p",
            "counter:out_[1-4]",
            "--duration",
            "1.5",
            str(take),
        ),
        stdout=subprocess.PIPE,
        stderr=terminal,
        text=True,
    )
    os.close(terminal)
    drawn = b""
    try:
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            if select.select([controller], [], [], 0.1)[0]:
                try:
                    drawn += os.read(controller, 4096)
                except OSError:
                    break
        stdout, _ = process.communicate(timeout=30)
    finally:
        stop_process(process)
        os.close(controller)
    assert process.returncode == 0
    text = drawn.decode()
    assert "\r\x1b[KREC 00:00:01" in text and "xruns" in text and "1:0.0" in text
    assert "144000 frames" not in text  # the summary goes to stdout
    assert "72000 frames (00:00:01.5)" in stdout
