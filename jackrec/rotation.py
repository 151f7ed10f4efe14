"""Where a long recording is cut into takes: sample-exact, by length or on the clock.

A rotation is a ``rotate`` command placed at a stream frame, so the takes of
one run joined are sample-identical to one long take.  By length, every take
is exactly `period` seconds of frames.  On the clock (``rotate_at_clock``),
cuts fall on wall-clock multiples of the period (on the hour, for ``1h``),
as broadcast loggers cut; the frame of each cut is worked out from JACK's
clock just before it, so a sample clock that drifts from the wall clock
never moves the cuts away from the hour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Rotation:
    """A rotation policy.

    Attributes
    ----------
    period
        Seconds per take.
    at_clock
        Cut on wall-clock multiples of `period` (Unix time, so ``1h`` cuts on
        the hour in every time zone whose offset is whole hours).
    """

    period: float
    at_clock: bool = False

    def first_cut(self, start_frame: int, start_unix: float, rate: int) -> Cut:
        """The cut that ends a take begun at `start_frame` (Unix time `start_unix`)."""
        if self.at_clock:
            return Cut(unix=(math.floor(start_unix / self.period) + 1) * self.period)
        return Cut(frame=start_frame + round(self.period * rate))

    def next_cut(self, cut: Cut, rate: int) -> Cut:
        """The cut after `cut`, whose frame is known by now."""
        if self.at_clock:
            assert cut.unix is not None
            return Cut(unix=cut.unix + self.period)
        assert cut.frame is not None
        return Cut(frame=cut.frame + round(self.period * rate))


@dataclass(frozen=True)
class Cut:
    """Where a take ends.

    At a stream frame, or at a wall-clock time whose frame is worked out
    when the cut is near (`frame_at`).
    """

    frame: int | None = None
    unix: float | None = None

    def frame_at(self, now_frame: int, now_unix: float, rate: int) -> int:
        """The cut's stream frame, given that stream frame `now_frame` is Unix time `now_unix`."""
        if self.frame is not None:
            return self.frame
        assert self.unix is not None
        return now_frame + round((self.unix - now_unix) * rate)

    def seconds_from(self, now_frame: int, now_unix: float, rate: int) -> float:
        """How long until the cut."""
        return (self.frame_at(now_frame, now_unix, rate) - now_frame) / rate
