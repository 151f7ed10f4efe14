"""Following JACK's transport or freewheel: which states, and the takes' names.

The settings ``transport`` and ``freewheel`` (and ``jackrec record``'s
options of the same names) choose the states followed.  ``jackrec record``
then records a take per roll: the FILE given is the pattern, and the takes
are numbered after its stem (``take.wav`` gives ``take-001.wav``,
``take-002.wav``, ...), skipping numbers whose file exists, so nothing is
ever overwritten.  The console and the service name them by their template.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from jackrec.core.capture import FREEWHEEL, ROLLING

#: Digits of a take's number (more when there are more takes).
DIGITS = 3


def followed_state(transport: bool, freewheel: bool) -> int:
    """The `jackrec.core.capture` state bits the options ask to follow."""
    return (ROLLING if transport else 0) | (FREEWHEEL if freewheel else 0)


def describe(state: int) -> str:
    """What one take is, following `state`: ``roll``, ``freewheel run``, ... ("": none)."""
    if state == ROLLING | FREEWHEEL:
        return "roll in freewheel"
    return {ROLLING: "roll", FREEWHEEL: "freewheel run"}.get(state, "")


def take_path(pattern: Path, number: int) -> Path:
    """Take `number`'s file: the pattern's stem, a dash and the number, its suffix."""
    return pattern.with_name(f"{pattern.stem}-{number:0{DIGITS}}{pattern.suffix}")


def numbered_paths(pattern: Path) -> Callable[[], Path]:
    """A function giving the next free numbered path after `pattern` each call."""
    number = 0

    def next_path() -> Path:
        nonlocal number
        number += 1
        while take_path(pattern, number).exists():
            number += 1
        return take_path(pattern, number)

    return next_path
