"""The recording console: meters, transport, log, and the keys that drive a recorder.

The console drives a `jackrec.recorder.Recorder`: a session in this process
(``jackrec tui``) or a running service through its control socket
(``jackrec tui --attach``); the screen is the same.  The UI thread polls it
~30 times a second with `set_interval`: meters (taken from the callback's
atomics), and at 10 Hz transport status, new log events and channel
changes.  Nothing is pushed to it from the JACK or writer threads, so a slow
terminal can only make the meters lag, never cost a frame.

The console ends, always through `App.exit` and then the caller's clean-up
(`Session.close` finalizes the take), when the engineer quits, when
`stop_requested` says so (the command line's answer: a SIGINT, SIGTERM or
SIGHUP came), when the recorder is lost (its JACK server shut down, the
service ended), and when the terminal goes away (`jackrec.tui.terminal`);
the last two exit with status 1.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer

from jackrec.config import Config
from jackrec.errors import JackrecError
from jackrec.recorder import Recorder
from jackrec.tui.band import Band, ConsoleScreen
from jackrec.tui.dialogs import ArmChannels, ConfirmQuit, HelpScreen
from jackrec.tui.eventlog import EventLog
from jackrec.tui.meters import MeterBank
from jackrec.tui.patch import PatchScreen
from jackrec.tui.settings import SettingsScreen
from jackrec.tui.terminal import ConsoleDriver
from jackrec.tui.transport import TransportBar

FRAME_SECONDS = 1 / 30
CHANNEL_KEYS = "1234567890"
RECORDING = ("recording", "paused")
NO_PATCH_PANEL = "attached to a service: it connects its sources by its settings' patterns"
NO_SETTINGS = "attached to a service: its settings are its file (then: jackrec ctl reload)"


class ConsoleApp(App[int]):
    """Runs a recorder from the terminal.

    Parameters
    ----------
    recorder
        What the console shows and drives; the caller cleans it up after
        the app exits (closing a local session finalizes its take).
    config_path
        The file the settings screen saves to (None: the default one).
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
        recorder: Recorder,
        config_path: Path | None = None,
        *,
        now: Callable[[], float] = time.monotonic,
        stop_requested: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__(driver_class=ConsoleDriver)
        self.recorder = recorder
        self.config_path = config_path
        self._now = now
        self._last_tick = now()
        self._events_seen = 0
        self._channels_seen = recorder.channels_version
        self._channels = recorder.channel_list()
        self._markers = 0
        self._ticks = 0
        self.stop_requested = stop_requested
        self.lost_terminal: str | None = None

    def get_default_screen(self) -> ConsoleScreen:
        return ConsoleScreen(id="_default")

    def compose(self) -> ComposeResult:
        with Band():
            yield TransportBar(id="transport")
        yield MeterBank(self.recorder.channels, self._labels(), id="meters")
        with Band():
            yield EventLog(id="log")
            yield Footer()

    def on_mount(self) -> None:
        self.transport = self.query_one(TransportBar)
        self.meters = self.query_one(MeterBank)
        self.log_view = self.query_one(EventLog)
        self.meters.armed = self._armed()
        self.set_interval(FRAME_SECONDS, self.tick)
        # what exists now lives as long as the console: the garbage collector
        # need not walk it again at every collection, 30 frames a second
        gc.freeze()

    # ---- the 30 Hz poll ----

    def tick(self) -> None:
        if not (self.meters.is_attached and self.transport.is_attached):
            return  # the app is tearing down: its widgets are gone
        recorder = self.recorder
        now = self._now()
        self.meters.ballistics.update(recorder.meters(), now - self._last_tick)
        self._last_tick = now
        self.meters.show_levels()
        self._ticks += 1
        if self._ticks % 3 == 0:  # 10 Hz is plenty for text, and for rotation
            recorder.step()
            self._refresh_status()
        if recorder.lost:
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
        recorder = self.recorder
        if recorder.channels_version != self._channels_seen:
            self._channels_seen = recorder.channels_version
            self._show_channels()
            if isinstance(self.screen, PatchScreen):
                self.screen.rebuild()
        self.transport.show(
            recorder.status(),
            sum(self._armed()),
            recorder.channels,
            recorder.bytes_per_second(),
        )
        events, self._events_seen = recorder.events_since(self._events_seen)
        self.log_view.add(events)

    def _show_channels(self) -> None:
        """Read the channels again: their labels and arming."""
        self._channels = self.recorder.channel_list()
        self.meters.labels = self._labels()
        self.meters.armed = self._armed()

    def _labels(self) -> list[str]:
        return [channel.label for channel in self._channels]

    def _armed(self) -> list[bool]:
        return [channel.armed for channel in self._channels]

    def _state(self) -> str:
        return self.recorder.status().state

    def _carry_out(self, command: Callable[[], object]) -> bool:
        """Run a recorder command; a refusal is shown, not raised.  Whether it was done."""
        try:
            command()
        except JackrecError as error:
            self.notify(str(error), severity="error")
            return False
        return True

    # ---- actions ----

    def action_record(self) -> None:
        recording = self._state() in RECORDING
        self._carry_out(self.recorder.stop if recording else self.recorder.record)

    def action_pause(self) -> None:
        state = self._state()
        if state == "recording":
            self._carry_out(self.recorder.pause)
        elif state == "paused":
            self._carry_out(self.recorder.resume)
        else:
            self.notify("not recording")

    def action_arm(self) -> None:
        """Arm what the settings ask for (pre-roll, level trigger, following), or disarm."""
        recorder = self.recorder
        status = recorder.status()
        if status.preroll_seconds > 0 or status.trigger_dbfs is not None or status.following:
            if self._carry_out(recorder.disarm):
                self.notify("disarmed")
            return
        try:
            arming = recorder.arm()
        except JackrecError as error:
            self.notify(str(error), severity="warning")
            return
        self.notify("armed: " + arming.describe())

    def action_marker(self) -> None:
        if self._state() in RECORDING:
            self._markers += 1
            self._carry_out(lambda: self.recorder.marker(f"marker {self._markers}"))
        else:
            self.notify("markers go into a take: not recording")

    def action_new_take(self) -> None:
        if self._state() not in RECORDING:
            self.notify("not recording: 'r' starts a take")
            return
        self._carry_out(self.recorder.new_take)

    def action_clear_clips(self) -> None:
        self.meters.ballistics.clear_clips()

    def action_toggle_channel(self, channel: int) -> None:
        if channel < self.recorder.channels:
            armed = [c.armed for c in self.recorder.channel_list()]  # as of now
            armed[channel] = not armed[channel]
            self._arm_channels(armed)

    def action_arm_channels(self) -> None:
        def chosen(armed: list[bool] | None) -> None:
            if armed is not None:
                self._arm_channels(armed)

        armed = [c.armed for c in self.recorder.channel_list()]
        self.push_screen(ArmChannels(armed), chosen)

    def _arm_channels(self, armed: list[bool]) -> None:
        if not self._carry_out(lambda: self.recorder.arm_channels(armed)):
            return
        self._show_channels()
        if self._state() in RECORDING:
            self.notify("channel arming applies from the next take")

    def action_patch(self) -> None:
        session = self.recorder.session
        if session is None:
            self.notify(NO_PATCH_PANEL, severity="warning")
            return
        self.push_screen(PatchScreen(session))

    def action_settings(self) -> None:
        namer = self.recorder.namer
        if namer is None:
            self.notify(NO_SETTINGS, severity="warning")
            return

        def saved(config: Config | None) -> None:
            if config is not None:
                namer.config = config

        self.push_screen(SettingsScreen(namer.config, self.config_path, namer.file_format), saved)

    def action_toggle_log(self) -> None:
        self.log_view.display = not self.log_view.display

    def action_help(self) -> None:
        self.push_screen(HelpScreen(attached=not self.recorder.ends_with_console))

    async def action_quit(self) -> None:
        if not self.recorder.ends_with_console or self._state() not in RECORDING:
            self.exit(0)
            return

        def answered(stop: bool | None) -> None:
            if stop:
                self.exit(0)

        self.push_screen(ConfirmQuit(), answered)
