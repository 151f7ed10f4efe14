"""Durations and sizes as people write them, for options and settings.

Durations: ``90``, ``90.5``, ``1:30``, ``1:02:03.5`` (clock style: minutes
and seconds after a colon below 60), or with units: ``15m``, ``1h``,
``1h30m``, ``2d``, ``500ms``.  Sizes: ``500G``, ``2 GiB``, ``10GB``,
``1048576`` (bytes); K, M, G, T are powers of 1024 (as ``df -h`` shows
them), with or without ``i`` and ``B``.
"""

from __future__ import annotations

import re

DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
SIZE_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}

CLOCK = re.compile(r"(\d+:){0,2}\d+(\.\d+)?")
WITH_UNITS = re.compile(r"((\d+(\.\d+)?)(ms|s|m|h|d))+")
SIZE = re.compile(r"(\d+(\.\d+)?)\s*([kmgt]?)(i?b)?")


def parse_duration(text: str) -> float:
    """Seconds in `text`.

    Raises
    ------
    ValueError
        With a one-line reason.
    """
    value = text.strip().lower()
    problem = f"'{text}' is not a duration (e.g. 90, 1:30, 1:02:03, 15m, 1h)"
    if CLOCK.fullmatch(value):
        first, *rest = value.split(":")
        seconds = float(first)
        for part in rest:
            if float(part) >= 60:
                raise ValueError(f"{problem}: '{part}' is 60 or more")
            seconds = seconds * 60 + float(part)
        return seconds
    if WITH_UNITS.fullmatch(value):
        return sum(
            float(number) * DURATION_UNITS[unit]
            for number, _, unit in re.findall(r"(\d+(\.\d+)?)(ms|s|m|h|d)", value)
        )
    raise ValueError(problem)


def parse_size(text: str) -> int:
    """Bytes in `text`.

    Raises
    ------
    ValueError
        With a one-line reason.
    """
    match = SIZE.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"'{text}' is not a size (e.g. 500G, 2 GiB, 1048576)")
    return round(float(match[1]) * SIZE_UNITS[match[3]])
