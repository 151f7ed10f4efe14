"""The meter bridge: every channel's level, drawn with Textual's line API.

One widget renders all meters as `Strip`s, one screen line at a time;
bars are horizontal and wrap into columns when the channels outnumber the
lines, so 1 to 128 channels fit an 80x24 terminal.  Levels are placed on
the IEC 268 scale; a bar shows RMS (solid) and peak (shaded) in green,
yellow and red zones, a tick marks the held peak, and a latched clip turns
the readout red until cleared (``c``, or a click on the meter).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from jackrec.levels import iec_deflection
from jackrec.tui.ballistics import Ballistics

#: Zone boundaries in dBFS: green below -18, yellow to -6, red above.
ZONES_DB = (-18.0, -6.0)
PARTIAL_BLOCKS = " ▏▎▍▌▋▊▉"
MIN_COLUMN = 8


@dataclass(frozen=True)
class Layout:
    """Where meters go: `columns` columns of `rows` lines, each `width` wide."""

    rows: int
    columns: int
    width: int
    number_width: int
    label_width: int
    readout_width: int

    @property
    def bar_width(self) -> int:
        return max(1, self.width - self.number_width - self.label_width - self.readout_width - 1)

    @classmethod
    def fit(cls, channels: int, width: int, height: int) -> Layout:
        """One line per meter, in as many columns as the height requires."""
        rows = max(1, min(channels, height))
        columns = math.ceil(channels / rows)
        column = max(MIN_COLUMN, width // columns)
        number = len(str(channels)) + 1
        label = 13 if column >= 44 else 0
        readout = 7 if column >= 20 else 0
        return cls(rows, columns, column, number, label, readout)


class MeterBank(Widget):
    """Meters for every channel of the session."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "meter--low",
        "meter--mid",
        "meter--high",
        "meter--low-peak",
        "meter--mid-peak",
        "meter--high-peak",
        "meter--empty",
        "meter--hold",
        "meter--clip",
        "meter--number",
        "meter--label",
        "meter--readout",
        "meter--disarmed",
    }

    DEFAULT_CSS = """
    MeterBank { height: 1fr; }
    """

    class ClipCleared(Message):
        """A meter was clicked: its clip latch was cleared."""

        def __init__(self, channel: int) -> None:
            super().__init__()
            self.channel = channel

    def __init__(self, channels: int, labels: list[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ballistics = Ballistics(channels)
        self.labels = labels
        self.armed = [True] * channels
        self._styles: dict[str, Style] = {}
        self._zones = iec_deflection(np.array(ZONES_DB))
        self._zone_cells: dict[int, list[str]] = {}

    @property
    def channels(self) -> int:
        return len(self.labels)

    @property
    def meter_layout(self) -> Layout:
        return Layout.fit(self.channels, self.size.width, self.size.height)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = {}

    def _style(self, name: str) -> Style:
        if not self._styles:
            self._styles = {
                c.removeprefix("meter--"): self.get_component_rich_style(c)
                for c in self.COMPONENT_CLASSES
            }
        return self._styles[name]

    def channel_at(self, x: int, y: int) -> int | None:
        layout = self.meter_layout
        channel = (x // layout.width) * layout.rows + y
        return channel if 0 <= y < layout.rows and channel < self.channels else None

    def on_click(self, event: events.Click) -> None:
        channel = self.channel_at(event.x, event.y)
        if channel is not None:
            self.ballistics.clear_clips(channel)
            self.post_message(self.ClipCleared(channel))
            self.refresh()

    def render_line(self, y: int) -> Strip:
        layout = self.meter_layout
        segments: list[Segment] = []
        for column in range(layout.columns):
            channel = column * layout.rows + y
            if y < layout.rows and channel < self.channels:
                segments += self._meter(channel, layout)
            else:
                segments.append(Segment(" " * layout.width))
        return Strip(segments).crop(0, self.size.width)

    def _meter(self, channel: int, layout: Layout) -> list[Segment]:
        b = self.ballistics
        armed = self.armed[channel]
        number_style = self._style("number" if armed else "disarmed")
        segments = [Segment(f"{channel + 1:>{layout.number_width - 1}} ", number_style)]
        if layout.label_width:
            label = self.labels[channel][: layout.label_width - 1]
            segments.append(Segment(f"{label:<{layout.label_width}}", self._style("label")))
        segments += self._bar(
            layout.bar_width, b.rms_db[channel], b.peak_db[channel], b.hold_db[channel], armed
        )
        if layout.readout_width:
            if b.clipped[channel]:
                segments += [Segment(" "), Segment(" CLIP ", self._style("clip"))]
            else:
                peak = b.peak_db[channel]
                text = f" {peak:5.1f} " if peak > -100 else "  -inf "
                segments.append(Segment(text, self._style("readout")))
        segments.append(Segment(" "))
        return segments

    def _bar(
        self, width: int, rms_db: float, peak_db: float, hold_db: float, armed: bool
    ) -> list[Segment]:
        """One bar: solid to the RMS, shaded to the peak, a tick at the hold."""
        rms, peak, hold = (float(v) * width for v in iec_deflection([rms_db, peak_db, hold_db]))
        zones = self._zones_of(width) if armed else ["disarmed"] * width
        shade = "-peak" if armed else ""
        cells: list[tuple[str, str]] = []
        for cell, zone in enumerate(zones):
            if cell + 1 <= rms:
                cells.append(("█", zone))
            elif cell + 1 <= peak:
                cells.append(("█", zone + shade))
            elif cell < peak:
                cells.append((PARTIAL_BLOCKS[int((peak - cell) * 8)], zone + shade))
            else:
                cells.append(("·", "empty"))
        if hold_db > -100 and 0 < hold <= width:
            cells[min(width - 1, int(hold))] = ("▏" if hold % 1 < 0.5 else "▕", "hold")
        return _runs(cells, self._style)

    def _zones_of(self, width: int) -> list[str]:
        """The zone of each cell of a bar `width` cells wide (cached)."""
        if width not in self._zone_cells:
            low, mid = (round(float(z) * width) for z in self._zones)
            self._zone_cells[width] = [
                "low" if cell < low else "mid" if cell < mid else "high" for cell in range(width)
            ]
        return self._zone_cells[width]


def _runs(cells: list[tuple[str, str]], style: Callable[[str], Style]) -> list[Segment]:
    """Merge neighbouring cells of one style into one segment."""
    segments: list[Segment] = []
    text, current = "", ""
    for char, name in cells:
        if name != current and text:
            segments.append(Segment(text, style(current)))
            text = ""
        text += char
        current = name
    if text:
        segments.append(Segment(text, style(current)))
    return segments
