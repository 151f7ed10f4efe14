"""Small modal screens: the quit confirmation, channel arming and the key help."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from jackrec.channel_list import format_channel_list, parse_channel_list

HELP = """\
r  record / stop          p  pause / resume
a  arm pre-roll/trigger   m  marker
n  new take (same frame)  c  clear clip latches
1-9, 0  arm or disarm channels 1-10 (next take)
i  arm channels by list: 1-8, 17, 33-48, all, none (next take)
t  patch panel            s  settings
l  show / hide the log    ?  this help
q  quit (asks while recording; the take is finalized either way)

Meters: IEC 268 scale; solid bar RMS, shaded bar peak, tick held peak,
CLIP latched until 'c' or a click on the meter."""
ATTACHED_HELP = """

Attached to a service: q leaves it recording; the patch panel and the
settings are the service's (its settings file, then jackrec ctl reload)."""


class ConfirmQuit(ModalScreen[bool]):
    """Asked when quitting while recording."""

    BINDINGS = [
        Binding("y", "answer(True)", "Stop and quit"),
        Binding("n,escape", "answer(False)", "Keep recording"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Recording.  Stop and quit?  [y/n]")
            yield Label("The take is finalized either way: nothing is lost.")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class ArmChannels(ModalScreen[list[bool] | None]):
    """Asks which channels to arm, as a list; dismisses with one flag per channel."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Cancel")]

    def __init__(self, armed: list[bool]) -> None:
        super().__init__()
        self.channels = len(armed)
        self.armed = armed

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Arm channels (of 1-{self.channels}): e.g. 1-8, 17, 33-48, all, none")
            yield Input(format_channel_list(self.armed), id="arm-list")
            yield Label("enter arms them, escape cancels", id="arm-problem")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            armed = parse_channel_list(event.value, self.channels)
        except ValueError as problem:
            self.query_one("#arm-problem", Label).update(str(problem))
            return
        self.dismiss(armed)


class HelpScreen(ModalScreen[None]):
    """The keys; attached to a service, what differs."""

    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close")]

    def __init__(self, *, attached: bool = False) -> None:
        super().__init__()
        self.text = HELP + ATTACHED_HELP if attached else HELP

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.text)  # a Label sizes to its text, as the auto-sized dialog needs
