"""``jackrec record``'s time machine: armed, it records take after take.

With ``--preroll`` or ``--trigger``, ``jackrec record`` arms instead of
recording at once: it keeps the last ``--preroll`` seconds of the stream
and waits.  A take begins at the first frame that reaches ``--trigger``, or
at the frame SIGUSR1 arrives, less the pre-roll in either case.  It ends on
SIGUSR2, after ``--duration`` (the pre-roll included, so every file is that
long), or once ``--trigger-hold`` passed with nothing at the release level;
then the recorder listens again, from the frame after the take.  SIGINT,
SIGTERM and SIGHUP end the take being recorded and the command; so does the
end of the ``--takes``-th take.

The takes are named after FILE and numbered (`jackrec.naming.RunNames`):
``take.wav`` gives ``take-001.wav``, ``take-002.wav``, ...; a number whose
file or sidecar exists is skipped, so nothing is ever overwritten.  With
rotation a take is cut into several files; they count as one take for
``--takes``.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass

from jackrec.naming import RunTakes
from jackrec.session import Session
from jackrec.signals import STOP_SIGNALS

#: How often the loop looks at the session when no signal comes.
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Plan:
    """What to arm, from the command line (see the module docstring).

    Attributes
    ----------
    preroll_seconds
        Kept before every take.
    trigger_dbfs, hold_seconds, release_dbfs
        The level trigger (None: takes begin on SIGUSR1 only), its hold
        (None: its takes end on SIGUSR2, ``--duration`` or exit) and its
        release level (None: 6 dB below the trigger).
    take_seconds
        Each take's length (None: no limit).
    takes
        Takes to record before exiting (None: until a stop signal).
    """

    preroll_seconds: float
    trigger_dbfs: float | None = None
    hold_seconds: float | None = None
    release_dbfs: float | None = None
    take_seconds: float | None = None
    takes: int | None = None


def run(
    session: Session,
    plan: Plan,
    takes: RunTakes,
    next_signal: Callable[[float], signal.Signals | None],
    tick: Callable[[], None],
) -> None:
    """Arm `session` and record takes until a stop signal, `plan.takes` or the server's end.

    `next_signal` waits for the stop and cue signals (`jackrec.signals`);
    `tick` (the status line, rotation) is called between them.
    """
    session.arm(
        plan.preroll_seconds, plan.trigger_dbfs, takes.create,
        hold_seconds=plan.hold_seconds, release_dbfs=plan.release_dbfs, rearm=True,
        take_seconds=plan.take_seconds, takes=plan.takes,
    )  # fmt: skip
    while not session.shutdown.is_set():
        received = next_signal(POLL_SECONDS)
        if received in STOP_SIGNALS:
            return
        files = takes.begun()
        # the files a rotation began continue a take: they are not takes
        begun = [t for t in files if t.start.get("started_by") != "rotation"]
        if plan.takes is not None and len(begun) >= plan.takes and all(t.ended_by for t in files):
            return
        if received == signal.SIGUSR1 and not _recording(session):
            if plan.takes is None or len(begun) < plan.takes:
                session.record(takes.create(), started_by="signal")
        elif received == signal.SIGUSR2 and _recording(session):
            session.stop("signal")
        tick()


def _recording(session: Session) -> bool:
    return session.state in ("recording", "paused")
