"""The meter bridge: every channel's level, drawn with Textual's line API.

One widget renders all meters as `Strip`s, one screen line at a time;
bars are horizontal and wrap into columns when the channels outnumber the
lines, so 1 to 128 channels fit an 80x24 terminal.  Levels are placed on
the IEC 268 scale; a bar shows RMS (solid) and peak (shaded) in green,
yellow and red zones, a tick marks the held peak, and a latched clip turns
the readout red until cleared (``c``, or a click on the meter).

Drawing is incremental: each tick, every meter is reduced to what can be
seen of it (bar ends to an eighth of a cell, the readout's text); only
lines where that changed are drawn again.  The bank hands Textual its
finished lines itself (`MeterBank.render_lines`): it has no border,
padding or tint for Textual's per-line styling to add, and with every
meter moving (music), that styling cost as much as drawing the meters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.filter import LineFilter
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
class BarLooks:
    """What the bars of one width are drawn from: every run of every look,
    made once, so drawing a meter picks segments and builds none.

    ``zones``: the runs before the partial cell, in order, as (end cell,
    runs by length, whether they reach the peak (else the RMS)); a zone's
    solid runs come before its shaded ones.  ``partials``: by cell, the
    eighth blocks (runs of length 0 and 1) in that cell's zone's shading.
    """

    zones: list[tuple[int, list[Segment], bool]]
    partials: list[list[list[Segment]]]
    empty: list[Segment]
    ticks: tuple[Segment, Segment]  # the held peak in a cell's left or right half
    clip: list[Segment]  # the latch where the readout goes
    gap: Segment


@dataclass(frozen=True)
class Layout:
    """Where meters go: `columns` columns of `rows` lines, each `width` wide,
    in lines `line_width` wide."""

    rows: int
    columns: int
    width: int
    number_width: int
    label_width: int
    readout_width: int
    line_width: int

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
        return cls(rows, columns, column, number, label, readout, width)


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
        # what has been drawn, kept until it changes (`_forget`)
        self._meters: dict[int, tuple[MeterKey, list[Segment]]] = {}
        self._headings: dict[tuple[int, str], list[Segment]] = {}
        self._looks: dict[tuple[int, bool], BarLooks] = {}
        self._readouts: dict[str, Segment] = {}
        self._lines: dict[int, Strip] = {}  # finished lines, by y
        self._filters: list[LineFilter] = []  # the app's, as `_styles` has them
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
            self._labels = labels
            self._forget()
            self.refresh()

    @property
    def meter_layout(self) -> Layout:
        return Layout.fit(self.channels, self.size.width, self.size.height)

    # ---- keeping up with the levels ----

    def show_levels(self) -> None:
        """Redraw the lines whose meters look different since the last call."""
        layout = self._current_layout()
        dirty = set()
        for channel, key in enumerate(self._visible(layout)):
            if key != self._keys[channel]:
                self._keys[channel] = key
                dirty.add(channel % layout.rows)
        for row in dirty:
            self._lines.pop(row, None)
        if len(dirty) > layout.rows // 2:
            # one refresh is cheaper than many; of the meters' lines only, not
            # the blank ones below them
            top, bottom = min(dirty), max(dirty)
            self.refresh(Region(0, top, layout.line_width, bottom - top + 1))
        else:
            for row in dirty:
                self.refresh(Region(0, row, layout.line_width, 1))

    def _current_layout(self) -> Layout:
        """The layout for the widget's size; a new one forgets every drawn meter."""
        layout = self.meter_layout
        if layout != self._layout:
            self._layout = layout
            self._forget()
            self._keys = [None] * self.channels
        return layout

    def _visible(self, layout: Layout) -> list[MeterKey]:
        b, width = self.ballistics, layout.bar_width
        # RMS and peak in eighths of a cell, the held peak in half cells: in
        # one pass over the channels, as numpy's cost here is per call
        ends = iec_deflection(np.stack((b.rms_db, b.peak_db, b.hold_db)))
        rms8, peak8, hold2 = (ends * [[8 * width], [8 * width], [2 * width]]).astype(int)
        hold2[b.hold_db <= -100] = -1
        peaks = b.peak_db.tolist()
        if layout.readout_width:
            readouts = [f"{p:5.1f}" if p > -100 else " -inf" for p in peaks]
        else:
            readouts = [""] * len(peaks)
        return list(
            zip(self.armed, rms8.tolist(), peak8.tolist(), hold2.tolist(), b.clipped.tolist(),
                readouts, strict=True)
        )  # fmt: skip

    # ---- drawing ----

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._forget(styles=True)

    def _forget(self, styles: bool = False) -> None:
        """Draw everything again (the layout, the labels or the `styles` changed)."""
        self._meters, self._headings, self._lines = {}, {}, {}
        self._looks, self._readouts = {}, {}
        if styles:
            self._styles = {}

    def _style(self, name: str) -> Style:
        """The look called `name`, as the terminal gets it: through the app's
        line filters (ANSI colours to the theme's, NO_COLOR, dimming), which
        map each segment's style alone, so they are applied here once and
        not to every segment of every line drawn."""
        if not self._styles:
            styles = {
                c.removeprefix("meter--"): self.get_component_rich_style(c)
                for c in self.COMPONENT_CLASSES
            }
            styles["gap"] = self.rich_style  # the widget's own background
            background = self.background_colors[1]
            for line_filter in self._filters:
                styles = {
                    name: line_filter.apply([Segment(" ", style)], background)[0].style
                    or Style.null()
                    for name, style in styles.items()
                }
            self._styles = styles
        return self._styles[name]

    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines in `crop`, kept until a meter on them changes."""
        layout = self._current_layout()
        filters = list(self.get_line_filters())
        if filters != self._filters:  # the theme or the colour mode changed
            self._filters = filters
            self._forget(styles=True)
        strips = []
        for y in crop.line_range:
            strip = self._lines.get(y)
            if strip is None:
                strip = self._lines[y] = self.render_line(y)
            strips.append(strip)
        if crop.column_span != (0, layout.line_width):
            strips = [strip.crop(*crop.column_span) for strip in strips]
        return strips

    def render_line(self, y: int) -> Strip:
        layout = self._layout or self.meter_layout
        width = layout.line_width
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
        looks = self._bar_looks(layout.bar_width, armed)
        segments = self._heading(channel, layout, armed, clipped)
        self._draw_bar(segments, looks, layout.bar_width, rms8, peak8, hold2)
        if clipped and layout.readout_width:
            segments += looks.clip
        elif readout:
            shown = self._readouts.get(readout)
            if shown is None:
                shown = self._readouts[readout] = Segment(f" {readout} ", self._style("readout"))
            segments.append(shown)
        segments.append(looks.gap)
        self._meters[channel] = (key, segments)
        return segments

    def _heading(self, channel: int, layout: Layout, armed: bool, clipped: bool) -> list[Segment]:
        """A new list of the meter's number and label (made once per look)."""
        # without room for a readout, a latched clip shows on the number
        look = "number" if armed else "disarmed"
        if clipped and not layout.readout_width:
            look = "clip"
        heading = self._headings.get((channel, look))
        if heading is None:
            number = f"{channel + 1:>{layout.number_width - 1}} "
            heading = [Segment(number, self._style(look))]
            if layout.label_width:
                label = self._labels[channel][: layout.label_width - 1]
                heading.append(Segment(f"{label:<{layout.label_width}}", self._style("label")))
            self._headings[(channel, look)] = heading
        return list(heading)

    def _draw_bar(
        self, segments: list[Segment], looks: BarLooks, width: int, rms8: int, peak8: int,
        hold2: int,
    ) -> None:  # fmt: skip
        """Append the bar: solid to the RMS, shaded to the peak, a tick at the held peak."""
        solid = min(rms8, peak8) // 8
        full, eighths = divmod(min(peak8, 8 * width), 8)
        hold = hold2 // 2 if 0 <= hold2 < 2 * width else -1
        tick = looks.ticks[hold2 % 2]
        cell = 0
        for zone_end, runs, to_peak in looks.zones:
            end = min(full if to_peak else solid, zone_end)
            if end > cell:
                cell = _append_run(segments, runs, cell, end, hold, tick)
        if eighths and full < width:
            cell = _append_run(segments, looks.partials[full][eighths], cell, full + 1, hold, tick)
        if width > cell:
            _append_run(segments, looks.empty, cell, width, hold, tick)

    def _bar_looks(self, width: int, armed: bool) -> BarLooks:
        """Every piece a bar `width` cells wide is drawn from, made once."""
        looks = self._looks.get((width, armed))
        if looks is not None:
            return looks
        style = self._style

        def runs(character: str, name: str) -> list[Segment]:
            return [Segment(character * n, style(name)) for n in range(width + 1)]

        def eighths(name: str) -> list[list[Segment]]:
            return [
                [Segment("", style(name)), Segment(block, style(name))] for block in PARTIAL_BLOCKS
            ]

        if armed:
            low, mid = self._zone_bounds(width)
            names = [
                (low, "low", "low-peak"),
                (mid, "mid", "mid-peak"),
                (width, "high", "high-peak"),
            ]
        else:
            names = [(width, "disarmed", "disarmed")]
        zones: list[tuple[int, list[Segment], bool]] = []
        partials: list[list[list[Segment]]] = []
        start = 0
        for end, solid_name, shaded_name in names:
            zones += [(end, runs("█", solid_name), False), (end, runs("█", shaded_name), True)]
            partials += [eighths(shaded_name)] * (end - start)
            start = end
        looks = self._looks[(width, armed)] = BarLooks(
            zones=zones,
            partials=partials,
            empty=runs("·", "empty"),
            ticks=(Segment("▏", style("hold")), Segment("▕", style("hold"))),
            clip=[Segment(" ", style("gap")), Segment(" CLIP ", style("clip"))],
            gap=Segment(" ", style("gap")),
        )
        return looks

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


def _append_run(
    segments: list[Segment], runs: list[Segment], cell: int, end: int, hold: int, tick: Segment
) -> int:
    """Append cells `cell` to `end` drawn from `runs` (by length), split by
    the held-peak `tick` if `hold` falls among them; the cell after them."""
    if cell <= hold < end:
        if hold > cell:
            segments.append(runs[hold - cell])
        segments.append(tick)
        if end > hold + 1:
            segments.append(runs[end - hold - 1])
    else:
        segments.append(runs[end - cell])
    return end
