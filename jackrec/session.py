"""A recording session: a JACK client with the realtime core running.

`Session` owns the JACK client, the realtime core (`Capture`) and the disk
writer, and records takes on demand.  ``jackrec record`` opens a session
for one take; the TUI keeps one open and records, pauses, rotates, marks
and pre-rolls as the engineer asks.

Lifetime:

open
    connect to JACK, choose the sources, allocate the core once, register
    the ports, install the C callback and the notification callbacks,
    activate, connect the sources, start the disk writer.  Capturing
    starts with the first take or pre-roll, so a take's frame 0 comes
    after the connections exist.
close
    deactivate the client (the callback has run for the last time) ->
    drain the ring and finalize the open take and its sidecar -> close the
    client -> free the C memory.
"""

from __future__ import annotations

import logging
import math
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jack

from jackrec import commands, events
from jackrec.align import align_delays
from jackrec.config import DEFAULT_HYSTERESIS_DB
from jackrec.core.capture import Capture, CaptureStats
from jackrec.core.latency import capture_latency, recompute_latencies
from jackrec.errors import JackrecError, UsageError
from jackrec.follow import describe as describe_following
from jackrec.jackclient import DEACTIVATE_SECONDS, deactivate, open_client
from jackrec.levels import Meters, dbfs
from jackrec.metadata import InputLabels, order_inputs, track_names
from jackrec.metadata import forget as forget_inputs
from jackrec.ports import match_sources, physical_sources
from jackrec.split import groups_of
from jackrec.take import Take, TakeInfo
from jackrec.takefile import MAX_CHANNELS as MAX_FILE_CHANNELS
from jackrec.takefile import MAX_CHANNELS_DEFAULT, FileFormat
from jackrec.writer import DiskWriter, WriterStatus

log = logging.getLogger(__name__)

DEFAULT_CHANNELS = 2
#: JACK's ports per client: takes wider than a format holds are split (jackrec.split).
MAX_CHANNELS = 2048
MAX_BUFFER_SECONDS = 3600.0
MIN_RING_PERIODS = 4
EVENTS_KEPT = 1000
FRAME_TIME_WRAP = 2**32  # JACK frame times are 32-bit and wrap (24.8 h at 48 kHz)


def frames_between(earlier: int, later: int) -> int:
    """Frames from JACK frame time `earlier` to `later`, across a wrap.

    Signed: a frame time slightly ahead of `later` (the writer's frame can
    be ahead of JACK's estimate of now) gives a small negative number, not
    almost 2**32.
    """
    return (later - earlier + FRAME_TIME_WRAP // 2) % FRAME_TIME_WRAP - FRAME_TIME_WRAP // 2


def unix_time_of(jack_frame: int, frame_now: int, now: float, sample_rate: int) -> float:
    """The Unix time of JACK frame time `jack_frame`.

    `frame_now` is JACK's frame time at Unix time `now`; either may lie on
    the other side of a wrap.
    """
    return now - frames_between(jack_frame, frame_now) / sample_rate


@dataclass(frozen=True)
class SessionOptions:
    """How to connect to JACK and how much to buffer.

    Attributes
    ----------
    channels
        Input channels (default: the sources matched, else 2).
    ports
        Source port patterns (see `jackrec.ports`), connected in order.
    connect
        Connect sources at all (False leaves patching to others).
    buffer_seconds
        How long the disk may stall without a frame lost.
    preroll_seconds
        The longest pre-roll the session will be asked for; the ring is
        `buffer_seconds` plus this.
    follow
        Sources may appear later (`Session.follow_graph` connects them):
        a pattern that matches nothing yet is not an error.
    align
        Delay each channel of a take so that sources of different capture
        latencies line up (`jackrec.align`).
    sync_seconds
        Force takes onto the disk this often (None: leave it to the kernel;
        see `jackrec.take`).
    """

    channels: int | None = None
    ports: tuple[str, ...] = ()
    connect: bool = True
    client_name: str = "jackrec"
    server: str | None = None
    buffer_seconds: float = 10.0
    preroll_seconds: float = 0.0
    follow: bool = False
    align: bool = False
    sync_seconds: float | None = None

    def validate(self) -> None:
        """Reject what no server could make work; raises `UsageError`."""
        if self.channels is not None and not 1 <= self.channels <= MAX_CHANNELS:
            raise UsageError(f"--channels must be 1 to {MAX_CHANNELS}, not {self.channels}")
        if not 0 < self.buffer_seconds <= MAX_BUFFER_SECONDS:
            raise UsageError(f"--buffer must be above 0 and at most {MAX_BUFFER_SECONDS:g} s")
        if not 0 <= self.preroll_seconds <= MAX_BUFFER_SECONDS:
            raise UsageError(f"pre-roll must be 0 to {MAX_BUFFER_SECONDS:g} s")
        if self.ports and not self.connect:
            raise UsageError("--port and --no-connect contradict each other")


@dataclass(frozen=True)
class SessionStatus:
    """What the transport bar and the status line show."""

    state: str  # "stopped", "armed", "recording" or "paused" (a service's: or waiting)
    take: Path | None
    take_frames: int
    take_bytes: int
    ring_fill: float
    preroll_fill: float
    xruns: int
    frames_lost: int
    dsp_load: float
    sample_rate: int
    period: int
    disk_free: int | None
    trigger_dbfs: float | None = None  # the armed trigger's level
    preroll_seconds: float = 0.0  # the pre-roll kept for the next take (0: none)
    following: str = ""  # what one take is, following JACK (jackrec.follow.describe)


class Session:
    """A JACK client recording takes; see the module docstring."""

    def __init__(self, options: SessionOptions) -> None:
        options.validate()
        self.options = options
        self._events = events.History(EVENTS_KEPT)  # JACK's, the writer's and the UI's threads
        self.xruns = 0
        self.server_gone: str | None = None
        self.shutdown = threading.Event()
        self.graph_version = 0  # bumped when ports or connections change
        self.armed: list[bool] = []
        self._client: jack.Client | None = None
        self._capture: Capture | None = None
        self._writer: DiskWriter | None = None
        self._inputs: list[jack.OwnPort] = []
        self._input_uuids: set[int] = set()
        self._labels = InputLabels()
        self._graph_seen = -1  # the graph_version `follow_graph` last acted on
        self._capturing = False
        self._meters: Meters | None = None
        #: Also told of every event, in the thread that announces it: it must
        #: never block (`jackrec.hooks.HookRunner.offer` queues and returns).
        self.on_event: Callable[[events.Event], None] | None = None

    # ---- opening and closing ----

    def open(self) -> Session:
        """Connect and start; on failure nothing is left behind."""
        try:
            self._open_steps()
        except BaseException:
            self._abandon()
            raise
        return self

    def _open_steps(self) -> None:
        o = self.options
        client = self._client = open_client(o.client_name, o.server)
        sources = self._choose_sources(client)
        channels = o.channels or len(sources) or DEFAULT_CHANNELS
        if len(sources) > channels:  # as jack_capture does: the first N matches
            self.announce(
                events.Notice(
                    f"{len(sources)} ports match; recording the first {channels} (--channels)"
                )
            )
            sources = sources[:channels]
        seconds = o.buffer_seconds + o.preroll_seconds
        ring_frames = max(
            math.ceil(seconds * client.samplerate), MIN_RING_PERIODS * client.blocksize
        )
        try:
            capture = self._capture = Capture(channels, ring_frames)
        except MemoryError:
            gib = ring_frames * channels * 4 / 2**30
            raise JackrecError(
                f"cannot allocate a {gib:.1f} GiB ring; use a smaller --buffer"
            ) from None
        if not capture.memory_locked:
            self.announce(events.Notice("could not lock the ring in RAM (see 'jackrec doctor')"))
        try:
            self._inputs = [client.inports.register(f"in_{i + 1}") for i in range(channels)]
        except jack.JackError as error:
            raise JackrecError(f"cannot register {channels} JACK ports: {error}") from None
        self._input_uuids = {port.uuid for port in self._inputs}
        order_inputs(client, self._inputs)
        capture.install(client, self._inputs)
        client.set_xrun_callback(self._on_xrun)
        client.set_shutdown_callback(self._on_shutdown)
        client.set_port_registration_callback(self._on_graph_change, only_available=False)
        client.set_port_connect_callback(self._on_graph_change, only_available=False)
        client.set_property_change_callback(self._on_property_change)
        try:
            client.activate()
        except jack.JackError as error:
            raise JackrecError(f"JACK refused: {error}") from None
        self.connect_sources()
        self.follow_graph()
        if o.connect and len(sources) < channels:
            self.announce(
                events.Notice(
                    f"{len(sources)} port(s) match for {channels} channels: the other "
                    f"{channels - len(sources)} stay unconnected (silent until patched)"
                )
            )
        self.armed = [True] * channels
        self._meters = Meters(capture)
        self._writer = DiskWriter(
            capture, client.samplerate, self._clock, self.announce, align=o.align
        )
        self._writer.start()

    def _choose_sources(self, client: jack.Client) -> list[str]:
        o = self.options
        if not o.connect:
            return []
        if o.ports:
            return match_sources(client, o.ports, required=not o.follow)
        return physical_sources(client)[: o.channels or DEFAULT_CHANNELS]

    def connect_sources(self) -> list[tuple[str, str]]:
        """Connect the sources not connected yet, in order, to the free inputs.

        The sources are those the patterns match now, in the order the
        patterns give; an input already connected (by jackrec, or patched by
        hand) keeps its connection, so channels never move mid-take.  At
        open every input is free: the first matches go to ``in_1..in_N``.

        Returns
        -------
        list of (source, input)
            The connections made.

        Raises
        ------
        JackrecError
            When JACK refuses a connection (not when following: a source
            that vanished meanwhile is only noted).
        """
        client = self.client
        sources = self._choose_sources(client)
        connections = [client.get_all_connections(port) for port in self._inputs]
        connected = {source.name for ports in connections for source in ports}
        free = [port for port, ports in zip(self._inputs, connections, strict=True) if not ports]
        made = []
        for source, port in zip((s for s in sources if s not in connected), free, strict=False):
            try:
                client.connect(source, port)
            except jack.JackError as error:
                if not self.options.follow:
                    raise JackrecError(f"JACK refused: {error}") from None
                self.announce(events.Notice(f"could not connect {source}: {error}"))
                continue
            made.append((source, port.name))
        if made:  # the new sources' latencies, known before a take reads them
            self._after_cycles(2)  # JACK2 switches to a changed graph between cycles
            recompute_latencies(client)
        return made

    def follow_graph(self) -> list[tuple[str, str]]:
        """Once JACK's graph has changed: connect the sources that appeared
        (when following) and name each input after its track in JACK's
        metadata (`jackrec.metadata`).  Each face calls this from its poll,
        never from a JACK callback (these are requests to the server).

        Returns
        -------
        list of (str, str)
            The connections made.
        """
        if self._graph_seen == self.graph_version:
            return []
        self._graph_seen = self.graph_version
        made = self.connect_sources() if self.options.follow else []
        self._labels.update(self.client, self._inputs, self.sources())
        return made

    def _after_cycles(self, cycles: int, timeout: float = 1.0) -> None:
        """Return once the process callback has run `cycles` more times (or `timeout`)."""
        capture, deadline = self.capture, time.monotonic() + timeout
        until = capture.stats().cycles + cycles
        while capture.stats().cycles < until and time.monotonic() < deadline:
            time.sleep(0.001)

    def close(self, ended_by: str = "stop request") -> CaptureStats:
        """Finalize everything in the lifetime order; returns the final statistics."""
        client, capture, writer = self._client, self._capture, self._writer
        assert client is not None and capture is not None and writer is not None
        # The stream ends here, before deactivating: JACK disconnects the
        # ports one by one while the callback still runs, and the cycles in
        # between would reach the take as silence the sources never sent.
        capture.set_capturing(False)
        answered = self.server_gone is not None or deactivate(client, capture)
        if not answered:
            self.announce(
                events.Notice(
                    f"the JACK server did not answer in {DEACTIVATE_SECONDS:g} s (hung?): "
                    "the take is finalized without it; restart the server"
                )
            )
        writer.finish(ended_by if self.server_gone is None else "server shutdown")
        self.meters.poll()
        stats = capture.stats()
        if answered:  # else both stay with the unanswered request (`deactivate`)
            if self.server_gone is None:
                forget_inputs(client, self._inputs)
            client.close()
            capture.close()
        self._client = self._capture = self._writer = None
        return stats

    def _abandon(self) -> None:
        """Undo a failed open."""
        if self._client is not None:
            self._client.deactivate()
        if self._writer is not None and self._writer.is_alive():
            self._writer.finish("stop request")
        if self._client is not None:
            forget_inputs(self._client, self._inputs)
            self._client.close()
        if self._capture is not None:
            self._capture.close()
        self._client = self._capture = self._writer = None

    # ---- what the session is ----

    @property
    def is_open(self) -> bool:
        return self._client is not None

    @property
    def client(self) -> jack.Client:
        assert self._client is not None, "the session is not open"
        return self._client

    @property
    def capture(self) -> Capture:
        assert self._capture is not None, "the session is not open"
        return self._capture

    @property
    def meters(self) -> Meters:
        assert self._meters is not None, "the session is not open"
        return self._meters

    @property
    def channels(self) -> int:
        return len(self._inputs)

    @property
    def sample_rate(self) -> int:
        return int(self.client.samplerate)

    @property
    def inputs(self) -> list[jack.OwnPort]:
        return list(self._inputs)

    def sources(self) -> list[tuple[str, ...]]:
        """The ports connected to each input, now."""
        return [
            tuple(p.name for p in self.client.get_all_connections(port)) for port in self._inputs
        ]

    @property
    def take(self) -> Take | None:
        return self._writer.take if self._writer else None

    @property
    def writer_status(self) -> WriterStatus:
        """The disk writer's latest snapshot."""
        assert self._writer is not None, "the session is not open"
        return self._writer.status

    @property
    def state(self) -> str:
        """``stopped``, ``armed``, ``recording`` or ``paused``, as of the writer's last step."""
        if self._writer is None:
            return "stopped"
        writer = self._writer.status
        if writer.state == "idle":
            armed = writer.preroll_frames or writer.trigger_level is not None or writer.following
            return "armed" if armed else "stopped"
        return writer.state

    def status(self) -> SessionStatus:
        assert self._writer is not None
        writer, capture, client = self._writer.status, self.capture, self.client
        ring = capture.frames
        preroll = writer.preroll_frames
        return SessionStatus(
            state=self.state,
            take=writer.take,
            take_frames=writer.take_frames,
            take_bytes=writer.take_bytes,
            ring_fill=ring.read_space / ring.capacity,
            preroll_fill=min(1.0, writer.retained_frames / preroll) if preroll else 0.0,
            xruns=self.xruns,
            frames_lost=capture.stats().frames_lost,
            dsp_load=float(client.cpu_load()),
            sample_rate=client.samplerate,
            period=client.blocksize,
            disk_free=_disk_free(writer.take),
            trigger_dbfs=None if writer.trigger_level is None else dbfs(writer.trigger_level),
            preroll_seconds=preroll / client.samplerate,
            following=describe_following(writer.following),
        )

    # ---- takes ----

    def new_take(
        self,
        path: Path,
        file_format: FileFormat,
        notes: dict[str, Any] | None = None,
        split: str | None = None,
    ) -> Take:
        """Create the file (or files) of the next take (armed channels, sources now).

        `notes` go into its sidecar as they are (the service notes an outage
        there); `split` is ``--split``'s value (`jackrec.split`).

        Raises
        ------
        JackrecError
            When no channel is armed, the split does not fit the channels,
            or a file cannot be created.
        """
        return Take.create(self.take_info(path, file_format, notes, split))

    def take_info(
        self,
        path: Path,
        file_format: FileFormat,
        notes: dict[str, Any] | None = None,
        split: str | None = None,
    ) -> TakeInfo:
        """What a take begun now would record."""
        channels = self._armed_channels()
        limit = MAX_FILE_CHANNELS.get(file_format.container, MAX_CHANNELS_DEFAULT)
        try:
            groups = groups_of(split, len(channels), limit)
        except ValueError as error:
            raise JackrecError(str(error)) from None
        sources = self.sources()
        inputs = [self._inputs[c] for c in channels]
        latencies = tuple(capture_latency(port) for port in inputs)
        return TakeInfo(
            path=path,
            file_format=file_format,
            channels=channels,
            ports=tuple(port.name for port in inputs),
            sources=tuple(sources[c] for c in channels),
            sample_rate=self.client.samplerate,
            period=self.client.blocksize,
            session={
                "server": self.options.server,
                "client": self.client.name,
                "realtime": bool(self.client.realtime),
                "memory_locked": self.capture.memory_locked,
                **(notes or {}),
            },
            names=track_names(self.client, inputs, [sources[c] for c in channels]),
            latencies=latencies,
            align_delays=align_delays([high for _, high in latencies])
            if self.options.align
            else None,
            groups=groups,
            split=split,
            sync_seconds=self.options.sync_seconds,
        )

    def _armed_channels(self) -> tuple[int, ...]:
        channels = tuple(i for i, armed in enumerate(self.armed) if armed)
        if not channels:
            raise JackrecError("no channel is armed")
        return channels

    def record(
        self, take: Take, *, duration_frames: int | None = None, started_by: str = "command"
    ) -> None:
        """Begin `take` now (reaching back into the pre-roll, if armed).

        With `duration_frames`, it ends that many stream frames later;
        `started_by` goes into its sidecar.
        """
        at = self.now()
        self._submit(commands.Record(at, take, started_by))
        if duration_frames is not None:
            self._submit(commands.Stop(at + duration_frames, reason="duration"))

    def stop(self, reason: str = "stop request") -> None:
        """End the take now; `reason` goes into its sidecar."""
        self._submit(commands.Stop(self.now(), reason))

    def pause(self) -> None:
        self._submit(commands.Pause(self.now()))

    def resume(self) -> None:
        self._submit(commands.Resume(self.now()))

    def rotate(self, take: Take, at: int | None = None) -> None:
        """End the current take and begin `take` at the same frame.

        That frame is now, or stream frame `at` (a rotation planned ahead).
        """
        self._submit(commands.Rotate(self.now() if at is None else at, take))

    def marker(self, label: str) -> None:
        self._submit(commands.Marker(self.now(), label))

    def arm(
        self,
        preroll_seconds: float,
        trigger_dbfs: float | None = None,
        make_take: Callable[[], Take] | None = None,
        *,
        hold_seconds: float | None = None,
        release_dbfs: float | None = None,
        rearm: bool = False,
        take_seconds: float | None = None,
        takes: int | None = None,
    ) -> None:
        """Keep a pre-roll and, with a level, listen for a trigger.

        Keeps the last `preroll_seconds` (at most the session's pre-roll);
        with `trigger_dbfs`, a take (from `make_take`) begins at the first
        frame where an armed channel reaches that level, less the pre-roll,
        and the trigger disarms itself.  With `hold_seconds`, that take
        ends once that long passed with no sample at `release_dbfs`
        (default: 6 dB below the trigger), and the trigger listens again;
        with `rearm`, it listens again after every take.  With
        `take_seconds`, every take begun while armed is that long, pre-roll
        included; with `takes`, the session disarms once that many began.

        Raises
        ------
        JackrecError
            When a trigger is asked for and no channel is armed.
        """
        seconds = min(preroll_seconds, self.options.preroll_seconds)
        trigger = None
        if trigger_dbfs is not None:
            assert make_take is not None, "a trigger needs a way to make its take"
            release = trigger_dbfs - DEFAULT_HYSTERESIS_DB if release_dbfs is None else release_dbfs
            hold = None if hold_seconds is None else round(hold_seconds * self.client.samplerate)
            trigger = commands.Trigger(
                10 ** (trigger_dbfs / 20), self._armed_channels(), make_take,
                hold_frames=hold, release=10 ** (release / 20),
            )  # fmt: skip
        rate = self.client.samplerate
        take_frames = None if take_seconds is None else round(take_seconds * rate)
        self._submit(
            commands.Arm(self.now(), round(seconds * rate), trigger, rearm, take_frames, takes)
        )

    def follow(
        self,
        state: int,
        make_take: Callable[[], Take],
        *,
        duration_frames: int | None = None,
        takes: int | None = None,
    ) -> int | None:
        """Record a take (from `make_take`) each time JACK's `state` comes on.

        `state` holds `jackrec.core.capture.ROLLING` (the transport rolls)
        and/or ``FREEWHEEL`` (JACK freewheels); with both, a take runs while
        both are on.  Each take begins at the first frame of the first cycle
        in which they are, and ends at the first frame of the cycle in which
        one is no longer; a roll already under way begins a take at once.
        With `duration_frames`, following ends that many stream frames
        later, and a take still running ends there (returns that frame);
        with `takes`, it begins no more than that many.
        """
        self.capture.watch(state)
        at = self.now()
        until = None if duration_frames is None else at + duration_frames
        self._submit(commands.Follow(at, state, make_take, until, takes))
        if until is not None:
            self._submit(commands.Stop(until, reason="duration"))
        return until

    def unfollow(self) -> None:
        """Begin no more takes on JACK's transport or freewheel."""
        assert self._writer is not None
        self._writer.submit(commands.Unfollow(self.now()))
        self.capture.watch(0)

    def disarm(self) -> None:
        """Keep no pre-roll, listen for no trigger."""
        assert self._writer is not None
        self._writer.submit(commands.Disarm(self.now()))  # nothing to capture for

    @property
    def preroll_armed(self) -> bool:
        return self._writer is not None and self._writer.status.preroll_frames > 0

    @property
    def trigger_armed(self) -> bool:
        return self._writer is not None and self._writer.status.trigger_level is not None

    def now(self) -> int:
        """The stream frame the callback is at (0 before capturing starts)."""
        return self.capture.stats().stream_frames if self._capturing else 0

    def clock(self) -> tuple[int, float]:
        """A stream frame and its Unix time, both now, as JACK's clock estimates
        them between cycles (the mapping the takes' start times use)."""
        stats = self.capture.stats() if self._capturing else None
        if stats is None or not stats.started:
            return self.now(), time.time()
        now, frame_now = time.time(), self.client.frame_time
        # counted from the newest stream frame, so frame times that wrapped
        # (every 24.9 h at 48 kHz) are never compared across the wrap
        newest = (stats.first_jack_frame + stats.stream_frames) % FRAME_TIME_WRAP
        return stats.stream_frames + frames_between(newest, frame_now), now

    def _submit(self, command: commands.Command) -> None:
        """Hand `command` to the writer; capturing starts with the first one."""
        assert self._writer is not None
        self._writer.submit(command)
        self._start_capturing()

    def _start_capturing(self) -> None:
        if not self._capturing:
            self._capturing = True
            self.capture.set_capturing(True)

    def _clock(self, stream_frame: int) -> tuple[int | None, float | None]:
        """JACK frame time and Unix time of a stream frame (writer thread).

        Waits (briefly, bounded) for the first captured cycle, which fixes
        the JACK frame time of stream frame 0.
        """
        deadline = time.monotonic() + 2.0
        while not (stats := self.capture.stats()).started:
            if time.monotonic() > deadline or self.server_gone:
                return None, None
            time.sleep(0.001)
        jack_frame = (stats.first_jack_frame + stream_frame) % FRAME_TIME_WRAP
        client = self.client
        now, frame_now = time.time(), client.frame_time
        return jack_frame, unix_time_of(jack_frame, frame_now, now, client.samplerate)

    # ---- notifications (JACK's notification thread, the writer thread) ----

    def events_since(self, seen: int) -> tuple[list[events.Event], int]:
        """Events after the first `seen` (as many as are kept), and the new count."""
        return self._events.since(seen)

    def announce(self, event: events.Event) -> None:
        """Keep `event` for `events_since`, say it in the log, and hand it to
        `on_event` (any thread: the writer's, JACK's notification thread)."""
        self._events.add(event)
        log.log(event.log_level, "%s", event.text)
        if self.on_event is not None:
            self.on_event(event)

    def _on_xrun(self, delayed_usecs: float) -> None:
        self.xruns += 1
        self.announce(events.Xrun(delayed_usecs))
        writer = self._writer
        if writer is not None and self._capturing:  # into the take, at the frame reached
            writer.submit(commands.NoteXrun(self.now(), delayed_usecs))

    def _on_shutdown(self, status: jack.Status, reason: str) -> None:
        self.server_gone = reason or "no reason given"
        self.announce(events.ServerLost(self.server_gone))
        self.shutdown.set()

    def _on_graph_change(self, *args: Any) -> None:
        self.graph_version += 1

    def _on_property_change(self, subject: int, key: str, change: int) -> None:
        """A source renamed (its pretty-name) changes its tracks' names; jackrec's
        own inputs' names are jackrec's doing."""
        if key == jack.METADATA_PRETTY_NAME and subject not in self._input_uuids:
            self.graph_version += 1


def _disk_free(path: Path | None) -> int | None:
    try:
        return shutil.disk_usage(path.parent if path else Path.cwd()).free
    except OSError:
        return None
