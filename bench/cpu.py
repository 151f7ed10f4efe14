"""``make bench``'s CPU ratio: jackrec against jack_capture, side by side.

Both record the counter client's ports on one private dummy server; for
each case the two run alternately (ABAB...), so the machine's noise falls
on both alike.  A run's CPU is its steady state: the scheduler's run time
of every thread of the process (``/proc/PID/task/*/schedstat``, in ns, not
tick-sampled) over `WINDOW_SECONDS` after `WARM_UP_SECONDS`, divided by
the window's wall time.  Each take is then checked against the counter
(gapless and bit-exact), so a recorder that saves CPU by losing frames
shows it.  The ratio reported is the median of jackrec's runs over the
median of jack_capture's.

Then, where each recorder's CPU goes (`profile`): one run of each at 512
channels under ``perf record -e cpu-clock`` (Debian's linux-perf; left out
with a note when it is missing), its samples put in categories (`CATEGORIES`),
and its user and kernel time from ``/proc/PID/stat``.

usage: python -m bench.cpu [--quick] [--profile] [--report]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bench import report
from bench.profiles import ServerConfig
from bench.recorders import GENERATOR, SOURCES
from bench.runfile import ROOT, append, results_file, unwind_on_sigterm
from jackrec import counter
from jackrec.jackserver import DummyServer
from jackrec.source import SourceProcess

WARM_UP_SECONDS = 3.0
WINDOW_SECONDS = 10.0
RECORDERS = ("jackrec", "jack_capture")


@dataclass(frozen=True)
class Case:
    config: ServerConfig
    channels: int
    bits: str  # "float" or "24"


FULL_CASES = [
    *(Case(ServerConfig(48000, 256), n, "float") for n in (64, 128, 256, 512)),
    *(Case(ServerConfig(48000, 256), n, "24") for n in (64, 128, 256, 512)),
    *(Case(ServerConfig(96000, 64), n, bits) for n in (16, 64) for bits in ("float", "24")),
]
#: The case whose CPU is taken apart, recorder by recorder.
PROFILED = Case(ServerConfig(48000, 256), 512, "float")
#: cext/capture.c's functions that run in the JACK thread (GCC inlines the rest).
CALLBACK = ("process", "capture_cycle", "meter_and_interleave", "interleave_block",
            "meter_channels", "meter_channel")  # fmt: skip
#: perf's (shared object, symbol) to a category: the first that matches.
CATEGORIES: list[tuple[str, Callable[[str, str], bool]]] = [
    ("callback (C)", lambda dso, sym: dso.startswith("_core") and sym in CALLBACK),
    ("writer (C)", lambda dso, sym: dso.startswith("_core")),
    ("recorder's own code", lambda dso, sym: dso == "jack_capture"),
    ("Python, cffi, NumPy", lambda dso, sym: dso.startswith(("libpython", "python", "_cffi",
                                                           "_multiarray", "_json"))),
    ("libsndfile", lambda dso, sym: "libsndfile" in dso),
    ("libjack", lambda dso, sym: "libjack" in dso),
    ("kernel: page-cache copy", lambda dso, sym: "kernel" in dso and sym.startswith("copy_")),
    ("kernel: the rest", lambda dso, sym: "kernel" in dso),
    ("other (libc, ...)", lambda dso, sym: True),
]  # fmt: skip

QUICK_CASES = [
    Case(ServerConfig(48000, 256), 128, "float"),
    Case(ServerConfig(48000, 256), 512, "float"),
    Case(ServerConfig(48000, 256), 512, "24"),
]


def command(
    recorder: str, case: Case, server: str, path: Path, seconds: float, options: tuple[str, ...]
) -> list[str]:
    """Each recorder's command line for a float or 24-bit WAV of `seconds`
    (`options`: more of jackrec's)."""
    if recorder == "jackrec":
        return [
            sys.executable, "-m", "jackrec.cli", "record", "--server", server,
            "-p", SOURCES, "--format", "wav", "--bits", case.bits,
            "--duration", f"{seconds:g}", *options, str(path),
        ]  # fmt: skip
    return [
        "jack_capture", "--daemon", "--channels", str(case.channels), "--port", SOURCES,
        "--bitdepth", "FLOAT" if case.bits == "float" else case.bits, "--format", "wav",
        "--recording-time", f"{seconds:g}", "--filename", str(path),
    ]  # fmt: skip


def run_time_ns(pid: int) -> int:
    """The scheduler's run time of every thread of `pid` so far (0: gone)."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for task in tasks:
        with contextlib.suppress(OSError, ValueError, IndexError):  # a thread that ended
            total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
    return total


def cores(pid: int, seconds: float) -> float:
    """Cores `pid` uses over the next `seconds` (all its threads)."""
    start, began = run_time_ns(pid), time.monotonic()
    time.sleep(seconds)
    return (run_time_ns(pid) - start) / 1e9 / (time.monotonic() - began)


def measure(
    recorder: str, case: Case, server: str, workdir: Path, options: tuple[str, ...] = ()
) -> dict[str, Any]:
    """One run: the steady-state CPU of `recorder` (`options`: more of
    jackrec's), then its take checked, and jackrec's syncs (``--sync``)."""
    path = workdir / f"{recorder}.wav"
    seconds = WARM_UP_SECONDS + WINDOW_SECONDS + 1.0
    env = dict(os.environ, JACK_DEFAULT_SERVER=server, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        command(recorder, case, server, path, seconds, options),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(WARM_UP_SECONDS)
        used = cores(process.pid, WINDOW_SECONDS)
        _, stderr = process.communicate(timeout=seconds + 60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    result: dict[str, Any] = {
        "kind": "cpu",
        "recorder": recorder,
        "rate": case.config.rate,
        "period": case.config.period,
        "channels": case.channels,
        "bits": case.bits,
        "exit_code": process.returncode,
        "cores": used,
        "stderr": stderr.decode(errors="replace")[-300:],
    }
    if path.exists():
        check = counter.check_file(path, block_frames=8192)
        result.update(
            frames=check.frames,
            lost_frames=check.lost_frames + check.filled_frames,
            exact=check.exact,
        )
    sidecar = path.with_name(path.name + ".json")
    if sidecar.exists():
        result["sync"] = json.loads(sidecar.read_text()).get("sync")
    for leftover in (path, sidecar):
        leftover.unlink(missing_ok=True)
    return result


def user_system_ticks(pid: int) -> tuple[int, int]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


def profile(output: TextIO, workdir: Path) -> None:
    """Where each recorder's CPU goes at `PROFILED` (perf, by `CATEGORIES`)."""
    if shutil.which("perf") is None:
        print("bench.cpu: no perf (apt install linux-perf): no profile", flush=True)
        return
    config = PROFILED.config
    seconds = WARM_UP_SECONDS + WINDOW_SECONDS + 1.0
    with DummyServer("jackrec-bench", rate=config.rate, period=config.period) as server:
        source = SourceProcess(server.name, PROFILED.channels, "counter", name=GENERATOR).start()
        try:
            for recorder in RECORDERS:
                path, data = workdir / f"{recorder}.wav", workdir / f"{recorder}.perf"
                env = dict(os.environ, JACK_DEFAULT_SERVER=server.name, PYTHONPATH=str(ROOT))
                process = subprocess.Popen(
                    command(recorder, PROFILED, server.name, path, seconds, ()), env=env,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                try:
                    time.sleep(WARM_UP_SECONDS)
                    before = user_system_ticks(process.pid)
                    subprocess.run(
                        ["perf", "record", "-q", "-e", "cpu-clock", "-p", str(process.pid),
                         "-o", str(data), "--", "sleep", str(WINDOW_SECONDS)],
                        check=True, timeout=WINDOW_SECONDS + 30, capture_output=True,
                    )  # fmt: skip
                    after = user_system_ticks(process.pid)
                    process.wait(seconds + 60)
                finally:
                    if process.poll() is None:
                        process.kill()
                        process.wait()
                shares = categorize(data)
                user, system = after[0] - before[0], after[1] - before[1]
                append(output, {
                    "kind": "cpu_profile", "recorder": recorder, "channels": PROFILED.channels,
                    "rate": config.rate, "period": config.period, "bits": PROFILED.bits,
                    "shares": shares, "user_share": user / max(1, user + system),
                })  # fmt: skip
                for leftover in (path, path.with_name(path.name + ".json"), data):
                    leftover.unlink(missing_ok=True)
        finally:
            source.stop()


def categorize(data: Path) -> dict[str, float]:
    """perf's samples in `data`, as shares of `CATEGORIES`."""
    report = subprocess.run(
        ["perf", "report", "-i", str(data), "--stdio", "--no-children", "-q",
         "--sort", "dso,sym", "-g", "none"],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout  # fmt: skip
    shares: dict[str, float] = {name: 0.0 for name, _ in CATEGORIES}
    for line in report.splitlines():
        words = line.split()
        if len(words) < 4 or not words[0].endswith("%"):
            continue
        share, dso, symbol = float(words[0].rstrip("%")) / 100, words[1], words[3]
        name = next(name for name, matches in CATEGORIES if matches(dso, symbol))
        shares[name] += share
    return shares


#: Runs compared side by side: a label, and its recorder with jackrec's options.
Variants = dict[str, tuple[str, tuple[str, ...]]]


def run_case(
    case: Case,
    repetitions: int,
    output: TextIO,
    workdir: Path,
    variants: Variants | None = None,
    line: Callable[[dict[str, Any]], str] = report.cpu_progress_line,
    kind: str = "cpu",
) -> None:
    """`variants` (default: jackrec and jack_capture) measured in turn, on one
    server; each row is of `kind`, with its variant's label and the repetition."""
    variants = variants or {recorder: (recorder, ()) for recorder in RECORDERS}
    config = case.config
    with DummyServer("jackrec-bench", rate=config.rate, period=config.period) as server:
        source = SourceProcess(server.name, case.channels, "counter", name=GENERATOR).start()
        try:
            for repetition in range(repetitions):
                # alternate which goes first, so neither always follows the other
                order = list(variants) if repetition % 2 == 0 else list(variants)[::-1]
                for label in order:
                    recorder, options = variants[label]
                    result = measure(recorder, case, server.name, workdir, options)
                    result.update(kind=kind, variant=label, repetition=repetition)
                    append(output, result, line(result))
        finally:
            source.stop()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu")
    parser.add_argument("--quick", action="store_true", help="three cases, two runs each")
    parser.add_argument("--profile", action="store_true", help="only where the CPU goes")
    parser.add_argument("--report", action="store_true", help="only regenerate the report")
    args = parser.parse_args()
    if args.report:
        report.write_latest()
        return 0
    unwind_on_sigterm()
    cases, repetitions = (QUICK_CASES, 2) if args.quick else (FULL_CASES, 3)
    cases = [] if args.profile else cases
    kind = "cpuprofile" if args.profile else "cpu-quick" if args.quick else "cpu"
    # the takes go to the disk, as a user's do (not a tmpfs /tmp)
    with (
        results_file(kind, "cpu", f"bench.cpu: {len(cases)} cases x {repetitions}") as (output, _),
        tempfile.TemporaryDirectory(dir=ROOT / "build") as tmp,
    ):
        for case in cases:
            run_case(case, repetitions, output, Path(tmp))
        if not args.quick:
            profile(output, Path(tmp))
    report.write_latest()
    return 0


if __name__ == "__main__":
    sys.exit(main())
