"""The control socket (jackrec.control_socket) against a fake controller.

Every client here is bounded by a socket timeout; servers are closed by
their fixture.
"""

from __future__ import annotations

import contextlib
import grp
import json
import os
import socket
import stat
import subprocess
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jackrec import control, control_socket
from jackrec.control import MAX_REQUEST_BYTES, Request, RequestError, parse_request
from jackrec.control_client import ControlClient
from jackrec.control_socket import ControlServer
from jackrec.errors import JackrecError
from jackrec.events import Xrun
from tests.control_fakes import STATUS, FakeController, short_directory

TIMEOUT = 10.0


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    with short_directory() as directory:
        yield directory


@pytest.fixture
def controller() -> FakeController:
    return FakeController()


@pytest.fixture
def server(socket_dir: Path, controller: FakeController) -> Iterator[ControlServer]:
    server = ControlServer(socket_dir / "run" / "control.sock", controller)
    server.start()
    yield server
    if controller.hold is not None:
        controller.hold.set()
    server.close()


def connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT)
    sock.connect(str(path))
    return sock


def read_line(sock: socket.socket) -> dict[str, Any]:
    """One reply line (read a byte at a time: nothing past it is consumed)."""
    line = bytearray()
    while not line.endswith(b"\n"):
        byte = sock.recv(1)
        assert byte, f"connection closed after {bytes(line)!r}"
        line += byte
    message = json.loads(line)
    assert isinstance(message, dict)
    return message


def ask(sock: socket.socket, line: bytes) -> dict[str, Any]:
    sock.sendall(line)
    return read_line(sock)


STATUS_LINE = b'{"command": "status"}\n'


# ---- requests and replies ----


def test_every_command_round_trips(server: ControlServer, controller: FakeController) -> None:
    requests = [
        Request("status"),
        Request("start"),
        Request("start", "take-7.wav"),
        Request("stop"),
        Request("rotate"),
        Request("marker", "chorus 2"),
        Request("marker"),
        Request("arm"),
        Request("disarm"),
        Request("reload"),
    ]
    with ControlClient(server.path) as client:
        answers = [client.request(request) for request in requests]
    assert controller.requests == requests
    assert answers[0] == {"ok": True, **STATUS}
    assert answers[2] == {"ok": True, "take": "take-7.wav"}
    assert all(answer["ok"] for answer in answers)


def test_pipelined_requests_are_answered_in_order(
    server: ControlServer, controller: FakeController
) -> None:
    controller.refusals["stop"] = "not recording"
    with connect(server.path) as sock:
        sock.sendall(b'{"command": "stop"}\n' + STATUS_LINE + b'{"command": "arm"}\n')
        answers = [read_line(sock) for _ in range(3)]
    assert answers == [
        {"ok": False, "error": "not recording"},
        {"ok": True, **STATUS},
        {"ok": True},
    ]


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b"status\n", "not JSON"),
        (b"{\n", "not JSON"),
        (b"\xff\xfe\n", "not JSON"),
        (b"\n", "not JSON"),
        (b"[1, 2]\n", "a request is a JSON object"),
        (b'{"command": "format-disk"}\n', "unknown command 'format-disk'"),
        (b'{"command": 7}\n', "unknown command 7"),
        (b'{"command": "stop", "path": "/etc"}\n', "stop takes no path"),
        (b'{"command": "marker", "label": 5}\n', "label must be a string"),
        (b'{"command": "marker", "label": "two\\nlines"}\n', "a label is one line"),
    ],
)
def test_bad_requests_are_refused_and_the_connection_goes_on(
    server: ControlServer, controller: FakeController, line: bytes, error: str
) -> None:
    with connect(server.path) as sock:
        answer = ask(sock, line)
        assert answer["ok"] is False and answer["error"].startswith(error)
        assert ask(sock, STATUS_LINE)["ok"] is True
    assert controller.requests == [Request("status")]


@pytest.mark.parametrize(
    "name", ["../x", "/etc/passwd", ".hidden", "a/b", "..", "", "a\\b", "x\0y", "é" * 101]
)
def test_a_take_name_cannot_leave_the_recording_directory(
    server: ControlServer, controller: FakeController, name: str
) -> None:
    with connect(server.path) as sock:
        answer = ask(sock, json.dumps({"command": "start", "name": name}).encode() + b"\n")
    assert answer == {
        "ok": False,
        "error": "a take's name is a plain file name (no '/', not hidden)",
    }
    assert controller.requests == []


def test_a_controller_error_costs_one_request(
    server: ControlServer, controller: FakeController
) -> None:
    with connect(server.path) as sock:
        controller.fail = JackrecError("the disk is full")
        assert ask(sock, STATUS_LINE) == {"ok": False, "error": "the disk is full"}
        controller.fail = ZeroDivisionError("a bug")
        answer = ask(sock, b'{"command": "rotate"}\n')
        assert answer == {
            "ok": False,
            "error": "rotate failed: internal error (see the service's log)",
        }
        controller.fail = None
        assert ask(sock, STATUS_LINE)["ok"] is True


def test_a_refused_subscription_leaves_the_connection_usable(
    server: ControlServer, controller: FakeController
) -> None:
    controller.fail = JackrecError("the service is stopping")
    with connect(server.path) as sock:
        answer = ask(sock, b'{"command": "subscribe"}\n')
        assert answer == {"ok": False, "error": "the service is stopping"}
        controller.fail = None
        assert ask(sock, STATUS_LINE)["ok"] is True


def test_a_10_mb_line_is_refused_once_without_being_kept(server: ControlServer) -> None:
    """Read and dropped as it comes: the server holds no more than one request's worth."""
    chunk = b"x" * 65536
    with connect(server.path) as sock:
        tracemalloc.start()
        try:
            for _ in range(160):  # 10 MiB, no newline
                sock.sendall(chunk)
            answer = read_line(sock)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert answer == {"ok": False, "error": control.TOO_LONG}
        # the end of the long line, then a request: only the request is answered
        assert ask(sock, b"tail\n" + STATUS_LINE)["ok"] is True
    assert peak < 1 << 20, f"{peak} bytes held while the line came in"


def test_a_long_line_in_one_piece_is_refused(server: ControlServer) -> None:
    with connect(server.path) as sock:
        line = json.dumps({"command": "marker", "label": "x" * MAX_REQUEST_BYTES}).encode()
        assert ask(sock, line + b"\n")["error"] == control.TOO_LONG
        assert ask(sock, STATUS_LINE)["ok"] is True


# ---- many clients, idle clients, slow subscribers ----


def test_50_clients_at_once_are_all_served(
    server: ControlServer, controller: FakeController
) -> None:
    """More clients than connections allowed: the extra ones are told so and retry."""
    requests_each = 20
    errors: list[str] = []
    refused: list[int] = []  # append is atomic, += is not

    all_connected = threading.Barrier(50)

    def client() -> None:
        done = 0
        deadline = time.monotonic() + 60
        while done < requests_each and time.monotonic() < deadline:
            with ControlClient(server.path) as connection:
                if not all_connected.broken:  # the first time: all 50 at once
                    with contextlib.suppress(threading.BrokenBarrierError):
                        all_connected.wait(TIMEOUT)
                    all_connected.abort()
                while done < requests_each:
                    answer = connection.request(Request("status"))
                    if answer.get("error") == "too many connections (32)":
                        refused.append(1)
                        time.sleep(0.01)
                        break
                    if answer != {"ok": True, **STATUS}:
                        errors.append(repr(answer))
                    done += 1

    threads = [threading.Thread(target=client) for _ in range(50)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    elapsed = time.monotonic() - started
    assert not errors and not any(thread.is_alive() for thread in threads)
    assert len(controller.requests) == 50 * requests_each
    # Some were over the limit; how many depends on how the threads interleave
    # (a client that gets its refusal late may find a slot free on its retry).
    assert refused
    print(f"1000 requests from 50 clients in {elapsed:.2f} s ({len(refused)} connections refused)")


def test_connections_beyond_the_limit_are_refused_until_one_leaves(
    server: ControlServer,
) -> None:
    held = [connect(server.path) for _ in range(control_socket.MAX_CONNECTIONS)]
    try:
        for sock in held:  # every one is being served
            assert ask(sock, STATUS_LINE)["ok"] is True
        with connect(server.path) as extra:
            assert read_line(extra) == {"ok": False, "error": "too many connections (32)"}
            assert extra.recv(1) == b""
        held.pop().close()
        deadline = time.monotonic() + TIMEOUT
        while True:
            with ControlClient(server.path) as client:
                if client.request(Request("status"))["ok"]:
                    break
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        for sock in held:
            sock.close()


def test_a_silent_client_holds_up_nobody_and_is_let_go(
    server: ControlServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(control_socket, "IDLE_TIMEOUT", 0.5)
    with connect(server.path) as silent, connect(server.path) as other:
        started = time.monotonic()
        assert ask(other, STATUS_LINE)["ok"] is True
        assert time.monotonic() - started < 0.4
        assert silent.recv(1) == b""  # closed by the server after IDLE_TIMEOUT
        assert time.monotonic() - started < 5


def test_a_subscriber_gets_events_until_it_hangs_up(
    server: ControlServer, controller: FakeController
) -> None:
    with connect(server.path) as sock:
        assert ask(sock, b'{"command": "subscribe"}\n') == {"ok": True}
        controller.wait_for("the subscription", lambda: controller.subscriptions)
        controller.publish(Xrun(delay_us=120.0, time=1.0))
        assert read_line(sock) == {
            "event": "xrun",
            "level": "warning",
            "delay_us": 120.0,
            "time": 1.0,
            "text": "xrun (120 us late)",
        }
        subscription = controller.subscriptions[0]
    assert subscription.closed.wait(TIMEOUT)


def test_a_subscriber_that_never_reads_loses_events_not_the_service(
    server: ControlServer, controller: FakeController
) -> None:
    """Its events are drained at once; what does not fit is dropped and counted."""
    sent = 20000
    with connect(server.path) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        assert ask(sock, b'{"command": "subscribe"}\n') == {"ok": True}
        controller.wait_for("the subscription", lambda: controller.subscriptions)
        subscription = controller.subscriptions[0]
        for n in range(sent):
            controller.publish(Xrun(delay_us=float(n)))
        controller.wait_for("the server to drain it", subscription.queue.empty)
        with connect(server.path) as other:  # the service answers meanwhile
            started = time.monotonic()
            assert ask(other, STATUS_LINE)["ok"] is True
            assert time.monotonic() - started < 1
        # now it reads: what was kept, then how many were dropped, then nothing
        received: list[float] = []
        while (event := read_line(sock))["event"] == "xrun":
            received.append(event["delay_us"])
        assert event["event"] == "events_dropped" and event["level"] == "warning"
        assert len(received) + event["count"] == sent
        assert received == sorted(received) and 0 < len(received) < sent
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(1)
        print(f"{len(received)} kept, {event['count']} dropped")


# ---- the socket file ----


def test_socket_and_directory_are_private(server: ControlServer) -> None:
    assert stat.S_IMODE(os.stat(server.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(server.path.parent).st_mode) == 0o700


def a_group() -> grp.struct_group:
    for name in ("audio", "nogroup"):
        try:
            return grp.getgrnam(name)
        except KeyError:
            pass
    pytest.skip("neither group audio nor nogroup exists")


def test_a_group_socket_is_0660_in_a_group_directory(
    socket_dir: Path, controller: FakeController
) -> None:
    group = a_group()
    server = ControlServer(socket_dir / "run" / "control.sock", controller, group=group.gr_name)
    server.start()
    try:
        info = os.stat(server.path)
        assert stat.S_IMODE(info.st_mode) == 0o660 and info.st_gid == group.gr_gid
        directory = os.stat(server.path.parent)
        assert stat.S_IMODE(directory.st_mode) == 0o750 and directory.st_gid == group.gr_gid
    finally:
        server.close()


def test_an_unknown_group_is_an_error(socket_dir: Path, controller: FakeController) -> None:
    server = ControlServer(socket_dir / "control.sock", controller, group="no-such-group-jr")
    with pytest.raises(JackrecError, match="no group named 'no-such-group-jr'"):
        server.start()


#: A client of another user: stdlib only, prints what it was told.
OTHER_CLIENT = """
import socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.settimeout(10)
try:
    sock.connect(sys.argv[1])
except OSError as error:
    print(type(error).__name__)
    sys.exit()
try:
    sock.sendall(b'{"command": "status"}\\n')
except BrokenPipeError:  # refused before it was sent: the refusal is there to read
    pass
data = b""
while b"\\n" not in data and (chunk := sock.recv(4096)):
    data += chunk
print(data.decode(), end="")
"""

NOBODY = 65534
#: An interpreter that user can run (the venv's may live in root's home).
SYSTEM_PYTHON = Path("/usr/bin/python3")


def as_other_user(path: Path, *, groups: list[int] | None = None) -> str:
    if os.geteuid() != 0 or not SYSTEM_PYTHON.exists():
        pytest.skip("needs root and /usr/bin/python3, to run a client as another user")
    result = subprocess.run(
        [str(SYSTEM_PYTHON), "-I", "-c", OTHER_CLIENT, str(path)],
        user=NOBODY,
        group=NOBODY,
        extra_groups=groups or [],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout


def test_another_user_cannot_even_connect(server: ControlServer, socket_dir: Path) -> None:
    os.chmod(socket_dir, 0o755)
    os.chmod(server.path.parent, 0o755)  # only the socket's own mode stands in the way
    assert as_other_user(server.path) == "PermissionError\n"


def test_another_user_is_refused_by_credentials(
    server: ControlServer, socket_dir: Path, controller: FakeController
) -> None:
    """Even where the file lets it connect (a mode made too open)."""
    os.chmod(socket_dir, 0o755)
    os.chmod(server.path.parent, 0o755)
    os.chmod(server.path, 0o666)
    said = as_other_user(server.path)
    answer = json.loads(said)
    assert answer == {
        "ok": False,
        "error": f"permission denied: uid {NOBODY} is not the service's user or root",
    }
    assert controller.requests == []


def test_a_member_of_the_group_may_control_the_service(
    socket_dir: Path, controller: FakeController
) -> None:
    group = a_group()
    os.chmod(socket_dir, 0o755)
    server = ControlServer(socket_dir / "run" / "control.sock", controller, group=group.gr_name)
    server.start()
    try:
        member = json.loads(as_other_user(server.path, groups=[group.gr_gid]))
        assert member == {"ok": True, **STATUS}
        assert as_other_user(server.path) == "PermissionError\n"  # the directory's mode
        os.chmod(server.path.parent, 0o755)
        os.chmod(server.path, 0o666)
        outsider = json.loads(as_other_user(server.path))
        assert outsider["error"] == (
            f"permission denied: uid {NOBODY} is not the service's user "
            f"or group {group.gr_name} or root"
        )
    finally:
        server.close()
    assert controller.requests == [Request("status")]


def test_a_dead_services_socket_is_replaced(socket_dir: Path, controller: FakeController) -> None:
    path = socket_dir / "control.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(path))  # closed without unlinking, as by a killed service
    server = ControlServer(path, controller)
    server.start()
    try:
        with ControlClient(path) as client:
            assert client.request(Request("status"))["ok"] is True
    finally:
        server.close()


def test_a_live_service_is_not_replaced(server: ControlServer, controller: FakeController) -> None:
    second = ControlServer(server.path, controller)
    with pytest.raises(JackrecError, match=f"another jackrec serve is running on {server.path}$"):
        second.start()
    with ControlClient(server.path) as client:
        assert client.request(Request("status"))["ok"] is True


@pytest.mark.parametrize("kind", ["file", "directory", "symlink"])
def test_what_is_not_a_socket_is_never_removed(
    socket_dir: Path, controller: FakeController, kind: str
) -> None:
    path = socket_dir / "control.sock"
    if kind == "file":
        path.write_text("precious")
    elif kind == "directory":
        path.mkdir()
    else:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
            dead.bind(str(socket_dir / "elsewhere.sock"))
        path.symlink_to(socket_dir / "elsewhere.sock")
    with pytest.raises(JackrecError, match="exists and is not a socket"):
        ControlServer(path, controller).start()
    assert os.path.lexists(path)
    if kind == "file":
        assert path.read_text() == "precious"


def test_close_is_bounded_ends_every_connection_and_removes_the_file(
    server: ControlServer, controller: FakeController
) -> None:
    idle = [connect(server.path) for _ in range(5)]
    subscriber = connect(server.path)
    assert ask(subscriber, b'{"command": "subscribe"}\n')["ok"] is True
    stuck = connect(server.path)
    controller.hold = threading.Event()  # a request the controller never finishes
    stuck.sendall(STATUS_LINE)
    controller.wait_for("the stuck request", lambda: controller.requests)
    started = time.monotonic()
    server.close()
    assert time.monotonic() - started < control_socket.CLOSE_TIMEOUT + 0.5
    assert not server.path.exists()
    for sock in [*idle, subscriber]:
        assert sock.recv(1) == b""
        sock.close()
    stuck.close()


def test_close_leaves_a_successors_socket(socket_dir: Path, controller: FakeController) -> None:
    path = socket_dir / "control.sock"
    server = ControlServer(path, controller)
    server.start()
    path.unlink()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as successor:
        successor.bind(str(path))
        server.close()
        assert path.exists()


def test_a_path_too_long_for_a_socket_is_an_error(
    socket_dir: Path, controller: FakeController
) -> None:
    path = socket_dir / ("x" * 120)
    with pytest.raises(JackrecError, match="cannot create the control socket"):
        ControlServer(path, controller).start()


def test_the_default_path_is_in_the_runtime_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
    assert control_socket.default_socket_path() == Path("/run/user/1000/jackrec/control.sock")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    with pytest.raises(JackrecError, match="XDG_RUNTIME_DIR is not set"):
        control_socket.default_socket_path()


# ---- fuzzing ----


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_parse_request_refuses_or_accepts_any_bytes(line: bytes) -> None:
    check_parsed(line)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
request_like = st.fixed_dictionaries(
    {"command": st.sampled_from([*control.COMMANDS, "nope", ""]) | json_values},
    optional={"name": json_values | st.text(), "label": json_values | st.text()},
)


@settings(max_examples=500, deadline=None)
@given(request_like)
def test_parse_request_on_request_like_objects(data: dict[str, Any]) -> None:
    check_parsed(json.dumps(data).encode())


def check_parsed(line: bytes) -> None:
    """A refusal, or a request that says itself back the same."""
    try:
        request = parse_request(line)
    except RequestError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert request.command in control.COMMANDS
    assert parse_request(json.dumps(request.to_json()).encode()) == request


@pytest.fixture(scope="module")
def fuzzed_server() -> Iterator[ControlServer]:
    with short_directory() as directory:
        server = ControlServer(directory / "control.sock", FakeController())
        server.start()
        yield server
        server.close()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3 * MAX_REQUEST_BYTES))
def test_any_bytes_get_replies_and_the_connection_survives(
    fuzzed_server: ControlServer, data: bytes
) -> None:
    """Whatever comes first, a status request after it is answered."""
    with connect(fuzzed_server.path) as sock:
        sock.settimeout(5)
        sock.sendall(data + b"\n" + STATUS_LINE)
        for _ in range(data.count(b"\n") + 3):
            answer = read_line(sock)
            assert isinstance(answer["ok"], bool)
            if answer == {"ok": True, **STATUS}:
                return
        pytest.fail("the status request was not answered")
