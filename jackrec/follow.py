"""Following JACK's transport or freewheel: which states, and ``record``'s run.

The settings ``transport`` and ``freewheel`` (and ``jackrec record``'s
options of the same names) choose the states followed; the disk writer
begins a take where they come on and ends it where they go off
(`jackrec.commands.Follow`).  ``jackrec record`` then records a take per
roll, named as its other runs of several takes are (`jackrec.naming`),
until stopped.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

from jackrec import events
from jackrec.core.capture import FREEWHEEL, ROLLING

if TYPE_CHECKING:  # the session reads `describe` from here: no import cycle at run time
    from jackrec.naming import RunTakes
    from jackrec.session import Session

#: How often the run looks at the signals and the takes.
POLL_SECONDS = 0.2


def followed_state(transport: bool, freewheel: bool) -> int:
    """The `jackrec.core.capture` state bits the options ask to follow."""
    return (ROLLING if transport else 0) | (FREEWHEEL if freewheel else 0)


def describe(state: int) -> str:
    """What one take is, following `state`: ``roll``, ``freewheel run``, ... ("": none)."""
    if state == ROLLING | FREEWHEEL:
        return "roll in freewheel"
    return {ROLLING: "roll", FREEWHEEL: "freewheel run"}.get(state, "")


def run(
    session: Session,
    state: int,
    takes: RunTakes,
    duration: float | None,
    count: int | None,
    next_signal: Callable[[float], signal.Signals | None],
    tick: Callable[[], None],
    end: list[int],
) -> None:
    """A take per roll of `state`, until a stop signal, `duration`, `count` or the server's end.

    `duration` (seconds) ends the run that long after it began, exactly (a
    take still rolling ends there, and none begins after); `count` after
    that many takes (a rotation's files continue a take: they are not
    counted).  `end` gets the stream frame `duration` ends the run at.
    """
    length = None if duration is None else round(duration * session.sample_rate)
    until = session.follow(state, takes.create, duration_frames=length, takes=count)
    if until is not None:
        end.append(until)
    while not (next_signal(POLL_SECONDS) or session.shutdown.is_set()):
        files = takes.begun()
        begun = [t for t in files if t.start.get("started_by") != "rotation"]
        if count is not None and len(begun) >= count and all(t.ended_by for t in files):
            return
        writer = session.writer_status
        if until is not None and writer.position >= until and writer.take is None:
            return
        if any(t.ended_by not in (None, events.ROTATED) and t.error for t in files):
            return  # a take failed (disk full, file deleted): the run ends with its error
        tick()
