"""However the console ends, it exits by itself and its take is finalized.

The console runs here with pipes for its terminal, so the tests can make
the terminal go away: stdin at end of file, the output pipe closed (as
``jackrec tui 2>&1 | head -c 100`` does).  A closed terminal window (SIGHUP
with a hung-up terminal) and the server dying are tested in tmux
(``test_tmux.py``).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from jackrec import counter
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests.conftest import RATE, jackrec_command, stop_process

EXIT_SECONDS = 15  # a console that has not exited by then never will


def start_console(
    tmp_path: Path, generator: SourceProcess, *options: str, stdin: int = subprocess.PIPE
) -> subprocess.Popen[bytes]:
    """The console, its output (stdout and stderr) on a pipe."""
    settings = tmp_path / "config.toml"
    settings.touch()
    return subprocess.Popen(
        jackrec_command(
            "--config", str(settings), "tui", "--server", generator.server,
            "-p", "counter:out_[1-4]", "--dir", str(tmp_path / "takes"), *options,
        ),
        stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def record(console: subprocess.Popen[bytes], takes: Path) -> None:
    """Press r, then read the console's output until the take is 1.5 s long."""
    assert console.stdin is not None and console.stdout is not None
    output = console.stdout.fileno()
    console.stdin.write(b"r")
    console.stdin.flush()
    deadline = time.monotonic() + EXIT_SECONDS
    began = None
    while began is None or time.monotonic() < began + 1.5:
        assert time.monotonic() < deadline, "no take began"
        if select.select([output], [], [], 0.05)[0]:
            os.read(output, 65536)
        if began is None and any(takes.glob("*.json")):
            began = time.monotonic()


def output_until_exit(console: subprocess.Popen[bytes]) -> bytes:
    """Everything the console writes until it exits, leaving its stdin open."""
    assert console.stdout is not None
    output = b""
    deadline = time.monotonic() + EXIT_SECONDS
    while time.monotonic() < deadline:
        if select.select([console.stdout], [], [], 0.1)[0]:
            if not (chunk := os.read(console.stdout.fileno(), 65536)):
                console.wait(EXIT_SECONDS)
                return output
            output += chunk
    raise AssertionError("the console did not exit")


def assert_finalized(takes: Path, ended_by: str = "stop request") -> None:
    (take,) = (path for path in takes.iterdir() if path.suffix != ".json")
    sidecar = read_sidecar(take)
    report = counter.check_file(take)
    assert sidecar["complete"] is True and sidecar["ended_by"] == ended_by
    assert sidecar["frames"] == report.frames > RATE
    assert report.gapless


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_ends_the_console_cleanly(
    generator: SourceProcess, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    console = start_console(tmp_path, generator)
    try:
        record(console, tmp_path / "takes")
        console.send_signal(stop_signal)
        output = output_until_exit(console)
    finally:
        stop_process(console)
    assert console.returncode == 0
    assert b"Traceback" not in output and b"jackrec: error" not in output
    assert_finalized(tmp_path / "takes")


@pytest.mark.parametrize("file_format", ["wav", "flac"])
def test_output_going_away_ends_the_console(
    generator: SourceProcess, tmp_path: Path, file_format: str
) -> None:
    console = start_console(tmp_path, generator, "--format", file_format)
    try:
        record(console, tmp_path / "takes")
        assert console.stdout is not None
        console.stdout.close()  # the next frame it draws fails with EPIPE
        console.wait(EXIT_SECONDS)
    finally:
        stop_process(console)
    assert console.returncode == 1
    assert_finalized(tmp_path / "takes")


def test_stdin_at_end_of_file_ends_the_console(generator: SourceProcess, tmp_path: Path) -> None:
    """``jackrec tui </dev/null 2>&1 | head -c 100``: once, it spun forever at 100 % CPU."""
    console = start_console(tmp_path, generator, stdin=subprocess.DEVNULL)
    assert console.stdout is not None
    head = subprocess.Popen(["head", "-c", "100"], stdin=console.stdout, stdout=subprocess.PIPE)
    console.stdout.close()
    try:
        console.wait(EXIT_SECONDS)
        shown, _ = head.communicate(timeout=EXIT_SECONDS)
    finally:
        stop_process(console)
        stop_process(head)
    assert console.returncode == 1
    assert len(shown) == 100


def test_stdin_at_end_of_file_is_a_one_line_error(generator: SourceProcess, tmp_path: Path) -> None:
    console = start_console(tmp_path, generator, stdin=subprocess.DEVNULL)
    try:
        output, _ = console.communicate(timeout=EXIT_SECONDS)
    finally:
        stop_process(console)
    assert console.returncode == 1
    assert output.count(b"jackrec:") == 1 and b"Traceback" not in output
    assert output.endswith(
        b"jackrec: error: the console lost its terminal: its input is at end of file\n"
    )
