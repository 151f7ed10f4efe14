"""The recorders under test, as command lines, and how to measure one run.

Each recorder records the counter client's ports into a float WAV for the
same time.  A run is measured from outside: CPU time and peak RSS of the
recorder process (``wait4``), JACK's DSP load sampled by a client that is
never activated (so it is not part of the graph), the xruns the server log
blames on each client, and the recording itself, checked by
`jackrec.counter.check_file`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.profiles import ServerConfig
from jackrec import counter
from jackrec.jackclient import open_client
from jackrec.jackserver import DummyServer

GENERATOR = "counter"
SOURCES = f"{GENERATOR}:*"
RECORDERS = ("jackrec", "jack_capture", "python")
CLIENT_NAMES = {"jackrec": "jackrec", "jack_capture": "jack_capture", "python": "python-recipe"}

CLIENT_XRUN = re.compile(r"JackEngine::XRun: client = (\S+) was not finished")
DRIVER_XRUN = "JackTimedDriver::Process XRun"


@dataclass(frozen=True)
class Run:
    """One recording to measure."""

    recorder: str  # one of RECORDERS, or "idle"
    config: ServerConfig
    channels: int
    seconds: float
    busy: bool
    repetition: int


def command(run: Run, server: str, path: Path) -> list[str]:
    """The recorder's command line (``busy`` adds a spinning Python thread)."""
    seconds = f"{run.seconds:g}"
    python = [sys.executable, "-m", *(["bench.busy"] if run.busy else [])]
    if run.recorder == "jackrec":
        return [
            *python,
            "jackrec.cli",
            "record",
            "--server",
            server,
            "-p",
            SOURCES,
            "--format",
            "wav",
            "--duration",
            seconds,
            "--json",
            str(path),
        ]
    if run.recorder == "jack_capture":
        return [
            "jack_capture",
            "--daemon",
            "--channels",
            str(run.channels),
            "--port",
            SOURCES,
            "--bitdepth",
            "FLOAT",
            "--format",
            "wav",
            "--recording-time",
            seconds,
            "--filename",
            str(path),
        ]
    return [
        *python,
        "bench.python_recipe",
        "--server",
        server,
        "--port",
        SOURCES,
        "--channels",
        str(run.channels),
        "--seconds",
        seconds,
        str(path),
    ]


class LoadMonitor:
    """Samples JACK's DSP load four times a second from an inactive client."""

    def __init__(self, server: str) -> None:
        self._client = open_client("bench-monitor", server)
        self._stop = threading.Event()
        self.samples: list[float] = []
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            self.samples.append(float(self._client.cpu_load()))

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join(5)
        self._client.close()
        if not self.samples:
            return {"dsp_load_mean": 0.0, "dsp_load_max": 0.0}
        return {
            "dsp_load_mean": statistics.fmean(self.samples),
            "dsp_load_max": max(self.samples),
        }


def server_xruns(log: str) -> dict[str, Any]:
    """xruns in a slice of jackd's log: the driver's own, and per late client."""
    clients = Counter(match.group(1) for match in CLIENT_XRUN.finditer(log))
    return {"driver_late": log.count(DRIVER_XRUN), "late_clients": dict(clients)}


#: CPU time is also measured over the steady part of a run: from this long
#: after the spawn (imports, ring allocation, connections) to the last
#: sample before exit, so a start-up cost paid once per take does not
#: pass for a cost per channel-hour.
WARM_UP_SECONDS = 1.5


@dataclass
class ProcessWatch:
    """What the polling loop saw of a running process."""

    peak_rss_mb: float | None = None
    first: tuple[float, float] | None = None  # (monotonic time, CPU seconds)
    last: tuple[float, float] | None = None

    def sample(self, pid: int, since_spawn: float) -> None:
        """Read VmHWM (the process's own peak; ``ru_maxrss`` would count the
        parent's memory at the time of the spawn too) and CPU time."""
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                self.peak_rss_mb = int(line.split()[1]) / 1024
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        if since_spawn >= WARM_UP_SECONDS:
            now = (time.monotonic(), cpu)
            self.first = self.first or now
            self.last = now

    @property
    def steady_cpu_per_second(self) -> float | None:
        if self.first is None or self.last is None or self.last[0] - self.first[0] < 0.5:
            return None
        return (self.last[1] - self.first[1]) / (self.last[0] - self.first[0])


def wait_for_exit(pid: int, timeout: float) -> tuple[int, Any, ProcessWatch]:
    """Reap `pid` within `timeout`, killing it after that.

    Returns the exit status (negative for a signal), the rusage, and what
    was seen of the process while it ran.
    """
    spawned = time.monotonic()
    watch = ProcessWatch()
    while True:
        watch.sample(pid, time.monotonic() - spawned)
        reaped, status, usage = os.wait4(pid, os.WNOHANG)
        if reaped == pid:
            return os.waitstatus_to_exitcode(status), usage, watch
        if time.monotonic() - spawned > timeout:
            os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            return os.waitstatus_to_exitcode(status), usage, watch
        time.sleep(0.05)


def measure(run: Run, server: DummyServer, workdir: Path) -> dict[str, Any]:
    """Record (or idle) once and return every figure of the run."""
    assert server.log_path is not None
    started = time.monotonic()
    log_start = server.log_path.stat().st_size
    monitor = LoadMonitor(server.name)
    result: dict[str, Any] = {
        "kind": "run",
        "recorder": run.recorder,
        "rate": run.config.rate,
        "period": run.config.period,
        "channels": run.channels,
        "seconds": run.seconds,
        "busy": run.busy,
        "repetition": run.repetition,
        "frames_expected": round(run.seconds * run.config.rate),
    }
    if run.recorder == "idle":
        time.sleep(run.seconds)
    else:
        result.update(_record(run, server.name, workdir))
    result.update(monitor.stop())
    time.sleep(0.5)  # jackd prints through a message thread
    with open(server.log_path, "rb") as log:
        log.seek(log_start)
        result.update(server_xruns(log.read().decode(errors="replace")))
    result["wall_seconds"] = time.monotonic() - started
    return result


def _record(run: Run, server: str, workdir: Path) -> dict[str, Any]:
    path = workdir / f"{run.recorder}.wav"
    out, err = workdir / "stdout", workdir / "stderr"
    env = dict(os.environ, JACK_DEFAULT_SERVER=server, PYTHONPATH=str(Path.cwd()))
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        pid = os.posix_spawnp(
            command(run, server, path)[0],
            command(run, server, path),
            env,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, stdout.fileno(), 1),
                (os.POSIX_SPAWN_DUP2, stderr.fileno(), 2),
            ],
        )
        exit_code, usage, watch = wait_for_exit(pid, run.seconds + 30)
    cpu = usage.ru_utime + usage.ru_stime
    steady = watch.steady_cpu_per_second
    result: dict[str, Any] = {
        "exit_code": exit_code,
        "cpu_seconds": cpu,
        "cpu_s_per_channel_hour": None if steady is None else steady * 3600 / run.channels,
        "peak_rss_mb": watch.peak_rss_mb,
        "stderr": err.read_text(errors="replace")[-500:],
    }
    if run.recorder == "jackrec" and exit_code == 0:
        summary = json.loads(out.read_text())
        result["callback_us_max"] = summary["callback_us_max"]
        result["callback_us_p999"] = summary["callback_us_p999"]
        result["recorder_frames_lost"] = summary["frames_lost"]
    if path.exists():
        result.update(_check(path))
        path.unlink()
    return result


def _check(path: Path) -> dict[str, Any]:
    try:
        report = counter.check_file(path, block_frames=8192)
    except RuntimeError as error:  # unreadable file
        return {"check_error": str(error)}
    return {
        "frames_in_file": report.frames,
        "lost_frames": report.lost_frames + report.filled_frames,
        "repeated_frames": report.repeated_frames,
        "torn_stretches": len(report.torn),
        "misordered_frames": report.misordered_frames,
        "exact": report.exact,
    }
