"""Screenshots of the console at 2, 16 and 64 channels, and of the patch panel.

Update them with ``pytest --snapshot-update`` after a deliberate change,
and look at the SVGs in ``__snapshots__`` before committing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from jackrec.tui.app import ConsoleApp
from tests.tui.frozen import FrozenRecorder

Compare = Callable[..., bool]


def steady_clock() -> Callable[[], float]:
    """A clock that advances a second per look: meter ballistics settle at once."""
    counter = itertools.count()
    return lambda: float(next(counter))


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause(0.5)


@pytest.mark.parametrize(("channels", "size"), [(2, (80, 24)), (16, (80, 24)), (64, (120, 40))])
def test_console(snap_compare: Compare, channels: int, size: tuple[int, int]) -> None:
    app = ConsoleApp(FrozenRecorder(channels), now=steady_clock())
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_console_with_128_channels_fits_80x24(snap_compare: Compare) -> None:
    app = ConsoleApp(FrozenRecorder(128), now=steady_clock())
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


def test_help(snap_compare: Compare) -> None:
    app = ConsoleApp(FrozenRecorder(8, "stopped"), now=steady_clock())
    assert snap_compare(app, terminal_size=(80, 24), press=["question_mark"], run_before=settle)


def test_console_in_the_light_theme(snap_compare: Compare) -> None:
    app = ConsoleApp(FrozenRecorder(16), now=steady_clock())

    async def light(pilot: Pilot[Any]) -> None:
        app.theme = "textual-light"
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=light)
