"""The patch panel: which source ports feed jackrec's inputs.

Left, jackrec's inputs with what is connected to them; right, every audio
source port of the graph (narrowed by the filter box), marked ``●`` when it
feeds the highlighted input.  Enter or space connects or disconnects the
highlighted source.  The panel reads the JACK graph itself, so connections
made in qjackctl appear here (and these in qjackctl); it is rebuilt when
ports or connections change.
"""

from __future__ import annotations

import fnmatch

import jack
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, OptionList
from textual.widgets.option_list import Option

from jackrec.ports import audio_sources
from jackrec.session import Session


class PatchScreen(Screen[None]):
    """Connect and disconnect sources to jackrec's inputs."""

    BINDINGS = [
        Binding("escape,t", "app.pop_screen", "Back"),
        Binding("space", "toggle_connection", "Connect/disconnect"),
        Binding("d", "disconnect_all", "Clear input"),
        Binding("slash", "focus_filter", "Filter"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.input_index = 0

    def compose(self) -> ComposeResult:
        yield Label("Patch: connect sources to jackrec's inputs", id="patch-title")
        yield Input(placeholder="filter sources (glob, e.g. system:*)", id="patch-filter")
        with Horizontal():
            with Vertical():
                yield Label("jackrec inputs")
                yield OptionList(id="patch-inputs")
            with Vertical():
                yield Label("sources")
                yield OptionList(id="patch-sources")
        yield Footer()

    def on_mount(self) -> None:
        self.inputs = self.query_one("#patch-inputs", OptionList)
        self.sources = self.query_one("#patch-sources", OptionList)
        self.filter = self.query_one("#patch-filter", Input)
        self.rebuild()
        self.inputs.focus()

    def rebuild(self) -> None:
        """Read the graph again (called when it changes)."""
        client = self.session.client
        connected = self.session.sources()
        self.inputs.set_options(
            Option(f"{port.shortname:<7} ← {', '.join(names) or '-'}", id=str(i))
            for i, (port, names) in enumerate(zip(self.session.inputs, connected, strict=True))
        )
        self.inputs.highlighted = min(self.input_index, len(connected) - 1)
        pattern = self.filter.value.strip()
        feeding = set(connected[self.input_index]) if connected else set()
        names = [port.name for port in audio_sources(client)]
        if pattern:
            glob = pattern if any(c in pattern for c in "*?[") else f"*{pattern}*"
            names = [name for name in names if fnmatch.fnmatchcase(name, glob)]
        highlighted = self.sources.highlighted
        self.sources.set_options(
            Option(f"{'●' if name in feeding else ' '} {name}", id=name) for name in names
        )
        if names:
            self.sources.highlighted = min(highlighted or 0, len(names) - 1)

    @on(OptionList.OptionHighlighted, "#patch-inputs")
    def input_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index != self.input_index:
            self.input_index = event.option_index
            self.rebuild()

    @on(OptionList.OptionSelected, "#patch-sources")
    def source_selected(self) -> None:
        self.action_toggle_connection()

    @on(Input.Changed, "#patch-filter")
    def filter_changed(self) -> None:
        self.rebuild()

    def action_focus_filter(self) -> None:
        self.filter.focus()

    def action_toggle_connection(self) -> None:
        index = self.sources.highlighted
        if index is None:
            return
        source = self.sources.get_option_at_index(index).id
        target = self.session.inputs[self.input_index]
        assert source is not None
        try:
            if source in self.session.sources()[self.input_index]:
                self.session.client.disconnect(source, target)
            else:
                self.session.client.connect(source, target)
        except jack.JackError as error:
            self.notify(f"JACK refused: {error}", severity="error")
        self.rebuild()

    def action_disconnect_all(self) -> None:
        target = self.session.inputs[self.input_index]
        for source in self.session.sources()[self.input_index]:
            self.session.client.disconnect(source, target)
        self.rebuild()
