"""Telling the service manager how the service is: the sd_notify protocol.

systemd (``Type=notify``) passes the path of a datagram socket in
``$NOTIFY_SOCKET``; the service sends it newline-separated assignments
(``READY=1``, ``STATUS=...``, ``WATCHDOG=1``, ...), one datagram each
(sd_notify(3)).  A path beginning with ``@`` is in the abstract namespace.
Without ``$NOTIFY_SOCKET`` (a terminal, a test) every call does nothing.

The protocol is these few lines of the standard library.  The libraries
that offer it do less for us: ``sdnotify`` (last release 2017) and
``systemd-watchdog`` send on a blocking socket (the latter raises when a
send fails), and ``systemd-python`` and ``cysystemd`` wrap libsystemd (a C
build and its headers, for a datagram).

Two promises, because a supervisor must never hurt what it supervises:
no call ever raises (a notification that cannot be sent is dropped), and
none ever blocks (the socket is non-blocking: when systemd's queue is full
the message is dropped, not waited for).
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Mapping

#: systemd (src/core/manager.c, NOTIFY_BUFFER_MAX) ignores a datagram larger
#: than this, so a long status is cut to fit.
MAX_MESSAGE_BYTES = 4096


class Notifier:
    """The service's line to systemd, read from the environment once.

    Parameters
    ----------
    environ
        Where to read ``NOTIFY_SOCKET``, ``WATCHDOG_USEC`` and
        ``WATCHDOG_PID`` (default: ``os.environ``, at construction).
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._address = _socket_address(env.get("NOTIFY_SOCKET", ""))
        self._watchdog_usec = _watchdog_usec(env)
        self._socket: socket.socket | None = None
        if self._address is not None:
            try:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._socket.setblocking(False)
            except OSError:
                self._socket = None

    @property
    def enabled(self) -> bool:
        """Whether there is a service manager to tell."""
        return self._socket is not None

    def ready(self) -> None:
        """Start-up (or a reload) is complete: ``READY=1``."""
        self._send("READY=1")

    def status(self, text: str) -> None:
        """One line for ``systemctl status``: ``STATUS=text``.

        Line breaks become spaces (a newline would start another
        assignment), and a text too long for one datagram is cut.
        """
        line = " ".join(text.splitlines())
        limit = MAX_MESSAGE_BYTES - len("STATUS=")
        cut = line.encode("utf-8", "replace")[:limit].decode("utf-8", "ignore")
        self._send(f"STATUS={cut}")

    def watchdog(self) -> None:
        """The service is alive: ``WATCHDOG=1`` (see `watchdog_interval`)."""
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        """The service has begun to shut down: ``STOPPING=1``."""
        self._send("STOPPING=1")

    def reloading(self) -> None:
        """A reload has begun: ``RELOADING=1``; send `ready` when it is done.

        ``systemctl reload`` waits for that `ready` (systemd 252 here), and
        the watchdog keeps counting meanwhile.
        ``MONOTONIC_USEC`` (CLOCK_MONOTONIC, in microseconds) goes with it:
        systemd 253 and later match it to the reload they asked for with
        ``Type=notify-reload``; older ones ignore the field.
        """
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self._send(f"RELOADING=1\nMONOTONIC_USEC={usec}")

    def watchdog_interval(self) -> float | None:
        """Seconds within which systemd wants `watchdog`, or None if it wants none.

        From ``WATCHDOG_USEC`` (``WatchdogSec=``), when ``WATCHDOG_PID`` is
        unset or this process's, as sd_watchdog_enabled(3) reads them.  Ping
        at least twice per interval.
        """
        if self._watchdog_usec is None:
            return None
        return self._watchdog_usec / 1e6

    def close(self) -> None:
        """Close the socket; later calls do nothing."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _send(self, message: str) -> None:
        sock, address = self._socket, self._address  # `close` may run in another thread
        if sock is None or address is None:
            return
        with contextlib.suppress(OSError):  # no listener, queue full (EAGAIN), path gone: dropped
            sock.sendto(message.encode("utf-8", "replace"), address)


def _socket_address(value: str) -> str | None:
    """The socket address ``$NOTIFY_SOCKET`` names, or None for none we can use.

    An absolute path, or ``@name`` for the abstract namespace (a leading NUL
    byte to the kernel).  Other forms (systemd 253's ``vsock:``) are not ours.
    """
    if value.startswith("/"):
        return value
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]
    return None


def _watchdog_usec(env: Mapping[str, str]) -> int | None:
    """``WATCHDOG_USEC`` if it is a positive integer meant for this process."""
    usec, pid = _decimal(env.get("WATCHDOG_USEC", "")), env.get("WATCHDOG_PID")
    if not usec or (pid is not None and _decimal(pid) != os.getpid()):
        return None
    return usec


def _decimal(text: str) -> int | None:
    """`text` as a plain unsigned decimal number (ASCII digits only), else None."""
    return int(text) if text.isascii() and text.isdigit() else None
