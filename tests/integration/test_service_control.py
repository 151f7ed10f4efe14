"""The real service behind its control faces: ``jackrec ctl`` on the socket, and OSC.

The `Service` runs in a thread of the test process (as in test_service.py)
on the counter source; the control socket and the OSC server are put in
front of it, and takes are driven from outside as a user would.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from pythonosc.udp_client import SimpleUDPClient

from jackrec import counter
from jackrec.control_client import ControlClient
from jackrec.control_socket import ControlServer
from jackrec.errors import JackrecError
from jackrec.osc import OscServer
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests.conftest import run_jackrec
from tests.control_fakes import short_directory
from tests.integration.test_service import Running, settings, takes


def ctl(socket: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_jackrec(["ctl", "--socket", str(socket), *args], timeout=30)


def status(socket: Path) -> dict[str, Any]:
    result = ctl(socket, "--json", "status")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert isinstance(answer, dict)
    return answer


def wait_for_state(socket: Path, state: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while status(socket)["state"] != state:
        assert time.monotonic() < deadline, f"never {state}"
        time.sleep(0.2)


def test_ctl_and_osc_drive_the_service(generator: SourceProcess, tmp_path: Path) -> None:
    path = settings(tmp_path, generator.server, f"{generator.name}:out_[1-4]", 'start = "command"')
    with short_directory() as directory, Running(path) as running:
        socket = directory / "control.sock"
        control = ControlServer(socket, running.service)
        osc = OscServer(0, running.service)
        control.start()
        osc.start()
        seen: list[dict[str, Any]] = []
        follower = threading.Thread(target=follow_events, args=(socket, seen), daemon=True)
        follower.start()
        try:
            wait_for_state(socket, "stopped")
            # jackrec ctl: a take with a marker
            started = ctl(socket, "start")
            assert started.returncode == 0 and started.stdout.startswith("take  ")
            wait_for_state(socket, "recording")
            time.sleep(1.0)
            assert ctl(socket, "marker", "verse").returncode == 0
            shown = ctl(socket, "status").stdout.splitlines()
            assert [line.split("  ")[0] for line in shown[:3]] == ["state", "take", "elapsed"]
            assert shown[0].split() == ["state", "recording"]
            assert ctl(socket, "stop").returncode == 0
            wait_for_state(socket, "stopped")
            refused = ctl(socket, "stop")
            assert (refused.returncode, refused.stderr) == (1, "jackrec: error: not recording\n")
            # OSC, as a jack_capture set-up sends it: a second take with a marker
            sender = SimpleUDPClient("127.0.0.1", osc.port)
            sender.send_message("/jack_capture/tm/start", [])
            wait_for_state(socket, "recording")
            time.sleep(1.0)
            sender.send_message("/jackrec/marker", "chorus")
            time.sleep(0.5)
            sender.send_message("/jack_capture/stop", [])
            wait_for_state(socket, "stopped")
            time.sleep(0.5)  # the follower's last events
        finally:
            osc.close()
            control.close()
        follower.join(10)
    first, second = takes(tmp_path)
    for take, label in ((first, "verse"), (second, "chorus")):
        assert counter.check_file(take).gapless
        sidecar = read_sidecar(take)
        assert [marker["label"] for marker in sidecar["markers"]] == [label]
        assert sidecar["ended_by"] == "stop request" and sidecar["complete"] is True
    kinds = [event["event"] for event in seen]
    for kind in ("take_started", "marker_added", "take_finished"):
        assert kinds.count(kind) == 2, kinds


def follow_events(socket: Path, seen: list[dict[str, Any]]) -> None:
    """What a subscriber (``jackrec ctl events``) gets, until the socket closes."""
    with contextlib.suppress(JackrecError), ControlClient(socket) as client:
        for event in client.events():  # ends with an error when the server closes
            seen.append(event)
