"""The console driven by its keys, on a real server, recording real takes.

Each test runs the app headless (`App.run_test`) against a session on the
test server, presses keys like an engineer would, and checks the takes on
disk with the counter checker.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import tomllib
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import jack
import numpy as np
import pytest
import soundfile as sf
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Label, Select

from jackrec import config as config_module
from jackrec import counter, events
from jackrec.config import Config
from jackrec.recorder import LocalRecorder
from jackrec.session import Session, SessionOptions
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from jackrec.tui.app import ConsoleApp
from jackrec.tui.dialogs import ArmChannels, ConfirmQuit, HelpScreen
from jackrec.tui.patch import PatchScreen
from jackrec.tui.settings import SettingsScreen
from tests.conftest import finished, open_session, run_jackrec
from tests.integration.triggered import (
    HOLD_SECONDS,
    PREROLL_SECONDS,
    TRIGGER_DBFS,
    check_triggered_takes,
)

Scenario = Callable[[Pilot[Any], ConsoleApp], Awaitable[None]]


@pytest.fixture
def session(generator: SourceProcess) -> Iterator[Session]:
    session = open_session(generator, "jackrec-tui", preroll_seconds=1.0)
    yield session
    if session.is_open:
        session.close()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(directory=str(tmp_path / "takes"), template="take{n:03}", preroll=1.0)


def run(session: Session, config: Config, scenario: Scenario, tmp_path: Path) -> ConsoleApp:
    app = ConsoleApp(LocalRecorder(session, config), tmp_path / "config.toml")

    async def drive() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.3)
            await scenario(pilot, app)

    asyncio.run(asyncio.wait_for(drive(), timeout=60))
    return app


def settings_of(app: ConsoleApp) -> Config:
    """The settings the console's next take follows."""
    assert app.recorder.namer is not None
    return app.recorder.namer.config


def takes(config: Config) -> list[Path]:
    return sorted(config.recordings.glob("*.wav"))


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 15) -> None:
    """Wait (in time, however loaded the machine) until `condition` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await pilot.pause(0.05)


async def record_a_take(pilot: Pilot[Any], session: Session, seconds: float) -> None:
    """Press r, record `seconds`, press r again."""
    await pilot.press("r")
    await wait_until(pilot, lambda: session.state == "recording")
    await pilot.pause(seconds)
    await pilot.press("r")
    await wait_until(pilot, lambda: session.state == "stopped")


def test_record_and_stop_make_a_gapless_take(
    session: Session, config: Config, tmp_path: Path
) -> None:
    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await record_a_take(pilot, session, 1.0)

    run(session, config, scenario, tmp_path)
    (take,) = takes(config)
    assert take.name == "take001.wav"
    report = counter.check_file(take)
    assert report.gapless and report.frames > 40000
    assert read_sidecar(take)["ended_by"] == "stop request"


def test_the_console_rotates_takes_at_exact_frames(
    session: Session, config: Config, tmp_path: Path
) -> None:
    config.rotate = 1.0

    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await pilot.press("r")
        await wait_until(pilot, lambda: len(takes(config)) >= 3)
        await wait_until(pilot, lambda: finished(takes(config)[1:2]) == 1)
        await pilot.press("r")
        await wait_until(pilot, lambda: session.state == "stopped")

    run(session, config, scenario, tmp_path)
    paths = takes(config)
    sidecars = [read_sidecar(path) for path in paths]
    assert [s["ended_by"] for s in sidecars[:2]] == ["rotated", "rotated"]
    second = session.sample_rate
    assert [s["frames"] for s in sidecars[:2]] == [second, second]
    starts = [s["start"]["stream_frame"] for s in sidecars]
    assert starts[1] - starts[0] == second and starts[2] - starts[1] == second
    data = np.concatenate([sf.read(str(path), dtype="float32")[0] for path in paths])
    assert counter.check(data).gapless


def test_pause_marker_and_new_take(session: Session, config: Config, tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await pilot.press("r")
        await pilot.pause(0.5)
        await pilot.press("m")
        await pilot.press("p")
        await wait_until(pilot, lambda: session.state == "paused")
        await pilot.pause(0.3)
        await pilot.press("p")
        await wait_until(pilot, lambda: session.state == "recording")
        await pilot.pause(0.3)
        await pilot.press("n")
        await pilot.pause(0.5)
        await pilot.press("m")
        await pilot.press("r")
        await wait_until(pilot, lambda: session.state == "stopped")

    run(session, config, scenario, tmp_path)
    first, second = takes(config)
    one, two = read_sidecar(first), read_sidecar(second)
    assert one["ended_by"] == "rotated" and len(one["pauses"]) == 1
    assert [m["label"] for m in one["markers"]] == ["marker 1"]
    assert [m["label"] for m in two["markers"]] == ["marker 2"]
    assert (
        two["start"]["stream_frame"]
        == one["start"]["stream_frame"] + one["frames"] + (one["pauses"][0]["frames"])
    )
    assert counter.check_file(second).gapless


def test_arm_records_the_preroll(session: Session, config: Config, tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await pilot.press("a")
        await wait_until(pilot, lambda: session.state == "armed")
        await pilot.pause(1.5)
        await pilot.press("r")
        await pilot.pause(0.5)
        await pilot.press("r")
        await wait_until(pilot, lambda: session.state == "armed")  # re-armed for the next take
        await pilot.press("a")
        await wait_until(pilot, lambda: session.state == "stopped")

    run(session, config, scenario, tmp_path)
    (take,) = takes(config)
    assert counter.check_file(take).frames >= 1.4 * 48000  # 1 s of pre-roll + 0.5 s


def test_the_level_trigger_begins_a_take_at_the_first_loud_frame(
    session: Session, config: Config, tmp_path: Path
) -> None:
    level = -0.05  # dBFS: the counter passes it once a channel, every 65536 frames
    config = dataclasses.replace(config, trigger=level)

    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await pilot.press("a")
        # armed, or armed and fired already (the counter is loud every 1.4 s)
        await wait_until(pilot, lambda: session.trigger_armed or session.state == "recording")
        await wait_until(pilot, lambda: session.state == "recording")
        assert not session.trigger_armed  # it fires once
        await pilot.pause(0.5)
        await pilot.press("r")
        await wait_until(pilot, lambda: session.state == "armed")  # the pre-roll stays armed

    run(session, config, scenario, tmp_path)
    (take,) = takes(config)
    assert counter.check_file(take).gapless
    (fired,) = [
        e.stream_frame for e in session.events_since(0)[0] if isinstance(e, events.TriggerFired)
    ]
    begun = read_sidecar(take)["start"]["stream_frame"]
    assert fired - begun == min(fired, round(config.preroll * 48000))  # the pre-roll, if there
    data, _ = sf.read(str(take), dtype="float32")
    loud = np.abs(data).max(axis=1) >= 10 ** (level / 20)
    assert loud[fired - begun]


def test_channel_keys_clips_log_and_screens(
    session: Session, config: Config, tmp_path: Path
) -> None:
    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await pilot.press("2", "4")
        assert session.armed == [True, False, True, False]
        # the counter reaches -1.0 (full scale) on every channel: clips latch
        await wait_until(pilot, lambda: bool(app.meters.ballistics.clipped.all()))
        await pilot.press("c")
        # cleared (a channel may clip again meanwhile, but not all four so soon)
        assert not app.meters.ballistics.clipped.all()
        meter_lines = app.meters.size.height
        await pilot.press("l")
        assert not app.log_view.display
        await pilot.pause(0.1)
        assert app.meters.size.height == meter_lines + app.log_view.styles.height.value  # type: ignore[union-attr]
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause(0.1)
        assert app.screen.query_one(Label).size.width > 40  # the keys show, not an empty box
        await pilot.press("escape", "s")
        assert isinstance(app.screen, SettingsScreen)
        await pilot.press("escape", "t")
        assert isinstance(app.screen, PatchScreen)
        await pilot.press("escape", "r")
        await pilot.pause(0.5)
        await pilot.press("r")
        await wait_until(pilot, lambda: session.state == "stopped")

    run(session, config, scenario, tmp_path)
    (take,) = takes(config)
    assert [c["capture_channel"] for c in read_sidecar(take)["channels"]] == [1, 3]


def test_patch_panel_connects_and_disconnects(
    session: Session, config: Config, tmp_path: Path
) -> None:
    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await pilot.press("t")
        screen = app.screen
        assert isinstance(screen, PatchScreen)
        await pilot.press("d")  # disconnect in_1
        assert session.sources()[0] == ()
        await pilot.click("#patch-filter")
        await pilot.press(*"out_9", "tab")  # the sources list, filtered
        assert [o.id for o in screen.sources.options] == ["counter:out_9"]
        await pilot.press("space")
        assert session.sources()[0] == ("counter:out_9",)
        await wait_until(pilot, lambda: app.meters.labels[0] == "out_9")  # graph change seen

    run(session, config, scenario, tmp_path)


def test_a_source_renamed_in_jack_metadata_is_renamed_on_the_meters(
    session: Session, config: Config, tmp_path: Path
) -> None:
    """A patchbay (here the session's own client) gives a source a pretty-name:
    the console's meter shows it, and drops it when it goes."""
    snare = session.client.get_port_by_name(session.sources()[1][0])

    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        session.client.set_property(snare, jack.METADATA_PRETTY_NAME, "Snare Top")
        await wait_until(pilot, lambda: app.meters.labels[1] == "Snare Top")
        session.client.remove_property(snare, jack.METADATA_PRETTY_NAME)
        await wait_until(pilot, lambda: app.meters.labels[1] == "out_2")

    try:
        run(session, config, scenario, tmp_path)
    finally:  # the counter serves the other tests: never leave it renamed
        with contextlib.suppress(ValueError):  # removed already (JACK-Client's word)
            session.client.remove_property(snare, jack.METADATA_PRETTY_NAME)


def test_settings_are_saved(session: Session, config: Config, tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await pilot.press("s")
        app.screen.query_one("#template", Input).value = "mix{n}"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: settings_of(app).template == "mix{n}")

    run(session, config, scenario, tmp_path)
    saved = (tmp_path / "config.toml").read_text()
    assert 'template = "mix{n}"' in saved


def test_settings_that_cannot_record_are_not_saved(
    session: Session, config: Config, tmp_path: Path
) -> None:
    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await pilot.press("s")
        app.screen.query_one("#format", Select).value = "flac"
        app.screen.query_one("#bits", Select).value = "32"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert isinstance(app.screen, SettingsScreen)  # still open, saying why
        problem = str(app.screen.query_one("#settings-problem", Label).render())
        assert "Not saved: flac cannot hold 32-bit samples" in problem
        await pilot.press("escape")

    app = run(session, config, scenario, tmp_path)
    assert settings_of(app) == config
    assert not (tmp_path / "config.toml").exists()


def test_settings_save_only_what_was_changed(
    session: Session, config: Config, tmp_path: Path
) -> None:
    """The command line's --dir is in effect, but never saved."""
    path = tmp_path / "config.toml"
    path.write_text('template = "file{n}"\nbits = "24"\n')
    in_effect = dataclasses.replace(config_module.load(path), directory=str(tmp_path / "cli"))

    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await pilot.press("s")
        app.screen.query_one("#template", Input).value = "mix{n}"
        app.screen.query_one("#trigger", Input).value = "-20"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: settings_of(app).template == "mix{n}")

    app = run(session, in_effect, scenario, tmp_path)  # saving to `path`
    assert tomllib.loads(path.read_text()) == {"template": "mix{n}", "bits": "24", "trigger": -20.0}
    assert settings_of(app).directory == str(tmp_path / "cli")  # still in effect for this session


def test_settings_take_the_lossy_formats_quality_dither_and_hooks(
    session: Session, config: Config, tmp_path: Path
) -> None:
    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await pilot.press("s")
        app.screen.query_one("#format", Select).value = "opus"
        app.screen.query_one("#quality", Input).value = "0.7"
        app.screen.query_one("#dither", Checkbox).value = True
        app.screen.query_one("#on_close", Input).value = "sh -c 'echo \"$0\"'"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: settings_of(app).format == "opus")
        await record_a_take(pilot, session, 0.5)

    app = run(session, config, scenario, tmp_path)
    saved = tomllib.loads((tmp_path / "config.toml").read_text())
    assert saved == {
        "format": "opus", "quality": 0.7, "dither": True, "on_close": ["sh", "-c", 'echo "$0"'],
    }  # fmt: skip
    assert settings_of(app).on_close == ["sh", "-c", 'echo "$0"']
    (take,) = config.recordings.glob("*.opus")
    assert sf.info(str(take)).subtype == "OPUS"


def test_settings_refuse_a_lossy_format_that_cannot_hold_the_channels(
    session: Session, config: Config, tmp_path: Path
) -> None:
    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await pilot.press("s")
        app.screen.query_one("#format", Select).value = "mp3"
        app.screen.query_one("#split", Input).value = "1-3,4"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        problem = str(app.screen.query_one("#settings-problem", Label).render())
        assert "Not saved: --split group 1-3 is wider than the 2 channels" in problem
        app.screen.query_one("#format", Select).value = "wav"
        app.screen.query_one("#split", Input).value = ""
        app.screen.query_one("#on_start", Input).value = "no-such-hook-here"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        problem = str(app.screen.query_one("#settings-problem", Label).render())
        assert "on_start: 'no-such-hook-here' is not an executable command" in problem
        await pilot.press("escape")

    app = run(session, config, scenario, tmp_path)
    assert settings_of(app) == config


def test_settings_split_the_next_take_into_files(
    session: Session, config: Config, tmp_path: Path
) -> None:
    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await pilot.press("s")
        app.screen.query_one("#split", Input).value = "pairs"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: settings_of(app).split == "pairs")
        await record_a_take(pilot, session, 0.5)

    run(session, config, scenario, tmp_path)
    assert tomllib.loads((tmp_path / "config.toml").read_text()) == {"split": "pairs"}
    sidecar = read_sidecar(config.recordings / "take001.wav")
    assert [entry["channels"] for entry in sidecar["files"]] == [[1, 2], [3, 4]]
    assert sorted(p.name for p in config.recordings.iterdir()) == [
        "take001.wav.json",
        "take001_01-02_counter_out.wav",
        "take001_03-04_counter_out.wav",
    ]


def test_a_command_line_that_cannot_record_is_refused_at_once(tmp_path: Path) -> None:
    settings = tmp_path / "config.toml"
    settings.touch()
    result = run_jackrec(["--config", str(settings), "tui", "--format", "flac", "--bits", "32"])
    assert result.returncode == 2
    assert result.stderr == "jackrec: error: flac cannot hold 32-bit samples (use 16 or 24 bits)\n"


def test_a_take_that_fails_uses_no_take_number(
    session: Session, config: Config, tmp_path: Path
) -> None:
    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await pilot.press("1", "2", "3", "4", "r")  # nothing armed: no take
        await pilot.pause(0.2)
        assert session.state == "stopped"
        await pilot.press("1")
        await record_a_take(pilot, session, 0.3)

    run(session, config, scenario, tmp_path)
    assert [take.name for take in takes(config)] == ["take001.wav"]


@pytest.fixture
def wide_session(generator: SourceProcess) -> Iterator[Session]:
    """24 channels: more than the number keys reach."""
    session = Session(
        SessionOptions(
            ports=tuple(generator.port_names[:24]),
            server=generator.server,
            client_name="jackrec-tui-wide",
        )
    ).open()
    yield session
    session.close()


def test_any_channels_can_be_armed_by_list(
    wide_session: Session, config: Config, tmp_path: Path
) -> None:
    session = wide_session

    async def arm(pilot: Pilot[Any], app: ConsoleApp, text: str) -> ArmChannels:
        await pilot.press("i")
        dialog = app.screen
        assert isinstance(dialog, ArmChannels)
        dialog.query_one(Input).value = text
        await pilot.press("enter")
        return dialog

    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await arm(pilot, app, "none")
        assert not any(session.armed)
        await arm(pilot, app, "all")
        assert all(session.armed)
        dialog = await arm(pilot, app, "3, 30")
        assert app.screen is dialog  # refused, saying why
        assert "not within channels 1 to 24" in str(dialog.query_one("#arm-problem").render())
        await pilot.press("escape")
        assert all(session.armed)
        await arm(pilot, app, "2, 17-18 24")
        assert [i + 1 for i, armed in enumerate(session.armed) if armed] == [2, 17, 18, 24]
        await pilot.press("i")
        assert app.screen.query_one(Input).value == "2, 17-18, 24"  # what is armed now
        await pilot.press("escape")
        await record_a_take(pilot, session, 0.3)

    run(session, config, scenario, tmp_path)
    (take,) = takes(config)
    assert [c["capture_channel"] for c in read_sidecar(take)["channels"]] == [2, 17, 18, 24]


def test_quit_while_recording_asks_and_the_take_is_finalized(
    session: Session, config: Config, tmp_path: Path
) -> None:
    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await pilot.press("r")
        await wait_until(pilot, lambda: session.state == "recording")
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmQuit)
        await pilot.press("n")
        assert session.state == "recording"
        await pilot.press("q", "y")

    app = run(session, config, scenario, tmp_path)
    assert app.return_code == 0
    assert session.state == "recording"  # the caller closes the session ...
    stats = session.close()
    (take,) = takes(config)
    assert counter.check_file(take).gapless and stats.frames_lost == 0  # ... which finalizes


def test_patch_panel_snapshot(
    snap_compare: Callable[..., bool], session: Session, config: Config
) -> None:
    app = ConsoleApp(LocalRecorder(session, dataclasses.replace(config)))
    assert snap_compare(app, terminal_size=(80, 24), press=["t"])


def test_the_trigger_hold_ends_takes_and_arms_again(
    session: Session, config: Config, tmp_path: Path
) -> None:
    session.armed = [True, False, False, False]  # the counter's first channel: see triggered.py
    config = dataclasses.replace(
        config, preroll=PREROLL_SECONDS, trigger=TRIGGER_DBFS, trigger_hold=HOLD_SECONDS
    )

    async def scenario(pilot: Pilot[Any], app: ConsoleApp) -> None:
        await pilot.press("a")
        await wait_until(pilot, lambda: finished(takes(config)) >= 2)
        await pilot.press("a")  # disarm
        await wait_until(pilot, lambda: session.state == "stopped")

    run(session, config, scenario, tmp_path)
    check_triggered_takes(takes(config)[:2])
