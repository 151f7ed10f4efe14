"""A description of the machine the benchmark ran on."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from jackrec.doctor import check_memory_lock, check_realtime


def describe() -> dict[str, Any]:
    return {
        "kind": "machine",
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "clocksource": _read("/sys/devices/system/clocksource/clocksource0/current_clocksource"),
        "realtime_scheduling": check_realtime().ok,
        "memory_locking": check_memory_lock().ok,
        "jack_capture": "jack_capture " + _version(["jack_capture", "--version"]),
    }


def _cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return "unknown"


def _version(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "not installed"
    return (result.stdout or result.stderr).strip().splitlines()[0] if result else "unknown"
