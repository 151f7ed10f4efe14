"""Durations and sizes as people write them."""

from __future__ import annotations

import pytest

from jackrec.units import parse_duration, parse_size


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("1:30", 90), ("1:02:03.5", 3723.5), ("15m", 900), ("1h", 3600),
     ("1h30m", 5400), ("2d", 172800), ("500ms", 0.5), (" 10S ", 10)],
)  # fmt: skip
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "1:70", "-5", "1e3", "h", "1x", "1:2:3:4"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [("1048576", 2**20), ("500G", 500 * 2**30), ("2 GiB", 2 * 2**30), ("10GB", 10 * 2**30),
     ("1.5t", round(1.5 * 2**40)), ("64k", 65536)],
)  # fmt: skip
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "big", "-1G", "5 PB", "G"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)
