"""The live status line of ``jackrec record``, on a terminal and off it."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from pathlib import Path

from jackrec.source import SourceProcess
from tests.conftest import jackrec_command, stop_process


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
