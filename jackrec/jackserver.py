"""A private ``jackd -d dummy`` server, for the demo, the tests and benchmarks.

The server gets its own name (``jackd -n``), so it never disturbs a user's
running JACK, and is stopped by PID.  Its output goes to a log file that is
quoted when it fails to come up.

JACK keeps its servers in a shared-memory registry of eight slots
(``/dev/shm/jack-shm-registry``).  A server that exits cleanly gives its
slot back; one that is killed keeps it (and its ``/dev/shm/jack*`` files)
until a server of the same name starts again.  So a server stopped here by
SIGKILL, or still in the registry once stopped, is started once more under its name and stopped
cleanly, and callers should reuse fixed names rather than invent new ones.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from jackrec.errors import JackrecError
from jackrec.jackclient import server_reachable

#: What jackd prints (before its banner) when the registry has no free slot.
REGISTRY_FULL = "Too many servers already active"
REGISTRY_SLOTS = 8
SHM = Path("/dev/shm")


def terminate(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """Stop a child by PID: SIGTERM, then SIGKILL if it lingers; bounded."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


class DummyServer:
    """A JACK server on the dummy driver (no sound card, real timing).

    Parameters
    ----------
    name
        Server name; clients select it with ``servername`` or the
        ``JACK_DEFAULT_SERVER`` environment variable.
    rate, period
        Sample rate and frames per cycle.
    capture_ports, playback_ports
        Physical ports of the dummy driver (they carry silence).
    realtime
        Ask for SCHED_FIFO; jackd falls back when the system refuses.
    synchronous
        Run the graph synchronously (``jackd --sync``): the server waits for
        every client before the next cycle, so a client delayed by the
        machine runs late instead of reading a buffer already refilled.
    """

    def __init__(
        self,
        name: str,
        *,
        rate: int = 48000,
        period: int = 256,
        capture_ports: int = 2,
        playback_ports: int = 2,
        realtime: bool = True,
        synchronous: bool = False,
        max_ports: int = 4096,
    ) -> None:
        self.name = name
        self.rate = rate
        self.period = period
        self.command = [
            "jackd",
            "--realtime" if realtime else "--no-realtime",
            *(["--sync"] if synchronous else []),
            "--name",
            name,
            "--port-max",
            str(max_ports),
            "-d",
            "dummy",
            "-r",
            str(rate),
            "-p",
            str(period),
            "-C",
            str(capture_ports),
            "-P",
            str(playback_ports),
        ]
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None

    def start(self, timeout: float = 15.0) -> DummyServer:
        """Start jackd and wait until it accepts clients."""
        if shutil.which("jackd") is None:
            raise JackrecError("jackd not found: install jackd2 ('make deps' does)")
        if server_reachable(self.name):
            raise JackrecError(f"a JACK server named '{self.name}' is already running")
        fd, log_name = tempfile.mkstemp(prefix=f"jackd-{self.name}-", suffix=".log")
        self.log_path = Path(log_name)
        with os.fdopen(fd, "wb") as log_file:
            self.process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in a terminal is ours to handle
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if server_reachable(self.name):
                return self
            time.sleep(0.1)
        reason = self.failure()
        self.stop()
        raise JackrecError(f"jackd did not start: {reason}")

    def failure(self) -> str:
        """Why jackd did not come up, from its log, with what to do."""
        text = self.log_path.read_text(errors="replace") if self.log_path else ""
        if REGISTRY_FULL in text:
            return (
                f"'{REGISTRY_FULL}': JACK's registry holds {REGISTRY_SLOTS} servers; "
                "stop the ones you do not need ('pgrep -a jackd'), and if none is "
                "running, remove the stale registry: 'rm /dev/shm/jack*'"
            )
        lines = [line for line in text.splitlines() if line.strip()]
        return " | ".join(lines[-3:]) or "it printed nothing"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server by PID (SIGTERM, then SIGKILL), remove its log.

        A server that did not exit cleanly left its registry slot taken: it
        is started again under the same name and stopped, which frees it.
        """
        process, self.process = self.process, None
        if process is not None:
            terminate(process, timeout)
            if process.returncode == -signal.SIGKILL or self._registered():
                self._reclaim(timeout)
            self._remove_leftovers()
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path = None

    def _registered(self) -> bool:
        """Whether the registry still holds this server (one that hung does, even
        when SIGTERM ends it)."""
        registry = SHM / "jack-shm-registry"
        entry = f"jack-{os.getuid()}:{self.name}:".encode()
        return registry.exists() and entry in registry.read_bytes()

    def _reclaim(self, timeout: float) -> None:
        """Free the registry slot and shared memory a killed server left."""
        process = subprocess.Popen(
            self.command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while process.poll() is None and not server_reachable(self.name):
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        terminate(process, timeout)

    def _remove_leftovers(self) -> None:
        """Remove the shared-memory files of clients that outlived the server.

        A client still connected when its server goes away cannot unregister,
        and its ``/dev/shm/jack_sem.*`` file stays.  The server is stopped
        and the name is ours, so whatever is left under it is garbage.
        """
        if "_" in self.name:  # the glob could match another server's files
            return
        for pattern in (f"jack_sem.{os.getuid()}_{self.name}_*", f"jack_{self.name}_*"):
            for path in SHM.glob(pattern):
                path.unlink(missing_ok=True)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def __enter__(self) -> DummyServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
