"""The recording console: meters, transport, log, and the keys that drive a session.

The UI thread polls the realtime core ~30 times a second with
`set_interval`: meters (taken from the callback's atomics), transport
status, new log events and graph changes.  Nothing is pushed to it from the
JACK or writer threads, so a slow terminal can only make the meters lag,
never cost a frame.

The console ends, always through `App.exit` and then the caller's
`Session.close` (which finalizes the take), when the engineer quits, when
`stop_requested` says so (the command line's answer: a SIGINT, SIGTERM or
SIGHUP came), when the JACK server shuts down, and when the terminal goes away
(`jackrec.tui.terminal`); the last two exit with status 1.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer

from jackrec.config import Config
from jackrec.errors import JackrecError
from jackrec.naming import TakeNamer
from jackrec.session import Session
from jackrec.takefile import BYTES_PER_SAMPLE, FORMATS, sample_subtype
from jackrec.tui.dialogs import ArmChannels, ConfirmQuit, HelpScreen
from jackrec.tui.eventlog import EventLog
from jackrec.tui.meters import MeterBank
from jackrec.tui.patch import PatchScreen
from jackrec.tui.settings import SettingsScreen
from jackrec.tui.terminal import ConsoleDriver
from jackrec.tui.transport import TransportBar

FRAME_SECONDS = 1 / 30
CHANNEL_KEYS = "1234567890"


class ConsoleApp(App[int]):
    """Runs a recording session from the terminal.

    Parameters
    ----------
    session
        An open session; the caller closes it after the app exits, which
        finalizes any take still recording.
    config, config_path
        The settings in effect (the command line's over the file's), and
        the file the settings screen saves to.
    now
        The clock for meter ballistics (tests pass a steady one).
    stop_requested
        Asked at every tick whether to end the console (a signal came).

    Attributes
    ----------
    lost_terminal
        How the terminal went away, if it did.
    """

    CSS_PATH = "jackrec.tcss"
    TITLE = "jackrec"

    BINDINGS = [
        Binding("r", "record", "Rec/Stop"),
        Binding("p", "pause", "Pause"),
        Binding("a", "arm", "Arm"),
        Binding("m", "marker", "Mark"),
        Binding("n", "new_take", "New take"),
        Binding("c", "clear_clips", "Clear clips"),
        Binding("t", "patch", "Patch"),
        Binding("s", "settings", "Settings"),
        Binding("i", "arm_channels", "Arm channels", show=False),
        Binding("l", "toggle_log", "Log", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        *(
            Binding(key, f"toggle_channel({i})", f"Arm {i + 1}", show=False)
            for i, key in enumerate(CHANNEL_KEYS)
        ),
    ]

    def __init__(
        self,
        session: Session,
        config: Config,
        config_path: Path | None = None,
        *,
        now: Callable[[], float] = time.monotonic,
        stop_requested: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__(driver_class=ConsoleDriver)
        self.session = session
        self.namer = TakeNamer(session, config)
        self.config_path = config_path
        self._now = now
        self._last_tick = now()
        self._events_seen = 0
        self._graph_seen = -1
        self._markers = 0
        self._ticks = 0
        self.stop_requested = stop_requested
        self.lost_terminal: str | None = None

    @property
    def config(self) -> Config:
        """The settings in effect: the next take follows them."""
        return self.namer.config

    @config.setter
    def config(self, config: Config) -> None:
        self.namer.config = config

    def compose(self) -> ComposeResult:
        yield TransportBar(id="transport")
        yield MeterBank(self.session.channels, self._labels(), id="meters")
        yield EventLog(id="log")
        yield Footer()

    def on_mount(self) -> None:
        self.transport = self.query_one(TransportBar)
        self.meters = self.query_one(MeterBank)
        self.log_view = self.query_one(EventLog)
        self.set_interval(FRAME_SECONDS, self.tick)

    # ---- the 30 Hz poll ----

    def tick(self) -> None:
        if not (self.meters.is_attached and self.transport.is_attached):
            return  # the app is tearing down: its widgets are gone
        session = self.session
        now = self._now()
        self.meters.ballistics.update(session.meters.poll(), now - self._last_tick)
        self._last_tick = now
        self.meters.armed = list(session.armed)
        self.meters.show_levels()
        self._ticks += 1
        if self._ticks % 3 == 0:  # 10 Hz is plenty for text
            self._refresh_status()
        if session.shutdown.is_set():
            self.exit(return_code=1)  # the command line says why
        elif self.stop_requested():
            self.exit()  # SIGHUP, for one, comes with the terminal going away
        elif self.lost_terminal:
            self.exit(return_code=1)

    def terminal_lost(self, reason: str) -> None:
        """The terminal went away (the driver's threads call this; `tick` ends the console)."""
        if self.lost_terminal is None:
            self.lost_terminal = reason

    def _refresh_status(self) -> None:
        session = self.session
        subtype = sample_subtype(FORMATS[self.config.format], self.config.bits)
        self.transport.show(
            session.status(), sum(session.armed), session.channels, BYTES_PER_SAMPLE[subtype]
        )
        events, self._events_seen = session.events_since(self._events_seen)
        self.log_view.add(events)
        if session.graph_version != self._graph_seen:
            self._graph_seen = session.graph_version
            self.meters.labels = self._labels()
            if isinstance(self.screen, PatchScreen):
                self.screen.rebuild()

    def _labels(self) -> list[str]:
        """Each input's name: its first source, without the client name."""
        return [
            names[0].split(":", 1)[-1] if names else port.shortname
            for port, names in zip(self.session.inputs, self.session.sources(), strict=True)
        ]

    # ---- actions ----

    def action_record(self) -> None:
        session = self.session
        if session.state in ("recording", "paused"):
            session.stop()
            return
        try:
            session.record(self.namer.create())
        except JackrecError as error:
            self.notify(str(error), severity="error")

    def action_pause(self) -> None:
        if self.session.state == "recording":
            self.session.pause()
        elif self.session.state == "paused":
            self.session.resume()
        else:
            self.notify("not recording")

    def action_arm(self) -> None:
        """Arm what the settings ask for (pre-roll, level trigger), or disarm."""
        session, config = self.session, self.config
        if session.preroll_armed or session.trigger_armed:
            session.disarm()
            self.notify("disarmed")
            return
        preroll = min(config.preroll, session.options.preroll_seconds)
        if preroll <= 0 and config.trigger is None:
            self.notify(
                "nothing to arm: set a pre-roll or a trigger in settings (s)", severity="warning"
            )
            return
        try:
            session.arm(preroll, config.trigger, self.namer.create)
        except JackrecError as error:
            self.notify(str(error), severity="error")
            return
        armed = [] if config.trigger is None else [f"a take begins at {config.trigger:g} dBFS"]
        if preroll > 0:
            armed.append(f"takes start {preroll:g} s early")
        self.notify("armed: " + "; ".join(armed))

    def action_marker(self) -> None:
        if self.session.state in ("recording", "paused"):
            self._markers += 1
            self.session.marker(f"marker {self._markers}")
        else:
            self.notify("markers go into a take: not recording")

    def action_new_take(self) -> None:
        if self.session.state not in ("recording", "paused"):
            self.notify("not recording: 'r' starts a take")
            return
        try:
            self.session.rotate(self.namer.create())
        except JackrecError as error:
            self.notify(str(error), severity="error")

    def action_clear_clips(self) -> None:
        self.meters.ballistics.clear_clips()

    def action_toggle_channel(self, channel: int) -> None:
        if channel < self.session.channels:
            armed = list(self.session.armed)
            armed[channel] = not armed[channel]
            self._arm_channels(armed)

    def action_arm_channels(self) -> None:
        def chosen(armed: list[bool] | None) -> None:
            if armed is not None:
                self._arm_channels(armed)

        self.push_screen(ArmChannels(list(self.session.armed)), chosen)

    def _arm_channels(self, armed: list[bool]) -> None:
        session = self.session
        session.armed[:] = armed
        if session.state in ("recording", "paused"):
            self.notify("channel arming applies from the next take")

    def action_patch(self) -> None:
        self.push_screen(PatchScreen(self.session))

    def action_settings(self) -> None:
        def saved(config: Config | None) -> None:
            if config is not None:
                self.config = config

        self.push_screen(
            SettingsScreen(self.config, self.config_path, self.namer.file_format), saved
        )

    def action_toggle_log(self) -> None:
        self.log_view.display = not self.log_view.display

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        if self.session.state not in ("recording", "paused"):
            self.exit(0)
            return

        def answered(stop: bool | None) -> None:
            if stop:
                self.exit(0)

        self.push_screen(ConfirmQuit(), answered)
