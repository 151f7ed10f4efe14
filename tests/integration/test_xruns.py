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
    run_jackrec,
    server_name,
    start_generator,
    stop_process,
)


def test_every_xrun_is_in_the_sidecar(tmp_path: Path) -> None:
    """A client stopped for a moment misses its cycles: JACK reports xruns.

    The server runs asynchronously (JACK's default), where a client late for
    its cycle is an xrun for every client.  The late client is not the one
    recorded: a source that stalls also stalls the clients behind it in the
    graph (at times for good, in JACK 1.9.21), and the take would stop.
    Each stall is a client of its own: JACK may drop a client that stalled.
    """
    take = tmp_path / "xruns.wav"
    with DummyServer(server_name("xruns"), rate=RATE, period=PERIOD) as server:
        generator = start_generator(server.name, 2, "xrun-counter")
        stallers = [start_generator(server.name, 1, f"stalling-{n}") for n in range(3)]
        recorder = subprocess.Popen(
            jackrec_command(
                "record", "--server", server.name, "-p", "xrun-counter:*", "--json", str(take)
            ),
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            let_it_record(take, 0.5)
            for stalling in stallers:
                assert stalling.process is not None
                stalling.process.send_signal(signal.SIGSTOP)
                time.sleep(0.1)
                stalling.process.send_signal(signal.SIGCONT)
                time.sleep(0.4)
            recorder.send_signal(signal.SIGINT)
            stdout, _ = recorder.communicate(timeout=20)
        finally:
            stop_process(recorder)
            for stalling in stallers:
                stalling.stop()
            generator.stop()
    summary, sidecar = json.loads(stdout), read_sidecar(take)
    xruns = sidecar["xruns"]
    assert 3 <= len(xruns) <= summary["xruns"]  # the session may have seen more, idle
    frames = [xrun["file_frame"] for xrun in xruns]
    assert frames == sorted(frames) and 0.4 * RATE < frames[0] < frames[-1] < sidecar["frames"]
    assert frames[-1] - frames[0] > 0.8 * RATE  # three stalls, half a second apart
    assert all(xrun["delay_us"] >= 0 for xrun in xruns)
    # each is a cue point in the file, at its frame (what `jackrec markers` lists)
    listed = json.loads(run_jackrec(["markers", "--json", str(take)]).stdout)
    assert listed["from"] == "file"
    assert [(cue["frame"], cue["kind"]) for cue in listed["cues"]] == [
        (frame, "xrun") for frame in frames
    ]
