"""Opening JACK clients: never start a server, and speak in one line.

libjack prints its own diagnostics (several lines per failed connection) to
stderr.  jackrec routes them to the ``jackrec.jack`` logger instead, shown
with ``--verbose``, and turns a failure into one `JackrecError`.
"""

from __future__ import annotations

import logging
import os

import jack

from jackrec.errors import JackrecError

jack_log = logging.getLogger("jackrec.jack")


def _quiet_libjack() -> None:
    jack.set_error_function(lambda message: jack_log.debug("%s", message))
    jack.set_info_function(lambda message: jack_log.debug("%s", message))


_quiet_libjack()


def server_label(server: str | None) -> str:
    """How to name a server in messages."""
    name = server or os.environ.get("JACK_DEFAULT_SERVER") or "default"
    return f"JACK server '{name}'"


def open_client(name: str, server: str | None = None) -> jack.Client:
    """Connect to a running JACK server, never starting one.

    Raises
    ------
    JackrecError
        When no server of that name is reachable.
    """
    try:
        return jack.Client(name, no_start_server=True, servername=server)
    except jack.JackOpenError:
        raise JackrecError(
            f"cannot connect to {server_label(server)}: is it running? "
            "(start one with qjackctl or 'jackd -d alsa', "
            "or try 'jackrec doctor')"
        ) from None


def server_reachable(server: str | None = None) -> bool:
    """Whether a JACK server of that name answers."""
    try:
        client = open_client("jackrec-probe", server)
    except JackrecError:
        return False
    client.close()
    return True
