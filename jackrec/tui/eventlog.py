"""The session log: xruns, gaps, takes and errors (`jackrec.events`), with their times."""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual.widgets import RichLog

from jackrec.events import Event

LEVEL_STYLES = {"info": "", "warning": "yellow", "error": "bold red"}


class EventLog(RichLog):
    """Shows the session's events, newest last."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=500, wrap=False, markup=False)

    def add(self, events: list[Event]) -> None:
        for event in events:
            when = dt.datetime.fromtimestamp(event.time).strftime("%H:%M:%S")
            line = Text(f"{when} ")
            line.append(event.text, LEVEL_STYLES.get(event.level, ""))
            self.write(line)
