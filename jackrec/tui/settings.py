"""Settings: format, bit depth, where takes go and what they are called.

Saved to the config file that ``jackrec record`` reads too.  Format, bits,
directory, template, pre-roll and trigger apply from the next take (or the
next arming); channels, ports and buffer size from the next session.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from jackrec import config as config_module
from jackrec.config import BITS, Config
from jackrec.errors import UsageError
from jackrec.takefile import FORMATS


class SettingsScreen(ModalScreen[Config | None]):
    """Edit the settings; dismisses with the saved `Config`, or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, config: Config, path: Path | None) -> None:
        super().__init__()
        self.config = config
        self.path = path

    def compose(self) -> ComposeResult:
        c = self.config
        with VerticalScroll(id="settings"):
            yield Label("Settings (saved to the config file; ctrl+s saves, escape cancels)")
            with Grid(id="settings-grid"):
                yield Label("format")
                yield Select(
                    [(f, f) for f in FORMATS], value=c.format, id="format", allow_blank=False
                )
                yield Label("bits")
                yield Select(
                    [("format's default", "default"), *((b, b) for b in BITS)],
                    value=c.bits or "default", id="bits", allow_blank=False, compact=True,
                )  # fmt: skip
                yield Label("directory")
                yield Input(c.directory, id="directory", compact=True)
                yield Label("file name template")
                yield Input(c.template, id="template", compact=True)
                yield Label("pre-roll (s)")
                yield Input(f"{c.preroll:g}", id="preroll", type="number", compact=True)
                yield Label("trigger (dBFS)")
                yield Input(
                    "" if c.trigger is None else f"{c.trigger:g}", id="trigger", type="number",
                    placeholder="off", compact=True,
                )  # fmt: skip
                yield Label("channels (next session)")
                yield Input(
                    "" if c.channels is None else str(c.channels), id="channels", type="integer"
                )
                yield Label("ports (next session)")
                yield Input(
                    " ".join(c.ports), id="ports", placeholder="patterns, space separated",
                    compact=True,
                )  # fmt: skip
                yield Label("buffer (s, next session)")
                yield Input(f"{c.buffer:g}", id="buffer", type="number", compact=True)
            with Grid(id="settings-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        def text(widget_id: str) -> str:
            return self.query_one(f"#{widget_id}", Input).value.strip()

        bits = self.query_one("#bits", Select).value
        try:
            config = dataclasses.replace(
                self.config,
                format=str(self.query_one("#format", Select).value),
                bits=None if bits == "default" else str(bits),
                directory=text("directory"),
                template=text("template"),
                preroll=float(text("preroll") or 0),
                trigger=float(text("trigger")) if text("trigger") else None,
                channels=int(text("channels")) if text("channels") else None,
                ports=text("ports").split(),
                buffer=float(text("buffer") or 0),
            )
            path = config_module.save(config, self.path)
        except (ValueError, UsageError, OSError) as error:
            self.notify(str(error), severity="error")
            return
        self.notify(f"saved to {path}")
        self.dismiss(config)
