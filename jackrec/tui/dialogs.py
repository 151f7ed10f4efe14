"""Small modal screens: the quit confirmation and the key help."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

HELP = """\
r  record / stop          p  pause / resume
a  arm pre-roll/trigger   m  marker
n  new take (same frame)  c  clear clip latches
1-9, 0  arm or disarm channels 1-10 (next take)
t  patch panel            s  settings
l  show / hide the log    ?  this help
q  quit (asks while recording; the take is finalized either way)

Meters: IEC 268 scale; solid bar RMS, shaded bar peak, tick held peak,
CLIP latched until 'c' or a click on the meter."""


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


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(HELP)  # a Label sizes to its text, as the auto-sized dialog needs
