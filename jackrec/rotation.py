"""Where a long recording is cut into takes: sample-exact, by length, size or clock.

A rotation is a ``rotate`` command placed at a stream frame, so the takes of
one run joined are sample-identical to one long take.  By length, every take
is exactly `Rotation.period` seconds of frames.  On the clock
(``rotate_at_clock``), cuts fall on wall-clock multiples of the period (on
the hour, for ``1h``), as broadcast loggers cut; the frame of each cut is
worked out from JACK's clock just before it, so a sample clock that drifts
from the wall clock never moves the cuts away from the hour.  By size, a
take ends before its samples pass `Rotation.size` bytes.  When several
limits are set, whichever comes first cuts, and a clock cut stays on the
clock.

`Rotator` hands the cuts to a session in time; ``jackrec record``, the
console and the service all rotate through it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jackrec import events
from jackrec.errors import JackrecError

if TYPE_CHECKING:  # the settings use this module, and need no session
    from jackrec.session import Session
    from jackrec.take import Take

#: A cut is handed to the writer this long before its frame: the take after
#: it is created then, and the writer gets the command well before the ring
#: brings the frame.
ROTATE_LEAD_SECONDS = 2.0
#: Below this the rotation period is a mistake, not a choice.
MIN_ROTATE_SECONDS = 1.0
#: ... and below this the size (a take of 64 KiB or less is no log).
MIN_ROTATE_BYTES = 1 << 16


@dataclass(frozen=True)
class Rotation:
    """A rotation policy.

    Attributes
    ----------
    period
        Seconds per take (None: no limit in time).
    at_clock
        Cut on wall-clock multiples of `period` (Unix time, so ``1h`` cuts on
        the hour in every time zone whose offset is whole hours).
    size
        Most sample bytes a take holds (None: no limit in size); see
        `jackrec.take.Take.bytes` (for a lossy codec, the file's size).
    """

    period: float | None = None
    at_clock: bool = False
    size: int | None = None

    def first_cut(self, start_frame: int, start_unix: float, rate: int) -> Cut:
        """The timed cut that ends a take begun at `start_frame` (Unix time `start_unix`)."""
        if self.period is None:
            return Cut()
        if self.at_clock:
            return Cut(unix=(math.floor(start_unix / self.period) + 1) * self.period)
        return Cut(frame=start_frame + round(self.period * rate))

    def next_cut(self, cut: Cut, cut_frame: int, rate: int) -> Cut:
        """The timed cut of the take that begins at `cut_frame`.

        `cut` is the timed cut of the take before, with its frame resolved if
        it was the one that cut there.  A size cut before the clock's leaves
        the clock's where it was.
        """
        if self.period is None:
            return Cut()
        if self.at_clock:
            assert cut.unix is not None
            return Cut(unix=cut.unix + self.period) if cut.frame == cut_frame else cut
        return Cut(frame=cut_frame + round(self.period * rate))


@dataclass(frozen=True)
class Cut:
    """Where a take ends in time.

    At a stream frame, at a wall-clock time whose frame is worked out when
    the cut is near (`frame_at`), or nowhere (no time limit).
    """

    frame: int | None = None
    unix: float | None = None

    def frame_at(self, now_frame: int, now_unix: float, rate: int) -> int | None:
        """The cut's stream frame, given that stream frame `now_frame` is Unix time `now_unix`."""
        if self.frame is not None or self.unix is None:
            return self.frame
        return now_frame + round((self.unix - now_unix) * rate)


class Rotator:
    """Cuts a session's takes where a `Rotation` says, creating each next take.

    Call `step` often (at least every `ROTATE_LEAD_SECONDS` / 2).

    Parameters
    ----------
    rotation
        The policy (replace `rotation` to change it: it applies from the
        next take).
    new_take
        Creates the take that follows a cut, given the Unix time it begins.
    """

    def __init__(self, rotation: Rotation | None, new_take: Callable[[float], Take]) -> None:
        self.rotation = rotation
        self._new_take = new_take
        self._plan: tuple[Take, Cut] | None = None  # a take and its timed cut
        self._planned_under: Rotation | None = None
        self._handed_over: Take | None = None  # its cut is with the writer

    def step(self, session: Session, end: int | None = None) -> Path | None:
        """Hand the session its next cut if it is near; returns the new take's file.

        No cut is placed at or after stream frame `end` (the run's end, as
        ``--duration`` sets it).  A take that cannot be created is announced
        and the take goes on (tried again at the next step).
        """
        take, rotation = session.take, self.rotation
        if take is None or session.state != "recording" or not take.start or rotation is None:
            return None
        if take is self._handed_over:  # the next take begins at its cut
            return None
        rate = session.sample_rate
        if self._plan is None or self._plan[0] is not take or self._planned_under != rotation:
            # a take begun otherwise (a command), or new settings: planned afresh
            start_unix = take.start.get("unix_time", time.time())
            self._plan = (take, rotation.first_cut(take.start["stream_frame"], start_unix, rate))
            self._planned_under = rotation
        cut = self._plan[1]
        now_frame, now_unix = session.clock()
        timed = cut.frame_at(now_frame, now_unix, rate)
        frame = _earliest(timed, self._size_cut(session, take, rotation))
        if frame is None or frame - now_frame > ROTATE_LEAD_SECONDS * rate:
            return None
        if end is not None and frame >= end:
            return None
        # named for when it begins: on the clock, the very second of the cut
        when = now_unix + (frame - now_frame) / rate
        if cut.unix is not None and timed == frame:
            when = cut.unix
        try:
            following = self._new_take(when)
        except JackrecError as error:
            session.announce(events.RecorderError(f"cannot rotate: {error}"))
            return None
        session.rotate(following, at=frame)
        self._handed_over = take
        resolved = dataclasses.replace(cut, frame=frame) if timed == frame else cut
        self._plan = (following, rotation.next_cut(resolved, frame, rate))
        return following.path

    @staticmethod
    def _size_cut(session: Session, take: Take, rotation: Rotation) -> int | None:
        """The stream frame at which the take reaches `rotation.size`.

        From one snapshot of the writer (its position and the take's frames
        and bytes there): exact for PCM, whose bytes per frame are fixed;
        for a lossy codec an estimate from the bytes so far, made again at
        every step.
        """
        status = session.writer_status
        if rotation.size is None or status.take_frames == 0 or status.take != take.path:
            return None  # (a snapshot of the take before, just after a cut)
        per_frame = status.take_bytes / status.take_frames
        room = max(0, math.floor(rotation.size / per_frame) - status.take_frames)
        return status.position + room


def _earliest(*frames: int | None) -> int | None:
    known = [frame for frame in frames if frame is not None]
    return min(known, default=None)
