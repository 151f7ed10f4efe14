"""The transport bar: what is being recorded, and how the machine copes."""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from textual.strip import Strip
from textual.widget import Widget

from jackrec.session import SessionStatus
from jackrec.status import format_clock

STATES = {
    "stopped": ("■ STOPPED", "transport--stopped"),
    "armed": ("◉ ARMED", "transport--armed"),
    "recording": ("● REC", "transport--recording"),
    "paused": ("❚❚ PAUSED", "transport--paused"),
    # a service's, seen by a console attached to it
    "waiting for server": ("… NO JACK", "transport--stopped"),
    "waiting for disk space": ("■ DISK FULL", "transport--armed"),
}


def size_text(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError


def time_left(status: SessionStatus, bytes_per_second: float) -> str:
    """Disk free, and how long it lasts at the take's data rate."""
    if status.disk_free is None:
        return "disk ?"
    free = f"disk {size_text(status.disk_free)} free"
    if bytes_per_second <= 0:
        return free
    hours, rest = divmod(int(status.disk_free / bytes_per_second), 3600)
    return f"{free} ({hours}h{rest // 60:02d}m left)"


class TransportBar(Widget):
    """Two lines, redrawn only when their text changes.

    Drawn with the line API rather than as a `Static` or Rich `Text`:
    updating a Static asks for a new layout of the whole screen, and
    rendering Text cost a millisecond, five times a second.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "transport--stopped",
        "transport--armed",
        "transport--recording",
        "transport--paused",
        "transport--warning",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown = ""
        self._lines: list[list[Segment]] = []

    @property
    def text(self) -> str:
        """What the bar shows, as plain text."""
        return "\n".join("".join(segment.text for segment in line) for line in self._lines)

    def render_line(self, y: int) -> Strip:
        segments = self._lines[y] if y < len(self._lines) else []
        return Strip(segments).adjust_cell_length(self.size.width, self.rich_style)

    def show(
        self, status: SessionStatus, armed: int, channels: int, bytes_per_second: float
    ) -> None:
        """Show `status`, with `armed` of `channels` and a take's data rate."""
        label, style_class = STATES.get(status.state, (status.state, "transport--stopped"))
        if status.state == "armed":
            if status.trigger_dbfs is not None:
                label += f" ≥{status.trigger_dbfs:.0f} dB"
            if status.following:
                label += f" per {status.following}"
            if status.preroll_fill or not (status.trigger_dbfs is not None or status.following):
                label += f" {status.preroll_fill:4.0%}"
        seconds = status.take_frames / status.sample_rate if status.sample_rate else 0.0
        width = self.size.width or 80
        first = _fit(
            width - len(label) - 3,
            status.take.name if status.take else "no take",
            format_clock(seconds),
            f"{status.take_frames:,} fr",
            size_text(status.take_bytes),
            time_left(status, bytes_per_second),
        )
        second = _fit(
            width - 1,
            f"ring {status.ring_fill:5.1%}",
            f"xruns {status.xruns}",
            f"lost {status.frames_lost}",
            f"DSP {status.dsp_load:4.1f}%",
            f"{status.sample_rate / 1000:g} kHz / {status.period}" if status.sample_rate else "",
            f"armed {armed}/{channels}",
        )
        key = f"{label}{first}\n{second}"
        if key == self._shown:
            return
        self._shown = key
        plain = self.rich_style
        warning = self.get_component_rich_style("transport--warning")
        self._lines = [
            [Segment(f" {label} ", self.get_component_rich_style(style_class)),
             Segment(f" {first}", plain)],
            [Segment(f" {second}", plain + warning if status.frames_lost else plain)],
        ]  # fmt: skip
        self.refresh()


def _fit(width: int, *parts: str) -> str:
    """As many of `parts` as fit in `width`, in order, two spaces apart (empty ones left out)."""
    line = ""
    for part in filter(None, parts):
        candidate = f"{line}  {part}" if line else part
        if len(candidate) > width:
            break
        line = candidate
    return line
