"""The console's blank containers: they hold widgets and draw nothing themselves."""

from __future__ import annotations

from textual.containers import Vertical
from textual.screen import Screen


class Band(Vertical):
    """Widgets kept apart from the meters, so the meters' redraws skip them.

    Textual renders, on every update, each widget whose container overlaps
    what changed; with the meters changing 30 times a second, that was
    every widget on the screen.  Widgets in a band are contained by it
    instead, and a band, blank, costs next to nothing to render.
    """

    BLANK = True


class ConsoleScreen(Screen[None]):
    """The console's main screen: its widgets cover it, so it draws nothing either."""

    BLANK = True
