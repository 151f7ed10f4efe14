"""Textual's own cost of a console's redraws: the floor under ``bench.console``.

A one-widget app whose first `lines` lines all change every frame, 30 times
a second (the console's rate), from runs made in advance (`segments` to a
line): what Textual and the terminal cost for that many changing lines
when drawing them costs nothing.  Each frame's lines are new strips, as
the console's are (a strip keeps what it rendered to the terminal).  It writes its PID to a
file, as `bench.tui_runner` does.

usage: python -m bench.textual_floor LINES SEGMENTS PID_FILE
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from jackrec.tui.app import FRAME_SECONDS

#: Frames drawn in advance, shown in turn: every line differs from the last frame's.
FRAMES = 30
COLOURS = [Style(color=f"#{(i * 37) % 256:02x}{(i * 91) % 256:02x}80") for i in range(8)]


def frame_lines(frame: int, lines: int, width: int, segments: int) -> list[list[Segment]]:
    """Frame `frame`: `lines` lines of `segments` runs of one character and colour."""
    run = width // segments
    lengths = [run] * (segments - 1) + [width - run * (segments - 1)]
    return [
        [
            Segment(("█" if (s + frame + y) % 3 else "·") * n, COLOURS[(s + frame) % len(COLOURS)])
            for s, n in enumerate(lengths)
        ]
        for y in range(lines)
    ]


class ChangingLines(Widget):
    def __init__(self, lines: int, segments: int) -> None:
        super().__init__()
        self.lines, self.segments = lines, segments
        self.frame = 0
        self.frames: list[list[list[Segment]]] = []
        self.shown: list[Strip] = []

    def on_resize(self) -> None:
        width = self.size.width
        self.frames = [frame_lines(f, self.lines, width, self.segments) for f in range(FRAMES)]

    def render_lines(self, crop: Region) -> list[Strip]:
        blank = Strip.blank(self.size.width)
        return [self.shown[y] if y < len(self.shown) else blank for y in crop.line_range]

    def next_frame(self) -> None:
        self.frame += 1
        if self.frames:
            width = self.size.width
            lines = self.frames[self.frame % FRAMES]
            self.shown = [Strip(segments, width) for segments in lines]
            self.refresh(Region(0, 0, width, self.lines))


class Floor(App[None]):
    CSS = "ChangingLines { height: 1fr; }"

    def __init__(self, lines: int, segments: int, pid_file: Path) -> None:
        super().__init__()
        self.widget = ChangingLines(lines, segments)
        self.pid_file = pid_file

    def compose(self) -> ComposeResult:
        yield self.widget

    def on_mount(self) -> None:
        self.set_interval(FRAME_SECONDS, self.widget.next_frame)
        gc.freeze()  # as the console does
        self.pid_file.write_text(str(os.getpid()))


def main() -> int:
    lines, segments, pid_file = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    Floor(lines, segments, pid_file).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
