"""The sd_notify client against a real datagram socket the test binds."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jackrec.sdnotify import MAX_MESSAGE_BYTES, Notifier


class Listener:
    """A datagram socket standing in for systemd's notification socket."""

    def __init__(self, address: str) -> None:
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(address)
        self.socket.settimeout(5.0)

    def receive(self) -> str:
        return self.socket.recv(2 * MAX_MESSAGE_BYTES).decode()


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    listener = Listener(str(tmp_path / "notify"))
    yield listener
    listener.socket.close()


@pytest.fixture
def notifier(listener: Listener) -> Iterator[Notifier]:
    notifier = Notifier({"NOTIFY_SOCKET": listener.socket.getsockname()})
    yield notifier
    notifier.close()


def test_each_message(listener: Listener, notifier: Notifier) -> None:
    assert notifier.enabled
    notifier.ready()
    assert listener.receive() == "READY=1"
    notifier.status("take001.wav 0:42")
    assert listener.receive() == "STATUS=take001.wav 0:42"
    notifier.watchdog()
    assert listener.receive() == "WATCHDOG=1"
    notifier.stopping()
    assert listener.receive() == "STOPPING=1"


def test_reloading_carries_the_monotonic_clock(listener: Listener, notifier: Notifier) -> None:
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    notifier.reloading()
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    reloading, stamp = listener.receive().split("\n")
    assert reloading == "RELOADING=1"
    name, usec = stamp.split("=")
    assert name == "MONOTONIC_USEC" and before <= int(usec) <= after


def test_abstract_namespace() -> None:
    name = f"jackrec-test-notify-{os.getpid()}"
    listener = Listener("\0" + name)
    notifier = Notifier({"NOTIFY_SOCKET": "@" + name})
    try:
        notifier.ready()
        assert listener.receive() == "READY=1"
    finally:
        notifier.close()
        listener.socket.close()


def test_a_status_is_one_assignment_and_one_datagram(
    listener: Listener, notifier: Notifier
) -> None:
    """A newline in the text cannot smuggle in another assignment."""
    notifier.status("take 1\nREADY=1\r\nMAINPID=1")
    assert listener.receive() == "STATUS=take 1 READY=1 MAINPID=1"
    notifier.status("é" * MAX_MESSAGE_BYTES)
    sent = listener.receive().encode()
    assert len(sent) <= MAX_MESSAGE_BYTES and sent.decode().startswith("STATUS=éé")


def tell_everything(notifier: Notifier) -> None:
    notifier.ready()
    notifier.status("x")
    notifier.watchdog()
    notifier.reloading()
    notifier.stopping()


def test_without_a_service_manager_nothing_happens() -> None:
    for environ in (
        {},
        {"NOTIFY_SOCKET": ""},
        {"NOTIFY_SOCKET": "relative/path"},
        {"NOTIFY_SOCKET": "@"},
    ):
        notifier = Notifier(environ)
        assert not notifier.enabled
        tell_everything(notifier)


def test_a_failed_notification_is_dropped(tmp_path: Path) -> None:
    gone = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    assert gone.enabled
    tell_everything(gone)
    tell_everything(Notifier({"NOTIFY_SOCKET": "/" + "x" * 200}))  # beyond sun_path
    gone.close()
    assert not gone.enabled
    tell_everything(gone)


def test_a_full_queue_never_blocks(listener: Listener, notifier: Notifier) -> None:
    """Nobody reads: once the queue is full, sends are dropped at once."""
    started = time.monotonic()
    for _ in range(2000):
        notifier.status("x" * 1000)
    assert time.monotonic() - started < 5.0
    listener.socket.setblocking(False)
    queued = 0
    with contextlib.suppress(BlockingIOError):
        while listener.socket.recv(2 * MAX_MESSAGE_BYTES):
            queued += 1
    assert 0 < queued < 2000


@pytest.mark.parametrize(
    ("environ", "interval"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "10000000"}, 10.0),
        ({"WATCHDOG_USEC": "2500000", "WATCHDOG_PID": str(os.getpid())}, 2.5),
        ({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),
        ({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "self"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "-5"}, None),
        ({"WATCHDOG_USEC": "1e6"}, None),
        ({"WATCHDOG_USEC": "\N{SUPERSCRIPT TWO}"}, None),
    ],
)
def test_watchdog_interval(environ: dict[str, str], interval: float | None) -> None:
    assert Notifier(environ).watchdog_interval() == interval


def test_reads_the_environment_once(listener: Listener, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", listener.socket.getsockname())
    monkeypatch.setenv("WATCHDOG_USEC", "4000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    notifier = Notifier()
    monkeypatch.delenv("NOTIFY_SOCKET")
    monkeypatch.delenv("WATCHDOG_USEC")
    try:
        assert notifier.watchdog_interval() == 4.0
        notifier.watchdog()
        assert listener.receive() == "WATCHDOG=1"
    finally:
        notifier.close()
