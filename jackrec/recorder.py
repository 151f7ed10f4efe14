"""One recording, from JACK ports to a finalized take.

`Recorder` wires the pieces together and owns their lifetime:

start
    connect to JACK, choose sources and format, allocate the realtime core,
    register ports, install the C callback, create the file, activate,
    connect, start capturing, start the disk writer.
stop
    deactivate the client (the callback has run for the last time) ->
    drain the ring -> finalize the file and its sidecar -> close the
    client -> free the C memory.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jack

from jackrec import __version__
from jackrec.capture import Capture, CaptureStats, Gap
from jackrec.errors import JackrecError, UsageError
from jackrec.jackclient import open_client, server_label
from jackrec.levels import Meters, dbfs
from jackrec.ports import match_sources, physical_sources
from jackrec.sidecar import write_sidecar
from jackrec.takefile import FileFormat, TakeFile, resolve_format
from jackrec.writer import DiskWriter

log = logging.getLogger(__name__)

DEFAULT_CHANNELS = 2
MAX_CHANNELS = 1024  # the most any writable format holds
MAX_BUFFER_SECONDS = 3600.0
MIN_RING_PERIODS = 4

TakeFactory = Callable[[Path, FileFormat, int, int], TakeFile]


@dataclass(frozen=True)
class RecordOptions:
    """What ``jackrec record`` was asked to do."""

    path: Path
    channels: int | None = None
    ports: tuple[str, ...] = ()
    connect: bool = True
    client_name: str = "jackrec"
    server: str | None = None
    format: str | None = None
    bits: str | None = None
    duration: float | None = None
    buffer_seconds: float = 10.0

    def validate(self) -> None:
        """Reject what no server could make work; raises `UsageError`."""
        if self.channels is not None and not 1 <= self.channels <= MAX_CHANNELS:
            raise UsageError(f"--channels must be 1 to {MAX_CHANNELS}, not {self.channels}")
        if self.duration is not None and not (0 < self.duration < math.inf):
            raise UsageError("--duration must be a positive number of seconds")
        if not 0 < self.buffer_seconds <= MAX_BUFFER_SECONDS:
            raise UsageError(f"--buffer must be above 0 and at most {MAX_BUFFER_SECONDS:g} s")
        if self.ports and not self.connect:
            raise UsageError("--port and --no-connect contradict each other")


@dataclass(frozen=True)
class Progress:
    """How a running recording is doing (for the status line)."""

    frames: int
    seconds: float
    ring_fill: float
    frames_lost: int
    xruns: int
    peaks_dbfs: list[float]


@dataclass
class Summary:
    """How a recording ended.  `to_dict` is the ``--json`` output."""

    path: Path
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
    memory_locked: bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
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
            "memory_locked": self.memory_locked,
        }


class Recorder:
    """Records JACK ports into one take.

    Parameters
    ----------
    options
        What to record, and how.
    take_factory
        Creates the take file (the tests substitute a slow disk here).
    """

    def __init__(
        self, options: RecordOptions, *, take_factory: TakeFactory = TakeFile.create
    ) -> None:
        options.validate()
        self.options = options
        self._take_factory = take_factory
        #: Set when the recording should end: duration reached, writer
        #: failed, server gone, or `request_stop`.
        self.finished = threading.Event()
        self.ended_by = "stop request"
        self.xruns = 0
        self._server_gone: str | None = None
        self._client: jack.Client | None = None
        self._capture: Capture | None = None
        self._take: TakeFile | None = None
        self._writer: DiskWriter | None = None
        self.meters: Meters | None = None
        self.sources: list[list[str]] = []
        self._start: dict[str, Any] = {}
        self._sidecar_lock = threading.Lock()  # main and writer thread write it

    # ---- starting ----

    def start(self) -> None:
        """Start recording; raises `JackrecError` with nothing left behind."""
        try:
            self._start_steps()
        except BaseException:
            self._abandon()
            raise

    def _start_steps(self) -> None:
        o = self.options
        client = self._client = open_client(o.client_name, o.server)
        rate = client.samplerate
        sources = self._choose_sources(client)
        channels = o.channels or len(sources) or DEFAULT_CHANNELS
        if len(sources) > channels:
            raise UsageError(
                f"the ports given match {len(sources)} sources, but --channels is {channels}"
            )
        file_format = resolve_format(o.path, o.format, o.bits, channels, rate, o.duration)
        if o.connect and len(sources) < channels:
            log.warning(
                "only %d source(s) for %d channels: in_%d..in_%d left unconnected",
                len(sources),
                channels,
                len(sources) + 1,
                channels,
            )

        ring_frames = max(math.ceil(o.buffer_seconds * rate), MIN_RING_PERIODS * client.blocksize)
        try:
            capture = self._capture = Capture(channels, ring_frames)
        except MemoryError:
            gib = ring_frames * channels * 4 / 2**30
            raise JackrecError(
                f"cannot allocate a {gib:.1f} GiB ring; use a smaller --buffer"
            ) from None
        if not capture.memory_locked:
            log.warning("could not lock the ring in RAM (see 'jackrec doctor')")
        try:
            inputs = [client.inports.register(f"in_{i + 1}") for i in range(channels)]
        except jack.JackError as error:
            raise JackrecError(f"cannot register {channels} JACK ports: {error}") from None
        capture.install(client, inputs)
        client.set_xrun_callback(self._on_xrun)
        client.set_shutdown_callback(self._on_shutdown)

        self._take = self._take_factory(o.path, file_format, channels, rate)
        try:
            client.activate()
            for port, source in zip(inputs, sources, strict=False):
                client.connect(source, port)
        except jack.JackError as error:
            raise JackrecError(f"JACK refused: {error}") from None
        self.sources = [[p.name for p in client.get_all_connections(port)] for port in inputs]
        self.meters = Meters(capture)
        capture.set_capturing(True)
        self._writer = DiskWriter(
            capture, self._take, limit_frames=self._limit_frames(rate), on_gap=self._on_gap
        )
        self._writer.start()
        self._start = self._start_times(client, capture)
        self._write_sidecar(complete=False)

    def _choose_sources(self, client: jack.Client) -> list[str]:
        o = self.options
        if not o.connect:
            return []
        if o.ports:
            return match_sources(client, o.ports)
        return physical_sources(client)[: o.channels or DEFAULT_CHANNELS]

    def _limit_frames(self, rate: int) -> int | None:
        if self.options.duration is None:
            return None
        return round(self.options.duration * rate)

    def _start_times(self, client: jack.Client, capture: Capture) -> dict[str, Any]:
        """When frame 0 was captured, in JACK frame time and wall-clock time.

        The wall-clock time is JACK's frame-time estimate now, less the
        frames since frame 0: good to a fraction of a period.
        """
        deadline = time.monotonic() + 2.0
        while not (stats := capture.stats()).started and time.monotonic() < deadline:
            time.sleep(0.005)
        if not stats.started:
            return {}
        now, frame_now = time.time(), client.frame_time
        since = (frame_now - stats.first_jack_frame) % 2**32
        unix = now - since / client.samplerate
        wall = dt.datetime.fromtimestamp(unix, dt.UTC).isoformat(timespec="microseconds")
        return {"jack_frame_time": stats.first_jack_frame, "unix_time": unix, "utc": wall}

    # ---- callbacks (JACK notification thread, writer thread) ----

    def _on_xrun(self, delayed_usecs: float) -> None:
        self.xruns += 1
        log.info("xrun (%.0f us late)", delayed_usecs)

    def _on_shutdown(self, status: jack.Status, reason: str) -> None:
        self._server_gone = reason or "no reason given"
        self.ended_by = "server shutdown"
        self.finished.set()

    def _on_gap(self, gap: Gap, file_frame: int) -> None:
        self._write_sidecar(complete=False)

    # ---- running ----

    def request_stop(self) -> None:
        self.finished.set()

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` for the recording to end; True if it has."""
        writer = self._writer
        if writer is not None and writer.reached_limit.is_set():
            if writer.error is None:
                self.ended_by = "duration"
            else:
                self.ended_by = "write error"
            self.finished.set()
        return self.finished.wait(timeout)

    def progress(self) -> Progress:
        """Poll the meters and counters (call from one thread only)."""
        assert self._capture is not None and self._writer is not None
        assert self._client is not None and self.meters is not None
        reading = self.meters.poll()
        ring = self._capture.frames
        stats = self._capture.stats()
        frames = self._writer.frames_written
        return Progress(
            frames=frames,
            seconds=frames / self._client.samplerate,
            ring_fill=ring.read_space / ring.capacity,
            frames_lost=stats.frames_lost,
            xruns=self.xruns,
            peaks_dbfs=[dbfs(float(p)) for p in reading.peaks],
        )

    # ---- stopping ----

    def stop(self) -> Summary:
        """Finalize the take in the lifetime order; returns what happened."""
        client, capture, writer, take = self._client, self._capture, self._writer, self._take
        assert client is not None and capture is not None
        assert writer is not None and take is not None and self.meters is not None
        if self._server_gone is None:
            client.deactivate()
        writer.finish()
        self.meters.poll()
        stats = capture.stats()
        summary = self._summary(stats)
        self._write_sidecar(complete=True, stats=stats)
        client.close()
        capture.close()
        self._client = self._capture = None
        return summary

    def _abandon(self) -> None:
        """Undo a failed start: nothing may stay behind, least of all a file."""
        if self._client is not None:
            self._client.deactivate()
        if self._writer is not None and self._writer.is_alive():
            self._writer.finish()
        if self._take is not None:
            self._take.close()
            if self._take.frames == 0:
                self._take.path.unlink(missing_ok=True)
        if self._client is not None:
            self._client.close()
        if self._capture is not None:
            self._capture.close()
        self._client = self._capture = None

    def _summary(self, stats: CaptureStats) -> Summary:
        assert self._take is not None and self._writer is not None
        assert self._client is not None and self.meters is not None
        error = None
        if self._writer.error is not None:
            error = f"writing {self.options.path} failed: {self._writer.error}"
            self.ended_by = "write error"
        elif self._server_gone is not None:
            error = f"{server_label(self.options.server)} shut down ({self._server_gone})"
        return Summary(
            path=self.options.path,
            file_format=self._take.format.description,
            sample_rate=self._client.samplerate,
            channels=self._take.channels,
            frames=self._take.frames,
            frames_lost=sum(gap.frames for _, gap in self._writer.gaps),
            gaps=self._gap_records(),
            xruns=self.xruns,
            peaks_dbfs=self.meters.session_peaks_dbfs(),
            ended_by=self.ended_by,
            error=error,
            cycles=stats.cycles,
            callback_ns_max=stats.callback_ns_max,
            callback_ns_p999=stats.callback_ns_quantile(0.999),
            memory_locked=self._capture.memory_locked if self._capture else False,
        )

    def _gap_records(self) -> list[dict[str, int]]:
        assert self._writer is not None
        return [
            {"file_frame": frame, "frames": gap.frames, "jack_frame_time": gap.jack_frame}
            for frame, gap in list(self._writer.gaps)
        ]

    def _write_sidecar(self, *, complete: bool, stats: CaptureStats | None = None) -> None:
        with self._sidecar_lock:
            write_sidecar(self.options.path, self._sidecar(complete=complete, stats=stats))

    def _sidecar(self, *, complete: bool, stats: CaptureStats | None = None) -> dict[str, Any]:
        assert self._client is not None and self._take is not None
        assert self._writer is not None and self._capture is not None
        data: dict[str, Any] = {
            "jackrec": __version__,
            "file": self.options.path.name,
            "complete": complete,
            "format": self._take.format.container,
            "subtype": self._take.format.subtype,
            "sample_rate": self._client.samplerate,
            "period": self._client.blocksize,
            "channels": [
                {"index": i + 1, "port": f"{self._client.name}:in_{i + 1}", "sources": s}
                for i, s in enumerate(self.sources)
            ],
            "server": self.options.server,
            "client": self._client.name,
            "realtime": bool(self._client.realtime),
            "memory_locked": self._capture.memory_locked,
            "start": self._start,
            "frames": self._take.frames,
            "xruns": self.xruns,
            "gaps": self._gap_records(),
        }
        if stats is not None:
            data["frames_lost"] = stats.frames_lost
            data["ended_by"] = self.ended_by
        return data
