"""Shared fixtures: a private JACK server and a counter-signal client.

Everything started here is stopped by PID, every wait is bounded, and the
server has a name of its own, so a user's JACK is never touched.  Server
names are fixed per checkout (`SERVER_PREFIX`), never per run: JACK's
registry has eight slots, and a killed server's slot is given back only
when a server of the same name starts again (`jackrec.jackserver`).  The
session ends by checking that no server, client or slot of ours is left.

The session's server runs synchronously (``jackd --sync``).  On these shared
machines the scheduler now and then holds a realtime thread for
milliseconds; in JACK's default asynchronous mode the next cycle then
starts while a client still reads the last one, and that cycle arrives
torn, whatever the recorder.  In synchronous mode the cycle runs late
instead, so a recording's bit-exactness depends on jackrec alone.  The
tests that are about asynchronous behaviour start their own server.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest

from jackrec.jackserver import SHM, DummyServer, terminate
from jackrec.session import Session, SessionOptions
from jackrec.sidecar import read_sidecar, sidecar_path
from jackrec.source import SourceProcess
from tests.tmux import Tmux

# Never read the user's settings: every test sees an empty config directory.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="jackrec-test-config-")

RATE = 48000
PERIOD = 256
COUNTER_CHANNELS = 64
COUNTER_CLIENT = "counter"
CHECKOUT = Path(__file__).resolve().parent.parent
#: Every server the tests start is named with this: one per checkout, so
#: two checkouts can test side by side and each reuses its own slots.
SERVER_PREFIX = "jrt" + hashlib.sha1(str(CHECKOUT).encode()).hexdigest()[:6]


def server_name(role: str) -> str:
    """The fixed name of the test server that plays `role`."""
    return f"{SERVER_PREFIX}-{role}"


def jackrec_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "jackrec", *args]


def run_jackrec(args: Sequence[str], timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run the jackrec command line to completion (bounded)."""
    return subprocess.run(
        jackrec_command(*args), capture_output=True, text=True, timeout=timeout, check=False
    )


def stop_process(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """Terminate by PID, then kill; never wait unbounded."""
    terminate(process)


def let_it_record(take: Path, seconds: float, timeout: float = 30.0) -> None:
    """Wait until the take exists (its sidecar is created with it), then `seconds`.

    Start-up takes longer on a loaded machine; a fixed sleep from launch
    would make the take's length depend on it.
    """
    deadline = time.monotonic() + timeout
    while not sidecar_path(take).exists():
        assert time.monotonic() < deadline, f"{take} never began"
        time.sleep(0.02)
    time.sleep(seconds)


def finished(takes: Iterable[Path]) -> int:
    """How many of `takes` their sidecars call complete, for polling a recorder.

    A take's file is created a moment before its sidecar (`Take.create`), so a
    poll can find a take without one: it is not finished yet.
    """
    return sum(
        1 for take in takes if sidecar_path(take).exists() and read_sidecar(take)["complete"]
    )


def start_recording(
    generator: SourceProcess,
    take: Path,
    *options: str,
    channels: int = 2,
    prefix: Sequence[str] = (),
) -> subprocess.Popen[str]:
    """``jackrec record`` of the counter's first `channels` into `take`, run
    by `prefix` (prlimit, setpriv), its output on pipes (text)."""
    ports = [arg for port in generator.port_names[:channels] for arg in ("-p", port)]
    command = jackrec_command("record", "--server", generator.server, *options, *ports, str(take))
    return subprocess.Popen(
        [*prefix, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


#: The faces a recorder is reached by: `start_face` launches each.
FACES = ("record", "service", "console")


def start_face(
    face: str,
    source: SourceProcess,
    directory: Path,
    *,
    channels: int,
    file_format: str = "wav",
    bits: str | None = None,
    stderr: int = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """`face` recording the first `channels` of `source` into
    ``directory/take.<file_format>`` at once: ``jackrec record``, the
    service (its settings and control socket in `directory`) or the console
    (its terminal pipes: it reads the r that starts the take from stdin,
    which the caller closes once the console is gone)."""
    pattern = f"{source.name}:*"
    where = ["--server", source.server, "-p", pattern, "--channels", str(channels)]
    options = ["--format", file_format, *(["--bits", bits] if bits else [])]
    config = directory / "config.toml"
    if face == "record":
        command = jackrec_command(
            "record", "-q", *where, *options, str(directory / f"take.{file_format}")
        )
    elif face == "console":
        config.write_text('template = "take"\n')
        command = jackrec_command(
            "--config", str(config), "tui", *where, *options, "--dir", str(directory)
        )
        console = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr
        )
        assert console.stdin is not None
        console.stdin.write(b"r")
        console.stdin.flush()
        return console
    else:
        config.write_text(
            f'directory = "{directory}"\ntemplate = "take"\nformat = "{file_format}"\n'
            + (f'bits = "{bits}"\n' if bits else "")
            + f'ports = ["{pattern}"]\nchannels = {channels}\n'
            f'[service]\nserver = "{source.server}"\nname = "jackrec-{face}"\n'
            f'min_free = "1M"\nsocket = "{directory / "control.sock"}"\n'
        )
        command = jackrec_command("--config", str(config), "serve")
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)


def kill_recording(server: str, ports: Sequence[str], take: Path, seconds: float) -> float:
    """``jackrec record`` of `ports` into `take`, killed with SIGKILL after
    `seconds` of recording; the Unix time of the kill."""
    options = [arg for port in ports for arg in ("-p", port)]
    process = subprocess.Popen(
        jackrec_command("record", "--server", server, "-q", *options, str(take)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        let_it_record(take, seconds)
        killed_at = time.time()
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        stop_process(process)
    return killed_at


def open_session(
    generator: SourceProcess,
    name: str,
    *,
    buffer_seconds: float = 10.0,
    preroll_seconds: float = 0.0,
) -> Session:
    """A session recording the generator's first four channels."""
    return Session(
        SessionOptions(
            ports=tuple(generator.port_names[:4]),
            server=generator.server,
            client_name=name,
            buffer_seconds=buffer_seconds,
            preroll_seconds=preroll_seconds,
        )
    ).open()


def start_generator(server: str, channels: int, name: str) -> SourceProcess:
    """The counter client, in its own process."""
    return SourceProcess(server, channels, "counter", name=name).start()


def leftovers() -> list[str]:
    """Our names in JACK's registry and our files in /dev/shm."""
    found = sorted(path.name for path in SHM.glob(f"jack*{SERVER_PREFIX}*"))
    registry = SHM / "jack-shm-registry"
    if registry.exists() and SERVER_PREFIX.encode() in registry.read_bytes():
        found.append(f"a slot in {registry}")
    return found


@pytest.fixture(scope="session", autouse=True)
def jack_hygiene() -> Iterator[None]:
    """Fail the run if it leaves a registry slot or /dev/shm file behind."""
    yield
    assert leftovers() == [], "JACK leftovers after the tests"


@pytest.fixture(scope="session")
def jack_server() -> Iterator[DummyServer]:
    server = DummyServer(server_name("main"), rate=RATE, period=PERIOD, synchronous=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    """A tmux server of the test's own, killed at the end."""
    tmux = Tmux()
    yield tmux
    tmux.kill()


@pytest.fixture(scope="session")
def generator(jack_server: DummyServer) -> Iterator[SourceProcess]:
    generator = start_generator(jack_server.name, COUNTER_CHANNELS, COUNTER_CLIENT)
    yield generator
    generator.stop()
