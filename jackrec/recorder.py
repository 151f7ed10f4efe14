"""What the console drives: a recorder, in this process or in a service.

The console (`jackrec.tui.app`) knows a recording only through `Recorder`:
its channels, levels, status and events, and the transport commands.  Two
recorders implement it, so the console is the same screen either way:

- `LocalRecorder`: a `Session` in this process, its takes named and made by
  a `TakeNamer` from the settings (``jackrec tui``);
- `jackrec.remote.RemoteRecorder`: a running ``jackrec serve``, through its
  control socket (``jackrec tui --attach``).

A command either does what it says or raises `JackrecError` with one line
saying why.  The patch panel and the settings screen work on a session in
this process (`Recorder.session`, `Recorder.namer`); attached to a service
there is none: the service connects its sources by the patterns of its
settings file, which is where its settings live.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from jackrec.config import Config
from jackrec.core.capture import MeterReading
from jackrec.errors import JackrecError
from jackrec.events import Event
from jackrec.follow import describe, followed_state
from jackrec.metadata import source_labels
from jackrec.naming import TakeNamer
from jackrec.rotation import Rotator
from jackrec.session import Session, SessionStatus
from jackrec.takefile import BYTES_PER_SAMPLE, sample_subtype


@dataclass(frozen=True)
class Channel:
    """One input: its JACK port, what feeds it, and whether the next take records it."""

    port: str
    sources: tuple[str, ...]
    armed: bool
    pretty: str | None = None  # the first source's JACK pretty-name

    @property
    def label(self) -> str:
        """Its name on the meters: the first source's pretty-name, else that source's
        name without its client, else the port's."""
        if self.pretty:
            return self.pretty
        return (self.sources[0] if self.sources else self.port).split(":", 1)[-1]

    def to_json(self) -> dict[str, Any]:
        return {
            "port": self.port,
            "sources": list(self.sources),
            "armed": self.armed,
            "pretty": self.pretty,
        }

    @classmethod
    def from_json(cls, data: Any) -> Channel:
        """The channel `to_json` gave `data`; raises `ValueError` when it is not one."""
        try:
            port, sources, armed = data["port"], data["sources"], data["armed"]
        except (KeyError, TypeError):
            raise ValueError("not a channel") from None
        if not (isinstance(port, str) and isinstance(armed, bool) and isinstance(sources, list)):
            raise ValueError("not a channel")
        pretty = data.get("pretty")  # absent from an older service's listing
        return cls(
            port, tuple(map(str, sources)), armed, pretty if isinstance(pretty, str) else None
        )


def channels_of(session: Session) -> list[Channel]:
    """Each input of an open `session`, as it is now."""
    sources = session.sources()
    return [
        Channel(port.name, fed_by, armed, pretty)
        for port, fed_by, armed, pretty in zip(
            session.inputs,
            sources,
            session.armed,
            source_labels(session.client, sources),
            strict=True,
        )
    ]


@dataclass(frozen=True)
class Arming:
    """What `Recorder.arm` armed: a pre-roll (0: none), a trigger level (None: none),
    and the JACK states followed (`jackrec.follow.describe`; empty: none)."""

    preroll_seconds: float
    trigger_dbfs: float | None
    hold_seconds: float | None = None  # a triggered take ends after this long below release
    following: str = ""

    def describe(self) -> str:
        parts = [f"a take per {self.following}"] if self.following else []
        if self.trigger_dbfs is not None:
            parts.append(f"a take begins at {self.trigger_dbfs:g} dBFS")
            if self.hold_seconds is not None:
                parts.append(f"ends {self.hold_seconds:g} s after the sound")
        if self.preroll_seconds > 0:
            parts.append(f"takes start {self.preroll_seconds:g} s early")
        return "; ".join(parts)


class Recorder(Protocol):
    """A recording the console shows and drives (the UI thread calls it)."""

    @property
    def channels(self) -> int:
        """How many inputs it records (fixed for its lifetime)."""

    def channel_list(self) -> list[Channel]:
        """Each input as it is now."""

    @property
    def channels_version(self) -> int:
        """Changes whenever `channel_list` may have (ports, connections, arming)."""

    def meters(self) -> MeterReading:
        """The levels since the last call."""

    def status(self) -> SessionStatus:
        """State and figures, for the transport bar."""

    def bytes_per_second(self) -> float:
        """What a take of the armed channels writes a second, under the settings."""

    def events_since(self, seen: int) -> tuple[list[Event], int]:
        """Events after the first `seen` (as many as are kept), and the new count."""

    @property
    def lost(self) -> str | None:
        """Why the recorder went away (its JACK server shut down, the service ended), if it did."""

    def arm_channels(self, armed: Sequence[bool]) -> None:
        """Which channels the next take records, one flag per channel."""

    def record(self) -> None:
        """Begin a take now, named by the settings (reaching into the pre-roll, if armed)."""

    def stop(self) -> None:
        """End the take."""

    def pause(self) -> None:
        """Leave frames out of the take until `resume` (its sidecar notes the stretch)."""

    def resume(self) -> None:
        """Record on after a `pause`."""

    def new_take(self) -> None:
        """End the take and begin the next at the same frame."""

    def marker(self, label: str) -> None:
        """A marker at the current frame of the take."""

    def arm(self) -> Arming:
        """Arm what the settings ask for: the pre-roll, and the level trigger if one is set."""

    def disarm(self) -> None:
        """Keep no pre-roll, listen for no trigger."""

    def step(self) -> None:
        """Do what is due by now (a rotation): the console calls it ten times a second."""

    @property
    def ends_with_console(self) -> bool:
        """Whether quitting the console ends the take (a service records on)."""

    @property
    def session(self) -> Session | None:
        """The session in this process, for the patch panel (None: the service patches)."""

    @property
    def namer(self) -> TakeNamer | None:
        """Names and makes the takes; the settings screen edits its settings (None:
        the service's settings are its file)."""


class LocalRecorder:
    """A `Session` in this process, its takes made by a `TakeNamer` from `config`.

    The caller opens the session, and closes it when the console is done
    (which finalizes the take).
    """

    def __init__(self, session: Session, config: Config) -> None:
        self.session = session
        self.namer = TakeNamer(session, config)
        self._rotator = Rotator(config.rotation(), lambda when: self.namer.create(when=when))
        self._armings = 0  # arming changes the channel list too
        self.ends_with_console = True

    @property
    def channels(self) -> int:
        return self.session.channels

    def channel_list(self) -> list[Channel]:
        return channels_of(self.session)

    @property
    def channels_version(self) -> int:
        return self.session.graph_version + self._armings

    def meters(self) -> MeterReading:
        return self.session.meters.poll()

    def status(self) -> SessionStatus:
        return self.session.status()

    def bytes_per_second(self) -> float:
        config = self.namer.config
        sample = BYTES_PER_SAMPLE[sample_subtype(config.format, config.bits)]
        return float(sample * sum(self.session.armed) * self.session.sample_rate)

    def events_since(self, seen: int) -> tuple[list[Event], int]:
        return self.session.events_since(seen)

    @property
    def lost(self) -> str | None:
        if not self.session.shutdown.is_set():
            return None
        return f"the JACK server shut down ({self.session.server_gone})"

    def arm_channels(self, armed: Sequence[bool]) -> None:
        if len(armed) != self.channels:
            raise JackrecError(f"{len(armed)} flags for {self.channels} channels")
        self.session.armed[:] = armed
        self._armings += 1

    def record(self) -> None:
        self.session.record(self.namer.create())

    def stop(self) -> None:
        self.session.stop()

    def pause(self) -> None:
        self.session.pause()

    def resume(self) -> None:
        self.session.resume()

    def new_take(self) -> None:
        self.session.rotate(self.namer.create())

    def marker(self, label: str) -> None:
        self.session.marker(label)

    def arm(self) -> Arming:
        config = self.namer.config
        preroll = min(config.preroll, self.session.options.preroll_seconds)
        following = followed_state(config.transport, config.freewheel)
        if preroll <= 0 and config.trigger is None and not following:
            raise JackrecError(
                "nothing to arm: set a pre-roll, a trigger or following in settings (s)"
            )
        self.session.arm(
            preroll, config.trigger, self.namer.create,
            hold_seconds=config.trigger_hold, release_dbfs=config.release_dbfs,
        )  # fmt: skip
        if following:
            self.session.follow(following, self.namer.create)
        return Arming(preroll, config.trigger, config.trigger_hold, describe(following))

    def disarm(self) -> None:
        self.session.disarm()
        self.session.unfollow()

    def step(self) -> None:
        self._rotator.rotation = self.namer.config.rotation()  # the settings may have changed
        self._rotator.step(self.session)
        self.session.follow_graph()
