"""What happens to a recording, as typed events every face can show.

The disk writer and the session announce each of these once, in the order
they happen; the console shows them in its log, ``jackrec record`` prints
the warnings, and the service writes every one as a line of its log and
sends them to subscribers of its control socket.  Each event says itself
twice: `Event.text` is the log line, `Event.to_json` the machine form, which
`from_json` reads back (a console attached to a service shows them).
"""

from __future__ import annotations

import abc
import collections
import dataclasses
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, get_origin, get_type_hints

Level = Literal["info", "warning", "error"]


@dataclass(frozen=True)
class Event(abc.ABC):
    """Something that happened, at Unix time `time`.

    Subclasses set `level` (how the console colours it), `log_level` (how
    loudly ``jackrec record`` says it: warnings reach the terminal, the
    rest only with ``-v``) and `text`.
    """

    level: ClassVar[Level] = "info"
    log_level: ClassVar[int] = logging.INFO
    time: float = field(default_factory=time.time, kw_only=True)

    @property
    def name(self) -> str:
        """The event's name in JSON: its class name in snake case."""
        return event_name(type(self))

    @property
    @abc.abstractmethod
    def text(self) -> str:
        """The event's log line (each kind says its own)."""

    def to_json(self) -> dict[str, Any]:
        """``{"event": name, "level": ..., "time": ..., "text": ..., <fields>}``."""
        fields = {
            f.name: str(value) if isinstance(value := getattr(self, f.name), Path) else value
            for f in dataclasses.fields(self)
        }
        return {"event": self.name, "level": self.level, **fields, "text": self.text}


@dataclass(frozen=True)
class Notice(Event):
    """A warning about the set-up (ports matched, memory not locked)."""

    level: ClassVar[Level] = "warning"
    log_level: ClassVar[int] = logging.WARNING
    message: str

    @property
    def text(self) -> str:
        return self.message


@dataclass(frozen=True)
class TakeStarted(Event):
    path: Path
    stream_frame: int

    @property
    def text(self) -> str:
        return f"recording {self.path.name}"


#: `TakeFinished.ended_by` of a take ended by a rotation: the next began where it ended.
ROTATED = "rotated"


@dataclass(frozen=True)
class TakeFinished(Event):
    path: Path
    frames: int
    ended_by: str
    error: str | None

    @property
    def text(self) -> str:
        ending = f"{self.path.name}: {self.frames} frames, ended by {self.ended_by}"
        return f"{ending}: {self.error}" if self.error else ending


@dataclass(frozen=True)
class FramesLost(Event):
    """The ring was full: silence stands in the take for frames not captured."""

    level: ClassVar[Level] = "warning"
    log_level: ClassVar[int] = logging.WARNING
    path: Path
    file_frame: int
    frames: int

    @property
    def text(self) -> str:
        return (
            f"{self.path.name}: {self.frames} frames lost at file frame {self.file_frame} "
            "(the disk was too slow; filled with silence)"
        )


@dataclass(frozen=True)
class Xrun(Event):
    level: ClassVar[Level] = "warning"
    delay_us: float

    @property
    def text(self) -> str:
        return f"xrun ({self.delay_us:.0f} us late)"


@dataclass(frozen=True)
class MarkerAdded(Event):
    path: Path
    label: str
    file_frame: int

    @property
    def text(self) -> str:
        return f"{self.path.name}: marker '{self.label}' at frame {self.file_frame}"


@dataclass(frozen=True)
class TriggerFired(Event):
    stream_frame: int

    @property
    def text(self) -> str:
        return f"trigger at stream frame {self.stream_frame}"


@dataclass(frozen=True)
class HookFailed(Event):
    """A take's hook (`jackrec.hooks`) failed, timed out, or was left running at exit.

    Never an error of the recording: the take is as it was.
    """

    level: ClassVar[Level] = "warning"
    log_level: ClassVar[int] = logging.WARNING
    hook: str  # on_start, on_close or on_rotate
    path: Path  # the take
    reason: str

    @property
    def text(self) -> str:
        return f"{self.hook} hook for {self.path.name}: {self.reason}"


@dataclass(frozen=True)
class RecorderError(Event):
    """Something failed: a take ended by it, a sidecar not updated.

    A take ended by an error is followed by its `TakeFinished`, which says
    the error again.
    """

    level: ClassVar[Level] = "error"
    message: str

    @property
    def text(self) -> str:
        return self.message


@dataclass(frozen=True)
class ServerLost(Event):
    level: ClassVar[Level] = "error"
    reason: str

    @property
    def text(self) -> str:
        return f"JACK server shut down: {self.reason}"


@dataclass(frozen=True)
class WaitingForServer(Event):
    server: str

    @property
    def text(self) -> str:
        return f"waiting for {self.server} (a JACK server is never started by jackrec)"


@dataclass(frozen=True)
class ServerBack(Event):
    server: str
    seconds: float

    @property
    def text(self) -> str:
        return f"{self.server} is back after {self.seconds:.1f} s"


@dataclass(frozen=True)
class DiskLow(Event):
    """Less than the settings' floor is free: no take begins, the open one ended."""

    level: ClassVar[Level] = "warning"
    log_level: ClassVar[int] = logging.WARNING
    directory: Path
    free: int
    needed: int

    @property
    def text(self) -> str:
        return (
            f"{self.directory}: {self.free / 2**30:.2f} GiB free, {self.needed / 2**30:.2f} GiB "
            "needed (min_free): no take until there is room"
        )


@dataclass(frozen=True)
class TakesDeleted(Event):
    """The retention settings deleted these finished takes (and their sidecars)."""

    paths: tuple[str, ...]

    @property
    def text(self) -> str:
        return f"retention deleted {len(self.paths)} take(s): {', '.join(self.paths)}"


@dataclass(frozen=True)
class SettingsReloaded(Event):
    path: Path
    later: tuple[str, ...]  # settings that apply only once the service reconnects

    @property
    def text(self) -> str:
        text = f"settings reloaded from {self.path}; they apply from the next take"
        if self.later:
            text += f" ({', '.join(self.later)}: when JACK is next connected)"
        return text


@dataclass(frozen=True)
class EventsDropped(Event):
    """A control-socket subscriber read too slowly: this many events were not sent to it."""

    level: ClassVar[Level] = "warning"
    log_level: ClassVar[int] = logging.WARNING
    count: int

    @property
    def text(self) -> str:
        return f"{self.count} events dropped (this subscriber read too slowly)"


class History:
    """The latest events (at most `kept`), for faces that look now and then (any thread)."""

    def __init__(self, kept: int) -> None:
        self._events: collections.deque[Event] = collections.deque(maxlen=kept)
        self._total = 0
        self._lock = threading.Lock()

    def add(self, event: Event) -> None:
        with self._lock:
            self._events.append(event)
            self._total += 1

    def since(self, seen: int) -> tuple[list[Event], int]:
        """Events after the first `seen` (as many as are kept), and the new count."""
        with self._lock:
            new = min(self._total - seen, len(self._events))
            return list(self._events)[len(self._events) - new :], self._total


def event_name(kind: type[Event]) -> str:
    """An event class's name in JSON: its name in snake case."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in kind.__name__).lstrip("_")


def from_json(data: dict[str, Any]) -> Event:
    """The event whose `Event.to_json` is `data`.

    One this jackrec does not know (a newer service's), or a malformed one,
    comes back as a `Notice` of its text.
    """
    kinds = {event_name(kind): kind for kind in _kinds()}
    kind = kinds.get(str(data.get("event")))
    try:
        if kind is not None:
            hints = get_type_hints(kind)
            values = {}
            for item in dataclasses.fields(kind):
                value, hint = data[item.name], hints[item.name]
                if hint is Path:
                    value = Path(value)
                elif get_origin(hint) is tuple:
                    value = tuple(value)
                values[item.name] = value
            return kind(**values)
    except (KeyError, TypeError, ValueError):
        pass
    when = data.get("time")
    text = str(data.get("text", data))
    return Notice(text, time=when) if isinstance(when, int | float) else Notice(text)


def _kinds() -> list[type[Event]]:
    """Every kind of event: the subclasses of `Event`, at any depth (not `Event`
    itself, which says no text)."""
    found: list[type[Event]] = []
    waiting = Event.__subclasses__()
    while waiting:
        kind = waiting.pop()
        found.append(kind)
        waiting.extend(kind.__subclasses__())
    return found
