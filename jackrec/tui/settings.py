"""Settings: format, bit depth, where takes go and what they are called.

Saved to the config file that ``jackrec record`` reads too.  Format, bits,
quality, dither, split, directory, template, pre-roll, trigger (level,
hold, release), following JACK's transport or freewheel, rotation and the
hooks apply from the next take (or the next arming); channels, ports,
buffer size, alignment and the sync interval from the next session.  Hooks
are written as a command line (split as a shell would, run without one:
`jackrec.hooks`).

The screen shows the settings in effect (the command line's over the
file's) and saves only the ones the engineer changed, so a ``--dir`` given
for one session never becomes the file's.  Settings that cannot record (FLAC
with 32-bit samples, say) are refused with the reason, and nothing is saved.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select

from jackrec import config as config_module
from jackrec.config import BITS, HOOKS, Config
from jackrec.errors import UsageError
from jackrec.hooks import check_hooks
from jackrec.takefile import FORMATS
from jackrec.units import parse_duration, parse_size

#: Each field's setting from the field's value (a blank optional field: None).
SETTINGS: dict[str, Callable[[Any], Any]] = {
    "format": str,
    "bits": lambda value: None if value == "default" else str(value),
    "quality": lambda text: float(text) if text.strip() else None,
    "dither": bool,
    "split": lambda text: text.strip() or None,
    "directory": str.strip,
    "template": str.strip,
    "preroll": lambda text: float(text.strip() or 0),
    "trigger": lambda text: float(text) if text.strip() else None,
    "trigger_hold": lambda text: float(text) if text.strip() else None,
    "trigger_release": lambda text: float(text) if text.strip() else None,
    "transport": bool,
    "freewheel": bool,
    "channels": lambda text: int(text) if text.strip() else None,
    "ports": str.split,
    "buffer": lambda text: float(text.strip() or 0),
    "align": bool,
    "rotate": lambda text: parse_duration(text) if text.strip() else None,
    "rotate_at_clock": bool,
    "rotate_size": lambda text: parse_size(text) if text.strip() else None,
    "sync": lambda text: parse_duration(text) if text.strip() else None,
    **{hook: lambda text: shlex.split(text) or None for hook in HOOKS},
    "hook_timeout": lambda text: float(text.strip() or 0),
}


def optional_number(value: float | None, key: str, placeholder: str) -> Input:
    """The field of a setting that may be left blank (`placeholder` says what that means)."""
    text = "" if value is None else f"{value:g}"
    return Input(text, id=key, type="number", placeholder=placeholder, compact=True)


def optional_text(text: str, key: str, placeholder: str) -> Input:
    """The field of a duration or size that may be left blank (`placeholder` says what
    that means)."""
    return Input(text, id=key, placeholder=placeholder, compact=True)


class SettingsScreen(ModalScreen[Config | None]):
    """Edit the settings; dismisses with the `Config` now in effect, or None.

    Parameters
    ----------
    config
        The settings in effect.
    path
        The settings file (None: the default one).
    file_format
        Raises `UsageError` when a take could not be recorded under a config.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(
        self, config: Config, path: Path | None, file_format: Callable[[Config], object]
    ) -> None:
        super().__init__()
        self.config = config
        self.path = path
        self.file_format = file_format

    def compose(self) -> ComposeResult:
        c = self.config
        with VerticalScroll(id="settings"):
            yield Label("Settings (saved to the config file; ctrl+s saves, escape cancels)")
            yield Label(id="settings-problem")
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
                yield Label("quality (ogg opus mp3)")
                yield optional_number(c.quality, "quality", "codec's default (0 to 1)")
                yield Label("dither")
                yield Checkbox("TPDF, for 16-bit takes", c.dither, id="dither", compact=True)
                yield Label("split into files")
                yield Input(
                    c.split or "", id="split", placeholder="one file; mono, pairs or 1-2,3-8",
                    compact=True,
                )  # fmt: skip
                yield Label("directory")
                yield Input(c.directory, id="directory", compact=True)
                yield Label("file name template")
                yield Input(c.template, id="template", compact=True)
                yield Label("pre-roll (s)")
                yield Input(f"{c.preroll:g}", id="preroll", type="number", compact=True)
                yield Label("trigger (dBFS)")
                yield optional_number(c.trigger, "trigger", "off")
                yield Label("trigger hold (s)")
                yield optional_number(c.trigger_hold, "trigger_hold", "takes end on r")
                yield Label("trigger release (dBFS)")
                yield optional_number(c.trigger_release, "trigger_release", "6 dB below trigger")
                yield Label("follow transport")
                yield Checkbox("armed: a take per roll", c.transport, id="transport", compact=True)
                yield Label("follow freewheel")
                yield Checkbox(
                    "armed: a take per freewheel run", c.freewheel, id="freewheel", compact=True
                )
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
                yield Label("align (next session)")
                yield Checkbox("line up capture latencies", c.align, id="align", compact=True)
                yield Label("rotate every")
                yield optional_text(
                    "" if c.rotate is None else f"{c.rotate:g}", "rotate", "off (e.g. 1h, 15m, 90)"
                )
                yield Label("rotate on the clock")
                yield Checkbox(
                    "cut on multiples of it (on the hour)", c.rotate_at_clock,
                    id="rotate_at_clock", compact=True,
                )  # fmt: skip
                yield Label("rotate at size")
                yield optional_text(
                    "" if c.rotate_size is None else str(c.rotate_size), "rotate_size",
                    "off (e.g. 2G, 650M)",
                )  # fmt: skip
                yield Label("sync to disk every (next session)")
                yield optional_text(
                    "" if c.sync is None else f"{c.sync:g}", "sync", "off: the kernel's (e.g. 5s)"
                )
                for hook in HOOKS:
                    yield Label(f"hook {hook}")
                    command = getattr(c, hook)
                    yield Input(
                        shlex.join(command) if command else "", id=hook,
                        placeholder="command (gets the take's path)", compact=True,
                    )  # fmt: skip
                yield Label("hook timeout (s)")
                yield Input(f"{c.hook_timeout:g}", id="hook_timeout", type="number", compact=True)
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

    def on_mount(self) -> None:
        self.problem = self.query_one("#settings-problem", Label)
        self.problem.display = False
        self.shown = self.values()

    def values(self) -> dict[str, Any]:
        """Each setting's field, as it reads now."""
        fields = {key: self.query_one(f"#{key}") for key in SETTINGS}
        return {
            key: field.value
            for key, field in fields.items()
            if isinstance(field, Input | Select | Checkbox)
        }

    def action_save(self) -> None:
        changed = {key: value for key, value in self.values().items() if value != self.shown[key]}
        try:
            changes = {key: SETTINGS[key](value) for key, value in changed.items()}
            config = dataclasses.replace(self.config, **changes)
            config.check("settings")
            check_hooks(config)
            self.file_format(config)
            path = config_module.save(changes, self.path) if changes else None
        except (ValueError, UsageError, OSError) as error:
            self.problem.update(f"Not saved: {error}")
            self.problem.display = True
            self.problem.scroll_visible()
            return
        self.notify(f"saved to {path}" if path else "nothing changed")
        self.dismiss(config)
