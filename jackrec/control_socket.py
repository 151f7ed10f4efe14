"""The control socket: the control plane (`jackrec.control`) as JSON lines.

A Unix domain stream socket.  A client writes one request a line and reads
one reply a line, as many as it likes on one connection; ``subscribe``
turns the connection into a stream of events, one JSON object a line,
until the client hangs up.  Each connection has a thread of its own, so a
client can only ever hold up itself, and each is bounded:

- a request line is read at most `control.MAX_REQUEST_BYTES` at a time: a
  longer one is refused and skipped, never buffered;
- a client that sends nothing for `IDLE_TIMEOUT`, or does not take its
  reply within `SEND_TIMEOUT`, is disconnected;
- at most `MAX_CONNECTIONS` at once: the next is refused;
- a subscriber that reads too slowly loses the events that do not fit its
  `SUBSCRIBER_BUFFER`; when it has caught up it is told how many it lost
  (an ``events_dropped`` event).

Only the service's own user, root and members of the configured group may
talk to it: the socket file is created 0600 (0660 with a group), and each
peer's credentials (``SO_PEERCRED``, ``SO_PEERGROUPS``) are checked as well;
anyone else gets one refusal line and is disconnected.
"""

from __future__ import annotations

import contextlib
import grp
import json
import logging
import os
import select
import socket
import stat
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jackrec import control
from jackrec.control import (
    Controller,
    MeterReader,
    Request,
    RequestError,
    Subscription,
    meters_reply,
    parse_request,
    refusal,
    reply,
)
from jackrec.errors import JackrecError
from jackrec.events import EventsDropped
from jackrec.listener import Listener

log = logging.getLogger(__name__)

#: Connections served at once; one more is refused.
MAX_CONNECTIONS = 32
#: Seconds a connection may send nothing before it is closed (not a subscriber's).
IDLE_TIMEOUT = 60.0
#: Seconds a client has to take a reply before it is disconnected.
SEND_TIMEOUT = 5.0
#: Bytes of events kept for a subscriber that is not reading (besides the kernel's).
SUBSCRIBER_BUFFER = 64 * 1024
#: Seconds a subscriber's thread waits for an event, or for its client to
#: take what waits for it, before it looks again.
EVENT_POLL = 0.1
#: Events taken from a subscription between two looks at its client.
EVENTS_PER_ROUND = 1000
#: Seconds `ControlServer.close` waits for the connections' threads.
CLOSE_TIMEOUT = 2.0
READ_SIZE = 4096
#: ``SO_PEERGROUPS`` (Linux 4.13), which Python does not name; the generic value.
SO_PEERGROUPS = getattr(socket, "SO_PEERGROUPS", 59)


#: A system instance's sockets (its unit's RuntimeDirectory=jackrec).
SYSTEM_RUNTIME = Path("/run/jackrec")


def service_socket_path(socket: str | None, config_path: Path | None, name: str) -> Path:
    """Where the service these settings run listens, seen from the service.

    The settings' `socket`; else, for a system service (systemd's
    ``RuntimeDirectory=`` sets ``$RUNTIME_DIRECTORY``; there is no login
    session), ``/run/jackrec/NAME.sock``, NAME being the settings file's
    (``jackrec@NAME`` reads ``/etc/jackrec/NAME.toml``), or the client
    `name` with the default file; else `default_socket_path`.
    """
    if socket is not None:
        return Path(socket).expanduser()
    runtime = os.environ.get("RUNTIME_DIRECTORY")
    if runtime and not os.environ.get("XDG_RUNTIME_DIR"):
        return Path(runtime.split(":")[0]) / f"{config_path.stem if config_path else name}.sock"
    return default_socket_path()


def client_socket_path(socket: str | None, config_path: Path | None) -> Path:
    """Where ``ctl`` and an attached console find the service these settings run.

    The settings' `socket`; else a system instance's, if the settings file
    names one that listens (``/run/jackrec/NAME.sock``); else
    `default_socket_path`.
    """
    if socket is not None:
        return Path(socket).expanduser()
    if config_path is not None and (system := SYSTEM_RUNTIME / f"{config_path.stem}.sock").exists():
        return system
    return default_socket_path()


def default_socket_path() -> Path:
    """``$XDG_RUNTIME_DIR/jackrec/control.sock``: where the service and ``ctl`` meet.

    Raises
    ------
    JackrecError
        When ``XDG_RUNTIME_DIR`` is not set (no login session: name a path).
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime:
        raise JackrecError(
            "XDG_RUNTIME_DIR is not set: give the control socket's path "
            "(jackrec ctl --socket PATH, jackrec tui --attach PATH; the service's socket setting)"
        )
    return Path(runtime) / "jackrec" / "control.sock"


def encode(message: dict[str, Any]) -> bytes:
    """One JSON line (JSON escapes every newline inside strings)."""
    return json.dumps(message, default=str).encode() + b"\n"


class ControlServer:
    """Serve `controller` on the Unix socket `path`; see the module docstring.

    Parameters
    ----------
    path
        The socket file.  Its directory is created 0700 (0750, owned by
        `group`, with one) if missing.
    controller
        What requests drive.
    group
        A group whose members may use the socket too (None: the service's
        user and root only).
    """

    def __init__(self, path: Path, controller: Controller, *, group: str | None = None) -> None:
        self.path = path
        self.controller = controller
        self.group = group
        self._gid: int | None = None
        self._sock: socket.socket | None = None
        self._listener: Listener | None = None
        self._file_id: tuple[int, int] | None = None
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}

    # ---- lifetime ----

    def start(self) -> None:
        """Create the socket and serve it from a thread of its own.

        Raises
        ------
        JackrecError
            The group does not exist, the path is taken (by a live service,
            or by something that is not a socket), or the socket cannot be
            created there.
        """
        if self.group is not None:
            try:
                self._gid = grp.getgrnam(self.group).gr_gid
            except KeyError:
                raise JackrecError(f"control socket: no group named '{self.group}'") from None
        self._make_directory()
        self._clear_stale_socket()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(self.path))
            # connect() needs write permission on the file; the peer check
            # below holds even in the moment before these apply.
            os.chmod(self.path, 0o600 if self._gid is None else 0o660)
            if self._gid is not None:
                os.chown(self.path, -1, self._gid)
            sock.listen(MAX_CONNECTIONS)
        except OSError as error:
            sock.close()
            raise JackrecError(f"cannot create the control socket {self.path}: {error}") from None
        info = os.stat(self.path)
        self._file_id = (info.st_dev, info.st_ino)
        self._sock = sock
        self._listener = Listener(sock, self._accept, name="control-socket")
        self._listener.start()
        log.debug("control socket on %s", self.path)

    def close(self) -> None:
        """End every connection and remove the socket file, within `CLOSE_TIMEOUT`.

        Closing again does nothing more.
        """
        self._closing.set()
        deadline = time.monotonic() + CLOSE_TIMEOUT
        if self._listener is not None:
            self._listener.stop(CLOSE_TIMEOUT)  # and closes the socket
            self._listener = None
        with self._lock:
            connections = dict(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # already closed by its thread
                conn.shutdown(socket.SHUT_RDWR)
        for thread in connections.values():
            thread.join(max(0.0, deadline - time.monotonic()))
        self._remove_socket_file()

    def _make_directory(self) -> None:
        directory = self.path.parent
        if directory.exists():
            return
        try:
            directory.mkdir(mode=0o700, parents=True)
            if self._gid is not None:  # its members must reach the socket
                os.chown(directory, -1, self._gid)
                os.chmod(directory, 0o750)
        except OSError as error:
            raise JackrecError(f"cannot create {directory}: {error.strerror}") from None

    def _clear_stale_socket(self) -> None:
        """Remove the socket a dead service left; refuse a live one, or any other file."""
        try:
            mode = os.lstat(self.path).st_mode
        except FileNotFoundError:
            return
        except OSError as error:
            raise JackrecError(f"control socket {self.path}: {error.strerror}") from None
        if not stat.S_ISSOCK(mode):
            raise JackrecError(f"{self.path} exists and is not a socket; not touching it")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            try:
                probe.connect(str(self.path))
            except ConnectionRefusedError:  # nobody listens: a dead service's
                log.debug("removing the stale control socket %s", self.path)
                self.path.unlink()
                return
            except OSError as error:
                raise JackrecError(f"control socket {self.path}: {error}") from None
        raise JackrecError(f"another jackrec serve is running on {self.path}")

    def _remove_socket_file(self) -> None:
        """Unlink the socket file, if it is still the one this server made."""
        try:
            info = os.lstat(self.path)
        except OSError:
            return
        if stat.S_ISSOCK(info.st_mode) and (info.st_dev, info.st_ino) == self._file_id:
            self.path.unlink(missing_ok=True)

    # ---- connections ----

    def _accept(self) -> None:
        assert self._sock is not None
        try:
            conn, _ = self._sock.accept()
        except OSError as error:  # out of file descriptors: let the backlog wait
            log.warning("control socket: cannot accept a connection: %s", error)
            time.sleep(0.1)
            return
        thread = threading.Thread(
            target=self._serve, args=(conn,), name="control-connection", daemon=True
        )
        with self._lock:
            full = len(self._connections) >= MAX_CONNECTIONS
            if not full:
                self._connections[conn] = thread
        if not full:
            thread.start()
            return
        conn.setblocking(False)  # a fresh socket's buffer takes one line
        with contextlib.suppress(OSError), conn:
            conn.send(encode(refusal(f"too many connections ({MAX_CONNECTIONS})")))

    def _serve(self, conn: socket.socket) -> None:
        """One connection's requests, until it hangs up, idles or subscribes.

        ``meters`` is answered here, from the connection's own reader of the
        levels (made at its first ``meters``), so each client gets the levels
        since its own last look, without waiting for the service loop.
        """
        levels: MeterReader | None = None
        try:
            with conn:
                problem = self._peer_problem(conn)
                if problem:
                    log.info("control socket: refused %s", problem)
                    self._send(conn, refusal(f"permission denied: {problem}"))
                    return
                conn.settimeout(IDLE_TIMEOUT)
                for line in request_lines(conn):
                    if line is None:
                        self._send(conn, refusal(control.TOO_LONG))
                        continue
                    try:
                        request = parse_request(line)
                    except RequestError as error:
                        self._send(conn, refusal(str(error)))
                        continue
                    if request.command == "meters":
                        levels = levels or self.controller.meter_reader()
                        self._send(conn, meters_reply(levels.take()))
                        continue
                    if request.command != "subscribe":
                        self._send(conn, self._handle(request))
                        continue
                    try:
                        subscription = self.controller.subscribe()
                    except JackrecError as error:
                        self._send(conn, refusal(str(error)))
                        continue
                    self._stream_events(conn, subscription)
                    return
        except OSError as error:  # timed out, reset, or closed by close()
            log.debug("control connection ended: %s", error)
        except Exception:  # a bug must cost one connection, not the service
            log.exception("control connection failed")
        finally:
            if levels is not None:
                levels.close()
            with self._lock:
                self._connections.pop(conn, None)

    def _peer_problem(self, conn: socket.socket) -> str | None:
        """Why this peer may not control the service (None: it may)."""
        ucred = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("iII"))
        _, uid, gid = struct.unpack("iII", ucred)
        if uid in (0, os.geteuid()):
            return None
        if self._gid is not None and (gid == self._gid or self._gid in peer_groups(conn)):
            return None
        allowed = f"or group {self.group} " if self.group else ""
        return f"uid {uid} is not the service's user {allowed}or root"

    def _handle(self, request: Request) -> dict[str, Any]:
        try:
            return self.controller.handle(request)
        except JackrecError as error:
            return refusal(str(error))
        except Exception:  # a bug must cost one request, not the service
            log.exception("control request %s failed", request.command)
            return refusal(f"{request.command} failed: internal error (see the service's log)")

    @staticmethod
    def _send(conn: socket.socket, message: dict[str, Any]) -> None:
        conn.settimeout(SEND_TIMEOUT)
        conn.sendall(encode(message))
        conn.settimeout(IDLE_TIMEOUT)

    def _stream_events(self, conn: socket.socket, subscription: Subscription) -> None:
        """Events as lines until the client hangs up or the server closes.

        The subscription is drained at once, whatever the client does:
        lines wait in `SUBSCRIBER_BUFFER`, and an event that does not fit
        is dropped and counted; once the buffer has emptied, an
        `EventsDropped` says how many were lost.
        """
        try:
            self._send(conn, reply())
            conn.setblocking(False)
            pending = bytearray()
            dropped = 0
            while not self._closing.is_set():
                if pending:  # wait for the client to take some, not for events
                    select.select([], [conn], [], EVENT_POLL)
                event = subscription.next(0 if pending else EVENT_POLL)
                taken = 0
                while event is not None:
                    line = encode(event.to_json())
                    if len(pending) + len(line) <= SUBSCRIBER_BUFFER:
                        pending += line
                    else:
                        dropped += 1
                    taken += 1  # then send, even in a flood
                    event = subscription.next(0) if taken < EVENTS_PER_ROUND else None
                if dropped and not pending:
                    pending += encode(EventsDropped(dropped).to_json())
                    dropped = 0
                if pending:
                    with contextlib.suppress(BlockingIOError):
                        del pending[: conn.send(pending)]
                if client_gone(conn):
                    return
        finally:
            subscription.close()


def request_lines(conn: socket.socket) -> Iterator[bytes | None]:
    """The lines a client sends, each with its newline, until it hangs up.

    A line longer than `control.MAX_REQUEST_BYTES` comes out as None, once,
    and the rest of it is skipped as it arrives: no more than that many
    bytes (and one read) are ever held.
    """
    buffer = bytearray()
    skipping = False  # inside a line already refused
    while chunk := conn.recv(READ_SIZE):
        buffer += chunk
        while (end := buffer.find(b"\n")) >= 0:
            line = bytes(buffer[: end + 1])
            del buffer[: end + 1]
            if skipping:
                skipping = False
            else:
                yield line
        if len(buffer) > control.MAX_REQUEST_BYTES:
            if not skipping:
                skipping = True
                yield None
            buffer.clear()


def client_gone(conn: socket.socket) -> bool:
    """Whether a non-blocking connection's client has hung up (its input is discarded)."""
    try:
        return not conn.recv(READ_SIZE)
    except BlockingIOError:
        return False


def peer_groups(conn: socket.socket) -> set[int]:
    """The peer's supplementary groups (empty where the kernel cannot say, or past 256)."""
    try:  # 4 bytes a group; Python reads at most 1024 bytes, so 256 groups
        data = conn.getsockopt(socket.SOL_SOCKET, SO_PEERGROUPS, 1024)
    except OSError:
        return set()
    return set(struct.unpack(f"{len(data) // 4}I", data))
