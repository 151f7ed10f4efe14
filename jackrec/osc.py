"""OSC control on 127.0.0.1: jack_capture's, timemachine's and jackrec's own paths.

Existing set-ups switch from jack_capture (``-O PORT``) or timemachine
without changes: their messages, which take no arguments, mean here what
they mean there (`COMPATIBLE_PATHS`).  jackrec's own are
``/jackrec/<command>`` for every command but ``status`` and ``subscribe``
(OSC is one-way: nothing is sent back); ``start`` takes an optional take
name and ``marker`` an optional label, each one OSC string.

python-osc parses the packets; the addresses are looked up exactly (no OSC
pattern matching: ``/*`` must not start and stop at once), and a bundle's
messages are carried out at once, whatever its time tag.  Anything else (a
packet that does not parse, an unknown address, wrong arguments) is logged
at debug level, one line a message, and ignored.  Messages arrive only
from this machine: the port is bound to 127.0.0.1.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from pythonosc.osc_packet import OscPacket

from jackrec.control import ARGUMENTS, COMMANDS, Controller, Request, RequestError, check_argument
from jackrec.errors import JackrecError
from jackrec.listener import Listener

log = logging.getLogger(__name__)

#: jack_capture's (``jack_capture --help-osc``) and timemachine's addresses.
COMPATIBLE_PATHS = {
    # jack_capture: "stop recording and exit"; the service ends the take and stays
    "/jack_capture/stop": "stop",
    # jack_capture: the next file begins where this one ends
    "/jack_capture/rotate": "rotate",
    # jack_capture's timemachine mode: write from the pre-buffer on (here:
    # a take that reaches into the pre-roll when armed), and stop
    "/jack_capture/tm/start": "start",
    "/jack_capture/tm/stop": "stop",
    # timemachine: the same
    "/start": "start",
    "/stop": "stop",
}
OWN_PREFIX = "/jackrec/"
#: The commands OSC can give (those that are not asked for their reply).
OSC_COMMANDS = tuple(
    command for command in COMMANDS if command not in ("status", "channels", "meters", "subscribe")
)
#: The largest UDP datagram.
MAX_DATAGRAM = 65536
CLOSE_TIMEOUT = 2.0


class OscServer:
    """Carry out the OSC messages sent to `port` on 127.0.0.1 (0: any free port)."""

    def __init__(self, port: int, controller: Controller) -> None:
        self.port = port
        self.controller = controller
        self._sock: socket.socket | None = None
        self._listener: Listener | None = None

    def start(self) -> None:
        """Listen, from a thread of its own.

        Raises
        ------
        JackrecError
            The port cannot be had (taken, or not a port).
        """
        where = f"OSC: cannot listen on 127.0.0.1:{self.port}"
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        except OSError as error:  # jackrec's systemd units allow no network
            raise JackrecError(
                f"{where}: {error} (under systemd: see OSC in docs/service.md)"
            ) from None
        try:
            sock.bind(("127.0.0.1", self.port))
        except (OSError, OverflowError) as error:
            sock.close()
            raise JackrecError(f"{where}: {error}") from None
        self.port = sock.getsockname()[1]
        self._sock = sock
        self._listener = Listener(sock, self._receive, name="osc")
        self._listener.start()
        log.debug("OSC on 127.0.0.1:%d", self.port)

    def close(self) -> None:
        """Stop listening (again: nothing more)."""
        if self._listener is not None:
            self._listener.stop(CLOSE_TIMEOUT)  # and closes the socket
            self._listener = None

    def _receive(self) -> None:
        assert self._sock is not None
        datagram = self._sock.recv(MAX_DATAGRAM)
        for request in osc_requests(datagram):
            try:
                answer = self.controller.handle(request)
            except JackrecError as error:
                answer = {"ok": False, "error": str(error)}
            if not answer.get("ok"):
                log.info("OSC %s: refused: %s", request.command, answer.get("error"))


def osc_requests(datagram: bytes) -> list[Request]:
    """The requests in one datagram (a message, or bundles of them); the rest is ignored."""
    try:
        messages = [timed.message for timed in OscPacket(datagram).messages]
    except Exception as error:  # ParseError, or whatever a crafted packet provokes
        log.debug("OSC: ignored a packet that does not parse (%s)", type(error).__name__)
        return []
    requests = []
    for message in messages:
        try:
            requests.append(osc_request(message.address, message.params))
        except RequestError as error:
            log.debug("OSC: ignored %.80r: %s", message.address, error)
    return requests


def osc_request(address: str, arguments: list[Any]) -> Request:
    """The request an OSC message asks for.

    Raises
    ------
    RequestError
        An unknown address, or arguments it does not take.
    """
    command = COMPATIBLE_PATHS.get(address)
    takes = 0
    if command is None:
        own = address.removeprefix(OWN_PREFIX) if address.startswith(OWN_PREFIX) else ""
        if own not in OSC_COMMANDS:
            raise RequestError("unknown address")
        command, takes = own, (1 if own in ARGUMENTS else 0)
    if len(arguments) > takes:
        allowed = "at most one string" if takes else "none"
        raise RequestError(f"{len(arguments)} arguments (it takes {allowed})")
    argument = arguments[0] if arguments else None
    if argument is not None:
        check_argument(command, argument)
    return Request(command, argument)
