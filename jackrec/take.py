"""A take: the sound file (or files) being recorded, and what is known about it.

The disk writer is the only thread that writes to a take once it has
begun; it also rewrites the take's JSON sidecar (``take.wav.json``) when
the take begins, at each gap and marker, every `PROGRESS_SECONDS` while it
records (frames so far), and when it is finalized.  The sidecar holds
everything known about the take: sources, names and capture latencies,
start time, gaps, xruns, markers, pauses, per-channel peaks and clip
counts, and how it ended.

A WAV or RF64 take carries Broadcast WAV metadata too (`jackrec.bwf`):
its bext chunk is set when the take begins, before its first frame is
written; its iXML chunk and cue points are appended when it is finalized.

A split take (`jackrec.split`) writes several files, one per channel or
group, each a `TakeFile` of its own; it is still one take, with one
sidecar (named after the take, listing the files and their channels), and
every file holds the same frames.

With a sync interval (`TakeInfo.sync_seconds`, `jackrec.durability`) the
take is forced onto the disk that often, and once more when finalized.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from jackrec import __version__, bwf
from jackrec.core.filewrite import SCRATCH_BYTES, WRITE_BYTES, FilesWriter
from jackrec.durability import SyncRecord, failure_text
from jackrec.errors import JackrecError
from jackrec.levels import TakeLevels
from jackrec.repair import fix_header
from jackrec.sidecar import (
    SidecarError,
    create_sidecar,
    remove_sidecar,
    sidecar_path,
    write_sidecar,
)
from jackrec.split import Group, file_paths
from jackrec.takefile import BYTES_PER_SAMPLE, FileFormat, TakeFile

#: How often a take's sidecar is brought up to date while it records.
PROGRESS_SECONDS = 2.0

#: How often, at most, its files' headers are (`TakeFile.sync_header`): what
#: a killed recorder's file reads back without `jackrec repair` lags at most
#: this (plus one hand-over of the writer).
HEADER_SECONDS = 1.0


class TakeDeleted(JackrecError):
    """The take's file lost its name while recording."""


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
    names
        Per take channel: its track name (the source's JACK pretty-name, or
        its port name; empty: the port's).
    latencies
        Per take channel: the capture latency range (min, max) of its input,
        in frames (empty: not known).
    align_delays
        Per take channel: the frames the writer delays it by, so that the
        channels line up (None: not aligned; see `jackrec.align`).
    groups
        The files of a split take: take channels [start, stop) of each
        (None: one file, `path`; see `jackrec.split`).
    split
        What ``--split`` asked for (None: split only if the format needs it).
    sync_seconds
        How often the take is forced onto the disk (None: the kernel
        writes it back when it will; see `jackrec.durability`).
    """

    path: Path
    file_format: FileFormat
    channels: tuple[int, ...]
    ports: tuple[str, ...]
    sources: tuple[tuple[str, ...], ...]
    sample_rate: int
    period: int
    session: dict[str, Any] = field(default_factory=dict)
    names: tuple[str, ...] = ()
    latencies: tuple[tuple[int, int], ...] = ()
    align_delays: tuple[int, ...] | None = None
    groups: tuple[Group, ...] | None = None
    split: str | None = None
    sync_seconds: float | None = None

    @property
    def track_names(self) -> tuple[str, ...]:
        return self.names or self.ports

    @property
    def broadcast_wav(self) -> bool:
        """Whether the file carries bext, iXML and cue points."""
        return self.file_format.container in bwf.CONTAINERS


class Take:
    """A take being written; create with `Take.create`."""

    def __init__(self, info: TakeInfo, files: list[TakeFile]) -> None:
        self.info = info
        #: The take's files: one, or one per group of a split take.
        self.files = files
        self._slices = [slice(a, b) for a, b in info.groups or ((0, len(info.channels)),)]
        self.gaps: list[dict[str, int]] = []
        self.markers: list[dict[str, Any]] = []
        self.pauses: list[dict[str, int]] = []
        self.xruns: list[dict[str, Any]] = []
        self.start: dict[str, Any] = {}
        self.cause: dict[str, Any] = {}  # what began the take (`note_cause`)
        self.trigger: dict[str, Any] = {}  # the level trigger that began it, if one did
        self.bext: bwf.BroadcastInfo | None = None
        self.ended_by: str | None = None
        self.error: str | None = None
        self.levels = TakeLevels(len(info.channels))
        capture_channels = np.array(info.channels, dtype=np.uint32)
        self._writer = FilesWriter(
            [file.sink for file in files],
            [capture_channels[columns] for columns in self._slices],
            [(self.levels.peaks[columns], self.levels.clips[columns]) for columns in self._slices],
        )
        self._sidecar_written = self._headers_synced = self._synced = time.monotonic()
        sync = info.sync_seconds
        self.syncs = None if sync is None else SyncRecord(sync)
        #: Why the take's progress last failed to reach the sidecar or the
        #: disk (None: it did); the take goes on.
        self.progress_error: str | None = None

    @classmethod
    def create(cls, info: TakeInfo) -> Take:
        """Create the file and its sidecar now (exclusively), so a bad path fails here.

        Every name the take needs is checked before anything is created; if
        one of a split take's files cannot be created, those created before
        it are removed.

        Raises
        ------
        JackrecError
            When a name is too long for the file system, a file or the
            sidecar exists, or one cannot be created.
        """
        paths = check_names(info.path, info.groups, info.track_names)
        files: list[TakeFile] = []
        try:
            scratch = max(1, min(WRITE_BYTES, SCRATCH_BYTES // len(paths)))
            for path, group in zip(paths, info.groups or ((0, len(info.channels)),), strict=True):
                width = group[1] - group[0]
                files.append(
                    TakeFile.create(path, info.file_format, width, info.sample_rate, None, scratch)
                )
            take = cls(info, files)
            create_sidecar(info.path, take.sidecar())
        except BaseException:
            for file in files:
                file.close()
                file.path.unlink(missing_ok=True)
            raise
        return take

    @property
    def path(self) -> Path:
        return self.info.path

    @property
    def frames(self) -> int:
        """Frames in the take: in every file (after a failed write, the fewest)."""
        return min(file.frames for file in self.files)

    @property
    def split(self) -> bool:
        return self.info.groups is not None

    @property
    def bytes(self) -> int:
        """Sample bytes written so far (the file is this plus its header); for a
        lossy codec, whose output has no fixed size, the file's size."""
        file_format = self.info.file_format
        if file_format.lossy:
            return sum(file.size for file in self.files)
        return self.frames * len(self.info.channels) * int(BYTES_PER_SAMPLE[file_format.subtype])

    # ---- called by the disk writer ----

    def note_cause(
        self, started_by: str, cue_frame: int, preroll_frames: int, trigger: dict[str, Any]
    ) -> None:
        """Say what begins the take (before `begin`).

        `started_by` is ``command``, ``signal``, ``trigger``, ``rotation``,
        ``transport`` or ``freewheel``; `cue_frame`
        the stream frame it was given at (the loud frame, for a trigger),
        `preroll_frames` after the take's first frame; `trigger` the
        trigger's settings (empty: none).
        """
        self.cause = {
            "started_by": started_by,
            "cue_stream_frame": cue_frame,
            "preroll_frames": preroll_frames,
        }
        self.trigger = trigger

    def begin(self, stream_frame: int, jack_frame: int | None, unix_time: float | None) -> None:
        """Mark file frame 0 as stream frame `stream_frame`; bext; first sidecar.

        Called before the first frame is written, which is when libsndfile
        takes a bext chunk.

        Raises
        ------
        JackrecError
            When libsndfile refuses the bext chunk.
        """
        self.start = {"stream_frame": stream_frame, "jack_frame_time": jack_frame, **self.cause}
        if unix_time is not None:
            self.start["unix_time"] = unix_time
            self.start["utc"] = dt.datetime.fromtimestamp(unix_time, dt.UTC).isoformat(
                timespec="microseconds"
            )
            local = dt.datetime.fromtimestamp(unix_time)
            self.start["time_reference"] = bwf.samples_since_midnight(local, self.info.sample_rate)
        if self.info.broadcast_wav:
            # no cycle came to give the first frame a time (server gone): now
            when = unix_time if unix_time is not None else time.time()
            self.bext = bwf.BroadcastInfo.of(
                self._description(), uuid.uuid4().hex, when, self.info.sample_rate
            )
            for file in self.files:
                file.set_broadcast_info(self.bext)
        # durable: the take's names (file and sidecar) from its first frame
        self.write_sidecar(self.syncs is not None)

    def _description(self) -> str:
        """bext's description: the take's name, its channels and their names."""
        names = self.info.track_names
        return f"{self.path.name}: {len(names)} ch: {', '.join(names)}"

    def write(self, frames: npt.NDArray[np.float32]) -> None:
        """Append capture frames (all capture channels; the take picks its own).

        Raises
        ------
        JackrecError
            When a file cannot be written (its frames are then recounted).
        """
        dithered = self.info.file_format.dither
        noise = [file.dither_noise(len(frames)) for file in self.files] if dithered else None
        self._written(self._writer.write(frames, noise), len(frames))

    def write_silence(self, frames: int) -> None:
        """Append `frames` frames of exact zeros (a gap)."""
        self._written(self._writer.write_silence(frames), frames)

    def _written(self, failed: int | None, frames: int) -> None:
        if failed is None:
            for file in self.files:
                file.frames += frames
            return
        error = self.files[failed].failed()  # its reason, before any tell()
        for file in self.files:
            file.recount()
        raise error

    def add_gap(self, frames: int, jack_frame: int) -> None:
        self.gaps.append(
            {"file_frame": self.frames, "frames": frames, "jack_frame_time": jack_frame}
        )
        self.write_sidecar()

    def add_marker(self, label: str, unix_time: float) -> None:
        self.markers.append({"file_frame": self.frames, "label": label, "unix_time": unix_time})
        self.write_sidecar()

    def add_xrun(self, delay_us: float) -> None:
        """JACK reported an xrun while the take was at its current frame."""
        self.xruns.append({"file_frame": self.frames, "delay_us": round(delay_us, 1)})

    def add_pause(self, stream_from: int, stream_to: int) -> None:
        """Stream frames left out by a pause, at the current file frame."""
        self.pauses.append(
            {
                "file_frame": self.frames,
                "stream_frame": stream_from,
                "frames": stream_to - stream_from,
            }
        )

    def update_progress(self) -> None:
        """Every `HEADER_SECONDS` bring the files' headers, every
        `PROGRESS_SECONDS` the sidecar up to date, and every sync interval
        all of it onto the disk (a failure is kept in `progress_error`).

        Raises
        ------
        TakeDeleted
            When the file has lost its name: whatever is written now is lost.
        """
        now = time.monotonic()
        if now - self._headers_synced >= HEADER_SECONDS:
            self._sync_headers()
        durable = self.syncs is not None and now - self._synced >= self.syncs.interval
        if not durable and now - self._sidecar_written < PROGRESS_SECONDS:
            return
        if any(file.deleted for file in self.files):
            raise TakeDeleted(self._deleted_text())
        self.write_sidecar(durable)

    def _sync_headers(self) -> None:
        self._headers_synced = time.monotonic()
        for file in self.files:
            file.sync_header()

    def _deleted_text(self) -> str:
        deleted = next((file.path for file in self.files if file.deleted), self.path)
        return (
            f"{deleted} was deleted while recording (or its directory was): "
            f"its {self.frames} frames are gone"
        )

    def finish(self, ended_by: str, error: str | None = None) -> None:
        """Finalize the file and the sidecar; safe to call twice, never raises.

        What fails on the way (the header, the sidecar) becomes the take's
        error, unless it has one already.
        """
        if self.ended_by is not None:
            return
        self.ended_by, self.error = ended_by, error
        deleted = any(file.deleted for file in self.files)
        if self.error is None and deleted:
            self.error = self._deleted_text()
        for file in self.files:
            try:
                file.close()
            except (JackrecError, RuntimeError, OSError) as close_error:
                # after a failed write, closing may fail the same way
                self.error = self.error or f"finalizing failed: {close_error}"
        if self.error is not None and not deleted:
            self._mend()
        elif self.info.broadcast_wav and not deleted:
            self._append_metadata()
        self.write_sidecar(self.syncs is not None and not deleted)
        self.error = self.error or self.progress_error

    def _mend(self) -> None:
        """After a failure, make the header say what the file holds.

        A FLAC cut off by a full disk has no (or a wrong) length, since its
        encoder could not finish; this is what ``jackrec repair`` does, and
        it leaves a consistent file as it is.
        """
        for file in self.files:
            try:
                file.frames = fix_header(file.path)
            except JackrecError as error:
                self.error = f"{self.error}; {error}"

    def _append_metadata(self) -> None:
        """Append the iXML chunk and the cue points to the finalized file.

        A take that ended in error (a full disk) gets none: its sidecar has
        them.  A failure here becomes the take's error.
        """
        info = self.info
        cues = bwf.cue_chunks(bwf.cues_of(self.sidecar()))
        for file, columns in zip(self.files, self._slices, strict=True):
            chunks = bwf.ixml(
                info.track_names[columns],
                [c + 1 for c in info.channels[columns]],
                info.sample_rate,
                info.file_format.subtype,
                self.bext,
            )
            try:
                bwf.append_chunks(file.path, chunks + cues)
            except JackrecError as error:
                self.error = f"finalizing failed: {error}"

    def discard(self) -> None:
        """Remove a take that never began: its empty file and its sidecar."""
        for file in self.files:
            file.close()
            file.path.unlink(missing_ok=True)
        remove_sidecar(self.path)

    # ---- the sidecar ----

    @property
    def frames_lost(self) -> int:
        return sum(gap["frames"] for gap in self.gaps)

    def sidecar(self) -> dict[str, Any]:
        info = self.info
        peaks = self.levels.peaks_dbfs()
        names = info.track_names
        latencies = info.latencies or ((0, 0),) * len(info.channels)
        delays = info.align_delays
        return {
            "jackrec": __version__,
            "file": info.path.name,
            "complete": self.ended_by is not None,
            "format": self.files[0].container,
            "subtype": info.file_format.subtype,
            **self._encoding(),
            "sample_rate": info.sample_rate,
            "period": info.period,
            "channels": [
                {
                    "index": i + 1,
                    "capture_channel": c + 1,
                    "port": port,
                    "sources": list(sources),
                    "name": names[i],
                    "capture_latency": list(latencies[i]),
                    **({} if delays is None else {"align_delay": delays[i]}),
                    "peak_dbfs": None if math.isinf(peaks[i]) else round(peaks[i], 2),
                    "clips": int(self.levels.clips[i]),
                }
                for i, (c, port, sources) in enumerate(
                    zip(info.channels, info.ports, info.sources, strict=True)
                )
            ],
            **self._split(),
            **info.session,
            "aligned": delays is not None,
            "start": self.start,
            **({"trigger": self.trigger} if self.trigger else {}),
            **({} if self.bext is None else {"bext": self.bext.to_json()}),
            "frames": self.frames,
            "frames_lost": self.frames_lost,
            "gaps": self.gaps,
            "xruns": self.xruns,
            "markers": self.markers,
            "pauses": self.pauses,
            "ended_by": self.ended_by,
            "error": self.error or (self.syncs.failure if self.syncs else None),
            **({} if self.syncs is None else {"sync": self.syncs.to_json()}),
        }

    def _encoding(self) -> dict[str, Any]:
        """The sidecar's ``quality`` (lossy codecs) and ``dither`` (16-bit, dithered)."""
        encoding: dict[str, Any] = {}
        if self.info.file_format.lossy:
            encoding["quality"] = self.info.file_format.quality  # None: libsndfile's default
        seed = self.files[0].dither_seed
        if seed is not None:
            encoding["dither"] = {"type": "tpdf", "lsb": 1, "seed": seed}
        return encoding

    def _split(self) -> dict[str, Any]:
        """A split take's ``split`` (what asked for it) and ``files``.

        ``split`` is ``--split``'s value, or ``"auto"`` when the take was
        split because its format holds fewer channels.  Each file's dither
        has a seed of its own (the top-level ``dither`` gives the first's).
        """
        if self.info.groups is None:
            return {}
        return {
            "split": self.info.split or "auto",
            "files": [
                {
                    "file": file.path.name,
                    "channels": list(range(columns.start + 1, columns.stop + 1)),
                    "format": file.container,
                    "frames": file.frames,
                    **({} if file.dither_seed is None else {"dither_seed": file.dither_seed}),
                }
                for file, columns in zip(self.files, self._slices, strict=True)
            ],
        }

    def write_sidecar(self, durable: bool = False) -> None:
        """Rewrite the sidecar now; `durable`: sound and sidecar onto the
        disk, the sound first (`jackrec.durability`).

        A failure does not stop the take (the sound matters more): it is kept
        in `progress_error` until a later rewrite succeeds, and becomes the
        take's error if the final one fails.
        """
        self._sync_headers()  # the file never says less than its sidecar
        self._sidecar_written = time.monotonic()
        if durable:
            self._sync_data()
        try:
            write_sidecar(self.info.path, self.sidecar(), durable)
        except SidecarError as error:
            self.progress_error = str(error)
        else:
            self.progress_error = self.syncs.failure if self.syncs else None

    def _sync_data(self) -> None:
        """``fdatasync`` every file.  A failure stays the take's: the kernel
        reports a writeback error once, and what it could not write is lost."""
        assert self.syncs is not None
        began = time.monotonic()
        try:
            for file in self.files:
                file.sync_data()
        except OSError as error:
            self.syncs.failure = self.syncs.failure or failure_text(self.path, error)
        self._synced = time.monotonic()
        self.syncs.note(self._synced - began)


def check_names(
    path: Path, groups: tuple[Group, ...] | None = None, names: tuple[str, ...] = ()
) -> tuple[Path, ...]:
    """Refuse a take whose files or sidecar cannot be created; return its files.

    A split take (`groups`) has files named after the take and its track
    `names` (`jackrec.split`); its sidecar is the take's.

    Raises
    ------
    JackrecError
        When a name is longer than the file system allows, a split take's
        file exists, or the sidecar's name is taken (by anything, a dangling
        symlink included).
    """
    try:
        limit = os.pathconf(path.parent, "PC_NAME_MAX")
    except OSError as error:
        raise JackrecError(f"cannot create {path}: {error.strerror}") from None
    paths: tuple[Path, ...] = (path,)
    if groups is not None:
        paths = file_paths(path, groups, names, limit)
        for file in paths:
            if os.path.lexists(file):
                raise JackrecError(f"{file} exists; jackrec never overwrites a take")
    for name in (*(p.name for p in paths), sidecar_path(path).name):
        if len(os.fsencode(name)) > limit:
            raise JackrecError(
                f"cannot create {path}: '{name}' is longer than the {limit} bytes "
                "this file system allows in a name (the sidecar adds '.json')"
            )
    sidecar = sidecar_path(path)
    if os.path.lexists(sidecar):
        raise JackrecError(f"{sidecar} exists; jackrec never overwrites a sidecar")
    return paths
