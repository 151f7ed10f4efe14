"""Meter ballistics, the IEC scale and the meter layout, without a terminal."""

from __future__ import annotations

import numpy as np
import pytest

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
