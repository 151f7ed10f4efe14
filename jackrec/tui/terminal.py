"""The console's terminal driver: Textual's, made to notice the terminal going away.

Textual's Linux driver (8.x) assumes the terminal outlives the app.  When it
does not, the console could never end, so its take was never finalized:

- **Input at end of file** (stdin from ``/dev/null``, a hung-up terminal):
  the input thread finds stdin readable, reads nothing and goes round
  again, at 100 % of a core, forever; and it is not a daemon thread, so
  the process cannot exit even after the app has ended.
- **Output failing** (a closed pipe: EPIPE; a hung-up terminal: EIO): the
  output thread dies on the exception, the bounded queue in front of it
  fills, and the UI thread blocks on its next frame, forever.

`ConsoleDriver` ends its input thread at end of file or on a read error,
and gives Textual's output thread a `TerminalOutput` that cannot die.
Either way it tells the app once (`TerminalWatcher.terminal_lost`), and
the app ends the console, which closes the session and finalizes the take.
"""

from __future__ import annotations

import io
import os
import select
import selectors
import sys
from codecs import getincrementaldecoder
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from textual._xterm_parser import XTermParser
from textual.app import App
from textual.drivers.linux_driver import LinuxDriver

READ_BYTES = 4096
INPUT_POLL_SECONDS = 0.1  # how soon the input thread sees that the app is ending


@runtime_checkable
class TerminalWatcher(Protocol):
    """The app the driver reports to."""

    def terminal_lost(self, reason: str) -> None:
        """The terminal went away (`reason` says how); called from a driver thread."""


class TerminalOutput(io.TextIOBase):
    """What Textual's output thread writes to: a file descriptor, written directly.

    On the first failed write `lost` is told why, and the descriptor is
    pointed at /dev/null, so that whatever writes to it afterwards
    (Textual's goodbye, jackrec's error line, libjack, Python's exit)
    neither fails nor blocks: nobody can read it any more.
    """

    def __init__(self, fd: int, encoding: str, lost: Callable[[str], None]) -> None:
        super().__init__()
        self._fd = fd
        self._encoding = encoding
        self._lost = lost

    def write(self, text: str) -> int:
        data = memoryview(text.encode(self._encoding, "replace"))
        while data:
            try:
                data = data[os.write(self._fd, data) :]
            except BlockingIOError:  # another program made the terminal non-blocking
                select.select([], [self._fd], [])
            except OSError as error:
                self._lost(f"writing to it failed: {error.strerror}")
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self._fd)
                os.close(devnull)
                break
        return len(text)

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)


class ConsoleDriver(LinuxDriver):
    """Textual's Linux driver, ending the console when its terminal goes away."""

    def __init__(
        self,
        app: App[Any],
        *,
        debug: bool = False,
        mouse: bool = True,
        size: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        assert isinstance(app, TerminalWatcher), "the app must watch its terminal"
        self._watcher = app
        stderr = sys.__stderr__  # what Textual writes to
        assert stderr is not None, "the console needs a terminal on stderr"
        # Textual's output thread only writes to its file and flushes it.
        output = TerminalOutput(stderr.fileno(), stderr.encoding, app.terminal_lost)
        self._file = output  # type: ignore[assignment]

    def run_input_thread(self) -> None:
        """Read keys and mouse until the app ends, stdin ends, or reading fails.

        Textual's loop, less its one flaw: at end of file it goes round again.
        """
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        with selectors.SelectSelector() as selector:
            selector.register(self.fileno, selectors.EVENT_READ)
            while not self.exit_event.is_set():
                if selector.select(INPUT_POLL_SECONDS):
                    try:
                        data = os.read(self.fileno, READ_BYTES)
                    except OSError as error:
                        self._watcher.terminal_lost(f"reading it failed: {error.strerror}")
                        return
                    if not data:
                        self._watcher.terminal_lost("its input is at end of file")
                        return
                    for event in parser.feed(decode(data)):
                        self.process_message(event)
                for event in parser.tick():
                    self.process_message(event)
