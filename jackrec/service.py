"""``jackrec serve``: the recorder as a service, unattended for weeks.

One thread, the service loop (`Service.run`, the main thread), owns the
session and makes every decision; everything else asks it.  Ten times a
second it:

- takes the stop signals (SIGINT, SIGTERM: finalize and exit) and SIGHUP
  (read the settings again, for the next take);
- answers the control requests queued by the control socket and OSC
  (`handle`, from their threads); the levels (``meters``) are read in the
  asking thread instead, each connection's own (`SharedMeters`);
- keeps a session open: waits for the JACK server (with backoff; it never
  starts one), and when the server goes away, finalizes the take (its
  sidecar says so), waits for the server again, reopens, reconnects and
  records on in a new take whose sidecar names the outage;
- follows the sources: ports that appear later and match the patterns are
  connected, in order, to the free inputs;
- records as the settings ask (``start``: now, on command, or armed,
  re-armed after every take; or, with ``transport`` or ``freewheel`` set,
  a take per roll of JACK's transport or per freewheel run), cuts takes
  where `jackrec.rotation` says, keeps `min_free` bytes free on the disk
  (no take begins below it plus `RESUME_SECONDS` of audio; a take ends
  below it), deletes old takes as `retain` asks (`jackrec.retention`);
- tells the supervisor (systemd) how it is: ready, status, watchdog (only
  while the disk writer is stepping);
- hands every event to the log (one line each) and to subscribers, and the
  takes' events to the hooks (`jackrec.hooks`, in a thread of their own).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import logging
import os
import queue
import shutil
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol

from jackrec import config as config_module
from jackrec import events, retention
from jackrec.channel_list import parse_channel_list
from jackrec.config import Config
from jackrec.control import Request, check_argument, refusal, reply
from jackrec.control_socket import ControlServer, service_socket_path
from jackrec.errors import JackrecError
from jackrec.follow import followed_state
from jackrec.hooks import HookRunner, check_hooks
from jackrec.jackclient import server_label, server_reachable
from jackrec.levels import MeterAccount, SharedMeters
from jackrec.naming import TakeNamer
from jackrec.osc import OscServer
from jackrec.recorder import channels_of
from jackrec.rotation import Rotator
from jackrec.service_config import ServiceConfig
from jackrec.session import Session, SessionOptions
from jackrec.take import Take
from jackrec.takefile import BYTES_PER_SAMPLE

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
#: Waits between attempts to reach the JACK server (the last one repeats).
BACKOFF_SECONDS = (0.5, 1.0, 2.0, 4.0, 8.0)
#: Room for this much audio above `min_free` before a take may begin.
RESUME_SECONDS = 5.0
STATUS_SECONDS = 2.0
#: The writer has not stepped for this long: no watchdog ping (it steps
#: every 0.1 s, or after each write).
WRITER_STALL_SECONDS = 5.0
#: Retention runs when a take finishes, and at least this often.
RETAIN_SECONDS = 60.0
#: How long a control request may wait for the service loop.
REQUEST_TIMEOUT = 10.0
#: A take asked for begins within the writer's guard window (0.5 s); past
#: this it is taken for lost and the service asks again.
STARTING_SECONDS = 5.0
SUBSCRIBER_EVENTS = 1000
#: Settings that belong to the session: they change when it is reopened.
SESSION_KEYS = ("channels", "ports", "buffer", "preroll", "transport", "freewheel")


class Supervisor(Protocol):
    """Who watches the service (systemd's sd_notify); every call may do nothing."""

    def ready(self) -> None: ...
    def status(self, text: str) -> None: ...
    def watchdog(self) -> None: ...
    def reloading(self) -> None: ...
    def stopping(self) -> None: ...


class Unsupervised:
    """No supervisor: every notification goes nowhere."""

    def ready(self) -> None:
        pass

    def status(self, text: str) -> None:
        pass

    def watchdog(self) -> None:
        pass

    def reloading(self) -> None:
        pass

    def stopping(self) -> None:
        pass


class EventQueue:
    """One subscriber's events, newest kept when it falls behind."""

    def __init__(self, subscribers: list[EventQueue], lock: threading.Lock) -> None:
        self._events: collections.deque[events.Event] = collections.deque(maxlen=SUBSCRIBER_EVENTS)
        self._ready = threading.Condition()
        self._subscribers, self._lock = subscribers, lock  # the service's list, and its lock

    def put(self, event: events.Event) -> None:
        with self._ready:
            self._events.append(event)
            self._ready.notify()

    def next(self, timeout: float) -> events.Event | None:
        with self._ready:
            if not self._events:
                self._ready.wait(timeout)
            return self._events.popleft() if self._events else None

    def close(self) -> None:
        with self._lock:
            if self in self._subscribers:
                self._subscribers.remove(self)


@dataclasses.dataclass
class Outage:
    """The JACK server went away; the next take's sidecar names it."""

    lost: float  # Unix time
    reason: str
    take: str | None  # the take it ended, if one was recording
    back: float | None = None  # Unix time it was reached again

    def notes(self) -> dict[str, Any]:
        return {
            "after_outage": {
                "server_lost_unix_time": self.lost,
                "server_back_unix_time": self.back,
                "seconds": None if self.back is None else round(self.back - self.lost, 3),
                "reason": self.reason,
                "previous_take": self.take,
            }
        }


class Service:
    """The recorder as a service; see the module docstring.

    Parameters
    ----------
    config, config_path
        The settings, and the file to read them again from (SIGHUP, reload).
    supervisor
        Told when the service is ready, how it is, that it lives.
    """

    def __init__(
        self,
        config: Config,
        config_path: Path | None,
        *,
        supervisor: Supervisor | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.supervisor = supervisor or Unsupervised()
        self.session: Session | None = None
        self.namer: TakeNamer | None = None
        self.want_recording = config.service.start == "now" and not self.following
        self._requests: queue.SimpleQueue[tuple[Request, Future[dict[str, Any]]]] = (
            queue.SimpleQueue()
        )
        self._subscribers: list[EventQueue] = []
        self._subscribers_lock = threading.Lock()
        self._meters = SharedMeters()
        self._channels_version = 0  # the channels request's list changed
        self._events_seen = 0
        self._graph_seen = -1
        self._next_attempt = 0.0
        self._attempts = 0
        self._outage: Outage | None = None
        self._starting: Path | None = None  # a take asked for, not yet begun
        self._starting_until = 0.0  # ... which it must by then, or is forgotten
        self._next_begin = 0.0  # after a take could not be created: not before
        self._rotator = Rotator(config.rotation(), self._new_take)
        self._disk_low = False
        self._ready = False
        self._last_status = 0.0
        self._last_retention = 0.0
        self._stopping = False
        self._hooks = HookRunner(lambda: self.config, self._announce)

    @property
    def settings(self) -> ServiceConfig:
        return self.config.service

    @property
    def following(self) -> int:
        """The JACK states followed (settings ``transport``, ``freewheel``): then
        takes begin and end with them, and ``[service] start`` is not used."""
        return followed_state(self.config.transport, self.config.freewheel)

    # ---- the Controller protocol (any thread) ----

    def handle(self, request: Request) -> dict[str, Any]:
        """Carry out `request` in the service loop and reply."""
        if request.command in ("subscribe", "meters"):
            return refusal(f"{request.command} is answered by the control socket")
        if self._stopping:
            return refusal("the service is stopping")
        future: Future[dict[str, Any]] = Future()
        self._requests.put((request, future))
        try:
            return future.result(timeout=REQUEST_TIMEOUT)
        except TimeoutError:
            return refusal(f"the service did not answer within {REQUEST_TIMEOUT:g} s")

    def subscribe(self) -> EventQueue:
        with self._subscribers_lock:
            subscription = EventQueue(self._subscribers, self._subscribers_lock)
            self._subscribers.append(subscription)
        return subscription

    def meter_reader(self) -> MeterAccount:
        return self._meters.reader()

    # ---- the loop ----

    def run(self, next_signal: Callable[[float], signal.Signals | None]) -> int:
        """Serve until SIGINT or SIGTERM; the take in progress is finalized
        (and its hooks waited for, within `jackrec.hooks.EXIT_WAIT_SECONDS`)."""
        self._hooks.start()
        try:
            while (received := next_signal(POLL_SECONDS)) not in (signal.SIGINT, signal.SIGTERM):
                if received == signal.SIGHUP:
                    with contextlib.suppress(JackrecError):  # announced; the old settings stay
                        self.reload()
                self._answer_requests()
                self._step()
        finally:
            self._stopping = True
            self.supervisor.stopping()
            self._close("stop request")
            self._answer_requests()  # those that came meanwhile: refused
            self._hooks.close()
        return 0

    def _step(self) -> None:
        if self.session is None:
            self._connect()
            self._tell_supervisor(None)
            return
        session = self.session
        if session.shutdown.is_set():
            self._lose_server(session)
            return
        self._pass_on_events(session)
        if session.graph_version != self._graph_seen:
            self._graph_seen = session.graph_version
            self._channels_version += 1
        for source, port in session.follow_graph():
            log.info("connected %s to %s", source, port)
        self._keep_disk_free(session)
        self._record_as_asked(session)
        if self._rotator.step(session) is not None:
            self._starting = None
        self._retain()
        self._tell_supervisor(session)

    # ---- the JACK server ----

    def _connect(self) -> None:
        if time.monotonic() < self._next_attempt:
            return
        label = server_label(self.settings.server)
        if not server_reachable(self.settings.server):
            if self._attempts == 0:
                self._announce(events.WaitingForServer(label))
            wait = BACKOFF_SECONDS[min(self._attempts, len(BACKOFF_SECONDS) - 1)]
            self._attempts += 1
            self._next_attempt = time.monotonic() + wait
            return
        try:
            session = Session(self._session_options()).open()
        except JackrecError as error:
            self._announce(events.RecorderError(f"{label}: {error}"))
            self._next_attempt = time.monotonic() + BACKOFF_SECONDS[-1]
            return
        self._attempts = 0
        session.on_event = self._hooks.offer
        self.session, self._events_seen, self._graph_seen = session, 0, session.graph_version
        self._meters.attach(session.meters, session.channels)
        self._channels_version += 1
        self.namer = TakeNamer(session, self.config)
        if self._outage is not None:
            self._outage.back = time.time()
            self._announce(events.ServerBack(label, self._outage.back - self._outage.lost))
        if self.following:
            session.follow(self.following, self.namer.create)
        elif self.settings.start == "armed":
            self._arm(session)

    def _session_options(self) -> SessionOptions:
        c, s = self.config, self.settings
        return SessionOptions(
            channels=c.channels,
            ports=tuple(c.ports),
            client_name=s.name,
            server=s.server,
            buffer_seconds=c.buffer,
            preroll_seconds=c.preroll,
            follow=True,
            align=c.align,
            sync_seconds=c.sync,
        )

    def _lose_server(self, session: Session) -> None:
        """The server went away: finalize, and wait for it to come back."""
        take = session.take
        reason = session.server_gone or ""
        self._outage = Outage(time.time(), reason, take.path.name if take else None)
        self._pass_on_events(session)
        self._close("server shutdown")
        self._next_attempt = time.monotonic() + BACKOFF_SECONDS[0]

    def _close(self, ended_by: str) -> None:
        session, self.session = self.session, None
        if session is None:
            return
        self._meters.attach(None)  # nobody may read a capture being closed
        session.close(ended_by)
        self._pass_on_events(session)
        self._starting, self._ready = None, False

    # ---- takes ----

    def _record_as_asked(self, session: Session) -> None:
        state = session.state
        if self._starting is not None:
            began = (
                state in ("recording", "paused") and session.writer_status.take == self._starting
            )
            if began or time.monotonic() > self._starting_until:
                self._starting = None
            return
        idle = state in ("stopped", "armed") and not self._disk_low
        if self.want_recording and idle and time.monotonic() >= self._next_begin:
            with contextlib.suppress(JackrecError):  # announced; tried again later
                self._begin(session)
        elif (
            self.settings.start == "armed"
            and not self.following
            and state == "stopped"
            and not self._disk_low
        ):
            self._arm(session)

    def _begin(self, session: Session, name: str | None = None) -> Path:
        """Create a take and ask for it to begin now; returns its file.

        Raises
        ------
        JackrecError
            When the take cannot be created (announced; no new attempt for
            `BACKOFF_SECONDS[-1]`).
        """
        assert self.namer is not None
        notes = self._outage.notes() if self._outage is not None else None
        try:
            take = self.namer.create(name, notes)
        except JackrecError as error:
            self._next_begin = time.monotonic() + BACKOFF_SECONDS[-1]
            self._announce(events.RecorderError(f"cannot begin a take: {error}"))
            raise
        self._outage = None
        session.record(take)
        self._starting, self._starting_until = take.path, time.monotonic() + STARTING_SECONDS
        return take.path

    def _new_take(self, when: float) -> Take:
        assert self.namer is not None
        return self.namer.create(when=when)

    def _arm(self, session: Session) -> None:
        """Arm what the settings ask for: the pre-roll, and the trigger if one is set."""
        assert self.namer is not None
        c = self.config
        session.arm(
            c.preroll, c.trigger, self.namer.create,
            hold_seconds=c.trigger_hold, release_dbfs=c.release_dbfs,
        )  # fmt: skip

    # ---- the disk ----

    def _keep_disk_free(self, session: Session) -> None:
        free = _free_bytes(self.config.recordings)
        if free is None:
            return
        needed = self.settings.min_free
        room = needed + round(RESUME_SECONDS * self._bytes_per_second(session))
        recording = session.state in ("recording", "paused")
        if recording and free < needed:
            session.stop("disk full (min_free)")
            self._starting = None
        if (free < needed or (not recording and free < room)) != self._disk_low:
            self._disk_low = not self._disk_low
            if self._disk_low:
                self._announce(events.DiskLow(self.config.recordings, free, needed))

    def _bytes_per_second(self, session: Session) -> int:
        """What a take of the armed channels (at least one) writes a second."""
        sample = BYTES_PER_SAMPLE.get(self._subtype(), 4)
        return round(sample * max(1, sum(session.armed)) * session.sample_rate)

    def _subtype(self) -> str:
        try:
            return self.namer.file_format().subtype if self.namer else "FLOAT"
        except JackrecError:
            return "FLOAT"

    def _retain(self) -> None:
        s = self.settings
        if (s.retain_age is None and s.retain_size is None) or (
            time.monotonic() - self._last_retention < RETAIN_SECONDS
        ):
            return
        self._last_retention = time.monotonic()
        session = self.session
        current = session.take.path if session and session.take else None
        takes = [
            take
            for take in retention.finished_takes(self.config.recordings)
            if take.path != current
        ]
        doomed = retention.expired(takes, time.time(), s.retain_age, s.retain_size)
        for take in doomed:
            retention.delete(take)
        if doomed:
            self._announce(events.TakesDeleted(tuple(take.path.name for take in doomed)))

    # ---- settings ----

    def reload(self) -> list[str]:
        """Read the settings file again; returns the keys that wait for a reconnect.

        Naming, format, rotation and disk settings apply from the next take;
        the JACK server and client and the session's channels, ports,
        buffer and pre-roll when JACK is next connected.
        """
        reporting = self._ready  # before READY=1 systemd is still starting the unit
        if reporting:
            self.supervisor.reloading()
        try:
            config = config_module.load(self.config_path)
            check_hooks(config)
        except JackrecError as error:
            self._announce(events.RecorderError(f"reload refused: {error}"))
            raise
        finally:  # refused or not, the reload is over: `systemctl reload` waits for READY=1
            if reporting:
                self.supervisor.ready()
        later = [key for key in SESSION_KEYS if getattr(config, key) != getattr(self.config, key)]
        later += [
            f"service.{key}"
            for key in ("server", "name")
            if getattr(config.service, key) != getattr(self.settings, key)
        ]
        self.config = config
        self._rotator.rotation = config.rotation()
        if self.namer is not None:
            self.namer.config = config
        path = self.config_path or config_module.default_path()
        self._announce(events.SettingsReloaded(path, tuple(later)))
        return later

    # ---- requests ----

    def _answer_requests(self) -> None:
        while True:
            try:
                request, future = self._requests.get_nowait()
            except queue.Empty:
                return
            if self._stopping:
                future.set_result(refusal("the service is stopping"))
                continue
            try:
                future.set_result(self._answer(request))
            except JackrecError as error:
                future.set_result(refusal(str(error)))

    def _answer(self, request: Request) -> dict[str, Any]:
        if request.argument is not None:  # however the request came
            check_argument(request.command, request.argument)
        if request.command == "status":
            return reply(**self.status())
        if request.command == "reload":
            return reply(later=self.reload())
        session = self.session
        if session is None:
            raise JackrecError(f"not connected to {server_label(self.settings.server)}")
        recording = session.state in ("recording", "paused") or self._starting is not None
        match request.command:
            case "start":
                if recording:
                    raise JackrecError("already recording")
                if self._disk_low:
                    raise JackrecError("not enough free space for a take (min_free)")
                self.want_recording = True
                return reply(take=str(self._begin(session, request.argument)))
            case "stop":
                self.want_recording = False
                if not recording:
                    raise JackrecError("not recording")
                session.stop()
                self._starting = None
                return reply()
            case "rotate":
                if not recording:
                    raise JackrecError("not recording")
                assert self.namer is not None
                take = self.namer.create()
                session.rotate(take)
                return reply(take=str(take.path))
            case "marker":
                if not recording:
                    raise JackrecError("not recording: markers go into a take")
                session.marker(request.argument or "marker")
                return reply()
            case "pause":
                if not recording or session.state == "paused":
                    raise JackrecError("not recording")
                session.pause()
                return reply()
            case "resume":
                if session.state != "paused":
                    raise JackrecError("not paused")
                session.resume()
                return reply()
            case "arm":
                if self.config.preroll <= 0 and self.config.trigger is None:
                    raise JackrecError("nothing to arm: set preroll or trigger in the settings")
                self._arm(session)
                preroll = min(self.config.preroll, session.options.preroll_seconds)
                return reply(
                    preroll_seconds=preroll,
                    trigger_dbfs=self.config.trigger,
                    hold_seconds=self.config.trigger_hold,
                )
            case "disarm":
                session.disarm()
                return reply()
            case "arm_channels":
                try:
                    session.armed[:] = parse_channel_list(request.argument or "", session.channels)
                except ValueError as error:
                    raise JackrecError(str(error)) from None
                self._channels_version += 1
                return self._channels_reply(session)
            case "channels":
                return self._channels_reply(session)
        raise JackrecError(f"unknown command {request.command}")

    def _channels_reply(self, session: Session) -> dict[str, Any]:
        channels = [channel.to_json() for channel in channels_of(session)]
        return reply(channels=channels, channels_version=self._channels_version)

    def status(self) -> dict[str, Any]:
        """The service's state and figures, as the ``status`` request replies."""
        server = server_label(self.settings.server)
        session = self.session
        if session is None:
            return {"state": "waiting for server", "server": server, "server_up": False}
        status = session.status()
        stats = session.capture.stats()
        state = status.state
        if self._disk_low and state in ("stopped", "armed"):
            state = "waiting for disk space"
        return {
            "state": state,
            "server": server,
            "server_up": True,
            "take": str(status.take) if status.take else None,
            "elapsed": round(status.take_frames / status.sample_rate, 3),
            "frames": status.take_frames,
            "xruns": status.xruns,
            "frames_lost": status.frames_lost,
            "ring_high_water": round(stats.ring_high_water, 4),
            "callback_us_max": round(stats.callback_ns_max / 1000, 1),
            "disk_free": status.disk_free,
            "sample_rate": status.sample_rate,
            "channels": session.channels,
            "armed_channels": sum(session.armed),
            "channels_version": self._channels_version,
            # the rest of what a console attached to the service shows
            "take_bytes": status.take_bytes,
            "bytes_per_second": self._bytes_per_second(session),
            "ring_fill": round(status.ring_fill, 4),
            "preroll_seconds": status.preroll_seconds,
            "preroll_fill": round(status.preroll_fill, 3),
            "trigger_dbfs": status.trigger_dbfs,
            "following": status.following,
            "dsp_load": round(status.dsp_load, 1),
            "period": status.period,
            "start": self.settings.start,
            "rotate": self.config.rotate,
        }

    # ---- telling ----

    def _pass_on_events(self, session: Session) -> None:
        new, self._events_seen = session.events_since(self._events_seen)
        for event in new:
            if isinstance(event, events.TakeFinished):
                self._last_retention = 0.0  # a take is done: retention runs next step
            self._publish(event)

    def _announce(self, event: events.Event) -> None:
        """An event of the service's own: logged here, published like the session's."""
        log.log(event.log_level, "%s", event.text)
        self._publish(event)

    def _publish(self, event: events.Event) -> None:
        with self._subscribers_lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber.put(event)

    def _tell_supervisor(self, session: Session | None) -> None:
        """Ready, alive, and how it is.

        Ready once it does what the settings ask: recording or armed, or,
        started on command, connected and waiting for one (the status goes
        with it).  Alive while the writer steps (with no session, while this
        loop does).  The status every `STATUS_SECONDS`.
        """
        ready = False
        if session is None:
            self.supervisor.watchdog()
        else:
            expected = ("stopped",) if self.settings.start == "command" else ("recording", "armed")
            ready = not self._ready and session.state in expected
            if time.monotonic() - session.writer_status.stepped_at < WRITER_STALL_SECONDS:
                self.supervisor.watchdog()
        if ready or time.monotonic() - self._last_status >= STATUS_SECONDS:
            self._last_status = time.monotonic()
            self.supervisor.status(status_line(self.status()))
        if ready:
            self._ready = True
            self.supervisor.ready()


def status_line(status: dict[str, Any]) -> str:
    """The status in one line, for systemd's STATUS= (``systemctl status``)."""
    parts = [status["state"]]
    if status.get("take"):
        parts.append(f"{os.path.basename(status['take'])} {status['elapsed']:.0f} s")
    if status.get("server_up"):
        parts += [f"xruns {status['xruns']}", f"lost {status['frames_lost']}"]
    if status.get("disk_free") is not None:
        parts.append(f"disk {status['disk_free'] / 2**30:.1f} GiB free")
    return ", ".join(parts)


def _free_bytes(directory: Path) -> int | None:
    """Free bytes where takes go (the nearest existing directory's disk)."""
    for candidate in (directory, *directory.parents):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return None


def serve(service: Service, next_signal: Callable[[float], signal.Signals | None]) -> int:
    """Run `service` with its control faces: the socket, and OSC if asked for.

    Raises
    ------
    JackrecError
        When a face cannot start (another service holds the socket, the OSC
        port is taken): before anything is recorded.
    """
    settings = service.settings
    faces: list[ControlServer | OscServer] = [
        ControlServer(
            service_socket_path(settings.socket, service.config_path, settings.name),
            service,
            group=settings.socket_group,
        )
    ]
    if settings.osc_port is not None:
        faces.append(OscServer(settings.osc_port, service))
    started: list[ControlServer | OscServer] = []
    try:
        for face in faces:
            face.start()
            started.append(face)
        return service.run(next_signal)
    finally:
        for face in reversed(started):
            face.close()
