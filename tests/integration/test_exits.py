"""Every way a command can end is quiet and honest: no traceback, the right status.

A reader that stops reading, a Ctrl-C at any moment of start-up, a server
that goes away under the demo source, a full JACK server registry.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from jackrec.jackserver import REGISTRY_FULL, REGISTRY_SLOTS, DummyServer
from jackrec.sidecar import read_sidecar, sidecar_path
from jackrec.source import SourceProcess
from tests.conftest import jackrec_command, server_name, stop_process


def test_a_reader_that_stops_reading_gets_no_traceback(generator: SourceProcess) -> None:
    command = " ".join(jackrec_command("ports", "--server", generator.server))
    result = subprocess.run(
        ["sh", "-c", f"{command} | head -2"], capture_output=True, text=True, timeout=30
    )
    assert result.stdout.splitlines()[0] == "sources (outputs):"
    assert result.stderr == ""


def wait_until_importing(process: subprocess.Popen[str], timeout: float = 20.0) -> None:
    """Wait until the interpreter runs jackrec's imports (NumPy mapped).

    A Ctrl-C before that hits Python's own start-up (its site module),
    which no program can answer.
    """
    deadline = time.monotonic() + timeout
    while "numpy" not in Path(f"/proc/{process.pid}/maps").read_text():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.005)


@pytest.mark.parametrize("delay", [0.0, 0.1, 0.2, 0.35, 0.5, 0.8, 1.2])
def test_ctrl_c_during_start_up_is_quiet(
    generator: SourceProcess, tmp_path: Path, delay: float
) -> None:
    """Wherever start-up is (imports, connecting, the take's first frames)."""
    take = tmp_path / "early.wav"
    process = subprocess.Popen(
        jackrec_command(
            "record", "--server", generator.server, "-p", f"{generator.name}:out_[12]",
            "-q", str(take),
        ),
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until_importing(process)
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    finally:
        stop_process(process)
    assert "Traceback" not in stderr
    assert len(stderr.splitlines()) <= 1, stderr
    if process.returncode == 0:  # it had begun: a complete take
        assert read_sidecar(take)["complete"] is True
    else:
        assert process.returncode == 130, stderr
        assert not take.exists() and not sidecar_path(take).exists()


def test_the_demo_source_ends_with_its_server(tmp_path: Path) -> None:
    server = DummyServer(server_name("source-dying")).start()
    source = subprocess.Popen(
        jackrec_command("demo-source", "--server", server.name, "-c", "2", "--name", "lonely"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while (
            "lonely:out_2"
            not in subprocess.run(
                ["jack_lsp", "-s", server.name], capture_output=True, text=True, check=False
            ).stdout
        ):
            assert time.monotonic() < deadline, "the source never came up"
            time.sleep(0.1)
        server.stop()
        _, stderr = source.communicate(timeout=15)
    finally:
        stop_process(source)
        server.stop()
    assert source.returncode == 1
    assert stderr.strip().splitlines() == [
        f"jackrec: error: JACK server '{server.name}' shut down (JACK server has been closed)"
    ]


def test_a_full_server_registry_is_named_with_what_to_do(tmp_path: Path) -> None:
    """``jackrec run`` when JACK's registry holds eight servers already.

    The servers run in a mount namespace with a /dev/shm of its own, so the
    machine's registry is never touched, and in a PID namespace, so that
    they end with the test even if it times out.
    """
    slots = f"$(seq 1 {REGISTRY_SLOTS})"
    script = (
        "mount -t tmpfs jackrec-shm /dev/shm || exit 99; "
        f"for n in {slots}; do jackd --no-realtime -n full$n -d dummy -p 4096 >/dev/null 2>&1 & "
        'servers="$servers $!"; done; '
        f"for n in {slots}; do jack_wait -s full$n -c -t 10 >/dev/null || break; done; "
        f"{' '.join(jackrec_command('run'))}; status=$?; kill $servers; wait; exit $status"
    )
    result = subprocess.run(
        # a PID namespace too: whatever happens, the servers end with it
        ["unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child",
         "sh", "-c", script],
        capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "JACK_DEFAULT_SERVER": "absent"},
    )  # fmt: skip
    if result.returncode == 99:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("jackrec:")]
    assert REGISTRY_FULL in line and "pgrep -a jackd" in line
