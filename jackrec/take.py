"""A take: one sound file being recorded, and what is known about it.

The disk writer is the only thread that writes to a take once it has
begun; it also rewrites the take's JSON sidecar (``take.wav.json``) when
the take begins, at each gap and marker, and when it is finalized.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from jackrec import __version__
from jackrec.sidecar import write_sidecar
from jackrec.takefile import BYTES_PER_SAMPLE, FileFormat, TakeFile


@dataclass(frozen=True)
class TakeInfo:
    """What a take records, fixed when it is created.

    Attributes
    ----------
    path
        The sound file.
    file_format
        Container and sample format.
    channels
        Indices of the capture channels the take holds, in order.
    ports, sources
        Per take channel: jackrec's input port and the ports connected to it.
    sample_rate, period
        The JACK server's.
    session
        Facts about the recording session for the sidecar (server, client,
        realtime, memory locking).
    """

    path: Path
    file_format: FileFormat
    channels: tuple[int, ...]
    ports: tuple[str, ...]
    sources: tuple[tuple[str, ...], ...]
    sample_rate: int
    period: int
    session: dict[str, Any] = field(default_factory=dict)


class Take:
    """A take being written; create with `Take.create`."""

    def __init__(self, info: TakeInfo, file: TakeFile, all_channels: int) -> None:
        self.info = info
        self.file = file
        self.gaps: list[dict[str, int]] = []
        self.markers: list[dict[str, Any]] = []
        self.pauses: list[dict[str, int]] = []
        self.start: dict[str, Any] = {}
        self.ended_by: str | None = None
        self.error: str | None = None
        self._subset = None if info.channels == tuple(range(all_channels)) else list(info.channels)
        self._silence = np.zeros((0, len(info.channels)), dtype=np.float32)

    @classmethod
    def create(cls, info: TakeInfo, all_channels: int) -> Take:
        """Create the file now (exclusively), so a bad path fails here."""
        file = TakeFile.create(info.path, info.file_format, len(info.channels), info.sample_rate)
        return cls(info, file, all_channels)

    @property
    def path(self) -> Path:
        return self.info.path

    @property
    def frames(self) -> int:
        return self.file.frames

    @property
    def bytes(self) -> int:
        """Sample bytes written so far (the file is this plus its header)."""
        return (
            self.frames * len(self.info.channels) * BYTES_PER_SAMPLE[self.info.file_format.subtype]
        )

    # ---- called by the disk writer ----

    def begin(self, stream_frame: int, jack_frame: int | None, unix_time: float | None) -> None:
        """Mark file frame 0 as stream frame `stream_frame`; first sidecar."""
        self.start = {"stream_frame": stream_frame, "jack_frame_time": jack_frame}
        if unix_time is not None:
            self.start["unix_time"] = unix_time
            self.start["utc"] = dt.datetime.fromtimestamp(unix_time, dt.UTC).isoformat(
                timespec="microseconds"
            )
        self.write_sidecar()

    def write(self, frames: npt.NDArray[np.float32]) -> None:
        """Append capture frames (all capture channels; the take picks its own)."""
        self.file.write(frames if self._subset is None else frames[:, self._subset])

    def write_silence(self, frames: int, block: int) -> None:
        while frames > 0:
            n = min(frames, block)
            if len(self._silence) < n:
                self._silence = np.zeros((n, len(self.info.channels)), dtype=np.float32)
            self.file.write(self._silence[:n])
            frames -= n

    def add_gap(self, frames: int, jack_frame: int) -> None:
        self.gaps.append(
            {"file_frame": self.frames, "frames": frames, "jack_frame_time": jack_frame}
        )
        self.write_sidecar()

    def add_marker(self, label: str, unix_time: float) -> None:
        self.markers.append({"file_frame": self.frames, "label": label, "unix_time": unix_time})
        self.write_sidecar()

    def add_pause(self, stream_from: int, stream_to: int) -> None:
        """Stream frames left out by a pause, at the current file frame."""
        self.pauses.append(
            {
                "file_frame": self.frames,
                "stream_frame": stream_from,
                "frames": stream_to - stream_from,
            }
        )

    def finish(self, ended_by: str, error: str | None = None) -> None:
        """Finalize the file and the sidecar; safe to call twice."""
        if self.ended_by is not None:
            return
        self.ended_by, self.error = ended_by, error
        try:
            self.file.close()
        finally:
            self.write_sidecar()

    def discard(self) -> None:
        """Remove a take that never began: its empty file, and no sidecar."""
        self.file.close()
        self.path.unlink(missing_ok=True)

    # ---- the sidecar ----

    @property
    def frames_lost(self) -> int:
        return sum(gap["frames"] for gap in self.gaps)

    def sidecar(self) -> dict[str, Any]:
        info = self.info
        return {
            "jackrec": __version__,
            "file": info.path.name,
            "complete": self.ended_by is not None,
            "format": info.file_format.container,
            "subtype": info.file_format.subtype,
            "sample_rate": info.sample_rate,
            "period": info.period,
            "channels": [
                {"index": i + 1, "capture_channel": c + 1, "port": port, "sources": list(sources)}
                for i, (c, port, sources) in enumerate(
                    zip(info.channels, info.ports, info.sources, strict=True)
                )
            ],
            **info.session,
            "start": self.start,
            "frames": self.frames,
            "frames_lost": self.frames_lost,
            "gaps": self.gaps,
            "markers": self.markers,
            "pauses": self.pauses,
            "ended_by": self.ended_by,
            "error": self.error,
        }

    def write_sidecar(self) -> None:
        write_sidecar(self.info.path, self.sidecar())
