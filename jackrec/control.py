"""The control plane's language: requests, replies and event subscriptions.

One language for every way to drive a running recorder (the service):
its control socket (JSON lines), ``jackrec ctl``, OSC, and the console
attached to a service.  A request is a JSON object with a ``command`` and,
for some commands, one argument:

============  ================================================================
command       does
============  ================================================================
status        the recorder's state and figures (`Controller.handle` replies
              with them)
start         begin a take now (``name``: a plain file name in the recording
              directory; default: the settings' template)
stop          end the take
rotate        end the take and begin the next at the same frame
marker        a marker in the take (``label``: up to `MAX_LABEL` characters)
arm           arm what the settings ask for (pre-roll, level trigger)
disarm        disarm both
reload        read the settings again (applied at the next take boundary)
subscribe     (socket only) a stream of events, one JSON object a line
============  ================================================================

A reply is ``{"ok": true, ...}`` or ``{"ok": false, "error": "<one line>"}``.
Nothing a request says can name a path outside the recording directory: the
only name it may carry is a plain file name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from jackrec.errors import JackrecError
from jackrec.events import Event

#: The longest request line accepted (bytes, with its newline).
MAX_REQUEST_BYTES = 4096
#: The refusal of a longer one.
TOO_LONG = f"request longer than {MAX_REQUEST_BYTES} bytes"
#: The longest marker label.
MAX_LABEL = 200
COMMANDS = ("status", "start", "stop", "rotate", "marker", "arm", "disarm", "reload", "subscribe")
#: The argument each command takes, if any.
ARGUMENTS = {"start": "name", "marker": "label"}


class RequestError(JackrecError):
    """A request that cannot be carried out as asked; the reply says why."""


@dataclass(frozen=True)
class Request:
    """One validated request.

    Attributes
    ----------
    command
        One of `COMMANDS`.
    argument
        The ``name`` of ``start`` or the ``label`` of ``marker`` (None:
        not given).
    """

    command: str
    argument: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"command": self.command}
        if self.argument is not None:
            data[ARGUMENTS[self.command]] = self.argument
        return data


def parse_request(line: bytes) -> Request:
    """Read one request line.

    Raises
    ------
    RequestError
        When it is too long, not a JSON object, names an unknown command,
        or carries an argument of the wrong kind.
    """
    if len(line) > MAX_REQUEST_BYTES:
        raise RequestError(TOO_LONG)
    try:
        data = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise RequestError("not JSON") from None
    if not isinstance(data, dict):
        raise RequestError("a request is a JSON object")
    command = data.get("command")
    if command not in COMMANDS:
        raise RequestError(f"unknown command {command!r} (known: {', '.join(COMMANDS)})")
    argument_name = ARGUMENTS.get(command)
    extra = set(data) - {"command", argument_name}
    if extra:
        raise RequestError(f"{command} takes no {', '.join(sorted(map(str, extra)))}")
    argument = data.get(argument_name) if argument_name else None
    if argument is not None:
        check_argument(command, argument)
    return Request(command, argument)


def check_argument(command: str, argument: object) -> None:
    """Refuse a label or name of the wrong kind.

    Raises
    ------
    RequestError
        A label that is not a one-line string of at most `MAX_LABEL`
        characters; a name that is not a plain file name.
    """
    if not isinstance(argument, str):
        raise RequestError(f"{ARGUMENTS[command]} must be a string")
    if command == "marker":
        if len(argument) > MAX_LABEL or any(c in argument for c in "\r\n\0"):
            raise RequestError(f"a label is one line of at most {MAX_LABEL} characters")
    elif (
        not argument
        or argument.startswith(".")
        or any(c in argument for c in "/\\\0")
        or len(argument.encode()) > 200
    ):
        raise RequestError("a take's name is a plain file name (no '/', not hidden)")


def reply(**fields: Any) -> dict[str, Any]:
    """A successful reply."""
    return {"ok": True, **fields}


def refusal(error: str) -> dict[str, Any]:
    """A reply that says, in one line, why a request was not carried out."""
    return {"ok": False, "error": error.splitlines()[0] if error else "refused"}


class Subscription(Protocol):
    """Events as they happen, for one subscriber (from any thread)."""

    def next(self, timeout: float) -> Event | None:
        """The next event, or None if none came within `timeout` seconds."""

    def close(self) -> None:
        """Stop receiving events."""


class Controller(Protocol):
    """What a control face drives: the service, thread-safe."""

    def handle(self, request: Request) -> dict[str, Any]:
        """Carry out `request` (not ``subscribe``) and reply."""

    def subscribe(self) -> Subscription:
        """Events from now on."""
