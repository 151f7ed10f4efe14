"""``jackrec doctor``: can this machine record without dropping frames?"""

from __future__ import annotations

import os
import resource
import shutil
from dataclasses import dataclass

from jackrec.core.memory import memory_lock_works
from jackrec.errors import JackrecError
from jackrec.jackclient import open_client, server_label

#: The ring that ``jackrec record`` allocates by default: 10 s of 2 channels.
DEFAULT_RING_BYTES = 10 * 48000 * 2 * 4

LIMITS_ADVICE = (
    "add your user to the 'audio' group and grant it realtime limits, e.g. "
    "'@audio - rtprio 95' and '@audio - memlock unlimited' in "
    "/etc/security/limits.d/audio.conf, then log in again"
)


@dataclass(frozen=True)
class Finding:
    """One line of the diagnosis.

    `fatal` findings (no server) make ``jackrec doctor`` exit 1.
    """

    ok: bool
    text: str
    advice: str = ""
    fatal: bool = False


def check_server(server: str | None) -> Finding:
    try:
        client = open_client("jackrec-doctor", server)
    except JackrecError:
        return Finding(
            False,
            f"{server_label(server)}: not reachable",
            "start JACK (qjackctl, or 'jackd -d alsa'); 'make run' starts a private "
            "dummy server with a test signal instead",
            fatal=True,
        )
    try:
        rate, period, realtime = client.samplerate, client.blocksize, client.realtime
    finally:
        client.close()
    text = (
        f"{server_label(server)}: running, {rate} Hz, period {period} "
        f"({1000 * period / rate:.2f} ms), realtime {'yes' if realtime else 'no'}"
    )
    advice = "" if realtime else "restart jackd with -R (realtime) for reliable capture"
    return Finding(realtime, text, advice)


def check_realtime() -> Finding:
    soft, _ = resource.getrlimit(resource.RLIMIT_RTPRIO)
    if os.geteuid() == 0 or soft == resource.RLIM_INFINITY or soft > 0:
        limit = "root" if os.geteuid() == 0 else f"RLIMIT_RTPRIO {soft}"
        return Finding(True, f"realtime scheduling: allowed ({limit})")
    return Finding(False, "realtime scheduling: not allowed (RLIMIT_RTPRIO 0)", LIMITS_ADVICE)


def check_memory_lock() -> Finding:
    """Lock a default-sized ring for real; the limits alone can mislead."""
    soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    limit = "unlimited" if soft == resource.RLIM_INFINITY else f"{soft / 2**20:.0f} MiB"
    if memory_lock_works(DEFAULT_RING_BYTES):
        return Finding(True, f"memory locking: works (RLIMIT_MEMLOCK {limit})")
    return Finding(
        False,
        f"memory locking: refused (RLIMIT_MEMLOCK {limit}); rings may be paged out",
        LIMITS_ADVICE,
    )


def check_jackd() -> Finding:
    path = shutil.which("jackd")
    if path:
        return Finding(True, f"jackd: {path}")
    return Finding(False, "jackd: not installed", "install jackd2 ('make deps' does)")


def diagnose(server: str | None) -> list[Finding]:
    return [check_server(server), check_realtime(), check_memory_lock(), check_jackd()]


def report(findings: list[Finding]) -> str:
    lines = []
    for finding in findings:
        lines.append(f"[{'ok' if finding.ok else '!!'}] {finding.text}")
        if finding.advice:
            lines.append(f"     -> {finding.advice}")
    return "\n".join(lines)
