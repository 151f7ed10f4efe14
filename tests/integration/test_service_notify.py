"""``jackrec serve`` tells its supervisor how it is: sd_notify to a socket the test binds.

The service runs as systemd would run it (``NOTIFY_SOCKET``,
``WATCHDOG_USEC``), on the test's dummy JACK server with the counter client.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jackrec.counter import check_file
from jackrec.source import SourceProcess
from tests.conftest import jackrec_command, server_name, stop_process

#: The watchdog interval the test gives: pings must come well within it.
WATCHDOG_SECONDS = 2.0


class NotifySocket:
    """The supervisor's end: every datagram the service sends, in order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(str(path))
        self.messages: list[tuple[float, str]] = []

    def listen(self, seconds: float) -> None:
        """Read for `seconds`, noting when each message arrives (a full queue drops them)."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self.socket.settimeout(remaining)
            try:
                data = self.socket.recv(4096)
            except TimeoutError:
                return
            self.messages.append((time.monotonic(), data.decode()))

    def wait_for(self, assignment: str, timeout: float) -> float:
        """When the first message holding `assignment` arrived (reading until it has)."""
        deadline = time.monotonic() + timeout
        while True:
            for arrived, message in self.messages:
                if assignment in message.split("\n"):
                    return arrived
            assert time.monotonic() < deadline, f"no {assignment} in {self.messages}"
            self.listen(0.1)

    def received(self, prefix: str) -> list[float]:
        return [arrived for arrived, message in self.messages if message.startswith(prefix)]


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    listener = NotifySocket(tmp_path / "notify")
    yield listener
    listener.socket.close()


def write_settings(path: Path, server: str, ports: str) -> None:
    path.write_text(
        f'directory = "{path.parent}"\nports = ["{ports}"]\nchannels = 4\n'
        f'[service]\nserver = "{server}"\nname = "jackrec-notify"\nstart = "now"\n'
        f'socket = "{path.parent / "control.sock"}"\n'
    )


@contextlib.contextmanager
def serving(settings: Path, notify: NotifySocket) -> Iterator[subprocess.Popen[bytes]]:
    """``jackrec serve`` as systemd runs it, stopped by PID at the end."""
    environment = {
        **os.environ,
        "NOTIFY_SOCKET": str(notify.path),
        "WATCHDOG_USEC": str(int(WATCHDOG_SECONDS * 1e6)),
    }
    with (settings.parent / "serve.log").open("w") as log:
        service = subprocess.Popen(
            jackrec_command("--config", str(settings), "serve"),
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        yield service
    finally:
        stop_process(service)


def test_ready_status_watchdog_stopping(
    generator: SourceProcess, notify: NotifySocket, tmp_path: Path
) -> None:
    settings = tmp_path / "service.toml"
    write_settings(settings, generator.server, f"{generator.name}:out_*")
    with serving(settings, notify) as service:
        notify.wait_for("READY=1", timeout=30)
        notify.wait_for("WATCHDOG=1", timeout=WATCHDOG_SECONDS)
        notify.listen(3 * WATCHDOG_SECONDS)  # a status every few seconds, pings all along
        assert not notify.received("STOPPING=1")
        service.send_signal(signal.SIGTERM)
        stopping = notify.wait_for("STOPPING=1", timeout=5)
        assert service.wait(timeout=10) == 0, (tmp_path / "serve.log").read_text()
    pings = [arrived for arrived in notify.received("WATCHDOG=1") if arrived < stopping]
    assert max(b - a for a, b in itertools.pairwise(pings)) < WATCHDOG_SECONDS / 2
    takes = sorted(tmp_path.glob("*.wav"))
    assert len(takes) == 1
    report = check_file(takes[0])
    assert report.exact and report.frames > 0
    statuses = [message for _, message in notify.messages if message.startswith("STATUS=")]
    assert any(takes[0].name in status for status in statuses), statuses


def test_every_reload_ends_in_ready(
    generator: SourceProcess, notify: NotifySocket, tmp_path: Path
) -> None:
    """`systemctl reload` waits for READY=1 after RELOADING=1, and so does the unit's
    state: a reload the service refuses (a broken file) must end in READY=1 too."""
    settings = tmp_path / "service.toml"
    write_settings(settings, generator.server, f"{generator.name}:out_*")
    with serving(settings, notify) as service:
        notify.wait_for("READY=1", timeout=30)
        for content in ("channels = 'many'\n", settings.read_text()):  # refused, then taken
            settings.write_text(content)
            notify.messages.clear()
            service.send_signal(signal.SIGHUP)
            reloading = notify.wait_for("RELOADING=1", timeout=5)
            assert notify.wait_for("READY=1", timeout=5) >= reloading


def test_no_reload_is_told_before_ready(notify: NotifySocket, tmp_path: Path) -> None:
    """Waiting for its JACK server the unit is still starting: a reload must not
    make it READY, nor tell systemd of a reload it is not in."""
    settings = tmp_path / "service.toml"
    write_settings(settings, server_name("never-started"), "counter:out_*")
    with serving(settings, notify) as service:
        notify.wait_for("WATCHDOG=1", timeout=30)  # the loop runs
        service.send_signal(signal.SIGHUP)
        notify.listen(2.0)
    assert not notify.received("READY=1") and not notify.received("RELOADING=1")
