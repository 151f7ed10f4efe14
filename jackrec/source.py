"""The built-in test-signal source: a JACK client with a C process callback.

``counter`` writes the exact, per-channel-distinct counter that tests and
benchmarks check recordings against (`jackrec.counter`); ``sine`` writes
tones that swell, for the demo; ``sawtooth`` sweeps every channel's level
through the whole scale a few times a second, so every meter moves every
frame (what the console's benchmark draws).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from types import TracebackType

import jack

from jackrec.core.signal import SignalGenerator, SignalKind
from jackrec.errors import JackrecError
from jackrec.jackclient import open_client
from jackrec.jackserver import terminate


class SignalSource:
    """A JACK client named `name` whose ports ``out_1..out_N`` carry a signal.

    Parameters
    ----------
    channels
        Number of output ports.
    kind
        ``"counter"``, ``"sine"`` or ``"sawtooth"``.
    name, server
        JACK client and server names.
    latencies
        The capture latency (frames) each port declares, in order; the
        ports beyond them declare 0.
    """

    def __init__(
        self,
        channels: int,
        kind: SignalKind = "counter",
        *,
        name: str = "jackrec-source",
        server: str | None = None,
        latencies: Sequence[int] = (),
    ) -> None:
        self.client = open_client(name, server)
        self.server_gone: str | None = None  # JACK's reason, once it has shut down
        self.shutdown = threading.Event()
        try:
            self.generator = SignalGenerator(channels, kind, self.client.samplerate)
            for channel, frames in enumerate(latencies[:channels]):
                self.generator.set_latency(channel, frames)
        except BaseException:
            self.client.close()
            raise
        try:
            self.ports = [self.client.outports.register(f"out_{i + 1}") for i in range(channels)]
            self.generator.install(self.client, self.ports)
            self.client.set_shutdown_callback(self._on_shutdown)
            self.client.activate()
        except jack.JackError as error:
            self.close()
            raise JackrecError(f"JACK refused the signal source: {error}") from None
        except BaseException:
            self.close()
            raise

    @property
    def port_names(self) -> list[str]:
        return [port.name for port in self.ports]

    @property
    def frames(self) -> int:
        """Frames generated so far."""
        return self.generator.frames

    def _on_shutdown(self, status: jack.Status, reason: str) -> None:
        self.server_gone = reason or "no reason given"
        self.shutdown.set()

    def close(self) -> None:
        """Deactivate and close the client, then free the C state."""
        if self.server_gone is None:  # a server gone has no client to deactivate
            self.client.deactivate()
        self.client.close()
        self.generator.close()

    def __enter__(self) -> SignalSource:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class SourceProcess:
    """``jackrec demo-source`` in a process of its own: a separate JACK client.

    Tests and benchmarks use it as the signal to record, so the source's
    scheduling is independent of the recorder under test.  `jackrec` is the
    command that runs jackrec: by default this interpreter's package; the
    test of the installed wheel passes that venv's ``jackrec``.
    """

    def __init__(
        self,
        server: str,
        channels: int,
        kind: SignalKind = "counter",
        *,
        name: str,
        latencies: Sequence[int] = (),
        jackrec: Sequence[str] = (sys.executable, "-m", "jackrec"),
    ) -> None:
        self.server = server
        self.channels = channels
        self.name = name
        self.command = [
            *jackrec, "demo-source", "--signal", kind,
            "--channels", str(channels), "--name", name, "--server", server,
        ]  # fmt: skip
        if latencies:
            self.command += ["--latency", ",".join(map(str, latencies))]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def port_names(self) -> list[str]:
        return [f"{self.name}:out_{i + 1}" for i in range(self.channels)]

    def start(self, timeout: float = 15.0) -> SourceProcess:
        """Start the process and wait until its ports exist."""
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        probe = open_client("source-probe", self.server)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.process.poll() is None:
                present = {port.name for port in probe.get_ports(f"{self.name}:")}
                if present.issuperset(self.port_names):
                    return self
                time.sleep(0.05)
        finally:
            probe.close()
        self.stop()
        raise JackrecError(f"the signal source '{self.name}' did not come up")

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate by PID, then kill; bounded."""
        process, self.process = self.process, None
        if process is not None:
            terminate(process, timeout)
