"""``make soak``: 64 channels for a long time, in three faces, nothing lost.

The three faces record the counter client's 64 channels on one private
dummy server for ``--minutes`` (default 30), all at once (each also bears
the others' load; ``--one-by-one`` runs them in turn):

- ``record``: ``jackrec record --duration``, its JSON summary read at the end;
- ``service``: ``jackrec serve`` cutting a take every minute, its status
  asked over the control socket before SIGTERM ends it;
- ``console``: the console (`bench.tui_runner`) in a tmux pane, recording.

Sampled as it runs: the resident set size (``VmRSS``) every
`SAMPLE_SECONDS`, the first sample after `WARM_UP_SECONDS`; the CPU over the
whole run (scheduler run time of all threads, `bench.cpu.cores`), given as
CPU seconds per channel-hour.  At the end every take is checked against the
counter, joined in order (rotation's cuts must be sample-exact), and the
server's xruns are counted: frames lost by jackrec count only where the
idle server shows no xrun of its own environment.

usage: python -m bench.soak [--minutes M] [--faces record,service,console]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.cpu import run_time_ns
from bench.runfile import ROOT, append, results_file, unwind_on_sigterm
from jackrec import counter
from jackrec.jackserver import DummyServer, terminate
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests.tmux import Tmux

CHANNELS = 64
RATE, PERIOD = 48000, 256
SOURCE = "soak-counter"
WARM_UP_SECONDS = 10.0
SAMPLE_SECONDS = 10.0
FACES = ("record", "service", "console")


def rss_kib(pid: int) -> int | None:
    """The process's resident set size now (None: gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))


def watch(pid: int, seconds: float) -> dict[str, Any]:
    """RSS samples and CPU of `pid` over `seconds` (from now)."""
    began, cpu_began = time.monotonic(), run_time_ns(pid)
    samples: list[int] = []
    time.sleep(min(WARM_UP_SECONDS, seconds))
    while (elapsed := time.monotonic() - began) < seconds:
        if (rss := rss_kib(pid)) is not None:
            samples.append(rss)
        time.sleep(min(SAMPLE_SECONDS, max(0.0, seconds - elapsed)))
    if (rss := rss_kib(pid)) is not None:
        samples.append(rss)
    cores = (run_time_ns(pid) - cpu_began) / 1e9 / (time.monotonic() - began)
    return {
        "rss_start_kib": samples[0] if samples else None,
        "rss_end_kib": samples[-1] if samples else None,
        "rss_max_kib": max(samples, default=None),
        "cores": cores,
        "cpu_seconds_per_channel_hour": cores * 3600 / CHANNELS,
    }


def check_takes(takes: list[Path]) -> dict[str, Any]:
    """The takes joined in order against the counter, and their sidecars' losses."""
    report = counter.check_files(takes)
    lost = xruns = 0
    for take in takes:
        sidecar = read_sidecar(take)
        lost += sidecar["frames_lost"]
        xruns += len(sidecar["xruns"])
    return {
        "channels": CHANNELS,
        "takes": len(takes),
        "frames": report.frames,
        "gapless": report.gapless,
        "timeline_kept": report.timeline_kept,  # gaps filled with silence of their length
        "exact": report.exact,
        "counter_lost_frames": report.lost_frames + report.filled_frames,
        # what makes a take not gapless, if one is not
        "discontinuities": report.discontinuities[:10],
        "torn": report.torn[:10],
        "silence_runs": report.silence_runs[:10],
        "frames_lost": lost,
        "xruns_in_takes": xruns,
    }


def soak_record(server: str, workdir: Path, seconds: float) -> dict[str, Any]:
    take = workdir / "record.wav"
    process = subprocess.Popen(
        [sys.executable, "-m", "jackrec.cli", "record", "--server", server,
         "--name", "jackrec-soak-record", "--json",
         "-p", f"{SOURCE}:*", "--duration", f"{seconds:g}", str(take)],
        stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    try:
        row = watch(process.pid, seconds - 1.0)
        stdout, _ = process.communicate(timeout=120)
    finally:
        terminate(process)
    summary = json.loads(stdout)
    row.update({key: summary[key] for key in ("callback_us_max", "callback_us_p999",
                                              "ring_high_water", "xruns")})  # fmt: skip
    return {**row, **check_takes([take])}


def soak_service(server: str, workdir: Path, seconds: float) -> dict[str, Any]:
    takes = workdir / "service"
    config = workdir / "service.toml"
    config.write_text(
        f'directory = "{takes}"\ntemplate = "take{{n:04}}"\nports = ["{SOURCE}:*"]\n'
        f'rotate = "1m"\n[service]\nserver = "{server}"\nname = "jackrec-soak-service"\n'
        f'min_free = "1G"\nsocket = "{workdir / "control.sock"}"\n'
    )
    jackrec = [sys.executable, "-m", "jackrec.cli"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen([*jackrec, "--config", str(config), "serve"], env=env)
    try:
        row = watch(process.pid, seconds)
        status = json.loads(
            subprocess.run(
                [*jackrec, "ctl", "--socket", str(workdir / "control.sock"), "--json", "status"],
                capture_output=True, text=True, timeout=30, check=True, env=env,
            ).stdout
        )  # fmt: skip
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    finally:
        terminate(process)
    row.update(callback_us_max=status["callback_us_max"], xruns=status["xruns"],
               ring_high_water=status["ring_high_water"])  # fmt: skip
    return {**row, **check_takes(sorted(takes.glob("take*.wav")))}


def soak_console(server: str, workdir: Path, seconds: float) -> dict[str, Any]:
    takes, info_file = workdir / "console", workdir / "tui.json"
    tmux = Tmux(120, 40)
    command = [
        sys.executable, "-m", "bench.tui_runner", "--server", server, "--port", f"{SOURCE}:*",
        "--dir", str(takes), "--info-file", str(info_file),
    ]  # fmt: skip
    try:
        tmux.start(command, workdir / "tui.exit", PYTHONPATH=str(ROOT))
        tmux.wait_for("STOPPED", timeout=30)
        deadline = time.monotonic() + 30
        while not info_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        pid = json.loads(info_file.read_text())["pid"]
        tmux.press("r")
        tmux.wait_for("● REC")
        row = watch(pid, seconds)
        tmux.press("r")
        tmux.wait_for("ended by stop request", timeout=60)
        tmux.press("q")
    finally:
        tmux.kill()
    return {**row, **check_takes(sorted(takes.glob("take*.wav")))}


SOAKS: dict[str, Callable[[str, Path, float], dict[str, Any]]] = {
    "record": soak_record, "service": soak_service, "console": soak_console,
}  # fmt: skip


def soak(face: str, server: str, seconds: float) -> dict[str, Any]:
    # takes go to the disk, as a user's do (not a tmpfs /tmp)
    with tempfile.TemporaryDirectory(dir=ROOT / "build") as tmp:
        measured = SOAKS[face](server, Path(tmp), seconds)
    return {"kind": "soak", "face": face, "seconds": seconds, **measured}


def progress_line(row: dict[str, Any]) -> str:
    return (
        f"{row['face']:8} {row['seconds'] / 60:.0f} min: lost {row['frames_lost']} "
        f"(counter {row['counter_lost_frames']}, gapless {row['gapless']}), "
        f"RSS {row['rss_start_kib']} -> {row['rss_end_kib']} KiB, "
        f"{row['cpu_seconds_per_channel_hour']:.1f} CPU s per channel-hour, "
        f"ring high-water {row.get('ring_high_water')}, xruns {row.get('xruns')}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--faces", default=",".join(FACES), help="of: " + ", ".join(FACES))
    parser.add_argument("--one-by-one", action="store_true", help="each face alone, in turn")
    args = parser.parse_args()
    faces = args.faces.split(",")
    if not set(faces) <= set(FACES):
        parser.error(f"--faces: choose from {', '.join(FACES)}")
    unwind_on_sigterm()
    seconds = args.minutes * 60
    with (
        results_file("soak", "soak", f"bench.soak: {args.faces}, {args.minutes:g} min") as (out, _),
        DummyServer("jackrec-soak", rate=RATE, period=PERIOD, synchronous=True) as server,
    ):
        source = SourceProcess(server.name, CHANNELS, "counter", name=SOURCE).start()
        try:
            workers = 1 if args.one_by_one else len(faces)
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                runs = [pool.submit(soak, face, server.name, seconds) for face in faces]
                for run in runs:
                    row = {**run.result(), "together": len(faces) if workers > 1 else 1}
                    append(out, row, progress_line(row))
        finally:
            source.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
