"""``jackrec ctl`` against a control socket served in the test process (fake controller)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jackrec.cli import main
from jackrec.control import Request
from jackrec.control_socket import ControlServer
from jackrec.events import MarkerAdded, Xrun
from tests.conftest import jackrec_command
from tests.control_fakes import STATUS, FakeController, short_directory


@pytest.fixture
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short ``XDG_RUNTIME_DIR`` (a socket's path holds at most 107 bytes)."""
    with short_directory() as directory:
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(directory))
        yield directory


@pytest.fixture
def controller() -> FakeController:
    return FakeController()


@pytest.fixture
def server(runtime_dir: Path, controller: FakeController) -> Iterator[ControlServer]:
    """Served where ``jackrec ctl`` looks by default."""
    server = ControlServer(runtime_dir / "jackrec" / "control.sock", controller)
    server.start()
    yield server
    server.close()


def ctl(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["ctl", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_status_is_a_few_aligned_lines_in_a_fixed_order(
    server: ControlServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ctl(capsys, "status") == (
        0,
        "state            recording\n"
        "take             /rec/take001.wav\n"
        "elapsed          00:01:15.5\n"
        "frames           3624000\n"
        "xruns            2\n"
        "lost frames      0\n"
        "ring high-water  12.5%\n"
        "callback max     41 us\n"
        "disk free        114.9 GiB\n"
        "sample rate      48000\n",
        "",
    )


@pytest.mark.parametrize("where", ["before", "after"])
def test_json_prints_the_reply_as_is(
    server: ControlServer, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    args = ["--json", "status"] if where == "before" else ["status", "--json"]
    status, out, err = ctl(capsys, *args)
    assert status == 0 and err == ""
    assert out.count("\n") == 1 and json.loads(out) == {"ok": True, **STATUS}


def test_each_command_sends_its_request(
    server: ControlServer, controller: FakeController, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (
        ["start"],
        ["start", "take-7.wav"],
        ["stop"],
        ["rotate"],
        ["marker", "chorus 2"],
        ["pause"],
        ["resume"],
        ["arm"],
        ["disarm"],
        ["reload"],
    ):
        assert main(["ctl", "--socket", str(server.path), *args]) == 0
    assert controller.requests == [
        Request("start"),
        Request("start", "take-7.wav"),
        Request("stop"),
        Request("rotate"),
        Request("marker", "chorus 2"),
        Request("pause"),
        Request("resume"),
        Request("arm"),
        Request("disarm"),
        Request("reload"),
    ]
    assert capsys.readouterr().out == "take  take002.wav\ntake  take-7.wav\n"


def test_a_refusal_is_an_error(
    server: ControlServer, controller: FakeController, capsys: pytest.CaptureFixture[str]
) -> None:
    controller.refusals["stop"] = "not recording"
    assert ctl(capsys, "stop") == (1, "", "jackrec: error: not recording\n")
    status, out, err = ctl(capsys, "stop", "--json")
    assert (status, err) == (1, "jackrec: error: not recording\n")
    assert json.loads(out) == {"ok": False, "error": "not recording"}


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", ".hidden"])
def test_a_bad_take_name_is_refused_before_asking(
    server: ControlServer,
    controller: FakeController,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    assert ctl(capsys, "start", name) == (
        2,
        "",
        "jackrec: error: a take's name is a plain file name (no '/', not hidden)\n",
    )
    assert controller.requests == []


def test_no_service_is_one_line(runtime_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = runtime_dir / "jackrec" / "control.sock"
    assert ctl(capsys, "status") == (
        1,
        "",
        f"jackrec: error: no jackrec service on {path} (is it running?)\n",
    )


def test_no_runtime_directory_asks_for_the_path(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    status, _, err = ctl(capsys, "status")
    assert status == 1 and err.startswith("jackrec: error: XDG_RUNTIME_DIR is not set")


#: ``jackrec`` with Ctrl-C as a terminal gives it, even where these tests run
#: with SIGINT ignored (a background job of a script: its children inherit
#: the ignore, and ``jackrec ctl events`` would never see Ctrl-C).
WITH_CTRL_C = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from jackrec.__main__ import main; sys.exit(main())"
)


def run_ctl(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WITH_CTRL_C, "ctl", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_lines(process: subprocess.Popen[str], count: int) -> list[str]:
    assert process.stdout is not None
    return [process.stdout.readline() for _ in range(count)]


@pytest.mark.parametrize("as_json", [False, True])
def test_events_until_ctrl_c(
    server: ControlServer, controller: FakeController, as_json: bool
) -> None:
    process = run_ctl("--socket", str(server.path), "events", *(["--json"] if as_json else []))
    try:
        controller.wait_for("the subscription", lambda: controller.subscriptions, timeout=30)
        when = time.mktime((2026, 5, 1, 12, 0, 1, 0, 0, -1))
        controller.publish(MarkerAdded(path=Path("/rec/t.wav"), label="x", file_frame=9, time=when))
        controller.publish(Xrun(delay_us=120.0, time=when + 1))
        lines = read_lines(process, 2)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    if as_json:
        assert [json.loads(line)["event"] for line in lines] == ["marker_added", "xrun"]
        assert json.loads(lines[1]) == Xrun(delay_us=120.0, time=when + 1).to_json()
    else:
        assert lines == [
            "12:00:01 t.wav: marker 'x' at frame 9\n",
            "12:00:02 warning: xrun (120 us late)\n",
        ]
    assert (process.returncode, out, err) == (130, "", "")  # quiet
    controller.wait_for("the subscription's end", lambda: not controller.subscriptions)


def test_events_end_with_an_error_when_the_service_goes(
    server: ControlServer, controller: FakeController
) -> None:
    process = run_ctl("--socket", str(server.path), "events")
    try:
        controller.wait_for("the subscription", lambda: controller.subscriptions, timeout=30)
        server.close()
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert (process.returncode, out) == (1, "")
    assert err == f"jackrec: error: the service on {server.path} closed the connection\n"


def test_the_command_line_says_no_service_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        jackrec_command("ctl", "--socket", str(tmp_path / "none.sock"), "status"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert (
        result.stderr
        == f"jackrec: error: no jackrec service on {tmp_path}/none.sock (is it running?)\n"
    )


def test_the_settings_name_the_services_socket(
    controller: FakeController, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``jackrec --config F ctl`` finds the socket F's [service] table names."""
    with short_directory() as directory:
        server = ControlServer(directory / "studio.sock", controller)
        server.start()
        try:
            settings = tmp_path / "studio.toml"
            settings.write_text(f'[service]\nsocket = "{server.path}"\n')
            status = main(["--config", str(settings), "ctl", "status", "--json"])
            out, _ = capsys.readouterr()
        finally:
            server.close()
    assert status == 0 and json.loads(out)["state"] == "recording"
