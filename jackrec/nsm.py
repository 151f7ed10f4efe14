"""jackrec in a session manager: New Session Manager, RaySession, Agordejo.

With ``NSM_URL`` in its environment (the session manager sets it),
``jackrec serve`` speaks the NSM API 1.1.2 over OSC (UDP) instead of
reading the usual settings:

1. it announces itself (``/nsm/server/announce``) and waits for
   ``/nsm/client/open``, which names the client's directory in the session
   and its client id;
2. the directory holds its settings (``config.toml``: made on the first
   open, recording on command, into the directory itself) and its takes;
   the client id is its JACK client's name, and names its control socket
   (``$XDG_RUNTIME_DIR/jackrec/<client id>.sock``) so that ``jackrec ctl``
   and ``jackrec tui --attach`` reach it and two sessions never meet;
3. it serves as ever, with this face beside the socket and OSC: it answers
   ``/nsm/client/save`` (its settings and takes are on the disk as they
   change: nothing is left to write), and says it is dirty once a take has
   begun since the last save (the session's directory has changed, which a
   session manager that snapshots it wants to know) and clean after a save;
4. SIGTERM, the session manager's way to close a client, finalizes the take
   and ends it, as under systemd.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket, ParseError

from jackrec import __version__, events
from jackrec import config as config_module
from jackrec.control_socket import default_socket_path
from jackrec.errors import JackrecError
from jackrec.service import EventQueue, Service

log = logging.getLogger(__name__)

#: The API version jackrec speaks (1.1.2), and what it can do beyond the least.
API_MAJOR, API_MINOR = 1, 1
CAPABILITIES = ":dirty:message:"
#: NSM's error codes (`/error` replies).
ERR_GENERAL = -1
#: How long a session manager may take to answer the announce and open the client.
OPEN_SECONDS = 30.0


@dataclass(frozen=True)
class Opened:
    """What ``/nsm/client/open`` told: where the client keeps its files, and its id."""

    path: Path
    display_name: str
    client_id: str


def server_address(url: str) -> tuple[str, int]:
    """``osc.udp://HOST:PORT/`` as a socket address.

    Raises
    ------
    JackrecError
        When `url` is not an OSC-over-UDP URL with a port.
    """
    parsed = urllib.parse.urlparse(url)
    try:
        port = parsed.port
    except ValueError:
        port = None
    if parsed.scheme != "osc.udp" or not parsed.hostname or port is None:
        raise JackrecError(f"NSM_URL '{url}' is not osc.udp://HOST:PORT/")
    return parsed.hostname, port


def message(address: str, *arguments: str | int) -> bytes:
    builder = OscMessageBuilder(address)
    for argument in arguments:
        builder.add_arg(argument)
    return builder.build().dgram


class NsmClient:
    """jackrec's end of the NSM protocol: one UDP socket to the session manager."""

    def __init__(self, url: str) -> None:
        self.server = server_address(url)
        family = socket.AF_INET6 if ":" in self.server[0] else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._sock.connect(self.server)  # datagrams from anyone else are not taken
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def send(self, address: str, *arguments: str | int) -> None:
        try:
            self._sock.send(message(address, *arguments))
        except OSError as error:  # the session manager gone: it will not miss us
            log.debug("NSM: %s not sent: %s", address, error)

    def receive(self, timeout: float) -> list[tuple[str, list[Any]]]:
        """The messages one datagram brings within `timeout` (none: empty)."""
        with selectors.DefaultSelector() as selector:
            selector.register(self._sock, selectors.EVENT_READ)
            if not selector.select(timeout):
                return []
        try:
            datagram = self._sock.recv(65536)
            return [(m.message.address, m.message.params) for m in OscPacket(datagram).messages]
        except ParseError:
            log.debug("NSM: a datagram that is not OSC")
        except OSError as error:  # ECONNREFUSED: nobody listens at NSM_URL
            raise JackrecError(f"NSM: no session manager at NSM_URL ({error.strerror})") from None
        return []

    def open(self, stopped: Callable[[], bool], timeout: float = OPEN_SECONDS) -> Opened:
        """Announce, then wait for the session manager to open this client.

        Raises
        ------
        JackrecError
            When the session manager refuses the announce or does not open
            the client within `timeout`, or `stopped()` (a stop signal).
        """
        self.send(
            "/nsm/server/announce", "jackrec", CAPABILITIES, "jackrec",
            API_MAJOR, API_MINOR, os.getpid(),
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if stopped():
                raise JackrecError("NSM: stopped before the session manager opened it")
            for address, arguments in self.receive(0.1):
                if address == "/error" and arguments[:1] == ["/nsm/server/announce"]:
                    raise JackrecError(f"NSM: the session manager refused: {arguments[2:]}")
                if address == "/reply" and arguments[:1] == ["/nsm/server/announce"]:
                    log.info("NSM: announced to %s", arguments[2] if len(arguments) > 2 else "?")
                if address == "/nsm/client/open" and len(arguments) == 3:
                    path, display_name, client_id = map(str, arguments)
                    return Opened(Path(path), display_name, client_id)
        raise JackrecError(f"NSM: not opened by the session manager within {timeout:g} s")

    def answer_open(self, error: str | None) -> None:
        if error is None:
            self.send("/reply", "/nsm/client/open", f"jackrec {__version__} ready")
            self.send("/nsm/client/is_clean")
        else:
            self.send("/error", "/nsm/client/open", ERR_GENERAL, error)

    def start(self, service: Service) -> None:
        """Answer saves and tell dirtiness from a thread of its own, until `close`."""
        subscription = service.subscribe()
        self._thread = threading.Thread(
            target=self._run, args=(subscription,), name="jackrec-nsm", daemon=True
        )
        self._thread.start()

    def _run(self, subscription: EventQueue) -> None:
        dirty = False
        try:
            while not self._stop.is_set():
                event = subscription.next(0.05)
                if isinstance(event, events.TakeStarted) and not dirty:
                    dirty = True
                    self.send("/nsm/client/is_dirty")
                try:
                    received = self.receive(0.05)
                except JackrecError:  # the session manager went away; SIGTERM ends us
                    received = []
                for address, _ in received:
                    if address == "/nsm/client/save":
                        self.send("/reply", "/nsm/client/save", "settings and takes are on disk")
                        self.send("/nsm/client/is_clean")
                        dirty = False
                    elif address != "/nsm/client/session_is_loaded":
                        log.debug("NSM: %s ignored", address)
        finally:
            subscription.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1.0)
        self._sock.close()


def session_settings(opened: Opened) -> Path:
    """The client's settings file in its session directory, made to fit it.

    Made on the first open: takes go into the directory, recording begins
    on command (a session opened is no cue to fill the disk).  On every
    open: the JACK client's name is the client id, as NSM asks, and the
    control socket is named after it.

    Raises
    ------
    UsageError
        When the settings there cannot be read or would not load.
    """
    opened.path.mkdir(parents=True, exist_ok=True)
    path = opened.path / "config.toml"
    fresh = not path.exists()
    table = config_module.read_table(path)
    service = dict(table.get("service", {}))
    if fresh:
        service["start"] = "command"
    service["name"] = opened.client_id
    service["socket"] = str(default_socket_path().with_name(f"{opened.client_id}.sock"))
    changes: dict[str, Any] = {"service": service}
    if fresh:
        changes["directory"] = str(opened.path)
    return config_module.save(changes, path)
