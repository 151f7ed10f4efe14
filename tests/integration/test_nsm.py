"""``jackrec serve`` under a session manager (NSM API 1.1.2), driven by a
minimal session manager of the test's own over loopback OSC: Debian has no
nsmd, and the protocol is small.  The service records on a real JACK server;
its control socket is reached with ``jackrec ctl``, as a user would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests.conftest import jackrec_command, run_jackrec, stop_process

CLIENT_ID = "nJRT"


class SessionManager:
    """The session manager's side of NSM: one UDP socket on loopback."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"osc.udp://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.client: tuple[str, int] | None = None  # where the announce came from

    def receive(self, timeout: float = 15.0) -> tuple[str, list[Any]]:
        self.sock.settimeout(timeout)
        datagram, self.client = self.sock.recvfrom(65536)
        (timed,) = OscPacket(datagram).messages
        return timed.message.address, list(timed.message.params)

    def expect(self, address: str, timeout: float = 15.0) -> list[Any]:
        """The arguments of the next message, which must be `address`."""
        received, arguments = self.receive(timeout)
        assert received == address, (received, arguments)
        return arguments

    def send(self, address: str, *arguments: str | int) -> None:
        builder = OscMessageBuilder(address)
        for argument in arguments:
            builder.add_arg(argument)
        assert self.client is not None
        self.sock.sendto(builder.build().dgram, self.client)


@pytest.fixture
def manager() -> Iterator[SessionManager]:
    manager = SessionManager()
    yield manager
    manager.sock.close()


def serve(manager: SessionManager, server: str, runtime: Path) -> subprocess.Popen[str]:
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {
        **os.environ, "NSM_URL": manager.url, "JACK_DEFAULT_SERVER": server,
        "XDG_RUNTIME_DIR": str(runtime),
    }  # fmt: skip
    return subprocess.Popen(
        jackrec_command("serve"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def ctl(runtime: Path, *command: str) -> subprocess.CompletedProcess[str]:
    socket_path = runtime / "jackrec" / f"{CLIENT_ID}.sock"
    return run_jackrec(["ctl", "--socket", str(socket_path), *command])


def test_opened_by_a_session_manager_it_records_saves_and_closes(
    generator: SourceProcess, manager: SessionManager, tmp_path: Path
) -> None:
    directory = tmp_path / "session" / f"jackrec.{CLIENT_ID}"
    runtime = tmp_path / "run"
    process = serve(manager, generator.server, runtime)
    try:
        name, capabilities, executable, major, minor, pid = manager.expect("/nsm/server/announce")
        assert (name, capabilities, executable, major, minor, pid) == (
            "jackrec",
            ":dirty:message:",
            "jackrec",
            1,
            1,
            process.pid,
        )
        manager.send("/reply", "/nsm/server/announce", "welcome", "test NSM", ":server-control:")
        manager.send("/nsm/client/open", str(directory), "jackrec", CLIENT_ID)
        assert manager.expect("/reply")[0] == "/nsm/client/open"
        manager.expect("/nsm/client/is_clean")

        settings = tomllib.loads((directory / "config.toml").read_text())
        assert settings["directory"] == str(directory)
        assert settings["service"]["start"] == "command"  # a session opened is no cue
        assert settings["service"]["name"] == CLIENT_ID  # its JACK client's name
        deadline = time.monotonic() + 20
        while (status := ctl(runtime, "status", "--json")).returncode != 0:
            assert time.monotonic() < deadline, status.stderr
            time.sleep(0.1)
        assert ctl(runtime, "start").returncode == 0
        manager.expect("/nsm/client/is_dirty")  # a take began: the directory changed
        time.sleep(1.0)
        manager.send("/nsm/client/save")
        assert manager.expect("/reply")[0] == "/nsm/client/save"
        manager.expect("/nsm/client/is_clean")

        process.send_signal(signal.SIGTERM)  # NSM closes a client so
        _, stderr = process.communicate(timeout=20)
    finally:
        stop_process(process)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    (take,) = (path for path in directory.iterdir() if path.suffix == ".wav")
    sidecar = read_sidecar(take)
    assert sidecar["complete"] and sidecar["client"] == CLIENT_ID
    assert sidecar["frames"] > 0.5 * sidecar["sample_rate"]


def test_no_session_manager_at_nsm_url_is_one_line(tmp_path: Path) -> None:
    unused = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    unused.bind(("127.0.0.1", 0))
    url = f"osc.udp://127.0.0.1:{unused.getsockname()[1]}/"
    unused.close()  # nothing listens there now
    result = subprocess.run(
        jackrec_command("serve"), env={**os.environ, "NSM_URL": url},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("jackrec: error: NSM: no session manager at NSM_URL")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("url", ["http://x:1/", "osc.udp://localhost/", "osc.udp://:77/"])
def test_a_bad_nsm_url_is_one_line(url: str) -> None:
    result = subprocess.run(
        jackrec_command("serve"), env={**os.environ, "NSM_URL": url},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == f"jackrec: error: NSM_URL '{url}' is not osc.udp://HOST:PORT/\n"
