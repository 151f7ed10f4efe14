"""Opening JACK clients: never start a server, and speak in one line.

libjack prints its own diagnostics (several lines per failed connection) to
stderr.  jackrec routes them to the ``jackrec.jack`` logger instead, shown
with ``--verbose``, and turns a failure into one `JackrecError`.
"""

from __future__ import annotations

import collections
import logging
import os
import threading

import jack

from jackrec.errors import JackrecError, UsageError

#: The longest client name jackd accepts: 63 bytes connect, 64 are refused
#: (jackd 1.9.21; ``jack_client_name_size()`` says 65 with the NUL).
MAX_CLIENT_NAME_BYTES = 63
#: A server listens on the Unix socket ``/dev/shm/jack_<server>_<uid>_0``,
#: and a socket path holds at most 107 bytes; libjack aborts the process
#: ("stack smashing detected") on a server name of 270 bytes.
SOCKET_PATH_BYTES = 107
SOCKET_PATH = "/dev/shm/jack_{server}_{uid}_0"
# A client listens on /dev/shm/jack_<client>_<uid>_0 too: a client named
# like its server replaces the server's socket with its own, and once it
# closes no client can reach that server again (jackd 1.9.21).

#: How long a JACK server may take to deactivate a client.  JACK2 waits for
#: its graph to change for at most ten client timeouts (5 s at jackd's
#: default ``-t 500``); one that has not answered a second later is hung
#: (jackd 1.9.21 in asynchronous mode, after a client with connections was
#: stopped for seconds: its request thread waits for good on half a request
#: of its own, and no client request is answered again).
DEACTIVATE_SECONDS = 6.0

#: How long a JACK server may take to open a client: far more than a
#: loaded one takes (well under a second here).
OPEN_SECONDS = 10.0

jack_log = logging.getLogger("jackrec.jack")
#: libjack's latest error messages, to tell why a client could not open.
_errors: collections.deque[str] = collections.deque(maxlen=32)


def _on_error(message: str) -> None:
    _errors.append(message)
    jack_log.debug("%s", message)


def _quiet_libjack() -> None:
    jack.set_error_function(_on_error)
    jack.set_info_function(lambda message: jack_log.debug("%s", message))


_quiet_libjack()


def server_name(server: str | None) -> str:
    """The name of the server a client of `server` reaches."""
    return server or os.environ.get("JACK_DEFAULT_SERVER") or "default"


def server_label(server: str | None) -> str:
    """How to name a server in messages."""
    name = server_name(server)
    return f"JACK server '{name}'"


def check_names(client: str, server: str | None) -> None:
    """Refuse names JACK cannot take, before libjack sees them.

    Raises
    ------
    UsageError
        When a name is empty, too long, or (the client's) holds a colon,
        which separates client and port in a port name, or is the server's
        (see `SOCKET_PATH`).
    """
    if not client or ":" in client or len(client.encode()) > MAX_CLIENT_NAME_BYTES:
        raise UsageError(
            f"bad JACK client name '{client}': 1 to {MAX_CLIENT_NAME_BYTES} bytes, no ':'"
        )
    if client == server_name(server):
        raise UsageError(
            f"JACK client name '{client}' is its server's name; JACK would lose the "
            "server's socket (no client could connect to it again): choose another"
        )
    if server is not None:
        room = SOCKET_PATH_BYTES - len(SOCKET_PATH.format(server="", uid=os.getuid()))
        if not server or len(server.encode()) > room:
            shown = server if len(server) <= 40 else server[:37] + "..."
            raise UsageError(f"bad JACK server name '{shown}': 1 to {room} bytes")


def open_client(name: str, server: str | None = None) -> jack.Client:
    """Connect to a running JACK server, never starting one.

    Raises
    ------
    UsageError
        When a name is one JACK cannot take (see `check_names`).
    JackrecError
        When no server of that name is reachable, or it does not answer
        within `OPEN_SECONDS` (see `Opening`).
    """
    check_names(name, server)
    if Opening.unanswered is not None and Opening.unanswered.is_alive():
        raise JackrecError(_hung(server))  # no second request to a server that keeps the first
    _errors.clear()
    opening = Opening(name, server)
    opening.start()
    opening.join(OPEN_SECONDS)
    if opening.is_alive():
        Opening.unanswered = opening
        raise JackrecError(_hung(server))
    if isinstance(opening.outcome, jack.JackOpenError):
        raise JackrecError(f"cannot connect to {server_label(server)}: {_why()}") from None
    if isinstance(opening.outcome, Exception):
        raise opening.outcome
    assert opening.outcome is not None
    return opening.outcome


class Opening(threading.Thread):
    """``jack_client_open`` in a daemon thread, which a hung server keeps.

    A server whose request thread is hung (see `DEACTIVATE_SECONDS`) takes
    a client's connection and never answers it; libjack then waits for good.
    """

    #: The open that a server has not answered yet, if any.
    unanswered: Opening | None = None

    def __init__(self, name: str, server: str | None) -> None:
        super().__init__(name="jackrec-open", daemon=True)
        self.client_name, self.server = name, server
        self.outcome: jack.Client | Exception | None = None

    def run(self) -> None:
        try:
            self.outcome = jack.Client(
                self.client_name, no_start_server=True, servername=self.server
            )
        except Exception as error:  # handed to the thread that waits
            self.outcome = error


def _hung(server: str | None) -> str:
    return f"{server_label(server)} did not answer in {OPEN_SECONDS:g} s: is it hung? (restart it)"


def _why() -> str:
    """Why a client could not open, from what libjack said."""
    if any("Operation not permitted" in message for message in _errors):
        # the server's semaphores are mapped locked: with no lockable memory
        # at all (RLIMIT_MEMLOCK 0, no CAP_IPC_LOCK) libjack cannot map them
        return (
            "libjack was not permitted to map the server's memory: is memory locking "
            "refused? (see 'ulimit -l', the audio group, and 'jackrec doctor')"
        )
    return "is it running? (start one with qjackctl or 'jackd -d alsa', or try 'jackrec doctor')"


def server_reachable(server: str | None = None) -> bool:
    """Whether a JACK server of that name answers."""
    try:
        client = open_client("jackrec-probe", server)
    except JackrecError:
        return False
    client.close()
    return True


def deactivate(
    client: jack.Client, process_memory: object, timeout: float = DEACTIVATE_SECONDS
) -> bool:
    """Deactivate `client`; False when its server has not answered within `timeout`.

    A server that has not answered may never answer: the request goes on in
    a daemon thread, which keeps `client` and `process_memory` (what the
    client's process callback uses) for as long as it waits.  Then neither
    may be closed or freed: closing the client asks the server again, and
    the server may still run the callback.
    """
    thread = threading.Thread(
        target=_deactivate, args=(client, process_memory), name="jackrec-deactivate", daemon=True
    )
    thread.start()
    thread.join(timeout)
    return not thread.is_alive()


def _deactivate(client: jack.Client, _process_memory: object) -> None:
    client.deactivate()  # this frame keeps both alive while the server keeps it
