"""``jackrec record --transport`` and ``--freewheel`` on a real server, counter signal.

Exact means: a take begins at the first frame of the first cycle in which
the transport rolls (or JACK freewheels) and ends at the first frame of the
cycle in which it no longer does.  JACK's transport advances by one period
in each rolling cycle and by nothing otherwise, so a roll located at frame
P that stops at position Q lasted exactly Q - P frames: the take must hold
exactly that many, and its sidecar must say the transport stood at P in its
first cycle (one cycle late, it would say P + period).  For freewheel, an
observer client counts the frames of the cycles it runs while freewheeling
(JACK tells every client synchronously, between cycles): the take must hold
exactly those, gapless and bit-exact, though freewheel runs far faster than
realtime.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import jack
import numpy as np
import pytest
import soundfile as sf

from jackrec import counter, events
from jackrec.config import Config
from jackrec.recorder import LocalRecorder
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests.conftest import PERIOD, jackrec_command, open_session, stop_process
from tests.integration.test_service import Running

CHANNELS = 2
CLIENT = "jrfollow"
TIMEOUT = 30.0
CUT = 3 * 48000  # the service's rotation, in frames


@pytest.fixture
def controller(generator: SourceProcess) -> Iterator[jack.Client]:
    """A client of the test's own, to drive the transport and freewheel."""
    client = jack.Client("jrfollow-test", servername=generator.server)
    client.transport_stop()
    yield client
    client.transport_stop()
    client.deactivate()
    client.close()


def start_recorder(
    generator: SourceProcess, controller: jack.Client, pattern: Path, *options: str
) -> subprocess.Popen[str]:
    """``jackrec record OPTIONS --json PATTERN``, once it captures (bounded wait)."""
    ports = [arg for port in generator.port_names[:CHANNELS] for arg in ("-p", port)]
    process = subprocess.Popen(
        jackrec_command(
            "record", "--server", generator.server, "--name", CLIENT, *ports, *options,
            "--json", str(pattern),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + TIMEOUT
    while not controller.get_ports(f"{CLIENT}:in_{CHANNELS}", is_input=True) or not (
        controller.get_all_connections(f"{CLIENT}:in_{CHANNELS}")
    ):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process(process)
            pytest.fail(f"the recorder never came up: {process.communicate()[1]}")
        time.sleep(0.05)
    time.sleep(0.5)  # connected; capturing begins right after
    return process


def stop_recorder(
    process: subprocess.Popen[str], *, by_itself: bool = False
) -> list[dict[str, object]]:
    """SIGINT (or, `by_itself`, its own end), then its JSON summaries (one per take)."""
    if not by_itself:
        process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    finally:
        stop_process(process)
    assert process.returncode == 0, err
    summaries: list[dict[str, object]] = json.loads(out)
    return summaries


def wait_transport(client: jack.Client, state: int) -> None:
    deadline = time.monotonic() + TIMEOUT
    while client.transport_state != state:
        assert time.monotonic() < deadline, f"transport never reached {state}"
        time.sleep(0.01)


def check_take(path: Path, frames: int, channels: int = CHANNELS) -> None:
    data, _ = sf.read(str(path), dtype="float32")
    assert data.shape == (frames, channels)
    report = counter.check(data)
    assert report.gapless, report
    assert report.silence_runs == []


def test_one_take_per_roll_exactly_as_long_as_the_roll(
    generator: SourceProcess, controller: jack.Client, tmp_path: Path
) -> None:
    controller.activate()
    pattern = tmp_path / "roll.wav"
    process = start_recorder(generator, controller, pattern, "--transport", "--takes", "2")
    rolls = []
    try:
        for located in (0, 100_000):
            controller.transport_frame = located
            time.sleep(0.2)  # the locate takes effect in the next cycle
            assert controller.transport_frame == located
            controller.transport_start()
            wait_transport(controller, jack.ROLLING)
            time.sleep(0.6)
            controller.transport_stop()
            wait_transport(controller, jack.STOPPED)
            time.sleep(0.2)
            rolls.append((located, controller.transport_frame))
    finally:
        summaries = stop_recorder(process, by_itself=True)  # --takes 2: it ends itself

    takes = [tmp_path / "roll-001.wav", tmp_path / "roll-002.wav"]
    assert [Path(str(s["file"])).name for s in summaries] == [t.name for t in takes]
    assert sorted(tmp_path.glob("roll-*.wav")) == takes  # nothing while stopped
    for take, (located, stopped_at), summary in zip(takes, rolls, summaries, strict=True):
        frames = stopped_at - located
        assert frames > 0 and frames % PERIOD == 0
        check_take(take, frames)
        sidecar = read_sidecar(take)
        assert sidecar["frames"] == frames and sidecar["frames_lost"] == 0
        assert sidecar["start"]["transport_frame"] == located
        assert sidecar["ended_by"] == summary["ended_by"] == "transport stopped"


def test_a_roll_under_way_is_recorded_from_the_start_until_the_duration(
    generator: SourceProcess, controller: jack.Client, tmp_path: Path
) -> None:
    controller.activate()
    controller.transport_start()
    wait_transport(controller, jack.ROLLING)
    pattern = tmp_path / "late.wav"
    ports = [arg for port in generator.port_names[:CHANNELS] for arg in ("-p", port)]
    result = subprocess.run(
        jackrec_command(
            "record", "--server", generator.server, "--name", CLIENT, *ports, "--transport",
            "--duration", "2", "--json", str(pattern),
        ),
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [summary] = json.loads(result.stdout)
    assert summary["ended_by"] == "duration"
    take = tmp_path / "late-001.wav"
    check_take(take, 2 * 48000)  # from stream frame 0, exactly --duration long
    assert read_sidecar(take)["start"]["stream_frame"] == 0


def test_freewheel_runs_are_recorded_whole_and_gapless(
    generator: SourceProcess, controller: jack.Client, tmp_path: Path
) -> None:
    freewheeling = threading.Event()
    counted = [0]

    def on_freewheel(starting: bool) -> None:
        if starting:
            freewheeling.set()
        else:
            freewheeling.clear()

    def process_cycle(frames: int) -> None:
        if freewheeling.is_set():
            counted[0] += frames

    controller.set_freewheel_callback(on_freewheel)
    controller.set_process_callback(process_cycle)

    controller.activate()
    pattern = tmp_path / "render.wav"
    process = start_recorder(generator, controller, pattern, "--freewheel")
    runs = []
    try:
        for _ in range(2):
            before = counted[0]
            started = time.monotonic()
            controller.set_freewheel(True)
            time.sleep(0.4)
            controller.set_freewheel(False)
            elapsed = time.monotonic() - started
            time.sleep(0.3)
            runs.append((counted[0] - before, elapsed))
    finally:
        summaries = stop_recorder(process)

    takes = [tmp_path / "render-001.wav", tmp_path / "render-002.wav"]
    assert sorted(tmp_path.glob("render-*.wav")) == takes
    for take, (frames, elapsed), summary in zip(takes, runs, summaries, strict=True):
        assert frames > 0
        check_take(take, frames)
        assert summary["frames"] == frames and summary["frames_lost"] == 0
        assert summary["ended_by"] == "freewheel ended"
        assert "transport_frame" not in read_sidecar(take)["start"]
        print(f"{take.name}: {frames} frames in {elapsed:.2f} s ({frames / elapsed:.3g} frames/s)")


def service_settings(tmp_path: Path, generator: SourceProcess, keys: str = "") -> Path:
    """Settings following the transport, recording 2 channels into tmp_path/takes.

    `keys` are more settings, as TOML lines.
    """
    path = tmp_path / "config.toml"
    path.write_text(
        f'directory = "{tmp_path / "takes"}"\ntemplate = "roll{{n:03}}"\n'
        f'ports = ["{generator.name}:out_[1-2]"]\nchannels = {CHANNELS}\ntransport = true\n'
        f'{keys}\n[service]\nserver = "{generator.server}"\nname = "{CLIENT}"\n'
        f'min_free = "1M"\nsocket = "{tmp_path / "control.sock"}"\n'
    )
    return path


def test_the_service_follows_the_transport_from_its_settings(
    generator: SourceProcess, controller: jack.Client, tmp_path: Path
) -> None:
    controller.activate()
    path = service_settings(tmp_path, generator)
    with Running(path) as running:
        running.wait_for(lambda: running.state() == "armed")
        assert running.ask("status")["following"] == "roll"
        time.sleep(0.5)
        controller.transport_frame = 0
        time.sleep(0.2)
        controller.transport_start()
        running.wait_event(events.TakeStarted)
        time.sleep(0.5)
        controller.transport_stop()
        finished = running.wait_event(events.TakeFinished)
        stopped_at = controller.transport_frame
        assert running.state() == "armed"  # and armed for the next roll
    assert isinstance(finished, events.TakeFinished)
    assert finished.ended_by == "transport stopped"
    takes = sorted((tmp_path / "takes").glob("roll*.wav"))
    assert [t.name for t in takes] == ["roll001.wav"]
    check_take(takes[0], stopped_at)
    assert read_sidecar(takes[0])["start"]["transport_frame"] == 0


def roll(controller: jack.Client, seconds: float) -> int:
    """One roll from frame 0; returns where the transport stopped."""
    controller.transport_frame = 0
    time.sleep(0.2)
    controller.transport_start()
    wait_transport(controller, jack.ROLLING)
    time.sleep(seconds)
    controller.transport_stop()
    wait_transport(controller, jack.STOPPED)
    time.sleep(0.2)
    return int(controller.transport_frame)


def test_the_console_arms_and_disarms_following(
    generator: SourceProcess, controller: jack.Client, tmp_path: Path
) -> None:
    controller.activate()
    session = open_session(generator, CLIENT)
    try:
        config = Config(directory=str(tmp_path), template="take{n:03}", preroll=0, transport=True)
        recorder = LocalRecorder(session, config)  # what the console's keys call
        assert recorder.arm().describe() == "a take per roll"
        deadline = time.monotonic() + TIMEOUT
        while (status := recorder.status()).state != "armed":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert status.following == "roll"
        time.sleep(0.5)
        stopped_at = roll(controller, 0.5)
        recorder.disarm()
        while recorder.status().state != "stopped":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        roll(controller, 0.3)  # disarmed: no take
    finally:
        session.close()
    [take] = sorted(tmp_path.glob("take*.wav"))
    check_take(take, stopped_at, channels=4)  # open_session's


def test_a_long_roll_is_rotated_and_its_last_take_ends_with_the_roll(
    generator: SourceProcess, controller: jack.Client, tmp_path: Path
) -> None:
    controller.activate()
    # 3 s: a rotation shorter than the service's 2 s lead can be planned twice
    path = service_settings(tmp_path, generator, 'rotate = "3s"')
    with Running(path) as running:
        running.wait_for(lambda: running.state() == "armed")
        time.sleep(0.5)
        stopped_at = roll(controller, 6.5)
        running.wait_for(lambda: running.state() == "armed")
    takes = sorted((tmp_path / "takes").glob("roll*.wav"))
    assert len(takes) == -(-stopped_at // CUT)  # a take every 3 s, the last one shorter
    sidecars = [read_sidecar(take) for take in takes]
    assert [s["ended_by"] for s in sidecars] == ["rotated"] * (len(takes) - 1) + [
        "transport stopped"
    ]
    assert [s["frames"] for s in sidecars[:-1]] == [CUT] * (len(takes) - 1)
    joined = np.concatenate([sf.read(str(take), dtype="float32")[0] for take in takes])
    assert len(joined) == stopped_at
    report = counter.check(joined)
    assert report.gapless and report.silence_runs == []
