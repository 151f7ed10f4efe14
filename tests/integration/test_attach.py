"""The console attached to a running service (``jackrec tui --attach``).

The `Service` runs in a thread of the test process (as in test_service.py),
with its control socket in front of it; the console attaches through that
socket, headless (Pilot) or as ``jackrec tui --attach`` in tmux, and drives
takes as an engineer would.  The takes are checked with the counter.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from jackrec import counter, events
from jackrec.control import Request, meter_reading
from jackrec.control_client import ControlClient
from jackrec.control_socket import ControlServer
from jackrec.errors import JackrecError
from jackrec.jackserver import DummyServer
from jackrec.remote import RemoteRecorder
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from jackrec.tui.app import ConsoleApp
from jackrec.tui.dialogs import ConfirmQuit, HelpScreen
from tests.conftest import (
    PERIOD,
    RATE,
    jackrec_command,
    server_name,
    start_generator,
    stop_process,
)
from tests.control_fakes import short_directory
from tests.integration.test_service import Running, settings, takes
from tests.tmux import Tmux, wait_for_exit

Scenario = Callable[[Pilot[Any], ConsoleApp], Awaitable[None]]


class Served:
    """A service on the counter's first four channels, and its control socket."""

    def __init__(self, running: Running, control: ControlServer) -> None:
        self.running = running
        self.control = control
        self.socket = control.path

    @property
    def session_armed(self) -> list[bool]:
        session = self.running.service.session
        assert session is not None
        return list(session.armed)


@pytest.fixture
def served(generator: SourceProcess, tmp_path: Path) -> Iterator[Served]:
    path = settings(tmp_path, generator.server, f"{generator.name}:out_[1-4]", 'start = "command"')
    with short_directory() as directory, Running(path) as running:
        control = ControlServer(directory / "control.sock", running.service)
        control.start()
        try:
            running.wait_for(lambda: running.state() == "stopped")
            yield Served(running, control)
        finally:
            control.close()


def run(recorder: RemoteRecorder, scenario: Scenario) -> ConsoleApp:
    app = ConsoleApp(recorder)

    async def drive() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.3)
            await scenario(pilot, app)

    try:
        asyncio.run(asyncio.wait_for(drive(), timeout=60))
    finally:
        recorder.close()
    return app


async def wait_for_state(pilot: Pilot[Any], app: ConsoleApp, state: str) -> None:
    for _ in range(200):
        if app.recorder.status().state == state:
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never {state}")


def test_the_attached_console_records_marks_pauses_and_stops(
    served: Served, tmp_path: Path
) -> None:
    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await pilot.press("r")
        await wait_for_state(pilot, app, "recording")
        await pilot.pause(0.8)
        await pilot.press("m")
        await pilot.press("p")
        await wait_for_state(pilot, app, "paused")
        await pilot.pause(0.3)
        await pilot.press("p")
        await wait_for_state(pilot, app, "recording")
        await pilot.press("2")  # for the next take
        await pilot.pause(0.8)
        # the levels came through the socket: the counter reaches full scale
        assert app.meters.ballistics.hold_db.max() > -1
        assert app.meters.armed == [True, False, True, True]
        await pilot.press("r")
        await wait_for_state(pilot, app, "stopped")
        await pilot.pause(0.3)  # the take's last events
        await pilot.press("t")
        await pilot.press("s")
        shown = [str(n.message) for n in app._notifications]
        assert any("connects its sources by its settings" in text for text in shown)
        assert any("its settings are its file" in text for text in shown)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen) and "Attached to a service" in app.screen.text
        await pilot.press("escape")

    app = run(RemoteRecorder(served.socket), scenario)
    assert served.session_armed == [True, False, True, True]
    (take,) = takes(tmp_path)
    sidecar = read_sidecar(take)
    assert [marker["label"] for marker in sidecar["markers"]] == ["marker 1"]
    assert sidecar["ended_by"] == "stop request"
    (pause,) = sidecar["pauses"]
    report = counter.check_file(take)  # whole, but for the stretch the pause left out
    assert report.exact and report.frames > RATE and report.torn == []
    ((at, jump),) = report.discontinuities  # the counter's position jumps by the pause
    assert at == pause["file_frame"] and (jump - pause["frames"]) % counter.PERIOD == 0
    logged = [type(event) for event in app.recorder.events_since(0)[0]]
    for kind in (events.TakeStarted, events.MarkerAdded, events.TakeFinished):
        assert kind in logged, logged


def test_quitting_the_attached_console_leaves_the_service_recording(served: Served) -> None:
    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await pilot.press("r")
        await wait_for_state(pilot, app, "recording")
        await pilot.press("q")
        assert not isinstance(app.screen, ConfirmQuit)

    app = run(RemoteRecorder(served.socket), scenario)
    assert app.return_code == 0
    time.sleep(0.5)
    assert served.running.state() == "recording"


def test_the_console_ends_when_the_service_goes_away(served: Served) -> None:
    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        served.control.close()  # as when the service stops
        for _ in range(100):
            if app.return_code is not None:
                return
            await pilot.pause(0.05)
        raise AssertionError("the console did not end")

    recorder = RemoteRecorder(served.socket)
    app = run(recorder, scenario)
    assert app.return_code == 1
    assert recorder.lost is not None and str(served.socket) in recorder.lost


def test_the_attached_console_rides_out_a_jack_server_restart(tmp_path: Path) -> None:
    """The service waits for its server and records on; the console shows it all."""
    name = server_name("attach-restart")
    path = settings(tmp_path, name, "counter-ar:out_*", 'start = "now"')
    server = DummyServer(name, rate=RATE, period=PERIOD, synchronous=True).start()
    generator = start_generator(name, 4, "counter-ar")

    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        nonlocal server, generator
        await wait_for_state(pilot, app, "recording")
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        await wait_for_state(pilot, app, "waiting for server")
        await pilot.pause(0.2)
        assert "NO JACK" in app.transport.text
        generator.stop()
        server.stop()
        server = DummyServer(name, rate=RATE, period=PERIOD, synchronous=True).start()
        generator = start_generator(name, 4, "counter-ar")
        await wait_for_state(pilot, app, "recording")  # a new take
        for _ in range(100):  # the sources connected again, and seen
            if app.meters.labels == ["out_1", "out_2", "out_3", "out_4"]:
                break
            await pilot.pause(0.1)
        assert app.meters.labels == ["out_1", "out_2", "out_3", "out_4"]
        assert app.recorder.lost is None
        await pilot.press("q")

    try:
        with short_directory() as directory, Running(path) as running:
            control = ControlServer(directory / "control.sock", running.service)
            control.start()
            try:
                running.wait_for(lambda: running.state() == "recording")
                app = run(RemoteRecorder(control.path), scenario)
            finally:
                control.close()
    finally:
        generator.stop()
        server.stop()
    assert app.return_code == 0
    assert len(takes(tmp_path)) == 2


def test_two_readers_of_the_levels_each_see_every_frame(served: Served) -> None:
    """Each connection's meters cover all the frames since its last look: the
    capture's meters are taken once, and folded into every reader's account."""
    seconds = 2.0
    with ControlClient(served.socket) as one, ControlClient(served.socket) as two:
        for client in (one, two):
            client.request(Request("meters"))  # each from now on
        frames = {"one": 0, "two": 0}
        began = time.monotonic()
        while time.monotonic() < began + seconds:
            for name, client in (("one", one), ("two", two)):
                frames[name] += int(meter_reading(client.request(Request("meters")), 4).frames[0])
            time.sleep(1 / 30)
        elapsed = time.monotonic() - began
    for seen in frames.values():  # within a few periods of all the frames
        assert abs(seen - elapsed * RATE) < 0.1 * RATE, (frames, elapsed)


def test_a_service_without_its_jack_server_cannot_be_attached(tmp_path: Path) -> None:
    path = settings(tmp_path, "nowhere", "counter:*", 'start = "command"')
    with short_directory() as directory, Running(path) as running:
        control = ControlServer(directory / "control.sock", running.service)
        control.start()
        try:
            with pytest.raises(JackrecError, match="not connected to JACK server 'nowhere'"):
                RemoteRecorder(control.path)
        finally:
            control.close()


# ---- in a real terminal ----


needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")


@needs_tmux
def test_jackrec_tui_attach_in_tmux_records_marks_and_stops(
    tmux: Tmux, served: Served, tmp_path: Path
) -> None:
    tmux.start(jackrec_command("tui", "--attach", str(served.socket)), tmp_path / "exit")
    tmux.wait_for("STOPPED")
    tmux.press("r")
    tmux.wait_for("● REC")
    time.sleep(1.5)
    tmux.press("m")
    tmux.wait_for("marker 1")
    tmux.press("r")
    tmux.wait_for("ended by stop request")
    tmux.press("q")
    assert wait_for_exit(tmp_path / "exit") == "exit=0"
    (take,) = takes(tmp_path)
    assert counter.check_file(take).gapless
    assert [marker["label"] for marker in read_sidecar(take)["markers"]] == ["marker 1"]


@needs_tmux
def test_jackrec_tui_attach_says_when_jackrec_serve_stops(
    tmux: Tmux, generator: SourceProcess, tmp_path: Path
) -> None:
    """SIGTERM to the service: its take is finalized, the console says so in one line."""
    path = settings(tmp_path, generator.server, f"{generator.name}:out_[1-4]", 'start = "now"')
    socket = tmp_path / "control.sock"  # the settings' socket
    log = tmp_path / "serve.log"
    with log.open("w") as stderr:
        service = subprocess.Popen(jackrec_command("--config", str(path), "serve"), stderr=stderr)
    try:
        deadline = time.monotonic() + 20
        while not socket.exists():
            assert service.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        tmux.start(jackrec_command("tui", "--attach", str(socket)), tmp_path / "exit")
        tmux.wait_for("● REC")
        time.sleep(1.0)
        service.send_signal(signal.SIGTERM)
        assert service.wait(10) == 0
    finally:
        stop_process(service)
    assert wait_for_exit(tmp_path / "exit") == "exit=1"
    (said,) = [line.strip() for line in tmux.screen().splitlines() if line.strip()]
    assert re.fullmatch(rf"jackrec: error: the service on {re.escape(str(socket))} .+", said)
    (take,) = takes(tmp_path)
    assert read_sidecar(take)["complete"] is True
    assert counter.check_file(take).gapless
