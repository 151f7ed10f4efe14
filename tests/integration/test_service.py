"""``jackrec serve`` on a real dummy JACK server, with the counter source.

Most tests run the `Service` in a thread of the test process and drive it
through its control API (`Service.handle`), as the control socket does;
the ones about signals and the disk run ``jackrec serve`` as a process.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jackrec import config as config_module
from jackrec import counter, events
from jackrec.control import Request
from jackrec.jackserver import DummyServer
from jackrec.service import Service
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests.conftest import (
    PERIOD,
    RATE,
    finished,
    jackrec_command,
    server_name,
    start_generator,
    stop_process,
)
from tests.integration.triggered import (
    HOLD_SECONDS,
    PREROLL_SECONDS,
    TRIGGER_DBFS,
    check_triggered_takes,
)

#: The rate a restarted server comes back with.
RATE_AFTER = 44100


def settings(
    tmp_path: Path, server: str, ports: str, service: str = "", recording: str = ""
) -> Path:
    """A settings file recording 4 channels into tmp_path/takes.

    `service` is more of the ``[service]`` table, `recording` more of the
    recording settings (rotation, say), as TOML lines.
    """
    path = tmp_path / "config.toml"
    path.write_text(
        f'directory = "{tmp_path / "takes"}"\ntemplate = "take{{n:03}}"\n'
        f'ports = ["{ports}"]\nchannels = 4\npreroll = 1.0\n{recording}\n'
        f'[service]\nserver = "{server}"\nname = "jackrec-service"\nmin_free = "1M"\n'
        f'socket = "{tmp_path / "control.sock"}"\n{service}\n'
    )
    return path


class Running:
    """A `Service` in a thread, stopped as SIGTERM would stop it."""

    def __init__(self, path: Path) -> None:
        self.service = Service(config_module.load(path), path)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.service.run, args=(self._next_signal,))
        self.events = self.service.subscribe()
        self.seen: list[events.Event] = []

    def _next_signal(self, timeout: float) -> signal.Signals | None:
        return signal.SIGTERM if self._stop.wait(timeout) else None

    def __enter__(self) -> Running:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(20)
        assert not self._thread.is_alive(), "the service did not stop"

    def ask(self, command: str, argument: str | None = None) -> dict[str, object]:
        return self.service.handle(Request(command, argument))

    def wait_for(self, condition: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "condition not reached"
            time.sleep(0.05)

    def wait_event(self, kind: type[events.Event], timeout: float = 15.0) -> events.Event:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.events.next(0.1)
            if event is not None:
                self.seen.append(event)
                if isinstance(event, kind):
                    return event
        raise AssertionError(f"no {kind.__name__} within {timeout} s")

    def state(self) -> object:
        return self.ask("status")["state"]


def takes(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "takes").glob("take*.wav"))


def joined(paths: list[Path]) -> np.ndarray:
    return np.concatenate([sf.read(str(path), dtype="float32")[0] for path in paths])


def test_rotation_cuts_sample_exact_takes_that_join_into_one(
    generator: SourceProcess, tmp_path: Path
) -> None:
    path = settings(
        tmp_path, generator.server, f"{generator.name}:out_[1-4]", recording='rotate = "2s"'
    )
    with Running(path) as running:
        for _ in range(3):
            running.wait_event(events.TakeFinished)
    paths = takes(tmp_path)
    assert len(paths) >= 4
    assert [sf.info(str(p)).frames for p in paths[:3]] == [2 * RATE] * 3  # exactly 2 s each
    report = counter.check(joined(paths))
    assert report.gapless and report.silence_runs == []
    first, second = (read_sidecar(p) for p in paths[:2])
    assert first["ended_by"] == "rotated"
    assert second["start"]["stream_frame"] == first["start"]["stream_frame"] + 2 * RATE


def test_rotation_on_the_clock_cuts_on_wall_clock_multiples(
    generator: SourceProcess, tmp_path: Path
) -> None:
    path = settings(
        tmp_path, generator.server, f"{generator.name}:out_[1-4]",
        recording='rotate = "2s"\nrotate_at_clock = true',
    )  # fmt: skip
    with Running(path) as running:
        for _ in range(3):
            running.wait_event(events.TakeFinished)
    paths = takes(tmp_path)
    starts = [read_sidecar(p)["start"]["unix_time"] for p in paths[1:4]]
    for start in starts:  # on an even second, within a few periods of JACK's clock
        assert abs(start - 2 * round(start / 2)) < 4 * PERIOD / RATE, starts
    assert counter.check(joined(paths)).gapless


def test_on_command_it_waits_then_records_marks_rotates_and_stops(
    generator: SourceProcess, tmp_path: Path
) -> None:
    path = settings(tmp_path, generator.server, f"{generator.name}:out_[1-4]", 'start = "command"')
    with Running(path) as running:
        running.wait_for(lambda: running.state() == "stopped")
        time.sleep(0.5)
        assert takes(tmp_path) == []
        started = running.ask("start")
        assert started["ok"] and str(started["take"]).endswith("take001.wav")
        assert running.ask("start") == {"ok": False, "error": "already recording"}
        running.wait_for(lambda: running.state() == "recording")
        time.sleep(0.5)
        assert running.ask("marker", "verse")["ok"]
        assert str(running.ask("rotate")["take"]).endswith("take002.wav")
        time.sleep(0.5)
        status = running.ask("status")
        assert status["take"] and str(status["take"]).endswith("take002.wav")
        assert status["server_up"] is True and status["frames_lost"] == 0
        assert 0 < float(status["ring_high_water"]) < 1  # type: ignore[arg-type]
        assert running.ask("stop")["ok"]
        running.wait_for(lambda: running.state() == "stopped")
        assert running.ask("stop") == {"ok": False, "error": "not recording"}
        assert running.ask("start", "../escape")["ok"] is False
    first, second = takes(tmp_path)
    assert [m["label"] for m in read_sidecar(first)["markers"]] == ["verse"]
    assert read_sidecar(second)["ended_by"] == "stop request"
    assert counter.check(joined([first, second])).gapless


def test_sources_that_appear_later_are_followed(jack_server: DummyServer, tmp_path: Path) -> None:
    path = settings(tmp_path, jack_server.name, "late:out_*", 'start = "command"')
    with Running(path) as running:
        running.wait_for(lambda: running.state() == "stopped")
        late = start_generator(jack_server.name, 4, "late")
        try:
            session = running.service.session
            assert session is not None
            running.wait_for(lambda: all(session.sources()))
            assert [s for (s,) in session.sources()] == late.port_names  # in order
            running.ask("start")
            running.wait_for(lambda: running.state() == "recording")
            time.sleep(1.0)
            running.ask("stop")
            running.wait_for(lambda: running.state() == "stopped")
        finally:
            late.stop()
    (take,) = takes(tmp_path)
    assert counter.check_file(take).gapless
    assert [c["sources"] for c in read_sidecar(take)["channels"]] == [[p] for p in late.port_names]


@pytest.mark.parametrize("server_signal", [signal.SIGTERM, signal.SIGKILL])
def test_it_survives_a_jack_server_restart(tmp_path: Path, server_signal: signal.Signals) -> None:
    """The take is finalized, and the service records on in a new take, at
    the sample rate the server came back with (JACK changes its rate only
    by a restart)."""
    name = server_name("restarted")
    path = settings(tmp_path, name, "counter-r:out_*")
    server = DummyServer(name, rate=RATE, period=PERIOD, synchronous=True).start()
    generator = start_generator(name, 4, "counter-r")
    try:
        with Running(path) as running:
            running.wait_event(events.TakeStarted)
            time.sleep(1.0)
            assert server.process is not None
            server.process.send_signal(server_signal)
            lost = running.wait_event(events.ServerLost)
            # the take finalized and the client closed before this process
            # opens another: libjack crashes when a client of a dead server
            # is closed while another thread opens one
            running.wait_for(lambda: running.state() == "waiting for server")
            generator.stop()
            server.stop()
            # stopping may start the server once more to free its registry slot
            # (`DummyServer._reclaim`), and the service may have connected to it:
            # its loop answers the state only once that client is closed too
            running.wait_for(lambda: running.state() == "waiting for server")
            server = DummyServer(name, rate=RATE_AFTER, period=PERIOD, synchronous=True).start()
            generator = start_generator(name, 4, "counter-r")
            running.wait_event(events.ServerBack, timeout=30)
            running.wait_event(events.TakeStarted)
            session = running.service.session
            assert session is not None
            running.wait_for(lambda: all(session.sources()))  # the source is back too
            time.sleep(1.0)
    finally:
        generator.stop()
        server.stop()
    first, second = takes(tmp_path)
    before, after = read_sidecar(first), read_sidecar(second)
    assert before["complete"] and before["ended_by"] == "server shutdown"
    outage = after["after_outage"]
    assert outage["previous_take"] == first.name and outage["reason"] and outage["seconds"] > 0
    assert abs(outage["server_lost_unix_time"] - lost.time) < 1.0
    assert (before["sample_rate"], after["sample_rate"]) == (RATE, RATE_AFTER)
    for take, rate in ((first, RATE), (second, RATE_AFTER)):  # each gapless
        data, file_rate = sf.read(str(take), dtype="float32")
        assert file_rate == rate
        # silent until the source came back, and its ports connect one by one
        data = data[max(np.flatnonzero(channel)[0] for channel in data.T) :]
        report = counter.check(data)  # the counter restarts with its source
        assert report.gapless and report.frames > rate // 2


def test_settings_reloaded_apply_from_the_next_take(
    generator: SourceProcess, tmp_path: Path
) -> None:
    path = settings(tmp_path, generator.server, f"{generator.name}:out_[1-4]")
    with Running(path) as running:
        running.wait_event(events.TakeStarted)
        path.write_text(path.read_text().replace('template = "take{n:03}"', 'template = "b{n}"'))
        assert running.ask("reload") == {"ok": True, "later": []}
        running.ask("rotate")
        running.wait_event(events.TakeFinished)
        time.sleep(0.3)
    names = sorted(p.name for p in (tmp_path / "takes").glob("*.wav"))
    assert names == ["b2.wav", "take001.wav"]


def test_armed_it_keeps_the_preroll_and_rearms_after_each_take(
    generator: SourceProcess, tmp_path: Path
) -> None:
    path = settings(tmp_path, generator.server, f"{generator.name}:out_[1-4]", 'start = "armed"')
    with Running(path) as running:
        running.wait_for(lambda: running.state() == "armed")
        time.sleep(1.5)  # the pre-roll fills
        running.ask("start")
        running.wait_for(lambda: running.state() == "recording")
        time.sleep(0.5)
        running.ask("stop")
        running.wait_for(lambda: running.state() == "armed")  # armed again
    (take,) = takes(tmp_path)
    assert counter.check_file(take).frames >= 1.4 * RATE  # 1 s of pre-roll + 0.5 s


def test_sigterm_finalizes_within_two_seconds(generator: SourceProcess, tmp_path: Path) -> None:
    path = settings(tmp_path, generator.server, f"{generator.name}:out_[1-4]", 'start = "now"')
    process = subprocess.Popen(
        jackrec_command("--config", str(path), "serve"), stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 20
        while not takes(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)
        process.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        _, stderr = process.communicate(timeout=10)
        took = time.monotonic() - sent
    finally:
        stop_process(process)
    assert process.returncode == 0, stderr
    assert took < 2.0, took
    (take,) = takes(tmp_path)
    sidecar = read_sidecar(take)
    assert sidecar["complete"] and sidecar["ended_by"] == "stop request"
    assert counter.check_file(take).gapless
    lines = stderr.splitlines()
    assert "jackrec: info: recording take001.wav" in lines
    assert any(line.startswith("jackrec: info: take001.wav: ") for line in lines)


def run_serve_on_a_small_disk(
    tmp_path: Path, config: Path, size: str, ballast_mib: int, free_after: float, stop_after: float
) -> tuple[int, str, Path]:
    """``jackrec serve`` with its takes on a tmpfs, `ballast_mib` of it taken.

    A second before `free_after` seconds, ``jackrec ctl status --json`` goes
    to tmp_path/status.json; then the ballast goes (the disk has room
    again); after `stop_after` more the service gets SIGTERM.  The takes
    are copied out.
    """
    disk, saved = tmp_path / "takes", tmp_path / "saved"
    disk.mkdir()
    saved.mkdir()
    serve = " ".join(jackrec_command("--config", str(config), "serve"))
    status = " ".join(
        jackrec_command("ctl", "--socket", str(tmp_path / "control.sock"), "status", "--json")
    )
    script = (
        f'mount -t tmpfs -o size={size} jackrec-full "{disk}" || exit 99; '
        f'head -c {ballast_mib}M /dev/zero > "{disk}/ballast"; '
        f"{serve} & pid=$!; sleep {free_after - 1}; {status} > {tmp_path}/status.json; "
        f'sleep 1; rm "{disk}/ballast"; sleep {stop_after}; '
        f'kill -TERM $pid; wait $pid; status=$?; cp -a "{disk}/." "{saved}/"; exit $status'
    )
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if result.returncode == 99:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    return result.returncode, result.stderr, saved


@pytest.mark.parametrize(
    ("min_free", "ended_by"),
    [("1M", "disk full (min_free)"), ("0", "write error")],
)
def test_a_full_disk_ends_the_take_and_the_service_records_on_when_there_is_room(
    generator: SourceProcess, tmp_path: Path, min_free: str, ended_by: str
) -> None:
    """With `min_free` the take ends before the disk is full; without, when a
    write fails.  Either way the take is finalized and, once there is room
    again, the service records on."""
    config = settings(tmp_path, generator.server, f"{generator.name}:out_[1-4]")
    config.write_text(config.read_text().replace('min_free = "1M"', f'min_free = "{min_free}"'))
    # 4 float channels: 0.77 MB/s; a take begins with min_free plus 5 s of room
    status, stderr, saved = run_serve_on_a_small_disk(
        tmp_path, config, "9M", ballast_mib=4, free_after=10, stop_after=3
    )
    assert status == 0, stderr
    assert "Traceback" not in stderr
    first, second = sorted(saved.glob("take*.wav"))
    full = read_sidecar(first)
    assert full["complete"] and full["ended_by"] == ended_by
    assert sf.info(str(first)).frames == full["frames"] > RATE
    assert read_sidecar(second)["complete"]
    assert "min_free" in stderr and "no take until there is room" in stderr
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["ok"] and status["state"] == "waiting for disk space" and status["take"] is None
    for take in (first, second):
        assert counter.check_file(take).gapless


def test_retention_deletes_the_oldest_finished_takes(
    generator: SourceProcess, tmp_path: Path
) -> None:
    take_bytes = 4 * 4 * RATE * 2  # 2 s of 4 float channels
    path = settings(
        tmp_path, generator.server, f"{generator.name}:out_[1-4]",
        f'retain = {{ size = "{math.ceil(2.5 * take_bytes)}" }}', 'rotate = "2s"',
    )  # fmt: skip
    with Running(path) as running:
        for _ in range(5):
            running.wait_event(events.TakeFinished)
        running.wait_event(events.TakesDeleted)
    names = [p.name for p in takes(tmp_path)]
    assert "take001.wav" not in names and len(names) <= 4


def test_status_while_waiting_for_the_server(tmp_path: Path) -> None:
    path = settings(tmp_path, server_name("absent"), "x:*")
    with Running(path) as running:
        running.wait_event(events.WaitingForServer)
        status = running.ask("status")
        assert status["state"] == "waiting for server" and status["server_up"] is False
        assert running.ask("start")["ok"] is False


def test_armed_with_a_hold_it_records_take_after_take_on_the_trigger(
    generator: SourceProcess, tmp_path: Path
) -> None:
    path = settings(tmp_path, generator.server, generator.port_names[0], 'start = "armed"')
    text = path.read_text().replace("channels = 4\npreroll = 1.0\n", "channels = 1\n")
    path.write_text(
        f"preroll = {PREROLL_SECONDS}\ntrigger = {TRIGGER_DBFS}\n"
        f"trigger_hold = {HOLD_SECONDS}\n{text}"
    )

    with Running(path) as running:
        running.wait_for(lambda: finished(takes(tmp_path)) >= 2)
    check_triggered_takes(takes(tmp_path)[:2])
