"""The sd_notify client against a real datagram socket the test binds."""

from __future__ import annotations

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

    def pending(self) -> bool:
        self.socket.setblocking(False)
        try:
            self.socket.recv(2 * MAX_MESSAGE_BYTES, socket.MSG_PEEK)
        except BlockingIOError:
            return False
        finally:
            self.socket.settimeout(5.0)
        return True


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
    assert notifier.ready() and listener.receive() == "READY=1"
    assert notifier.status("take001.wav 0:42") and listener.receive() == "STATUS=take001.wav 0:42"
    assert notifier.watchdog() and listener.receive() == "WATCHDOG=1"
    assert notifier.stopping() and listener.receive() == "STOPPING=1"


def test_reloading_carries_the_monotonic_clock(listener: Listener, notifier: Notifier) -> None:
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert notifier.reloading()
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
        assert notifier.ready() and listener.receive() == "READY=1"
    finally:
        notifier.close()
        listener.socket.close()


def test_a_status_is_one_assignment_and_one_datagram(
    listener: Listener, notifier: Notifier
) -> None:
    """A newline in the text cannot smuggle in another assignment."""
    assert notifier.status("take 1\nREADY=1\r\nMAINPID=1")
    assert listener.receive() == "STATUS=take 1 READY=1 MAINPID=1"
    assert notifier.status("é" * MAX_MESSAGE_BYTES)
    sent = listener.receive().encode()
    assert len(sent) <= MAX_MESSAGE_BYTES and sent.decode().startswith("STATUS=éé")


def test_without_a_service_manager_nothing_happens() -> None:
    for environ in (
        {},
        {"NOTIFY_SOCKET": ""},
        {"NOTIFY_SOCKET": "relative/path"},
        {"NOTIFY_SOCKET": "@"},
    ):
        notifier = Notifier(environ)
        assert not notifier.enabled
        assert not notifier.ready() and not notifier.status("x") and not notifier.watchdog()
        assert not notifier.stopping() and not notifier.reloading()


def test_a_failed_notification_is_dropped(tmp_path: Path) -> None:
    gone = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    assert gone.enabled and not gone.ready()
    too_long = Notifier({"NOTIFY_SOCKET": "/" + "x" * 200})  # beyond sun_path
    assert not too_long.ready()
    closed = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    closed.close()
    assert not closed.enabled and not closed.watchdog()


def test_a_full_queue_never_blocks(listener: Listener, notifier: Notifier) -> None:
    """Nobody reads: sends fail at once when the queue fills, then drop."""
    started = time.monotonic()
    sent = [notifier.status("x" * 1000) for _ in range(2000)]
    assert time.monotonic() - started < 5.0
    assert sent[0] and not sent[-1]
    assert listener.pending()


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
        assert notifier.watchdog() and listener.receive() == "WATCHDOG=1"
    finally:
        notifier.close()
