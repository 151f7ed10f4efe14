"""Meter ballistics, the IEC scale, the meter layout and the bars, without a terminal."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.segment import Segment
from rich.style import Style

from jackrec.core.capture import MeterReading
from jackrec.levels import iec_deflection
from jackrec.tui.ballistics import HOLD_SECONDS, PEAK_FALL_DB_PER_S, Ballistics
from jackrec.tui.meters import Layout


def reading(peak: float, clips: int = 0, frames: int = 1600) -> MeterReading:
    return MeterReading(
        peaks=np.array([peak], np.float32),
        mean_squares=np.array([peak**2 / 2]),
        frames=np.array([frames], np.uint32),
        clips=np.array([clips], np.uint64),
    )


def test_iec_scale_breakpoints() -> None:
    db = [-np.inf, -80, -70, -60, -50, -40, -30, -20, -10, 0, 6, np.nan]
    expected = [0, 0, 0, 0.025, 0.075, 0.15, 0.30, 0.50, 0.75, 1.0, 1.0, 0]
    assert iec_deflection(db) == pytest.approx(expected)


def test_peak_rises_at_once_and_falls_at_its_rate() -> None:
    b = Ballistics(1)
    b.update(reading(1.0), 0.03)
    assert b.peak_db[0] == pytest.approx(0.0)
    b.update(reading(0.0), 0.5)
    assert b.peak_db[0] == pytest.approx(-0.5 * PEAK_FALL_DB_PER_S)


def test_hold_stays_then_falls() -> None:
    b = Ballistics(1)
    b.update(reading(0.5), 0.03)
    held = b.hold_db[0]
    b.update(reading(0.0), HOLD_SECONDS - 0.1)
    assert b.hold_db[0] == held
    b.update(reading(0.0), 0.5)
    assert b.hold_db[0] < held


def test_rms_of_a_sine_settles_3_db_below_its_peak() -> None:
    b = Ballistics(1)
    for _ in range(100):
        b.update(reading(1.0), 1 / 30)
    assert b.rms_db[0] == pytest.approx(-3.01, abs=0.01)


def test_clip_latches_until_cleared() -> None:
    b = Ballistics(1)
    b.update(reading(0.5, clips=0), 0.03)
    assert not b.clipped[0]
    b.update(reading(1.0, clips=2), 0.03)
    b.update(reading(0.1, clips=2), 0.03)
    assert b.clipped[0]
    b.clear_clips(0)
    b.update(reading(0.1, clips=2), 0.03)  # no new clips: stays clear
    assert not b.clipped[0]


@pytest.mark.parametrize(
    ("channels", "size", "columns", "readout"),
    [(2, (80, 16), 1, True), (16, (80, 16), 1, True), (64, (120, 30), 3, True),
     (128, (80, 16), 8, False)],
)  # fmt: skip
def test_layout_wraps_into_columns(
    channels: int, size: tuple[int, int], columns: int, readout: bool
) -> None:
    layout = Layout.fit(channels, *size)
    assert layout.columns == columns
    assert layout.rows * layout.columns >= channels
    assert layout.columns * layout.width <= size[0]
    assert bool(layout.readout_width) == readout
    assert layout.bar_width >= 4


@pytest.mark.parametrize("channels", [1, 2, 16, 64, 128])
@pytest.mark.parametrize("size", [(80, 16), (120, 30), (200, 50)])
def test_every_meter_line_is_exactly_as_wide_as_the_widget(
    channels: int, size: tuple[int, int]
) -> None:
    """render_line declares its cell length instead of measuring it."""
    from jackrec.tui.meters import MeterBank

    bank = MeterBank(channels, [f"source_{i}" for i in range(channels)])
    bank._styles = dict.fromkeys(
        [c.removeprefix("meter--") for c in MeterBank.COMPONENT_CLASSES] + ["gap"], None
    )  # type: ignore[assignment]
    layout = Layout.fit(channels, *size)
    bank.ballistics.clipped[0] = True
    for channel in range(channels):
        width = sum(len(segment.text) for segment in bank._meter(channel, layout))
        assert width == layout.width


@given(
    width=st.integers(1, 140),
    rms=st.floats(0, 1),
    peak=st.floats(0, 1),
    hold=st.one_of(st.just(-1.0), st.floats(0, 1)),
    armed=st.booleans(),
)
def test_a_bar_drawn_from_its_made_pieces_is_the_bar_cell_by_cell(
    width: int, rms: float, peak: float, hold: float, armed: bool
) -> None:
    """The bar, drawn from pieces made once, against each cell's look worked out alone."""
    from jackrec.tui.meters import PARTIAL_BLOCKS, MeterBank

    bank = MeterBank(1, ["source"])
    names = [c.removeprefix("meter--") for c in MeterBank.COMPONENT_CLASSES] + ["gap"]
    bank._styles = {name: Style(color=f"#{i:02x}0000") for i, name in enumerate(names)}
    rms8, peak8 = int(rms * 8 * width), int(peak * 8 * width)
    hold2 = -1 if hold < 0 else min(int(hold * 2 * width), 2 * width - 1)
    segments: list[Segment] = []
    bank._draw_bar(segments, bank._bar_looks(width, armed), width, rms8, peak8, hold2)
    cells = [(ch, seg.style) for seg in segments for ch in seg.text]
    assert all(seg.text for seg in segments)  # Textual refuses empty segments

    low, mid = bank._zone_bounds(width)
    solid, (full, eighths) = min(rms8, peak8) // 8, divmod(min(peak8, 8 * width), 8)

    def zone(cell: int) -> str:
        return "disarmed" if not armed else "low" if cell < low else "mid" if cell < mid else "high"

    def shaded(cell: int) -> str:
        return "disarmed" if not armed else f"{zone(cell)}-peak"

    expected = []
    for cell in range(width):
        if cell == hold2 // 2:
            expected.append(("▏▕"[hold2 % 2], "hold"))
        elif cell < solid:
            expected.append(("█", zone(cell)))
        elif cell < full:
            expected.append(("█", shaded(cell)))
        elif cell == full and eighths:
            expected.append((PARTIAL_BLOCKS[eighths], shaded(cell)))
        else:
            expected.append(("·", "empty"))
    assert cells == [(ch, bank._styles[name]) for ch, name in expected]
