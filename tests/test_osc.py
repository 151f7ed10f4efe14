"""OSC control (jackrec.osc): real packets from python-osc's client, to a fake controller."""

from __future__ import annotations

import errno
import logging
import os
import socket
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import SimpleUDPClient

from jackrec.control import Request
from jackrec.errors import JackrecError
from jackrec.osc import OscServer, osc_requests
from tests.control_fakes import FakeController


@pytest.fixture
def controller() -> FakeController:
    return FakeController()


@pytest.fixture
def server(controller: FakeController) -> Iterator[OscServer]:
    server = OscServer(0, controller)
    server.start()
    yield server
    server.close()


@pytest.fixture
def client(server: OscServer) -> SimpleUDPClient:
    return SimpleUDPClient("127.0.0.1", server.port)


def message(address: str, *arguments: Any) -> bytes:
    builder = OscMessageBuilder(address)
    for argument in arguments:
        builder.add_arg(argument)
    return builder.build().dgram


def bundle(*messages: bytes, timetag: int = IMMEDIATELY) -> bytes:
    builder = OscBundleBuilder(timetag)
    for dgram in messages:
        builder.add_content(OscMessage(dgram))
    return builder.build().dgram


def sent_and_handled(
    controller: FakeController, server: OscServer, *datagrams: bytes
) -> list[Request]:
    """Send the datagrams, then a marker message; what the controller got before it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for datagram in (*datagrams, message("/jackrec/marker", "end")):
            sock.sendto(datagram, ("127.0.0.1", server.port))
    controller.wait_for("the end marker", lambda: Request("marker", "end") in controller.requests)
    return controller.requests[:-1]


@pytest.mark.parametrize(
    ("address", "command"),
    [
        ("/jack_capture/stop", "stop"),
        ("/jack_capture/rotate", "rotate"),
        ("/jack_capture/tm/start", "start"),
        ("/jack_capture/tm/stop", "stop"),
        ("/start", "start"),
        ("/stop", "stop"),
        ("/jackrec/start", "start"),
        ("/jackrec/stop", "stop"),
        ("/jackrec/rotate", "rotate"),
        ("/jackrec/marker", "marker"),
        ("/jackrec/arm", "arm"),
        ("/jackrec/disarm", "disarm"),
        ("/jackrec/reload", "reload"),
    ],
)
def test_jack_capture_timemachine_and_own_paths(
    client: SimpleUDPClient, controller: FakeController, address: str, command: str
) -> None:
    client.send_message(address, [])
    controller.wait_for(address, lambda: controller.requests)
    time.sleep(0.05)  # nothing else follows
    assert controller.requests == [Request(command)]


def test_own_paths_carry_a_name_and_a_label(
    client: SimpleUDPClient, controller: FakeController
) -> None:
    client.send_message("/jackrec/marker", "chorus 2")
    client.send_message("/jackrec/start", "take-7.wav")
    controller.wait_for("both", lambda: len(controller.requests) == 2)
    assert controller.requests == [Request("marker", "chorus 2"), Request("start", "take-7.wav")]


@pytest.mark.parametrize(
    "datagram",
    [
        message("/jackrec/start", "../x"),
        message("/jackrec/start", "/etc/passwd"),
        message("/jackrec/start", ".hidden"),
        message("/jackrec/marker", "two\nlines"),
        message("/jackrec/marker", "x" * 201),
        message("/jackrec/marker", 5),
        message("/jackrec/marker", "a", "b"),
        message("/jack_capture/stop", 1),
        message("/stop", "now"),
        message("/jackrec/status"),
        message("/jackrec/subscribe"),
        message("/jackrec/format"),
        message("/jackrec/"),
        message("/jack_capture/start", "x"),
        message("/*"),
        message("/jack_capture/*"),
        b"not osc at all",
        b"#bundle\0" + b"\xff" * 12,
        b"",
    ],
)
def test_wrong_messages_are_ignored_with_one_debug_line(
    server: OscServer,
    controller: FakeController,
    caplog: pytest.LogCaptureFixture,
    datagram: bytes,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="jackrec.osc"):
        assert sent_and_handled(controller, server, datagram) == []
    ignored = [record for record in caplog.records if "ignored" in record.getMessage()]
    assert len(ignored) == 1
    assert all(record.levelno == logging.DEBUG for record in ignored)


def test_a_bundle_is_carried_out_at_once_whatever_its_time(
    server: OscServer, controller: FakeController
) -> None:
    tomorrow = int(time.time()) + 86400
    handled = sent_and_handled(
        controller,
        server,
        bundle(message("/jackrec/rotate"), message("/jackrec/marker", "b"), timetag=tomorrow),
    )
    assert handled == [Request("rotate"), Request("marker", "b")]


def test_a_deeply_nested_bundle_is_ignored(server: OscServer, controller: FakeController) -> None:
    inner = message("/stop")
    for _ in range(3000):  # deeper than Python's recursion limit, under 64 KiB
        inner = b"#bundle\0" + struct.pack(">Q", 1) + struct.pack(">i", len(inner)) + inner
        if len(inner) > 60000:
            break
    assert sent_and_handled(controller, server, inner) == []


def test_a_refusal_is_logged(
    server: OscServer, controller: FakeController, caplog: pytest.LogCaptureFixture
) -> None:
    controller.refusals["stop"] = "not recording"
    with caplog.at_level(logging.INFO, logger="jackrec.osc"):
        sent_and_handled(controller, server, message("/jack_capture/stop"))
    assert "OSC stop: refused: not recording" in caplog.text


def test_a_controller_error_does_not_end_the_server(
    server: OscServer, controller: FakeController
) -> None:
    controller.fail = JackrecError("the disk is full")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(message("/start"), ("127.0.0.1", server.port))
    controller.wait_for("the start", lambda: controller.requests)
    controller.fail = None
    assert sent_and_handled(controller, server) == [Request("start")]


def test_it_listens_on_loopback_only(server: OscServer) -> None:
    assert server._sock is not None
    assert server._sock.getsockname() == ("127.0.0.1", server.port)


def test_a_port_in_use_is_an_error(server: OscServer, controller: FakeController) -> None:
    with pytest.raises(JackrecError, match=f"OSC: cannot listen on 127.0.0.1:{server.port}"):
        OscServer(server.port, controller).start()


def test_close_is_prompt_and_repeatable(controller: FakeController) -> None:
    server = OscServer(0, controller)
    server.start()
    started = time.monotonic()
    server.close()
    server.close()
    assert time.monotonic() - started < 0.5


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=512))
def test_any_datagram_gives_requests_or_nothing(datagram: bytes) -> None:
    assert all(isinstance(request, Request) for request in osc_requests(datagram))


osc_arguments = st.lists(
    st.one_of(
        st.integers(-(2**31), 2**31 - 1),
        st.floats(width=32),
        # an OSC string ends at its first NUL: one with a NUL inside cannot be sent
        st.text(max_size=30).map(lambda text: text.replace("\0", "")),
    ),
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["/start", "/stop", "/jackrec/start", "/jackrec/marker", "/jackrec/x", "/"])
    | st.text(min_size=1, max_size=30).map(lambda text: "/" + text.replace("\0", "")),
    osc_arguments,
)
def test_any_well_formed_message_gives_one_valid_request_or_nothing(
    address: str, arguments: list[Any]
) -> None:
    try:
        datagram = message(address, *arguments)
    except Exception:  # python-osc cannot build it: nothing to test
        return
    requests = osc_requests(datagram)
    assert len(requests) <= 1
    for request in requests:
        assert request.argument is None or request.argument in arguments


def test_no_network_names_the_unit_drop_in(
    controller: FakeController, monkeypatch: pytest.MonkeyPatch
) -> None:
    """jackrec's systemd units allow Unix sockets only (RestrictAddressFamilies=):
    socket() itself fails there, and the error says where the way out is."""

    def refused(*_: object) -> socket.socket:
        raise OSError(errno.EAFNOSUPPORT, os.strerror(errno.EAFNOSUPPORT))

    monkeypatch.setattr(socket, "socket", refused)
    with pytest.raises(JackrecError) as raised:
        OscServer(7777, controller).start()
    assert str(raised.value) == (
        "OSC: cannot listen on 127.0.0.1:7777: [Errno 97] Address family not supported "
        "by protocol (under systemd: see OSC in docs/service.md)"
    )
