"""A thread that waits on one socket until it is told to stop.

The control socket (`jackrec.control_socket`) waits for connections and
OSC (`jackrec.osc`) for datagrams in the same way: a daemon thread that
calls back each time its socket is readable, and a wake-up socket pair so
that `Listener.stop` ends it at once, without polling.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Listener:
    """Call `on_ready()` in a thread of its own each time `sock` is readable.

    The listener owns `sock`: `stop` closes it.

    `on_ready` handles one connection or datagram and should not block for
    long; an exception it raises is logged and the listener goes on.
    """

    def __init__(self, sock: socket.socket, on_ready: Callable[[], None], name: str) -> None:
        self._sock = sock
        self._on_ready = on_ready
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """End the thread (waiting up to `timeout` seconds for it) and close the socket."""
        self._wake_writer.send(b"\0")
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        for sock in (self._wake_writer, self._wake_reader, self._sock):
            sock.close()

    def _run(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._sock, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while True:
                ready = {key.fileobj for key, _ in selector.select()}
                if self._wake_reader in ready:
                    return
                try:
                    self._on_ready()
                except Exception:  # one bad input must not end the listener
                    log.exception("%s: unexpected error", self._thread.name)
