"""What ``jackrec record`` prints: the live status line and the summary."""

from __future__ import annotations

import shutil
import sys
from typing import TextIO

from jackrec.levels import format_dbfs
from jackrec.recorder import Progress, Summary

#: Terminal control: carriage return, then erase to the end of the line.
CLEAR_LINE = "\r\x1b[K"


def format_clock(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours:02d}:{minutes:02d}:{secs:04.1f}"


def status_text(progress: Progress, width: int) -> str:
    """One line: time, ring fill, xruns, lost frames, then levels.

    Levels of every channel when they fit, else of the loudest ones.
    """
    head = (
        f"REC {format_clock(progress.seconds)}  ring {progress.ring_fill:5.1%}  "
        f"xruns {progress.xruns}  lost {progress.frames_lost}  |"
    )
    levels = [
        (peak, f" {channel + 1}:{format_dbfs(peak)}")
        for channel, peak in enumerate(progress.peaks_dbfs)
    ]
    room = width - len(head) - 1
    if sum(len(text) for _, text in levels) > room:
        head = head[:-1] + "| loudest"
        room -= len(" loudest")
        levels.sort(key=lambda level: level[0], reverse=True)
    line = head
    for _, text in levels:
        if len(line) + len(text) > width - 1:
            break
        line += text
    return line[: width - 1]


class StatusLine:
    """A line on a terminal, redrawn in place; silent when not a terminal."""

    def __init__(self, stream: TextIO = sys.stderr, *, enabled: bool = True) -> None:
        self.stream = stream
        self.enabled = enabled and stream.isatty()
        self._shown = False

    def show(self, progress: Progress) -> None:
        if not self.enabled:
            return
        width = shutil.get_terminal_size((80, 24)).columns
        self.stream.write(CLEAR_LINE + status_text(progress, width))
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()
            self._shown = False


def summary_text(summary: Summary) -> str:
    """The human summary printed when a recording ends."""
    peaks = "  ".join(
        f"{channel + 1}:{format_dbfs(peak)}" for channel, peak in enumerate(summary.peaks_dbfs)
    )
    lines = [
        f"{summary.path}: {summary.file_format}, {summary.channels} ch, {summary.sample_rate} Hz",
        f"  {summary.frames} frames ({format_clock(summary.seconds)}), ended by {summary.ended_by}",
        f"  lost frames {summary.frames_lost} in {len(summary.gaps)} gap(s), xruns {summary.xruns}",
        f"  peak dBFS  {peaks}",
        f"  callback max {summary.callback_ns_max / 1000:.1f} us, "
        f"p99.9 <= {summary.callback_ns_p999 / 1000:.1f} us",
    ]
    for gap in summary.gaps:
        lines.append(f"  gap: {gap['frames']} frames of silence at file frame {gap['file_frame']}")
    return "\n".join(lines)
