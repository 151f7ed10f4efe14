"""What happens to a recording, as typed events every face can show.

The disk writer and the session announce each of these once, in the order
they happen; the console shows them in its log, ``jackrec record`` prints
the warnings, and the service writes every one as a line of its log and
sends them to subscribers of its control socket.  Each event says itself
twice: `Event.text` is the log line, `Event.to_json` the machine form.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

Level = Literal["info", "warning", "error"]


@dataclass(frozen=True)
class Event:
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
        kind = type(self).__name__
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in kind).lstrip("_")

    @property
    def text(self) -> str:
        raise NotImplementedError

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
