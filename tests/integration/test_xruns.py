"""Xruns go into the take's sidecar, at the frame the take had reached."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from jackrec.jackserver import DummyServer
from jackrec.sidecar import read_sidecar
from tests.conftest import (
    PERIOD,
    RATE,
    jackrec_command,
    let_it_record,
    server_name,
    start_generator,
    stop_process,
)


def test_every_xrun_is_in_the_sidecar(tmp_path: Path) -> None:
    """A source stopped for a moment misses its cycles: JACK reports xruns.

    The server runs asynchronously (JACK's default), where a client late for
    its cycle is an xrun for every client.
    """
    take = tmp_path / "xruns.wav"
    with DummyServer(server_name("xruns"), rate=RATE, period=PERIOD) as server:
        generator = start_generator(server.name, 2, "late-counter")
        recorder = subprocess.Popen(
            jackrec_command(
                "record", "--server", server.name, "-p", "late-counter:*", "--json", str(take)
            ),
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            let_it_record(take, 0.5)
            assert generator.process is not None
            for _ in range(3):
                generator.process.send_signal(signal.SIGSTOP)
                time.sleep(0.1)
                generator.process.send_signal(signal.SIGCONT)
                time.sleep(0.4)
            recorder.send_signal(signal.SIGINT)
            stdout, _ = recorder.communicate(timeout=20)
        finally:
            stop_process(recorder)
            generator.stop()
    summary, sidecar = json.loads(stdout), read_sidecar(take)
    xruns = sidecar["xruns"]
    assert 3 <= len(xruns) <= summary["xruns"]  # the session may have seen more, idle
    frames = [xrun["file_frame"] for xrun in xruns]
    assert frames == sorted(frames) and 0.4 * RATE < frames[0] < frames[-1] < sidecar["frames"]
    assert all(xrun["delay_us"] >= 0 for xrun in xruns)
