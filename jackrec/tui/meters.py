"""The meter bridge: every channel's level, drawn with Textual's line API.

One widget renders all meters as `Strip`s, one screen line at a time;
bars are horizontal and wrap into columns when the channels outnumber the
lines, so 1 to 128 channels fit an 80x24 terminal.  Levels are placed on
the IEC 268 scale; a bar shows RMS (solid) and peak (shaded) in green,
yellow and red zones, a tick marks the held peak, and a latched clip turns
the readout red until cleared (``c``, or a click on the meter).

Drawing is incremental: each tick, every meter is reduced to what can be
seen of it (bar ends to an eighth of a cell, the readout's text); only
lines where that changed are redrawn, from cached segments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from jackrec.levels import iec_deflection
from jackrec.tui.ballistics import Ballistics

#: Zone boundaries in dBFS: green below -18, yellow to -6, red above.
ZONES_DB = (-18.0, -6.0)
PARTIAL_BLOCKS = " ▏▎▍▌▋▊▉"
MIN_COLUMN = 8

#: What can be seen of one meter: armed, RMS and peak ends in eighths of a
#: cell, held peak in half cells (-1 for none), clip latch, readout text.
MeterKey = tuple[bool, int, int, int, bool, str]


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

    class ClipCleared(Message):
        """A meter was clicked: its clip latch was cleared."""

        def __init__(self, channel: int) -> None:
            super().__init__()
            self.channel = channel

    def __init__(self, channels: int, labels: list[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ballistics = Ballistics(channels)
        self._labels = labels
        self.armed = [True] * channels
        self._styles: dict[str, Style] = {}
        self._zones = iec_deflection(np.array(ZONES_DB))
        self._keys: list[MeterKey | None] = [None] * channels
        self._meters: dict[int, tuple[MeterKey, list[Segment]]] = {}
        self._layout: Layout | None = None
        self._bounds: dict[int, tuple[int, int]] = {}

    @property
    def channels(self) -> int:
        return len(self._labels)

    @property
    def labels(self) -> list[str]:
        return self._labels

    @labels.setter
    def labels(self, labels: list[str]) -> None:
        if labels != self._labels:
            self._labels, self._meters = labels, {}
            self.refresh()

    @property
    def meter_layout(self) -> Layout:
        return Layout.fit(self.channels, self.size.width, self.size.height)

    # ---- keeping up with the levels ----

    def show_levels(self) -> None:
        """Redraw the lines whose meters look different since the last call."""
        layout = self.meter_layout
        if layout != self._layout:
            self._layout, self._meters = layout, {}
            self._keys = [None] * self.channels
        dirty = set()
        for channel, key in enumerate(self._visible(layout)):
            if key != self._keys[channel]:
                self._keys[channel] = key
                dirty.add(channel % layout.rows)
        if len(dirty) > layout.rows // 2:
            self.refresh()  # one refresh is cheaper than many
        else:
            for row in dirty:
                self.refresh(Region(0, row, self.size.width, 1))

    def _visible(self, layout: Layout) -> list[MeterKey]:
        b, width = self.ballistics, layout.bar_width
        rms = (iec_deflection(b.rms_db) * width * 8).astype(int)
        peak = (iec_deflection(b.peak_db) * width * 8).astype(int)
        hold = np.where(b.hold_db > -100, (iec_deflection(b.hold_db) * width * 2).astype(int), -1)
        readouts = [
            (f"{p:5.1f}" if p > -100 else " -inf") if layout.readout_width else ""
            for p in b.peak_db
        ]
        return [
            (armed, int(r), int(p), int(h), bool(c), text)
            for armed, r, p, h, c, text in zip(
                self.armed, rms, peak, hold, b.clipped, readouts, strict=True
            )
        ]

    # ---- drawing ----

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles, self._meters = {}, {}

    def _style(self, name: str) -> Style:
        if not self._styles:
            self._styles = {
                c.removeprefix("meter--"): self.get_component_rich_style(c)
                for c in self.COMPONENT_CLASSES
            }
            self._styles["gap"] = self.rich_style  # the widget's own background
        return self._styles[name]

    def render_line(self, y: int) -> Strip:
        layout = self._layout or self.meter_layout
        width = self.size.width
        segments: list[Segment] = []
        for column in range(layout.columns):
            channel = column * layout.rows + y
            if y < layout.rows and channel < self.channels:
                segments += self._meter(channel, layout)
            else:
                segments.append(Segment(" " * layout.width, self._style("gap")))
        used = layout.columns * layout.width
        if used < width:
            segments.append(Segment(" " * (width - used), self._style("gap")))
            used = width
        # Every character drawn is one cell wide, so the length is known.
        return Strip(segments, used) if used == width else Strip(segments).crop(0, width)

    def _meter(self, channel: int, layout: Layout) -> list[Segment]:
        key = self._keys[channel] or self._visible(layout)[channel]
        cached = self._meters.get(channel)
        if cached is not None and cached[0] == key:
            return cached[1]
        armed, rms8, peak8, hold2, clipped, readout = key
        # without room for a readout, a latched clip shows on the number
        number_style = "number" if armed else "disarmed"
        if clipped and not layout.readout_width:
            number_style = "clip"
        number = f"{channel + 1:>{layout.number_width - 1}} "
        segments = [Segment(number, self._style(number_style))]
        if layout.label_width:
            label = self._labels[channel][: layout.label_width - 1]
            segments.append(Segment(f"{label:<{layout.label_width}}", self._style("label")))
        segments += self._bar(layout.bar_width, rms8, peak8, hold2, armed)
        if clipped and layout.readout_width:
            segments += [Segment(" ", self._style("gap")), Segment(" CLIP ", self._style("clip"))]
        elif readout:
            segments.append(Segment(f" {readout} ", self._style("readout")))
        segments.append(Segment(" ", self._style("gap")))
        self._meters[channel] = (key, segments)
        return segments

    def _bar(self, width: int, rms8: int, peak8: int, hold2: int, armed: bool) -> list[Segment]:
        """Solid to the RMS, shaded to the peak, a tick at the held peak."""
        style = self._style
        solid = min(rms8, peak8) // 8
        full, eighths = divmod(min(peak8, 8 * width), 8)
        # Runs of one character and look, as (end cell, character, style name).
        if armed:
            low, mid = self._zone_bounds(width)
            runs = [
                (min(solid, low), "█", "low"), (min(full, low), "█", "low-peak"),
                (min(solid, mid), "█", "mid"), (min(full, mid), "█", "mid-peak"),
                (min(solid, width), "█", "high"), (full, "█", "high-peak"),
            ]  # fmt: skip
            partial = _zone_of(full, low, mid) + "-peak"
        else:
            runs, partial = [(solid, "█", "disarmed"), (full, "█", "disarmed")], "disarmed"
        if eighths and full < width:
            runs.append((full + 1, PARTIAL_BLOCKS[eighths], partial))
        runs.append((width, "·", "empty"))
        hold = hold2 // 2 if 0 <= hold2 < 2 * width else -1
        segments: list[Segment] = []
        cell = 0
        for end, character, name in runs:
            if end <= cell:
                continue
            if cell <= hold < end:  # the held-peak tick splits this run
                if hold > cell:
                    segments.append(Segment(character * (hold - cell), style(name)))
                segments.append(Segment("▏" if hold2 % 2 == 0 else "▕", style("hold")))
                if end > hold + 1:
                    segments.append(Segment(character * (end - hold - 1), style(name)))
            else:
                segments.append(Segment(character * (end - cell), style(name)))
            cell = end
        return segments

    def _zone_bounds(self, width: int) -> tuple[int, int]:
        """The cells where yellow and red begin, in a bar `width` cells wide."""
        if width not in self._bounds:
            low, mid = (round(float(z) * width) for z in self._zones)
            self._bounds[width] = (low, mid)
        return self._bounds[width]

    # ---- the mouse ----

    def channel_at(self, x: int, y: int) -> int | None:
        layout = self.meter_layout
        channel = (x // layout.width) * layout.rows + y
        return channel if 0 <= y < layout.rows and channel < self.channels else None

    def on_click(self, event: events.Click) -> None:
        channel = self.channel_at(event.x, event.y)
        if channel is not None:
            self.ballistics.clear_clips(channel)
            self.post_message(self.ClipCleared(channel))
            self.show_levels()


def _zone_of(cell: int, low: int, mid: int) -> str:
    return "low" if cell < low else "mid" if cell < mid else "high"
