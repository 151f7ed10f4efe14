"""A running service as the console's recorder (``jackrec tui --attach``).

`RemoteRecorder` is a `jackrec.recorder.Recorder` that speaks to ``jackrec
serve`` through its control socket, on three connections, so that nothing
the console does waits behind anything else:

- the console's own (the UI thread): ``meters`` 30 times a second, which the
  service answers in that connection's thread at once, from the
  connection's own account of the levels; and the commands, which wait for
  the service loop (at most its 0.1 s step);
- a watcher thread's: ``status`` ten times a second, and ``channels`` when
  the status says they changed; the console reads the latest of both;
- a subscriber thread's: the events, kept for `events_since`.

When any of them finds the service gone, `lost` says why, and the console
ends (status 1), as it does when a JACK server shuts down under it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jackrec import events
from jackrec.channel_list import format_channel_list
from jackrec.control import Request, RequestError, meter_reading
from jackrec.control_client import ControlClient
from jackrec.core.capture import MeterReading
from jackrec.errors import JackrecError
from jackrec.recorder import Arming, Channel
from jackrec.session import EVENTS_KEPT, SessionStatus

POLL_SECONDS = 0.1
#: How long `close` waits for the watcher and subscriber threads.
CLOSE_SECONDS = 2.0


class Refused(JackrecError):
    """The service answered, and said no (the connection is fine)."""


class RemoteRecorder:
    """The service on the control socket `path`; see the module docstring.

    Raises
    ------
    JackrecError
        Nothing listens on `path`, this user may not use it, or the service
        is not connected to its JACK server (it has no channels to show).
    """

    session = None  # the service connects its sources by its settings' patterns
    namer = None  # its settings are its file
    ends_with_console = False  # it records on

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lost: str | None = None
        self._closing = threading.Event()
        self._lock = threading.Lock()  # the watcher's findings
        self._console = ControlClient(path)
        self._console_lock = threading.Lock()
        self._events = events.History(EVENTS_KEPT)
        clients = [self._console]
        try:
            try:
                listing = self._ask(self._console, Request("channels"))
            except Refused as refusal:
                raise JackrecError(f"the service on {path}: {refusal}") from None
            self._channels, self._channels_version = channels_of(listing)
            self.channels = len(self._channels)
            self._status, self._bytes_per_second, _ = self._read_status(self._console)
            watcher, subscriber = ControlClient(path), ControlClient(path)
            clients += [watcher, subscriber]
        except BaseException:
            for client in clients:
                client.close()
            raise
        self._clients = clients
        self._threads = [
            threading.Thread(target=self._watch, args=(watcher,), name="remote-watcher"),
            threading.Thread(target=self._follow, args=(subscriber,), name="remote-events"),
        ]
        for thread in self._threads:
            thread.daemon = True
            thread.start()

    def close(self) -> None:
        """Hang up (the service records on)."""
        self._closing.set()
        for client in self._clients:
            client.close()
        for thread in self._threads:
            thread.join(CLOSE_SECONDS)

    # ---- what the console shows ----

    def channel_list(self) -> list[Channel]:
        with self._lock:
            return list(self._channels)

    @property
    def channels_version(self) -> int:
        with self._lock:
            return self._channels_version

    def meters(self) -> MeterReading:
        try:
            if self._lost is None:
                return meter_reading(self._request(Request("meters")), self.channels)
        except RequestError:
            self._lose(f"the service on {self.path} no longer records {self.channels} channels")
        except JackrecError:
            pass  # lost: said by _request
        return silence(self.channels)

    def status(self) -> SessionStatus:
        with self._lock:
            return self._status

    def bytes_per_second(self) -> float:
        with self._lock:
            return self._bytes_per_second

    def events_since(self, seen: int) -> tuple[list[events.Event], int]:
        return self._events.since(seen)

    @property
    def lost(self) -> str | None:
        return self._lost

    # ---- commands ----

    def arm_channels(self, armed: Sequence[bool]) -> None:
        if len(armed) != self.channels:
            raise JackrecError(f"{len(armed)} flags for {self.channels} channels")
        listing = self._request(Request("arm_channels", format_channel_list(armed)))
        self._take_channels(listing)

    def record(self) -> None:
        self._request(Request("start"))

    def stop(self) -> None:
        self._request(Request("stop"))

    def pause(self) -> None:
        self._request(Request("pause"))

    def resume(self) -> None:
        self._request(Request("resume"))

    def new_take(self) -> None:
        self._request(Request("rotate"))

    def marker(self, label: str) -> None:
        self._request(Request("marker", label))

    def arm(self) -> Arming:
        answer = self._request(Request("arm"))
        trigger, hold = answer.get("trigger_dbfs"), answer.get("hold_seconds")
        return Arming(
            float(answer.get("preroll_seconds", 0.0)),
            float(trigger) if isinstance(trigger, int | float) else None,
            float(hold) if isinstance(hold, int | float) else None,
            str(answer.get("following", "")),
        )

    def disarm(self) -> None:
        self._request(Request("disarm"))

    def step(self) -> None:
        """Nothing: the service rotates its takes itself."""

    # ---- the connections ----

    def _request(self, request: Request) -> dict[str, Any]:
        """`request` on the console's connection.

        Raises
        ------
        JackrecError
            `Refused` with the service's reason, or the service is gone
            (and `lost` says so).
        """
        with self._console_lock:
            return self._ask(self._console, request)

    def _ask(self, client: ControlClient, request: Request) -> dict[str, Any]:
        try:
            answer = client.request(request)
        except JackrecError as error:
            self._lose(str(error))
            raise
        if not answer.get("ok"):
            raise Refused(str(answer.get("error", "refused")))
        return answer

    def _read_status(self, client: ControlClient) -> tuple[SessionStatus, float, int | None]:
        """The status, the data rate of a take, and the channels' version (None: no
        JACK server now)."""
        answer = self._ask(client, Request("status"))
        version = answer.get("channels_version")
        try:
            return (
                status_of(answer),
                float(answer.get("bytes_per_second", 0.0)),
                None if version is None else int(version),
            )
        except (TypeError, ValueError):
            problem = f"the service on {self.path} sent a status that does not parse"
            self._lose(problem)
            raise JackrecError(problem) from None

    def _take_channels(self, listing: dict[str, Any]) -> None:
        channels, version = channels_of(listing)
        if len(channels) != self.channels:
            self._lose(
                f"the service on {self.path} now records {len(channels)} channels, "
                f"not {self.channels}: attach again"
            )
            return
        with self._lock:
            self._channels, self._channels_version = channels, version

    def _watch(self, client: ControlClient) -> None:
        """The status, ten times a second, and the channels when they change.

        A refusal (the service busy or stopping, its JACK server gone between
        the two requests) is asked again next time; a service gone ends it.
        """
        while not self._closing.wait(POLL_SECONDS):
            try:
                status, rate, version = self._read_status(client)
                with self._lock:
                    self._status, self._bytes_per_second = status, rate
                    changed = version not in (None, self._channels_version)
                if changed:
                    self._take_channels(self._ask(client, Request("channels")))
            except Refused:
                continue
            except JackrecError:
                return  # the service went away: `lost` says so

    def _follow(self, client: ControlClient) -> None:
        """Subscribe, and keep the service's events as they come."""
        try:
            for data in client.events():
                self._events.add(events.from_json(data))
        except JackrecError as error:
            self._lose(str(error))

    def _lose(self, reason: str) -> None:
        if self._lost is None and not self._closing.is_set():
            self._lost = reason


def channels_of(listing: dict[str, Any]) -> tuple[list[Channel], int]:
    """The channels, and their version, in a ``channels`` reply.

    Raises
    ------
    JackrecError
        When the reply does not hold them.
    """
    try:
        channels = [Channel.from_json(data) for data in listing["channels"]]
        return channels, int(listing["channels_version"])
    except (KeyError, TypeError, ValueError):
        raise JackrecError("the service sent a channels reply that does not parse") from None


def status_of(answer: dict[str, Any]) -> SessionStatus:
    """A ``status`` reply as the transport bar takes it.

    Figures a service without a JACK server does not give are zero.

    Raises
    ------
    TypeError, ValueError
        A figure that is not a number.
    """
    take, disk, trigger = answer.get("take"), answer.get("disk_free"), answer.get("trigger_dbfs")
    return SessionStatus(
        state=str(answer.get("state", "unknown")),
        take=Path(take) if isinstance(take, str) else None,
        take_frames=int(answer.get("frames", 0)),
        take_bytes=int(answer.get("take_bytes", 0)),
        ring_fill=float(answer.get("ring_fill", 0.0)),
        preroll_fill=float(answer.get("preroll_fill", 0.0)),
        xruns=int(answer.get("xruns", 0)),
        frames_lost=int(answer.get("frames_lost", 0)),
        dsp_load=float(answer.get("dsp_load", 0.0)),
        sample_rate=int(answer.get("sample_rate", 0)),
        period=int(answer.get("period", 0)),
        disk_free=None if disk is None else int(disk),
        trigger_dbfs=None if trigger is None else float(trigger),
        preroll_seconds=float(answer.get("preroll_seconds", 0.0)),
        following=str(answer.get("following", "")),
    )


def silence(channels: int) -> MeterReading:
    """No levels at all: what a lost recorder's meters read."""
    return MeterReading(
        np.zeros(channels, np.float32),
        np.zeros(channels),
        np.zeros(channels, np.uint32),
        np.zeros(channels, np.uint64),
    )
