"""The JACK server going away finalizes the take and exits non-zero."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
import soundfile as sf

from jackrec import counter
from jackrec.jackserver import DummyServer
from jackrec.sidecar import read_sidecar
from tests.conftest import (
    PERIOD,
    RATE,
    jackrec_command,
    leftovers,
    let_it_record,
    server_name,
    start_generator,
    stop_process,
)


@pytest.mark.parametrize("server_signal", [signal.SIGTERM, signal.SIGKILL])
def test_server_shutdown_finalizes_the_take(tmp_path: Path, server_signal: signal.Signals) -> None:
    server = DummyServer(server_name("dying"), rate=RATE, period=PERIOD, synchronous=True).start()
    generator = start_generator(server.name, 2, "counter-dying")
    take = tmp_path / "orphan.wav"
    recorder = subprocess.Popen(
        jackrec_command(
            "record", "--server", server.name, "-p", "counter-dying:*", "-q", str(take)
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        let_it_record(take, 1.5)
        assert server.process is not None
        server.process.send_signal(server_signal)
        _, stderr = recorder.communicate(timeout=30)
    finally:
        stop_process(recorder)
        generator.stop()
        server.stop()
        assert not [name for name in leftovers() if server.name in name]  # slot given back

    assert recorder.returncode == 1
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "shut down" in lines[0] and str(take) in lines[0]
    data, _ = sf.read(str(take), dtype="float32")
    assert len(data) > RATE and counter.check(data).gapless
    sidecar = read_sidecar(take)
    assert sidecar["complete"] is True and sidecar["ended_by"] == "server shutdown"
    assert sidecar["frames"] == len(data)
