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

The takes are named after FILE and numbered: ``take.wav`` gives
``take-001.wav``, ``take-002.wav``, ...; a number whose file or sidecar
exists is skipped, so nothing is ever overwritten.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jackrec.session import Session
from jackrec.sidecar import sidecar_path
from jackrec.signals import STOP_SIGNALS
from jackrec.take import Take

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


def numbered(path: Path, number: int) -> Path:
    """Take `number` of the series `path` names: ``take.wav`` -> ``take-003.wav``."""
    return path.with_name(f"{path.stem}-{number:03}{path.suffix}")


class Numbering:
    """Creates the numbered takes, and keeps them (called in any thread).

    A trigger creates its take in the disk writer's thread, a signal in the
    main thread.
    """

    def __init__(self, path: Path, create: Callable[[Path], Take]) -> None:
        self._path = path
        self._create = create
        self._lock = threading.Lock()
        self._number = 0
        self._made: list[Take] = []

    def create(self) -> Take:
        with self._lock:
            number = self._number + 1
            while os.path.lexists(numbered(self._path, number)) or os.path.lexists(
                sidecar_path(numbered(self._path, number))
            ):
                number += 1
            take = self._create(numbered(self._path, number))
            self._number = number
            self._made.append(take)
            return take

    def begun(self) -> list[Take]:
        """The takes that began (not those made and then discarded), in order."""
        with self._lock:
            return [take for take in self._made if take.start]


def run(
    session: Session,
    plan: Plan,
    numbering: Numbering,
    next_signal: Callable[[float], signal.Signals | None],
    show_status: Callable[[], None],
) -> None:
    """Arm `session` and record takes until a stop signal, `plan.takes` or the server's end.

    `next_signal` waits for the stop and cue signals (`jackrec.signals`);
    `show_status` is called between them.
    """
    session.arm(
        plan.preroll_seconds, plan.trigger_dbfs, numbering.create,
        hold_seconds=plan.hold_seconds, release_dbfs=plan.release_dbfs, rearm=True,
        take_seconds=plan.take_seconds, takes=plan.takes,
    )  # fmt: skip
    while not session.shutdown.is_set():
        received = next_signal(POLL_SECONDS)
        if received in STOP_SIGNALS:
            return
        begun = numbering.begun()
        if plan.takes is not None and sum(1 for t in begun if t.ended_by) >= plan.takes:
            return
        recording = session.state in ("recording", "paused")
        if received == signal.SIGUSR1 and not recording:
            if plan.takes is None or len(begun) < plan.takes:
                session.record(numbering.create(), started_by="signal")
        elif received == signal.SIGUSR2 and recording:
            session.stop("signal")
        show_status()
