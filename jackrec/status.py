"""What ``jackrec record`` prints: the live status line and the summary."""

from __future__ import annotations

import math
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from jackrec.core.capture import CaptureStats
from jackrec.levels import format_dbfs
from jackrec.session import Session, SessionStatus
from jackrec.take import Take

#: Terminal control: carriage return, then erase to the end of the line.
CLEAR_LINE = "\r\x1b[K"


def format_clock(seconds: float, decimals: int = 1) -> str:
    """``HH:MM:SS.s`` (with `decimals` digits after the seconds)."""
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours:02d}:{minutes:02d}:{secs:0{3 + decimals}.{decimals}f}"


#: How the status line names the state (an armed ``record`` waits between takes).
STATE_LABELS = {"recording": "REC", "paused": "PAUSE", "armed": "ARMED", "stopped": "IDLE"}


def status_text(status: SessionStatus, peaks_dbfs: list[float], width: int) -> str:
    """One line: time, ring fill, xruns, lost frames, then levels.

    Levels of every channel when they fit, else of the loudest ones.
    """
    seconds = status.take_frames / status.sample_rate
    state = STATE_LABELS.get(status.state, status.state.upper())
    head = (
        f"{state} {format_clock(seconds)}  ring {status.ring_fill:5.1%}  "
        f"xruns {status.xruns}  lost {status.frames_lost}  |"
    )
    levels = [
        (peak, f" {channel + 1}:{format_dbfs(peak)}") for channel, peak in enumerate(peaks_dbfs)
    ]
    room = width - len(head) - 1
    if sum(len(text) for _, text in levels) > room:
        head = head[:-1] + "| loudest"
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

    def show(self, status: SessionStatus, peaks_dbfs: list[float]) -> None:
        if not self.enabled:
            return
        width = shutil.get_terminal_size((80, 24)).columns
        self.stream.write(CLEAR_LINE + status_text(status, peaks_dbfs, width))
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()
            self._shown = False


@dataclass
class Summary:
    """How a take ended.  `to_dict` is the ``--json`` output."""

    path: Path
    files: tuple[Path, ...]  # its sound files: `path`, or a split take's
    file_format: str
    sample_rate: int
    channels: int
    frames: int
    frames_lost: int
    gaps: list[dict[str, int]]
    xruns: int
    peaks_dbfs: list[float]
    ended_by: str
    error: str | None
    cycles: int
    callback_ns_max: int
    callback_ns_p999: float
    ring_high_water: float  # the fullest the ring ever was, as a share of its size
    memory_locked: bool

    @classmethod
    def of(cls, take: Take, session: Session, stats: CaptureStats) -> Summary:
        """Summarize a finished `take` of a closed `session`."""
        return cls(
            path=take.path,
            files=tuple(file.path for file in take.files),
            file_format=take.info.file_format.description,
            sample_rate=take.info.sample_rate,
            channels=len(take.info.channels),
            frames=take.frames,
            frames_lost=take.frames_lost,
            gaps=take.gaps,
            xruns=session.xruns,
            peaks_dbfs=take.levels.peaks_dbfs(),  # of the file, as in its sidecar
            ended_by=take.ended_by or "unknown",
            error=take.error,
            cycles=stats.cycles,
            callback_ns_max=stats.callback_ns_max,
            callback_ns_p999=stats.callback_ns_quantile(0.999),
            ring_high_water=stats.ring_high_water,
            memory_locked=bool(take.info.session.get("memory_locked")),
        )

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "files": [str(path) for path in self.files],
            "format": self.file_format,
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "frames": self.frames,
            "seconds": round(self.seconds, 6),
            "frames_lost": self.frames_lost,
            "gaps": self.gaps,
            "xruns": self.xruns,
            "peaks_dbfs": [None if math.isinf(p) else round(p, 2) for p in self.peaks_dbfs],
            "ended_by": self.ended_by,
            "error": self.error,
            "cycles": self.cycles,
            "callback_us_max": round(self.callback_ns_max / 1000, 1),
            "callback_us_p999": round(self.callback_ns_p999 / 1000, 1),
            "ring_high_water": round(self.ring_high_water, 4),
            "memory_locked": self.memory_locked,
        }


def summary_text(summary: Summary) -> str:
    """The human summary printed when a recording ends."""
    peaks = "  ".join(
        f"{channel + 1}:{format_dbfs(peak)}" for channel, peak in enumerate(summary.peaks_dbfs)
    )
    lines = [
        f"{summary.path}: {summary.file_format}, {summary.channels} ch, {summary.sample_rate} Hz"
        + (f", in {len(summary.files)} files" if summary.files != (summary.path,) else ""),
        f"  {summary.frames} frames ({format_clock(summary.seconds)}), ended by {summary.ended_by}",
        f"  lost frames {summary.frames_lost} in {len(summary.gaps)} gap(s), xruns {summary.xruns}",
        f"  peak dBFS  {peaks}",
        f"  callback max {summary.callback_ns_max / 1000:.1f} us, "
        f"p99.9 <= {summary.callback_ns_p999 / 1000:.1f} us, "
        f"ring high-water {summary.ring_high_water:.1%}",
    ]
    for gap in summary.gaps:
        lines.append(f"  gap: {gap['frames']} frames of silence at file frame {gap['file_frame']}")
    return "\n".join(lines)
