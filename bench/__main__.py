"""``make bench``: jackrec, jack_capture and a pure-Python recorder, side by side.

For each server configuration and channel count a private ``jackd -d dummy``
server (asynchronous, realtime when the machine allows) and the counter
client are started; then, repetition after repetition, each recorder
records the same ports for the same time, interleaved with idle runs that
show how many xruns the machine makes on its own.  Every run is appended
to ``bench/results/<time>-<profile>.jsonl`` as it ends; the report
(``docs/benchmarks.md`` and its plot) is regenerated from that file.

usage: python -m bench [--quick] [--report RESULTS.jsonl]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from bench import report
from bench.profiles import FULL, QUICK, Profile, ServerConfig
from bench.recorders import GENERATOR, RECORDERS, Run, measure
from bench.runfile import ROOT, append, results_file, unwind_on_sigterm
from jackrec.jackserver import DummyServer
from jackrec.source import SourceProcess


def plan(profile: Profile, config: ServerConfig, channels: int) -> list[Run]:
    """The runs of one server: repetitions outermost, so noise spreads evenly."""
    runs = []
    for repetition in range(profile.repetitions):
        if channels in profile.channels:
            for recorder in ("idle", *RECORDERS):
                runs.append(Run(recorder, config, channels, profile.seconds, False, repetition))
        if channels in profile.busy_channels:
            for recorder in ("jackrec", "python"):
                runs.append(Run(recorder, config, channels, profile.seconds, True, repetition))
    return runs


def run_server(
    profile: Profile, config: ServerConfig, channels: int, output: TextIO, workdir: Path
) -> None:
    name = "jackrec-bench"
    with DummyServer(name, rate=config.rate, period=config.period) as server:
        assert server.log_path is not None
        realtime = "realtime mode" in server.log_path.read_text(errors="replace")
        source = SourceProcess(server.name, channels, "counter", name=GENERATOR).start()
        try:
            for run in plan(profile, config, channels):
                record(output, {**measure(run, server, workdir), "server_realtime": realtime})
        finally:
            source.stop()


def record(output: TextIO, result: dict[str, Any]) -> None:
    append(output, result, report.progress_line(result))


def ring_benchmark(profile: Profile, output: TextIO) -> None:
    """Compile and run bench/ringbench.c for each period and the sweep."""
    binary = ROOT / "build" / "ringbench"
    binary.parent.mkdir(exist_ok=True)
    warnings = subprocess.run(
        [sys.executable, str(ROOT / "cext" / "build_core.py")],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    sources = [
        "cext/memory.c", "cext/ring.c", "cext/capture.c", "cext/tests/fakejack.c",
        "bench/ringbench.c",
    ]  # fmt: skip
    subprocess.run(
        ["gcc", *warnings, "-O2", "-Icext", *sources, "-lm", "-o", str(binary)],
        cwd=ROOT, check=True, timeout=120,
    )  # fmt: skip
    for period in sorted({config.period for config in profile.configs}):
        lines = subprocess.run(
            [str(binary), str(period), str(profile.ring_iterations),
             *map(str, profile.channels)],
            capture_output=True, text=True, check=True, timeout=600,
        ).stdout.splitlines()  # fmt: skip
        for line in lines:
            append(output, {"kind": "ring", **json.loads(line)})


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="the few-minute profile")
    parser.add_argument("--report", type=Path, help="only regenerate the report from a file")
    args = parser.parse_args()
    if args.report:
        report.write(args.report)
        return 0
    unwind_on_sigterm()
    profile = QUICK if args.quick else FULL
    with (
        results_file(profile.name, profile.name, f"bench: {profile.name} profile") as (
            output,
            path,
        ),
        tempfile.TemporaryDirectory(prefix="jackrec-bench-") as tmp,
    ):
        for config in profile.configs:
            for channels in sorted({*profile.channels, *profile.busy_channels}):
                run_server(profile, config, channels, output, Path(tmp))
        ring_benchmark(profile, output)
    report.write(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
