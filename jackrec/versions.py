"""What ``jackrec --version`` says: jackrec's version and those of what it runs on.

A bug report needs all of them: the libjack and libsndfile jackrec loaded,
and the JACK server installed (``jackd``, or PipeWire, whose JACK replaces
libjack).  Nothing here connects to a server: a running server's version
is not something JACK's API tells, and ``--version`` must answer at once.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import jack
import soundfile

from jackrec import __version__

#: The servers whose ``--version`` is asked, in this order.
SERVERS = ("jackd", "pipewire")


def server_version(program: str) -> str | None:
    """``program``'s version as it prints it, or None when it is not installed."""
    path = shutil.which(program)
    if path is None:
        return None
    try:
        result = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "version unknown"
    # jackd: "jackdmp version 1.9.21 tmpdir /dev/shm protocol 9";
    # pipewire: "pipewire\nCompiled with libpipewire 0.3.65\n..."
    found = re.search(r"(\d+\.\d+(?:\.\d+)*)", result.stdout)
    return found.group(1) if found else "version unknown"


def version_lines() -> list[str]:
    """One line each: jackrec, libjack, libsndfile, and each JACK server installed."""
    lines = [
        f"jackrec {__version__}",
        f"libjack {jack.version_string()} (JACK-Client {jack.__version__})",
        f"libsndfile {soundfile.__libsndfile_version__}",
    ]
    servers = [(name, server_version(name)) for name in SERVERS]
    lines += [f"{name} {version}" for name, version in servers if version is not None]
    if all(version is None for _, version in servers):
        lines.append("no JACK server installed (jackd or pipewire)")
    return lines
