"""What the recorder can be told: the commands its disk writer carries out.

Every change of the recorder's state is one of these, put on the writer's
queue (`DiskWriter.submit`); nothing else writes the writer's state.  The
console, ``jackrec record`` and the service all speak through them (by way
of `jackrec.session.Session`).

Most commands take effect at a stream frame, `at`: the frame the process
callback had reached when the command was given, so that cuts are
frame-exact whenever the writer gets to them.  `Arm` and `Disarm` take
effect as soon as the writer receives them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jackrec.take import Take


@dataclass(frozen=True)
class Command:
    """Something to do at stream frame `at`."""

    at: int


@dataclass(frozen=True)
class Record(Command):
    """Begin `take` (reaching back into the pre-roll, if one is armed).

    `started_by` (``command``, ``signal``, ``trigger``) goes into its
    sidecar; a take begun by `trigger` ends by its hold, if it has one.
    """

    take: Take
    started_by: str = "command"
    trigger: Trigger | None = None


@dataclass(frozen=True)
class Stop(Command):
    """End the take; `reason` goes into its sidecar."""

    reason: str = "stop request"


@dataclass(frozen=True)
class Pause(Command):
    """Leave the frames out of the take from here (noted in its sidecar)."""


@dataclass(frozen=True)
class Resume(Command):
    """Go on writing the take."""


@dataclass(frozen=True)
class Rotate(Command):
    """End the take and begin `take` at the same frame."""

    take: Take


@dataclass(frozen=True)
class Marker(Command):
    """A marker in the take, with its label."""

    label: str


@dataclass(frozen=True)
class NoteXrun(Command):
    """JACK reported an xrun, this late; the take notes it."""

    delay_us: float


@dataclass(frozen=True)
class Trigger:
    """Begin a take at the first frame where a channel reaches a level.

    Attributes
    ----------
    level
        Linear amplitude (1.0 is full scale) a sample must reach.
    channels
        Capture channels listened to.
    make_take
        Creates the take when the trigger fires (in the writer thread).
    hold_frames
        End the take it begins once this many frames in a row stayed below
        `release` on every channel listened to (None: it never ends by
        itself), then listen again.
    release
        Linear amplitude a sample must reach to count as not quiet.
    """

    level: float
    channels: tuple[int, ...]
    make_take: Callable[[], Take]
    hold_frames: int | None = None
    release: float = 0.0


@dataclass(frozen=True)
class Arm(Command):
    """Keep a pre-roll, and listen for a trigger.

    While idle the writer keeps `preroll_frames` of the newest stream, and
    listens for `trigger` (if any), which fires once and is disarmed by any
    take that begins.  It listens again after a take that its hold ended,
    and, with `rearm`, after every take.  With `take_frames`, every take
    that begins while armed ends that many frames long (pre-roll
    included); with `takes`, the writer disarms once that many have begun.
    """

    preroll_frames: int
    trigger: Trigger | None = None
    rearm: bool = False
    take_frames: int | None = None
    takes: int | None = None


@dataclass(frozen=True)
class Disarm(Command):
    """Neither keep a pre-roll nor listen for a trigger."""


@dataclass(frozen=True)
class Follow(Command):
    """Record one take each time the watched JACK state comes on.

    A take (from `make_take`) begins at the first frame of the first cycle
    in which every bit of `state` is on (`jackrec.core.capture.ROLLING`:
    the transport rolls; ``FREEWHEEL``: JACK freewheels), and ends at the
    first frame of the cycle in which one goes off.  It stays armed for the
    next, until `Unfollow`, and begins none at or after stream frame
    `until`, nor more than `takes` (if given).
    """

    state: int
    make_take: Callable[[], Take]
    until: int | None = None
    takes: int | None = None


@dataclass(frozen=True)
class Unfollow(Command):
    """Stop following (a take it began records on until stopped)."""


@dataclass(frozen=True)
class StateChanged(Command):
    """The watched state changed here (the writer's own, from the capture's queue)."""

    state: int
    transport_frame: int


#: Commands that take effect when received, not at their frame.
AT_ONCE = (Arm, Disarm, Follow, Unfollow)
