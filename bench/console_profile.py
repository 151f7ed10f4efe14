"""Where the console's CPU goes: time spent in each of its pieces.

Installed into the console by ``bench.tui_runner --profile``: each piece
in `PIECES` is wrapped in a timer (wall time on the UI thread, where the
pieces all run), and the garbage collector's passes are timed through
`gc.callbacks`.  Over a window, the totals are written as shares of one
core next to the process's CPU (scheduler run time of all its threads).
Perf cannot name Python functions on this Python (3.11, no perf
trampoline), hence timers; each costs well under a microsecond a call.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.screen import Screen

from bench.cpu import run_time_ns
from jackrec.recorder import LocalRecorder
from jackrec.tui.app import ConsoleApp
from jackrec.tui.ballistics import Ballistics
from jackrec.tui.meters import MeterBank

#: (name, class, method): the console's pieces.  Textual's screen update
#: includes the meters' drawing, which the report takes out of it.
PIECES: list[tuple[str, type, str]] = [
    ("meters read from the C core", LocalRecorder, "meters"),
    ("ballistics", Ballistics, "update"),
    ("what each meter shows", MeterBank, "_visible"),
    ("marking changed lines", MeterBank, "refresh"),
    ("drawing meter lines", MeterBank, "render_lines"),
    ("status, transport bar, log (10 Hz)", ConsoleApp, "_refresh_status"),
    ("Textual's screen update", Screen, "_compositor_refresh"),
]
GC = "garbage collection"


class PieceTimers:
    """Totals of time spent in each piece since `start`."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._gc_began = 0.0
        for name, owner, method in PIECES:
            setattr(owner, method, self._timed(name, getattr(owner, method)))
        gc.callbacks.append(self._on_gc)
        self.start()

    def start(self) -> None:
        self.totals = dict.fromkeys([name for name, _, _ in PIECES] + [GC], 0.0)
        self._began = (time.monotonic(), run_time_ns(os.getpid()))

    def _timed(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.totals[name] += time.perf_counter() - began

        return timed

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_began = time.perf_counter()
        else:
            self.totals[GC] += time.perf_counter() - self._gc_began

    def write(self, path: Path) -> None:
        """The shares of one core since `start`, and the process's, to `path`."""
        wall = time.monotonic() - self._began[0]
        process = (run_time_ns(os.getpid()) - self._began[1]) / 1e9 / wall
        shares = {name: total / wall for name, total in self.totals.items()}
        path.write_text(json.dumps({"process": process, "shares": shares}))
