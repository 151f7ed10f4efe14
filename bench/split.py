"""``make bench``'s split takes: 2048 channels, one JACK client's limit.

A server with no driver ports (``-C 0 -P 0``) holds 4095 ports (JACK2's
4096, less the unused port 0; measured), so the counter client has 2047
and jackrec all 2048 of one client (its last input unconnected: silence).
An idle run (the counter client alone) shows how fast the server's stream
runs against the wall clock: overloaded, a dummy server runs late, and so
does every recorder on it.  Each case records for a fixed time with ``jackrec record --split`` and a
2-second ring, repeated; a run is gapless when jackrec lost no frame, and
the writer keeps up when the run ends on time (``--duration`` ends at the frame, so a writer
that falls behind finalizes the take later than the stream's end).  Medians go into
``docs/benchmarks.md`` (`bench.report.split_table`).

usage: python -m bench.split [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import jack

from bench import report
from bench.runfile import ROOT, append, results_file, unwind_on_sigterm
from jackrec.jackserver import DummyServer
from jackrec.source import SourceProcess

SOURCE_CHANNELS = 2047
#: The ring, well below a run's duration: a writer slower than the stream
#: overflows it within the run, so *lost* shows whether it keeps up for good.
BUFFER_SECONDS = 2.0
#: A run still going after this many times its duration (plus start-up) is stopped.
RUN_LIMIT = 6
START_SECONDS = 60
#: (channels, --bits, --split): the stream's width, then how it is cut.
CASES = [
    (2048, "float", "1-1024,1025-2048"),
    (2048, "16", "1-1024,1025-2048"),
    (2048, "16", "pairs"),
    (2048, "16", "mono"),
    (1024, "float", "pairs"),
]


def wait_bounded(process: subprocess.Popen[bytes], deadline: float) -> tuple[int, Any]:
    """Reap `process` (status and resource usage); past `deadline`, stop it (SIGINT)."""
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            return status, usage
        if time.monotonic() > deadline:
            process.send_signal(signal.SIGINT)  # it finalizes its take and exits
            deadline = math.inf
        time.sleep(0.1)


def run_case(
    server: str, channels: int, bits: str, split: str, seconds: float, workdir: Path
) -> dict[str, Any]:
    take = workdir / "take.wav"
    command = [
        sys.executable, "-m", "jackrec", "record", "--server", server, "--name", "splitbench",
        "-p", "counter2k:*", "-c", str(channels), "--bits", bits, "--split", split,
        "--duration", str(seconds), "--buffer", str(BUFFER_SECONDS), "--json", str(take),
    ]  # fmt: skip
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err)
        status, usage = wait_bounded(process, started + RUN_LIMIT * seconds + START_SECONDS)
        wall = time.monotonic() - started
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    files = list(workdir.iterdir())
    sidecar = workdir / "take.wav.json"
    # from the take's first frame to its sidecar's last rewrite, when finalized
    start = json.loads(sidecar.read_text())["start"] if sidecar.exists() else {}
    writing = sidecar.stat().st_mtime - start["unix_time"] if "unix_time" in start else None
    written = sum(path.stat().st_size for path in files)
    for path in files:
        path.unlink()
    row: dict[str, Any] = {
        "kind": "split", "channels": channels, "bits": bits, "split": split,
        "seconds": seconds, "wall": round(wall, 2), "writing": writing, "files": len(files) - 1,
        "bytes": written, "cpu": usage.ru_utime + usage.ru_stime, "status": process.returncode,
    }  # fmt: skip
    if process.returncode == 0:
        summary = json.loads(stdout)
        row.update(
            frames=summary["frames"], frames_lost=summary["frames_lost"], xruns=summary["xruns"]
        )
    else:
        row["error"] = stderr.strip()[-300:]
    return row


def idle_run(server: str, seconds: float) -> dict[str, Any]:
    """The server with the counter client only: how fast its stream runs, its xruns.

    Overloaded, a dummy server runs its cycles late and its stream falls
    behind the wall clock; every recorder on it does too.
    """
    client = jack.Client("splitbench-idle", servername=server, no_start_server=True)
    xruns = []
    client.set_xrun_callback(lambda delay: xruns.append(delay))
    client.activate()
    try:
        time.sleep(1.0)
        frame, started = client.frame_time, time.monotonic()
        time.sleep(seconds)
        frames = (client.frame_time - frame) % 2**32
        wall = time.monotonic() - started
        counted, rate = len(xruns), client.samplerate
    finally:
        client.deactivate()
        client.close()
    speed = frames / (rate * wall)
    return {"kind": "split_idle", "seconds": seconds, "speed": round(speed, 3), "xruns": counted}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.split")
    parser.add_argument("--quick", action="store_true", help="one short run per case")
    args = parser.parse_args()
    seconds, repetitions = (5.0, 1) if args.quick else (10.0, 2)
    unwind_on_sigterm()
    with (
        results_file("split", "split", "bench: split takes") as (output, _),
        tempfile.TemporaryDirectory(prefix="jackrec-split-", dir=ROOT / "build") as tmp,
        DummyServer("jackrec-splitbench", capture_ports=0, playback_ports=0) as server,
    ):
        source = SourceProcess(server.name, SOURCE_CHANNELS, "counter", name="counter2k").start()
        try:
            for repetition in range(repetitions):
                idle = {**idle_run(server.name, seconds), "repetition": repetition}
                append(output, idle, json.dumps(idle))
                for channels, bits, split in CASES:
                    row = run_case(server.name, channels, bits, split, seconds, Path(tmp))
                    row["repetition"] = repetition
                    append(output, row, json.dumps(row))
        finally:
            source.stop()
    report.write_latest()
    return 0


if __name__ == "__main__":
    sys.exit(main())
