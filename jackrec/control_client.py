"""The client side of the control socket (`jackrec.control_socket`).

Connects to a running service, sends requests and reads their replies, or
subscribes and reads events.  Every failure is a `JackrecError` with one
line: no service, no permission, no reply in time, a broken reply.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jackrec.control import Request
from jackrec.control_socket import encode
from jackrec.errors import JackrecError

#: Seconds to wait for a reply.
REPLY_TIMEOUT = 10.0
#: The longest reply or event line read.
MAX_REPLY_BYTES = 1 << 20


class ControlClient:
    """A connection to the service listening on `path`.

    Raises
    ------
    JackrecError
        Nothing listens there, or this user may not connect.
    """

    def __init__(self, path: Path, timeout: float = REPLY_TIMEOUT) -> None:
        self.path = path
        self.timeout = timeout
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            self._sock.close()
            raise JackrecError(f"no jackrec service on {path} (is it running?)") from None
        except PermissionError:
            self._sock.close()
            raise JackrecError(
                f"permission denied on {path} (the service's user, root and its group only)"
            ) from None
        except OSError as error:
            self._sock.close()
            raise JackrecError(f"cannot connect to {path}: {error}") from None
        self._lines = self._sock.makefile("rb")

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Hang up; a thread reading `events` meanwhile sees the end and stops."""
        with contextlib.suppress(OSError):  # close() alone would not wake that thread
            self._sock.shutdown(socket.SHUT_RDWR)
        self._lines.close()
        self._sock.close()

    def request(self, request: Request) -> dict[str, Any]:
        """Send `request` and return its reply (``ok`` true or false)."""
        self._send(request)
        return self._read()

    def events(self) -> Iterator[dict[str, Any]]:
        """Subscribe, then yield each event as it comes, without a time limit.

        Raises
        ------
        JackrecError
            The subscription is refused (its error), or the service ends it.
        """
        self._send(Request("subscribe"))
        answer = self._read()
        if not answer.get("ok"):
            raise JackrecError(str(answer.get("error", "refused")))
        self._sock.settimeout(None)
        while True:
            yield self._read()

    def _send(self, request: Request) -> None:
        # A service that refuses the connection (too many, not allowed) says
        # why in a line and hangs up, maybe before this is sent: the reply
        # read next is that line, or says that it hung up.
        # A connection this side closed meanwhile (another thread hung up)
        # fails its read too, which says so.
        with contextlib.suppress(OSError):
            self._sock.sendall(encode(request.to_json()))

    def _read(self) -> dict[str, Any]:
        try:
            line = self._lines.readline(MAX_REPLY_BYTES)
        except TimeoutError:
            raise JackrecError(
                f"no reply from the service on {self.path} within {self.timeout:g} s"
            ) from None
        except OSError as error:
            raise JackrecError(f"the service on {self.path} hung up: {error}") from None
        except ValueError:  # closed by another thread (`close`) while this one waited
            raise JackrecError(f"the connection to {self.path} was closed") from None
        if not line.endswith(b"\n"):
            problem = "closed the connection" if len(line) < MAX_REPLY_BYTES else "sent too much"
            raise JackrecError(f"the service on {self.path} {problem}")
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            raise JackrecError(f"the service on {self.path} sent something that is not a reply")
        return message
