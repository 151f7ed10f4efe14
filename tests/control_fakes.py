"""For the control faces' unit tests: a fake `Controller` that records what
it is asked, and short directories for sockets."""

from __future__ import annotations

import contextlib
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jackrec.control import Request, refusal, reply
from jackrec.events import Event

#: What the fake says to ``status``: every field ``jackrec ctl`` knows, and one it does not.
STATUS: dict[str, Any] = {
    "state": "recording",
    "take": "/rec/take001.wav",
    "elapsed": 75.5,
    "frames": 3624000,
    "xruns": 2,
    "frames_lost": 0,
    "ring_high_water": 0.125,
    "callback_us_max": 41.0,
    "disk_free": 123_400_000_000,
    "sample_rate": 48000,
}


class FakeSubscription:
    def __init__(self, owner: FakeController) -> None:
        self.owner = owner
        self.queue: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self.closed = threading.Event()

    def next(self, timeout: float) -> Event | None:
        try:
            return self.queue.get(timeout=timeout) if timeout > 0 else self.queue.get_nowait()
        except queue.Empty:
            return None

    def close(self) -> None:
        self.closed.set()
        with self.owner.lock:
            self.owner.subscriptions.remove(self)


class FakeController:
    """Replies to everything (``status`` with `STATUS`), refuses what `refusals` names.

    Attributes
    ----------
    requests
        Every request handled, in order.
    refusals
        Command -> the error to refuse it with.
    hold
        When set to an Event, `handle` waits for it (a service that hangs).
    fail
        When set, `handle` and `subscribe` raise it.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[Request] = []
        self.subscriptions: list[FakeSubscription] = []
        self.refusals: dict[str, str] = {}
        self.hold: threading.Event | None = None
        self.fail: Exception | None = None

    def handle(self, request: Request) -> dict[str, Any]:
        with self.lock:
            self.requests.append(request)
        if self.hold is not None:
            self.hold.wait(30)
        if self.fail is not None:
            raise self.fail
        if request.command in self.refusals:
            return refusal(self.refusals[request.command])
        if request.command == "status":
            return reply(**STATUS)
        if request.command == "start":
            return reply(take=request.argument or "take002.wav")
        return reply()

    def subscribe(self) -> FakeSubscription:
        if self.fail is not None:
            raise self.fail
        subscription = FakeSubscription(self)
        with self.lock:
            self.subscriptions.append(subscription)
        return subscription

    def publish(self, event: Event) -> None:
        with self.lock:
            for subscription in self.subscriptions:
                subscription.queue.put(event)

    def wait_for(self, what: str, condition: Any, timeout: float = 10.0) -> None:
        """Wait until `condition()` holds (bounded)."""
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.01)


@contextlib.contextmanager
def short_directory() -> Iterator[Path]:
    """A new directory in /tmp, removed after: a Unix socket's path holds at
    most 107 bytes, and pytest's tmp_path can be longer."""
    directory = Path(tempfile.mkdtemp(prefix="jr-", dir="/tmp"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)
